//! The safe Rust API: a [`Store`] over any [`Engine`]. Every rule that is the
//! same on every engine lives here, once: strict neighbours in unsigned
//! order, inclusive/exclusive range bounds, atomic compound calls, batches,
//! statistics, transaction state.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::{Config, Stats};
use crate::engine::{Dir, Engine, OpenRequest, Row};
use crate::error::{Error, Result};

/// An entry owned by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: u64,
    pub term: u64,
    pub cmd: u64,
    pub data: Vec<u8>,
}

/// An entry whose value is borrowed from the store (valid until the next
/// call on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub key: u64,
    pub term: u64,
    pub cmd: u64,
    pub data: &'a [u8],
}

impl EntryRef<'_> {
    pub fn to_owned(&self) -> Entry {
        Entry {
            key: self.key,
            term: self.term,
            cmd: self.cmd,
            data: self.data.to_vec(),
        }
    }
}

/// State shared with iterators that do not hold the store's lock.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Incremented by every call that may change what a read returns.
    pub(crate) generation: AtomicU64,
}

/// An open database.
pub struct Store<E: Engine> {
    engine: E,
    in_txn: bool,
    config: Config,
    /// Value of the last point read (the C API hands out pointers into it).
    buf: Vec<u8>,
    pub(crate) shared: Arc<Shared>,
}

/// Result of a batch insert: how many entries went in, and the error that
/// stopped it, if any (the entries before it are kept).
#[derive(Debug)]
pub struct BatchOutcome {
    pub inserted: usize,
    pub error: Option<Error>,
}

impl<E: Engine> Store<E> {
    /// Opens with the original's plain-open settings (SQLite: WAL, synchronous
    /// FULL, 31 250 KiB cache, recursive triggers).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::open_request(&OpenRequest {
            path: path.as_ref(),
            config: None,
        })
    }

    /// Opens and applies `config` from the start (read-only, VFS, page size
    /// for new files, and every runtime setting).
    pub fn open_with_config(path: impl AsRef<std::path::Path>, config: &Config) -> Result<Self> {
        Self::open_request(&OpenRequest {
            path: path.as_ref(),
            config: Some(config),
        })
    }

    pub(crate) fn open_request(req: &OpenRequest<'_>) -> Result<Self> {
        let (engine, config) = E::open(req)?;
        Ok(Store {
            engine,
            in_txn: false,
            config,
            buf: Vec::new(),
            shared: Arc::new(Shared::default()),
        })
    }

    /// Closes, rolling back an open transaction. On failure the store is
    /// handed back, still usable.
    pub fn close(mut self) -> std::result::Result<(), (Self, Error)> {
        self.touch();
        if self.in_txn {
            if let Err(e) = self.engine.rollback() {
                return Err((self, e));
            }
            self.in_txn = false;
        }
        let Store {
            engine,
            in_txn,
            config,
            buf,
            shared,
        } = self;
        engine.close().map_err(|(engine, e)| {
            (
                Store {
                    engine,
                    in_txn,
                    config,
                    buf,
                    shared,
                },
                e,
            )
        })
    }

    /// The engine, for engine-specific work.
    pub fn engine(&self) -> &E {
        &self.engine
    }

    #[inline]
    fn touch(&self) {
        self.shared.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Re-reads the transaction state after an error (an engine may have
    /// rolled the transaction back by itself).
    fn sync_txn<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() && self.in_txn && !self.engine.in_transaction() {
            self.in_txn = false;
        }
        r
    }

    /// Runs `f` as one atomic unit: its own transaction when none is open,
    /// a savepoint inside the caller's transaction otherwise.
    fn atomic<R>(&mut self, f: impl FnOnce(&mut E) -> Result<R>) -> Result<R> {
        self.engine.savepoint()?;
        let r = match f(&mut self.engine) {
            Ok(v) => match self.engine.release_savepoint() {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.engine.rollback_savepoint();
                    Err(e)
                }
            },
            Err(e) => {
                let _ = self.engine.rollback_savepoint();
                Err(e)
            }
        };
        self.sync_txn(r)
    }

    // ------------------------------------------------------------------
    // Transactions

    /// True while a transaction begun with [`Store::begin`] is open.
    pub fn in_transaction(&self) -> bool {
        self.in_txn
    }

    pub fn begin(&mut self) -> Result<()> {
        if self.in_txn {
            return Err(Error::TransactionActive);
        }
        self.engine.begin()?;
        self.in_txn = true;
        Ok(())
    }

    pub fn commit(&mut self) -> Result<()> {
        if !self.in_txn {
            return Err(Error::NoTransaction);
        }
        let r = self.engine.commit();
        // A failed commit may leave the transaction open (e.g. busy).
        self.in_txn = self.engine.in_transaction();
        r
    }

    pub fn abort(&mut self) -> Result<()> {
        if !self.in_txn {
            return Err(Error::NoTransaction);
        }
        self.touch();
        let r = self.engine.rollback();
        self.in_txn = self.engine.in_transaction();
        r
    }

    // ------------------------------------------------------------------
    // Point reads

    /// The entry at `key`.
    pub fn get(&mut self, key: u64) -> Result<Option<EntryRef<'_>>> {
        let r = self.engine.get(key, &mut self.buf);
        match self.sync_txn(r)? {
            Some((term, cmd)) => Ok(Some(EntryRef {
                key,
                term,
                cmd,
                data: &self.buf,
            })),
            None => Ok(None),
        }
    }

    pub fn exists(&mut self, key: u64) -> Result<bool> {
        let r = self.engine.exists(key);
        self.sync_txn(r)
    }

    /// True if `key` exists and its term equals `term`.
    pub fn exists_dual(&mut self, key: u64, term: u64) -> Result<bool> {
        let r = self.engine.term(key);
        Ok(self.sync_txn(r)? == Some(term))
    }

    // ------------------------------------------------------------------
    // Navigation (unsigned order, strict neighbours)

    fn first_in(&mut self, lo: u64, hi: u64, dir: Dir) -> Result<Option<EntryRef<'_>>> {
        let buf = &mut self.buf;
        let mut found = None;
        let r = self.engine.scan(lo, hi, dir, &mut |row: Row<'_>| {
            buf.clear();
            buf.extend_from_slice(row.data);
            found = Some((row.key, row.term, row.cmd));
            false
        });
        self.sync_txn(r)?;
        Ok(found.map(|(key, term, cmd)| EntryRef {
            key,
            term,
            cmd,
            data: &self.buf,
        }))
    }

    fn first_key_in(&mut self, lo: u64, hi: u64, dir: Dir) -> Result<Option<u64>> {
        let mut found = None;
        let r = self.engine.scan(lo, hi, dir, &mut |row: Row<'_>| {
            found = Some(row.key);
            false
        });
        self.sync_txn(r)?;
        Ok(found)
    }

    /// The entry with the smallest key strictly greater than `key`.
    pub fn next(&mut self, key: u64) -> Result<Option<EntryRef<'_>>> {
        match key.checked_add(1) {
            Some(lo) => self.first_in(lo, u64::MAX, Dir::Forward),
            None => Ok(None),
        }
    }

    /// The entry with the largest key strictly less than `key`.
    pub fn prev(&mut self, key: u64) -> Result<Option<EntryRef<'_>>> {
        match key.checked_sub(1) {
            Some(hi) => self.first_in(0, hi, Dir::Backward),
            None => Ok(None),
        }
    }

    pub fn max_key(&mut self) -> Result<Option<u64>> {
        self.first_key_in(0, u64::MAX, Dir::Backward)
    }

    pub fn min_key(&mut self) -> Result<Option<u64>> {
        self.first_key_in(0, u64::MAX, Dir::Forward)
    }

    // ------------------------------------------------------------------
    // Writes

    /// Inserts a new entry; an existing key is [`Error::DuplicateKey`] and
    /// leaves the entry unchanged.
    pub fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        self.touch();
        let r = self.engine.insert(key, term, cmd, data);
        match self.sync_txn(r)? {
            true => Ok(()),
            false => Err(Error::DuplicateKey(key)),
        }
    }

    /// Removes `key`; returns whether it existed.
    pub fn remove(&mut self, key: u64) -> Result<bool> {
        self.touch();
        let r = self.engine.delete(key);
        self.sync_txn(r)
    }

    /// Removes every key in the range; the flags say whether each bound is
    /// included. An empty range (start > end, or exclusive bounds that
    /// meet) removes nothing.
    pub fn remove_range(
        &mut self,
        start: u64,
        end: u64,
        start_inclusive: bool,
        end_inclusive: bool,
    ) -> Result<u64> {
        let lo = if start_inclusive {
            Some(start)
        } else {
            start.checked_add(1)
        };
        let hi = if end_inclusive {
            Some(end)
        } else {
            end.checked_sub(1)
        };
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo <= hi => {
                self.touch();
                self.atomic(|e| e.delete_range(lo, hi))
            }
            _ => Ok(0),
        }
    }

    /// Removes every key >= `key`.
    pub fn remove_after_inclusive(&mut self, key: u64) -> Result<u64> {
        self.remove_range(key, u64::MAX, true, true)
    }

    /// Removes every key <= `key`.
    pub fn remove_before_inclusive(&mut self, key: u64) -> Result<u64> {
        self.remove_range(0, key, true, true)
    }

    /// Inserts entries in order, stopping at the first failure. Outside a
    /// transaction the batch runs in its own and the entries before a
    /// failure are kept (committed); inside one it joins it.
    pub fn insert_batch<'a, I>(&mut self, entries: I) -> BatchOutcome
    where
        I: IntoIterator<Item = EntryRef<'a>>,
    {
        let own = !self.in_txn;
        if own && let Err(e) = self.begin() {
            return BatchOutcome {
                inserted: 0,
                error: Some(e),
            };
        }
        let mut inserted = 0;
        let mut error = None;
        for e in entries {
            match self.insert(e.key, e.term, e.cmd, e.data) {
                Ok(()) => inserted += 1,
                Err(err) => {
                    error = Some(err);
                    break;
                }
            }
        }
        if own {
            if !self.in_txn {
                // The engine ended (rolled back) the transaction by itself.
                let error = error
                    .unwrap_or_else(|| Error::Internal("batch transaction ended early".into()));
                return BatchOutcome {
                    inserted: 0,
                    error: Some(error),
                };
            }
            if let Err(e) = self.commit() {
                let _ = self.abort();
                return BatchOutcome {
                    inserted: 0,
                    error: Some(e),
                };
            }
        }
        BatchOutcome { inserted, error }
    }

    // ------------------------------------------------------------------
    // Range queries and statistics

    /// Number of keys in `[start, end]` (0 when start > end).
    pub fn count_range(&mut self, start: u64, end: u64) -> Result<u64> {
        if start > end {
            return Ok(0);
        }
        let r = self.engine.count(start, end);
        self.sync_txn(r)
    }

    /// True if any key lies in `[start, end]`.
    pub fn exists_in_range(&mut self, start: u64, end: u64) -> Result<bool> {
        if start > end {
            return Ok(false);
        }
        Ok(self.first_key_in(start, end, Dir::Forward)?.is_some())
    }

    pub fn key_count(&mut self) -> Result<u64> {
        self.count_range(0, u64::MAX)
    }

    /// Sum of all value lengths.
    pub fn data_size(&mut self) -> Result<u64> {
        let r = self.engine.data_size();
        self.sync_txn(r)
    }

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

    /// The configuration in effect.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Applies a configuration; on error the previous one stays in force.
    pub fn update_config(&mut self, config: &Config) -> Result<&Config> {
        let r = self.engine.apply_config(config);
        self.config = self.sync_txn(r)?;
        Ok(&self.config)
    }

    /// Durability barrier: everything committed so far survives a power cut.
    pub fn fsync(&mut self) -> Result<()> {
        let r = self.engine.sync();
        self.sync_txn(r)
    }

    // ------------------------------------------------------------------
    // Iteration

    /// Appends up to `limit` entries of `[lo, hi]` in `dir` order to `out`.
    pub(crate) fn scan_chunk(
        &mut self,
        lo: u64,
        hi: u64,
        dir: Dir,
        limit: usize,
        out: &mut Chunk,
    ) -> Result<()> {
        out.clear();
        if lo > hi || limit == 0 {
            return Ok(());
        }
        let r = self.engine.scan(lo, hi, dir, &mut |row: Row<'_>| {
            out.push(row);
            out.len() < limit
        });
        self.sync_txn(r)
    }

    /// An iterator over `[start, end]` (inclusive) in `dir` order, yielding
    /// owned entries.
    pub fn iter(&mut self, start: u64, end: u64, dir: Dir) -> Iter<'_, E> {
        Iter {
            store: self,
            cursor: Cursor::new(start, end, dir),
        }
    }
}

/// A buffer of entries read in one engine call: fixed-size records plus one
/// arena for the values.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    rows: Vec<(u64, u64, u64, usize, usize)>,
    arena: Vec<u8>,
}

impl Chunk {
    fn clear(&mut self) {
        self.rows.clear();
        self.arena.clear();
    }

    fn push(&mut self, r: Row<'_>) {
        let off = self.arena.len();
        self.arena.extend_from_slice(r.data);
        self.rows.push((r.key, r.term, r.cmd, off, r.data.len()));
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn get(&self, i: usize) -> Option<EntryRef<'_>> {
        self.rows
            .get(i)
            .map(|&(key, term, cmd, off, len)| EntryRef {
                key,
                term,
                cmd,
                data: &self.arena[off..off + len],
            })
    }
}

const FIRST_CHUNK: usize = 16;
const MAX_CHUNK: usize = 256;

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
    idx: usize,
    /// The last chunk read reached the end of the range.
    chunk_is_last: bool,
    next_size: usize,
    generation: u64,
}

impl Cursor {
    pub(crate) fn new(lo: u64, hi: u64, dir: Dir) -> Self {
        Cursor {
            lo,
            hi,
            dir,
            pos: Position::NotStarted,
            chunk: Chunk::default(),
            idx: 0,
            chunk_is_last: false,
            next_size: FIRST_CHUNK,
            generation: 0,
        }
    }

    pub(crate) fn valid(&self) -> bool {
        self.pos == Position::At
    }

    pub(crate) fn current(&self) -> Option<EntryRef<'_>> {
        if self.pos == Position::At {
            self.chunk.get(self.idx)
        } else {
            None
        }
    }

    fn current_key(&self) -> Option<u64> {
        self.current().map(|e| e.key)
    }

    /// Advances within the chunk already read, if that is still accurate.
    /// `None` means the store must be consulted ([`Cursor::advance`]).
    pub(crate) fn advance_cached(&mut self, generation: u64) -> Option<bool> {
        match self.pos {
            Position::Exhausted => Some(false),
            Position::NotStarted => None,
            Position::At => {
                if generation != self.generation {
                    return None;
                }
                if self.idx + 1 < self.chunk.len() {
                    self.idx += 1;
                    Some(true)
                } else if self.chunk_is_last {
                    self.pos = Position::Exhausted;
                    Some(false)
                } else {
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

    /// Forgets what the chunk says about the store, forcing a re-read.
    pub(crate) fn invalidate(&mut self) {
        self.generation = u64::MAX;
    }

    fn exhaust(&mut self) -> bool {
        self.pos = Position::Exhausted;
        self.chunk.clear();
        false
    }

    fn fill<E: Engine>(
        &mut self,
        store: &mut Store<E>,
        lo: u64,
        hi: u64,
        generation: u64,
    ) -> Result<bool> {
        let size = self.next_size;
        if let Err(e) = store.scan_chunk(lo, hi, self.dir, size, &mut self.chunk) {
            self.exhaust();
            return Err(e);
        }
        self.next_size = (size * 2).min(MAX_CHUNK);
        self.generation = generation;
        self.idx = 0;
        self.chunk_is_last = self.chunk.len() < size;
        if self.chunk.len() == 0 {
            return Ok(self.exhaust());
        }
        self.pos = Position::At;
        Ok(true)
    }
}

/// Rust iterator over a key range (see [`Store::iter`]).
pub struct Iter<'s, E: Engine> {
    store: &'s mut Store<E>,
    cursor: Cursor,
}

impl<E: Engine> Iter<'_, E> {
    /// Positions on `key` or the next entry in the iteration direction; the
    /// following `next()` returns the entry after it.
    pub fn seek(&mut self, key: u64) -> Result<Option<Entry>> {
        self.cursor.seek(self.store, key)?;
        Ok(self.cursor.current().map(|e| e.to_owned()))
    }
}

impl<E: Engine> Iterator for Iter<'_, E> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.cursor.advance(self.store) {
            Ok(true) => self.cursor.current().map(|e| Ok(e.to_owned())),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
