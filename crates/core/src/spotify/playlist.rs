//! Playlist and search requests, and tolerant models of their answers.
//!
//! Request builders return [`ApiRequest`] values (no token: the transport adds it on each attempt); the ones
//! whose input can break a Spotify limit return `Err` instead of truncating. Parsers take `(status, body)`:
//! non-2xx answers become the [`ApiError`] they carry, and 2xx bodies are read leniently (absent,
//! `null` or unexpected fields never fail a page; see each model).
//!
//! Reference: <https://developer.spotify.com/documentation/web-api/reference/get-playlist> and its
//! neighbours, as captured in `shared/reference/spotify-web-api.openapi.yml` (2026: `/items`, `item`).

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::spotify::request::ApiRequest;
use crate::sync::retry::Safety;
use crate::spotify::error::parse_api_error;
use crate::ids::{ItemKind, PlaylistId, SnapshotId, TrackUri, UserId};
use crate::edit::model::{ModelError, Op};
use crate::auth::oauth::describe_json_error;
use crate::{ApiError, AppConfig, Image};

/// `fields` for [`playlist_request`] when opening a playlist: its details, owner, version and item count,
/// without the items themselves (those come page by page from [`items_request`]).
pub const PLAYLIST_FIELDS: &str =
    "id,name,description,public,collaborative,owner(id,display_name),images,snapshot_id,items.total";

/// `fields` for [`playlist_request`] when only the version matters: checking that a playlist did not
/// change while its pages were loading.
pub const SNAPSHOT_FIELDS: &str = "snapshot_id";

/// `fields` for [`items_request`]: what the editor shows for each entry, for tracks and episodes.
/// ISRC, popularity, release date, playability and who added it are what the curation tools
/// ([`crate::curate`]) need: same-recording duplicates, "keep the most popular", sorting by release date,
/// removing what is unavailable.
pub const ITEMS_FIELDS: &str = "items(added_at,added_by(id),is_local,item(type,uri,name,duration_ms,explicit,\
is_playable,popularity,external_ids(isrc),images,artists(name),album(name,release_date,images),show(name))),\
total,limit,offset";

/// Why a request could not be built. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A paging or search parameter outside what Spotify accepts.
    #[error("{what} must be between {min} and {max}, got {got}")]
    OutOfRange {
        /// The parameter, e.g. `limit`.
        what: &'static str,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
        /// The value given.
        got: u64,
    },
    /// A new playlist, or a rename, with an empty or blank name.
    #[error("a playlist needs a name")]
    EmptyName,
    /// A details change that changes nothing.
    #[error("no playlist details to change")]
    NothingToChange,
    /// `collaborative: true` together with `public: true`, which Spotify refuses.
    #[error("a collaborative playlist cannot be public")]
    CollaborativePublic,
    /// A search for blank text.
    #[error("nothing to search for")]
    EmptyQuery,
    /// An item write Spotify would refuse whatever the playlist holds.
    #[error(transparent)]
    Op(#[from] ModelError),
}

/// One page of a paged list: `limit` 1 to 50 items from `offset`, Spotify's bounds for
/// `GET /me/playlists` and `GET /playlists/{id}/items`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    limit: u32,
    offset: u32,
}

impl Page {
    /// The largest page Spotify serves for playlists and items.
    pub const MAX_LIMIT: u32 = 50;

    /// A page of `limit` (1 to 50) items starting at `offset`.
    pub fn new(limit: u32, offset: u32) -> Result<Self, RequestError> {
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(RequestError::OutOfRange {
                what: "limit",
                min: 1,
                max: Self::MAX_LIMIT.into(),
                got: limit.into(),
            });
        }
        Ok(Self { limit, offset })
    }

    /// The first page of 50.
    pub fn first() -> Self {
        Self {
            limit: Self::MAX_LIMIT,
            offset: 0,
        }
    }

    /// Items per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Index of the page's first item.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The pages after this one, of the same size, that cover a list of `total` items: what to fetch in
    /// parallel once the first page has told the total. An iterator, because `total` comes from the
    /// network and a collected list could be arbitrarily large.
    pub fn following(&self, total: u32) -> impl Iterator<Item = Page> {
        let limit = self.limit;
        let start = self.offset.saturating_add(limit);
        (start..total)
            .step_by(limit as usize)
            .map(move |offset| Page { limit, offset })
    }
}

/// A page of search results: `limit` 1 to 10 from `offset` 0 to 1000, Spotify's bounds for `GET /search`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    limit: u32,
    offset: u32,
}

impl SearchPage {
    /// The largest page Spotify serves for search.
    pub const MAX_LIMIT: u32 = 10;
    /// The furthest Spotify lets a search page go.
    pub const MAX_OFFSET: u32 = 1000;

    /// A page of `limit` (1 to 10) results from `offset` (0 to 1000).
    pub fn new(limit: u32, offset: u32) -> Result<Self, RequestError> {
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(RequestError::OutOfRange {
                what: "limit",
                min: 1,
                max: Self::MAX_LIMIT.into(),
                got: limit.into(),
            });
        }
        if offset > Self::MAX_OFFSET {
            return Err(RequestError::OutOfRange {
                what: "offset",
                min: 0,
                max: Self::MAX_OFFSET.into(),
                got: offset.into(),
            });
        }
        Ok(Self { limit, offset })
    }

    /// Results per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Index of the first result.
    pub fn offset(&self) -> u32 {
        self.offset
    }
}

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

/// Percent-encodes query pairs. Spaces become `%20`, which every decoder reads as a space (the form
/// serializer's `+` is only a space to form decoders); a literal `+` was already escaped to `%2B`.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish().replace('+', "%20")
}

fn json_request(cfg: &AppConfig, method: Method, path: &str, body: &Value, safety: Safety) -> ApiRequest {
    ApiRequest::new(cfg, method, path, safety).with_json(body)
}

fn items_path(id: &PlaylistId) -> String {
    format!("/playlists/{}/items", id.as_str())
}

/// `GET {api}/me/playlists?limit=&offset=`: the playlists the user owns or follows.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/get-a-list-of-current-users-playlists>.
pub fn my_playlists_request(
    cfg: &AppConfig,
    page: Page,
) -> ApiRequest {
    let q = query(&[
        ("limit", &page.limit.to_string()),
        ("offset", &page.offset.to_string()),
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
    let limit = page.limit.to_string();
    let offset = page.offset.to_string();
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

/// `GET {api}/search?q=&type=track&limit=&offset=`: tracks matching `text` (Spotify's search syntax,
/// such as `artist:Nina`, passes through).
///
/// See <https://developer.spotify.com/documentation/web-api/reference/search>.
pub fn search_tracks_request(
    cfg: &AppConfig,
    text: &str,
    page: SearchPage,
) -> Result<ApiRequest, RequestError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RequestError::EmptyQuery);
    }
    let q = query(&[
        ("q", text),
        ("type", "track"),
        ("limit", &page.limit.to_string()),
        ("offset", &page.offset.to_string()),
    ]);
    Ok(ApiRequest::new(cfg, Method::GET, &format!("/search?{q}"), Safety::Idempotent))
}

/// One page of a paged answer. Spotify's `href`, `next` and `previous` are not kept: pages are fetched
/// by offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging<T> {
    /// The page's items, in order.
    pub items: Vec<T>,
    /// How many items the whole list has.
    pub total: u32,
    /// The page size Spotify used.
    pub limit: u32,
    /// Index of the page's first item in the whole list.
    pub offset: u32,
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

/// A track from a search (Spotify's TrackObject), ready to add: unlike a [`PlaylistEntry`] its URI is
/// always known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    /// `spotify:track:ID`.
    pub uri: TrackUri,
    /// Empty when absent.
    pub name: String,
    /// Artist names joined with `", "`.
    pub artists: String,
    /// Album name.
    pub album: String,
    /// Length, when known.
    pub duration_ms: Option<u32>,
    /// Whether the track is marked explicit.
    pub explicit: bool,
    /// The smallest album image, for a thumbnail.
    pub image: Option<Image>,
}

impl From<Track> for PlaylistEntry {
    fn from(track: Track) -> Self {
        Self {
            kind: Some(track.uri.kind()),
            is_local: track.uri.is_local(),
            uri: Some(track.uri),
            name: track.name,
            artists: track.artists,
            album: track.album,
            duration_ms: track.duration_ms,
            explicit: track.explicit,
            added_at: None,
            image: track.image,
            isrc: None,
            release_date: None,
            popularity: None,
            playable: None,
            added_by: None,
        }
    }
}

// --- Reading answers -------------------------------------------------------------------------------
//
// Bodies are read into `serde_json::Value` and picked apart by hand: a typed deserializer would reject a
// whole page for one odd field, and Spotify's answers vary with `fields` filters, item types and age.

fn object<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| v.is_object())
}

fn string(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_owned)
}

fn uint(value: &Value, key: &str) -> Option<u32> {
    value.get(key)?.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn boolean(value: &Value, key: &str) -> Option<bool> {
    value.get(key)?.as_bool()
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn images(value: &Value) -> Vec<Image> {
    array(value, "images")
        .iter()
        .filter_map(|image| {
            Some(Image {
                url: string(image, "url").filter(|url| !url.is_empty())?,
                height: uint(image, "height"),
                width: uint(image, "width"),
            })
        })
        .collect()
}

/// Spotify lists images largest first; the last is the cheapest thumbnail.
fn smallest_image(value: &Value) -> Option<Image> {
    images(value).pop()
}

fn joined_names(value: &Value, key: &str) -> String {
    array(value, key)
        .iter()
        .filter_map(|artist| string(artist, "name"))
        .filter(|name| !name.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the status and reads a JSON object; `what` names the answer in error messages.
fn read_body(status: u16, body: &str, what: &str) -> Result<Value, ApiError> {
    if !(200..300).contains(&status) {
        return Err(parse_api_error(status, body));
    }
    let value: Value = serde_json::from_str(body).map_err(|e| ApiError {
        status,
        message: format!("unreadable {what} from Spotify: {}", describe_json_error(&e)),
    })?;
    if !value.is_object() {
        return Err(ApiError {
            status,
            message: format!("unreadable {what} from Spotify: the body is not a JSON object"),
        });
    }
    Ok(value)
}

/// Reads a paging object, skipping items `item` makes nothing of. A missing `total` is taken as what the
/// page shows, so a caller never waits for pages that do not exist.
fn paging<T>(value: &Value, item: impl Fn(&Value) -> Option<T>) -> Paging<T> {
    let raw = array(value, "items");
    let offset = uint(value, "offset").unwrap_or(0);
    let shown = u32::try_from(raw.len()).unwrap_or(u32::MAX);
    let items: Vec<T> = raw.iter().filter_map(item).collect();
    Paging {
        total: uint(value, "total").unwrap_or_else(|| offset.saturating_add(shown)),
        limit: uint(value, "limit").unwrap_or(shown),
        offset,
        items,
    }
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

/// Reads one PlaylistTrackObject; never fails, so positions are preserved (see [`PlaylistEntry`]).
fn entry(value: &Value) -> PlaylistEntry {
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

/// Reads one search result; `None` for a result without a usable track URI, which could not be added.
fn track(value: &Value) -> Option<Track> {
    let uri = TrackUri::parse(value.get("uri")?.as_str()?).ok()?;
    if uri.is_local() {
        return None;
    }
    let album = object(value, "album");
    Some(Track {
        uri,
        name: string(value, "name").unwrap_or_default(),
        artists: joined_names(value, "artists"),
        album: album
            .and_then(|album| string(album, "name"))
            .unwrap_or_default(),
        duration_ms: uint(value, "duration_ms"),
        explicit: boolean(value, "explicit").unwrap_or(false),
        image: album.and_then(smallest_image),
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

/// Reads the answer to [`change_details_request`]: any 2xx is success, whatever the body.
pub fn parse_no_content(status: u16, body: &str) -> Result<(), ApiError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(parse_api_error(status, body))
    }
}

/// Reads the answer to [`search_tracks_request`]: the `tracks` page (empty when absent). Results without
/// a usable track URI are skipped.
pub fn parse_search_tracks(status: u16, body: &str) -> Result<Paging<Track>, ApiError> {
    let value = read_body(status, body, "search results")?;
    Ok(match object(&value, "tracks") {
        Some(tracks) => paging(tracks, track),
        None => Paging {
            items: Vec::new(),
            total: 0,
            limit: 0,
            offset: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessToken;
    use http::header::{AUTHORIZATION, CONTENT_TYPE};
    use proptest::prelude::*;

    const PL: &str = "3cEYpjA9oz9GiPac4AsH4n";

    fn config() -> AppConfig {
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

    fn token() -> AccessToken {
        AccessToken::new("BQD-s3cret".into())
    }

    fn playlist_id() -> PlaylistId {
        PlaylistId::parse(PL).expect("valid")
    }

    fn t(n: usize) -> TrackUri {
        TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("valid")
    }

    /// Asserts method, URI, headers and (as JSON) body, and that the token is not in `Debug`.
    fn assert_request(
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

    #[test]
    fn pages() {
        assert_eq!(Page::new(50, 100).map(|p| (p.limit(), p.offset())), Ok((50, 100)));
        assert_eq!(
            Page::new(51, 0),
            Err(RequestError::OutOfRange {
                what: "limit",
                min: 1,
                max: 50,
                got: 51
            })
        );
        assert!(Page::new(0, 0).is_err());
        let offsets: Vec<u32> = Page::first().following(120).map(|p| p.offset()).collect();
        assert_eq!(offsets, [50, 100]);
        assert_eq!(Page::first().following(50).count(), 0);
        assert_eq!(Page::first().following(0).count(), 0);
        let small = Page::new(20, 10).expect("valid");
        let offsets: Vec<u32> = small.following(71).map(|p| p.offset()).collect();
        assert_eq!(offsets, [30, 50, 70]);
        assert_eq!(
            Page::new(50, u32::MAX - 10).expect("valid").following(u32::MAX).count(),
            0
        );
        assert!(SearchPage::new(10, 1000).is_ok());
        assert!(SearchPage::new(11, 0).is_err());
        assert_eq!(
            SearchPage::new(5, 1001),
            Err(RequestError::OutOfRange {
                what: "offset",
                min: 0,
                max: 1000,
                got: 1001
            })
        );
    }

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

    #[test]
    fn search_tracks_request_is_exact() {
        let request = search_tracks_request(
            &config(),
            " artist:Nina Simone & co+ ",
            SearchPage::new(10, 20).expect("valid"),
        )
        .expect("valid");
        assert_request(
            &request,
            Method::GET,
            "http://127.0.0.1:9000/v1/search?q=artist%3ANina%20Simone%20%26%20co%2B&type=track&limit=10&offset=20",
            None,
        );
        assert_eq!(
            search_tracks_request(&config(), "  ", SearchPage::new(1, 0).expect("valid")).err(),
            Some(RequestError::EmptyQuery)
        );
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

    #[test]
    fn parses_search() {
        let body = r#"{"tracks": {
            "href": "x", "limit": 10, "offset": 0, "total": 900, "next": "y", "previous": null,
            "items": [
                {"album": {"name": "Pastel Blues", "images": [{"url": "a", "height": 640, "width": 640},
                                                           {"url": "b", "height": 64, "width": 64}],
                           "album_type": "album", "artists": [{"name": "Nina Simone"}]},
                 "artists": [{"name": "Nina Simone"}], "duration_ms": 622000, "explicit": false,
                 "id": "4iV5W9uYEdYUVa79Axb7Rh", "name": "Sinnerman", "type": "track",
                 "uri": "spotify:track:4iV5W9uYEdYUVa79Axb7Rh", "is_local": false},
                null,
                {"name": "no uri"}
            ]}}"#;
        let page = parse_search_tracks(200, body).expect("parses");
        assert_eq!(page.total, 900);
        assert_eq!(page.items.len(), 1);
        let track = &page.items[0];
        assert_eq!(track.name, "Sinnerman");
        assert_eq!(track.artists, "Nina Simone");
        assert_eq!(track.album, "Pastel Blues");
        assert_eq!(track.duration_ms, Some(622_000));
        assert_eq!(track.image.as_ref().map(|i| i.url.as_str()), Some("b"));
        let entry = PlaylistEntry::from(track.clone());
        assert_eq!(entry.uri.as_ref(), Some(&track.uri));
        assert_eq!(entry.kind, Some(ItemKind::Track));
        assert_eq!(parse_search_tracks(200, "{}").map(|p| p.items.len()), Ok(0));
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
}
