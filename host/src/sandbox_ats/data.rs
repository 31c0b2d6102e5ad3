//! The sandbox ATS's records (JSON, as its API returns them), the seed, the clock, and
//! list paging with opaque cursors over records ordered by (`updated_at`, `id`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub const STAGES: [&str; 5] = ["Applied", "Screening", "Interview", "Offer", "Hired"];

const SEED_JOBS: [(&str, &str, &str); 12] = [
    ("Backend Developer (Rust)", "Amsterdam", "Engineering"),
    ("Recruitment Consultant", "Utrecht", "Recruitment"),
    ("Warehouse Team Lead", "Tilburg", "Logistics"),
    ("Registered Nurse", "Rotterdam", "Care"),
    ("Data Analyst", "Eindhoven", "Engineering"),
    ("Customer Success Manager", "Den Haag", "Sales"),
    ("Electrical Installer", "Zwolle", "Technical"),
    ("HR Business Partner", "Amsterdam", "People"),
    ("Truck Driver C/E", "Venlo", "Logistics"),
    ("Frontend Developer", "Groningen", "Engineering"),
    ("Accountmanager Uitzendbureau", "Breda", "Sales"),
    ("Maintenance Engineer", "Arnhem", "Technical"),
];

#[derive(Default)]
pub struct Data {
    pub jobs: Vec<Value>,
    pub candidates: Vec<Value>,
    pub applications: Vec<Value>,
    /// Fixed "now" for writes; the real clock when unset.
    pub clock: Option<String>,
    pub next_id: u64,
}

impl Data {
    pub fn seeded() -> Data {
        let mut data = Data { next_id: 100, ..Data::default() };
        for (i, (title, city, department)) in SEED_JOBS.iter().enumerate() {
            data.jobs.push(json!({
                "id": format!("job-{}", i + 1),
                "ref": format!("VAC-{:04}", 1001 + i),
                "title": title,
                "status": if i == 11 { "closed" } else { "open" },
                "city": city,
                "department": department,
                "recruiter": "recruiter@sandbox-ats.example",
                "description": format!("{title} in {city}. Sandbox vacancy for the demo."),
                "created_at": format!("2026-11-{:02}T09:00:00Z", 1 + i),
                "updated_at": format!("2026-11-{:02}T12:00:00Z", 1 + i),
            }));
        }
        let people = [("Sanne", "de Vries"), ("Daan", "Jansen"), ("Fatima", "El Amrani")];
        for (i, (first, last)) in people.iter().enumerate() {
            data.candidates.push(json!({
                "id": format!("cand-{}", i + 1),
                "first_name": first, "last_name": last,
                "emails": [format!("{}.{}@example.nl", first.to_lowercase(), last.to_lowercase().replace(' ', ""))],
                "phones": [format!("+3161234567{i}")],
                "source": "Sandbox seed",
                "notes": [], "tags": [], "attachments": [],
                "updated_at": "2026-11-15T10:00:00Z",
            }));
        }
        for (i, (candidate, job, stage)) in
            [(1, 1, 1), (2, 1, 2), (3, 5, 3), (1, 10, 2)].iter().enumerate()
        {
            data.applications.push(json!({
                "id": format!("app-{}", i + 1),
                "candidate_id": format!("cand-{candidate}"),
                "job_id": format!("job-{job}"),
                "stage_id": format!("stage-{stage}"),
                "status": "active",
                "source": "Sandbox seed",
                "answers": [],
                "notes": [],
                "result": null,
                "created_at": "2026-11-16T10:00:00Z",
                "updated_at": format!("2026-11-16T1{i}:00:00Z"),
            }));
        }
        data
    }

    /// The timestamp writes get.
    pub fn now(&self) -> String {
        self.clock
            .clone()
            .unwrap_or_else(|| crate::sync::time::format_ms(crate::webhooks::now_ms()))
    }

    pub fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    pub fn stages() -> Vec<Value> {
        STAGES
            .iter()
            .enumerate()
            .map(|(i, name)| json!({ "id": format!("stage-{}", i + 1), "name": name, "position": i }))
            .collect()
    }
}

/// One page of a list answer.
pub struct Page {
    pub items: Vec<Value>,
    pub total: usize,
    pub next_cursor: Option<String>,
}

pub fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

pub fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("o:")?.parse().ok()
}

fn updated_ms(record: &Value) -> i64 {
    record["updated_at"].as_str().and_then(crate::sync::time::parse_ms).unwrap_or(0)
}

/// Records updated at or after `since`, ordered by (`updated_at`, `id`), from `offset`.
pub fn page(
    records: &[Value],
    since: Option<i64>,
    offset: usize,
    limit: usize,
    repeat: Option<&str>,
) -> Page {
    let mut matching: Vec<&Value> =
        records.iter().filter(|r| since.is_none_or(|s| updated_ms(r) >= s)).collect();
    matching.sort_by(|a, b| {
        updated_ms(a)
            .cmp(&updated_ms(b))
            .then_with(|| a["id"].as_str().unwrap_or("").cmp(b["id"].as_str().unwrap_or("")))
    });
    let items: Vec<Value> =
        matching.iter().skip(offset).take(limit).map(|v| (*v).clone()).collect();
    let end = offset + items.len();
    let next_cursor = match repeat {
        // A broken ATS: the same cursor forever.
        Some(cursor) => Some(cursor.to_string()),
        None => (end < matching.len()).then(|| encode_cursor(end)),
    };
    Page { items, total: matching.len(), next_cursor }
}
