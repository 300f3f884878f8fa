//! The job end to end, in one test binary: against the stand-in served on loopback (its request log counts the
//! calls), with the file store and with Secrets Manager on moto, through the library, the `setlist-job` binary and
//! the `setlist-job-lambda` binary driven through an emulated Lambda Runtime API.

mod lambda;
mod moto;
mod race;
mod stand_in;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use setlist_core::{AccessToken, RefreshToken, TokenPush};
use setlist_job::{Connection, HttpTransport, Settings, Transport};
use setlist_sink::{store_push, Clock as _, FileStore, Policy, SecretStore, Stored, SystemClock};
use setlist_stand_in::{Options, StandIn};

pub(crate) const ALICE: &str = "alice.setlist";
/// Alice's private 60-item playlist.
pub(crate) const DEEP_FOCUS: &str = "pxgYIJPxuWil8TUpMxYnCI";
/// Alice's private 10,000-item playlist.
pub(crate) const EVERYTHING: &str = "ZrCeNEzhBeYvSdNCpgG36s";
/// Alice's public 45-item playlist.
pub(crate) const KITCHEN_DANCE_PARTY: &str = "57ofdNBtdYIZmFDMaFBHTU";
/// Bruno's; Alice follows it.
pub(crate) const LAGOS_NIGHTS: &str = "flft1dyyqfQQpABC2oAxA8";
/// What the app asks for, so the job may read and write private and public playlists.
pub(crate) const SCOPES: &str = "playlist-read-private playlist-modify-private playlist-modify-public user-read-private";

/// A stand-in with its control API, served on a free loopback port.
pub(crate) struct Spotify {
    pub(crate) stand_in: StandIn,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    http: reqwest::Client,
}

/// Serves `router` on a free loopback port for as long as the test's runtime lives; returns its root URL.
pub(crate) async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

impl Spotify {
    pub(crate) async fn start() -> Self {
        let stand_in = StandIn::new(Options { control: true, ..Options::default() });
        let base = serve(setlist_stand_in::app(stand_in.clone())).await;
        Self { stand_in, base, http: reqwest::Client::new() }
    }

    pub(crate) fn api_base(&self) -> String {
        format!("{}/v1", self.base)
    }

    /// A sign-in as the app would push it; `lifetime` caps what the stored record claims is left.
    pub(crate) fn sign_in(&self, lifetime: u64) -> TokenPush {
        let now = SystemClock.now();
        let minted = self.stand_in.mint_tokens(ALICE, SCOPES).expect("seeded user");
        TokenPush {
            access_token: AccessToken::new(minted.access_token),
            expires_at: now + minted.expires_in.min(lifetime),
            refresh_token: RefreshToken::new(minted.refresh_token.expect("a refresh token")),
            scope: minted.scope,
            authorized_at: now,
            prev_refresh_sha256: None,
        }
    }

    /// The stand-in's request log: `(method route, count)` for every request since the last reset.
    pub(crate) async fn counts(&self) -> serde_json::Map<String, Value> {
        let log: Value = self
            .http
            .get(format!("{}/__control/log", self.base))
            .send()
            .await
            .expect("control log")
            .json()
            .await
            .expect("log JSON");
        log["counts"].as_object().cloned().unwrap_or_default()
    }

    pub(crate) async fn reset_log(&self) {
        let status = self.http.post(format!("{}/__control/log/reset", self.base)).send().await.expect("reset").status();
        assert!(status.is_success());
    }

    /// Requests that change a playlist, from the stand-in's log.
    pub(crate) async fn writes(&self) -> u64 {
        self.counts()
            .await
            .iter()
            .filter(|(key, _)| {
                ["POST /v1/playlists/", "PUT /v1/playlists/", "DELETE /v1/playlists/"].iter().any(|p| key.starts_with(p))
            })
            .map(|(_, n)| n.as_u64().unwrap_or(0))
            .sum()
    }

    /// Every request the stand-in saw.
    pub(crate) async fn requests(&self) -> u64 {
        self.counts().await.values().map(|n| n.as_u64().unwrap_or(0)).sum()
    }

    /// A playlist's item URIs, read with a token of its own (its own requests are counted: reset the log after).
    pub(crate) async fn items(&self, playlist: &str) -> Vec<String> {
        let token = self.stand_in.mint_tokens(ALICE, SCOPES).expect("seeded user").access_token;
        let mut uris = Vec::new();
        loop {
            let page: Value = self
                .http
                .get(format!("{}/playlists/{playlist}/items", self.api_base()))
                .query(&[("limit", "50"), ("offset", &uris.len().to_string()), ("fields", "items(item(uri)),total")])
                .bearer_auth(&token)
                .send()
                .await
                .expect("items")
                .json()
                .await
                .expect("items JSON");
            let items = page["items"].as_array().expect("items");
            uris.extend(items.iter().map(|i| i["item"]["uri"].as_str().expect("uri").to_owned()));
            if items.is_empty() || uris.len() as u64 >= page["total"].as_u64().expect("total") {
                return uris;
            }
        }
    }

    /// A new, empty playlist of Alice's (`POST /v1/me/playlists`); its id.
    pub(crate) async fn create_playlist(&self, name: &str) -> String {
        let token = self.stand_in.mint_tokens(ALICE, SCOPES).expect("seeded user").access_token;
        let created: Value = self
            .http
            .post(format!("{}/me/playlists", self.api_base()))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": name, "public": false}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("created JSON");
        created["id"].as_str().expect("id").to_owned()
    }

    /// A playlist's name, as Spotify holds it.
    pub(crate) async fn name(&self, playlist: &str) -> String {
        let token = self.stand_in.mint_tokens(ALICE, SCOPES).expect("seeded user").access_token;
        let details: Value = self
            .http
            .get(format!("{}/playlists/{playlist}", self.api_base()))
            .bearer_auth(&token)
            .send()
            .await
            .expect("details")
            .json()
            .await
            .expect("details JSON");
        details["name"].as_str().expect("name").to_owned()
    }

    /// A connection for Alice through `transport`.
    pub(crate) fn connect(&self, store: Arc<dyn SecretStore>, transport: Arc<dyn Transport>) -> Connection {
        let settings = Settings {
            user: ALICE.to_owned(),
            store,
            client_id: "setlist-dev".to_owned(),
            accounts_base: self.base.clone(),
            api_base: self.api_base(),
        };
        Connection::new(settings, transport, reqwest::Client::new()).expect("connection")
    }

    pub(crate) fn http_transport(&self) -> Arc<dyn Transport> {
        Arc::new(HttpTransport::new().expect("client"))
    }
}

/// A file store holding Alice's sign-in.
pub(crate) async fn file_store(dir: &Path, push: &TokenPush) -> Arc<dyn SecretStore> {
    let store: Arc<dyn SecretStore> = Arc::new(FileStore::new(dir.to_path_buf()));
    seed(store.as_ref(), push).await;
    store
}

pub(crate) async fn seed(store: &dyn SecretStore, push: &TokenPush) {
    let stored = store_push(store, push, ALICE, SystemClock.now(), Policy::default()).await.expect("stored");
    assert!(matches!(stored, Stored::Written { generation: 1, .. }), "{stored:?}");
}

/// Runs `setlist-job` with `args` (and `stdin`), off the runtime's threads.
pub(crate) async fn run_cli(args: Vec<String>, env: Vec<(&'static str, String)>, stdin: Option<String>) -> Output {
    let run = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_setlist-job"));
        command.args(&args).envs(env).env_remove("AWS_PROFILE").env("RUST_LOG", "trace");
        if stdin.is_none() {
            return command.output().expect("run setlist-job");
        }
        command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("start setlist-job");
        {
            use std::io::Write as _;
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(stdin.unwrap_or_default().as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("setlist-job output")
    });
    tokio::time::timeout(Duration::from_secs(120), run).await.expect("setlist-job finished in time").expect("task")
}

/// stdout and stderr of a run, for assertions and failure messages.
pub(crate) fn transcript(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Fails when any of `secrets` appears in `text`.
pub(crate) fn assert_no_secret(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!secret.is_empty() && !text.contains(secret), "a token leaked into the output:\n{text}");
    }
}

/// The stored record's tokens (after a refresh the store holds new ones, which must not leak either).
pub(crate) async fn stored_secrets(store: &dyn SecretStore) -> (String, String, u64) {
    let record = store.read(ALICE).await.expect("read").record.expect("record");
    (record.access_token.secret().to_owned(), record.refresh_token.secret().to_owned(), record.generation)
}
