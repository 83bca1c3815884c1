//! `#[repr(C)]` mirrors of every public type of the kvidxkit 0.8 C ABI.
//!
//! Layouts are byte-identical with the original on LP64 (x86_64 Linux); the
//! `const` assertions at the bottom of this file and the C layout test
//! (`tests-c/layout.c`) both check every size and offset.
//!
//! Every enum-typed value that C hands to us (parameters, fields of
//! caller-owned structs) is received as a raw `u32` (`kvidxXxxRaw`, printed in
//! the header under the C enum's name) and validated, because an out-of-range
//! Rust enum would be undefined behaviour.
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use std::ffi::{c_char, c_void};

/// Error codes for kvidxkit operations.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxError {
    /// Operation completed successfully
    KVIDX_OK = 0,
    /// Invalid argument provided (NULL pointer, out of range, etc.)
    KVIDX_ERROR_INVALID_ARGUMENT = 1,
    /// Attempted to insert duplicate key
    KVIDX_ERROR_DUPLICATE_KEY = 2,
    /// Requested key not found
    KVIDX_ERROR_NOT_FOUND = 3,
    /// Disk full or quota exceeded
    KVIDX_ERROR_DISK_FULL = 4,
    /// I/O error
    KVIDX_ERROR_IO = 5,
    /// Database corruption detected
    KVIDX_ERROR_CORRUPT = 6,
    /// Transaction already active
    KVIDX_ERROR_TRANSACTION_ACTIVE = 7,
    /// No active transaction
    KVIDX_ERROR_NO_TRANSACTION = 8,
    /// Database is read-only
    KVIDX_ERROR_READONLY = 9,
    /// Database is locked
    KVIDX_ERROR_LOCKED = 10,
    /// Out of memory
    KVIDX_ERROR_NOMEM = 11,
    /// Data too large
    KVIDX_ERROR_TOO_BIG = 12,
    /// Constraint violation
    KVIDX_ERROR_CONSTRAINT = 13,
    /// Schema error
    KVIDX_ERROR_SCHEMA = 14,
    /// Range error (start > end, etc.)
    KVIDX_ERROR_RANGE = 15,
    /// Operation not supported by this backend
    KVIDX_ERROR_NOT_SUPPORTED = 16,
    /// Operation cancelled (by a progress callback)
    KVIDX_ERROR_CANCELLED = 17,
    /// Internal error (should not happen)
    KVIDX_ERROR_INTERNAL = 99,
    /// Condition not met for conditional operation
    KVIDX_ERROR_CONDITION_FAILED = 100,
    /// Key has expired
    KVIDX_ERROR_EXPIRED = 101,
}

/// A `kvidxError` as it crosses the ABI (any 32-bit value).
pub type kvidxErrorRaw = u32;

/// Write condition modes for conditional insert/update operations.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxSetCondition {
    /// Always set (insert or overwrite)
    KVIDX_SET_ALWAYS = 0,
    /// Only set if the key does NOT exist (NX)
    KVIDX_SET_IF_NOT_EXISTS = 1,
    /// Only set if the key DOES exist (XX)
    KVIDX_SET_IF_EXISTS = 2,
}
pub type kvidxSetConditionRaw = u32;

/// SQLite journal modes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxJournalMode {
    KVIDX_JOURNAL_DELETE = 0,
    KVIDX_JOURNAL_TRUNCATE = 1,
    KVIDX_JOURNAL_PERSIST = 2,
    KVIDX_JOURNAL_MEMORY = 3,
    KVIDX_JOURNAL_WAL = 4,
    KVIDX_JOURNAL_OFF = 5,
}
pub type kvidxJournalModeRaw = u32;

/// Synchronous (durability) modes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxSyncMode {
    KVIDX_SYNC_OFF = 0,
    KVIDX_SYNC_NORMAL = 1,
    KVIDX_SYNC_FULL = 2,
    KVIDX_SYNC_EXTRA = 3,
}
pub type kvidxSyncModeRaw = u32;

/// Iterator direction. Any value other than FORWARD iterates backward.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxIterDirection {
    KVIDX_ITER_FORWARD = 0,
    KVIDX_ITER_BACKWARD = 1,
}
pub type kvidxIterDirectionRaw = u32;

/// Export / import file formats.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxExportFormat {
    /// Binary format (compact, fast); on import: auto-detect
    KVIDX_EXPORT_BINARY = 0,
    /// JSON format (human-readable)
    KVIDX_EXPORT_JSON = 1,
    /// CSV format (spreadsheet-compatible)
    KVIDX_EXPORT_CSV = 2,
}
pub type kvidxExportFormatRaw = u32;

/// Database configuration (40 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kvidxConfig {
    /// Page cache size in bytes (0 = leave as is)
    pub cacheSizeBytes: usize,
    /// SQLite VFS name used when opening (NULL = default)
    pub vfsName: *const c_char,
    pub journalMode: kvidxJournalModeRaw,
    pub syncMode: kvidxSyncModeRaw,
    pub enableRecursiveTriggers: bool,
    pub enableForeignKeys: bool,
    pub readOnly: bool,
    pub busyTimeoutMs: i32,
    /// Memory-map size in bytes (SQLite mmap_size; LMDB initial map size)
    pub mmapSizeBytes: i32,
    /// Page size for new databases (0 = default)
    pub pageSize: i32,
}

/// Database statistics (72 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct kvidxStats {
    pub totalKeys: u64,
    pub minKey: u64,
    pub maxKey: u64,
    pub totalDataBytes: u64,
    pub databaseFileSize: u64,
    pub walFileSize: u64,
    pub pageCount: u64,
    pub pageSize: u64,
    pub freePages: u64,
}

/// One entry of a batch insert (40 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kvidxEntry {
    pub key: u64,
    pub term: u64,
    pub cmd: u64,
    pub data: *const c_void,
    pub dataLen: usize,
}

/// Batch filter: return false to skip the entry.
pub type kvidxBatchCallback =
    Option<unsafe extern "C" fn(index: usize, entry: *const kvidxEntry, userData: *mut c_void) -> bool>;

/// Progress callback for export/import: return false to cancel.
pub type kvidxProgressCallback = Option<unsafe extern "C" fn(current: u64, total: u64, userData: *mut c_void) -> bool>;

/// Export options (32 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kvidxExportOptions {
    pub format: kvidxExportFormatRaw,
    /// First key to export (inclusive)
    pub startKey: u64,
    /// Last key to export (inclusive)
    pub endKey: u64,
    /// Include term and cmd (JSON/CSV)
    pub includeMetadata: bool,
    /// Pretty-print JSON
    pub prettyPrint: bool,
}

/// Import options (8 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kvidxImportOptions {
    /// Format of the file; BINARY means auto-detect
    pub format: kvidxExportFormatRaw,
    pub validateData: bool,
    /// Skip keys that already exist instead of failing
    pub skipDuplicates: bool,
    /// Remove every entry before importing
    pub clearBeforeImport: bool,
}

/// Opaque iterator handle.
pub struct kvidxIterator {
    pub(crate) inner: crate::capi::iterator::IterState,
}

/// The storage interface: 42 function pointers (336 bytes). Callers copy one
/// of the exported tables into `kvidxInstance.interface`, or supply their own.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kvidxInterface {
    pub begin: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
    pub commit: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
    pub get: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            term: *mut u64,
            cmd: *mut u64,
            data: *mut *const u8,
            len: *mut usize,
        ) -> bool,
    >,
    pub getPrev: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            previousKey: u64,
            nextKey: *mut u64,
            nextTerm: *mut u64,
            cmd: *mut u64,
            data: *mut *const u8,
            len: *mut usize,
        ) -> bool,
    >,
    pub getNext: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            previousKey: u64,
            nextKey: *mut u64,
            nextTerm: *mut u64,
            cmd: *mut u64,
            data: *mut *const u8,
            len: *mut usize,
        ) -> bool,
    >,
    pub exists: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> bool>,
    pub existsDual: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64, term: u64) -> bool>,
    pub maxKey: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: *mut u64) -> bool>,
    pub insert: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            term: u64,
            cmd: u64,
            data: *const c_void,
            dataLen: usize,
        ) -> bool,
    >,
    pub remove: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> bool>,
    pub removeAfterNInclusive: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> bool>,
    pub removeBeforeNInclusive: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> bool>,
    pub fsync: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
    pub copyStorageForReplication: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            networkWrite: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, usize)>,
            networkState: *mut c_void,
        ) -> bool,
    >,
    pub copyStorageForReplicationReceive: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
    pub copyStorageForBackup: Option<unsafe extern "C" fn(i: *mut kvidxInstance, storageTarget: *mut c_void) -> bool>,
    pub applyToStateMachine: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> bool>,
    pub open:
        Option<unsafe extern "C" fn(i: *mut kvidxInstance, filename: *const c_char, err: *mut *const c_char) -> bool>,
    pub close: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
    pub getStats: Option<unsafe extern "C" fn(i: *mut kvidxInstance, stats: *mut kvidxStats) -> kvidxErrorRaw>,
    pub getKeyCount: Option<unsafe extern "C" fn(i: *mut kvidxInstance, count: *mut u64) -> kvidxErrorRaw>,
    pub getMinKey: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: *mut u64) -> kvidxErrorRaw>,
    pub getDataSize: Option<unsafe extern "C" fn(i: *mut kvidxInstance, bytes: *mut u64) -> kvidxErrorRaw>,
    pub removeRange: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            startKey: u64,
            endKey: u64,
            startInclusive: bool,
            endInclusive: bool,
            deletedCount: *mut u64,
        ) -> kvidxErrorRaw,
    >,
    pub countRange: Option<
        unsafe extern "C" fn(i: *mut kvidxInstance, startKey: u64, endKey: u64, count: *mut u64) -> kvidxErrorRaw,
    >,
    pub existsInRange: Option<
        unsafe extern "C" fn(i: *mut kvidxInstance, startKey: u64, endKey: u64, exists: *mut bool) -> kvidxErrorRaw,
    >,
    pub exportData: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            filename: *const c_char,
            options: *const kvidxExportOptions,
            callback: kvidxProgressCallback,
            userData: *mut c_void,
        ) -> kvidxErrorRaw,
    >,
    pub importData: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            filename: *const c_char,
            options: *const kvidxImportOptions,
            callback: kvidxProgressCallback,
            userData: *mut c_void,
        ) -> kvidxErrorRaw,
    >,
    pub insertEx: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            term: u64,
            cmd: u64,
            data: *const c_void,
            dataLen: usize,
            condition: kvidxSetConditionRaw,
        ) -> kvidxErrorRaw,
    >,
    pub abort: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
    pub getAndSet: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            term: u64,
            cmd: u64,
            data: *const c_void,
            dataLen: usize,
            oldTerm: *mut u64,
            oldCmd: *mut u64,
            oldData: *mut *mut c_void,
            oldDataLen: *mut usize,
        ) -> kvidxErrorRaw,
    >,
    pub getAndRemove: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            term: *mut u64,
            cmd: *mut u64,
            data: *mut *mut c_void,
            dataLen: *mut usize,
        ) -> kvidxErrorRaw,
    >,
    pub compareAndSwap: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            expectedData: *const c_void,
            expectedLen: usize,
            newTerm: u64,
            newCmd: u64,
            newData: *const c_void,
            newDataLen: usize,
            swapped: *mut bool,
        ) -> kvidxErrorRaw,
    >,
    pub append: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            term: u64,
            cmd: u64,
            data: *const c_void,
            dataLen: usize,
            newLen: *mut usize,
        ) -> kvidxErrorRaw,
    >,
    pub prepend: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            term: u64,
            cmd: u64,
            data: *const c_void,
            dataLen: usize,
            newLen: *mut usize,
        ) -> kvidxErrorRaw,
    >,
    pub getValueRange: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            offset: usize,
            length: usize,
            data: *mut *mut c_void,
            actualLen: *mut usize,
        ) -> kvidxErrorRaw,
    >,
    pub setValueRange: Option<
        unsafe extern "C" fn(
            i: *mut kvidxInstance,
            key: u64,
            offset: usize,
            data: *const c_void,
            dataLen: usize,
            newLen: *mut usize,
        ) -> kvidxErrorRaw,
    >,
    pub setExpire: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64, ttlMs: u64) -> kvidxErrorRaw>,
    pub setExpireAt: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64, timestampMs: u64) -> kvidxErrorRaw>,
    pub getTTL: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> i64>,
    pub persist: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> kvidxErrorRaw>,
    pub expireScan:
        Option<unsafe extern "C" fn(i: *mut kvidxInstance, maxKeys: u64, expiredCount: *mut u64) -> kvidxErrorRaw>,
}

/// Caller-supplied state-machine callbacks (16 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kvidxInterfaceStateMachine {
    pub applyToStateMachine: Option<unsafe extern "C" fn(i: *mut kvidxInstance, key: u64) -> bool>,
    pub resurrectStateMachineFromStorage: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
}

/// A database instance (688 bytes). Zero-initialise it, copy an interface
/// table into `interface`, then call `kvidxOpen`.
#[repr(C)]
pub struct kvidxInstance {
    /// Engine-private state; NULL while the instance is not open
    pub kvidxdata: *mut c_void,
    /// Caller-owned; never touched by the library
    pub clientdata: *mut c_void,
    pub interface: kvidxInterface,
    pub state: kvidxInterfaceStateMachine,
    /// Called after a successful open by the built-in engines
    pub customInit: Option<unsafe extern "C" fn(i: *mut kvidxInstance) -> bool>,
    pub lastError: kvidxErrorRaw,
    pub lastErrorMessage: [c_char; 256],
    /// True while a transaction begun with kvidxBegin is open
    pub transactionActive: bool,
    pub config: kvidxConfig,
    pub configInitialized: bool,
}

/// One registered storage engine (32 bytes).
#[repr(C)]
pub struct kvidxAdapterInfo {
    /// Engine name ("SQLite3", "LMDB")
    pub name: *const c_char,
    /// Pointer to the engine's interface table
    pub iface: *const kvidxInterface,
    /// Suggested path suffix (".sqlite3" or "")
    pub pathSuffix: *const c_char,
    /// True if the path names a directory
    pub isDirectory: bool,
}

// SAFETY: the registry table only holds pointers to immutable statics.
unsafe impl Sync for kvidxAdapterInfo {}

macro_rules! assert_layout {
    ($t:ty, $size:expr, { $($f:ident => $off:expr),* $(,)? }) => {
        const _: () = assert!(std::mem::size_of::<$t>() == $size);
        $( const _: () = assert!(std::mem::offset_of!($t, $f) == $off); )*
    };
}

assert_layout!(kvidxConfig, 40, {
    cacheSizeBytes => 0, vfsName => 8, journalMode => 16, syncMode => 20,
    enableRecursiveTriggers => 24, enableForeignKeys => 25, readOnly => 26,
    busyTimeoutMs => 28, mmapSizeBytes => 32, pageSize => 36,
});
assert_layout!(kvidxStats, 72, {
    totalKeys => 0, minKey => 8, maxKey => 16, totalDataBytes => 24, databaseFileSize => 32,
    walFileSize => 40, pageCount => 48, pageSize => 56, freePages => 64,
});
assert_layout!(kvidxEntry, 40, { key => 0, term => 8, cmd => 16, data => 24, dataLen => 32 });
assert_layout!(kvidxExportOptions, 32, {
    format => 0, startKey => 8, endKey => 16, includeMetadata => 24, prettyPrint => 25,
});
assert_layout!(kvidxImportOptions, 8, {
    format => 0, validateData => 4, skipDuplicates => 5, clearBeforeImport => 6,
});
assert_layout!(kvidxInterface, 336, {
    begin => 0, commit => 8, get => 16, getPrev => 24, getNext => 32, exists => 40,
    existsDual => 48, maxKey => 56, insert => 64, remove => 72, removeAfterNInclusive => 80,
    removeBeforeNInclusive => 88, fsync => 96, copyStorageForReplication => 104,
    copyStorageForReplicationReceive => 112, copyStorageForBackup => 120,
    applyToStateMachine => 128, open => 136, close => 144, getStats => 152,
    getKeyCount => 160, getMinKey => 168, getDataSize => 176, removeRange => 184,
    countRange => 192, existsInRange => 200, exportData => 208, importData => 216,
    insertEx => 224, abort => 232, getAndSet => 240, getAndRemove => 248,
    compareAndSwap => 256, append => 264, prepend => 272, getValueRange => 280,
    setValueRange => 288, setExpire => 296, setExpireAt => 304, getTTL => 312,
    persist => 320, expireScan => 328,
});
assert_layout!(kvidxInterfaceStateMachine, 16, {
    applyToStateMachine => 0, resurrectStateMachineFromStorage => 8,
});
assert_layout!(kvidxInstance, 688, {
    kvidxdata => 0, clientdata => 8, interface => 16, state => 352, customInit => 368,
    lastError => 376, lastErrorMessage => 380, transactionActive => 636, config => 640,
    configInitialized => 680,
});
assert_layout!(kvidxAdapterInfo, 32, { name => 0, iface => 8, pathSuffix => 16, isDirectory => 24 });

impl kvidxError {
    /// The numeric value as it crosses the ABI.
    pub const fn raw(self) -> u32 {
        self as u32
    }
}
