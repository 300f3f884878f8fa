//! Turns a saved playlist (`base`) and the edited list (`target`) into few Spotify calls.
//!
//! An incremental plan makes its calls in this order:
//!
//! 1. **Removes**, 100 URIs per call. Every URI the target holds fewer copies of than the base must go;
//!    a remove deletes every copy, so the copies the target still wants are added back in step 3.
//! 2. **Moves**. What is left is matched to target positions (the k-th remaining copy of a URI to the
//!    k-th target position of that URI), a longest increasing subsequence of those positions stays where
//!    it is, and everything else moves with range reorders. Items that are adjacent in the list and
//!    consecutive in the target move together in one call.
//! 3. **Adds** of each maximal run of target items that are not there yet, at their final position, 100
//!    per call.
//!
//! Moving costs a call per block however short, while removing and re-adding costs a call per 100 URIs
//! plus one per run, so scattered or reversed items are often cheaper to take out and put back. The
//! planner therefore also prices variants that take out the short move blocks (and items left alone
//! between re-added ones), and keeps the cheapest. Each variant's call count is known before any op is
//! built. Replacing the whole list ([`replace_cost`] calls: `PUT` of the first 100, then appends of 100)
//! is used when it is strictly cheaper; ties go to the incremental plan because a replace resets every
//! item's `added_at` (and re-added items lose theirs, which is why plain moves win ties too).
//!
//! Local files can only be moved (see [`crate::edit::model`]), so a target whose local files differ from the
//! base's cannot be planned, and a list holding local files is never replaced wholesale.
//!
//! Cost: a handful of O(n log n) passes to price the variants, plus O(n) per move actually built. Without
//! local files a plan never has more moves than the replace would have calls (n / 100), so a 10,000-item
//! shuffle plans in milliseconds.

use std::collections::HashMap;

use crate::ids::TrackUri;
use crate::edit::model::{reorder_slice, Op, MAX_URIS_PER_CALL};

/// Why there is no plan from base to target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The target has a different number of copies of a local file than the base; the Web API can move
    /// local files but neither add nor remove them.
    #[error(
        "the local file {uri} appears {base} times in the playlist and {target} times in the edit; \
         Spotify does not let apps add or remove local files"
    )]
    LocalFileCount {
        /// The local file's URI.
        uri: TrackUri,
        /// Copies in the base.
        base: usize,
        /// Copies in the target.
        target: usize,
    },
}

/// Calls needed to replace a playlist with `len` items: one `PUT` of up to 100 (an empty `PUT` clears
/// the playlist), then one append per further 100.
pub fn replace_cost(len: usize) -> usize {
    len.div_ceil(MAX_URIS_PER_CALL).max(1)
}

/// The calls that turn `base` into `target` under Spotify's semantics, as few as this planner finds
/// (see the [module documentation](self)); empty when they are equal. Applying the ops in order with
/// [`crate::edit::model::apply`] yields `target`, every op is valid for the list it applies to, and when
/// neither list holds a local file there are at most `replace_cost(target.len())` ops.
pub fn plan(base: &[TrackUri], target: &[TrackUri]) -> Result<Vec<Op>, PlanError> {
    if base == target {
        return Ok(Vec::new());
    }
    let interned = Interned::new(base, target)?;
    let best = interned.cheapest();
    if !interned.has_local && replace_cost(target.len()) < best.cost() {
        return Ok(replace_plan(target));
    }
    Ok(best.build(&interned, target))
}

/// The calls of a wholesale replace: a `PUT` of the first 100, then appends of 100.
pub fn replace_plan(target: &[TrackUri]) -> Vec<Op> {
    let first = target.len().min(MAX_URIS_PER_CALL);
    let mut ops = vec![Op::Replace {
        uris: target[..first].to_vec(),
    }];
    ops.extend(
        target[first..]
            .chunks(MAX_URIS_PER_CALL)
            .map(|chunk| Op::Add {
                uris: chunk.to_vec(),
                position: None,
            }),
    );
    ops
}

/// Both lists with each distinct URI replaced by a small integer, so the passes work on plain vectors.
struct Interned<'a> {
    uris: Vec<&'a TrackUri>,
    base_ids: Vec<usize>,
    target_ids: Vec<usize>,
    /// URIs the target has fewer copies of than the base: removed in every variant.
    must_remove: Vec<bool>,
    has_local: bool,
}

impl<'a> Interned<'a> {
    fn new(base: &'a [TrackUri], target: &'a [TrackUri]) -> Result<Self, PlanError> {
        let mut ids: HashMap<&TrackUri, usize> = HashMap::with_capacity(base.len() + target.len());
        let mut uris: Vec<&TrackUri> = Vec::new();
        let mut intern = |uri: &'a TrackUri| {
            *ids.entry(uri).or_insert_with(|| {
                uris.push(uri);
                uris.len() - 1
            })
        };
        let base_ids: Vec<usize> = base.iter().map(&mut intern).collect();
        let target_ids: Vec<usize> = target.iter().map(&mut intern).collect();
        let mut base_count = vec![0usize; uris.len()];
        let mut target_count = vec![0usize; uris.len()];
        for &id in &base_ids {
            base_count[id] += 1;
        }
        for &id in &target_ids {
            target_count[id] += 1;
        }
        let mut has_local = false;
        for (id, uri) in uris.iter().enumerate() {
            if uri.is_local() {
                has_local = true;
                if base_count[id] != target_count[id] {
                    return Err(PlanError::LocalFileCount {
                        uri: (*uri).clone(),
                        base: base_count[id],
                        target: target_count[id],
                    });
                }
            }
        }
        let must_remove = (0..uris.len())
            .map(|id| target_count[id] < base_count[id])
            .collect();
        Ok(Self {
            uris,
            base_ids,
            target_ids,
            must_remove,
            has_local,
        })
    }

    /// Prices the plain plan and the variants that take out more, and returns the cheapest (the first
    /// found among equals, so plain moves win ties).
    fn cheapest(&self) -> Analysis {
        let plain = self.analyse(&self.must_remove);
        let mut best = self.with_sandwiched_removed(&plain, &self.must_remove);
        // Thresholds on the length of move blocks to take out instead of moving; usize::MAX takes out
        // every item that would move.
        for threshold in [2, 4, 16, usize::MAX] {
            let mut removed = self.must_remove.clone();
            let mut changed = false;
            for &(start, len) in plain.blocks.iter().filter(|(_, len)| *len < threshold) {
                for &id in &plain.survivors[start..start + len] {
                    if !self.uris[id].is_local() && !removed[id] {
                        removed[id] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                continue;
            }
            let candidate = self.analyse(&removed);
            let candidate = self.with_sandwiched_removed(&candidate, &removed);
            if candidate.cost() < best.cost() {
                best = candidate;
            }
        }
        best
    }

    /// `analysis`, or the variant that also takes out items sitting alone between two re-added items
    /// (which joins two add runs into one) when that is cheaper.
    fn with_sandwiched_removed(&self, analysis: &Analysis, removed: &[bool]) -> Analysis {
        let n = self.target_ids.len();
        let mut more = removed.to_vec();
        let mut changed = false;
        for (i, &pos) in analysis.target_pos.iter().enumerate() {
            let id = analysis.survivors[i];
            if pos > 0
                && pos + 1 < n
                && !analysis.matched[pos - 1]
                && !analysis.matched[pos + 1]
                && !self.uris[id].is_local()
                && !more[id]
            {
                more[id] = true;
                changed = true;
            }
        }
        if !changed {
            return analysis.clone();
        }
        let candidate = self.analyse(&more);
        if candidate.cost() < analysis.cost() {
            candidate
        } else {
            analysis.clone()
        }
    }

    /// Prices the incremental plan that removes exactly the URIs marked in `removed` (a superset of
    /// `must_remove` without local files).
    fn analyse(&self, removed: &[bool]) -> Analysis {
        let ids = self.uris.len();
        let mut removed_ids = Vec::new();
        let mut listed = vec![false; ids];
        for &id in &self.base_ids {
            if removed[id] && !listed[id] {
                listed[id] = true;
                removed_ids.push(id);
            }
        }

        // Target positions of each kept URI in order; survivors take them first come, first served.
        // Removed URIs keep none: all their target copies are re-added.
        let mut positions: Vec<Vec<usize>> = vec![Vec::new(); ids];
        for (pos, &id) in self.target_ids.iter().enumerate() {
            if !removed[id] {
                positions[id].push(pos);
            }
        }
        let mut next = vec![0usize; ids];
        let mut matched = vec![false; self.target_ids.len()];
        let mut survivors = Vec::with_capacity(self.base_ids.len());
        let mut target_pos = Vec::with_capacity(self.base_ids.len());
        for &id in &self.base_ids {
            if removed[id] {
                continue;
            }
            // Not removed means the target has at least as many copies, so a position is always left.
            let Some(&pos) = positions[id].get(next[id]) else {
                continue;
            };
            next[id] += 1;
            matched[pos] = true;
            survivors.push(id);
            target_pos.push(pos);
        }
        // Rank = index among matched target positions: where the item sits once the moves are done.
        let mut rank_of_pos = vec![0usize; self.target_ids.len()];
        let mut rank = 0;
        for (pos, &is_matched) in matched.iter().enumerate() {
            if is_matched {
                rank_of_pos[pos] = rank;
                rank += 1;
            }
        }
        let ranks: Vec<usize> = target_pos.iter().map(|&pos| rank_of_pos[pos]).collect();

        let kept = longest_increasing(&ranks);
        let mut blocks = Vec::new();
        let mut i = 0;
        while i < ranks.len() {
            if kept[i] {
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            while i < ranks.len() && !kept[i] && ranks[i] == ranks[i - 1] + 1 {
                i += 1;
            }
            blocks.push((start, i - start));
        }

        let mut adds = 0;
        let mut run = 0usize;
        for &is_matched in matched.iter().chain(std::iter::once(&true)) {
            if is_matched {
                adds += run.div_ceil(MAX_URIS_PER_CALL);
                run = 0;
            } else {
                run += 1;
            }
        }

        Analysis {
            removed: removed_ids,
            survivors,
            target_pos,
            ranks,
            matched,
            blocks,
            adds,
        }
    }
}

/// One priced incremental plan.
#[derive(Clone)]
struct Analysis {
    /// Interned URIs removed in step 1, in order of first appearance in the base.
    removed: Vec<usize>,
    /// Interned URIs of the items that survive the removes, in base order.
    survivors: Vec<usize>,
    /// Each survivor's target position.
    target_pos: Vec<usize>,
    /// Each survivor's rank among the matched target positions.
    ranks: Vec<usize>,
    /// Whether each target position is held by a survivor.
    matched: Vec<bool>,
    /// Move calls: maximal runs (start index into `survivors`, length) of items outside the kept
    /// increasing subsequence whose ranks are consecutive.
    blocks: Vec<(usize, usize)>,
    /// Add calls.
    adds: usize,
}

impl Analysis {
    fn cost(&self) -> usize {
        self.removed.len().div_ceil(MAX_URIS_PER_CALL) + self.blocks.len() + self.adds
    }

    fn build(&self, interned: &Interned<'_>, target: &[TrackUri]) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .removed
            .chunks(MAX_URIS_PER_CALL)
            .map(|chunk| Op::Remove {
                uris: chunk.iter().map(|&id| interned.uris[id].clone()).collect(),
            })
            .collect();

        // Moves, simulated on ranks so each reorder's indices are those of the list at that moment.
        // Blocks are placed in rank order right after their predecessor in the target, which is always
        // in place by then (kept, or in a block placed earlier), so placed items stay in order and
        // blocks not yet placed stay contiguous.
        let m = self.ranks.len();
        let mut current = self.ranks.clone();
        let mut index_of = vec![0usize; m];
        for (i, &rank) in current.iter().enumerate() {
            index_of[rank] = i;
        }
        let mut block_len = vec![0usize; m];
        for &(start, len) in &self.blocks {
            block_len[self.ranks[start]] = len;
        }
        for first in 0..m {
            let len = block_len[first];
            if len == 0 {
                continue;
            }
            let range_start = index_of[first];
            let insert_before = if first == 0 {
                0
            } else {
                index_of[first - 1] + 1
            };
            if insert_before == range_start || insert_before == range_start + len {
                continue;
            }
            if reorder_slice(&mut current, range_start, insert_before, len).is_err() {
                // Unreachable by the invariant above; a wrong plan is worse than a longer one, so fall
                // back to the replace, which is always correct.
                return replace_plan(target);
            }
            let lo = range_start.min(insert_before);
            let hi = (range_start + len).max(insert_before);
            for (offset, &rank) in current[lo..hi].iter().enumerate() {
                index_of[rank] = lo + offset;
            }
            ops.push(Op::Reorder {
                range_start,
                insert_before,
                range_length: len,
            });
        }

        // Adds, left to right: before each run the list already equals the target up to the run.
        let mut len = m;
        let mut pos = 0;
        while pos < target.len() {
            if self.matched[pos] {
                pos += 1;
                continue;
            }
            let run_start = pos;
            while pos < target.len() && !self.matched[pos] {
                pos += 1;
            }
            for (k, chunk) in target[run_start..pos]
                .chunks(MAX_URIS_PER_CALL)
                .enumerate()
            {
                let at = run_start + k * MAX_URIS_PER_CALL;
                ops.push(Op::Add {
                    uris: chunk.to_vec(),
                    position: (at != len).then_some(at),
                });
                len += chunk.len();
            }
        }
        ops
    }
}

/// Marks a longest strictly increasing subsequence of `values` (patience sorting, O(n log n)).
fn longest_increasing(values: &[usize]) -> Vec<bool> {
    // tails[k] = index of the smallest possible last value of an increasing subsequence of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; values.len()];
    for (i, &value) in values.iter().enumerate() {
        let k = tails.partition_point(|&t| values[t] < value);
        previous[i] = k.checked_sub(1).map(|p| tails[p]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut kept = vec![false; values.len()];
    let mut cursor = tails.last().copied();
    while let Some(i) = cursor {
        kept[i] = true;
        cursor = previous[i];
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::model::{apply, apply_all};
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    fn t(n: usize) -> TrackUri {
        TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("valid")
    }

    fn local(n: usize) -> TrackUri {
        TrackUri::parse(&format!("spotify:local:Artist:Album:Title+{n}:180")).expect("valid")
    }

    fn list(ns: &[usize]) -> Vec<TrackUri> {
        ns.iter().copied().map(t).collect()
    }

    /// Plans, checks the plan against the model op by op, and returns it.
    fn checked_plan(base: &[TrackUri], target: &[TrackUri]) -> Vec<Op> {
        let ops = plan(base, target).expect("plannable");
        let mut l = base.to_vec();
        for (i, op) in ops.iter().enumerate() {
            if let Err(e) = apply(&mut l, op) {
                panic!("op {i} ({op:?}) refused: {e}");
            }
        }
        assert!(l == target, "plan does not reach the target");
        ops
    }

    #[test]
    fn replace_cost_table() {
        assert_eq!(replace_cost(0), 1);
        assert_eq!(replace_cost(1), 1);
        assert_eq!(replace_cost(100), 1);
        assert_eq!(replace_cost(101), 2);
        assert_eq!(replace_cost(10_000), 100);
    }

    #[test]
    fn equal_lists_need_nothing() {
        assert_eq!(plan(&[], &[]), Ok(vec![]));
        assert_eq!(plan(&list(&[1, 1, 2]), &list(&[1, 1, 2])), Ok(vec![]));
    }

    #[test]
    fn small_examples() {
        // Appending to an empty playlist.
        assert_eq!(
            checked_plan(&[], &list(&[1, 2])),
            vec![Op::Add {
                uris: list(&[1, 2]),
                position: None
            }]
        );
        // Clearing: one remove and one empty replace cost the same; the tie goes incremental.
        assert_eq!(
            checked_plan(&list(&[1, 2, 1]), &[]),
            vec![Op::Remove { uris: list(&[1, 2]) }]
        );
        // Dropping one copy of a duplicate: remove all, add one back where it belongs. The tail keeps
        // the list long enough that a replace would cost more.
        let tail: Vec<usize> = (100..300).collect();
        assert_eq!(
            checked_plan(
                &list(&[&[1, 2, 1, 3][..], &tail].concat()),
                &list(&[&[1, 2, 3][..], &tail].concat())
            ),
            vec![
                Op::Remove { uris: list(&[1]) },
                Op::Add {
                    uris: list(&[1]),
                    position: Some(0)
                }
            ]
        );
        // A swap is one move.
        assert_eq!(checked_plan(&list(&[1, 2]), &list(&[2, 1])).len(), 1);
        // A contiguous block moving together is one move.
        assert_eq!(
            checked_plan(&list(&[1, 2, 3, 4, 5, 6]), &list(&[4, 5, 1, 2, 3, 6])),
            vec![Op::Reorder {
                range_start: 3,
                insert_before: 0,
                range_length: 2
            }]
        );
        // Adding a second copy of an existing item.
        assert_eq!(
            checked_plan(&list(&[1, 2]), &list(&[1, 2, 1])),
            vec![Op::Add {
                uris: list(&[1]),
                position: None
            }]
        );
    }

    #[test]
    fn replace_when_cheaper() {
        let base = list(&(0..5).collect::<Vec<_>>());
        let target = list(&[4, 3, 2, 1, 0]);
        assert_eq!(
            checked_plan(&base, &target),
            vec![Op::Replace {
                uris: target.clone()
            }]
        );
        let base = list(&(0..150).collect::<Vec<_>>());
        let target = list(&(0..150).rev().collect::<Vec<_>>());
        assert_eq!(
            checked_plan(&base, &target),
            vec![
                Op::Replace {
                    uris: target[..100].to_vec()
                },
                Op::Add {
                    uris: target[100..].to_vec(),
                    position: None
                }
            ]
        );
    }

    #[test]
    fn local_files_are_only_moved() {
        let base = vec![t(1), local(1), t(2), local(2), t(3)];
        let target = vec![local(2), t(3), t(2), local(1), t(1)];
        let ops = checked_plan(&base, &target);
        assert!(ops.iter().all(|op| matches!(op, Op::Reorder { .. })), "{ops:?}");
        // With local files a replace is impossible, so the incremental plan is used even when longer.
        let target = vec![local(2), t(4), t(3), local(1), t(1)];
        let ops = checked_plan(&base, &target);
        assert!(ops.iter().all(|op| op.check_shape().is_ok()));
        assert_eq!(
            plan(&base, &[t(1), t(2), local(2), t(3)]),
            Err(PlanError::LocalFileCount {
                uri: local(1),
                base: 1,
                target: 0
            })
        );
        assert!(plan(&base, &[base.clone(), vec![local(1)]].concat()).is_err());
    }

    /// The corpus on 10,000 distinct items, with the call counts this planner reaches.
    #[test]
    fn corpus_of_ten_thousand() {
        let n = 10_000;
        let base = list(&(0..n).collect::<Vec<_>>());
        let started = Instant::now();
        let mut counts = Vec::new();

        let mut moved = base.clone();
        let item = moved.remove(1234);
        moved.insert(8765, item);
        counts.push(("move 1", checked_plan(&base, &moved).len()));

        let removed: Vec<TrackUri> = base
            .iter()
            .enumerate()
            .filter(|(i, _)| ![7, 2001, 4999, 5000, 9999].contains(i))
            .map(|(_, uri)| uri.clone())
            .collect();
        counts.push(("remove 5 scattered", checked_plan(&base, &removed).len()));

        let front: Vec<TrackUri> = (n..n + 250).map(t).chain(base.iter().cloned()).collect();
        counts.push(("add 250 at the front", checked_plan(&base, &front).len()));

        let mut reversed = base.clone();
        reversed[4000..4100].reverse();
        counts.push(("reverse 100", checked_plan(&base, &reversed).len()));

        // A deterministic shuffle (xorshift Fisher-Yates) keeps the test reproducible.
        let mut shuffled = base.clone();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = usize::try_from(state % (i as u64 + 1)).unwrap_or(0);
            shuffled.swap(i, j);
        }
        let shuffle_started = Instant::now();
        let shuffle_plan = plan(&base, &shuffled).expect("plannable");
        let shuffle_time = shuffle_started.elapsed();
        let mut check = base.clone();
        assert_eq!(apply_all(&mut check, &shuffle_plan), Ok(()));
        assert!(check == shuffled);
        counts.push(("shuffle 10,000", shuffle_plan.len()));

        println!("call counts on {n} distinct items (replace costs {}):", replace_cost(n));
        for (name, calls) in &counts {
            println!("  {name}: {calls}");
        }
        println!("  shuffle planned in {shuffle_time:?}; corpus in {:?}", started.elapsed());
        assert_eq!(
            counts,
            [
                ("move 1", 1),
                ("remove 5 scattered", 1),
                ("add 250 at the front", 3),
                ("reverse 100", 2),
                ("shuffle 10,000", 100),
            ]
        );
        assert!(matches!(shuffle_plan[0], Op::Replace { .. }));
        assert!(shuffle_time < Duration::from_secs(1), "{shuffle_time:?}");
    }

    #[test]
    fn longest_increasing_subsequence() {
        let kept = longest_increasing(&[3, 0, 1, 4, 2, 5]);
        let chosen: Vec<usize> = (0..6).filter(|&i| kept[i]).collect();
        assert_eq!(chosen.len(), 4);
        assert_eq!(longest_increasing(&[]), Vec::<bool>::new());
        assert_eq!(longest_increasing(&[2, 1, 0]).iter().filter(|k| **k).count(), 1);
    }

    /// An edit of a list of symbols from a small alphabet, so duplicates are common.
    #[derive(Clone, Debug)]
    enum Edit {
        Insert(usize, usize),
        Delete(usize),
        Move(usize, usize, usize),
        Duplicate(usize),
        Replace(usize, usize),
        Shuffle(u64),
        ShuffleRange(usize, usize, u64),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            4 => (any::<usize>(), 0usize..40).prop_map(|(i, s)| Edit::Insert(i, s)),
            4 => any::<usize>().prop_map(Edit::Delete),
            4 => (any::<usize>(), 1usize..20, any::<usize>()).prop_map(|(i, l, j)| Edit::Move(i, l, j)),
            2 => any::<usize>().prop_map(Edit::Duplicate),
            2 => (any::<usize>(), 0usize..40).prop_map(|(i, s)| Edit::Replace(i, s)),
            1 => any::<u64>().prop_map(Edit::Shuffle),
            1 => (any::<usize>(), 2usize..30, any::<u64>()).prop_map(|(i, l, seed)| Edit::ShuffleRange(i, l, seed)),
        ]
    }

    fn shuffle<T>(items: &mut [T], mut seed: u64) {
        for i in (1..items.len()).rev() {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let j = usize::try_from((seed >> 33) % (i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }

    fn apply_edit(l: &mut Vec<TrackUri>, edit: &Edit, make: &dyn Fn(usize) -> TrackUri) {
        let len = l.len();
        match *edit {
            Edit::Insert(i, s) => l.insert(i % (len + 1), make(s)),
            Edit::Delete(i) if len > 0 => {
                l.remove(i % len);
            }
            Edit::Move(i, length, j) if len > 0 => {
                let start = i % len;
                let end = (start + length).min(len);
                let block: Vec<TrackUri> = l.drain(start..end).collect();
                let at = j % (l.len() + 1);
                l.splice(at..at, block);
            }
            Edit::Duplicate(i) if len > 0 => {
                let uri = l[i % len].clone();
                l.insert((i / 7) % (len + 1), uri);
            }
            Edit::Replace(i, s) if len > 0 => l[i % len] = make(s),
            Edit::Shuffle(seed) => shuffle(l, seed),
            Edit::ShuffleRange(i, length, seed) if len > 0 => {
                let start = i % len;
                let end = (start + length).min(len);
                shuffle(&mut l[start..end], seed);
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn plans_reach_the_target_within_the_replace_cost(
            alphabet in 2usize..60,
            base in prop::collection::vec(0usize..1000, 0..300),
            edits in prop::collection::vec(edit(), 0..12),
        ) {
            let make = |s: usize| t(s % alphabet);
            let base: Vec<TrackUri> = base.into_iter().map(make).collect();
            let mut target = base.clone();
            for e in &edits {
                apply_edit(&mut target, e, &make);
            }
            let ops = plan(&base, &target).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut l = base.clone();
            for op in &ops {
                prop_assert_eq!(apply(&mut l, op), Ok(()));
            }
            prop_assert!(l == target);
            prop_assert!(ops.len() <= replace_cost(target.len()));
        }

        #[test]
        fn plans_with_local_files_only_move_them(
            base in prop::collection::vec(0usize..20, 0..120),
            edits in prop::collection::vec(edit(), 0..8),
            moves in prop::collection::vec((any::<usize>(), any::<usize>()), 0..4),
        ) {
            // Symbols below 4 are local files; edits may only move those.
            let make = |s: usize| if s < 4 { local(s) } else { t(s) };
            let base: Vec<TrackUri> = base.into_iter().map(make).collect();
            let mut target = base.clone();
            let only_tracks = |s: usize| t(4 + s % 16);
            for e in &edits {
                match e {
                    Edit::Delete(_) | Edit::Replace(..) | Edit::Duplicate(_) => {}
                    _ => apply_edit(&mut target, e, &only_tracks),
                }
            }
            for (from, to) in moves {
                if !target.is_empty() {
                    let uri = target.remove(from % target.len());
                    target.insert(to % (target.len() + 1), uri);
                }
            }
            let ops = plan(&base, &target).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut l = base.clone();
            for op in &ops {
                prop_assert_eq!(apply(&mut l, op), Ok(()));
            }
            prop_assert!(l == target);
        }

        #[test]
        fn unrelated_lists(
            base in prop::collection::vec(0usize..8, 0..300),
            target in prop::collection::vec(0usize..8, 0..300),
        ) {
            let base = list(&base);
            let target = list(&target);
            let ops = checked_plan(&base, &target);
            prop_assert!(ops.len() <= replace_cost(target.len()));
        }
    }
}
