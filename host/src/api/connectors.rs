//! `/v1/connectors`: the loaded connectors and their versions; uploading a new version
//! (through the registry's one way in, like the watched directory and the bundled
//! connectors, then saved there so it survives a restart; bytes already loaded change
//! nothing); rollback and activation of a kept version (saved, so they survive a restart).

use super::AppState;
use super::auth::{Caller, Operator};
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use crate::runtime::loader::ManifestView;
use crate::runtime::registry::{InstallError, Installed, Phase, RegistryError};
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
    let installation = match state
        .registry
        .load_and_install(&state.runtime, body.to_vec(), "upload", Phase::Live)
        .await
    {
        Ok(installation) => installation,
        Err(InstallError::Rejected(error)) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "connector rejected",
                error.to_string(),
            )
            .into_response();
        }
        Err(InstallError::Refused { source: error @ RegistryError::Persist { .. }, .. }) => {
            return Problem::internal(error).into_response();
        }
        Err(InstallError::Refused { source, .. }) => {
            return Problem::conflict(source.to_string()).into_response();
        }
    };
    let info = installation.build.info();
    let replaced = match installation.installed {
        // The same bytes are loaded already: nothing changed, nothing is saved again.
        Installed::AlreadyLoaded | Installed::Restored { .. } => {
            let active = state.registry.active(&info.id).map(|a| a.info());
            return Json(json!({
                "active": active, "uploaded": info, "replaced": null, "changed": false,
                "detail": format!(
                    "these bytes are already loaded as {} {}; nothing changed (POST /v1/connectors/{}/activate makes a kept version active)",
                    info.id, info.version, info.id
                ),
            }))
            .into_response();
        }
        Installed::Activated { replaced } => replaced,
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
    (
        StatusCode::CREATED,
        Json(json!({"active": info, "uploaded": info, "replaced": replaced, "changed": true})),
    )
        .into_response()
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
        error @ RegistryError::Persist { .. } => Problem::internal(error).into_response(),
        other => Problem::new(StatusCode::CONFLICT, "version not available", other.to_string())
            .into_response(),
    }
}
