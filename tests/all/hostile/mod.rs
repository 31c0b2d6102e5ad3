//! Hostile connectors, tried as an attacker would (issue: sandbox hardening). Each test is
//! named after the hazard it keeps out and fails without its fix:
//!
//! | test | hazard |
//! |---|---|
//! | `headers` | tens of thousands of request headers panicked the host |
//! | `memories` | the memory limit was per memory, not per call; slots stayed resident |
//! | `pool` | one connector took every pool slot and other tenants failed |
//! | `spin_api` | spinning guests froze the API |
//! | `manifest_size` | huge manifests, quadratic checks (also `loader` unit tests) |
//! | `state_quota` | connector state grew without bound, and outlived its connection |
//! | `private_grant` | a private-network grant followed a tenant-edited base URL |
//! | `egress_wildcard` | a config value became a wildcard (`egress` unit tests) |
//! | `log_forge` | guest text forged log lines |
//! | `error_cap` | megabyte errors and `raw` fields were stored and served |
//! | `pin_hash` | a pin followed a version string to other bytes |
//! | `panics` | a panic left a sync run `running` forever |

mod api;
mod calls;
mod loading;
