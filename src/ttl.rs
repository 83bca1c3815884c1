//! The in-memory index of TTL records, written once for every engine.
//!
//! It mirrors the engine's TTL keyspace exactly (loaded at open, changed
//! only together with the engine) so that lazy expiry costs reads nothing
//! when no key has a TTL and one ordered-map lookup when some do. Changes
//! made inside a transaction or an atomic unit are recorded so that a
//! rollback restores the index with the database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
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

#[derive(Debug, Default)]
pub(crate) struct TtlIndex {
    by_key: BTreeMap<u64, u64>,
    /// The same records hashed, for the point lookups of every read.
    points: HashMap<u64, u64, BuildHasherDefault<MixHasher>>,
    by_time: BTreeSet<(u64, u64)>,
    /// (key, previous expiry) for every change since the outermost open
    /// transaction or atomic unit began.
    undo: Vec<(u64, Option<u64>)>,
}

impl TtlIndex {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }

    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u64> {
        if self.by_key.is_empty() { None } else { self.points.get(&key).copied() }
    }

    /// True if `key` has an expiry at or before `now`.
    #[inline]
    pub(crate) fn expired(&self, key: u64, now: u64) -> bool {
        self.get(key).is_some_and(|at| at <= now)
    }

    /// For a scan: `Some(now)` if some key may have expired by now (rows
    /// must be checked), `None` if no expiry has passed yet (no per-row work).
    #[inline]
    pub(crate) fn scan_now(&self) -> Option<u64> {
        let first = self.by_time.first()?.0;
        let now = now_ms();
        if first <= now { Some(now) } else { None }
    }

    /// Records a change (already made in the engine).
    pub(crate) fn set(&mut self, key: u64, at: Option<u64>, record: bool) {
        let old = match at {
            Some(t) => {
                self.points.insert(key, t);
                self.by_key.insert(key, t)
            }
            None => {
                self.points.remove(&key);
                self.by_key.remove(&key)
            }
        };
        if let Some(o) = old {
            self.by_time.remove(&(o, key));
        }
        if let Some(t) = at {
            self.by_time.insert((t, key));
        }
        if record && old != at {
            self.undo.push((key, old));
        }
    }

    /// Keys with a TTL in `[lo, hi]`.
    pub(crate) fn keys_in(&self, lo: u64, hi: u64) -> Vec<u64> {
        if lo > hi { Vec::new() } else { self.by_key.range(lo..=hi).map(|(k, _)| *k).collect() }
    }

    /// Number of keys in `[lo, hi]` that have expired.
    pub(crate) fn expired_in(&self, lo: u64, hi: u64, now: u64) -> u64 {
        if lo > hi || self.by_key.is_empty() {
            return 0;
        }
        self.by_key.range(lo..=hi).filter(|(_, at)| **at <= now).count() as u64
    }

    /// Expired keys in order of expiry, at most `max` (0 = all).
    pub(crate) fn expired_keys(&self, now: u64, max: u64) -> Vec<u64> {
        let it = self.by_time.iter().take_while(|(at, _)| *at <= now).map(|(_, k)| *k);
        if max == 0 { it.collect() } else { it.take(max.min(usize::MAX as u64) as usize).collect() }
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
