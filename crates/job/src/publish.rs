//! Publishing a track list to a playlist, as a sans-IO state machine: [`Publish::poll`] says what to do next (send
//! a [`Call`], get a fresh token, wait, or stop with a [`Report`] or an [`Error`]); [`Publish::answer`] and
//! [`Publish::refreshed`] tell it what happened. It never reads a clock (times are parameters, in milliseconds on
//! any monotonic scale) and never touches the network, so every path is a native unit test; `crate::run` carries
//! it out with HTTP and the sink's credentials.
//!
//! The procedure, with the browser app's decisions (`src/data.rs`) carried over:
//!
//! 1. **Read**: the playlist's details first (owner, name, snapshot and item count): a playlist that does not
//!    exist or that the user does not own is refused here, before anything else is read or written. Then every
//!    page of items at once (the count is known), under [`CONCURRENCY`], then the snapshot again: if it moved, or
//!    a page reports another total, the playlist changed mid-read and is read again (at most
//!    [`MAX_READ_RESTARTS`] times).
//! 2. **Plan** with core's planner ([`setlist_core::plan`]): the fewest calls from what Spotify holds to the list
//!    (a list two tracks apart costs a call or two), a replace only when strictly cheaper. A new name or
//!    description that differs is one idempotent `PUT` before the item writes. `dry_run` stops here.
//! 3. **Write** the calls one after another (each is planned against the list the previous one left) under core's
//!    retry policy ([`setlist_core::sync::retry`]): `429` waits `Retry-After` (everyone waits, through one [`Gate`]),
//!    a `401` gets one token refresh per run and the call again (a refused request was not applied), a `5xx` or a
//!    lost answer is retried only for the idempotent replace and details calls; any other write is never
//!    replayed: the playlist is read again and the rest re-planned from what it holds.
//! 4. **Verify**: read the playlist back; if it is not the list (someone replayed a write, or edited meanwhile),
//!    re-plan from it and write the difference. Re-reads and repairs together stop after [`MAX_REREADS`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

use http::Method;
use serde::Serialize;
use setlist_core::{
    change_details_request, items_request, op_request, parse_items, parse_no_content, parse_playlist,
    parse_snapshot, playlist_request, DetailsChange, Page, PlaylistEntry, PlaylistSummary, RequestError,
    PLAYLIST_FIELDS, SNAPSHOT_FIELDS,
};
use setlist_core::sync::exchange::{Exchange, Reply, Stop};
pub use setlist_core::sync::exchange::{Answer, CallId};
use setlist_core::sync::retry::{self, RetryPolicy, Safety};
use setlist_core::{plan, replace_cost, ApiError, ApiRequest, AppConfig, Op, PlaylistId, TrackUri, MAX_URIS_PER_CALL};

use crate::input::PublishSpec;
use crate::Error;

/// Reads in flight at once. The job runs where Spotify is one TLS connection pool away; like the app it keeps a
/// handful of pages coming, well inside Spotify's rolling-window limit for a 10,000-item list (201 pages).
pub const CONCURRENCY: usize = 8;
/// Re-reads after lost write answers plus repairs after a read-back that differs, per run.
pub const MAX_REREADS: usize = 3;
/// Reads started again because the playlist changed while its pages came in.
pub const MAX_READ_RESTARTS: usize = 3;
/// Token refreshes after a `401`, per run: an hour-long token outlives any publish, so a second `401` means
/// Spotify refuses the app, not the token's age, and another refresh would not help.
pub const MAX_REFRESHES: usize = 1;

/// `fields` for item pages: only what the planner and the verification need (a 10,000-item read moves a fifth
/// of the bytes core's `ITEMS_FIELDS`, made for the editor's rows, would).
pub const JOB_ITEMS_FIELDS: &str = "items(is_local,item(type,uri)),total,limit,offset";

/// One Spotify request of a publish: [`Call::request`] builds it without the token; the transport authorizes it
/// with whichever token is current when it is (re)sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `GET /playlists/{id}` with [`PLAYLIST_FIELDS`].
    Details,
    /// `GET /playlists/{id}/items` for one page, with [`JOB_ITEMS_FIELDS`].
    Items(Page),
    /// `GET /playlists/{id}` with [`SNAPSHOT_FIELDS`]: did it change while the pages came in?
    Snapshot,
    /// `PUT /playlists/{id}`: a new name and/or description.
    ChangeDetails(DetailsChange),
    /// An item write, one of the planner's [`Op`]s.
    Write(Op),
}

impl Call {
    /// The request, built by core.
    pub fn request(&self, config: &AppConfig, playlist: &PlaylistId) -> Result<ApiRequest, RequestError> {
        match self {
            Self::Details => Ok(playlist_request(config, playlist, Some(PLAYLIST_FIELDS))),
            Self::Items(page) => Ok(items_request(config, playlist, *page, Some(JOB_ITEMS_FIELDS))),
            Self::Snapshot => Ok(playlist_request(config, playlist, Some(SNAPSHOT_FIELDS))),
            Self::ChangeDetails(change) => change_details_request(config, playlist, change),
            Self::Write(op) => op_request(config, playlist, op, None),
        }
    }

    /// Whether it may be resent after an ambiguous failure: core's rule for the method and the op.
    pub fn safety(&self) -> Safety {
        match self {
            Self::Write(op) => op.safety(),
            Self::ChangeDetails(_) => retry::safety(&Method::PUT, false),
            Self::Details | Self::Items(_) | Self::Snapshot => retry::safety(&Method::GET, false),
        }
    }

    /// Whether it changes the playlist.
    pub fn is_write(&self) -> bool {
        matches!(self, Self::ChangeDetails(_) | Self::Write(_))
    }

    /// What the call is doing, for error messages.
    fn during(&self) -> String {
        match self {
            Self::Details => "reading the playlist's details".to_owned(),
            Self::Items(page) => format!("reading the playlist's items from {}", page.offset()),
            Self::Snapshot => "checking the playlist's version".to_owned(),
            Self::ChangeDetails(change) => describe_details(change),
            Self::Write(op) => describe(op),
        }
    }
}

/// What the caller does next.
#[derive(Debug)]
pub enum Action {
    /// Send this request now, authorized with the current token (other calls may be in flight), then report its
    /// answer with [`Publish::answer`]. `call` says what it is.
    Send { id: CallId, call: Call, request: ApiRequest },
    /// Get a fresh access token (Spotify refused the current one with `401`), then call [`Publish::refreshed`].
    Refresh,
    /// Wait for an answer, or until `until` (milliseconds) when given, then poll again.
    Wait { until: Option<u64> },
    /// Finished.
    Done(Report),
    /// Stopped; see [`Error::wrote`] for whether anything was written.
    Failed(Error),
}

/// What a publish did, for the operator: printed by the binary, returned by the Lambda.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The playlist's id.
    pub playlist: String,
    /// Its name, as it was read.
    pub name: String,
    pub dry_run: bool,
    /// Items before, as first read.
    pub items_before: usize,
    /// Items in the list published.
    pub items_after: usize,
    /// Copies of tracks the list has and the playlist had not (counted with multiplicity).
    pub tracks_added: usize,
    /// Copies of tracks the playlist had and the list has not.
    pub tracks_removed: usize,
    /// Which details change: `name`, `description`.
    pub details_changed: Vec<String>,
    /// The plan made from the first read, one line per write call.
    pub plan: Vec<String>,
    /// Write calls the plan needs.
    pub planned_write_calls: usize,
    /// Write calls a replace of everything would need, for comparison.
    pub replace_write_calls: usize,
    /// Write requests sent, retries and repairs included.
    pub write_calls: usize,
    /// Read requests sent, retries included.
    pub read_calls: usize,
    /// Requests sent again after a `429`, a `5xx` or a lost answer.
    pub retries: usize,
    /// Times the playlist was read again after a write's answer was lost.
    pub rereads: usize,
    /// Times the read-back differed and the difference was written.
    pub repairs: usize,
    /// Token refreshes after a `401`.
    pub token_refreshes: usize,
    /// `Some(true)` when the read-back equals the list; `None` for a dry run.
    pub verified: Option<bool>,
    /// How the credentials were obtained, filled in by whoever ran the procedure.
    pub tokens: Vec<String>,
}

/// Why the playlist is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// Before planning.
    Initial,
    /// A write's answer was lost: what does Spotify hold now?
    ReRead,
    /// After the writes: is it the list?
    Verify,
}

enum LoadState {
    Details,
    Items {
        summary: PlaylistSummary,
        /// From the details, or from the first page when the details did not say.
        total: Option<u32>,
        pages: BTreeMap<u32, Vec<PlaylistEntry>>,
        outstanding: usize,
    },
    Snapshot {
        summary: PlaylistSummary,
        entries: Vec<PlaylistEntry>,
    },
}

enum Stage {
    Loading { purpose: Purpose, restarts: usize, state: Box<LoadState> },
    Writing { pending: VecDeque<Call> },
    /// A write's answer was lost: wait (it may have been a rate limit in disguise), then re-read.
    Pausing { until: u64 },
    Finished,
}

/// What a request is for: the call, and the read it belongs to (answers of an abandoned read are dropped).
#[derive(Clone, Debug)]
struct Tag {
    call: Call,
    read: u64,
}

/// One publish in progress. See the [module documentation](self).
pub struct Publish {
    spec: PublishSpec,
    config: AppConfig,
    /// Core's request queue: the retry policy, the rate-limit gate, the concurrency cap.
    exchange: Exchange<Tag>,
    /// The token generation each request in flight was sent with.
    epochs: HashMap<CallId, usize>,
    /// A refresh was asked for and not yet reported done.
    refreshing: bool,
    refresh_wanted: bool,
    /// Token generation: bumped by each refresh.
    epoch: usize,
    /// Bumped by each read started, so late answers of an abandoned one are recognised.
    read: u64,
    stage: Stage,
    outcome: Option<Result<Report, Error>>,
    report: Report,
    /// The list as first read, for the report's added/removed counts.
    base: Vec<TrackUri>,
    wrote: bool,
}

impl fmt::Debug for Publish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("playlist", &self.spec.playlist)
            .field("in_flight", &self.exchange.in_flight())
            .finish_non_exhaustive()
    }
}

impl Publish {
    /// A publish of `spec` under `policy`, with requests built for `config`; `seed` drives the backoff jitter.
    pub fn new(config: &AppConfig, spec: PublishSpec, policy: RetryPolicy, seed: u64) -> Self {
        let report = Report {
            playlist: spec.playlist.as_str().to_owned(),
            dry_run: spec.dry_run,
            items_after: spec.tracks.len(),
            replace_write_calls: replace_cost(spec.tracks.len()),
            ..Report::default()
        };
        let mut publish = Self {
            spec,
            config: config.clone(),
            // A native client sees every 429 (no CORS to hide one), so a lost answer is no rate-limit signal.
            exchange: Exchange::new(policy, false, CONCURRENCY, seed),
            epochs: HashMap::new(),
            refreshing: false,
            refresh_wanted: false,
            epoch: 0,
            read: 0,
            stage: Stage::Finished,
            outcome: None,
            report,
            base: Vec::new(),
            wrote: false,
        };
        publish.start_read(Purpose::Initial, 0, 0);
        publish
    }

    /// The playlist the calls are for.
    pub fn playlist(&self) -> &PlaylistId {
        &self.spec.playlist
    }

    /// What to do next at `now` (milliseconds). After [`Action::Done`] or [`Action::Failed`] it only waits.
    pub fn poll(&mut self, now: u64) -> Action {
        if let Some(outcome) = self.outcome.take() {
            self.stage = Stage::Finished;
            self.exchange.clear();
            return match outcome {
                Ok(report) => Action::Done(report),
                Err(error) => Action::Failed(error),
            };
        }
        if matches!(self.stage, Stage::Finished) {
            return Action::Wait { until: None };
        }
        if let Stage::Pausing { until } = self.stage {
            if now < until {
                return Action::Wait { until: Some(until) };
            }
            self.report.rereads += 1;
            self.start_read(Purpose::ReRead, 0, now);
        }
        if self.refresh_wanted {
            self.refresh_wanted = false;
            self.refreshing = true;
            return Action::Refresh;
        }
        if self.refreshing {
            return Action::Wait { until: None };
        }
        if let Some(sending) = self.exchange.next_sending(now) {
            if sending.tag.call.is_write() {
                self.report.write_calls += 1;
                self.wrote = true;
            } else {
                self.report.read_calls += 1;
            }
            if sending.attempt > 1 {
                self.report.retries += 1;
            }
            self.epochs.insert(sending.id, self.epoch);
            return Action::Send { id: sending.id, call: sending.tag.call, request: sending.request };
        }
        Action::Wait { until: self.exchange.wake().0 }
    }

    /// The token was refreshed after a `401`: calls go out again, with the new one.
    pub fn refreshed(&mut self) {
        self.refreshing = false;
        self.epoch += 1;
        self.report.token_refreshes += 1;
    }

    /// What came back for `id` at `now`. Answers for unknown ids and for abandoned reads are dropped.
    pub fn answer(&mut self, id: CallId, now: u64, answer: Answer) {
        let Some(epoch) = self.epochs.remove(&id) else { return };
        let reply = self.exchange.answer(id, now, answer);
        // A retry of an abandoned read is not worth sending.
        let read = self.read;
        self.exchange.retain_queued(|tag| tag.call.is_write() || tag.read == read);
        let Some(reply) = reply else { return };
        let (Reply::Final { tag, .. } | Reply::Ambiguous { tag, .. } | Reply::Stopped { tag, .. }) = &reply;
        if matches!(self.stage, Stage::Finished) || (!tag.call.is_write() && tag.read != self.read) {
            return;
        }
        match reply {
            // Spotify checks the token before anything else: the request was not applied, so even a write may go
            // again once the token is fresh.
            Reply::Final { tag, status: 401, .. } => {
                let refresh_coming = self.refreshing || self.refresh_wanted;
                if epoch < self.epoch || refresh_coming {
                    self.enqueue(tag.call, now);
                } else if self.report.token_refreshes < MAX_REFRESHES {
                    self.refresh_wanted = true;
                    self.enqueue(tag.call, now);
                } else {
                    self.fail(Error::TokenRefused { wrote: self.wrote });
                }
            }
            Reply::Final { tag, status, body } => self.deliver(&tag.call, status, &body, now),
            // Only a non-idempotent write gets here: it may or may not have been applied. Never replay it.
            Reply::Ambiguous { after_ms, .. } => {
                if self.report.rereads + self.report.repairs >= MAX_REREADS {
                    self.fail(Error::TooManyRereads { rereads: self.report.rereads });
                } else {
                    self.stage = Stage::Pausing { until: now.saturating_add(after_ms) };
                }
            }
            Reply::Stopped { stop: Stop::RateLimited { resume_in_secs }, .. } => {
                self.fail(Error::RateLimited { resume_in_secs, wrote: self.wrote });
            }
            Reply::Stopped { tag, stop: Stop::GaveUp(reason) } => {
                self.fail(Error::GaveUp { reason, during: tag.call.during(), wrote: self.wrote });
            }
        }
    }

    /// Queues `call` (built by core for this playlist) for the current read.
    fn enqueue(&mut self, call: Call, now: u64) {
        match call.request(&self.config, &self.spec.playlist) {
            Ok(request) => self.exchange.enqueue(Tag { call, read: self.read }, request, now),
            Err(error) => self.fail(Error::Transport(format!("cannot build a request: {error}"))),
        }
    }

    fn fail(&mut self, error: Error) {
        if self.outcome.is_none() {
            self.outcome = Some(Err(error));
        }
        self.stage = Stage::Finished;
        self.exchange.clear();
    }

    fn finish(&mut self, verified: Option<bool>) {
        self.report.verified = verified;
        self.outcome = Some(Ok(std::mem::take(&mut self.report)));
        self.stage = Stage::Finished;
        self.exchange.clear();
    }

    fn start_read(&mut self, purpose: Purpose, restarts: usize, now: u64) {
        self.read += 1;
        self.exchange.retain_queued(|tag| tag.call.is_write());
        self.stage = Stage::Loading { purpose, restarts, state: Box::new(LoadState::Details) };
        self.enqueue(Call::Details, now);
    }

    /// The read changed under us: start it again, or give up.
    fn restart_read(&mut self, purpose: Purpose, restarts: usize, now: u64) {
        if restarts + 1 > MAX_READ_RESTARTS {
            self.fail(Error::KeepsChanging { wrote: self.wrote });
        } else {
            self.start_read(purpose, restarts + 1, now);
        }
    }

    fn spotify_error(&mut self, call: &Call, error: ApiError) {
        let error = Error::Spotify { status: error.status, message: error.message, during: call.during(), wrote: self.wrote };
        self.fail(error);
    }

    fn deliver(&mut self, call: &Call, status: u16, body: &str, now: u64) {
        let stage = std::mem::replace(&mut self.stage, Stage::Finished);
        match (stage, call) {
            (Stage::Loading { purpose, restarts, state }, _) if !call.is_write() => {
                self.on_read(purpose, restarts, *state, call, status, body, now);
            }
            (Stage::Writing { pending }, Call::ChangeDetails(_)) => match parse_no_content(status, body) {
                Ok(()) => self.next_write(pending, now),
                Err(error) => self.spotify_error(call, error),
            },
            (Stage::Writing { pending }, Call::Write(_)) => match parse_snapshot(status, body) {
                Ok(_) => self.next_write(pending, now),
                // A 2xx without a readable snapshot was still applied.
                Err(_) if (200..300).contains(&status) => self.next_write(pending, now),
                Err(error) => self.spotify_error(call, error),
            },
            (stage, _) => self.stage = stage,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_read(
        &mut self,
        purpose: Purpose,
        restarts: usize,
        state: LoadState,
        call: &Call,
        status: u16,
        body: &str,
        now: u64,
    ) {
        match (state, call) {
            (LoadState::Details, Call::Details) => {
                let summary = match parse_playlist(status, body) {
                    Ok(playlist) => playlist.summary,
                    Err(error) if error.status == 404 => {
                        return self.fail(Error::UnknownPlaylist { playlist: self.spec.playlist.as_str().to_owned() })
                    }
                    Err(error) => return self.spotify_error(call, error),
                };
                let owner = summary.owner.id.as_ref().map(|id| id.as_str().to_owned());
                if owner.as_deref() != Some(self.spec.user.as_str()) {
                    let owner = summary
                        .owner
                        .display_name
                        .clone()
                        .map(|name| match &owner {
                            Some(id) => format!("{name} ({id})"),
                            None => name,
                        })
                        .or(owner)
                        .unwrap_or_else(|| "someone else".to_owned());
                    return self.fail(Error::NotOwner {
                        user: self.spec.user.clone(),
                        playlist: self.spec.playlist.as_str().to_owned(),
                        name: summary.name,
                        owner,
                    });
                }
                if purpose == Purpose::Initial {
                    self.report.name = summary.name.clone();
                }
                match summary.item_count {
                    Some(0) => self.on_loaded(purpose, summary, Vec::new(), now),
                    Some(total) => {
                        let pages: Vec<Page> = std::iter::once(Page::first()).chain(Page::first().following(total)).collect();
                        let outstanding = pages.len();
                        for page in pages {
                            self.enqueue(Call::Items(page), now);
                        }
                        let state = LoadState::Items { summary, total: Some(total), pages: BTreeMap::new(), outstanding };
                        self.stage = Stage::Loading { purpose, restarts, state: Box::new(state) };
                    }
                    None => {
                        self.enqueue(Call::Items(Page::first()), now);
                        let state = LoadState::Items { summary, total: None, pages: BTreeMap::new(), outstanding: 1 };
                        self.stage = Stage::Loading { purpose, restarts, state: Box::new(state) };
                    }
                }
            }
            (LoadState::Items { summary, total, mut pages, mut outstanding }, Call::Items(page)) => {
                let paging = match parse_items(status, body) {
                    Ok(paging) => paging,
                    Err(error) => return self.spotify_error(call, error),
                };
                let total = match total {
                    Some(total) if total != paging.total => return self.restart_read(purpose, restarts, now),
                    Some(total) => total,
                    None => {
                        for page in Page::first().following(paging.total) {
                            self.enqueue(Call::Items(page), now);
                            outstanding += 1;
                        }
                        paging.total
                    }
                };
                pages.insert(page.offset(), paging.items);
                outstanding -= 1;
                if outstanding > 0 {
                    let state = LoadState::Items { summary, total: Some(total), pages, outstanding };
                    self.stage = Stage::Loading { purpose, restarts, state: Box::new(state) };
                    return;
                }
                let entries: Vec<PlaylistEntry> = pages.into_values().flatten().collect();
                if entries.len() != total as usize {
                    return self.restart_read(purpose, restarts, now);
                }
                self.enqueue(Call::Snapshot, now);
                self.stage = Stage::Loading { purpose, restarts, state: Box::new(LoadState::Snapshot { summary, entries }) };
            }
            (LoadState::Snapshot { summary, entries }, Call::Snapshot) => match parse_snapshot(status, body) {
                Ok(snapshot) if Some(&snapshot) == summary.snapshot_id.as_ref() => {
                    self.on_loaded(purpose, summary, entries, now);
                }
                Ok(_) => self.restart_read(purpose, restarts, now),
                Err(error) => self.spotify_error(call, error),
            },
            // An answer for a call the current state did not ask for: keep waiting for the right ones.
            (state, _) => self.stage = Stage::Loading { purpose, restarts, state: Box::new(state) },
        }
    }

    fn on_loaded(&mut self, purpose: Purpose, summary: PlaylistSummary, entries: Vec<PlaylistEntry>, now: u64) {
        let change = details_change(&self.spec, &summary);
        match purpose {
            Purpose::Initial => {
                self.base = entries.iter().filter_map(|e| e.uri.clone()).collect();
                self.report.items_before = entries.len();
                let (added, removed) = difference_counts(&self.base, &self.spec.tracks);
                self.report.tracks_added = added;
                self.report.tracks_removed = removed + entries.iter().filter(|e| e.uri.is_none()).count();
                let ops = match plan_ops(&entries, &self.spec.tracks) {
                    Ok(ops) => ops,
                    Err(error) => return self.fail(error),
                };
                let mut calls: VecDeque<Call> = VecDeque::new();
                if let Some(change) = change {
                    if change.name.is_some() {
                        self.report.details_changed.push("name".to_owned());
                    }
                    if change.description.is_some() {
                        self.report.details_changed.push("description".to_owned());
                    }
                    calls.push_back(Call::ChangeDetails(change));
                }
                calls.extend(ops.into_iter().map(Call::Write));
                self.report.planned_write_calls = calls.len();
                self.report.plan = calls.iter().map(|call| call.during()).collect();
                if self.spec.dry_run {
                    return self.finish(None);
                }
                if calls.is_empty() {
                    // What was just read is the list: nothing to write, nothing more to verify.
                    return self.finish(Some(true));
                }
                self.next_write(calls, now);
            }
            Purpose::ReRead | Purpose::Verify => {
                if change.is_none() && matches_list(&entries, &self.spec.tracks) {
                    return self.finish(Some(true));
                }
                if purpose == Purpose::Verify {
                    if self.report.rereads + self.report.repairs >= MAX_REREADS {
                        return self.fail(Error::NotVerified {
                            repairs: self.report.repairs,
                            difference: describe_difference(&entries, &self.spec.tracks, change.as_ref()),
                        });
                    }
                    self.report.repairs += 1;
                }
                let ops = match plan_ops(&entries, &self.spec.tracks) {
                    Ok(ops) => ops,
                    Err(error) => return self.fail(error),
                };
                let calls = change.map(Call::ChangeDetails).into_iter().chain(ops.into_iter().map(Call::Write)).collect();
                self.next_write(calls, now);
            }
        }
    }

    /// Sends the next write, or reads back when there is none left.
    fn next_write(&mut self, mut pending: VecDeque<Call>, now: u64) {
        match pending.pop_front() {
            Some(call) => {
                self.enqueue(call, now);
                self.stage = Stage::Writing { pending };
            }
            None => self.start_read(Purpose::Verify, 0, now),
        }
    }
}

/// The calls from what `entries` hold to `target`: core's planner; a replace when some entry has no URI to
/// address it by (Spotify lists tracks it no longer has as `null`: only a replace removes those).
pub fn plan_ops(entries: &[PlaylistEntry], target: &[TrackUri]) -> Result<Vec<Op>, Error> {
    if entries.iter().any(|entry| entry.uri.is_none()) {
        let first = target.len().min(MAX_URIS_PER_CALL);
        let mut ops = vec![Op::Replace { uris: target[..first].to_vec() }];
        ops.extend(target[first..].chunks(MAX_URIS_PER_CALL).map(|chunk| Op::Add { uris: chunk.to_vec(), position: None }));
        return Ok(ops);
    }
    let base: Vec<TrackUri> = entries.iter().filter_map(|entry| entry.uri.clone()).collect();
    Ok(plan(&base, target)?)
}

fn matches_list(entries: &[PlaylistEntry], target: &[TrackUri]) -> bool {
    entries.len() == target.len() && entries.iter().zip(target).all(|(entry, uri)| entry.uri.as_ref() == Some(uri))
}

/// The details to send: the asked-for name and description that differ from what Spotify holds.
fn details_change(spec: &PublishSpec, summary: &PlaylistSummary) -> Option<DetailsChange> {
    let name = spec.name.clone().filter(|name| *name != summary.name);
    let description = spec.description.clone().filter(|d| *d != unescape_html(&summary.description));
    let change = DetailsChange { name, description, public: None, collaborative: None };
    (!change.is_empty()).then_some(change)
}

/// Spotify answers descriptions HTML-escaped (`&#x27;` for `'`); compare them as entered.
fn unescape_html(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// (copies in `target` and not in `base`, copies in `base` and not in `target`), counting duplicates.
fn difference_counts(base: &[TrackUri], target: &[TrackUri]) -> (usize, usize) {
    let mut counts: HashMap<&TrackUri, isize> = HashMap::new();
    for uri in target {
        *counts.entry(uri).or_default() += 1;
    }
    for uri in base {
        *counts.entry(uri).or_default() -= 1;
    }
    let added = counts.values().filter(|n| **n > 0).map(|n| n.unsigned_abs()).sum();
    let removed = counts.values().filter(|n| **n < 0).map(|n| n.unsigned_abs()).sum();
    (added, removed)
}

fn describe_difference(entries: &[PlaylistEntry], target: &[TrackUri], change: Option<&DetailsChange>) -> String {
    let mut parts = Vec::new();
    if !matches_list(entries, target) {
        let first = entries
            .iter()
            .zip(target)
            .position(|(entry, uri)| entry.uri.as_ref() != Some(uri))
            .unwrap_or(entries.len().min(target.len()));
        parts.push(format!(
            "Spotify holds {} items, the list has {}, the first difference is at position {first}",
            entries.len(),
            target.len()
        ));
    }
    if let Some(change) = change {
        if change.name.is_some() {
            parts.push("the name differs".to_owned());
        }
        if change.description.is_some() {
            parts.push("the description differs".to_owned());
        }
    }
    parts.join("; ")
}

fn tracks(n: usize) -> String {
    if n == 1 {
        "1 track".to_owned()
    } else {
        format!("{n} tracks")
    }
}

/// One line for an op: what it does to the playlist.
pub fn describe(op: &Op) -> String {
    match op {
        Op::Add { uris, position: Some(position) } => format!("insert {} at position {position}", tracks(uris.len())),
        Op::Add { uris, position: None } => format!("append {}", tracks(uris.len())),
        Op::Replace { uris } => format!("replace every item with {}", tracks(uris.len())),
        Op::Reorder { range_start, insert_before, range_length } => {
            let items = if *range_length == 1 { "1 item".to_owned() } else { format!("{range_length} items") };
            format!("move {items} from position {range_start} to before position {insert_before}")
        }
        Op::Remove { uris } => format!("remove every copy of {}", tracks(uris.len())),
    }
}

fn describe_details(change: &DetailsChange) -> String {
    match (&change.name, &change.description) {
        (Some(name), Some(_)) => format!("rename to {name:?} and set the description"),
        (Some(name), None) => format!("rename to {name:?}"),
        (None, Some(_)) => "set the description".to_owned(),
        (None, None) => "change the details".to_owned(),
    }
}

#[cfg(test)]
mod tests;
