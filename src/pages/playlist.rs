use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use setlist_core::edit::editor::{Editor, Meta};

use crate::components::error::ErrorPanel;
use crate::components::lazy::{lazy_view, Parts};
use crate::components::tools::LazyTools;
use crate::data::{self, Loaded, SaveProgress, SearchHit};
use crate::doc::Doc;
use crate::use_session;

/// Row height in pixels; the virtual list positions rows by index × this (keep in sync with `.row` in CSS).
/// Whole pixels: positions are formatted as integers.
const ROW_H: usize = 56;
const ROW_PX: i32 = ROW_H as i32;
/// How long the list rests after a scroll before rows show their covers.
const SETTLE_MS: u32 = 150;
/// Rows rendered above and below the visible window, so fast scrolling shows no blank gap.
const OVERSCAN: usize = 8;

/// A panel of the playlist page that opens on demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Panel {
    Details,
    Add,
    Tools,
}

/// What the page is doing with the playlist.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Loading { done: usize, total: usize },
    Failed(String),
    Ready,
    /// Spotify's copy moved on since it was loaded: nothing was written.
    Conflict,
}

/// `/playlist/:id`, its code a wasm chunk of its own (components/lazy.rs): a first visit lands on the playlists page
/// and does not download the editor until a playlist is opened.
#[component]
pub fn LazyPlaylistPage() -> impl IntoView {
    lazy_view("the playlist editor", expect_context::<Parts>().editor)
}

/// The playlist page's view: what the binary's split function for the editor returns.
pub fn editor_view() -> AnyView {
    view! { <PlaylistPage/> }.into_any()
}

/// `/playlist/:id`: loads every item (parallel paging, progress bar), edits a local copy, saves with the fewest
/// calls the planner finds, then verifies.
#[component]
fn PlaylistPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let phase = RwSignal::new(Phase::Loading { done: 0, total: 0 });
    // Spotify's copy and the local edit of it: one state, replaced together.
    let editor = Doc::new();
    let selected = RwSignal::new(HashSet::<u64>::new());
    let notice = RwSignal::new(None::<String>);
    let filter = RwSignal::new(String::new());
    // Which panel is open besides the list: on a phone the list comes first and each panel is one tap away; on a
    // wide screen the details and add panels are always shown and only the tools open and close.
    let panel = RwSignal::new(None::<Panel>);
    // Spotify's copy and the local edit of it change together, only here: after a load and after a save.
    let open = move |l: Loaded, ed: Editor| {
        editor.open(l, ed);
        selected.set(HashSet::new());
        phase.set(Phase::Ready);
    };

    let load = move |keep_edits: bool| {
        // The address is parsed once, here; everything after it has a typed id.
        let id = match data::playlist_id(&id()) {
            Ok(id) => id,
            Err(e) => return phase.set(Phase::Failed(e.to_string())),
        };
        let previous = if keep_edits { editor.get_untracked() } else { None };
        phase.set(Phase::Loading { done: 0, total: 0 });
        spawn_local(async move {
            let progress = move |done, total| phase.set(Phase::Loading { done, total });
            match data::load_playlist(session, &id, &progress).await {
                Ok(l) => {
                    let mut ed = Editor::new(l.entries.clone(), l.meta.clone());
                    if let Some(prev) = previous {
                        let kept = ed.reapply(&prev);
                        notice.set(Some(format!("Reloaded Spotify's copy and re-applied {kept} of your changes. Check them, then save.")));
                    }
                    open(l, ed);
                }
                Err(e) => phase.set(Phase::Failed(e.to_string())),
            }
        });
    };
    Effect::new(move |_| {
        id();
        load(false);
    });

    // Saving is an `Action`: its `pending` is the one "saving" state (the toolbar shows progress, the button waits);
    // the loaded copy and the editor are replaced together when it ends.
    let save_progress = RwSignal::new(SaveProgress::default());
    let save = Action::new_local(move |(l, ed): &(Loaded, Editor)| {
        let (l, ed) = (l.clone(), ed.clone());
        save_progress.set(SaveProgress::default());
        async move {
            let progress = move |p: SaveProgress| save_progress.set(p);
            match data::save(session, &l, &ed, progress).await {
                Ok(outcome) => {
                    notice.set(Some(outcome.summary()));
                    let fresh = if outcome.verified {
                        Editor::new(outcome.loaded.entries.clone(), outcome.loaded.meta.clone())
                    } else {
                        ed
                    };
                    open(outcome.loaded, fresh);
                }
                Err(data::SaveError::Conflict) => phase.set(Phase::Conflict),
                Err(data::SaveError::Failed(e)) => notice.set(Some(format!("Save failed: {e}. Your edits are kept; try again."))),
            }
        }
    });
    let on_save = move |_| {
        let Some((l, ed)) = editor.both_untracked() else { return };
        notice.set(None);
        save.dispatch((l, ed));
    };
    let saving = save.pending();

    let dirty = Memo::new(move |_| editor.with(|e| e.as_ref().is_some_and(Editor::is_dirty)));
    let read_only = Memo::new(move |_| editor.with_loaded(|l| l.and_then(|l| l.read_only.clone())));

    view! {
        <section class="editor" data-testid="playlist-page"
            class:show-details=move || panel.get() == Some(Panel::Details)
            class:show-add=move || panel.get() == Some(Panel::Add)
            class:show-tools=move || panel.get() == Some(Panel::Tools)>
            <a class="back" href="/">"← Your playlists"</a>
            {move || match phase.get() {
                Phase::Loading { done, total } => view! {
                    <div class="loading" role="status" data-testid="loading">
                        <p>{if total > 0 { format!("Loading {done} of {total} items…") } else { "Loading playlist…".to_owned() }}</p>
                        <progress data-testid="load-progress" max=total.max(1).to_string() value=done.to_string()></progress>
                    </div>
                }.into_any(),
                Phase::Failed(msg) => view! {
                    <ErrorPanel title="Could not open this playlist" message=msg>
                        <button class="button primary" on:click=move |_| load(false)>"Try again"</button>
                        <a class="button" href="/">"Back to playlists"</a>
                    </ErrorPanel>
                }.into_any(),
                _ => ().into_any(),
            }}
            <Show when=move || editor.with(Option::is_some)>
                <MetaForm editor=editor read_only=read_only/>
                {move || read_only.get().map(|why| view! { <p class="notice" data-testid="read-only">{why}</p> })}
                {move || (phase.get() == Phase::Conflict).then(|| view! {
                    <div class="notice warn" role="alert" data-testid="conflict">
                        <p>"Spotify's copy of this playlist is not the one you started from: it changed elsewhere, or a save was interrupted. Setlist did not overwrite it; your edits are kept."</p>
                        <button class="button primary" data-testid="reload-keep" on:click=move |_| load(true)>"Reload and re-apply my edits"</button>
                        <button class="button" on:click=move |_| load(false)>"Reload and discard my edits"</button>
                    </div>
                })}
                <Toolbar editor=editor selected=selected dirty=dirty phase=phase.read_only() saving=saving save_progress=save_progress.read_only() read_only=read_only on_save=on_save panel=panel filter=filter/>
                {move || notice.get().map(|n| view! { <p class="notice" role="status" data-testid="notice">{n}</p> })}
                <Show when=move || read_only.get().is_none()>
                    <AddPanel editor=editor/>
                </Show>
                <Show when=move || panel.get() == Some(Panel::Tools)>
                    <LazyTools editor=editor selected=selected read_only=read_only notice=notice/>
                </Show>
                <TrackList editor=editor selected=selected read_only=read_only filter=filter.read_only()/>
            </Show>
        </section>
    }
}

#[component]
fn MetaForm(editor: Doc, read_only: Memo<Option<String>>) -> impl IntoView {
    let meta = move || editor.with(|e| e.as_ref().map(|e| e.meta().clone()).unwrap_or_default());
    let set = move |f: Box<dyn FnOnce(&mut Meta)>| {
        editor.update(|e| {
            if let Some(e) = e {
                let mut m = e.meta().clone();
                f(&mut m);
                e.set_meta(m);
            }
        })
    };
    view! {
        <div class="meta">
            <label class="field">
                <span>"Name"</span>
                <input data-testid="playlist-title" maxlength="100" disabled=move || read_only.get().is_some()
                    prop:value=move || meta().name
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |m| m.name = v)) }/>
            </label>
            <label class="field wide">
                <span>"Description"</span>
                <input data-testid="playlist-description" maxlength="300" disabled=move || read_only.get().is_some()
                    prop:value=move || meta().description
                    on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |m| m.description = v)) }/>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="playlist-public" disabled=move || read_only.get().is_some()
                    prop:checked=move || meta().public
                    on:change=move |ev| { let v = event_target_checked(&ev); set(Box::new(move |m| m.public = v)) }/>
                "Public"
            </label>
            <label class="check">
                <input type="checkbox" data-testid="playlist-collaborative" disabled=move || read_only.get().is_some()
                    prop:checked=move || meta().collaborative
                    on:change=move |ev| { let v = event_target_checked(&ev); set(Box::new(move |m| m.collaborative = v)) }/>
                "Collaborative"
            </label>
        </div>
    }
}

#[component]
fn Toolbar(
    editor: Doc,
    selected: RwSignal<HashSet<u64>>,
    dirty: Memo<bool>,
    phase: ReadSignal<Phase>,
    saving: Memo<bool>,
    save_progress: ReadSignal<SaveProgress>,
    read_only: Memo<Option<String>>,
    on_save: impl Fn(leptos::ev::MouseEvent) + 'static,
    panel: RwSignal<Option<Panel>>,
    filter: RwSignal<String>,
) -> impl IntoView {
    let can = move |f: fn(&Editor) -> bool| editor.with(|e| e.as_ref().is_some_and(f));
    let count = move || editor.with(|e| e.as_ref().map_or(0, Editor::len));
    let toggle = move |p: Panel| panel.update(|open| *open = if *open == Some(p) { None } else { Some(p) });
    let pressed = move |p: Panel| move || (panel.get() == Some(p)).to_string();
    let shown = move || {
        let q = filter.get();
        editor.with(|e| e.as_ref().map(|e| setlist_core::curate::filtered_keys(e.rows(), &q)).unwrap_or_default())
    };
    view! {
        <div class="toolbar" role="toolbar" aria-label="Edit playlist">
            <span class="count" data-testid="item-count">{move || format!("{} items", count())}</span>
            <button class="button small phone-only" data-testid="toggle-details" aria-pressed=pressed(Panel::Details)
                on:click=move |_| toggle(Panel::Details)>"Details"</button>
            <button class="button small phone-only" data-testid="toggle-add" aria-pressed=pressed(Panel::Add)
                disabled=move || read_only.get().is_some() on:click=move |_| toggle(Panel::Add)>"Add"</button>
            <button class="button small" data-testid="toggle-tools" aria-pressed=pressed(Panel::Tools)
                on:click=move |_| toggle(Panel::Tools)>"Tools"</button>
            <button class="button" data-testid="undo" disabled=move || !can(Editor::can_undo)
                on:click=move |_| editor.update(|e| { if let Some(e) = e { e.undo(); } })>"Undo"</button>
            <button class="button" data-testid="redo" disabled=move || !can(Editor::can_redo)
                on:click=move |_| editor.update(|e| { if let Some(e) = e { e.redo(); } })>"Redo"</button>
            <button class="button" data-testid="remove-selected" disabled=move || selected.with(HashSet::is_empty) || read_only.get().is_some()
                on:click=move |_| {
                    let keys: Vec<u64> = selected.get_untracked().into_iter().collect();
                    editor.update(|e| { if let Some(e) = e { e.remove(&keys); } });
                    selected.set(HashSet::new());
                }>
                {move || match selected.with(HashSet::len) { 0 => "Remove".to_owned(), n => format!("Remove {n}") }}
            </button>
            <input type="search" class="filter" data-testid="filter-input" placeholder="Filter by title, artist, album"
                aria-label="Filter the list" prop:value=move || filter.get() on:input=move |ev| filter.set(event_target_value(&ev))/>
            {move || (!filter.with(|f| f.trim().is_empty())).then(|| view! {
                <span class="count" data-testid="filter-count">{move || format!("{} shown", shown().len())}</span>
                <button class="button small" data-testid="select-shown"
                    on:click=move |_| selected.set(shown().into_iter().collect())>"Select shown"</button>
            })}
            <span class="spacer"></span>
            {move || if saving.get() {
                let SaveProgress { done, total } = save_progress.get();
                view! {
                    <span class="saving" role="status" data-testid="save-progress">
                        {format!("Saving {done} of {total}…")}
                        <progress max=total.max(1).to_string() value=done.to_string()></progress>
                    </span>
                }.into_any()
            } else {
                view! {
                    <span class="dirty" data-testid="dirty-state">{move || if dirty.get() { "Unsaved changes" } else { "All changes saved" }}</span>
                }.into_any()
            }}
            <button class="button primary" data-testid="save" on:click=on_save
                disabled=move || !dirty.get() || read_only.get().is_some() || saving.get() || phase.get() != Phase::Ready>"Save"</button>
        </div>
    }
}

/// Add by search, or by pasting Spotify links / URIs (one or many); also replace the whole list from a paste.
#[component]
fn AddPanel(editor: Doc) -> impl IntoView {
    let session = use_session();
    let query = RwSignal::new(String::new());
    let hits = RwSignal::new(Vec::<SearchHit>::new());
    let search_error = RwSignal::new(None::<String>);
    let searching = RwSignal::new(false);
    let paste = RwSignal::new(String::new());
    let paste_note = RwSignal::new(None::<String>);

    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        if q.trim().is_empty() {
            return;
        }
        searching.set(true);
        spawn_local(async move {
            match data::search(session, &q).await {
                Ok(h) => {
                    search_error.set(if h.is_empty() { Some(format!("No tracks match “{q}”.")) } else { None });
                    hits.set(h);
                }
                Err(e) => search_error.set(Some(e.to_string())),
            }
            searching.set(false);
        });
    };
    let add_pasted = move |replace: bool| {
        let (entries, rejected) = data::entries_from_paste(&paste.get_untracked());
        let n = entries.len();
        if n > 0 {
            editor.update(|e| {
                if let Some(e) = e {
                    if replace {
                        e.replace_all(entries);
                    } else {
                        let end = e.len();
                        e.insert_at(end, entries);
                    }
                }
            });
            paste.set(String::new());
        }
        paste_note.set(Some(match (replace, rejected.len()) {
            (_, 0) if n == 0 => "Paste Spotify track links or URIs first.".to_owned(),
            (false, 0) => format!("Added {n} items."),
            (true, 0) => format!("Replaced the list with {n} items."),
            (_, _) => format!("Used {n} items; skipped what is not a Spotify track link or URI: {}", rejected.join(", ")),
        }));
    };
    view! {
        <div class="add">
            <form class="search" on:submit=search role="search">
                <label for="track-search" class="visually-hidden">"Search tracks"</label>
                <input id="track-search" type="search" data-testid="search-input" placeholder="Search Spotify for tracks"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
                <button class="button" type="submit" data-testid="search-button" disabled=move || searching.get()>"Search"</button>
            </form>
            {move || search_error.get().map(|e| view! { <p class="inline-error" role="alert">{e}</p> })}
            <ul class="hits" data-testid="search-results">
                {move || hits.get().into_iter().map(|h| {
                    let entry = h.entry.clone();
                    view! {
                        <li class="hit">
                            <span class="hit-title">{h.entry.name.clone()}</span>
                            <span class="hit-sub">{h.entry.artists.clone()}</span>
                            <button class="button small" data-testid="add-hit" aria-label=format!("Add {}", h.entry.name)
                                on:click=move |_| editor.update(|e| { if let Some(e) = e { let end = e.len(); e.insert_at(end, vec![entry.clone()]); } })>"Add"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <div class="paste">
                <label for="paste-box">"Paste Spotify track links or URIs"</label>
                <textarea id="paste-box" data-testid="paste-input" rows="3" placeholder="https://open.spotify.com/track/… or spotify:track:…"
                    prop:value=move || paste.get() on:input=move |ev| paste.set(event_target_value(&ev))></textarea>
                <div class="actions">
                    <button class="button" data-testid="paste-add" on:click=move |_| add_pasted(false)>"Add pasted"</button>
                    <button class="button" data-testid="paste-replace" on:click=move |_| add_pasted(true)>"Replace list with pasted"</button>
                </div>
                {move || paste_note.get().map(|n| view! { <p class="hint" role="status" data-testid="paste-note">{n}</p> })}
            </div>
        </div>
    }
}

/// The virtualized list: only the rows in view (plus a few) are in the DOM, so 10,000 items scroll smoothly. With a
/// filter, only the matching rows are listed (numbered by their place in the playlist); keyboard moves, drops and
/// removals act on what is shown.
#[component]
fn TrackList(
    editor: Doc,
    selected: RwSignal<HashSet<u64>>,
    read_only: Memo<Option<String>>,
    filter: ReadSignal<String>,
) -> impl IntoView {
    let scroll_top = RwSignal::new(0i32);
    // While the list is scrolling, rows that come into view show a placeholder instead of their cover: creating and
    // decoding an image per new row tripled a scroll frame's time (`cargo xtask bench`). Covers appear once the
    // list has rested for SETTLE_MS; `scrolls` tells a later scroll from the one a timer was started for.
    let scrolling = RwSignal::new(false);
    let scrolls = StoredValue::new(0u32);
    let viewport = RwSignal::new(640i32);
    let focus_key = RwSignal::new(None::<u64>);
    let drag_key = RwSignal::new(None::<u64>);
    let list_ref = NodeRef::<leptos::html::Div>::new();
    // The rows shown, as indices into the editor's rows; `None` while no filter is typed (every row, no vector).
    let shown = Memo::new(move |_| {
        filter.with(|q| editor.with(|e| e.as_ref().and_then(|e| setlist_core::curate::filtered_indices(e.rows(), q))))
    });
    let len = Memo::new(move |_| match shown.with(|s| s.as_ref().map(Vec::len)) {
        Some(n) => n,
        None => editor.with(|e| e.as_ref().map_or(0, Editor::len)),
    });
    // The editor index of the row shown at `p`.
    let index_at = move |p: usize| shown.with_untracked(|s| s.as_ref().map_or(Some(p), |s| s.get(p).copied()));

    let window = Memo::new(move |_| {
        let n = len.get();
        let row = ROW_PX;
        let first = usize::try_from(scroll_top.get().max(0) / row).unwrap_or(0);
        let visible = usize::try_from(viewport.get().max(0) / row).unwrap_or(0) + 2;
        (first.saturating_sub(OVERSCAN).min(n), (first + visible + OVERSCAN).min(n))
    });
    let read_only_now = move || read_only.get_untracked().is_some();

    let index_of = move |key: u64| editor.with_untracked(|e| e.as_ref().and_then(|e| e.index_of(key)));
    let key_at = move |i: usize| editor.with_untracked(|e| e.as_ref().and_then(|e| e.key_at(i)));
    // Where the row with `key` is shown, if it is.
    let shown_at = move |key: u64| {
        let i = index_of(key)?;
        shown.with_untracked(|s| match s {
            None => Some(i),
            Some(s) => s.binary_search(&i).ok(),
        })
    };
    let refocus = move |key: u64| {
        focus_key.set(Some(key));
        let Some(p) = shown_at(key) else { return };
        if let Some(el) = list_ref.get_untracked() {
            let row = ROW_PX;
            let top = i32::try_from(p).unwrap_or(i32::MAX / 2).saturating_mul(row);
            let (st, vh) = (el.scroll_top(), el.client_height());
            if top < st {
                el.set_scroll_top(top);
            } else if top + row > st + vh {
                el.set_scroll_top(top + row - vh);
            }
        }
        request_animation_frame(move || crate::browser::focus_selector(&format!("[data-key=\"{key}\"]")));
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent, key: u64| {
        let Some(p) = shown_at(key) else { return };
        let n = len.get_untracked();
        let key_shown_at = |q: usize| index_at(q).and_then(key_at);
        match ev.key().as_str() {
            "ArrowDown" | "ArrowUp" if ev.alt_key() && !read_only_now() => {
                ev.prevent_default();
                let keys = moving_keys(selected, key);
                let down = ev.key() == "ArrowDown";
                editor.update(|e| {
                    if let Some(e) = e {
                        shown.with_untracked(|s| e.nudge(&keys, s.as_deref(), down));
                    }
                });
                refocus(key);
            }
            "ArrowDown" if p + 1 < n => {
                ev.prevent_default();
                if let Some(k) = key_shown_at(p + 1) { refocus(k) }
            }
            "ArrowUp" if p > 0 => {
                ev.prevent_default();
                if let Some(k) = key_shown_at(p - 1) { refocus(k) }
            }
            " " => {
                ev.prevent_default();
                selected.update(|s| { if !s.remove(&key) { s.insert(key); } });
            }
            "Delete" | "Backspace" if !read_only_now() => {
                ev.prevent_default();
                let keys = moving_keys(selected, key);
                editor.update(|e| { if let Some(e) = e { e.remove(&keys); } });
                selected.set(HashSet::new());
                let left = len.get_untracked();
                if left > 0 {
                    if let Some(k) = key_shown_at(p.min(left - 1)) { refocus(k) }
                }
            }
            _ => {}
        }
    };

    view! {
        <p class="hint" id="list-help">"Tip: select rows with Space or the checkboxes; Alt+↑/↓ moves them, Delete removes them; or drag a row."</p>
        <div class="vlist" node_ref=list_ref role="listbox" aria-multiselectable="true" aria-label="Playlist items"
            aria-describedby="list-help" data-testid="track-list" tabindex="-1"
            on:scroll=move |ev| {
                let el = event_target::<web_sys::Element>(&ev);
                scroll_top.set(el.scroll_top());
                let this = scrolls.get_value().wrapping_add(1);
                scrolls.set_value(this);
                if !scrolling.get_untracked() {
                    scrolling.set(true);
                }
                spawn_local(async move {
                    crate::browser::sleep_ms(SETTLE_MS).await;
                    if scrolls.get_value() == this {
                        scrolling.set(false);
                    }
                });
                viewport.set(el.client_height());
            }>
            {move || (len.get() == 0 && shown.with(Option::is_some)).then(|| view! {
                <p class="empty filter-empty" data-testid="filter-empty">"No items match the filter."</p>
            })}
            <div class="vlist-inner" style:height=move || format!("{}px", len.get() * ROW_H)>
                // Keyed by (row, position, name): scrolling creates only the rows that come into view and drops the ones
                // that leave; the rest of the window stays in the DOM untouched.
                <For
                    // Per scroll frame only (shown position, playlist position, key, name hash) of the window is built;
                    // an entry is cloned only for the few rows that come into view.
                    each=move || {
                        let (start, end) = window.get();
                        shown.track();
                        editor.with(|e| e.as_ref().map(|e| {
                            (start..end).filter_map(|p| {
                                let i = index_at(p)?;
                                let r = e.rows().get(i)?;
                                Some((p, i, r.key, name_hash(&r.entry.name)))
                            }).collect::<Vec<(usize, usize, u64, u64)>>()
                        }).unwrap_or_default())
                    }
                    // The name too: a reloaded editor reuses row keys, and pasted rows get their names after a save.
                    key=|row| *row
                    children=move |(p, i, key, _)| {
                        // Called while `each` runs, so the row is there; an empty row if the editor went away meanwhile.
                        let Some(entry) = editor.with_untracked(|e| e.as_ref().and_then(|e| e.rows().get(i).map(|r| r.entry.clone()))) else {
                            return view! { <div class="row" data-index=i.to_string()></div> }.into_any();
                        };
                        let is_sel = move || selected.with(|s| s.contains(&key));
                        let art = entry.image.as_ref().map(|img| img.url.clone());
                        let has_art = StoredValue::new(false);
                        view! {
                            <div class="row" role="option" data-testid="track-row" data-key=key.to_string() data-index=i.to_string()
                                aria-selected=move || is_sel().to_string()
                                class:selected=is_sel
                                tabindex=move || if focus_key.get() == Some(key) || (focus_key.get().is_none() && p == 0) { "0" } else { "-1" }
                                style:transform=format!("translateY({}px)", p * ROW_H)
                                draggable=move || if read_only.get().is_some() { "false" } else { "true" }
                                on:focus=move |_| focus_key.set(Some(key))
                                on:keydown=move |ev| on_key(ev, key)
                                on:dragstart=move |ev| {
                                    drag_key.set(Some(key));
                                    if let Some(dt) = ev.data_transfer() { let _ = dt.set_data("text/plain", &key.to_string()); dt.set_effect_allowed("move"); }
                                }
                                on:dragover=move |ev| ev.prevent_default()
                                on:drop=move |ev| {
                                    ev.prevent_default();
                                    let Some(from) = drag_key.get_untracked() else { return };
                                    drag_key.set(None);
                                    if from == key { return }
                                    let keys = moving_keys(selected, from);
                                    editor.update(|e| { if let Some(e) = e { e.drop_on(&keys, from, key); } });
                                    refocus(from);
                                }>
                                <input type="checkbox" class="pick" tabindex="-1" aria-label=format!("Select {}", entry.name)
                                    prop:checked=is_sel
                                    on:change=move |_| selected.update(|s| { if !s.remove(&key) { s.insert(key); } })/>
                                <span class="num">{i + 1}</span>
                                {move || {
                                    // Once a row shows its cover it keeps it: `scrolling` is then no longer read, so
                                    // the next scroll does not swap it back.
                                    let show = art.is_some() && (has_art.get_value() || !scrolling.get());
                                    match art.clone().filter(|_| show) {
                                        Some(src) => {
                                            has_art.set_value(true);
                                            view! { <img class="art" src=src alt="" width="40" height="40" loading="lazy" decoding="async"/> }.into_any()
                                        }
                                        None => view! { <span class="art placeholder" aria-hidden="true">"♪"</span> }.into_any(),
                                    }
                                }}
                                <span class="title">
                                    <span class="name" data-testid="track-name">{entry.name.clone()}</span>
                                    <span class="sub">{entry.artists.clone()}{if entry.album.is_empty() { String::new() } else { format!(" · {}", entry.album) }}</span>
                                </span>
                                <span class="dur">{format_duration(entry.duration_ms)}</span>
                            </div>
                        }.into_any()
                    }
                />
            </div>
        </div>
    }
}

/// A row's name, hashed: part of its key in the list, so a renamed row is rebuilt, without a string per row per frame.
fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

/// The selected rows if `key` is among them, else just `key`: act on the selection the user sees.
fn moving_keys(selected: RwSignal<HashSet<u64>>, key: u64) -> Vec<u64> {
    selected.with_untracked(|s| if s.contains(&key) { s.iter().copied().collect() } else { vec![key] })
}

fn format_duration(ms: Option<u32>) -> String {
    let Some(ms) = ms else { return String::new() };
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}
