//! The token lifecycle across the tabs of one origin: when to refresh, what a tab does once it holds the
//! refresh lock, when a rejected refresh token is really the end, and when to warn that it soon will be.
//!
//! The app holds an exclusive Web Lock around [`after_lock`] and the refresh it may call for, and re-reads the
//! shared tokens from storage first: N tabs whose access token lapses together then make one token request,
//! because every tab after the first finds the new tokens already stored. Time is a parameter (unix seconds).

use serde::{Deserialize, Serialize};

use crate::{AccessToken, RefreshToken, TokenPush, TokenSet};

/// Warn this long before the refresh token's six months run out.
pub const REFRESH_WARNING_SECS: u64 = 14 * 24 * 60 * 60;

/// What a tab does after acquiring the refresh lock and re-reading the stored tokens.
#[derive(Clone, Debug)]
pub enum AfterLock {
    /// Use these tokens as they are: another tab refreshed already, or no refresh is needed.
    Adopt(TokenSet),
    /// Refresh, with the refresh token of these (the newest known) tokens.
    Refresh(TokenSet),
    /// Nothing is stored: this origin signed out (or was told to sign in again) in another tab.
    SignedOut,
}

/// The newest tokens this tab can know of: `stored` (just re-read from storage) unless it is still the token
/// this tab `seen` while `in_tab` (updated from another tab's broadcast) is not. Browsers propagate storage
/// writes between tab processes asynchronously and in no fixed order with lock grants and messages, so either
/// source may be the first to show another tab's refresh. `None` when nothing is stored.
fn newest<'a>(stored: Option<&'a TokenSet>, in_tab: Option<&'a TokenSet>, seen: &AccessToken) -> Option<&'a TokenSet> {
    let stored = stored?;
    let differs = |t: &TokenSet| t.access_token.secret() != seen.secret();
    if differs(stored) {
        return Some(stored);
    }
    Some(in_tab.filter(|t| differs(t)).unwrap_or(stored))
}

/// Decides, under the refresh lock, between adopting newer tokens and refreshing.
///
/// `seen` is the access token this tab last used; `rejected` says Spotify answered 401 to it. Tokens that differ
/// from `seen` (see [`newest`] for where they come from) were obtained by another tab after this one read its
/// own, so they are adopted unless they too are about to expire (within `margin_secs` of `now`). The same tokens
/// are refreshed when they were rejected or are about to expire. A refresh always uses the newest refresh token,
/// never a stale copy: with rotation, a stale copy may already be spent.
pub fn after_lock(
    stored: Option<&TokenSet>,
    in_tab: Option<&TokenSet>,
    seen: &AccessToken,
    rejected: bool,
    now: u64,
    margin_secs: u64,
) -> AfterLock {
    let Some(newest) = newest(stored, in_tab, seen) else { return AfterLock::SignedOut };
    let expiring = newest.expires_within(now, margin_secs);
    let same = newest.access_token.secret() == seen.secret();
    if expiring || (same && rejected) {
        AfterLock::Refresh(newest.clone())
    } else {
        AfterLock::Adopt(newest.clone())
    }
}

/// After the accounts service answered `invalid_grant` to `used`: tokens (stored first, then the tab's own) that
/// carry a different refresh token. Then another tab rotated the token meanwhile and this tab was not signed out
/// at all. `None` means the sign-in is really over.
pub fn rescue_after_invalid_grant(
    stored: Option<&TokenSet>,
    in_tab: Option<&TokenSet>,
    used: &RefreshToken,
) -> Option<TokenSet> {
    let other = |t: &&TokenSet| t.refresh_token.as_ref().is_some_and(|r| r.secret() != used.secret());
    stored.filter(other).or_else(|| in_tab.filter(other)).cloned()
}

/// Whole days (rounded up) until the refresh token expires, from [`REFRESH_WARNING_SECS`] before that moment on;
/// `Some(0)` once it has passed. `None` while it is further away, or when there is no refresh token.
pub fn expiry_warning(tokens: &TokenSet, now: u64) -> Option<u64> {
    tokens.refresh_token.as_ref()?;
    let ends = tokens.refresh_token_expires_at();
    if now.saturating_add(REFRESH_WARNING_SECS) < ends {
        return None;
    }
    Some(ends.saturating_sub(now).div_ceil(24 * 60 * 60))
}

/// What the token-changed hook receives: every time the app obtains tokens.
#[derive(Clone, Debug)]
pub enum TokenChange {
    /// A sign-in (code exchange) produced these tokens.
    SignedIn(TokenSet),
    /// A refresh with `used` produced these tokens.
    Refreshed { tokens: TokenSet, used: RefreshToken },
}

impl TokenChange {
    /// The new tokens.
    pub fn tokens(&self) -> &TokenSet {
        match self {
            TokenChange::SignedIn(t) | TokenChange::Refreshed { tokens: t, .. } => t,
        }
    }

    /// The push for the sink: `prev_refresh_sha256` is `null` after a sign-in and the hash of the used refresh
    /// token after a refresh. `None` without a refresh token.
    pub fn push(&self) -> Option<TokenPush> {
        match self {
            TokenChange::SignedIn(t) => TokenPush::new(t, None),
            TokenChange::Refreshed { tokens, used } => TokenPush::new(tokens, Some(used)),
        }
    }
}

/// What one tab tells the others on the `BroadcastChannel` (same origin only, never persisted).
///
/// `Debug` is safe to print: the tokens redact themselves.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TabMessage {
    /// New tokens, also stored (sign-in or refresh): receivers adopt them without a request.
    Tokens { tokens: TokenSet },
    /// The user signed out.
    SignedOut,
    /// The refresh token stopped working; `why` is a sentence for the user.
    SignInAgain { why: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenResponse;

    const DAY: u64 = 24 * 60 * 60;

    fn set(access: &str, refresh: Option<&str>, now: u64) -> TokenSet {
        TokenSet::from_sign_in(
            TokenResponse {
                access_token: AccessToken::new(access.into()),
                token_type: "Bearer".into(),
                scope: "s".into(),
                expires_in: 3600,
                refresh_token: refresh.map(|r| RefreshToken::new(r.into())),
            },
            now,
        )
    }

    fn token(s: &str) -> AccessToken {
        AccessToken::new(s.into())
    }

    fn decide(stored: Option<&TokenSet>, seen: &str, rejected: bool, now: u64) -> (&'static str, String) {
        decide2(stored, None, seen, rejected, now)
    }

    fn decide2(
        stored: Option<&TokenSet>,
        in_tab: Option<&TokenSet>,
        seen: &str,
        rejected: bool,
        now: u64,
    ) -> (&'static str, String) {
        match after_lock(stored, in_tab, &token(seen), rejected, now, 60) {
            AfterLock::Adopt(t) => ("adopt", t.access_token.secret().to_owned()),
            AfterLock::Refresh(t) => ("refresh", t.access_token.secret().to_owned()),
            AfterLock::SignedOut => ("signed out", String::new()),
        }
    }

    #[test]
    fn after_lock_table() {
        // Stored tokens obtained at 1_000, expiring at 4_600.
        let stored = set("a2", Some("r"), 1_000);
        let s = Some(&stored);
        // (stored, seen, rejected, now, expected decision and its access token)
        type Case<'a> = (Option<&'a TokenSet>, &'a str, bool, u64, (&'a str, &'a str));
        let cases: &[Case<'_>] = &[
            // Another tab refreshed: adopt without a request, whether this tab's token was rejected or aging.
            (s, "a1", true, 1_100, ("adopt", "a2")),
            (s, "a1", false, 1_100, ("adopt", "a2")),
            // This tab holds the stored token and Spotify rejected it: refresh.
            (s, "a2", true, 1_100, ("refresh", "a2")),
            // It is about to expire (inside the 60 s margin): refresh, whoever stored it.
            (s, "a2", false, 4_540, ("refresh", "a2")),
            (s, "a1", false, 4_540, ("refresh", "a2")),
            (s, "a1", true, 9_999, ("refresh", "a2")),
            // Same token, still fresh, not rejected: nothing to do (the lock was queued behind a refresh
            // that this tab already adopted).
            (s, "a2", false, 1_100, ("adopt", "a2")),
            (None, "a2", true, 1_100, ("signed out", "")),
        ];
        for (i, (stored, seen, rejected, now, (what, access))) in cases.iter().enumerate() {
            assert_eq!(decide(*stored, seen, *rejected, *now), (*what, access.to_string()), "case {i}");
        }
    }

    #[test]
    fn a_stale_storage_read_is_covered_by_the_broadcast_tokens() {
        let old = set("a1", Some("r1"), 0);
        let new = set("a2", Some("r2"), 100);
        // Storage still shows a1 to this tab, but the broadcast already brought a2: no second refresh.
        assert_eq!(decide2(Some(&old), Some(&new), "a1", true, 200), ("adopt", "a2".into()));
        // Storage is ahead of the tab: storage wins.
        assert_eq!(decide2(Some(&new), Some(&old), "a1", true, 200), ("adopt", "a2".into()));
        // Neither moved: refresh.
        assert_eq!(decide2(Some(&old), Some(&old), "a1", true, 200), ("refresh", "a1".into()));
        // Signed out elsewhere: the tab's copy does not resurrect the session.
        assert_eq!(decide2(None, Some(&new), "a1", true, 200), ("signed out", String::new()));
    }

    #[test]
    fn ten_tabs_make_one_refresh() {
        // Ten tabs saw "a1" rejected. They take the lock in turn; the first refreshes and stores "a2".
        let mut stored = set("a1", Some("r1"), 0);
        let mut refreshes = 0;
        for _ in 0..10 {
            match after_lock(Some(&stored), None, &token("a1"), true, 100, 60) {
                AfterLock::Refresh(t) => {
                    refreshes += 1;
                    stored = set("a2", t.refresh_token.as_ref().map(RefreshToken::secret), 100);
                }
                AfterLock::Adopt(t) => assert_eq!(t.access_token.secret(), "a2"),
                AfterLock::SignedOut => panic!("signed out"),
            }
        }
        assert_eq!(refreshes, 1);
    }

    #[test]
    fn invalid_grant_rescue_only_when_another_tab_rotated() {
        let used = RefreshToken::new("r1".into());
        let rotated = set("a2", Some("r2"), 0);
        let same = set("a1", Some("r1"), 0);
        let none = set("a1", None, 0);
        let rescued = rescue_after_invalid_grant(Some(&rotated), None, &used).expect("rotated elsewhere");
        assert_eq!(rescued.access_token.secret(), "a2");
        let rescued = rescue_after_invalid_grant(Some(&same), Some(&rotated), &used).expect("told by broadcast");
        assert_eq!(rescued.access_token.secret(), "a2");
        assert!(rescue_after_invalid_grant(Some(&same), Some(&same), &used).is_none());
        assert!(rescue_after_invalid_grant(Some(&none), None, &used).is_none());
        assert!(rescue_after_invalid_grant(None, None, &used).is_none());
    }

    #[test]
    fn expiry_warning_from_fourteen_days_before() {
        let t = set("a", Some("r"), 1_000);
        let ends = t.refresh_token_expires_at();
        assert_eq!(ends, 1_000 + 183 * DAY);
        assert_eq!(expiry_warning(&t, 1_000), None);
        assert_eq!(expiry_warning(&t, ends - 14 * DAY - 1), None);
        assert_eq!(expiry_warning(&t, ends - 14 * DAY), Some(14));
        assert_eq!(expiry_warning(&t, ends - 13 * DAY - 1), Some(14));
        assert_eq!(expiry_warning(&t, ends - 13 * DAY), Some(13));
        assert_eq!(expiry_warning(&t, ends - 1), Some(1));
        assert_eq!(expiry_warning(&t, ends), Some(0));
        assert_eq!(expiry_warning(&t, u64::MAX), Some(0));
        // Refreshing does not move it.
        let refreshed = t.after_refresh(
            TokenResponse {
                access_token: token("b"),
                token_type: "Bearer".into(),
                scope: String::new(),
                expires_in: 3600,
                refresh_token: None,
            },
            ends - 5 * DAY,
        );
        assert_eq!(expiry_warning(&refreshed, ends - 5 * DAY), Some(5));
        assert_eq!(expiry_warning(&set("a", None, 1_000), ends), None);
    }

    #[test]
    fn token_change_pushes() {
        let signed_in = TokenChange::SignedIn(set("a1", Some("r1"), 0));
        assert_eq!(signed_in.tokens().access_token.secret(), "a1");
        assert_eq!(signed_in.push().expect("push").prev_refresh_sha256, None);
        let used = RefreshToken::new("r1".into());
        let refreshed = TokenChange::Refreshed { tokens: set("a2", Some("r2"), 0), used: used.clone() };
        let p = refreshed.push().expect("push");
        assert_eq!(p.prev_refresh_sha256, Some(used.sha256_hex()));
        assert_eq!(p.refresh_token.secret(), "r2");
        assert!(TokenChange::SignedIn(set("a", None, 0)).push().is_none());
    }

    #[test]
    fn tab_messages_round_trip() {
        for (msg, json) in [
            (TabMessage::SignedOut, r#"{"kind":"signed_out"}"#.to_owned()),
            (TabMessage::SignInAgain { why: "Gone.".into() }, r#"{"kind":"sign_in_again","why":"Gone."}"#.to_owned()),
        ] {
            assert_eq!(serde_json::to_string(&msg).expect("json"), json);
            let back = serde_json::from_str::<TabMessage>(&json).expect("json");
            assert_eq!(format!("{back:?}"), format!("{msg:?}"));
        }
        let msg = TabMessage::Tokens { tokens: set("ACCESS-x", Some("REFRESH-y"), 7) };
        let json = serde_json::to_string(&msg).expect("json");
        let TabMessage::Tokens { tokens } = serde_json::from_str(&json).expect("json") else { panic!("tokens") };
        assert_eq!(tokens.access_token.secret(), "ACCESS-x");
        assert_eq!(tokens.authorized_at, 7);
        assert!(!format!("{msg:?}").contains("ACCESS-x"));
        assert!(serde_json::from_str::<TabMessage>(r#"{"kind":"other"}"#).is_err());
    }
}
