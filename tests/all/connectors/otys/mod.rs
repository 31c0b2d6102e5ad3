//! The OTYS connector against its fake: the generic conformance kit and seed scenario, and
//! the OTYS protocol specifics (session reuse, one re-login on an expired session, errors
//! inside HTTP 200 bodies, `excludeLimitCheck` above 200 rows, three status levels, the
//! client-side duplicate procedure rule, multipart uploads, documents on applications,
//! results as documents, vacancy texts and locations, webhooks and their subscriptions,
//! `check`, users).
//! A module per area: sessions and the protocol, reads, writes, webhooks.

mod protocol;
mod reads;
mod webhooks;
mod writes;

use ats_host::model::*;
use ats_host::runtime::Output;
use ats_tests::conformance;
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::otys::OtysFake;
use ats_tests::harness::Harness;

async fn harness() -> Harness<OtysFake> {
    Harness::start(OtysFake::start().await).await
}

fn page(limit: Option<u32>, token: Option<String>) -> PageRequest {
    PageRequest { page_token: token, since: None, limit }
}

const VACANCY_LIST: &str = "Otys.Services.VacancyService.getListEx";

/// A job, a candidate and an application on it: (job, candidate, application).
async fn applied(h: &Harness<OtysFake>, email: &str, phone: &str) -> (String, String, String) {
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert(email, phone).await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    (job, candidate, application.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = OtysFake::start().await;
    conformance::run_kit(&fake).await;
    let report = conformance::seed_scenario(&fake).await;
    assert_eq!(report.unsupported, vec!["add-tag", "add-note"]);
}
