use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::components::error::ErrorPanel;
use crate::components::lazy::Parts;
use crate::data::{self, PlaylistCard};
use crate::use_session;

/// The signed-in home: the user's playlists (cover, name, count, owner) and a form to create one.
#[component]
pub fn Playlists() -> impl IntoView {
    let session = use_session();
    let reload = RwSignal::new(0u32);
    let progress = RwSignal::new((0usize, 0usize));
    let prefetch_editor = expect_context::<Parts>().prefetch_editor;
    let lists = LocalResource::new(move || {
        reload.track();
        async move {
            let lists = data::load_playlists(session, &move |done, total| progress.set((done, total))).await;
            if lists.is_ok() {
                // The next page is most likely an open playlist: its code comes while this one is read.
                prefetch_editor();
            }
            lists
        }
    });
    let creating = RwSignal::new(false);
    let create_error = RwSignal::new(None::<String>);
    let new_name = RwSignal::new(String::new());
    let navigate = use_navigate();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_name.get_untracked().trim().to_owned();
        if name.is_empty() {
            create_error.set(Some("Give the playlist a name.".into()));
            return;
        }
        creating.set(true);
        create_error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match data::create_playlist(session, &name).await {
                Ok(id) => navigate(&format!("/playlist/{id}"), Default::default()),
                Err(e) => create_error.set(Some(e.to_string())),
            }
            creating.set(false);
        });
    };
    view! {
        <section class="playlists" data-testid="playlists-page">
            <div class="page-head">
                <h1>"Your playlists"</h1>
                <button class="button" data-testid="reload-playlists" on:click=move |_| reload.update(|n| *n += 1)>"Reload"</button>
            </div>
            <form class="create" on:submit=create>
                <label for="new-playlist-name" class="visually-hidden">"New playlist name"</label>
                <input id="new-playlist-name" data-testid="new-playlist-name" placeholder="New playlist name" maxlength="100"
                    prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev))/>
                <button class="button primary" type="submit" data-testid="create-playlist" disabled=move || creating.get()>
                    {move || if creating.get() { "Creating…" } else { "Create playlist" }}
                </button>
            </form>
            {move || create_error.get().map(|e| view! { <p class="inline-error" role="alert">{e}</p> })}
            {move || match lists.get() {
                None => {
                    let (done, total) = progress.get();
                    view! { <p class="boot" role="status">{if total > 0 { format!("Loading playlists… {done} of {total}") } else { "Loading playlists…".into() }}</p> }.into_any()
                }
                Some(Err(e)) => view! {
                    <ErrorPanel title="Could not load your playlists" message=e.to_string()>
                        <button class="button primary" on:click=move |_| reload.update(|n| *n += 1)>"Try again"</button>
                    </ErrorPanel>
                }.into_any(),
                Some(Ok(cards)) if cards.is_empty() => view! { <p class="empty">"You have no playlists yet. Create one above."</p> }.into_any(),
                Some(Ok(cards)) => view! {
                    <ul class="cards" data-testid="playlist-list">
                        {cards.into_iter().map(|c| view! { <Card card=c/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Card(card: PlaylistCard) -> impl IntoView {
    let href = format!("/playlist/{}", card.id);
    let count = match card.total {
        1 => "1 item".to_owned(),
        n => format!("{n} items"),
    };
    view! {
        <li class="card" data-testid="playlist-card">
            <a href=href>
                {match card.image.clone() {
                    Some(url) => view! { <img class="cover" src=url alt="" loading="lazy" referrerpolicy="no-referrer"/> }.into_any(),
                    None => view! { <div class="cover placeholder" aria-hidden="true">"♫"</div> }.into_any(),
                }}
                <span class="card-name" data-testid="playlist-name">{card.name.clone()}</span>
                <span class="card-meta">{count}" · "{card.owner_name.clone()}</span>
            </a>
        </li>
    }
}
