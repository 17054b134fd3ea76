//! The Admin Center in a real browser (headless Chromium through chromedriver): the seed
//! document's workflow click by click, the tree's script, a form's messages, and the same pages
//! with JavaScript switched off. Each step leaves a screenshot under
//! `tests-output/browser/<test>/`, and no page may log an error to the console.
//!
//! Without chromedriver each test says loudly that it was skipped, and passes.

use std::{
    future::Future,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use crate::common::{
    Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp,
    sheets::{C, read_result, xlsx},
    webdriver::Browser,
};
use calamine::{Reader, Xlsx};
use fantoccini::Locator;
use roster::{
    import::{JobOutcome, RunLimit},
    jobs::Step,
};

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(300);

/// How long an import of a few hundred rows may take on a busy machine.
const IMPORT_LIMIT: Duration = Duration::from_secs(180);

/// More rows than one batch of 64, so the bar has a state between the start and the end.
const GOOD_ROWS: usize = 150;

const RED: &str = "rgba(198, 40, 40, 1)";

pub(crate) async fn bounded(test: &str, body: impl Future<Output = ()>) {
    if tokio::time::timeout(TEST_LIMIT, body).await.is_err() {
        panic!("{test} did not finish within {TEST_LIMIT:?}");
    }
}

pub(crate) async fn app() -> TestApp {
    TestApp::spawn(Backend::Sqlite)
        .await
        .expect("SQLite always runs")
}

/// The tree's entry for a group, and the link in it.
fn node(group: i64) -> String {
    format!("li.group:has(> details[data-group=\"{group}\"])")
}

fn group_link(group: i64) -> String {
    format!("summary a[href=\"/admin/groups/{group}\"]")
}

pub(crate) async fn sign_in(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#email", MASTER_EMAIL).await;
    browser.fill("#password", MASTER_PASSWORD).await;
    browser.click_and_wait("main form button").await;
    assert_eq!(browser.path().await, "/admin", "signed in");
}

fn good_email(i: usize) -> String {
    format!("seed.agent{i}@example.com")
}

fn good_password(i: usize) -> String {
    format!("Pa55word-{i:03}")
}

/// `agents.xlsx` under `header`: `GOOD_ROWS` agents and, among them, five rows that must fail
/// (one needs the agent `existing@example.com` to exist). Returns the file's path and, per
/// bad sheet row, a fragment of its expected error.
fn fill_in(folder: &Path, header: &[String]) -> (PathBuf, Vec<(usize, &'static str)>) {
    let text = |s: &str| C::S(s.to_owned());
    let mut rows = vec![header.iter().map(|h| text(h)).collect::<Vec<_>>()];
    let mut bad = Vec::new();
    for i in 0..GOOD_ROWS {
        rows.push(vec![
            text(&format!("Seed Agent {i}")),
            text(&good_email(i)),
            text(&good_password(i)),
        ]);
        let (cells, expected) = match i {
            10 => (
                ["Bad Email", "not-an-email", "long enough 1"],
                "is not a valid address",
            ),
            40 => (["Short", "short.pw@example.com", "123"], "at least 8"),
            70 => (
                ["Twin", "seed.agent3@example.com", "long enough 2"],
                "duplicate of row 5",
            ),
            100 => (
                ["Old Hand", "existing@example.com", "long enough 3"],
                "already exists",
            ),
            130 => (
                ["", "no.name@example.com", "long enough 4"],
                "Name is required",
            ),
            _ => continue,
        };
        rows.push(cells.iter().map(|cell| text(cell)).collect());
        // Sheet rows count from 1, the header being row 1.
        bad.push((rows.len(), expected));
    }
    let path = folder.join("agents.xlsx");
    std::fs::write(&path, xlsx(&rows)).expect("save agents.xlsx");
    (path, bad)
}

/// The template's sheet count and its first row.
fn template_header(bytes: &[u8]) -> (usize, Vec<String>) {
    let mut book =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("the template is an .xlsx");
    let sheets = book.sheet_names();
    let range = book.worksheet_range(&sheets[0]).expect("a first sheet");
    let header = range.rows().next().expect("a header row");
    (sheets.len(), header.iter().map(|c| c.to_string()).collect())
}

async fn choose_file(browser: &Browser, file: &Path) {
    browser
        .find("#file")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("choose the file");
}

/// The progress bar's (value, max), once the page's script shows `wanted` (the page polls the
/// job; the test waits for the state it made, with a bound, never for time to pass).
async fn bar_reaches(browser: &Browser, wanted: (u64, u64)) {
    let number = async |bar: &fantoccini::elements::Element, name: &str| {
        bar.attr(name).await.ok().flatten()?.parse::<u64>().ok()
    };
    let deadline = Instant::now() + IMPORT_LIMIT;
    let mut last = None;
    loop {
        if let Ok(bar) = browser
            .client
            .find(Locator::Css("progress.import-progress"))
            .await
        {
            last = match (number(&bar, "value").await, number(&bar, "max").await) {
                (Some(value), Some(max)) => Some((value, max)),
                _ => last,
            };
            if last == Some(wanted) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the bar never showed {wanted:?}; last {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_document_step_by_step() {
    bounded("the_seed_document_step_by_step", async {
        let Some(browser) = Browser::start("the_seed_document_step_by_step").await else {
            return;
        };
        // Without its background worker: the test runs the import a batch at a time.
        let app = TestApp::spawn_driven(Backend::Sqlite)
            .await
            .expect("SQLite always runs");

        // First start: the master administrator is created through the one-time link.
        browser
            .goto(app.setup_url.as_deref().expect("a setup link"))
            .await;
        browser.shot("setup").await;
        browser.fill("#name", "Maria Master").await;
        browser.fill("#email", MASTER_EMAIL).await;
        browser.fill("#password", MASTER_PASSWORD).await;
        browser.fill("#confirm", MASTER_PASSWORD).await;
        browser.click_and_wait("main form button").await;
        assert_eq!(browser.path().await, "/admin");

        // An organization to work in, made through the test's own client.
        let response = app
            .login_with(&app.client, MASTER_EMAIL, MASTER_PASSWORD)
            .await;
        assert_eq!(response.status(), 303);
        let support = app.create_group(None, "Support").await;
        let tier1 = app.create_group(Some(support), "Tier 1").await;
        app.create_group(Some(support), "Tier 2").await;
        let sales = app.create_group(None, "Sales").await;
        app.create_agent(
            sales,
            "Old Hand",
            "existing@example.com",
            "old hand password",
        )
        .await;

        // 1. Log in to the Admin Center.
        browser.click_and_wait(".user form button").await;
        assert_eq!(browser.path().await, "/login", "signed out");
        browser.fill("#email", MASTER_EMAIL).await;
        browser.fill("#password", MASTER_PASSWORD).await;
        browser.shot("sign-in").await;
        browser.click_and_wait("main form button").await;
        assert_eq!(browser.path().await, "/admin");
        assert!(browser.text(".user .who").await.contains("Maria Master"));

        // 2–3. Select the group in the tree: its Properties panel, the node highlighted.
        browser.click_and_wait(&group_link(support)).await;
        browser.click_and_wait(&group_link(tier1)).await;
        assert_eq!(browser.path().await, format!("/admin/groups/{tier1}"));
        assert_eq!(browser.text(".tabs .tab.active").await, "Properties");
        assert_eq!(browser.text("#group-properties h1").await, "Tier 1");
        assert_eq!(browser.text(".tree summary.selected a").await, "Tier 1");
        browser.shot("group-properties").await;

        // 4. Import Users, at the bottom of the panel.
        browser.click_and_wait("#import-users").await;
        assert_eq!(
            browser.path().await,
            format!("/admin/groups/{tier1}/import")
        );
        assert_eq!(browser.text(".panel h1").await, "Import users to Tier 1");
        browser.shot("import-users").await;

        // 5. Download the template: Name | Email | Password (then the optional Nickname | Description), and a sheet of instructions.
        browser.click("#template-xlsx").await;
        let (sheets, header) =
            template_header(&browser.downloaded("roster-import-template.xlsx").await);
        assert_eq!(
            header,
            ["Name", "Email", "Password", "Nickname", "Description"]
        );
        assert!(sheets >= 2, "a second sheet of instructions");

        // 6–7. Fill it in, save it, upload it: the answer comes at once.
        let folder = tempfile::tempdir().expect("a folder for the upload");
        let (file, bad) = fill_in(folder.path(), &header);
        choose_file(&browser, &file).await;
        browser.shot("file-chosen").await;
        browser.click_and_wait("#upload").await;
        assert_eq!(
            browser.path().await,
            format!("/admin/groups/{tier1}?done=import-queued")
        );
        let headline = browser.text(".notification .headline").await;
        assert_eq!(headline, "Bulk import in progress. Please wait.");
        browser.shot("import-in-progress").await;

        // The test runs the job itself, a batch at a time: the page's script polls the job
        // and moves the bar without a reload; at the end the page reloads itself.
        let total = (GOOD_ROWS + bad.len()) as u64;
        let worker = app.worker();
        let one_batch = RunLimit {
            max_batches: Some(1),
            ..RunLimit::default()
        };
        assert_eq!(
            worker.step_limited(one_batch).await.unwrap(),
            Step::Ran(JobOutcome::Interrupted)
        );
        bar_reaches(&browser, (bad.len() as u64 + 64, total)).await;
        browser.shot("import-progress-moving").await;
        // The runner "died" after its batch; once its lease has run out, another finishes.
        app.clock.advance(app.config.job_lease.as_secs() as i64 + 1);
        assert!(matches!(
            worker.step().await.unwrap(),
            Step::Ran(JobOutcome::Finished { .. })
        ));
        browser
            .until("the page to show the result", async || {
                browser.present(".notification.warning").await
            })
            .await;

        // 8. The result in the notification bar at the top of the Properties panel; the upload's
        // "file accepted" notice went with the reload.
        assert_eq!(browser.path().await, format!("/admin/groups/{tier1}"));
        assert!(!browser.exists(".notice").await, "no stale upload notice");
        assert_eq!(
            browser
                .text("#group-properties > .notification .headline")
                .await,
            format!(
                "Import of agents.xlsx finished: {GOOD_ROWS} agents created, {} failed",
                bad.len()
            )
        );
        let facts = browser.text(".facts").await;
        assert!(facts.starts_with(&format!("{GOOD_ROWS} agents")), "{facts}");
        browser.shot("import-finished").await;

        // Download Result in Spreadsheet: the uploaded sheet with a Result column.
        let link = browser.find(".notification a.download").await;
        assert_eq!(link.text().await.unwrap(), "Download Result in Spreadsheet");
        link.click().await.expect("click the result link");
        let result = read_result(&browser.downloaded("agents.result.xlsx").await);
        // The template's columns, then Result after the last of them.
        let mut expected_header = header.clone();
        expected_header.push("Result".to_owned());
        assert_eq!(result[0], expected_header);
        let result_column = header.len();
        assert_eq!(result.len() as u64, 1 + total, "every data row is reported");
        for (sheet_row, cells) in (1..).zip(&result).skip(1) {
            assert_eq!(
                cells[2], "********",
                "no password in the result (row {sheet_row})"
            );
            let outcome = &cells[result_column];
            match bad.iter().find(|(row, _)| *row == sheet_row) {
                Some((_, expected)) => assert!(
                    outcome.starts_with("Error: ") && outcome.contains(expected),
                    "row {sheet_row}: {expected:?} expected in {outcome:?}"
                ),
                None => assert_eq!(outcome, "Success", "row {sheet_row}: {cells:?}"),
            }
        }

        // An imported agent signs in with the password from the sheet.
        browser.click_and_wait(".user form button").await;
        browser.goto(&app.url("/agent/login")).await;
        browser.fill("#email", &good_email(7)).await;
        browser.fill("#password", &good_password(7)).await;
        browser.shot("agent-sign-in").await;
        browser.click_and_wait("main form button").await;
        assert_eq!(browser.path().await, "/agent");
        assert_eq!(browser.text("main h1").await, "Welcome, Seed Agent 7");
        assert_eq!(browser.text("#agent-email").await, good_email(7));
        assert_eq!(browser.text("#agent-group").await, "Support/Tier 1");
        assert_eq!(
            browser.text(".brand .product").await,
            "Agent",
            "not the Admin Center"
        );
        browser.shot("agent-home").await;

        browser.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tree_filters_and_expands() {
    bounded("the_tree_filters_and_expands", async {
        let Some(browser) = Browser::start("the_tree_filters_and_expands").await else {
            return;
        };
        let app = app().await;
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier1 = app.create_group(Some(support), "Tier 1").await;
        let escalations = app.create_group(Some(tier1), "Escalations").await;
        let tier2 = app.create_group(Some(support), "Tier 2").await;
        let sales = app.create_group(None, "Sales").await;
        let emea = app.create_group(Some(sales), "EMEA").await;
        let billing = app.create_group(None, "Billing").await;
        for (group, name, email) in [
            (tier1, "Ada Tier", "ada@example.com"),
            (sales, "Dana Sales", "dana@example.com"),
            (sales, "Eli Sales", "eli@example.com"),
            (escalations, "Fay Escalation", "fay@example.com"),
        ] {
            app.create_agent(group, name, email, "agent password 1")
                .await;
        }
        let shown = async |group: i64| browser.shown(&node(group)).await;

        // Nothing selected: the top-level groups, collapsed, no agent loaded.
        sign_in(&browser, &app).await;
        for top in [support, sales, billing] {
            assert!(shown(top).await, "top-level group {top} shown");
        }
        for nested in [tier1, tier2, escalations, emea] {
            assert!(
                !shown(nested).await,
                "group {nested} is inside a closed node"
            );
        }
        assert!(
            !browser.exists(".tree li.agent").await,
            "no agents loaded yet"
        );
        browser.shot("tree-collapsed").await;

        // Typing filters live: a group stays when it or a group below it matches, and opens.
        let filter = browser.find("#tree-filter").await;
        filter.send_keys("esc").await.expect("type in the filter");
        browser
            .until("Billing to be filtered out", async || !shown(billing).await)
            .await;
        for kept in [support, tier1, escalations] {
            assert!(shown(kept).await, "group {kept} matches \"esc\"");
        }
        for gone in [tier2, sales, emea, billing] {
            assert!(!shown(gone).await, "group {gone} does not match \"esc\"");
        }
        assert_eq!(
            browser.path().await,
            "/admin",
            "filtered without leaving the page"
        );
        // Opened by the filter, Escalations fetched no agents: a keystroke can open hundreds.
        let lazy = format!("details[data-group=\"{escalations}\"] > ul > li.lazy");
        assert!(browser.shown(&lazy).await, "its agents wait for a click");
        assert!(!browser.exists(".tree li.agent").await, "nothing fetched");
        assert!(
            !browser.shown("#tree-no-matches").await,
            "matches: no message"
        );
        browser.shot("tree-filtered").await;

        // Nothing in the page matches: the tree says so, and how to search every agent.
        filter.send_keys("qqq").await.expect("type more");
        browser
            .until("the no-match message", async || {
                browser.shown("#tree-no-matches").await
            })
            .await;
        browser.shot("tree-no-matches").await;
        filter
            .send_keys("\u{e003}\u{e003}\u{e003}")
            .await
            .expect("erase what matched nothing");
        browser
            .until("the message to go", async || {
                !browser.shown("#tree-no-matches").await
            })
            .await;

        // Emptied, the filter brings every group back and closes what it opened.
        filter
            .send_keys("\u{e003}\u{e003}\u{e003}")
            .await
            .expect("erase the filter");
        browser
            .until("Billing to come back", async || shown(billing).await)
            .await;
        for top in [support, sales, billing] {
            assert!(shown(top).await, "group {top} is back");
        }
        for nested in [tier1, tier2, escalations, emea] {
            assert!(!shown(nested).await, "group {nested} closed again");
        }

        // An agent of a group never opened is not in the page: the server finds it as typed.
        filter.send_keys("dana").await.expect("type a name");
        browser
            .until("Dana in the matching agents", async || {
                browser.exists("#tree-matches li.agent").await
            })
            .await;
        assert_eq!(browser.text("#tree-matches li.agent").await, "Dana Sales");
        assert!(
            !browser.shown("#tree-no-matches").await,
            "an agent matches: no message"
        );
        assert_eq!(
            browser.path().await,
            "/admin",
            "found without leaving the page"
        );
        browser.shot("tree-live-agent-search").await;
        filter
            .send_keys("\u{e003}\u{e003}\u{e003}\u{e003}")
            .await
            .expect("erase the name");
        browser
            .until("the matches to go", async || {
                !browser.exists("#tree-matches li.agent").await
            })
            .await;

        // A collapsed group opened with a click loads its agents then, once.
        let sales_node = format!("details[data-group=\"{sales}\"]");
        let toggle = format!("{sales_node} > summary > .count");
        let agents = format!("{sales_node} > ul > li.agent");
        let placeholder = browser.find(&format!("{sales_node} > ul > li.lazy")).await;
        let url = placeholder.attr("data-agents-url").await.unwrap();
        assert_eq!(url, Some(format!("/admin/tree/groups/{sales}/agents")));
        browser.click(&toggle).await;
        browser
            .until("Sales's agents to load", async || {
                browser.find_all(&agents).await.len() == 2
            })
            .await;
        assert!(
            !browser
                .exists(&format!("{sales_node} > ul > li.lazy"))
                .await,
            "replaced"
        );
        let mut names = Vec::new();
        for agent in browser.find_all(&agents).await {
            assert!(agent.is_displayed().await.unwrap());
            names.push(agent.text().await.unwrap());
        }
        names.sort();
        assert_eq!(names, ["Dana Sales", "Eli Sales"]);
        assert!(shown(emea).await, "the subgroup shows too");
        assert_eq!(browser.path().await, "/admin", "opened in place");
        browser.shot("group-expanded").await;

        // Collapsed again, the agents are hidden; opened again, nothing more is fetched.
        browser.click(&toggle).await;
        browser
            .until("Sales to close", async || !shown(emea).await)
            .await;
        assert_eq!(
            browser.find(&sales_node).await.attr("open").await.unwrap(),
            None
        );
        for agent in browser.find_all(&agents).await {
            assert!(
                !agent.is_displayed().await.unwrap(),
                "hidden when collapsed"
            );
        }
        browser.shot("group-collapsed").await;
        browser.click(&toggle).await;
        browser
            .until("Sales to open again", async || shown(emea).await)
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(browser.find_all(&agents).await.len(), 2, "loaded once");

        browser.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_shows_its_validation_message() {
    bounded("a_form_shows_its_validation_message", async {
        let Some(browser) = Browser::start("a_form_shows_its_validation_message").await else {
            return;
        };
        let app = app().await;
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;

        sign_in(&browser, &app).await;
        browser.click_and_wait(&group_link(support)).await;
        browser
            .click_and_wait("a.button[href$=\"/agents/new\"]")
            .await;
        assert_eq!(browser.text(".panel h1").await, "Add agent");
        browser.fill("#name", "Ada Lovelace").await;
        browser.fill("#nickname", "ada").await;
        browser.fill("#email", "ada@@example").await;
        browser.fill("#password", "analytical engine").await;
        browser.shot("form-filled").await;
        browser.click_and_wait(".panel form.form button").await;

        // Shown again (422), with the message beside the email field only.
        browser
            .expect_logged("status of 422 (Unprocessable Entity)")
            .await;
        let invalid = browser.find_all(".field.invalid").await;
        assert_eq!(invalid.len(), 1, "only one field is marked");
        assert!(
            invalid[0].find(Locator::Css("#email")).await.is_ok(),
            "the email field"
        );
        let message = invalid[0]
            .find(Locator::Css(".field-error"))
            .await
            .expect("a message");
        assert!(message.is_displayed().await.unwrap());
        let text = message.text().await.unwrap();
        assert!(
            text.contains("\"ada@@example\" is not a valid address"),
            "{text}"
        );
        let (_, input_y, _, input_height) = browser.find("#email").await.rectangle().await.unwrap();
        let (_, message_y, _, _) = message.rectangle().await.unwrap();
        let below = message_y - (input_y + input_height);
        assert!(
            (0.0..40.0).contains(&below),
            "the message sits right under its field"
        );
        let border = async |css: &str| {
            let field = browser.find(css).await;
            field.css_value("border-top-color").await.unwrap()
        };
        assert_eq!(
            border("#email").await,
            RED,
            "the bad field is outlined in red"
        );
        assert_ne!(border("#name").await, RED, "a good field is not");

        // What was typed is still there, except the password.
        assert_eq!(browser.value("#name").await, "Ada Lovelace");
        assert_eq!(browser.value("#nickname").await, "ada");
        assert_eq!(
            browser.value("#email").await,
            "ada@@example",
            "kept to be fixed"
        );
        assert_eq!(
            browser.value("#password").await,
            "",
            "a password is never sent back"
        );
        browser.shot("validation-message").await;

        // Fixed, it goes through.
        browser.fill("#email", "ada@example.com").await;
        browser.fill("#password", "analytical engine").await;
        browser.click_and_wait(".panel form.form button").await;
        assert!(
            browser.path().await.starts_with("/admin/agents/"),
            "the new agent's page"
        );
        assert_eq!(browser.text(".panel h1").await, "Ada Lovelace");
        assert!(!browser.exists(".field.invalid").await);
        assert_eq!(
            browser.text(".tree li.agent.selected").await,
            "Ada Lovelace"
        );
        browser.shot("agent-added").await;

        browser.close().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_work_with_javascript_switched_off() {
    bounded("pages_work_with_javascript_switched_off", async {
        let test = "pages_work_with_javascript_switched_off";
        let Some(browser) = Browser::start_with(test, false).await else {
            return;
        };
        let app = app().await;
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let billing = app.create_group(None, "Billing").await;
        app.create_agent(
            billing,
            "Old Hand",
            "existing@example.com",
            "old hand password",
        )
        .await;
        sign_in(&browser, &app).await;

        // Typing in the filter hides nothing; Enter asks the server instead.
        browser
            .find("#tree-filter")
            .await
            .send_keys("bill")
            .await
            .expect("type");
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(
            browser.shown(&group_link(support)).await,
            "no live filtering: no script"
        );
        browser.enter_and_wait("#tree-filter").await;
        assert_eq!(browser.path().await, "/admin?q=bill");
        assert!(browser.exists(&group_link(billing)).await);
        assert!(!browser.exists(&group_link(support)).await);
        browser.shot("filtered-by-the-server").await;

        // Open the group, Import Users, upload.
        browser.goto(&app.url("/admin")).await;
        browser.click_and_wait(&group_link(support)).await;
        browser.click_and_wait("#import-users").await;
        let folder = tempfile::tempdir().expect("a folder for the upload");
        let header = ["Name", "Email", "Password"].map(String::from);
        let (file, bad) = fill_in(folder.path(), &header);
        choose_file(&browser, &file).await;
        browser.click_and_wait("#upload").await;

        // The group page shows the progress and reloads itself through its <noscript> refresh,
        // whose <meta> is an element only when script is off.
        let headline = browser.text(".notification .headline").await;
        assert_eq!(headline, "Bulk import in progress. Please wait.");
        assert!(
            browser.exists("noscript meta[http-equiv=refresh]").await,
            "script is off"
        );
        assert!(browser.exists("progress.import-progress").await);
        browser.shot("progress-without-script").await;
        let first = browser.find("html").await;
        browser
            .until_within(IMPORT_LIMIT, "the notification bar", async || {
                browser.present(".notification.warning").await
            })
            .await;
        assert!(first.tag_name().await.is_err(), "the page reloaded itself");
        assert_eq!(browser.path().await, format!("/admin/groups/{support}"));
        assert_eq!(
            browser
                .text("#group-properties > .notification .headline")
                .await,
            format!(
                "Import of agents.xlsx finished: {GOOD_ROWS} agents created, {} failed",
                bad.len()
            )
        );
        assert!(!browser.exists("noscript meta").await, "no more refreshing");
        browser.shot("finished-without-script").await;

        // The result is a plain link.
        browser.click(".notification a.download").await;
        let result = read_result(&browser.downloaded("agents.result.xlsx").await);
        let successes = result.iter().filter(|row| row[3] == "Success").count();
        assert_eq!(successes, GOOD_ROWS);

        browser.close().await;
        app.stop().await;
    })
    .await;
}

/// Writes `rows` (the header first) as an .xlsx named `name` in `folder`.
fn save_sheet(folder: &Path, name: &str, rows: &[Vec<C>]) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, xlsx(rows)).expect("save the sheet");
    path
}

/// The lifecycle as an administrator lives it: check the file, fix it, import it, retry only
/// the failed row from the result file, then undo the import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fix_import_retry_undo() {
    bounded("check_fix_import_retry_undo", async {
        let Some(browser) = Browser::start("check_fix_import_retry_undo").await else {
            return;
        };
        let app = TestApp::spawn_driven(Backend::Sqlite)
            .await
            .expect("SQLite always runs");
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        sign_in(&browser, &app).await;
        let folder = tempfile::tempdir().expect("a folder for the files");
        let header = || vec![C::T("Name"), C::T("Email"), C::T("Password")];
        let row = |name: &str, email: &str, password: &str| {
            vec![C::S(name.into()), C::S(email.into()), C::S(password.into())]
        };
        let mut rows = vec![header()];
        for i in 0..4 {
            rows.push(row(
                &format!("Loop Agent {i}"),
                &format!("loop{i}@example.com"),
                &format!("loop password {i}"),
            ));
        }
        rows.push(row("Bad Email", "bad-at-example.com", "loop password 4"));
        rows.push(row("Short", "short@example.com", "123"));
        let group_page = app.url(&format!("/admin/groups/{support}"));
        let headline = "#group-properties > .notification .headline";

        // 1. Check the file: every row judged, nothing created.
        browser.goto(&group_page).await;
        browser.click_and_wait("#import-users").await;
        assert!(
            browser.exists("#mode-create:checked").await,
            "create is the default"
        );
        choose_file(&browser, &save_sheet(folder.path(), "agents.xlsx", &rows)).await;
        browser.click_and_wait("#check-file").await;
        assert_eq!(
            browser.text(headline).await,
            "Checking agents.xlsx. Nothing will be changed."
        );
        assert!(matches!(
            app.worker().step().await.unwrap(),
            Step::Ran(JobOutcome::Checked { rows: 6, failed: 2 })
        ));
        browser.goto(&group_page).await;
        assert_eq!(
            browser.text(headline).await,
            "Check of agents.xlsx: 4 would be created, 2 errors — nothing was changed"
        );
        browser.shot("1-checked").await;
        browser.click(".notification a.download").await;
        let checked = read_result(&browser.downloaded("agents.result.xlsx").await);
        assert_eq!(checked[1][3], "Would create");
        assert!(checked[5][3].starts_with("Error: "), "{:?}", checked[5]);
        let agents: serde_json::Value = app.get("/api/v1/groups").await.json().await.unwrap();
        assert_eq!(agents[0]["agent_count"], 0, "a check creates nobody");

        // 2. Fix the email the check found, and import. The short password stays wrong.
        rows[5] = row("Bad Email", "bad@example.com", "loop password 4");
        browser.click_and_wait("#import-users").await;
        choose_file(&browser, &save_sheet(folder.path(), "fixed.xlsx", &rows)).await;
        browser.click_and_wait("#upload").await;
        assert_eq!(
            browser.text(headline).await,
            "Bulk import in progress. Please wait."
        );
        app.worker().step().await.unwrap();
        browser.goto(&group_page).await;
        assert_eq!(
            browser.text(headline).await,
            "Import of fixed.xlsx finished: 5 agents created, 1 failed"
        );
        browser.shot("2-imported").await;
        browser.click(".notification a.download").await;
        let result = read_result(&browser.downloaded("fixed.result.xlsx").await);
        assert!(result[6][3].contains("at least"), "{:?}", result[6]);

        // 3. Retry only the failed row: its password typed again in the result file.
        let mut retry: Vec<Vec<C>> = result
            .iter()
            .map(|cells| cells.iter().map(|cell| C::S(cell.clone())).collect())
            .collect();
        retry[6][2] = C::S("long enough now".into());
        browser.click_and_wait("#import-users").await;
        choose_file(
            &browser,
            &save_sheet(folder.path(), "fixed.result.xlsx", &retry),
        )
        .await;
        browser.click_and_wait("#upload").await;
        app.worker().step().await.unwrap();
        browser.goto(&group_page).await;
        assert_eq!(
            browser.text(headline).await,
            "Import of fixed.result.xlsx finished: 1 agent created, 5 already done, 0 failed"
        );
        browser.shot("3-retried").await;
        browser.click(".notification a.download").await;
        let again = read_result(&browser.downloaded("fixed.result.result.xlsx").await);
        assert_eq!(
            again[0],
            ["Name", "Email", "Password", "Result"],
            "one Result column"
        );
        assert!(
            again[1..].iter().all(|cells| cells[3] == "Success"),
            "{again:?}"
        );

        // 4. Undo the first import from the history: its five agents go, the retried one stays.
        let jobs: serde_json::Value = app
            .get(&format!("/api/v1/groups/{support}/imports"))
            .await
            .json()
            .await
            .unwrap();
        let first_import = jobs[1]["id"].as_i64().expect("the import of fixed.xlsx");
        browser
            .click_and_wait(&format!(
                "a.undo-import[href=\"/admin/imports/{first_import}/undo\"]"
            ))
            .await;
        assert!(
            browser
                .text("#undo-what")
                .await
                .starts_with("5 agents created by this import will be deleted and signed out"),
            "the confirmation says what will happen"
        );
        browser.shot("4-confirm-undo").await;
        browser.click_and_wait("#undo-import-confirm").await;
        assert!(matches!(
            app.worker().step().await.unwrap(),
            Step::Ran(JobOutcome::Undone {
                reverted: 5,
                kept: 0
            })
        ));
        browser.goto(&group_page).await;
        assert!(
            browser
                .text(".undo-notice .headline")
                .await
                .starts_with("Import of fixed.xlsx undone: 5 agents taken back"),
            "{}",
            browser.text(".undo-notice .headline").await
        );
        browser.shot("5-undone").await;
        let groups: serde_json::Value = app.get("/api/v1/groups").await.json().await.unwrap();
        assert_eq!(
            groups[0]["agent_count"], 1,
            "only the retried agent is left"
        );
        assert!(browser.console_errors().await.is_empty());

        browser.close().await;
        app.stop().await;
    })
    .await;
}

/// An import that asks its agents to choose their own password: the imported agent signs in,
/// is sent to change it, and then reaches the agent home page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_agent_chooses_a_new_password_first() {
    bounded("an_imported_agent_chooses_a_new_password_first", async {
        let Some(browser) = Browser::start("an_imported_agent_chooses_a_new_password_first").await
        else {
            return;
        };
        let app = TestApp::spawn_driven(Backend::Sqlite)
            .await
            .expect("SQLite always runs");
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        sign_in(&browser, &app).await;
        let folder = tempfile::tempdir().expect("a folder for the files");
        let rows = vec![
            vec![C::T("Name"), C::T("Email"), C::T("Password")],
            vec![
                C::S("Nia Newcomer".into()),
                C::S("nia@example.com".into()),
                C::S("given by admin 1".into()),
            ],
        ];
        browser
            .goto(&app.url(&format!("/admin/groups/{support}")))
            .await;
        browser.click_and_wait("#import-users").await;
        choose_file(&browser, &save_sheet(folder.path(), "agents.xlsx", &rows)).await;
        browser.click("#must-change-password").await;
        browser.shot("1-option-ticked").await;
        browser.click_and_wait("#upload").await;
        assert!(matches!(
            app.worker().step().await.unwrap(),
            Step::Ran(JobOutcome::Finished {
                created: 1,
                failed: 0
            })
        ));
        browser.click_and_wait(".user form button").await;

        browser.goto(&app.url("/agent/login")).await;
        browser.fill("#email", "nia@example.com").await;
        browser.fill("#password", "given by admin 1").await;
        browser.click_and_wait("main form button").await;
        assert_eq!(
            browser.path().await,
            "/agent/password",
            "sent to change it first"
        );
        assert_eq!(browser.text("main h1").await, "Choose a new password");
        browser.shot("2-choose-a-password").await;
        browser.goto(&app.url("/agent")).await;
        assert_eq!(
            browser.path().await,
            "/agent/password",
            "nothing else first"
        );

        browser.fill("#current", "given by admin 1").await;
        browser.fill("#new", "nia's own choice").await;
        browser.fill("#again", "nia's own choice").await;
        browser.click_and_wait("main form button").await;
        assert_eq!(browser.path().await, "/agent?done=password");
        assert_eq!(browser.text("main h1").await, "Welcome, Nia Newcomer");
        assert_eq!(browser.text(".notice").await, "Your password is changed.");
        browser.shot("3-agent-home").await;
        assert!(browser.console_errors().await.is_empty());

        browser.close().await;
        app.stop().await;
    })
    .await;
}

/// The pages this stop added, at the three sizes administrators use, with screenshots: the
/// audit log, a delete's question, the group's export links, the own-password page. None
/// may be wider than the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_pages_fit_at_three_sizes() {
    bounded("the_new_pages_fit_at_three_sizes", async {
        let Some(browser) = Browser::start("the_new_pages_fit_at_three_sizes").await else {
            return;
        };
        let app = app().await;
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier = app
            .create_group(Some(support), "Tier 1 with a rather long name for a group")
            .await;
        let agent = app
            .create_agent(
                tier,
                "Ann Lee-Longname",
                "ann.lee.longname@subdomain.example.com",
                "password123",
            )
            .await;
        let page = format!("/admin/agents/{agent}");
        let tier_id = tier.to_string();
        app.post_form(
            &page,
            &page,
            &[
                ("name", "Ann Lee-Longername"),
                ("email", "ann.lee.longname@subdomain.example.com"),
                ("group_id", &tier_id),
                ("enabled", "on"),
            ],
        )
        .await;
        sign_in(&browser, &app).await;
        for (width, height) in [(1400, 900), (1280, 720), (800, 900)] {
            browser.resize(width, height).await;
            for (name, path) in [
                ("audit", "/admin/audit".to_owned()),
                ("confirm-delete", format!("/admin/agents/{agent}/delete")),
                ("group-export", format!("/admin/groups/{tier}")),
                ("agent-history", page.clone()),
                ("own-password", "/admin/password".to_owned()),
            ] {
                browser.goto(&app.url(&path)).await;
                browser.shot(&format!("{name}-{width}x{height}")).await;
                assert!(
                    !browser.overflows().await,
                    "{path} is wider than a {width} px window"
                );
            }
        }
        browser.goto(&app.url("/admin/audit")).await;
        assert!(
            browser
                .text("#audit-events")
                .await
                .contains("changed agent")
        );
        browser
            .goto(&app.url(&format!("/admin/agents/{agent}/delete")))
            .await;
        browser.click_and_wait("#confirm-delete").await;
        assert_eq!(
            browser.path().await,
            format!("/admin/groups/{tier}?done=agent-deleted")
        );
        browser.close().await;
        app.stop().await;
    })
    .await;
}
