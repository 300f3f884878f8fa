//! The curation tools people otherwise leave Spotify's app for: find duplicates, sort, filter, export and restore,
//! merge, remove unavailable items. Each is a pure function from the editor's rows to what an editor edit takes
//! (keys to remove, a new key order, entries to insert or to replace the list with), so a view shows it as a
//! preview, applies it as one edit (one undo), and saves it through the planner like any other change.

mod backup;
mod duplicates;
mod sort;
mod text;

use std::collections::HashSet;

pub use backup::{
    export_csv, export_json, parse_backup, Backup, BackupError, Skipped, MAX_BACKUP_BYTES, MAX_RESTORE_ITEMS,
};
pub use duplicates::{find_duplicates, DuplicateGroup, DuplicateOptions, Keep, Match, LIKELY_WITHIN_MS};
pub use sort::{reversed_order, sorted_order, SortKey};
pub use text::{normalized_artists, normalized_title};

use crate::edit::editor::Row;
use crate::ids::TrackUri;
use crate::spotify::items::PlaylistEntry;

/// Whether `entry` matches what was typed in the filter box: every whitespace-separated term appears, ignoring
/// case, in its title, artists or album. An empty query matches everything.
pub fn matches_filter(entry: &PlaylistEntry, query: &str) -> bool {
    let terms = terms(query);
    terms.is_empty() || matches_terms(entry, &terms)
}

/// The keys of the rows that match `query` ([`matches_filter`]), in list order.
pub fn filtered_keys(rows: &[Row], query: &str) -> Vec<u64> {
    match filtered_indices(rows, query) {
        None => rows.iter().map(|r| r.key).collect(),
        Some(shown) => shown.iter().filter_map(|&i| rows.get(i)).map(|r| r.key).collect(),
    }
}

/// The indices of the rows that match `query` ([`matches_filter`]), in list order; `None` for an empty query
/// (every row is shown, and a list of 10,000 items needs no vector for that).
pub fn filtered_indices(rows: &[Row], query: &str) -> Option<Vec<usize>> {
    let terms = terms(query);
    if terms.is_empty() {
        return None;
    }
    Some(rows.iter().enumerate().filter(|(_, r)| matches_terms(&r.entry, &terms)).map(|(i, _)| i).collect())
}

/// The query's terms, lower-cased once.
fn terms(query: &str) -> Vec<String> {
    query.split_whitespace().map(str::to_lowercase).collect()
}

fn matches_terms(entry: &PlaylistEntry, terms: &[String]) -> bool {
    let haystack = format!("{}\n{}\n{}", entry.name, entry.artists, entry.album).to_lowercase();
    terms.iter().all(|t| haystack.contains(t.as_str()))
}

/// What [`merge_entries`] takes from another playlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merge {
    /// The entries to append, in the other playlist's order.
    pub entries: Vec<PlaylistEntry>,
    /// Entries of the other playlist left out because the list already has them (or they came earlier in it).
    pub skipped_duplicates: usize,
    /// Entries the Web API cannot add (local files, items without a URI).
    pub skipped_unaddable: usize,
}

/// The entries of `other` to append to `rows`: all that the Web API can add, or, with `skip_duplicates`, only
/// the URIs the list does not hold yet (each once).
pub fn merge_entries(rows: &[Row], other: &[PlaylistEntry], skip_duplicates: bool) -> Merge {
    let mut seen: HashSet<&TrackUri> = rows.iter().filter_map(|r| r.entry.uri.as_ref()).collect();
    let mut merge = Merge { entries: Vec::new(), skipped_duplicates: 0, skipped_unaddable: 0 };
    for entry in other {
        let Some(uri) = entry.uri.as_ref().filter(|uri| !uri.is_local() && !entry.is_local) else {
            merge.skipped_unaddable += 1;
            continue;
        };
        if skip_duplicates && !seen.insert(uri) {
            merge.skipped_duplicates += 1;
            continue;
        }
        merge.entries.push(entry.clone());
    }
    merge
}

/// Why a row counts as unavailable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// Spotify listed the entry without an item (it no longer has the track): only a replace removes it.
    Gone,
    /// Spotify said the item cannot be played (`is_playable: false`).
    NotPlayable,
}

/// The rows that are unavailable, with why, in list order. Local files are the user's own and never count.
pub fn unavailable(rows: &[Row]) -> Vec<(u64, Unavailable)> {
    rows.iter()
        .filter(|r| !r.entry.is_local)
        .filter_map(|r| match (&r.entry.uri, r.entry.playable) {
            (None, _) => Some((r.key, Unavailable::Gone)),
            (Some(uri), _) if uri.is_local() => None,
            (Some(_), Some(false)) => Some((r.key, Unavailable::NotPlayable)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
