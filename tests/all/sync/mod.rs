//! The sync engine: reliability tests named after RT-01…RT-26 (being written).
