//! The accounts service: `GET /authorize` (the consent page), `POST /authorize/decision` (its form) and
//! `POST /api/token`, following
//! [Spotify's Authorization Code with PKCE flow](https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow).

mod authorize;
mod page;
mod scopes;
mod token;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use url::form_urlencoded;

use crate::StandIn;

pub(crate) fn router() -> Router<StandIn> {
    // Only the token endpoint is fetched by pages; /authorize is a top-level navigation and needs no CORS.
    let token = Router::new()
        .route("/api/token", post(token::token))
        .layer(crate::spotify_cors());
    Router::new()
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/decision", post(authorize::decide))
        .merge(token)
}

/// An accounts-service error: `{"error": code, "error_description": sentence}` as
/// [RFC 6749 section 5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2) and Spotify answer it.
#[derive(Debug)]
pub(crate) struct AccountsError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl AccountsError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub(crate) fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_client", description)
    }

    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub(crate) fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            description,
        )
    }
}

impl IntoResponse for AccountsError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "error_description": self.description }));
        (self.status, no_store(), body).into_response()
    }
}

/// Token responses and errors must not be cached (RFC 6749 section 5.1).
fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// Form or query parameters, decoded leniently: a malformed pair never fails the request, it is just what it
/// decodes to. Repeated names keep the first value.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(input: &[u8]) -> Self {
        Self(form_urlencoded::parse(input).into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of `name` when present and not empty.
    fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_the_first_value_and_survive_garbage() {
        let params = Params::parse(b"a=1&a=2&b=%zz&c=x+y%20z&&=");
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), Some("%zz"));
        assert_eq!(params.get("c"), Some("x y z"));
        assert_eq!(params.non_empty("d"), None);
    }
}
