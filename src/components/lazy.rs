//! Parts of the app whose code is a separate wasm chunk, fetched the first time they are shown (issue 15), so that a
//! first visit downloads only what the playlists page needs. The binary decides how a part is loaded: src/main.rs
//! marks a `#[wasm_split]` function for each and the build cuts the module there (xtask/src/split.rs). The library
//! only defines the parts' views; it has no split point of its own, so whatever links it (the wasm tests) needs no
//! split. Each split is `fallible`: a chunk that cannot be fetched is an error with a retry, not a panic, and a later
//! attempt fetches it again.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;
use send_wrapper::SendWrapper;

/// A lazily loaded part's view, once its code is here.
pub type Loading = Pin<Box<dyn Future<Output = Result<AnyView, SplitLoaderError>>>>;

/// Starts loading a part.
pub type Load = fn() -> Loading;

/// How the app gets the parts a first visit does not need: given to `App` by the binary.
#[derive(Clone, Copy)]
pub struct Parts {
    /// The playlist page ([`crate::editor_view`]).
    pub editor: Load,
    /// The tools panel of the playlist page ([`crate::tools_view`]).
    pub tools: Load,
    /// Starts fetching the editor's code without showing it (the playlists page calls it once its list is shown).
    pub prefetch_editor: fn(),
}

impl Parts {
    /// Every part in the one module, ready at once: for a build that does not split. (The shipped binary does not use
    /// this: naming these views here would put their code back into the first visit's module.)
    pub fn inline() -> Self {
        Self {
            editor: || Box::pin(async { Ok(crate::editor_view()) }),
            tools: || Box::pin(async { Ok(crate::tools_view()) }),
            prefetch_editor: || {},
        }
    }
}

/// `load`'s view once its chunk is here; until then a status line naming `what`, and if the chunk cannot be fetched
/// an error saying so, with a retry. Nothing the user has is touched either way.
pub fn lazy_view(what: &'static str, load: Load) -> impl IntoView {
    let attempt = RwSignal::new(0_u32);
    view! {
        <Suspense fallback=move || view! { <p class="notice" role="status" data-testid="lazy-loading">{format!("Loading {what}…")}</p> }>
            {move || {
                attempt.track();
                // The load is a browser fetch on this one thread; Suspend asks for Send.
                Suspend::new(SendWrapper::new(async move {
                    match load().await {
                        Ok(view) => view,
                        Err(_) => view! {
                            <div class="notice warn" role="alert" data-testid="lazy-failed">
                                <p>{format!("Setlist could not load {what}: the network may be down. Nothing you had is lost.")}</p>
                                <button class="button" on:click=move |_| attempt.update(|n| *n += 1)>"Try again"</button>
                            </div>
                        }.into_any(),
                    }
                }))
            }}
        </Suspense>
    }
}
