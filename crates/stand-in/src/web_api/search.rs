//! `GET /v1/search` ([search for item](https://developer.spotify.com/documentation/web-api/reference/search)) over
//! the catalog's tracks, episodes, artists and albums (both derived from the tracks, so every artist and album
//! found has tracks that search finds too), the public playlists and the podcast shows. Audiobooks answer empty
//! pages.
//! Limit 1 to 10 (default 5), offset up to 1,000, as for development-mode apps in 2026.
//!
//! Artists match plain words and `artist:` against their name and `year:` against their tracks' albums; albums
//! match plain words against their name and artists' names, `album:`, `artist:` and `year:`; playlists match plain
//! words against name and description, shows against name, publisher and description. `track:` and `isrc:` match
//! no artist, album, playlist or show. Artists and albums
//! rank like tracks (exact name, then prefix, then every word in the name), each by popularity (an artist's or
//! album's is its most popular track's); playlists by name.
//!
//! Every word of `q` must appear, case-insensitively, in the track's name, an artist's name or the album's name;
//! `track:`, `artist:`, `album:`, `year:` (`1999` or `1990-1999`) and `isrc:` narrow a word to one field, and
//! double quotes group words into one phrase. Results rank exact title matches first, then titles that start with
//! the query, then titles that contain every word, each by popularity.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::fields::filter;
use super::params::Params;
use super::render::{paging, Render};
use super::{ApiBase, ApiError, Bearer};
use crate::catalog::{self, Catalog};
use crate::StandIn;

const TYPES: &[(&str, &str)] = &[
    ("album", "albums"),
    ("artist", "artists"),
    ("playlist", "playlists"),
    ("track", "tracks"),
    ("show", "shows"),
    ("episode", "episodes"),
    ("audiobook", "audiobooks"),
];
const MAX_LIMIT: usize = 10;
const DEFAULT_LIMIT: usize = 5;
const MAX_OFFSET: usize = 1_000;

pub(super) async fn search(
    _auth: Bearer,
    ApiBase(base): ApiBase,
    State(stand_in): State<StandIn>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let q = params
        .get("q")
        .or_else(|| params.get("query"))
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::bad_request("No search query"))?
        .to_owned();
    let types = params
        .get("type")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing parameter type"))?;
    let mut wanted = Vec::new();
    for kind in types.split(',').map(str::trim) {
        let Some(&(kind, plural)) = TYPES.iter().find(|(name, _)| *name == kind) else {
            return Err(ApiError::bad_request(format!(
                "Bad search type field {}",
                kind.chars().take(40).collect::<String>()
            )));
        };
        if !wanted.iter().any(|(k, _)| *k == kind) {
            wanted.push((kind, plural));
        }
    }
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = params.offset(MAX_OFFSET)?;
    let fields = params.fields()?;
    // The reference allows one value; the catalog has no externally hosted audio, so it changes nothing here.
    if params.get("include_external").is_some_and(|v| v != "audio") {
        return Err(ApiError::bad_request("Invalid include_external"));
    }

    let catalog = catalog::get();
    let query = Query::parse(&q);
    let render = Render::new(&base);
    let mut body = json!({});
    for (kind, plural) in wanted {
        let (items, total) = match kind {
            "track" => {
                let hits = query.tracks(catalog);
                let items = hits
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|&i| render.track(i))
                    .collect();
                (items, hits.len())
            }
            "episode" => {
                let hits = query.episodes(catalog);
                let items = hits
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|&i| render.simplified_episode(i))
                    .collect();
                (items, hits.len())
            }
            "artist" => {
                let hits = query.artists(catalog);
                let items = hits
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|hit| render.full_artist(hit.artist, hit.popularity, hit.cover))
                    .collect();
                (items, hits.len())
            }
            "album" => {
                let hits = query.albums(catalog);
                let items = hits
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|&i| render.album(i))
                    .collect();
                (items, hits.len())
            }
            "playlist" => {
                let inner = stand_in.lock();
                let mut hits: Vec<_> = inner
                    .playlists
                    .all()
                    .filter(|playlist| playlist.public && query.playlist(playlist))
                    .collect();
                hits.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
                let items = hits
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|playlist| render.simplified_playlist(playlist))
                    .collect();
                (items, hits.len())
            }
            "show" => {
                let hits = query.shows(catalog);
                let items = hits
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|&i| render.show(i))
                    .collect();
                (items, hits.len())
            }
            _ => (Vec::new(), 0),
        };
        let carried = format!(
            "&query={}&type={kind}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        body[plural] = paging(
            &format!("{base}/search"),
            &carried,
            items,
            offset,
            limit,
            total,
        );
    }
    Ok(Json(filter(body, fields.as_ref())))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Any(String),
    Track(String),
    Artist(String),
    Album(String),
    Isrc(String),
    Years(u32, u32),
}

#[derive(Debug)]
struct Query {
    /// The whole query, lowercased, for ranking.
    whole: String,
    terms: Vec<Term>,
}

impl Query {
    fn parse(q: &str) -> Self {
        let lower = q.to_lowercase();
        let mut terms = Vec::new();
        let mut rest = lower.as_str();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            // An optional `field:` prefix, then a word or a quoted phrase.
            let (field, after) = match rest.split_once(':') {
                Some((field, after))
                    if ["track", "artist", "album", "year", "isrc"].contains(&field)
                        && !field.contains(char::is_whitespace) =>
                {
                    (Some(field), after)
                }
                _ => (None, rest),
            };
            let (word, next) = if let Some(quoted) = after.strip_prefix('"') {
                match quoted.split_once('"') {
                    Some((phrase, next)) => (phrase, next),
                    None => (quoted, ""),
                }
            } else {
                match after.find(char::is_whitespace) {
                    Some(end) => (&after[..end], &after[end..]),
                    None => (after, ""),
                }
            };
            rest = next;
            let word = word.trim().to_owned();
            if word.is_empty() {
                continue;
            }
            terms.push(match field {
                Some("track") => Term::Track(word),
                Some("artist") => Term::Artist(word),
                Some("album") => Term::Album(word),
                Some("isrc") => Term::Isrc(word),
                Some(_) => match parse_years(&word) {
                    Some((from, to)) => Term::Years(from, to),
                    // An unreadable year matches nothing, as on Spotify.
                    None => Term::Years(1, 0),
                },
                None => Term::Any(word),
            });
        }
        let whole = terms
            .iter()
            .filter_map(|t| match t {
                Term::Any(w) | Term::Track(w) => Some(w.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        Self { whole, terms }
    }

    /// Matching track indices, best first.
    fn tracks(&self, catalog: &Catalog) -> Vec<u32> {
        let mut hits: Vec<(u8, u8, u32)> = (0..catalog.tracks.len() as u32)
            .filter_map(|i| {
                let key = catalog.search_key(i);
                let track = catalog.track(i);
                let matches = self.terms.iter().all(|term| match term {
                    Term::Any(w) => {
                        key.name.contains(w.as_str())
                            || key.artists.contains(w.as_str())
                            || key.album.contains(w.as_str())
                    }
                    Term::Track(w) => key.name.contains(w.as_str()),
                    Term::Artist(w) => key.artists.contains(w.as_str()),
                    Term::Album(w) => key.album.contains(w.as_str()),
                    Term::Isrc(w) => track.isrc.eq_ignore_ascii_case(w),
                    Term::Years(from, to) => (*from..=*to).contains(&key.year),
                });
                if !matches {
                    return None;
                }
                let rank = if self.whole.is_empty() {
                    3
                } else if key.name == self.whole {
                    0
                } else if key.name.starts_with(&self.whole) {
                    1
                } else if self.terms.iter().all(|t| match t {
                    Term::Any(w) | Term::Track(w) => key.name.contains(w.as_str()),
                    _ => true,
                }) {
                    2
                } else {
                    3
                };
                Some((rank, 100 - track.popularity.min(100), i))
            })
            .collect();
        hits.sort_unstable();
        hits.into_iter().map(|(_, _, i)| i).collect()
    }

    /// How a name ranks against the query's plain and `track:` words (0 best), as for tracks.
    fn rank(&self, name: &str) -> u8 {
        if self.whole.is_empty() {
            3
        } else if name == self.whole {
            0
        } else if name.starts_with(&self.whole) {
            1
        } else if self.terms.iter().all(|t| match t {
            Term::Any(w) | Term::Track(w) => name.contains(w.as_str()),
            _ => true,
        }) {
            2
        } else {
            3
        }
    }

    /// Matching artists, best first, with what renders them.
    fn artists(&self, catalog: &Catalog) -> Vec<ArtistHit> {
        // Per artist: most popular track's popularity and album, and their albums' years.
        let mut seen: Vec<Option<(u8, u32)>> = vec![None; catalog.artists.len()];
        let mut years: Vec<Vec<u32>> = vec![Vec::new(); catalog.artists.len()];
        for (i, track) in catalog.tracks.iter().enumerate() {
            let year = catalog.search_key(i as u32).year;
            for &artist in &track.artists {
                let slot = &mut seen[artist as usize];
                if slot.is_none_or(|(popularity, _)| track.popularity > popularity) {
                    *slot = Some((track.popularity, track.album));
                }
                years[artist as usize].push(year);
            }
        }
        let mut hits: Vec<(u8, u8, ArtistHit)> = seen
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                let (popularity, cover) = (*slot)?;
                let name = catalog.artist(i as u32).name.to_lowercase();
                let matches = self.terms.iter().all(|term| match term {
                    Term::Any(w) | Term::Artist(w) => name.contains(w.as_str()),
                    Term::Years(from, to) => years[i].iter().any(|y| (*from..=*to).contains(y)),
                    Term::Track(_) | Term::Album(_) | Term::Isrc(_) => false,
                });
                matches.then(|| {
                    let hit = ArtistHit {
                        artist: i as u32,
                        popularity,
                        cover,
                    };
                    (self.rank(&name), 100 - popularity.min(100), hit)
                })
            })
            .collect();
        hits.sort_unstable_by_key(|(rank, unpopularity, hit)| (*rank, *unpopularity, hit.artist));
        hits.into_iter().map(|(_, _, hit)| hit).collect()
    }

    /// Matching album indices, best first.
    fn albums(&self, catalog: &Catalog) -> Vec<u32> {
        let mut popularity = vec![None::<u8>; catalog.albums.len()];
        for track in &catalog.tracks {
            let slot = &mut popularity[track.album as usize];
            *slot = Some(slot.map_or(track.popularity, |p| p.max(track.popularity)));
        }
        let mut hits: Vec<(u8, u8, u32)> = popularity
            .iter()
            .enumerate()
            .filter_map(|(i, popularity)| {
                let popularity = (*popularity)?;
                let album = catalog.album(i as u32);
                let name = album.name.to_lowercase();
                let artists = album
                    .artists
                    .iter()
                    .map(|&a| catalog.artist(a).name.to_lowercase())
                    .collect::<Vec<_>>()
                    .join("\n");
                let year: u32 = album.release_date.get(..4)?.parse().ok()?;
                let matches = self.terms.iter().all(|term| match term {
                    Term::Any(w) => name.contains(w.as_str()) || artists.contains(w.as_str()),
                    Term::Album(w) => name.contains(w.as_str()),
                    Term::Artist(w) => artists.contains(w.as_str()),
                    Term::Years(from, to) => (*from..=*to).contains(&year),
                    Term::Track(_) | Term::Isrc(_) => false,
                });
                matches.then(|| (self.rank(&name), 100 - popularity.min(100), i as u32))
            })
            .collect();
        hits.sort_unstable();
        hits.into_iter().map(|(_, _, i)| i).collect()
    }

    /// Whether a playlist's name or description has every plain word.
    fn playlist(&self, playlist: &crate::playlists::Playlist) -> bool {
        let haystack = format!("{}\n{}", playlist.name, playlist.description).to_lowercase();
        self.terms.iter().all(|term| match term {
            Term::Any(w) => haystack.contains(w.as_str()),
            _ => false,
        })
    }

    /// Matching show indices: every plain word in the show's name, publisher or description.
    fn shows(&self, catalog: &Catalog) -> Vec<u32> {
        (0..catalog.shows.len() as u32)
            .filter(|&i| {
                let show = catalog.show(i);
                let haystack = format!("{}\n{}\n{}", show.name, show.publisher, show.description)
                    .to_lowercase();
                self.terms.iter().all(|term| match term {
                    Term::Any(w) => haystack.contains(w.as_str()),
                    _ => false,
                })
            })
            .collect()
    }

    /// Matching episode indices: every plain word in the episode's name, description or show name.
    fn episodes(&self, catalog: &Catalog) -> Vec<u32> {
        (0..catalog.episodes.len() as u32)
            .filter(|&i| {
                let episode = catalog.episode(i);
                let show = catalog.show(episode.show);
                let haystack = format!("{}\n{}\n{}", episode.name, episode.description, show.name)
                    .to_lowercase();
                self.terms.iter().all(|term| match term {
                    Term::Any(w) | Term::Track(w) => haystack.contains(w.as_str()),
                    _ => false,
                })
            })
            .collect()
    }
}

/// An artist found, with its most popular track's popularity and album (whose cover stands for the artist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ArtistHit {
    artist: u32,
    popularity: u8,
    cover: u32,
}

fn parse_years(word: &str) -> Option<(u32, u32)> {
    match word.split_once('-') {
        Some((from, to)) => Some((from.parse().ok()?, to.parse().ok()?)),
        None => {
            let year = word.parse().ok()?;
            Some((year, year))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_and_phrases() {
        let query = Query::parse(r#"Golden artist:"the lost" year:1990-1999 album:x isrc:GB1"#);
        assert_eq!(
            query.terms,
            vec![
                Term::Any("golden".into()),
                Term::Artist("the lost".into()),
                Term::Years(1990, 1999),
                Term::Album("x".into()),
                Term::Isrc("gb1".into()),
            ]
        );
        assert_eq!(query.whole, "golden");
        assert_eq!(Query::parse("a:b").terms, vec![Term::Any("a:b".into())]);
        assert_eq!(Query::parse("year:abc").terms, vec![Term::Years(1, 0)]);
    }

    #[test]
    fn finds_a_track_by_its_exact_name_first() {
        let catalog = catalog::get();
        let track = &catalog.tracks[1234];
        let hits = Query::parse(&track.name.to_uppercase()).tracks(catalog);
        let first = catalog.track(hits[0]);
        assert_eq!(first.name.to_lowercase(), track.name.to_lowercase());
        assert!(hits.contains(&1234));
    }

    #[test]
    fn artist_filter_narrows() {
        let catalog = catalog::get();
        let track = &catalog.tracks[77];
        let artist = &catalog.artist(track.artists[0]).name;
        let hits = Query::parse(&format!("artist:\"{artist}\"")).tracks(catalog);
        assert!(hits.contains(&77));
        for hit in hits {
            let names: Vec<_> = catalog
                .track(hit)
                .artists
                .iter()
                .map(|&a| catalog.artist(a).name.to_lowercase())
                .collect();
            assert!(
                names.iter().any(|n| n.contains(&artist.to_lowercase())),
                "{names:?}"
            );
        }
    }
}
