//! Listing the user's playlists (`GET /me/playlists`, every page) as a sans-IO machine, carried out like
//! [`crate::sync::load::Load`]: [`MyPlaylists::poll`] says what to do next, [`MyPlaylists::answer`] tells it what came
//! back.
//!
//! The procedure:
//!
//! 1. The first page tells the total; the rest of the pages go out at once, under the exchange's concurrency cap.
//! 2. A page that reports another total means the list changed between pages (a playlist created, followed or
//!    removed meanwhile), so offsets may have shifted: the listing starts over, [`MAX_LOAD_ATTEMPTS`] times in all.
//!    The last attempt keeps what it read, each playlist once: a list that keeps changing is still shown, and the
//!    next visit reads it again.
//! 3. Every request goes through [`crate::sync::retry`]'s policy in the [`Exchange`]: reads are safe to repeat. An error a
//!    retry cannot change ends the listing with a [`Failure`].

use std::collections::{BTreeMap, HashSet};

use crate::sync::exchange::{Answer, CallId, Conversation, Exchange, Next, Reply};
use crate::sync::load::{Failure, CONCURRENCY, MAX_LOAD_ATTEMPTS};
use crate::{my_playlists_request, parse_my_playlists, Page, PlaylistSummary};
use crate::sync::retry::{Gate, RetryPolicy};
use crate::AppConfig;

/// One page request of a listing, tagged with its attempt so answers of an abandoned attempt are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListRead {
    attempt: usize,
    page: Page,
}

/// One listing of the user's playlists in progress. See the [module documentation](self).
pub struct MyPlaylists {
    config: AppConfig,
    exchange: Exchange<ListRead>,
    attempt: usize,
    total: Option<u32>,
    pages: BTreeMap<u32, Vec<PlaylistSummary>>,
    outstanding: usize,
    outcome: Option<Result<Vec<PlaylistSummary>, Failure>>,
    finished: bool,
}

impl MyPlaylists {
    /// A listing under `policy`. `hidden_429` says whether a lost answer may be a `429` without CORS headers (true
    /// in a browser); `seed` drives the backoff jitter.
    pub fn new(config: &AppConfig, policy: RetryPolicy, hidden_429: bool, seed: u64, now: u64) -> Self {
        let mut list = Self {
            config: config.clone(),
            exchange: Exchange::new(policy, hidden_429, CONCURRENCY, seed),
            attempt: 0,
            total: None,
            pages: BTreeMap::new(),
            outstanding: 0,
            outcome: None,
            finished: false,
        };
        list.start(now);
        list
    }

    /// Playlists read so far and the total, once the first page told it.
    pub fn progress(&self) -> (usize, usize) {
        let done: usize = self.pages.values().map(Vec::len).sum();
        let total = self.total.unwrap_or(0) as usize;
        (done.min(total), total)
    }

    fn start(&mut self, now: u64) {
        self.attempt += 1;
        self.total = None;
        self.pages.clear();
        self.exchange.retain_queued(|_| false);
        self.outstanding = 1;
        self.send(Page::first(), now);
    }

    fn send(&mut self, page: Page, now: u64) {
        let request = my_playlists_request(&self.config, page);
        self.exchange.enqueue(ListRead { attempt: self.attempt, page }, request, now);
    }

    /// Every playlist read, in list order, each once (a page boundary that moved can repeat one).
    fn collected(&mut self) -> Vec<PlaylistSummary> {
        let mut seen = HashSet::new();
        std::mem::take(&mut self.pages).into_values().flatten().filter(|p| seen.insert(p.id.clone())).collect()
    }

    fn on_page(&mut self, read: ListRead, status: u16, body: &str, now: u64) -> Option<Result<Vec<PlaylistSummary>, Failure>> {
        self.outstanding -= 1;
        let paging = match parse_my_playlists(status, body) {
            Ok(paging) => paging,
            Err(e) => return Some(Err(e.into())),
        };
        match self.total {
            None => {
                self.total = Some(paging.total);
                for next in read.page.following(paging.total) {
                    self.send(next, now);
                    self.outstanding += 1;
                }
            }
            // Another total: the list changed between pages. Read it again while attempts are left.
            Some(total) if total != paging.total && self.attempt < MAX_LOAD_ATTEMPTS => {
                self.start(now);
                return None;
            }
            Some(_) => {}
        }
        self.pages.insert(read.page.offset(), paging.items);
        (self.outstanding == 0).then(|| Ok(self.collected()))
    }
}

impl Conversation for MyPlaylists {
    type Out = Result<Vec<PlaylistSummary>, Failure>;

    fn gate_mut(&mut self) -> &mut Gate {
        self.exchange.gate_mut()
    }

    fn poll(&mut self, now: u64) -> Next<Self::Out> {
        if let Some(end) = self.exchange.conclude(&mut self.outcome, &mut self.finished) {
            return end;
        }
        self.exchange.step(now)
    }

    fn answer(&mut self, id: CallId, now: u64, answer: Answer) {
        if self.finished || self.outcome.is_some() {
            return;
        }
        self.outcome = match self.exchange.answer(id, now, answer) {
            None => None,
            Some(Reply::Final { tag, .. } | Reply::Ambiguous { tag, .. } | Reply::Stopped { tag, .. })
                if tag.attempt != self.attempt =>
            {
                None
            }
            Some(Reply::Final { tag, status, body }) => self.on_page(tag, status, &body, now),
            // Reads are safe to repeat, so the policy never calls one ambiguous; stop rather than guess.
            Some(Reply::Ambiguous { .. }) => Some(Err(Failure::GaveUp("Spotify could not be reached.".into()))),
            Some(Reply::Stopped { stop, .. }) => Some(Err(stop.into())),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{config, drive, policy, Fake, Fault, Route};

    fn list(fake: &mut Fake) -> (Result<Vec<PlaylistSummary>, Failure>, u64) {
        let mut machine = MyPlaylists::new(&config(), policy(), true, 7, 0);
        drive(&mut machine, fake, 0)
    }

    fn names(lists: &[PlaylistSummary]) -> Vec<String> {
        lists.iter().map(|p| p.name.clone()).collect()
    }

    /// The names of the library's playlists, newest first.
    fn expected(range: std::ops::Range<usize>) -> Vec<String> {
        range.rev().map(|n| format!("List {n}")).collect()
    }

    #[test]
    fn every_page_in_order_the_rest_at_once() {
        let mut fake = Fake::owned(Vec::new()).library(120);
        let (lists, _) = list(&mut fake);
        assert_eq!(names(&lists.expect("listed")), expected(0..120));
        let pages: Vec<u64> = fake.log.iter().map(|(t, _, _)| *t).collect();
        // The first page, then the other two together (one round trip later).
        assert_eq!(pages.len(), 3);
        assert_eq!(pages[1], pages[2]);
        assert!(pages[1] > pages[0]);
    }

    #[test]
    fn an_empty_library_is_one_request() {
        let mut fake = Fake::owned(Vec::new()).library(0);
        let (lists, _) = list(&mut fake);
        assert_eq!(lists.expect("listed"), Vec::new());
        assert_eq!(fake.count(Route::MyPlaylists), 1);
    }

    #[test]
    fn a_429_waits_retry_after_and_a_5xx_is_retried() {
        let mut fake = Fake::owned(Vec::new())
            .library(60)
            .fault(Route::MyPlaylists, Fault::Status(429, Some(5)))
            .fault(Route::MyPlaylists, Fault::Status(503, None))
            .fault(Route::MyPlaylists, Fault::HiddenRateLimit);
        let (lists, _) = list(&mut fake);
        assert_eq!(names(&lists.expect("listed")), expected(0..60));
        assert_eq!(fake.count(Route::MyPlaylists), 5);
        let limited = fake.log.iter().find(|(_, _, s)| *s == 429).map(|(t, _, _)| *t).expect("a 429");
        assert!(fake.log.iter().filter(|(t, _, _)| *t > limited).all(|(t, _, _)| *t >= limited + 5_000));
    }

    #[test]
    fn a_list_that_changes_between_pages_is_read_again() {
        // After the first page is served, a playlist is created: the next page reports 121.
        let mut fake = Fake::owned(Vec::new()).library(120);
        fake.library_edits.push_back((1, 121));
        let (lists, _) = list(&mut fake);
        assert_eq!(names(&lists.expect("listed")), expected(0..121));
        // Three pages, then all three of the second reading.
        assert_eq!(fake.count(Route::MyPlaylists), 6);
    }

    #[test]
    fn a_list_that_keeps_changing_is_shown_as_last_read_each_playlist_once() {
        let mut fake = Fake::owned(Vec::new()).library(60);
        for (after, total) in [(1, 61), (3, 62), (5, 63)] {
            fake.library_edits.push_back((after, total));
        }
        let (lists, _) = list(&mut fake);
        let got = names(&lists.expect("listed"));
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "each playlist once: {got:?}");
        assert_eq!(fake.count(Route::MyPlaylists), 2 * MAX_LOAD_ATTEMPTS);
    }

    #[test]
    fn an_error_a_retry_cannot_change_ends_the_listing() {
        let mut fake = Fake::owned(Vec::new()).library(120).fault(Route::MyPlaylists, Fault::Status(401, None));
        let (lists, _) = list(&mut fake);
        assert!(matches!(lists, Err(Failure::Api { status: 401, .. })), "{lists:?}");
        assert_eq!(fake.count(Route::MyPlaylists), 1, "nothing more is asked once it failed");
    }
}
