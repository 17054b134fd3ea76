//! Security headers on every kind of answer, and a hostile file name's safe download.

use reqwest::{Response, StatusCode, header};

use crate::common::{Backend, TestApp, browser};

fn assert_security_headers(what: &str, response: &Response) {
    let headers = response.headers();
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    assert_eq!(
        headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        headers
            .get(header::X_FRAME_OPTIONS)
            .map(|v| v.to_str().unwrap()),
        Some("DENY"),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_errors_and_downloads_carry_the_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let group = app.create_group(None, "Support").await;
    let upload = app
        .upload(
            &app.client,
            group,
            "a.csv",
            b"Name,Email,Password\nAnn,ann@example.com,password-1\n".to_vec(),
        )
        .await;
    assert_eq!(upload.status(), StatusCode::SEE_OTHER);
    let job = app.latest_job(&app.client, group).await;
    app.wait_for_import(&app.client, job).await;
    let anonymous = browser();
    let checks: Vec<(&str, Response, StatusCode)> = vec![
        ("a page", app.get("/admin").await, StatusCode::OK),
        (
            "the sign-in page",
            app.get_with(&anonymous, "/login").await,
            StatusCode::OK,
        ),
        (
            "a redirect",
            app.get_with(&anonymous, "/admin").await,
            StatusCode::SEE_OTHER,
        ),
        (
            "a 404 page",
            app.get("/admin/groups/999999").await,
            StatusCode::NOT_FOUND,
        ),
        (
            "a refused form",
            app.client
                .post(app.url("/admin/groups"))
                .form(&[("name", "x")])
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        ),
        (
            "a refused upload",
            app.upload(&app.client, group, "x.xlsx", b"junk\x00".to_vec())
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "an API error",
            app.get_with(&anonymous, "/api/v1/imports/1").await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "API JSON",
            app.get(&format!("/api/v1/imports/{job}")).await,
            StatusCode::OK,
        ),
        (
            "the result download",
            app.get(&format!("/admin/imports/{job}/result")).await,
            StatusCode::OK,
        ),
        (
            "the template",
            app.get("/admin/import-template.xlsx").await,
            StatusCode::OK,
        ),
        (
            "the CSV template",
            app.get("/admin/import-template.csv").await,
            StatusCode::OK,
        ),
        (
            "the stylesheet",
            app.get("/static/app.css").await,
            StatusCode::OK,
        ),
    ];
    for (what, response, status) in &checks {
        assert_eq!(response.status(), *status, "{what}");
        assert_security_headers(what, response);
    }
    app.stop().await;
}

/// The value must not let a name break out of its quotes, add a header, or name a path.
fn assert_safe_disposition(value: &str) {
    assert!(!value.contains(['\r', '\n']), "{value:?}");
    let rest = value
        .strip_prefix("attachment; filename=\"")
        .unwrap_or_else(|| panic!("{value:?}"));
    let (plain, rest) = rest.split_once('"').unwrap();
    assert!(
        plain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "{plain:?}"
    );
    assert!(
        plain.ends_with(".result.xlsx") && !plain.starts_with('.'),
        "{plain:?}"
    );
    let encoded = rest
        .strip_prefix("; filename*=UTF-8''")
        .unwrap_or_else(|| panic!("{value:?}"));
    assert!(
        encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-%".contains(c)),
        "{encoded:?}"
    );
    assert!(
        !encoded.contains("%2F") && !encoded.contains("%5C"),
        "no path in {encoded:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_file_name_gives_a_safe_download() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let group = app.create_group(None, "Support").await;
    let evil = "../../evil\"name\r\n.xlsx";
    let csv = b"Name,Email,Password\nAnn,ann@example.com,password-1\n".to_vec();

    let post = |name: &'static str| {
        let app = &app;
        let csv = csv.clone();
        async move {
            let csrf = app
                .csrf_from(&app.client, &format!("/admin/groups/{group}/import"))
                .await;
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .part("file", reqwest::multipart::Part::bytes(csv).file_name(name));
            app.client
                .post(app.url(&format!("/admin/groups/{group}/import")))
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    // A raw line break cannot be sent in a multipart header: refused as malformed, nothing kept.
    let raw = post(evil).await;
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    assert!(raw.text().await.unwrap().contains("malformed"));
    assert!(
        app.storage
            .group_imports(group, 10)
            .await
            .unwrap()
            .is_empty(),
        "no job"
    );
    // The path and the quote arrive (reqwest escapes the quote; a browser would send %22).
    let web = post("../../evil\"name.xlsx").await;
    assert_eq!(
        web.status(),
        StatusCode::SEE_OTHER,
        "{}",
        web.text().await.unwrap_or_default()
    );
    let web_job = app.latest_job(&app.client, group).await;

    // Stored as is: the command line takes the name from the path, and a Unix file name may
    // hold quotes and line breaks.
    let raw_job = app
        .storage
        .enqueue_import(roster::storage::NewImport::plain(
            group,
            "Maria Master",
            evil,
            &csv,
        ))
        .await
        .unwrap();
    for job in [web_job, raw_job] {
        assert_eq!(
            app.wait_for_import(&app.client, job).await["state"],
            "finished"
        );
        let download = app.get(&format!("/admin/imports/{job}/result")).await;
        assert_eq!(download.status(), StatusCode::OK);
        let dispositions: Vec<&str> = download
            .headers()
            .get_all(header::CONTENT_DISPOSITION)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(dispositions.len(), 1, "{dispositions:?}");
        assert_safe_disposition(dispositions[0]);
        assert_security_headers("the download", &download);
    }
    // The web upload's name lost its path; the history shows both names escaped.
    let status = app.wait_for_import(&app.client, web_job).await;
    assert!(
        !status["file_name"].as_str().unwrap().contains('/'),
        "{status}"
    );
    let page = app
        .get(&format!("/admin/groups/{group}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("evil&#34;name") && !page.contains("evil\"name"),
        "escaped in the page"
    );
    app.stop().await;
}
