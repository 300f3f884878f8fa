//! Sign-in and the tokens of this origin: the thin browser side of core's OAuth and token logic.

use leptos::prelude::*;
use setlist_core::{
    authorize_url, code_exchange_request, parse_callback, parse_token_response, refresh_request, AccessToken,
    AppConfig, PendingSignIn, TokenError, TokenSet,
};

use crate::browser::{self, Area, HttpResponse, NetworkError};

const PENDING_KEY: &str = "setlist.pending";
const TOKENS_KEY: &str = "setlist.tokens";
/// Refresh this long before the access token expires, so a request never leaves with a token about to lapse.
const REFRESH_MARGIN_SECS: u64 = 60;
/// Spotify's authorization codes live 10 minutes; a pending sign-in older than that cannot succeed.
const PENDING_MAX_AGE_SECS: u64 = 15 * 60;

/// Whether this tab holds tokens.
#[derive(Clone, Debug)]
pub enum Auth {
    SignedOut,
    SignedIn(TokenSet),
    /// The refresh token no longer works (revoked or past its 6 months): the user must sign in again.
    SignInAgain(String),
}

/// What the app shares through context: small and `Copy`.
#[derive(Clone, Copy)]
pub struct Session {
    pub config: StoredValue<AppConfig>,
    pub auth: RwSignal<Auth>,
}

/// Everything that can go wrong talking to Spotify, as sentences a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppError {
    Network(String),
    SignIn(String),
    SignInAgain(String),
    Api { status: u16, message: String },
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Network(host) => write!(f, "Could not reach {host}. Check your connection, then try again."),
            AppError::SignIn(msg) => write!(f, "Sign-in failed: {msg}"),
            AppError::SignInAgain(msg) => write!(f, "{msg} Please sign in again."),
            AppError::Api { status, message } => write!(f, "Spotify answered {status}: {message}"),
        }
    }
}

impl From<NetworkError> for AppError {
    fn from(e: NetworkError) -> Self {
        AppError::Network(if e.host.is_empty() { "Spotify".into() } else { e.host })
    }
}

pub async fn load_config() -> Result<AppConfig, String> {
    let resp = browser::get_text("/config.json")
        .await
        .map_err(|_| "Could not load config.json from this site.".to_string())?;
    if resp.status != 200 {
        return Err(format!("config.json answered HTTP {}.", resp.status));
    }
    AppConfig::from_json(&resp.body).map_err(|e| format!("config.json is invalid: {e}"))
}

pub fn load_tokens() -> Option<TokenSet> {
    serde_json::from_str(&browser::storage_get(Area::Local, TOKENS_KEY)?).ok()
}

fn save_tokens(tokens: &TokenSet) {
    if let Ok(json) = serde_json::to_string(tokens) {
        browser::storage_set(Area::Local, TOKENS_KEY, &json);
    }
}

pub fn sign_out(session: Session) {
    browser::storage_remove(Area::Local, TOKENS_KEY);
    session.auth.set(Auth::SignedOut);
}

/// Starts Authorization Code + PKCE: the pending sign-in goes to sessionStorage, then the browser leaves for Spotify.
pub fn start_sign_in(config: &AppConfig, return_to: &str) -> Result<(), String> {
    // Never come back to /callback itself: it would try to finish a sign-in that is not there.
    let return_to = if return_to.starts_with("/callback") { "/" } else { return_to };
    let pending = PendingSignIn::start(return_to, browser::now_secs()).map_err(|e| e.to_string())?;
    let url = authorize_url(config, &pending.verifier.challenge(), &pending.state);
    let json = serde_json::to_string(&pending).map_err(|e| e.to_string())?;
    if !browser::storage_set(Area::Session, PENDING_KEY, &json) {
        return Err("This browser does not allow session storage, which sign-in needs.".into());
    }
    if browser::navigate_away(&url) {
        Ok(())
    } else {
        Err("Could not open Spotify's sign-in page.".into())
    }
}

/// Finishes sign-in on `/callback`: consumes the pending sign-in (single use), strips `code` and `state` from the
/// address bar, checks the state before any token request, exchanges the code. Returns where to go next.
pub async fn finish_sign_in(session: Session) -> Result<String, AppError> {
    let query = browser::location_search();
    browser::replace_url("/callback");
    let pending = browser::storage_get(Area::Session, PENDING_KEY);
    browser::storage_remove(Area::Session, PENDING_KEY);
    let pending: PendingSignIn = pending
        .and_then(|p| serde_json::from_str(&p).ok())
        .ok_or_else(|| AppError::SignIn("this tab has no sign-in in progress (it may have been used already, or started in another tab).".into()))?;
    // Abandoned sign-ins should not be finished by a much later callback.
    if pending.is_older_than(browser::now_secs(), PENDING_MAX_AGE_SECS) {
        return Err(AppError::SignIn("this sign-in was started too long ago.".into()));
    }
    let code = parse_callback(&query, &pending.state).map_err(|e| AppError::SignIn(e.to_string()))?;
    let config = session.config.get_value();
    let resp = browser::send(code_exchange_request(&config, &code, &pending.verifier)).await?;
    let tokens = parse_token_response(resp.status, &resp.body)
        .map(|r| TokenSet::from_sign_in(r, browser::now_secs()))
        .map_err(|e| AppError::SignIn(e.to_string()))?;
    save_tokens(&tokens);
    session.auth.set(Auth::SignedIn(tokens));
    Ok(pending.return_to)
}

/// A valid access token: refreshed first when it is about to expire.
async fn access_token(session: Session, force_refresh: bool) -> Result<AccessToken, AppError> {
    let tokens = match session.auth.get_untracked() {
        Auth::SignedIn(t) => t,
        Auth::SignInAgain(msg) => return Err(AppError::SignInAgain(msg)),
        Auth::SignedOut => return Err(AppError::SignInAgain("You are signed out.".into())),
    };
    let now = browser::now_secs();
    if !force_refresh && !tokens.expires_within(now, REFRESH_MARGIN_SECS) {
        return Ok(tokens.access_token);
    }
    let Some(refresh) = tokens.refresh_token.clone() else {
        return Err(expire(session, "Your Spotify session ended."));
    };
    let config = session.config.get_value();
    let resp = browser::send(refresh_request(&config, &refresh)).await?;
    match parse_token_response(resp.status, &resp.body) {
        Ok(r) => {
            let next = tokens.after_refresh(r, browser::now_secs());
            save_tokens(&next);
            session.auth.set(Auth::SignedIn(next.clone()));
            Ok(next.access_token)
        }
        Err(e) if e.is_invalid_grant() => Err(expire(session, "Spotify no longer accepts this sign-in.")),
        Err(TokenError::Http { status }) if status >= 500 => Err(AppError::Network(config.accounts_base)),
        Err(e) => Err(AppError::SignIn(e.to_string())),
    }
}

fn expire(session: Session, why: &str) -> AppError {
    browser::storage_remove(Area::Local, TOKENS_KEY);
    session.auth.set(Auth::SignInAgain(why.into()));
    AppError::SignInAgain(why.into())
}

/// Sends a Web API request built by `build` with a valid token; on a 401 refreshes once and retries once.
pub async fn api_call(
    session: Session,
    build: impl Fn(&AppConfig, &AccessToken) -> http::Request<String>,
) -> Result<HttpResponse, AppError> {
    let config = session.config.get_value();
    let token = access_token(session, false).await?;
    let resp = browser::send(build(&config, &token)).await?;
    if resp.status != 401 {
        return Ok(resp);
    }
    let token = access_token(session, true).await?;
    Ok(browser::send(build(&config, &token)).await?)
}
