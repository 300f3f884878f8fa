//! The behaviour every store must show through `app(state)`. Each case starts from an empty store.

use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use setlist_sink::sha256_hex;

use super::{Answer, Harness, Mode, Push, ALICE, BRUNO, CHEN, NOW};

fn assert_no_tokens(answer: &Answer, push: &Push) {
    for secret in [&push.access_token, &push.refresh_token]
        .into_iter()
        .filter(|s| !s.is_empty())
    {
        assert!(
            !answer.text.contains(secret.as_str()),
            "answer leaks a token: {}",
            answer.text
        );
    }
}

fn assert_written(answer: &Answer, generation: u64) {
    assert_eq!(
        (answer.status, answer.status_field(), answer.generation()),
        (StatusCode::OK, "written", generation),
        "{}",
        answer.text
    );
}

fn assert_unchanged(answer: &Answer, generation: u64) {
    assert_eq!(
        (answer.status, answer.status_field(), answer.generation()),
        (StatusCode::OK, "unchanged", generation),
        "{}",
        answer.text
    );
}

/// Every malformed, unauthorized or unverifiable push gets its status and code, and the store keeps its version.
pub async fn bad_requests_write_nothing(h: &Harness) {
    let seed = Push::sign_in(ALICE, "seed", NOW - 60);
    assert_written(&h.push(&seed).await, 1);
    let before = h.snapshot().await;
    let versions_before = h.version_count().await;

    // Each would be accepted as a fresh sign-in if it were well-formed and verified.
    let fresh = |tag: &str| Push::sign_in(ALICE, tag, NOW);
    let with_body = |body: &str, content_type: Option<&str>, hash: Option<String>| {
        let mut request = Request::post("/api/tokens");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        if let Some(hash) = hash {
            request = request.header("x-amz-content-sha256", hash);
        }
        request.body(Body::from(body.to_owned())).expect("request")
    };
    let json = "application/json";

    struct Case {
        name: &'static str,
        push: Push,
        request: Request<Body>,
        mode: Mode,
        status: StatusCode,
        code: &'static str,
    }
    let mut cases = Vec::new();
    let mut case = |name, push: Push, request, mode, status, code| {
        cases.push(Case {
            name,
            push,
            request,
            mode,
            status,
            code,
        })
    };

    let p = fresh("badhash");
    case(
        "bad hash",
        p.clone(),
        with_body(&p.json(), Some(json), Some(sha256_hex(b"something else"))),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "payload_hash_mismatch",
    );
    let p = fresh("nohash");
    case(
        "missing hash",
        p.clone(),
        with_body(&p.json(), Some(json), None),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "missing_payload_hash",
    );
    let p = fresh("shorthash");
    case(
        "hash not hex",
        p.clone(),
        with_body(&p.json(), Some(json), Some("UNSIGNED-PAYLOAD".to_owned())),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "malformed_payload_hash",
    );
    let p = fresh("ctype");
    case(
        "wrong content type",
        p.clone(),
        with_body(
            &p.json(),
            Some("text/plain"),
            Some(sha256_hex(p.json().as_bytes())),
        ),
        Mode::Normal,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let p = fresh("noctype");
    case(
        "no content type",
        p.clone(),
        with_body(&p.json(), None, Some(sha256_hex(p.json().as_bytes()))),
        Mode::Normal,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let mut p = fresh("big");
    p.scope = "x".repeat(5 * 1024);
    case(
        "5 KiB body, streamed",
        p.clone(),
        with_body(&p.json(), Some(json), Some(sha256_hex(p.json().as_bytes()))),
        Mode::Normal,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let mut announced = with_body(&p.json(), Some(json), Some(sha256_hex(p.json().as_bytes())));
    announced
        .headers_mut()
        .insert(header::CONTENT_LENGTH, p.json().len().into());
    case(
        "5 KiB body, announced",
        p.clone(),
        announced,
        Mode::Normal,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let p = fresh("malformed");
    let body = p.json().replacen('}', "", 1);
    case(
        "malformed JSON",
        p.clone(),
        with_body(&body, Some(json), Some(sha256_hex(body.as_bytes()))),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    let p = fresh("unknown");
    let body = p.json().replacen('{', r#"{"client_secret":"x","#, 1);
    case(
        "unknown field",
        p.clone(),
        with_body(&body, Some(json), Some(sha256_hex(body.as_bytes()))),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "invalid_push",
    );
    let mut p = fresh("emptyat");
    p.access_token.clear();
    case(
        "empty access token",
        p.clone(),
        super::signed(p.json()),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "invalid_push",
    );
    let mut p = fresh("emptyrt");
    p.refresh_token.clear();
    case(
        "empty refresh token",
        p.clone(),
        super::signed(p.json()),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "invalid_push",
    );
    let p = Push::sign_in(CHEN, "chen", NOW);
    case(
        "user not on the allow-list",
        p.clone(),
        super::signed(p.json()),
        Mode::Normal,
        StatusCode::FORBIDDEN,
        "user_not_allowed",
    );
    let mut p = fresh("absurd");
    p.authorized_at = NOW;
    p.expires_at = NOW + 3 * 86_400;
    case(
        "expires_at days away from the sink's clock",
        p.clone(),
        super::signed(p.json()),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "invalid_push",
    );
    let p = fresh("tokenkey");
    let body = p.json().replacen('{', r#"{"BQDtoken-used-as-a-key-0123456789":"x","#, 1);
    case(
        "unknown field named like a token",
        p.clone(),
        with_body(&body, Some(json), Some(sha256_hex(body.as_bytes()))),
        Mode::Normal,
        StatusCode::BAD_REQUEST,
        "invalid_push",
    );
    let mut p = fresh("revoked");
    p.access_token = "revoked:alice.setlist:1".to_owned();
    case(
        "token Spotify refuses",
        p.clone(),
        super::signed(p.json()),
        Mode::Normal,
        StatusCode::FORBIDDEN,
        "access_token_rejected",
    );
    let p = fresh("down");
    case(
        "Spotify 503",
        p.clone(),
        super::signed(p.json()),
        Mode::Down,
        StatusCode::SERVICE_UNAVAILABLE,
        "spotify_unavailable",
    );
    let p = fresh("limited");
    case(
        "Spotify 429",
        p.clone(),
        super::signed(p.json()),
        Mode::RateLimited(7),
        StatusCode::SERVICE_UNAVAILABLE,
        "spotify_unavailable",
    );

    for Case {
        name,
        push,
        request,
        mode,
        status,
        code,
    } in cases
    {
        h.spotify.set_mode(mode);
        let answer = h.send(request).await;
        h.spotify.set_mode(Mode::Normal);
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{name}: {}",
            answer.text
        );
        assert!(
            answer.json["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}: {}",
            answer.text
        );
        assert_no_tokens(&answer, &push);
        assert!(!answer.text.contains("BQDtoken"), "{name}: an unknown key is never quoted back: {}", answer.text);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let retry_after = answer
                .headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok());
            let expected = if mode == Mode::RateLimited(7) {
                "7"
            } else {
                "10"
            };
            assert_eq!(retry_after, Some(expected), "{name}");
        }
        let after = h.snapshot().await;
        assert_eq!(after.version, before.version, "{name} wrote to the store");
        assert_eq!(
            h.version_count().await,
            versions_before,
            "{name} made a version"
        );
    }
    assert_eq!(h.state.writes(), 1);
    // The same pushes, well-formed and verified, are accepted: the failures above were the checks.
    assert_written(&h.push(&fresh("good")).await, 2);
}

/// Writes only on a new sign-in, a rotation, or when the stored access token has under 15 minutes left; stale and
/// forked pushes get 409 with the stored generation.
pub async fn write_policy_and_chain_rule(h: &Harness) {
    let signed_in = Push::sign_in(ALICE, "a1", NOW);
    assert_written(&h.push(&signed_in).await, 1);

    // Ten minutes later the app refreshes (no rotation): the stored token has 50 minutes left, so no write.
    h.clock.set(NOW + 600);
    let early = signed_in.refreshed(ALICE, "a2", NOW + 600, false);
    assert_unchanged(&h.push(&early).await, 1);

    // 46 minutes in, 14 left: the next refresh is written.
    h.clock.set(NOW + 2760);
    let due = signed_in.refreshed(ALICE, "a3", NOW + 2760, false);
    assert_written(&h.push(&due).await, 2);
    // The late arrival of the earlier refresh does not replace the newer token.
    assert_unchanged(&h.push(&early).await, 2);

    // A rotation is always written.
    let rotated = due.refreshed(ALICE, "a4", NOW + 2760, true);
    assert_written(&h.push(&rotated).await, 3);

    // A second device refreshing from the old refresh token forks the chain: 409, no token in the answer.
    let fork = due.refreshed(ALICE, "fork", NOW + 2760, true);
    let answer = h.push(&fork).await;
    assert_eq!(
        (answer.status, answer.code(), answer.generation()),
        (StatusCode::CONFLICT, "conflict", 3),
        "{}",
        answer.text
    );
    assert_no_tokens(&answer, &fork);
    let stored = h.snapshot().await.record.expect("record");
    assert!(
        !answer.text.contains(stored.access_token.secret())
            && !answer.text.contains(stored.refresh_token.secret())
    );

    // The original sign-in replayed after its chain moved on: stale.
    let answer = h.push(&signed_in).await;
    assert_eq!(
        (answer.status, answer.generation()),
        (StatusCode::CONFLICT, 3),
        "{}",
        answer.text
    );

    // Another allowed user's sign-in starts their own record and leaves Alice's alone.
    let bruno = Push::sign_in(BRUNO, "b1", NOW + 2761);
    assert_written(&h.push(&bruno).await, 1);
    assert_eq!(h.state.writes(), 4, "every write is counted, and only writes");
    let stored = h.snapshot_of(BRUNO).await.record.expect("record");
    assert_eq!((stored.user_id.as_str(), stored.generation, stored.rt_sha256.as_str()), (BRUNO, 1, bruno.rt_sha256().as_str()));
    assert_eq!(stored.access_token.secret(), bruno.access_token);
    let alice = h.snapshot().await.record.expect("record");
    assert_eq!((alice.generation, alice.rt_sha256.as_str()), (3, rotated.rt_sha256().as_str()));
}

/// Replaying the exact last push, or an older one of the same chain, answers `unchanged` and makes no version.
pub async fn replays_are_idempotent(h: &Harness) {
    let signed_in = Push::sign_in(ALICE, "r1", NOW);
    assert_written(&h.push(&signed_in).await, 1);
    let rotated = signed_in.refreshed(ALICE, "r2", NOW + 60, true);
    assert_written(&h.push(&rotated).await, 2);
    let version = h.snapshot().await.version;
    let versions = h.version_count().await;
    let spotify_calls = h.spotify.calls();

    for _ in 0..3 {
        assert_unchanged(&h.push(&rotated).await, 2);
    }
    assert_eq!(h.snapshot().await.version, version);
    assert_eq!(h.version_count().await, versions);
    assert_eq!(h.state.writes(), 2);
    // The /v1/me answer is cached per access token, for five minutes at most: a revoked token stops getting in.
    assert_eq!(h.spotify.calls(), spotify_calls);
    h.clock.set(NOW + 60 + 5 * 60);
    assert_unchanged(&h.push(&rotated).await, 2);
    assert_eq!(h.spotify.calls(), spotify_calls + 1, "asked Spotify again after five minutes");
    let mut revoked = rotated.refreshed(ALICE, "r3", NOW + 400, true);
    revoked.access_token = "revoked:alice.setlist:r3".to_owned();
    assert_eq!(h.push(&revoked).await.code(), "access_token_rejected");
    assert_eq!(h.snapshot().await.version, version);
}

/// Two devices push 50 rotations each, interleaved and concurrently, both starting from the stored refresh token.
/// One chain wins the first write and every push of it is written in order; every push of the other is 409; the
/// store ends at the winner's head; no generation is written twice.
pub async fn concurrent_chains_end_at_the_head(h: &Harness) -> std::time::Duration {
    const PER_CHAIN: usize = 50;
    let seed = Push::sign_in(ALICE, "c0", NOW);
    assert_written(&h.push(&seed).await, 1);

    let chain = |name: &str| {
        let mut pushes = Vec::with_capacity(PER_CHAIN);
        let mut previous = seed.clone();
        for i in 1..=PER_CHAIN {
            let next = previous.refreshed(ALICE, &format!("{name}{i}"), NOW + i as u64, true);
            pushes.push(next.clone());
            previous = next;
        }
        pushes
    };
    let chains = [chain("a"), chain("b")];
    let started = Instant::now();
    let mut tasks = Vec::new();
    for pushes in chains.clone() {
        let app = h.app.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for push in pushes {
                answers.push(super::send(&app, super::signed(push.json())).await);
            }
            answers
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("push task"));
    }
    let elapsed = started.elapsed();

    let all_written = |answers: &[Answer]| {
        answers
            .iter()
            .all(|a| a.status == StatusCode::OK && a.status_field() == "written")
    };
    let all_conflict = |answers: &[Answer]| {
        answers
            .iter()
            .all(|a| a.status == StatusCode::CONFLICT && a.code() == "conflict")
    };
    let winner = if all_written(&results[0]) { 0 } else { 1 };
    let loser = 1 - winner;
    assert!(
        all_written(&results[winner]),
        "winner: {:?}",
        results[winner].iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    assert!(
        all_conflict(&results[loser]),
        "loser: {:?}",
        results[loser].iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    let generations: Vec<u64> = results[winner].iter().map(Answer::generation).collect();
    assert_eq!(
        generations,
        (2..=PER_CHAIN as u64 + 1).collect::<Vec<_>>(),
        "each generation written once, in order"
    );
    for answer in &results[loser] {
        assert!(answer.generation() >= 1 && answer.generation() <= PER_CHAIN as u64 + 1);
        assert_no_tokens(answer, &chains[winner][PER_CHAIN - 1]);
    }

    let head = &chains[winner][PER_CHAIN - 1];
    let stored = h.snapshot().await.record.expect("record");
    assert_eq!(stored.rt_sha256, head.rt_sha256());
    assert_eq!(stored.access_token.secret(), head.access_token);
    assert_eq!(stored.generation, PER_CHAIN as u64 + 1);
    assert_eq!(h.state.writes(), PER_CHAIN as u64 + 1);
    elapsed
}

/// Point 1 of the issue: each user has their own record. Bruno's sign-in never touches Alice's, and Alice's next
/// rotation is still written (it used to get 409 after Bruno overwrote the one shared slot).
pub async fn users_have_their_own_records(h: &Harness) {
    let alice = Push::sign_in(ALICE, "own-a1", NOW);
    assert_written(&h.push(&alice).await, 1);
    let alice_version = h.snapshot().await.version;
    let bruno = Push::sign_in(BRUNO, "own-b1", NOW + 1);
    assert_written(&h.push(&bruno).await, 1);
    assert_eq!(h.snapshot().await.version, alice_version, "Bruno's push did not touch Alice's record");
    let rotated = alice.refreshed(ALICE, "own-a2", NOW + 2, true);
    assert_written(&h.push(&rotated).await, 2);
    // Bruno pushing Alice's chain with his own access token cannot reach her record: /v1/me names him.
    let mut disguised = rotated.refreshed(ALICE, "own-a3", NOW + 3, true);
    disguised.access_token = "at:bruno.setlist:own-x".to_owned();
    let answer = h.push(&disguised).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::CONFLICT, "conflict"), "{}", answer.text);
    assert_eq!(h.snapshot().await.record.expect("alice").rt_sha256, rotated.rt_sha256());
    assert_eq!(h.snapshot_of(BRUNO).await.record.expect("bruno").rt_sha256, bruno.rt_sha256());
    // A user taken off the allow-list is refused (CHEN is known to Spotify but not allowed here).
    let answer = h.push(&Push::sign_in(CHEN, "own-c1", NOW + 4)).await;
    assert_eq!(answer.code(), "user_not_allowed");
    assert!(h.snapshot_of(CHEN).await.record.is_none());
}

/// Point 2: the sink's clock orders sign-ins and judges freshness; client clocks hours off do not matter.
pub async fn the_sinks_clock_decides(h: &Harness) {
    // A sign-in claiming a day ahead (within the sanity window) is stored...
    let mut ahead = Push::sign_in(ALICE, "clk-ahead", NOW + 86_000);
    ahead.expires_at = NOW + 86_000 + 3600;
    assert_written(&h.push(&ahead).await, 1);
    let stored = h.snapshot().await.record.expect("record");
    assert_eq!((stored.signed_in_at, stored.expires_at), (NOW, NOW + 3600), "the sink's times, not the client's");
    // ...and a real sign-in right after it is not refused.
    h.clock.set(NOW + 10);
    let real = Push::sign_in(ALICE, "clk-real", NOW + 10);
    assert_written(&h.push(&real).await, 2);

    // A browser 3 h fast: its refresh 50 minutes later claims 4 h of life. The stored token (an hour by the sink's
    // clock) is running out, so the fresh one is written, not answered `unchanged`.
    h.clock.set(NOW + 10 + 50 * 60);
    let fast = real.refreshed(ALICE, "clk-fast", NOW + 10 + 50 * 60 + 3 * 3600, false);
    assert_written(&h.push(&fast).await, 3);
    assert_eq!(h.snapshot().await.record.expect("record").expires_at, NOW + 10 + 50 * 60 + 3600);

    // A browser 1 h slow: its pushes claim tokens that expired already. Spotify says the token works, so it is
    // taken (Bruno signing in on that machine).
    let slow = Push::sign_in(BRUNO, "clk-slow", NOW + 10 + 50 * 60 - 3600);
    let answer = h.push(&slow).await;
    assert_written(&answer, 1);
}

/// Point 5: one access token cannot flood the store. A burst of 30 sign-in pushes writes at most the budget;
/// the rest get 429 with a Retry-After and write nothing.
pub async fn sign_ins_are_held_to_a_budget(h: &Harness) -> usize {
    let budget = setlist_sink::Policy::default().sign_ins_per_hour as usize;
    let mut written = 0;
    let mut limited = 0;
    for i in 0..30u64 {
        let mut p = Push::sign_in(ALICE, &format!("burst{i}"), NOW + i);
        p.access_token = "at:alice.setlist:one-token".to_owned();
        h.clock.set(NOW + i);
        let answer = h.push(&p).await;
        match (answer.status, answer.code()) {
            (StatusCode::OK, _) => written += 1,
            (StatusCode::TOO_MANY_REQUESTS, "too_many_sign_ins") => {
                limited += 1;
                let retry_after: u64 = answer.headers[header::RETRY_AFTER].to_str().expect("ascii").parse().expect("secs");
                assert!((3000..=3600).contains(&retry_after), "{retry_after}");
            }
            other => panic!("{other:?}: {}", answer.text),
        }
    }
    assert_eq!((written, limited), (budget, 30 - budget));
    assert_eq!(h.state.writes(), budget as u64);
    // An hour later there is room again.
    h.clock.set(NOW + 3600 + 1);
    assert_written(&h.push(&Push::sign_in(ALICE, "after-the-hour", NOW + 3601)).await, budget as u64 + 1);
    written + 1
}

/// Point 4, at the sink: a push whose access token died during an outage is refused as `access_token_rejected`
/// (which the app retries with a fresh token), and the same chain sent again with a fresh access token continues
/// it, with rotation on.
pub async fn a_chain_resent_after_an_outage_continues(h: &Harness) {
    let signed_in = Push::sign_in(ALICE, "out-0", NOW);
    assert_written(&h.push(&signed_in).await, 1);
    // During three hours the app rotated twice; its outbox keeps the older prev hash (the sink never saw out-1).
    let mut queued = signed_in.refreshed(ALICE, "out-1", NOW + 3500, true).refreshed(ALICE, "out-2", NOW + 7000, true);
    queued.prev_refresh_token = Some(signed_in.refresh_token.clone());
    h.clock.set(NOW + 3 * 3600);
    let mut dead = queued.clone();
    dead.access_token = "revoked:alice.setlist:out-2".to_owned();
    let answer = h.push(&dead).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::FORBIDDEN, "access_token_rejected"), "{}", answer.text);
    // The app refreshed (out-3) and sends the chain again: continuing from what the sink holds.
    let mut resent = queued.refreshed(ALICE, "out-3", NOW + 3 * 3600, true);
    resent.prev_refresh_token = Some(signed_in.refresh_token.clone());
    assert_written(&h.push(&resent).await, 2);
    assert_eq!(h.snapshot().await.record.expect("record").rt_sha256, resent.rt_sha256());
}

/// Two allow-listed users sign in, refresh and push concurrently for 100 rounds each (rotation on): each record
/// ends at its own chain head, no push of one user ever lands in the other's record, and each user's writes stay
/// within one per push (sign-ins within the budget).
pub async fn two_users_push_concurrently(h: &Harness) -> [u64; 2] {
    const ROUNDS: u64 = 100;
    let users = [ALICE, BRUNO];
    let mut tasks = Vec::new();
    for user in users {
        let app = h.app.clone();
        tasks.push(tokio::spawn(async move {
            let mut head = Push::sign_in(user, &format!("{user}-0"), NOW);
            let first = super::send(&app, super::signed(head.json())).await;
            assert_eq!(first.status, StatusCode::OK, "{}", first.text);
            let mut written = 1u64;
            for round in 1..=ROUNDS {
                head = head.refreshed(user, &format!("{user}-{round}"), NOW + round, true);
                let answer = super::send(&app, super::signed(head.json())).await;
                assert_eq!((answer.status, answer.status_field()), (StatusCode::OK, "written"), "{user} {round}: {}", answer.text);
                written += 1;
                assert_eq!(answer.generation(), written, "{user}: generations are per user");
            }
            (head, written)
        }));
    }
    let mut counts = [0; 2];
    for (i, task) in tasks.into_iter().enumerate() {
        let (head, written) = task.await.expect("push task");
        let stored = h.snapshot_of(users[i]).await.record.expect("record");
        assert_eq!(stored.user_id, users[i]);
        assert_eq!(stored.rt_sha256, head.rt_sha256(), "{} ends at its own head", users[i]);
        assert_eq!(stored.generation, written);
        counts[i] = written;
    }
    assert_eq!(h.state.writes(), counts[0] + counts[1]);
    counts
}
