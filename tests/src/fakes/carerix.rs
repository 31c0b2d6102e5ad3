//! Fake carerix server (being written).
