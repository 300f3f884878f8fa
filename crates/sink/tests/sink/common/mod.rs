//! Shared by the file-store tests (`endpoint.rs`) and the live Secrets Manager tests (`moto.rs`): a fake Spotify
//! `/v1/me`, a harness around `app(state)` driven with `oneshot`, and the cases both stores must pass.
#![allow(unreachable_pub)]

pub mod cases;
pub mod moto;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use setlist_sink::{app, sha256_hex, Config, ManualClock, Policy, SecretStore, SinkState, Snapshot};
use tower::ServiceExt as _;

/// The harness clock's start: 2027-01-15, far from any real token's life.
pub const NOW: u64 = 1_800_000_000;
pub const ALICE: &str = "alice.setlist";
pub const BRUNO: &str = "bruno.setlist";
/// Known to Spotify but not on the sink's allow-list.
pub const CHEN: &str = "chen.setlist";

/// Serves `router` on a free loopback port; returns `http://127.0.0.1:PORT`. The server lives as long as the
/// test's runtime.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// How the fake Spotify answers `/v1/me`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// 503 for every request.
    Down,
    /// 429 with this Retry-After.
    RateLimited(u64),
}

/// `GET /v1/me` for tokens shaped `at:USER:ANYTHING` (answers `{"id": USER}`); `revoked:*` tokens get Spotify's
/// 401. Counts requests.
#[derive(Clone)]
pub struct FakeSpotify {
    pub api_base: String,
    calls: Arc<AtomicUsize>,
    mode: Arc<AtomicU64>,
}

impl FakeSpotify {
    pub async fn start() -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(AtomicU64::new(0));
        let router = Router::new()
            .route("/v1/me", get(fake_me))
            .with_state((Arc::clone(&calls), Arc::clone(&mode)));
        Self {
            api_base: format!("{}/v1", serve(router).await),
            calls,
            mode,
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn set_mode(&self, mode: Mode) {
        let encoded = match mode {
            Mode::Normal => 0,
            Mode::Down => 1,
            Mode::RateLimited(secs) => 2 + secs,
        };
        self.mode.store(encoded, Ordering::SeqCst);
    }
}

async fn fake_me(
    State((calls, mode)): State<(Arc<AtomicUsize>, Arc<AtomicU64>)>,
    headers: HeaderMap,
) -> Response {
    calls.fetch_add(1, Ordering::SeqCst);
    let spotify_error = |status: StatusCode, message: &str| {
        (
            status,
            Json(json!({ "error": { "status": status.as_u16(), "message": message } })),
        )
    };
    match mode.load(Ordering::SeqCst) {
        0 => {}
        1 => {
            return spotify_error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
                .into_response()
        }
        n => {
            let mut response =
                spotify_error(StatusCode::TOO_MANY_REQUESTS, "API rate limit exceeded")
                    .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, (n - 2).into());
            return response;
        }
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let mut parts = token.split(':');
    match (parts.next(), parts.next()) {
        (Some("at"), Some(user)) if !user.is_empty() => {
            Json(json!({ "id": user, "display_name": user, "type": "user" })).into_response()
        }
        (Some("revoked"), _) => {
            spotify_error(StatusCode::UNAUTHORIZED, "The access token expired").into_response()
        }
        _ => spotify_error(StatusCode::UNAUTHORIZED, "Invalid access token").into_response(),
    }
}

/// One push's fields, in the shape the app sends.
#[derive(Debug, Clone)]
pub struct Push {
    pub access_token: String,
    pub expires_at: u64,
    pub refresh_token: String,
    pub scope: String,
    pub authorized_at: u64,
    /// The refresh token that was used (hashed on the way out); `None` after a sign-in.
    pub prev_refresh_token: Option<String>,
}

impl Push {
    /// A sign-in by `user` at `at`: access token `at:USER:TAG`, refresh token `rt.TAG`, an hour of life.
    pub fn sign_in(user: &str, tag: &str, at: u64) -> Self {
        Self {
            access_token: format!("at:{user}:{tag}"),
            expires_at: at + 3600,
            refresh_token: format!("rt.{tag}"),
            scope: "playlist-read-private user-read-private".to_owned(),
            authorized_at: at,
            prev_refresh_token: None,
        }
    }

    /// What the app pushes after using this push's refresh token at `at`: a new access token, and a new refresh
    /// token `rt.TAG` when `rotated_tag` is given.
    pub fn refreshed(&self, user: &str, tag: &str, at: u64, rotated: bool) -> Self {
        Self {
            access_token: format!("at:{user}:{tag}"),
            expires_at: at + 3600,
            refresh_token: if rotated {
                format!("rt.{tag}")
            } else {
                self.refresh_token.clone()
            },
            scope: self.scope.clone(),
            authorized_at: self.authorized_at,
            prev_refresh_token: Some(self.refresh_token.clone()),
        }
    }

    pub fn json(&self) -> String {
        json!({
            "access_token": self.access_token,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
            "authorized_at": self.authorized_at,
            "prev_refresh_sha256": self.prev_refresh_token.as_ref().map(|rt| sha256_hex(rt.as_bytes())),
        })
        .to_string()
    }

    pub fn rt_sha256(&self) -> String {
        sha256_hex(self.refresh_token.as_bytes())
    }
}

/// A well-formed push request: JSON content type and a matching payload hash.
pub fn signed(body: impl Into<Vec<u8>>) -> Request<Body> {
    let body = body.into();
    Request::post("/api/tokens")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-amz-content-sha256", sha256_hex(&body))
        .body(Body::from(body))
        .expect("request")
}

/// Sends one request through `app` with `oneshot` and reads the answer whole.
pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("infallible router");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    pub fn status_field(&self) -> &str {
        self.json["status"].as_str().unwrap_or("")
    }

    pub fn generation(&self) -> u64 {
        self.json["generation"].as_u64().unwrap_or(u64::MAX)
    }
}

/// `app(state)` over a store, with a fake Spotify and a manual clock at [`NOW`]; alice and bruno may push, each
/// with the default write budget.
pub struct Harness {
    pub state: SinkState,
    pub app: Router,
    pub spotify: FakeSpotify,
    pub clock: Arc<ManualClock>,
    /// Counts every version the store holds, when the store can tell (Secrets Manager).
    pub versions: Option<moto::VersionCounter>,
}

impl Harness {
    pub async fn new(store: Arc<dyn SecretStore>) -> Self {
        let spotify = FakeSpotify::start().await;
        let api_base = spotify.api_base.clone();
        Self::with_api(store, spotify, &api_base, &[ALICE, BRUNO])
    }

    pub fn with_api(
        store: Arc<dyn SecretStore>,
        spotify: FakeSpotify,
        api_base: &str,
        allow: &[&str],
    ) -> Self {
        let clock = Arc::new(ManualClock::new(NOW));
        let config = Config {
            api_base: api_base.to_owned(),
            allow: allow.iter().map(|user| (*user).to_owned()).collect(),
            policy: Policy::default(),
        };
        let state = SinkState::new(config, store, Arc::clone(&clock) as _);
        Self {
            app: app(state.clone()),
            state,
            spotify,
            clock,
            versions: None,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        send(&self.app, request).await
    }

    pub async fn push(&self, push: &Push) -> Answer {
        self.send(signed(push.json())).await
    }

    /// Alice's record.
    pub async fn snapshot(&self) -> Snapshot {
        self.snapshot_of(ALICE).await
    }

    pub async fn snapshot_of(&self, user: &str) -> Snapshot {
        self.state.store().read(user).await.expect("store read")
    }

    /// How many versions Alice's secret has, when the store can tell.
    pub async fn version_count(&self) -> Option<usize> {
        self.version_count_of(ALICE).await
    }

    pub async fn version_count_of(&self, user: &str) -> Option<usize> {
        match &self.versions {
            Some(counter) => Some(counter.count(user).await),
            None => None,
        }
    }
}
