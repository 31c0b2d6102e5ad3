//! The read checks: `check`, paging through jobs and applications (each id once, no token
//! repeated), incremental `since`, stages, single reads and look-ups that agree with the
//! lists, the directories (users, tags, rejection reasons), and every undeclared operation
//! answering `unsupported`.

use super::{Kit, Outcome, failed, passed, skipped};
use crate::model::*;
use crate::runtime::{Invocation, Output};
use std::collections::HashSet;

pub(super) async fn run(kit: &mut Kit<'_>) {
    kit.check(Operation::Check, "credentials accepted", async |kit| {
        match kit.call(Invocation::Check).await {
            Ok(Output::Account(account)) if !account.display_name.trim().is_empty() => {
                passed(format!("account `{}`", account.display_name))
            }
            Ok(Output::Account(_)) => failed("the account has an empty display name"),
            other => failed(format!("answered {}", super::summary(&other))),
        }
    })
    .await;
    kit.check(Operation::ListJobs, "pages through every job once", async |kit| jobs(kit).await)
        .await;
    kit.check(Operation::ListJobs, "since returns only changed jobs", async |kit| since(kit).await)
        .await;
    kit.check(Operation::ListStages, "lists the pipeline", async |kit| stages(kit).await).await;
    kit.check(Operation::ListApplications, "pages through applications", async |kit| {
        applications(kit).await
    })
    .await;
    kit.check(Operation::GetApplication, "reads a listed application", async |kit| {
        get_application(kit).await
    })
    .await;
    kit.check(Operation::GetCandidate, "reads that application's candidate", async |kit| {
        let Some(application) = &kit.found.application else {
            return skipped("no application listed to take a candidate from");
        };
        let id = application.candidate_id.clone();
        match kit.call(Invocation::GetCandidate { candidate_id: id.clone() }).await {
            Ok(Output::Candidate(candidate)) if candidate.id == id => {
                kit.found.candidate_email =
                    candidate.emails.first().map(|email| (id.clone(), email.clone()));
                passed(format!("candidate {id}"))
            }
            Ok(Output::Candidate(candidate)) => {
                failed(format!("asked for candidate {id}, got {}", candidate.id))
            }
            other => failed(format!("answered {}", super::summary(&other))),
        }
    })
    .await;
    kit.check(Operation::FindCandidates, "finds that candidate by e-mail", async |kit| {
        let Some((id, email)) = kit.found.candidate_email.clone() else {
            return skipped("no candidate with an e-mail address was read");
        };
        let lookup = CandidateLookup::Email(email.clone());
        match kit.call(Invocation::FindCandidates { lookup, page: first_page(kit) }).await {
            Ok(Output::Candidates(page)) if page.items.iter().any(|c| c.id == id) => {
                passed(format!("{email} → candidate {id}"))
            }
            Ok(Output::Candidates(page)) => failed(format!(
                "{email} found {} candidate(s), not candidate {id}",
                page.items.len()
            )),
            other => failed(format!("answered {}", super::summary(&other))),
        }
    })
    .await;
    kit.check(Operation::ListUsers, "lists users", async |kit| {
        directory(kit, Invocation::ListUsers(first_page(kit)), |o| match o {
            Output::Users(p) => Some(p.items.into_iter().map(|u| u.id).collect()),
            _ => None,
        })
        .await
    })
    .await;
    kit.check(Operation::ListTags, "lists tags", async |kit| {
        directory(kit, Invocation::ListTags(first_page(kit)), |o| match o {
            Output::Tags(p) => Some(p.items.into_iter().map(|t| t.id).collect()),
            _ => None,
        })
        .await
    })
    .await;
    kit.check(Operation::ListRejectionReasons, "lists rejection reasons", async |kit| {
        let invocation = Invocation::ListRejectionReasons(first_page(kit));
        match kit.call(invocation).await {
            Ok(Output::RejectionReasons(page)) => {
                kit.found.rejection_reason =
                    page.items.first().map(|r| (r.id.clone(), r.name.clone()));
                unique_ids(page.items.iter().map(|r| r.id.clone()), "rejection reasons")
            }
            other => failed(format!("answered {}", super::summary(&other))),
        }
    })
    .await;
}

fn first_page(kit: &Kit<'_>) -> PageRequest {
    PageRequest { page_token: None, since: None, limit: Some(kit.options.page_size) }
}

/// A list read to its end (or the page limit).
struct Listed<T> {
    items: Vec<T>,
    pages: u32,
    /// It stopped at `max_pages` with more announced.
    truncated: bool,
    /// The largest page over the size asked for (0: none).
    largest_over: usize,
}

impl<T> Listed<T> {
    fn detail(&self, what: &str, asked: u32) -> String {
        let more = if self.truncated { " (stopped at the page limit; more exist)" } else { "" };
        let over = if self.largest_over > 0 {
            format!(
                "; note: pages of up to {} records although {asked} were asked for",
                self.largest_over
            )
        } else {
            String::new()
        };
        format!("{} {what} over {} page(s), each once{more}{over}", self.items.len(), self.pages)
    }
}

/// Every item of a list, following page tokens up to `max_pages`: (items, pages, whether
/// it stopped at the page limit). Fails on a repeated token or an id seen twice.
async fn page_all<T>(
    kit: &Kit<'_>,
    since: Option<&str>,
    make: impl Fn(PageRequest) -> Invocation,
    open: impl Fn(Output) -> Option<Page<T>>,
    id: impl Fn(&T) -> &str,
) -> Result<Listed<T>, String> {
    let mut items = Vec::new();
    let mut ids = HashSet::new();
    let mut tokens = HashSet::new();
    let mut token = None;
    let mut largest_over = 0;
    for pages in 1..=kit.options.max_pages {
        let request = PageRequest {
            page_token: token.clone(),
            since: since.map(str::to_string),
            limit: Some(kit.options.page_size),
        };
        let output = kit
            .call(make(request))
            .await
            .map_err(|error| format!("page {pages} failed ({} error): {error}", error.kind()))?;
        let Some(page) = open(output) else {
            return Err(format!("page {pages} answered another kind of record"));
        };
        // The contract asks for at most `limit`; some APIs have a larger minimum batch
        // (Salesforce: 200). Noted, not failed, unless it is far over.
        let size = page.items.len();
        if size > kit.options.page_size as usize {
            if size > 10 * kit.options.page_size as usize {
                return Err(format!(
                    "page {pages} has {size} records; {} were asked for",
                    kit.options.page_size
                ));
            }
            largest_over = largest_over.max(size);
        }
        for item in page.items {
            let key = id(&item).to_string();
            if key.is_empty() {
                return Err(format!("page {pages} has a record without an id"));
            }
            if !ids.insert(key.clone()) {
                return Err(format!("id `{key}` listed twice (page {pages})"));
            }
            items.push(item);
        }
        match page.next_page_token {
            None => return Ok(Listed { items, pages, truncated: false, largest_over }),
            Some(next) if !tokens.insert(next.clone()) => {
                return Err(format!("page token `{next}` came back again after page {pages}"));
            }
            Some(next) => token = Some(next),
        }
    }
    Ok(Listed { items, pages: kit.options.max_pages, truncated: true, largest_over })
}

async fn jobs(kit: &mut Kit<'_>) -> Outcome {
    let listed = page_all(kit, None, Invocation::ListJobs, jobs_of, |j: &Job| &j.id).await;
    match listed {
        Ok(listed) => {
            let detail = listed.detail("jobs", kit.options.page_size);
            let jobs = listed.items;
            if let Some(job) = jobs.iter().find(|j| j.title.trim().is_empty()) {
                return failed(format!("job {} has no title", job.id));
            }
            let mut open: Vec<&Job> = jobs.iter().filter(|j| j.status == JobStatus::Open).collect();
            open.extend(jobs.iter().filter(|j| j.status != JobStatus::Open));
            kit.found.job_ids = open.iter().map(|j| j.id.clone()).collect();
            kit.found.job_updated = jobs.iter().filter_map(|j| j.updated_at.clone()).collect();
            passed(detail)
        }
        Err(why) => failed(why),
    }
}

fn jobs_of(output: Output) -> Option<JobPage> {
    match output {
        Output::Jobs(page) => Some(page),
        _ => None,
    }
}

/// `since` = the newest `updated_at` listed: what comes back must have changed at or after
/// it (a day of look-back allowed) and be among the jobs listed.
async fn since(kit: &mut Kit<'_>) -> Outcome {
    let newest = kit
        .found
        .job_updated
        .iter()
        .filter_map(|t| crate::time::parse_ms(t).map(|ms| (ms, t)))
        .max();
    let Some((newest_ms, newest)) = newest.map(|(ms, t)| (ms, t.clone())) else {
        return skipped("no listed job has an updated-at to ask `since` with");
    };
    let listed = page_all(kit, Some(&newest), Invocation::ListJobs, jobs_of, |j: &Job| &j.id).await;
    let (jobs, pages) = match listed {
        Ok(listed) => (listed.items, listed.pages),
        Err(why) => return failed(format!("with since = {newest}: {why}")),
    };
    const LOOKBACK_MS: i64 = 24 * 3600 * 1000;
    if let Some(old) = jobs.iter().find(|j| {
        j.updated_at
            .as_deref()
            .and_then(crate::time::parse_ms)
            .is_some_and(|ms| ms < newest_ms - LOOKBACK_MS)
    }) {
        return failed(format!(
            "since = {newest} returned job {} updated at {} (more than a day earlier)",
            old.id,
            old.updated_at.as_deref().unwrap_or_default()
        ));
    }
    if jobs.is_empty() {
        return failed(format!("since = {newest} returned nothing, not even the job updated then"));
    }
    passed(format!("since = {newest}: {} job(s) over {pages} page(s)", jobs.len()))
}

async fn stages(kit: &mut Kit<'_>) -> Outcome {
    let global = Invocation::ListStages { job_id: None, page: first_page(kit) };
    let mut answer = kit.call(global).await;
    let mut scope = "the global pipeline".to_string();
    if answer.is_err()
        && let Some(job) = kit.found.job_ids.first().cloned()
    {
        answer = kit
            .call(Invocation::ListStages { job_id: Some(job.clone()), page: first_page(kit) })
            .await;
        scope = format!("job {job}'s pipeline");
    }
    match answer {
        Ok(Output::Stages(page)) if page.items.is_empty() => {
            failed(format!("{scope} has no stages"))
        }
        Ok(Output::Stages(page)) => {
            let outcome = unique_ids(page.items.iter().map(|s| s.id.clone()), "stages");
            let count = page.items.len();
            kit.found.stages = page.items;
            match outcome {
                (super::Verdict::Passed, _) => passed(format!("{count} stages in {scope}")),
                other => other,
            }
        }
        other => failed(format!("{scope}: {}", super::summary(&other))),
    }
}

async fn applications(kit: &mut Kit<'_>) -> Outcome {
    let listed =
        page_all(kit, None, Invocation::ListApplications, applications_of, |a: &Application| &a.id)
            .await;
    match listed {
        Ok(listed) => {
            let detail = listed.detail("applications", kit.options.page_size);
            let applications = listed.items;
            if let Some(bad) =
                applications.iter().find(|a| a.candidate_id.is_empty() || a.job_id.is_empty())
            {
                return failed(format!("application {} names no candidate or no job", bad.id));
            }
            kit.found.application = applications.into_iter().next();
            passed(detail)
        }
        Err(why) => failed(why),
    }
}

fn applications_of(output: Output) -> Option<ApplicationPage> {
    match output {
        Output::Applications(page) => Some(page),
        _ => None,
    }
}

async fn get_application(kit: &mut Kit<'_>) -> Outcome {
    let Some(listed) = kit.found.application.clone() else {
        return skipped("no application listed to read");
    };
    match kit.call(Invocation::GetApplication { application_id: listed.id.clone() }).await {
        Ok(Output::Application(read))
            if read.id == listed.id && read.candidate_id == listed.candidate_id =>
        {
            passed(format!("application {}", read.id))
        }
        Ok(Output::Application(read)) => failed(format!(
            "listed application {} (candidate {}) reads as {} (candidate {})",
            listed.id, listed.candidate_id, read.id, read.candidate_id
        )),
        other => failed(format!("answered {}", super::summary(&other))),
    }
}

async fn directory(
    kit: &mut Kit<'_>,
    invocation: Invocation,
    ids: impl Fn(Output) -> Option<Vec<String>>,
) -> Outcome {
    match kit.call(invocation).await {
        Ok(output) => match ids(output) {
            Some(ids) => unique_ids(ids.into_iter(), "entries"),
            None => failed("answered another kind of record"),
        },
        Err(error) => failed(format!("{} error: {error}", error.kind())),
    }
}

fn unique_ids(ids: impl Iterator<Item = String>, what: &str) -> Outcome {
    let mut seen = HashSet::new();
    let mut count = 0;
    for id in ids {
        if id.is_empty() {
            return failed(format!("one of the {what} has no id"));
        }
        if !seen.insert(id.clone()) {
            return failed(format!("id `{id}` listed twice"));
        }
        count += 1;
    }
    passed(format!("{count} {what}, ids unique"))
}
