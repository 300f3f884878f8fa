//! Editing a playlist: Spotify's write semantics (the model every plan is checked against), the planner that
//! finds the fewest calls from one list to another, and the editor's local copy with undo and redo.

pub mod editor;
pub mod model;
pub mod planner;
