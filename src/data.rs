//! The app's Spotify reads and writes. Requests are built and answers parsed by core; listing the playlists, opening
//! one and saving it are core's machines ([`setlist_core::sync::library`], [`setlist_core::sync::load`],
//! [`setlist_core::sync::save`]), which this module only carries out.

use futures::stream::{FuturesUnordered, StreamExt};
use leptos::prelude::GetValue;
use setlist_core::edit::editor::Editor;
use setlist_core::sync::exchange::{Answer, Conversation, Next};
use setlist_core::sync::library::MyPlaylists;
use setlist_core::sync::load::Load;
use setlist_core::sync::retry::RetryPolicy;
use setlist_core::sync::save::{Save, SaveEnd};
use setlist_core::spotify::{playlists, search};
use setlist_core::{NewPlaylist, PlaylistEntry, RequestError, SearchPage};
use setlist_core::{ApiRequest, PlaylistId};

use crate::browser::{self, HttpResponse};
use crate::net;
use crate::session::{self, AppError, Session};

/// Sends a request core built, or says why it refused to build it (nothing was sent).
async fn call(session: Session, request: Result<ApiRequest, RequestError>) -> Result<HttpResponse, AppError> {
    let request = request.map_err(|e| AppError::Invalid(e.to_string()))?;
    session::api_call(session, &request).await
}

/// A playlist as the list page shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlaylistCard {
    pub(crate) id: PlaylistId,
    pub(crate) name: String,
    pub(crate) total: u32,
    pub(crate) owner_name: String,
    pub(crate) image: Option<String>,
}

/// The user's playlists, every page, with core's listing machine ([`setlist_core::sync::library`]). `progress` is a trait
/// object for the same reason as [`load_playlist`]'s.
pub(crate) async fn load_playlists(session: Session, progress: &dyn Fn(usize, usize)) -> Result<Vec<PlaylistCard>, AppError> {
    let config = session.config.get_value();
    let machine = MyPlaylists::new(&config, RetryPolicy::default(), true, seed(), net::now());
    let lists = carry_out(session, machine, |m: &MyPlaylists| {
        let (done, total) = m.progress();
        progress(done, total);
    })
    .await??;
    Ok(lists
        .into_iter()
        .map(|p| PlaylistCard {
            id: p.id,
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

/// A playlist id from outside the app (the address bar, a form), or the sentence that says why it is not one.
pub(crate) fn playlist_id(text: &str) -> Result<PlaylistId, AppError> {
    PlaylistId::parse(text).map_err(|e| AppError::Invalid(format!("This is not a playlist address: {e}")))
}

/// Creates a private playlist and returns its id.
pub(crate) async fn create_playlist(session: Session, name: &str) -> Result<PlaylistId, AppError> {
    let new = NewPlaylist { name: name.to_owned(), description: String::new(), public: false, collaborative: false };
    let resp = call(session, playlists::create_playlist_request(&session.config.get_value(), &new)).await?;
    let created = playlists::parse_playlist(resp.status, &resp.body).map_err(AppError::from)?;
    Ok(created.summary.id)
}

/// A playlist loaded in full, as it was on Spotify at `snapshot`: core's.
pub(crate) use setlist_core::sync::load::Loaded;

/// Carries a core conversation out: sends what it hands out (several at once), authorized by the session on each
/// attempt, tells it every answer, and sleeps when it says wait. The tab's one rate-limit gate ([`crate::net`]) is
/// shared with it both ways. `after_answer` runs after each answer (for progress). Nothing is decided here.
async fn carry_out<C: Conversation>(
    session: Session,
    mut machine: C,
    mut after_answer: impl FnMut(&C),
) -> Result<C::Out, AppError> {
    let mut in_flight = FuturesUnordered::new();
    loop {
        machine.gate_mut().hold_until(net::gate_instant());
        match machine.poll(net::now()) {
            Next::Send { id, request } => in_flight.push(async move {
                let answer = match session::send_authorized(session, &request).await {
                    Ok(resp) => Answer::Status { status: resp.status, retry_after: resp.retry_after, body: resp.body },
                    // A network failure: maybe a 429 without CORS headers; core's policy decides.
                    Err(None) => Answer::Unreachable,
                    Err(Some(e)) => return Err(e),
                };
                Ok((id, answer))
            }),
            Next::Done(out) => return Ok(out),
            Next::Wait { until, hold } => {
                let answered = if in_flight.is_empty() {
                    let Some(until) = until else {
                        return Err(AppError::GaveUp("Setlist stopped waiting for Spotify: nothing was left to wait for.".into()));
                    };
                    net::wait_until(session.waiting, net::reason(hold), until as f64).await;
                    None
                } else if let Some(until) = until {
                    let sleep = std::pin::pin!(browser::sleep_ms(until.saturating_sub(net::now()).min(u64::from(u32::MAX)) as u32));
                    match futures::future::select(in_flight.next(), sleep).await {
                        futures::future::Either::Left((answered, _)) => answered,
                        futures::future::Either::Right(_) => None,
                    }
                } else {
                    in_flight.next().await
                };
                if let Some(answered) = answered {
                    let (id, answer) = answered?;
                    machine.answer(id, net::now(), answer);
                    net::hold_gate(machine.gate_mut().not_before_ms);
                    after_answer(&machine);
                }
            }
        }
    }
}

fn seed() -> u64 {
    (u64::from(browser::random_u32()) << 32) | u64::from(browser::random_u32())
}

/// Loads metadata and every item with core's load machine ([`setlist_core::sync::load`]): paging, the read-only rule,
/// the snapshot re-check. `progress` is a trait object: the page, the merge tool and a new playlist's fill call
/// this, and a generic parameter compiled the whole load once per caller's closure type (issue 15).
pub(crate) async fn load_playlist(session: Session, id: &PlaylistId, progress: &dyn Fn(usize, usize)) -> Result<Loaded, AppError> {
    let config = session.config.get_value();
    let machine = Load::new(&config, id.clone(), None, RetryPolicy::default(), true, seed(), net::now());
    let loaded = carry_out(session, machine, |m: &Load| {
        let (done, total) = m.progress();
        progress(done.min(total), total);
    })
    .await?;
    Ok(loaded?)
}

/// Writes done of the writes planned, while a save runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

/// Saves the editor's changes with core's save machine ([`setlist_core::sync::save`]): snapshot check, the planner's
/// calls under the retry policy, re-read and re-plan after a lost answer, read-back verification and repair.
pub(crate) async fn save(session: Session, loaded: &Loaded, editor: &Editor, progress: impl Fn(SaveProgress) + Copy) -> Result<SaveOutcome, SaveError> {
    let config = session.config.get_value();
    let machine = Save::new(&config, loaded, editor, RetryPolicy::default(), true, seed(), net::now());
    let (done, total) = machine.progress();
    progress(SaveProgress { done, total });
    let end = carry_out(session, machine, |m: &Save| {
        let (done, total) = m.progress();
        progress(SaveProgress { done, total });
    })
    .await?;
    match end.map_err(AppError::from)? {
        SaveEnd::Conflict => Err(SaveError::Conflict),
        SaveEnd::Saved(saved) => Ok(SaveOutcome {
            loaded: saved.loaded,
            calls: saved.calls,
            replace_calls: saved.replace_calls,
            verified: saved.verified,
        }),
    }
}

#[derive(Clone, Debug)]
pub(crate) struct SearchHit {
    pub(crate) entry: PlaylistEntry,
}

pub(crate) async fn search(session: Session, text: &str) -> Result<Vec<SearchHit>, AppError> {
    let text = text.to_owned();
    let page = SearchPage::new(10, 0).map_err(|e| AppError::Invalid(e.to_string()))?;
    let resp = call(session, search::search_tracks_request(&session.config.get_value(), &text, page)).await?;
    let tracks = search::parse_search_tracks(resp.status, &resp.body).map_err(AppError::from)?;
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
