//! The token push: what the app sends to the sink (`POST /api/tokens`), how it reads the answer, how long it
//! waits before trying again, and the durable outbox that holds a push until the sink has it.
//!
//! The outbox lives in `localStorage` (serde) so that a push survives reloads and a sink that is down for an
//! hour loses nothing. Time is a parameter (unix seconds); randomness for jitter is a parameter too.

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{AccessToken, RefreshToken, TokenSet};

/// The body of `POST /api/tokens`, field for field as the sink expects it (unknown fields are rejected there).
///
/// `Debug` is safe to print: the token newtypes redact themselves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenPush {
    pub access_token: AccessToken,
    /// Unix seconds at which the access token stops working.
    pub expires_at: u64,
    pub refresh_token: RefreshToken,
    /// Space-separated granted scopes.
    pub scope: String,
    /// Unix seconds of the sign-in that started this refresh-token chain.
    pub authorized_at: u64,
    /// Lowercase hex SHA-256 of the refresh token that was used to obtain these tokens; `None` (`null`) after a
    /// sign-in. Always serialized, as the sink requires the field to be present.
    pub prev_refresh_sha256: Option<String>,
}

impl TokenPush {
    /// The push for tokens obtained by a sign-in (`used` is `None`) or by a refresh with `used`. `None` when
    /// Spotify sent no refresh token: server-side jobs could do nothing with an access token alone.
    pub fn new(tokens: &TokenSet, used: Option<&RefreshToken>) -> Option<Self> {
        Some(Self {
            access_token: tokens.access_token.clone(),
            expires_at: tokens.expires_at,
            refresh_token: tokens.refresh_token.clone()?,
            scope: tokens.scope.clone(),
            authorized_at: tokens.authorized_at,
            prev_refresh_sha256: used.map(RefreshToken::sha256_hex),
        })
    }
}

/// Lowercase hex SHA-256 of `data`.
fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST {push_url}` with the push as JSON and `x-amz-content-sha256: hex(SHA-256(body))`.
///
/// In production CloudFront signs the origin request with SigV4, and Lambda function URLs need the payload hash
/// of a signed POST from the client
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html>);
/// the sink also checks it against the body itself.
///
/// # Panics
/// If `push_url` is not a valid URI; [`crate::AppConfig::validate`] guarantees it is.
pub fn push_request(push_url: &str, push: &TokenPush) -> http::Request<String> {
    // Serializing plain strings and numbers cannot fail.
    let body = serde_json::to_string(push).unwrap_or_default();
    let uri = match http::Uri::try_from(push_url) {
        Ok(uri) => uri,
        Err(e) => panic!("AppConfig was not validated: push_url {push_url:?} is not a valid URI: {e}"),
    };
    let mut request = http::Request::new(String::new());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(hash) = HeaderValue::try_from(sha256_hex(body.as_bytes())) {
        headers.insert("x-amz-content-sha256", hash);
    }
    *request.body_mut() = body;
    request
}

/// What one attempt at a push came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// 2xx: the sink has it (stored, or it already had it).
    Delivered,
    /// Network error, 408, 429 or 5xx: try again later, no sooner than `retry_after` seconds when given.
    Retry { retry_after: Option<u64>, reason: String },
    /// Any other answer: the sink will never accept this push; drop it and say why.
    Rejected { status: u16, reason: String },
}

/// Longest part of a sink message shown to the user.
const REASON_MAX_CHARS: usize = 160;

/// Classifies an attempt: `status` is `None` when no HTTP response arrived (network down, DNS, CORS).
///
/// The sink answers `{"error":"code","message":"..."}`; its message becomes the reason. It never contains a token
/// (the sink never echoes one), and it is shortened for display.
pub fn classify(status: Option<u16>, body: &str, retry_after: Option<u64>) -> PushOutcome {
    let Some(status) = status else {
        return PushOutcome::Retry { retry_after: None, reason: "the sync service is unreachable".into() };
    };
    match status {
        200..=299 => PushOutcome::Delivered,
        408 | 429 | 500..=599 => PushOutcome::Retry {
            retry_after,
            reason: match status {
                503 => "the sync service is unavailable".into(),
                429 => "the sync service is busy".into(),
                _ => format!("the sync service answered {status}"),
            },
        },
        409 => PushOutcome::Rejected { status, reason: "a newer sign-in is stored".into() },
        _ => PushOutcome::Rejected { status, reason: sink_message(status, body) },
    }
}

fn sink_message(status: u16, body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .filter(|m| !m.trim().is_empty());
    match message {
        Some(m) => {
            let short: String = m.chars().filter(|c| !c.is_control()).take(REASON_MAX_CHARS).collect();
            format!("{short} ({status})")
        }
        None => format!("the sync service refused it ({status})"),
    }
}

/// First retry waits up to this long; each further one doubles it.
pub const BACKOFF_BASE_SECS: u64 = 2;
/// No wait is longer than five minutes, unless the sink asks for more with `Retry-After`.
pub const BACKOFF_CAP_SECS: u64 = 300;
/// A `Retry-After` beyond an hour is treated as an hour: a misconfigured proxy should not park a push for days.
pub const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// Seconds to wait after the `attempt`-th failed attempt (1-based): exponential backoff with full jitter
/// (uniform in `1..=min(cap, base * 2^(attempt-1))`, from `jitter` as a fraction of `u32::MAX`), but never less
/// than the server's `Retry-After` (itself capped at [`MAX_RETRY_AFTER_SECS`]).
/// See <https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>.
pub fn backoff_secs(attempt: u32, jitter: u32, retry_after: Option<u64>) -> u64 {
    let exp = attempt.saturating_sub(1).min(20);
    let ceiling = BACKOFF_BASE_SECS.saturating_mul(1 << exp).min(BACKOFF_CAP_SECS);
    let jittered = (u128::from(ceiling) * u128::from(jitter) / u128::from(u32::MAX)) as u64;
    let wait = jittered.clamp(1, ceiling);
    wait.max(retry_after.unwrap_or(0).min(MAX_RETRY_AFTER_SECS))
}

/// The push waiting for the sink.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Distinguishes this entry from the one that replaces it, so an answer is applied only to what was sent.
    pub id: u64,
    pub push: TokenPush,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Unix seconds before which no attempt is made.
    pub next_attempt_at: u64,
    /// Why the last attempt failed, for the status line.
    pub last_error: Option<String>,
    /// When this entry replaced an unconfirmed one, the hash of the refresh token this push was really obtained
    /// with. If the replaced push did reach the sink after all (its answer lost), the sink's chain is at that
    /// token and answers 409 to `push.prev_refresh_sha256`; one retry with this hash then continues the chain.
    #[serde(default)]
    pub fallback_prev: Option<String>,
}

/// How the last push ended, shown until the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LastPush {
    Synced { at: u64 },
    Failed { at: u64, reason: String },
}

/// The durable outbox: at most one pending push (only the newest tokens matter) and how the last one ended.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Outbox {
    pub pending: Option<OutboxEntry>,
    pub last: Option<LastPush>,
    /// The id the next entry gets.
    #[serde(default)]
    pub next_id: u64,
}

impl Outbox {
    /// Queues `push`, due at once. A pending push it replaces was never confirmed, so the sink's chain is still at
    /// that push's predecessor: the new entry keeps the OLDER `prev_refresh_sha256` (the sink never saw the
    /// intermediate refresh token) and remembers its own as [`OutboxEntry::fallback_prev`].
    pub fn enqueue(&mut self, mut push: TokenPush, now: u64) {
        let mut fallback_prev = None;
        if let Some(old) = self.pending.take() {
            if push.prev_refresh_sha256.is_some() && push.prev_refresh_sha256 != old.push.prev_refresh_sha256 {
                fallback_prev = push.prev_refresh_sha256.take();
                push.prev_refresh_sha256 = old.push.prev_refresh_sha256;
            }
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.pending =
            Some(OutboxEntry { id, push, attempts: 0, next_attempt_at: now, last_error: None, fallback_prev });
    }

    /// The pending entry if an attempt is due at `now`.
    pub fn due(&self, now: u64) -> Option<&OutboxEntry> {
        self.pending.as_ref().filter(|e| e.next_attempt_at <= now)
    }

    /// Applies the outcome of an attempt at entry `id`, answered at `now`; `jitter` is a random `u32` for the
    /// backoff. An outcome for an entry that has been replaced meanwhile changes nothing: the newer entry still
    /// has to be sent. Returns whether anything changed.
    pub fn record(&mut self, id: u64, outcome: PushOutcome, now: u64, jitter: u32) -> bool {
        let same = self.pending.as_ref().is_some_and(|e| e.id == id);
        if !same {
            return false;
        }
        match outcome {
            PushOutcome::Delivered => {
                self.pending = None;
                self.last = Some(LastPush::Synced { at: now });
            }
            PushOutcome::Retry { retry_after, reason } => {
                if let Some(e) = self.pending.as_mut() {
                    e.attempts = e.attempts.saturating_add(1);
                    e.next_attempt_at = now.saturating_add(backoff_secs(e.attempts, jitter, retry_after));
                    e.last_error = Some(reason);
                }
            }
            PushOutcome::Rejected { status: 409, .. }
                if self.pending.as_ref().is_some_and(|e| e.fallback_prev.is_some()) =>
            {
                if let Some(e) = self.pending.as_mut() {
                    e.push.prev_refresh_sha256 = e.fallback_prev.take();
                    e.next_attempt_at = now;
                }
            }
            PushOutcome::Rejected { reason, .. } => {
                self.pending = None;
                self.last = Some(LastPush::Failed { at: now, reason });
            }
        }
        true
    }

    /// What the status line says at `now`.
    pub fn status(&self, now: u64) -> SyncStatus {
        match (&self.pending, &self.last) {
            (Some(e), _) if e.attempts == 0 || e.next_attempt_at <= now => SyncStatus::Sending,
            (Some(e), _) => SyncStatus::Retrying {
                in_secs: e.next_attempt_at - now,
                reason: e.last_error.clone().unwrap_or_default(),
            },
            (None, Some(LastPush::Synced { .. })) => SyncStatus::Synced,
            (None, Some(LastPush::Failed { reason, .. })) => SyncStatus::Failed(reason.clone()),
            (None, None) => SyncStatus::Idle,
        }
    }
}

/// The push state as the header shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// Nothing pushed yet from this browser.
    Idle,
    Synced,
    /// Due or in flight.
    Sending,
    Retrying { in_secs: u64, reason: String },
    Failed(String),
}

impl std::fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncStatus::Idle => Ok(()),
            SyncStatus::Synced => f.write_str("credentials synced"),
            SyncStatus::Sending => f.write_str("sync pending"),
            SyncStatus::Retrying { in_secs, .. } => write!(f, "sync pending, retrying in {in_secs} s"),
            SyncStatus::Failed(reason) => write!(f, "sync failed: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenResponse;

    const ACCESS: &str = "ACCESS-secret-aaaaaaaaaaaaaaaa";
    const REFRESH: &str = "REFRESH-secret-rrrrrrrrrrrrrrrr";

    fn tokens(access: &str, refresh: Option<&str>) -> TokenSet {
        TokenSet::from_sign_in(
            TokenResponse {
                access_token: AccessToken::new(access.into()),
                token_type: "Bearer".into(),
                scope: "playlist-modify-private user-read-private".into(),
                expires_in: 3600,
                refresh_token: refresh.map(|r| RefreshToken::new(r.into())),
            },
            1_000,
        )
    }

    fn push(access: &str, refresh: &str, used: Option<&str>) -> TokenPush {
        let used = used.map(|u| RefreshToken::new(u.into()));
        TokenPush::new(&tokens(access, Some(refresh)), used.as_ref()).expect("has a refresh token")
    }

    fn hash(s: &str) -> String {
        RefreshToken::new(s.into()).sha256_hex()
    }

    #[test]
    fn push_serializes_exactly_the_sink_fields() {
        let p = push(ACCESS, REFRESH, None);
        let value: serde_json::Value = serde_json::from_str(&serde_json::to_string(&p).expect("json")).expect("json");
        let mut keys: Vec<_> = value.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["access_token", "authorized_at", "expires_at", "prev_refresh_sha256", "refresh_token", "scope"]
        );
        assert_eq!(value["access_token"], ACCESS);
        assert_eq!(value["refresh_token"], REFRESH);
        assert_eq!(value["expires_at"], 4_600);
        assert_eq!(value["authorized_at"], 1_000);
        assert_eq!(value["scope"], "playlist-modify-private user-read-private");
        assert!(value["prev_refresh_sha256"].is_null(), "present and null after a sign-in");

        let refreshed = push(ACCESS, REFRESH, Some("old-refresh"));
        assert_eq!(refreshed.prev_refresh_sha256, Some(hash("old-refresh")));
    }

    #[test]
    fn no_push_without_a_refresh_token() {
        assert!(TokenPush::new(&tokens(ACCESS, None), None).is_none());
    }

    #[test]
    fn push_debug_is_redacted() {
        let p = push(ACCESS, REFRESH, Some("old"));
        let mut outbox = Outbox::default();
        outbox.enqueue(p.clone(), 5);
        for debug in [format!("{p:?}"), format!("{p:#?}"), format!("{outbox:?}")] {
            assert!(!debug.contains("secret"), "{debug}");
        }
    }

    #[test]
    fn push_request_is_exact() {
        let p = push(ACCESS, REFRESH, None);
        let req = push_request("/api/tokens", &p);
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/api/tokens");
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(req.body(), &serde_json::to_string(&p).expect("json"));
        let expected = sha256_hex(req.body().as_bytes());
        assert_eq!(req.headers()["x-amz-content-sha256"], expected.as_str());
        assert_eq!(expected.len(), 64);
        let absolute = push_request("https://setlist.example/api/tokens", &p);
        assert_eq!(absolute.uri().host(), Some("setlist.example"));
        // No token in the request's Debug either.
        assert!(!format!("{:?}", req.headers()).contains("secret"));
    }

    #[test]
    fn sha256_hex_known_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn classification_table() {
        let retry = |s: Option<u16>| matches!(classify(s, "", None), PushOutcome::Retry { .. });
        let rejected = |s: u16| matches!(classify(Some(s), "", None), PushOutcome::Rejected { .. });
        for s in [200, 201, 204, 299] {
            assert_eq!(classify(Some(s), "{}", None), PushOutcome::Delivered, "{s}");
        }
        assert!(retry(None));
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(retry(Some(s)), "{s}");
        }
        for s in [400, 401, 403, 404, 405, 409, 413, 415, 422, 300, 100] {
            assert!(rejected(s), "{s}");
        }
        assert_eq!(
            classify(Some(503), "", Some(7)),
            PushOutcome::Retry { retry_after: Some(7), reason: "the sync service is unavailable".into() }
        );
        assert_eq!(
            classify(Some(403), r#"{"error":"forbidden","message":"This Spotify account may not push."}"#, None),
            PushOutcome::Rejected { status: 403, reason: "This Spotify account may not push. (403)".into() }
        );
        assert_eq!(
            classify(Some(409), r#"{"error":"conflict","message":"stored generation 4"}"#, None),
            PushOutcome::Rejected { status: 409, reason: "a newer sign-in is stored".into() }
        );
        assert_eq!(
            classify(Some(404), "<html>", None),
            PushOutcome::Rejected { status: 404, reason: "the sync service refused it (404)".into() }
        );
        let long = format!(r#"{{"error":"x","message":"{}"}}"#, "m".repeat(1000));
        let PushOutcome::Rejected { reason, .. } = classify(Some(400), &long, None) else { panic!("rejected") };
        assert!(reason.chars().count() < REASON_MAX_CHARS + 10);
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        // Full jitter: the top of the range doubles from the base up to the cap.
        let max = u32::MAX;
        let tops: Vec<u64> = (1..=10).map(|a| backoff_secs(a, max, None)).collect();
        assert_eq!(tops, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff_secs(u32::MAX, max, None), BACKOFF_CAP_SECS);
        // The bottom never spins.
        assert_eq!(backoff_secs(1, 0, None), 1);
        assert_eq!(backoff_secs(30, 0, None), 1);
        // Jitter spreads the wait across the range.
        assert_eq!(backoff_secs(6, max / 2 + 1, None), 32);
        assert_eq!(backoff_secs(6, max / 4 + 1, None), 16);
        // Retry-After is a floor, itself capped.
        assert_eq!(backoff_secs(1, 0, Some(30)), 30);
        assert_eq!(backoff_secs(10, max, Some(30)), 300);
        assert_eq!(backoff_secs(1, 0, Some(u64::MAX)), MAX_RETRY_AFTER_SECS);
    }

    #[test]
    fn outbox_retries_then_delivers() {
        let mut ob = Outbox::default();
        assert_eq!(ob.status(0), SyncStatus::Idle);
        ob.enqueue(push(ACCESS, REFRESH, None), 100);
        let id = ob.due(100).expect("due at once").id;
        assert_eq!(ob.status(100), SyncStatus::Sending);
        assert_eq!(ob.status(100).to_string(), "sync pending");

        let unavailable = classify(Some(503), "", Some(30));
        assert!(ob.record(id, unavailable, 100, 0));
        assert!(ob.due(129).is_none());
        assert_eq!(ob.status(100).to_string(), "sync pending, retrying in 30 s");
        assert_eq!(ob.status(129).to_string(), "sync pending, retrying in 1 s");
        assert!(ob.due(130).is_some());
        assert!(matches!(ob.status(130), SyncStatus::Sending));

        assert!(ob.record(id, classify(None, "", None), 130, u32::MAX));
        let e = ob.pending.as_ref().expect("still pending");
        assert_eq!((e.attempts, e.next_attempt_at), (2, 134));
        assert_eq!(e.last_error.as_deref(), Some("the sync service is unreachable"));

        assert!(ob.record(id, PushOutcome::Delivered, 134, 0));
        assert!(ob.pending.is_none());
        assert_eq!(ob.status(200).to_string(), "credentials synced");
    }

    #[test]
    fn outbox_drops_a_rejected_push_and_says_why() {
        let mut ob = Outbox::default();
        ob.enqueue(push(ACCESS, REFRESH, None), 1);
        let id = ob.pending.as_ref().expect("pending").id;
        ob.record(id, classify(Some(403), r#"{"error":"forbidden","message":"not allowed"}"#, None), 2, 0);
        assert!(ob.pending.is_none());
        assert_eq!(ob.status(3).to_string(), "sync failed: not allowed (403)");
    }

    #[test]
    fn an_answer_for_a_replaced_entry_changes_nothing() {
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", None), 1);
        let first = ob.pending.as_ref().expect("pending").id;
        ob.enqueue(push("a2", "r1", Some("r1")), 2);
        assert!(!ob.record(first, PushOutcome::Delivered, 3, 0));
        let e = ob.pending.as_ref().expect("the newer push stays");
        assert_eq!(e.push.access_token.secret(), "a2");
        assert_ne!(e.id, first);
    }

    #[test]
    fn replacing_an_unsent_push_keeps_the_older_prev_hash() {
        // Sink holds r0. Refresh with r0 gives r1 (unsent); refresh with r1 gives r2.
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", Some("r0")), 10);
        ob.enqueue(push("a2", "r2", Some("r1")), 20);
        let e = ob.pending.clone().expect("pending");
        assert_eq!(e.push.refresh_token.secret(), "r2");
        assert_eq!(e.push.prev_refresh_sha256, Some(hash("r0")), "the sink never saw r1");
        assert_eq!(e.fallback_prev, Some(hash("r1")));
        assert_eq!((e.attempts, e.next_attempt_at), (0, 20));

        // If r1 did reach the sink after all, its 409 leads to one retry with r1's hash.
        assert!(ob.record(e.id, classify(Some(409), "", None), 21, 0));
        let e = ob.pending.clone().expect("retried, not dropped");
        assert_eq!(e.push.prev_refresh_sha256, Some(hash("r1")));
        assert_eq!(e.fallback_prev, None);
        assert!(ob.due(21).is_some());
        // A second 409 is final.
        ob.record(e.id, classify(Some(409), "", None), 22, 0);
        assert!(ob.pending.is_none());
        assert_eq!(ob.status(22).to_string(), "sync failed: a newer sign-in is stored");
    }

    #[test]
    fn replacing_after_a_sign_in_keeps_null_prev() {
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", None), 10);
        ob.enqueue(push("a2", "r2", Some("r1")), 20);
        let e = ob.pending.clone().expect("pending");
        assert_eq!(e.push.prev_refresh_sha256, None, "still a fresh sign-in to the sink");
        assert_eq!(e.fallback_prev, Some(hash("r1")));
        // Without rotation the refresh token stays; the hash of the unchanged token is kept as a fallback too.
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", Some("r1")), 10);
        ob.enqueue(push("a2", "r1", Some("r1")), 20);
        let e = ob.pending.clone().expect("pending");
        assert_eq!(e.push.prev_refresh_sha256, Some(hash("r1")));
        assert_eq!(e.fallback_prev, None);
        // A new sign-in replacing a pending refresh is a sign-in.
        ob.enqueue(push("a3", "r9", None), 30);
        assert_eq!(ob.pending.clone().expect("pending").push.prev_refresh_sha256, None);
    }

    #[test]
    fn outbox_round_trips_through_storage() {
        let mut ob = Outbox::default();
        ob.enqueue(push(ACCESS, REFRESH, Some("r0")), 10);
        let id = ob.pending.as_ref().expect("pending").id;
        ob.record(id, classify(Some(503), "", Some(9)), 11, 0);
        let json = serde_json::to_string(&ob).expect("json");
        let back: Outbox = serde_json::from_str(&json).expect("json");
        let e = back.pending.expect("pending");
        assert_eq!(e.push.access_token.secret(), ACCESS);
        assert_eq!((e.id, e.attempts, e.next_attempt_at), (id, 1, 20));
        assert_eq!(back.next_id, 1);
        let synced: Outbox = serde_json::from_str(r#"{"pending":null,"last":{"result":"synced","at":5}}"#).expect("json");
        assert_eq!(synced.last, Some(LastPush::Synced { at: 5 }));
    }
}
