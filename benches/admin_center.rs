//! Rerunnable benchmark: a large account (1,000 groups, 100,000 agents) and how fast the Admin
//! Center answers, how a deep page of a large group compares with its first (keyset paging),
//! and how long a bulk move of its 50,000 agents takes. `cargo bench --bench admin_center`
//! (SQLite); with ROSTER_TEST_POSTGRES_URL set, PostgreSQL too.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, MASTER_EMAIL, MASTER_PASSWORD, TestApp, browser};
use roster::domain::{AgentName, Email, hash_password, natural_key};
use roster::storage::NewAdmin;

const GROUPS: usize = 1_000;
const AGENTS: usize = 100_000;
const LARGE_GROUP_AGENTS: usize = 50_000;
const SAMPLES: usize = 20;
/// How deep into the large group the deep page starts.
const DEEP_PAGE_AT: usize = 40_000;

#[tokio::main]
async fn main() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn(backend).await else {
            continue;
        };
        println!("\n== {backend:?} ==");
        run(&app).await;
        app.stop().await;
    }
}

async fn run(app: &TestApp) {
    let started = Instant::now();
    let large_group = seed(app).await;
    println!(
        "seeded {GROUPS} groups and {AGENTS} agents in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let client = browser();
    let signed_in = app.login_with(&client, MASTER_EMAIL, MASTER_PASSWORD).await;
    assert_eq!(signed_in.status(), 303, "sign-in");
    for (label, path) in [
        ("Admin Center page (whole tree)", "/admin".to_owned()),
        (
            "large group opened (Properties + first page of 50,000 agents)",
            format!("/admin/groups/{large_group}"),
        ),
        (
            "tree filtered by a name",
            "/admin?q=agent%2099999".to_owned(),
        ),
    ] {
        sample(app, &client, label, &path).await;
    }
    deep_page(app, &client, large_group).await;
    bulk_move(app, &client, large_group).await;
}

/// Times `path` SAMPLES times; returns the median.
async fn sample(app: &TestApp, client: &reqwest::Client, label: &str, path: &str) -> Duration {
    let mut times = Vec::with_capacity(SAMPLES);
    let mut bytes = 0;
    for _ in 0..SAMPLES {
        let start = Instant::now();
        let response = app.get_with(client, path).await;
        assert_eq!(response.status(), 200, "{path}");
        bytes = response.bytes().await.expect("body").len();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{label}: median {:.1} ms, p95 {:.1} ms, {} KiB",
        ms(times[SAMPLES / 2]),
        ms(times[SAMPLES * 95 / 100]),
        bytes / 1024
    );
    times[SAMPLES / 2]
}

/// Follows the tree's "more" links through the large group down to its 40,000th agent, then
/// times that page against the first: with keyset paging a deep page costs what the first does.
async fn deep_page(app: &TestApp, client: &reqwest::Client, large_group: i64) {
    let first = format!("/admin/tree/groups/{large_group}/agents");
    let mut path = first.clone();
    let mut shown = 0;
    let walk = Instant::now();
    while shown < DEEP_PAGE_AT {
        let page = app
            .get_with(client, &path)
            .await
            .text()
            .await
            .expect("body");
        shown += page.matches("<li class=\"agent").count();
        let next = page
            .split("data-agents-url=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a next page");
        path = next.replace("&amp;", "&").replace("&#38;", "&");
    }
    println!(
        "walked {shown} agents page by page in {:.1} s",
        walk.elapsed().as_secs_f64()
    );
    let first = sample(
        app,
        client,
        "large group's first agents (tree, lazy)",
        &first,
    )
    .await;
    let label = format!("large group's agents after the {shown}th (tree, lazy)");
    let deep = sample(app, client, &label, &path).await;
    println!(
        "deep page ÷ first page: {:.2}",
        deep.as_secs_f64() / first.as_secs_f64()
    );
}

/// Moves every agent of the large group to another group from its Properties, as an
/// administrator would: the request stores the job, the server's worker runs it.
async fn bulk_move(app: &TestApp, client: &reqwest::Client, large_group: i64) {
    let target = app
        .count(&format!(
            "SELECT MAX(id) FROM agent_groups WHERE id <> {large_group}"
        ))
        .await
        .to_string();
    let properties = format!("/admin/groups/{large_group}");
    let csrf = app.csrf_from(client, &properties).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("action", "move"),
        ("target_group_id", target.as_str()),
        ("all", "1"),
        ("confirmed", "1"),
    ];
    let start = Instant::now();
    let answer = client
        .post(app.url(&format!("/admin/groups/{large_group}/agents/bulk")))
        .form(&fields)
        .send()
        .await
        .expect("POST");
    assert_eq!(answer.status(), 303, "the move is accepted");
    let accepted = start.elapsed();
    let done_sql = "SELECT COUNT(*) FROM bulk_jobs WHERE state = 'done'";
    while app.count(done_sql).await == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let finished = start.elapsed();
    let moved = app
        .count(&format!(
            "SELECT COUNT(*) FROM agents WHERE group_id = {target}"
        ))
        .await;
    assert!(moved >= LARGE_GROUP_AGENTS as i64, "every agent moved");
    println!(
        "bulk move of {LARGE_GROUP_AGENTS} agents: accepted in {:.2} s, done {:.2} s after \
         ({:.0} agents/s, each with its audit event)",
        accepted.as_secs_f64(),
        (finished - accepted).as_secs_f64(),
        LARGE_GROUP_AGENTS as f64 / (finished - accepted).as_secs_f64()
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// 10 regions × 10 countries × 9 teams (+ the 100 country groups, 10 regions) = 1,000 groups;
/// 50,000 agents in one team, the rest spread over the others. Written with multi-row INSERTs:
/// seeding is not what is measured.
async fn seed(app: &TestApp) -> i64 {
    let hash = hash_password(MASTER_PASSWORD);
    app.storage
        .create_admin(NewAdmin {
            email: &Email::parse(MASTER_EMAIL).unwrap(),
            name: &AgentName::parse("Maria Master").unwrap(),
            password_hash: &hash,
            is_master: true,
            group_ids: &[],
        })
        .await
        .unwrap();
    let mut pool = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let mut leaves = Vec::new();
    let mut made = 0;
    for region in 0..10 {
        let region_id = group(&mut pool, None, &format!("Region {region}")).await;
        made += 1;
        for country in 0..10 {
            let country_id = group(
                &mut pool,
                Some(region_id),
                &format!("Country {region}-{country}"),
            )
            .await;
            made += 1;
            for team in 0..9 {
                if made >= GROUPS {
                    break;
                }
                leaves.push(
                    group(
                        &mut pool,
                        Some(country_id),
                        &format!("Team {region}-{country}-{team}"),
                    )
                    .await,
                );
                made += 1;
            }
        }
    }
    let large = leaves[0];
    let mut batch = Vec::new();
    for n in 0..AGENTS {
        let group_id = if n < LARGE_GROUP_AGENTS {
            large
        } else {
            leaves[1 + n % (leaves.len() - 1)]
        };
        batch.push((group_id, n));
        if batch.len() == 500 || n + 1 == AGENTS {
            insert_agents(&mut pool, &batch, &hash).await;
            batch.clear();
        }
    }
    large
}

async fn group(pool: &mut sqlx::AnyConnection, parent: Option<i64>, name: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO agent_groups (parent_id, name, name_key, description, enabled, created_at) VALUES ($1, $2, $3, '', 1, 0) RETURNING id",
    )
    .bind(parent)
    .bind(name)
    .bind(name.to_lowercase())
    .fetch_one(pool)
    .await
    .unwrap();
    id
}

async fn insert_agents(pool: &mut sqlx::AnyConnection, batch: &[(i64, usize)], hash: &str) {
    let values: Vec<String> = (0..batch.len())
        .map(|i| {
            format!(
                "(${}, ${}, ${}, ${}, ${}, $1, 1, 0, 0)",
                5 * i + 2,
                5 * i + 3,
                5 * i + 4,
                5 * i + 5,
                5 * i + 6
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO agents (group_id, sort_key, name, email, email_key, password_hash, enabled, created_at, updated_at) VALUES {}",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(hash);
    for (group_id, n) in batch {
        let email = format!("agent{n}@example.com");
        let name = format!("Agent {n:05}");
        query = query
            .bind(*group_id)
            .bind(natural_key(&name))
            .bind(name)
            .bind(email.clone())
            .bind(email);
    }
    query.execute(pool).await.unwrap();
}
