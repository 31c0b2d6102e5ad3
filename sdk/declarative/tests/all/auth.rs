//! Every auth kind: static credentials, OAuth2 tokens kept in state and reused, and session
//! logins reused until their TTL.

use crate::common::{Fake, config, executor, jobs_op, manifest};
use ats_declarative::{DeclError, Executor};
use serde_json::json;

fn list(
    fake: &mut Fake,
    m: &ats_declarative::Manifest,
) -> Result<ats_declarative::Page, DeclError> {
    executor(m).list(fake, "list-jobs", None, None, &json!({}))
}

fn jobs() -> serde_json::Value {
    json!({"jobs": [{"id": "j1"}]})
}

#[test]
fn no_auth_sends_no_credentials() {
    let m = manifest(&jobs_op(""));
    let mut fake = Fake::new().json(200, jobs());
    list(&mut fake, &m).expect("lists");
    assert_eq!(fake.last().header("authorization"), None);
    assert_eq!(fake.last().url, "https://acme.example/api/jobs");
}

#[test]
fn api_key_in_a_header_or_the_query() {
    let m = manifest(&format!(
        "[auth]\nkind = \"api-key\"\nname = \"X-Api-Key\"\nvalue = \"{{{{config.api-key}}}}\"\n{}",
        jobs_op("")
    ));
    let mut fake = Fake::new().json(200, jobs());
    list(&mut fake, &m).expect("lists");
    assert_eq!(fake.last().header("x-api-key"), Some("sekrit-key-123"));

    let m = manifest(&format!(
        "[auth]\nkind = \"api-key\"\nin = \"query\"\nname = \"key\"\nvalue = \"{{{{config.api-key}}}}\"\n{}",
        jobs_op("")
    ));
    let mut fake = Fake::new().json(200, jobs());
    list(&mut fake, &m).expect("lists");
    assert_eq!(fake.last().url, "https://acme.example/api/jobs?key=sekrit-key-123");
}

#[test]
fn basic_and_bearer() {
    let m = manifest(&format!(
        "[auth]\nkind = \"basic\"\nusername = \"{{{{config.user}}}}\"\npassword = \"{{{{config.password}}}}\"\n{}",
        jobs_op("")
    ));
    let mut fake = Fake::new().json(200, jobs());
    list(&mut fake, &m).expect("lists");
    // base64("ann:pa55word")
    assert_eq!(fake.last().header("authorization"), Some("Basic YW5uOnBhNTV3b3Jk"));

    let m = manifest(&format!(
        "[auth]\nkind = \"bearer\"\ntoken = \"{{{{config.api-key}}}}\"\n{}",
        jobs_op("")
    ));
    let mut fake = Fake::new().json(200, jobs());
    list(&mut fake, &m).expect("lists");
    assert_eq!(fake.last().header("authorization"), Some("Bearer sekrit-key-123"));
}

const CLIENT_CREDENTIALS: &str = r#"[auth]
kind = "oauth2-client-credentials"
token_url = "https://login.acme.example/oauth/token"
client_id = "{{config.user}}"
client_secret = "{{config.password}}"
scope = "jobs.read"
"#;

#[test]
fn oauth2_client_credentials_token_is_kept_and_reused() {
    let m = manifest(&format!("{CLIENT_CREDENTIALS}{}", jobs_op("")));
    let mut fake = Fake::new()
        .json(200, json!({"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}))
        .json(200, jobs())
        .json(200, jobs());
    list(&mut fake, &m).expect("first call");
    list(&mut fake, &m).expect("second call");
    assert_eq!(fake.requests.len(), 3, "one token request for two calls");
    let token_request = &fake.requests[0];
    assert_eq!(token_request.method, "POST");
    assert_eq!(token_request.url, "https://login.acme.example/oauth/token");
    assert_eq!(
        fake.body_text(0),
        "grant_type=client_credentials&client_id=ann&client_secret=pa55word&scope=jobs.read"
    );
    assert_eq!(fake.requests[1].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(fake.requests[2].header("authorization"), Some("Bearer tok-1"));
    let (value, ttl) = fake.state.values().next().expect("token kept");
    assert_eq!((value.as_str(), *ttl), ("tok-1", Some(3540)), "expires_in minus the margin");
}

#[test]
fn a_401_drops_the_kept_token_and_the_next_call_gets_a_new_one() {
    let m = manifest(&format!("{CLIENT_CREDENTIALS}{}", jobs_op("")));
    let mut fake = Fake::new()
        .json(200, json!({"access_token": "tok-1", "expires_in": 3600}))
        .json(401, json!({"error": "token expired"}))
        .json(200, json!({"access_token": "tok-2", "expires_in": 3600}))
        .json(200, jobs());
    let error = list(&mut fake, &m).expect_err("refused");
    assert!(matches!(error, DeclError::Unauthorized(_)), "{error:?}");
    list(&mut fake, &m).expect("a new token");
    assert_eq!(fake.requests[3].header("authorization"), Some("Bearer tok-2"));
}

#[test]
fn refused_client_credentials_are_unauthorized() {
    let m = manifest(&format!("{CLIENT_CREDENTIALS}{}", jobs_op("")));
    let mut fake = Fake::new().json(400, json!({"error": "invalid_client"}));
    let error = list(&mut fake, &m).expect_err("refused");
    let DeclError::Unauthorized(message) = error else { panic!("{error:?}") };
    assert!(message.contains("invalid_client") && message.contains("token endpoint"), "{message}");
    assert!(!message.contains("pa55word"));
    // A token endpoint that is down is transient, not a credentials problem.
    let mut fake = Fake::new().raw(503, &[], "down");
    assert!(matches!(list(&mut fake, &m), Err(DeclError::Transient(_))));
}

#[test]
fn oauth2_refresh_token_rotates_the_refresh_token_in_state() {
    let m = manifest(&format!(
        "[auth]\nkind = \"oauth2-refresh-token\"\ntoken_url = \"https://login.acme.example/token\"\nclient_id = \"app\"\nclient_secret = \"{{{{config.password}}}}\"\nclient_auth = \"basic\"\nrefresh_token = \"{{{{config.api-key}}}}\"\n{}",
        jobs_op("")
    ));
    let mut fake = Fake::new()
        .json(
            200,
            json!({"access_token": "tok-1", "refresh_token": "refresh-2", "expires_in": 100}),
        )
        .json(200, jobs())
        .json(200, json!({"access_token": "tok-2", "expires_in": 100}))
        .json(200, jobs());
    list(&mut fake, &m).expect("first");
    assert_eq!(fake.body_text(0), "grant_type=refresh_token&refresh_token=sekrit-key-123");
    // base64("app:pa55word")
    assert_eq!(fake.requests[0].header("authorization"), Some("Basic YXBwOnBhNTV3b3Jk"));
    // The access token expires; the rotated refresh token is used.
    let access_key =
        fake.state.iter().find(|(_, (v, _))| v == "tok-1").map(|(k, _)| k.clone()).expect("kept");
    assert_eq!(fake.state[&access_key].1, Some(50), "half of a short lifetime");
    fake.state.remove(&access_key);
    list(&mut fake, &m).expect("second");
    assert_eq!(fake.body_text(2), "grant_type=refresh_token&refresh_token=refresh-2");
    assert_eq!(fake.requests[3].header("authorization"), Some("Bearer tok-2"));
}

const SESSION: &str = r#"[auth]
kind = "session"
login = { method = "POST", path = "/login", body = { json = { user = "{{config.user}}", password = "{{config.password}}" } } }
token_path = "data.token"
ttl_seconds = 600
header = "Authorization"
value = "Session {{session.token}}"
"#;

#[test]
fn a_session_login_is_reused_until_its_ttl() {
    let m = manifest(&format!("{SESSION}{}", jobs_op("query = { sid = \"{{session.token}}\" }")));
    let mut fake = Fake::new()
        .json(200, json!({"data": {"token": "s-1"}}))
        .json(200, jobs())
        .json(200, jobs())
        .json(200, json!({"data": {"token": "s-2"}}))
        .json(200, jobs());
    list(&mut fake, &m).expect("first");
    list(&mut fake, &m).expect("second, same session");
    assert_eq!(fake.requests[0].url, "https://acme.example/login");
    assert_eq!(fake.body_json(0), json!({"user": "ann", "password": "pa55word"}));
    assert_eq!(fake.requests[0].header("authorization"), None);
    assert_eq!(fake.requests[1].header("authorization"), Some("Session s-1"));
    assert_eq!(fake.requests[2].url, "https://acme.example/api/jobs?sid=s-1");
    let (_, ttl) = fake.state.values().next().expect("kept");
    assert_eq!(*ttl, Some(600));
    fake.expire_all();
    list(&mut fake, &m).expect("third, new login");
    assert_eq!(fake.requests[3].url, "https://acme.example/login");
    assert_eq!(fake.requests[4].header("authorization"), Some("Session s-2"));
}

#[test]
fn a_failed_login_is_unauthorized() {
    let m = manifest(&format!("{SESSION}{}", jobs_op("")));
    let mut fake = Fake::new().json(401, json!({"error": "bad password"}));
    assert!(matches!(list(&mut fake, &m), Err(DeclError::Unauthorized(_))));
    let mut fake = Fake::new().json(200, json!({"data": {}}));
    let error = list(&mut fake, &m).expect_err("no token");
    assert!(matches!(&error, DeclError::Unauthorized(m) if m.contains("data.token")), "{error:?}");
}

#[test]
fn a_required_config_field_must_be_present() {
    let m = manifest(&jobs_op(""));
    let config: Vec<(String, String)> =
        config().into_iter().filter(|(n, _)| n != "base-url").collect();
    let error = Executor::new(&m, &config).expect_err("missing base-url");
    assert_eq!(
        error,
        DeclError::InvalidInput("config field `base-url` is required but missing".into())
    );
}
