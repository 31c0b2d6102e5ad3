//! The bundled connectors against their fake ATS servers: protocol specifics, the generic
//! conformance kit and the seed scenario, a module per connector.

mod ashby;
mod bamboohr;
mod carerix;
mod greenhouse;
mod jazzhr;
mod lever;
mod manifest_sandbox;
mod mysolution;
mod otys;
mod recruitee;
mod smartrecruiters;
mod teamtailor;
mod tigris;
mod workable;
