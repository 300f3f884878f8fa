//! The chain rule and the write policy: given what is stored and a verified push, decide whether to write, answer
//! `unchanged`, or refuse with 409. Pure: the clock is a parameter.

use crate::{StoredRecord, TokenPush};

/// Write when the stored access token has less than this left (15 minutes): with hourly tokens that is at most one
/// write per refresh, well under AWS's guidance of one write per 10 minutes per secret.
pub const REWRITE_WHEN_SECS_LEFT: i64 = 15 * 60;

/// What to do with a push.
#[derive(Debug)]
pub enum Decision {
    /// Store this record (its generation is the stored one plus one).
    Write(StoredRecord, WriteReason),
    /// Nothing to do: the store already holds these tokens or ones at least as good.
    Unchanged,
    /// The push is not a successor of what is stored: a stale or forked chain.
    Conflict,
}

/// Why a push is written, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteReason {
    /// The store was empty.
    First,
    /// Same refresh token, newer access token, and the stored one had under 15 minutes left.
    Refresh,
    /// `prev_refresh_sha256` equals the stored refresh token's hash: the refresh token was rotated.
    Rotation,
    /// `prev_refresh_sha256` is null and the sign-in is newer than the stored chain's.
    SignIn,
}

/// Decides a push from `user_id` (already verified and allow-listed) against the stored record at `now`.
///
/// - Same refresh token: write the newer access token only when the stored one has under 15 minutes left;
///   otherwise (including an exact replay or an older access token) `Unchanged`.
/// - `prev_refresh_sha256` equal to the stored hash: a rotation, written.
/// - `prev_refresh_sha256` null and `authorized_at` later than the stored chain's: a fresh sign-in, written. An
///   older sign-in replayed after its chain moved on is refused.
/// - Anything else: `Conflict`.
pub fn decide(
    stored: Option<&StoredRecord>,
    push: &TokenPush,
    user_id: &str,
    now: i64,
) -> Decision {
    let Some(stored) = stored else {
        return Decision::Write(
            StoredRecord::from_push(push, user_id, 1),
            WriteReason::First,
        );
    };
    let next = |reason| {
        Decision::Write(
            StoredRecord::from_push(push, user_id, stored.generation.saturating_add(1)),
            reason,
        )
    };
    let same_user = stored.user_id == user_id;
    if push.rt_sha256() == stored.rt_sha256 {
        if !same_user {
            return Decision::Conflict;
        }
        let newer = push.expires_at > stored.expires_at;
        let stored_running_out = stored.access_token_secs_left(now) < REWRITE_WHEN_SECS_LEFT;
        return if newer && stored_running_out {
            next(WriteReason::Refresh)
        } else {
            Decision::Unchanged
        };
    }
    match &push.prev_refresh_sha256 {
        Some(prev) if *prev == stored.rt_sha256 && same_user => next(WriteReason::Rotation),
        None if push.authorized_at > stored.authorized_at => next(WriteReason::SignIn),
        _ => Decision::Conflict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{sha256_hex, SecretString};

    const NOW: i64 = 1_800_000_000;
    const ALICE: &str = "alice.setlist";

    fn push(
        at: &str,
        expires_at: i64,
        rt: &str,
        prev: Option<&str>,
        authorized_at: i64,
    ) -> TokenPush {
        TokenPush {
            access_token: SecretString::new(at),
            expires_at,
            refresh_token: SecretString::new(rt),
            scope: String::new(),
            authorized_at,
            prev_refresh_sha256: prev.map(|rt| sha256_hex(rt.as_bytes())),
        }
    }

    fn stored(at: &str, expires_at: i64, rt: &str, authorized_at: i64) -> StoredRecord {
        StoredRecord::from_push(&push(at, expires_at, rt, None, authorized_at), ALICE, 5)
    }

    fn written(decision: Decision) -> (StoredRecord, WriteReason) {
        match decision {
            Decision::Write(record, reason) => (record, reason),
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_store_takes_the_first_push() {
        let (record, reason) = written(decide(
            None,
            &push("a", NOW + 3600, "r", None, NOW),
            ALICE,
            NOW,
        ));
        assert_eq!((record.generation, reason), (1, WriteReason::First));
        assert_eq!(record.rt_sha256, sha256_hex(b"r"));
    }

    #[test]
    fn same_refresh_token_writes_only_when_the_stored_token_runs_out() {
        let current = stored("a1", NOW + 3000, "r", NOW - 600);
        let newer = push("a2", NOW + 3600, "r", Some("r"), NOW - 600);
        assert!(matches!(
            decide(Some(&current), &newer, ALICE, NOW),
            Decision::Unchanged
        ));
        // 14 minutes left: time to write.
        let later = NOW + 3000 - 14 * 60;
        let newer = push("a2", later + 3600, "r", Some("r"), NOW - 600);
        let (record, reason) = written(decide(Some(&current), &newer, ALICE, later));
        assert_eq!((record.generation, reason), (6, WriteReason::Refresh));
        // An older access token never replaces a newer one.
        let older = push("a0", NOW + 10, "r", Some("r"), NOW - 600);
        assert!(matches!(
            decide(Some(&current), &older, ALICE, later),
            Decision::Unchanged
        ));
    }

    #[test]
    fn an_exact_replay_is_unchanged_even_when_running_out() {
        let current = stored("a1", NOW + 60, "r", NOW - 600);
        let replay = push("a1", NOW + 60, "r", None, NOW - 600);
        assert!(matches!(
            decide(Some(&current), &replay, ALICE, NOW),
            Decision::Unchanged
        ));
    }

    #[test]
    fn a_rotation_from_the_stored_token_is_written_and_forks_conflict() {
        let current = stored("a1", NOW + 3000, "r1", NOW - 600);
        let (record, reason) = written(decide(
            Some(&current),
            &push("a2", NOW + 3600, "r2", Some("r1"), NOW - 600),
            ALICE,
            NOW,
        ));
        assert_eq!((record.generation, reason), (6, WriteReason::Rotation));
        let fork = push("a3", NOW + 3600, "r3", Some("r0"), NOW - 600);
        assert!(matches!(
            decide(Some(&current), &fork, ALICE, NOW),
            Decision::Conflict
        ));
        let someone_else = push("a2", NOW + 3600, "r2", Some("r1"), NOW - 600);
        assert!(matches!(
            decide(Some(&current), &someone_else, "bruno.setlist", NOW),
            Decision::Conflict
        ));
    }

    #[test]
    fn sign_ins_must_be_newer_than_the_stored_chain() {
        let current = stored("a1", NOW + 3000, "r1", NOW - 600);
        let fresh = push("b1", NOW + 3600, "s1", None, NOW);
        let (record, reason) = written(decide(Some(&current), &fresh, "bruno.setlist", NOW));
        assert_eq!(
            (record.user_id.as_str(), reason),
            ("bruno.setlist", WriteReason::SignIn)
        );
        let replayed = push("a0", NOW + 3000, "r0", None, NOW - 600);
        assert!(matches!(
            decide(Some(&current), &replayed, ALICE, NOW),
            Decision::Conflict
        ));
    }
}
