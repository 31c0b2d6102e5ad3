//! `[gaps]`: what the ATS's API cannot do that the conformance kit checks, each with why.
//! A gap belongs to the connector, not to its test: the authors' kit (`ats-host connector
//! test`) and the repository's kit read it from the manifest, expect exactly those checks
//! to fail, and report them as known gaps; a declared gap whose check passes is a failure
//! (the manifest or the README is out of date).

use serde::{Deserialize, Serialize};

/// The known gaps a manifest may declare; each value is the reason shown in reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gaps {
    /// The API has no "changed since" filter on jobs: a read with `since` returns every job.
    pub job_since_filter: Option<String>,
    /// Candidates cannot be looked up by phone: the same phone again makes a new candidate.
    pub phone_lookup: Option<String>,
    /// The application list also returns records that name no job (prospects, talent
    /// pools).
    pub applications_without_job: Option<String>,
}

impl Gaps {
    /// The declared gaps as `(key, reason)`, in the order above.
    pub fn declared(&self) -> Vec<(&'static str, &str)> {
        [
            ("job_since_filter", &self.job_since_filter),
            ("phone_lookup", &self.phone_lookup),
            ("applications_without_job", &self.applications_without_job),
        ]
        .into_iter()
        .filter_map(|(key, reason)| Some((key, reason.as_deref()?)))
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.declared().is_empty()
    }

    /// Empty reasons, as (key, problem): a gap must say why, for the reports and README.
    pub(crate) fn problems(&self) -> Vec<(&'static str, String)> {
        self.declared()
            .into_iter()
            .filter(|(_, reason)| reason.trim().is_empty())
            .map(|(key, _)| {
                (key, format!("say why the ATS cannot do this, e.g. {key} = \"the API ...\""))
            })
            .collect()
    }
}
