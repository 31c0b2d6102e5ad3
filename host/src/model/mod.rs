//! The host's own model of an ATS: jobs, stages, candidates, applications, write inputs,
//! manifests and errors. Every contract version's bindings convert into and out of these
//! types (`runtime::contract::v0_1`, `v0_2`); sync, writes, the journal and the API use only
//! them, so a new contract version never reaches past the runtime.
//!
//! The model follows the newest contract (0.2.0). Fields an older contract lacks are
//! empty when a connector of that version answers. Serialised field names are the Rust
//! names (as the CLI's `connector call --input` has always read them); fields newer than
//! 0.1.0 default when absent.
//!
//! | module | owns |
//! |---|---|
//! | [`manifest`] | `Operation`, `Manifest`, config fields, result write modes |
//! | [`records`] | what is read: jobs, stages, candidates, applications, tags, users |
//! | [`writes`] | what is written: candidate and application input, notes, tags, files, results |
//! | [`errors`] | `AtsError`, the one typed answer of a failing operation |
//! | [`egress`] | the guest's outbound HTTP request and response, and its log levels |

pub mod egress;
pub mod errors;
pub mod manifest;
pub mod records;
pub mod writes;

pub use errors::{AtsError, RateLimit, RemoteFailure};
pub use manifest::{ConfigField, Manifest, Operation, ResultMode};
pub use records::*;
pub use writes::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A key/value pair: connection configuration, custom fields, HTTP headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// The configuration of one connection, validated against the manifest's config fields.
pub type Config = Vec<Field>;

/// Paging and incremental-read input. The host owns the cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub page_token: Option<String>,
    /// RFC 3339: only records modified at or after it.
    pub since: Option<String>,
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The first page, no filter.
    pub fn first() -> Self {
        Self::default()
    }
}
