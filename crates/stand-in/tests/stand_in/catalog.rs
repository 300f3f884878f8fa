//! Search over the catalog, cover images, and the configurable latency.



use std::time::{Duration, Instant};

use axum::http::{header, Method, StatusCode};
use crate::common::*;
use serde_json::{json, Value};
use setlist_stand_in::Options;

fn error(message: &str) -> Value {
    json!({ "error": { "status": 400, "message": message } })
}

#[tokio::test]
async fn search_finds_tracks_by_name_artist_and_album() {
    let harness = Harness::new();
    let token = harness.token("chen.setlist", "");
    // Take a real track from a seeded playlist and look it up in different ways.
    let alice = harness.token("alice.setlist", PLAYLIST_SCOPES);
    let page = harness
        .get_ok(
            &format!("/v1/playlists/{}/items?limit=1", seeded("Morning Commute")),
            &alice,
        )
        .await;
    let track = page["items"][0]["item"].clone();
    let name = track["name"].as_str().unwrap();
    let artist = track["artists"][0]["name"].as_str().unwrap();
    let album = track["album"]["name"].as_str().unwrap();

    let by_name = harness
        .get_ok(
            &format!(
                "/v1/search?q={}&type=track&limit=10",
                urlencode(&name.to_uppercase())
            ),
            &token,
        )
        .await;
    let tracks = &by_name["tracks"];
    assert_eq!(tracks["limit"], 10);
    assert_eq!(tracks["offset"], 0);
    assert!(tracks["total"].as_u64().unwrap() >= 1);
    assert_eq!(
        tracks["items"][0]["name"].as_str().unwrap().to_lowercase(),
        name.to_lowercase(),
        "an exact title ranks first"
    );
    assert!(by_name.get("albums").is_none());

    let query = format!("artist:\"{artist}\" album:\"{album}\"");
    let narrow = harness
        .get_ok(
            &format!("/v1/search?q={}&type=track&limit=10", urlencode(&query)),
            &token,
        )
        .await;
    let items = narrow["tracks"]["items"].as_array().unwrap();
    assert!(items.iter().any(|t| t["uri"] == track["uri"]), "{query}");
    for item in items {
        assert_eq!(
            item["album"]["name"].as_str().unwrap().to_lowercase(),
            album.to_lowercase()
        );
    }

    let nothing = harness
        .get_ok("/v1/search?q=zzzqqqxxx&type=track", &token)
        .await;
    assert_eq!(nothing["tracks"]["total"], 0);
    assert_eq!(nothing["tracks"]["items"], json!([]));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn search_pages_within_development_mode_limits() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", "");
    let first = harness.get_ok("/v1/search?q=love&type=track", &token).await;
    let tracks = &first["tracks"];
    assert_eq!(tracks["limit"], 5, "the default");
    assert_eq!(tracks["items"].as_array().unwrap().len(), 5);
    let total = tracks["total"].as_u64().unwrap();
    assert!(total > 10, "{total}");
    assert_eq!(
        tracks["next"],
        "http://127.0.0.1:8090/v1/search?offset=5&limit=5&query=love&type=track"
    );
    // The next link works as given.
    let next = tracks["next"]
        .as_str()
        .unwrap()
        .replace("http://127.0.0.1:8090", "");
    let second = harness.get_ok(&next, &token).await;
    assert_eq!(second["tracks"]["offset"], 5);
    assert_ne!(second["tracks"]["items"][0], tracks["items"][0]);
    for item in first["tracks"]["items"].as_array().unwrap() {
        let text = format!(
            "{} {} {}",
            item["name"], item["artists"], item["album"]["name"]
        )
        .to_lowercase();
        assert!(text.contains("love"), "{text}");
    }

    let ten = harness
        .get_ok("/v1/search?q=love&type=track&limit=10", &token)
        .await;
    assert_eq!(ten["tracks"]["items"].as_array().unwrap().len(), 10);
    let both = harness
        .get_ok("/v1/search?q=love&type=album,track", &token)
        .await;
    // Albums used to answer an empty page; they are now derived from the tracks, so "love" finds some too.
    assert!(both["albums"]["total"].as_u64().unwrap() > 0, "{both}");
    assert_eq!(both["albums"]["items"][0]["type"], "album");
    assert!(both["tracks"]["total"].as_u64().unwrap() > 0);
    let episodes = harness
        .get_ok("/v1/search?q=episode&type=episode", &token)
        .await;
    assert!(episodes["episodes"]["total"].as_u64().unwrap() > 0);
    assert_eq!(episodes["episodes"]["items"][0]["type"], "episode");

    let cases = [
        ("q=love&type=track&limit=11", "Invalid limit"),
        ("q=love&type=track&limit=0", "Invalid limit"),
        ("q=love&type=track&offset=1001", "Invalid offset"),
        ("q=love&type=track&offset=-1", "Invalid offset"),
        ("type=track", "No search query"),
        ("q=%20&type=track", "No search query"),
        ("q=love", "Missing parameter type"),
        ("q=love&type=song", "Bad search type field song"),
        ("q=love&type=track&fields=tracks(", "Invalid fields"),
    ];
    for (query, message) in cases {
        let (status, body) = harness
            .call_json(Method::GET, &format!("/v1/search?{query}"), &token, None)
            .await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, error(message)),
            "{query}"
        );
    }
    let filtered = harness
        .get_ok(
            "/v1/search?q=love&type=track&fields=tracks(total,items(name))",
            &token,
        )
        .await;
    let item = &filtered["tracks"]["items"][0];
    assert_eq!(item.as_object().unwrap().len(), 1);
    assert!(item["name"].is_string());
}

#[tokio::test]
async fn covers_are_served_as_svg() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", "");
    let found = harness
        .get_ok("/v1/search?q=a&type=track&limit=1", &token)
        .await;
    let images = found["tracks"]["items"][0]["album"]["images"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(images.len(), 3);
    assert_eq!(images[0]["width"], 640);
    let url = images[0]["url"].as_str().unwrap();
    let path = url.strip_prefix("http://127.0.0.1:8090").expect(url);
    assert!(
        path.starts_with("/images/") && path.ends_with(".svg"),
        "{path}"
    );
    let response = harness.get(path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), Some("image/svg+xml"));
    assert!(header(&response, "cache-control")
        .unwrap()
        .contains("max-age"));
    let svg = text(response).await;
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.ends_with("</svg>"));
    let album = found["tracks"]["items"][0]["album"]["name"]
        .as_str()
        .unwrap();
    let escaped = album.replace('&', "&amp;");
    let shown: String = escaped.chars().take(10).collect();
    assert!(svg.contains(&shown), "{album} on {svg}");

    for missing in ["/images/0000000000000000000000.svg", "/images/nothing.png"] {
        assert_eq!(
            harness.get(missing).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    // Covers are not Web API traffic: the log stays clean.
    let log = json(harness.get("/__control/log").await).await;
    assert!(log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["path"].as_str().unwrap().starts_with("/images")));
}

#[tokio::test]
async fn latency_delays_web_api_answers_only() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", "");
    harness.set_config(json!({ "latency_ms": 150 })).await;
    let config = json(harness.get("/__control/config").await).await;
    assert_eq!(config["latency_ms"], 150);

    let started = Instant::now();
    let (status, _) = harness.call_json(Method::GET, "/v1/me", &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    // Errors wait too: the latency is the network's, not the handler's.
    let started = Instant::now();
    let response = harness.get("/v1/me").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let started = Instant::now();
    assert_eq!(
        harness.get("/__control/health").await.status(),
        StatusCode::OK
    );
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "control routes do not wait"
    );

    harness.set_config(json!({ "latency_ms": 0 })).await;
    let too_slow = harness
        .post_json("/__control/config", json!({ "latency_ms": 600_000 }))
        .await;
    assert_eq!(too_slow.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(start_paused = true)]
async fn latency_from_options() {
    let harness = Harness::with(Options {
        latency_ms: 2_000,
        ..Options::default()
    });
    let token = harness.token("alice.setlist", "");
    let started = tokio::time::Instant::now();
    let request = axum::http::Request::get("/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = harness.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(2_000));
}

/// Artists and albums come from the seeded tracks (every one found has tracks search finds too); playlists are the
/// public seeded ones. Each page has the reference's shape for its type.
#[tokio::test]
async fn search_finds_artists_albums_and_public_playlists() {
    let harness = Harness::new();
    let token = harness.token("alice.setlist", SCOPE);
    // Shows by name, publisher or description; audiobooks stay empty.
    let shows = harness
        .get_ok("/v1/search?q=harbor%20radio&type=show,audiobook", &token)
        .await;
    assert_eq!(shows["shows"]["total"], 1, "{shows}");
    assert_eq!(shows["shows"]["items"][0]["name"], "Signal & Noise");
    assert_eq!(shows["shows"]["items"][0]["type"], "show");
    assert_eq!(shows["audiobooks"]["total"], 0);
    let none = harness
        .get_ok("/v1/search?q=track:harbor&type=show", &token)
        .await;
    assert_eq!(none["shows"]["total"], 0);
    // include_external: `audio` or nothing, as the reference's enum says.
    harness
        .get_ok(
            "/v1/search?q=harbor&type=show&include_external=audio",
            &token,
        )
        .await;
    let (status, body) = harness
        .call_json(
            Method::GET,
            "/v1/search?q=harbor&type=show&include_external=video",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["message"], "Invalid include_external");
    // A track's artist and album, by name.
    let track = harness
        .get_ok("/v1/search?q=a&type=track&limit=1", &token)
        .await["tracks"]["items"][0]
        .clone();
    let artist = track["artists"][0].clone();
    let album = track["album"].clone();
    let name = artist["name"].as_str().unwrap();
    let found = harness
        .get_ok(
            &format!("/v1/search?q={}&type=artist&limit=10", urlencode(name)),
            &token,
        )
        .await;
    let first = &found["artists"]["items"][0];
    assert_eq!(
        first["name"].as_str().unwrap().to_lowercase(),
        name.to_lowercase(),
        "{found}"
    );
    let hit = found["artists"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == artist["id"])
        .unwrap_or_else(|| panic!("{name} among {found}"));
    for field in ["external_urls", "href", "id", "name", "type", "uri"] {
        assert_eq!(hit[field], artist[field], "{field}");
    }
    assert!(hit["followers"]["total"].is_u64());
    assert!(hit["genres"].is_array());
    assert!(hit["popularity"].as_u64().unwrap() <= 100);
    assert!(hit["images"][0]["url"].as_str().unwrap().ends_with(".svg"));
    // The artist's tracks are findable with the same name under `artist:`.
    let tracks = harness
        .get_ok(
            &format!(
                "/v1/search?q=artist:{}&type=track",
                urlencode(&format!("\"{name}\""))
            ),
            &token,
        )
        .await;
    assert!(tracks["tracks"]["total"].as_u64().unwrap() > 0);

    let album_name = album["name"].as_str().unwrap();
    let found = harness
        .get_ok(
            &format!(
                "/v1/search?q=album:{}&type=album&limit=10",
                urlencode(&format!("\"{album_name}\""))
            ),
            &token,
        )
        .await;
    let hit = found["albums"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == album["id"])
        .unwrap_or_else(|| panic!("{album_name} among {found}"));
    assert_eq!(hit, &album, "the album as tracks embed it");
    for item in found["albums"]["items"].as_array().unwrap() {
        assert!(item["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains(&album_name.to_lowercase()));
    }
    // `track:` narrows to tracks only.
    let none = harness
        .get_ok("/v1/search?q=track:a&type=artist,album,playlist", &token)
        .await;
    for plural in ["artists", "albums", "playlists"] {
        assert_eq!(none[plural]["total"], 0, "{plural}");
    }

    // Public playlists only, by name or description.
    let found = harness
        .get_ok("/v1/search?q=commute&type=playlist", &token)
        .await;
    assert_eq!(found["playlists"]["total"], 1, "{found}");
    assert_eq!(found["playlists"]["items"][0]["name"], "Morning Commute");
    assert_eq!(
        found["playlists"]["items"][0]["id"],
        seeded("Morning Commute")
    );
    assert!(found["playlists"]["items"][0]["items"]["total"].is_u64());
    let private = harness
        .get_ok("/v1/search?q=focus&type=playlist", &token)
        .await;
    assert_eq!(private["playlists"]["total"], 0, "Deep Focus is private");
    let described = harness
        .get_ok("/v1/search?q=ikeja&type=playlist", &token)
        .await;
    assert_eq!(described["playlists"]["items"][0]["name"], "Lagos Nights");
    let all = harness
        .get_ok("/v1/search?q=e&type=playlist&limit=10", &token)
        .await;
    let public = setlist_stand_in::SEEDED_PLAYLISTS
        .iter()
        .filter(|p| p.public)
        .count();
    assert!(all["playlists"]["total"].as_u64().unwrap() <= public as u64);
    assert!(all["playlists"]["total"].as_u64().unwrap() >= 5, "{all}");
    // Pages like every search page.
    let page = harness
        .get_ok("/v1/search?q=a&type=artist,album&limit=3&offset=3", &token)
        .await;
    for plural in ["artists", "albums"] {
        assert_eq!(page[plural]["limit"], 3);
        assert_eq!(page[plural]["offset"], 3);
        assert_eq!(page[plural]["items"].as_array().unwrap().len(), 3);
        assert!(page[plural]["total"].as_u64().unwrap() > 6);
        assert!(page[plural]["previous"].is_string());
    }
}
