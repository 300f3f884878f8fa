//! Token state as the app persists it, and the pending sign-in that survives the redirect.
//!
//! Time is always a parameter (unix seconds): core never reads the clock, so every rule here is tested
//! with plain numbers.

use serde::{Deserialize, Serialize};

use crate::{AccessToken, CoreError, OAuthState, PkceVerifier, RefreshToken, TokenResponse};

/// Spotify: refresh tokens expire six months after the original authorization. 183 days covers the
/// longest six calendar months.
pub const REFRESH_TOKEN_LIFETIME_SECS: u64 = 183 * 24 * 60 * 60;

/// The longest the app refreshes ahead of an access token's expiry, reached by tokens that live four minutes or
/// more (Spotify's hour among them).
pub const MAX_REFRESH_MARGIN_SECS: u64 = 60;

/// The tokens of one signed-in user, persisted in `localStorage` and shared by the tabs of an origin.
///
/// `Debug` is safe to print: the token newtypes redact themselves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenSet {
    /// Sent as `Authorization: Bearer` on Web API calls.
    pub access_token: AccessToken,
    /// Absent only if Spotify never sent one; then the user signs in again when the access token expires.
    pub refresh_token: Option<RefreshToken>,
    /// Unix seconds at which the access token stops working.
    pub expires_at: u64,
    /// Space-separated scopes Spotify granted.
    pub scope: String,
    /// Unix seconds of the sign-in that produced the refresh token; refreshing does not move it.
    pub authorized_at: u64,
    /// Unix seconds at which this access token was obtained: with `expires_at` it gives the lifetime the accounts
    /// service granted, which sizes the refresh margin. Tokens stored before it existed read as 0, which makes
    /// the lifetime long and the margin the full [`MAX_REFRESH_MARGIN_SECS`], as it always was.
    #[serde(default)]
    pub obtained_at: u64,
}

impl TokenSet {
    /// The tokens from a code exchange answered at `now`: `authorized_at = now`,
    /// `expires_at = now + expires_in`.
    pub fn from_sign_in(resp: TokenResponse, now: u64) -> Self {
        Self {
            access_token: resp.access_token,
            refresh_token: resp.refresh_token,
            expires_at: now.saturating_add(resp.expires_in),
            scope: resp.scope,
            authorized_at: now,
            obtained_at: now,
        }
    }

    /// The tokens after a refresh answered at `now`.
    ///
    /// A response without `refresh_token` keeps the old one (Spotify stopped rotating them in 2026 but did
    /// before), an empty `scope` keeps the old scope, and `authorized_at` never moves because the refresh
    /// token's six months count from the original sign-in
    /// (<https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens>).
    pub fn after_refresh(&self, resp: TokenResponse, now: u64) -> Self {
        Self {
            access_token: resp.access_token,
            refresh_token: resp.refresh_token.or_else(|| self.refresh_token.clone()),
            expires_at: now.saturating_add(resp.expires_in),
            scope: if resp.scope.is_empty() {
                self.scope.clone()
            } else {
                resp.scope
            },
            authorized_at: self.authorized_at,
            obtained_at: now,
        }
    }

    /// Whether the access token is expired at `now` or will be within `margin_secs`: refresh first.
    pub fn expires_within(&self, now: u64, margin_secs: u64) -> bool {
        now.saturating_add(margin_secs) >= self.expires_at
    }

    /// Whether the access token no longer works at `now` by its own expiry (Spotify may still refuse it earlier,
    /// with a 401).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_within(now, 0)
    }

    /// The lifetime the accounts service granted this access token, in seconds (`expires_in`).
    pub fn lifetime_secs(&self) -> u64 {
        self.expires_at.saturating_sub(self.obtained_at)
    }

    /// How long before expiry the access token is refreshed: a quarter of its lifetime, at most
    /// [`MAX_REFRESH_MARGIN_SECS`]. A fixed margin longer than the lifetime would make every fresh token look
    /// expiring and every request refresh it; a quarter leaves three quarters of any lifetime, however short,
    /// to use the token (a 20 s token is refreshed 5 s before its end, a 0 s one only once it has ended).
    pub fn refresh_margin_secs(&self) -> u64 {
        (self.lifetime_secs() / 4).min(MAX_REFRESH_MARGIN_SECS)
    }

    /// Whether to refresh before using the access token at `now`: it is inside its
    /// [refresh margin](Self::refresh_margin_secs) or past its expiry.
    pub fn needs_refresh(&self, now: u64) -> bool {
        self.expires_within(now, self.refresh_margin_secs())
    }

    /// Unix seconds after which the refresh token no longer works: six months (183 days) after
    /// `authorized_at`.
    pub fn refresh_token_expires_at(&self) -> u64 {
        self.authorized_at
            .saturating_add(REFRESH_TOKEN_LIFETIME_SECS)
    }
}

/// A sign-in in progress, stored in `sessionStorage` between leaving for `/authorize` and coming back to
/// `/callback`: the tab that starts a sign-in finishes it. Consume it before the code exchange so a state is
/// used once.
///
/// Neither `Clone` (the verifier is single-use) nor printable beyond a redacted `Debug`.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// Sent in the code exchange; its challenge went into the authorize URL.
    pub verifier: PkceVerifier,
    /// Must come back unchanged on the callback.
    pub state: OAuthState,
    /// Where to go after signing in: a same-origin path.
    pub return_to: String,
    /// Unix seconds when the sign-in started.
    pub started_at: u64,
}

impl PendingSignIn {
    /// Starts a sign-in at `now` with a fresh verifier and state. `return_to` is kept only if it is a
    /// same-origin path (see [`safe_return_to`]); anything else becomes `/`.
    pub fn start(return_to: &str, now: u64) -> Result<Self, CoreError> {
        Ok(Self {
            verifier: PkceVerifier::generate()?,
            state: OAuthState::generate()?,
            return_to: safe_return_to(return_to),
            started_at: now,
        })
    }

    /// Whether the sign-in began more than `max_age_secs` before `now`; an abandoned one should not be
    /// finished by a much later callback.
    pub fn is_older_than(&self, now: u64, max_age_secs: u64) -> bool {
        now.saturating_sub(self.started_at) > max_age_secs
    }
}

/// `path` if it is a same-origin path (`/` followed by anything but `/` or `\`), else `/`.
///
/// After sign-in the app navigates to `return_to`; accepting `//evil.example` or `https://...` would make
/// the callback an open redirect.
pub fn safe_return_to(path: &str) -> String {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(char::is_control);
    if local {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(
        access: &str,
        refresh: Option<&str>,
        scope: &str,
        expires_in: u64,
    ) -> TokenResponse {
        TokenResponse {
            access_token: AccessToken::new(access.into()),
            token_type: "Bearer".into(),
            scope: scope.into(),
            expires_in,
            refresh_token: refresh.map(|r| RefreshToken::new(r.into())),
        }
    }

    fn refresh_of(tokens: &TokenSet) -> Option<&str> {
        tokens.refresh_token.as_ref().map(RefreshToken::secret)
    }

    #[test]
    fn sign_in_sets_times() {
        let t = TokenSet::from_sign_in(response("a1", Some("r1"), "s1", 3600), 1_000);
        assert_eq!(t.access_token.secret(), "a1");
        assert_eq!(refresh_of(&t), Some("r1"));
        assert_eq!(t.expires_at, 4_600);
        assert_eq!(t.authorized_at, 1_000);
        assert_eq!(t.scope, "s1");
        assert_eq!(t.refresh_token_expires_at(), 1_000 + 183 * 86_400);
    }

    #[test]
    fn refresh_without_rotation_keeps_refresh_token_and_authorized_at() {
        let t = TokenSet::from_sign_in(response("a1", Some("r1"), "s1", 3600), 1_000);
        let t2 = t.after_refresh(response("a2", None, "", 3600), 4_000);
        assert_eq!(t2.access_token.secret(), "a2");
        assert_eq!(refresh_of(&t2), Some("r1"));
        assert_eq!(t2.expires_at, 7_600);
        assert_eq!(t2.authorized_at, 1_000);
        assert_eq!(t2.scope, "s1");
        assert_eq!(t2.refresh_token_expires_at(), t.refresh_token_expires_at());
    }

    #[test]
    fn refresh_with_rotation_takes_new_refresh_token() {
        let t = TokenSet::from_sign_in(response("a1", Some("r1"), "s1", 3600), 1_000);
        let t2 = t.after_refresh(response("a2", Some("r2"), "s2", 3600), 4_000);
        assert_eq!(refresh_of(&t2), Some("r2"));
        assert_eq!(t2.scope, "s2");
        assert_eq!(t2.authorized_at, 1_000);
    }

    #[test]
    fn expiry_margin() {
        let t = TokenSet::from_sign_in(response("a", None, "", 3600), 0);
        assert!(!t.expires_within(0, 60));
        assert!(!t.expires_within(3_539, 60));
        assert!(t.expires_within(3_540, 60));
        assert!(t.expires_within(3_600, 0));
        assert!(t.expires_within(10_000, 0));
        assert!(t.expires_within(u64::MAX, u64::MAX));
        let far = TokenSet::from_sign_in(response("a", None, "", u64::MAX), 10);
        assert_eq!(far.expires_at, u64::MAX);
    }

    #[test]
    fn refresh_margin_scales_with_the_granted_lifetime() {
        // (expires_in, margin): a refresh is due from `expires_at - margin` on.
        for (expires_in, margin) in [
            (3600, 60),
            (240, 60),
            (239, 59),
            (120, 30),
            (20, 5),
            (4, 1),
            (3, 0),
            (1, 0),
            (0, 0),
            (u64::MAX, 60),
        ] {
            let t = TokenSet::from_sign_in(response("a", None, "", expires_in), 1_000);
            let lifetime = expires_in.min(u64::MAX - 1_000);
            assert_eq!(t.lifetime_secs(), lifetime, "expires_in {expires_in}");
            assert_eq!(t.refresh_margin_secs(), margin, "expires_in {expires_in}");
            let due = t.expires_at - margin;
            assert!(t.needs_refresh(due), "expires_in {expires_in}");
            if due > 1_000 {
                assert!(!t.needs_refresh(due - 1), "expires_in {expires_in}");
            }
        }
    }

    #[test]
    fn a_fresh_short_lived_token_is_used_not_refreshed() {
        // The storm of issue 11: with a fixed 60 s margin a 20 s token was due for refresh the moment it arrived.
        let t = TokenSet::from_sign_in(response("a", None, "", 20), 1_000);
        assert!(t.expires_within(1_000, 60));
        assert!(!t.needs_refresh(1_000));
        assert!(!t.needs_refresh(1_014));
        assert!(t.needs_refresh(1_015));
        assert!(!t.is_expired(1_019));
        assert!(t.is_expired(1_020));
        // A refresh measures the new lifetime from the refresh, not from the sign-in.
        let t2 = t.after_refresh(response("b", None, "", 20), 1_016);
        assert_eq!(
            (t2.obtained_at, t2.expires_at, t2.refresh_margin_secs()),
            (1_016, 1_036, 5)
        );
        assert!(!t2.needs_refresh(1_016));
        let hourly = t2.after_refresh(response("c", None, "", 3600), 1_040);
        assert_eq!(hourly.refresh_margin_secs(), 60);
    }

    #[test]
    fn tokens_stored_before_obtained_at_keep_the_sixty_second_margin() {
        let json = r#"{"access_token":"a","refresh_token":"r","expires_at":4600,"scope":"s","authorized_at":1000}"#;
        let t: TokenSet = serde_json::from_str(json).expect("older stored shape");
        assert_eq!(t.obtained_at, 0);
        assert_eq!(t.refresh_margin_secs(), 60);
        assert!(!t.needs_refresh(4_539));
        assert!(t.needs_refresh(4_540));
    }

    #[test]
    fn token_set_round_trips_and_debug_is_redacted() {
        let t = TokenSet::from_sign_in(
            response("ACCESS-secret-1", Some("REFRESH-secret-2"), "s", 3600),
            5,
        );
        let debug = format!("{t:?}");
        assert!(!debug.contains("secret"), "{debug}");
        let json = serde_json::to_string(&t).expect("serialize");
        let back: TokenSet = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back.access_token.secret(), "ACCESS-secret-1");
        assert_eq!(refresh_of(&back), Some("REFRESH-secret-2"));
        assert_eq!(
            (
                back.expires_at,
                back.authorized_at,
                back.obtained_at,
                back.scope.as_str()
            ),
            (3605, 5, 5, "s")
        );
    }

    #[test]
    fn pending_sign_in_round_trips() {
        let pending = PendingSignIn::start("/playlists/abc?x=1", 42).expect("rng");
        let json = serde_json::to_string(&pending).expect("serialize");
        let back: PendingSignIn = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back.verifier.secret(), pending.verifier.secret());
        assert_eq!(back.state, pending.state);
        assert_eq!(back.return_to, "/playlists/abc?x=1");
        assert_eq!(back.started_at, 42);
        let debug = format!("{back:?}");
        assert!(!debug.contains(pending.verifier.secret()), "{debug}");
    }

    #[test]
    fn pending_sign_in_rejects_tampered_storage() {
        let good = PendingSignIn::start("/", 1).expect("rng");
        let mut value = serde_json::to_value(&good).expect("serialize");
        value["verifier"] = "short".into();
        assert!(serde_json::from_value::<PendingSignIn>(value.clone()).is_err());
        value["verifier"] = good.verifier.secret().into();
        value["state"] = "a b".into();
        assert!(serde_json::from_value::<PendingSignIn>(value).is_err());
    }

    #[test]
    fn pending_sign_in_age() {
        let pending = PendingSignIn::start("/", 100).expect("rng");
        assert!(!pending.is_older_than(700, 600));
        assert!(pending.is_older_than(701, 600));
        assert!(
            !pending.is_older_than(0, 0),
            "a clock that went backwards is not age"
        );
    }

    #[test]
    fn return_to_is_same_origin_only() {
        for (input, expected) in [
            ("/", "/"),
            (
                "/playlists/37i9dQZF1DXcBWIGoYBM5M",
                "/playlists/37i9dQZF1DXcBWIGoYBM5M",
            ),
            ("/search?q=a#top", "/search?q=a#top"),
            ("", "/"),
            ("playlists", "/"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("https://evil.example/", "/"),
            ("javascript:alert(1)", "/"),
            ("/\nx", "/"),
        ] {
            assert_eq!(safe_return_to(input), expected, "{input:?}");
        }
        assert_eq!(
            PendingSignIn::start("https://evil.example", 0)
                .expect("rng")
                .return_to,
            "/"
        );
    }
}
