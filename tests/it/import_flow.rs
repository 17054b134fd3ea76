//! The seed document's workflow through the web pages, the same through the API, and the
//! command line.

use std::time::Duration;

use crate::common::sheets::{C, agents, read_result, t, xlsx};
use crate::common::{
    MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser, location, roster_at as roster,
};
use reqwest::StatusCode;

on_both_backends! {
    async fn properties_import_users_template_upload_progress_notification_result(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;

        // Properties → Import Users.
        let properties = app.get(&format!("/admin/groups/{group}")).await.text().await.unwrap();
        assert!(properties.contains(&format!("href=\"/admin/groups/{group}/import\" id=\"import-users\">Import Users")));
        let page = app.get(&format!("/admin/groups/{group}/import")).await.text().await.unwrap();
        assert!(page.contains("Import users to Support"));
        assert!(page.contains("id=\"import-group-path\""), "the page says where the group sits");

        // The template: Name | Email | Password, formatted as text.
        let template = app.get("/admin/import-template.xlsx").await;
        assert!(template.headers()["content-disposition"].to_str().unwrap().contains("roster-import-template.xlsx"));
        let cells = read_result(&template.bytes().await.unwrap());
        assert_eq!(cells[0][..3], ["Name", "Email", "Password"]);
        // Bytes, not text: decoding would drop the byte order mark Excel needs.
        let csv = app.get("/admin/import-template.csv").await.bytes().await.unwrap();
        assert!(csv.starts_with("\u{feff}Name,Email,Password".as_bytes()), "{csv:?}");

        // Filled in (some rows bad) and uploaded: the answer comes at once.
        let mut rows = agents("Flow", 120);
        rows.push(vec![t("Broken"), t("broken@"), t("password-z")]);
        rows.push(vec![C::S("Short".into()), t("short@example.com"), t("123")]);
        let upload = app.upload(&app.client, group, "agents.xlsx", xlsx(&rows)).await;
        assert_eq!(upload.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&upload), format!("/admin/groups/{group}?done=import-queued"));

        // The Properties panel shows progress, then the notification bar.
        let mut saw_progress = false;
        let mut saw_row_errors = false;
        let mut finished = String::new();
        for _ in 0..600 {
            let panel = app.get(&format!("/admin/groups/{group}")).await.text().await.unwrap();
            if panel.contains("Bulk import in progress. Please wait.") {
                saw_progress = true;
                assert!(panel.contains("<progress"), "a progress bar");
                saw_row_errors |= panel.contains("Rows that will not be imported") && panel.contains("Row 122: Error: Email");
            }
            if panel.contains("Download Result in Spreadsheet") {
                finished = panel;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(saw_progress, "the progress message was shown while the job ran");
        assert!(saw_row_errors, "row errors are listed while agents are still being created");
        assert!(finished.contains("Import of agents.xlsx finished: 120 agents created, 2 failed"), "{finished}");

        // Download Result in Spreadsheet.
        let start = finished.find("href=\"/admin/imports/").unwrap() + "href=\"".len();
        let link = &finished[start..start + finished[start..].find('"').unwrap()];
        let result = app.get(link).await;
        assert_eq!(result.headers()["content-disposition"].to_str().unwrap(), "attachment; filename=\"agents.result.xlsx\"; filename*=UTF-8''agents.result.xlsx");
        let cells = read_result(&result.bytes().await.unwrap());
        assert_eq!(cells[0][3], "Result");
        assert_eq!(cells[1][3], "Success");
        assert!(cells[121][3].contains("not a valid address"), "{:?}", cells[121]);
        assert!(cells[122][3].contains("at least 8"), "{:?}", cells[122]);
        assert!(finished.contains("<table class=\"history\">") && finished.contains("Maria Master"), "import history");
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_api_uploads_polls_lists_and_downloads_with_the_webs_rights(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let sales = app.create_group(None, "Sales").await;
        app.admin_of("sales-admin@example.com", &[sales]).await;

        let api = reqwest::Client::new();
        let wrong: reqwest::Response = api.post(app.url("/api/v1/tokens")).json(&serde_json::json!({"email": MASTER_EMAIL, "password": "nope"})).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let said = wrong.json::<serde_json::Value>().await.unwrap();
        assert_eq!(said["error"]["message"], "The email or password is not right.", "not \"Please sign in.\"");
        let token = |email: &'static str, password: &'static str| {
            let api = api.clone();
            let url = app.url("/api/v1/tokens");
            async move {
                let body: serde_json::Value = api.post(url).json(&serde_json::json!({"email": email, "password": password})).send().await.unwrap().json().await.unwrap();
                body["token"].as_str().unwrap().to_owned()
            }
        };
        let master = token(MASTER_EMAIL, MASTER_PASSWORD).await;
        let other = token("sales-admin@example.com", "admin password 1").await;

        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(xlsx(&agents("Api", 3))).file_name("api.xlsx"));
        let accepted = api.post(app.url(&format!("/api/v1/groups/{support}/imports"))).bearer_auth(&master).multipart(form).send().await.unwrap();
        assert_eq!(accepted.status(), StatusCode::ACCEPTED);
        let job: serde_json::Value = accepted.json().await.unwrap();
        let id = job["id"].as_i64().unwrap();

        let mut status = serde_json::Value::Null;
        for _ in 0..300 {
            status = api.get(app.url(&format!("/api/v1/imports/{id}"))).bearer_auth(&master).send().await.unwrap().json().await.unwrap();
            if status["state"] == "finished" { break; }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status["created"], 3, "{status}");
        assert_eq!(status["summary"], "Import of api.xlsx finished: 3 agents created, 0 failed");
        let list: serde_json::Value = api.get(app.url(&format!("/api/v1/groups/{support}/imports"))).bearer_auth(&master).send().await.unwrap().json().await.unwrap();
        assert_eq!(list[0]["id"], id);
        let result = api.get(app.url(status["result_url"].as_str().unwrap())).bearer_auth(&master).send().await.unwrap();
        assert_eq!(read_result(&result.bytes().await.unwrap())[1][3], "Success");

        // Another group's administrator: 404 for everything of this job and group.
        for path in [format!("/api/v1/imports/{id}"), format!("/api/v1/imports/{id}/result"), format!("/api/v1/groups/{support}/imports")] {
            let response = api.get(app.url(&path)).bearer_auth(&other).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(xlsx(&agents("X", 1))).file_name("x.xlsx"));
        let refused = api.post(app.url(&format!("/api/v1/groups/{support}/imports"))).bearer_auth(&other).multipart(form).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        // A rejected file answers 422 with the reason, as JSON.
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"Name,Mail\n".to_vec()).file_name("bad.csv"));
        let bad = api.post(app.url(&format!("/api/v1/groups/{sales}/imports"))).bearer_auth(&other).multipart(form).send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = bad.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("Email"), "{body}");
        // No token, or a revoked one: 401.
        assert_eq!(api.get(app.url(&format!("/api/v1/imports/{id}"))).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(api.delete(app.url("/api/v1/tokens/current")).bearer_auth(&master).send().await.unwrap().status(), StatusCode::NO_CONTENT);
        assert_eq!(api.get(app.url(&format!("/api/v1/imports/{id}"))).bearer_auth(&master).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        // A browser session cannot be used as a bearer token, nor a token as a cookie.
        let session = browser();
        app.login_with(&session, MASTER_EMAIL, MASTER_PASSWORD).await;
        assert_eq!(app.get_with(&session, &format!("/api/v1/imports/{id}")).await.status(), StatusCode::OK);
        app.stop().await;
    }
}

#[test]
fn the_command_line_creates_imports_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/roster.db?mode=rwc", dir.path().display());
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    assert!(roster(&url, &["migrate"], "").status.success());
    let help = text(&roster(&url, &["import", "--help"], "").stdout);
    assert!(
        help.contains("--dry-run") && help.contains("--database-url"),
        "{help}"
    );
    assert!(
        !help.contains("--max-rows"),
        "a subcommand's help has its own flags: {help}"
    );
    let top = text(&roster(&url, &["--help"], "").stdout);
    assert!(
        top.contains("--max-rows") && top.contains("as flags before the command"),
        "{top}"
    );
    let made = roster(&url, &["group", "create", "Support/Tier 1"], "");
    assert!(made.status.success(), "{}", text(&made.stderr));
    let admin = roster(
        &url,
        &[
            "admin",
            "create",
            "--email",
            "cli@example.com",
            "--name",
            "Cli Admin",
            "--group",
            "Support",
        ],
        "admin password 1\n",
    );
    assert!(admin.status.success(), "{}", text(&admin.stderr));
    let short = roster(
        &url,
        &["admin", "create", "--email", "b@example.com", "--name", "B"],
        "short\n",
    );
    assert!(!short.status.success() && text(&short.stderr).contains("at least 8"));

    let file = dir.path().join("agents.xlsx");
    let mut rows = agents("Cli", 4);
    rows.push(vec![t("=cmd|' /C calc'!A0"), t("bad"), t("password")]);
    std::fs::write(&file, xlsx(&rows)).unwrap();
    let imported = roster(
        &url,
        &[
            "import",
            "--group",
            "support/tier 1",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    assert!(
        text(&imported.stdout)
            .contains("Import of agents.xlsx finished: 4 agents created, 1 failed"),
        "{}",
        text(&imported.stdout)
    );
    let cells = read_result(&std::fs::read(dir.path().join("agents.result.xlsx")).unwrap());
    assert_eq!(cells[5][0], "=cmd|' /C calc'!A0");
    assert!(cells[5][3].starts_with("Error:"));
    assert!(
        !cells
            .iter()
            .flatten()
            .any(|cell| cell.starts_with("secret-Cli")),
        "no password in the result file"
    );

    let rejected = std::fs::write(dir.path().join("bad.csv"), "Nom,Courriel\n")
        .map(|_| {
            roster(
                &url,
                &[
                    "import",
                    "--group",
                    "Support",
                    dir.path().join("bad.csv").to_str().unwrap(),
                ],
                "",
            )
        })
        .unwrap();
    assert_eq!(rejected.status.code(), Some(2));
    assert!(
        text(&rejected.stderr).contains("Email"),
        "{}",
        text(&rejected.stderr)
    );

    let exported = roster(&url, &["export", "--group", "Support", "--recursive"], "");
    let csv = text(&exported.stdout);
    assert!(
        csv.starts_with("Name,Email,Password,Nickname,Description,Group,Status,Created"),
        "{csv}"
    );
    assert!(
        csv.contains("cli.agent2@example.com,,,,Tier 1,enabled"),
        "{csv}"
    );
    assert!(
        !csv.contains("secret") && !csv.contains("argon2"),
        "never a password"
    );
    assert_eq!(csv.lines().count(), 5);
    let missing = roster(&url, &["export", "--group", "Nowhere"], "");
    assert!(!missing.status.success() && text(&missing.stderr).contains("there is no group"));
}
