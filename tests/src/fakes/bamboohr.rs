//! A fake BambooHR applicant-tracking API, written from research §10
//! (`ats-apis-international.md`):
//!
//! - base `/api/gateway.php/{subdomain}/v1` ([M] `NG-PROV`, `NG-T`); an unknown subdomain is
//!   404 (a guess, [L]);
//! - auth: HTTP Basic with the API key as user name and any password ([M] `NG-PROV`); a
//!   missing or wrong key is 401 with an empty body and `WWW-Authenticate` ([L] shape);
//! - `GET /applicant_tracking/jobs` answers every job opening as one JSON list: no paging, no
//!   change filter, no modification time ([M] `NG-T` "Blocker");
//! - `GET /applicant_tracking/statuses`: the company-wide status list ([H] `BH-SDK`);
//! - `GET /applicant_tracking/applications?page=&jobId=&searchString=&newSince=` answers
//!   `{paginationComplete, nextPageUrl, applications}` ([H] `BH-SDK`), [`PAGE_SIZE`] a page
//!   (the real size is not documented); `newSince` is `Y-m-d H:i:s` UTC and filters on the
//!   **submission** time only (F3, F4); `searchString` matches name, e-mail and phone ([L]);
//! - `GET /applicant_tracking/applications/{id}`: one application with its applicant;
//! - `POST /applicant_tracking/application`: candidate and application in one call,
//!   multipart ([H] `BH-SDK`) or JSON (as Nango sends it, [M] `NG-T`), `firstName`,
//!   `lastName`, `jobId` required, `resume` / `coverLetter` files; answers
//!   `{result, candidateId}` ([M] `NG-T` create-applicant). Every call makes a new
//!   candidate: nothing says BambooHR merges them by e-mail;
//! - `POST /applicant_tracking/applications/{id}/status` `{status: <status id>}` and
//!   `.../comments` `{type: "comment", comment}` ([H] `BH-SDK`).
//!
//! There are no tags, no separate file upload and no rejection-reason field ([L] §10).

mod writes;

use super::lock;
use super::smartrecruiters::multipart;
use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use ats_host::time::{format_ms, now_ms, parse_ms};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use writes::{comment, create, set_status};

/// The company subdomain the fake serves.
pub const SUBDOMAIN: &str = "acme";
/// Applications a page (not documented; small enough to make the kit page).
pub const PAGE_SIZE: usize = 25;
/// The status ids the fake's company uses (ids as BambooHR numbers them, names its defaults).
pub const STATUSES: &[(u64, &str, &str)] = &[
    (1, "NEW", "New"),
    (2, "REVIEWED", "Reviewed"),
    (3, "SCHEDULE_PHONE_SCREEN", "Schedule Phone Screen"),
    (5, "SCHEDULE_INTERVIEW", "Schedule Interview"),
    (6, "INTERVIEWED", "Interviewed"),
    (9, "NOT_A_FIT", "Not a Fit"),
    (11, "NOT_QUALIFIED", "Not Qualified"),
    (15, "HIRED", "Hired"),
];
/// The status the fake's connection config rejects with.
pub const REJECTED_STATUS: u64 = 9;

struct Job {
    id: u64,
    title: String,
    posted: String,
}

#[derive(Clone, Default)]
pub struct Applicant {
    pub id: u64,
    pub first: String,
    pub last: String,
    pub email: String,
    pub phone: String,
    pub source: String,
}

#[derive(Clone, Default)]
pub struct Application {
    pub id: u64,
    pub applicant: u64,
    pub job: u64,
    pub status: u64,
    pub applied: String,
    pub comments: Vec<String>,
    pub files: Vec<(String, Vec<u8>)>,
}

#[derive(Default)]
struct Store {
    jobs: Vec<Job>,
    applicants: Vec<Applicant>,
    applications: Vec<Application>,
}

struct Shared {
    key: String,
    faults: Faults,
    store: Mutex<Store>,
    ids: AtomicUsize,
    requests: Mutex<Vec<String>>,
}

impl Shared {
    fn new_id(&self) -> u64 {
        (self.ids.fetch_add(1, Ordering::SeqCst) + 101) as u64
    }
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "Not found" }))).into_response()
}

/// `Y-m-d H:i:s` in UTC, BambooHR's date-time format (F4).
fn bamboo_time(ms: i64) -> String {
    format_ms(ms).replacen('T', " ", 1).chars().take(19).collect()
}

/// The faults, then the subdomain and the Basic credentials.
async fn gate(shared: &Shared, sub: &str, headers: &HeaderMap, what: String) -> Option<Response> {
    lock(&shared.requests).push(what);
    if let Some(fault) = shared.faults.intercept().await {
        return Some(fault);
    }
    if sub != SUBDOMAIN {
        return Some(not_found());
    }
    let user = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(user, _)| user.to_string()));
    if user.as_deref() == Some(shared.key.as_str()) {
        return None;
    }
    let mut answer = StatusCode::UNAUTHORIZED.into_response();
    answer
        .headers_mut()
        .insert("www-authenticate", HeaderValue::from_static("Basic realm=\"BambooHR\""));
    Some(answer)
}

fn status_json(id: u64) -> Value {
    let label = STATUSES.iter().find(|s| s.0 == id).map_or("Unknown", |s| s.2);
    json!({ "id": id, "label": label })
}

fn job_ref(store: &Store, id: u64) -> Value {
    let title = store.jobs.iter().find(|j| j.id == id).map(|j| j.title.clone());
    json!({ "id": id, "title": { "id": null, "label": title } })
}

fn application_json(store: &Store, a: &Application, details: bool) -> Value {
    let applicant =
        store.applicants.iter().find(|p| p.id == a.applicant).cloned().unwrap_or_default();
    let mut person = json!({
        "id": applicant.id, "firstName": applicant.first, "lastName": applicant.last,
        "avatar": null, "email": applicant.email, "source": applicant.source,
    });
    if details {
        person["phoneNumber"] = json!(applicant.phone);
    }
    json!({
        "id": a.id, "appliedDate": a.applied, "status": status_json(a.status), "rating": null,
        "applicant": person, "job": job_ref(store, a.job),
    })
}

async fn jobs(
    State(shared): State<Arc<Shared>>,
    Path(sub): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = gate(&shared, &sub, &headers, "GET jobs".into()).await {
        return answer;
    }
    let store = lock(&shared.store);
    let jobs: Vec<Value> = store
        .jobs
        .iter()
        .map(|j| {
            json!({
                "id": j.id, "title": { "id": null, "label": j.title }, "postedDate": j.posted,
                "location": { "id": 1, "label": "Utrecht, Netherlands" },
                "department": { "id": 2, "label": "Engineering" },
                "status": { "id": 1, "label": "Open" },
                "postingUrl": format!("https://{SUBDOMAIN}.bamboohr.com/careers/{}", j.id),
            })
        })
        .collect();
    Json(Value::Array(jobs)).into_response()
}

async fn statuses(
    State(shared): State<Arc<Shared>>,
    Path(sub): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = gate(&shared, &sub, &headers, "GET statuses".into()).await {
        return answer;
    }
    let list: Vec<Value> = STATUSES
        .iter()
        .map(|(id, code, name)| {
            json!({ "id": id, "code": code, "name": name, "manageable": true, "enabled": true })
        })
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn applications(
    State(shared): State<Arc<Shared>>,
    Path(sub): Path<String>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(answer) =
        gate(&shared, &sub, &headers, format!("GET applications {params:?}")).await
    {
        return answer;
    }
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let page = match param("page").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        _ => return bad_request("page must be a positive number"),
    };
    // `Y-m-d H:i:s` exactly: an ISO `T` or a zone is refused.
    let new_since = match param("newSince") {
        None => None,
        Some(t) if t.len() == 19 && t.as_bytes().get(10) == Some(&b' ') => match parse_ms(t) {
            Some(ms) => Some(ms),
            None => return bad_request("newSince must be Y-m-d H:i:s"),
        },
        Some(_) => return bad_request("newSince must be Y-m-d H:i:s"),
    };
    let job = param("jobId").map(str::parse::<u64>);
    if matches!(job, Some(Err(_))) {
        return bad_request("jobId must be a number");
    }
    let search = param("searchString").map(str::to_lowercase).filter(|s| !s.trim().is_empty());
    let store = lock(&shared.store);
    let matching: Vec<&Application> = store
        .applications
        .iter()
        .filter(|a| {
            new_since.is_none_or(|since| parse_ms(&a.applied).is_some_and(|at| at >= since))
        })
        .filter(|a| job.as_ref().is_none_or(|j| j.as_ref().is_ok_and(|j| *j == a.job)))
        .filter(|a| {
            search.as_ref().is_none_or(|s| {
                store.applicants.iter().find(|p| p.id == a.applicant).is_some_and(|p| {
                    [&p.first, &p.last, &p.email, &p.phone]
                        .iter()
                        .any(|f| f.to_lowercase().contains(s))
                })
            })
        })
        .collect();
    let start = (page - 1) * PAGE_SIZE;
    let items: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(PAGE_SIZE)
        .map(|a| application_json(&store, a, false))
        .collect();
    let complete = start + PAGE_SIZE >= matching.len();
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let next = (!complete).then(|| {
        format!(
            "http://{host}/api/gateway.php/{SUBDOMAIN}/v1/applicant_tracking/applications?page={}",
            page + 1
        )
    });
    Json(json!({ "paginationComplete": complete, "nextPageUrl": next, "applications": items }))
        .into_response()
}

async fn application(
    State(shared): State<Arc<Shared>>,
    Path((sub, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = gate(&shared, &sub, &headers, format!("GET applications/{id}")).await {
        return answer;
    }
    let store = lock(&shared.store);
    match id.parse::<u64>().ok().and_then(|id| store.applications.iter().find(|a| a.id == id)) {
        Some(a) => Json(application_json(&store, a, true)).into_response(),
        None => not_found(),
    }
}

/// The fake BambooHR, listening on 127.0.0.1.
pub struct BambooHrFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
    intake_job: u64,
}

impl BambooHrFake {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            key: format!("bhr{:024x}", now_ms()),
            faults: Faults::default(),
            store: Mutex::new(Store::default()),
            ids: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let base = "/api/gateway.php/{sub}/v1/applicant_tracking";
        let app = axum::Router::new()
            .route(&format!("{base}/jobs"), get(jobs))
            .route(&format!("{base}/statuses"), get(statuses))
            .route(&format!("{base}/applications"), get(applications))
            .route(&format!("{base}/applications/{{id}}"), get(application))
            .route(&format!("{base}/applications/{{id}}/status"), post(set_status))
            .route(&format!("{base}/applications/{{id}}/comments"), post(comment))
            .route(&format!("{base}/application"), post(create))
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        let fake = Self { shared, addr, intake_job: 0 };
        let intake = fake.seed_jobs(1, "2024-01-01T00:00:00Z").remove(0);
        let intake_job = intake.parse().unwrap_or_default();
        lock(&fake.shared.store).jobs.iter_mut().for_each(|j| {
            if j.id == intake_job {
                j.title = "Talent pool".into();
            }
        });
        Self { intake_job, ..fake }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received: method, resource and the query pairs.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }

    /// The application of every candidate the connector created without a job.
    pub fn intake_job(&self) -> String {
        self.intake_job.to_string()
    }

    /// A candidate applying to `job` through the careers page; returns the application id.
    pub fn apply(&self, first: &str, email: &str, job: &str, applied_at_ms: i64) -> String {
        let mut store = lock(&self.shared.store);
        let applicant = self.shared.new_id();
        store.applicants.push(Applicant {
            id: applicant,
            first: first.into(),
            last: "Applicant".into(),
            email: email.into(),
            ..Applicant::default()
        });
        let id = self.shared.new_id();
        store.applications.push(Application {
            id,
            applicant,
            job: job.parse().unwrap_or_default(),
            status: 1,
            applied: bamboo_time(applied_at_ms),
            ..Application::default()
        });
        id.to_string()
    }

    /// Application `id` as stored.
    pub fn application(&self, id: &str) -> Option<Application> {
        let store = lock(&self.shared.store);
        store.applications.iter().find(|a| a.id.to_string() == id).cloned()
    }
}

impl FakeAts for BambooHrFake {
    fn connector_package(&self) -> &'static str {
        "bamboohr"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![
            ("base-url".into(), self.base_url()),
            ("subdomain".into(), SUBDOMAIN.into()),
            ("api-key".into(), self.shared.key.clone()),
            ("intake-job-id".into(), self.intake_job()),
            ("rejection-status-id".into(), REJECTED_STATUS.to_string()),
        ]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        self.config()
            .into_iter()
            .map(
                |(k, v)| {
                    if k == "api-key" { (k, "bhr-revoked-key-0000000000".into()) } else { (k, v) }
                },
            )
            .collect()
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// BambooHR jobs carry no modification time: `updated_at` becomes the posted date.
    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        let first = store.jobs.len();
        let posted = parse_ms(updated_at).map_or_else(|| updated_at.to_string(), bamboo_time);
        (0..count)
            .map(|n| {
                let id = self.shared.new_id();
                store.jobs.push(Job {
                    id,
                    title: format!("Data Engineer {}", first + n + 1),
                    posted: posted.clone(),
                });
                id.to_string()
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, _updated_at: &str) {
        let mut store = lock(&self.shared.store);
        if let Some(job) = store.jobs.iter_mut().find(|j| j.id.to_string() == id) {
            job.title = title.to_string();
        }
    }

    fn issues_sessions(&self) -> bool {
        false
    }

    fn auth_count(&self) -> usize {
        0
    }

    fn expire_sessions(&self) {}

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.shared.store);
        store
            .applicants
            .iter()
            .map(|p| {
                let applications: Vec<&Application> =
                    store.applications.iter().filter(|a| a.applicant == p.id).collect();
                FakeCandidate {
                    id: p.id.to_string(),
                    first_name: p.first.clone(),
                    last_name: p.last.clone(),
                    emails: Some(p.email.clone()).filter(|e| !e.is_empty()).into_iter().collect(),
                    phones: Some(p.phone.clone()).filter(|e| !e.is_empty()).into_iter().collect(),
                    notes: applications.iter().flat_map(|a| a.comments.clone()).collect(),
                    tags: Some(p.source.clone()).filter(|s| !s.is_empty()).into_iter().collect(),
                    attachments: applications.iter().flat_map(|a| a.files.clone()).collect(),
                    applications: applications
                        .iter()
                        .map(|a| FakeApplication {
                            id: a.id.to_string(),
                            job_id: a.job.to_string(),
                            stage_id: Some(a.status.to_string()),
                            source: Some(p.source.clone()).filter(|s| !s.is_empty()),
                            rejected_reason: (a.status == REJECTED_STATUS)
                                .then(|| "Not a Fit".into()),
                            ..FakeApplication::default()
                        })
                        .collect(),
                }
            })
            .collect()
    }
}
