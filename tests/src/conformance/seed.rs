//! The seed scenario: a sourcing product pushing an interested candidate.

use super::*;

/// What the seed scenario could do with this connector.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub candidate_id: String,
    /// Parts of the push the connector declares unsupported (not attempted).
    pub unsupported: Vec<&'static str>,
}

/// The seed scenario: a sourcing product pushes an interested candidate (name, e-mail,
/// phone, CV, source tag, qualification answers, the first outreach message as a note),
/// linked to a job by its ATS id, in the first stage of the pipeline. Everything declared
/// must land in the fake; pushing again with the same e-mail updates, never duplicates.
pub async fn seed_scenario(fake: &dyn FakeAts) -> SeedReport {
    let kit = Kit::new(fake).await;
    let check = "seed-scenario";
    let mut report = SeedReport::default();
    let job_id = fake
        .seed_jobs(1, BASELINE)
        .into_iter()
        .next()
        .unwrap_or_else(|| kit.fail(check, "no job seeded"));
    let stage = if kit.supports(Operation::ListStages) {
        kit.stages(check, &job_id).await.into_iter().next()
    } else {
        None
    };
    let email = format!("{}@sourcing.example", unique("jane"));
    let phone = unique_phone();
    let outreach = "Hi Jane, your profile fits our Data Engineer role. Interested in a call?";
    let answers = vec![
        Answer {
            question: "Willing to relocate?".into(),
            answer: "Yes, to Utrecht".into(),
            ..Default::default()
        },
        Answer {
            question: "Salary expectation".into(),
            answer: "EUR 5,000 per month".into(),
            ..Default::default()
        },
    ];

    if !kit.supports(Operation::UpsertCandidate) {
        report.unsupported.push("upsert-candidate");
        return report;
    }
    let push = Invocation::UpsertCandidate(candidate_input(
        "Jane",
        "Jansen",
        &email,
        &phone,
        Some("Sourcy"),
    ));
    let Output::Upserted(first) = kit.expect(check, push.clone()).await else {
        kit.fail(check, "upsert returned something else")
    };
    assert_eq!(
        first.outcome,
        UpsertOutcome::Created,
        "[{}] {check}: first push must create",
        kit.name()
    );
    let candidate_id = first.candidate_id.clone();
    report.candidate_id = candidate_id.clone();

    let mut application_id = None;
    if kit.supports(Operation::CreateApplication) {
        let input = ApplicationInput {
            candidate_id: candidate_id.clone(),
            job_id: job_id.clone(),
            stage_id: stage.as_ref().map(|s| s.id.clone()),
            source: Some("Sourcy".into()),
            answers: answers.clone(),
        };
        let Output::Application(application) =
            kit.expect(check, Invocation::CreateApplication(input)).await
        else {
            kit.fail(check, "create-application returned something else")
        };
        application_id = Some(application.id);
    } else {
        report.unsupported.push("create-application");
    }
    if kit.supports(Operation::AddAttachment) {
        let cv = AttachmentInput {
            filename: "jane-jansen-cv.pdf".into(),
            ..attachment(Target::Candidate(candidate_id.clone()), AttachmentKind::Cv)
        };
        kit.expect(check, Invocation::AddAttachment(cv)).await;
    } else {
        report.unsupported.push("add-attachment");
    }
    if kit.supports(Operation::AddTag) {
        write_on_either(&kit, check, None, &candidate_id, |target| {
            Invocation::AddTag(TagInput { target, tag: "Sourcy".into() })
        })
        .await;
    } else {
        report.unsupported.push("add-tag");
    }
    if kit.supports(Operation::AddNote) {
        write_on_either(&kit, check, application_id.as_deref(), &candidate_id, |target| {
            Invocation::AddNote(NoteInput { target, body: outreach.into() })
        })
        .await;
    } else {
        report.unsupported.push("add-note");
    }

    let stored = kit.candidates_with_email(&email);
    assert_eq!(
        stored.len(),
        1,
        "[{}] {check}: expected one candidate with {email}, found {}",
        kit.name(),
        stored.len()
    );
    let jane = &stored[0];
    assert_eq!(
        (jane.first_name.as_str(), jane.last_name.as_str()),
        ("Jane", "Jansen"),
        "[{}] {check}: name",
        kit.name()
    );
    assert!(
        jane.phones.iter().any(|p| digits(p) == digits(&phone)),
        "[{}] {check}: phone missing: {jane:?}",
        kit.name()
    );
    if kit.supports(Operation::AddAttachment) {
        assert!(
            jane.attachments.iter().any(|(_, bytes)| bytes == SAMPLE_PDF),
            "[{}] {check}: CV missing",
            kit.name()
        );
    }
    if kit.supports(Operation::AddTag) {
        assert!(
            jane.tags.iter().any(|t| t == "Sourcy"),
            "[{}] {check}: source tag missing: {:?}",
            kit.name(),
            jane.tags
        );
    }
    if kit.supports(Operation::AddNote) {
        assert!(
            jane.notes.iter().any(|n| n.contains(outreach)),
            "[{}] {check}: outreach note missing: {:?}",
            kit.name(),
            jane.notes
        );
    }
    if kit.supports(Operation::CreateApplication) {
        let application =
            jane.applications.iter().find(|a| a.job_id == job_id).unwrap_or_else(|| {
                kit.fail(check, format!("no application on job {job_id}: {:?}", jane.applications))
            });
        if let Some(stage) = &stage {
            assert_eq!(
                application.stage_id.as_deref(),
                Some(stage.id.as_str()),
                "[{}] {check}: initial stage",
                kit.name()
            );
        }
        for answer in &answers {
            assert!(
                application.answers_text.contains(&answer.answer),
                "[{}] {check}: answer `{}` missing",
                kit.name(),
                answer.answer
            );
        }
    }

    let Output::Upserted(again) = kit.expect(check, push).await else {
        kit.fail(check, "upsert returned something else")
    };
    assert_eq!(
        again.outcome,
        UpsertOutcome::Matched,
        "[{}] {check}: the second push must match",
        kit.name()
    );
    assert_eq!(
        again.candidate_id,
        candidate_id,
        "[{}] {check}: the second push found another candidate",
        kit.name()
    );
    assert_eq!(
        kit.candidates_with_email(&email).len(),
        1,
        "[{}] {check}: the second push duplicated the candidate",
        kit.name()
    );
    report
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}
