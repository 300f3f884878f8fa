//! The `sink-lambda` binary as Lambda runs it: started with `AWS_LAMBDA_RUNTIME_API` pointing at an emulated
//! Runtime API (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), it initialises, asks for the
//! next invocation, gets one function-URL push (API Gateway payload 2.0) and answers it; the token lands in
//! Secrets Manager (moto) after the allow-list check against the stand-in, and with `RUST_LOG=trace` no token
//! reaches its logs. Prints the cold-start init time (spawn
//! to the first `GET .../invocation/next`), which `cargo xtask bench` reports.



use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use crate::common::moto::Moto;
use serde_json::{json, Value};
use setlist_sink::{sha256_hex, Clock as _, SystemClock};
use setlist_stand_in::{Options, StandIn};
use tokio::sync::mpsc;

const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// What the emulated Runtime API saw.
#[derive(Debug)]
enum Seen {
    /// The first `GET /invocation/next`: init is over.
    Next(Instant),
    Response(String, Value),
    Error(String),
}

#[derive(Clone)]
struct Runtime {
    event: Arc<Mutex<Option<Value>>>,
    seen: mpsc::UnboundedSender<Seen>,
}

async fn next(State(rt): State<Runtime>) -> Response {
    let _ = rt.seen.send(Seen::Next(Instant::now()));
    let event = rt.event.lock().unwrap().take();
    let Some(event) = event else {
        // One invocation only: later polls wait here until the test stops the process.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let deadline = (SystemClock.now() + 30) * 1000;
    (
        [
            ("lambda-runtime-aws-request-id", REQUEST_ID.to_owned()),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:setlist-sink".to_owned(),
            ),
            ("lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".to_owned()),
            ("content-type", "application/json".to_owned()),
        ],
        event.to_string(),
    )
        .into_response()
}

async fn response(State(rt): State<Runtime>, Path(id): Path<String>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = rt.seen.send(Seen::Response(id, value));
    StatusCode::ACCEPTED
}

async fn error(State(rt): State<Runtime>, headers: HeaderMap, body: String) -> StatusCode {
    let kind = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let _ = rt.seen.send(Seen::Error(format!("{kind}: {body}")));
    StatusCode::ACCEPTED
}

/// A push as CloudFront forwards it to the function URL: API Gateway HTTP API payload format 2.0.
fn function_url_event(body: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/api/tokens",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-amz-content-sha256": sha256_hex(body.as_bytes()),
            "host": "abcdefghij.lambda-url.us-east-1.on.aws",
            "user-agent": "Mozilla/5.0"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {
                "method": "POST",
                "path": "/api/tokens",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "Mozilla/5.0"
            },
            "requestId": "r-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "28/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_867_200_000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_initialises_and_answers_one_push_through_the_runtime_api() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    // No secret made beforehand: the first push of the user creates theirs under the prefix.
    let secret_id = format!("setlist/lambda/{}", crate::common::ALICE);
    let stand_in = StandIn::new(Options::default());
    let base = crate::common::serve(setlist_stand_in::app(stand_in.clone())).await;

    let now = SystemClock.now();
    let minted = stand_in
        .mint_tokens(crate::common::ALICE, "playlist-read-private user-read-private")
        .expect("seeded user");
    let refresh_token = minted.refresh_token.clone().expect("refresh token");
    let push = json!({
        "access_token": minted.access_token,
        "expires_at": now + 3600,
        "refresh_token": refresh_token,
        "scope": minted.scope,
        "authorized_at": now,
        "prev_refresh_sha256": null,
    })
    .to_string();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let runtime = Runtime {
        event: Arc::new(Mutex::new(Some(function_url_event(&push)))),
        seen: tx,
    };
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(runtime);
    let api = crate::common::serve(router).await;

    let spawned = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sink-lambda"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.trim_start_matches("http://"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "setlist-sink")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/setlist-sink")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/28/[$LATEST]0123456789abcdef")
        .env("SINK_SECRET_PREFIX", "setlist/lambda/")
        // The most verbose logging an operator can ask for: still no token may reach the logs.
        .env("RUST_LOG", "trace")
        .env("SINK_ALLOW", crate::common::ALICE)
        .env("SINK_API_BASE", format!("{base}/v1"))
        .envs(moto.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sink-lambda");

    let mut init = None;
    let mut answer = None;
    let deadline = tokio::time::sleep(Duration::from_secs(60));
    tokio::pin!(deadline);
    while answer.is_none() {
        tokio::select! {
            seen = rx.recv() => match seen.expect("runtime channel") {
                Seen::Next(at) => { init.get_or_insert(at - spawned); }
                Seen::Response(id, value) => answer = Some((id, value)),
                Seen::Error(e) => { let _ = child.kill(); panic!("the function reported an error: {e}"); }
            },
            () = &mut deadline => { let _ = child.kill(); panic!("no answer from sink-lambda within 60 s"); }
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("sink-lambda output");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let init = init.expect("init ended with a poll for the next invocation");
    eprintln!("lambda_init_ms={:.1}", init.as_secs_f64() * 1000.0);
    let (id, value) = answer.expect("an answer");
    assert_eq!(id, REQUEST_ID);
    assert_eq!(value["statusCode"], 200, "{value}\n{logs}");
    let body: Value = serde_json::from_str(value["body"].as_str().expect("a body")).expect("JSON body");
    assert_eq!(body["status"], "written", "{body}");

    // Stored in Secrets Manager, and nothing secret in the function's logs.
    let stored = client
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .expect("GetSecretValue");
    let stored: Value = serde_json::from_str(stored.secret_string().expect("a string")).expect("JSON secret");
    assert_eq!(stored["refresh_token"], refresh_token, "{stored}");
    assert!(logs.contains("push received"), "trace logging was on:\n{logs}");
    for secret in [minted.access_token.as_str(), refresh_token.as_str()] {
        assert!(!logs.contains(secret), "a token in the function's logs:\n{logs}");
    }
}
