//! API keys and who is calling. Keys are random 32-byte tokens shown once; only their
//! SHA-256 is stored (tree `api.keys`: hash → record). An **operator** key can do everything;
//! a **tenant** key is confined to its tenant. The bootstrap operator key comes from the
//! config/`ATS_OPERATOR_KEY`, or is generated on first start and written to
//! `DATA_DIR/operator.key` (mode 0600).

use rand::RngCore;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use thiserror::Error;

/// Who a key speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "role", rename_all = "kebab-case")]
pub enum Caller {
    Operator,
    Tenant { tenant_id: String },
}

impl Caller {
    /// May this caller see objects of `tenant_id`?
    pub fn can_see(&self, tenant_id: &str) -> bool {
        match self {
            Caller::Operator => true,
            Caller::Tenant { tenant_id: own } => own == tenant_id,
        }
    }

    /// The tenant a tenant key is confined to; `None` for the operator.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Caller::Operator => None,
            Caller::Tenant { tenant_id } => Some(tenant_id),
        }
    }
}

/// A stored key (without the key itself).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeyRecord {
    pub id: String,
    pub label: String,
    #[serde(flatten)]
    pub caller: Caller,
    pub created_at: i64,
}

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("API key store: {0}")]
    Storage(String),
    #[error("cannot read or write the operator key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
}

impl From<sled::Error> for KeyError {
    fn from(error: sled::Error) -> Self {
        KeyError::Storage(error.to_string())
    }
}

/// Where tenant key records live, by the sha256 of the key (the key itself is never stored).
#[async_trait::async_trait]
pub trait KeyTable: Send + Sync {
    async fn insert(&self, digest: &str, record: &KeyRecord) -> Result<(), KeyError>;
    async fn get(&self, digest: &str) -> Result<Option<KeyRecord>, KeyError>;
    /// Every record with its digest.
    async fn all(&self) -> Result<Vec<(String, KeyRecord)>, KeyError>;
    async fn remove(&self, digest: &str) -> Result<bool, KeyError>;
}

/// The key records in the sled tree `api.keys`.
pub struct SledKeys {
    tree: sled::Tree,
}

impl SledKeys {
    pub fn open(db: &sled::Db) -> Result<Self, KeyError> {
        Ok(SledKeys { tree: db.open_tree("api.keys")? })
    }
}

#[async_trait::async_trait]
impl KeyTable for SledKeys {
    async fn insert(&self, digest: &str, record: &KeyRecord) -> Result<(), KeyError> {
        self.tree.insert(digest.as_bytes(), serde_json::to_vec(record).unwrap_or_default())?;
        Ok(())
    }

    async fn get(&self, digest: &str) -> Result<Option<KeyRecord>, KeyError> {
        Ok(self
            .tree
            .get(digest.as_bytes())?
            .and_then(|raw| serde_json::from_slice::<KeyRecord>(&raw).ok()))
    }

    async fn all(&self) -> Result<Vec<(String, KeyRecord)>, KeyError> {
        let mut records = Vec::new();
        for entry in self.tree.iter() {
            let (digest, raw) = entry?;
            if let Ok(record) = serde_json::from_slice::<KeyRecord>(&raw) {
                records.push((String::from_utf8_lossy(&digest).into_owned(), record));
            }
        }
        Ok(records)
    }

    async fn remove(&self, digest: &str) -> Result<bool, KeyError> {
        Ok(self.tree.remove(digest.as_bytes())?.is_some())
    }
}

#[derive(Clone)]
pub struct KeyStore {
    keys: std::sync::Arc<dyn KeyTable>,
    operator_hash: String,
}

impl KeyStore {
    /// Keys in `keys`. `operator_key` wins; else `DATA_DIR/operator.key` is read, or
    /// created with a new key. Returns the store and, when a key was generated, the key.
    pub fn open(
        keys: std::sync::Arc<dyn KeyTable>,
        data_dir: &Path,
        operator_key: Option<&str>,
    ) -> Result<(Self, Option<String>), KeyError> {
        let path = data_dir.join("operator.key");
        let (key, generated) = match operator_key {
            Some(key) => (key.trim().to_string(), None),
            None => match std::fs::read_to_string(&path) {
                Ok(key) => (key.trim().to_string(), None),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    let key = new_key("op");
                    write_private(&path, &key).map_err(|source| KeyError::KeyFile {
                        path: path.display().to_string(),
                        source,
                    })?;
                    (key.clone(), Some(key))
                }
                Err(source) => {
                    return Err(KeyError::KeyFile { path: path.display().to_string(), source });
                }
            },
        };
        Ok((KeyStore { keys, operator_hash: hash(&key) }, generated))
    }

    /// Mints a key for a tenant; the returned string is the only copy of the key.
    pub async fn create_tenant_key(
        &self,
        tenant_id: &str,
        label: &str,
    ) -> Result<(String, KeyRecord), KeyError> {
        let key = new_key("tn");
        let record = KeyRecord {
            id: format!("key_{}", &hash(&key)[..12]),
            label: label.to_string(),
            caller: Caller::Tenant { tenant_id: tenant_id.to_string() },
            created_at: crate::time::now_ms(),
        };
        self.keys.insert(&hash(&key), &record).await?;
        Ok((key, record))
    }

    /// Who `key` belongs to, if anyone.
    pub async fn authenticate(&self, key: &str) -> Result<Option<Caller>, KeyError> {
        let digest = hash(key.trim());
        if constant_time_eq(digest.as_bytes(), self.operator_hash.as_bytes()) {
            return Ok(Some(Caller::Operator));
        }
        Ok(self.keys.get(&digest).await?.map(|record| record.caller))
    }

    /// Keys of one tenant (or all), without the keys themselves.
    pub async fn list(&self, tenant: Option<&str>) -> Result<Vec<KeyRecord>, KeyError> {
        let mut records: Vec<KeyRecord> = self
            .keys
            .all()
            .await?
            .into_iter()
            .map(|(_, record)| record)
            .filter(|record| tenant.is_none_or(|t| record.caller.tenant() == Some(t)))
            .collect();
        records.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(records)
    }

    /// Revokes a key by its id; returns whether it existed (within `tenant` if given).
    pub async fn revoke(&self, id: &str, tenant: Option<&str>) -> Result<bool, KeyError> {
        for (digest, record) in self.keys.all().await? {
            if record.id == id && tenant.is_none_or(|t| record.caller.tenant() == Some(t)) {
                return self.keys.remove(&digest).await;
            }
        }
        Ok(false)
    }
}

/// A new random key, e.g. `ats_tn_3f9c…` (32 random bytes, hex).
pub fn new_key(kind: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("ats_{kind}_{}", hex::encode(bytes))
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

/// Extracts the caller from `Authorization: Bearer <key>` (or `X-Api-Key`); 401 otherwise.
impl axum::extract::FromRequestParts<super::AppState> for Caller {
    type Rejection = super::problem::Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &super::AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let key = header("authorization")
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .or_else(|| header("x-api-key"))
            .ok_or_else(super::problem::Problem::unauthorized)?;
        match state.keys.authenticate(key).await {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(super::problem::Problem::unauthorized()),
            Err(error) => Err(super::problem::Problem::internal(error)),
        }
    }
}

/// A caller holding the operator key; 403 for tenant keys.
pub struct Operator;

impl axum::extract::FromRequestParts<super::AppState> for Operator {
    type Rejection = super::problem::Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &super::AppState,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Operator => Ok(Operator),
            Caller::Tenant { .. } => Err(super::problem::Problem::forbidden(
                "this route needs the operator key; tenant keys manage only their own tenant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_are_stored_hashed_and_resolve_to_their_caller() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let (store, generated) = KeyStore::open(
            std::sync::Arc::new(SledKeys::open(&db).expect("keys")),
            dir.path(),
            None,
        )
        .expect("open");
        let operator = generated.expect("a first start generates the operator key");
        assert_eq!(store.authenticate(&operator).await.expect("auth"), Some(Caller::Operator));
        let (tenant_key, record) = store.create_tenant_key("acme", "sourcer").await.expect("mint");
        assert_eq!(
            store.authenticate(&tenant_key).await.expect("auth"),
            Some(Caller::Tenant { tenant_id: "acme".into() })
        );
        assert_eq!(store.authenticate("ats_tn_wrong").await.expect("auth"), None);
        let raw: Vec<u8> = db
            .open_tree("api.keys")
            .expect("tree")
            .iter()
            .flat_map(|e| {
                let (k, v) = e.expect("entry");
                [k.to_vec(), v.to_vec()].concat()
            })
            .collect();
        assert!(!String::from_utf8_lossy(&raw).contains(&tenant_key), "key stored in clear");
        assert!(!store.revoke(&record.id, Some("other")).await.expect("revoke"));
        assert!(store.revoke(&record.id, Some("acme")).await.expect("revoke"));
        assert_eq!(store.authenticate(&tenant_key).await.expect("auth"), None);
        // A second start reads the same operator key back.
        let (again, generated) = KeyStore::open(
            std::sync::Arc::new(SledKeys::open(&db).expect("keys")),
            dir.path(),
            None,
        )
        .expect("reopen");
        assert!(generated.is_none());
        assert_eq!(again.authenticate(&operator).await.expect("auth"), Some(Caller::Operator));
    }
}
