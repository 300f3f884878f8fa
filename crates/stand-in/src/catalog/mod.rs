//! The stand-in's music catalog: about 12,500 tracks on 1,500 albums by 1,000 artists, two podcast shows with a
//! handful of episodes, and a few local files. Generated from word lists by a fixed-seed generator on first use,
//! so every stand-in (and every run) has the same ids and names.

mod words;

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use words::*;

/// Generate albums until at least this many tracks exist.
const MIN_TRACKS: usize = 12_500;
const ARTISTS: usize = 1_000;
const SEED: u64 = 0x5e71_157a_2026_0001;

/// Markets every catalog item is available in (a short list keeps responses small).
pub(crate) const MARKETS: &[&str] = &["GB", "NG", "SG", "US", "DE", "FR", "BR", "JP", "CA", "AU"];

#[derive(Debug)]
pub(crate) struct Artist {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Debug)]
pub(crate) struct Album {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) artists: Vec<u32>,
    /// `album`, `single` or `compilation`.
    pub(crate) album_type: &'static str,
    pub(crate) release_date: String,
    /// `year`, `month` or `day`.
    pub(crate) release_date_precision: &'static str,
    pub(crate) total_tracks: u32,
}

#[derive(Debug)]
pub(crate) struct Track {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) album: u32,
    pub(crate) artists: Vec<u32>,
    pub(crate) duration_ms: u32,
    pub(crate) popularity: u8,
    pub(crate) explicit: bool,
    pub(crate) disc_number: u32,
    pub(crate) track_number: u32,
    pub(crate) isrc: String,
}

#[derive(Debug)]
pub(crate) struct Show {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) publisher: String,
    pub(crate) description: String,
}

#[derive(Debug)]
pub(crate) struct Episode {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) show: u32,
    pub(crate) description: String,
    pub(crate) duration_ms: u32,
    pub(crate) release_date: String,
}

/// A file on someone's computer that a Spotify client added to a playlist: it has a `spotify:local:` URI and no id.
#[derive(Debug)]
pub(crate) struct LocalFile {
    pub(crate) artist: String,
    pub(crate) album: String,
    pub(crate) title: String,
    pub(crate) duration_secs: u32,
}

impl LocalFile {
    /// `spotify:local:{artist}:{album}:{title}:{seconds}`, each part form-urlencoded as Spotify does.
    pub(crate) fn uri(&self) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "spotify:local:{}:{}:{}:{}",
            enc(&self.artist),
            enc(&self.album),
            enc(&self.title),
            self.duration_secs
        )
    }
}

/// One playlist entry's content, by index into the catalog's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Item {
    Track(u32),
    Episode(u32),
    Local(u32),
}

/// Why a URI was refused, with Spotify's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UriError {
    /// Not `spotify:track:...` / `spotify:episode:...` at all.
    NotAUri,
    /// The right prefix, but the id is not 22 base62 characters.
    BadId,
    /// Well formed, but nothing in the catalog has that id.
    Unknown,
}

impl UriError {
    pub(crate) fn message(&self, uri: &str) -> String {
        match self {
            Self::NotAUri => {
                let shown: String = uri.chars().take(80).collect();
                format!("Invalid track uri: {shown}")
            }
            Self::BadId => "Invalid base62 id".to_owned(),
            Self::Unknown => "Payload contains a non-existing ID".to_owned(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Catalog {
    pub(crate) artists: Vec<Artist>,
    pub(crate) albums: Vec<Album>,
    pub(crate) tracks: Vec<Track>,
    pub(crate) shows: Vec<Show>,
    pub(crate) episodes: Vec<Episode>,
    pub(crate) locals: Vec<LocalFile>,
    by_id: HashMap<String, Item>,
    album_by_id: HashMap<String, u32>,
    show_by_id: HashMap<String, u32>,
    /// Per track: lowercased name, artist names and album name, for search.
    search_keys: Vec<SearchKey>,
}

#[derive(Debug)]
pub(crate) struct SearchKey {
    pub(crate) name: String,
    pub(crate) artists: String,
    pub(crate) album: String,
    pub(crate) year: u32,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Generator::new(SEED).catalog());

/// The catalog, generated on first use.
pub(crate) fn get() -> &'static Catalog {
    &CATALOG
}

pub(crate) fn is_base62_id(id: &str) -> bool {
    id.len() == 22 && id.bytes().all(|c| c.is_ascii_alphanumeric())
}

impl Catalog {
    /// The track or episode a `spotify:track:` / `spotify:episode:` URI names. Local files are not resolved:
    /// they cannot be added through the Web API.
    pub(crate) fn resolve(&self, uri: &str) -> Result<Item, UriError> {
        let (kind, id) = if let Some(id) = uri.strip_prefix("spotify:track:") {
            ("track", id)
        } else if let Some(id) = uri.strip_prefix("spotify:episode:") {
            ("episode", id)
        } else {
            return Err(UriError::NotAUri);
        };
        if !is_base62_id(id) {
            return Err(UriError::BadId);
        }
        match (kind, self.by_id.get(id)) {
            ("track", Some(item @ Item::Track(_))) | ("episode", Some(item @ Item::Episode(_))) => {
                Ok(*item)
            }
            _ => Err(UriError::Unknown),
        }
    }

    pub(crate) fn track(&self, index: u32) -> &Track {
        &self.tracks[index as usize]
    }

    pub(crate) fn album(&self, index: u32) -> &Album {
        &self.albums[index as usize]
    }

    pub(crate) fn artist(&self, index: u32) -> &Artist {
        &self.artists[index as usize]
    }

    pub(crate) fn episode(&self, index: u32) -> &Episode {
        &self.episodes[index as usize]
    }

    pub(crate) fn show(&self, index: u32) -> &Show {
        &self.shows[index as usize]
    }

    pub(crate) fn local(&self, index: u32) -> &LocalFile {
        &self.locals[index as usize]
    }

    pub(crate) fn search_key(&self, track: u32) -> &SearchKey {
        &self.search_keys[track as usize]
    }

    /// The album (by its id) whose cover `/images/{id}.svg` draws, with a line for the artist.
    pub(crate) fn cover(&self, id: &str) -> Option<(String, String)> {
        if let Some(&album) = self.album_by_id.get(id) {
            let album = self.album(album);
            let artist = album
                .artists
                .first()
                .map(|&a| self.artist(a).name.clone())
                .unwrap_or_default();
            return Some((album.name.clone(), artist));
        }
        let &show = self.show_by_id.get(id)?;
        let show = self.show(show);
        Some((show.name.clone(), show.publisher.clone()))
    }
}

/// "Run" -> "Runs", "Carry" -> "Carries", "Crash" -> "Crashes", "Let Go" -> "Lets Go".
fn third_person(verb: &str) -> String {
    if let Some((first, rest)) = verb.split_once(' ') {
        return format!("{} {rest}", third_person(first));
    }
    if let Some(stem) = verb.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if ["s", "sh", "ch", "x", "z"]
        .iter()
        .any(|end| verb.ends_with(end))
    {
        return format!("{verb}es");
    }
    format!("{verb}s")
}

/// SplitMix64: tiny, fast, and the same on every platform, which is all a fixed catalog needs.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// In `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as usize) as u32
    }

    pub(crate) fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// 22 base62 characters, the shape of every Spotify id.
    pub(crate) fn base62_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..22).map(|_| ALPHABET[self.below(62)] as char).collect()
    }
}

struct Generator {
    rng: Rng,
    ids: HashSet<String>,
}

impl Generator {
    fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            ids: HashSet::new(),
        }
    }

    fn id(&mut self) -> String {
        loop {
            let id = self.rng.base62_id();
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    fn catalog(mut self) -> Catalog {
        let artists = self.artists();
        let various = artists.len() as u32 - 1;
        let mut albums = Vec::new();
        let mut tracks = Vec::new();
        while tracks.len() < MIN_TRACKS {
            self.album(&artists, various, &mut albums, &mut tracks);
        }
        let (shows, episodes) = self.podcasts();
        let locals = vec![
            LocalFile {
                artist: "The Garage Tapes".to_owned(),
                album: "Demos 2009".to_owned(),
                title: "Untitled Jam #4".to_owned(),
                duration_secs: 187,
            },
            LocalFile {
                artist: "Alice Fenwick".to_owned(),
                album: "Voice Memos".to_owned(),
                title: "Hummed Melody (kitchen)".to_owned(),
                duration_secs: 42,
            },
        ];

        let mut by_id = HashMap::new();
        for (i, track) in tracks.iter().enumerate() {
            by_id.insert(track.id.clone(), Item::Track(i as u32));
        }
        for (i, episode) in episodes.iter().enumerate() {
            by_id.insert(episode.id.clone(), Item::Episode(i as u32));
        }
        let album_by_id = albums
            .iter()
            .enumerate()
            .map(|(i, album)| (album.id.clone(), i as u32))
            .collect();
        let show_by_id = shows
            .iter()
            .enumerate()
            .map(|(i, show)| (show.id.clone(), i as u32))
            .collect();
        let search_keys = tracks
            .iter()
            .map(|track| {
                let album: &Album = &albums[track.album as usize];
                SearchKey {
                    name: track.name.to_lowercase(),
                    artists: track
                        .artists
                        .iter()
                        .map(|&a| artists[a as usize].name.to_lowercase())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    album: album.name.to_lowercase(),
                    year: album.release_date[..4].parse().unwrap_or(0),
                }
            })
            .collect();
        Catalog {
            artists,
            albums,
            tracks,
            shows,
            episodes,
            locals,
            by_id,
            album_by_id,
            show_by_id,
            search_keys,
        }
    }

    fn artist_name(&mut self) -> String {
        let r = &mut self.rng;
        match r.below(12) {
            0..=2 => format!("{} {}", r.pick(FIRST_NAMES), r.pick(LAST_NAMES)),
            3 | 4 => format!("The {} {}", r.pick(ADJECTIVES), r.pick(PLURAL_NOUNS)),
            5 => format!("{} & the {}", r.pick(FIRST_NAMES), r.pick(PLURAL_NOUNS)),
            6 => format!("{} {}", r.pick(PLACES), r.pick(PLURAL_NOUNS)),
            7 => format!("{} {}", r.pick(ADJECTIVES), r.pick(NOUNS)),
            8 => format!("{} {}", r.pick(NOUNS), r.pick(PLURAL_NOUNS)),
            9 => r.pick(LAST_NAMES).to_uppercase(),
            10 => format!("{} {} Band", r.pick(FIRST_NAMES), r.pick(LAST_NAMES)),
            _ => format!("{} {} Orchestra", r.pick(PLACES), r.pick(GENRE_WORDS)),
        }
    }

    fn artists(&mut self) -> Vec<Artist> {
        let mut names = HashSet::new();
        let mut artists = Vec::with_capacity(ARTISTS + 1);
        while artists.len() < ARTISTS {
            let name = self.artist_name();
            if names.insert(name.clone()) {
                let id = self.id();
                artists.push(Artist { id, name });
            }
        }
        // Last: the album artist of compilations.
        let id = self.id();
        artists.push(Artist {
            id,
            name: "Various Artists".to_owned(),
        });
        artists
    }

    fn album_name(&mut self) -> String {
        let r = &mut self.rng;
        match r.below(14) {
            0..=2 => format!("{} {}", r.pick(ADJECTIVES), r.pick(NOUNS)),
            3 => format!("The {} of {}", r.pick(NOUNS), r.pick(PLURAL_NOUNS)),
            4 => format!("{} & {}", r.pick(NOUNS), r.pick(NOUNS)),
            5 => r.pick(PLACES).to_string(),
            6 => format!("Songs for {}", r.pick(PLURAL_NOUNS)),
            7 => format!("{} {}", r.pick(ADJECTIVES), r.pick(PLURAL_NOUNS)),
            8 => format!("{} {}", r.pick(COLOURS), r.pick(NOUNS)),
            9 => format!("{} (Deluxe Edition)", r.pick(NOUNS)),
            10 => format!("{} Nights in {}", r.pick(NUMBERS), r.pick(PLACES)),
            11 => format!("Letters from the {}", r.pick(NOUNS)),
            12 => format!("{} {}", r.pick(NOUNS), r.pick(GENRE_WORDS)),
            _ => format!("{} Sessions", r.pick(PLACES)),
        }
    }

    fn track_name(&mut self) -> String {
        let r = &mut self.rng;
        match r.below(22) {
            0..=2 => format!("{} {}", r.pick(ADJECTIVES), r.pick(NOUNS)),
            3 => format!("{} the {}", r.pick(VERBS), r.pick(NOUNS)),
            4 => format!("{} {}", r.pick(VERBS), r.pick(TIMES)),
            5 => format!("Don't {} {}", r.pick(VERBS), r.pick(TIMES)),
            6 => format!("{} of the {}", r.pick(NOUNS), r.pick(NOUNS)),
            7 => format!("{} in {}", r.pick(NOUNS), r.pick(PLACES)),
            8 => format!(
                "When the {} {}",
                r.pick(NOUNS),
                third_person(r.pick::<&str>(VERBS))
            ),
            9 => format!("Let It {}", r.pick(VERBS)),
            10 => format!("{} with Me", r.pick(VERBS)),
            11 => format!("I {} the {}", r.pick(VERBS), r.pick(NOUNS)),
            12 => format!("{} Song", r.pick(NOUNS)),
            13 => format!("Little {}", r.pick(NOUNS)),
            14 => r.pick(NOUNS).to_string(),
            15 => format!("{} {}", r.pick(COLOURS), r.pick(NOUNS)),
            16 => format!("{} {}", r.pick(NUMBERS), r.pick(PLURAL_NOUNS)),
            17 => format!("{} {}", r.pick(PLACES), r.pick(NOUNS)),
            18 => match r.below(3) {
                0 => format!("Goodbye, {}", r.pick(FIRST_NAMES)),
                1 => format!("{}'s {}", r.pick(FIRST_NAMES), r.pick(NOUNS)),
                _ => format!("{}, Don't {}", r.pick(FIRST_NAMES), r.pick(VERBS)),
            },
            19 => format!("The {} {}", r.pick(ADJECTIVES), r.pick(PLURAL_NOUNS)),
            20 => format!("{} {}", r.pick(ADJECTIVES), r.pick(GENRE_WORDS)),
            _ => format!("{} Like {}", r.pick(VERBS), r.pick(PLURAL_NOUNS)),
        }
    }

    fn release_date(&mut self) -> (String, &'static str, u32) {
        let r = &mut self.rng;
        // Skewed towards recent years, as a real catalog is.
        let year = if r.percent(60) {
            r.between(2005, 2025)
        } else {
            r.between(1962, 2004)
        };
        match r.below(20) {
            0..=2 => (format!("{year}"), "year", year),
            3 => (format!("{year}-{:02}", r.between(1, 12)), "month", year),
            _ => (
                format!("{year}-{:02}-{:02}", r.between(1, 12), r.between(1, 28)),
                "day",
                year,
            ),
        }
    }

    fn album(
        &mut self,
        artists: &[Artist],
        various: u32,
        albums: &mut Vec<Album>,
        tracks: &mut Vec<Track>,
    ) {
        let index = albums.len() as u32;
        let kind = self.rng.below(100);
        let (album_type, count) = match kind {
            0..=19 => ("single", self.rng.between(1, 3)),
            20..=24 => ("compilation", self.rng.between(12, 20)),
            _ => ("album", self.rng.between(7, 14)),
        };
        let main = self.rng.below(various as usize) as u32;
        let (release_date, precision, year) = self.release_date();
        let name = if album_type == "single" {
            // A single is named after its first track; filled in below.
            String::new()
        } else {
            self.album_name()
        };
        let album_artist = if album_type == "compilation" {
            various
        } else {
            main
        };
        let discs = if count >= 12 && self.rng.percent(15) {
            2
        } else {
            1
        };
        let per_disc = count.div_ceil(discs);
        let base_popularity = self.rng.between(5, 80);
        let mut names = HashSet::new();
        let mut first_track_name = String::new();
        for n in 0..count {
            let mut track_name = loop {
                let candidate = self.track_name();
                if names.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let mut track_artists = if album_type == "compilation" {
                vec![self.rng.below(various as usize) as u32]
            } else {
                vec![main]
            };
            if self.rng.percent(7) {
                let featured = self.rng.below(various as usize) as u32;
                if !track_artists.contains(&featured) {
                    track_name =
                        format!("{track_name} (feat. {})", artists[featured as usize].name);
                    track_artists.push(featured);
                }
            } else if year < 2000 && self.rng.percent(8) {
                track_name = format!("{track_name} - Remastered {}", self.rng.between(2005, 2021));
            } else if self.rng.percent(3) {
                track_name = format!("{track_name} - Live");
            }
            if n == 0 {
                first_track_name = track_name.clone();
            }
            let duration_ms = if self.rng.percent(3) {
                self.rng.between(420_000, 720_000)
            } else {
                self.rng.between(95_000, 330_000)
            };
            let popularity = (base_popularity + self.rng.between(0, 20)).min(100) as u8;
            let explicit = self.rng.percent(12);
            let isrc = format!(
                "{}{}{:02}{:05}",
                self.rng
                    .pick(&["GB", "US", "NG", "SE", "DE", "FR", "JP", "BR"]),
                (0..3)
                    .map(|_| (b'A' + self.rng.below(26) as u8) as char)
                    .collect::<String>(),
                year % 100,
                self.rng.below(100_000)
            );
            let id = self.id();
            tracks.push(Track {
                id,
                name: track_name,
                album: index,
                artists: track_artists,
                duration_ms,
                popularity,
                explicit,
                disc_number: n / per_disc + 1,
                track_number: n % per_disc + 1,
                isrc,
            });
        }
        let name = if name.is_empty() {
            first_track_name
                .split(" (feat.")
                .next()
                .unwrap_or(&first_track_name)
                .to_owned()
        } else {
            name
        };
        let id = self.id();
        albums.push(Album {
            id,
            name,
            artists: vec![album_artist],
            album_type,
            release_date,
            release_date_precision: precision,
            total_tracks: count,
        });
    }

    fn podcasts(&mut self) -> (Vec<Show>, Vec<Episode>) {
        let shows = vec![
            Show {
                id: self.id(),
                name: "The Long Take".to_owned(),
                publisher: "Setlist Audio".to_owned(),
                description: "Conversations about the records that took their time.".to_owned(),
            },
            Show {
                id: self.id(),
                name: "Signal & Noise".to_owned(),
                publisher: "Harbor Radio".to_owned(),
                description: "A weekly look at how music gets made, shipped and heard.".to_owned(),
            },
        ];
        let mut episodes = Vec::new();
        for n in 0..7u32 {
            let show = n % 2;
            let topic = self.rng.pick(SHOW_TOPICS).to_string();
            let name = format!("Episode {}: On {}", 40 + n, topic);
            let description = format!(
                "In this episode of {} we talk about {topic}.",
                shows[show as usize].name
            );
            let id = self.id();
            episodes.push(Episode {
                id,
                name,
                show,
                description,
                duration_ms: self.rng.between(1_200_000, 4_200_000),
                release_date: format!("2026-{:02}-{:02}", 1 + n, 3 + 2 * n),
            });
        }
        (shows, episodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_large_distinct_and_well_formed() {
        let catalog = get();
        assert!(catalog.tracks.len() >= 12_000, "{}", catalog.tracks.len());
        let mut ids = HashSet::new();
        for track in &catalog.tracks {
            assert!(is_base62_id(&track.id), "{}", track.id);
            assert!(ids.insert(track.id.as_str()), "duplicate id {}", track.id);
            assert!(!track.name.is_empty());
            assert!(!track.name.contains("Track "), "{}", track.name);
            assert!((catalog.album(track.album).release_date.len()) >= 4);
        }
        for album in &catalog.albums {
            assert!(ids.insert(album.id.as_str()), "duplicate id {}", album.id);
        }
        let names: HashSet<_> = catalog.tracks.iter().map(|t| t.name.as_str()).collect();
        assert!(
            names.len() > 5_000,
            "names are too repetitive: {}",
            names.len()
        );
    }

    #[test]
    fn catalog_is_deterministic() {
        let again = Generator::new(SEED).catalog();
        let catalog = get();
        assert_eq!(again.tracks.len(), catalog.tracks.len());
        for (a, b) in again.tracks.iter().zip(&catalog.tracks).step_by(97) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.name, b.name);
        }
    }

    #[test]
    fn resolves_uris() {
        let catalog = get();
        let track = &catalog.tracks[42];
        assert_eq!(
            catalog.resolve(&format!("spotify:track:{}", track.id)),
            Ok(Item::Track(42))
        );
        let episode = &catalog.episodes[1];
        assert_eq!(
            catalog.resolve(&format!("spotify:episode:{}", episode.id)),
            Ok(Item::Episode(1))
        );
        assert_eq!(
            catalog.resolve(&format!("spotify:episode:{}", track.id)),
            Err(UriError::Unknown)
        );
        assert_eq!(catalog.resolve("spotify:track:short"), Err(UriError::BadId));
        assert_eq!(
            catalog.resolve("spotify:track:0000000000000000000000"),
            Err(UriError::Unknown)
        );
        assert_eq!(catalog.resolve(&track.id), Err(UriError::NotAUri));
        assert_eq!(
            catalog.resolve("spotify:album:0000000000000000000000"),
            Err(UriError::NotAUri)
        );
    }

    #[test]
    fn verbs_agree() {
        assert_eq!(third_person("Run"), "Runs");
        assert_eq!(third_person("Carry"), "Carries");
        assert_eq!(third_person("Stay"), "Stays");
        assert_eq!(third_person("Crash"), "Crashes");
        assert_eq!(third_person("Touch"), "Touches");
        assert_eq!(third_person("Let Go"), "Lets Go");
    }

    #[test]
    fn local_file_uris_are_encoded() {
        let local = &get().locals[1];
        assert_eq!(
            local.uri(),
            "spotify:local:Alice+Fenwick:Voice+Memos:Hummed+Melody+%28kitchen%29:42"
        );
    }
}
