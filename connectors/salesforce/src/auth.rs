//! The OAuth2 client-credentials grant against `{login-url}/services/oauth2/token`, and the
//! access token cached in the host's per-connection `state` for `token-ttl-seconds`.

use crate::settings::OrgSettings;
use ats_connector_sdk::errors::error_for_status;
use ats_connector_sdk::http::Request;
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

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    instance_url: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
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
    let response = Request::post(format!("{}/services/oauth2/token", settings.login_url))
        .header("accept", "application/json")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &settings.client_id),
            ("client_secret", &settings.client_secret),
        ])
        .send()?;
    if !(200..300).contains(&response.status()) {
        if let Ok(error) = serde_json::from_slice::<OAuthError>(response.body()) {
            let rejected = matches!(
                error.error.as_str(),
                "invalid_client" | "invalid_client_id" | "invalid_grant" | "unauthorized_client"
            );
            if rejected {
                return Err(AtsError::Unauthorized(format!(
                    "Salesforce rejected the connected app's credentials: {} ({})",
                    error.error, error.error_description
                )));
            }
        }
        return Err(error_for_status(
            response.status(),
            response.header("retry-after"),
            response.body(),
        ));
    }
    let answer: TokenAnswer = response.json()?;
    let instance_url = settings
        .instance_url
        .clone()
        .or(answer.instance_url)
        .map(|url| url.trim_end_matches('/').to_string())
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .ok_or_else(|| {
            AtsError::Remote(RemoteFailure {
                status: response.status(),
                body_excerpt:
                    "the token answer has no instance_url and no instance-url is configured".into(),
            })
        })?;
    let token = Token { access_token: answer.access_token, instance_url };
    if let Ok(text) = serde_json::to_string(&token) {
        state::set(STATE_KEY, &text, Some(settings.token_ttl_seconds));
    }
    log(Level::Debug, "salesforce: new access token granted");
    Ok(token)
}
