//! [`FakeAts`] for [`RecruiteeFake`]: the config pointing at the fake, seeding, and the view of
//! what landed.

use super::*;

impl FakeAts for RecruiteeFake {
    fn connector_package(&self) -> &'static str {
        "recruitee"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![
            ("company-id".into(), COMPANY.into()),
            ("api-token".into(), self.shared.token.clone()),
            ("base-url".into(), self.base_url.clone()),
        ]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        vec![
            ("company-id".into(), COMPANY.into()),
            ("api-token".into(), "rc-personal-token-revoked".into()),
            ("base-url".into(), self.base_url.clone()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.token.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        (0..count)
            .map(|n| {
                let id = self.shared.id();
                store.offers.push(Offer {
                    id,
                    title: format!("Data Engineer {n}"),
                    status: "published".into(),
                    updated_at: updated_at.to_string(),
                });
                id.to_string()
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        let mut store = lock(&self.shared.store);
        if let Some(offer) = store.offers.iter_mut().find(|o| o.id.to_string() == id) {
            offer.title = title.to_string();
            offer.updated_at = updated_at.to_string();
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
            .map(|c| {
                let (first, last) = c.name.split_once(' ').unwrap_or((c.name.as_str(), ""));
                FakeCandidate {
                    id: c.id.to_string(),
                    first_name: first.to_string(),
                    last_name: last.to_string(),
                    emails: c.emails.clone(),
                    phones: c.phones.clone(),
                    notes: c.notes.clone(),
                    tags: Vec::new(),
                    attachments: c.attachments.clone(),
                    applications: store
                        .placements
                        .iter()
                        .filter(|p| p.candidate_id == c.id)
                        .map(|p| FakeApplication {
                            id: p.id.to_string(),
                            job_id: p.offer_id.to_string(),
                            stage_id: Some(p.stage_id.to_string()),
                            ..Default::default()
                        })
                        .collect(),
                }
            })
            .collect()
    }
}
