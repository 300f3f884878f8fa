//! The one retry policy every Web API request goes through. Pure: the caller passes the attempt number, what came
//! back, the current time and a jitter fraction, and gets told whether to retry, when, or what to do instead.
//!
//! - A `429` is never applied by Spotify, so it is retried for every request, after exactly `Retry-After`
//!   seconds up to [`RetryPolicy::retry_after_cap_secs`]; beyond the cap the answer is [`Decision::WaitTooLong`],
//!   so the user can be told when work can resume
//!   ([Spotify: rate limits](https://developer.spotify.com/documentation/web-api/concepts/rate-limits)).
//! - In a browser a `429` may arrive without CORS headers and surface as an opaque network error, so a network
//!   failure on the API host backs off exponentially with jitter and slows every request down through the [`Gate`].
//! - `5xx` and network failures are ambiguous (the change may or may not have been applied): a request that is
//!   safe to repeat is retried; any other is never replayed, the caller re-reads the playlist and decides
//!   ([`Decision::ReReadThenDecide`]).

use std::fmt;

use http::Method;

use crate::edit::model::Op;

/// Whether sending a request twice has the same effect as sending it once.
///
/// Spotify semantics: `GET` reads; `PUT /playlists/{id}` (details) and a replace (`PUT .../items {uris}`) set a
/// state, so a replay is harmless. A reorder (`PUT .../items {range_start, insert_before, range_length}`) moves
/// items relative to where they are now, so a replay moves them again; an add (`POST`) inserts again; a remove
/// (`DELETE`) removes every occurrence of each URI, including copies added in between by someone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Safe to resend after an ambiguous failure.
    Idempotent,
    /// Never resent blindly after an ambiguous failure.
    NotIdempotent,
}

/// The [`Safety`] of a request with `method`; `is_reorder` marks the reorder form of `PUT .../items`.
pub fn safety(method: &Method, is_reorder: bool) -> Safety {
    let reads = *method == Method::GET || *method == Method::HEAD || *method == Method::OPTIONS;
    // A PUT replaces (the same answer however often it is sent), except the reorder form, which moves relative to
    // where things are.
    if reads || (*method == Method::PUT && !is_reorder) {
        Safety::Idempotent
    } else {
        Safety::NotIdempotent
    }
}

impl Op {
    /// The [`Safety`] of the request this op is sent as: only [`Op::Replace`] may be replayed.
    pub fn safety(&self) -> Safety {
        match self {
            Op::Replace { .. } => Safety::Idempotent,
            Op::Add { .. } | Op::Reorder { .. } | Op::Remove { .. } => Safety::NotIdempotent,
        }
    }
}

/// Limits of the retry loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included, when failures are network errors or `5xx`. At least 1.
    pub max_attempts: u32,
    /// Attempts in all while Spotify answers `429`: each wait is the one Spotify asked for (or a backoff), so a
    /// busy rolling window is waited out calmly instead of failing after a handful of tries.
    pub max_rate_limited_attempts: u32,
    /// Backoff ceiling of the first retry; it doubles per attempt.
    pub base_ms: u64,
    /// Largest backoff ceiling.
    pub max_backoff_ms: u64,
    /// Longest `Retry-After` honoured by waiting; a longer one is [`Decision::WaitTooLong`].
    pub retry_after_cap_secs: u64,
}

impl Default for RetryPolicy {
    /// Five attempts (thirty while rate limited), 500 ms doubling to 30 s (Spotify's rolling window), waits of up
    /// to two minutes.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_rate_limited_attempts: 30,
            base_ms: 500,
            max_backoff_ms: 30_000,
            retry_after_cap_secs: 120,
        }
    }
}

/// What one attempt ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer and its `Retry-After` in seconds, when it had a parseable one.
    Status(u16, Option<u64>),
    /// No answer could be read: connection refused or dropped, DNS, or (in a browser) a response without CORS
    /// headers. `api_host` is true when the request went to the Web API host, where such a failure may be a `429`.
    NetworkError {
        /// The request went to the Web API host.
        api_host: bool,
    },
}

/// Why a request was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// `max_attempts` were made and the last one still failed transiently.
    Exhausted {
        /// Attempts made.
        attempts: u32,
    },
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Exhausted { attempts } => {
                write!(f, "Spotify did not answer after {attempts} attempts; try again later")
            }
        }
    }
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Stop: the answer is final (a success, or an error such as 400/401/403/404 that a retry cannot change).
    Done,
    /// Send the same request again after this many milliseconds.
    RetryAfter(u64),
    /// Spotify asked for a wait longer than the cap: stop and tell the user work can resume in this many seconds.
    WaitTooLong {
        /// Seconds from now (Spotify's `Retry-After`).
        resume_in_secs: u64,
    },
    /// The change may or may not have been applied and is not safe to replay: after `after_ms`, re-read the
    /// playlist and decide from what it holds.
    ReReadThenDecide {
        /// Milliseconds to wait before the re-read (a network error may be a hidden `429`).
        after_ms: u64,
    },
    /// Give up; the reason is a sentence for the user.
    Fail(FailReason),
}

/// The backoff before retry number `attempt` (1 for the first retry): "equal jitter", half the ceiling plus a
/// jittered half, where the ceiling is `base_ms * 2^(attempt-1)` capped at `max_backoff_ms`. For a fixed `jitter`
/// it never shrinks as `attempt` grows and always lies in `[0, max_backoff_ms]`.
/// See <https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>.
pub fn backoff_ms(policy: &RetryPolicy, attempt: u32, jitter: f64) -> u64 {
    let exp = attempt.saturating_sub(1).min(40);
    let ceiling = policy
        .base_ms
        .saturating_mul(1u64 << exp)
        .min(policy.max_backoff_ms);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let half = ceiling / 2;
    // `ceiling - half` >= half, so the sum stays within the ceiling.
    let jittered = ((ceiling - half) as f64 * jitter) as u64;
    (half + jittered.min(ceiling - half)).min(ceiling)
}

/// Whether a status is a transient server failure worth another attempt (not 501 or 505, which are final).
fn transient_5xx(status: u16) -> bool {
    (500..600).contains(&status) && status != 501 && status != 505
}

/// Decides what follows attempt number `attempt` (1 for the first) that ended with `outcome`. `jitter` is a
/// uniformly random fraction in `[0, 1)`.
pub fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    outcome: Outcome,
    safety: Safety,
    jitter: f64,
) -> Decision {
    let exhausted = attempt >= policy.max_attempts.max(1);
    let backoff = backoff_ms(policy, attempt, jitter);
    match outcome {
        Outcome::Status(429, retry_after) => {
            // Never applied, so any request may be resent; a wait beyond the cap is the user's to know about.
            match retry_after {
                Some(secs) if secs > policy.retry_after_cap_secs => Decision::WaitTooLong {
                    resume_in_secs: secs,
                },
                _ if attempt >= policy.max_rate_limited_attempts.max(1) => {
                    Decision::Fail(FailReason::Exhausted { attempts: attempt })
                }
                Some(secs) => Decision::RetryAfter(secs.saturating_mul(1000)),
                None => Decision::RetryAfter(backoff),
            }
        }
        Outcome::Status(status, retry_after) if transient_5xx(status) => {
            if let Some(secs) = retry_after.filter(|secs| *secs > policy.retry_after_cap_secs) {
                if safety == Safety::Idempotent {
                    return Decision::WaitTooLong {
                        resume_in_secs: secs,
                    };
                }
            }
            let wait = retry_after
                .map(|secs| secs.saturating_mul(1000))
                .unwrap_or(0)
                .max(backoff)
                .min(policy.retry_after_cap_secs.saturating_mul(1000).max(backoff));
            ambiguous(safety, exhausted, attempt, wait)
        }
        Outcome::Status(_, _) => Decision::Done,
        Outcome::NetworkError { .. } => ambiguous(safety, exhausted, attempt, backoff),
    }
}

/// A failure after which the request may or may not have been applied.
fn ambiguous(safety: Safety, exhausted: bool, attempt: u32, wait_ms: u64) -> Decision {
    match safety {
        Safety::NotIdempotent => Decision::ReReadThenDecide { after_ms: wait_ms },
        Safety::Idempotent if exhausted => {
            Decision::Fail(FailReason::Exhausted { attempts: attempt })
        }
        Safety::Idempotent => Decision::RetryAfter(wait_ms),
    }
}

/// The shared "not before" instant of one client: every request checks it before it is sent, and a rate-limit
/// signal moves it forward, so parallel paging slows down together instead of each page learning separately.
/// Times are milliseconds on any monotonic scale the caller chooses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gate {
    /// No request is sent before this instant.
    pub not_before_ms: u64,
}

impl Gate {
    /// Holds every request until at least `t`; never moves the instant backwards.
    pub fn hold_until(&mut self, t: u64) {
        self.not_before_ms = self.not_before_ms.max(t);
    }

    /// How long a request about to be sent at `now_ms` must wait first (0 when it may go now).
    pub fn wait_ms(&self, now_ms: u64) -> u64 {
        self.not_before_ms.saturating_sub(now_ms)
    }

    /// Moves the gate for what an attempt that ended at `now_ms` with `outcome` was told to do: a `429` or a
    /// network failure on the API host (a possible hidden `429`) holds everyone for the same wait. Other
    /// failures (a `5xx` blip) slow only their own request.
    pub fn observe(&mut self, now_ms: u64, outcome: Outcome, decision: Decision) {
        let limited = matches!(
            outcome,
            Outcome::Status(429, _) | Outcome::NetworkError { api_host: true }
        );
        if !limited {
            return;
        }
        let wait = match decision {
            Decision::RetryAfter(ms) | Decision::ReReadThenDecide { after_ms: ms } => ms,
            Decision::WaitTooLong { resume_in_secs } => resume_in_secs.saturating_mul(1000),
            Decision::Done | Decision::Fail(_) => return,
        };
        self.hold_until(now_ms.saturating_add(wait));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    #[test]
    fn safety_follows_spotify_semantics() {
        assert_eq!(safety(&Method::GET, false), Safety::Idempotent);
        assert_eq!(safety(&Method::PUT, false), Safety::Idempotent);
        assert_eq!(safety(&Method::PUT, true), Safety::NotIdempotent);
        assert_eq!(safety(&Method::POST, false), Safety::NotIdempotent);
        assert_eq!(safety(&Method::DELETE, false), Safety::NotIdempotent);
        let uri = crate::TrackUri::parse("spotify:track:4uLU6hMCjMI75M1A2tKUQC").expect("uri");
        assert_eq!(Op::Replace { uris: vec![] }.safety(), Safety::Idempotent);
        let add = Op::Add {
            uris: vec![uri.clone()],
            position: Some(3),
        };
        assert_eq!(add.safety(), Safety::NotIdempotent);
        assert_eq!(Op::Remove { uris: vec![uri] }.safety(), Safety::NotIdempotent);
        let reorder = Op::Reorder {
            range_start: 0,
            insert_before: 2,
            range_length: 1,
        };
        assert_eq!(reorder.safety(), Safety::NotIdempotent);
    }

    #[test]
    fn successes_and_client_errors_are_final() {
        for status in [200, 201, 204, 304, 400, 401, 403, 404, 413, 501] {
            for safety in [Safety::Idempotent, Safety::NotIdempotent] {
                assert_eq!(
                    decide(&policy(), 1, Outcome::Status(status, None), safety, 0.5),
                    Decision::Done,
                    "{status}"
                );
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_exactly_then_capped() {
        let p = policy();
        let d = decide(&p, 1, Outcome::Status(429, Some(7)), Safety::NotIdempotent, 0.9);
        assert_eq!(d, Decision::RetryAfter(7_000));
        let d = decide(&p, 1, Outcome::Status(429, Some(120)), Safety::Idempotent, 0.9);
        assert_eq!(d, Decision::RetryAfter(120_000));
        let d = decide(&p, 1, Outcome::Status(429, Some(3_600)), Safety::Idempotent, 0.9);
        assert_eq!(d, Decision::WaitTooLong { resume_in_secs: 3_600 });
        // Even the last attempt reports a long wait rather than a bare failure.
        let d = decide(&p, 5, Outcome::Status(429, Some(3_600)), Safety::Idempotent, 0.9);
        assert_eq!(d, Decision::WaitTooLong { resume_in_secs: 3_600 });
        // A rate limit is waited out longer than other failures, but not forever.
        let d = decide(&p, 5, Outcome::Status(429, Some(1)), Safety::Idempotent, 0.9);
        assert_eq!(d, Decision::RetryAfter(1_000));
        let d = decide(&p, p.max_rate_limited_attempts, Outcome::Status(429, Some(1)), Safety::Idempotent, 0.9);
        assert_eq!(d, Decision::Fail(FailReason::Exhausted { attempts: p.max_rate_limited_attempts }));
    }

    #[test]
    fn ambiguous_failures_of_non_idempotent_requests_re_read() {
        let p = policy();
        for outcome in [
            Outcome::Status(500, None),
            Outcome::Status(502, None),
            Outcome::Status(503, Some(2)),
            Outcome::NetworkError { api_host: true },
            Outcome::NetworkError { api_host: false },
        ] {
            assert!(matches!(
                decide(&p, 1, outcome, Safety::NotIdempotent, 0.3),
                Decision::ReReadThenDecide { .. }
            ));
            assert!(matches!(
                decide(&p, 1, outcome, Safety::Idempotent, 0.3),
                Decision::RetryAfter(_)
            ));
            assert!(matches!(
                decide(&p, p.max_attempts, outcome, Safety::Idempotent, 0.3),
                Decision::Fail(_)
            ));
        }
        // A 503's Retry-After is honoured when it is longer than the backoff.
        assert_eq!(
            decide(&p, 1, Outcome::Status(503, Some(9)), Safety::Idempotent, 0.0),
            Decision::RetryAfter(9_000)
        );
    }

    #[test]
    fn a_hidden_429_slows_everyone_and_a_5xx_does_not() {
        let p = policy();
        let mut gate = Gate::default();
        let outcome = Outcome::NetworkError { api_host: true };
        let d = decide(&p, 1, outcome, Safety::Idempotent, 0.0);
        gate.observe(1_000, outcome, d);
        assert_eq!(gate.wait_ms(1_000), backoff_ms(&p, 1, 0.0));
        let before = gate;
        let outcome = Outcome::Status(500, None);
        gate.observe(1_000, outcome, decide(&p, 3, outcome, Safety::Idempotent, 0.9));
        assert_eq!(gate, before);
        let outcome = Outcome::Status(429, Some(4));
        gate.observe(2_000, outcome, decide(&p, 1, outcome, Safety::Idempotent, 0.0));
        assert_eq!(gate.not_before_ms, 6_000);
        assert_eq!(gate.wait_ms(7_000), 0);
        // Holding never moves the instant backwards.
        gate.hold_until(10);
        assert_eq!(gate.not_before_ms, 6_000);
    }

    #[test]
    fn backoff_tolerates_odd_jitter_and_huge_attempts() {
        let p = policy();
        for jitter in [f64::NAN, f64::INFINITY, -1.0, 2.0] {
            assert!(backoff_ms(&p, 3, jitter) <= p.max_backoff_ms);
        }
        assert_eq!(backoff_ms(&p, u32::MAX, 1.0), p.max_backoff_ms);
        assert_eq!(backoff_ms(&p, 1, 0.0), p.base_ms / 2);
    }

    fn any_policy() -> impl Strategy<Value = RetryPolicy> {
        (1u32..10, 1u32..40, 0u64..10_000, 0u64..1_000_000, 0u64..100_000).prop_map(
            |(max_attempts, max_rate_limited_attempts, base_ms, max_backoff_ms, retry_after_cap_secs)| RetryPolicy {
                max_attempts,
                max_rate_limited_attempts,
                base_ms,
                max_backoff_ms,
                retry_after_cap_secs,
            },
        )
    }

    fn any_outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            (any::<u16>(), proptest::option::of(any::<u64>()))
                .prop_map(|(s, r)| Outcome::Status(s, r)),
            (100u16..600, proptest::option::of(0u64..200_000))
                .prop_map(|(s, r)| Outcome::Status(s, r)),
            any::<bool>().prop_map(|api_host| Outcome::NetworkError { api_host }),
        ]
    }

    fn any_safety() -> impl Strategy<Value = Safety> {
        prop_oneof![Just(Safety::Idempotent), Just(Safety::NotIdempotent)]
    }

    proptest! {
        #[test]
        fn backoff_is_within_the_cap_and_grows(
            p in any_policy(), attempt in 1u32..64, jitter in 0.0f64..1.0,
        ) {
            let now = backoff_ms(&p, attempt, jitter);
            let next = backoff_ms(&p, attempt + 1, jitter);
            prop_assert!(now <= p.max_backoff_ms);
            prop_assert!(now <= next, "{now} > {next}");
        }

        #[test]
        fn retry_after_is_honoured_up_to_the_cap(
            p in any_policy(), attempt in 1u32..10, secs in any::<u64>(), safety in any_safety(),
            jitter in 0.0f64..1.0,
        ) {
            let d = decide(&p, attempt, Outcome::Status(429, Some(secs)), safety, jitter);
            if secs > p.retry_after_cap_secs {
                prop_assert_eq!(d, Decision::WaitTooLong { resume_in_secs: secs });
            } else if attempt >= p.max_rate_limited_attempts {
                prop_assert_eq!(d, Decision::Fail(FailReason::Exhausted { attempts: attempt }));
            } else {
                prop_assert_eq!(d, Decision::RetryAfter(secs.saturating_mul(1000)));
            }
        }

        #[test]
        fn non_idempotent_is_never_replayed_after_an_ambiguous_failure(
            p in any_policy(), attempt in 1u32..20, outcome in any_outcome(), jitter in 0.0f64..1.0,
        ) {
            let d = decide(&p, attempt, outcome, Safety::NotIdempotent, jitter);
            let ambiguous = match outcome {
                Outcome::NetworkError { .. } => true,
                Outcome::Status(s, _) => transient_5xx(s),
            };
            if ambiguous {
                prop_assert!(matches!(d, Decision::ReReadThenDecide { .. }), "{d:?}");
            }
            if let Decision::RetryAfter(_) = d {
                prop_assert!(matches!(outcome, Outcome::Status(429, _)));
            }
        }

        #[test]
        fn every_wait_is_bounded(
            p in any_policy(), attempt in 1u32..20, outcome in any_outcome(), safety in any_safety(),
            jitter in 0.0f64..1.0,
        ) {
            let cap_ms = p.retry_after_cap_secs.saturating_mul(1000).max(p.max_backoff_ms);
            match decide(&p, attempt, outcome, safety, jitter) {
                Decision::RetryAfter(ms) | Decision::ReReadThenDecide { after_ms: ms } => {
                    prop_assert!(ms <= cap_ms, "{ms} > {cap_ms}");
                }
                Decision::WaitTooLong { resume_in_secs } => {
                    prop_assert!(resume_in_secs > p.retry_after_cap_secs);
                }
                Decision::Done | Decision::Fail(_) => {}
            }
        }

        #[test]
        fn the_gate_only_moves_forward(
            holds in proptest::collection::vec(any::<u64>(), 0..20), now in any::<u64>(),
        ) {
            let mut gate = Gate::default();
            let mut max = 0;
            for t in holds {
                gate.hold_until(t);
                max = max.max(t);
                prop_assert_eq!(gate.not_before_ms, max);
            }
            prop_assert_eq!(gate.wait_ms(now), max.saturating_sub(now));
        }
    }
}
