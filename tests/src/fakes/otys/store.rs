//! What the fake OTYS holds (vacancies, candidates, procedures, procedure statuses, uploaded
//! files, attached documents) and the service methods that read and change it. Every method
//! validates its arguments the way OWS would: unknown fields, missing required fields and
//! unknown uids are errors, answered inside an HTTP 200.

use super::RpcError;
use super::listing::ListOptions;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

pub type Row = Map<String, Value>;

const VACANCY_FIELDS: [&str; 10] = [
    "uid",
    "title",
    "referenceNr",
    "entryDateTime",
    "lastModified",
    "statusId",
    "publicationStatus",
    "location",
    "user",
    "userId",
];
const CANDIDATE_FIELDS: [&str; 5] =
    ["uid", "entryDateTime", "lastModified", "Person.emailPrimary", "Person.lastName"];
const PROCEDURE_FIELDS: [&str; 5] =
    ["uid", "candidateUid", "vacancyUid", "entryDateTime", "lastModified"];
const STATUS_FIELDS: [&str; 2] = ["uid", "code"];
const CANDIDATE_KEYS: [&str; 9] = [
    "Person",
    "UtmTags",
    "statusId",
    "portalId",
    "source",
    "pointOfEntry",
    "currencyId",
    "acceptTermsTs",
    "acceptTermsIp",
];
const PERSON_KEYS: [&str; 11] = [
    "firstName",
    "lastName",
    "infix",
    "initials",
    "title",
    "emailPrimary",
    "PhoneNumbers",
    "birthdate",
    "gender",
    "nationalityCode",
    "languageCode",
];
const PROCEDURE_KEYS: [&str; 7] = [
    "candidateUid",
    "vacancyUid",
    "ProcedureStatus1",
    "ProcedureStatus2",
    "ProcedureStatus3",
    "UtmTags",
    "KillerQuestions",
];
const DOCUMENT_KEYS: [&str; 8] = [
    "candidateUid",
    "fileUid",
    "typeId",
    "subject",
    "private",
    "customerRightsLevel",
    "alwaysOnTop",
    "applicationUid",
];
/// ACTONOMY search lists the fake knows, and the candidate field each searches.
const SEARCH_LISTS: [&str; 2] = ["emailAddress", "phoneNumber"];

#[derive(Default)]
pub struct Store {
    next_uid: u64,
    pub vacancies: BTreeMap<u64, Row>,
    pub candidates: BTreeMap<u64, Row>,
    pub procedures: BTreeMap<u64, Row>,
    /// Procedure statuses of levels 1, 2 and 3.
    pub statuses: [Vec<Row>; 3],
    /// Uploaded files by `ouid`: (filename, bytes).
    pub files: HashMap<String, (String, Vec<u8>)>,
    pub documents: Vec<Row>,
}

fn row(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        _ => Row::new(),
    }
}

fn arg(args: &[Value], index: usize) -> Result<&Value, RpcError> {
    args.get(index)
        .ok_or_else(|| RpcError::invalid_params(&format!("missing argument {}", index + 1)))
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Row, RpcError> {
    value.as_object().ok_or_else(|| RpcError::invalid_params(&format!("{what} must be an object")))
}

fn reject_unknown(fields: &Row, allowed: &[&str], what: &str) -> Result<(), RpcError> {
    match fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => {
            Err(RpcError::invalid_params(&format!("unknown {what} field `{unknown}`")))
        }
        None => Ok(()),
    }
}

fn uid_of(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The current time as OTYS writes datetimes: `YYYY-MM-DD HH:MM:SS` (UTC here).
pub fn now() -> String {
    let text = ats_host::time::format_ms(ats_host::time::now_ms());
    text.get(..19).unwrap_or(&text).replacen('T', " ", 1)
}

/// RFC 3339 (`2026-03-01T10:00:00Z`) → the OTYS datetime form.
pub fn otys_datetime(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replacen('T', " ", 1)
}

pub fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

pub fn phones_of(person: &Value) -> Vec<String> {
    person
        .get("PhoneNumbers")
        .and_then(Value::as_object)
        .map(|slots| {
            slots
                .values()
                .filter_map(|slot| slot.get("phoneNumber").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Store {
    pub fn new() -> Self {
        let mut store = Self::default();
        let pipeline: [&[(&str, i64)]; 3] = [
            &[("Applied", 1), ("Screening", 0), ("Interview", 0), ("Offer", 0)],
            &[("Open", 1), ("On hold", 0)],
            &[("Normal", 1), ("Priority", 0)],
        ];
        for (level, statuses) in pipeline.iter().enumerate() {
            for (index, (code, event)) in statuses.iter().enumerate() {
                let uid = (level + 1) * 100 + index + 1;
                store.statuses[level].push(row(json!({
                    "uid": uid.to_string(), "code": code, "automaticallySelectEvent": event,
                })));
            }
        }
        store
    }

    fn next_uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    pub fn add_vacancy(&mut self, title: &str, modified: &str) -> String {
        let uid = self.next_uid();
        let datetime = otys_datetime(modified);
        self.vacancies.insert(
            uid,
            row(json!({
                "uid": uid.to_string(), "title": title, "referenceNr": format!("VAC-{uid}"),
                "entryDateTime": datetime, "lastModified": datetime, "statusId": 1,
                "publicationStatus": "published", "location": "Utrecht", "user": "recruiter@otys.example",
                "userId": 7,
            })),
        );
        uid.to_string()
    }

    pub fn touch_vacancy(&mut self, uid: &str, title: &str, modified: &str) {
        if let Some(vacancy) = uid.parse().ok().and_then(|uid: u64| self.vacancies.get_mut(&uid)) {
            vacancy.insert("title".into(), json!(title));
            vacancy.insert("lastModified".into(), json!(otys_datetime(modified)));
        }
    }

    pub fn vacancy_list(&self, args: &[Value]) -> Result<Value, RpcError> {
        let options = ListOptions::parse(arg(args, 0)?)?;
        if options.search.is_some() {
            return Err(RpcError::invalid_params("VacancyService.getListEx: unsupported `search`"));
        }
        options.answer(self.vacancies.values(), &VACANCY_FIELDS)
    }

    pub fn status_list(&self, level: usize, args: &[Value]) -> Result<Value, RpcError> {
        let options = ListOptions::parse(arg(args, 0)?)?;
        let answer = options.answer(self.statuses[level - 1].iter(), &STATUS_FIELDS)?;
        Ok(answer.get("listOutput").cloned().unwrap_or(Value::Array(Vec::new())))
    }

    pub fn candidate_list(&self, args: &[Value]) -> Result<Value, RpcError> {
        let options = ListOptions::parse(arg(args, 0)?)?;
        let Some(search) = options.search else {
            return options.answer(self.candidates.values(), &CANDIDATE_FIELDS);
        };
        let keywords = search
            .pointer("/ACTONOMY/DATA/keywords")
            .ok_or_else(|| RpcError::invalid_params("search without ACTONOMY.DATA.keywords"))?;
        let lists: Vec<&str> = keywords
            .pointer("/options/searchList")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if lists.is_empty() || lists.iter().any(|l| !SEARCH_LISTS.contains(l)) {
            return Err(RpcError::invalid_params(&format!("unknown searchList {lists:?}")));
        }
        let wanted = keywords.get("value").and_then(Value::as_str).unwrap_or("").trim_matches('"');
        let hits = self.candidates.values().filter(|candidate| {
            let person = candidate.get("Person").cloned().unwrap_or(Value::Null);
            lists.iter().any(|list| match *list {
                "emailAddress" => person
                    .get("emailPrimary")
                    .and_then(Value::as_str)
                    .is_some_and(|e| !wanted.is_empty() && e.eq_ignore_ascii_case(wanted)),
                _ => {
                    !digits(wanted).is_empty()
                        && phones_of(&person).iter().any(|p| digits(p) == digits(wanted))
                }
            })
        });
        options.answer(hits, &CANDIDATE_FIELDS)
    }

    pub fn candidate_detail(&self, args: &[Value]) -> Result<Value, RpcError> {
        let uid =
            uid_of(arg(args, 0)?).ok_or_else(|| RpcError::invalid_params("bad candidate uid"))?;
        let candidate =
            self.candidates.get(&uid).ok_or_else(|| RpcError::not_found("Candidate"))?;
        match args.get(1) {
            Some(what) if what.is_object() => super::listing::project(candidate, what),
            _ => Ok(Value::Object(candidate.clone())),
        }
    }

    fn validate_person(person: &Row) -> Result<(), RpcError> {
        reject_unknown(person, &PERSON_KEYS, "Person")?;
        if let Some(phones) = person.get("PhoneNumbers") {
            for (slot, phone) in object(phones, "PhoneNumbers")? {
                if slot == "DELETE" {
                    continue;
                }
                let phone = object(phone, "a phone number")?;
                reject_unknown(phone, &["type", "phoneNumber"], "phone number")?;
                if !phone.get("phoneNumber").is_some_and(Value::is_string) {
                    return Err(RpcError::invalid_params("phone number without `phoneNumber`"));
                }
            }
        }
        Ok(())
    }

    pub fn candidate_add(&mut self, args: &[Value]) -> Result<Value, RpcError> {
        let fields = object(arg(args, 0)?, "the candidate")?;
        reject_unknown(fields, &CANDIDATE_KEYS, "candidate")?;
        let person = object(
            fields.get("Person").ok_or_else(|| RpcError::invalid_params("`Person` is required"))?,
            "Person",
        )?;
        Self::validate_person(person)?;
        if person.get("PhoneNumbers").is_some_and(|p| p.get("DELETE").is_some()) {
            return Err(RpcError::invalid_params("PhoneNumbers.DELETE is only valid on update"));
        }
        let uid = self.next_uid();
        let mut candidate = fields.clone();
        let stamp = now();
        candidate.insert("uid".into(), json!(uid.to_string()));
        candidate.insert("entryDateTime".into(), json!(stamp));
        candidate.insert("lastModified".into(), json!(stamp));
        self.candidates.insert(uid, candidate);
        Ok(json!(uid.to_string()))
    }

    pub fn candidate_update_ex(&mut self, args: &[Value]) -> Result<Value, RpcError> {
        let uid =
            uid_of(arg(args, 0)?).ok_or_else(|| RpcError::invalid_params("bad candidate uid"))?;
        let changes = object(arg(args, 1)?, "the changes")?;
        reject_unknown(changes, &CANDIDATE_KEYS, "candidate")?;
        if let Some(person) = changes.get("Person") {
            Self::validate_person(object(person, "Person")?)?;
        }
        let candidate =
            self.candidates.get_mut(&uid).ok_or_else(|| RpcError::not_found("Candidate"))?;
        for (key, value) in changes {
            if key != "Person" {
                candidate.insert(key.clone(), value.clone());
                continue;
            }
            let stored = candidate.entry("Person").or_insert_with(|| json!({}));
            for (field, new) in value.as_object().into_iter().flatten() {
                if field != "PhoneNumbers" {
                    stored[field.as_str()] = new.clone();
                    continue;
                }
                // With `DELETE` the list is replaced; without, the numbers are added.
                let mut slots = if new.get("DELETE").is_some() {
                    Row::new()
                } else {
                    stored
                        .get("PhoneNumbers")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default()
                };
                for (slot, phone) in new.as_object().into_iter().flatten() {
                    if slot != "DELETE" {
                        let key = if slots.contains_key(slot) {
                            format!("{}", slots.len() + 1)
                        } else {
                            slot.clone()
                        };
                        slots.insert(key, phone.clone());
                    }
                }
                stored["PhoneNumbers"] = Value::Object(slots);
            }
        }
        candidate.insert("lastModified".into(), json!(now()));
        Ok(json!(uid.to_string()))
    }

    pub fn procedure_list(&self, args: &[Value]) -> Result<Value, RpcError> {
        let options = ListOptions::parse(arg(args, 0)?)?;
        if options.search.is_some() {
            return Err(RpcError::invalid_params(
                "ProcedureService.getListEx: unsupported `search`",
            ));
        }
        options.answer(self.procedures.values(), &PROCEDURE_FIELDS)
    }

    /// `{uid: "<level>_<status uid>"}` → the stored form `{uid, code}` of that status.
    fn status_ref(&self, level: usize, value: &Value) -> Result<Value, RpcError> {
        let reference = value.get("uid").and_then(Value::as_str).unwrap_or("");
        let uid = reference.strip_prefix(&format!("{level}_")).ok_or_else(|| {
            RpcError::invalid_params(&format!(
                "ProcedureStatus{level}.uid must be `{level}_<uid>`, got `{reference}`"
            ))
        })?;
        let status = self.statuses[level - 1]
            .iter()
            .find(|s| s.get("uid").and_then(Value::as_str) == Some(uid))
            .ok_or_else(|| RpcError::not_found(&format!("ProcedureStatus{level} {uid}")))?;
        Ok(json!({ "uid": uid, "code": status.get("code") }))
    }

    fn apply_procedure_fields(&self, target: &mut Row, fields: &Row) -> Result<(), RpcError> {
        for (key, value) in fields {
            let stored = match key.strip_prefix("ProcedureStatus").and_then(|l| l.parse().ok()) {
                Some(level @ 1..=3) => self.status_ref(level, value)?,
                _ if key == "KillerQuestions" => {
                    let answers = value.as_array().ok_or_else(|| {
                        RpcError::invalid_params("KillerQuestions must be a list of texts")
                    })?;
                    if !answers.iter().all(Value::is_string) {
                        return Err(RpcError::invalid_params("KillerQuestions must be texts"));
                    }
                    value.clone()
                }
                _ => value.clone(),
            };
            target.insert(key.clone(), stored);
        }
        Ok(())
    }

    /// Adds a procedure. Like OWS, the fake does not refuse a second procedure for the same
    /// candidate and vacancy: clients check first (research §1.5).
    pub fn procedure_add(&mut self, args: &[Value]) -> Result<Value, RpcError> {
        let fields = object(arg(args, 0)?, "the procedure")?;
        reject_unknown(fields, &PROCEDURE_KEYS, "procedure")?;
        let candidate = fields.get("candidateUid").and_then(uid_of);
        let vacancy = fields.get("vacancyUid").and_then(uid_of);
        if !candidate.is_some_and(|uid| self.candidates.contains_key(&uid)) {
            return Err(RpcError::not_found("Candidate"));
        }
        if !vacancy.is_some_and(|uid| self.vacancies.contains_key(&uid)) {
            return Err(RpcError::not_found("Vacancy"));
        }
        let mut procedure = Row::new();
        self.apply_procedure_fields(&mut procedure, fields)?;
        let uid = self.next_uid();
        let stamp = now();
        procedure.insert("uid".into(), json!(uid.to_string()));
        procedure.insert("entryDateTime".into(), json!(stamp));
        procedure.insert("lastModified".into(), json!(stamp));
        self.procedures.insert(uid, procedure);
        Ok(json!(uid.to_string()))
    }

    pub fn procedure_update(&mut self, args: &[Value]) -> Result<Value, RpcError> {
        let uid =
            uid_of(arg(args, 0)?).ok_or_else(|| RpcError::invalid_params("bad procedure uid"))?;
        let changes = object(arg(args, 1)?, "the changes")?;
        reject_unknown(changes, &PROCEDURE_KEYS[2..], "procedure update")?;
        let mut procedure =
            self.procedures.get(&uid).cloned().ok_or_else(|| RpcError::not_found("Procedure"))?;
        self.apply_procedure_fields(&mut procedure, changes)?;
        procedure.insert("lastModified".into(), json!(now()));
        self.procedures.insert(uid, procedure);
        Ok(json!(true))
    }

    pub fn store_file(&mut self, filename: String, content: Vec<u8>) -> String {
        let ouid = format!("file-{}", self.next_uid());
        self.files.insert(ouid.clone(), (filename, content));
        ouid
    }

    pub fn document_add(&mut self, args: &[Value]) -> Result<Value, RpcError> {
        let fields = object(arg(args, 0)?, "the document")?;
        reject_unknown(fields, &DOCUMENT_KEYS, "document")?;
        let candidate = fields.get("candidateUid").and_then(uid_of);
        if !candidate.is_some_and(|uid| self.candidates.contains_key(&uid)) {
            return Err(RpcError::not_found("Candidate"));
        }
        let file = fields.get("fileUid").and_then(Value::as_str).unwrap_or("");
        if !self.files.contains_key(file) {
            return Err(RpcError::not_found("File"));
        }
        if !fields.get("typeId").is_some_and(Value::is_u64) {
            return Err(RpcError::invalid_params("`typeId` must be a number"));
        }
        let uid = self.next_uid();
        let mut document = fields.clone();
        document.insert("uid".into(), json!(uid.to_string()));
        self.documents.push(document);
        Ok(json!(uid.to_string()))
    }
}
