//! Unified reads from the store: `/v1/jobs` (with activate / freeze), `/v1/stages`,
//! `/v1/applications`, and the event log `/v1/events`. Lists are paginated with a stable
//! cursor (the record's position in the store, not an offset) and filter on
//! `updated_after` (unix milliseconds of the host's last change to the record) and on the
//! fields products pick by: jobs by `status`, `active`, `country`; applications by `job_id`,
//! `stage_id`, `status` (and `include=candidate` embeds the stored candidate); stages by
//! `job_id`. An unknown query parameter is refused, naming the ones the route takes.

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use super::schemas::Page;
use crate::store::{
    Event, FieldFilter, JobFlags, RecordFilter, StoredApplication, StoredCandidate, StoredJob,
    StoredStage, record_key,
};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add(
            "GET",
            "/v1/jobs",
            "records",
            Access::AnyKey,
            "Synced jobs; filter by connection_id, status, active, country, updated_after; page with cursor",
            None,
            get(list_jobs),
        )
        .query(&["connection_id", "status", "active", "country", "updated_after", "cursor", "limit"])
        .replies::<Page<StoredJob>>(200)
        .add(
            "GET",
            "/v1/connections/{id}/jobs/{job}",
            "records",
            Access::AnyKey,
            "One synced job",
            None,
            get(show_job),
        )
        .replies::<StoredJob>(200)
        .add(
            "POST",
            "/v1/connections/{id}/jobs/{job}/flags",
            "records",
            Access::AnyKey,
            "Activate / deactivate a job for the product, freeze it against ATS updates",
            Some(json!({"active": true, "frozen": false})),
            post(job_flags),
        )
        .accepts::<Flags>()
        .replies::<StoredJob>(200)
        .add(
            "GET",
            "/v1/connections/{id}/stages",
            "records",
            Access::AnyKey,
            "The connection's pipeline stages in order; job_id: that job's own pipeline (else the global one); filter by updated_after; page with cursor",
            None,
            get(list_stages),
        )
        .query(&["job_id", "updated_after", "cursor", "limit"])
        .replies::<Page<StoredStage>>(200)
        .add(
            "GET",
            "/v1/applications",
            "records",
            Access::AnyKey,
            "Synced applications; filter by connection_id, job_id, stage_id, status, updated_after; include=candidate embeds the candidate; page with cursor",
            None,
            get(list_applications),
        )
        .query(&[
            "connection_id",
            "job_id",
            "stage_id",
            "status",
            "include",
            "updated_after",
            "cursor",
            "limit",
        ])
        .replies::<Page<ApplicationView>>(200)
        .add(
            "GET",
            "/v1/events",
            "events",
            Access::AnyKey,
            "The event log after a cursor (`after`), oldest first",
            None,
            get(list_events),
        )
        .query(&["after", "limit"])
        .replies::<Page<Event>>(200)
}

/// A synced application; with `include=candidate`, its stored candidate (`null` when none
/// is stored).
#[derive(Serialize, JsonSchema)]
struct ApplicationView {
    #[serde(flatten)]
    application: StoredApplication,
    #[serde(skip_serializing_if = "Option::is_none")]
    candidate: Option<Option<StoredCandidate>>,
}

/// The query parameters every unified list takes.
pub(super) struct ListQuery {
    pub connection_id: Option<String>,
    pub updated_after: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
    pub fields: FieldFilter,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobQuery {
    connection_id: Option<String>,
    updated_after: Option<i64>,
    cursor: Option<String>,
    limit: Option<usize>,
    status: Option<String>,
    active: Option<bool>,
    country: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationQuery {
    connection_id: Option<String>,
    updated_after: Option<i64>,
    cursor: Option<String>,
    limit: Option<usize>,
    job_id: Option<String>,
    stage_id: Option<String>,
    status: Option<String>,
    /// `candidate`: embed the stored candidate of each application.
    include: Option<String>,
}

pub(super) async fn filter(
    state: &AppState,
    caller: &Caller,
    query: ListQuery,
) -> Result<RecordFilter, Problem> {
    if let Some(connection) = &query.connection_id {
        visible(state, caller, connection).await?;
    }
    let after = match query.cursor {
        None => None,
        Some(cursor) => Some(decode_cursor(&cursor).ok_or_else(|| {
            Problem::invalid(
                "cursor",
                "not a cursor this API returned; pass `next_cursor` from the previous page",
            )
        })?),
    };
    Ok(RecordFilter {
        tenant_id: caller.tenant().map(str::to_string),
        connection_id: query.connection_id,
        updated_after: query.updated_after,
        after,
        limit: query.limit.unwrap_or(100).clamp(1, 1000),
        fields: query.fields,
    })
}

/// One page of `limit` items from `items`, read with one item more than the page holds:
/// the cursor of the last item when more follow, none on the last page.
pub fn page_of<T>(
    mut items: Vec<T>,
    limit: usize,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(cursor_of);
    (items, next)
}

/// The filter asking the store for one record more than the page, to know if more follow.
pub(super) fn one_more(filter: &RecordFilter) -> RecordFilter {
    RecordFilter { limit: filter.limit + 1, ..filter.clone() }
}

/// The text inside a `next_cursor` this API handed out.
fn decode_cursor(cursor: &str) -> Option<String> {
    URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok().and_then(|raw| String::from_utf8(raw).ok())
}

pub(super) fn cursor(connection_id: &str, remote_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(record_key(connection_id, remote_id))
}

async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<JobQuery>,
) -> Response {
    if let Some(country) = &query.country
        && !(country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Problem::invalid("country", "an ISO 3166-1 alpha-2 code, e.g. NL").into_response();
    }
    let query = ListQuery {
        connection_id: query.connection_id,
        updated_after: query.updated_after,
        cursor: query.cursor,
        limit: query.limit,
        fields: FieldFilter {
            status: query.status,
            active: query.active,
            country: query.country,
            ..FieldFilter::default()
        },
    };
    let filter = match filter(&state, &caller, query).await {
        Ok(f) => f,
        Err(p) => return p.into_response(),
    };
    match state.store.jobs(&one_more(&filter)).await {
        Ok(jobs) => {
            let (jobs, next) =
                page_of(jobs, filter.limit, |j| cursor(&j.connection_id, &j.remote_id));
            Json(Page { data: jobs, next_cursor: next }).into_response()
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn show_job(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    match state.store.job(&id, &job).await {
        Ok(Some(job)) => Json(job).into_response(),
        Ok(None) => Problem::not_found("job", &job).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Flags {
    active: Option<bool>,
    frozen: Option<bool>,
}

async fn job_flags(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
    Body(flags): Body<Flags>,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    if flags.active.is_none() && flags.frozen.is_none() {
        return Problem::invalid("active", "give `active` and/or `frozen`").into_response();
    }
    let change = JobFlags { active: flags.active, frozen: flags.frozen };
    match state.store.set_job_flags(&id, &job, change).await {
        Ok(Some(stored)) => Json(stored).into_response(),
        Ok(None) => Problem::not_found("job", &job).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageQuery {
    /// The stages of this job's own pipeline; the connection's global pipeline when the
    /// ATS keeps none per job.
    job_id: Option<String>,
    updated_after: Option<i64>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// The connection's stages in pipeline order; paged with `next_cursor` (the last stage's
/// id), filtered by `updated_after`.
async fn list_stages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<StageQuery>,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    let mut stages = match state.store.stages(&id).await {
        Ok(stages) => stages,
        Err(e) => return Problem::internal(e).into_response(),
    };
    stages.sort_by(|a, b| (a.position, &a.remote_id).cmp(&(b.position, &b.remote_id)));
    if let Some(job) = &query.job_id {
        let own = stages.iter().any(|s| s.job_id.as_ref() == Some(job));
        stages.retain(|s| if own { s.job_id.as_ref() == Some(job) } else { s.job_id.is_none() });
    }
    stages.retain(|s| query.updated_after.is_none_or(|after| s.updated_at > after));
    let start = match &query.cursor {
        None => 0,
        Some(cursor) => {
            let after = decode_cursor(cursor)
                .and_then(|remote| stages.iter().position(|s| s.remote_id == remote));
            match after {
                Some(index) => index + 1,
                None => {
                    return Problem::invalid(
                        "cursor",
                        "not a cursor of this list (or its stage is gone); start again without one",
                    )
                    .into_response();
                }
            }
        }
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let page: Vec<_> = stages.iter().skip(start).take(limit).collect();
    let next = (start + page.len() < stages.len())
        .then(|| page.last().map(|s| URL_SAFE_NO_PAD.encode(s.remote_id.as_bytes())))
        .flatten();
    Json(Page { data: page, next_cursor: next }).into_response()
}

async fn list_applications(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ApplicationQuery>,
) -> Response {
    let with_candidate = match query.include.as_deref() {
        None | Some("") => false,
        Some("candidate") => true,
        Some(other) => {
            return Problem::invalid(
                "include",
                format!("`{other}` cannot be included; `candidate` can"),
            )
            .into_response();
        }
    };
    let query = ListQuery {
        connection_id: query.connection_id,
        updated_after: query.updated_after,
        cursor: query.cursor,
        limit: query.limit,
        fields: FieldFilter {
            job_id: query.job_id,
            stage_id: query.stage_id,
            status: query.status,
            ..FieldFilter::default()
        },
    };
    let filter = match filter(&state, &caller, query).await {
        Ok(f) => f,
        Err(p) => return p.into_response(),
    };
    let apps = match state.store.applications(&one_more(&filter)).await {
        Ok(apps) => apps,
        Err(e) => return Problem::internal(e).into_response(),
    };
    let (apps, next) = page_of(apps, filter.limit, |a| cursor(&a.connection_id, &a.remote_id));
    let mut data = Vec::with_capacity(apps.len());
    for application in apps {
        let candidate = if with_candidate {
            match state.store.candidate(&application.connection_id, &application.candidate_id).await
            {
                Ok(candidate) => Some(candidate),
                Err(e) => return Problem::internal(e).into_response(),
            }
        } else {
            None
        };
        data.push(ApplicationView { application, candidate });
    }
    Json(Page { data, next_cursor: next }).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventQuery {
    after: Option<String>,
    limit: Option<usize>,
}

async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EventQuery>,
) -> Response {
    let after = match query.after.as_deref() {
        None => None,
        Some(text) => match text.trim_start_matches("evt_").parse::<u64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                return Problem::invalid(
                    "after",
                    format!("`{text}` is not an event cursor; pass `next_cursor` or an event id"),
                )
                .into_response();
            }
        },
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    match state.store.events(caller.tenant(), after, limit).await {
        Ok(events) => {
            let next = events.last().map(|e| e.seq.to_string()).or(query.after);
            Json(Page { data: events, next_cursor: next }).into_response()
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}
