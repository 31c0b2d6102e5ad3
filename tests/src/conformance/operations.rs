//! Checks of the operations: undeclared ones answer `unsupported`, declared ones round-trip
//! and what they wrote is in the fake.

use super::*;

/// Operations left out of the manifest answer `unsupported`, whatever the input.
pub async fn unsupported_operations_answer_unsupported(kit: &Kit<'_>) {
    for operation in Operation::ALL {
        if kit.supports(operation) {
            continue;
        }
        let Some(invocation) = ats_host::kit::samples::invocation(operation) else { continue };
        match kit.call(invocation).await {
            Err(error) if error.kind() == "unsupported" => {}
            other => kit.fail(
                "unsupported",
                format!("{} is not declared but answered {other:?}", operation.wit_name()),
            ),
        }
    }
}

/// Every declared operation works against the fake, and what it wrote is in the fake.
pub async fn supported_operations_round_trip(kit: &Kit<'_>) {
    let check = "round-trip";
    let seeded = kit.fake.seed_jobs(1, BASELINE);
    let job_id =
        seeded.first().cloned().unwrap_or_else(|| kit.fail(check, "seed_jobs returned no id"));
    if kit.supports(Operation::ListJobs) {
        let jobs = kit.all_jobs(check, None).await;
        assert!(
            jobs.iter().any(|(id, _)| *id == job_id),
            "[{}] {check}: seeded job {job_id} not listed",
            kit.name()
        );
    }
    let stages = if kit.supports(Operation::ListStages) {
        kit.stages(check, &job_id).await
    } else {
        Vec::new()
    };

    if !kit.supports(Operation::UpsertCandidate) {
        return;
    }
    let email = format!("{}@kit.example", unique("round-trip"));
    let phone = unique_phone();
    let Output::Upserted(upserted) = kit
        .expect(
            check,
            Invocation::UpsertCandidate(candidate_input(
                "Ada",
                "Lovelace",
                &email,
                &phone,
                Some("kit"),
            )),
        )
        .await
    else {
        kit.fail(check, "upsert-candidate returned something else")
    };
    assert_eq!(
        upserted.outcome,
        UpsertOutcome::Created,
        "[{}] {check}: a new e-mail must create",
        kit.name()
    );
    let candidate_id = upserted.candidate_id;
    let stored = kit.candidates_with_email(&email);
    assert_eq!(
        stored.len(),
        1,
        "[{}] {check}: the fake holds {} candidates with {email}",
        kit.name(),
        stored.len()
    );
    assert_eq!((stored[0].first_name.as_str(), stored[0].last_name.as_str()), ("Ada", "Lovelace"));

    if kit.supports(Operation::GetCandidate) {
        let Output::Candidate(candidate) = kit
            .expect(check, Invocation::GetCandidate { candidate_id: candidate_id.clone() })
            .await
        else {
            kit.fail(check, "get-candidate returned something else")
        };
        assert_eq!(candidate.id, candidate_id);
        assert!(
            candidate.emails.iter().any(|e| e.eq_ignore_ascii_case(&email)),
            "[{}] {check}: get-candidate lost the e-mail",
            kit.name()
        );
    }
    if kit.supports(Operation::FindCandidates) {
        let page = PageRequest { page_token: None, since: None, limit: Some(10) };
        let Output::Candidates(found) = kit
            .expect(
                check,
                Invocation::FindCandidates { lookup: CandidateLookup::Email(email.clone()), page },
            )
            .await
        else {
            kit.fail(check, "find-candidates returned something else")
        };
        assert!(
            found.items.iter().any(|c| c.id == candidate_id),
            "[{}] {check}: find by e-mail missed the candidate",
            kit.name()
        );
    }

    let mut application_id = None;
    if kit.supports(Operation::CreateApplication) {
        let input = ApplicationInput {
            candidate_id: candidate_id.clone(),
            job_id: job_id.clone(),
            stage_id: stages.first().map(|s| s.id.clone()),
            source: Some("kit".into()),
            answers: vec![Answer {
                question: "Notice period?".into(),
                answer: "One month".into(),
                ..Default::default()
            }],
        };
        let Output::Application(application) =
            kit.expect(check, Invocation::CreateApplication(input)).await
        else {
            kit.fail(check, "create-application returned something else")
        };
        assert_eq!(
            application.job_id,
            job_id,
            "[{}] {check}: the application is on another job",
            kit.name()
        );
        let landed = &kit.candidates_with_email(&email)[0].applications;
        assert!(
            landed.iter().any(|a| a.job_id == job_id),
            "[{}] {check}: no application on job {job_id} in the fake",
            kit.name()
        );
        application_id = Some(application.id);
    }
    if let (true, Some(application)) = (kit.supports(Operation::ListApplications), &application_id)
    {
        let listed = kit.all_applications(check).await;
        assert!(
            listed.iter().any(|a| a.id == *application),
            "[{}] {check}: list-applications misses {application}",
            kit.name()
        );
    }
    if let (true, Some(application), Some(second)) =
        (kit.supports(Operation::MoveApplication), &application_id, stages.get(1))
    {
        kit.expect(
            check,
            Invocation::MoveApplication {
                application_id: application.clone(),
                stage_id: second.id.clone(),
            },
        )
        .await;
        let landed = &kit.candidates_with_email(&email)[0].applications;
        assert!(
            landed.iter().any(|a| a.stage_id.as_deref() == Some(second.id.as_str())),
            "[{}] {check}: after move-application no application is in stage {}: {landed:?}",
            kit.name(),
            second.id
        );
    }
    if kit.supports(Operation::AddNote) {
        let body = unique("Kit note ");
        write_on_either(kit, check, application_id.as_deref(), &candidate_id, |target| {
            Invocation::AddNote(NoteInput { target, body: body.clone() })
        })
        .await;
        let notes = &kit.candidates_with_email(&email)[0].notes;
        assert!(
            notes.iter().any(|n| n.contains(&body)),
            "[{}] {check}: the note did not land: {notes:?}",
            kit.name()
        );
    }
    if kit.supports(Operation::AddTag) {
        let tag = unique("kit-tag-");
        write_on_either(kit, check, application_id.as_deref(), &candidate_id, |target| {
            Invocation::AddTag(TagInput { target, tag: tag.clone() })
        })
        .await;
        let tags = &kit.candidates_with_email(&email)[0].tags;
        assert!(tags.contains(&tag), "[{}] {check}: the tag did not land: {tags:?}", kit.name());
    }
    if kit.supports(Operation::AddAttachment) {
        write_on_either(kit, check, application_id.as_deref(), &candidate_id, |target| {
            Invocation::AddAttachment(attachment(target, AttachmentKind::Report))
        })
        .await;
        let files = &kit.candidates_with_email(&email)[0].attachments;
        assert!(
            files.iter().any(|(_, bytes)| bytes == SAMPLE_PDF),
            "[{}] {check}: the file did not land intact",
            kit.name()
        );
    }
    if let (true, Some(application)) = (kit.supports(Operation::WriteResult), &application_id) {
        let link = format!("https://assess.example/{}", unique("r"));
        let input = ResultInput {
            application_id: application.clone(),
            score: Some(87.5),
            link: Some(link.clone()),
            summary: Some("Strong match".into()),
            ..Default::default()
        };
        kit.expect(check, Invocation::WriteResult(input)).await;
        let candidate = &kit.candidates_with_email(&email)[0];
        let landed = candidate.applications.iter().any(|a| a.result_text.contains(&link))
            || candidate.notes.iter().any(|n| n.contains(&link));
        assert!(
            landed,
            "[{}] {check}: the result link is nowhere in the fake: {candidate:?}",
            kit.name()
        );
    }
    if let (true, Some(application)) = (kit.supports(Operation::RejectApplication), &application_id)
    {
        let reason = unique("Position filled ");
        kit.expect(
            check,
            Invocation::RejectApplication(RejectInput {
                application_id: application.clone(),
                reason: reason.clone(),
                ..Default::default()
            }),
        )
        .await;
        let landed = &kit.candidates_with_email(&email)[0].applications;
        assert!(
            landed
                .iter()
                .any(|a| a.rejected_reason.as_deref().is_some_and(|r| r.contains(&reason))),
            "[{}] {check}: the rejection did not land: {landed:?}",
            kit.name()
        );
    }
}
