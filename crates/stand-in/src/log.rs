//! The request log: one entry per request to the accounts service or the Web API, read by tests through
//! `GET /__control/log`. Entries keep the method, the path without its query, the matched route pattern and the
//! status, never a query string, header or body, so no code or token ends up here or in a tracing line.

use std::collections::{BTreeMap, VecDeque};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::StandIn;

/// Older entries are dropped past this many; counts keep going.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The route pattern that answered (`/v1/me`), `null` when none matched.
    pub(crate) route: Option<String>,
    pub(crate) status: u16,
    /// Unix seconds on the stand-in's clock, when the answer was ready.
    pub(crate) at: i64,
    /// Unix milliseconds on the stand-in's clock, when the request arrived (before any fault or handler ran).
    pub(crate) received_ms: i64,
    /// Unix milliseconds on the stand-in's clock, when the answer was ready (added latency included).
    pub(crate) done_ms: i64,
    /// The answer's `Retry-After` in seconds, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retry_after: Option<u64>,
    /// The injected fault that produced or changed the answer (`"status"`, `"drop"`, `"rate_limit"`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fault: Option<&'static str>,
}

#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<Entry>,
    /// `"METHOD route"` (or `"METHOD path"` when no route matched) to number of requests.
    counts: BTreeMap<String, u64>,
}

impl RequestLog {
    pub(crate) fn push(&mut self, entry: Entry) {
        let key = format!(
            "{} {}",
            entry.method,
            entry.route.as_deref().unwrap_or(&entry.path)
        );
        *self.counts.entry(key).or_default() += 1;
        if self.entries.len() == MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.counts.clear();
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    pub(crate) fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }
}

/// Middleware for recorded routes: traces and logs each request once its response is ready.
pub(crate) async fn record(
    State(stand_in): State<StandIn>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = match request.extensions().get::<crate::SentPath>() {
        Some(sent) => sent.0.clone(),
        None => request.uri().path().to_owned(),
    };
    let route = route_of(&request);
    let received_ms = stand_in.lock().clock.now_ms();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(axum::http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let fault = response
        .extensions()
        .get::<crate::faults::Applied>()
        .map(|applied| applied.0);
    tracing::info!(%method, route = route.as_deref().unwrap_or("(none)"), status, "request");
    let mut inner = stand_in.lock();
    let at = inner.clock.now();
    let done_ms = inner.clock.now_ms();
    inner.log.push(Entry {
        method,
        path,
        route,
        status,
        at,
        received_ms,
        done_ms,
        retry_after,
        fault,
    });
    response
}

/// Middleware for control routes: traced, not recorded, so tests reading the log see only the app's traffic.
pub(crate) async fn trace_only(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = route_of(&request);
    let response = next.run(request).await;
    tracing::debug!(%method, route = route.as_deref().unwrap_or("(none)"), status = response.status().as_u16(), "control request");
    response
}

pub(crate) fn route_of(request: &Request) -> Option<String> {
    let matched = request.extensions().get::<MatchedPath>()?.as_str();
    // A nested router's fallback matches through axum's private catch-all: that is "no route", not a pattern.
    (!matched.contains("__private__")).then(|| matched.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, path: &str, route: Option<&str>) -> Entry {
        Entry {
            method: method.into(),
            path: path.into(),
            route: route.map(Into::into),
            status: 200,
            at: 0,
            received_ms: 0,
            done_ms: 0,
            retry_after: None,
            fault: None,
        }
    }

    #[test]
    fn counts_by_route_or_path() {
        let mut log = RequestLog::default();
        log.push(entry("GET", "/v1/me", Some("/v1/me")));
        log.push(entry("GET", "/v1/me", Some("/v1/me")));
        log.push(entry("GET", "/nowhere", None));
        assert_eq!(log.counts().get("GET /v1/me"), Some(&2));
        assert_eq!(log.counts().get("GET /nowhere"), Some(&1));
        log.clear();
        assert_eq!(log.entries().count(), 0);
        assert!(log.counts().is_empty());
    }

    #[test]
    fn keeps_the_newest_entries() {
        let mut log = RequestLog::default();
        for _ in 0..MAX_ENTRIES {
            log.push(entry("GET", "/old", None));
        }
        log.push(entry("GET", "/new", None));
        assert_eq!(log.entries().count(), MAX_ENTRIES);
        assert_eq!(log.entries().last().map(|e| e.path.as_str()), Some("/new"));
        assert_eq!(log.counts().get("GET /old"), Some(&(MAX_ENTRIES as u64)));
    }
}
