//! The OAuth2 client-credentials grant (RFC 6749 §4.4), the server-to-server flow of most
//! ATS APIs (Carerix, Salesforce orgs, ...): the form POST to the token URL, and its
//! standard error answer mapped onto `ats-error`, so a wrong client id, secret or scope is
//! `unauthorized` with the OAuth error named, and anything else keeps its HTTP meaning.
//! Caching the token is the connector's (it knows how long it lives and under which key).

use crate::bindings::ats::connector::types::AtsError;
use crate::errors::error_for_status;
use crate::http::Request;
use serde::Deserialize;

/// One client-credentials grant to make.
pub struct ClientCredentials<'a> {
    pub token_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    /// Sent as `scope` when given and not empty.
    pub scope: Option<&'a str>,
    /// The ATS, for messages ("Carerix refused the client credentials: ...").
    pub ats: &'a str,
    /// What the operator should check when the grant is refused.
    pub check: &'a str,
}

/// A granted token and the whole token answer (some servers add fields, e.g. Salesforce's
/// `instance_url`).
pub struct Granted {
    pub access_token: String,
    pub expires_in: Option<u32>,
    pub answer: serde_json::Value,
    pub status: u16,
}

#[derive(Deserialize)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// OAuth error codes that mean "these credentials will not work": retrying cannot help.
const REFUSED: &[&str] = &[
    "invalid_client",
    "invalid_client_id",
    "unauthorized_client",
    "invalid_grant",
    "invalid_scope",
];

/// Makes the grant. The client secret travels only in the form body; it is never part of a
/// returned error.
pub fn client_credentials(grant: &ClientCredentials<'_>) -> Result<Granted, AtsError> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", grant.client_id),
        ("client_secret", grant.client_secret),
    ];
    if let Some(scope) = grant.scope.filter(|s| !s.trim().is_empty()) {
        form.push(("scope", scope));
    }
    let response =
        Request::post(grant.token_url).header("accept", "application/json").form(&form).send()?;
    let status = response.status();
    if !(200..300).contains(&status) {
        if let Ok(error) = serde_json::from_slice::<OAuthError>(response.body())
            && REFUSED.contains(&error.error.as_str())
        {
            return Err(AtsError::Unauthorized(format!(
                "{} refused the client credentials: {} ({}); check {}",
                grant.ats, error.error, error.error_description, grant.check
            )));
        }
        return Err(error_for_status(status, response.header("retry-after"), response.body()));
    }
    let answer: serde_json::Value = response.json()?;
    let access_token = answer
        .get("access_token")
        .and_then(serde_json::Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AtsError::Remote(crate::bindings::ats::connector::types::RemoteFailure {
                status,
                body_excerpt: format!("the {} token answer has no access_token", grant.ats),
            })
        })?
        .to_string();
    let expires_in = answer
        .get("expires_in")
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| u32::try_from(n).ok());
    Ok(Granted { access_token, expires_in, answer, status })
}
