//! A connection's reference lists as last synced from the ATS (where its connector declares
//! the read): `GET /v1/connections/{id}/tags`, `/rejection-reasons` and `/users`, for the
//! "tag", "reject with reason" and "assign" pickers of a product. The jobs sync refreshes
//! them ([`crate::sync::reference`]), storing each entry as JSON in the shape of the model's
//! `Tag`, `RejectionReason` and `User`, which document the answers.

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::Problem;
use super::schemas::List;
use crate::model::{RejectionReason, Tag, User};
use crate::sync::reference::Kind;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", "/v1/connections/{id}/tags", "records", Access::AnyKey, "The ATS's tags, as last synced (connectors that declare list-tags)", None, get(|s, c, p| list(s, c, p, Kind::Tags)))
        .replies::<List<Tag>>(200)
        .add("GET", "/v1/connections/{id}/rejection-reasons", "records", Access::AnyKey, "The ATS's rejection reasons, as last synced (connectors that declare list-rejection-reasons)", None, get(|s, c, p| list(s, c, p, Kind::RejectionReasons)))
        .replies::<List<RejectionReason>>(200)
        .add("GET", "/v1/connections/{id}/users", "records", Access::AnyKey, "The ATS's users (recruiters), as last synced (connectors that declare list-users)", None, get(|s, c, p| list(s, c, p, Kind::Users)))
        .replies::<List<User>>(200)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    kind: Kind,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    match state.store.reference(&id, kind.name()).await {
        Ok(entries) => Json(List::of(entries)).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}
