//! A small in-process ATS ("Sandbox ATS") for the demo and for trying connectors without an
//! ATS account: REST + JSON, bearer-key auth, offset paging, `updated_since` filtering,
//! candidate lookup by e-mail. The example connector (`examples/minimal-connector`) speaks it.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/jobs?offset=&limit=&updated_since=` | `{"jobs": [...], "total": n}` |
//! | `GET /api/stages`, `GET /api/jobs/{id}/stages` | `{"stages": [{"id","name","position"}]}` |
//! | `GET /api/candidates?email=` | `{"candidates": [...]}` |
//! | `POST /api/candidates`, `PATCH /api/candidates/{id}` | the candidate |
//!
//! A missing or wrong key answers 401 `{"error": ...}`, like most REST ATSs.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// The API key the demo connection uses.
pub const DEMO_API_KEY: &str = "sandbox-demo-key";

const STAGES: [&str; 5] = ["Applied", "Screening", "Interview", "Offer", "Hired"];

const SEED_JOBS: [(&str, &str, &str); 12] = [
    ("Backend Developer (Rust)", "Amsterdam", "Engineering"),
    ("Recruitment Consultant", "Utrecht", "Recruitment"),
    ("Warehouse Team Lead", "Tilburg", "Logistics"),
    ("Registered Nurse", "Rotterdam", "Care"),
    ("Data Analyst", "Eindhoven", "Engineering"),
    ("Customer Success Manager", "Den Haag", "Sales"),
    ("Electrical Installer", "Zwolle", "Technical"),
    ("HR Business Partner", "Amsterdam", "People"),
    ("Truck Driver C/E", "Venlo", "Logistics"),
    ("Frontend Developer", "Groningen", "Engineering"),
    ("Accountmanager Uitzendbureau", "Breda", "Sales"),
    ("Maintenance Engineer", "Arnhem", "Technical"),
];

#[derive(Default)]
struct Data {
    jobs: Vec<Value>,
    candidates: Vec<Value>,
}

#[derive(Clone)]
struct Sandbox {
    api_key: Arc<str>,
    data: Arc<Mutex<Data>>,
}

/// The sandbox ATS's routes, seeded with twelve jobs, protected by `api_key`.
pub fn router(api_key: &str) -> Router {
    let jobs = SEED_JOBS
        .iter()
        .enumerate()
        .map(|(i, (title, city, department))| {
            json!({
                "id": format!("job-{}", i + 1),
                "ref": format!("VAC-{:04}", 1001 + i),
                "title": title,
                "status": if i == 11 { "closed" } else { "open" },
                "city": city,
                "department": department,
                "recruiter": "recruiter@sandbox-ats.example",
                "description": format!("{title} in {city}. Sandbox vacancy for the demo."),
                "created_at": format!("2026-11-{:02}T09:00:00Z", 1 + i),
                "updated_at": format!("2026-11-{:02}T12:00:00Z", 1 + i),
            })
        })
        .collect();
    let sandbox = Sandbox {
        api_key: api_key.into(),
        data: Arc::new(Mutex::new(Data { jobs, candidates: Vec::new() })),
    };
    Router::new()
        .route("/api/jobs", get(list_jobs))
        .route("/api/stages", get(list_stages))
        .route("/api/jobs/{id}/stages", get(list_job_stages))
        .route("/api/candidates", get(find_candidates).post(create_candidate))
        .route("/api/candidates/{id}", patch(update_candidate))
        .with_state(sandbox)
}

/// Serves the sandbox ATS on `addr` (use port 0 for a free port); returns the bound address.
pub async fn start(addr: SocketAddr, api_key: &str) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = router(api_key);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "sandbox ATS stopped");
        }
    });
    Ok(bound)
}

impl Sandbox {
    #[allow(clippy::result_large_err)] // the error is the finished HTTP answer
    fn authorize(&self, headers: &HeaderMap) -> Result<(), Response> {
        let presented = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented == Some(&*self.api_key) {
            Ok(())
        } else {
            Err(error(StatusCode::UNAUTHORIZED, "missing or invalid API key"))
        }
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

#[derive(Deserialize)]
struct JobQuery {
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
    updated_since: Option<String>,
}

async fn list_jobs(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<JobQuery>,
) -> Response {
    if let Err(denied) = s.authorize(&headers) {
        return denied;
    }
    let data = s.data();
    let matching: Vec<&Value> = data
        .jobs
        .iter()
        .filter(|job| match &q.updated_since {
            // RFC 3339 UTC timestamps of one format compare correctly as strings.
            Some(since) => job["updated_at"].as_str().is_some_and(|u| u >= since.as_str()),
            None => true,
        })
        .collect();
    let page: Vec<&Value> =
        matching.iter().skip(q.offset).take(q.limit.unwrap_or(50).min(200)).copied().collect();
    Json(json!({ "jobs": page, "total": matching.len() })).into_response()
}

fn stages_json() -> Value {
    let stages: Vec<Value> = STAGES
        .iter()
        .enumerate()
        .map(|(i, name)| json!({ "id": format!("stage-{}", i + 1), "name": name, "position": i }))
        .collect();
    json!({ "stages": stages })
}

async fn list_stages(State(s): State<Sandbox>, headers: HeaderMap) -> Response {
    match s.authorize(&headers) {
        Ok(()) => Json(stages_json()).into_response(),
        Err(denied) => denied,
    }
}

async fn list_job_stages(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(denied) = s.authorize(&headers) {
        return denied;
    }
    if !s.data().jobs.iter().any(|job| job["id"] == id.as_str()) {
        return error(StatusCode::NOT_FOUND, &format!("job {id} not found"));
    }
    Json(stages_json()).into_response()
}

#[derive(Deserialize)]
struct CandidateQuery {
    email: Option<String>,
}

async fn find_candidates(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<CandidateQuery>,
) -> Response {
    if let Err(denied) = s.authorize(&headers) {
        return denied;
    }
    let data = s.data();
    let found: Vec<&Value> = data
        .candidates
        .iter()
        .filter(|c| match &q.email {
            Some(email) => c["emails"].as_array().is_some_and(|emails| {
                emails.iter().any(|e| e.as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            }),
            None => true,
        })
        .collect();
    Json(json!({ "candidates": found })).into_response()
}

async fn create_candidate(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(denied) = s.authorize(&headers) {
        return denied;
    }
    if body["last_name"].as_str().is_none_or(str::is_empty) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "last_name is required");
    }
    let mut data = s.data();
    let mut candidate = body;
    candidate["id"] = json!(format!("cand-{}", data.candidates.len() + 1));
    data.candidates.push(candidate.clone());
    (StatusCode::CREATED, Json(candidate)).into_response()
}

async fn update_candidate(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Err(denied) = s.authorize(&headers) {
        return denied;
    }
    let mut data = s.data();
    let Some(candidate) = data.candidates.iter_mut().find(|c| c["id"] == id.as_str()) else {
        return error(StatusCode::NOT_FOUND, &format!("candidate {id} not found"));
    };
    if let (Some(target), Some(changes)) = (candidate.as_object_mut(), body.as_object()) {
        for (key, value) in changes {
            if key != "id" && !value.is_null() {
                target.insert(key.clone(), value.clone());
            }
        }
    }
    Json(candidate.clone()).into_response()
}
