//! The endpoint over the file store, driven with `oneshot`: the request checks, the chain rule and write policy,
//! replays, concurrency, and real stand-in tokens.



use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use crate::common::{cases, FakeSpotify, Harness, Push, ALICE, NOW};
use setlist_sink::{FileStore, SecretStore, StoreSpec};
use setlist_stand_in::{Options, StandIn};

fn file_store(dir: &tempfile::TempDir) -> Arc<dyn SecretStore> {
    Arc::new(FileStore::new(dir.path().join("run/tokens")))
}

#[tokio::test]
async fn bad_requests_get_their_status_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    cases::bad_requests_write_nothing(&h).await;
}

#[tokio::test]
async fn nothing_is_written_into_an_empty_store_on_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    let mut push = Push::sign_in(ALICE, "x", NOW);
    push.access_token.clear();
    assert_eq!(h.push(&push).await.status, StatusCode::BAD_REQUEST);
    assert!(!dir.path().join("run/tokens/alice.setlist.json").exists());
    assert!(h.snapshot().await.version.is_none());
}

#[tokio::test]
async fn write_policy_and_chain_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    cases::write_policy_and_chain_rule(&h).await;
}

#[tokio::test]
async fn replays_are_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    cases::replays_are_idempotent(&h).await;
}

#[tokio::test]
async fn users_have_their_own_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::users_have_their_own_records(&Harness::new(file_store(&dir)).await).await;
}

#[tokio::test]
async fn the_sinks_clock_decides() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::the_sinks_clock_decides(&Harness::new(file_store(&dir)).await).await;
}

#[tokio::test]
async fn sign_ins_are_held_to_a_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::sign_ins_are_held_to_a_budget(&Harness::new(file_store(&dir)).await).await;
}

#[tokio::test]
async fn a_chain_resent_after_an_outage_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::a_chain_resent_after_an_outage_continues(&Harness::new(file_store(&dir)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_push_concurrently() {
    let dir = tempfile::tempdir().expect("tempdir");
    let counts = cases::two_users_push_concurrently(&Harness::new(file_store(&dir)).await).await;
    eprintln!("writes per user over the file store: {counts:?}");
}

/// A slow Spotify becomes `503` + `Retry-After` inside the sink's own deadline, never a hung request that the
/// Lambda's timeout would turn into a CloudFront 502.
#[tokio::test]
async fn a_slow_spotify_is_a_503_in_time() {
    use axum::routing::get;
    let slow = axum::Router::new().route(
        "/v1/me",
        get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            "{}"
        }),
    );
    let base = crate::common::serve(slow).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::with_api(file_store(&dir), FakeSpotify::start().await, &format!("{base}/v1"), &[ALICE]);
    let started = std::time::Instant::now();
    let answer = h.push(&Push::sign_in(ALICE, "slow", NOW)).await;
    let took = started.elapsed();
    assert_eq!((answer.status, answer.code()), (StatusCode::SERVICE_UNAVAILABLE, "spotify_unavailable"), "{}", answer.text);
    assert!(answer.headers.contains_key(header::RETRY_AFTER));
    assert!(took < std::time::Duration::from_secs(10), "answered after {took:?}");
    assert_eq!(h.state.writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_chains_end_at_the_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    let elapsed = cases::concurrent_chains_end_at_the_head(&h).await;
    eprintln!("100 concurrent pushes over the file store took {elapsed:?}");
}

#[tokio::test]
async fn the_stored_file_is_the_record_jobs_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    let push = Push::sign_in(ALICE, "f1", NOW);
    assert_eq!(h.push(&push).await.status, StatusCode::OK);
    let text = std::fs::read_to_string(dir.path().join("run/tokens/alice.setlist.json")).expect("file");
    let record = setlist_sink::parse_stored(&text)
        .expect("parses")
        .expect("record");
    assert_eq!(record.user_id, ALICE);
    assert_eq!(record.refresh_token.secret(), push.refresh_token);
    assert_eq!(record.generation, 1);
    // A second process opening the same directory sees the same version.
    let again = StoreSpec::File(dir.path().join("run/tokens")).open().await;
    assert_eq!(again.read(ALICE).await.expect("read").version, h.snapshot().await.version);
}

#[tokio::test]
async fn other_methods_and_the_health_probe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    let answer = h
        .send(
            Request::get("/api/tokens")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.code(), "method_not_allowed");
    let answer = h
        .send(
            Request::get("/api/health")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (StatusCode::OK, "ok")
    );
    let ok = h.push(&Push::sign_in(ALICE, "h", NOW)).await;
    assert_eq!(
        ok.headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}

/// Real tokens from the stand-in, checked through its real `/v1/me` over a loopback socket.
#[tokio::test]
async fn stand_in_tokens_are_verified() {
    let stand_in = StandIn::new(Options::default());
    let base = crate::common::serve(setlist_stand_in::app(stand_in.clone())).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let unused = FakeSpotify::start().await;
    let h = Harness::with_api(file_store(&dir), unused, &format!("{base}/v1"), &[ALICE]);
    let now = u64::try_from(stand_in.now()).expect("after 1970");
    h.clock.set(now);

    let push_for = |user: &str| {
        let minted = stand_in
            .mint_tokens(user, "user-read-private playlist-read-private")
            .expect("seeded user");
        Push {
            access_token: minted.access_token,
            expires_at: now + minted.expires_in,
            refresh_token: minted.refresh_token.expect("sign-in gives a refresh token"),
            scope: minted.scope,
            authorized_at: now,
            prev_refresh_token: None,
        }
    };
    let alice = push_for(ALICE);
    let answer = h.push(&alice).await;
    assert_eq!(
        (answer.status, answer.status_field()),
        (StatusCode::OK, "written"),
        "{}",
        answer.text
    );
    assert_eq!(h.snapshot().await.record.expect("record").user_id, ALICE);

    // bruno is seeded in the stand-in but not allowed by this sink.
    let answer = h.push(&push_for("bruno.setlist")).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "user_not_allowed")
    );

    // A token the stand-in considers expired (its clock moved) while the push still claims an hour.
    let mut later = push_for(ALICE);
    later.authorized_at = now + 1;
    stand_in.set_clock_offset(4000);
    let answer = h.push(&later).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "access_token_rejected"),
        "{}",
        answer.text
    );
    assert_eq!(h.state.writes(), 1);
}

/// A Lambda function URL event (payload format 2.0, as CloudFront's signed origin request arrives) goes through
/// `lambda_http`'s request conversion into the same Router, plain and base64-encoded.
#[tokio::test]
async fn function_url_events_reach_the_router() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    let event = |push: &Push, encode: bool| {
        let body = push.json();
        let hash = setlist_sink::sha256_hex(body.as_bytes());
        let body = if encode {
            base64::engine::general_purpose::STANDARD.encode(&body)
        } else {
            body
        };
        serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/api/tokens",
            "rawQueryString": "",
            "headers": {
                "content-type": "application/json",
                "x-amz-content-sha256": hash,
                "host": "abcdefgh.lambda-url.us-east-1.on.aws",
                "x-forwarded-proto": "https"
            },
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abcdefgh",
                "authorizer": { "iam": {
                    "accessKey": "ASIAEXAMPLE", "accountId": "123456789012", "callerId": "AROAEXAMPLE:cloudfront",
                    "cognitoIdentity": null, "principalOrgId": null,
                    "userArn": "arn:aws:sts::123456789012:assumed-role/cloudfront/x", "userId": "AROAEXAMPLE"
                } },
                "domainName": "abcdefgh.lambda-url.us-east-1.on.aws",
                "domainPrefix": "abcdefgh",
                "http": { "method": "POST", "path": "/api/tokens", "protocol": "HTTP/1.1",
                          "sourceIp": "203.0.113.7", "userAgent": "Amazon CloudFront" },
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "routeKey": "$default",
                "stage": "$default",
                "time": "12/Mar/2027:19:03:58 +0000",
                "timeEpoch": 1_804_000_000_000_i64
            },
            "body": body,
            "isBase64Encoded": encode
        })
        .to_string()
    };
    let first = Push::sign_in(ALICE, "l1", NOW);
    let request =
        lambda_http::request::from_str(&event(&first, false)).expect("a function URL event");
    let answer = crate::common::send(&h.app, request.map(Body::new)).await;
    assert_eq!(
        (answer.status, answer.status_field()),
        (StatusCode::OK, "written"),
        "{}",
        answer.text
    );

    let second = Push::sign_in(ALICE, "l2", NOW + 1);
    let request =
        lambda_http::request::from_str(&event(&second, true)).expect("a function URL event");
    let answer = crate::common::send(&h.app, request.map(Body::new)).await;
    assert_eq!(
        (answer.status, answer.generation()),
        (StatusCode::OK, 2),
        "{}",
        answer.text
    );
}

/// The local binary binds, prints its address once it accepts connections, and serves the Router.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_binary_announces_and_serves() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("file:{}", dir.path().join("tokens").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sink-local"))
        .args(["--port", "0", "--store", &store, "--allow", ALICE])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start sink-local");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("reader task");
    let result = async {
        let line = line.map_err(|error| format!("reading stdout: {error}"))?;
        let base = line
            .trim()
            .strip_prefix("sink listening on ")
            .ok_or(format!("unexpected first line {line:?}"))?
            .to_owned();
        let health = reqwest::get(format!("{base}/api/health"))
            .await
            .map_err(|e| e.to_string())?;
        let text = health.text().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(text)
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(result.as_deref(), Ok("ok"));
}

/// The one wire contract: pushes built the way the app builds them (core's `TokenSet`, `TokenPush::new` and
/// `push_request`, body and headers as sent) go through the sink's parser and chain rule, for a sign-in and for a
/// rotation after it.
#[tokio::test]
async fn pushes_built_by_the_app_side_are_what_the_sink_takes() {
    use setlist_core::{push_request, AccessToken, PushUrl, RefreshToken, TokenPush, TokenResponse, TokenSet};
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::new(file_store(&dir)).await;
    let response = |access: &str, refresh: &str| TokenResponse {
        access_token: AccessToken::new(access.into()),
        token_type: "Bearer".into(),
        scope: "playlist-modify-private user-read-private".into(),
        expires_in: 3600,
        refresh_token: Some(RefreshToken::new(refresh.into())),
    };
    let send = |push: &TokenPush| {
        let (parts, body) = push_request(&PushUrl::parse("/api/tokens").expect("valid"), push).into_parts();
        let mut request = Request::from_parts(parts, Body::from(body));
        *request.uri_mut() = "/api/tokens".parse().expect("uri");
        h.send(request)
    };
    let signed_in = TokenSet::from_sign_in(response("at:alice.setlist:app1", "rt-app-1"), NOW);
    let push = TokenPush::new(&signed_in, None).expect("a refresh token");
    let answer = send(&push).await;
    assert_eq!((answer.status, answer.status_field()), (StatusCode::OK, "written"), "{}", answer.text);

    let used = signed_in.refresh_token.clone().expect("refresh token");
    let refreshed = signed_in.after_refresh(response("at:alice.setlist:app2", "rt-app-2"), NOW + 60);
    let push = TokenPush::new(&refreshed, Some(&used)).expect("a refresh token");
    let answer = send(&push).await;
    assert_eq!((answer.status, answer.status_field(), answer.generation()), (StatusCode::OK, "written", 2), "{}", answer.text);
    let stored = h.snapshot().await.record.expect("record");
    assert_eq!(stored.refresh_token.secret(), "rt-app-2");
    assert_eq!(stored.authorized_at, NOW, "the chain's sign-in time travels unchanged");
}

/// A job whose stored access token Spotify refused (a 401 with time left by the clock) refreshes, and the new
/// access token replaces the dead one in the store even though the chain rule alone would answer `unchanged`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_refresh_after_a_401_replaces_the_refused_token() {
    use setlist_sink::job::{credentials, Accounts, Obtained, WriteBack};
    let stand_in = StandIn::new(Options::default());
    let base = crate::common::serve(setlist_stand_in::app(stand_in.clone())).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = file_store(&dir);
    let h = Harness::with_api(Arc::clone(&store), FakeSpotify::start().await, &format!("{base}/v1"), &[ALICE]);
    let now = u64::try_from(stand_in.now()).expect("after 1970");
    h.clock.set(now);
    let minted = stand_in.mint_tokens(ALICE, "playlist-read-private user-read-private").expect("seeded user");
    let pushed = Push {
        access_token: minted.access_token.clone(),
        expires_at: now + minted.expires_in,
        refresh_token: minted.refresh_token.clone().expect("refresh token"),
        scope: minted.scope.clone(),
        authorized_at: now,
        prev_refresh_token: None,
    };
    assert_eq!(h.push(&pushed).await.status, StatusCode::OK);

    let http = reqwest::Client::new();
    let accounts = Accounts::new("setlist-dev", &base).expect("accounts");
    let got = credentials(store.as_ref(), &http, &accounts, ALICE, now, true).await.expect("refreshed");
    assert_eq!(got.how, Obtained::Refreshed(WriteBack::Written { generation: 2 }));
    let stored = store.read(ALICE).await.expect("read").record.expect("record");
    assert_eq!(stored.access_token.secret(), got.access_token.secret(), "the refused token is gone");
    assert_eq!(stored.refresh_token.secret(), pushed.refresh_token, "same chain");
    // Without a refusal, a fresh stored token is used as it is.
    let again = credentials(store.as_ref(), &http, &accounts, ALICE, now, false).await.expect("stored");
    assert_eq!(again.how, Obtained::Stored);
}
