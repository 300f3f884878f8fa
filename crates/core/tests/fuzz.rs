//! Property-based fuzzing of every parser that reads something from outside: the OAuth callback query, token
//! responses, and the Web API models and errors. Each must return (never panic) on any input, and the token
//! parsers must never echo a secret in an error.
//!
//! `cargo test` runs proptest's default number of cases; a long run is `PROPTEST_CASES=20000 cargo test -p
//! setlist-core --test fuzz`.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use setlist_core::{
    parse_api_error, parse_callback, parse_items, parse_me, parse_my_playlists, parse_no_content,
    parse_playlist, parse_search_tracks, parse_snapshot, parse_token_response, parse_uri_list,
    OAuthState, PlaylistId, TrackUri,
};

/// Keys the parsers look for, so generated objects reach past the first missing field.
const KEYS: &[&str] = &[
    "access_token", "token_type", "scope", "expires_in", "refresh_token", "error", "error_description",
    "status", "message", "id", "display_name", "account_id", "images", "url", "height", "width", "items",
    "item", "track", "total", "limit", "offset", "next", "previous", "href", "snapshot_id", "name", "owner",
    "public", "collaborative", "description", "uri", "type", "artists", "album", "duration_ms", "is_local",
    "added_at", "tracks", "country", "product", "external_urls", "spotify",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "spotify:(track|episode|playlist|user):[0-9A-Za-z]{0,24}".prop_map(Value::String),
        "[0-9A-Za-z]{22}".prop_map(Value::String),
        proptest::sample::select(vec!["Bearer", "bearer", "track", "episode", "playlist", "user"])
            .prop_map(Value::from),
    ]
}

/// Arbitrary JSON biased towards the shapes Spotify sends.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..10)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A body: arbitrary text, arbitrary JSON, or JSON cut short or with a byte flipped.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        json_value().prop_map(|v| v.to_string()),
        (json_value(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let text = v.to_string();
            let mut end = cut.index(text.len() + 1);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text[..end].to_owned()
        }),
        (json_value(), any::<prop::sample::Index>(), any::<char>()).prop_map(|(v, at, c)| {
            let mut chars: Vec<char> = v.to_string().chars().collect();
            if !chars.is_empty() {
                let i = at.index(chars.len());
                chars[i] = c;
            }
            chars.into_iter().collect()
        }),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => proptest::sample::select(vec![200u16, 201, 204, 400, 401, 403, 404, 429, 500, 502, 503]),
        1 => any::<u16>(),
    ]
}

/// A token-like secret: long enough that no error sentence could hold it by chance.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{40,80}"
}

fn state() -> OAuthState {
    OAuthState::from_bytes(&[7; 16])
}

proptest! {
    #[test]
    fn callback_parser_never_panics(query in ".*") {
        let _ = parse_callback(&query, &state());
    }

    #[test]
    fn callback_parser_never_panics_on_query_shapes(
        pairs in proptest::collection::vec(
            (prop_oneof![Just("code".to_owned()), Just("state".to_owned()), Just("error".to_owned()),
                Just("error_description".to_owned()), ".{0,6}"], ".{0,30}"),
            0..6,
        ),
        with_state in any::<bool>(),
    ) {
        let mut query: String = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        if with_state {
            query = format!("state={}&{query}", state().as_str());
        }
        let _ = parse_callback(&query, &state());
    }

    #[test]
    fn callback_errors_never_echo_the_code(
        code in secret(),
        extra in proptest::collection::vec(("(state|error|error_description|x)", "[ a-z]{0,20}"), 0..4),
        good_state in any::<bool>(),
        repeat_code in any::<bool>(),
    ) {
        let mut parts = vec![format!("code={code}")];
        if repeat_code {
            parts.push(format!("code={code}"));
        }
        if good_state {
            parts.push(format!("state={}", state().as_str()));
        }
        parts.extend(extra.iter().map(|(k, v)| format!("{k}={}", urlencode(v))));
        if let Err(error) = parse_callback(&parts.join("&"), &state()) {
            prop_assert!(!error.to_string().contains(&code), "{error}");
            prop_assert!(!format!("{error:?}").contains(&code), "{error:?}");
        }
    }

    #[test]
    fn token_parser_never_panics(status in status(), body in body()) {
        let _ = parse_token_response(status, &body);
    }

    #[test]
    fn token_parser_never_echoes_a_secret(
        status in status(),
        secret in secret(),
        shape in 0usize..8,
        extra in json_value(),
        cut in any::<prop::sample::Index>(),
    ) {
        let body = match shape {
            0 => json!({"access_token": secret, "token_type": "mac", "expires_in": 3600}),
            1 => json!({"access_token": secret, "token_type": "Bearer", "expires_in": "3600"}),
            2 => json!({"access_token": "a", "token_type": "Bearer", "expires_in": 3600, "refresh_token": {"x": secret}}),
            3 => json!({"error": "invalid_grant", "error_description": format!("Refresh token {secret} revoked")}),
            4 => json!({"error": secret, "error_description": secret}),
            5 => json!({"error": "invalid_request", "error_description": format!("bad: {secret}"), "x": extra}),
            6 => json!({"access_token": secret, "refresh_token": secret, "token_type": "Bearer", "expires_in": 3600, "scope": extra}),
            _ => json!({"access_token": [secret], "expires_in": -1, "token_type": extra}),
        }
        .to_string();
        // Whole, or cut short so that a syntax error lands next to the secret.
        let body = if status % 2 == 0 { body.clone() } else {
            let mut end = cut.index(body.len() + 1);
            while !body.is_char_boundary(end) { end -= 1; }
            body[..end].to_owned()
        };
        match parse_token_response(status, &body) {
            Err(error) => {
                prop_assert!(!error.to_string().contains(&secret), "{error}");
                prop_assert!(!format!("{error:?}").contains(&secret), "{error:?}");
            }
            Ok(tokens) => {
                prop_assert!(!format!("{tokens:?}").contains(&secret), "{tokens:?}");
            }
        }
    }

    #[test]
    fn web_api_parsers_never_panic(status in status(), body in body()) {
        let _ = parse_api_error(status, &body);
        let _ = parse_me(status, &body);
        let _ = parse_my_playlists(status, &body);
        let _ = parse_playlist(status, &body);
        let _ = parse_items(status, &body);
        let _ = parse_snapshot(status, &body);
        let _ = parse_no_content(status, &body);
        let _ = parse_search_tracks(status, &body);
    }

    #[test]
    fn web_api_parsers_never_panic_on_paging_shapes(
        status in status(),
        items in proptest::collection::vec(json_value(), 0..6),
        total in json_value(),
        extra in json_value(),
    ) {
        let page = json!({"items": items, "total": total, "limit": 50, "offset": 0, "next": extra});
        for body in [
            page.to_string(),
            json!({"tracks": page}).to_string(),
            json!({"id": "37i9dQZF1DXcBWIGoYBM5M", "name": extra, "owner": {"id": total},
                   "snapshot_id": "s", "items": page}).to_string(),
        ] {
            let _ = parse_my_playlists(status, &body);
            let _ = parse_playlist(status, &body);
            let _ = parse_items(status, &body);
            let _ = parse_search_tracks(status, &body);
            let _ = parse_me(status, &body);
            let _ = parse_api_error(status, &body);
        }
    }

    #[test]
    fn id_parsers_never_panic(text in ".*") {
        let _ = TrackUri::parse(&text);
        let _ = PlaylistId::parse(&text);
        let _ = parse_uri_list(&text);
    }
}

/// Percent-encodes everything but unreserved characters.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
