//! The Secrets Manager store: one secret per user, named by a prefix and the Spotify user id
//! (`setlist/tokens/alice`), so that a job's role can be limited to one user's secret. A user's first write
//! creates the secret (`CreateSecret` with the record as its first value, a compare-and-swap against "no secret":
//! a second creator gets `ResourceExistsException`). After that, compare-and-swap in two calls: `PutSecretValue` with a `ClientRequestToken` derived
//! from the record and a private staging label (so `AWSCURRENT` stays where it is), then
//! `UpdateSecretVersionStage` moving `AWSCURRENT` from the version that was read to the new one. If another writer
//! moved `AWSCURRENT` first, Secrets Manager refuses the move (`InvalidParameterException`) and the write loop
//! re-reads. The very first version of a secret gets `AWSCURRENT` from `PutSecretValue` itself, and only one
//! version can be first, so that case is a compare-and-swap too.
//! ([PutSecretValue](https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html),
//! [UpdateSecretVersionStage](https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html))

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use super::{check_user_id, SecretStore, StoreFuture};
use crate::record::{parse_stored, Snapshot};
use crate::{Error, StoredRecord};

const CURRENT: &str = "AWSCURRENT";
const PREVIOUS: &str = "AWSPREVIOUS";
/// Where a new version waits between the put and the stage move. Moving a label detaches it from the version that
/// had it, so at most one version carries it.
const PENDING: &str = "SETLIST_PENDING";
/// Secrets Manager's limit on `SecretString`; moto does not enforce it, so the store does.
const MAX_SECRET_BYTES: usize = 65_536;

/// Each Secrets Manager call gives up after this long, so that a push's whole compare-and-swap fits well inside
/// the sink's own deadline (and that inside the Lambda's timeout): a slow AWS becomes a `503` with `Retry-After`,
/// never a CloudFront 502.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// An `aws-config` loader with the ring-based rustls client (no aws-lc, no second hyper stack) and a short
/// operation timeout ([`OPERATION_TIMEOUT`]). Region, credentials and `AWS_ENDPOINT_URL` come from the environment unless set on it.
pub fn aws_config_loader() -> ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
}

/// A [`SecretStore`] backed by one Secrets Manager secret per user, always read at an explicit stage (moto
/// otherwise keeps answering the old value after a stage move).
#[derive(Debug, Clone)]
pub struct SecretsManagerStore {
    client: Client,
    prefix: String,
}

impl SecretsManagerStore {
    /// User `U`'s secret is named `{prefix}U`; a missing one is created by the first write.
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self { client, prefix: prefix.into() }
    }

    /// The name of `user`'s secret.
    pub fn secret_name(&self, user: &str) -> Result<String, Error> {
        check_user_id(user).map_err(Error::Store)?;
        Ok(format!("{}{user}", self.prefix))
    }

    async fn read_stage(&self, user: &str, stage: &str) -> Result<Snapshot, Error> {
        let secret_id = self.secret_name(user)?;
        let answer = self.client.get_secret_value().secret_id(&secret_id).version_stage(stage).send().await;
        match answer {
            Ok(output) => Ok(Snapshot {
                version: output.version_id().map(str::to_owned),
                record: parse_stored(output.secret_string().unwrap_or_default())?,
            }),
            // No secret yet, or one created without a value (no AWSCURRENT version), or no AWSPREVIOUS yet.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_resource_not_found_exception()) =>
            {
                Ok(Snapshot::default())
            }
            Err(error) => Err(failed("GetSecretValue", &secret_id, &DisplayErrorContext(&error))),
        }
    }

    /// The first version of a new secret: created with the record as its value. Another writer creating it first
    /// is a lost compare-and-swap; a secret that exists without a value (made by an operator) takes the put path.
    async fn create(&self, secret_id: &str, record: &StoredRecord) -> Result<(), Error> {
        let created = self
            .client
            .create_secret()
            .name(secret_id)
            .client_request_token(record.version_token())
            .description(format!("Setlist: Spotify tokens of user {}", record.user_id))
            .secret_string(record.to_json())
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // Someone created it first. If it has a current version, that writer won (or it was this very record,
            // created by an earlier attempt whose answer was lost); an operator's empty secret takes the put path.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => {
                match self.read_stage(&record.user_id, CURRENT).await?.version {
                    Some(current) if current == record.version_token() => Ok(()),
                    Some(_) => Err(Error::StoreConflict),
                    None => self.put_then_move(secret_id, None, record).await,
                }
            }
            Err(error) => Err(failed("CreateSecret", secret_id, &DisplayErrorContext(&error))),
        }
    }

    async fn put_then_move(&self, secret_id: &str, expected: Option<&str>, record: &StoredRecord) -> Result<(), Error> {
        let value = record.to_json();
        if value.len() > MAX_SECRET_BYTES {
            return Err(Error::Store(format!(
                "record of {} bytes exceeds the {MAX_SECRET_BYTES}-byte secret limit",
                value.len()
            )));
        }
        let token = record.version_token();
        let put = self
            .client
            .put_secret_value()
            .secret_id(secret_id)
            .client_request_token(&token)
            .secret_string(value)
            .version_stages(PENDING)
            .send()
            .await
            .map_err(|error| failed("PutSecretValue", secret_id, &DisplayErrorContext(&error)))?;
        // The first version of a secret is made current by the put; so is nothing else. A repeated put of the
        // current record answers its existing version, still current.
        if put.version_stages().iter().any(|stage| stage == CURRENT) {
            return Ok(());
        }
        let Some(expected) = expected else {
            return Err(Error::StoreConflict);
        };
        let new_version = put.version_id().unwrap_or(&token);
        let moved = self
            .client
            .update_secret_version_stage()
            .secret_id(secret_id)
            .version_stage(CURRENT)
            .move_to_version_id(new_version)
            .remove_from_version_id(expected)
            .send()
            .await;
        match moved {
            Ok(_) => Ok(()),
            // `expected` no longer holds AWSCURRENT: someone else wrote first.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_invalid_parameter_exception()) =>
            {
                Err(Error::StoreConflict)
            }
            Err(error) => Err(failed("UpdateSecretVersionStage", secret_id, &DisplayErrorContext(&error))),
        }
    }
}

fn failed(call: &str, secret_id: &str, error: &dyn std::fmt::Display) -> Error {
    Error::Store(format!("{call} on {secret_id}: {error}"))
}

impl SecretStore for SecretsManagerStore {
    fn read<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Snapshot> {
        Box::pin(self.read_stage(user, CURRENT))
    }

    fn read_previous<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Option<StoredRecord>> {
        Box::pin(async move { Ok(self.read_stage(user, PREVIOUS).await?.record) })
    }

    fn compare_and_swap<'a>(
        &'a self,
        user: &'a str,
        expected: Option<&'a str>,
        record: &'a StoredRecord,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let secret_id = self.secret_name(user)?;
            match expected {
                None => self.create(&secret_id, record).await,
                Some(_) => self.put_then_move(&secret_id, expected, record).await,
            }
        })
    }
}
