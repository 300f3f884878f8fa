//! The token push, browser side: a durable outbox in `localStorage`, fed by the token-changed hook and sent to the
//! sink (`POST {push_url}`) until it answers 2xx or refuses that exact push. The rules (what to send, how to read
//! the answer, when to retry, when a fresh access token is needed, which entry wins) are core's [`Outbox`]; this
//! module stores, sends and shows.
//!
//! Only the accounts this site stores are pushed (`config.json`'s `stored_accounts`, checked against the signed-in
//! user's `/v1/me` id): a visitor's tokens are never queued or sent, and the header shows nothing about syncing.
//!
//! Every tab may send, but only under the exclusive Web Lock `setlist-token-push`, re-reading the outbox after
//! acquiring it: tabs never double-send, and whichever tab is open (after a reload, too) carries on.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use setlist_core::{classify, me_request, parse_me, push_request, Outbox, PushOutcome, PushUrl, SyncStatus, TokenPush};

use crate::browser::{self, Area};
use crate::session::{self, Auth, Session};

const OUTBOX_KEY: &str = "setlist.outbox";
/// Whether the current sign-in's account is one this site stores, decided once per sign-in.
const ACCOUNT_KEY: &str = "setlist.push_account";
const PUSH_LOCK: &str = "setlist-token-push";
/// A push that has not been answered within this long counts as a network failure (and is retried), so that a
/// hanging connection cannot hold the lock.
const PUSH_TIMEOUT_MS: u32 = 30_000;
/// Signing out waits at most this long for a pending push to be delivered.
const SIGN_OUT_WAIT_MS: u32 = 5_000;

/// The push state for the header; provided as context by [`start`].
#[derive(Clone, Copy)]
pub(crate) struct TokenSync {
    pub(crate) status: RwSignal<SyncStatus>,
}

fn load() -> Outbox {
    browser::storage_get(Area::Local, OUTBOX_KEY).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

/// The decision for one sign-in (keyed by its `authorized_at`).
#[derive(Serialize, Deserialize)]
struct PushAccount {
    authorized_at: u64,
    stored: bool,
}

/// Whether the signed-in account's tokens go to the sink: `config.json` lists it (core's
/// [`setlist_core::AppConfig::stores_account`] on the `/v1/me` id). `None` when `/v1/me` could not be read: nothing
/// is queued then, and the next token change asks again.
async fn account_is_stored(session: Session, authorized_at: u64) -> Option<bool> {
    let cached = browser::storage_get(Area::Local, ACCOUNT_KEY)
        .and_then(|s| serde_json::from_str::<PushAccount>(&s).ok())
        .filter(|a| a.authorized_at == authorized_at);
    if let Some(account) = cached {
        return Some(account.stored);
    }
    let resp = session::api_call(session, &me_request(&session.config.get_value())).await.ok()?;
    let me = parse_me(resp.status, &resp.body).ok()?;
    let stored = session.config.with_value(|c| c.stores_account(&me.id));
    if let Ok(json) = serde_json::to_string(&PushAccount { authorized_at, stored }) {
        browser::storage_set(Area::Local, ACCOUNT_KEY, &json);
    }
    Some(stored)
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
            let authorized_at = change.tokens().authorized_at;
            let running = r.clone();
            spawn_local(async move {
                if account_is_stored(session, authorized_at).await == Some(true) {
                    send_due(session, sync, running, Some(push)).await;
                }
            });
        }
    });

    // Signed out (after [`sign_out`] tried to deliver what was pending), or told to sign in again (the chain is
    // dead, nothing to deliver): no token may stay in this browser, queued ones included.
    Effect::new(move |_| {
        if !matches!(session.auth().get(), Auth::SignedIn(_)) {
            browser::storage_remove(Area::Local, OUTBOX_KEY);
            browser::storage_remove(Area::Local, ACCOUNT_KEY);
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
    let push_url = session.config.with_value(|c| c.push_url().clone());
    loop {
        // Re-read under the lock: another tab may have sent it, or a sign-out cleared it.
        let mut outbox = load();
        show(sync, &outbox);
        let now = browser::now_secs();
        if let Some(forced) = outbox.needs_fresh_token(now) {
            // The queued access token is dead (an outage longer than a token lives) or the sink could not use it:
            // get a fresh one first. A refresh in this tab queues its own push in this entry's place (the hook);
            // tokens adopted from another tab are taken into the entry here. Same chain either way.
            let dead = outbox.due(now).map(|e| e.push.access_token.clone());
            if session::access_token(session, dead.as_ref().filter(|_| forced)).await.is_err() {
                break;
            }
            outbox = load();
            if let Some(current) = session::load_tokens() {
                if outbox.adopt_access_token(&current) {
                    save(&outbox);
                }
            }
            if outbox.needs_fresh_token(browser::now_secs()).is_some() {
                // Still no usable token (the refresh is waiting out its budget): the ticker comes back later.
                break;
            }
        }
        let Some(entry) = outbox.due(browser::now_secs()).cloned() else { break };
        let outcome = attempt(&push_url, &entry.push, PUSH_TIMEOUT_MS).await;
        let retry = !matches!(outcome, PushOutcome::Delivered | PushOutcome::Rejected { .. } | PushOutcome::NotAllowed);
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

async fn attempt(push_url: &PushUrl, push: &TokenPush, timeout_ms: u32) -> PushOutcome {
    match browser::send_with_timeout(push_request(push_url, push), timeout_ms).await {
        Ok(resp) => classify(Some(resp.status), &resp.body, resp.retry_after),
        Err(_) => classify(None, "", None),
    }
}

/// Signs out, first giving a pending push one bounded chance (under the push lock, at most
/// [`SIGN_OUT_WAIT_MS`]) to reach the sink: a sign-out right after a refresh must not lose the newest refresh token.
/// Whatever the answer, the browser is then cleared; an undelivered push is gone with it (a token may not stay in
/// a signed-out browser), and the server keeps the chain it had.
pub(crate) fn sign_out(session: Session) {
    spawn_local(async move {
        let push_url = session.config.with_value(|c| c.push_url().clone());
        {
            let _lock = browser::acquire_lock(PUSH_LOCK).await;
            let outbox = load();
            if let Some(entry) = outbox.pending.clone() {
                let outcome = attempt(&push_url, &entry.push, SIGN_OUT_WAIT_MS).await;
                let delivered = outcome == PushOutcome::Delivered;
                let mut outbox = load();
                if outbox.record(entry.id, outcome, browser::now_secs_ceil(), browser::random_u32()) {
                    save(&outbox);
                }
                if !delivered {
                    leptos::logging::warn!("signing out with a token push the sync service did not take");
                }
            }
        }
        session::sign_out(session);
    });
}
