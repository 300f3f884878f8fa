//! What one user's secret holds: the last accepted tokens plus what the chain rule and the write budget need,
//! all times by the sink's clock. Server-side jobs read this JSON from the store.

use std::fmt;

use serde::{Deserialize, Serialize};
use setlist_core::{sha256_hex, AccessToken, RefreshToken, TokenPush};

use crate::Error;

/// How many earlier refresh-token hashes a record remembers: a push carrying one of them is a replay of an older
/// link of the chain, never a new sign-in.
pub(crate) const SUPERSEDED_KEPT: usize = 8;

/// The stored tokens of one Spotify user. Serialized deterministically (field order below), so equal records give
/// equal [`StoredRecord::version_token`]s.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredRecord {
    /// Spotify user id the access token belonged to when it was pushed (from `GET /v1/me`).
    pub user_id: String,
    pub access_token: AccessToken,
    /// Unix seconds by the sink's clock: the pushed `expires_at`, but never later than the sink's now plus an
    /// access token's lifetime at the time of the write.
    pub expires_at: u64,
    pub refresh_token: RefreshToken,
    pub scope: String,
    /// The sender's claim of when the chain's sign-in happened (sanity-checked, informational: a refresh token
    /// lives six months from it).
    pub authorized_at: u64,
    /// Lowercase hex SHA-256 of `refresh_token`.
    pub rt_sha256: String,
    /// 1 for the first write of this user's record, then one more per write.
    pub generation: u64,
    /// Unix seconds by the sink's clock when this version was written.
    #[serde(default)]
    pub written_at: u64,
    /// Unix seconds by the sink's clock when the sign-in push that started this chain arrived.
    #[serde(default)]
    pub signed_in_at: u64,
    /// Sink times of the sign-in writes within the last hour: the write budget.
    #[serde(default)]
    pub sign_ins: Vec<u64>,
    /// Hashes of the refresh tokens this record held before, oldest first, at most [`SUPERSEDED_KEPT`].
    #[serde(default)]
    pub superseded: Vec<String>,
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
            .field("written_at", &self.written_at)
            .field("signed_in_at", &self.signed_in_at)
            .field("sign_ins", &self.sign_ins)
            .finish_non_exhaustive()
    }
}

impl StoredRecord {
    /// The first record of `user_id`, from `push`, written at `now`.
    pub fn first(push: &TokenPush, user_id: &str, now: u64) -> Self {
        Self {
            user_id: user_id.to_owned(),
            access_token: push.access_token.clone(),
            expires_at: push.expires_at_by(now),
            refresh_token: push.refresh_token.clone(),
            scope: push.scope.clone(),
            authorized_at: push.authorized_at,
            rt_sha256: push.rt_sha256(),
            generation: 1,
            written_at: now,
            signed_in_at: now,
            sign_ins: if push.prev_refresh_sha256.is_none() { vec![now] } else { Vec::new() },
            superseded: Vec::new(),
        }
    }

    /// This record's successor holding `push`'s tokens, written at `now`. A new refresh token pushes the old one's
    /// hash onto [`StoredRecord::superseded`].
    pub fn next(&self, push: &TokenPush, now: u64) -> Self {
        let rt_sha256 = push.rt_sha256();
        let mut superseded = self.superseded.clone();
        if rt_sha256 != self.rt_sha256 {
            superseded.push(self.rt_sha256.clone());
            let excess = superseded.len().saturating_sub(SUPERSEDED_KEPT);
            superseded.drain(..excess);
        }
        Self {
            user_id: self.user_id.clone(),
            access_token: push.access_token.clone(),
            expires_at: push.expires_at_by(now),
            refresh_token: push.refresh_token.clone(),
            scope: push.scope.clone(),
            authorized_at: push.authorized_at,
            rt_sha256,
            generation: self.generation.saturating_add(1),
            written_at: now,
            signed_in_at: self.signed_in_at,
            sign_ins: self.sign_ins.clone(),
            superseded,
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

    /// Seconds of access-token life left at `now` (0 once expired).
    pub fn access_token_secs_left(&self, now: u64) -> u64 {
        self.expires_at.saturating_sub(now)
    }
}

/// A store's current state for one user: its version id (`None` when it holds no version at all) and the record
/// (`None` when empty or holding the placeholder `{}`).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: Option<String>,
    pub record: Option<StoredRecord>,
}

/// Parses a stored secret value. An empty value or `{}` is an empty record (a freshly created secret may hold
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

    pub(crate) fn push(at: &str, rt: &str, prev: Option<&str>) -> TokenPush {
        TokenPush {
            access_token: AccessToken::new(at.into()),
            expires_at: 2_000,
            refresh_token: RefreshToken::new(rt.into()),
            scope: "user-read-private".to_owned(),
            authorized_at: 1_000,
            prev_refresh_sha256: prev.map(|p| sha256_hex(p.as_bytes())),
        }
    }

    #[test]
    fn round_trips_and_versions_are_stable() {
        let record = StoredRecord::first(&push("at-secret", "rt-secret", None), "alice.setlist", 1_500);
        let parsed = parse_stored(&record.to_json()).expect("parses").expect("a record");
        assert_eq!(parsed.version_token(), record.version_token());
        assert_eq!(record.version_token().len(), 64);
        let next = record.next(&push("at-2", "rt-secret", Some("rt-secret")), 1_600);
        assert_ne!(next.version_token(), record.version_token());
        assert_eq!((next.generation, next.signed_in_at, next.written_at), (2, 1_500, 1_600));
        assert!(next.superseded.is_empty(), "same refresh token");
    }

    #[test]
    fn records_of_the_earlier_shape_still_parse() {
        let old = r#"{"user_id":"alice.setlist","access_token":"a","expires_at":2000,"refresh_token":"r","scope":"","authorized_at":1000,"rt_sha256":"x","generation":3}"#;
        let record = parse_stored(old).expect("parses").expect("record");
        assert_eq!((record.generation, record.written_at), (3, 0));
        assert!(record.sign_ins.is_empty());
    }

    #[test]
    fn superseded_hashes_are_bounded() {
        let mut record = StoredRecord::first(&push("a", "r0", None), "alice.setlist", 1_000);
        for i in 1..=20 {
            record = record.next(&push("a", &format!("r{i}"), Some(&format!("r{}", i - 1))), 1_000 + i);
        }
        assert_eq!(record.superseded.len(), SUPERSEDED_KEPT);
        assert_eq!(record.superseded.last(), Some(&sha256_hex(b"r19")));
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
        let record = StoredRecord::first(&push("at-secret", "rt-secret", None), "alice.setlist", 1_500);
        let printed = format!("{record:?}");
        assert!(!printed.contains("at-secret") && !printed.contains("rt-secret"), "{printed}");
    }
}
