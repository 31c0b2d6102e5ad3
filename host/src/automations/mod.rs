//! Automations: "when this happens in the ATS, do that", exactly once per (automation,
//! trigger event). An automation of a tenant has one trigger, typed conditions over the
//! trigger's data and ordered actions; matching events become **firings** in an outbox,
//! each action of a firing runs once through the write journal. Assessment **orders**
//! carry the assessment-partner flow (ordered → … → result posted, write-once results).
//!
//! Nothing here knows HTTP: the API maps these types and errors onto routes and problems.
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | automations, triggers, actions, stage mappings, push defaults |
//! | [`validate`] | checks of an automation on save, typed issues naming the field |
//! | [`document`] | the data each trigger provides (its document), and host-made trigger events |
//! | [`conditions`] | typed conditions (`all` / `any`) and their evaluation |
//! | [`contradictions`] | refusing condition groups that can never hold |
//! | [`values`] | reading a document: paths, loose typing, bounded regexes |
//! | [`template`] | `{{result.score}}` note templates |
//! | [`orders`] | assessment orders: the state machine and write-once results |
//! | [`storage`] | automations, mappings, defaults and orders on sled behind a trait |
//! | [`outbox`] | firings with per-action status, on sled behind a trait |
//! | [`plan`] | what each action of a firing does (shared by runs and dry runs) |
//! | [`matching`] | events → firings: trigger event keys, backfill on enable, dry runs |
//! | [`engine`] | running firings (retries, failures, resumption), order expiry, the worker |
//! | [`host_effects`] | the engine's effects on the running host (writes, webhooks) |

pub mod conditions;
pub mod contradictions;
pub mod document;
pub mod engine;
pub mod host_effects;
pub mod matching;
pub mod model;
pub mod orders;
pub mod outbox;
pub mod plan;
pub mod storage;
pub mod template;
pub mod validate;
pub mod values;

pub use model::*;
#[cfg(test)]
mod tests;
