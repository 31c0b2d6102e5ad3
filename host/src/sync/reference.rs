//! The reference lists a jobs run refreshes beside the stages, where the connector declares
//! the read: the ATS's tags, rejection reasons and users. Each is read to its end (bounded by
//! [`MAX_PAGES`] pages and [`MAX_ENTRIES`] entries) and replaces the stored list; each is an
//! optional part of the run (a failure makes the run `partial`, never costs its jobs).

use super::SyncEngine;
use super::runner::{RunContext, Stop};
use crate::model::{Operation, PageRequest};
use crate::runtime::{Invocation, Output};
use crate::store::Run;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Most pages one list may take in one run.
pub const MAX_PAGES: usize = 50;
/// Most entries kept per list.
pub const MAX_ENTRIES: usize = 10_000;

/// A reference list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tags,
    RejectionReasons,
    Users,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Tags, Kind::RejectionReasons, Kind::Users];

    /// The store key and run part name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Tags => "tags",
            Kind::RejectionReasons => "rejection-reasons",
            Kind::Users => "users",
        }
    }

    fn operation(self) -> Operation {
        match self {
            Kind::Tags => Operation::ListTags,
            Kind::RejectionReasons => Operation::ListRejectionReasons,
            Kind::Users => Operation::ListUsers,
        }
    }

    fn invocation(self, page: PageRequest) -> Invocation {
        match self {
            Kind::Tags => Invocation::ListTags(page),
            Kind::RejectionReasons => Invocation::ListRejectionReasons(page),
            Kind::Users => Invocation::ListUsers(page),
        }
    }
}

/// One page's entries as JSON, and its next page token.
fn entries(output: Output) -> Option<(Vec<Value>, Option<String>)> {
    let text = |s: String| crate::runtime::bounds::cap_text(s, 500);
    Some(match output {
        Output::Tags(page) => (
            page.items
                .into_iter()
                .map(|t| json!({"id": text(t.id), "name": text(t.name)}))
                .collect(),
            page.next_page_token,
        ),
        Output::RejectionReasons(page) => (
            page.items
                .into_iter()
                .map(|r| json!({"id": text(r.id), "name": text(r.name)}))
                .collect(),
            page.next_page_token,
        ),
        Output::Users(page) => (
            page.items
                .into_iter()
                .map(|u| {
                    json!({
                        "id": text(u.id), "first_name": text(u.first_name),
                        "last_name": text(u.last_name), "email": u.email.map(text),
                        "active": u.active,
                    })
                })
                .collect(),
            page.next_page_token,
        ),
        _ => return None,
    })
}

impl SyncEngine {
    /// Refreshes every reference list the connector declares, each as an optional part.
    pub(super) async fn sync_reference(&self, run: &mut Run, ctx: &RunContext) -> Result<(), Stop> {
        for kind in Kind::ALL {
            if !ctx.connector.manifest.declares(kind.operation()) {
                continue;
            }
            let result = self.sync_reference_list(run, ctx, kind).await;
            self.optional_part(run, kind.name(), result)?;
        }
        Ok(())
    }

    async fn sync_reference_list(
        &self,
        run: &Run,
        ctx: &RunContext,
        kind: Kind,
    ) -> Result<(), Stop> {
        let mut all = Vec::new();
        let mut token = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let page = PageRequest { page_token: token.take(), since: None, limit: Some(200) };
            let output = self.call(ctx, kind.invocation(page)).await?;
            let Some((mut items, next)) = entries(output) else {
                return Err(Stop::Failed(format!(
                    "{} returned another shape",
                    kind.operation().wit_name()
                )));
            };
            all.append(&mut items);
            if all.len() >= MAX_ENTRIES {
                all.truncate(MAX_ENTRIES);
                break;
            }
            match next {
                Some(next) if seen.insert(next.clone()) => token = Some(next),
                _ => break,
            }
        }
        self.store.put_reference(&run.connection_id, kind.name(), &all).await?;
        Ok(())
    }
}
