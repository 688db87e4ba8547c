#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn candidate(pool_index: usize, holds_bay: bool, other_bays: usize) -> Candidate {
    Candidate {
        pool_index,
        holds_bay,
        other_bays,
    }
}

#[test]
fn fewest_bays_first_ties_by_pool_order() {
    let candidates = [
        candidate(0, false, 2),
        candidate(1, false, 1),
        candidate(2, false, 0),
        candidate(3, false, 1),
    ];
    assert_eq!(choose(&candidates, 3), Some(vec![2, 1, 3]));
}

#[test]
fn entries_holding_the_bay_come_first() {
    let candidates = [
        candidate(0, false, 0),
        candidate(1, true, 5),
        candidate(2, false, 1),
        candidate(3, true, 2),
    ];
    assert_eq!(choose(&candidates, 3), Some(vec![3, 1, 0]));
    // More earlier placements than needed: the least loaded of them.
    assert_eq!(choose(&candidates, 1), Some(vec![3]));
}

#[test]
fn repeated_choice_is_stable_once_placed() {
    let fresh = [
        candidate(0, false, 1),
        candidate(1, false, 0),
        candidate(2, false, 0),
    ];
    let first = choose(&fresh, 2).unwrap();
    assert_eq!(first, vec![1, 2]);
    // A second attempt sees the bay on the chosen entries; other-bay counts are unchanged.
    let again = [
        candidate(0, false, 1),
        candidate(1, true, 0),
        candidate(2, true, 0),
    ];
    assert_eq!(choose(&again, 2).unwrap(), first);
}

#[test]
fn too_few_candidates() {
    assert_eq!(choose(&[candidate(4, false, 0)], 2), None);
    assert_eq!(choose(&[], 0), Some(vec![]));
}
