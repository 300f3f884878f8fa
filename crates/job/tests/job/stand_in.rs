//! Publishing against the stand-in with the file store: the calls it costs (counted in the stand-in's log), a
//! full replace of 10,000 items, a dry run, the refusals that come before any write, and a `401` mid-run.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use setlist_core::{plan, TrackUri};
use setlist_job::{publish, Answer, Error, HttpTransport, PublishSpec, Request, Transport};
use setlist_stand_in::StandIn;

use crate::{
    assert_no_secret, file_store, run_cli, stored_secrets, transcript, Spotify, ALICE, DEEP_FOCUS, EVERYTHING,
    KITCHEN_DANCE_PARTY, LAGOS_NIGHTS,
};

fn track_uris(uris: &[String]) -> Vec<TrackUri> {
    uris.iter().map(|u| TrackUri::parse(u).expect("uri")).collect()
}

fn request(playlist: &str, tracks: &[String]) -> Request {
    Request { user: ALICE.to_owned(), playlist: playlist.to_owned(), tracks: track_uris(tracks), ..Request::default() }
}

/// Catalog tracks that are not in `base`, from Alice's smaller playlists.
pub(crate) async fn fresh_tracks(spotify: &Spotify, base: &[String], n: usize) -> Vec<String> {
    let base: std::collections::HashSet<&String> = base.iter().collect();
    let mut fresh = Vec::new();
    for playlist in [DEEP_FOCUS, KITCHEN_DANCE_PARTY] {
        for uri in spotify.items(playlist).await {
            if !base.contains(&uri) && !fresh.contains(&uri) && fresh.len() < n {
                fresh.push(uri);
            }
        }
    }
    assert_eq!(fresh.len(), n, "not enough tracks outside the playlist");
    fresh
}

/// This week's chart on the 10,000-item playlist: two tracks dropped (positions 100 and 5,000), two new ones in
/// at the top. Under Spotify's semantics that is a remove and an add: core's planner's lower bound is 2.
async fn two_tracks_apart(spotify: &Spotify) -> (Vec<String>, Vec<String>) {
    let base = spotify.items(EVERYTHING).await;
    let fresh = fresh_tracks(spotify, &base, 2).await;
    let mut target = base.clone();
    target.remove(5_000);
    target.remove(100);
    target.splice(0..0, fresh);
    (base, target)
}

/// Through the `setlist-job` binary, as an operator runs it: a text list with comments and links, two tracks
/// apart from the playlist. The writes the stand-in saw equal the planner's count, at most two, and the read-back
/// verifies; no token reaches the output even at trace level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tracks_apart_cost_at_most_two_writes_through_the_cli() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let push = spotify.sign_in(3600);
    let store = file_store(dir.path(), &push).await;
    let (base, target) = two_tracks_apart(&spotify).await;
    let planned = plan(&track_uris(&base), &track_uris(&target)).expect("plan").len();
    assert_eq!(planned, 2, "the planner's lower bound for two tracks out and two in at one place");

    let mut list = String::from("# this week's chart\n\n");
    for (i, uri) in target.iter().enumerate() {
        // Half as open.spotify.com links, half as URIs.
        let line = if i % 2 == 0 { format!("https://open.spotify.com/track/{}?si=abc", &uri[14..]) } else { uri.clone() };
        list.push_str(&format!("{line}   # position {i}\n"));
    }
    let file = dir.path().join("chart.txt");
    std::fs::write(&file, list).expect("write list");
    spotify.reset_log().await;

    let args: Vec<String> = [
        "publish",
        "--user",
        ALICE,
        "--playlist",
        &format!("https://open.spotify.com/playlist/{EVERYTHING}"),
        "--tracks",
        &file.display().to_string(),
        "--store",
        &format!("file:{}", dir.path().display()),
        "--accounts-base",
        &spotify.base,
        "--api-base",
        &spotify.api_base(),
    ]
    .map(str::to_owned)
    .to_vec();
    let output = run_cli(args, Vec::new(), None).await;
    let text = transcript(&output);
    eprintln!("{text}");
    assert!(output.status.success(), "{text}");
    let writes = spotify.writes().await;
    assert_eq!(writes, planned as u64, "writes at the stand-in: {:?}", spotify.counts().await);
    assert!(writes <= 2);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("calls: {writes} writes")), "{text}");
    assert!(stdout.contains("changes: +2 tracks, -2 tracks"), "{text}");
    assert!(stdout.contains("plan: 2 write calls (replacing everything would take 100)"), "{text}");
    assert!(stdout.contains("verified: read back, the playlist is exactly the list"), "{text}");
    assert!(stdout.contains("tokens: alice.setlist's stored access token is good for"), "{text}");
    assert_eq!(spotify.items(EVERYTHING).await, target);
    let (access, refresh, _) = stored_secrets(store.as_ref()).await;
    assert_no_secret(&text, &[push.access_token.secret(), push.refresh_token.secret(), &access, &refresh]);
}

/// A new, empty playlist gets this week's setlist of 250 (one song played twice): appends in order, as many as
/// the planner says (three, 100 at a time), and the read-back verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onto_an_empty_playlist() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = file_store(dir.path(), &spotify.sign_in(3600)).await;
    let playlist = spotify.create_playlist("Friday setlist").await;
    let mut target: Vec<String> = spotify.items(EVERYTHING).await.into_iter().take(249).collect();
    target.push(target[0].clone());
    let planned = plan(&[], &track_uris(&target)).expect("plan").len();
    assert_eq!(planned, 3, "250 appends, 100 per call");
    spotify.reset_log().await;

    let mut connection = spotify.connect(store, spotify.http_transport());
    let report = publish(&mut connection, PublishSpec::new(request(&playlist, &target)).expect("spec"))
        .await
        .expect("published");
    eprintln!("{report}");
    assert_eq!((report.items_before, report.items_after, report.tracks_added), (0, 250, 250));
    assert_eq!((report.write_calls, report.planned_write_calls, report.verified), (planned, planned, Some(true)));
    let counts = spotify.counts().await;
    assert_eq!(counts["POST /v1/playlists/{playlist_id}/items"], 3, "{counts:?}");
    assert_eq!(spotify.writes().await, 3, "{counts:?}");
    assert_eq!(spotify.items(&playlist).await, target);
}

/// Everything, Ever reversed: no move plan beats a replace, so 100 writes (a PUT of 100, 99 appends), and the
/// 10,000 items read back in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_replace_of_ten_thousand_items() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = file_store(dir.path(), &spotify.sign_in(3600)).await;
    let mut target = spotify.items(EVERYTHING).await;
    assert_eq!(target.len(), 10_000);
    target.reverse();
    spotify.reset_log().await;

    let mut connection = spotify.connect(store, spotify.http_transport());
    let started = std::time::Instant::now();
    let report = publish(&mut connection, PublishSpec::new(request(EVERYTHING, &target)).expect("spec"))
        .await
        .expect("published");
    eprintln!("{report}\nwall time {:?}", started.elapsed());
    assert_eq!(spotify.writes().await, 100, "{:?}", spotify.counts().await);
    assert_eq!((report.write_calls, report.replace_write_calls, report.verified), (100, 100, Some(true)));
    let counts = spotify.counts().await;
    assert_eq!(counts["PUT /v1/playlists/{playlist_id}/items"], 1);
    assert_eq!(counts["POST /v1/playlists/{playlist_id}/items"], 99);
    assert_eq!(spotify.items(EVERYTHING).await, target);
}

/// `--dry-run` reads and plans (the plan is printed) and writes nothing, not even the rename.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let push = spotify.sign_in(3600);
    file_store(dir.path(), &push).await;
    let (base, target) = two_tracks_apart(&spotify).await;
    let json = serde_json::to_string(&target).expect("json");
    spotify.reset_log().await;
    let args: Vec<String> = [
        "publish",
        "--user",
        ALICE,
        "--playlist",
        &format!("spotify:playlist:{EVERYTHING}"),
        "--tracks",
        "-",
        "--name",
        "Renamed?",
        "--dry-run",
        "--store",
        &format!("file:{}", dir.path().display()),
        "--accounts-base",
        &spotify.base,
        "--api-base",
        &spotify.api_base(),
    ]
    .map(str::to_owned)
    .to_vec();
    let output = run_cli(args, Vec::new(), Some(json)).await;
    let text = transcript(&output);
    eprintln!("{text}");
    assert!(output.status.success(), "{text}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("dry run: nothing was written"), "{text}");
    assert!(stdout.contains("  1. rename to \"Renamed?\""), "{text}");
    assert_eq!(spotify.writes().await, 0, "{:?}", spotify.counts().await);
    assert!(spotify.requests().await > 0, "it did read");
    assert!(stdout.contains("plan: 3 write calls"), "{text}");
    assert_eq!(spotify.items(EVERYTHING).await, base);
    assert_eq!(spotify.name(EVERYTHING).await, "Everything, Ever");
    assert_no_secret(&text, &[push.access_token.secret(), push.refresh_token.secret()]);
}

/// Each refusal comes before any write: a playlist Alice only follows (one read: its details), an unknown
/// playlist, an album in the list and 10,001 tracks (no request at all: not even the token is touched).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_any_write() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let push = spotify.sign_in(3600);
    let store = file_store(dir.path(), &push).await;
    let some = spotify.items(DEEP_FOCUS).await;
    spotify.reset_log().await;

    // Not the owner.
    let mut connection = spotify.connect(store.clone(), spotify.http_transport());
    let error = publish(&mut connection, PublishSpec::new(request(LAGOS_NIGHTS, &some)).expect("spec"))
        .await
        .expect_err("not Alice's");
    let message = error.to_string();
    assert!(matches!(error, Error::NotOwner { .. }), "{message}");
    assert!(message.contains("bruno.setlist") && message.contains("nothing was changed"), "{message}");
    assert_eq!(spotify.writes().await, 0);
    assert_eq!(spotify.counts().await["GET /v1/playlists/{playlist_id}"], 1, "only the details were read");

    // No such playlist.
    let error = publish(&mut connection, PublishSpec::new(request("0000000000000000000000", &some)).expect("spec"))
        .await
        .expect_err("unknown");
    assert!(matches!(error, Error::UnknownPlaylist { .. }), "{error}");
    assert_eq!(spotify.writes().await, 0);

    // Through the CLI: an album in the list, then 10,001 tracks. Nothing at all reaches the stand-in.
    spotify.reset_log().await;
    let args = |file: &std::path::Path| -> Vec<String> {
        [
            "publish",
            "--user",
            ALICE,
            "--playlist",
            DEEP_FOCUS,
            "--tracks",
            &file.display().to_string(),
            "--store",
            &format!("file:{}", dir.path().display()),
            "--accounts-base",
            &spotify.base,
            "--api-base",
            &spotify.api_base(),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let album = dir.path().join("album.txt");
    std::fs::write(&album, format!("{}\nspotify:album:4aawyAB9vmqN3uQ7FjRGTy\nnot a link\n", some[0])).expect("write");
    let output = run_cli(args(&album), Vec::new(), None).await;
    let text = transcript(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2:") && stderr.contains("album") && stderr.contains("line 3:"), "{text}");
    assert!(stderr.contains("nothing was changed"), "{text}");

    let many = dir.path().join("many.txt");
    let lines: Vec<&str> = std::iter::repeat_n(some[0].as_str(), 10_001).collect();
    std::fs::write(&many, lines.join("\n")).expect("write");
    let output = run_cli(args(&many), Vec::new(), None).await;
    let text = transcript(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("10001 tracks; a Spotify playlist holds at most 10000"), "{text}");
    assert_eq!(spotify.requests().await, 0, "{:?}", spotify.counts().await);
    assert_eq!(spotify.items(DEEP_FOCUS).await, some);
}

/// A transport that moves the stand-in's clock two hours on once the first write has been answered: every token
/// it issued so far has expired, so the next call gets `401`.
struct ExpireAfterFirstWrite {
    inner: HttpTransport,
    stand_in: StandIn,
    writes: AtomicUsize,
}

impl Transport for ExpireAfterFirstWrite {
    fn send(&self, request: http::Request<String>) -> Pin<Box<dyn Future<Output = Answer> + Send + 'static>> {
        let first_write = request.method() != http::Method::GET && self.writes.fetch_add(1, Ordering::SeqCst) == 0;
        let answer = self.inner.send(request);
        let stand_in = self.stand_in.clone();
        Box::pin(async move {
            let answer = answer.await;
            if first_write {
                stand_in.set_clock_offset(2 * 3600);
            }
            answer
        })
    }
}

/// The stored token dies mid-run: the next write gets `401`, the job refreshes once (one token request, offered
/// to the store through the sink's chain rule) and carries on; the playlist ends exactly as the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_mid_run_refreshes_once_and_finishes() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let push = spotify.sign_in(3600);
    let store = file_store(dir.path(), &push).await;
    let (base, target) = two_tracks_apart(&spotify).await;
    let planned = plan(&track_uris(&base), &track_uris(&target)).expect("plan").len();
    assert_eq!(planned, 2);
    spotify.reset_log().await;

    let transport = Arc::new(ExpireAfterFirstWrite {
        inner: HttpTransport::new().expect("client"),
        stand_in: spotify.stand_in.clone(),
        writes: AtomicUsize::new(0),
    });
    let mut connection = spotify.connect(store.clone(), transport);
    let report = publish(&mut connection, PublishSpec::new(request(EVERYTHING, &target)).expect("spec"))
        .await
        .expect("published");
    eprintln!("{report}");
    let counts = spotify.counts().await;
    assert_eq!(counts["POST /api/token"], 1, "{counts:?}");
    assert_eq!(report.token_refreshes, 1);
    assert_eq!(report.tokens.len(), 2, "{:?}", report.tokens);
    assert!(report.tokens[0].starts_with("alice.setlist's stored access token is good for"), "{:?}", report.tokens);
    // By the job's clock the stored token had an hour left, so the chain rule alone would keep it; but Spotify
    // refused it, so the refreshed token replaces it (same refresh token, one more generation).
    assert_eq!(
        report.tokens[1],
        "refreshed for alice.setlist after Spotify refused the access token (401), stored as generation 2"
    );
    assert_eq!(spotify.items(EVERYTHING).await, target);
    // The refused write went again once: one more write request than planned, each applied once.
    assert_eq!(spotify.writes().await, planned as u64 + 1, "{counts:?}");
    let (access, refresh, generation) = stored_secrets(store.as_ref()).await;
    assert_eq!((generation, refresh.as_str()), (2, push.refresh_token.secret()));
    assert_ne!(access, push.access_token.secret(), "the refused access token was replaced");
    assert_no_secret(&format!("{report}{report:?}"), &[push.access_token.secret(), push.refresh_token.secret(), &access]);
}

/// Spotify on a bad day: the remove is answered `429` with `Retry-After: 1`, and the add is applied but its answer
/// never arrives (the connection drops). The job waits the second it was asked to, never replays the add (it
/// re-reads and finds it applied), and the playlist ends exactly as the list: no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_and_a_dropped_answer_after_an_applied_add_end_right() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = file_store(dir.path(), &spotify.sign_in(3600)).await;
    let (_, target) = two_tracks_apart(&spotify).await;
    for rule in [
        serde_json::json!({"route": "DELETE /v1/playlists/{id}/items", "kind": "status", "status": 429, "retry_after": 1, "count": 1}),
        serde_json::json!({"route": "POST /v1/playlists/{id}/items", "kind": "drop_after", "count": 1}),
    ] {
        let status = reqwest::Client::new()
            .post(format!("{}/__control/faults", spotify.base))
            .json(&rule)
            .send()
            .await
            .expect("install fault")
            .status();
        assert_eq!(status.as_u16(), 201);
    }
    spotify.reset_log().await;

    let mut connection = spotify.connect(store, spotify.http_transport());
    let started = std::time::Instant::now();
    let report = publish(&mut connection, PublishSpec::new(request(EVERYTHING, &target)).expect("spec"))
        .await
        .expect("published");
    eprintln!("{report}\nwall time {:?}", started.elapsed());
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
    assert_eq!(spotify.items(EVERYTHING).await, target, "the list, and no duplicate");
    let counts = spotify.counts().await;
    assert_eq!(counts["DELETE /v1/playlists/{playlist_id}/items"], 2, "{counts:?}");
    assert_eq!(counts["POST /v1/playlists/{playlist_id}/items"], 1, "the add was never replayed: {counts:?}");
    assert_eq!((report.retries, report.rereads, report.write_calls, report.verified), (1, 1, 3, Some(true)));
}

/// Rotation on (Spotify before mid-2026) and a stored access token about to expire: the job refreshes first, and
/// the stored chain advances by exactly one generation, to the new refresh token. `setlist-job list` then reads
/// with the stored token as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_rotation_an_expiring_token_advances_the_chain_by_one() {
    let stand_in = StandIn::new(setlist_stand_in::Options {
        control: true,
        rotate_refresh_tokens: true,
        ..setlist_stand_in::Options::default()
    });
    let base = crate::serve(setlist_stand_in::app(stand_in.clone())).await;
    let spotify = Spotify { stand_in, base, http: reqwest::Client::new() };
    let dir = tempfile::tempdir().expect("temp dir");
    let push = spotify.sign_in(60);
    let store = file_store(dir.path(), &push).await;
    let (_, target) = two_tracks_apart(&spotify).await;

    let mut connection = spotify.connect(store.clone(), spotify.http_transport());
    let report = publish(&mut connection, PublishSpec::new(request(EVERYTHING, &target)).expect("spec"))
        .await
        .expect("published");
    assert_eq!(report.tokens, ["refreshed for alice.setlist, stored as generation 2"]);
    let (access, refresh, generation) = stored_secrets(store.as_ref()).await;
    assert_eq!(generation, 2);
    assert_ne!(refresh, push.refresh_token.secret(), "rotated");
    assert_eq!(spotify.items(EVERYTHING).await, target);

    let args: Vec<String> = [
        "list",
        "--user",
        ALICE,
        "--store",
        &format!("file:{}", dir.path().display()),
        "--accounts-base",
        &spotify.base,
        "--api-base",
        &spotify.api_base(),
    ]
    .map(str::to_owned)
    .to_vec();
    let output = run_cli(args, Vec::new(), None).await;
    let text = transcript(&output);
    assert!(output.status.success(), "{text}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("tokens: alice.setlist's stored access token is good for"), "{text}");
    assert!(stdout.contains("user: alice.setlist (Alice Fenwick)"), "{text}");
    assert!(stdout.contains(&format!("  {EVERYTHING}   10000 items  Everything, Ever\n")), "{text}");
    assert!(stdout.contains(&format!("  {LAGOS_NIGHTS}      40 items  Lagos Nights  (owned by bruno.setlist")), "{text}");
    assert_eq!(stored_secrets(store.as_ref()).await.2, 2, "no refresh, no write");
    assert_no_secret(&text, &[push.access_token.secret(), push.refresh_token.secret(), &access, &refresh]);
}
