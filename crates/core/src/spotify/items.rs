//! A playlist's items: reading them page by page, the writes (add, replace, reorder, remove), and the entries
//! they hold (<https://developer.spotify.com/documentation/web-api/reference/get-playlists-items> and its
//! neighbours, as captured in `shared/reference/spotify-web-api.openapi.yml`; 2026: `/items`, `item`).
//!
//! Builders whose input can break a Spotify limit return `Err` instead of truncating.

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::json::{boolean, joined_names, object, read_body, smallest_image, string, uint};
use super::paging::{paging, Page, Paging};
use super::request::{json_request, query, ApiRequest, RequestError};
use crate::edit::model::Op;
use crate::ids::{ItemKind, PlaylistId, SnapshotId, TrackUri};
use crate::sync::retry::Safety;
use crate::{ApiError, AppConfig, Image};

/// `fields` for [`items_request`]: what the editor shows for each entry, for tracks and episodes.
/// ISRC, popularity, release date, playability and who added it are what the curation tools
/// ([`crate::curate`]) need: same-recording duplicates, "keep the most popular", sorting by release date,
/// removing what is unavailable.
pub const ITEMS_FIELDS: &str = "items(added_at,added_by(id),is_local,item(type,uri,name,duration_ms,explicit,\
is_playable,popularity,external_ids(isrc),images,artists(name),album(name,release_date,images),show(name))),\
total,limit,offset";

fn items_path(id: &PlaylistId) -> String {
    format!("/playlists/{}/items", id.as_str())
}

/// `GET {api}/playlists/{id}/items?limit=&offset=&fields=&additional_types=track,episode`. Spotify
/// answers `403` unless the user owns or collaborates on the playlist.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/get-playlists-items>.
pub fn items_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    page: Page,
    fields: Option<&str>,
) -> ApiRequest {
    let limit = page.limit().to_string();
    let offset = page.offset().to_string();
    let mut pairs = vec![("limit", limit.as_str()), ("offset", offset.as_str())];
    if let Some(fields) = fields {
        pairs.push(("fields", fields));
    }
    pairs.push(("additional_types", "track,episode"));
    let q = query(&pairs);
    ApiRequest::new(cfg, Method::GET, &format!("{}?{q}", items_path(id)), Safety::Idempotent)
}

/// The request for one [`Op`]: checked with [`Op::check_shape`], so anything Spotify refuses whatever
/// the playlist holds (too many URIs, none, local files, an empty range) is an `Err`. `snapshot` is sent
/// with reorders and removes, which accept one.
pub fn op_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    op: &Op,
    snapshot: Option<&SnapshotId>,
) -> Result<ApiRequest, RequestError> {
    op.check_shape()?;
    let (method, mut body) = match op {
        Op::Add { uris, position } => {
            let mut body = json!({ "uris": uris });
            if let Some(position) = position {
                body["position"] = json!(position);
            }
            return Ok(json_request(cfg, Method::POST, &items_path(id), &body, op.safety()));
        }
        Op::Replace { uris } => {
            let body = json!({ "uris": uris });
            return Ok(json_request(cfg, Method::PUT, &items_path(id), &body, op.safety()));
        }
        Op::Reorder {
            range_start,
            insert_before,
            range_length,
        } => (
            Method::PUT,
            json!({
                "range_start": range_start,
                "insert_before": insert_before,
                "range_length": range_length,
            }),
        ),
        Op::Remove { uris } => {
            let items: Vec<Value> = uris.iter().map(|uri| json!({ "uri": uri })).collect();
            (Method::DELETE, json!({ "items": items }))
        }
    };
    if let Some(snapshot) = snapshot {
        body["snapshot_id"] = json!(snapshot);
    }
    Ok(json_request(cfg, method, &items_path(id), &body, op.safety()))
}

/// `POST {api}/playlists/{id}/items` with JSON `{uris, position?}`: 1 to 100 track or episode URIs,
/// inserted at `position` or appended. Answers `201 {snapshot_id}` ([`parse_snapshot`]).
///
/// See <https://developer.spotify.com/documentation/web-api/reference/add-items-to-playlist>.
pub fn add_items_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    uris: &[TrackUri],
    position: Option<usize>,
) -> Result<ApiRequest, RequestError> {
    let op = Op::Add {
        uris: uris.to_vec(),
        position,
    };
    op_request(cfg, id, &op, None)
}

/// `PUT {api}/playlists/{id}/items` with JSON `{uris}`: 0 to 100 track or episode URIs become the whole
/// playlist. Answers `200 {snapshot_id}`.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/reorder-or-replace-playlists-items>.
pub fn replace_items_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    uris: &[TrackUri],
) -> Result<ApiRequest, RequestError> {
    let op = Op::Replace {
        uris: uris.to_vec(),
    };
    op_request(cfg, id, &op, None)
}

/// `PUT {api}/playlists/{id}/items` with JSON `{range_start, insert_before, range_length, snapshot_id?}`:
/// moves a range (see [`crate::edit::model`] for the exact semantics). Answers `200 {snapshot_id}`.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/reorder-or-replace-playlists-items>.
pub fn reorder_items_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    range_start: usize,
    insert_before: usize,
    range_length: usize,
    snapshot: Option<&SnapshotId>,
) -> Result<ApiRequest, RequestError> {
    let op = Op::Reorder {
        range_start,
        insert_before,
        range_length,
    };
    op_request(cfg, id, &op, snapshot)
}

/// `DELETE {api}/playlists/{id}/items` with JSON `{items:[{uri}], snapshot_id?}`: removes every
/// occurrence of 1 to 100 track or episode URIs. Answers `200 {snapshot_id}`.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/remove-items-playlist>.
pub fn remove_items_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    uris: &[TrackUri],
    snapshot: Option<&SnapshotId>,
) -> Result<ApiRequest, RequestError> {
    let op = Op::Remove {
        uris: uris.to_vec(),
    };
    op_request(cfg, id, &op, snapshot)
}

/// One entry of a playlist (Spotify's PlaylistTrackObject): what the editor shows and the URI it saves.
///
/// Read from `item`, or from the deprecated `track` when `item` is absent or `null`. An entry whose
/// item is missing (Spotify sends `null` for items it no longer has) keeps its place with `uri: None`,
/// so that positions stay those of the playlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistEntry {
    /// `None` when Spotify sent no usable URI.
    pub uri: Option<TrackUri>,
    /// Track, episode or local file; `None` when unknown.
    pub kind: Option<ItemKind>,
    /// Track or episode name; empty when unknown.
    pub name: String,
    /// Artist names joined with `", "`; for an episode, its show's name.
    pub artists: String,
    /// Album name; for an episode, its show's name.
    pub album: String,
    /// Length, when known.
    pub duration_ms: Option<u32>,
    /// A local file: it can be moved but not added or removed through the Web API.
    pub is_local: bool,
    /// Whether the track is marked explicit.
    pub explicit: bool,
    /// When it was added (ISO 8601), when known.
    pub added_at: Option<String>,
    /// The smallest cover image, for a thumbnail.
    pub image: Option<Image>,
    /// The recording's ISRC (`external_ids.isrc`), when known: the same recording on another release has
    /// another URI but the same ISRC.
    #[serde(default)]
    pub isrc: Option<String>,
    /// The album's release date as Spotify gives it (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`), when known.
    #[serde(default)]
    pub release_date: Option<String>,
    /// Spotify's popularity, 0 to 100, when known.
    #[serde(default)]
    pub popularity: Option<u8>,
    /// `false` when Spotify says the item cannot be played (it says so only when asked with a market);
    /// `None` when it did not say.
    #[serde(default)]
    pub playable: Option<bool>,
    /// The id of the user who added it, when known.
    #[serde(default)]
    pub added_by: Option<String>,
}

impl PlaylistEntry {
    /// An entry for a known URI with nothing else known yet, e.g. one pasted by the user.
    pub fn from_uri(uri: TrackUri) -> Self {
        Self {
            kind: Some(uri.kind()),
            is_local: uri.is_local(),
            uri: Some(uri),
            name: String::new(),
            artists: String::new(),
            album: String::new(),
            duration_ms: None,
            explicit: false,
            added_at: None,
            image: None,
            isrc: None,
            release_date: None,
            popularity: None,
            playable: None,
            added_by: None,
        }
    }
}

/// Reads one PlaylistTrackObject; never fails, so positions are preserved (see [`PlaylistEntry`]).
pub(super) fn entry(value: &Value) -> PlaylistEntry {
    let item = object(value, "item").or_else(|| object(value, "track"));
    let field = |key| item.and_then(|item| string(item, key));
    let uri = item
        .and_then(|item| item.get("uri")?.as_str())
        .and_then(|uri| TrackUri::parse(uri).ok());
    let declared = match field("type").as_deref() {
        Some("track") => Some(ItemKind::Track),
        Some("episode") => Some(ItemKind::Episode),
        _ => None,
    };
    let is_local = boolean(value, "is_local")
        .or_else(|| item.and_then(|item| boolean(item, "is_local")))
        .unwrap_or(false)
        || uri.as_ref().is_some_and(TrackUri::is_local);
    let kind = match &uri {
        Some(uri) => Some(uri.kind()),
        None if is_local => Some(ItemKind::Local),
        None => declared,
    };
    let album = item.and_then(|item| object(item, "album"));
    let show = item.and_then(|item| object(item, "show"));
    let show_name = show.and_then(|show| string(show, "name"));
    let artists = item
        .map(|item| joined_names(item, "artists"))
        .filter(|names| !names.is_empty())
        .or_else(|| show_name.clone())
        .unwrap_or_default();
    PlaylistEntry {
        uri,
        kind,
        name: field("name").unwrap_or_default(),
        artists,
        album: album
            .and_then(|album| string(album, "name"))
            .or(show_name)
            .unwrap_or_default(),
        duration_ms: item.and_then(|item| uint(item, "duration_ms")),
        is_local,
        explicit: item
            .and_then(|item| boolean(item, "explicit"))
            .unwrap_or(false),
        added_at: string(value, "added_at"),
        image: album
            .and_then(smallest_image)
            .or_else(|| item.and_then(smallest_image))
            .or_else(|| show.and_then(smallest_image)),
        isrc: item
            .and_then(|item| object(item, "external_ids"))
            .and_then(|ids| string(ids, "isrc"))
            .filter(|isrc| !isrc.trim().is_empty()),
        release_date: album.and_then(|album| string(album, "release_date")),
        popularity: item
            .and_then(|item| uint(item, "popularity"))
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| *n <= 100),
        playable: item.and_then(|item| boolean(item, "is_playable")),
        added_by: object(value, "added_by").and_then(|user| string(user, "id")),
    }
}

/// Reads the answer to [`items_request`]. Every entry keeps its place, `null` ones included (see
/// [`PlaylistEntry`]).
pub fn parse_items(status: u16, body: &str) -> Result<Paging<PlaylistEntry>, ApiError> {
    let value = read_body(status, body, "playlist items")?;
    Ok(paging(&value, |v| Some(entry(v))))
}

/// Reads the `{snapshot_id}` that every item write answers with (and `GET /playlists/{id}` with
/// [`SNAPSHOT_FIELDS`]).
pub fn parse_snapshot(status: u16, body: &str) -> Result<SnapshotId, ApiError> {
    let value = read_body(status, body, "snapshot")?;
    value
        .get("snapshot_id")
        .and_then(Value::as_str)
        .and_then(|s| SnapshotId::parse(s).ok())
        .ok_or_else(|| ApiError {
            status,
            message: "unreadable snapshot from Spotify: `snapshot_id` is missing or invalid".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spotify::tests::*;
    use crate::spotify::playlists::parse_no_content;
    use crate::edit::model::ModelError;

    #[test]
    fn items_request_is_exact() {
        let request = items_request(
            &config(),
            &playlist_id(),
            Page::new(50, 50).expect("valid"),
            Some("items(item(uri)),total"),
        );
        assert_request(
            &request,
            Method::GET,
            "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items?limit=50&offset=50&\
             fields=items%28item%28uri%29%29%2Ctotal&additional_types=track%2Cepisode",
            None,
        );
        let request = items_request(&config(), &playlist_id(), Page::first(), None);
        assert_eq!(
            request.uri(),
            "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items?limit=50&offset=0&\
             additional_types=track%2Cepisode"
        );
    }

    #[test]
    fn add_items_request_is_exact() {
        let uris = [
            t(1),
            TrackUri::parse("spotify:episode:512ojhOuo1ktJprKbVcKyQ").expect("valid"),
        ];
        let url = "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items";
        let request =
            add_items_request(&config(), &playlist_id(), &uris, Some(3)).expect("valid");
        assert_request(
            &request,
            Method::POST,
            url,
            Some(json!({
                "uris": ["spotify:track:0000000000000000000001", "spotify:episode:512ojhOuo1ktJprKbVcKyQ"],
                "position": 3
            })),
        );
        let request =
            add_items_request(&config(), &playlist_id(), &uris, None).expect("valid");
        assert_request(
            &request,
            Method::POST,
            url,
            Some(json!({
                "uris": ["spotify:track:0000000000000000000001", "spotify:episode:512ojhOuo1ktJprKbVcKyQ"]
            })),
        );
        let hundred: Vec<TrackUri> = (0..100).map(t).collect();
        assert!(add_items_request(&config(), &playlist_id(), &hundred, None).is_ok());
        let too_many: Vec<TrackUri> = (0..101).map(t).collect();
        assert_eq!(
            add_items_request(&config(), &playlist_id(), &too_many, None).err(),
            Some(RequestError::Op(ModelError::TooManyUris { max: 100, got: 101 }))
        );
        assert_eq!(
            add_items_request(&config(), &playlist_id(), &[], None).err(),
            Some(RequestError::Op(ModelError::NoUris))
        );
        let local = TrackUri::parse("spotify:local:a:b:c:1").expect("valid");
        assert!(matches!(
            add_items_request(&config(), &playlist_id(), &[local], None),
            Err(RequestError::Op(ModelError::LocalFile { .. }))
        ));
    }

    #[test]
    fn replace_items_request_is_exact() {
        let url = "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items";
        let request =
            replace_items_request(&config(), &playlist_id(), &[t(2)]).expect("valid");
        assert_request(
            &request,
            Method::PUT,
            url,
            Some(json!({"uris": ["spotify:track:0000000000000000000002"]})),
        );
        // An empty replace clears the playlist.
        let request =
            replace_items_request(&config(), &playlist_id(), &[]).expect("valid");
        assert_request(&request, Method::PUT, url, Some(json!({"uris": []})));
        let too_many: Vec<TrackUri> = (0..101).map(t).collect();
        assert!(replace_items_request(&config(), &playlist_id(), &too_many).is_err());
    }

    #[test]
    fn reorder_items_request_is_exact() {
        let url = "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items";
        let snapshot = SnapshotId::parse("AAAAB8C+jXvVHRq").expect("valid");
        let request =
            reorder_items_request(&config(), &playlist_id(), 9, 0, 2, Some(&snapshot))
                .expect("valid");
        assert_request(
            &request,
            Method::PUT,
            url,
            Some(json!({
                "range_start": 9, "insert_before": 0, "range_length": 2, "snapshot_id": "AAAAB8C+jXvVHRq"
            })),
        );
        let request = reorder_items_request(&config(), &playlist_id(), 0, 10, 1, None)
            .expect("valid");
        assert_request(
            &request,
            Method::PUT,
            url,
            Some(json!({"range_start": 0, "insert_before": 10, "range_length": 1})),
        );
        assert!(reorder_items_request(&config(), &playlist_id(), 0, 10, 0, None).is_err());
    }

    #[test]
    fn remove_items_request_is_exact() {
        let url = "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items";
        let snapshot = SnapshotId::parse("snap").expect("valid");
        let request = remove_items_request(
            &config(),
            &playlist_id(),
            &[t(1), t(2)],
            Some(&snapshot),
        )
        .expect("valid");
        assert_request(
            &request,
            Method::DELETE,
            url,
            Some(json!({
                "items": [
                    {"uri": "spotify:track:0000000000000000000001"},
                    {"uri": "spotify:track:0000000000000000000002"}
                ],
                "snapshot_id": "snap"
            })),
        );
        let request =
            remove_items_request(&config(), &playlist_id(), &[t(1)], None).expect("valid");
        assert_request(
            &request,
            Method::DELETE,
            url,
            Some(json!({"items": [{"uri": "spotify:track:0000000000000000000001"}]})),
        );
        assert!(remove_items_request(&config(), &playlist_id(), &[], None).is_err());
        let too_many: Vec<TrackUri> = (0..101).map(t).collect();
        assert!(remove_items_request(&config(), &playlist_id(), &too_many, None).is_err());
    }

    #[test]
    fn op_request_matches_the_specific_builders() {
        let id = playlist_id();
        let op = Op::Add {
            uris: vec![t(1)],
            position: Some(0),
        };
        let a = op_request(&config(), &id, &op, None).expect("valid");
        let b = add_items_request(&config(), &id, &[t(1)], Some(0)).expect("valid");
        assert_eq!((a.method(), a.uri(), a.body()), (b.method(), b.uri(), b.body()));
        // Adds take no snapshot_id in Spotify's reference, so none is sent.
        let snapshot = SnapshotId::parse("snap").expect("valid");
        let with_snapshot = op_request(&config(), &id, &op, Some(&snapshot)).expect("valid");
        assert!(!with_snapshot.body().contains("snapshot_id"));
    }


    fn sample_items() -> &'static str {
        r#"{
            "items": [
                {"added_at": "2026-01-02T03:04:05Z", "is_local": false, "added_by": {"id": "ada"},
                 "item": {"type": "track", "uri": "spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "name": "Song",
                          "duration_ms": 201000, "explicit": true,
                          "artists": [{"name": "A"}, {"name": "B"}],
                          "album": {"name": "Album", "images": [{"url": "big", "height": 640, "width": 640},
                                                               {"url": "small", "height": 64, "width": 64}]},
                          "popularity": 50, "brand_new_field": {"x": 1}}},
                {"added_at": "2026-01-02T03:04:05Z", "is_local": false,
                 "item": {"type": "episode", "uri": "spotify:episode:512ojhOuo1ktJprKbVcKyQ", "name": "Ep 1",
                          "duration_ms": 1686230, "images": [{"url": "ep", "height": null, "width": null}],
                          "show": {"name": "The Show"}}},
                {"added_at": "2020-01-01T00:00:00Z", "is_local": true,
                 "item": {"type": "track", "uri": "spotify:local:Artist:Album:Title:180", "name": "Title",
                          "duration_ms": 180000, "artists": [{"name": "Artist"}], "album": {"name": "Album", "images": []}}},
                {"added_at": null, "is_local": false, "item": null},
                null,
                {"added_at": "2019-01-01T00:00:00Z", "track": {"type": "track", "uri": "spotify:track:1301WleyT98MSxVHPZCA6M", "name": "Old"}},
                {"added_at": "2019-01-01T00:00:00Z", "item": null, "track": {"uri": "spotify:track:1301WleyT98MSxVHPZCA6M", "name": "Fallback"}},
                {"item": {"type": "audiobook_chapter", "uri": "spotify:chapter:0D5wENdkdwbqlrHoaJ9g29", "name": "Ch"}},
                {"item": {"type": "track", "uri": 7, "name": ["wrong"], "duration_ms": -5, "artists": "nope"}}
            ],
            "total": 120, "limit": 50, "offset": 50
        }"#
    }

    #[test]
    fn parses_items_filtered_with_items_fields() {
        let page = parse_items(200, sample_items()).expect("parses");
        assert_eq!((page.total, page.limit, page.offset), (120, 50, 50));
        assert_eq!(page.items.len(), 9, "every entry keeps its place");
        let e = &page.items;
        assert_eq!(e[0].uri.as_ref().map(TrackUri::as_str), Some("spotify:track:4iV5W9uYEdYUVa79Axb7Rh"));
        assert_eq!(e[0].kind, Some(ItemKind::Track));
        assert_eq!(e[0].name, "Song");
        assert_eq!(e[0].artists, "A, B");
        assert_eq!(e[0].album, "Album");
        assert_eq!(e[0].duration_ms, Some(201_000));
        assert!(e[0].explicit);
        assert_eq!(e[0].added_at.as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(e[0].image.as_ref().map(|i| i.url.as_str()), Some("small"));

        assert_eq!(e[1].kind, Some(ItemKind::Episode));
        assert_eq!(e[1].artists, "The Show");
        assert_eq!(e[1].album, "The Show");
        assert_eq!(e[1].image.as_ref().map(|i| i.url.as_str()), Some("ep"));

        assert!(e[2].is_local);
        assert_eq!(e[2].kind, Some(ItemKind::Local));
        assert!(e[2].uri.as_ref().is_some_and(TrackUri::is_local));
        assert_eq!(e[2].image, None);

        for missing in [&e[3], &e[4]] {
            assert_eq!(missing.uri, None);
            assert_eq!(missing.kind, None);
            assert_eq!(missing.name, "");
        }
        assert_eq!(e[5].name, "Old", "deprecated `track` is read when `item` is absent");
        assert_eq!(e[6].name, "Fallback", "and when `item` is null");
        assert_eq!(e[7].uri, None, "unknown item types have no usable URI");
        assert_eq!(e[7].kind, None);
        assert_eq!(e[7].name, "Ch");
        assert_eq!(e[8].uri, None);
        assert_eq!(e[8].duration_ms, None);
        assert_eq!(e[8].name, "");
        assert_eq!(e[8].artists, "");
    }

    /// Spotify sends an episode in a playlist as an EpisodeObject when asked with `additional_types=episode` (as
    /// the app always asks) and, to older clients that do not ask, as a track-shaped object (`"type": "track"`,
    /// `"episode": true`, the show as album and artist). The stand-in answers the first shape either way (its
    /// module docs); the app reads both the same.
    #[test]
    fn an_episode_reads_the_same_in_both_shapes() {
        let episode_shape = r#"{"items": [{"added_at": "2026-01-02T03:04:05Z",
            "item": {"type": "episode", "uri": "spotify:episode:512ojhOuo1ktJprKbVcKyQ", "name": "Ep 1",
                     "duration_ms": 1686230, "show": {"name": "The Show", "images": [{"url": "s", "height": 64, "width": 64}]}}}],
            "total": 1}"#;
        let track_shape = r#"{"items": [{"added_at": "2026-01-02T03:04:05Z",
            "item": {"type": "track", "episode": true, "track": false, "uri": "spotify:episode:512ojhOuo1ktJprKbVcKyQ",
                     "name": "Ep 1", "duration_ms": 1686230, "artists": [{"name": "The Show"}],
                     "album": {"name": "The Show", "images": [{"url": "s", "height": 64, "width": 64}]}}}],
            "total": 1}"#;
        let a = parse_items(200, episode_shape).expect("episode shape").items.remove(0);
        let b = parse_items(200, track_shape).expect("track shape").items.remove(0);
        assert_eq!(a.kind, Some(ItemKind::Episode));
        assert_eq!(a, b);
    }

    #[test]
    fn reads_what_the_curation_tools_use() {
        let page = parse_items(
            200,
            r#"{"items": [{"added_at": "2026-01-02T03:04:05Z", "added_by": {"id": "ada"},
                "item": {"type": "track", "uri": "spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "name": "Song",
                         "is_playable": false, "popularity": 73, "external_ids": {"isrc": "USRC17607839"},
                         "album": {"name": "Album", "release_date": "1999-03"}}},
                {"item": {"type": "track", "uri": "spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "popularity": 400,
                          "external_ids": {"isrc": " "}, "is_playable": "yes"}}], "total": 2}"#,
        )
        .expect("parses");
        let e = &page.items;
        assert_eq!(e[0].isrc.as_deref(), Some("USRC17607839"));
        assert_eq!(e[0].popularity, Some(73));
        assert_eq!(e[0].playable, Some(false));
        assert_eq!(e[0].release_date.as_deref(), Some("1999-03"));
        assert_eq!(e[0].added_by.as_deref(), Some("ada"));
        assert_eq!((e[1].isrc.as_deref(), e[1].popularity, e[1].playable), (None, None, None), "odd values are unknown");
    }

    #[test]
    fn items_page_shapes() {
        let empty = parse_items(200, "{}").expect("parses");
        assert_eq!((empty.items.len(), empty.total), (0, 0));
        let no_total = parse_items(200, r#"{"offset": 10, "items": [null, null]}"#).expect("parses");
        assert_eq!(no_total.total, 12);
        let error = parse_items(200, "[]").expect_err("not an object");
        assert!(error.message.contains("not a JSON object"));
        let error = parse_items(200, "{").expect_err("truncated");
        assert_eq!(
            error.message,
            "unreadable playlist items from Spotify: truncated JSON at line 1 column 1"
        );
        assert_eq!(
            parse_items(403, r#"{"error":{"status":403,"message":"Forbidden."}}"#),
            Err(ApiError {
                status: 403,
                message: "Forbidden.".into()
            })
        );
    }

    #[test]
    fn parses_snapshot_and_no_content() {
        assert_eq!(
            parse_snapshot(201, r#"{"snapshot_id": "abc"}"#).map(|s| s.to_string()),
            Ok("abc".into())
        );
        assert!(parse_snapshot(200, "{}").is_err());
        assert!(parse_snapshot(200, r#"{"snapshot_id": ""}"#).is_err());
        assert_eq!(parse_no_content(200, ""), Ok(()));
        assert_eq!(parse_no_content(200, "whatever"), Ok(()));
        assert_eq!(
            parse_no_content(403, "").map_err(|e| e.status),
            Err(403)
        );
    }
}
