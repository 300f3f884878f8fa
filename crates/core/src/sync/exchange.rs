//! The request queue under the load and save machines ([`crate::sync::load`], [`crate::sync::save`]): which requests are in
//! flight, which wait for a retry, and what [`crate::sync::retry`]'s policy says about each answer. Sans-IO: the
//! caller sends what [`Exchange::next`] hands out and reports each answer with [`Exchange::answer`]; times are
//! milliseconds on any monotonic scale the caller chooses.
//!
//! Retries happen here, so the machines above only ever see a final answer, an ambiguous write (to re-read
//! after), or a reason to stop. A request is resent only when its [`crate::Safety`] allows it.

use std::collections::{HashMap, VecDeque};

use crate::spotify::request::ApiRequest;
use crate::sync::retry::{decide, Decision, Gate, Outcome, RetryPolicy};

/// What the caller does next.
#[derive(Debug)]
pub enum Next<T> {
    /// Send this request (authorized with the current token), then report the answer with `answer(id, ..)`.
    Send {
        /// Names the answer.
        id: CallId,
        /// The request, without the token.
        request: ApiRequest,
    },
    /// Wait for an answer, or until `until` (same scale as `now`) when given, then poll again.
    Wait {
        /// When to poll again without an answer.
        until: Option<u64>,
        /// Why requests are held back, when they are.
        hold: Option<Hold>,
    },
    /// Finished; polling again only waits.
    Done(T),
}

/// A procedure the app carries out: poll it for what to do, tell it what came back. Implemented by
/// [`crate::sync::load::Load`] and [`crate::sync::save::Save`], so one driver serves both.
pub trait Conversation {
    /// What it ends with.
    type Out;
    /// What to do next at `now`.
    fn poll(&mut self, now: u64) -> Next<Self::Out>;
    /// What came back for `id` at `now`.
    fn answer(&mut self, id: CallId, now: u64, answer: Answer);
    /// The gate its requests wait behind: the caller holds it to the rest of the app's instant and reads it back,
    /// so that one rate limit slows every request of the app.
    fn gate_mut(&mut self) -> &mut Gate;
}



/// Names one request, so that its answer finds its way back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(u64);

/// What came back for a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP answer: status, `Retry-After` seconds when given and parseable, body.
    Status {
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, in seconds.
        retry_after: Option<u64>,
        /// The whole body.
        body: String,
    },
    /// No answer could be read: refused, reset, timed out, cut off mid-body, or (in a browser) an answer without
    /// CORS headers, which is how a `429` can look there.
    Unreachable,
}

/// Why requests are held back, for the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// Spotify answered `429` (with or without `Retry-After`).
    RateLimited,
    /// Spotify could not be reached or answered `5xx`: retrying.
    Retrying,
}

/// Why a request ended without an answer to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Spotify asked for a longer wait than the policy holds a request for.
    RateLimited {
        /// Seconds until Spotify takes requests again.
        resume_in_secs: u64,
    },
    /// Transient failures went on past the policy's attempts; a sentence for the user.
    GaveUp(String),
}

/// What an answer means for the machine that asked, once the retry policy has had its say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply<T> {
    /// A final HTTP answer: a success, or an error a retry cannot change.
    Final {
        /// What the request was for.
        tag: T,
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// A write that may or may not have been applied: never resent; read the playlist, then decide.
    Ambiguous {
        /// What the request was for.
        tag: T,
        /// Milliseconds to wait first (a lost answer may be a hidden `429`).
        after_ms: u64,
    },
    /// The request ended without an answer to act on.
    Stopped {
        /// What the request was for.
        tag: T,
        /// Why.
        stop: Stop,
    },
}

/// A request handed out by [`Exchange::next_sending`].
#[derive(Clone, Debug)]
pub struct Sending<T> {
    /// Names the answer.
    pub id: CallId,
    /// What it is for.
    pub tag: T,
    /// 1 the first time, more for a retry.
    pub attempt: u32,
    /// The request, without the token.
    pub request: ApiRequest,
}

struct Queued<T> {
    id: CallId,
    tag: T,
    request: ApiRequest,
    attempt: u32,
    not_before: u64,
}

struct Sent<T> {
    tag: T,
    request: ApiRequest,
    attempt: u32,
}

/// Requests of one procedure in flight or waiting, with the retry policy, a [`Gate`] and a jitter source.
pub struct Exchange<T> {
    policy: RetryPolicy,
    /// Whether an unreachable API host may be a `429` in disguise (true in a browser, see [`crate::sync::retry`]).
    hidden_429: bool,
    concurrency: usize,
    gate: Gate,
    rng: u64,
    next_id: u64,
    queue: VecDeque<Queued<T>>,
    in_flight: HashMap<CallId, Sent<T>>,
    hold: Option<Hold>,
    /// Requests handed out, retries included.
    pub sent: usize,
}

impl<T: Clone> Exchange<T> {
    /// An empty exchange sending at most `concurrency` requests at once; `seed` drives the backoff jitter.
    pub fn new(policy: RetryPolicy, hidden_429: bool, concurrency: usize, seed: u64) -> Self {
        Self {
            policy,
            hidden_429,
            concurrency: concurrency.max(1),
            gate: Gate::default(),
            // xorshift needs a non-zero state.
            rng: seed | 1,
            next_id: 0,
            queue: VecDeque::new(),
            in_flight: HashMap::new(),
            hold: None,
            sent: 0,
        }
    }

    /// Queues `request` to go out no earlier than `now`.
    pub fn enqueue(&mut self, tag: T, request: ApiRequest, now: u64) {
        self.next_id += 1;
        let id = CallId(self.next_id);
        self.queue.push_back(Queued { id, tag, request, attempt: 1, not_before: now });
    }

    /// Forgets queued requests whose tag fails `keep` (an abandoned read); answers to ones in flight still come
    /// back, and the machine recognises them by their tag.
    pub fn retain_queued(&mut self, keep: impl Fn(&T) -> bool) {
        self.queue.retain(|q| keep(&q.tag));
    }

    /// The shared gate: no request leaves before its instant. The caller may hold it further (another part of
    /// the app saw a rate limit) and read it back (to tell the rest of the app).
    pub fn gate_mut(&mut self) -> &mut Gate {
        &mut self.gate
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether nothing is queued or in flight.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_empty()
    }

    /// The next request to send at `now`, if one may go.
    pub fn next(&mut self, now: u64) -> Option<(CallId, ApiRequest)> {
        self.next_sending(now).map(|s| (s.id, s.request))
    }

    /// [`Exchange::next`], with what the request is for and which attempt it is (for a machine that counts them).
    pub fn next_sending(&mut self, now: u64) -> Option<Sending<T>> {
        if self.in_flight.len() >= self.concurrency || self.gate.not_before_ms > now {
            return None;
        }
        let index = self.queue.iter().position(|q| q.not_before <= now)?;
        let queued = self.queue.remove(index)?;
        self.sent += 1;
        let sending = Sending { id: queued.id, tag: queued.tag.clone(), attempt: queued.attempt, request: queued.request.clone() };
        self.in_flight.insert(queued.id, Sent { tag: queued.tag, request: queued.request, attempt: queued.attempt });
        Some(sending)
    }

    /// When the next queued request may go (`None`: only answers can move things on), and why requests are held.
    pub fn wake(&self) -> (Option<u64>, Option<Hold>) {
        if self.in_flight.len() >= self.concurrency {
            return (None, None);
        }
        let gate = self.gate.not_before_ms;
        let until = self.queue.iter().map(|q| q.not_before.max(gate)).min();
        // The gate only moves for rate-limit signals, some of which another part of the app saw.
        let hold = match until {
            Some(until) if until == gate => Some(self.hold.unwrap_or(Hold::RateLimited)),
            Some(_) => self.hold,
            None => None,
        };
        (until, hold)
    }

    /// The answer to `id` at `now`: `None` when the request goes again (or `id` is unknown), else what it means.
    pub fn answer(&mut self, id: CallId, now: u64, answer: Answer) -> Option<Reply<T>> {
        let sent = self.in_flight.remove(&id)?;
        let (outcome, reply) = match answer {
            Answer::Status { status, retry_after, body } => (Outcome::Status(status, retry_after), Some((status, body))),
            Answer::Unreachable => (Outcome::NetworkError { api_host: self.hidden_429 }, None),
        };
        let jitter = self.jitter();
        let decision = decide(&self.policy, sent.attempt, outcome, sent.request.safety(), jitter);
        self.gate.observe(now, outcome, decision);
        self.hold = Some(match outcome {
            Outcome::Status(429, _) => Hold::RateLimited,
            _ => Hold::Retrying,
        });
        match decision {
            Decision::Done => {
                self.hold = None;
                Some(match reply {
                    Some((status, body)) => Reply::Final { tag: sent.tag, status, body },
                    // The policy never calls a network failure final; stay safe should that change.
                    None => Reply::Stopped { tag: sent.tag, stop: Stop::GaveUp("Spotify could not be reached.".into()) },
                })
            }
            Decision::RetryAfter(ms) => {
                self.next_id += 1;
                let queued = Queued {
                    id: CallId(self.next_id),
                    tag: sent.tag,
                    request: sent.request,
                    attempt: sent.attempt.saturating_add(1),
                    not_before: now.saturating_add(ms),
                };
                // Writes go in order, and a retried page should not wait behind the rest.
                self.queue.push_front(queued);
                None
            }
            Decision::ReReadThenDecide { after_ms } => Some(Reply::Ambiguous { tag: sent.tag, after_ms }),
            Decision::WaitTooLong { resume_in_secs } => {
                Some(Reply::Stopped { tag: sent.tag, stop: Stop::RateLimited { resume_in_secs } })
            }
            Decision::Fail(reason) => Some(Reply::Stopped { tag: sent.tag, stop: Stop::GaveUp(reason.to_string()) }),
        }
    }

    /// The start of a machine's `poll`: its outcome once it has one (dropping what is queued), then only waits.
    /// `None` while it runs.
    pub fn conclude<O>(&mut self, outcome: &mut Option<O>, finished: &mut bool) -> Option<Next<O>> {
        if let Some(outcome) = outcome.take() {
            *finished = true;
            self.clear();
            return Some(Next::Done(outcome));
        }
        finished.then_some(Next::Wait { until: None, hold: None })
    }

    /// The rest of a machine's `poll`: the next request that may go now, or until when to wait and why.
    pub fn step<O>(&mut self, now: u64) -> Next<O> {
        if let Some((id, request)) = self.next(now) {
            return Next::Send { id, request };
        }
        let (until, hold) = self.wake();
        Next::Wait { until, hold }
    }

    /// Drops everything queued; answers still in flight come back and are recognised by their tag.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    fn jitter(&mut self) -> f64 {
        // xorshift64*: plenty for spreading retries.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}
