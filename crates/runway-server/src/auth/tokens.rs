//! Access tokens (short-lived JWTs) and refresh tokens (opaque, hashed at rest).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use runway_core::config::AuthConfig;
use runway_core::domain::UserId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only algorithm accepted. Pinned: a token naming any other (including
/// `none`) is rejected before its signature is looked at.
const ALG: Algorithm = Algorithm::HS256;
/// JWT `typ` of access tokens (RFC 9068).
const ACCESS_TYP: &str = "at+jwt";
/// JWT `typ` of event-stream tickets: accepted only by `GET /v1/events`,
/// and an access token is not a ticket (nor the reverse).
const TICKET_TYP: &str = "events+jwt";
const SECRET_FILE: &str = "jwt-secret";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    jti: String,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl Tokens {
    /// The signing secret: from configuration, or in embedded mode from
    /// `<data_dir>/jwt-secret`, which is generated (mode 0600) on first start.
    pub fn load_secret(auth: &AuthConfig, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
        match &auth.jwt_secret {
            Some(s) => Ok(s.expose().as_bytes().to_vec()),
            None => load_or_create_secret(&data_dir.join(SECRET_FILE)),
        }
    }

    pub fn from_secret(secret: &[u8], auth: &AuthConfig) -> Tokens {
        let mut validation = Validation::new(ALG);
        validation.set_issuer(&[&auth.issuer]);
        validation.set_audience(&[&auth.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
            access_ttl: Duration::from_secs(auth.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(auth.refresh_token_ttl_secs),
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    pub fn issue_access(&self, user: UserId) -> anyhow::Result<String> {
        Ok(self.issue(user, ACCESS_TYP, self.access_ttl)?.0)
    }

    /// A short-lived ticket for `GET /v1/events?ticket=` (browsers'
    /// EventSource cannot send headers); returns it and its expiry (Unix s).
    pub fn issue_ticket(&self, user: UserId, ttl: Duration) -> anyhow::Result<(String, u64)> {
        self.issue(user, TICKET_TYP, ttl)
    }

    fn issue(&self, user: UserId, typ: &str, ttl: Duration) -> anyhow::Result<(String, u64)> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = Claims {
            sub: user.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + ttl.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(ALG);
        header.typ = Some(typ.into());
        Ok((
            jsonwebtoken::encode(&header, &claims, &self.encoding)?,
            claims.exp,
        ))
    }

    /// The user an event-stream ticket was issued to, and when it expires
    /// (Unix s).
    pub fn verify_ticket(&self, token: &str) -> Result<(UserId, u64), &'static str> {
        self.verify_claims(token, TICKET_TYP)
    }

    /// [`Tokens::verify_access`], with the token's expiry (Unix s).
    pub fn verify_access_until(&self, token: &str) -> Result<(UserId, u64), &'static str> {
        self.verify_claims(token, ACCESS_TYP)
    }

    /// The user an access token was issued to. The error is a short reason
    /// safe to show the client; the token itself is never echoed.
    pub fn verify_access(&self, token: &str) -> Result<UserId, &'static str> {
        self.verify(token, ACCESS_TYP)
    }

    fn verify(&self, token: &str, typ: &str) -> Result<UserId, &'static str> {
        self.verify_claims(token, typ).map(|(user, _)| user)
    }

    fn verify_claims(&self, token: &str, typ: &str) -> Result<(UserId, u64), &'static str> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed token")?;
        if header.alg != ALG {
            return Err("unexpected token algorithm");
        }
        if header.typ.as_deref() != Some(typ) {
            return Err(if typ == ACCESS_TYP {
                "not an access token"
            } else {
                "not an event-stream ticket"
            });
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "token expired",
                jsonwebtoken::errors::ErrorKind::InvalidSignature => "invalid signature",
                jsonwebtoken::errors::ErrorKind::InvalidIssuer
                | jsonwebtoken::errors::ErrorKind::InvalidAudience => "token not for this service",
                _ => "invalid token",
            })?;
        let user = UserId::parse(&data.claims.sub).map_err(|_| "invalid subject")?;
        Ok((user, data.claims.exp))
    }
}

/// A key for another purpose derived from the server secret (HMAC-SHA256
/// of the purpose), so one configured secret serves several uses without
/// reusing the same key for each.
pub fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

impl Tokens {
    /// The user a token with a valid signature was issued to, even if it has
    /// expired: for scoping idempotency keys, so a retry that arrives after
    /// the access token expired still matches its first attempt. Never use
    /// it to authorize anything.
    pub fn subject_ignoring_expiry(&self, token: &str) -> Option<UserId> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != ALG || header.typ.as_deref() != Some(ACCESS_TYP) {
            return None;
        }
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        UserId::parse(&data.claims.sub).ok()
    }
}

/// A new opaque refresh token: 256 random bits.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("rt_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for a refresh token: its SHA-256, hex. The token has 256
/// bits of entropy, so a fast hash is enough.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut secret = [0u8; 64];
    rand::rng().fill_bytes(&mut secret);
    if !path.exists() {
        // Write a complete file, then link it into place: a process starting
        // at the same moment sees either no key or the whole key, and the
        // link fails (no clobber) if another process won the race.
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(hex::encode(secret).as_bytes())?;
            f.sync_all()?;
        }
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => tracing::info!(path = %path.display(), "generated a new token signing key"),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(anyhow::anyhow!("cannot create {}: {e}", path.display()));
            }
        }
        let _ = std::fs::remove_file(&tmp);
    }
    let stored = std::fs::read_to_string(path)?;
    let stored = stored.trim();
    if stored.len() < 64 {
        anyhow::bail!("{} is too short to be a signing key", path.display());
    }
    Ok(stored.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::from_secret(&[7u8; 32], &AuthConfig::default())
    }

    #[test]
    fn round_trip() {
        let t = tokens();
        let user = UserId::new();
        let jwt = t.issue_access(user).unwrap();
        assert_eq!(t.verify_access(&jwt).unwrap(), user);
    }

    #[test]
    fn other_keys_audiences_and_algorithms_are_rejected() {
        let t = tokens();
        let user = UserId::new();
        let other = Tokens::from_secret(&[8u8; 32], &AuthConfig::default());
        assert_eq!(
            t.verify_access(&other.issue_access(user).unwrap()),
            Err("invalid signature")
        );
        let aud = AuthConfig {
            audience: "someone-else".into(),
            ..AuthConfig::default()
        };
        let foreign = Tokens::from_secret(&[7u8; 32], &aud);
        assert!(
            t.verify_access(&foreign.issue_access(user).unwrap())
                .is_err()
        );
        // alg=none with the same claims.
        let jwt = t.issue_access(user).unwrap();
        let claims = jwt.split('.').nth(1).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        assert!(
            t.verify_access(&format!("{none_header}.{claims}."))
                .is_err()
        );
        let hs512 = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"at+jwt"}"#);
        assert_eq!(
            t.verify_access(&format!("{hs512}.{claims}.sig")),
            Err("unexpected token algorithm")
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }

    #[test]
    fn embedded_secret_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("jwt-secret");
        let a = load_or_create_secret(&p).unwrap();
        let b = load_or_create_secret(&p).unwrap();
        assert_eq!(a, b);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
