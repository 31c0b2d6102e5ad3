//! Builds guest components from inside a build script, the way wasmtime's `test-programs`
//! and Spin's `test-components` do: a nested `cargo build --target wasm32-wasip2` into a
//! target directory of its own, so `cargo build` / `cargo test` need no separate step.
//!
//! The `wasm32-wasip2` target is installed with `rustup target add` when it is missing (a
//! fresh machine does not have it, and `rust-toolchain.toml` does not install it for an
//! already-installed toolchain).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod python;

/// The Rust target guests are compiled for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";
/// The cargo profile guests are compiled with (see the workspace `Cargo.toml`).
pub const GUEST_PROFILE: &str = "guest";

/// One guest component that was built.
#[derive(Debug, Clone)]
pub struct BuiltGuest {
    /// The cargo package name, e.g. `minimal-connector`.
    pub package: String,
    /// Absolute path of the `.wasm` component.
    pub path: PathBuf,
}

/// Builds `packages` of the workspace at `workspace_root` as components. Panics with a
/// clear message on failure: this runs in a build script, where a panic is the error report.
pub fn build_guests(workspace_root: &Path, packages: &[&str]) -> Vec<BuiltGuest> {
    ensure_target_installed();
    let target_dir = guest_target_dir();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root)
        .arg("build")
        .arg("--target")
        .arg(GUEST_TARGET)
        .arg("--profile")
        .arg(GUEST_PROFILE)
        .arg("--target-dir")
        .arg(&target_dir);
    for package in packages {
        command.arg("--package").arg(package);
    }
    // The outer build's flags and wrappers are for the host target, not for wasm guests.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build guest components: {e}"));
    assert!(
        status.success(),
        "building guest components {packages:?} for {GUEST_TARGET} failed (see the cargo output above)"
    );
    packages
        .iter()
        .map(|package| {
            let path = target_dir
                .join(GUEST_TARGET)
                .join(GUEST_PROFILE)
                .join(format!("{}.wasm", package.replace('-', "_")));
            assert!(path.exists(), "guest build finished but {} is missing", path.display());
            BuiltGuest { package: package.to_string(), path }
        })
        .collect()
}

/// Tells cargo to rerun the build script when anything under these directories changes.
pub fn rerun_if_changed(dirs: &[PathBuf]) {
    for dir in dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
}

/// `target/wasm-guests`, shared by every build script so guest dependencies compile once.
fn guest_target_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    // OUT_DIR = <target>[/<triple>]/<profile>/build/<pkg>-<hash>/out
    let profile_dir = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .expect("OUT_DIR has the usual <profile>/build/<pkg>/out shape");
    profile_dir.parent().unwrap_or(profile_dir).join("wasm-guests")
}

fn ensure_target_installed() {
    if target_installed() {
        return;
    }
    println!(
        "cargo:warning=installing the {GUEST_TARGET} Rust target (rustup target add {GUEST_TARGET})"
    );
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", GUEST_TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    let status = rustup.status().unwrap_or_else(|e| {
        panic!("the {GUEST_TARGET} target is missing and rustup could not be run ({e}); install it with `rustup target add {GUEST_TARGET}`")
    });
    // Another build script may have installed it concurrently; only the end state matters.
    assert!(
        status.success() || target_installed(),
        "`rustup target add {GUEST_TARGET}` failed; run it by hand and rebuild"
    );
}

fn target_installed() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let Ok(output) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Path::new(&sysroot).join("lib/rustlib").join(GUEST_TARGET).exists()
}
