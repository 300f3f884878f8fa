//! Sorting, on the whole list or on a selection (the selected rows are sorted among the positions they hold;
//! every other row stays where it is). Stable: rows that compare equal keep their order, in either direction.
//! Rows missing the value sorted by (no album, unknown date) go last in either direction.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::edit::editor::Row;
use crate::spotify::items::PlaylistEntry;

/// What to sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Title,
    /// The artists as listed (first artist first).
    Artist,
    Album,
    DateAdded,
    ReleaseDate,
    Duration,
}

impl SortKey {
    /// Every key, in the order a menu lists them.
    pub const ALL: [SortKey; 6] =
        [Self::Title, Self::Artist, Self::Album, Self::DateAdded, Self::ReleaseDate, Self::Duration];

    /// The menu label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Title => "Title",
            Self::Artist => "Artist",
            Self::Album => "Album",
            Self::DateAdded => "Date added",
            Self::ReleaseDate => "Release date",
            Self::Duration => "Duration",
        }
    }
}

/// A comparable value of one row; `None` for a missing one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Value {
    Text(String),
    Number(u64),
}

/// Text compared without case; a leading "the " of an artist is ignored, as record shops file them.
fn value(entry: &PlaylistEntry, key: SortKey) -> Option<Value> {
    let text = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| Value::Text(s.to_lowercase()))
    };
    match key {
        SortKey::Title => text(&entry.name),
        SortKey::Artist => {
            let lower = entry.artists.trim().to_lowercase();
            let filed = lower.strip_prefix("the ").unwrap_or(&lower).to_owned();
            (!filed.is_empty()).then_some(Value::Text(filed))
        }
        SortKey::Album => text(&entry.album),
        // ISO 8601 dates and times in one format compare as text; a year-only release date sorts before the
        // dated releases of that year.
        SortKey::DateAdded => entry.added_at.as_deref().and_then(text),
        SortKey::ReleaseDate => entry.release_date.as_deref().and_then(text),
        SortKey::Duration => entry.duration_ms.map(|ms| Value::Number(u64::from(ms))),
    }
}

/// The value a row is sorted by, for the property tests.
#[cfg(test)]
pub(super) fn tests_value(entry: &PlaylistEntry, key: SortKey) -> Option<Value> {
    value(entry, key)
}

/// The row keys in the order sorting by `key` gives (`descending` reverses the comparison; ties keep their
/// order). With `only`, just those rows are sorted, among the positions they hold.
pub fn sorted_order(rows: &[Row], key: SortKey, descending: bool, only: Option<&HashSet<u64>>) -> Vec<u64> {
    reorder(rows, only, |picked| {
        // Each value computed once (text is lower-cased), not once per comparison.
        let mut keyed: Vec<(Option<Value>, u64)> = picked.iter().map(|r| (value(&r.entry, key), r.key)).collect();
        crate::sort_with(&mut keyed, &|(a, _), (b, _)| match (a, b) {
            (Some(a), Some(b)) if descending => b.cmp(a),
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        });
        keyed.into_iter().map(|(_, k)| k).collect()
    })
}

/// The row keys with the list (or, with `only`, the selected rows among their positions) reversed.
pub fn reversed_order(rows: &[Row], only: Option<&HashSet<u64>>) -> Vec<u64> {
    reorder(rows, only, |picked| picked.iter().rev().map(|r| r.key).collect())
}

/// Applies `order` (given the picked rows in list order, their keys in the new order) to the picked rows'
/// positions.
fn reorder(rows: &[Row], only: Option<&HashSet<u64>>, order: impl FnOnce(&[&Row]) -> Vec<u64>) -> Vec<u64> {
    let picked_at = |r: &Row| only.is_none_or(|set| set.contains(&r.key));
    let picked: Vec<&Row> = rows.iter().filter(|r| picked_at(r)).collect();
    let mut new_keys = order(&picked).into_iter();
    rows.iter()
        .map(|r| if picked_at(r) { new_keys.next().unwrap_or(r.key) } else { r.key })
        .collect()
}
