//! The app's Spotify reads and writes: parallel paging, save through the planner, verification. Requests are
//! built and responses parsed by core; this module supplies the order, the concurrency and the progress.

use std::collections::{BTreeMap, VecDeque};

use futures::stream::{self, StreamExt};
use leptos::prelude::GetValue;
use setlist_core::editor::{Editor, Meta};
use setlist_core::playlist::{
    self, NewPlaylist, Page, Paging, PlaylistEntry, RequestError, SearchPage, ITEMS_FIELDS, PLAYLIST_FIELDS,
    SNAPSHOT_FIELDS,
};
use setlist_core::{me_request, parse_me, replace_cost, ApiError, ApiRequest, AppConfig, PlaylistId, SnapshotId, TrackUri};

use crate::browser::HttpResponse;
use crate::session::{self, AppError, Session};

/// Page requests open at once. Spotify's limit is a rolling 30 s window, not a concurrency cap. Over HTTP/1.1 a
/// browser sends at most 6 requests to one host at a time; the 2 beyond that wait in the browser's own queue, so
/// a connection that frees up is reused at once instead of idling while the page parses the last answer and
/// sends the next request (`cargo xtask bench` measured that gap at 5-7 ms per page). Over HTTP/2: 8 streams.
const CONCURRENCY: usize = 8;
/// Re-reads after ambiguous failures within one save before it stops and says so.
const MAX_REREADS: usize = 3;

fn api(e: ApiError) -> AppError {
    AppError::Api { status: e.status, message: e.message }
}

/// Sends a request core built, or says why it refused to build it (nothing was sent).
async fn call(session: Session, request: Result<ApiRequest, RequestError>) -> Result<HttpResponse, AppError> {
    let request = request.map_err(|e| AppError::Invalid(e.to_string()))?;
    session::api_call(session, &request).await
}

/// Loads every page of a list: the first tells the total, the rest come in parallel under [`CONCURRENCY`];
/// `progress(done, total)` after each page.
async fn load_all<T>(
    session: Session,
    build: impl Fn(&AppConfig, Page) -> ApiRequest + Clone,
    parse: impl Fn(u16, &str) -> Result<Paging<T>, ApiError> + Copy,
    progress: impl Fn(usize, usize) + Copy,
) -> Result<Vec<T>, AppError> {
    let first = first_page(session, build.clone(), parse).await?;
    load_rest(session, first, build, parse, progress).await
}

/// The first page of a list, which tells its total.
async fn first_page<T>(
    session: Session,
    build: impl Fn(&AppConfig, Page) -> ApiRequest,
    parse: impl Fn(u16, &str) -> Result<Paging<T>, ApiError>,
) -> Result<Paging<T>, AppError> {
    let first = Page::first();
    let resp = session::api_call(session, &build(&session.config.get_value(), first)).await?;
    parse(resp.status, &resp.body).map_err(api)
}

/// Every page after `first`, in parallel under [`CONCURRENCY`]; the items of all pages in order.
async fn load_rest<T>(
    session: Session,
    first: Paging<T>,
    build: impl Fn(&AppConfig, Page) -> ApiRequest + Clone,
    parse: impl Fn(u16, &str) -> Result<Paging<T>, ApiError> + Copy,
    progress: impl Fn(usize, usize) + Copy,
) -> Result<Vec<T>, AppError> {
    let total = first.total as usize;
    let mut done = first.items.len();
    progress(done, total);
    let following = Page::first().following(first.total);
    let mut pages = BTreeMap::new();
    pages.insert(0u32, first.items);
    let mut rest = stream::iter(following)
        .map(|p| {
            let build = build.clone();
            async move {
                let resp = session::api_call(session, &build(&session.config.get_value(), p)).await?;
                parse(resp.status, &resp.body).map(|pg| (p.offset(), pg.items)).map_err(api)
            }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some(result) = rest.next().await {
        let (offset, items) = result?;
        done += items.len();
        progress(done.min(total), total);
        pages.insert(offset, items);
    }
    Ok(pages.into_values().flatten().collect())
}

/// A playlist as the list page shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlaylistCard {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) total: u32,
    pub(crate) owner_name: String,
    pub(crate) image: Option<String>,
}

pub(crate) async fn load_playlists(session: Session, progress: impl Fn(usize, usize) + Copy) -> Result<Vec<PlaylistCard>, AppError> {
    let lists = load_all(session, playlist::my_playlists_request, playlist::parse_my_playlists, progress).await?;
    Ok(lists
        .into_iter()
        .map(|p| PlaylistCard {
            id: p.id.as_str().to_owned(),
            name: p.name,
            total: p.item_count.unwrap_or(0),
            owner_name: p
                .owner
                .display_name
                .or_else(|| p.owner.id.map(|u| u.as_str().to_owned()))
                .unwrap_or_else(|| "unknown owner".into()),
            image: p.images.into_iter().next().map(|i| i.url),
        })
        .collect())
}

/// Creates a private playlist and returns its id.
pub(crate) async fn create_playlist(session: Session, name: &str) -> Result<String, AppError> {
    let new = NewPlaylist { name: name.to_owned(), description: String::new(), public: false, collaborative: false };
    let resp = call(session, playlist::create_playlist_request(&session.config.get_value(), &new)).await?;
    let created = playlist::parse_playlist(resp.status, &resp.body).map_err(api)?;
    Ok(created.summary.id.as_str().to_owned())
}

/// A playlist loaded in full, as it was on Spotify at `snapshot`.
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    pub(crate) id: PlaylistId,
    pub(crate) snapshot: Option<SnapshotId>,
    pub(crate) entries: Vec<PlaylistEntry>,
    pub(crate) meta: Meta,
    /// Why the user cannot edit it, if they cannot.
    pub(crate) read_only: Option<String>,
}

async fn my_id(session: Session) -> Result<String, AppError> {
    let resp = session::api_call(session, &me_request(&session.config.get_value())).await?;
    Ok(parse_me(resp.status, &resp.body).map_err(api)?.id)
}

async fn snapshot(session: Session, id: &PlaylistId) -> Result<Option<SnapshotId>, AppError> {
    let id = id.clone();
    let resp = session::api_call(session, &playlist::playlist_request(&session.config.get_value(), &id, Some(SNAPSHOT_FIELDS))).await?;
    Ok(playlist::parse_snapshot(resp.status, &resp.body).ok())
}

/// Loads metadata and every item, and checks that the playlist did not change while its pages came in.
///
/// Round trips are what a load costs: who the user is, the playlist's details and its first page of items go
/// out together; the final check re-reads the details with the very same URL, so the browser reuses the CORS
/// preflight it already made for it (it caches preflights per URL) instead of paying a second round trip.
pub(crate) async fn load_playlist(session: Session, id: &str, progress: impl Fn(usize, usize) + Copy) -> Result<Loaded, AppError> {
    let id = PlaylistId::parse(id).map_err(|e| AppError::Invalid(format!("This is not a playlist address: {e}")))?;
    let details = |id: PlaylistId| async move {
        let resp = session::api_call(session, &playlist::playlist_request(&session.config.get_value(), &id, Some(PLAYLIST_FIELDS))).await?;
        playlist::parse_playlist(resp.status, &resp.body).map_err(api)
    };
    let pid = id.clone();
    let build_items = move |c: &AppConfig, p: Page| playlist::items_request(c, &pid, p, Some(ITEMS_FIELDS));
    let mut me = None;
    for _attempt in 0..3 {
        let first_items = first_page(session, build_items.clone(), playlist::parse_items);
        let (pl, first) = if me.is_some() {
            futures::join!(details(id.clone()), first_items)
        } else {
            let (who, pl, first) = futures::join!(my_id(session), details(id.clone()), first_items);
            me = Some(who?);
            (pl, first)
        };
        let me = me.as_deref().unwrap_or_default();
        let s = pl?.summary;
        let owner = s.owner.display_name.clone().or_else(|| s.owner.id.as_ref().map(|u| u.as_str().to_owned())).unwrap_or_default();
        let owned = s.owner.id.as_ref().is_some_and(|u| u.as_str() == me);
        let read_only = (!owned && !s.collaborative)
            .then(|| format!("Read-only: this playlist belongs to {owner}, and only its owner (or collaborators, if it is collaborative) can change it."));
        let meta = Meta {
            name: s.name.clone(),
            description: s.description.clone(),
            public: s.public.unwrap_or(false),
            collaborative: s.collaborative,
        };
        let items = match first {
            Ok(first) => load_rest(session, first, build_items.clone(), playlist::parse_items, progress).await,
            Err(e) => Err(e),
        };
        let entries = match items {
            Ok(e) => e,
            // Spotify answers 403 on the items of a playlist the user neither owns nor collaborates on.
            Err(AppError::Api { status: 403, .. }) if read_only.is_some() => Vec::new(),
            Err(e) => return Err(e),
        };
        let now = details(id.clone()).await?;
        if now.summary.snapshot_id == s.snapshot_id {
            return Ok(Loaded { id, snapshot: s.snapshot_id, entries, meta, read_only });
        }
        // It changed mid-load: the pages may mix two versions. Load again.
    }
    Err(AppError::Invalid("This playlist keeps changing on Spotify while loading; try again in a moment.".into()))
}

pub(crate) struct SaveProgress {
    pub(crate) done: usize,
    pub(crate) total: usize,
}

pub(crate) enum SaveError {
    /// Spotify's copy moved on since it was loaded; nothing was written.
    Conflict,
    Failed(AppError),
}

impl From<AppError> for SaveError {
    fn from(e: AppError) -> Self {
        SaveError::Failed(e)
    }
}

pub(crate) struct SaveOutcome {
    pub(crate) loaded: Loaded,
    pub(crate) calls: usize,
    pub(crate) replace_calls: usize,
    /// Whether Spotify's copy, read back, equals what the editor asked for.
    pub(crate) verified: bool,
}

impl SaveOutcome {
    pub(crate) fn summary(&self) -> String {
        if self.verified {
            format!("Saved with {} Spotify calls (replacing everything would take {}). Verified.", self.calls, self.replace_calls)
        } else {
            "Saved, but Spotify's copy does not match your edits; your version is kept here so you can save again.".into()
        }
    }
}

fn uris(entries: &[PlaylistEntry]) -> Vec<TrackUri> {
    entries.iter().filter_map(|e| e.uri.clone()).collect()
}

/// The editor's target without its placeholders for unavailable entries (which Spotify lists without a URI).
fn uris_of(target: &[TrackUri]) -> Vec<TrackUri> {
    target.iter().filter(|u| !u.as_str().starts_with("spotify:local:setlist-unavailable:")).cloned().collect()
}

/// Applies the editor's changes with the planner's calls, then reads the playlist back to verify.
pub(crate) async fn save(session: Session, loaded: &Loaded, editor: &Editor, progress: impl Fn(SaveProgress) + Copy) -> Result<SaveOutcome, SaveError> {
    // snapshot_id is not optimistic locking at Spotify, so check it ourselves right before writing.
    if snapshot(session, &loaded.id).await? != loaded.snapshot {
        return Err(SaveError::Conflict);
    }
    let target = editor.target_uris();
    let ops = editor.plan().map_err(|e| AppError::Invalid(e.to_string()))?;
    let change = editor.details_change();
    let mut total = ops.len() + usize::from(!change.is_empty());
    let mut done = 0;
    progress(SaveProgress { done, total });
    if !change.is_empty() {
        let (id, change) = (loaded.id.clone(), change.clone());
        let resp = call(session, playlist::change_details_request(&session.config.get_value(), &id, &change)).await?;
        playlist::parse_no_content(resp.status, &resp.body).map_err(api)?;
        done += 1;
        progress(SaveProgress { done, total });
    }
    let mut ops: VecDeque<_> = ops.into();
    let mut rereads = 0;
    // Rows without a URI (unavailable tracks) cannot be matched up again after a re-read; then the conflict path,
    // which re-applies the user's edits to a fresh copy, takes over.
    let unavailable = |u: &TrackUri| u.as_str().starts_with("spotify:local:setlist-unavailable:");
    let replannable = |now: &Loaded| !now.entries.iter().any(|e| e.uri.is_none()) && !target.iter().any(unavailable);
    loop {
        while let Some(op) = ops.pop_front() {
            let id = loaded.id.clone();
            match call(session, playlist::op_request(&session.config.get_value(), &id, &op, None)).await {
                Ok(resp) => {
                    playlist::parse_snapshot(resp.status, &resp.body).map_err(api)?;
                    done += 1;
                }
                // An add, remove or reorder whose answer never came may or may not have been applied: replaying
                // it could duplicate or misplace tracks. Read what Spotify holds now and plan the rest from there.
                Err(AppError::Ambiguous) if rereads < MAX_REREADS => {
                    rereads += 1;
                    let now = load_playlist(session, loaded.id.as_str(), |_, _| {}).await?;
                    if !replannable(&now) {
                        return Err(SaveError::Conflict);
                    }
                    let rest = setlist_core::plan(&uris(&now.entries), &target).map_err(|e| AppError::Invalid(e.to_string()))?;
                    total = done + rest.len();
                    ops = rest.into();
                }
                Err(e) => return Err(e.into()),
            }
            progress(SaveProgress { done, total });
        }
        let reread = load_playlist(session, loaded.id.as_str(), |_, _| {}).await?;
        let verified = uris(&reread.entries) == uris_of(&target) && reread.meta == *editor.meta();
        // Not what was asked for, although every call answered: something replayed a write behind our back (a
        // browser resends a request by itself when a reused connection closes before the answer). Plan from what
        // Spotify holds, once more at most.
        if verified || rereads >= MAX_REREADS || !replannable(&reread) {
            return Ok(SaveOutcome { loaded: reread, calls: total, replace_calls: replace_cost(target.len()), verified });
        }
        rereads += 1;
        let repair = setlist_core::plan(&uris(&reread.entries), &target).map_err(|e| AppError::Invalid(e.to_string()))?;
        if repair.is_empty() {
            // The items match; only the details differ, and those were set with an idempotent call already.
            return Ok(SaveOutcome { loaded: reread, calls: total, replace_calls: replace_cost(target.len()), verified });
        }
        total = done + repair.len();
        ops = repair.into();
        progress(SaveProgress { done, total });
    }
}

#[derive(Clone, Debug)]
pub(crate) struct SearchHit {
    pub(crate) entry: PlaylistEntry,
}

pub(crate) async fn search(session: Session, text: &str) -> Result<Vec<SearchHit>, AppError> {
    let text = text.to_owned();
    let page = SearchPage::new(10, 0).map_err(|e| AppError::Invalid(e.to_string()))?;
    let resp = call(session, playlist::search_tracks_request(&session.config.get_value(), &text, page)).await?;
    let tracks = playlist::parse_search_tracks(resp.status, &resp.body).map_err(api)?;
    Ok(tracks.items.into_iter().map(|t| SearchHit { entry: t.into() }).collect())
}

/// Pasted links or URIs become entries; what is not one is reported back, not dropped silently.
pub(crate) fn entries_from_paste(text: &str) -> (Vec<PlaylistEntry>, Vec<String>) {
    let (uris, rejected) = setlist_core::parse_uri_list(text);
    let entries = uris
        .into_iter()
        .map(|u| {
            let mut e = PlaylistEntry::from_uri(u.clone());
            // Names arrive when the playlist is read back after saving; until then show the URI.
            e.name = u.as_str().to_owned();
            e
        })
        .collect();
    (entries, rejected)
}
