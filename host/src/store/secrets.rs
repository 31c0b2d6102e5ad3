//! Encryption at rest of connection secrets: ChaCha20-Poly1305 with a 256-bit key from
//! `ATS_SECRET_KEY` (base64) or the file `DATA_DIR/secret.key` (created with mode 0600 on
//! first start). Each value gets a fresh random nonce; the stored form is
//! `nonce (12 bytes) || ciphertext`. Secrets are never logged: [`Secrets`] prints redacted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SecretError {
    #[error("cannot read or create the secret key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error(
        "the secret key ({origin}) is not 32 bytes of base64; generate one with `head -c32 /dev/urandom | base64`"
    )]
    BadKey { origin: String },
    #[error(
        "stored secrets cannot be decrypted: the secret key is not the one they were written with (ATS_SECRET_KEY or DATA_DIR/secret.key changed?)"
    )]
    Decrypt,
}

/// Secret config values of a connection (e.g. `api-key`). `Debug` never shows the values.
#[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Secrets(pub BTreeMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.keys().map(|k| (k, "<redacted>"))).finish()
    }
}

/// Encrypts and decrypts secrets.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    /// The same key, for deriving per-object tokens (HMAC).
    key: [u8; 32],
}

impl SecretBox {
    /// The key from `env_key` (base64) if given, else from `DATA_DIR/secret.key`, created if
    /// missing.
    pub fn open(data_dir: &Path, env_key: Option<&str>) -> Result<Self, SecretError> {
        let (encoded, origin) = match env_key {
            Some(key) => (key.trim().to_string(), "ATS_SECRET_KEY".to_string()),
            None => {
                let path = data_dir.join("secret.key");
                let file_error = |e: std::io::Error| SecretError::KeyFile {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                };
                match std::fs::read_to_string(&path) {
                    Ok(text) => (text.trim().to_string(), path.display().to_string()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let mut key = [0u8; 32];
                        rand::rng().fill_bytes(&mut key);
                        let encoded = STANDARD.encode(key);
                        write_private(&path, &encoded).map_err(file_error)?;
                        (encoded, path.display().to_string())
                    }
                    Err(e) => return Err(file_error(e)),
                }
            }
        };
        let bytes = STANDARD
            .decode(&encoded)
            .map_err(|_| SecretError::BadKey { origin: origin.clone() })?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey { origin });
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(SecretBox { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)), key })
    }

    /// A box with a random key (tests, throwaway stores).
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        SecretBox { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)), key }
    }

    /// A token bound to `purpose` and `id`, stable for this key (e.g. the secret path of a
    /// connection's inbound webhook URL).
    pub fn token(&self, purpose: &str, id: &str) -> String {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..20])
    }

    pub fn seal(&self, secrets: &Secrets) -> Vec<u8> {
        self.seal_bytes(&serde_json::to_vec(&secrets.0).unwrap_or_default())
    }

    pub fn open_sealed(&self, sealed: &[u8]) -> Result<Secrets, SecretError> {
        if sealed.is_empty() {
            return Ok(Secrets::default());
        }
        let plain = self.open_bytes(sealed)?;
        serde_json::from_slice(&plain).map(Secrets).map_err(|_| SecretError::Decrypt)
    }

    /// `plain` encrypted and authenticated: a random nonce, then the ciphertext.
    pub fn seal_bytes(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self.cipher.encrypt(Nonce::from_slice(&nonce), plain).unwrap_or_default();
        [nonce.as_slice(), sealed.as_slice()].concat()
    }

    /// The plain bytes of [`SecretBox::seal_bytes`]; an error for another key or tampering.
    pub fn open_bytes(&self, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 12 {
            return Err(SecretError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(12);
        self.cipher.decrypt(Nonce::from_slice(nonce), body).map_err(|_| SecretError::Decrypt)
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_round_trip_and_do_not_contain_the_plain_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sbox = SecretBox::open(dir.path(), None).expect("creates a key");
        let secrets =
            Secrets(BTreeMap::from([("api-key".to_string(), "s3cr3t-value".to_string())]));
        let sealed = sbox.seal(&secrets);
        assert!(!String::from_utf8_lossy(&sealed).contains("s3cr3t-value"));
        let again = SecretBox::open(dir.path(), None).expect("reads the key back");
        assert_eq!(again.open_sealed(&sealed).expect("decrypts"), secrets);
        assert!(matches!(SecretBox::ephemeral().open_sealed(&sealed), Err(SecretError::Decrypt)));
        assert!(!format!("{secrets:?}").contains("s3cr3t"));
        assert!(matches!(
            SecretBox::open(dir.path(), Some("short")),
            Err(SecretError::BadKey { .. })
        ));
    }
}
