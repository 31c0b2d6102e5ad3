//! The carerix connector against its fake (being written).
