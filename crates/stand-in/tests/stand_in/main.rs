//! The stand-in through its router, in one test binary (one link of tokio and axum instead of one per file): the
//! accounts service, the catalog, the control API, fault injection, playlists and the rest of the Web API.
//! `semantics` runs the table of Spotify's playlist semantics that core's model also runs.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod catalog;
mod control;
mod faults;
mod playlists;
mod semantics;
mod web_api;
