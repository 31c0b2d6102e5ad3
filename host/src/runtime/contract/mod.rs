//! The contract versions this host serves (one frozen folder each under `wit/`, see
//! `wit/README.md`), and detection of the version a component implements from the name of
//! its exported `connector` interface, before any binding is chosen.
//!
//! | module | owns |
//! |---|---|
//! | [`v0_1`] | bindings of `wit/since_v0.1.0`, converted to and from the host's model |
//! | [`v0_2`] | bindings of `wit/since_v0.2.0`, converted to and from the host's model |
//! | [`guest`] | a loaded component's exports, whatever its version; one call |
//! | [`convert`] | the `Convert` trait and the macros the version modules use |
//! | `dispatch` | the calls the versions have in common, written once (a macro) |

pub mod convert;
mod dispatch;
pub mod guest;
pub mod v0_1;
pub mod v0_2;

use super::call_state::CallState;
use crate::model::{AtsError, Operation};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

/// The exported interface every connector implements, without its version.
pub const INTERFACE: &str = "ats:connector/connector";

/// A contract version this host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContractVersion {
    V0_1,
    V0_2,
}

/// Every contract version this host serves, oldest first.
pub const SUPPORTED: &[ContractVersion] = &[ContractVersion::V0_1, ContractVersion::V0_2];

impl ContractVersion {
    /// The package version, e.g. `0.2.0`.
    pub fn name(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => "0.1.0",
            ContractVersion::V0_2 => "0.2.0",
        }
    }

    /// The operations this version's `connector` interface has.
    pub fn operations(self) -> &'static [Operation] {
        match self {
            ContractVersion::V0_1 => &Operation::ALL[..14],
            ContractVersion::V0_2 => &Operation::ALL,
        }
    }

    /// The answer to an operation this version does not have.
    pub fn lacks(self, operation: Operation) -> AtsError {
        let newer: Vec<&str> = SUPPORTED
            .iter()
            .filter(|v| v.operations().contains(&operation))
            .map(|v| v.name())
            .collect();
        AtsError::Unsupported(format!(
            "`{}` is not part of contract {} that this connector implements (it is in {}); rebuild the connector against a newer contract to offer it",
            operation.wit_name(),
            self.name(),
            if newer.is_empty() { "no contract yet".to_string() } else { newer.join(", ") }
        ))
    }
}

/// The newest contract version this host serves.
pub fn newest() -> ContractVersion {
    ContractVersion::V0_2
}

/// Adds the imports of every served version (`http`, `log`, `state`) to `linker`.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    v0_1::add_to_linker(linker)?;
    v0_2::add_to_linker(linker)
}

/// The contract version `component` implements, or why it implements none this host serves.
pub fn detect(component: &Component, engine: &Engine) -> Result<ContractVersion, String> {
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
    SUPPORTED.iter().copied().find(|supported| supported.name() == version).ok_or_else(|| {
        let served: Vec<&str> = SUPPORTED.iter().map(|v| v.name()).collect();
        format!(
            "implements contract {version}, which this host does not serve (it serves {}); build it against one of those, or update the host",
            served.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// sha256 of every file of every released contract folder. A released folder never
    /// changes (wit/README.md): a new version gets a folder of its own.
    const FROZEN: &[(&str, &str)] = &[
        (
            "since_v0.1.0/connector.wit",
            "49c91a32fe6679c70226205045c8bf68814cb9f7ee39873a247bd5e9cde7387a",
        ),
        (
            "since_v0.2.0/connector.wit",
            "5701302d9aeac4cd0f0b3ac72d386c5f0f22cc09d36035128b1750279e8c585f",
        ),
    ];

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
            let folder = format!("since_v{}/", version.name());
            assert!(
                FROZEN.iter().any(|(file, _)| file.starts_with(&folder)),
                "contract {} is served but its folder has no frozen hash",
                version.name()
            );
        }
    }
}
