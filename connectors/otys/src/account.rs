//! The account and its users: `check` (the OWS method the official plugin calls to test its
//! session; it answers the client the API key belongs to) and `UserService.getList`.

use crate::query;
use crate::records::{require_uid, text};
use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

/// One cheap authenticated call: `loginByUid` (when no session is cached) and `check`. The
/// plugin shows the answer's `client` as "Connected to <client>".
pub fn check(settings: &Settings) -> Result<Account, AtsError> {
    let result = rpc::call(settings, "check", Vec::new())?;
    let display_name = text(&result, "client")
        .or_else(|| text(&result, "clientId").map(|id| format!("OTYS client {id}")))
        .ok_or_else(|| {
            AtsError::Remote(RemoteFailure {
                status: 200,
                body_excerpt: format!("check answered without a client: {result}"),
            })
        })?;
    Ok(Account { display_name })
}

pub fn list_users(settings: &Settings, page: &PageRequest) -> Result<UserPage, AtsError> {
    let request = json!({
        "what": {
            "uid": 1,
            "blocked": 1,
            "Person": { "firstName": 1, "infix": 1, "lastName": 1, "emailPrimary": 1 },
        },
        "condition": null,
    });
    let listed = query::fetch_page(settings, "Otys.Services.UserService.getList", request, page)?;
    let items = listed.rows.iter().map(to_user).collect::<Result<_, _>>()?;
    Ok(UserPage { items, next_page_token: listed.next_page_token })
}

/// A user; the Dutch name infix ("de", "van der") goes before the last name.
fn to_user(row: &Value) -> Result<User, AtsError> {
    let person = row.get("Person").cloned().unwrap_or(Value::Null);
    let last_name = [text(&person, "infix"), text(&person, "lastName")]
        .into_iter()
        .flatten()
        .map(|part| part.trim().to_string())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let blocked = match row.get("blocked") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => !(s.is_empty() || s == "0" || s.eq_ignore_ascii_case("false")),
        _ => false,
    };
    Ok(User {
        id: require_uid(row, "user")?,
        first_name: text(&person, "firstName").unwrap_or_default(),
        last_name,
        email: text(&person, "emailPrimary"),
        active: !blocked,
    })
}
