//! Raw access to an LMDB environment the library wrote, for tests that read
//! what it stored or write what it never would. Never with a `Store` open
//! on the same environment in this process (LMDB allows one open per
//! process): with the store closed, or from a child process.
#![allow(dead_code)]

use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr::null_mut;

use kvidxkit::engines::lmdb_ffi as ffi;

pub fn rc(r: i32) {
    assert_eq!(r, 0, "LMDB call failed with {r}");
}

/// A raw environment on `dir` with the original's settings (created if
/// the directory holds none).
///
/// # Safety
/// No other environment handle on `dir` is open in this process.
pub unsafe fn raw_env(dir: &Path) -> *mut ffi::MDB_env {
    unsafe {
        let mut env = null_mut();
        rc(ffi::mdb_env_create(&mut env));
        rc(ffi::mdb_env_set_maxdbs(env, 2));
        rc(ffi::mdb_env_set_mapsize(env, 1 << 30));
        let p = CString::new(dir.to_str().unwrap()).unwrap();
        rc(ffi::mdb_env_open(env, p.as_ptr(), ffi::MDB_NOTLS, 0o644));
        env
    }
}

/// Runs `f` on a raw LMDB transaction of the environment at `dir`
/// (committed when `write`).
pub fn with_raw_lmdb<R>(dir: &Path, write: bool, f: impl FnOnce(*mut ffi::MDB_txn) -> R) -> R {
    unsafe {
        let env = raw_env(dir);
        let mut txn = null_mut();
        rc(ffi::mdb_txn_begin(env, null_mut(), if write { 0 } else { ffi::MDB_RDONLY }, &mut txn));
        let r = f(txn);
        if write {
            rc(ffi::mdb_txn_commit(txn));
        } else {
            ffi::mdb_txn_abort(txn);
        }
        ffi::mdb_env_close(env);
        r
    }
}

/// The library's database `name` (`_kvidx_data`, `_kvidx_ttl`), created
/// by a write transaction that does not find it.
///
/// # Safety
/// `txn` is a live transaction.
pub unsafe fn raw_dbi(txn: *mut ffi::MDB_txn, name: &CStr) -> ffi::MDB_dbi {
    let mut dbi = 0;
    unsafe { rc(ffi::mdb_dbi_open(txn, name.as_ptr(), ffi::MDB_INTEGERKEY | ffi::MDB_CREATE, &mut dbi)) };
    dbi
}

/// Stores `value` under `key` in database `name`, in a transaction of its own.
pub fn put_raw(dir: &Path, name: &CStr, key: u64, value: &[u8]) {
    with_raw_lmdb(dir, true, |txn| unsafe {
        let dbi = raw_dbi(txn, name);
        let mut k = ffi::MDB_val { mv_size: 8, mv_data: &key as *const u64 as *mut _ };
        let mut v = ffi::MDB_val { mv_size: value.len(), mv_data: value.as_ptr() as *mut _ };
        rc(ffi::mdb_put(txn, dbi, &mut k, &mut v, 0));
    })
}
