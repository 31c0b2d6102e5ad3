//! The manifest's sections as typed values (serde, `deny_unknown_fields` everywhere): what
//! the TOML says, before validation. Kinds that need different keys (auth, paginate) are flat
//! structs whose keys are checked per kind by [`crate::validate`], so every misplaced key is
//! reported, not just the first.

use crate::de::OneOrMany;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectorSpec {
    pub id: String,
    pub ats_name: String,
    pub version: String,
    #[serde(default)]
    pub egress_hosts: Vec<String>,
    #[serde(default)]
    pub result_modes: Vec<String>,
    #[serde(default = "yes")]
    pub application_attachments: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFieldSpec {
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub help: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DefaultsSpec {
    pub base_url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    pub page_size: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuthKind {
    #[default]
    None,
    ApiKey,
    Basic,
    Bearer,
    Oauth2ClientCredentials,
    Oauth2RefreshToken,
    Session,
}

impl AuthKind {
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::None => "none",
            AuthKind::ApiKey => "api-key",
            AuthKind::Basic => "basic",
            AuthKind::Bearer => "bearer",
            AuthKind::Oauth2ClientCredentials => "oauth2-client-credentials",
            AuthKind::Oauth2RefreshToken => "oauth2-refresh-token",
            AuthKind::Session => "session",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ApiKeyIn {
    Header,
    Query,
}

/// How an OAuth2 client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Body,
    /// HTTP Basic with `client_id:client_secret`.
    Basic,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthSpec {
    #[serde(default)]
    pub kind: AuthKind,
    /// bearer
    pub token: Option<String>,
    /// api-key
    #[serde(rename = "in")]
    pub location: Option<ApiKeyIn>,
    /// api-key: the header or query parameter name
    pub name: Option<String>,
    /// api-key, session: the value sent
    pub value: Option<String>,
    /// basic
    pub username: Option<String>,
    pub password: Option<String>,
    /// oauth2-*
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub client_auth: Option<ClientAuth>,
    /// oauth2-refresh-token
    pub refresh_token: Option<String>,
    /// session
    pub login: Option<RequestSpec>,
    pub token_path: Option<String>,
    pub token_header: Option<String>,
    pub ttl_seconds: Option<u32>,
    pub header: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) enum Method {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request other than an operation's own: a session login, a dedupe update.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestSpec {
    pub method: Option<Method>,
    pub path: OneOrMany,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<BodySpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BodySpec {
    pub json: Option<Value>,
    pub form: Option<BTreeMap<String, String>>,
    pub multipart: Option<Vec<PartSpec>>,
    pub text: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartSpec {
    pub name: String,
    /// A text part: a template.
    pub value: Option<String>,
    /// A file part: a variable path (`input.content`) holding base64 or a byte array.
    pub file: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ErrorAction {
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    Transient,
    InvalidInput,
    Remote,
}

/// Which statuses an error rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusMatch {
    Exact(u16),
    /// `5xx`: 500 to 599.
    Class(u16),
    /// `500-503`, inclusive.
    Range(u16, u16),
}

impl StatusMatch {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusMatch::Exact(code) => status == code,
            StatusMatch::Class(class) => status / 100 == class,
            StatusMatch::Range(low, high) => (low..=high).contains(&status),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let code = |t: &str| t.trim().parse::<u16>().ok().filter(|c| (100..=599).contains(c));
        if let Some(class) = text.strip_suffix("xx").or_else(|| text.strip_suffix("XX")) {
            return class.parse::<u16>().ok().filter(|c| (1..=5).contains(c)).map(Self::Class);
        }
        if let Some((low, high)) = text.split_once('-') {
            let (low, high) = (code(low)?, code(high)?);
            return (low <= high).then_some(Self::Range(low, high));
        }
        code(text).map(Self::Exact)
    }
}

impl Serialize for StatusMatch {
    /// As written in a manifest: `404`, `"5xx"` or `"500-503"`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            StatusMatch::Exact(code) => serializer.serialize_u16(code),
            StatusMatch::Class(class) => serializer.serialize_str(&format!("{class}xx")),
            StatusMatch::Range(low, high) => serializer.serialize_str(&format!("{low}-{high}")),
        }
    }
}

impl<'de> Deserialize<'de> for StatusMatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;
        const EXPECTED: &str =
            "an HTTP status (100-599), a class such as \"5xx\" or a range such as \"500-503\"";
        impl Visitor<'_> for StatusVisitor {
            type Value = StatusMatch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<StatusMatch, E> {
                u16::try_from(value)
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .map(StatusMatch::Exact)
                    .ok_or_else(|| E::custom(format!("status {value} is not {EXPECTED}")))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<StatusMatch, E> {
                self.visit_i64(i64::try_from(value).unwrap_or(i64::MAX))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<StatusMatch, E> {
                StatusMatch::parse(value)
                    .ok_or_else(|| E::custom(format!("status \"{value}\" is not {EXPECTED}")))
            }
        }
        deserializer.deserialize_any(StatusVisitor)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorRule {
    pub status: Vec<StatusMatch>,
    pub body_contains: Option<String>,
    pub action: ErrorAction,
    pub message: Option<String>,
    pub retry_after_header: Option<String>,
    pub reset_header: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PaginateKind {
    None,
    PageNumber,
    Offset,
    Cursor,
    LinkHeader,
    NextUrl,
}

impl PaginateKind {
    pub fn name(self) -> &'static str {
        match self {
            PaginateKind::None => "none",
            PaginateKind::PageNumber => "page-number",
            PaginateKind::Offset => "offset",
            PaginateKind::Cursor => "cursor",
            PaginateKind::LinkHeader => "link-header",
            PaginateKind::NextUrl => "next-url",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaginateSpec {
    pub kind: PaginateKind,
    pub param: Option<String>,
    pub start: Option<u32>,
    pub size_param: Option<String>,
    pub token_path: Option<String>,
    pub path: Option<String>,
    pub max_pages: Option<u32>,
    /// Selector of a flag in the answer: go on only while it is truthy (`moreDataAvailable`).
    pub more_path: Option<String>,
    /// Selector of a flag in the answer: stop once it is truthy (`paginationComplete`).
    pub done_path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum TimeFormat {
    #[default]
    Rfc3339,
    Unix,
    UnixMs,
    Date,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncrementalSpec {
    pub param: Option<String>,
    #[serde(default)]
    pub format: TimeFormat,
    #[serde(default)]
    pub lookback_seconds: u32,
}

/// How one unified field is obtained: `"path"` or a table.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldSpec {
    pub path: Option<String>,
    pub template: Option<String>,
    pub value: Option<Value>,
    pub map: Option<BTreeMap<String, Value>>,
    pub default: Option<Value>,
    pub transform: Vec<String>,
    /// For lists of records: the mapping of each element's fields.
    pub each: Option<BTreeMap<String, FieldSpec>>,
    /// `path` parsed, on first use (a manifest lives for one call; its fields map every
    /// record of a page).
    pub selector: std::cell::OnceCell<Option<crate::select::Selector>>,
    /// `transform` parsed, on first use (each entry was checked at parse).
    pub transforms: std::cell::OnceCell<Result<Vec<crate::transform::Transform>, String>>,
    /// The contract type of the field this spec fills (`None`: a field the record does
    /// not have), found on first use: a spec maps one field of one record kind.
    pub target: std::cell::OnceCell<Option<crate::records::Target>>,
}

impl FieldSpec {
    /// The parsed transforms.
    pub fn transforms(&self) -> Result<&[crate::transform::Transform], String> {
        self.transforms
            .get_or_init(|| {
                self.transform.iter().map(|t| crate::transform::Transform::parse(t)).collect()
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// The parsed `path` (validated at parse; `None` when there is none).
    pub fn selector(&self) -> Option<&crate::select::Selector> {
        let path = self.path.as_deref()?;
        self.selector.get_or_init(|| crate::select::Selector::parse(path).ok()).as_ref()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldTable {
    path: Option<String>,
    template: Option<String>,
    value: Option<Value>,
    map: Option<BTreeMap<String, Value>>,
    default: Option<Value>,
    #[serde(default)]
    transform: OneOrMany,
    each: Option<BTreeMap<String, FieldSpec>>,
}

impl Serialize for FieldSpec {
    /// As the table form of a manifest, with only the keys set.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(path) = &self.path {
            map.serialize_entry("path", path)?;
        }
        if let Some(template) = &self.template {
            map.serialize_entry("template", template)?;
        }
        if let Some(value) = &self.value {
            map.serialize_entry("value", value)?;
        }
        if let Some(table) = &self.map {
            map.serialize_entry("map", table)?;
        }
        if let Some(default) = &self.default {
            map.serialize_entry("default", default)?;
        }
        if !self.transform.is_empty() {
            map.serialize_entry("transform", &self.transform)?;
        }
        if let Some(each) = &self.each {
            map.serialize_entry("each", each)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = FieldSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a selector path or a table { path | template | value, map, default, transform, each }")
            }
            fn visit_str<E: de::Error>(self, path: &str) -> Result<FieldSpec, E> {
                Ok(FieldSpec { path: Some(path.to_string()), ..FieldSpec::default() })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldSpec, A::Error> {
                let table = FieldTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(FieldSpec {
                    path: table.path,
                    template: table.template,
                    value: table.value,
                    map: table.map,
                    default: table.default,
                    transform: table.transform.0,
                    each: table.each,
                    selector: std::cell::OnceCell::new(),
                    transforms: std::cell::OnceCell::new(),
                    target: std::cell::OnceCell::new(),
                })
            }
        }
        deserializer.deserialize_any(FieldVisitor)
    }
}

/// Upsert deduplication: look the candidate up first, update it when found.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DedupeSpec {
    /// The list operation used to look up, with the input `{"email": ..., "phone": null}`
    /// (or the phone), `lookup.email`/`lookup.phone` carrying the same.
    pub lookup: String,
    /// The request sent for a match (`{{match.<field>}}` is the matched record).
    pub update: RequestSpec,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperationSpec {
    pub unsupported: Option<String>,
    pub method: Option<Method>,
    pub path: Option<OneOrMany>,
    pub base_url: Option<String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<BodySpec>,
    pub records: Option<String>,
    pub record: Option<String>,
    pub paginate: Option<PaginateSpec>,
    pub incremental: Option<IncrementalSpec>,
    pub page_size: Option<u32>,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSpec>,
    #[serde(default)]
    pub result: BTreeMap<String, FieldSpec>,
    pub dedupe: Option<DedupeSpec>,
}
