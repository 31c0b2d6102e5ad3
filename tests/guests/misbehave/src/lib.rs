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
            config_fields: vec![ConfigField {
                name: "behaviour".into(),
                secret: false,
                required: false,
                help: "what list-jobs does".into(),
            }],
            egress_hosts: vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()],
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
            "count" => {
                let next =
                    state::get("counter").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
                state::set("counter", &next.to_string(), Some(3600));
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

#[allow(clippy::empty_loop, reason = "the point of this guest is to spin forever")]
fn spin_forever() -> String {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
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
    }
}
