//! `[webhook]`: turning an inbound ATS webhook into change events without code (the
//! contract's `parse-webhook`). The section names where the events are in the JSON body,
//! maps each onto a change event (`kind`, `remote_id`, `occurred_at`) with the usual field
//! mappings, optionally checks an HMAC-SHA256 signature header against a secret from the
//! config (constant-time), and optionally gives the reply the ATS expects. Events whose
//! kind does not map onto a change kind are skipped (ATSs send more kinds than the host
//! needs).

use crate::error::DeclError;
use crate::execute::Executor;
use crate::limits::MAX_RECORDS_PER_PAGE;
use crate::manifest::Manifest;
use crate::records::map_record;
use crate::schema::CHANGE_EVENT;
use crate::select::{Document, select};
use crate::spec::FieldSpec;
use crate::template::{Context, Template};
use crate::tree::KeyPath;
use crate::validate::{Checker, outer_scope};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeMap;

/// A reply body is at most this long.
const MAX_REPLY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookSpec {
    /// Selector of the events in the body: a list, or one event object; `""` = the body.
    #[serde(default)]
    pub events: String,
    /// `kind`, `remote_id` (required) and `occurred_at`, relative to each event.
    pub fields: BTreeMap<String, FieldSpec>,
    pub signature: Option<SignatureSpec>,
    pub reply: Option<ReplySpec>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SignatureAlgorithm {
    #[default]
    HmacSha256,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SignatureEncoding {
    #[default]
    Hex,
    Base64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignatureSpec {
    /// The header carrying the signature.
    pub header: String,
    #[serde(default)]
    pub algorithm: SignatureAlgorithm,
    #[serde(default)]
    pub encoding: SignatureEncoding,
    /// Text before the signature in the header, e.g. `sha256=`.
    #[serde(default)]
    pub prefix: String,
    /// Template of the signing secret, e.g. `{{config.webhook-secret}}`; when it renders
    /// empty, deliveries are not checked (the inbound URL's own token still is, by the host).
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplySpec {
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default = "json")]
    pub content_type: String,
    #[serde(default)]
    pub body: String,
}

fn ok() -> u16 {
    200
}

fn json() -> String {
    "application/json".into()
}

/// What a webhook delivery turned into.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedWebhook {
    /// Each a change event as JSON: `kind` (kebab-case), `remote_id`, `occurred_at`?, `raw`.
    pub events: Vec<Value>,
    /// The reply the ATS expects, when the manifest gives one.
    pub reply: Option<WebhookReply>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// Checks `[webhook]`.
pub(crate) fn validate(c: &mut Checker<'_>, spec: &WebhookSpec) {
    let path = KeyPath::root().key("webhook");
    if !spec.events.is_empty() {
        c.selector(path.key("events"), &spec.events);
    }
    let config_names = c.config_names.clone();
    let scope = crate::template::Scope { record: true, ..outer_scope(&config_names, false) };
    crate::validate_ops::check_fields(c, &path.key("fields"), &spec.fields, &CHANGE_EVENT, &scope);
    for required in ["kind", "remote_id"] {
        if !spec.fields.contains_key(required) {
            c.error(
                path.key("fields").key(required),
                format!(
                    "[webhook] fields needs `{required}`, e.g. {required} = \"{}\"",
                    example(required)
                ),
            );
        }
    }
    if let Some(signature) = &spec.signature {
        let at = path.key("signature");
        c.header_name(at.key("header"), &signature.header);
        c.template(at.key("secret"), &signature.secret, &outer_scope(&config_names, false));
    }
    if let Some(reply) = &spec.reply {
        let at = path.key("reply");
        if !(200..=599).contains(&reply.status) {
            c.error(at.key("status"), "status must be an HTTP status between 200 and 599");
        }
        if reply.body.len() > MAX_REPLY_BYTES {
            c.error(at.key("body"), format!("at most {MAX_REPLY_BYTES} bytes"));
        }
        if reply.content_type.contains(['\r', '\n']) {
            c.error(at.key("content_type"), "no line breaks");
        }
    }
}

fn example(field: &str) -> &'static str {
    match field {
        "kind" => "{ path = \\\"action\\\", map = { updated = \\\"application-changed\\\" } }",
        _ => "payload.id",
    }
}

impl Executor<'_> {
    /// Turns an inbound webhook (its headers and body) into change events, after checking
    /// its signature where `[webhook] signature` is declared.
    pub fn parse_webhook(
        &self,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<ParsedWebhook, DeclError> {
        let Some(spec) = &self.manifest.webhook else {
            return Err(DeclError::Unsupported(format!(
                "the {} connector declares no [webhook] section",
                self.manifest.connector.ats_name
            )));
        };
        let empty = Value::Null;
        let page = Default::default();
        let ctx = Context {
            config: &self.config,
            input: &empty,
            page: &page,
            since: None,
            session: None,
            record: None,
            matched: None,
        };
        if let Some(signature) = &spec.signature {
            verify(signature, &ctx, headers, body)?;
        }
        let document: Document<'_> = serde_json::from_slice(body)
            .map_err(|e| DeclError::InvalidInput(format!("the webhook body is not JSON: {e}")))?;
        let found = if spec.events.is_empty() {
            Some(document)
        } else {
            select(&document, &spec.events).map(std::borrow::Cow::into_owned)
        };
        let items: Vec<Document<'_>> = match found {
            Some(Document::Array(items)) => items,
            Some(Document::Null) | None => Vec::new(),
            Some(one) => vec![one],
        };
        if items.len() > MAX_RECORDS_PER_PAGE {
            return Err(DeclError::InvalidInput(format!(
                "the webhook carries {} events; at most {MAX_RECORDS_PER_PAGE} are taken",
                items.len()
            )));
        }
        let mut events = Vec::new();
        for item in &items {
            let mapped = map_record(item, None, &spec.fields, &CHANGE_EVENT, &ctx)?;
            let has =
                |key: &str| mapped.get(key).and_then(Value::as_str).is_some_and(|v| !v.is_empty());
            if has("kind") && has("remote_id") {
                events.push(mapped.into_value());
            }
        }
        Ok(ParsedWebhook { events, reply: self.manifest.webhook_reply() })
    }
}

/// Checks the delivery's signature header: HMAC-SHA256 of the raw body with the secret.
fn verify(
    spec: &SignatureSpec,
    ctx: &Context<'_>,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), DeclError> {
    let secret = Template::checked(&spec.secret)?.render_string(ctx)?;
    if secret.is_empty() {
        return Ok(());
    }
    let Some((_, value)) = headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(&spec.header))
    else {
        return Err(DeclError::Unauthorized(format!(
            "the webhook has no `{}` signature header",
            spec.header
        )));
    };
    let value = value.trim();
    let signature = value.strip_prefix(spec.prefix.as_str()).unwrap_or(value).trim();
    let decoded = match spec.encoding {
        SignatureEncoding::Hex => hex::decode(signature).ok(),
        SignatureEncoding::Base64 => {
            base64::engine::general_purpose::STANDARD.decode(signature).ok()
        }
    };
    let bad = || {
        DeclError::Unauthorized(format!("the webhook's `{}` signature does not match", spec.header))
    };
    let decoded = decoded.ok_or_else(bad)?;
    let SignatureAlgorithm::HmacSha256 = spec.algorithm;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| bad())?;
    mac.update(body);
    mac.verify_slice(&decoded).map_err(|_| bad())
}

impl Manifest {
    /// Whether the manifest declares `[webhook]` (and so `parse-webhook`).
    pub fn parses_webhooks(&self) -> bool {
        self.webhook.is_some()
    }

    /// The reply `[webhook] reply` gives, if any.
    pub fn webhook_reply(&self) -> Option<WebhookReply> {
        let reply = self.webhook.as_ref()?.reply.as_ref()?;
        Some(WebhookReply {
            status: reply.status,
            content_type: reply.content_type.clone(),
            body: reply.body.clone(),
        })
    }
}
