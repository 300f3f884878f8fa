//! Every path of a load, against the in-memory Spotify of [`crate::fake`].

use super::*;
use crate::fake::{config, drive, policy, tracks, Fake, Fault, Route, PLAYLIST};

fn load(fake: &mut Fake) -> (Result<Loaded, Failure>, u64) {
    let id = PlaylistId::parse(PLAYLIST).expect("id");
    let mut machine = Load::new(&config(), id, None, policy(), true, 7, 0);
    drive(&mut machine, fake, 0)
}

fn uris(loaded: &Loaded) -> Vec<crate::TrackUri> {
    loaded.entries.iter().filter_map(|e| e.uri.clone()).collect()
}

#[test]
fn load_reads_every_page_then_rechecks_the_snapshot() {
    let mut fake = Fake::owned(tracks(0..120));
    let (loaded, _) = load(&mut fake);
    let loaded = loaded.expect("loaded");
    assert_eq!(uris(&loaded), tracks(0..120));
    assert_eq!(loaded.read_only, None);
    assert_eq!(loaded.snapshot.as_ref().map(|s| s.as_str()), Some("snap1"));
    assert_eq!(loaded.me.as_str(), "ada");
    // One round trip for who, what and the first page; two more pages; the re-check.
    assert_eq!((fake.count(Route::Me), fake.count(Route::Items), fake.count(Route::Details)), (1, 3, 2));
    assert_eq!(fake.log[..3].iter().map(|(t, _, _)| *t).collect::<Vec<_>>(), [0, 0, 0]);
}

#[test]
fn load_honours_retry_after_on_a_429() {
    // The 429 answers who the user is; the other pages become known meanwhile and must wait too.
    let mut fake = Fake::owned(tracks(0..120)).fault(Route::Me, Fault::Status(429, Some(8)));
    let (loaded, _) = load(&mut fake);
    assert_eq!(uris(&loaded.expect("loaded")).len(), 120);
    assert_eq!(fake.count(Route::Me), 2);
    let limited = fake.log.iter().find(|(_, _, s)| *s == 429).map(|(t, _, _)| *t).expect("a 429");
    // Nothing at all goes out before the 8 s Spotify asked for: the gate holds every request.
    for (t, route, _) in fake.log.iter().filter(|(t, _, _)| *t > limited) {
        assert!(*t >= limited + 8_000, "{route:?} at {t}, 429 at {limited}");
    }
}

#[test]
fn load_backs_off_a_429_without_cors() {
    let mut fake = Fake::owned(tracks(0..60))
        .fault(Route::Items, Fault::HiddenRateLimit)
        .fault(Route::Items, Fault::HiddenRateLimit)
        .fault(Route::Items, Fault::HiddenRateLimit);
    let (loaded, _) = load(&mut fake);
    assert_eq!(uris(&loaded.expect("loaded")).len(), 60);
    let pages: Vec<u64> = fake.log.iter().filter(|(_, r, _)| *r == Route::Items).map(|(t, _, _)| *t).collect();
    // The first page four times with a growing backoff, then the second page: backoff, no error loop.
    assert_eq!(pages.len(), 5, "{pages:?}");
    let gaps: Vec<u64> = pages.windows(2).take(3).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= 250 && gaps[1] >= 500 && gaps[2] >= 1_000, "{gaps:?}");
}

#[test]
fn load_holds_every_request_after_a_429_without_cors() {
    // A lost answer from the API host may be a 429 whose CORS headers are missing: everyone backs off.
    let mut fake = Fake::owned(tracks(0..120)).fault(Route::Me, Fault::HiddenRateLimit);
    let (loaded, _) = load(&mut fake);
    assert_eq!(uris(&loaded.expect("loaded")).len(), 120);
    let lost = fake.log.iter().find(|(_, _, s)| *s == 0).map(|(t, _, _)| *t).expect("a lost answer");
    let backoff = crate::sync::retry::backoff_ms(&policy(), 1, 0.0);
    for (t, route, _) in fake.log.iter().filter(|(t, _, _)| *t > lost) {
        assert!(*t >= lost + backoff, "{route:?} at {t}, lost answer at {lost}");
    }
}

#[test]
fn load_stops_on_a_retry_after_beyond_the_cap() {
    let mut fake = Fake::owned(tracks(0..60)).fault(Route::Items, Fault::Status(429, Some(3_600)));
    let (loaded, _) = load(&mut fake);
    assert_eq!(loaded, Err(Failure::RateLimited { resume_in_secs: 3_600 }));
}

#[test]
fn load_retries_a_5xx_on_a_page() {
    let mut fake = Fake::owned(tracks(0..120)).fault(Route::Items, Fault::Status(503, None));
    let (loaded, _) = load(&mut fake);
    assert_eq!(uris(&loaded.expect("loaded")), tracks(0..120));
    assert_eq!(fake.count(Route::Items), 4);
}

#[test]
fn load_retries_a_dropped_read() {
    let mut fake = Fake::owned(tracks(0..120)).fault(Route::Details, Fault::Drop);
    let (loaded, _) = load(&mut fake);
    assert_eq!(uris(&loaded.expect("loaded")), tracks(0..120));
    assert_eq!(fake.count(Route::Details), 3);
}

#[test]
fn load_gives_up_after_the_policys_attempts() {
    let mut fake = Fake::owned(tracks(0..10));
    for _ in 0..policy().max_attempts {
        fake = fake.fault(Route::Me, Fault::Status(500, None));
    }
    let (loaded, _) = load(&mut fake);
    assert!(matches!(loaded, Err(Failure::GaveUp(_))), "{loaded:?}");
}

#[test]
fn load_starts_over_when_the_snapshot_moves_during_it() {
    let mut fake = Fake::owned(tracks(0..120));
    // Someone adds a track after the last page was served: only the re-check can tell.
    fake.edits.push_back((5, tracks(0..121)));
    let (loaded, _) = load(&mut fake);
    let loaded = loaded.expect("loaded");
    assert_eq!(uris(&loaded), tracks(0..121), "the second attempt's pages, not a mix");
    assert_eq!(loaded.snapshot.as_ref().map(|s| s.as_str()), Some("snap2"));
    assert_eq!(fake.count(Route::Me), 1, "who the user is does not change");
}

#[test]
fn load_starts_over_when_a_page_reports_another_total() {
    let mut fake = Fake::owned(tracks(0..120));
    // Someone adds a track after the second page was served; the third page says 121.
    fake.edits.push_back((4, tracks(0..121)));
    let (loaded, _) = load(&mut fake);
    assert_eq!(uris(&loaded.expect("loaded")), tracks(0..121));
    assert_eq!(fake.count(Route::Details), 3, "details twice in the second attempt, once in the first");
}

#[test]
fn load_gives_up_when_the_playlist_keeps_changing() {
    let mut fake = Fake::owned(tracks(0..10));
    for n in 0..MAX_LOAD_ATTEMPTS {
        // Each attempt's last page is followed by an edit, so every re-check sees a new snapshot.
        fake.edits.push_back((3 + 3 * n, tracks(0..11 + n)));
    }
    let (loaded, _) = load(&mut fake);
    assert_eq!(loaded, Err(Failure::KeepsChanging));
    assert_eq!(fake.count(Route::Details), 2 * MAX_LOAD_ATTEMPTS);
}

#[test]
fn load_of_someone_elses_playlist_is_read_only_despite_the_403() {
    let mut fake = Fake::owned(tracks(0..10));
    fake.owner = "bob".into();
    let (loaded, _) = load(&mut fake);
    let loaded = loaded.expect("loaded");
    assert!(loaded.entries.is_empty());
    assert!(loaded.read_only.as_deref().is_some_and(|r| r.starts_with("Read-only: this playlist belongs to BOB")));
}

#[test]
fn load_403_on_an_editable_playlist_is_a_failure() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Items, Fault::Status(403, None));
    let (loaded, _) = load(&mut fake);
    assert!(matches!(loaded, Err(Failure::Api { status: 403, .. })), "{loaded:?}");
}

#[test]
fn load_of_a_collaborative_playlist_is_editable() {
    let mut fake = Fake::owned(tracks(0..10));
    fake.owner = "bob".into();
    fake.collaborative = true;
    let (loaded, _) = load(&mut fake);
    let loaded = loaded.expect("loaded");
    assert_eq!(loaded.read_only, None);
    assert_eq!(uris(&loaded), tracks(0..10));
}
