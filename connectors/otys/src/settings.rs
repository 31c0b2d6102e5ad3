//! The connection configuration of the OTYS connector: the config fields the manifest
//! declares, their documented defaults, and the typed settings every operation reads.
//!
//! Facts the research rates low-confidence ([L]) are settings with a documented default, so
//! an operator can correct them per connection without a new connector build.

use ats_connector_sdk::prelude::*;

/// The OTYS Web Services host the official plugin talks to.
pub const DEFAULT_BASE_URL: &str = "https://ows.otys.nl";
/// Most services return at most 200 rows per `getListEx` ([L], third-party client).
pub const DEFAULT_MAX_PAGE_SIZE: u32 = 200;
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

/// Everything an operation needs from the connection config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub api_key: String,
    pub max_page_size: u32,
    pub modified_field: String,
    pub closed_status_ids: Vec<String>,
    pub email_search_list: String,
    pub phone_search_list: String,
    pub move_method: String,
    /// Seconds east of UTC at which the account writes its datetimes.
    pub remote_offset_seconds: i64,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        let text = |name: &str, default: &str| config.value(name).unwrap_or(default).to_string();
        let max_page_size = match config.value("max-page-size") {
            None => DEFAULT_MAX_PAGE_SIZE,
            Some(value) => {
                value.trim().parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    AtsError::InvalidInput(format!(
                        "config field `max-page-size` must be a positive number, got `{value}`"
                    ))
                })?
            }
        };
        let closed_status_ids = config
            .value("closed-status-ids")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect();
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
            modified_field: text("modified-field", DEFAULT_MODIFIED_FIELD),
            closed_status_ids,
            email_search_list: text("email-search-list", DEFAULT_EMAIL_SEARCH_LIST),
            phone_search_list: text("phone-search-list", DEFAULT_PHONE_SEARCH_LIST),
            move_method: text("move-method", DEFAULT_MOVE_METHOD),
        })
    }

    /// The page size to ask for: the host's preference, capped at the ATS's limit.
    pub fn page_size(&self, requested: Option<u32>) -> u32 {
        requested.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, self.max_page_size)
    }

    pub fn rpc_url(&self) -> String {
        format!("{}/jservice.php", self.base_url)
    }

    pub fn file_service_url(&self) -> String {
        format!("{}/fileService.php", self.base_url)
    }
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
            "Most rows OTYS returns per getListEx; default 200 (unverified limit)",
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
    ]
}
