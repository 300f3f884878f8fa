//! A model of what Spotify's playlist item writes do to a playlist's list of URIs: the source of truth for the
//! planner (which checks every plan against it) and the request builders (which refuse what it refuses). The
//! stand-in keeps its own, independent implementation (so it can catch a mistake here); both are held to one
//! table of cases, `crates/core/tests/semantics.json`.
//!
//! The semantics, from the Web API reference and observed behaviour:
//!
//! - **Add** (`POST /playlists/{id}/items`): 1 to 100 track or episode URIs, inserted in order at
//!   `position` (`0..=len`), or appended when `position` is absent.
//!   <https://developer.spotify.com/documentation/web-api/reference/add-items-to-playlist>
//! - **Replace** (`PUT /playlists/{id}/items` with `uris`): 0 to 100 track or episode URIs become the whole
//!   list; an empty list clears the playlist.
//! - **Reorder** (`PUT /playlists/{id}/items` with `range_start`, `insert_before`, `range_length`): the
//!   `range_length` items starting at `range_start` move to just before the item that was at
//!   `insert_before` *before* the move (`insert_before == len` moves them to the end). Requires
//!   `range_start < len`, `range_length >= 1`, `range_start + range_length <= len` and
//!   `insert_before <= len`. An `insert_before` at either edge of the range (`range_start` or
//!   `range_start + range_length`) leaves the list as it is; one strictly inside the range names no
//!   position outside it, the reference does not define it, and the model refuses it.
//!   <https://developer.spotify.com/documentation/web-api/reference/reorder-or-replace-playlists-items>
//! - **Remove** (`DELETE /playlists/{id}/items`): 1 to 100 track or episode URIs; *every* occurrence of
//!   each is removed. URIs that are not in the playlist are ignored.
//!   <https://developer.spotify.com/documentation/web-api/reference/remove-items-playlist>
//! - Local files (`spotify:local:...`) can be reordered but never sent in `uris` or `items`: Spotify
//!   answers `400 Invalid track uri` (spotify/web-api issues #510 and #612).
//!
//! Every check happens before the list is touched, so a refused op leaves the list unchanged, as a
//! refused request leaves the playlist unchanged. Each op costs O(len + number of URIs).

use std::collections::HashSet;

use crate::ids::TrackUri;

/// The most URIs one add, replace or remove call may carry.
pub const MAX_URIS_PER_CALL: usize = 100;

/// One playlist item write, as Spotify applies it. See the [module documentation](self) for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `POST /playlists/{id}/items {uris, position?}`.
    Add {
        /// 1 to 100 track or episode URIs, inserted in this order.
        uris: Vec<TrackUri>,
        /// Zero-based index to insert at (`0..=len`); `None` appends.
        position: Option<usize>,
    },
    /// `PUT /playlists/{id}/items {uris}`: the whole list becomes `uris` (0 to 100).
    Replace {
        /// The new list.
        uris: Vec<TrackUri>,
    },
    /// `PUT /playlists/{id}/items {range_start, insert_before, range_length}`.
    Reorder {
        /// Index of the first item to move.
        range_start: usize,
        /// Index, in the list before the move, of the item the range ends up in front of; `len` means the end.
        insert_before: usize,
        /// How many items to move, at least 1.
        range_length: usize,
    },
    /// `DELETE /playlists/{id}/items {items:[{uri}]}`: removes every occurrence of each URI.
    Remove {
        /// 1 to 100 track or episode URIs.
        uris: Vec<TrackUri>,
    },
}

/// Why Spotify would refuse an [`Op`] (with a 400) on a list of a given length.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An add or a remove with no URIs.
    #[error("no URIs to send: an add or remove needs at least one")]
    NoUris,
    /// More than 100 URIs in one call.
    #[error("{got} URIs in one call; Spotify takes at most {max}")]
    TooManyUris {
        /// Always [`MAX_URIS_PER_CALL`].
        max: usize,
        /// How many the op carries.
        got: usize,
    },
    /// A local-file URI in an add, replace or remove.
    #[error("local files cannot be added or removed through the Web API ({uri})")]
    LocalFile {
        /// The offending URI.
        uri: TrackUri,
    },
    /// An add position past the end of the list.
    #[error("position {position} is past the end of a playlist of {len} items")]
    PositionOutOfRange {
        /// The requested position.
        position: usize,
        /// The list's length.
        len: usize,
    },
    /// A reorder with `range_length` 0.
    #[error("range_length must be at least 1")]
    EmptyRange,
    /// A reorder whose range does not lie within the list.
    #[error(
        "cannot move {range_length} items from {range_start} in a playlist of {len} items"
    )]
    RangeOutOfBounds {
        /// The requested start.
        range_start: usize,
        /// The requested length.
        range_length: usize,
        /// The list's length.
        len: usize,
    },
    /// A reorder target past the end of the list.
    #[error("insert_before {insert_before} is past the end of a playlist of {len} items")]
    InsertBeforeOutOfRange {
        /// The requested target.
        insert_before: usize,
        /// The list's length.
        len: usize,
    },
    /// A reorder target strictly inside the moved range.
    #[error("insert_before {insert_before} lies inside the moved range {range_start}..{range_end}")]
    InsertInsideRange {
        /// The requested target.
        insert_before: usize,
        /// First moved index.
        range_start: usize,
        /// One past the last moved index.
        range_end: usize,
    },
}

impl Op {
    /// The checks that do not depend on the list: URI counts and local files. Request builders use this;
    /// it passes for every op that [`Op::check`] passes for some length.
    pub fn check_shape(&self) -> Result<(), ModelError> {
        match self {
            Op::Add { uris, .. } | Op::Remove { uris } => {
                if uris.is_empty() {
                    return Err(ModelError::NoUris);
                }
                check_uris(uris)
            }
            Op::Replace { uris } => check_uris(uris),
            Op::Reorder { range_length, .. } => {
                if *range_length == 0 {
                    // Spotify treats a missing range_length as 1; an explicit 0 moves nothing and is refused.
                    return Err(ModelError::EmptyRange);
                }
                Ok(())
            }
        }
    }

    /// Every check Spotify makes for a list of `len` items.
    pub fn check(&self, len: usize) -> Result<(), ModelError> {
        self.check_shape()?;
        match *self {
            Op::Add {
                position: Some(position),
                ..
            } if position > len => Err(ModelError::PositionOutOfRange { position, len }),
            Op::Reorder {
                range_start,
                insert_before,
                range_length,
            } => check_reorder(len, range_start, insert_before, range_length).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// How many URIs the op sends (0 for a reorder).
    pub fn uri_count(&self) -> usize {
        match self {
            Op::Add { uris, .. } | Op::Replace { uris } | Op::Remove { uris } => uris.len(),
            Op::Reorder { .. } => 0,
        }
    }
}

fn check_uris(uris: &[TrackUri]) -> Result<(), ModelError> {
    if uris.len() > MAX_URIS_PER_CALL {
        return Err(ModelError::TooManyUris {
            max: MAX_URIS_PER_CALL,
            got: uris.len(),
        });
    }
    match uris.iter().find(|uri| uri.is_local()) {
        Some(uri) => Err(ModelError::LocalFile { uri: uri.clone() }),
        None => Ok(()),
    }
}

/// What a valid reorder does to the list.
enum Move {
    None,
    /// `list[insert_before..range_end]` rotates right by `range_length`.
    Earlier,
    /// `list[range_start..insert_before]` rotates left by `range_length`.
    Later,
}

fn check_reorder(
    len: usize,
    range_start: usize,
    insert_before: usize,
    range_length: usize,
) -> Result<Move, ModelError> {
    let out_of_bounds = ModelError::RangeOutOfBounds {
        range_start,
        range_length,
        len,
    };
    let range_end = range_start
        .checked_add(range_length)
        .ok_or_else(|| out_of_bounds.clone())?;
    if range_length == 0 {
        return Err(ModelError::EmptyRange);
    }
    if range_start >= len || range_end > len {
        return Err(out_of_bounds);
    }
    if insert_before > len {
        return Err(ModelError::InsertBeforeOutOfRange { insert_before, len });
    }
    if insert_before > range_start && insert_before < range_end {
        return Err(ModelError::InsertInsideRange {
            insert_before,
            range_start,
            range_end,
        });
    }
    Ok(if insert_before < range_start {
        Move::Earlier
    } else if insert_before > range_end {
        Move::Later
    } else {
        Move::None
    })
}

/// Applies a reorder to any slice with Spotify's semantics; the planner uses it on its own index lists
/// so that it moves exactly as [`apply`] does.
pub(crate) fn reorder_slice<T>(
    list: &mut [T],
    range_start: usize,
    insert_before: usize,
    range_length: usize,
) -> Result<(), ModelError> {
    match check_reorder(list.len(), range_start, insert_before, range_length)? {
        Move::None => {}
        Move::Earlier => list[insert_before..range_start + range_length].rotate_right(range_length),
        Move::Later => list[range_start..insert_before].rotate_left(range_length),
    }
    Ok(())
}

/// Applies `op` to `list` as Spotify would, or says why Spotify would refuse it (and leaves `list` as it
/// was). O(len + number of URIs).
pub fn apply(list: &mut Vec<TrackUri>, op: &Op) -> Result<(), ModelError> {
    op.check(list.len())?;
    match op {
        Op::Add { uris, position } => {
            let at = position.unwrap_or(list.len());
            list.splice(at..at, uris.iter().cloned());
        }
        Op::Replace { uris } => {
            list.clear();
            list.extend(uris.iter().cloned());
        }
        Op::Reorder {
            range_start,
            insert_before,
            range_length,
        } => reorder_slice(list, *range_start, *insert_before, *range_length)?,
        Op::Remove { uris } => {
            let gone: HashSet<&TrackUri> = uris.iter().collect();
            list.retain(|uri| !gone.contains(uri));
        }
    }
    Ok(())
}

/// Applies `ops` in order, stopping at the first refused one, whose index is returned with the reason.
/// The list then holds the result of the ops before it.
pub fn apply_all(list: &mut Vec<TrackUri>, ops: &[Op]) -> Result<(), (usize, ModelError)> {
    for (i, op) in ops.iter().enumerate() {
        apply(list, op).map_err(|e| (i, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Distinct, valid track URIs named by a number, so lists read as numbers in failures.
    fn t(n: usize) -> TrackUri {
        TrackUri::parse(&format!("spotify:track:{n:0>22}")).expect("valid")
    }

    fn list(ns: &[usize]) -> Vec<TrackUri> {
        ns.iter().copied().map(t).collect()
    }

    fn local() -> TrackUri {
        TrackUri::parse("spotify:local:Artist:Album:Title:180").expect("valid")
    }

    fn reorder(range_start: usize, insert_before: usize, range_length: usize) -> Op {
        Op::Reorder {
            range_start,
            insert_before,
            range_length,
        }
    }

    fn applied(ns: &[usize], op: &Op) -> Result<Vec<TrackUri>, ModelError> {
        let mut l = list(ns);
        apply(&mut l, op).map(|()| l)
    }

    #[test]
    fn reorder_matches_the_reference_examples() {
        let ten: Vec<usize> = (0..10).collect();
        // "To reorder the first item to the last position in a playlist with 10 items, set range_start
        // to 0, and insert_before to 10."
        assert_eq!(
            applied(&ten, &reorder(0, 10, 1)),
            Ok(list(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0]))
        );
        // "To reorder the last item in a playlist with 10 items to the start of the playlist, set
        // range_start to 9, and insert_before to 0."
        assert_eq!(
            applied(&ten, &reorder(9, 0, 1)),
            Ok(list(&[9, 0, 1, 2, 3, 4, 5, 6, 7, 8]))
        );
        // "To move the items at index 9-10 to the start of the playlist, range_start is set to 9, and
        // range_length is set to 2." (in an 11-item list)
        let eleven: Vec<usize> = (0..11).collect();
        assert_eq!(
            applied(&eleven, &reorder(9, 0, 2)),
            Ok(list(&[9, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8]))
        );
        // The request example: range_start 1, insert_before 3, range_length 2 is a no-op edge.
        assert_eq!(applied(&ten, &reorder(1, 3, 2)), Ok(list(&ten)));
        assert_eq!(applied(&ten, &reorder(1, 1, 2)), Ok(list(&ten)));
        // insert_before counts positions before the move.
        assert_eq!(
            applied(&[0, 1, 2, 3, 4], &reorder(1, 4, 2)),
            Ok(list(&[0, 3, 1, 2, 4]))
        );
        assert_eq!(
            applied(&[0, 1, 2, 3, 4], &reorder(3, 1, 2)),
            Ok(list(&[0, 3, 4, 1, 2]))
        );
    }

    #[test]
    fn reorder_errors() {
        let five = [0, 1, 2, 3, 4];
        assert_eq!(
            applied(&five, &reorder(1, 2, 3)),
            Err(ModelError::InsertInsideRange {
                insert_before: 2,
                range_start: 1,
                range_end: 4
            })
        );
        assert_eq!(
            applied(&five, &reorder(5, 0, 1)),
            Err(ModelError::RangeOutOfBounds {
                range_start: 5,
                range_length: 1,
                len: 5
            })
        );
        assert!(matches!(
            applied(&five, &reorder(3, 0, 3)),
            Err(ModelError::RangeOutOfBounds { .. })
        ));
        assert_eq!(applied(&five, &reorder(0, 5, 0)), Err(ModelError::EmptyRange));
        assert!(matches!(
            applied(&five, &reorder(1, 0, usize::MAX)),
            Err(ModelError::RangeOutOfBounds { .. })
        ));
        assert_eq!(
            applied(&five, &reorder(0, 6, 1)),
            Err(ModelError::InsertBeforeOutOfRange {
                insert_before: 6,
                len: 5
            })
        );
        assert!(applied(&[], &reorder(0, 0, 1)).is_err());
    }

    #[test]
    fn add() {
        let op = |ns: &[usize], position| Op::Add {
            uris: list(ns),
            position,
        };
        assert_eq!(applied(&[0, 1], &op(&[7, 8], None)), Ok(list(&[0, 1, 7, 8])));
        assert_eq!(
            applied(&[0, 1], &op(&[7, 8], Some(0))),
            Ok(list(&[7, 8, 0, 1]))
        );
        assert_eq!(
            applied(&[0, 1], &op(&[7], Some(1))),
            Ok(list(&[0, 7, 1]))
        );
        assert_eq!(applied(&[0, 1], &op(&[7], Some(2))), Ok(list(&[0, 1, 7])));
        assert_eq!(
            applied(&[0, 1], &op(&[7], Some(3))),
            Err(ModelError::PositionOutOfRange {
                position: 3,
                len: 2
            })
        );
        assert_eq!(applied(&[0], &op(&[], None)), Err(ModelError::NoUris));
        let hundred: Vec<usize> = (0..100).collect();
        assert_eq!(applied(&[], &op(&hundred, None)), Ok(list(&hundred)));
        let too_many: Vec<usize> = (0..101).collect();
        assert_eq!(
            applied(&[0], &op(&too_many, None)),
            Err(ModelError::TooManyUris { max: 100, got: 101 })
        );
        let mut l = list(&[0]);
        assert_eq!(
            apply(
                &mut l,
                &Op::Add {
                    uris: vec![local()],
                    position: None
                }
            ),
            Err(ModelError::LocalFile { uri: local() })
        );
        assert_eq!(l, list(&[0]), "a refused op leaves the list alone");
    }

    #[test]
    fn replace_and_remove() {
        assert_eq!(
            applied(&[0, 1, 2], &Op::Replace { uris: list(&[5, 5]) }),
            Ok(list(&[5, 5]))
        );
        assert_eq!(
            applied(&[0, 1, 2], &Op::Replace { uris: vec![] }),
            Ok(vec![])
        );
        assert!(matches!(
            applied(&[], &Op::Replace { uris: list(&(0..101).collect::<Vec<_>>()) }),
            Err(ModelError::TooManyUris { .. })
        ));
        // Every occurrence goes; URIs that are not there are ignored.
        assert_eq!(
            applied(
                &[1, 2, 1, 3, 1, 2],
                &Op::Remove {
                    uris: list(&[1, 9])
                }
            ),
            Ok(list(&[2, 3, 2]))
        );
        assert_eq!(
            applied(&[1], &Op::Remove { uris: vec![] }),
            Err(ModelError::NoUris)
        );
        let mut with_local = vec![t(1), local()];
        assert!(apply(
            &mut with_local,
            &Op::Remove {
                uris: vec![local()]
            }
        )
        .is_err());
        // Local files can be moved.
        assert_eq!(apply(&mut with_local, &reorder(1, 0, 1)), Ok(()));
        assert_eq!(with_local, vec![local(), t(1)]);
    }

    #[test]
    fn apply_all_reports_the_failing_index() {
        let mut l = list(&[0, 1, 2]);
        let ops = [
            reorder(0, 3, 1),
            Op::Remove { uris: list(&[1]) },
            reorder(5, 0, 1),
        ];
        assert_eq!(
            apply_all(&mut l, &ops),
            Err((
                2,
                ModelError::RangeOutOfBounds {
                    range_start: 5,
                    range_length: 1,
                    len: 2
                }
            ))
        );
        assert_eq!(l, list(&[2, 0]));
    }

    /// Reference implementation of a reorder, written the slow obvious way.
    fn naive_reorder(l: &[usize], start: usize, before: usize, length: usize) -> Vec<usize> {
        let moved: Vec<usize> = l[start..start + length].to_vec();
        let mut out = Vec::new();
        for (i, x) in l.iter().enumerate() {
            if i == before {
                out.extend(&moved);
            }
            if i < start || i >= start + length {
                out.push(*x);
            }
        }
        if before == l.len() {
            out.extend(&moved);
        }
        out
    }

    proptest! {
        #[test]
        fn reorder_matches_naive(
            len in 0usize..12, start in 0usize..13, before in 0usize..13, length in 0usize..13,
        ) {
            let l: Vec<usize> = (0..len).collect();
            let result = applied(&l, &reorder(start, before, length));
            let valid = length >= 1 && start < len && start + length <= len && before <= len
                && !(before > start && before < start + length);
            prop_assert_eq!(result.is_ok(), valid);
            if let Ok(got) = result {
                prop_assert_eq!(got, list(&naive_reorder(&l, start, before, length)));
            }
        }
    }
}
