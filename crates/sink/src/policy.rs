//! The chain rule and the write policy for one user's record: given what is stored and a verified push, decide
//! whether to write, answer `unchanged`, refuse with 409, or hold a sign-in back for the write budget. Pure: the
//! sink's clock is a parameter, and the sender's clock decides nothing.

use setlist_core::TokenPush;

use crate::StoredRecord;

/// Write a same-chain access token only when the stored one has less than this left (15 minutes): with hourly
/// tokens that is at most one write per refresh, well under AWS's guidance of one write per 10 minutes per secret.
pub const REWRITE_WHEN_SECS_LEFT: u64 = 15 * 60;
/// The budget's window.
pub const SIGN_IN_WINDOW_SECS: u64 = 60 * 60;
/// Default sign-in writes per user per hour. A person signs in a handful of times a day; a flood of sign-in pushes
/// (one access token can make any number) must not turn into a flood of secret versions.
pub const DEFAULT_SIGN_INS_PER_HOUR: u32 = 6;

/// Settings of the write policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Sign-in writes allowed per user in any hour (at least 1).
    pub sign_ins_per_hour: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self { sign_ins_per_hour: DEFAULT_SIGN_INS_PER_HOUR }
    }
}

/// What to do with a push.
// One per push, matched at once: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Decision {
    /// Store this record (its generation is the stored one plus one).
    Write(StoredRecord, WriteReason),
    /// Nothing to do: the store already holds these tokens or ones at least as good.
    Unchanged,
    /// The push is not a successor of what is stored: a stale link of the chain or a fork.
    Conflict,
    /// A sign-in over the user's hourly budget: nothing is written; ask again after this many seconds.
    OverBudget { retry_after_secs: u64 },
}

/// Why a push is written, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteReason {
    /// The user had no record.
    First,
    /// Same refresh token, newer access token, and the stored one had under 15 minutes left.
    Refresh,
    /// `prev_refresh_sha256` equals the stored refresh token's hash: the refresh token was rotated.
    Rotation,
    /// `prev_refresh_sha256` is null: a new sign-in of the same user, within the budget.
    SignIn,
}

/// Decides `push` from `user_id` (already verified and allow-listed) against that user's stored record at the
/// sink's `now`.
///
/// - Same refresh token: the newer access token (by the sink's clock, [`TokenPush::expires_at_by`]) is written
///   only when the stored one has under 15 minutes left; otherwise, and for an exact replay, `Unchanged`.
/// - A refresh token the record held before: a replay of an older link, `Conflict`.
/// - `prev_refresh_sha256` equal to the stored hash: a rotation, written.
/// - `prev_refresh_sha256` null: a sign-in. Sign-ins are ordered by arrival at the sink, so the newest one
///   received wins, within [`Policy::sign_ins_per_hour`].
/// - Anything else: `Conflict`.
pub fn decide(
    stored: Option<&StoredRecord>,
    push: &TokenPush,
    user_id: &str,
    now: u64,
    policy: Policy,
) -> Decision {
    let Some(stored) = stored else {
        return Decision::Write(StoredRecord::first(push, user_id, now), WriteReason::First);
    };
    // Records are per user, so this only catches a record put under the wrong name by hand.
    if stored.user_id != user_id {
        return Decision::Conflict;
    }
    let rt_sha256 = push.rt_sha256();
    if rt_sha256 == stored.rt_sha256 {
        if push.access_token.sha256_hex() == stored.access_token.sha256_hex() {
            return Decision::Unchanged;
        }
        let newer = push.expires_at_by(now) > stored.expires_at;
        let running_out = stored.access_token_secs_left(now) < REWRITE_WHEN_SECS_LEFT;
        return if newer && running_out {
            Decision::Write(stored.next(push, now), WriteReason::Refresh)
        } else {
            Decision::Unchanged
        };
    }
    if stored.superseded.contains(&rt_sha256) {
        return Decision::Conflict;
    }
    match &push.prev_refresh_sha256 {
        Some(prev) if *prev == stored.rt_sha256 => {
            Decision::Write(stored.next(push, now), WriteReason::Rotation)
        }
        None => sign_in(stored, push, now, policy),
        Some(_) => Decision::Conflict,
    }
}

fn sign_in(stored: &StoredRecord, push: &TokenPush, now: u64, policy: Policy) -> Decision {
    let window_start = now.saturating_sub(SIGN_IN_WINDOW_SECS);
    let mut recent: Vec<u64> = stored.sign_ins.iter().copied().filter(|at| *at > window_start && *at <= now).collect();
    if recent.len() >= policy.sign_ins_per_hour.max(1) as usize {
        let oldest = recent.iter().copied().min().unwrap_or(now);
        let retry_after_secs = (oldest + SIGN_IN_WINDOW_SECS).saturating_sub(now).max(1);
        return Decision::OverBudget { retry_after_secs };
    }
    recent.push(now);
    let mut record = stored.next(push, now);
    record.signed_in_at = now;
    record.sign_ins = recent;
    Decision::Write(record, WriteReason::SignIn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use setlist_core::{sha256_hex, AccessToken, RefreshToken};

    const NOW: u64 = 1_800_000_000;
    const ALICE: &str = "alice.setlist";
    const POLICY: Policy = Policy { sign_ins_per_hour: 3 };

    fn push(at: &str, expires_at: u64, rt: &str, prev: Option<&str>, authorized_at: u64) -> TokenPush {
        TokenPush {
            access_token: AccessToken::new(at.into()),
            expires_at,
            refresh_token: RefreshToken::new(rt.into()),
            scope: String::new(),
            authorized_at,
            prev_refresh_sha256: prev.map(|rt| sha256_hex(rt.as_bytes())),
        }
    }

    fn stored(at: &str, expires_at: u64, rt: &str, written_at: u64) -> StoredRecord {
        StoredRecord::first(&push(at, expires_at, rt, None, written_at), ALICE, written_at)
    }

    fn written(decision: Decision) -> (StoredRecord, WriteReason) {
        match decision {
            Decision::Write(record, reason) => (record, reason),
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_record_takes_the_first_push() {
        let (record, reason) = written(decide(None, &push("a", NOW + 3600, "r", None, NOW), ALICE, NOW, POLICY));
        assert_eq!((record.generation, reason), (1, WriteReason::First));
        assert_eq!(record.rt_sha256, sha256_hex(b"r"));
        assert_eq!(record.sign_ins, [NOW]);
    }

    #[test]
    fn same_refresh_token_writes_only_when_the_stored_token_runs_out() {
        let current = stored("a1", NOW + 3000, "r", NOW - 600);
        let newer = push("a2", NOW + 3600, "r", Some("r"), NOW - 600);
        assert!(matches!(decide(Some(&current), &newer, ALICE, NOW, POLICY), Decision::Unchanged));
        // 14 minutes left: time to write.
        let later = NOW + 3000 - 14 * 60;
        let newer = push("a2", later + 3600, "r", Some("r"), NOW - 600);
        let (record, reason) = written(decide(Some(&current), &newer, ALICE, later, POLICY));
        assert_eq!((record.generation, reason), (2, WriteReason::Refresh));
        // An older access token never replaces a newer one.
        let older = push("a0", NOW + 10, "r", Some("r"), NOW - 600);
        assert!(matches!(decide(Some(&current), &older, ALICE, later, POLICY), Decision::Unchanged));
    }

    #[test]
    fn an_exact_replay_is_unchanged_even_when_running_out() {
        let current = stored("a1", NOW + 60, "r", NOW - 600);
        let replay = push("a1", NOW + 60, "r", None, NOW - 600);
        assert!(matches!(decide(Some(&current), &replay, ALICE, NOW, POLICY), Decision::Unchanged));
    }

    #[test]
    fn the_senders_clock_decides_no_freshness() {
        // Point 2: a browser 3 h fast claims its token lives 4 h; the sink keeps an hour at most.
        let (record, _) = written(decide(None, &push("a1", NOW + 4 * 3600, "r", None, NOW + 3 * 3600), ALICE, NOW, POLICY));
        assert_eq!(record.expires_at, NOW + 3600);
        // So when that token really runs out, the next one is written rather than answered `unchanged`.
        let later = NOW + 3600 - 60;
        let next = push("a2", later + 4 * 3600, "r", Some("r"), NOW + 3 * 3600);
        let (record, reason) = written(decide(Some(&record), &next, ALICE, later, POLICY));
        assert_eq!((reason, record.expires_at), (WriteReason::Refresh, later + 3600));
        // A browser 1 h slow: its fresh token claims to be expired already, and is still stored (Spotify said it
        // works); it counts as running out, so the next refresh is written too.
        let (slow, _) = written(decide(None, &push("b1", NOW, "s", None, NOW - 3600), "bruno.setlist", NOW, POLICY));
        assert_eq!(slow.expires_at, NOW);
        let next = push("b2", NOW + 5, "s", Some("s"), NOW - 3600);
        assert!(matches!(decide(Some(&slow), &next, "bruno.setlist", NOW + 10, POLICY), Decision::Write(_, WriteReason::Refresh)));
    }

    #[test]
    fn a_rotation_from_the_stored_token_is_written_and_forks_conflict() {
        let current = stored("a1", NOW + 3000, "r1", NOW - 600);
        let (record, reason) =
            written(decide(Some(&current), &push("a2", NOW + 3600, "r2", Some("r1"), NOW - 600), ALICE, NOW, POLICY));
        assert_eq!((record.generation, reason), (2, WriteReason::Rotation));
        assert_eq!(record.superseded, [sha256_hex(b"r1")]);
        let fork = push("a3", NOW + 3600, "r3", Some("r0"), NOW - 600);
        assert!(matches!(decide(Some(&current), &fork, ALICE, NOW, POLICY), Decision::Conflict));
        // A record under the wrong name is never overwritten.
        assert!(matches!(
            decide(Some(&current), &push("a2", NOW + 3600, "r2", Some("r1"), NOW), "bruno.setlist", NOW, POLICY),
            Decision::Conflict
        ));
    }

    #[test]
    fn sign_ins_are_ordered_by_arrival_not_by_the_claimed_time() {
        // Point 2: a sign-in claiming a time a day ahead is stored, and a real sign-in after it still wins.
        let current = stored("a1", NOW + 3000, "r1", NOW - 600);
        let future = push("a2", NOW + 86_400 + 3600, "r2", None, NOW + 86_400);
        let (record, reason) = written(decide(Some(&current), &future, ALICE, NOW, POLICY));
        assert_eq!((reason, record.signed_in_at), (WriteReason::SignIn, NOW));
        let real = push("a3", NOW + 60 + 3600, "r3", None, NOW + 60);
        let (record, reason) = written(decide(Some(&record), &real, ALICE, NOW + 60, POLICY));
        assert_eq!((reason, record.signed_in_at, record.rt_sha256.clone()), (WriteReason::SignIn, NOW + 60, sha256_hex(b"r3")));
        // An older link of the chain replayed as a sign-in is refused: it would put a spent token back.
        let replay = push("a1", NOW + 3000, "r1", None, NOW - 600);
        assert!(matches!(decide(Some(&record), &replay, ALICE, NOW + 61, POLICY), Decision::Conflict));
    }

    #[test]
    fn sign_ins_are_held_to_the_budget() {
        // Point 5: a burst of sign-ins from one access token writes at most the budget per hour.
        let mut record = stored("a0", NOW + 3600, "r0", NOW);
        let mut writes = 0;
        let mut refused = None;
        for i in 1..=30u64 {
            let p = push(&format!("a{i}"), NOW + 3600, &format!("r{i}"), None, NOW);
            match decide(Some(&record), &p, ALICE, NOW + i, POLICY) {
                Decision::Write(next, WriteReason::SignIn) => {
                    record = next;
                    writes += 1;
                }
                Decision::OverBudget { retry_after_secs } => refused = Some(retry_after_secs),
                other => panic!("{other:?}"),
            }
        }
        // The first write counted as one sign-in of the three.
        assert_eq!(writes, 2);
        assert_eq!(refused, Some(3600 - 30));
        // An hour after the first, there is room again.
        let p = push("late", NOW + 7200, "late", None, NOW);
        assert!(matches!(decide(Some(&record), &p, ALICE, NOW + 3601, POLICY), Decision::Write(_, WriteReason::SignIn)));
        // Refreshes and rotations are not sign-ins.
        let rotation = push("rot", NOW + 3700, "rot", Some("r2"), NOW);
        assert!(matches!(decide(Some(&record), &rotation, ALICE, NOW + 40, POLICY), Decision::Write(_, WriteReason::Rotation)));
    }
}
