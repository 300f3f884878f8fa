//! The runtime `config.json` served next to `index.html`: one build serves every environment.
//!
//! The file is read into [`RawConfig`] (plain strings, the file's exact shape) and checked once into an
//! [`AppConfig`], which cannot be built any other way: the request builders take an `AppConfig`, so they never
//! meet a base URL they cannot turn into a request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::uri::{Authority, PathAndQuery, Scheme};
use http::Uri;
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// `config.json` as written, unchecked: what to deserialize, or to fill in by hand, before
/// [`AppConfig::new`] checks it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The Spotify app's client id (public; PKCE needs no client secret).
    pub client_id: String,
    /// Sent verbatim: Spotify compares redirect URIs exactly, so this is never normalized.
    /// Plain `http` is only allowed for loopback IP literals, as Spotify requires
    /// (<https://developer.spotify.com/documentation/web-api/concepts/redirect_uri>).
    pub redirect_uri: String,
    /// e.g. `https://accounts.spotify.com`; a trailing slash is dropped.
    pub accounts_base: String,
    /// e.g. `https://api.spotify.com/v1`; a trailing slash is dropped.
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

/// Where the app signs in, which API it calls and where it pushes tokens: a [`RawConfig`] that passed every
/// check. The only ways to get one are [`AppConfig::from_json`], [`AppConfig::new`] and deserializing (which
/// runs the same checks), so every request builder can rely on it. Serializes to the `config.json` shape.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "RawConfig", into = "RawConfig")]
pub struct AppConfig {
    client_id: String,
    redirect_uri: String,
    accounts_base: BaseUrl,
    api_base: BaseUrl,
    push_url: PushUrl,
    scopes: Vec<String>,
    stored_accounts: Vec<String>,
}

impl AppConfig {
    /// Parses and checks `config.json`. Unknown fields are rejected so a typo cannot silently fall back
    /// to a default. Base URLs lose any trailing slash. Errors name the offending field.
    pub fn from_json(s: &str) -> Result<Self, CoreError> {
        let raw: RawConfig = serde_json::from_str(s).map_err(|e| CoreError::Config(e.to_string()))?;
        Self::new(raw)
    }

    /// Checks every field of `raw`; base URLs lose any trailing slash. Errors name the offending field.
    pub fn new(raw: RawConfig) -> Result<Self, CoreError> {
        let RawConfig { client_id, redirect_uri, accounts_base, api_base, push_url, scopes, stored_accounts } = raw;
        if client_id.trim().is_empty() {
            return Err(field_error("client_id", "must not be empty"));
        }
        if !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(field_error("client_id", "must be printable ASCII without spaces"));
        }
        validate_redirect_uri(&redirect_uri)?;
        let accounts_base = BaseUrl::parse("accounts_base", &accounts_base)?;
        let api_base = BaseUrl::parse("api_base", &api_base)?;
        let push_url = PushUrl::parse(&push_url)?;
        for (i, scope) in scopes.iter().enumerate() {
            if scope.is_empty() || !scope.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
                return Err(field_error(
                    "scopes",
                    &format!("entry {i} must be a non-empty scope name without spaces, got {scope:?}"),
                ));
            }
        }
        for (i, hash) in stored_accounts.iter().enumerate() {
            if !crate::auth::secret::is_sha256_hex(hash) {
                return Err(field_error(
                    "stored_accounts",
                    &format!("entry {i} must be the SHA-256 of a Spotify user id as 64 lowercase hex digits"),
                ));
            }
        }
        Ok(Self { client_id, redirect_uri, accounts_base, api_base, push_url, scopes, stored_accounts })
    }

    /// The Spotify app's client id: printable ASCII, no spaces.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The redirect URI exactly as configured (Spotify compares it byte for byte).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The accounts service, e.g. `https://accounts.spotify.com`, without a trailing slash.
    pub fn accounts_base(&self) -> &str {
        self.accounts_base.as_str()
    }

    /// The Web API, e.g. `https://api.spotify.com/v1`, without a trailing slash.
    pub fn api_base(&self) -> &str {
        self.api_base.as_str()
    }

    /// Where tokens are pushed.
    pub fn push_url(&self) -> &PushUrl {
        &self.push_url
    }

    /// The scopes to request; each a non-empty name without spaces.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether this site stores the credentials of Spotify user `user_id` (its `/v1/me` id).
    pub fn stores_account(&self, user_id: &str) -> bool {
        let hash = stored_account_hash(user_id);
        self.stored_accounts.contains(&hash)
    }

    /// `{accounts_base}{path}`.
    pub(crate) fn accounts_uri(&self, path: &str) -> Uri {
        self.accounts_base.join(path)
    }

    /// `{api_base}{path}`.
    pub(crate) fn api_uri(&self, path: &str) -> Uri {
        self.api_base.join(path)
    }
}

impl TryFrom<RawConfig> for AppConfig {
    type Error = CoreError;

    fn try_from(raw: RawConfig) -> Result<Self, CoreError> {
        Self::new(raw)
    }
}

impl From<AppConfig> for RawConfig {
    fn from(config: AppConfig) -> Self {
        Self {
            client_id: config.client_id,
            redirect_uri: config.redirect_uri,
            accounts_base: config.accounts_base.text,
            api_base: config.api_base.text,
            push_url: config.push_url.text,
            scopes: config.scopes,
            stored_accounts: config.stored_accounts,
        }
    }
}

/// How `config.json` lists a stored account: lowercase hex SHA-256 of the Spotify user id, exactly as `/v1/me`
/// answers it. `cargo xtask dist` and the stack compute it from the same allow-list the sink enforces.
pub fn stored_account_hash(user_id: &str) -> String {
    crate::auth::secret::sha256_hex(user_id.as_bytes())
}

/// A checked absolute http(s) base URL without a trailing slash, kept as text and as the [`Uri`] parts that
/// every request URL under it shares.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BaseUrl {
    text: String,
    scheme: Scheme,
    authority: Authority,
    /// The base's path without a trailing slash (empty for a bare origin).
    path: String,
}

impl BaseUrl {
    fn parse(field: &str, value: &str) -> Result<Self, CoreError> {
        let text = base_url(field, value)?;
        // `base_url` has checked that the base with a path appended is a `Uri`, so this is the same parse.
        let parts = Uri::try_from(format!("{text}/"))
            .map_err(|_| field_error(field, "contains characters that must be percent-encoded"))?
            .into_parts();
        let (Some(scheme), Some(authority), Some(path)) = (parts.scheme, parts.authority, parts.path_and_query)
        else {
            return Err(field_error(field, &format!("must be an absolute http:// or https:// URL, got {value:?}")));
        };
        let path = path.path().trim_end_matches('/').to_owned();
        Ok(Self { text, scheme, authority, path })
    }

    fn as_str(&self) -> &str {
        &self.text
    }

    /// `{base}{path}`. The base's scheme and authority are already parsed; the path is the base's (checked) and
    /// `path` with every byte that a URI path or query cannot hold percent-encoded, so the result is always a URI.
    fn join(&self, path: &str) -> Uri {
        let mut joined = String::with_capacity(self.path.len() + path.len());
        joined.push_str(&self.path);
        for c in path.chars() {
            if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(c) {
                joined.push(c);
            } else {
                let mut bytes = [0; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    joined.push_str(&format!("%{b:02X}"));
                }
            }
        }
        if !joined.starts_with('/') {
            joined.insert(0, '/');
        }
        // Only unreserved, sub-delimiter, `:@/?%` and percent-encoded bytes are left, all of which a path and query
        // may hold, and a scheme, an authority and a path make a complete absolute URI: neither step can fail (the
        // tests check it on arbitrary paths). Should one ever, the answer is a harmless wrong URL, not a panic.
        let path_and_query = PathAndQuery::try_from(joined).unwrap_or_else(|_| PathAndQuery::from_static("/"));
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .unwrap_or_default()
    }
}

/// Where tokens are pushed: a checked same-origin path such as `/api/tokens` or an absolute http(s) URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushUrl {
    text: String,
    uri: Uri,
}

impl PushUrl {
    /// Checks `value` as `config.json`'s `push_url`.
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        validate_push_url(value)?;
        let uri = Uri::try_from(value)
            .map_err(|_| field_error("push_url", &format!("is not a valid URI, got {value:?}")))?;
        Ok(Self { text: value.to_owned(), uri })
    }

    /// The URL as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL as a [`Uri`].
    pub fn uri(&self) -> &Uri {
        &self.uri
    }
}

fn field_error(field: &str, problem: &str) -> CoreError {
    CoreError::Config(format!("`{field}` {problem}"))
}

/// The parts of an absolute http(s) URL that the checks below look at.
#[derive(Debug, PartialEq)]
struct HttpUrl {
    https: bool,
    host: Host,
    has_query: bool,
}

#[derive(Debug, PartialEq)]
enum Host {
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Domain,
}

/// Checks an absolute http(s) URL and that it can also serve as an [`http::Uri`] once a path is appended, so the
/// request builders never meet a URI they cannot represent.
///
/// Accepts what the WHATWG URL parser (the `url` crate, and the browser that later fetches it) accepts under these
/// rules, without that parser: `url` pulled IDNA and its Unicode tables into the wasm bundle for three strings read
/// once at start-up (issue 15). [`http::Uri`] narrows the input to ASCII URI characters first, and for those the
/// WHATWG host parser reduces to the IP address rules below. The one difference: a domain label starting with
/// `xn--` is not Punycode-checked (that needs the Unicode tables); the browser refuses a bad one when it fetches.
/// The tests compare this with `url` on generated input.
fn absolute_http_url(field: &str, value: &str) -> Result<HttpUrl, CoreError> {
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
    let (https, rest) = match strip_prefix_ignore_case(value, "https://") {
        Some(rest) => (true, rest),
        None => (false, strip_prefix_ignore_case(value, "http://").ok_or_else(must)?),
    };
    // After the scheme a `#` always starts the fragment (it also ends the authority).
    if value.contains('#') {
        return Err(field_error(field, "must not contain a #fragment"));
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_and_port = match authority.rsplit_once('@') {
        // WHATWG keeps an empty user name and password as absent: `http://@host` and `http://:@host` carry none.
        Some((userinfo, host_and_port)) if userinfo.is_empty() || userinfo == ":" => host_and_port,
        Some(_) => {
            return Err(field_error(
                field,
                "must not contain a user name or password",
            ))
        }
        None => authority,
    };
    if http::Uri::try_from(format!("{value}/api/token")).is_err() {
        return Err(field_error(
            field,
            "contains characters that must be percent-encoded",
        ));
    }
    // From here on the authority is ASCII URI characters with at most one `:` outside brackets, no `%` in the host
    // and balanced brackets: what `http::Uri` just accepted.
    let (host, port) = if let Some(inner) = host_and_port.strip_prefix('[') {
        let (ip, after) = inner.split_once(']').ok_or_else(must)?;
        let port = match after {
            "" => "",
            _ => after.strip_prefix(':').ok_or_else(must)?,
        };
        (Host::Ipv6(ip.parse().map_err(|_| must())?), port)
    } else {
        let (host, port) = host_and_port.split_once(':').unwrap_or((host_and_port, ""));
        (parse_host(host).ok_or_else(must)?, port)
    };
    // Empty is allowed (`http://host:/`); otherwise a number of at most 65535, leading zeros and all.
    if !port.bytes().all(|b| b.is_ascii_digit()) || port.trim_start_matches('0').len() > 5 {
        return Err(must());
    }
    if !port.is_empty() && port.parse::<u32>().map_or(true, |p| p > 65535) {
        return Err(must());
    }
    Ok(HttpUrl {
        https,
        host,
        has_query: rest.contains('?'),
    })
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &value[prefix.len()..])
}

/// The WHATWG host parser for a host that `http::Uri` accepted and that is not in brackets: ASCII letters, digits
/// and `!$&'()*+,-.;=_~` (no `%`, so nothing to percent-decode). None of those is a forbidden domain code point,
/// so it is a domain unless it ends in a number, in which case it must be an IPv4 address
/// (<https://url.spec.whatwg.org/#host-parsing>).
fn parse_host(host: &str) -> Option<Host> {
    if host.is_empty() || host.contains(['[', ']']) {
        return None;
    }
    if ends_in_a_number(host) {
        parse_ipv4(host).map(Host::Ipv4)
    } else {
        Some(Host::Domain)
    }
}

/// <https://url.spec.whatwg.org/#ends-in-a-number-checker>
fn ends_in_a_number(host: &str) -> bool {
    let mut parts = host.rsplit('.');
    let last = match parts.next() {
        Some("") => match parts.next() {
            Some(last) => last,
            None => return false,
        },
        Some(last) => last,
        None => return false,
    };
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) || ipv4_number(last).is_some()
}

/// <https://url.spec.whatwg.org/#ipv4-number-parser>: decimal, `0x` hex or `0` octal; `Some(None)` is a valid
/// number too large for 32 bits.
fn ipv4_number(part: &str) -> Option<Option<u32>> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        (hex, 16)
    } else if part.len() >= 2 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return Some(Some(0));
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(u32::from_str_radix(digits, radix).ok())
}

/// <https://url.spec.whatwg.org/#concept-ipv4-parser>: `127.1`, `0x7f.0.0.1` and `2130706433` are all 127.0.0.1.
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(4);
    for part in &parts {
        numbers.push(ipv4_number(part)??);
    }
    let (last, leading) = numbers.split_last()?;
    // The last number fills the bytes the others leave: below 256^(4 - leading.len()).
    if u64::from(*last) >= 1u64 << (8 * (4 - leading.len())) || leading.iter().any(|n| *n > 255) {
        return None;
    }
    let address = leading
        .iter()
        .enumerate()
        .fold(*last, |acc, (i, n)| acc + (n << (8 * (3 - i))));
    Some(Ipv4Addr::from(address))
}

/// Returns the base without trailing slashes.
fn base_url(field: &str, value: &str) -> Result<String, CoreError> {
    let url = absolute_http_url(field, value)?;
    if url.has_query {
        return Err(field_error(field, "must not contain a ?query"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn validate_redirect_uri(value: &str) -> Result<(), CoreError> {
    let url = absolute_http_url("redirect_uri", value)?;
    if !url.https {
        let loopback = match url.host {
            Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
            Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
            Host::Domain => false,
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
    use proptest::prelude::*;

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
        let raw = RawConfig {
            client_id: "abc123".into(),
            redirect_uri: "http://127.0.0.1:8080/callback".into(),
            accounts_base: "https://accounts.spotify.com".into(),
            api_base: "https://api.spotify.com/v1".into(),
            push_url: "/api/tokens".into(),
            scopes: vec!["playlist-read-private".into(), "playlist-modify-private".into()],
            stored_accounts: Vec::new(),
        };
        assert_eq!(RawConfig::from(config.clone()), raw);
        assert_eq!(AppConfig::new(raw).expect("valid"), config);
        assert_eq!(config.client_id(), "abc123");
        assert_eq!(config.scopes().len(), 2);
        assert_eq!(config.push_url().as_str(), "/api/tokens");
    }

    #[test]
    fn serde_keeps_the_file_shape_and_checks_it() {
        let config = AppConfig::from_json(&json(&[])).expect("valid");
        let written = serde_json::to_value(&config).expect("serializes");
        assert_eq!(written, serde_json::from_str::<serde_json::Value>(&json(&[])).expect("json"));
        let read: AppConfig = serde_json::from_value(written).expect("deserializes");
        assert_eq!(read, config);
        let refused = serde_json::from_str::<AppConfig>(&json(&[("api_base", "nope".into())]));
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("`api_base` must be an absolute"), "{message}");
    }

    #[test]
    fn stored_accounts_are_hashes_and_decide_who_is_pushed() {
        let alice = stored_account_hash("alice.setlist");
        assert_eq!(alice, crate::auth::secret::sha256_hex(b"alice.setlist"));
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
        assert_eq!(config.accounts_base(), "http://127.0.0.1:9000");
        assert_eq!(config.api_base(), "http://localhost:9000/v1");
        assert_eq!(config.api_uri("/me"), "http://localhost:9000/v1/me");
        assert_eq!(config.accounts_uri("/api/token"), "http://127.0.0.1:9000/api/token");
        assert_eq!(
            config.redirect_uri(), "https://setlist.example/",
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
    fn hosts_follow_the_whatwg_parser() {
        for (uri, loopback) in [
            ("http://127.0.0.1:8080/callback", true),
            ("http://127.1/cb", true),
            ("http://0x7f.0.0.1/cb", true),
            ("http://0177.0.0.1/cb", true),
            ("http://2130706433/cb", true),
            ("http://127.0.0.1./cb", true),
            ("HTTP://127.0.0.1/cb", true),
            ("http://[::1]/cb", true),
            ("http://[0:0:0:0:0:0:0:1]:8080/cb", true),
            ("http://:@127.0.0.1/cb", true),
            ("http://127.0.0.1:/cb", true),
            ("http://127.0.0.1:000080/cb", true),
            ("http://[::ffff:127.0.0.1]/cb", false),
            ("http://128.0.0.1/cb", false),
            ("http://localhost/cb", false),
            ("http://127.0.0.1.example/cb", false),
        ] {
            let got = validate_redirect_uri(uri);
            assert_eq!(got.is_ok(), loopback, "{uri}: {got:?}");
        }
        for rejected in [
            "http://256.0.0.1/cb",
            "http://1.2.3.4.5/cb",
            "http://0x100000000/cb",
            "http://example.1/cb",
            "http://09.0.0.1/cb",
            "http://[::1/cb",
            "http://[::1]x/cb",
            "http://x[::1]/cb",
            "http://[::01.2.3.4]/cb",
            "https://127.0.0.1:65536/cb",
            "https://127.0.0.1:8o/cb",
            "https://:80/cb",
            "https://@/cb",
            "https://a@b@example.com/cb",
            "https://%41@example.com/cb",
            "https:example.com/cb",
            "https:///example.com/cb",
            "https://ex%41mple.com/cb",
            "https://exa mple.com/cb",
        ] {
            assert!(base_url("accounts_base", rejected).is_err(), "{rejected}");
        }
        for accepted in ["https://EXAMPLE.com", "https://a_b.example/x", "https://@example.com", "https://example.com:443"] {
            assert!(base_url("accounts_base", accepted).is_ok(), "{accepted}");
        }
    }

    /// The checks as they were with `url::Url` (the WHATWG parser), the reference for the ones above.
    mod reference {
        use super::super::{field_error, CoreError};
        use std::net::IpAddr;
        use url::{Host, Url};

        fn absolute_http_url(field: &str, value: &str) -> Result<Url, CoreError> {
            let must = || field_error(field, "must be absolute");
            if value.trim() != value {
                return Err(must());
            }
            let url = Url::parse(value).map_err(|_| must())?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(must());
            }
            if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
                return Err(must());
            }
            if http::Uri::try_from(format!("{value}/api/token")).is_err() {
                return Err(must());
            }
            Ok(url)
        }

        pub(super) fn base_url(value: &str) -> bool {
            absolute_http_url("f", value).is_ok_and(|url| url.query().is_none())
        }

        pub(super) fn redirect_uri(value: &str) -> bool {
            absolute_http_url("f", value).is_ok_and(|url| {
                url.scheme() == "https"
                    || match url.host() {
                        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
                        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
                        _ => false,
                    }
            })
        }

        pub(super) fn push_url(value: &str) -> bool {
            if value.starts_with('/') && !value.starts_with("//") {
                return http::Uri::try_from(value).is_ok() && !value.contains('#');
            }
            !value.is_empty() && absolute_http_url("f", value).is_ok()
        }
    }

    /// URL-shaped strings: pieces chosen to reach every branch of the WHATWG host, port and userinfo rules, and
    /// printable ASCII anywhere.
    fn url_like() -> impl Strategy<Value = String> {
        let scheme = prop::sample::select(vec![
            "http://", "https://", "HTTP://", "hTtPs://", "http:", "http:/", "https:///", "ftp://", "", "/", "//",
        ]);
        let userinfo = prop::sample::select(vec!["", "", "", "@", ":@", "u@", ":p@", "u:@", "@@", "%41@", "::@"]);
        let host = prop_oneof![
            prop::sample::select(vec![
                "127.0.0.1", "127.1", "0x7f.1", "0X7F.0.0.1", "0177.0.0.1", "017700000001", "2130706433",
                "127.0.0.1.", "127.0.0.1..", "[::1]", "[::ffff:127.0.0.1]", "[1:2:3:4:5:6:7::]", "[::01.2.3.4]",
                "[::1.2.3]", "[v1.x]", "[::1%25lo]", "[:1]", "[]", "localhost", "example.com", "Example.COM",
                "a..b", ".", "..", "1.2.3.4.5", "256.0.0.1", "1.256", "1.2.3.256", "127.0.65536", "127.16777216", "127.0.0.0x100", "0x100000000", "4294967296", "a.1", "1.a",
                "0x", "0x.0", "09", "08.1", "0.0x", "1.2.3.", "", "a_b", "a-", "-a", "~!$&'()*+,;=",
            ])
            .prop_map(String::from),
            "[a-z0-9.:\\[\\]%@!$&'()*+,;=_~xX-]{0,12}",
        ];
        let port = prop::sample::select(vec![
            "", "", ":", ":80", ":065535", ":65535", ":65536", ":0000000000080", ":a", "::80", ":8:9", ":-1",
        ]);
        let rest = prop_oneof![
            prop::sample::select(vec!["", "/", "/cb", "/a?b", "?", "?x=1", "#f", "/#", "/é", "/a b", "/{x}", "/\\", "\\x"])
                .prop_map(String::from),
            "[ -~]{0,6}",
        ];
        (scheme, userinfo, host, port, rest)
            .prop_map(|(s, u, h, p, r)| format!("{s}{u}{h}{p}{r}"))
            // Punycode labels are checked only by `url` (see `absolute_http_url`).
            .prop_filter("no xn-- labels", |v| !v.to_ascii_lowercase().contains("xn--"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn the_checks_accept_exactly_what_the_whatwg_parser_does(value in url_like()) {
            prop_assert_eq!(base_url("f", &value).is_ok(), reference::base_url(&value), "base {:?}", value);
            prop_assert_eq!(validate_redirect_uri(&value).is_ok(), reference::redirect_uri(&value), "redirect {:?}", value);
            prop_assert_eq!(validate_push_url(&value).is_ok(), reference::push_url(&value), "push {:?}", value);
        }
    }

    proptest! {
        #[test]
        fn no_input_makes_the_checks_panic(value in any::<String>(), tail in "\\PC{0,24}") {
            for v in [value.clone(), format!("http://{value}"), format!("https://{tail}"), format!("http://[{tail}")] {
                let _ = base_url("f", &v);
                let _ = validate_redirect_uri(&v);
                let _ = validate_push_url(&v);
            }
        }
    }

    #[test]
    fn a_hand_built_config_is_checked_and_normalized() {
        let raw = RawConfig::from(AppConfig::from_json(&json(&[])).expect("valid"));
        let config = AppConfig::new(RawConfig { api_base: "https://api.spotify.com/v1/".into(), ..raw.clone() })
            .expect("normalizes");
        assert_eq!(config.api_base(), "https://api.spotify.com/v1");
        let message = AppConfig::new(RawConfig { accounts_base: "not a uri".into(), ..raw })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("`accounts_base` must be an absolute"), "{message}");
    }

    proptest! {
        #[test]
        fn any_path_joins_onto_a_base(path in "\\PC{0,24}", base in prop::sample::select(vec![
            "https://api.spotify.com/v1", "http://127.0.0.1:9000", "http://[::1]:8090/v1/", "https://example.com:443/a%20b",
        ])) {
            let config = AppConfig::new(RawConfig { api_base: base.into(), ..RawConfig::from(AppConfig::from_json(&json(&[])).expect("valid")) })
                .expect("valid");
            let uri = config.api_uri(&format!("/{path}"));
            let text = uri.to_string();
            // Never the fallback: the base and the whole path are there, with only what a URI cannot hold encoded.
            prop_assert!(text.starts_with(config.api_base()), "{} from {:?}", text, path);
            prop_assert!(text.len() > config.api_base().len() + path.len(), "{} from {:?}", text, path);
            prop_assert!(!text.contains([' ', '#', '"', '<', '>']), "{}", text);
        }
    }
}
