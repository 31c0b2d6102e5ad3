//! Native tests of the declarative connector crate, against a scripted fake transport.

mod auth;
mod bodies;
mod common;
mod errors;
mod fields;
mod incremental;
mod paginate;
mod parse_errors;
mod sandbox;
mod templates;
mod webhooks;
