//! The connection configuration of the OTYS connector: the config fields the manifest
//! declares, their documented defaults, and the typed settings every operation reads.
//!
//! Facts the research rates low-confidence ([L]) are settings with a documented default, so
//! an operator can correct them per connection without a new connector build.

use ats_connector_sdk::prelude::*;

/// The OTYS Web Services host the official plugin talks to.
pub const DEFAULT_BASE_URL: &str = "https://ows.otys.nl";
/// The most rows one list call asks for: the official plugin asks for 500 rows with
/// `excludeLimitCheck` ([H]).
pub const DEFAULT_MAX_PAGE_SIZE: u32 = 500;
/// Most services return at most 200 rows per call unless `excludeLimitCheck` is set ([L],
/// third-party client); a larger `limit` is sent with `excludeLimitCheck: true`.
pub const DEFAULT_LIMIT_CHECK_ROWS: u32 = 200;
/// Page size when the host does not ask for one.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The modification-time field filtered on for incremental reads ([L], inferred).
pub const DEFAULT_MODIFIED_FIELD: &str = "lastModified";
/// The ACTONOMY search list for e-mail addresses ([H], official plugin).
pub const DEFAULT_EMAIL_SEARCH_LIST: &str = "emailAddress";
/// The ACTONOMY search list for phone numbers ([L], by analogy with `emailAddress`).
pub const DEFAULT_PHONE_SEARCH_LIST: &str = "phoneNumber";
/// The method that changes a procedure's status ([L], inferred from the `add` payload).
pub const DEFAULT_MOVE_METHOD: &str = "Otys.Services.ProcedureService.update";
/// The vacancy text fields a job description is made of, in this order ([H] names, official
/// plugin; the choice is ours).
pub const DEFAULT_DESCRIPTION_FIELDS: &str = "textField_summary,textField_description,\
     textField_requirements,textField_salary,textField_companyProfile,textField_companyCulture";
/// Every vacancy text field OWS has: the official plugin requests all of them ([H]).
pub const TEXT_FIELDS: [&str; 16] = [
    "textField_description",
    "textField_companyProfile",
    "textField_requirements",
    "textField_salary",
    "textField_companyCulture",
    "textField_summary",
    "textField_extra1",
    "textField_extra2",
    "textField_extra3",
    "textField_extra4",
    "textField_extra5",
    "textField_extra6",
    "textField_extra7",
    "textField_extra8",
    "textField_extra9",
    "textField_extra10",
];
/// The service calls `register-webhook` subscribes to: vacancy calls as the official plugin
/// does ([H]); candidate and procedure calls by analogy ([L]). Calls that carry the record's
/// uid only: an `add` call's webhook has none.
pub const DEFAULT_WEBHOOK_SERVICE_CALLS: &str = "VacancyService.update,VacancyService.updateEx,\
     VacancyService.delete,CandidateService.update,CandidateService.updateEx,\
     ProcedureService.update";
/// The services whose webhooks `parse-webhook` turns into change events.
pub const WEBHOOK_SERVICES: [&str; 3] = ["VacancyService", "CandidateService", "ProcedureService"];

/// What `applicationUid` of `AttachedDocumentsService.add` carries for a document on an
/// application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationLink {
    /// The vacancy's `internalId`, as the official plugin sends it ([H]).
    VacancyInternalId,
    /// The procedure's uid ([L], not seen in any code).
    ProcedureUid,
    /// No `applicationUid`: the document goes on the candidate only.
    None,
}

/// Everything an operation needs from the connection config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub api_key: String,
    pub max_page_size: u32,
    pub limit_check_rows: u32,
    pub modified_field: String,
    pub closed_status_ids: Vec<String>,
    pub email_search_list: String,
    pub phone_search_list: String,
    pub move_method: String,
    pub description_fields: Vec<String>,
    pub application_link: ApplicationLink,
    pub webhook_service_calls: Vec<String>,
    /// Seconds east of UTC at which the account writes its datetimes.
    pub remote_offset_seconds: i64,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        let text = |name: &str, default: &str| config.value(name).unwrap_or(default).to_string();
        let max_page_size = positive(config, "max-page-size", DEFAULT_MAX_PAGE_SIZE)?;
        let limit_check_rows = positive(config, "limit-check-rows", DEFAULT_LIMIT_CHECK_ROWS)?;
        let closed_status_ids = list(config.value("closed-status-ids").unwrap_or(""));
        let description_fields =
            list(config.value("description-fields").unwrap_or(DEFAULT_DESCRIPTION_FIELDS));
        if let Some(unknown) =
            description_fields.iter().find(|f| !TEXT_FIELDS.contains(&f.as_str()))
        {
            return Err(AtsError::InvalidInput(format!(
                "config field `description-fields`: `{unknown}` is not an OTYS vacancy text \
                 field (textField_description, textField_requirements, …)"
            )));
        }
        let webhook_service_calls =
            list(config.value("webhook-service-calls").unwrap_or(DEFAULT_WEBHOOK_SERVICE_CALLS));
        for call in &webhook_service_calls {
            let known = call.split_once('.').is_some_and(|(service, verb)| {
                WEBHOOK_SERVICES.contains(&service) && !verb.is_empty() && !verb.contains('.')
            });
            if !known {
                return Err(AtsError::InvalidInput(format!(
                    "config field `webhook-service-calls`: `{call}` is not <Service>.<verb> of \
                     VacancyService, CandidateService or ProcedureService"
                )));
            }
        }
        let application_link = match config.value("application-document-link").map(str::trim) {
            None | Some("vacancy-internal-id") => ApplicationLink::VacancyInternalId,
            Some("procedure-uid") => ApplicationLink::ProcedureUid,
            Some("none") => ApplicationLink::None,
            Some(other) => {
                return Err(AtsError::InvalidInput(format!(
                    "config field `application-document-link` must be vacancy-internal-id, \
                     procedure-uid or none, got `{other}`"
                )));
            }
        };
        let remote_offset_seconds = match config.value("remote-utc-offset") {
            None => 0,
            Some(value) => crate::clock::parse_offset(value).ok_or_else(|| {
                AtsError::InvalidInput(format!(
                    "config field `remote-utc-offset` must be Z or ±HH:MM, got `{value}`"
                ))
            })?,
        };
        Ok(Self {
            remote_offset_seconds,
            base_url: text("base-url", DEFAULT_BASE_URL).trim_end_matches('/').to_string(),
            api_key: config.require("api-key")?.to_string(),
            max_page_size,
            limit_check_rows,
            modified_field: text("modified-field", DEFAULT_MODIFIED_FIELD),
            closed_status_ids,
            email_search_list: text("email-search-list", DEFAULT_EMAIL_SEARCH_LIST),
            phone_search_list: text("phone-search-list", DEFAULT_PHONE_SEARCH_LIST),
            move_method: text("move-method", DEFAULT_MOVE_METHOD),
            description_fields,
            application_link,
            webhook_service_calls,
        })
    }

    /// The page size to ask for: the host's preference, capped at `max-page-size`.
    pub fn page_size(&self, requested: Option<u32>) -> u32 {
        requested.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, self.max_page_size)
    }

    /// Whether a list call with this `limit` must carry `excludeLimitCheck: true`.
    pub fn exceeds_limit_check(&self, limit: u32) -> bool {
        limit > self.limit_check_rows
    }

    pub fn rpc_url(&self) -> String {
        format!("{}/jservice.php", self.base_url)
    }

    pub fn file_service_url(&self) -> String {
        format!("{}/fileService.php", self.base_url)
    }
}

fn positive(config: &Config, name: &str, default: u32) -> Result<u32, AtsError> {
    match config.value(name) {
        None => Ok(default),
        Some(value) => value.trim().parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
            AtsError::InvalidInput(format!(
                "config field `{name}` must be a positive number, got `{value}`"
            ))
        }),
    }
}

/// A comma-separated list, trimmed, without empty entries.
fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
}

fn field(name: &str, secret: bool, required: bool, help: &str) -> ConfigField {
    ConfigField { name: name.into(), secret, required, help: help.into() }
}

/// The config fields the manifest declares.
pub fn config_fields() -> Vec<ConfigField> {
    vec![
        field(
            "base-url",
            false,
            false,
            "Root URL of OTYS Web Services; default https://ows.otys.nl (calls go to \
             {base-url}/jservice.php and {base-url}/fileService.php)",
        ),
        field(
            "api-key",
            true,
            true,
            "The OTYS Web Services JSON-RPC API key, issued by OTYS; exchanged for a session \
             with loginByUid",
        ),
        field(
            "max-page-size",
            false,
            false,
            "Most rows one list call asks for; default 500 (the official plugin asks for 500 \
             with excludeLimitCheck)",
        ),
        field(
            "limit-check-rows",
            false,
            false,
            "Largest limit OTYS accepts without excludeLimitCheck; larger pages send \
             excludeLimitCheck: true; default 200 (unverified)",
        ),
        field(
            "modified-field",
            false,
            false,
            "Field filtered with GE for incremental reads of vacancies and procedures; default \
             lastModified (unverified)",
        ),
        field(
            "closed-status-ids",
            false,
            false,
            "Comma-separated vacancy statusId values that mean closed; default none (every \
             vacancy is reported open)",
        ),
        field(
            "email-search-list",
            false,
            false,
            "ACTONOMY search list used to find candidates by e-mail; default emailAddress",
        ),
        field(
            "phone-search-list",
            false,
            false,
            "ACTONOMY search list used to find candidates by phone; default phoneNumber \
             (unverified)",
        ),
        field(
            "remote-utc-offset",
            false,
            false,
            "UTC offset of the datetimes this OTYS account writes, Z or ±HH:MM; default Z \
             (unverified: OTYS datetimes carry no offset)",
        ),
        field(
            "move-method",
            false,
            false,
            "Method that sets a procedure's status; default \
             Otys.Services.ProcedureService.update (inferred, unverified)",
        ),
        field(
            "description-fields",
            false,
            false,
            "Comma-separated vacancy text fields a job description is made of, in order; \
             default textField_summary, textField_description, textField_requirements, \
             textField_salary, textField_companyProfile, textField_companyCulture",
        ),
        field(
            "application-document-link",
            false,
            false,
            "What applicationUid carries when a document goes on an application: \
             vacancy-internal-id (default, as the official plugin), procedure-uid (unverified) \
             or none (candidate only)",
        ),
        field(
            "webhook-service-calls",
            false,
            false,
            "Comma-separated OWS service calls register-webhook subscribes to; default \
             VacancyService.update/updateEx/delete, CandidateService.update/updateEx, \
             ProcedureService.update (candidate and procedure calls unverified)",
        ),
    ]
}
