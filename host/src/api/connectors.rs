//! `/v1/connectors`: the loaded connectors and their versions; uploading a new version
//! (through the registry's one way in, like the watched directory and the bundled
//! connectors, then saved there so it survives a restart; bytes already loaded change
//! nothing); rollback and activation of a kept version (saved, so they survive a restart).

use super::AppState;
use super::auth::{Caller, Operator};
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use super::schemas::List;
use crate::runtime::loader::{ManifestView, VersionInfo};
use crate::runtime::registry::{
    InstallError, Installation, Installed, Phase, Prepared, RegistryError,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

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
        .replies::<List<ConnectorSummary>>(200)
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
        .accepts_bytes("application/wasm")
        .replies::<Uploaded>(201)
        .replies::<Uploaded>(200)
        .add(
            "GET",
            "/v1/connectors/{id}",
            "connectors",
            Access::AnyKey,
            "One connector: manifest, active and kept versions",
            None,
            get(show),
        )
        .replies::<ConnectorDetail>(200)
        .add(
            "POST",
            "/v1/connectors/{id}/rollback",
            "connectors",
            Access::Operator,
            "Activate the version loaded before the active one",
            None,
            post(rollback),
        )
        .replies::<ActiveVersion>(200)
        .add(
            "POST",
            "/v1/connectors/{id}/activate",
            "connectors",
            Access::Operator,
            "Activate a kept version by connector version or sha256",
            Some(json!({"version": "0.2.0"})),
            post(activate),
        )
        .accepts::<ActivateBody>()
        .replies::<ActiveVersion>(200)
}

/// A loaded connector in the list.
#[derive(Serialize, JsonSchema)]
struct ConnectorSummary {
    id: String,
    active: VersionInfo,
    /// Every kept version, oldest first (the active one included).
    versions: Vec<VersionInfo>,
    manifest: Option<ManifestView>,
}

/// One connector: its manifest, active and kept versions.
#[derive(Serialize, JsonSchema)]
struct ConnectorDetail {
    id: String,
    manifest: ManifestView,
    active: VersionInfo,
    versions: Option<Vec<VersionInfo>>,
}

/// The version active after a rollback or an activation.
#[derive(Serialize, JsonSchema)]
struct ActiveVersion {
    active: VersionInfo,
}

/// What an upload did: `201` when it became the active version, `200` when these bytes were
/// already loaded (nothing changed).
#[derive(Serialize, JsonSchema)]
struct Uploaded {
    active: Option<VersionInfo>,
    uploaded: VersionInfo,
    /// The version it replaced as active.
    replaced: Option<String>,
    changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

async fn list(State(state): State<AppState>, _caller: Caller) -> Json<List<ConnectorSummary>> {
    let connectors = state
        .registry
        .list()
        .into_iter()
        .map(|listing| ConnectorSummary {
            manifest: state.registry.active(&listing.id).map(|c| ManifestView::from(&c.manifest)),
            id: listing.id,
            active: listing.active,
            versions: listing.versions,
        })
        .collect();
    Json(List::of(connectors))
}

async fn show(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> Response {
    let Some(active) = state.registry.active(&id) else {
        return Problem::not_found("connector", &id).into_response();
    };
    let versions = state.registry.list().into_iter().find(|c| c.id == id).map(|c| c.versions);
    Json(ConnectorDetail {
        manifest: ManifestView::from(&active.manifest),
        active: active.info(),
        versions,
        id,
    })
    .into_response()
}

/// Why an upload did not install.
enum UploadError {
    Install(InstallError),
    /// Valid, but the shared store could not keep its bytes for the other nodes.
    NotShared(crate::store::StoreError),
}

/// Validates an upload, keeps its bytes in a shared store (before any node's record can
/// name it, so every node can load it), then installs it.
async fn share_and_install(state: &AppState, wasm: Vec<u8>) -> Result<Installation, UploadError> {
    let prepared = state.registry.prepare(&state.runtime, wasm.clone(), "upload").await.map_err(
        |error| {
            tracing::error!(%error, "connector rejected; the version already serving (if any) keeps serving");
            UploadError::Install(InstallError::Rejected(error))
        },
    )?;
    if let Prepared::New(build) = &prepared {
        state
            .store
            .put_connector_build(&build.sha256, &wasm)
            .await
            .map_err(UploadError::NotShared)?;
    }
    state.registry.commit(prepared, "upload", Phase::Live).await.map_err(UploadError::Install)
}

fn install_problem(error: InstallError) -> Response {
    match error {
        InstallError::Rejected(error) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "connector rejected", error.to_string())
                .into_response()
        }
        InstallError::Refused { source: error @ RegistryError::Persist { .. }, .. } => {
            Problem::internal(error).into_response()
        }
        InstallError::Refused { source, .. } => {
            Problem::conflict(source.to_string()).into_response()
        }
    }
}

async fn upload(State(state): State<AppState>, _operator: Operator, body: Bytes) -> Response {
    if body.is_empty() {
        return Problem::bad_request(
            "send the connector component as the request body (`--data-binary @connector.wasm`, Content-Type: application/wasm)",
        )
        .into_response();
    }
    let installation = match share_and_install(&state, body.to_vec()).await {
        Ok(installation) => installation,
        Err(UploadError::NotShared(error)) => {
            return Problem::internal(format!(
                "the build is valid but could not be stored for the other nodes, so it was not installed: {error}; upload it again"
            ))
            .into_response();
        }
        Err(UploadError::Install(error)) => return install_problem(error),
    };

    let info = installation.build.info();
    let replaced = match installation.installed {
        // The same bytes are loaded already: nothing changed, nothing is saved again.
        Installed::AlreadyLoaded | Installed::Restored { .. } => {
            let active = state.registry.active(&info.id).map(|a| a.info());
            let detail = format!(
                "these bytes are already loaded as {} {}; nothing changed (POST /v1/connectors/{}/activate makes a kept version active)",
                info.id, info.version, info.id
            );
            return Json(Uploaded {
                active,
                uploaded: info,
                replaced: None,
                changed: false,
                detail: Some(detail),
            })
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
    let answer = Uploaded {
        active: Some(info.clone()),
        uploaded: info,
        replaced,
        changed: true,
        detail: None,
    };
    (StatusCode::CREATED, Json(answer)).into_response()
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
    match state.registry.rollback(&id).await {
        Ok(active) => Json(ActiveVersion { active: active.info() }).into_response(),
        Err(error) => registry_problem(error),
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    /// A kept connector version, or a build's sha256.
    version: String,
}

async fn activate(
    State(state): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
    Body(body): Body<ActivateBody>,
) -> Response {
    match state.registry.activate(&id, &body.version).await {
        Ok(active) => Json(ActiveVersion { active: active.info() }).into_response(),
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
