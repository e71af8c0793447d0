//! CloudFront URLs: public ones, and signed ones for private media.
//!
//! Signing follows AWS's "Create a signed URL using a canned policy" and
//! "… using a custom policy" (CloudFront Developer Guide): the policy JSON
//! (without whitespace) is signed with RSA-SHA1 (PKCS#1 v1.5) using the
//! private key of a trusted key group's public key; the signature, and for
//! custom policies the policy, are base64-encoded with `+ = /` replaced by
//! `- _ ~`; the URL gets `Expires` (canned) or `Policy` (custom), plus
//! `Signature` and `Key-Pair-Id`.
//!
//! No crate covers CloudFront URL signing without pulling in a second AWS
//! stack, so it is written here and checked against signatures made by
//! OpenSSL (`tests/fixtures`). Signing uses RSA blinding (`sign_with_rng`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use sha1::Sha1;

use crate::BlobError;

/// Conditions of a custom policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomPolicy {
    /// The URL (may end in `*` to cover a prefix).
    pub resource: String,
    /// Epoch seconds after which the URL stops working.
    pub date_less_than: u64,
    /// Epoch seconds before which it does not work yet.
    pub date_greater_than: Option<u64>,
    /// Client address range allowed, e.g. `192.0.2.0/24`.
    pub ip_address: Option<String>,
}

impl CustomPolicy {
    /// The policy document, in the key order AWS documents.
    pub fn to_json(&self) -> String {
        let mut condition = format!(
            "\"DateLessThan\":{{\"AWS:EpochTime\":{}}}",
            self.date_less_than
        );
        if let Some(after) = self.date_greater_than {
            condition.push_str(&format!(
                ",\"DateGreaterThan\":{{\"AWS:EpochTime\":{after}}}"
            ));
        }
        if let Some(ip) = &self.ip_address {
            condition.push_str(&format!(
                ",\"IpAddress\":{{\"AWS:SourceIp\":{}}}",
                serde_json::Value::String(ip.clone())
            ));
        }
        format!(
            "{{\"Statement\":[{{\"Resource\":{},\"Condition\":{{{condition}}}}}]}}",
            serde_json::Value::String(self.resource.clone())
        )
    }
}

/// The canned policy CloudFront rebuilds from `Expires` and the URL.
pub fn canned_policy(url: &str, expires: u64) -> String {
    format!(
        "{{\"Statement\":[{{\"Resource\":{},\"Condition\":{{\"DateLessThan\":{{\"AWS:EpochTime\":{expires}}}}}}}]}}",
        serde_json::Value::String(url.to_string())
    )
}

/// CloudFront's URL-safe base64: `+`→`-`, `=`→`_`, `/`→`~`.
pub fn cloudfront_base64(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            c => c,
        })
        .collect()
}

pub struct CloudFrontSigner {
    key_pair_id: String,
    key: SigningKey<Sha1>,
}

impl std::fmt::Debug for CloudFrontSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudFrontSigner")
            .field("key_pair_id", &self.key_pair_id)
            .finish_non_exhaustive()
    }
}

impl CloudFrontSigner {
    /// `key_pair_id`: the public key's id in the key group. `pem`: the
    /// private key, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8.
    pub fn from_pem(key_pair_id: &str, pem: &str) -> Result<Self, BlobError> {
        let key = RsaPrivateKey::from_pkcs1_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
            .map_err(|_| {
                BlobError::Config("CloudFront private key is not an RSA PEM key".into())
            })?;
        if key_pair_id.is_empty() {
            return Err(BlobError::Config("CloudFront key pair id is empty".into()));
        }
        Ok(CloudFrontSigner {
            key_pair_id: key_pair_id.to_string(),
            key: SigningKey::<Sha1>::new(key),
        })
    }

    fn sign(&self, policy: &str) -> String {
        let sig = self
            .key
            .sign_with_rng(&mut rsa::rand_core::OsRng, policy.as_bytes());
        cloudfront_base64(&sig.to_bytes())
    }

    /// A URL valid until `expires` (epoch seconds), with a canned policy.
    pub fn canned_url(&self, url: &str, expires: u64) -> String {
        let signature = self.sign(&canned_policy(url, expires));
        let sep = if url.contains('?') { '&' } else { '?' };
        format!(
            "{url}{sep}Expires={expires}&Signature={signature}&Key-Pair-Id={}",
            self.key_pair_id
        )
    }

    /// A URL for `url` carrying a custom policy (prefix wildcards, start
    /// time, client address range).
    pub fn custom_url(&self, url: &str, policy: &CustomPolicy) -> String {
        let json = policy.to_json();
        let signature = self.sign(&json);
        let sep = if url.contains('?') { '&' } else { '?' };
        format!(
            "{url}{sep}Policy={}&Signature={signature}&Key-Pair-Id={}",
            cloudfront_base64(json.as_bytes()),
            self.key_pair_id
        )
    }
}

/// How media reaches clients through CloudFront.
#[derive(Debug)]
pub struct Cdn {
    /// e.g. `https://media.example.com` (no trailing slash).
    pub base_url: String,
    /// Sign URLs (private media) or hand out plain ones (public media).
    pub signer: Option<CloudFrontSigner>,
}

impl Cdn {
    /// The URL for `key`, signed with a canned policy valid until `expires`
    /// when a signer is configured.
    pub fn url(&self, key: &str, expires: u64) -> String {
        let url = format!("{}/{}", self.base_url.trim_end_matches('/'), key);
        match &self.signer {
            Some(s) => s.canned_url(&url, expires),
            None => url,
        }
    }
}
