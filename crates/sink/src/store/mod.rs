//! Where pushed tokens live: one [`SecretStore`] trait with versioned compare-and-swap, a file store (the embedded
//! default for local runs) and a Secrets Manager store (production), plus the write loop both the endpoint and
//! server-side jobs use.

mod file;
mod secrets_manager;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

pub use file::FileStore;
pub use secrets_manager::{aws_config_loader, SecretsManagerStore};

use crate::policy::{decide, Decision, WriteReason};
use crate::record::Snapshot;
use crate::{Error, StoredRecord, TokenPush};

/// A boxed future, so that stores can sit behind `Arc<dyn SecretStore>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A single secret with versions, as Secrets Manager models it.
pub trait SecretStore: Send + Sync {
    /// The current version and record.
    fn read(&self) -> StoreFuture<'_, Snapshot>;

    /// Makes `record` the current version if the current version is still `expected` (`None`: the store holds no
    /// version yet). Fails with [`Error::StoreConflict`] when another version became current first. Writing a
    /// record that is already current succeeds without a new version.
    fn compare_and_swap<'a>(
        &'a self,
        expected: Option<&'a str>,
        record: &'a StoredRecord,
    ) -> StoreFuture<'a, ()>;
}

/// How many times a lost compare-and-swap is re-read and re-decided before answering 503.
const MAX_ATTEMPTS: usize = 8;

/// What [`store_push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written {
        generation: u64,
        reason: WriteReason,
    },
    Unchanged {
        generation: u64,
    },
}

/// Applies the chain rule and write policy ([`decide`]) to `push` from the verified `user_id` and writes with
/// compare-and-swap; a lost race re-reads and re-decides. [`Error::Conflict`] carries the stored generation.
pub async fn store_push(
    store: &dyn SecretStore,
    push: &TokenPush,
    user_id: &str,
    now: i64,
) -> Result<Stored, Error> {
    for _ in 0..MAX_ATTEMPTS {
        let snapshot = store.read().await?;
        let generation = snapshot
            .record
            .as_ref()
            .map_or(0, |record| record.generation);
        match decide(snapshot.record.as_ref(), push, user_id, now) {
            Decision::Unchanged => return Ok(Stored::Unchanged { generation }),
            Decision::Conflict => return Err(Error::Conflict { generation }),
            Decision::Write(record, reason) => {
                match store
                    .compare_and_swap(snapshot.version.as_deref(), &record)
                    .await
                {
                    Ok(()) => {
                        return Ok(Stored::Written {
                            generation: record.generation,
                            reason,
                        })
                    }
                    Err(Error::StoreConflict) => tokio::task::yield_now().await,
                    Err(other) => return Err(other),
                }
            }
        }
    }
    Err(Error::StoreConflict)
}

/// A store named on a command line: `file:PATH` or `secretsmanager:SECRET_ID`.
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
            Some(("secretsmanager", id)) if !id.is_empty() => {
                Ok(Self::SecretsManager(id.to_owned()))
            }
            _ => Err(format!(
                "store must be file:PATH or secretsmanager:SECRET_ID, not {spec:?}"
            )),
        }
    }
}

impl StoreSpec {
    /// Opens the store. Secrets Manager takes region, credentials and `AWS_ENDPOINT_URL` from the environment.
    pub async fn open(&self) -> Arc<dyn SecretStore> {
        match self {
            Self::File(path) => Arc::new(FileStore::new(path.clone())),
            Self::SecretsManager(id) => {
                let config = aws_config_loader().load().await;
                Arc::new(SecretsManagerStore::new(
                    aws_sdk_secretsmanager::Client::new(&config),
                    id.clone(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(
            "file:.setlist/run/secret.json".parse(),
            Ok(StoreSpec::File(PathBuf::from(".setlist/run/secret.json")))
        );
        assert_eq!(
            "secretsmanager:setlist/tokens".parse(),
            Ok(StoreSpec::SecretsManager("setlist/tokens".to_owned()))
        );
        assert!("file:".parse::<StoreSpec>().is_err());
        assert!("s3:bucket".parse::<StoreSpec>().is_err());
    }
}
