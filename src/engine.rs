//! The small trait a storage engine implements. Everything that is the same
//! on every engine (unsigned key order rules, neighbours, batches, range
//! bounds, atomicity of compound calls, iterators, statistics assembly) is
//! written once in [`crate::Store`] on top of it.
//!
//! Keys are `u64` in **unsigned** order everywhere in this trait; an engine
//! that stores them differently (SQLite keeps the bits in a signed integer)
//! maps ranges itself.

use crate::config::{Config, FileStats};
use crate::error::Result;

/// A token for the calling thread: the address of a thread-local (non-zero,
/// distinct for every live thread, a few instructions to compute, unlike
/// `std::thread::current()`).
#[inline]
pub(crate) fn thread_token() -> usize {
    thread_local!(static TOKEN: u8 = const { 0 });
    TOKEN.with(|t| t as *const u8 as usize)
}

/// Direction of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Forward,
    Backward,
}

/// One stored entry, borrowed from the engine for the duration of a callback.
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

/// A storage engine: [`crate::Sqlite`], [`crate::Lmdb`] or, with the
/// `rocksdb` feature, `crate::Rocksdb` (the type parameter of
/// [`crate::Store`]). The trait is sealed; its methods are the store's
/// building blocks, not part of the API (use [`crate::Store`]).
pub trait Engine: private::Sealed + Sized + Send + 'static {
    /// Registry name ("SQLite3").
    const NAME: &'static str;
    /// Distinguishes handles of different engines (checked on every C call).
    const ID: u32;

    /// Opens (creating if needed). Returns the engine and the configuration
    /// now in effect.
    fn open(req: &OpenRequest<'_>) -> Result<(Self, Config)>;
    /// Closes; on failure hands the engine back so the instance stays usable.
    fn close(self) -> std::result::Result<(), (Self, crate::Error)>;

    // Transactions. `savepoint*` nest inside an open transaction so that a
    // compound call stays atomic within the caller's transaction.
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
    fn savepoint(&mut self) -> Result<()>;
    fn release_savepoint(&mut self) -> Result<()>;
    fn rollback_savepoint(&mut self) -> Result<()>;
    /// True while a transaction is open on the connection. An engine may end
    /// a transaction by itself after some errors; the store re-reads this.
    fn in_transaction(&self) -> bool;

    // Reads.
    /// Term and cmd of `key`, its value copied into `data` (cleared first).
    /// Term and cmd of `key`; its value is then [`Engine::value`], valid
    /// until the next call on the engine (LMDB: a slice of the map, no copy).
    fn get(&mut self, key: u64) -> Result<Option<(u64, u64)>>;
    /// The value of the entry the last successful [`Engine::get`] found.
    fn value(&self) -> &[u8];
    fn exists(&mut self, key: u64) -> Result<bool>;
    /// Term of `key` without reading its value.
    fn term(&mut self, key: u64) -> Result<Option<u64>>;
    /// Visits the entries with `lo <= key <= hi` (unsigned) in `dir` order
    /// until `f` returns false.
    /// Generic (not `dyn`): the row callback is inlined into the engine's loop.
    fn scan<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, f: F) -> Result<()>;
    /// Number of entries with `lo <= key <= hi`.
    fn count(&mut self, lo: u64, hi: u64) -> Result<u64>;
    /// Visits the keys of `[lo, hi]` in ascending order until `f` returns
    /// false (values are not read where the engine can avoid it).
    fn scan_keys<F: FnMut(u64) -> bool>(&mut self, lo: u64, hi: u64, mut f: F) -> Result<()> {
        self.scan(lo, hi, Dir::Forward, |r| f(r.key))
    }
    /// Sum of the value lengths of all entries.
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
    fn max_value_len(&self) -> usize;

    // Writes.
    /// Inserts a new entry; `Ok(false)` if the key exists (nothing changed).
    fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool>;
    /// Inserts or replaces.
    fn put(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()>;
    /// Replaces an existing entry; `Ok(false)` if the key is absent.
    fn update(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        if !self.exists(key)? {
            return Ok(false);
        }
        self.put(key, term, cmd, data)?;
        Ok(true)
    }
    /// Deletes; `Ok(false)` if absent.
    fn delete(&mut self, key: u64) -> Result<bool>;
    /// Deletes every entry with `lo <= key <= hi`; returns how many.
    fn delete_range(&mut self, lo: u64, hi: u64) -> Result<u64>;

    // The TTL keyspace: absolute expiry (Unix milliseconds) per key, kept
    // beside the data (SQLite table / LMDB sub-database `_kvidx_ttl`).
    /// Visits every TTL record.
    fn ttl_scan(&mut self, f: &mut dyn FnMut(u64, u64)) -> Result<()>;
    /// Sets the expiry of `key`.
    fn ttl_put(&mut self, key: u64, expires_at: u64) -> Result<()>;
    /// Deletes the TTL record of `key` (absent is fine).
    fn ttl_delete(&mut self, key: u64) -> Result<()>;
    /// Deletes the TTL records of every key in `[lo, hi]`.
    fn ttl_delete_range(&mut self, lo: u64, hi: u64) -> Result<()>;

    // Engine facts.
    fn file_stats(&mut self) -> Result<FileStats>;
    /// Applies a configuration to the open engine and returns what is now in
    /// effect. On error the previous settings stay in force.
    fn apply_config(&mut self, cfg: &Config) -> Result<Config>;
    /// Updates the settings in `cfg` that the engine may change by itself
    /// (LMDB's map grows); nothing by default.
    fn refresh_config(&mut self, cfg: &mut Config) {
        let _ = cfg;
    }
    /// Durability barrier: everything committed reaches stable storage.
    fn sync(&mut self) -> Result<()>;

    /// True if another process or connection has committed changes that the
    /// store's in-memory state (the TTL index) has not taken in yet: it must
    /// reload it, then call [`Engine::took_in_changes`]. From this call on,
    /// reads see those changes. Inside a transaction it reports what was
    /// committed before the transaction began. Called at the start of every
    /// store call: it must cost no system call when nothing changed. By
    /// default never (storage only this instance can write).
    fn changed_elsewhere(&mut self) -> Result<bool> {
        Ok(false)
    }
    /// The store has reloaded its state after [`Engine::changed_elsewhere`]
    /// answered true: the changes seen then are taken in (until this is
    /// called, `changed_elsewhere` keeps answering true, so a reload that
    /// failed is tried again by the next call).
    fn took_in_changes(&mut self) {}
}
