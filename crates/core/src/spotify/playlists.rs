//! Playlists as a whole: the user's list, creating one, reading one's details and version, changing its details
//! (<https://developer.spotify.com/documentation/web-api/reference/get-playlist> and its neighbours).
//!
//! Parsers take `(status, body)`: non-2xx answers become the [`ApiError`] they carry, and 2xx bodies are read
//! leniently (absent, `null` or unexpected fields never fail a page; see each model).

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::items::entry;
use super::error::parse_api_error;
use super::json::{boolean, images, object, read_body, string, uint};
use super::paging::{paging, Page, Paging};
use super::request::{json_request, query, ApiRequest, RequestError};
use crate::ids::{PlaylistId, SnapshotId, UserId};
use crate::sync::retry::Safety;
use crate::{ApiError, AppConfig, Image, PlaylistEntry};

/// `fields` for [`playlist_request`] when opening a playlist: its details, owner, version and item count,
/// without the items themselves (those come page by page from [`items_request`]).
pub const PLAYLIST_FIELDS: &str =
    "id,name,description,public,collaborative,owner(id,display_name),images,snapshot_id,items.total";

/// `fields` for [`playlist_request`] when only the version matters: checking that a playlist did not
/// change while its pages were loading.
pub const SNAPSHOT_FIELDS: &str = "snapshot_id";

/// The details of a playlist to create with [`create_playlist_request`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPlaylist {
    /// Must not be blank.
    pub name: String,
    /// May be empty.
    pub description: String,
    /// Shown on the owner's profile.
    pub public: bool,
    /// Others may edit it; only allowed when not public.
    pub collaborative: bool,
}

/// A change of playlist details for [`change_details_request`]: only the fields that are `Some` are sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsChange {
    /// New name; must not be blank.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description; empty clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New public state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// New collaborative state; `true` needs the playlist to be (or become) private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collaborative: Option<bool>,
}

impl DetailsChange {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// `GET {api}/me/playlists?limit=&offset=`: the playlists the user owns or follows.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/get-a-list-of-current-users-playlists>.
pub fn my_playlists_request(
    cfg: &AppConfig,
    page: Page,
) -> ApiRequest {
    let q = query(&[
        ("limit", &page.limit().to_string()),
        ("offset", &page.offset().to_string()),
    ]);
    ApiRequest::new(cfg, Method::GET, &format!("/me/playlists?{q}"), Safety::Idempotent)
}

/// `POST {api}/me/playlists` with JSON `{name, description, public, collaborative}`. Answers `201` with
/// the playlist ([`parse_playlist`]).
///
/// See <https://developer.spotify.com/documentation/web-api/reference/create-playlist>.
pub fn create_playlist_request(
    cfg: &AppConfig,
    playlist: &NewPlaylist,
) -> Result<ApiRequest, RequestError> {
    if playlist.name.trim().is_empty() {
        return Err(RequestError::EmptyName);
    }
    if playlist.collaborative && playlist.public {
        return Err(RequestError::CollaborativePublic);
    }
    let body = json!({
        "name": playlist.name,
        "description": playlist.description,
        "public": playlist.public,
        "collaborative": playlist.collaborative,
    });
    Ok(json_request(cfg, Method::POST, "/me/playlists", &body, Safety::NotIdempotent))
}

/// `GET {api}/playlists/{id}` with an optional `fields` filter such as [`PLAYLIST_FIELDS`] or
/// [`SNAPSHOT_FIELDS`]. Always asks for episodes too (`additional_types=track,episode`) so they are not
/// returned as `null`.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/get-playlist>.
pub fn playlist_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    fields: Option<&str>,
) -> ApiRequest {
    let mut pairs = Vec::new();
    if let Some(fields) = fields {
        pairs.push(("fields", fields));
    }
    pairs.push(("additional_types", "track,episode"));
    let q = query(&pairs);
    ApiRequest::new(cfg, Method::GET, &format!("/playlists/{}?{q}", id.as_str()), Safety::Idempotent)
}

/// `PUT {api}/playlists/{id}` with JSON holding the changed fields only. Answers `200` with no body
/// ([`parse_no_content`]).
///
/// See <https://developer.spotify.com/documentation/web-api/reference/change-playlist-details>.
pub fn change_details_request(
    cfg: &AppConfig,
    id: &PlaylistId,
    change: &DetailsChange,
) -> Result<ApiRequest, RequestError> {
    if change.is_empty() {
        return Err(RequestError::NothingToChange);
    }
    if change.name.as_ref().is_some_and(|name| name.trim().is_empty()) {
        return Err(RequestError::EmptyName);
    }
    if change.collaborative == Some(true) && change.public == Some(true) {
        return Err(RequestError::CollaborativePublic);
    }
    let mut body = Map::new();
    if let Some(name) = &change.name {
        body.insert("name".into(), name.clone().into());
    }
    if let Some(description) = &change.description {
        body.insert("description".into(), description.clone().into());
    }
    if let Some(public) = change.public {
        body.insert("public".into(), public.into());
    }
    if let Some(collaborative) = change.collaborative {
        body.insert("collaborative".into(), collaborative.into());
    }
    // Sets the fields to values, so a replay changes nothing more.
    Ok(json_request(
        cfg,
        Method::PUT,
        &format!("/playlists/{}", id.as_str()),
        &Value::Object(body),
        Safety::Idempotent,
    ))
}

/// The owner of a playlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// `None` when Spotify sent no usable id.
    pub id: Option<UserId>,
    /// The owner's profile name, if Spotify has one.
    pub display_name: Option<String>,
}

/// A playlist as listed by `GET /me/playlists` (Spotify's SimplifiedPlaylistObject), or the details part
/// of a full playlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistSummary {
    /// The playlist's id.
    pub id: PlaylistId,
    /// Empty when absent.
    pub name: String,
    /// Empty when absent or `null`. Spotify sends it HTML-escaped (`&#x27;`), as entered.
    pub description: String,
    /// `None` when Spotify says the public state is not relevant.
    pub public: Option<bool>,
    /// Whether collaborators may edit it.
    pub collaborative: bool,
    /// Who owns it.
    pub owner: Owner,
    /// Cover images, largest first; may be empty.
    pub images: Vec<Image>,
    /// The current version.
    pub snapshot_id: Option<SnapshotId>,
    /// Number of items, from `items.total` (or the deprecated `tracks.total`); `None` when Spotify
    /// withholds it, as it does for playlists the user neither owns nor collaborates on.
    pub item_count: Option<u32>,
}

impl PlaylistSummary {
    /// Whether `user` owns this playlist (and so may change its details and, unless it is someone
    /// else's collaborative playlist, its items).
    pub fn is_owned_by(&self, user: &UserId) -> bool {
        self.owner.id.as_ref() == Some(user)
    }
}

/// A playlist as returned by `GET /playlists/{id}` and `POST /me/playlists` (Spotify's PlaylistObject).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playlist {
    /// Details, owner, version and item count.
    pub summary: PlaylistSummary,
    /// Number of followers, when asked for and present.
    pub followers: Option<u32>,
    /// The first page of items when the answer carries one (it does not with [`PLAYLIST_FIELDS`]).
    pub first_page: Option<Paging<PlaylistEntry>>,
}

fn summary(value: &Value) -> Option<PlaylistSummary> {
    let id = PlaylistId::parse(value.get("id")?.as_str()?).ok()?;
    let owner = object(value, "owner");
    let count = |key| object(value, key).and_then(|refs| uint(refs, "total"));
    Some(PlaylistSummary {
        id,
        name: string(value, "name").unwrap_or_default(),
        description: string(value, "description").unwrap_or_default(),
        public: boolean(value, "public"),
        collaborative: boolean(value, "collaborative").unwrap_or(false),
        owner: Owner {
            id: owner
                .and_then(|o| o.get("id")?.as_str())
                .and_then(|id| UserId::parse(id).ok()),
            display_name: owner.and_then(|o| string(o, "display_name")),
        },
        images: images(value),
        snapshot_id: value
            .get("snapshot_id")
            .and_then(Value::as_str)
            .and_then(|s| SnapshotId::parse(s).ok()),
        item_count: count("items").or_else(|| count("tracks")),
    })
}

/// Reads the answer to [`my_playlists_request`]. Entries that are `null` or lack a valid id (Spotify
/// sometimes lists such) are skipped; `total` still counts them, so paging is unaffected.
pub fn parse_my_playlists(status: u16, body: &str) -> Result<Paging<PlaylistSummary>, ApiError> {
    let value = read_body(status, body, "playlist list")?;
    Ok(paging(&value, summary))
}

/// Reads the answer to [`playlist_request`] or [`create_playlist_request`]. Only a valid `id` is
/// required.
pub fn parse_playlist(status: u16, body: &str) -> Result<Playlist, ApiError> {
    let value = read_body(status, body, "playlist")?;
    let summary = summary(&value).ok_or_else(|| ApiError {
        status,
        message: "unreadable playlist from Spotify: `id` is missing or invalid".into(),
    })?;
    let first_page = object(&value, "items")
        .filter(|items| items.get("items").is_some_and(Value::is_array))
        .or_else(|| {
            object(&value, "tracks").filter(|items| items.get("items").is_some_and(Value::is_array))
        })
        .map(|items| paging(items, |v| Some(entry(v))));
    Ok(Playlist {
        summary,
        followers: object(&value, "followers").and_then(|f| uint(f, "total")),
        first_page,
    })
}

/// Reads the answer to [`change_details_request`]: any 2xx is success, whatever the body.
pub fn parse_no_content(status: u16, body: &str) -> Result<(), ApiError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(parse_api_error(status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spotify::tests::*;

    #[test]
    fn my_playlists_request_is_exact() {
        let request = my_playlists_request(
            &config(),
            Page::new(50, 150).expect("valid"),
        );
        assert_request(
            &request,
            Method::GET,
            "http://127.0.0.1:9000/v1/me/playlists?limit=50&offset=150",
            None,
        );
    }

    #[test]
    fn create_playlist_request_is_exact() {
        let new = NewPlaylist {
            name: "Road trip".into(),
            description: "Songs & \"stuff\"".into(),
            public: false,
            collaborative: true,
        };
        let request = create_playlist_request(&config(), &new).expect("valid");
        assert_request(
            &request,
            Method::POST,
            "http://127.0.0.1:9000/v1/me/playlists",
            Some(json!({
                "name": "Road trip",
                "description": "Songs & \"stuff\"",
                "public": false,
                "collaborative": true
            })),
        );
        let blank = NewPlaylist {
            name: "  ".into(),
            ..new.clone()
        };
        assert_eq!(
            create_playlist_request(&config(), &blank).err(),
            Some(RequestError::EmptyName)
        );
        let both = NewPlaylist {
            public: true,
            ..new
        };
        assert_eq!(
            create_playlist_request(&config(), &both).err(),
            Some(RequestError::CollaborativePublic)
        );
    }

    #[test]
    fn playlist_request_is_exact() {
        let request = playlist_request(&config(), &playlist_id(), Some(PLAYLIST_FIELDS));
        assert_request(
            &request,
            Method::GET,
            "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n?\
             fields=id%2Cname%2Cdescription%2Cpublic%2Ccollaborative%2Cowner%28id%2Cdisplay_name%29%2C\
             images%2Csnapshot_id%2Citems.total&additional_types=track%2Cepisode",
            None,
        );
        let request = playlist_request(&config(), &playlist_id(), None);
        assert_request(
            &request,
            Method::GET,
            "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n?additional_types=track%2Cepisode",
            None,
        );
    }

    #[test]
    fn change_details_request_is_exact() {
        let change = DetailsChange {
            name: Some("New name".into()),
            public: Some(false),
            ..DetailsChange::default()
        };
        let request =
            change_details_request(&config(), &playlist_id(), &change).expect("valid");
        assert_request(
            &request,
            Method::PUT,
            "http://127.0.0.1:9000/v1/playlists/3cEYpjA9oz9GiPac4AsH4n",
            Some(json!({"name": "New name", "public": false})),
        );
        let all = DetailsChange {
            name: Some("n".into()),
            description: Some(String::new()),
            public: Some(false),
            collaborative: Some(true),
        };
        let request =
            change_details_request(&config(), &playlist_id(), &all).expect("valid");
        assert_eq!(
            serde_json::from_str::<Value>(request.body()).ok(),
            Some(json!({"name": "n", "description": "", "public": false, "collaborative": true}))
        );
        for (change, error) in [
            (DetailsChange::default(), RequestError::NothingToChange),
            (
                DetailsChange {
                    name: Some(" ".into()),
                    ..DetailsChange::default()
                },
                RequestError::EmptyName,
            ),
            (
                DetailsChange {
                    public: Some(true),
                    collaborative: Some(true),
                    ..DetailsChange::default()
                },
                RequestError::CollaborativePublic,
            ),
        ] {
            assert_eq!(
                change_details_request(&config(), &playlist_id(), &change).err(),
                Some(error)
            );
        }
    }

    #[test]
    fn parses_my_playlists() {
        let body = r#"{
            "href": "https://api.spotify.com/v1/me/playlists?offset=0&limit=2",
            "limit": 2, "next": "https://api.spotify.com/v1/me/playlists?offset=2&limit=2",
            "offset": 0, "previous": null, "total": 3,
            "items": [
                {
                    "collaborative": false,
                    "description": "Chill &amp; calm",
                    "external_urls": {"spotify": "https://open.spotify.com/playlist/3cEYpjA9oz9GiPac4AsH4n"},
                    "href": "https://api.spotify.com/v1/playlists/3cEYpjA9oz9GiPac4AsH4n",
                    "id": "3cEYpjA9oz9GiPac4AsH4n",
                    "images": [{"url": "https://i.scdn.co/image/big", "height": 640, "width": 640},
                               {"url": "https://i.scdn.co/image/small", "height": 60, "width": 60}],
                    "name": "Chill",
                    "owner": {"display_name": "Ada", "id": "ada", "type": "user", "uri": "spotify:user:ada",
                              "external_urls": {}, "href": "x"},
                    "public": true,
                    "snapshot_id": "MTAsZmFrZQ==",
                    "items": {"href": "https://api.spotify.com/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items", "total": 42},
                    "tracks": {"href": "x", "total": 41},
                    "type": "playlist",
                    "uri": "spotify:playlist:3cEYpjA9oz9GiPac4AsH4n",
                    "primary_color": null
                },
                null,
                {"id": "37i9dQZF1DXcBWIGoYBM5M", "tracks": {"total": 7}, "owner": {"id": "spotify", "display_name": null},
                 "public": null, "description": null, "images": null}
            ]
        }"#;
        let page = parse_my_playlists(200, body).expect("parses");
        assert_eq!((page.total, page.limit, page.offset), (3, 2, 0));
        assert_eq!(page.items.len(), 2, "the null entry is skipped");
        let first = &page.items[0];
        assert_eq!(first.id.as_str(), "3cEYpjA9oz9GiPac4AsH4n");
        assert_eq!(first.name, "Chill");
        assert_eq!(first.description, "Chill &amp; calm");
        assert_eq!(first.public, Some(true));
        assert!(!first.collaborative);
        assert_eq!(first.owner.display_name.as_deref(), Some("Ada"));
        assert!(first.is_owned_by(&UserId::parse("ada").expect("valid")));
        assert_eq!(first.images.len(), 2);
        assert_eq!(first.snapshot_id.as_ref().map(SnapshotId::as_str), Some("MTAsZmFrZQ=="));
        assert_eq!(first.item_count, Some(42), "items.total wins over tracks.total");
        let second = &page.items[1];
        assert_eq!(second.item_count, Some(7), "tracks.total is the fallback");
        assert_eq!(second.public, None);
        assert_eq!(second.description, "");
        assert_eq!(second.name, "");
        assert!(second.images.is_empty());
        assert_eq!(second.owner.display_name, None);
        assert_eq!(second.snapshot_id, None);
    }

    #[test]
    fn parses_playlist_filtered_with_playlist_fields() {
        let body = r#"{
            "collaborative": false, "description": "", "id": "3cEYpjA9oz9GiPac4AsH4n",
            "images": [], "name": "Mine", "owner": {"display_name": "Ada", "id": "ada"},
            "public": false, "snapshot_id": "AAAAB8C", "items": {"total": 10000}
        }"#;
        let playlist = parse_playlist(200, body).expect("parses");
        assert_eq!(playlist.summary.item_count, Some(10_000));
        assert_eq!(playlist.summary.public, Some(false));
        assert_eq!(playlist.first_page, None);
        assert_eq!(playlist.followers, None);
        // Someone else's playlist: Spotify withholds the items.
        let theirs = parse_playlist(200, r#"{"id": "3cEYpjA9oz9GiPac4AsH4n", "name": "Theirs"}"#)
            .expect("parses");
        assert_eq!(theirs.summary.item_count, None);
        assert_eq!(theirs.summary.owner.id, None);
        let error = parse_playlist(200, r#"{"name": "x"}"#).expect_err("no id");
        assert!(error.message.contains("`id`"), "{}", error.message);
        assert_eq!(
            parse_playlist(404, r#"{"error":{"status":404,"message":"Resource not found"}}"#),
            Err(ApiError {
                status: 404,
                message: "Resource not found".into()
            })
        );
    }

    #[test]
    fn parses_full_playlist_with_first_page() {
        let body = r#"{
            "id": "3cEYpjA9oz9GiPac4AsH4n", "name": "Full", "followers": {"href": null, "total": 12},
            "items": {"href": "x", "limit": 100, "offset": 0, "total": 1, "next": null, "previous": null,
                      "items": [{"added_at": "2026-01-02T03:04:05Z", "is_local": false,
                                 "item": {"type": "track", "uri": "spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "name": "Song"}}]}
        }"#;
        let playlist = parse_playlist(201, body).expect("parses");
        assert_eq!(playlist.followers, Some(12));
        let page = playlist.first_page.expect("page");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].name, "Song");
    }
}
