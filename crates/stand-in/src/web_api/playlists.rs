//! Playlists: `GET/POST /v1/me/playlists`, `GET/PUT /v1/playlists/{id}` and `GET/POST/PUT/DELETE
//! /v1/playlists/{id}/items`
//! ([Spotify: playlists](https://developer.spotify.com/documentation/web-api/concepts/playlists)).
//!
//! Who may do what: anyone signed in may read a playlist's details; its items are for the owner and, on a
//! collaborative playlist, for those who follow it (everyone else gets `403 Forbidden`), and so are item writes.
//! Only the owner changes details. Private playlists need `playlist-read-private` to be read (collaborative ones
//! also take `playlist-read-collaborative`); writes need `playlist-modify-public` or `playlist-modify-private`
//! after the playlist's visibility.
//!
//! Unknown ids. The catalog is synthetic, so a real Spotify id (`spotify:track:4iV5W9uYEdYUVa79Axb7Rh`) is unknown
//! here. The reference gives the shapes (`BadRequest`, `NotFound`: `{"error": ErrorObject}`) but not the messages;
//! the choice follows what Spotify answers, as clients report it:
//! - an add or replace naming a well-formed track or episode URI that is not in the catalog: `400 Payload contains
//!   a non-existing ID` (and nothing changes, even when other URIs in the request are known);
//! - a malformed id: `400 Invalid base62 id`; not a track or episode URI at all: `400 Invalid track uri: ...`;
//! - a remove naming an unknown URI: nothing to remove, so it is ignored (see `crate::playlists` for the snapshot);
//! - an unknown playlist id: `404 Resource not found`.
//!
//! `null` in a request body is refused with a 400 naming the field, never read as "absent": the reference types
//! every body field as a plain string, boolean, integer or array (none `nullable`) and documents no meaning for
//! `null` (see `params::opt_string`).
//!
//! Episodes in playlists come as EpisodeObjects whether or not the request lists `episode` in `additional_types`.
//! To a client that does not ask, Spotify has been seen to send a track-shaped "legacy" episode (`"type":
//! "episode"` inside a TrackObject, the show as album and artist), but the reference documents only `item:
//! TrackObject | EpisodeObject`, told apart by `type`, and tells clients to check `type` for kinds they did not ask
//! for; the legacy shape validates as neither. Setlist's app always asks for episodes, so it sees the same either
//! way.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::fields::filter;
use super::params::{self, Params, PlaylistId};
use super::render::{paging, Render, Slim};
use super::{ApiBase, ApiError, Bearer};
use crate::catalog::{self, Item, UriError};
use crate::playlists::{EditError, Entry, Playlist, Removal, Store};
use crate::StandIn;

/// Most URIs one add, replace or remove may carry.
const MAX_URIS: usize = 100;
/// `GET /me/playlists` refuses offsets past this (Spotify: "Maximum offset: 100.000").
const MAX_LIBRARY_OFFSET: usize = 100_000;
/// Parameters that item pages' `next`/`previous` links carry over.
const CARRIED: &[&str] = &["additional_types", "fields", "market"];

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Resource not found")
}

fn find<'a>(store: &'a Store, id: &str) -> Result<&'a Playlist, ApiError> {
    store.get(id).ok_or_else(not_found)
}

fn find_mut<'a>(store: &'a mut Store, id: &str) -> Result<&'a mut Playlist, ApiError> {
    store.get_mut(id).ok_or_else(not_found)
}

fn may_read_private(auth: &Bearer, playlist: &Playlist) -> bool {
    playlist.public
        || auth.has_scope("playlist-read-private")
        || (playlist.collaborative && auth.has_scope("playlist-read-collaborative"))
}

fn require_read_scope(auth: &Bearer, playlist: &Playlist) -> Result<(), ApiError> {
    if may_read_private(auth, playlist) {
        Ok(())
    } else {
        Err(ApiError::forbidden("Insufficient client scope"))
    }
}

fn require_modify_scope(auth: &Bearer, public: bool) -> Result<(), ApiError> {
    auth.require_scope(if public {
        "playlist-modify-public"
    } else {
        "playlist-modify-private"
    })
}

/// Item access: the owner, or a collaborator on a collaborative playlist; else `403 Forbidden`.
fn require_items_access(store: &Store, playlist: &Playlist, auth: &Bearer) -> Result<(), ApiError> {
    if store.may_edit_items(playlist, auth.user.id) {
        Ok(())
    } else {
        Err(ApiError::forbidden("Forbidden"))
    }
}

fn body_object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, ApiError> {
    let body =
        body.map_err(|rejection| ApiError::new(rejection.status(), "Invalid request body"))?;
    params::object(&body)
}

fn snapshot(status: StatusCode, playlist: &Playlist) -> Response {
    (
        status,
        Json(json!({ "snapshot_id": playlist.snapshot_id() })),
    )
        .into_response()
}

/// Resolves URIs to catalog items, refusing more than [`MAX_URIS`] and anything that is not a known track or
/// episode.
fn resolve_all(uris: &[String], too_many: &'static str) -> Result<Vec<Item>, ApiError> {
    if uris.len() > MAX_URIS {
        return Err(ApiError::bad_request(too_many));
    }
    let catalog = catalog::get();
    uris.iter()
        .map(|uri| {
            catalog
                .resolve(uri)
                .map_err(|error| ApiError::bad_request(error.message(uri)))
        })
        .collect()
}

fn new_entries(items: Vec<Item>, now: i64, user: &'static str) -> Vec<Entry> {
    items
        .into_iter()
        .map(|item| Entry {
            item,
            added_at: now,
            added_by: user,
            // Numbered by the playlist they join.
            uid: 0,
        })
        .collect()
}

/// `GET /v1/me/playlists`: a PagingPlaylistObject of the user's own and followed playlists, newest first.
/// Private ones are listed only with `playlist-read-private` (collaborative ones also with
/// `playlist-read-collaborative`).
pub(super) async fn list_mine(
    auth: Bearer,
    ApiBase(base): ApiBase,
    State(stand_in): State<StandIn>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit(20, 50)?;
    let offset = params.offset(MAX_LIBRARY_OFFSET)?;
    let fields = params.fields()?;
    let render = Render::new(&base);
    let (items, total) = {
        let inner = stand_in.lock();
        let store = &inner.playlists;
        let visible: Vec<&Playlist> = store
            .library(auth.user.id)
            .iter()
            .filter_map(|id| store.get(id))
            .filter(|playlist| may_read_private(&auth, playlist))
            .collect();
        let items: Vec<Value> = visible
            .iter()
            .skip(offset)
            .take(limit)
            .map(|playlist| render.simplified_playlist(playlist))
            .collect();
        (items, visible.len())
    };
    let page = paging(
        &format!("{base}/me/playlists"),
        &params.carried(&["fields"]),
        items,
        offset,
        limit,
        total,
    );
    Ok(Json(filter(page, fields.as_ref())))
}

/// `POST /v1/me/playlists`: `{name, public?, collaborative?, description?}` makes an empty playlist at the top of
/// the user's library; answers 201 with its PlaylistObject.
pub(super) async fn create(
    auth: Bearer,
    ApiBase(base): ApiBase,
    State(stand_in): State<StandIn>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_object(body)?;
    let name = params::opt_string(&body, "name")?
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing required field: name"))?;
    let public = params::opt_bool(&body, "public")?.unwrap_or(true);
    let collaborative = params::opt_bool(&body, "collaborative")?.unwrap_or(false);
    let description = params::opt_string(&body, "description")?.unwrap_or_default();
    if collaborative && public {
        return Err(ApiError::bad_request(
            "Collaborative playlists can only be private",
        ));
    }
    if collaborative {
        auth.require_scope("playlist-modify-public")?;
    }
    require_modify_scope(&auth, public)?;

    let render = Render::new(&base);
    let mut inner = stand_in.lock();
    let store = &mut inner.playlists;
    let id = store.create(auth.user.id, name);
    let playlist = find_mut(store, &id)?;
    playlist.public = public;
    playlist.collaborative = collaborative;
    playlist.description = description;
    let store = &inner.playlists;
    let playlist = find(store, &id)?;
    let body = render.playlist(store, playlist, true, "");
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /v1/playlists/{id}`: the PlaylistObject; its first page of items only for the owner and collaborators.
pub(super) async fn get(
    auth: Bearer,
    ApiBase(base): ApiBase,
    State(stand_in): State<StandIn>,
    PlaylistId(id): PlaylistId,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let fields = params.fields()?;
    let render = Render::new(&base).slim(Slim::of(
        fields.as_ref(),
        &[&["items", "items"], &["tracks", "items"]],
    ));
    let body = {
        let inner = stand_in.lock();
        let store = &inner.playlists;
        let playlist = find(store, &id)?;
        let with_items =
            store.may_edit_items(playlist, auth.user.id) && may_read_private(&auth, playlist);
        render.playlist(store, playlist, with_items, &params.carried(CARRIED))
    };
    Ok(Json(filter(body, fields.as_ref())))
}

/// `PUT /v1/playlists/{id}`: `{name?, public?, collaborative?, description?}`, owner only; answers 200 with no
/// body.
pub(super) async fn change_details(
    auth: Bearer,
    State(stand_in): State<StandIn>,
    PlaylistId(id): PlaylistId,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body_object(body)?;
    let name = params::opt_string(&body, "name")?;
    let public = params::opt_bool(&body, "public")?;
    let collaborative = params::opt_bool(&body, "collaborative")?;
    let description = params::opt_string(&body, "description")?;
    if name.as_ref().is_some_and(|name| name.trim().is_empty()) {
        return Err(ApiError::bad_request("Playlist name must not be empty"));
    }

    let mut inner = stand_in.lock();
    let playlist = find_mut(&mut inner.playlists, &id)?;
    if playlist.owner != auth.user.id {
        return Err(ApiError::forbidden("Forbidden"));
    }
    let new_public = public.unwrap_or(playlist.public);
    let new_collaborative = collaborative.unwrap_or(playlist.collaborative);
    if new_public && new_collaborative {
        return Err(ApiError::bad_request(
            "Collaborative playlists can only be private",
        ));
    }
    require_modify_scope(&auth, playlist.public)?;
    require_modify_scope(&auth, new_public)?;
    if let Some(name) = name {
        playlist.name = name;
    }
    if let Some(description) = description {
        playlist.description = description;
    }
    playlist.public = new_public;
    playlist.collaborative = new_collaborative;
    playlist.bump();
    Ok(StatusCode::OK)
}

/// `GET /v1/playlists/{id}/items`: a PagingPlaylistTrackObject (limit 1 to 50, default 20). `403 Forbidden` for
/// anyone but the owner and collaborators.
pub(super) async fn items(
    auth: Bearer,
    ApiBase(base): ApiBase,
    State(stand_in): State<StandIn>,
    PlaylistId(id): PlaylistId,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit(20, 50)?;
    let offset = params.offset(usize::MAX)?;
    let fields = params.fields()?;
    let render = Render::new(&base).slim(Slim::of(fields.as_ref(), &[&["items"]]));
    // Only the page's entries are copied under the lock; rendering happens outside it.
    let (playlist_id, entries, total) = {
        let inner = stand_in.lock();
        let store = &inner.playlists;
        let playlist = find(store, &id)?;
        require_items_access(store, playlist, &auth)?;
        require_read_scope(&auth, playlist)?;
        let entries: Vec<_> = playlist
            .entries
            .iter()
            .skip(offset)
            .take(limit)
            .copied()
            .collect();
        (playlist.id.clone(), entries, playlist.entries.len())
    };
    let page = render.items_page_of(
        &playlist_id,
        &entries,
        offset,
        limit,
        total,
        &params.carried(CARRIED),
    );
    Ok(Json(filter(page, fields.as_ref())))
}

/// `POST /v1/playlists/{id}/items`: up to 100 URIs (query `uris`, comma separated, wins over the body's)
/// inserted at `position` (query or body; default: the end). The body is `{"uris": [...], "position"?}` or a bare
/// JSON array of URIs (spotipy's shape, which has no room for `position`). 201 `{snapshot_id}`.
pub(super) async fn add(
    auth: Bearer,
    State(stand_in): State<StandIn>,
    PlaylistId(id): PlaylistId,
    params: Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body =
        body.map_err(|rejection| ApiError::new(rejection.status(), "Invalid request body"))?;
    // spotipy (and others) send the URIs as a bare JSON array; Spotify takes that as the `uris` list.
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(uris)) => Map::from_iter([("uris".to_owned(), Value::Array(uris))]),
        _ => params::object(&body)?,
    };
    let uris = params::uris(&params, &body)?.unwrap_or_default();
    // The query's `position` wins, but the body's must still be well formed (as for `uris`).
    let body_position = params::opt_index(&body, "position", "Index out of bounds")?;
    let position =
        params::query_index(&params, "position", "Index out of bounds")?.or(body_position);

    let mut inner = stand_in.lock();
    let now = inner.clock.now();
    let store = &mut inner.playlists;
    let playlist = find(store, &id)?;
    require_items_access(store, playlist, &auth)?;
    require_modify_scope(&auth, playlist.public)?;
    if uris.is_empty() {
        return Err(ApiError::bad_request("No uris provided"));
    }
    let items = resolve_all(&uris, "You can add a maximum of 100 tracks per request.")?;
    let playlist = find_mut(store, &id)?;
    playlist
        .insert(position, new_entries(items, now, auth.user.id))
        .map_err(|error| ApiError::bad_request(error.message()))?;
    playlist.bump();
    Ok(snapshot(StatusCode::CREATED, playlist))
}

/// `PUT /v1/playlists/{id}/items`: either replace everything with up to 100 URIs (`uris` in the query or body),
/// or move one range (`range_start`, `insert_before`, `range_length` = 1) with indices counted in the version
/// `snapshot_id` names (default: the current one; see `crate::playlists` for how a move on an older version
/// lands). 200 `{snapshot_id}`.
pub(super) async fn update(
    auth: Bearer,
    State(stand_in): State<StandIn>,
    PlaylistId(id): PlaylistId,
    params: Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_object(body)?;
    let uris = params::uris(&params, &body)?;
    let range_start = params::opt_index(&body, "range_start", "Invalid range_start")?;
    let insert_before = params::opt_index(&body, "insert_before", "Invalid insert_before")?;
    let range_length = params::opt_index(&body, "range_length", "Invalid range_length")?;
    let snapshot_id = params::opt_string(&body, "snapshot_id")?;
    let reorder = range_start.is_some() || insert_before.is_some() || range_length.is_some();

    let mut inner = stand_in.lock();
    let now = inner.clock.now();
    let store = &mut inner.playlists;
    let playlist = find(store, &id)?;
    require_items_access(store, playlist, &auth)?;
    require_modify_scope(&auth, playlist.public)?;
    match (uris, reorder) {
        (Some(_), true) => Err(ApiError::bad_request(
            "Replace (uris) and reorder (range_start, insert_before) cannot be combined",
        )),
        (Some(uris), false) => {
            let items = resolve_all(&uris, "You can add a maximum of 100 tracks per request.")?;
            let playlist = find_mut(store, &id)?;
            // A replace sets the whole list, so the snapshot it names (if any) changes nothing.
            playlist.replace(new_entries(items, now, auth.user.id));
            playlist.bump();
            Ok(snapshot(StatusCode::OK, playlist))
        }
        (None, true) => {
            let (Some(start), Some(before)) = (range_start, insert_before) else {
                return Err(ApiError::bad_request(
                    "Missing range_start or insert_before",
                ));
            };
            let playlist = find_mut(store, &id)?;
            let edit_error = |error: EditError| ApiError::bad_request(error.message());
            let base = playlist
                .entries_at(snapshot_id.as_deref())
                .map_err(edit_error)?;
            let moved = playlist
                .reorder_in(&base, start, range_length.unwrap_or(1), before)
                .map_err(edit_error)?;
            // A move onto itself keeps the snapshot (see `crate::playlists`).
            if moved {
                playlist.bump();
            }
            Ok(snapshot(StatusCode::OK, playlist))
        }
        (None, false) => Err(ApiError::bad_request(
            "Give uris to replace, or range_start and insert_before to reorder",
        )),
    }
}

/// `DELETE /v1/playlists/{id}/items`: `{items: [{uri, positions?}], snapshot_id?}`, at most 100 items; removes
/// every occurrence of each URI, or with `positions` only the entries at those positions (counted in the version
/// `snapshot_id` names, default the current one), which must hold that URI. 200 `{snapshot_id}`.
///
/// `positions` is not in the reference, whose `snapshot_id` text still speaks of "the specified items ... in the
/// specified positions": it is the field Spotify documented until 2023 and spotipy still sends
/// (`playlist_remove_specific_occurrences_of_items`), so it is read here.
pub(super) async fn remove(
    auth: Bearer,
    State(stand_in): State<StandIn>,
    PlaylistId(id): PlaylistId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_object(body)?;
    let snapshot_id = params::opt_string(&body, "snapshot_id")?;
    let requested: Vec<(String, Option<Vec<usize>>)> = match body.get("items") {
        Some(Value::Array(items)) => items.iter().map(removal_of).collect::<Result<_, _>>()?,
        Some(_) => return Err(ApiError::bad_request("Invalid items: expected an array")),
        None => return Err(ApiError::bad_request("Missing required field: items")),
    };

    let mut inner = stand_in.lock();
    let store = &mut inner.playlists;
    let playlist = find(store, &id)?;
    require_items_access(store, playlist, &auth)?;
    require_modify_scope(&auth, playlist.public)?;
    if requested.len() > MAX_URIS {
        return Err(ApiError::bad_request(
            "You can remove a maximum of 100 tracks per request.",
        ));
    }
    let catalog = catalog::get();
    let mut removals = Vec::new();
    for (uri, positions) in requested {
        // A local file's URI is refused here as in an add (spotify/web-api #612; the reference's remove takes
        // track and episode URIs): only a replace takes one out of a playlist.
        let item = match catalog.resolve(&uri) {
            Ok(item) => Some(item),
            // Well formed but unknown: nothing to remove.
            Err(UriError::Unknown) => None,
            Err(error) => return Err(ApiError::bad_request(error.message(&uri))),
        };
        match (item, positions) {
            (Some(item), positions) => removals.push(Removal { item, positions }),
            // Positions that name an item no playlist can hold cannot hold it.
            (None, Some(_)) => return Err(ApiError::bad_request(EditError::Positions.message())),
            (None, None) => {}
        }
    }
    let playlist = find_mut(store, &id)?;
    let edit_error = |error: EditError| ApiError::bad_request(error.message());
    let base = playlist
        .entries_at(snapshot_id.as_deref())
        .map_err(edit_error)?;
    // Removing nothing (an empty list, or only absent URIs) keeps the snapshot (see `crate::playlists`).
    if playlist.remove_in(&base, &removals).map_err(edit_error)? > 0 {
        playlist.bump();
    }
    Ok(snapshot(StatusCode::OK, playlist))
}

/// One element of a remove's `items`: `{uri, positions?}`.
fn removal_of(item: &Value) -> Result<(String, Option<Vec<usize>>), ApiError> {
    let Some(object) = item.as_object() else {
        return Err(ApiError::bad_request("Invalid items: each needs a uri"));
    };
    let uri = match object.get("uri") {
        Some(Value::String(uri)) => uri.clone(),
        _ => return Err(ApiError::bad_request("Invalid items: each needs a uri")),
    };
    let positions = match object.get("positions") {
        None => None,
        Some(Value::Array(positions)) => Some(
            positions
                .iter()
                .map(|p| p.as_u64().and_then(|p| usize::try_from(p).ok()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    ApiError::bad_request("Invalid positions: expected non-negative integers")
                })?,
        ),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid positions: expected non-negative integers",
            ))
        }
    };
    Ok((uri, positions))
}
