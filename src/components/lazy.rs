//! Parts of the app whose code is a separate wasm chunk, fetched the first time they are shown (issue 15): the build
//! cuts the module at each `#[wasm_split]` function (xtask/src/split.rs), so a first visit downloads only what the
//! playlists page needs. Each part is a `fallible` split: a chunk that cannot be fetched is an error with a retry,
//! not a panic, and a later attempt fetches it again.

use std::future::Future;

use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;
use send_wrapper::SendWrapper;

/// `load`'s view once its chunk is here; until then a status line naming `what`, and if the chunk cannot be fetched
/// an error saying so, with a retry. Nothing the user has is touched either way.
pub fn lazy_view<F>(what: &'static str, load: fn() -> F) -> impl IntoView
where
    F: Future<Output = Result<AnyView, SplitLoaderError>> + 'static,
{
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
