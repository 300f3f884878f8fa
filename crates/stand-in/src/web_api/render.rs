//! Catalog items and playlists as the Web API shows them: TrackObject, EpisodeObject, PlaylistTrackObject,
//! SimplifiedPlaylistObject, PlaylistObject and paging objects, shaped after the reference OpenAPI document.

use serde_json::{json, Value};

use crate::catalog::{self, Catalog, Item, MARKETS};
use crate::playlists::{Entry, Playlist, Store};
use crate::users;
use crate::web_api::fields::Fields;

/// Parts of playlist entries that a request's `fields` filter is known to drop, so they need not be built: a
/// 50-entry page is ~200 KB of JSON before a typical filter and ~30 KB after, and building the rest (mostly the
/// two `available_markets` lists and the deprecated `track` copy of each item) was most of the stand-in's time per
/// page. The filter still runs on what is built, so the answer is the same either way (tested below).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slim {
    /// The entries themselves (a playlist's embedded first page).
    entries: bool,
    /// The deprecated `track` copy of each entry's `item`.
    track_copy: bool,
    /// `available_markets` of items, albums and shows.
    markets: bool,
}

impl Slim {
    /// Everything built.
    pub(crate) const FULL: Slim = Slim {
        entries: true,
        track_copy: true,
        markets: true,
    };

    /// What `fields` keeps of the entries found at any of `at` (paths to arrays of entries).
    pub(crate) fn of(fields: Option<&Fields>, at: &[&[&str]]) -> Slim {
        let Some(fields) = fields else {
            return Slim::FULL;
        };
        let keeps = |rest: &[&str]| {
            at.iter().any(|prefix| {
                let path: Vec<&str> = prefix.iter().chain(rest).copied().collect();
                fields.keeps(&path)
            })
        };
        let track_copy = keeps(&["track"]);
        Slim {
            entries: keeps(&[]),
            track_copy,
            markets: track_copy
                || keeps(&["item", "available_markets"])
                || keeps(&["item", "album", "available_markets"])
                || keeps(&["item", "show", "available_markets"]),
        }
    }
}

/// Where links point: `api` is the Web API base (`http://host/v1`), `origin` the stand-in itself (for images).
pub(crate) struct Render<'a> {
    pub(crate) api: &'a str,
    pub(crate) origin: &'a str,
    catalog: &'static Catalog,
    slim: Slim,
}

/// How many entries `GET /playlists/{id}` embeds: the most `GET /playlists/{id}/items` gives per page, so that
/// the embedded page's `next` link can be followed as is.
pub(crate) const EMBEDDED_ITEMS: usize = 50;

impl<'a> Render<'a> {
    pub(crate) fn new(api: &'a str) -> Self {
        Self {
            api,
            origin: api.strip_suffix("/v1").unwrap_or(api),
            catalog: catalog::get(),
            slim: Slim::FULL,
        }
    }

    /// Leaves out of entries what [`Slim`] says the request's filter drops.
    pub(crate) fn slim(self, slim: Slim) -> Self {
        Self { slim, ..self }
    }

    fn markets(&self) -> Value {
        if self.slim.markets {
            json!(MARKETS)
        } else {
            Value::Array(Vec::new())
        }
    }

    fn images(&self, id: &str) -> Value {
        let url = format!("{}/images/{id}.svg", self.origin);
        json!([
            { "url": url, "height": 640, "width": 640 },
            { "url": url, "height": 300, "width": 300 },
            { "url": url, "height": 64, "width": 64 },
        ])
    }

    fn artist(&self, index: u32) -> Value {
        let artist = self.catalog.artist(index);
        json!({
            "external_urls": { "spotify": format!("https://open.spotify.com/artist/{}", artist.id) },
            "href": format!("{}/artists/{}", self.api, artist.id),
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": format!("spotify:artist:{}", artist.id),
        })
    }

    /// An ArtistObject (search's shape): `popularity` and the cover of `cover_album` come from the artist's
    /// tracks; followers grow with popularity; the synthetic catalog has no genres.
    pub(crate) fn full_artist(&self, index: u32, popularity: u8, cover_album: u32) -> Value {
        let mut value = self.artist(index);
        let popularity = u64::from(popularity.min(100));
        value["followers"] =
            json!({ "href": null, "total": popularity * popularity * 97 + index as u64 % 1000 });
        value["genres"] = json!([]);
        value["images"] = self.images(&self.catalog.album(cover_album).id);
        value["popularity"] = json!(popularity);
        value
    }

    /// A SimplifiedAlbumObject.
    pub(crate) fn album(&self, index: u32) -> Value {
        let album = self.catalog.album(index);
        json!({
            "album_type": album.album_type,
            "artists": album.artists.iter().map(|&a| self.artist(a)).collect::<Vec<_>>(),
            "available_markets": self.markets(),
            "external_urls": { "spotify": format!("https://open.spotify.com/album/{}", album.id) },
            "href": format!("{}/albums/{}", self.api, album.id),
            "id": album.id,
            "images": self.images(&album.id),
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": album.release_date_precision,
            "total_tracks": album.total_tracks,
            "type": "album",
            "uri": format!("spotify:album:{}", album.id),
        })
    }

    /// A TrackObject.
    pub(crate) fn track(&self, index: u32) -> Value {
        let track = self.catalog.track(index);
        json!({
            "album": self.album(track.album),
            "artists": track.artists.iter().map(|&a| self.artist(a)).collect::<Vec<_>>(),
            "available_markets": self.markets(),
            "disc_number": track.disc_number,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "external_ids": { "isrc": track.isrc },
            "external_urls": { "spotify": format!("https://open.spotify.com/track/{}", track.id) },
            "href": format!("{}/tracks/{}", self.api, track.id),
            "id": track.id,
            "is_local": false,
            "is_playable": true,
            "name": track.name,
            "popularity": track.popularity,
            "preview_url": null,
            "track_number": track.track_number,
            "type": "track",
            "uri": format!("spotify:track:{}", track.id),
        })
    }

    /// A ShowObject's simplified fields (a SimplifiedShowObject), as search and an episode's `show` carry it.
    pub(crate) fn show(&self, index: u32) -> Value {
        let show = self.catalog.show(index);
        let total = self
            .catalog
            .episodes
            .iter()
            .filter(|e| e.show == index)
            .count();
        json!({
            "available_markets": self.markets(),
            "copyrights": [],
            "description": show.description,
            "html_description": format!("<p>{}</p>", show.description),
            "explicit": false,
            "external_urls": { "spotify": format!("https://open.spotify.com/show/{}", show.id) },
            "href": format!("{}/shows/{}", self.api, show.id),
            "id": show.id,
            "images": self.images(&show.id),
            "is_externally_hosted": false,
            "languages": ["en"],
            "media_type": "audio",
            "name": show.name,
            "publisher": show.publisher,
            "total_episodes": total,
            "type": "show",
            "uri": format!("spotify:show:{}", show.id),
        })
    }

    /// A SimplifiedEpisodeObject (no `show`), as search answers it.
    pub(crate) fn simplified_episode(&self, index: u32) -> Value {
        let episode = self.catalog.episode(index);
        let show = self.catalog.show(episode.show);
        json!({
            "audio_preview_url": null,
            "description": episode.description,
            "html_description": format!("<p>{}</p>", episode.description),
            "duration_ms": episode.duration_ms,
            "explicit": false,
            "external_urls": { "spotify": format!("https://open.spotify.com/episode/{}", episode.id) },
            "href": format!("{}/episodes/{}", self.api, episode.id),
            "id": episode.id,
            "images": self.images(&show.id),
            "is_externally_hosted": false,
            "is_playable": true,
            "language": "en",
            "languages": ["en"],
            "name": episode.name,
            "release_date": episode.release_date,
            "release_date_precision": "day",
            "type": "episode",
            "uri": format!("spotify:episode:{}", episode.id),
        })
    }

    /// An EpisodeObject.
    pub(crate) fn episode(&self, index: u32) -> Value {
        let mut value = self.simplified_episode(index);
        value["show"] = self.show(self.catalog.episode(index).show);
        value
    }

    /// A local file as Spotify shows one: a track with `is_local: true` and `null` ids, hrefs and dates.
    fn local(&self, index: u32) -> Value {
        let local = self.catalog.local(index);
        json!({
            "album": {
                "album_type": null,
                "artists": [],
                "available_markets": [],
                "external_urls": {},
                "href": null,
                "id": null,
                "images": [],
                "name": local.album,
                "release_date": null,
                "release_date_precision": null,
                "type": "album",
                "uri": null,
            },
            "artists": [{
                "external_urls": {},
                "href": null,
                "id": null,
                "name": local.artist,
                "type": "artist",
                "uri": null,
            }],
            "available_markets": [],
            "disc_number": 0,
            "duration_ms": local.duration_secs * 1000,
            "explicit": false,
            "external_ids": {},
            "external_urls": {},
            "href": null,
            "id": null,
            "is_local": true,
            "name": local.title,
            "popularity": 0,
            "preview_url": null,
            "track_number": 0,
            "type": "track",
            "uri": local.uri(),
        })
    }

    /// A TrackObject or EpisodeObject. Episodes come as EpisodeObjects whether or not the request named `episode`
    /// in `additional_types`: see the module docs of `web_api::playlists`.
    fn item(&self, item: Item) -> Value {
        match item {
            Item::Track(i) => self.track(i),
            Item::Episode(i) => self.episode(i),
            Item::Local(i) => self.local(i),
        }
    }

    /// A PlaylistUserObject.
    pub(crate) fn user(&self, id: &str) -> Value {
        json!({
            "external_urls": { "spotify": format!("https://open.spotify.com/user/{id}") },
            "href": format!("{}/users/{id}", self.api),
            "id": id,
            "type": "user",
            "uri": format!("spotify:user:{id}"),
        })
    }

    fn owner(&self, id: &str) -> Value {
        let mut value = self.user(id);
        value["display_name"] = json!(users::find(id).map(|u| u.display_name));
        value
    }

    /// A PlaylistTrackObject: the item under both `item` and the deprecated `track`.
    pub(crate) fn entry(&self, entry: &Entry) -> Value {
        let item = self.item(entry.item);
        let track = if self.slim.track_copy {
            item.clone()
        } else {
            Value::Null
        };
        json!({
            "added_at": rfc3339(entry.added_at),
            "added_by": self.user(entry.added_by),
            "is_local": matches!(entry.item, Item::Local(_)),
            "item": item,
            "track": track,
        })
    }

    /// The cover of the first entry that has one.
    fn playlist_images(&self, playlist: &Playlist) -> Value {
        let cover = playlist.entries.iter().find_map(|entry| match entry.item {
            Item::Track(i) => Some(&self.catalog.album(self.catalog.track(i).album).id),
            Item::Episode(i) => Some(&self.catalog.show(self.catalog.episode(i).show).id),
            Item::Local(_) => None,
        });
        match cover {
            Some(id) => json!([{
                "url": format!("{}/images/{id}.svg", self.origin),
                "height": 640,
                "width": 640,
            }]),
            None => json!([]),
        }
    }

    fn playlist_common(&self, playlist: &Playlist) -> Value {
        json!({
            "collaborative": playlist.collaborative,
            "description": playlist.description,
            "external_urls": { "spotify": format!("https://open.spotify.com/playlist/{}", playlist.id) },
            "href": format!("{}/playlists/{}", self.api, playlist.id),
            "id": playlist.id,
            "images": self.playlist_images(playlist),
            "name": playlist.name,
            "owner": self.owner(playlist.owner),
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id(),
            "type": "playlist",
            "uri": format!("spotify:playlist:{}", playlist.id),
        })
    }

    /// A SimplifiedPlaylistObject, with `items` (and the deprecated `tracks`) as `{href, total}`.
    pub(crate) fn simplified_playlist(&self, playlist: &Playlist) -> Value {
        let mut value = self.playlist_common(playlist);
        let reference = json!({
            "href": format!("{}/playlists/{}/items", self.api, playlist.id),
            "total": playlist.entries.len(),
        });
        value["items"] = reference.clone();
        value["tracks"] = reference;
        value
    }

    /// A PlaylistObject. The first page of entries (`items` and the deprecated `tracks`) only when `with_items`,
    /// that is for the owner and collaborators.
    pub(crate) fn playlist(
        &self,
        store: &Store,
        playlist: &Playlist,
        with_items: bool,
        carried: &str,
    ) -> Value {
        let mut value = self.playlist_common(playlist);
        let followers = crate::users::SEEDED_USERS
            .iter()
            .filter(|u| u.id != playlist.owner && store.follows(u.id, &playlist.id))
            .count();
        value["followers"] = json!({ "href": null, "total": followers });
        if with_items {
            let page = self.items_page(playlist, 0, EMBEDDED_ITEMS, carried);
            value["items"] = page.clone();
            value["tracks"] = page;
        }
        value
    }

    /// A PagingPlaylistTrackObject of `playlist`'s entries.
    pub(crate) fn items_page(
        &self,
        playlist: &Playlist,
        offset: usize,
        limit: usize,
        carried: &str,
    ) -> Value {
        let page: Vec<Entry> = playlist
            .entries
            .iter()
            .skip(offset)
            .take(limit)
            .copied()
            .collect();
        self.items_page_of(
            &playlist.id,
            &page,
            offset,
            limit,
            playlist.entries.len(),
            carried,
        )
    }

    /// [`Render::items_page`] from the page's entries, copied out of the store: handlers render outside the
    /// stand-in's lock, so parallel page requests are not served one at a time.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn items_page_of(
        &self,
        playlist_id: &str,
        page: &[Entry],
        offset: usize,
        limit: usize,
        total: usize,
        carried: &str,
    ) -> Value {
        let page = if self.slim.entries { page } else { &[] };
        let items: Vec<Value> = page.iter().map(|entry| self.entry(entry)).collect();
        paging(
            &format!("{}/playlists/{}/items", self.api, playlist_id),
            carried,
            items,
            offset,
            limit,
            total,
        )
    }
}

/// A paging object. Links are `{base}?offset=N&limit=N{carried}`, `carried` being `&name=value` pairs.
pub(crate) fn paging(
    base: &str,
    carried: &str,
    items: Vec<Value>,
    offset: usize,
    limit: usize,
    total: usize,
) -> Value {
    let link = |offset: usize| format!("{base}?offset={offset}&limit={limit}{carried}");
    let next = (offset.saturating_add(limit) < total).then(|| link(offset + limit));
    let previous = (offset > 0).then(|| link(offset.saturating_sub(limit)));
    json!({
        "href": link(offset),
        "items": items,
        "limit": limit,
        "next": next,
        "offset": offset,
        "previous": previous,
        "total": total,
    })
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A playlist with tracks, episodes and a local file, and a store holding it.
    fn mixed() -> (Store, Playlist) {
        let mut playlist = Playlist::new(
            "37i9dQZF1DXcBWIGoYBM5M".into(),
            "alice.setlist",
            "Mixed".into(),
        );
        let items = [
            Item::Track(0),
            Item::Episode(0),
            Item::Local(0),
            Item::Track(7),
            Item::Episode(3),
            Item::Track(0),
        ];
        playlist.entries = items
            .iter()
            .map(|&item| Entry {
                item,
                added_at: 1_700_000_000,
                added_by: "alice.setlist",
                uid: 0,
            })
            .collect();
        (Store::seeded(), playlist)
    }

    /// What the items handler and the playlist handler answer for `fields`, built slim and built in full.
    fn both_ways(fields: &str) -> Option<[(Value, Value); 4]> {
        let fields = Fields::parse(fields).ok()?;
        let f = fields.as_ref();
        let (store, playlist) = mixed();
        let api = "http://127.0.0.1:9/v1";
        let page_slim = Slim::of(f, &[&["items"]]);
        let details_slim = Slim::of(f, &[&["items", "items"], &["tracks", "items"]]);
        let run = |slim: Slim, details: bool| {
            let render = Render::new(api).slim(slim);
            let value = if details {
                render.playlist(&store, &playlist, true, "")
            } else {
                render.items_page(&playlist, 1, 50, "")
            };
            super::super::fields::filter(value, f)
        };
        Some(
            // Twice each: `additional_types` once made two shapes of episode; both calls must still agree.
            [false, true, false, true].map(|details| {
                let slim = if details { details_slim } else { page_slim };
                (run(slim, details), run(Slim::FULL, details))
            }),
        )
    }

    /// `ITEMS_FIELDS` of setlist-core, what the app asks for on every page.
    const APP_ITEMS_FIELDS: &str =
        "items(added_at,is_local,item(type,uri,name,duration_ms,explicit,images,\
artists(name),album(name,images),show(name))),total,limit,offset";

    #[test]
    fn slim_rendering_answers_the_same() {
        for fields in [
            APP_ITEMS_FIELDS,
            "id,name,description,public,collaborative,owner(id,display_name),images,snapshot_id,items.total",
            "snapshot_id",
            "items",
            "items(item)",
            "items(track(album))",
            "items.item.album.available_markets",
            "items(item(show))",
            "!items",
            "items(!track)",
            "items(item(!available_markets))",
            "tracks.items(item(name))",
            "items.items(added_at,track.available_markets)",
            "total,items(item(name)),items(track)",
        ] {
            let outs = both_ways(fields).expect("valid filter");
            for (slim, full) in outs {
                assert_eq!(slim, full, "fields={fields}");
            }
        }
        // The app's filter does leave the bulk out.
        let slim = Slim::of(
            Fields::parse(APP_ITEMS_FIELDS).unwrap().as_ref(),
            &[&["items"]],
        );
        assert_eq!(
            slim,
            Slim {
                entries: true,
                track_copy: false,
                markets: false
            }
        );
    }

    /// Filters in Spotify's syntax over the names these objects use: groups of (optionally negated) names, each
    /// with an optional sub-group, up to four deep.
    fn any_filter() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let name = proptest::sample::select(vec![
            "items",
            "tracks",
            "item",
            "track",
            "album",
            "show",
            "available_markets",
            "name",
            "total",
            "added_at",
            "artists",
            "images",
            "uri",
        ]);
        let leaf = (any::<bool>(), name.clone())
            .prop_map(|(neg, n)| format!("{}{n}", if neg { "!" } else { "" }));
        leaf.prop_recursive(4, 24, 4, move |inner| {
            (name.clone(), proptest::collection::vec(inner, 1..4))
                .prop_map(|(n, sub)| format!("{n}({})", valid_list(sub)))
        })
    }

    /// `parts` as one list; a leading `!` excludes the whole list, whose names then cannot nest (fields.rs).
    fn valid_list(mut parts: Vec<String>) -> String {
        if parts.iter().any(|p| p.contains('(')) {
            if let Some(first) = parts.first_mut() {
                *first = first.trim_start_matches('!').to_owned();
            }
        }
        parts.join(",")
    }

    proptest::proptest! {
        #[test]
        fn slim_rendering_answers_the_same_for_any_filter(parts in proptest::collection::vec(any_filter(), 1..4)) {
            let fields = valid_list(parts);
            let outs = both_ways(&fields);
            proptest::prop_assert!(outs.is_some(), "generated an invalid filter: {}", fields);
            for (slim, full) in outs.into_iter().flatten() {
                proptest::prop_assert!(slim == full, "fields={}", fields);
            }
        }
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn paging_links() {
        let page = paging("b", "&x=1", vec![], 0, 20, 45);
        assert_eq!(page["href"], "b?offset=0&limit=20&x=1");
        assert_eq!(page["next"], "b?offset=20&limit=20&x=1");
        assert_eq!(page["previous"], Value::Null);
        let last = paging("b", "", vec![], 40, 20, 45);
        assert_eq!(last["next"], Value::Null);
        assert_eq!(last["previous"], "b?offset=20&limit=20");
        let beyond = paging("b", "", vec![], 100, 20, 45);
        assert_eq!(beyond["next"], Value::Null);
        assert_eq!(beyond["previous"], "b?offset=80&limit=20");
    }

    #[test]
    fn images_point_at_this_stand_in() {
        let render = Render::new("http://127.0.0.1:9/v1");
        let track = render.track(0);
        let url = track["album"]["images"][0]["url"].as_str().unwrap();
        assert!(url.starts_with("http://127.0.0.1:9/images/"), "{url}");
        assert!(url.ends_with(".svg"));
    }
}
