//! Setlist's token sink: `POST /api/tokens` takes the tokens the browser app just obtained, proves who they belong
//! to with Spotify's `GET /v1/me`, and stores them with compare-and-swap so that server-side jobs always hold
//! working credentials. [`app`] is the whole endpoint; the local binary, the Lambda binary and the tests all
//! serve it.
//!
//! A request must be `application/json`, at most 4 KiB, carry `x-amz-content-sha256: hex(SHA-256(body))`, and be
//! a [`TokenPush`] (core's wire type, the one the app sends). Answers: `200 {"status":"written"|"unchanged",
//! "generation":N}`, or `{"error":"code","message":"..."}` with 400, 403, 409 (plus `"generation"`), 413, 415,
//! 429 or 503 (both plus `Retry-After`). Nothing is written on any error.
//!
//! Each allow-listed Spotify user has a record of their own (one secret per user under a name prefix, or one file
//! per user); a push only ever touches the record of the user Spotify's `GET /v1/me` names. The sink's own clock
//! orders sign-ins and judges freshness; the sender's times are only sanity-checked.

mod clock;
mod error;
mod handler;
pub mod job;
pub mod policy;
mod record;
mod spotify;
pub mod store;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::Error;
pub use policy::Policy;
pub use record::{parse_stored, Snapshot, StoredRecord};
pub use setlist_core::{sha256_hex, TokenPush, MAX_PUSH_BYTES as MAX_BODY_BYTES};
pub use store::{check_user_id, store_push, FileStore, SecretStore, SecretsManagerStore, StoreSpec, Stored};

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
    /// The write budget.
    pub policy: Policy,
}

/// Everything a request handler needs. Cloning shares it.
#[derive(Clone)]
pub struct SinkState {
    inner: Arc<Inner>,
}

struct Inner {
    allow: Vec<String>,
    policy: Policy,
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
                policy: config.policy,
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

/// Targets whose events at `debug` and `trace` carry what passed through them: the Lambda runtime logs each raw
/// invocation event (a push body, tokens and all), HTTP and TLS stacks log headers and bodies. Whatever `RUST_LOG`
/// says, they log at `info` at most.
const VERBOSE_TARGETS: &[&str] = &[
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "aws_lambda_events",
    "aws_smithy",
    "aws_sdk",
    "aws_config",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "tower_http",
    "tower",
    "axum",
];

/// Whether an event of `target` at `level` may be written: everything at `info` and above, and `debug`/`trace`
/// only from targets outside [`VERBOSE_TARGETS`].
pub fn loggable(target: &str, level: &tracing::Level) -> bool {
    *level <= tracing::Level::INFO
        || !VERBOSE_TARGETS
            .iter()
            .any(|t| target == *t || target.strip_prefix(t).is_some_and(|rest| rest.starts_with("::") || rest.starts_with('_')))
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`) and never more verbose than `info` for the targets that
/// would print tokens ([`loggable`]). For the binaries.
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::Layer as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let guard = tracing_subscriber::filter::filter_fn(|meta| loggable(meta.target(), meta.level()));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(guard)
        .with_filter(filter);
    // A second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_targets_are_capped_at_info() {
        use tracing::Level;
        assert!(!loggable("lambda_runtime", &Level::TRACE));
        assert!(!loggable("lambda_runtime::layers::trace", &Level::DEBUG));
        assert!(!loggable("lambda_runtime_api_client", &Level::TRACE));
        assert!(!loggable("aws_smithy_runtime::client::http", &Level::TRACE));
        assert!(!loggable("hyper_util::client", &Level::DEBUG));
        assert!(loggable("lambda_runtime", &Level::INFO));
        assert!(loggable("lambda_runtime", &Level::ERROR));
        assert!(loggable("setlist_sink::handler", &Level::TRACE));
        assert!(loggable("hyperion", &Level::TRACE), "a prefix of a name is not the name");
    }
}
