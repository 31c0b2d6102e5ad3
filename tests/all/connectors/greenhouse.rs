//! The Greenhouse manifest connector (`connectors/manifests/greenhouse`) against the fake
//! Harvest v1: the conformance kit (with its one known gap, phone dedupe), the seed scenario,
//! the host drive, and Greenhouse specifics: Basic auth with a blank password and
//! `On-Behalf-Of` on every write, `Link`-header paging to the end, `updated_after` /
//! `last_activity_after`, the 422 validation shape, and what a write leaves in the fake.

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance;
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::greenhouse::{GreenhouseFake, USER_ID};
use ats_tests::harness::{Harness, page, with};
use std::collections::HashSet;

/// The panic message of `future`, which must panic.
pub(crate) async fn panic_of(future: impl std::future::Future<Output = ()>) -> String {
    conformance::panic_message(future)
        .await
        .expect("expected a known gap to fail, but everything passed: update the test and README")
}

/// A borrowed fake, so the authors' kit can run on a [`Harness`] over the same fake.
pub(crate) struct FakeRef<'a>(pub(crate) &'a dyn FakeAts);

impl FakeAts for FakeRef<'_> {
    fn connector_package(&self) -> &'static str {
        self.0.connector_package()
    }
    fn config(&self) -> Vec<(String, String)> {
        self.0.config()
    }
    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        self.0.bad_credentials_config()
    }
    fn secrets(&self) -> Vec<String> {
        self.0.secrets()
    }
    fn faults(&self) -> &ats_tests::fakes::Faults {
        self.0.faults()
    }
    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        self.0.seed_jobs(count, updated_at)
    }
    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        self.0.touch_job(id, title, updated_at)
    }
    fn issues_sessions(&self) -> bool {
        self.0.issues_sessions()
    }
    fn auth_count(&self) -> usize {
        self.0.auth_count()
    }
    fn expire_sessions(&self) {
        self.0.expire_sessions()
    }
    fn candidates(&self) -> Vec<ats_tests::fakes::FakeCandidate> {
        self.0.candidates()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = GreenhouseFake::start().await;
    conformance::run_kit(&fake).await;
    let report = conformance::seed_scenario(&fake).await;
    assert_eq!(report.unsupported, vec!["add-tag"], "tags need a second request in Greenhouse");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_through_the_host() {
    // Greenhouse keeps notes on candidates: the host puts the push note there.
    let fake = GreenhouseFake::start().await;
    crate::api::through_the_host::works_through_the_host(&fake, "greenhouse").await;
    let pushed = crate::api::through_the_host::pushed_with_its_note(&fake, "greenhouse");
    assert_eq!(pushed.applications.len(), 1, "{pushed:?}");
    assert!(pushed.attachments.iter().any(|(name, _)| name == "cv.pdf"), "{pushed:?}");
}

async fn harness() -> Harness<GreenhouseFake> {
    Harness::start(GreenhouseFake::start().await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_carry_on_behalf_of_and_a_wrong_key_is_unauthorized() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("anna@greenhouse.example", "+31612345678").await.candidate_id;
    h.apply(&candidate, &job, None).await.expect("application");
    let note = NoteInput { target: Target::Candidate(candidate.clone()), body: "Hello".into() };
    h.ok(Invocation::AddNote(note)).await;
    let writes: Vec<_> =
        h.fake.requests().into_iter().filter(|(method, _, _)| method != "GET").collect();
    assert_eq!(writes.len(), 3, "{writes:?}");
    for (method, path, on_behalf_of) in &writes {
        assert_eq!(on_behalf_of.as_deref(), Some(USER_ID.to_string().as_str()), "{method} {path}");
    }
    assert_eq!(writes[0].1, "/v1/prospects");

    let bad = with(h.fake.config(), "api-key", "not-the-key-at-all");
    let result = h.call_with(&bad, Invocation::ListJobs(page(Some(10), None, None))).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");
    // A write for a user Greenhouse does not know is refused with its 422.
    let stranger = with(h.fake.config(), "on-behalf-of", "999");
    let note = NoteInput { target: Target::Candidate(candidate), body: "Hi".into() };
    let result = h.call_with(&stranger, Invocation::AddNote(note)).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_follow_the_link_header_to_the_end() {
    let h = harness().await;
    let seeded: HashSet<String> =
        h.fake.seed_jobs(250, "2025-01-01T00:00:00Z").into_iter().collect();
    let (mut listed, mut token, mut pages) = (Vec::new(), None, 0);
    loop {
        let page = h.jobs(page(Some(100), token, None)).await;
        pages += 1;
        listed.extend(page.items.into_iter().map(|j| j.id));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(listed.len(), 250);
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), seeded);
    let paths: Vec<String> = h.fake.requests().into_iter().map(|(_, path, _)| path).collect();
    assert_eq!(paths[0], "/v1/jobs?per_page=100");
    assert!(paths[1].contains("page=2") && paths[2].contains("page=3"), "{paths:?}");

    // A server announcing page 2 forever is a paging loop, not an endless read.
    h.fake.faults().set_repeat_page_token(true);
    let first = h.jobs(page(Some(100), None, None)).await;
    let second = h.call(Invocation::ListJobs(page(Some(100), first.next_page_token, None))).await;
    let third = match second {
        Ok(Output::Jobs(p)) => {
            h.call(Invocation::ListJobs(page(Some(100), p.next_page_token, None))).await
        }
        other => other,
    };
    assert!(matches!(third, Err(CallError::Connector(AtsError::Remote(_)))), "{third:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_becomes_updated_after_and_last_activity_after() {
    let h = harness().await;
    let ids = h.fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    h.fake.touch_job(&ids[1], "Renamed", "2026-04-01T10:00:00.250Z");
    let page1 = h.jobs(page(Some(10), None, Some("2026-04-01T10:00:00Z"))).await;
    assert_eq!(page1.items.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), vec![ids[1].clone()]);
    assert_eq!(page1.items[0].updated_at.as_deref(), Some("2026-04-01T10:00:00.250Z"));

    // An application rejected after the watermark comes back: it is its activity that counts.
    let candidate = h.upsert("rejected@greenhouse.example", "+31600000001").await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &ids[0], None).await else {
        panic!("no application")
    };
    let watermark = ats_host::time::format_ms(ats_host::time::now_ms() + 1000);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let reject = RejectInput {
        application_id: application.id.clone(),
        reason: "Position filled".into(),
        reason_id: Some("816".into()),
    };
    h.ok(Invocation::RejectApplication(reject)).await;
    let changed = h.applications(page(Some(10), None, Some(&watermark))).await;
    assert_eq!(changed.items.len(), 1, "{:?}", changed.items);
    assert_eq!(changed.items[0].status, ApplicationStatus::Rejected);
    assert_eq!(changed.items[0].rejection_reason.as_deref(), Some("Position filled"));
    let paths: Vec<String> = h.fake.requests().into_iter().map(|(_, path, _)| path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/v1/jobs?")
                && p.contains("updated_after=2026-04-01T10%3A00%3A00Z")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/v1/applications?") && p.contains("last_activity_after=")),
        "{paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_of_another_job_is_a_422_and_the_answers_land_on_the_application() {
    let h = harness().await;
    let jobs = h.fake.seed_jobs(2, "2025-01-01T00:00:00Z");
    let other_stage = h.fake.with_store(|s| {
        s.stages.iter().find(|st| st.job_id.to_string() == jobs[1]).map(|st| st.id.to_string())
    });
    let candidate = h.upsert("apply@greenhouse.example", "+31600000002").await.candidate_id;
    let result = h.apply(&candidate, &jobs[0], other_stage.as_deref()).await;
    match result {
        Err(CallError::Connector(AtsError::InvalidInput(message))) => {
            assert!(message.contains("Validation error"), "{message}")
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    let Ok(Output::Application(created)) = h.apply(&candidate, &jobs[0], None).await else {
        panic!("no application")
    };
    assert_eq!(created.job_id, jobs[0]);
    let stored = h.fake.candidates().into_iter().find(|c| c.id == candidate).expect("candidate");
    assert_eq!(stored.applications.len(), 1, "the prospect application is not a job application");
    assert!(stored.applications[0].answers_text.contains("1 March"), "{stored:?}");
    // Phone look-ups never ask for every candidate.
    let lookups: Vec<String> = h
        .fake
        .requests()
        .into_iter()
        .map(|(_, path, _)| path)
        .filter(|p| p.starts_with("/v1/candidates?"))
        .collect();
    assert!(!lookups.is_empty());
    assert!(lookups.iter().all(|p| p.contains("email=")), "{lookups:?}");
}

/// `[webhook]`: a delivery signed as Greenhouse signs (`Signature: sha256 <hex>`, HMAC-SHA256
/// of the body with the web hook's secret key) becomes change events; unknown actions are
/// ignored; a wrong signature is unauthorized.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_become_change_events_and_forged_ones_are_refused() {
    use hmac::{Hmac, Mac};
    let h = harness().await;
    let mut config = h.fake.config();
    config.push(("webhook-secret".into(), "gh-webhook-secret".into()));
    let body = serde_json::json!({
        "action": "candidate_stage_change",
        "payload": {"application": {"id": 69306314, "candidate_id": 57683957}}
    })
    .to_string();
    let sign = |body: &str| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"gh-webhook-secret").expect("key");
        mac.update(body.as_bytes());
        format!("sha256 {}", hex::encode(mac.finalize().into_bytes()))
    };
    let request = |body: &str, signature: String| {
        Invocation::ParseWebhook(WebhookRequest {
            headers: vec![Field { name: "Signature".into(), value: signature }],
            body: body.as_bytes().to_vec(),
        })
    };
    let parsed = h.call_with(&config, request(&body, sign(&body))).await;
    let Ok(Output::Webhook(outcome)) = parsed else { panic!("{parsed:?}") };
    assert_eq!(outcome.events.len(), 1, "{outcome:?}");
    assert_eq!(outcome.events[0].kind, ChangeKind::ApplicationStageChanged);
    assert_eq!(outcome.events[0].remote_id, "69306314");

    let job = r#"{"action": "job_updated", "payload": {"job": {"id": 107761}}}"#;
    let parsed = h.call_with(&config, request(job, sign(job))).await;
    let Ok(Output::Webhook(outcome)) = parsed else { panic!("{parsed:?}") };
    assert_eq!(
        (outcome.events[0].kind, outcome.events[0].remote_id.as_str()),
        (ChangeKind::JobChanged, "107761")
    );

    let offer = r#"{"action": "offer_created", "payload": {"offer": {"id": 1}}}"#;
    let parsed = h.call_with(&config, request(offer, sign(offer))).await;
    let Ok(Output::Webhook(outcome)) = parsed else { panic!("{parsed:?}") };
    assert!(outcome.events.is_empty(), "an action the host does not need is ignored");

    let forged = h.call_with(&config, request(&body, sign("{}"))).await;
    assert!(matches!(forged, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{forged:?}");
}
