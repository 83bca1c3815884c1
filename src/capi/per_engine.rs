//! The original's per-engine functions (`kvidxkitAdapterSqlite3.h`,
//! `kvidxkitAdapterLmdb.h`, and `kvidxkitAdapterRocksdb.h` in a build with the
//! `rocksdb` feature): `kvidxSqlite3Get`, `kvidxLmdbInsert`,
//! `kvidxRocksdbGetNext`, … — 39 per engine. Each one is the matching member of that engine's interface table
//! (`kvidxInterfaceSqlite3.get`, …) under an exported name: the shims below
//! are generated from one list by [`per_engine!`] and call the member of
//! the engine's table ([`super::adapter::table`]) directly, so a call
//! through a per-engine name and a call through the table behave the same,
//! whatever `i->interface` holds.
//!
//! `kvidxSqlite3ApplyConfig` / `kvidxLmdbApplyConfig` /
//! `kvidxRocksdbApplyConfig` (no table member) are `kvidxUpdateConfig` on an
//! instance of that engine.
//!
//! cbindgen does not expand macros, so none of these appear in `kvidxkit.h`
//! (the original declares them only in the per-engine headers, which are
//! written by hand; tests/header.rs checks that every prototype there has
//! exactly the type of its table member).

use std::ffi::{c_char, c_void};

use super::adapter::{native, table};
use super::boundary::{I, guard};
use super::config::{UpdateFn, update_config_with};
#[cfg(feature = "rocksdb")]
use super::registry::kvidxInterfaceRocksdb;
use super::registry::{kvidxInterfaceLmdb, kvidxInterfaceSqlite3};
use super::types::{
    kvidxConfig, kvidxError, kvidxErrorRaw, kvidxExportOptions, kvidxImportOptions, kvidxProgressCallback,
    kvidxSetConditionRaw, kvidxStats,
};
#[cfg(feature = "rocksdb")]
use crate::engines::Rocksdb;
use crate::engines::{Lmdb, Sqlite};

/// One line per function: the member of `kvidxInterface`, the SQLite3,
/// LMDB and RocksDB names, the C signature (the RocksDB functions exist in
/// a build with the `rocksdb` feature only). Expands to one `extern "C"` shim per engine
/// that calls that member of the engine's table (taken at compile time: a
/// NULL member or a signature that differs from the member's type does not
/// compile).
macro_rules! per_engine {
    ($( $member:ident => $sqlite:ident, $lmdb:ident, $rocksdb:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty; )*) => {
        $(
            per_engine!(@one $member, Sqlite, $sqlite, ($($arg: $ty),*) -> $ret);
            per_engine!(@one $member, Lmdb, $lmdb, ($($arg: $ty),*) -> $ret);
            #[cfg(feature = "rocksdb")]
            per_engine!(@one $member, Rocksdb, $rocksdb, ($($arg: $ty),*) -> $ret);
        )*
    };
    (@one $member:ident, $engine:ident, $name:ident, ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        #[doc = concat!("`", stringify!($name), "`: the `", stringify!($member), "` member of the ",
                        stringify!($engine), " engine's interface table.")]
        ///
        /// # Safety
        /// As for the table member: `i` is NULL or a valid instance and every
        /// pointer argument is NULL or valid for what it points to.
        #[unsafe(no_mangle)]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            const MEMBER: unsafe extern "C" fn($($ty),*) -> $ret = table::<$engine>().$member.unwrap();
            unsafe { MEMBER($($arg),*) }
        }
    };
}

per_engine! {
    open => kvidxSqlite3Open, kvidxLmdbOpen, kvidxRocksdbOpen(i: I, filename: *const c_char, err: *mut *const c_char) -> bool;
    close => kvidxSqlite3Close, kvidxLmdbClose, kvidxRocksdbClose(i: I) -> bool;
    fsync => kvidxSqlite3Fsync, kvidxLmdbFsync, kvidxRocksdbFsync(i: I) -> bool;
    begin => kvidxSqlite3Begin, kvidxLmdbBegin, kvidxRocksdbBegin(i: I) -> bool;
    commit => kvidxSqlite3Commit, kvidxLmdbCommit, kvidxRocksdbCommit(i: I) -> bool;
    get => kvidxSqlite3Get, kvidxLmdbGet, kvidxRocksdbGet(
        i: I, key: u64, term: *mut u64, cmd: *mut u64, data: *mut *const u8, len: *mut usize
    ) -> bool;
    getPrev => kvidxSqlite3GetPrev, kvidxLmdbGetPrev, kvidxRocksdbGetPrev(
        i: I, next_key: u64, prev_key: *mut u64, prev_term: *mut u64, cmd: *mut u64, data: *mut *const u8,
        len: *mut usize
    ) -> bool;
    getNext => kvidxSqlite3GetNext, kvidxLmdbGetNext, kvidxRocksdbGetNext(
        i: I, previous_key: u64, next_key: *mut u64, next_term: *mut u64, cmd: *mut u64, data: *mut *const u8,
        len: *mut usize
    ) -> bool;
    exists => kvidxSqlite3Exists, kvidxLmdbExists, kvidxRocksdbExists(i: I, key: u64) -> bool;
    existsDual => kvidxSqlite3ExistsDual, kvidxLmdbExistsDual, kvidxRocksdbExistsDual(i: I, key: u64, term: u64) -> bool;
    maxKey => kvidxSqlite3Max, kvidxLmdbMax, kvidxRocksdbMax(i: I, key: *mut u64) -> bool;
    insert => kvidxSqlite3Insert, kvidxLmdbInsert, kvidxRocksdbInsert(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize
    ) -> bool;
    remove => kvidxSqlite3Remove, kvidxLmdbRemove, kvidxRocksdbRemove(i: I, key: u64) -> bool;
    removeAfterNInclusive => kvidxSqlite3RemoveAfterNInclusive, kvidxLmdbRemoveAfterNInclusive, kvidxRocksdbRemoveAfterNInclusive(i: I, key: u64) -> bool;
    removeBeforeNInclusive => kvidxSqlite3RemoveBeforeNInclusive, kvidxLmdbRemoveBeforeNInclusive, kvidxRocksdbRemoveBeforeNInclusive(i: I, key: u64) -> bool;
    getStats => kvidxSqlite3GetStats, kvidxLmdbGetStats, kvidxRocksdbGetStats(i: I, stats: *mut kvidxStats) -> kvidxErrorRaw;
    getKeyCount => kvidxSqlite3GetKeyCount, kvidxLmdbGetKeyCount, kvidxRocksdbGetKeyCount(i: I, count: *mut u64) -> kvidxErrorRaw;
    getMinKey => kvidxSqlite3GetMinKey, kvidxLmdbGetMinKey, kvidxRocksdbGetMinKey(i: I, key: *mut u64) -> kvidxErrorRaw;
    getDataSize => kvidxSqlite3GetDataSize, kvidxLmdbGetDataSize, kvidxRocksdbGetDataSize(i: I, bytes: *mut u64) -> kvidxErrorRaw;
    removeRange => kvidxSqlite3RemoveRange, kvidxLmdbRemoveRange, kvidxRocksdbRemoveRange(
        i: I, start_key: u64, end_key: u64, start_inclusive: bool, end_inclusive: bool, deleted_count: *mut u64
    ) -> kvidxErrorRaw;
    countRange => kvidxSqlite3CountRange, kvidxLmdbCountRange, kvidxRocksdbCountRange(
        i: I, start_key: u64, end_key: u64, count: *mut u64
    ) -> kvidxErrorRaw;
    existsInRange => kvidxSqlite3ExistsInRange, kvidxLmdbExistsInRange, kvidxRocksdbExistsInRange(
        i: I, start_key: u64, end_key: u64, exists: *mut bool
    ) -> kvidxErrorRaw;
    exportData => kvidxSqlite3Export, kvidxLmdbExport, kvidxRocksdbExport(
        i: I, filename: *const c_char, options: *const kvidxExportOptions, callback: kvidxProgressCallback,
        user_data: *mut c_void
    ) -> kvidxErrorRaw;
    importData => kvidxSqlite3Import, kvidxLmdbImport, kvidxRocksdbImport(
        i: I, filename: *const c_char, options: *const kvidxImportOptions, callback: kvidxProgressCallback,
        user_data: *mut c_void
    ) -> kvidxErrorRaw;
    insertEx => kvidxSqlite3InsertEx, kvidxLmdbInsertEx, kvidxRocksdbInsertEx(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, condition: kvidxSetConditionRaw
    ) -> kvidxErrorRaw;
    abort => kvidxSqlite3Abort, kvidxLmdbAbort, kvidxRocksdbAbort(i: I) -> bool;
    getAndSet => kvidxSqlite3GetAndSet, kvidxLmdbGetAndSet, kvidxRocksdbGetAndSet(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, old_term: *mut u64,
        old_cmd: *mut u64, old_data: *mut *mut c_void, old_data_len: *mut usize
    ) -> kvidxErrorRaw;
    getAndRemove => kvidxSqlite3GetAndRemove, kvidxLmdbGetAndRemove, kvidxRocksdbGetAndRemove(
        i: I, key: u64, term: *mut u64, cmd: *mut u64, data: *mut *mut c_void, data_len: *mut usize
    ) -> kvidxErrorRaw;
    compareAndSwap => kvidxSqlite3CompareAndSwap, kvidxLmdbCompareAndSwap, kvidxRocksdbCompareAndSwap(
        i: I, key: u64, expected_data: *const c_void, expected_len: usize, new_term: u64, new_cmd: u64,
        new_data: *const c_void, new_data_len: usize, swapped: *mut bool
    ) -> kvidxErrorRaw;
    append => kvidxSqlite3Append, kvidxLmdbAppend, kvidxRocksdbAppend(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, new_len: *mut usize
    ) -> kvidxErrorRaw;
    prepend => kvidxSqlite3Prepend, kvidxLmdbPrepend, kvidxRocksdbPrepend(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, new_len: *mut usize
    ) -> kvidxErrorRaw;
    getValueRange => kvidxSqlite3GetValueRange, kvidxLmdbGetValueRange, kvidxRocksdbGetValueRange(
        i: I, key: u64, offset: usize, length: usize, data: *mut *mut c_void, actual_len: *mut usize
    ) -> kvidxErrorRaw;
    setValueRange => kvidxSqlite3SetValueRange, kvidxLmdbSetValueRange, kvidxRocksdbSetValueRange(
        i: I, key: u64, offset: usize, data: *const c_void, data_len: usize, new_len: *mut usize
    ) -> kvidxErrorRaw;
    setExpire => kvidxSqlite3SetExpire, kvidxLmdbSetExpire, kvidxRocksdbSetExpire(i: I, key: u64, ttl_ms: u64) -> kvidxErrorRaw;
    setExpireAt => kvidxSqlite3SetExpireAt, kvidxLmdbSetExpireAt, kvidxRocksdbSetExpireAt(i: I, key: u64, timestamp_ms: u64) -> kvidxErrorRaw;
    getTTL => kvidxSqlite3GetTTL, kvidxLmdbGetTTL, kvidxRocksdbGetTTL(i: I, key: u64) -> i64;
    persist => kvidxSqlite3Persist, kvidxLmdbPersist, kvidxRocksdbPersist(i: I, key: u64) -> kvidxErrorRaw;
    expireScan => kvidxSqlite3ExpireScan, kvidxLmdbExpireScan, kvidxRocksdbExpireScan(
        i: I, max_keys: u64, expired_count: *mut u64
    ) -> kvidxErrorRaw;
}

/// `kvidxSqlite3ApplyConfig` / `kvidxLmdbApplyConfig` (no table member):
/// `kvidxUpdateConfig` applied with one engine's own configuration code
/// (`update`), so an instance that engine did not open is INVALID_ARGUMENT.
///
/// # Safety
/// `i` and `config` are NULL or valid.
unsafe fn apply_config(i: I, config: *const kvidxConfig, update: UpdateFn) -> kvidxErrorRaw {
    guard(i, kvidxError::KVIDX_ERROR_INTERNAL.raw(), || unsafe { update_config_with(i, config, Some(update)) })
}

/// `kvidxSqlite3ApplyConfig`: kvidxUpdateConfig on an instance of the SQLite3 engine.
///
/// # Safety
/// `i` and `config` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSqlite3ApplyConfig(i: I, config: *const kvidxConfig) -> kvidxErrorRaw {
    unsafe { apply_config(i, config, native::<Sqlite>(&kvidxInterfaceSqlite3).update_config) }
}

/// `kvidxLmdbApplyConfig`: kvidxUpdateConfig on an instance of the LMDB engine.
///
/// # Safety
/// `i` and `config` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxLmdbApplyConfig(i: I, config: *const kvidxConfig) -> kvidxErrorRaw {
    unsafe { apply_config(i, config, native::<Lmdb>(&kvidxInterfaceLmdb).update_config) }
}

/// `kvidxRocksdbApplyConfig`: kvidxUpdateConfig on an instance of the RocksDB engine.
///
/// # Safety
/// `i` and `config` are NULL or valid.
#[cfg(feature = "rocksdb")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxRocksdbApplyConfig(i: I, config: *const kvidxConfig) -> kvidxErrorRaw {
    unsafe { apply_config(i, config, native::<Rocksdb>(&kvidxInterfaceRocksdb).update_config) }
}
