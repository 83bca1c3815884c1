//! The in-memory index of TTL records, written once for every engine.
//!
//! It mirrors the engine's TTL keyspace exactly (loaded at open, changed
//! only together with the engine) so that lazy expiry costs reads nothing
//! when no key has a TTL and one hash lookup when some do. Changes made
//! inside a transaction or an atomic unit are recorded so that a rollback
//! restores the index with the database.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiplicative hash for u64 keys (point lookups of the TTL index).
#[derive(Default)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(self.0 ^ *b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Current time in Unix milliseconds (CLOCK_REALTIME, as the original).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis().min(u64::MAX as u128) as u64)
        .unwrap_or(0)
}

/// Largest storable expiry (the SQLite engine stores it as a signed integer).
pub const MAX_EXPIRY: u64 = i64::MAX as u64;

/// The TTL records, as the engine holds them.
///
/// * `points`, a hash map key → expiry, is the truth: the point lookup of
///   every read (when any key has a TTL) and the source of every range
///   question (rare: range deletes, counts while something has expired).
/// * The soonest expiry answers the question every scan asks (has
///   anything expired yet?). While expiries are only added or moved
///   earlier it is one number, `first`, kept exact. Once the soonest one is
///   removed or moved later, it can no longer be known without ordering
///   them all, and `heap` is built from `points` (once), then
///   kept: updates only push, an entry whose expiry no longer matches
///   `points` is stale and skipped, and the heap is rebuilt when stale
///   entries outnumber live ones. So setting an expiry costs a hash insert
///   (and a heap push once the heap exists), without an allocation per
///   call; a store that only adds expiries (time series with retention,
///   leases, fresh keys) keeps no heap at all.
#[derive(Debug, Default)]
pub(crate) struct TtlIndex {
    points: HashMap<u64, u64, BuildHasherDefault<MixHasher>>,
    /// The soonest expiry in `points` while there is no heap (meaningless
    /// when `points` is empty).
    first: u64,
    /// Empty until built; then it holds every live expiry (and stale
    /// ones), so it is empty again only when it is dropped.
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    /// (key, previous expiry) for every change since the outermost open
    /// transaction or atomic unit began.
    undo: Vec<(u64, Option<u64>)>,
    /// Set during a bulk removal ([`TtlIndex::defer_tidy`]): stale entries
    /// stay on the heap until [`TtlIndex::end_defer`].
    deferring: bool,
}

impl TtlIndex {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.points.len()
    }

    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u64> {
        if self.points.is_empty() { None } else { self.points.get(&key).copied() }
    }

    /// True if `key` has an expiry at or before `now`.
    #[inline]
    pub(crate) fn expired(&self, key: u64, now: u64) -> bool {
        self.get(key).is_some_and(|at| at <= now)
    }

    /// The soonest expiry of any key (the heap's top is kept live).
    #[inline]
    fn soonest(&self) -> Option<u64> {
        if let Some(Reverse((at, _))) = self.heap.peek() {
            Some(*at)
        } else if self.points.is_empty() {
            None
        } else {
            Some(self.first)
        }
    }

    /// For a scan: `Some(now)` if some key may have expired by now (rows
    /// must be checked), `None` if no expiry has passed yet (no per-row work).
    #[inline]
    pub(crate) fn scan_now(&self) -> Option<u64> {
        let first = self.soonest()?;
        let now = now_ms();
        if first <= now { Some(now) } else { None }
    }

    /// Records a change (already made in the engine).
    pub(crate) fn set(&mut self, key: u64, at: Option<u64>, record: bool) {
        let old = match at {
            Some(t) => self.points.insert(key, t),
            None => self.points.remove(&key),
        };
        if old == at {
            return;
        }
        if record {
            self.undo.push((key, old));
        }
        if self.heaped() {
            if let Some(t) = at {
                self.heap.push(Reverse((t, key)));
            }
            if old.is_some() && !self.deferring {
                self.tidy();
            }
            return;
        }
        match (old, at) {
            // The soonest one goes or moves later: what comes next is only
            // known by ordering them all, from now on (nothing to order
            // when it was the last one).
            (Some(o), _) if o == self.first && at.is_none_or(|t| t > o) && !self.points.is_empty() => {
                self.build_heap();
            }
            (_, Some(t)) if t < self.first || self.points.len() == 1 => self.first = t,
            _ => {}
        }
    }

    /// Orders every expiry in a heap of its own (stale entries dropped).
    fn build_heap(&mut self) {
        self.heap = self.points.iter().map(|(&k, &t)| Reverse((t, k))).collect();
    }

    /// True once the heap is built (see the type's description).
    #[inline]
    fn heaped(&self) -> bool {
        !self.heap.is_empty()
    }

    /// Leaves the heap untidied through the removals that follow, until
    /// [`TtlIndex::end_defer`]: removing many of the soonest keys (an
    /// ExpireScan) then costs one rebuild or a run of pops at the end, not
    /// a pop per removal. Meanwhile the heap's top may be stale, which only
    /// makes the soonest expiry it reports earlier than the true one (the
    /// questions it answers stay correct: some rows are checked for
    /// nothing).
    pub(crate) fn defer_tidy(&mut self) {
        self.deferring = true;
    }

    pub(crate) fn end_defer(&mut self) {
        self.deferring = false;
        self.tidy();
        // The soonest expiry is the tidied top: the heap can go (a bulk
        // removal costs a pass over every expiry anyway, so building it
        // again at the next removal of the soonest one costs no more), and
        // expiries added after it push nothing.
        if let Some(&Reverse((t, _))) = self.heap.peek() {
            self.first = t;
            self.heap = BinaryHeap::new();
        }
    }

    /// Rebuilds the heap when stale entries outnumber live ones, else drops
    /// stale entries from its top; without expiries, goes without a heap
    /// again.
    fn tidy(&mut self) {
        if !self.heaped() {
            return;
        }
        if self.points.is_empty() {
            self.heap = BinaryHeap::new();
            return;
        }
        if self.heap.len() > 2 * self.points.len() + 64 {
            self.build_heap();
            return;
        }
        while let Some(&Reverse((t, k))) = self.heap.peek() {
            if self.points.get(&k) == Some(&t) {
                break;
            }
            self.heap.pop();
        }
    }

    /// Keys with a TTL in `[lo, hi]`.
    pub(crate) fn keys_in(&self, lo: u64, hi: u64) -> Vec<u64> {
        if lo > hi {
            return Vec::new();
        }
        self.points.keys().copied().filter(|k| (lo..=hi).contains(k)).collect()
    }

    /// Number of keys in `[lo, hi]` that have expired.
    pub(crate) fn expired_in(&self, lo: u64, hi: u64, now: u64) -> u64 {
        if lo > hi || self.soonest().is_none_or(|t| t > now) {
            return 0;
        }
        self.points.iter().filter(|&(k, &at)| at <= now && (lo..=hi).contains(k)).count() as u64
    }

    /// Expired keys, soonest expired first, at most `max` (0 = all).
    pub(crate) fn expired_keys(&self, now: u64, max: u64) -> Vec<u64> {
        if self.soonest().is_none_or(|t| t > now) {
            return Vec::new();
        }
        let mut due: Vec<(u64, u64)> =
            self.points.iter().filter(|&(_, &at)| at <= now).map(|(&k, &at)| (at, k)).collect();
        due.sort_unstable();
        let take = if max == 0 { due.len() } else { due.len().min(max.min(usize::MAX as u64) as usize) };
        due.into_iter().take(take).map(|(_, k)| k).collect()
    }

    pub(crate) fn mark(&self) -> usize {
        self.undo.len()
    }

    /// Undoes the changes recorded after `mark`.
    pub(crate) fn rollback_to(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let (key, old) = self.undo.pop().expect("undo entry");
            self.set(key, old, false);
        }
    }

    pub(crate) fn forget_undo(&mut self) {
        self.undo.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::TtlIndex;

    /// The soonest expiry the heap reports, checked against the truth.
    fn check(t: &TtlIndex) {
        assert_eq!(t.soonest(), t.points.values().min().copied(), "heap top after tidying");
    }

    #[test]
    fn deferred_removals_are_tidied_at_the_end() {
        for (n, removed) in [(1000u64, 1000u64), (1000, 400), (1000, 999), (100, 10), (10, 10)] {
            let mut t = TtlIndex::default();
            for k in 0..n {
                // Expiries in reverse key order, so the soonest is the last key.
                t.set(k, Some(10_000 - k), false);
            }
            assert!(!t.heaped(), "expiries only added: no heap");
            check(&t);
            t.defer_tidy();
            // Remove the soonest `removed`, as ExpireScan does: the first
            // removal orders the others in a heap.
            for k in (n - removed..n).rev() {
                t.set(k, None, false);
            }
            // Untidied meanwhile: the top may be stale, never later than the truth.
            assert!(t.heaped());
            assert_eq!(t.heap.len() as u64, n - 1, "no pops while deferring");
            if let Some(min) = t.points.values().min() {
                assert!(t.soonest().is_some_and(|s| s <= *min));
            }
            t.end_defer();
            check(&t);
            assert_eq!(t.len() as u64, n - removed);
            assert!(t.heap.len() <= 2 * t.points.len() + 64, "rebuilt when mostly stale");
            // And the index goes on as usual afterwards.
            t.set(n + 1, Some(5), false);
            check(&t);
            t.set(n + 1, None, false);
            check(&t);
        }
    }

    #[test]
    fn rollback_while_deferring_restores_the_index() {
        let mut t = TtlIndex::default();
        for k in 0..100u64 {
            t.set(k, Some(1000 + k), false);
        }
        let mark = t.mark();
        t.defer_tidy();
        for k in 0..60u64 {
            t.set(k, None, true);
        }
        t.rollback_to(mark);
        t.end_defer();
        assert_eq!(t.len(), 100);
        assert_eq!(t.get(0), Some(1000));
        check(&t);
    }

    /// Random sets, moves and removals (with rollbacks), on few keys so
    /// that the soonest one is often moved or removed: after every step
    /// the soonest expiry is the truth's, with or without a heap.
    #[test]
    fn the_soonest_expiry_is_exact_through_any_change() {
        let mut rng = crate::test_util::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut next = move |n: u64| rng() % n;
        let (mut heaped, mut unheaped) = (0, 0);
        for _ in 0..200 {
            let mut t = TtlIndex::default();
            let keys = 1 + next(40);
            let mut mark = None;
            for _ in 0..300 {
                let k = next(keys);
                match next(10) {
                    0..=5 => t.set(k, Some(next(1000)), mark.is_some()),
                    6..=7 => t.set(k, None, mark.is_some()),
                    8 => {
                        if let Some(m) = mark.take() {
                            t.rollback_to(m);
                            t.forget_undo();
                        } else {
                            mark = Some(t.mark());
                        }
                    }
                    _ => {
                        // A bulk removal of everything that expired by then.
                        let now = next(1000);
                        t.defer_tidy();
                        for k in t.expired_keys(now, 0) {
                            t.set(k, None, mark.is_some());
                        }
                        t.end_defer();
                    }
                }
                check(&t);
                if t.heaped() { heaped += 1 } else { unheaped += 1 }
            }
        }
        assert!(heaped > 1000 && unheaped > 1000, "both ways exercised: {heaped} with a heap, {unheaped} without");
    }
}
