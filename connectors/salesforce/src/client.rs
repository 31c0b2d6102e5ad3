//! REST calls to the org with the bearer token: one new grant and one retry when Salesforce
//! answers 401 `INVALID_SESSION_ID`, `Sforce-Limit-Info` logged, errors typed
//! ([`crate::errors`]); sObject insert/update/read and SOQL queries paged by
//! `nextRecordsUrl`.

use crate::auth::{self, Token};
use crate::errors::{duplicate_ids, is_invalid_session, to_ats_error};
use crate::settings::OrgSettings;
use crate::soql::next_records_path;
use ats_connector_sdk::http::{Request, Response, url_encode};
use ats_connector_sdk::prelude::*;
use serde::Deserialize;
use serde_json::Value;

/// One batch of query results and the cursor to the next.
#[derive(Debug, Default)]
pub struct QueryPage {
    pub records: Vec<Value>,
    /// The `nextRecordsUrl`, used as the page token.
    pub next_records_url: Option<String>,
}

#[derive(Deserialize)]
struct QueryAnswer {
    #[serde(default)]
    records: Vec<Value>,
    #[serde(rename = "nextRecordsUrl", default)]
    next_records_url: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// What an insert led to.
#[derive(Debug)]
pub enum Inserted {
    Created(String),
    /// A duplicate rule blocked the insert; the ids of the matching records.
    Duplicate(Vec<String>),
}

/// A client of one org for the duration of one operation.
pub struct Client {
    settings: OrgSettings,
    token: Option<Token>,
}

impl Client {
    pub fn new(settings: OrgSettings) -> Self {
        Self { settings, token: None }
    }

    /// A client for the org the connection config names.
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        Ok(Self::new(OrgSettings::from_config(config)?))
    }

    pub fn settings(&self) -> &OrgSettings {
        &self.settings
    }

    /// `/services/data/vNN.N/{rest}`.
    pub fn data_path(&self, rest: &str) -> String {
        format!("/services/data/v{}/{rest}", self.settings.api_version)
    }

    fn current_token(&mut self) -> Result<Token, AtsError> {
        match &self.token {
            Some(token) => Ok(token.clone()),
            None => {
                let token = auth::token(&self.settings)?;
                self.token = Some(token.clone());
                Ok(token)
            }
        }
    }

    /// Sends `method path` (relative to the instance URL), re-authenticating once on
    /// `INVALID_SESSION_ID`. Any status is returned; see [`Client::send`] for typed errors.
    pub fn send_raw(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Response, AtsError> {
        let mut refreshed = false;
        loop {
            let token = self.current_token()?;
            let mut request = Request::new(method, format!("{}{path}", token.instance_url))
                .bearer(&token.access_token)
                .header("accept", "application/json");
            for (name, value) in headers {
                request = request.header(name, value.clone());
            }
            if let Some(body) = body {
                request = request.json(body)?;
            }
            let response = request.send()?;
            if let Some(limits) = response.header("sforce-limit-info") {
                log(Level::Debug, &format!("salesforce limits: {limits}"));
            }
            if !refreshed && is_invalid_session(response.status(), response.body()) {
                log(Level::Info, "salesforce: session invalid, requesting a new token");
                auth::forget();
                self.token = Some(auth::grant(&self.settings)?);
                refreshed = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// Like [`Client::send_raw`], with non-2xx answers as typed errors.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Response, AtsError> {
        let response = self.send_raw(method, path, body, headers)?;
        if (200..300).contains(&response.status()) {
            Ok(response)
        } else {
            Err(to_ats_error(response.status(), response.header("retry-after"), response.body()))
        }
    }

    /// The first batch of `soql`, at least 200 and at most 2,000 rows when `batch` is given.
    pub fn query(&mut self, soql: &str, batch: Option<u32>) -> Result<QueryPage, AtsError> {
        let path = format!("{}?q={}", self.data_path("query"), url_encode(soql));
        self.query_path(&path, batch)
    }

    /// The batch behind a `nextRecordsUrl`.
    pub fn query_more(
        &mut self,
        next_records_url: &str,
        batch: Option<u32>,
    ) -> Result<QueryPage, AtsError> {
        let path = next_records_path(next_records_url)?.to_string();
        self.query_path(&path, batch)
    }

    /// The page `token` points at, or the first batch of `soql`.
    pub fn query_page(
        &mut self,
        soql: &str,
        token: Option<&str>,
        batch: Option<u32>,
    ) -> Result<QueryPage, AtsError> {
        match token {
            Some(token) => self.query_more(token, batch),
            None => self.query(soql, batch),
        }
    }

    fn query_path(&mut self, path: &str, batch: Option<u32>) -> Result<QueryPage, AtsError> {
        let headers: Vec<(&str, String)> = batch
            .map(|n| ("sforce-query-options", format!("batchSize={}", n.clamp(200, 2000))))
            .into_iter()
            .collect();
        let answer: QueryAnswer = self.send("GET", path, None, &headers)?.json()?;
        Ok(QueryPage { records: answer.records, next_records_url: answer.next_records_url })
    }

    /// Inserts a record; a duplicate-rule block comes back as [`Inserted::Duplicate`].
    pub fn insert(&mut self, object: &str, fields: &Value) -> Result<Inserted, AtsError> {
        let path = self.data_path(&format!("sobjects/{object}"));
        let response = self.send_raw("POST", &path, Some(fields), &[])?;
        if (200..300).contains(&response.status()) {
            let created: Created = response.json()?;
            return Ok(Inserted::Created(created.id));
        }
        let duplicates = duplicate_ids(response.body());
        if !duplicates.is_empty() {
            return Ok(Inserted::Duplicate(duplicates));
        }
        Err(to_ats_error(response.status(), response.header("retry-after"), response.body()))
    }

    /// Inserts a record; a duplicate is a `conflict`.
    pub fn create(&mut self, object: &str, fields: &Value) -> Result<String, AtsError> {
        match self.insert(object, fields)? {
            Inserted::Created(id) => Ok(id),
            Inserted::Duplicate(ids) => Err(AtsError::Conflict(format!(
                "DUPLICATES_DETECTED: {object} duplicates {}",
                ids.join(", ")
            ))),
        }
    }

    pub fn update(&mut self, object: &str, id: &str, fields: &Value) -> Result<(), AtsError> {
        let path = self.data_path(&format!("sobjects/{object}/{}", record_id(id)?));
        self.send("PATCH", &path, Some(fields), &[])?;
        Ok(())
    }

    /// One record with `fields`.
    pub fn read(&mut self, object: &str, id: &str, fields: &[&str]) -> Result<Value, AtsError> {
        let path = self.data_path(&format!(
            "sobjects/{object}/{}?fields={}",
            record_id(id)?,
            url_encode(&fields.join(","))
        ));
        self.send("GET", &path, None, &[])?.json()
    }
}

/// A Salesforce record id (15 or 18 alphanumeric characters).
pub fn record_id(id: &str) -> Result<&str, AtsError> {
    let ok = matches!(id.len(), 15 | 18) && id.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(id)
    } else {
        Err(AtsError::NotFound(format!("`{id}` is not a Salesforce record id")))
    }
}

/// A field of a record, by API name (case-insensitive, as Salesforce treats API names).
pub fn field<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    let object = record.as_object()?;
    object.get(name).or_else(|| {
        object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
    })
}

/// A field of a record as text (`None` when absent, null or empty).
pub fn text(record: &Value, name: &str) -> Option<String> {
    match field(record, name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A Salesforce datetime (`2026-03-01T10:00:00.000+0000`) as RFC 3339.
pub fn timestamp(record: &Value, field: &str) -> Option<String> {
    text(record, field).and_then(|v| ats_connector_sdk::time::to_rfc3339(&v, "Z"))
}
