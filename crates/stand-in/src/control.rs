//! The control API under `/__control/`, for tests and `cargo xtask`: read and reset the request log, move the
//! clock, change settings, inspect token counts, and sign a user in without the consent page. Mounted only when
//! [`crate::Options::control`] is set; its own requests are not recorded in the log.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::Inner;
use crate::StandIn;

pub(crate) fn router() -> Router<StandIn> {
    Router::new()
        .route("/health", get(health))
        .route("/log", get(log))
        .route("/log/reset", post(reset_log))
        .route("/clock", get(clock).post(set_clock))
        .route("/config", get(config).post(set_config))
        .route("/state", get(state))
        .route("/tokens", post(mint_tokens))
        .layer(middleware::from_fn(crate::log::trace_only))
        .layer(crate::spotify_cors())
}

/// Control errors: `{"error": sentence}` with 400 or 404.
struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// Parses a JSON body without caring about Content-Type, so `curl -d` works too.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body)
        .map_err(|error| ControlError(StatusCode::BAD_REQUEST, format!("invalid body: {error}")))
}

async fn health() -> &'static str {
    "ok"
}

async fn log(State(stand_in): State<StandIn>) -> Json<Value> {
    let inner = stand_in.lock();
    let requests: Vec<_> = inner.log.entries().collect();
    Json(json!({ "requests": requests, "counts": inner.log.counts() }))
}

async fn reset_log(State(stand_in): State<StandIn>) -> StatusCode {
    stand_in.lock().log.clear();
    StatusCode::NO_CONTENT
}

fn clock_view(inner: &Inner) -> Json<Value> {
    Json(json!({ "offset_secs": inner.clock.offset_secs(), "now": inner.clock.now() }))
}

async fn clock(State(stand_in): State<StandIn>) -> Json<Value> {
    clock_view(&stand_in.lock())
}

/// Exactly one of: `offset_secs` sets the offset from real time; `advance_secs` adds to the current offset.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    offset_secs: Option<i64>,
    advance_secs: Option<i64>,
}

async fn set_clock(
    State(stand_in): State<StandIn>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let change: ClockChange = parse(&body)?;
    let mut inner = stand_in.lock();
    match (change.offset_secs, change.advance_secs) {
        (Some(offset), None) => inner.clock.set_offset(offset),
        (None, Some(secs)) => inner.clock.advance(secs),
        _ => {
            return Err(ControlError(
                StatusCode::BAD_REQUEST,
                "give exactly one of offset_secs and advance_secs".to_owned(),
            ))
        }
    }
    Ok(clock_view(&inner))
}

fn config_view(inner: &Inner) -> Json<Value> {
    Json(json!({
        "access_token_lifetime_secs": inner.config.access_token_lifetime_secs,
        "rotate_refresh_tokens": inner.config.rotate_refresh_tokens,
    }))
}

async fn config(State(stand_in): State<StandIn>) -> Json<Value> {
    config_view(&stand_in.lock())
}

/// Fields left out keep their value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    access_token_lifetime_secs: Option<u64>,
    rotate_refresh_tokens: Option<bool>,
}

async fn set_config(
    State(stand_in): State<StandIn>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let change: ConfigChange = parse(&body)?;
    let mut inner = stand_in.lock();
    if let Some(lifetime) = change.access_token_lifetime_secs {
        inner.config.access_token_lifetime_secs = lifetime;
    }
    if let Some(rotate) = change.rotate_refresh_tokens {
        inner.config.rotate_refresh_tokens = rotate;
    }
    Ok(config_view(&inner))
}

/// Counts only: no token, code or request id ever leaves through here.
async fn state(State(stand_in): State<StandIn>) -> Json<Value> {
    let inner = stand_in.lock();
    Json(json!({
        "live_access_tokens": inner.live_access_tokens(),
        "live_refresh_tokens": inner.live_refresh_tokens(),
        "pending_codes": inner.codes.len(),
        "pending_consents": inner.pending.len(),
        "clock": { "offset_secs": inner.clock.offset_secs(), "now": inner.clock.now() },
        "config": {
            "access_token_lifetime_secs": inner.config.access_token_lifetime_secs,
            "rotate_refresh_tokens": inner.config.rotate_refresh_tokens,
        },
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    user_id: String,
    #[serde(default)]
    scope: String,
}

/// Signs a seeded user in as if they had agreed just now; answers what `/api/token` would.
async fn mint_tokens(
    State(stand_in): State<StandIn>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let request: MintRequest = parse(&body)?;
    let minted = stand_in
        .lock()
        .mint(&request.user_id, &request.scope)
        .ok_or_else(|| {
            ControlError(
                StatusCode::NOT_FOUND,
                format!("no seeded user {:?}", request.user_id),
            )
        })?;
    Ok(Json(minted).into_response())
}
