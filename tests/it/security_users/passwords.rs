//! Passwords leave no trace in logs, result files or the database, and are stored as Argon2id.

use std::io::{Cursor, Read, Write};
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use roster::http::session::random_token;
use roster::jobs::Step;

use crate::common::TestApp;
use crate::common::sheets::{C, read_result, xlsx};

/// Everything this test binary logs, at TRACE for roster and sqlx: the app logs through
/// `tracing`, and the server runs in this process.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Captured(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,roster=trace,sqlx=trace,tower_http=trace",
            ))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buffer
    })
    .clone()
}

#[derive(Clone)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The ways a password could be written down: as is, trimmed, escaped for XML, HTML or JSON.
fn written_forms(password: &str) -> Vec<String> {
    let xml = password
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    let html = xml.replace("&quot;", "&#34;").replace("&apos;", "&#39;");
    let json = serde_json::to_string(password).unwrap();
    let mut forms = vec![
        password.to_owned(),
        password.trim().to_owned(),
        xml,
        html,
        json[1..json.len() - 1].to_owned(),
    ];
    forms.sort();
    forms.dedup();
    forms
}

fn find_any<'a>(haystack: &[u8], passwords: &'a [String]) -> Option<&'a str> {
    passwords
        .iter()
        .find(|p| {
            written_forms(p)
                .iter()
                .any(|form| haystack.windows(form.len()).any(|w| w == form.as_bytes()))
        })
        .map(String::as_str)
}

/// Every value of every column of every table, as bytes, with where it was found.
async fn database_values(url: &str) -> Vec<(String, Vec<u8>)> {
    let mut values = Vec::new();
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .unwrap();
        for table in tables {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .unwrap();
            for column in columns {
                let sql = format!("SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\"");
                let found: Vec<Option<Vec<u8>>> =
                    sqlx::query_scalar(&sql).fetch_all(&pool).await.unwrap();
                values.extend(
                    found
                        .into_iter()
                        .flatten()
                        .map(|v| (format!("{table}.{column}"), v)),
                );
            }
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (table, column, kind) in columns {
            let place = format!("{table}.{column}");
            if kind == "bytea" {
                let sql = format!("SELECT \"{column}\" FROM \"{table}\"");
                let found: Vec<Option<Vec<u8>>> =
                    sqlx::query_scalar(&sql).fetch_all(&pool).await.unwrap();
                values.extend(found.into_iter().flatten().map(|v| (place.clone(), v)));
            } else {
                let sql = format!("SELECT \"{column}\"::text FROM \"{table}\"");
                let found: Vec<Option<String>> =
                    sqlx::query_scalar(&sql).fetch_all(&pool).await.unwrap();
                values.extend(
                    found
                        .into_iter()
                        .flatten()
                        .map(|v| (place.clone(), v.into_bytes())),
                );
            }
        }
        pool.close().await;
    }
    values
}

/// The text of every part of a zip (an .xlsx), one after the other.
fn unzipped(bytes: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut all = Vec::new();
    for i in 0..zip.len() {
        zip.by_index(i).unwrap().read_to_end(&mut all).unwrap();
    }
    all
}

/// `$argon2id$v=19$m=19456,t=2,p=1$salt$hash` → ("argon2id", m, t, p).
fn argon2_parameters(hash: &str) -> (String, u32, u32, u32) {
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(parts.len(), 6, "a PHC string: {hash}");
    let param = |key: &str| -> u32 {
        parts[3]
            .split(',')
            .find_map(|p| p.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("{key} in {hash}"))
    };
    (parts[1].to_owned(), param("m"), param("t"), param("p"))
}

fn csv_field(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

on_both_backends! {
    async fn passwords_leave_no_trace_and_are_stored_as_argon2id(backend) {
        let logs = captured_logs();
        // The test runs the import jobs itself: each has ended, upload erased, when `step` returns.
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Existing", "taken@example.com", "existing password 1").await;

        // Passwords as people type them, each unique to this run, on rows that succeed and on
        // rows that fail for another reason.
        let tag: String = random_token().chars().filter(char::is_ascii_alphanumeric).take(10).collect();
        let digits: String = format!("{:012}", rand_digits());
        let passwords: Vec<String> = vec![
            format!("Plain{tag}1"),
            format!("000{digits}"),
            format!("  {tag} with spaces  "),
            format!("<{tag}>&\"quoted\"'"),
            format!("BadEmail{tag}"),
            format!("Duplicate{tag}"),
            format!("Taken{tag}"),
            format!("Sh{}", &tag[..5]),
            format!("Sheet{tag}"),
            format!("9{}", &digits[..8]),
        ];
        let p = |i: usize| csv_field(&passwords[i]);
        let csv = format!(
            "Name,Email,Password\n\
             Plain One,plain.{tag}@example.com,{}\n\
             Digits,digits.{tag}@example.com,{}\n\
             Spaced,spaced.{tag}@example.com,{}\n\
             Specials,specials.{tag}@example.com,{}\n\
             Bad Email,not-an-email,{}\n\
             Plain Again,plain.{tag}@example.com,{}\n\
             Taken,taken@example.com,{}\n\
             Short,short.{tag}@example.com,{}\n",
            p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7)
        );
        let sheet = xlsx(&[
            vec![C::S("Name".into()), C::S("Email".into()), C::S("Password".into())],
            vec![C::S("From Excel".into()), C::S(format!("excel.{tag}@example.com")), C::S(passwords[8].clone())],
            vec![C::S("A Number".into()), C::S(format!("number.{tag}@example.com")), C::N(passwords[9].parse().unwrap())],
        ]);
        let mut jobs = Vec::new();
        for (name, bytes) in [("agents.csv", csv.into_bytes()), ("agents.xlsx", sheet)] {
            let response = app.upload(&app.client, group, name, bytes).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}");
            assert!(matches!(app.worker().step().await.unwrap(), Step::Ran(_)), "{name} imported");
            let job = app.latest_job(&app.client, group).await;
            let status = app.wait_for_import(&app.client, job).await;
            assert_eq!(status["state"], "finished", "{status}");
            jobs.push((job, status));
        }
        assert_eq!((jobs[0].1["created"].as_i64(), jobs[0].1["failed"].as_i64()), (Some(4), Some(4)), "{}", jobs[0].1);
        assert_eq!((jobs[1].1["created"].as_i64(), jobs[1].1["failed"].as_i64()), (Some(2), Some(0)), "{}", jobs[1].1);

        // Not in the logs, which did record the imports and their SQL.
        let log = logs.lock().unwrap().clone();
        let text = String::from_utf8_lossy(&log);
        assert!(text.contains("import ended") && text.contains("INSERT INTO agents"), "the capture works");
        assert_eq!(find_any(&log, &passwords), None, "a password in the logs");

        // Not in the result files: the cells read back, nor the raw XML inside.
        for (job, _) in &jobs {
            let download = app.get(&format!("/admin/imports/{job}/result")).await;
            let bytes = download.bytes().await.unwrap();
            let cells = read_result(&bytes);
            assert_eq!(cells[0][2], "Password");
            for row in &cells[1..] {
                assert_eq!(row[2], "********", "{row:?}");
            }
            let all_cells = cells.concat().join("\n");
            assert_eq!(find_any(all_cells.as_bytes(), &passwords), None, "a password in result {job}");
            assert_eq!(find_any(&unzipped(&bytes), &passwords), None, "a password in the XML of result {job}");
        }

        // Not anywhere in the database once the jobs have ended: the uploads are erased.
        let values = database_values(&app.database_url).await;
        let places: std::collections::BTreeSet<&str> = values.iter().map(|(place, _)| place.split('.').next().unwrap()).collect();
        assert!(["admins", "agent_groups", "agents", "import_jobs", "import_rows", "sessions"].iter().all(|t| places.contains(t)), "{places:?}");
        assert!(values.iter().any(|(_, v)| v.as_slice() == format!("plain.{tag}@example.com").as_bytes()), "the dump sees the agents");
        for (place, value) in &values {
            assert_eq!(find_any(value, &passwords), None, "a password in {place}");
        }
        for (job, _) in &jobs {
            let stored = app.storage.import_job(*job).await.unwrap().unwrap();
            assert!(!stored.has_upload, "the upload of job {job} is erased");
        }
        // Nor in SQLite's files, where an erased value lives on in the write-ahead log or a
        // freed page until it is overwritten (the job's end checkpoints the log).
        if let Some(path) = app.database_url.strip_prefix("sqlite://").and_then(|p| p.split('?').next()) {
            let files = [path.to_owned(), format!("{path}-wal")];
            let found = files.iter().find_map(|f| find_any(&std::fs::read(f).unwrap_or_default(), &passwords).map(|p| (f.clone(), p.to_owned())));
            assert_eq!(found, None, "a password in the database files");
            assert!(std::fs::metadata(path).unwrap().len() > 4096, "the data reached the database file");
        }

        // Stored as Argon2id with at least OWASP's parameters, from the password exactly as written.
        let hashes: Vec<&[u8]> = values.iter().filter(|(place, _)| place.ends_with(".password_hash")).map(|(_, v)| v.as_slice()).collect();
        assert_eq!(hashes.len(), 1 + 1 + 6, "the master, the existing agent and six imported agents");
        for hash in hashes {
            let hash = std::str::from_utf8(hash).unwrap();
            let (algorithm, m, t, p) = argon2_parameters(hash);
            assert_eq!(algorithm, "argon2id", "{hash}");
            assert!(m >= 19_456 && t >= 2 && p >= 1, "{hash}");
        }
        let spaced = app.storage.agent_by_email(&roster::domain::Email::parse(&format!("spaced.{tag}@example.com")).unwrap()).await.unwrap().unwrap();
        assert!(roster::domain::verify_password(&spaced.password_hash, &passwords[2]), "the exact password");
        assert!(!roster::domain::verify_password(&spaced.password_hash, passwords[2].trim()), "never trimmed");
        app.stop().await;
    }
}

fn rand_digits() -> u64 {
    u64::from_le_bytes(random_token().as_bytes()[..8].try_into().unwrap()) % 1_000_000_000_000
}
