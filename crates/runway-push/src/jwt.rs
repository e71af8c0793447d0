//! Compact JWS signing (ES256 for APNs and VAPID, RS256 for Google OAuth2).
//!
//! Hand-written on RustCrypto (p256, rsa): a few lines each, and unlike
//! jsonwebtoken 10 it needs no process-level crypto provider.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;
use sha2::{Digest, Sha256};

use crate::PushError;

pub(crate) fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn signing_input(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string()),
        b64url(claims.to_string())
    )
}

/// ES256: ECDSA P-256 with SHA-256, signature as the raw 64-byte r||s.
pub(crate) fn sign_es256(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    key: &SigningKey,
) -> String {
    let input = signing_input(header, claims);
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64url(signature.to_bytes()))
}

/// RS256: RSASSA-PKCS1-v1_5 with SHA-256.
pub(crate) fn sign_rs256(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    key: &rsa::RsaPrivateKey,
) -> Result<String, PushError> {
    let input = signing_input(header, claims);
    let digest = Sha256::digest(input.as_bytes());
    let signature = key
        // With an RNG rsa blinds the private-key operation.
        .sign_with_rng(
            &mut aes_gcm::aead::OsRng,
            rsa::Pkcs1v15Sign::new::<Sha256>(),
            &digest,
        )
        .map_err(|_| PushError::InvalidKey {
            what: "service account",
            reason: "RSA signing failed",
        })?;
    Ok(format!("{input}.{}", b64url(signature)))
}

/// A P-256 private key from PEM: PKCS#8 (`PRIVATE KEY`, as in an APNs .p8)
/// or SEC1 (`EC PRIVATE KEY`).
pub(crate) fn p256_from_pem(pem: &str, what: &'static str) -> Result<SigningKey, PushError> {
    use p256::pkcs8::DecodePrivateKey;
    let pem = pem.trim();
    if let Ok(key) = p256::SecretKey::from_pkcs8_pem(pem) {
        return Ok(SigningKey::from(key));
    }
    if let Ok(key) = p256::SecretKey::from_sec1_pem(pem) {
        return Ok(SigningKey::from(key));
    }
    Err(PushError::InvalidKey {
        what,
        reason: "not a PEM-encoded PKCS#8 or SEC1 P-256 private key",
    })
}

/// An RSA private key from PEM (PKCS#8, as in a service account, or PKCS#1).
pub(crate) fn rsa_from_pem(pem: &str) -> Result<rsa::RsaPrivateKey, PushError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let pem = pem.trim();
    rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| PushError::InvalidKey {
            what: "service account",
            reason: "private_key is not a PEM-encoded RSA private key",
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn es256_signature_verifies_and_is_raw_r_s() {
        let key = SigningKey::random(&mut aes_gcm::aead::OsRng);
        let jwt = sign_es256(
            &serde_json::json!({"alg": "ES256", "kid": "K"}),
            &serde_json::json!({"iss": "T", "iat": 1}),
            &key,
        );
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64);
        let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        key.verifying_key().verify(input.as_bytes(), &sig).unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["kid"], "K");
    }

    #[test]
    fn bad_pem_errors_do_not_echo_the_input() {
        let secret =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----";
        let err = p256_from_pem(secret, "APNs").unwrap_err().to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
        assert!(err.contains("APNs"), "{err}");
        let err = rsa_from_pem(secret).unwrap_err().to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
    }
}
