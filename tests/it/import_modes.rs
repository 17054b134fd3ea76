//! The lifecycle's choices, on both backends: each mode with agents that exist (in the group,
//! in a group the administrator sees, in one they do not), a check that changes nothing, the
//! Group column's subgroups, and retrying only what failed from a result file.

use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::common::sheets::{C, read_result, t, xlsx};
use crate::common::{TestApp, browser, location, roster_cli};
use roster::{domain::Email, jobs::Step};

fn s(text: &str) -> C {
    C::S(text.to_owned())
}

/// Runs the queued job and answers the API's status of the group's latest import.
async fn run_latest(app: &TestApp, client: &Client, group: i64) -> Value {
    let job = app.latest_job(client, group).await;
    assert!(matches!(app.worker().step().await.unwrap(), Step::Ran(_)));
    app.get_with(client, &format!("/api/v1/imports/{job}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn result_of(app: &TestApp, client: &Client, status: &Value) -> Vec<Vec<String>> {
    let job = status["id"].as_i64().unwrap();
    let result = app
        .get_with(client, &format!("/admin/imports/{job}/result"))
        .await;
    assert_eq!(result.status(), StatusCode::OK);
    read_result(&result.bytes().await.unwrap())
}

async fn signs_in(app: &TestApp, email: &str, password: &str) -> bool {
    let answer = app.agent_login(&browser(), email, password).await;
    answer.status() == StatusCode::SEE_OTHER && location(&answer) == "/agent"
}

async fn agent_name(app: &TestApp, email: &str) -> Option<String> {
    let email = Email::parse(email).unwrap();
    app.storage
        .agent_by_email(&email)
        .await
        .unwrap()
        .map(|agent| agent.name)
}

/// Support holds Ann; Support/Tier 2 holds Zed. The file names both, and a new agent.
fn mixed_file(ann_password: &str) -> Vec<u8> {
    xlsx(&[
        vec![t("Name"), t("Email"), t("Password"), t("Nickname")],
        vec![
            t("Ann Renamed"),
            t("ann@example.com"),
            s(ann_password),
            t("Annie"),
        ],
        vec![
            t("Bob New"),
            t("bob@example.com"),
            t("bob password 1"),
            t(""),
        ],
        vec![
            t("Zed Elsewhere"),
            t("zed@example.com"),
            t("zed password 1"),
            t(""),
        ],
    ])
}

on_both_backends! {
    async fn each_mode_treats_existing_agents_its_own_way(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier2 = app.create_group(Some(support), "Tier 2").await;
        app.create_agent(support, "Ann Lee", "ann@example.com", "ann password 1").await;
        app.create_agent(tier2, "Zed Lee", "zed@example.com", "zed password 1").await;
        let elsewhere = "Error: an agent with this email already exists in the group Support/Tier 2";

        // create (the default): the existing email fails its row; the new one is created.
        app.upload(&app.client, support, "agents.xlsx", mixed_file("ann password 9")).await;
        let status = run_latest(&app, &app.client, support).await;
        assert_eq!((status["mode"].as_str(), status["created"].as_i64(), status["failed"].as_i64()), (Some("create"), Some(1), Some(2)));
        let cells = result_of(&app, &app.client, &status).await;
        assert!(cells[1][4].starts_with("Error: an agent with this email already exists; remove the row"), "{:?}", cells[1]);
        assert!(cells[1][4].contains("Update or Skip"));
        assert_eq!(cells[2][4], "Success");
        assert!(cells[3][4].starts_with(elsewhere), "{:?}", cells[3]);

        // skip: the existing agent of the group is skipped, not failed; Tier 2's still fails.
        app.upload_with(&app.client, support, "agents.xlsx", mixed_file("ann password 9"), &[("mode", "skip")]).await;
        let status = run_latest(&app, &app.client, support).await;
        assert_eq!((status["skipped"].as_i64(), status["failed"].as_i64()), (Some(2), Some(1)), "Ann and Bob exist now: {status}");
        let cells = result_of(&app, &app.client, &status).await;
        assert_eq!(cells[1][4], "Skipped: an agent with this email already exists");
        assert!(cells[3][4].starts_with(elsewhere));
        assert_eq!(agent_name(&app, "ann@example.com").await.as_deref(), Some("Ann Lee"), "a skip changes nothing");

        // update: Ann gets the row's name and nickname; her blank password cell keeps hers.
        app.upload_with(&app.client, support, "agents.xlsx", mixed_file(""), &[("mode", "update")]).await;
        let status = run_latest(&app, &app.client, support).await;
        assert_eq!((status["mode"].as_str(), status["updated"].as_i64(), status["failed"].as_i64()), (Some("update"), Some(2), Some(1)));
        assert_eq!(status["summary"], "Import of agents.xlsx finished: 0 agents created, 2 updated, 1 failed");
        let cells = result_of(&app, &app.client, &status).await;
        assert_eq!((cells[1][4].as_str(), cells[2][4].as_str()), ("Updated", "Updated"));
        assert!(cells[3][4].starts_with(elsewhere), "in every mode");
        let ann = app.storage.agent_by_email(&Email::parse("ann@example.com").unwrap()).await.unwrap().unwrap();
        assert_eq!((ann.name.as_str(), ann.nickname.as_str(), ann.group_id), ("Ann Renamed", "Annie", support));
        assert!(signs_in(&app, "ann@example.com", "ann password 1").await, "a blank password keeps hers");
        assert_eq!(agent_name(&app, "zed@example.com").await.as_deref(), Some("Zed Lee"), "another group's agent is untouched");

        // update with a password: it replaces hers.
        app.upload_with(&app.client, support, "agents.xlsx", mixed_file("ann password 2"), &[("mode", "update")]).await;
        run_latest(&app, &app.client, support).await;
        assert!(signs_in(&app, "ann@example.com", "ann password 2").await);
        assert!(!signs_in(&app, "ann@example.com", "ann password 1").await);

        // A mode nobody knows is refused with the reason, nothing queued.
        let refused = app.upload_with(&app.client, support, "agents.xlsx", mixed_file(""), &[("mode", "merge")]).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(refused.text().await.unwrap().contains("The mode must be create, update or skip"));
    }
}

on_both_backends! {
    async fn an_email_in_a_group_the_sender_does_not_manage_is_not_named(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier1 = app.create_group(Some(support), "Tier 1").await;
        let secret = app.create_group(None, "Secret Team").await;
        app.create_agent(secret, "Zed Hidden", "zed@example.com", "zed password 1").await;
        let lead = app.admin_of("lead@example.com", &[tier1]).await;
        for mode in ["create", "update", "skip"] {
            app.upload_with(&lead, tier1, "agents.xlsx", mixed_file("ann password 1"), &[("mode", mode)]).await;
            let status = run_latest(&app, &lead, tier1).await;
            let cells = result_of(&app, &lead, &status).await;
            assert_eq!(cells[3][4], "Error: an agent with this email already exists in a group you do not manage; an import only creates or changes agents of the group it targets", "{mode}");
            assert!(!cells.concat().join(" ").contains("Secret"), "{mode}: the group's name never shows");
        }
    }
}

on_both_backends! {
    async fn a_check_validates_every_row_and_changes_nothing(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        app.create_agent(support, "Ann Lee", "ann@example.com", "ann password 1").await;
        let file = xlsx(&[
            vec![t("Name"), t("Email"), t("Password"), t("Group")],
            vec![t("Ann Renamed"), t("ann@example.com"), t(""), t("")],
            vec![t("Bob New"), t("bob@example.com"), t("bob password 1"), t("Tier 9/Night")],
            vec![t("Cy Short"), t("cy@example.com"), t("short"), t("")],
            vec![t("Di New"), t("di@example.com"), t(""), t("")],
        ]);
        // The browser sends the "Check file" button after the file.
        let uploaded = app.upload_with(&app.client, support, "agents.xlsx", file, &[("mode", "update"), ("dry_run", "true")]).await;
        assert_eq!(location(&uploaded), format!("/admin/groups/{support}?done=check-queued"));
        let queued = app.get(&format!("/admin/groups/{support}?done=check-queued")).await.text().await.unwrap();
        assert!(queued.contains("Checking agents.xlsx. Nothing will be changed."), "{queued}");
        let status = run_latest(&app, &app.client, support).await;
        assert_eq!(status["dry_run"], true);
        assert_eq!(status["summary"], "Check of agents.xlsx: 1 would be created, 1 would be updated, 2 errors — nothing was changed");
        let cells = result_of(&app, &app.client, &status).await;
        assert_eq!(cells[1][4], "Would update");
        assert_eq!(cells[2][4], "Would create", "a subgroup an import would create");
        assert!(cells[3][4].starts_with("Error: ") && cells[3][4].contains("at least"), "{:?}", cells[3]);
        assert!(cells[4][4].contains("a new agent needs a password"), "{:?}", cells[4]);
        let page = app.get(&format!("/admin/groups/{support}")).await.text().await.unwrap();
        assert!(page.contains("Check of agents.xlsx: 1 would be created, 1 would be updated, 2 errors — nothing was changed"));
        assert!(page.contains("Download Result in Spreadsheet"));

        // Nothing changed: no agent, no group, Ann as she was.
        assert_eq!(agent_name(&app, "ann@example.com").await.as_deref(), Some("Ann Lee"));
        assert_eq!(agent_name(&app, "bob@example.com").await, None);
        let groups: Value = app.get("/api/v1/groups").await.json().await.unwrap();
        assert_eq!(groups.as_array().unwrap().len(), 1, "no subgroup was created: {groups}");
    }
}

on_both_backends! {
    async fn the_group_column_places_agents_in_subgroups_it_creates(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier1 = app.create_group(Some(support), "Tier 1").await;
        let file = xlsx(&[
            vec![t("Name"), t("Email"), t("Password"), t("Group")],
            vec![t("In Tier 1"), t("one@example.com"), t("password one"), t("tier 1")],
            vec![t("At Night"), t("night@example.com"), t("password two"), t("Tier 1/Night")],
            vec![t("Also Night"), t("night2@example.com"), t("password three"), t(" TIER 1 / night ")],
            vec![t("At Home"), t("home@example.com"), t("password four"), t("")],
            vec![t("Escapee"), t("out@example.com"), t("password five"), t("../Other")],
        ]);
        app.upload(&app.client, support, "agents.xlsx", file).await;
        let status = run_latest(&app, &app.client, support).await;
        assert_eq!((status["created"].as_i64(), status["failed"].as_i64()), (Some(4), Some(1)), "{status}");
        let groups: Value = app.get("/api/v1/groups").await.json().await.unwrap();
        let night: Vec<&Value> = groups.as_array().unwrap().iter().filter(|g| g["path"] == "Support/Tier 1/Night").collect();
        assert_eq!(night.len(), 1, "one Night, whatever the case and spaces: {groups}");
        let night = night[0]["id"].as_i64().unwrap();
        let group_of = |email: &'static str| {
            let storage = app.storage.clone();
            async move { storage.agent_by_email(&Email::parse(email).unwrap()).await.unwrap().map(|a| a.group_id) }
        };
        assert_eq!(group_of("one@example.com").await, Some(tier1));
        assert_eq!(group_of("night@example.com").await, Some(night));
        assert_eq!(group_of("night2@example.com").await, Some(night));
        assert_eq!(group_of("home@example.com").await, Some(support));
        assert_eq!(group_of("out@example.com").await, None);
        let cells = result_of(&app, &app.client, &status).await;
        assert!(cells[5][4].contains("tries to leave the selected group"), "{:?}", cells[5]);
    }
}

on_both_backends! {
    async fn a_result_file_uploaded_again_retries_only_what_failed(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let first = xlsx(&[
            vec![t("Name"), t("Email"), t("Password")],
            vec![t("Ann"), t("ann@example.com"), t("ann password 1")],
            vec![t("Bob"), t("bob-at-example.com"), t("bob password 1")],
            vec![t("Cy"), t("cy@example.com"), t("cy password 1")],
            vec![t("Di"), t("di@example.com"), t("short")],
        ]);
        app.upload(&app.client, support, "agents.xlsx", first).await;
        let status = run_latest(&app, &app.client, support).await;
        assert_eq!((status["created"].as_i64(), status["failed"].as_i64()), (Some(2), Some(2)));
        let result = result_of(&app, &app.client, &status).await;
        assert_eq!(result[0], ["Name", "Email", "Password", "Result"]);

        // The administrator fixes Bob's email and types his password again; Di's row keeps
        // the mask. The done rows go back untouched, masks and all.
        let mut fixed: Vec<Vec<C>> = result.iter().map(|row| row.iter().map(|cell| s(cell)).collect()).collect();
        fixed[2][1] = t("bob@example.com");
        fixed[2][2] = t("bob password 1");
        app.upload(&app.client, support, "agents.result.xlsx", xlsx(&fixed)).await;
        let status = run_latest(&app, &app.client, support).await;
        assert_eq!(status["summary"], "Import of agents.result.xlsx finished: 1 agent created, 2 already done, 1 failed");
        let again = result_of(&app, &app.client, &status).await;
        assert_eq!(again[0], ["Name", "Email", "Password", "Result"], "one Result column, never two");
        assert_eq!(again[1][3], "Success", "kept as it was");
        assert_eq!(again[2][3], "Success", "Bob, created now");
        assert_eq!(again[3][3], "Success");
        assert_eq!(again[4][3], "Error: type the password again: result files never keep passwords");
        assert!(!signs_in(&app, "di@example.com", "********").await, "the mask is never a password");
        assert!(signs_in(&app, "bob@example.com", "bob password 1").await);
        assert!(signs_in(&app, "ann@example.com", "ann password 1").await, "Ann was not touched");
    }
}

on_both_backends! {
    async fn the_command_line_checks_in_a_mode_and_lists_a_groups_imports(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        app.create_agent(support, "Ann Lee", "ann@example.com", "ann password 1").await;
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("agents.xlsx");
        std::fs::write(&file, mixed_file("")).unwrap();
        let file = file.display().to_string();

        let check = roster_cli(&app, &["import", "--group", "Support", "--mode", "update", "--dry-run", &file]);
        assert!(check.status.success(), "{check:?}");
        let out = String::from_utf8_lossy(&check.stdout);
        assert!(out.contains("Check of agents.xlsx: 2 would be created, 1 would be updated, 0 errors — nothing was changed"), "{out}");
        let cells = read_result(&std::fs::read(folder.path().join("agents.result.xlsx")).unwrap());
        assert_eq!(cells[1][4], "Would update");
        assert_eq!(agent_name(&app, "bob@example.com").await, None, "a check creates nobody");

        let unknown = roster_cli(&app, &["import", "--group", "Support", "--mode", "merge", &file]);
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("the mode must be create, update or skip"));

        let list = roster_cli(&app, &["imports", "list", "--group", "Support"]);
        let out = String::from_utf8_lossy(&list.stdout);
        assert!(out.contains("finished") && out.contains("update") && out.contains("Check of agents.xlsx"), "{out}");
    }
}

on_both_backends! {
    async fn the_import_page_says_another_import_waits_and_the_status_lists_row_errors(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let file = xlsx(&[
            vec![t("Name"), t("Email"), t("Password")],
            vec![t("Ann"), t("ann-at-example.com"), t("ann password 1")],
            vec![t("Bob"), t("bob@example.com"), t("bob password 1")],
        ]);
        app.upload(&app.client, support, "agents.xlsx", file).await;
        let page = app.get(&format!("/admin/groups/{support}/import")).await.text().await.unwrap();
        assert!(page.contains("An import of agents.xlsx is queued for this group."), "{page}");
        assert!(page.contains("id=\"check-file\"") && page.contains("name=\"mode\""));

        // One batch short of the end: the errors are known and listed while it runs.
        let job = app.latest_job(&app.client, support).await;
        let limit = roster::import::RunLimit { max_batches: Some(0), ..Default::default() };
        app.worker().step_limited(limit).await.unwrap();
        let status: Value = app.get(&format!("/api/v1/imports/{job}")).await.json().await.unwrap();
        assert_eq!(status["state"], "running");
        assert_eq!(status["row_errors"][0]["row"], 2);
        assert!(status["row_errors"][0]["message"].as_str().unwrap().starts_with("Error: "), "{status}");
        let page = app.get(&format!("/admin/groups/{support}/import")).await.text().await.unwrap();
        assert!(page.contains("An import of agents.xlsx is running in this group."));
    }
}

on_both_backends! {
    async fn an_exported_group_imports_back_in_mode_update(backend) {
        let Some(app) = TestApp::spawn_driven(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier = app.create_group(Some(support), "Tier 1").await;
        app.create_agent(support, "=Danger Name", "ann@example.com", "password-ann-1").await;
        app.create_agent(tier, "Bob Ray", "bob@example.com", "password-bob-1").await;
        let client = app.client.clone();
        assert!(signs_in(&app, "bob@example.com", "password-bob-1").await);

        let csv = app.get(&format!("/admin/groups/{support}/export.csv")).await;
        assert_eq!(csv.status(), StatusCode::OK);
        assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("agents.csv"));
        let csv = csv.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "\u{feff}Name,Email,Password,Nickname,Description,Group,Status,Created,Last sign-in");
        assert_eq!(lines.len(), 2, "the group alone: {csv}");
        assert!(lines[1].starts_with("'=Danger Name,ann@example.com,,,,,enabled,"), "formula-safe, no password: {csv}");
        assert!(lines[1].ends_with("UTC,"), "Ann never signed in: {csv}");
        let all = app.get(&format!("/admin/groups/{support}/export.csv?subgroups=1")).await.text().await.unwrap();
        assert!(all.lines().any(|line| line.starts_with("Bob Ray,bob@example.com,,,,Tier 1,enabled,")), "{all}");

        // The .xlsx comes back in mode update: names edited, passwords kept, subgroups kept.
        let xlsx = app.get(&format!("/admin/groups/{support}/export.xlsx?subgroups=1")).await;
        assert_eq!(xlsx.status(), StatusCode::OK);
        let mut sheet = read_result(&xlsx.bytes().await.unwrap());
        assert_eq!(sheet[0], ["Name", "Email", "Password", "Nickname", "Description", "Group", "Status", "Created", "Last sign-in"]);
        let bob_row = sheet.iter().find(|row| row[1] == "bob@example.com").unwrap();
        assert!(bob_row[8].ends_with("UTC"), "Bob signed in: {bob_row:?}");
        assert_eq!(sheet[1][0], "=Danger Name", "text, never a formula");
        for row in sheet.iter_mut().skip(1) {
            row[0] = format!("{} (edited)", row[0].trim_start_matches('='));
        }
        let edited = xlsx_of(&sheet);
        let sent = app.upload_with(&client, support, "Support agents.xlsx", edited, &[("mode", "update")]).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        let status = run_latest(&app, &client, support).await;
        assert_eq!((status["updated"].as_i64(), status["failed"].as_i64()), (Some(2), Some(0)), "{status}");
        assert_eq!(agent_name(&app, "bob@example.com").await.as_deref(), Some("Bob Ray (edited)"));
        assert!(signs_in(&app, "bob@example.com", "password-bob-1").await, "a blank Password keeps it");
        let bob = app.storage.agent_by_email(&Email::parse("bob@example.com").unwrap()).await.unwrap().unwrap();
        assert_eq!(bob.group_id, tier, "the Group column put him back where he was");
        app.stop().await;
    }
}

/// A sheet of text cells, as a person saves it after editing.
fn xlsx_of(rows: &[Vec<String>]) -> Vec<u8> {
    let rows: Vec<Vec<C>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| s(cell)).collect())
        .collect();
    xlsx(&rows)
}
