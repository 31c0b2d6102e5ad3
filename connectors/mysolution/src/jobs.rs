//! Jobs from the Apex `job/Get` endpoint. It returns every *published* job in one answer and
//! ignores filter parameters (research §3.3), so `since` is applied here, on
//! `LastModifiedDate`, and pages are cut here: the list is sorted by `LastModifiedDate, Id`
//! and the page token is an offset into it. Every listed job is open (only published jobs
//! are returned); a job taken offline simply stops being listed.

use crate::apex::ApexPaths;
use ats_connector_sdk::paging::{next_offset_token, offset_from_token};
use ats_connector_sdk::prelude::*;
use ats_salesforce::Client;
use ats_salesforce::client::{text, timestamp};
use serde_json::Value;

const DEFAULT_PAGE_SIZE: u32 = 100;
const MAX_PAGE_SIZE: u32 = 1000;

/// Copied into `custom-fields` when present.
const CUSTOM: &[&str] =
    &["msf__Job_Requirements__c", "msf__Employment_Conditions__c", "msf__Show_On_Website__c"];

/// The comparable UTC form (`YYYY-MM-DDTHH:MM:SS`) of an RFC 3339 timestamp.
fn utc_key(rfc3339: &str) -> Result<String, AtsError> {
    let normal = ats_connector_sdk::time::to_rfc3339(rfc3339, "Z");
    match normal.as_deref().map(|n| n.split_at(19)) {
        Some((head, "Z" | "+00:00" | "-00:00")) => Ok(head.to_string()),
        _ => Err(AtsError::InvalidInput(format!(
            "`since` must be a UTC RFC 3339 timestamp, got `{rfc3339}`"
        ))),
    }
}

fn records(answer: Value) -> Vec<Value> {
    match answer {
        Value::Array(items) => items,
        Value::Object(mut object) => {
            match object.remove("records").or_else(|| object.remove("jobs")) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

pub fn list(
    client: &mut Client,
    paths: &ApexPaths,
    page: &PageRequest,
) -> Result<JobPage, AtsError> {
    let offset = offset_from_token(page.page_token.as_deref())?;
    let limit = page.limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let since = page.since.as_deref().map(utc_key).transpose()?;
    let answer: Value = client.send("GET", &paths.jobs, None, &[])?.json()?;
    let mut jobs: Vec<(String, String, Value)> = records(answer)
        .into_iter()
        .map(|record| {
            let modified = timestamp(&record, "LastModifiedDate")
                .and_then(|t| t.get(..19).map(str::to_string))
                .unwrap_or_default();
            (modified, text(&record, "Id").unwrap_or_default(), record)
        })
        .filter(|(modified, _, _)| since.as_ref().is_none_or(|s| modified.as_str() >= s.as_str()))
        .collect();
    jobs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let items: Vec<Job> =
        jobs.iter().skip(start).take(limit as usize).map(|(_, _, record)| to_job(record)).collect();
    let next = if start.saturating_add(items.len()) < jobs.len() {
        next_offset_token(offset, items.len(), limit)
    } else {
        None
    };
    Ok(JobPage { items, next_page_token: next })
}

fn to_job(record: &Value) -> Job {
    Job {
        id: text(record, "Id").unwrap_or_default(),
        code: text(record, "Name"),
        title: text(record, "msf__Title__c").or_else(|| text(record, "Name")).unwrap_or_default(),
        status: JobStatus::Open,
        location: text(record, "msf__Work_Address_City__c")
            .map(ats_connector_sdk::records::location),
        description: text(record, "msf__Job_Description__c"),
        department: None,
        assigned_users: text(record, "msf__Recruiter__c").into_iter().collect(),
        created_at: timestamp(record, "CreatedDate"),
        updated_at: timestamp(record, "LastModifiedDate"),
        custom_fields: CUSTOM
            .iter()
            .filter_map(|name| {
                text(record, name).map(|value| Field { name: (*name).into(), value })
            })
            .collect(),
        raw: record.to_string(),
        ..Default::default()
    }
}
