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
/// * `heap` orders expiries for the two questions that need the soonest
///   one first (has anything expired yet? which keys does ExpireScan take
///   first?). Updates only push: an entry whose expiry no longer matches
///   `points` is stale and skipped, and the heap is rebuilt when stale
///   entries outnumber live ones. So setting an expiry costs a hash insert
///   and a heap push, without an allocation per call.
#[derive(Debug, Default)]
pub(crate) struct TtlIndex {
    points: HashMap<u64, u64, BuildHasherDefault<MixHasher>>,
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    /// (key, previous expiry) for every change since the outermost open
    /// transaction or atomic unit began.
    undo: Vec<(u64, Option<u64>)>,
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
        self.heap.peek().map(|Reverse((at, _))| *at)
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
            Some(t) => {
                let old = self.points.insert(key, t);
                if old != Some(t) {
                    self.heap.push(Reverse((t, key)));
                }
                old
            }
            None => self.points.remove(&key),
        };
        if record && old != at {
            self.undo.push((key, old));
        }
        if old.is_some() && old != at {
            self.tidy();
        }
    }

    /// Drops stale entries from the top of the heap, and rebuilds it when
    /// stale entries outnumber live ones.
    fn tidy(&mut self) {
        while let Some(&Reverse((t, k))) = self.heap.peek() {
            if self.points.get(&k) == Some(&t) {
                break;
            }
            self.heap.pop();
        }
        if self.heap.len() > 2 * self.points.len() + 64 {
            self.heap = self.points.iter().map(|(&k, &t)| Reverse((t, k))).collect();
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
