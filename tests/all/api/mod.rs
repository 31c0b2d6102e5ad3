//! The HTTP API end to end: routes and errors, API keys and tenancy, connector upload,
//! outbound webhooks.

mod connectors;
mod errors;
mod receiver;
mod webhooks;
