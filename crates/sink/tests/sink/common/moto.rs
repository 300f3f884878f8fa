//! A moto server for live Secrets Manager tests: started by the test on a free port, stopped when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::{Credentials, Region};
use aws_sdk_secretsmanager::Client;
use setlist_sink::store::aws_config_loader;

pub const REGION: &str = "us-east-1";

/// A running `moto_server`. Dropping it kills the process.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` and waits until it answers. Fails the test when moto is not
    /// installed: these tests never skip.
    pub async fn start() -> Self {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
            listener.local_addr().expect("local addr").port()
        };
        let mut child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start moto_server ({error}): the live Secrets Manager tests need it on PATH; install it \
                     with `pip install 'moto[server]'` (`cargo xtask test` does)"
                )
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server exited before answering ({status})");
            }
            let ready = reqwest::get(format!("{endpoint}/moto-api/"))
                .await
                .is_ok_and(|response| response.status().as_u16() < 500);
            if ready {
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

    /// A Secrets Manager client pointed at this moto with dummy credentials.
    pub async fn client(&self) -> Client {
        let config = aws_config_loader()
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await;
        Client::new(&config)
    }

    /// Environment for a child process (`sink-lambda`) to reach this moto.
    pub fn env(&self) -> Vec<(&'static str, String)> {
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

/// Counts the versions of a user's secret (including ones no stage points at); 0 when it does not exist.
pub struct VersionCounter {
    pub client: Client,
    pub prefix: String,
}

impl VersionCounter {
    pub async fn count(&self, user: &str) -> usize {
        // moto answers 500 to ListSecretVersionIds on a missing secret; DescribeSecret tells cleanly.
        let described = self.client.describe_secret().secret_id(format!("{}{user}", self.prefix)).send().await;
        if described.is_err_and(|error| error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception())) {
            return 0;
        }
        let listed = self
            .client
            .list_secret_version_ids()
            .secret_id(format!("{}{user}", self.prefix))
            .include_deprecated(true)
            .max_results(100)
            .send()
            .await;
        match listed {
            Ok(listed) => listed.versions().len(),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => 0,
            Err(error) => panic!("ListSecretVersionIds on moto: {error:?}"),
        }
    }
}
