use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::components::error::ErrorPanel;
use crate::session::{self, AppError};
use crate::{browser, use_session};

/// `/callback`: finishes the sign-in once, then moves on; errors are shown with a way forward.
#[component]
pub fn Callback() -> impl IntoView {
    let session = use_session();
    let failed = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    spawn_local(async move {
        match session::finish_sign_in(session).await {
            Ok(return_to) => navigate(&return_to, Default::default()),
            Err(e) => failed.set(Some(e)),
        }
    });
    let retry = move |_| {
        if let Err(e) = session::start_sign_in(&session.config.get_value(), "/") {
            failed.set(Some(AppError::SignIn(e)));
        }
    };
    move || match failed.get() {
        None => view! { <p class="boot" role="status" data-testid="signing-in">"Signing you in…"</p> }.into_any(),
        Some(e) => view! {
            <ErrorPanel title="Sign-in did not complete" message=e.to_string()>
                <button class="button primary" data-testid="retry-sign-in" on:click=retry>"Try signing in again"</button>
                <a class="button" href="/" on:click=|_| browser::replace_url("/")>"Back to Setlist"</a>
            </ErrorPanel>
        }.into_any(),
    }
}
