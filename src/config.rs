//! Instance configuration and statistics, as plain Rust values.

/// SQLite's journal mode (`PRAGMA journal_mode`), [`Config::journal_mode`].
/// LMDB has no journal: it keeps the value and ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalMode {
    /// Rollback journal, deleted after each transaction.
    Delete,
    /// Rollback journal, truncated after each transaction.
    Truncate,
    /// Rollback journal, its header zeroed after each transaction.
    Persist,
    /// Rollback journal in memory: a crash during a write can corrupt the
    /// file. Always the mode of a `":memory:"` database.
    Memory,
    /// Write-ahead log (the default): readers do not block the writer.
    Wal,
    /// No journal: no rollback after a crash, and a failed statement may
    /// leave the file inconsistent.
    Off,
}

impl JournalMode {
    pub(crate) const ALL: [JournalMode; 6] = [
        JournalMode::Delete,
        JournalMode::Truncate,
        JournalMode::Persist,
        JournalMode::Memory,
        JournalMode::Wal,
        JournalMode::Off,
    ];

    /// From the C value (`KVIDX_JOURNAL_DELETE` = 0 … `KVIDX_JOURNAL_OFF`
    /// = 5, in the order of the variants); `None` when out of range.
    pub fn from_raw(v: u32) -> Option<Self> {
        Self::ALL.get(v as usize).copied()
    }

    /// The C value ([`JournalMode::from_raw`] in reverse).
    pub fn raw(self) -> u32 {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0) as u32
    }

    /// The PRAGMA keyword: `"DELETE"`, `"WAL"`, ….
    pub fn keyword(self) -> &'static str {
        match self {
            JournalMode::Delete => "DELETE",
            JournalMode::Truncate => "TRUNCATE",
            JournalMode::Persist => "PERSIST",
            JournalMode::Memory => "MEMORY",
            JournalMode::Wal => "WAL",
            JournalMode::Off => "OFF",
        }
    }

    #[cfg(feature = "sqlite")]
    pub(crate) fn from_keyword(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.keyword().eq_ignore_ascii_case(s))
    }
}

/// When commits reach stable storage, [`Config::sync_mode`]. SQLite:
/// `PRAGMA synchronous`. LMDB: [`SyncMode::Off`] does not flush at commit
/// (`MDB_NOSYNC`); every other mode flushes every commit.
/// [`Store::fsync`](crate::Store::fsync) flushes on demand in any mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// No flush at commit: fastest. A crash of the process loses nothing;
    /// an operating-system crash or power cut may lose recent commits and,
    /// with SQLite, damage the file.
    Off,
    /// SQLite: flush at checkpoints only in WAL mode — a power cut may lose
    /// the last commits, never consistency. LMDB: as `Full`.
    Normal,
    /// Flush at every commit: a commit that returned survives a power cut.
    Full,
    /// SQLite: `Full`, and also flush the directory after a rollback
    /// journal is deleted. LMDB: as `Full`.
    Extra,
}

impl SyncMode {
    pub(crate) const ALL: [SyncMode; 4] = [SyncMode::Off, SyncMode::Normal, SyncMode::Full, SyncMode::Extra];

    /// From the C value (`KVIDX_SYNC_OFF` = 0 … `KVIDX_SYNC_EXTRA` = 3);
    /// `None` when out of range.
    pub fn from_raw(v: u32) -> Option<Self> {
        Self::ALL.get(v as usize).copied()
    }

    /// The C value ([`SyncMode::from_raw`] in reverse).
    pub fn raw(self) -> u32 {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0) as u32
    }

    /// The PRAGMA keyword: `"OFF"`, `"NORMAL"`, `"FULL"` or `"EXTRA"`.
    pub fn keyword(self) -> &'static str {
        match self {
            SyncMode::Off => "OFF",
            SyncMode::Normal => "NORMAL",
            SyncMode::Full => "FULL",
            SyncMode::Extra => "EXTRA",
        }
    }
}

/// Configuration of a store: given to
/// [`Store::open_with_config`](crate::Store::open_with_config), changed with
/// [`Store::update_config`](crate::Store::update_config), read with
/// [`Store::config`](crate::Store::config).
///
/// `Config::default()` equals the C `kvidxConfigDefault()`: WAL, sync mode
/// `Normal`, a 32 MiB cache, a 5 s busy timeout. A plain
/// [`Store::open`](crate::Store::open) keeps the original library's settings
/// instead (SQLite: WAL, sync mode `Full`, a 31 250 KiB cache, busy
/// timeout 0). Settings that do not apply to an engine are kept and
/// ignored.
///
/// Invalid values ([`Config::mmap_size_bytes`] negative, a
/// [`Config::page_size`] that is not 0 or a power of two from 512 to
/// 65536) are [`Error::InvalidArgument`](crate::Error::InvalidArgument).
///
/// ```
/// # use kvidxkit::{Config, Sqlite, Store, SyncMode};
/// let fast = Config { sync_mode: SyncMode::Off, busy_timeout_ms: 100, ..Config::default() };
/// let mut db = Store::<Sqlite>::open_with_config(":memory:", &fast)?;
/// assert_eq!(db.config().sync_mode, SyncMode::Off);
/// db.update_config(&Config { sync_mode: SyncMode::Full, ..db.config().clone() })?;
/// # Ok::<(), kvidxkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// SQLite: page cache size in bytes (0 leaves it unchanged). LMDB:
    /// ignored (the operating system caches the map).
    pub cache_size_bytes: usize,
    /// SQLite: the VFS to open with; only at open (changing it later is
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)). `None`:
    /// `"unix-excl"`, exclusive locking, which lets no other connection or
    /// process open the file meanwhile; `Some("unix")` lets several (each
    /// store then takes in what the others commit). LMDB: ignored.
    pub vfs_name: Option<String>,
    /// SQLite: the journal mode (a `":memory:"` database keeps `Memory`
    /// unless `Off` is asked for). LMDB: ignored.
    pub journal_mode: JournalMode,
    /// When commits reach stable storage (see [`SyncMode`]).
    pub sync_mode: SyncMode,
    /// SQLite: `PRAGMA recursive_triggers`, for your own tables' triggers.
    /// LMDB: ignored.
    pub recursive_triggers: bool,
    /// SQLite: `PRAGMA foreign_keys`, for your own tables. LMDB: ignored.
    pub foreign_keys: bool,
    /// Refuse writes ([`Error::ReadOnly`](crate::Error::ReadOnly)). At open
    /// the storage is opened read-only (it must exist); set later, writes
    /// are refused until it is cleared again (a store opened read-only
    /// cannot become writable).
    pub read_only: bool,
    /// SQLite: how long a call waits for another connection's lock before
    /// [`Error::Locked`](crate::Error::Locked), in milliseconds (0: fail at
    /// once). The C API also waits this long for another thread's
    /// transaction on a shared instance. LMDB: ignored (a writer waits for
    /// the other writer).
    pub busy_timeout_ms: i32,
    /// SQLite: `PRAGMA mmap_size` (0 leaves it unchanged). LMDB: the map
    /// size, the most the data may take before the map grows (0: 1 GiB; it
    /// doubles by itself when half full). Negative values are invalid.
    pub mmap_size_bytes: i32,
    /// SQLite: the page size of a new file (0: 8192); an existing file
    /// keeps its own. LMDB: ignored (the system page size).
    pub page_size: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cache_size_bytes: 32 * 1024 * 1024,
            vfs_name: None,
            journal_mode: JournalMode::Wal,
            sync_mode: SyncMode::Normal,
            recursive_triggers: true,
            foreign_keys: false,
            read_only: false,
            busy_timeout_ms: 5000,
            mmap_size_bytes: 0,
            page_size: 0,
        }
    }
}

impl Config {
    /// Checks the values that are independent of the engine.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        if self.mmap_size_bytes < 0 {
            return Err(crate::Error::invalid(format!("mmapSizeBytes {} is negative", self.mmap_size_bytes)));
        }
        let p = self.page_size;
        if p != 0 && (!(512..=65536).contains(&p) || (p & (p - 1)) != 0) {
            return Err(crate::Error::invalid(format!(
                "pageSize {p} is not 0 or a power of two between 512 and 65536"
            )));
        }
        Ok(())
    }
}

/// Statistics of a database ([`Store::stats`](crate::Store::stats)).
/// Expired entries are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of live entries.
    pub total_keys: u64,
    /// Smallest key (0 when empty).
    pub min_key: u64,
    /// Largest key (0 when empty).
    pub max_key: u64,
    /// Sum of the value lengths, in bytes (term and cmd not included).
    pub total_data_bytes: u64,
    /// Size of the database file in bytes (SQLite: the file; LMDB:
    /// `data.mdb`); 0 for an in-memory database.
    pub database_file_size: u64,
    /// Size of SQLite's write-ahead log in bytes (0 without one, and for
    /// LMDB).
    pub wal_file_size: u64,
    /// Number of pages in the database (SQLite: `page_count`; LMDB: up to
    /// the last page used).
    pub page_count: u64,
    /// Page size in bytes.
    pub page_size: u64,
    /// Pages free for reuse (SQLite: `freelist_count`; LMDB: the free-page
    /// database).
    pub free_pages: u64,
}

/// The storage-level part of [`Stats`] that only the engine knows.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    /// As [`Stats::database_file_size`].
    pub database_file_size: u64,
    /// As [`Stats::wal_file_size`].
    pub wal_file_size: u64,
    /// As [`Stats::page_count`].
    pub page_count: u64,
    /// As [`Stats::page_size`].
    pub page_size: u64,
    /// As [`Stats::free_pages`].
    pub free_pages: u64,
}
