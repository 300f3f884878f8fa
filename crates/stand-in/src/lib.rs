//! An offline Spotify for Setlist's development runs and tests: the accounts service (`/authorize` consent page,
//! `/api/token`) and the Web API subset the app uses, with Spotify's error shapes and limits, plus an optional
//! control API (`/__control/...`) that tests use to read the request log, move the clock and change settings.
//!
//! The Web API serves a fixed, generated catalog (about 12,500 tracks with real-looking names) and the seeded
//! playlists in [`SEEDED_PLAYLISTS`]; album covers are small SVGs served from `/images/{id}.svg`, so nothing needs
//! the network.
//!
//! Everything lives in memory behind one [`StandIn`] handle; [`app`] turns it into an [`axum::Router`] that the
//! binary serves and tests drive with `tower::ServiceExt::oneshot`.
//!
//! Trailing slashes: Spotify answers `GET /v1/me/` as `GET /v1/me` (spotipy sends the first), and its own older
//! documentation wrote `https://accounts.spotify.com/authorize/?...`, so one rule holds for every route here: a
//! single trailing slash is ignored before routing (`/v1/playlists/{id}/items/` is `/v1/playlists/{id}/items`).
//! Two slashes are not trimmed, and `/` stays `/`. The request log keeps the path as it was sent.

mod accounts;
mod catalog;
mod clock;
mod control;
mod faults;
mod images;
mod log;
mod playlists;
mod state;
mod users;
mod web_api;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::{middleware, Router};
use serde::Serialize;
use tower_http::cors::{Any, CorsLayer};

pub use playlists::{SeedPlaylist, SEEDED_PLAYLISTS};
pub use users::{SeedUser, SEEDED_USERS};

/// How a stand-in is set up. [`Options::default`] matches `cargo xtask run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The one registered client (Setlist's app). Any other `client_id` is rejected as Spotify does.
    pub client_id: String,
    /// Registered redirect URIs; `/authorize` and `/api/token` require an exact match.
    pub redirect_uris: Vec<String>,
    /// Mount the `/__control/` API. Off, those paths answer 404.
    pub control: bool,
    /// `expires_in` of issued access tokens (Spotify: 3600).
    pub access_token_lifetime_secs: u64,
    /// When on, a refresh answers a new refresh token and revokes the old one (Spotify until mid-2026); when off,
    /// the refresh response omits `refresh_token` and the old one keeps working (Spotify now).
    pub rotate_refresh_tokens: bool,
    /// Milliseconds every `/v1` request waits before it is answered (control routes never wait).
    pub latency_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            client_id: "setlist-dev".to_owned(),
            redirect_uris: vec!["http://127.0.0.1:8080/callback".to_owned()],
            control: false,
            access_token_lifetime_secs: 3600,
            rotate_refresh_tokens: false,
            latency_ms: 0,
        }
    }
}

/// A running stand-in's state: registered client, users, codes, tokens, clock and request log. Cloning shares it.
#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Mutex<state::Inner>>,
    control: bool,
}

impl fmt::Debug for StandIn {
    // The state holds live tokens: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StandIn")
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}

impl StandIn {
    /// A fresh stand-in: no codes or tokens, clock at real time, empty request log.
    pub fn new(options: Options) -> Self {
        let control = options.control;
        Self {
            inner: Arc::new(Mutex::new(state::Inner::new(options))),
            control,
        }
    }

    /// Signs `user_id` in directly, as if they had agreed to `scope` (space separated) just now, and returns what
    /// `/api/token` would have answered. `None` for a user who is not seeded. For tests that need a token
    /// without walking through the consent page.
    pub fn mint_tokens(&self, user_id: &str, scope: &str) -> Option<TokenResponse> {
        self.lock().mint(user_id, scope)
    }

    /// Moves the stand-in's clock to real time plus `offset_secs` (what `POST /__control/clock` does).
    pub fn set_clock_offset(&self, offset_secs: i64) {
        self.lock().clock.set_offset(offset_secs);
    }

    /// The stand-in's current time in unix seconds (real time plus the clock offset).
    pub fn now(&self) -> i64 {
        self.lock().clock.now()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, state::Inner> {
        // A handler that panicked mid-update cannot leave the maps half-written in a way that matters to a
        // test double; keep serving rather than poisoning every later request.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The body of a successful `/api/token` answer
/// ([Spotify: request an access token](https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow#request-an-access-token)).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: &'static str,
    /// Granted scopes, space separated.
    pub scope: String,
    pub expires_in: u64,
    /// Present after a code exchange, and after a refresh only when rotation is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The whole stand-in as one router. Requests to the accounts service and the Web API are recorded in the request
/// log; control routes (mounted only when [`Options::control`] is set) are not.
pub fn app(stand_in: StandIn) -> Router {
    let web_api =
        web_api::router().layer(middleware::from_fn_with_state(stand_in.clone(), latency));
    let recorded = Router::new()
        .merge(accounts::router())
        .nest("/v1", web_api)
        // Inside the log, so faulted answers are recorded with their status.
        .layer(middleware::from_fn_with_state(
            stand_in.clone(),
            faults::apply,
        ))
        .layer(middleware::from_fn_with_state(
            stand_in.clone(),
            log::record,
        ));
    // Covers are fetched by <img> tags, many per page: not worth a log entry each.
    let router = recorded.merge(images::router());
    let router = if stand_in.control {
        router.nest("/__control", control::router())
    } else {
        router
    };
    let router = router.with_state(stand_in);
    // Routing happens inside the fallback service, so the slash is trimmed before any route is matched.
    Router::new()
        .fallback_service(router)
        .layer(middleware::map_request(trim_trailing_slash))
}

/// The path as the client sent it, before [`trim_trailing_slash`]; the request log records this one.
#[derive(Debug, Clone)]
pub(crate) struct SentPath(pub(crate) String);

/// Drops one trailing slash from any path but `/` (the rule in the module docs).
async fn trim_trailing_slash(mut request: Request) -> Request {
    let uri = request.uri();
    let path = uri.path();
    if path.len() > 1 && path.ends_with('/') && !path.ends_with("//") {
        let sent = path.to_owned();
        let trimmed = &path[..path.len() - 1];
        let rebuilt = match uri.query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(path_and_query) = rebuilt.parse() {
            parts.path_and_query = Some(path_and_query);
            if let Ok(new_uri) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = new_uri;
                request.extensions_mut().insert(SentPath(sent));
            }
        }
    }
    request
}

/// Middleware for `/v1`: waits the configured latency before handling the request.
async fn latency(State(stand_in): State<StandIn>, request: Request, next: Next) -> Response {
    let latency_ms = stand_in.lock().config.latency_ms;
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    next.run(request).await
}

/// CORS as the Web API and `/api/token` answer it: any origin, preflights cached for a week.
fn spotify_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        // Without this a page could not read how long a 429 asks it to wait.
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(604_800))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_debug_is_redacted() {
        let response = TokenResponse {
            access_token: "secret-access".to_owned(),
            token_type: "Bearer",
            scope: "user-read-private".to_owned(),
            expires_in: 3600,
            refresh_token: Some("secret-refresh".to_owned()),
        };
        let printed = format!("{response:?}");
        assert!(!printed.contains("secret-access"), "{printed}");
        assert!(!printed.contains("secret-refresh"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn stand_in_debug_does_not_print_state() {
        let stand_in = StandIn::new(Options::default());
        let minted = stand_in
            .mint_tokens("alice.setlist", "")
            .expect("seeded user");
        let printed = format!("{stand_in:?}");
        assert!(!printed.contains(&minted.access_token));
    }

    #[test]
    fn minting_needs_a_seeded_user() {
        let stand_in = StandIn::new(Options::default());
        assert!(stand_in.mint_tokens("nobody", "").is_none());
        let minted = stand_in
            .mint_tokens("chen.setlist", "user-read-private")
            .expect("seeded user");
        assert_eq!(minted.expires_in, 3600);
        assert!(minted.refresh_token.is_some());
    }
}
