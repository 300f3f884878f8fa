//! The accounts service: `/authorize`, the consent page and `/api/token`.



use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use crate::common::*;
use serde_json::json;
use setlist_stand_in::{Options, SEEDED_USERS};

#[tokio::test]
async fn sign_in_happy_path_ends_at_v1_me() {
    let harness = Harness::new();
    let (page, verifier) = harness.consent_page(SCOPE).await;
    for user in SEEDED_USERS {
        assert!(
            page.contains(&format!(r#"data-testid="consent-user-{}""#, user.id)),
            "{page}"
        );
        assert!(page.contains(user.display_name));
    }
    assert!(
        page.contains(r#"data-testid="consent-user-alice.setlist" checked"#),
        "first user preselected"
    );
    assert!(page.contains(r#"data-testid="consent-agree""#));
    assert!(page.contains(r#"data-testid="consent-cancel""#));
    assert!(page.contains(CLIENT_ID));
    assert!(page.contains(r#"data-scope="playlist-modify-private""#));
    assert!(!page.contains(STATE), "the state stays server-side");

    let decision = harness
        .post_form(
            "/authorize/decision",
            &[
                ("request_id", &request_id(&page)),
                ("user", "bruno.setlist"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(decision.status(), StatusCode::FOUND);
    let query = location_query(&decision);
    assert_eq!(query["state"], STATE);
    assert_eq!(query.len(), 2, "{query:?}");

    let response = harness.exchange(&query["code"], &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let tokens = json(response).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], SCOPE);
    let access = tokens["access_token"].as_str().unwrap();
    assert!(access.len() >= 43);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 43);

    let me = harness.get_with_token("/v1/me", access).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me = json(me).await;
    assert_eq!(me["id"], "bruno.setlist");
    assert_eq!(me["display_name"], "Bruno Okafor");
}

#[tokio::test]
async fn unknown_client_gets_an_error_page_never_a_redirect() {
    let harness = Harness::new();
    let (_, challenge) = pkce();
    for client in ["someone-else", ""] {
        let mut params = valid_authorize(&challenge, SCOPE);
        params[0] = ("client_id", client);
        let response = harness.authorize(&params).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::LOCATION).is_none());
        assert!(header(&response, "content-type")
            .unwrap()
            .starts_with("text/html"));
        assert!(text(response)
            .await
            .contains("INVALID_CLIENT: Invalid client"));
    }
    let response = harness.get("/authorize").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(text(response)
        .await
        .contains("INVALID_CLIENT: Invalid client"));
}

#[tokio::test]
async fn redirect_uri_must_match_exactly() {
    let harness = Harness::new();
    let (_, challenge) = pkce();
    for uri in [
        "http://localhost:8080/callback",
        "http://127.0.0.1:8080/callback/",
        "http://127.0.0.1:8080/Callback",
        "http://127.0.0.1:8081/callback",
        "https://127.0.0.1:8080/callback",
        "http://127.0.0.1:8080/callback?x=1",
        "https://evil.example/callback",
    ] {
        let mut params = valid_authorize(&challenge, SCOPE);
        params[2] = ("redirect_uri", uri);
        let response = harness.authorize(&params).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(response.headers().get(header::LOCATION).is_none(), "{uri}");
        assert!(
            text(response)
                .await
                .contains("INVALID_CLIENT: Invalid redirect URI"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn any_registered_redirect_uri_works() {
    let second = "http://127.0.0.1:3000/cb";
    let harness = Harness::with(Options {
        redirect_uris: vec![REDIRECT_URI.to_owned(), second.to_owned()],
        ..Options::default()
    });
    let (_, challenge) = pkce();
    let mut params = valid_authorize(&challenge, SCOPE);
    params[2] = ("redirect_uri", second);
    assert_eq!(harness.authorize(&params).await.status(), StatusCode::OK);
}

async fn authorize_error(
    replace: (&str, Option<&str>),
) -> std::collections::HashMap<String, String> {
    let harness = Harness::new();
    let (_, challenge) = pkce();
    let mut params: Vec<(&str, &str)> = valid_authorize(&challenge, SCOPE)
        .into_iter()
        .filter(|(name, _)| *name != replace.0)
        .collect();
    if let Some(value) = replace.1 {
        params.push((replace.0, value));
    }
    let response = harness.authorize(&params).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{replace:?}");
    let query = location_query(&response);
    assert!(!query.contains_key("code"));
    query
}

#[tokio::test]
async fn wrong_response_type_redirects_with_unsupported_response_type() {
    for value in [Some("token"), None] {
        let query = authorize_error(("response_type", value)).await;
        assert_eq!(query["error"], "unsupported_response_type");
        assert_eq!(query["state"], STATE);
    }
}

#[tokio::test]
async fn missing_or_weak_pkce_redirects_with_invalid_request() {
    let cases = [
        ("code_challenge", None),
        ("code_challenge", Some("too-short")),
        (
            "code_challenge",
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
        ),
        ("code_challenge_method", None),
        ("code_challenge_method", Some("plain")),
        ("code_challenge_method", Some("s256")),
    ];
    for case in cases {
        let query = authorize_error(case).await;
        assert_eq!(query["error"], "invalid_request", "{case:?}");
        assert_eq!(query["state"], STATE);
    }
}

#[tokio::test]
async fn unknown_scope_redirects_with_invalid_scope() {
    let query =
        authorize_error(("scope", Some("playlist-read-private playlists-everything"))).await;
    assert_eq!(query["error"], "invalid_scope");
    assert_eq!(query["state"], STATE);
}

#[tokio::test]
async fn no_state_means_no_state_in_the_redirect() {
    let harness = Harness::new();
    let (_, challenge) = pkce();
    let params: Vec<_> = valid_authorize(&challenge, SCOPE)
        .into_iter()
        .filter(|(name, _)| *name != "state")
        .map(|(name, value)| {
            if name == "response_type" {
                (name, "token")
            } else {
                (name, value)
            }
        })
        .collect();
    let response = harness.authorize(&params).await;
    let query = location_query(&response);
    assert_eq!(query["error"], "unsupported_response_type");
    assert!(!query.contains_key("state"));
}

#[tokio::test]
async fn cancel_redirects_with_access_denied() {
    let harness = Harness::new();
    let (page, _) = harness.consent_page(SCOPE).await;
    let response = harness
        .post_form(
            "/authorize/decision",
            &[
                ("request_id", &request_id(&page)),
                ("user", "alice.setlist"),
                ("action", "cancel"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let query = location_query(&response);
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], STATE);
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn a_consent_answers_once() {
    let harness = Harness::new();
    let (page, _) = harness.consent_page(SCOPE).await;
    let form = [
        ("request_id", request_id(&page)),
        ("user", "alice.setlist".into()),
        ("action", "agree".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        harness
            .post_form("/authorize/decision", &form)
            .await
            .status(),
        StatusCode::FOUND
    );
    let again = harness.post_form("/authorize/decision", &form).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.headers().get(header::LOCATION).is_none());
}

#[tokio::test]
async fn bad_decisions_get_an_error_page() {
    let harness = Harness::new();
    for form in [
        vec![],
        vec![
            ("request_id", "made-up"),
            ("user", "alice.setlist"),
            ("action", "agree"),
        ],
    ] {
        let response = harness.post_form("/authorize/decision", &form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::LOCATION).is_none());
    }
    // An unknown user or action keeps the request open so the person can go back and answer properly.
    let (page, _) = harness.consent_page(SCOPE).await;
    let id = request_id(&page);
    let unknown_user = harness
        .post_form(
            "/authorize/decision",
            &[
                ("request_id", &id),
                ("user", "mallory"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(unknown_user.status(), StatusCode::BAD_REQUEST);
    let no_action = harness
        .post_form(
            "/authorize/decision",
            &[("request_id", &id), ("user", "chen.setlist")],
        )
        .await;
    assert_eq!(no_action.status(), StatusCode::BAD_REQUEST);
    let agree = harness
        .post_form(
            "/authorize/decision",
            &[
                ("request_id", &id),
                ("user", "chen.setlist"),
                ("action", "agree"),
            ],
        )
        .await;
    assert_eq!(agree.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn consent_page_is_not_cached_or_framed() {
    let harness = Harness::new();
    let (_, challenge) = pkce();
    let response = harness.authorize(&valid_authorize(&challenge, SCOPE)).await;
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn a_code_works_once() {
    let harness = Harness::new();
    let authorized = harness.sign_in_as("alice.setlist", SCOPE).await;
    assert_eq!(
        harness
            .exchange(&authorized.code, &authorized.verifier)
            .await
            .status(),
        StatusCode::OK
    );
    let again = harness
        .exchange(&authorized.code, &authorized.verifier)
        .await;
    assert_accounts_error(
        again,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid authorization code",
    )
    .await;
}

#[tokio::test]
async fn wrong_verifier_is_refused_and_spends_the_code() {
    let harness = Harness::new();
    let authorized = harness.sign_in_as("alice.setlist", SCOPE).await;
    let (other_verifier, _) = pkce();
    let response = harness.exchange(&authorized.code, &other_verifier).await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "code_verifier was incorrect",
    )
    .await;
    let retry = harness
        .exchange(&authorized.code, &authorized.verifier)
        .await;
    assert_accounts_error(
        retry,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid authorization code",
    )
    .await;
}

#[tokio::test]
async fn code_expires_after_ten_minutes() {
    let harness = Harness::new();
    let fresh = harness.sign_in_as("alice.setlist", SCOPE).await;
    let stale = harness.sign_in_as("alice.setlist", SCOPE).await;
    harness.advance(9 * 60).await;
    assert_eq!(
        harness
            .exchange(&fresh.code, &fresh.verifier)
            .await
            .status(),
        StatusCode::OK
    );
    harness.advance(61).await;
    let response = harness.exchange(&stale.code, &stale.verifier).await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Authorization code expired",
    )
    .await;
}

#[tokio::test]
async fn exchange_needs_the_same_redirect_uri_and_client() {
    let harness = Harness::new();
    let authorized = harness.sign_in_as("alice.setlist", SCOPE).await;
    let response = harness
        .post_form(
            "/api/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &authorized.code),
                ("redirect_uri", "http://127.0.0.1:8080/other"),
                ("client_id", CLIENT_ID),
                ("code_verifier", &authorized.verifier),
            ],
        )
        .await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid redirect URI",
    )
    .await;

    let authorized = harness.sign_in_as("alice.setlist", SCOPE).await;
    let response = harness
        .post_form(
            "/api/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &authorized.code),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", "someone-else"),
                ("code_verifier", &authorized.verifier),
            ],
        )
        .await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "Invalid client",
    )
    .await;
}

#[tokio::test]
async fn exchange_requires_every_parameter() {
    let harness = Harness::new();
    let full = [
        ("grant_type", "authorization_code"),
        ("code", "some-code"),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", CLIENT_ID),
        ("code_verifier", "some-verifier"),
    ];
    for missing in ["code", "redirect_uri", "client_id", "code_verifier"] {
        let form: Vec<_> = full
            .iter()
            .copied()
            .filter(|(name, _)| *name != missing)
            .collect();
        let response = harness.post_form("/api/token", &form).await;
        let description = format!("{missing} parameter is missing");
        assert_accounts_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &description,
        )
        .await;
    }
    let response = harness.post_form("/api/token", &full).await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid authorization code",
    )
    .await;
}

#[tokio::test]
async fn token_endpoint_wants_a_form() {
    let harness = Harness::new();
    let authorized = harness.sign_in_as("alice.setlist", SCOPE).await;
    let body = json!({
        "grant_type": "authorization_code",
        "code": authorized.code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "code_verifier": authorized.verifier,
    });
    let response = harness.post_json("/api/token", body).await;
    let description = "Content-Type must be application/x-www-form-urlencoded";
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
    )
    .await;
    let no_type = Request::post("/api/token")
        .body(Body::from("grant_type=refresh_token"))
        .unwrap();
    let response = harness.send(no_type).await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
    )
    .await;
    // The code was not spent by the malformed request, and a charset parameter is fine.
    let with_charset = Request::post("/api/token")
        .header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(Body::from(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "authorization_code")
                .append_pair("code", &authorized.code)
                .append_pair("redirect_uri", REDIRECT_URI)
                .append_pair("client_id", CLIENT_ID)
                .append_pair("code_verifier", &authorized.verifier)
                .finish(),
        ))
        .unwrap();
    assert_eq!(harness.send(with_charset).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_or_missing_grant_type() {
    let harness = Harness::new();
    let response = harness
        .post_form(
            "/api/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
            ],
        )
        .await;
    let description = "grant_type must be authorization_code or refresh_token";
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        description,
    )
    .await;
    let response = harness
        .post_form("/api/token", &[("client_id", CLIENT_ID)])
        .await;
    let description = "grant_type parameter is missing";
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        description,
    )
    .await;
    let garbage = Request::post("/api/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(vec![0xff, 0xfe, b'=', b'%', b'&']))
        .unwrap();
    assert_eq!(
        harness.send(garbage).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn refresh_without_rotation_keeps_the_old_token() {
    let harness = Harness::new();
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    for _ in 0..2 {
        let response = harness.refresh(refresh_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = json(response).await;
        assert!(body.get("refresh_token").is_none(), "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], SCOPE);
        assert_ne!(body["access_token"], tokens["access_token"]);
        let me = harness
            .get_with_token("/v1/me", body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn refresh_with_rotation_revokes_the_old_token() {
    let harness = Harness::new();
    harness
        .set_config(json!({ "rotate_refresh_tokens": true }))
        .await;
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    let first = tokens["refresh_token"].as_str().unwrap();

    let response = harness.refresh(first).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    let second = body["refresh_token"]
        .as_str()
        .expect("a rotated refresh token");
    assert_ne!(second, first);

    let reused = harness.refresh(first).await;
    assert_accounts_error(
        reused,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid refresh token",
    )
    .await;
    assert_eq!(harness.refresh(second).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn rotation_can_be_set_at_startup() {
    let harness = Harness::with(Options {
        rotate_refresh_tokens: true,
        control: true,
        ..Options::default()
    });
    let tokens = harness.tokens_for("chen.setlist", "").await;
    let body = json(
        harness
            .refresh(tokens["refresh_token"].as_str().unwrap())
            .await,
    )
    .await;
    assert!(body["refresh_token"].is_string(), "{body}");
    assert_eq!(body["scope"], "");
}

#[tokio::test]
async fn refresh_token_expires_183_days_after_sign_in_even_when_used() {
    let harness = Harness::new();
    for rotate in [false, true] {
        harness
            .set_config(json!({ "rotate_refresh_tokens": rotate }))
            .await;
        harness
            .post_json("/__control/clock", json!({ "offset_secs": 0 }))
            .await;
        let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
        let mut refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

        harness.advance(182 * 86_400).await;
        let body = json(harness.refresh(&refresh_token).await).await;
        assert!(body["access_token"].is_string(), "{body}");
        if let Some(rotated) = body["refresh_token"].as_str() {
            refresh_token = rotated.to_owned();
        }

        harness.advance(86_400).await;
        let response = harness.refresh(&refresh_token).await;
        assert_accounts_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Refresh token expired",
        )
        .await;
    }
}

#[tokio::test]
async fn unknown_refresh_token_and_bad_refresh_requests() {
    let harness = Harness::new();
    let response = harness.refresh("not-a-token").await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid refresh token",
    )
    .await;

    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let response = harness
        .post_form(
            "/api/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", "x"),
            ],
        )
        .await;
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "Invalid client",
    )
    .await;
    let response = harness
        .post_form(
            "/api/token",
            &[("grant_type", "refresh_token"), ("client_id", CLIENT_ID)],
        )
        .await;
    let description = "refresh_token parameter is missing";
    assert_accounts_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
    )
    .await;
}

#[tokio::test]
async fn access_token_lifetime_is_configurable() {
    let harness = Harness::with(Options {
        access_token_lifetime_secs: 120,
        control: true,
        ..Options::default()
    });
    let tokens = harness.tokens_for("alice.setlist", SCOPE).await;
    assert_eq!(tokens["expires_in"], 120);
    harness
        .set_config(json!({ "access_token_lifetime_secs": 30 }))
        .await;
    let body = json(
        harness
            .refresh(tokens["refresh_token"].as_str().unwrap())
            .await,
    )
    .await;
    assert_eq!(body["expires_in"], 30);
}
