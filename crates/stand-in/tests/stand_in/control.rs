//! The `/__control/` API: mounted only on request, and the request log it exposes.



use axum::body::Body;
use axum::http::{Request, StatusCode};
use crate::common::*;
use serde_json::json;
use setlist_stand_in::Options;

#[tokio::test]
async fn control_api_is_absent_unless_enabled() {
    let harness = Harness::with(Options::default());
    for path in [
        "/__control/health",
        "/__control/log",
        "/__control/state",
        "/__control/config",
        "/__control/clock",
    ] {
        assert_eq!(
            harness.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        "/__control/log/reset",
        "/__control/clock",
        "/__control/config",
        "/__control/tokens",
    ] {
        let response = harness
            .post_json(
                path,
                json!({ "offset_secs": 1_000_000, "user_id": "alice.setlist" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn health_says_ok() {
    let harness = Harness::new();
    let response = harness.get("/__control/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "ok");
}

#[tokio::test]
async fn log_records_routes_and_counts_without_queries_or_secrets() {
    let harness = Harness::new();
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    harness.get_with_token("/v1/me", access).await;
    harness.get_with_token("/v1/me?market=GB", access).await;
    harness.get("/v1/nope?token=abc").await;
    harness.refresh(refresh).await;
    harness.get("/__control/state").await;

    let response = harness.get("/__control/log").await;
    assert_eq!(response.status(), StatusCode::OK);
    let raw = text(response).await;
    assert!(!raw.contains('?'), "a query string leaked: {raw}");
    assert!(
        !raw.contains(access) && !raw.contains(refresh),
        "a token leaked"
    );
    assert!(
        !raw.contains("__control"),
        "control requests are not logged: {raw}"
    );
    let log: serde_json::Value = serde_json::from_str(&raw).unwrap();

    let counts = &log["counts"];
    assert_eq!(counts["GET /authorize"], 1, "{counts}");
    assert_eq!(counts["POST /authorize/decision"], 1, "{counts}");
    assert_eq!(counts["POST /api/token"], 2, "{counts}");
    assert_eq!(counts["GET /v1/me"], 2, "{counts}");
    assert_eq!(counts["GET /v1/nope"], 1, "{counts}");

    let requests = log["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 7);
    let me = &requests[3];
    assert_eq!(me["method"], "GET");
    assert_eq!(me["path"], "/v1/me");
    assert_eq!(me["route"], "/v1/me");
    assert_eq!(me["status"], 200);
    assert!(me["at"].is_i64());
    let unknown = &requests[5];
    assert_eq!(unknown["path"], "/v1/nope");
    assert_eq!(unknown["route"], serde_json::Value::Null);
    assert_eq!(unknown["status"], 404);
    let authorize = &requests[0];
    assert_eq!(authorize["path"], "/authorize");
    assert_eq!(authorize["route"], "/authorize");
}

#[tokio::test]
async fn log_reset_empties_it() {
    let harness = Harness::new();
    harness.get("/v1/me").await;
    let response = harness
        .send(
            Request::post("/__control/log/reset")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(response.status().is_success());
    let log = json(harness.get("/__control/log").await).await;
    assert_eq!(log, json!({ "requests": [], "counts": {} }));
    harness.get("/v1/me").await;
    let log = json(harness.get("/__control/log").await).await;
    assert_eq!(log["counts"], json!({ "GET /v1/me": 1 }));
    assert_eq!(log["requests"][0]["status"], 401);
}

#[tokio::test]
async fn clock_moves_by_offset_or_advance() {
    let harness = Harness::new();
    let start = json(harness.get("/__control/clock").await).await;
    assert_eq!(start["offset_secs"], 0);
    let set = json(
        harness
            .post_json("/__control/clock", json!({ "offset_secs": 600 }))
            .await,
    )
    .await;
    assert_eq!(set["offset_secs"], 600);
    let advanced = json(
        harness
            .post_json("/__control/clock", json!({ "advance_secs": -100 }))
            .await,
    )
    .await;
    assert_eq!(advanced["offset_secs"], 500);
    let now = advanced["now"].as_i64().unwrap();
    assert!((now - harness.stand_in.now()).abs() <= 1);
    for bad in [
        json!({}),
        json!({ "offset_secs": 1, "advance_secs": 1 }),
        json!({ "offset": 1 }),
        json!("x"),
    ] {
        let response = harness.post_json("/__control/clock", bad.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(json(response).await["error"].is_string());
    }
}

#[tokio::test]
async fn config_changes_only_what_is_given() {
    let harness = Harness::new();
    let config = json(harness.get("/__control/config").await).await;
    assert_eq!(
        config,
        json!({ "access_token_lifetime_secs": 3600, "rotate_refresh_tokens": false, "latency_ms": 0 })
    );
    let config = json(
        harness
            .post_json(
                "/__control/config",
                json!({ "rotate_refresh_tokens": true }),
            )
            .await,
    )
    .await;
    assert_eq!(
        config,
        json!({ "access_token_lifetime_secs": 3600, "rotate_refresh_tokens": true, "latency_ms": 0 })
    );
    let config = json(
        harness
            .post_json(
                "/__control/config",
                json!({ "access_token_lifetime_secs": 5 }),
            )
            .await,
    )
    .await;
    assert_eq!(
        config,
        json!({ "access_token_lifetime_secs": 5, "rotate_refresh_tokens": true, "latency_ms": 0 })
    );
    let config = json(
        harness
            .post_json("/__control/config", json!({ "latency_ms": 40 }))
            .await,
    )
    .await;
    assert_eq!(
        config,
        json!({ "access_token_lifetime_secs": 5, "rotate_refresh_tokens": true, "latency_ms": 40 })
    );
    for bad in [
        json!({ "rotate": true }),
        json!({ "access_token_lifetime_secs": -1 }),
        json!({ "latency_ms": -1 }),
        json!({ "latency_ms": 60_001 }),
    ] {
        assert_eq!(
            harness.post_json("/__control/config", bad).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
}

#[tokio::test]
async fn state_counts_live_tokens_without_showing_them() {
    let harness = Harness::new();
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    harness
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    let response = harness.get("/__control/state").await;
    let raw = text(response).await;
    assert!(!raw.contains(tokens["access_token"].as_str().unwrap()));
    assert!(!raw.contains(tokens["refresh_token"].as_str().unwrap()));
    let state: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(state["live_access_tokens"], 2);
    assert_eq!(state["live_refresh_tokens"], 1);
    assert_eq!(state["pending_codes"], 0);

    harness.advance(3600).await;
    let state = json(harness.get("/__control/state").await).await;
    assert_eq!(state["live_access_tokens"], 0);
    assert_eq!(state["live_refresh_tokens"], 1);
    harness.advance(183 * 86_400).await;
    let state = json(harness.get("/__control/state").await).await;
    assert_eq!(state["live_refresh_tokens"], 0);
}

#[tokio::test]
async fn tokens_can_be_minted_for_seeded_users() {
    let harness = Harness::new();
    let response = harness
        .post_json(
            "/__control/tokens",
            json!({ "user_id": "bruno.setlist", "scope": SCOPE }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens = json(response).await;
    assert_eq!(tokens["scope"], SCOPE);
    let me = json(
        harness
            .get_with_token("/v1/me", tokens["access_token"].as_str().unwrap())
            .await,
    )
    .await;
    assert_eq!(me["id"], "bruno.setlist");
    assert_eq!(
        harness
            .refresh(tokens["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let response = harness
        .post_json("/__control/tokens", json!({ "user_id": "mallory" }))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
