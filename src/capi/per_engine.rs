//! The original's per-engine functions (`kvidxkitAdapterSqlite3.h`,
//! `kvidxkitAdapterLmdb.h`): `kvidxSqlite3Get`, `kvidxLmdbInsert`, … — 39 per
//! engine. Each one is the matching member of that engine's interface table
//! (`kvidxInterfaceSqlite3.get`, …) under an exported name: the shims below
//! are generated from one list by [`per_engine!`] and call the member of
//! the engine's table ([`super::adapter::table`]) directly, so a call
//! through a per-engine name and a call through the table behave the same,
//! whatever `i->interface` holds.
//!
//! `kvidxSqlite3ApplyConfig` / `kvidxLmdbApplyConfig` (no table member) are
//! `kvidxUpdateConfig` on an instance of that engine.
//!
//! cbindgen does not expand macros, so none of these appear in `kvidxkit.h`
//! (the original declares them only in the per-engine headers, which are
//! written by hand; tests/header.rs checks that every prototype there has
//! exactly the type of its table member).

use std::ffi::{c_char, c_void};

use super::adapter::{native, table};
use super::boundary::{I, guard};
use super::config::{UpdateFn, update_config_with};
use super::registry::{kvidxInterfaceLmdb, kvidxInterfaceSqlite3};
use super::types::{
    kvidxConfig, kvidxError, kvidxErrorRaw, kvidxExportOptions, kvidxImportOptions, kvidxProgressCallback,
    kvidxSetConditionRaw, kvidxStats,
};
use crate::engines::{Lmdb, Sqlite};

/// One line per function: the member of `kvidxInterface`, the SQLite3 and
/// LMDB names, the C signature. Expands to one `extern "C"` shim per engine
/// that calls that member of the engine's table (taken at compile time: a
/// NULL member or a signature that differs from the member's type does not
/// compile).
macro_rules! per_engine {
    ($( $member:ident => $sqlite:ident, $lmdb:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty; )*) => {
        $(
            per_engine!(@one $member, Sqlite, $sqlite, ($($arg: $ty),*) -> $ret);
            per_engine!(@one $member, Lmdb, $lmdb, ($($arg: $ty),*) -> $ret);
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
    open => kvidxSqlite3Open, kvidxLmdbOpen(i: I, filename: *const c_char, err: *mut *const c_char) -> bool;
    close => kvidxSqlite3Close, kvidxLmdbClose(i: I) -> bool;
    fsync => kvidxSqlite3Fsync, kvidxLmdbFsync(i: I) -> bool;
    begin => kvidxSqlite3Begin, kvidxLmdbBegin(i: I) -> bool;
    commit => kvidxSqlite3Commit, kvidxLmdbCommit(i: I) -> bool;
    get => kvidxSqlite3Get, kvidxLmdbGet(
        i: I, key: u64, term: *mut u64, cmd: *mut u64, data: *mut *const u8, len: *mut usize
    ) -> bool;
    getPrev => kvidxSqlite3GetPrev, kvidxLmdbGetPrev(
        i: I, next_key: u64, prev_key: *mut u64, prev_term: *mut u64, cmd: *mut u64, data: *mut *const u8,
        len: *mut usize
    ) -> bool;
    getNext => kvidxSqlite3GetNext, kvidxLmdbGetNext(
        i: I, previous_key: u64, next_key: *mut u64, next_term: *mut u64, cmd: *mut u64, data: *mut *const u8,
        len: *mut usize
    ) -> bool;
    exists => kvidxSqlite3Exists, kvidxLmdbExists(i: I, key: u64) -> bool;
    existsDual => kvidxSqlite3ExistsDual, kvidxLmdbExistsDual(i: I, key: u64, term: u64) -> bool;
    maxKey => kvidxSqlite3Max, kvidxLmdbMax(i: I, key: *mut u64) -> bool;
    insert => kvidxSqlite3Insert, kvidxLmdbInsert(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize
    ) -> bool;
    remove => kvidxSqlite3Remove, kvidxLmdbRemove(i: I, key: u64) -> bool;
    removeAfterNInclusive => kvidxSqlite3RemoveAfterNInclusive, kvidxLmdbRemoveAfterNInclusive(i: I, key: u64) -> bool;
    removeBeforeNInclusive => kvidxSqlite3RemoveBeforeNInclusive, kvidxLmdbRemoveBeforeNInclusive(i: I, key: u64) -> bool;
    getStats => kvidxSqlite3GetStats, kvidxLmdbGetStats(i: I, stats: *mut kvidxStats) -> kvidxErrorRaw;
    getKeyCount => kvidxSqlite3GetKeyCount, kvidxLmdbGetKeyCount(i: I, count: *mut u64) -> kvidxErrorRaw;
    getMinKey => kvidxSqlite3GetMinKey, kvidxLmdbGetMinKey(i: I, key: *mut u64) -> kvidxErrorRaw;
    getDataSize => kvidxSqlite3GetDataSize, kvidxLmdbGetDataSize(i: I, bytes: *mut u64) -> kvidxErrorRaw;
    removeRange => kvidxSqlite3RemoveRange, kvidxLmdbRemoveRange(
        i: I, start_key: u64, end_key: u64, start_inclusive: bool, end_inclusive: bool, deleted_count: *mut u64
    ) -> kvidxErrorRaw;
    countRange => kvidxSqlite3CountRange, kvidxLmdbCountRange(
        i: I, start_key: u64, end_key: u64, count: *mut u64
    ) -> kvidxErrorRaw;
    existsInRange => kvidxSqlite3ExistsInRange, kvidxLmdbExistsInRange(
        i: I, start_key: u64, end_key: u64, exists: *mut bool
    ) -> kvidxErrorRaw;
    exportData => kvidxSqlite3Export, kvidxLmdbExport(
        i: I, filename: *const c_char, options: *const kvidxExportOptions, callback: kvidxProgressCallback,
        user_data: *mut c_void
    ) -> kvidxErrorRaw;
    importData => kvidxSqlite3Import, kvidxLmdbImport(
        i: I, filename: *const c_char, options: *const kvidxImportOptions, callback: kvidxProgressCallback,
        user_data: *mut c_void
    ) -> kvidxErrorRaw;
    insertEx => kvidxSqlite3InsertEx, kvidxLmdbInsertEx(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, condition: kvidxSetConditionRaw
    ) -> kvidxErrorRaw;
    abort => kvidxSqlite3Abort, kvidxLmdbAbort(i: I) -> bool;
    getAndSet => kvidxSqlite3GetAndSet, kvidxLmdbGetAndSet(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, old_term: *mut u64,
        old_cmd: *mut u64, old_data: *mut *mut c_void, old_data_len: *mut usize
    ) -> kvidxErrorRaw;
    getAndRemove => kvidxSqlite3GetAndRemove, kvidxLmdbGetAndRemove(
        i: I, key: u64, term: *mut u64, cmd: *mut u64, data: *mut *mut c_void, data_len: *mut usize
    ) -> kvidxErrorRaw;
    compareAndSwap => kvidxSqlite3CompareAndSwap, kvidxLmdbCompareAndSwap(
        i: I, key: u64, expected_data: *const c_void, expected_len: usize, new_term: u64, new_cmd: u64,
        new_data: *const c_void, new_data_len: usize, swapped: *mut bool
    ) -> kvidxErrorRaw;
    append => kvidxSqlite3Append, kvidxLmdbAppend(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, new_len: *mut usize
    ) -> kvidxErrorRaw;
    prepend => kvidxSqlite3Prepend, kvidxLmdbPrepend(
        i: I, key: u64, term: u64, cmd: u64, data: *const c_void, data_len: usize, new_len: *mut usize
    ) -> kvidxErrorRaw;
    getValueRange => kvidxSqlite3GetValueRange, kvidxLmdbGetValueRange(
        i: I, key: u64, offset: usize, length: usize, data: *mut *mut c_void, actual_len: *mut usize
    ) -> kvidxErrorRaw;
    setValueRange => kvidxSqlite3SetValueRange, kvidxLmdbSetValueRange(
        i: I, key: u64, offset: usize, data: *const c_void, data_len: usize, new_len: *mut usize
    ) -> kvidxErrorRaw;
    setExpire => kvidxSqlite3SetExpire, kvidxLmdbSetExpire(i: I, key: u64, ttl_ms: u64) -> kvidxErrorRaw;
    setExpireAt => kvidxSqlite3SetExpireAt, kvidxLmdbSetExpireAt(i: I, key: u64, timestamp_ms: u64) -> kvidxErrorRaw;
    getTTL => kvidxSqlite3GetTTL, kvidxLmdbGetTTL(i: I, key: u64) -> i64;
    persist => kvidxSqlite3Persist, kvidxLmdbPersist(i: I, key: u64) -> kvidxErrorRaw;
    expireScan => kvidxSqlite3ExpireScan, kvidxLmdbExpireScan(
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
