use leptos::prelude::*;
use setlist_core::{expiry_warning, me_request, parse_me, Me, SyncStatus};

use crate::session::{self, api_call, AppError, Auth};
use crate::net::WaitReason;
use crate::sync::TokenSync;
use crate::{browser, use_session};

/// The top bar: brand, the signed-in user's name from `/v1/me`, the credentials sync status, Sign in / Sign out;
/// below it, a warning when the sign-in is about to run out.
#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    let sync = use_context::<TokenSync>();
    // Keyed on the sign-in, not on the token: a refresh must not refetch the profile.
    let signed_in_at = Memo::new(move |_| match session.auth().get() {
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
    // Coming back to the tab refreshes the profile (a rename on Spotify shows up), through the usual token path.
    let focus = window_event_listener(leptos::ev::focus, move |_| {
        if signed_in_at.get_untracked().is_some() {
            me.refetch();
        }
    });
    on_cleanup(move || focus.remove());
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
                        <button class="button primary" data-testid="sign-in" on:click=sign_in>
                            {move || if matches!(session.auth().get(), Auth::SignInAgain(_)) { "Sign in again" } else { "Sign in with Spotify" }}
                        </button>
                    }.into_any(),
                    Some(_) => view! {
                        {sync.map(|sync| view! { <SyncIndicator sync=sync/> })}
                        <span class="user" data-testid="user-name">
                            {move || match me.get().flatten() {
                                Some(Ok(me)) => me.display_name.unwrap_or(me.id),
                                Some(Err(e)) => format!("(profile unavailable: {e})"),
                                None => "…".into(),
                            }}
                        </span>
                        <button class="button" data-testid="sign-out" on:click=move |_| crate::sync::sign_out(session)>"Sign out"</button>
                    }.into_any(),
                }}
            </nav>
        </header>
        <WaitLine/>
        {move || match session.auth().get() {
            Auth::SignedIn(t) => expiry_warning(&t, browser::now_secs()).map(|days| view! {
                <div class="expiry-notice" role="status" data-testid="expiry-warning">
                    <span>{expiry_text(days)}</span>
                    <button class="button" data-testid="renew-sign-in" on:click=sign_in>"Sign in again"</button>
                </div>
            }.into_any()),
            Auth::SignInAgain(_) | Auth::SignedOut => None,
        }}
    }
}

/// "Spotify asked us to wait 42 s" with a live countdown while requests are held back; nothing otherwise.
#[component]
fn WaitLine() -> impl IntoView {
    let session = use_session();
    let now = RwSignal::new(js_sys::Date::now());
    // Ticks only while a wait is shown.
    Effect::new(move |_| {
        if session.waiting.get().is_some() {
            if let Ok(handle) = set_interval_with_handle(move || now.set(js_sys::Date::now()), std::time::Duration::from_millis(250)) {
                on_cleanup(move || handle.clear());
            }
        }
    });
    move || {
        session.waiting.get().map(|w| {
            let reason = match w.reason {
                WaitReason::RateLimited => "rate-limited",
                WaitReason::Unreachable => "retrying",
            };
            view! {
                <div class="wait-notice" role="status" aria-live="polite" data-testid="wait-status" data-reason=reason>
                    // `now` only ticks; the time is read fresh, so the first frame is right too.
                    {move || { now.track(); w.text(js_sys::Date::now()) }}
                </div>
            }
        })
    }
}

fn expiry_text(days: u64) -> String {
    match days {
        0 => "Your Spotify sign-in has expired.".into(),
        1 => "Your Spotify sign-in expires within a day. Sign in again to keep Setlist and its synced credentials working.".into(),
        n => format!("Your Spotify sign-in expires in {n} days. Sign in again to keep Setlist and its synced credentials working."),
    }
}

/// "credentials synced" / "sync pending, retrying in 30 s" / "sync failed: reason"; nothing before the first push.
#[component]
fn SyncIndicator(sync: TokenSync) -> impl IntoView {
    move || {
        let status = sync.status.get();
        let state = match &status {
            SyncStatus::Idle => return None,
            SyncStatus::Synced => "synced",
            SyncStatus::Sending | SyncStatus::Retrying { .. } => "pending",
            SyncStatus::Failed(_) => "failed",
            // Not an error: this site does not store this account's credentials.
            SyncStatus::NotStored => "not-stored",
        };
        let title = match &status {
            SyncStatus::Retrying { reason, .. } if !reason.is_empty() => format!("{status} ({reason})"),
            _ => status.to_string(),
        };
        Some(view! {
            <span class="sync" data-testid="sync-status" data-state=state title=title role="status">{status.to_string()}</span>
        })
    }
}

async fn fetch_me(session: session::Session) -> Result<Me, AppError> {
    let resp = api_call(session, &me_request(&session.config.get_value())).await?;
    parse_me(resp.status, &resp.body).map_err(AppError::from)
}
