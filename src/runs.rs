//! An in-memory index of the runs of consecutive keys, so that counts need
//! no scan for the workloads this library exists for (Raft logs, time
//! series, queues: keys that come in long consecutive runs).
//!
//! * It is built on the first count, from a scan of the keys; until then
//!   writes pay nothing for it.
//! * Once built, every write keeps it exact (an insert extends or merges
//!   runs, a delete splits one, a range delete trims them). Anything it
//!   cannot follow cheaply — a rolled-back transaction or savepoint, another
//!   process's commit — drops it, and the next count builds it again.
//! * Memory is bounded: past [`MAX_RUNS`] runs (keys scattered at random)
//!   it gives up and counts fall back to the engine, as before; it tries
//!   again after a while, stopping a build as soon as the runs overflow, so
//!   a failed attempt costs a bounded scan.
//!
//! Keys are counted as stored: entries that have expired but are not yet
//! reclaimed are in it (the store subtracts them, from the TTL index).

use std::collections::BTreeMap;

/// The most runs kept (a run costs about 40 bytes).
pub(crate) const MAX_RUNS: usize = 4096;
/// Counts answered by the engine before another attempt to build.
const RETRY_AFTER: u32 = 256;

#[derive(Debug, Default)]
enum State {
    /// Not built (never, or dropped): the next count builds it.
    #[default]
    Unbuilt,
    /// Exact.
    Valid,
    /// Too many runs: counts go to the engine; `n` more, then try again.
    Disabled(u32),
}

#[derive(Debug, Default)]
pub(crate) struct RunIndex {
    state: State,
    /// start -> end (inclusive) of every run; runs neither overlap nor touch.
    runs: BTreeMap<u64, u64>,
    total: u64,
}

/// What the store should do for a count.
pub(crate) enum Plan {
    /// The index answered.
    Answer(u64),
    /// Build it from a scan of all keys ([`RunIndex::build`]), then ask again.
    Build,
    /// Ask the engine.
    Engine,
}

impl RunIndex {
    #[inline]
    fn valid(&self) -> bool {
        matches!(self.state, State::Valid)
    }

    /// Forgets everything (the next count rebuilds).
    #[inline]
    pub(crate) fn invalidate(&mut self) {
        if self.valid() {
            self.runs.clear();
            self.total = 0;
            self.state = State::Unbuilt;
        }
    }

    /// How to count the stored keys in `[lo, hi]` (`lo <= hi`).
    pub(crate) fn plan(&mut self, lo: u64, hi: u64) -> Plan {
        match self.state {
            State::Valid => Plan::Answer(self.count(lo, hi)),
            State::Unbuilt => Plan::Build,
            State::Disabled(0) => Plan::Build,
            State::Disabled(ref mut n) => {
                *n -= 1;
                Plan::Engine
            }
        }
    }

    /// Builds the index from every stored key in ascending order. `keys`
    /// calls its argument for each key until it returns false. Returns
    /// whether the index is now valid.
    pub(crate) fn build(&mut self, keys: impl FnOnce(&mut dyn FnMut(u64) -> bool)) -> bool {
        self.runs.clear();
        self.total = 0;
        let mut cur: Option<(u64, u64)> = None;
        let mut overflow = false;
        let (runs, total) = (&mut self.runs, &mut self.total);
        keys(&mut |k| {
            *total += 1;
            match cur {
                Some((s, e)) if e.checked_add(1) == Some(k) => cur = Some((s, k)),
                Some((s, e)) => {
                    runs.insert(s, e);
                    if runs.len() >= MAX_RUNS {
                        overflow = true;
                        return false;
                    }
                    cur = Some((k, k));
                }
                None => cur = Some((k, k)),
            }
            true
        });
        if overflow {
            self.runs.clear();
            self.total = 0;
            self.state = State::Disabled(RETRY_AFTER);
            return false;
        }
        if let Some((s, e)) = cur {
            self.runs.insert(s, e);
        }
        self.state = State::Valid;
        true
    }

    /// The count of stored keys in `[lo, hi]` if the index is built.
    #[inline]
    pub(crate) fn answer(&self, lo: u64, hi: u64) -> Option<u64> {
        if self.valid() { Some(self.count(lo, hi)) } else { None }
    }

    /// Stored keys in `[lo, hi]`.
    fn count(&self, lo: u64, hi: u64) -> u64 {
        if lo == 0 && hi == u64::MAX {
            return self.total;
        }
        let mut n = 0u64;
        // The run that starts at or before lo may reach into the range.
        if let Some((_, &e)) = self.runs.range(..lo).next_back()
            && e >= lo
        {
            n += e.min(hi) - lo + 1;
        }
        for (&s, &e) in self.runs.range(lo..=hi) {
            n += e.min(hi) - s + 1;
        }
        n
    }

    /// `key` is stored now (new or not).
    #[inline]
    pub(crate) fn insert(&mut self, key: u64) {
        if !self.valid() {
            return;
        }
        // The common case first: appending right after the last run.
        if let Some(mut last) = self.runs.last_entry() {
            let e = *last.get();
            if e.checked_add(1) == Some(key) {
                *last.get_mut() = key;
                self.total += 1;
                return;
            }
        }
        self.insert_slow(key);
    }

    fn insert_slow(&mut self, key: u64) {
        let before = self.runs.range(..=key).next_back().map(|(&s, &e)| (s, e));
        if let Some((_, e)) = before
            && e >= key
        {
            return; // already stored
        }
        let after = key.checked_add(1).and_then(|n| self.runs.get(&n).map(|&e| (n, e)));
        match (before, after) {
            (Some((s, e)), Some((n, ne))) if e.checked_add(1) == Some(key) => {
                self.runs.remove(&n);
                self.runs.insert(s, ne);
            }
            (Some((s, e)), _) if e.checked_add(1) == Some(key) => {
                self.runs.insert(s, key);
            }
            (_, Some((n, ne))) => {
                self.runs.remove(&n);
                self.runs.insert(key, ne);
            }
            _ => {
                self.runs.insert(key, key);
                if self.runs.len() > MAX_RUNS {
                    self.disable();
                    return;
                }
            }
        }
        self.total += 1;
    }

    /// `key` is not stored any more (whether it was or not).
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) {
        if self.valid() {
            self.remove_range(key, key);
        }
    }

    /// No key of `[lo, hi]` is stored any more.
    pub(crate) fn remove_range(&mut self, lo: u64, hi: u64) {
        if !self.valid() || lo > hi {
            return;
        }
        let mut removed = 0u64;
        let mut add = Vec::new();
        // A run starting before lo that reaches into the range.
        if let Some((&s, &e)) = self.runs.range(..lo).next_back()
            && e >= lo
        {
            removed += e.min(hi) - lo + 1;
            self.runs.insert(s, lo - 1);
            if e > hi {
                add.push((hi + 1, e));
            }
        }
        let inside: Vec<(u64, u64)> = self.runs.range(lo..=hi).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in inside {
            self.runs.remove(&s);
            removed += e.min(hi) - s + 1;
            if e > hi {
                add.push((hi + 1, e));
            }
        }
        for (s, e) in add {
            self.runs.insert(s, e);
        }
        self.total -= removed;
        if self.runs.len() > MAX_RUNS {
            self.disable();
        }
    }

    fn disable(&mut self) {
        self.runs.clear();
        self.total = 0;
        self.state = State::Disabled(RETRY_AFTER);
    }
}
