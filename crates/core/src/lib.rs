//! Setlist core: everything about signing in to Spotify and talking to it that can be pure Rust.
//!
//! Core does no I/O and never reads the clock. It builds request values for the transport to send (without the
//! token, which the transport adds on each attempt), parses the answers, and runs the procedures that decide as
//! sans-IO state machines. Time is always a parameter.
//!
//! Secrets ([`AccessToken`], [`RefreshToken`], [`AuthCode`], [`PkceVerifier`]) are newtypes whose `Debug`
//! is redacted and which have no `Display`: reading one takes an explicit `.secret()`.
//!
//! # Where each idea lives
//!
//! | folder | idea | files |
//! | --- | --- | --- |
//! | (top) | configuration (`config.json`, checked once into [`AppConfig`]) | [`config`] |
//! | (top) | typed ids: playlists, tracks, snapshots, users, links | [`ids`] |
//! | (top) | the token push to the sink (wire type, outbox) | [`push`] |
//! | (top) | the curation tools (duplicates, sorting, backups) | [`curate`] |
//! | [`auth`] | sign-in: PKCE, authorize URL, callback, token requests and answers | [`auth::pkce`], [`auth::oauth`] |
//! | [`auth`] | tokens: secrets, the token set, refresh timing, the cross-tab lifecycle | [`auth::secret`], [`auth::token`], [`auth::lifecycle`] |
//! | [`spotify`] | Web API requests as values (method, URL, body, [`Safety`]) and why one could not be built | [`spotify::request`] |
//! | [`spotify`] | the Web API, one file per resource: builders and lenient models | [`spotify::me`] (`/me`), [`spotify::playlists`] (the list, create, details, version), [`spotify::items`] (read and write items, entries), [`spotify::search`], [`spotify::paging`] (pages asked for and answered) |
//! | [`spotify`] | Web API errors | [`spotify::error`] |
//! | [`edit`] | Spotify's write semantics (the model every plan is checked against) | [`edit::model`] (and `tests/semantics.json`, shared with the stand-in) |
//! | [`edit`] | the fewest calls from one list to another | [`edit::planner`] |
//! | [`edit`] | the editor's local copy, undo and redo | [`edit::editor`] |
//! | [`sync`] | retry policy, backoff, the rate-limit gate | [`sync::retry`] |
//! | [`sync`] | the request queue under the machines (retries, concurrency) | [`sync::exchange`] |
//! | [`sync`] | loading a playlist (paging, read-only rule, snapshot re-check) | [`sync::load`] |
//! | [`sync`] | listing the user's playlists (paging, a list that changes while read) | [`sync::library`] |
//! | [`sync`] | saving an edit (snapshot check, writes, re-read, verify, repair) | [`sync::save`] |
//!
//! Most users name items from the crate root (`setlist_core::Editor`), which re-exports each module's public
//! types and functions.

pub mod auth;
pub mod config;
pub mod curate;
pub mod edit;
pub mod ids;
pub mod push;
pub mod spotify;
pub mod sync;

#[cfg(test)]
mod fake;

use std::cmp::Ordering;

/// Sorts `items` stably by `cmp`. Every sort in core goes through here, so the wasm holds one copy of the standard
/// library's sort (each element type and comparator instantiates its own otherwise, several KB each): positions
/// (`usize`) are sorted with the comparator behind a `dyn`, then the items moved into that order.
pub(crate) fn sort_with<T>(items: &mut Vec<T>, cmp: &dyn Fn(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_positions(&mut order, &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// The one instantiation of the standard library's sort.
fn sort_positions(order: &mut [usize], cmp: &dyn Fn(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

pub use spotify::me::{me_request, parse_me, Image, Me};
pub use config::{stored_account_hash, AppConfig, PushUrl, RawConfig};
pub use spotify::error::{parse_api_error, ApiError, CoreError};
pub use ids::{parse_uri_list, IdError, ItemKind, PlaylistId, SnapshotId, TrackUri, UserId};
pub use edit::model::{apply, apply_all, ModelError, Op, MAX_URIS_PER_CALL};
pub use edit::planner::{plan, replace_cost, replace_plan, PlanError};
pub use edit::editor::{Editor, Meta, Row, UNDO_DEPTH};
pub use spotify::items::{
    add_items_request, items_request, op_request, parse_items, parse_snapshot, remove_items_request,
    reorder_items_request, replace_items_request, PlaylistEntry, ITEMS_FIELDS,
};
pub use spotify::paging::{Page, Paging};
pub use spotify::playlists::{
    change_details_request, create_playlist_request, my_playlists_request, parse_my_playlists, parse_no_content,
    parse_playlist, playlist_request, DetailsChange, NewPlaylist, Owner, Playlist, PlaylistSummary, PLAYLIST_FIELDS,
    SNAPSHOT_FIELDS,
};
pub use spotify::request::RequestError;
pub use spotify::search::{parse_search_tracks, search_tracks_request, SearchPage, Track};
pub use auth::oauth::{
    authorize_url, code_exchange_request, parse_accounts_error, parse_callback,
    parse_token_response, refresh_request, AccountsError, CallbackError, OAuthState, TokenError,
    TokenResponse,
};
pub use auth::lifecycle::{
    after_lock, expiry_warning, rescue_after_invalid_grant, AfterLock, TabMessage, TokenChange,
    TokenRequestBudget, MAX_TOKEN_REQUESTS, TOKEN_REQUEST_WINDOW_SECS,
};
pub use auth::pkce::PkceChallenge;
pub use spotify::request::ApiRequest;
pub use sync::retry::Safety;
pub use push::{
    backoff_secs, classify, push_request, LastPush, Outbox, OutboxEntry, PushOutcome, PushParseError, SyncStatus,
    TokenPush, ACCESS_TOKEN_LIFETIME_SECS, MAX_CLOCK_SKEW_SECS, MAX_PUSH_BYTES,
};
pub use auth::secret::{is_sha256_hex, sha256_hex, AccessToken, AuthCode, PkceVerifier, RefreshToken};
pub use auth::token::{safe_return_to, PendingSignIn, TokenSet, MAX_REFRESH_MARGIN_SECS};
