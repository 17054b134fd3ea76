//! What kind of file was uploaded, judged by its content: names and extensions lie, and a
//! misnamed file should get the message that fits what it really is.

use std::io::Read;

use super::archive;
use super::error::FileError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Xlsx,
    Csv,
}

const ZIP: &[u8] = b"PK\x03\x04";
const EMPTY_ZIP: &[u8] = b"PK\x05\x06";
const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// No xlsx needs more parts than this; the configured limit is applied later by `read`.
const DETECT_MAX_ENTRIES: usize = u16::MAX as usize;

pub fn detect(bytes: &[u8]) -> Result<FileKind, FileError> {
    detect_with(bytes, DETECT_MAX_ENTRIES)
}

/// `detect`, opening a zip only once its declared entry count is within `max_entries`.
pub(super) fn detect_with(bytes: &[u8], max_entries: usize) -> Result<FileKind, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.starts_with(ZIP) || bytes.starts_with(EMPTY_ZIP) {
        return zip_kind(bytes, max_entries);
    }
    if bytes.starts_with(CFB) {
        return Err(compound_file_kind(bytes));
    }
    text_kind(bytes)
}

fn zip_kind(bytes: &[u8], max_entries: usize) -> Result<FileKind, FileError> {
    let mut zip = archive::open(bytes, max_entries)?;
    let names: Vec<String> = zip
        .file_names()
        .map(|n| {
            n.unwrap_or_default()
                .replace('\\', "/")
                .to_ascii_lowercase()
        })
        .collect();
    let has = |wanted: &str| names.iter().any(|n| n == wanted);
    if has("xl/workbook.xml") {
        return Ok(FileKind::Xlsx);
    }
    if has("xl/workbook.bin") {
        return Err(FileError::Xlsb);
    }
    // OpenDocument stores its media type, uncompressed, in an entry named "mimetype".
    if let Ok(entry) = zip.by_name("mimetype") {
        let mut head = Vec::new();
        if entry.take(64).read_to_end(&mut head).is_ok()
            && head.starts_with(b"application/vnd.oasis.opendocument")
        {
            return Err(FileError::OpenDocument);
        }
    }
    if has("content.xml") && has("meta-inf/manifest.xml") {
        return Err(FileError::OpenDocument);
    }
    if has("word/document.xml") {
        return Err(FileError::OtherDocument("a Word document"));
    }
    if has("ppt/presentation.xml") {
        return Err(FileError::OtherDocument("a PowerPoint presentation"));
    }
    Err(FileError::OtherDocument("a ZIP archive"))
}

/// An OLE compound file: what Excel 97-2003 writes, and also the envelope Excel puts around
/// an .xlsx encrypted with a password. Stream names are UTF-16 in the directory sectors, so a
/// plain search finds them without parsing the sector chains.
fn compound_file_kind(bytes: &[u8]) -> FileError {
    let holds = |name: &str| {
        let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        bytes.windows(utf16.len()).any(|w| w == utf16.as_slice())
    };
    if holds("EncryptedPackage") {
        FileError::PasswordProtected
    } else if holds("Workbook") || holds("Book") {
        FileError::LegacyXls
    } else if holds("WordDocument") {
        FileError::OtherDocument("a Word 97-2003 document")
    } else if holds("PowerPoint Document") {
        FileError::OtherDocument("a PowerPoint 97-2003 presentation")
    } else {
        FileError::NotASpreadsheet
    }
}

fn text_kind(bytes: &[u8]) -> Result<FileKind, FileError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        // Excel's "Unicode Text" export: UTF-16, tab separated.
        return Err(FileError::NotUtf8Csv);
    }
    if let Some(kind) = known_binary(bytes) {
        return Err(FileError::OtherDocument(kind));
    }
    if bytes.iter().any(|&b| is_binary(b)) {
        return Err(FileError::NotASpreadsheet);
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(text) {
        Ok(_) => Ok(FileKind::Csv),
        Err(_) => Err(FileError::NotUtf8Csv),
    }
}

/// Files people upload by mistake, by their first bytes.
fn known_binary(bytes: &[u8]) -> Option<&'static str> {
    let kinds: [(&[u8], &str); 6] = [
        (b"%PDF-", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"{\\rtf", "an RTF document"),
        (b"\x1f\x8b", "a gzip archive"),
    ];
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Some("a WebP image");
    }
    kinds
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, kind)| *kind)
}

/// Control characters no text file holds (tab, line feed, form feed and carriage return
/// aside; 0x1A is the end-of-file mark old DOS tools append).
fn is_binary(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{xlsx_with, zip_of};
    use super::*;

    #[test]
    fn an_xlsx_is_found_by_its_workbook_part() {
        let bytes = xlsx_with(&[]);
        assert_eq!(detect(&bytes), Ok(FileKind::Xlsx));
    }

    #[test]
    fn other_zips_are_named() {
        let ods = zip_of(&[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
            ),
            ("content.xml", b"<office:document-content/>".to_vec()),
        ]);
        assert_eq!(detect(&ods), Err(FileError::OpenDocument));
        let xlsb = zip_of(&[("xl/workbook.bin", vec![0, 1, 2])]);
        assert_eq!(detect(&xlsb), Err(FileError::Xlsb));
        let docx = zip_of(&[("word/document.xml", b"<w:document/>".to_vec())]);
        assert_eq!(
            detect(&docx),
            Err(FileError::OtherDocument("a Word document"))
        );
        let pptx = zip_of(&[("ppt/presentation.xml", b"<p/>".to_vec())]);
        assert_eq!(
            detect(&pptx),
            Err(FileError::OtherDocument("a PowerPoint presentation"))
        );
        let zip = zip_of(&[("notes.txt", b"hello".to_vec())]);
        assert_eq!(detect(&zip), Err(FileError::OtherDocument("a ZIP archive")));
    }

    #[test]
    fn compound_files_are_told_apart() {
        let mut file = CFB.to_vec();
        file.extend(vec![0u8; 504]);
        let with = |name: &str| {
            let mut f = file.clone();
            f.extend(name.encode_utf16().flat_map(u16::to_le_bytes));
            f
        };
        assert_eq!(detect(&with("Workbook")), Err(FileError::LegacyXls));
        assert_eq!(
            detect(&with("EncryptedPackage")),
            Err(FileError::PasswordProtected)
        );
        assert_eq!(
            detect(&with("WordDocument")),
            Err(FileError::OtherDocument("a Word 97-2003 document"))
        );
        assert_eq!(
            detect(&with("Nothing known")),
            Err(FileError::NotASpreadsheet)
        );
    }

    #[test]
    fn text_is_csv_only_in_utf8() {
        assert_eq!(detect(b"Name,Email\r\n"), Ok(FileKind::Csv));
        assert_eq!(detect(b"\xEF\xBB\xBFName,Email\n"), Ok(FileKind::Csv));
        assert_eq!(detect("Zoë,zoe@x.org\n".as_bytes()), Ok(FileKind::Csv));
        // "Zoë" in Windows-1252.
        assert_eq!(detect(b"Zo\xEB,zoe@x.org\n"), Err(FileError::NotUtf8Csv));
        assert_eq!(detect(b"\xFF\xFEN\0a\0"), Err(FileError::NotUtf8Csv));
    }

    #[test]
    fn junk_and_nothing_are_rejected() {
        assert_eq!(detect(b""), Err(FileError::Empty));
        // A renamed .txt holding binary junk.
        assert_eq!(
            detect(b"Name,Email\n\x00\x01\x02\xFF"),
            Err(FileError::NotASpreadsheet)
        );
        assert_eq!(
            detect(b"%PDF-1.7\n"),
            Err(FileError::OtherDocument("a PDF document"))
        );
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Err(FileError::OtherDocument("a PNG image"))
        );
        assert_eq!(
            detect(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Err(FileError::OtherDocument("a JPEG image"))
        );
        let mut state = 0x2545_F491_u32;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        assert_eq!(detect(&random), Err(FileError::NotASpreadsheet));
    }

    #[test]
    fn a_truncated_zip_is_corrupt() {
        let bytes = xlsx_with(&[]);
        let cut = &bytes[..bytes.len() / 2];
        assert!(
            matches!(detect(cut), Err(FileError::Corrupt(_))),
            "{:?}",
            detect(cut)
        );
    }
}
