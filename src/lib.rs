//! Setlist, a Spotify playlist editor that runs in the browser. `App` is mounted by `main.rs`.

pub mod browser;
mod data;
mod doc;
// leptos' #[component] emits `pub` props items even for crate-private views.
#[allow(unreachable_pub)]
mod components;
#[allow(unreachable_pub)]
mod pages;
pub mod session;
mod net;
mod sync;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub use components::error::ErrorPanel;
pub use components::lazy::{Load, Loading, Parts};
pub use components::tools::tools_view;
pub use pages::playlist::editor_view;
use session::{Auth, Session};

/// Loads `config.json`, then renders the routed app with the session in context. `parts` loads what a first visit
/// does not need (src/main.rs splits them off; [`Parts::inline`] is the unsplit alternative).
#[component]
pub fn App(parts: Parts) -> impl IntoView {
    provide_context(parts);
    let config = LocalResource::new(session::load_config);
    move || match config.get() {
        None => view! { <p class="boot" role="status">"Loading Setlist…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <main class="page">
                <ErrorPanel title="Setlist could not start" message=message>
                    <button class="button" on:click=|_| { let _ = web_sys::window().map(|w| w.location().reload()); }>"Reload"</button>
                </ErrorPanel>
            </main>
        }
        .into_any(),
        Some(Ok(cfg)) => view! { <Shell config=cfg/> }.into_any(),
    }
}

#[component]
fn Shell(config: setlist_core::AppConfig) -> impl IntoView {
    let auth = match session::load_tokens() {
        Some(t) => Auth::SignedIn(t),
        None => Auth::SignedOut,
    };
    let session = Session::new(config, auth);
    provide_context(session);
    session::connect_tabs(session);
    sync::start(session);
    view! {
        <Router>
            <components::header::Header/>
            <main class="page" id="main">
                <Routes fallback=|| view! { <pages::not_found::NotFound/> }>
                    <Route path=path!("/") view=pages::home::Home/>
                    <Route path=path!("/callback") view=pages::callback::Callback/>
                    <Route path=path!("/playlist/:id") view=pages::playlist::LazyPlaylistPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// The session in context; every routed view sits under `Shell`, which provides it.
pub(crate) fn use_session() -> Session {
    expect_context::<Session>()
}
