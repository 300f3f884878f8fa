//! The `setlist-job-lambda` binary as Lambda runs it: started with `AWS_LAMBDA_RUNTIME_API` pointing at an
//! emulated Runtime API (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), it gets one
//! schedule-shaped event naming a track list in S3 (moto), publishes it with Alice's secret (moto) against the
//! stand-in, and answers the report; with `RUST_LOG=trace`, no token reaches its logs.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use setlist_sink::{Clock as _, SystemClock};
use tokio::sync::mpsc;

use crate::moto::Moto;
use crate::{assert_no_secret, seed, serve, stored_secrets, Spotify, ALICE, DEEP_FOCUS, EVERYTHING};

const REQUEST_ID: &str = "0f1b5a52-6c1e-4b7e-9d0a-5f3c2e1d4b6a";

#[derive(Debug)]
enum Seen {
    Response(String, Value),
    Error(String),
}

#[derive(Clone)]
struct Runtime {
    event: Arc<Mutex<Option<Value>>>,
    seen: mpsc::UnboundedSender<Seen>,
}

async fn next(State(runtime): State<Runtime>) -> Response {
    let event = runtime.event.lock().expect("event").take();
    let Some(event) = event else {
        // One invocation only: later polls wait until the test stops the process.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let deadline = (SystemClock.now() + 300) * 1000;
    (
        [
            ("lambda-runtime-aws-request-id", REQUEST_ID.to_owned()),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:setlist-job".to_owned()),
            ("lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".to_owned()),
            ("content-type", "application/json".to_owned()),
        ],
        event.to_string(),
    )
        .into_response()
}

async fn response(State(runtime): State<Runtime>, Path(id): Path<String>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = runtime.seen.send(Seen::Response(id, value));
    StatusCode::ACCEPTED
}

async fn error(State(runtime): State<Runtime>, body: String) -> StatusCode {
    let _ = runtime.seen.send(Seen::Error(body));
    StatusCode::ACCEPTED
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_publishes_a_list_from_s3_on_a_schedule_event() {
    let moto = Moto::start().await;
    let spotify = Spotify::start().await;
    let prefix = "setlist/tokens/";
    let store = moto.store(prefix).await;
    let push = spotify.sign_in(3600);
    seed(store.as_ref(), &push).await;

    // This week's chart: Deep Focus with three tracks swapped, as a text file in S3.
    let base = spotify.items(DEEP_FOCUS).await;
    let fresh: Vec<String> =
        spotify.items(EVERYTHING).await.into_iter().filter(|uri| !base.contains(uri)).take(3).collect();
    let mut target = base.clone();
    for (at, uri) in [3, 30, 59].into_iter().zip(&fresh) {
        target[at] = uri.clone();
    }
    let text = format!("# weekly chart\n{}\n", target.join("\n"));
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("charts").send().await.expect("CreateBucket");
    s3.put_object().bucket("charts").key("weekly/latest.txt").body(text.into_bytes().into()).send().await.expect("PutObject");
    spotify.reset_log().await;

    // What an EventBridge Scheduler schedule's Input delivers, as is.
    let event = json!({
        "user": ALICE,
        "playlist": format!("https://open.spotify.com/playlist/{DEEP_FOCUS}"),
        "tracks_s3": {"bucket": "charts", "key": "weekly/latest.txt"},
        "name": "Weekly Chart",
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runtime = Runtime { event: Arc::new(Mutex::new(Some(event))), seen: tx };
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(runtime);
    let api = serve(router).await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_setlist-job-lambda"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.trim_start_matches("http://"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "setlist-job")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/setlist-job")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/30/[$LATEST]0123456789abcdef")
        .env("JOB_SECRET_PREFIX", prefix)
        .env("JOB_CLIENT_ID", "setlist-dev")
        .env("JOB_ACCOUNTS_BASE", &spotify.base)
        .env("JOB_API_BASE", spotify.api_base())
        // The most verbose logging an operator can ask for: still no token may reach the logs.
        .env("RUST_LOG", "trace")
        .envs(moto.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start setlist-job-lambda");

    let seen = tokio::time::timeout(Duration::from_secs(120), rx.recv()).await;
    let _ = child.kill();
    let output = child.wait_with_output().expect("setlist-job-lambda output");
    let logs = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let (id, report) = match seen {
        Ok(Some(Seen::Response(id, report))) => (id, report),
        Ok(Some(Seen::Error(error))) => panic!("the function failed: {error}\n{logs}"),
        other => panic!("no answer from setlist-job-lambda ({other:?})\n{logs}"),
    };
    assert_eq!(id, REQUEST_ID);
    eprintln!("{report:#}");
    assert_eq!(report["verified"], true, "{report}\n{logs}");
    assert_eq!(report["details_changed"], json!(["name"]));
    assert_eq!((report["tracks_added"].as_u64(), report["tracks_removed"].as_u64()), (Some(3), Some(3)));
    let writes = spotify.writes().await;
    assert_eq!(report["write_calls"].as_u64(), Some(writes));
    assert!(writes <= 4, "a rename and three swaps: {writes} writes");
    assert_eq!(spotify.items(DEEP_FOCUS).await, target);
    assert_eq!(spotify.name(DEEP_FOCUS).await, "Weekly Chart");
    assert!(logs.contains("published"), "{logs}");
    let (access, refresh, _) = stored_secrets(store.as_ref()).await;
    assert_no_secret(&logs, &[push.access_token.secret(), push.refresh_token.secret(), &access, &refresh]);
    assert_no_secret(&report.to_string(), &[push.access_token.secret(), &access]);
}
