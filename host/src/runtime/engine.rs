//! The one wasmtime `Engine` of the process: Cranelift, epoch interruption with a ticker
//! thread, and the pooling instance allocator with a fallback to on-demand allocation when
//! the address space is limited (containers with `ulimit -v`, small VMs).

use super::limits::{AllocatorChoice, Limits};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Which allocator the engine ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllocatorKind {
    Pooling,
    OnDemand,
}

/// Builds the engine for `limits`. With [`AllocatorChoice::Auto`], a pooling engine that
/// cannot reserve its address space falls back to on-demand, with a warning.
pub fn build_engine(limits: &Limits) -> wasmtime::Result<(Engine, AllocatorKind)> {
    match limits.allocator {
        AllocatorChoice::OnDemand => {
            Ok((Engine::new(&base_config(limits))?, AllocatorKind::OnDemand))
        }
        AllocatorChoice::Pooling => {
            Ok((Engine::new(&pooling_config(limits))?, AllocatorKind::Pooling))
        }
        AllocatorChoice::Auto => match Engine::new(&pooling_config(limits)) {
            Ok(engine) => Ok((engine, AllocatorKind::Pooling)),
            Err(error) => {
                tracing::warn!(
                    %error,
                    "pooling allocator unavailable (address space limited?); using on-demand allocation"
                );
                Ok((Engine::new(&base_config(limits))?, AllocatorKind::OnDemand))
            }
        },
    }
}

/// Frames kept of a trap's wasm call stack: enough to tell unbounded recursion (a stack
/// overflow in the guest's own stack in linear memory) from a stray memory access.
pub const BACKTRACE_FRAMES: usize = 256;

fn base_config(_limits: &Limits) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(BACKTRACE_FRAMES));
    // Connectors use neither component-model async nor threads: keep stores lean.
    config.concurrency_support(false);
    // For profiling guests with `perf` (`/tmp/perf-PID.map` names their compiled code).
    if std::env::var_os(PERFMAP_VAR).is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// Set (to anything) to write a perf map of the compiled guest code, so `perf report` names
/// guest functions (`ATS_WASM_PERFMAP=1 perf record -g ...`). A diagnostic: it costs a
/// little at every compile.
pub const PERFMAP_VAR: &str = "ATS_WASM_PERFMAP";

fn pooling_config(limits: &Limits) -> Config {
    let instances = limits.pooling_instances.max(1);
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(instances)
        // A wasm32-wasip2 Rust component is a handful of core instances (main module plus
        // the shims wit-component generates) with one memory and a few tables.
        .total_core_instances(instances.saturating_mul(8))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(4))
        .total_stacks(instances)
        .max_memory_size(usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX))
        // One component cannot take the pool's memories and tables for itself (the loader
        // refuses such a component before it gets here; this is the allocator's own bound).
        .max_memories_per_component(limits.max_memories_per_component.max(1))
        .max_tables_per_component(limits.max_tables_per_component.max(1))
        // A fresh instance per call makes slot reset the hot path. Keeping a little of each
        // slot resident and, on Linux >= 6.7, resetting only the pages the call dirtied
        // (PAGEMAP_SCAN) avoids most page faults of the next instance (a small call dirties
        // a few dozen pages). Every slot ever used keeps this much: with 4 MiB, 499 calls of
        // 4 MiB held at once left 2 GiB resident in an idle host; with 128 KiB, 122 MiB
        // (`hostile::calls::memories_pooled_slots_do_not_stay_resident_after_calls`).
        .max_unused_warm_slots(limits.max_unused_warm_slots)
        .linear_memory_keep_resident(limits.pooling_memory_keep_resident)
        .table_keep_resident(limits.pooling_table_keep_resident)
        .async_stack_keep_resident(64 << 10)
        .decommit_batch_size(limits.pooling_decommit_batch_size.max(1))
        .pagemap_scan(if limits.pooling_pagemap_scan {
            wasmtime::Enabled::Auto
        } else {
            wasmtime::Enabled::No
        });
    let mut config = base_config(limits);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    config
}

/// Increments the engine's epoch every `tick` on a thread of its own, until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub fn start(engine: &Engine, tick: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("ats-epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(
                |e| tracing::error!(%e, "cannot start the epoch ticker; CPU limits will not fire"),
            );
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Epoch ticks that cover `timeout` (at least one).
pub fn ticks_for(timeout: Duration, tick: Duration) -> u64 {
    let tick_ms = tick.as_millis().max(1);
    u64::try_from(timeout.as_millis().div_ceil(tick_ms)).unwrap_or(u64::MAX).max(1) + 1
}
