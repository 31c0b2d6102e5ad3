//! The write checks, in the order a sourcing product writes: a new candidate upserted twice
//! (created, then matched), an application on a listed job, moved to another stage, a
//! note, a tag added and removed, a CV, a result, a rejection, and a webhook subscription
//! created and removed. Each write is read back where the connector can read it.

use super::samples::{SAMPLE_PDF, attachment, candidate_input, unique, unique_phone};
use super::{Kit, Outcome, failed, passed, skipped};
use crate::model::*;
use crate::runtime::{Invocation, Output};

/// What the write checks created, for the checks after them.
#[derive(Debug, Default)]
pub(super) struct Written {
    candidate_id: Option<String>,
    application_id: Option<String>,
    tag_target: Option<Target>,
    webhook_id: Option<String>,
}

const TAG: &str = "ats-kit";

pub(super) async fn run(kit: &mut Kit<'_>) {
    kit.check(Operation::UpsertCandidate, "creates, then matches the same person", async |kit| {
        upsert(kit).await
    })
    .await;
    kit.check(Operation::CreateApplication, "applies the candidate to a job", async |kit| {
        create_application(kit).await
    })
    .await;
    kit.check(Operation::MoveApplication, "moves the application", async |kit| {
        move_application(kit).await
    })
    .await;
    kit.check(Operation::AddNote, "adds a note", async |kit| {
        let body = "Note written by `ats-host connector test`.".to_string();
        on_either(kit, |target| Invocation::AddNote(NoteInput { target, body: body.clone() }))
            .await
            .1
    })
    .await;
    kit.check(Operation::AddTag, "adds a tag", async |kit| {
        let (target, outcome) =
            on_either(kit, |target| Invocation::AddTag(TagInput { target, tag: TAG.into() })).await;
        kit.found.written.tag_target = target;
        outcome
    })
    .await;
    kit.check(Operation::RemoveTag, "removes that tag", async |kit| {
        let Some(target) = kit.found.written.tag_target.clone() else {
            return skipped("no tag was added");
        };
        receipt(kit.call(Invocation::RemoveTag(TagInput { target, tag: TAG.into() })).await)
    })
    .await;
    kit.check(Operation::AddAttachment, "attaches a CV", async |kit| {
        on_either(kit, |target| Invocation::AddAttachment(attachment(target, AttachmentKind::Cv)))
            .await
            .1
    })
    .await;
    kit.check(Operation::WriteResult, "writes a result", async |kit| {
        let Some(application_id) = kit.found.written.application_id.clone() else {
            return skipped("no application was created");
        };
        let input = ResultInput {
            application_id,
            score: Some(82.0),
            max_score: Some(100.0),
            link: Some("https://assessments.example/report/ats-kit".into()),
            summary: Some("Written by `ats-host connector test`.".into()),
            report: Some(ReportFile {
                filename: "report.pdf".into(),
                content_type: "application/pdf".into(),
                content: SAMPLE_PDF.to_vec(),
            }),
            ..Default::default()
        };
        receipt(kit.call(Invocation::WriteResult(input)).await)
    })
    .await;
    kit.check(Operation::RejectApplication, "rejects the application", async |kit| {
        let Some(application_id) = kit.found.written.application_id.clone() else {
            return skipped("no application was created");
        };
        let (reason_id, reason) = kit
            .found
            .rejection_reason
            .clone()
            .map_or((None, "Not a fit (ats-kit)".to_string()), |(id, name)| (Some(id), name));
        let input = RejectInput { application_id, reason, reason_id };
        receipt(kit.call(Invocation::RejectApplication(input)).await)
    })
    .await;
    kit.check(Operation::RegisterWebhook, "subscribes to changes", async |kit| {
        let subscription = WebhookSubscription {
            url: "https://ats-host.invalid/v1/inbound/ats-kit".into(),
            secret: Some(unique("kit-secret-")),
            kinds: vec![ChangeKind::ApplicationChanged],
        };
        match kit.call(Invocation::RegisterWebhook(subscription)).await {
            Ok(Output::Receipt(receipt)) => {
                kit.found.written.webhook_id = receipt.remote_id.clone();
                passed(format!("subscription {}", receipt.remote_id.as_deref().unwrap_or("?")))
            }
            other => failed(format!("answered {}", super::summary(&other))),
        }
    })
    .await;
    kit.check(Operation::UnregisterWebhook, "removes that subscription", async |kit| {
        let Some(remote_id) = kit.found.written.webhook_id.clone() else {
            return skipped("no subscription id came back from register-webhook");
        };
        receipt(kit.call(Invocation::UnregisterWebhook { remote_id }).await)
    })
    .await;
}

fn receipt(result: Result<Output, crate::runtime::CallError>) -> Outcome {
    match result {
        Ok(Output::Receipt(receipt)) => passed(match (&receipt.remote_id, &receipt.remark) {
            (_, Some(remark)) => format!("done ({remark})"),
            (Some(id), None) => format!("done (remote id {id})"),
            (None, None) => "done".to_string(),
        }),
        other => failed(format!("answered {}", super::summary(&other))),
    }
}

async fn upsert(kit: &mut Kit<'_>) -> Outcome {
    let email = format!("{}@ats-kit.example", unique("kit-"));
    let input = candidate_input("Ada", "Kit", &email, &unique_phone(), Some("ats-kit"));
    let first = match kit.call(Invocation::UpsertCandidate(input.clone())).await {
        Ok(Output::Upserted(result)) => result,
        other => return failed(format!("first upsert answered {}", super::summary(&other))),
    };
    if first.outcome != UpsertOutcome::Created {
        return failed(format!("a new e-mail ({email}) matched candidate {}", first.candidate_id));
    }
    kit.found.written.candidate_id = Some(first.candidate_id.clone());
    let second = match kit.call(Invocation::UpsertCandidate(input)).await {
        Ok(Output::Upserted(result)) => result,
        other => return failed(format!("second upsert answered {}", super::summary(&other))),
    };
    if second.outcome != UpsertOutcome::Matched || second.candidate_id != first.candidate_id {
        return failed(format!(
            "the same person again gave {:?} {} (first: created {}); a second candidate may now exist",
            second.outcome, second.candidate_id, first.candidate_id
        ));
    }
    if kit.declares(Operation::GetCandidate) {
        match kit.call(Invocation::GetCandidate { candidate_id: first.candidate_id.clone() }).await
        {
            Ok(Output::Candidate(c)) if c.emails.iter().any(|e| e.eq_ignore_ascii_case(&email)) => {
            }
            other => {
                return failed(format!(
                    "candidate {} read back without {email}: {}",
                    first.candidate_id,
                    super::summary(&other)
                ));
            }
        }
    }
    passed(format!("candidate {} ({email}) created, then matched", first.candidate_id))
}

async fn create_application(kit: &mut Kit<'_>) -> Outcome {
    let Some(candidate_id) = kit.found.written.candidate_id.clone() else {
        return skipped("no candidate was created");
    };
    let Some(job_id) = kit.found.job_ids.first().cloned() else {
        return skipped("no job listed to apply to");
    };
    let input = ApplicationInput {
        candidate_id,
        job_id: job_id.clone(),
        stage_id: kit.found.stages.first().map(|s| s.id.clone()),
        source: Some("ats-kit".into()),
        answers: vec![Answer {
            question: "Willing to relocate?".into(),
            answer: "Yes".into(),
            ..Default::default()
        }],
    };
    let created = match kit.call(Invocation::CreateApplication(input)).await {
        Ok(Output::Application(application)) if !application.id.is_empty() => application,
        other => return failed(format!("answered {}", super::summary(&other))),
    };
    kit.found.written.application_id = Some(created.id.clone());
    if kit.declares(Operation::GetApplication) {
        match kit.call(Invocation::GetApplication { application_id: created.id.clone() }).await {
            Ok(Output::Application(read)) if read.id == created.id => {}
            other => {
                return failed(format!(
                    "application {} does not read back: {}",
                    created.id,
                    super::summary(&other)
                ));
            }
        }
    }
    passed(format!("application {} on job {job_id}", created.id))
}

async fn move_application(kit: &mut Kit<'_>) -> Outcome {
    let Some(application_id) = kit.found.written.application_id.clone() else {
        return skipped("no application was created");
    };
    let Some(stage) = kit.found.stages.get(1).or(kit.found.stages.first()).cloned() else {
        return skipped("no stage listed to move to");
    };
    let answer = kit
        .call(Invocation::MoveApplication {
            application_id: application_id.clone(),
            stage_id: stage.id.clone(),
        })
        .await;
    let outcome = receipt(answer);
    if outcome.0 != super::Verdict::Passed || !kit.declares(Operation::GetApplication) {
        return outcome;
    }
    match kit.call(Invocation::GetApplication { application_id }).await {
        Ok(Output::Application(read)) if read.stage_id.as_deref().is_none_or(|s| s == stage.id) => {
            passed(format!("moved to `{}` and read back there", stage.name))
        }
        Ok(Output::Application(read)) => failed(format!(
            "moved to stage {} but reads back in stage {}",
            stage.id,
            read.stage_id.unwrap_or_default()
        )),
        other => {
            failed(format!("the moved application does not read back: {}", super::summary(&other)))
        }
    }
}

/// A write on the created application, or on the candidate where the ATS keeps it there:
/// the target that worked, and the outcome.
async fn on_either(
    kit: &mut Kit<'_>,
    make: impl Fn(Target) -> Invocation,
) -> (Option<Target>, Outcome) {
    let written = &kit.found.written;
    let targets: Vec<Target> = written
        .application_id
        .clone()
        .map(Target::Application)
        .into_iter()
        .chain(written.candidate_id.clone().map(Target::Candidate))
        .collect();
    if targets.is_empty() {
        return (None, skipped("no candidate or application was created"));
    }
    let mut errors = Vec::new();
    for target in targets {
        let on = match &target {
            Target::Application(id) => format!("application {id}"),
            Target::Candidate(id) => format!("candidate {id}"),
        };
        match kit.call(make(target.clone())).await {
            Ok(Output::Receipt(_)) => return (Some(target), passed(format!("on {on}"))),
            other => errors.push(format!("on {on}: {}", super::summary(&other))),
        }
    }
    (None, failed(errors.join("; ")))
}
