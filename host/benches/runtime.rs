//! Runtime benchmark: prints figures, asserts nothing (timings never go in tests).
//!
//! `cargo bench -p ats-host --bench runtime` prints
//! - per-call cost of a fresh instance with no I/O (`describe()` of the bundled example
//!   connector): pooling vs on-demand allocator, and the parts of it (store, instantiate, call);
//! - cold compile vs cached load of that connector;
//! - peak RSS of the process.
//!
//! `ATS_BENCH_ITERATIONS` sets the number of calls per round (default 20000) and
//! `ATS_BENCH_ROUNDS` the rounds whose median is the figure (default 5);
//! `ATS_BENCH_CALLS_ONLY=1` skips the phase breakdown (for profiling the whole call);
//! `ATS_BENCH_POOLING_ONLY=1` skips the on-demand figures (for profiling);
//! `ATS_BENCH_WASM=<file>` measures that component instead of the bundled example.
//! The pooling allocator's settings can be overridden to compare them:
//! `ATS_BENCH_KEEP_RESIDENT_KIB` (linear memory), `ATS_BENCH_TABLE_KEEP_RESIDENT_KIB`,
//! `ATS_BENCH_PAGEMAP_SCAN` (0 or 1), `ATS_BENCH_DECOMMIT_BATCH`, `ATS_BENCH_WARM_SLOTS`.

use ats_host::runtime::state::MemoryStateStore;
use ats_host::runtime::{AllocatorChoice, CallContext, Invocation, Limits, Runtime};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// `Limits::default()` with the pooling settings the environment overrides.
fn limits() -> Limits {
    let defaults = Limits::default();
    Limits {
        pooling_memory_keep_resident: env::<usize>("ATS_BENCH_KEEP_RESIDENT_KIB")
            .map_or(defaults.pooling_memory_keep_resident, |kib| kib << 10),
        pooling_table_keep_resident: env::<usize>("ATS_BENCH_TABLE_KEEP_RESIDENT_KIB")
            .map_or(defaults.pooling_table_keep_resident, |kib| kib << 10),
        pooling_pagemap_scan: env::<u8>("ATS_BENCH_PAGEMAP_SCAN")
            .map_or(defaults.pooling_pagemap_scan, |on| on != 0),
        pooling_decommit_batch_size: env("ATS_BENCH_DECOMMIT_BATCH")
            .unwrap_or(defaults.pooling_decommit_batch_size),
        max_unused_warm_slots: env("ATS_BENCH_WARM_SLOTS")
            .unwrap_or(defaults.max_unused_warm_slots),
        ..defaults
    }
}

fn main() -> anyhow::Result<()> {
    let iterations: u32 = env("ATS_BENCH_ITERATIONS").unwrap_or(20_000);
    let rounds_per_figure: usize = env::<usize>("ATS_BENCH_ROUNDS").unwrap_or(5).max(1);
    let base = limits();
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (name, wasm) = match std::env::var("ATS_BENCH_WASM") {
        Ok(path) => (path.clone(), std::fs::read(&path)?),
        Err(_) => {
            let (_, wasm) = ats_host::bundled::BUNDLED
                .iter()
                .find(|(package, _)| *package == "minimal-connector")
                .ok_or_else(|| anyhow::anyhow!("the example connector is not bundled"))?;
            ("examples/minimal-connector".to_string(), wasm.to_vec())
        }
    };
    let wasm = &wasm;
    println!(
        "connector: {name}, {} KiB of wasm; {rounds_per_figure} rounds of {iterations} calls per figure",
        wasm.len() / 1024
    );
    println!(
        "pooling: memory keep-resident {} KiB, table keep-resident {} KiB, pagemap scan {}, decommit batch {}, warm slots {}\n",
        base.pooling_memory_keep_resident >> 10,
        base.pooling_table_keep_resident >> 10,
        if base.pooling_pagemap_scan { "on" } else { "off" },
        base.pooling_decommit_batch_size,
        base.max_unused_warm_slots,
    );

    tokio.block_on(async {
        let mut per_call = Vec::new();
        let only_pooling = std::env::var("ATS_BENCH_POOLING_ONLY").is_ok();
        let allocators: &[AllocatorChoice] =
            if only_pooling { &[AllocatorChoice::Pooling] } else { &[AllocatorChoice::Pooling, AllocatorChoice::OnDemand] };
        for &allocator in allocators {
            let runtime = Runtime::new(
                Limits { allocator, ..base.clone() },
                Arc::new(MemoryStateStore::default()),
                None,
            )?;
            let connector = runtime.load(wasm.to_vec(), "bench").await?;
            let context = CallContext::default();
            for _ in 0..500 {
                runtime.call(&connector, &context, Invocation::Describe).await?;
            }
            // Rounds, so one noisy stretch of a shared machine shows as an outlier.
            let mut rounds = Vec::new();
            for _ in 0..rounds_per_figure {
                let started = Instant::now();
                for _ in 0..iterations {
                    runtime.call(&connector, &context, Invocation::Describe).await?;
                }
                rounds.push(started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations));
            }
            rounds.sort_by(f64::total_cmp);
            let micros = rounds[rounds.len() / 2];
            println!(
                "fresh-instance call, describe(), {allocator:?}: {micros:.1} µs/call (median of {} rounds; fastest {:.1}, slowest {:.1})",
                rounds.len(),
                rounds[0],
                rounds[rounds.len() - 1],
            );
            per_call.push(micros);

            if std::env::var("ATS_BENCH_CALLS_ONLY").is_ok() {
                continue;
            }
            let breakdown = runtime.measure_call_phases(&connector, iterations).await?;
            println!(
                "    phases: store + WASI ctx {:.1} µs, instantiate {:.1} µs, first call {:.1} µs, drop {:.1} µs",
                breakdown.store.as_secs_f64() * 1e6,
                breakdown.instantiate.as_secs_f64() * 1e6,
                breakdown.call.as_secs_f64() * 1e6,
                breakdown.drop.as_secs_f64() * 1e6,
            );
        }
        if let [pooling, on_demand] = per_call[..] {
            println!("on-demand / pooling ratio: {:.2}x\n", on_demand / pooling);
        }

        let cache = tempdir()?;
        let make = || Runtime::new(Limits::default(), Arc::new(MemoryStateStore::default()), Some(cache.clone()));
        let cold = time(|| async { make()?.load(wasm.to_vec(), "bench").await.map(drop).map_err(anyhow::Error::from) }).await?;
        let cached = time(|| async { make()?.load(wasm.to_vec(), "bench").await.map(drop).map_err(anyhow::Error::from) }).await?;
        println!(
            "load (validate + compile + describe): cold {:.1} ms, cached {:.1} ms, ratio {:.1}x",
            cold.as_secs_f64() * 1e3,
            cached.as_secs_f64() * 1e3,
            cold.as_secs_f64() / cached.as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(&cache);
        println!("peak RSS: {} MiB", peak_rss_kib() / 1024);
        anyhow::Ok(())
    })
}

async fn time<F, Fut>(f: F) -> anyhow::Result<Duration>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    f().await?;
    Ok(started.elapsed())
}

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("ats-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
