//! Fake otys server (being written).
