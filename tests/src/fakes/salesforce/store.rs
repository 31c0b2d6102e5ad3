//! The records of the fake Salesforce org: an sObject schema per object (the Tigris and
//! MySolution package objects from research §3/§4, and the standard `Contact` and
//! `ContentVersion`), inserts and patches with Salesforce's validation (unknown field,
//! read-only field, wrong type, required field, bad reference) and the org's e-mail
//! duplicate rule on `Contact` (`DUPLICATES_DETECTED` with a `duplicateResult`).

use super::SfError;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub type Record = Map<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
    DateTime,
    Number,
    /// A reference to another record (any object).
    Reference,
    /// Base64 on input, stored decoded (ContentVersion.VersionData).
    Blob,
}

pub struct Schema {
    pub name: &'static str,
    /// The 3-character key prefix of the object's record ids.
    pub prefix: &'static str,
    pub fields: &'static [(&'static str, Kind)],
    pub required: &'static [&'static str],
}

/// Fields every object has; the API may read but never write them.
pub const SYSTEM_FIELDS: &[(&str, Kind)] = &[
    ("Id", Kind::Reference),
    ("CreatedDate", Kind::DateTime),
    ("LastModifiedDate", Kind::DateTime),
    ("SystemModstamp", Kind::DateTime),
];

pub const VACANCY: &str = "Tigris__Vacancy__c";
pub const SOLLICITATIE: &str = "Tigris__Sollicitatie__c";
/// The field linking an intake to its vacancy (the vacancy's id or its external id).
pub const SOLLICITATION_LINK: &str = "Tigris__Extern_vacature_ID__c";
pub const MSF_JOB: &str = "msf__Job__c";
/// Where the fake's `Apply` endpoint stores applications. The real object name is not
/// public (research §3.4); connectors never read it.
pub const MSF_APPLICATION: &str = "msf__Job_Application__c";
/// A stand-in pipeline object (stage names are not public for either package); seeded with
/// three stages so the org has a pipeline, read by no default connector configuration.
pub const STAGE: &str = "Pipeline_Stage__c";
/// A stand-in lookup from an application record to its stage (mapped as the connectors'
/// `application-stage-field` in tests).
pub const STAGE_LINK: &str = "Pipeline_Stage__c";

pub const SCHEMAS: &[Schema] = &[
    Schema {
        name: VACANCY,
        prefix: "a0V",
        fields: &[
            ("Name", Kind::Text),
            ("Tigris__Vacature_omschrijving__c", Kind::Text),
            ("Tigris__Introductie__c", Kind::Text),
            ("Tigris__Gevraagd_wordt__c", Kind::Text),
            ("Tigris__Geboden_wordt__c", Kind::Text),
            ("Tigris__Bedrijfsomschrijving__c", Kind::Text),
            ("Tigris__Branche__c", Kind::Text),
            ("Tigris__Functiegroep__c", Kind::Text),
            ("Tigris__Plaats__c", Kind::Text),
            ("Tigris__Office__c", Kind::Text),
            ("Tigris__Uren_per_week__c", Kind::Number),
            ("Tigris__Soort_dienstverband__c", Kind::Text),
            ("Tigris__Geplaatst__c", Kind::Bool),
            ("Tigris__Offline__c", Kind::Bool),
            ("Tigris__Owner_name__c", Kind::Text),
            ("Tigris__Vacature_url__c", Kind::Text),
            ("Tigris__Extern_vacature_ID__c", Kind::Text),
        ],
        required: &["Name"],
    },
    Schema {
        name: SOLLICITATIE,
        prefix: "a0S",
        fields: &[
            ("Tigris__Voornaam_kandidaat__c", Kind::Text),
            ("Tigris__Achternaam_kandidaat__c", Kind::Text),
            ("Tigris__Email__c", Kind::Text),
            ("Tigris__Telefoonnummer__c", Kind::Text),
            ("Tigris__Land__c", Kind::Text),
            ("Tigris__Extern_vacature_ID__c", Kind::Text),
            ("Tigris__UTM_url__c", Kind::Text),
            ("Tigris__Opmerking__c", Kind::Text),
            (STAGE_LINK, Kind::Reference),
        ],
        required: &["Tigris__Achternaam_kandidaat__c", "Tigris__Email__c"],
    },
    Schema {
        name: "Contact",
        prefix: "003",
        fields: &[
            ("FirstName", Kind::Text),
            ("LastName", Kind::Text),
            ("Email", Kind::Text),
            ("Phone", Kind::Text),
            ("MobilePhone", Kind::Text),
            ("LeadSource", Kind::Text),
            // A custom field of this org, mapped as the connectors' `tag-field` in tests.
            ("Tags__c", Kind::Text),
        ],
        required: &["LastName"],
    },
    Schema {
        name: "Note",
        prefix: "002",
        fields: &[("ParentId", Kind::Reference), ("Title", Kind::Text), ("Body", Kind::Text)],
        required: &["ParentId", "Title"],
    },
    Schema {
        name: "ContentVersion",
        prefix: "068",
        fields: &[
            ("Title", Kind::Text),
            ("PathOnClient", Kind::Text),
            ("VersionData", Kind::Blob),
            ("FirstPublishLocationId", Kind::Reference),
            ("ContentDocumentId", Kind::Reference),
        ],
        required: &["PathOnClient", "VersionData"],
    },
    Schema {
        name: MSF_JOB,
        prefix: "a0J",
        fields: &[
            ("Name", Kind::Text),
            ("msf__Title__c", Kind::Text),
            ("msf__Job_Description__c", Kind::Text),
            ("msf__Job_Requirements__c", Kind::Text),
            ("msf__Employment_Conditions__c", Kind::Text),
            ("msf__Work_Address_City__c", Kind::Text),
            ("msf__Recruiter__c", Kind::Text),
            ("msf__Show_On_Website__c", Kind::Bool),
        ],
        required: &["Name"],
    },
    Schema {
        name: MSF_APPLICATION,
        prefix: "a0A",
        fields: &[
            ("msf__Job__c", Kind::Reference),
            ("msf__Contact__c", Kind::Reference),
            ("msf__Motivation__c", Kind::Text),
            ("msf__Utm_Source__c", Kind::Text),
            (STAGE_LINK, Kind::Reference),
        ],
        required: &["msf__Job__c", "msf__Contact__c"],
    },
    // Readable by every API user (`SELECT Id, Name FROM Organization`).
    Schema { name: "Organization", prefix: "00D", fields: &[("Name", Kind::Text)], required: &[] },
    Schema {
        name: STAGE,
        prefix: "a0P",
        fields: &[("Name", Kind::Text), ("Position__c", Kind::Number)],
        required: &["Name"],
    },
];

/// The schema of `object` (API names are case-insensitive).
pub fn schema(object: &str) -> Result<&'static Schema, SfError> {
    SCHEMAS.iter().find(|s| s.name.eq_ignore_ascii_case(object)).ok_or_else(|| {
        SfError::new(404, "NOT_FOUND", &format!("The requested resource does not exist: {object}"))
    })
}

impl Schema {
    /// The canonical name and kind of `field` on this object, system fields included.
    pub fn field(&self, field: &str) -> Option<(&'static str, Kind)> {
        SYSTEM_FIELDS
            .iter()
            .chain(self.fields.iter())
            .find(|(name, _)| name.eq_ignore_ascii_case(field))
            .copied()
    }

    pub fn no_such_column(&self, field: &str) -> SfError {
        SfError::new(
            400,
            "INVALID_FIELD",
            &format!("No such column '{field}' on entity '{}'.", self.name),
        )
    }
}

/// `2026-03-01T10:00:00Z` (or any RFC 3339 shape) → Salesforce's `2026-03-01T10:00:00.000+0000`.
pub fn sf_datetime(rfc3339: &str) -> String {
    let head = rfc3339.get(..19).unwrap_or(rfc3339);
    format!("{head}.000+0000")
}

/// The current UTC time as Salesforce writes it.
pub fn now() -> String {
    sf_datetime(&ats_host::time::format_ms(ats_host::time::now_ms()))
}

/// The sortable part of a Salesforce datetime (`YYYY-MM-DDTHH:MM:SS`, UTC).
pub fn datetime_key(value: &str) -> &str {
    value.get(..19).unwrap_or(value)
}

#[derive(Default)]
pub struct Store {
    pub objects: BTreeMap<&'static str, Vec<Record>>,
    counter: u64,
    /// Decoded `VersionData` of each ContentVersion, by id.
    pub blobs: BTreeMap<String, Vec<u8>>,
}

impl Store {
    pub fn new() -> Self {
        let mut store = Self::default();
        if let Value::Object(org) = json!({"Name": "Fake Staffing B.V."}) {
            store.insert_unchecked("Organization", org, "2024-01-01T00:00:00Z");
        }
        for (position, name) in ["Nieuw", "Gesprek", "Aangenomen"].into_iter().enumerate() {
            let fields = json!({"Name": name, "Position__c": position});
            if let Value::Object(fields) = fields {
                store.insert_unchecked(STAGE, fields, "2025-01-01T00:00:00Z");
            }
        }
        store
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:012}AAA", self.counter)
    }

    pub fn records(&self, object: &str) -> &[Record] {
        self.objects.get(object).map_or(&[], Vec::as_slice)
    }

    pub fn find(&self, id: &str) -> Option<(&'static str, &Record)> {
        self.objects.iter().find_map(|(object, records)| {
            records.iter().find(|r| text(r, "Id") == id).map(|r| (*object, r))
        })
    }

    fn find_mut(&mut self, object: &str, id: &str) -> Option<&mut Record> {
        self.objects.get_mut(object)?.iter_mut().find(|r| text(r, "Id") == id)
    }

    /// Adds a record as the org's own users would (no API validation), modified at
    /// `modified` (RFC 3339). Returns its id.
    pub fn insert_unchecked(
        &mut self,
        object: &'static str,
        mut fields: Record,
        modified: &str,
    ) -> String {
        let prefix = schema(object).map_or("a00", |s| s.prefix);
        let id = self.new_id(prefix);
        let stamp = sf_datetime(modified);
        fields.insert("Id".into(), json!(id));
        fields.insert("CreatedDate".into(), json!(stamp));
        fields.insert("LastModifiedDate".into(), json!(stamp));
        fields.insert("SystemModstamp".into(), json!(stamp));
        self.objects.entry(object).or_default().push(fields);
        id
    }

    /// Sets `fields` on a record as the org's users would, modified at `modified`.
    pub fn update_unchecked(&mut self, object: &str, id: &str, fields: Record, modified: &str) {
        let stamp = sf_datetime(modified);
        if let Some(record) = self.find_mut(object, id) {
            record.extend(fields);
            record.insert("LastModifiedDate".into(), json!(stamp));
            record.insert("SystemModstamp".into(), json!(stamp));
        }
    }

    /// `POST /sobjects/{object}`: validates like Salesforce, applies the duplicate rule.
    pub fn insert(&mut self, object: &str, body: &Value) -> Result<String, SfError> {
        let schema = schema(object)?;
        let fields = self.validate(schema, body, true)?;
        self.check_duplicates(schema, &fields, None)?;
        let mut fields = fields;
        let mut blob = None;
        if schema.name == "ContentVersion" {
            blob = fields.remove("VersionData");
            fields.insert("ContentDocumentId".into(), json!(self.new_id("069")));
        }
        let id = self.insert_unchecked(schema.name, fields, &now()[..19]);
        if let Some(Value::String(encoded)) = blob {
            let bytes = decode_base64(&encoded).unwrap_or_default();
            self.blobs.insert(id.clone(), bytes);
        }
        Ok(id)
    }

    /// `PATCH /sobjects/{object}/{id}`.
    pub fn update(&mut self, object: &str, id: &str, body: &Value) -> Result<(), SfError> {
        let schema = schema(object)?;
        if self.find_mut(schema.name, id).is_none() {
            return Err(SfError::new(404, "NOT_FOUND", "The requested resource does not exist"));
        }
        let fields = self.validate(schema, body, false)?;
        self.check_duplicates(schema, &fields, Some(id))?;
        self.update_unchecked(schema.name, id, fields, &now()[..19]);
        Ok(())
    }

    fn validate(&self, schema: &Schema, body: &Value, creating: bool) -> Result<Record, SfError> {
        let Value::Object(input) = body else {
            return Err(SfError::new(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from non-object value",
            ));
        };
        let mut fields = Record::new();
        for (name, value) in input {
            let Some((canonical, kind)) = schema.field(name) else {
                return Err(SfError::new(
                    400,
                    "INVALID_FIELD",
                    &format!("No such column '{name}' on sobject of type {}", schema.name),
                ));
            };
            if SYSTEM_FIELDS.iter().any(|(system, _)| *system == canonical)
                || canonical == "ContentDocumentId"
            {
                return Err(SfError::with_fields(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    &format!("Unable to create/update fields: {canonical}."),
                    canonical,
                ));
            }
            let type_ok = match (kind, value) {
                (_, Value::Null) => true,
                (Kind::Bool, v) => v.is_boolean(),
                (Kind::Number, v) => v.is_number(),
                (Kind::Blob, Value::String(s)) => decode_base64(s).is_some(),
                (_, v) => v.is_string(),
            };
            if !type_ok {
                return Err(SfError::new(
                    400,
                    "JSON_PARSER_ERROR",
                    &format!("Cannot deserialize value for field {canonical} of type {kind:?}"),
                ));
            }
            if kind == Kind::Reference
                && let Value::String(target) = value
                && self.find(target).is_none()
            {
                return Err(SfError::with_fields(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    &format!("invalid cross reference id: {target}"),
                    canonical,
                ));
            }
            fields.insert(canonical.to_string(), value.clone());
        }
        if creating {
            for required in schema.required {
                let present =
                    fields.get(*required).is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
                if !present {
                    return Err(SfError::with_fields(
                        400,
                        "REQUIRED_FIELD_MISSING",
                        &format!("Required fields are missing: [{required}]"),
                        required,
                    ));
                }
            }
        }
        Ok(fields)
    }

    /// The org's duplicate rule: no two Contacts share an e-mail address. Like Salesforce's
    /// matching rules it compares normalised values (case and surrounding blanks ignored),
    /// so it can match a record an exact SOQL `=` misses.
    fn check_duplicates(
        &self,
        schema: &Schema,
        fields: &Record,
        updating: Option<&str>,
    ) -> Result<(), SfError> {
        if schema.name != "Contact" {
            return Ok(());
        }
        let Some(email) = fields.get("Email").and_then(Value::as_str).filter(|e| !e.is_empty())
        else {
            return Ok(());
        };
        let matches: Vec<&Record> = self
            .records("Contact")
            .iter()
            .filter(|r| Some(text(r, "Id").as_str()) != updating)
            .filter(|r| text(r, "Email").trim().eq_ignore_ascii_case(email.trim()))
            .collect();
        if matches.is_empty() {
            return Ok(());
        }
        let message =
            "You're creating a duplicate record. We recommend you use an existing record instead.";
        let match_records: Vec<Value> = matches
            .iter()
            .map(|r| {
                let id = text(r, "Id");
                json!({
                    "additionalInformation": [],
                    "fieldDiffs": [],
                    "matchConfidence": 100.0,
                    "record": {
                        "attributes": {"type": "Contact", "url": format!("/services/data/v60.0/sobjects/Contact/{id}")},
                        "Id": id,
                    }
                })
            })
            .collect();
        Err(SfError {
            status: 400,
            body: json!([{
                "duplicateResult": {
                    "allowSave": false,
                    "duplicateRule": "Standard_Contact_Duplicate_Rule",
                    "duplicateRuleEntityType": "Contact",
                    "errorMessage": message,
                    "matchResults": [{
                        "entityType": "Contact",
                        "errors": [],
                        "matchEngine": "ExactMatchEngine",
                        "matchRecords": match_records,
                        "rule": "Standard_Match_Rule_v1_0",
                        "size": matches.len(),
                        "success": true,
                    }],
                },
                "errorCode": "DUPLICATES_DETECTED",
                "fields": [],
                "message": message,
            }]),
        })
    }
}

/// A record's field as text ("" when absent or not text).
pub fn text(record: &Record, field: &str) -> String {
    match record.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

pub fn decode_base64(encoded: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(encoded).ok()
}
