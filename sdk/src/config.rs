//! Reading a connection's configuration (`list<field>`) by name.

use crate::bindings::ats::connector::types::{AtsError, Field};

/// Lookups on the `config` every operation receives.
pub trait ConfigExt {
    /// The value of `name`, if present and not empty.
    fn value(&self, name: &str) -> Option<&str>;
    /// The value of `name`, or `invalid-input` naming the missing field.
    fn require(&self, name: &str) -> Result<&str, AtsError>;
}

impl ConfigExt for [Field] {
    fn value(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|field| field.name == name)
            .map(|field| field.value.as_str())
            .filter(|value| !value.is_empty())
    }

    fn require(&self, name: &str) -> Result<&str, AtsError> {
        self.value(name).ok_or_else(|| {
            AtsError::InvalidInput(format!("config field `{name}` is required but missing"))
        })
    }
}
