//! Broken, encrypted, empty and renamed files.

use reqwest::StatusCode;

use super::files::{DAMAGED, Expect, Files, UNPROCESSABLE};
use super::workbook::{fixture, valid, xorshift};

pub(super) fn add_to(files: &mut Files) {
    use Expect::Refused;
    // Broken, encrypted, empty, renamed.
    let whole = valid("Cut", 20);
    files.add(
        "a truncated workbook",
        "truncated.xlsx",
        whole[..whole.len() / 2].to_vec(),
        Refused(UNPROCESSABLE, DAMAGED),
    );
    let mut random = xorshift(0x5EED_1234_ABCD);
    let mut corrupt = b"PK\x03\x04".to_vec();
    corrupt.extend((0..64 << 10).map(|_| random()));
    files.add(
        "random bytes after a zip header",
        "corrupt.xlsx",
        corrupt,
        Refused(UNPROCESSABLE, DAMAGED),
    );
    files.add(
        "a workbook encrypted by Excel (calamine fixture)",
        "protected.xlsx",
        fixture("calamine__pass_protected.xlsx"),
        Refused(UNPROCESSABLE, &["protected by a password"]),
    );
    files.add(
        "a workbook encrypted with AES (excelize fixture)",
        "aes.xlsx",
        fixture("excelize__encryptAES.xlsx"),
        Refused(UNPROCESSABLE, &["protected by a password"]),
    );
    files.add(
        "an empty file",
        "empty.xlsx",
        Vec::new(),
        Refused(UNPROCESSABLE, &["The file is empty"]),
    );
    let mut png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    png.extend(b"\0\0\0\nIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4\0\0\0\0IEND\xaeB`\x82");
    files.add(
        "a PNG named .xlsx",
        "photo.xlsx",
        png,
        Refused(UNPROCESSABLE, &["This is a PNG image, not a spreadsheet"]),
    );
    let mut random = xorshift(42);
    files.add(
        "11 MB, over the upload limit",
        "large.xlsx",
        (0..11 << 20).map(|_| random()).collect(),
        Refused(StatusCode::PAYLOAD_TOO_LARGE, &["larger than 10 MB"]),
    );
}
