//! The tigris connector against its fake (being written).
