//! The small trait a storage engine implements. Everything that is the same
//! on every engine (unsigned key order rules, neighbours, batches, range
//! bounds, atomicity of compound calls, iterators, statistics assembly) is
//! written once in [`crate::Store`] on top of it.
//!
//! Keys are `u64` in **unsigned** order everywhere in this trait; an engine
//! that stores them differently (SQLite keeps the bits in a signed integer)
//! maps ranges itself.

use crate::admin::{Check, CompactReport};
use crate::config::{Config, FileStats};
use crate::error::Result;

/// A token for the calling thread: the address of a thread-local (non-zero,
/// distinct for every live thread, a few instructions to compute, unlike
/// `std::thread::current()`).
#[inline]
#[cfg(feature = "lmdb")]
pub(crate) fn thread_token() -> usize {
    thread_local!(static TOKEN: u8 = const { 0 });
    TOKEN.with(|t| t as *const u8 as usize)
}

/// What an engine keeps for an iterator between its chunks
/// ([`Engine::scan_records`]); None until the engine sets it.
#[doc(hidden)]
pub type ScanPin = Option<Box<dyn std::any::Any + Send>>;

/// A record as an engine hands it out in its own memory: the key (8
/// native-endian bytes, read), and the length and address of the value
/// (the address kept as an integer, so that buffers of them move between
/// threads with their iterator). The layout of `MDB_record` in the bundled
/// mdb.c, which LMDB's scans write directly.
#[doc(hidden)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Record {
    pub key: u64,
    pub size: usize,
    pub addr: usize,
}

/// Bytes of term and cmd before the data in a record's value.
pub(crate) const RECORD_HEADER: usize = 16;

/// Records read in place ([`Engine::scan_records`]), in scan order. A
/// value is [`RECORD_HEADER`] bytes of term and cmd (native-endian) then
/// the data; the engine appends only records it has checked to be so.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct RecordBuf {
    recs: Vec<Record>,
}

impl RecordBuf {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.recs.len()
    }

    pub(crate) fn clear(&mut self) {
        self.recs.clear();
    }

    /// Room for `n` more records, returned as the (uninitialised) slots the
    /// engine writes into, then hands to [`Self::commit`].
    #[cfg(feature = "lmdb")]
    pub(crate) fn spare(&mut self, n: usize) -> *mut Record {
        self.recs.reserve(n);
        // SAFETY: room for n more after len.
        unsafe { self.recs.as_mut_ptr().add(self.recs.len()) }
    }

    /// Takes the first `n` slots of the last [`Self::spare`] as records.
    ///
    /// # Safety
    /// `n` is at most what that call reserved, and those slots were written
    /// with checked records (see the type's description).
    #[cfg(feature = "lmdb")]
    pub(crate) unsafe fn commit(&mut self, n: usize) {
        // SAFETY: as the caller promises.
        unsafe { self.recs.set_len(self.recs.len() + n) }
    }

    /// Appends one checked record.
    ///
    /// # Safety
    /// As for [`Self::commit`].
    #[cfg(feature = "lmdb")]
    pub(crate) unsafe fn push(&mut self, r: Record) {
        self.recs.push(r);
    }

    /// The record at `i`.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&Record> {
        self.recs.get(i)
    }
}

// A record was checked when appended (see [`RecordBuf`]): a value of at
// least RECORD_HEADER bytes, readable while the engine keeps it (unaligned
// in the engine's pages). Reading it is up to the caller, who knows that the
// engine still keeps it.
impl Record {
    /// # Safety
    /// The engine still keeps the record (see [`Engine::scan_records`]).
    #[inline(always)]
    pub(crate) unsafe fn term(&self) -> u64 {
        unsafe { std::ptr::read_unaligned(self.addr as *const u64) }
    }

    /// # Safety
    /// As for [`Record::term`].
    #[inline(always)]
    pub(crate) unsafe fn cmd(&self) -> u64 {
        unsafe { std::ptr::read_unaligned((self.addr + 8) as *const u64) }
    }

    /// The data's address and length.
    #[inline(always)]
    pub(crate) fn data(&self) -> (usize, usize) {
        (self.addr + RECORD_HEADER, self.size - RECORD_HEADER)
    }
}

/// Direction of a scan.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Forward,
    Backward,
}

/// One stored entry, borrowed from the engine for the duration of a callback.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub key: u64,
    pub term: u64,
    pub cmd: u64,
    pub data: &'a [u8],
}

/// How an engine was opened: the path and, for `kvidxOpenWithConfig`, the
/// configuration to apply from the start (`None`: the original's plain-open
/// settings).
#[doc(hidden)]
pub struct OpenRequest<'a> {
    pub path: &'a std::path::Path,
    pub config: Option<&'a Config>,
}

pub(crate) mod private {
    /// Only this crate's engines implement [`super::Engine`].
    pub trait Sealed {}
    #[cfg(feature = "sqlite")]
    impl Sealed for crate::engines::Sqlite {}
    #[cfg(feature = "lmdb")]
    impl Sealed for crate::engines::Lmdb {}
    #[cfg(feature = "rocksdb")]
    impl Sealed for crate::engines::Rocksdb {}
}

/// A storage engine, the type parameter of [`Store`](crate::Store):
/// [`Sqlite`](crate::Sqlite), [`Lmdb`](crate::Lmdb) or, with the `rocksdb`
/// feature, `Rocksdb`.
///
/// Use it as a bound to write code that works on any engine:
///
/// ```
/// use kvidxkit::{Engine, Store};
///
/// /// Appends `value` after the last key; returns the new key.
/// fn push<E: Engine>(db: &mut Store<E>, value: &[u8]) -> kvidxkit::Result<u64> {
///     let key = db.max_key()?.map_or(1, |k| k + 1);
///     db.insert(key, 0, 0, value)?;
///     Ok(key)
/// }
///
/// let mut db = Store::<kvidxkit::Sqlite>::open(":memory:")?;
/// assert_eq!(push(&mut db, b"a")?, 1);
/// assert_eq!(push(&mut db, b"b")?, 2);
/// # Ok::<(), kvidxkit::Error>(())
/// ```
///
/// The trait is sealed: only this crate's engines implement it, and its
/// methods are the store's building blocks, not part of the API.
pub trait Engine: private::Sealed + Sized + Send + 'static {
    /// The engine's name in the C registry: `"SQLite3"`, `"LMDB"` or `"RocksDB"`.
    const NAME: &'static str;
    /// Distinguishes handles of different engines (checked on every C call).
    #[doc(hidden)]
    const ID: u32;

    /// Opens (creating if needed). Returns the engine and the configuration
    /// now in effect.
    #[doc(hidden)]
    fn open(req: &OpenRequest<'_>) -> Result<(Self, Config)>;
    /// Closes; on failure hands the engine back so the instance stays usable.
    #[doc(hidden)]
    fn close(self) -> std::result::Result<(), (Self, crate::Error)>;

    // Transactions. `savepoint*` nest inside an open transaction so that a
    // compound call stays atomic within the caller's transaction.
    #[doc(hidden)]
    fn begin(&mut self) -> Result<()>;
    #[doc(hidden)]
    fn commit(&mut self) -> Result<()>;
    #[doc(hidden)]
    fn rollback(&mut self) -> Result<()>;
    #[doc(hidden)]
    fn savepoint(&mut self) -> Result<()>;
    #[doc(hidden)]
    fn release_savepoint(&mut self) -> Result<()>;
    #[doc(hidden)]
    fn rollback_savepoint(&mut self) -> Result<()>;
    /// True while a transaction is open on the connection. An engine may end
    /// a transaction by itself after some errors; the store re-reads this.
    #[doc(hidden)]
    fn in_transaction(&self) -> bool;

    // Reads.
    /// Term and cmd of `key`; its value is then [`Engine::value`], valid
    /// until the next call on the engine (LMDB: a slice of the map, no copy).
    #[doc(hidden)]
    fn get(&mut self, key: u64) -> Result<Option<(u64, u64)>>;
    /// The value of the entry the last successful [`Engine::get`] found.
    #[doc(hidden)]
    fn value(&self) -> &[u8];
    #[doc(hidden)]
    fn exists(&mut self, key: u64) -> Result<bool>;
    /// Term of `key` without reading its value.
    #[doc(hidden)]
    fn term(&mut self, key: u64) -> Result<Option<u64>>;
    /// Visits the entries with `lo <= key <= hi` (unsigned) in `dir` order
    /// until `f` returns false.
    /// Generic (not `dyn`): the row callback is inlined into the engine's loop.
    #[doc(hidden)]
    fn scan<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, f: F) -> Result<()>;
    /// [`Engine::scan`] for a bounded batch whose rows are only copied (an
    /// iterator's chunk): an engine may read such batches another way.
    #[doc(hidden)]
    fn scan_batch<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, f: F) -> Result<()> {
        self.scan(lo, hi, dir, f)
    }
    /// [`Engine::scan_batch`] for an iterator's chunk that points into the
    /// engine's memory instead of copying the rows: appends to `out` up to
    /// `limit` records of `[lo, hi]` in `dir` order, each checked, minus
    /// those whose key `skip` accepts. They stay readable, whatever else
    /// happens on the engine, as long as `pin` is not touched again (not
    /// dropped, not passed to another call). `Ok(false)`: the engine cannot
    /// do it now (nothing was appended; the caller copies). `pin` is the
    /// iterator's own, set and reused by the engine; dropping it releases
    /// what it holds. On an error, the records appended before it stay
    /// readable on the same terms (the entries before a damaged one).
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn scan_records<S: FnMut(u64) -> bool>(
        &mut self,
        pin: &mut ScanPin,
        lo: u64,
        hi: u64,
        dir: Dir,
        limit: usize,
        out: &mut RecordBuf,
        skip: S,
    ) -> Result<bool> {
        let _ = (pin, lo, hi, dir, limit, out, skip);
        Ok(false)
    }
    /// True if [`Engine::first_row`] leaves the value in [`Engine::value`]
    /// (read in place), false if it copies it into the caller's buffer.
    #[doc(hidden)]
    const FIRST_IN_VALUE: bool = false;
    /// The first entry of `[lo, hi]` in `dir` order whose key `take`
    /// accepts (a neighbour read: GetNext, GetPrev): key, term and cmd. Its
    /// value is then [`Engine::value`] if [`Engine::FIRST_IN_VALUE`], else
    /// `buf` (by default a copy: the row dies with the scan).
    #[doc(hidden)]
    fn first_row<T: FnMut(u64) -> bool>(
        &mut self,
        lo: u64,
        hi: u64,
        dir: Dir,
        mut take: T,
        buf: &mut Vec<u8>,
    ) -> Result<Option<(u64, u64, u64)>> {
        let mut found = None;
        self.scan(lo, hi, dir, |row| {
            if !take(row.key) {
                return true;
            }
            buf.clear();
            buf.extend_from_slice(row.data);
            found = Some((row.key, row.term, row.cmd));
            false
        })?;
        Ok(found)
    }
    /// Number of entries with `lo <= key <= hi`.
    #[doc(hidden)]
    fn count(&mut self, lo: u64, hi: u64) -> Result<u64>;
    /// Visits the keys of `[lo, hi]` in ascending order until `f` returns
    /// false (values are not read where the engine can avoid it).
    #[doc(hidden)]
    fn scan_keys<F: FnMut(u64) -> bool>(&mut self, lo: u64, hi: u64, mut f: F) -> Result<()> {
        self.scan(lo, hi, Dir::Forward, |r| f(r.key))
    }
    /// Sum of the value lengths of all entries.
    #[doc(hidden)]
    fn data_size(&mut self) -> Result<u64> {
        let mut total = 0u64;
        self.scan(0, u64::MAX, Dir::Forward, |r| {
            total += r.data.len() as u64;
            true
        })?;
        Ok(total)
    }

    /// Largest value (bytes of data, without term and cmd) the engine can
    /// store; compound writes check it before building a value.
    #[doc(hidden)]
    fn max_value_len(&self) -> usize;

    // Writes.
    /// Inserts a new entry; `Ok(false)` if the key exists (nothing changed).
    #[doc(hidden)]
    fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool>;
    /// Inserts or replaces.
    #[doc(hidden)]
    fn put(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()>;
    /// Replaces an existing entry; `Ok(false)` if the key is absent.
    #[doc(hidden)]
    fn update(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        if !self.exists(key)? {
            return Ok(false);
        }
        self.put(key, term, cmd, data)?;
        Ok(true)
    }
    /// Deletes; `Ok(false)` if absent.
    #[doc(hidden)]
    fn delete(&mut self, key: u64) -> Result<bool>;
    /// Deletes every entry with `lo <= key <= hi`; returns how many.
    #[doc(hidden)]
    fn delete_range(&mut self, lo: u64, hi: u64) -> Result<u64>;

    // The TTL keyspace: absolute expiry (Unix milliseconds) per key, kept
    // beside the data (SQLite table / LMDB sub-database `_kvidx_ttl`).
    /// Visits every TTL record.
    #[doc(hidden)]
    fn ttl_scan(&mut self, f: &mut dyn FnMut(u64, u64)) -> Result<()>;
    /// Sets the expiry of `key`.
    #[doc(hidden)]
    fn ttl_put(&mut self, key: u64, expires_at: u64) -> Result<()>;
    /// Deletes the TTL record of `key` (absent is fine).
    #[doc(hidden)]
    fn ttl_delete(&mut self, key: u64) -> Result<()>;
    /// Deletes the TTL records of every key in `[lo, hi]`.
    #[doc(hidden)]
    fn ttl_delete_range(&mut self, lo: u64, hi: u64) -> Result<()>;

    // Engine facts.
    #[doc(hidden)]
    fn file_stats(&mut self) -> Result<FileStats>;
    /// Applies a configuration to the open engine and returns what is now in
    /// effect. On error the previous settings stay in force.
    #[doc(hidden)]
    fn apply_config(&mut self, cfg: &Config) -> Result<Config>;
    /// Updates the settings in `cfg` that the engine may change by itself
    /// (LMDB's map grows); nothing by default.
    #[doc(hidden)]
    fn refresh_config(&mut self, cfg: &mut Config) {
        let _ = cfg;
    }
    /// Durability barrier: everything committed reaches stable storage.
    #[doc(hidden)]
    fn sync(&mut self) -> Result<()>;

    /// True if another process or connection has committed changes that the
    /// store's in-memory state (the TTL index) has not taken in yet: it must
    /// reload it, then call [`Engine::took_in_changes`]. From this call on,
    /// reads see those changes. Inside a transaction it reports what was
    /// committed before the transaction began. Called at the start of every
    /// store call: it must cost no system call when nothing changed. By
    /// default never (storage only this instance can write).
    #[doc(hidden)]
    fn changed_elsewhere(&mut self) -> Result<bool> {
        Ok(false)
    }
    /// The store has reloaded its state after [`Engine::changed_elsewhere`]
    /// answered true: the changes seen then are taken in (until this is
    /// called, `changed_elsewhere` keeps answering true, so a reload that
    /// failed is tried again by the next call).
    #[doc(hidden)]
    fn took_in_changes(&mut self) {}

    // Administration (src/admin.rs: the `kvidx` tool's building blocks).
    // Every method has a default, so an engine works without them.

    /// Version of the engine's own library ("3.54.1"); empty by default.
    fn version() -> String {
        String::new()
    }
    /// Facts about the open storage, as (name, value) pairs for a report
    /// (page size, map size, tree depth, ...); none by default.
    fn details(&mut self) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }
    /// The engine's own integrity checks (SQLite's `integrity_check`, a walk
    /// of every LMDB record), each appended to `checks` with what it found.
    /// A check that cannot run is a [`Check`] with a problem, not an error.
    /// None by default: [`crate::Store::verify`] still walks every record.
    fn check_storage(&mut self, checks: &mut Vec<Check>) {
        let _ = checks;
    }
    /// Rewrites the storage without free space and replaces it atomically,
    /// returning the sizes before and after; the instance must be closed
    /// afterwards (it may still refer to the old file).
    /// [`crate::Error::NotSupported`] by default.
    fn compact(&mut self) -> Result<CompactReport> {
        Err(crate::Error::NotSupported(format!("{} cannot compact", Self::NAME)))
    }
    /// True if another process holds the write lock of the store at `path`
    /// now, so that opening it for writing or writing to it would wait until
    /// that process releases it (LMDB: a write transaction is open in another
    /// process; one process writes at a time). False by default (SQLite3's
    /// default locking lets no other process open a store that is in use).
    /// A transaction begun right after the answer may still make a write wait.
    fn write_lock_held_at(path: &std::path::Path) -> Result<bool> {
        let _ = path;
        Ok(false)
    }
    /// One consistent snapshot: every TTL record (`ttl(key, expires_at)`),
    /// then the entries of `[lo, hi]` in ascending order until `f` returns
    /// false. By default [`Engine::ttl_scan`] then [`Engine::scan`], which is
    /// one snapshot when nothing else can write in between.
    fn snapshot_scan(
        &mut self,
        lo: u64,
        hi: u64,
        ttl: &mut dyn FnMut(u64, u64),
        f: &mut dyn FnMut(Row<'_>) -> bool,
    ) -> Result<()> {
        self.ttl_scan(ttl)?;
        self.scan(lo, hi, Dir::Forward, f)
    }
}
