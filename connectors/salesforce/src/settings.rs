//! The connection configuration shared by Salesforce-based connectors: where to log in, the
//! connected app's credentials, the REST API version, the token lifetime, and the mapping of
//! candidates onto an sObject. Facts rated [L] in the research are settings with a
//! documented default.

use ats_connector_sdk::prelude::*;

/// Production orgs log in here; sandboxes use `https://test.salesforce.com` ([H], SF docs).
pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";
/// REST API version used when none is configured.
pub const DEFAULT_API_VERSION: &str = "60.0";
/// Versions below 31.0 were retired in Summer '23 ([H], Tigris Website API article).
pub const MIN_API_MAJOR: u32 = 31;
/// How long a cached access token is reused before a new grant. Salesforce does not return
/// the lifetime with a client-credentials token; the org's session timeout decides ([L]).
pub const DEFAULT_TOKEN_TTL_SECONDS: u32 = 3600;
/// The sObject candidates live in. Neither package documents its candidate object
/// (research §3.4, §4.2); `Contact` is the standard Salesforce person record ([L], inferred).
pub const DEFAULT_CANDIDATE_OBJECT: &str = "Contact";

/// Where and how to reach the org.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    pub login_url: String,
    /// Overrides the `instance_url` of the token answer when set.
    pub instance_url: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    /// `NN.N`, at least [`MIN_API_MAJOR`].
    pub api_version: String,
    pub token_ttl_seconds: u32,
}

fn base_url(name: &str, value: &str) -> Result<String, AtsError> {
    let trimmed = value.trim().trim_end_matches('/');
    if trimmed.starts_with("https://") || trimmed.starts_with("http://") {
        Ok(trimmed.to_string())
    } else {
        Err(AtsError::InvalidInput(format!(
            "config field `{name}` must be an http(s) URL, got `{value}`"
        )))
    }
}

/// `60`, `60.0` → `60.0`; below 31.0 or not a version → invalid input.
fn api_version(value: &str) -> Result<String, AtsError> {
    let value = value.trim().trim_start_matches('v');
    let (major, minor) = value.split_once('.').unwrap_or((value, "0"));
    let major_number = major.parse::<u32>().ok();
    match (major_number, minor.parse::<u32>().is_ok()) {
        (Some(n), true) if n >= MIN_API_MAJOR => Ok(format!("{n}.{minor}")),
        _ => Err(AtsError::InvalidInput(format!(
            "config field `api-version` must be a Salesforce API version of at least \
             {MIN_API_MAJOR}.0, got `{value}`"
        ))),
    }
}

impl OrgSettings {
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        let token_ttl_seconds = match config.value("token-ttl-seconds") {
            None => DEFAULT_TOKEN_TTL_SECONDS,
            Some(value) => {
                value.trim().parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    AtsError::InvalidInput(format!(
                        "config field `token-ttl-seconds` must be a positive number, got `{value}`"
                    ))
                })?
            }
        };
        Ok(Self {
            login_url: base_url(
                "login-url",
                config.value("login-url").unwrap_or(DEFAULT_LOGIN_URL),
            )?,
            instance_url: config
                .value("instance-url")
                .map(|v| base_url("instance-url", v))
                .transpose()?,
            client_id: config.require("client-id")?.to_string(),
            client_secret: config.require("client-secret")?.to_string(),
            api_version: api_version(config.value("api-version").unwrap_or(DEFAULT_API_VERSION))?,
            token_ttl_seconds,
        })
    }
}

/// A field name safe to put into SOQL and JSON (`[A-Za-z0-9_]`).
pub fn api_name(config_field: &str, value: &str) -> Result<String, AtsError> {
    let ok = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(AtsError::InvalidInput(format!(
            "config field `{config_field}` must be a Salesforce API name, got `{value}`"
        )))
    }
}

/// Which sObject and fields hold candidates.
#[derive(Debug, Clone)]
pub struct CandidateMapping {
    pub object: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Looked up in this order; the first is written on create.
    pub phones: Vec<String>,
    /// Where the candidate's source is written; none when configured as `none`.
    pub source: Option<String>,
}

impl CandidateMapping {
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        let name =
            |field: &str, default: &str| api_name(field, config.value(field).unwrap_or(default));
        let phones = config
            .value("candidate-phone-fields")
            .unwrap_or("MobilePhone,Phone")
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| api_name("candidate-phone-fields", f))
            .collect::<Result<Vec<_>, _>>()?;
        let source = match config.value("candidate-source-field").unwrap_or("LeadSource") {
            "none" => None,
            field => Some(api_name("candidate-source-field", field)?),
        };
        Ok(Self {
            object: name("candidate-object", DEFAULT_CANDIDATE_OBJECT)?,
            first_name: name("candidate-first-name-field", "FirstName")?,
            last_name: name("candidate-last-name-field", "LastName")?,
            email: name("candidate-email-field", "Email")?,
            phones,
            source,
        })
    }
}

pub fn field(name: &str, secret: bool, required: bool, help: &str) -> ConfigField {
    ConfigField { name: name.into(), secret, required, help: help.into() }
}

/// The config fields every Salesforce-based connector declares.
pub fn org_config_fields() -> Vec<ConfigField> {
    vec![
        field(
            "login-url",
            false,
            false,
            "Where to request tokens ({login-url}/services/oauth2/token); default \
             https://login.salesforce.com, https://test.salesforce.com for sandboxes, or the \
             org's My Domain URL",
        ),
        field(
            "instance-url",
            false,
            false,
            "The org's REST base, e.g. https://acme.my.salesforce.com; default: the \
             instance_url of the token answer",
        ),
        field(
            "client-id",
            false,
            true,
            "Consumer key of the connected app with the client-credentials flow enabled",
        ),
        field("client-secret", true, true, "Consumer secret of that connected app"),
        field(
            "api-version",
            false,
            false,
            "Salesforce REST API version, at least 31.0; default 60.0",
        ),
        field(
            "token-ttl-seconds",
            false,
            false,
            "How long an access token is reused before a new one is requested; default 3600 \
             (Salesforce does not say; an expired token is refreshed once on \
             INVALID_SESSION_ID anyway)",
        ),
    ]
}

/// The config fields of the candidate mapping.
pub fn candidate_config_fields() -> Vec<ConfigField> {
    vec![
        field(
            "candidate-object",
            false,
            false,
            "sObject that holds candidates; default Contact (the package's own candidate \
             object is not documented publicly)",
        ),
        field("candidate-first-name-field", false, false, "First-name field; default FirstName"),
        field("candidate-last-name-field", false, false, "Last-name field; default LastName"),
        field("candidate-email-field", false, false, "E-mail field; default Email"),
        field(
            "candidate-phone-fields",
            false,
            false,
            "Comma-separated phone fields searched for duplicates, the first is written; \
             default MobilePhone,Phone",
        ),
        field(
            "candidate-source-field",
            false,
            false,
            "Field the candidate's source is written to; default LeadSource, `none` to not \
             write it",
        ),
    ]
}

/// Hosts a Salesforce-based connector may call.
pub fn egress_hosts() -> Vec<String> {
    vec![
        "https://login.salesforce.com".into(),
        "https://test.salesforce.com".into(),
        "https://*.my.salesforce.com".into(),
        "{login-url}".into(),
        "{instance-url}".into(),
    ]
}
