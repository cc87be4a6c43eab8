//! Password hashing (server only): Argon2id, run off the async runtime, with a cap on how many
//! hashes run at once so a burst of sign-ins cannot exhaust memory (19 MiB each) or CPU.

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock},
};

use argon2::password_hash::{SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::{
    accounts::model::Password,
    error::{AppError, Problem},
};

/// OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../common-passwords.txt").lines().collect());

/// Refuses passwords found among the most used ones (from leaked-password corpora), compared
/// without case since attackers try case variants first.
pub fn refuse_common(password: &Password) -> Result<(), Problem> {
    if COMMON.contains(password.expose().to_lowercase().as_str()) {
        Err(Problem::PasswordCommon)
    } else {
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Hasher {
    /// `concurrency` hashes may run at once; others wait their turn.
    pub fn new(concurrency: usize) -> Self {
        Hasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    fn argon() -> Result<Argon2<'static>, AppError> {
        let params = Params::new(MEMORY_KIB, ITERATIONS, 1, None).map_err(|e| {
            tracing::error!(error = %e, "argon2 parameters");
            AppError::Internal
        })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let password = password.expose().to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Self::argon()?
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| {
                    tracing::error!(error = %e, "argon2 hash");
                    AppError::Internal
                })
        })
        .await
    }

    /// Checks a password against a stored PHC string. `None` (no such user) still spends the
    /// same time on a dummy hash, so response time does not reveal which emails exist.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, AppError> {
        let password = password.to_owned();
        self.run(move || {
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
            let parsed = PasswordHash::new(&stored).map_err(|e| {
                tracing::error!(error = %e, "stored password hash does not parse");
                AppError::Internal
            })?;
            let ok = Self::argon()?
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(ok && stored != DUMMY_HASH)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Internal)?;
        tokio::task::spawn_blocking(work).await.map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            AppError::Internal
        })?
    }
}

/// A valid Argon2id hash (of a random string nobody knows) with the same parameters; no
/// password is ever accepted for it, which is why an erased account keeps it.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$H4Hxs7Tw4bYBZXrjhJMHv4UiS0pzCRqt5qBt5RCKWU8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        let p = Password::parse("Password123").unwrap();
        assert_eq!(refuse_common(&p), Err(Problem::PasswordCommon));
        let p = Password::parse("correct horse battery staple 42").unwrap();
        assert_eq!(refuse_common(&p), Ok(()));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = Hasher::new(2);
        let p = Password::parse("a long and unusual phrase").unwrap();
        let stored = h.hash(&p).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify("a long and unusual phrase", Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !h.verify("a long and unusual phrasE", Some(stored))
                .await
                .unwrap()
        );
        assert!(!h.verify("anything", None).await.unwrap());
    }
}
