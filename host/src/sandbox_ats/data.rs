//! The sandbox ATS's records (JSON, as its API returns them), the seed, the clock, and
//! list paging with opaque cursors over records ordered by (`updated_at`, `id`).
//!
//! Every answer takes time independent of the number of records: a [`Table`] keeps its
//! records in insertion order with an index by id, a sorted (`updated_at`, `id`) order for
//! paging, optional secondary indexes (candidates by e-mail and by phone digits, ...), and
//! each record's `updated_at` parsed and its JSON serialized once per change, not per
//! request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// Candidates by e-mail address (ASCII case-insensitive).
pub const BY_EMAIL: usize = 0;
/// Candidates by the digits of a phone number.
pub const BY_PHONE: usize = 1;
/// Candidates by tag name.
pub const BY_TAG: usize = 2;
/// Applications by (candidate, job).
pub const BY_CANDIDATE_AND_JOB: usize = 0;

pub struct Data {
    pub jobs: Table,
    pub candidates: Table,
    pub applications: Table,
    /// Fixed "now" for writes; the real clock when unset.
    pub clock: Option<String>,
    pub next_id: u64,
}

impl Default for Data {
    fn default() -> Self {
        Data {
            jobs: Table::new(&[]),
            candidates: Table::new(&[email_keys, phone_keys, tag_keys]),
            applications: Table::new(&[candidate_and_job_keys]),
            clock: None,
            next_id: 0,
        }
    }
}

impl Data {
    pub fn seeded() -> Data {
        let mut data = Data { next_id: 100, ..Data::default() };
        for (i, (title, city, department)) in SEED_JOBS.iter().enumerate() {
            data.jobs.insert(json!({
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
            data.candidates.insert(json!({
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
            data.applications.insert(json!({
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
        self.clock.clone().unwrap_or_else(|| crate::time::format_ms(crate::time::now_ms()))
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

/// The keys a record has in one secondary index.
type Keys = fn(&Value) -> Vec<String>;

fn strings<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a str> {
    value[field].as_array().into_iter().flatten().filter_map(Value::as_str)
}

fn email_keys(candidate: &Value) -> Vec<String> {
    strings(candidate, "emails").map(str::to_ascii_lowercase).collect()
}

/// The digits of a phone number, the key phone look-ups compare.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn phone_keys(candidate: &Value) -> Vec<String> {
    strings(candidate, "phones").map(digits).filter(|d| !d.is_empty()).collect()
}

fn tag_keys(candidate: &Value) -> Vec<String> {
    candidate["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["tag"].as_str().map(str::to_string))
        .collect()
}

fn candidate_and_job_keys(application: &Value) -> Vec<String> {
    match (application["candidate_id"].as_str(), application["job_id"].as_str()) {
        (Some(candidate), Some(job)) => vec![candidate_and_job(candidate, job)],
        _ => Vec::new(),
    }
}

/// The [`BY_CANDIDATE_AND_JOB`] key of an application.
pub fn candidate_and_job(candidate_id: &str, job_id: &str) -> String {
    format!("{candidate_id}\u{0}{job_id}")
}

/// A record's place in list order: (`updated_at` in ms, unparseable = 0; `id`; insertion
/// slot, which keeps equal keys in insertion order like a stable sort).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    updated_ms: i64,
    id: String,
    slot: usize,
}

struct Record {
    value: Value,
    /// `value` serialized, as the API returns it.
    json: String,
    order: OrderKey,
}

impl Record {
    fn new(value: Value, slot: usize) -> Record {
        let order = OrderKey {
            updated_ms: value["updated_at"].as_str().and_then(crate::time::parse_ms).unwrap_or(0),
            id: value["id"].as_str().unwrap_or("").to_string(),
            slot,
        };
        // Serializing a `Value` cannot fail (its map keys are strings).
        let json = serde_json::to_string(&value).unwrap_or_else(|_| "null".into());
        Record { value, json, order }
    }
}

struct Index {
    keys: Keys,
    slots: BTreeMap<String, BTreeSet<usize>>,
}

/// One kind of record: insertion order, by id, list order and secondary indexes.
pub struct Table {
    /// Insertion order; `None` where a record was deleted.
    slots: Vec<Option<Record>>,
    by_id: HashMap<String, usize>,
    /// Every live record's [`OrderKey`], sorted.
    order: Vec<OrderKey>,
    indexes: Vec<Index>,
}

impl Table {
    fn new(indexes: &[Keys]) -> Table {
        Table {
            slots: Vec::new(),
            by_id: HashMap::new(),
            order: Vec::new(),
            indexes: indexes.iter().map(|&keys| Index { keys, slots: BTreeMap::new() }).collect(),
        }
    }

    /// Appends a record.
    pub fn insert(&mut self, value: Value) {
        let slot = self.slots.len();
        let record = Record::new(value, slot);
        let at = self.order.partition_point(|k| *k < record.order);
        self.order.insert(at, record.order.clone());
        self.link(slot, &record);
        self.slots.push(Some(record));
    }

    /// Appends many records, sorting the list order once.
    pub fn extend(&mut self, values: impl IntoIterator<Item = Value>) {
        for value in values {
            let slot = self.slots.len();
            let record = Record::new(value, slot);
            self.order.push(record.order.clone());
            self.link(slot, &record);
            self.slots.push(Some(record));
        }
        self.order.sort_unstable();
    }

    /// Adds a record to the id and secondary indexes.
    fn link(&mut self, slot: usize, record: &Record) {
        // Ids are unique; were one repeated, look-ups find the first (as a scan would).
        self.by_id.entry(record.order.id.clone()).or_insert(slot);
        for index in &mut self.indexes {
            for key in (index.keys)(&record.value) {
                index.slots.entry(key).or_default().insert(slot);
            }
        }
    }

    /// Takes a record out of the id and secondary indexes and the list order.
    fn unlink(&mut self, slot: usize, record: &Record) {
        if self.by_id.get(&record.order.id) == Some(&slot) {
            self.by_id.remove(&record.order.id);
        }
        for index in &mut self.indexes {
            for key in (index.keys)(&record.value) {
                if let Some(slots) = index.slots.get_mut(&key) {
                    slots.remove(&slot);
                    if slots.is_empty() {
                        index.slots.remove(&key);
                    }
                }
            }
        }
        if let Ok(at) = self.order.binary_search(&record.order) {
            self.order.remove(at);
        }
    }

    fn record(&self, id: &str) -> Option<&Record> {
        self.slots.get(*self.by_id.get(id)?)?.as_ref()
    }

    pub fn get(&self, id: &str) -> Option<&Value> {
        self.record(id).map(|r| &r.value)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Record `id` as the API returns it.
    pub fn json(&self, id: &str) -> Option<&str> {
        self.record(id).map(|r| r.json.as_str())
    }

    /// Changes record `id` with `change` (and re-indexes it); `None` if there is none.
    pub fn update<R>(&mut self, id: &str, change: impl FnOnce(&mut Value) -> R) -> Option<R> {
        let slot = *self.by_id.get(id)?;
        let record = self.slots.get_mut(slot)?.take()?;
        self.unlink(slot, &record);
        let mut value = record.value;
        let result = change(&mut value);
        let record = Record::new(value, slot);
        let at = self.order.partition_point(|k| *k < record.order);
        self.order.insert(at, record.order.clone());
        self.link(slot, &record);
        self.slots[slot] = Some(record);
        Some(result)
    }

    /// Deletes record `id`.
    pub fn remove(&mut self, id: &str) {
        let Some(&slot) = self.by_id.get(id) else { return };
        if let Some(record) = self.slots.get_mut(slot).and_then(Option::take) {
            self.unlink(slot, &record);
        }
    }

    fn live(&self) -> impl Iterator<Item = &Record> {
        self.slots.iter().flatten()
    }

    /// Every record, in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.live().map(|r| &r.value)
    }

    /// Every record as the API returns it, in insertion order.
    pub fn all_json(&self) -> impl Iterator<Item = &str> {
        self.live().map(|r| r.json.as_str())
    }

    /// The records under `key` in secondary index `index`, in insertion order.
    fn lookup<'a>(&'a self, index: usize, key: &str) -> impl Iterator<Item = &'a Record> {
        self.indexes
            .get(index)
            .and_then(|i| i.slots.get(key))
            .into_iter()
            .flatten()
            .filter_map(|&slot| self.slots.get(slot)?.as_ref())
    }

    /// The records under `key` in secondary index `index`, as the API returns them, in
    /// insertion order.
    pub fn lookup_json(&self, index: usize, key: &str) -> Vec<&str> {
        self.lookup(index, key).map(|r| r.json.as_str()).collect()
    }

    /// Whether secondary index `index` has a record under `key`.
    pub fn has_key(&self, index: usize, key: &str) -> bool {
        self.lookup(index, key).next().is_some()
    }

    /// The keys of secondary index `index` in use, sorted.
    pub fn keys(&self, index: usize) -> impl Iterator<Item = &str> {
        self.indexes.get(index).into_iter().flat_map(|i| i.slots.keys().map(String::as_str))
    }

    /// Records updated at or after `since`, ordered by (`updated_at`, `id`), from `offset`:
    /// found by binary search in the list order, never by a scan.
    pub fn page(
        &self,
        since: Option<i64>,
        offset: usize,
        limit: usize,
        repeat: Option<&str>,
    ) -> Page<'_> {
        let first = since.map_or(0, |s| self.order.partition_point(|k| k.updated_ms < s));
        let matching = &self.order[first..];
        let start = offset.min(matching.len());
        let end = start.saturating_add(limit).min(matching.len());
        let items: Vec<&str> = matching[start..end]
            .iter()
            .filter_map(|k| Some(self.slots.get(k.slot)?.as_ref()?.json.as_str()))
            .collect();
        let end = offset.saturating_add(items.len());
        let next_cursor = match repeat {
            // A broken ATS: the same cursor forever.
            Some(cursor) => Some(cursor.to_string()),
            None => (end < matching.len()).then(|| encode_cursor(end)),
        };
        Page { items, total: matching.len(), next_cursor }
    }
}

/// One page of a list answer: the records as the API returns them.
pub struct Page<'a> {
    pub items: Vec<&'a str>,
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

/// `[a,b,...]` of serialized records.
pub fn json_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}
