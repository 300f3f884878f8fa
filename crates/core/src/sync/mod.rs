//! The conversations with Spotify that decide: the request queue with its retry policy and rate-limit gate, and
//! the sans-IO machines that list the playlists, load one and save an edit.

pub mod exchange;
pub mod library;
pub mod load;
pub mod retry;
pub mod save;
