//! The control API under `/__control/`, for tests and `cargo xtask`: read and reset the request log, move the
//! clock, change settings (token lifetime, refresh rotation, latency), inspect token counts, sign a user in
//! without the consent page, and list or seed playlists (`POST /__control/playlists` makes one of up to 100,000
//! catalog tracks for benchmarks), and inject faults (`/faults`, `/rate_limit`, see [`crate::faults`]). Mounted only when
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
use crate::{faults, users, StandIn};

/// Installed fault rules: `{"faults": [{id, route, kind, status?, retry_after?, latency_ms?, remaining}]}`.
async fn faults(State(stand_in): State<StandIn>) -> Json<Value> {
    Json(json!({ "faults": stand_in.lock().faults.rules() }))
}

/// Installs a rule (see [`crate::faults`]); answers it with 201.
async fn add_fault(State(stand_in): State<StandIn>, body: Bytes) -> Result<Response, ControlError> {
    let request: faults::RuleRequest = parse(&body)?;
    let rule = stand_in
        .lock()
        .faults
        .add(request)
        .map_err(|message| ControlError(StatusCode::BAD_REQUEST, message))?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

async fn clear_faults(State(stand_in): State<StandIn>) -> StatusCode {
    stand_in.lock().faults.clear();
    StatusCode::NO_CONTENT
}

fn rate_limit_view(inner: &Inner) -> Json<Value> {
    Json(match inner.faults.rate_limit() {
        Some(limit) => json!({
            "enabled": true,
            "window_secs": limit.window_secs,
            "max_requests": limit.max_requests,
        }),
        None => json!({ "enabled": false }),
    })
}

async fn rate_limit(State(stand_in): State<StandIn>) -> Json<Value> {
    rate_limit_view(&stand_in.lock())
}

/// `window_secs` defaults to Spotify's 30; `max_requests` is required when enabling.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitChange {
    enabled: bool,
    window_secs: Option<u64>,
    max_requests: Option<u64>,
}

async fn set_rate_limit(
    State(stand_in): State<StandIn>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let change: RateLimitChange = parse(&body)?;
    let limit = if change.enabled {
        let window_secs = change.window_secs.unwrap_or(30);
        let max_requests = change.max_requests.ok_or_else(|| {
            ControlError(
                StatusCode::BAD_REQUEST,
                "max_requests is required".to_owned(),
            )
        })?;
        if window_secs == 0 || window_secs > 86_400 || max_requests == 0 {
            return Err(ControlError(
                StatusCode::BAD_REQUEST,
                "window_secs is 1 to 86400 and max_requests at least 1".to_owned(),
            ));
        }
        Some(faults::RateLimit {
            window_secs,
            max_requests,
        })
    } else {
        None
    };
    let mut inner = stand_in.lock();
    inner.faults.set_rate_limit(limit);
    Ok(rate_limit_view(&inner))
}

/// A minute: more would only make a test hang.
const MAX_LATENCY_MS: u64 = 60_000;
/// Largest playlist `POST /__control/playlists` makes.
const MAX_SEEDED_SIZE: usize = 100_000;

pub(crate) fn router() -> Router<StandIn> {
    Router::new()
        .route("/health", get(health))
        .route("/log", get(log))
        .route("/log/reset", post(reset_log))
        .route("/clock", get(clock).post(set_clock))
        .route("/config", get(config).post(set_config))
        .route("/state", get(state))
        .route("/tokens", post(mint_tokens))
        .route("/playlists", get(playlists).post(seed_playlist))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/rate_limit", get(rate_limit).post(set_rate_limit))
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
        "latency_ms": inner.config.latency_ms,
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
    latency_ms: Option<u64>,
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
    if let Some(latency_ms) = change.latency_ms {
        if latency_ms > MAX_LATENCY_MS {
            return Err(ControlError(
                StatusCode::BAD_REQUEST,
                format!("latency_ms is at most {MAX_LATENCY_MS}"),
            ));
        }
        inner.config.latency_ms = latency_ms;
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
            "latency_ms": inner.config.latency_ms,
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

/// Every playlist: id, owner, name, item count, snapshot and flags, sorted by owner then name.
async fn playlists(State(stand_in): State<StandIn>) -> Json<Value> {
    let inner = stand_in.lock();
    let mut all: Vec<_> = inner.playlists.all().collect();
    all.sort_by(|a, b| (a.owner, &a.name, &a.id).cmp(&(b.owner, &b.name, &b.id)));
    let playlists: Vec<Value> = all
        .into_iter()
        .map(|p| {
            json!({
                "id": p.id,
                "owner": p.owner,
                "name": p.name,
                "total": p.entries.len(),
                "snapshot_id": p.snapshot_id(),
                "public": p.public,
                "collaborative": p.collaborative,
            })
        })
        .collect();
    Json(json!({ "playlists": playlists }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    owner: String,
    name: String,
    size: usize,
    #[serde(default)]
    public: Option<bool>,
}

/// Makes a playlist of `size` catalog tracks (distinct until the catalog runs out) for `owner`, at the top of
/// their library; answers `{id, snapshot_id, total}` with 201.
async fn seed_playlist(
    State(stand_in): State<StandIn>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let request: SeedRequest = parse(&body)?;
    let owner = users::find(&request.owner).ok_or_else(|| {
        ControlError(
            StatusCode::NOT_FOUND,
            format!("no seeded user {:?}", request.owner),
        )
    })?;
    if request.size > MAX_SEEDED_SIZE {
        return Err(ControlError(
            StatusCode::BAD_REQUEST,
            format!("size is at most {MAX_SEEDED_SIZE}"),
        ));
    }
    let mut inner = stand_in.lock();
    let now = inner.clock.now();
    let id = inner
        .playlists
        .create_filled(owner.id, request.name, request.size, now);
    let playlist = inner
        .playlists
        .get_mut(&id)
        .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, "the playlist vanished".to_owned()))?;
    if let Some(public) = request.public {
        playlist.public = public;
    }
    let body = json!({
        "id": playlist.id,
        "snapshot_id": playlist.snapshot_id(),
        "total": playlist.entries.len(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
