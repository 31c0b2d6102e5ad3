//! [`FakeAts`] for [`OtysFake`]: the connector's config and secrets, seeding and touching
//! vacancies, sessions, webhooks and the candidates (with their applications, documents and
//! sources) as the generic conformance kit reads them.

use super::documents::application_documents;
use super::store;
use super::vacancies::enrich_vacancy;
use super::{OtysFake, lock, text};
use crate::fakes::{FakeApplication, FakeAts, FakeCandidate, Faults};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl FakeAts for OtysFake {
    fn connector_package(&self) -> &'static str {
        "connector-otys"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![("base-url".into(), self.base_url()), ("api-key".into(), self.shared.api_key.clone())]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        vec![
            ("base-url".into(), self.base_url()),
            ("api-key".into(), "otys-revoked-key-0000".into()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.api_key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        let first = store.vacancies.len();
        (0..count)
            .map(|n| {
                let uid = store.add_vacancy(&format!("Vacancy {}", first + n + 1), updated_at);
                let number = uid.parse::<u64>().unwrap_or_default();
                if let Some(vacancy) = store.vacancies.get_mut(&number) {
                    enrich_vacancy(vacancy, number);
                }
                uid
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        lock(&self.shared.store).touch_vacancy(id, title, updated_at);
    }

    fn auth_count(&self) -> usize {
        self.shared.logins.load(Ordering::SeqCst)
    }

    fn expire_sessions(&self) {
        let past = Instant::now();
        for session in lock(&self.shared.sessions).values_mut() {
            session.expires = past;
        }
    }

    fn webhooks(&self) -> Vec<(String, String)> {
        self.webhook_subscriptions().into_iter().map(|(uid, _, url, _)| (uid, url)).collect()
    }

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.shared.store);
        store
            .candidates
            .values()
            .map(|candidate| {
                let uid = text(candidate.get("uid"));
                let person = candidate.get("Person").cloned().unwrap_or(Value::Null);
                let applications = store
                    .procedures
                    .values()
                    .filter(|p| text(p.get("candidateUid")) == uid)
                    .map(|p| FakeApplication {
                        id: text(p.get("uid")),
                        job_id: text(p.get("vacancyUid")),
                        stage_id: p
                            .get("ProcedureStatus1")
                            .map(|s| format!("1_{}", text(s.get("uid")))),
                        source: utm_source(p),
                        answers_text: p
                            .get("KillerQuestions")
                            .and_then(Value::as_array)
                            .map(|answers| {
                                answers
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join("\n")
                            })
                            .unwrap_or_default(),
                        rejected_reason: None,
                        result_text: application_documents(&store, &uid, p),
                    })
                    .collect();
                let attachments = store
                    .documents
                    .iter()
                    .filter(|d| text(d.get("candidateUid")) == uid)
                    .filter_map(|d| store.files.get(&text(d.get("fileUid"))).cloned())
                    .collect();
                FakeCandidate {
                    id: uid.clone(),
                    first_name: text(person.get("firstName")),
                    last_name: text(person.get("lastName")),
                    emails: person
                        .get("emailPrimary")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .into_iter()
                        .collect(),
                    phones: store::phones_of(&person),
                    notes: Vec::new(),
                    tags: utm_source(candidate).into_iter().collect(),
                    attachments,
                    applications,
                }
            })
            .collect()
    }
}

/// The `UtmTags.source` of a candidate or procedure: where OTYS records a source.
fn utm_source(row: &store::Row) -> Option<String> {
    row.get("UtmTags")?.get("source")?.as_str().map(str::to_string)
}
