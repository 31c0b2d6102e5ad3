//! How a node reaches its database, from the URL an operator writes: libpq's `sslmode` and
//! `sslrootcert` parameters are read here (tokio-postgres knows neither `verify-*` nor
//! `sslrootcert`) and taken out of the URL before the driver parses it.
//!
//! | `sslmode` | the connection |
//! |---|---|
//! | absent, `disable`, `allow`, `prefer` | plain (as on a trusted network or a Unix socket) |
//! | `require`, `verify-ca`, `verify-full` | TLS, the server's certificate verified, host name included |
//!
//! Certificates are always verified (`require` is as strict as `verify-full`: a node never
//! sends its credentials to an unverified server), against the Mozilla roots
//! (`webpki-roots`) plus the PEM certificates of `sslrootcert` (a managed database's own
//! CA, e.g. Amazon RDS's bundle). TLS is rustls with the `ring` provider, the same stack
//! the host's HTTP clients use.

use super::redacted;
use crate::store::StoreError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The driver's view of a database URL.
pub(crate) struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
}

/// Reads `url` (a `postgres://` URL, or libpq's `key=value` form).
pub(crate) fn target(url: &str) -> Result<Target, StoreError> {
    let shown = redacted(url);
    let refuse = |reason: String| StoreError::Connect { url: shown.clone(), reason };
    let (rest, mode, root_cert) = take_tls_parameters(url);
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| {
        refuse(format!(
            "not a PostgreSQL URL ({e}); expected postgres://user:password@host:port/database[?sslmode=require]"
        ))
    })?;
    let encrypted = match mode.as_deref() {
        None => config.get_ssl_mode() == SslMode::Require,
        Some("disable" | "allow" | "prefer") => false,
        Some("require" | "verify-ca" | "verify-full") => true,
        Some(other) => {
            return Err(refuse(format!(
                "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
            )));
        }
    };
    config.ssl_mode(if encrypted { SslMode::Require } else { SslMode::Disable });
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(file) = root_cert {
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&file)
            .and_then(|found| found.collect::<Result<_, _>>())
            .map_err(|e| {
                refuse(format!("cannot read the CA certificates in sslrootcert {file}: {e}"))
            })?;
        if certificates.is_empty() {
            return Err(refuse(format!("sslrootcert {file} holds no PEM certificate")));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| refuse(format!("a certificate in sslrootcert {file}: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refuse(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Target { config, tls: MakeRustlsConnect::new(client) })
}

/// `url` without its `sslmode` and `sslrootcert` query parameters, and their values; a
/// `key=value` connection string is left as it is.
fn take_tls_parameters(url: &str) -> (String, Option<String>, Option<String>) {
    let Ok(mut parsed) = url::Url::parse(url) else { return (url.to_string(), None, None) };
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return (url.to_string(), None, None);
    }
    let (mut mode, mut root_cert, mut kept) = (None, None, Vec::new());
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "sslmode" => mode = Some(value.into_owned()),
            "sslrootcert" => root_cert = Some(value.into_owned()),
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    (parsed.to_string(), mode, root_cert)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_and_taken_out_of_the_url() {
        let (rest, mode, root) = take_tls_parameters(
            "postgres://ats:pw@db.example:5432/ats?sslmode=verify-full&sslrootcert=/etc/rds.pem&application_name=ats",
        );
        assert_eq!(rest, "postgres://ats:pw@db.example:5432/ats?application_name=ats");
        assert_eq!((mode.as_deref(), root.as_deref()), (Some("verify-full"), Some("/etc/rds.pem")));
        let (rest, mode, _) = take_tls_parameters("host=localhost sslmode=require");
        assert_eq!((rest.as_str(), mode), ("host=localhost sslmode=require", None));
    }

    #[test]
    fn tls_is_on_exactly_when_asked_and_a_bad_mode_or_ca_file_is_named() {
        let on = |url: &str| target(url).map(|t| t.config.get_ssl_mode() == SslMode::Require);
        assert!(!on("postgres://ats@localhost/ats").expect("plain"));
        assert!(!on("postgres://ats@localhost/ats?sslmode=prefer").expect("plain"));
        assert!(on("postgres://ats@localhost/ats?sslmode=require").expect("tls"));
        assert!(on("postgres://ats@localhost/ats?sslmode=verify-full").expect("tls"));
        assert!(on("host=localhost user=ats sslmode=require").expect("tls"));
        let error = on("postgres://ats:secret@localhost/ats?sslmode=strict").expect_err("bad mode");
        assert!(error.to_string().contains("strict") && !error.to_string().contains("secret"));
        let error = on("postgres://ats@localhost/ats?sslmode=require&sslrootcert=/nonexistent.pem")
            .expect_err("missing CA file");
        assert!(error.to_string().contains("/nonexistent.pem"), "{error}");
    }
}
