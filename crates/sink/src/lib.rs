//! Setlist's token sink: `POST /api/tokens` takes the tokens the browser app just obtained, proves who they belong
//! to with Spotify's `GET /v1/me`, and stores them with compare-and-swap so that server-side jobs always hold
//! working credentials. [`app`] is the whole endpoint; the local binary, the Lambda binary and the tests all
//! serve it.
//!
//! A request must be `application/json`, at most 4 KiB, carry `x-amz-content-sha256: hex(SHA-256(body))`, and be
//! a [`TokenPush`]. Answers: `200 {"status":"written"|"unchanged","generation":N}`, or
//! `{"error":"code","message":"..."}` with 400, 403, 409 (plus `"generation"`), 413, 415 or 503 (plus
//! `Retry-After`). Nothing is written on any error.

mod clock;
mod error;
mod handler;
pub mod policy;
mod push;
mod record;
mod secret;
mod spotify;
pub mod store;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::Error;
pub use push::{TokenPush, MAX_BODY_BYTES, MAX_CLOCK_AHEAD_SECS};
pub use record::{parse_stored, Snapshot, StoredRecord};
pub use secret::{sha256_hex, SecretString};
pub use store::{store_push, FileStore, SecretStore, SecretsManagerStore, StoreSpec, Stored};

/// The path the app posts to.
pub const PUSH_PATH: &str = "/api/tokens";
/// A liveness probe for `cargo xtask` (no store or Spotify call).
pub const HEALTH_PATH: &str = "/api/health";

/// Settings of one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Web API root including `/v1`: `https://api.spotify.com/v1`, or the stand-in's `http://127.0.0.1:8090/v1`.
    pub api_base: String,
    /// Spotify user ids allowed to push.
    pub allow: Vec<String>,
}

/// Everything a request handler needs. Cloning shares it.
#[derive(Clone)]
pub struct SinkState {
    inner: Arc<Inner>,
}

struct Inner {
    allow: Vec<String>,
    identity: spotify::Identity,
    store: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    writes: AtomicU64,
}

impl fmt::Debug for SinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkState")
            .field("allow", &self.inner.allow)
            .field("writes", &self.writes())
            .finish_non_exhaustive()
    }
}

impl SinkState {
    pub fn new(config: Config, store: Arc<dyn SecretStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                allow: config.allow,
                identity: spotify::Identity::new(&config.api_base),
                store,
                clock,
                writes: AtomicU64::new(0),
            }),
        }
    }

    /// How many pushes this sink has written to its store since it started.
    pub fn writes(&self) -> u64 {
        self.inner.writes.load(Ordering::SeqCst)
    }

    pub fn store(&self) -> &Arc<dyn SecretStore> {
        &self.inner.store
    }
}

/// The endpoint: `POST /api/tokens` and `GET /api/health`.
pub fn app(state: SinkState) -> Router {
    Router::new()
        .route(PUSH_PATH, post(handler::push_tokens))
        .route(HEALTH_PATH, get(|| async { "ok" }))
        .method_not_allowed_fallback(handler::method_not_allowed)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). For the binaries.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
