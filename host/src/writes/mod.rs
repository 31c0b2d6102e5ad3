//! Writes to an ATS through its connector: the composite "push candidate" (upsert +
//! application + CV + note + tags + source + answers, each part reported), single writes
//! (move stage, note, tag, attachment, reject, result), and the result → note fallback for
//! ATSs without a result field. Every write runs under the [`journal`] so a retry with the
//! same `Idempotency-Key` writes nothing twice.
//!
//! | module | owns |
//! |---|---|
//! | [`journal`] | idempotency keys, part-by-part progress, stored answers |
//! | `group_flush` | the sled journal's flushes, one per round of parts done |
//! | [`outcome`] | what a write did (push report, receipt, result report), typed |
//! | [`requests`] | the JSON bodies of write requests and their validation |
//! | [`results`] | `write-result`: native, the report as an attachment, or a note |

mod group_flush;
pub mod journal;
pub mod outcome;
pub mod requests;
mod results;

use crate::model::{
    ApplicationInput, AtsError, AttachmentInput, AttachmentKind, CandidateInput, NoteInput,
    Operation, RateLimit, RejectInput, TagInput, Target, UpsertOutcome,
};
use crate::runtime::{CallContext, CallError, Invocation, LoadedConnector, Output, Runtime};
use crate::sync::budget::{BudgetExhausted, Grant, RateBudgets, Ticket};
use journal::{Answer, Begin, Journal, JournalError, JournalKey};
pub use outcome::WriteOutcome;
use outcome::{CandidateOutcome, PartReport, PartStatus, PushReport, Receipt, WriteFailure};
use requests::{PushCandidate, ValidatedFile, WriteRequest};
use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Where a write goes.
pub struct WriteTarget<'a> {
    pub runtime: &'a Runtime,
    pub connector: Arc<LoadedConnector>,
    pub context: CallContext,
    /// The connection's rate budget, shared with its syncs.
    pub budgets: Option<&'a RateBudgets>,
    /// How long the write may wait for a turn in that budget (`[sync] write_budget_wait`).
    pub budget_wait: Duration,
}

/// Why a write failed as a whole (parts of a push that fail are reported, not errors).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{0}")]
    Call(CallError),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    #[error("the {connector} connector cannot {operation}: {detail}")]
    Unsupported { connector: String, operation: String, detail: String },
    /// No turn in the connection's rate budget within the write's deadline; nothing was
    /// written by this request.
    #[error(transparent)]
    RateBudget(#[from] BudgetExhausted),
    /// An earlier request with the same Idempotency-Key failed after writing part of it;
    /// nothing was written now.
    #[error(
        "an earlier request with this Idempotency-Key failed after writing part of it ({}): {}; use a new key to try again",
        .0.kind, .0.message
    )]
    FailedEarlier(WriteFailure),
}

impl WriteError {
    /// The failure the journal keeps for a write that failed after writing something.
    pub fn failure(&self) -> WriteFailure {
        let kind = match self {
            WriteError::FailedEarlier(failure) => return failure.clone(),
            WriteError::Call(error) => error.kind(),
            WriteError::Journal(_) => "journal",
            WriteError::Invalid { .. } => "invalid",
            WriteError::Unsupported { .. } => "unsupported",
            WriteError::RateBudget(_) => "rate-budget",
        };
        WriteFailure { kind: kind.into(), message: self.to_string() }
    }
}

/// The answer of a write: what it did, also what the journal replays.
pub struct WriteAnswer {
    pub outcome: WriteOutcome,
    /// True when the answer comes from the journal and nothing was written now.
    pub replayed: bool,
}

/// Runs `request` once per idempotency key (when one is given).
pub async fn execute(
    target: &WriteTarget<'_>,
    journal: &Journal,
    key: Option<JournalKey>,
    request: WriteRequest,
) -> Result<WriteAnswer, WriteError> {
    let validated =
        request.validate().map_err(|(field, problem)| WriteError::Invalid { field, problem })?;
    let done = match &key {
        Some(key) => {
            let print = journal::fingerprint(request.route(), &request.fingerprint_body());
            match journal.begin(key, &print).await? {
                Begin::Replay(Answer::Outcome(outcome)) => {
                    return Ok(WriteAnswer { outcome, replayed: true });
                }
                Begin::Replay(Answer::Failed(failure)) => {
                    return Err(WriteError::FailedEarlier(failure));
                }
                Begin::Run { done } => done,
            }
        }
        None => Vec::new(),
    };
    // The turn of the write's first call in the connection's rate budget: a write that
    // cannot start within its deadline is refused (nothing written) with when to retry. A
    // claim that resumes parts an earlier attempt did stays until its lease ends, so the
    // retry resumes it instead of writing those parts again.
    let ticket = target.budgets.map(RateBudgets::ticket);
    let mut prepaid = None;
    if let (Some(budgets), Some(ticket)) = (target.budgets, ticket) {
        let connection = &target.context.connection_id;
        let connector = &target.connector.manifest.id;
        match budgets.acquire_write(connection, connector, ticket, Some(target.budget_wait)).await {
            Ok(grant) => prepaid = Some(grant),
            Err(refused) => {
                if let Some(key) = &key
                    && done.is_empty()
                {
                    journal.abandon(key).await?;
                }
                return Err(WriteError::RateBudget(refused));
            }
        }
    }
    let mut run = Run {
        target,
        journal,
        key: key.as_ref(),
        done,
        wrote: false,
        ticket,
        prepaid: Mutex::new(prepaid),
    };
    let result = match validated {
        WriteRequest::PushCandidate(push) => run.push(*push).await.map(WriteOutcome::Pushed),
        other => run.single(other).await,
    };
    // A turn taken for a call that never came (unsupported, already done) goes back.
    let unused = run.prepaid.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let (Some(budgets), Some(grant)) = (target.budgets, unused) {
        budgets.refund(&target.context.connection_id, grant);
    }
    match (&key, &result) {
        (Some(key), Ok(outcome)) => journal.finish(key, &Answer::Outcome(outcome.clone())).await?,
        (Some(key), Err(_)) if !run.wrote => journal.abandon(key).await?,
        (Some(key), Err(error)) => journal.finish(key, &Answer::Failed(error.failure())).await?,
        (None, _) => {}
    }
    result.map(|outcome| WriteAnswer { outcome, replayed: false })
}

struct Run<'a, 'b> {
    target: &'a WriteTarget<'b>,
    journal: &'a Journal,
    key: Option<&'a JournalKey>,
    /// Parts finished by an earlier attempt with the same key.
    done: Vec<(String, Value)>,
    /// Whether anything was written in the ATS by this or an earlier attempt.
    wrote: bool,
    /// The write's place in the rate budget's queue, kept for all its calls.
    ticket: Option<Ticket>,
    /// The first call's turn, taken before the write started.
    prepaid: Mutex<Option<Grant>>,
}

impl Run<'_, '_> {
    fn supports(&self, operation: Operation) -> bool {
        self.target.connector.manifest.operations.contains(&operation)
    }

    /// One connector call in the connection's rate budget: the first uses the turn taken
    /// before the write started; later ones keep the write's place (ahead of later writes
    /// and of syncs) and, past the deadline, fail that part as rate limited.
    async fn call(
        &self,
        invocation: Invocation,
        write_key: Option<String>,
    ) -> Result<Output, CallError> {
        let prepaid = self.prepaid.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let (Some(budgets), Some(ticket), None) = (self.target.budgets, self.ticket, prepaid) {
            let connection = &self.target.context.connection_id;
            let connector = &self.target.connector.manifest.id;
            let deadline = Some(self.target.budget_wait);
            if let Err(refused) =
                budgets.acquire_write(connection, connector, ticket, deadline).await
            {
                return Err(CallError::Connector(AtsError::RateLimited(RateLimit {
                    retry_after_seconds: Some(
                        u32::try_from(refused.retry_after_secs()).unwrap_or(u32::MAX),
                    ),
                    message: format!("the host's rate budget for this connection: {refused}"),
                })));
            }
        }
        let runtime = self.target.runtime;
        match write_key {
            Some(write_key) => {
                let context =
                    CallContext { write_key: Some(write_key), ..self.target.context.clone() };
                runtime.call(&self.target.connector, &context, invocation).await
            }
            None => runtime.call(&self.target.connector, &self.target.context, invocation).await,
        }
    }

    /// Runs one part unless an earlier attempt did it; journals its result.
    async fn part(&mut self, name: &str, invocation: Invocation) -> Result<Output, CallError> {
        if let Some((_, result)) = self.done.iter().find(|(part, _)| part == name)
            && let Ok(output) = serde_json::from_value::<Output>(result.clone())
        {
            self.wrote = true;
            return Ok(output);
        }
        let write_key = self.key.map(|key| key.part_key(name));
        let output = self.call(invocation, write_key).await?;
        self.wrote = true;
        let result = serde_json::to_value(&output).unwrap_or(Value::Null);
        if let Some(key) = self.key {
            // Done and durable before the next part starts: a crash repeats at most the
            // part it cut off (and that with the same Idempotency-Key).
            let recorded = match self.journal.part_done(key, name, &result).await {
                Ok(()) => self.journal.persist().await,
                Err(error) => Err(error),
            };
            if let Err(error) = recorded {
                tracing::error!(%error, part = name, "cannot journal a finished write part");
            }
        }
        Ok(output)
    }

    async fn push(&mut self, push: PushCandidate) -> Result<PushReport, WriteError> {
        let connector = self.target.connector.manifest.id.clone();
        if !self.supports(Operation::UpsertCandidate) {
            return Err(WriteError::Unsupported {
                connector,
                operation: "upsert-candidate".into(),
                detail: "its manifest does not declare it".into(),
            });
        }
        let candidate = CandidateInput {
            first_name: push.candidate.first_name.clone(),
            last_name: push.candidate.last_name.clone(),
            emails: push.candidate.emails.clone(),
            phones: push.candidate.phones.clone(),
            source: push.source.clone(),
            location: push.candidate.location.clone(),
            company: push.candidate.company.clone(),
            title: push.candidate.title.clone(),
            links: push.candidate.links.clone(),
            custom_fields: push.candidate.custom_field_list(),
        };
        let Output::Upserted(upserted) = self
            .part("candidate", Invocation::UpsertCandidate(candidate))
            .await
            .map_err(WriteError::Call)?
        else {
            return Err(WriteError::Call(CallError::Host(
                "upsert-candidate returned another shape".into(),
            )));
        };
        let candidate_id = upserted.candidate_id.clone();
        let outcome = match upserted.outcome {
            UpsertOutcome::Created => CandidateOutcome::Created,
            UpsertOutcome::Matched => CandidateOutcome::Matched,
        };
        let mut parts = vec![PartReport::candidate(&candidate_id, outcome)];
        let mut application_id = None;

        if let Some(job_id) = &push.job_id {
            let input = ApplicationInput {
                candidate_id: candidate_id.clone(),
                job_id: job_id.clone(),
                stage_id: push.stage_id.clone(),
                source: push.source.clone(),
                answers: push.answer_list(),
            };
            let (report, output) = self
                .optional(
                    "application",
                    Operation::CreateApplication,
                    Invocation::CreateApplication(input),
                )
                .await;
            if let Some(Output::Application(application)) = output {
                application_id = Some(application.id.clone());
            }
            parts.push(report);
        }
        if let Some(cv) = &push.validated_cv {
            let input = attachment(Target::Candidate(candidate_id.clone()), cv, AttachmentKind::Cv);
            parts.push(
                self.optional("cv", Operation::AddAttachment, Invocation::AddAttachment(input))
                    .await
                    .0,
            );
        }
        let note_target = match &application_id {
            Some(id) => Target::Application(id.clone()),
            None => Target::Candidate(candidate_id.clone()),
        };
        if let Some(body) = &push.note {
            let input = NoteInput { target: note_target.clone(), body: body.clone() };
            let mut report =
                self.optional("note", Operation::AddNote, Invocation::AddNote(input)).await.0;
            // Some ATSs keep notes on candidates only (Recruitee, Teamtailor): a note the
            // application refuses as such (not a passing failure) goes on the candidate.
            let refused = report.status == PartStatus::Unsupported
                || matches!(report.error.as_deref(), Some("invalid-input" | "not-found"));
            if refused && matches!(note_target, Target::Application(_)) {
                let input = NoteInput {
                    target: Target::Candidate(candidate_id.clone()),
                    body: body.clone(),
                };
                let retried =
                    self.optional("note", Operation::AddNote, Invocation::AddNote(input)).await.0;
                if retried.status == PartStatus::Done {
                    report = retried;
                }
            }
            parts.push(report);
        }
        for tag in &push.tags {
            let input =
                TagInput { target: Target::Candidate(candidate_id.clone()), tag: tag.clone() };
            parts.push(
                self.optional(&format!("tag:{tag}"), Operation::AddTag, Invocation::AddTag(input))
                    .await
                    .0,
            );
        }
        let complete = parts.iter().all(|p| p.status == PartStatus::Done);
        Ok(PushReport { candidate_id, candidate_outcome: outcome, application_id, complete, parts })
    }

    /// A part of a push that may fail or be unsupported without failing the push: its
    /// report, and its output when it succeeded.
    async fn optional(
        &mut self,
        name: &str,
        operation: Operation,
        invocation: Invocation,
    ) -> (PartReport, Option<Output>) {
        if !self.supports(operation) {
            let detail = format!(
                "the {} connector does not support {}",
                self.target.connector.manifest.id,
                operation.wit_name()
            );
            return (PartReport::unsupported(name, detail), None);
        }
        match self.part(name, invocation).await {
            Ok(output) => {
                let remote_id = match &output {
                    Output::Application(application) => Some(application.id.clone()),
                    Output::Receipt(receipt) => receipt.remote_id.clone(),
                    _ => None,
                };
                (PartReport::done(name, remote_id), Some(output))
            }
            Err(CallError::Connector(AtsError::Conflict(message))) => {
                (PartReport::exists(name, message), None)
            }
            // Declared, but this connection's config does not offer it (e.g. an unmapped
            // tag field): the connector says what to configure.
            Err(error @ CallError::Connector(AtsError::Unsupported(_))) => {
                (PartReport::unsupported(name, error.to_string()), None)
            }
            Err(error) => (PartReport::failed(name, error.kind(), error.to_string()), None),
        }
    }

    async fn single(&mut self, request: WriteRequest) -> Result<WriteOutcome, WriteError> {
        let (operation, invocation) = match request {
            WriteRequest::MoveStage { application_id, stage_id } => (
                Operation::MoveApplication,
                Invocation::MoveApplication { application_id, stage_id },
            ),
            WriteRequest::AddNote { target, body } => {
                (Operation::AddNote, Invocation::AddNote(NoteInput { target: target.into(), body }))
            }
            WriteRequest::AddTag { target, tag } => {
                (Operation::AddTag, Invocation::AddTag(TagInput { target: target.into(), tag }))
            }
            WriteRequest::RemoveTag { target, tag } => (
                Operation::RemoveTag,
                Invocation::RemoveTag(TagInput { target: target.into(), tag }),
            ),
            WriteRequest::AddAttachment { target, file, kind, validated } => {
                let file = validated.unwrap_or_else(|| ValidatedFile::from_parts(&file));
                (
                    Operation::AddAttachment,
                    Invocation::AddAttachment(attachment(target.into(), &file, kind.into())),
                )
            }
            WriteRequest::Reject { application_id, reason, reason_id } => (
                Operation::RejectApplication,
                Invocation::RejectApplication(RejectInput { application_id, reason, reason_id }),
            ),
            WriteRequest::WriteResult(result) => {
                return self.result(*result).await.map(WriteOutcome::Result);
            }
            WriteRequest::PushCandidate(push) => {
                return self.push(*push).await.map(WriteOutcome::Pushed);
            }
        };
        if !self.supports(operation) {
            return Err(WriteError::Unsupported {
                connector: self.target.connector.manifest.id.clone(),
                operation: operation.wit_name().into(),
                detail: "its manifest does not declare it".into(),
            });
        }
        let output = self.part("write", invocation).await.map_err(WriteError::Call)?;
        Ok(WriteOutcome::Done(Receipt::done(receipt_id(&output))))
    }
}

/// The remote id a write answered, if any.
fn receipt_id(output: &Output) -> Option<String> {
    match output {
        Output::Receipt(receipt) => receipt.remote_id.clone(),
        Output::Application(application) => Some(application.id.clone()),
        _ => None,
    }
}

fn attachment(target: Target, file: &ValidatedFile, kind: AttachmentKind) -> AttachmentInput {
    AttachmentInput {
        target,
        filename: file.filename.clone(),
        content_type: file.content_type.clone(),
        kind,
        content: file.content.clone(),
    }
}
