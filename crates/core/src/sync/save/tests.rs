//! Every path of a save, against the in-memory Spotify of [`crate::fake`]. Each test loads with the real load
//! machine, edits with the real editor, and checks what Spotify ends up holding, not only what the save says.

use super::*;
use crate::fake::{config, drive, policy, t, tracks, Fake, Fault, Route, PLAYLIST};
use crate::ids::PlaylistId;
use crate::sync::load::Load;

fn load(fake: &mut Fake) -> Loaded {
    let id = PlaylistId::parse(PLAYLIST).expect("id");
    let mut machine = Load::new(&config(), id, None, policy(), true, 7, 0);
    let loaded = drive(&mut machine, fake, 0).0.expect("loaded");
    fake.log.clear();
    loaded
}

fn editor(loaded: &Loaded) -> Editor {
    Editor::new(loaded.entries.clone(), loaded.meta.clone())
}

fn save(fake: &mut Fake, loaded: &Loaded, editor: &Editor) -> Result<SaveEnd, Failure> {
    let mut machine = Save::new(&config(), loaded, editor, policy(), true, 11, 1_000);
    drive(&mut machine, fake, 1_000).0
}

fn saved(end: Result<SaveEnd, Failure>) -> Saved {
    match end {
        Ok(SaveEnd::Saved(saved)) => saved,
        other => panic!("not saved: {other:?}"),
    }
}

fn entry(n: usize) -> PlaylistEntry {
    PlaylistEntry::from_uri(t(n))
}

/// The playlist 0..10 with track 100 inserted at 4: one positioned add.
fn with_add(fake: &mut Fake) -> (Loaded, Editor, Vec<TrackUri>) {
    let loaded = load(fake);
    let mut e = editor(&loaded);
    e.insert_at(4, vec![entry(100)]);
    let mut want = tracks(0..10);
    want.insert(4, t(100));
    (loaded, e, want)
}

/// The playlist 0..10 without track 3: one remove.
fn with_remove(fake: &mut Fake) -> (Loaded, Editor, Vec<TrackUri>) {
    let loaded = load(fake);
    let mut e = editor(&loaded);
    e.remove_at(&[3]);
    let want: Vec<TrackUri> = tracks(0..10).into_iter().filter(|u| *u != t(3)).collect();
    (loaded, e, want)
}

/// The playlist 0..10 with track 7 moved to the front: one reorder.
fn with_reorder(fake: &mut Fake) -> (Loaded, Editor, Vec<TrackUri>) {
    let loaded = load(fake);
    let mut e = editor(&loaded);
    e.move_at(&[7], 0);
    let mut want = tracks(0..10);
    let moved = want.remove(7);
    want.insert(0, moved);
    (loaded, e, want)
}

/// The playlist 0..10 replaced by 50..60: one replace.
fn with_replace(fake: &mut Fake) -> (Loaded, Editor, Vec<TrackUri>) {
    let loaded = load(fake);
    let mut e = editor(&loaded);
    e.replace_all((50..60).map(entry).collect());
    (loaded, e, tracks(50..60))
}

#[test]
fn save_writes_the_plan_and_verifies() {
    let mut fake = Fake::owned(tracks(0..10));
    let (loaded, mut e, want) = with_add(&mut fake);
    e.set_name("Renamed".into());
    let saved = saved(save(&mut fake, &loaded, &e));
    assert!(saved.verified);
    assert_eq!((saved.calls, saved.rereads, saved.repairs), (2, 0, 0));
    assert_eq!(fake.uris, want);
    assert_eq!(fake.name, "Renamed");
    let routes: Vec<Route> = fake.log.iter().map(|(_, r, _)| *r).collect();
    assert_eq!(routes[..3], [Route::Details, Route::ChangeDetails, Route::Add], "snapshot check first");
}

#[test]
fn save_refuses_when_the_snapshot_moved_before_saving() {
    let mut fake = Fake::owned(tracks(0..10));
    let (loaded, e, _) = with_add(&mut fake);
    fake.uris.push(t(99));
    fake.snapshot += 1;
    assert_eq!(save(&mut fake, &loaded, &e), Ok(SaveEnd::Conflict));
    assert_eq!(fake.writes(), 0, "nothing written");
}

#[test]
fn save_waits_out_a_429_on_a_write_then_sends_it_once() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Add, Fault::Status(429, Some(5)));
    let (loaded, e, want) = with_add(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert!(saved.verified);
    assert_eq!(fake.uris, want);
    let adds: Vec<u64> = fake.log.iter().filter(|(_, r, _)| *r == Route::Add).map(|(t, _, _)| *t).collect();
    assert_eq!(adds.len(), 2);
    assert!(adds[1] >= adds[0] + 5_000, "{adds:?}");
    assert_eq!(saved.rereads, 0, "a 429 was not applied: no re-read needed");
}

#[test]
fn save_429_without_cors_on_an_add_rereads_instead_of_replaying() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Add, Fault::HiddenRateLimit);
    let (loaded, e, want) = with_add(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert!(saved.verified);
    assert_eq!(fake.uris, want);
    assert_eq!(saved.rereads, 1);
    assert_eq!(fake.count(Route::Add), 2, "sent again only after the re-read showed it missing");
}

#[test]
fn save_add_5xx_rereads_and_sends_it_again() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Add, Fault::Status(503, None));
    let (loaded, e, want) = with_add(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads, saved.repairs), (true, 1, 0), "re-planned from the re-read, not repaired after");
    assert_eq!(fake.uris, want);
    assert_eq!(fake.count(Route::Add), 2);
}

#[test]
fn save_add_applied_then_dropped_is_not_replayed() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Add, Fault::DropAfter);
    let (loaded, e, want) = with_add(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads, saved.repairs), (true, 1, 0), "re-planned from the re-read, not repaired after");
    assert_eq!(fake.uris, want, "no duplicate");
    assert_eq!(fake.count(Route::Add), 1);
}

#[test]
fn save_remove_5xx_rereads_and_sends_it_again() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Remove, Fault::Status(500, None));
    let (loaded, e, want) = with_remove(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads, saved.repairs), (true, 1, 0), "re-planned from the re-read, not repaired after");
    assert_eq!(fake.uris, want);
    assert_eq!(fake.count(Route::Remove), 2);
}

#[test]
fn save_remove_applied_then_dropped_is_not_replayed() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Remove, Fault::DropAfter);
    let (loaded, e, want) = with_remove(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads, saved.repairs), (true, 1, 0), "re-planned from the re-read, not repaired after");
    assert_eq!(fake.uris, want);
    assert_eq!(fake.count(Route::Remove), 1);
}

#[test]
fn save_reorder_5xx_rereads_and_sends_it_again() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Reorder, Fault::Status(502, None));
    let (loaded, e, want) = with_reorder(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads, saved.repairs), (true, 1, 0), "re-planned from the re-read, not repaired after");
    assert_eq!(fake.uris, want);
    assert_eq!(fake.count(Route::Reorder), 2);
}

#[test]
fn save_reorder_applied_then_dropped_is_not_replayed() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Reorder, Fault::DropAfter);
    let (loaded, e, want) = with_reorder(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads, saved.repairs), (true, 1, 0), "re-planned from the re-read, not repaired after");
    assert_eq!(fake.uris, want, "moved once, not twice");
    assert_eq!(fake.count(Route::Reorder), 1);
}

#[test]
fn save_reorder_applied_then_5xx_is_not_replayed() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Reorder, Fault::AppliedThen5xx);
    let (loaded, e, want) = with_reorder(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads, saved.repairs), (true, 1, 0), "re-planned from the re-read, not repaired after");
    assert_eq!(fake.uris, want);
    assert_eq!(fake.count(Route::Reorder), 1);
}

#[test]
fn save_replace_5xx_and_drop_are_retried_without_a_reread() {
    let mut fake = Fake::owned(tracks(0..10))
        .fault(Route::Replace, Fault::Status(503, None))
        .fault(Route::Replace, Fault::DropAfter);
    let (loaded, e, want) = with_replace(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads), (true, 0));
    assert_eq!(fake.uris, want);
    assert_eq!(fake.count(Route::Replace), 3, "a replace sets a state: resending it is harmless");
}

#[test]
fn save_details_5xx_and_drop_are_retried_without_a_reread() {
    let mut fake = Fake::owned(tracks(0..10))
        .fault(Route::ChangeDetails, Fault::Status(500, None))
        .fault(Route::ChangeDetails, Fault::Drop);
    let loaded = load(&mut fake);
    let mut e = editor(&loaded);
    e.set_description("new words".into());
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.rereads), (true, 0));
    assert_eq!(fake.description, "new words");
    assert_eq!(fake.count(Route::ChangeDetails), 3);
}

#[test]
fn save_5xx_on_the_snapshot_check_is_retried() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Details, Fault::Status(503, None));
    let (loaded, e, want) = with_add(&mut fake);
    assert!(saved(save(&mut fake, &loaded, &e)).verified);
    assert_eq!(fake.uris, want);
}

#[test]
fn save_repairs_a_write_the_browser_resent() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Add, Fault::Resent);
    let (loaded, e, want) = with_add(&mut fake);
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.repairs), (true, 1));
    assert_eq!(fake.uris, want, "the duplicate was taken out");
}

#[test]
fn save_verification_repairs_someone_elses_edit_between_writes() {
    let mut fake = Fake::owned(tracks(0..10));
    let (loaded, e, want) = with_remove(&mut fake);
    // After the snapshot check and the remove, another device puts track 3 back.
    let mut meddled = want.clone();
    meddled.push(t(3));
    fake.edits.push_back((2, meddled));
    let saved = saved(save(&mut fake, &loaded, &e));
    assert_eq!((saved.verified, saved.repairs), (true, 1));
    assert_eq!(fake.uris, want);
}

#[test]
fn save_reread_starts_over_when_the_snapshot_moves_during_it() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Add, Fault::DropAfter);
    let (loaded, e, want) = with_add(&mut fake);
    // During the re-read after the lost answer, another device appends track 77.
    let mut moved = want.clone();
    moved.push(t(77));
    fake.edits.push_back((4, moved));
    let saved = saved(save(&mut fake, &loaded, &e));
    assert!(saved.verified);
    assert_eq!(fake.uris, want);
    // The check, the re-read twice (details and re-check each), the read-back.
    assert_eq!(fake.count(Route::Details), 1 + 2 + 2 + 2, "the re-read started over");
    assert_eq!(saved.repairs, 0, "planned from the settled re-read, nothing left to repair");
}

#[test]
fn save_stops_after_max_rereads() {
    let mut fake = Fake::owned(tracks(0..10));
    for _ in 0..=MAX_REREADS {
        fake = fake.fault(Route::Add, Fault::Status(503, None));
    }
    let (loaded, e, _) = with_add(&mut fake);
    assert_eq!(save(&mut fake, &loaded, &e), Err(Failure::Unconfirmed { rereads: MAX_REREADS }));
    assert_eq!(fake.count(Route::Add), MAX_REREADS + 1);
}

#[test]
fn save_client_error_on_a_write_is_a_failure() {
    let mut fake = Fake::owned(tracks(0..10)).fault(Route::Remove, Fault::Status(400, None));
    let (loaded, e, _) = with_remove(&mut fake);
    assert!(matches!(save(&mut fake, &loaded, &e), Err(Failure::Api { status: 400, .. })));
    assert_eq!(fake.count(Route::Remove), 1);
}
