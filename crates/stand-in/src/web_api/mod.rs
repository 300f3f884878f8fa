//! The Web API subset under `/v1`. Every route takes a [`Bearer`] (so missing, unknown and expired tokens are
//! answered alike everywhere) and fails with [`ApiError`] (Spotify's `{"error":{"status","message"}}`).
//!
//! Adding an endpoint: write the handler in its own module (`me.rs` is the model), add its `.route(...)` in
//! [`router`] above the fallbacks.

mod auth;
mod error;
mod fields;
mod me;
mod params;
mod playlists;
mod render;
mod search;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;

use crate::StandIn;
pub(crate) use auth::Bearer;
pub(crate) use error::ApiError;

pub(crate) fn router() -> Router<StandIn> {
    Router::new()
        .route("/me", get(me::me))
        .route(
            "/me/playlists",
            get(playlists::list_mine).post(playlists::create),
        )
        .route(
            "/playlists/{playlist_id}",
            get(playlists::get).put(playlists::change_details),
        )
        .route(
            "/playlists/{playlist_id}/items",
            get(playlists::items)
                .post(playlists::add)
                .put(playlists::update)
                .delete(playlists::remove),
        )
        .route("/search", get(search::search))
        // Fallbacks last: the method fallback applies to the routes registered before it.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(crate::spotify_cors())
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Service not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

/// Where this stand-in's Web API is reachable, for `href` fields: `http://<Host header>/v1`, or Spotify's own base
/// when the request has no usable Host (in-process tests).
pub(crate) struct ApiBase(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for ApiBase {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .filter(|host| {
                !host.is_empty()
                    && host
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b".-:[]".contains(&c))
            });
        Ok(Self(match host {
            Some(host) => format!("http://{host}/v1"),
            None => "https://api.spotify.com/v1".to_owned(),
        }))
    }
}
