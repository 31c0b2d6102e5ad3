//! [`FakeAts`] for [`WorkableFake`]: the config pointing at the fake, seeding, and the view of
//! what landed.

use super::*;

impl FakeAts for WorkableFake {
    fn connector_package(&self) -> &'static str {
        "workable"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![
            ("subdomain".into(), SUBDOMAIN.into()),
            ("api-token".into(), self.shared.token.clone()),
            ("member-id".into(), MEMBER.into()),
            ("base-url".into(), self.base_url.clone()),
        ]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        let mut config = self.config();
        config[1].1 = "wk-account-token-revoked".into();
        config
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.token.clone()]
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
                let seq = self.shared.seq.fetch_add(1, Ordering::SeqCst);
                let shortcode = format!("{:X}", 0xA000_0000u64 + seq);
                store.jobs.push(Job {
                    seq,
                    id: format!("{:x}", 0x6100_0000u64 + seq),
                    shortcode: shortcode.clone(),
                    title: format!("Robotics Engineer {n}"),
                    updated_ms,
                });
                shortcode
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        let updated_ms =
            ats_host::time::parse_ms(updated_at).expect("touch timestamps are RFC 3339");
        let mut store = lock(&self.shared.store);
        if let Some(job) = store.jobs.iter_mut().find(|j| j.shortcode == id) {
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
        let mut people: Vec<FakeCandidate> = Vec::new();
        for c in &store.candidates {
            let key = c.email.to_lowercase();
            let index = match people.iter().position(|p| {
                !key.is_empty() && p.emails.first().map(|e| e.to_lowercase()) == Some(key.clone())
            }) {
                Some(index) => index,
                None => {
                    people.push(FakeCandidate {
                        id: c.id.clone(),
                        first_name: c.firstname.clone(),
                        last_name: c.lastname.clone(),
                        emails: if c.email.is_empty() { vec![] } else { vec![c.email.clone()] },
                        phones: if c.phone.is_empty() { vec![] } else { vec![c.phone.clone()] },
                        ..Default::default()
                    });
                    people.len() - 1
                }
            };
            let person = &mut people[index];
            for (body, attachment) in &c.comments {
                person.notes.push(body.clone());
                if let Some(file) = attachment {
                    person.attachments.push(file.clone());
                }
            }
            if let Some(job) = &c.job {
                person.applications.push(FakeApplication {
                    id: c.id.clone(),
                    job_id: job.clone(),
                    stage_id: c.stage.clone(),
                    rejected_reason: c
                        .disqualified
                        .then(|| c.disqualify_note.clone().unwrap_or_default()),
                    result_text: c
                        .comments
                        .iter()
                        .map(|(b, _)| b.as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    ..Default::default()
                });
            }
        }
        people
    }
}
