//! The MySolution connector. MySolution is a Salesforce managed package (`msf`): published
//! jobs come from the package's Apex REST `job/Get`, an application (and its candidate) goes
//! in through Apex `job/Apply`, candidates are read and upserted as sObjects (default
//! `Contact`) and files are ContentVersions. Auth, errors and candidates come from the shared
//! `ats-salesforce` crate. See `README.md` for what is supported and why.

mod apex;
mod jobs;

use ats_connector_sdk::prelude::*;
use ats_salesforce::applications::{self, ApplicationMapping};
use ats_salesforce::{CandidateMapping, Client, candidates, files, mappings, settings};

struct MySolution;

fn client(config: &Config) -> Result<Client, AtsError> {
    Client::from_config(config)
}

impl Connector for MySolution {
    fn describe() -> Manifest {
        let mut config_fields = settings::org_config_fields();
        config_fields.extend(settings::candidate_config_fields());
        config_fields.extend(mappings::config_fields());
        config_fields.extend(applications::config_fields());
        config_fields.extend(apex::config_fields());
        Manifest {
            id: "mysolution".into(),
            ats_name: "MySolution".into(),
            connector_version: env!("CARGO_PKG_VERSION").into(),
            // list-stages, move-application, add-note, add-tag, list-applications and
            // get-application work through the configurable mappings of `ats_salesforce`
            // (the package's own objects are not public, research §3.4) and answer
            // `unsupported` until mapped; the host records that as a skipped part. Not
            // declared: reject-application, write-result (no known object); parse-webhook
            // (MySolution documents no webhooks).
            operations: vec![
                Operation::Check,
                Operation::ListJobs,
                Operation::ListApplications,
                Operation::GetApplication,
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
        applications::check(&mut client(&config)?)
    }

    fn list_applications(config: Config, page: PageRequest) -> Result<ApplicationPage, AtsError> {
        let mapping = ApplicationMapping::from_config(&config)?;
        applications::list(&mut client(&config)?, &mapping, &page)
    }

    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        let mapping = ApplicationMapping::from_config(&config)?;
        applications::get(&mut client(&config)?, &mapping, &application_id)
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        jobs::list(&mut client(&config)?, &apex::ApexPaths::from_config(&config)?, &page)
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
        let paths = apex::ApexPaths::from_config(&config)?;
        mappings::create_with_stage(&mut client(&config)?, &config, input, |client, input| {
            apex::apply(client, &paths, &mapping, input)
        })
    }

    ats_salesforce::mapped_operations!();

    /// The file is linked to the candidate record or to the job application record.
    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        let parent = match &input.target {
            Target::Candidate(id) | Target::Application(id) => id,
        };
        let id = files::attach(&mut client(&config)?, parent, &input.filename, &input.content)?;
        Ok(WriteReceipt { remote_id: Some(id), remark: Some("stored as a ContentVersion".into()) })
    }
}

ats_connector_sdk::export_connector!(MySolution);
