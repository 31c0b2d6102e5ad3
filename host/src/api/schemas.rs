//! Schemas for the OpenAPI document that are not derived where their types live: the list
//! and page envelopes the API wraps records in (with [`page_after`], the paging of lists
//! kept whole in memory), and the types of modules outside the API's
//! reach (runtime, sync, webhooks, demo) that the API sends as they serialise. Each of those
//! is described by a private mirror struct deriving `JsonSchema` with the same serde shape;
//! a mirror refuses unknown properties, so a field added to the real type fails the API
//! tests that validate real answers against the document until the mirror follows.

use super::problem::Problem;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use std::borrow::Cow;

/// `{"data": [...]}`: a list the API returns whole.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}List")]
pub struct List<T> {
    pub data: Vec<T>,
}

impl<T> List<T> {
    pub fn of(data: Vec<T>) -> Self {
        List { data }
    }
}

/// `{"data": [...], "next_cursor": ...}`: one page of a list; `next_cursor` is `null` on
/// the last page.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` (`after` for events) to read the next page.
    pub next_cursor: Option<String>,
}

/// One page of `items` (in list order) after `cursor`. Each item sorts by its (instant,
/// id); `newest_first` lists go down in time (ids still ascending within one instant).
pub fn page_after<T>(
    items: Vec<T>,
    cursor: Option<&str>,
    limit: Option<usize>,
    key: impl Fn(&T) -> (i64, String),
    newest_first: bool,
) -> Result<Page<T>, Problem> {
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    let position =
        |(at, id): (i64, String)| (if newest_first { at.saturating_neg() } else { at }, id);
    let after = match cursor {
        None => None,
        Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
            Problem::invalid(
                "cursor",
                "not a cursor this API returned; pass `next_cursor` from the previous page",
            )
        })?),
    };
    let mut rest: Vec<T> = match after {
        None => items,
        Some(after) => {
            let after = position(after);
            items.into_iter().filter(|item| position(key(item)) > after).collect()
        }
    };
    let next_cursor = (rest.len() > limit).then(|| {
        rest.truncate(limit);
        rest.last().map(|last| encode_cursor(key(last)))
    });
    Ok(Page { data: rest, next_cursor: next_cursor.flatten() })
}

fn encode_cursor((at, id): (i64, String)) -> String {
    URL_SAFE_NO_PAD.encode(format!("{at}/{id}"))
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok()?).ok()?;
    let (at, id) = raw.split_once('/')?;
    Some((at.parse().ok()?, id.to_string()))
}

/// `impl JsonSchema for $real` by its mirror `$doc`.
macro_rules! described_by {
    ($real:ty => $doc:ty) => {
        impl JsonSchema for $real {
            fn schema_name() -> Cow<'static, str> {
                <$doc as JsonSchema>::schema_name()
            }

            fn schema_id() -> Cow<'static, str> {
                <$doc as JsonSchema>::schema_id()
            }

            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                <$doc as JsonSchema>::json_schema(generator)
            }
        }
    };
}

described_by!(crate::sync::budget::RateBudget => RateBudget);
described_by!(crate::runtime::loader::VersionInfo => VersionInfo);
described_by!(crate::runtime::loader::ManifestView => ManifestView);
described_by!(crate::runtime::AllocatorKind => AllocatorKind);
described_by!(crate::webhooks::SubscriptionView => Subscription);
described_by!(crate::webhooks::Delivery => Delivery);
described_by!(crate::demo::DemoSnapshot => DemoSnapshot);

// The mirrors. Only their schemas are used; they are never built.

/// A connection's own rate budget: at most `calls` connector calls in any `per_secs` seconds.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only, never built")]
struct RateBudget {
    /// 1..=10000.
    calls: u32,
    /// 1..=3600.
    per_secs: u32,
}

/// One loaded build of a connector.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only, never built")]
struct VersionInfo {
    id: String,
    ats_name: String,
    version: String,
    sha256: String,
    /// Where it was loaded from (`bundled`, `upload`, a file path).
    origin: String,
    /// WIT names of the operations it declares.
    operations: Vec<String>,
    size_bytes: u64,
    compile: CompileOrigin,
    load_ms: u64,
    loaded_at_unix: u64,
    /// The `ats:connector` contract version it implements.
    contract: String,
}

#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code, reason = "a schema only, never built")]
enum CompileOrigin {
    Compiled,
    Cached,
}

/// A connector's manifest, operations by their WIT names.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only, never built")]
struct ManifestView {
    id: String,
    ats_name: String,
    connector_version: String,
    operations: Vec<String>,
    config_fields: Vec<crate::model::ConfigField>,
    egress_hosts: Vec<String>,
    /// How `write-result` stores a result natively (`score-field`, `link-field`, `note`,
    /// `attachment`).
    result_modes: Vec<String>,
    application_attachments: bool,
}

#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code, reason = "a schema only, never built")]
enum AllocatorKind {
    Pooling,
    OnDemand,
}

/// An outbound webhook subscription (the signing secret is shown only at creation).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only, never built")]
struct Subscription {
    id: String,
    tenant_id: String,
    url: String,
    /// `job.created`, `job.*`, `*`; empty: every event.
    event_types: Vec<String>,
    enabled: bool,
    /// Why the host disabled it (e.g. the receiver answered 410).
    disabled_reason: Option<String>,
    created_at: i64,
}

#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code, reason = "a schema only, never built")]
enum DeliveryStatus {
    Pending,
    Delivered,
    DeadLetter,
    Cancelled,
}

/// One event to one subscription.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only, never built")]
struct Delivery {
    id: String,
    subscription_id: String,
    tenant_id: String,
    event_id: String,
    event_type: String,
    payload: serde_json::Value,
    status: DeliveryStatus,
    attempts: u32,
    /// Unix milliseconds of the next attempt while pending.
    next_attempt_at: i64,
    last_status_code: Option<u16>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// With `serve --demo`: the demo connection, its latest runs and events.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only, never built")]
struct DemoSnapshot {
    sandbox_url: String,
    connection: Option<crate::store::Connection>,
    jobs_synced: u64,
    applications_synced: u64,
    recent_runs: Vec<serde_json::Map<String, serde_json::Value>>,
    recent_events: Vec<serde_json::Map<String, serde_json::Value>>,
    try_next: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_cursor_in_both_directions() {
        let items: Vec<(i64, String)> =
            vec![(1, "a".into()), (2, "b".into()), (2, "c".into()), (3, "d".into())];
        let key = |item: &(i64, String)| item.clone();
        let first = page_after(items.clone(), None, Some(3), key, false).expect("page");
        assert_eq!(first.data.len(), 3);
        let cursor = first.next_cursor.expect("more");
        let rest = page_after(items.clone(), Some(&cursor), Some(3), key, false).expect("page");
        assert_eq!(rest.data, vec![(3, "d".to_string())]);
        assert!(rest.next_cursor.is_none(), "the last page has no cursor");

        let newest: Vec<(i64, String)> =
            vec![(3, "d".into()), (2, "b".into()), (2, "c".into()), (1, "a".into())];
        let first = page_after(newest.clone(), None, Some(2), key, true).expect("page");
        assert_eq!(first.data, vec![(3, "d".to_string()), (2, "b".to_string())]);
        let cursor = first.next_cursor.expect("more");
        let rest = page_after(newest, Some(&cursor), Some(2), key, true).expect("page");
        assert_eq!(rest.data, vec![(2, "c".to_string()), (1, "a".to_string())]);
        assert!(rest.next_cursor.is_none());
        assert!(page_after(items, Some("%%"), None, key, false).is_err());
    }
}
