//! A fake JazzHR API, written from research §11 (`ats-apis-international.md`):
//!
//! - base `/v1`, the API key as the `apikey` query parameter on every call ([M] `NG-PROV`,
//!   DataGrail); a missing or wrong key is 401 `{"error": …}` (shape [L], not in the notes);
//! - filters and paging are path segments ([L]): `/jobs/page/{n}`, `/applicants/page/{n}`,
//!   `/applicants/job_id/{id}`, `/applicants/from_apply_date/{d}/to_apply_date/{d}`; the page
//!   size and end-of-list signal are not documented: the fake answers [`PAGE_SIZE`] records a
//!   page and an empty list past the end (scripts stop on an empty list);
//! - `GET /applicants/{id}`, `POST /applicants` (201; `first_name`, `last_name`, `email`,
//!   `phone`, `job`, `workflow_step_id`, `base64_resume`, `resumetext` ([L] HF schemas)); the
//!   answer `{"prospect_id": …}` is a guess ([L]);
//! - jobs carry no modification time and no change filter is known; notes, tags, stage moves
//!   and rejections are not confirmed endpoints, so the fake has none.
//!
//! Pages are numbers, so the client makes the page tokens.

use super::lock;
use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use ats_host::time::{format_ms, now_ms, parse_ms};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Records a page (not documented; [L]).
pub const PAGE_SIZE: usize = 100;

struct Job {
    id: String,
    title: String,
    opened: String,
}

#[derive(Clone, Default)]
pub struct Applicant {
    pub id: String,
    pub first: String,
    pub last: String,
    pub email: String,
    pub phone: String,
    pub job: String,
    pub workflow_step: String,
    pub applied: String,
    pub resume: Vec<u8>,
    pub resume_text: String,
}

#[derive(Default)]
struct Store {
    jobs: Vec<Job>,
    applicants: Vec<Applicant>,
}

struct Shared {
    key: String,
    faults: Faults,
    store: Mutex<Store>,
    ids: AtomicUsize,
    requests: Mutex<Vec<String>>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

type Params = Query<HashMap<String, String>>;

/// The faults, then the `apikey` query parameter.
async fn gate(shared: &Shared, params: &HashMap<String, String>, what: String) -> Option<Response> {
    lock(&shared.requests).push(what);
    if let Some(fault) = shared.faults.intercept().await {
        return Some(fault);
    }
    match params.get("apikey") {
        Some(key) if *key == shared.key => None,
        _ => Some(error(StatusCode::UNAUTHORIZED, "Invalid API key")),
    }
}

/// Page `n` (1-based) of `items`; `None` for a page that is not a positive number.
fn page_of<T>(items: &[T], n: Option<&str>) -> Option<std::ops::Range<usize>> {
    let n = match n.map(str::parse::<usize>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        _ => return None,
    };
    let start = ((n - 1) * PAGE_SIZE).min(items.len());
    Some(start..(start + PAGE_SIZE).min(items.len()))
}

async fn jobs(
    State(shared): State<Arc<Shared>>,
    page: Option<Path<String>>,
    Query(params): Params,
) -> Response {
    let n = page.map(|Path(n)| n);
    if let Some(answer) = gate(&shared, &params, format!("GET /jobs page {n:?}")).await {
        return answer;
    }
    let store = lock(&shared.store);
    let Some(range) = page_of(&store.jobs, n.as_deref()) else {
        return error(StatusCode::BAD_REQUEST, "Invalid page");
    };
    let list: Vec<Value> = store.jobs[range]
        .iter()
        .map(|j| {
            json!({
                "id": j.id, "title": j.title, "status": "Open", "department": "Engineering",
                "city": "Utrecht", "state": "UT", "country_id": "Netherlands",
                "original_open_date": j.opened, "hiring_lead": "usr_1",
            })
        })
        .collect();
    Json(Value::Array(list)).into_response()
}

fn listed(a: &Applicant) -> Value {
    json!({
        "id": a.id, "first_name": a.first, "last_name": a.last, "prospect_phone": a.phone,
        "apply_date": a.applied, "job_id": a.job,
    })
}

/// `/applicants` with its path filters: `page/{n}`, `job_id/{id}`,
/// `from_apply_date/{d}/to_apply_date/{d}`, in any order.
async fn applicants(
    State(shared): State<Arc<Shared>>,
    filters: Option<Path<String>>,
    Query(params): Params,
) -> Response {
    let filters = filters.map(|Path(f)| f).unwrap_or_default();
    if let Some(answer) = gate(&shared, &params, format!("GET /applicants/{filters}")).await {
        return answer;
    }
    let segments: Vec<&str> = filters.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() == 1 {
        let store = lock(&shared.store);
        return match store.applicants.iter().find(|a| a.id == segments[0]) {
            Some(a) => Json(json!({
                "id": a.id, "first_name": a.first, "last_name": a.last, "email": a.email,
                "phone": a.phone, "apply_date": a.applied,
                "jobs": [{ "job_id": a.job, "workflow_step_id": a.workflow_step }],
            }))
            .into_response(),
            None => error(StatusCode::NOT_FOUND, "Applicant not found"),
        };
    }
    let mut filter: HashMap<&str, &str> = HashMap::new();
    for pair in segments.chunks(2) {
        match pair {
            [key @ ("page" | "job_id" | "from_apply_date" | "to_apply_date"), value] => {
                filter.insert(key, value);
            }
            _ => return error(StatusCode::BAD_REQUEST, "Invalid filter"),
        }
    }
    let date = |key: &str| match filter.get(key) {
        None => Ok(None),
        Some(d) if d.len() == 10 => parse_ms(d).map(Some).ok_or(()),
        Some(_) => Err(()),
    };
    let (Ok(from), Ok(to)) = (date("from_apply_date"), date("to_apply_date")) else {
        return error(StatusCode::BAD_REQUEST, "Dates are YYYY-MM-DD");
    };
    let store = lock(&shared.store);
    let matching: Vec<&Applicant> = store
        .applicants
        .iter()
        .filter(|a| filter.get("job_id").is_none_or(|j| a.job == *j))
        .filter(|a| {
            let day = parse_ms(a.applied.get(..10).unwrap_or_default()).unwrap_or(0);
            from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t)
        })
        .collect();
    match page_of(&matching, filter.get("page").copied()) {
        Some(range) => {
            Json(matching[range].iter().map(|a| listed(a)).collect::<Value>()).into_response()
        }
        None => error(StatusCode::BAD_REQUEST, "Invalid page"),
    }
}

async fn create(State(shared): State<Arc<Shared>>, Query(params): Params, body: Bytes) -> Response {
    if let Some(answer) = gate(&shared, &params, "POST /applicants".into()).await {
        return answer;
    }
    let Some(body) = serde_json::from_slice::<Value>(&body).ok().filter(Value::is_object) else {
        return error(StatusCode::BAD_REQUEST, "Expected a JSON object");
    };
    let field =
        |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().trim().to_string();
    let (first, last, email) = (field("first_name"), field("last_name"), field("email"));
    if first.is_empty() || last.is_empty() || email.is_empty() {
        return error(StatusCode::BAD_REQUEST, "first_name, last_name and email are required");
    }
    let resume = match field("base64_resume") {
        text if text.is_empty() => Vec::new(),
        text => match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(bytes) => bytes,
            Err(_) => return error(StatusCode::BAD_REQUEST, "base64_resume is not base64"),
        },
    };
    let job = field("job");
    let mut store = lock(&shared.store);
    if !job.is_empty() && !store.jobs.iter().any(|j| j.id == job) {
        return error(StatusCode::BAD_REQUEST, "Invalid job");
    }
    let n = shared.ids.fetch_add(1, Ordering::SeqCst) + 1;
    let id = format!("prospect_20260101{n:08}");
    store.applicants.push(Applicant {
        id: id.clone(),
        first,
        last,
        email,
        phone: field("phone"),
        job,
        workflow_step: field("workflow_step_id"),
        applied: format_ms(now_ms()).get(..10).unwrap_or_default().to_string(),
        resume,
        resume_text: field("resumetext"),
    });
    (StatusCode::CREATED, Json(json!({ "prospect_id": id }))).into_response()
}

/// The fake JazzHR, listening on 127.0.0.1.
pub struct JazzHrFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl JazzHrFake {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            key: format!("jz{:026x}", now_ms()),
            faults: Faults::default(),
            store: Mutex::new(Store::default()),
            ids: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/v1/jobs", get(jobs))
            .route("/v1/jobs/page/{n}", get(jobs))
            .route("/v1/applicants", get(applicants).post(create))
            .route("/v1/applicants/{*filters}", get(applicants))
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received (method, path; never the key).
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }

    /// Applicant `id` as stored.
    pub fn applicant(&self, id: &str) -> Option<Applicant> {
        lock(&self.shared.store).applicants.iter().find(|a| a.id == id).cloned()
    }

    /// An applicant who applied to `job` on `day` (`YYYY-MM-DD`); returns the id.
    pub fn apply(&self, first: &str, job: &str, day: &str) -> String {
        let n = self.shared.ids.fetch_add(1, Ordering::SeqCst) + 1;
        let id = format!("prospect_20250101{n:08}");
        lock(&self.shared.store).applicants.push(Applicant {
            id: id.clone(),
            first: first.into(),
            last: "Applicant".into(),
            email: format!("{}@jazz.example", first.to_lowercase()),
            job: job.into(),
            applied: day.into(),
            ..Applicant::default()
        });
        id
    }
}

impl FakeAts for JazzHrFake {
    fn connector_package(&self) -> &'static str {
        "jazzhr"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![("base-url".into(), self.base_url()), ("api-key".into(), self.shared.key.clone())]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        vec![
            ("base-url".into(), self.base_url()),
            ("api-key".into(), "jz-revoked-key-00000000".into()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// JazzHR jobs carry no modification time: `updated_at` becomes the opening date.
    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        let first = store.jobs.len();
        (0..count)
            .map(|n| {
                let id = format!("job_20250101{:08}", first + n + 1);
                store.jobs.push(Job {
                    id: id.clone(),
                    title: format!("Data Engineer {}", first + n + 1),
                    opened: updated_at.get(..10).unwrap_or(updated_at).to_string(),
                });
                id
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, _updated_at: &str) {
        let mut store = lock(&self.shared.store);
        if let Some(job) = store.jobs.iter_mut().find(|j| j.id == id) {
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
            .map(|a| FakeCandidate {
                id: a.id.clone(),
                first_name: a.first.clone(),
                last_name: a.last.clone(),
                emails: vec![a.email.clone()],
                phones: Some(a.phone.clone()).filter(|p| !p.is_empty()).into_iter().collect(),
                attachments: Some(("resume".to_string(), a.resume.clone()))
                    .filter(|(_, bytes)| !bytes.is_empty())
                    .into_iter()
                    .collect(),
                applications: Some(a.job.clone())
                    .filter(|j| !j.is_empty())
                    .map(|job_id| FakeApplication {
                        id: a.id.clone(),
                        job_id,
                        stage_id: Some(a.workflow_step.clone()).filter(|s| !s.is_empty()),
                        ..FakeApplication::default()
                    })
                    .into_iter()
                    .collect(),
                ..FakeCandidate::default()
            })
            .collect()
    }
}
