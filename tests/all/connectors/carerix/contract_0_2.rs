//! The Carerix connector on contract 0.2: [L] fields read only when configured (an account
//! without them), stage positions from 0, vacancy place/texts/users, reject by status and
//! note, Webhooks API subscriptions, `check`, `get-application` and `remove-tag`.

use super::{error_of, harness};
use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::fakes::FakeAts;
use ats_tests::harness::{page, with};

fn candidate_of(output: Result<Output, CallError>) -> Candidate {
    match output {
        Ok(Output::Candidate(candidate)) => candidate,
        other => panic!("expected a candidate, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidate_reads_ask_for_unverified_fields_only_when_configured() {
    let h = harness().await;
    let id = h.upsert("tags@carerix.example", "+31612340010").await.candidate_id;
    let tag = |tag: &str| {
        Invocation::AddTag(TagInput { target: Target::Candidate(id.clone()), tag: tag.into() })
    };
    h.ok(tag("Sourcy")).await;
    h.ok(tag("Python")).await;
    let read = candidate_of(h.call(Invocation::GetCandidate { candidate_id: id.clone() }).await);
    assert_eq!(read.tags, ["Sourcy", "Python"], "tags come from the tag field");
    assert_eq!(read.phones, ["+31612340010"]);

    // An account whose CREmployee has no `applyTags` (research: [L]) nor `mobileNumber`.
    h.fake.hide_field("CREmployee", "applyTags");
    h.fake.hide_field("CREmployee", "mobileNumber");
    let error = error_of(h.call(Invocation::GetCandidate { candidate_id: id.clone() }).await);
    let AtsError::InvalidInput(message) = error else { panic!("{error:?}") };
    assert!(message.contains("applyTags") && message.contains("tag-field"), "{message}");

    let config = with(with(h.fake.config(), "tag-field", "none"), "mobile-field", "none");
    let asked_before = h.fake.documents().len();
    let read = candidate_of(
        h.call_with(&config, Invocation::GetCandidate { candidate_id: id.clone() }).await,
    );
    assert_eq!((read.id.as_str(), read.last_name.as_str()), (id.as_str(), "de Vries"));
    assert!(read.tags.is_empty());
    let by_phone = Invocation::FindCandidates {
        lookup: CandidateLookup::Phone("+31612340010".into()),
        page: page(None, None, None),
    };
    let Ok(Output::Candidates(found)) = h.call_with(&config, by_phone).await else {
        panic!("find by phone failed")
    };
    assert_eq!(found.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let input = CandidateInput {
        first_name: "Anna".into(),
        last_name: "de Vries".into(),
        emails: vec!["tags@carerix.example".into()],
        phones: vec!["+31612340010".into()],
        ..Default::default()
    };
    let Ok(Output::Upserted(again)) =
        h.call_with(&config, Invocation::UpsertCandidate(input)).await
    else {
        panic!("upsert failed")
    };
    assert_eq!((again.outcome, again.candidate_id), (UpsertOutcome::Matched, id.clone()));
    let asked: Vec<String> = h.fake.documents().split_off(asked_before);
    assert!(
        asked.iter().all(|d| !d.contains("applyTags") && !d.contains("mobileNumber")),
        "a turned-off field was asked for: {asked:?}"
    );
    let no_tags = h.call_with(&config, tag("x")).await;
    assert!(matches!(error_of(no_tags), AtsError::Unsupported(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_are_numbered_from_zero_in_pipeline_order() {
    let h = harness().await;
    let stages = h.stages().await;
    let listed: Vec<(&str, u32)> = stages.iter().map(|s| (s.name.as_str(), s.position)).collect();
    assert_eq!(
        listed,
        [
            ("New", 0),
            ("Screening", 1),
            ("Interview with client", 2),
            ("Offer", 3),
            ("Placed", 4),
            ("Rejected", 5)
        ]
    );
    // Order is the statuses' sortOrder, not their ids; positions count over all pages.
    h.fake.set_status_sort_order("Offer", 5);
    let mut token = None;
    let mut paged = Vec::new();
    for _ in 0..4 {
        let request = page(Some(4), token.clone(), None);
        let Output::Stages(listed) =
            h.ok(Invocation::ListStages { job_id: None, page: request }).await
        else {
            panic!("not stages")
        };
        token = listed.next_page_token;
        paged.extend(listed.items.into_iter().map(|s| (s.name, s.position)));
        if token.is_none() {
            break;
        }
    }
    let names: Vec<&str> = paged.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Offer", "New", "Screening", "Interview with client", "Placed", "Rejected"]);
    assert_eq!(paged.iter().map(|(_, p)| *p).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacancies_carry_their_place_texts_and_users() {
    let h = harness().await;
    let jobs = h.fake.seed_jobs(2, "2025-01-01T00:00:00Z");
    let owner = h.fake.add_user("Ilse", "Bakker");
    let recruiter = h.fake.add_user("Joost", "Smit");
    let netherlands = h.fake.add_data_node("NL_Country", "NL");
    h.fake.add_vacancy_user(&jobs[0], &recruiter);
    h.fake.add_vacancy_user(&jobs[0], &owner);
    h.fake.set_vacancy_fields(
        &jobs[0],
        serde_json::json!({
            "workLocation": "Utrecht (hybride)", "workCity": "Utrecht",
            "workPostalCode": "3511 AB", "toWorkCountryNode": netherlands, "owner": owner,
            "introInformation": "Join our data team.", "vacancyInformation": "You build pipelines.",
            "requirements": "SQL and Python.",
        }),
    );
    h.fake.set_vacancy_fields(&jobs[1], serde_json::json!({ "workCity": "Gouda" }));
    let listed = h.jobs(page(None, None, None)).await.items;
    let first = &listed[0];
    assert_eq!(
        first.location,
        Some(Location {
            text: Some("Utrecht (hybride)".into()),
            city: Some("Utrecht".into()),
            postal_code: Some("3511 AB".into()),
            ..Default::default()
        })
    );
    assert_eq!(
        first.description.as_deref(),
        Some("Join our data team.\n\nYou build pipelines.\n\nSQL and Python.")
    );
    assert_eq!(first.assigned_users, [owner.clone(), recruiter.clone()], "owner first, no doubles");
    let second = &listed[1];
    assert_eq!(second.location.as_ref().and_then(|l| l.text.as_deref()), Some("Gouda"));
    assert_eq!((second.description.as_deref(), second.assigned_users.len()), (None, 0));

    // The country as ISO alpha-2 from a data node, when the operator names where it is.
    let config = with(
        h.fake.config(),
        "vacancy-location-fields",
        "city=workCity, country=toWorkCountryNode.exportCode",
    );
    let Ok(Output::Jobs(with_country)) =
        h.call_with(&config, Invocation::ListJobs(page(None, None, None))).await
    else {
        panic!("list-jobs failed")
    };
    let place = with_country.items[0].location.clone().unwrap_or_default();
    assert_eq!(
        (place.city.as_deref(), place.country.as_deref(), place.text.as_deref()),
        (Some("Utrecht"), Some("NL"), Some("Utrecht"))
    );

    // An account without one of these fields: the error names the config field, and
    // `none` leaves the fields out of the read.
    h.fake.hide_field("CRVacancy", "workLocation");
    let error = error_of(h.call(Invocation::ListJobs(page(None, None, None))).await);
    let AtsError::InvalidInput(message) = error else { panic!("{error:?}") };
    assert!(message.contains("vacancy-location-fields"), "{message}");
    let mut config = h.fake.config();
    for name in ["vacancy-location-fields", "vacancy-description-fields", "vacancy-user-fields"] {
        config = with(config, name, "none");
    }
    let Ok(Output::Jobs(bare)) =
        h.call_with(&config, Invocation::ListJobs(page(None, None, None))).await
    else {
        panic!("list-jobs without the optional fields failed")
    };
    assert!(bare.items.iter().all(|j| j.location.is_none() && j.assigned_users.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_moves_the_match_to_a_declining_final_status_with_the_reason_in_its_notes() {
    let h = harness().await;
    assert!(h.connector.manifest.operations.contains(&Operation::RejectApplication));
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("reject@carerix.example", "+31612340011").await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    h.ok(Invocation::AddNote(NoteInput {
        target: Target::Application(application.id.clone()),
        body: "Called on Monday".into(),
    }))
    .await;
    let reject = |reason: &str| {
        Invocation::RejectApplication(RejectInput {
            application_id: application.id.clone(),
            reason: reason.into(),
            ..Default::default()
        })
    };
    let Output::Receipt(receipt) = h.ok(reject("Salary too high")).await else { panic!() };
    assert_eq!(receipt.remote_id.as_deref(), Some(application.id.as_str()));
    let stored = &h.fake.matches_of(&candidate)[0];
    assert_eq!(stored["notes"], "Called on Monday\n\nRejected: Salary too high");
    let stages = h.stages().await;
    let rejected = stages.iter().find(|s| s.name == "Rejected").expect("a Rejected status");
    assert_eq!(stored["statusInfo"], rejected.id.as_str());
    let Output::Application(read) =
        h.ok(Invocation::GetApplication { application_id: application.id.clone() }).await
    else {
        panic!("not an application")
    };
    assert_eq!(read.status, ApplicationStatus::Rejected);
    assert_eq!(read.stage_name.as_deref(), Some("Rejected"));
    assert!(read.rejected_at.is_some() && read.hired_at.is_none(), "{read:?}");

    // Again: nothing changes, and the receipt says so.
    let Output::Receipt(again) = h.ok(reject("Salary too high")).await else { panic!() };
    assert!(again.remark.is_some_and(|r| r.contains("already")));
    assert_eq!(
        h.fake.matches_of(&candidate)[0]["notes"],
        "Called on Monday\n\nRejected: Salary too high"
    );

    // reject-status must name a final status that is not successfully filled.
    for (status, why) in [("Placed", "not a final status"), ("Lost", "no Carerix status")] {
        let config = with(h.fake.config(), "reject-status", status);
        let error = error_of(h.call_with(&config, reject("x")).await);
        let AtsError::InvalidInput(message) = error else { panic!("{error:?}") };
        assert!(message.contains("reject-status") && message.contains(why), "{message}");
    }
    // A hired application is not rejected.
    let other = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let Ok(Output::Application(hired)) = h.apply(&candidate, &other, None).await else {
        panic!("create-application failed")
    };
    let placed = stages.iter().find(|s| s.name == "Placed").expect("a Placed status");
    h.ok(Invocation::MoveApplication {
        application_id: hired.id.clone(),
        stage_id: placed.id.clone(),
    })
    .await;
    let Output::Application(read) =
        h.ok(Invocation::GetApplication { application_id: hired.id.clone() }).await
    else {
        panic!("not an application")
    };
    assert!(read.status == ApplicationStatus::Hired && read.hired_at.is_some(), "{read:?}");
    let error = error_of(
        h.call(Invocation::RejectApplication(RejectInput {
            application_id: hired.id,
            reason: "x".into(),
            ..Default::default()
        }))
        .await,
    );
    assert!(matches!(error, AtsError::Conflict(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_registered_and_removed_through_the_webhooks_api() {
    let h = harness().await;
    let register = |url: &str, kinds: Vec<ChangeKind>, secret: Option<&str>| {
        Invocation::RegisterWebhook(WebhookSubscription {
            url: url.into(),
            secret: secret.map(str::to_string),
            kinds,
        })
    };
    let all = "https://host.example/v1/inbound/all";
    let Output::Receipt(first) = h.ok(register(all, vec![], Some("s3cret"))).await else {
        panic!("not a receipt")
    };
    let first_id = first.remote_id.clone().expect("a hook id");
    assert!(first.remark.is_some_and(|r| r.contains("Cx-Signature")), "the secret is not used");
    assert_eq!(h.fake.webhooks(), [(first_id.clone(), all.to_string())]);
    assert_eq!(h.fake.webhook_filters(&first_id).len(), 8);

    let candidates = "https://host.example/v1/inbound/candidates";
    let Output::Receipt(second) =
        h.ok(register(candidates, vec![ChangeKind::CandidateChanged], None)).await
    else {
        panic!("not a receipt")
    };
    let second_id = second.remote_id.expect("a hook id");
    assert_eq!(h.fake.webhook_filters(&second_id), ["CREmployee:created", "CREmployee:updated"]);
    let apps = h.fake.webhook_applications();
    assert_eq!(apps.len(), 1, "one application holds every hook: {apps:?}");
    assert_eq!((apps[0].1.as_str(), apps[0].2), ("ats-connector", 2));

    let unregister = |id: &str| Invocation::UnregisterWebhook { remote_id: id.into() };
    let Output::Receipt(removed) = h.ok(unregister(&first_id)).await else { panic!() };
    assert_eq!((removed.remote_id.as_deref(), removed.remark), (Some(first_id.as_str()), None));
    assert_eq!(h.fake.webhooks(), [(second_id.clone(), candidates.to_string())]);
    let Output::Receipt(gone) = h.ok(unregister(&first_id)).await else { panic!() };
    assert!(gone.remark.is_some_and(|r| r.contains("already")));
    let bad = error_of(h.call(unregister("../applications")).await);
    assert!(matches!(bad, AtsError::InvalidInput(_)), "{bad:?}");

    // No configured event type announces deletions; a client without the webhooks scope is
    // refused by the Webhooks API.
    let deleted = error_of(h.call(register(all, vec![ChangeKind::JobDeleted], None)).await);
    assert!(matches!(deleted, AtsError::Unsupported(_)), "{deleted:?}");
    let other_base =
        with(h.fake.config(), "webhooks-url", &format!("{}/nowhere", h.fake.base_url()));
    let missing = error_of(h.call_with(&other_base, register(all, vec![], None)).await);
    assert!(matches!(missing, AtsError::NotFound(_)), "{missing:?}");
    let manifest = &h.connector.manifest;
    assert!(manifest.egress_hosts.contains(&"{webhooks-url}".to_string()));
    assert!(manifest.config_fields.iter().any(|f| f.name == "webhooks-url" && !f.required));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_tenant_and_the_new_reads_and_writes_work() {
    let h = harness().await;
    let manifest = &h.connector.manifest;
    assert_eq!(manifest.result_modes, [ResultMode::Note]);
    assert!(manifest.application_attachments);
    for undeclared in [Operation::ListUsers, Operation::ListTags, Operation::WriteResult] {
        assert!(!manifest.operations.contains(&undeclared), "{undeclared:?}");
    }
    let Output::Account(account) = h.ok(Invocation::Check).await else { panic!("not an account") };
    assert_eq!(account.display_name, "acme-staffing");
    let refused = error_of(h.call_with(&h.fake.bad_credentials_config(), Invocation::Check).await);
    assert!(matches!(refused, AtsError::Unauthorized(_)), "{refused:?}");

    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("reads@carerix.example", "+31612340012").await.candidate_id;
    let Ok(Output::Application(created)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    let Output::Application(read) =
        h.ok(Invocation::GetApplication { application_id: created.id.clone() }).await
    else {
        panic!("not an application")
    };
    assert_eq!(read, created);
    assert_eq!((read.stage_name.as_deref(), read.status), (Some("New"), ApplicationStatus::Active));
    let missing = h.call(Invocation::GetApplication { application_id: "79999".into() }).await;
    assert!(matches!(error_of(missing), AtsError::NotFound(_)));

    let target = Target::Application(created.id.clone());
    let tag = |tag: &str| Invocation::AddTag(TagInput { target: target.clone(), tag: tag.into() });
    let untag =
        |tag: &str| Invocation::RemoveTag(TagInput { target: target.clone(), tag: tag.into() });
    for name in ["Sourcy", "Python", "Remote"] {
        h.ok(tag(name)).await;
    }
    h.ok(untag("python")).await;
    assert_eq!(h.fake.matches_of(&candidate)[0]["applyTags"], "Sourcy,Remote");
    let Output::Receipt(receipt) = h.ok(untag("Java")).await else { panic!("not a receipt") };
    assert!(receipt.remark.is_some_and(|r| r.contains("not tagged")));
}
