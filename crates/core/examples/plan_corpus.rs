//! Save cost for a fixed corpus of edits: the planner's calls vs a lower bound vs replace-all.
//! Run: `cargo run -p setlist-core --release --example plan_corpus` (used by `cargo xtask bench`); prints JSON lines.

use std::collections::HashMap;

use setlist_core::curate::{find_duplicates, merge_entries, sorted_order, DuplicateOptions, SortKey};
use setlist_core::{plan, replace_cost, Editor, Meta, PlaylistEntry, TrackUri};

fn uri(n: usize) -> TrackUri {
    TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("22 digits is a valid id")
}

/// A small deterministic generator (fixed seed) so the random edits are the same in every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

/// No plan can do better: every URI that loses copies needs a remove slot, every added copy an add slot,
/// 100 per call; and a changed list needs at least one call.
fn lower_bound(base: &[TrackUri], target: &[TrackUri]) -> usize {
    let mut counts: HashMap<&TrackUri, (usize, usize)> = HashMap::new();
    for u in base {
        counts.entry(u).or_default().0 += 1;
    }
    for u in target {
        counts.entry(u).or_default().1 += 1;
    }
    let removed = counts.values().filter(|(b, t)| t < b).count();
    let added: usize = counts.values().map(|(b, t)| if t < b { *t } else { t - b }).sum();
    let lb = removed.div_ceil(100) + added.div_ceil(100);
    if lb == 0 && base != target {
        1
    } else {
        lb
    }
}

fn main() {
    let n = 10_000;
    let base: Vec<TrackUri> = (0..n).map(uri).collect();
    // (name, the user's edit count, target)
    let mut corpus: Vec<(String, usize, Vec<TrackUri>)> = Vec::new();

    let mut t = base.clone();
    let x = t.remove(1234);
    t.insert(8765, x);
    corpus.push(("move 1 of 10,000".into(), 1, t));

    let mut t = base.clone();
    for i in [9000, 7000, 5000, 3000, 100] {
        t.remove(i);
    }
    corpus.push(("remove 5 scattered of 10,000".into(), 5, t));

    let mut t: Vec<TrackUri> = (n..n + 250).map(uri).collect();
    t.extend(base.iter().cloned());
    corpus.push(("add 250 at the front".into(), 250, t));

    let mut t = base.clone();
    t[4000..4100].reverse();
    corpus.push(("reverse 100".into(), 99, t));

    let mut rng = Lcg(20261128);
    let mut t = base.clone();
    for i in (1..t.len()).rev() {
        let j = rng.next(i + 1);
        t.swap(i, j);
    }
    corpus.push(("shuffle 10,000".into(), 9_999, t));

    for k in 0..20 {
        let mut t = base.clone();
        let edits = 1 + rng.next(30);
        for _ in 0..edits {
            match rng.next(4) {
                0 => {
                    let i = rng.next(t.len());
                    t.remove(i);
                }
                1 => {
                    let i = rng.next(t.len() + 1);
                    t.insert(i, uri(n + rng.next(5000)));
                }
                2 => {
                    let (i, j) = (rng.next(t.len()), rng.next(t.len()));
                    let x = t.remove(i);
                    t.insert(j.min(t.len()), x);
                }
                _ => {
                    // A duplicate of something already there.
                    let (i, j) = (rng.next(t.len()), rng.next(t.len()));
                    let x = t[i].clone();
                    t.insert(j, x);
                }
            }
        }
        corpus.push((format!("random #{k}"), edits, t));
    }

    for (name, edits, target) in corpus {
        let started = std::time::Instant::now();
        let ops = plan(&base, &target).expect("no local files in the corpus");
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let mut check = base.clone();
        setlist_core::apply_all(&mut check, &ops).expect("every planned op is valid");
        assert!(check == target, "{name}: the plan does not reach the target");
        println!(
            "{{\"metric\":\"save\",\"edit\":\"{name}\",\"edits\":{edits},\"calls\":{},\"lower_bound\":{},\"replace\":{},\"plan_ms\":{ms:.2}}}",
            ops.len(),
            lower_bound(&base, &target),
            replace_cost(target.len())
        );
    }
    curation(&base, &mut rng);
}

/// The curation tools on 10,000 items (issue: dedupe of 10,000 with 50 duplicates, sort 10,000 by artist, merge of
/// 500 into 10,000): each tool's edit through core's editor, so the target is what the app would save.
fn curation(base: &[TrackUri], rng: &mut Lcg) {
    let entry = |u: &TrackUri, rng: &mut Lcg| PlaylistEntry {
        name: format!("Song {}", rng.next(100_000)),
        artists: format!("Artist {}", rng.next(400)),
        duration_ms: Some(120_000 + rng.next(200_000) as u32),
        ..PlaylistEntry::from_uri(u.clone())
    };
    let meta = Meta { name: "Everything".into(), ..Meta::default() };

    // 9,950 distinct items and 50 second copies scattered among them: the dedupe removes the later copies.
    let mut entries: Vec<PlaylistEntry> = base[..9_950].iter().map(|u| entry(u, rng)).collect();
    for _ in 0..50 {
        let copy = entries[rng.next(9_950)].clone();
        let at = rng.next(entries.len() + 1);
        entries.insert(at, copy);
    }
    let mut editor = Editor::new(entries, meta.clone());
    let groups = find_duplicates(editor.rows(), DuplicateOptions { same_recording: false, likely: false, ..DuplicateOptions::default() });
    let doomed: Vec<u64> = groups.iter().flat_map(|g| g.others(g.keep).collect::<Vec<_>>()).collect();
    let removed = editor.remove(&doomed);
    report("dedupe 10,000 with 50 duplicates", removed, &editor);

    // Sort 10,000 by artist.
    let mut editor = Editor::new(base.iter().map(|u| entry(u, rng)).collect(), meta.clone());
    let order = sorted_order(editor.rows(), SortKey::Artist, false, None);
    editor.set_order(&order);
    report("sort 10,000 by artist", 10_000, &editor);

    // Merge 500 (100 of them already in the list) into 10,000, skipping duplicates.
    let mut editor = Editor::new(base.iter().map(|u| entry(u, rng)).collect(), meta);
    let other: Vec<PlaylistEntry> =
        base[..100].iter().chain(&(20_000..20_400).map(uri).collect::<Vec<_>>()).map(|u| entry(u, rng)).collect();
    let merge = merge_entries(editor.rows(), &other, true);
    let end = editor.len();
    let added = editor.insert_at(end, merge.entries).len();
    report("merge 500 into 10,000 (100 already there)", added, &editor);
}

/// One curation row: the editor's plan from its base, checked through core's model, against the lower bound and
/// a replace.
fn report(name: &str, edits: usize, editor: &Editor) {
    let (base, target) = (editor.base_uris(), editor.target_uris());
    let started = std::time::Instant::now();
    let ops = editor.plan().expect("no local files");
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let mut check = base.clone();
    setlist_core::apply_all(&mut check, &ops).expect("every planned op is valid");
    assert!(check == target, "{name}: the plan does not reach the target");
    println!(
        "{{\"metric\":\"save\",\"edit\":\"{name}\",\"edits\":{edits},\"calls\":{},\"lower_bound\":{},\"replace\":{},\"plan_ms\":{ms:.2}}}",
        ops.len(),
        lower_bound(&base, &target),
        replace_cost(target.len())
    );
}
