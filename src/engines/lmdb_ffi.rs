//! The part of LMDB's C API (csrc/lmdb/lmdb.h) this library uses. LMDB is
//! compiled into the library by build.rs from csrc/lmdb (LMDB 0.9.70 with
//! the damaged-file checks of csrc/lmdb/PATCHES.md), every symbol prefixed
//! `kvx_` so that it never meets another LMDB in the same program.
#![allow(non_camel_case_types, missing_docs)]

use std::ffi::{c_char, c_int, c_uint, c_void};

/// An environment (opaque).
#[repr(C)]
pub struct MDB_env {
    _private: [u8; 0],
}

/// A transaction (opaque).
#[repr(C)]
pub struct MDB_txn {
    _private: [u8; 0],
}

/// A cursor (opaque).
#[repr(C)]
pub struct MDB_cursor {
    _private: [u8; 0],
}

/// A database handle.
pub type MDB_dbi = c_uint;
/// `mdb_size_t` of a 64-bit build.
pub type mdb_size_t = usize;
/// A cursor operation.
pub type MDB_cursor_op = c_uint;
/// A key comparison function (`MDB_cmp_func *`).
pub type MDB_cmp_func = unsafe extern "C" fn(a: *const MDB_val, b: *const MDB_val) -> c_int;

/// A key or a value.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MDB_val {
    pub mv_size: usize,
    pub mv_data: *mut c_void,
}

/// What [`mdb_cursor_records`] accepts (`MDB_run_limits` in the bundled
/// mdb.c, kvidxkit's addition).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// The keys' range, inclusive.
    pub lo: u64,
    pub hi: u64,
    /// Where an item's data may lie: `[base, end)`.
    pub base: usize,
    pub end: usize,
    /// The smallest size of an item's data.
    pub min_data: usize,
}

/// Statistics of a database.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MDB_stat {
    pub ms_psize: c_uint,
    pub ms_depth: c_uint,
    pub ms_branch_pages: mdb_size_t,
    pub ms_leaf_pages: mdb_size_t,
    pub ms_overflow_pages: mdb_size_t,
    pub ms_entries: mdb_size_t,
}

/// Information about an environment.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MDB_envinfo {
    pub me_mapaddr: *mut c_void,
    pub me_mapsize: mdb_size_t,
    pub me_last_pgno: mdb_size_t,
    pub me_last_txnid: mdb_size_t,
    pub me_maxreaders: c_uint,
    pub me_numreaders: c_uint,
}

// Environment flags.
pub const MDB_NOSUBDIR: c_uint = 0x4000;
pub const MDB_NOSYNC: c_uint = 0x10000;
pub const MDB_RDONLY: c_uint = 0x20000;
pub const MDB_NOTLS: c_uint = 0x200000;
// Database flags.
pub const MDB_INTEGERKEY: c_uint = 0x08;
pub const MDB_CREATE: c_uint = 0x40000;
// Write flags.
pub const MDB_NOOVERWRITE: c_uint = 0x10;
pub const MDB_RESERVE: c_uint = 0x10000;
pub const MDB_APPEND: c_uint = 0x20000;
// Copy flags.
pub const MDB_CP_COMPACT: c_uint = 0x01;

// Return codes.
pub const MDB_SUCCESS: c_int = 0;
pub const MDB_KEYEXIST: c_int = -30799;
pub const MDB_NOTFOUND: c_int = -30798;
pub const MDB_PAGE_NOTFOUND: c_int = -30797;
pub const MDB_CORRUPTED: c_int = -30796;
pub const MDB_PANIC: c_int = -30795;
pub const MDB_VERSION_MISMATCH: c_int = -30794;
pub const MDB_INVALID: c_int = -30793;
pub const MDB_MAP_FULL: c_int = -30792;
pub const MDB_DBS_FULL: c_int = -30791;
pub const MDB_READERS_FULL: c_int = -30790;
pub const MDB_TXN_FULL: c_int = -30788;
pub const MDB_CURSOR_FULL: c_int = -30787;
pub const MDB_PAGE_FULL: c_int = -30786;
pub const MDB_MAP_RESIZED: c_int = -30785;
pub const MDB_INCOMPATIBLE: c_int = -30784;
pub const MDB_BAD_RSLOT: c_int = -30783;
pub const MDB_BAD_TXN: c_int = -30782;
pub const MDB_BAD_VALSIZE: c_int = -30781;
pub const MDB_BAD_DBI: c_int = -30780;

// Cursor operations.
pub const MDB_FIRST: MDB_cursor_op = 0;
pub const MDB_GET_CURRENT: MDB_cursor_op = 4;
pub const MDB_LAST: MDB_cursor_op = 6;
pub const MDB_NEXT: MDB_cursor_op = 8;
pub const MDB_PREV: MDB_cursor_op = 12;
pub const MDB_SET: MDB_cursor_op = 15;
pub const MDB_SET_KEY: MDB_cursor_op = 16;
pub const MDB_SET_RANGE: MDB_cursor_op = 17;

unsafe extern "C" {
    #[link_name = "kvx_mdb_version"]
    pub fn mdb_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int) -> *mut c_char;
    #[link_name = "kvx_mdb_strerror"]
    pub fn mdb_strerror(err: c_int) -> *mut c_char;

    #[link_name = "kvx_mdb_env_create"]
    pub fn mdb_env_create(env: *mut *mut MDB_env) -> c_int;
    #[link_name = "kvx_mdb_env_open"]
    pub fn mdb_env_open(env: *mut MDB_env, path: *const c_char, flags: c_uint, mode: libc::mode_t) -> c_int;
    #[link_name = "kvx_mdb_env_copy2"]
    pub fn mdb_env_copy2(env: *mut MDB_env, path: *const c_char, flags: c_uint) -> c_int;
    #[link_name = "kvx_mdb_env_stat"]
    pub fn mdb_env_stat(env: *mut MDB_env, stat: *mut MDB_stat) -> c_int;
    #[link_name = "kvx_mdb_env_info"]
    pub fn mdb_env_info(env: *mut MDB_env, stat: *mut MDB_envinfo) -> c_int;
    #[link_name = "kvx_mdb_env_sync"]
    pub fn mdb_env_sync(env: *mut MDB_env, force: c_int) -> c_int;
    #[link_name = "kvx_mdb_env_close"]
    pub fn mdb_env_close(env: *mut MDB_env);
    #[link_name = "kvx_mdb_env_set_flags"]
    pub fn mdb_env_set_flags(env: *mut MDB_env, flags: c_uint, onoff: c_int) -> c_int;
    #[link_name = "kvx_mdb_env_get_flags"]
    pub fn mdb_env_get_flags(env: *mut MDB_env, flags: *mut c_uint) -> c_int;
    #[link_name = "kvx_mdb_env_get_fd"]
    pub fn mdb_env_get_fd(env: *mut MDB_env, fd: *mut c_int) -> c_int;
    #[link_name = "kvx_mdb_env_set_mapsize"]
    pub fn mdb_env_set_mapsize(env: *mut MDB_env, size: mdb_size_t) -> c_int;
    #[link_name = "kvx_mdb_env_set_maxreaders"]
    pub fn mdb_env_set_maxreaders(env: *mut MDB_env, readers: c_uint) -> c_int;
    /// kvidxkit's addition (csrc/lmdb/PATCHES.md): the address of the last
    /// committed transaction id in the shared lock region, or NULL.
    #[link_name = "kvx_mdb_env_txnid_ptr"]
    pub fn mdb_env_txnid_ptr(env: *mut MDB_env) -> *const usize;
    /// kvidxkit's addition (csrc/lmdb/PATCHES.md): `mdb_env_set_mapsize`
    /// leaving the old mapping in place, handed to the caller to unmap.
    #[link_name = "kvx_mdb_env_set_mapsize_keep"]
    pub fn mdb_env_set_mapsize_keep(
        env: *mut MDB_env,
        size: mdb_size_t,
        kept: *mut *mut c_void,
        kept_size: *mut usize,
    ) -> c_int;
    /// kvidxkit's addition: where the data file is mapped now.
    #[link_name = "kvx_mdb_env_map_address"]
    pub fn mdb_env_map_address(env: *mut MDB_env) -> *mut c_void;
    #[link_name = "kvx_mdb_env_set_maxdbs"]
    pub fn mdb_env_set_maxdbs(env: *mut MDB_env, dbs: MDB_dbi) -> c_int;

    #[link_name = "kvx_mdb_txn_begin"]
    pub fn mdb_txn_begin(env: *mut MDB_env, parent: *mut MDB_txn, flags: c_uint, txn: *mut *mut MDB_txn) -> c_int;
    #[link_name = "kvx_mdb_txn_env"]
    pub fn mdb_txn_env(txn: *mut MDB_txn) -> *mut MDB_env;
    #[link_name = "kvx_mdb_txn_id"]
    pub fn mdb_txn_id(txn: *mut MDB_txn) -> mdb_size_t;
    #[link_name = "kvx_mdb_txn_commit"]
    pub fn mdb_txn_commit(txn: *mut MDB_txn) -> c_int;
    #[link_name = "kvx_mdb_txn_abort"]
    pub fn mdb_txn_abort(txn: *mut MDB_txn);
    #[link_name = "kvx_mdb_txn_reset"]
    pub fn mdb_txn_reset(txn: *mut MDB_txn);
    #[link_name = "kvx_mdb_txn_renew"]
    pub fn mdb_txn_renew(txn: *mut MDB_txn) -> c_int;

    #[link_name = "kvx_mdb_dbi_open"]
    pub fn mdb_dbi_open(txn: *mut MDB_txn, name: *const c_char, flags: c_uint, dbi: *mut MDB_dbi) -> c_int;
    #[link_name = "kvx_mdb_stat"]
    pub fn mdb_stat(txn: *mut MDB_txn, dbi: MDB_dbi, stat: *mut MDB_stat) -> c_int;
    #[link_name = "kvx_mdb_set_compare"]
    pub fn mdb_set_compare(txn: *mut MDB_txn, dbi: MDB_dbi, cmp: MDB_cmp_func) -> c_int;
    #[link_name = "kvx_mdb_cmp"]
    pub fn mdb_cmp(txn: *mut MDB_txn, dbi: MDB_dbi, a: *const MDB_val, b: *const MDB_val) -> c_int;
    /// kvidxkit's addition (csrc/lmdb/PATCHES.md): the order of
    /// MDB_INTEGERKEY for 8-byte keys, which the page search compares
    /// inline.
    #[link_name = "kvx_mdb_cmp_u64"]
    pub fn mdb_cmp_u64(a: *const MDB_val, b: *const MDB_val) -> c_int;
    #[link_name = "kvx_mdb_dbi_flags"]
    pub fn mdb_dbi_flags(txn: *mut MDB_txn, dbi: MDB_dbi, flags: *mut c_uint) -> c_int;
    #[link_name = "kvx_mdb_drop"]
    pub fn mdb_drop(txn: *mut MDB_txn, dbi: MDB_dbi, del: c_int) -> c_int;

    #[link_name = "kvx_mdb_get"]
    pub fn mdb_get(txn: *mut MDB_txn, dbi: MDB_dbi, key: *mut MDB_val, data: *mut MDB_val) -> c_int;
    #[link_name = "kvx_mdb_put"]
    pub fn mdb_put(txn: *mut MDB_txn, dbi: MDB_dbi, key: *mut MDB_val, data: *mut MDB_val, flags: c_uint) -> c_int;
    #[link_name = "kvx_mdb_del"]
    pub fn mdb_del(txn: *mut MDB_txn, dbi: MDB_dbi, key: *mut MDB_val, data: *mut MDB_val) -> c_int;

    #[link_name = "kvx_mdb_cursor_open"]
    pub fn mdb_cursor_open(txn: *mut MDB_txn, dbi: MDB_dbi, cursor: *mut *mut MDB_cursor) -> c_int;
    #[link_name = "kvx_mdb_cursor_close"]
    pub fn mdb_cursor_close(cursor: *mut MDB_cursor);
    #[link_name = "kvx_mdb_cursor_renew"]
    pub fn mdb_cursor_renew(txn: *mut MDB_txn, cursor: *mut MDB_cursor) -> c_int;
    #[link_name = "kvx_mdb_cursor_get"]
    pub fn mdb_cursor_get(cursor: *mut MDB_cursor, key: *mut MDB_val, data: *mut MDB_val, op: MDB_cursor_op) -> c_int;
    /// kvidxkit's addition (csrc/lmdb/PATCHES.md): up to `max` plain items
    /// after (`dir` > 0) or before (`dir` < 0) the cursor's current one on
    /// the same leaf page, the cursor moved onto the last returned; how many.
    #[link_name = "kvx_mdb_cursor_run"]
    pub fn mdb_cursor_run(
        cursor: *mut MDB_cursor,
        dir: c_int,
        keys: *mut MDB_val,
        data: *mut MDB_val,
        max: c_uint,
    ) -> c_uint;
    /// kvidxkit's addition (csrc/lmdb/PATCHES.md): [`mdb_cursor_run`] for
    /// records, stored in `out`: it also stops before an item that is not an
    /// 8-byte key following `prev` (then each returned key) inside `lim`'s
    /// range with data of at least `lim.min_data` bytes inside
    /// `[lim.base, lim.end)`; how many.
    #[link_name = "kvx_mdb_cursor_records"]
    pub fn mdb_cursor_records(
        cursor: *mut MDB_cursor,
        dir: c_int,
        out: *mut crate::engine::Record,
        max: c_uint,
        lim: *const RunLimits,
        prev: u64,
    ) -> c_uint;
    #[link_name = "kvx_mdb_cursor_put"]
    pub fn mdb_cursor_put(cursor: *mut MDB_cursor, key: *mut MDB_val, data: *mut MDB_val, flags: c_uint) -> c_int;
    #[link_name = "kvx_mdb_cursor_del"]
    pub fn mdb_cursor_del(cursor: *mut MDB_cursor, flags: c_uint) -> c_int;
}
