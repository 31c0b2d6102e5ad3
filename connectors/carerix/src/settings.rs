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
/// A candidate's second phone field ([L]: not in the research; third-party GraphQL reads).
pub const DEFAULT_MOBILE_FIELD: &str = "mobileNumber";
/// Where a vacancy keeps its place ([L]: CX-CLIENT `AbstractCRVacancy`, third-party reads).
pub const DEFAULT_VACANCY_LOCATION: &str =
    "text=workLocation, city=workCity, postal-code=workPostalCode";
/// The vacancy texts joined into a job description ([L], same sources).
pub const DEFAULT_VACANCY_DESCRIPTION: &str =
    "introInformation, vacancyInformation, requirements, offerInformation";
/// The CRUser relations of a vacancy read as its assigned users ([L]: CX-CLIENT; Kombo maps
/// vacancy users by role, [M]).
pub const DEFAULT_VACANCY_USERS: &str = "owner, vacancyUsers[].toUser";
/// The Webhooks API ([H], `CX-WH`).
pub const DEFAULT_WEBHOOKS_URL: &str = "https://api.carerix.io/webhooks/v1";
/// The scope the Webhooks API demands ([H], `CX-WH`).
pub const WEBHOOKS_SCOPE: &str = "urn:cx/webhooks:data:manage";
/// The Webhooks API application this connector registers its hooks under.
pub const DEFAULT_WEBHOOK_APPLICATION: &str = "ats-connector";
/// The event types a webhook subscribes to ([L]: `CREntity:action` spelling per `CX-3P-C`;
/// officially supported entities per `CX-WH`; at most 10 filters per webhook [L]).
pub const DEFAULT_WEBHOOK_EVENTS: &str = "CRVacancy:created, CRVacancy:updated, CRPublication:created, CRPublication:updated, CREmployee:created, CREmployee:updated, CRMatch:created, CRMatch:updated";

/// A part of a structured location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationPart {
    Text,
    City,
    Region,
    Country,
    PostalCode,
}

/// A GraphQL field path: names from the record down (`items` steps into a to-many page).
pub type FieldPath = Vec<String>;

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
    /// `None` when turned off: only `phoneNumber` is read and looked up.
    pub mobile_field: Option<String>,
    pub vacancy_location: Vec<(LocationPart, FieldPath)>,
    pub vacancy_description: Vec<FieldPath>,
    /// Paths to CRUser relations (their `_id` is read).
    pub vacancy_users: Vec<FieldPath>,
    /// The status reject-application moves a match to (`_id`, `statusName` or
    /// `displayName`); `None`: the first active final status that is not successfully filled.
    pub reject_status: Option<String>,
    pub webhooks_url: String,
    pub webhook_application: String,
    pub webhook_events: Vec<String>,
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

fn is_graphql_name(value: &str) -> bool {
    value.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn graphql_name(config: &Config, name: &str, default: &str) -> Result<String, AtsError> {
    let value = config.value(name).unwrap_or(default).trim();
    if !is_graphql_name(value) {
        return Err(AtsError::InvalidInput(format!(
            "config field `{name}` must be a GraphQL field name like `{default}`, got `{value}`"
        )));
    }
    Ok(value.to_string())
}

/// The comma-separated items of `name` (its default when unset); `none` is the empty list.
fn items<'a>(config: &'a Config, name: &str, default: &'a str) -> Vec<&'a str> {
    match config.value(name).unwrap_or(default).trim() {
        "none" => Vec::new(),
        value => value.split(',').map(str::trim).filter(|item| !item.is_empty()).collect(),
    }
}

/// `a.b` or `a[].b` (a to-many relation, read through its page's `items`) → field names.
fn path(name: &str, text: &str) -> Result<FieldPath, AtsError> {
    let mut out = Vec::new();
    for step in text.split('.') {
        let (field, many) = match step.strip_suffix("[]") {
            Some(field) => (field, true),
            None => (step, false),
        };
        if !is_graphql_name(field) {
            return Err(AtsError::InvalidInput(format!(
                "config field `{name}`: `{text}` is not a field path like `workCity` or `vacancyUsers[].toUser`"
            )));
        }
        out.push(field.to_string());
        if many {
            out.push("items".into());
        }
    }
    Ok(out)
}

fn paths(config: &Config, name: &str, default: &str) -> Result<Vec<FieldPath>, AtsError> {
    items(config, name, default).into_iter().map(|item| path(name, item)).collect()
}

fn location_paths(config: &Config) -> Result<Vec<(LocationPart, FieldPath)>, AtsError> {
    let name = "vacancy-location-fields";
    items(config, name, DEFAULT_VACANCY_LOCATION)
        .into_iter()
        .map(|item| {
            let (part, field) = item.split_once('=').unwrap_or(("", item));
            let part = match part.trim() {
                "text" => LocationPart::Text,
                "city" => LocationPart::City,
                "region" => LocationPart::Region,
                "country" => LocationPart::Country,
                "postal-code" => LocationPart::PostalCode,
                _ => {
                    return Err(AtsError::InvalidInput(format!(
                        "config field `{name}`: `{item}` is not `part=field` with part text, city, region, country or postal-code"
                    )));
                }
            };
            Ok((part, path(name, field.trim())?))
        })
        .collect()
}

fn event_types(config: &Config) -> Result<Vec<String>, AtsError> {
    let name = "webhook-events";
    items(config, name, DEFAULT_WEBHOOK_EVENTS)
        .into_iter()
        .map(|item| {
            let shaped = item
                .split_once(':')
                .is_some_and(|(entity, action)| is_graphql_name(entity) && is_graphql_name(action));
            if shaped {
                Ok(item.to_string())
            } else {
                Err(AtsError::InvalidInput(format!(
                    "config field `{name}`: `{item}` is not an event type like `CRMatch:updated`"
                )))
            }
        })
        .collect()
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
            mobile_field: optional_field(config, "mobile-field", DEFAULT_MOBILE_FIELD)?,
            vacancy_location: location_paths(config)?,
            vacancy_description: paths(
                config,
                "vacancy-description-fields",
                DEFAULT_VACANCY_DESCRIPTION,
            )?,
            vacancy_users: paths(config, "vacancy-user-fields", DEFAULT_VACANCY_USERS)?,
            reject_status: config.value("reject-status").map(str::trim).map(str::to_string),
            webhooks_url: url(config, "webhooks-url", Some(DEFAULT_WEBHOOKS_URL))?,
            webhook_application: config
                .value("webhook-application")
                .unwrap_or(DEFAULT_WEBHOOK_APPLICATION)
                .trim()
                .to_string(),
            webhook_events: event_types(config)?,
        })
    }

    /// The tenant (Keycloak realm) of the token URL `…/auth/realms/<tenant>/…` ([H]), or
    /// the token URL's host when it has no realm.
    pub fn tenant(&self) -> String {
        let after_scheme =
            self.token_url.split_once("://").map_or(self.token_url.as_str(), |p| p.1);
        match after_scheme.split_once("/realms/") {
            Some((_, rest)) => rest.split('/').next().unwrap_or(rest).to_string(),
            None => after_scheme.split('/').next().unwrap_or(after_scheme).to_string(),
        }
    }

    /// The config field that makes the connector ask for GraphQL field `field`, if any.
    pub fn config_field_for(&self, field: &str) -> Option<&'static str> {
        let named = |value: &Option<String>| value.as_deref() == Some(field);
        let mentions = |paths: &[FieldPath]| paths.iter().flatten().any(|step| step == field);
        let location: Vec<FieldPath> =
            self.vacancy_location.iter().map(|(_, path)| path.clone()).collect();
        [
            (named(&self.tag_field), "tag-field"),
            (named(&self.note_field), "note-field"),
            (named(&self.mobile_field), "mobile-field"),
            (mentions(&location), "vacancy-location-fields"),
            (mentions(&self.vacancy_description), "vacancy-description-fields"),
            (mentions(&self.vacancy_users), "vacancy-user-fields"),
        ]
        .into_iter()
        .find_map(|(hit, name)| hit.then_some(name))
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
        field(
            "mobile-field",
            false,
            false,
            "Second phone field of a CREmployee, read and looked up, or `none` [default: mobileNumber]",
        ),
        field(
            "vacancy-location-fields",
            false,
            false,
            "Vacancy location as part=field pairs (parts: text, city, region, country, postal-code; a field may be a path like toWorkCountryNode.exportCode), or `none` [default: text=workLocation, city=workCity, postal-code=workPostalCode]",
        ),
        field(
            "vacancy-description-fields",
            false,
            false,
            "Vacancy text fields joined into the job description, or `none` [default: introInformation, vacancyInformation, requirements, offerInformation]",
        ),
        field(
            "vacancy-user-fields",
            false,
            false,
            "CRUser relations of a vacancy read as assigned users (`relation` or `list[].relation`), or `none` [default: owner, vacancyUsers[].toUser]",
        ),
        field(
            "reject-status",
            false,
            false,
            "CRStatusInfo (_id, statusName or displayName) reject-application moves a match to; must be final and not successfully filled [default: the first active such status by sortOrder]",
        ),
        field(
            "webhooks-url",
            false,
            false,
            "Webhooks API base URL [default: https://api.carerix.io/webhooks/v1]",
        ),
        field(
            "webhook-application",
            false,
            false,
            "Name of the Webhooks API application hooks are registered under [default: ats-connector]",
        ),
        field(
            "webhook-events",
            false,
            false,
            "Event types a registered webhook subscribes to (at most 10) [default: CRVacancy, CRPublication, CREmployee and CRMatch :created and :updated]",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &[(&str, &str)]) -> Result<Settings, AtsError> {
        let token_url = "https://id-3.carerix.io/auth/realms/acme/protocol/openid-connect/token";
        let config: Vec<Field> =
            [("token-url", token_url), ("client-id", "c"), ("client-secret", "s")]
                .iter()
                .chain(extra)
                .map(|(name, value)| Field { name: (*name).into(), value: (*value).into() })
                .collect();
        Settings::from_config(&config)
    }

    #[test]
    fn unverified_fields_have_defaults_and_can_be_turned_off() {
        let Ok(defaults) = settings(&[]) else { panic!("defaults refused") };
        assert_eq!(defaults.tenant(), "acme");
        assert_eq!(defaults.tag_field.as_deref(), Some("applyTags"));
        assert_eq!(defaults.mobile_field.as_deref(), Some("mobileNumber"));
        assert_eq!(
            defaults.vacancy_users,
            [
                vec!["owner".to_string()],
                ["vacancyUsers", "items", "toUser"].map(String::from).into()
            ]
        );
        assert_eq!(defaults.webhook_events.len(), 8);
        assert_eq!(defaults.config_field_for("workCity"), Some("vacancy-location-fields"));
        assert_eq!(defaults.config_field_for("jobTitle"), None);

        let off = [
            ("tag-field", "none"),
            ("mobile-field", "none"),
            ("vacancy-location-fields", "country=toWorkCountryNode.exportCode"),
            ("vacancy-user-fields", "none"),
        ];
        let Ok(off) = settings(&off) else { panic!("`none` refused") };
        assert_eq!((off.tag_field, off.mobile_field), (None, None));
        assert_eq!(off.vacancy_location.len(), 1);
        assert_eq!(off.vacancy_location[0].0, LocationPart::Country);
        assert!(off.vacancy_users.is_empty());

        for bad in [
            ("vacancy-location-fields", "planet=workCity"),
            ("vacancy-description-fields", "intro..text"),
            ("webhook-events", "everything"),
            ("webhooks-url", "ftp://api.carerix.io"),
        ] {
            let refused = settings(&[bad]);
            assert!(
                matches!(&refused, Err(AtsError::InvalidInput(m)) if m.contains(bad.0)),
                "{bad:?}"
            );
        }
    }
}
