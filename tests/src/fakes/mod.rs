//! In-process fake ATS servers (axum on 127.0.0.1, random port), one per connector, written
//! from the research notes (`shared/research/ats-apis-benelux.md`), not from the connectors:
//! each fake rejects what the real API would reject.
//!
//! Every fake implements [`FakeAts`], which is all the conformance kit
//! ([`crate::conformance`]) needs: a connection config pointing at the fake, a way to seed
//! records, the fault switches of [`Faults`], and a read-only view of what landed
//! ([`FakeCandidate`]).

pub mod ashby;
pub mod bamboohr;
pub mod carerix;
pub mod greenhouse;
pub mod jazzhr;
pub mod lever;
pub mod otys;
pub mod recruitee;
pub mod salesforce;
pub mod smartrecruiters;
pub mod teamtailor;
pub mod workable;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// What the conformance kit needs from a fake ATS.
pub trait FakeAts: Send + Sync {
    /// Cargo package of the connector under test (bundled into the host).
    fn connector_package(&self) -> &'static str;
    /// A valid connection config pointing at this fake.
    fn config(&self) -> Vec<(String, String)>;
    /// The same config with credentials this fake rejects.
    fn bad_credentials_config(&self) -> Vec<(String, String)>;
    /// The secret values in [`FakeAts::config`]: they must never appear in logs or errors.
    fn secrets(&self) -> Vec<String>;
    fn faults(&self) -> &Faults;

    /// Adds `count` open jobs modified at `updated_at` (RFC 3339, UTC); returns their ids as
    /// the connector reports them.
    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String>;
    /// Changes the title of job `id` to `title` and its modification time to `updated_at`.
    fn touch_job(&self, id: &str, title: &str, updated_at: &str);
    /// Whether the ATS issues sessions or access tokens that expire. `false` for a static
    /// API key sent on every request: the kit then skips its re-authentication check, and
    /// [`FakeAts::auth_count`] / [`FakeAts::expire_sessions`] are not called by it.
    fn issues_sessions(&self) -> bool {
        true
    }
    /// How many times the connector authenticated (logins, token grants).
    fn auth_count(&self) -> usize;
    /// Invalidates every session or token issued so far: the next request carrying one
    /// gets the ATS's own "expired" answer.
    fn expire_sessions(&self);
    /// Every candidate stored in the fake, with what was attached to it.
    fn candidates(&self) -> Vec<FakeCandidate>;
    /// The webhook subscriptions the connector created in the fake (`register-webhook`):
    /// (remote id, target URL). A fake whose ATS has no webhook API keeps the default.
    fn webhooks(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A fake's lock, even after a panicking handler poisoned it (the fake's data stays usable
/// for the test's assertions).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `name = value` pairs of a connection config.
pub type Pairs = Vec<(String, String)>;

/// The fake's connection config split the way a connection stores it: (config, secrets),
/// a value being a secret when it is one of [`FakeAts::secrets`].
pub fn config_and_secrets(fake: &dyn FakeAts) -> (Pairs, Pairs) {
    let secrets = fake.secrets();
    fake.config().into_iter().partition(|(_, value)| !secrets.contains(value))
}

/// A candidate as stored in a fake, flattened to what the conformance kit checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FakeCandidate {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// Note bodies attached to the candidate or to one of its applications.
    pub notes: Vec<String>,
    /// Tags, and sources recorded as tags or source fields.
    pub tags: Vec<String>,
    /// (filename, content) of every file attached.
    pub attachments: Vec<(String, Vec<u8>)>,
    pub applications: Vec<FakeApplication>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FakeApplication {
    pub id: String,
    pub job_id: String,
    /// The stage id as the connector reports stages.
    pub stage_id: Option<String>,
    pub source: Option<String>,
    /// Screening answers, however the ATS stores them (field, note, motivation text).
    pub answers_text: String,
    pub rejected_reason: Option<String>,
    /// Score/link/summary text written back, however the ATS stores it.
    pub result_text: String,
}

/// Fault switches every fake honours on its API routes (not on its auth routes, unless a
/// fake says otherwise). Each switch fires for the next requests only, so a test arms it,
/// makes its call and checks the outcome.
#[derive(Debug, Default)]
pub struct Faults {
    /// `Retry-After` values: each of the next requests is answered 429 with one of them.
    rate_limits: Mutex<VecDeque<String>>,
    /// The next N requests are answered 500 (transient).
    server_errors: AtomicU32,
    /// Every request waits this long (ms) before being answered.
    delay_ms: AtomicU64,
    /// List endpoints hand out the same next-page token forever.
    repeat_page_token: AtomicBool,
    /// Requests answered so far (API routes).
    requests: AtomicU64,
}

impl Faults {
    /// The next request is answered 429 with `Retry-After: retry_after` (seconds or an
    /// HTTP-date).
    pub fn rate_limit_next(&self, retry_after: &str) {
        self.rate_limits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(retry_after.to_string());
    }

    /// The next `count` requests are answered 500.
    pub fn fail_next(&self, count: u32) {
        self.server_errors.store(count, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    pub fn set_repeat_page_token(&self, on: bool) {
        self.repeat_page_token.store(on, Ordering::SeqCst);
    }

    pub fn repeat_page_token(&self) -> bool {
        self.repeat_page_token.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Called by a fake at the start of every API request: waits out the delay, then
    /// answers the armed fault, if any. `None` means "handle the request normally".
    pub async fn intercept(&self) -> Option<Response> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let retry_after =
            self.rate_limits.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
        if let Some(retry_after) = retry_after {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            if let Ok(value) = HeaderValue::from_str(&retry_after) {
                response.headers_mut().insert("retry-after", value);
            }
            return Some(response);
        }
        let armed = self
            .server_errors
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        armed.then(|| (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response())
    }
}
