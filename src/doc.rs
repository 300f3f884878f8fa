//! The open playlist's state: Spotify's copy as loaded and the local edit of it, held in one signal so the two are
//! replaced together and can never disagree. Views read and change the editor through [`Doc`]'s methods, which
//! mirror a signal's (`with`, `update`, ...); only the page opens a copy ([`Doc::open`]).

use leptos::prelude::*;
use setlist_core::Editor;

use crate::data::Loaded;

#[derive(Clone, Debug, Default)]
struct Opened {
    loaded: Option<Loaded>,
    editor: Option<Editor>,
}

/// A handle to the open playlist (`Copy`, like a signal).
#[derive(Clone, Copy)]
pub(crate) struct Doc(RwSignal<Opened>);

impl Doc {
    /// Nothing open yet.
    pub(crate) fn new() -> Self {
        Self(RwSignal::new(Opened::default()))
    }

    /// Opens `loaded` with `editor` (a fresh one, or one that re-applied earlier edits).
    pub(crate) fn open(self, loaded: Loaded, editor: Editor) {
        self.0.set(Opened { loaded: Some(loaded), editor: Some(editor) });
    }

    /// Reads the editor, tracked.
    pub(crate) fn with<R>(self, f: impl FnOnce(&Option<Editor>) -> R) -> R {
        self.0.with(|o| f(&o.editor))
    }

    /// Reads the editor without tracking.
    pub(crate) fn with_untracked<R>(self, f: impl FnOnce(&Option<Editor>) -> R) -> R {
        self.0.with_untracked(|o| f(&o.editor))
    }

    /// Changes the editor; everything that reads it updates.
    pub(crate) fn update(self, f: impl FnOnce(&mut Option<Editor>)) {
        self.0.update(|o| f(&mut o.editor));
    }

    /// [`Doc::update`] returning what `f` returns (`None` once the page is gone).
    pub(crate) fn try_update<R>(self, f: impl FnOnce(&mut Option<Editor>) -> R) -> Option<R> {
        self.0.try_update(|o| f(&mut o.editor))
    }

    /// A copy of the editor.
    pub(crate) fn get_untracked(self) -> Option<Editor> {
        self.with_untracked(Clone::clone)
    }

    /// Spotify's copy and the edit of it, for a save.
    pub(crate) fn both_untracked(self) -> Option<(Loaded, Editor)> {
        self.0.with_untracked(|o| Some((o.loaded.clone()?, o.editor.clone()?)))
    }

    /// Reads Spotify's copy as loaded, tracked.
    pub(crate) fn with_loaded<R>(self, f: impl FnOnce(Option<&Loaded>) -> R) -> R {
        self.0.with(|o| f(o.loaded.as_ref()))
    }

    /// The open playlist's id, without tracking.
    pub(crate) fn id_untracked(self) -> Option<setlist_core::PlaylistId> {
        self.0.with_untracked(|o| o.loaded.as_ref().map(|l| l.id.clone()))
    }
}
