//! argon2id password hashing, run on the blocking pool and bounded by a
//! semaphore so a burst of logins cannot starve the async runtime or the CPU.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    slots: Arc<Semaphore>,
    /// Hash verified when the account does not exist, so that a login for an
    /// unknown email costs the same time as one with a wrong password.
    /// Computed once, in the background, at start-up.
    dummy: Arc<OnceLock<String>>,
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn dummy_hash() -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(b"runway-dummy-password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

impl Passwords {
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let dummy = Arc::new(OnceLock::new());
        let warm = dummy.clone();
        std::thread::spawn(move || {
            warm.get_or_init(dummy_hash);
        });
        Passwords {
            slots: Arc::new(Semaphore::new(cpus)),
            dummy,
        }
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let _slot = self.slots.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
        })
        .await?
    }

    /// Verify `password` against `hash`; with `None`, burn the same time and
    /// return false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        let _slot = self.slots.acquire().await?;
        let dummy = self.dummy.clone();
        tokio::task::spawn_blocking(move || {
            let (stored, real) = match hash {
                Some(h) => (h, true),
                None => (dummy.get_or_init(dummy_hash).clone(), false),
            };
            let parsed = PasswordHash::new(&stored)
                .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            let ok = hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(ok && real)
        })
        .await?
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let p = Passwords::new();
        let h = p.hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            p.verify("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!p.verify("wrong".into(), Some(h)).await.unwrap());
        assert!(!p.verify("anything".into(), None).await.unwrap());
    }
}
