//! Salesforce helpers shared by the connectors of ATSs built as Salesforce managed packages
//! (Tigris, MySolution): the org settings and config fields, the OAuth2 client-credentials
//! token (cached in host `state`, one refresh on `INVALID_SESSION_ID`), REST calls with
//! Salesforce's error array mapped onto `ats-error`, SOQL queries paged by
//! `nextRecordsUrl`, candidates kept in a configurable sObject (default `Contact`) and
//! files as `ContentVersion`, the configurable mappings of notes, tags, the pipeline and
//! applications, and Outbound Messages.
//! See `README.md`.

pub mod applications;
pub mod auth;
pub mod candidates;
pub mod client;
pub mod errors;
pub mod files;
pub mod mappings;
pub mod outbound;
pub mod settings;
pub mod soql;

pub use client::{Client, QueryPage};
pub use settings::{CandidateMapping, OrgSettings};
