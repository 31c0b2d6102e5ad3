//! `/v1/connectors`: the loaded connectors and their versions; uploading a new version
//! (through the same validation as the watched directory, then saved there so it survives
//! a restart); rollback and activation of a kept version.

use super::AppState;
use super::auth::{Caller, Operator};
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use crate::runtime::loader::ManifestView;
use crate::runtime::registry::{Installed, RegistryError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

/// Largest connector upload read from the wire; the loader then applies the configured
/// connector file size limit (50 MiB by default) with its own message.
pub const UPLOAD_LIMIT_BYTES: usize = 64 << 20;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add(
            "GET",
            "/v1/connectors",
            "connectors",
            Access::AnyKey,
            "List loaded connectors with their versions and capabilities",
            None,
            get(list),
        )
        .add(
            "POST",
            "/v1/connectors",
            "connectors",
            Access::Operator,
            "Upload a connector component (body: the .wasm bytes); hot-loaded after validation",
            None,
            // Components are larger than JSON bodies: the loader's own size check applies.
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES)),
        )
        .add(
            "GET",
            "/v1/connectors/{id}",
            "connectors",
            Access::AnyKey,
            "One connector: manifest, active and kept versions",
            None,
            get(show),
        )
        .add(
            "POST",
            "/v1/connectors/{id}/rollback",
            "connectors",
            Access::Operator,
            "Activate the version loaded before the active one",
            None,
            post(rollback),
        )
        .add(
            "POST",
            "/v1/connectors/{id}/activate",
            "connectors",
            Access::Operator,
            "Activate a kept version by connector version or sha256",
            Some(json!({"version": "0.2.0"})),
            post(activate),
        )
}

async fn list(State(state): State<AppState>, _caller: Caller) -> Json<Value> {
    let connectors: Vec<Value> = state
        .registry
        .list()
        .into_iter()
        .map(|listing| {
            let manifest = state.registry.active(&listing.id).map(|c| ManifestView::from(&c.manifest));
            json!({"id": listing.id, "active": listing.active, "versions": listing.versions, "manifest": manifest})
        })
        .collect();
    Json(json!({ "data": connectors }))
}

async fn show(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> Response {
    let Some(active) = state.registry.active(&id) else {
        return Problem::not_found("connector", &id).into_response();
    };
    let versions = state.registry.list().into_iter().find(|c| c.id == id).map(|c| c.versions);
    Json(json!({
        "id": id,
        "manifest": ManifestView::from(&active.manifest),
        "active": active.info(),
        "versions": versions,
    }))
    .into_response()
}

async fn upload(State(state): State<AppState>, _operator: Operator, body: Bytes) -> Response {
    if body.is_empty() {
        return Problem::bad_request(
            "send the connector component as the request body (`--data-binary @connector.wasm`, Content-Type: application/wasm)",
        )
        .into_response();
    }
    let origin = "upload".to_string();
    let connector = match state.runtime.load(body.to_vec(), &origin).await {
        Ok(connector) => connector,
        Err(error) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "connector rejected",
                error.to_string(),
            )
            .into_response();
        }
    };
    let info = connector.info();
    let installed = match state.registry.install(connector) {
        Ok(installed) => installed,
        Err(error) => return Problem::conflict(error.to_string()).into_response(),
    };
    if let Some(dir) = &state.connectors_dir
        && let Err(error) = save_upload(dir, &info.id, &info.version, &info.sha256, &body)
    {
        return Problem::internal(format!(
            "the connector is valid and active, but could not be saved to {} (it will not be loaded after a restart): {error}",
            dir.display()
        ))
        .into_response();
    }
    let (status, replaced) = match installed {
        Installed::Activated { replaced } => (StatusCode::CREATED, replaced),
        Installed::AlreadyLoaded => (StatusCode::OK, None),
    };
    tracing::info!(connector = %info.id, version = %info.version, sha256 = %info.sha256, "connector uploaded and activated");
    (status, Json(json!({"active": info, "replaced": replaced}))).into_response()
}

/// Writes the upload into the watched directory atomically (temp name, then rename), so a
/// restart loads it again and the watcher never sees a half-written file.
fn save_upload(
    dir: &std::path::Path,
    id: &str,
    version: &str,
    sha256: &str,
    wasm: &[u8],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let safe = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
            .collect::<String>()
    };
    let name = format!("{}-{}-{}.wasm", safe(id), safe(version), &sha256[..sha256.len().min(12)]);
    let temp = dir.join(format!(".{name}.partial"));
    std::fs::write(&temp, wasm)?;
    std::fs::rename(&temp, dir.join(name))
}

async fn rollback(
    State(state): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
) -> Response {
    match state.registry.rollback(&id) {
        Ok(active) => Json(json!({"active": active.info()})).into_response(),
        Err(error) => registry_problem(error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    version: String,
}

async fn activate(
    State(state): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
    Body(body): Body<ActivateBody>,
) -> Response {
    match state.registry.activate(&id, &body.version) {
        Ok(active) => Json(json!({"active": active.info()})).into_response(),
        Err(error) => registry_problem(error),
    }
}

fn registry_problem(error: RegistryError) -> Response {
    match error {
        RegistryError::UnknownConnector(id) => Problem::not_found("connector", &id).into_response(),
        other => Problem::new(StatusCode::CONFLICT, "version not available", other.to_string())
            .into_response(),
    }
}
