//! The server-side job as an AWS Lambda, invoked by an EventBridge Scheduler schedule (or `aws lambda invoke`)
//! with `{"user", "playlist", "tracks": [...] | "tracks_s3": {"bucket", "key"}, "name"?, "description"?,
//! "dry_run"?, "allow_empty"?}` (see `setlist_job::event`); answers the publish report as JSON, or fails the
//! invocation with a sentence. Configured by `JOB_SECRET_PREFIX` (required: user U's tokens are the secret
//! PREFIX + U, as the sink stores them), `JOB_CLIENT_ID` (required: the Spotify app's client id),
//! `JOB_ACCOUNTS_BASE` (default `https://accounts.spotify.com`) and `JOB_API_BASE` (default
//! `https://api.spotify.com/v1`). Build with `cargo lambda build --release -p setlist-job --bin setlist-job-lambda`.

use std::sync::Arc;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use setlist_job::event::{read_s3, PublishEvent, TrackSource, Tracks};
use setlist_job::{publish, Connection, Error, HttpTransport, PublishSpec, Settings};
use setlist_sink::{SecretStore, StoreSpec};

/// Reading a track list from S3 may take longer than a Secrets Manager call.
const S3_TIMEOUT: Duration = Duration::from_secs(20);

struct Job {
    store: Arc<dyn SecretStore>,
    s3: aws_sdk_s3::Client,
    transport: HttpTransport,
    client_id: String,
    accounts_base: String,
    api_base: String,
}

fn required(name: &str) -> Result<String, lambda_runtime::Error> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(format!("{name} must be set").into()),
    }
}

fn optional(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().trim_end_matches('/').to_owned())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    setlist_sink::init_logging();
    let prefix = required("JOB_SECRET_PREFIX")?;
    let client_id = required("JOB_CLIENT_ID")?;
    let store = StoreSpec::SecretsManager(prefix).open().await;
    let sdk = setlist_sink::store::aws_config_loader().load().await;
    let mut s3 = aws_sdk_s3::config::Builder::from(&sdk)
        .timeout_config(TimeoutConfig::builder().operation_timeout(S3_TIMEOUT).build());
    // An endpoint override (moto, LocalStack) serves buckets by path, not by host name.
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some() {
        s3 = s3.force_path_style(true);
    }
    let job = Arc::new(Job {
        store,
        s3: aws_sdk_s3::Client::from_conf(s3.build()),
        transport: HttpTransport::new()?,
        client_id,
        accounts_base: optional("JOB_ACCOUNTS_BASE", "https://accounts.spotify.com"),
        api_base: optional("JOB_API_BASE", "https://api.spotify.com/v1"),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let job = Arc::clone(&job);
        async move { handle(&job, event.payload).await }
    }))
    .await
}

async fn handle(job: &Job, event: Value) -> Result<Value, lambda_runtime::Error> {
    match publish_event(job, event).await {
        Ok(report) => {
            tracing::info!(
                playlist = %report.playlist,
                write_calls = report.write_calls,
                read_calls = report.read_calls,
                verified = ?report.verified,
                dry_run = report.dry_run,
                "published"
            );
            Ok(serde_json::to_value(report)?)
        }
        Err(error) => {
            tracing::error!(wrote = error.wrote(), "{error}");
            Err(error.to_string().into())
        }
    }
}

async fn publish_event(job: &Job, event: Value) -> Result<setlist_job::Report, Error> {
    let (event, source) = PublishEvent::parse(event)?;
    let tracks = match source {
        TrackSource::Inline(values) => Tracks::Inline(values),
        TrackSource::S3(object) => Tracks::Text(read_s3(&job.s3, &object).await?),
    };
    let spec = PublishSpec::new(event.request(tracks)?)?;
    let settings = Settings {
        user: spec.user.clone(),
        store: Arc::clone(&job.store),
        client_id: job.client_id.clone(),
        accounts_base: job.accounts_base.clone(),
        api_base: job.api_base.clone(),
    };
    let mut connection =
        Connection::new(settings, Arc::new(job.transport.clone()), job.transport.client().clone())?;
    publish(&mut connection, spec).await
}
