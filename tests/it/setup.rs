//! The first-start setup link when its form meets an administrator who already exists.

use crate::common::{MASTER_PASSWORD, TestApp};
use reqwest::StatusCode;
use roster::{
    domain::{AgentName, Email, hash_password},
    storage::NewAdmin,
};

on_both_backends! {
    async fn a_taken_email_is_shown_beside_its_field_and_the_link_stays_valid(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        let setup = app.setup_url.clone().expect("setup link on first start");
        let path = setup.strip_prefix(&app.base).unwrap().to_owned();
        // An administrator made before any master (from the command line, say).
        let hash = hash_password("an admin password");
        app.storage
            .create_admin(NewAdmin {
                email: &Email::parse("taken@example.com").unwrap(),
                name: &AgentName::parse("Early Admin").unwrap(),
                password_hash: &hash,
                is_master: false,
                group_ids: &[],
            })
            .await
            .unwrap();

        let fields = |email: &'static str| {
            [("name", "Maria Master"), ("email", email), ("password", MASTER_PASSWORD), ("confirm", MASTER_PASSWORD)]
        };
        let refused = app.post_form(&path, &path, &fields("Taken@Example.com")).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.unwrap();
        assert!(page.contains("An administrator with this email already exists"), "{page}");
        assert!(page.contains("value=\"Taken@Example.com\"") && page.contains("value=\"Maria Master\""), "input kept: {page}");
        assert!(!page.contains(MASTER_PASSWORD), "the password is not echoed");
        assert!(!app.storage.master_admin_exists().await.unwrap(), "no master was made");

        // The link was not spent: corrected, the same form goes through, and then it is dead.
        assert_eq!(app.get(&path).await.status(), StatusCode::OK, "the link still works");
        let made = app.post_form(&path, &path, &fields("maria@example.com")).await;
        assert_eq!(made.status(), StatusCode::SEE_OTHER);
        assert!(app.storage.master_admin_exists().await.unwrap());
        assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND, "now the link is dead");
        app.stop().await;
    }
}
