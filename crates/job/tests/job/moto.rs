//! Secrets Manager (and S3) as moto serves them: a moto server started per test on a free port, and the CLI
//! publishing with credentials read from, refreshed into and written back to a secret.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::{Credentials, Region};
use setlist_sink::store::aws_config_loader;
use setlist_sink::{SecretStore, SecretsManagerStore};

use crate::{assert_no_secret, run_cli, seed, stored_secrets, transcript, Spotify, ALICE, DEEP_FOCUS, EVERYTHING};

pub(crate) const REGION: &str = "us-east-1";

/// A running `moto_server`; dropping it kills the process.
pub(crate) struct Moto {
    child: Child,
    pub(crate) endpoint: String,
}

impl Moto {
    /// Starts `moto_server` and waits until it answers. Fails the test when moto is not installed: never skips.
    pub(crate) async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let mut child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start moto_server ({error}): install it with `pip install 'moto[server]'`")
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server exited before answering ({status})");
            }
            if reqwest::get(format!("{endpoint}/moto-api/")).await.is_ok_and(|r| r.status().as_u16() < 500) {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("moto_server did not answer on {endpoint} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, endpoint }
    }

    pub(crate) async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config_loader()
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await
    }

    /// A Secrets Manager store on this moto, secrets named `prefix` + user.
    pub(crate) async fn store(&self, prefix: &str) -> Arc<dyn SecretStore> {
        let client = aws_sdk_secretsmanager::Client::new(&self.sdk_config().await);
        Arc::new(SecretsManagerStore::new(client, prefix))
    }

    /// An S3 client on this moto (buckets by path).
    pub(crate) async fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config().await).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Environment for a child process to reach this moto.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_REGION", REGION.to_owned()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The whole chain on AWS's API: the app's sign-in push is in Secrets Manager with two minutes left, so the CLI
/// refreshes first (stored as generation 2 through the sink's chain rule and compare-and-swap), then publishes
/// a list two tracks apart and verifies it. A second run uses the stored token as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_with_credentials_from_secrets_manager() {
    let moto = Moto::start().await;
    let spotify = Spotify::start().await;
    let prefix = "setlist/job/";
    let store = moto.store(prefix).await;
    let push = spotify.sign_in(120);
    seed(store.as_ref(), &push).await;

    let base = spotify.items(DEEP_FOCUS).await;
    let fresh: Vec<String> =
        spotify.items(EVERYTHING).await.into_iter().filter(|uri| !base.contains(uri)).take(2).collect();
    let mut target = base.clone();
    target[5] = fresh[0].clone();
    target[50] = fresh[1].clone();
    spotify.reset_log().await;

    let args = || -> Vec<String> {
        [
            "publish",
            "--user",
            ALICE,
            "--playlist",
            DEEP_FOCUS,
            "--tracks",
            "-",
            "--json",
            "--store",
            &format!("secretsmanager:{prefix}"),
            "--accounts-base",
            &spotify.base,
            "--api-base",
            &spotify.api_base(),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let list = serde_json::to_string(&target).expect("json");
    let output = run_cli(args(), moto.env(), Some(list.clone())).await;
    let text = transcript(&output);
    eprintln!("{text}");
    assert!(output.status.success(), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["verified"], true, "{text}");
    assert_eq!(report["tokens"][0], "refreshed for alice.setlist, stored as generation 2", "{text}");
    let writes = spotify.writes().await;
    assert_eq!(report["write_calls"].as_u64(), Some(writes));
    assert!(writes <= 2, "{writes}");
    assert_eq!(spotify.items(DEEP_FOCUS).await, target);
    let (access, refresh, generation) = stored_secrets(store.as_ref()).await;
    assert_eq!(generation, 2);
    assert_eq!(refresh, push.refresh_token.secret(), "no rotation: the chain keeps its refresh token");
    assert_no_secret(&text, &[push.access_token.secret(), push.refresh_token.secret(), &access]);

    // Again: the list is already there and the stored token has an hour left: no refresh, no write.
    spotify.reset_log().await;
    let output = run_cli(args(), moto.env(), Some(list)).await;
    let text = transcript(&output);
    assert!(output.status.success(), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!((report["write_calls"].as_u64(), report["verified"].as_bool()), (Some(0), Some(true)), "{text}");
    assert!(report["tokens"][0].as_str().is_some_and(|t| t.contains("stored access token is good for")), "{text}");
    assert_eq!(spotify.writes().await, 0);
    assert_eq!(stored_secrets(store.as_ref()).await.2, 2);
}
