//! Token values that must never reach a log line, a `Debug` print or an error body.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A token (access or refresh). `Debug` prints `[redacted]`; the value is only reachable through
/// [`SecretString::secret`]. No `PartialEq`, so comparing secrets is always an explicit `secret()` call.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The token itself. Callers must not log or print it.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Lowercase hex SHA-256 of the value: safe to store, compare and log.
    pub fn sha256_hex(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

/// Lowercase hex SHA-256 of `bytes` (64 characters).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// True for exactly 64 lowercase hex digits, the shape of [`sha256_hex`].
pub(crate) fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|c| HEX.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = SecretString::new("BQD-very-secret");
        let printed = format!("{secret:?}");
        assert!(!printed.contains("very-secret"), "{printed}");
        assert!(printed.contains("[redacted]"));
        assert_eq!(secret.secret(), "BQD-very-secret");
    }

    #[test]
    fn sha256_hex_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_hex(&sha256_hex(b"")));
        assert!(!is_sha256_hex(&sha256_hex(b"").to_uppercase()));
        assert!(!is_sha256_hex("abc"));
    }
}
