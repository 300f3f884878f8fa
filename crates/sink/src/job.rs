//! What every server-side job does first: get a working access token for one user from the store. Refreshes with
//! core's request and parser when the stored token is near its end or Spotify answered `401` to it, and writes the
//! result back through the sink's own chain rule and compare-and-swap ([`store_push`]), so that a browser push and
//! a job refresh racing each other keep the newest refresh token. When the refresh token the job read is refused
//! (`invalid_grant`), a newer head stored meanwhile (the app refreshed the same chain first under rotation, or
//! signed in again) is tried once; when nothing newer is stored (revoked, or garbage stored by someone holding only
//! an access token), the job tries the previous version (`AWSPREVIOUS`) once, and says so.

use std::time::Duration;

use setlist_core::{parse_token_response, refresh_request, AccessToken, AppConfig, RawConfig, TokenError, TokenPush};

use crate::policy::Policy;
use crate::record::Snapshot;
use crate::store::{store_push, SecretStore, Stored};
use crate::{Error, StoredRecord};

/// Refresh when the stored access token has less than this left: a job run takes seconds to minutes.
pub const REFRESH_WHEN_SECS_LEFT: u64 = 5 * 60;

/// Where and as whom a job refreshes.
#[derive(Debug, Clone)]
pub struct Accounts {
    config: AppConfig,
}

impl Accounts {
    /// `accounts_base` is `https://accounts.spotify.com` (or the stand-in's root); `client_id` the Spotify app's.
    pub fn new(client_id: &str, accounts_base: &str) -> Result<Self, String> {
        // Core's request builders take the app's validated config; a job has no redirect or push URL of its own,
        // so those fields hold fixed valid values that no job request uses.
        let config = AppConfig::new(RawConfig {
            client_id: client_id.to_owned(),
            redirect_uri: "http://127.0.0.1/callback".to_owned(),
            accounts_base: accounts_base.to_owned(),
            api_base: "https://api.spotify.com/v1".to_owned(),
            push_url: "/api/tokens".to_owned(),
            scopes: Vec::new(),
            stored_accounts: Vec::new(),
        })
        .map_err(|error| error.to_string())?;
        Ok(Self { config })
    }
}

/// Why a job has no working token.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no tokens are stored for {0}: sign in to Setlist as that user so that the app pushes them")]
    NoRecord(String),
    #[error("the stored refresh token of {user} was refused and {previous}: sign in to Setlist again")]
    SignInAgain { user: String, previous: &'static str },
    #[error("refreshing the tokens of {user} failed: {error}")]
    Refresh { user: String, error: TokenError },
    #[error("the accounts service could not be reached: {0}")]
    Network(String),
    #[error(transparent)]
    Store(#[from] Error),
}

/// A working access token and how it was obtained.
#[derive(Debug)]
pub struct Credentials {
    pub access_token: AccessToken,
    /// Unix seconds (the job's clock) when the token stops working.
    pub expires_at: u64,
    /// How the token was obtained, for the job's report.
    pub how: Obtained,
}

/// How [`credentials`] got its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obtained {
    /// The stored access token, with time left.
    Stored,
    /// Refreshed with the current refresh token; what the store did with the result.
    Refreshed(WriteBack),
    /// The current refresh token was refused; the previous version's worked and is current again (unless a
    /// newer push arrived meanwhile).
    FellBack(WriteBack),
}

/// What happened to refreshed tokens in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteBack {
    Written { generation: u64 },
    Unchanged { generation: u64 },
    /// Someone else (the app after its own refresh, or a sign-in) wrote first. These tokens still work for this
    /// run; the store keeps theirs.
    KeptNewer { generation: u64 },
}

/// A working access token for `user` at `now`: the stored one when it has time left and `rejected` is false,
/// else a refresh (written back). Pass `rejected = true` after Spotify answered `401` to the stored token.
pub async fn credentials(
    store: &dyn SecretStore,
    http: &reqwest::Client,
    accounts: &Accounts,
    user: &str,
    now: u64,
    rejected: bool,
) -> Result<Credentials, JobError> {
    let mut snapshot = store.read(user).await?;
    let mut rejected = rejected;
    // Two rounds at most: the second only when the head moved while this job was refreshing (below).
    for round in 0..2 {
        let Some(record) = snapshot.record.clone() else {
            return Err(JobError::NoRecord(user.to_owned()));
        };
        if !rejected && record.access_token_secs_left(now) >= REFRESH_WHEN_SECS_LEFT {
            return Ok(Credentials { access_token: record.access_token, expires_at: record.expires_at, how: Obtained::Stored });
        }
        match refresh(http, accounts, &record, now).await {
            Ok(push) => {
                let written = write_back(store, &push, user, now, rejected.then_some(&record)).await?;
                return Ok(Credentials {
                    access_token: push.access_token,
                    expires_at: push.expires_at,
                    how: Obtained::Refreshed(written),
                });
            }
            Err(JobError::Refresh { error, .. }) if error.is_invalid_grant() => {
                // With rotation on, the app refreshing the same chain first consumes the refresh token this job
                // read (and a new sign-in replaces it): the store then holds a newer head. That head is the
                // newest refresh token there is; refusing ours says nothing against it, so it is tried first
                // (once), before the previous version.
                let current = store.read(user).await?;
                let moved = current.record.as_ref().is_some_and(|head| head.rt_sha256 != record.rt_sha256);
                if round == 0 && moved {
                    tracing::info!(user, generation = record.generation, "the stored head moved while refreshing");
                    // A 401 was about the access token the job held; the new head carries another one.
                    rejected = rejected
                        && current.record.as_ref().is_some_and(|head| {
                            head.access_token.sha256_hex() == record.access_token.sha256_hex()
                        });
                    snapshot = current;
                    continue;
                }
                return fall_back(store, http, accounts, user, now, &snapshot, &record).await;
            }
            Err(other) => return Err(other),
        }
    }
    Err(JobError::SignInAgain { user: user.to_owned(), previous: "so was the newer one stored meanwhile" })
}

/// The current refresh token was refused and nothing newer is stored: the previous version (`AWSPREVIOUS`), once.
async fn fall_back(
    store: &dyn SecretStore,
    http: &reqwest::Client,
    accounts: &Accounts,
    user: &str,
    now: u64,
    snapshot: &Snapshot,
    record: &StoredRecord,
) -> Result<Credentials, JobError> {
    let previous = store.read_previous(user).await?;
    let Some(previous) = previous.filter(|p| p.rt_sha256 != record.rt_sha256) else {
        return Err(JobError::SignInAgain { user: user.to_owned(), previous: "there is no earlier one to try" });
    };
    let push = match refresh(http, accounts, &previous, now).await {
        Ok(push) => push,
        Err(JobError::Refresh { error, .. }) if error.is_invalid_grant() => {
            return Err(JobError::SignInAgain { user: user.to_owned(), previous: "so was the previous one" })
        }
        Err(other) => return Err(other),
    };
    tracing::warn!(user, generation = record.generation, "current refresh token refused; the previous one works");
    let written = restore(store, &snapshot.version, record, &push, user, now).await?;
    Ok(Credentials { access_token: push.access_token, expires_at: push.expires_at, how: Obtained::FellBack(written) })
}

/// `POST {accounts}/api/token` with core's refresh request and parser, shaped as the push the app would have sent:
/// a successor of `record`'s refresh token.
async fn refresh(http: &reqwest::Client, accounts: &Accounts, record: &StoredRecord, now: u64) -> Result<TokenPush, JobError> {
    let request = refresh_request(&accounts.config, &record.refresh_token);
    let (parts, body) = request.into_parts();
    let answer = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        // reqwest's error text names the URL, never the form body.
        .map_err(|error| JobError::Network(error.without_url().to_string()))?;
    let status = answer.status().as_u16();
    let text = answer.text().await.map_err(|error| JobError::Network(error.without_url().to_string()))?;
    let response =
        parse_token_response(status, &text).map_err(|error| JobError::Refresh { user: record.user_id.clone(), error })?;
    Ok(TokenPush {
        access_token: response.access_token,
        expires_at: now.saturating_add(response.expires_in),
        refresh_token: response.refresh_token.unwrap_or_else(|| record.refresh_token.clone()),
        scope: if response.scope.is_empty() { record.scope.clone() } else { response.scope },
        authorized_at: record.authorized_at,
        prev_refresh_sha256: Some(record.rt_sha256.clone()),
    })
}

/// Writes refreshed tokens back by the sink's chain rule. After Spotify refused the stored access token
/// (`refused` is the record that held it), the rule's "same refresh token, still fresh by the clock: unchanged"
/// would keep a dead token; then the new one replaces it, but only over that same record (compare-and-swap).
async fn write_back(
    store: &dyn SecretStore,
    push: &TokenPush,
    user: &str,
    now: u64,
    refused: Option<&StoredRecord>,
) -> Result<WriteBack, JobError> {
    match store_push(store, push, user, now, Policy::default()).await {
        Ok(Stored::Written { generation, .. }) => Ok(WriteBack::Written { generation }),
        Ok(Stored::Unchanged { generation }) => match refused {
            Some(refused) => replace_refused(store, refused, push, user, now).await,
            None => Ok(WriteBack::Unchanged { generation }),
        },
        Err(Error::Conflict { generation }) => Ok(WriteBack::KeptNewer { generation }),
        Err(other) => Err(other.into()),
    }
}

async fn replace_refused(
    store: &dyn SecretStore,
    refused: &StoredRecord,
    push: &TokenPush,
    user: &str,
    now: u64,
) -> Result<WriteBack, JobError> {
    let snapshot = store.read(user).await?;
    let Some(current) = snapshot.record else { return Ok(WriteBack::KeptNewer { generation: 0 }) };
    let still_refused = current.access_token.sha256_hex() == refused.access_token.sha256_hex()
        && current.rt_sha256 == push.rt_sha256();
    if !still_refused {
        return Ok(WriteBack::KeptNewer { generation: current.generation });
    }
    let next = current.next(push, now);
    match store.compare_and_swap(user, snapshot.version.as_deref(), &next).await {
        Ok(()) => Ok(WriteBack::Written { generation: next.generation }),
        Err(Error::StoreConflict) => {
            let generation = store.read(user).await?.record.map_or(0, |r| r.generation);
            Ok(WriteBack::KeptNewer { generation })
        }
        Err(other) => Err(other.into()),
    }
}

/// Makes the recovered chain current again, but only over the record whose refresh token was refused (the version
/// read at `version`): if anything newer arrived meanwhile, that stays.
async fn restore(
    store: &dyn SecretStore,
    version: &Option<String>,
    refused: &StoredRecord,
    push: &TokenPush,
    user: &str,
    now: u64,
) -> Result<WriteBack, JobError> {
    let mut record = refused.next(push, now);
    record.signed_in_at = refused.signed_in_at;
    match store.compare_and_swap(user, version.as_deref(), &record).await {
        Ok(()) => Ok(WriteBack::Written { generation: record.generation }),
        Err(Error::StoreConflict) => {
            let generation = store.read(user).await?.record.map_or(0, |r| r.generation);
            Ok(WriteBack::KeptNewer { generation })
        }
        Err(other) => Err(other.into()),
    }
}
