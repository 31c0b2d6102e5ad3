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
async fn visible_order(state: &AppState, caller: &Caller, id: &str) -> Result<Order, Problem> {
    match state.automations.automations.order(id).await {
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
async fn append(state: &AppState, order: &Order, event: NewEvent) -> Result<String, Problem> {
    let appended = state
        .store
        .append_events(&order.tenant_id, &order.connection_id, vec![event])
        .await
        .map_err(Problem::internal)?;
    state.sync.events_appended.notify_one();
    Ok(appended.into_iter().next().map(|e| e.id).unwrap_or_default())
}

/// The candidate and job of an application: as given, else as last synced.
async fn application_people(
    state: &AppState,
    connection_id: &str,
    application_id: &str,
    candidate_id: Option<String>,
    job_id: Option<String>,
) -> Result<(String, Option<String>), Problem> {
    let stored =
        state.store.application(connection_id, application_id).await.map_err(Problem::internal)?;
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

/// What a handler answers: its JSON, or a problem.
type Answer<T> = Result<T, Problem>;

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Answer<Json<Page<Order>>> {
    let filter = OrderFilter {
        tenant_id: caller.tenant().map(str::to_string),
        automation_id: query.automation_id,
        connection_id: query.connection_id,
        application_id: query.application_id,
        state: query.state,
        unfinished: false,
    };
    let orders = state.automations.automations.orders(&filter).await.map_err(Problem::internal)?;
    let orders = orders.into_iter().map(Order::in_list).collect();
    let key = |o: &Order| (o.created_at, o.id.clone());
    Ok(Json(page_after(orders, query.cursor.as_deref(), query.limit, key, true)?))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<CreateBody>,
) -> Answer<(StatusCode, Json<Order>)> {
    let connection = visible(&state, &caller, &body.connection_id).await.map_err(|problem| {
        if problem.status == StatusCode::NOT_FOUND.as_u16() {
            Problem::invalid("connection_id", format!("no connection `{}`", body.connection_id))
        } else {
            problem
        }
    })?;
    if body.package_id.trim().is_empty() {
        return Err(Problem::invalid("package_id", "give the product's package id"));
    }
    let expiry = match body.expires_after_days {
        None => DEFAULT_EXPIRY,
        Some(days @ 1..=MAX_EXPIRY_DAYS) => Duration::from_secs(u64::from(days) * 24 * 3600),
        Some(_) => {
            let problem = format!("between 1 and {MAX_EXPIRY_DAYS}");
            return Err(Problem::invalid("expires_after_days", problem));
        }
    };
    let (candidate_id, job_id) = application_people(
        &state,
        &connection.id,
        &body.application_id,
        body.candidate_id,
        body.job_id,
    )
    .await?;
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
    state.automations.automations.insert_order(&order).await.map_err(Problem::internal)?;
    Ok((StatusCode::CREATED, Json(order)))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer<Json<Order>> {
    Ok(Json(visible_order(&state, &caller, &id).await?))
}

async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ProgressBody>,
) -> Answer<Json<Order>> {
    visible_order(&state, &caller, &id).await?;
    let now = now_ms();
    let to = OrderState::from(body.state);
    let (order, _) = update_order(&*state.automations.automations, &id, |o| {
        o.advance(to, now, body.note.clone())
    })
    .await
    .map_err(order_problem)?;
    Ok(Json(order))
}

/// Posts `result` on order `id` (already checked visible): a new result is appended as a
/// `result.submitted` event (201), the same one again changes nothing (200) unless its
/// event is missing (the host stopped in between), which is appended then.
async fn post_on(
    state: &AppState,
    id: &str,
    result: OrderResult,
) -> Answer<(StatusCode, Json<Order>)> {
    let now = now_ms();
    let automations = &*state.automations.automations;
    let (mut order, posted) = update_order(automations, id, |o| o.post_result(result.clone(), now))
        .await
        .map_err(order_problem)?;
    if order.result_event_id.is_none()
        && let Some(event) = result_submitted(&order, now)
    {
        let event_id = append(state, &order, event).await?;
        (order, ()) = update_order(automations, id, |o| {
            o.note_result_event(event_id.clone());
            Ok(())
        })
        .await
        .map_err(order_problem)?;
    }
    let status = if posted == Posted::New { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(order)))
}

async fn post_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(result): Body<OrderResult>,
) -> Answer<(StatusCode, Json<Order>)> {
    visible_order(&state, &caller, &id).await?;
    post_on(&state, &id, result).await
}

async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(review): Body<Review>,
) -> Answer<(StatusCode, Json<ReviewAccepted>)> {
    let order = visible_order(&state, &caller, &id).await?;
    if review.id.trim().is_empty() || review.id.len() > 255 {
        return Err(Problem::invalid("id", "the product's id of the review, 1-255 characters"));
    }
    if order.result.is_none() {
        return Err(Problem::conflict(format!(
            "order `{id}` has no result yet; a review is of a posted result"
        )));
    }
    let event_id = append(&state, &order, result_reviewed(&order, &review, now_ms())).await?;
    let accepted = ReviewAccepted { order_id: order.id, review_id: review.id, event_id };
    Ok((StatusCode::CREATED, Json(accepted)))
}

async fn direct_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(connection_id): Path<String>,
    Body(body): Body<DirectBody>,
) -> Answer<(StatusCode, Json<Order>)> {
    let connection = visible(&state, &caller, &connection_id).await?;
    if body.application_id.trim().is_empty() {
        return Err(Problem::invalid("application_id", "name the application the result is for"));
    }
    let (candidate_id, job_id) = application_people(
        &state,
        &connection.id,
        &body.application_id,
        body.candidate_id,
        body.job_id,
    )
    .await?;
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
    let order = Order::new(new, now_ms(), DEFAULT_EXPIRY);
    state.automations.automations.insert_order(&order).await.map_err(Problem::internal)?;
    post_on(&state, &id, body.result).await
}
