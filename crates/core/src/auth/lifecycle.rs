//! The token lifecycle across the tabs of one origin: when to refresh, what a tab does once it holds the
//! refresh lock, how many token requests the origin may send, when a rejected refresh token is really the end,
//! and when to warn that it soon will be.
//!
//! The app holds an exclusive Web Lock around [`after_lock`] and the refresh it may call for, and re-reads the
//! shared tokens and [`TokenRequestBudget`] from storage first: N tabs whose access token lapses together then
//! make one token request, because every tab after the first finds the new tokens already stored. Whatever the
//! accounts service answers (lifetimes of 0 s, refusals, nothing at all), the budget keeps the origin at
//! [`MAX_TOKEN_REQUESTS`] per [`TOKEN_REQUEST_WINDOW_SECS`]. Time is a parameter (unix seconds).

use serde::{Deserialize, Serialize};

use crate::{AccessToken, RefreshToken, TokenPush, TokenSet};

/// Warn this long before the refresh token's six months run out.
pub const REFRESH_WARNING_SECS: u64 = 14 * 24 * 60 * 60;

/// The most token requests (refreshes and code exchanges) one origin sends in any [`TOKEN_REQUEST_WINDOW_SECS`].
/// A well-behaved accounts service needs one per access-token lifetime; six a minute leaves room for a sign-in
/// and for refreshes that fail on the way, and bounds the damage of one that grants uselessly short tokens.
pub const MAX_TOKEN_REQUESTS: usize = 6;

/// The rolling window of [`MAX_TOKEN_REQUESTS`], in seconds.
pub const TOKEN_REQUEST_WINDOW_SECS: u64 = 60;

/// The token requests this origin sent recently: shared by its tabs (the app stores it next to the tokens and
/// reads and writes it under the refresh lock) and serialized as a JSON array of unix seconds.
///
/// A request sent during second `t` counts until second `t + 61` begins: the caller's whole seconds are floored,
/// so counting one more second makes the bound hold for any 60 real seconds. A time after `now` (the clock
/// went back) counts as `now`, so a wait never exceeds the window and that one second.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenRequestBudget {
    sent: Vec<u64>,
}

impl TokenRequestBudget {
    /// The times that still count at `now`, oldest first.
    fn counted(&self, now: u64) -> Vec<u64> {
        let mut counted: Vec<u64> =
            self.sent.iter().map(|&t| t.min(now)).filter(|&t| now - t <= TOKEN_REQUEST_WINDOW_SECS).collect();
        crate::sort_with(&mut counted, &Ord::cmp);
        counted
    }

    /// Seconds from `now` until one more token request fits: 0 when one fits now, at most
    /// `TOKEN_REQUEST_WINDOW_SECS + 1`.
    pub fn wait_secs(&self, now: u64) -> u64 {
        let counted = self.counted(now);
        if counted.len() < MAX_TOKEN_REQUESTS {
            return 0;
        }
        // Once this one stops counting, fewer than the maximum remain.
        let frees = counted[counted.len() - MAX_TOKEN_REQUESTS];
        frees.saturating_add(TOKEN_REQUEST_WINDOW_SECS + 1) - now
    }

    /// Whether one more token request fits at `now`.
    pub fn allows(&self, now: u64) -> bool {
        self.wait_secs(now) == 0
    }

    /// Counts a token request sent at `now`. Only what still counts is kept, at most [`MAX_TOKEN_REQUESTS`]
    /// entries (the newest), so the stored list stays small whatever it was before.
    pub fn record(&mut self, now: u64) {
        let mut sent = self.counted(now);
        sent.push(now);
        let extra = sent.len().saturating_sub(MAX_TOKEN_REQUESTS);
        sent.drain(..extra);
        self.sent = sent;
    }
}

/// What a tab does after acquiring the refresh lock and re-reading the stored tokens.
#[derive(Clone, Debug)]
pub enum AfterLock {
    /// Use these tokens as they are: another tab refreshed already, no refresh is needed, or the token request
    /// budget is spent and these still work.
    Adopt(TokenSet),
    /// Refresh, with the refresh token of these (the newest known) tokens. The request is already counted in
    /// the budget passed to [`after_lock`]; store that budget before sending. Without a refresh token nothing is
    /// counted: the sign-in ends without a request.
    Refresh(TokenSet),
    /// Send nothing: the token request budget is spent and the newest tokens no longer work (expired, or refused
    /// by Spotify). Release the lock, wait this many seconds, then decide again.
    Wait { secs: u64 },
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

/// Decides, under the refresh lock, between adopting newer tokens, refreshing and waiting.
///
/// `seen` is the access token this tab last used; `rejected` says Spotify answered 401 to it. Tokens that differ
/// from `seen` (see [`newest`] for where they come from) were obtained by another tab after this one read its
/// own, so they are adopted unless they too need a refresh ([`TokenSet::needs_refresh`], a margin sized by
/// their lifetime). The same tokens are refreshed when they were rejected or need a refresh. A refresh always
/// uses the newest refresh token, never a stale copy: with rotation, a stale copy may already be spent.
///
/// A refresh is only decided while `budget` (the origin's, re-read under the lock) allows one, and is counted
/// in it. Once it is spent, tokens that still work are used through their margin, and otherwise the answer is
/// [`AfterLock::Wait`]: no sequence of answers from the accounts service gets more than [`MAX_TOKEN_REQUESTS`]
/// out of this in any [`TOKEN_REQUEST_WINDOW_SECS`].
pub fn after_lock(
    stored: Option<&TokenSet>,
    in_tab: Option<&TokenSet>,
    seen: &AccessToken,
    rejected: bool,
    now: u64,
    budget: &mut TokenRequestBudget,
) -> AfterLock {
    let Some(newest) = newest(stored, in_tab, seen) else { return AfterLock::SignedOut };
    let refused = rejected && newest.access_token.secret() == seen.secret();
    if !refused && !newest.needs_refresh(now) {
        return AfterLock::Adopt(newest.clone());
    }
    // Without a refresh token the refresh ends the sign-in and sends nothing: the budget has no say.
    if newest.refresh_token.is_none() {
        return AfterLock::Refresh(newest.clone());
    }
    if budget.allows(now) {
        budget.record(now);
        return AfterLock::Refresh(newest.clone());
    }
    if !refused && !newest.is_expired(now) {
        return AfterLock::Adopt(newest.clone());
    }
    AfterLock::Wait { secs: budget.wait_secs(now) }
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
    use proptest::prelude::*;

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
        let mut budget = TokenRequestBudget::default();
        match after_lock(stored, in_tab, &token(seen), rejected, now, &mut budget) {
            AfterLock::Adopt(t) => ("adopt", t.access_token.secret().to_owned()),
            AfterLock::Refresh(t) => ("refresh", t.access_token.secret().to_owned()),
            AfterLock::Wait { .. } => panic!("an unused budget never waits"),
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
        let mut budget = TokenRequestBudget::default();
        for _ in 0..10 {
            match after_lock(Some(&stored), None, &token("a1"), true, 100, &mut budget) {
                AfterLock::Refresh(t) => {
                    refreshes += 1;
                    stored = set("a2", t.refresh_token.as_ref().map(RefreshToken::secret), 100);
                }
                AfterLock::Adopt(t) => assert_eq!(t.access_token.secret(), "a2"),
                AfterLock::Wait { .. } => panic!("one request cannot spend the budget"),
                AfterLock::SignedOut => panic!("signed out"),
            }
        }
        assert_eq!(refreshes, 1);
        assert_eq!(budget, TokenRequestBudget { sent: vec![100] });
    }

    /// Tokens obtained at `now` with the lifetime `expires_in` the accounts service granted.
    fn granted(access: &str, refresh: Option<&str>, expires_in: u64, now: u64) -> TokenSet {
        TokenSet::from_sign_in(
            TokenResponse {
                access_token: token(access),
                token_type: "Bearer".into(),
                scope: "s".into(),
                expires_in,
                refresh_token: refresh.map(|r| RefreshToken::new(r.into())),
            },
            now,
        )
    }

    /// A budget with the six requests of `times` already sent.
    fn spent(times: [u64; MAX_TOKEN_REQUESTS]) -> TokenRequestBudget {
        let mut budget = TokenRequestBudget::default();
        for t in times {
            assert!(budget.allows(t));
            budget.record(t);
        }
        budget
    }

    fn what(decision: &AfterLock) -> (&'static str, String) {
        match decision {
            AfterLock::Adopt(t) => ("adopt", t.access_token.secret().to_owned()),
            AfterLock::Refresh(t) => ("refresh", t.access_token.secret().to_owned()),
            AfterLock::Wait { secs } => ("wait", secs.to_string()),
            AfterLock::SignedOut => ("signed out", String::new()),
        }
    }

    #[test]
    fn the_budget_allows_six_requests_in_any_sixty_seconds() {
        let mut budget = spent([100, 110, 120, 130, 140, 150]);
        // The request of second 100 counts through second 160 (the whole of it), so the next fits at 161.
        assert_eq!(budget.wait_secs(150), 11);
        assert_eq!(budget.wait_secs(160), 1);
        assert!(!budget.allows(160));
        assert!(budget.allows(161));
        budget.record(161);
        assert_eq!(budget.wait_secs(161), 10);
        assert!(budget.allows(171));
        // A burst within one second waits the whole window and one second.
        let burst = spent([500; MAX_TOKEN_REQUESTS]);
        assert_eq!(burst.wait_secs(500), TOKEN_REQUEST_WINDOW_SECS + 1);
        assert_eq!(burst.wait_secs(560), 1);
        assert_eq!(burst.wait_secs(561), 0);
        // Near the end of time nothing overflows.
        let late = spent([u64::MAX; MAX_TOKEN_REQUESTS]);
        assert!(late.wait_secs(u64::MAX) <= TOKEN_REQUEST_WINDOW_SECS + 1);
        assert_eq!(TokenRequestBudget::default().wait_secs(0), 0);
    }

    #[test]
    fn a_clock_that_went_back_never_makes_a_wait_longer_than_the_window() {
        let budget = spent([10_000; MAX_TOKEN_REQUESTS]);
        // The requests "from the future" count as sent now: one window, not the hours the clock jumped.
        assert_eq!(budget.wait_secs(3_000), TOKEN_REQUEST_WINDOW_SECS + 1);
        let mut budget = budget;
        budget.record(3_061);
        assert_eq!(budget.wait_secs(3_061), TOKEN_REQUEST_WINDOW_SECS + 1);
        // Jumping forward past the window forgets them.
        assert!(spent([10_000; MAX_TOKEN_REQUESTS]).allows(10_061));
    }

    #[test]
    fn the_stored_budget_stays_small_and_round_trips() {
        let mut budget = TokenRequestBudget::default();
        for t in 0..100 {
            budget.record(t / 10);
        }
        assert_eq!(budget.sent.len(), MAX_TOKEN_REQUESTS);
        let json = serde_json::to_string(&budget).expect("json");
        assert_eq!(json, "[9,9,9,9,9,9]");
        assert_eq!(serde_json::from_str::<TokenRequestBudget>(&json).expect("json"), budget);
        // Whatever was stored before, recording keeps only what counts.
        let mut stored: TokenRequestBudget = serde_json::from_str(&format!("[{}1]", "5,".repeat(1_000))).expect("json");
        assert_eq!(stored.wait_secs(5), TOKEN_REQUEST_WINDOW_SECS + 1);
        stored.record(100);
        assert_eq!(stored.sent, vec![100]);
        assert!(serde_json::from_str::<TokenRequestBudget>(r#"{"sent":[1]}"#).is_err());
    }

    #[test]
    fn after_lock_with_the_budget_spent() {
        let now = 1_000;
        let full = || spent([now - 50, now - 40, now - 30, now - 20, now - 10, now]);
        // (stored, seen, rejected, decision); stored tokens are 20 s ones, so due for refresh 5 s before their end.
        let in_margin = granted("a", Some("r"), 20, now - 17);
        let expired = granted("a", Some("r"), 20, now - 20);
        let fresh = granted("b", Some("r"), 20, now - 1);
        let no_refresh_token = granted("a", None, 20, now - 20);
        type Case<'a> = (&'a TokenSet, &'a str, bool, (&'a str, &'a str));
        let cases: &[Case<'_>] = &[
            // Still works: used through its margin instead of refreshed.
            (&in_margin, "a", false, ("adopt", "a")),
            // Expired, or refused by Spotify: nothing to use and nothing may be sent before the oldest request of
            // the window (second 950) stops counting at second 1_011.
            (&expired, "a", false, ("wait", "11")),
            (&in_margin, "a", true, ("wait", "11")),
            // Another tab's fresh tokens are adopted as ever, also after a 401 to this tab's old token.
            (&fresh, "a", true, ("adopt", "b")),
            // Without a refresh token the "refresh" ends the sign-in and sends nothing.
            (&no_refresh_token, "a", false, ("refresh", "a")),
        ];
        for (i, (stored, seen, rejected, (kind, detail))) in cases.iter().enumerate() {
            let mut budget = full();
            let decision = after_lock(Some(stored), None, &token(seen), *rejected, now, &mut budget);
            assert_eq!(what(&decision), (*kind, detail.to_string()), "case {i}");
            assert_eq!(budget, full(), "case {i}: nothing was counted");
        }
        // Once the wait is over the refresh goes out, and is counted.
        let mut budget = full();
        let decision = after_lock(Some(&expired), None, &token("a"), false, now + 11, &mut budget);
        assert_eq!(what(&decision), ("refresh", "a".into()));
        assert!(!budget.allows(now + 11));
        assert_eq!(budget.wait_secs(now + 11), 10);
    }

    #[test]
    fn after_lock_counts_the_refreshes_it_decides() {
        let mut budget = TokenRequestBudget::default();
        let stored = granted("a", Some("r"), 20, 1_000);
        // A fresh 20 s token is used, not refreshed: the fixed 60 s margin made every such token "expiring".
        assert_eq!(
            what(&after_lock(Some(&stored), None, &token("a"), false, 1_000, &mut budget)),
            ("adopt", "a".into())
        );
        assert!(budget.sent.is_empty());
        assert_eq!(
            what(&after_lock(Some(&stored), None, &token("a"), false, 1_015, &mut budget)),
            ("refresh", "a".into())
        );
        assert_eq!(budget.sent, vec![1_015]);
        // Refused by Spotify although it is fresh: refreshed once more.
        assert_eq!(
            what(&after_lock(Some(&stored), None, &token("a"), true, 1_016, &mut budget)),
            ("refresh", "a".into())
        );
        assert_eq!(budget.sent, vec![1_015, 1_016]);
    }

    /// The tabs of one origin, their stored tokens and their budget, as the app keeps them.
    struct Origin {
        stored: TokenSet,
        tabs: Vec<TokenSet>,
        budget: TokenRequestBudget,
        issued: u64,
    }

    impl Origin {
        fn new(tabs: usize, expires_in: u64, now: u64) -> Self {
            let stored = granted("a0", Some("r"), expires_in, now);
            Self { tabs: vec![stored.clone(); tabs], stored, budget: TokenRequestBudget::default(), issued: 0 }
        }

        /// What the app does for one Web API call of `tab` at `now`: its own token unless it needs a refresh or
        /// Spotify `rejected` it, else [`after_lock`]. A refresh is answered with a token that lives `answer`
        /// seconds (`None`: the request failed), broadcast to the other tabs if `delivered`.
        fn call(&mut self, tab: usize, now: u64, rejected: bool, answer: Option<u64>, delivered: bool) -> AfterLock {
            let own = &self.tabs[tab];
            if !rejected && !own.needs_refresh(now) {
                return AfterLock::Adopt(own.clone());
            }
            let seen = own.access_token.clone();
            let decision = after_lock(Some(&self.stored), Some(own), &seen, rejected, now, &mut self.budget);
            match &decision {
                AfterLock::Adopt(t) => self.tabs[tab] = t.clone(),
                AfterLock::Refresh(t) => {
                    if let Some(expires_in) = answer {
                        self.issued += 1;
                        let next = t.after_refresh(
                            TokenResponse {
                                access_token: token(&format!("a{}", self.issued)),
                                token_type: "Bearer".into(),
                                scope: String::new(),
                                expires_in,
                                refresh_token: None,
                            },
                            now,
                        );
                        self.stored = next.clone();
                        self.tabs[tab] = next.clone();
                        if delivered {
                            self.tabs.iter_mut().for_each(|t| *t = next.clone());
                        }
                    }
                }
                AfterLock::Wait { secs } => {
                    assert!((1..=TOKEN_REQUEST_WINDOW_SECS + 1).contains(secs), "wait {secs}");
                    assert!(self.budget.allows(now + secs) && !self.budget.allows(now + secs - 1), "wait {secs}");
                }
                AfterLock::SignedOut => panic!("tokens are always stored here"),
            }
            decision
        }
    }

    /// Whether no `TOKEN_REQUEST_WINDOW_SECS` real seconds hold more than `MAX_TOKEN_REQUESTS` of `sent` (whole
    /// seconds, floored, in order): the first and the last of any one more than that are over a window apart.
    fn within_bound(sent: &[u64]) -> bool {
        sent.windows(MAX_TOKEN_REQUESTS + 1).all(|w| w[MAX_TOKEN_REQUESTS] - w[0] > TOKEN_REQUEST_WINDOW_SECS)
    }

    #[test]
    fn three_busy_tabs_with_twenty_second_tokens_refresh_every_fifteen_seconds() {
        let mut origin = Origin::new(3, 20, 0);
        let mut sent = Vec::new();
        for now in 0..600 {
            for tab in 0..3 {
                if let AfterLock::Refresh(_) = origin.call(tab, now, false, Some(20), true) {
                    sent.push(now);
                }
            }
        }
        // Once per token, 5 s before its end: not on every call of every tab.
        assert_eq!(sent, (1..40).map(|k| 15 * k).collect::<Vec<_>>());
        assert!(within_bound(&sent));
    }

    #[test]
    fn an_accounts_service_granting_zero_second_tokens_gets_six_requests_a_minute() {
        let mut origin = Origin::new(3, 0, 0);
        let mut sent = Vec::new();
        for now in 0..600 {
            for tab in 0..3 {
                // Spotify refuses every token; each tab retries every second, ignoring the waits it is told.
                if let AfterLock::Refresh(_) = origin.call(tab, now, true, Some(0), true) {
                    sent.push(now);
                }
            }
        }
        assert!(within_bound(&sent), "{sent:?}");
        // Six every 61 s: bounded, and still trying.
        assert_eq!(sent.len(), 60);
        assert_eq!(&sent[..9], &[0, 0, 0, 1, 1, 1, 61, 61, 61]);
    }

    fn answer() -> impl Strategy<Value = Option<u64>> {
        prop_oneof![
            2 => Just(None),
            3 => (0u64..5).prop_map(Some),
            3 => (0u64..400).prop_map(Some),
            1 => Just(Some(3600)),
            1 => any::<u64>().prop_map(Some),
            1 => Just(Some(u64::MAX)),
        ]
    }

    proptest! {
        /// Issue 11: whatever the accounts service answers (any `expires_in`, failures), whatever Spotify refuses,
        /// however many calls the tabs make and however the broadcasts arrive, the origin sends at most
        /// `MAX_TOKEN_REQUESTS` token requests in any `TOKEN_REQUEST_WINDOW_SECS`.
        #[test]
        fn no_sequence_of_answers_exceeds_the_bound(
            tabs in 1usize..5,
            first in answer(),
            calls in prop::collection::vec(
                (any::<prop::sample::Index>(), prop_oneof![3 => Just(0u64), 3 => 0u64..5, 1 => 0u64..120], any::<bool>(), answer(), any::<bool>()),
                1..400,
            ),
        ) {
            let mut now = 1_000_000;
            let mut origin = Origin::new(tabs, first.unwrap_or(0), now);
            let mut sent = Vec::new();
            for (tab, dt, rejected, answer, delivered) in calls {
                now += dt;
                if let AfterLock::Refresh(t) = origin.call(tab.index(tabs), now, rejected, answer, delivered) {
                    prop_assert!(t.refresh_token.is_some());
                    sent.push(now);
                }
            }
            prop_assert!(within_bound(&sent), "{:?}", sent);
        }
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
