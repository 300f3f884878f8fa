//! Find duplicates: the same track twice (same URI), the same recording on two releases (same ISRC), and
//! likely the same song (same title and artists once re-release and credit parts are dropped, durations within
//! [`LIKELY_WITHIN_MS`]). Rows that match by any of the asked-for kinds form one group (links are transitive);
//! each group keeps one row and offers the others for removal.

use std::cmp::Reverse;
use std::collections::HashMap;

use super::text::{normalized_artists, normalized_title};
use crate::edit::editor::Row;
use crate::spotify::items::PlaylistEntry;

/// Two versions of a song whose lengths differ by at most this are "likely" the same recording.
pub const LIKELY_WITHIN_MS: u32 = 2_000;

/// How sure a group is: the weakest link that joined it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Match {
    /// The same URI.
    SameTrack,
    /// The same ISRC under different URIs.
    SameRecording,
    /// Title, artists and length match, nothing more.
    Likely,
}

/// Which copy a group keeps by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// The copy added first (earliest `added_at`; the earlier position when unknown or equal).
    #[default]
    FirstAdded,
    /// The copy with the highest popularity (a proxy for the best-known release); first added among equals.
    MostPopular,
}

/// What to look for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateOptions {
    /// Also match different URIs with the same ISRC.
    pub same_recording: bool,
    /// Also match by title, artists and length.
    pub likely: bool,
    pub keep: Keep,
}

impl Default for DuplicateOptions {
    fn default() -> Self {
        Self { same_recording: true, likely: true, keep: Keep::FirstAdded }
    }
}

/// Rows that are copies of one another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateGroup {
    /// How sure: the weakest link that joined the group.
    pub kind: Match,
    /// The rows, in list order (at least two).
    pub keys: Vec<u64>,
    /// The row kept by default (one of `keys`).
    pub keep: u64,
}

impl DuplicateGroup {
    /// The rows removed when `keep` is kept.
    pub fn others(&self, keep: u64) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().copied().filter(move |k| *k != keep)
    }
}

/// Union-find over row positions, remembering the weakest link of each set.
struct Sets {
    parent: Vec<usize>,
    weakest: Vec<Match>,
}

impl Sets {
    fn new(n: usize) -> Self {
        Self { parent: (0..n).collect(), weakest: vec![Match::SameTrack; n] }
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins the sets of `a` and `b`. Already in one set: nothing changes (kinds are joined strongest first,
    /// so a weaker link between rows already linked says nothing new).
    fn join(&mut self, a: usize, b: usize, how: Match) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return;
        }
        // The earlier position stays the root, so groups come out in list order.
        let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[high] = low;
        self.weakest[low] = self.weakest[ra].max(self.weakest[rb]).max(how);
    }
}

/// Joins each run of positions that share a key.
fn join_by<K: std::hash::Hash + Eq>(sets: &mut Sets, positions: impl Iterator<Item = (usize, K)>, how: Match) {
    let mut first: HashMap<K, usize> = HashMap::new();
    for (i, key) in positions {
        match first.get(&key) {
            Some(&f) => sets.join(f, i, how),
            None => {
                first.insert(key, i);
            }
        }
    }
}

/// The duplicate groups in `rows`, in list order of their first row. Rows the Web API cannot remove (local
/// files, entries without a URI) are never part of a group.
pub fn find_duplicates(rows: &[Row], options: DuplicateOptions) -> Vec<DuplicateGroup> {
    let removable = |e: &PlaylistEntry| !e.is_local && e.uri.as_ref().is_some_and(|u| !u.is_local());
    let candidates: Vec<usize> = (0..rows.len()).filter(|&i| removable(&rows[i].entry)).collect();
    let mut sets = Sets::new(rows.len());
    join_by(&mut sets, candidates.iter().map(|&i| (i, rows[i].entry.uri.clone())), Match::SameTrack);
    if options.same_recording {
        let with_isrc = candidates.iter().filter_map(|&i| Some((i, rows[i].entry.isrc.as_deref()?.to_ascii_uppercase())));
        join_by(&mut sets, with_isrc, Match::SameRecording);
    }
    if options.likely {
        // Bucket by (title, artists); within a bucket, lengths sorted, neighbours within the window join.
        let mut buckets: HashMap<(String, String), Vec<(u32, usize)>> = HashMap::new();
        for &i in &candidates {
            let e = &rows[i].entry;
            let (Some(ms), title) = (e.duration_ms, normalized_title(&e.name)) else { continue };
            if title.is_empty() {
                continue;
            }
            buckets.entry((title, normalized_artists(&e.artists))).or_default().push((ms, i));
        }
        for mut bucket in buckets.into_values() {
            crate::sort_with(&mut bucket, &Ord::cmp);
            for pair in bucket.windows(2) {
                if pair[1].0 - pair[0].0 <= LIKELY_WITHIN_MS {
                    sets.join(pair[0].1, pair[1].1, Match::Likely);
                }
            }
        }
    }
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for &i in &candidates {
        let root = sets.root(i);
        members.entry(root).or_default().push(i);
    }
    let mut groups: Vec<(usize, DuplicateGroup)> = members
        .into_iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|(root, mut m)| {
            crate::sort_with(&mut m, &Ord::cmp);
            let keep = keeper(rows, &m, options.keep);
            (root, DuplicateGroup { kind: sets.weakest[root], keys: m.iter().map(|&i| rows[i].key).collect(), keep })
        })
        .collect();
    crate::sort_with(&mut groups, &|(a, _), (b, _)| a.cmp(b));
    groups.into_iter().map(|(_, g)| g).collect()
}

/// The key of the row `keep` picks among `members` (positions in list order).
fn keeper(rows: &[Row], members: &[usize], keep: Keep) -> u64 {
    // Unknown `added_at` sorts after every known one; ISO 8601 times in one format compare as text.
    let added = |i: usize| (rows[i].entry.added_at.is_none(), rows[i].entry.added_at.clone(), i);
    let best = match keep {
        Keep::FirstAdded => members.iter().copied().min_by_key(|&i| added(i)),
        Keep::MostPopular => {
            members.iter().copied().min_by_key(|&i| (Reverse(rows[i].entry.popularity.unwrap_or(0)), added(i)))
        }
    };
    best.map_or(rows[members[0]].key, |i| rows[i].key)
}
