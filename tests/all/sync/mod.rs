//! The sync engine against the host's sandbox ATS through the bundled `sandbox` connector.
//! Each test names the reliability case (RT-xx, research/peers-and-reliability.md §3) it covers.

mod crash;
mod lifecycle;
mod paging;
mod rate_limits;
mod scheduling;
mod shutdown;
mod stages;
