//! The editor's local copy of a playlist: rows with stable keys, details, undo and redo, and what to send
//! to Spotify on save. Pure and O(n) per edit, so the browser view only renders it.
//!
//! Rows are addressed by key (what a view holds in its selection) or by index (what a drop position or a
//! keyboard move names); both forms exist for the list edits.
//!
//! Local files and entries Spotify sent without a usable URI ("pinned" rows, see [`Editor::is_pinned`])
//! can be moved but not removed or added, because the Web API cannot remove or add them (see
//! [`crate::edit::model`]). The editor skips them in removals and refuses to add them, so every state it
//! reaches can be saved: [`Editor::plan`] fails only for a base that was given pinned rows it later lost,
//! which the editor never does.
//!
//! The undo history keeps each step as the list of row keys plus the details (8 bytes per row), not as
//! copies of the entries; the last [`UNDO_DEPTH`] steps are kept.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ids::TrackUri;
use crate::edit::model::Op;
use crate::edit::planner::{plan, replace_plan, PlanError};
use crate::{DetailsChange, PlaylistEntry, PlaylistSummary};

/// Undo steps kept; older ones are dropped, so a long session on a 10,000-item playlist stays bounded.
pub const UNDO_DEPTH: usize = 100;

/// A playlist's editable details.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The name; Spotify refuses a blank one, so a view should not offer to save it.
    pub name: String,
    /// The description, empty for none.
    pub description: String,
    /// Shown on the owner's profile. Spotify's "not relevant" (`null`) reads as private.
    pub public: bool,
    /// Collaborators may edit it; Spotify only allows this on private playlists.
    pub collaborative: bool,
}

impl Meta {
    /// The details of a listed or loaded playlist.
    pub fn from_summary(summary: &PlaylistSummary) -> Self {
        Self {
            name: summary.name.clone(),
            description: summary.description.clone(),
            public: summary.public.unwrap_or(false),
            collaborative: summary.collaborative,
        }
    }
}

/// One row: an entry with a key that stays the same across edits, undo and redo, so a view keeps
/// selection and focus. Keys are never reused within one editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The row's stable key.
    pub key: u64,
    /// What the row shows and saves.
    pub entry: PlaylistEntry,
}

/// One point of the history: which rows, in which order, and the details.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    keys: Vec<u64>,
    meta: Meta,
}

/// Which detail the last edit typed into, so that typing a name is one undo step, not one per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Name,
    Description,
}

/// Local files and entries without a usable URI: movable only.
fn pinned(entry: &PlaylistEntry) -> bool {
    entry.is_local || entry.uri.as_ref().is_none_or(TrackUri::is_local)
}

/// An entry Spotify listed without an item: it no longer has the track.
fn gone(entry: &PlaylistEntry) -> bool {
    entry.uri.is_none() && !entry.is_local
}

/// The local copy being edited, with the version it started from. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Editor {
    /// Every entry the editor has held, by key: undo and redo rebuild rows from here.
    entries: HashMap<u64, PlaylistEntry>,
    rows: Vec<Row>,
    meta: Meta,
    base: State,
    undo: Vec<State>,
    redo: Vec<State>,
    next_key: u64,
    typing: Option<Field>,
}

impl Editor {
    /// Starts editing `entries` (in playlist order, `null` items included so positions match Spotify's)
    /// and `meta` as loaded from Spotify.
    pub fn new(entries: Vec<PlaylistEntry>, meta: Meta) -> Self {
        let mut editor = Self {
            entries: HashMap::with_capacity(entries.len()),
            rows: Vec::with_capacity(entries.len()),
            meta: Meta::default(),
            base: State {
                keys: Vec::new(),
                meta: Meta::default(),
            },
            undo: Vec::new(),
            redo: Vec::new(),
            next_key: 0,
            typing: None,
        };
        editor.rows = editor.fresh_rows(entries);
        editor.meta = normalized(meta, None);
        editor.base = editor.state();
        editor
    }

    fn fresh_rows(&mut self, entries: Vec<PlaylistEntry>) -> Vec<Row> {
        entries
            .into_iter()
            .map(|entry| {
                let key = self.next_key;
                self.next_key += 1;
                self.entries.insert(key, entry.clone());
                Row { key, entry }
            })
            .collect()
    }

    fn state(&self) -> State {
        State {
            keys: self.rows.iter().map(|r| r.key).collect(),
            meta: self.meta.clone(),
        }
    }

    fn restore(&mut self, state: State) {
        self.rows = state
            .keys
            .iter()
            .filter_map(|&key| {
                Some(Row {
                    key,
                    entry: self.entries.get(&key)?.clone(),
                })
            })
            .collect();
        self.meta = state.meta;
    }

    /// Records the current state for undo before an edit, and ends any typing run.
    fn record(&mut self) {
        self.typing = None;
        self.redo.clear();
        if self.undo.len() == UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.undo.push(self.state());
    }

    // --- Reading ------------------------------------------------------------------------------------

    /// The rows now, in order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Number of rows now.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the list is empty now.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The details now.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The details as loaded or last saved.
    pub fn saved_meta(&self) -> &Meta {
        &self.base.meta
    }

    /// Index of the row with `key`, if it is in the list now. O(n).
    pub fn index_of(&self, key: u64) -> Option<usize> {
        self.rows.iter().position(|r| r.key == key)
    }

    /// Key of the row at `index`.
    pub fn key_at(&self, index: usize) -> Option<u64> {
        self.rows.get(index).map(|r| r.key)
    }

    /// Whether the row with `key` is a local file or has no usable URI: it can be moved, not removed.
    /// `false` for a key not in the list.
    pub fn is_pinned(&self, key: u64) -> bool {
        self.rows
            .iter()
            .find(|r| r.key == key)
            .is_some_and(|r| pinned(&r.entry))
    }

    /// Whether the list or the details differ from what was loaded or last saved. The list is compared
    /// by URI, so removing a track and adding it back in the same place is not a change.
    pub fn is_dirty(&self) -> bool {
        self.items_dirty() || self.meta_dirty()
    }

    /// Whether the list differs from what was loaded or last saved.
    pub fn items_dirty(&self) -> bool {
        let keys = self.rows.iter().map(|r| r.key);
        !keys.clone().eq(self.base.keys.iter().copied()) && self.base_uris() != self.target_uris()
    }

    /// Whether the details differ from what was loaded or last saved.
    pub fn meta_dirty(&self) -> bool {
        self.meta != self.base.meta
    }

    /// Whether [`Editor::undo`] would do something.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether [`Editor::redo`] would do something.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    // --- Saving -------------------------------------------------------------------------------------

    fn uri_of(key: u64, entry: Option<&PlaylistEntry>) -> TrackUri {
        match entry.and_then(|e| e.uri.clone()) {
            Some(uri) => uri,
            None => placeholder(key),
        }
    }

    /// The URIs as loaded or last saved, with the same stand-ins as [`Editor::target_uris`].
    pub fn base_uris(&self) -> Vec<TrackUri> {
        self.base
            .keys
            .iter()
            .map(|&key| Self::uri_of(key, self.entries.get(&key)))
            .collect()
    }

    /// The URIs the playlist should hold after saving, one per row, in order. A row without a usable URI
    /// stands in as a local-file URI unique to it (`spotify:local:setlist-unavailable:KEY`), which the
    /// planner only ever moves, so such rows keep their place without being sent to Spotify. Plan with
    /// [`Editor::plan`] (or pair this with [`Editor::base_uris`]), not with URIs filtered some other way.
    pub fn target_uris(&self) -> Vec<TrackUri> {
        self.rows
            .iter()
            .map(|r| Self::uri_of(r.key, Some(&r.entry)))
            .collect()
    }

    /// The item calls that save the list (empty when it is unchanged). After [`Editor::remove_unavailable`] took out
    /// entries Spotify no longer has, only a replace of the whole list removes them: then that is the plan.
    pub fn plan(&self) -> Result<Vec<Op>, PlanError> {
        let target = self.target_uris();
        if self.removed_gone() {
            return Ok(replace_plan(&target));
        }
        plan(&self.base_uris(), &target)
    }

    /// Whether a row of the base that Spotify listed without an item is no longer in the list.
    fn removed_gone(&self) -> bool {
        let kept: HashSet<u64> = self.rows.iter().map(|r| r.key).collect();
        self.base.keys.iter().any(|key| !kept.contains(key) && self.entries.get(key).is_some_and(gone))
    }

    /// The details call that saves the details (empty when they are unchanged).
    pub fn details_change(&self) -> DetailsChange {
        let (old, new) = (&self.base.meta, &self.meta);
        DetailsChange {
            name: (new.name != old.name).then(|| new.name.clone()),
            description: (new.description != old.description).then(|| new.description.clone()),
            public: (new.public != old.public).then_some(new.public),
            collaborative: (new.collaborative != old.collaborative).then_some(new.collaborative),
        }
    }

    /// Records that the list and the details were saved: they become the new base. The history stays,
    /// so undoing past a save is a new change to save.
    pub fn mark_saved(&mut self) {
        self.base = self.state();
    }

    // --- List edits ---------------------------------------------------------------------------------

    /// Inserts `entries` before the row at `index` (clamped to the end) and returns their keys. Entries
    /// Spotify would not let an app add (local files, entries without a URI) are skipped.
    pub fn insert_at(&mut self, index: usize, entries: Vec<PlaylistEntry>) -> Vec<u64> {
        let entries: Vec<PlaylistEntry> = entries.into_iter().filter(|e| !pinned(e)).collect();
        if entries.is_empty() {
            return Vec::new();
        }
        self.record();
        let rows = self.fresh_rows(entries);
        let keys = rows.iter().map(|r| r.key).collect();
        let at = index.min(self.rows.len());
        self.rows.splice(at..at, rows);
        keys
    }

    /// Removes the rows with these keys; unknown keys and pinned rows are ignored. Returns how many were
    /// removed.
    pub fn remove(&mut self, keys: &[u64]) -> usize {
        let keys: HashSet<u64> = keys.iter().copied().collect();
        let doomed = |r: &Row| keys.contains(&r.key) && !pinned(&r.entry);
        if !self.rows.iter().any(doomed) {
            return 0;
        }
        self.record();
        let before = self.rows.len();
        self.rows.retain(|r| !doomed(r));
        before - self.rows.len()
    }

    /// Removes the rows with these keys like [`Editor::remove`], and also those Spotify listed without an item
    /// (it no longer has the track; see [`Editor::is_pinned`]), in one edit. Only a replace of the whole list
    /// removes such entries through the Web API, and a replace would drop local files, so while the list holds a
    /// local file those rows stay. Returns how many rows were removed.
    pub fn remove_unavailable(&mut self, keys: &[u64]) -> usize {
        let replace_ok = !self.rows.iter().any(|r| pinned(&r.entry) && !gone(&r.entry));
        let keys: HashSet<u64> = keys.iter().copied().collect();
        let doomed = |r: &Row| keys.contains(&r.key) && (!pinned(&r.entry) || (replace_ok && gone(&r.entry)));
        if !self.rows.iter().any(doomed) {
            return 0;
        }
        self.record();
        let before = self.rows.len();
        self.rows.retain(|r| !doomed(r));
        before - self.rows.len()
    }

    /// [`Editor::remove`] by index; indices past the end are ignored.
    pub fn remove_at(&mut self, indices: &[usize]) -> usize {
        let keys = self.keys_at(indices);
        self.remove(&keys)
    }

    fn keys_at(&self, indices: &[usize]) -> Vec<u64> {
        indices.iter().filter_map(|&i| self.key_at(i)).collect()
    }

    /// Moves the rows with these keys, keeping their relative order, to just before the row that is at
    /// `before` now (`before >= len` moves them to the end). When that row is itself moved, they go
    /// before the first row after it that stays: the drop position of a drag. Returns whether anything
    /// changed.
    pub fn move_to(&mut self, keys: &[u64], before: usize) -> bool {
        let set: HashSet<u64> = keys.iter().copied().collect();
        let anchor = self
            .rows
            .iter()
            .skip(before)
            .map(|r| r.key)
            .find(|k| !set.contains(k));
        let (moving, staying): (Vec<Row>, Vec<Row>) =
            self.rows.iter().cloned().partition(|r| set.contains(&r.key));
        if moving.is_empty() {
            return false;
        }
        let at = anchor
            .and_then(|a| staying.iter().position(|r| r.key == a))
            .unwrap_or(staying.len());
        let mut next = staying;
        next.splice(at..at, moving);
        if next == self.rows {
            return false;
        }
        self.record();
        self.rows = next;
        true
    }

    /// [`Editor::move_to`] by index; indices past the end are ignored.
    pub fn move_at(&mut self, indices: &[usize], before: usize) -> bool {
        let keys = self.keys_at(indices);
        self.move_to(&keys, before)
    }

    /// Moves the row at `index` one place up. Returns whether anything changed (not at the top).
    pub fn move_up(&mut self, index: usize) -> bool {
        self.key_at(index).is_some_and(|key| self.nudge(&[key], None, false))
    }

    /// Moves the row at `index` one place down. Returns whether anything changed (not at the bottom).
    pub fn move_down(&mut self, index: usize) -> bool {
        self.key_at(index).is_some_and(|key| self.nudge(&[key], None, true))
    }

    /// Moves the rows with `keys` one place down (`down`) or up among the rows `shown`: past the shown row below
    /// the last of them that is shown, or to before the shown row above the first (Alt+↓/↑ on a filtered list).
    /// `shown` holds indices in list order; `None` shows every row. Keys that are not shown move too, with the
    /// rest. Returns whether anything changed (nothing shown beyond them in that direction).
    pub fn nudge(&mut self, keys: &[u64], shown: Option<&[usize]>, down: bool) -> bool {
        let place = |i: usize| match shown {
            None => Some(i),
            Some(s) => s.binary_search(&i).ok(),
        };
        let at = |p: usize| match shown {
            None => (p < self.rows.len()).then_some(p),
            Some(s) => s.get(p).copied(),
        };
        let places = keys.iter().filter_map(|&k| self.index_of(k)).filter_map(place);
        let before = if down {
            places.max().and_then(|last| at(last + 1)).map(|below| below + 1)
        } else {
            places.min().and_then(|first| first.checked_sub(1)).and_then(at)
        };
        before.is_some_and(|before| self.move_to(keys, before))
    }

    /// Drops the rows with `keys` (dragged by the row `dragged`) on the row `target`: after it when it is below
    /// the dragged row, before it when above. Returns whether anything changed.
    pub fn drop_on(&mut self, keys: &[u64], dragged: u64, target: u64) -> bool {
        let (Some(from), Some(to)) = (self.index_of(dragged), self.index_of(target)) else { return false };
        from != to && self.move_to(keys, if from < to { to + 1 } else { to })
    }

    /// Puts the rows in a new order (a sort, say). `keys` must hold each current key exactly once;
    /// returns whether the order was taken (`false` also when it is the current order).
    pub fn set_order(&mut self, keys: &[u64]) -> bool {
        if keys.len() != self.rows.len() {
            return false;
        }
        let mut by_key: HashMap<u64, Row> = self.rows.iter().map(|r| (r.key, r.clone())).collect();
        let mut next = Vec::with_capacity(keys.len());
        for key in keys {
            match by_key.remove(key) {
                Some(row) => next.push(row),
                None => return false,
            }
        }
        if next == self.rows {
            return false;
        }
        self.record();
        self.rows = next;
        true
    }

    /// Replaces the list with `entries` and returns their keys. Pinned rows cannot be removed, so they
    /// stay, after the new entries and in their order; pinned entries among `entries` are skipped.
    pub fn replace_all(&mut self, entries: Vec<PlaylistEntry>) -> Vec<u64> {
        let entries: Vec<PlaylistEntry> = entries.into_iter().filter(|e| !pinned(e)).collect();
        self.record();
        let kept: Vec<Row> = self.rows.iter().filter(|r| pinned(&r.entry)).cloned().collect();
        let mut rows = self.fresh_rows(entries);
        let keys = rows.iter().map(|r| r.key).collect();
        rows.extend(kept);
        self.rows = rows;
        keys
    }

    // --- Details ------------------------------------------------------------------------------------

    /// Sets all details at once. Public and collaborative cannot both be on at Spotify, so when `meta`
    /// asks for both, the one that was just switched on wins and the other is switched off.
    pub fn set_meta(&mut self, meta: Meta) {
        let meta = normalized(meta, Some(&self.meta));
        if meta != self.meta {
            self.record();
            self.meta = meta;
        }
    }

    /// Edits a typed detail; consecutive edits of the same field are one undo step.
    fn type_into(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::Name => &mut self.meta.name,
            Field::Description => &mut self.meta.description,
        };
        if *slot == value {
            return;
        }
        if self.typing == Some(field) {
            self.redo.clear();
        } else {
            self.record();
            self.typing = Some(field);
        }
        match field {
            Field::Name => self.meta.name = value,
            Field::Description => self.meta.description = value,
        }
    }

    /// Sets the name; a run of name edits is one undo step.
    pub fn set_name(&mut self, name: String) {
        self.type_into(Field::Name, name);
    }

    /// Sets the description; a run of description edits is one undo step.
    pub fn set_description(&mut self, description: String) {
        self.type_into(Field::Description, description);
    }

    /// Makes the playlist public or private; making it public also makes it non-collaborative.
    pub fn set_public(&mut self, public: bool) {
        let meta = Meta {
            public,
            ..self.meta.clone()
        };
        self.set_meta(meta);
    }

    /// Makes the playlist collaborative or not; making it collaborative also makes it private.
    pub fn set_collaborative(&mut self, collaborative: bool) {
        let meta = Meta {
            collaborative,
            ..self.meta.clone()
        };
        self.set_meta(meta);
    }

    // --- History ------------------------------------------------------------------------------------

    /// Undoes the last edit; `false` when there is none.
    pub fn undo(&mut self) -> bool {
        self.typing = None;
        let Some(previous) = self.undo.pop() else {
            return false;
        };
        self.redo.push(self.state());
        self.restore(previous);
        true
    }

    /// Redoes the last undone edit; `false` when there is none.
    pub fn redo(&mut self) -> bool {
        self.typing = None;
        let Some(next) = self.redo.pop() else {
            return false;
        };
        self.undo.push(self.state());
        self.restore(next);
        true
    }

    /// Re-applies the changes `previous` made to its own base onto this (freshly loaded) editor: URIs it
    /// removed are removed here too (as many copies as it removed), URIs it added are appended, and its
    /// details edits are kept. Order changes cannot be transferred onto a list that changed underneath and
    /// are dropped. Returns how many changes were re-applied; one undo step undoes them all.
    pub fn reapply(&mut self, previous: &Editor) -> usize {
        let count = |uris: Vec<TrackUri>| {
            let mut m: HashMap<TrackUri, usize> = HashMap::new();
            for uri in uris {
                *m.entry(uri).or_default() += 1;
            }
            m
        };
        let (old, new) = (count(previous.base_uris()), count(previous.target_uris()));
        let mut removals: HashMap<&TrackUri, usize> = old
            .iter()
            .filter_map(|(uri, n)| Some((uri, n.checked_sub(new.get(uri).copied().unwrap_or(0))?)))
            .filter(|(_, d)| *d > 0)
            .collect();
        let mut pending: HashMap<&TrackUri, usize> = new
            .iter()
            .filter_map(|(uri, n)| Some((uri, n.checked_sub(old.get(uri).copied().unwrap_or(0))?)))
            .filter(|(_, d)| *d > 0)
            .collect();
        let additions: Vec<PlaylistEntry> = previous
            .rows
            .iter()
            .filter(|row| {
                row.entry
                    .uri
                    .as_ref()
                    .and_then(|uri| pending.get_mut(uri))
                    .filter(|left| **left > 0)
                    .map(|left| *left -= 1)
                    .is_some()
            })
            .map(|row| row.entry.clone())
            .filter(|entry| !pinned(entry))
            .collect();
        let mut applied = 0;
        let mut next_rows = self.rows.clone();
        next_rows.retain(|r| {
            let left = r
                .entry
                .uri
                .as_ref()
                .filter(|_| !pinned(&r.entry))
                .and_then(|u| removals.get_mut(u));
            match left {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    applied += 1;
                    false
                }
                _ => true,
            }
        });
        let meta_changed = previous.meta != previous.base.meta;
        if next_rows == self.rows && additions.is_empty() && !meta_changed {
            return 0;
        }
        self.record();
        applied += additions.len();
        let added = self.fresh_rows(additions);
        next_rows.extend(added);
        self.rows = next_rows;
        if meta_changed {
            self.meta = previous.meta.clone();
            applied += 1;
        }
        applied
    }
}

/// Public and collaborative together are refused by Spotify: keep the one just switched on.
fn normalized(mut meta: Meta, previous: Option<&Meta>) -> Meta {
    if meta.public && meta.collaborative {
        let collaborative_just_on = previous.is_some_and(|p| !p.collaborative);
        if collaborative_just_on {
            meta.public = false;
        } else {
            meta.collaborative = false;
        }
    }
    meta
}

/// How the stand-in URI of a row without one begins; see [`Editor::target_uris`].
const PLACEHOLDER_PREFIX: &str = "spotify:local:setlist-unavailable:";

/// Whether `uri` is the editor's stand-in for a row Spotify listed without a URI (never sent to Spotify).
pub fn is_placeholder(uri: &TrackUri) -> bool {
    uri.as_str().starts_with(PLACEHOLDER_PREFIX)
}

/// The stand-in URI of a row without one; see [`Editor::target_uris`].
fn placeholder(key: u64) -> TrackUri {
    match TrackUri::parse(&format!("{PLACEHOLDER_PREFIX}{key}")) {
        Ok(uri) => uri,
        // A fixed prefix and digits, which the local-file grammar always accepts.
        Err(e) => unreachable!("placeholder URI rejected: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::model::apply_all;
    use proptest::prelude::*;

    fn entry(n: u32) -> PlaylistEntry {
        let id = format!("{:0>22}", n);
        let uri = TrackUri::parse(&format!("spotify:track:{id}")).expect("valid");
        PlaylistEntry {
            name: format!("song {n}"),
            ..PlaylistEntry::from_uri(uri)
        }
    }

    fn uri(n: u32) -> TrackUri {
        entry(n).uri.expect("has a URI")
    }

    fn local() -> PlaylistEntry {
        PlaylistEntry::from_uri(TrackUri::parse("spotify:local:A:B:C:1").expect("valid"))
    }

    fn missing() -> PlaylistEntry {
        PlaylistEntry {
            uri: None,
            kind: None,
            ..entry(0)
        }
    }

    fn names(e: &Editor) -> Vec<u64> {
        e.rows().iter().map(|r| r.key).collect()
    }

    fn songs(e: &Editor) -> Vec<u32> {
        e.rows()
            .iter()
            .map(|r| {
                r.entry
                    .name
                    .strip_prefix("song ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(u32::MAX)
            })
            .collect()
    }

    fn editor(n: u32) -> Editor {
        Editor::new((0..n).map(entry).collect(), Meta::default())
    }

    /// Saving must reach exactly the edited list under the model.
    fn assert_plan_reaches_target(e: &Editor) {
        let ops = e.plan().expect("plannable");
        let mut list = e.base_uris();
        assert_eq!(apply_all(&mut list, &ops), Ok(()));
        assert!(list == e.target_uris());
    }

    #[test]
    fn moves_keep_relative_order_and_land_before_the_anchor() {
        let mut e = editor(6);
        assert!(e.move_to(&[4, 1], 0));
        assert_eq!(names(&e), vec![1, 4, 0, 2, 3, 5]);
        assert!(e.move_to(&[1], 6));
        assert_eq!(names(&e), vec![4, 0, 2, 3, 5, 1]);
        assert!(!e.move_to(&[1], 6), "a move that changes nothing records nothing");
        assert!(e.move_to(&[0, 2], 5));
        assert_eq!(names(&e), vec![4, 3, 5, 0, 2, 1]);
        assert_plan_reaches_target(&e);
    }

    #[test]
    fn index_based_edits() {
        let mut e = editor(6);
        assert!(e.move_at(&[4, 1], 0));
        assert_eq!(songs(&e), [1, 4, 0, 2, 3, 5]);
        // Dropping onto one of the moved rows: before the next row that stays.
        assert!(e.move_at(&[1, 3], 3));
        assert_eq!(songs(&e), [1, 0, 4, 2, 3, 5]);
        assert!(!e.move_at(&[1, 2], 2), "already in place");
        assert!(!e.move_up(0));
        assert!(e.move_up(3));
        assert!(!e.move_down(5));
        assert!(!e.move_down(9));
        assert!(e.move_down(0));
        assert_eq!(songs(&e), [0, 1, 2, 4, 3, 5]);
        assert_eq!(e.remove_at(&[5, 0, 0, 99]), 2);
        assert_eq!(songs(&e), [1, 2, 4, 3]);
        let keys = e.insert_at(99, vec![entry(7), entry(8)]);
        assert_eq!(e.key_at(4), Some(keys[0]));
        assert_eq!(songs(&e), [1, 2, 4, 3, 7, 8]);
        assert_plan_reaches_target(&e);
    }

    #[test]
    fn undo_redo_walk_the_history_and_a_new_edit_clears_redo() {
        let mut e = editor(3);
        assert!(!e.is_dirty());
        e.remove(&[1]);
        e.insert_at(0, vec![entry(9)]);
        assert!(e.is_dirty());
        assert_eq!(e.len(), 3);
        assert!(e.undo());
        assert_eq!(names(&e), vec![0, 2]);
        assert!(e.undo());
        assert_eq!(names(&e), vec![0, 1, 2]);
        assert!(!e.is_dirty());
        assert!(!e.undo());
        assert!(e.redo());
        assert_eq!(names(&e), vec![0, 2]);
        e.set_meta(Meta {
            name: "x".into(),
            ..Meta::default()
        });
        assert!(!e.can_redo());
        assert!(e.is_dirty());
    }

    #[test]
    fn undo_depth_is_bounded() {
        let mut e = editor(2);
        for _ in 0..UNDO_DEPTH + 20 {
            assert!(e.move_down(0));
        }
        let mut undone = 0;
        while e.undo() {
            undone += 1;
        }
        assert_eq!(undone, UNDO_DEPTH);
    }

    #[test]
    fn nudge_moves_past_the_next_shown_row() {
        let mut e = editor(6);
        assert!(e.nudge(&[1, 2], None, true), "past row 3");
        assert_eq!(names(&e), vec![0, 3, 1, 2, 4, 5]);
        assert!(e.nudge(&[1, 2], None, false), "back before row 3");
        assert_eq!(names(&e), vec![0, 1, 2, 3, 4, 5]);
        assert!(!e.nudge(&[0], None, false), "nothing above the top");
        assert!(!e.nudge(&[5], None, true), "nothing below the bottom");
        assert!(!e.nudge(&[99], None, true), "an unknown key moves nothing");
        // A filter shows rows 0, 2 and 5: Alt+Down on 2 moves it past 5 (the next shown row), not past 3.
        let shown = [0, 2, 5];
        assert!(e.nudge(&[2], Some(&shown), true));
        assert_eq!(names(&e), vec![0, 1, 3, 4, 5, 2]);
        // Now 0, 4 and 5 (key 2) are shown; Alt+Up on key 2 puts it before key 5, the shown row above.
        let shown = [0, 4, 5];
        assert!(e.nudge(&[2], Some(&shown), false));
        assert_eq!(names(&e), vec![0, 1, 3, 4, 2, 5]);
        assert!(!e.nudge(&[0], Some(&shown), false));
        assert_plan_reaches_target(&e);
    }

    #[test]
    fn a_drop_lands_after_a_row_below_and_before_a_row_above() {
        let mut e = editor(5);
        assert!(e.drop_on(&[1], 1, 3), "dragged down onto 3: after it");
        assert_eq!(names(&e), vec![0, 2, 3, 1, 4]);
        assert!(e.drop_on(&[4, 0], 4, 2), "dragged up onto 2 with 0 selected: before it, in list order");
        assert_eq!(names(&e), vec![0, 4, 2, 3, 1]);
        assert!(!e.drop_on(&[3], 3, 3), "onto itself");
        assert!(!e.drop_on(&[3], 3, 99), "onto a row that is gone");
        assert_plan_reaches_target(&e);
    }

    #[test]
    fn target_uris_follow_the_rows() {
        let mut e = editor(3);
        e.move_to(&[2], 0);
        e.remove(&[0]);
        let want: Vec<TrackUri> = [2, 1].iter().map(|n| uri(*n)).collect();
        assert_eq!(e.target_uris(), want);
        assert_plan_reaches_target(&e);
    }

    #[test]
    fn set_order_and_replace_all() {
        let mut e = editor(3);
        assert!(e.set_order(&[2, 1, 0]));
        assert_eq!(songs(&e), [2, 1, 0]);
        assert!(!e.set_order(&[2, 2, 0]));
        assert!(!e.set_order(&[2, 1]));
        assert!(!e.set_order(&[2, 1, 99]));
        assert!(!e.set_order(&[2, 1, 0]), "unchanged");
        let keys = e.replace_all(vec![entry(5), entry(6)]);
        assert_eq!(names(&e), keys);
        assert_eq!(songs(&e), [5, 6]);
        assert_plan_reaches_target(&e);
        assert!(e.undo());
        assert_eq!(songs(&e), [2, 1, 0]);
    }

    #[test]
    fn dirty_compares_uris_and_saving_rebases() {
        let mut e = editor(2);
        e.remove(&[1]);
        e.insert_at(1, vec![entry(1)]);
        assert!(!e.is_dirty(), "same URIs in the same order");
        assert_eq!(e.plan(), Ok(vec![]));
        assert!(e.move_up(1));
        assert!(e.is_dirty() && e.items_dirty() && !e.meta_dirty());
        e.mark_saved();
        assert!(!e.is_dirty());
        e.undo();
        assert!(e.is_dirty(), "undoing past a save is a change to save");
    }

    #[test]
    fn details() {
        let mut e = editor(1);
        for name in ["L", "Li", "Lis", "Lisa"] {
            e.set_name(name.into());
        }
        e.set_description("about".into());
        assert_eq!(
            e.details_change(),
            DetailsChange {
                name: Some("Lisa".into()),
                description: Some("about".into()),
                ..DetailsChange::default()
            }
        );
        assert!(e.undo(), "the description run is one step");
        assert!(e.undo(), "the name run is one step");
        assert_eq!(e.meta().name, "");
        assert!(!e.is_dirty());
        assert!(e.details_change().is_empty());

        e.set_public(true);
        e.set_collaborative(true);
        assert_eq!((e.meta().public, e.meta().collaborative), (false, true));
        e.set_public(true);
        assert_eq!((e.meta().public, e.meta().collaborative), (true, false));
        // A form that flips a checkbox through set_meta gets the same rule.
        let mut m = e.meta().clone();
        m.collaborative = true;
        e.set_meta(m);
        assert_eq!((e.meta().public, e.meta().collaborative), (false, true));
        assert_eq!(
            e.details_change(),
            DetailsChange {
                collaborative: Some(true),
                ..DetailsChange::default()
            }
        );
        e.mark_saved();
        assert!(e.saved_meta().collaborative);
        let both = Editor::new(
            vec![],
            Meta {
                public: true,
                collaborative: true,
                ..Meta::default()
            },
        );
        assert!(both.meta().public && !both.meta().collaborative);
    }

    #[test]
    fn pinned_rows_move_but_stay() {
        let mut e = Editor::new(vec![entry(1), local(), missing(), entry(2)], Meta::default());
        let keys = names(&e);
        assert!(!e.is_pinned(keys[0]) && e.is_pinned(keys[1]) && e.is_pinned(keys[2]));
        assert_eq!(e.remove(&keys), 2, "only the removable rows go");
        assert_eq!(names(&e), [keys[1], keys[2]]);
        assert!(e.undo());
        assert!(e.insert_at(0, vec![missing(), local()]).is_empty());
        assert!(e.can_redo(), "an insert of nothing records nothing, so redo survives");
        assert!(e.move_to(&[keys[1], keys[2]], 4));
        assert_eq!(e.remove(&[keys[0]]), 1);
        e.insert_at(0, vec![entry(5)]);
        // Now [5, 2, local, missing].
        assert!(e.target_uris()[3].as_str().starts_with("spotify:local:setlist-unavailable:"));
        let ops = e.plan().expect("plannable");
        assert!(ops.iter().all(|op| op.check_shape().is_ok()));
        assert_plan_reaches_target(&e);
        let replaced = e.replace_all(vec![entry(8), local()]);
        assert_eq!(replaced.len(), 1);
        assert_eq!(e.len(), 3, "the pinned rows stay after the new entries");
        assert_plan_reaches_target(&e);
    }

    #[test]
    fn reapply_moves_removals_additions_and_details_onto_a_changed_list() {
        let mut mine = editor(4);
        mine.remove(&[1]);
        mine.insert_at(0, vec![entry(7)]);
        mine.set_meta(Meta {
            name: "Renamed".into(),
            ..Meta::default()
        });
        // Meanwhile Spotify's copy gained item 5.
        let mut theirs = Editor::new((0..4).chain([5]).map(entry).collect(), Meta::default());
        assert_eq!(theirs.reapply(&mine), 3);
        let got: Vec<TrackUri> = theirs.target_uris();
        let want: Vec<TrackUri> = [0, 2, 3, 5, 7].iter().map(|n| uri(*n)).collect();
        assert_eq!(got, want);
        assert_eq!(theirs.meta().name, "Renamed");
        assert!(theirs.can_undo());
        assert!(theirs.undo());
        assert_eq!(theirs.len(), 5);
        assert_eq!(theirs.reapply(&editor(4)), 0, "nothing to carry over");
        assert!(!theirs.can_undo());
    }

    #[derive(Clone, Debug)]
    enum Action {
        Insert(usize, Vec<u32>),
        Remove(Vec<usize>),
        Move(Vec<usize>, usize),
        Up(usize),
        Down(usize),
        Replace(Vec<u32>),
        Undo,
        Redo,
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            3 => (any::<usize>(), prop::collection::vec(0u32..30, 0..4)).prop_map(|(i, v)| Action::Insert(i, v)),
            3 => prop::collection::vec(any::<usize>(), 0..4).prop_map(Action::Remove),
            3 => (prop::collection::vec(any::<usize>(), 0..4), any::<usize>()).prop_map(|(v, i)| Action::Move(v, i)),
            2 => any::<usize>().prop_map(Action::Up),
            2 => any::<usize>().prop_map(Action::Down),
            1 => prop::collection::vec(0u32..30, 0..10).prop_map(Action::Replace),
            2 => Just(Action::Undo),
            2 => Just(Action::Redo),
        ]
    }

    proptest! {
        #[test]
        fn any_edit_sequence_saves_exactly_and_undo_retraces(
            start in prop::collection::vec(0u32..30, 0..40),
            pinned_at in prop::collection::vec(any::<usize>(), 0..3),
            actions in prop::collection::vec(action(), 0..30),
        ) {
            let mut entries: Vec<PlaylistEntry> = start.into_iter().map(entry).collect();
            for (k, at) in pinned_at.into_iter().enumerate() {
                let pinned = if k % 2 == 0 { local() } else { missing() };
                entries.insert(at % (entries.len() + 1), pinned);
            }
            let mut e = Editor::new(entries, Meta::default());
            // Keys before each recorded edit, to check that undo walks back through them.
            let mut history: Vec<Vec<u64>> = Vec::new();
            for a in actions {
                let len = e.len();
                let before = names(&e);
                let at = |i: usize| if len == 0 { 0 } else { i % len };
                let recorded = match a {
                    Action::Insert(i, ns) => !e.insert_at(i, ns.into_iter().map(entry).collect()).is_empty(),
                    Action::Remove(is) => e.remove_at(&is.into_iter().map(at).collect::<Vec<_>>()) > 0,
                    Action::Move(is, b) => e.move_at(&is.into_iter().map(at).collect::<Vec<_>>(), b % (len + 1)),
                    Action::Up(i) => e.move_up(at(i)),
                    Action::Down(i) => e.move_down(at(i)),
                    Action::Replace(ns) => { e.replace_all(ns.into_iter().map(entry).collect()); true }
                    Action::Undo => {
                        let had = e.can_undo();
                        prop_assert_eq!(e.undo(), had);
                        // After a redo this simple model has forgotten the history; check what it kept.
                        if let Some(previous) = history.pop().filter(|_| had) {
                            prop_assert_eq!(names(&e), previous);
                        }
                        false
                    }
                    Action::Redo => { e.redo(); history.clear(); false }
                };
                if recorded {
                    history.push(before);
                    if history.len() > UNDO_DEPTH {
                        history.remove(0);
                    }
                }
                let ops = e.plan().map_err(|err| TestCaseError::fail(err.to_string()))?;
                let mut list = e.base_uris();
                prop_assert_eq!(apply_all(&mut list, &ops), Ok(()));
                prop_assert!(list == e.target_uris());
            }
        }
    }
}
