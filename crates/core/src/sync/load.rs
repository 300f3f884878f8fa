//! Loading a playlist to edit, as a sans-IO state machine: [`Load::poll`] says what to do next (send a request,
//! wait, or stop with a [`Loaded`] playlist or a [`Failure`]); [`Load::answer`] tells it what came back. Every
//! path is a native test; the app's `async` code only carries it out.
//!
//! The procedure:
//!
//! 1. Who the user is (`GET /me`, skipped when known), the playlist's details and its first page of items go out
//!    together: three requests, one round trip.
//! 2. The first page tells the total; the rest of the pages go out at once, under the exchange's concurrency cap.
//! 3. **Read-only rule**: a playlist the user neither owns nor collaborates on is shown read-only; Spotify answers
//!    `403` on its items, which then means "no items to show", not a failure. A `403` on a playlist the user may
//!    edit is a failure.
//! 4. **Snapshot re-check**: the details are read again (the same URL, so a browser reuses its CORS preflight);
//!    if the snapshot moved, or a page reported another total, the pages may mix two versions and the load starts
//!    over, [`MAX_LOAD_ATTEMPTS`] times in all.
//!
//! Every request goes through [`crate::sync::retry`]'s policy in the [`Exchange`]: reads are safe to repeat.

use std::collections::BTreeMap;

use crate::edit::editor::Meta;
pub use crate::sync::exchange::Next;
use crate::sync::exchange::{Answer, CallId, Conversation, Exchange, Reply, Stop};
use crate::ids::{PlaylistId, SnapshotId, UserId};
use crate::{
    items_request, parse_items, parse_playlist, playlist_request, Page, PlaylistEntry, PlaylistSummary, ITEMS_FIELDS,
    PLAYLIST_FIELDS,
};
use crate::spotify::request::ApiRequest;
use crate::sync::retry::RetryPolicy;
use crate::{me_request, parse_me, ApiError, AppConfig};

/// Loads in all when the playlist keeps changing while its pages come in.
pub const MAX_LOAD_ATTEMPTS: usize = 3;
/// Page requests open at once. Spotify's limit is a rolling 30 s window, not a concurrency cap; over HTTP/1.1 a
/// browser sends 6 at a time to one host and queues the rest, so a freed connection is reused at once.
pub const CONCURRENCY: usize = 8;

/// A playlist loaded in full, as it was on Spotify at `snapshot`.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The playlist.
    pub id: PlaylistId,
    /// The signed-in user.
    pub me: UserId,
    /// The version the entries belong to.
    pub snapshot: Option<SnapshotId>,
    /// Every entry, in order (empty for a read-only playlist whose items Spotify withholds).
    pub entries: Vec<PlaylistEntry>,
    /// Name, description, public, collaborative.
    pub meta: Meta,
    /// Why the user cannot edit it, if they cannot.
    pub read_only: Option<String>,
}

/// Why a load or a save stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Spotify answered with an error that a retry cannot change.
    #[error("Spotify answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// Spotify's message.
        message: String,
    },
    /// Spotify asked for a longer wait than the policy holds a request for; nothing more is sent until then.
    #[error("Spotify asked Setlist to wait {resume_in_secs} s before sending more requests")]
    RateLimited {
        /// Seconds until Spotify takes requests again.
        resume_in_secs: u64,
    },
    /// Transient failures went on past the policy's attempts.
    #[error("{0}")]
    GaveUp(String),
    /// The playlist changed during every one of [`MAX_LOAD_ATTEMPTS`] loads.
    #[error("This playlist keeps changing on Spotify while loading; try again in a moment.")]
    KeepsChanging,
    /// A request core refused to build, or an edit the planner cannot express; nothing was sent for it.
    #[error("{0}")]
    Invalid(String),
    /// Writes kept ending without an answer, past the re-reads a save allows.
    #[error("Spotify did not confirm a change, so Setlist checked the playlist instead of resending it; it did not settle after {rereads} checks.")]
    Unconfirmed {
        /// Re-reads made.
        rereads: usize,
    },
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api { status: e.status, message: e.message }
    }
}

impl From<Stop> for Failure {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::RateLimited { resume_in_secs } => Failure::RateLimited { resume_in_secs },
            Stop::GaveUp(why) => Failure::GaveUp(why),
        }
    }
}

/// One read of a load, tagged with the attempt it belongs to so answers of an abandoned attempt are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read {
    attempt: usize,
    kind: ReadKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadKind {
    Me,
    Details,
    Items(Page),
    Recheck,
}

/// The decisions of a load, without the exchange: used by [`Load`] and, for re-reads and verification, by
/// [`crate::sync::save::Save`].
#[derive(Clone, Debug)]
pub(crate) struct Reading {
    config: AppConfig,
    id: PlaylistId,
    me: Option<UserId>,
    /// Attempts are numbered from `first + 1`, so the reads of one machine never share a number.
    first: usize,
    attempt: usize,
    summary: Option<PlaylistSummary>,
    total: Option<u32>,
    pages: BTreeMap<u32, Vec<PlaylistEntry>>,
    outstanding: usize,
    /// Spotify's `403` on the items, kept until the read-only rule can be applied.
    forbidden: Option<ApiError>,
    rechecking: bool,
}

/// What a read's answer led to.
pub(crate) enum Step {
    /// Keep going.
    More,
    /// Finished.
    Done(Result<Loaded, Failure>),
}

impl Reading {
    /// A reading whose attempts are numbered after `first`.
    pub(crate) fn new(config: AppConfig, id: PlaylistId, me: Option<UserId>, first: usize) -> Self {
        Self {
            config,
            id,
            me,
            first,
            attempt: first,
            summary: None,
            total: None,
            pages: BTreeMap::new(),
            outstanding: 0,
            forbidden: None,
            rechecking: false,
        }
    }

    /// Starts the next attempt; the requests to send go into `out`.
    pub(crate) fn start(&mut self, out: &mut Vec<(Read, ApiRequest)>) -> Step {
        if self.attempt - self.first >= MAX_LOAD_ATTEMPTS {
            return Step::Done(Err(Failure::KeepsChanging));
        }
        self.attempt += 1;
        self.summary = None;
        self.total = None;
        self.pages.clear();
        self.forbidden = None;
        self.rechecking = false;
        self.outstanding = 1;
        if self.me.is_none() {
            out.push(self.read(ReadKind::Me));
        }
        out.push(self.read(ReadKind::Details));
        out.push(self.read(ReadKind::Items(Page::first())));
        Step::More
    }

    fn read(&self, kind: ReadKind) -> (Read, ApiRequest) {
        let request = match kind {
            ReadKind::Me => me_request(&self.config),
            // The re-check uses the very same URL as the details, so a browser reuses the CORS preflight it
            // already made for it (preflights are cached per URL) instead of paying another round trip.
            ReadKind::Details | ReadKind::Recheck => playlist_request(&self.config, &self.id, Some(PLAYLIST_FIELDS)),
            ReadKind::Items(page) => items_request(&self.config, &self.id, page, Some(ITEMS_FIELDS)),
        };
        (Read { attempt: self.attempt, kind }, request)
    }

    /// Whether `read` belongs to the attempt in progress.
    pub(crate) fn is_current(&self, read: &Read) -> bool {
        read.attempt == self.attempt
    }

    /// Items read so far and the total, once known.
    pub(crate) fn progress(&self) -> (usize, usize) {
        let done = self.pages.values().map(Vec::len).sum();
        (done, self.total.unwrap_or(0) as usize)
    }

    /// A final answer to `read`; further requests go into `out`.
    pub(crate) fn on_answer(&mut self, read: Read, status: u16, body: &str, out: &mut Vec<(Read, ApiRequest)>) -> Step {
        if !self.is_current(&read) {
            return Step::More;
        }
        match read.kind {
            ReadKind::Me => match parse_me(status, body) {
                Ok(me) => match UserId::parse(&me.id) {
                    Ok(id) => self.me = Some(id),
                    Err(e) => return Step::Done(Err(Failure::Api { status, message: format!("unusable user id: {e}") })),
                },
                Err(e) => return Step::Done(Err(e.into())),
            },
            ReadKind::Details => match parse_playlist(status, body) {
                Ok(playlist) => self.summary = Some(playlist.summary),
                Err(e) => return Step::Done(Err(e.into())),
            },
            ReadKind::Items(page) => {
                self.outstanding -= 1;
                match parse_items(status, body) {
                    Ok(paging) => {
                        match self.total {
                            None => {
                                self.total = Some(paging.total);
                                for next in page.following(paging.total) {
                                    out.push(self.read(ReadKind::Items(next)));
                                    self.outstanding += 1;
                                }
                            }
                            // Another total: the playlist changed between pages.
                            Some(total) if total != paging.total => return self.start(out),
                            Some(_) => {}
                        }
                        self.pages.insert(page.offset(), paging.items);
                    }
                    // Spotify withholds the items of a playlist the user may not edit; whether that is the
                    // case is known once the owner and the user are.
                    Err(e) if e.status == 403 => self.forbidden = Some(e),
                    Err(e) => return Step::Done(Err(e.into())),
                }
            }
            ReadKind::Recheck => {
                let now = match parse_playlist(status, body) {
                    Ok(playlist) => playlist.summary.snapshot_id,
                    Err(e) => return Step::Done(Err(e.into())),
                };
                let then = self.summary.as_ref().and_then(|s| s.snapshot_id.clone());
                if now != then {
                    // It changed mid-load: the pages may mix two versions. Load again.
                    return self.start(out);
                }
                return Step::Done(self.loaded());
            }
        }
        self.maybe_recheck(out)
    }

    /// Once the user, the details and every page are in, applies the read-only rule and re-reads the details.
    fn maybe_recheck(&mut self, out: &mut Vec<(Read, ApiRequest)>) -> Step {
        if self.rechecking || self.me.is_none() || self.summary.is_none() || self.outstanding > 0 {
            return Step::More;
        }
        if let Some(forbidden) = self.forbidden.clone() {
            if self.read_only().is_none() {
                return Step::Done(Err(forbidden.into()));
            }
        }
        self.rechecking = true;
        out.push(self.read(ReadKind::Recheck));
        Step::More
    }

    fn read_only(&self) -> Option<String> {
        let summary = self.summary.as_ref()?;
        let owned = summary.owner.id.is_some() && summary.owner.id == self.me;
        if owned || summary.collaborative {
            return None;
        }
        let owner = summary
            .owner
            .display_name
            .clone()
            .or_else(|| summary.owner.id.as_ref().map(|u| u.as_str().to_owned()))
            .unwrap_or_default();
        Some(format!(
            "Read-only: this playlist belongs to {owner}, and only its owner (or collaborators, if it is \
             collaborative) can change it."
        ))
    }

    fn loaded(&mut self) -> Result<Loaded, Failure> {
        let (Some(summary), Some(me)) = (self.summary.clone(), self.me.clone()) else {
            return Err(Failure::Invalid("the load finished before the playlist's details arrived".into()));
        };
        let read_only = self.read_only();
        let entries: Vec<PlaylistEntry> = if self.forbidden.is_some() {
            Vec::new()
        } else {
            std::mem::take(&mut self.pages).into_values().flatten().collect()
        };
        Ok(Loaded {
            id: self.id.clone(),
            me,
            snapshot: summary.snapshot_id.clone(),
            entries,
            meta: Meta::from_summary(&summary),
            read_only,
        })
    }
}

/// One playlist load in progress. See the [module documentation](self).
pub struct Load {
    reading: Reading,
    exchange: Exchange<Read>,
    outcome: Option<Result<Loaded, Failure>>,
    finished: bool,
}

impl Load {
    /// A load of `id` under `policy`; `me` when the signed-in user is already known. `hidden_429` says whether a
    /// lost answer may be a `429` without CORS headers (true in a browser); `seed` drives the backoff jitter.
    pub fn new(
        config: &AppConfig,
        id: PlaylistId,
        me: Option<UserId>,
        policy: RetryPolicy,
        hidden_429: bool,
        seed: u64,
        now: u64,
    ) -> Self {
        let mut load = Self {
            reading: Reading::new(config.clone(), id, me, 0),
            exchange: Exchange::new(policy, hidden_429, CONCURRENCY, seed),
            outcome: None,
            finished: false,
        };
        let mut out = Vec::new();
        if let Step::Done(result) = load.reading.start(&mut out) {
            load.outcome = Some(result);
        }
        load.enqueue(out, now);
        load
    }

    fn enqueue(&mut self, out: Vec<(Read, ApiRequest)>, now: u64) {
        for (read, request) in out {
            self.exchange.enqueue(read, request, now);
        }
    }

    /// Items read so far and the total, once the first page told it.
    pub fn progress(&self) -> (usize, usize) {
        self.reading.progress()
    }

}

impl Conversation for Load {
    type Out = Result<Loaded, Failure>;

    fn gate_mut(&mut self) -> &mut crate::sync::retry::Gate {
        self.exchange.gate_mut()
    }

    fn poll(&mut self, now: u64) -> Next<Result<Loaded, Failure>> {
        if let Some(end) = self.exchange.conclude(&mut self.outcome, &mut self.finished) {
            return end;
        }
        self.exchange.step(now)
    }

    fn answer(&mut self, id: CallId, now: u64, answer: Answer) {
        if self.finished || self.outcome.is_some() {
            return;
        }
        let mut out = Vec::new();
        let step = match self.exchange.answer(id, now, answer) {
            None => Step::More,
            Some(Reply::Final { tag, status, body }) => {
                let current = self.reading.is_current(&tag);
                let step = self.reading.on_answer(tag, status, &body, &mut out);
                if current && !out.is_empty() {
                    // A restart abandons what the old attempt still had queued.
                    let attempt = out[0].0.attempt;
                    self.exchange.retain_queued(|r| r.attempt == attempt);
                }
                step
            }
            // Answers of an abandoned attempt do not matter, whatever they are.
            Some(Reply::Ambiguous { tag, .. } | Reply::Stopped { tag, .. }) if !self.reading.is_current(&tag) => Step::More,
            // Reads are safe to repeat, so the policy never calls one ambiguous; stop rather than guess.
            Some(Reply::Ambiguous { .. }) => Step::Done(Err(Failure::GaveUp("Spotify could not be reached.".into()))),
            Some(Reply::Stopped { stop, .. }) => Step::Done(Err(stop.into())),
        };
        self.enqueue(out, now);
        if let Step::Done(result) = step {
            self.outcome = Some(result);
        }
    }
}

#[cfg(test)]
mod tests;
