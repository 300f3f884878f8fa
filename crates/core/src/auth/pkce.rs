//! PKCE, [RFC 7636](https://www.rfc-editor.org/rfc/rfc7636): the verifier the app keeps and the S256
//! challenge it sends to `/authorize`.
//!
//! Spotify's PKCE guide: <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#code-verifier>.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::{CoreError, PkceVerifier};

/// RFC 7636 §4.1: a verifier is 43 to 128 characters long.
pub const VERIFIER_MIN_LEN: usize = 43;
/// RFC 7636 §4.1: a verifier is 43 to 128 characters long.
pub const VERIFIER_MAX_LEN: usize = 128;

/// RFC 3986 "unreserved" characters, the only ones RFC 7636 allows in a verifier.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

impl PkceVerifier {
    /// A fresh verifier: 32 bytes from the operating system's CSPRNG, base64url without padding
    /// (43 characters, 256 bits of entropy), as RFC 7636 §4.1 recommends.
    ///
    /// On `wasm32-unknown-unknown` this needs getrandom's `wasm_js` backend, which the app enables.
    pub fn generate() -> Result<Self, CoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| CoreError::Random(e.to_string()))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// The verifier for given random bytes: their base64url encoding without padding (43 characters).
    /// For tests and callers with their own randomness source.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self::from_validated(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts exactly what RFC 7636 §4.1 allows: 43 to 128 characters from `[A-Za-z0-9-._~]`.
    /// Errors say which rule was broken and never include the value.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        // Byte length equals character length once every byte is known to be ASCII; checking characters
        // first keeps the length message honest for non-ASCII input.
        if let Some(position) = s.bytes().position(|b| !is_unreserved(b)) {
            return Err(CoreError::InvalidVerifier(format!(
                "character {} is outside A-Z a-z 0-9 - . _ ~",
                s[..position].chars().count() + 1
            )));
        }
        if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&s.len()) {
            return Err(CoreError::InvalidVerifier(format!(
                "must be {VERIFIER_MIN_LEN} to {VERIFIER_MAX_LEN} characters long, got {}",
                s.len()
            )));
        }
        Ok(Self::from_validated(s.to_owned()))
    }

    /// The S256 challenge: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`,
    /// [RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2).
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(URL_SAFE_NO_PAD.encode(Sha256::digest(self.secret().as_bytes())))
    }
}

/// A PKCE S256 `code_challenge` (43 characters of base64url). Not a secret: it travels in the authorize URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The challenge as sent in the `code_challenge` parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier =
            PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("valid");
        assert_eq!(
            verifier.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn rfc7636_appendix_b_from_bytes() {
        // The octet sequence RFC 7636 Appendix B encodes into the verifier above.
        let bytes: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = PkceVerifier::from_bytes(&bytes);
        assert_eq!(
            verifier.secret(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn generate_gives_43_fresh_chars() {
        let a = PkceVerifier::generate().expect("rng");
        let b = PkceVerifier::generate().expect("rng");
        assert_eq!(a.secret().len(), 43);
        assert!(a.secret().bytes().all(is_unreserved));
        assert!(PkceVerifier::parse(a.secret()).is_ok());
        assert_ne!(a.secret(), b.secret());
    }

    #[test]
    fn parse_rejections_table() {
        let ok43 = "a".repeat(43);
        let cases = [
            ("", "got 0"),
            (&ok43[..42], "got 42"),
            (&"a".repeat(129), "got 129"),
            (&format!("{}+", &ok43[..42]), "character 43"),
            (&format!("{}=", ok43), "character 44"),
            (&format!("é{}", ok43), "character 1"),
            (&format!("{} ", ok43), "character 44"),
        ];
        for (input, expected) in cases {
            let err = PkceVerifier::parse(input)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(expected), "{input:?}: {err}");
            if !input.is_empty() {
                assert!(!err.contains(input), "error echoes the verifier: {err}");
            }
        }
        assert!(PkceVerifier::parse(&ok43).is_ok());
        assert!(PkceVerifier::parse(&"~".repeat(128)).is_ok());
    }

    fn independent_challenge(verifier: &str) -> String {
        // Straight from RFC 4648 §5 so the check does not reuse the code under test's base64 engine.
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let digest = Sha256::digest(verifier.as_bytes());
        let mut out = String::new();
        for chunk in digest.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            let sextets = chunk.len() + 1;
            for i in 0..sextets {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }

    proptest! {
        #[test]
        fn valid_verifiers_parse_and_challenge(v in "[A-Za-z0-9._~-]{43,128}") {
            let verifier = PkceVerifier::parse(&v).expect("valid by construction");
            prop_assert_eq!(verifier.secret(), v.as_str());
            let challenge = verifier.challenge();
            prop_assert_eq!(challenge.as_str().len(), 43);
            prop_assert!(challenge.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert_eq!(challenge.as_str(), independent_challenge(&v));
        }

        #[test]
        fn wrong_lengths_are_rejected(v in "[A-Za-z0-9._~-]{0,42}|[A-Za-z0-9._~-]{129,300}") {
            prop_assert!(PkceVerifier::parse(&v).is_err());
        }

        #[test]
        fn foreign_characters_are_rejected(
            prefix in "[A-Za-z0-9._~-]{0,64}",
            bad in any::<char>().prop_filter("not unreserved", |c| !c.is_ascii() || !is_unreserved(*c as u8)),
            suffix in "[A-Za-z0-9._~-]{43,63}",
        ) {
            let v = format!("{prefix}{bad}{suffix}");
            prop_assert!(PkceVerifier::parse(&v).is_err());
        }

        #[test]
        fn arbitrary_strings_never_panic(v in any::<String>()) {
            let accepted = PkceVerifier::parse(&v).is_ok();
            let expected = (43..=128).contains(&v.len()) && v.bytes().all(is_unreserved);
            prop_assert_eq!(accepted, expected);
        }

        #[test]
        fn from_bytes_round_trips_through_parse(bytes in any::<[u8; 32]>()) {
            let verifier = PkceVerifier::from_bytes(&bytes);
            prop_assert_eq!(verifier.secret().len(), 43);
            prop_assert!(PkceVerifier::parse(verifier.secret()).is_ok());
        }
    }
}
