//! A browser and the job racing over one user's record, with refresh-token rotation on (Spotify before mid-2026,
//! and any server that rotates): whichever lands first, the store ends at the newest head of the user's chain and
//! the job still publishes. Each race is made deterministic by a store that lets the browser's push land at the
//! one moment that matters.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use setlist_core::{AccessToken, RefreshToken, TokenPush, TrackUri};
use setlist_job::{publish, PublishSpec, Request};
use setlist_sink::store::StoreFuture;
use setlist_sink::{store_push, Clock as _, Policy, SecretStore, Snapshot, Stored, StoredRecord, SystemClock};
use setlist_stand_in::{Options, StandIn};

use crate::{file_store, serve, stored_secrets, Spotify, ALICE, EVERYTHING};

/// A store that lets the app's push land mid-run: at the job's first read (which then sees the version from just
/// before it) or just before the job's first compare-and-swap reaches the store.
struct Racing {
    inner: Arc<dyn SecretStore>,
    /// Answered to the first read instead of the current version: the job read just before the app's push landed.
    stale_first_read: Mutex<Option<Snapshot>>,
    /// Stored, as the sink would store it, just before the job's first write reaches the store.
    push_before_first_write: Mutex<Option<TokenPush>>,
}

impl SecretStore for Racing {
    fn read<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Snapshot> {
        let stale = self.stale_first_read.lock().expect("lock").take();
        Box::pin(async move {
            match stale {
                Some(snapshot) => Ok(snapshot),
                None => self.inner.read(user).await,
            }
        })
    }

    fn read_previous<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Option<StoredRecord>> {
        self.inner.read_previous(user)
    }

    fn compare_and_swap<'a>(
        &'a self,
        user: &'a str,
        expected: Option<&'a str>,
        record: &'a StoredRecord,
    ) -> StoreFuture<'a, ()> {
        let push = self.push_before_first_write.lock().expect("lock").take();
        Box::pin(async move {
            if let Some(push) = push {
                let stored = store_push(self.inner.as_ref(), &push, user, SystemClock.now(), Policy::default()).await?;
                assert!(matches!(stored, Stored::Written { .. }), "the app's push was stored: {stored:?}");
            }
            self.inner.compare_and_swap(user, expected, record).await
        })
    }
}

/// A stand-in that rotates refresh tokens, with its control API.
async fn rotating_spotify() -> Spotify {
    let stand_in = StandIn::new(Options { control: true, rotate_refresh_tokens: true, ..Options::default() });
    let base = serve(setlist_stand_in::app(stand_in.clone())).await;
    Spotify { stand_in, base, http: reqwest::Client::new() }
}

/// `POST /api/token` with `grant_type=refresh_token`, as the app does: the status and the JSON answer.
async fn refresh_at_spotify(spotify: &Spotify, refresh_token: &str) -> (u16, Value) {
    let answer = spotify
        .http
        .post(format!("{}/api/token", spotify.base))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", "setlist-dev")])
        .send()
        .await
        .expect("token endpoint");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("token JSON"))
}

/// The app's refresh of `push`'s chain, shaped as the push it sends next (a successor of `push`'s refresh token);
/// `lifetime` caps what it claims is left of the new access token.
async fn app_refresh(spotify: &Spotify, push: &TokenPush, lifetime: u64) -> TokenPush {
    let (status, answer) = refresh_at_spotify(spotify, push.refresh_token.secret()).await;
    assert_eq!(status, 200, "{answer}");
    let rotated = answer["refresh_token"].as_str().expect("a rotated refresh token");
    assert_ne!(rotated, push.refresh_token.secret());
    TokenPush {
        access_token: AccessToken::new(answer["access_token"].as_str().expect("access token").to_owned()),
        expires_at: SystemClock.now() + answer["expires_in"].as_u64().expect("expires_in").min(lifetime),
        refresh_token: RefreshToken::new(rotated.to_owned()),
        scope: push.scope.clone(),
        authorized_at: push.authorized_at,
        prev_refresh_sha256: Some(push.rt_sha256()),
    }
}

fn chart(spotify_items: &[String]) -> Request {
    // The first 60 tracks of Everything, Ever, reversed: a list the playlist must change to.
    let tracks = spotify_items.iter().take(60).rev().map(|u| TrackUri::parse(u).expect("uri")).collect();
    Request { user: ALICE.to_owned(), playlist: EVERYTHING.to_owned(), tracks, ..Request::default() }
}

/// The app refreshed the chain (consuming the refresh token, as rotation does) and pushed, just after the job read
/// the record: the job's refresh of the token it read is refused (`invalid_grant`). The job must not tell the
/// user to sign in again, nor fall back to an older version: it takes the newer head the app stored. With time
/// left on that head's access token the job uses it as it is; here it is near its end too (the app pushed it a
/// while ago), so the job refreshes the head and the store advances one generation past the app's push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_refreshing_first_leaves_the_job_on_the_newer_head() {
    let spotify = rotating_spotify().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let signed_in = spotify.sign_in(60);
    let inner = file_store(dir.path(), &signed_in).await;
    let stale = inner.read(ALICE).await.expect("read");
    let app_push = app_refresh(&spotify, &signed_in, 60).await;
    let stored = store_push(inner.as_ref(), &app_push, ALICE, SystemClock.now(), Policy::default()).await.expect("app push");
    assert!(matches!(stored, Stored::Written { generation: 2, .. }), "{stored:?}");
    let store: Arc<dyn SecretStore> = Arc::new(Racing {
        inner: Arc::clone(&inner),
        stale_first_read: Mutex::new(Some(stale)),
        push_before_first_write: Mutex::new(None),
    });
    let request = chart(&spotify.items(EVERYTHING).await);
    let target: Vec<String> = request.tracks.iter().map(|t| t.as_str().to_owned()).collect();

    let mut connection = spotify.connect(Arc::clone(&store), spotify.http_transport());
    let report = publish(&mut connection, PublishSpec::new(request).expect("spec")).await.expect("published");
    eprintln!("{report}");
    assert_eq!(report.tokens, ["refreshed for alice.setlist, stored as generation 3"]);
    assert_eq!(spotify.items(EVERYTHING).await, target);
    let (_, head, generation) = stored_secrets(inner.as_ref()).await;
    assert_eq!(generation, 3, "one generation past the app's push");
    let record = inner.read(ALICE).await.expect("read").record.expect("record");
    assert_eq!(record.superseded.last(), Some(&app_push.rt_sha256()), "the job's link follows the app's");
    // The head is the one live refresh token: it refreshes; the app's (consumed by the job) no longer does.
    assert_eq!(refresh_at_spotify(&spotify, app_push.refresh_token.secret()).await.0, 400);
    assert_eq!(refresh_at_spotify(&spotify, &head).await.0, 200);
}

/// The job refreshed (rotating the chain it read) and, before its write reached the store, the user signed in
/// again in the app, which pushed a new chain. The sign-in is the newer head: the job's write is refused by the
/// chain rule, the store keeps the sign-in, and the job still publishes with the access token it got.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_landing_before_the_jobs_write_stays_the_head() {
    let spotify = rotating_spotify().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let inner = file_store(dir.path(), &spotify.sign_in(60)).await;
    let sign_in = spotify.sign_in(3600);
    let store: Arc<dyn SecretStore> = Arc::new(Racing {
        inner: Arc::clone(&inner),
        stale_first_read: Mutex::new(None),
        push_before_first_write: Mutex::new(Some(sign_in.clone())),
    });
    let request = chart(&spotify.items(EVERYTHING).await);
    let target: Vec<String> = request.tracks.iter().map(|t| t.as_str().to_owned()).collect();

    let mut connection = spotify.connect(Arc::clone(&store), spotify.http_transport());
    let report = publish(&mut connection, PublishSpec::new(request).expect("spec")).await.expect("published");
    eprintln!("{report}");
    assert_eq!(
        report.tokens,
        ["refreshed for alice.setlist, the store moved on to generation 2 meanwhile and keeps that"]
    );
    assert_eq!(spotify.items(EVERYTHING).await, target);
    let (access, head, generation) = stored_secrets(inner.as_ref()).await;
    assert_eq!((generation, head.as_str(), access.as_str()), (2, sign_in.refresh_token.secret(), sign_in.access_token.secret()));
    assert_eq!(refresh_at_spotify(&spotify, &head).await.0, 200, "the sign-in's chain is live");
}
