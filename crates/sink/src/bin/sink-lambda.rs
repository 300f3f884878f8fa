//! The token sink as an AWS Lambda behind a function URL (CloudFront routes `/api/*` to it), serving the same
//! Router as `sink-local`. Build with `cargo xtask dist` (or `cargo lambda build --release -p setlist-sink --bin
//! sink-lambda`); configure with `SINK_SECRET_PREFIX` (required: user U's tokens live in the secret named
//! PREFIX + U, created by the first push), `SINK_ALLOW` (required, comma-separated Spotify user ids),
//! `SINK_SIGN_INS_PER_HOUR` (default 6) and `SINK_API_BASE` (default `https://api.spotify.com/v1`). Run locally
//! with `cargo lambda watch`.

use std::sync::Arc;

use setlist_sink::{app, check_user_id, init_logging, Config, Policy, SinkState, StoreSpec, SystemClock};

fn required(name: &str) -> Result<String, lambda_http::Error> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(format!("{name} must be set").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let prefix = required("SINK_SECRET_PREFIX")?;
    let allow: Vec<String> = required("SINK_ALLOW")?
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    for user in &allow {
        check_user_id(user)?;
    }
    let mut policy = Policy::default();
    if let Ok(value) = std::env::var("SINK_SIGN_INS_PER_HOUR") {
        policy.sign_ins_per_hour = value
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or("SINK_SIGN_INS_PER_HOUR must be a number from 1")?;
    }
    let api_base = std::env::var("SINK_API_BASE")
        .ok()
        .filter(|base| !base.trim().is_empty())
        .unwrap_or_else(|| "https://api.spotify.com/v1".to_owned());
    let store = StoreSpec::SecretsManager(prefix).open().await;
    let state = SinkState::new(Config { api_base, allow, policy }, store, Arc::new(SystemClock));
    lambda_http::run(app(state)).await
}
