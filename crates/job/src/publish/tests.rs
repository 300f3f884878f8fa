//! Every path of the publish machine against an in-memory Spotify that applies writes with core's model (the
//! same semantics the stand-in implements), with scripted faults.

use std::collections::VecDeque;

use serde_json::{json, Value};
use setlist_core::sync::retry::RetryPolicy;
use setlist_core::{apply, Op, PlaylistId, TrackUri};

use super::*;
use crate::input::{PublishSpec, Request};

const PLAYLIST: &str = "ZrCeNEzhBeYvSdNCpgG36s";
const ALICE: &str = "alice.setlist";

fn uri(i: usize) -> TrackUri {
    TrackUri::parse(&format!("spotify:track:{i:022}")).expect("uri")
}

fn uris(range: impl IntoIterator<Item = usize>) -> Vec<TrackUri> {
    range.into_iter().map(uri).collect()
}

/// What the in-memory Spotify does to one matching call, once.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Answer this status (with `Retry-After`) without applying anything.
    Status(u16, Option<u64>),
    /// Lose the request: nothing applied, no answer.
    Lost,
    /// Apply the request, then lose the answer.
    LostAfterApply,
    /// Apply the write twice (a proxy replayed it), answer once.
    AppliedTwice,
    /// Someone else appends a track just before this call is answered.
    ConcurrentEdit,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Details,
    Items,
    Snapshot,
    ChangeDetails,
    Add,
    Remove,
    AnyWrite,
}

impl Kind {
    fn matches(self, call: &Call) -> bool {
        match (self, call) {
            (Kind::Details, Call::Details)
            | (Kind::Items, Call::Items(_))
            | (Kind::Snapshot, Call::Snapshot)
            | (Kind::ChangeDetails, Call::ChangeDetails(_))
            | (Kind::Add, Call::Write(Op::Add { .. }))
            | (Kind::Remove, Call::Write(Op::Remove { .. })) => true,
            (Kind::AnyWrite, call) => call.is_write(),
            _ => false,
        }
    }
}

struct Spotify {
    list: Vec<TrackUri>,
    /// Entries Spotify no longer has a track for (`null` items), at these positions.
    nulls: Vec<usize>,
    owner: &'static str,
    name: String,
    description: String,
    version: u32,
    exists: bool,
    faults: Vec<(Kind, Fault)>,
    /// Every call as sent, with the machine's time.
    sent: Vec<(u64, Call)>,
    writes_applied: usize,
}

impl Spotify {
    fn new(list: Vec<TrackUri>) -> Self {
        Self {
            list,
            nulls: Vec::new(),
            owner: ALICE,
            name: "Chart".to_owned(),
            description: String::new(),
            version: 1,
            exists: true,
            faults: Vec::new(),
            sent: Vec::new(),
            writes_applied: 0,
        }
    }

    fn fault(mut self, kind: Kind, fault: Fault) -> Self {
        self.faults.push((kind, fault));
        self
    }

    fn snapshot(&self) -> String {
        format!("snap{}", self.version)
    }

    fn total(&self) -> usize {
        self.list.len() + self.nulls.len()
    }

    fn writes_sent(&self) -> usize {
        self.sent.iter().filter(|(_, call)| call.is_write()).count()
    }

    fn apply(&mut self, call: &Call) -> Answer {
        match call {
            Call::ChangeDetails(change) => {
                if let Some(name) = &change.name {
                    self.name = name.clone();
                }
                if let Some(description) = &change.description {
                    self.description = description.clone();
                }
                self.version += 1;
                self.writes_applied += 1;
                Answer::Status { status: 200, retry_after: None, body: String::new() }
            }
            Call::Write(op) => {
                if let Op::Replace { .. } = op {
                    self.nulls.clear();
                }
                match apply(&mut self.list, op) {
                    Ok(()) => {
                        self.version += 1;
                        self.writes_applied += 1;
                        let status = if matches!(op, Op::Add { .. }) { 201 } else { 200 };
                        Answer::Status { status, retry_after: None, body: json!({"snapshot_id": self.snapshot()}).to_string() }
                    }
                    Err(error) => error_answer(400, &error.to_string()),
                }
            }
            Call::Details | Call::Items(_) | Call::Snapshot => self.read(call),
        }
    }

    fn read(&self, call: &Call) -> Answer {
        if !self.exists {
            return error_answer(404, "Resource not found");
        }
        let body = match call {
            Call::Details => json!({
                "id": PLAYLIST, "name": self.name, "description": self.description,
                "owner": {"id": self.owner, "display_name": "Owner Name"},
                "snapshot_id": self.snapshot(), "items": {"total": self.total()},
            }),
            Call::Snapshot => json!({"snapshot_id": self.snapshot()}),
            Call::Items(page) => {
                let mut all: Vec<Value> =
                    self.list.iter().map(|u| json!({"is_local": false, "item": {"type": "track", "uri": u}})).collect();
                for &at in &self.nulls {
                    all.insert(at.min(all.len()), json!({"is_local": false, "item": null}));
                }
                let items: Vec<Value> =
                    all.into_iter().skip(page.offset() as usize).take(page.limit() as usize).collect();
                json!({"items": items, "total": self.total(), "limit": page.limit(), "offset": page.offset()})
            }
            _ => unreachable!("not a read"),
        };
        Answer::Status { status: 200, retry_after: None, body: body.to_string() }
    }

    /// Answers `call` as Spotify would, with the first matching fault applied (and used up).
    fn handle(&mut self, now: u64, call: &Call) -> Answer {
        self.sent.push((now, call.clone()));
        let fault = self.faults.iter().position(|(kind, _)| kind.matches(call)).map(|i| self.faults.remove(i).1);
        match fault {
            None => self.apply(call),
            Some(Fault::Status(status, retry_after)) => {
                let mut answer = error_answer(status, "Scripted");
                if let Answer::Status { retry_after: r, .. } = &mut answer {
                    *r = retry_after;
                }
                answer
            }
            Some(Fault::Lost) => Answer::Unreachable,
            Some(Fault::LostAfterApply) => {
                self.apply(call);
                Answer::Unreachable
            }
            Some(Fault::AppliedTwice) => {
                self.apply(call);
                self.apply(call)
            }
            Some(Fault::ConcurrentEdit) => {
                self.list.push(uri(999_999));
                self.version += 1;
                self.apply(call)
            }
        }
    }
}

fn error_answer(status: u16, message: &str) -> Answer {
    Answer::Status {
        status,
        retry_after: None,
        body: json!({"error": {"status": status, "message": message}}).to_string(),
    }
}

fn spec(tracks: Vec<TrackUri>) -> Request {
    Request { user: ALICE.to_owned(), playlist: PLAYLIST.to_owned(), tracks, ..Request::default() }
}

/// Drives a publish to its end: answers calls first in, first out, each only once the machine has nothing more to
/// send, so reads overlap as they would on the network. Returns the outcome and the refreshes asked for.
fn drive(request: Request, spotify: &mut Spotify) -> (Result<Report, Error>, usize) {
    let config = AppConfig::from_json(
        r#"{"client_id": "c", "redirect_uri": "http://127.0.0.1:8080/callback",
            "accounts_base": "http://127.0.0.1:9000", "api_base": "http://127.0.0.1:9000/v1",
            "push_url": "/api/tokens", "scopes": []}"#,
    )
    .expect("valid config");
    let mut publish = Publish::new(&config, PublishSpec::new(request).expect("valid spec"), RetryPolicy::default(), 42);
    let mut now = 1_000;
    let mut waiting: VecDeque<(CallId, Call)> = VecDeque::new();
    let mut refreshes = 0;
    for _ in 0..1_000_000 {
        match publish.poll(now) {
            Action::Send { id, call, .. } => {
                assert!(waiting.len() < CONCURRENCY, "more than {CONCURRENCY} calls in flight");
                waiting.push_back((id, call));
            }
            Action::Refresh => {
                refreshes += 1;
                publish.refreshed();
            }
            Action::Wait { until } => match waiting.pop_front() {
                Some((id, call)) => {
                    let answer = spotify.handle(now, &call);
                    now += 5;
                    publish.answer(id, now, answer);
                }
                None => now = until.expect("a machine with nothing in flight names a time to wake"),
            },
            Action::Done(report) => return (Ok(report), refreshes),
            Action::Failed(error) => return (Err(error), refreshes),
        }
    }
    panic!("the publish did not finish")
}

#[test]
fn two_changed_tracks_cost_at_most_two_writes_and_verify() {
    let base = uris(0..100);
    let mut target = base.clone();
    target[10] = uri(500);
    target[70] = uri(501);
    let mut spotify = Spotify::new(base);
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    assert!(report.write_calls <= 2 && report.write_calls == spotify.writes_sent(), "{report:#?}");
    assert_eq!(report.planned_write_calls, report.write_calls);
    assert_eq!((report.tracks_added, report.tracks_removed), (2, 2));
    assert_eq!(report.verified, Some(true));
    assert_eq!(report.replace_write_calls, 1);
    // Details, 2 pages, snapshot; then the same to verify.
    assert_eq!(report.read_calls, 8, "{:?}", spotify.sent);
}

#[test]
fn the_owner_is_checked_before_any_other_call() {
    let mut spotify = Spotify::new(uris(0..60));
    spotify.owner = "bruno.setlist";
    let (outcome, _) = drive(spec(uris(0..3)), &mut spotify);
    let error = outcome.expect_err("not the owner");
    assert!(matches!(error, Error::NotOwner { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("bruno.setlist") && message.contains("nothing was changed"), "{message}");
    assert_eq!(spotify.sent, vec![(1_000, Call::Details)]);
    assert!(!error.wrote());
}

#[test]
fn an_unknown_playlist_is_a_clear_error_before_any_write() {
    let mut spotify = Spotify::new(Vec::new());
    spotify.exists = false;
    let (outcome, _) = drive(spec(uris(0..3)), &mut spotify);
    let error = outcome.expect_err("404");
    assert!(matches!(error, Error::UnknownPlaylist { .. }), "{error}");
    assert_eq!(spotify.writes_sent(), 0);
}

#[test]
fn a_dry_run_plans_and_writes_nothing() {
    let mut spotify = Spotify::new(uris(0..120));
    let target: Vec<TrackUri> = uris(0..120).into_iter().rev().collect();
    let mut request = spec(target);
    request.dry_run = true;
    request.name = Some("New".to_owned());
    let (report, _) = drive(request, &mut spotify);
    let report = report.expect("planned");
    assert_eq!(spotify.writes_sent(), 0);
    assert_eq!(report.write_calls, 0);
    assert_eq!(report.verified, None);
    assert_eq!(report.details_changed, ["name"]);
    // Rename, then a replace: PUT of 100 and one append of 20.
    assert_eq!(report.planned_write_calls, 3);
    assert_eq!(report.plan[0], "rename to \"New\"");
    assert_eq!(report.plan[1], "replace every item with 100 tracks");
    assert_eq!(report.plan[2], "append 20 tracks");
    assert!(report.to_string().contains("dry run: nothing was written"), "{report}");
}

#[test]
fn ten_thousand_items_replaced_in_a_hundred_writes_reading_eight_pages_at_a_time() {
    let base = uris(0..10_000);
    let target: Vec<TrackUri> = uris(20_000..30_000);
    let mut spotify = Spotify::new(base);
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    assert_eq!(report.write_calls, 100);
    assert_eq!(report.replace_write_calls, 100);
    assert_eq!(report.read_calls, 2 * (1 + 200 + 1));
    assert_eq!((report.tracks_added, report.tracks_removed), (10_000, 10_000));
}

#[test]
fn an_unchanged_list_writes_nothing() {
    let mut spotify = Spotify::new(uris(0..30));
    let (report, _) = drive(spec(uris(0..30)), &mut spotify);
    let report = report.expect("published");
    assert_eq!((report.write_calls, report.read_calls, report.verified), (0, 3, Some(true)));
}

#[test]
fn rate_limits_wait_exactly_as_long_as_asked_and_apply_once() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::Add, Fault::Status(429, Some(3)));
    let target = [uris(0..10), uris(50..52)].concat();
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    let adds: Vec<u64> =
        spotify.sent.iter().filter(|(_, c)| matches!(c, Call::Write(Op::Add { .. }))).map(|(t, _)| *t).collect();
    assert_eq!(adds.len(), 2);
    assert!(adds[1] >= adds[0] + 3_000, "resent before Retry-After: {adds:?}");
    assert_eq!((report.retries, report.write_calls, spotify.writes_applied), (1, 2, 1));
}

#[test]
fn a_long_rate_limit_stops_with_when_to_come_back() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::Items, Fault::Status(429, Some(3_600)));
    let (outcome, _) = drive(spec(uris(0..11)), &mut spotify);
    let error = outcome.expect_err("too long");
    assert!(matches!(error, Error::RateLimited { resume_in_secs: 3_600, wrote: false }), "{error}");
}

#[test]
fn a_lost_answer_to_an_applied_add_is_never_replayed() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::Add, Fault::LostAfterApply);
    let target = [uris(0..10), uris(50..53)].concat();
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target, "no duplicate");
    assert_eq!(spotify.writes_applied, 1);
    assert_eq!(report.rereads, 1);
    // The re-read found the list complete: it doubled as the verification.
    assert_eq!((report.write_calls, report.verified), (1, Some(true)));
}

#[test]
fn a_lost_add_that_was_not_applied_is_planned_again() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::Add, Fault::Lost);
    let target = [uris(0..10), uris(50..53)].concat();
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    assert_eq!((report.rereads, report.write_calls, spotify.writes_applied), (1, 2, 1));
}

#[test]
fn a_5xx_on_a_replace_is_retried_as_it_is_idempotent() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::AnyWrite, Fault::Status(503, None));
    let target = uris(100..110);
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    assert_eq!((report.retries, report.rereads, report.write_calls), (1, 0, 2));
}

#[test]
fn a_replayed_write_is_repaired_after_the_read_back() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::Add, Fault::AppliedTwice);
    let target = [uris(0..10), uris(50..52)].concat();
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    assert_eq!(report.repairs, 1);
    assert_eq!(report.verified, Some(true));
}

#[test]
fn a_401_refreshes_once_and_the_refused_write_goes_again() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::Add, Fault::Status(401, None));
    let target = [uris(0..10), uris(50..52)].concat();
    let (report, refreshes) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(refreshes, 1);
    assert_eq!(report.token_refreshes, 1);
    assert_eq!(spotify.list, target);
    assert_eq!(spotify.writes_applied, 1);
}

#[test]
fn parallel_pages_refused_together_cause_one_refresh() {
    let mut spotify = Spotify::new(uris(0..300));
    for _ in 0..6 {
        spotify = spotify.fault(Kind::Items, Fault::Status(401, None));
    }
    let (report, refreshes) = drive(spec(uris(0..301)), &mut spotify);
    assert_eq!(refreshes, 1);
    assert_eq!(report.expect("published").token_refreshes, 1);
}

#[test]
fn a_second_401_after_the_refresh_stops_the_run() {
    let mut spotify = Spotify::new(uris(0..10))
        .fault(Kind::Details, Fault::Status(401, None))
        .fault(Kind::Details, Fault::Status(401, None));
    let (outcome, refreshes) = drive(spec(uris(0..11)), &mut spotify);
    assert_eq!(refreshes, 1);
    let error = outcome.expect_err("refused twice");
    assert!(matches!(error, Error::TokenRefused { wrote: false }), "{error}");
}

#[test]
fn a_playlist_that_changes_while_it_is_read_is_read_again() {
    let mut spotify = Spotify::new(uris(0..120)).fault(Kind::Snapshot, Fault::ConcurrentEdit);
    let target = uris(0..121);
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    // The first read (details, 3 pages, snapshot) was abandoned.
    assert_eq!(spotify.sent.iter().filter(|(_, c)| *c == Call::Details).count(), 3);
    assert_eq!(report.items_before, 121);
}

#[test]
fn a_playlist_that_never_stops_changing_is_given_up_before_any_write() {
    let mut spotify = Spotify::new(uris(0..60));
    for _ in 0..=MAX_READ_RESTARTS {
        spotify = spotify.fault(Kind::Snapshot, Fault::ConcurrentEdit);
    }
    let (outcome, _) = drive(spec(uris(0..3)), &mut spotify);
    let error = outcome.expect_err("keeps changing");
    assert!(matches!(error, Error::KeepsChanging { wrote: false }), "{error}");
    assert_eq!(spotify.writes_sent(), 0);
}

#[test]
fn entries_without_a_uri_are_replaced() {
    let mut spotify = Spotify::new(uris(0..10));
    spotify.nulls = vec![3];
    let target = uris(0..10);
    let (report, _) = drive(spec(target.clone()), &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.list, target);
    assert!(spotify.nulls.is_empty());
    assert_eq!((report.items_before, report.tracks_removed, report.write_calls), (11, 1, 1));
}

#[test]
fn name_and_description_change_in_one_idempotent_call() {
    let mut spotify = Spotify::new(uris(0..5)).fault(Kind::ChangeDetails, Fault::Lost);
    spotify.description = "It&#x27;s new".to_owned();
    let mut request = spec(uris(0..5));
    request.name = Some("Weekly".to_owned());
    request.description = Some("It's new".to_owned());
    let (report, _) = drive(request, &mut spotify);
    let report = report.expect("published");
    assert_eq!(spotify.name, "Weekly");
    // The escaped description already matched; the lost rename was simply sent again.
    assert_eq!(report.details_changed, ["name"]);
    assert_eq!((report.write_calls, report.retries, report.rereads), (2, 1, 0));
}

#[test]
fn a_final_error_on_a_write_says_the_playlist_may_have_changed() {
    let mut spotify = Spotify::new(uris(0..10)).fault(Kind::Remove, Fault::Status(400, None));
    let target = uris(0..8);
    let (outcome, _) = drive(spec(target), &mut spotify);
    let error = outcome.expect_err("refused");
    assert!(error.wrote());
    assert!(error.to_string().contains("remove every copy of 2 tracks"), "{error}");
}

#[test]
fn writes_that_keep_getting_lost_stop_after_the_re_read_budget() {
    let mut spotify = Spotify::new(uris(0..10));
    for _ in 0..=MAX_REREADS {
        spotify = spotify.fault(Kind::Add, Fault::Lost);
    }
    let (outcome, _) = drive(spec(uris(0..12)), &mut spotify);
    let error = outcome.expect_err("budget");
    assert!(matches!(error, Error::TooManyRereads { rereads: MAX_REREADS }), "{error}");
}

#[test]
fn calls_are_built_by_core_without_the_token_in_their_debug() {
    let config = setlist_core::AppConfig::new(setlist_core::RawConfig {
        client_id: "setlist-dev".into(),
        redirect_uri: "http://127.0.0.1/callback".into(),
        accounts_base: "http://127.0.0.1:1".into(),
        api_base: "http://127.0.0.1:1/v1".into(),
        push_url: "/api/tokens".into(),
        scopes: Vec::new(),
        stored_accounts: Vec::new(),
    })
    .expect("valid config");
    let token = setlist_core::AccessToken::new("secret-access-token".into());
    let playlist = PlaylistId::parse(PLAYLIST).expect("id");
    let request = Call::Items(Page::new(50, 100).expect("page")).request(&config, &playlist).expect("built").authorize(&token);
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(
        request.uri().to_string(),
        format!(
            "http://127.0.0.1:1/v1/playlists/{PLAYLIST}/items?limit=50&offset=100&fields=items%28is_local%2Citem%28type%2Curi%29%29%2Ctotal%2Climit%2Coffset&additional_types=track%2Cepisode"
        )
    );
    assert!(!format!("{request:?}").contains("secret-access-token"));
    let add = Call::Write(Op::Add { uris: uris(0..2), position: Some(1) });
    let request = add.request(&config, &playlist).expect("built").authorize(&token);
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(add.safety(), Safety::NotIdempotent);
    assert_eq!(Call::Write(Op::Replace { uris: vec![] }).safety(), Safety::Idempotent);
    assert_eq!(Call::ChangeDetails(DetailsChange::default()).safety(), Safety::Idempotent);
    assert_eq!(Call::Details.safety(), Safety::Idempotent);
}
