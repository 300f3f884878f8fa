//! Who a pushed access token belongs to: `GET {api}/me`
//! ([get current user's profile](https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile)),
//! cached per access-token hash for a few minutes, never past the token's expiry by the sink's clock, so a revoked
//! token stops getting in soon after. The pushed refresh token is never used.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{header, StatusCode};
use serde::Deserialize;

use crate::{Error, TokenPush};

/// Retry-After when Spotify gave none (unreachable, 5xx).
const DEFAULT_RETRY_AFTER_SECS: u64 = 10;
/// A cached answer is kept at most this long, whatever `expires_at` claims.
const MAX_CACHE_SECS: u64 = 5 * 60;
/// `/v1/me` answers within this long or the push gets `503` + `Retry-After` (well inside the handler's deadline).
const ME_TIMEOUT: Duration = Duration::from_secs(4);
const MAX_CACHE_ENTRIES: usize = 1024;

/// Asks Spotify whose a token is, remembering answers by token hash.
#[derive(Debug)]
pub(crate) struct Identity {
    client: reqwest::Client,
    me_url: String,
    /// access-token SHA-256 -> (user id, cache until).
    cache: Mutex<HashMap<String, (String, u64)>>,
}

#[derive(Deserialize)]
struct Me {
    id: String,
}

impl Identity {
    /// `api_base` is the Web API root including `/v1` (`https://api.spotify.com/v1`).
    pub(crate) fn new(api_base: &str) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(ME_TIMEOUT)
            .build()
            // Only fails when the TLS backend cannot start, which a correct build rules out.
            .unwrap_or_default();
        Self {
            client,
            me_url: format!("{}/me", api_base.trim_end_matches('/')),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The Spotify user id of `push.access_token` at `now`.
    pub(crate) async fn user_id(&self, push: &TokenPush, now: u64) -> Result<String, Error> {
        let key = push.access_token.sha256_hex();
        if let Some(user) = self.cached(&key, now) {
            return Ok(user);
        }
        let answer = self
            .client
            .get(&self.me_url)
            .header(header::ACCEPT, "application/json")
            .bearer_auth(push.access_token.secret())
            .send()
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(error) => {
                // reqwest's error text names the URL (no token: it travels in a header).
                tracing::warn!(error = %error.without_url(), url = %self.me_url, "Spotify unreachable");
                return Err(Error::SpotifyUnavailable {
                    retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
                });
            }
        };
        let status = response.status();
        match status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                tracing::info!(
                    status = status.as_u16(),
                    "Spotify refused a pushed access token"
                );
                return Err(Error::AccessTokenRejected);
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let retry_after_secs = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .unwrap_or(DEFAULT_RETRY_AFTER_SECS)
                    .clamp(1, 3600);
                tracing::warn!(retry_after_secs, "Spotify rate-limited the /me check");
                return Err(Error::SpotifyUnavailable { retry_after_secs });
            }
            other => {
                tracing::warn!(status = other.as_u16(), "unexpected /me answer");
                return Err(Error::SpotifyUnavailable {
                    retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
                });
            }
        }
        let me: Me = match response.json().await {
            Ok(me) => me,
            Err(error) => {
                tracing::warn!(error = %error.without_url(), "unreadable /me answer");
                return Err(Error::SpotifyUnavailable {
                    retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
                });
            }
        };
        if me.id.is_empty() {
            return Err(Error::AccessTokenRejected);
        }
        self.remember(key, &me.id, push.expires_at_by(now).min(now.saturating_add(MAX_CACHE_SECS)), now);
        Ok(me.id)
    }

    fn cached(&self, key: &str, now: u64) -> Option<String> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .get(key)
            .filter(|(_, until)| now < *until)
            .map(|(user, _)| user.clone())
    }

    fn remember(&self, key: String, user: &str, until: u64, now: u64) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= MAX_CACHE_ENTRIES {
            cache.retain(|_, (_, until)| now < *until);
            if cache.len() >= MAX_CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (user.to_owned(), until));
    }
}
