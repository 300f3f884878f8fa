//! Fault injection for recorded routes, set through `/__control/faults` and `/__control/rate_limit`: what real
//! Spotify does to a client on a bad day. Added latency, an error status (with or without CORS headers, the latter
//! showing up in a browser as an opaque network error), a dropped connection, a body that trickles in, revoked
//! tokens, and a rolling-window rate limiter
//! ([Spotify: rate limits](https://developer.spotify.com/documentation/web-api/concepts/rate-limits)).
//!
//! Each rule names a route pattern as the request log shows it (`"GET /v1/playlists/{id}/items"`; any `{name}`
//! matches any other `{name}`, the method may be left out) or `"*"`, and applies to the next `count` matching
//! requests, or until cleared. The first matching rule wins. Preflights (`OPTIONS`) are never faulted.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::web_api::ApiError;
use crate::StandIn;

/// Longest added latency or body trickle: more would only make a test hang.
pub(crate) const MAX_DELAY_MS: u64 = 60_000;
/// Largest `Retry-After` a rule may carry (a day; Spotify has been seen answering hours).
pub(crate) const MAX_RETRY_AFTER_SECS: u64 = 86_400;
/// How many pieces a slow body is sent in.
const SLOW_BODY_CHUNKS: usize = 8;

/// Marks a response that a fault produced or changed; the request log records its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Applied(pub(crate) &'static str);

/// What a rule does to a matching request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Kind {
    /// Waits `latency_ms`, then answers normally.
    Latency { latency_ms: u64 },
    /// Answers `status` with a Web API error body (and `Retry-After` when given) without reaching the handler.
    Status {
        status: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// As `Status`, but without CORS headers: a browser sees a network error.
    StatusNoCors {
        status: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// Closes the connection without an answer; the request is not handled.
    Drop,
    /// Handles the request (a write is applied), then closes the connection without the answer: the client
    /// cannot tell this from [`Kind::Drop`].
    DropAfter,
    /// Answers normally, but the body arrives in pieces spread over `latency_ms`.
    SlowBody { latency_ms: u64 },
    /// Revokes every access and refresh token, then handles the request (which then fails as revoked).
    RevokeTokens,
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Latency { .. } => "latency",
            Kind::Status { .. } => "status",
            Kind::StatusNoCors { .. } => "status_no_cors",
            Kind::Drop => "drop",
            Kind::DropAfter => "drop_after",
            Kind::SlowBody { .. } => "slow_body",
            Kind::RevokeTokens => "revoke_tokens",
        }
    }
}

/// One installed rule.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Rule {
    pub(crate) id: u64,
    /// As given: `"*"`, `"/v1/me"` or `"GET /v1/me"`.
    pub(crate) route: String,
    #[serde(flatten)]
    pub(crate) kind: Kind,
    /// Matching requests still to fault; `null` until cleared.
    pub(crate) remaining: Option<u64>,
}

impl Rule {
    fn matches(&self, method: &str, route: Option<&str>, path: &str) -> bool {
        if self.route == "*" {
            return true;
        }
        let (want_method, want_route) = match self.route.split_once(' ') {
            Some((m, r)) => (Some(m), r.trim()),
            None => (None, self.route.as_str()),
        };
        if want_method.is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
            return false;
        }
        normalize(want_route) == normalize(route.unwrap_or(path))
    }
}

/// `{anything}` segments become `{}` so that `{id}` matches the router's `{playlist_id}`.
fn normalize(route: &str) -> String {
    route
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `POST /__control/faults`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleRequest {
    route: String,
    kind: String,
    status: Option<u16>,
    retry_after: Option<u64>,
    latency_ms: Option<u64>,
    count: Option<u64>,
}

impl RuleRequest {
    /// The rule this asks for, or a sentence saying what is wrong with it.
    pub(crate) fn into_rule(self, id: u64) -> Result<Rule, String> {
        let route = self.route.trim().to_owned();
        if route.is_empty() {
            return Err("route is \"*\" or a pattern such as \"GET /v1/me\"".to_owned());
        }
        if self.count == Some(0) {
            return Err("count is at least 1 (leave it out for \"until cleared\")".to_owned());
        }
        if self
            .retry_after
            .is_some_and(|secs| secs > MAX_RETRY_AFTER_SECS)
        {
            return Err(format!("retry_after is at most {MAX_RETRY_AFTER_SECS}"));
        }
        let latency_ms = || -> Result<u64, String> {
            match self.latency_ms {
                Some(ms) if ms <= MAX_DELAY_MS => Ok(ms),
                Some(_) => Err(format!("latency_ms is at most {MAX_DELAY_MS}")),
                None => Err(format!("{} needs latency_ms", self.kind)),
            }
        };
        let status = || -> Result<u16, String> {
            match self.status {
                Some(s @ (429 | 500 | 502 | 503 | 504)) => Ok(s),
                Some(s) => Err(format!("status {s} is not one of 429, 500, 502, 503, 504")),
                None => Err(format!("{} needs status", self.kind)),
            }
        };
        let kind = match self.kind.as_str() {
            "latency" => Kind::Latency {
                latency_ms: latency_ms()?,
            },
            "status" => Kind::Status {
                status: status()?,
                retry_after: self.retry_after,
            },
            "status_no_cors" => Kind::StatusNoCors {
                status: status()?,
                retry_after: self.retry_after,
            },
            "drop" => Kind::Drop,
            "drop_after" => Kind::DropAfter,
            "slow_body" => Kind::SlowBody {
                latency_ms: latency_ms()?,
            },
            "revoke_tokens" => Kind::RevokeTokens,
            other => {
                return Err(format!(
                    "unknown kind {other:?}: latency, status, status_no_cors, drop, drop_after, slow_body, revoke_tokens"
                ))
            }
        };
        Ok(Rule {
            id,
            route,
            kind,
            remaining: self.count,
        })
    }
}

/// The rolling-window limiter's settings.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub(crate) window_secs: u64,
    pub(crate) max_requests: u64,
}

/// Installed rules and the rate limiter's state.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<Rule>,
    next_id: u64,
    rate_limit: Option<RateLimit>,
    /// Per client (its `Authorization` header, or `""`), the stand-in times (ms) of the requests in the window.
    windows: HashMap<String, VecDeque<i64>>,
}

impl Faults {
    pub(crate) fn add(&mut self, request: RuleRequest) -> Result<Rule, String> {
        self.next_id += 1;
        let rule = request.into_rule(self.next_id)?;
        self.rules.push(rule.clone());
        Ok(rule)
    }

    pub(crate) fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    /// Switches the limiter; any change starts every window afresh.
    pub(crate) fn set_rate_limit(&mut self, limit: Option<RateLimit>) {
        self.rate_limit = limit;
        self.windows.clear();
    }

    /// The first rule matching the request, counted as used.
    fn take(&mut self, method: &str, route: Option<&str>, path: &str) -> Option<Kind> {
        let index = self
            .rules
            .iter()
            .position(|rule| rule.matches(method, route, path))?;
        let rule = &mut self.rules[index];
        let kind = rule.kind.clone();
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining -= 1;
            if *remaining == 0 {
                self.rules.remove(index);
            }
        }
        Some(kind)
    }

    /// Counts a request from `client` at `now_ms`; `Err(retry_after_secs)` when its window is full (the request is
    /// then not counted). `Retry-After` is the time until the oldest request in the window leaves it, rounded up
    /// to whole seconds as the header carries it: a client that waits exactly that long is admitted.
    fn admit(&mut self, client: &str, now_ms: i64) -> Result<(), u64> {
        let Some(limit) = self.rate_limit else {
            return Ok(());
        };
        let window = i64::try_from(limit.window_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        let times = self.windows.entry(client.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|&at| at.saturating_add(window) <= now_ms)
        {
            times.pop_front();
        }
        if (times.len() as u64) < limit.max_requests {
            times.push_back(now_ms);
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now_ms);
        let wait_ms = oldest.saturating_add(window).saturating_sub(now_ms).max(1);
        let secs = (wait_ms + 999) / 1000;
        Err(u64::try_from(secs).unwrap_or(1))
    }
}

/// Middleware for recorded routes, inside the request log: applies the first matching rule, then the rate limiter
/// (Web API only).
pub(crate) async fn apply(
    State(stand_in): State<StandIn>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == axum::http::Method::OPTIONS {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let route = crate::log::route_of(&request);
    let client = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (kind, admitted) = {
        let mut inner = stand_in.lock();
        let kind = inner.faults.take(&method, route.as_deref(), &path);
        let now_ms = inner.clock.now_ms();
        let admitted = if kind.is_none() && path.starts_with("/v1/") {
            inner.faults.admit(&client, now_ms)
        } else {
            Ok(())
        };
        if kind == Some(Kind::RevokeTokens) {
            inner.access_tokens.clear();
            inner.refresh_tokens.clear();
        }
        (kind, admitted)
    };
    if let Err(retry_after) = admitted {
        let mut response = error_response(429, Some(retry_after), true);
        response.extensions_mut().insert(Applied("rate_limit"));
        return response;
    }
    let Some(kind) = kind else {
        return next.run(request).await;
    };
    let mut response = match &kind {
        Kind::Latency { latency_ms } => {
            tokio::time::sleep(Duration::from_millis(*latency_ms)).await;
            next.run(request).await
        }
        Kind::Status {
            status,
            retry_after,
        } => error_response(*status, *retry_after, true),
        Kind::StatusNoCors {
            status,
            retry_after,
        } => error_response(*status, *retry_after, false),
        Kind::Drop => dropped(),
        Kind::DropAfter => {
            let _applied = next.run(request).await;
            dropped()
        }
        Kind::SlowBody { latency_ms } => {
            let response = next.run(request).await;
            trickle(response, *latency_ms).await
        }
        Kind::RevokeTokens => next.run(request).await,
    };
    response.extensions_mut().insert(Applied(kind.name()));
    response
}

/// A Web API error as Spotify shapes it, with `Retry-After` when given and CORS headers when asked.
fn error_response(status: u16, retry_after: Option<u64>, cors: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let message = match status.as_u16() {
        429 => "API rate limit exceeded",
        502 => "Bad gateway.",
        503 => "Service unavailable",
        _ => "Server error.",
    };
    let mut response = ApiError::new(status, message).into_response();
    let headers = response.headers_mut();
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if cors {
        // The handler's CORS layer is not reached; answer as it would for a simple request.
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    response
}

/// A response whose body fails at once: hyper then closes the connection without sending anything.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault: connection dropped",
        ))
    });
    // 502 in the log's eyes; the client never sees a status.
    (StatusCode::BAD_GATEWAY, Body::from_stream(stream)).into_response()
}

/// The same response, its body sent in pieces with pauses adding up to `latency_ms`.
async fn trickle(response: Response, latency_ms: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => return dropped(),
    };
    let size = bytes.len().div_ceil(SLOW_BODY_CHUNKS).max(1);
    let chunks: VecDeque<Bytes> = (0..bytes.len())
        .step_by(size)
        .map(|start| bytes.slice(start..(start + size).min(bytes.len())))
        .collect();
    let pause = Duration::from_millis(latency_ms / SLOW_BODY_CHUNKS as u64);
    let stream = futures::stream::unfold(chunks, move |mut chunks| async move {
        let chunk = chunks.pop_front()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<_, Infallible>(chunk), chunks))
    });
    // The length is unchanged; keep Content-Length so the client knows when the trickle is over.
    parts.extensions.insert(Applied("slow_body"));
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(route: &str, kind: &str) -> RuleRequest {
        RuleRequest {
            route: route.to_owned(),
            kind: kind.to_owned(),
            status: None,
            retry_after: None,
            latency_ms: None,
            count: None,
        }
    }

    #[test]
    fn patterns_match_by_method_and_any_placeholder() {
        let rule = request("GET /v1/playlists/{id}/items", "drop")
            .into_rule(1)
            .expect("valid");
        let items = Some("/v1/playlists/{playlist_id}/items");
        assert!(rule.matches("GET", items, "/v1/playlists/x/items"));
        assert!(!rule.matches("POST", items, "/v1/playlists/x/items"));
        assert!(!rule.matches(
            "GET",
            Some("/v1/playlists/{playlist_id}"),
            "/v1/playlists/x"
        ));
        let any_method = request("/v1/me", "drop").into_rule(1).expect("valid");
        assert!(any_method.matches("PUT", Some("/v1/me"), "/v1/me"));
        let star = request("*", "drop").into_rule(1).expect("valid");
        assert!(star.matches("GET", None, "/nowhere"));
    }

    #[test]
    fn bad_rules_say_why() {
        assert!(request("*", "status").into_rule(1).is_err());
        assert!(request("*", "latency").into_rule(1).is_err());
        assert!(request("*", "teapot").into_rule(1).is_err());
        assert!(request("", "drop").into_rule(1).is_err());
        let mut zero = request("*", "drop");
        zero.count = Some(0);
        assert!(zero.into_rule(1).is_err());
        let mut teapot = request("*", "status");
        teapot.status = Some(418);
        assert!(teapot.into_rule(1).is_err());
    }

    #[test]
    fn counted_rules_run_out() {
        let mut faults = Faults::default();
        let mut twice = request("*", "drop");
        twice.count = Some(2);
        faults.add(twice).expect("valid");
        assert_eq!(faults.take("GET", None, "/v1/me"), Some(Kind::Drop));
        assert_eq!(faults.take("GET", None, "/v1/me"), Some(Kind::Drop));
        assert_eq!(faults.take("GET", None, "/v1/me"), None);
    }

    #[test]
    fn the_window_rolls() {
        let mut faults = Faults::default();
        faults.set_rate_limit(Some(RateLimit {
            window_secs: 30,
            max_requests: 2,
        }));
        assert_eq!(faults.admit("a", 100_000), Ok(()));
        assert_eq!(faults.admit("a", 110_000), Ok(()));
        assert_eq!(faults.admit("a", 115_000), Err(15));
        // Another client has its own window.
        assert_eq!(faults.admit("b", 115_000), Ok(()));
        assert_eq!(faults.admit("a", 130_000), Ok(()));
        assert_eq!(faults.admit("a", 131_000), Err(9));
        // Retry-After rounds up: waiting exactly that long is admitted, a millisecond less is not.
        assert_eq!(faults.admit("a", 139_600), Err(1));
        assert_eq!(faults.admit("a", 139_999), Err(1));
        assert_eq!(faults.admit("a", 140_000), Ok(()));
    }
}
