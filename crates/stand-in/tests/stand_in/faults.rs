//! Fault injection through `/__control/faults` and `/__control/rate_limit`.



use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use crate::common::{header, json, Harness};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};

const SCOPE: &str = "user-read-private playlist-read-private";

async fn add_fault(harness: &Harness, rule: Value) -> Value {
    let response = harness.post_json("/__control/faults", rule).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json(response).await
}

async fn last_log_entry(harness: &Harness) -> Value {
    let log = json(harness.get("/__control/log").await).await;
    log["requests"]
        .as_array()
        .and_then(|entries| entries.last())
        .cloned()
        .expect("a logged request")
}

fn me_from_page(token: &str) -> Request<Body> {
    Request::builder()
        .uri("/v1/me")
        .header(header::ORIGIN, "http://127.0.0.1:8080")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn status_with_retry_after_applies_to_the_next_n_matching_requests() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    let rule = add_fault(
        &harness,
        json!({"route": "GET /v1/me", "kind": "status", "status": 429, "retry_after": 7, "count": 2}),
    )
    .await;
    assert_eq!(rule["remaining"], 2);
    for _ in 0..2 {
        let response = harness.send(me_from_page(&token)).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "retry-after"), Some("7"));
        assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
        let body = json(response).await;
        assert_eq!(body["error"]["status"], 429);
    }
    let entry = last_log_entry(&harness).await;
    assert_eq!(entry["status"], 429);
    assert_eq!(entry["fault"], "status");
    assert_eq!(entry["route"], "/v1/me");
    // Used up: the rule is gone and the request goes through.
    let response = harness.send(me_from_page(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(last_log_entry(&harness).await.get("fault").is_none());
    let rules = json(harness.get("/__control/faults").await).await;
    assert_eq!(rules["faults"], json!([]));
}

#[tokio::test]
async fn route_patterns_match_any_placeholder_and_only_their_method() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    let playlist = crate::common::seeded("Road Trip Singalongs");
    add_fault(
        &harness,
        json!({"route": "GET /v1/playlists/{id}/items", "kind": "status", "status": 502}),
    )
    .await;
    let items = format!("/v1/playlists/{playlist}/items");
    let (status, _) = harness.call_json(Method::GET, &items, &token, None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let (status, _) = harness
        .call_json(
            Method::GET,
            &format!("/v1/playlists/{playlist}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Until cleared.
    let (status, _) = harness.call_json(Method::GET, &items, &token, None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let response = harness
        .send(
            Request::delete("/__control/faults")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = harness.call_json(Method::GET, &items, &token, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn status_without_cors_has_no_cors_headers() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    let response = harness.send(me_from_page(&token)).await;
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    add_fault(
        &harness,
        json!({"route": "*", "kind": "status_no_cors", "status": 429, "retry_after": 3600, "count": 1}),
    )
    .await;
    let response = harness.send(me_from_page(&token)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), Some("3600"));
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    assert_eq!(last_log_entry(&harness).await["fault"], "status_no_cors");
}

#[tokio::test(start_paused = true)]
async fn latency_delays_the_answer() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    add_fault(
        &harness,
        json!({"route": "/v1/me", "kind": "latency", "latency_ms": 5000, "count": 1}),
    )
    .await;
    let started = tokio::time::Instant::now();
    let response = harness.send(me_from_page(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(5000));
    assert_eq!(last_log_entry(&harness).await["fault"], "latency");
}

#[tokio::test(start_paused = true)]
async fn slow_body_trickles_the_same_bytes() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    let fast = json(harness.send(me_from_page(&token)).await).await;
    add_fault(
        &harness,
        json!({"route": "GET /v1/me", "kind": "slow_body", "latency_ms": 8000}),
    )
    .await;
    let started = tokio::time::Instant::now();
    let response = harness.send(me_from_page(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers_after = started.elapsed();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(headers_after < std::time::Duration::from_millis(1000));
    assert!(started.elapsed() >= std::time::Duration::from_millis(8000));
    let slow: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(slow, fast);
    assert_eq!(last_log_entry(&harness).await["fault"], "slow_body");
}

#[tokio::test]
async fn revoke_tokens_kills_access_and_refresh_tokens() {
    let harness = Harness::new();
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    harness.get_ok("/v1/me", &access).await;
    add_fault(
        &harness,
        json!({"route": "GET /v1/me", "kind": "revoke_tokens", "count": 1}),
    )
    .await;
    let (status, _) = harness
        .call_json(Method::GET, "/v1/me", &access, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(last_log_entry(&harness).await["fault"], "revoke_tokens");
    let response = harness.refresh(&refresh).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(response).await["error"], "invalid_grant");
}

#[tokio::test]
async fn bad_rules_are_refused() {
    let harness = Harness::new();
    for rule in [
        json!({"route": "*", "kind": "status"}),
        json!({"route": "*", "kind": "status", "status": 404}),
        json!({"route": "*", "kind": "latency"}),
        json!({"route": "*", "kind": "latency", "latency_ms": 3_600_000}),
        json!({"route": "*", "kind": "explode"}),
        json!({"route": "*", "kind": "drop", "count": 0}),
        json!({"route": "*", "kind": "drop", "colour": "red"}),
    ] {
        let response = harness.post_json("/__control/faults", rule.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{rule}");
    }
    for change in [
        json!({"enabled": true}),
        json!({"enabled": true, "max_requests": 0}),
        json!({"enabled": true, "max_requests": 3, "window_secs": 0}),
    ] {
        let response = harness
            .post_json("/__control/rate_limit", change.clone())
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{change}");
    }
}

#[tokio::test]
async fn the_rate_limiter_rolls_a_window_per_token() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    let other = harness.token("chen.setlist", SCOPE);
    // Fix the clock: the limiter counts stand-in seconds.
    harness.stand_in.set_clock_offset(0);
    let response = harness
        .post_json(
            "/__control/rate_limit",
            json!({"enabled": true, "window_secs": 30, "max_requests": 3}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json(response).await,
        json!({"enabled": true, "window_secs": 30, "max_requests": 3})
    );
    let started = harness.stand_in.now();
    for _ in 0..3 {
        harness.get_ok("/v1/me", &token).await;
    }
    let response = harness.send(me_from_page(&token)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = header(&response, "retry-after")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After seconds");
    let elapsed = harness.stand_in.now() - started;
    assert!(
        (30 - elapsed - 1..=30 - elapsed).contains(&retry_after),
        "{retry_after} after {elapsed}s"
    );
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    assert_eq!(last_log_entry(&harness).await["fault"], "rate_limit");
    // Another token has its own window.
    harness.get_ok("/v1/me", &other).await;
    // Once the oldest request leaves the window, the next one is let through.
    harness.advance(retry_after).await;
    harness.get_ok("/v1/me", &token).await;
    // Off again: no limit.
    let response = harness
        .post_json("/__control/rate_limit", json!({"enabled": false}))
        .await;
    assert_eq!(json(response).await, json!({"enabled": false}));
    for _ in 0..5 {
        harness.get_ok("/v1/me", &token).await;
    }
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    add_fault(
        &harness,
        json!({"route": "GET /v1/me", "kind": "drop", "count": 1}),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = harness.app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request =
        format!("GET /v1/me HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut received),
    )
    .await
    .expect("the connection is closed, not left hanging");
    // Closed (or reset) with not a byte of a response.
    assert!(
        read.is_err() || received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(last_log_entry(&harness).await["fault"], "drop");

    // The rule is used up: a new connection gets an answer.
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /v1/me HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    server.abort();
}

#[tokio::test]
async fn drop_after_applies_the_write_then_withholds_the_answer() {
    let harness = Harness::new();
    let token = harness.token(
        "alice.setlist",
        "playlist-read-private playlist-modify-private playlist-modify-public",
    );
    let (status, created) = harness
        .call_json(
            Method::POST,
            "/v1/me/playlists",
            &token,
            Some(json!({"name": "drop_after", "public": false})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_owned();
    add_fault(
        &harness,
        json!({"route": "POST /v1/playlists/{id}/items", "kind": "drop_after", "count": 1}),
    )
    .await;
    let found = harness
        .get_ok("/v1/search?q=love&type=track&limit=1", &token)
        .await;
    let uri = found["tracks"]["items"][0]["uri"].as_str().unwrap();
    let response = harness
        .call(
            Method::POST,
            &format!("/v1/playlists/{id}/items"),
            &token,
            Some(json!({"uris": [uri]})),
        )
        .await;
    // The body fails: over a real connection the client sees it closed without an answer.
    assert!(response.into_body().collect().await.is_err());
    assert_eq!(last_log_entry(&harness).await["fault"], "drop_after");
    // ...yet the write happened.
    assert_eq!(harness.uris(&id, &token).await, vec![uri.to_owned()]);
}
