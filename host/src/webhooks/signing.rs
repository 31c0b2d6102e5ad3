//! Signatures of outbound webhook deliveries, in the Standard Webhooks format (the one Svix
//! and many receivers' libraries verify): headers `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, with the
//! subscription secret `whsec_<base64 key>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Prefix of every subscription secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new random signing secret (32 bytes of key).
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value for one delivery attempt.
pub fn sign(secret: &str, delivery_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret_key(secret);
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(&key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(delivery_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Checks a `webhook-signature` header (which may list several space-separated signatures)
/// the way a receiver does. Used by tests and offered to receivers written in Rust.
pub fn verify(secret: &str, delivery_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let expected = sign(secret, delivery_id, timestamp, body);
    header.split(' ').any(|candidate| constant_time_eq(candidate.as_bytes(), expected.as_bytes()))
}

fn secret_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_the_same_secret_id_time_and_body() {
        let secret = new_secret();
        let header = sign(&secret, "dlv_1", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("v1,"));
        assert!(verify(&secret, "dlv_1", 1_700_000_000, b"{\"a\":1}", &header));
        assert!(!verify(&secret, "dlv_2", 1_700_000_000, b"{\"a\":1}", &header));
        assert!(!verify(&secret, "dlv_1", 1_700_000_001, b"{\"a\":1}", &header));
        assert!(!verify(&secret, "dlv_1", 1_700_000_000, b"{\"a\":2}", &header));
        assert!(!verify(&new_secret(), "dlv_1", 1_700_000_000, b"{\"a\":1}", &header));
    }

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let header = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
