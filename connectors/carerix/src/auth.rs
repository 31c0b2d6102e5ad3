//! OAuth2 client-credentials tokens from the tenant's token URL ([H]), one per API: the
//! GraphQL API with the configured `scope`, the Webhooks API with
//! `urn:cx/webhooks:data:manage` ([H], `CX-WH`). Each is cached in the host's per-connection
//! `state` for its `expires_in` (less a margin). [`send`] makes an authorized request and,
//! when the API answers 401, drops the token, grants a new one once and retries.

use crate::settings::{DEFAULT_TOKEN_TTL_SECONDS, Settings, WEBHOOKS_SCOPE};
use ats_connector_sdk::http::{Request, Response};
use ats_connector_sdk::oauth::{self, ClientCredentials};
use ats_connector_sdk::prelude::*;
use ats_connector_sdk::state;

/// Renew this many seconds before the token's announced expiry.
const EXPIRY_MARGIN_SECONDS: u32 = 60;

/// The API a token is for: each has its own scope, so its own token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    GraphQl,
    Webhooks,
}

impl Api {
    fn key(self) -> &'static str {
        match self {
            Api::GraphQl => "carerix-access-token",
            Api::Webhooks => "carerix-webhooks-token",
        }
    }

    fn scope(self, settings: &Settings) -> &str {
        match self {
            Api::GraphQl => &settings.scope,
            Api::Webhooks => WEBHOOKS_SCOPE,
        }
    }
}

/// Requests a new token from the tenant's token URL and caches it.
pub fn grant(settings: &Settings, api: Api) -> Result<String, AtsError> {
    let check = match api {
        Api::GraphQl => "client-id, client-secret, scope and token-url",
        Api::Webhooks => {
            "client-id, client-secret and token-url, and that the client may use the scope urn:cx/webhooks:data:manage"
        }
    };
    let granted = oauth::client_credentials(&ClientCredentials {
        token_url: &settings.token_url,
        client_id: &settings.client_id,
        client_secret: &settings.client_secret,
        scope: Some(api.scope(settings)),
        ats: "Carerix",
        check,
    })?;
    let ttl = granted
        .expires_in
        .unwrap_or(DEFAULT_TOKEN_TTL_SECONDS)
        .saturating_sub(EXPIRY_MARGIN_SECONDS)
        .max(1);
    ats_connector_sdk::remember(api.key(), &granted.access_token, Some(ttl));
    log(Level::Debug, &format!("carerix: new {api:?} access token granted"));
    Ok(granted.access_token)
}

/// Drops the cached token of `api`.
pub fn forget(api: Api) {
    state::delete(api.key());
}

fn token(settings: &Settings, api: Api) -> Result<String, AtsError> {
    match state::get(api.key()) {
        Some(token) => Ok(token),
        None => grant(settings, api),
    }
}

/// Sends the request `build` makes for a token; a 401 → one new grant and one retry, and a
/// second 401 → `unauthorized`. Any other status is the caller's to read.
pub fn send(
    settings: &Settings,
    api: Api,
    build: impl Fn(&str) -> Result<Request, AtsError>,
) -> Result<Response, AtsError> {
    let response = build(&token(settings, api)?)?.send()?;
    if response.status() != 401 {
        return Ok(response);
    }
    // The token expired or was revoked: one new grant, one retry.
    forget(api);
    let response = build(&grant(settings, api)?)?.send()?;
    if response.status() == 401 {
        return Err(AtsError::Unauthorized(format!(
            "Carerix refused a freshly granted token (401); check the client's scope ({}) and roles",
            api.scope(settings)
        )));
    }
    Ok(response)
}
