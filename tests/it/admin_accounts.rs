//! Administrators' accounts from the web, on both backends: a master sets another's password
//! and changes their email; every administrator changes their own password.

use reqwest::StatusCode;

use crate::common::{MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser, location};

on_both_backends! {
    async fn a_master_resets_a_password_and_changes_an_email(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let old_session = app.admin_of("lee@example.com", &[group]).await;
        let admins: Vec<(i64, String)> = app.storage.list_admins().await.unwrap().into_iter().map(|a| (a.id, a.email)).collect();
        let lee = admins.iter().find(|(_, email)| email == "lee@example.com").unwrap().0;
        let page = format!("/admin/admins/{lee}");

        let short = app.post_form(&page, &format!("{page}/password"), &[("password", "short")]).await;
        assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(short.text().await.unwrap().contains("at least 8"));
        let set = app.post_form(&page, &format!("{page}/password"), &[("password", "reset by master 1")]).await;
        assert_eq!(location(&set), format!("{page}?done=password"));
        assert!(app.get(&location(&set)).await.text().await.unwrap().contains("Password set."));
        assert_eq!(location(&app.get_with(&old_session, "/admin").await), "/login", "their session ended");
        assert_eq!(app.login_with(&browser(), "lee@example.com", "admin password 1").await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.login_with(&browser(), "lee@example.com", "reset by master 1").await.status(), StatusCode::SEE_OTHER);

        // The email changes; a taken one is refused beside the field; the same group twice is one.
        let group_id = group.to_string();
        let taken = app.post_form(&page, &page, &[("name", "Lee"), ("email", MASTER_EMAIL), ("group_id", &group_id)]).await;
        assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(taken.text().await.unwrap().contains("An administrator with this email already exists"));
        let moved = app.post_form(&page, &page, &[("name", "Lee"), ("email", "lee.new@example.com"), ("group_id", &group_id), ("group_id", &group_id)]).await;
        assert_eq!(location(&moved), format!("{page}?done=saved"), "the same group twice is no error");
        assert_eq!(app.storage.admin_group_ids(lee).await.unwrap(), vec![group]);
        assert_eq!(app.login_with(&browser(), "lee.new@example.com", "reset by master 1").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.login_with(&browser(), "lee@example.com", "reset by master 1").await.status(), StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_administrator_changes_their_own_password(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let kim = app.admin_of("kim@example.com", &[group]).await;
        let other_device = browser();
        assert_eq!(app.login_with(&other_device, "kim@example.com", "admin password 1").await.status(), StatusCode::SEE_OTHER);
        let home = app.get_with(&kim, "/admin").await.text().await.unwrap();
        assert!(home.contains("href=\"/admin/password\""), "the link beside their name");

        let change = |current: &'static str, new: &'static str| {
            let (app, kim) = (&app, &kim);
            async move { app.post_form_with(kim, "/admin/password", "/admin/password", &[("current", current), ("new", new), ("again", new)]).await }
        };
        let wrong = change("not mine", "kim's new password").await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text().await.unwrap().contains("The current password is not right"));
        let done = change("admin password 1", "kim's new password").await;
        assert_eq!(location(&done), "/admin?done=password");
        let page = app.get_with(&kim, "/admin?done=password").await.text().await.unwrap();
        assert!(page.contains("Your password is changed."), "this session goes on");
        assert_eq!(location(&app.get_with(&other_device, "/admin").await), "/login", "the other session ended");
        assert_eq!(app.login_with(&browser(), "kim@example.com", "kim's new password").await.status(), StatusCode::SEE_OTHER);
        let log = app.get("/admin/audit?kind=admin").await.text().await.unwrap();
        assert!(log.contains("set the password of administrator") && log.contains("their own"), "{log}");
        assert!(!log.contains("s new password"), "never the password");
        // The master's own account is untouched.
        assert_eq!(app.login_with(&browser(), MASTER_EMAIL, MASTER_PASSWORD).await.status(), StatusCode::SEE_OTHER);
        app.stop().await;
    }
}
