//! The token sink as an AWS Lambda behind a function URL (CloudFront routes `/api/*` to it), serving the same
//! Router as `sink-local`. Build with `cargo lambda build --release -p setlist-sink --bin sink-lambda`; configure
//! with `SINK_SECRET_ID` (required), `SINK_ALLOW` (required, comma-separated Spotify user ids) and `SINK_API_BASE`
//! (default `https://api.spotify.com/v1`). Run locally with `cargo lambda watch`.

use std::sync::Arc;

use setlist_sink::{app, init_logging, Config, SinkState, StoreSpec, SystemClock};

fn required(name: &str) -> Result<String, lambda_http::Error> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(format!("{name} must be set").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let secret_id = required("SINK_SECRET_ID")?;
    let allow: Vec<String> = required("SINK_ALLOW")?
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    let api_base = std::env::var("SINK_API_BASE")
        .ok()
        .filter(|base| !base.trim().is_empty())
        .unwrap_or_else(|| "https://api.spotify.com/v1".to_owned());
    let store = StoreSpec::SecretsManager(secret_id).open().await;
    let state = SinkState::new(Config { api_base, allow }, store, Arc::new(SystemClock));
    lambda_http::run(app(state)).await
}
