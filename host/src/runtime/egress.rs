//! Egress policy: which URLs a connector may reach. This is where the allow-list is checked.
//!
//! | rule | meaning |
//! |---|---|
//! | empty allow-list | every request is denied (fail closed) |
//! | `https://api.example.com` | that scheme and host, the scheme's default port |
//! | `https://*.example.com` | any subdomain (any depth), not `example.com` itself |
//! | `http://127.0.0.1:*` | any port |
//! | `{field}` | the origin of the connection's config value (e.g. a base URL) |
//! | `https://{instance}.my.salesforce.com` | config value substituted, then parsed strictly |
//! | private networks | loopback, RFC 1918, link-local, CGNAT, ULA, ... are blocked after DNS resolution unless the connection allows them |
//!
//! Entries come from the connector's manifest (`egress-hosts`), rendered with the
//! connection's config. A rendered entry that does not parse (e.g. a config value with a
//! `/` in it) is dropped, so a config value can never widen the list beyond one host.

use crate::model::Field;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use thiserror::Error;

/// A parsed allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: String,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.suffix`: matches `a.suffix`, `a.b.suffix`, never `suffix` itself.
    Subdomain(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Exact(u16),
    Any,
}

/// Why an allow-list entry was rejected.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "egress entry `{entry}` is invalid: {reason} (expected scheme://host[:port], e.g. https://api.example.com or https://*.example.com:8443)"
)]
pub struct InvalidEntry {
    pub entry: String,
    pub reason: &'static str,
}

impl AllowedHost {
    /// Parses `scheme://host[:port]` (`*.` subdomain wildcard, `:*` any port, an optional
    /// trailing `/`, nothing else).
    pub fn parse(entry: &str) -> Result<Self, InvalidEntry> {
        let invalid = |reason| InvalidEntry { entry: entry.to_string(), reason };
        let (scheme, rest) = entry.split_once("://").ok_or_else(|| invalid("missing scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(invalid("scheme must be http or https"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@', '\\']) {
            return Err(invalid("paths, queries and credentials are not allowed"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| invalid("bad port"))?;
        let port = match port {
            None => PortPattern::Exact(default_port(&scheme)),
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(p.parse().map_err(|_| invalid("bad port"))?),
        };
        let host = host.to_ascii_lowercase();
        let host = if let Some(suffix) = host.strip_prefix("*.") {
            HostPattern::Subdomain(suffix.to_string())
        } else {
            HostPattern::Exact(host)
        };
        let name = match &host {
            HostPattern::Exact(h) | HostPattern::Subdomain(h) => h,
        };
        let valid_host = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if !valid_host {
            return Err(invalid(
                "host may contain only letters, digits, '.', '-' and a leading '*.'",
            ));
        }
        Ok(Self { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` is covered by this entry.
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        if !self.scheme.eq_ignore_ascii_case(scheme) {
            return false;
        }
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => p == port,
        };
        let host = host.to_ascii_lowercase();
        let host_ok = match &self.host {
            HostPattern::Exact(h) => *h == host,
            HostPattern::Subdomain(suffix) => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        };
        port_ok && host_ok
    }
}

fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        // [ipv6]:port
        let (addr, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((&authority[..addr.len() + 2], port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((authority, None)),
    }
}

/// The default port of `http`/`https`.
pub fn default_port(scheme: &str) -> u16 {
    if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 }
}

/// The allow-list of one call: the manifest's entries rendered with the connection config.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allowed: Vec<AllowedHost>,
    /// Loopback and private networks may be reached (tests, the demo, on-premise ATSs).
    pub allow_private_networks: bool,
}

/// Why a request was denied.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EgressDenied {
    #[error(
        "{url} is not on this connector's egress allow-list ({allowed}); add it to the manifest's egress-hosts or the connection config"
    )]
    NotAllowed { url: String, allowed: String },
    #[error(
        "`{host}` ({addr}) is a private or local address; private networks are blocked unless the connection sets allow-private-networks"
    )]
    PrivateAddress { host: String, addr: IpAddr },
    #[error("{url} is not an absolute http(s) URL")]
    BadUrl { url: String },
}

impl EgressPolicy {
    /// Renders the manifest's `egress-hosts` with the connection config. Entries whose
    /// placeholders are missing, or that do not parse after substitution, are skipped and
    /// returned as warnings.
    pub fn from_manifest(
        entries: &[String],
        config: &[Field],
        allow_private_networks: bool,
    ) -> (Self, Vec<String>) {
        let mut allowed = Vec::new();
        let mut warnings = Vec::new();
        for entry in entries {
            match render_entry(entry, config) {
                Ok(rendered) => match AllowedHost::parse(&rendered) {
                    Ok(host) => allowed.push(host),
                    Err(e) => warnings.push(e.to_string()),
                },
                Err(warning) => warnings.push(warning),
            }
        }
        (Self { allowed, allow_private_networks }, warnings)
    }

    /// Checks scheme, host and port of `url` against the allow-list (before any DNS), and
    /// an IP-literal host against the private-network block.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), EgressDenied> {
        let scheme = url.scheme();
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(EgressDenied::BadUrl { url: url.to_string() });
        };
        if scheme != "http" && scheme != "https" {
            return Err(EgressDenied::BadUrl { url: url.to_string() });
        }
        if !self.allowed.iter().any(|a| a.matches(scheme, host, port)) {
            let allowed = self.allowed_summary();
            return Err(EgressDenied::NotAllowed {
                url: format!("{scheme}://{host}:{port}"),
                allowed,
            });
        }
        if let Some(addr) = literal_address(url) {
            self.check_addr(host, addr)?;
        }
        Ok(())
    }

    /// The allow-list for a denial message: the first few entries and how many more, so a
    /// long list cannot make every denial a megabyte of log.
    fn allowed_summary(&self) -> String {
        const SHOWN: usize = 5;
        if self.allowed.is_empty() {
            return "the list is empty".to_string();
        }
        let mut text = self
            .allowed
            .iter()
            .take(SHOWN)
            .map(AllowedHost::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if self.allowed.len() > SHOWN {
            text.push_str(&format!(" and {} more", self.allowed.len() - SHOWN));
        }
        text
    }

    /// Checks one resolved address against the private-network block.
    pub fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), EgressDenied> {
        if !self.allow_private_networks && is_private(addr) {
            return Err(EgressDenied::PrivateAddress { host: host.to_string(), addr });
        }
        Ok(())
    }
}

impl std::fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = match &self.host {
            HostPattern::Exact(h) => h.clone(),
            HostPattern::Subdomain(s) => format!("*.{s}"),
        };
        match self.port {
            PortPattern::Any => write!(f, "{}://{host}:*", self.scheme),
            PortPattern::Exact(p) => write!(f, "{}://{host}:{p}", self.scheme),
        }
    }
}

/// Substitutes `{field}` placeholders. A whole-entry placeholder (`{base-url}`) becomes the
/// origin of the value's URL; inside an entry (`https://{instance}.my.salesforce.com`), the
/// value must be one literal host label sequence. Config values are literal: a `*` or any
/// character outside a host name is refused, so a tenant's value can never become a
/// wildcard (`https://*.com`) or widen the list; wildcards come only from the manifest.
/// The error is the warning to log.
fn render_entry(entry: &str, config: &[Field]) -> Result<String, String> {
    let lookup = |name: &str| {
        config
            .iter()
            .find(|f| f.name == name && !f.value.is_empty())
            .map(|f| f.value.as_str())
            .ok_or_else(|| {
                format!("egress entry `{entry}` skipped: config field `{name}` is not set")
            })
    };
    let refuse = |name: &str, why: &str| {
        format!("egress entry `{entry}` skipped: config field `{name}` {why}")
    };
    if let Some(name) = entry.strip_prefix('{').and_then(|e| e.strip_suffix('}'))
        && !name.contains(['{', '}'])
    {
        let value = lookup(name)?;
        let url = reqwest::Url::parse(value)
            .map_err(|_| refuse(name, "is not an absolute http(s) URL"))?;
        let host = url.host_str().unwrap_or_default();
        if !is_literal_host(host.trim_start_matches('[').trim_end_matches(']')) {
            return Err(refuse(name, "must name one literal host (no wildcards)"));
        }
        return Ok(url.origin().ascii_serialization());
    }
    let mut out = String::new();
    let mut rest = entry;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &rest[start + 1..start + end];
        let value = lookup(name)?;
        if !is_literal_host(value) {
            return Err(refuse(name, "may contain only letters, digits, '.' and '-' here"));
        }
        out.push_str(value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A host name or address written out: letters, digits, `.`, `-` (and `:` for IPv6).
fn is_literal_host(host: &str) -> bool {
    !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

/// The address a URL names without DNS: an IP literal, or `localhost` (which every resolver
/// answers with loopback). Both the connector egress policy and webhook delivery check it
/// before any request, so a private literal is refused with a clear reason up front.
pub fn literal_address(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        url::Host::Domain(_) => None,
    }
}

/// Whether an address is not globally routable: loopback, private, link-local, CGNAT,
/// unspecified, broadcast, documentation, benchmarking, multicast, ULA, and IPv4-mapped
/// forms of those.
pub fn is_private(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_private_v4(v4);
            }
            let segments = v6.segments();
            let first = segments[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || segments[..2] == [0x2001, 0x0db8] // documentation
                || segments[..3] == [0x64, 0xff9b, 0x1] // local-use NAT64 64:ff9b:1::/48
        }
    }
}

/// The IPv4 address an IPv6 address stands for, where it embeds one: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated but still routed by some
/// stacks) and the well-known NAT64 prefix (`64:ff9b::a.b.c.d`), which a NAT64 gateway
/// translates to that IPv4 address.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let compatible = s[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (compatible || nat64).then_some(tail)
}

fn is_private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Vec<Field> {
        pairs.iter().map(|(k, v)| Field { name: k.to_string(), value: v.to_string() }).collect()
    }

    fn allows(policy: &EgressPolicy, url: &str) -> bool {
        let url = reqwest::Url::parse(url).expect("test URL parses");
        policy.check_url(&url).is_ok()
    }

    #[test]
    fn empty_list_denies_everything() {
        let policy = EgressPolicy::default();
        assert!(!allows(&policy, "https://api.example.com/"));
    }

    #[test]
    fn exact_wildcard_and_port_rules() {
        let entries = ["https://api.example.com".to_string(), "https://*.ats.io".to_string()];
        let (policy, warnings) = EgressPolicy::from_manifest(&entries, &[], false);
        assert!(warnings.is_empty());
        assert!(allows(&policy, "https://api.example.com/v1/jobs"));
        assert!(allows(&policy, "https://API.example.com/"));
        assert!(!allows(&policy, "http://api.example.com/"), "scheme must match");
        assert!(!allows(&policy, "https://api.example.com:8443/"), "port must match");
        assert!(!allows(&policy, "https://evil-api.example.com/"));
        assert!(allows(&policy, "https://a.b.ats.io/"));
        assert!(!allows(&policy, "https://ats.io/"), "wildcard needs a subdomain");
        assert!(!allows(&policy, "https://evilats.io/"));
    }

    #[test]
    fn config_values_are_substituted_but_cannot_widen_the_list() {
        let entries =
            ["https://{instance}.my.salesforce.com".to_string(), "{base-url}".to_string()];
        let config = cfg(&[("instance", "acme"), ("base-url", "https://ats.acme.nl/api/v2")]);
        let (policy, warnings) = EgressPolicy::from_manifest(&entries, &config, false);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(allows(&policy, "https://acme.my.salesforce.com/services"));
        assert!(allows(&policy, "https://ats.acme.nl/api/v2/jobs"));

        let hostile = cfg(&[("instance", "evil.com/"), ("base-url", "")]);
        let (policy, warnings) = EgressPolicy::from_manifest(&entries, &hostile, false);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(!allows(&policy, "https://evil.com/"));
    }

    /// `egress_wildcard`: a config value is a literal host, never a pattern.
    #[test]
    fn egress_wildcard_config_values_cannot_become_wildcards() {
        let entries =
            ["https://{instance}.my.salesforce.com".to_string(), "{base-url}".to_string()];
        for (instance, base_url) in
            [("*", "https://*.com"), ("a.*", "https://*.example.com/api"), ("x:*", "https://*")]
        {
            let hostile = cfg(&[("instance", instance), ("base-url", base_url)]);
            let (policy, warnings) = EgressPolicy::from_manifest(&entries, &hostile, false);
            assert_eq!(warnings.len(), 2, "{instance} / {base_url}: {warnings:?}");
            assert!(warnings.iter().all(|w| w.contains("skipped")), "{warnings:?}");
            assert!(!allows(&policy, "https://google.com/"));
            assert!(!allows(&policy, "https://evil.my.salesforce.com/"));
        }
    }

    #[test]
    fn private_addresses_are_blocked_unless_allowed() {
        let entries = ["http://127.0.0.1:*".to_string(), "http://10.0.0.1".to_string()];
        let (strict, _) = EgressPolicy::from_manifest(&entries, &[], false);
        assert!(matches!(
            strict.check_url(&reqwest::Url::parse("http://127.0.0.1:9000/").expect("url")),
            Err(EgressDenied::PrivateAddress { .. })
        ));
        let (open, _) = EgressPolicy::from_manifest(&entries, &[], true);
        assert!(allows(&open, "http://127.0.0.1:9000/"));
        for private in [
            "10.1.2.3",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
            "64:ff9b:1::1",       // local-use NAT64
            "::127.0.0.1",        // IPv4-compatible
            "::10.0.0.1",
            "64:ff9b::",
        ] {
            assert!(is_private(private.parse().expect("ip")), "{private}");
        }
        for public in ["8.8.8.8", "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(!is_private(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn malformed_entries_explain_themselves() {
        let err = AllowedHost::parse("ftp://x").expect_err("ftp is not allowed");
        assert!(err.to_string().contains("scheme must be http or https"));
        assert!(AllowedHost::parse("https://x.com/path").is_err());
        assert!(AllowedHost::parse("https://user@x.com").is_err());
        assert!(AllowedHost::parse("https://[::1]:8080").is_ok());
    }
}
