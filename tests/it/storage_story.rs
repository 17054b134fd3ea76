//! One story through the storage interface, told on SQLite and on PostgreSQL: the two sides
//! must behave the same, down to uniqueness, leases and exactly-once batches.

use crate::common::{Backend, fresh_database};
use roster::{
    domain::{AgentName, Description, Email, GroupName, Nickname},
    storage::{
        AgentUpdate, BatchWritten, JobEnd, JobPhase, JobState, NewAdmin, NewAgent, NewImport,
        NewImportRow, OutcomeKind, PendingAgent, PendingRow, SessionExpiry, SessionKind, Storage,
        StorageError, StoredOutcome, WriteRefusals,
    },
};

async fn open(backend: Backend) -> Option<(Storage, String, Option<tempfile::TempDir>)> {
    let (url, dir) = fresh_database(backend).await?;
    let storage = Storage::connect(&url).await.expect("connect");
    storage.migrate().await.expect("migrate");
    storage
        .migrate()
        .await
        .expect("migrating twice is harmless");
    Some((storage, url, dir))
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

on_both_backends! {
    async fn storage_story(backend) {
        let Some((storage, url, _dir)) = open(backend).await else { return };
        storage.ping().await.unwrap();

        // Administrators: unique email without case.
        assert!(!storage.master_admin_exists().await.unwrap());
        let name = AgentName::parse("Maria").unwrap();
        let master = storage
            .create_admin(NewAdmin { email: &email("Maria@Example.com"), name: &name, password_hash: "h", is_master: true, group_ids: &[] })
            .await
            .unwrap();
        assert!(storage.master_admin_exists().await.unwrap());
        let again = storage
            .create_admin(NewAdmin { email: &email("maria@example.COM"), name: &name, password_hash: "h", is_master: false, group_ids: &[] })
            .await;
        assert!(matches!(again, Err(StorageError::Duplicate)));
        assert_eq!(storage.admin_by_email(&email("MARIA@example.com")).await.unwrap().unwrap().id, master);

        // Groups: sibling names unique without case, the same name allowed elsewhere.
        let none = Description::parse("").unwrap();
        let support = storage.create_group(None, &GroupName::parse("Support").unwrap(), &none).await.unwrap();
        let tier1 = storage.create_group(Some(support), &GroupName::parse("Tier 1").unwrap(), &none).await.unwrap();
        assert!(matches!(
            storage.create_group(Some(support), &GroupName::parse("TIER 1").unwrap(), &none).await,
            Err(StorageError::Duplicate)
        ));
        assert!(matches!(
            storage.create_group(None, &GroupName::parse("support").unwrap(), &none).await,
            Err(StorageError::Duplicate)
        ));
        storage.create_group(None, &GroupName::parse("Tier 1").unwrap(), &none).await.expect("same name, other parent");
        storage.update_admin(master, &email("Maria@Example.com"), &name, true, &[support, tier1]).await.unwrap();
        assert_eq!(storage.admin_group_ids(master).await.unwrap(), vec![support, tier1]);

        // Agents.
        let ann = AgentName::parse("Ann").unwrap();
        let nick = Nickname::parse("").unwrap();
        let agent = storage
            .create_agent(NewAgent { group_id: tier1, name: &ann, nickname: &nick, email: &email("ann@example.com"), description: &none, password_hash: "x", enabled: true, must_change_password: false })
            .await
            .unwrap();
        let duplicate = storage
            .create_agent(NewAgent { group_id: support, name: &ann, nickname: &nick, email: &email("ANN@example.com"), description: &none, password_hash: "x", enabled: true, must_change_password: false })
            .await;
        assert!(matches!(duplicate, Err(StorageError::Duplicate)));
        let groups = storage.all_groups().await.unwrap();
        assert_eq!(groups.iter().find(|g| g.id == tier1).unwrap().agent_count, 1);
        assert!(!storage.delete_empty_group(tier1).await.unwrap(), "a group with an agent stays");
        storage
            .update_agent(agent, AgentUpdate { group_id: tier1, name: &ann, nickname: &nick, email: &email("ann@example.com"), description: &none, enabled: false, must_change_password: false })
            .await
            .unwrap();
        assert!(!storage.agent_by_id(agent).await.unwrap().unwrap().is_enabled());
        assert_eq!(storage.existing_agent_emails(&["ann@example.com", "bob@example.com"]).await.unwrap(), vec!["ann@example.com"]);

        // Sessions expire by idle time or age.
        storage.create_session("hash", SessionKind::Admin, master, "csrf", 1_000).await.unwrap();
        assert_eq!(storage.session("hash").await.unwrap().unwrap().kind(), Some(SessionKind::Admin));
        storage.create_session("token", SessionKind::Api, master, "csrf", 1_000).await.unwrap();
        let expiry = |idle_before, token_idle_before| SessionExpiry { idle_before, created_before: 0, token_idle_before };
        assert_eq!(storage.delete_expired_sessions(expiry(999, 999)).await.unwrap(), 0);
        assert_eq!(storage.delete_expired_sessions(expiry(1_001, 999)).await.unwrap(), 1, "the browser's session, not the token");
        assert!(storage.session("token").await.unwrap().is_some());
        assert_eq!(storage.delete_expired_sessions(expiry(1_001, 1_001)).await.unwrap(), 1, "an unused token in the end");

        // Import jobs: one claim at a time; the lease decides; a batch applies exactly once.
        let error = |message: &str| StoredOutcome { kind: OutcomeKind::Error, message: message.into() };
        let job = storage.enqueue_import(NewImport::plain(tier1, "Maria", "agents.xlsx", b"file")).await.unwrap();
        let claimed = storage.claim_job("worker-a", 60, None).await.unwrap().expect("a queued job is claimed");
        assert_eq!((claimed.id, claimed.stalled_attempts, claimed.upload.as_deref()), (job, 1, Some(&b"file"[..])));
        assert!(storage.claim_job("worker-b", 60, None).await.unwrap().is_none(), "held by worker-a");
        assert!(storage.set_phase(job, "worker-a", JobPhase::Checking).await.unwrap());
        assert!(!storage.set_phase(job, "worker-b", JobPhase::Checking).await.unwrap(), "not the owner");
        let rows = [
            NewImportRow { row_no: 2, outcome: None, group_id: Some(tier1), agent_id: None },
            NewImportRow::decided(3, error("bad")),
            NewImportRow { row_no: 4, outcome: None, group_id: Some(tier1), agent_id: None },
            NewImportRow { row_no: 5, outcome: None, group_id: Some(tier1), agent_id: None },
        ];
        assert!(!storage.record_validation(job, "worker-b", &rows).await.unwrap(), "not the owner");
        assert!(storage.record_validation(job, "worker-a", &rows).await.unwrap());
        let pending_numbers = |rows: Vec<PendingRow>| rows.into_iter().map(|row| row.row_no).collect::<Vec<_>>();
        assert_eq!(pending_numbers(storage.pending_rows(job).await.unwrap()), vec![2, 4, 5]);
        let running = storage.import_job(job).await.unwrap().unwrap();
        assert_eq!((running.state, running.phase, running.total_rows), (JobState::Running, Some(JobPhase::Checking), Some(4)));
        let batch = [
            PendingAgent { row_no: 2, group_id: tier1, name: "Bob".into(), email: email("bob@example.com"), password_hash: Some("h".into()), nickname: None, description: None, update: None, must_change_password: false },
            PendingAgent { row_no: 4, group_id: tier1, name: "Ann again".into(), email: email("Ann@example.com"), password_hash: Some("h".into()), nickname: None, description: None, update: None, must_change_password: false },
        ];
        let taken = error("taken");
        let refusals = WriteRefusals { taken: taken.clone(), vanished: error("vanished") };
        // Pending rows in chunks of two, each claimed by one process at a time.
        assert!(!storage.start_creating(job, "worker-b", 2).await.unwrap(), "not the owner");
        assert!(storage.start_creating(job, "worker-a", 2).await.unwrap());
        assert!(storage.start_creating(job, "worker-a", 2).await.unwrap(), "a resumed job keeps its chunks");
        assert_eq!(storage.open_chunks(job).await.unwrap(), 2);
        let first = storage.claim_chunk("worker-a", 60, job).await.unwrap().expect("the first chunk");
        assert_eq!((first.chunk_no, first.first_row, first.last_row), (0, 2, 4));
        assert_eq!(pending_numbers(storage.chunk_rows(&first).await.unwrap()), vec![2, 4]);
        assert_eq!(storage.job_needing_help("worker-b").await.unwrap(), Some(job));
        let second = storage.claim_chunk("worker-b", 60, job).await.unwrap().expect("the next chunk, for a helper");
        assert_eq!((second.chunk_no, second.first_row, second.last_row), (1, 5, 5));
        assert!(storage.claim_chunk("worker-c", 60, job).await.unwrap().is_none(), "both are held");
        assert_eq!(storage.job_needing_help("worker-c").await.unwrap(), None);
        assert_eq!(storage.processes_working(job).await.unwrap(), 2);
        assert_eq!(storage.apply_batch(&first, "worker-b", 60, &batch, &refusals).await.unwrap(), None, "a stranger writes nothing");
        assert_eq!(storage.apply_batch(&first, "worker-a", 60, &batch, &refusals).await.unwrap(), Some(BatchWritten { created: 1, updated: 0, refused: 1 }));
        assert!(storage.finish_chunk(&first, "worker-a").await.unwrap());
        assert!(!storage.finish_chunk(&first, "worker-a").await.unwrap(), "once");
        assert_eq!(storage.open_chunks(job).await.unwrap(), 1);
        assert_eq!(storage.chunk_writers(job).await.unwrap(), [("worker-a".to_owned(), 1)]);
        assert_eq!(pending_numbers(storage.pending_rows(job).await.unwrap()), vec![5]);
        let outcomes = storage.row_outcomes(job).await.unwrap();
        assert_eq!(outcomes[0], (2, Some(StoredOutcome { kind: OutcomeKind::Success, message: String::new() })));
        assert_eq!(outcomes[2], (4, Some(taken.clone())));
        assert_eq!(storage.row_errors(job, 10).await.unwrap(), vec![(3, error("bad")), (4, taken)]);

        // A graceful stop gives the job back at once, and its attempt does not count as stalled.
        assert!(storage.release_job(job, "worker-a").await.unwrap());
        let resumed = storage.claim_job("worker-b", 60, None).await.unwrap().expect("a released job is taken at once");
        assert_eq!(resumed.stalled_attempts, 1, "progress reset the count; the stop gave its attempt back");
        assert!(!storage.renew_lease(job, "worker-a", 60).await.unwrap(), "worker-a has let it go");

        // Another process takes over only once the lease has run out.
        assert!(storage.renew_lease(job, "worker-b", -10).await.unwrap());
        let taken_over = storage.claim_job("worker-c", 60, None).await.unwrap().expect("expired lease is taken over");
        assert_eq!(taken_over.stalled_attempts, 2, "no progress since the last claim");
        assert!(!storage.finish_job(job, "worker-b", b"result", 60, JobEnd::Finished).await.unwrap());

        // Rows not reached get an outcome all at once; the job ends with its result file.
        let unreached = StoredOutcome { kind: OutcomeKind::NotImported, message: "stopped".into() };
        assert!(!storage.settle_pending_rows(job, "worker-b", &unreached).await.unwrap(), "not the owner");
        assert!(storage.settle_pending_rows(job, "worker-c", &unreached).await.unwrap());
        assert!(storage.pending_rows(job).await.unwrap().is_empty());
        assert_eq!(storage.open_chunks(job).await.unwrap(), 0, "the end closed every chunk");
        let late = [PendingAgent { row_no: 5, group_id: tier1, name: "Late".into(), email: email("late@example.com"), password_hash: Some("h".into()), nickname: None, description: None, update: None, must_change_password: false }];
        assert_eq!(storage.apply_batch(&second, "worker-b", 60, &late, &refusals).await.unwrap(), None, "a closed chunk takes no batch");
        assert!(storage.finish_job(job, "worker-c", b"result", 60, JobEnd::EndedEarly("ended early")).await.unwrap());
        let ended = storage.import_job(job).await.unwrap().unwrap();
        assert_eq!((ended.created_count, ended.failed_count, ended.not_imported_count, ended.done_rows), (1, 2, 1, 4));
        assert_eq!((ended.state, ended.error.as_deref(), ended.phase), (JobState::Failed, Some("ended early"), None));
        assert!(ended.has_result && !ended.has_upload);
        assert_eq!(storage.import_result(job).await.unwrap().as_deref(), Some(&b"result"[..]));
        let erased = storage.claim_job("worker-d", 60, Some(job)).await.unwrap();
        assert!(erased.is_none(), "an ended job is never claimed again");

        // A state this version does not know is an error, never taken for "failed".
        let mut raw = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
        sqlx::query("UPDATE import_jobs SET state = 'paused' WHERE id = $1").bind(job).execute(&mut raw).await.unwrap();
        assert!(matches!(storage.import_job(job).await, Err(StorageError::Unknown { column: "import_jobs.state", .. })));
        sqlx::query("UPDATE import_jobs SET state = 'failed' WHERE id = $1").bind(job).execute(&mut raw).await.unwrap();
        assert_eq!(storage.group_imports(tier1, 10).await.unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn email_keys_stored_before_idna_are_rewritten_once(backend) {
        let Some((storage, url, _dir)) = open(backend).await else { return };
        let none = Description::parse("").unwrap();
        let group = storage.create_group(None, &GroupName::parse("Support").unwrap(), &none).await.unwrap();
        let (name, nickname, address) = (AgentName::parse("Zoe").unwrap(), Nickname::parse("").unwrap(), email("zoe@bücher.de"));
        let new = NewAgent { group_id: group, name: &name, nickname: &nickname, email: &address, description: &none, password_hash: "h", enabled: true, must_change_password: false };
        let zoe = storage.create_agent(new).await.unwrap();
        // As an earlier version stored it: the domain as typed, and no record of the fix.
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
        sqlx::query("UPDATE agents SET email_key = 'zoe@bücher.de' WHERE id = $1").bind(zoe).execute(&mut db).await.unwrap();
        sqlx::query("DELETE FROM data_fixes").execute(&mut db).await.unwrap();
        assert!(storage.agent_by_email(&email("zoe@xn--bcher-kva.de")).await.unwrap().is_none(), "the old key is not found");

        storage.migrate().await.unwrap();
        let found = storage.agent_by_email(&email("zoe@xn--bcher-kva.de")).await.unwrap().expect("rewritten");
        assert_eq!((found.id, found.email.as_str()), (zoe, "zoe@bücher.de"), "shown as written");
        let (fixes,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM data_fixes WHERE name = 'idna_email_keys'").fetch_one(&mut db).await.unwrap();
        assert_eq!(fixes, 1, "recorded, so it runs once");
    }
}
