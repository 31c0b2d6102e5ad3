//! The store contract: what every [`Store`] backend must do, run against sled and against
//! PostgreSQL (a throwaway cluster the test starts, see `ats_tests::postgres`). A backend
//! that passes these behaves the same to the sync engine and the API.

use ats_host::store::*;
use ats_tests::postgres::PgCluster;
use std::collections::BTreeMap;
use std::sync::Arc;

mod journal;
mod queues;

#[tokio::test]
async fn sled_keeps_the_store_contract() {
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary().expect("sled"));
    keeps_the_contract(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_store_contract() {
    let cluster = PgCluster::start();
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&cluster.url, SecretBox::ephemeral()).await.expect("postgres store"),
    );
    keeps_the_contract(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_apply_once_when_nodes_start_together_and_a_newer_schema_is_refused() {
    let cluster = PgCluster::start();
    // Four nodes starting at once: each migration is applied once, all of them open.
    let nodes = futures::future::join_all(
        (0..4).map(|_| PgStore::connect(&cluster.url, SecretBox::ephemeral())),
    )
    .await;
    for node in &nodes {
        assert!(node.is_ok(), "{:?}", node.as_ref().err().map(ToString::to_string));
    }
    let client = cluster.client().await;
    let applied: i64 = client
        .query_one("SELECT count(*) FROM ats.schema_migrations", &[])
        .await
        .expect("migrations table")
        .get(0);
    let distinct: i64 = client
        .query_one("SELECT count(DISTINCT version) FROM ats.schema_migrations", &[])
        .await
        .expect("migrations table")
        .get(0);
    assert_eq!(applied, distinct, "a migration was recorded twice");

    client
        .execute("INSERT INTO ats.schema_migrations (version, name) VALUES (9999, 'future')", &[])
        .await
        .expect("insert");
    let refused = PgStore::connect(&cluster.url, SecretBox::ephemeral())
        .await
        .err()
        .expect("a schema from a newer build is refused");
    assert!(matches!(refused, StoreError::Format { .. }), "{refused}");
    assert!(refused.to_string().contains("9999"), "{refused}");
}

#[tokio::test]
async fn a_bad_postgres_url_says_what_is_wrong_without_the_password() {
    let error = PgStore::connect("postgres://ats:hunter2@127.0.0.1:1/ats", SecretBox::ephemeral())
        .await
        .err()
        .expect("nothing listens on port 1");
    let message = error.to_string();
    assert!(matches!(error, StoreError::Connect { .. }), "{message}");
    assert!(!message.contains("hunter2") && message.contains("127.0.0.1:1"), "{message}");

    let error = PgStore::connect("mysql://nope", SecretBox::ephemeral()).await.err().expect("bad");
    assert!(error.to_string().contains("postgres://"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_verifies_the_server_against_sslrootcert() {
    let (cluster, ca) = PgCluster::start_with_tls();
    let uses_tls = async |url: &str| -> Result<bool, StoreError> {
        let store = PgStore::connect(url, SecretBox::ephemeral()).await?;
        let client = store
            .pool()
            .get()
            .await
            .map_err(|e| StoreError::Backend { backend: "postgres", message: e.to_string() })?;
        let row = client
            .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
            .await
            .map_err(StoreError::from)?;
        Ok(row.get::<_, bool>(0))
    };
    let verified = format!("{}?sslmode=verify-full&sslrootcert={}", cluster.url, ca.display());
    assert!(uses_tls(&verified).await.expect("TLS with the test CA"), "the connection is TLS");
    assert!(!uses_tls(&cluster.url).await.expect("plain"), "no sslmode: plain, as before");
    // `require` verifies too: the throwaway CA is not among the public roots.
    let unverified = format!("{}?sslmode=require", cluster.url);
    let error = uses_tls(&unverified).await.expect_err("an unknown CA is refused");
    assert!(error.to_string().contains("certificate"), "{error}");
}

async fn keeps_the_contract(store: Arc<dyn Store>) {
    tenants_and_connections(&*store).await;
    runs_newest_first_with_filters_and_a_cursor(&*store).await;
    pages_commit_records_events_checkpoint_and_run(&*store).await;
    record_reads_filter_and_page_by_cursor(&*store).await;
    events_are_one_gap_free_sequence_under_concurrent_appends(store.clone()).await;
    reference_lists_and_connector_versions(&*store).await;
    deleting_a_connection_removes_its_records_but_not_its_events(&*store).await;
}

fn connection(id: &str, tenant: &str) -> Connection {
    Connection {
        id: id.into(),
        tenant_id: tenant.into(),
        connector_id: "sandbox".into(),
        pinned_version: None,
        pinned_sha256: None,
        name: id.into(),
        config: BTreeMap::from([("base_url".to_string(), "http://127.0.0.1:1".to_string())]),
        secret_names: vec!["api_key".into()],
        allow_private_networks: false,
        private_grant: BTreeMap::new(),
        status: ConnectionStatus::Active,
        status_detail: None,
        schedules: Schedules::default(),
        ats_webhook: None,
        rate_budget: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn run(id: &str, tenant: &str, connection: &str, state: RunState) -> Run {
    Run {
        id: id.into(),
        tenant_id: tenant.into(),
        connection_id: connection.into(),
        kind: SyncKind::Jobs,
        trigger: Trigger::Manual,
        state,
        full_scan: false,
        counts: RunCounts::default(),
        progress: RunProgress::default(),
        queued_at: 1,
        started_at: None,
        ended_at: None,
        duration_ms: None,
        error: None,
        parts: vec![],
        node: None,
    }
}

fn job(connection: &str, tenant: &str, remote: &str, status: &str, updated_at: i64) -> StoredJob {
    StoredJob {
        connection_id: connection.into(),
        tenant_id: tenant.into(),
        remote_id: remote.into(),
        code: None,
        title: format!("Job {remote}"),
        status: status.into(),
        location: None,
        country: Some("NL".into()),
        description: None,
        assigned_users: vec![],
        remote_updated_at: None,
        raw: serde_json::json!({"id": remote}),
        active: false,
        frozen: false,
        archived: false,
        last_seen_scan: Some("scan-1".into()),
        first_seen_at: updated_at,
        updated_at,
    }
}

fn candidate(connection: &str, tenant: &str, remote: &str, email: &str) -> StoredCandidate {
    StoredCandidate {
        connection_id: connection.into(),
        tenant_id: tenant.into(),
        remote_id: remote.into(),
        first_name: "Ada".into(),
        last_name: remote.into(),
        emails: vec![email.into()],
        phones: vec![],
        custom_fields: vec![],
        tags: vec![],
        source: None,
        company: None,
        title: None,
        location: None,
        remote_updated_at: None,
        first_seen_at: 1,
        updated_at: 1,
    }
}

fn page(connection: &str, tenant: &str, run_id: &str, jobs: Vec<StoredJob>) -> PageCommit {
    let events = jobs
        .iter()
        .map(|j| NewEvent {
            event_type: "job.updated",
            subject_id: j.remote_id.clone(),
            data: serde_json::json!({"title": j.title}),
        })
        .collect();
    PageCommit {
        connection_id: connection.into(),
        tenant_id: tenant.into(),
        kind: SyncKind::Jobs,
        jobs,
        stages: vec![],
        applications: vec![],
        candidates: vec![],
        events,
        checkpoint: Checkpoint {
            page_token: Some(format!("after-{run_id}")),
            ..Checkpoint::default()
        },
        // Finished: a store holds one unfinished run per (connection, sync).
        run: run(run_id, tenant, connection, RunState::Success),
    }
}

async fn tenants_and_connections(store: &dyn Store) {
    for (id, name) in [("t-b", "B"), ("t-a", "A")] {
        store
            .put_tenant(&Tenant { id: id.into(), name: name.into(), created_at: 1 })
            .await
            .expect("put tenant");
    }
    assert_eq!(store.tenant("t-a").await.expect("tenant").map(|t| t.name), Some("A".into()));
    assert_eq!(store.tenant("nobody").await.expect("tenant"), None);
    let ids: Vec<String> =
        store.tenants().await.expect("tenants").into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["t-a", "t-b"]);

    let secrets = Secrets(BTreeMap::from([("api_key".to_string(), "s3cret".to_string())]));
    store.put_connection(&connection("c-1", "t-a"), Some(&secrets)).await.expect("put");
    store.put_connection(&connection("c-2", "t-b"), None).await.expect("put");
    // Saving without secrets keeps the stored ones.
    let mut renamed = connection("c-1", "t-a");
    renamed.name = "renamed".into();
    store.put_connection(&renamed, None).await.expect("put again");
    let with = store.connection_with_secrets("c-1").await.expect("read").expect("exists");
    assert_eq!(with.connection.name, "renamed");
    assert_eq!(with.secrets.0.get("api_key").map(String::as_str), Some("s3cret"));
    let without = store.connection_with_secrets("c-2").await.expect("read").expect("exists");
    assert!(without.secrets.0.is_empty());
    assert_eq!(store.connection("c-9").await.expect("read"), None);
    let of_a: Vec<String> =
        store.connections(Some("t-a")).await.expect("list").into_iter().map(|c| c.id).collect();
    assert_eq!(of_a, ["c-1"]);
    assert_eq!(store.connections(None).await.expect("list").len(), 2);
    assert_ne!(store.inbound_token("c-1"), store.inbound_token("c-2"));
}

async fn runs_newest_first_with_filters_and_a_cursor(store: &dyn Store) {
    for (id, connection, state) in [
        ("run_001", "c-1", RunState::Success),
        ("run_002", "c-2", RunState::Failed),
        ("run_003", "c-1", RunState::Failed),
        ("run_004", "c-1", RunState::Success),
    ] {
        let tenant = if connection == "c-1" { "t-a" } else { "t-b" };
        store.put_run(&run(id, tenant, connection, state)).await.expect("put run");
    }
    let ids = |runs: Vec<Run>| runs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = RunFilter { limit: 10, ..RunFilter::default() };
    assert_eq!(
        ids(store.runs(&all).await.expect("runs")),
        ["run_004", "run_003", "run_002", "run_001"]
    );
    let first = RunFilter { connection_id: Some("c-1".into()), limit: 2, ..RunFilter::default() };
    assert_eq!(ids(store.runs(&first).await.expect("runs")), ["run_004", "run_003"]);
    let next = RunFilter { before: Some("run_003".into()), ..first.clone() };
    assert_eq!(ids(store.runs(&next).await.expect("runs")), ["run_001"]);
    let failed = RunFilter { state: Some(RunState::Failed), limit: 10, ..RunFilter::default() };
    assert_eq!(ids(store.runs(&failed).await.expect("runs")), ["run_003", "run_002"]);
    let of_b = RunFilter { tenant_id: Some("t-b".into()), limit: 10, ..RunFilter::default() };
    assert_eq!(ids(store.runs(&of_b).await.expect("runs")), ["run_002"]);
    let mut updated = run("run_001", "t-a", "c-1", RunState::Cancelled);
    updated.error = Some("stopped".into());
    store.put_run(&updated).await.expect("update run");
    assert_eq!(store.run("run_001").await.expect("run"), Some(updated));
    assert_eq!(store.run("run_999").await.expect("run"), None);
}

async fn pages_commit_records_events_checkpoint_and_run(store: &dyn Store) {
    assert_eq!(store.checkpoint("c-1", SyncKind::Jobs).await.expect("cp"), Checkpoint::default());
    let before = store.events(None, None, 1000).await.expect("events").len();
    let jobs = vec![job("c-1", "t-a", "j-1", "open", 10), job("c-1", "t-a", "j-2", "closed", 20)];
    let appended = store.commit_page(page("c-1", "t-a", "run_010", jobs)).await.expect("commit");
    assert_eq!(appended.len(), 2);
    assert!(appended[0].seq < appended[1].seq);
    assert_eq!(store.events(None, None, 1000).await.expect("events").len(), before + 2);
    let checkpoint = store.checkpoint("c-1", SyncKind::Jobs).await.expect("cp");
    assert_eq!(checkpoint.page_token.as_deref(), Some("after-run_010"));
    assert_eq!(
        store.checkpoint("c-1", SyncKind::Applications).await.expect("cp"),
        Checkpoint::default(),
        "checkpoints are per sync kind"
    );
    assert_eq!(store.run("run_010").await.expect("run").map(|r| r.state), Some(RunState::Success));
    assert_eq!(
        store.job("c-1", "j-1").await.expect("job").map(|j| j.title),
        Some("Job j-1".into())
    );

    // The customer's flags survive a later page that read them before they changed.
    let flagged = store
        .set_job_flags("c-1", "j-1", JobFlags { active: Some(true), frozen: None })
        .await
        .expect("flags")
        .expect("job exists");
    assert!(flagged.active && !flagged.frozen);
    assert_eq!(store.set_job_flags("c-1", "nope", JobFlags::default()).await.expect("flags"), None);
    let mut stale = job("c-1", "t-a", "j-1", "open", 30);
    stale.title = "Renamed".into();
    store.commit_page(page("c-1", "t-a", "run_011", vec![stale])).await.expect("commit");
    let stored = store.job("c-1", "j-1").await.expect("job").expect("exists");
    assert_eq!((stored.title.as_str(), stored.active), ("Renamed", true));

    // Jobs a full scan did not see.
    let mut archived = job("c-1", "t-a", "j-3", "closed", 40);
    archived.archived = true;
    archived.last_seen_scan = Some("scan-0".into());
    store.commit_page(page("c-1", "t-a", "run_012", vec![archived])).await.expect("commit");
    let missing: Vec<String> = store
        .jobs_missing_from_scan("c-1", "scan-2")
        .await
        .expect("missing")
        .into_iter()
        .map(|j| j.remote_id)
        .collect();
    assert_eq!(missing, ["j-1", "j-2"], "archived jobs are not missing");
    assert!(store.jobs_missing_from_scan("c-1", "scan-1").await.expect("missing").is_empty());

    // Stages come ordered by job then position; candidates and applications are stored.
    let mut with_stages = page("c-1", "t-a", "run_013", vec![]);
    with_stages.stages = [("s-b", Some("j-1"), 2), ("s-a", Some("j-1"), 1), ("s-g", None, 0)]
        .into_iter()
        .map(|(id, job_id, position)| StoredStage {
            connection_id: "c-1".into(),
            remote_id: id.into(),
            job_id: job_id.map(str::to_string),
            name: id.into(),
            position,
            updated_at: 1,
        })
        .collect();
    with_stages.candidates = vec![
        candidate("c-1", "t-a", "p-1", "Ada@Example.com"),
        candidate("c-1", "t-a", "p-2", "bob@example.com"),
    ];
    with_stages.applications = vec![StoredApplication {
        connection_id: "c-1".into(),
        tenant_id: "t-a".into(),
        remote_id: "a-1".into(),
        candidate_id: "p-1".into(),
        job_id: "j-1".into(),
        stage_id: Some("s-a".into()),
        status: "active".into(),
        remote_updated_at: None,
        stage_entered_at: 1,
        raw: serde_json::json!({}),
        first_seen_at: 1,
        updated_at: 1,
    }];
    store.commit_page(with_stages).await.expect("commit");
    let stages: Vec<String> =
        store.stages("c-1").await.expect("stages").into_iter().map(|s| s.remote_id).collect();
    assert_eq!(stages, ["s-g", "s-a", "s-b"]);
    assert_eq!(
        store.application("c-1", "a-1").await.expect("read").map(|a| a.candidate_id),
        Some("p-1".into())
    );
    assert_eq!(
        store.candidate("c-1", "p-2").await.expect("read").map(|c| c.last_name),
        Some("p-2".into())
    );

    // A page's stored records in one read: those that exist, by remote id, of that
    // connection only.
    let jobs = store.jobs_by_id("c-1", &["j-2", "j-1", "nope"]).await.expect("read");
    let mut found: Vec<(&str, &str)> =
        jobs.iter().map(|(id, job)| (id.as_str(), job.title.as_str())).collect();
    found.sort_unstable();
    assert_eq!(found, [("j-1", "Renamed"), ("j-2", "Job j-2")]);
    assert!(store.jobs_by_id("c-2", &["j-1"]).await.expect("read").is_empty());
    assert!(store.jobs_by_id("c-1", &[]).await.expect("read").is_empty());
    let applications = store.applications_by_id("c-1", &["a-1", "a-9"]).await.expect("read");
    assert_eq!(applications.keys().collect::<Vec<_>>(), ["a-1"]);
    assert_eq!(applications["a-1"].candidate_id, "p-1");
}

async fn record_reads_filter_and_page_by_cursor(store: &dyn Store) {
    let jobs: Vec<StoredJob> =
        (0..7).map(|i| job("c-2", "t-b", &format!("k-{i}"), "open", 100 + i)).collect();
    store.commit_page(page("c-2", "t-b", "run_020", jobs)).await.expect("commit");

    // Page through c-2's jobs two at a time with the cursor of the last one.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let filter = RecordFilter {
            connection_id: Some("c-2".into()),
            after: after.clone(),
            limit: 2,
            ..RecordFilter::default()
        };
        let batch = store.jobs(&filter).await.expect("jobs");
        let Some(last) = batch.last() else { break };
        after = Some(record_key(&last.connection_id, &last.remote_id));
        seen.extend(batch.into_iter().map(|j| j.remote_id));
    }
    assert_eq!(seen, (0..7).map(|i| format!("k-{i}")).collect::<Vec<_>>());

    let by = |filter: RecordFilter| async move {
        store
            .jobs(&filter)
            .await
            .expect("jobs")
            .into_iter()
            .map(|j| j.remote_id)
            .collect::<Vec<_>>()
    };
    let of_tenant_a =
        by(RecordFilter { tenant_id: Some("t-a".into()), limit: 100, ..Default::default() }).await;
    assert_eq!(of_tenant_a, ["j-1", "j-2", "j-3"], "another tenant's jobs never show");
    let recent = by(RecordFilter {
        connection_id: Some("c-2".into()),
        updated_after: Some(104),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(recent, ["k-5", "k-6"]);
    let closed = by(RecordFilter {
        fields: FieldFilter { status: Some("CLOSED".into()), ..Default::default() },
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(closed, ["j-2", "j-3"]);

    let candidates = store
        .candidates(&RecordFilter {
            fields: FieldFilter { email: Some("ada@example.com".into()), ..Default::default() },
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("candidates");
    assert_eq!(candidates.iter().map(|c| c.remote_id.as_str()).collect::<Vec<_>>(), ["p-1"]);
    let in_stage = store
        .applications(&RecordFilter {
            fields: FieldFilter { stage_id: Some("s-a".into()), ..Default::default() },
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("applications");
    assert_eq!(in_stage.len(), 1);
}

async fn events_are_one_gap_free_sequence_under_concurrent_appends(store: Arc<dyn Store>) {
    let start = store.events(None, None, 100_000).await.expect("events").len();
    let writers = (0..8).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..10 {
                let events = (0..3)
                    .map(|e| NewEvent {
                        event_type: "candidate.updated",
                        subject_id: format!("w{w}-{i}-{e}"),
                        data: serde_json::json!({}),
                    })
                    .collect();
                let tenant = if w % 2 == 0 { "t-a" } else { "t-b" };
                let appended = store.append_events(tenant, "c-1", events).await.expect("append");
                let seqs: Vec<u64> = appended.iter().map(|e| e.seq).collect();
                assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "one append is contiguous");
            }
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.expect("writer");
    }
    let events = store.events(None, None, 100_000).await.expect("events");
    assert_eq!(events.len(), start + 240);
    assert!(
        events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "the log is one gap-free sequence"
    );
    let last_but_ten = events[events.len() - 11].seq;
    let tail = store.events(None, Some(last_but_ten), 100).await.expect("tail");
    assert_eq!(tail.len(), 10);
    let of_b = store.events(Some("t-b"), Some(last_but_ten), 100).await.expect("tail");
    assert!(of_b.iter().all(|e| e.tenant_id == "t-b"));
    assert_eq!(store.events(None, None, 5).await.expect("limited").len(), 5);
}

async fn reference_lists_and_connector_versions(store: &dyn Store) {
    assert!(store.reference("c-1", "tags").await.expect("read").is_empty());
    let tags = vec![serde_json::json!({"id": "1", "name": "Senior"})];
    store.put_reference("c-1", "tags", &tags).await.expect("put");
    store.put_reference("c-1", "tags", &tags).await.expect("put again");
    assert_eq!(store.reference("c-1", "tags").await.expect("read"), tags);
    assert!(store.reference("c-1", "users").await.expect("read").is_empty());

    let record = ConnectorVersions {
        connector_id: "otys".into(),
        active_sha256: "ab".repeat(32),
        builds: vec![KnownBuild { sha256: "ab".repeat(32), version: "1.2.0".into() }],
        updated_at: 5,
    };
    store.put_connector_versions(&record).await.expect("put");
    store.put_connector_versions(&record).await.expect("put again");
    assert_eq!(store.connector_versions().await.expect("read"), vec![record]);
    store.flush().await.expect("flush");
}

async fn deleting_a_connection_removes_its_records_but_not_its_events(store: &dyn Store) {
    let events_before = store.events(None, None, 100_000).await.expect("events").len();
    assert!(store.delete_connection("c-1").await.expect("delete"));
    assert!(!store.delete_connection("c-1").await.expect("delete again"));
    assert_eq!(store.connection("c-1").await.expect("read"), None);
    assert_eq!(store.job("c-1", "j-1").await.expect("read"), None);
    assert!(store.stages("c-1").await.expect("stages").is_empty());
    assert_eq!(store.candidate("c-1", "p-1").await.expect("read"), None);
    assert_eq!(store.checkpoint("c-1", SyncKind::Jobs).await.expect("cp"), Checkpoint::default());
    assert!(store.reference("c-1", "tags").await.expect("read").is_empty());
    assert_eq!(
        store.job("c-2", "k-0").await.expect("read").map(|j| j.remote_id),
        Some("k-0".into())
    );
    assert_eq!(store.events(None, None, 100_000).await.expect("events").len(), events_before);
}

/// A node is woken when another node commits events (`LISTEN`/`NOTIFY`), not only at its
/// next tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_wakes_a_node_when_another_commits_events() {
    let cluster = PgCluster::start();
    let listening = PgStore::connect(&cluster.url, SecretBox::ephemeral()).await.expect("node a");
    let writing = PgStore::connect(&cluster.url, SecretBox::ephemeral()).await.expect("node b");
    let wake = Arc::new(tokio::sync::Notify::new());
    listening.wake_on_changes(wake.clone());
    // The listener connects in the background: append until it hears one.
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let event = NewEvent {
                event_type: "job.created",
                subject_id: "j".into(),
                data: serde_json::json!({}),
            };
            writing.append_events("t", "c", vec![event]).await.expect("append");
            if tokio::time::timeout(std::time::Duration::from_millis(200), wake.notified())
                .await
                .is_ok()
            {
                return;
            }
        }
    })
    .await;
    assert!(heard.is_ok(), "no notification reached the other node");
}
