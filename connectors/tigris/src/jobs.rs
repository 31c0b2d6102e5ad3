//! Vacancies: `Tigris__Vacancy__c` read with SOQL (fields from the official WordPress plugin,
//! research §4.1), incremental on `SystemModstamp >= since`, ordered by `SystemModstamp, Id`,
//! paged with `nextRecordsUrl`. `Tigris__Offline__c` means closed; otherwise the vacancy is
//! open (`Tigris__Geplaatst__c`, "posted on a website", is kept as a custom field).

use ats_connector_sdk::prelude::*;
use ats_salesforce::client::{field, text, timestamp};
use ats_salesforce::soql;
use ats_salesforce::{Client, QueryPage};
use serde_json::Value;

pub const VACANCY: &str = "Tigris__Vacancy__c";

const FIELDS: &[&str] = &[
    "Id",
    "Name",
    "Tigris__Vacature_omschrijving__c",
    "Tigris__Introductie__c",
    "Tigris__Plaats__c",
    "Tigris__Branche__c",
    "Tigris__Functiegroep__c",
    "Tigris__Office__c",
    "Tigris__Uren_per_week__c",
    "Tigris__Soort_dienstverband__c",
    "Tigris__Geplaatst__c",
    "Tigris__Offline__c",
    "Tigris__Owner_name__c",
    "Tigris__Extern_vacature_ID__c",
    "CreatedDate",
    "SystemModstamp",
];

/// Copied into `custom-fields` when present.
const CUSTOM: &[&str] = &[
    "Tigris__Geplaatst__c",
    "Tigris__Functiegroep__c",
    "Tigris__Office__c",
    "Tigris__Uren_per_week__c",
    "Tigris__Soort_dienstverband__c",
    "Tigris__Extern_vacature_ID__c",
];

pub fn list(client: &mut Client, page: &PageRequest) -> Result<JobPage, AtsError> {
    let filter = match &page.since {
        Some(since) => format!(" WHERE SystemModstamp >= {}", soql::datetime(since)?),
        None => String::new(),
    };
    let query =
        format!("SELECT {} FROM {VACANCY}{filter} ORDER BY SystemModstamp, Id", FIELDS.join(", "));
    let QueryPage { records, next_records_url } =
        client.query_page(&query, page.page_token.as_deref(), page.limit)?;
    Ok(JobPage { items: records.iter().map(to_job).collect(), next_page_token: next_records_url })
}

fn to_job(record: &Value) -> Job {
    let offline = field(record, "Tigris__Offline__c").and_then(Value::as_bool) == Some(true);
    Job {
        id: text(record, "Id").unwrap_or_default(),
        code: None,
        title: text(record, "Name").unwrap_or_default(),
        status: if offline { JobStatus::Closed } else { JobStatus::Open },
        location: text(record, "Tigris__Plaats__c").map(ats_connector_sdk::records::location),
        description: text(record, "Tigris__Vacature_omschrijving__c")
            .or_else(|| text(record, "Tigris__Introductie__c")),
        department: text(record, "Tigris__Branche__c"),
        assigned_users: text(record, "Tigris__Owner_name__c").into_iter().collect(),
        created_at: timestamp(record, "CreatedDate"),
        updated_at: timestamp(record, "SystemModstamp"),
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
