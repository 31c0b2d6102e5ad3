//! A small in-process ATS ("Sandbox ATS") for the demo, tests and trying connectors without
//! an ATS account: REST + JSON, bearer-key auth, lists ordered by (`updated_at`, `id`) with
//! `offset` or opaque `cursor` paging and `updated_since`, candidates, applications, stage
//! moves, notes, tags, attachments, rejections and results. The bundled `sandbox`
//! connector speaks all of it; the example connector speaks the job/stage/candidate part.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/jobs?offset\|cursor&limit&updated_since` | `{"jobs": [...], "total", "next_cursor"}` |
//! | `GET /api/stages`, `GET /api/jobs/{id}/stages` | `{"stages": [{"id","name","position"}]}` |
//! | `GET /api/applications?offset\|cursor&limit&updated_since` | `{"applications": [...], "total", "next_cursor"}` |
//! | `POST /api/applications` | 201 application; 409 if the candidate already applied |
//! | `POST /api/applications/{id}/move\|reject\|result\|notes` | the change |
//! | `GET /api/candidates?email=\|phone=`, `GET /api/candidates/{id}` | candidates |
//! | `POST /api/candidates`, `PATCH /api/candidates/{id}` | the candidate |
//! | `POST /api/candidates/{id}/notes\|tags\|attachments` | 201 `{"id"}` |
//!
//! Writes honour an `Idempotency-Key` header (see [`idempotency`]).
//!
//! A missing or wrong key answers 401 `{"error": ...}`; a malformed body or an unknown field
//! 400; `limit` over 500 is 400. [`SandboxHandle`] is the test/demo control panel: seed and
//! change records as a recruiter would, and switch faults on (429 with `Retry-After`, 5xx,
//! delays, a repeating cursor, revoked credentials).
//!
//! Every answer takes time independent of how many records the sandbox holds (see
//! [`data`]): a benchmark of a 10,000-record sync measures the host, not this fake.

mod data;
mod directory;
mod idempotency;
mod routes;

use axum::Router;
use data::Data;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The API key the demo connection uses.
pub const DEMO_API_KEY: &str = "sandbox-demo-key";

#[derive(Default)]
struct Faults {
    rate_limited: AtomicU32,
    retry_after_secs: AtomicU64,
    failing: AtomicU32,
    fail_status: AtomicU16,
    delay_ms: AtomicU64,
    answer_delay_ms: AtomicU64,
    repeat_cursor: AtomicBool,
    requests: AtomicU64,
}

struct Shared {
    api_key: Mutex<String>,
    data: Mutex<Data>,
    faults: Faults,
    /// Nanoseconds spent answering requests (see [`SandboxHandle::busy_time`]).
    busy_nanos: AtomicU64,
    /// Kept answers of writes sent with an `Idempotency-Key`.
    replays: Mutex<idempotency::Replays>,
    /// Held while a write with an `Idempotency-Key` is looked up, applied and kept.
    keyed_writes: tokio::sync::Mutex<()>,
}

/// Control panel of a running sandbox ATS. Cheap to clone.
#[derive(Clone)]
pub struct SandboxHandle {
    shared: Arc<Shared>,
}

impl SandboxHandle {
    fn data(&self) -> MutexGuard<'_, Data> {
        self.shared.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `count` jobs all updated at `updated_at`; returns their ids.
    pub fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut data = self.data();
        let ids: Vec<String> = (0..count).map(|_| data.new_id("job")).collect();
        data.jobs.extend(ids.iter().enumerate().map(|(i, id)| {
            serde_json::json!({
                "id": id, "ref": format!("SEED-{i:05}"), "title": format!("Seeded vacancy {i}"),
                "status": "open", "city": "Utrecht", "department": "Seed",
                "recruiter": "recruiter@sandbox-ats.example", "description": "Seeded for a test.",
                "created_at": updated_at, "updated_at": updated_at,
            })
        }));
        ids
    }

    /// Creates or changes a job (title, `open`/`closed`) as a recruiter would.
    pub fn upsert_job(&self, id: &str, title: &str, status: &str, updated_at: &str) {
        let mut data = self.data();
        let changed = data.jobs.update(id, |job| {
            job["title"] = title.into();
            job["status"] = status.into();
            job["updated_at"] = updated_at.into();
        });
        if changed.is_none() {
            data.jobs.insert(serde_json::json!({
                "id": id, "ref": null, "title": title, "status": status, "city": null,
                "department": null, "recruiter": null, "description": null,
                "created_at": updated_at, "updated_at": updated_at,
            }));
        }
    }

    /// Removes a job from the ATS (a hard delete).
    pub fn delete_job(&self, id: &str) {
        self.data().jobs.remove(id);
    }

    /// Every job, in the order they were added (a copy).
    pub fn jobs(&self) -> Vec<Value> {
        self.data().jobs.values().cloned().collect()
    }

    /// Every candidate, in the order they were added (a copy).
    pub fn candidates(&self) -> Vec<Value> {
        self.data().candidates.values().cloned().collect()
    }

    /// Every application, in the order they were added (a copy).
    pub fn applications(&self) -> Vec<Value> {
        self.data().applications.values().cloned().collect()
    }

    pub fn stages(&self) -> Vec<Value> {
        Data::stages()
    }

    /// Fixes the time writes are stamped with (RFC 3339).
    pub fn set_now(&self, rfc3339: &str) {
        self.data().clock = Some(rfc3339.to_string());
    }

    /// Moves an application as a recruiter would (bumps `updated_at`).
    pub fn move_application(&self, id: &str, stage_id: &str) {
        let mut data = self.data();
        let now = data.now();
        data.applications.update(id, |application| {
            application["stage_id"] = stage_id.into();
            application["updated_at"] = now.into();
        });
    }

    /// Changes a candidate's email as a recruiter would (bumps its `updated_at`).
    pub fn change_candidate_email(&self, id: &str, email: &str) {
        let mut data = self.data();
        let now = data.now();
        data.candidates.update(id, |candidate| {
            candidate["emails"] = serde_json::json!([email]);
            candidate["updated_at"] = now.into();
        });
    }

    /// The next `count` API requests answer 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit_next(&self, count: u32, retry_after_secs: u64) {
        self.shared.faults.retry_after_secs.store(retry_after_secs, Ordering::SeqCst);
        self.shared.faults.rate_limited.store(count, Ordering::SeqCst);
    }

    /// The next `count` API requests answer `status` (e.g. 503).
    pub fn fail_next(&self, count: u32, status: u16) {
        self.shared.faults.fail_status.store(status, Ordering::SeqCst);
        self.shared.faults.failing.store(count, Ordering::SeqCst);
    }

    /// Every request waits this long first (a huge delay is a hanging ATS).
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.faults.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Every answer waits this long after the request was applied: a slow way back, where a
    /// client that dies while waiting has written without hearing so.
    pub fn set_answer_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.faults.answer_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Writes answered from the answer kept for their `Idempotency-Key` (applied once,
    /// answered again).
    pub fn idempotent_replays(&self) -> u64 {
        self.shared.replays.lock().unwrap_or_else(PoisonError::into_inner).replayed()
    }

    /// List routes return the request's cursor as the next cursor, forever.
    pub fn repeat_cursor(&self, on: bool) {
        self.shared.faults.repeat_cursor.store(on, Ordering::SeqCst);
    }

    /// Rotates the API key: the old one answers 401 from now on.
    pub fn set_api_key(&self, key: &str) {
        *self.shared.api_key.lock().unwrap_or_else(PoisonError::into_inner) = key.to_string();
    }

    /// API requests received so far (including refused ones).
    pub fn request_count(&self) -> u64 {
        self.shared.faults.requests.load(Ordering::SeqCst)
    }

    /// Time spent answering API requests so far, summed over requests: from the fault
    /// switches to the finished answer (handler and JSON included; an injected delay, the
    /// HTTP parsing and the socket I/O excluded). Benchmarks subtract it to tell the host's
    /// time from this fake's.
    pub fn busy_time(&self) -> Duration {
        Duration::from_nanos(self.shared.busy_nanos.load(Ordering::Relaxed))
    }
}

/// The sandbox ATS's routes, seeded, protected by `api_key`, and its control handle.
pub fn router(api_key: &str) -> (Router, SandboxHandle) {
    let handle = SandboxHandle {
        shared: Arc::new(Shared {
            api_key: Mutex::new(api_key.to_string()),
            data: Mutex::new(Data::seeded()),
            faults: Faults::default(),
            busy_nanos: AtomicU64::new(0),
            replays: Mutex::new(idempotency::Replays::default()),
            keyed_writes: tokio::sync::Mutex::new(()),
        }),
    };
    (routes::router(handle.clone()), handle)
}

/// Serves the sandbox ATS on `addr` (port 0 for a free port); returns the bound address and
/// the control handle.
pub async fn start(
    addr: SocketAddr,
    api_key: &str,
) -> std::io::Result<(SocketAddr, SandboxHandle)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let (app, handle) = router(api_key);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "sandbox ATS stopped");
        }
    });
    Ok((bound, handle))
}
