//! What a product reads to run its workflows, through the API against the sandbox ATS: the
//! candidate behind an application (stored, embedded, live, looked up by e-mail), the
//! filters it picks by, the tags / rejection reasons / users a jobs sync keeps, and the
//! candidate link on application events.

use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::Value;

fn data(body: &Value) -> Vec<Value> {
    body["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_reads_candidates_filters_and_reference_lists() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = super::end_to_end::connect(&host, "acme", &url).await;
    let get = |path: String| send(host.with_key(&key, Method::GET, &path));

    let jobs_run = super::end_to_end::sync_and_wait(&host, &key, &connection, "jobs").await;
    assert_eq!(jobs_run["state"], "success", "{jobs_run}");
    let apps_run = super::end_to_end::sync_and_wait(&host, &key, &connection, "applications").await;
    assert_eq!(apps_run["state"], "success", "{apps_run}");

    // Reference lists, refreshed by the jobs sync.
    let (status, users) = get(format!("/v1/connections/{connection}/users")).await;
    assert_eq!(status, 200, "{users}");
    assert!(data(&users).iter().any(|u| u["email"] == "rita@sandbox.example"), "{users}");
    let (_, reasons) = get(format!("/v1/connections/{connection}/rejection-reasons")).await;
    assert!(
        data(&reasons).iter().any(|r| r["id"] == "r-2" && r["name"] == "Position filled"),
        "{reasons}"
    );
    let (status, tags) = get(format!("/v1/connections/{connection}/tags")).await;
    assert_eq!(status, 200, "{tags}");

    // Filters: applications of job-1 in stage-2; jobs by status.
    let (_, filtered) =
        get(format!("/v1/applications?connection_id={connection}&job_id=job-1&stage_id=stage-2"))
            .await;
    let apps = data(&filtered);
    assert_eq!(apps.len(), 1, "{filtered}");
    assert_eq!(apps[0]["remote_id"], "app-2", "{filtered}");
    let (_, closed) = get(format!("/v1/jobs?connection_id={connection}&status=closed")).await;
    assert!(
        !data(&closed).is_empty() && data(&closed).iter().all(|j| j["status"] == "closed"),
        "{closed}"
    );
    let (_, inactive) = get(format!("/v1/jobs?connection_id={connection}&active=true")).await;
    assert!(data(&inactive).is_empty(), "new jobs start inactive: {inactive}");
    let (status, refused) = get(format!("/v1/jobs?connection_id={connection}&email=a@b.c")).await;
    assert_eq!(status, 400, "a filter the route does not take is refused: {refused}");
    let (status, refused) = get("/v1/jobs?country=Netherlands".to_string()).await;
    assert_eq!(status, 422, "{refused}");

    // The candidate behind an application: embedded, stored, live, looked up.
    let (_, embedded) =
        get(format!("/v1/applications?connection_id={connection}&job_id=job-1&include=candidate"))
            .await;
    let first = &data(&embedded)[0];
    let email = first["candidate"]["emails"][0].as_str().expect("an e-mail").to_string();
    let candidate = first["candidate_id"].as_str().expect("candidate id").to_string();
    let (status, stored) =
        get(format!("/v1/connections/{connection}/candidates/{candidate}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["emails"][0], email.as_str(), "{stored}");
    assert_eq!(stored["source"], "Sandbox seed", "{stored}");
    let (_, by_email) =
        get(format!("/v1/candidates?connection_id={connection}&email={}", email.to_uppercase()))
            .await;
    assert_eq!(data(&by_email).len(), 1, "e-mail lookups ignore case: {by_email}");
    let (_, live) =
        get(format!("/v1/connections/{connection}/candidates/{candidate}?live=true")).await;
    assert_eq!(live["live"], true, "{live}");
    assert_eq!(live["candidate"]["id"], candidate.as_str(), "{live}");
    let (status, looked_up) =
        get(format!("/v1/connections/{connection}/candidates?email={email}")).await;
    assert_eq!(status, 200, "{looked_up}");
    assert!(data(&looked_up).iter().any(|c| c["id"] == candidate.as_str()), "{looked_up}");
    let (status, refused) =
        get(format!("/v1/connections/{connection}/candidates?email=not-an-email")).await;
    assert_eq!(status, 422, "{refused}");
    let (status, _) = get(format!("/v1/connections/{connection}/candidates/nobody")).await;
    assert_eq!(status, 404);

    // Application events carry the candidate and where to read it.
    let (_, events) = get("/v1/events".to_string()).await;
    let created = data(&events)
        .into_iter()
        .find(|e| e["type"] == "application.created")
        .unwrap_or_else(|| panic!("an application.created event: {events}"));
    let link = created["data"]["candidate_url"].as_str().expect("candidate_url").to_string();
    assert!(link.ends_with(created["data"]["candidate_id"].as_str().unwrap_or("?")), "{created}");
    let (status, linked) = get(link).await;
    assert_eq!(status, 200, "the link reads the candidate: {linked}");

    // Another tenant sees none of it.
    let _ =
        send(host.op(Method::POST, "/v1/tenants").json(&serde_json::json!({"id": "other"}))).await;
    let other = host.tenant_key("other").await;
    let (status, _) =
        send(host.with_key(&other, Method::GET, &format!("/v1/connections/{connection}/users")))
            .await;
    assert_eq!(status, 404);
    let (_, none) =
        send(host.with_key(&other, Method::GET, &format!("/v1/candidates?email={email}"))).await;
    assert!(data(&none).is_empty(), "{none}");
}

/// `"full_scan": true` on sync-now asks for a full scan (typed as the run's trigger);
/// without it, a pass after a recent full scan is incremental.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_can_ask_for_a_full_scan() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = super::end_to_end::connect(&host, "acme", &url).await;
    let first = super::end_to_end::sync_and_wait(&host, &key, &connection, "jobs").await;
    assert_eq!(first["trigger"], "manual", "{first}");
    let incremental = super::end_to_end::sync_and_wait(&host, &key, &connection, "jobs").await;
    assert_eq!(incremental["full_scan"], false, "{incremental}");
    let (status, started) = send(
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&serde_json::json!({"kind": "jobs", "full_scan": true})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let run =
        super::end_to_end::wait_run(&host, &key, started["run_id"].as_str().expect("id")).await;
    assert_eq!(
        (run["trigger"].as_str(), run["full_scan"].as_bool()),
        (Some("full-scan"), Some(true)),
        "{run}"
    );
}
