//! The mysolution connector against its fake (being written).
