//! What publishing costs: `setlist-job publish` (read, plan, write, read back) against a client that replaces
//! everything blindly (`PUT` the first 100, `POST` the rest, no reads), measured in the same run on the same
//! in-process stand-in over loopback. Two cases: a 100-track weekly chart with 10 changes (10 new entries take the
//! places of 10 that dropped out), and the same 10 changes on a 10,000-item playlist. Every Web API request waits
//! [`LATENCY_MS`] before its answer, as the browser load bench does: on bare loopback only CPU would be measured.
//! Run: `cargo run -p setlist-job --profile native --example publish_bench` (used by `cargo xtask bench`); prints
//! one JSON line per case. Requests are counted in the stand-in's own log; times are medians of [`REPEATS`].

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};
use setlist_core::{AccessToken, RefreshToken, TokenPush, TrackUri};
use setlist_job::{publish, Connection, HttpTransport, PublishSpec, Request, Settings};
use setlist_sink::{store_push, Clock as _, FileStore, Policy, SecretStore, SystemClock};
use setlist_stand_in::{Options, StandIn};

const ALICE: &str = "alice.setlist";
/// Alice's private 10,000-item playlist in the stand-in's seed.
const EVERYTHING: &str = "ZrCeNEzhBeYvSdNCpgG36s";
/// Alice's 60- and 45-item playlists.
const DEEP_FOCUS: &str = "pxgYIJPxuWil8TUpMxYnCI";
const KITCHEN_DANCE_PARTY: &str = "57ofdNBtdYIZmFDMaFBHTU";
const SCOPES: &str = "playlist-read-private playlist-modify-private playlist-modify-public user-read-private";
const REPEATS: usize = 3;
const LATENCY_MS: u64 = 50;

/// One stand-in on a loopback port, with a client holding a token of Alice's for setting up and reading back.
struct Spotify {
    stand_in: StandIn,
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Spotify {
    async fn start() -> Self {
        let stand_in = StandIn::new(Options { control: true, latency_ms: LATENCY_MS, ..Options::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let app = setlist_stand_in::app(stand_in.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let token = stand_in.mint_tokens(ALICE, SCOPES).expect("seeded user").access_token;
        Self { stand_in, base, http: reqwest::Client::new(), token }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("stand-in answers");
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap_or(Value::Null)
    }

    async fn items(&self, playlist: &str) -> Vec<String> {
        let mut uris = Vec::new();
        loop {
            let path = format!(
                "/v1/playlists/{playlist}/items?limit=50&offset={}&fields=items(item(uri)),total",
                uris.len()
            );
            let page = self.call(reqwest::Method::GET, &path, None).await;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            uris.extend(items.iter().filter_map(|i| i["item"]["uri"].as_str().map(str::to_owned)));
            if items.is_empty() || uris.len() as u64 >= page["total"].as_u64().unwrap_or(0) {
                return uris;
            }
        }
    }

    /// `PUT` the first 100 URIs, `POST` the rest 100 at a time: a replace of everything, no reads.
    async fn replace(&self, playlist: &str, uris: &[String]) {
        let path = format!("/v1/playlists/{playlist}/items");
        let mut chunks = uris.chunks(100);
        let first = chunks.next().unwrap_or_default();
        self.call(reqwest::Method::PUT, &path, Some(json!({ "uris": first }))).await;
        for chunk in chunks {
            self.call(reqwest::Method::POST, &path, Some(json!({ "uris": chunk }))).await;
        }
    }

    async fn new_playlist(&self, uris: &[String]) -> String {
        let created = self.call(reqwest::Method::POST, "/v1/me/playlists", Some(json!({"name": "Weekly chart"}))).await;
        let id = created["id"].as_str().expect("id").to_owned();
        self.replace(&id, uris).await;
        id
    }

    async fn reset_log(&self) {
        self.call(reqwest::Method::POST, "/__control/log/reset", None).await;
    }

    /// Every request since the last reset, and those that changed a playlist.
    async fn requests(&self) -> (u64, u64) {
        let log = self.call(reqwest::Method::GET, "/__control/log", None).await;
        let counts = log["counts"].as_object().cloned().unwrap_or_default();
        let count = |key: &String, n: &Value| (key.clone(), n.as_u64().unwrap_or(0));
        let all: Vec<(String, u64)> = counts.iter().map(|(k, n)| count(k, n)).collect();
        let writes = all
            .iter()
            .filter(|(k, _)| ["POST /v1/playlists/", "PUT /v1/playlists/", "DELETE /v1/playlists/"].iter().any(|p| k.starts_with(p)))
            .map(|(_, n)| n)
            .sum();
        (all.iter().map(|(_, n)| n).sum(), writes)
    }

    /// `setlist-job publish` of `target` to `playlist` with Alice's stored tokens: (requests, writes, ms).
    async fn publish(&self, store: Arc<dyn SecretStore>, playlist: &str, target: &[String]) -> (u64, u64, f64) {
        let settings = Settings {
            user: ALICE.to_owned(),
            store,
            client_id: "setlist-dev".to_owned(),
            accounts_base: self.base.clone(),
            api_base: format!("{}/v1", self.base),
        };
        let transport = Arc::new(HttpTransport::new().expect("client"));
        let mut connection = Connection::new(settings, transport, reqwest::Client::new()).expect("connection");
        let tracks = target.iter().map(|u| TrackUri::parse(u).expect("uri")).collect();
        let request = Request { user: ALICE.to_owned(), playlist: playlist.to_owned(), tracks, ..Request::default() };
        self.reset_log().await;
        let started = Instant::now();
        let report = publish(&mut connection, PublishSpec::new(request).expect("spec")).await.expect("published");
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(report.verified, Some(true));
        let (requests, writes) = self.requests().await;
        (requests, writes, ms)
    }

    async fn timed_replace(&self, playlist: &str, target: &[String]) -> (u64, u64, f64) {
        self.reset_log().await;
        let started = Instant::now();
        self.replace(playlist, target).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let (requests, writes) = self.requests().await;
        (requests, writes, ms)
    }
}

/// Alice's sign-in in a file store under `dir`.
async fn store(spotify: &Spotify, dir: &std::path::Path) -> Arc<dyn SecretStore> {
    let now = SystemClock.now();
    let minted = spotify.stand_in.mint_tokens(ALICE, SCOPES).expect("seeded user");
    let push = TokenPush {
        access_token: AccessToken::new(minted.access_token),
        expires_at: now + minted.expires_in,
        refresh_token: RefreshToken::new(minted.refresh_token.expect("a refresh token")),
        scope: minted.scope,
        authorized_at: now,
        prev_refresh_sha256: None,
    };
    let store: Arc<dyn SecretStore> = Arc::new(FileStore::new(dir.to_path_buf()));
    store_push(store.as_ref(), &push, ALICE, now, Policy::default()).await.expect("stored");
    store
}

/// `base` with 10 changes: the tracks at 10 spread positions drop out and `fresh` tracks take their places.
fn ten_changes(base: &[String], fresh: &[String]) -> Vec<String> {
    let mut target = base.to_vec();
    let step = base.len() / 10;
    for (i, new) in fresh.iter().take(10).enumerate() {
        target[i * step + step / 3] = new.clone();
    }
    target
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let spotify = Spotify::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(&spotify, dir.path()).await;
    let everything = spotify.items(EVERYTHING).await;
    assert_eq!(everything.len(), 10_000);
    // The chart is the first 100; its new entries come from further down.
    let chart: Vec<String> = everything[..100].to_vec();
    let next_week = ten_changes(&chart, &everything[100..110]);

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut ours_counts, mut theirs_counts) = ((0, 0), (0, 0));
    for _ in 0..REPEATS {
        let playlist = spotify.new_playlist(&chart).await;
        let (requests, writes, ms) = spotify.publish(Arc::clone(&store), &playlist, &next_week).await;
        assert_eq!(spotify.items(&playlist).await, next_week);
        ours.push(ms);
        ours_counts = (requests, writes);
        let playlist = spotify.new_playlist(&chart).await;
        let (requests, writes, ms) = spotify.timed_replace(&playlist, &next_week).await;
        theirs.push(ms);
        theirs_counts = (requests, writes);
    }
    print_row("chart-100", ours_counts, median(ours), theirs_counts, median(theirs));

    // The 10,000-item playlist, 10 changes with tracks it does not hold (from Alice's smaller playlists); each
    // repeat starts from the seed's list again (put back untimed).
    let mut fresh = Vec::new();
    for playlist in [DEEP_FOCUS, KITCHEN_DANCE_PARTY] {
        for uri in spotify.items(playlist).await {
            if !everything.contains(&uri) && !fresh.contains(&uri) {
                fresh.push(uri);
            }
        }
    }
    assert!(fresh.len() >= 10, "tracks outside Everything, Ever");
    let base = everything.clone();
    let target = ten_changes(&base, &fresh);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for repeat in 0..REPEATS {
        spotify.replace(EVERYTHING, &base).await;
        let (requests, writes, ms) = spotify.publish(Arc::clone(&store), EVERYTHING, &target).await;
        if repeat == 0 {
            assert_eq!(spotify.items(EVERYTHING).await, target);
        }
        ours.push(ms);
        ours_counts = (requests, writes);
        spotify.replace(EVERYTHING, &base).await;
        let (requests, writes, ms) = spotify.timed_replace(EVERYTHING, &target).await;
        theirs.push(ms);
        theirs_counts = (requests, writes);
    }
    print_row("playlist-10000", ours_counts, median(ours), theirs_counts, median(theirs));
}

fn print_row(case: &str, ours: (u64, u64), ms: f64, replace: (u64, u64), replace_ms: f64) {
    let row = json!({
        "metric": "publish",
        "case": case,
        "requests": ours.0,
        "writes": ours.1,
        "ms": ms,
        "replace_requests": replace.0,
        "replace_writes": replace.1,
        "replace_ms": replace_ms,
        "latency_ms": LATENCY_MS,
    });
    println!("{row}");
}
