//! Python guests: a connector written in Python, built into a component with
//! [componentize-py](https://pypi.org/project/componentize-py/) from a build script.
//!
//! The tool is installed from PyPI, at the exact version [`COMPONENTIZE_PY_VERSION`], into a
//! virtual environment of its own under the cargo target directory
//! (`<target>/python-tools/componentize-py-<version>/`), the way [`crate::build_guests`]
//! installs the `wasm32-wasip2` Rust target when it is missing. Only `python3` with its
//! `venv` and `pip` modules must be on the machine; a missing one fails the build with what
//! to install.
//!
//! A component is rebuilt only when its inputs change (the app's `*.py` files but its
//! `test_*.py`, the WIT files, the world, the tool version): componentizing snapshots CPython
//! and takes seconds.

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The componentize-py release guests are built with. Its components load in wasmtime 48 (a
/// sync world over WASI 0.2: no component-model-async built-ins, which the host's engine
/// leaves off). Change it together with a check that the example still loads and passes
/// `tests/all/example_python.rs`.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// One Python app to build into a component.
#[derive(Debug, Clone)]
pub struct PythonGuest<'a> {
    /// The component's file name without `.wasm`, e.g. `python-connector`.
    pub name: &'a str,
    /// The folder holding the app module (and any modules it imports).
    pub app_dir: &'a Path,
    /// The module that defines the export classes, e.g. `app` for `app.py`.
    pub module: &'a str,
    /// The WIT folder of the world, e.g. `wit/since_v0.2.0`.
    pub wit_dir: &'a Path,
    /// The world to target, e.g. `connector-world`.
    pub world: &'a str,
}

/// What building a Python guest did, with its timings (for the build log and reports).
#[derive(Debug, Clone)]
pub struct BuiltPythonGuest {
    /// Absolute path of the `.wasm` component.
    pub path: PathBuf,
    /// Seconds spent installing componentize-py; `None` when it was already installed.
    pub install_secs: Option<f64>,
    /// The Python bindings of the world (`componentize-py bindings`), for running the app's
    /// logic under the host's CPython in tests, with the host imports faked.
    pub bindings: PathBuf,
    /// The Python interpreter of the tool's virtual environment.
    pub python: PathBuf,
    /// Seconds spent componentizing; `None` when the component was up to date.
    pub componentize_secs: Option<f64>,
}

/// Builds `guest` into `<target>/python-guests/<name>.wasm`, installing componentize-py
/// first when needed. Panics with a clear message on failure (this runs in a build script).
pub fn build_python_guest(guest: &PythonGuest<'_>) -> BuiltPythonGuest {
    let target = target_dir();
    let out_dir = target.join("python-guests");
    fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let path = out_dir.join(format!("{}.wasm", guest.name));
    let stamp_path = out_dir.join(format!("{}.inputs", guest.name));
    let stamp = inputs_stamp(guest);
    let bindings = out_dir.join(format!("{}-bindings", guest.name));
    let up_to_date = path.is_file()
        && bindings.is_dir()
        && fs::read_to_string(&stamp_path).is_ok_and(|kept| kept.trim() == stamp);

    let (tool, install_secs) = ensure_componentize_py(&target);
    let mut componentize_secs = None;
    if !up_to_date {
        let started = Instant::now();
        let _ = fs::remove_file(&stamp_path);
        let partial = out_dir.join(format!("{}.wasm.partial", guest.name));
        // componentize-py writes `__pycache__` beside the modules it imports: it builds from
        // a copy, so the source folder (watched by `rerun-if-changed`) stays untouched.
        let staged = out_dir.join(format!("{}-src", guest.name));
        stage(guest.app_dir, &staged);
        let status = Command::new(&tool)
            .arg("--quiet")
            .arg("-d")
            .arg(guest.wit_dir)
            .arg("-w")
            .arg(guest.world)
            .arg("componentize")
            .arg("-p")
            .arg(&staged)
            .arg(guest.module)
            .arg("-o")
            .arg(&partial)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
        assert!(
            status.success(),
            "componentize-py failed to build {} from {} (see its output above)",
            guest.name,
            guest.app_dir.join(format!("{}.py", guest.module)).display()
        );
        if bindings.exists() {
            fs::remove_dir_all(&bindings)
                .unwrap_or_else(|e| panic!("cannot remove {}: {e}", bindings.display()));
        }
        let status = Command::new(&tool)
            .arg("--quiet")
            .arg("-d")
            .arg(guest.wit_dir)
            .arg("-w")
            .arg(guest.world)
            .arg("bindings")
            .arg(&bindings)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
        assert!(
            status.success(),
            "componentize-py failed to write the bindings of {}",
            guest.world
        );
        fs::rename(&partial, &path)
            .unwrap_or_else(|e| panic!("cannot move the component to {}: {e}", path.display()));
        fs::write(&stamp_path, &stamp)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", stamp_path.display()));
        componentize_secs = Some(started.elapsed().as_secs_f64());
    }
    let python = tool.with_file_name("python");
    BuiltPythonGuest { path, bindings, python, install_secs, componentize_secs }
}

/// `<target>/python-tools/componentize-py-<version>/bin/componentize-py`, installed into a
/// fresh virtual environment when it is not there yet; and the seconds the install took.
pub fn ensure_componentize_py(target: &Path) -> (PathBuf, Option<f64>) {
    let venv =
        target.join("python-tools").join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"));
    let tool = venv.join("bin").join("componentize-py");
    // Written last: a venv without it is an interrupted install, started again.
    let done = venv.join(".installed");
    if done.is_file() && tool.is_file() {
        return (tool, None);
    }
    println!(
        "cargo:warning=installing componentize-py {COMPONENTIZE_PY_VERSION} from PyPI into {}",
        venv.display()
    );
    let started = Instant::now();
    let python = python3();
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .unwrap_or_else(|e| panic!("cannot remove the unfinished {}: {e}", venv.display()));
    }
    let created = Command::new(&python).arg("-m").arg("venv").arg(&venv).status();
    assert!(
        created.is_ok_and(|s| s.success()),
        "`{python} -m venv {}` failed: Python 3's `venv` module (with `ensurepip`) is needed to \
         install componentize-py; install it (Debian/Ubuntu: `apt-get install python3-venv`) \
         and rebuild",
        venv.display()
    );
    let venv_python = venv.join("bin").join("python");
    let installed = Command::new(&venv_python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet"])
        .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}"))
        .status();
    assert!(
        installed.is_ok_and(|s| s.success()) && tool.is_file(),
        "`pip install componentize-py=={COMPONENTIZE_PY_VERSION}` failed (see pip's output \
         above): the build needs pip (Debian/Ubuntu: `apt-get install python3-pip \
         python3-venv`) and access to PyPI"
    );
    fs::write(&done, COMPONENTIZE_PY_VERSION)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", done.display()));
    (tool, Some(started.elapsed().as_secs_f64()))
}

/// The Python 3 interpreter to install with: `$PYTHON3`, else `python3`. Panics, saying
/// what to install, when there is none.
fn python3() -> String {
    let python = env::var("PYTHON3").unwrap_or_else(|_| "python3".to_string());
    let version = Command::new(&python).arg("--version").output();
    match version {
        Ok(output)
            if output.status.success()
                && String::from_utf8_lossy(&output.stdout).starts_with("Python 3.") =>
        {
            python
        }
        _ => panic!(
            "building the Python example connector needs Python 3 with pip and venv, and \
             `{python}` is not one: install them (Debian/Ubuntu: `apt-get install python3 \
             python3-pip python3-venv`) or point $PYTHON3 at a Python 3 interpreter, and rebuild"
        ),
    }
}

/// Copies the Python files under `from` to a fresh `to`.
fn stage(from: &Path, to: &Path) {
    if to.exists() {
        fs::remove_dir_all(to).unwrap_or_else(|e| panic!("cannot remove {}: {e}", to.display()));
    }
    for file in files_under(from) {
        let relative = file.strip_prefix(from).unwrap_or(&file);
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        fs::copy(&file, &target).unwrap_or_else(|e| {
            panic!("cannot copy {} to {}: {e}", file.display(), target.display())
        });
    }
}

/// A digest of everything the component is built from.
fn inputs_stamp(guest: &PythonGuest<'_>) -> String {
    let mut hasher = DefaultHasher::new();
    (COMPONENTIZE_PY_VERSION, guest.module, guest.world).hash(&mut hasher);
    for dir in [guest.app_dir, guest.wit_dir] {
        for file in files_under(dir) {
            file.strip_prefix(dir).unwrap_or(&file).hash(&mut hasher);
            fs::read(&file).unwrap_or_default().hash(&mut hasher);
        }
    }
    format!("{COMPONENTIZE_PY_VERSION}-{:016x}", hasher.finish())
}

/// Python files (`*.py`, and `*.wit` for the WIT folder) under `dir`, recursively, sorted;
/// Python caches and the app's tests (`test_*.py`, run under CPython, not in the component)
/// left out. A README, notes or a test do not make a new component.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = fs::read_dir(&next) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "py" || x == "wit")
                && !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("test_"))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The cargo target directory (`<target>` of `OUT_DIR = <target>[/<triple>]/<profile>/build/
/// <pkg>-<hash>/out`).
fn target_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    let profile_dir = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .expect("OUT_DIR has the usual <profile>/build/<pkg>/out shape");
    profile_dir.parent().unwrap_or(profile_dir).to_path_buf()
}
