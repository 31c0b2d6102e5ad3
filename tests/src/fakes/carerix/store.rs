//! The fake Carerix's records: one table per CR* type, ids numbered per type (as Carerix's
//! `_id`s are), relations kept as the related `_id`, dates written the Carerix way
//! (`YYYY-MM-DD HH:MM:SS +0000`), and the writes the mutations make, each validating its
//! `…Request` input the way the real schema would (`_kind`, known fields, existing ids).
//! Fields hidden with [`Store::hide_field`] are missing from this account's schema: reads,
//! qualifiers and request inputs naming them are refused.

use super::GqlError;
use super::schema;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

/// The pipeline every Carerix tenant in the fake has (CRStatusInfo): name, final?, filled?
const STATUSES: &[(&str, bool, bool)] = &[
    ("New", false, false),
    ("Screening", false, false),
    ("Interview with client", false, false),
    ("Offer", false, false),
    ("Placed", true, true),
    ("Rejected", true, false),
];

/// Data-node tags the fake knows (attachment types and vacancy statuses).
pub const CV_TAG: &str = "CVTag";
const DATA_NODES: &[&str] = &[CV_TAG, "OtherDocumentTag", "VacancyOpenTag", "VacancyClosedTag"];

#[derive(Default)]
pub struct Store {
    tables: HashMap<&'static str, BTreeMap<u64, Value>>,
    next_ids: HashMap<&'static str, u64>,
    /// A clock tick per write, so records written in one second still differ in order.
    writes: u64,
    /// (type, field) pairs this account's schema does not have.
    hidden: HashSet<(String, String)>,
}

/// A Carerix date for unix seconds.
pub fn carerix_date(unix_seconds: i64) -> String {
    let text = ats_host::sync::time::format_ms(unix_seconds * 1000);
    format!("{} {} +0000", &text[..10], &text[11..19])
}

/// An RFC 3339 UTC timestamp as a Carerix date.
pub fn from_rfc3339(rfc3339: &str) -> String {
    carerix_date(ats_host::sync::time::parse_ms(rfc3339).unwrap_or(0) / 1000)
}

fn now() -> String {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    carerix_date(i64::try_from(secs).unwrap_or(0))
}

fn type_key(type_name: &str) -> Option<&'static str> {
    schema::TYPES.iter().map(|(t, _)| *t).find(|t| *t == type_name)
}

/// Text of a JSON value (ids may arrive as strings or numbers).
pub fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

impl Store {
    pub fn new() -> Self {
        let mut store = Store::default();
        for (i, (name, is_final, filled)) in STATUSES.iter().enumerate() {
            store.insert(
                "CRStatusInfo",
                json!({
                    "statusName": name.to_lowercase().replace(' ', "_"), "displayName": name,
                    "statusValue": i, "sortOrder": (i + 1) * 10, "isFinal": u8::from(*is_final),
                    "isSuccessfullyFilled": u8::from(*filled), "isScreening": u8::from(i == 1),
                    "notActive": 0, "isDefault": u8::from(i == 0),
                }),
            );
        }
        for tag in DATA_NODES {
            store.insert("CRDataNode", json!({ "value": tag }));
        }
        store
    }

    /// Inserts `record` into `type_name` with a new `_id`; returns the id.
    pub fn insert(&mut self, type_name: &'static str, mut record: Value) -> String {
        let first = match type_name {
            "CRVacancy" => 100,
            "CRPublication" => 30_000,
            "CREmployee" => 50_000,
            "CRMatch" => 70_000,
            "CRAttachment" => 90_000,
            _ => 1,
        };
        let next = self.next_ids.entry(type_name).or_insert(first);
        let id = *next;
        *next += 1;
        record["_id"] = json!(id.to_string());
        self.tables.entry(type_name).or_default().insert(id, record);
        id.to_string()
    }

    /// Removes `field` of `type_name` from this account's schema.
    pub fn hide_field(&mut self, type_name: &str, field: &str) {
        self.hidden.insert((type_name.to_string(), field.to_string()));
    }

    pub fn is_hidden(&self, type_name: &str, field: &str) -> bool {
        self.hidden.contains(&(type_name.to_string(), field.to_string()))
    }

    pub fn get(&self, type_name: &str, id: &str) -> Option<&Value> {
        self.tables.get(type_name)?.get(&id.parse::<u64>().ok()?)
    }

    fn get_mut(&mut self, type_name: &str, id: &str) -> Option<&mut Value> {
        self.tables.get_mut(type_name)?.get_mut(&id.parse::<u64>().ok()?)
    }

    /// Every record of `type_name`, by ascending `_id`.
    pub fn all<'a>(&'a self, type_name: &str) -> impl Iterator<Item = &'a Value> + 'a {
        type_key(type_name).and_then(|t| self.tables.get(t)).into_iter().flat_map(BTreeMap::values)
    }

    fn data_node(&self, tag: &str) -> Option<String> {
        self.all("CRDataNode").find(|n| n["value"] == tag).map(|n| text(n.get("_id")))
    }

    fn default_status(&self) -> String {
        self.all("CRStatusInfo")
            .find(|s| s["isDefault"] == 1)
            .map(|s| text(s.get("_id")))
            .unwrap_or_default()
    }

    fn touch(&mut self) -> String {
        self.writes += 1;
        now()
    }

    /// A vacancy with one publication (as a vacancy published on the tenant's website).
    pub fn add_vacancy(&mut self, title: &str, modified: &str, publish: bool) -> String {
        let modified = from_rfc3339(modified);
        let open = self.data_node("VacancyOpenTag");
        let id = self.insert(
            "CRVacancy",
            json!({
                "jobTitle": title, "creationDate": modified, "modificationDate": modified,
                "deleted": 0, "isOpenApplication": 0, "toStatusNode": open,
            }),
        );
        if let Some(vacancy) = self.get_mut("CRVacancy", &id) {
            vacancy["vacancyID"] = json!(id.parse::<u64>().unwrap_or(0));
        }
        if publish {
            self.insert(
                "CRPublication",
                json!({
                    "toVacancy": id, "publicationStart": modified, "creationDate": modified,
                    "modificationDate": modified,
                }),
            );
        }
        id
    }

    /// Sets fields of a vacancy and its modification date.
    pub fn change_vacancy(&mut self, id: &str, modified: &str, fields: Value) {
        let modified = from_rfc3339(modified);
        if let (Some(vacancy), Value::Object(fields)) = (self.get_mut("CRVacancy", id), fields) {
            for (key, value) in fields {
                vacancy[key] = value;
            }
            vacancy["modificationDate"] = json!(modified);
        }
    }

    /// Sets fields of record `id` of `type_name` as they are (no modification date).
    pub fn set_fields(&mut self, type_name: &str, id: &str, fields: Value) {
        if let (Some(record), Value::Object(fields)) = (self.get_mut(type_name, id), fields) {
            for (key, value) in fields {
                record[key] = value;
            }
        }
    }

    /// A CRUser (a recruiter of the tenant).
    pub fn add_user(&mut self, first_name: &str, last_name: &str) -> String {
        let id = self.insert(
            "CRUser",
            json!({ "firstName": first_name, "lastName": last_name, "isActive": 1, "deleted": 0 }),
        );
        if let Some(user) = self.get_mut("CRUser", &id) {
            user["userID"] = json!(id.parse::<u64>().unwrap_or(0));
        }
        id
    }

    /// Links user `user` to vacancy `vacancy` with a CRVacancyUser.
    pub fn add_vacancy_user(&mut self, vacancy: &str, user: &str) -> String {
        self.insert("CRVacancyUser", json!({ "toVacancy": vacancy, "toUser": user }))
    }

    /// A data node with `tag` as its value, and an export code.
    pub fn add_data_node(&mut self, tag: &str, export_code: &str) -> String {
        self.insert("CRDataNode", json!({ "value": tag, "exportCode": export_code }))
    }

    /// Closes a vacancy the Carerix way: its status node becomes `tag`.
    pub fn set_vacancy_status(&mut self, id: &str, tag: &str, modified: &str) {
        let node = self.data_node(tag);
        self.change_vacancy(id, modified, json!({ "toStatusNode": node }));
    }

    /// Checks a `…Request` input: the right `_kind`, only writable fields this account has.
    fn check_request(&self, kind: &str, request: &Value) -> Result<Map<String, Value>, GqlError> {
        let Value::Object(fields) = request else {
            return Err(GqlError::validation(&format!("`request` must be a {kind}Request object")));
        };
        match fields.get("_kind").and_then(Value::as_str) {
            Some(k) if k == kind => {}
            other => {
                return Err(GqlError::data(&format!(
                    "request._kind must be \"{kind}\", got {other:?}"
                )));
            }
        }
        let mut fields = fields.clone();
        fields.remove("_kind");
        if let Some(unknown) = fields
            .keys()
            .find(|k| !schema::writable(kind).contains(&k.as_str()) || self.is_hidden(kind, k))
        {
            return Err(GqlError::validation(&format!(
                "Validation error (WrongType@[request]) : argument 'request' with value contains a field not in '{kind}Request': '{unknown}'"
            )));
        }
        for (key, value) in &fields {
            let scalar_ok = matches!(value, Value::String(_) | Value::Number(_) | Value::Null);
            if !matches!(key.as_str(), "attachments" | "statusInfo") && !scalar_ok {
                return Err(GqlError::validation(&format!(
                    "Validation error (WrongType@[request/{key}]) : '{key}' must be a scalar"
                )));
            }
        }
        Ok(fields)
    }

    /// Writes `fields` of a checked request onto record `id` of `kind`.
    fn apply_fields(
        &mut self,
        kind: &'static str,
        id: &str,
        fields: Map<String, Value>,
    ) -> Result<(), GqlError> {
        let owner = if kind == "CREmployee" { "toEmployee" } else { "toMatch" };
        let mut plain = Map::new();
        for (key, value) in fields {
            match key.as_str() {
                "attachments" => self.add_attachments(owner, id, &value)?,
                "statusInfo" => {
                    let status = self.status_reference(&value)?;
                    plain.insert("statusInfo".into(), json!(status));
                    plain.insert("statusInfoModificationDate".into(), json!(now()));
                }
                _ => {
                    plain.insert(key, value);
                }
            }
        }
        let modified = self.touch();
        let record = self
            .get_mut(kind, id)
            .ok_or_else(|| GqlError::data(&format!("{kind} with _id {id} not found")))?;
        for (key, value) in plain {
            record[key] = value;
        }
        record["modificationDate"] = json!(modified);
        Ok(())
    }

    fn status_reference(&self, value: &Value) -> Result<String, GqlError> {
        if value.get("_kind").and_then(Value::as_str) != Some("CRStatusInfo") {
            return Err(GqlError::data("statusInfo._kind must be \"CRStatusInfo\""));
        }
        let id = text(value.get("_id"));
        self.get("CRStatusInfo", &id)
            .map(|_| id.clone())
            .ok_or_else(|| GqlError::data(&format!("CRStatusInfo with _id {id} not found")))
    }

    /// `attachments: {items: [{_kind: "CRAttachment", label, filePath, toTypeNode,
    /// toAttachmentData: {_kind: "CRAttachmentData", content: base64}}]}`.
    fn add_attachments(
        &mut self,
        owner_field: &str,
        owner: &str,
        value: &Value,
    ) -> Result<(), GqlError> {
        let items = value.get("items").and_then(Value::as_array).ok_or_else(|| {
            GqlError::validation("attachments must be {items: [CRAttachmentRequest]}")
        })?;
        let mut checked = Vec::new();
        for item in items {
            if item.get("_kind").and_then(Value::as_str) != Some("CRAttachment") {
                return Err(GqlError::data("attachments.items[]._kind must be \"CRAttachment\""));
            }
            let data = item.get("toAttachmentData").cloned().unwrap_or(Value::Null);
            if data.get("_kind").and_then(Value::as_str) != Some("CRAttachmentData") {
                return Err(GqlError::data("toAttachmentData._kind must be \"CRAttachmentData\""));
            }
            let content = data.get("content").and_then(Value::as_str).unwrap_or_default();
            base64::engine::general_purpose::STANDARD.decode(content).map_err(|e| {
                GqlError::data(&format!("toAttachmentData.content is not base64: {e}"))
            })?;
            let type_node = match item.get("toTypeNode") {
                None | Some(Value::Null) => None,
                Some(node) => {
                    let lookup = node.get("_lookup").cloned().unwrap_or(Value::Null);
                    let tag = text(lookup.get("value"));
                    if node.get("_kind").and_then(Value::as_str) != Some("CRDataNode")
                        || text(lookup.get("key")) != "tag"
                    {
                        return Err(GqlError::data(
                            "toTypeNode must be {_kind: \"CRDataNode\", _lookup: {key: \"tag\", value}}",
                        ));
                    }
                    Some(self.data_node(&tag).ok_or_else(|| {
                        GqlError::data(&format!("no CRDataNode with tag `{tag}`"))
                    })?)
                }
            };
            checked.push((item.clone(), content.to_string(), type_node));
        }
        for (item, content, type_node) in checked {
            let data = self.insert("CRAttachmentData", json!({ "content": content }));
            let created = now();
            let mut attachment = json!({
                "label": item.get("label").cloned().unwrap_or(Value::Null),
                "filePath": item.get("filePath").cloned().unwrap_or(Value::Null),
                "toTypeNode": type_node, "toAttachmentData": data, "creationDate": created,
            });
            attachment[owner_field] = json!(owner);
            self.insert("CRAttachment", attachment);
        }
        Ok(())
    }

    pub fn employee_create(&mut self, request: &Value) -> Result<String, GqlError> {
        let fields = self.check_request("CREmployee", request)?;
        let created = self.touch();
        let id = self.insert("CREmployee", json!({ "creationDate": created }));
        if let Some(employee) = self.get_mut("CREmployee", &id) {
            employee["employeeID"] = json!(id.parse::<u64>().unwrap_or(0));
        }
        self.apply_fields("CREmployee", &id, fields)?;
        Ok(id)
    }

    pub fn employee_update(&mut self, id: &str, request: &Value) -> Result<String, GqlError> {
        let fields = self.check_request("CREmployee", request)?;
        self.get("CREmployee", id)
            .ok_or_else(|| GqlError::data(&format!("CREmployee with _id {id} not found")))?;
        self.apply_fields("CREmployee", id, fields)?;
        Ok(id.to_string())
    }

    pub fn match_update(&mut self, id: &str, request: &Value) -> Result<String, GqlError> {
        let fields = self.check_request("CRMatch", request)?;
        self.get("CRMatch", id)
            .ok_or_else(|| GqlError::data(&format!("CRMatch with _id {id} not found")))?;
        self.apply_fields("CRMatch", id, fields)?;
        Ok(id.to_string())
    }

    /// `crEmployeeApply(dedupe, pub, request)`: the candidate (matched on the e-mail address
    /// when `dedupe`: the real rule is undocumented, research §2.4) gets a match on the
    /// publication's vacancy in the default status. Nothing documents that an apply looks
    /// for an existing match, so every apply makes a new one (as a web form would).
    pub fn employee_apply(
        &mut self,
        dedupe: bool,
        publication: &str,
        request: &Value,
    ) -> Result<String, GqlError> {
        let vacancy =
            self.get("CRPublication", publication).map(|p| text(p.get("toVacancy"))).ok_or_else(
                || GqlError::data(&format!("CRPublication with _id {publication} not found")),
            )?;
        let mut fields = self.check_request("CREmployee", request)?;
        let email = text(fields.get("emailAddress")).to_lowercase();
        let existing = dedupe
            .then(|| {
                self.all("CREmployee")
                    .find(|e| {
                        !email.is_empty() && text(e.get("emailAddress")).to_lowercase() == email
                    })
                    .map(|e| text(e.get("_id")))
            })
            .flatten();
        let employee = match existing {
            Some(id) => {
                // A dedupe match keeps the stored name and contact details.
                fields.retain(|key, _| key == "attachments");
                self.apply_fields("CREmployee", &id, fields)?;
                id
            }
            None => {
                let mut request = fields;
                request.insert("_kind".into(), json!("CREmployee"));
                self.employee_create(&Value::Object(request))?
            }
        };
        let status = self.default_status();
        let created = self.touch();
        self.insert(
            "CRMatch",
            json!({
                "toEmployee": employee, "toVacancy": vacancy, "toPublication": publication,
                "statusInfo": status, "creationDate": created, "modificationDate": created,
                "statusInfoModificationDate": created, "applySource": null,
            }),
        );
        Ok(employee)
    }
}
