//! The endpoint live against Secrets Manager as moto serves it, and the example job reading what was pushed. Each
//! test starts its own `moto_server` (it must be on PATH: these tests fail, never skip, without it).

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::moto::{Moto, VersionCounter};
use common::{cases, FakeSpotify, Harness, Push, ALICE};
use setlist_sink::{
    store_push, Clock as _, SecretStore, SecretsManagerStore, StoredRecord, SystemClock,
};
use setlist_stand_in::{Options, StandIn};

/// A harness over a fresh secret on `moto`.
async fn harness(moto: &Moto, name: &str) -> Harness {
    let client = moto.client().await;
    let secret_id = moto.create_secret(&client, name).await;
    let store: Arc<dyn SecretStore> =
        Arc::new(SecretsManagerStore::new(client.clone(), &secret_id));
    let mut h = Harness::new(store).await;
    h.versions = Some(VersionCounter { client, secret_id });
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_cases_against_moto() {
    let moto = Moto::start().await;
    // Each case on its own secret, all on one moto.
    cases::bad_requests_write_nothing(&harness(&moto, "setlist/bad-requests").await).await;
    cases::write_policy_and_chain_rule(&harness(&moto, "setlist/policy").await).await;

    let h = harness(&moto, "setlist/replays").await;
    cases::replays_are_idempotent(&h).await;
    assert_eq!(
        h.version_count().await,
        Some(2),
        "one version per write, none per replay"
    );

    let h = harness(&moto, "setlist/concurrent").await;
    let elapsed = cases::concurrent_chains_end_at_the_head(&h).await;
    eprintln!("100 concurrent pushes over moto took {elapsed:?}");
}

/// The compare-and-swap itself: a stale expected version loses, the same record put twice is one version, and a
/// secret created with the `{}` placeholder works like an empty one.
#[tokio::test]
async fn secrets_manager_compare_and_swap() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    client
        .create_secret()
        .name("setlist/placeholder")
        .secret_string("{}")
        .send()
        .await
        .expect("CreateSecret");
    let store = SecretsManagerStore::new(client.clone(), "setlist/placeholder");
    let counter = VersionCounter {
        client: client.clone(),
        secret_id: "setlist/placeholder".to_owned(),
    };

    let placeholder = store.read().await.expect("read");
    assert!(placeholder.record.is_none());
    let placeholder_version = placeholder.version.clone();
    assert!(placeholder_version.is_some());

    let push = |tag: &str, prev: Option<&str>| Push {
        prev_refresh_token: prev.map(str::to_owned),
        ..Push::sign_in(ALICE, tag, common::NOW)
    };
    let parse = |push: &Push| {
        setlist_sink::TokenPush::parse(push.json().as_bytes(), common::NOW).expect("valid")
    };
    let first = StoredRecord::from_push(&parse(&push("k1", None)), ALICE, 1);
    store
        .compare_and_swap(placeholder_version.as_deref(), &first)
        .await
        .expect("write over the placeholder");
    let after_first = store.read().await.expect("read");
    assert_eq!(
        after_first.version.as_deref(),
        Some(first.version_token().as_str())
    );
    assert_eq!(counter.count().await, 2);

    // The same record again: idempotent, no new version.
    store
        .compare_and_swap(after_first.version.as_deref(), &first)
        .await
        .expect("idempotent");
    assert_eq!(counter.count().await, 2);

    // A writer still holding the placeholder's version loses.
    let second = StoredRecord::from_push(&parse(&push("k2", Some("rt.k1"))), ALICE, 2);
    let lost = store
        .compare_and_swap(placeholder_version.as_deref(), &second)
        .await;
    assert!(
        matches!(lost, Err(setlist_sink::Error::StoreConflict)),
        "{lost:?}"
    );
    assert_eq!(
        store.read().await.expect("read").version,
        after_first.version,
        "AWSCURRENT did not move"
    );

    // store_push re-reads and decides against the current record.
    let outcome = store_push(
        &store,
        &parse(&push("k2", Some("rt.k1"))),
        ALICE,
        common::NOW,
    )
    .await
    .expect("stored");
    assert!(
        matches!(outcome, setlist_sink::Stored::Written { generation: 2, .. }),
        "{outcome:?}"
    );
    let current = store.read().await.expect("read").record.expect("record");
    assert_eq!(current.refresh_token.secret(), "rt.k2");
}

/// A missing secret is a 503 for the client, not a crash, and not a write.
#[tokio::test]
async fn a_missing_secret_is_unavailable() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    let store: Arc<dyn SecretStore> =
        Arc::new(SecretsManagerStore::new(client, "setlist/never-created"));
    let h = Harness::new(store).await;
    let answer = h.push(&Push::sign_in(ALICE, "m1", common::NOW)).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
        "{}",
        answer.text
    );
    assert!(answer.headers.contains_key("retry-after"));
    assert!(
        !answer.text.contains("never-created"),
        "internals stay in the logs: {}",
        answer.text
    );
    assert_eq!(h.state.writes(), 0);
}

/// The pushed secret is usable by a server-side job: the example job reads it from moto, refreshes it through the
/// stand-in (the pushed access token claims under 5 minutes left), writes generation 2 back, and reaches the
/// Web API with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_job_uses_the_pushed_secret() {
    let moto = Moto::start().await;
    let client = moto.client().await;
    let secret_id = moto.create_secret(&client, "setlist/job").await;
    let store: Arc<dyn SecretStore> =
        Arc::new(SecretsManagerStore::new(client.clone(), &secret_id));

    let stand_in = StandIn::new(Options::default());
    let base = common::serve(setlist_stand_in::app(stand_in.clone())).await;
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

    let run_job = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_job-list-playlists"));
        command
            .args(["--store", &format!("secretsmanager:{secret_id}")])
            .args(["--accounts-base", &base])
            .args(["--api-base", &format!("{base}/v1")])
            .args(["--client-id", "setlist-dev"])
            .env_remove("AWS_PROFILE")
            .envs(moto.env());
        async move {
            tokio::task::spawn_blocking(move || command.output())
                .await
                .expect("job task")
                .expect("run job-list-playlists")
        }
    };
    let output = tokio::time::timeout(Duration::from_secs(60), run_job())
        .await
        .expect("job finished in time");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let transcript = format!(
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    eprintln!("job-list-playlists, first run:\n{transcript}");
    assert!(
        stdout.contains("tokens: refreshed for alice.setlist, stored as generation 2"),
        "{transcript}"
    );
    assert!(
        stdout.contains("user: alice.setlist (Alice Fenwick)"),
        "{transcript}"
    );
    if output.status.success() {
        assert!(stdout.contains("playlists: "), "{transcript}");
    } else {
        // The stand-in has no playlist routes yet: the job must say so plainly.
        assert!(
            stderr.contains("/me/playlists answered 404"),
            "{transcript}"
        );
    }
    for secret in [&pushed.access_token, &pushed.refresh_token] {
        assert!(
            !stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()),
            "{transcript}"
        );
    }

    // The job wrote back through the chain rule: same refresh token (no rotation), a new access token.
    let stored = store.read().await.expect("read").record.expect("record");
    assert_eq!(stored.generation, 2);
    assert_eq!(stored.refresh_token.secret(), pushed.refresh_token);
    assert_ne!(stored.access_token.secret(), pushed.access_token);
    assert!(stored.access_token_secs_left(SystemClock.now()) > 3000);

    // Run again: the stored token is fresh now, so no refresh and no write.
    let output = tokio::time::timeout(Duration::from_secs(60), run_job())
        .await
        .expect("job finished in time");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        stdout.contains("tokens: generation 2 for alice.setlist, access token good for"),
        "{stdout}"
    );
    assert_eq!(
        store
            .read()
            .await
            .expect("read")
            .record
            .expect("record")
            .generation,
        2
    );
}
