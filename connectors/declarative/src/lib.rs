//! The generic manifest connector: one component that runs any connector manifest (the
//! format of `sdk/declarative`). `ats-host connector pack FILE` writes a manifest and its
//! compiled form into this component's slot ([`slot`]); `describe()` then answers the
//! manifest's id, version, operations, config fields and egress hosts, and every operation
//! runs the manifest through the SDK's [`Declarative`] (the host's `http` import; sessions
//! and OAuth tokens kept in `state`). Unpacked (as bundled), it describes itself as a
//! template and supports nothing.

mod slot;

/// The heap allocator: `talc` instead of wasi-libc's dlmalloc, which spent a third of
/// this component's time on a page of records (a mapped record is a few dozen small
/// allocations). A call runs on one thread in a fresh instance, as `new_global` requires.
#[cfg(target_family = "wasm")]
#[global_allocator]
// SAFETY: a component instance is single-threaded wasm.
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };

use ats_connector_sdk::declarative::Declarative;
use ats_connector_sdk::prelude::*;
use ats_declarative::Manifest as Declared;

struct ManifestConnector;

/// The packed manifest for a call: its compiled form, read without the TOML parser.
/// The packed manifest as a call of `operation` needs it: its compiled form, with only that
/// operation read (a fresh instance per call reads it afresh).
fn declared(operation: &str) -> Result<Declarative, AtsError> {
    let compact = packed(slot::Part::Compact)?;
    Declared::from_compact_for(compact, operation)
        .map(Declarative::new)
        .map_err(AtsError::InvalidInput)
}

/// The packed manifest as `describe()` (once, at load) sees it: the text parsed and
/// validated, and its compiled form checked to be the text's own.
fn declared_and_checked() -> Result<Declarative, AtsError> {
    let declared = Declarative::parse(packed(slot::Part::Text)?)?;
    let compiled = declared.manifest().to_compact().map_err(AtsError::InvalidInput)?;
    if compiled != packed(slot::Part::Compact)? {
        return Err(AtsError::InvalidInput(
            "the packed manifest's compiled form is not its text's: pack the manifest again with `ats-host connector pack`".into(),
        ));
    }
    Ok(declared)
}

fn packed(part: slot::Part) -> Result<&'static str, AtsError> {
    match slot::read(part) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(AtsError::Unsupported(
            "this is the unpacked manifest connector template; make a connector with `ats-host connector pack MANIFEST.toml`".into(),
        )),
        Err(reason) => Err(AtsError::InvalidInput(reason)),
    }
}

impl Connector for ManifestConnector {
    fn describe() -> Manifest {
        match declared_and_checked() {
            Ok(declared) => declared.describe(),
            // A component that cannot say what it is must not load: the trap fails
            // `describe()`, and the host refuses the component with this message (the
            // guest's stderr) as the reason.
            Err(AtsError::InvalidInput(reason) | AtsError::Unsupported(reason)) => {
                panic!("{reason}")
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        declared("list-jobs")?.list_jobs(&config, &page)
    }

    fn list_stages(
        config: Config,
        job_id: Option<String>,
        page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        declared("list-stages")?.list_stages(&config, job_id, &page)
    }

    fn list_applications(config: Config, page: PageRequest) -> Result<ApplicationPage, AtsError> {
        declared("list-applications")?.list_applications(&config, &page)
    }

    fn get_candidate(config: Config, candidate_id: String) -> Result<Candidate, AtsError> {
        declared("get-candidate")?.get_candidate(&config, &candidate_id)
    }

    fn find_candidates(
        config: Config,
        lookup: CandidateLookup,
        page: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        declared("find-candidates")?.find_candidates(&config, &lookup, &page)
    }

    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        declared("upsert-candidate")?.upsert_candidate(&config, &input)
    }

    fn create_application(
        config: Config,
        input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        declared("create-application")?.create_application(&config, &input)
    }

    fn move_application(
        config: Config,
        application_id: String,
        stage_id: String,
    ) -> Result<WriteReceipt, AtsError> {
        declared("move-application")?.move_application(&config, &application_id, &stage_id)
    }

    fn add_note(config: Config, input: NoteInput) -> Result<WriteReceipt, AtsError> {
        declared("add-note")?.add_note(&config, &input)
    }

    fn add_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        declared("add-tag")?.add_tag(&config, &input)
    }

    fn remove_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        declared("remove-tag")?.remove_tag(&config, &input)
    }

    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        declared("add-attachment")?.add_attachment(&config, &input)
    }

    fn reject_application(config: Config, input: RejectInput) -> Result<WriteReceipt, AtsError> {
        declared("reject-application")?.reject_application(&config, &input)
    }

    fn write_result(config: Config, input: ResultInput) -> Result<WriteReceipt, AtsError> {
        declared("write-result")?.write_result(&config, &input)
    }

    fn parse_webhook(
        config: Config,
        request: WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        declared("parse-webhook")?.parse_webhook(&config, &request)
    }

    fn webhook_reply(_config: &Config, _request: &WebhookRequest) -> Option<WebhookReply> {
        declared("parse-webhook").ok()?.webhook_reply()
    }

    fn check(config: Config) -> Result<Account, AtsError> {
        declared("check")?.check(&config)
    }

    fn list_tags(config: Config, page: PageRequest) -> Result<TagPage, AtsError> {
        declared("list-tags")?.list_tags(&config, &page)
    }

    fn list_rejection_reasons(
        config: Config,
        page: PageRequest,
    ) -> Result<RejectionReasonPage, AtsError> {
        declared("list-rejection-reasons")?.list_rejection_reasons(&config, &page)
    }

    fn list_users(config: Config, page: PageRequest) -> Result<UserPage, AtsError> {
        declared("list-users")?.list_users(&config, &page)
    }

    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        declared("get-application")?.get_application(&config, &application_id)
    }

    fn register_webhook(
        config: Config,
        subscription: WebhookSubscription,
    ) -> Result<WriteReceipt, AtsError> {
        declared("register-webhook")?.register_webhook(&config, &subscription)
    }

    fn unregister_webhook(config: Config, remote_id: String) -> Result<WriteReceipt, AtsError> {
        declared("unregister-webhook")?.unregister_webhook(&config, &remote_id)
    }
}

ats_connector_sdk::export_connector!(ManifestConnector);
