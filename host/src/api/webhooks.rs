//! `/v1/webhooks` and `/v1/webhook-deliveries`: a tenant's subscriptions (the signing
//! secret is shown once, at creation), their deliveries, and replay of dead letters.

use super::AppState;
use super::auth::Caller;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use super::schemas::List;
use crate::ids::new_id;
use crate::time::now_ms;
use crate::webhooks::{Delivery, DeliveryStatus, Subscription, SubscriptionView, signing};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", "/v1/webhooks", "webhooks", Access::AnyKey, "List webhook subscriptions", None, get(list))
        .replies::<List<SubscriptionView>>(200)
        .add("POST", "/v1/webhooks", "webhooks", Access::AnyKey, "Subscribe a URL to events; the answer holds the signing secret, shown once", Some(json!({"url": "https://example.com/hooks/ats", "event_types": ["application.stage_changed", "job.*"], "tenant_id": "acme"})), post(create))
        .accepts::<CreateBody>()
        .replies::<NewSubscription>(201)
        .add("GET", "/v1/webhooks/{id}", "webhooks", Access::AnyKey, "One subscription", None, get(show))
        .replies::<SubscriptionView>(200)
        .add("DELETE", "/v1/webhooks/{id}", "webhooks", Access::AnyKey, "Delete a subscription", None, axum::routing::delete(remove))
        .replies_empty(204)
        .add("POST", "/v1/webhooks/{id}/enable", "webhooks", Access::AnyKey, "Re-enable a subscription the host disabled (e.g. after 410 Gone)", None, post(enable))
        .replies::<SubscriptionView>(200)
        .add("GET", "/v1/webhook-deliveries", "webhooks", Access::AnyKey, "List deliveries; filter with ?status=pending|delivered|dead-letter|cancelled", None, get(deliveries))
        .query(&["status"])
        .replies::<List<Delivery>>(200)
        .add("POST", "/v1/webhook-deliveries/{id}/replay", "webhooks", Access::AnyKey, "Queue a dead-lettered or cancelled delivery again, with the same id", None, post(replay))
        .replies::<Delivery>(202)
}

/// A new subscription, with its signing secret (shown this once).
#[derive(Serialize, JsonSchema)]
struct NewSubscription {
    #[serde(flatten)]
    subscription: SubscriptionView,
    secret: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    url: String,
    #[serde(default)]
    event_types: Vec<String>,
    /// Required with the operator key; a tenant key subscribes its own tenant.
    tenant_id: Option<String>,
}

async fn list(State(state): State<AppState>, caller: Caller) -> Response {
    match state.webhooks.ledger().subscriptions(caller.tenant()).await {
        Ok(all) => Json(List::of(all.iter().map(SubscriptionView::from).collect())).into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<CreateBody>,
) -> Response {
    let tenant_id = match (&caller, body.tenant_id) {
        (Caller::Tenant { tenant_id }, None) => tenant_id.clone(),
        (Caller::Tenant { tenant_id }, Some(asked)) if *tenant_id == asked => asked,
        (Caller::Tenant { .. }, Some(_)) => {
            return Problem::invalid(
                "tenant_id",
                "a tenant key can only subscribe its own tenant; leave tenant_id out",
            )
            .into_response();
        }
        (Caller::Operator, Some(asked)) => asked,
        (Caller::Operator, None) => {
            return Problem::invalid(
                "tenant_id",
                "required with the operator key: whose events should be delivered?",
            )
            .into_response();
        }
    };
    if let Err(error) = state.webhooks.check_url(&body.url) {
        return Problem::invalid("url", error.to_string()).into_response();
    }
    if let Some(bad) =
        body.event_types.iter().find(|t| t.is_empty() || t.contains(char::is_whitespace))
    {
        return Problem::invalid(
            "event_types",
            format!("`{bad}` is not an event type (e.g. `job.created`, `job.*`, `*`)"),
        )
        .into_response();
    }
    let subscription = Subscription {
        id: new_id("whk"),
        tenant_id,
        url: body.url,
        event_types: body.event_types,
        enabled: true,
        disabled_reason: None,
        created_at: now_ms(),
        secret: signing::new_secret(),
    };
    if let Err(error) = state.webhooks.ledger().put_subscription(&subscription).await {
        return Problem::internal(error).into_response();
    }
    let answer = NewSubscription {
        subscription: SubscriptionView::from(&subscription),
        secret: subscription.secret,
    };
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// The subscription if the caller may see it; 404 otherwise (ids do not leak).
async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Subscription, Problem> {
    match state.webhooks.ledger().subscription(id).await {
        Ok(Some(s)) if caller.can_see(&s.tenant_id) => Ok(s),
        Ok(_) => Err(Problem::not_found("webhook subscription", id)),
        Err(error) => Err(Problem::internal(error)),
    }
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    match visible(&state, &caller, &id).await {
        Ok(s) => Json(SubscriptionView::from(&s)).into_response(),
        Err(problem) => problem.into_response(),
    }
}

async fn remove(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(problem) = visible(&state, &caller, &id).await {
        return problem.into_response();
    }
    match state.webhooks.ledger().delete_subscription(&id).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}

async fn enable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    let mut subscription = match visible(&state, &caller, &id).await {
        Ok(s) => s,
        Err(problem) => return problem.into_response(),
    };
    subscription.enabled = true;
    subscription.disabled_reason = None;
    match state.webhooks.ledger().put_subscription(&subscription).await {
        Ok(()) => Json(SubscriptionView::from(&subscription)).into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryFilter {
    status: Option<String>,
}

async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<DeliveryFilter>,
) -> Response {
    let status = match filter.status.as_deref() {
        None => None,
        Some(text) => match serde_json::from_value::<DeliveryStatus>(json!(text)) {
            Ok(status) => Some(status),
            Err(_) => {
                return Problem::invalid(
                    "status",
                    format!("`{text}` is not one of pending, delivered, dead-letter, cancelled"),
                )
                .into_response();
            }
        },
    };
    match state.webhooks.ledger().deliveries(caller.tenant(), status).await {
        Ok(found) => Json(List::of(found)).into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}

async fn replay(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    let ledger = state.webhooks.ledger();
    let delivery = match ledger.delivery(&id).await {
        Ok(Some(d)) if caller.can_see(&d.tenant_id) => d,
        Ok(_) => return Problem::not_found("webhook delivery", &id).into_response(),
        Err(error) => return Problem::internal(error).into_response(),
    };
    match delivery.status {
        DeliveryStatus::DeadLetter | DeliveryStatus::Cancelled => {}
        other => {
            return Problem::conflict(format!(
                "delivery `{id}` is {}; only dead-letter or cancelled deliveries can be replayed",
                serde_json::to_value(other)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ))
            .into_response();
        }
    }
    match ledger.subscription(&delivery.subscription_id).await {
        Ok(Some(s)) if s.enabled => {}
        Ok(Some(_)) => {
            return Problem::conflict(format!(
                "subscription `{}` is disabled; enable it first (POST /v1/webhooks/{}/enable)",
                delivery.subscription_id, delivery.subscription_id
            ))
            .into_response();
        }
        Ok(None) => {
            return Problem::conflict("the delivery's subscription was deleted").into_response();
        }
        Err(error) => return Problem::internal(error).into_response(),
    }
    match ledger.replay(&id).await {
        Ok(delivery) => {
            state.webhooks.wake();
            (StatusCode::ACCEPTED, Json(delivery)).into_response()
        }
        Err(error) => Problem::internal(error).into_response(),
    }
}
