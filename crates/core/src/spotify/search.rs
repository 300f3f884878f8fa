//! Searching for tracks to add (<https://developer.spotify.com/documentation/web-api/reference/search>).

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::items::PlaylistEntry;
use super::json::{boolean, joined_names, object, read_body, smallest_image, string, uint};
use super::paging::{paging, Paging};
use super::request::{query, ApiRequest, RequestError};
use crate::ids::TrackUri;
use crate::sync::retry::Safety;
use crate::{ApiError, AppConfig, Image};

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
        RequestError::check_range("limit", limit, 1, Self::MAX_LIMIT)?;
        RequestError::check_range("offset", offset, 0, Self::MAX_OFFSET)?;
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
        ("limit", &page.limit().to_string()),
        ("offset", &page.offset().to_string()),
    ]);
    Ok(ApiRequest::new(cfg, Method::GET, &format!("/search?{q}"), Safety::Idempotent))
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
    use crate::spotify::tests::*;
    use crate::ids::ItemKind;

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
}
