//! The Secrets Manager store. Compare-and-swap in two calls: `PutSecretValue` with a `ClientRequestToken` derived
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

use super::{SecretStore, StoreFuture};
use crate::record::{parse_stored, Snapshot};
use crate::{Error, StoredRecord};

const CURRENT: &str = "AWSCURRENT";
/// Where a new version waits between the put and the stage move. Moving a label detaches it from the version that
/// had it, so at most one version carries it.
const PENDING: &str = "SETLIST_PENDING";
/// Secrets Manager's limit on `SecretString`; moto does not enforce it, so the store does.
const MAX_SECRET_BYTES: usize = 65_536;

/// An `aws-config` loader with the ring-based rustls client (no aws-lc, no second hyper stack) and a 10 s
/// operation timeout. Region, credentials and `AWS_ENDPOINT_URL` come from the environment unless set on it.
pub fn aws_config_loader() -> ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
}

/// A [`SecretStore`] backed by one Secrets Manager secret, always read at `AWSCURRENT` (explicitly: moto
/// otherwise keeps answering the old value after a stage move).
#[derive(Debug, Clone)]
pub struct SecretsManagerStore {
    client: Client,
    secret_id: String,
}

impl SecretsManagerStore {
    /// The secret must exist (with no value, `{}`, or a record).
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    async fn read_current(&self) -> Result<Snapshot, Error> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(CURRENT)
            .send()
            .await;
        match answer {
            Ok(output) => Ok(Snapshot {
                version: output.version_id().map(str::to_owned),
                record: parse_stored(output.secret_string().unwrap_or_default())?,
            }),
            // A secret created without a value has no AWSCURRENT version yet.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_resource_not_found_exception()) =>
            {
                Ok(Snapshot::default())
            }
            Err(error) => Err(self.failed("GetSecretValue", &DisplayErrorContext(&error))),
        }
    }

    async fn put_then_move(
        &self,
        expected: Option<&str>,
        record: &StoredRecord,
    ) -> Result<(), Error> {
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
            .secret_id(&self.secret_id)
            .client_request_token(&token)
            .secret_string(value)
            .version_stages(PENDING)
            .send()
            .await
            .map_err(|error| self.failed("PutSecretValue", &DisplayErrorContext(&error)))?;
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
            .secret_id(&self.secret_id)
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
            Err(error) => {
                Err(self.failed("UpdateSecretVersionStage", &DisplayErrorContext(&error)))
            }
        }
    }

    fn failed(&self, call: &str, error: &dyn std::fmt::Display) -> Error {
        Error::Store(format!("{call} on {}: {error}", self.secret_id))
    }
}

impl SecretStore for SecretsManagerStore {
    fn read(&self) -> StoreFuture<'_, Snapshot> {
        Box::pin(self.read_current())
    }

    fn compare_and_swap<'a>(
        &'a self,
        expected: Option<&'a str>,
        record: &'a StoredRecord,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.put_then_move(expected, record))
    }
}
