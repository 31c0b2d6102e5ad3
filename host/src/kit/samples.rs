//! Sample inputs: one invocation per operation (for "an undeclared operation answers
//! `unsupported`"), a minimal PDF, and unique candidate details so a kit run never matches
//! a real person.

use crate::model::*;
use crate::runtime::Invocation;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

/// A minimal PDF, standing in for a CV or report.
pub const SAMPLE_PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A value unique to this process and moment: nanoseconds plus a counter.
pub fn unique_number() -> u32 {
    let nanos =
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    nanos / 100 + COUNTER.fetch_add(1, Ordering::SeqCst)
}

/// `prefix` followed by a unique number.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", unique_number())
}

/// A unique Dutch mobile number (`+3161` and seven digits).
pub fn unique_phone() -> String {
    format!("+3161{:07}", unique_number() % 10_000_000)
}

pub fn candidate_input(
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
        ..Default::default()
    }
}

pub fn attachment(target: Target, kind: AttachmentKind) -> AttachmentInput {
    AttachmentInput {
        target,
        filename: "cv.pdf".into(),
        content_type: "application/pdf".into(),
        kind,
        content: SAMPLE_PDF.to_vec(),
    }
}

/// One invocation of `operation` with made-up ids; `None` for `parse-webhook`, whose body
/// is ATS-specific.
pub fn invocation(operation: Operation) -> Option<Invocation> {
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
            ..Default::default()
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
            ..Default::default()
        }),
        Operation::WriteResult => Invocation::WriteResult(ResultInput {
            application_id: "1".into(),
            ..Default::default()
        }),
        Operation::ParseWebhook => return None,
        Operation::Check => Invocation::Check,
        Operation::ListTags => Invocation::ListTags(page),
        Operation::ListRejectionReasons => Invocation::ListRejectionReasons(page),
        Operation::ListUsers => Invocation::ListUsers(page),
        Operation::GetApplication => Invocation::GetApplication { application_id: "1".into() },
        Operation::RemoveTag => Invocation::RemoveTag(TagInput { target, tag: "x".into() }),
        Operation::RegisterWebhook => Invocation::RegisterWebhook(WebhookSubscription {
            url: "https://host.example/v1/inbound/x".into(),
            secret: None,
            kinds: vec![],
        }),
        Operation::UnregisterWebhook => Invocation::UnregisterWebhook { remote_id: "1".into() },
    })
}
