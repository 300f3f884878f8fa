//! Carries a [`Publish`] out: sends its calls through a [`Transport`] (several reads at once, writes one by one,
//! as the machine hands them out), sleeps when it says wait, and gets tokens from the store with the sink's
//! [`credentials`] (the stored one while it has time left, else a refresh written back under the chain rule and
//! compare-and-swap; after a `401`, one refresh). No decision is made here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use setlist_core::sync::retry::{decide, Decision, Outcome, RetryPolicy};
use setlist_core::{AccessToken, ApiRequest, AppConfig, RawConfig};
use setlist_sink::job::{credentials, Accounts, Obtained, WriteBack};
use setlist_sink::{Clock, SecretStore, SystemClock};
use tokio::task::JoinSet;

use crate::publish::{Action, Answer, Publish};
use crate::{Error, PublishSpec, Report};

/// Sends one Web API request and reads its whole answer. The request carries the bearer token (marked sensitive,
/// so its `Debug` hides it); an implementation must never log headers.
pub trait Transport: Send + Sync {
    fn send(&self, request: http::Request<String>) -> Pin<Box<dyn Future<Output = Answer> + Send + 'static>>;
}

/// The real transport: reqwest with rustls (ring), as the sink uses.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    pub fn new() -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| Error::Transport(format!("cannot start an HTTP client: {error}")))?;
        Ok(Self { client })
    }

    /// The client, shared with the token refreshes.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: http::Request<String>) -> Pin<Box<dyn Future<Output = Answer> + Send + 'static>> {
        let client = self.client.clone();
        Box::pin(async move {
            let request = match reqwest::Request::try_from(request) {
                Ok(request) => request,
                Err(error) => {
                    tracing::warn!(error = %error.without_url(), "a request could not be converted");
                    return Answer::Unreachable;
                }
            };
            let response = match client.execute(request).await {
                Ok(response) => response,
                Err(error) => {
                    tracing::warn!(error = %error.without_url(), "no answer from Spotify");
                    return Answer::Unreachable;
                }
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse().ok());
            match response.text().await {
                Ok(body) => Answer::Status { status, retry_after, body },
                // Cut off mid-body: the request may have been applied, and nothing says so.
                Err(error) => {
                    tracing::warn!(error = %error.without_url(), status, "answer cut off");
                    Answer::Unreachable
                }
            }
        })
    }
}

/// Where the job finds its tokens and Spotify.
pub struct Settings {
    /// The Spotify user whose record is used.
    pub user: String,
    pub store: Arc<dyn SecretStore>,
    /// The Spotify app's client id, for refreshing.
    pub client_id: String,
    /// `https://accounts.spotify.com`, or the stand-in's root.
    pub accounts_base: String,
    /// `https://api.spotify.com/v1`, or the stand-in's `/v1`.
    pub api_base: String,
}

/// One user's session with Spotify for a job run: their token (from the store), and how it was obtained.
pub struct Connection {
    user: String,
    store: Arc<dyn SecretStore>,
    accounts: Accounts,
    config: AppConfig,
    /// For token refreshes (the sink's code takes a reqwest client).
    http: reqwest::Client,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    token: Option<AccessToken>,
    notes: Vec<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("user", &self.user).field("api_base", &self.config.api_base()).finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection for `settings.user`; Web API requests go through `transport`, token refreshes through `http`.
    pub fn new(settings: Settings, transport: Arc<dyn Transport>, http: reqwest::Client) -> Result<Self, Error> {
        setlist_sink::check_user_id(&settings.user).map_err(Error::User)?;
        let accounts = Accounts::new(&settings.client_id, &settings.accounts_base).map_err(Error::Usage)?;
        // Core's request builders take the app's validated config; a job has no redirect or push URL of its own.
        let config = AppConfig::new(RawConfig {
            client_id: settings.client_id,
            redirect_uri: "http://127.0.0.1/callback".to_owned(),
            accounts_base: settings.accounts_base,
            api_base: settings.api_base,
            push_url: "/api/tokens".to_owned(),
            scopes: Vec::new(),
            stored_accounts: Vec::new(),
        })
        .map_err(|error| Error::Usage(error.to_string()))?;
        Ok(Self {
            user: settings.user,
            store: settings.store,
            accounts,
            config,
            http,
            transport,
            clock: Arc::new(SystemClock),
            token: None,
            notes: Vec::new(),
        })
    }

    /// Replaces the clock that dates refreshed tokens (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// How the tokens were obtained so far, one sentence each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// A working token: the stored one while it has time left (unless `rejected`, after a `401`), else a refresh.
    async fn fetch_token(&mut self, rejected: bool) -> Result<AccessToken, Error> {
        let now = self.clock.now();
        let got = credentials(self.store.as_ref(), &self.http, &self.accounts, &self.user, now, rejected).await?;
        let user = &self.user;
        let stored = |written: WriteBack| match written {
            WriteBack::Written { generation } => format!("stored as generation {generation}"),
            WriteBack::Unchanged { generation } => format!("the store kept generation {generation}"),
            WriteBack::KeptNewer { generation } => {
                format!("the store moved on to generation {generation} meanwhile and keeps that")
            }
        };
        let why = if rejected { " after Spotify refused the access token (401)" } else { "" };
        let note = match got.how {
            Obtained::Stored => format!(
                "{user}'s stored access token is good for {} more minutes",
                got.expires_at.saturating_sub(now) / 60
            ),
            Obtained::Refreshed(written) => format!("refreshed for {user}{why}, {}", stored(written)),
            Obtained::FellBack(written) => format!(
                "{user}'s current refresh token was refused; the previous version's works: {}",
                stored(written)
            ),
        };
        tracing::info!("tokens: {note}");
        self.notes.push(note);
        self.token = Some(got.access_token.clone());
        Ok(got.access_token)
    }

    async fn token(&mut self) -> Result<AccessToken, Error> {
        match &self.token {
            Some(token) => Ok(token.clone()),
            None => self.fetch_token(false).await,
        }
    }

    /// The config core's request builders take.
    pub(crate) fn config(&self) -> &AppConfig {
        &self.config
    }

    /// A GET under core's retry policy (a `401` refreshes once): what the `list` command needs. Returns the final
    /// answer's status and body.
    pub(crate) async fn get(
        &mut self,
        during: &str,
        request: ApiRequest,
    ) -> Result<(u16, String), Error> {
        let policy = RetryPolicy::default();
        let mut refreshed = false;
        let mut attempt = 1;
        loop {
            let token = self.token().await?;
            let answer = self.transport.send(request.authorize(&token)).await;
            let outcome = match &answer {
                Answer::Status { status: 401, .. } if !refreshed => {
                    refreshed = true;
                    self.fetch_token(true).await?;
                    continue;
                }
                Answer::Status { status, retry_after, .. } => Outcome::Status(*status, *retry_after),
                Answer::Unreachable => Outcome::NetworkError { api_host: false },
            };
            match decide(&policy, attempt, outcome, request.safety(), jitter(attempt)) {
                Decision::Done => {
                    return match answer {
                        Answer::Status { status, body, .. } => Ok((status, body)),
                        Answer::Unreachable => Err(Error::GaveUp {
                            reason: "Spotify could not be reached".to_owned(),
                            during: during.to_owned(),
                            wrote: false,
                        }),
                    }
                }
                Decision::RetryAfter(ms) | Decision::ReReadThenDecide { after_ms: ms } => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    attempt += 1;
                }
                Decision::WaitTooLong { resume_in_secs } => {
                    return Err(Error::RateLimited { resume_in_secs, wrote: false })
                }
                Decision::Fail(reason) => {
                    return Err(Error::GaveUp { reason: reason.to_string(), during: during.to_owned(), wrote: false })
                }
            }
        }
    }
}

/// A jitter fraction from the clock's sub-second digits: good enough to spread one process's retries.
fn jitter(salt: u32) -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos.wrapping_mul(2_654_435_761).wrapping_add(salt) % 1_000_000) / 1_000_000.0
}

/// Publishes `spec` for the connection's user: see [`mod@crate::publish`]. The report says what changed, the calls
/// made and the verification; it carries the connection's token notes.
pub async fn publish(connection: &mut Connection, spec: PublishSpec) -> Result<Report, Error> {
    if spec.user != connection.user {
        return Err(Error::Usage(format!(
            "the publish is for {} but the connection is {}'s",
            spec.user, connection.user
        )));
    }
    let seed = u64::from(std::process::id()) ^ (jitter(7) * 1e9) as u64;
    let mut machine = Publish::new(&connection.config, spec, RetryPolicy::default(), seed);
    let mut token = connection.token().await?;
    let started = Instant::now();
    let now = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut in_flight: JoinSet<(crate::CallId, Answer)> = JoinSet::new();
    loop {
        match machine.poll(now()) {
            Action::Send { id, call, request } => {
                let request = request.authorize(&token);
                if call.is_write() {
                    tracing::info!(?call, "write");
                } else {
                    tracing::debug!(?call, "read");
                }
                let answer = connection.transport.send(request);
                in_flight.spawn(async move { (id, answer.await) });
            }
            Action::Refresh => {
                token = connection.fetch_token(true).await?;
                machine.refreshed();
            }
            Action::Wait { until } => {
                let sleep = until.map(|until| Duration::from_millis(until.saturating_sub(now())));
                match (in_flight.is_empty(), sleep) {
                    (true, None) => return Err(Error::Transport("the publish stalled with nothing to wait for".into())),
                    (true, Some(sleep)) => tokio::time::sleep(sleep).await,
                    (false, sleep) => {
                        let sleep = tokio::time::sleep(sleep.unwrap_or(Duration::MAX));
                        tokio::select! {
                            Some(joined) = in_flight.join_next() => {
                                let (id, answer) = joined.map_err(|error| Error::Transport(format!("a request task failed: {error}")))?;
                                machine.answer(id, now(), answer);
                            }
                            () = sleep => {}
                        }
                    }
                }
            }
            Action::Done(mut report) => {
                report.tokens = connection.notes.clone();
                return Ok(report);
            }
            Action::Failed(error) => return Err(error),
        }
    }
}
