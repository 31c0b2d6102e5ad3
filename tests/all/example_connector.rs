//! The example connector (`examples/minimal-connector`, bundled into the host) against the
//! sandbox ATS: paging, incremental reads, upsert dedupe, typed auth errors.

use ats_host::model::{AtsError, CandidateInput, UpsertOutcome};
use ats_host::runtime::{
    CallContext, CallError, Invocation, LoadedConnector, Output, Runtime, call::first_page,
};
use ats_host::sandbox_ats;
use ats_tests::{context, runtime, test_limits};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

async fn setup(api_key: &str) -> (Arc<Runtime>, Arc<LoadedConnector>, CallContext) {
    let (addr, _sandbox) =
        sandbox_ats::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), sandbox_ats::DEMO_API_KEY)
            .await
            .expect("sandbox ATS starts");
    let runtime = runtime(test_limits());
    let (_, wasm) = ats_host::bundled::BUNDLED
        .iter()
        .find(|(package, _)| *package == "minimal-connector")
        .expect("the example connector is bundled");
    let connector = runtime.load(wasm.to_vec(), "bundled:minimal-connector").await.expect("loads");
    let base = format!("http://{addr}");
    let mut ctx = context("example", &[("base-url", &base), ("api-key", api_key)]);
    ctx.allow_private_networks = true;
    (runtime, connector, ctx)
}

#[tokio::test]
async fn pages_through_all_jobs_and_filters_by_since() {
    let (runtime, connector, ctx) = setup(sandbox_ats::DEMO_API_KEY).await;
    let mut page = first_page();
    page.limit = Some(5);
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let Ok(Output::Jobs(result)) =
            runtime.call(&connector, &ctx, Invocation::ListJobs(page.clone())).await
        else {
            panic!("list-jobs failed");
        };
        pages += 1;
        ids.extend(result.items.iter().map(|j| j.id.clone()));
        assert!(result.items.iter().all(|j| !j.raw.is_empty() && j.updated_at.is_some()));
        match result.next_page_token {
            Some(token) => page.page_token = Some(token),
            None => break,
        }
    }
    assert_eq!((ids.len(), pages), (12, 3));

    let mut since = first_page();
    since.since = Some("2026-11-10T00:00:00Z".into());
    let Ok(Output::Jobs(recent)) =
        runtime.call(&connector, &ctx, Invocation::ListJobs(since)).await
    else {
        panic!("incremental list-jobs failed");
    };
    let recent: Vec<String> = recent.items.into_iter().map(|j| j.id).collect();
    assert_eq!(recent, ["job-10", "job-11", "job-12"]);
}

#[tokio::test]
async fn upserting_the_same_email_twice_matches_the_first_candidate() {
    let (runtime, connector, ctx) = setup(sandbox_ats::DEMO_API_KEY).await;
    let input = CandidateInput {
        first_name: "Sanne".into(),
        last_name: "de Vries".into(),
        emails: vec!["sanne@example.com".into()],
        phones: vec![],
        source: Some("tests".into()),
        custom_fields: vec![],
        ..Default::default()
    };
    let mut outcomes = Vec::new();
    let plus = CandidateInput { emails: vec!["sanne+jobs@example.com".into()], ..input.clone() };
    for input in [&plus, &plus] {
        match runtime.call(&connector, &ctx, Invocation::UpsertCandidate(input.clone())).await {
            Ok(Output::Upserted(result)) => outcomes.push((result.candidate_id, result.outcome)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(outcomes[1].1, UpsertOutcome::Matched, "an address with `+` is found again");
    outcomes.clear();
    for _ in 0..2 {
        match runtime.call(&connector, &ctx, Invocation::UpsertCandidate(input.clone())).await {
            Ok(Output::Upserted(result)) => outcomes.push((result.candidate_id, result.outcome)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(outcomes[0].1, UpsertOutcome::Created);
    assert_eq!(outcomes[1], (outcomes[0].0.clone(), UpsertOutcome::Matched));
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_stages_are_read() {
    let (runtime, connector, ctx) = setup("wrong-key").await;
    let result = runtime.call(&connector, &ctx, Invocation::ListJobs(first_page())).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");

    let (runtime, connector, ctx) = setup(sandbox_ats::DEMO_API_KEY).await;
    let stages = runtime
        .call(
            &connector,
            &ctx,
            Invocation::ListStages { job_id: Some("job-1".into()), page: first_page() },
        )
        .await;
    match stages {
        Ok(Output::Stages(page)) => {
            let names: Vec<&str> = page.items.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["Applied", "Screening", "Interview", "Offer", "Hired"]);
        }
        other => panic!("{other:?}"),
    }
    let missing = runtime
        .call(
            &connector,
            &ctx,
            Invocation::ListStages { job_id: Some("nope".into()), page: first_page() },
        )
        .await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");
}
