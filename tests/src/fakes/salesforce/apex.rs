//! MySolution's Apex REST endpoints in the fake org (research §3.3, [L]):
//! - `GET /services/apexrest/msf/api/job/Get`: every *published* job
//!   (`msf__Show_On_Website__c`), as a JSON array; query parameters are ignored.
//! - `POST /services/apexrest/msf/api/job/Apply?id=<jobId>`: body
//!   `{setApiName?, fields:{EMail:{value}, FirstName:{value}, LastName:{value},
//!   MobilePhone:{value}, Motivation:{value}, CV:{fileName, value}}, utm_source?, …}`;
//!   creates the candidate (a `Contact`, matched on e-mail as the org's duplicate rule
//!   demands) and the application, stores the CV as a ContentVersion on the application and
//!   answers `{jobApplicationId}`. Errors are raw Apex messages in `APEX_ERROR` items.

use super::store::{self, MSF_APPLICATION, MSF_JOB, text};
use super::{Org, SfError, lock, parse_json, require_json};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const JOB_FIELDS: &[&str] = &[
    "Id",
    "Name",
    "LastModifiedDate",
    "msf__Title__c",
    "msf__Job_Description__c",
    "msf__Job_Requirements__c",
    "msf__Employment_Conditions__c",
    "msf__Work_Address_City__c",
    "msf__Recruiter__c",
    "msf__Show_On_Website__c",
];
const APPLY_FIELDS: &[&str] =
    &["EMail", "FirstName", "LastName", "MobilePhone", "Motivation", "CV"];
const APPLY_KEYS: &[&str] = &[
    "setApiName",
    "fields",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "status",
    "isExternalSource",
];

fn apex_error(status: u16, message: &str) -> SfError {
    SfError::new(status, "APEX_ERROR", message)
}

pub(super) async fn jobs(State(org): State<Arc<Org>>, headers: HeaderMap) -> Response {
    if let Err(refused) = org.admit(&headers).await {
        return refused;
    }
    org.log("GET apexrest/msf/api/job/Get".into());
    let store = lock(&org.store);
    let published: Vec<Value> = store
        .records(MSF_JOB)
        .iter()
        .filter(|r| r.get("msf__Show_On_Website__c").and_then(Value::as_bool) == Some(true))
        .map(|r| {
            let mut out: Map<String, Value> = JOB_FIELDS
                .iter()
                .map(|f| ((*f).to_string(), r.get(*f).cloned().unwrap_or(Value::Null)))
                .collect();
            out.insert("attributes".into(), json!({"type": MSF_JOB}));
            out.insert("msf__Linked_Publications__r".into(), Value::Null);
            Value::Object(out)
        })
        .collect();
    drop(store);
    org.with_limits(axum::Json(published).into_response())
}

pub(super) async fn apply(
    State(org): State<Arc<Org>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = org.admit(&headers).await {
        return refused;
    }
    org.log("POST apexrest/msf/api/job/Apply".into());
    let answer = (|| {
        require_json(&headers)?;
        let job_id = params
            .get("id")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| apex_error(400, "Id is missing"))?;
        let body = parse_json(&body)?;
        let Value::Object(body) = body else {
            return Err(SfError::new(400, "JSON_PARSER_ERROR", "Expected a JSON object"));
        };
        if let Some(key) = body.keys().find(|k| !APPLY_KEYS.contains(&k.as_str())) {
            return Err(SfError::new(400, "JSON_PARSER_ERROR", &format!("Unknown field: {key}")));
        }
        let fields = body
            .get("fields")
            .and_then(Value::as_object)
            .ok_or_else(|| apex_error(400, "Attempt to de-reference a null object: fields"))?;
        if let Some(name) = fields.keys().find(|k| !APPLY_FIELDS.contains(&k.as_str())) {
            return Err(apex_error(
                400,
                &format!("Field {name} is not part of the application set"),
            ));
        }
        let value = |name: &str| -> Result<Option<String>, SfError> {
            match fields.get(name) {
                None => Ok(None),
                Some(field) => match field.get("value") {
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(Value::Null) | None => Ok(None),
                    Some(_) => Err(apex_error(400, &format!("Invalid value for {name}"))),
                },
            }
        };
        let email = value("EMail")?
            .filter(|e| e.contains('@'))
            .ok_or_else(|| apex_error(400, "Required field missing: EMail"))?;
        let last_name = value("LastName")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| apex_error(400, "Required field missing: LastName"))?;
        let cv = match fields.get("CV") {
            None => None,
            Some(cv) => {
                let name = cv.get("fileName").and_then(Value::as_str).unwrap_or("");
                let data = cv.get("value").and_then(Value::as_str).and_then(store::decode_base64);
                match (name, data) {
                    ("", _) | (_, None) => {
                        return Err(apex_error(400, "CV needs fileName and a base64 value"));
                    }
                    (name, Some(_)) => {
                        Some((name.to_string(), cv.get("value").cloned().unwrap_or(Value::Null)))
                    }
                }
            }
        };
        let mut store = lock(&org.store);
        let published = store.records(MSF_JOB).iter().any(|r| {
            text(r, "Id") == *job_id
                && r.get("msf__Show_On_Website__c").and_then(Value::as_bool) == Some(true)
        });
        if !published {
            return Err(apex_error(
                500,
                "System.QueryException: List has no rows for assignment to SObject",
            ));
        }
        let existing = store
            .records("Contact")
            .iter()
            .find(|r| text(r, "Email").eq_ignore_ascii_case(&email))
            .map(|r| text(r, "Id"));
        let contact_id = match existing {
            Some(id) => id,
            None => store.insert(
                "Contact",
                &json!({
                    "FirstName": value("FirstName")?,
                    "LastName": last_name,
                    "Email": email,
                    "MobilePhone": value("MobilePhone")?,
                }),
            )?,
        };
        let application_id = store.insert(
            MSF_APPLICATION,
            &json!({
                "msf__Job__c": job_id,
                "msf__Contact__c": contact_id,
                "msf__Motivation__c": value("Motivation")?,
                "msf__Utm_Source__c": body.get("utm_source").and_then(Value::as_str),
            }),
        )?;
        if let Some((name, data)) = cv {
            store.insert(
                "ContentVersion",
                &json!({"Title": name, "PathOnClient": name, "VersionData": data, "FirstPublishLocationId": application_id}),
            )?;
        }
        Ok(application_id)
    })();
    org.with_limits(match answer {
        Ok(id) => axum::Json(json!({"jobApplicationId": id, "success": true})).into_response(),
        Err(error) => error.into_response(),
    })
}
