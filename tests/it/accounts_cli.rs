//! Administrators' passwords from the command line: from a pipe, the first line, and a second
//! one only when it repeats it; never a line break or another control character.

use reqwest::StatusCode;

use crate::common::{TestApp, browser, roster_at};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

on_both_backends! {
    async fn passwords_come_from_one_line_or_two_equal_ones(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let create = |email: &'static str, stdin: &'static str| {
            let url = app.database_url.clone();
            tokio::task::spawn_blocking(move || {
                roster_at(&url, &["admin", "create", "--email", email, "--name", "Pat Admin", "--master"], stdin)
            })
        };
        let twice = create("pat@example.com", "pat password 1\npat password 1\n").await.unwrap();
        assert!(twice.status.success(), "{}", stderr(&twice));
        let signed = app.login_with(&browser(), "pat@example.com", "pat password 1").await;
        assert_eq!(signed.status(), StatusCode::SEE_OTHER, "the first line alone is the password");

        let differ = create("kim@example.com", "kim password 1\nkim password 2\n").await.unwrap();
        assert!(!differ.status.success());
        assert!(stderr(&differ).contains("differ"), "{}", stderr(&differ));
        let control = create("kim@example.com", "kim\tpassword 1\n").await.unwrap();
        assert!(!control.status.success());
        assert!(stderr(&control).contains("control character"), "{}", stderr(&control));
        let nothing = create("kim@example.com", "").await.unwrap();
        assert!(stderr(&nothing).contains("no password"), "{}", stderr(&nothing));
        assert_eq!(app.count("SELECT COUNT(*) FROM admins WHERE email = 'kim@example.com'").await, 0, "no refused command created anyone");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_forgotten_password_is_reset_from_the_command_line(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let url = app.database_url.clone();
        let run = move |args: &'static [&'static str], stdin: &'static str| {
            let url = url.clone();
            tokio::task::spawn_blocking(move || roster_at(&url, args, stdin))
        };
        let made = run(&["admin", "create", "--email", "lee@example.com", "--name", "Lee"], "old password 1\n").await.unwrap();
        assert!(made.status.success(), "{}", stderr(&made));
        let lee = browser();
        assert_eq!(app.login_with(&lee, "lee@example.com", "old password 1").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get_with(&lee, "/admin").await.status(), StatusCode::OK);

        let reset = run(&["admin", "password", "--email", "LEE@example.com"], "new password 2\nnew password 2\n").await.unwrap();
        assert!(reset.status.success(), "{}", stderr(&reset));
        assert!(!stderr(&reset).contains("new password 2"), "the password is never echoed");
        assert_eq!(app.get_with(&lee, "/admin").await.status(), StatusCode::SEE_OTHER, "their session ended");
        assert_eq!(app.login_with(&browser(), "lee@example.com", "old password 1").await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.login_with(&browser(), "lee@example.com", "new password 2").await.status(), StatusCode::SEE_OTHER);

        let unknown = run(&["admin", "password", "--email", "nobody@example.com"], "new password 2\n").await.unwrap();
        assert!(!unknown.status.success());
        assert!(stderr(&unknown).contains("no administrator"), "{}", stderr(&unknown));
        let short = run(&["admin", "password", "--email", "lee@example.com"], "short\n").await.unwrap();
        assert!(!short.status.success() && stderr(&short).contains("at least 8"), "{}", stderr(&short));
        app.stop().await;
    }
}
