//! What the secret holds: the last accepted push plus who pushed it, the refresh-token hash the chain rule compares
//! and a generation counter. Server-side jobs read this JSON from the store.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::{sha256_hex, SecretString};
use crate::{Error, TokenPush};

/// The stored tokens. Serialized deterministically (field order below), so equal records give equal
/// [`StoredRecord::version_token`]s.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredRecord {
    /// Spotify user id the access token belonged to when it was pushed (from `GET /v1/me`).
    pub user_id: String,
    pub access_token: SecretString,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: SecretString,
    pub scope: String,
    /// Unix seconds of the sign-in that started this refresh-token chain.
    pub authorized_at: i64,
    /// Lowercase hex SHA-256 of `refresh_token`.
    pub rt_sha256: String,
    /// 1 for the first write into an empty store, then one more per write.
    pub generation: u64,
}

impl fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredRecord")
            .field("user_id", &self.user_id)
            .field("access_token", &self.access_token)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("authorized_at", &self.authorized_at)
            .field("rt_sha256", &self.rt_sha256)
            .field("generation", &self.generation)
            .finish()
    }
}

impl StoredRecord {
    /// The record that storing `push` for `user_id` as write number `generation` produces.
    pub fn from_push(push: &TokenPush, user_id: &str, generation: u64) -> Self {
        Self {
            user_id: user_id.to_owned(),
            access_token: push.access_token.clone(),
            expires_at: push.expires_at,
            refresh_token: push.refresh_token.clone(),
            scope: push.scope.clone(),
            authorized_at: push.authorized_at,
            rt_sha256: push.rt_sha256(),
            generation,
        }
    }

    /// The secret value: this record as compact JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Lowercase hex SHA-256 of [`StoredRecord::to_json`]: the version id of this record in every store, and the
    /// Secrets Manager `ClientRequestToken` (64 characters, inside its 32-64 range), so that putting the same
    /// record twice makes one version.
    pub fn version_token(&self) -> String {
        sha256_hex(self.to_json().as_bytes())
    }

    /// Seconds of access-token life left at `now` (negative once expired).
    pub fn access_token_secs_left(&self, now: i64) -> i64 {
        self.expires_at.saturating_sub(now)
    }
}

/// A store's current state: its version id (`None` when it holds no version at all) and the record (`None` when
/// empty or holding the placeholder `{}`).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: Option<String>,
    pub record: Option<StoredRecord>,
}

/// Parses a stored secret value. An empty value or `{}` is an empty store (a freshly created secret may hold
/// either); anything else must be a [`StoredRecord`].
pub fn parse_stored(value: &str) -> Result<Option<StoredRecord>, Error> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed == "{}" {
        return Ok(None);
    }
    serde_json::from_str(trimmed)
        .map(Some)
        // The value may hold tokens: say where parsing stopped, not what was there.
        .map_err(|error| {
            Error::Store(format!(
                "stored value is not a Setlist token record (line {}, column {})",
                error.line(),
                error.column()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> StoredRecord {
        StoredRecord {
            user_id: "alice.setlist".to_owned(),
            access_token: SecretString::new("at-secret"),
            expires_at: 2_000,
            refresh_token: SecretString::new("rt-secret"),
            scope: "user-read-private".to_owned(),
            authorized_at: 1_000,
            rt_sha256: sha256_hex(b"rt-secret"),
            generation: 3,
        }
    }

    #[test]
    fn round_trips_and_versions_are_stable() {
        let record = record();
        let parsed = parse_stored(&record.to_json())
            .expect("parses")
            .expect("a record");
        assert_eq!(parsed.version_token(), record.version_token());
        assert_eq!(record.version_token().len(), 64);
        let mut next = record.clone();
        next.generation += 1;
        assert_ne!(next.version_token(), record.version_token());
    }

    #[test]
    fn placeholders_are_empty_and_garbage_is_an_error() {
        assert!(parse_stored("").expect("empty").is_none());
        assert!(parse_stored(" {} ").expect("placeholder").is_none());
        let error = parse_stored("{\"access_token\":\"LEAK\"}").expect_err("not a record");
        assert!(!error.to_string().contains("LEAK"));
    }

    #[test]
    fn debug_is_redacted() {
        let printed = format!("{:?}", record());
        assert!(
            !printed.contains("at-secret") && !printed.contains("rt-secret"),
            "{printed}"
        );
    }
}
