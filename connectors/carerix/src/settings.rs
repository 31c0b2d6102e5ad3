//! The connection configuration of the Carerix connector: the config fields the manifest
//! declares, their documented defaults, and the typed settings every operation reads.
//!
//! Facts the research rates low-confidence ([L]) are settings with a documented default, so
//! an operator can correct them per connection without a new connector build.

use ats_connector_sdk::prelude::*;

/// The GraphQL endpoint ([H], Carerix developer docs).
pub const DEFAULT_GRAPHQL_URL: &str = "https://api.carerix.io/graphql/v1/graphql";
/// The OAuth2 scope of the full CR* GraphQL schema ([L]: third parties name two scopes).
pub const DEFAULT_SCOPE: &str = "urn:cx/graphql:data:manage";
/// Largest page the connector asks for ([L]: one source reports a soft cap of 100).
pub const DEFAULT_MAX_PAGE_SIZE: u32 = 100;
/// Page numbers start at 0 ([L], third-party client).
pub const DEFAULT_FIRST_PAGE: u32 = 0;
/// The stage list query, by the `cr<Entity>Page` pattern ([L]: inferred name).
pub const DEFAULT_STAGE_QUERY: &str = "crStatusInfoPage";
/// The mutation that creates a candidate, by the `cr<Entity>Update` pattern ([L]: inferred).
pub const DEFAULT_CREATE_MUTATION: &str = "crEmployeeCreate";
/// The mutation that changes a match (application), by the same pattern ([L]: inferred).
pub const DEFAULT_MATCH_UPDATE_MUTATION: &str = "crMatchUpdate";
/// The free-text field notes are appended to on CREmployee and CRMatch ([H] field exists;
/// [L] that it is what recruiters read as "notes").
pub const DEFAULT_NOTE_FIELD: &str = "notes";
/// The field tags are added to on CREmployee and CRMatch ([L]: which field the UI calls
/// tags is unclear).
pub const DEFAULT_TAG_FIELD: &str = "applyTags";
/// The data-node tag that types an attachment as a CV ([H], GraphQL apply example).
pub const DEFAULT_CV_TYPE_TAG: &str = "CVTag";
/// Token lifetime when the token answer carries no `expires_in` ([L]: about 3600 s).
pub const DEFAULT_TOKEN_TTL_SECONDS: u32 = 3600;

/// Everything an operation needs from the connection config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub graphql_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
    pub max_page_size: u32,
    pub first_page: u32,
    pub stage_query: String,
    pub create_mutation: String,
    pub match_update_mutation: String,
    /// `None` when turned off (`none`): add-note then answers `unsupported`.
    pub note_field: Option<String>,
    /// `None` when turned off (`none`): add-tag then answers `unsupported`.
    pub tag_field: Option<String>,
    pub cv_type_tag: String,
    /// Data-node values of `toStatusNode` that mean a vacancy is closed.
    pub closed_vacancy_tags: Vec<String>,
}

/// A field name, or `None` when the operator turned the feature off with `none`.
fn optional_field(config: &Config, name: &str, default: &str) -> Result<Option<String>, AtsError> {
    match config.value(name).unwrap_or(default).trim() {
        "none" => Ok(None),
        _ => graphql_name(config, name, default).map(Some),
    }
}

fn number(config: &Config, name: &str, default: u32, min: u32) -> Result<u32, AtsError> {
    match config.value(name) {
        None => Ok(default),
        Some(value) => value.trim().parse::<u32>().ok().filter(|n| *n >= min).ok_or_else(|| {
            AtsError::InvalidInput(format!(
                "config field `{name}` must be a whole number of at least {min}, got `{value}`"
            ))
        }),
    }
}

fn graphql_name(config: &Config, name: &str, default: &str) -> Result<String, AtsError> {
    let value = config.value(name).unwrap_or(default).trim();
    let valid = value.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(AtsError::InvalidInput(format!(
            "config field `{name}` must be a GraphQL field name like `{default}`, got `{value}`"
        )));
    }
    Ok(value.to_string())
}

fn url(config: &Config, name: &str, default: Option<&str>) -> Result<String, AtsError> {
    let value = match default {
        Some(default) => config.value(name).unwrap_or(default),
        None => config.require(name)?,
    };
    let value = value.trim().trim_end_matches('/');
    if !(value.starts_with("https://") || value.starts_with("http://")) {
        return Err(AtsError::InvalidInput(format!(
            "config field `{name}` must be an https:// URL, got `{value}`"
        )));
    }
    Ok(value.to_string())
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        Ok(Settings {
            graphql_url: url(config, "graphql-url", Some(DEFAULT_GRAPHQL_URL))?,
            token_url: url(config, "token-url", None)?,
            client_id: config.require("client-id")?.trim().to_string(),
            client_secret: config.require("client-secret")?.to_string(),
            scope: config.value("scope").unwrap_or(DEFAULT_SCOPE).trim().to_string(),
            max_page_size: number(config, "max-page-size", DEFAULT_MAX_PAGE_SIZE, 1)?,
            first_page: number(config, "first-page", DEFAULT_FIRST_PAGE, 0)?,
            stage_query: graphql_name(config, "stage-query", DEFAULT_STAGE_QUERY)?,
            create_mutation: graphql_name(config, "create-mutation", DEFAULT_CREATE_MUTATION)?,
            match_update_mutation: graphql_name(
                config,
                "match-update-mutation",
                DEFAULT_MATCH_UPDATE_MUTATION,
            )?,
            note_field: optional_field(config, "note-field", DEFAULT_NOTE_FIELD)?,
            tag_field: optional_field(config, "tag-field", DEFAULT_TAG_FIELD)?,
            cv_type_tag: config.value("cv-type-tag").unwrap_or(DEFAULT_CV_TYPE_TAG).to_string(),
            closed_vacancy_tags: config
                .value("closed-vacancy-tags")
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }

    /// Page size for a request asking for `limit`.
    pub fn page_size(&self, limit: Option<u32>) -> u32 {
        limit.unwrap_or(self.max_page_size).clamp(1, self.max_page_size)
    }
}

fn field(name: &str, secret: bool, required: bool, help: &str) -> ConfigField {
    ConfigField { name: name.into(), secret, required, help: help.into() }
}

/// The config fields the manifest declares.
pub fn config_fields() -> Vec<ConfigField> {
    vec![
        field(
            "token-url",
            false,
            true,
            "Your tenant's OAuth2 token URL: https://id[-N].carerix.io/auth/realms/<tenant>/protocol/openid-connect/token (see the host of your Carerix app URL)",
        ),
        field(
            "client-id",
            false,
            true,
            "Client id of a confidential client (Carerix → Identity Access → Clients)",
        ),
        field("client-secret", true, true, "Client secret of that client"),
        field("scope", false, false, "OAuth2 scope [default: urn:cx/graphql:data:manage]"),
        field(
            "graphql-url",
            false,
            false,
            "GraphQL endpoint [default: https://api.carerix.io/graphql/v1/graphql]",
        ),
        field("max-page-size", false, false, "Largest page asked for [default: 100]"),
        field("first-page", false, false, "Number of the first page: 0 or 1 [default: 0]"),
        field(
            "stage-query",
            false,
            false,
            "Query listing CRStatusInfo stages [default: crStatusInfoPage]",
        ),
        field(
            "create-mutation",
            false,
            false,
            "Mutation creating a CREmployee [default: crEmployeeCreate]",
        ),
        field(
            "match-update-mutation",
            false,
            false,
            "Mutation updating a CRMatch [default: crMatchUpdate]",
        ),
        field(
            "note-field",
            false,
            false,
            "Free-text field notes are appended to, or `none` [default: notes]",
        ),
        field(
            "tag-field",
            false,
            false,
            "Comma-separated tag field, or `none` [default: applyTags]",
        ),
        field("cv-type-tag", false, false, "Data-node tag typing a CV attachment [default: CVTag]"),
        field(
            "closed-vacancy-tags",
            false,
            false,
            "Comma-separated toStatusNode values meaning a vacancy is closed [default: none]",
        ),
    ]
}
