/// Why a whole file was rejected.
///
/// `Display` is shown as is on the upload page, to an administrator who may not know what a
/// zip or an encoding is: each message says what is wrong and what to upload instead.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FileError {
    #[error(
        "The file is empty. Upload the filled-in template as an Excel workbook (.xlsx) or a CSV file."
    )]
    Empty,
    #[error(
        "The file is larger than {}. Split the agents over several files and upload them one at a time.",
        bytes(*.limit)
    )]
    TooLarge { limit: u64 },
    #[error(
        "This is an old Excel 97-2003 workbook (.xls), which cannot be imported. Open it in Excel, \
         save it as \"Excel Workbook (.xlsx)\" or \"CSV UTF-8\", and upload that file."
    )]
    LegacyXls,
    #[error(
        "The workbook is protected by a password, so it cannot be read. Open it in Excel, remove \
         the password (File > Info > Protect Workbook > Encrypt with Password, clear the box), \
         save it and upload it again."
    )]
    PasswordProtected,
    #[error(
        "This is an OpenDocument spreadsheet (.ods), which cannot be imported. In LibreOffice use \
         File > Save As and pick \"Excel 2007-365 (.xlsx)\" or \"Text CSV\" with UTF-8, and upload \
         that file."
    )]
    OpenDocument,
    #[error(
        "This is an Excel binary workbook (.xlsb), which cannot be imported. Open it in Excel, save \
         it as \"Excel Workbook (.xlsx)\", and upload that file."
    )]
    Xlsb,
    #[error(
        "The file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file in UTF-8, \
         for example the template offered on this page."
    )]
    NotASpreadsheet,
    /// A document of another kind, named: a renamed Word file, a PDF, a picture.
    #[error(
        "This is {0}, not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file, for \
         example the template offered on this page."
    )]
    OtherDocument(&'static str),
    #[error(
        "The file looks like text but is not encoded in UTF-8. Save it again as \"CSV UTF-8 \
         (Comma delimited)\" (Excel: File > Save As), or as an Excel workbook (.xlsx), and upload \
         that file."
    )]
    NotUtf8Csv,
    #[error(
        "The file is damaged and cannot be read ({0}). Open it in Excel, save it again as an Excel \
         workbook (.xlsx), and upload the new file."
    )]
    Corrupt(String),
    #[error(
        "The workbook contains XML declarations (DOCTYPE or ENTITY) that spreadsheet programs never \
         write, so it was not read. Open it in Excel, save it again as an Excel workbook (.xlsx), \
         and upload the new file."
    )]
    ForbiddenXml,
    #[error(
        "The workbook has no visible worksheet to read. Put the agents on the first visible sheet, \
         with the header Name | Email | Password in row 1, and upload it again."
    )]
    NoWorksheet,
    #[error(
        "The sheet is empty. Put the header Name | Email | Password in row 1 and one agent per row \
         below it (download the template to see the layout), then upload it again."
    )]
    NoHeader,
    #[error(
        "The file has a header but no agents. Add one agent per row below the header (row 2 \
         onwards), then upload it again."
    )]
    NoAgents,
    #[error(
        "The file has more than {limit} data rows. Split it into files of at most {limit} rows \
         each and upload them one at a time."
    )]
    TooManyRows { limit: usize },
    #[error(
        "The file has rows past row 1,048,576, the last row a spreadsheet can hold (usually \
         because of many blank lines). Remove the blank lines and upload it again."
    )]
    PastLastRow,
    #[error(
        "The sheet uses more than {limit} columns. Delete the unused columns on the right, or copy \
         the Name, Email and Password columns into the template, and upload it again."
    )]
    TooManyColumns { limit: usize },
    #[error(
        "The workbook holds more than {limit} internal parts, far more than a list of agents \
         needs. Copy the agents into the template (or a new workbook), save it as .xlsx, and \
         upload that file."
    )]
    TooManyEntries { limit: usize },
    #[error(
        "The workbook unpacks to more than {}, far more than a list of agents needs. Copy the \
         agents into the template (or a new workbook), save it as .xlsx, and upload that file.",
        bytes(*.limit)
    )]
    UnpackedTooLarge { limit: u64 },
    #[error(
        "The workbook holds more data than Roster reads from one file ({} once read). Copy the \
         Name, Email and Password columns into the template (or a new workbook), or split the \
         agents over several files, and upload them one at a time.",
        bytes(*.limit)
    )]
    TooMuchData { limit: u64 },
    #[error(
        "The header row (row 1) has no {} column; {}. Row 1 must hold the headers Name, Email and \
         Password, in any order (download the template to see the layout).",
        join_names(missing),
        found_text(found)
    )]
    MissingColumns {
        missing: Vec<&'static str>,
        found: Vec<String>,
    },
    #[error(
        "The header row (row 1) has more than one \"{name}\" column. Keep a single {name} column \
         and upload the file again."
    )]
    DuplicateColumn { name: &'static str },
}

impl FileError {
    /// A part of the archive that could not be inflated or read to its end.
    pub(crate) fn unreadable_part(name: &str, e: &std::io::Error) -> FileError {
        FileError::Corrupt(format!("part {name} cannot be unpacked: {e}"))
    }
}

fn bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB {
        format!("{:.0} MB", n as f64 / MIB as f64)
    } else if n >= 1024 {
        format!("{:.0} KB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

fn join_names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn found_text(found: &[String]) -> String {
    // A header can be thousands of cells long; the page only needs enough to recognise it.
    const SHOWN: usize = 10;
    if found.is_empty() {
        return "row 1 is empty".to_string();
    }
    let mut shown: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|f| format!("\"{}\"", shorten(f, 40)))
        .collect();
    if found.len() > SHOWN {
        shown.push(format!("and {} more", found.len() - SHOWN));
    }
    format!("it has {}", shown.join(", "))
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_columns_names_what_is_missing_and_found() {
        let e = FileError::MissingColumns {
            missing: vec!["Email", "Password"],
            found: vec!["Name".into(), "Mail".into()],
        };
        let text = e.to_string();
        assert!(
            text.contains("no \"Email\" or \"Password\" column"),
            "{text}"
        );
        assert!(text.contains("it has \"Name\", \"Mail\""), "{text}");
    }

    #[test]
    fn an_empty_header_is_said_in_words() {
        let e = FileError::MissingColumns {
            missing: vec!["Name", "Email", "Password"],
            found: vec![],
        };
        let text = e.to_string();
        assert!(
            text.contains("\"Name\", \"Email\" or \"Password\""),
            "{text}"
        );
        assert!(text.contains("row 1 is empty"), "{text}");
    }

    #[test]
    fn a_long_header_is_cut_for_the_page() {
        let found: Vec<String> = (0..30).map(|i| "x".repeat(100 + i)).collect();
        let text = FileError::MissingColumns {
            missing: vec!["Name"],
            found,
        }
        .to_string();
        assert!(text.contains("and 20 more"), "{text}");
        assert!(text.len() < 1000, "{}", text.len());
    }

    #[test]
    fn sizes_read_as_megabytes() {
        let text = FileError::TooLarge {
            limit: 10 * 1024 * 1024,
        }
        .to_string();
        assert!(text.contains("larger than 10 MB"), "{text}");
        assert_eq!(bytes(500), "500 bytes");
        assert_eq!(bytes(2048), "2 KB");
    }

    #[test]
    fn every_message_is_a_sentence_with_advice() {
        let all = [
            FileError::Empty,
            FileError::LegacyXls,
            FileError::PasswordProtected,
            FileError::OpenDocument,
            FileError::Xlsb,
            FileError::NotASpreadsheet,
            FileError::OtherDocument("a PDF document"),
            FileError::NotUtf8Csv,
            FileError::Corrupt("truncated".into()),
            FileError::ForbiddenXml,
            FileError::NoWorksheet,
            FileError::NoHeader,
            FileError::NoAgents,
            FileError::TooManyRows { limit: 5 },
            FileError::PastLastRow,
            FileError::TooManyColumns { limit: 5 },
            FileError::TooManyEntries { limit: 5 },
            FileError::UnpackedTooLarge { limit: 5 },
            FileError::TooMuchData { limit: 5 },
            FileError::DuplicateColumn { name: "Email" },
        ];
        for e in all {
            let text = e.to_string();
            assert!(text.ends_with('.'), "{text}");
            assert!(
                text.contains("upload") || text.contains("Upload"),
                "no advice: {text}"
            );
        }
    }
}
