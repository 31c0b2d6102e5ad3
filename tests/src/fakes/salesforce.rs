//! Fake salesforce server (being written).
