//! Salesforce helpers shared by the Tigris and MySolution connectors (being written).
