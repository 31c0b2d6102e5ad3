//! The Tigris connector. Tigris (Tigris Flexplatform) is a Salesforce managed package
//! (`Tigris__`): vacancies are `Tigris__Vacancy__c` records read with SOQL, applications are
//! pushed as `Tigris__Sollicitatie__c` intake records (Tigris turns them into candidate and
//! application), files are ContentVersions. Auth, paging, errors and candidates come from
//! the shared `ats-salesforce` crate. See `README.md` for what is supported and why.

mod applications;
mod jobs;

use ats_connector_sdk::prelude::*;
use ats_salesforce::{CandidateMapping, Client, candidates, files, mappings, outbound, settings};

struct Tigris;

fn client(config: &Config) -> Result<Client, AtsError> {
    Client::from_config(config)
}

impl Connector for Tigris {
    fn describe() -> Manifest {
        let mut config_fields = settings::org_config_fields();
        config_fields.extend(settings::candidate_config_fields());
        config_fields.extend(mappings::config_fields());
        config_fields.push(ats_salesforce::settings::field(
            "outbound-organization-id",
            false,
            false,
            "Salesforce org id (00D…) Outbound Messages must come from; default: any org (the inbound URL's token still authenticates)",
        ));
        Manifest {
            id: "tigris".into(),
            ats_name: "Tigris".into(),
            connector_version: env!("CARGO_PKG_VERSION").into(),
            // list-stages, move-application, add-note and add-tag work through the
            // configurable mappings of `ats_salesforce::mappings` (Tigris documents no
            // pipeline, note or tag object, research §4.2) and answer `unsupported` until
            // mapped. Applications are read back from the intake records. Webhooks are the
            // vacancy Outbound Messages the Tigris plugin listens to (§4.1), acknowledged
            // as Salesforce expects. Not declared: reject-application, write-result (no known
            // object); register-webhook (Outbound Messages are set up in Salesforce Setup).
            operations: vec![
                Operation::Check,
                Operation::ListJobs,
                Operation::ListApplications,
                Operation::GetApplication,
                Operation::ParseWebhook,
                Operation::GetCandidate,
                Operation::FindCandidates,
                Operation::UpsertCandidate,
                Operation::CreateApplication,
                Operation::ListStages,
                Operation::MoveApplication,
                Operation::AddNote,
                Operation::AddTag,
                Operation::AddAttachment,
            ],
            config_fields,
            egress_hosts: settings::egress_hosts(),
            ..Default::default()
        }
    }

    fn check(config: Config) -> Result<Account, AtsError> {
        ats_salesforce::applications::check(&mut client(&config)?)
    }

    fn list_applications(config: Config, page: PageRequest) -> Result<ApplicationPage, AtsError> {
        applications::list(&mut client(&config)?, &config, &page)
    }

    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        applications::get(&mut client(&config)?, &config, &application_id)
    }

    /// Vacancy Outbound Messages: each vacancy notification is a `job-changed`.
    fn parse_webhook(
        config: Config,
        request: WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        let message = outbound::parse(&request.body)?;
        outbound::events(&message, config.value("outbound-organization-id"), |object| {
            object.eq_ignore_ascii_case(jobs::VACANCY).then_some(ChangeKind::JobChanged)
        })
    }

    /// Salesforce retries an unacknowledged Outbound Message for 24 hours.
    fn webhook_reply(_config: &Config, _request: &WebhookRequest) -> Option<WebhookReply> {
        Some(outbound::ack())
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        jobs::list(&mut client(&config)?, &page)
    }

    fn get_candidate(config: Config, candidate_id: String) -> Result<Candidate, AtsError> {
        candidates::get(
            &mut client(&config)?,
            &CandidateMapping::from_config(&config)?,
            &candidate_id,
        )
    }

    fn find_candidates(
        config: Config,
        lookup: CandidateLookup,
        page: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        candidates::find(
            &mut client(&config)?,
            &CandidateMapping::from_config(&config)?,
            &lookup,
            &page,
        )
    }

    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        candidates::upsert(&mut client(&config)?, &CandidateMapping::from_config(&config)?, &input)
    }

    fn create_application(
        config: Config,
        input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        let mapping = CandidateMapping::from_config(&config)?;
        mappings::create_with_stage(&mut client(&config)?, &config, input, |client, input| {
            applications::create(client, &mapping, input)
        })
    }

    ats_salesforce::mapped_operations!();

    /// The file is linked to the candidate record or to the intake record.
    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        let parent = match &input.target {
            Target::Candidate(id) | Target::Application(id) => id,
        };
        let id = files::attach(&mut client(&config)?, parent, &input.filename, &input.content)?;
        Ok(WriteReceipt { remote_id: Some(id), remark: Some("stored as a ContentVersion".into()) })
    }
}

ats_connector_sdk::export_connector!(Tigris);
