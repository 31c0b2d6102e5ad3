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
//! A missing or wrong key answers 401 `{"error": ...}`; a malformed body or an unknown field
//! 400; `limit` over 500 is 400. [`SandboxHandle`] is the test/demo control panel: seed and
//! change records as a recruiter would, and switch faults on (429 with `Retry-After`, 5xx,
//! delays, a repeating cursor, revoked credentials).

mod data;
mod directory;
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
    repeat_cursor: AtomicBool,
    requests: AtomicU64,
}

struct Shared {
    api_key: Mutex<String>,
    data: Mutex<Data>,
    faults: Faults,
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
        (0..count)
            .map(|i| {
                let id = data.new_id("job");
                data.jobs.push(serde_json::json!({
                    "id": id, "ref": format!("SEED-{i:05}"), "title": format!("Seeded vacancy {i}"),
                    "status": "open", "city": "Utrecht", "department": "Seed",
                    "recruiter": "recruiter@sandbox-ats.example", "description": "Seeded for a test.",
                    "created_at": updated_at, "updated_at": updated_at,
                }));
                id
            })
            .collect()
    }

    /// Creates or changes a job (title, `open`/`closed`) as a recruiter would.
    pub fn upsert_job(&self, id: &str, title: &str, status: &str, updated_at: &str) {
        let mut data = self.data();
        match data.jobs.iter_mut().find(|j| j["id"] == id) {
            Some(job) => {
                job["title"] = title.into();
                job["status"] = status.into();
                job["updated_at"] = updated_at.into();
            }
            None => data.jobs.push(serde_json::json!({
                "id": id, "ref": null, "title": title, "status": status, "city": null,
                "department": null, "recruiter": null, "description": null,
                "created_at": updated_at, "updated_at": updated_at,
            })),
        }
    }

    /// Removes a job from the ATS (a hard delete).
    pub fn delete_job(&self, id: &str) {
        self.data().jobs.retain(|j| j["id"] != id);
    }

    pub fn jobs(&self) -> Vec<Value> {
        self.data().jobs.clone()
    }

    pub fn candidates(&self) -> Vec<Value> {
        self.data().candidates.clone()
    }

    pub fn applications(&self) -> Vec<Value> {
        self.data().applications.clone()
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
        if let Some(application) = data.applications.iter_mut().find(|a| a["id"] == id) {
            application["stage_id"] = stage_id.into();
            application["updated_at"] = now.into();
        }
    }

    /// Changes a candidate's email as a recruiter would (bumps its `updated_at`).
    pub fn change_candidate_email(&self, id: &str, email: &str) {
        let mut data = self.data();
        let now = data.now();
        if let Some(candidate) = data.candidates.iter_mut().find(|c| c["id"] == id) {
            candidate["emails"] = serde_json::json!([email]);
            candidate["updated_at"] = now.into();
        }
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
}

/// The sandbox ATS's routes, seeded, protected by `api_key`, and its control handle.
pub fn router(api_key: &str) -> (Router, SandboxHandle) {
    let handle = SandboxHandle {
        shared: Arc::new(Shared {
            api_key: Mutex::new(api_key.to_string()),
            data: Mutex::new(Data::seeded()),
            faults: Faults::default(),
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
