//! The zip layer of an .xlsx, checked before calamine ever sees the bytes.
//!
//! An .xlsx is a zip of XML parts, and both the zip and the XML may declare sizes and counts
//! that lie. calamine (and zip underneath it) allocates from some of those declarations, and in
//! Rust a failed allocation aborts the whole server, so every declaration it trusts is bounded
//! here first. What is covered, for calamine 0.38.0 / zip 9 / quick-xml 0.42:
//!
//! - zip: `ZipArchive::new` reserves room for the entry count that the end-of-central-directory
//!   records declare (the zip64 one is a u64). [`check_directory`] reads every such record zip
//!   may pick and bounds the count before zip parses anything; the real count is checked too.
//! - Inflated size: every entry is inflated through a counting reader that stops as soon as the
//!   running total passes `max_unpacked_bytes`. Declared sizes are never consulted, so a zip
//!   bomb or a header that lies costs at most that many bytes of work, and no memory: the bytes
//!   are streamed, never kept. calamine can never inflate more than was counted here.
//! - XML: every part is parsed with the same quick-xml calamine uses; what is checked in it
//!   (lengths of texts and tags, DOCTYPE/ENTITY, `sst uniqueCount` and the strings' memory,
//!   record counts, cell references) is listed in `xml_scan/mod.rs`.
//! - Encrypted zip entries are reported as a password-protected file.

use std::cell::Cell as Counter;
use std::io::{self, BufReader, Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::error::FileError;
use super::limits::Limits;
use super::xml_scan;

pub(super) type Zip<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// What the reader needs to know from the checks: they read every part anyway, so nothing is
/// read twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Inspected {
    /// What calamine will hold for the shared strings and styles (bytes, estimated from the
    /// XML): the sheet's memory budget is spent from there on.
    pub(super) held_by_calamine: u64,
    /// The workbook asks to be calculated again when opened.
    pub(super) recalculates_on_load: bool,
}

/// Runs every check of this module on an archive already known to be a zip.
pub(super) fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspected, FileError> {
    let mut zip = open(bytes, limits.max_archive_entries)?;
    let inflated = Counter::new(0u64);
    let mut held = 0u64;
    let mut recalculates_on_load = false;
    for index in 0..zip.len() {
        let entry = zip.by_index(index).map_err(zip_error)?;
        let name = entry
            .name()
            .map_or_else(|_| "(unnamed)".to_string(), |n| n.to_string());
        let counted = Counting {
            inner: entry,
            total: &inflated,
            limit: limits.max_unpacked_bytes,
        };
        let budget = limits.max_sheet_bytes.saturating_sub(held);
        let outcome = scan_entry(counted, &name, budget);
        if inflated.get() > limits.max_unpacked_bytes {
            return Err(FileError::UnpackedTooLarge {
                limit: limits.max_unpacked_bytes,
            });
        }
        let facts = outcome.map_err(|error| match error {
            FileError::TooMuchData { .. } => FileError::TooMuchData {
                limit: limits.max_sheet_bytes,
            },
            other => other,
        })?;
        held += facts.held;
        recalculates_on_load |= facts.recalculates_on_load;
    }
    Ok(Inspected {
        held_by_calamine: held,
        recalculates_on_load,
    })
}

/// Opens the zip once its directory records are known not to make zip over-allocate.
pub(super) fn open(bytes: &[u8], max_entries: usize) -> Result<Zip<'_>, FileError> {
    check_directory(bytes, max_entries)?;
    let zip = ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    if zip.len() > max_entries {
        return Err(FileError::TooManyEntries { limit: max_entries });
    }
    Ok(zip)
}

const EOCD: &[u8; 4] = b"PK\x05\x06";
const EOCD64: &[u8; 4] = b"PK\x06\x06";
const LOCATOR64: &[u8; 4] = b"PK\x06\x07";
/// The fixed part of the end-of-central-directory record, then a comment of up to 64 KiB:
/// zip looks for the record in that tail, trying each candidate signature it finds there.
const EOCD_LEN: usize = 22;
const EOCD_SEARCH: usize = EOCD_LEN + u16::MAX as usize;

/// Bounds the entry counts declared by every end-of-central-directory record zip could use.
fn check_directory(bytes: &[u8], max_entries: usize) -> Result<(), FileError> {
    let too_many = |n: u64| n > max_entries as u64;
    let tail_start = bytes.len().saturating_sub(EOCD_SEARCH);
    for eocd in positions(bytes, EOCD, tail_start, bytes.len()) {
        let Some(record) = bytes.get(eocd..eocd + EOCD_LEN) else {
            continue;
        };
        let on_disk = u64::from(u16_at(record, 8));
        let total = u64::from(u16_at(record, 10));
        if too_many(on_disk) || too_many(total) {
            return Err(FileError::TooManyEntries { limit: max_entries });
        }
        // zip64: a locator just before the record points at the real counts (u64 each); zip
        // searches for that record between the locator's offset and the locator itself.
        let Some(locator) = eocd.checked_sub(20).and_then(|at| bytes.get(at..at + 20)) else {
            continue;
        };
        if &locator[..4] != LOCATOR64 {
            continue;
        }
        let from = usize::try_from(u64_at(locator, 8)).unwrap_or(usize::MAX);
        for record64 in positions(bytes, EOCD64, from, eocd - 20) {
            let Some(record) = bytes.get(record64..record64 + 56) else {
                continue;
            };
            if too_many(u64_at(record, 24)) || too_many(u64_at(record, 32)) {
                return Err(FileError::TooManyEntries { limit: max_entries });
            }
        }
    }
    Ok(())
}

fn positions<'a>(
    bytes: &'a [u8],
    magic: &'a [u8; 4],
    from: usize,
    to: usize,
) -> impl Iterator<Item = usize> + 'a {
    let window = bytes.get(from..to).unwrap_or(&[]);
    window
        .windows(4)
        .enumerate()
        .filter(move |(_, w)| w == magic)
        .map(move |(i, _)| from + i)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(le)
}

fn scan_entry<R: Read>(
    entry: R,
    name: &str,
    budget: u64,
) -> Result<xml_scan::PartFacts, FileError> {
    let mut reader = BufReader::with_capacity(64 * 1024, entry);
    let facts = xml_scan::scan_part(&mut reader, name, budget)?;
    // Whatever the XML scan did not need is still inflated, so every byte is counted.
    io::copy(&mut reader, &mut io::sink()).map_err(|e| FileError::unreadable_part(name, &e))?;
    Ok(facts)
}

/// Counts inflated bytes across all entries and fails the read once past the limit.
struct Counting<'a, R> {
    inner: R,
    total: &'a Counter<u64>,
    limit: u64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total.set(self.total.get() + n as u64);
        if self.total.get() > self.limit {
            return Err(io::Error::other("inflated size limit passed"));
        }
        Ok(n)
    }
}

fn zip_error(e: ZipError) -> FileError {
    match e {
        ZipError::InvalidPassword => FileError::PasswordProtected,
        ZipError::UnsupportedArchive(msg) if msg == ZipError::PASSWORD_REQUIRED => {
            FileError::PasswordProtected
        }
        other => FileError::Corrupt(format!("not a readable zip archive: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::peak_memory::growth_alone;
    use super::super::test_support::{bomb, patch_entry, read, read_with, xlsx_with, zip_of};
    use super::*;

    fn check_archive(bytes: &[u8], limits: &Limits) -> Result<(), FileError> {
        inspect(bytes, limits).map(|_| ())
    }

    fn check(bytes: &[u8]) -> Result<(), FileError> {
        check_archive(bytes, &Limits::default())
    }

    /// Measured in a process of its own ([`growth_alone`]): tests running beside it would
    /// otherwise count in the peak.
    #[test]
    #[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
    fn a_zip_bomb_stops_at_the_unpacked_limit_in_little_memory() {
        let bytes = bomb(300 << 20);
        assert!(bytes.len() < 1 << 20, "bomb is {} bytes", bytes.len());
        let grown = growth_alone(
            module_path!(),
            "a_zip_bomb_stops_at_the_unpacked_limit_in_little_memory",
            || {
                assert_eq!(
                    read(&bytes),
                    Err(FileError::UnpackedTooLarge { limit: 256 << 20 })
                );
            },
        );
        // Had the 256 MB been kept, the peak would have risen by that much.
        if let Some(grown) = grown {
            assert!(grown < 64 << 20, "peak grew by {grown} bytes");
        }
    }

    #[test]
    fn the_limit_counts_all_entries_together() {
        let part = vec![b' '; 600 << 10];
        let entries: Vec<(String, Vec<u8>)> = (0..4)
            .map(|i| (format!("docProps/p{i}.bin"), part.clone()))
            .collect();
        let entries: Vec<(&str, Vec<u8>)> = entries
            .iter()
            .map(|(n, c)| (n.as_str(), c.clone()))
            .collect();
        let bytes = zip_of(&entries);
        let limits = Limits {
            max_unpacked_bytes: 2 << 20,
            ..Limits::default()
        };
        assert_eq!(
            check_archive(&bytes, &limits),
            Err(FileError::UnpackedTooLarge { limit: 2 << 20 })
        );
        let limits = Limits {
            max_unpacked_bytes: 3 << 20,
            ..Limits::default()
        };
        assert_eq!(check_archive(&bytes, &limits), Ok(()));
    }

    #[test]
    fn declared_sizes_are_never_trusted() {
        let big = bomb(300 << 20);
        // The entry claims 100 bytes but inflates to 300 MB.
        let small_claim = patch_entry(big, "xl/sharedStrings.xml", |h| h.uncompressed_size = 100);
        // zip stops at the declared size and reports the lie; the count would stop it anyway.
        let got = read(&small_claim);
        assert!(
            matches!(
                got,
                Err(FileError::UnpackedTooLarge { .. } | FileError::Corrupt(_))
            ),
            "{got:?}"
        );
        // The worksheet claims 4 GB but holds a few hundred bytes: nothing is allocated from it.
        let honest = xlsx_with(&[]);
        let big_claim = patch_entry(honest, "xl/worksheets/sheet1.xml", |h| {
            h.uncompressed_size = u32::MAX - 1;
        });
        assert_eq!(read(&big_claim).map(|s| s.width), Ok(3));
    }

    #[test]
    fn twenty_thousand_tiny_entries_are_too_many() {
        let names: Vec<String> = (0..20_000).map(|i| format!("junk/{i}")).collect();
        let mut entries: Vec<(&str, Vec<u8>)> =
            names.iter().map(|n| (n.as_str(), Vec::new())).collect();
        entries.push(("xl/workbook.xml", b"<workbook/>".to_vec()));
        let bytes = zip_of(&entries);
        assert_eq!(
            check(&bytes),
            Err(FileError::TooManyEntries { limit: 1_000 })
        );
        assert_eq!(
            read(&bytes),
            Err(FileError::TooManyEntries { limit: 1_000 })
        );
    }

    #[test]
    fn declared_entry_counts_are_bounded_before_zip_reads_them() {
        let bytes = xlsx_with(&[]);
        let eocd = bytes.len() - EOCD_LEN;
        let mut lying = bytes.clone();
        lying[eocd + 8..eocd + 12].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(
            check(&lying),
            Err(FileError::TooManyEntries { limit: 1_000 })
        );

        // zip64: a record declaring 2^40 entries, found through its locator.
        let (body, end) = bytes.split_at(eocd);
        let mut zip64 = body.to_vec();
        let record_at = zip64.len() as u64;
        zip64.extend(EOCD64);
        zip64.extend(44u64.to_le_bytes());
        zip64.extend([45, 0, 45, 0]);
        zip64.extend([0u8; 8]);
        zip64.extend((1u64 << 40).to_le_bytes());
        zip64.extend((1u64 << 40).to_le_bytes());
        zip64.extend(u64::from(u32::from_le_bytes(end[12..16].try_into().unwrap())).to_le_bytes());
        zip64.extend(u64::from(u32::from_le_bytes(end[16..20].try_into().unwrap())).to_le_bytes());
        zip64.extend(LOCATOR64);
        zip64.extend(0u32.to_le_bytes());
        zip64.extend(record_at.to_le_bytes());
        zip64.extend(1u32.to_le_bytes());
        let mut eocd = end.to_vec();
        eocd[8..20].copy_from_slice(&[0xFF; 12]);
        zip64.extend(eocd);
        assert_eq!(
            check(&zip64),
            Err(FileError::TooManyEntries { limit: 1_000 })
        );
        assert_eq!(
            read(&zip64),
            Err(FileError::TooManyEntries { limit: 1_000 })
        );
    }

    #[test]
    fn an_encrypted_zip_entry_is_password_protected() {
        let bytes = patch_entry(xlsx_with(&[]), "xl/workbook.xml", |h| h.flags |= 1);
        assert_eq!(read(&bytes), Err(FileError::PasswordProtected));
    }

    #[test]
    fn broken_archives_are_corrupt_not_a_crash() {
        let bytes = xlsx_with(&[]);
        for cut in [bytes.len() - 1, bytes.len() - 30, bytes.len() / 2, 40] {
            let got = read(&bytes[..cut]);
            assert!(
                matches!(got, Err(FileError::Corrupt(_))),
                "cut {cut}: {got:?}"
            );
        }
        // Damage inside the deflated data: CRC or inflate error.
        let mut damaged = bytes.clone();
        for b in &mut damaged[60..120] {
            *b ^= 0x5A;
        }
        let got = read(&damaged);
        assert!(matches!(got, Err(FileError::Corrupt(_))), "{got:?}");
    }

    #[test]
    fn upload_size_empty_and_junk() {
        let limits = Limits {
            max_upload_bytes: 100,
            ..Limits::default()
        };
        assert_eq!(
            read_with(&xlsx_with(&[]), &limits),
            Err(FileError::TooLarge { limit: 100 })
        );
        assert_eq!(read(b""), Err(FileError::Empty));
        assert_eq!(read(b"\x00\x00junk\x01"), Err(FileError::NotASpreadsheet));
        let mut not_zip = b"PK\x03\x04".to_vec();
        not_zip.extend([0x13u8; 200]);
        assert!(matches!(read(&not_zip), Err(FileError::Corrupt(_))));
    }
}
