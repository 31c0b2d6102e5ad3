//! The Teamtailor manifest connector against its fake: the conformance kit (without the
//! same-phone upsert check: Teamtailor filters candidates by e-mail only), the seed scenario
//! (files and tags not declared), through the host (its one known failure: notes on an
//! application), and Teamtailor specifics (token header and API version, region hosts,
//! JSON:API pages of at most 30, `filter[updated-at][from]` with offset timestamps, answers in
//! the cover letter, the stage relationship).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance;
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::teamtailor::TeamtailorFake;
use ats_tests::harness::{Harness, page, with};
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = TeamtailorFake::start().await;
    conformance::run_kit(&fake).await;
    let report = conformance::seed_scenario(&fake).await;
    assert_eq!(report.unsupported, ["add-attachment", "add-tag"]);
}

/// The host's drive. Teamtailor keeps notes on candidates only: the host puts the push note
/// (and the result note) there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_through_the_host() {
    let fake = TeamtailorFake::start().await;
    crate::api::through_the_host::works_through_the_host(&fake, "teamtailor").await;
    crate::api::through_the_host::pushed_with_its_note(&fake, "teamtailor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_come_in_pages_of_30_and_since_reads_offset_timestamps() {
    let h = Harness::start(TeamtailorFake::start().await).await;
    let seeded: HashSet<String> =
        h.fake.seed_jobs(70, "2025-01-01T00:00:00Z").into_iter().collect();
    let (mut listed, mut token, mut pages) = (HashSet::new(), None, 0);
    loop {
        let page = h.jobs(page(None, token, None)).await;
        pages += 1;
        assert!(page.items.len() <= 30, "Teamtailor pages hold 30 at most");
        listed.extend(page.items.into_iter().map(|j| j.id));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!((pages, &listed), (3, &seeded));
    let touched = seeded.iter().next().expect("seeded").clone();
    h.fake.touch_job(&touched, "Renamed", "2026-04-01T10:00:00Z");
    let since = h.jobs(page(None, None, Some("2026-04-01T10:00:00Z"))).await;
    assert_eq!(since.items.len(), 1, "filter[updated-at][from] is inclusive");
    let job = &since.items[0];
    assert_eq!((job.id.as_str(), job.title.as_str()), (touched.as_str(), "Renamed"));
    let updated = job.updated_at.as_deref().expect("updated-at mapped");
    assert!(updated.ends_with('Z'), "+01:00 normalised to UTC: {updated}");
    assert_eq!(ats_host::time::parse_ms(updated), ats_host::time::parse_ms("2026-04-01T10:00:00Z"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_go_in_the_cover_letter_and_a_move_sets_the_stage_relationship() {
    let h = Harness::start(TeamtailorFake::start().await).await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("sven@teamtailor.example", "+46 70 123 45 67").await.candidate_id;
    let Output::Application(application) = h.apply(&candidate, &job, None).await.expect("applied")
    else {
        panic!("not an application")
    };
    assert_eq!(
        (application.candidate_id.as_str(), application.job_id.as_str()),
        (candidate.as_str(), job.as_str())
    );
    let letter = h.fake.cover_letter(&application.id).expect("stored");
    assert!(letter.contains("Start date?") && letter.contains("1 March"), "{letter}");
    let Output::Stages(stages) = h
        .ok(Invocation::ListStages { job_id: Some(job.clone()), page: page(None, None, None) })
        .await
    else {
        panic!("not stages")
    };
    assert_eq!(application.stage_id.as_deref(), Some(stages.items[0].id.as_str()));
    let last = stages.items.last().expect("stages").id.clone();
    h.ok(Invocation::MoveApplication {
        application_id: application.id.clone(),
        stage_id: last.clone(),
    })
    .await;
    let Output::Application(read) =
        h.ok(Invocation::GetApplication { application_id: application.id }).await
    else {
        panic!("not an application")
    };
    assert_eq!(read.stage_id.as_deref(), Some(last.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_or_region_is_refused() {
    let h = Harness::start(TeamtailorFake::start().await).await;
    let jobs = || Invocation::ListJobs(page(None, None, None));
    let revoked = h.call_with(&h.fake.bad_credentials_config(), jobs()).await;
    assert!(matches!(revoked, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{revoked:?}");
    let na = h.call_with(&with(h.fake.config(), "api-host", "api.na.teamtailor.com"), jobs()).await;
    assert!(matches!(na, Err(CallError::Connector(AtsError::NotFound(_)))), "{na:?}");
    let pinned = h.call_with(&with(h.fake.config(), "api-version", "20210218"), jobs()).await;
    assert!(pinned.is_ok(), "{pinned:?}");
}
