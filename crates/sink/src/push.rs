//! The wire type of `POST /api/tokens` and its strict parsing. The browser app mirrors [`TokenPush`] field for
//! field.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::secret::{is_sha256_hex, SecretString};
use crate::Error;

/// Largest accepted body, in bytes.
pub const MAX_BODY_BYTES: usize = 4096;
/// Longest accepted token (Spotify's are a few hundred characters).
const MAX_TOKEN_CHARS: usize = 1024;
const MAX_SCOPE_CHARS: usize = 1024;
/// How far ahead of the sink's clock `expires_at` and `authorized_at` may be: generous for skewed browser clocks,
/// small enough that a bogus `expires_at` cannot pin a stored token as "fresh" for long.
pub const MAX_CLOCK_AHEAD_SECS: i64 = 24 * 60 * 60;

/// What the app pushes whenever it obtains tokens (sign-in or refresh). Every field is required;
/// `prev_refresh_sha256` must be present and is `null` after a sign-in. Unknown fields are rejected.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPush {
    pub access_token: SecretString,
    /// Unix seconds when the access token expires (the app's clock: obtained-at plus `expires_in`).
    pub expires_at: i64,
    pub refresh_token: SecretString,
    /// Granted scopes, space separated, as the token endpoint answered them.
    pub scope: String,
    /// Unix seconds of the sign-in that started this refresh-token chain (refreshing keeps it).
    pub authorized_at: i64,
    /// Lowercase hex SHA-256 of the refresh token that was used to obtain these tokens; `null` after a sign-in.
    #[serde(deserialize_with = "present_but_nullable")]
    pub prev_refresh_sha256: Option<String>,
}

impl fmt::Debug for TokenPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPush")
            .field("access_token", &self.access_token)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("authorized_at", &self.authorized_at)
            .field("prev_refresh_sha256", &self.prev_refresh_sha256)
            .finish()
    }
}

/// A custom deserializer turns off serde's "a missing `Option` is `None`", so the field must be there.
fn present_but_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

impl TokenPush {
    /// Parses a request body strictly (unknown, duplicate or missing fields fail) and checks every field's shape
    /// against the sink's clock `now`. Errors never quote a value from the body.
    pub fn parse(body: &[u8], now: i64) -> Result<Self, Error> {
        // Syntax first, so that "not JSON" and "not a push" are told apart.
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(describe_json_error)?;
        // serde would also take a struct as a JSON array of its fields; only the object form is the contract.
        if body.iter().find(|c| !c.is_ascii_whitespace()) != Some(&b'{') {
            return Err(invalid("body must be a JSON object"));
        }
        let push: Self = serde_json::from_slice(body).map_err(describe_json_error)?;
        push.validate(now)?;
        Ok(push)
    }

    /// Checks field shapes; [`Error::InvalidPush`] names the field at fault.
    pub fn validate(&self, now: i64) -> Result<(), Error> {
        check_token("access_token", self.access_token.secret())?;
        check_token("refresh_token", self.refresh_token.secret())?;
        if self.scope.len() > MAX_SCOPE_CHARS
            || !self
                .scope
                .bytes()
                .all(|c| c == b' ' || c.is_ascii_graphic())
        {
            return Err(invalid("scope must be space-separated scope names"));
        }
        let latest = now.saturating_add(MAX_CLOCK_AHEAD_SECS);
        if self.expires_at <= 0 || self.expires_at > latest {
            return Err(invalid(
                "expires_at must be unix seconds no more than a day ahead",
            ));
        }
        if self.authorized_at <= 0 || self.authorized_at > self.expires_at {
            return Err(invalid(
                "authorized_at must be unix seconds, not after expires_at",
            ));
        }
        if let Some(prev) = &self.prev_refresh_sha256 {
            if !is_sha256_hex(prev) {
                return Err(invalid(
                    "prev_refresh_sha256 must be 64 lowercase hex digits or null",
                ));
            }
        }
        Ok(())
    }

    /// Lowercase hex SHA-256 of the pushed refresh token.
    pub fn rt_sha256(&self) -> String {
        self.refresh_token.sha256_hex()
    }
}

fn invalid(message: &str) -> Error {
    Error::InvalidPush(message.to_owned())
}

fn check_token(name: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidPush(format!("{name} is empty")));
    }
    // Tokens travel in an Authorization header: visible ASCII only.
    if value.len() > MAX_TOKEN_CHARS || !value.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(Error::InvalidPush(format!(
            "{name} must be at most {MAX_TOKEN_CHARS} visible ASCII characters"
        )));
    }
    Ok(())
}

/// serde_json's data errors quote offending values ("invalid type: string \"...\""), which could be a token in the
/// wrong field; keep only field names and positions.
fn describe_json_error(error: serde_json::Error) -> Error {
    use serde_json::error::Category;
    let (line, column) = (error.line(), error.column());
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::MalformedJson { line, column },
        Category::Data => {
            let text = error.to_string();
            let field_error = ["unknown field `", "missing field `", "duplicate field `"]
                .iter()
                .find_map(|prefix| {
                    let rest = text.strip_prefix(prefix)?;
                    let name = rest.split('`').next()?;
                    let kind = prefix.trim_end_matches(" `");
                    Some(format!("{kind} `{}`", truncate(name, 64)))
                });
            Error::InvalidPush(field_error.unwrap_or_else(|| {
                format!("a value has the wrong type (line {line}, column {column})")
            }))
        }
    }
}

fn truncate(value: &str, max_chars: usize) -> String {
    value.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn body(overrides: serde_json::Value) -> Vec<u8> {
        let mut value = json!({
            "access_token": "at-1",
            "expires_at": NOW + 3600,
            "refresh_token": "rt-1",
            "scope": "user-read-private playlist-read-private",
            "authorized_at": NOW,
            "prev_refresh_sha256": null,
        });
        if let (Some(base), Some(extra)) = (value.as_object_mut(), overrides.as_object()) {
            for (key, field) in extra {
                base.insert(key.clone(), field.clone());
            }
        }
        serde_json::to_vec(&value).expect("json")
    }

    fn rejected(bytes: &[u8]) -> String {
        match TokenPush::parse(bytes, NOW) {
            Ok(_) => panic!("accepted {}", String::from_utf8_lossy(bytes)),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_good_push_parses() {
        let push = TokenPush::parse(&body(json!({})), NOW).expect("valid");
        assert_eq!(push.access_token.secret(), "at-1");
        assert_eq!(push.prev_refresh_sha256, None);
        let rotated = body(json!({ "prev_refresh_sha256": crate::sha256_hex(b"rt-0") }));
        assert!(TokenPush::parse(&rotated, NOW)
            .expect("valid")
            .prev_refresh_sha256
            .is_some());
    }

    #[test]
    fn prev_refresh_sha256_must_be_present() {
        let mut value: serde_json::Value = serde_json::from_slice(&body(json!({}))).expect("json");
        value
            .as_object_mut()
            .expect("object")
            .remove("prev_refresh_sha256");
        let message = rejected(&serde_json::to_vec(&value).expect("json"));
        assert!(
            message.contains("missing field `prev_refresh_sha256`"),
            "{message}"
        );
    }

    #[test]
    fn unknown_and_duplicate_fields_are_rejected() {
        assert!(rejected(&body(json!({ "extra": 1 }))).contains("unknown field `extra`"));
        let duplicate = br#"{"access_token":"a","access_token":"b","expires_at":1,"refresh_token":"r","scope":"","authorized_at":1,"prev_refresh_sha256":null}"#;
        assert!(rejected(duplicate).contains("duplicate field"));
    }

    #[test]
    fn errors_never_quote_values() {
        let message = rejected(&body(json!({ "expires_at": "SECRET-VALUE" })));
        assert!(!message.contains("SECRET-VALUE"), "{message}");
        let message = rejected(&body(json!({ "scope": "SECRET\u{1}VALUE" })));
        assert!(!message.contains("SECRET"), "{message}");
    }

    #[test]
    fn shapes_are_checked() {
        assert!(rejected(&body(json!({ "access_token": "" }))).contains("access_token is empty"));
        assert!(rejected(&body(json!({ "refresh_token": "" }))).contains("refresh_token is empty"));
        assert!(rejected(&body(json!({ "access_token": "a b" }))).contains("access_token"));
        assert!(rejected(&body(
            json!({ "expires_at": NOW + 2 * MAX_CLOCK_AHEAD_SECS })
        ))
        .contains("expires_at"));
        assert!(rejected(&body(json!({ "authorized_at": NOW + 7200 }))).contains("authorized_at"));
        assert!(rejected(&body(json!({ "prev_refresh_sha256": "abc" })))
            .contains("prev_refresh_sha256"));
        assert!(rejected(&body(json!({ "expires_at": 1.5 }))).contains("wrong type"));
        assert!(rejected(b"{\"access_token\":").contains("not valid JSON"));
        assert!(rejected(b"[]").contains("JSON object"));
        assert!(rejected(br#"["a", 2, "r", "", 1, null]"#).contains("JSON object"));
    }

    #[test]
    fn debug_is_redacted() {
        let push = TokenPush::parse(&body(json!({})), NOW).expect("valid");
        let printed = format!("{push:?}");
        assert!(
            !printed.contains("at-1") && !printed.contains("rt-1"),
            "{printed}"
        );
    }
}
