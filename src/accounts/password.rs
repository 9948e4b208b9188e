//! Password hashing: argon2id with the OWASP parameters (19 MiB, 2 iterations, 1 lane), always run on the
//! blocking pool so a login never stalls the async runtime. Unknown accounts are verified against a dummy
//! hash so that an unknown email and a wrong password take the same time.

use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, Version};
use argon2::{PasswordHash, PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 12;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A real hash of a random password, computed once: verifying against it costs what a real check costs.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random: String = {
        use rand::Rng;
        rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect()
    };
    hash_blocking(&SecretString::from(random)).expect("hashing a random password")
});

/// Hash on the current thread (callers on the runtime use [`hash`]).
pub fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.expose_secret().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))
}

/// Hash a password off the async runtime.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// Verify a password against a stored PHC hash (or the dummy hash when the account is unknown), off the
/// async runtime. Returns false on any mismatch or malformed hash.
pub async fn verify(password: SecretString, stored_hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored_hash.is_some();
        let phc = stored_hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        let ok = hasher()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// Warm the dummy hash (call at start-up so the first unknown-email login is not slower than others).
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// Check a new password's strength; returns the message to show at the field.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("Use at least {MIN_PASSWORD_LEN} characters."));
    }
    if password.len() > 1024 {
        return Err("Use at most 1024 bytes.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash(SecretString::from("correct horse battery"))
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(SecretString::from("correct horse battery"), Some(h.clone())).await);
        assert!(!verify(SecretString::from("wrong horse battery"), Some(h)).await);
        assert!(!verify(SecretString::from("anything"), None).await);
    }

    #[test]
    fn strength() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough password").is_ok());
    }
}
