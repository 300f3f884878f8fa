//! The stand-in through its router, in one test binary (one link of tokio and axum instead of one per file): the
//! accounts service, the catalog, the control API, fault injection, playlists and the rest of the Web API.
//! (`tests/semantics.rs`, the table shared with core's model, is its own binary.)

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod catalog;
mod control;
mod faults;
mod playlists;
mod web_api;
