//! The OAuth2 client-credentials grant against `{login-url}/services/oauth2/token`, and the
//! access token cached in the host's per-connection `state` for `token-ttl-seconds`.

use crate::settings::OrgSettings;
use ats_connector_sdk::oauth::{self, ClientCredentials};
use ats_connector_sdk::prelude::*;
use ats_connector_sdk::state;
use serde::{Deserialize, Serialize};

const STATE_KEY: &str = "salesforce-access-token";

/// An access token and the org's REST base it is valid for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub access_token: String,
    pub instance_url: String,
}

/// The cached token, or a new grant (then cached).
pub fn token(settings: &OrgSettings) -> Result<Token, AtsError> {
    let cached = state::get(STATE_KEY).and_then(|text| serde_json::from_str::<Token>(&text).ok());
    match cached {
        Some(token) => Ok(token),
        None => grant(settings),
    }
}

/// Drops the cached token (after Salesforce said `INVALID_SESSION_ID`).
pub fn forget() {
    state::delete(STATE_KEY);
}

/// Requests a new token and caches it.
pub fn grant(settings: &OrgSettings) -> Result<Token, AtsError> {
    let token_url = format!("{}/services/oauth2/token", settings.login_url);
    let granted = oauth::client_credentials(&ClientCredentials {
        token_url: &token_url,
        client_id: &settings.client_id,
        client_secret: &settings.client_secret,
        scope: None,
        ats: "Salesforce",
        check: "the connected app's client-id and client-secret, and login-url",
    })?;
    let answered = granted.answer.get("instance_url").and_then(|v| v.as_str()).map(str::to_string);
    let instance_url = settings
        .instance_url
        .clone()
        .or(answered)
        .map(|url| url.trim_end_matches('/').to_string())
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .ok_or_else(|| {
            AtsError::Remote(RemoteFailure {
                status: granted.status,
                body_excerpt:
                    "the token answer has no instance_url and no instance-url is configured".into(),
            })
        })?;
    let token = Token { access_token: granted.access_token, instance_url };
    if let Ok(text) = serde_json::to_string(&token) {
        ats_connector_sdk::remember(STATE_KEY, &text, Some(settings.token_ttl_seconds));
    }
    log(Level::Debug, "salesforce: new access token granted");
    Ok(token)
}
