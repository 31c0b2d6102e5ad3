//! Every bound the crate puts on what a manifest, a config, an input or a response can make
//! it do, in one place.

/// Largest manifest text accepted (bytes).
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;
/// Config fields a manifest may declare (the host's manifest limit).
pub const MAX_CONFIG_FIELDS: usize = 200;
/// Egress entries a manifest may declare (the host's manifest limit).
pub const MAX_EGRESS_HOSTS: usize = 64;
/// Longest rendered template (bytes); above the host's 25 MiB request-body cap.
pub const MAX_TEMPLATE_OUTPUT_BYTES: usize = 32 * 1024 * 1024;
/// Longest request URL (bytes).
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Longest header value (bytes).
pub const MAX_HEADER_VALUE_BYTES: usize = 8 * 1024;
/// Segments in one selector path.
pub const MAX_SELECTOR_DEPTH: usize = 32;
/// Records one page may hold.
pub const MAX_RECORDS_PER_PAGE: usize = 10_000;
/// `paginate.max_pages` when the manifest does not set it.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;
/// The largest `paginate.max_pages` a manifest may set.
pub const MAX_MAX_PAGES: u32 = 100_000;
/// `page_size` when neither the operation nor `[defaults]` sets it.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest `page_size`.
pub const MAX_PAGE_SIZE: u32 = 10_000;
/// Longest page token this crate hands out or accepts (bytes).
pub const MAX_PAGE_TOKEN_BYTES: usize = 16 * 1024;
/// Characters of a response body kept in an error.
pub const EXCERPT_CHARS: usize = 300;
/// Transforms on one field.
pub const MAX_TRANSFORMS: usize = 16;
/// Nesting of `each` field mappings.
pub const MAX_FIELD_NESTING: usize = 4;
/// Look-ups an upsert with `dedupe` makes at most (e-mails first, then phones).
pub const MAX_DEDUPE_LOOKUPS: usize = 20;
/// Seconds an OAuth2 access token is dropped before its `expires_in`.
pub const TOKEN_EXPIRY_MARGIN_SECONDS: u32 = 60;
/// Lifetime assumed for an OAuth2 access token whose answer has no `expires_in`.
pub const DEFAULT_TOKEN_LIFETIME_SECONDS: u32 = 3600;
/// `session.ttl_seconds` when the manifest does not set it.
pub const DEFAULT_SESSION_TTL_SECONDS: u32 = 3600;
/// Longest string in `[connector]` (id, name, version) and config help texts.
pub const MAX_LABEL_CHARS: usize = 1000;
