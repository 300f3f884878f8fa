//! The endpoint live against Secrets Manager as moto serves it, and a job's token step reading what was pushed. Each
//! test starts its own `moto_server` (it must be on PATH: these tests fail, never skip, without it).



use std::sync::Arc;

use axum::http::StatusCode;
use crate::common::moto::{Moto, VersionCounter};
use crate::common::{cases, FakeSpotify, Harness, Push, ALICE, BRUNO, CHEN, NOW};
use setlist_sink::job::{credentials, Accounts, Obtained, WriteBack};
use setlist_sink::{store_push, Clock as _, Policy, SecretStore, SecretsManagerStore, StoredRecord, SystemClock};
use setlist_stand_in::{Options, StandIn};

/// A harness over a fresh secret name prefix on `moto`: the first push of each user creates their secret.
async fn harness(moto: &Moto, prefix: &str) -> Harness {
    let client = moto.client().await;
    let store: Arc<dyn SecretStore> = Arc::new(SecretsManagerStore::new(client.clone(), prefix));
    let mut h = Harness::new(store).await;
    h.versions = Some(VersionCounter { client, prefix: prefix.to_owned() });
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_cases_against_moto() {
    let moto = Moto::start().await;
    // Each case under its own prefix, all on one moto.
    cases::bad_requests_write_nothing(&harness(&moto, "setlist/bad-requests/").await).await;
    cases::write_policy_and_chain_rule(&harness(&moto, "setlist/policy/").await).await;

    let h = harness(&moto, "setlist/replays/").await;
    cases::replays_are_idempotent(&h).await;
    assert_eq!(h.version_count().await, Some(2), "one version per write, none per replay");

    let h = harness(&moto, "setlist/users/").await;
    cases::users_have_their_own_records(&h).await;
    assert_eq!((h.version_count().await, h.version_count_of(BRUNO).await), (Some(2), Some(1)));
    assert_eq!(h.version_count_of(CHEN).await, Some(0), "no secret for a user off the list");

    cases::the_sinks_clock_decides(&harness(&moto, "setlist/clock/").await).await;
    cases::a_chain_resent_after_an_outage_continues(&harness(&moto, "setlist/outage/").await).await;

    let h = harness(&moto, "setlist/budget/").await;
    let written = cases::sign_ins_are_held_to_a_budget(&h).await;
    assert_eq!(h.version_count().await, Some(written), "30 sign-in pushes made only the budgeted versions");

    let h = harness(&moto, "setlist/concurrent/").await;
    let elapsed = cases::concurrent_chains_end_at_the_head(&h).await;
    eprintln!("100 concurrent pushes over moto took {elapsed:?}");

    let h = harness(&moto, "setlist/two-users/").await;
    let counts = cases::two_users_push_concurrently(&h).await;
    let versions = [h.version_count_of(ALICE).await, h.version_count_of(BRUNO).await];
    eprintln!("two users, 100 rounds each over moto: writes {counts:?}, secret versions {versions:?}");
    assert_eq!(versions, [Some(counts[0] as usize), Some(counts[1] as usize)], "one version per write, per user");
}

/// The compare-and-swap itself: a stale expected version loses, the same record put twice is one version, a
/// secret an operator created with the `{}` placeholder works like an empty one, and the previous version stays
/// readable as `AWSPREVIOUS`.
#[tokio::test]
async fn secrets_manager_compare_and_swap() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    client
        .create_secret()
        .name("setlist/cas/alice.setlist")
        .secret_string("{}")
        .send()
        .await
        .expect("CreateSecret");
    let store = SecretsManagerStore::new(client.clone(), "setlist/cas/");
    let counter = VersionCounter { client: client.clone(), prefix: "setlist/cas/".to_owned() };

    let placeholder = store.read(ALICE).await.expect("read");
    assert!(placeholder.record.is_none());
    let placeholder_version = placeholder.version.clone();
    assert!(placeholder_version.is_some());

    let push = |tag: &str, prev: Option<&str>| Push { prev_refresh_token: prev.map(str::to_owned), ..Push::sign_in(ALICE, tag, NOW) };
    let parse = |push: &Push| setlist_sink::TokenPush::parse(push.json().as_bytes()).expect("valid");
    let first = StoredRecord::first(&parse(&push("k1", None)), ALICE, NOW);
    store.compare_and_swap(ALICE, placeholder_version.as_deref(), &first).await.expect("write over the placeholder");
    let after_first = store.read(ALICE).await.expect("read");
    assert_eq!(after_first.version.as_deref(), Some(first.version_token().as_str()));
    assert_eq!(counter.count(ALICE).await, 2);

    // The same record again: idempotent, no new version.
    store.compare_and_swap(ALICE, after_first.version.as_deref(), &first).await.expect("idempotent");
    assert_eq!(counter.count(ALICE).await, 2);

    // A writer still holding the placeholder's version loses.
    let second = first.next(&parse(&push("k2", Some("rt.k1"))), NOW + 1);
    let lost = store.compare_and_swap(ALICE, placeholder_version.as_deref(), &second).await;
    assert!(matches!(lost, Err(setlist_sink::Error::StoreConflict)), "{lost:?}");
    assert_eq!(store.read(ALICE).await.expect("read").version, after_first.version, "AWSCURRENT did not move");

    // store_push re-reads and decides against the current record.
    let outcome = store_push(&store, &parse(&push("k2", Some("rt.k1"))), ALICE, NOW, Policy::default())
        .await
        .expect("stored");
    assert!(matches!(outcome, setlist_sink::Stored::Written { generation: 2, .. }), "{outcome:?}");
    let current = store.read(ALICE).await.expect("read").record.expect("record");
    assert_eq!(current.refresh_token.secret(), "rt.k2");
    let previous = store.read_previous(ALICE).await.expect("read").expect("AWSPREVIOUS");
    assert_eq!(previous.refresh_token.secret(), "rt.k1");

    // A user without a secret: the first write creates it; a second creator of the same secret loses the race.
    assert!(store.read_previous(BRUNO).await.expect("read").is_none());
    let bruno = StoredRecord::first(&parse(&Push::sign_in(BRUNO, "b1", NOW)), BRUNO, NOW);
    store.compare_and_swap(BRUNO, None, &bruno).await.expect("created");
    store.compare_and_swap(BRUNO, None, &bruno).await.expect("the same creation again is idempotent");
    let rival = StoredRecord::first(&parse(&Push::sign_in(BRUNO, "b2", NOW)), BRUNO, NOW);
    let lost = store.compare_and_swap(BRUNO, None, &rival).await;
    assert!(matches!(lost, Err(setlist_sink::Error::StoreConflict)), "{lost:?}");
    assert_eq!(counter.count(BRUNO).await, 1);
}

/// A store failure is a 503 for the client with a fixed sentence, not a crash, and not a write.
#[tokio::test]
async fn a_failing_store_is_unavailable() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    // A secret that exists but holds something else is a store error.
    client
        .create_secret()
        .name("setlist/broken/alice.setlist")
        .secret_string("not a record")
        .send()
        .await
        .expect("CreateSecret");
    let store: Arc<dyn SecretStore> = Arc::new(SecretsManagerStore::new(client, "setlist/broken/"));
    let h = Harness::new(store).await;
    let answer = h.push(&Push::sign_in(ALICE, "m1", NOW)).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"), "{}", answer.text);
    assert!(answer.headers.contains_key("retry-after"));
    assert!(!answer.text.contains("broken"), "internals stay in the logs: {}", answer.text);
    assert_eq!(h.state.writes(), 0);
}

/// Point 3: someone holding only one of Alice's access tokens stores a garbage refresh token as a "sign-in". A
/// job then gets `invalid_grant` for it, falls back once to the previous version (`AWSPREVIOUS`), works, says so,
/// and puts the working chain back as current. Also the job's `401` path: a refresh even with time left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_falls_back_to_the_previous_version_after_garbage() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    let store: Arc<dyn SecretStore> = Arc::new(SecretsManagerStore::new(client, "setlist/garbage/"));
    let stand_in = StandIn::new(Options::default());
    let base = crate::common::serve(setlist_stand_in::app(stand_in.clone())).await;
    let h = Harness::with_api(Arc::clone(&store), FakeSpotify::start().await, &format!("{base}/v1"), &[ALICE]);
    let now = SystemClock.now();
    h.clock.set(now);

    let minted = stand_in.mint_tokens(ALICE, "playlist-read-private user-read-private").expect("seeded user");
    let real = Push {
        access_token: minted.access_token.clone(),
        expires_at: now + minted.expires_in,
        refresh_token: minted.refresh_token.clone().expect("refresh token"),
        scope: minted.scope.clone(),
        authorized_at: now,
        prev_refresh_token: None,
    };
    assert_eq!(h.push(&real).await.status, StatusCode::OK);
    let mut garbage = real.clone();
    garbage.refresh_token = "garbage-refresh-token".to_owned();
    let answer = h.push(&garbage).await;
    assert_eq!((answer.status, answer.status_field()), (StatusCode::OK, "written"), "{}", answer.text);

    let http = reqwest::Client::new();
    let accounts = Accounts::new("setlist-dev", &base).expect("accounts");
    // The stored access token still has an hour: the job uses it as it is...
    let got = credentials(store.as_ref(), &http, &accounts, ALICE, now, false).await.expect("credentials");
    assert_eq!(got.how, Obtained::Stored);
    // ...until Spotify answers 401 to it: then it refreshes, the garbage is refused, and the previous version works.
    let got = credentials(store.as_ref(), &http, &accounts, ALICE, now, true).await.expect("fell back");
    assert_eq!(got.how, Obtained::FellBack(WriteBack::Written { generation: 3 }));
    let current = store.read(ALICE).await.expect("read").record.expect("record");
    assert_eq!(current.refresh_token.secret(), real.refresh_token, "the working chain is current again");
    assert_eq!(current.access_token.secret(), got.access_token.secret());
    // The garbage can never come back as a "new" sign-in replay.
    let answer = h.push(&garbage).await;
    assert_eq!(answer.code(), "conflict", "{}", answer.text);

    // A job after a real refresh: the token near its end is refreshed and written back by the chain rule.
    let later = now + 3600 - 60;
    let got = credentials(store.as_ref(), &http, &accounts, ALICE, later, false).await.expect("refreshed");
    assert!(matches!(got.how, Obtained::Refreshed(WriteBack::Written { generation: 4 })), "{:?}", got.how);

    // With nothing working to fall back to, the job says to sign in again, without printing a token.
    let mut worse = real.clone();
    worse.refresh_token = "garbage-2".to_owned();
    worse.access_token = stand_in.mint_tokens(ALICE, "user-read-private").expect("user").access_token;
    h.clock.set(later);
    assert_eq!(h.push(&worse).await.status, StatusCode::OK);
    let mut worst = worse.clone();
    worst.refresh_token = "garbage-3".to_owned();
    assert_eq!(h.push(&worst).await.status, StatusCode::OK);
    let error = credentials(store.as_ref(), &http, &accounts, ALICE, later, true).await.expect_err("nothing works");
    let message = error.to_string();
    assert!(message.contains("sign in to Setlist again"), "{message}");
    assert!(!message.contains("garbage") && !message.contains(&real.refresh_token), "{message}");
}

/// The pushed secret is usable by a server-side job: the job's token step reads it from moto, refreshes it through
/// the stand-in (the pushed access token claims under 5 minutes left), writes generation 2 back, and reaches the
/// Web API with it. (`setlist-job` end to end on moto: crates/job/tests/job/moto.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_uses_the_pushed_secret() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    let prefix = "setlist/job/";
    let store: Arc<dyn SecretStore> = Arc::new(SecretsManagerStore::new(client.clone(), prefix));

    let stand_in = StandIn::new(Options::default());
    let base = crate::common::serve(setlist_stand_in::app(stand_in.clone())).await;
    let h = Harness::with_api(
        Arc::clone(&store),
        FakeSpotify::start().await,
        &format!("{base}/v1"),
        &[ALICE],
    );
    let now = SystemClock.now();
    h.clock.set(now);

    let minted = stand_in
        .mint_tokens(ALICE, "playlist-read-private user-read-private")
        .expect("seeded user");
    let pushed = Push {
        access_token: minted.access_token.clone(),
        expires_at: now + 120,
        refresh_token: minted.refresh_token.clone().expect("refresh token"),
        scope: minted.scope.clone(),
        authorized_at: now,
        prev_refresh_token: None,
    };
    let answer = h.push(&pushed).await;
    assert_eq!(
        (answer.status, answer.status_field()),
        (StatusCode::OK, "written"),
        "{}",
        answer.text
    );

    // A job's first step, as `setlist-job` takes it: the pushed access token claims under 5 minutes left, so it
    // refreshes through the stand-in and writes generation 2 back by the chain rule.
    let http = reqwest::Client::new();
    let accounts = Accounts::new("setlist-dev", &base).expect("accounts");
    let got = credentials(store.as_ref(), &http, &accounts, ALICE, now, false).await.expect("credentials");
    assert_eq!(got.how, Obtained::Refreshed(WriteBack::Written { generation: 2 }));
    assert!(format!("{got:?}").find(&pushed.refresh_token).is_none(), "no token in a Debug print");
    // The refreshed token reaches the Web API as Alice.
    let me: serde_json::Value = http
        .get(format!("{base}/v1/me"))
        .bearer_auth(got.access_token.secret())
        .send()
        .await
        .expect("/v1/me")
        .json()
        .await
        .expect("/v1/me JSON");
    assert_eq!(me["id"], ALICE);

    // The job wrote back through the chain rule: same refresh token (no rotation), a new access token.
    let stored = store.read(ALICE).await.expect("read").record.expect("record");
    assert_eq!(stored.generation, 2);
    assert_eq!(stored.refresh_token.secret(), pushed.refresh_token);
    assert_ne!(stored.access_token.secret(), pushed.access_token);
    assert_eq!(stored.access_token.secret(), got.access_token.secret());
    assert!(stored.access_token_secs_left(SystemClock.now()) > 3000);

    // Again: the stored token is fresh now, so no refresh and no write.
    let got = credentials(store.as_ref(), &http, &accounts, ALICE, SystemClock.now(), false).await.expect("again");
    assert_eq!(got.how, Obtained::Stored);
    assert_eq!(store.read(ALICE).await.expect("read").record.expect("record").generation, 2);
}
