//! The HTTP API end to end: routes and errors, API keys and tenancy, connector upload,
//! outbound webhooks, automations.

pub(crate) mod automation_kills;
mod automations;
mod budgets;
mod carerix_over_http;
mod connectors;
mod contract_versions;
pub(crate) mod end_to_end;
mod errors;
mod inbound;
mod observability;
mod openapi;
mod optional_parts;
mod product_reads;
pub(crate) mod receiver;
mod requests;
mod seed_workflows;
pub(crate) mod through_the_host;
mod webhooks;
