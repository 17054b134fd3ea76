//! The Admin Center foundation through HTTP: setup, sign-in, CSRF, throttling, the tree's
//! CRUD and its refusals, rights, agent sign-in. Each runs on SQLite and on PostgreSQL.

use crate::common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser, location};
use reqwest::StatusCode;

on_both_backends! {
    async fn setup_link_works_exactly_once(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        let setup = app.setup_url.clone().expect("setup link on first start");
        let login = app.get("/login").await.text().await.unwrap();
        assert!(login.contains("prints a one-time setup link in its log"), "{login}");
        let path = setup.strip_prefix(&app.base).unwrap().to_owned();
        assert_eq!(app.get("/setup/not-the-token").await.status(), StatusCode::NOT_FOUND);

        // A bad form keeps the token alive and says what is wrong beside the field.
        let response = app.post_form(&path, &path, &[("name", "M"), ("email", "nope"), ("password", "x"), ("confirm", "x")]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains("is not a valid address"), "{page}");
        assert!(page.contains("value=\"nope\""), "input kept");

        app.setup_master().await;
        assert_eq!(app.get("/admin").await.status(), StatusCode::OK, "signed in after setup");
        let used = browser().get(&setup).send().await.unwrap();
        assert_eq!(used.status(), StatusCode::NOT_FOUND, "the link is dead");
        assert!(used.text().await.unwrap().contains("Roster is set up already"), "and says why");
        let login = browser().get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        assert!(!login.contains("setup-pending"), "no setup hint once set up");
        app.stop().await;
    }
}

on_both_backends! {
    async fn sign_in_and_out(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let client = browser();
        assert_eq!(location(&app.get_with(&client, "/admin").await), "/login", "anonymous goes to sign-in");

        let wrong = app.login_with(&client, MASTER_EMAIL, "wrong password").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(wrong.text().await.unwrap().contains("The email or password is not right."));

        let right = app.login_with(&client, "MASTER@example.com", MASTER_PASSWORD).await;
        assert_eq!(right.status(), StatusCode::SEE_OTHER);
        let cookie = right.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let page = app.get_with(&client, "/admin").await.text().await.unwrap();
        assert!(page.contains("Maria Master") && page.contains("Agent groups"));

        let out = app.post_form_with(&client, "/admin", "/logout", &[]).await;
        assert_eq!(location(&out), "/login");
        assert_eq!(location(&app.get_with(&client, "/admin").await), "/login", "signed out");
        app.stop().await;
    }
}

#[tokio::test]
async fn session_id_is_rotated_at_sign_in() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let client = browser();
    let first = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
    let first_cookie = first
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    // Signing in again from a signed-in browser: the form carries the session's token.
    let second = app
        .post_form_with(
            &client,
            "/admin",
            "/login",
            &[("email", MASTER_EMAIL), ("password", MASTER_PASSWORD)],
        )
        .await;
    let second_cookie = second
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        first_cookie, second_cookie,
        "a new session id at each sign-in"
    );
    // The old token no longer works.
    let old_token = first_cookie.split(';').next().unwrap().to_owned();
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = replay
        .get(app.url("/admin"))
        .header("cookie", old_token)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");
    app.stop().await;
}

#[tokio::test]
async fn sign_in_is_throttled_per_account() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let client = browser();
    for _ in 0..5 {
        assert_eq!(
            app.login_with(&client, MASTER_EMAIL, "guess")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
    assert_eq!(
        throttled.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(throttled.headers().contains_key("retry-after"));
    assert!(
        throttled
            .text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts")
    );
    app.stop().await;
}

on_both_backends! {
    async fn posts_without_a_valid_csrf_token_are_refused(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let no_token = app.client.post(app.url("/admin/groups")).form(&[("name", "Sneaky"), ("parent_id", "")]).send().await.unwrap();
        assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
        let wrong = app.client.post(app.url("/admin/groups")).form(&[("csrf", "forged"), ("name", "Sneaky"), ("parent_id", "")]).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        let anonymous = browser().post(app.url("/login")).form(&[("email", MASTER_EMAIL), ("password", MASTER_PASSWORD)]).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::FORBIDDEN, "sign-in form needs its token too");
        assert!(!app.get("/admin").await.text().await.unwrap().contains("Sneaky"), "nothing was created");
        app.stop().await;
    }
}

on_both_backends! {
    async fn groups_are_created_renamed_moved_and_deleted(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier1 = app.create_group(Some(support), "Tier 1").await;
        let tier2 = app.create_group(Some(support), "Tier 2").await;

        // Sibling names are unique without case; the message sits beside the field.
        let page = format!("/admin/groups/{support}");
        let duplicate = app.post_form(&page, "/admin/groups", &[("parent_id", &support.to_string()), ("name", "tier 1")]).await;
        assert_eq!(duplicate.status(), StatusCode::OK);
        assert!(duplicate.text().await.unwrap().contains("A group with this name already exists here"));

        // Rename, and move Tier 2 under Tier 1.
        let edit = format!("/admin/groups/{tier2}");
        let moved = app.post_form(&edit, &edit, &[("name", "Escalations"), ("description", "Hard cases"), ("enabled", "on"), ("parent_id", &tier1.to_string())]).await;
        assert_eq!(moved.status(), StatusCode::SEE_OTHER);
        let shown = app.get(&edit).await.text().await.unwrap();
        assert!(shown.contains("Support / Tier 1 / Escalations"), "{shown}");

        // A group cannot move under its own descendant.
        let edit1 = format!("/admin/groups/{tier1}");
        let cycle = app.post_form(&edit1, &edit1, &[("name", "Tier 1"), ("enabled", "on"), ("parent_id", &tier2.to_string())]).await;
        assert_eq!(cycle.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(cycle.text().await.unwrap().contains("cannot move into itself or a group below it"));

        // With a subgroup or an agent, not deleted until its name is typed.
        let refused = app.post_form(&edit1, &format!("/admin/groups/{tier1}/delete"), &[]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let agent = app.create_agent(tier2, "Ann Lee", "ann@example.com", "password123").await;
        let refused = app.post_form(&edit, &format!("/admin/groups/{tier2}/delete"), &[]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains("Type the group&#39;s name"));
        assert_eq!(app.get(&edit).await.status(), StatusCode::OK, "still there");
        let agent_page = format!("/admin/agents/{agent}");
        assert_eq!(app.post_form(&agent_page, &format!("/admin/agents/{agent}/delete"), &[]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.post_form(&edit, &format!("/admin/groups/{tier2}/delete"), &[]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get(&edit).await.status(), StatusCode::NOT_FOUND, "deleted");
        app.stop().await;
    }
}

on_both_backends! {
    async fn agents_are_managed_and_emails_unique_without_case(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let other = app.create_group(None, "Sales").await;
        let agent = app.create_agent(group, "Ann Lee", "Ann.Lee@Example.com", "password123").await;

        let new = format!("/admin/groups/{group}/agents/new");
        let action = format!("/admin/groups/{group}/agents");
        let taken = app.post_form(&new, &action, &[("name", "Other Ann"), ("email", " ann.lee@EXAMPLE.com "), ("password", "password123"), ("group_id", &group.to_string())]).await;
        assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = taken.text().await.unwrap();
        assert!(page.contains("An agent with this email already exists"), "{page}");
        assert!(page.contains("value=\"Other Ann\""), "input kept");

        let invalid = app.post_form(&new, &action, &[("name", ""), ("email", "x@y"), ("password", "short"), ("group_id", &group.to_string())]).await;
        let page = invalid.text().await.unwrap();
        assert!(page.contains("Name is required") && page.contains("is not a valid address") && page.contains("at least 8 are required"), "{page}");

        // Edit: move to Sales and disable.
        let edit = format!("/admin/agents/{agent}");
        let saved = app.post_form(&edit, &edit, &[("name", "Ann Lee-Smith"), ("nickname", "Annie"), ("email", "ann.lee@example.com"), ("group_id", &other.to_string())]).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let shown = app.get(&edit).await.text().await.unwrap();
        assert!(shown.contains("Ann Lee-Smith") && shown.contains("Sales") && !shown.contains("name=\"enabled\" value=\"on\" checked"));

        let short = app.post_form(&edit, &format!("/admin/agents/{agent}/password"), &[("password", "short")]).await;
        assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.post_form(&edit, &format!("/admin/agents/{agent}/password"), &[("password", "a new password")]).await.status(), StatusCode::SEE_OTHER);
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_administrator_sees_only_their_groups(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let europe = app.create_group(None, "Europe").await;
        let paris = app.create_group(Some(europe), "Paris").await;
        let asia = app.create_group(None, "Asia").await;
        let tokyo_agent = app.create_agent(asia, "Kenji", "kenji@example.com", "password123").await;
        let paris_agent = app.create_agent(paris, "Amelie", "amelie@example.com", "password123").await;
        let admin = app.admin_of("eu-admin@example.com", &[europe]).await;

        let tree = app.get_with(&admin, "/admin").await.text().await.unwrap();
        assert!(tree.contains("Europe") && tree.contains("Paris"));
        assert!(!tree.contains("Asia") && !tree.contains("Master Administrators"), "{tree}");
        assert_eq!(app.get_with(&admin, &format!("/admin/groups/{paris}")).await.status(), StatusCode::OK);
        assert_eq!(app.get_with(&admin, &format!("/admin/agents/{paris_agent}")).await.status(), StatusCode::OK);
        for path in [
            format!("/admin/groups/{asia}"),
            format!("/admin/agents/{tokyo_agent}"),
            format!("/admin/groups/{asia}/import"),
            format!("/admin/tree/groups/{asia}/agents"),
            format!("/api/v1/groups/{asia}/imports"),
            "/admin/admins/new".to_owned(),
            "/admin/admins/1".to_owned(),
        ] {
            assert_eq!(app.get_with(&admin, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
        // Nor can they write there, or create a top-level group.
        let response = app.post_form_with(&admin, "/admin", &format!("/admin/agents/{tokyo_agent}/delete"), &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = app.post_form_with(&admin, "/admin", "/admin/groups", &[("parent_id", ""), ("name", "Rogue")]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = app.post_form_with(&admin, "/admin", "/admin/groups", &[("parent_id", &asia.to_string()), ("name", "Rogue")]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        // Moving their agent into another's group is refused beside the field.
        let edit = format!("/admin/agents/{paris_agent}");
        let response = app.post_form_with(&admin, &edit, &edit, &[("name", "Amelie"), ("email", "amelie@example.com"), ("group_id", &asia.to_string())]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        app.stop().await;
    }
}

on_both_backends! {
    async fn agents_sign_in_with_their_password(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let agent = app.create_agent(group, "Ann Lee", "ann@example.com", "password123").await;
        let client = browser();
        let wrong = app.post_form_with(&client, "/agent/login", "/agent/login", &[("email", "ann@example.com"), ("password", "password124")]).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let right = app.post_form_with(&client, "/agent/login", "/agent/login", &[("email", "ANN@example.com"), ("password", "password123")]).await;
        assert_eq!(location(&right), "/agent");
        let home = app.get_with(&client, "/agent").await.text().await.unwrap();
        assert!(home.contains("Welcome, Ann Lee") && home.contains("Support"));
        assert_eq!(location(&app.get_with(&client, "/admin").await), "/login", "agents never reach the Admin Center");

        // Disabling the agent ends their session and refuses the next sign-in.
        let edit = format!("/admin/agents/{agent}");
        app.post_form(&edit, &edit, &[("name", "Ann Lee"), ("email", "ann@example.com"), ("group_id", &group.to_string())]).await;
        assert_eq!(location(&app.get_with(&client, "/agent").await), "/agent/login", "an agent's page sends to the agents' sign-in");
        let disabled = app.post_form_with(&client, "/agent/login", "/agent/login", &[("email", "ann@example.com"), ("password", "password123")]).await;
        assert_eq!(disabled.status(), StatusCode::UNAUTHORIZED);
        assert!(disabled.text().await.unwrap().contains("disabled"));
        app.stop().await;
    }
}

on_both_backends! {
    async fn agents_of_a_disabled_group_cannot_sign_in_and_are_signed_out(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let nights = app.create_group(Some(support), "Nights").await;
        let other = app.create_group(None, "Sales").await;
        app.create_agent(nights, "Ann Lee", "ann@example.com", "password123").await;
        app.create_agent(other, "Bob Ray", "bob@example.com", "password123").await;
        let agent_login = |client: reqwest::Client, email: &'static str| {
            let app = &app;
            async move {
                app.post_form_with(&client, "/agent/login", "/agent/login", &[("email", email), ("password", "password123")]).await
            }
        };
        let ann = browser();
        let bob = browser();
        assert_eq!(location(&agent_login(ann.clone(), "ann@example.com").await), "/agent");
        assert_eq!(location(&agent_login(bob.clone(), "bob@example.com").await), "/agent");

        // Disabling Support, above Ann's group, ends her session at once.
        let edit = format!("/admin/groups/{support}");
        let page = app.get(&edit).await.text().await.unwrap();
        assert!(page.contains("cannot sign in"), "the checkbox says what it does");
        let saved = app.post_form(&edit, &edit, &[("name", "Support"), ("description", ""), ("parent_id", "")]).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&app.get_with(&ann, "/agent").await), "/agent/login");
        let sessions = app.count("SELECT COUNT(*) FROM sessions WHERE kind = 'agent'").await;
        assert_eq!(sessions, 1, "Ann's session is deleted, Bob's kept");
        let refused = agent_login(browser(), "ann@example.com").await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(refused.text().await.unwrap().contains("Agents of your group cannot sign in while it is disabled"));
        assert_eq!(app.get_with(&bob, "/agent").await.status(), StatusCode::OK, "another group's agent stays signed in");

        // Enabled again, Support lets Ann in.
        app.post_form(&edit, &edit, &[("name", "Support"), ("description", ""), ("parent_id", ""), ("enabled", "on")]).await;
        assert_eq!(location(&agent_login(browser(), "ann@example.com").await), "/agent");
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_international_domain_signs_in_in_either_form(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Zoe Buch", "zoe@bücher.de", "password123").await;
        // What a browser's email field sends for that address: the domain in punycode.
        let client = browser();
        let signed = app.post_form_with(&client, "/agent/login", "/agent/login", &[("email", "zoe@xn--bcher-kva.de"), ("password", "password123")]).await;
        assert_eq!(location(&signed), "/agent");
        let home = app.get_with(&client, "/agent").await.text().await.unwrap();
        assert!(home.contains("zoe@bücher.de"), "shown as it was written");
        let twin = app.post_form(&format!("/admin/groups/{group}/agents/new"), &format!("/admin/groups/{group}/agents"), &[
            ("name", "Zoe Twin"), ("email", "ZOE@xn--BCHER-kva.de"), ("password", "password123"), ("group_id", &group.to_string()),
        ]).await;
        assert_eq!(twin.status(), StatusCode::UNPROCESSABLE_ENTITY, "one address in either form");
        assert!(twin.text().await.unwrap().contains("already exists"));
        app.stop().await;
    }
}

on_both_backends! {
    async fn each_sign_in_page_links_to_the_other(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        let anonymous = browser();
        assert_eq!(location(&app.get_with(&anonymous, "/agent").await), "/agent/login");
        let agents = app.get_with(&anonymous, "/agent/login").await.text().await.unwrap();
        assert!(agents.contains("href=\"/login\""), "{agents}");
        let admins = app.get_with(&anonymous, "/login").await.text().await.unwrap();
        assert!(admins.contains("href=\"/agent/login\""), "{admins}");
        app.stop().await;
    }
}

#[tokio::test]
async fn pages_carry_security_headers_and_errors_render_as_pages_and_json() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let page = app.get("/admin").await;
    let csp = page
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(
        page.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    let missing = app.get("/admin/groups/999999").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("<h1>Not found</h1>"));
    let api = browser()
        .get(app.url("/api/v1/imports/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["status"], 401);
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_multipart_post_to_a_form_route_still_needs_its_token() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.setup_master().await;
    let group = app.create_group(None, "Doomed").await;
    let form = reqwest::multipart::Form::new().text("name", "x");
    let response = app
        .client
        .post(app.url(&format!("/admin/groups/{group}/delete")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"Name,Email,Password\n".to_vec()).file_name("a.csv"),
    );
    let upload = app
        .client
        .post(app.url(&format!("/admin/groups/{group}/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        upload.status(),
        StatusCode::FORBIDDEN,
        "the upload handler wants its csrf field first"
    );
    assert_eq!(
        app.get(&format!("/admin/groups/{group}")).await.status(),
        StatusCode::OK,
        "still there"
    );
    app.stop().await;
}

on_both_backends! {
    async fn every_api_error_answers_in_json(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let api = reqwest::Client::new();
        let token = app.master_token().await;
        let malformed = api.post(app.url("/api/v1/tokens")).header("content-type", "application/json").body("{not json").send().await.unwrap();
        let not_a_number = api.get(app.url("/api/v1/imports/abc")).bearer_auth(&token).send().await.unwrap();
        let wrong_method = api.put(app.url("/api/v1/groups")).bearer_auth(&token).send().await.unwrap();
        for (what, answer, status) in [("malformed JSON", malformed, 400), ("a non-numeric id", not_a_number, 400), ("a wrong method", wrong_method, 405)] {
            assert_eq!(answer.status().as_u16(), status, "{what}");
            let allow = answer.headers().get("allow").cloned();
            assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{what}");
            let body: serde_json::Value = answer.json().await.unwrap();
            assert_eq!(body["error"]["status"], status, "{what}: {body}");
            assert!(!body["error"]["message"].as_str().unwrap().is_empty(), "{what}: {body}");
            if status == 405 {
                assert!(allow.is_some(), "the Allow header is kept");
            }
        }
        app.stop().await;
    }
}

on_both_backends! {
    async fn an_api_token_lasts_while_it_is_used(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let api = reqwest::Client::new();
        let token = app.master_token().await;
        let groups = || api.get(app.url("/api/v1/groups")).bearer_auth(&token).send();
        let day = 86_400;
        // Far past a browser session's idle time and maximum age, used every few weeks.
        for _ in 0..4 {
            app.clock.advance(29 * day);
            assert_eq!(groups().await.unwrap().status(), StatusCode::OK, "used within 30 days, it lasts");
        }
        app.clock.advance(31 * day);
        assert_eq!(groups().await.unwrap().status(), StatusCode::UNAUTHORIZED, "30 days unused, it is gone");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_taken_email_is_said_with_the_forms_other_errors(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        app.create_agent(group, "Ann Lee", "ann@example.com", "password123").await;
        let new_form = format!("/admin/groups/{group}/agents/new");
        let answer = app.post_form(&new_form, &format!("/admin/groups/{group}/agents"), &[
            ("name", ""), ("email", "ANN@example.com"), ("password", "short"), ("group_id", &group.to_string()),
        ]).await;
        assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = answer.text().await.unwrap();
        for error in ["Name is required", "An agent with this email already exists", "at least 8"] {
            assert!(page.contains(error), "{error} in {page}");
        }
        app.stop().await;
    }
}

on_both_backends! {
    async fn every_delete_asks_first_and_says_what_follows(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let group = app.create_group(None, "Support").await;
        let empty = app.create_group(Some(group), "Nights").await;
        let agent = app.create_agent(group, "Ann Lee", "ann@example.com", "password123").await;
        app.admin_of("lee@example.com", &[group]).await;
        let lee = app.storage.list_admins().await.unwrap().into_iter().find(|a| a.email == "lee@example.com").unwrap().id;

        let props = app.get(&format!("/admin/agents/{agent}")).await.text().await.unwrap();
        assert!(props.contains(&format!("href=\"/admin/agents/{agent}/delete\"")), "Properties link to the question, not a one-click delete");
        let asked = app.get(&format!("/admin/agents/{agent}/delete")).await.text().await.unwrap();
        assert!(asked.contains("Ann Lee &#60;ann@example.com&#62; will be deleted from Support and signed out at once"), "{asked}");
        assert!(asked.contains(&format!("action=\"/admin/agents/{agent}/delete\"")) && asked.contains(&format!("href=\"/admin/agents/{agent}\"")));
        assert!(app.storage.agent_by_id(agent).await.unwrap().is_some(), "asking deletes nothing");

        let full = app.get(&format!("/admin/groups/{group}/delete")).await.text().await.unwrap();
        assert!(full.contains("will be deleted with everything in it: 1 subgroup and 1 agent"), "{full}");
        assert!(full.contains("name=\"confirm_name\""), "{full}");
        let bare = app.get(&format!("/admin/groups/{empty}/delete")).await.text().await.unwrap();
        assert!(bare.contains("Support / Nights is empty"), "{bare}");
        let admin = app.get(&format!("/admin/admins/{lee}/delete")).await.text().await.unwrap();
        assert!(admin.contains("their sessions and API tokens end at once"), "{admin}");

        // The question's button does it.
        let page = format!("/admin/agents/{agent}/delete");
        assert_eq!(app.post_form(&page, &page, &[]).await.status(), StatusCode::SEE_OTHER);
        assert!(app.storage.agent_by_id(agent).await.unwrap().is_none());
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_scoped_administrators_top_group_says_where_it_sits_and_stays_there(backend) {
        let Some(app) = TestApp::spawn(backend).await else { return };
        app.setup_master().await;
        let support = app.create_group(None, "Support").await;
        let tier = app.create_group(Some(support), "Tier 1").await;
        let admin = app.admin_of("tier-admin@example.com", &[tier]).await;
        let page = format!("/admin/groups/{tier}");
        let shown = app.get_with(&admin, &page).await.text().await.unwrap();
        assert!(shown.contains("id=\"parent-outside\""), "{shown}");
        assert!(!shown.contains("id=\"parent_id\""), "no dropdown of groups they cannot choose: {shown}");
        assert!(!shown.contains(">Support<"), "the group above stays unseen");
        let saved = app.post_form_with(&admin, &page, &page, &[("name", "Tier One"), ("description", ""), ("enabled", "on")]).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let group = app.storage.all_groups().await.unwrap().into_iter().find(|g| g.id == tier).unwrap();
        assert_eq!((group.name.as_str(), group.parent_id), ("Tier One", Some(support)), "renamed, not moved");
        app.stop().await;
    }
}
