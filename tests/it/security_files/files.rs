//! A hostile file and what it must give.

use reqwest::StatusCode;

pub(super) enum Expect {
    /// Refused as a whole: this status, and a page whose message says all of these.
    Refused(StatusCode, &'static [&'static str]),
    /// Harmless after all: imported, creating exactly this many agents and failing none.
    Imports(i64),
}

pub(super) struct Hostile {
    pub(super) what: &'static str,
    pub(super) file_name: &'static str,
    pub(super) bytes: Vec<u8>,
    pub(super) expect: Expect,
}

pub(super) const DAMAGED: &[&str] = &["The file is damaged and cannot be read"];
pub(super) const LONG_TOKEN: &[&str] = &["damaged", "longer than 4 MB"];
pub(super) const TOO_MUCH: &[&str] = &["more data than Roster reads from one file (128 MB"];
pub(super) const FORBIDDEN_XML: &[&str] = &["DOCTYPE or ENTITY"];
pub(super) const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// The files gathered, in the order they are uploaded.
pub(super) struct Files(pub(super) Vec<Hostile>);

impl Files {
    pub(super) fn add(
        &mut self,
        what: &'static str,
        file_name: &'static str,
        bytes: Vec<u8>,
        expect: Expect,
    ) {
        self.0.push(Hostile {
            what,
            file_name,
            bytes,
            expect,
        });
    }
}
