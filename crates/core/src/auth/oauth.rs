//! OAuth 2.0 Authorization Code with PKCE against Spotify's accounts service: the authorize URL, the
//! callback, the token requests and their answers.
//!
//! Follows <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow> and
//! [RFC 6749](https://www.rfc-editor.org/rfc/rfc6749) / [RFC 7636](https://www.rfc-editor.org/rfc/rfc7636).

use std::borrow::Cow;
use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::pkce::is_unreserved;
use crate::{
    AccessToken, AppConfig, AuthCode, CoreError, PkceChallenge, PkceVerifier, RefreshToken,
};

/// The `state` parameter that ties a callback to the sign-in this tab started
/// ([RFC 6749 §10.12](https://www.rfc-editor.org/rfc/rfc6749#section-10.12)).
///
/// Generated values carry 128 bits from the CSPRNG. Not a long-lived secret, but guessing it would allow
/// login CSRF, so comparisons are constant-time.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OAuthState(String);

/// 16 bytes in base64url without padding.
const STATE_MIN_LEN: usize = 22;
const STATE_MAX_LEN: usize = 128;

impl OAuthState {
    /// A fresh state: 16 bytes from the CSPRNG, base64url without padding (22 characters).
    pub fn generate() -> Result<Self, CoreError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| CoreError::Random(e.to_string()))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// The state for given random bytes. For tests and callers with their own randomness source.
    pub fn from_bytes(bytes: &[u8; 16]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts 22 to 128 characters from `[A-Za-z0-9-._~]`: anything shorter cannot hold 128 bits.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        if !s.bytes().all(is_unreserved) {
            return Err(CoreError::InvalidState(
                "only A-Z a-z 0-9 - . _ ~ are allowed".into(),
            ));
        }
        if !(STATE_MIN_LEN..=STATE_MAX_LEN).contains(&s.len()) {
            return Err(CoreError::InvalidState(format!(
                "must be {STATE_MIN_LEN} to {STATE_MAX_LEN} characters long, got {}",
                s.len()
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// The state as sent in the authorize URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this state, compared in constant time so response timing does not reveal how
    /// much of a forged state was right.
    pub fn matches(&self, other: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), other.as_bytes())
    }
}

impl PartialEq for OAuthState {
    fn eq(&self, other: &Self) -> bool {
        self.matches(&other.0)
    }
}

impl Eq for OAuthState {}

impl TryFrom<String> for OAuthState {
    type Error = CoreError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OAuthState> for String {
    fn from(state: OAuthState) -> Self {
        state.0
    }
}

/// Length is not secret (every valid state has a public length range); the contents are.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The URL to send the browser to: `GET {accounts_base}/authorize` with `client_id`, `response_type=code`,
/// `redirect_uri`, `code_challenge_method=S256`, `code_challenge`, `state` and space-separated `scope`
/// (omitted when no scopes are configured).
///
/// See <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#request-user-authorization>.
pub fn authorize_url(cfg: &AppConfig, challenge: &PkceChallenge, state: &OAuthState) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", cfg.client_id())
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", cfg.redirect_uri())
        .append_pair("code_challenge_method", "S256")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("state", state.as_str());
    if !cfg.scopes().is_empty() {
        query.append_pair("scope", &cfg.scopes().join(" "));
    }
    // The serializer writes spaces as '+', which only form decoders read as a space; %20 is read as a space
    // by every decoder. A literal '+' was already escaped to %2B, so every '+' left is a space.
    let query = query.finish().replace('+', "%20");
    format!("{}/authorize?{query}", cfg.accounts_base())
}

/// Why a `/callback` could not yield an authorization code. `Display` is a sentence for the user; no
/// variant carries the code.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// A parameter appeared more than once: an ambiguous answer is not trusted.
    #[error("The sign-in response repeated the `{0}` parameter, so it was not trusted. Please sign in again.")]
    DuplicateParameter(String),
    /// No `state`: the response cannot be tied to a sign-in started here.
    #[error("The sign-in response carried no state, so it could not be matched to a sign-in started here. Please sign in again.")]
    MissingState,
    /// The `state` is not the one this tab sent: a stale tab, a replay or a forged link.
    #[error("The sign-in response does not belong to the sign-in started in this tab. Please sign in again.")]
    StateMismatch,
    /// Spotify reported an error, e.g. `access_denied` when the user declined
    /// ([RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)).
    #[error("{}", denied_message(.error, .description.as_deref()))]
    Denied {
        /// The OAuth error code.
        error: String,
        /// Spotify's human-readable explanation, if any.
        description: Option<String>,
    },
    /// No authorization code and no error.
    #[error("Spotify did not send an authorization code. Please sign in again.")]
    MissingCode,
    /// The response contradicts itself (for instance both a code and an error).
    #[error("The sign-in response was malformed ({0}). Please sign in again.")]
    Malformed(String),
}

fn denied_message(error: &str, description: Option<&str>) -> String {
    match (error, description) {
        ("access_denied", _) => "You declined the Spotify sign-in.".to_owned(),
        (error, Some(description)) => {
            format!("Spotify could not complete the sign-in ({error}: {description}). Please try again.")
        }
        (error, None) => {
            format!("Spotify could not complete the sign-in ({error}). Please try again.")
        }
    }
}

/// Longest parameter name or error text kept for display: the values come from a URL anyone can craft.
const DISPLAY_LIMIT: usize = 200;

fn limited(s: &str) -> String {
    s.chars().take(DISPLAY_LIMIT).collect()
}

/// Reads the query of the redirect back from Spotify (`location.search`, with or without the leading `?`).
///
/// Strict, in this order: every parameter at most once; `state` present and equal to `expected` (checked
/// before anything else is believed, so a forged link cannot even show its own error text); then an
/// `error` becomes [`CallbackError::Denied`]; then a non-empty `code` is required. Unknown parameters are
/// ignored. Never panics.
///
/// See <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#response>.
pub fn parse_callback(query: &str, expected: &OAuthState) -> Result<AuthCode, CallbackError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut params: HashMap<Cow<'_, str>, Cow<'_, str>> = HashMap::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if params.contains_key(&name) {
            return Err(CallbackError::DuplicateParameter(limited(&name)));
        }
        params.insert(name, value);
    }
    let get = |name: &str| params.get(name).map(|v| v.as_ref());

    match get("state") {
        None | Some("") => return Err(CallbackError::MissingState),
        Some(state) if !expected.matches(state) => return Err(CallbackError::StateMismatch),
        Some(_) => {}
    }
    let code = get("code").filter(|c| !c.is_empty());
    match (get("error"), code) {
        (Some(_), Some(_)) => Err(CallbackError::Malformed(
            "it carries both a code and an error".into(),
        )),
        (Some(error), None) => Err(CallbackError::Denied {
            error: limited(error),
            description: get("error_description")
                .filter(|d| !d.is_empty())
                .map(limited),
        }),
        (None, None) => Err(CallbackError::MissingCode),
        (None, Some(code)) => Ok(AuthCode::new(code.to_owned())),
    }
}

fn form_post(cfg: &AppConfig, pairs: &[(&str, &str)]) -> http::Request<String> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut request = http::Request::new(body);
    *request.method_mut() = Method::POST;
    *request.uri_mut() = cfg.accounts_uri("/api/token");
    request.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request
}

/// The code exchange: `POST {accounts_base}/api/token`, form-encoded `grant_type=authorization_code`,
/// `code`, `redirect_uri`, `client_id`, `code_verifier`.
///
/// The body holds secrets: send it, never log it (`Debug` of an `http::Request` prints the body).
///
/// See <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#request-an-access-token>.
pub fn code_exchange_request(
    cfg: &AppConfig,
    code: &AuthCode,
    verifier: &PkceVerifier,
) -> http::Request<String> {
    form_post(
        cfg,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.secret()),
            ("redirect_uri", cfg.redirect_uri()),
            ("client_id", cfg.client_id()),
            ("code_verifier", verifier.secret()),
        ],
    )
}

/// The refresh: `POST {accounts_base}/api/token`, form-encoded `grant_type=refresh_token`, `refresh_token`,
/// `client_id`.
///
/// The body holds the refresh token: send it, never log it.
///
/// See <https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens>.
pub fn refresh_request(cfg: &AppConfig, refresh: &RefreshToken) -> http::Request<String> {
    form_post(
        cfg,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.secret()),
            ("client_id", cfg.client_id()),
        ],
    )
}

/// A successful answer from `/api/token`
/// (<https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#response-1>).
#[derive(Clone, Debug)]
pub struct TokenResponse {
    /// Non-empty, and only characters that fit an `Authorization` header.
    pub access_token: AccessToken,
    /// Always `Bearer` in some capitalization.
    pub token_type: String,
    /// Space-separated granted scopes; empty when Spotify leaves it out.
    pub scope: String,
    /// Seconds until the access token expires (3600 at Spotify).
    pub expires_in: u64,
    /// Absent on refreshes that do not rotate the token: keep the old one.
    pub refresh_token: Option<RefreshToken>,
}

/// Why `/api/token` gave no tokens. Neither `Display` nor `Debug` ever contains a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The accounts service refused, with its `{"error","error_description"}` body.
    /// `invalid_grant` is terminal: see [`TokenError::is_invalid_grant`].
    #[error("{}", accounts_message(*.status, .error, .description.as_deref()))]
    Accounts {
        /// HTTP status (400 for `invalid_grant`).
        status: u16,
        /// The OAuth error code, e.g. `invalid_grant`.
        error: String,
        /// Spotify's explanation, with anything token-like removed.
        description: Option<String>,
    },
    /// A 2xx answer that is not a usable token response. The message names the problem (a field, or a JSON
    /// syntax position), never a value.
    #[error("Spotify's accounts service sent a token response Setlist cannot read: {0}")]
    Malformed(String),
    /// A non-2xx answer without an accounts-service error body (a proxy error page, say).
    #[error("Spotify's accounts service answered with HTTP status {status}")]
    Http {
        /// The HTTP status.
        status: u16,
    },
}

fn accounts_message(status: u16, error: &str, description: Option<&str>) -> String {
    if error == "invalid_grant" {
        return "Your Spotify sign-in has expired or was revoked. Please sign in again.".to_owned();
    }
    match description {
        Some(d) => {
            format!("Spotify's accounts service refused the request (HTTP {status}, {error}: {d})")
        }
        None => format!("Spotify's accounts service refused the request (HTTP {status}, {error})"),
    }
}

impl TokenError {
    /// The refresh token expired (six months after authorization) or was revoked, or the code was already
    /// used: terminal, never retried; the user must sign in again.
    ///
    /// See <https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens>.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, TokenError::Accounts { error, .. } if error == "invalid_grant")
    }
}

/// The accounts service's error body, `{"error":"...","error_description":"..."}`
/// ([RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountsError {
    /// The OAuth error code, e.g. `invalid_grant`.
    pub error: String,
    /// Human-readable explanation, if any.
    pub error_description: Option<String>,
}

/// Reads an accounts-service error body; `None` if the body is not that shape (the Web API's
/// `{"error":{...}}` included).
///
/// Any run of 32 or more token-alphabet characters in either field is replaced by `<redacted>` and each
/// field is cut to 200 characters, so a service that echoes a token cannot push it into an error message.
pub fn parse_accounts_error(body: &str) -> Option<AccountsError> {
    let value: Value = serde_json::from_str(body).ok()?;
    let error = value
        .get("error")?
        .as_str()
        .filter(|e| !e.trim().is_empty())?;
    let error_description = value
        .get("error_description")
        .and_then(Value::as_str)
        .filter(|d| !d.trim().is_empty())
        .map(|d| limited(&scrub(d)));
    Some(AccountsError {
        error: limited(&scrub(error)),
        error_description,
    })
}

/// Shortest run of token characters treated as a token. Spotify's tokens are well over 100 characters;
/// no word in an error sentence comes near 32.
const TOKEN_RUN_MIN: usize = 32;

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=')
}

/// Replaces token-looking runs. Runs before truncating, so a cut can never leave part of a token behind.
fn scrub(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run_start = None;
    let flush = |out: &mut String, run: &str| {
        if run.len() >= TOKEN_RUN_MIN {
            out.push_str("<redacted>");
        } else {
            out.push_str(run);
        }
    };
    for (i, c) in s.char_indices() {
        if is_token_char(c) {
            run_start.get_or_insert(i);
        } else {
            if let Some(start) = run_start.take() {
                flush(&mut out, &s[start..i]);
            }
            out.push(c);
        }
    }
    if let Some(start) = run_start {
        flush(&mut out, &s[start..]);
    }
    out
}

/// Describes a JSON error by its category and position only: serde_json's own message can quote the
/// offending value, which here would be a token.
pub(crate) fn describe_json_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Io => "unreadable body",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected JSON shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// Reads the answer of [`code_exchange_request`] or [`refresh_request`].
///
/// 2xx: a JSON object with a non-empty `access_token`, `token_type` equal to `bearer` in any case,
/// `expires_in` a JSON integer >= 0 (a string is an error), optional `scope` and `refresh_token`; unknown
/// fields are ignored. Anything else is [`TokenError::Malformed`], described without quoting the body.
/// Non-2xx: [`TokenError::Accounts`] when the body is the accounts error shape, else [`TokenError::Http`].
///
/// See <https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#response-1>.
pub fn parse_token_response(status: u16, body: &str) -> Result<TokenResponse, TokenError> {
    if !(200..300).contains(&status) {
        return Err(match parse_accounts_error(body) {
            Some(AccountsError {
                error,
                error_description,
            }) => TokenError::Accounts {
                status,
                error,
                description: error_description,
            },
            None => TokenError::Http { status },
        });
    }
    let value: Value =
        serde_json::from_str(body).map_err(|e| TokenError::Malformed(describe_json_error(&e)))?;
    let Value::Object(fields) = value else {
        return Err(malformed("the body is not a JSON object"));
    };

    let access_token = match fields.get("access_token") {
        None | Some(Value::Null) => return Err(malformed("`access_token` is missing")),
        Some(Value::String(t)) if t.is_empty() => return Err(malformed("`access_token` is empty")),
        // It goes into an Authorization header; refusing it here keeps request building infallible.
        Some(Value::String(t)) if !t.bytes().all(|b| b.is_ascii_graphic()) => {
            return Err(malformed(
                "`access_token` contains characters a bearer token cannot have",
            ))
        }
        Some(Value::String(t)) => AccessToken::new(t.clone()),
        Some(_) => return Err(malformed("`access_token` is not a string")),
    };
    let token_type = match fields.get("token_type") {
        None | Some(Value::Null) => return Err(malformed("`token_type` is missing")),
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => t.clone(),
        Some(_) => return Err(malformed("`token_type` is not \"Bearer\"")),
    };
    let expires_in = match fields.get("expires_in") {
        None | Some(Value::Null) => return Err(malformed("`expires_in` is missing")),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| malformed("`expires_in` is not a whole number of seconds"))?,
    };
    let scope = match fields.get("scope") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(malformed("`scope` is not a string")),
    };
    let refresh_token = match fields.get("refresh_token") {
        None | Some(Value::Null) => None,
        // An empty token is no token: treating it as absent keeps the working one.
        Some(Value::String(t)) if t.is_empty() => None,
        Some(Value::String(t)) => Some(RefreshToken::new(t.clone())),
        Some(_) => return Err(malformed("`refresh_token` is not a string")),
    };
    Ok(TokenResponse {
        access_token,
        token_type,
        scope,
        expires_in,
        refresh_token,
    })
}

fn malformed(problem: &str) -> TokenError {
    TokenError::Malformed(problem.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> AppConfig {
        AppConfig::from_json(
            r#"{
                "client_id": "client-1",
                "redirect_uri": "http://127.0.0.1:8080/callback",
                "accounts_base": "https://accounts.example/",
                "api_base": "https://api.example/v1",
                "push_url": "/api/tokens",
                "scopes": ["playlist-read-private", "playlist-modify-public"]
            }"#,
        )
        .expect("valid config")
    }

    fn state() -> OAuthState {
        OAuthState::from_bytes(&[7; 16])
    }

    fn form_pairs(body: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    // ---- state ----

    #[test]
    fn state_generation_and_parsing() {
        let a = OAuthState::generate().expect("rng");
        let b = OAuthState::generate().expect("rng");
        assert_eq!(a.as_str().len(), 22);
        assert_ne!(a, b);
        assert!(OAuthState::parse(a.as_str()).is_ok());
        assert_eq!(
            OAuthState::from_bytes(&[0; 16]).as_str(),
            "AAAAAAAAAAAAAAAAAAAAAA"
        );
        assert!(OAuthState::parse(&"a".repeat(21)).is_err());
        assert!(OAuthState::parse(&"a".repeat(129)).is_err());
        assert!(OAuthState::parse(&format!("{}+", "a".repeat(30))).is_err());
        assert!(OAuthState::parse(&"a.b-c_d~".repeat(16)).is_ok());
    }

    #[test]
    fn state_matches_exactly() {
        let s = state();
        assert!(s.matches(s.as_str()));
        assert!(!s.matches(&s.as_str()[..21]));
        assert!(!s.matches(&format!("{}x", s.as_str())));
        assert!(!s.matches(""));
        let mut flipped = s.as_str().to_owned().into_bytes();
        flipped[10] ^= 1;
        assert!(!s.matches(&String::from_utf8(flipped).expect("ascii")));
    }

    #[test]
    fn state_serde_round_trip_validates() {
        let s = state();
        let json = serde_json::to_string(&s).expect("serialize");
        assert_eq!(json, format!("\"{}\"", s.as_str()));
        let back: OAuthState = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
        assert!(serde_json::from_str::<OAuthState>("\"short\"").is_err());
    }

    // ---- authorize URL ----

    #[test]
    fn authorize_url_is_exact() {
        let verifier =
            PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("valid");
        let url = authorize_url(&config(), &verifier.challenge(), &state());
        assert_eq!(
            url,
            "https://accounts.example/authorize?client_id=client-1&response_type=code\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback&code_challenge_method=S256\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&state=BwcHBwcHBwcHBwcHBwcHBw\
             &scope=playlist-read-private%20playlist-modify-public"
        );
        let parsed = url::Url::parse(&url).expect("valid URL");
        assert_eq!(parsed.path(), "/authorize");
        assert_eq!(
            parsed.query_pairs().into_owned().collect::<Vec<_>>(),
            pairs(&[
                ("client_id", "client-1"),
                ("response_type", "code"),
                ("redirect_uri", "http://127.0.0.1:8080/callback"),
                ("code_challenge_method", "S256"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                ),
                ("state", "BwcHBwcHBwcHBwcHBwcHBw"),
                ("scope", "playlist-read-private playlist-modify-public"),
            ])
        );
    }

    #[test]
    fn authorize_url_escapes_plus_and_omits_empty_scope() {
        let cfg = AppConfig::new(crate::RawConfig {
            client_id: "a+b&c".into(),
            scopes: Vec::new(),
            ..crate::RawConfig::from(config())
        })
        .expect("valid");
        let verifier = PkceVerifier::from_bytes(&[1; 32]);
        let url = authorize_url(&cfg, &verifier.challenge(), &state());
        assert!(url.contains("client_id=a%2Bb%26c&"), "{url}");
        assert!(!url.contains("scope="), "{url}");
    }

    // ---- callback ----

    #[test]
    fn callback_table() {
        let s = state().as_str().to_owned();
        type Expect = Result<&'static str, &'static str>;
        let cases: Vec<(String, Expect)> = vec![
            (format!("?code=abc&state={s}"), Ok("abc")),
            (format!("code=abc&state={s}"), Ok("abc")),
            (format!("state={s}&code=a%2Fb+c"), Ok("a/b c")),
            (
                format!("code=abc&state={s}&iss=https%3A%2F%2Faccounts.spotify.com"),
                Ok("abc"),
            ),
            (format!("code=abc&state={s}&&"), Ok("abc")),
            (
                format!("code=abc&code=def&state={s}"),
                Err("DuplicateParameter(\"code\")"),
            ),
            (
                format!("code=abc&state={s}&state={s}"),
                Err("DuplicateParameter(\"state\")"),
            ),
            (
                format!("code=abc&state={s}&x=1&x=1"),
                Err("DuplicateParameter(\"x\")"),
            ),
            // Duplicates are refused even before the state check: an ambiguous answer is never read.
            (
                "code=abc&code=abc".to_owned(),
                Err("DuplicateParameter(\"code\")"),
            ),
            ("code=abc".to_owned(), Err("MissingState")),
            ("code=abc&state=".to_owned(), Err("MissingState")),
            ("".to_owned(), Err("MissingState")),
            ("?".to_owned(), Err("MissingState")),
            (
                "code=abc&state=AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
                Err("StateMismatch"),
            ),
            (format!("code=abc&state={}", &s[..21]), Err("StateMismatch")),
            // The state is checked before an error is believed.
            (
                "error=access_denied&state=wrong".to_owned(),
                Err("StateMismatch"),
            ),
            ("error=access_denied".to_owned(), Err("MissingState")),
            (
                format!("error=access_denied&state={s}"),
                Err("Denied { error: \"access_denied\", description: None }"),
            ),
            (
                format!("error=server_error&error_description=Try+later&state={s}"),
                Err("Denied { error: \"server_error\", description: Some(\"Try later\") }"),
            ),
            (
                format!("error=server_error&error_description=&state={s}"),
                Err("Denied { error: \"server_error\", description: None }"),
            ),
            (format!("state={s}"), Err("MissingCode")),
            (format!("code=&state={s}"), Err("MissingCode")),
            (
                format!("code=abc&error=access_denied&state={s}"),
                Err("Malformed(\"it carries both a code and an error\")"),
            ),
        ];
        for (query, expected) in cases {
            let got = parse_callback(&query, &state());
            match (got, expected) {
                (Ok(code), Ok(want)) => assert_eq!(code.secret(), want, "{query}"),
                (Err(e), Err(want)) => assert_eq!(format!("{e:?}"), want, "{query}"),
                (got, want) => panic!("{query}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn callback_messages_are_sentences() {
        let denied = CallbackError::Denied {
            error: "access_denied".into(),
            description: None,
        };
        assert_eq!(denied.to_string(), "You declined the Spotify sign-in.");
        let other = CallbackError::Denied {
            error: "server_error".into(),
            description: Some("Oops".into()),
        };
        assert_eq!(
            other.to_string(),
            "Spotify could not complete the sign-in (server_error: Oops). Please try again."
        );
        for e in [
            CallbackError::DuplicateParameter("code".into()),
            CallbackError::MissingState,
            CallbackError::StateMismatch,
            CallbackError::MissingCode,
            CallbackError::Malformed("x".into()),
        ] {
            let text = e.to_string();
            assert!(
                text.starts_with(char::is_uppercase) && text.ends_with('.'),
                "{text}"
            );
        }
    }

    #[test]
    fn callback_errors_never_contain_the_code() {
        let code = "SECRETCODE0123456789abcdefghijkl";
        let s = state().as_str().to_owned();
        for query in [
            format!("code={code}&code={code}&state={s}"),
            format!("code={code}&state=nope"),
            format!("code={code}"),
            format!("code={code}&error=access_denied&state={s}"),
        ] {
            let e = parse_callback(&query, &state())
                .err()
                .map(|e| format!("{e} {e:?}"))
                .unwrap_or_default();
            assert!(!e.is_empty() && !e.contains(code), "{query}: {e}");
        }
    }

    #[test]
    fn callback_limits_displayed_lengths() {
        let long = "n".repeat(1000);
        let e = parse_callback(&format!("{long}=1&{long}=2"), &state());
        assert!(
            matches!(e, Err(CallbackError::DuplicateParameter(name)) if name.len() == DISPLAY_LIMIT)
        );
    }

    // ---- token requests ----

    #[test]
    fn code_exchange_request_is_exact() {
        let verifier =
            PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("valid");
        let request =
            code_exchange_request(&config(), &AuthCode::new("the/code+1".into()), &verifier);
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "https://accounts.example/api/token");
        assert_eq!(request.headers().len(), 1);
        assert_eq!(
            request.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            form_pairs(request.body()),
            pairs(&[
                ("grant_type", "authorization_code"),
                ("code", "the/code+1"),
                ("redirect_uri", "http://127.0.0.1:8080/callback"),
                ("client_id", "client-1"),
                (
                    "code_verifier",
                    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
                ),
            ])
        );
        assert_eq!(
            request.body(),
            "grant_type=authorization_code&code=the%2Fcode%2B1&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback\
             &client_id=client-1&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn refresh_request_is_exact() {
        let request = refresh_request(&config(), &RefreshToken::new("AQB-r3fr3sh=".into()));
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "https://accounts.example/api/token");
        assert_eq!(request.headers().len(), 1);
        assert_eq!(
            request.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            form_pairs(request.body()),
            pairs(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "AQB-r3fr3sh="),
                ("client_id", "client-1")
            ])
        );
    }

    #[test]
    fn a_config_the_builders_cannot_use_does_not_exist() {
        let raw = crate::RawConfig { accounts_base: "not a uri".into(), ..crate::RawConfig::from(config()) };
        let message = AppConfig::new(raw).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("`accounts_base`"), "{message}");
    }

    // ---- token responses ----

    const SPOTIFY_SIGN_IN: &str = r#"{
        "access_token": "BQDr0p8example",
        "token_type": "Bearer",
        "scope": "playlist-read-private playlist-modify-public",
        "expires_in": 3600,
        "refresh_token": "AQAexampleRefresh"
    }"#;

    #[test]
    fn spotify_sign_in_response() {
        let r = parse_token_response(200, SPOTIFY_SIGN_IN).expect("valid");
        assert_eq!(r.access_token.secret(), "BQDr0p8example");
        assert_eq!(r.token_type, "Bearer");
        assert_eq!(r.scope, "playlist-read-private playlist-modify-public");
        assert_eq!(r.expires_in, 3600);
        assert_eq!(
            r.refresh_token.as_ref().map(RefreshToken::secret),
            Some("AQAexampleRefresh")
        );
        let debug = format!("{r:?}");
        assert!(
            !debug.contains("BQDr0p8example") && !debug.contains("AQAexampleRefresh"),
            "{debug}"
        );
    }

    #[test]
    fn token_response_table() {
        let ok = |body: &str| parse_token_response(200, body).map_err(|e| format!("{e:?}"));
        // token_type in any case
        for tt in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let body = format!(r#"{{"access_token":"a","token_type":"{tt}","expires_in":3600}}"#);
            assert!(ok(&body).is_ok(), "{tt}");
        }
        // refresh without rotation: no refresh_token, no scope; unknown fields ignored
        let r = ok(r#"{"access_token":"a","token_type":"Bearer","expires_in":0,"extra":{"x":[1]},"refresh_token":null}"#)
            .expect("valid");
        assert!(r.refresh_token.is_none());
        assert_eq!(r.scope, "");
        assert_eq!(r.expires_in, 0);
        assert!(ok(
            r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"refresh_token":""}"#
        )
        .expect("valid")
        .refresh_token
        .is_none());
        assert!(parse_token_response(
            201,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":1}"#
        )
        .is_ok());

        let rejected: &[(&str, &str)] = &[
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":"3600"}"#,
                "`expires_in` is not a whole number",
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":3600.5}"#,
                "`expires_in` is not a whole number",
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#,
                "`expires_in` is not a whole number",
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer"}"#,
                "`expires_in` is missing",
            ),
            (
                r#"{"access_token":"a","token_type":"mac","expires_in":1}"#,
                "`token_type` is not \\\"Bearer\\\"",
            ),
            (
                r#"{"access_token":"a","token_type":1,"expires_in":1}"#,
                "`token_type` is not \\\"Bearer\\\"",
            ),
            (
                r#"{"access_token":"a","expires_in":1}"#,
                "`token_type` is missing",
            ),
            (
                r#"{"access_token":"","token_type":"Bearer","expires_in":1}"#,
                "`access_token` is empty",
            ),
            (
                r#"{"access_token":"a b","token_type":"Bearer","expires_in":1}"#,
                "`access_token` contains characters",
            ),
            (
                r#"{"access_token":7,"token_type":"Bearer","expires_in":1}"#,
                "`access_token` is not a string",
            ),
            (
                r#"{"token_type":"Bearer","expires_in":1}"#,
                "`access_token` is missing",
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"scope":[]}"#,
                "`scope` is not a string",
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":1,"refresh_token":5}"#,
                "`refresh_token` is not a string",
            ),
            (r#"[]"#, "the body is not a JSON object"),
            (r#""#, "truncated JSON at line 1 column 0"),
            (r#"{"access_token":"a""#, "truncated JSON"),
            (r#"<html>"#, "invalid JSON at line 1 column 1"),
        ];
        for (body, expected) in rejected {
            let e = ok(body).err().unwrap_or_default();
            assert!(
                e.starts_with("Malformed(") && e.contains(expected),
                "{body}: {e}"
            );
        }
    }

    #[test]
    fn error_statuses() {
        let e = parse_token_response(
            400,
            r#"{"error":"invalid_grant","error_description":"Refresh token revoked"}"#,
        )
        .err();
        assert!(
            matches!(&e, Some(TokenError::Accounts { status: 400, error, description: Some(d) })
            if error == "invalid_grant" && d == "Refresh token revoked")
        );
        let e = e.expect("error");
        assert!(e.is_invalid_grant());
        assert_eq!(
            e.to_string(),
            "Your Spotify sign-in has expired or was revoked. Please sign in again."
        );

        let e = parse_token_response(
            400,
            r#"{"error":"invalid_client","error_description":"Invalid client"}"#,
        )
        .expect_err("error");
        assert!(!e.is_invalid_grant());
        assert_eq!(
            e.to_string(),
            "Spotify's accounts service refused the request (HTTP 400, invalid_client: Invalid client)"
        );

        let e = parse_token_response(503, "<html>Service Unavailable</html>").expect_err("error");
        assert!(matches!(e, TokenError::Http { status: 503 }));
        assert!(!e.is_invalid_grant());
        assert_eq!(
            e.to_string(),
            "Spotify's accounts service answered with HTTP status 503"
        );

        // The Web API's error shape is not the accounts shape.
        let e = parse_token_response(401, r#"{"error":{"status":401,"message":"x"}}"#)
            .expect_err("error");
        assert!(matches!(e, TokenError::Http { status: 401 }));
        // A "success" body with a non-2xx status is still an error.
        assert!(matches!(
            parse_token_response(302, SPOTIFY_SIGN_IN),
            Err(TokenError::Http { status: 302 })
        ));
    }

    #[test]
    fn accounts_error_parsing() {
        assert_eq!(
            parse_accounts_error(
                r#"{"error":"invalid_request","error_description":"code_verifier was incorrect"}"#
            ),
            Some(AccountsError {
                error: "invalid_request".into(),
                error_description: Some("code_verifier was incorrect".into()),
            })
        );
        assert_eq!(
            parse_accounts_error(r#"{"error":"invalid_grant"}"#),
            Some(AccountsError {
                error: "invalid_grant".into(),
                error_description: None
            })
        );
        assert_eq!(
            parse_accounts_error(r#"{"error":{"status":400,"message":"x"}}"#),
            None
        );
        assert_eq!(parse_accounts_error(r#"{"error":""}"#), None);
        assert_eq!(parse_accounts_error("nope"), None);
        let echoed = parse_accounts_error(
            r#"{"error":"invalid_grant","error_description":"Invalid refresh token: AQDxR8Kp0Lx3aZ_gH6yT2vWq-mN9bC1dE4fJ7kL0"}"#,
        )
        .and_then(|e| e.error_description);
        assert_eq!(echoed.as_deref(), Some("Invalid refresh token: <redacted>"));
    }

    #[test]
    fn scrub_keeps_sentences() {
        assert_eq!(
            scrub("Invalid authorization code"),
            "Invalid authorization code"
        );
        assert_eq!(scrub(&"x".repeat(31)), "x".repeat(31));
        assert_eq!(scrub(&format!("é{}é", "x".repeat(32))), "é<redacted>é");
    }

    // ---- properties ----

    fn token_strategy() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{40,160}"
    }

    /// Body shapes a broken or hostile accounts service might send, each quoting the token somewhere.
    fn leaking_bodies(t: &str) -> Vec<String> {
        vec![
            t.to_owned(),
            format!("\"{t}\""),
            format!("[\"{t}\"]"),
            format!(r#"{{"access_token":{t}}}"#),
            format!(r#"{{"access_token":"{t}""#),
            format!(r#"{{"access_token":"{t}","token_type":"Bearer","expires_in":"3600"}}"#),
            format!(r#"{{"access_token":"{t}","token_type":"mac","expires_in":3600}}"#),
            format!(r#"{{"access_token":"{t}","token_type":"{t}","expires_in":3600}}"#),
            format!(r#"{{"access_token":"{t}","token_type":"Bearer","expires_in":"{t}"}}"#),
            format!(
                r#"{{"access_token":"{t}","token_type":"Bearer","expires_in":1,"refresh_token":["{t}"]}}"#
            ),
            format!(
                r#"{{"access_token":"a","token_type":"Bearer","expires_in":1,"scope":{{"{t}":1}}}}"#
            ),
            format!(r#"{{"access_token":"{t} x","token_type":"Bearer","expires_in":1}}"#),
            format!(r#"{{"access_token":["{t}"],"token_type":"Bearer","expires_in":1}}"#),
            format!(r#"{{"refresh_token":"{t}","#),
            format!(r#"{{"error":"{t}","error_description":"{t}"}}"#),
            format!(
                r#"{{"error":"invalid_grant","error_description":"Invalid refresh token {t}."}}"#
            ),
            format!(r#"{{"error":"x","error_description":"{t}{t}{t}{t}{t}{t}"}}"#),
            format!(r#"{{"error":{{"status":400,"message":"{t}"}}}}"#),
        ]
    }

    fn leaks(text: &str, token: &str) -> bool {
        // Any 24-character slice of the token counts, not just the whole.
        token
            .as_bytes()
            .windows(24)
            .any(|w| text.as_bytes().windows(24).any(|x| x == w))
    }

    proptest! {
        #[test]
        fn callback_never_panics(query in any::<String>()) {
            let _ = parse_callback(&query, &state());
        }

        #[test]
        fn callback_never_panics_on_query_like_input(
            query in r"\??((code|state|error|error_description|x|%[0-9A-Fa-f]{0,2}|\+|=|&|[a-zA-Z0-9._~-]{0,30}|[^\x00-\x7f]){0,12})"
        ) {
            let _ = parse_callback(&query, &state());
        }

        #[test]
        fn callback_accepts_any_code_with_right_state(
            code in "[A-Za-z0-9._~/+ -]{1,300}",
            noise in proptest::collection::vec(("[a-z]{1,10}", "[a-z]{0,10}"), 0..5),
        ) {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("code", &code).append_pair("state", state().as_str());
            let mut seen = std::collections::HashSet::from(["code".to_owned(), "state".to_owned()]);
            let mut duplicate = false;
            for (k, v) in &noise {
                duplicate |= !seen.insert(k.clone());
                q.append_pair(k, v);
            }
            let has_error = seen.contains("error");
            let got = parse_callback(&q.finish(), &state());
            if duplicate {
                prop_assert!(matches!(got, Err(CallbackError::DuplicateParameter(_))));
            } else if has_error {
                prop_assert!(matches!(got, Err(CallbackError::Malformed(_))));
            } else {
                let got = got.map(|c| c.secret().to_owned()).map_err(|e| format!("{e:?}"));
                prop_assert_eq!(got, Ok(code));
            }
        }

        #[test]
        fn callback_rejects_any_other_state(other in "[A-Za-z0-9_-]{0,40}") {
            prop_assume!(other != state().as_str());
            let got = parse_callback(&format!("code=abc&state={other}"), &state());
            prop_assert!(matches!(got, Err(CallbackError::MissingState | CallbackError::StateMismatch)));
        }

        #[test]
        fn token_parsing_never_panics(status in any::<u16>(), body in any::<String>()) {
            let _ = parse_token_response(status, &body);
            let _ = parse_accounts_error(&body);
        }

        #[test]
        fn token_parsing_never_panics_on_bytes(status in any::<u16>(), bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let body = String::from_utf8_lossy(&bytes);
            let _ = parse_token_response(status, &body);
        }

        #[test]
        fn token_errors_never_contain_tokens(
            status in prop_oneof![Just(200u16), Just(400u16), Just(401u16), Just(500u16), any::<u16>()],
            token in token_strategy(),
            prefix in "[ \n{}\\[\\]\",:]{0,3}",
        ) {
            for body in leaking_bodies(&token) {
                let body = format!("{prefix}{body}");
                match parse_token_response(status, &body) {
                    Err(e) => {
                        let display = e.to_string();
                        let debug = format!("{e:?}");
                        prop_assert!(!leaks(&display, &token), "Display leaks: {} for {}", display, body);
                        prop_assert!(!leaks(&debug, &token), "Debug leaks: {} for {}", debug, body);
                    }
                    Ok(resp) => {
                        let debug = format!("{resp:?}");
                        prop_assert!(!leaks(&debug, &token), "Debug leaks: {}", debug);
                    }
                }
            }
        }

        #[test]
        fn valid_responses_round_trip(
            access in "[A-Za-z0-9_.~+/=-]{1,300}",
            refresh in proptest::option::of("[A-Za-z0-9_-]{1,200}"),
            expires_in in any::<u64>(),
            scope in "[a-z -]{0,80}",
            token_type in "(?i)bearer",
        ) {
            let mut body = serde_json::json!({
                "access_token": access, "token_type": token_type, "expires_in": expires_in, "scope": scope,
            });
            if let Some(r) = &refresh {
                body["refresh_token"] = r.clone().into();
            }
            let r = parse_token_response(200, &body.to_string()).map_err(|e| e.to_string());
            prop_assert!(r.is_ok(), "{:?}", r);
            let r = r.map_err(|_| TestCaseError::fail("checked"))?;
            prop_assert_eq!(r.access_token.secret(), access.as_str());
            prop_assert_eq!(r.refresh_token.as_ref().map(|t| t.secret().to_owned()), refresh);
            prop_assert_eq!(r.expires_in, expires_in);
            prop_assert_eq!(r.scope, scope);
        }
    }
}
