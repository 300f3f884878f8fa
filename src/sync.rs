//! The token push, browser side: a durable outbox in `localStorage`, fed by the token-changed hook and sent to the
//! sink (`POST {push_url}`) until it answers 2xx or a terminal 4xx. The rules (what to send, how to read the
//! answer, when to retry, which entry wins) are core's [`Outbox`]; this module stores, sends and shows.
//!
//! Every tab may send, but only under the exclusive Web Lock `setlist-token-push`, re-reading the outbox after
//! acquiring it: tabs never double-send, and whichever tab is open (after a reload, too) carries on.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use setlist_core::{classify, push_request, Outbox, PushOutcome, SyncStatus, TokenPush};

use crate::browser::{self, Area};
use crate::session::{self, Auth, Session};

const OUTBOX_KEY: &str = "setlist.outbox";
const PUSH_LOCK: &str = "setlist-token-push";
/// A push that has not been answered within this long counts as a network failure (and is retried), so that a
/// hanging connection cannot hold the lock.
const PUSH_TIMEOUT_MS: u32 = 30_000;

/// The push state for the header; provided as context by [`start`].
#[derive(Clone, Copy)]
pub(crate) struct TokenSync {
    pub(crate) status: RwSignal<SyncStatus>,
}

fn load() -> Outbox {
    browser::storage_get(Area::Local, OUTBOX_KEY).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn save(outbox: &Outbox) {
    if let Ok(json) = serde_json::to_string(outbox) {
        browser::storage_set(Area::Local, OUTBOX_KEY, &json);
    }
}

/// Subscribes the outbox to the token-changed hook, resumes a push left pending by an earlier page (after a
/// reload or in another tab), and re-checks the outbox every second: that drives retries and the countdown.
pub(crate) fn start(session: Session) -> TokenSync {
    let status = RwSignal::new(load().status(browser::now_secs()));
    let sync = TokenSync { status };
    // Runs of `send_due` in flight in this tab; the ticker starts one only when none is.
    let running = Rc::new(Cell::new(0u32));

    let r = running.clone();
    session::on_token_change(move |change| {
        if let Some(push) = change.push() {
            spawn_local(send_due(session, sync, r.clone(), Some(push)));
        }
    });

    // Signed out, or told to sign in again: no token may stay in this browser, queued ones included.
    Effect::new(move |_| {
        if !matches!(session.auth.get(), Auth::SignedIn(_)) {
            browser::storage_remove(Area::Local, OUTBOX_KEY);
            show(sync, &Outbox::default());
        }
    });

    let tick = move || {
        let outbox = load();
        show(sync, &outbox);
        if outbox.due(browser::now_secs()).is_some() && running.get() == 0 {
            spawn_local(send_due(session, sync, running.clone(), None));
        }
    };
    tick();
    if let Ok(handle) = set_interval_with_handle(tick, Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    provide_context(sync);
    sync
}

fn show(sync: TokenSync, outbox: &Outbox) {
    let status = outbox.status(browser::now_secs());
    if sync.status.get_untracked() != status {
        sync.status.set(status);
    }
}

/// Under the push lock: queues `new` (if any), then sends whatever is due until it is delivered, rejected, or
/// waiting for its next attempt.
async fn send_due(session: Session, sync: TokenSync, running: Rc<Cell<u32>>, new: Option<TokenPush>) {
    running.set(running.get() + 1);
    let _lock = browser::acquire_lock(PUSH_LOCK).await;
    // Queued under the lock: a send in flight in another tab finishes, and is recorded, before its entry can be
    // replaced.
    if let Some(push) = new {
        let mut outbox = load();
        outbox.enqueue(push, browser::now_secs());
        save(&outbox);
    }
    let push_url = session.config.with_value(|c| c.push_url.clone());
    loop {
        // Re-read under the lock: another tab may have sent it, or a sign-out cleared it.
        let outbox = load();
        show(sync, &outbox);
        let Some(entry) = outbox.due(browser::now_secs()).cloned() else { break };
        let outcome = match browser::send_with_timeout(push_request(&push_url, &entry.push), PUSH_TIMEOUT_MS).await {
            Ok(resp) => classify(Some(resp.status), &resp.body, resp.retry_after),
            Err(_) => classify(None, "", None),
        };
        let retry = matches!(outcome, PushOutcome::Retry { .. });
        let mut outbox = load();
        // Rounded up, so a `Retry-After: 1` never turns into a retry a few milliseconds later.
        if outbox.record(entry.id, outcome, browser::now_secs_ceil(), browser::random_u32()) {
            save(&outbox);
        }
        show(sync, &outbox);
        if retry {
            break;
        }
    }
    running.set(running.get() - 1);
}
