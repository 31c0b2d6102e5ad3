//! The rules of tenants and connections, apart from HTTP: tenant ids, a connection's config
//! and secrets checked against its connector's declared fields, schedule bounds, status
//! changes, and the private-network grant bound to the config values it was given for. The
//! API (`api::connections`, `api::tenants`) and the demo both go through here; the API maps
//! [`RuleError`] to status codes.

use crate::runtime::{LoadedConnector, Manifest, Registry};
use crate::store::{
    Connection, ConnectionStatus, MAX_INTERVAL_SECS, MIN_INTERVAL_SECS, Schedules, Store,
    StoreError, Tenant,
};
use crate::time::now_ms;
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;

/// One problem with one field of a request, named by its full path (`config.base-url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: String,
    pub problem: String,
}

#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    #[error("fix these fields: {}", summary(.0))]
    Fields(Vec<FieldIssue>),
    #[error("tenant `{0}` exists")]
    TenantExists(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

fn summary(issues: &[FieldIssue]) -> String {
    issues.iter().map(|i| format!("{} ({})", i.field, i.problem)).collect::<Vec<_>>().join("; ")
}

fn invalid(field: &str, problem: impl Into<String>) -> RuleError {
    RuleError::Invalid { field: field.to_string(), problem: problem.into() }
}

/// 1-64 letters, digits, `.`, `_` or `-`.
pub fn check_tenant_id(id: &str) -> Result<(), RuleError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "tenant",
            format!("`{id}` is not a tenant id: use 1-64 letters, digits, `.`, `_` or `-`"),
        ))
    }
}

/// Creates tenant `id`; one that exists is a [`RuleError::TenantExists`].
pub async fn create_tenant(store: &dyn Store, id: &str, name: &str) -> Result<Tenant, RuleError> {
    check_tenant_id(id)?;
    if store.tenant(id).await?.is_some() {
        return Err(RuleError::TenantExists(id.to_string()));
    }
    let tenant = Tenant { id: id.to_string(), name: name.to_string(), created_at: now_ms() };
    store.put_tenant(&tenant).await?;
    Ok(tenant)
}

/// Creates tenant `id` unless it exists (a tenant key's tenant, the demo's).
pub async fn ensure_tenant(store: &dyn Store, id: &str, name: &str) -> Result<(), RuleError> {
    if store.tenant(id).await?.is_none() {
        store
            .put_tenant(&Tenant {
                id: id.to_string(),
                name: name.to_string(),
                created_at: now_ms(),
            })
            .await?;
    }
    Ok(())
}

/// The connector version a connection uses: its pin, else the active version.
pub fn connector_for(
    registry: &Registry,
    connector_id: &str,
    pinned: Option<&str>,
) -> Result<Arc<LoadedConnector>, RuleError> {
    match pinned {
        Some(version) => registry
            .version(connector_id, version)
            .map_err(|e| invalid("pinned_version", e.to_string())),
        None => registry.active(connector_id).ok_or_else(|| {
            invalid(
                "connector_id",
                format!("no connector `{connector_id}` is loaded; GET /v1/connectors lists them"),
            )
        }),
    }
}

/// Config and secrets against the connector's declared fields; every problem is listed.
pub fn check_fields(
    connector: &LoadedConnector,
    config: &BTreeMap<String, String>,
    secrets: &BTreeMap<String, String>,
) -> Result<(), RuleError> {
    let declared = &connector.manifest.config_fields;
    let connector_id = &connector.manifest.id;
    let mut issues = Vec::new();
    for field in declared {
        let (here, other, place) =
            if field.secret { (secrets, config, "secrets") } else { (config, secrets, "config") };
        if other.contains_key(&field.name) {
            let wrong = if field.secret { "config" } else { "secrets" };
            issues.push(FieldIssue {
                field: format!("{wrong}.{}", field.name),
                problem: format!("belongs under `{place}`"),
            });
        } else if field.required && here.get(&field.name).is_none_or(|v| v.trim().is_empty()) {
            issues.push(FieldIssue {
                field: format!("{place}.{}", field.name),
                problem: format!("required: {}", field.help),
            });
        }
    }
    for (place, map) in [("config", config), ("secrets", secrets)] {
        for name in map.keys() {
            if !declared.iter().any(|f| &f.name == name) {
                let known: Vec<&str> = declared.iter().map(|f| f.name.as_str()).collect();
                issues.push(FieldIssue {
                    field: format!("{place}.{name}"),
                    problem: format!(
                        "unknown field; {connector_id} declares: {}",
                        known.join(", ")
                    ),
                });
            }
        }
    }
    if issues.is_empty() { Ok(()) } else { Err(RuleError::Fields(issues)) }
}

/// Schedule intervals within 1 minute to 7 days.
pub fn check_schedules(schedules: &Schedules) -> Result<(), RuleError> {
    for (name, secs) in [
        ("schedules.jobs_every_secs", schedules.jobs_every_secs),
        ("schedules.applications_every_secs", schedules.applications_every_secs),
    ] {
        if !(MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&secs) {
            return Err(invalid(
                name,
                format!(
                    "{secs} is out of range: use {MIN_INTERVAL_SECS}..={MAX_INTERVAL_SECS} seconds (1 minute to 7 days)"
                ),
            ));
        }
    }
    Ok(())
}

/// The status a caller may set: `active` or `paused` (`needs-reauth` is the host's to set,
/// and new secrets clear it).
pub fn set_status(connection: &mut Connection, status: &str) -> Result<(), RuleError> {
    connection.status = match status {
        "active" => ConnectionStatus::Active,
        "paused" => ConnectionStatus::Paused,
        other => return Err(invalid("status", format!("`{other}` is not `active` or `paused`"))),
    };
    Ok(())
}

/// New secrets resume a connection that waits for them.
pub fn secrets_renewed(connection: &mut Connection) {
    if connection.status == ConnectionStatus::NeedsReauth {
        connection.status = ConnectionStatus::Active;
        connection.status_detail = None;
    }
}

/// Applies a private-network grant change to `connection` whose config becomes `config`:
/// `Some(true)` grants (bound to the config values egress hosts are rendered from),
/// `Some(false)` withdraws, `None` keeps the grant only while those values are unchanged.
/// Only the operator may grant; that check is the caller's.
pub fn apply_private_grant(
    connection: &mut Connection,
    grant: Option<bool>,
    manifest: &Manifest,
    config: &BTreeMap<String, String>,
) {
    match grant {
        Some(true) => {
            connection.allow_private_networks = true;
            connection.private_grant = egress_fields(manifest, config);
        }
        Some(false) => {
            connection.allow_private_networks = false;
            connection.private_grant.clear();
        }
        None if connection.allow_private_networks
            && granted_for(connection, manifest).iter().any(|(k, v)| config.get(k) != Some(v)) =>
        {
            // The hosts the operator approved are no longer the ones this config reaches.
            connection.allow_private_networks = false;
            connection.private_grant.clear();
            tracing::warn!(connection = %connection.id, "a config field that egress hosts are rendered from changed; the private-network grant is revoked until the operator grants it again");
        }
        None => {}
    }
}

/// What a connection's private-network grant is bound to: the recorded values, or, for a
/// grant recorded before grants were bound (none recorded), the values it has now.
fn granted_for(connection: &Connection, manifest: &Manifest) -> BTreeMap<String, String> {
    if connection.private_grant.is_empty() {
        egress_fields(manifest, &connection.config)
    } else {
        connection.private_grant.clone()
    }
}

/// The config fields egress entries are rendered from (`{base-url}`,
/// `https://{instance}.example.com`), with their current values: what a private-network
/// grant is bound to.
pub fn egress_fields(
    manifest: &Manifest,
    config: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for entry in &manifest.egress_hosts {
        let mut rest = entry.as_str();
        while let Some((_, after)) = rest.split_once('{') {
            let Some((name, tail)) = after.split_once('}') else { break };
            // A secret field is not in `config`; its value is not kept here.
            if let Some(value) = config.get(name) {
                fields.insert(name.to_string(), value.clone());
            }
            rest = tail;
        }
    }
    fields
}
