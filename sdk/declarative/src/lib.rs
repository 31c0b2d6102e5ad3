//! Declarative ATS connectors: a TOML **connector manifest** maps an ATS's REST API onto
//! the operations of the `ats:connector` contract, and this crate parses, validates and
//! executes it. It is pure Rust with no I/O of its own (no threads, files, network or
//! clock): requests go through a [`Transport`] the caller implements, so the same code runs
//! natively in tests and inside the generic wasm connector.
//!
//! ```ignore
//! let manifest = Manifest::parse(&text)?;            // every error with line, column, key path
//! let executor = Executor::new(&manifest, &config)?; // the connection's config
//! let page = executor.list(&mut transport, "list-jobs", None, since, &json!({}))?;
//! let receipt = executor.one(&mut transport, "add-note", &json!({"target": {"candidate": "c1"}, "body": "hi"}))?;
//! ```
//!
//! The format is described in the crate's README.md.

mod auth;
mod body;
mod de;
mod error;
mod execute;
mod gaps;
pub mod limits;
mod manifest;
mod memo;
mod paginate;
mod raw;
mod records;
mod request;
mod rules;
mod schema;
mod select;
pub mod slot;
mod spec;
mod template;
mod time;
mod transform;
mod transport;
mod tree;
mod validate;
mod validate_ops;
mod validate_request;
mod webhook;

pub use error::{DeclError, ManifestError, ManifestErrors, TransportError};
pub use execute::{Executor, Page};
pub use gaps::Gaps;
pub use manifest::{ConfigField, Describe, Manifest};
pub use records::Record;
pub use time::{civil_from_days, days_from_civil};
pub use transport::{HttpRequest, HttpResponse, Transport};
pub use webhook::{ParsedWebhook, WebhookReply};
