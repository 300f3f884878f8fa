//! The shared table of Spotify's playlist write semantics (`semantics.json`), run against core's model. The
//! stand-in runs the same table (`crates/stand-in/tests/stand_in/semantics.rs`), so the two independent models are held to
//! one set of expectations.

use serde_json::Value;
use setlist_core::{apply, ModelError, Op, TrackUri};

/// A letter of the table as a URI: distinct tracks, or a local file.
fn uri(letter: &str) -> Vec<TrackUri> {
    let (letter, copies) = match letter.split_once('*') {
        Some((letter, n)) => (letter, n.parse().expect("a count")),
        None => (letter, 1),
    };
    let text = match letter {
        "L" => "spotify:local:Artist:Album:Title:180".to_owned(),
        other => {
            let n = other.bytes().next().expect("a letter") - b'A';
            format!("spotify:track:{:0>22}", n)
        }
    };
    vec![TrackUri::parse(&text).expect("valid"); copies]
}

fn uris(value: &Value) -> Vec<TrackUri> {
    value.as_array().expect("a list").iter().flat_map(|l| uri(l.as_str().expect("a letter"))).collect()
}

fn op(value: &Value) -> Op {
    let index = |i: usize| value["reorder"][i].as_u64().expect("an index") as usize;
    if let Some(add) = value.get("add") {
        Op::Add { uris: uris(add), position: value.get("position").map(|p| p.as_u64().expect("a position") as usize) }
    } else if let Some(replace) = value.get("replace") {
        Op::Replace { uris: uris(replace) }
    } else if let Some(remove) = value.get("remove") {
        Op::Remove { uris: uris(remove) }
    } else {
        Op::Reorder { range_start: index(0), insert_before: index(1), range_length: index(2) }
    }
}

/// The table's name for a refusal.
fn reason(error: &ModelError) -> &'static str {
    match error {
        ModelError::NoUris => "no_uris",
        ModelError::TooManyUris { .. } => "too_many_uris",
        ModelError::LocalFile { .. } => "local_file",
        ModelError::PositionOutOfRange { .. } => "position_out_of_range",
        ModelError::EmptyRange => "empty_range",
        ModelError::RangeOutOfBounds { .. } => "range_out_of_bounds",
        ModelError::InsertBeforeOutOfRange { .. } => "insert_before_out_of_range",
        ModelError::InsertInsideRange { .. } => "insert_inside_range",
    }
}

#[test]
fn core_model_follows_the_shared_table() {
    let table: Value = serde_json::from_str(include_str!("semantics.json")).expect("valid JSON");
    let rows = table["rows"].as_array().expect("rows");
    assert!(rows.len() >= 20);
    let mut wrong = Vec::new();
    for row in rows {
        let name = row["name"].as_str().expect("a name");
        let mut list = uris(&row["playlist"]);
        let before = list.clone();
        let got = apply(&mut list, &op(&row["op"]));
        match (row.get("expect"), row.get("error").and_then(Value::as_str), got) {
            (Some(expect), None, Ok(())) if list == uris(expect) => {}
            // A refused write leaves the playlist as it was.
            (None, Some(want), Err(error)) if reason(&error) == want && list == before => {}
            (_, _, got) => wrong.push(format!("{name}: got {got:?}, list {list:?}")),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
