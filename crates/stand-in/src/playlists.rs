//! Playlists and who keeps which in their library, with Spotify's editing semantics: positioned inserts, replace,
//! range reorder, and removal of every occurrence of a URI. Every write that changes the playlist makes a new
//! `snapshot_id`; like Spotify, a `snapshot_id` sent with a request is never used to refuse a change because the
//! playlist moved on since.
//!
//! Snapshot-relative writes. The reference says of `snapshot_id` on a remove: "The API will validate that the
//! specified items exist and in the specified positions and make the changes, even if more recent changes have
//! been made to the playlist" (and, on a reorder, "the playlist's snapshot ID against which you want to make the
//! changes"). So a reorder or a remove by position that names a snapshot counts its indices in that version, and
//! the change is carried over to the current list: every entry has an identity kept across moves
//! ([`Entry::uid`]), and the playlist keeps the entries of its last [`SNAPSHOTS_KEPT`] versions (20, the current
//! one included; details changes are versions too). What "carried over" means where later changes got in the way
//! is not documented; the choices are at [`Playlist::reorder_in`] and [`Playlist::remove_in`] (in short: removed
//! entries are skipped, survivors move together before the first surviving entry that followed the target). A
//! replace sets the whole list and an add has no snapshot in the reference, so neither reads one.
//!
//! An unknown snapshot (not a snapshot id, another playlist's, or one older than the versions kept) is `400 Missing
//! or bad version tag`: the reference names no error for it, and that message is what clients have reported from
//! Spotify for a remove carrying a snapshot it would not take (jwilsson/spotify-web-api-php#271, 2024). A
//! position that does not hold the named URI in that version is `400 Could not remove tracks, please check
//! parameters.` (chosen; the reference names no message); nothing changes on either error.
//!
//! No-op writes keep the snapshot. The reference does not say what Spotify answers for a write that changes
//! nothing, so this is a choice: a reorder onto itself (`insert_before` at either edge of the moved range), a
//! remove whose URIs are all absent, and an empty remove (`"items": []`) answer success with the current
//! `snapshot_id`, unchanged. A snapshot id then names a list of items, so a client comparing snapshots sees
//! "nothing changed" as it is; a client that assumes every write bumps the snapshot is the one to fix (the app
//! must accept both). Adds and replaces always make a new snapshot (their entries get a new `added_at`). A reorder
//! on an older snapshot whose moved entries are all gone since is a no-op too.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

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
    /// This entry's identity within its playlist, kept across moves: how a position in an older snapshot is found
    /// in the current list. Given by the playlist when the entry joins it ([`Playlist::insert`],
    /// [`Playlist::replace`], [`Playlist::number_entries`]); whatever the caller set is overwritten.
    pub(crate) uid: u64,
}

/// How many versions of a playlist, the current one included, a `snapshot_id` may name. An older snapshot is
/// answered as unknown (see the module docs).
pub(crate) const SNAPSHOTS_KEPT: usize = 20;

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
    /// The entries of the latest [`SNAPSHOTS_KEPT`] versions, the current one included, newest last: what a write
    /// carrying an older `snapshot_id` is applied against.
    history: VecDeque<(u32, Arc<[Entry]>)>,
    /// The next [`Entry::uid`] to give.
    next_uid: u64,
}

/// Why an edit was refused. Each maps to a 400 with [`EditError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EditError {
    Position,
    Range,
    InsertBefore,
    /// A `snapshot_id` that names no version this stand-in still keeps, or is not one at all.
    Snapshot,
    /// A remove's `positions` do not hold the URI it names (in the snapshot the request names).
    Positions,
}

impl EditError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Position => "Index out of bounds",
            Self::Range => "Invalid range",
            Self::InsertBefore => "Invalid insert_before",
            Self::Snapshot => "Missing or bad version tag",
            Self::Positions => "Could not remove tracks, please check parameters.",
        }
    }
}

/// A remove request's target: every occurrence of an item, or the entries at given positions (counted in the
/// version the request names), which must hold that item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Removal {
    pub(crate) item: Item,
    pub(crate) positions: Option<Vec<usize>>,
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
            history: VecDeque::from([(1, Arc::from(&[][..]))]),
            next_uid: 1,
        }
    }

    /// An opaque, base64 version id: the version counter plus a hash of the playlist id and that counter.
    pub(crate) fn snapshot_id(&self) -> String {
        self.snapshot_id_of(self.version)
    }

    fn snapshot_id_of(&self, version: u32) -> String {
        let digest = Sha256::digest(format!("{}:{}", self.id, version).as_bytes());
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(&version.to_be_bytes());
        bytes.extend_from_slice(&digest[..20]);
        STANDARD.encode(bytes)
    }

    /// Starts a new version, after a change to anything a snapshot covers; the new version's entries are kept for
    /// later writes that name it.
    pub(crate) fn bump(&mut self) {
        self.version = self.version.wrapping_add(1);
        self.remember();
    }

    /// Keeps the current version's entries, dropping the oldest beyond [`SNAPSHOTS_KEPT`].
    fn remember(&mut self) {
        self.history.retain(|(version, _)| *version != self.version);
        self.history
            .push_back((self.version, Arc::from(self.entries.as_slice())));
        while self.history.len() > SNAPSHOTS_KEPT {
            self.history.pop_front();
        }
    }

    /// The entries of the version `snapshot_id` names: the current list for `None` or the current snapshot, an
    /// earlier one while it is kept; [`EditError::Snapshot`] for anything else (another playlist's snapshot, an
    /// expired one, a string that is not a snapshot id).
    pub(crate) fn entries_at(&self, snapshot_id: Option<&str>) -> Result<Arc<[Entry]>, EditError> {
        let Some(snapshot_id) = snapshot_id else {
            return Ok(Arc::from(self.entries.as_slice()));
        };
        let bytes = STANDARD
            .decode(snapshot_id)
            .map_err(|_| EditError::Snapshot)?;
        let version: [u8; 4] = bytes
            .get(..4)
            .and_then(|v| v.try_into().ok())
            .ok_or(EditError::Snapshot)?;
        let version = u32::from_be_bytes(version);
        // The hash ties the version to this playlist: a snapshot of another one is not accepted here.
        if self.snapshot_id_of(version) != snapshot_id {
            return Err(EditError::Snapshot);
        }
        if version == self.version {
            return Ok(Arc::from(self.entries.as_slice()));
        }
        self.history
            .iter()
            .find(|(kept, _)| *kept == version)
            .map(|(_, entries)| Arc::clone(entries))
            .ok_or(EditError::Snapshot)
    }

    /// Gives every entry a fresh [`Entry::uid`] and keeps the list as the current version's; for lists assigned
    /// whole (seeding), which do not start a new version.
    pub(crate) fn number_entries(&mut self) {
        for entry in &mut self.entries {
            entry.uid = self.next_uid;
            self.next_uid += 1;
        }
        self.remember();
    }

    fn numbered(&mut self, mut items: Vec<Entry>) -> Vec<Entry> {
        for entry in &mut items {
            entry.uid = self.next_uid;
            self.next_uid += 1;
        }
        items
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
        let items = self.numbered(items);
        self.entries.splice(at..at, items);
        Ok(())
    }

    /// Replaces every entry with `items`.
    pub(crate) fn replace(&mut self, items: Vec<Entry>) {
        self.entries = self.numbered(items);
    }

    /// Moves the `length` items starting at `start` to just before the item that was at `insert_before` (or to
    /// the end when `insert_before` is the length), indices counted in the current list. See
    /// [`Playlist::reorder_in`].
    #[cfg(test)]
    pub(crate) fn reorder(
        &mut self,
        start: usize,
        length: usize,
        insert_before: usize,
    ) -> Result<bool, EditError> {
        let base = Arc::from(self.entries.as_slice());
        self.reorder_in(&base, start, length, insert_before)
    }

    /// A reorder whose indices are counted in `base`, an earlier version of this list (or the current one), applied
    /// to the current list as Spotify describes: the entries that were at `start..start + length` in `base` move to
    /// just before the entry that was at `insert_before` in `base`, wherever later changes have put them.
    ///
    /// The indices are checked against `base`: `insert_before` inside the moved range is refused, and at either
    /// edge of it nothing moves. Since `base`: moved entries that were removed are not moved (none left: nothing
    /// happens); the moved ones that are left go together, in their current order; when the entry they went before
    /// was removed, they go before the next entry of `base` that is still there and not moved, else to the end.
    /// Answers whether the list changed.
    pub(crate) fn reorder_in(
        &mut self,
        base: &[Entry],
        start: usize,
        length: usize,
        insert_before: usize,
    ) -> Result<bool, EditError> {
        let n = base.len();
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
        let moving: HashSet<u64> = base[start..end].iter().map(|e| e.uid).collect();
        let (moved, mut rest): (Vec<Entry>, Vec<Entry>) = self
            .entries
            .iter()
            .partition(|entry| moving.contains(&entry.uid));
        if moved.is_empty() {
            return Ok(false);
        }
        let present: HashMap<u64, usize> = rest
            .iter()
            .enumerate()
            .map(|(i, entry)| (entry.uid, i))
            .collect();
        let at = base[insert_before..]
            .iter()
            .find_map(|entry| present.get(&entry.uid).copied())
            .unwrap_or(rest.len());
        rest.splice(at..at, moved);
        let changed = rest
            .iter()
            .map(|e| e.uid)
            .ne(self.entries.iter().map(|e| e.uid));
        self.entries = rest;
        Ok(changed)
    }

    /// Removes every entry whose item is in `items`; answers how many went.
    #[cfg(test)]
    pub(crate) fn remove_all(&mut self, items: &HashSet<Item>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|entry| !items.contains(&entry.item));
        before - self.entries.len()
    }

    /// Removes what `removals` name, positions counted in `base` (an earlier version of this list, or the current
    /// one). Every position must be inside `base` and hold the removal's item there, else nothing changes and the
    /// answer is [`EditError::Positions`]. Entries named by position that later changes already removed stay
    /// removed; a removal without positions takes every occurrence of its item in the current list. Answers how
    /// many entries went.
    pub(crate) fn remove_in(
        &mut self,
        base: &[Entry],
        removals: &[Removal],
    ) -> Result<usize, EditError> {
        let mut doomed_uids = HashSet::new();
        let mut doomed_items = HashSet::new();
        for removal in removals {
            match &removal.positions {
                None => {
                    doomed_items.insert(removal.item);
                }
                Some(positions) => {
                    for &position in positions {
                        match base.get(position) {
                            Some(entry) if entry.item == removal.item => {
                                doomed_uids.insert(entry.uid);
                            }
                            _ => return Err(EditError::Positions),
                        }
                    }
                }
            }
        }
        let before = self.entries.len();
        self.entries.retain(|entry| {
            !doomed_uids.contains(&entry.uid) && !doomed_items.contains(&entry.item)
        });
        Ok(before - self.entries.len())
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
                    uid: 0,
                })
                .collect();
            playlist.number_entries();
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
                    uid: 0,
                })
                .collect();
            playlist.number_entries();
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
                uid: 0,
            })
            .collect();
        playlist.number_entries();
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
            uid: 0,
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
                uid: 0,
            });
        }
        p.number_entries();
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

    fn fresh(i: u32) -> Entry {
        Entry {
            item: Item::Track(i),
            added_at: 0,
            added_by: "alice.setlist",
            uid: 0,
        }
    }

    /// The playlist [0..6] with track 10 then inserted at the front: answers it and the snapshot before the insert.
    fn moved_on() -> (Playlist, String) {
        let mut p = playlist(6);
        let old = p.snapshot_id();
        p.insert(Some(0), vec![fresh(10)]).unwrap();
        p.bump();
        (p, old)
    }

    fn reorder_on(
        p: &mut Playlist,
        snapshot: &str,
        start: usize,
        length: usize,
        before: usize,
    ) -> bool {
        let base = p.entries_at(Some(snapshot)).unwrap();
        p.reorder_in(&base, start, length, before).unwrap()
    }

    #[test]
    fn a_reorder_on_an_older_snapshot_moves_the_items_it_named() {
        // On the old [0,1,2,3,4,5]: the first item to the end. Since then 10 went in front.
        let (mut p, old) = moved_on();
        assert!(reorder_on(&mut p, &old, 0, 1, 6));
        assert_eq!(order(&p), [10, 1, 2, 3, 4, 5, 0]);
        // Applied to the current list those indices would have moved 10 instead.

        // On the old list again: [4,5] before 1, wherever they all are now.
        assert!(reorder_on(&mut p, &old, 4, 2, 1));
        assert_eq!(order(&p), [10, 4, 5, 1, 2, 3, 0]);
        // Backwards onto the old front: before what was at 0 (track 0, now last).
        assert!(reorder_on(&mut p, &old, 2, 1, 0));
        assert_eq!(order(&p), [10, 4, 5, 1, 3, 2, 0]);
    }

    #[test]
    fn a_reorder_on_the_current_snapshot_is_a_plain_reorder() {
        for (start, length, before) in [(0, 1, 6), (5, 1, 0), (1, 2, 5), (3, 2, 1), (2, 1, 4)] {
            let mut plain = playlist(6);
            let mut named = playlist(6);
            let snapshot = named.snapshot_id();
            plain.reorder(start, length, before).unwrap();
            reorder_on(&mut named, &snapshot, start, length, before);
            assert_eq!(order(&plain), order(&named), "{start},{length},{before}");
        }
    }

    #[test]
    fn a_reorder_on_an_older_snapshot_survives_removals() {
        let mut p = playlist(6);
        let old = p.snapshot_id();
        p.remove_all(&[Item::Track(2), Item::Track(5)].into_iter().collect());
        p.bump();
        // [1,2] before 5 on the old list: 2 is gone, so 1 moves alone; 5 is gone, so to the end.
        assert!(reorder_on(&mut p, &old, 1, 2, 5));
        assert_eq!(order(&p), [0, 3, 4, 1]);
        // Only removed items named: nothing moves.
        assert!(!reorder_on(&mut p, &old, 5, 1, 0));
        assert_eq!(order(&p), [0, 3, 4, 1]);
        // Indices are checked against the old list (6 long), not the current one (4 long).
        let base = p.entries_at(Some(&old)).unwrap();
        assert_eq!(p.reorder_in(&base, 5, 1, 7), Err(EditError::InsertBefore));
        assert_eq!(p.reorder_in(&base, 6, 1, 0), Err(EditError::Range));
        assert!(p.reorder_in(&base, 0, 1, 6).is_ok());
    }

    #[test]
    fn a_remove_by_position_on_an_older_snapshot_takes_the_occurrence_it_named() {
        // [a, b, a, c] with x then put in front: the old position 2 is the second `a`, now at 3.
        let mut p = playlist(0);
        p.insert(None, [1, 2, 1, 3].map(fresh).to_vec()).unwrap();
        p.bump();
        let old = p.snapshot_id();
        p.insert(Some(0), vec![fresh(9)]).unwrap();
        p.bump();
        let second_a = p.entries[3].uid;
        let base = p.entries_at(Some(&old)).unwrap();
        let removal = |item, positions: &[usize]| Removal {
            item: Item::Track(item),
            positions: Some(positions.to_vec()),
        };
        assert_eq!(p.remove_in(&base, &[removal(1, &[2])]), Ok(1));
        assert_eq!(order(&p), [9, 1, 2, 3]);
        assert!(p.entries.iter().all(|e| e.uid != second_a));
        // A position that does not hold the URI in that snapshot: refused, nothing changes.
        assert_eq!(
            p.remove_in(&base, &[removal(3, &[3]), removal(2, &[2])]),
            Err(EditError::Positions)
        );
        assert_eq!(
            p.remove_in(&base, &[removal(3, &[4])]),
            Err(EditError::Positions)
        );
        assert_eq!(order(&p), [9, 1, 2, 3]);
        // Already gone since: counts as done.
        assert_eq!(p.remove_in(&base, &[removal(1, &[2])]), Ok(0));
        // Without positions: every occurrence in the current list, the new ones included.
        p.insert(None, vec![fresh(1)]).unwrap();
        p.bump();
        let every = Removal {
            item: Item::Track(1),
            positions: None,
        };
        assert_eq!(p.remove_in(&base, &[every]), Ok(2));
        assert_eq!(order(&p), [9, 2, 3]);
    }

    #[test]
    fn unknown_snapshots_are_refused() {
        let (mut p, old) = moved_on();
        let other = Playlist::new("q".into(), "alice.setlist", "t".into()).snapshot_id();
        for bad in ["", "not even a snapshot", "AAAA", other.as_str()] {
            assert_eq!(
                p.entries_at(Some(bad)).err(),
                Some(EditError::Snapshot),
                "{bad:?}"
            );
        }
        assert_eq!(p.entries_at(Some(&old)).unwrap().len(), 6);
        assert_eq!(p.entries_at(Some(&p.snapshot_id())).unwrap().len(), 7);
        // The current version and the SNAPSHOTS_KEPT - 1 before it are kept; older ones are forgotten.
        let mut kept = vec![p.snapshot_id()];
        for _ in 0..SNAPSHOTS_KEPT {
            p.bump();
            kept.push(p.snapshot_id());
        }
        assert_eq!(p.entries_at(Some(&old)).err(), Some(EditError::Snapshot));
        assert_eq!(
            p.entries_at(Some(&kept[0])).err(),
            Some(EditError::Snapshot)
        );
        for snapshot in &kept[1..] {
            assert!(p.entries_at(Some(snapshot)).is_ok());
        }
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
