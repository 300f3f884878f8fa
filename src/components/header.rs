use leptos::prelude::*;
use setlist_core::{me_request, parse_me, Me};

use crate::session::{self, api_call, AppError, Auth};
use crate::{browser, use_session};

/// The top bar: brand, the signed-in user's name from `/v1/me`, Sign in / Sign out.
#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    // Keyed on the sign-in, not on the token: a refresh must not refetch the profile.
    let signed_in_at = Memo::new(move |_| match session.auth.get() {
        Auth::SignedIn(t) => Some(t.authorized_at),
        _ => None,
    });
    let me = LocalResource::new(move || {
        let key = signed_in_at.get();
        async move {
            key?;
            Some(fetch_me(session).await)
        }
    });
    let sign_in = move |_| {
        if let Err(e) = session::start_sign_in(&session.config.get_value(), &browser::location_path()) {
            leptos::logging::warn!("sign-in could not start: {e}");
        }
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Setlist"</a>
            <nav class="account" aria-label="Account">
                {move || match signed_in_at.get() {
                    None => view! {
                        <button class="button primary" data-testid="sign-in" on:click=sign_in>"Sign in with Spotify"</button>
                    }.into_any(),
                    Some(_) => view! {
                        <span class="user" data-testid="user-name">
                            {move || match me.get().flatten() {
                                Some(Ok(me)) => me.display_name.unwrap_or(me.id),
                                Some(Err(e)) => format!("(profile unavailable: {e})"),
                                None => "…".into(),
                            }}
                        </span>
                        <button class="button" data-testid="sign-out" on:click=move |_| session::sign_out(session)>"Sign out"</button>
                    }.into_any(),
                }}
            </nav>
        </header>
    }
}

async fn fetch_me(session: session::Session) -> Result<Me, AppError> {
    let resp = api_call(session, me_request).await?;
    parse_me(resp.status, &resp.body).map_err(|e| AppError::Api { status: e.status, message: e.message })
}
