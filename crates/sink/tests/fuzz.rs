//! Property-based fuzzing of the sink's request parsing: `TokenPush::parse` directly, and the whole
//! `POST /api/tokens` through `app(state)` with `oneshot` and arbitrary bodies and headers. Nothing may panic,
//! no answer may echo a pushed token, and nothing is ever written (Spotify is unreachable, so no push verifies).
//!
//! `cargo test` runs proptest's default number of cases; a long run is
//! `PROPTEST_CASES=20000 cargo test -p setlist-sink --test fuzz`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt as _;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use setlist_sink::{app, sha256_hex, Config, FileStore, ManualClock, SinkState, TokenPush};
use tower::ServiceExt as _;

const NOW: u64 = 1_800_000_000;
const FIELDS: &[&str] = &[
    "access_token",
    "expires_at",
    "refresh_token",
    "scope",
    "authorized_at",
    "prev_refresh_sha256",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (NOW - 100_000..NOW + 200_000).prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "[0-9a-f]{64}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(("[a-z_]{0,8}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{40,120}"
}

/// A push-shaped object carrying `access` and `refresh`, with fields dropped, replaced or added.
fn push_body() -> impl Strategy<Value = (Vec<u8>, String, String)> {
    (
        secret(),
        secret(),
        proptest::collection::vec((proptest::sample::select(FIELDS), json_value()), 0..2),
        proptest::collection::vec(proptest::sample::select(FIELDS), 0..2),
        proptest::option::of(("[a-z_]{1,10}", json_value())),
        any::<prop::sample::Index>(),
        0u8..8,
    )
        .prop_map(|(access, refresh, replace, drop, add, cut, mangle)| {
            let mut object = json!({
                "access_token": access,
                "expires_at": NOW + 3600,
                "refresh_token": refresh,
                "scope": "playlist-read-private",
                "authorized_at": NOW - 60,
                "prev_refresh_sha256": null,
            });
            let fields = object.as_object_mut().expect("object");
            for (name, value) in replace {
                fields.insert(name.to_owned(), value);
            }
            for name in drop {
                fields.remove(name);
            }
            if let Some((name, value)) = add {
                fields.insert(name, value);
            }
            let text = object.to_string();
            let bytes = match mangle {
                // Cut short.
                0 => text.as_bytes()[..cut.index(text.len() + 1)].to_vec(),
                // Duplicate a field by hand (serde_json maps cannot hold two).
                1 => format!("{{\"access_token\":\"{access}\",{}", &text[1..]).into_bytes(),
                // An array of the values.
                2 => format!("[{text}]").into_bytes(),
                _ => text.into_bytes(),
            };
            (bytes, access, refresh)
        })
}

fn any_body() -> impl Strategy<Value = (Vec<u8>, String, String)> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600)
            .prop_map(|bytes| (bytes, "\u{0}no-secret-a".to_owned(), "\u{0}no-secret-r".to_owned())),
        json_value().prop_map(|v| (
            v.to_string().into_bytes(),
            "\u{0}no-secret-a".to_owned(),
            "\u{0}no-secret-r".to_owned()
        )),
        push_body(),
    ]
}

fn no_echo(text: &str, access: &str, refresh: &str) -> Result<(), TestCaseError> {
    prop_assert!(!text.contains(access), "access token echoed: {text}");
    prop_assert!(!text.contains(refresh), "refresh token echoed: {text}");
    Ok(())
}

proptest! {
    #[test]
    fn push_parser_never_panics_or_echoes_a_token((body, access, refresh) in any_body(), now in prop_oneof![Just(NOW), any::<u64>()]) {
        match TokenPush::parse(&body).and_then(|push| push.check_times(now).map(|()| push)) {
            Err(error) => {
                no_echo(&error.to_string(), &access, &refresh)?;
                no_echo(&format!("{error:?}"), &access, &refresh)?;
            }
            Ok(push) => no_echo(&format!("{push:?}"), &access, &refresh)?,
        }
    }
}

/// How the request's headers are set.
#[derive(Debug, Clone)]
struct Headers {
    content_type: Option<String>,
    /// `None`: no hash header; `Some(None)`: the right hash; `Some(Some(s))`: `s`.
    hash: Option<Option<String>>,
    method: &'static str,
}

fn headers() -> impl Strategy<Value = Headers> {
    (
        prop_oneof![
            4 => Just(Some("application/json".to_owned())),
            1 => Just(None),
            1 => "[ -~]{0,30}".prop_map(Some),
        ],
        prop_oneof![
            4 => Just(Some(None)),
            1 => Just(None),
            1 => "[ -~]{0,70}".prop_map(|s| Some(Some(s))),
        ],
        proptest::sample::select(vec!["POST", "POST", "POST", "GET", "PUT"]),
    )
        .prop_map(|(content_type, hash, method)| Headers {
            content_type,
            hash,
            method,
        })
}

#[test]
fn push_endpoint_never_panics_echoes_or_writes() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = SinkState::new(
        Config {
            // Nothing listens on port 1: every well-formed push ends at "Spotify unreachable" (503).
            api_base: "http://127.0.0.1:1/v1".to_owned(),
            allow: vec!["alice.setlist".to_owned()],
            policy: setlist_sink::Policy::default(),
        },
        Arc::new(FileStore::new(dir.path().join("tokens"))),
        Arc::new(ManualClock::new(NOW)),
    );
    let router = app(state.clone());
    let mut runner = TestRunner::default();
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u64>::new());
    runner
        .run(&(any_body(), headers()), |((body, access, refresh), headers)| {
            let mut request = Request::builder().method(headers.method).uri("/api/tokens");
            if let Some(content_type) = &headers.content_type {
                request = request.header(header::CONTENT_TYPE, content_type.as_str());
            }
            match &headers.hash {
                Some(None) => request = request.header("x-amz-content-sha256", sha256_hex(&body)),
                Some(Some(value)) => request = request.header("x-amz-content-sha256", value.as_str()),
                None => {}
            }
            let request = request.body(Body::from(body)).expect("request");
            let (status, text) = runtime.block_on(async {
                let response = router.clone().oneshot(request).await.expect("infallible");
                let status = response.status();
                let bytes = response.into_body().collect().await.expect("body").to_bytes();
                (status, String::from_utf8_lossy(&bytes).into_owned())
            });
            prop_assert!(
                [
                    StatusCode::BAD_REQUEST,
                    StatusCode::METHOD_NOT_ALLOWED,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    StatusCode::SERVICE_UNAVAILABLE,
                    StatusCode::UNAUTHORIZED,
                    StatusCode::FORBIDDEN,
                ]
                .contains(&status),
                "{status}: {text}"
            );
            *statuses.borrow_mut().entry(status.as_u16()).or_default() += 1;
            no_echo(&text, &access, &refresh)?;
            prop_assert_eq!(state.writes(), 0);
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    // Visible with --nocapture: how far the generated requests got.
    eprintln!("push endpoint answers by status: {:?}", statuses.borrow());
}
