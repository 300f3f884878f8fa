use leptos::prelude::*;

use crate::components::error::ErrorPanel;
use crate::session::{self, Auth};
use crate::{browser, use_session};

/// Signed out: what Setlist is and a way in. Signed in: the user's home.
#[component]
pub fn Home() -> impl IntoView {
    let session = use_session();
    let error = RwSignal::new(None::<String>);
    let sign_in = move |_| {
        if let Err(e) = session::start_sign_in(&session.config.get_value(), &browser::location_path()) {
            error.set(Some(e));
        }
    };
    move || match session.auth().get() {
        Auth::SignedOut => view! {
            <section class="hero">
                <h1>"Edit your Spotify playlists, fast."</h1>
                <p>"Setlist opens playlists of any size, lets you reorder, add and remove freely with undo, and saves with the fewest possible Spotify calls."</p>
                <button class="button primary large" data-testid="sign-in-hero" on:click=sign_in>"Sign in with Spotify"</button>
                {move || error.get().map(|e| view! { <p class="inline-error" role="alert">{e}</p> })}
            </section>
        }.into_any(),
        Auth::SignInAgain(why) => view! {
            <ErrorPanel title="Signed out" message=format!("{why} Please sign in again.")>
                <button class="button primary" data-testid="sign-in-again" on:click=sign_in>"Sign in again"</button>
            </ErrorPanel>
        }.into_any(),
        Auth::SignedIn(_) => view! { <super::playlists::Playlists/> }.into_any(),
    }
}
