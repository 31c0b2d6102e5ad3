//! The bundled connectors against their fake ATS servers: protocol specifics, the generic
//! conformance kit and the seed scenario, a module per connector.

mod carerix;
mod manifest_sandbox;
mod mysolution;
mod otys;
mod recruitee;
mod teamtailor;
mod tigris;
mod workable;
