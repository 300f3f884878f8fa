//! Web API requests as values, without the bearer token: built and checked once by core, carrying their method,
//! URL, body and [`Safety`], and authorized by the transport on each attempt ([`ApiRequest::authorize`]). The
//! transport never has to rebuild a request to learn whether it may resend it, and never sends an unchecked one:
//! a builder that refuses its input returns `Err` and there is no request value to send.

use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Uri};
use serde_json::Value;

use crate::sync::retry::Safety;
use crate::edit::model::ModelError;
use crate::{AccessToken, AppConfig};

/// One Web API request, ready to be sent once a token is added. Equal values are the same request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    method: Method,
    uri: Uri,
    /// The JSON body, or empty for a request without one.
    body: String,
    json: bool,
    safety: Safety,
}

impl ApiRequest {
    /// `{api_base}{path}` without a body. `path` starts with `/`.
    pub(crate) fn new(cfg: &AppConfig, method: Method, path: &str, safety: Safety) -> Self {
        Self { method, uri: cfg.api_uri(path), body: String::new(), json: false, safety }
    }

    /// The same request with a JSON body.
    pub(crate) fn with_json(mut self, body: &Value) -> Self {
        self.body = body.to_string();
        self.json = true;
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The full URL, query included.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The body as sent (JSON, or empty).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Whether the request may be resent after an ambiguous failure (a `5xx` or a lost answer): decided by the
    /// builder, which knows what the request does (a reorder and a replace are both `PUT .../items`).
    pub fn safety(&self) -> Safety {
        self.safety
    }

    /// The request as the transport sends it, with `Authorization: Bearer <token>` marked sensitive (so the
    /// headers' `Debug` hides it). Called on each attempt, with whichever token is current.
    pub fn authorize(&self, token: &AccessToken) -> http::Request<String> {
        let mut request = http::Request::new(self.body.clone());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        // parse_token_response only accepts tokens made of visible ASCII, so this fails only for a hand-made
        // token; then the request goes without credentials and Spotify's 401 sends the app through its
        // refresh-or-sign-in path, which is better than a panic.
        if let Ok(mut value) = HeaderValue::try_from(format!("Bearer {}", token.secret())) {
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        if self.json {
            request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request
    }
}

/// Why a request could not be built. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A paging or search parameter outside what Spotify accepts.
    #[error("{what} must be between {min} and {max}, got {got}")]
    OutOfRange {
        /// The parameter, e.g. `limit`.
        what: &'static str,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
        /// The value given.
        got: u64,
    },
    /// A new playlist, or a rename, with an empty or blank name.
    #[error("a playlist needs a name")]
    EmptyName,
    /// A details change that changes nothing.
    #[error("no playlist details to change")]
    NothingToChange,
    /// `collaborative: true` together with `public: true`, which Spotify refuses.
    #[error("a collaborative playlist cannot be public")]
    CollaborativePublic,
    /// A search for blank text.
    #[error("nothing to search for")]
    EmptyQuery,
    /// An item write Spotify would refuse whatever the playlist holds.
    #[error(transparent)]
    Op(#[from] ModelError),
}

impl RequestError {
    /// `Ok` when `got` is within `min..=max`, else the [`RequestError::OutOfRange`] naming `what`.
    pub(crate) fn check_range(what: &'static str, got: u32, min: u32, max: u32) -> Result<(), Self> {
        if (min..=max).contains(&got) {
            Ok(())
        } else {
            Err(Self::OutOfRange { what, min: min.into(), max: max.into(), got: got.into() })
        }
    }
}

/// Percent-encodes query pairs. Spaces become `%20`, which every decoder reads as a space (the form
/// serializer's `+` is only a space to form decoders); a literal `+` was already escaped to `%2B`.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish().replace('+', "%20")
}

pub(crate) fn json_request(cfg: &AppConfig, method: Method, path: &str, body: &Value, safety: Safety) -> ApiRequest {
    ApiRequest::new(cfg, method, path, safety).with_json(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AppConfig {
        AppConfig::from_json(
            r#"{"client_id": "c", "redirect_uri": "http://127.0.0.1:8080/callback",
                "accounts_base": "https://accounts.example", "api_base": "http://127.0.0.1:9000/v1/",
                "push_url": "/api/tokens", "scopes": []}"#,
        )
        .expect("valid config")
    }

    #[test]
    fn the_token_is_added_per_attempt_and_hidden() {
        let request = ApiRequest::new(&config(), Method::PUT, "/x", Safety::NotIdempotent)
            .with_json(&serde_json::json!({"a": 1}));
        assert_eq!(request.uri(), "http://127.0.0.1:9000/v1/x");
        assert!(!format!("{request:?}").contains("Bearer"));
        let first = request.authorize(&AccessToken::new("BQD-one".into()));
        let second = request.authorize(&AccessToken::new("BQD-two".into()));
        assert_eq!(first.headers()[AUTHORIZATION], "Bearer BQD-one");
        assert_eq!(second.headers()[AUTHORIZATION], "Bearer BQD-two");
        assert_eq!(first.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(first.body(), r#"{"a":1}"#);
        assert!(!format!("{first:?}").contains("BQD-one"));
        assert_eq!(request.safety(), Safety::NotIdempotent);
    }

    #[test]
    fn an_unusable_token_is_left_out_rather_than_panicking() {
        let request = ApiRequest::new(&config(), Method::GET, "/me", Safety::Idempotent);
        let sent = request.authorize(&AccessToken::new("bad\ntoken".into()));
        assert!(sent.headers().get(AUTHORIZATION).is_none());
        assert!(sent.headers().get(CONTENT_TYPE).is_none());
    }
}
