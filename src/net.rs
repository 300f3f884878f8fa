//! Every Web API request goes through core's one retry policy ([`setlist_core::sync::retry`]) here: `Retry-After` is
//! honoured (beyond the cap the user is told when work can resume), an opaque network failure on the API host is
//! treated as a possible hidden `429` and backed off with jitter, `5xx` and network failures are retried only for
//! requests that are safe to repeat, and every request of the tab waits behind one shared [`Gate`], so parallel
//! paging slows down together. What is happening is shown through [`Waiting`].

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use setlist_core::sync::exchange::Hold;
use setlist_core::sync::retry::{decide, Decision, Gate, Outcome, RetryPolicy, Safety};

use crate::browser;

thread_local! {
    /// No request of this tab leaves before the gate's instant (`Date.now()` milliseconds).
    static GATE: RefCell<Gate> = RefCell::new(Gate::default());
    /// Requests currently waiting (at the gate or for their own retry), for the status line.
    static WAITERS: Cell<u32> = const { Cell::new(0) };
}

/// Why requests are held back, for the status line under the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// Spotify answered `429` with `Retry-After`.
    RateLimited,
    /// Spotify could not be reached (maybe a `429` without CORS headers) or answered `5xx`.
    Unreachable,
}

/// A wait in progress: what it is for and when it ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Waiting {
    pub reason: WaitReason,
    /// `Date.now()` milliseconds when requests resume.
    pub until_ms: f64,
}

impl Waiting {
    /// Whole seconds left, rounded up (the countdown shows "1 s" until the very end).
    pub fn secs_left(&self, now_ms: f64) -> u64 {
        ((self.until_ms - now_ms).max(0.0) / 1000.0).ceil() as u64
    }

    pub fn text(&self, now_ms: f64) -> String {
        let left = wait_words(self.secs_left(now_ms));
        match self.reason {
            WaitReason::RateLimited => format!("Spotify asked us to wait {left}. Resuming by itself…"),
            WaitReason::Unreachable => format!("Spotify is not answering right now. Retrying in {left}…"),
        }
    }
}

/// "42 s", "12 min", "2 h 5 min".
pub(crate) fn wait_words(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=3599 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600).div_ceil(60)),
    }
}

/// Waits shorter than this are not worth a status line.
const SHOW_FROM_MS: f64 = 900.0;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `Date.now()` in whole milliseconds: the time scale core's machines are driven on.
pub(crate) fn now() -> u64 {
    now_ms().max(0.0) as u64
}

/// The tab's gate instant, which a core machine's own gate is held to before each poll.
pub(crate) fn gate_instant() -> u64 {
    GATE.with(|g| g.borrow().not_before_ms)
}

/// Holds every request of the tab until `t`: a core machine saw a rate limit.
pub(crate) fn hold_gate(t: u64) {
    GATE.with(|g| g.borrow_mut().hold_until(t));
}

/// The status line's reason for a machine's [`Hold`].
pub(crate) fn reason(hold: Option<Hold>) -> WaitReason {
    match hold {
        Some(Hold::Retrying) => WaitReason::Unreachable,
        Some(Hold::RateLimited) | None => WaitReason::RateLimited,
    }
}

fn jitter() -> f64 {
    f64::from(browser::random_u32()) / (f64::from(u32::MAX) + 1.0)
}

/// Sleeps until `until_ms`, showing the wait in `status` while it is long enough to notice.
pub(crate) async fn wait_until(status: RwSignal<Option<Waiting>>, reason: WaitReason, until_ms: f64) {
    WAITERS.with(|w| w.set(w.get() + 1));
    loop {
        let left = until_ms - now_ms();
        if left <= 0.0 {
            break;
        }
        if left >= SHOW_FROM_MS {
            let shown = status.get_untracked();
            // The longest wait wins the status line; a rate limit outranks a blip of the same length.
            if shown.is_none_or(|s| s.until_ms < until_ms || (s.until_ms == until_ms && reason == WaitReason::RateLimited)) {
                status.set(Some(Waiting { reason, until_ms }));
            }
        }
        browser::sleep_ms(left.clamp(1.0, 1000.0) as u32).await;
    }
    let left = WAITERS.with(|w| {
        w.set(w.get().saturating_sub(1));
        w.get()
    });
    if left == 0 {
        status.set(None);
    }
}

/// Holds a request until the shared gate opens.
async fn pass_gate(status: RwSignal<Option<Waiting>>) {
    loop {
        let until = GATE.with(|g| g.borrow().not_before_ms) as f64;
        if until <= now_ms() {
            return;
        }
        wait_until(status, WaitReason::RateLimited, until).await;
    }
}

/// What a request ended with, once the policy has had its say.
pub(crate) enum Ended<T> {
    /// A final answer (success or an error a retry cannot change).
    Answer(T),
    /// Spotify asked for a wait longer than the policy's cap.
    WaitTooLong { resume_in_secs: u64 },
    /// A change that may or may not have been applied: re-read, then decide.
    Ambiguous,
    /// Given up after repeated transient failures; a sentence for the user.
    GaveUp(String),
}

/// Runs `attempt` under the retry policy. `attempt` returns the HTTP status and `Retry-After` of an answer
/// (`Ok`), or `Err(None)` for a network failure on the API host, or `Err(Some(e))` for an error that is final as
/// it is (no token, a sign-in that ended).
pub(crate) async fn with_retries<T, E>(
    status: RwSignal<Option<Waiting>>,
    safety: Safety,
    mut attempt: impl AsyncFnMut() -> Result<(u16, Option<u64>, T), Option<E>>,
) -> Result<Ended<T>, E> {
    let policy = RetryPolicy::default();
    let mut n = 0u32;
    loop {
        n += 1;
        pass_gate(status).await;
        let (outcome, answer) = match attempt().await {
            Ok((code, retry_after, value)) => (Outcome::Status(code, retry_after), Some(value)),
            Err(None) => (Outcome::NetworkError { api_host: true }, None),
            Err(Some(e)) => return Err(e),
        };
        let decision = decide(&policy, n, outcome, safety, jitter());
        let now = now_ms();
        GATE.with(|g| g.borrow_mut().observe(now as u64, outcome, decision));
        let reason = match outcome {
            Outcome::Status(429, _) => WaitReason::RateLimited,
            _ => WaitReason::Unreachable,
        };
        match decision {
            Decision::Done => {
                if let Some(value) = answer {
                    return Ok(Ended::Answer(value));
                }
                // A network failure is never final for the policy; stay safe if that ever changes.
                return Ok(Ended::GaveUp("Spotify could not be reached.".into()));
            }
            Decision::RetryAfter(ms) => wait_until(status, reason, now + ms as f64).await,
            Decision::WaitTooLong { resume_in_secs } => return Ok(Ended::WaitTooLong { resume_in_secs }),
            Decision::ReReadThenDecide { after_ms } => {
                wait_until(status, reason, now + after_ms as f64).await;
                return Ok(Ended::Ambiguous);
            }
            Decision::Fail(reason) => return Ok(Ended::GaveUp(reason.to_string())),
        }
    }
}
