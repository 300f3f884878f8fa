//! The curation tools of the playlist page: duplicates, sort, export and restore, merge, unavailable items. Each
//! shows a preview computed by core's `curate` module (what would change, and what saving would cost), and
//! applies as one editor edit, so one undo takes it back and Save sends it through the planner.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos::task::spawn_local;
use setlist_core::curate::{
    self, export_csv, export_json, find_duplicates, parse_backup, sorted_order, reversed_order, DuplicateGroup,
    DuplicateOptions, Keep, Match, SortKey, Unavailable, MAX_BACKUP_BYTES,
};
use setlist_core::edit::editor::Editor;
use setlist_core::{replace_cost, PlaylistEntry};

use crate::components::lazy::{lazy_view, Parts};
use crate::doc::Doc;
use crate::data::{self, PlaylistCard};
use crate::use_session;

/// Groups listed in the duplicates preview; the rest are counted (and still removed).
const GROUPS_SHOWN: usize = 200;
/// Unavailable rows listed in the preview.
const UNAVAILABLE_SHOWN: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Duplicates,
    Sort,
    Backup,
    Merge,
    Unavailable,
}

impl Tool {
    const ALL: [Tool; 5] = [Self::Duplicates, Self::Sort, Self::Backup, Self::Merge, Self::Unavailable];

    fn label(self) -> &'static str {
        match self {
            Self::Duplicates => "Duplicates",
            Self::Sort => "Sort",
            Self::Backup => "Export / restore",
            Self::Merge => "Merge",
            Self::Unavailable => "Unavailable",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Self::Duplicates => "duplicates",
            Self::Sort => "sort",
            Self::Backup => "backup",
            Self::Merge => "merge",
            Self::Unavailable => "unavailable",
        }
    }
}

/// What saving costs after `edit` is applied to a copy of the editor, as the sentence the previews end with;
/// empty without an editor. One function (the edit behind a `dyn`) for every tool's preview.
fn cost_text(editor: Doc, edit: &dyn Fn(&mut Editor)) -> String {
    editor.with(|e| {
        let Some(e) = e.as_ref() else { return String::new() };
        let mut copy = e.clone();
        edit(&mut copy);
        let calls = copy.plan().map_or(0, |ops| ops.len());
        let replace = replace_cost(copy.len());
        match calls {
            0 => "The list would then match Spotify's copy: nothing to save.".to_owned(),
            1 => format!("Saving then takes 1 Spotify call (replacing everything: {replace})."),
            n => format!("Saving then takes {n} Spotify calls (replacing everything: {replace})."),
        }
    })
}

/// A checkbox and its label, setting `value`. The tools' options share this one view (and its closures).
fn check(testid: &'static str, value: RwSignal<bool>, label: AnyView) -> AnyView {
    view! {
        <label class="check"><input type="checkbox" data-testid=testid prop:checked=move || value.get()
            on:change=move |ev| value.set(event_target_checked(&ev))/>{label}</label>
    }
    .into_any()
}

/// A tool's summary line.
fn summary(testid: &'static str, text: Signal<String>) -> AnyView {
    view! { <p class="summary" data-testid=testid>{move || text.get()}</p> }.into_any()
}

/// A button of a tool: `class` is "button" or "button primary". The tools' buttons share this one view.
fn button(class: &'static str, testid: &'static str, disabled: Signal<bool>, label: AnyView, on: Box<dyn Fn() + Send + Sync>) -> AnyView {
    view! { <button class=class data-testid=testid disabled=move || disabled.get() on:click=move |_| on()>{label}</button> }
        .into_any()
}

/// The tools panel and everything only it reaches (the tool views, core's curate code) are a wasm chunk of their own
/// (components/lazy.rs), fetched the first time the panel opens.
#[component]
pub fn LazyTools(
    editor: Doc,
    selected: RwSignal<HashSet<u64>>,
    read_only: Memo<Option<String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    // The panel's state lives in the page's signals; they reach the panel's view through context, as a split
    // function takes no arguments here.
    provide_context(ToolsArgs { editor, selected, read_only, notice });
    lazy_view("the tools", expect_context::<Parts>().tools)
}

#[derive(Clone, Copy)]
struct ToolsArgs {
    editor: Doc,
    selected: RwSignal<HashSet<u64>>,
    read_only: Memo<Option<String>>,
    notice: RwSignal<Option<String>>,
}

/// The tools panel's view, under a [`LazyTools`]: what the binary's split function for the tools returns.
pub fn tools_view() -> AnyView {
    let ToolsArgs { editor, selected, read_only, notice } = expect_context();
    view! { <Tools editor=editor selected=selected read_only=read_only notice=notice/> }.into_any()
}

/// The tools panel. `notice` is the page's status line.
#[component]
fn Tools(
    editor: Doc,
    selected: RwSignal<HashSet<u64>>,
    read_only: Memo<Option<String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let tool = RwSignal::new(Tool::Duplicates);
    view! {
        <section class="tools" data-testid="tools" aria-label="Playlist tools">
            <div class="tool-tabs" role="tablist">
                {Tool::ALL.into_iter().map(|t| view! {
                    <button class="tab" role="tab" data-testid=format!("tool-{}", t.id())
                        aria-selected=move || (tool.get() == t).to_string()
                        on:click=move |_| tool.set(t)>{t.label()}</button>
                }).collect_view()}
            </div>
            <div class="tool-body" role="tabpanel">
                {move || match tool.get() {
                    Tool::Duplicates => view! { <DuplicatesTool editor=editor read_only=read_only notice=notice/> }.into_any(),
                    Tool::Sort => view! { <SortTool editor=editor selected=selected read_only=read_only notice=notice/> }.into_any(),
                    Tool::Backup => view! { <BackupTool editor=editor read_only=read_only notice=notice/> }.into_any(),
                    Tool::Merge => view! { <MergeTool editor=editor selected=selected read_only=read_only notice=notice/> }.into_any(),
                    Tool::Unavailable => view! { <UnavailableTool editor=editor read_only=read_only notice=notice/> }.into_any(),
                }}
            </div>
        </section>
    }
}

fn kind_label(kind: Match) -> &'static str {
    match kind {
        Match::SameTrack => "Same track",
        Match::SameRecording => "Same recording (ISRC)",
        Match::Likely => "Likely the same",
    }
}

#[component]
fn DuplicatesTool(editor: Doc, read_only: Memo<Option<String>>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let same_recording = RwSignal::new(true);
    let likely = RwSignal::new(true);
    let popular = RwSignal::new(false);
    // The user's choice of copy to keep, by the group's first row.
    let chosen = RwSignal::new(HashMap::<u64, u64>::new());
    let groups = Memo::new(move |_| {
        let options = DuplicateOptions {
            same_recording: same_recording.get(),
            likely: likely.get(),
            keep: if popular.get() { Keep::MostPopular } else { Keep::FirstAdded },
        };
        editor.with(|e| e.as_ref().map(|e| find_duplicates(e.rows(), options)).unwrap_or_default())
    });
    let keep_of = move |g: &DuplicateGroup| {
        chosen.with(|c| c.get(&g.keys[0]).copied().filter(|k| g.keys.contains(k)).unwrap_or(g.keep))
    };
    let doomed = Memo::new(move |_| groups.with(|gs| gs.iter().flat_map(|g| g.others(keep_of(g)).collect::<Vec<_>>()).collect::<Vec<u64>>()));
    let cost = Memo::new(move |_| {
        let keys = doomed.get();
        cost_text(editor, &|c| {
            c.remove(&keys);
        })
    });
    let entry_of = move |key: u64| editor.with_untracked(|e| e.as_ref().and_then(|e| e.index_of(key).map(|i| (i, e.rows()[i].entry.clone()))));
    let apply = move || {
        let keys = doomed.get_untracked();
        let n = editor.try_update(|e| e.as_mut().map_or(0, |e| e.remove(&keys))).unwrap_or(0);
        chosen.set(HashMap::new());
        notice.set(Some(format!("Removed {n} duplicates. Undo brings them back; Save sends the change to Spotify.")));
    };
    view! {
        <div class="tool" data-testid="duplicates-tool">
            <div class="options">
                {check("dupes-recording", same_recording, "Same recording on another release (ISRC)".into_any())}
                {check("dupes-likely", likely, "Same title and artists, length within 2 s".into_any())}
                <label class="check"><input type="checkbox" data-testid="dupes-popular" prop:checked=move || popular.get()
                    on:change=move |ev| { popular.set(event_target_checked(&ev)); chosen.set(HashMap::new()); }/>"Keep the most popular copy (else the first added)"</label>
            </div>
            {summary("dupes-summary", Signal::derive(move || {
                let (g, d) = (groups.with(Vec::len), doomed.with(Vec::len));
                match g {
                    0 => "No duplicates found.".to_owned(),
                    _ => format!("{g} groups of duplicates: {d} copies to remove. {}", cost.get()),
                }
            }))}
            {button("button primary", "dupes-apply",
                Signal::derive(move || doomed.with(Vec::is_empty) || read_only.get().is_some()),
                (move || format!("Remove {} duplicates", doomed.with(Vec::len))).into_any(), Box::new(apply))}
            <ol class="groups" data-testid="dupes-groups">
                {move || groups.get().into_iter().take(GROUPS_SHOWN).map(|g| {
                    let first = g.keys[0];
                    let rows = g.keys.iter().filter_map(|&k| entry_of(k).map(|(i, e)| (k, i, e))).collect::<Vec<_>>();
                    view! {
                        <li class="group" data-testid="dupes-group">
                            <span class="group-kind">{kind_label(g.kind)}</span>
                            <ul>
                                {rows.into_iter().map(|(k, i, e)| {
                                    let g2 = g.clone();
                                    let keeps = move || keep_of(&g2) == k;
                                    let kept = keeps.clone();
                                    view! {
                                        <li class="group-row" class:kept=kept>
                                            <label>
                                                <input type="radio" name=format!("keep-{first}") data-testid="dupes-keep"
                                                    prop:checked=keeps on:change=move |_| chosen.update(|c| { c.insert(first, k); })/>
                                                <span class="num">{format!("#{}", i + 1)}</span>
                                                <span class="group-title">{e.name.clone()}</span>
                                                <span class="sub who">{format!("{} · {}", e.artists, e.album)}</span>
                                                <span class="sub when">{e.added_at.as_deref().map(|a| format!("added {}", a.get(..10).unwrap_or(a))).unwrap_or_default()}</span>
                                            </label>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || {
                let more = groups.with(Vec::len).saturating_sub(GROUPS_SHOWN);
                (more > 0).then(|| view! { <p class="hint">{format!("…and {more} more groups (removed too).")}</p> })
            }}
        </div>
    }
}

#[component]
fn SortTool(
    editor: Doc,
    selected: RwSignal<HashSet<u64>>,
    read_only: Memo<Option<String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let key = RwSignal::new(SortKey::Artist);
    let descending = RwSignal::new(false);
    let only_selected = RwSignal::new(true);
    let scope = move || {
        let sel = selected.get();
        (only_selected.get() && !sel.is_empty()).then_some(sel)
    };
    let order = Memo::new(move |_| {
        let only = scope();
        editor.with(|e| e.as_ref().map(|e| sorted_order(e.rows(), key.get(), descending.get(), only.as_ref())))
    });
    let preview = Memo::new(move |_| {
        let Some(order) = order.get() else { return String::new() };
        editor.with(|e| {
            let Some(e) = e.as_ref() else { return String::new() };
            let moved = e.rows().iter().zip(&order).filter(|(r, k)| r.key != **k).count();
            if moved == 0 {
                return "Already in this order.".to_owned();
            }
            format!("Sorting moves {moved} items. {}", cost_text(editor, &|c| {
                c.set_order(&order);
            }))
        })
    });
    let locked = Signal::derive(move || read_only.get().is_some());
    let apply = move |reverse: bool| {
        let only = scope();
        let changed = editor
            .try_update(|e| {
                let Some(e) = e.as_mut() else { return false };
                let order = if reverse { reversed_order(e.rows(), only.as_ref()) } else { sorted_order(e.rows(), key.get_untracked(), descending.get_untracked(), only.as_ref()) };
                e.set_order(&order)
            })
            .unwrap_or(false);
        let what = if reverse { "Reversed".to_owned() } else { format!("Sorted by {}", key.get_untracked().label().to_lowercase()) };
        notice.set(Some(if changed { format!("{what}. Undo brings the old order back.") } else { "Already in this order.".to_owned() }));
    };
    view! {
        <div class="tool" data-testid="sort-tool">
            <div class="options">
                <label class="field"><span>"Sort by"</span>
                    <select data-testid="sort-key" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(k) = SortKey::ALL.into_iter().find(|k| k.label() == v) { key.set(k) }
                    }>
                        {SortKey::ALL.into_iter().map(|k| view! { <option value=k.label() selected=k == SortKey::Artist>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field"><span>"Order"</span>
                    <select data-testid="sort-direction" on:change=move |ev| descending.set(event_target_value(&ev) == "desc")>
                        <option value="asc">"A to Z, oldest, shortest first"</option>
                        <option value="desc">"Z to A, newest, longest first"</option>
                    </select>
                </label>
                {move || (!selected.with(HashSet::is_empty)).then(|| check("sort-selected", only_selected,
                    (move || format!("Only the {} selected rows", selected.with(HashSet::len))).into_any()))}
            </div>
            {summary("sort-summary", preview.into())}
            <div class="actions">
                {button("button primary", "sort-apply", locked, "Sort".into_any(), Box::new(move || apply(false)))}
                {button("button", "reverse-apply", locked, "Reverse".into_any(), Box::new(move || apply(true)))}
            </div>
        </div>
    }
}

/// A file name for an export of `name`: letters, digits and dashes.
fn file_stem(name: &str) -> String {
    let stem: String = name.chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect();
    let stem = stem.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if stem.is_empty() { "playlist".to_owned() } else { stem.chars().take(60).collect() }
}

#[component]
fn BackupTool(
    editor: Doc,
    read_only: Memo<Option<String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let restore = RwSignal::new(None::<Result<(String, curate::Backup), String>>);
    let file_ref = NodeRef::<leptos::html::Input>::new();
    let export = move |json: bool| {
        let text = editor.with_untracked(|e| {
            let e = e.as_ref()?;
            let id = editor.id_untracked().map(|id| id.as_str().to_owned()).unwrap_or_default();
            let meta = e.meta();
            Some(if json { export_json(e.rows(), &id, &meta.name, &meta.description) } else { export_csv(e.rows()) })
        });
        let Some(text) = text else { return };
        let stem = editor.with_untracked(|e| e.as_ref().map(|e| file_stem(&e.meta().name))).unwrap_or_default();
        let (name, mime) = if json { (format!("{stem}.json"), "application/json") } else { (format!("{stem}.csv"), "text/csv") };
        if !crate::browser::download(&name, mime, &text) {
            notice.set(Some("The browser did not start the download.".into()));
        }
    };
    let chosen = move |_| {
        let Some(input) = file_ref.get_untracked() else { return };
        spawn_local(async move {
            let read = crate::browser::read_chosen_file(&input, MAX_BACKUP_BYTES).await;
            restore.set(Some(read.and_then(|(name, text)| {
                parse_backup(&text).map(|b| (name.clone(), b)).map_err(|e| format!("{name}: {e}"))
            })));
        });
    };
    let preview = move || {
        restore.with(|r| match r {
            None => None,
            Some(Err(e)) => Some(view! { <p class="inline-error" role="alert" data-testid="restore-summary">{e.clone()}</p> }.into_any()),
            Some(Ok((name, backup))) => {
                let cost = cost_text(editor, &|c| {
                    c.replace_all(backup.entries.clone());
                });
                let skipped = backup.skipped.iter().take(5).map(|s| format!("{}: {}", s.at, s.why)).collect::<Vec<_>>().join("; ");
                let text = format!(
                    "{name} lists {} items{}. Restoring replaces this list with them. {}",
                    backup.entries.len(),
                    if backup.skipped.is_empty() { String::new() } else { format!(" ({} skipped: {skipped})", backup.skipped.len()) },
                    cost,
                );
                Some(view! { <p class="summary" data-testid="restore-summary">{text}</p> }.into_any())
            }
        })
    };
    let apply = move || {
        let Some(Ok((name, backup))) = restore.get_untracked() else { return };
        let n = backup.entries.len();
        editor.update(|e| { if let Some(e) = e { e.replace_all(backup.entries); } });
        restore.set(None);
        notice.set(Some(format!("Restored {n} items from {name}. Undo brings the list back; Save sends it to Spotify.")));
    };
    view! {
        <div class="tool" data-testid="backup-tool">
            <p class="hint">"Export every item with its title, artists, album, length, ISRC, URI and when and by whom it was added."</p>
            <div class="actions">
                {button("button", "export-csv", Signal::stored(false), "Download CSV".into_any(), Box::new(move || export(false)))}
                {button("button", "export-json", Signal::stored(false), "Download JSON".into_any(), Box::new(move || export(true)))}
            </div>
            <label class="field"><span>"Restore from an export (CSV or JSON, from Setlist or another tool)"</span>
                <input type="file" accept=".csv,.json,text/csv,application/json" data-testid="restore-file" node_ref=file_ref on:change=chosen/>
            </label>
            {preview}
            {button("button primary", "restore-apply",
                Signal::derive(move || read_only.get().is_some() || !restore.with(|r| matches!(r, Some(Ok(_))))),
                "Restore".into_any(), Box::new(apply))}
        </div>
    }
}

#[component]
fn MergeTool(
    editor: Doc,
    selected: RwSignal<HashSet<u64>>,
    read_only: Memo<Option<String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let lists = RwSignal::new(None::<Result<Vec<PlaylistCard>, String>>);
    let source = RwSignal::new(String::new());
    let skip = RwSignal::new(true);
    let incoming = RwSignal::new(None::<Result<(String, Vec<PlaylistEntry>), String>>);
    let busy = RwSignal::new(false);
    let new_name = RwSignal::new(String::new());
    spawn_local(async move {
        let got = data::load_playlists(session, &|_, _| ()).await.map_err(|e| e.to_string());
        lists.set(Some(got));
    });
    let current = move || editor.id_untracked().map(|id| id.as_str().to_owned()).unwrap_or_default();
    let load = move || {
        let id = source.get_untracked();
        if id.is_empty() {
            return;
        }
        busy.set(true);
        let name = lists.with_untracked(|l| {
            l.as_ref().and_then(|l| l.as_ref().ok()).and_then(|l| l.iter().find(|c| c.id.as_str() == id).map(|c| c.name.clone()))
        });
        spawn_local(async move {
            let got = match data::playlist_id(&id) {
                Ok(id) => data::load_playlist(session, &id, &|_, _| ()).await,
                Err(e) => Err(e),
            };
            incoming.set(Some(got.map(|l| (name.unwrap_or(l.meta.name), l.entries)).map_err(|e| e.to_string())));
            busy.set(false);
        });
    };
    let merge = Memo::new(move |_| {
        incoming.with(|i| match i {
            Some(Ok((name, entries))) => editor.with(|e| e.as_ref().map(|e| (name.clone(), curate::merge_entries(e.rows(), entries, skip.get())))),
            _ => None,
        })
    });
    let apply = move || {
        let Some((name, merge)) = merge.get_untracked() else { return };
        let n = merge.entries.len();
        editor.update(|e| { if let Some(e) = e { let end = e.len(); e.insert_at(end, merge.entries); } });
        incoming.set(None);
        notice.set(Some(format!("Appended {n} items from {name}. Undo takes them out; Save sends them to Spotify.")));
    };
    let create = move || {
        let name = new_name.get_untracked().trim().to_owned();
        let keys = selected.get_untracked();
        let entries: Vec<PlaylistEntry> = editor.with_untracked(|e| {
            e.as_ref().map(|e| e.rows().iter().filter(|r| keys.contains(&r.key)).map(|r| r.entry.clone()).collect()).unwrap_or_default()
        });
        if name.is_empty() || entries.is_empty() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let result = async {
                let id = data::create_playlist(session, &name).await.map_err(|e| e.to_string())?;
                // Loaded as any playlist is, so the save that fills it checks the version it starts from.
                let empty = data::load_playlist(session, &id, &|_, _| ()).await.map_err(|e| e.to_string())?;
                let mut draft = Editor::new(empty.entries.clone(), empty.meta.clone());
                let added = draft.insert_at(0, entries).len();
                match data::save(session, &empty, &draft, |_| ()).await {
                    Ok(_) => Ok((id, added)),
                    Err(data::SaveError::Conflict) => Err("the new playlist changed while Setlist filled it".to_owned()),
                    Err(data::SaveError::Failed(e)) => Err(e.to_string()),
                }
            }
            .await;
            busy.set(false);
            notice.set(Some(match result {
                Ok((id, n)) => format!("Created “{name}” with {n} items (playlist {id})."),
                Err(e) => format!("Could not create the playlist: {e}"),
            }));
            new_name.set(String::new());
        });
    };
    view! {
        <div class="tool" data-testid="merge-tool">
            <div class="options">
                <label class="field"><span>"Append another playlist"</span>
                    <select data-testid="merge-source" on:change=move |ev| { source.set(event_target_value(&ev)); incoming.set(None); }>
                        <option value="">{move || match lists.get() { None => "Loading your playlists…", Some(Err(_)) => "Could not load your playlists", Some(Ok(_)) => "Choose a playlist" }}</option>
                        {move || lists.get().and_then(Result::ok).unwrap_or_default().into_iter().filter(|c| c.id.as_str() != current()).map(|c| view! {
                            <option value=c.id.as_str().to_owned()>{format!("{} ({} items)", c.name, c.total)}</option>
                        }).collect_view()}
                    </select>
                </label>
                {check("merge-skip", skip, "Skip tracks this playlist already has".into_any())}
                {button("button", "merge-load", Signal::derive(move || busy.get() || source.with(String::is_empty)), "Preview".into_any(), Box::new(load))}
            </div>
            {summary("merge-summary", Signal::derive(move || match (incoming.get(), merge.get()) {
                (Some(Err(e)), _) => e,
                (_, Some((name, m))) => {
                    let cost = cost_text(editor, &|c| {
                        let end = c.len();
                        c.insert_at(end, m.entries.clone());
                    });
                    format!("Appends {} items from {name} ({} already here skipped, {} that cannot be added skipped). {cost}",
                        m.entries.len(), m.skipped_duplicates, m.skipped_unaddable)
                }
                _ => String::new(),
            }))}
            {button("button primary", "merge-apply",
                Signal::derive(move || read_only.get().is_some() || merge.with(|m| m.as_ref().is_none_or(|(_, m)| m.entries.is_empty()))),
                "Append".into_any(), Box::new(apply))}
            <div class="options new-from-selection">
                <label class="field"><span>{move || format!("New playlist from the {} selected rows", selected.with(HashSet::len))}</span>
                    <input data-testid="new-from-selection-name" maxlength="100" placeholder="Name of the new playlist"
                        prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev))/>
                </label>
                {button("button", "new-from-selection",
                    Signal::derive(move || busy.get() || selected.with(HashSet::is_empty) || new_name.with(|n| n.trim().is_empty())),
                    "Create".into_any(), Box::new(create))}
            </div>
        </div>
    }
}

#[component]
fn UnavailableTool(editor: Doc, read_only: Memo<Option<String>>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let rows = Memo::new(move |_| editor.with(|e| e.as_ref().map(|e| curate::unavailable(e.rows())).unwrap_or_default()));
    let cost = Memo::new(move |_| {
        let keys: Vec<u64> = rows.get().into_iter().map(|(k, _)| k).collect();
        cost_text(editor, &|c| {
            c.remove_unavailable(&keys);
        })
    });
    let apply = move || {
        let keys: Vec<u64> = rows.get_untracked().into_iter().map(|(k, _)| k).collect();
        let n = editor.try_update(|e| e.as_mut().map_or(0, |e| e.remove_unavailable(&keys))).unwrap_or(0);
        let left = keys.len() - n;
        notice.set(Some(if left == 0 {
            format!("Removed {n} unavailable items. Undo brings them back.")
        } else {
            format!("Removed {n} unavailable items; {left} that Spotify no longer has stay, because removing them takes a replace of the whole list, which would drop its local files.")
        }));
    };
    let describe = move |key: u64, why: Unavailable| {
        let (i, name) = editor.with_untracked(|e| {
            e.as_ref().and_then(|e| e.index_of(key).map(|i| (i, e.rows()[i].entry.name.clone()))).unwrap_or_default()
        });
        let why = match why {
            Unavailable::Gone => "Spotify no longer has this item",
            Unavailable::NotPlayable => "not playable in your country",
        };
        format!("#{} {} ({why})", i + 1, if name.is_empty() { "Unknown item" } else { &name })
    };
    view! {
        <div class="tool" data-testid="unavailable-tool">
            {summary("unavailable-summary", Signal::derive(move || match rows.with(Vec::len) {
                0 => "Every item is available.".to_owned(),
                n => format!("{n} items are unavailable. {}", cost.get()),
            }))}
            <ul class="unavailable-list">
                {move || rows.get().into_iter().take(UNAVAILABLE_SHOWN).map(|(k, why)| view! { <li>{describe(k, why)}</li> }).collect_view()}
            </ul>
            {button("button primary", "unavailable-apply",
                Signal::derive(move || rows.with(Vec::is_empty) || read_only.get().is_some()),
                (move || format!("Remove {} unavailable", rows.with(Vec::len))).into_any(), Box::new(apply))}
        </div>
    }
}
