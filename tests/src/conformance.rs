//! The connector conformance kit: one generic suite every connector must pass against its
//! fake ATS, and the seed scenario (a sourcing product pushing an interested candidate).
//!
//! To run it on your own connector: make your connector a `cdylib` under `connectors/` (it is
//! then bundled into the host), implement [`FakeAts`] for a fake of your ATS, and add
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn conformance() {
//!     let fake = MyFake::start().await;
//!     ats_tests::conformance::run_kit(&fake).await;
//!     ats_tests::conformance::seed_scenario(&fake).await;
//! }
//! ```
//!
//! What [`run_kit`] checks (each failure names the connector and the check):
//! - every operation the manifest leaves out answers `unsupported`; every declared one
//!   round-trips against the fake, and what was written is visible in the fake;
//! - paging through more than 1,000 jobs returns each exactly once;
//! - incremental `since` returns only changed records, including records sharing one
//!   timestamp across a page boundary;
//! - upserting the same candidate twice (same e-mail, then same phone) keeps one candidate
//!   and the second call reports `matched`;
//! - 429 → `rate-limited` with the right retry-after (seconds and HTTP-date); an expired
//!   session or token → exactly one re-authentication, then success; 5xx → `transient`; bad
//!   credentials → `unauthorized`;
//! - the connection's secrets never appear in host logs or in error messages.

use crate::fakes::{FakeAts, FakeCandidate};
use crate::log_capture;
use ats_host::runtime::bindings::*;
use ats_host::runtime::{
    CallContext, CallError, Field, Invocation, Limits, LoadedConnector, Output, Runtime,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// Timestamps the kit seeds with; everything else the kit seeds is older than these.
const BASELINE: &str = "2025-01-01T00:00:00Z";
const BULK: &str = "2025-06-01T00:00:00Z";
const SAME_INSTANT: &str = "2026-03-01T10:00:00Z";
const TOUCHED: &str = "2026-04-01T10:00:00Z";
const PAGE: u32 = 100;

/// A minimal PDF, standing in for a CV or report.
pub const SAMPLE_PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

static CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

/// One connector loaded in a sandbox runtime, talking to one fake.
pub struct Kit<'a> {
    fake: &'a dyn FakeAts,
    runtime: Arc<Runtime>,
    connector: Arc<LoadedConnector>,
    connection: String,
    errors: Mutex<Vec<String>>,
}

impl<'a> Kit<'a> {
    /// Loads the fake's connector from the host's bundled connectors.
    pub async fn new(fake: &'a dyn FakeAts) -> Kit<'a> {
        log_capture::install();
        let limits = Limits {
            call_timeout: Duration::from_secs(20),
            pooling_instances: 32,
            ..Limits::default()
        };
        let runtime = crate::runtime(limits);
        let connector = crate::bundled_connector(&runtime, fake.connector_package()).await;
        Kit {
            fake,
            runtime,
            connector,
            connection: new_connection_id(fake.connector_package()),
            errors: Mutex::new(Vec::new()),
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.connector.manifest
    }

    pub fn supports(&self, operation: Operation) -> bool {
        self.manifest().operations.contains(&operation)
    }

    fn name(&self) -> &str {
        &self.manifest().id
    }

    fn context_for(&self, connection: &str, config: Vec<(String, String)>) -> CallContext {
        let config = config.into_iter().map(|(name, value)| Field { name, value }).collect();
        let mut context = CallContext::new(connection, config);
        context.allow_private_networks = true; // the fake listens on 127.0.0.1
        context
    }

    /// Calls the connector with the fake's valid config; every error is remembered for the
    /// secrets check.
    pub async fn call(&self, invocation: Invocation) -> Result<Output, CallError> {
        let context = self.context_for(&self.connection, self.fake.config());
        self.call_with(&context, invocation).await
    }

    async fn call_with(
        &self,
        context: &CallContext,
        invocation: Invocation,
    ) -> Result<Output, CallError> {
        let result = self.runtime.call(&self.connector, context, invocation).await;
        if let Err(error) = &result {
            self.errors.lock().unwrap_or_else(PoisonError::into_inner).push(error.to_string());
        }
        result
    }

    /// Calls and expects success, failing the test with the check's name otherwise.
    pub async fn expect(&self, check: &str, invocation: Invocation) -> Output {
        match self.call(invocation).await {
            Ok(output) => output,
            Err(error) => panic!("[{}] {check}: call failed: {error}", self.name()),
        }
    }

    /// Every job the connector lists (following page tokens), as (id, title) in order.
    pub async fn all_jobs(&self, check: &str, since: Option<&str>) -> Vec<(String, String)> {
        let mut jobs = Vec::new();
        let mut token: Option<String> = None;
        let mut seen_tokens = HashSet::new();
        for _ in 0..500 {
            let page = PageRequest {
                page_token: token.clone(),
                since: since.map(str::to_string),
                limit: Some(PAGE),
            };
            let Output::Jobs(page) = self.expect(check, Invocation::ListJobs(page)).await else {
                panic!("[{}] {check}: list-jobs returned something else", self.name());
            };
            jobs.extend(page.items.into_iter().map(|job| (job.id, job.title)));
            match page.next_page_token {
                None => return jobs,
                Some(next) => {
                    assert!(
                        seen_tokens.insert(next.clone()),
                        "[{}] {check}: page token `{next}` repeated",
                        self.name()
                    );
                    token = Some(next);
                }
            }
        }
        panic!("[{}] {check}: more than 500 pages", self.name());
    }

    async fn all_applications(&self, check: &str) -> Vec<Application> {
        let mut applications = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..500 {
            let page = PageRequest { page_token: token.clone(), since: None, limit: Some(PAGE) };
            let Output::Applications(page) =
                self.expect(check, Invocation::ListApplications(page)).await
            else {
                panic!("[{}] {check}: list-applications returned something else", self.name());
            };
            applications.extend(page.items);
            match page.next_page_token {
                None => return applications,
                Some(next) if Some(&next) == token.as_ref() => {
                    panic!("[{}] {check}: page token repeated", self.name())
                }
                Some(next) => token = Some(next),
            }
        }
        panic!("[{}] {check}: more than 500 pages", self.name());
    }

    /// The stages of the global pipeline, or of `job_id` when the ATS keeps them per job.
    pub async fn stages(&self, check: &str, job_id: &str) -> Vec<Stage> {
        let first = PageRequest { page_token: None, since: None, limit: Some(PAGE) };
        let global = Invocation::ListStages { job_id: None, page: first.clone() };
        let output = match self.call(global).await {
            Ok(output) => output,
            Err(_) => {
                self.expect(
                    check,
                    Invocation::ListStages { job_id: Some(job_id.to_string()), page: first },
                )
                .await
            }
        };
        let Output::Stages(page) = output else {
            panic!("[{}] {check}: list-stages returned something else", self.name())
        };
        assert!(
            !page.items.is_empty(),
            "[{}] {check}: the fake has a pipeline but no stage was listed",
            self.name()
        );
        page.items
    }

    /// The fake's candidates with `email`.
    pub fn candidates_with_email(&self, email: &str) -> Vec<FakeCandidate> {
        self.fake
            .candidates()
            .into_iter()
            .filter(|c| c.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
            .collect()
    }

    fn fail(&self, check: &str, what: impl std::fmt::Display) -> ! {
        panic!("[{}] {check}: {what}", self.name())
    }
}

fn new_connection_id(package: &str) -> String {
    format!("kit-{package}-{}", CONNECTIONS.fetch_add(1, Ordering::SeqCst))
}

fn unique(prefix: &str) -> String {
    let nanos =
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{}{nanos}", CONNECTIONS.fetch_add(1, Ordering::SeqCst))
}

/// Runs every generic check against `fake`. Panics on the first failure, naming the
/// connector and the check.
pub async fn run_kit(fake: &dyn FakeAts) {
    let kit = Kit::new(fake).await;
    unsupported_operations_answer_unsupported(&kit).await;
    supported_operations_round_trip(&kit).await;
    paging_returns_every_job_once(&kit).await;
    incremental_since_returns_only_changed_jobs(&kit).await;
    upsert_twice_keeps_one_candidate(&kit).await;
    rate_limits_carry_the_retry_after(&kit).await;
    expired_session_reauthenticates_exactly_once(&kit).await;
    server_errors_are_transient(&kit).await;
    bad_credentials_are_unauthorized(&kit).await;
    secrets_never_leak(&kit);
}

/// Operations left out of the manifest answer `unsupported`, whatever the input.
pub async fn unsupported_operations_answer_unsupported(kit: &Kit<'_>) {
    for operation in Operation::ALL {
        if kit.supports(operation) {
            continue;
        }
        let Some(invocation) = sample_invocation(operation) else { continue };
        match kit.call(invocation).await {
            Err(error) if error.kind() == "unsupported" => {}
            other => kit.fail(
                "unsupported",
                format!("{} is not declared but answered {other:?}", operation.wit_name()),
            ),
        }
    }
}

fn sample_invocation(operation: Operation) -> Option<Invocation> {
    let page = PageRequest { page_token: None, since: None, limit: Some(10) };
    let target = Target::Candidate("1".into());
    Some(match operation {
        Operation::ListJobs => Invocation::ListJobs(page),
        Operation::ListStages => Invocation::ListStages { job_id: None, page },
        Operation::ListApplications => Invocation::ListApplications(page),
        Operation::GetCandidate => Invocation::GetCandidate { candidate_id: "1".into() },
        Operation::FindCandidates => {
            Invocation::FindCandidates { lookup: CandidateLookup::Email("a@b.c".into()), page }
        }
        Operation::UpsertCandidate => {
            Invocation::UpsertCandidate(candidate_input("A", "B", "a@b.c", "+31600000000", None))
        }
        Operation::CreateApplication => Invocation::CreateApplication(ApplicationInput {
            candidate_id: "1".into(),
            job_id: "1".into(),
            stage_id: None,
            source: None,
            answers: vec![],
        }),
        Operation::MoveApplication => {
            Invocation::MoveApplication { application_id: "1".into(), stage_id: "1".into() }
        }
        Operation::AddNote => Invocation::AddNote(NoteInput { target, body: "x".into() }),
        Operation::AddTag => Invocation::AddTag(TagInput { target, tag: "x".into() }),
        Operation::AddAttachment => {
            Invocation::AddAttachment(attachment(target, AttachmentKind::Other))
        }
        Operation::RejectApplication => Invocation::RejectApplication(RejectInput {
            application_id: "1".into(),
            reason: "x".into(),
        }),
        Operation::WriteResult => Invocation::WriteResult(ResultInput {
            application_id: "1".into(),
            score: None,
            link: None,
            summary: None,
        }),
        Operation::ParseWebhook => return None, // a webhook body is ATS-specific
    })
}

fn candidate_input(
    first: &str,
    last: &str,
    email: &str,
    phone: &str,
    source: Option<&str>,
) -> CandidateInput {
    CandidateInput {
        first_name: first.into(),
        last_name: last.into(),
        emails: vec![email.into()],
        phones: vec![phone.into()],
        source: source.map(str::to_string),
        custom_fields: vec![],
    }
}

fn attachment(target: Target, kind: AttachmentKind) -> AttachmentInput {
    AttachmentInput {
        target,
        filename: "cv.pdf".into(),
        content_type: "application/pdf".into(),
        kind,
        content: SAMPLE_PDF.to_vec(),
    }
}

fn unique_phone() -> String {
    let nanos =
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!(
        "+3161{:07}",
        (nanos / 100 + CONNECTIONS.fetch_add(1, Ordering::SeqCst) as u32) % 10_000_000
    )
}

/// Calls a write that may land on the application or, where the ATS keeps it there, on the
/// candidate: tries the application first.
async fn write_on_either(
    kit: &Kit<'_>,
    check: &str,
    application_id: Option<&str>,
    candidate_id: &str,
    make: impl Fn(Target) -> Invocation,
) -> WriteReceipt {
    let mut last_error = None;
    let targets = application_id
        .map(|id| Target::Application(id.to_string()))
        .into_iter()
        .chain([Target::Candidate(candidate_id.to_string())]);
    for target in targets {
        match kit.call(make(target)).await {
            Ok(Output::Receipt(receipt)) => return receipt,
            Ok(other) => kit.fail(check, format!("expected a write receipt, got {other:?}")),
            Err(error) => last_error = Some(error),
        }
    }
    kit.fail(check, format!("failed on both the application and the candidate: {last_error:?}"))
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
            answers: vec![Answer { question: "Notice period?".into(), answer: "One month".into() }],
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

/// Paging through more than 1,000 jobs returns each exactly once.
pub async fn paging_returns_every_job_once(kit: &Kit<'_>) {
    if !kit.supports(Operation::ListJobs) {
        return;
    }
    let check = "paging";
    let seeded: HashSet<String> = kit.fake.seed_jobs(1_050, BULK).into_iter().collect();
    let listed = kit.all_jobs(check, None).await;
    let ids: Vec<&String> = listed.iter().map(|(id, _)| id).collect();
    let unique_ids: HashSet<&String> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique_ids.len(), "[{}] {check}: a job was listed twice", kit.name());
    let missing = seeded.iter().filter(|id| !unique_ids.contains(id)).count();
    assert_eq!(
        missing,
        0,
        "[{}] {check}: {missing} of 1,050 seeded jobs were not listed",
        kit.name()
    );
}

/// `since` returns only records changed at or after it, even when many share one timestamp
/// across a page boundary.
pub async fn incremental_since_returns_only_changed_jobs(kit: &Kit<'_>) {
    if !kit.supports(Operation::ListJobs) {
        return;
    }
    let check = "incremental";
    let older = kit.fake.seed_jobs(1, BULK);
    let same_instant: HashSet<String> = kit.fake.seed_jobs(150, SAME_INSTANT).into_iter().collect();
    let listed: HashSet<String> =
        kit.all_jobs(check, Some(SAME_INSTANT)).await.into_iter().map(|(id, _)| id).collect();
    let missing = same_instant.difference(&listed).count();
    assert_eq!(
        missing,
        0,
        "[{}] {check}: {missing} of 150 jobs sharing one timestamp were lost",
        kit.name()
    );
    assert!(
        listed.iter().all(|id| same_instant.contains(id)),
        "[{}] {check}: older jobs were returned",
        kit.name()
    );

    let touched =
        older.first().cloned().unwrap_or_else(|| kit.fail(check, "seed_jobs returned no id"));
    kit.fake.touch_job(&touched, "Renamed by the kit", TOUCHED);
    let changed = kit.all_jobs(check, Some(TOUCHED)).await;
    assert_eq!(
        changed.len(),
        1,
        "[{}] {check}: expected only the touched job, got {}",
        kit.name(),
        changed.len()
    );
    assert_eq!(
        changed[0],
        (touched, "Renamed by the kit".to_string()),
        "[{}] {check}: the change is not visible",
        kit.name()
    );
}

/// The same person pushed twice (same e-mail, then same phone) stays one candidate.
pub async fn upsert_twice_keeps_one_candidate(kit: &Kit<'_>) {
    if !kit.supports(Operation::UpsertCandidate) {
        return;
    }
    let check = "upsert-twice";
    let email = format!("{}@kit.example", unique("twice"));
    let phone = unique_phone();
    let upsert = |email: String, phone: String| {
        Invocation::UpsertCandidate(candidate_input("Grace", "Hopper", &email, &phone, None))
    };
    let Output::Upserted(first) = kit.expect(check, upsert(email.clone(), phone.clone())).await
    else {
        kit.fail(check, "upsert returned something else")
    };
    let Output::Upserted(by_email) = kit.expect(check, upsert(email.clone(), unique_phone())).await
    else {
        kit.fail(check, "upsert returned something else")
    };
    assert_eq!(
        first.outcome,
        UpsertOutcome::Created,
        "[{}] {check}: first push must create",
        kit.name()
    );
    assert_eq!(
        by_email.outcome,
        UpsertOutcome::Matched,
        "[{}] {check}: same e-mail must match",
        kit.name()
    );
    assert_eq!(
        by_email.candidate_id,
        first.candidate_id,
        "[{}] {check}: same e-mail, other candidate",
        kit.name()
    );
    let Output::Upserted(by_phone) =
        kit.expect(check, upsert(format!("other-{email}"), phone.clone())).await
    else {
        kit.fail(check, "upsert returned something else")
    };
    assert_eq!(
        by_phone.outcome,
        UpsertOutcome::Matched,
        "[{}] {check}: same phone must match",
        kit.name()
    );
    assert_eq!(
        by_phone.candidate_id,
        first.candidate_id,
        "[{}] {check}: same phone, other candidate",
        kit.name()
    );
    let same_person = kit
        .fake
        .candidates()
        .into_iter()
        .filter(|c| c.id == first.candidate_id || c.phones.contains(&phone))
        .count();
    assert_eq!(
        same_person,
        1,
        "[{}] {check}: the fake holds {same_person} records for one person",
        kit.name()
    );
}

fn first_page() -> Invocation {
    Invocation::ListJobs(PageRequest { page_token: None, since: None, limit: Some(10) })
}

/// A cheap read the checks below use to provoke the fake's faults.
fn probe(kit: &Kit<'_>) -> Invocation {
    if kit.supports(Operation::ListJobs) {
        first_page()
    } else if kit.supports(Operation::ListStages) {
        Invocation::ListStages {
            job_id: None,
            page: PageRequest { page_token: None, since: None, limit: Some(10) },
        }
    } else {
        kit.fail("probe", "the connector supports neither list-jobs nor list-stages")
    }
}

/// 429 → `rate-limited` with the delay the ATS asked for, as seconds or as an HTTP-date.
pub async fn rate_limits_carry_the_retry_after(kit: &Kit<'_>) {
    let check = "rate-limit";
    kit.call(probe(kit)).await.ok(); // authenticate first, so the 429 hits the API call
    kit.fake.faults().rate_limit_next("7");
    match kit.call(probe(kit)).await {
        Err(CallError::Connector(AtsError::RateLimited(limit))) => {
            assert_eq!(
                limit.retry_after_seconds,
                Some(7),
                "[{}] {check}: wrong retry-after",
                kit.name()
            )
        }
        other => kit.fail(check, format!("429 gave {other:?}")),
    }
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    kit.fake.faults().rate_limit_next(&date);
    match kit.call(probe(kit)).await {
        Err(CallError::Connector(AtsError::RateLimited(limit))) => {
            let seconds = limit.retry_after_seconds.unwrap_or(0);
            assert!(
                (110..=121).contains(&seconds),
                "[{}] {check}: HTTP-date Retry-After gave {seconds}s",
                kit.name()
            );
        }
        other => kit.fail(check, format!("429 with an HTTP-date gave {other:?}")),
    }
}

/// An expired session or token costs exactly one re-authentication, then the call succeeds.
pub async fn expired_session_reauthenticates_exactly_once(kit: &Kit<'_>) {
    let check = "expired-session";
    if let Err(error) = kit.call(probe(kit)).await {
        kit.fail(check, format!("warm-up call failed: {error}"));
    }
    let before = kit.fake.auth_count();
    kit.call(probe(kit))
        .await
        .unwrap_or_else(|e| kit.fail(check, format!("second call failed: {e}")));
    assert_eq!(
        kit.fake.auth_count(),
        before,
        "[{}] {check}: the session was not reused",
        kit.name()
    );
    kit.fake.expire_sessions();
    kit.call(probe(kit))
        .await
        .unwrap_or_else(|e| kit.fail(check, format!("call after expiry failed: {e}")));
    assert_eq!(
        kit.fake.auth_count(),
        before + 1,
        "[{}] {check}: expected exactly one re-authentication",
        kit.name()
    );
}

/// 5xx answers are `transient`: the host may retry.
pub async fn server_errors_are_transient(kit: &Kit<'_>) {
    let check = "server-error";
    kit.call(probe(kit)).await.ok();
    kit.fake.faults().fail_next(20);
    let result = kit.call(probe(kit)).await;
    kit.fake.faults().fail_next(0);
    match result {
        Err(CallError::Connector(AtsError::Transient(_))) => {}
        other => kit.fail(check, format!("500 gave {other:?}")),
    }
}

/// Credentials the ATS rejects are `unauthorized`, on a fresh connection with no session.
pub async fn bad_credentials_are_unauthorized(kit: &Kit<'_>) {
    let check = "bad-credentials";
    let context = kit.context_for(
        &new_connection_id(kit.fake.connector_package()),
        kit.fake.bad_credentials_config(),
    );
    match kit.call_with(&context, probe(kit)).await {
        Err(CallError::Connector(AtsError::Unauthorized(_))) => {}
        other => kit.fail(check, format!("bad credentials gave {other:?}")),
    }
}

/// No secret of the connection appears in any error message of the kit or in the host logs.
pub fn secrets_never_leak(kit: &Kit<'_>) {
    let check = "secrets";
    let errors = kit.errors.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let logs = log_capture::captured();
    assert!(
        logs.contains(&kit.connection),
        "[{}] {check}: the host logs of this connection were not captured, so the check cannot run",
        kit.name()
    );
    for secret in kit.fake.secrets() {
        assert!(
            secret.len() >= 8,
            "[{}] {check}: fake secrets must be long enough to search for",
            kit.name()
        );
        for error in &errors {
            assert!(
                !error.contains(&secret),
                "[{}] {check}: a secret appears in an error: {error}",
                kit.name()
            );
        }
        assert!(
            !logs.contains(&secret),
            "[{}] {check}: a secret appears in the host logs",
            kit.name()
        );
    }
}

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
        Answer { question: "Willing to relocate?".into(), answer: "Yes, to Utrecht".into() },
        Answer { question: "Salary expectation".into(), answer: "EUR 5,000 per month".into() },
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
