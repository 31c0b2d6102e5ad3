//! Candidates: the stored candidates behind synced applications (`GET /v1/candidates`,
//! filtered by e-mail or phone; `GET /v1/connections/{id}/candidates/{candidate}`), and live
//! reads through the connection's connector (`?live=true` on one candidate: its
//! `get-candidate`; `GET /v1/connections/{id}/candidates?email=|phone=`: its
//! `find-candidates`). A product that invites the candidate who entered a stage reads the
//! e-mail here. Live reads share the connection's rate budget with syncs and writes.

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::Problem;
use super::records::{ListQuery, cursor, filter, one_more, page_of};
use super::schemas::Page;
use crate::model::{Candidate, CandidateLookup, PageRequest};
use crate::runtime::{Invocation, Output};
use crate::store::{FieldFilter, StoredCandidate};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add(
            "GET",
            "/v1/candidates",
            "records",
            Access::AnyKey,
            "Stored candidates (those behind synced applications); filter by connection_id, email, phone, updated_after; page with cursor",
            None,
            get(list),
        )
        .query(&["connection_id", "email", "phone", "updated_after", "cursor", "limit"])
        .replies::<Page<StoredCandidate>>(200)
        .add(
            "GET",
            "/v1/connections/{id}/candidates/{candidate}",
            "records",
            Access::AnyKey,
            "One candidate as last synced; live=true reads it from the ATS now (get-candidate)",
            None,
            get(show),
        )
        .query(&["live"])
        .replies::<CandidateAnswer>(200)
        .add(
            "GET",
            "/v1/connections/{id}/candidates",
            "records",
            Access::AnyKey,
            "Look candidates up in the ATS now by email or phone (the connector's find-candidates)",
            None,
            get(lookup),
        )
        .query(&["email", "phone", "limit"])
        .replies::<LiveCandidates>(200)
}

/// One candidate: as last synced, or (`live=true`) as the ATS has it now.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
enum CandidateAnswer {
    Stored(StoredCandidate),
    Live {
        /// Always `true`: read from the ATS now.
        live: bool,
        candidate: Candidate,
    },
}

/// Candidates the ATS found now.
#[derive(Serialize, JsonSchema)]
struct LiveCandidates {
    /// Always `true`: read from the ATS now.
    live: bool,
    data: Vec<Candidate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateQuery {
    connection_id: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    updated_after: Option<i64>,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<CandidateQuery>,
) -> Response {
    let query = ListQuery {
        connection_id: query.connection_id,
        updated_after: query.updated_after,
        cursor: query.cursor,
        limit: query.limit,
        fields: FieldFilter { email: query.email, phone: query.phone, ..FieldFilter::default() },
    };
    let filter = match filter(&state, &caller, query).await {
        Ok(f) => f,
        Err(p) => return p.into_response(),
    };
    match state.store.candidates(&one_more(&filter)).await {
        Ok(found) => {
            let (found, next) =
                page_of(found, filter.limit, |c| cursor(&c.connection_id, &c.remote_id));
            Json(Page { data: found, next_cursor: next }).into_response()
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShowQuery {
    #[serde(default)]
    live: bool,
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, candidate)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    if query.live {
        let invocation = Invocation::GetCandidate { candidate_id: candidate.clone() };
        return match live(&state, &id, invocation).await {
            Ok(Output::Candidate(found)) => {
                Json(CandidateAnswer::Live { live: true, candidate: found }).into_response()
            }
            Ok(_) => Problem::new(
                StatusCode::BAD_GATEWAY,
                "connector failed",
                "get-candidate answered another shape",
            )
            .into_response(),
            Err(response) => response,
        };
    }
    match state.store.candidate(&id, &candidate).await {
        Ok(Some(found)) => Json(CandidateAnswer::Stored(found)).into_response(),
        Ok(None) => Problem::not_found("candidate", &candidate).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupQuery {
    email: Option<String>,
    phone: Option<String>,
    limit: Option<u32>,
}

async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<LookupQuery>,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    let by = match (query.email, query.phone) {
        (Some(email), None) if email.contains('@') => CandidateLookup::Email(email),
        (None, Some(phone)) if crate::store::phone_digits(&phone).len() >= 6 => {
            CandidateLookup::Phone(phone)
        }
        (Some(_), Some(_)) => {
            return Problem::invalid("email", "give one of email or phone, not both")
                .into_response();
        }
        (Some(email), None) => {
            return Problem::invalid("email", format!("`{email}` is not an e-mail address"))
                .into_response();
        }
        (None, Some(phone)) => {
            return Problem::invalid("phone", format!("`{phone}` has fewer than 6 digits"))
                .into_response();
        }
        (None, None) => {
            return Problem::invalid("email", "give email or phone to look up").into_response();
        }
    };
    let page = PageRequest {
        limit: Some(query.limit.unwrap_or(20).clamp(1, 100)),
        ..PageRequest::first()
    };
    match live(&state, &id, Invocation::FindCandidates { lookup: by, page }).await {
        Ok(Output::Candidates(found)) => {
            Json(LiveCandidates { live: true, data: found.items }).into_response()
        }
        Ok(_) => Problem::new(
            StatusCode::BAD_GATEWAY,
            "connector failed",
            "find-candidates answered another shape",
        )
        .into_response(),
        Err(response) => response,
    }
}

/// One live read through the connection's connector, under its rate budget.
async fn live(
    state: &AppState,
    connection_id: &str,
    invocation: Invocation,
) -> Result<Output, Response> {
    let with_secrets = match state.store.connection_with_secrets(connection_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(Problem::not_found("connection", connection_id).into_response()),
        Err(e) => return Err(Problem::internal(e).into_response()),
    };
    let connector = state.sync.resolve_connector(&with_secrets.connection).map_err(|reason| {
        Problem::new(StatusCode::CONFLICT, "connector not available", reason).into_response()
    })?;
    state.sync.budgets.acquire(connection_id, &connector.manifest.id).await;
    let context = crate::sync::call_context(&with_secrets);
    state.runtime.call(&connector, &context, invocation).await.map_err(super::writes::call_problem)
}
