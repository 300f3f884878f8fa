//! What a stand-in remembers between requests. Handlers lock it through [`crate::StandIn::lock`].

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::clock::Clock;
use crate::faults::Faults;
use crate::log::RequestLog;
use crate::playlists::Store;
use crate::{users, Options, TokenResponse};

/// Authorization codes are good for ten minutes after issue.
pub(crate) const CODE_LIFETIME_SECS: i64 = 10 * 60;
/// Refresh tokens die six months after the sign-in that produced them; refreshing does not extend that.
pub(crate) const REFRESH_LIFETIME_SECS: i64 = 183 * 24 * 60 * 60;
/// A consent page left open longer than this cannot be answered any more.
pub(crate) const PENDING_LIFETIME_SECS: i64 = 60 * 60;

/// Settings the control API may change while the stand-in runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) access_token_lifetime_secs: u64,
    pub(crate) rotate_refresh_tokens: bool,
    /// Milliseconds every Web API request waits before it is answered.
    pub(crate) latency_ms: u64,
}

/// What one sign-in granted: who, to which client, which scopes, and when (the refresh-token expiry anchor).
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) user_id: &'static str,
    pub(crate) client_id: String,
    pub(crate) scope: String,
    pub(crate) authorized_at: i64,
}

/// An `/authorize` request waiting for the consent page's answer.
#[derive(Debug, Clone)]
pub(crate) struct PendingAuthorization {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scope: String,
    pub(crate) state: Option<String>,
    pub(crate) created_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct AuthorizationCode {
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) issued_at: i64,
    pub(crate) grant: Grant,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) grant: Grant,
    pub(crate) expires_at: i64,
}

pub(crate) struct Inner {
    pub(crate) client_id: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    /// Keyed by the consent form's request id.
    pub(crate) pending: HashMap<String, PendingAuthorization>,
    /// Keyed by code; a code is removed when it is presented, so it works once.
    pub(crate) codes: HashMap<String, AuthorizationCode>,
    /// Keyed by token. Expired tokens stay so that they can be told apart from unknown ones.
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    /// Keyed by token; revoking removes it.
    pub(crate) refresh_tokens: HashMap<String, Grant>,
    pub(crate) log: RequestLog,
    pub(crate) playlists: Store,
    /// Injected faults and the rate limiter (`/__control/faults`, `/__control/rate_limit`).
    pub(crate) faults: Faults,
}

impl Inner {
    pub(crate) fn new(options: Options) -> Self {
        Self {
            client_id: options.client_id,
            redirect_uris: options.redirect_uris,
            config: Config {
                access_token_lifetime_secs: options.access_token_lifetime_secs,
                rotate_refresh_tokens: options.rotate_refresh_tokens,
                latency_ms: options.latency_ms,
            },
            clock: Clock::default(),
            pending: HashMap::new(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            log: RequestLog::default(),
            playlists: Store::seeded(),
            faults: Faults::default(),
        }
    }

    /// A new access token for `grant`, valid for the configured lifetime from now. Returns it and `expires_in`.
    pub(crate) fn issue_access_token(&mut self, grant: Grant) -> (String, u64) {
        let lifetime = self.config.access_token_lifetime_secs;
        let expires_at = self
            .clock
            .now()
            .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
        let token = random_token();
        self.access_tokens
            .insert(token.clone(), AccessToken { grant, expires_at });
        (token, lifetime)
    }

    pub(crate) fn issue_refresh_token(&mut self, grant: Grant) -> String {
        let token = random_token();
        self.refresh_tokens.insert(token.clone(), grant);
        token
    }

    /// Signs a seeded user in without the consent page (see [`crate::StandIn::mint_tokens`]).
    pub(crate) fn mint(&mut self, user_id: &str, scope: &str) -> Option<TokenResponse> {
        let user = users::find(user_id)?;
        let grant = Grant {
            user_id: user.id,
            client_id: self.client_id.clone(),
            scope: scope.split_whitespace().collect::<Vec<_>>().join(" "),
            authorized_at: self.clock.now(),
        };
        Some(self.token_response(grant, true))
    }

    /// Issues an access token (and a refresh token when asked) for `grant`, shaped as `/api/token` answers.
    pub(crate) fn token_response(
        &mut self,
        grant: Grant,
        with_refresh_token: bool,
    ) -> TokenResponse {
        let scope = grant.scope.clone();
        let refresh_token = with_refresh_token.then(|| self.issue_refresh_token(grant.clone()));
        let (access_token, expires_in) = self.issue_access_token(grant);
        TokenResponse {
            access_token,
            token_type: "Bearer",
            scope,
            expires_in,
            refresh_token,
        }
    }

    pub(crate) fn live_access_tokens(&self) -> usize {
        let now = self.clock.now();
        self.access_tokens
            .values()
            .filter(|token| token.expires_at > now)
            .count()
    }

    pub(crate) fn live_refresh_tokens(&self) -> usize {
        let now = self.clock.now();
        self.refresh_tokens
            .values()
            .filter(|grant| !refresh_expired(grant, now))
            .count()
    }
}

pub(crate) fn refresh_expired(grant: &Grant, now: i64) -> bool {
    now >= grant.authorized_at.saturating_add(REFRESH_LIFETIME_SECS)
}

/// 32 bytes from the OS CSPRNG, base64url without padding (43 characters). Used for codes, tokens and request ids.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing means the machine cannot do cryptography at all; nothing sensible to answer.
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_43_char_base64url_and_differ() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn refresh_expiry_is_183_days_after_authorization() {
        let grant = Grant {
            user_id: "alice.setlist",
            client_id: "c".to_owned(),
            scope: String::new(),
            authorized_at: 1_000,
        };
        assert!(!refresh_expired(&grant, 1_000 + REFRESH_LIFETIME_SECS - 1));
        assert!(refresh_expired(&grant, 1_000 + REFRESH_LIFETIME_SECS));
    }
}
