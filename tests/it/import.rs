//! Importing agents from a file, through the web and the API, for every rule of SPEC "File
//! rules"; on SQLite and PostgreSQL.

use crate::common::sheets::{C, agents, read_result, t, xlsx};
use crate::common::{Backend, TestApp, browser, location};
use reqwest::StatusCode;

/// Signs in a fresh app's master, makes a group, uploads `bytes`, waits for the job; returns
/// the app, the group, the job status and the result file's cells.
async fn import(
    backend: Backend,
    name: &str,
    bytes: Vec<u8>,
) -> Option<(TestApp, i64, serde_json::Value, Vec<Vec<String>>)> {
    let app = TestApp::spawn(backend).await?;
    app.setup_master().await;
    let group = app.create_group(None, "Support").await;
    let (status, cells) = import_into(&app, group, name, bytes).await;
    Some((app, group, status, cells))
}

async fn import_into(
    app: &TestApp,
    group: i64,
    name: &str,
    bytes: Vec<u8>,
) -> (serde_json::Value, Vec<Vec<String>>) {
    let response = app.upload(&app.client, group, name, bytes).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "upload accepted: {}",
        response.text().await.unwrap_or_default()
    );
    let job = app.latest_job(&app.client, group).await;
    let status = app.wait_for_import(&app.client, job).await;
    assert_eq!(status["state"], "finished", "{status}");
    let result = app.get(&format!("/admin/imports/{job}/result")).await;
    assert_eq!(result.status(), StatusCode::OK);
    (status, read_result(&result.bytes().await.unwrap()))
}

fn result_column(cells: &[Vec<String>]) -> usize {
    cells[0]
        .iter()
        .position(|h| h == "Result")
        .expect("a Result header")
}

async fn agent_signs_in(app: &TestApp, email: &str, password: &str) -> bool {
    let client = browser();
    let response = app
        .post_form_with(
            &client,
            "/agent/login",
            "/agent/login",
            &[("email", email), ("password", password)],
        )
        .await;
    location(&response) == "/agent"
}

on_both_backends! {
    async fn a_clean_file_creates_every_agent_who_can_then_sign_in(backend) {
        let Some((app, group, status, cells)) = import(backend, "agents.xlsx", xlsx(&agents("Team", 5))).await else { return };
        assert_eq!((status["created"].as_i64(), status["failed"].as_i64()), (Some(5), Some(0)));
        let result = result_column(&cells);
        assert_eq!(result, 3, "Result comes after the last used column");
        for row in &cells[1..] {
            assert_eq!(row[result], "Success");
            assert_eq!(row[2], "********", "no password in the result file");
        }
        assert!(agent_signs_in(&app, "team.agent3@example.com", "secret-Team-3").await);
        assert!(!agent_signs_in(&app, "team.agent3@example.com", "secret-Team-4").await);
        let page = app.get(&format!("/admin/groups/{group}")).await.text().await.unwrap();
        assert!(page.contains("Import of agents.xlsx finished: 5 agents created, 0 failed"), "{page}");
        assert!(page.contains("Download Result in Spreadsheet"));
        app.stop().await;
    }
}

on_both_backends! {
    async fn headers_match_without_case_order_or_spaces_and_extra_columns_are_kept(backend) {
        let rows = vec![
            vec![t(" PASSWORD "), t("Department"), t("email"), t("  name")],
            vec![t("password-one"), t("Billing"), t("one@example.com"), t("One")],
            vec![t("password-two"), t("Sales"), t("two@example.com"), t("Two")],
        ];
        let Some((app, _, status, cells)) = import(backend, "reordered.xlsx", xlsx(&rows)).await else { return };
        assert_eq!(status["created"], 2);
        assert_eq!(cells[0], ["PASSWORD", "Department", "email", "name", "Result"].map(String::from).to_vec().iter().enumerate().map(|(i, h)| if i == 0 { " PASSWORD ".to_owned() } else if i == 3 { "  name".to_owned() } else { h.clone() }).collect::<Vec<_>>());
        assert_eq!(cells[1][1], "Billing", "other columns are kept");
        assert_eq!(cells[1][0], "********");
        assert!(agent_signs_in(&app, "two@example.com", "password-two").await);
        app.stop().await;
    }
}

on_both_backends! {
    async fn every_row_rule_lands_in_its_result_cell(backend) {
        let long_name = "N".repeat(129);
        let rows = vec![
            vec![t("Name"), t("Email"), t("Password")],
            /* 2 */ vec![C::N(123456.0), t("numbers@example.com"), C::N(12345678.0)],
            /* 3 */ vec![t("Zeros"), t("zeros@example.com"), t("00012345")],
            /* 4 */ vec![C::F("=\"Ann\"&\" Lee\"", "Ann Lee"), t("formula@example.com"), t("password-4")],
            /* 5 */ vec![t("Div"), C::F("=1/0", "#DIV/0!"), t("password-5")],
            /* 6 */ vec![C::Date, t("date@example.com"), t("password-6")],
            /* 7 */ vec![t("Dup One"), t("Dup@Example.com"), t("password-7")],
            /* 8 */ vec![t("Dup Two"), t("  dup@example.COM "), t("password-8")],
            /* 9 */ vec![t("Bad Email"), t("not-an-email"), t("password-9")],
            /* 10 */ vec![C::S(long_name.clone()), t("long@example.com"), t("password-10")],
            /* 11 */ vec![t("Short"), t("short@example.com"), t("short")],
            /* 12 */ vec![t("=HYPERLINK(\"http://evil\",\"x\")"), t("formula-text@example.com"), t("password-12")],
            /* 13 */ vec![t("  "), C::Blank, t(" ")],
            /* 14 */ vec![t(""), t(""), t("password-14")],
            /* 15 */ vec![t("Spaced Password"), t("spaced@example.com"), t("  pass word  ")],
            /* 16 */ vec![t("Truth"), t("bool@example.com"), C::B(true)],
            /* 17 */ vec![C::Unsaved("=\"Una\""), t("unsaved@example.com"), t("password-17")],
            /* 18 */ vec![t("Pat"), t("pat@example.com"), C::Unsaved("=\"top-secret-18\"")],
        ];
        let Some((app, _, status, cells)) = import(backend, "rules.xlsx", xlsx(&rows)).await else { return };
        let r = result_column(&cells);
        let outcome = |row: usize| cells[row - 1][r].clone();
        assert_eq!(outcome(2), "Success");
        assert_eq!(outcome(3), "Success");
        assert_eq!(outcome(4), "Success");
        assert!(outcome(5).starts_with("Error: Email holds the spreadsheet error #DIV/0!"), "{}", outcome(5));
        assert!(outcome(6).starts_with("Error: Name must be text, but the cell holds a date"), "{}", outcome(6));
        assert_eq!(outcome(7), "Success");
        assert!(outcome(8).contains("duplicate of row 7"), "{}", outcome(8));
        assert!(outcome(9).contains("\"not-an-email\" is not a valid address"), "{}", outcome(9));
        assert!(outcome(10).contains("Name is 129 characters long; at most 128"), "{}", outcome(10));
        assert!(outcome(11).contains("Password is 5 characters long; at least 8"), "{}", outcome(11));
        assert_eq!(outcome(12), "Success");
        assert_eq!(cells[11][0], "=HYPERLINK(\"http://evil\",\"x\")", "text stays text");
        assert_eq!(outcome(13), "", "a whitespace-only row is skipped: no result, not counted");
        assert!(outcome(14).contains("Name is required") && outcome(14).contains("Email is required"), "{}", outcome(14));
        assert_eq!(outcome(15), "Success");
        assert!(outcome(16).contains("Password must be text"), "{}", outcome(16));
        assert_eq!(outcome(17), "Error: Name is a formula with no saved value; open the file in Excel and save it again");
        assert_eq!(outcome(18), "Error: Password is a formula with no saved value; open the file in Excel and save it again");
        assert_eq!(cells[17][2], "********", "a password formula is masked like any password");
        assert_eq!((status["total_rows"].as_i64(), status["created"].as_i64(), status["failed"].as_i64()), (Some(16), Some(6), Some(10)));

        assert!(agent_signs_in(&app, "numbers@example.com", "12345678").await, "123456 typed as a number is 123456");
        assert!(agent_signs_in(&app, "zeros@example.com", "00012345").await, "leading zeros kept");
        assert!(agent_signs_in(&app, "spaced@example.com", "  pass word  ").await, "passwords are not trimmed");
        let agents: serde_json::Value = app.get("/api/v1/groups").await.json().await.unwrap();
        assert_eq!(agents[0]["agent_count"], 6);
        let formula_agent = app.storage.agent_by_email(&roster::domain::Email::parse("formula@example.com").unwrap()).await.unwrap().unwrap();
        assert_eq!(formula_agent.name, "Ann Lee", "a formula's cached value");
        let number_agent = app.storage.agent_by_email(&roster::domain::Email::parse("numbers@example.com").unwrap()).await.unwrap().unwrap();
        assert_eq!(number_agent.name, "123456");
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_email_that_already_belongs_to_an_agent_fails_its_row(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let other = app.create_group(None, "Other").await;
        app.create_agent(other, "Existing", "Taken@Example.com", "password123").await;
        let rows = vec![
            vec![t("Name"), t("Email"), t("Password")],
            vec![t("New"), t("taken@example.com"), t("password-1")],
            vec![t("Fresh"), t("fresh@example.com"), t("password-2")],
        ];
        let (status, cells) = import_into(&app, group, "existing.xlsx", xlsx(&rows)).await;
        assert!(cells[1][3].contains("an agent with this email already exists"), "{:?}", cells[1]);
        assert_eq!(cells[2][3], "Success");
        assert_eq!((status["created"].as_i64(), status["failed"].as_i64()), (Some(1), Some(1)));
        app.stop().await;
    }
}

on_both_backends! {
    async fn csv_files_with_and_without_bom(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let plain = "Name,Email,Password\r\nCsv One,csv1@example.com,00012345\r\n\"Lee, Ann\",csv2@example.com,\"pass,word\"\r\n,,\r\n".as_bytes().to_vec();
        let (status, cells) = import_into(&app, group, "plain.csv", plain).await;
        assert_eq!(status["created"], 2);
        assert_eq!(cells[2][0], "Lee, Ann");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice("\u{20}name ,EMAIL,password\nBom Agent,bom@example.com,password-bom\n".as_bytes());
        let (status, cells) = import_into(&app, group, "bom.csv", bom).await;
        assert_eq!(status["created"], 1, "{cells:?}");
        assert!(agent_signs_in(&app, "csv1@example.com", "00012345").await);
        assert!(agent_signs_in(&app, "csv2@example.com", "pass,word").await);
        app.stop().await;
    }
}

/// Files rejected as a whole: the reason is on the page at once, and nothing is queued.
async fn refused(app: &TestApp, group: i64, name: &str, bytes: Vec<u8>) -> String {
    let response = app.upload(&app.client, group, name, bytes).await;
    assert!(
        response.status().is_client_error(),
        "{name} refused, got {}",
        response.status()
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("The file was not imported."), "{page}");
    let start =
        page.find("id=\"upload-error\">").expect("the reason") + "id=\"upload-error\">".len();
    page[start..start + page[start..].find('<').unwrap()].to_owned()
}

on_both_backends! {
    async fn unusable_files_are_refused_at_once_with_the_reason(backend) {
        let Some(app) = TestApp::spawn_with(backend, |config| config.limits.max_rows = 5).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-world/");
        let fixture = |name: &str| std::fs::read(format!("{fixtures}{name}")).expect("fixture");

        let missing = refused(&app, group, "missing.xlsx", xlsx(&[vec![t("Name"), t("Mail"), t("Password")]])).await;
        assert!(missing.contains("Email"), "{missing}");
        let doubled = refused(&app, group, "doubled.xlsx", xlsx(&[vec![t("Name"), t("Email"), t("email"), t("Password")]])).await;
        assert!(doubled.to_lowercase().contains("email"), "{doubled}");
        let too_many = refused(&app, group, "many.xlsx", xlsx(&agents("Many", 6))).await;
        assert!(too_many.contains('5'), "{too_many}");
        let encrypted = refused(&app, group, "secret.xlsx", fixture("calamine__pass_protected.xlsx")).await;
        assert!(encrypted.to_lowercase().contains("password"), "{encrypted}");
        let ods = refused(&app, group, "sheet.xlsx", fixture("calamine__issue_594_dos.ods")).await;
        assert!(ods.contains(".xlsx"), "{ods}");
        let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        xls.resize(4096, 0);
        let legacy = refused(&app, group, "old.xls", xls).await;
        assert!(legacy.contains(".xlsx"), "{legacy}");
        let png = refused(&app, group, "agents.xlsx", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()).await;
        assert!(!png.is_empty());
        let empty = refused(&app, group, "empty.csv", Vec::new()).await;
        assert!(empty.contains("empty"), "a chosen file with nothing in it: {empty}");
        let none_chosen = refused(&app, group, "", Vec::new()).await;
        assert!(none_chosen.starts_with("Choose a file"), "what a browser sends with no file chosen: {none_chosen}");
        refused(&app, group, "header-row.xlsx", fixture("calamine__header-row.xlsx")).await;
        refused(&app, group, "bad.xlsx", fixture("excelize__BadWorkbook.xlsx")).await;

        let jobs: serde_json::Value = app.get(&format!("/api/v1/groups/{group}/imports")).await.json().await.unwrap();
        assert_eq!(jobs.as_array().map(Vec::len), Some(0), "nothing was queued");
        app.stop().await;
    }
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.limits.max_upload_bytes = 10_000
    })
    .await
    .unwrap();
    app.setup_master().await;
    let group = app.create_group(None, "Support").await;
    let mut big = b"Name,Email,Password\n".to_vec();
    big.resize(50_000, b'x');
    let reason = refused(&app, group, "big.csv", big).await;
    assert!(
        reason.contains("MB") || reason.contains("bytes") || reason.contains("large"),
        "{reason}"
    );
    app.stop().await;
}
