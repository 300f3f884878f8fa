//! Sign-in and the tokens of this origin: the thin browser side of core's OAuth and token logic.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use setlist_core::sync::load::Failure;
use setlist_core::{
    after_lock, authorize_url, code_exchange_request, parse_callback, parse_token_response, refresh_request,
    rescue_after_invalid_grant, AccessToken, AfterLock, ApiError, ApiRequest, AppConfig, PendingSignIn, TabMessage, TokenChange, TokenError,
    TokenRequestBudget, TokenSet,
};

use crate::browser::{self, Area, HttpResponse, NetworkError};

const PENDING_KEY: &str = "setlist.pending";
const TOKENS_KEY: &str = "setlist.tokens";
/// The origin's recent token requests (core's [`TokenRequestBudget`]): times only, never a token. Read and written
/// under [`REFRESH_LOCK`], so the tabs share one bound.
const TOKEN_REQUESTS_KEY: &str = "setlist.token-requests";
/// Spotify's authorization codes live 10 minutes; a pending sign-in older than that cannot succeed.
const PENDING_MAX_AGE_SECS: u64 = 15 * 60;
/// The Web Lock that makes refreshes single-flight across every tab of this origin (and within one).
const REFRESH_LOCK: &str = "setlist-token-refresh";
/// The BroadcastChannel on which tabs announce new tokens, sign-outs and dead sign-ins.
const TABS_CHANNEL: &str = "setlist-tokens";
/// How long a tab that is about to refresh first lets other tabs' news arrive: browsers deliver storage writes
/// and messages from other tab processes asynchronously, in no fixed order with the lock grant.
const SETTLE_MS: u32 = 25;

type Hook = Rc<dyn Fn(&TokenChange)>;

thread_local! {
    /// Subscribers of the token-changed hook (the push outbox), with ids for unsubscribing.
    static HOOKS: RefCell<Vec<(u64, Hook)>> = const { RefCell::new(Vec::new()) };
    static NEXT_HOOK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// This tab's end of the tabs channel, open while the app is mounted.
    static TABS: RefCell<Option<browser::Channel>> = const { RefCell::new(None) };
}

/// Whether this tab holds tokens.
#[derive(Clone, Debug)]
pub enum Auth {
    SignedOut,
    SignedIn(TokenSet),
    /// The refresh token no longer works (revoked or past its 6 months): the user must sign in again.
    SignInAgain(String),
}

/// What the app shares through context: small and `Copy`. Views read the sign-in state through [`Session::auth`];
/// only this module changes it.
#[derive(Clone, Copy)]
pub struct Session {
    pub config: StoredValue<AppConfig>,
    auth: RwSignal<Auth>,
    /// Requests held back by a rate limit or a retry, for the status line ([`crate::net`]).
    pub waiting: RwSignal<Option<crate::net::Waiting>>,
}

impl Session {
    /// A session for `config`, signed in or not as `auth` says.
    pub fn new(config: AppConfig, auth: Auth) -> Self {
        Self { config: StoredValue::new(config), auth: RwSignal::new(auth), waiting: RwSignal::new(None) }
    }

    /// The sign-in state, read-only.
    pub fn auth(&self) -> ReadSignal<Auth> {
        self.auth.read_only()
    }
}

/// Everything that can go wrong talking to Spotify, as sentences a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppError {
    Network(String),
    SignIn(String),
    SignInAgain(String),
    Api { status: u16, message: String },
    /// Input the app refused before sending anything (an unparsable link, a name that is too long).
    Invalid(String),
    /// Spotify asked for a longer wait than the app holds a page open for: nothing more is sent until then.
    RateLimited { resume_in_secs: u64 },
    /// A change was sent and Spotify's answer never arrived (or was a `5xx`): it may or may not have been applied.
    /// Never replayed; the caller re-reads and decides.
    Ambiguous,
    /// Transient failures went on past the retry policy's attempts.
    GaveUp(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Network(host) => write!(f, "Could not reach {host}. Check your connection, then try again."),
            AppError::SignIn(msg) => write!(f, "Sign-in failed: {msg}"),
            AppError::SignInAgain(msg) => write!(f, "{msg} Please sign in again."),
            AppError::Api { status, message } => write!(f, "Spotify answered {status}: {message}"),
            AppError::Invalid(msg) => write!(f, "{msg}"),
            AppError::RateLimited { resume_in_secs } => write!(
                f,
                "Spotify asked Setlist to wait {} before sending more requests. Nothing was lost; try again after that.",
                crate::net::wait_words(*resume_in_secs)
            ),
            AppError::Ambiguous => write!(f, "Spotify did not confirm a change, so Setlist checked the playlist instead of resending it."),
            AppError::GaveUp(msg) => write!(f, "{msg}"),
        }
    }
}

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        AppError::Api { status: e.status, message: e.message }
    }
}

/// The one mapping from how core's load and save machines stop to what the page says.
impl From<Failure> for AppError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Api { status, message } => AppError::Api { status, message },
            Failure::RateLimited { resume_in_secs } => AppError::RateLimited { resume_in_secs },
            Failure::GaveUp(why) => AppError::GaveUp(why),
            Failure::Invalid(why) => AppError::Invalid(why),
            Failure::KeepsChanging | Failure::Unconfirmed { .. } => AppError::Invalid(f.to_string()),
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

/// An unreadable budget counts as empty: the bound is against loops, and one lost record cannot make one.
fn load_budget() -> TokenRequestBudget {
    browser::storage_get(Area::Local, TOKEN_REQUESTS_KEY)
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

fn save_budget(budget: &TokenRequestBudget) {
    if let Ok(json) = serde_json::to_string(budget) {
        browser::storage_set(Area::Local, TOKEN_REQUESTS_KEY, &json);
    }
}

pub fn sign_out(session: Session) {
    browser::storage_remove(Area::Local, TOKENS_KEY);
    session.auth.set(Auth::SignedOut);
    announce(&TabMessage::SignedOut);
}

/// Subscribes `hook` to the token-changed hook: it runs every time this tab obtains tokens (a sign-in or a
/// refresh), once per change; tabs that adopt another tab's tokens do not run it. Unsubscribed when the calling
/// component is cleaned up.
pub fn on_token_change(hook: impl Fn(&TokenChange) + 'static) {
    let id = NEXT_HOOK.with(|n| n.replace(n.get() + 1));
    HOOKS.with(|h| h.borrow_mut().push((id, Rc::new(hook))));
    on_cleanup(move || HOOKS.with(|h| h.borrow_mut().retain(|(i, _)| *i != id)));
}

fn token_changed(change: &TokenChange) {
    // Cloned out first, so a hook may subscribe or fire without a double borrow.
    let hooks: Vec<Hook> = HOOKS.with(|h| h.borrow().iter().map(|(_, hook)| hook.clone()).collect());
    for hook in hooks {
        hook(change);
    }
}

/// Joins this tab to the others of the origin: their new tokens, sign-outs and dead sign-ins update this tab's
/// `auth` without a request. Left again when the calling component is cleaned up.
pub fn connect_tabs(session: Session) {
    let channel = browser::Channel::open(TABS_CHANNEL, move |text| {
        let Ok(message) = serde_json::from_str::<TabMessage>(&text) else { return };
        match message {
            TabMessage::Tokens { tokens } => adopt(session, tokens),
            TabMessage::SignedOut => session.auth.set(Auth::SignedOut),
            TabMessage::SignInAgain { why } => session.auth.set(Auth::SignInAgain(why)),
        }
    });
    TABS.with(|t| *t.borrow_mut() = channel);
    on_cleanup(|| TABS.with(|t| drop(t.borrow_mut().take())));
}

fn announce(message: &TabMessage) {
    if let Ok(text) = serde_json::to_string(message) {
        TABS.with(|t| {
            if let Some(channel) = t.borrow().as_ref() {
                channel.post(&text);
            }
        });
    }
}

/// Takes tokens obtained elsewhere (another tab, or an earlier refresh in this one) unless this tab has them.
fn adopt(session: Session, tokens: TokenSet) {
    let current = session.auth.with_untracked(|a| match a {
        Auth::SignedIn(t) => Some((t.access_token.secret() == tokens.access_token.secret(), t.authorized_at)),
        _ => None,
    });
    if current != Some((true, tokens.authorized_at)) {
        session.auth.set(Auth::SignedIn(tokens));
    }
}

/// Stores, shows and announces tokens this tab obtained, then fires the token-changed hook.
fn obtained(session: Session, change: TokenChange) {
    let tokens = change.tokens().clone();
    save_tokens(&tokens);
    session.auth.set(Auth::SignedIn(tokens.clone()));
    announce(&TabMessage::Tokens { tokens });
    token_changed(&change);
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
    // A code exchange is a token request too; it is counted (so the origin's bound is a bound on all of them) but
    // never held back, because only the user's own consent leads here.
    {
        let _lock = browser::acquire_lock(REFRESH_LOCK).await;
        let mut budget = load_budget();
        budget.record(browser::now_secs());
        save_budget(&budget);
    }
    let resp = browser::send(code_exchange_request(&config, &code, &pending.verifier)).await?;
    let tokens = parse_token_response(resp.status, &resp.body)
        .map(|r| TokenSet::from_sign_in(r, browser::now_secs()))
        .map_err(|e| AppError::SignIn(e.to_string()))?;
    obtained(session, TokenChange::SignedIn(tokens));
    Ok(pending.return_to)
}

/// A valid access token: this tab's own unless it needs a refresh (core sizes the margin by the lifetime Spotify
/// granted) or Spotify `rejected` it (a 401).
///
/// Then, under the exclusive Web Lock shared by all tabs, the newest known tokens and the origin's token request
/// budget are re-read: if another tab (or an earlier call in this one) already refreshed, the tokens are adopted
/// without a request; otherwise this call refreshes, and every other waiter adopts its result. N tabs make one
/// token request per expiry, and never more than core's budget allows: once it is spent, a token that still works
/// is used, and otherwise this call waits without the lock until a request fits, then decides again.
pub(crate) async fn access_token(session: Session, rejected: Option<&AccessToken>) -> Result<AccessToken, AppError> {
    let tokens = signed_in(session)?;
    if rejected.is_none() && !tokens.needs_refresh(browser::now_secs()) {
        return Ok(tokens.access_token);
    }
    let seen = rejected.cloned().unwrap_or(tokens.access_token);
    loop {
        let lock = browser::acquire_lock(REFRESH_LOCK).await;
        // A sign-out or a dead sign-in announced by another tab while this one waited ends it here too.
        let decide = |budget: &mut TokenRequestBudget| {
            let in_tab = signed_in(session)?;
            let now = browser::now_secs();
            Ok::<_, AppError>(after_lock(load_tokens().as_ref(), Some(&in_tab), &seen, rejected.is_some(), now, budget))
        };
        // The first look only tells whether to let other tabs' news settle; it spends nothing.
        let decision = match decide(&mut load_budget())? {
            AfterLock::Refresh(_) => {
                browser::sleep_ms(SETTLE_MS).await;
                let mut budget = load_budget();
                let decision = decide(&mut budget)?;
                if matches!(decision, AfterLock::Refresh(_)) {
                    // Stored before the request leaves: a refresh that never comes back still counts.
                    save_budget(&budget);
                }
                decision
            }
            other => other,
        };
        match decision {
            AfterLock::Adopt(t) => {
                let token = t.access_token.clone();
                adopt(session, t);
                return Ok(token);
            }
            AfterLock::SignedOut => {
                return match session.auth.get_untracked() {
                    // Another tab's refresh found the sign-in dead and said so: keep saying why.
                    Auth::SignInAgain(why) => Err(AppError::SignInAgain(why)),
                    _ => {
                        session.auth.set(Auth::SignedOut);
                        Err(AppError::SignInAgain("You signed out in another tab.".into()))
                    }
                };
            }
            AfterLock::Refresh(t) => return refresh(session, t).await,
            AfterLock::Wait { secs } => {
                // Not holding the lock: the other tabs can still adopt, sign out or refresh meanwhile, and what
                // they store is what the next look decides on.
                drop(lock);
                leptos::logging::warn!("token requests held back for {secs} s: this origin sent its limit");
                browser::sleep_ms(u32::try_from(secs.saturating_mul(1000)).unwrap_or(u32::MAX)).await;
            }
        }
    }
}

fn signed_in(session: Session) -> Result<TokenSet, AppError> {
    match session.auth.get_untracked() {
        Auth::SignedIn(t) => Ok(t),
        Auth::SignInAgain(msg) => Err(AppError::SignInAgain(msg)),
        Auth::SignedOut => Err(AppError::SignInAgain("You are signed out.".into())),
    }
}

/// One token request with the refresh token of `tokens`; called with the refresh lock held.
async fn refresh(session: Session, tokens: TokenSet) -> Result<AccessToken, AppError> {
    let Some(used) = tokens.refresh_token.clone() else {
        return Err(expire(session, "Your Spotify session ended."));
    };
    let config = session.config.get_value();
    let resp = browser::send(refresh_request(&config, &used)).await?;
    match parse_token_response(resp.status, &resp.body) {
        Ok(r) => {
            let next = tokens.after_refresh(r, browser::now_secs());
            let token = next.access_token.clone();
            obtained(session, TokenChange::Refreshed { tokens: next, used });
            Ok(token)
        }
        Err(e) if e.is_invalid_grant() => {
            // With rotation, a refresh token another tab already spent is answered like a revoked one.
            let in_tab = signed_in(session).ok();
            if let Some(t) = rescue_after_invalid_grant(load_tokens().as_ref(), in_tab.as_ref(), &used) {
                let token = t.access_token.clone();
                adopt(session, t);
                return Ok(token);
            }
            Err(expire(session, "Spotify no longer accepts this sign-in."))
        }
        Err(TokenError::Http { status }) if status >= 500 => Err(AppError::Network(config.accounts_base().to_owned())),
        Err(e) => Err(AppError::SignIn(e.to_string())),
    }
}

/// The sign-in is over (`invalid_grant`, or no refresh token): tokens are cleared and every tab asks the user to
/// sign in again. Never retried.
fn expire(session: Session, why: &str) -> AppError {
    browser::storage_remove(Area::Local, TOKENS_KEY);
    session.auth.set(Auth::SignInAgain(why.into()));
    announce(&TabMessage::SignInAgain { why: why.into() });
    AppError::SignInAgain(why.into())
}

/// Sends a Web API request with a valid token, under the retry policy ([`crate::net`]) and the request's own
/// [`setlist_core::Safety`]; on a 401 refreshes once and resends once (within the same attempt).
pub async fn api_call(session: Session, request: &ApiRequest) -> Result<HttpResponse, AppError> {
    let ended = crate::net::with_retries(session.waiting, request.safety(), async || {
        let resp = send_authorized(session, request).await?;
        Ok::<_, Option<AppError>>((resp.status, resp.retry_after, resp))
    })
    .await?;
    match ended {
        crate::net::Ended::Answer(resp) => Ok(resp),
        crate::net::Ended::WaitTooLong { resume_in_secs } => Err(AppError::RateLimited { resume_in_secs }),
        crate::net::Ended::Ambiguous => Err(AppError::Ambiguous),
        crate::net::Ended::GaveUp(why) => Err(AppError::GaveUp(why)),
    }
}

/// One attempt, authorized with the current token: `Err(None)` when the API host could not be reached,
/// `Err(Some(_))` when there is no usable token.
pub(crate) async fn send_authorized(session: Session, request: &ApiRequest) -> Result<HttpResponse, Option<AppError>> {
    let token = access_token(session, None).await.map_err(Some)?;
    let resp = browser::send(request.authorize(&token)).await.map_err(|_| None)?;
    if resp.status != 401 {
        return Ok(resp);
    }
    let token = access_token(session, Some(&token)).await.map_err(Some)?;
    browser::send(request.authorize(&token)).await.map_err(|_| None)
}
