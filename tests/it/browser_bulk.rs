//! Bulk actions and a group's deletion with everything in it, in a real browser at the three
//! sizes administrators use: the agents' list with its checkboxes, the confirmation that
//! states the count, the banner with the outcome, and the typed name before a deletion.
//! Screenshots under `tests-output/browser/<test>/`; no page may be wider than its window.

use crate::browser::{app, bounded, sign_in};
use crate::common::webdriver::Browser;

const SIZES: [(u32, u32); 3] = [(1400, 900), (1280, 720), (800, 900)];

async fn fits(browser: &Browser, name: &str) {
    for (width, height) in SIZES {
        browser.resize(width, height).await;
        browser.shot(&format!("{name}-{width}x{height}")).await;
        assert!(
            !browser.overflows().await,
            "{name} is wider than a {width} px window"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_are_moved_in_bulk_and_a_group_deleted_with_everything_in_it() {
    let test = "agents_are_moved_in_bulk_and_a_group_deleted_with_everything_in_it";
    bounded(test, async {
        let Some(browser) = Browser::start(test).await else {
            return;
        };
        let app = app().await;
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let night = app.create_group(Some(support), "Night shift").await;
        let sales = app.create_group(None, "Sales").await;
        let ann = app
            .create_agent(support, "Ann Lee", "ann@example.com", "password123")
            .await;
        let bob = app
            .create_agent(
                support,
                "Bob Ray",
                "bob.ray.with.a.long.address@subdomain.example.com",
                "password123",
            )
            .await;
        app.create_agent(support, "Cy Dee", "cy@example.com", "password123")
            .await;
        app.create_agent(night, "Di Fox", "di@example.com", "password123")
            .await;
        sign_in(&browser, &app).await;

        browser
            .goto(&app.url(&format!("/admin/groups/{support}#agents-heading")))
            .await;
        fits(&browser, "agents-list").await;
        browser
            .click(&format!("input[name=agent_id][value=\"{ann}\"]"))
            .await;
        browser
            .click(&format!("input[name=agent_id][value=\"{bob}\"]"))
            .await;
        browser.click("#bulk-action option[value=move]").await;
        browser
            .click(&format!("#bulk-target option[value=\"{sales}\"]"))
            .await;
        browser.click_and_wait("#bulk-submit").await;
        assert_eq!(browser.text("main h1").await, "Move 2 agents to Sales?");
        fits(&browser, "bulk-confirm").await;
        browser.click_and_wait("#confirm-bulk").await;
        assert!(
            browser
                .path()
                .await
                .starts_with(&format!("/admin/groups/{support}?bulk=")),
            "back on the group's Properties"
        );
        assert_eq!(
            browser.text("#bulk-status").await,
            "Moved 2 agents to Sales."
        );
        fits(&browser, "bulk-done").await;
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM agents WHERE group_id = {sales}"
            ))
            .await,
            2
        );

        browser
            .goto(&app.url(&format!("/admin/groups/{support}/delete")))
            .await;
        assert!(
            browser
                .text("#delete-consequence")
                .await
                .contains("1 subgroup and 2 agents")
        );
        fits(&browser, "delete-group").await;
        browser.fill("#confirm_name", "support").await;
        browser.click_and_wait("#confirm-delete").await;
        assert!(
            browser
                .text(".field-error")
                .await
                .contains("not the group's name")
        );
        browser
            .expect_logged("status of 422 (Unprocessable Entity)")
            .await;
        browser.fill("#confirm_name", "Support").await;
        browser.click_and_wait("#confirm-delete").await;
        assert!(browser.path().await.starts_with("/admin?bulk="));
        assert_eq!(
            browser.text("#bulk-status").await,
            "Deleted group Support with 2 agents."
        );
        fits(&browser, "group-deleted").await;
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM agent_groups WHERE id IN ({support}, {night})"
            ))
            .await,
            0
        );
        let errors = browser.console_errors().await;
        assert!(errors.is_empty(), "{errors:?}");
        browser.close().await;
        app.stop().await;
    })
    .await;
}
