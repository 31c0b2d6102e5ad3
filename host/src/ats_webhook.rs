//! The ATS-side webhook subscription of a connection: the host asks the connector
//! (`register-webhook`, contract 0.2) to create a subscription in the ATS that posts to the
//! connection's inbound URL (`/v1/inbound/{connection}/{token}` under the host's public
//! URL), keeps the subscription's remote id on the connection, and removes it again with
//! `unregister-webhook`. Knows nothing of HTTP; `api::connections` maps the outcomes.

use crate::model::{ChangeKind, Operation, WebhookSubscription};
use crate::runtime::{CallError, Invocation, Output, Runtime};
use crate::store::{AtsWebhook, Connection, Store, StoreError};
use crate::sync::SyncEngine;
use crate::time::now_ms;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RegistrationError {
    #[error("connection {0} not found")]
    NotFound(String),
    #[error("{0}")]
    ConnectorUnavailable(String),
    #[error(
        "the {connector} connector cannot {operation}: its ATS offers no webhook API the connector uses (see the connector's README); the host polls instead"
    )]
    NotOffered { connector: String, operation: &'static str },
    #[error("public_url: {0}")]
    BadPublicUrl(String),
    #[error("the connection has no registered ATS webhook")]
    NotRegistered,
    #[error("the connector did not name the subscription it created (no remote id)")]
    NoRemoteId,
    #[error("{0}")]
    Call(#[from] CallError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// `public_url` (where the ATS reaches this host) joined with the connection's inbound path.
fn inbound_url(public_url: &str, path: &str) -> Result<String, RegistrationError> {
    let parsed = url::Url::parse(public_url.trim()).map_err(|e| {
        RegistrationError::BadPublicUrl(format!("`{public_url}` is not a URL: {e}"))
    })?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(RegistrationError::BadPublicUrl(format!(
            "`{public_url}` must be an http(s) URL with a host, e.g. https://ats-host.example.com"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(RegistrationError::BadPublicUrl(format!(
            "`{public_url}` must not carry a query or fragment"
        )));
    }
    Ok(format!("{}{path}", public_url.trim().trim_end_matches('/')))
}

/// Registers (or re-registers) the connection's ATS webhook for `kinds` (empty: all).
pub async fn register(
    runtime: &Runtime,
    store: &dyn Store,
    sync: &SyncEngine,
    connection_id: &str,
    public_url: &str,
    kinds: Vec<ChangeKind>,
) -> Result<Connection, RegistrationError> {
    let with_secrets = store
        .connection_with_secrets(connection_id)
        .await?
        .ok_or_else(|| RegistrationError::NotFound(connection_id.to_string()))?;
    let connector = sync
        .resolve_connector(&with_secrets.connection)
        .map_err(RegistrationError::ConnectorUnavailable)?;
    if !connector.manifest.declares(Operation::RegisterWebhook) {
        return Err(RegistrationError::NotOffered {
            connector: connector.manifest.id.clone(),
            operation: Operation::RegisterWebhook.wit_name(),
        });
    }
    let path = format!("/v1/inbound/{connection_id}/{}", store.inbound_token(connection_id));
    let url = inbound_url(public_url, &path)?;
    let context = crate::sync::call_context(&with_secrets);
    let subscription = WebhookSubscription { url: url.clone(), secret: None, kinds };
    let output =
        runtime.call(&connector, &context, Invocation::RegisterWebhook(subscription)).await?;
    let remote_id = match output {
        Output::Receipt(receipt) => receipt.remote_id.filter(|id| !id.trim().is_empty()),
        _ => None,
    }
    .ok_or(RegistrationError::NoRemoteId)?;
    let mut connection = with_secrets.connection;
    connection.ats_webhook = Some(AtsWebhook { remote_id, url, registered_at: now_ms() });
    connection.updated_at = now_ms();
    store.put_connection(&connection, None).await?;
    Ok(connection)
}

/// Removes the connection's ATS webhook in the ATS and forgets it.
pub async fn unregister(
    runtime: &Runtime,
    store: &dyn Store,
    sync: &SyncEngine,
    connection_id: &str,
) -> Result<Connection, RegistrationError> {
    let with_secrets = store
        .connection_with_secrets(connection_id)
        .await?
        .ok_or_else(|| RegistrationError::NotFound(connection_id.to_string()))?;
    let Some(registered) = with_secrets.connection.ats_webhook.clone() else {
        return Err(RegistrationError::NotRegistered);
    };
    let connector = sync
        .resolve_connector(&with_secrets.connection)
        .map_err(RegistrationError::ConnectorUnavailable)?;
    if !connector.manifest.declares(Operation::UnregisterWebhook) {
        return Err(RegistrationError::NotOffered {
            connector: connector.manifest.id.clone(),
            operation: Operation::UnregisterWebhook.wit_name(),
        });
    }
    let context = crate::sync::call_context(&with_secrets);
    let invocation = Invocation::UnregisterWebhook { remote_id: registered.remote_id };
    runtime.call(&connector, &context, invocation).await?;
    let mut connection = with_secrets.connection;
    connection.ats_webhook = None;
    connection.updated_at = now_ms();
    store.put_connection(&connection, None).await?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbound_url_is_the_public_url_and_the_path() {
        let url = inbound_url("https://ats.example.com/", "/v1/inbound/c/t").expect("valid");
        assert_eq!(url, "https://ats.example.com/v1/inbound/c/t");
        for bad in ["ats.example.com", "ftp://x", "https://x/?a=1", ""] {
            assert!(matches!(inbound_url(bad, "/p"), Err(RegistrationError::BadPublicUrl(_))));
        }
    }
}
