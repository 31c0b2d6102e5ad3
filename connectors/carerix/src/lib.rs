//! The Carerix connector: the GraphQL API (`api.carerix.io/graphql/v1/graphql`) with an
//! OAuth2 client-credentials token from the tenant's own token URL, and the Webhooks API for
//! subscriptions. See `README.md` for the operations, what each maps to in Carerix, and the
//! unverified facts that are configurable.

mod auth;
mod candidates;
mod graphql;
mod matches;
mod qualifier;
mod records;
mod reject;
mod selection;
mod settings;
mod stages;
mod subscriptions;
mod webhook;
mod writes;

use ats_connector_sdk::prelude::*;
use settings::Settings;

struct Carerix;

impl Connector for Carerix {
    fn describe() -> Manifest {
        Manifest {
            id: "carerix".into(),
            ats_name: "Carerix".into(),
            connector_version: env!("CARGO_PKG_VERSION").into(),
            // Not declared (answer `unsupported`, see README): write-result (no result
            // field; the host writes a note), list-tags (tags are free text on each record,
            // no catalogue), list-rejection-reasons (none in Carerix), list-users (the
            // research names CRUser but no query or fields for it).
            operations: vec![
                Operation::ListJobs,
                Operation::ListStages,
                Operation::ListApplications,
                Operation::GetCandidate,
                Operation::FindCandidates,
                Operation::UpsertCandidate,
                Operation::CreateApplication,
                Operation::MoveApplication,
                Operation::AddNote,
                Operation::AddTag,
                Operation::AddAttachment,
                Operation::RejectApplication,
                Operation::ParseWebhook,
                Operation::Check,
                Operation::GetApplication,
                Operation::RemoveTag,
                Operation::RegisterWebhook,
                Operation::UnregisterWebhook,
            ],
            config_fields: settings::config_fields(),
            egress_hosts: vec![
                "https://api.carerix.io".into(),
                "https://*.carerix.io".into(),
                "{graphql-url}".into(),
                "{token-url}".into(),
                "{webhooks-url}".into(),
            ],
            // No result field: the host writes a result as a note (`note-field`).
            result_modes: vec![ResultMode::Note],
            // CRMatch has attachments ([H]); add-attachment writes them on the match.
            application_attachments: true,
        }
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        let settings = Settings::from_config(&config)?;
        let qualifier = records::since_qualifier(&page)?;
        let fields = selection::vacancy(&settings);
        let found =
            records::page(&settings, "crVacancyPage", &fields, qualifier.as_deref(), &page)?;
        Ok(JobPage {
            items: found
                .items
                .iter()
                .map(|v| records::job(&settings, v))
                .collect::<Result<_, _>>()?,
            next_page_token: found.next_page_token,
        })
    }

    /// Carerix statuses (CRStatusInfo) are global: the same pipeline for every job.
    fn list_stages(
        config: Config,
        _job_id: Option<String>,
        page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        stages::list(&Settings::from_config(&config)?, &page)
    }

    fn list_applications(config: Config, page: PageRequest) -> Result<ApplicationPage, AtsError> {
        matches::list(&Settings::from_config(&config)?, &page)
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
        matches::create(&Settings::from_config(&config)?, &input)
    }

    fn move_application(
        config: Config,
        application_id: String,
        stage_id: String,
    ) -> Result<WriteReceipt, AtsError> {
        matches::move_to(&Settings::from_config(&config)?, &application_id, &stage_id)
    }

    fn add_note(config: Config, input: NoteInput) -> Result<WriteReceipt, AtsError> {
        writes::add_note(&Settings::from_config(&config)?, &input)
    }

    fn add_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        writes::add_tag(&Settings::from_config(&config)?, &input)
    }

    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        writes::add_attachment(&Settings::from_config(&config)?, &input)
    }

    fn reject_application(config: Config, input: RejectInput) -> Result<WriteReceipt, AtsError> {
        reject::reject(&Settings::from_config(&config)?, &input)
    }

    fn parse_webhook(
        _config: Config,
        request: WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        webhook::parse(&request)
    }

    /// A fresh grant (the client credentials themselves are checked, not a cached token),
    /// then the smallest authenticated read; the account is the tenant of the token URL.
    fn check(config: Config) -> Result<Account, AtsError> {
        let settings = Settings::from_config(&config)?;
        auth::forget(auth::Api::GraphQl);
        auth::grant(&settings, auth::Api::GraphQl)?;
        let document = format!(
            "query {{ crEmployeePage(pageable: {{page: {}, size: 1}}) {{ totalElements }} }}",
            settings.first_page
        );
        graphql::execute(&settings, &document, "crEmployeePage")?;
        Ok(Account { display_name: settings.tenant() })
    }

    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        matches::get(&Settings::from_config(&config)?, &application_id)
    }

    fn remove_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        writes::remove_tag(&Settings::from_config(&config)?, &input)
    }

    fn register_webhook(
        config: Config,
        subscription: WebhookSubscription,
    ) -> Result<WriteReceipt, AtsError> {
        subscriptions::register(&Settings::from_config(&config)?, &subscription)
    }

    fn unregister_webhook(config: Config, remote_id: String) -> Result<WriteReceipt, AtsError> {
        subscriptions::unregister(&Settings::from_config(&config)?, &remote_id)
    }
}

ats_connector_sdk::export_connector!(Carerix);
