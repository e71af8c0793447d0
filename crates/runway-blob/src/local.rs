//! The local-directory store (embedded mode).
//!
//! Objects live at `<root>/<key>`, their headers at `<root>/.meta/<key>.json`.
//! Writes go to `<root>/.tmp` and are renamed into place, so a reader never
//! sees half an object and a crash leaves no torn file.
//!
//! Presigned URLs point at runway itself (`<public_url>/files/<key>`) and
//! carry an HMAC-SHA256 over the method, key, expiry and, for uploads, the
//! exact content type and length; [`LocalBlobStore::verify`] checks them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{
    Blob, BlobError, BlobStore, ObjectMeta, PresignedRequest, validate_key, validate_prefix,
};

pub struct LocalBlobStore {
    root: PathBuf,
    signing_key: Vec<u8>,
    public_url: String,
}

#[derive(Serialize, Deserialize)]
struct MetaFile {
    content_type: Option<String>,
    cache_control: Option<String>,
}

/// A request made to a local presigned URL, as received.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub key: &'a str,
    /// The `expires` query parameter (epoch seconds).
    pub expires: u64,
    /// The `signature` query parameter.
    pub signature: &'a str,
    pub content_type: Option<&'a str>,
    pub content_length: Option<u64>,
}

/// What a verified local presigned URL allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUploadGrant {
    pub key: String,
    pub content_type: String,
    pub content_length: u64,
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl LocalBlobStore {
    pub fn new(
        root: impl AsRef<Path>,
        signing_key: Vec<u8>,
        public_url: &str,
    ) -> Result<Self, BlobError> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(root.join(".tmp")).map_err(io)?;
        std::fs::create_dir_all(root.join(".meta")).map_err(io)?;
        if signing_key.len() < 32 {
            return Err(BlobError::Config(
                "local signing key must be at least 32 bytes".into(),
            ));
        }
        Ok(LocalBlobStore {
            root,
            signing_key,
            public_url: public_url.trim_end_matches('/').to_string(),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.root.join(".meta").join(format!("{key}.json"))
    }

    fn signature(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.signing_key).expect("any key length");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(b"\n");
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn url(&self, key: &str, query: &str) -> String {
        format!("{}/files/{key}?{query}", self.public_url)
    }

    /// Check a presigned request made to `/files/<key>`: the method and
    /// query parameters as received, plus (for PUT) the request's
    /// Content-Type and Content-Length. Returns what it grants.
    pub fn verify(
        &self,
        req: &SignedRequest<'_>,
        now: SystemTime,
    ) -> Result<LocalUploadGrant, &'static str> {
        let SignedRequest {
            method,
            key,
            expires,
            signature,
            content_type,
            content_length,
        } = *req;
        validate_key(key).map_err(|_| "invalid key")?;
        if epoch(now) > expires {
            return Err("the signed URL has expired");
        }
        let expires_s = expires.to_string();
        let (ct, len) = match method {
            "PUT" => (
                content_type.ok_or("Content-Type is required")?.to_string(),
                content_length.ok_or("Content-Length is required")?,
            ),
            "GET" => (String::new(), 0),
            _ => return Err("method not allowed"),
        };
        let len_s = len.to_string();
        let expected = self.signature(&[method, key, &expires_s, &ct, &len_s]);
        // Constant-time comparison.
        let ok = expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !ok {
            return Err("signature does not match");
        }
        Ok(LocalUploadGrant {
            key: key.to_string(),
            content_type: ct,
            content_length: len,
        })
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<(), BlobError> {
        validate_key(key)?;
        let path = self.path(key);
        let meta_path = self.meta_path(key);
        let tmp = self
            .root
            .join(".tmp")
            .join(uuid::Uuid::new_v4().to_string());
        let meta = serde_json::to_vec(&MetaFile {
            content_type: Some(content_type.to_string()),
            cache_control: cache_control.map(str::to_string),
        })
        .map_err(|e| BlobError::Backend(e.to_string()))?;
        tokio::task::spawn_blocking(move || -> Result<(), BlobError> {
            use std::io::Write;
            for p in [&path, &meta_path] {
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
            }
            let write = |target: &Path, data: &[u8]| -> Result<(), BlobError> {
                let mut f = std::fs::File::create(&tmp).map_err(io)?;
                f.write_all(data).map_err(io)?;
                f.sync_all().map_err(io)?;
                std::fs::rename(&tmp, target).map_err(io)
            };
            write(&meta_path, &meta)?;
            write(&path, &bytes)
        })
        .await
        .map_err(|e| BlobError::Backend(e.to_string()))?
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        let bytes = match tokio::fs::read(self.path(key)).await {
            Ok(b) => Bytes::from(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mut meta = self.head(key).await?.unwrap_or_default();
        meta.size = bytes.len() as u64;
        Ok(Some(Blob { bytes, meta }))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, BlobError> {
        validate_key(key)?;
        let size = match tokio::fs::metadata(self.path(key)).await {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let meta: MetaFile = match tokio::fs::read(self.meta_path(key)).await {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| BlobError::Backend(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MetaFile {
                content_type: None,
                cache_control: None,
            },
            Err(e) => return Err(io(e)),
        };
        Ok(Some(ObjectMeta {
            content_type: meta.content_type,
            cache_control: meta.cache_control,
            size,
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        for p in [self.path(key), self.meta_path(key)] {
            match tokio::fs::remove_file(&p).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        validate_prefix(prefix)?;
        let root = self.root.clone();
        let prefix = prefix.to_string();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(e)),
                };
                for entry in entries {
                    let entry = entry.map_err(io)?;
                    let path = entry.path();
                    let rel = path
                        .strip_prefix(&root)
                        .map_err(|e| BlobError::Backend(e.to_string()))?
                        .to_string_lossy()
                        .to_string();
                    if rel == ".tmp" || rel == ".meta" {
                        continue;
                    }
                    if entry.file_type().map_err(io)?.is_dir() {
                        stack.push(path);
                    } else if rel.starts_with(&prefix) {
                        out.push(rel);
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(|e| BlobError::Backend(e.to_string()))?
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, BlobError> {
        let keys = self.list(prefix).await?;
        for key in &keys {
            self.delete(key).await?;
        }
        Ok(keys.len() as u64)
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        validate_key(key)?;
        let expires_at = SystemTime::now() + ttl;
        let expires = epoch(expires_at).to_string();
        let len = content_length.to_string();
        let sig = self.signature(&["PUT", key, &expires, content_type, &len]);
        Ok(PresignedRequest {
            method: "PUT".into(),
            url: self.url(key, &format!("expires={expires}&signature={sig}")),
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-length".into(), len),
            ],
            expires_at,
        })
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedRequest, BlobError> {
        validate_key(key)?;
        let expires_at = SystemTime::now() + ttl;
        let expires = epoch(expires_at).to_string();
        let sig = self.signature(&["GET", key, &expires, "", "0"]);
        Ok(PresignedRequest {
            method: "GET".into(),
            url: self.url(key, &format!("expires={expires}&signature={sig}")),
            headers: Vec::new(),
            expires_at,
        })
    }

    fn kind(&self) -> &'static str {
        "file"
    }
}
