//! Administration of a store: integrity checks ([`Store::verify`]),
//! compaction ([`Store::compact`]), consistent snapshots with expiry times
//! ([`Store::for_each_with_expiry`]), copies between engines
//! ([`Store::copy_into`]), TTL and engine facts ([`Store::ttl_summary`],
//! [`Store::engine_details`]). The `kvidx` command-line tool is made of
//! these; each works on every engine.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::RangeBounds;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::engine::{Dir, Engine, Row};
use crate::error::{Error, Result};
use crate::store::{EntryRef, Store, bounds};
use crate::ttl::{MAX_EXPIRY, now_ms};

/// The library's version (the package version, e.g. "0.8.0").
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Most problems one [`Check`] lists; the others are only counted.
pub const MAX_PROBLEMS: usize = 100;

/// One integrity check and what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// What was checked ("SQLite integrity_check").
    pub name: String,
    /// What the check covered ("1000000 records"), for the report.
    pub summary: String,
    /// What is wrong, one line each; empty when the check passed. At most
    /// 100 (`MAX_PROBLEMS`): [`Check::more`] counts the others.
    pub problems: Vec<String>,
    /// Problems found beyond those listed.
    pub more: u64,
}

impl Check {
    /// A check named `name` that has found nothing wrong yet.
    pub fn new(name: impl Into<String>) -> Self {
        Check { name: name.into(), ..Check::default() }
    }

    /// Records a problem.
    pub fn problem(&mut self, text: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text.into());
        } else {
            self.more += 1;
        }
    }

    /// True if the check found nothing wrong.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// Number of problems found (listed or not).
    pub fn problem_count(&self) -> u64 {
        self.problems.len() as u64 + self.more
    }
}

/// What [`Store::verify`] found: every check made, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// The checks, the engine's own first.
    pub checks: Vec<Check>,
    /// Entries read by the walk over the data.
    pub entries: u64,
    /// TTL records read.
    pub ttl_records: u64,
}

impl VerifyReport {
    /// True if every check passed.
    pub fn is_healthy(&self) -> bool {
        self.checks.iter().all(Check::passed)
    }

    /// Number of problems found by all checks.
    pub fn problem_count(&self) -> u64 {
        self.checks.iter().map(Check::problem_count).sum()
    }
}

/// Storage size before and after [`Store::compact`], in bytes (the
/// database file plus its WAL for SQLite, `data.mdb` for LMDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactReport {
    /// Bytes before.
    pub before: u64,
    /// Bytes after.
    pub after: u64,
}

/// What [`Store::copy_into`] copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyReport {
    /// Entries copied (every live entry of the snapshot).
    pub entries: u64,
    /// Of those, entries copied with their expiry time.
    pub ttls: u64,
}

/// The keys with a TTL ([`Store::ttl_summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlSummary {
    /// Keys that exist and have an expiry time.
    pub keys: u64,
    /// Of those, keys whose time has passed: absent for every read, removed
    /// by the next write to them or by [`Store::expire_scan`].
    pub expired: u64,
    /// The soonest expiry still ahead.
    pub next: Option<SystemTime>,
}

fn time_of_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

impl<E: Engine> Store<E> {
    /// Checks the whole store and reports what is wrong: the engine's own
    /// checks (SQLite: `PRAGMA integrity_check` and the column types of every
    /// row; LMDB: a walk of every record of both named databases, of the
    /// free-page list, and an account of every page), then kvidxkit's
    /// invariants on any engine: every entry readable and well formed, keys in
    /// strictly ascending order, the engine's count equal to the entries
    /// walked, every TTL record belonging to an existing entry and holding a
    /// storable time. Damage is reported, not returned as an error (`Err` is
    /// for a store that cannot be read at all, or a transaction that is
    /// open: [`Error::TransactionActive`]).
    ///
    /// A TTL record without its entry (left by the original library) is
    /// removed when a store is opened for writing: open the store read-only
    /// ([`crate::Config::read_only`]) to see such records reported.
    pub fn verify(&mut self) -> Result<VerifyReport> {
        if self.in_transaction() {
            return Err(Error::TransactionActive);
        }
        let engine = self.engine_synced()?;
        let mut report = VerifyReport::default();
        engine.check_storage(&mut report.checks);

        let mut c = Check::new("entries in key order");
        let (mut n, mut prev, mut disorder) = (0u64, None::<u64>, None);
        let r = engine.scan(0, u64::MAX, Dir::Forward, |row: Row<'_>| {
            if let Some(p) = prev.filter(|&p| row.key <= p) {
                disorder = Some((p, row.key));
                return false;
            }
            prev = Some(row.key);
            n += 1;
            true
        });
        if let Some((p, k)) = disorder {
            c.problem(format!("key {k} follows key {p}: keys out of order"));
        }
        if let Err(e) = r {
            let at = prev.map_or_else(|| "before the first entry".to_string(), |k| format!("after key {k}"));
            c.problem(format!("the walk stopped {at} ({n} entries read): {e}"));
        }
        match engine.count(0, u64::MAX) {
            Ok(m) if m != n && c.passed() => c.problem(format!("the engine counts {m} entries, the walk found {n}")),
            Err(e) => c.problem(format!("counting the entries failed: {e}")),
            _ => {}
        }
        c.summary = format!("{n} entries, strictly ascending");
        report.entries = n;
        report.checks.push(c);

        let mut t = Check::new("TTL records");
        let mut records = Vec::new();
        if let Err(e) = engine.ttl_scan(&mut |k, at| records.push((k, at))) {
            t.problem(format!("reading the TTL records failed after {} records: {e}", records.len()));
        }
        for &(k, at) in &records {
            match engine.exists(k) {
                Ok(true) => {}
                Ok(false) => t.problem(format!("the TTL record of key {k} (expiry {at} ms) has no entry")),
                Err(e) => {
                    t.problem(format!("looking up the entry of TTL record {k} failed: {e}"));
                    break;
                }
            }
            if at > MAX_EXPIRY {
                t.problem(format!("the TTL record of key {k} holds {at}, beyond the largest expiry {MAX_EXPIRY}"));
            }
        }
        t.summary = match records.len() {
            1 => "1 record, of an existing entry, its time storable".to_string(),
            n => format!("{n} records, each of an existing entry, each time storable"),
        };
        report.ttl_records = records.len() as u64;
        report.checks.push(t);
        Ok(report)
    }

    /// Rewrites the store without free space and atomically replaces it
    /// (SQLite: `VACUUM`, then a WAL checkpoint that empties the WAL; LMDB:
    /// a compacting copy, `mdb_env_copy2` with `MDB_CP_COMPACT`, renamed over
    /// `data.mdb`), then closes the store. Returns the sizes before and after.
    /// On failure the store is unchanged (and closed).
    ///
    /// LMDB needs the environment to itself: if another process has it open
    /// the result is [`Error::Locked`] and nothing changes. A process that
    /// starts opening it during the compaction waits for it, then fails to
    /// open (`MDB_INVALID`) and can open it again. Not in a transaction
    /// ([`Error::TransactionActive`]), not read-only ([`Error::ReadOnly`]).
    pub fn compact(mut self) -> Result<CompactReport> {
        if self.in_transaction() {
            return Err(Error::TransactionActive);
        }
        if self.config().read_only {
            return Err(Error::ReadOnly("a store opened read-only cannot be compacted".into()));
        }
        let r = self.engine_synced().and_then(|e| e.compact());
        let closed = self.close();
        let report = r?;
        closed.map_err(|(_, e)| e)?;
        Ok(report)
    }

    /// Calls `f` with every live entry of `range` in ascending key order and
    /// its expiry time (`None`: never expires), all read from one consistent
    /// snapshot (even while other processes write an LMDB environment), until
    /// `f` returns false. Not in a transaction ([`Error::TransactionActive`]).
    ///
    /// ```
    /// # use kvidxkit::{Sqlite, Store};
    /// use std::time::Duration;
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// db.insert(1, 1, 0, b"a")?;
    /// db.insert(2, 1, 0, b"b")?;
    /// db.expire_in(2, Duration::from_secs(60))?;
    /// let mut seen = Vec::new();
    /// db.for_each_with_expiry(.., |e, expiry| {
    ///     seen.push((e.key, expiry.is_some()));
    ///     true
    /// })?;
    /// assert_eq!(seen, [(1, false), (2, true)]);
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn for_each_with_expiry(
        &mut self,
        range: impl RangeBounds<u64>,
        mut f: impl FnMut(EntryRef<'_>, Option<SystemTime>) -> bool,
    ) -> Result<()> {
        match bounds(&range) {
            Some((lo, hi)) => self.snapshot_ms(lo, hi, &mut |e, at| f(e, at.map(time_of_ms))),
            None => Ok(()),
        }
    }

    /// [`Store::for_each_with_expiry`] over `[lo, hi]` with expiry times in
    /// Unix milliseconds.
    fn snapshot_ms(&mut self, lo: u64, hi: u64, f: &mut dyn FnMut(EntryRef<'_>, Option<u64>) -> bool) -> Result<()> {
        if self.in_transaction() {
            return Err(Error::TransactionActive);
        }
        let now = now_ms();
        let expiry = RefCell::new(HashMap::new());
        let engine = self.engine_synced()?;
        engine.snapshot_scan(
            lo,
            hi,
            &mut |k, at| {
                expiry.borrow_mut().insert(k, at);
            },
            &mut |row: Row<'_>| {
                let at = expiry.borrow().get(&row.key).copied();
                if at.is_some_and(|t| t <= now) {
                    return true;
                }
                f(EntryRef { key: row.key, term: row.term, cmd: row.cmd, data: row.data }, at)
            },
        )
    }

    /// Copies every live entry, with its expiry time, into `dst` (any
    /// engine), which must hold no entry and no TTL record: one consistent
    /// snapshot of this store ([`Store::for_each_with_expiry`]) written in
    /// one transaction of `dst`. Before committing, the entries and TTL
    /// records in `dst` are counted and must equal what was copied
    /// ([`Error::Internal`] otherwise). `progress(n, total)` is called every
    /// 1000 entries and at the end (`total`: the live entries when the copy
    /// began; a false return cancels: [`Error::Cancelled`]). On any error
    /// `dst` is left as it was.
    pub fn copy_into<F: Engine>(
        &mut self,
        dst: &mut Store<F>,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<CopyReport> {
        let total = self.key_count()?;
        let mut tx = dst.transaction()?;
        let held = tx.engine_synced()?.count(0, u64::MAX)?;
        if held != 0 || tx.ttl_count() != 0 {
            return Err(Error::invalid(format!(
                "the destination of a copy must be empty; it holds {held} entries and {} TTL records",
                tx.ttl_count()
            )));
        }
        let (mut n, mut ttls) = (0u64, 0u64);
        let mut failed = None;
        let mut cancelled = false;
        self.snapshot_ms(0, u64::MAX, &mut |e, at| {
            let r = tx.insert(e.key, e.term, e.cmd, e.data).and_then(|()| match at {
                Some(t) => tx.set_expire_at_ms(e.key, t).map(|()| ttls += 1),
                None => Ok(()),
            });
            if let Err(err) = r {
                failed = Some(err);
                return false;
            }
            n += 1;
            if n.is_multiple_of(1000) && !progress(n, total.max(n)) {
                cancelled = true;
                return false;
            }
            true
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if cancelled || !progress(n, total.max(n)) {
            return Err(Error::Cancelled("copy cancelled by the progress callback".into()));
        }
        let copied = tx.engine_synced()?.count(0, u64::MAX)?;
        let mut ttl_records = 0u64;
        tx.engine_synced()?.ttl_scan(&mut |_, _| ttl_records += 1)?;
        if copied != n || ttl_records != ttls {
            return Err(Error::Internal(format!(
                "copy check failed: {n} entries and {ttls} expiry times copied, but the destination holds \
                 {copied} entries and {ttl_records} TTL records"
            )));
        }
        tx.commit()?;
        Ok(CopyReport { entries: n, ttls })
    }

    /// The keys that have an expiry time: how many, how many of them have
    /// expired (awaiting removal), and the soonest expiry still ahead.
    pub fn ttl_summary(&mut self) -> Result<TtlSummary> {
        let engine = self.engine_synced()?;
        let mut records = Vec::new();
        engine.ttl_scan(&mut |k, at| records.push((k, at)))?;
        let now = now_ms();
        let mut s = TtlSummary { keys: 0, expired: 0, next: None };
        let mut next = None::<u64>;
        for (k, at) in records {
            if !engine.exists(k)? {
                continue;
            }
            s.keys += 1;
            if at <= now {
                s.expired += 1;
            } else if next.is_none_or(|n| at < n) {
                next = Some(at);
            }
        }
        s.next = next.map(time_of_ms);
        Ok(s)
    }

    /// Facts about the storage from the engine, as (name, value) pairs
    /// (SQLite: page size and count, free pages, journal mode, ...; LMDB: map
    /// size and use, readers, tree depth and pages, ...).
    pub fn engine_details(&mut self) -> Result<Vec<(String, String)>> {
        self.engine_synced()?.details()
    }
}
