//! The contract versions this host serves (one frozen folder each under `wit/`, see
//! `wit/README.md`), and detection of the version a component implements from the name of
//! its exported `connector` interface, before any binding is chosen.

use wasmtime::Engine;
use wasmtime::component::Component;

/// The exported interface every connector implements, without its version.
pub const INTERFACE: &str = "ats:connector/connector";

/// Every contract version this host serves, oldest first.
pub const SUPPORTED: &[&str] = &["0.1.0"];

/// The newest contract version this host serves.
pub fn newest() -> &'static str {
    SUPPORTED.last().copied().unwrap_or("0.1.0")
}

/// The contract version `component` implements, or why it implements none this host serves.
pub fn detect(component: &Component, engine: &Engine) -> Result<&'static str, String> {
    let component_type = component.component_type();
    let exports: Vec<&str> = component_type.exports(engine).map(|(name, _)| name).collect();
    let prefix = format!("{INTERFACE}@");
    let Some(version) = exports.iter().find_map(|name| name.strip_prefix(prefix.as_str())) else {
        let shown: Vec<&str> = exports.iter().take(10).copied().collect();
        return Err(format!(
            "exports no `{INTERFACE}` interface (it exports: {}); build it against a folder of wit/",
            if shown.is_empty() { "nothing".to_string() } else { shown.join(", ") }
        ));
    };
    SUPPORTED.iter().copied().find(|supported| *supported == version).ok_or_else(|| {
        format!(
            "implements contract {version}, which this host does not serve (it serves {}); build it against one of those, or update the host",
            SUPPORTED.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// sha256 of every file of every released contract folder. A released folder never
    /// changes (wit/README.md): a new version gets a folder of its own.
    const FROZEN: &[(&str, &str)] = &[(
        "since_v0.1.0/connector.wit",
        "49c91a32fe6679c70226205045c8bf68814cb9f7ee39873a247bd5e9cde7387a",
    )];

    #[test]
    fn released_contract_folders_are_frozen() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        for (file, expected) in FROZEN {
            let bytes = std::fs::read(wit.join(file))
                .unwrap_or_else(|e| panic!("released contract file wit/{file} is missing: {e}"));
            assert_eq!(
                hex::encode(Sha256::digest(&bytes)),
                *expected,
                "wit/{file} changed; a released contract never changes: add a new version folder instead"
            );
        }
        for version in super::SUPPORTED {
            let folder = format!("since_v{version}/");
            assert!(
                FROZEN.iter().any(|(file, _)| file.starts_with(&folder)),
                "contract {version} is served but its folder has no frozen hash"
            );
        }
    }
}
