//! The OTYS connector: OTYS Web Services (OWS), JSON-RPC 2.0 over HTTPS with an API key
//! exchanged for a session (`loginByUid`). See `README.md` for the operations, what each
//! maps to in OTYS, and the unverified facts that are configurable.

mod account;
mod applications;
mod attachments;
mod candidates;
mod clock;
mod pipeline;
mod query;
mod records;
mod results;
mod rpc;
mod settings;
mod vacancies;
mod webhook;

use ats_connector_sdk::prelude::*;
use settings::Settings;

struct Otys;

impl Connector for Otys {
    fn describe() -> Manifest {
        Manifest {
            id: "otys".into(),
            ats_name: "OTYS".into(),
            connector_version: env!("CARGO_PKG_VERSION").into(),
            // Not declared (answer `unsupported`; see README): add-note (no public OTYS
            // service writes notes), add-tag / remove-tag / list-tags (whether candidate tags
            // are match criteria is unverified), reject-application and
            // list-rejection-reasons (no documented way).
            operations: vec![
                Operation::ListJobs,
                Operation::ListStages,
                Operation::ListApplications,
                Operation::GetCandidate,
                Operation::FindCandidates,
                Operation::UpsertCandidate,
                Operation::CreateApplication,
                Operation::MoveApplication,
                Operation::AddAttachment,
                Operation::WriteResult,
                Operation::ParseWebhook,
                Operation::Check,
                Operation::ListUsers,
                Operation::GetApplication,
                Operation::RegisterWebhook,
                Operation::UnregisterWebhook,
            ],
            config_fields: settings::config_fields(),
            egress_hosts: vec![settings::DEFAULT_BASE_URL.into(), "{base-url}".into()],
            // A result is a document on the application (`write-result`), and a document
            // goes on an application with `applicationUid`.
            result_modes: vec![ResultMode::Attachment],
            application_attachments: true,
        }
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        vacancies::list_jobs(&Settings::from_config(&config)?, &page)
    }

    /// OTYS statuses are global: the same pipeline is returned for every job.
    fn list_stages(
        config: Config,
        _job_id: Option<String>,
        _page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        pipeline::list_stages(&Settings::from_config(&config)?)
    }

    fn list_applications(config: Config, page: PageRequest) -> Result<ApplicationPage, AtsError> {
        applications::list(&Settings::from_config(&config)?, &page)
    }

    fn get_candidate(config: Config, candidate_id: String) -> Result<Candidate, AtsError> {
        candidates::get(&Settings::from_config(&config)?, &candidate_id)
    }

    fn find_candidates(
        config: Config,
        lookup: CandidateLookup,
        page: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        candidates::find(&Settings::from_config(&config)?, &lookup, &page)
    }

    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        candidates::upsert(&Settings::from_config(&config)?, &input)
    }

    fn create_application(
        config: Config,
        input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        applications::create(&Settings::from_config(&config)?, &input)
    }

    fn move_application(
        config: Config,
        application_id: String,
        stage_id: String,
    ) -> Result<WriteReceipt, AtsError> {
        applications::move_to(&Settings::from_config(&config)?, &application_id, &stage_id)
    }

    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        attachments::add(&Settings::from_config(&config)?, &input)
    }

    fn write_result(config: Config, input: ResultInput) -> Result<WriteReceipt, AtsError> {
        results::write(&Settings::from_config(&config)?, &input)
    }

    fn parse_webhook(
        _config: Config,
        request: WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        webhook::parse(&request)
    }

    fn check(config: Config) -> Result<Account, AtsError> {
        account::check(&Settings::from_config(&config)?)
    }

    fn list_users(config: Config, page: PageRequest) -> Result<UserPage, AtsError> {
        account::list_users(&Settings::from_config(&config)?, &page)
    }

    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        applications::get(&Settings::from_config(&config)?, &application_id)
    }

    fn register_webhook(
        config: Config,
        subscription: WebhookSubscription,
    ) -> Result<WriteReceipt, AtsError> {
        webhook::register(&Settings::from_config(&config)?, &subscription)
    }

    fn unregister_webhook(config: Config, remote_id: String) -> Result<WriteReceipt, AtsError> {
        webhook::unregister(&Settings::from_config(&config)?, &remote_id)
    }
}

ats_connector_sdk::export_connector!(Otys);
