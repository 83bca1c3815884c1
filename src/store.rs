//! The safe Rust API: a [`Store`] over any [`Engine`]. Every rule that is the
//! same on every engine lives here, once: strict neighbours in unsigned
//! order, inclusive/exclusive range bounds, atomic compound calls, batches,
//! statistics, transaction state.

use std::ops::{Bound, Deref, DerefMut, RangeBounds};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{Config, Stats};
use crate::engine::{Dir, Engine, OpenRequest, Record, RecordBuf, Row, ScanPin};
use crate::error::{Error, Result};
use crate::runs::{Plan, RunIndex};
use crate::ttl::{MAX_EXPIRY, TtlIndex, now_ms};

/// Condition of [`Store::insert_ex`]. An expired key counts as absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetCondition {
    /// Insert or overwrite.
    Always,
    /// Only if the key is absent (or expired).
    IfNotExists,
    /// Only if the key exists and is live.
    IfExists,
}

/// Time to live of a key ([`Store::ttl`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist (or has expired).
    NotFound,
    /// The key exists and never expires.
    Persistent,
    /// Time left until the key expires (at least a millisecond).
    Remaining(Duration),
}

/// An entry owned by the caller: what iterators and the read-modify-write
/// calls return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: u64,
    /// The term stored with the entry (the application's; a Raft term, a
    /// version, …).
    pub term: u64,
    /// The cmd stored with the entry (the application's; a command or
    /// record type, flags, …).
    pub cmd: u64,
    /// The value.
    pub data: Vec<u8>,
}

/// An entry whose value is borrowed from the store: what point reads
/// ([`Store::get`], [`Store::next`], …) return, without copying the value.
/// The borrow ends at the next call on the store; copy what you keep
/// ([`EntryRef::to_owned`]).
///
/// ```
/// # use kvidxkit::{Sqlite, Store};
/// let mut db = Store::<Sqlite>::open(":memory:")?;
/// db.insert(1, 7, 0, b"one")?;
/// let kept = db.get(1)?.map(|e| e.to_owned()); // an Entry, independent of db
/// db.remove(1)?;
/// assert_eq!(kept.unwrap().data, b"one");
/// # Ok::<(), kvidxkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// The key.
    pub key: u64,
    /// The term stored with the entry.
    pub term: u64,
    /// The cmd stored with the entry.
    pub cmd: u64,
    /// The value, borrowed.
    pub data: &'a [u8],
}

impl EntryRef<'_> {
    /// Copies the entry into an owned [`Entry`].
    pub fn to_owned(&self) -> Entry {
        Entry { key: self.key, term: self.term, cmd: self.cmd, data: self.data.to_vec() }
    }
}

/// State shared with iterators that do not hold the store's lock.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Incremented by every call that may change what a read returns.
    pub(crate) generation: AtomicU64,
    /// Set when the store is closed: what iterators read in place is gone.
    pub(crate) closed: AtomicBool,
}

/// An open database on engine `E` ([`Sqlite`](crate::Sqlite) or
/// [`Lmdb`](crate::Lmdb)): the whole API. See the [crate
/// documentation](crate) for a guide.
///
/// Keys are `u64` in unsigned order (`0 < 2^63 < u64::MAX`, on every
/// engine); each key holds a term, a cmd and a value. Every method that
/// touches storage takes `&mut self` and returns [`Result`]. Dropping a
/// store closes it (rolling back an open transaction); [`Store::close`]
/// does the same and reports a failure.
///
/// A store is [`Send`], not [`Sync`]: share it between threads behind a
/// [`Mutex`](std::sync::Mutex).
pub struct Store<E: Engine> {
    engine: E,
    in_txn: bool,
    config: Config,
    /// Value of the last point read (the C API hands out pointers into it).
    buf: Vec<u8>,
    pub(crate) shared: Arc<Shared>,
    ttl: TtlIndex,
    /// Runs of consecutive keys, for counts without scans.
    runs: RunIndex,
    /// Nesting depth of atomic units in progress.
    depth: usize,
    /// Neighbour reads read ahead, on engines that copy rows out
    /// ([`Store::neighbour`]), and the key the last neighbour read
    /// returned, with its direction.
    nav: Option<Box<Cursor>>,
    nav_last: Option<(u64, Dir)>,
}

/// Result of [`Store::insert_batch`]: how many entries went in, and the
/// error that stopped it, if any (the entries before it are kept).
#[derive(Debug)]
pub struct BatchOutcome {
    /// Entries inserted, counted from the first.
    pub inserted: usize,
    /// Why the batch stopped early (`None`: every entry went in). The entry
    /// at index [`inserted`](BatchOutcome::inserted) is the one that failed.
    pub error: Option<Error>,
}

/// A batch in progress ([`Store::batch_start`]).
#[derive(Debug)]
pub(crate) struct BatchRun {
    own: bool,
    inserted: usize,
    error: Option<Error>,
}

impl BatchRun {
    /// True once an entry failed (the batch stops there).
    #[cfg(feature = "capi")]
    pub(crate) fn entry_failed(&self) -> bool {
        self.error.is_some()
    }
}

impl<E: Engine> Store<E> {
    /// Opens the database at `path`, creating it if it does not exist, with
    /// the original library's plain-open settings (SQLite: WAL, sync mode
    /// `Full`, a 31 250 KiB cache, recursive triggers; LMDB: a 1 GiB map
    /// that grows by itself).
    ///
    /// SQLite: `path` is a file; `":memory:"` opens a private in-memory
    /// database and `""` a private temporary one. LMDB: `path` is a
    /// directory, created if missing (its parent must exist).
    ///
    /// Errors: [`Error::Locked`] if the same file or directory is already
    /// open in this process (or, SQLite, held by another process);
    /// [`Error::Io`], [`Error::ReadOnly`] if it cannot be created or opened;
    /// [`Error::Corrupt`] or [`Error::Schema`] if it is not a kvidxkit
    /// database; [`Error::InvalidArgument`] (LMDB) if the path is not a
    /// directory.
    ///
    /// ```
    /// # use kvidxkit::{Lmdb, Store};
    /// let dir = std::env::temp_dir().join(format!("kvidxkit-open-{}", std::process::id()));
    /// let mut db = Store::<Lmdb>::open(&dir)?;
    /// db.insert(1, 0, 0, b"kept")?;
    /// drop(db);
    /// let mut db = Store::<Lmdb>::open(&dir)?;
    /// assert_eq!(db.get(1)?.unwrap().data, b"kept");
    /// # drop(db);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::open_request(&OpenRequest { path: path.as_ref(), config: None })
    }

    /// Opens as [`Store::open`] does, with `config` applied from the start
    /// (read-only, the SQLite VFS and the page size of a new file can only
    /// be chosen here; the rest can also change later with
    /// [`Store::update_config`]). With [`Config::read_only`] the database
    /// must exist. Invalid settings are [`Error::InvalidArgument`].
    pub fn open_with_config(path: impl AsRef<std::path::Path>, config: &Config) -> Result<Self> {
        Self::open_request(&OpenRequest { path: path.as_ref(), config: Some(config) })
    }

    pub(crate) fn open_request(req: &OpenRequest<'_>) -> Result<Self> {
        let (engine, config) = E::open(req)?;
        let mut store = Store {
            engine,
            in_txn: false,
            config,
            buf: Vec::new(),
            shared: Arc::new(Shared::default()),
            ttl: TtlIndex::default(),
            runs: RunIndex::default(),
            depth: 0,
            nav: None,
            nav_last: None,
        };
        store.load_ttl()?;
        Ok(store)
    }

    /// Loads the TTL records. A record without an entry (the original left
    /// them behind on delete, and a re-inserted key inherited them) is
    /// dropped: removed from the file when it is writable, ignored otherwise.
    fn load_ttl(&mut self) -> Result<()> {
        let orphans = self.read_ttl()?;
        if !orphans.is_empty() && !self.config.read_only {
            let _ = self.atomic(|s| {
                for &k in &orphans {
                    s.engine.ttl_delete(k)?;
                }
                Ok(())
            });
        }
        Ok(())
    }

    /// Reads the TTL records into a fresh index (records of keys that exist)
    /// and returns the keys of the others.
    fn read_ttl(&mut self) -> Result<Vec<u64>> {
        let mut records = Vec::new();
        self.engine.ttl_scan(&mut |k, at| records.push((k, at)))?;
        let mut ttl = TtlIndex::default();
        let mut orphans = Vec::new();
        for (k, at) in records {
            if self.engine.exists(k)? {
                ttl.set(k, Some(at), false);
            } else {
                orphans.push(k);
            }
        }
        self.ttl = ttl;
        Ok(orphans)
    }

    /// Brings the in-memory state up to date with what other processes or
    /// connections committed (the engine says whether any did: cheap when
    /// none did). Called at the start of every public call outside a
    /// transaction and right after [`Store::begin`]; a commit that lands
    /// while a call runs is taken in by the next call.
    #[inline]
    fn refresh(&mut self) -> Result<()> {
        if self.in_txn || self.depth > 0 {
            return Ok(());
        }
        match self.engine.changed_elsewhere() {
            Ok(false) => Ok(()),
            r => self.reload(r),
        }
    }

    fn refresh_now(&mut self) -> Result<()> {
        let r = self.engine.changed_elsewhere();
        self.reload(r)
    }

    #[cold]
    fn reload(&mut self, changed: Result<bool>) -> Result<()> {
        if self.sync_txn(changed)? {
            let r = self.read_ttl();
            self.sync_txn(r)?;
            self.runs.invalidate();
            self.engine.took_in_changes();
            // Iterators re-read instead of serving what they cached.
            self.touch();
        }
        Ok(())
    }

    /// Closes, rolling back an open transaction. On failure the store is
    /// handed back with the error, still usable (dropping a store closes it
    /// too, ignoring a failure).
    ///
    /// ```
    /// # use kvidxkit::{Sqlite, Store};
    /// let db = Store::<Sqlite>::open(":memory:")?;
    /// db.close().map_err(|(_store, e)| e)?;
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    #[allow(clippy::result_large_err)]
    pub fn close(mut self) -> std::result::Result<(), (Self, Error)> {
        self.touch();
        if self.in_txn {
            if let Err(e) = self.engine.rollback() {
                return Err((self, e));
            }
            self.in_txn = false;
        }
        self.shared.closed.store(true, Ordering::Relaxed);
        let Store { engine, in_txn, config, buf, shared, ttl, runs, depth, .. } = self;
        engine.close().map_err(|(engine, e)| {
            shared.closed.store(false, Ordering::Relaxed);
            (Store { engine, in_txn, config, buf, shared, ttl, runs, depth, nav: None, nav_last: None }, e)
        })
    }

    /// The engine, for engine-specific work: with SQLite,
    /// [`Sqlite::connection`](crate::Sqlite::connection).
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// The engine, up to date with what other processes committed, for the
    /// engine-level work of [`crate::admin`] (reads and compaction only: a
    /// write made through it would bypass the store's state).
    pub(crate) fn engine_synced(&mut self) -> Result<&mut E> {
        self.refresh()?;
        Ok(&mut self.engine)
    }

    #[inline]
    fn touch(&self) {
        // Writers hold the store's lock: a plain load and store suffice.
        let g = &self.shared.generation;
        g.store(g.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// Re-reads the transaction state after an error (an engine may have
    /// rolled the transaction back by itself). Inlined: on success it is
    /// one test, with the result left where it is.
    #[inline(always)]
    fn sync_txn<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.txn_after_error();
        }
        r
    }

    #[cold]
    #[inline(never)]
    fn txn_after_error(&mut self) {
        if self.in_txn && !self.engine.in_transaction() {
            self.in_txn = false;
            self.undo_to(0);
            self.ttl.forget_undo();
        }
    }

    /// Undoes the in-memory changes made since `mark` (the engine rolled
    /// back): the TTL index is restored, the run index rebuilt when next
    /// needed, and what readers read ahead is read again (it may hold
    /// writes that are gone).
    #[inline]
    fn undo_to(&mut self, mark: usize) {
        self.ttl.rollback_to(mark);
        self.runs.invalidate();
        self.touch();
    }

    // The engine's writes, keeping the run index exact.

    #[inline]
    fn e_insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        let new = self.engine.insert(key, term, cmd, data)?;
        if new {
            self.runs.insert(key);
        }
        Ok(new)
    }

    #[inline]
    fn e_put(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        self.engine.put(key, term, cmd, data)?;
        self.runs.insert(key);
        Ok(())
    }

    #[inline]
    fn e_delete(&mut self, key: u64) -> Result<bool> {
        let gone = self.engine.delete(key)?;
        if gone {
            self.runs.remove(key);
        }
        Ok(gone)
    }

    fn e_delete_range(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let n = self.engine.delete_range(lo, hi)?;
        self.runs.remove_range(lo, hi);
        Ok(n)
    }

    /// True while changes may still be rolled back (record TTL undo).
    #[inline]
    fn recording(&self) -> bool {
        self.in_txn || self.depth > 0
    }

    /// Runs `f` as one atomic unit: its own transaction when none is open,
    /// a savepoint inside the caller's transaction otherwise.
    pub(crate) fn atomic<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        self.refresh()?;
        let r = self.engine.savepoint();
        self.sync_txn(r)?;
        self.depth += 1;
        let mark = self.ttl.mark();
        let r = match f(self) {
            Ok(v) => match self.engine.release_savepoint() {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.engine.rollback_savepoint();
                    self.undo_to(mark);
                    Err(e)
                }
            },
            Err(e) => {
                let _ = self.engine.rollback_savepoint();
                self.undo_to(mark);
                Err(e)
            }
        };
        self.depth -= 1;
        if !self.in_txn && self.depth == 0 {
            self.ttl.forget_undo();
        }
        self.sync_txn(r)
    }

    /// As [`Store::atomic`] for a unit that makes at most one engine write
    /// when `key` has no TTL record (no expired-entry clean-up). Inside an
    /// open transaction that single write is atomic by itself and the
    /// transaction already isolates the read, so no savepoint is taken
    /// (a savepoint costs more than the call: LMDB copies every page the
    /// transaction dirtied into the nested one).
    fn atomic_one<R>(&mut self, key: u64, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        if self.in_txn && self.ttl.get(key).is_none() {
            let mark = self.ttl.mark();
            let r = f(self);
            if r.is_err() {
                self.undo_to(mark);
            }
            return self.sync_txn(r);
        }
        self.atomic(f)
    }

    /// Sets or clears the expiry of `key` in the engine and the index.
    fn ttl_write(&mut self, key: u64, at: Option<u64>) -> Result<()> {
        match at {
            Some(t) => self.engine.ttl_put(key, t)?,
            None => {
                if self.ttl.get(key).is_none() {
                    return Ok(());
                }
                self.engine.ttl_delete(key)?
            }
        }
        let rec = self.recording();
        self.ttl.set(key, at, rec);
        Ok(())
    }

    /// True if `key` has expired (a TTL at or before now).
    #[inline]
    fn is_expired(&self, key: u64) -> bool {
        match self.ttl.get(key) {
            Some(at) => at <= now_ms(),
            None => false,
        }
    }

    /// For a read-modify-write: the live entry at `key` (term, cmd; value in
    /// `self.buf`). An expired entry is removed with its TTL, so the key is
    /// absent for what follows. Call inside [`Store::atomic`].
    fn live_entry(&mut self, key: u64) -> Result<Option<(u64, u64)>> {
        let found = self.engine.get(key)?;
        if found.is_some() {
            self.buf.clear();
            self.buf.extend_from_slice(self.engine.value());
        }
        if let Some(at) = self.ttl.get(key) {
            if found.is_some() && at <= now_ms() {
                self.e_delete(key)?;
                self.ttl_write(key, None)?;
                return Ok(None);
            }
            if found.is_none() {
                self.ttl_write(key, None)?;
            }
        }
        Ok(found)
    }

    // ------------------------------------------------------------------
    // Transactions

    /// True while a transaction ([`Store::transaction`]) is open.
    pub fn in_transaction(&self) -> bool {
        self.in_txn
    }

    /// Begins a transaction: every call made through the returned guard
    /// (it dereferences to the store) is part of it, and reads see its
    /// writes. [`Transaction::commit`] makes it durable; dropping the guard
    /// without committing — an early return, an error, a panic — rolls it
    /// back. [`Error::TransactionActive`] if one is open already.
    ///
    /// ```
    /// # use kvidxkit::{Sqlite, Store};
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// let mut tx = db.transaction()?;
    /// tx.insert(1, 1, 0, b"one")?;
    /// tx.insert(2, 1, 0, b"two")?;
    /// tx.commit()?;
    ///
    /// {
    ///     let mut tx = db.transaction()?;
    ///     tx.remove(1)?;
    ///     // dropped without commit: rolled back
    /// }
    /// assert_eq!(db.count_range(..)?, 2);
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn transaction(&mut self) -> Result<Transaction<'_, E>> {
        self.begin()?;
        Ok(Transaction { store: self, open: true })
    }

    /// Runs `f` in a transaction: committed if it returns `Ok`, rolled back
    /// if it returns `Err` (that error is the result) or panics.
    ///
    /// ```
    /// # use kvidxkit::{Sqlite, Store};
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// db.insert(1, 1, 0, b"100")?;
    /// // Move 40 from key 1 to key 2, all or nothing.
    /// db.atomically(|tx| {
    ///     let from: u64 = std::str::from_utf8(tx.get(1)?.unwrap().data).unwrap().parse().unwrap();
    ///     tx.insert_ex(1, 1, 0, (from - 40).to_string().as_bytes(), kvidxkit::SetCondition::Always)?;
    ///     tx.insert(2, 1, 0, b"40")
    /// })?;
    /// assert_eq!(db.get(1)?.unwrap().data, b"60");
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn atomically<R>(&mut self, f: impl FnOnce(&mut Transaction<'_, E>) -> Result<R>) -> Result<R> {
        let mut tx = self.transaction()?;
        let v = f(&mut tx)?;
        tx.commit()?;
        Ok(v)
    }

    /// Begins a transaction, to be ended by [`Store::commit`] or
    /// [`Store::abort`]: the explicit form, for a transaction that spans
    /// calls a guard cannot (a state machine, an FFI layer). Prefer
    /// [`Store::transaction`], which cannot be left open by mistake.
    /// [`Error::TransactionActive`] if one is open already.
    pub fn begin(&mut self) -> Result<()> {
        if self.in_txn || self.depth > 0 {
            // depth > 0: called from inside a call that is itself one atomic
            // unit (a batch's filter callback).
            return Err(Error::TransactionActive);
        }
        self.engine.begin()?;
        self.in_txn = true;
        if let Err(e) = self.refresh_now() {
            let _ = self.engine.rollback();
            self.in_txn = self.engine.in_transaction();
            return Err(e);
        }
        Ok(())
    }

    /// Commits the transaction begun with [`Store::begin`];
    /// [`Error::NoTransaction`] if none is open.
    pub fn commit(&mut self) -> Result<()> {
        if !self.in_txn {
            return Err(Error::NoTransaction);
        }
        let r = self.engine.commit();
        // A failed commit may leave the transaction open (e.g. busy).
        self.in_txn = self.engine.in_transaction();
        if r.is_ok() {
            self.ttl.forget_undo();
        } else if !self.in_txn {
            self.undo_to(0);
            self.ttl.forget_undo();
        }
        r
    }

    /// Rolls back the transaction begun with [`Store::begin`];
    /// [`Error::NoTransaction`] if none is open.
    pub fn abort(&mut self) -> Result<()> {
        if !self.in_txn {
            return Err(Error::NoTransaction);
        }
        self.touch();
        let r = self.engine.rollback();
        self.in_txn = self.engine.in_transaction();
        if !self.in_txn {
            self.undo_to(0);
            self.ttl.forget_undo();
        }
        r
    }

    // ------------------------------------------------------------------
    // Point reads

    /// The entry at `key`, `None` if it is absent or expired. The value is
    /// borrowed from the store until the next call.
    #[inline]
    pub fn get(&mut self, key: u64) -> Result<Option<EntryRef<'_>>> {
        self.refresh()?;
        if self.is_expired(key) {
            return Ok(None);
        }
        let r = self.engine.get(key);
        match self.sync_txn(r)? {
            Some((term, cmd)) => Ok(Some(EntryRef { key, term, cmd, data: self.engine.value() })),
            None => Ok(None),
        }
    }

    /// True if `key` holds a live (not expired) entry.
    pub fn exists(&mut self, key: u64) -> Result<bool> {
        self.refresh()?;
        if self.is_expired(key) {
            return Ok(false);
        }
        let r = self.engine.exists(key);
        self.sync_txn(r)
    }

    /// True if `key` exists and its term equals `term` (a Raft log's
    /// "does the log hold this index at this term"), without reading the
    /// value.
    pub fn exists_dual(&mut self, key: u64, term: u64) -> Result<bool> {
        self.refresh()?;
        if self.is_expired(key) {
            return Ok(false);
        }
        let r = self.engine.term(key);
        Ok(self.sync_txn(r)? == Some(term))
    }

    // ------------------------------------------------------------------
    // Navigation (unsigned order, strict neighbours)

    #[inline]
    fn first_in(&mut self, lo: u64, hi: u64, dir: Dir) -> Result<Option<EntryRef<'_>>> {
        Ok(self.first_row(lo, hi, dir)?.map(|(key, term, cmd)| EntryRef {
            key,
            term,
            cmd,
            data: if E::FIRST_IN_VALUE { self.engine.value() } else { &self.buf },
        }))
    }

    /// The first live entry of `[lo, hi]` in `dir` order: key, term and cmd;
    /// its value is the engine's ([`Engine::FIRST_IN_VALUE`]) or copied into
    /// the store's buffer.
    #[inline]
    fn first_row(&mut self, lo: u64, hi: u64, dir: Dir) -> Result<Option<(u64, u64, u64)>> {
        self.refresh()?;
        let (ttl, now) = (&self.ttl, self.ttl.scan_now());
        let live = |key| !now.is_some_and(|n| ttl.expired(key, n));
        let r = self.engine.first_row(lo, hi, dir, live, &mut self.buf);
        self.sync_txn(r)
    }

    fn first_key_in(&mut self, lo: u64, hi: u64, dir: Dir) -> Result<Option<u64>> {
        self.refresh()?;
        let mut found = None;
        let (ttl, now) = (&self.ttl, self.ttl.scan_now());
        let r = self.engine.scan(lo, hi, dir, |row: Row<'_>| {
            if now.is_some_and(|n| ttl.expired(row.key, n)) {
                return true;
            }
            found = Some(row.key);
            false
        });
        self.sync_txn(r)?;
        Ok(found)
    }

    /// The entry with the smallest key strictly greater than `key` (in
    /// unsigned order), `None` if there is none.
    pub fn next(&mut self, key: u64) -> Result<Option<EntryRef<'_>>> {
        match key.checked_add(1) {
            Some(lo) if E::FIRST_IN_VALUE => self.first_in(lo, u64::MAX, Dir::Forward),
            Some(lo) => self.neighbour(key, lo, u64::MAX, Dir::Forward),
            None => Ok(None),
        }
    }

    /// The entry with the largest key strictly less than `key`, `None` if
    /// there is none.
    pub fn prev(&mut self, key: u64) -> Result<Option<EntryRef<'_>>> {
        match key.checked_sub(1) {
            Some(hi) if E::FIRST_IN_VALUE => self.first_in(0, hi, Dir::Backward),
            Some(hi) => self.neighbour(key, 0, hi, Dir::Backward),
            None => Ok(None),
        }
    }

    /// A neighbour read of `key` on an engine that copies rows out (SQLite,
    /// RocksDB: each read is a statement or an engine iterator of its own).
    /// A run of neighbour reads in which each asks for the entry after
    /// (before) the one the previous returned — a log replayed with
    /// GetNext — is served, from its second read on, from rows read ahead:
    /// 4, 8, ... up to [`NAV_MAX_CHUNK`] per engine read. What was read
    /// ahead is read again after anything that may change what a read
    /// returns (a write, a rollback, another process's commit: the
    /// generation counter the iterators follow), and an entry whose TTL
    /// passed since it was read ahead is skipped. Any other neighbour read
    /// reads one entry, as before.
    fn neighbour(&mut self, key: u64, lo: u64, hi: u64, dir: Dir) -> Result<Option<EntryRef<'_>>> {
        let run = self.nav_last.take() == Some((key, dir));
        if !run {
            let Some((k, term, cmd)) = self.first_row(lo, hi, dir)? else {
                return Ok(None);
            };
            self.nav_last = Some((k, dir));
            return Ok(Some(EntryRef { key: k, term, cmd, data: &self.buf }));
        }
        self.refresh()?;
        let mut nav = match self.nav.take() {
            Some(c) if c.dir == dir && c.current_key() == Some(key) => c,
            Some(mut c) => {
                c.restart(lo, hi, dir);
                c
            }
            None => Box::new(Cursor::with_chunks(lo, hi, dir, NAV_FIRST_CHUNK, NAV_MAX_CHUNK)),
        };
        let k = loop {
            if !nav.advance(self)? {
                // Exhausted: the cursor holds nothing worth keeping.
                return Ok(None);
            }
            let Some(k) = nav.current_key() else { return Ok(None) };
            if !self.ttl.scan_now().is_some_and(|n| self.ttl.expired(k, n)) {
                break k;
            }
        };
        self.nav_last = Some((k, dir));
        Ok(self.nav.insert(nav).current())
    }

    /// The largest live key, `None` when the store is empty.
    pub fn max_key(&mut self) -> Result<Option<u64>> {
        self.first_key_in(0, u64::MAX, Dir::Backward)
    }

    /// The smallest live key, `None` when the store is empty.
    pub fn min_key(&mut self) -> Result<Option<u64>> {
        self.first_key_in(0, u64::MAX, Dir::Forward)
    }

    // ------------------------------------------------------------------
    // Writes

    /// Inserts a new entry; an existing key is [`Error::DuplicateKey`] and
    /// leaves the entry unchanged (to overwrite, use [`Store::insert_ex`]
    /// with [`SetCondition::Always`]). An expired key counts as absent: its
    /// old entry and expiry are replaced.
    ///
    /// Errors besides: [`Error::TooBig`] for a value over the engine's
    /// limit, [`Error::ReadOnly`], [`Error::DiskFull`].
    pub fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        self.refresh()?;
        self.touch();
        if self.ttl.get(key).is_some() {
            return self.atomic(|s| {
                if s.live_entry(key)?.is_some() {
                    return Err(Error::DuplicateKey(key));
                }
                match s.e_insert(key, term, cmd, data)? {
                    true => Ok(()),
                    false => Err(Error::DuplicateKey(key)),
                }
            });
        }
        let r = self.e_insert(key, term, cmd, data);
        match self.sync_txn(r)? {
            true => Ok(()),
            false => Err(Error::DuplicateKey(key)),
        }
    }

    /// Removes `key` (and its expiry); returns whether a live entry existed
    /// (an absent key is not an error).
    pub fn remove(&mut self, key: u64) -> Result<bool> {
        self.refresh()?;
        self.touch();
        if self.ttl.get(key).is_some() {
            return self.atomic(|s| {
                let live = !s.is_expired(key);
                let existed = s.e_delete(key)?;
                s.ttl_write(key, None)?;
                Ok(existed && live)
            });
        }
        let r = self.e_delete(key);
        self.sync_txn(r)
    }

    /// Removes every entry whose key is in `range` (and their TTLs), in one
    /// atomic unit, and returns how many live entries it removed. Any
    /// [`RangeBounds`] of `u64` works: `10..=20`, `100..`, `..`,
    /// `(Bound::Excluded(5), Bound::Included(9))`; an empty range removes
    /// nothing.
    ///
    /// ```
    /// # use kvidxkit::{Sqlite, Store};
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// for k in 1..=10 {
    ///     db.insert(k, 1, 0, b"")?;
    /// }
    /// assert_eq!(db.remove_range(4..7)?, 3); // 4, 5, 6
    /// assert_eq!(db.remove_range(9..)?, 2); // 9, 10: a Raft log truncated after 8
    /// assert_eq!(db.count_range(..)?, 5);
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn remove_range(&mut self, range: impl RangeBounds<u64>) -> Result<u64> {
        match bounds(&range) {
            Some((lo, hi)) => self.remove_keys(lo, hi),
            None => Ok(0),
        }
    }

    /// Removes every key of `[lo, hi]` (and their TTLs) in one atomic unit.
    pub(crate) fn remove_keys(&mut self, lo: u64, hi: u64) -> Result<u64> {
        self.refresh()?;
        if lo > hi {
            return Ok(0);
        }
        self.touch();
        self.atomic(|s| s.delete_range_with_ttl(lo, hi))
    }

    pub(crate) fn delete_range_with_ttl(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let expired = self.ttl.expired_in(lo, hi, now_ms());
        let n = self.e_delete_range(lo, hi)?;
        let keys = self.ttl.keys_in(lo, hi);
        if !keys.is_empty() {
            self.engine.ttl_delete_range(lo, hi)?;
            let rec = self.recording();
            for k in keys {
                self.ttl.set(k, None, rec);
            }
        }
        Ok(n.saturating_sub(expired))
    }

    /// Inserts entries in order, stopping at the first failure: the entries
    /// before it are kept and [`BatchOutcome::error`] says why it stopped.
    /// Outside a transaction the batch runs in one of its own (one atomic
    /// unit that keeps the entries before a failure); inside one it joins it.
    /// The fastest way to load many entries.
    ///
    /// ```
    /// # use kvidxkit::{EntryRef, Error, Sqlite, Store};
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// db.insert(3, 0, 0, b"already here")?;
    /// let out = db.insert_batch((1..=5).map(|key| EntryRef { key, term: 1, cmd: 0, data: b"v" }));
    /// assert_eq!(out.inserted, 2); // 1 and 2; key 3 stopped the batch
    /// assert_eq!(out.error, Some(Error::DuplicateKey(3)));
    /// assert_eq!(db.key_count()?, 3);
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn insert_batch<'a, I>(&mut self, entries: I) -> BatchOutcome
    where
        I: IntoIterator<Item = EntryRef<'a>>,
    {
        let mut run = match self.batch_start() {
            Ok(run) => run,
            Err(e) => return BatchOutcome { inserted: 0, error: Some(e) },
        };
        for e in entries {
            if !self.batch_insert(&mut run, Ok(e)) {
                break;
            }
        }
        self.batch_finish(run)
    }

    /// Starts a batch (see [`Store::insert_batch`], which is made of this,
    /// [`Store::batch_insert`] and [`Store::batch_finish`]; the C layer
    /// drives the same three steps so that caller code may run between
    /// entries). Outside a transaction the batch's own is a savepoint-level
    /// unit, so `begin`/`commit`/`abort` made from inside it are refused.
    pub(crate) fn batch_start(&mut self) -> Result<BatchRun> {
        self.refresh()?;
        let own = !self.in_txn;
        if own {
            self.touch();
            let r = self.engine.savepoint();
            self.sync_txn(r)?;
            self.depth += 1;
        }
        Ok(BatchRun { own, inserted: 0, error: None })
    }

    /// Inserts one entry of a batch (`Err`: an entry that cannot be
    /// inserted, e.g. a bad argument). Returns false when the batch stops.
    pub(crate) fn batch_insert(&mut self, run: &mut BatchRun, entry: Result<EntryRef<'_>>) -> bool {
        if run.error.is_some() {
            return false;
        }
        match entry.and_then(|e| self.insert(e.key, e.term, e.cmd, e.data)) {
            Ok(()) => {
                run.inserted += 1;
                true
            }
            Err(err) => {
                run.error = Some(err);
                false
            }
        }
    }

    /// Ends a batch: its own transaction commits the entries inserted so far
    /// (a failed commit keeps none of them).
    pub(crate) fn batch_finish(&mut self, run: BatchRun) -> BatchOutcome {
        let BatchRun { own, inserted, error } = run;
        if !own {
            return BatchOutcome { inserted, error };
        }
        self.depth -= 1;
        // An engine may have rolled the batch's transaction back by itself
        // (LMDB after a full map).
        let r = if self.engine.in_transaction() {
            self.engine.release_savepoint()
        } else {
            Err(Error::Internal("batch transaction ended early".into()))
        };
        let outcome = match r {
            Ok(()) => BatchOutcome { inserted, error },
            Err(e) => {
                if self.engine.in_transaction() {
                    let _ = self.engine.rollback_savepoint();
                }
                self.undo_to(0);
                BatchOutcome { inserted: 0, error: Some(error.unwrap_or(e)) }
            }
        };
        if self.depth == 0 && !self.in_txn {
            self.ttl.forget_undo();
        }
        outcome
    }

    // ------------------------------------------------------------------
    // Range queries and statistics

    /// Number of live entries whose key is in `range` (any
    /// [`RangeBounds`] of `u64`: `10..20`, `..=5`, `..`).
    pub fn count_range(&mut self, range: impl RangeBounds<u64>) -> Result<u64> {
        match bounds(&range) {
            Some((lo, hi)) => self.count_in(lo, hi),
            None => Ok(0),
        }
    }

    /// Number of live entries in `[start, end]` (0 when start > end).
    pub(crate) fn count_in(&mut self, start: u64, end: u64) -> Result<u64> {
        self.refresh()?;
        if start > end {
            return Ok(0);
        }
        let n = match self.runs.plan(start, end) {
            Plan::Answer(n) => n,
            Plan::Build if self.build_runs()? => self.runs.answer(start, end).unwrap_or(0),
            _ => {
                let r = self.engine.count(start, end);
                self.sync_txn(r)?
            }
        };
        if self.ttl.is_empty() {
            return Ok(n);
        }
        Ok(n.saturating_sub(self.ttl.expired_in(start, end, now_ms())))
    }

    /// Builds the run index from a scan of the stored keys; false when the
    /// keys are too scattered for it (counts then go to the engine).
    #[cold]
    fn build_runs(&mut self) -> Result<bool> {
        let (runs, engine) = (&mut self.runs, &mut self.engine);
        let mut failed = None;
        let built = runs.build(|f| {
            if let Err(e) = engine.scan_keys(0, u64::MAX, f) {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            self.runs.invalidate();
            return self.sync_txn(Err(e));
        }
        Ok(built)
    }

    /// True if a live entry's key is in `range` (cheaper than counting).
    pub fn exists_in_range(&mut self, range: impl RangeBounds<u64>) -> Result<bool> {
        match bounds(&range) {
            Some((lo, hi)) => {
                if self.ttl.is_empty()
                    && let Some(n) = self.runs.answer(lo, hi)
                {
                    return Ok(n > 0);
                }
                Ok(self.first_key_in(lo, hi, Dir::Forward)?.is_some())
            }
            None => Ok(false),
        }
    }

    /// Number of live entries (as `count_range(..)`).
    pub fn key_count(&mut self) -> Result<u64> {
        self.count_in(0, u64::MAX)
    }

    /// Sum of the value lengths of the live entries, in bytes.
    pub fn data_size(&mut self) -> Result<u64> {
        self.refresh()?;
        let r = self.engine.data_size();
        let mut total = self.sync_txn(r)?;
        if !self.ttl.is_empty() {
            for k in self.ttl.expired_keys(now_ms(), 0) {
                let r = self.engine.get(k);
                if self.sync_txn(r)?.is_some() {
                    total = total.saturating_sub(self.engine.value().len() as u64);
                }
            }
        }
        Ok(total)
    }

    /// Statistics: entry count, key bounds, value bytes, and file and page
    /// figures from the engine.
    pub fn stats(&mut self) -> Result<Stats> {
        let total_keys = self.key_count()?;
        let min_key = self.min_key()?.unwrap_or(0);
        let max_key = self.max_key()?.unwrap_or(0);
        let total_data_bytes = self.data_size()?;
        let r = self.engine.file_stats();
        let f = self.sync_txn(r)?;
        Ok(Stats {
            total_keys,
            min_key,
            max_key,
            total_data_bytes,
            database_file_size: f.database_file_size,
            wal_file_size: f.wal_file_size,
            page_count: f.page_count,
            page_size: f.page_size,
            free_pages: f.free_pages,
        })
    }

    // ------------------------------------------------------------------
    // Configuration and durability

    /// The configuration in effect (as of open or the last update; see
    /// [`Store::current_config`] for settings the engine changes by itself).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configuration in effect now, including what the engine changed by
    /// itself since (LMDB's map size after growth).
    pub fn current_config(&mut self) -> &Config {
        self.engine.refresh_config(&mut self.config);
        &self.config
    }

    /// Applies a configuration and returns the one now in effect; on error
    /// the previous one stays in force. [`Config::vfs_name`] and
    /// [`Config::page_size`] cannot change after open; a store opened
    /// read-only cannot become writable ([`Error::ReadOnly`]); an LMDB map
    /// size cannot change inside a transaction
    /// ([`Error::TransactionActive`]).
    pub fn update_config(&mut self, config: &Config) -> Result<&Config> {
        let r = self.engine.apply_config(config);
        self.config = self.sync_txn(r)?;
        Ok(&self.config)
    }

    /// Durability barrier: everything committed so far survives a power cut
    /// once this returns, whatever the [`SyncMode`](crate::SyncMode). No-op
    /// for in-memory databases.
    pub fn fsync(&mut self) -> Result<()> {
        let r = self.engine.sync();
        self.sync_txn(r)
    }

    // ------------------------------------------------------------------
    // Storage primitives: each call is one atomic unit.

    /// Writes the entry if `cond` holds: [`SetCondition::Always`] inserts or
    /// overwrites, [`SetCondition::IfNotExists`] only inserts,
    /// [`SetCondition::IfExists`] only overwrites. Otherwise
    /// [`Error::ConditionFailed`] and nothing changes. Overwriting a live key
    /// keeps its expiry; an expired key counts as absent (and loses its
    /// expiry).
    pub fn insert_ex(&mut self, key: u64, term: u64, cmd: u64, data: &[u8], cond: SetCondition) -> Result<()> {
        self.refresh()?;
        self.touch();
        if self.ttl.is_empty() {
            // No expiry anywhere: one statement each.
            let r = match cond {
                SetCondition::Always => self.e_put(key, term, cmd, data).map(|_| true),
                SetCondition::IfNotExists => self.e_insert(key, term, cmd, data),
                SetCondition::IfExists => self.engine.update(key, term, cmd, data),
            };
            return match self.sync_txn(r)? {
                true => Ok(()),
                false => Err(Error::ConditionFailed(match cond {
                    SetCondition::IfExists => format!("key {key} does not exist"),
                    _ => format!("key {key} already exists"),
                })),
            };
        }
        self.atomic(|s| {
            let live = s.live_entry(key)?.is_some();
            match (cond, live) {
                (SetCondition::IfNotExists, true) => Err(Error::ConditionFailed(format!("key {key} already exists"))),
                (SetCondition::IfExists, false) => Err(Error::ConditionFailed(format!("key {key} does not exist"))),
                _ => s.e_put(key, term, cmd, data),
            }
        })
    }

    /// Writes the entry (insert or overwrite) and returns the previous live
    /// one, if any, in one atomic step.
    pub fn get_and_set(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<Option<Entry>> {
        self.get_and_set_with(key, term, cmd, data, |old| Ok(old.map(|e| e.to_owned())))
    }

    /// [`Store::get_and_set`] handing the previous entry to `f` inside the
    /// atomic unit, before the write: an error from `f` changes nothing.
    pub fn get_and_set_with<R>(
        &mut self,
        key: u64,
        term: u64,
        cmd: u64,
        data: &[u8],
        f: impl FnOnce(Option<EntryRef<'_>>) -> Result<R>,
    ) -> Result<R> {
        self.refresh()?;
        self.touch();
        self.atomic_one(key, |s| {
            let old = s.live_entry(key)?;
            let r = f(old.map(|(t, c)| EntryRef { key, term: t, cmd: c, data: &s.buf }))?;
            s.e_put(key, term, cmd, data)?;
            Ok(r)
        })
    }

    /// Removes `key` and returns its entry, in one atomic step; `None` if it
    /// was absent (a queue's "pop").
    pub fn get_and_remove(&mut self, key: u64) -> Result<Option<Entry>> {
        self.get_and_remove_with(key, |old| Ok(old.map(|e| e.to_owned())))
    }

    /// [`Store::get_and_remove`] handing the entry to `f` inside the atomic
    /// unit, before the delete: an error from `f` changes nothing.
    pub fn get_and_remove_with<R>(&mut self, key: u64, f: impl FnOnce(Option<EntryRef<'_>>) -> Result<R>) -> Result<R> {
        self.refresh()?;
        self.touch();
        self.atomic(|s| {
            let old = s.live_entry(key)?;
            let r = f(old.map(|(t, c)| EntryRef { key, term: t, cmd: c, data: &s.buf }))?;
            if old.is_some() {
                s.e_delete(key)?;
                s.ttl_write(key, None)?;
            }
            Ok(r)
        })
    }

    /// Replaces the entry with (`term`, `cmd`, `data`) if its value equals
    /// `expected`, in one atomic step; returns whether it did.
    /// [`Error::NotFound`] if the key is absent or expired.
    pub fn compare_and_swap(&mut self, key: u64, expected: &[u8], term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        self.refresh()?;
        self.touch();
        self.atomic_one(key, |s| match s.live_entry(key)? {
            None => Err(Error::not_found_key(key)),
            Some(_) if s.buf[..] != *expected => Ok(false),
            Some(_) => s.e_put(key, term, cmd, data).map(|_| true),
        })
    }

    /// Replaces the entry if its term equals `expected_term` (compared and
    /// swapped in one atomic step); returns whether it did.
    /// [`Error::NotFound`] if the key is absent or expired.
    pub fn compare_term_and_swap(
        &mut self,
        key: u64,
        expected_term: u64,
        term: u64,
        cmd: u64,
        data: &[u8],
    ) -> Result<bool> {
        self.refresh()?;
        self.touch();
        self.atomic_one(key, |s| match s.live_entry(key)? {
            None => Err(Error::not_found_key(key)),
            Some((t, _)) if t != expected_term => Ok(false),
            Some(_) => s.e_put(key, term, cmd, data).map(|_| true),
        })
    }

    fn concat(&mut self, key: u64, term: u64, cmd: u64, data: &[u8], append: bool) -> Result<usize> {
        self.refresh()?;
        self.touch();
        self.atomic_one(key, |s| match s.live_entry(key)? {
            None => {
                s.e_put(key, term, cmd, data)?;
                Ok(data.len())
            }
            Some((t, c)) => {
                let len = s.checked_len(s.buf.len().checked_add(data.len()))?;
                if append {
                    s.buf.extend_from_slice(data);
                } else {
                    s.buf.splice(0..0, data.iter().copied());
                }
                let value = std::mem::take(&mut s.buf);
                let r = s.e_put(key, t, c, &value);
                s.buf = value;
                r.map(|_| len)
            }
        })
    }

    /// `len` (None: it overflowed) if the engine can store a value that
    /// long, else [`Error::TooBig`].
    fn checked_len(&self, len: Option<usize>) -> Result<usize> {
        let max = self.engine.max_value_len();
        match len {
            Some(n) if n <= max => Ok(n),
            Some(n) => Err(Error::TooBig(format!("a value of {n} bytes exceeds the engine's limit of {max} bytes"))),
            None => Err(Error::TooBig("value length overflows".into())),
        }
    }

    /// Appends `data` to the value (the entry keeps its term and cmd); an
    /// absent key is created with `term`, `cmd`. Returns the new length.
    /// [`Error::TooBig`] if the result would exceed the engine's limit.
    pub fn append(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<usize> {
        self.concat(key, term, cmd, data, true)
    }

    /// Prepends `data` to the value; otherwise as [`Store::append`].
    pub fn prepend(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<usize> {
        self.concat(key, term, cmd, data, false)
    }

    /// Bytes `offset..offset+length` of the value (`length` 0: to the end;
    /// an offset at or past the end gives an empty slice), borrowed until
    /// the next call. [`Error::NotFound`] if the key is absent or expired.
    pub fn get_value_range(&mut self, key: u64, offset: usize, length: usize) -> Result<&[u8]> {
        let (len, start) = match self.get(key)? {
            None => return Err(Error::not_found_key(key)),
            Some(e) => (e.data.len(), offset),
        };
        if start >= len {
            return Ok(&[]);
        }
        let n = if length == 0 || length > len - start { len - start } else { length };
        Ok(&self.engine.value()[start..start + n])
    }

    /// Overwrites bytes of the value at `offset`, extending it with zeros
    /// when `offset` is past the end. Returns the new length.
    /// [`Error::NotFound`] if the key is absent or expired,
    /// [`Error::TooBig`] past the engine's limit.
    pub fn set_value_range(&mut self, key: u64, offset: usize, data: &[u8]) -> Result<usize> {
        self.refresh()?;
        let end = offset.checked_add(data.len()).ok_or_else(|| Error::invalid("offset + length overflows"))?;
        // Checked before anything is read or allocated.
        self.checked_len(Some(end))?;
        self.touch();
        self.atomic_one(key, |s| match s.live_entry(key)? {
            None => Err(Error::not_found_key(key)),
            Some((t, c)) => {
                if s.buf.len() < end {
                    s.buf.resize(end, 0);
                }
                s.buf[offset..end].copy_from_slice(data);
                let value = std::mem::take(&mut s.buf);
                let r = s.e_put(key, t, c, &value);
                let len = value.len();
                s.buf = value;
                r.map(|_| len)
            }
        })
    }

    // ------------------------------------------------------------------
    // TTL (lazy expiry: an expired key is absent for every operation)

    /// Makes `key` expire after `ttl` (from now; zero: now, the key is gone
    /// at once). [`Error::NotFound`] if the key is absent or expired.
    /// Stored with millisecond precision, as the original.
    ///
    /// ```
    /// # use kvidxkit::{Sqlite, Store, Ttl};
    /// use std::time::Duration;
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// db.insert(7, 1, 0, b"session")?;
    /// db.expire_in(7, Duration::from_secs(30))?;
    /// assert!(matches!(db.ttl(7)?, Ttl::Remaining(d) if d <= Duration::from_secs(30)));
    /// db.expire_in(7, Duration::ZERO)?; // gone now, for every read
    /// assert!(db.get(7)?.is_none());
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn expire_in(&mut self, key: u64, ttl: Duration) -> Result<()> {
        self.set_expire_ms(key, ttl.as_millis().min(u64::MAX as u128) as u64)
    }

    /// Makes `key` expire at `when` (a time in the past expires it at once;
    /// times beyond the year 292 million are stored as that). Millisecond
    /// precision. [`Error::NotFound`] if the key is absent or expired.
    pub fn expire_at(&mut self, key: u64, when: SystemTime) -> Result<()> {
        let ms = when.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis().min(u64::MAX as u128) as u64);
        self.set_expire_at_ms(key, ms)
    }

    /// Makes `key` expire `ttl_ms` milliseconds from now (0: now).
    pub(crate) fn set_expire_ms(&mut self, key: u64, ttl_ms: u64) -> Result<()> {
        self.set_expire_at_ms(key, now_ms().saturating_add(ttl_ms))
    }

    /// Makes `key` expire at `timestamp_ms` (Unix milliseconds; a past time
    /// expires it at once). Times beyond 2^63-1 are stored as 2^63-1.
    pub(crate) fn set_expire_at_ms(&mut self, key: u64, timestamp_ms: u64) -> Result<()> {
        self.refresh()?;
        self.touch();
        let at = timestamp_ms.min(MAX_EXPIRY);
        self.atomic_one(key, |s| {
            if s.is_expired(key) || !s.engine.exists(key)? {
                return Err(Error::not_found_key(key));
            }
            s.ttl_write(key, Some(at))
        })
    }

    /// Time to live of `key`: [`Ttl::Remaining`], [`Ttl::Persistent`] (no
    /// expiry) or [`Ttl::NotFound`] (absent or expired).
    pub fn ttl(&mut self, key: u64) -> Result<Ttl> {
        self.refresh()?;
        let now = now_ms();
        match self.ttl.get(key) {
            Some(at) if at <= now => Ok(Ttl::NotFound),
            Some(at) => {
                Ok(if self.exists(key)? { Ttl::Remaining(Duration::from_millis(at - now)) } else { Ttl::NotFound })
            }
            None => Ok(if self.exists(key)? { Ttl::Persistent } else { Ttl::NotFound }),
        }
    }

    /// Removes the expiry of `key`: it stays until removed.
    /// [`Error::NotFound`] if the key is absent or expired.
    pub fn persist(&mut self, key: u64) -> Result<()> {
        self.refresh()?;
        self.touch();
        self.atomic(|s| {
            if s.is_expired(key) || !s.engine.exists(key)? {
                return Err(Error::not_found_key(key));
            }
            s.ttl_write(key, None)
        })
    }

    /// Deletes up to `max_keys` expired entries (0: all), soonest expired
    /// first, in one atomic unit. Returns how many entries it removed.
    ///
    /// Expired entries are already absent for every read; this reclaims
    /// their storage. Call it from time to time (a bounded `max_keys` keeps
    /// each call short).
    pub fn expire_scan(&mut self, max_keys: u64) -> Result<u64> {
        self.refresh()?;
        let keys = self.ttl.expired_keys(now_ms(), max_keys);
        if keys.is_empty() {
            return Ok(0);
        }
        self.touch();
        self.ttl.defer_tidy();
        // Each key: its entry, then its TTL record (the index follows each
        // write that succeeds), so that the index and the engine agree at
        // every step; a failure between the two leaves a TTL record without
        // an entry, which the next insert of the key or the next open
        // drops.
        let reclaim = |s: &mut Self| {
            let mut n = 0;
            for k in keys {
                if s.e_delete(k)? {
                    n += 1;
                }
                s.ttl_write(k, None)?;
            }
            Ok(n)
        };
        let r = if self.in_txn {
            // Inside the caller's transaction, part of it without a
            // savepoint of its own: every entry it removes has expired and
            // no call sees it, so stopping part way changes nothing any
            // call can see, and the caller's Abort still restores all of it.
            // (A savepoint made SQLite copy each page the scan changed to a
            // statement journal in a temporary file: the scan took 1.16-1.19
            // times the raw deletes.)
            let r = reclaim(self);
            self.sync_txn(r)
        } else {
            self.atomic(reclaim)
        };
        self.ttl.end_defer();
        r
    }

    /// Number of keys that carry an expiry, expired ones not yet reclaimed
    /// included (kept in memory: no storage access).
    pub fn ttl_count(&self) -> usize {
        self.ttl.len()
    }

    // ------------------------------------------------------------------
    // Iteration

    /// Visits the live entries of `[lo, hi]` in unsigned key order until `f`
    /// returns false (one engine scan; for export and other bulk reads).
    pub(crate) fn scan_live<F: FnMut(EntryRef<'_>) -> bool>(&mut self, lo: u64, hi: u64, mut f: F) -> Result<()> {
        self.refresh()?;
        if lo > hi {
            return Ok(());
        }
        let (ttl, now) = (&self.ttl, self.ttl.scan_now());
        let r = self.engine.scan(lo, hi, Dir::Forward, |row: Row<'_>| {
            now.is_some_and(|n| ttl.expired(row.key, n))
                || f(EntryRef { key: row.key, term: row.term, cmd: row.cmd, data: row.data })
        });
        self.sync_txn(r)
    }

    /// Puts up to `limit` entries of `[lo, hi]` in `dir` order in `out`:
    /// with `pin` (the iterator's), pointing into the engine where it can
    /// keep them readable through it, else copied.
    pub(crate) fn scan_chunk(
        &mut self,
        lo: u64,
        hi: u64,
        dir: Dir,
        limit: usize,
        out: &mut Chunk,
        pin: Option<&mut ScanPin>,
    ) -> Result<()> {
        // Emptied first: a failed refresh must not leave the caller the
        // chunk it read before, as if it had been read again.
        out.clear();
        self.refresh()?;
        if lo > hi || limit == 0 {
            return Ok(());
        }
        let (ttl, now) = (&self.ttl, self.ttl.scan_now());
        let in_place = match (pin, now) {
            (Some(pin), None) => self.engine.scan_records(pin, lo, hi, dir, limit, &mut out.recs, |_| false),
            (Some(pin), Some(n)) => {
                self.engine.scan_records(pin, lo, hi, dir, limit, &mut out.recs, |k| ttl.expired(k, n))
            }
            (None, _) => Ok(false),
        };
        let r = match in_place {
            Ok(true) => Ok(()),
            Ok(false) => {
                // (Nothing was appended, the engine's promise; the chunk
                // never holds both kinds of entry, whatever an engine does.)
                out.recs.clear();
                self.engine.scan_batch(lo, hi, dir, |row| {
                    if !now.is_some_and(|n| ttl.expired(row.key, n)) {
                        out.push(row);
                    }
                    out.rows.len() < limit
                })
            }
            // The records before the error stay readable (the engine's
            // promise): the chunk keeps them.
            Err(e) => Err(e),
        };
        self.sync_txn(r)
    }

    /// The live entries whose key is in `range`, in ascending key order
    /// (`.rev()` for descending; both ends can be consumed). Entries are
    /// read in chunks; each item is an owned [`Entry`]. Writes made while
    /// iterating are seen from the next chunk on.
    ///
    /// ```
    /// # use kvidxkit::{Sqlite, Store};
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// for k in [5, 10, 15, 20, u64::MAX] {
    ///     db.insert(k, 1, 0, &k.to_le_bytes())?;
    /// }
    /// let keys: Vec<u64> = db.range(10..=20).map(|e| e.map(|e| e.key)).collect::<Result<_, _>>()?;
    /// assert_eq!(keys, [10, 15, 20]);
    /// let last = db.range(..).rev().next().transpose()?.unwrap();
    /// assert_eq!(last.key, u64::MAX);
    /// # Ok::<(), kvidxkit::Error>(())
    /// ```
    pub fn range(&mut self, range: impl RangeBounds<u64>) -> Iter<'_, E> {
        let (lo, hi, done) = match bounds(&range) {
            Some((lo, hi)) => (lo, hi, false),
            None => (0, 0, true),
        };
        Iter { store: self, lo, hi, done, front: None, back: None }
    }

    /// Every live entry, in ascending key order (`store.range(..)`).
    pub fn iter(&mut self) -> Iter<'_, E> {
        self.range(..)
    }

    /// Calls `f` with every live entry of `range` in ascending key order,
    /// each borrowed from the engine (no copy), until `f` returns false:
    /// one consistent scan, the fastest way to read many entries.
    pub fn for_each_in(&mut self, range: impl RangeBounds<u64>, f: impl FnMut(EntryRef<'_>) -> bool) -> Result<()> {
        match bounds(&range) {
            Some((lo, hi)) => self.scan_live(lo, hi, f),
            None => Ok(()),
        }
    }
}

/// What is done with a chunk's entry ([`Cursor::visit_current`]), inlined
/// into each kind of chunk's path; implementations mark `visit`
/// `#[inline(always)]`.
pub(crate) trait Visit<'a>: Sized {
    type Out;
    fn visit(self, e: EntryRef<'a>) -> Self::Out;

    /// A record read in place: read whole and visited, unless the visitor
    /// reads it its own way.
    ///
    /// # Safety
    /// The engine keeps `r` readable for `'a`.
    #[inline(always)]
    unsafe fn visit_record(self, r: &'a Record) -> Self::Out {
        let (p, len) = r.data();
        // SAFETY: as the caller promises.
        let (term, cmd, data) = unsafe { (r.term(), r.cmd(), std::slice::from_raw_parts(p as *const u8, len)) };
        self.visit(EntryRef { key: r.key, term, cmd, data })
    }
}

/// The entry itself.
struct Borrow;

impl<'a> Visit<'a> for Borrow {
    type Out = EntryRef<'a>;

    #[inline(always)]
    fn visit(self, e: EntryRef<'a>) -> EntryRef<'a> {
        e
    }
}

/// A buffer of entries read in one engine call: fixed-size rows with their
/// values copied into one arena or the engine's own records left where it
/// keeps them readable (see [`Engine::scan_records`]); never both at once
/// ([`Store::scan_chunk`] copies only when the engine appended no record).
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    /// (key, term, cmd, value offset in the arena, length)
    rows: Vec<(u64, u64, u64, usize, usize)>,
    arena: Vec<u8>,
    recs: RecordBuf,
}

impl Chunk {
    fn clear(&mut self) {
        self.rows.clear();
        self.arena.clear();
        self.recs.clear();
    }

    fn push(&mut self, r: Row<'_>) {
        let off = self.arena.len();
        self.arena.extend_from_slice(r.data);
        self.rows.push((r.key, r.term, r.cmd, off, r.data.len()));
    }

    #[inline]
    fn len(&self) -> usize {
        self.recs.len() + self.rows.len()
    }

    /// `v` of the entry at `i` (never panics: the C iterator reads it
    /// unguarded). The visit is inlined into each kind of chunk's path, so
    /// that a record in place goes to it without passing through the code
    /// that reads a copied row.
    #[inline(always)]
    fn visit<'a, V: Visit<'a>>(&'a self, i: usize, v: V) -> Option<V::Out> {
        // SAFETY (both): copied bytes live in the arena (`push` appends a
        // row's bytes and the row together, `clear` empties both); records
        // in place stay readable while the cursor's pin is untouched (the
        // engine's promise), and the cursor drops or passes its pin only
        // when it refills or clears this chunk.
        // The records' bound is the first test: a chunk of copied rows has
        // none.
        if let Some(r) = self.recs.get(i) {
            Some(unsafe { v.visit_record(r) })
        } else {
            let &(key, term, cmd, at, len) = self.rows.get(i)?;
            debug_assert!(at.checked_add(len).is_some_and(|end| end <= self.arena.len()));
            let data = unsafe { std::slice::from_raw_parts(self.arena.as_ptr().add(at), len) };
            Some(v.visit(EntryRef { key, term, cmd, data }))
        }
    }
}

const FIRST_CHUNK: usize = 16;
const MAX_CHUNK: usize = 256;
/// Read-ahead of a run of neighbour reads ([`Store::neighbour`]): the first
/// engine read, and the largest (rows of up to 64 values stay in the store
/// between calls).
const NAV_FIRST_CHUNK: usize = 4;
const NAV_MAX_CHUNK: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    NotStarted,
    At,
    Exhausted,
}

/// Iteration state over an inclusive key range, written once for the Rust
/// iterator and the C iterator. Entries are read from the store in chunks;
/// the cursor owns the values it hands out. A write to the store (seen
/// through the store's generation counter) makes the cursor re-read from
/// just after its current key, so concurrent changes are picked up.
#[derive(Debug)]
pub(crate) struct Cursor {
    lo: u64,
    hi: u64,
    dir: Dir,
    pos: Position,
    chunk: Chunk,
    /// Entries in `chunk` (kept here: the C iterator's step reads it).
    chunk_len: usize,
    idx: usize,
    /// The last chunk read reached the end of the range (or an error).
    chunk_is_last: bool,
    /// The error that ended the last chunk read, reported once the
    /// entries read before it are passed.
    deferred: Option<Error>,
    next_size: usize,
    /// Largest chunk.
    max_size: usize,
    generation: u64,
    /// What the engine keeps for this cursor's chunks (declared after
    /// `chunk`, which may point into what it holds: dropped after it).
    pin: ScanPin,
}

impl Cursor {
    pub(crate) fn new(lo: u64, hi: u64, dir: Dir) -> Self {
        Self::with_chunks(lo, hi, dir, FIRST_CHUNK, MAX_CHUNK)
    }

    /// A cursor whose chunks hold `first` entries, then twice as many each
    /// time up to `max`.
    fn with_chunks(lo: u64, hi: u64, dir: Dir, first: usize, max: usize) -> Self {
        Cursor {
            lo,
            hi,
            dir,
            pos: Position::NotStarted,
            chunk: Chunk::default(),
            chunk_len: 0,
            idx: 0,
            chunk_is_last: false,
            deferred: None,
            next_size: first,
            max_size: max,
            generation: 0,
            pin: None,
        }
    }

    /// Starts over on another range, with the first chunk size of a run of
    /// neighbour reads (the buffers are kept).
    fn restart(&mut self, lo: u64, hi: u64, dir: Dir) {
        self.exhaust();
        (self.lo, self.hi, self.dir, self.pos, self.next_size) = (lo, hi, dir, Position::NotStarted, NAV_FIRST_CHUNK);
    }

    pub(crate) fn current(&self) -> Option<EntryRef<'_>> {
        self.visit_current(Borrow)
    }

    /// `v` of the current entry, if any ([`Chunk::visit`]). The chunk is
    /// empty unless the cursor is on an entry ([`Cursor::fill`] leaves it
    /// `At` whenever it leaves entries, [`Cursor::exhaust`] empties it), so
    /// the chunk's own bound is the only test.
    #[inline(always)]
    pub(crate) fn visit_current<'a, V: Visit<'a>>(&'a self, v: V) -> Option<V::Out> {
        debug_assert!(self.pos == Position::At || self.chunk.len() == 0);
        self.chunk.visit(self.idx, v)
    }

    fn current_key(&self) -> Option<u64> {
        self.current().map(|e| e.key)
    }

    /// Advances within the chunk already read, if that is still accurate.
    /// `None` means the store must be consulted ([`Cursor::advance`]).
    #[inline]
    pub(crate) fn advance_cached(&mut self, generation: u64) -> Option<bool> {
        // The step within the chunk first: `chunk_len` is 0 unless the
        // cursor is `At` (as for [`Cursor::visit_current`]).
        if generation == self.generation && self.idx + 1 < self.chunk_len {
            self.idx += 1;
            return Some(true);
        }
        match self.pos {
            Position::Exhausted => Some(false),
            Position::NotStarted => None,
            Position::At => {
                if generation != self.generation {
                    None
                } else if self.chunk_is_last && self.pin.is_none() && self.deferred.is_none() {
                    Some(self.exhaust())
                } else {
                    // (The end of a chunk read in place: `advance` lets go
                    // of what the engine holds for it.)
                    None
                }
            }
        }
    }

    /// Moves to the next entry, reading from the store when needed.
    pub(crate) fn advance<E: Engine>(&mut self, store: &mut Store<E>) -> Result<bool> {
        let generation = store.shared.generation.load(Ordering::Relaxed);
        if let Some(r) = self.advance_cached(generation) {
            return Ok(r);
        }
        if self.pos == Position::At && generation == self.generation && self.chunk_is_last {
            if let Some(e) = self.deferred.take() {
                self.exhaust();
                return Err(e);
            }
            return Ok(self.exhaust());
        }
        let (lo, hi) = match (self.pos, self.current_key()) {
            (Position::NotStarted, _) => (self.lo, self.hi),
            (_, Some(k)) => match self.dir {
                Dir::Forward => match k.checked_add(1) {
                    Some(n) => (n, self.hi),
                    None => return Ok(self.exhaust()),
                },
                Dir::Backward => match k.checked_sub(1) {
                    Some(p) => (self.lo, p),
                    None => return Ok(self.exhaust()),
                },
            },
            _ => return Ok(self.exhaust()),
        };
        self.fill(store, lo, hi, generation)
    }

    #[cfg(feature = "capi")]
    /// Positions on `key` if present, else on the next entry in the
    /// iteration direction. A key outside the range exhausts the cursor.
    pub(crate) fn seek<E: Engine>(&mut self, store: &mut Store<E>, key: u64) -> Result<bool> {
        if key < self.lo || key > self.hi {
            return Ok(self.exhaust());
        }
        let generation = store.shared.generation.load(Ordering::Relaxed);
        self.next_size = FIRST_CHUNK;
        match self.dir {
            Dir::Forward => self.fill(store, key, self.hi, generation),
            Dir::Backward => self.fill(store, self.lo, key, generation),
        }
    }

    #[cfg(feature = "capi")]
    /// Forgets what the chunk says about the store, forcing a re-read.
    pub(crate) fn invalidate(&mut self) {
        self.generation = u64::MAX;
    }

    fn exhaust(&mut self) -> bool {
        self.pos = Position::Exhausted;
        self.deferred = None;
        self.chunk.clear();
        self.chunk_len = 0;
        // Nothing to read any more: the engine's snapshot goes too.
        self.pin = None;
        false
    }

    fn fill<E: Engine>(&mut self, store: &mut Store<E>, lo: u64, hi: u64, generation: u64) -> Result<bool> {
        let size = self.next_size;
        // The first chunk after a start or a seek is copied: a short
        // iteration (or one that stops early and stays) takes nothing from
        // the engine; longer ones read their next chunks in place.
        let pin = if size > FIRST_CHUNK {
            Some(&mut self.pin)
        } else {
            self.chunk.clear();
            self.pin = None;
            None
        };
        self.deferred = None;
        if let Err(e) = store.scan_chunk(lo, hi, self.dir, size, &mut self.chunk, pin) {
            if self.chunk.len() == 0 {
                self.exhaust();
                return Err(e);
            }
            // Damage (or any error) after some entries: those entries
            // first, then the error, as a scan one entry at a time would.
            self.deferred = Some(e);
        }
        self.chunk_len = self.chunk.len();
        self.next_size = (size * 2).min(self.max_size);
        self.generation = generation;
        self.idx = 0;
        self.chunk_is_last = self.chunk_len < size || self.deferred.is_some();
        if self.chunk_len == 0 {
            return Ok(self.exhaust());
        }
        self.pos = Position::At;
        Ok(true)
    }
}

/// An iterator over the live entries of a key range ([`Store::range`]),
/// double-ended: `next` walks up from the low end, `next_back` down from
/// the high end, and they stop where they meet.
pub struct Iter<'s, E: Engine> {
    store: &'s mut Store<E>,
    /// What is left to visit: `[lo, hi]`, unless `done`.
    lo: u64,
    hi: u64,
    done: bool,
    front: Option<Cursor>,
    back: Option<Cursor>,
}

impl<E: Engine> Iter<'_, E> {
    fn step(&mut self, dir: Dir) -> Option<Result<Entry>> {
        if self.done {
            return None;
        }
        let (lo, hi) = (self.lo, self.hi);
        let slot = match dir {
            Dir::Forward => &mut self.front,
            Dir::Backward => &mut self.back,
        };
        let cursor = slot.get_or_insert_with(|| Cursor::new(lo, hi, dir));
        match cursor.advance(self.store) {
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let e = cursor.current()?;
                // The other end may have taken this one already.
                if e.key < self.lo || e.key > self.hi {
                    self.done = true;
                    return None;
                }
                let entry = e.to_owned();
                let rest = match dir {
                    Dir::Forward => entry.key.checked_add(1).map(|lo| (lo, self.hi)),
                    Dir::Backward => entry.key.checked_sub(1).map(|hi| (self.lo, hi)),
                };
                match rest {
                    Some((lo, hi)) if lo <= hi => (self.lo, self.hi) = (lo, hi),
                    _ => self.done = true,
                }
                Some(Ok(entry))
            }
        }
    }
}

impl<E: Engine> Iterator for Iter<'_, E> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step(Dir::Forward)
    }
}

impl<E: Engine> DoubleEndedIterator for Iter<'_, E> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.step(Dir::Backward)
    }
}

/// A transaction on a [`Store`] ([`Store::transaction`]). It dereferences
/// to the store: every call made through it is part of the transaction.
/// Dropped without [`Transaction::commit`], it rolls back.
pub struct Transaction<'s, E: Engine> {
    store: &'s mut Store<E>,
    open: bool,
}

impl<E: Engine> Transaction<'_, E> {
    /// Makes everything done in the transaction durable (as the configured
    /// sync mode says). On error the transaction is rolled back.
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        let r = self.store.commit();
        if r.is_err() && self.store.in_transaction() {
            let _ = self.store.abort();
        }
        r
    }

    /// Undoes everything done in the transaction (as dropping it does, but
    /// reporting an error).
    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.store.abort()
    }
}

impl<E: Engine> Deref for Transaction<'_, E> {
    type Target = Store<E>;

    fn deref(&self) -> &Store<E> {
        self.store
    }
}

impl<E: Engine> DerefMut for Transaction<'_, E> {
    fn deref_mut(&mut self) -> &mut Store<E> {
        self.store
    }
}

impl<E: Engine> Drop for Transaction<'_, E> {
    fn drop(&mut self) {
        if self.open && self.store.in_transaction() {
            let _ = self.store.abort();
        }
    }
}

/// The inclusive `[lo, hi]` of `range`, or `None` when it is empty.
pub(crate) fn bounds(range: &impl RangeBounds<u64>) -> Option<(u64, u64)> {
    let lo = match range.start_bound() {
        Bound::Included(&k) => k,
        Bound::Excluded(&k) => k.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let hi = match range.end_bound() {
        Bound::Included(&k) => k,
        Bound::Excluded(&k) => k.checked_sub(1)?,
        Bound::Unbounded => u64::MAX,
    };
    (lo <= hi).then_some((lo, hi))
}
