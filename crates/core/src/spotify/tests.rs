//! What the resource files' tests share, and the tests that hold for every parser at once.

use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::Method;
use proptest::prelude::*;
use serde_json::Value;

use super::items::{parse_items, parse_snapshot};
use super::playlists::{parse_my_playlists, parse_no_content, parse_playlist};
use super::request::ApiRequest;
use super::search::parse_search_tracks;
use crate::ids::{PlaylistId, TrackUri};
use crate::{AccessToken, AppConfig};

pub(crate) const PL: &str = "3cEYpjA9oz9GiPac4AsH4n";

pub(crate) fn config() -> AppConfig {
    AppConfig::from_json(
        r#"{
            "client_id": "c",
            "redirect_uri": "http://127.0.0.1:8080/callback",
            "accounts_base": "https://accounts.example",
            "api_base": "http://127.0.0.1:9000/v1",
            "push_url": "/api/tokens",
            "scopes": []
        }"#,
    )
    .expect("valid config")
}

pub(crate) fn token() -> AccessToken {
    AccessToken::new("BQD-s3cret".into())
}

pub(crate) fn playlist_id() -> PlaylistId {
    PlaylistId::parse(PL).expect("valid")
}

pub(crate) fn t(n: usize) -> TrackUri {
    TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("valid")
}

/// Asserts method, URI, headers and (as JSON) body, and that the token is not in `Debug`.
pub(crate) fn assert_request(
    request: &ApiRequest,
    method: Method,
    uri: &str,
    body: Option<Value>,
) {
    let request = &request.authorize(&token());
    assert_eq!(request.method(), method);
    assert_eq!(request.uri(), uri);
    assert_eq!(request.headers()[AUTHORIZATION], "Bearer BQD-s3cret");
    assert!(request.headers()[AUTHORIZATION].is_sensitive());
    match body {
        None => {
            assert_eq!(request.headers().len(), 1);
            assert_eq!(request.body(), "");
        }
        Some(want) => {
            assert_eq!(request.headers().len(), 2);
            assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
            let got: Value = serde_json::from_str(request.body()).expect("JSON body");
            assert_eq!(got, want);
        }
    }
    let debug = format!("{request:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
}
proptest! {
    #[test]
    fn parsers_never_panic(status in any::<u16>(), body in any::<String>()) {
        let _ = parse_my_playlists(status, &body);
        let _ = parse_playlist(status, &body);
        let _ = parse_items(status, &body);
        let _ = parse_snapshot(status, &body);
        let _ = parse_search_tracks(status, &body);
        let _ = parse_no_content(status, &body);
    }

    #[test]
    fn odd_json_never_panics(body in json_value(3)) {
        let text = body.to_string();
        let _ = parse_my_playlists(200, &text);
        let _ = parse_playlist(200, &text);
        let _ = parse_search_tracks(200, &text);
        if let Ok(page) = parse_items(200, &text) {
            prop_assert_eq!(
                page.items.len(),
                body.get("items").and_then(Value::as_array).map_or(0, Vec::len)
            );
        }
    }
}

/// JSON shaped loosely like Spotify's, with the keys the parsers look for, so random values reach
/// the field readers.
fn json_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "spotify:local:a:b:c:1", "track", "episode",
            "3cEYpjA9oz9GiPac4AsH4n", "", "x",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        let keys = prop::sample::select(vec![
            "items", "item", "track", "uri", "id", "name", "type", "total", "offset", "limit",
            "artists", "album", "show", "images", "url", "owner", "tracks", "is_local",
            "duration_ms", "snapshot_id", "added_at", "height",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|map| {
                Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

