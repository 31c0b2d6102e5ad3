//! The interpreter's own cost per record, natively: `list-jobs` of the sandbox manifest
//! (`examples/sandbox.toml`) over a canned page of 100 jobs shaped as the sandbox ATS sends
//! them, with a transport that answers at once. Printed, nothing asserted; run it under
//! `perf record` to see where a manifest connector's time goes without the wasm sandbox.
//!
//! `cargo bench -p ats-declarative --bench interpreter`

use ats_declarative::{Executor, HttpRequest, HttpResponse, Manifest, Transport, TransportError};
use serde_json::json;
use std::time::Instant;

struct Canned(Vec<u8>);

impl Transport for Canned {
    fn send(&mut self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: self.0.clone(),
        })
    }
    fn state_get(&mut self, _key: &str) -> Option<String> {
        None
    }
    fn state_set(&mut self, _key: &str, _value: &str, _ttl_seconds: Option<u32>) {}
}

fn main() {
    let manifest = Manifest::parse(include_str!("../examples/sandbox.toml")).expect("example");
    let compact = manifest.to_compact().expect("compiles");
    let config = vec![
        ("base-url".to_string(), "http://127.0.0.1:1".to_string()),
        ("api-key".to_string(), "key".to_string()),
    ];
    let jobs: Vec<_> = (0..100)
        .map(|i| {
            json!({
                "id": format!("job-{i}"), "ref": format!("SEED-{i:05}"),
                "title": format!("Seeded vacancy {i}"), "status": "open", "city": "Utrecht",
                "country": "NL", "department": "Seed", "recruiter": "recruiter@sandbox-ats.example",
                "description": "Seeded for a benchmark.", "created_at": "2026-11-20T10:00:00Z",
                "updated_at": "2026-11-20T10:00:00Z",
            })
        })
        .collect();
    let body = serde_json::to_vec(&json!({"jobs": jobs, "next_cursor": "abc"})).expect("json");
    let mut transport = Canned(body);
    let pages = 2000;
    let started = Instant::now();
    let mut records = 0;
    for _ in 0..pages {
        // As the generic component does per call: the compiled manifest, then the read.
        let manifest = Manifest::from_compact_for(&compact, "list-jobs").expect("compact");
        let executor = Executor::new(&manifest, &config).expect("executor");
        let page = executor
            .list_records(&mut transport, "list-jobs", None, None, &json!({}))
            .expect("a page");
        records += page.items.len();
    }
    let took = started.elapsed();
    println!(
        "list-jobs of the sandbox manifest, natively: {:.2} µs per record ({records} records in {took:.2?})",
        took.as_secs_f64() * 1e6 / records as f64
    );
}
