//! [`FakeAts`] for [`TeamtailorFake`]: the config pointing at the fake, seeding, and the view of
//! what landed.

use super::*;

impl FakeAts for TeamtailorFake {
    fn connector_package(&self) -> &'static str {
        "teamtailor"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![
            ("api-key".into(), self.shared.key.clone()),
            ("api-host".into(), HOST.into()),
            ("user-id".into(), USER.into()),
            ("base-url".into(), self.base_url.clone()),
        ]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        let mut config = self.config();
        config[0].1 = "tt-admin-key-revoked".into();
        config
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let updated_ms =
            ats_host::time::parse_ms(updated_at).expect("seed timestamps are RFC 3339");
        let mut store = lock(&self.shared.store);
        (0..count)
            .map(|n| {
                let id = self.shared.id();
                let stages = STAGES.iter().map(|_| self.shared.id()).collect();
                store.jobs.push(Job {
                    id,
                    title: format!("Backend Developer {n}"),
                    updated_ms,
                    stages,
                });
                id.to_string()
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        let updated_ms =
            ats_host::time::parse_ms(updated_at).expect("touch timestamps are RFC 3339");
        let mut store = lock(&self.shared.store);
        if let Some(job) = store.jobs.iter_mut().find(|j| j.id.to_string() == id) {
            job.title = title.to_string();
            job.updated_ms = updated_ms;
        }
    }

    fn issues_sessions(&self) -> bool {
        false
    }

    fn auth_count(&self) -> usize {
        0
    }

    fn expire_sessions(&self) {}

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.shared.store);
        store
            .candidates
            .iter()
            .map(|c| FakeCandidate {
                id: c.id.to_string(),
                first_name: c.first.clone(),
                last_name: c.last.clone(),
                emails: vec![c.email.clone()],
                phones: if c.phone.is_empty() { vec![] } else { vec![c.phone.clone()] },
                notes: c.notes.clone(),
                tags: c.tags.clone(),
                attachments: Vec::new(),
                applications: store
                    .applications
                    .iter()
                    .filter(|a| a.candidate == c.id)
                    .map(|a| FakeApplication {
                        id: a.id.to_string(),
                        job_id: a.job.to_string(),
                        stage_id: Some(a.stage.to_string()),
                        answers_text: a.cover_letter.clone(),
                        ..Default::default()
                    })
                    .collect(),
            })
            .collect()
    }
}
