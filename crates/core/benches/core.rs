//! Criterion micro-benchmarks of core's pure parts, each beside a baseline measured in the same run:
//!
//! - the planner on the editor issue's edits of a 10,000-track playlist, beside the naive replace-all plan (one
//!   PUT of 100, then POSTs of 100) built from the same target;
//! - the parsers (callback query, token response, a 50-item page of playlist items), beside parsing the same text
//!   into an untyped `serde_json::Value` (or splitting the query), the least any parser must do.
//!
//! `cargo xtask bench` runs this and reports `target/criterion/*/new/estimates.json`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use setlist_core::{parse_callback, parse_items, parse_token_response, plan, Op, OAuthState, TrackUri};

fn uri(n: usize) -> TrackUri {
    TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("22 digits is a valid id")
}

/// What the other libraries do: replace everything, 100 URIs per call.
fn replace_all(target: &[TrackUri]) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut chunks = target.chunks(100);
    ops.push(Op::Replace { uris: chunks.next().map(<[TrackUri]>::to_vec).unwrap_or_default() });
    let mut at = 100;
    for chunk in chunks {
        ops.push(Op::Add { uris: chunk.to_vec(), position: Some(at) });
        at += chunk.len();
    }
    ops
}

fn planner(c: &mut Criterion) {
    let base: Vec<TrackUri> = (0..10_000).map(uri).collect();
    let mut move_one = base.clone();
    let x = move_one.remove(1234);
    move_one.insert(8765, x);
    let mut add_front: Vec<TrackUri> = (10_000..10_250).map(uri).collect();
    add_front.extend(base.iter().cloned());
    let mut reverse = base.clone();
    reverse[4000..4100].reverse();
    // A fixed permutation: every element moves.
    let shuffle: Vec<TrackUri> = (0..10_000).map(|i| uri((i * 7_919) % 10_000)).collect();
    for (name, target) in [
        ("move 1 of 10,000", &move_one),
        ("add 250 at the front", &add_front),
        ("reverse 100", &reverse),
        ("shuffle 10,000", &shuffle),
    ] {
        c.bench_function(&format!("plan/{name}"), |b| b.iter(|| plan(black_box(&base), black_box(target))));
        c.bench_function(&format!("plan-baseline/{name}"), |b| b.iter(|| replace_all(black_box(target))));
    }
}

fn parsers(c: &mut Criterion) {
    let state = OAuthState::from_bytes(&[7; 16]);
    let query = format!("code=AQBx{}&state={}", "a".repeat(300), state.as_str());
    c.bench_function("parse/callback", |b| b.iter(|| parse_callback(black_box(&query), &state)));
    c.bench_function("parse-baseline/callback", |b| {
        b.iter(|| black_box(&query).split('&').filter_map(|p| p.split_once('=')).count())
    });

    let token = json!({
        "access_token": "BQD".to_owned() + &"x".repeat(200), "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": "AQC".to_owned() + &"y".repeat(130), "scope": "playlist-read-private playlist-modify-private",
    })
    .to_string();
    c.bench_function("parse/token response", |b| b.iter(|| parse_token_response(200, black_box(&token))));
    c.bench_function("parse-baseline/token response", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&token)))
    });

    let items: Vec<_> = (0..50)
        .map(|i| {
            json!({
                "added_at": "2026-11-28T12:00:00Z", "is_local": false,
                "item": {
                    "type": "track", "uri": format!("spotify:track:{i:0>22}"), "name": format!("Track {i}"),
                    "duration_ms": 200_000 + i, "explicit": false, "is_local": false,
                    "artists": [{"name": "The Nervous Comets"}], "album": {"name": "Valencia Sessions"}
                }
            })
        })
        .collect();
    let page = json!({"items": items, "total": 10_000, "limit": 50, "offset": 0, "next": null}).to_string();
    c.bench_function("parse/items page of 50", |b| b.iter(|| parse_items(200, black_box(&page))));
    c.bench_function("parse-baseline/items page of 50", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&page)))
    });
}

criterion_group!(benches, planner, parsers);
criterion_main!(benches);
