//! The RocksDB engine (cargo feature `rocksdb`), on the system's librocksdb
//! through its C API. Directory layout identical to the original kvidxkit's
//! RocksDB engine: the default column family only; data keys are the key as
//! 8 bytes big-endian (so RocksDB's bytewise order is the unsigned order),
//! values are term and cmd as native u64 followed by the data; TTL records
//! share the keyspace as `0x00 'T' 'T' 'L'` + the key big-endian (12 bytes)
//! with an 8-byte native Unix-millisecond expiry.
//!
//! TTL records sort among the data keys (between 0x0054544C00000000 and
//! 0x0054544CFFFFFFFF), where the original's scans returned them as phantom
//! keys. Here every scan, count and neighbour look-up takes only 8-byte keys
//! as data, and the TTL keyspace only 12-byte keys with the prefix: any
//! other record is ignored.
//!
//! Transactions: a write batch with index (WBWI) holds the open
//! transaction; reads inside it see its writes (point reads through
//! `get_from_batch_and_db`, scans through an iterator over the batch with
//! the database as base). Writes outside a transaction go straight to the
//! database. Atomic units nest as save points of the batch: a save point is
//! the batch's record count when it was taken; releasing it forgets the
//! count, rolling back to it rebuilds the batch from its first records.
//! (The C API has no `rocksdb_writebatch_wi_pop_save_point`, so RocksDB's
//! own save points could not be released: every completed unit would leave
//! one behind, and a later rollback would rebuild the index once per unit.)

/// The C API declarations (for the engine, its tests and the benchmark).
///
/// cbindgen:ignore
#[doc(hidden)]
pub mod ffi;

use std::ffi::{CStr, CString, c_char, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::null_mut;

use crate::config::{Config, FileStats, JournalMode, SyncMode};
use crate::engine::{Dir, Engine, OpenRequest, Row};
use crate::error::{Error, Result};

/// Bytes of term and cmd before the data in a value.
const HEADER: usize = 16;
/// Largest value stored (bytes of data), as the LMDB engine: far below
/// RocksDB's own limit (a value length is a 32-bit varint in a write batch).
pub(crate) const MAX_VALUE: usize = 1_000_000_000;
/// First bytes of a TTL record's key.
pub const TTL_PREFIX: [u8; 4] = [0, b'T', b'T', b'L'];
const TTL_KEY_LEN: usize = 12;
/// Block size of the tables (RocksDB's default), reported as the page size.
pub const BLOCK_SIZE: u64 = 4096;
/// Block cache of a plain open (the `cacheSizeBytes` of kvidxConfigDefault).
pub const DEFAULT_CACHE: usize = 32 * 1024 * 1024;
/// Data keys a range delete collects before deleting them (no batch update
/// while an iterator over the batch is open).
const DELETE_CHUNK: usize = 4096;

/// The stored key of `key`.
#[inline]
pub fn data_key(key: u64) -> [u8; 8] {
    key.to_be_bytes()
}

/// The stored key of the TTL record of `key`.
#[inline]
pub fn ttl_key(key: u64) -> [u8; TTL_KEY_LEN] {
    let mut k = [0u8; TTL_KEY_LEN];
    k[..4].copy_from_slice(&TTL_PREFIX);
    k[4..].copy_from_slice(&key.to_be_bytes());
    k
}

/// Splits a stored value into (term, cmd, data); None for a value shorter
/// than the header (neither library writes one: damage).
#[inline]
fn unpack(v: &[u8]) -> Option<(u64, u64, &[u8])> {
    if v.len() < HEADER {
        return None;
    }
    let term = u64::from_ne_bytes(v[..8].try_into().ok()?);
    let cmd = u64::from_ne_bytes(v[8..16].try_into().ok()?);
    Some((term, cmd, &v[HEADER..]))
}

fn short_value(key: u64, len: usize) -> Error {
    Error::Corrupt(format!("the stored value of key {key} has {len} bytes, fewer than its 16-byte header"))
}

/// The error a RocksDB status text stands for. The C API hands out only the
/// text of a `Status` ("IO error: …", "Corruption: …"), so its code and
/// subcode are recognised by their wording.
pub fn classify(op: &str, msg: &str) -> Error {
    let text = format!("{op}: {msg}");
    let has = |s: &str| msg.contains(s);
    if msg.starts_with("Corruption") {
        Error::Corrupt(text)
    } else if has("No space left on device")
        || has("Space limit")
        || has("Disk quota exceeded")
        || has("File too large")
    {
        Error::DiskFull(text)
    } else if has("lock hold by current process") {
        Error::Locked(format!("{text} (a process forked from one that had it open inherits RocksDB's hold on it)"))
    } else if has("While lock file") {
        Error::Locked(format!("{text} (the directory is open in another process)"))
    } else if msg.starts_with("Resource busy")
        || msg.starts_with("Operation timed out")
        || msg.starts_with("Operation failed. Try again")
    {
        Error::Locked(text)
    } else if has("Read-only file system") || has("Permission denied") {
        Error::ReadOnly(text)
    } else if msg.starts_with("IO error") {
        Error::Io(text)
    } else if msg.starts_with("Not implemented") {
        Error::NotSupported(text)
    } else if has("Column families not opened") || has("Column family not found") {
        Error::Schema(format!("{text} (the directory holds column families other than the default one)"))
    } else if msg.starts_with("Invalid argument") {
        Error::InvalidArgument(text)
    } else if has("Memory limit") || has("out of memory") {
        Error::NoMem(text)
    } else {
        Error::Internal(text)
    }
}

/// Turns an `errptr` RocksDB filled into an error (and frees it).
fn take_err(op: &str, p: *mut c_char) -> Error {
    // SAFETY: a NUL-terminated string RocksDB allocated with malloc.
    let msg = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    unsafe { ffi::rocksdb_free(p as *mut c_void) };
    classify(op, &msg)
}

#[inline]
fn check(op: &str, err: *mut c_char) -> Result<()> {
    if err.is_null() { Ok(()) } else { Err(take_err(op, err)) }
}

#[inline]
fn cp(b: &[u8]) -> *const c_char {
    b.as_ptr() as *const c_char
}

/// An iterator of RocksDB (over the database, or over the open batch with
/// the database as base), destroyed when dropped.
struct Iter(*mut ffi::rocksdb_iterator_t);

impl Iter {
    #[inline]
    fn valid(&self) -> bool {
        // SAFETY: a live iterator.
        unsafe { ffi::rocksdb_iter_valid(self.0) != 0 }
    }

    /// The current key (valid only while positioned).
    #[inline]
    fn key(&self) -> &[u8] {
        let mut n = 0;
        // SAFETY: positioned; the bytes stay valid until the iterator moves.
        unsafe {
            let p = ffi::rocksdb_iter_key(self.0, &mut n);
            if p.is_null() { &[] } else { std::slice::from_raw_parts(p as *const u8, n) }
        }
    }

    #[inline]
    fn value(&self) -> &[u8] {
        let mut n = 0;
        // SAFETY: as for key().
        unsafe {
            let p = ffi::rocksdb_iter_value(self.0, &mut n);
            if p.is_null() { &[] } else { std::slice::from_raw_parts(p as *const u8, n) }
        }
    }

    #[inline]
    fn seek(&mut self, k: &[u8]) {
        // SAFETY: a live iterator; RocksDB copies what it needs of the key.
        unsafe { ffi::rocksdb_iter_seek(self.0, cp(k), k.len()) }
    }

    #[inline]
    fn seek_for_prev(&mut self, k: &[u8]) {
        unsafe { ffi::rocksdb_iter_seek_for_prev(self.0, cp(k), k.len()) }
    }

    #[inline]
    fn seek_to_last(&mut self) {
        unsafe { ffi::rocksdb_iter_seek_to_last(self.0) }
    }

    #[inline]
    fn next(&mut self) {
        unsafe { ffi::rocksdb_iter_next(self.0) }
    }

    #[inline]
    fn prev(&mut self) {
        unsafe { ffi::rocksdb_iter_prev(self.0) }
    }

    /// The error that ended the iteration, if any (an iterator that is no
    /// longer valid has either reached the end or failed).
    fn status(&self, op: &str) -> Result<()> {
        let mut err = null_mut();
        // SAFETY: a live iterator.
        unsafe { ffi::rocksdb_iter_get_error(self.0, &mut err) };
        check(op, err)
    }
}

impl Drop for Iter {
    fn drop(&mut self) {
        // SAFETY: ours, destroyed once (with the base iterator it owns).
        unsafe { ffi::rocksdb_iter_destroy(self.0) }
    }
}

/// Iteration bounds, at a stable address: the read options keep pointers
/// to them for as long as an iterator made with them lives.
#[derive(Default)]
struct Bounds {
    lower: [u8; TTL_KEY_LEN],
    upper: [u8; TTL_KEY_LEN],
}

/// The two keyspaces sharing the database.
#[derive(Clone, Copy)]
enum Space {
    /// 8-byte keys: the entries.
    Data,
    /// 12-byte keys with [`TTL_PREFIX`]: the expiry times.
    Ttl,
}

/// A stored key (at most 12 bytes).
struct StoredKey([u8; TTL_KEY_LEN], usize);

impl StoredKey {
    fn as_slice(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

impl Space {
    fn encode(self, key: u64) -> StoredKey {
        match self {
            Space::Data => {
                let mut k = [0u8; TTL_KEY_LEN];
                k[..8].copy_from_slice(&data_key(key));
                StoredKey(k, 8)
            }
            Space::Ttl => StoredKey(ttl_key(key), TTL_KEY_LEN),
        }
    }

    /// The key a stored key of this space stands for; None for records of
    /// the other space or foreign ones.
    #[inline]
    fn decode(self, k: &[u8]) -> Option<u64> {
        match self {
            Space::Data if k.len() == 8 => Some(u64::from_be_bytes(k.try_into().ok()?)),
            Space::Ttl if k.len() == TTL_KEY_LEN && k.starts_with(&TTL_PREFIX) => {
                Some(u64::from_be_bytes(k[4..].try_into().ok()?))
            }
            _ => None,
        }
    }
}

/// The value the last [`Engine::get`] found, held until the next one: a
/// pinned slice of RocksDB's (no copy), or the copy a read through the
/// transaction's batch returns.
enum Held {
    None,
    Pinned(*mut ffi::rocksdb_pinnableslice_t, *const u8, usize),
    Copy(*mut c_char, usize),
}

impl Held {
    fn bytes(&self) -> &[u8] {
        let (p, n) = match *self {
            Held::None => return &[],
            Held::Pinned(_, p, n) => (p, n),
            Held::Copy(p, n) => (p as *const u8, n),
        };
        // SAFETY: the pointer stays valid until the value is released.
        if p.is_null() || n == 0 { &[] } else { unsafe { std::slice::from_raw_parts(p, n) } }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // SAFETY: released once, as RocksDB allocated it.
        unsafe {
            match *self {
                Held::None => {}
                Held::Pinned(ps, _, _) => ffi::rocksdb_pinnableslice_destroy(ps),
                Held::Copy(p, _) => ffi::rocksdb_free(p as *mut c_void),
            }
        }
    }
}

/// The RocksDB engine (feature `rocksdb`, off by default): `Store<Rocksdb>`
/// keeps its data in a RocksDB database, a directory, in the original
/// kvidxkit's layout.
///
/// The directory (created if missing; its parent must exist) holds
/// RocksDB's files. Entries are records keyed by the key in 8 big-endian
/// bytes (term, cmd, then the value); expiry times are 12-byte records
/// `00 'T' 'T' 'L'` + the key in the same keyspace, which no scan, count,
/// neighbour or export ever takes for an entry. The system's `librocksdb`
/// is linked (Debian: `librocksdb-dev`) and used through its C API.
///
/// An LSM tree: writes append to a write-ahead log and are merged into
/// table files in the background, so write-heavy work and data larger than
/// memory suit it. A directory is open in one process at a time (another
/// process's open, or a second one in this process, is [`Error::Locked`]);
/// a read-only open ([`Config::read_only`]) takes no lock and sees the
/// database as it was when it opened. A transaction is a write batch that
/// its reads see; [`Store::commit`](crate::Store::commit) writes it
/// atomically. [`SyncMode::Off`](crate::SyncMode::Off) skips the sync of
/// the log at each commit; every other mode syncs it. After a write fails
/// for lack of space ([`Error::DiskFull`]) the instance takes no more
/// writes until it is reopened. Values up to 1 000 000 000 bytes.
pub struct Rocksdb {
    db: *mut ffi::rocksdb_t,
    options: *mut ffi::rocksdb_options_t,
    table: *mut ffi::rocksdb_block_based_table_options_t,
    cache: *mut ffi::rocksdb_cache_t,
    /// Point reads.
    read: *mut ffi::rocksdb_readoptions_t,
    /// Iterators (with bounds pointing into `bounds`).
    scan: *mut ffi::rocksdb_readoptions_t,
    bounds: Box<Bounds>,
    write: *mut ffi::rocksdb_writeoptions_t,
    /// The open transaction (a batch of the caller's or of an atomic unit);
    /// null when none is open.
    batch: *mut ffi::rocksdb_writebatch_wi_t,
    /// Save points inside the batch: its record count when each was taken.
    marks: Vec<usize>,
    /// An iterator over the database for reads outside a transaction, kept
    /// from one call to the next until this instance writes: no other
    /// process writes while it has the directory open (RocksDB's LOCK), so
    /// until then it sees exactly what a new one would.
    reader: Option<Iter>,
    /// A value being assembled (header and data) for a put.
    vbuf: Vec<u8>,
    /// The value the last get found ([`Engine::value`]).
    held: Held,
    dir: PathBuf,
    /// RocksDB's LOCK file refuses a second open in this process too, but
    /// the claim answers before RocksDB is touched, with a clear message.
    _claim: super::ProcessClaim,
    opened_read_only: bool,
    read_only: bool,
    /// Set by the first write that failed on the storage ([`Rocksdb::stop`]).
    stopped: Option<Error>,
    config: Config,
}

// SAFETY: RocksDB's handles may be used from any thread; the batch and the
// buffers belong to this engine, whose calls the store serialises.
unsafe impl Send for Rocksdb {}

/// State of a batch replay ([`Rocksdb::truncate_batch`]).
struct Replay {
    to: *mut ffi::rocksdb_writebatch_wi_t,
    left: usize,
}

unsafe extern "C" fn replay_put(state: *mut c_void, k: *const c_char, kl: usize, v: *const c_char, vl: usize) {
    // SAFETY: `state` is the Replay of truncate_batch, alive during the call.
    let r = unsafe { &mut *(state as *mut Replay) };
    if r.left > 0 {
        r.left -= 1;
        unsafe { ffi::rocksdb_writebatch_wi_put(r.to, k, kl, v, vl) };
    }
}

unsafe extern "C" fn replay_delete(state: *mut c_void, k: *const c_char, kl: usize) {
    // SAFETY: as above.
    let r = unsafe { &mut *(state as *mut Replay) };
    if r.left > 0 {
        r.left -= 1;
        unsafe { ffi::rocksdb_writebatch_wi_delete(r.to, k, kl) };
    }
}

fn new_batch() -> *mut ffi::rocksdb_writebatch_wi_t {
    // overwrite_key: one index entry per key, required for iterators with base.
    unsafe { ffi::rocksdb_writebatch_wi_create(0, 1) }
}

impl Rocksdb {
    fn check_writable(&self) -> Result<()> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        if self.read_only {
            Err(Error::ReadOnly(if self.opened_read_only {
                "the database was opened read-only".into()
            } else {
                "the instance is configured read-only".into()
            }))
        } else {
            Ok(())
        }
    }

    /// After a write that failed on the storage (a full disk, an I/O error),
    /// RocksDB keeps the failure on its log writer, and the next write
    /// through it aborts the process (Debian's librocksdb is built with
    /// assertions: `WritableFileWriter::AssertFalseAndGetStatusForPrevError`).
    /// So the engine stops writing: every later write, commit and sync
    /// gives this error until the database is closed and opened again
    /// (which recovers from the log). Reads go on.
    fn stop(&mut self, e: Error) -> Error {
        if matches!(e, Error::DiskFull(_) | Error::Io(_) | Error::Corrupt(_)) && self.stopped.is_none() {
            let text = format!("{e}; no more writes until the database is reopened");
            self.stopped = Some(match e {
                Error::DiskFull(_) => Error::DiskFull(text),
                Error::Corrupt(_) => Error::Corrupt(text),
                _ => Error::Io(text),
            });
        }
        e
    }

    // ------------------------------------------------------------------
    // Raw access: the open batch when there is one, else the database.

    /// The stored value of `key` (None: absent), held until dropped.
    fn fetch(&mut self, key: &[u8]) -> Result<Option<Held>> {
        let mut err = null_mut();
        // SAFETY: open handles; what RocksDB hands out is released by Held.
        unsafe {
            if self.batch.is_null() {
                let ps = ffi::rocksdb_get_pinned(self.db, self.read, cp(key), key.len(), &mut err);
                check("rocksdb_get", err)?;
                if ps.is_null() {
                    return Ok(None);
                }
                let mut n = 0;
                let p = ffi::rocksdb_pinnableslice_value(ps, &mut n);
                Ok(Some(Held::Pinned(ps, p as *const u8, n)))
            } else {
                let mut n = 0;
                let p = ffi::rocksdb_writebatch_wi_get_from_batch_and_db(
                    self.batch,
                    self.db,
                    self.read,
                    cp(key),
                    key.len(),
                    &mut n,
                    &mut err,
                );
                check("rocksdb_get", err)?;
                Ok(if p.is_null() { None } else { Some(Held::Copy(p, n)) })
            }
        }
    }

    /// Reads `key`, handing its value to `f`.
    fn read_raw<R>(&mut self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        Ok(self.fetch(key)?.map(|h| f(h.bytes())))
    }

    /// Writes `key` = `value`.
    fn put_raw(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.check_writable()?;
        // SAFETY: open handles; RocksDB copies key and value.
        unsafe {
            if self.batch.is_null() {
                self.reader = None;
                let mut err = null_mut();
                ffi::rocksdb_put(self.db, self.write, cp(key), key.len(), cp(value), value.len(), &mut err);
                check("rocksdb_put", err).map_err(|e| self.stop(e))
            } else {
                ffi::rocksdb_writebatch_wi_put(self.batch, cp(key), key.len(), cp(value), value.len());
                Ok(())
            }
        }
    }

    fn delete_raw(&mut self, key: &[u8]) -> Result<()> {
        self.check_writable()?;
        // SAFETY: as put_raw.
        unsafe {
            if self.batch.is_null() {
                self.reader = None;
                let mut err = null_mut();
                ffi::rocksdb_delete(self.db, self.write, cp(key), key.len(), &mut err);
                check("rocksdb_delete", err).map_err(|e| self.stop(e))
            } else {
                ffi::rocksdb_writebatch_wi_delete(self.batch, cp(key), key.len());
                Ok(())
            }
        }
    }

    /// Writes an entry: term and cmd then the data.
    fn put_entry(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        if data.len() > MAX_VALUE {
            return Err(Error::TooBig(format!(
                "a value of {} bytes exceeds the engine's limit of {MAX_VALUE} bytes",
                data.len()
            )));
        }
        let mut v = std::mem::take(&mut self.vbuf);
        v.clear();
        v.reserve(HEADER + data.len());
        v.extend_from_slice(&term.to_ne_bytes());
        v.extend_from_slice(&cmd.to_ne_bytes());
        v.extend_from_slice(data);
        let r = self.put_raw(&data_key(key), &v);
        // Keep a small buffer for the next put, not a huge one.
        if v.capacity() <= 1 << 20 {
            self.vbuf = v;
        }
        r
    }

    /// An iterator over `[lower, upper)` (bytewise; `upper` None: to the
    /// end), over the open batch and the database.
    fn iter(&mut self, lower: &[u8], upper: Option<&[u8]>) -> Result<Iter> {
        let b = &mut *self.bounds;
        b.lower[..lower.len()].copy_from_slice(lower);
        // SAFETY: the bounds live in self.bounds (a stable heap address);
        // the options and the iterator are used only while self is
        // borrowed, and the bounds change only when no iterator is alive.
        unsafe {
            ffi::rocksdb_readoptions_set_iterate_lower_bound(self.scan, b.lower.as_ptr() as *const c_char, lower.len());
            match upper {
                Some(u) => {
                    b.upper[..u.len()].copy_from_slice(u);
                    ffi::rocksdb_readoptions_set_iterate_upper_bound(
                        self.scan,
                        b.upper.as_ptr() as *const c_char,
                        u.len(),
                    );
                }
                None => ffi::rocksdb_readoptions_set_iterate_upper_bound(self.scan, std::ptr::null(), 0),
            }
            let base = ffi::rocksdb_create_iterator(self.db, self.scan);
            if base.is_null() {
                return Err(Error::Internal("rocksdb_create_iterator returned NULL".into()));
            }
            if self.batch.is_null() {
                return Ok(Iter(base));
            }
            let it = ffi::rocksdb_writebatch_wi_create_iterator_with_base(self.batch, base);
            if it.is_null() {
                ffi::rocksdb_iter_destroy(base);
                return Err(Error::Internal("rocksdb_writebatch_wi_create_iterator_with_base returned NULL".into()));
            }
            Ok(Iter(it))
        }
    }

    /// An iterator over the data keys of `[lo, hi]` (and whatever else lies
    /// between them bytewise, which the callers skip).
    fn data_iter(&mut self, lo: u64, hi: u64) -> Result<Iter> {
        let lower = data_key(lo);
        match hi.checked_add(1) {
            Some(end) => self.iter(&lower, Some(&data_key(end))),
            None => self.iter(&lower, None),
        }
    }

    /// An iterator over the TTL records of `[lo, hi]`.
    fn ttl_iter(&mut self, lo: u64, hi: u64) -> Result<Iter> {
        let lower = ttl_key(lo);
        match hi.checked_add(1) {
            Some(end) => self.iter(&lower, Some(&ttl_key(end))),
            None => {
                let mut upper = [0u8; 4];
                upper.copy_from_slice(&TTL_PREFIX);
                upper[3] += 1;
                self.iter(&lower, Some(&upper))
            }
        }
    }

    /// Visits the data entries of `[lo, hi]` in `dir` order: `f(key, value)`
    /// until it returns false. Records that are not 8-byte keys (TTL
    /// records, anything foreign) are skipped.
    fn scan_raw(&mut self, lo: u64, hi: u64, dir: Dir, f: impl FnMut(u64, &Iter) -> bool) -> Result<()> {
        if lo > hi {
            return Ok(());
        }
        if !self.batch.is_null() {
            let mut it = self.data_iter(lo, hi)?;
            return Self::walk(&mut it, lo, hi, dir, f);
        }
        // Outside a transaction: the iterator kept since the last write.
        let mut it = match self.reader.take() {
            Some(it) => it,
            // SAFETY: open database; options without bounds.
            None => Iter(unsafe { ffi::rocksdb_create_iterator(self.db, self.read) }),
        };
        if it.0.is_null() {
            return Err(Error::Internal("rocksdb_create_iterator returned NULL".into()));
        }
        let r = Self::walk(&mut it, lo, hi, dir, f);
        if r.is_ok() {
            self.reader = Some(it);
        }
        r
    }

    /// The loop of [`Rocksdb::scan_raw`] on an iterator.
    #[inline]
    /// Keys must advance strictly in the scan's direction (RocksDB's
    /// checksums catch damage first; this makes every scan end whatever
    /// happens).
    fn walk(it: &mut Iter, lo: u64, hi: u64, dir: Dir, mut f: impl FnMut(u64, &Iter) -> bool) -> Result<()> {
        let disorder = |prev: u64, key: u64| {
            Error::Corrupt(format!("RocksDB returned key {key} after key {prev} in a {dir:?} scan"))
        };
        let mut prev: Option<u64> = None;
        match dir {
            Dir::Forward => {
                it.seek(&data_key(lo));
                while it.valid() {
                    let k = it.key();
                    if k.len() == 8 {
                        let key = u64::from_be_bytes(k.try_into().expect("8 bytes"));
                        if let Some(p) = prev.filter(|p| key <= *p) {
                            return Err(disorder(p, key));
                        }
                        if key > hi || !f(key, it) {
                            return Ok(());
                        }
                        prev = Some(key);
                    }
                    it.next();
                }
            }
            Dir::Backward => {
                if hi == u64::MAX {
                    it.seek_to_last();
                } else {
                    it.seek_for_prev(&data_key(hi));
                }
                while it.valid() {
                    let k = it.key();
                    if k.len() == 8 {
                        let key = u64::from_be_bytes(k.try_into().expect("8 bytes"));
                        if let Some(p) = prev.filter(|p| key >= *p) {
                            return Err(disorder(p, key));
                        }
                        if key < lo || !f(key, it) {
                            return Ok(());
                        }
                        prev = Some(key);
                    }
                    it.prev();
                }
            }
        }
        it.status("rocksdb_iter")
    }

    /// Runs `f` in the open batch, or in a batch of its own committed at the
    /// end (so that several writes are one atomic unit).
    fn in_batch<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        self.check_writable()?;
        if !self.batch.is_null() {
            return f(self);
        }
        self.batch = new_batch();
        match f(self) {
            Ok(v) => self.commit_batch().map(|_| v),
            Err(e) => {
                self.drop_batch();
                Err(e)
            }
        }
    }

    /// Deletes every record of `space` whose key lies in `[lo, hi]`;
    /// returns how many. Keys are collected a chunk at a time with an
    /// iterator and deleted once it is gone: the batch must not change
    /// under an iterator over it.
    fn delete_keys(&mut self, space: Space, lo: u64, hi: u64) -> Result<u64> {
        let mut from = lo;
        let mut total = 0u64;
        let mut keys: Vec<u64> = Vec::new();
        loop {
            keys.clear();
            let full = {
                let mut it = match space {
                    Space::Data => self.data_iter(from, hi)?,
                    Space::Ttl => self.ttl_iter(from, hi)?,
                };
                it.seek(space.encode(from).as_slice());
                let last = space.encode(hi);
                while it.valid() && keys.len() < DELETE_CHUNK {
                    let raw = it.key();
                    // Past the last key of the range, nothing of it follows
                    // (records of the batch are not cut by the bounds).
                    if raw > last.as_slice() {
                        break;
                    }
                    if let Some(k) = space.decode(raw) {
                        keys.push(k);
                    }
                    it.next();
                }
                it.status("rocksdb_iter")?;
                keys.len() == DELETE_CHUNK
            };
            for &k in &keys {
                self.delete_raw(space.encode(k).as_slice())?;
            }
            total += keys.len() as u64;
            match keys.last().and_then(|k| k.checked_add(1)) {
                Some(next) if full => from = next,
                _ => return Ok(total),
            }
        }
    }

    /// Rolls the batch back to its first `keep` records.
    fn truncate_batch(&mut self, keep: usize) {
        // SAFETY: the batch is open; the replay callbacks only append to
        // the new batch.
        unsafe {
            if ffi::rocksdb_writebatch_wi_count(self.batch).max(0) as usize <= keep {
                return;
            }
            let fresh = new_batch();
            let mut replay = Replay { to: fresh, left: keep };
            ffi::rocksdb_writebatch_wi_iterate(
                self.batch,
                &mut replay as *mut Replay as *mut c_void,
                replay_put,
                replay_delete,
            );
            ffi::rocksdb_writebatch_wi_destroy(self.batch);
            self.batch = fresh;
        }
    }

    /// Writes the open batch to the database and ends it (also on failure).
    fn commit_batch(&mut self) -> Result<()> {
        if self.batch.is_null() {
            return Err(Error::NoTransaction);
        }
        if let Some(e) = self.stopped.clone() {
            self.drop_batch();
            return Err(e);
        }
        let mut err = null_mut();
        // SAFETY: open handles; the batch is destroyed exactly once.
        unsafe {
            if ffi::rocksdb_writebatch_wi_count(self.batch) > 0 {
                self.reader = None;
                ffi::rocksdb_write_writebatch_wi(self.db, self.write, self.batch, &mut err);
            }
        }
        self.drop_batch();
        check("rocksdb_write", err).map_err(|e| self.stop(e))
    }

    fn drop_batch(&mut self) {
        if !self.batch.is_null() {
            // SAFETY: ours, destroyed once.
            unsafe { ffi::rocksdb_writebatch_wi_destroy(self.batch) };
            self.batch = null_mut();
        }
        self.marks.clear();
    }

    fn property(&self, name: &CStr) -> Option<u64> {
        let mut v = 0u64;
        // SAFETY: open database, NUL-terminated property name.
        (unsafe { ffi::rocksdb_property_int(self.db, name.as_ptr(), &mut v) } == 0).then_some(v)
    }

    fn set_sync(&mut self, mode: SyncMode) {
        // SAFETY: our write options.
        unsafe { ffi::rocksdb_writeoptions_set_sync(self.write, (mode != SyncMode::Off) as u8) };
    }

    /// The configuration a plain open reports (the original's settings:
    /// every write synced).
    fn plain_config() -> Config {
        Config {
            cache_size_bytes: DEFAULT_CACHE,
            vfs_name: None,
            journal_mode: JournalMode::Wal,
            sync_mode: SyncMode::Full,
            recursive_triggers: true,
            foreign_keys: false,
            read_only: false,
            busy_timeout_ms: 0,
            mmap_size_bytes: 0,
            page_size: 0,
        }
    }

    /// The configuration as in effect (cache and page size read back).
    fn effective(&self) -> Config {
        let mut c = self.config.clone();
        // SAFETY: our cache.
        c.cache_size_bytes = unsafe { ffi::rocksdb_cache_get_capacity(self.cache) };
        c.page_size = BLOCK_SIZE as i32;
        c.read_only = self.read_only;
        c
    }

    /// True if `dir` holds RocksDB's data files: tables or write-ahead
    /// logs. (Creating a database writes IDENTITY and MANIFEST-000001, then
    /// CURRENT; the first log only after that. A crash in between leaves a
    /// MANIFEST without CURRENT and no data: such a directory is created
    /// anew.)
    fn has_data_files(dir: &Path) -> bool {
        std::fs::read_dir(dir).is_ok_and(|mut rd| {
            rd.any(|e| {
                e.is_ok_and(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n.ends_with(".sst") || n.ends_with(".ldb") || n.ends_with(".blob") || n.ends_with(".log")
                })
            })
        })
    }

    fn open_db(req: &OpenRequest<'_>) -> Result<Self> {
        let path = req.path;
        let read_only = req.config.is_some_and(|c| c.read_only);
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => return Err(Error::invalid("RocksDB path exists but is not a directory")),
            Ok(_) => {}
            Err(_) => {
                if read_only {
                    return Err(Error::Io(format!("{} does not exist", path.display())));
                }
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .create(path)
                    .map_err(|e| Error::from_io(&format!("cannot create directory {}", path.display()), &e))?;
            }
        }
        // Exclusive; stale in a forked child, where RocksDB's LOCK decides.
        let claim = super::ProcessClaim::take(path, true, true)?;
        // Without CURRENT, RocksDB would start a new database in the
        // directory and delete the tables it finds as obsolete.
        if !path.join("CURRENT").exists() {
            if Self::has_data_files(path) {
                return Err(Error::Corrupt(format!(
                    "{} holds RocksDB tables or logs but no CURRENT file (damaged; not opened, so nothing is deleted)",
                    path.display()
                )));
            }
            if read_only {
                return Err(Error::Schema(format!("{} is not a RocksDB database (no CURRENT file)", path.display())));
            }
        }
        let cpath = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::invalid("path contains a NUL"))?;
        let cache_bytes = match req.config {
            Some(c) if c.cache_size_bytes > 0 => c.cache_size_bytes,
            _ => DEFAULT_CACHE,
        };
        // SAFETY: creating and configuring handles we own; from here on
        // dropping `engine` releases whatever was created (see Drop).
        unsafe {
            let mut engine = Rocksdb {
                db: null_mut(),
                options: ffi::rocksdb_options_create(),
                table: ffi::rocksdb_block_based_options_create(),
                cache: ffi::rocksdb_cache_create_lru(cache_bytes),
                read: ffi::rocksdb_readoptions_create(),
                scan: ffi::rocksdb_readoptions_create(),
                bounds: Box::default(),
                write: ffi::rocksdb_writeoptions_create(),
                batch: null_mut(),
                marks: Vec::new(),
                reader: None,
                held: Held::None,
                vbuf: Vec::new(),
                dir: path.to_path_buf(),
                _claim: claim,
                opened_read_only: read_only,
                read_only,
                stopped: None,
                config: req.config.cloned().unwrap_or_else(Self::plain_config),
            };
            if engine.options.is_null()
                || engine.table.is_null()
                || engine.cache.is_null()
                || engine.read.is_null()
                || engine.scan.is_null()
                || engine.write.is_null()
            {
                return Err(Error::NoMem("cannot allocate RocksDB options".into()));
            }
            ffi::rocksdb_block_based_options_set_block_size(engine.table, BLOCK_SIZE as usize);
            ffi::rocksdb_block_based_options_set_block_cache(engine.table, engine.cache);
            ffi::rocksdb_block_based_options_set_filter_policy(
                engine.table,
                ffi::rocksdb_filterpolicy_create_bloom_full(10.0),
            );
            ffi::rocksdb_options_set_block_based_table_factory(engine.options, engine.table);
            ffi::rocksdb_options_set_create_if_missing(engine.options, (!read_only) as u8);
            // RocksDB's informational LOG (in the directory, as the
            // original's) gets only the lines written at open: once a write
            // to it has failed (a full disk), the next message — from a
            // background thread, at any time — aborts the process with
            // Debian's assertion-enabled librocksdb.
            ffi::rocksdb_options_set_info_log_level(engine.options, ffi::INFO_LOG_HEADER);
            // Each open moves the previous LOG aside (LOG.old.<time>): keep two.
            ffi::rocksdb_options_set_keep_log_file_num(engine.options, 2);
            ffi::rocksdb_readoptions_set_verify_checksums(engine.read, 1);
            ffi::rocksdb_readoptions_set_verify_checksums(engine.scan, 1);
            let sync = engine.config.sync_mode;
            engine.set_sync(sync);
            let mut err = null_mut();
            engine.db = if read_only {
                ffi::rocksdb_open_for_read_only(engine.options, cpath.as_ptr(), 0, &mut err)
            } else {
                ffi::rocksdb_open(engine.options, cpath.as_ptr(), &mut err)
            };
            check("rocksdb_open", err)?;
            if engine.db.is_null() {
                return Err(Error::Internal("rocksdb_open returned NULL".into()));
            }
            Ok(engine)
        }
    }
}

impl Drop for Rocksdb {
    fn drop(&mut self) {
        // SAFETY: every handle is ours; the database closes before the
        // options and the cache it uses are destroyed.
        self.reader = None;
        self.held = Held::None;
        unsafe {
            if !self.batch.is_null() {
                ffi::rocksdb_writebatch_wi_destroy(self.batch);
                self.batch = null_mut();
            }
            if !self.db.is_null() {
                ffi::rocksdb_close(self.db);
                self.db = null_mut();
            }
            if !self.write.is_null() {
                ffi::rocksdb_writeoptions_destroy(self.write);
            }
            if !self.scan.is_null() {
                ffi::rocksdb_readoptions_destroy(self.scan);
            }
            if !self.read.is_null() {
                ffi::rocksdb_readoptions_destroy(self.read);
            }
            if !self.options.is_null() {
                ffi::rocksdb_options_destroy(self.options);
            }
            if !self.table.is_null() {
                ffi::rocksdb_block_based_options_destroy(self.table);
            }
            if !self.cache.is_null() {
                ffi::rocksdb_cache_destroy(self.cache);
            }
        }
    }
}

impl Engine for Rocksdb {
    const NAME: &'static str = "RocksDB";
    const ID: u32 = 3;

    fn open(req: &OpenRequest<'_>) -> Result<(Self, Config)> {
        if let Some(c) = req.config {
            c.validate()?;
        }
        let engine = Self::open_db(req)?;
        let cfg = engine.effective();
        Ok((engine, cfg))
    }

    fn close(self) -> std::result::Result<(), (Self, Error)> {
        drop(self);
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        if !self.batch.is_null() {
            return Err(Error::TransactionActive);
        }
        self.batch = new_batch();
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.commit_batch()
    }

    fn rollback(&mut self) -> Result<()> {
        self.drop_batch();
        Ok(())
    }

    fn savepoint(&mut self) -> Result<()> {
        if self.batch.is_null() {
            self.batch = new_batch();
        } else {
            // SAFETY: open batch.
            let n = unsafe { ffi::rocksdb_writebatch_wi_count(self.batch) }.max(0) as usize;
            self.marks.push(n);
        }
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<()> {
        if self.marks.pop().is_some() {
            return Ok(());
        }
        if self.batch.is_null() { Ok(()) } else { self.commit_batch() }
    }

    fn rollback_savepoint(&mut self) -> Result<()> {
        match self.marks.pop() {
            Some(keep) => self.truncate_batch(keep),
            None => self.drop_batch(),
        }
        Ok(())
    }

    fn in_transaction(&self) -> bool {
        !self.batch.is_null()
    }

    fn get(&mut self, key: u64) -> Result<Option<(u64, u64)>> {
        self.held = Held::None;
        let Some(h) = self.fetch(&data_key(key))? else { return Ok(None) };
        let v = h.bytes();
        let (term, cmd, _) = unpack(v).ok_or_else(|| short_value(key, v.len()))?;
        self.held = h;
        Ok(Some((term, cmd)))
    }

    fn value(&self) -> &[u8] {
        self.held.bytes().get(HEADER..).unwrap_or(&[])
    }

    fn exists(&mut self, key: u64) -> Result<bool> {
        Ok(self.read_raw(&data_key(key), |_| ())?.is_some())
    }

    fn term(&mut self, key: u64) -> Result<Option<u64>> {
        self.read_raw(&data_key(key), |v| unpack(v).map(|u| u.0).ok_or_else(|| short_value(key, v.len())))?.transpose()
    }

    fn scan<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, mut f: F) -> Result<()> {
        let mut bad = None;
        self.scan_raw(lo, hi, dir, |key, it| {
            let v = it.value();
            match unpack(v) {
                Some((term, cmd, data)) => f(Row { key, term, cmd, data }),
                None => {
                    bad = Some(short_value(key, v.len()));
                    false
                }
            }
        })?;
        bad.map_or(Ok(()), Err)
    }

    fn scan_keys<F: FnMut(u64) -> bool>(&mut self, lo: u64, hi: u64, mut f: F) -> Result<()> {
        self.scan_raw(lo, hi, Dir::Forward, |key, _| f(key))
    }

    fn count(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let mut n = 0u64;
        self.scan_raw(lo, hi, Dir::Forward, |_, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }

    fn data_size(&mut self) -> Result<u64> {
        let (mut total, mut bad) = (0u64, None);
        self.scan_raw(0, u64::MAX, Dir::Forward, |key, it| match it.value().len().checked_sub(HEADER) {
            Some(n) => {
                total += n as u64;
                true
            }
            None => {
                bad = Some(short_value(key, it.value().len()));
                false
            }
        })?;
        bad.map_or(Ok(total), Err)
    }

    fn max_value_len(&self) -> usize {
        MAX_VALUE
    }

    fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        self.check_writable()?;
        if self.exists(key)? {
            return Ok(false);
        }
        self.put_entry(key, term, cmd, data).map(|_| true)
    }

    fn put(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        self.put_entry(key, term, cmd, data)
    }

    fn update(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        self.check_writable()?;
        if !self.exists(key)? {
            return Ok(false);
        }
        self.put_entry(key, term, cmd, data).map(|_| true)
    }

    fn delete(&mut self, key: u64) -> Result<bool> {
        self.check_writable()?;
        if !self.exists(key)? {
            return Ok(false);
        }
        self.delete_raw(&data_key(key)).map(|_| true)
    }

    fn delete_range(&mut self, lo: u64, hi: u64) -> Result<u64> {
        if lo > hi {
            return Ok(0);
        }
        self.in_batch(|s| s.delete_keys(Space::Data, lo, hi))
    }

    fn ttl_scan(&mut self, f: &mut dyn FnMut(u64, u64)) -> Result<()> {
        let mut it = self.ttl_iter(0, u64::MAX)?;
        let last = ttl_key(u64::MAX);
        it.seek(&ttl_key(0));
        while it.valid() {
            if it.key() > &last[..] {
                break;
            }
            if let Some(key) = Space::Ttl.decode(it.key()) {
                match <[u8; 8]>::try_from(it.value()) {
                    Ok(at) => f(key, u64::from_ne_bytes(at)),
                    Err(_) => {
                        return Err(Error::Corrupt(format!(
                            "the TTL record of key {key} has {} bytes, not 8",
                            it.value().len()
                        )));
                    }
                }
            }
            it.next();
        }
        it.status("rocksdb_iter")
    }

    fn ttl_put(&mut self, key: u64, expires_at: u64) -> Result<()> {
        self.put_raw(&ttl_key(key), &expires_at.to_ne_bytes())
    }

    fn ttl_delete(&mut self, key: u64) -> Result<()> {
        self.delete_raw(&ttl_key(key))
    }

    fn ttl_delete_range(&mut self, lo: u64, hi: u64) -> Result<()> {
        if lo > hi {
            return Ok(());
        }
        self.in_batch(|s| s.delete_keys(Space::Ttl, lo, hi)).map(|_| ())
    }

    fn file_stats(&mut self) -> Result<FileStats> {
        // The database's files: tables, MANIFEST, OPTIONS, CURRENT, … —
        // not RocksDB's info logs (LOG*); the write-ahead logs apart.
        let (mut files, mut wal) = (0u64, 0u64);
        let rd = std::fs::read_dir(&self.dir).map_err(|e| Error::from_io(&self.dir.display().to_string(), &e))?;
        for e in rd.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let len = e.metadata().map(|m| if m.is_file() { m.len() } else { 0 }).unwrap_or(0);
            if name.ends_with(".log") {
                wal += len;
            } else if !name.starts_with("LOG") {
                files += len;
            }
        }
        let sst = self.property(c"rocksdb.total-sst-files-size").unwrap_or(0);
        let live = self.property(c"rocksdb.estimate-live-data-size").unwrap_or(sst);
        Ok(FileStats {
            database_file_size: files,
            wal_file_size: wal,
            page_count: sst.div_ceil(BLOCK_SIZE),
            page_size: BLOCK_SIZE,
            free_pages: sst.saturating_sub(live) / BLOCK_SIZE,
        })
    }

    fn apply_config(&mut self, cfg: &Config) -> Result<Config> {
        cfg.validate()?;
        if !cfg.read_only && self.opened_read_only {
            return Err(Error::ReadOnly("the database was opened read-only; reopen it to write".into()));
        }
        if cfg.cache_size_bytes > 0 {
            // SAFETY: our cache.
            unsafe { ffi::rocksdb_cache_set_capacity(self.cache, cfg.cache_size_bytes) };
        }
        self.set_sync(cfg.sync_mode);
        self.read_only = cfg.read_only;
        self.config = cfg.clone();
        Ok(self.effective())
    }

    fn sync(&mut self) -> Result<()> {
        if self.opened_read_only {
            return Ok(());
        }
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        let mut err = null_mut();
        // SAFETY: open database; sync = 1 fsyncs the write-ahead log.
        unsafe { ffi::rocksdb_flush_wal(self.db, 1, &mut err) };
        check("rocksdb_flush_wal", err).map_err(|e| self.stop(e))
    }
}
