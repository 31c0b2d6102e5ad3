//! Assessment orders (the assessment-partner flow): an order moves `ordered → invited →
//! started → completed → result-posted`, or ends `cancelled` or `expired` (after 8 weeks
//! unless configured), keeping every transition with its instant. The product reports
//! progress (forward only; reporting the current state again changes nothing) and posts the
//! result once: a result is **write-once** — the same result again is idempotent (same
//! order, no new firing), a different one is a [`OrderError::ResultConflict`].
//!
//! Everything here is pure; [`super::storage`] keeps orders with a version for
//! compare-and-swap, so two concurrent posts cannot both win.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Default time an unfinished order lives (Greenhouse's 8-week polling cap).
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(8 * 7 * 24 * 3600);

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum OrderState {
    Ordered,
    Invited,
    Started,
    Completed,
    ResultPosted,
    Cancelled,
    Expired,
}

impl OrderState {
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderState::ResultPosted | OrderState::Cancelled | OrderState::Expired)
    }

    pub fn name(self) -> &'static str {
        match self {
            OrderState::Ordered => "ordered",
            OrderState::Invited => "invited",
            OrderState::Started => "started",
            OrderState::Completed => "completed",
            OrderState::ResultPosted => "result-posted",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
        }
    }
}

/// One change of state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Transition {
    /// `None` for the order's creation.
    pub from: Option<OrderState>,
    pub to: OrderState,
    /// Unix ms.
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A report file as posted: base64 content, like every file of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    pub filename: String,
    #[serde(default = "pdf")]
    pub content_type: String,
    /// The file, base64-encoded. Lists of orders leave it out and give `size_bytes`
    /// instead; `GET /v1/orders/{id}` has it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_base64: String,
    /// The file's size, in lists (where the content is left out); not accepted in a post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

impl ReportBody {
    /// The size of the decoded file.
    fn decoded_size(&self) -> u64 {
        let text = self.content_base64.trim_end_matches('=');
        u64::try_from(text.len()).unwrap_or(u64::MAX).saturating_mul(3) / 4
    }
}

fn pdf() -> String {
    "application/pdf".into()
}

/// A result as the product posts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderResult {
    pub score: Option<f64>,
    /// The score's scale; 100 when absent.
    pub max_score: Option<f64>,
    /// Where the full result is (required, as Kombo and Greenhouse require a profile URL).
    pub link: String,
    pub summary: Option<String>,
    /// Anything else the product reports (`qualified`, `cheating`, sub-scores).
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// The report, e.g. a PDF.
    pub report: Option<ReportBody>,
    /// When the candidate finished (RFC 3339); the posting instant when absent.
    pub completed_at: Option<String>,
}

impl OrderResult {
    /// Checks the numbers and the link.
    pub fn check(&self) -> Result<(), OrderError> {
        let invalid = |field: &str, problem: String| {
            Err(OrderError::Invalid { field: field.into(), problem })
        };
        if self.score.is_some_and(|s| !s.is_finite()) {
            return invalid("score", "must be a finite number".into());
        }
        if let Some(max) = self.max_score
            && !(max.is_finite() && max > 0.0)
        {
            return invalid("max_score", "must be a finite number above 0".into());
        }
        if let (Some(score), max) = (self.score, self.max_score.unwrap_or(100.0))
            && score > max
        {
            return invalid("score", format!("{score} is above max_score {max}"));
        }
        if url::Url::parse(&self.link).is_err() {
            return invalid("link", format!("`{}` is not an absolute URL", self.link));
        }
        if let Some(at) = &self.completed_at
            && crate::time::parse_ms(at).is_none()
        {
            return invalid("completed_at", format!("`{at}` is not an RFC 3339 timestamp"));
        }
        if let Some(report) = &self.report {
            if report.content_base64.is_empty() {
                return invalid("report.content_base64", "the file, base64-encoded".into());
            }
            if report.size_bytes.is_some() {
                return invalid(
                    "report.size_bytes",
                    "the host sets it in lists; leave it out".into(),
                );
            }
        }
        Ok(())
    }

    /// A fingerprint that is equal for equal results whatever the order of their keys.
    pub fn fingerprint(&self) -> String {
        let canonical = canonical(&serde_json::to_value(self).unwrap_or(Value::Null));
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}

/// An assessment ordered for one application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Order {
    pub id: String,
    pub tenant_id: String,
    pub connection_id: String,
    pub application_id: String,
    pub candidate_id: String,
    pub job_id: Option<String>,
    pub package_id: String,
    /// The automation and firing that ordered it, if one did.
    pub automation_id: Option<String>,
    pub firing_id: Option<String>,
    pub state: OrderState,
    pub history: Vec<Transition>,
    /// Unix ms after which an unfinished order expires.
    pub expires_at: i64,
    pub result: Option<OrderResult>,
    pub result_fingerprint: Option<String>,
    /// The `result.submitted` event appended for the posted result; none until it is. A
    /// host stopped between storing the result and appending its event appends it when the
    /// same result is posted again.
    #[serde(default)]
    pub result_event_id: Option<String>,
    /// Bumped by every change; storage swaps on it.
    pub version: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an order is created from.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub id: String,
    pub tenant_id: String,
    pub connection_id: String,
    pub application_id: String,
    pub candidate_id: String,
    pub job_id: Option<String>,
    pub package_id: String,
    pub automation_id: Option<String>,
    pub firing_id: Option<String>,
}

/// The package id of a result posted without an order.
pub const DIRECT_PACKAGE: &str = "direct";

/// The id of the order a result posted without one lands on: one per (connection,
/// application, package), so posting that result again is idempotent and a different one
/// is a conflict, as on any order.
pub fn direct_order_id(connection_id: &str, application_id: &str, package_id: &str) -> String {
    let digest =
        Sha256::digest(format!("{connection_id}\n{application_id}\n{package_id}").as_bytes());
    format!("ord_{}", &hex::encode(digest)[..24])
}

/// A result's application, as the product names it when it posts a result without an order.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectResult {
    pub tenant_id: String,
    pub connection_id: String,
    pub application_id: String,
    pub candidate_id: String,
    pub job_id: Option<String>,
    /// [`DIRECT_PACKAGE`] when the product names none.
    pub package_id: Option<String>,
}

impl DirectResult {
    /// The order the host creates for the result (see [`direct_order_id`]).
    pub fn order(self) -> NewOrder {
        let package_id = self
            .package_id
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| DIRECT_PACKAGE.to_string());
        NewOrder {
            id: direct_order_id(&self.connection_id, &self.application_id, &package_id),
            tenant_id: self.tenant_id,
            connection_id: self.connection_id,
            application_id: self.application_id,
            candidate_id: self.candidate_id,
            job_id: self.job_id,
            package_id,
            automation_id: None,
            firing_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrderError {
    #[error("order `{id}` is {}: it cannot move to {}", .from.name(), .to.name())]
    InvalidTransition { id: String, from: OrderState, to: OrderState },
    #[error(
        "order `{id}` already has a different result; results are write-once (post the same result to read it back)"
    )]
    ResultConflict { id: String },
    #[error("order `{id}` is {}: it takes no result", .state.name())]
    Closed { id: String, state: OrderState },
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

/// What posting a result did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Stored now: fire the `result-submitted` trigger.
    New,
    /// The same result was already stored: nothing changed, nothing fires.
    Again,
}

impl Order {
    pub fn new(new: NewOrder, now: i64, expiry: Duration) -> Order {
        let expiry_ms = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX);
        Order {
            id: new.id,
            tenant_id: new.tenant_id,
            connection_id: new.connection_id,
            application_id: new.application_id,
            candidate_id: new.candidate_id,
            job_id: new.job_id,
            package_id: new.package_id,
            automation_id: new.automation_id,
            firing_id: new.firing_id,
            state: OrderState::Ordered,
            history: vec![Transition { from: None, to: OrderState::Ordered, at: now, note: None }],
            expires_at: now.saturating_add(expiry_ms),
            result: None,
            result_fingerprint: None,
            result_event_id: None,
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The order as lists show it: the report's content left out, its size given.
    pub fn in_list(mut self) -> Order {
        if let Some(report) = self.result.as_mut().and_then(|r| r.report.as_mut()) {
            report.size_bytes = Some(report.decoded_size());
            report.content_base64 = String::new();
        }
        self
    }

    /// Records the `result.submitted` event appended for the posted result.
    pub fn note_result_event(&mut self, event_id: String) {
        self.result_event_id = Some(event_id);
        self.version += 1;
    }

    fn move_to(&mut self, to: OrderState, now: i64, note: Option<String>) {
        self.history.push(Transition { from: Some(self.state), to, at: now, note });
        self.state = to;
        self.updated_at = now;
        self.version += 1;
    }

    /// Reports progress (`invited`, `started`, `completed`) or a cancellation. Forward
    /// only; the current state again changes nothing (`Ok(false)`).
    pub fn advance(
        &mut self,
        to: OrderState,
        now: i64,
        note: Option<String>,
    ) -> Result<bool, OrderError> {
        if to == self.state && !self.state.is_terminal() {
            return Ok(false);
        }
        let refused =
            || OrderError::InvalidTransition { id: self.id.clone(), from: self.state, to };
        let allowed = match to {
            OrderState::Invited | OrderState::Started | OrderState::Completed => {
                !self.state.is_terminal() && to > self.state
            }
            OrderState::Cancelled | OrderState::Expired => !self.state.is_terminal(),
            // Only a posted result and the creation lead there.
            OrderState::ResultPosted | OrderState::Ordered => false,
        };
        if !allowed {
            return Err(refused());
        }
        self.move_to(to, now, note);
        Ok(true)
    }

    /// Posts the result (write-once). From any unfinished state the order passes through
    /// `completed` to `result-posted`.
    pub fn post_result(&mut self, result: OrderResult, now: i64) -> Result<Posted, OrderError> {
        result.check()?;
        let fingerprint = result.fingerprint();
        match self.state {
            OrderState::ResultPosted => {
                return if self.result_fingerprint.as_deref() == Some(fingerprint.as_str()) {
                    Ok(Posted::Again)
                } else {
                    Err(OrderError::ResultConflict { id: self.id.clone() })
                };
            }
            OrderState::Cancelled | OrderState::Expired => {
                return Err(OrderError::Closed { id: self.id.clone(), state: self.state });
            }
            _ => {}
        }
        if self.state != OrderState::Completed {
            self.move_to(OrderState::Completed, now, None);
        }
        self.result = Some(result);
        self.result_fingerprint = Some(fingerprint);
        self.move_to(OrderState::ResultPosted, now, None);
        Ok(Posted::New)
    }

    /// Expires the order if it is unfinished past its expiry; returns whether it did.
    pub fn expire_if_due(&mut self, now: i64) -> bool {
        if self.state.is_terminal() || now < self.expires_at {
            return false;
        }
        self.move_to(OrderState::Expired, now, Some("not finished before its expiry".into()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Order {
        Order::new(
            NewOrder {
                id: "ord_1".into(),
                tenant_id: "t".into(),
                connection_id: "c".into(),
                application_id: "a1".into(),
                candidate_id: "cand".into(),
                job_id: Some("j1".into()),
                package_id: "coding-test".into(),
                automation_id: None,
                firing_id: None,
            },
            1_000,
            DEFAULT_EXPIRY,
        )
    }

    fn result(score: f64) -> OrderResult {
        OrderResult {
            score: Some(score),
            max_score: Some(100.0),
            link: "https://assess.example/r/1".into(),
            summary: None,
            attributes: serde_json::from_value(json!({"qualified": true, "cheating": false}))
                .expect("map"),
            report: None,
            completed_at: None,
        }
    }

    #[test]
    fn progress_moves_forward_with_history() {
        let mut o = order();
        assert_eq!(o.expires_at, 1_000 + 56 * 24 * 3600 * 1000);
        assert_eq!(o.advance(OrderState::Invited, 2_000, None), Ok(true));
        assert_eq!(o.advance(OrderState::Invited, 2_500, None), Ok(false), "same state again");
        assert_eq!(o.advance(OrderState::Started, 3_000, None), Ok(true));
        assert!(matches!(
            o.advance(OrderState::Invited, 4_000, None),
            Err(OrderError::InvalidTransition { .. })
        ));
        assert!(o.advance(OrderState::ResultPosted, 4_000, None).is_err(), "only a result posts");
        let states: Vec<_> = o.history.iter().map(|t| (t.from, t.to, t.at)).collect();
        assert_eq!(
            states,
            vec![
                (None, OrderState::Ordered, 1_000),
                (Some(OrderState::Ordered), OrderState::Invited, 2_000),
                (Some(OrderState::Invited), OrderState::Started, 3_000),
            ]
        );
        assert_eq!(o.version, 2);
    }

    #[test]
    fn results_are_write_once_and_idempotent() {
        let mut o = order();
        o.advance(OrderState::Started, 2_000, None).expect("start");
        assert_eq!(o.post_result(result(86.0), 3_000), Ok(Posted::New));
        assert_eq!(o.state, OrderState::ResultPosted);
        assert_eq!(o.history.iter().filter(|t| t.to == OrderState::Completed).count(), 1);
        let version = o.version;
        // The same result with its attributes in another order is the same result.
        let mut again = result(86.0);
        again.attributes =
            serde_json::from_value(json!({"cheating": false, "qualified": true})).expect("map");
        assert_eq!(o.post_result(again, 4_000), Ok(Posted::Again));
        assert_eq!(o.version, version, "nothing changed");
        assert_eq!(
            o.post_result(result(40.0), 5_000),
            Err(OrderError::ResultConflict { id: "ord_1".into() })
        );
        assert!(
            o.advance(OrderState::Cancelled, 6_000, None).is_err(),
            "finished orders stay finished"
        );
    }

    #[test]
    fn cancelled_and_expired_orders_take_no_result() {
        let mut o = order();
        o.advance(OrderState::Cancelled, 2_000, Some("candidate withdrew".into())).expect("cancel");
        assert!(matches!(o.post_result(result(1.0), 3_000), Err(OrderError::Closed { .. })));
        let mut o = order();
        assert!(!o.expire_if_due(o.expires_at - 1));
        assert!(o.expire_if_due(o.expires_at));
        assert_eq!(o.state, OrderState::Expired);
        assert!(!o.expire_if_due(o.expires_at + 1), "once");
    }

    #[test]
    fn a_result_without_an_order_lands_on_one_order_per_application_and_package() {
        let direct = |package: Option<&str>| DirectResult {
            tenant_id: "t".into(),
            connection_id: "c".into(),
            application_id: "a1".into(),
            candidate_id: "cand".into(),
            job_id: Some("j1".into()),
            package_id: package.map(str::to_string),
        };
        let first = direct(None).order();
        assert_eq!(first.package_id, DIRECT_PACKAGE);
        assert_eq!(first.id, direct(Some(" ")).order().id, "a blank package is the default");
        assert_eq!(first.id, direct(None).order().id, "stable");
        assert_ne!(first.id, direct(Some("video-interview")).order().id);
        let mut order = Order::new(first, 1_000, DEFAULT_EXPIRY);
        assert_eq!(order.post_result(result(70.0), 2_000), Ok(Posted::New));
        assert_eq!(order.post_result(result(70.0), 3_000), Ok(Posted::Again));
        let event = crate::automations::document::result_submitted(&order, 2_000).expect("event");
        assert_eq!(event.subject_id, "a1");
        assert_eq!(
            (&event.data["application_id"], &event.data["candidate_id"], &event.data["job_id"]),
            (&json!("a1"), &json!("cand"), &json!("j1"))
        );
        assert_eq!(event.data["order"]["id"], json!(order.id));
        assert_eq!(event.data["result"]["score"], json!(70.0));
    }

    #[test]
    fn bad_results_are_refused_naming_the_field() {
        let mut o = order();
        let mut bad = result(120.0);
        assert!(
            matches!(o.post_result(bad.clone(), 1), Err(OrderError::Invalid { field, .. }) if field == "score")
        );
        bad.score = Some(1.0);
        bad.link = "not a url".into();
        assert!(
            matches!(o.post_result(bad, 1), Err(OrderError::Invalid { field, .. }) if field == "link")
        );
        assert_eq!(o.state, OrderState::Ordered);
    }
}
