//! Credentials for a request, per `[auth]` kind: static ones (api-key, basic, bearer) are
//! rendered from the config; an OAuth2 access token (client credentials or refresh token)
//! and a session token (from a login request) are obtained once and kept in the
//! connection's state with their lifetime. A request answered "unauthorized" forgets the
//! kept token, so the next call obtains a new one.

use crate::body::fnv1a;
use crate::error::DeclError;
use crate::execute::Executor;
use crate::limits::{
    DEFAULT_SESSION_TTL_SECONDS, DEFAULT_TOKEN_LIFETIME_SECONDS, TOKEN_EXPIRY_MARGIN_SECONDS,
};
use crate::request::{self, RequestParts};
use crate::rules;
use crate::select::select;
use crate::spec::{ApiKeyIn, AuthKind, AuthSpec, ClientAuth, Method};
use crate::template::{Context, Template, percent_encode, stringify};
use crate::transport::{HttpRequest, Transport};
use base64::Engine as _;
use serde_json::Value;

/// What the auth adds to a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    /// `{{session.token}}`.
    pub session_token: Option<String>,
    /// The state key of a kept token, forgotten when a request is refused.
    pub state_key: Option<String>,
    /// Secret values obtained at run time (tokens), cut out of error excerpts.
    pub secrets: Vec<String>,
}

fn render(text: &Option<String>, ctx: &Context<'_>, key: &str) -> Result<String, DeclError> {
    let text = text.as_deref().unwrap_or_default();
    let value = Template::checked(text)?.render_string(ctx)?;
    if value.is_empty() {
        return Err(DeclError::InvalidInput(format!(
            "auth `{key}` renders empty; set the config field it uses"
        )));
    }
    Ok(value)
}

/// The credentials for one call.
pub(crate) fn obtain(
    exec: &Executor<'_>,
    t: &mut dyn Transport,
    ctx: &Context<'_>,
) -> Result<Credentials, DeclError> {
    let spec = &exec.manifest.auth;
    let mut credentials = Credentials::default();
    match spec.kind {
        AuthKind::None => {}
        AuthKind::ApiKey => {
            let name = render(&spec.name, ctx, "name")?;
            let value = render(&spec.value, ctx, "value")?;
            match spec.location.unwrap_or(ApiKeyIn::Header) {
                ApiKeyIn::Header => credentials.headers.push((name, value)),
                ApiKeyIn::Query => credentials.query.push((name, value)),
            }
        }
        AuthKind::Basic => {
            let user = render(&spec.username, ctx, "username")?;
            let password = Template::checked(spec.password.as_deref().unwrap_or_default())?
                .render_string(ctx)?;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            credentials.headers.push(("Authorization".into(), format!("Basic {encoded}")));
        }
        AuthKind::Bearer => {
            let token = render(&spec.token, ctx, "token")?;
            credentials.headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        AuthKind::Oauth2ClientCredentials | AuthKind::Oauth2RefreshToken => {
            let (key, token) = oauth2(exec, t, spec, ctx)?;
            credentials.headers.push(("Authorization".into(), format!("Bearer {token}")));
            credentials.state_key = Some(key);
            credentials.secrets.push(token);
        }
        AuthKind::Session => {
            let (key, token) = session(exec, t, spec, ctx)?;
            if let Some(header) = &spec.header {
                let session_ctx = Context { session: Some(&token), ..*ctx };
                let value = spec.value.as_deref().unwrap_or("{{session.token}}");
                let value = Template::checked(value)?.render_string(&session_ctx)?;
                credentials.headers.push((header.clone(), value));
            }
            credentials.state_key = Some(key);
            credentials.secrets.push(token.clone());
            credentials.session_token = Some(token);
        }
    }
    Ok(credentials)
}

/// Forgets a kept token (the state has no delete: an empty value that expires at once).
pub(crate) fn forget(t: &mut dyn Transport, credentials: &Credentials) {
    if let Some(key) = &credentials.state_key {
        t.state_set(key, "", Some(1));
    }
}

fn kept(t: &mut dyn Transport, key: &str) -> Option<String> {
    t.state_get(key).filter(|value| !value.is_empty())
}

fn oauth2(
    exec: &Executor<'_>,
    t: &mut dyn Transport,
    spec: &AuthSpec,
    ctx: &Context<'_>,
) -> Result<(String, String), DeclError> {
    let token_url = render(&spec.token_url, ctx, "token_url")?;
    let client_id = render(&spec.client_id, ctx, "client_id")?;
    let id = fnv1a(format!("{token_url}\n{client_id}").into_bytes());
    let key = format!("decl:oauth2:{id:016x}");
    let refresh_key = format!("decl:oauth2-refresh:{id:016x}");
    if let Some(token) = kept(t, &key) {
        return Ok((key, token));
    }
    let client_secret = match &spec.client_secret {
        Some(text) => Template::checked(text)?.render_string(ctx)?,
        None => String::new(),
    };
    let mut form: Vec<(&str, String)> = Vec::new();
    let rotated = kept(t, &refresh_key);
    match spec.kind {
        AuthKind::Oauth2RefreshToken => {
            let refresh = match rotated {
                Some(token) => token,
                None => render(&spec.refresh_token, ctx, "refresh_token")?,
            };
            form.push(("grant_type", "refresh_token".into()));
            form.push(("refresh_token", refresh));
        }
        _ => form.push(("grant_type", "client_credentials".into())),
    }
    let mut headers = vec![
        ("Accept".to_string(), "application/json".to_string()),
        ("Content-Type".to_string(), "application/x-www-form-urlencoded".to_string()),
    ];
    match spec.client_auth.unwrap_or(ClientAuth::Body) {
        ClientAuth::Body => {
            form.push(("client_id", client_id.clone()));
            if !client_secret.is_empty() {
                form.push(("client_secret", client_secret.clone()));
            }
        }
        ClientAuth::Basic => {
            let pair = format!("{}:{}", percent_encode(&client_id), percent_encode(&client_secret));
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            headers.push(("Authorization".into(), format!("Basic {encoded}")));
        }
    }
    if let Some(scope) = &spec.scope {
        let scope = Template::checked(scope)?.render_string(ctx)?;
        if !scope.trim().is_empty() {
            form.push(("scope", scope));
        }
    }
    let body: Vec<String> =
        form.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect();
    let request = HttpRequest {
        method: "POST".into(),
        url: token_url,
        headers,
        body: Some(body.join("&").into_bytes()),
    };
    request::check_url(&request.url)?;
    let redactor = exec.redactor.with(&client_secret);
    let response = t.send(request)?;
    rules::check_credentials_answer(
        &exec.manifest.errors,
        &response,
        exec.now,
        &redactor,
        "token endpoint",
    )?;
    let answer: Value = serde_json::from_slice(&response.body).map_err(|_| DeclError::Remote {
        status: response.status,
        body_excerpt: format!(
            "the token answer is not JSON: {}",
            rules::excerpt(&response.body, &redactor)
        ),
    })?;
    let token =
        answer.get("access_token").map(stringify).filter(|token| !token.is_empty()).ok_or_else(
            || DeclError::Remote {
                status: response.status,
                body_excerpt: "the token answer has no access_token".into(),
            },
        )?;
    let lifetime = answer
        .get("expires_in")
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()))
        .map_or(DEFAULT_TOKEN_LIFETIME_SECONDS, |s| u32::try_from(s).unwrap_or(u32::MAX));
    let ttl = if lifetime > 2 * TOKEN_EXPIRY_MARGIN_SECONDS {
        lifetime - TOKEN_EXPIRY_MARGIN_SECONDS
    } else {
        (lifetime / 2).max(1)
    };
    t.state_set(&key, &token, Some(ttl));
    if let Some(new_refresh) =
        answer.get("refresh_token").and_then(Value::as_str).filter(|r| !r.is_empty())
    {
        t.state_set(&refresh_key, new_refresh, None);
    }
    Ok((key, token))
}

fn session(
    exec: &Executor<'_>,
    t: &mut dyn Transport,
    spec: &AuthSpec,
    ctx: &Context<'_>,
) -> Result<(String, String), DeclError> {
    let Some(login) = &spec.login else {
        return Err(DeclError::InvalidInput("[auth] session has no login request".into()));
    };
    let id = fnv1a(login.path.0.join("\n").into_bytes());
    let key = format!("decl:session:{id:016x}");
    if let Some(token) = kept(t, &key) {
        return Ok((key, token));
    }
    let parts = RequestParts {
        method: login.method.unwrap_or(Method::Post),
        paths: &login.path.0,
        base_url: None,
        query: &login.query,
        headers: &login.headers,
        body: login.body.as_ref(),
        what: "the session login",
    };
    let request = request::build(exec.manifest, &parts, ctx, &[], None, &Credentials::default())?;
    let response = t.send(request)?;
    rules::check_credentials_answer(
        &exec.manifest.errors,
        &response,
        exec.now,
        &exec.redactor,
        "login",
    )?;
    let token = match (&spec.token_path, &spec.token_header) {
        (_, Some(header)) => response.header(header).map(str::to_string),
        (Some(path), None) => serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|body| select(&body, path).map(|v| stringify(&v))),
        (None, None) => None,
    };
    let token = token.filter(|token| !token.is_empty()).ok_or_else(|| {
        DeclError::Unauthorized(format!(
            "the login answer (HTTP {}) has no session token at `{}`",
            response.status,
            spec.token_path.as_deref().or(spec.token_header.as_deref()).unwrap_or_default()
        ))
    })?;
    t.state_set(&key, &token, Some(spec.ttl_seconds.unwrap_or(DEFAULT_SESSION_TTL_SECONDS)));
    Ok((key, token))
}
