//! Saving an edit, as a sans-IO state machine: [`Save::poll`] says what to do next, [`Save::answer`] tells it what
//! came back; it ends with [`SaveEnd`] or a [`Failure`]. Every path is a native test; the app carries it out.
//!
//! The procedure:
//!
//! 1. **Snapshot check**: `snapshot_id` is not optimistic locking at Spotify (a write applies even when the
//!    playlist moved on), so the version is read right before writing; if it moved, nothing is written and the
//!    save ends in [`SaveEnd::Conflict`] (the page re-applies the edits to a fresh copy).
//! 2. **Writes**, one after another (each is planned against the list the previous one leaves): the details
//!    change first (an idempotent `PUT`), then the planner's ops. Every request goes through [`crate::sync::retry`]'s
//!    policy in the [`Exchange`]: a `429` waits `Retry-After`; a `5xx` or a lost answer is retried only for the
//!    idempotent details and replace calls. An add, remove or reorder is never replayed: the playlist is read
//!    again and the rest re-planned from what it holds (a row without a URI cannot be matched up again, so then
//!    the save ends in a conflict instead).
//! 3. **Verification**: the playlist is read back; if it is not the edit although every call answered (a browser
//!    resends a request by itself when a reused connection closes before the answer), the difference is planned
//!    and written. Re-reads and repairs together stop after [`MAX_REREADS`].

use std::collections::VecDeque;

use crate::edit::editor::{is_placeholder, Editor, Meta};
use crate::sync::exchange::{Answer, CallId, Conversation, Exchange, Hold, Reply};
use crate::ids::TrackUri;
use crate::sync::load::{Failure, Loaded, Next, Read, Reading, Step, CONCURRENCY, MAX_LOAD_ATTEMPTS};
use crate::edit::model::Op;
use crate::edit::planner::{plan, replace_cost};
use crate::{
    change_details_request, op_request, parse_no_content, parse_snapshot, playlist_request, DetailsChange,
    PlaylistEntry, SNAPSHOT_FIELDS,
};
use crate::spotify::request::ApiRequest;
use crate::sync::retry::{Gate, RetryPolicy};
use crate::AppConfig;

/// Re-reads after ambiguous writes plus repairs after a read-back that differs, per save.
pub const MAX_REREADS: usize = 3;

/// How a save ended, when it did not fail.
// One per save, moved once: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum SaveEnd {
    /// The writes were made and the playlist read back.
    Saved(Saved),
    /// Spotify's copy moved on since it was loaded (or cannot be matched up after a lost answer); nothing more
    /// is written.
    Conflict,
}

/// A save that wrote and read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    /// The playlist as read back.
    pub loaded: Loaded,
    /// Write calls the save took (re-plans included).
    pub calls: usize,
    /// Write calls replacing everything would have taken.
    pub replace_calls: usize,
    /// Whether the read-back equals the edit.
    pub verified: bool,
    /// Times the playlist was re-read after a write's answer was lost.
    pub rereads: usize,
    /// Times a read-back differed and the difference was written.
    pub repairs: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Snapshot,
    Details,
    Write(Op),
    Read(Read),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// A write's answer was lost: what does Spotify hold now?
    ReRead,
    /// After the writes: is it the edit?
    Verify,
}

enum Stage {
    Checking,
    Writing,
    /// A write's answer was lost: wait (it may have been a rate limit in disguise), then re-read.
    Pausing { until: u64 },
    Reading { purpose: Purpose, reading: Box<Reading> },
    Finished,
}

/// One save in progress. See the [module documentation](self).
pub struct Save {
    config: AppConfig,
    loaded: Loaded,
    target: Vec<TrackUri>,
    meta: Meta,
    exchange: Exchange<Call>,
    /// Writes still to send, already built (so a refused one stops the save before anything is written).
    pending: VecDeque<(Call, ApiRequest)>,
    stage: Stage,
    outcome: Option<Result<SaveEnd, Failure>>,
    finished: bool,
    done: usize,
    total: usize,
    rereads: usize,
    repairs: usize,
    /// Reads started, so each one's attempts are numbered apart from the last one's.
    reads: usize,
}

impl Save {
    /// A save of `editor`'s changes to the playlist `loaded`. See [`Load::new`](crate::sync::load::Load::new) for the
    /// other parameters.
    pub fn new(
        config: &AppConfig,
        loaded: &Loaded,
        editor: &Editor,
        policy: RetryPolicy,
        hidden_429: bool,
        seed: u64,
        now: u64,
    ) -> Self {
        let mut save = Self {
            config: config.clone(),
            loaded: loaded.clone(),
            target: editor.target_uris(),
            meta: editor.meta().clone(),
            exchange: Exchange::new(policy, hidden_429, CONCURRENCY, seed),
            pending: VecDeque::new(),
            stage: Stage::Checking,
            outcome: None,
            finished: false,
            done: 0,
            total: 0,
            rereads: 0,
            repairs: 0,
            reads: 0,
        };
        let writes = editor
            .plan()
            .map_err(|e| Failure::Invalid(e.to_string()))
            .and_then(|ops| save.build(Some(editor.details_change()), ops));
        match writes {
            Ok(writes) => {
                save.total = writes.len();
                save.pending = writes;
                let check = playlist_request(config, &loaded.id, Some(SNAPSHOT_FIELDS));
                save.exchange.enqueue(Call::Snapshot, check, now);
            }
            Err(e) => save.outcome = Some(Err(e)),
        }
        save
    }

    /// The requests for a details change (when there is one) and `ops`.
    fn build(&self, change: Option<DetailsChange>, ops: Vec<Op>) -> Result<VecDeque<(Call, ApiRequest)>, Failure> {
        let invalid = |e: crate::RequestError| Failure::Invalid(e.to_string());
        let mut writes = VecDeque::new();
        if let Some(change) = change.filter(|c| !c.is_empty()) {
            writes.push_back((Call::Details, change_details_request(&self.config, &self.loaded.id, &change).map_err(invalid)?));
        }
        for op in ops {
            let request = op_request(&self.config, &self.loaded.id, &op, None).map_err(invalid)?;
            writes.push_back((Call::Write(op), request));
        }
        Ok(writes)
    }

    /// Writes confirmed so far and the writes the save takes now (it grows when a re-read re-plans).
    pub fn progress(&self) -> (usize, usize) {
        (self.done, self.total)
    }

    fn is_current(&self, call: &Call) -> bool {
        match (call, &self.stage) {
            (Call::Read(read), Stage::Reading { reading, .. }) => reading.is_current(read),
            (Call::Read(_), _) => false,
            _ => true,
        }
    }
}

impl Conversation for Save {
    type Out = Result<SaveEnd, Failure>;

    fn gate_mut(&mut self) -> &mut Gate {
        self.exchange.gate_mut()
    }

    fn poll(&mut self, now: u64) -> Next<Result<SaveEnd, Failure>> {
        if let Some(end) = self.exchange.conclude(&mut self.outcome, &mut self.finished) {
            self.stage = Stage::Finished;
            return end;
        }
        if let Stage::Pausing { until } = self.stage {
            if now < until {
                // A lost answer or a 5xx: the status line says Spotify is not answering, not that it asked to wait.
                return Next::Wait { until: Some(until), hold: Some(Hold::Retrying) };
            }
            self.start_read(Purpose::ReRead, now);
            return self.poll(now);
        }
        self.exchange.step(now)
    }

    fn answer(&mut self, id: CallId, now: u64, answer: Answer) {
        if self.finished || self.outcome.is_some() {
            return;
        }
        match self.exchange.answer(id, now, answer) {
            None => {}
            Some(Reply::Final { tag, status, body }) => self.on_final(tag, status, &body, now),
            Some(Reply::Ambiguous { tag: Call::Write(_), after_ms }) => {
                // An add, remove or reorder that may or may not have been applied: replaying it could duplicate
                // or misplace tracks. Read what Spotify holds now and plan the rest from there.
                if self.rereads >= MAX_REREADS {
                    return self.fail(Failure::Unconfirmed { rereads: self.rereads });
                }
                self.rereads += 1;
                self.stage = Stage::Pausing { until: now.saturating_add(after_ms) };
            }
            // Reads and the details change are idempotent: the policy retries them and never calls them ambiguous.
            Some(Reply::Ambiguous { tag, .. }) if self.is_current(&tag) => {
                self.fail(Failure::GaveUp("Spotify could not be reached.".into()));
            }
            Some(Reply::Stopped { tag, stop }) if self.is_current(&tag) => self.fail(Failure::from(stop)),
            // Answers of an abandoned read do not matter, whatever they are.
            Some(Reply::Ambiguous { .. } | Reply::Stopped { .. }) => {}
        }
    }

}

impl Save {
    fn fail(&mut self, failure: Failure) {
        if self.outcome.is_none() {
            self.outcome = Some(Err(failure));
        }
        self.exchange.clear();
    }

    fn end(&mut self, end: SaveEnd) {
        self.outcome = Some(Ok(end));
        self.exchange.clear();
    }

    fn on_final(&mut self, call: Call, status: u16, body: &str, now: u64) {
        match call {
            Call::Snapshot => {
                if !(200..300).contains(&status) {
                    return self.fail(crate::spotify::error::parse_api_error(status, body).into());
                }
                if parse_snapshot(status, body).ok() != self.loaded.snapshot {
                    return self.end(SaveEnd::Conflict);
                }
                self.stage = Stage::Writing;
                self.next_write(now);
            }
            Call::Details => match parse_no_content(status, body) {
                Ok(()) => {
                    self.done += 1;
                    self.next_write(now);
                }
                Err(e) => self.fail(e.into()),
            },
            Call::Write(_) => match parse_snapshot(status, body) {
                Ok(_) => {
                    self.done += 1;
                    self.next_write(now);
                }
                // A 2xx without a readable snapshot was still applied.
                Err(_) if (200..300).contains(&status) => {
                    self.done += 1;
                    self.next_write(now);
                }
                Err(e) => self.fail(e.into()),
            },
            Call::Read(read) => {
                let Stage::Reading { purpose, reading } = &mut self.stage else { return };
                let purpose = *purpose;
                let mut out = Vec::new();
                let step = reading.on_answer(read, status, body, &mut out);
                for (read, request) in out {
                    self.exchange.enqueue(Call::Read(read), request, now);
                }
                match step {
                    Step::More => {}
                    Step::Done(Err(e)) => self.fail(e),
                    Step::Done(Ok(now_held)) => self.on_read(purpose, now_held, now),
                }
            }
        }
    }

    /// Sends the next write, or reads back when there is none left.
    fn next_write(&mut self, now: u64) {
        match self.pending.pop_front() {
            Some((call, request)) => {
                self.stage = Stage::Writing;
                self.exchange.enqueue(call, request, now);
            }
            None => self.start_read(Purpose::Verify, now),
        }
    }

    fn start_read(&mut self, purpose: Purpose, now: u64) {
        self.reads += 1;
        let first = self.reads * (MAX_LOAD_ATTEMPTS + 1);
        let mut reading = Reading::new(self.config.clone(), self.loaded.id.clone(), Some(self.loaded.me.clone()), first);
        let mut out = Vec::new();
        if let Step::Done(Err(e)) = reading.start(&mut out) {
            return self.fail(e);
        }
        for (read, request) in out {
            self.exchange.enqueue(Call::Read(read), request, now);
        }
        self.stage = Stage::Reading { purpose, reading: Box::new(reading) };
    }

    /// Whether what Spotify holds can be matched up with the edit: rows without a URI (tracks Spotify no longer
    /// has) cannot be addressed, so then the conflict path, which re-applies the edits to a fresh copy, takes over.
    fn replannable(&self, held: &Loaded) -> bool {
        !held.entries.iter().any(|e| e.uri.is_none()) && !self.target.iter().any(is_placeholder)
    }

    fn on_read(&mut self, purpose: Purpose, held: Loaded, now: u64) {
        let replannable = self.replannable(&held);
        if purpose == Purpose::ReRead && !replannable {
            return self.end(SaveEnd::Conflict);
        }
        if purpose == Purpose::Verify {
            let wanted: Vec<TrackUri> = self.target.iter().filter(|u| !is_placeholder(u)).cloned().collect();
            let verified = uris(&held.entries) == wanted && held.meta == self.meta;
            // Not what was asked for, although every call answered: something replayed a write behind our back.
            // Plan from what Spotify holds, while re-reads are left.
            if verified || self.rereads + self.repairs >= MAX_REREADS || !replannable {
                return self.finish(held, verified);
            }
            self.repairs += 1;
        }
        let rest = match plan(&uris(&held.entries), &self.target) {
            Ok(rest) => rest,
            Err(e) => return self.fail(Failure::Invalid(e.to_string())),
        };
        if purpose == Purpose::Verify && rest.is_empty() {
            // The items match; only the details differ, and those were set with an idempotent call already.
            return self.finish(held, false);
        }
        let rest = match self.build(None, rest) {
            Ok(rest) => rest,
            Err(e) => return self.fail(e),
        };
        self.total = self.done + rest.len();
        self.pending = rest;
        self.next_write(now);
    }

    fn finish(&mut self, loaded: Loaded, verified: bool) {
        let saved = Saved {
            loaded,
            calls: self.total,
            replace_calls: replace_cost(self.target.len()),
            verified,
            rereads: self.rereads,
            repairs: self.repairs,
        };
        self.end(SaveEnd::Saved(saved));
    }
}

fn uris(entries: &[PlaylistEntry]) -> Vec<TrackUri> {
    entries.iter().filter_map(|e| e.uri.clone()).collect()
}

#[cfg(test)]
mod tests;
