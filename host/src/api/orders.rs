//! `/v1/orders` and results: assessment orders (made by an `order-assessment` action or by
//! hand), the product's progress reports, its result — write-once: the first post is 201,
//! the same result again 200, a different one 409 — and its reviews of a result; a result
//! posted without an order (`/v1/connections/{id}/results`) lands on an order the host
//! makes for it. A new result or review is appended to the event log, which fires the
//! `result-submitted` / `review-event` automations.

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use super::schemas::{Page, page_after};
use super::writes::MAX_FILE_BODY_BYTES;
use crate::automations::document::{Review, result_reviewed, result_submitted};
use crate::automations::orders::{
    DEFAULT_EXPIRY, DirectResult, NewOrder, Order, OrderError, OrderResult, OrderState, Posted,
};
use crate::automations::storage::{OrderFailure, OrderFilter, update_order};
use crate::automations::validate::MAX_EXPIRY_DAYS;
use crate::ids::new_id;
use crate::store::NewEvent;
use crate::time::now_ms;
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    let big = || DefaultBodyLimit::max(MAX_FILE_BODY_BYTES);
    let result = json!({"score": 86, "max_score": 100, "link": "https://assess.example/r/1", "summary": "Strong", "attributes": {"qualified": true, "cheating": false}});
    routes
        .add("GET", "/v1/orders", "orders", Access::AnyKey, "Assessment orders, newest first, with their history; filter by automation_id, connection_id, state, application_id; page with cursor", None, get(list))
        .query(&["automation_id", "connection_id", "state", "application_id", "cursor", "limit"])
        .replies::<Page<Order>>(200)
        .add("POST", "/v1/orders", "orders", Access::AnyKey, "Order an assessment by hand (an order-assessment action orders them on its own)", Some(json!({"connection_id": "conn_1", "application_id": "app-1", "package_id": "coding-test", "expires_after_days": 14})), post(create))
        .accepts::<CreateBody>().replies::<Order>(201)
        .add("GET", "/v1/orders/{id}", "orders", Access::AnyKey, "One order with its history", None, get(show))
        .replies::<Order>(200)
        .add("POST", "/v1/orders/{id}/progress", "orders", Access::AnyKey, "Report progress (invited, started, completed; forward only) or cancel", Some(json!({"state": "started"})), post(progress))
        .accepts::<ProgressBody>().replies::<Order>(200)
        .add("POST", "/v1/orders/{id}/result", "orders", Access::AnyKey, "Post the order's result, once: 201 the first time (fires result-submitted automations), 200 for the same result again, 409 for a different one", Some(result.clone()), post(post_result).layer(big()))
        .accepts::<OrderResult>().replies::<Order>(201).replies::<Order>(200)
        .add("POST", "/v1/orders/{id}/reviews", "orders", Access::AnyKey, "Review the order's result (thumb up, thumb down, comment); fires review-event automations once per review id", Some(json!({"id": "rev-1", "kind": "thumb-up", "author": "recruiter@example.com"})), post(review))
        .accepts::<Review>().replies::<ReviewAccepted>(201)
        .add("POST", "/v1/connections/{id}/results", "orders", Access::AnyKey, "Post a result without an order: it lands on one order per application and package, write-once like any order's result (201, 200 again, 409 different)", Some(json!({"application_id": "app-1", "package_id": "video-interview", "result": result})), post(direct_result).layer(big()))
        .accepts::<DirectBody>().replies::<Order>(201).replies::<Order>(200)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    automation_id: Option<String>,
    connection_id: Option<String>,
    state: Option<OrderState>,
    application_id: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    connection_id: String,
    application_id: String,
    /// The application's candidate; read from the synced application when left out.
    candidate_id: Option<String>,
    job_id: Option<String>,
    /// What the product is to assess (its test, interview or package id).
    package_id: String,
    /// Days until an unfinished order expires; 56 (8 weeks) when left out.
    expires_after_days: Option<u32>,
}

/// What the product reports about an order.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum ReportedState {
    Invited,
    Started,
    Completed,
    Cancelled,
}

impl From<ReportedState> for OrderState {
    fn from(state: ReportedState) -> OrderState {
        match state {
            ReportedState::Invited => OrderState::Invited,
            ReportedState::Started => OrderState::Started,
            ReportedState::Completed => OrderState::Completed,
            ReportedState::Cancelled => OrderState::Cancelled,
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProgressBody {
    state: ReportedState,
    /// Kept in the order's history (e.g. why it was cancelled).
    note: Option<String>,
}

/// A result posted without an order.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DirectBody {
    application_id: String,
    /// The application's candidate; read from the synced application when left out.
    candidate_id: Option<String>,
    /// The application's job; read from the synced application when left out.
    job_id: Option<String>,
    /// What was assessed; `direct` when left out. One result per application and package.
    package_id: Option<String>,
    result: OrderResult,
}

/// A review recorded for the automations to see.
#[derive(Serialize, JsonSchema)]
struct ReviewAccepted {
    order_id: String,
    review_id: String,
    /// The `result.reviewed` event appended to the log.
    event_id: String,
}

/// The order if the caller may see it; 404 otherwise (ids do not leak).
fn visible_order(state: &AppState, caller: &Caller, id: &str) -> Result<Order, Problem> {
    match state.automations.automations.order(id) {
        Ok(Some(order)) if caller.can_see(&order.tenant_id) => Ok(order),
        Ok(_) => Err(Problem::not_found("order", id)),
        Err(error) => Err(Problem::internal(error)),
    }
}

/// A failed order change as a problem: a refused change of state or a second, different
/// result is a conflict with the order as it is.
fn order_problem(failure: OrderFailure) -> Problem {
    match failure {
        OrderFailure::NotFound(id) => Problem::not_found("order", &id),
        OrderFailure::Order(OrderError::Invalid { field, problem }) => {
            Problem::invalid(&field, problem)
        }
        OrderFailure::Order(error @ OrderError::ResultConflict { .. }) => {
            Problem::new(StatusCode::CONFLICT, "result already posted", error.to_string())
        }
        OrderFailure::Order(
            error @ (OrderError::InvalidTransition { .. } | OrderError::Closed { .. }),
        ) => Problem::conflict(error.to_string()),
        OrderFailure::Storage(error) => Problem::internal(error),
    }
}

/// Appends a host-made event (result, review) and wakes what reads the log.
fn append(state: &AppState, order: &Order, event: NewEvent) -> Result<String, Problem> {
    let appended = state
        .store
        .append_events(&order.tenant_id, &order.connection_id, vec![event])
        .map_err(Problem::internal)?;
    state.sync.events_appended.notify_one();
    Ok(appended.into_iter().next().map(|e| e.id).unwrap_or_default())
}

/// The candidate and job of an application: as given, else as last synced.
fn application_people(
    state: &AppState,
    connection_id: &str,
    application_id: &str,
    candidate_id: Option<String>,
    job_id: Option<String>,
) -> Result<(String, Option<String>), Problem> {
    let stored =
        state.store.application(connection_id, application_id).map_err(Problem::internal)?;
    let job_id = job_id.or_else(|| stored.as_ref().map(|a| a.job_id.clone()));
    match candidate_id.or_else(|| stored.map(|a| a.candidate_id)) {
        Some(candidate) if !candidate.trim().is_empty() => Ok((candidate, job_id)),
        _ => Err(Problem::invalid(
            "candidate_id",
            format!(
                "application `{application_id}` is not synced yet; name its candidate_id (and job_id)"
            ),
        )),
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Response {
    let filter = OrderFilter {
        tenant_id: caller.tenant().map(str::to_string),
        automation_id: query.automation_id,
        connection_id: query.connection_id,
        application_id: query.application_id,
        state: query.state,
        unfinished: false,
    };
    let orders = match state.automations.automations.orders(&filter) {
        Ok(orders) => orders.into_iter().map(Order::in_list).collect(),
        Err(error) => return Problem::internal(error).into_response(),
    };
    let key = |o: &Order| (o.created_at, o.id.clone());
    match page_after(orders, query.cursor.as_deref(), query.limit, key, true) {
        Ok(page) => Json(page).into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<CreateBody>,
) -> Response {
    let connection = match visible(&state, &caller, &body.connection_id) {
        Ok(connection) => connection,
        Err(problem) if problem.status == StatusCode::NOT_FOUND.as_u16() => {
            let problem = format!("no connection `{}`", body.connection_id);
            return Problem::invalid("connection_id", problem).into_response();
        }
        Err(problem) => return problem.into_response(),
    };
    if body.package_id.trim().is_empty() {
        return Problem::invalid("package_id", "give the product's package id").into_response();
    }
    let expiry = match body.expires_after_days {
        None => DEFAULT_EXPIRY,
        Some(days @ 1..=MAX_EXPIRY_DAYS) => Duration::from_secs(u64::from(days) * 24 * 3600),
        Some(_) => {
            return Problem::invalid(
                "expires_after_days",
                format!("between 1 and {MAX_EXPIRY_DAYS}"),
            )
            .into_response();
        }
    };
    let (candidate_id, job_id) = match application_people(
        &state,
        &connection.id,
        &body.application_id,
        body.candidate_id,
        body.job_id,
    ) {
        Ok(people) => people,
        Err(problem) => return problem.into_response(),
    };
    let new = NewOrder {
        id: new_id("ord"),
        tenant_id: connection.tenant_id,
        connection_id: connection.id,
        application_id: body.application_id,
        candidate_id,
        job_id,
        package_id: body.package_id,
        automation_id: None,
        firing_id: None,
    };
    let order = Order::new(new, now_ms(), expiry);
    match state.automations.automations.insert_order(&order) {
        Ok(_) => (StatusCode::CREATED, Json(order)).into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    match visible_order(&state, &caller, &id) {
        Ok(order) => Json(order).into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ProgressBody>,
) -> Response {
    if let Err(problem) = visible_order(&state, &caller, &id) {
        return problem.into_response();
    }
    let now = now_ms();
    let to = OrderState::from(body.state);
    match update_order(&*state.automations.automations, &id, |o| {
        o.advance(to, now, body.note.clone())
    }) {
        Ok((order, _)) => Json(order).into_response(),
        Err(failure) => order_problem(failure).into_response(),
    }
}

/// Posts `result` on order `id` (already checked visible): a new result is appended as a
/// `result.submitted` event (201), the same one again changes nothing (200) unless its
/// event is missing (the host stopped in between), which is appended then.
fn post_on(state: &AppState, id: &str, result: OrderResult) -> Response {
    let now = now_ms();
    let automations = &*state.automations.automations;
    let (order, posted) =
        match update_order(automations, id, |o| o.post_result(result.clone(), now)) {
            Ok(posted) => posted,
            Err(failure) => return order_problem(failure).into_response(),
        };
    let order = match (order.result_event_id.is_none(), result_submitted(&order, now)) {
        (true, Some(event)) => {
            let event_id = match append(state, &order, event) {
                Ok(event_id) => event_id,
                Err(problem) => return problem.into_response(),
            };
            let noted = update_order(automations, id, |o| {
                o.note_result_event(event_id.clone());
                Ok(())
            });
            match noted {
                Ok((order, ())) => order,
                Err(failure) => return order_problem(failure).into_response(),
            }
        }
        _ => order,
    };
    let status = if posted == Posted::New { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(order)).into_response()
}

async fn post_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(result): Body<OrderResult>,
) -> Response {
    match visible_order(&state, &caller, &id) {
        Ok(_) => post_on(&state, &id, result),
        Err(problem) => problem.into_response(),
    }
}

async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(review): Body<Review>,
) -> Response {
    let order = match visible_order(&state, &caller, &id) {
        Ok(order) => order,
        Err(problem) => return problem.into_response(),
    };
    if review.id.trim().is_empty() || review.id.len() > 255 {
        return Problem::invalid("id", "the product's id of the review, 1-255 characters")
            .into_response();
    }
    if order.result.is_none() {
        return Problem::conflict(format!(
            "order `{id}` has no result yet; a review is of a posted result"
        ))
        .into_response();
    }
    match append(&state, &order, result_reviewed(&order, &review, now_ms())) {
        Ok(event_id) => {
            let accepted = ReviewAccepted { order_id: order.id, review_id: review.id, event_id };
            (StatusCode::CREATED, Json(accepted)).into_response()
        }
        Err(problem) => problem.into_response(),
    }
}

async fn direct_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(connection_id): Path<String>,
    Body(body): Body<DirectBody>,
) -> Response {
    let connection = match visible(&state, &caller, &connection_id) {
        Ok(connection) => connection,
        Err(problem) => return problem.into_response(),
    };
    if body.application_id.trim().is_empty() {
        return Problem::invalid("application_id", "name the application the result is for")
            .into_response();
    }
    let (candidate_id, job_id) = match application_people(
        &state,
        &connection.id,
        &body.application_id,
        body.candidate_id,
        body.job_id,
    ) {
        Ok(people) => people,
        Err(problem) => return problem.into_response(),
    };
    let new = DirectResult {
        tenant_id: connection.tenant_id,
        connection_id: connection.id,
        application_id: body.application_id,
        candidate_id,
        job_id,
        package_id: body.package_id,
    }
    .order();
    let id = new.id.clone();
    // The order exists after the first post of this application and package's result.
    if let Err(error) =
        state.automations.automations.insert_order(&Order::new(new, now_ms(), DEFAULT_EXPIRY))
    {
        return Problem::internal(error).into_response();
    }
    post_on(&state, &id, body.result)
}
