//! Drives a stand-in in process with `oneshot`: no sockets.
#![allow(dead_code, unreachable_pub)] // each test binary uses its own subset

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::Value;
use setlist_stand_in::{app, Options, StandIn};
use sha2::{Digest, Sha256};
use tower::ServiceExt as _;
use url::Url;

pub const CLIENT_ID: &str = "setlist-dev";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/callback";
pub const STATE: &str = "st4te-Value_1";
pub const SCOPE: &str =
    "playlist-read-private playlist-modify-private user-read-private user-read-email";

pub struct Harness {
    pub stand_in: StandIn,
    pub app: Router,
}

/// What the app holds after a successful consent: the code from the redirect and its PKCE verifier.
pub struct Authorized {
    pub code: String,
    pub verifier: String,
}

impl Harness {
    /// Default options with the control API on.
    pub fn new() -> Self {
        Self::with(Options {
            control: true,
            ..Options::default()
        })
    }

    pub fn with(options: Options) -> Self {
        let stand_in = StandIn::new(options);
        Self {
            app: app(stand_in.clone()),
            stand_in,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.app
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible")
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_with_token(&self, uri: &str, token: &str) -> Response<Body> {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty());
        self.send(request.unwrap()).await
    }

    pub async fn post_form(&self, uri: &str, pairs: &[(&str, &str)]) -> Response<Body> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    pub async fn post_json(&self, uri: &str, value: Value) -> Response<Body> {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(value.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// `GET /authorize` with the given query pairs.
    pub async fn authorize(&self, pairs: &[(&str, &str)]) -> Response<Body> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.get(&format!("/authorize?{query}")).await
    }

    /// A valid `/authorize` request for `scope`; answers the consent page's HTML and the verifier.
    pub async fn consent_page(&self, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let response = self.authorize(&valid_authorize(&challenge, scope)).await;
        assert_eq!(response.status(), StatusCode::OK);
        (text(response).await, verifier)
    }

    /// Agrees on the consent page as `user` and returns the code from the redirect.
    pub async fn sign_in_as(&self, user: &str, scope: &str) -> Authorized {
        let (page, verifier) = self.consent_page(scope).await;
        let response = self
            .post_form(
                "/authorize/decision",
                &[
                    ("request_id", &request_id(&page)),
                    ("user", user),
                    ("action", "agree"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let query = location_query(&response);
        assert_eq!(query.get("state").map(String::as_str), Some(STATE));
        Authorized {
            code: query["code"].clone(),
            verifier,
        }
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> Response<Body> {
        self.post_form(
            "/api/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", CLIENT_ID),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response<Body> {
        self.post_form(
            "/api/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", CLIENT_ID),
            ],
        )
        .await
    }

    /// A full sign-in through the consent page; answers the token response body.
    pub async fn tokens_for(&self, user: &str, scope: &str) -> Value {
        let authorized = self.sign_in_as(user, scope).await;
        let response = self.exchange(&authorized.code, &authorized.verifier).await;
        assert_eq!(response.status(), StatusCode::OK);
        json(response).await
    }

    /// Moves the stand-in's clock forward through the control API.
    pub async fn advance(&self, secs: i64) {
        let response = self
            .post_json(
                "/__control/clock",
                serde_json::json!({ "advance_secs": secs }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    pub async fn set_config(&self, config: Value) {
        let response = self.post_json("/__control/config", config).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

pub fn valid_authorize<'a>(challenge: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("code_challenge_method", "S256"),
        ("code_challenge", challenge),
        ("state", STATE),
        ("scope", scope),
    ]
}

/// A fresh verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn request_id(page: &str) -> String {
    let marker = r#"name="request_id" value=""#;
    let start = page.find(marker).expect("consent page has a request id") + marker.len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_owned()
}

pub async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub async fn json(response: Response<Body>) -> Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
}

pub fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// The redirect target, checked to be the registered redirect URI.
pub fn location_query(response: &Response<Body>) -> HashMap<String, String> {
    let location = header(response, "location").expect("a Location header");
    let url = Url::parse(location).unwrap();
    assert_eq!(&url[..url::Position::AfterPath], REDIRECT_URI);
    url.query_pairs().into_owned().collect()
}

/// Asserts an accounts-service error.
pub async fn assert_accounts_error(
    response: Response<Body>,
    status: StatusCode,
    error: &str,
    description: &str,
) {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

/// Asserts a Web API error.
pub async fn assert_api_error(response: Response<Body>, status: StatusCode, message: &str) {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(
        body,
        serde_json::json!({ "error": { "status": status.as_u16(), "message": message } })
    );
}

/// Every scope the playlist routes use.
pub const PLAYLIST_SCOPES: &str = "playlist-read-private playlist-read-collaborative playlist-modify-public playlist-modify-private";

/// The id of the seeded playlist called `name`.
pub fn seeded(name: &str) -> &'static str {
    setlist_stand_in::SEEDED_PLAYLISTS
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no seeded playlist {name:?}"))
        .id
}

impl Harness {
    /// An access token for `user` with `scope`, minted without the consent page.
    pub fn token(&self, user: &str, scope: &str) -> String {
        self.stand_in
            .mint_tokens(user, scope)
            .expect("seeded user")
            .access_token
    }

    /// A Web API call with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: axum::http::Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response<Body> {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8090")
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match body {
            Some(value) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    /// [`Harness::call`], answering the status and the body as JSON (`null` for an empty body).
    pub async fn call_json(
        &self,
        method: axum::http::Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.call(method, uri, token, body).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        (status, value)
    }

    /// `GET` as `token`, asserting 200; the body.
    pub async fn get_ok(&self, uri: &str, token: &str) -> Value {
        let (status, body) = self
            .call_json(axum::http::Method::GET, uri, token, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        body
    }

    /// The URIs of a playlist's entries, in order (owner's view).
    pub async fn uris(&self, playlist: &str, token: &str) -> Vec<String> {
        let mut uris = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .get_ok(
                    &format!("/v1/playlists/{playlist}/items?limit=50&offset={offset}&fields=total,items(item(uri))"),
                    token,
                )
                .await;
            let items = page["items"].as_array().unwrap();
            uris.extend(
                items
                    .iter()
                    .map(|e| e["item"]["uri"].as_str().unwrap().to_owned()),
            );
            offset += 50;
            if offset >= page["total"].as_u64().unwrap() as usize {
                return uris;
            }
        }
    }
}
