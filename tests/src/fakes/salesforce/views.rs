//! The two [`FakeAts`] views of the one fake org: [`TigrisFake`] (jobs are
//! `Tigris__Vacancy__c`, applications land as `Tigris__Sollicitatie__c` intake records
//! linked to a job by `Tigris__Extern_vacature_ID__c` and to a candidate by e-mail) and
//! [`MySolutionFake`] (jobs are published `msf__Job__c`, applications come in through the
//! Apex `Apply` endpoint). Candidates are `Contact`s in both; files are ContentVersions
//! linked to the candidate or to one of its applications.

use super::store::{
    MSF_APPLICATION, MSF_JOB, Record, SOLLICITATIE, SOLLICITATION_LINK, STAGE, STAGE_LINK, Store,
    VACANCY, text,
};
use super::{SalesforceOrg, lock};
use crate::fakes::{FakeApplication, FakeAts, FakeCandidate, Faults};
use serde_json::{Value, json};
use std::ops::Deref;

fn object(value: Value) -> Record {
    match value {
        Value::Object(map) => map,
        _ => Record::new(),
    }
}

fn org_config(org: &SalesforceOrg) -> Vec<(String, String)> {
    vec![
        ("login-url".into(), org.base_url()),
        ("client-id".into(), org.client_id().to_string()),
        ("client-secret".into(), org.client_secret().to_string()),
    ]
}

/// The config fields of the mappings [`mapped_config`] adds.
pub const MAPPING_FIELDS: &[&str] = &[
    "tag-field",
    "stage-object",
    "stage-order-field",
    "application-object",
    "application-stage-field",
    "application-candidate-field",
    "application-job-field",
];

/// `config` without the mappings: what a connection gets when its operator maps nothing.
pub fn unmapped(config: Vec<(String, String)>) -> Vec<(String, String)> {
    config.into_iter().filter(|(name, _)| !MAPPING_FIELDS.contains(&name.as_str())).collect()
}

/// The org config plus the mappings of this org's custom objects and fields (pipeline,
/// tags), with `application` the object applications land in.
fn mapped_config(org: &SalesforceOrg, application: &str) -> Vec<(String, String)> {
    let mut config = org_config(org);
    for (name, value) in [
        ("tag-field", "Tags__c"),
        ("stage-object", STAGE),
        ("stage-order-field", "Position__c"),
        ("application-object", application),
        ("application-stage-field", STAGE_LINK),
    ] {
        config.push((name.into(), value.into()));
    }
    config
}

fn bad_config(org: &SalesforceOrg) -> Vec<(String, String)> {
    vec![
        ("login-url".into(), org.base_url()),
        ("client-id".into(), org.client_id().to_string()),
        ("client-secret".into(), "sf-revoked-secret-0000".into()),
    ]
}

/// Flattens the org's Contacts, with the applications `applications_of` finds for each.
fn flatten(
    store: &Store,
    applications_of: impl Fn(&Record) -> Vec<FakeApplication>,
) -> Vec<FakeCandidate> {
    store
        .records("Contact")
        .iter()
        .map(|contact| {
            let id = text(contact, "Id");
            let applications = applications_of(contact);
            let linked: Vec<String> = std::iter::once(id.clone())
                .chain(applications.iter().map(|a| a.id.clone()))
                .collect();
            let attachments = store
                .records("ContentVersion")
                .iter()
                .filter(|v| linked.contains(&text(v, "FirstPublishLocationId")))
                .map(|v| {
                    let bytes = store.blobs.get(&text(v, "Id")).cloned().unwrap_or_default();
                    (text(v, "PathOnClient"), bytes)
                })
                .collect();
            let notes = store
                .records("Note")
                .iter()
                .filter(|n| linked.contains(&text(n, "ParentId")))
                .map(|n| text(n, "Body"))
                .collect();
            let non_empty = |field: &str| Some(text(contact, field)).filter(|v| !v.is_empty());
            let tags = non_empty("LeadSource")
                .into_iter()
                .chain(text(contact, "Tags__c").split(';').map(str::to_string))
                .filter(|t| !t.is_empty())
                .collect();
            FakeCandidate {
                id,
                first_name: text(contact, "FirstName"),
                last_name: text(contact, "LastName"),
                emails: non_empty("Email").into_iter().collect(),
                phones: ["Phone", "MobilePhone"].into_iter().filter_map(non_empty).collect(),
                notes,
                tags,
                attachments,
                applications,
            }
        })
        .collect()
}

/// The fake org seen as Tigris.
pub struct TigrisFake(SalesforceOrg);

impl TigrisFake {
    pub async fn start() -> Self {
        Self(SalesforceOrg::start().await)
    }

    /// Takes vacancy `id` offline (`Tigris__Offline__c = true`), as a recruiter would.
    pub fn set_offline(&self, id: &str, updated_at: &str) {
        let fields = object(json!({"Tigris__Offline__c": true}));
        lock(&self.0.org.store).update_unchecked(VACANCY, id, fields, updated_at);
    }
}

impl Deref for TigrisFake {
    type Target = SalesforceOrg;
    fn deref(&self) -> &SalesforceOrg {
        &self.0
    }
}

impl FakeAts for TigrisFake {
    fn connector_package(&self) -> &'static str {
        "connector-tigris"
    }
    fn config(&self) -> Vec<(String, String)> {
        mapped_config(&self.0, SOLLICITATIE)
    }
    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        bad_config(&self.0)
    }
    fn secrets(&self) -> Vec<String> {
        vec![self.0.client_secret().to_string()]
    }
    fn faults(&self) -> &Faults {
        self.0.faults()
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.0.org.store);
        let first = store.records(VACANCY).len();
        (0..count)
            .map(|n| {
                let fields = json!({
                    "Name": format!("Vacature {}", first + n + 1),
                    "Tigris__Plaats__c": "Utrecht",
                    "Tigris__Offline__c": false,
                    "Tigris__Geplaatst__c": true,
                });
                store.insert_unchecked(VACANCY, object(fields), updated_at)
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        let fields = object(json!({"Name": title}));
        lock(&self.0.org.store).update_unchecked(VACANCY, id, fields, updated_at);
    }

    fn auth_count(&self) -> usize {
        self.0.grants()
    }
    fn expire_sessions(&self) {
        self.0.expire_tokens();
    }

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.0.org.store);
        let job_of = |reference: &str| -> String {
            store
                .records(VACANCY)
                .iter()
                .find(|v| text(v, "Id") == reference || text(v, SOLLICITATION_LINK) == reference)
                .map(|v| text(v, "Id"))
                .unwrap_or_default()
        };
        flatten(&store, |contact| {
            let email = text(contact, "Email");
            store
                .records(SOLLICITATIE)
                .iter()
                .filter(|s| {
                    !email.is_empty() && text(s, "Tigris__Email__c").eq_ignore_ascii_case(&email)
                })
                .map(|s| FakeApplication {
                    id: text(s, "Id"),
                    job_id: job_of(&text(s, SOLLICITATION_LINK)),
                    stage_id: Some(text(s, STAGE_LINK)).filter(|v| !v.is_empty()),
                    source: Some(text(s, "Tigris__UTM_url__c")).filter(|u| !u.is_empty()),
                    answers_text: text(s, "Tigris__Opmerking__c"),
                    rejected_reason: None,
                    result_text: String::new(),
                })
                .collect()
        })
    }
}

/// The fake org seen as MySolution.
pub struct MySolutionFake(SalesforceOrg);

impl MySolutionFake {
    pub async fn start() -> Self {
        Self(SalesforceOrg::start().await)
    }

    /// Takes job `id` off the website (`msf__Show_On_Website__c = false`).
    pub fn unpublish(&self, id: &str, updated_at: &str) {
        let fields = object(json!({"msf__Show_On_Website__c": false}));
        lock(&self.0.org.store).update_unchecked(MSF_JOB, id, fields, updated_at);
    }
}

impl Deref for MySolutionFake {
    type Target = SalesforceOrg;
    fn deref(&self) -> &SalesforceOrg {
        &self.0
    }
}

impl FakeAts for MySolutionFake {
    fn connector_package(&self) -> &'static str {
        "connector-mysolution"
    }
    fn config(&self) -> Vec<(String, String)> {
        let mut config = mapped_config(&self.0, MSF_APPLICATION);
        config.push(("application-candidate-field".into(), "msf__Contact__c".into()));
        config.push(("application-job-field".into(), "msf__Job__c".into()));
        config
    }
    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        bad_config(&self.0)
    }
    fn secrets(&self) -> Vec<String> {
        vec![self.0.client_secret().to_string()]
    }
    fn faults(&self) -> &Faults {
        self.0.faults()
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.0.org.store);
        let first = store.records(MSF_JOB).len();
        (0..count)
            .map(|n| {
                let title = format!("Vacature {}", first + n + 1);
                let fields = json!({
                    "Name": format!("JOB-{:05}", first + n + 1),
                    "msf__Title__c": title,
                    "msf__Work_Address_City__c": "Amsterdam",
                    "msf__Show_On_Website__c": true,
                });
                store.insert_unchecked(MSF_JOB, object(fields), updated_at)
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        let fields = object(json!({"msf__Title__c": title}));
        lock(&self.0.org.store).update_unchecked(MSF_JOB, id, fields, updated_at);
    }

    fn auth_count(&self) -> usize {
        self.0.grants()
    }
    fn expire_sessions(&self) {
        self.0.expire_tokens();
    }

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.0.org.store);
        flatten(&store, |contact| {
            let id = text(contact, "Id");
            store
                .records(MSF_APPLICATION)
                .iter()
                .filter(|a| text(a, "msf__Contact__c") == id)
                .map(|a| FakeApplication {
                    id: text(a, "Id"),
                    job_id: text(a, "msf__Job__c"),
                    stage_id: Some(text(a, STAGE_LINK)).filter(|v| !v.is_empty()),
                    source: Some(text(a, "msf__Utm_Source__c")).filter(|s| !s.is_empty()),
                    answers_text: text(a, "msf__Motivation__c"),
                    rejected_reason: None,
                    result_text: String::new(),
                })
                .collect()
        })
    }
}
