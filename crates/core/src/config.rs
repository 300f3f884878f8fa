//! The runtime `config.json` served next to `index.html`: one build serves every environment.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::CoreError;

/// Where the app signs in, which API it calls and where it pushes tokens.
///
/// Build it with [`AppConfig::from_json`] (or check a hand-built one with [`AppConfig::validate`]): the
/// request builders in [`crate::oauth`] and [`crate::api`] rely on the validated shape.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The Spotify app's client id (public; PKCE needs no client secret).
    pub client_id: String,
    /// Sent verbatim: Spotify compares redirect URIs exactly, so this is never normalized.
    /// Plain `http` is only allowed for loopback IP literals, as Spotify requires
    /// (<https://developer.spotify.com/documentation/web-api/concepts/redirect_uri>).
    pub redirect_uri: String,
    /// e.g. `https://accounts.spotify.com`, stored without a trailing slash.
    pub accounts_base: String,
    /// e.g. `https://api.spotify.com/v1`, stored without a trailing slash.
    pub api_base: String,
    /// The token-push endpoint: an absolute http(s) URL or a same-origin path such as `/api/tokens`.
    pub push_url: String,
    /// Scopes to request, e.g. `playlist-modify-private`; joined with spaces in the authorize URL
    /// (<https://developer.spotify.com/documentation/web-api/concepts/scopes>).
    pub scopes: Vec<String>,
    /// The accounts this site stores credentials for: lowercase hex SHA-256 of each Spotify user id (the ids
    /// themselves are not published). The app pushes a signed-in user's tokens only when their `/v1/me` id is
    /// listed; anyone else's never leave the browser. Absent or empty: no account is stored, nothing is pushed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stored_accounts: Vec<String>,
}

impl AppConfig {
    /// Parses and validates `config.json`. Unknown fields are rejected so a typo cannot silently fall back
    /// to a default. Base URLs lose any trailing slash. Errors name the offending field.
    pub fn from_json(s: &str) -> Result<Self, CoreError> {
        let config: Self = serde_json::from_str(s).map_err(|e| CoreError::Config(e.to_string()))?;
        config.validated()
    }

    /// Checks a config built by other means and normalizes its base URLs, as [`AppConfig::from_json`] does.
    pub fn validated(mut self) -> Result<Self, CoreError> {
        self.accounts_base = base_url("accounts_base", &self.accounts_base)?;
        self.api_base = base_url("api_base", &self.api_base)?;
        self.validate()?;
        Ok(self)
    }

    /// Checks every field without changing anything; a base URL with a trailing slash is an error here.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.client_id.trim().is_empty() {
            return Err(field_error("client_id", "must not be empty"));
        }
        if !self.client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(field_error(
                "client_id",
                "must be printable ASCII without spaces",
            ));
        }
        validate_redirect_uri(&self.redirect_uri)?;
        for (field, value) in [
            ("accounts_base", &self.accounts_base),
            ("api_base", &self.api_base),
        ] {
            if base_url(field, value)? != *value {
                return Err(field_error(field, "must not end with a slash"));
            }
        }
        validate_push_url(&self.push_url)?;
        for (i, scope) in self.scopes.iter().enumerate() {
            if scope.is_empty()
                || !scope
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
            {
                return Err(field_error(
                    "scopes",
                    &format!(
                        "entry {i} must be a non-empty scope name without spaces, got {scope:?}"
                    ),
                ));
            }
        }
        for (i, hash) in self.stored_accounts.iter().enumerate() {
            if !crate::secret::is_sha256_hex(hash) {
                return Err(field_error(
                    "stored_accounts",
                    &format!("entry {i} must be the SHA-256 of a Spotify user id as 64 lowercase hex digits"),
                ));
            }
        }
        Ok(())
    }

    /// Whether this site stores the credentials of Spotify user `user_id` (its `/v1/me` id).
    pub fn stores_account(&self, user_id: &str) -> bool {
        let hash = stored_account_hash(user_id);
        self.stored_accounts.iter().any(|listed| *listed == hash)
    }
}

/// How `config.json` lists a stored account: lowercase hex SHA-256 of the Spotify user id, exactly as `/v1/me`
/// answers it. `cargo xtask dist` and the stack compute it from the same allow-list the sink enforces.
pub fn stored_account_hash(user_id: &str) -> String {
    crate::secret::sha256_hex(user_id.as_bytes())
}

fn field_error(field: &str, problem: &str) -> CoreError {
    CoreError::Config(format!("`{field}` {problem}"))
}

/// Parses an absolute http(s) URL and checks it can also serve as an [`http::Uri`] once a path is appended,
/// so the request builders never meet a URI they cannot represent.
fn absolute_http_url(field: &str, value: &str) -> Result<Url, CoreError> {
    let must = || {
        field_error(
            field,
            &format!("must be an absolute http:// or https:// URL, got {value:?}"),
        )
    };
    if value.trim() != value {
        return Err(field_error(
            field,
            "must not have leading or trailing spaces",
        ));
    }
    let url = Url::parse(value).map_err(|_| must())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(must());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(field_error(
            field,
            "must not contain a user name or password",
        ));
    }
    if url.fragment().is_some() {
        return Err(field_error(field, "must not contain a #fragment"));
    }
    if http::Uri::try_from(format!("{value}/api/token")).is_err() {
        return Err(field_error(
            field,
            "contains characters that must be percent-encoded",
        ));
    }
    Ok(url)
}

/// Returns the base without trailing slashes.
fn base_url(field: &str, value: &str) -> Result<String, CoreError> {
    let url = absolute_http_url(field, value)?;
    if url.query().is_some() {
        return Err(field_error(field, "must not contain a ?query"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn validate_redirect_uri(value: &str) -> Result<(), CoreError> {
    let url = absolute_http_url("redirect_uri", value)?;
    if url.scheme() == "http" {
        let loopback = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            _ => false,
        };
        if !loopback {
            return Err(field_error(
                "redirect_uri",
                &format!(
                    "may use plain http only with a loopback IP such as http://127.0.0.1:8080/callback \
                     (Spotify rejects http://localhost), got {value:?}"
                ),
            ));
        }
    }
    Ok(())
}

fn validate_push_url(value: &str) -> Result<(), CoreError> {
    if value.is_empty() {
        return Err(field_error("push_url", "must not be empty"));
    }
    // A same-origin path; `//host/...` would be protocol-relative and leave the origin.
    if value.starts_with('/') && !value.starts_with("//") {
        return match http::Uri::try_from(value) {
            Ok(_) if !value.contains('#') => Ok(()),
            _ => Err(field_error(
                "push_url",
                &format!("is not a valid path, got {value:?}"),
            )),
        };
    }
    absolute_http_url("push_url", value).map(drop).map_err(|_| {
        field_error(
            "push_url",
            &format!(
                "must be a path such as /api/tokens or an absolute http(s) URL, got {value:?}"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(overrides: &[(&str, serde_json::Value)]) -> String {
        let mut value = serde_json::json!({
            "client_id": "abc123",
            "redirect_uri": "http://127.0.0.1:8080/callback",
            "accounts_base": "https://accounts.spotify.com",
            "api_base": "https://api.spotify.com/v1",
            "push_url": "/api/tokens",
            "scopes": ["playlist-read-private", "playlist-modify-private"],
        });
        for (key, v) in overrides {
            value[*key] = v.clone();
        }
        value.to_string()
    }

    fn error_of(overrides: &[(&str, serde_json::Value)]) -> String {
        match AppConfig::from_json(&json(overrides)) {
            Ok(config) => panic!("accepted {config:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_the_example() {
        let config = AppConfig::from_json(&json(&[])).expect("valid");
        assert_eq!(
            config,
            AppConfig {
                client_id: "abc123".into(),
                redirect_uri: "http://127.0.0.1:8080/callback".into(),
                accounts_base: "https://accounts.spotify.com".into(),
                api_base: "https://api.spotify.com/v1".into(),
                push_url: "/api/tokens".into(),
                scopes: vec![
                    "playlist-read-private".into(),
                    "playlist-modify-private".into()
                ],
                stored_accounts: Vec::new(),
            }
        );
        assert!(config.validate().is_ok());
    }

    #[test]
    fn stored_accounts_are_hashes_and_decide_who_is_pushed() {
        let alice = stored_account_hash("alice.setlist");
        assert_eq!(alice, crate::secret::sha256_hex(b"alice.setlist"));
        let config = AppConfig::from_json(&json(&[("stored_accounts", serde_json::json!([alice]))])).expect("valid");
        assert!(config.stores_account("alice.setlist"));
        assert!(!config.stores_account("chen.setlist"));
        assert!(!config.stores_account("ALICE.SETLIST"), "ids compare exactly");
        // Absent: nobody's tokens are pushed.
        let none = AppConfig::from_json(&json(&[])).expect("valid");
        assert!(!none.stores_account("alice.setlist"));
        // An id in clear (or anything not a hash) is refused: the file must not publish ids.
        let message = error_of(&[("stored_accounts", serde_json::json!(["alice.setlist"]))]);
        assert!(message.contains("stored_accounts"), "{message}");
    }

    #[test]
    fn trailing_slashes_are_stripped_from_bases_only() {
        let config = AppConfig::from_json(&json(&[
            ("accounts_base", "http://127.0.0.1:9000/".into()),
            ("api_base", "http://localhost:9000/v1//".into()),
            ("redirect_uri", "https://setlist.example/".into()),
        ]))
        .expect("valid");
        assert_eq!(config.accounts_base, "http://127.0.0.1:9000");
        assert_eq!(config.api_base, "http://localhost:9000/v1");
        assert_eq!(
            config.redirect_uri, "https://setlist.example/",
            "redirect_uri is matched exactly, never normalized"
        );
    }

    #[test]
    fn accepted_variants() {
        for overrides in [
            vec![("redirect_uri", "http://[::1]:8080/callback".into())],
            vec![("redirect_uri", "http://127.0.0.2/cb".into())],
            vec![("redirect_uri", "https://setlist.example/callback".into())],
            vec![("push_url", "https://sink.example/api/tokens".into())],
            vec![("scopes", serde_json::json!([]))],
        ] {
            assert!(
                AppConfig::from_json(&json(&overrides)).is_ok(),
                "{overrides:?}"
            );
        }
    }

    #[test]
    fn rejections_name_the_field() {
        let cases: Vec<(Vec<(&str, serde_json::Value)>, &str)> = vec![
            (
                vec![("client_id", "".into())],
                "`client_id` must not be empty",
            ),
            (
                vec![("client_id", "  ".into())],
                "`client_id` must not be empty",
            ),
            (
                vec![("client_id", "a b".into())],
                "`client_id` must be printable ASCII",
            ),
            (
                vec![("redirect_uri", "/callback".into())],
                "`redirect_uri` must be an absolute",
            ),
            (
                vec![("redirect_uri", "ftp://127.0.0.1/cb".into())],
                "`redirect_uri` must be an absolute",
            ),
            (
                vec![("redirect_uri", "http://localhost:8080/callback".into())],
                "`redirect_uri` may use plain http only",
            ),
            (
                vec![("redirect_uri", "http://example.com/callback".into())],
                "`redirect_uri` may use plain http only",
            ),
            (
                vec![("redirect_uri", "https://x.example/cb#frag".into())],
                "`redirect_uri` must not contain a #fragment",
            ),
            (
                vec![("redirect_uri", " https://x.example/cb".into())],
                "`redirect_uri` must not have leading",
            ),
            (
                vec![("accounts_base", "accounts.spotify.com".into())],
                "`accounts_base` must be an absolute",
            ),
            (
                vec![(
                    "accounts_base",
                    "https://user:pw@accounts.spotify.com".into(),
                )],
                "`accounts_base` must not contain a user",
            ),
            (
                vec![("api_base", "".into())],
                "`api_base` must be an absolute",
            ),
            (
                vec![("api_base", "https://api.spotify.com/v1?x=1".into())],
                "`api_base` must not contain a ?query",
            ),
            (
                vec![("api_base", "mailto:a@b.c".into())],
                "`api_base` must be an absolute",
            ),
            (
                vec![("push_url", "".into())],
                "`push_url` must not be empty",
            ),
            (
                vec![("push_url", "//evil.example/api/tokens".into())],
                "`push_url` must be a path",
            ),
            (
                vec![("push_url", "api/tokens".into())],
                "`push_url` must be a path",
            ),
            (
                vec![("push_url", "/api/to kens".into())],
                "`push_url` is not a valid path",
            ),
            (
                vec![("scopes", serde_json::json!(["a b"]))],
                "`scopes` entry 0",
            ),
            (
                vec![("scopes", serde_json::json!(["ok", ""]))],
                "`scopes` entry 1",
            ),
            (vec![("scopes", "a b".into())], "invalid type"),
            (vec![("extra", "x".into())], "unknown field `extra`"),
        ];
        for (overrides, expected) in cases {
            let message = error_of(&overrides);
            assert!(message.starts_with("invalid config.json: "), "{message}");
            assert!(message.contains(expected), "{overrides:?}: {message}");
        }
    }

    #[test]
    fn missing_field_is_named() {
        let message = AppConfig::from_json(r#"{"client_id":"x"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("missing field"), "{message}");
        assert!(AppConfig::from_json("not json").is_err());
    }

    #[test]
    fn validate_rejects_unnormalized_hand_built_config() {
        let mut config = AppConfig::from_json(&json(&[])).expect("valid");
        config.api_base.push('/');
        let message = config
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("`api_base` must not end with a slash"),
            "{message}"
        );
        let fixed = config.validated().expect("normalizes");
        assert_eq!(fixed.api_base, "https://api.spotify.com/v1");
    }
}
