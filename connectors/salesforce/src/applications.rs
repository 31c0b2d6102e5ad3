//! Applications read from the operator-mapped `application-object` (neither package
//! documents its application object, research §3.4, §4.2): `application-candidate-field`
//! and `application-job-field` name the record's lookups to the candidate and the job,
//! `application-stage-field` (optional) its stage. Incremental on `SystemModstamp >=
//! since`, ordered by `SystemModstamp, Id`, paged by `nextRecordsUrl` (§5). Until the
//! mapping is complete the reads answer `unsupported` naming the config to set.

use crate::client::{Client, QueryPage, record_id, text, timestamp};
use crate::settings::{api_name, field};
use crate::soql;
use ats_connector_sdk::prelude::*;
use serde_json::Value;

/// Where applications are read from.
#[derive(Debug, Clone)]
pub struct ApplicationMapping {
    pub object: String,
    pub candidate_field: String,
    pub job_field: String,
    pub stage_field: Option<String>,
}

impl ApplicationMapping {
    /// The mapping, or `unsupported` naming every field still to configure.
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        let value = |name: &str| config.value(name).map(str::trim).filter(|v| !v.is_empty());
        let names = ["application-object", "application-candidate-field", "application-job-field"];
        let missing: Vec<&str> = names.into_iter().filter(|name| value(name).is_none()).collect();
        if !missing.is_empty() {
            return Err(AtsError::Unsupported(format!(
                "reading applications needs this org's application object mapped: set config {}",
                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        let required = |name: &str| api_name(name, value(name).unwrap_or_default());
        Ok(ApplicationMapping {
            object: required("application-object")?,
            candidate_field: required("application-candidate-field")?,
            job_field: required("application-job-field")?,
            stage_field: value("application-stage-field")
                .map(|v| api_name("application-stage-field", v))
                .transpose()?,
        })
    }

    fn fields(&self) -> Vec<&str> {
        let mut fields = vec!["Id", &self.candidate_field, &self.job_field];
        fields.extend(self.stage_field.as_deref());
        fields.extend(["CreatedDate", "SystemModstamp"]);
        fields
    }

    fn to_application(&self, record: &Value) -> Application {
        Application {
            id: text(record, "Id").unwrap_or_default(),
            candidate_id: text(record, &self.candidate_field).unwrap_or_default(),
            job_id: text(record, &self.job_field).unwrap_or_default(),
            stage_id: self.stage_field.as_deref().and_then(|f| text(record, f)),
            status: ApplicationStatus::Active,
            created_at: timestamp(record, "CreatedDate"),
            updated_at: timestamp(record, "SystemModstamp"),
            raw: record.to_string(),
            ..Default::default()
        }
    }
}

/// Applications changed since `page.since`, one batch per page.
pub fn list(
    client: &mut Client,
    mapping: &ApplicationMapping,
    page: &PageRequest,
) -> Result<ApplicationPage, AtsError> {
    let filter = match &page.since {
        Some(since) => format!(" WHERE SystemModstamp >= {}", soql::datetime(since)?),
        None => String::new(),
    };
    let query = format!(
        "SELECT {} FROM {}{filter} ORDER BY SystemModstamp, Id",
        mapping.fields().join(", "),
        mapping.object
    );
    let QueryPage { records, next_records_url } =
        client.query_page(&query, page.page_token.as_deref(), page.limit)?;
    Ok(ApplicationPage {
        items: records.iter().map(|r| mapping.to_application(r)).collect(),
        next_page_token: next_records_url,
    })
}

/// One application record.
pub fn get(
    client: &mut Client,
    mapping: &ApplicationMapping,
    application_id: &str,
) -> Result<Application, AtsError> {
    let record = client.read(&mapping.object, record_id(application_id)?, &mapping.fields())?;
    Ok(mapping.to_application(&record))
}

/// The account behind the credentials: the org's name (`Organization` is readable by
/// every API user, research §5).
pub fn check(client: &mut Client) -> Result<Account, AtsError> {
    let page = client.query("SELECT Id, Name FROM Organization LIMIT 1", None)?;
    let org = page.records.first().ok_or_else(|| {
        AtsError::Remote(RemoteFailure { status: 200, body_excerpt: "no Organization row".into() })
    })?;
    Ok(Account { display_name: text(org, "Name").or_else(|| text(org, "Id")).unwrap_or_default() })
}

/// The config fields of this mapping that [`crate::mappings::config_fields`] does not have.
pub fn config_fields() -> Vec<ConfigField> {
    vec![
        field(
            "application-candidate-field",
            false,
            false,
            "Lookup field of the application record to the candidate (for list-applications and get-application)",
        ),
        field(
            "application-job-field",
            false,
            false,
            "Lookup field of the application record to the job (for list-applications and get-application)",
        ),
    ]
}
