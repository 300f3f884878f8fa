//! Web API errors as Spotify answers them
//! ([response status codes](https://developer.spotify.com/documentation/web-api/concepts/api-calls#response-status-codes)).

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// `{"error":{"status":N,"message":"..."}}` with status N. The message is for people; never put a token in it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(message: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
}

/// Field order as Spotify sends it: `status`, then `message`.
#[derive(Serialize)]
struct Body<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(Body {
            error: ErrorObject {
                status: self.status.as_u16(),
                message: &self.message,
            },
        });
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 section 3: a 401 names the scheme and, when a token was presented, why it failed.
            let challenge = if self.message == super::auth::NO_TOKEN {
                "Bearer realm=\"spotify\"".to_owned()
            } else {
                format!(
                    "Bearer realm=\"spotify\", error=\"invalid_token\", error_description=\"{}\"",
                    self.message
                )
            };
            if let Ok(value) = HeaderValue::try_from(challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
