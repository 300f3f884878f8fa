use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;
use crate::edit::editor::{Editor, Meta};
use crate::edit::model::apply_all;

fn uri(n: u32) -> TrackUri {
    TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("valid")
}

fn song(n: u32, name: &str, artists: &str, ms: u32) -> PlaylistEntry {
    PlaylistEntry {
        name: name.to_owned(),
        artists: artists.to_owned(),
        album: format!("Album {n}"),
        duration_ms: Some(ms),
        ..PlaylistEntry::from_uri(uri(n))
    }
}

fn editor(entries: Vec<PlaylistEntry>) -> Editor {
    Editor::new(entries, Meta { name: "Mix".into(), ..Meta::default() })
}

// --- Duplicates ------------------------------------------------------------------------------------

#[test]
fn exact_recording_and_likely_duplicates_group_with_their_kind() {
    let mut remaster = song(2, "Hey Jude - Remastered 2015", "The Beatles", 431_000);
    remaster.isrc = Some("GBAYE0601498".into());
    let mut original = song(1, "Hey Jude", "The Beatles", 431_333);
    original.isrc = Some("GBAYE0601498".into());
    let live = song(3, "Hey Jude - Live", "The Beatles", 431_000);
    let cover = song(4, "Hey Jude", "Someone Else", 431_000);
    let longer_edit = song(5, "Hey Jude", "The Beatles", 440_000);
    let other = song(6, "Let It Be", "The Beatles", 243_000);
    let likely = song(7, "Let It Be (2009 Remaster)", "the beatles", 244_500);
    let e = editor(vec![
        original.clone(),
        other.clone(),
        remaster,
        live,
        original.clone(),
        cover,
        longer_edit,
        likely,
    ]);
    let keys: Vec<u64> = e.rows().iter().map(|r| r.key).collect();
    let groups = find_duplicates(e.rows(), DuplicateOptions::default());
    assert_eq!(
        groups,
        [
            DuplicateGroup { kind: Match::SameRecording, keys: vec![keys[0], keys[2], keys[4]], keep: keys[0] },
            DuplicateGroup { kind: Match::Likely, keys: vec![keys[1], keys[7]], keep: keys[1] },
        ]
    );
    // Exact only.
    let exact = DuplicateOptions { same_recording: false, likely: false, keep: Keep::FirstAdded };
    assert_eq!(
        find_duplicates(e.rows(), exact),
        [DuplicateGroup { kind: Match::SameTrack, keys: vec![keys[0], keys[4]], keep: keys[0] }]
    );
    // ISRC but not likely: the remaster joins by ISRC; Let It Be has no ISRC.
    let recording = DuplicateOptions { likely: false, ..DuplicateOptions::default() };
    assert_eq!(find_duplicates(e.rows(), recording).len(), 1);
}

#[test]
fn likely_needs_lengths_within_two_seconds() {
    let e = editor(vec![
        song(1, "Song", "A", 200_000),
        song(2, "Song", "A", 202_000),
        song(3, "Song", "A", 204_001),
        song(4, "Song", "A", 300_000),
    ]);
    let groups = find_duplicates(e.rows(), DuplicateOptions::default());
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].keys.len(), 2, "202,000 to 204,001 is more than 2 s");
    let mut unknown = song(5, "Song", "A", 0);
    unknown.duration_ms = None;
    let e = editor(vec![song(1, "Song", "A", 200_000), unknown]);
    assert!(find_duplicates(e.rows(), DuplicateOptions::default()).is_empty(), "no length, no likely match");
}

#[test]
fn the_kept_copy_is_the_first_added_or_the_most_popular() {
    let mut late = song(1, "X", "A", 1_000);
    late.added_at = Some("2024-05-01T00:00:00Z".into());
    late.popularity = Some(90);
    let mut early = song(1, "X", "A", 1_000);
    early.added_at = Some("2021-01-01T00:00:00Z".into());
    early.popularity = Some(10);
    let mut unknown = song(1, "X", "A", 1_000);
    unknown.popularity = Some(50);
    let e = editor(vec![late, unknown, early]);
    let keys: Vec<u64> = e.rows().iter().map(|r| r.key).collect();
    let first = find_duplicates(e.rows(), DuplicateOptions::default());
    assert_eq!(first[0].keep, keys[2], "added in 2021");
    let popular = find_duplicates(e.rows(), DuplicateOptions { keep: Keep::MostPopular, ..DuplicateOptions::default() });
    assert_eq!(popular[0].keep, keys[0], "popularity 90");
    assert_eq!(popular[0].others(keys[0]).collect::<Vec<_>>(), [keys[1], keys[2]]);
}

#[test]
fn local_files_and_gone_entries_are_never_duplicates() {
    let local = PlaylistEntry::from_uri(TrackUri::parse("spotify:local:A:B:Song:200").expect("valid"));
    let gone = PlaylistEntry { uri: None, kind: None, ..song(9, "Song", "A", 200_000) };
    let e = editor(vec![local.clone(), local, gone.clone(), gone, song(1, "Song", "A", 200_000)]);
    assert!(find_duplicates(e.rows(), DuplicateOptions::default()).is_empty());
}

// --- Sorting ---------------------------------------------------------------------------------------

#[test]
fn sorts_by_each_key_stably_with_missing_values_last() {
    let mut a = song(1, "banana", "The Zombies", 300_000);
    a.album = String::new();
    a.release_date = Some("1968".into());
    a.added_at = Some("2020-01-02T00:00:00Z".into());
    let mut b = song(2, "Apple", "abba", 100_000);
    b.release_date = Some("1976-10-11".into());
    let mut c = song(3, "apple", "Beatles", 200_000);
    c.release_date = Some("1968-11-22".into());
    c.added_at = Some("2020-01-01T00:00:00Z".into());
    let e = editor(vec![a, b, c]);
    let order = |key, descending| -> Vec<String> {
        let keys = sorted_order(e.rows(), key, descending, None);
        keys.iter().map(|k| e.rows()[e.index_of(*k).expect("key")].entry.name.clone()).collect()
    };
    assert_eq!(order(SortKey::Title, false), ["Apple", "apple", "banana"], "ties keep their order");
    assert_eq!(order(SortKey::Title, true), ["banana", "Apple", "apple"], "ties keep their order descending too");
    assert_eq!(order(SortKey::Artist, false), ["Apple", "apple", "banana"], "abba, Beatles, (The) Zombies");
    assert_eq!(order(SortKey::Album, false), ["Apple", "apple", "banana"], "no album goes last");
    assert_eq!(order(SortKey::Album, true), ["apple", "Apple", "banana"], "no album goes last descending too");
    assert_eq!(order(SortKey::DateAdded, false), ["apple", "banana", "Apple"]);
    assert_eq!(order(SortKey::ReleaseDate, false), ["banana", "apple", "Apple"]);
    assert_eq!(order(SortKey::Duration, true), ["banana", "apple", "Apple"]);
}

#[test]
fn sorting_a_selection_keeps_everything_else_in_place() {
    let e = editor((0..6).map(|n| song(n, &format!("{}", 9 - n), "A", 1_000)).collect());
    let keys: Vec<u64> = e.rows().iter().map(|r| r.key).collect();
    let only: HashSet<u64> = [keys[1], keys[3], keys[4]].into();
    let order = sorted_order(e.rows(), SortKey::Title, false, Some(&only));
    assert_eq!(order, [keys[0], keys[4], keys[2], keys[3], keys[1], keys[5]]);
    let reversed = reversed_order(e.rows(), Some(&only));
    assert_eq!(reversed, [keys[0], keys[4], keys[2], keys[3], keys[1], keys[5]]);
    assert_eq!(reversed_order(e.rows(), None), keys.iter().rev().copied().collect::<Vec<_>>());
}

// --- Filter, merge, unavailable --------------------------------------------------------------------

#[test]
fn the_filter_matches_every_term_anywhere_ignoring_case() {
    let entry = song(1, "Hey Jude", "The Beatles", 1);
    assert!(matches_filter(&entry, ""));
    assert!(matches_filter(&entry, "  jude  BEAT "));
    assert!(matches_filter(&entry, "album 1"));
    assert!(!matches_filter(&entry, "jude stones"));
    let e = editor(vec![song(1, "Hey Jude", "The Beatles", 1), song(2, "Angie", "The Rolling Stones", 1)]);
    assert_eq!(filtered_keys(e.rows(), "the"), [e.rows()[0].key, e.rows()[1].key]);
    assert_eq!(filtered_keys(e.rows(), "STONES"), [e.rows()[1].key]);
    assert!(filtered_keys(e.rows(), "zzz").is_empty());
    assert_eq!(filtered_keys(e.rows(), " "), [e.rows()[0].key, e.rows()[1].key], "a blank query shows every row");
    assert_eq!(filtered_indices(e.rows(), "STONES"), Some(vec![1]));
    assert_eq!(filtered_indices(e.rows(), " \t"), None);
}

#[test]
fn merge_appends_what_can_be_added_skipping_duplicates_when_asked() {
    let e = editor(vec![song(1, "a", "A", 1), song(2, "b", "A", 1)]);
    let local = PlaylistEntry::from_uri(TrackUri::parse("spotify:local:A:B:C:1").expect("valid"));
    let other = vec![song(2, "b", "A", 1), song(3, "c", "A", 1), song(3, "c", "A", 1), local];
    let all = merge_entries(e.rows(), &other, false);
    assert_eq!((all.entries.len(), all.skipped_duplicates, all.skipped_unaddable), (3, 0, 1));
    let new_only = merge_entries(e.rows(), &other, true);
    assert_eq!(new_only.entries, [song(3, "c", "A", 1)]);
    assert_eq!((new_only.skipped_duplicates, new_only.skipped_unaddable), (2, 1));
}

#[test]
fn unavailable_rows_are_gone_or_not_playable_never_local() {
    let gone = PlaylistEntry { uri: None, kind: None, ..song(9, "", "", 1) };
    let mut blocked = song(2, "b", "A", 1);
    blocked.playable = Some(false);
    let mut fine = song(3, "c", "A", 1);
    fine.playable = Some(true);
    let local = PlaylistEntry::from_uri(TrackUri::parse("spotify:local:A:B:C:1").expect("valid"));
    let e = editor(vec![song(1, "a", "A", 1), gone, blocked, fine, local]);
    let keys: Vec<u64> = e.rows().iter().map(|r| r.key).collect();
    assert_eq!(unavailable(e.rows()), [(keys[1], Unavailable::Gone), (keys[2], Unavailable::NotPlayable)]);
}

/// Removing entries Spotify no longer has is saved as a replace of the whole list; with a local file in the
/// list the editor refuses, since a replace would drop it.
#[test]
fn removing_gone_entries_plans_a_replace_and_refuses_with_local_files() {
    let gone = PlaylistEntry { uri: None, kind: None, ..song(9, "", "", 1) };
    let mut e = editor(vec![song(1, "a", "A", 1), gone.clone(), song(2, "b", "A", 1)]);
    let key = e.rows()[1].key;
    assert_eq!(e.remove(&[key]), 0, "an ordinary remove leaves it");
    let first = e.rows()[0].key;
    assert_eq!(e.remove_unavailable(&[key, first]), 2, "in one edit");
    let ops = e.plan().expect("plan");
    assert_eq!(ops, [crate::Op::Replace { uris: vec![uri(2)] }]);
    assert!(e.undo());
    assert_eq!(e.plan().expect("plan"), []);
    assert_eq!(e.len(), 3, "one undo brings both back");

    let local = PlaylistEntry::from_uri(TrackUri::parse("spotify:local:A:B:C:1").expect("valid"));
    let mut e = editor(vec![local, gone, song(1, "a", "A", 1)]);
    let (key, other) = (e.rows()[1].key, e.rows()[2].key);
    assert_eq!(e.remove_unavailable(&[key]), 0);
    assert!(!e.is_dirty());
    assert_eq!(e.remove_unavailable(&[key, other]), 1, "the ordinary row goes, the gone one stays");
    assert_eq!(e.plan().expect("plan").len(), 1);
}

// --- Backups ---------------------------------------------------------------------------------------

#[test]
fn csv_export_quotes_and_guards_and_reads_back() {
    let mut tricky = song(1, "Hello, \"World\"\nPart 2", "=HYPERLINK(\"x\")", 61_000);
    tricky.isrc = Some("USRC17607839".into());
    tricky.added_at = Some("2024-01-02T03:04:05Z".into());
    tricky.added_by = Some("alice".into());
    let gone = PlaylistEntry { uri: None, kind: None, ..song(9, "gone", "", 1) };
    let e = editor(vec![tricky.clone(), song(2, " padded ", "-minus", 1_000), gone]);
    let csv = export_csv(e.rows());
    assert!(csv.starts_with("position,title,artists,album,duration_ms,isrc,uri,added_at,added_by\r\n"));
    assert!(csv.contains("\"Hello, \"\"World\"\"\nPart 2\",\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
    let back = parse_backup(&csv).expect("reads back");
    assert_eq!(back.entries.len(), 2);
    assert_eq!(back.entries[0].name, tricky.name);
    assert_eq!(back.entries[0].artists, tricky.artists, "the guard is removed");
    assert_eq!(back.entries[0].isrc, tricky.isrc);
    assert_eq!(back.entries[0].added_at, tricky.added_at);
    assert_eq!(back.entries[1].name, " padded ");
    assert_eq!(back.entries[1].artists, "-minus");
    assert_eq!(back.skipped, [Skipped { at: "line 5".into(), why: "no URI".into() }], "the multi-line cell spans 2 lines");
}

#[test]
fn json_export_reads_back_and_other_shapes_are_understood() {
    let e = editor(vec![song(1, "a", "A", 1), song(2, "b", "B", 2)]);
    let json = export_json(e.rows(), "pl", "My list", "desc");
    let back = parse_backup(&json).expect("reads back");
    assert_eq!(back.name.as_deref(), Some("My list"));
    assert_eq!(back.entries, e.rows().iter().map(|r| r.entry.clone()).collect::<Vec<_>>());
    let plain = format!("[\"{}\", \"https://open.spotify.com/track/{:0>22}\", 7]", uri(1).as_str(), 2);
    let back = parse_backup(&plain).expect("array of URIs");
    assert_eq!(back.entries.iter().map(|e| e.uri.clone().expect("uri")).collect::<Vec<_>>(), [uri(1), uri(2)]);
    assert_eq!(back.skipped, [Skipped { at: "item 3".into(), why: "no URI".into() }]);
}

#[test]
fn other_tools_csv_columns_are_found_by_name() {
    let exportify = format!(
        "\u{feff}\"Track URI\",\"Track Name\",\"Artist Name(s)\",\"Album Name\",\"Track Duration (ms)\"\n\
         \"{}\",\"Song\",\"Artist\",\"Album\",\"183000\"\n\n\"spotify:local:a:b:c:1\",\"L\",\"\",\"\",\"\"\n",
        uri(4).as_str()
    );
    let back = parse_backup(&exportify).expect("exportify");
    assert_eq!(back.entries.len(), 1);
    let entry = &back.entries[0];
    assert_eq!((entry.name.as_str(), entry.artists.as_str(), entry.duration_ms), ("Song", "Artist", Some(183_000)));
    assert_eq!(back.skipped.len(), 1);
    assert!(back.skipped[0].why.contains("local file"), "{:?}", back.skipped);
}

#[test]
fn bad_files_get_clear_errors_that_quote_no_cell() {
    assert_eq!(parse_backup(""), Err(BackupError::Empty));
    assert_eq!(parse_backup("  \n"), Err(BackupError::Empty));
    assert!(matches!(parse_backup("{not json"), Err(BackupError::Json(_))));
    assert_eq!(parse_backup("{\"a\": 1}"), Err(BackupError::NoItems));
    let err = parse_backup("title,artist\nsecret-value,x\n").expect_err("no uri column");
    assert_eq!(err, BackupError::NoUriColumn("title, artist".into()));
    assert!(!err.to_string().contains("secret-value"));
    assert_eq!(parse_backup("uri\n\"spotify:track:x"), Err(BackupError::UnclosedQuote(2)));
    assert_eq!(parse_backup("uri\nnot-a-uri\n"), Err(BackupError::NothingUsable(1)));
    let many: String = std::iter::once("uri".to_owned()).chain((0..10_001).map(|n| uri(n).as_str().to_owned())).collect::<Vec<_>>().join("\n");
    assert_eq!(parse_backup(&many), Err(BackupError::TooMany(10_001)));
}

// --- Properties ------------------------------------------------------------------------------------

fn entries() -> impl Strategy<Value = Vec<PlaylistEntry>> {
    prop::collection::vec(
        (0u32..12, "[a-cA-C ]{0,6}( - Remastered)?", "[ab]{0,2}", 0u32..5, any::<Option<u8>>(), 0u8..3),
        0..40,
    )
    .prop_map(|items| {
        items
            .into_iter()
            .map(|(n, title, artists, secs, popularity, isrc)| PlaylistEntry {
                isrc: (isrc > 0).then(|| format!("ISRC{isrc}")),
                popularity,
                added_at: (n % 3 > 0).then(|| format!("2024-01-{:02}T00:00:00Z", n % 28 + 1)),
                ..song(n, &title, &artists, 180_000 + secs * 900)
            })
            .collect()
    })
}

proptest! {
    /// Dedupe: one copy of each group stays; only grouped rows go; applying the removal and saving the plan
    /// through core's model gives exactly the list the editor shows, and one undo brings everything back.
    #[test]
    fn dedupe_keeps_one_per_group_and_saves_through_the_planner(list in entries(), popular in any::<bool>()) {
        let mut e = editor(list);
        let base = e.target_uris();
        let keep = if popular { Keep::MostPopular } else { Keep::FirstAdded };
        let groups = find_duplicates(e.rows(), DuplicateOptions { keep, ..DuplicateOptions::default() });
        let mut seen = HashSet::new();
        for g in &groups {
            prop_assert!(g.keys.len() >= 2 && g.keys.contains(&g.keep));
            prop_assert!(g.keys.iter().all(|k| seen.insert(*k)), "a row is in one group only");
        }
        let doomed: Vec<u64> = groups.iter().flat_map(|g| g.others(g.keep)).collect();
        prop_assert_eq!(e.remove(&doomed), doomed.len());
        // No two remaining rows share a URI.
        let mut uris = HashSet::new();
        prop_assert!(e.rows().iter().all(|r| uris.insert(r.entry.uri.clone())));
        let mut saved = base.clone();
        apply_all(&mut saved, &e.plan().expect("plan")).expect("valid ops");
        prop_assert_eq!(saved, e.target_uris());
        if !doomed.is_empty() {
            prop_assert!(e.undo());
            prop_assert_eq!(e.target_uris(), base);
        }
    }

    /// Sort: a permutation, in order by the key, stable, and savable through the planner.
    #[test]
    fn sorting_is_a_stable_permutation(list in entries(), descending in any::<bool>(), k in 0usize..6) {
        let key = SortKey::ALL[k];
        let mut e = editor(list);
        let base = e.target_uris();
        let order = sorted_order(e.rows(), key, descending, None);
        let mut a = order.clone();
        a.sort_unstable();
        let mut b: Vec<u64> = e.rows().iter().map(|r| r.key).collect();
        b.sort_unstable();
        prop_assert_eq!(a, b);
        let position: HashMap<u64, usize> = e.rows().iter().enumerate().map(|(i, r)| (r.key, i)).collect();
        for pair in order.windows(2) {
            let (x, y) = (&e.rows()[position[&pair[0]]].entry, &e.rows()[position[&pair[1]]].entry);
            let (vx, vy) = (super::sort::tests_value(x, key), super::sort::tests_value(y, key));
            let in_order = match (&vx, &vy) {
                (Some(p), Some(q)) if descending => p >= q,
                (Some(p), Some(q)) => p <= q,
                (None, Some(_)) => false,
                _ => true,
            };
            prop_assert!(in_order);
            if vx == vy {
                prop_assert!(position[&pair[0]] < position[&pair[1]], "stable");
            }
        }
        e.set_order(&order);
        let mut saved = base.clone();
        apply_all(&mut saved, &e.plan().expect("plan")).expect("valid ops");
        prop_assert_eq!(saved, e.target_uris());
    }

    /// Export then restore gives back every entry with a URI, in order, with its details.
    #[test]
    fn csv_and_json_round_trip(list in entries(), names in prop::collection::vec(any::<String>(), 40)) {
        let list: Vec<PlaylistEntry> = list.into_iter().zip(names).map(|(e, name)| PlaylistEntry { name, ..e }).collect();
        let e = editor(list.clone());
        for text in [export_csv(e.rows()), export_json(e.rows(), "id", "n", "d")] {
            match parse_backup(&text) {
                Ok(back) => {
                    prop_assert_eq!(back.entries.len(), list.len());
                    for (got, want) in back.entries.iter().zip(&list) {
                        prop_assert_eq!(&got.uri, &want.uri);
                        prop_assert_eq!(&got.name, &want.name);
                        prop_assert_eq!(&got.isrc, &want.isrc);
                        prop_assert_eq!(got.duration_ms, want.duration_ms);
                    }
                }
                Err(err) => prop_assert!(list.is_empty() && err == BackupError::NothingUsable(0), "{}", err),
            }
        }
    }

    /// Whatever the file, reading it never panics.
    #[test]
    fn reading_any_text_never_panics(text in any::<String>()) {
        let _ = parse_backup(&text);
        let _ = parse_backup(&format!("uri,title\n{text}"));
        let _ = parse_backup(&format!("[{text}]"));
    }
}
