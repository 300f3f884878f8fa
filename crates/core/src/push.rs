//! The token push: what the app sends to the sink (`POST /api/tokens`), how it reads the answer, how long it
//! waits before trying again, and the durable outbox that holds a push until the sink has it.
//!
//! The outbox lives in `localStorage` (serde) so that a push survives reloads and a sink that is down for an
//! hour loses nothing. Time is a parameter (unix seconds); randomness for jitter is a parameter too.

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::secret::{is_sha256_hex, sha256_hex};
use crate::{AccessToken, PushUrl, RefreshToken, TokenSet};

/// Largest push body the sink accepts, in bytes.
pub const MAX_PUSH_BYTES: usize = 4096;
/// Longest accepted token (Spotify's are a few hundred characters).
const MAX_TOKEN_CHARS: usize = 1024;
const MAX_SCOPE_CHARS: usize = 1024;
/// How far a push's times may be from the receiver's clock before they are absurd rather than skewed: browser
/// clocks may be hours off, never days. The receiver's clock decides everything else.
pub const MAX_CLOCK_SKEW_SECS: u64 = 24 * 60 * 60;
/// Spotify's access tokens live an hour; a receiver never believes a push's token lives longer.
pub const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;
/// A refresh token lives six months after its sign-in.
const REFRESH_TOKEN_LIFETIME_SECS: u64 = crate::auth::token::REFRESH_TOKEN_LIFETIME_SECS;

/// The body of `POST /api/tokens`: the one definition the app sends and the sink parses.
///
/// Unknown fields are rejected and `prev_refresh_sha256` must be present (`null` after a sign-in).
/// `Debug` is safe to print: the token newtypes redact themselves.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPush {
    pub access_token: AccessToken,
    /// Unix seconds at which the access token stops working, by the sender's clock.
    pub expires_at: u64,
    pub refresh_token: RefreshToken,
    /// Space-separated granted scopes.
    pub scope: String,
    /// Unix seconds of the sign-in that started this refresh-token chain, by the sender's clock.
    pub authorized_at: u64,
    /// Lowercase hex SHA-256 of the refresh token that was used to obtain these tokens; `None` (`null`) after a
    /// sign-in. Always serialized, as the sink requires the field to be present.
    #[serde(deserialize_with = "present_but_nullable")]
    pub prev_refresh_sha256: Option<String>,
}

/// A custom deserializer turns off serde's "a missing `Option` is `None`", so the field must be there.
fn present_but_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// Why a body is not a token push. Messages name fields and positions, never a value from the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushParseError {
    #[error("the body is not valid JSON (line {line}, column {column})")]
    MalformedJson { line: usize, column: usize },
    #[error("the body is not a token push: {0}")]
    Invalid(String),
}

const PUSH_FIELDS: [&str; 6] =
    ["access_token", "expires_at", "refresh_token", "scope", "authorized_at", "prev_refresh_sha256"];

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

    /// Parses a request body strictly (unknown, duplicate or missing fields fail; only the object form) and
    /// checks every field's shape. Times are checked separately against the receiver's clock
    /// ([`TokenPush::check_times`]).
    pub fn parse(body: &[u8]) -> Result<Self, PushParseError> {
        // Syntax first, so that "not JSON" and "not a push" are told apart.
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(describe_json_error)?;
        // serde would also take a struct as a JSON array of its fields; only the object form is the contract.
        if body.iter().find(|c| !c.is_ascii_whitespace()) != Some(&b'{') {
            return Err(invalid("body must be a JSON object"));
        }
        let push: Self = serde_json::from_slice(body).map_err(describe_json_error)?;
        push.check_shapes()?;
        Ok(push)
    }

    fn check_shapes(&self) -> Result<(), PushParseError> {
        check_token("access_token", self.access_token.secret())?;
        check_token("refresh_token", self.refresh_token.secret())?;
        if self.scope.len() > MAX_SCOPE_CHARS || !self.scope.bytes().all(|c| c == b' ' || c.is_ascii_graphic()) {
            return Err(invalid("scope must be space-separated scope names"));
        }
        if let Some(prev) = &self.prev_refresh_sha256 {
            if !is_sha256_hex(prev) {
                return Err(invalid("prev_refresh_sha256 must be 64 lowercase hex digits or null"));
            }
        }
        Ok(())
    }

    /// Checks the sender's times against the receiver's clock `now`: skew of hours is fine (the receiver's clock
    /// decides order and freshness), days is absurd. `authorized_at` may not be after `expires_at` (both come
    /// from one clock) nor older than a refresh token can live.
    pub fn check_times(&self, now: u64) -> Result<(), PushParseError> {
        let earliest = now.saturating_sub(MAX_CLOCK_SKEW_SECS);
        let latest = now.saturating_add(MAX_CLOCK_SKEW_SECS + ACCESS_TOKEN_LIFETIME_SECS);
        if !(earliest..=latest).contains(&self.expires_at) {
            return Err(invalid("expires_at is more than a day away from the sink's clock"));
        }
        if self.authorized_at == 0 || self.authorized_at > self.expires_at {
            return Err(invalid("authorized_at must be unix seconds, not after expires_at"));
        }
        if self.authorized_at < earliest.saturating_sub(REFRESH_TOKEN_LIFETIME_SECS) {
            return Err(invalid("authorized_at is older than a refresh token lives"));
        }
        Ok(())
    }

    /// Lowercase hex SHA-256 of the pushed refresh token.
    pub fn rt_sha256(&self) -> String {
        self.refresh_token.sha256_hex()
    }

    /// When the access token stops working by the receiver's clock `now`: the sender's `expires_at`, but never
    /// in the past (the receiver just saw it work) and never beyond one access-token lifetime from `now`. A
    /// sender whose clock runs hours fast or slow cannot make a dead token look fresh, or a fresh one dead.
    pub fn expires_at_by(&self, now: u64) -> u64 {
        self.expires_at.clamp(now, now.saturating_add(ACCESS_TOKEN_LIFETIME_SECS))
    }
}

fn invalid(message: &str) -> PushParseError {
    PushParseError::Invalid(message.to_owned())
}

fn check_token(name: &str, value: &str) -> Result<(), PushParseError> {
    if value.is_empty() {
        return Err(PushParseError::Invalid(format!("{name} is empty")));
    }
    // Tokens travel in an Authorization header: visible ASCII only.
    if value.len() > MAX_TOKEN_CHARS || !value.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(PushParseError::Invalid(format!(
            "{name} must be at most {MAX_TOKEN_CHARS} visible ASCII characters"
        )));
    }
    Ok(())
}

/// serde_json's data errors quote offending values and unknown keys (`invalid type: string "..."`,
/// ``unknown field `...` ``), either of which could be a token; keep only our own field names and positions.
fn describe_json_error(error: serde_json::Error) -> PushParseError {
    use serde_json::error::Category;
    let (line, column) = (error.line(), error.column());
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => PushParseError::MalformedJson { line, column },
        Category::Data => {
            let text = error.to_string();
            if text.starts_with("unknown field `") {
                return invalid("the body has a field that is not part of a token push");
            }
            let field_error = ["missing field `", "duplicate field `"].iter().find_map(|prefix| {
                let name = text.strip_prefix(prefix)?.split('`').next()?;
                let known = PUSH_FIELDS.iter().find(|f| **f == name)?;
                Some(format!("{} `{known}`", prefix.trim_end_matches(" `")))
            });
            PushParseError::Invalid(
                field_error.unwrap_or_else(|| format!("a value has the wrong type (line {line}, column {column})")),
            )
        }
    }
}

/// `POST {push_url}` with the push as JSON and `x-amz-content-sha256: hex(SHA-256(body))`.
///
/// In production CloudFront signs the origin request with SigV4, and Lambda function URLs need the payload hash
/// of a signed POST from the client
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html>);
/// the sink also checks it against the body itself.
pub fn push_request(push_url: &PushUrl, push: &TokenPush) -> http::Request<String> {
    // Serializing plain strings and numbers cannot fail.
    let body = serde_json::to_string(push).unwrap_or_default();
    let mut request = http::Request::new(String::new());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = push_url.uri().clone();
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
    /// No answer, an answer that is not the sink's own (a CDN or Lambda error page), 408, 429, 5xx, or a sink
    /// error that is not about this push: try again later, no sooner than `retry_after` seconds when given.
    Retry { retry_after: Option<u64>, reason: String },
    /// The sink could not use the push's access token (expired or refused by Spotify, e.g. after an outage
    /// longer than a token lives): send the same chain again with a fresh access token.
    Stale { reason: String },
    /// The sink does not store this Spotify account: nothing this sign-in pushes will ever be stored.
    NotAllowed,
    /// The sink's own definite refusal of this exact push: drop it and say why.
    Rejected { status: u16, reason: String },
}

/// Longest part of a sink message shown to the user.
const REASON_MAX_CHARS: usize = 160;

/// Classifies an attempt: `status` is `None` when no HTTP response arrived (network down, DNS, CORS).
///
/// A refusal counts only when it is the sink's own JSON (`{"error":"code","message":"..."}`) with a code that
/// refuses this push; anything else could be a proxy, a cold start or an outage, and a legitimate token is
/// never dropped for that. The sink's message never contains a token (the sink never echoes one) and is shortened
/// for display.
pub fn classify(status: Option<u16>, body: &str, retry_after: Option<u64>) -> PushOutcome {
    let Some(status) = status else {
        return PushOutcome::Retry { retry_after: None, reason: "the sync service is unreachable".into() };
    };
    if (200..=299).contains(&status) {
        return PushOutcome::Delivered;
    }
    let retry = |reason: String| PushOutcome::Retry { retry_after, reason };
    let Some((code, message)) = sink_error(body) else {
        return retry(match status {
            429 => "the sync service is busy".into(),
            503 => "the sync service is unavailable".into(),
            _ => format!("the sync service answered {status}"),
        });
    };
    match code.as_str() {
        "access_token_expired" | "access_token_rejected" => {
            PushOutcome::Stale { reason: "the sync service needs a fresh access token".into() }
        }
        "user_not_allowed" => PushOutcome::NotAllowed,
        "conflict" if status == 409 => PushOutcome::Rejected { status, reason: "a newer sign-in is stored".into() },
        "invalid_push" | "malformed_json" | "payload_too_large" | "unsupported_media_type"
        | "missing_payload_hash" | "malformed_payload_hash" | "payload_hash_mismatch"
            if (400..=499).contains(&status) =>
        {
            PushOutcome::Rejected { status, reason: format!("{} ({status})", shorten(&message)) }
        }
        _ => retry(match status {
            429 => "the sync service is busy".into(),
            503 => "the sync service is unavailable".into(),
            _ => format!("the sync service answered {status}"),
        }),
    }
}

/// `(code, message)` when `body` is the sink's own error shape.
fn sink_error(body: &str) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let code = value.get("error")?.as_str()?.to_owned();
    let message = value.get("message")?.as_str()?.to_owned();
    Some((code, message))
}

fn shorten(message: &str) -> String {
    let short: String = message.chars().filter(|c| !c.is_control()).take(REASON_MAX_CHARS).collect();
    if short.trim().is_empty() {
        "the sync service refused it".into()
    } else {
        short
    }
}

/// A queued push whose access token has less than this left is sent with a fresh one instead.
pub const FRESH_TOKEN_MARGIN_SECS: u64 = 30;

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
    /// The sink could not use this push's access token: the next attempt needs a fresh one, so the app refreshes
    /// first (which queues a newer push of the same chain in this entry's place).
    #[serde(default)]
    pub stale: bool,
}

/// How the last push ended, shown until the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LastPush {
    Synced { at: u64 },
    Failed { at: u64, reason: String },
    /// The sink does not store this account: this sign-in pushes nothing more.
    NotStored { at: u64 },
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
    ///
    /// After the sink said it does not store the account, refreshes of that sign-in queue nothing; a new
    /// sign-in (whose `prev_refresh_sha256` is `null`) is asked about afresh.
    pub fn enqueue(&mut self, mut push: TokenPush, now: u64) {
        if !self.pushes() {
            if push.prev_refresh_sha256.is_some() {
                return;
            }
            self.last = None;
        }
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
            Some(OutboxEntry { id, push, attempts: 0, next_attempt_at: now, last_error: None, fallback_prev, stale: false });
    }

    /// The pending entry if an attempt is due at `now`.
    pub fn due(&self, now: u64) -> Option<&OutboxEntry> {
        self.pending.as_ref().filter(|e| e.next_attempt_at <= now)
    }

    /// Whether the due entry must wait for fresh tokens before it is sent at `now`: the sink said its access
    /// token is unusable, or it has expired (a push queued through an outage longer than a token lives). The
    /// app then refreshes (forced when `Some(true)`: the sink saw the token fail even if this clock disagrees);
    /// the token-changed hook queues the refreshed push of the same chain in this entry's place.
    pub fn needs_fresh_token(&self, now: u64) -> Option<bool> {
        let e = self.due(now)?;
        if e.stale {
            Some(true)
        } else if e.push.expires_at <= now.saturating_add(FRESH_TOKEN_MARGIN_SECS) {
            Some(false)
        } else {
            None
        }
    }

    /// Brings the pending push's access token up to `current`, the tab's tokens, when they continue the same
    /// refresh-token chain with a newer access token (adopted from another tab, so no push of its own was queued
    /// here). Returns whether it changed; the chain fields (`prev_refresh_sha256`, fallback) are kept.
    pub fn adopt_access_token(&mut self, current: &TokenSet) -> bool {
        let Some(e) = self.pending.as_mut() else { return false };
        let same_chain = current.refresh_token.as_ref().is_some_and(|rt| rt.sha256_hex() == e.push.rt_sha256());
        if !same_chain || current.expires_at <= e.push.expires_at {
            return false;
        }
        e.push.access_token = current.access_token.clone();
        e.push.expires_at = current.expires_at;
        e.stale = false;
        true
    }

    /// Whether this sign-in still pushes: not after the sink said it does not store the account.
    pub fn pushes(&self) -> bool {
        !matches!(self.last, Some(LastPush::NotStored { .. }))
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
            PushOutcome::Stale { reason } => {
                if let Some(e) = self.pending.as_mut() {
                    e.attempts = e.attempts.saturating_add(1);
                    e.next_attempt_at = now.saturating_add(backoff_secs(e.attempts, jitter, None));
                    e.last_error = Some(reason);
                    e.stale = true;
                }
            }
            PushOutcome::NotAllowed => {
                self.pending = None;
                self.last = Some(LastPush::NotStored { at: now });
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
            (None, Some(LastPush::NotStored { .. })) => SyncStatus::NotStored,
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
    /// The sink does not store this account; nothing is sent.
    NotStored,
}

impl std::fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncStatus::Idle => Ok(()),
            SyncStatus::Synced => f.write_str("credentials synced"),
            SyncStatus::Sending => f.write_str("sync pending"),
            SyncStatus::Retrying { in_secs, .. } => write!(f, "sync pending, retrying in {in_secs} s"),
            SyncStatus::Failed(reason) => write!(f, "sync failed: {reason}"),
            SyncStatus::NotStored => f.write_str("this account is not stored by this site"),
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
        let req = push_request(&PushUrl::parse("/api/tokens").expect("valid"), &p);
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/api/tokens");
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(req.body(), &serde_json::to_string(&p).expect("json"));
        let expected = sha256_hex(req.body().as_bytes());
        assert_eq!(req.headers()["x-amz-content-sha256"], expected.as_str());
        assert_eq!(expected.len(), 64);
        let absolute = push_request(&PushUrl::parse("https://setlist.example/api/tokens").expect("valid"), &p);
        assert_eq!(absolute.uri().host(), Some("setlist.example"));
        // No token in the request's Debug either.
        assert!(!format!("{:?}", req.headers()).contains("secret"));
    }

    #[test]
    fn sha256_hex_known_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    fn sink(code: &str, message: &str) -> String {
        serde_json::json!({ "error": code, "message": message }).to_string()
    }

    const CONFLICT: &str = r#"{"error":"conflict","message":"the stored tokens belong to another chain","generation":4}"#;

    #[test]
    fn classification_table() {
        let retry = |s: Option<u16>, body: &str| matches!(classify(s, body, None), PushOutcome::Retry { .. });
        for s in [200, 201, 204, 299] {
            assert_eq!(classify(Some(s), "{}", None), PushOutcome::Delivered, "{s}");
        }
        assert!(retry(None, ""));
        // Anything that is not the sink's own JSON is retried: a CDN page, a Lambda error, an empty body.
        for s in [400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500, 502, 503, 504, 599, 300, 100] {
            assert!(retry(Some(s), ""), "{s}");
            assert!(retry(Some(s), "<html><body>403 ERROR</body></html>"), "{s}");
            assert!(retry(Some(s), r#"{"message":"Internal Server Error"}"#), "{s}");
        }
        // The sink's errors that are not about this push are retried too.
        for (s, code) in [(503, "spotify_unavailable"), (503, "store_busy"), (503, "store_unavailable"), (429, "too_many_sign_ins"), (403, "something_new")] {
            assert!(retry(Some(s), &sink(code, "later")), "{s} {code}");
        }
        assert_eq!(
            classify(Some(503), &sink("spotify_unavailable", "x"), Some(7)),
            PushOutcome::Retry { retry_after: Some(7), reason: "the sync service is unavailable".into() }
        );
        // A token the sink could not use: the chain is sent again with a fresh one.
        for code in ["access_token_expired", "access_token_rejected"] {
            assert!(matches!(classify(Some(403), &sink(code, "x"), None), PushOutcome::Stale { .. }), "{code}");
        }
        assert_eq!(classify(Some(403), &sink("user_not_allowed", "user x may not push"), None), PushOutcome::NotAllowed);
        // Definite refusals of this exact push.
        assert_eq!(
            classify(Some(409), CONFLICT, None),
            PushOutcome::Rejected { status: 409, reason: "a newer sign-in is stored".into() }
        );
        for (s, code) in [(400, "invalid_push"), (400, "malformed_json"), (413, "payload_too_large"), (415, "unsupported_media_type"), (400, "payload_hash_mismatch")] {
            assert!(matches!(classify(Some(s), &sink(code, "m"), None), PushOutcome::Rejected { .. }), "{code}");
        }
        assert_eq!(
            classify(Some(400), &sink("invalid_push", "the body is not a token push: scope"), None),
            PushOutcome::Rejected { status: 400, reason: "the body is not a token push: scope (400)".into() }
        );
        let long = sink("invalid_push", &"m".repeat(1000));
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
        ob.record(id, classify(Some(400), &sink("invalid_push", "not a push"), None), 2, 0);
        assert!(ob.pending.is_none());
        assert_eq!(ob.status(3).to_string(), "sync failed: not a push (400)");
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
        assert!(ob.record(e.id, classify(Some(409), CONFLICT, None), 21, 0));
        let e = ob.pending.clone().expect("retried, not dropped");
        assert_eq!(e.push.prev_refresh_sha256, Some(hash("r1")));
        assert_eq!(e.fallback_prev, None);
        assert!(ob.due(21).is_some());
        // A second 409 is final.
        ob.record(e.id, classify(Some(409), CONFLICT, None), 22, 0);
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
    fn an_outage_longer_than_a_token_lives_keeps_the_push() {
        // Queued at 1_000 with a token expiring at 4_600; the sink is down for three hours.
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", Some("r0")), 1_000);
        let mut now = 1_000;
        while now < 1_000 + 3 * 3600 {
            let id = ob.due(now).map(|e| e.id);
            if let Some(id) = id {
                assert!(ob.record(id, classify(Some(502), "<html>Bad gateway</html>", None), now, u32::MAX));
            }
            now += 60;
        }
        let e = ob.pending.clone().expect("never dropped");
        assert!(e.attempts > 10, "{}", e.attempts);
        // Once due, its token is known to be dead: the app refreshes before sending (not forced: it is expired).
        let due_at = e.next_attempt_at;
        assert_eq!(ob.needs_fresh_token(due_at), Some(false));
        // The refresh queues the same chain's newer push in its place, still continuing from r0.
        let mut refreshed = push("a2", "r2", Some("r1"));
        refreshed.expires_at = due_at + 3600;
        ob.enqueue(refreshed, due_at);
        let e = ob.pending.clone().expect("pending");
        assert_eq!(e.push.prev_refresh_sha256, Some(hash("r0")));
        assert_eq!(ob.needs_fresh_token(due_at), None, "a fresh token goes out as it is");
    }

    #[test]
    fn a_stale_token_answer_asks_for_a_forced_refresh_and_keeps_the_chain() {
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", Some("r0")), 1_000);
        let id = ob.pending.as_ref().expect("pending").id;
        assert_eq!(ob.needs_fresh_token(1_000), None);
        let expired = serde_json::json!({"error": "access_token_expired", "message": "the access token has expired"}).to_string();
        assert!(ob.record(id, classify(Some(403), &expired, None), 1_001, 0));
        let e = ob.pending.clone().expect("kept");
        assert!(e.stale);
        assert_eq!(ob.needs_fresh_token(e.next_attempt_at), Some(true));
        assert_eq!(e.push.prev_refresh_sha256, Some(hash("r0")));
        ob.enqueue(push("a2", "r1", Some("r1")), 1_010);
        assert!(!ob.pending.as_ref().expect("pending").stale, "the new entry starts clean");
    }

    #[test]
    fn a_newer_access_token_of_the_same_chain_is_adopted() {
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", Some("r0")), 1_000);
        let id = ob.pending.as_ref().expect("pending").id;
        let stale = serde_json::json!({"error": "access_token_rejected", "message": "x"}).to_string();
        ob.record(id, classify(Some(403), &stale, None), 1_001, 0);
        // Another tab refreshed without rotation: same refresh token, newer access token.
        let mut current = tokens("a2", Some("r1"));
        current.expires_at = 9_000;
        assert!(ob.adopt_access_token(&current));
        let e = ob.pending.clone().expect("pending");
        assert_eq!((e.push.access_token.secret(), e.push.expires_at, e.stale), ("a2", 9_000, false));
        assert_eq!(e.push.prev_refresh_sha256, Some(hash("r0")), "the chain is kept");
        // Not older tokens, and never another chain's.
        assert!(!ob.adopt_access_token(&current));
        let mut other = tokens("b1", Some("s1"));
        other.expires_at = 10_000;
        assert!(!ob.adopt_access_token(&other));
    }

    #[test]
    fn an_account_the_sink_does_not_store_stops_this_sign_in_pushing() {
        let mut ob = Outbox::default();
        ob.enqueue(push("a1", "r1", None), 10);
        let id = ob.pending.as_ref().expect("pending").id;
        let refused = serde_json::json!({"error": "user_not_allowed", "message": "user x may not push tokens here"}).to_string();
        assert!(ob.record(id, classify(Some(403), &refused, None), 11, 0));
        assert!(ob.pending.is_none());
        assert!(!ob.pushes());
        assert_eq!(ob.status(12), SyncStatus::NotStored);
        assert_eq!(ob.status(12).to_string(), "this account is not stored by this site");
        // Refreshes of the same sign-in queue nothing.
        ob.enqueue(push("a2", "r1", Some("r1")), 20);
        assert!(ob.pending.is_none());
        // A new sign-in is asked about again.
        ob.enqueue(push("b1", "s1", None), 30);
        assert!(ob.pending.is_some());
        assert_eq!(ob.status(30), SyncStatus::Sending);
    }

    fn body(overrides: serde_json::Value) -> Vec<u8> {
        let mut value = serde_json::json!({
            "access_token": "at-1",
            "expires_at": 1_800_003_600u64,
            "refresh_token": "rt-1",
            "scope": "user-read-private playlist-read-private",
            "authorized_at": 1_800_000_000u64,
            "prev_refresh_sha256": null,
        });
        if let (Some(base), Some(extra)) = (value.as_object_mut(), overrides.as_object()) {
            for (key, field) in extra {
                base.insert(key.clone(), field.clone());
            }
        }
        serde_json::to_vec(&value).expect("json")
    }

    fn rejected(bytes: &[u8]) -> String {
        match TokenPush::parse(bytes) {
            Ok(_) => panic!("accepted {}", String::from_utf8_lossy(bytes)),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn parse_is_strict_and_never_quotes_a_value() {
        let p = TokenPush::parse(&body(serde_json::json!({}))).expect("valid");
        assert_eq!(p.access_token.secret(), "at-1");
        assert_eq!(p.prev_refresh_sha256, None);
        let mut missing: serde_json::Value = serde_json::from_slice(&body(serde_json::json!({}))).expect("json");
        missing.as_object_mut().expect("object").remove("prev_refresh_sha256");
        assert!(rejected(&serde_json::to_vec(&missing).expect("json")).contains("missing field `prev_refresh_sha256`"));
        // An unknown key is refused without being quoted: it could be a token pasted as a key.
        let message = rejected(&body(serde_json::json!({ "BQD-SECRET-KEY": 1 })));
        assert!(!message.contains("SECRET"), "{message}");
        let duplicate = br#"{"access_token":"a","access_token":"b","expires_at":1,"refresh_token":"r","scope":"","authorized_at":1,"prev_refresh_sha256":null}"#;
        assert!(rejected(duplicate).contains("duplicate field `access_token`"));
        for (field, value) in [("expires_at", serde_json::json!("SECRET-VALUE")), ("scope", serde_json::json!("SECRET\u{1}VALUE"))] {
            let message = rejected(&body(serde_json::json!({ field: value })));
            assert!(!message.contains("SECRET"), "{message}");
        }
        assert!(rejected(&body(serde_json::json!({ "access_token": "" }))).contains("access_token is empty"));
        assert!(rejected(&body(serde_json::json!({ "access_token": "a b" }))).contains("access_token"));
        assert!(rejected(&body(serde_json::json!({ "prev_refresh_sha256": "abc" }))).contains("prev_refresh_sha256"));
        assert!(rejected(&body(serde_json::json!({ "expires_at": -5 }))).contains("wrong type"));
        assert!(rejected(b"{\"access_token\":").contains("not valid JSON"));
        assert!(rejected(b"[]").contains("JSON object"));
    }

    #[test]
    fn the_receivers_clock_judges_times() {
        let now = 1_800_000_000;
        let at = |expires_at: u64, authorized_at: u64| {
            TokenPush::parse(&body(serde_json::json!({ "expires_at": expires_at, "authorized_at": authorized_at })))
                .expect("shape")
                .check_times(now)
        };
        // Hours of skew either way are fine.
        assert!(at(now + 3600 + 3 * 3600, now + 3 * 3600).is_ok(), "3 h fast");
        assert!(at(now + 3600 - 3 * 3600, now - 3 * 3600).is_ok(), "3 h slow");
        // Days are absurd, and say so.
        let far = at(now + 3 * 86_400, now).expect_err("3 days ahead");
        assert!(far.to_string().contains("expires_at"), "{far}");
        assert!(at(now - 2 * 86_400, now - 3 * 86_400).is_err(), "2 days behind");
        assert!(at(now + 3600, now + 7200).is_err(), "authorized after expiry");
        assert!(at(now + 3600, 1).is_err(), "authorized before a refresh token can live");
        // Freshness by the receiver's clock.
        let p = TokenPush::parse(&body(serde_json::json!({ "expires_at": now + 4 * 3600 }))).expect("shape");
        assert_eq!(p.expires_at_by(now), now + ACCESS_TOKEN_LIFETIME_SECS, "a fast clock cannot extend a token");
        let p = TokenPush::parse(&body(serde_json::json!({ "expires_at": now - 3600, "authorized_at": now - 7200 }))).expect("shape");
        assert_eq!(p.expires_at_by(now), now, "a slow clock does not make a working token look long dead");
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
