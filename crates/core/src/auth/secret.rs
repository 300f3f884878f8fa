//! Secret values as newtypes.
//!
//! Tokens must never reach a URL, a log line, a `Debug` print or an error message. Each secret therefore
//! has a redacted `Debug`, no `Display`, no `PartialEq` (comparing secrets is almost always a mistake, and
//! a derived comparison is not constant-time), and an explicit [`secret`](AccessToken::secret) accessor so
//! every place that reads the value is easy to find.
//!
//! They serialize transparently because the app persists them to browser storage.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: String) -> Self {
                Self(value)
            }

            /// The secret value. Every call site is a place where the secret leaves its wrapper.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_newtype!(
    /// A Spotify access token (an OAuth 2.0 bearer token, valid for about an hour).
    ///
    /// See <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#response-1>.
    AccessToken
);

secret_newtype!(
    /// A Spotify refresh token. It expires six months after the original authorization; refreshing does not
    /// extend that.
    ///
    /// See <https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens>.
    RefreshToken
);

secret_newtype!(
    /// The one-time authorization code Spotify hands back on the redirect, exchanged for tokens.
    ///
    /// See <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#request-user-authorization>.
    AuthCode
);

impl RefreshToken {
    /// Lowercase hex of the SHA-256 of the token.
    ///
    /// The token push identifies "which refresh token was this" by hash so the sink can detect rotations
    /// and forks without ever receiving an old token again.
    pub fn sha256_hex(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl AccessToken {
    /// Lowercase hex of the SHA-256 of the token: safe to log, compare and use as a cache key.
    pub fn sha256_hex(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

/// Lowercase hex SHA-256 of `data` (64 characters). The one implementation every part uses.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// True for exactly 64 lowercase hex digits, the shape of [`sha256_hex`].
pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|c| HEX.contains(&c))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A PKCE `code_verifier` ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
///
/// Not `Clone`: a verifier belongs to exactly one sign-in attempt and is consumed by the code exchange.
/// It serializes (the pending sign-in lives in `sessionStorage` across the redirect), and deserializing
/// validates it exactly like [`PkceVerifier::parse`].
///
/// Constructors and [`challenge`](PkceVerifier::challenge) live in [`crate::auth::pkce`].
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// Only for [`crate::auth::pkce`], which validates before calling.
    pub(crate) fn from_validated(value: String) -> Self {
        Self(value)
    }

    /// The verifier, as sent in the code exchange.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

// Written by hand because `#[serde(into = ...)]` would need `Clone`, which the verifier deliberately lacks.
impl Serialize for PkceVerifier {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl TryFrom<String> for PkceVerifier {
    type Error = crate::CoreError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-VALUE_abcdefghijklmnopqrstuvwxyz0123456789";

    fn assert_redacted(debug: &str, name: &str) {
        assert_eq!(debug, format!("{name}(<redacted>)"));
        // No fragment of the secret either, not just the whole.
        for window in SECRET.as_bytes().windows(4) {
            let piece = std::str::from_utf8(window).unwrap_or_default();
            assert!(!debug.contains(piece), "{debug} leaks {piece}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        assert_redacted(
            &format!("{:?}", AccessToken::new(SECRET.into())),
            "AccessToken",
        );
        assert_redacted(
            &format!("{:?}", RefreshToken::new(SECRET.into())),
            "RefreshToken",
        );
        assert_redacted(&format!("{:?}", AuthCode::new(SECRET.into())), "AuthCode");
        let verifier = PkceVerifier::parse(SECRET).expect("valid verifier");
        assert_redacted(&format!("{verifier:?}"), "PkceVerifier");
        // Pretty Debug and Debug nested in containers go through the same impl.
        assert_redacted(
            &format!("{:#?}", AccessToken::new(SECRET.into())),
            "AccessToken",
        );
        let nested = format!("{:?}", Some(vec![RefreshToken::new(SECRET.into())]));
        assert_eq!(nested, "Some([RefreshToken(<redacted>)])");
    }

    #[test]
    fn secret_accessor_returns_value() {
        assert_eq!(AccessToken::new(SECRET.into()).secret(), SECRET);
        assert_eq!(RefreshToken::new(SECRET.into()).secret(), SECRET);
        assert_eq!(AuthCode::new(SECRET.into()).secret(), SECRET);
    }

    #[test]
    fn serde_is_transparent() {
        let json = serde_json::to_string(&AccessToken::new("abc".into())).expect("serialize");
        assert_eq!(json, "\"abc\"");
        let back: RefreshToken = serde_json::from_str("\"xyz\"").expect("deserialize");
        assert_eq!(back.secret(), "xyz");
        let verifier = PkceVerifier::parse(SECRET).expect("valid verifier");
        assert_eq!(
            serde_json::to_string(&verifier).expect("serialize"),
            format!("\"{SECRET}\"")
        );
    }

    #[test]
    fn verifier_deserialize_validates_without_echoing() {
        let back: PkceVerifier = serde_json::from_str(&format!("\"{SECRET}\"")).expect("valid");
        assert_eq!(back.secret(), SECRET);
        let too_short = "abcdefghijklmnopqrstuvwxyz";
        let err = serde_json::from_str::<PkceVerifier>(&format!("\"{too_short}\""))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("43"), "{err}");
        assert!(!err.contains(too_short), "{err}");
        let bad_char = format!("{SECRET}!");
        assert!(serde_json::from_str::<PkceVerifier>(&format!("\"{bad_char}\"")).is_err());
    }

    #[test]
    fn sha256_hex_matches_known_vector() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(
            RefreshToken::new("abc".into()).sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            RefreshToken::new(String::new()).sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
