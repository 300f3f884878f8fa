//! A small in-memory Spotify for the load and save machines' tests: it answers the requests they hand out with
//! core's model of playlist writes, and injects the failures the tests name. A test server may look inside a
//! request; the app never does.

use std::collections::VecDeque;

use http::Method;
use serde_json::{json, Value};

use crate::sync::exchange::{Answer, Conversation, Next};
use crate::ids::TrackUri;
use crate::edit::model::{apply, Op};
use crate::spotify::request::ApiRequest;
use crate::sync::retry::RetryPolicy;
use crate::AppConfig;

pub(crate) const PLAYLIST: &str = "3cEYpjA9oz9GiPac4AsH4n";

pub(crate) fn config() -> AppConfig {
    AppConfig::from_json(
        r#"{"client_id": "c", "redirect_uri": "http://127.0.0.1:8080/callback",
            "accounts_base": "http://127.0.0.1:9000", "api_base": "http://127.0.0.1:9000/v1",
            "push_url": "/api/tokens", "scopes": []}"#,
    )
    .expect("valid config")
}

pub(crate) fn policy() -> RetryPolicy {
    RetryPolicy::default()
}

pub(crate) fn t(n: usize) -> TrackUri {
    TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("valid")
}

pub(crate) fn tracks(range: std::ops::Range<usize>) -> Vec<TrackUri> {
    range.map(t).collect()
}

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Me,
    MyPlaylists,
    Details,
    Items,
    Add,
    Remove,
    Reorder,
    Replace,
    ChangeDetails,
}

/// What happens to a request a fault catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answered with this status (and `Retry-After`); not applied.
    Status(u16, Option<u64>),
    /// A `429` without CORS headers: the page sees no answer. Not applied.
    HiddenRateLimit,
    /// The connection drops before the request arrives: not applied, no answer.
    Drop,
    /// Applied, then the answer is lost.
    DropAfter,
    /// Applied twice (a browser resent it on a fresh connection), answered once.
    Resent,
    /// Applied, answered `502` (a proxy gave up waiting).
    AppliedThen5xx,
}

/// The fake's playlist and what it logs.
pub(crate) struct Fake {
    pub(crate) me: String,
    pub(crate) owner: String,
    pub(crate) collaborative: bool,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) uris: Vec<TrackUri>,
    pub(crate) snapshot: u64,
    pub(crate) faults: VecDeque<(Route, Fault)>,
    /// Someone else's edits: after the n-th request is served, the list becomes this.
    pub(crate) edits: VecDeque<(usize, Vec<TrackUri>)>,
    /// How many playlists the user's library lists (`GET /me/playlists`, newest first: `List {library - 1}` to
    /// `List 0`), and how it changes: after the n-th
    /// request is served, it lists this many.
    pub(crate) library: usize,
    pub(crate) library_edits: VecDeque<(usize, usize)>,
    /// (time, route, status or 0 for no answer) of every request.
    pub(crate) log: Vec<(u64, Route, u16)>,
}

impl Fake {
    pub(crate) fn owned(uris: Vec<TrackUri>) -> Self {
        Self {
            me: "ada".into(),
            owner: "ada".into(),
            collaborative: false,
            name: "Mine".into(),
            description: String::new(),
            uris,
            snapshot: 1,
            faults: VecDeque::new(),
            edits: VecDeque::new(),
            library: 0,
            library_edits: VecDeque::new(),
            log: Vec::new(),
        }
    }

    pub(crate) fn library(mut self, playlists: usize) -> Self {
        self.library = playlists;
        self
    }

    pub(crate) fn fault(mut self, route: Route, fault: Fault) -> Self {
        self.faults.push_back((route, fault));
        self
    }

    /// Requests of `route` sent, and how many were answered with `status`.
    pub(crate) fn count(&self, route: Route) -> usize {
        self.log.iter().filter(|(_, r, _)| *r == route).count()
    }

    pub(crate) fn writes(&self) -> usize {
        self.log.iter().filter(|(_, r, _)| !matches!(r, Route::Me | Route::MyPlaylists | Route::Details | Route::Items)).count()
    }

    fn route(request: &ApiRequest) -> (Route, Option<Op>) {
        let path = request.uri().path();
        let body: Value = serde_json::from_str(request.body()).unwrap_or(Value::Null);
        let uris = |v: &Value| -> Vec<TrackUri> {
            v.as_array().into_iter().flatten().filter_map(|u| u.as_str().or_else(|| u["uri"].as_str())).filter_map(|u| TrackUri::parse(u).ok()).collect()
        };
        let m = request.method();
        if path.ends_with("/me") {
            (Route::Me, None)
        } else if path.ends_with("/me/playlists") {
            (Route::MyPlaylists, None)
        } else if !path.ends_with("/items") {
            if *m == Method::GET { (Route::Details, None) } else { (Route::ChangeDetails, None) }
        } else if *m == Method::GET {
            (Route::Items, None)
        } else if *m == Method::POST {
            let position = body["position"].as_u64().map(|p| p as usize);
            (Route::Add, Some(Op::Add { uris: uris(&body["uris"]), position }))
        } else if *m == Method::DELETE {
            (Route::Remove, Some(Op::Remove { uris: uris(&body["items"]) }))
        } else if body.get("range_start").is_some() {
            let n = |k: &str| body[k].as_u64().unwrap_or(0) as usize;
            (Route::Reorder, Some(Op::Reorder { range_start: n("range_start"), insert_before: n("insert_before"), range_length: n("range_length") }))
        } else {
            (Route::Replace, Some(Op::Replace { uris: uris(&body["uris"]) }))
        }
    }

    fn ok(body: Value) -> Answer {
        Answer::Status { status: 200, retry_after: None, body: body.to_string() }
    }

    fn error(status: u16, retry_after: Option<u64>) -> Answer {
        let body = json!({"error": {"status": status, "message": format!("fake {status}")}}).to_string();
        Answer::Status { status, retry_after, body }
    }

    fn playlist_json(&self) -> Value {
        json!({
            "id": PLAYLIST, "name": self.name, "description": self.description, "public": false,
            "collaborative": self.collaborative, "owner": {"id": self.owner, "display_name": self.owner.to_uppercase()},
            "snapshot_id": format!("snap{}", self.snapshot), "items": {"total": self.uris.len()},
        })
    }

    fn apply(&mut self, route: Route, op: Option<&Op>, request: &ApiRequest) -> Answer {
        if route == Route::ChangeDetails {
            let body: Value = serde_json::from_str(request.body()).unwrap_or(Value::Null);
            if let Some(name) = body["name"].as_str() {
                self.name = name.to_owned();
            }
            if let Some(d) = body["description"].as_str() {
                self.description = d.to_owned();
            }
            self.snapshot += 1;
            return Answer::Status { status: 200, retry_after: None, body: String::new() };
        }
        let Some(op) = op else { return Self::error(400, None) };
        match apply(&mut self.uris, op) {
            Ok(()) => {
                self.snapshot += 1;
                Self::ok(json!({"snapshot_id": format!("snap{}", self.snapshot)}))
            }
            Err(_) => Self::error(400, None),
        }
    }

    /// A paged request's `limit` and `offset`.
    fn page(request: &ApiRequest) -> (usize, usize) {
        let q: Vec<(String, String)> = url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
        let get = |k: &str| q.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.parse::<usize>().ok()).unwrap_or(0);
        (get("limit"), get("offset"))
    }

    /// Serves one request at `now`.
    pub(crate) fn serve(&mut self, request: &ApiRequest, now: u64) -> Answer {
        let (route, op) = Self::route(request);
        let fault = self.faults.iter().position(|(r, _)| *r == route).and_then(|i| self.faults.remove(i)).map(|(_, f)| f);
        let answer = match fault {
            Some(Fault::Status(status, retry_after)) => Self::error(status, retry_after),
            Some(Fault::HiddenRateLimit | Fault::Drop) => Answer::Unreachable,
            Some(Fault::DropAfter) => {
                self.apply(route, op.as_ref(), request);
                Answer::Unreachable
            }
            Some(Fault::AppliedThen5xx) => {
                self.apply(route, op.as_ref(), request);
                Self::error(502, None)
            }
            Some(Fault::Resent) => {
                self.apply(route, op.as_ref(), request);
                self.apply(route, op.as_ref(), request)
            }
            None => match route {
                Route::Me => Self::ok(json!({"id": self.me, "display_name": "Ada"})),
                Route::Details => Self::ok(self.playlist_json()),
                Route::Items if self.owner != self.me && !self.collaborative => Self::error(403, None),
                Route::MyPlaylists => {
                    let (limit, offset) = Self::page(request);
                    // Newest first, as Spotify lists them: a playlist created meanwhile shifts every later page.
                    let items: Vec<Value> = (offset..self.library.min(offset + limit))
                        .map(|at| self.library - 1 - at)
                        .map(|n| json!({"id": format!("{n:0>22}"), "name": format!("List {n}"), "owner": {"id": self.me}, "items": {"total": 0}}))
                        .collect();
                    Self::ok(json!({"items": items, "total": self.library, "limit": limit, "offset": offset}))
                }
                Route::Items => {
                    let (limit, offset) = Self::page(request);
                    let items: Vec<Value> = self.uris.iter().skip(offset).take(limit)
                        .map(|u| json!({"item": {"type": "track", "uri": u, "name": u.as_str()}})).collect();
                    Self::ok(json!({"items": items, "total": self.uris.len(), "limit": limit, "offset": offset}))
                }
                _ => self.apply(route, op.as_ref(), request),
            },
        };
        let status = match &answer {
            Answer::Status { status, .. } => *status,
            Answer::Unreachable => 0,
        };
        self.log.push((now, route, status));
        if let Some(&(after, playlists)) = self.library_edits.front() {
            if self.log.len() >= after {
                self.library_edits.pop_front();
                self.library = playlists;
            }
        }
        if let Some((after, _)) = self.edits.front() {
            if self.log.len() >= *after {
                if let Some((_, uris)) = self.edits.pop_front() {
                    self.uris = uris;
                    self.snapshot += 1;
                }
            }
        }
        answer
    }
}

/// Carries `machine` out against `fake`, the way the app does: everything the machine hands out goes at once,
/// answers come back 10 ms later in order, waits advance the clock. Returns the outcome and the end time.
pub(crate) fn drive<M: Conversation>(machine: &mut M, fake: &mut Fake, mut now: u64) -> (M::Out, u64) {
    for _ in 0..100_000 {
        let mut sent = Vec::new();
        loop {
            match machine.poll(now) {
                Next::Send { id, request } => sent.push((id, fake.serve(&request, now))),
                Next::Done(out) => return (out, now),
                Next::Wait { until, .. } => {
                    if sent.is_empty() {
                        match until {
                            Some(until) => now = until.max(now + 1),
                            None => panic!("the machine waits for nothing"),
                        }
                    }
                    break;
                }
            }
        }
        now += 10;
        for (id, answer) in sent {
            machine.answer(id, now, answer);
        }
    }
    panic!("the machine did not finish")
}
