//! The otys connector against its fake (being written).
