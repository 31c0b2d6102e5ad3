//! Placeholder: being written.

use ats_connector_sdk::prelude::*;

struct Placeholder;

impl Connector for Placeholder {
    fn describe() -> Manifest {
        Manifest {
            id: "carerix".into(),
            ats_name: "carerix".into(),
            connector_version: env!("CARGO_PKG_VERSION").into(),
            operations: vec![],
            config_fields: vec![],
            egress_hosts: vec![],
        }
    }
}

ats_connector_sdk::export_connector!(Placeholder);
