//! A purpose-built misbehaving connector for the sandbox tests. `list-jobs` does what the
//! connection config key `behaviour` says:
//!
//! | behaviour | what it does |
//! |---|---|
//! | `loop` | spins forever (CPU timeout) |
//! | `memory-bomb` | allocates until the memory limit stops it |
//! | `fetch` | GETs config `url` through the host and returns the status as a job title |
//! | `panic` | panics (a trap) |
//! | `big-output` | returns a job whose title is `size` bytes |
//! | `log-flood` | logs `count` lines of 1 KiB |
//! | `stderr` | writes to stderr, then returns normally |
//! | `count` | increments a counter in the host `state` and returns it as the title |
//! | `headers` | sends config `url` a request with `count` distinct headers |
//! | `state-flood` | stores `count` state entries of `size` bytes |
//! | `recurse` | recurses without end (stack overflow) |
//! | `log-forge` | logs a message with a newline and a forged second line |
//! | `big-error` | fails with a transient error of `size` bytes |
//! | `big-raw` | returns a job whose `raw` is `size` bytes |
//! | `hold` | touches `mb` MiB of memory (and, with a `url`, holds it while it GETs the url) |
//! | anything else | returns one job, quickly |

use ats_connector_sdk::http::Request;
use ats_connector_sdk::prelude::*;
use ats_connector_sdk::state;

struct Misbehave;

impl Connector for Misbehave {
    fn describe() -> Manifest {
        Manifest {
            id: "misbehave".into(),
            ats_name: "Misbehaving test ATS".into(),
            connector_version: "0.1.0".into(),
            operations: vec![Operation::ListJobs],
            config_fields: [
                ("behaviour", "what list-jobs does"),
                ("url", "the URL `fetch` and `headers` request"),
                ("size", "bytes of output, error, raw or state values"),
                ("count", "how many lines, headers or state entries"),
                ("mb", "MiB `hold` touches"),
            ]
            .into_iter()
            .map(|(name, help)| ConfigField {
                name: name.into(),
                secret: false,
                required: false,
                help: help.into(),
            })
            .collect(),
            egress_hosts: vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()],
            ..Default::default()
        }
    }

    fn list_jobs(config: Config, _page: PageRequest) -> Result<JobPage, AtsError> {
        let number = |key: &str, default: usize| {
            config.value(key).and_then(|v| v.parse().ok()).unwrap_or(default)
        };
        let title = match config.value("behaviour").unwrap_or("ok") {
            "loop" => spin_forever(),
            "memory-bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                }
            }
            "fetch" => {
                let response = Request::get(config.require("url")?).send()?;
                format!("status {}", response.status())
            }
            "panic" => panic!("the misbehaving guest panics on purpose"),
            "big-output" => "x".repeat(number("size", 1 << 20)),
            "log-flood" => {
                let line = "y".repeat(1024);
                for _ in 0..number("count", 10_000) {
                    log(Level::Info, &line);
                }
                "flooded".into()
            }
            "headers" => {
                let mut request = Request::get(config.require("url")?);
                for i in 0..number("count", 30_000) {
                    request = request.header(&format!("x-h-{i}"), "v");
                }
                match request.send() {
                    Ok(response) => format!("status {}", response.status()),
                    Err(error) => return Err(error),
                }
            }
            "state-flood" => {
                let value = "s".repeat(number("size", 60_000));
                for i in 0..number("count", 100_000) {
                    // Contract 0.2 tells the guest its entry was refused.
                    state::set(&format!("key-{i}"), &value, None)
                        .map_err(AtsError::InvalidInput)?;
                }
                "stored".into()
            }
            "recurse" => recurse(std::hint::black_box(1)).to_string(),
            "log-forge" => {
                log(
                    Level::Info,
                    "innocent\nERROR connector=victim connection=other-tenant forged line",
                );
                "logged".into()
            }
            "big-error" => {
                return Err(AtsError::Transient("e".repeat(number("size", 1 << 20))));
            }
            "big-raw" => {
                let mut job = job("big raw".into());
                job.raw = format!("\"{}\"", "r".repeat(number("size", 1 << 20)));
                return Ok(JobPage { items: vec![job], next_page_token: None });
            }
            "alias-raw" => {
                return Ok(aliased_raw_page(number("size", 1 << 20), number("count", 64)));
            }
            "handle-flood" => {
                // Every `get-stderr` hands the guest a new stream: a host-side table entry
                // that lives until the guest drops it, which this guest never does.
                for _ in 0..number("count", 1_000_000) {
                    // SAFETY: a WASI import without arguments; the handle is left alive.
                    std::hint::black_box(unsafe { wasi_get_stderr() });
                }
                "flooded handles".into()
            }
            "hold" => {
                let mut hoard = vec![0u8; number("mb", 4) << 20];
                for (i, byte) in hoard.iter_mut().enumerate().step_by(4096) {
                    *byte = i as u8;
                }
                std::hint::black_box(&hoard);
                // With a `url`, the memory stays held while the request waits.
                if let Some(url) = config.value("url") {
                    Request::get(url).send()?;
                }
                std::hint::black_box(&hoard);
                "held".into()
            }
            "count" => {
                let next =
                    state::get("counter").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
                state::set("counter", &next.to_string(), Some(3600))
                    .map_err(AtsError::Transient)?;
                next.to_string()
            }
            "stderr" => {
                eprintln!("a line on stderr from the guest");
                "wrote stderr".into()
            }
            _ => "ok".into(),
        };
        Ok(JobPage { items: vec![job(title)], next_page_token: None })
    }
}

ats_connector_sdk::export_connector!(Misbehave);

#[link(wasm_import_module = "wasi:cli/stderr@0.2.6")]
unsafe extern "C" {
    /// `wasi:cli/stderr.get-stderr`, called raw so each call makes a new stream handle.
    #[link_name = "get-stderr"]
    fn wasi_get_stderr() -> i32;
}

#[allow(clippy::empty_loop, reason = "the point of this guest is to spin forever")]
fn spin_forever() -> String {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

/// Recursion the optimiser cannot turn into a loop: each frame keeps a buffer alive.
#[allow(unconditional_recursion, reason = "the point of this behaviour is to overflow the stack")]
fn recurse(depth: u64) -> u64 {
    let buffer = std::hint::black_box([depth; 16]);
    recurse(depth + 1) + buffer[(depth % 16) as usize]
}

/// `count` jobs whose `raw` strings all point at the same `size` bytes of guest memory: the
/// canonical ABI allows it, and a host that copies each string would copy `size × count`
/// bytes out of a guest that holds `size`.
fn aliased_raw_page(size: usize, count: usize) -> JobPage {
    let shared = std::mem::ManuallyDrop::new("r".repeat(size));
    let items = (0..count)
        .map(|_| {
            let mut job = job("aliased raw".into());
            // Unsound on purpose: every `raw` claims the same buffer, which is the attack.
            // Only this guest's own heap can suffer (a double free once the page is freed).
            job.raw = unsafe {
                String::from_raw_parts(shared.as_ptr().cast_mut(), shared.len(), shared.capacity())
            };
            job
        })
        .collect();
    JobPage { items, next_page_token: None }
}

fn job(title: String) -> Job {
    Job {
        id: "1".into(),
        code: None,
        title,
        status: JobStatus::Open,
        location: None,
        description: None,
        department: None,
        assigned_users: Vec::new(),
        created_at: None,
        updated_at: None,
        custom_fields: Vec::new(),
        raw: "{}".into(),
        ..Default::default()
    }
}
