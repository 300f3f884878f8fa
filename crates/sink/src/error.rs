//! The sink's one error type and its one mapping to HTTP answers: `{"error":"code","message":"..."}`. Messages are
//! fixed sentences or name fields; no variant carries a token.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Everything that can go wrong between a request arriving and the store answering.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the x-amz-content-sha256 header is missing")]
    MissingPayloadHash,
    #[error("x-amz-content-sha256 must be one header of 64 hex digits")]
    MalformedPayloadHash,
    #[error("x-amz-content-sha256 does not match the SHA-256 of the body")]
    PayloadHashMismatch,
    #[error("the body could not be read")]
    UnreadableBody,
    #[error("the body is not valid JSON (line {line}, column {column})")]
    MalformedJson { line: usize, column: usize },
    #[error("the body is not a token push: {0}")]
    InvalidPush(String),
    #[error("Spotify did not accept the access token")]
    AccessTokenRejected,
    #[error("user {0} may not push tokens here")]
    UserNotAllowed(String),
    #[error("Spotify could not be asked who the token belongs to; retry later")]
    SpotifyUnavailable { retry_after_secs: u64 },
    #[error("the stored tokens belong to another chain or are newer (generation {generation})")]
    Conflict { generation: u64 },
    #[error("too many sign-ins of this account stored in the last hour; retry later")]
    TooManySignIns { retry_after_secs: u64 },
    /// The push did not finish within the sink's deadline (a slow Spotify or store).
    #[error("the sink could not finish in time; retry later")]
    Deadline,
    /// A compare-and-swap found another version current. The write loop re-reads; callers only see it if it
    /// escapes that loop.
    #[error("the store moved on during the write")]
    StoreConflict,
    /// The store itself failed. The detail is for logs; clients get a fixed sentence.
    #[error("token store error: {0}")]
    Store(String),
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingPayloadHash
            | Self::MalformedPayloadHash
            | Self::PayloadHashMismatch
            | Self::UnreadableBody
            | Self::MalformedJson { .. }
            | Self::InvalidPush(_) => StatusCode::BAD_REQUEST,
            Self::AccessTokenRejected | Self::UserNotAllowed(_) => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooManySignIns { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::SpotifyUnavailable { .. } | Self::StoreConflict | Self::Store(_) | Self::Deadline => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The machine-readable `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::MissingPayloadHash => "missing_payload_hash",
            Self::MalformedPayloadHash => "malformed_payload_hash",
            Self::PayloadHashMismatch => "payload_hash_mismatch",
            Self::UnreadableBody => "unreadable_body",
            Self::MalformedJson { .. } => "malformed_json",
            Self::InvalidPush(_) => "invalid_push",
            Self::AccessTokenRejected => "access_token_rejected",
            Self::UserNotAllowed(_) => "user_not_allowed",
            Self::SpotifyUnavailable { .. } => "spotify_unavailable",
            Self::Conflict { .. } => "conflict",
            Self::TooManySignIns { .. } => "too_many_sign_ins",
            Self::Deadline => "sink_timeout",
            Self::StoreConflict => "store_busy",
            Self::Store(_) => "store_unavailable",
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::SpotifyUnavailable { retry_after_secs } => Some(*retry_after_secs),
            Self::TooManySignIns { retry_after_secs } => Some(*retry_after_secs),
            Self::StoreConflict => Some(1),
            Self::Deadline => Some(5),
            Self::Store(_) => Some(5),
            _ => None,
        }
    }
}

impl From<setlist_core::PushParseError> for Error {
    fn from(error: setlist_core::PushParseError) -> Self {
        match error {
            setlist_core::PushParseError::MalformedJson { line, column } => Self::MalformedJson { line, column },
            setlist_core::PushParseError::Invalid(message) => Self::InvalidPush(message),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Store(detail) => {
                tracing::error!(%detail, "token store failed");
                "the token store is unavailable; retry later".to_owned()
            }
            other => other.to_string(),
        };
        if status.is_server_error() {
            tracing::warn!(code = self.code(), "push not stored");
        } else {
            tracing::info!(code = self.code(), status = status.as_u16(), "push refused");
        }
        let mut body = json!({ "error": self.code(), "message": message });
        if let Self::Conflict { generation } = &self {
            body["generation"] = json!(generation);
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after_secs() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
