//! The one integration-test binary (wasmtime's layout): a module per area.

mod api;
mod authoring;
mod cli;
mod connectors;
mod egress;
mod example_connector;
mod example_python;
mod hostile;
mod loading;
pub(crate) mod postgres_host;
mod postgres_kills;
mod process;
mod sandbox_limits;
mod store;
mod store_contract;
mod sync;
