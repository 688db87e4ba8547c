//! Which pool entries a bay goes on: a pure choice over what the engines reported.

/// A reachable pool entry as placement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// The entry's position in the pool (breaks ties: earlier entries first).
    pub(crate) pool_index: usize,
    /// An earlier attempt already put this bay's network on this entry.
    pub(crate) holds_bay: bool,
    /// How many other bays this entry carries.
    pub(crate) other_bays: usize,
}

/// Picks `needed` entries, in placement order: those already holding the bay first (so a
/// repeated create converges on what an interrupted one made), then the least loaded, ties by
/// pool order. `None` when fewer than `needed` candidates exist.
pub(crate) fn choose(candidates: &[Candidate], needed: usize) -> Option<Vec<usize>> {
    if candidates.len() < needed {
        return None;
    }
    let mut ranked = candidates.to_vec();
    ranked.sort_by_key(|candidate| {
        (
            !candidate.holds_bay,
            candidate.other_bays,
            candidate.pool_index,
        )
    });
    Some(
        ranked
            .into_iter()
            .take(needed)
            .map(|candidate| candidate.pool_index)
            .collect(),
    )
}

#[cfg(test)]
#[path = "placement_test.rs"]
mod tests;
