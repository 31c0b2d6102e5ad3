//! Reads: `excludeLimitCheck` above 200 rows, applications listed since a time, the remote
//! UTC offset, vacancy texts and locations, `get-application` with its stage and source, and
//! users.

use super::{VACANCY_LIST, applied, harness, page};
use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::otys::OtysFake;
use ats_tests::harness::{Harness, context_for, with};

/// Every job id over all pages of `limit` rows, with the config `config`.
async fn all_job_ids(
    h: &Harness<OtysFake>,
    config: &[(String, String)],
    limit: u32,
) -> Vec<String> {
    let mut token = None;
    let mut listed = Vec::new();
    loop {
        let invocation = Invocation::ListJobs(page(Some(limit), token));
        let Ok(Output::Jobs(jobs)) = h.call_with(config, invocation).await else {
            panic!("list-jobs failed")
        };
        listed.extend(jobs.items.into_iter().map(|job| job.id));
        match jobs.next_page_token {
            Some(next) => token = Some(next),
            None => return listed,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_sizes_above_200_send_exclude_limit_check() {
    let h = harness().await;
    let seeded = h.fake.seed_jobs(450, "2025-01-01T00:00:00Z");
    // 500 rows in one call, as the official plugin asks: with excludeLimitCheck.
    let listed = all_job_ids(&h, &h.fake.config(), 500).await;
    assert_eq!(listed.len(), 450);
    assert!(seeded.iter().all(|id| listed.contains(id)));
    assert_eq!(h.fake.list_limits(VACANCY_LIST), [(500, true)]);
    // Up to 200 rows: no excludeLimitCheck.
    let listed = all_job_ids(&h, &h.fake.config(), 200).await;
    assert_eq!(listed.len(), 450);
    assert_eq!(h.fake.list_limits(VACANCY_LIST)[1..], [(200, false), (200, false), (200, false)]);
    // `max-page-size` caps the page; `limit-check-rows` moves the threshold.
    let capped = with(h.fake.config(), "max-page-size", "200");
    assert_eq!(all_job_ids(&h, &capped, 500).await.len(), 450);
    assert!(h.fake.list_limits(VACANCY_LIST)[4..].iter().all(|call| *call == (200, false)));
    let lower = with(h.fake.config(), "limit-check-rows", "100");
    all_job_ids(&h, &lower, 150).await;
    assert_eq!(h.fake.list_limits(VACANCY_LIST).last(), Some(&(150, true)));
    // The candidate search sends it too.
    let lookup = CandidateLookup::Email("nobody@otys.example".into());
    h.ok(Invocation::FindCandidates { lookup, page: page(Some(300), None) }).await;
    assert_eq!(h.fake.list_limits("Otys.Services.CandidateService.getListEx"), [(300, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_are_listed_incrementally_on_their_modification_time() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("since@otys.example", "+31666666666").await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    let since = |since: &str| {
        Invocation::ListApplications(PageRequest {
            page_token: None,
            since: Some(since.into()),
            limit: Some(50),
        })
    };
    let Output::Applications(recent) = h.ok(since("2000-01-01T00:00:00Z")).await else {
        panic!("not applications")
    };
    assert_eq!(recent.items.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [application.id]);
    let Output::Applications(future) = h.ok(since("2999-01-01T00:00:00Z")).await else {
        panic!("not applications")
    };
    assert!(future.items.is_empty(), "{:?}", future.items);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remote_utc_offset_setting_shifts_since_and_labels_timestamps() {
    let h = harness().await;
    // The fake stores "2026-03-01 10:00:00": at +01:00 that is 09:00 UTC.
    let job = h.fake.seed_jobs(1, "2026-03-01T10:00:00Z").remove(0);
    let mut config = h.fake.config();
    config.push(("remote-utc-offset".into(), "+01:00".into()));
    let context = context_for(&config);
    let since = |since: &str| {
        Invocation::ListJobs(PageRequest {
            page_token: None,
            since: Some(since.into()),
            limit: Some(10),
        })
    };
    let Ok(Output::Jobs(included)) =
        h.runtime.call(&h.connector, &context, since("2026-03-01T09:00:00Z")).await
    else {
        panic!("list-jobs failed")
    };
    let listed: Vec<(&str, Option<&str>)> =
        included.items.iter().map(|j| (j.id.as_str(), j.updated_at.as_deref())).collect();
    assert_eq!(listed, [(job.as_str(), Some("2026-03-01T10:00:00+01:00"))]);
    let Ok(Output::Jobs(excluded)) =
        h.runtime.call(&h.connector, &context, since("2026-03-01T09:00:01Z")).await
    else {
        panic!("list-jobs failed")
    };
    assert!(excluded.items.is_empty(), "{:?}", excluded.items);
}

async fn job_page(config: &[(String, String)], h: &Harness<OtysFake>) -> Vec<Job> {
    match h.call_with(config, Invocation::ListJobs(page(Some(50), None))).await {
        Ok(Output::Jobs(jobs)) => jobs.items,
        other => panic!("list-jobs gave {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_carry_the_vacancy_texts_and_a_structured_location() {
    let h = harness().await;
    let ids = h.fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    // No location parts, a lower-case country code; no texts at all.
    h.fake.set_vacancy_fields(
        &ids[1],
        serde_json::json!({ "location": "Remote (NL)", "locationCity": null,
            "locationState": null, "locationPostcode": null, "locationCountryCode": "nl",
            "textField_summary": null, "textField_description": null,
            "textField_requirements": null }),
    );
    // A country OTYS writes as a name is not an ISO code.
    h.fake.set_vacancy_fields(&ids[2], serde_json::json!({ "locationCountryCode": "Nederland" }));
    let jobs = job_page(&h.fake.config(), &h).await;
    let job = |id: &str| jobs.iter().find(|j| j.id == id).expect("listed");

    let first = job(&ids[0]);
    assert_eq!(
        first.description.as_deref(),
        Some(
            "<h3>About Vacancy 1</h3>\n<p>Join us as Vacancy 1.</p>\n\
             <h3>Functieomschrijving</h3>\n<p>You build data pipelines.</p>\n\
             <h3>Functie-eisen</h3>\n<ul><li>SQL</li></ul>"
        ),
        "empty, null and unconfigured text fields are left out"
    );
    assert_eq!(
        first.location,
        Some(Location {
            text: Some("Utrecht".into()),
            city: Some("Utrecht".into()),
            region: Some("Utrecht".into()),
            country: Some("NL".into()),
            postal_code: Some("3511 AB".into()),
            remote: None,
        })
    );
    let second = job(&ids[1]);
    assert_eq!(second.description, None);
    assert_eq!(
        second.location,
        Some(Location {
            text: Some("Remote (NL)".into()),
            country: Some("NL".into()),
            ..Location::default()
        })
    );
    assert_eq!(job(&ids[2]).location.as_ref().and_then(|l| l.country.clone()), None);

    let extra = with(h.fake.config(), "description-fields", "textField_extra1");
    let jobs = job_page(&extra, &h).await;
    let first = jobs.iter().find(|j| j.id == ids[0]).expect("listed");
    assert_eq!(first.description.as_deref(), Some("<h3>Intern</h3>\n<p>Internal remark</p>"));
    let unknown = with(h.fake.config(), "description-fields", "extraInfo1");
    let refused = h.call_with(&unknown, Invocation::ListJobs(page(Some(5), None))).await;
    assert!(matches!(refused, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{refused:?}");
    assert_eq!(h.fake.calls_of(VACANCY_LIST), 2, "an unknown text field is never requested");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_application_names_its_stage_and_candidates_carry_their_source() {
    let h = harness().await;
    let (job, candidate, application) = applied(&h, "get@otys.example", "+31699999999").await;
    let get = || Invocation::GetApplication { application_id: application.clone() };
    let Output::Application(got) = h.ok(get()).await else { panic!("not an application") };
    assert_eq!(
        (got.candidate_id.as_str(), got.job_id.as_str()),
        (candidate.as_str(), job.as_str())
    );
    assert_eq!(
        (got.stage_id.as_deref(), got.stage_name.as_deref()),
        (Some("1_101"), Some("Applied"))
    );
    assert_eq!(got.source.as_deref(), Some("Sourcy"));
    h.ok(Invocation::MoveApplication {
        application_id: application.clone(),
        stage_id: "1_103".into(),
    })
    .await;
    let Output::Application(moved) = h.ok(get()).await else { panic!("not an application") };
    assert_eq!(moved.stage_name.as_deref(), Some("Interview"));
    let listed = h.applications(ats_tests::harness::page(None, None, None)).await;
    assert_eq!(listed.items[0].stage_name.as_deref(), Some("Interview"));
    let missing = h.call(Invocation::GetApplication { application_id: "999999".into() }).await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");

    let Output::Candidate(read) = h.ok(Invocation::GetCandidate { candidate_id: candidate }).await
    else {
        panic!("not a candidate")
    };
    assert_eq!(read.source.as_deref(), Some("Sourcy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_with_their_infix_and_blocked_state() {
    let h = harness().await;
    let Output::Users(first) = h.ok(Invocation::ListUsers(page(Some(2), None))).await else {
        panic!("not users")
    };
    let Output::Users(rest) =
        h.ok(Invocation::ListUsers(page(Some(2), first.next_page_token.clone()))).await
    else {
        panic!("not users")
    };
    assert_eq!(rest.next_page_token, None);
    let users: Vec<User> = first.items.into_iter().chain(rest.items).collect();
    assert_eq!(
        users,
        [
            User {
                id: "11".into(),
                first_name: "Eva".into(),
                last_name: "de Boer".into(),
                email: Some("eva@otys.example".into()),
                active: true
            },
            User {
                id: "12".into(),
                first_name: "Tom".into(),
                last_name: "Jansen".into(),
                email: Some("tom@otys.example".into()),
                active: false
            },
            User {
                id: "13".into(),
                first_name: "Sara".into(),
                last_name: "Visser".into(),
                email: None,
                active: true
            },
        ]
    );
}
