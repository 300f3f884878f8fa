//! `POST /api/tokens`: the checks in order (media type, size, payload hash, strict parse, expiry, identity,
//! allow-list), then the store's compare-and-swap loop.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde_json::json;

use std::time::Duration;

use setlist_core::{is_sha256_hex, sha256_hex};

use crate::store::{store_push, Stored};
use crate::{Error, SinkState, TokenPush, MAX_BODY_BYTES};

/// The header CloudFront's SigV4 signature covers and Lambda requires for signed POSTs.
const PAYLOAD_HASH: &str = "x-amz-content-sha256";

/// A push answers within this long or gets `503` with `Retry-After`: under the Lambda's timeout (20 s in the
/// stack) and CloudFront's origin read timeout (30 s), so a slow Spotify or store never becomes a bare 502.
pub(crate) const DEADLINE: Duration = Duration::from_secs(12);

pub(crate) async fn push_tokens(
    State(state): State<SinkState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    match tokio::time::timeout(DEADLINE, handle_push(state, headers, body)).await {
        Ok(answer) => answer,
        Err(_) => Err(Error::Deadline),
    }
}

async fn handle_push(state: SinkState, headers: HeaderMap, body: Body) -> Result<Response, Error> {
    check_content_type(&headers)?;
    check_content_length(&headers)?;
    let claimed_hash = payload_hash(&headers)?;
    let body = read_limited(body).await?;
    tracing::trace!(bytes = body.len(), "push received");
    if sha256_hex(&body) != claimed_hash {
        return Err(Error::PayloadHashMismatch);
    }

    // The sink's clock, read once: the sender's times are only checked for sanity against it.
    let now = state.inner.clock.now();
    let push = TokenPush::parse(&body)?;
    push.check_times(now)?;
    // Whether the token works is Spotify's to say, not the sender's clock's.
    let user_id = state.inner.identity.user_id(&push, now).await?;
    if !state.inner.allow.contains(&user_id) {
        return Err(Error::UserNotAllowed(user_id));
    }

    let stored = store_push(state.inner.store.as_ref(), &push, &user_id, now, state.inner.policy).await?;
    let body = match stored {
        Stored::Written { generation, reason } => {
            state.inner.writes.fetch_add(1, Ordering::SeqCst);
            tracing::info!(user = %user_id, generation, ?reason, "tokens written");
            json!({ "status": "written", "generation": generation })
        }
        Stored::Unchanged { generation } => {
            tracing::info!(user = %user_id, generation, "tokens unchanged");
            json!({ "status": "unchanged", "generation": generation })
        }
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub(crate) async fn method_not_allowed() -> Response {
    let mut response = (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "error": "method_not_allowed", "message": "use POST" })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(Error::UnsupportedMediaType);
    };
    let essence = value
        .to_str()
        .ok()
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match essence {
        Some(essence) if essence.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(Error::UnsupportedMediaType),
    }
}

/// Refuses an announced oversize body before reading any of it.
fn check_content_length(headers: &HeaderMap) -> Result<(), Error> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match announced {
        Some(length) if length > MAX_BODY_BYTES as u64 => Err(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }),
        _ => Ok(()),
    }
}

/// The claimed body hash, lowercased.
fn payload_hash(headers: &HeaderMap) -> Result<String, Error> {
    let mut values = headers.get_all(PAYLOAD_HASH).iter();
    let Some(value) = values.next() else {
        return Err(Error::MissingPayloadHash);
    };
    if values.next().is_some() {
        return Err(Error::MalformedPayloadHash);
    }
    let value = value
        .to_str()
        .map_err(|_| Error::MalformedPayloadHash)?
        .to_ascii_lowercase();
    if is_sha256_hex(&value) {
        Ok(value)
    } else {
        Err(Error::MalformedPayloadHash)
    }
}

async fn read_limited(body: Body) -> Result<Vec<u8>, Error> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Error::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            })
        }
        Err(_) => Err(Error::UnreadableBody),
    }
}
