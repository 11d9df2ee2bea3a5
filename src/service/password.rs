//! Argon2id password hashing, off the async runtime (it is slow on purpose).

use anyhow::{Context, anyhow};
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub(super) const DECOY: &str = "decoy password that nobody has";

pub const MIN_CHARS: usize = 10;
pub const MAX_CHARS: usize = 256;

/// # Errors
/// A bilingual message when the password is too short or too long.
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(format!(
            "密码至少 {MIN_CHARS} 个字符 / the password must have at least {MIN_CHARS} characters"
        ));
    }
    if chars > MAX_CHARS {
        return Err(format!(
            "密码最多 {MAX_CHARS} 个字符 / the password must have at most {MAX_CHARS} characters"
        ));
    }
    Ok(())
}

/// # Errors
/// When hashing fails (it does not for valid input) or the blocking task dies.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow!("hashing a password: {e}"))
    })
    .await
    .context("password hashing task")?
}

/// Whether `password` matches the stored PHC-format `hash`.
///
/// # Errors
/// When the blocking task dies or the stored hash is unreadable.
pub async fn verify(password: String, hash: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| anyhow!("stored password hash is unreadable: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .context("password verification task")?
}
