//! A hybrid connector: its reads are a connector manifest (`reads.toml`, run by the SDK's
//! [`Declarative`]), and the one operation the manifest cannot express is code. The
//! manifest names that operation `unsupported`; `describe()` adds it back. This is the
//! escape hatch of manifest connectors: keep the declarative part, write only the rest.

use ats_connector_sdk::declarative::Declarative;
use ats_connector_sdk::http::{Request, url_encode};
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

const READS: &str = include_str!("../reads.toml");

struct Hybrid;

fn reads() -> Result<Declarative, AtsError> {
    Declarative::parse(READS)
}

impl Connector for Hybrid {
    fn describe() -> Manifest {
        let mut manifest = match reads() {
            Ok(reads) => reads.describe(),
            Err(error) => panic!("reads.toml: {error:?}"),
        };
        manifest.operations.push(Operation::UpsertCandidate);
        manifest
    }

    fn check(config: Config) -> Result<Account, AtsError> {
        reads()?.check(&config)
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        reads()?.list_jobs(&config, &page)
    }

    fn list_stages(
        config: Config,
        job_id: Option<String>,
        page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        reads()?.list_stages(&config, job_id, &page)
    }

    fn find_candidates(
        config: Config,
        lookup: CandidateLookup,
        page: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        reads()?.find_candidates(&config, &lookup, &page)
    }

    fn get_candidate(config: Config, candidate_id: String) -> Result<Candidate, AtsError> {
        reads()?.get_candidate(&config, &candidate_id)
    }

    /// Same e-mail (the manifest's `find-candidates`), else the same full name among the
    /// candidates without an e-mail: update that one; otherwise create.
    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        let reads = reads()?;
        let first_page = PageRequest { page_token: None, since: None, limit: Some(100) };
        let mut found = None;
        if let Some(email) = input.emails.first() {
            let lookup = CandidateLookup::Email(email.clone());
            found = reads.find_candidates(&config, &lookup, &first_page)?.items.into_iter().next();
        }
        let base = config.require("base-url")?.trim_end_matches('/').to_string();
        let key = config.require("api-key")?;
        if found.is_none() {
            let all: Value =
                Request::get(format!("{base}/api/candidates")).bearer(key).send_ok()?.json()?;
            let same_name = |c: &&Value| {
                let text = |k: &str| c[k].as_str().unwrap_or_default().trim().to_lowercase();
                text("first_name") == input.first_name.trim().to_lowercase()
                    && text("last_name") == input.last_name.trim().to_lowercase()
                    && c["emails"].as_array().is_none_or(Vec::is_empty)
            };
            if let Some(id) = all["candidates"]
                .as_array()
                .and_then(|list| list.iter().find(same_name))
                .and_then(|c| c["id"].as_str())
            {
                found = Some(Candidate { id: id.to_string(), ..Default::default() });
            }
        }
        let body = json!({
            "first_name": input.first_name, "last_name": input.last_name,
            "emails": input.emails, "phones": input.phones, "source": input.source,
        });
        if let Some(existing) = found {
            let url = format!("{base}/api/candidates/{}", url_encode(&existing.id));
            Request::new("PATCH", url).bearer(key).json(&body)?.send_ok()?;
            return Ok(UpsertResult { candidate_id: existing.id, outcome: UpsertOutcome::Matched });
        }
        let created: Value = Request::post(format!("{base}/api/candidates"))
            .bearer(key)
            .json(&body)?
            .send_ok()?
            .json()?;
        let candidate_id = created["id"].as_str().unwrap_or_default().to_string();
        Ok(UpsertResult { candidate_id, outcome: UpsertOutcome::Created })
    }
}

ats_connector_sdk::export_connector!(Hybrid);
