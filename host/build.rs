//! Builds the bundled connectors (every crate under `connectors/` plus the example
//! connector) to wasm32-wasip2 components and embeds them in the host binary.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let host_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = host_dir.parent().expect("host/ sits in the workspace root").to_path_buf();

    let mut packages = vec!["minimal-connector".to_string()];
    packages.extend(connector_packages(&root.join("connectors")));
    let names: Vec<&str> = packages.iter().map(String::as_str).collect();
    let built = ats_guest_build::build_guests(&root, &names);

    let mut generated = String::from(
        "/// Connectors compiled into this binary: (cargo package, component bytes).\n",
    );
    generated.push_str("pub const BUNDLED: &[(&str, &[u8])] = &[\n");
    for guest in &built {
        generated
            .push_str(&format!("    ({:?}, include_bytes!({:?})),\n", guest.package, guest.path));
    }
    generated.push_str("];\n");
    generated.push_str(
        "/// Manifest connectors bundled with this binary (`connectors/manifests/<name>/connector.toml`):\n/// (name, manifest text), packed into the generic component when loaded.\n",
    );
    generated.push_str("pub const BUNDLED_MANIFESTS: &[(&str, &str)] = &[\n");
    for (name, path) in manifest_files(&root.join("connectors/manifests")) {
        generated.push_str(&format!("    ({name:?}, include_str!({path:?})),\n"));
    }
    generated.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("bundled.rs");
    fs::write(&out, generated).expect("write bundled.rs");

    ats_guest_build::rerun_if_changed(&[
        root.join("wit"),
        root.join("sdk"),
        root.join("connectors"),
        root.join("examples/minimal-connector"),
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
    ]);
}

/// (directory name, path of `connector.toml`) of every manifest connector, sorted.
fn manifest_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            (entry.file_name().to_string_lossy().into_owned(), entry.path().join("connector.toml"))
        })
        .filter(|(_, path)| path.is_file())
        .collect();
    found.sort();
    found
}

/// Package names of the connector components under `connectors/`: the crates built as
/// `cdylib`. Plain library crates there (shared helpers such as `connectors/salesforce`) are
/// dependencies of connectors, not connectors.
fn connector_packages(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| fs::read_to_string(entry.path().join("Cargo.toml")).ok())
        .filter(|manifest| manifest.contains("\"cdylib\""))
        .filter_map(|manifest| {
            manifest.lines().find_map(|line| {
                let value = line.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_string())
            })
        })
        .collect();
    names.sort();
    names
}
