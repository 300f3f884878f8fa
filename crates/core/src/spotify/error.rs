//! Core's own error type and Spotify Web API errors.
//!
//! OAuth-specific errors ([`crate::CallbackError`], [`crate::TokenError`]) live beside the code that
//! produces them in [`crate::auth::oauth`].

use serde_json::Value;

/// Failures of core's own operations. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The platform's cryptographic random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// A PKCE code verifier broke RFC 7636's rules. The message says which rule, never the value.
    #[error("invalid PKCE code verifier: {0}")]
    InvalidVerifier(String),
    /// An OAuth `state` value was too short, too long or used characters outside the URL-safe set.
    #[error("invalid OAuth state: {0}")]
    InvalidState(String),
    /// `config.json` is unreadable or one of its fields is invalid; the message names the field.
    #[error("invalid config.json: {0}")]
    Config(String),
}

/// A Spotify Web API error, from `{"error":{"status":N,"message":"..."}}` or synthesized from the status.
///
/// See <https://developer.spotify.com/documentation/web-api/concepts/api-calls#response-status-codes>.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Spotify answered {status}: {message}")]
pub struct ApiError {
    /// The HTTP status of the response (not the one inside the body, which may disagree or be absent).
    pub status: u16,
    /// Spotify's message, or a generic sentence for the status when the body has none.
    pub message: String,
}

/// Longest body excerpt kept when the body is not Spotify's error shape (an HTML error page, say).
const BODY_EXCERPT_CHARS: usize = 200;

/// Reads a Web API error body. Never fails: bodies that are not Spotify's shape fall back to a message
/// built from the status and the first 200 characters of the body.
///
/// Web API error bodies never carry tokens (unlike the accounts service), so keeping an excerpt is safe.
pub fn parse_api_error(status: u16, body: &str) -> ApiError {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|value| {
        match value.get("error")? {
            Value::Object(inner) => inner.get("message")?.as_str().map(str::to_owned),
            // Some gateways answer with the accounts-service shape; take its description if present.
            Value::String(code) => Some(
                value
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or(code)
                    .to_owned(),
            ),
            _ => None,
        }
    });
    let message = match from_json {
        Some(message) if !message.trim().is_empty() => message,
        _ => {
            let excerpt: String = body.trim().chars().take(BODY_EXCERPT_CHARS).collect();
            if excerpt.is_empty() {
                generic_message(status).to_owned()
            } else {
                format!("{} ({excerpt})", generic_message(status))
            }
        }
    };
    ApiError { status, message }
}

fn generic_message(status: u16) -> &'static str {
    match status {
        400 => "the request was not understood",
        401 => "the access token is missing, expired or invalid",
        403 => "this action is not allowed for this account",
        404 => "not found",
        429 => "too many requests; try again shortly",
        500..=599 => "Spotify is having trouble; try again shortly",
        _ => "unexpected response",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn api_error_table() {
        let cases: &[(u16, &str, &str)] = &[
            (
                401,
                r#"{"error":{"status":401,"message":"The access token expired"}}"#,
                "The access token expired",
            ),
            (
                403,
                r#"{"error":{"status":403,"message":"Forbidden."}}"#,
                "Forbidden.",
            ),
            // The status inside the body is informational; the HTTP status wins.
            (
                404,
                r#"{"error":{"status":400,"message":"Invalid id"}}"#,
                "Invalid id",
            ),
            (
                400,
                r#"{"error":"invalid_request","error_description":"Bad thing"}"#,
                "Bad thing",
            ),
            (400, r#"{"error":"invalid_request"}"#, "invalid_request"),
            (429, "", "too many requests; try again shortly"),
            (
                502,
                "<html>Bad Gateway</html>",
                "Spotify is having trouble; try again shortly (<html>Bad Gateway</html>)",
            ),
            (
                404,
                r#"{"error":{"status":404,"message":""}}"#,
                "not found ({\"error\":{\"status\":404,\"message\":\"\"}})",
            ),
            (418, "   ", "unexpected response"),
        ];
        for (status, body, message) in cases {
            let err = parse_api_error(*status, body);
            assert_eq!(err.status, *status, "{body}");
            assert_eq!(err.message, *message, "{body}");
        }
    }

    #[test]
    fn api_error_display() {
        let err = parse_api_error(403, r#"{"error":{"status":403,"message":"Forbidden."}}"#);
        assert_eq!(err.to_string(), "Spotify answered 403: Forbidden.");
    }

    #[test]
    fn long_bodies_are_truncated_on_char_boundaries() {
        let body = "é".repeat(500);
        let err = parse_api_error(500, &body);
        assert_eq!(
            err.message.chars().filter(|c| *c == 'é').count(),
            BODY_EXCERPT_CHARS
        );
    }

    #[test]
    fn core_error_messages() {
        assert_eq!(
            CoreError::Config("`client_id` must not be empty".into()).to_string(),
            "invalid config.json: `client_id` must not be empty"
        );
    }

    proptest! {
        #[test]
        fn api_error_never_panics(status in any::<u16>(), body in any::<String>()) {
            let err = parse_api_error(status, &body);
            prop_assert_eq!(err.status, status);
            prop_assert!(!err.message.is_empty());
        }
    }
}
