//! Where pushed tokens live: one [`SecretStore`] trait with a versioned record per user and compare-and-swap, a
//! file store (the embedded default for local runs: one file per user) and a Secrets Manager store (production:
//! one secret per user under a name prefix), plus the write loop the endpoint and server-side jobs share.

mod file;
mod secrets_manager;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

pub use file::FileStore;
pub use secrets_manager::{aws_config_loader, SecretsManagerStore};

use crate::policy::{decide, Decision, Policy, WriteReason};
use crate::record::Snapshot;
use crate::{Error, StoredRecord, TokenPush};

/// A boxed future, so that stores can sit behind `Arc<dyn SecretStore>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// One versioned record per Spotify user, as Secrets Manager models a secret: a current version and the one before
/// it. `user` is always a checked id ([`check_user_id`]).
pub trait SecretStore: Send + Sync {
    /// The current version and record of `user`.
    fn read<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Snapshot>;

    /// The record of `user` before the current one (Secrets Manager's `AWSPREVIOUS`), if any: what a job falls
    /// back to once when the current refresh token is refused.
    fn read_previous<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Option<StoredRecord>>;

    /// Makes `record` the current version of `user` if the current version is still `expected` (`None`: the user
    /// has no version yet). Fails with [`Error::StoreConflict`] when another version became current first. Writing
    /// a record that is already current succeeds without a new version.
    fn compare_and_swap<'a>(
        &'a self,
        user: &'a str,
        expected: Option<&'a str>,
        record: &'a StoredRecord,
    ) -> StoreFuture<'a, ()>;
}

/// Checks that a Spotify user id can name a record in every store: 1 to 128 characters of letters, digits and
/// `_ + = . @ -` (what Secrets Manager allows in a name, minus `/`), not starting with `.`. Spotify's ids are
/// base-62 strings or, for old accounts, user names of the same alphabet.
pub fn check_user_id(user: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | '.' | '@' | '-');
    if user.is_empty() || user.len() > 128 || user.starts_with('.') || !user.chars().all(allowed) {
        return Err(format!(
            "{user:?} cannot name a token record: use 1-128 letters, digits or _+=.@- (not starting with .)"
        ));
    }
    Ok(())
}

/// How many times a lost compare-and-swap is re-read and re-decided before answering 503.
const MAX_ATTEMPTS: usize = 8;

/// What [`store_push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written { generation: u64, reason: WriteReason },
    Unchanged { generation: u64 },
}

/// Applies the chain rule and write policy ([`decide`]) to `push` from the verified `user_id` against that user's
/// record and writes with compare-and-swap; a lost race re-reads and re-decides. [`Error::Conflict`] carries the
/// stored generation; a sign-in over the budget is [`Error::TooManySignIns`].
pub async fn store_push(
    store: &dyn SecretStore,
    push: &TokenPush,
    user_id: &str,
    now: u64,
    policy: Policy,
) -> Result<Stored, Error> {
    check_user_id(user_id).map_err(Error::Store)?;
    for _ in 0..MAX_ATTEMPTS {
        let snapshot = store.read(user_id).await?;
        let generation = snapshot.record.as_ref().map_or(0, |record| record.generation);
        match decide(snapshot.record.as_ref(), push, user_id, now, policy) {
            Decision::Unchanged => return Ok(Stored::Unchanged { generation }),
            Decision::Conflict => return Err(Error::Conflict { generation }),
            Decision::OverBudget { retry_after_secs } => return Err(Error::TooManySignIns { retry_after_secs }),
            Decision::Write(record, reason) => {
                match store.compare_and_swap(user_id, snapshot.version.as_deref(), &record).await {
                    Ok(()) => return Ok(Stored::Written { generation: record.generation, reason }),
                    Err(Error::StoreConflict) => tokio::task::yield_now().await,
                    Err(other) => return Err(other),
                }
            }
        }
    }
    Err(Error::StoreConflict)
}

/// A store named on a command line: `file:DIR` (one file per user) or `secretsmanager:PREFIX` (one secret per
/// user, named PREFIX followed by the user id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    File(PathBuf),
    SecretsManager(String),
}

impl FromStr for StoreSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        match spec.split_once(':') {
            Some(("file", path)) if !path.is_empty() => Ok(Self::File(PathBuf::from(path))),
            Some(("secretsmanager", prefix)) if !prefix.is_empty() => Ok(Self::SecretsManager(prefix.to_owned())),
            _ => Err(format!("store must be file:DIR or secretsmanager:NAME_PREFIX, not {spec:?}")),
        }
    }
}

impl StoreSpec {
    /// Opens the store. Secrets Manager takes region, credentials and `AWS_ENDPOINT_URL` from the environment.
    pub async fn open(&self) -> Arc<dyn SecretStore> {
        match self {
            Self::File(dir) => Arc::new(FileStore::new(dir.clone())),
            Self::SecretsManager(prefix) => {
                let config = aws_config_loader().load().await;
                Arc::new(SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&config), prefix.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("file:.setlist/run/tokens".parse(), Ok(StoreSpec::File(PathBuf::from(".setlist/run/tokens"))));
        assert_eq!(
            "secretsmanager:setlist/tokens/".parse(),
            Ok(StoreSpec::SecretsManager("setlist/tokens/".to_owned()))
        );
        assert!("file:".parse::<StoreSpec>().is_err());
        assert!("s3:bucket".parse::<StoreSpec>().is_err());
    }

    #[test]
    fn user_ids_that_name_records() {
        for good in ["alice.setlist", "31l77y2al5lnn7mxfrmd4bpfhqke", "old_user-name@x=y+z"] {
            assert!(check_user_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "a/b", "../x", "a b", "é", &"x".repeat(129)] {
            assert!(check_user_id(bad).is_err(), "{bad}");
        }
    }
}
