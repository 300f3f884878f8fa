//! Playlists and who keeps which in their library, with Spotify's editing semantics: positioned inserts, replace,
//! range reorder, and removal of every occurrence of a URI. Every write that changes the playlist makes a new
//! `snapshot_id`; like Spotify, a `snapshot_id` sent with a request is never used to refuse a change.
//!
//! No-op writes keep the snapshot. The reference does not say what Spotify answers for a write that changes
//! nothing, so this is a choice: a reorder onto itself (`insert_before` at either edge of the moved range), a
//! remove whose URIs are all absent, and an empty remove (`"items": []`) answer success with the current
//! `snapshot_id`, unchanged. A snapshot id then names a list of items, so a client comparing snapshots sees
//! "nothing changed" as it is; a client that assumes every write bumps the snapshot is the one to fix (the app
//! must accept both). Adds and replaces always make a new snapshot (their entries get a new `added_at`).

use std::collections::{HashMap, HashSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{self, Item, Rng};
use crate::users;

/// When the seeded playlists' items were added: 2024-01-01T00:00:00Z onwards, one item every 37 minutes.
const SEED_EPOCH: i64 = 1_704_067_200;

/// A playlist that every stand-in starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeedPlaylist {
    pub id: &'static str,
    pub owner: &'static str,
    pub name: &'static str,
    /// Number of items it starts with.
    pub size: usize,
    pub public: bool,
    pub collaborative: bool,
    /// Seeded users other than the owner who follow it (and so, when it is collaborative, may edit it).
    pub followers: &'static [&'static str],
    /// What makes it interesting to a test.
    pub note: &'static str,
}

/// The seeded playlists. Ids are fixed; `GET /v1/me/playlists` lists a user's own and followed ones in the order of
/// [`library_order`].
pub const SEEDED_PLAYLISTS: &[SeedPlaylist] = &[
    SeedPlaylist {
        id: "AwfEoGD23EoP1arvJveEnj",
        owner: "alice.setlist",
        name: "Morning Commute",
        size: 24,
        public: true,
        collaborative: false,
        followers: &[],
        note: "plain public playlist",
    },
    SeedPlaylist {
        id: "pxgYIJPxuWil8TUpMxYnCI",
        owner: "alice.setlist",
        name: "Deep Focus",
        size: 60,
        public: false,
        collaborative: false,
        followers: &[],
        note: "private, more than one page of items",
    },
    SeedPlaylist {
        id: "ZrCeNEzhBeYvSdNCpgG36s",
        owner: "alice.setlist",
        name: "Everything, Ever",
        size: 10_000,
        public: false,
        collaborative: false,
        followers: &[],
        note: "10,000 distinct tracks",
    },
    SeedPlaylist {
        id: "MmtbbzjMHWpgbyA8KrAds5",
        owner: "alice.setlist",
        name: "Road Trip Singalongs",
        size: 37,
        public: false,
        collaborative: true,
        followers: &["bruno.setlist", "chen.setlist"],
        note: "collaborative, owned by alice; bruno and chen may edit",
    },
    SeedPlaylist {
        id: "ASlkq8ItCASnJOSnqW1pdr",
        owner: "alice.setlist",
        name: "Repeat Offenders",
        size: 15,
        public: true,
        collaborative: false,
        followers: &[],
        note: "duplicates, adjacent and apart",
    },
    SeedPlaylist {
        id: "Ha8hq6iNE7obZvWidSTtIf",
        owner: "alice.setlist",
        name: "Podcasts & Oddities",
        size: 12,
        public: false,
        collaborative: false,
        followers: &[],
        note: "tracks, three podcast episodes and two local files",
    },
    SeedPlaylist {
        id: "YaLp9b8AuRGk57GDrZh4ei",
        owner: "alice.setlist",
        name: "Sunday Slow",
        size: 5,
        public: true,
        collaborative: false,
        followers: &[],
        note: "small",
    },
    SeedPlaylist {
        id: "57ofdNBtdYIZmFDMaFBHTU",
        owner: "alice.setlist",
        name: "Kitchen Dance Party",
        size: 45,
        public: true,
        collaborative: false,
        followers: &[],
        note: "plain public playlist",
    },
    SeedPlaylist {
        id: "XqXJF3euSkWG4RDrFrJh1u",
        owner: "alice.setlist",
        name: "Fresh Start",
        size: 0,
        public: false,
        collaborative: false,
        followers: &[],
        note: "empty",
    },
    SeedPlaylist {
        id: "flft1dyyqfQQpABC2oAxA8",
        owner: "bruno.setlist",
        name: "Lagos Nights",
        size: 40,
        public: true,
        collaborative: false,
        followers: &["alice.setlist"],
        note: "owned by bruno, followed by alice: its items answer 403 to her",
    },
    SeedPlaylist {
        id: "XCQXG11Ij33Yq63cNSi0kU",
        owner: "bruno.setlist",
        name: "Highlife & Friends",
        size: 30,
        public: true,
        collaborative: false,
        followers: &[],
        note: "plain public playlist",
    },
    SeedPlaylist {
        id: "huuXd0MYcxtAmTE0Mtooy3",
        owner: "bruno.setlist",
        name: "Gym Rotation",
        size: 15,
        public: false,
        collaborative: false,
        followers: &[],
        note: "private",
    },
    SeedPlaylist {
        id: "OnMtiKXYuZa2uTeuzzYNRe",
        owner: "chen.setlist",
        name: "Office Radio",
        size: 18,
        public: false,
        collaborative: true,
        followers: &["alice.setlist", "bruno.setlist"],
        note: "collaborative, owned by chen; alice and bruno may edit",
    },
    SeedPlaylist {
        id: "ZVYVoC0WvlUd62LdIE6iHY",
        owner: "chen.setlist",
        name: "Late Night Lo-fi",
        size: 25,
        public: true,
        collaborative: false,
        followers: &[],
        note: "plain public playlist",
    },
    SeedPlaylist {
        id: "kGOkOYsijGJkDpkDwhJv7n",
        owner: "chen.setlist",
        name: "Rainy Day",
        size: 12,
        public: false,
        collaborative: false,
        followers: &[],
        note: "private",
    },
];

/// Each seeded user's library, newest first, by seeded playlist name.
fn library_order(user: &str) -> &'static [&'static str] {
    match user {
        "alice.setlist" => &[
            "Morning Commute",
            "Road Trip Singalongs",
            "Deep Focus",
            "Everything, Ever",
            "Office Radio",
            "Lagos Nights",
            "Repeat Offenders",
            "Podcasts & Oddities",
            "Kitchen Dance Party",
            "Sunday Slow",
            "Fresh Start",
        ],
        "bruno.setlist" => &[
            "Lagos Nights",
            "Road Trip Singalongs",
            "Highlife & Friends",
            "Office Radio",
            "Gym Rotation",
        ],
        "chen.setlist" => &[
            "Office Radio",
            "Late Night Lo-fi",
            "Road Trip Singalongs",
            "Rainy Day",
        ],
        _ => &[],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) item: Item,
    /// Unix seconds.
    pub(crate) added_at: i64,
    pub(crate) added_by: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct Playlist {
    pub(crate) id: String,
    pub(crate) owner: &'static str,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) public: bool,
    pub(crate) collaborative: bool,
    pub(crate) entries: Vec<Entry>,
    /// Bumped by every successful write; the snapshot id is derived from it.
    pub(crate) version: u32,
}

/// Why an edit was refused. Each maps to a 400 with [`EditError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EditError {
    Position,
    Range,
    InsertBefore,
}

impl EditError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Position => "Index out of bounds",
            Self::Range => "Invalid range",
            Self::InsertBefore => "Invalid insert_before",
        }
    }
}

impl Playlist {
    pub(crate) fn new(id: String, owner: &'static str, name: String) -> Self {
        Self {
            id,
            owner,
            name,
            description: String::new(),
            public: true,
            collaborative: false,
            entries: Vec::new(),
            version: 1,
        }
    }

    /// An opaque, base64 version id: the version counter plus a hash of the playlist id and that counter.
    pub(crate) fn snapshot_id(&self) -> String {
        let digest = Sha256::digest(format!("{}:{}", self.id, self.version).as_bytes());
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(&self.version.to_be_bytes());
        bytes.extend_from_slice(&digest[..20]);
        STANDARD.encode(bytes)
    }

    pub(crate) fn bump(&mut self) {
        self.version = self.version.wrapping_add(1);
    }

    /// Inserts `items` before index `position` (appends when `None`). `position` may equal the length.
    pub(crate) fn insert(
        &mut self,
        position: Option<usize>,
        items: Vec<Entry>,
    ) -> Result<(), EditError> {
        let at = position.unwrap_or(self.entries.len());
        if at > self.entries.len() {
            return Err(EditError::Position);
        }
        self.entries.splice(at..at, items);
        Ok(())
    }

    /// Moves the `length` items starting at `start` to just before the item that was at `insert_before` (or to
    /// the end when `insert_before` is the length), indices counted in the list as it was before the move.
    /// `insert_before` inside the moved range is refused; at either edge of it nothing moves. Answers whether the
    /// list changed.
    pub(crate) fn reorder(
        &mut self,
        start: usize,
        length: usize,
        insert_before: usize,
    ) -> Result<bool, EditError> {
        let n = self.entries.len();
        let end = start.checked_add(length).ok_or(EditError::Range)?;
        if length == 0 || start >= n || end > n {
            return Err(EditError::Range);
        }
        if insert_before > n || (insert_before > start && insert_before < end) {
            return Err(EditError::InsertBefore);
        }
        if insert_before == start || insert_before == end {
            return Ok(false);
        }
        let moved: Vec<Entry> = self.entries.drain(start..end).collect();
        let at = if insert_before > start {
            insert_before - length
        } else {
            insert_before
        };
        self.entries.splice(at..at, moved);
        Ok(true)
    }

    /// Removes every entry whose item is in `items`; answers how many went.
    pub(crate) fn remove_all(&mut self, items: &HashSet<Item>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|entry| !items.contains(&entry.item));
        before - self.entries.len()
    }
}

/// All playlists and each user's library.
#[derive(Debug)]
pub(crate) struct Store {
    playlists: HashMap<String, Playlist>,
    /// Per user, playlist ids newest first: their own and the ones they follow.
    libraries: HashMap<&'static str, Vec<String>>,
    /// Deterministic ids for playlists made while running.
    ids: Rng,
}

impl Store {
    /// The seeded playlists, identical in every stand-in.
    pub(crate) fn seeded() -> Self {
        let mut store = Self {
            playlists: HashMap::new(),
            libraries: HashMap::new(),
            ids: Rng::new(0x9a71_15d5_0000_0001),
        };
        let catalog = catalog::get();
        let mut rng = Rng::new(0x005e_ed0f_91a7_1157);
        for seed in SEEDED_PLAYLISTS {
            let Some(owner) = users::find(seed.owner) else {
                continue;
            };
            let mut playlist = Playlist::new(seed.id.to_owned(), owner.id, seed.name.to_owned());
            playlist.public = seed.public;
            playlist.collaborative = seed.collaborative;
            playlist.description = describe(seed.name).to_owned();
            let editors: Vec<&'static str> = std::iter::once(owner.id)
                .chain(
                    seed.followers
                        .iter()
                        .filter_map(|f| users::find(f).map(|u| u.id)),
                )
                .collect();
            let items = match seed.name {
                "Repeat Offenders" => {
                    let t: Vec<u32> = (0..8)
                        .map(|_| rng.below(catalog.tracks.len()) as u32)
                        .collect();
                    [0, 1, 0, 2, 3, 3, 4, 1, 5, 0, 6, 7, 4, 2, 3]
                        .iter()
                        .map(|&i| Item::Track(t[i]))
                        .collect()
                }
                "Podcasts & Oddities" => {
                    let mut track = || Item::Track(rng.below(catalog.tracks.len()) as u32);
                    vec![
                        track(),
                        Item::Episode(0),
                        track(),
                        Item::Local(0),
                        track(),
                        Item::Episode(3),
                        track(),
                        track(),
                        Item::Episode(4),
                        Item::Local(1),
                        track(),
                        track(),
                    ]
                }
                _ => distinct_tracks(&mut rng, seed.size),
            };
            let count = items.len();
            playlist.entries = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| Entry {
                    item,
                    added_at: SEED_EPOCH + (i as i64) * 37 * 60,
                    added_by: editors[i % if seed.collaborative { editors.len() } else { 1 }],
                })
                .collect();
            debug_assert_eq!(count, seed.size, "{}", seed.name);
            store.playlists.insert(playlist.id.clone(), playlist);
        }
        for user in users::SEEDED_USERS {
            let ids = library_order(user.id)
                .iter()
                .filter_map(|name| SEEDED_PLAYLISTS.iter().find(|p| p.name == *name))
                .map(|p| p.id.to_owned())
                .collect();
            store.libraries.insert(user.id, ids);
        }
        store
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Playlist> {
        self.playlists.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Playlist> {
        self.playlists.get_mut(id)
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Playlist> {
        self.playlists.values()
    }

    /// The playlist ids in `user`'s library, newest first.
    pub(crate) fn library(&self, user: &str) -> &[String] {
        self.libraries.get(user).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(crate) fn follows(&self, user: &str, playlist: &str) -> bool {
        self.library(user).iter().any(|id| id == playlist)
    }

    /// Owner, or a follower of a collaborative playlist: may read its items and change them.
    pub(crate) fn may_edit_items(&self, playlist: &Playlist, user: &str) -> bool {
        playlist.owner == user || (playlist.collaborative && self.follows(user, &playlist.id))
    }

    /// A new empty playlist at the top of its owner's library; answers its id.
    pub(crate) fn create(&mut self, owner: &'static str, name: String) -> String {
        let id = loop {
            let id = self.ids.base62_id();
            if !self.playlists.contains_key(&id) {
                break id;
            }
        };
        self.playlists
            .insert(id.clone(), Playlist::new(id.clone(), owner, name));
        self.libraries
            .entry(owner)
            .or_default()
            .insert(0, id.clone());
        id
    }

    /// A new playlist of `size` catalog tracks (distinct until the catalog runs out, then repeating), for
    /// benchmarks.
    pub(crate) fn create_filled(
        &mut self,
        owner: &'static str,
        name: String,
        size: usize,
        now: i64,
    ) -> String {
        let id = self.create(owner, name);
        let mut rng = Rng::new(0xb16_0000 ^ size as u64);
        let items = distinct_tracks(&mut rng, size);
        if let Some(playlist) = self.playlists.get_mut(&id) {
            playlist.entries = items
                .into_iter()
                .map(|item| Entry {
                    item,
                    added_at: now,
                    added_by: owner,
                })
                .collect();
        }
        id
    }
}

fn describe(name: &str) -> &'static str {
    match name {
        "Morning Commute" => "Something to get the train moving.",
        "Deep Focus" => "Heads down, headphones on.",
        "Everything, Ever" => "Every song I have ever liked, in the order I found them.",
        "Road Trip Singalongs" => "Add yours! Loud choruses only.",
        "Repeat Offenders" => "Some songs deserve to be here twice.",
        "Lagos Nights" => "From Ikeja to the island.",
        "Office Radio" => "Everyone adds one a day.",
        _ => "",
    }
}

/// `count` tracks in a shuffled catalog order: distinct until every track has been used once, then repeating.
fn distinct_tracks(rng: &mut Rng, count: usize) -> Vec<Item> {
    let total = catalog::get().tracks.len();
    let mut order: Vec<u32> = (0..total as u32).collect();
    // Fisher-Yates, only as far as needed.
    let shuffled = count.min(total);
    for i in 0..shuffled {
        let j = i + rng.below(total - i);
        order.swap(i, j);
    }
    (0..count).map(|i| Item::Track(order[i % total])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playlist(n: u32) -> Playlist {
        let mut playlist = Playlist::new("p".into(), "alice.setlist", "t".into());
        playlist.entries = (0..n)
            .map(|i| Entry {
                item: Item::Track(i),
                added_at: 0,
                added_by: "alice.setlist",
            })
            .collect();
        playlist
    }

    fn order(playlist: &Playlist) -> Vec<u32> {
        playlist
            .entries
            .iter()
            .map(|e| match e.item {
                Item::Track(i) => i,
                _ => u32::MAX,
            })
            .collect()
    }

    #[test]
    fn reorder_follows_spotify_semantics() {
        // (start, length, insert_before) on [0, 1, 2, 3, 4, 5] -> result
        let cases: &[(usize, usize, usize, &[u32])] = &[
            (0, 1, 6, &[1, 2, 3, 4, 5, 0]), // first to the end (the spec's example)
            (5, 1, 0, &[5, 0, 1, 2, 3, 4]), // last to the start
            (1, 2, 5, &[0, 3, 4, 1, 2, 5]), // a range forward
            (3, 2, 1, &[0, 3, 4, 1, 2, 5]), // a range backward
            (4, 2, 0, &[4, 5, 0, 1, 2, 3]), // the tail to the front
            (0, 3, 6, &[3, 4, 5, 0, 1, 2]), // the head to the end
            (2, 1, 4, &[0, 1, 3, 2, 4, 5]), // one step forward needs insert_before = start + 2
            (2, 1, 2, &[0, 1, 2, 3, 4, 5]), // before itself: nothing moves
            (2, 2, 4, &[0, 1, 2, 3, 4, 5]), // right after itself: nothing moves
            (0, 6, 0, &[0, 1, 2, 3, 4, 5]), // everything, nowhere
        ];
        for &(start, length, before, expected) in cases {
            let mut p = playlist(6);
            let moved = p
                .reorder(start, length, before)
                .unwrap_or_else(|e| panic!("{start},{length},{before}: {e:?}"));
            assert_eq!(order(&p), expected, "{start},{length},{before}");
            // A move onto itself reports no change, so the snapshot stays.
            assert_eq!(
                moved,
                expected != [0, 1, 2, 3, 4, 5],
                "{start},{length},{before}"
            );
        }
    }

    #[test]
    fn reorder_refuses_bad_indices() {
        let cases: &[(usize, usize, usize, EditError)] = &[
            (6, 1, 0, EditError::Range),
            (5, 2, 0, EditError::Range),
            (0, 0, 3, EditError::Range),
            (usize::MAX, 2, 0, EditError::Range),
            (0, 1, 7, EditError::InsertBefore),
            (1, 3, 2, EditError::InsertBefore),
            (1, 3, 3, EditError::InsertBefore),
        ];
        for &(start, length, before, error) in cases {
            let mut p = playlist(6);
            assert_eq!(
                p.reorder(start, length, before),
                Err(error),
                "{start},{length},{before}"
            );
            assert_eq!(order(&p), [0, 1, 2, 3, 4, 5]);
        }
    }

    #[test]
    fn insert_at_positions() {
        let new = |i| Entry {
            item: Item::Track(i),
            added_at: 0,
            added_by: "alice.setlist",
        };
        let mut p = playlist(3);
        p.insert(Some(0), vec![new(10)]).unwrap();
        p.insert(None, vec![new(11), new(12)]).unwrap();
        p.insert(Some(2), vec![new(13)]).unwrap();
        p.insert(Some(7), vec![new(14)]).unwrap();
        assert_eq!(order(&p), [10, 0, 13, 1, 2, 11, 12, 14]);
        assert_eq!(p.insert(Some(10), vec![new(1)]), Err(EditError::Position));
    }

    #[test]
    fn remove_takes_every_occurrence() {
        let mut p = playlist(0);
        for i in [1, 2, 1, 3, 1, 2] {
            p.entries.push(Entry {
                item: Item::Track(i),
                added_at: 0,
                added_by: "alice.setlist",
            });
        }
        let gone = p.remove_all(&[Item::Track(1), Item::Track(9)].into_iter().collect());
        assert_eq!(gone, 3);
        assert_eq!(order(&p), [2, 3, 2]);
    }

    #[test]
    fn snapshot_changes_with_version() {
        let mut p = playlist(1);
        let first = p.snapshot_id();
        assert_eq!(first.len(), 32);
        p.bump();
        assert_ne!(p.snapshot_id(), first);
    }

    #[test]
    fn seeded_store_matches_the_table() {
        let store = Store::seeded();
        for seed in SEEDED_PLAYLISTS {
            let playlist = store.get(seed.id).expect(seed.name);
            assert_eq!(playlist.entries.len(), seed.size, "{}", seed.name);
            assert_eq!(playlist.owner, seed.owner);
            assert!(store.follows(seed.owner, seed.id), "{}", seed.name);
            for follower in seed.followers {
                assert!(
                    store.follows(follower, seed.id),
                    "{} {}",
                    follower,
                    seed.name
                );
            }
        }
        let everything = store.get("ZrCeNEzhBeYvSdNCpgG36s").unwrap();
        let distinct: HashSet<_> = everything.entries.iter().map(|e| e.item).collect();
        assert_eq!(distinct.len(), 10_000);
        let lagos = store.get("flft1dyyqfQQpABC2oAxA8").unwrap();
        assert!(!store.may_edit_items(lagos, "alice.setlist"));
        let office = store.get("OnMtiKXYuZa2uTeuzzYNRe").unwrap();
        assert!(store.may_edit_items(office, "alice.setlist"));
        assert_eq!(store.library("alice.setlist").len(), 11);
    }

    #[test]
    fn seeding_is_deterministic() {
        let a = Store::seeded();
        let b = Store::seeded();
        for seed in SEEDED_PLAYLISTS {
            assert_eq!(
                a.get(seed.id).unwrap().entries,
                b.get(seed.id).unwrap().entries
            );
        }
    }

    #[test]
    fn filled_playlists_repeat_only_past_the_catalog() {
        let mut store = Store::seeded();
        let total = catalog::get().tracks.len();
        let id = store.create_filled("bruno.setlist", "big".into(), total + 5, 0);
        let playlist = store.get(&id).unwrap();
        assert_eq!(playlist.entries.len(), total + 5);
        let distinct: HashSet<_> = playlist.entries.iter().map(|e| e.item).collect();
        assert_eq!(distinct.len(), total);
        assert_eq!(store.library("bruno.setlist")[0], id);
    }
}
