//! Instance configuration and statistics, as plain Rust values.

/// Journal mode (SQLite; other engines store it only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalMode {
    Delete,
    Truncate,
    Persist,
    Memory,
    Wal,
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

    /// From the C value; `None` when out of range.
    pub fn from_raw(v: u32) -> Option<Self> {
        Self::ALL.get(v as usize).copied()
    }

    pub fn raw(self) -> u32 {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0) as u32
    }

    /// The PRAGMA keyword.
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

/// Durability mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    Off,
    Normal,
    Full,
    Extra,
}

impl SyncMode {
    pub(crate) const ALL: [SyncMode; 4] = [SyncMode::Off, SyncMode::Normal, SyncMode::Full, SyncMode::Extra];

    pub fn from_raw(v: u32) -> Option<Self> {
        Self::ALL.get(v as usize).copied()
    }

    pub fn raw(self) -> u32 {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0) as u32
    }

    pub fn keyword(self) -> &'static str {
        match self {
            SyncMode::Off => "OFF",
            SyncMode::Normal => "NORMAL",
            SyncMode::Full => "FULL",
            SyncMode::Extra => "EXTRA",
        }
    }
}

/// Configuration of an instance. `Config::default()` equals the C
/// `kvidxConfigDefault()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Page cache size in bytes; 0 leaves the engine's setting unchanged.
    pub cache_size_bytes: usize,
    /// SQLite VFS to open with (`None`: the library's choice).
    pub vfs_name: Option<String>,
    pub journal_mode: JournalMode,
    pub sync_mode: SyncMode,
    pub recursive_triggers: bool,
    pub foreign_keys: bool,
    pub read_only: bool,
    pub busy_timeout_ms: i32,
    /// SQLite: mmap_size (0 leaves it unchanged). LMDB: initial map size (0: 1 GiB).
    pub mmap_size_bytes: i32,
    /// Page size for new databases (0: engine default).
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

/// Statistics of a database, read from the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub total_keys: u64,
    pub min_key: u64,
    pub max_key: u64,
    pub total_data_bytes: u64,
    pub database_file_size: u64,
    pub wal_file_size: u64,
    pub page_count: u64,
    pub page_size: u64,
    pub free_pages: u64,
}

/// The storage-level part of [`Stats`] that only the engine knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    pub database_file_size: u64,
    pub wal_file_size: u64,
    pub page_count: u64,
    pub page_size: u64,
    pub free_pages: u64,
}
