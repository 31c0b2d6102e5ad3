//! `Idempotency-Key` on the sandbox ATS's writes, as payment APIs honour it (Stripe,
//! Adyen) and as the host sends it on every journaled write: the first `POST`, `PUT`,
//! `PATCH` or `DELETE` with a key is applied and its answer kept; a repeat with the same key
//! gets the kept answer (marked `Idempotent-Replayed: true`) and changes nothing. Answers
//! of 5xx are not kept (the write may be retried). Writes with a key run one at a time, so a
//! repeat that arrives while the first is still being applied waits for its answer. At most
//! [`MAX_KEYS`] keys are remembered (the oldest are forgotten first), each at most
//! [`MAX_KEY_BYTES`]; a longer key is refused with 400.
//!
//! This lets a test tell "the host repeated a write after a crash, with its key" (absorbed
//! here, as an ATS with idempotency keys would) from "the host wrote twice" (two records).

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use std::collections::{HashMap, VecDeque};

/// Keys remembered at once.
pub const MAX_KEYS: usize = 10_000;
/// Longest key accepted (Stripe's limit is 255 characters).
pub const MAX_KEY_BYTES: usize = 255;
/// Largest answer kept for a replay.
const MAX_ANSWER_BYTES: usize = 1 << 20;

struct Kept {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: axum::body::Bytes,
}

/// The kept answers, oldest first.
#[derive(Default)]
pub struct Replays {
    answers: HashMap<String, Kept>,
    order: VecDeque<String>,
    replayed: u64,
}

/// Whether a request with this method changes something (and so may carry a key).
pub fn is_write(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

impl Replays {
    /// The kept answer for `key`, if any.
    pub fn replay(&mut self, key: &str) -> Option<Response> {
        let kept = self.answers.get(key)?;
        let mut response = Response::new(Body::from(kept.body.clone()));
        *response.status_mut() = kept.status;
        if let Some(content_type) = &kept.content_type {
            response.headers_mut().insert(axum::http::header::CONTENT_TYPE, content_type.clone());
        }
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        self.replayed += 1;
        Some(response)
    }

    /// Keeps `response` (unless it is a 5xx) as the answer for `key`; returns the response
    /// to send.
    pub async fn keep(
        replays: &std::sync::Mutex<Self>,
        key: String,
        response: Response,
    ) -> Response {
        if response.status().is_server_error() {
            return response;
        }
        let (parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_ANSWER_BYTES).await else {
            return Response::from_parts(parts, Body::empty());
        };
        let kept = Kept {
            status: parts.status,
            content_type: parts.headers.get(axum::http::header::CONTENT_TYPE).cloned(),
            body: bytes.clone(),
        };
        let mut this = replays.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if this.answers.insert(key.clone(), kept).is_none() {
            this.order.push_back(key);
            while this.order.len() > MAX_KEYS {
                if let Some(oldest) = this.order.pop_front() {
                    this.answers.remove(&oldest);
                }
            }
        }
        Response::from_parts(parts, Body::from(bytes))
    }

    /// Writes answered from a kept answer so far.
    pub fn replayed(&self) -> u64 {
        self.replayed
    }
}
