//! The `/v1` Web API: bearer authentication, `/v1/me`, Spotify's error shape and CORS.



use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use crate::common::*;

#[tokio::test]
async fn me_answers_the_private_user_object() {
    let harness = Harness::new();
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    let response = harness
        .get_with_token("/v1/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let me = json(response).await;
    assert_eq!(me["id"], "alice.setlist");
    assert_eq!(me["display_name"], "Alice Fenwick");
    assert_eq!(me["type"], "user");
    assert_eq!(me["uri"], "spotify:user:alice.setlist");
    assert_eq!(me["email"], "alice.fenwick@example.com");
    assert_eq!(me["country"], "GB");
    assert_eq!(me["product"], "premium");
    assert_eq!(me["followers"]["href"], serde_json::Value::Null);
    assert!(me["followers"]["total"].is_u64());
    assert_eq!(me["images"], serde_json::json!([]));
    assert_eq!(
        me["external_urls"]["spotify"],
        "https://open.spotify.com/user/alice.setlist"
    );
    assert!(me["href"]
        .as_str()
        .unwrap()
        .ends_with("/v1/users/alice.setlist"));
    assert!(me["account_id"].is_string());
}

#[tokio::test]
async fn me_href_points_at_this_host() {
    let harness = Harness::new();
    let token = harness
        .stand_in
        .mint_tokens("chen.setlist", "")
        .unwrap()
        .access_token;
    let request = Request::get("/v1/me")
        .header(header::HOST, "127.0.0.1:8090")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let me = json(harness.send(request).await).await;
    assert_eq!(me["href"], "http://127.0.0.1:8090/v1/users/chen.setlist");
}

#[tokio::test]
async fn private_fields_need_their_scopes() {
    let harness = Harness::new();
    let tokens = harness
        .tokens_for("chen.setlist", "playlist-read-private")
        .await;
    let me = json(
        harness
            .get_with_token("/v1/me", tokens["access_token"].as_str().unwrap())
            .await,
    )
    .await;
    assert_eq!(me["id"], "chen.setlist");
    for field in ["email", "country", "product", "explicit_content"] {
        assert!(me.get(field).is_none(), "{field} without its scope: {me}");
    }
}

#[tokio::test]
async fn missing_token_is_401() {
    let harness = Harness::new();
    let response = harness.get("/v1/me").await;
    assert_eq!(
        header(&response, "www-authenticate"),
        Some("Bearer realm=\"spotify\"")
    );
    assert_api_error(response, StatusCode::UNAUTHORIZED, "No token provided").await;
}

#[tokio::test]
async fn unknown_token_is_401() {
    let harness = Harness::new();
    let response = harness.get_with_token("/v1/me", "made-up-token").await;
    assert!(header(&response, "www-authenticate")
        .unwrap()
        .contains("invalid_token"));
    assert_api_error(response, StatusCode::UNAUTHORIZED, "Invalid access token").await;
}

#[tokio::test]
async fn expired_token_is_401() {
    let harness = Harness::new();
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    let token = tokens["access_token"].as_str().unwrap();
    harness.advance(3599).await;
    assert_eq!(
        harness.get_with_token("/v1/me", token).await.status(),
        StatusCode::OK
    );
    harness.advance(1).await;
    let response = harness.get_with_token("/v1/me", token).await;
    assert_api_error(
        response,
        StatusCode::UNAUTHORIZED,
        "The access token expired",
    )
    .await;
}

#[tokio::test]
async fn non_bearer_authorization_is_400() {
    let harness = Harness::new();
    for value in ["Basic c2V0bGlzdDpzZWNyZXQ=", "Bearer", "Bearer   ", "token"] {
        let request = Request::get("/v1/me")
            .header(header::AUTHORIZATION, value)
            .body(Body::empty())
            .unwrap();
        let response = harness.send(request).await;
        assert_api_error(
            response,
            StatusCode::BAD_REQUEST,
            "Only valid bearer authentication supported",
        )
        .await;
    }
}

#[tokio::test]
async fn unknown_routes_are_404_service_not_found() {
    let harness = Harness::new();
    for path in ["/v1/nope", "/v1/me/nothing-here", "/v1/users"] {
        let response = harness.get(path).await;
        assert_api_error(response, StatusCode::NOT_FOUND, "Service not found").await;
    }
    let response = harness
        .send(Request::delete("/v1/me").body(Body::empty()).unwrap())
        .await;
    assert_api_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
    )
    .await;
}

#[tokio::test]
async fn web_api_and_token_responses_allow_any_origin() {
    let harness = Harness::new();
    let token = harness
        .stand_in
        .mint_tokens("alice.setlist", SCOPE)
        .unwrap()
        .access_token;
    let cases = [
        Request::get("/v1/me").header(header::AUTHORIZATION, format!("Bearer {token}")),
        Request::get("/v1/me"),
        Request::get("/v1/nope"),
        Request::post("/api/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
    ];
    for request in cases {
        let request = request
            .header(header::ORIGIN, "http://127.0.0.1:8080")
            .body(Body::empty())
            .unwrap();
        let uri = request.uri().clone();
        let response = harness.send(request).await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some("*"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn preflights_are_answered() {
    let harness = Harness::new();
    for (path, method) in [
        ("/v1/me", "GET"),
        ("/api/token", "POST"),
        ("/v1/playlists/abc/items", "PUT"),
    ] {
        let request = Request::builder()
            .method(Method::OPTIONS)
            .uri(path)
            .header(header::ORIGIN, "http://127.0.0.1:8080")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap();
        let response = harness.send(request).await;
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            header(&response, "access-control-max-age"),
            Some("604800"),
            "{path}"
        );
        let methods = header(&response, "access-control-allow-methods")
            .unwrap()
            .to_ascii_uppercase();
        for expected in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] {
            assert!(methods.contains(expected), "{path}: {methods}");
        }
        let headers = header(&response, "access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        for expected in ["authorization", "content-type", "accept"] {
            assert!(headers.contains(expected), "{path}: {headers}");
        }
    }
}

#[tokio::test]
async fn authorize_is_not_a_cors_endpoint() {
    let harness = Harness::new();
    let request = Request::get("/authorize")
        .header(header::ORIGIN, "http://127.0.0.1:8080")
        .body(Body::empty())
        .unwrap();
    let response = harness.send(request).await;
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

/// One rule for every route (see the crate docs): a single trailing slash is ignored, as Spotify answers
/// `GET /v1/me/` (spotipy's request) like `GET /v1/me`.
#[tokio::test]
async fn a_trailing_slash_is_ignored_on_every_route() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    let plain = harness.get_ok("/v1/me", &token).await;
    assert_eq!(harness.get_ok("/v1/me/", &token).await, plain);
    let id = seeded("Sunday Slow");
    let items = format!("/v1/playlists/{id}/items?limit=2");
    assert_eq!(
        harness
            .get_ok(&format!("/v1/playlists/{id}/items/?limit=2"), &token)
            .await,
        harness.get_ok(&items, &token).await
    );
    assert_eq!(
        harness.get_ok("/v1/search/?q=a&type=track", &token).await,
        harness.get_ok("/v1/search?q=a&type=track", &token).await
    );
    // The accounts service follows the same rule.
    let (_, challenge) = pkce();
    let response = harness
        .get(&format!(
            "/authorize/?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(valid_authorize(&challenge, SCOPE))
                .finish()
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // Only one slash, and unknown routes stay unknown.
    for path in ["/v1/me//", "/v1/nope/"] {
        let response = harness.get_with_token(path, &token).await;
        assert_api_error(response, StatusCode::NOT_FOUND, "Service not found").await;
    }
    // The log keeps what was sent.
    let log = json(harness.get("/__control/log").await).await;
    let paths: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/v1/me/"), "{paths:?}");
}
