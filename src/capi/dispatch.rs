//! The generic `kvidx*` entry points. Each checks its arguments, then calls
//! through `i->interface` exactly as the original does, so a caller's own
//! adapter table keeps working. A NULL member answers
//! KVIDX_ERROR_NOT_SUPPORTED ("<Name> not supported by this backend"), or is
//! emulated where the original emulates it.

use std::ffi::{c_char, c_void};

use super::boundary::{I, guard, invalid, put, record, set_error};
use super::handle::{instance_lock, kvidxdata};
use super::types::*;

const OK: kvidxErrorRaw = kvidxError::KVIDX_OK as u32;
const INTERNAL: kvidxErrorRaw = kvidxError::KVIDX_ERROR_INTERNAL as u32;
const NOT_SUPPORTED: kvidxErrorRaw = kvidxError::KVIDX_ERROR_NOT_SUPPORTED as u32;
const NOT_FOUND: kvidxErrorRaw = kvidxError::KVIDX_ERROR_NOT_FOUND as u32;

/// The address of a function pointer (for comparing members).
#[inline]
fn fn_addr<F: Copy>(f: F) -> usize {
    const { assert!(size_of::<F>() == size_of::<usize>()) };
    // SAFETY: F is a function pointer type of pointer size.
    unsafe { std::mem::transmute_copy(&f) }
}

/// True if `f` is member `sel` of one of the built-in engines' tables.
#[inline]
fn is_native_member<F: Copy>(sel: &impl Fn(&kvidxInterface) -> Option<F>, f: F) -> bool {
    let a = fn_addr(f);
    super::registry::NATIVE.iter().any(|ops| sel(ops.table).is_some_and(|g| fn_addr(g) == a))
}

/// Calls member `sel` of the instance's interface as one serialised call: a
/// built-in engine's member locks the instance itself; any other member
/// (a caller's adapter) runs under the instance lock. A NULL member records
/// NOT_SUPPORTED; `err` turns an error code into the function's result.
///
/// # Safety
/// `i` is a valid (non-NULL) instance.
#[inline]
unsafe fn call<F: Copy, R>(
    i: I,
    name: &str,
    sel: impl Fn(&kvidxInterface) -> Option<F>,
    err: impl Fn(kvidxErrorRaw) -> R,
    run: impl FnOnce(F) -> R,
) -> R {
    let Some(f) = sel(unsafe { &(*i).interface }) else {
        return unsafe { call_missing(i, name, err) };
    };
    if is_native_member(&sel, f) {
        // A built-in member guards itself (no panic crosses it). Nothing
        // else is inlined here, so this is a jump to the member without a
        // stack frame of its own.
        run(f)
    } else {
        unsafe { call_foreign(i, name, err, run, f) }
    }
}

/// [`call`] for a member of a caller's own adapter: under the instance lock
/// and the panic guard.
///
/// # Safety
/// As [`call`].
#[inline(never)]
unsafe fn call_foreign<F: Copy, R>(
    i: I,
    name: &str,
    err: impl Fn(kvidxErrorRaw) -> R,
    run: impl FnOnce(F) -> R,
    f: F,
) -> R {
    guard(i, err(INTERNAL), || unsafe { serial(i, name, &err, || run(f)) })
}

/// [`call`] for a NULL member: NOT_SUPPORTED, recorded.
///
/// # Safety
/// As [`call`].
#[cold]
#[inline(never)]
unsafe fn call_missing<R>(i: I, name: &str, err: impl Fn(kvidxErrorRaw) -> R) -> R {
    guard(i, err(INTERNAL), || err(unsafe { not_supported(i, name) }))
}

/// Runs `f` holding the instance lock for its whole duration: compound
/// calls (made of several member calls) and reads of instance state are one
/// unit. Another thread's open transaction is waited for (LOCKED, recorded,
/// after the busy timeout).
///
/// # Safety
/// `i` is a valid (non-NULL) instance.
#[inline]
unsafe fn serial<R>(i: I, op: &str, err: impl FnOnce(kvidxErrorRaw) -> R, f: impl FnOnce() -> R) -> R {
    match unsafe { instance_lock(i, true) } {
        Ok(_g) => f(),
        Err(e) => {
            unsafe { record(i, op, &e) };
            err(e.code() as u32)
        }
    }
}

/// The member `sel` of the instance's interface, or NOT_SUPPORTED recorded.
///
/// # Safety
/// `i` is a valid (non-NULL) instance.
#[inline]
unsafe fn member<F: Copy>(i: I, name: &str, sel: impl FnOnce(&kvidxInterface) -> Option<F>) -> Option<F> {
    let f = sel(unsafe { &(*i).interface });
    if f.is_none() {
        unsafe { not_supported(i, name) };
    }
    f
}

unsafe fn not_supported(i: I, name: &str) -> kvidxErrorRaw {
    unsafe { set_error(i, NOT_SUPPORTED, &format!("{name} not supported by this backend")) };
    NOT_SUPPORTED
}

/// For a member the generic layer emulates: the instance must be open
/// (INVALID_ARGUMENT, recorded, otherwise).
///
/// # Safety
/// `i` is a valid (non-NULL) instance.
unsafe fn require_open(i: I, op: &str) -> Result<(), kvidxErrorRaw> {
    if unsafe { kvidxdata(i) }.is_null() { Err(unsafe { invalid(i, op, "instance is not open") }) } else { Ok(()) }
}

/// Records INVALID_ARGUMENT for a NULL data pointer with a non-zero length
/// (out of line: the entry points that check it stay small).
///
/// # Safety
/// `i` is a valid (non-NULL) instance.
#[cold]
#[inline(never)]
unsafe fn null_data(i: I, op: &str, len: usize) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe { invalid(i, op, &format!("data is NULL but dataLen is {len}")) })
}

fn null_with_len(data: *const c_void, len: usize) -> bool {
    data.is_null() && len != 0
}

// ----------------------------------------------------------------------
// Open / close / durability

/// Dispatches `open` after the generic checks; used by kvidxOpen and
/// kvidxOpenWithConfig (which has stored a configuration first).
///
/// # Safety
/// `i` is a valid instance; `filename` a C string; `err` NULL or writable.
pub(crate) unsafe fn open_dispatch(i: I, filename: *const c_char, err: *mut *const c_char) -> bool {
    unsafe {
        if !kvidxdata(i).is_null() {
            invalid(i, "Open", "instance is already open");
            put(err, (*i).lastErrorMessage.as_ptr());
            return false;
        }
        let Some(f) = member(i, "Open", |t| t.open) else {
            put(err, (*i).lastErrorMessage.as_ptr());
            return false;
        };
        let ok = f(i, filename, err);
        if ok {
            (*i).transactionActive = false;
        }
        ok
    }
}

/// Opens a database (SQLite3: a file; LMDB: a directory). On failure
/// `*err` (optional) points to a message valid until the next error on the
/// instance. Opening an instance that is already open fails.
///
/// # Safety
/// `i` is NULL or a valid instance; `filename` NULL or a C string; `err`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxOpen(i: *mut kvidxInstance, filename: *const c_char, err: *mut *const c_char) -> bool {
    guard(i, false, || unsafe {
        if i.is_null() {
            put(err, c"Invalid instance (NULL)".as_ptr());
            return false;
        }
        if filename.is_null() {
            invalid(i, "Open", "filename is NULL");
            put(err, (*i).lastErrorMessage.as_ptr());
            return false;
        }
        let fail = |_| {
            put(err, (*i).lastErrorMessage.as_ptr());
            false
        };
        serial(i, "Open", fail, || {
            if kvidxdata(i).is_null() {
                // A plain open uses the engine's own settings.
                (*i).configInitialized = false;
            }
            open_dispatch(i, filename, err)
        })
    })
}

/// Closes the instance, rolling back an open transaction.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxClose(i: *mut kvidxInstance) -> bool {
    guard(i, false, || unsafe {
        if i.is_null() {
            return false;
        }
        serial(
            i,
            "Close",
            |_| false,
            || {
                let Some(f) = member(i, "Close", |t| t.close) else {
                    return false;
                };
                let ok = f(i);
                if ok {
                    (*i).transactionActive = false;
                }
                ok
            },
        )
    })
}

/// Durability barrier: when it returns true everything committed survives a
/// power cut. The configured sync mode is not changed.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxFsync(i: *mut kvidxInstance) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "Fsync", |t| t.fsync, |_| false, move |f| f(i))
    }
}

// ----------------------------------------------------------------------
// Transactions (one semantics on every engine)

/// Begins a transaction; false with KVIDX_ERROR_TRANSACTION_ACTIVE if one is open.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxBegin(i: *mut kvidxInstance) -> bool {
    guard(i, false, || unsafe {
        if i.is_null() {
            return false;
        }
        serial(
            i,
            "Begin",
            |_| false,
            || {
                if (*i).transactionActive {
                    set_error(
                        i,
                        kvidxError::KVIDX_ERROR_TRANSACTION_ACTIVE.raw(),
                        "Begin: a transaction is already active",
                    );
                    return false;
                }
                let Some(f) = member(i, "Begin", |t| t.begin) else {
                    return false;
                };
                let ok = f(i);
                if ok {
                    (*i).transactionActive = true;
                }
                ok
            },
        )
    })
}

/// Commits; false with KVIDX_ERROR_NO_TRANSACTION if none is open.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxCommit(i: *mut kvidxInstance) -> bool {
    guard(i, false, || unsafe {
        if i.is_null() {
            return false;
        }
        serial(
            i,
            "Commit",
            |_| false,
            || {
                if !(*i).transactionActive {
                    set_error(i, kvidxError::KVIDX_ERROR_NO_TRANSACTION.raw(), "Commit: no transaction is active");
                    return false;
                }
                let Some(f) = member(i, "Commit", |t| t.commit) else {
                    return false;
                };
                let ok = f(i);
                if ok {
                    (*i).transactionActive = false;
                }
                ok
            },
        )
    })
}

/// Rolls back the open transaction; false with KVIDX_ERROR_NO_TRANSACTION
/// if none is open.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxAbort(i: *mut kvidxInstance) -> bool {
    guard(i, false, || unsafe {
        if i.is_null() {
            return false;
        }
        serial(
            i,
            "Abort",
            |_| false,
            || {
                if !(*i).transactionActive {
                    set_error(i, kvidxError::KVIDX_ERROR_NO_TRANSACTION.raw(), "Abort: no transaction is active");
                    return false;
                }
                let Some(f) = member(i, "Abort", |t| t.abort) else {
                    return false;
                };
                let ok = f(i);
                if ok {
                    (*i).transactionActive = false;
                }
                ok
            },
        )
    })
}

// ----------------------------------------------------------------------
// Reads

/// The entry at `key`. Out-parameters are optional; `*data` points into the
/// instance (NULL for an empty value) and is valid until the next call on
/// the instance.
///
/// # Safety
/// `i` is NULL or a valid instance; out-parameters NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGet(
    i: *mut kvidxInstance,
    key: u64,
    term: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "Get", |t| t.get, |_| false, move |f| f(i, key, term, cmd, data, len))
    }
}

/// The entry with the largest key strictly less than `nextKey`.
///
/// # Safety
/// As [`kvidxGet`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetPrev(
    i: *mut kvidxInstance,
    nextKey: u64,
    prevKey: *mut u64,
    prevTerm: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "GetPrev", |t| t.getPrev, |_| false, move |f| f(i, nextKey, prevKey, prevTerm, cmd, data, len))
    }
}

/// The entry with the smallest key strictly greater than `previousKey`.
///
/// # Safety
/// As [`kvidxGet`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetNext(
    i: *mut kvidxInstance,
    previousKey: u64,
    nextKey: *mut u64,
    nextTerm: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "GetNext", |t| t.getNext, |_| false, move |f| f(i, previousKey, nextKey, nextTerm, cmd, data, len))
    }
}

/// True if `key` exists.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxExists(i: *mut kvidxInstance, key: u64) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "Exists", |t| t.exists, |_| false, move |f| f(i, key))
    }
}

/// True if `key` exists with this `term`.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxExistsDual(i: *mut kvidxInstance, key: u64, term: u64) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "ExistsDual", |t| t.existsDual, |_| false, move |f| f(i, key, term))
    }
}

/// The largest key (unsigned order); false when empty.
///
/// # Safety
/// `i` is NULL or a valid instance; `key` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxMaxKey(i: *mut kvidxInstance, key: *mut u64) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "MaxKey", |t| t.maxKey, |_| false, move |f| f(i, key))
    }
}

// ----------------------------------------------------------------------
// Writes

/// Inserts a new entry. An existing key gives false with
/// KVIDX_ERROR_DUPLICATE_KEY and leaves it unchanged (overwrite with
/// kvidxInsertEx(..., KVIDX_SET_ALWAYS)).
///
/// # Safety
/// `i` is NULL or a valid instance; `data` NULL or valid for `dataLen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxInsert(
    i: *mut kvidxInstance,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    dataLen: usize,
) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        if null_with_len(data, dataLen) {
            null_data(i, "Insert", dataLen);
            return false;
        }
        call(i, "Insert", |t| t.insert, |_| false, move |f| f(i, key, term, cmd, data, dataLen))
    }
}

/// Removes `key` (true also when it did not exist).
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxRemove(i: *mut kvidxInstance, key: u64) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "Remove", |t| t.remove, |_| false, move |f| f(i, key))
    }
}

/// Removes every key >= `key` (unsigned order).
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxRemoveAfterNInclusive(i: *mut kvidxInstance, key: u64) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "RemoveAfterNInclusive", |t| t.removeAfterNInclusive, |_| false, move |f| f(i, key))
    }
}

/// Removes every key <= `key` (unsigned order).
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxRemoveBeforeNInclusive(i: *mut kvidxInstance, key: u64) -> bool {
    // Only pointer checks before the member, which guards itself.
    unsafe {
        if i.is_null() {
            return false;
        }
        call(i, "RemoveBeforeNInclusive", |t| t.removeBeforeNInclusive, |_| false, move |f| f(i, key))
    }
}

/// Calls the caller's `state.applyToStateMachine(i, key)`.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxApplyToStateMachine(i: *mut kvidxInstance, key: u64) -> bool {
    guard(i, false, || unsafe {
        if i.is_null() {
            return false;
        }
        match (*i).state.applyToStateMachine {
            Some(f) => f(i, key),
            None => {
                not_supported(i, "ApplyToStateMachine");
                false
            }
        }
    })
}

// ----------------------------------------------------------------------
// Batches (generic: Begin + Insert x n + Commit through the interface)

/// Inserts `count` entries; equivalent to kvidxInsertBatchEx without a filter.
///
/// # Safety
/// As [`kvidxInsertBatchEx`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxInsertBatch(
    i: *mut kvidxInstance,
    entries: *const kvidxEntry,
    count: usize,
    insertedCount: *mut usize,
) -> bool {
    unsafe { kvidxInsertBatchEx(i, entries, count, None, std::ptr::null_mut(), insertedCount) }
}

/// Inserts entries in order, skipping those the callback rejects. Stops at
/// the first failing entry: the entries before it are kept, false is
/// returned and `*insertedCount` says how many went in. Outside a
/// transaction the batch runs in its own; inside one it joins it.
///
/// # Safety
/// `i` is NULL or a valid instance; `entries` NULL or valid for `count`
/// entries; `insertedCount` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxInsertBatchEx(
    i: *mut kvidxInstance,
    entries: *const kvidxEntry,
    count: usize,
    callback: kvidxBatchCallback,
    userData: *mut c_void,
    insertedCount: *mut usize,
) -> bool {
    guard(i, false, || unsafe {
        put(insertedCount, 0);
        if i.is_null() {
            return false;
        }
        if entries.is_null() {
            invalid(i, "InsertBatch", "entries is NULL");
            return false;
        }
        if count == 0 {
            return true;
        }
        if count > isize::MAX as usize / size_of::<kvidxEntry>() {
            invalid(i, "InsertBatch", &format!("count {count} is too large"));
            return false;
        }
        // Built-in engine (the members a batch calls are its own): one call
        // holding the instance, the batch logic of the core.
        let t = &(*i).interface;
        if let Some(ops) = super::registry::NATIVE.iter().find(|ops| {
            let o = ops.table;
            [(t.begin, o.begin), (t.commit, o.commit), (t.abort, o.abort)]
                .iter()
                .all(|(a, b)| a.is_some() && a.map(fn_addr) == b.map(fn_addr))
                && t.insert.is_some()
                && t.insert.map(fn_addr) == o.insert.map(fn_addr)
        }) {
            let (inserted, ok) = (ops.insert_batch)(i, entries, count, callback, userData);
            put(insertedCount, inserted);
            return ok;
        }
        // A caller's adapter: Begin + Insert x n + Commit through its members,
        // all under the instance lock.
        let mut inserted = 0usize;
        let mut failed = false;
        let done = serial(
            i,
            "InsertBatch",
            |_| false,
            || {
                let own = !(*i).transactionActive;
                if own && !kvidxBegin(i) {
                    return false;
                }
                for idx in 0..count {
                    let e = entries.add(idx);
                    if let Some(cb) = callback
                        && !cb(idx, e, userData)
                    {
                        continue;
                    }
                    if !kvidxInsert(i, (*e).key, (*e).term, (*e).cmd, (*e).data, (*e).dataLen) {
                        failed = true;
                        break;
                    }
                    inserted += 1;
                }
                if own && !kvidxCommit(i) {
                    let code = (*i).lastError;
                    let msg = std::ffi::CStr::from_ptr((*i).lastErrorMessage.as_ptr()).to_string_lossy().into_owned();
                    if (*i).transactionActive {
                        kvidxAbort(i);
                    }
                    set_error(i, code, &msg);
                    return false;
                }
                true
            },
        );
        if !done {
            return false;
        }
        put(insertedCount, inserted);
        !failed
    })
}

// ----------------------------------------------------------------------
// Statistics and ranges (argument-checked)

macro_rules! checked {
    ($i:ident, $name:literal, [$($p:ident),*], $member:ident, ($($arg:expr),*)) => {
        guard($i, INTERNAL, || unsafe {
            if $i.is_null() $(|| $p.is_null())* {
                return invalid($i, $name, "NULL argument");
            }
            call($i, $name, |t| t.$member, |c| c, |f| f($i, $($arg),*))
        })
    };
}

/// Fills `stats` (counts, key bounds, sizes read from the engine).
///
/// # Safety
/// `i` and `stats` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetStats(i: *mut kvidxInstance, stats: *mut kvidxStats) -> kvidxErrorRaw {
    checked!(i, "GetStats", [stats], getStats, (stats))
}

/// Number of keys.
///
/// # Safety
/// `i` and `count` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetKeyCount(i: *mut kvidxInstance, count: *mut u64) -> kvidxErrorRaw {
    checked!(i, "GetKeyCount", [count], getKeyCount, (count))
}

/// Smallest key; KVIDX_ERROR_NOT_FOUND when empty.
///
/// # Safety
/// `i` and `key` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetMinKey(i: *mut kvidxInstance, key: *mut u64) -> kvidxErrorRaw {
    checked!(i, "GetMinKey", [key], getMinKey, (key))
}

/// Sum of all value lengths.
///
/// # Safety
/// `i` and `bytes` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetDataSize(i: *mut kvidxInstance, bytes: *mut u64) -> kvidxErrorRaw {
    checked!(i, "GetDataSize", [bytes], getDataSize, (bytes))
}

/// Removes the keys between `startKey` and `endKey`, each bound included
/// or not; start > end removes nothing (KVIDX_OK). `deletedCount` optional.
///
/// # Safety
/// `i` NULL or valid; `deletedCount` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxRemoveRange(
    i: *mut kvidxInstance,
    startKey: u64,
    endKey: u64,
    startInclusive: bool,
    endInclusive: bool,
    deletedCount: *mut u64,
) -> kvidxErrorRaw {
    checked!(i, "RemoveRange", [], removeRange, (startKey, endKey, startInclusive, endInclusive, deletedCount))
}

/// Number of keys in `[startKey, endKey]`.
///
/// # Safety
/// `i` and `count` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxCountRange(
    i: *mut kvidxInstance,
    startKey: u64,
    endKey: u64,
    count: *mut u64,
) -> kvidxErrorRaw {
    checked!(i, "CountRange", [count], countRange, (startKey, endKey, count))
}

/// Whether any key lies in `[startKey, endKey]`.
///
/// # Safety
/// `i` and `exists` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxExistsInRange(
    i: *mut kvidxInstance,
    startKey: u64,
    endKey: u64,
    exists: *mut bool,
) -> kvidxErrorRaw {
    checked!(i, "ExistsInRange", [exists], existsInRange, (startKey, endKey, exists))
}

// ----------------------------------------------------------------------
// Export / import

/// Default export options: BINARY, keys 0..UINT64_MAX, metadata, compact.
#[unsafe(no_mangle)]
pub extern "C" fn kvidxExportOptionsDefault() -> kvidxExportOptions {
    kvidxExportOptions { format: 0, startKey: 0, endKey: u64::MAX, includeMetadata: true, prettyPrint: false }
}

/// Default import options: auto-detect, validate, no skipping, no clearing.
#[unsafe(no_mangle)]
pub extern "C" fn kvidxImportOptionsDefault() -> kvidxImportOptions {
    kvidxImportOptions { format: 0, validateData: true, skipDuplicates: false, clearBeforeImport: false }
}

/// Exports entries to a file.
///
/// # Safety
/// `i` NULL or valid; `filename` NULL or a C string; `options` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxExport(
    i: *mut kvidxInstance,
    filename: *const c_char,
    options: *const kvidxExportOptions,
    callback: kvidxProgressCallback,
    userData: *mut c_void,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() || filename.is_null() {
            return invalid(i, "Export", "instance and filename required");
        }
        let opts = if options.is_null() { kvidxExportOptionsDefault() } else { *options };
        if opts.format > 2 {
            return invalid(i, "Export", &format!("format {} is out of range", opts.format));
        }
        call(i, "Export", |t| t.exportData, |c| c, move |f| f(i, filename, &opts, callback, userData))
    })
}

/// Imports entries from a file.
///
/// # Safety
/// `i` NULL or valid; `filename` NULL or a C string; `options` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxImport(
    i: *mut kvidxInstance,
    filename: *const c_char,
    options: *const kvidxImportOptions,
    callback: kvidxProgressCallback,
    userData: *mut c_void,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() || filename.is_null() {
            return invalid(i, "Import", "instance and filename required");
        }
        let opts = if options.is_null() { kvidxImportOptionsDefault() } else { *options };
        if opts.format > 2 {
            return invalid(i, "Import", &format!("format {} is out of range", opts.format));
        }
        call(i, "Import", |t| t.importData, |c| c, move |f| f(i, filename, &opts, callback, userData))
    })
}

// ----------------------------------------------------------------------
// Storage primitives

/// Conditional write: ALWAYS (insert or overwrite), IF_NOT_EXISTS, IF_EXISTS.
///
/// # Safety
/// `i` NULL or valid; `data` NULL or valid for `dataLen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxInsertEx(
    i: *mut kvidxInstance,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    dataLen: usize,
    condition: kvidxSetConditionRaw,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "InsertEx", "instance is NULL");
        }
        if condition > 2 {
            return invalid(i, "InsertEx", &format!("condition {condition} is out of range"));
        }
        if null_with_len(data, dataLen) {
            return null_data(i, "InsertEx", dataLen);
        }
        call(i, "InsertEx", |t| t.insertEx, |c| c, move |f| f(i, key, term, cmd, data, dataLen, condition))
    })
}

/// Inserts only if the key does not exist (KVIDX_ERROR_CONDITION_FAILED otherwise).
///
/// # Safety
/// As [`kvidxInsertEx`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxInsertNX(
    i: *mut kvidxInstance,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    dataLen: usize,
) -> kvidxErrorRaw {
    unsafe { kvidxInsertEx(i, key, term, cmd, data, dataLen, 1) }
}

/// Updates only if the key exists (KVIDX_ERROR_CONDITION_FAILED otherwise).
///
/// # Safety
/// As [`kvidxInsertEx`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxInsertXX(
    i: *mut kvidxInstance,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    dataLen: usize,
) -> kvidxErrorRaw {
    unsafe { kvidxInsertEx(i, key, term, cmd, data, dataLen, 2) }
}

/// Writes a new value and returns the old one (`*oldData` allocated with
/// malloc; release it with free()).
///
/// # Safety
/// `i` NULL or valid; `data` NULL or valid for `dataLen`; outs NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetAndSet(
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
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        put(oldTerm, 0);
        put(oldCmd, 0);
        put(oldData, std::ptr::null_mut());
        put(oldDataLen, 0);
        if i.is_null() {
            return invalid(i, "GetAndSet", "instance is NULL");
        }
        if null_with_len(data, dataLen) {
            return null_data(i, "GetAndSet", dataLen);
        }
        call(
            i,
            "GetAndSet",
            |t| t.getAndSet,
            |c| c,
            |f| f(i, key, term, cmd, data, dataLen, oldTerm, oldCmd, oldData, oldDataLen),
        )
    })
}

/// Removes `key` and returns its entry (`*data` from malloc; free() it).
///
/// # Safety
/// `i` NULL or valid; outs NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetAndRemove(
    i: *mut kvidxInstance,
    key: u64,
    term: *mut u64,
    cmd: *mut u64,
    data: *mut *mut c_void,
    dataLen: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        put(data, std::ptr::null_mut());
        put(dataLen, 0);
        if i.is_null() {
            return invalid(i, "GetAndRemove", "instance is NULL");
        }
        call(i, "GetAndRemove", |t| t.getAndRemove, |c| c, move |f| f(i, key, term, cmd, data, dataLen))
    })
}

/// Replaces the entry if its value equals the expected bytes.
///
/// # Safety
/// `i` NULL or valid; buffers NULL or valid for their lengths; `swapped`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxCompareAndSwap(
    i: *mut kvidxInstance,
    key: u64,
    expectedData: *const c_void,
    expectedLen: usize,
    newTerm: u64,
    newCmd: u64,
    newData: *const c_void,
    newDataLen: usize,
    swapped: *mut bool,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() || swapped.is_null() {
            return invalid(i, "CompareAndSwap", "instance and swapped required");
        }
        *swapped = false;
        if null_with_len(expectedData, expectedLen) || null_with_len(newData, newDataLen) {
            return invalid(i, "CompareAndSwap", "data is NULL but its length is not 0");
        }
        call(
            i,
            "CompareAndSwap",
            |t| t.compareAndSwap,
            |c| c,
            |f| f(i, key, expectedData, expectedLen, newTerm, newCmd, newData, newDataLen, swapped),
        )
    })
}

/// Replaces the entry if its term equals `expectedTerm`.
///
/// # Safety
/// As [`kvidxCompareAndSwap`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxCompareTermAndSwap(
    i: *mut kvidxInstance,
    key: u64,
    expectedTerm: u64,
    newTerm: u64,
    newCmd: u64,
    newData: *const c_void,
    newDataLen: usize,
    swapped: *mut bool,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() || swapped.is_null() {
            return invalid(i, "CompareTermAndSwap", "instance and swapped required");
        }
        *swapped = false;
        if null_with_len(newData, newDataLen) {
            return invalid(i, "CompareTermAndSwap", "newData is NULL but newDataLen is not 0");
        }
        let Some(cas) = member(i, "CompareTermAndSwap", |t| t.compareAndSwap) else {
            return NOT_SUPPORTED;
        };
        if let Some(ops) =
            super::registry::NATIVE.iter().find(|ops| ops.table.compareAndSwap.map(fn_addr) == Some(fn_addr(cas)))
        {
            // Built-in engines compare the term and swap in one atomic step.
            return (ops.compare_term_and_swap)(i, key, expectedTerm, newTerm, newCmd, newData, newDataLen, swapped);
        }
        // Generic path (a caller's adapter), under the instance lock: read,
        // compare the term, then swap if the value is still the one read.
        // The value is copied so the comparison never reads a buffer the
        // swap may reuse.
        serial(
            i,
            "CompareTermAndSwap",
            |c| c,
            || {
                let (mut term, mut data, mut len) = (0u64, std::ptr::null::<u8>(), 0usize);
                if !kvidxGet(i, key, &mut term, std::ptr::null_mut(), &mut data, &mut len) {
                    set_error(i, NOT_FOUND, &format!("CompareTermAndSwap: key {key} not found"));
                    return NOT_FOUND;
                }
                if term != expectedTerm {
                    return OK;
                }
                let copy: Vec<u8> =
                    if data.is_null() { Vec::new() } else { std::slice::from_raw_parts(data, len).to_vec() };
                cas(i, key, copy.as_ptr() as *const c_void, copy.len(), newTerm, newCmd, newData, newDataLen, swapped)
            },
        )
    })
}

/// Appends bytes to the value (creating the entry if absent).
///
/// # Safety
/// `i` NULL or valid; `data` NULL or valid for `dataLen`; `newLen` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxAppend(
    i: *mut kvidxInstance,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    dataLen: usize,
    newLen: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "Append", "instance is NULL");
        }
        if null_with_len(data, dataLen) {
            return null_data(i, "Append", dataLen);
        }
        call(i, "Append", |t| t.append, |c| c, move |f| f(i, key, term, cmd, data, dataLen, newLen))
    })
}

/// Prepends bytes to the value (creating the entry if absent).
///
/// # Safety
/// As [`kvidxAppend`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxPrepend(
    i: *mut kvidxInstance,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    dataLen: usize,
    newLen: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "Prepend", "instance is NULL");
        }
        if null_with_len(data, dataLen) {
            return null_data(i, "Prepend", dataLen);
        }
        call(i, "Prepend", |t| t.prepend, |c| c, move |f| f(i, key, term, cmd, data, dataLen, newLen))
    })
}

/// Reads part of a value (`length` 0 = to the end; `*data` from malloc).
///
/// # Safety
/// `i` NULL or valid; outs NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetValueRange(
    i: *mut kvidxInstance,
    key: u64,
    offset: usize,
    length: usize,
    data: *mut *mut c_void,
    actualLen: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        put(data, std::ptr::null_mut());
        put(actualLen, 0);
        if i.is_null() {
            return invalid(i, "GetValueRange", "instance is NULL");
        }
        call(i, "GetValueRange", |t| t.getValueRange, |c| c, move |f| f(i, key, offset, length, data, actualLen))
    })
}

/// Overwrites part of a value, extending it with zeros if needed.
///
/// # Safety
/// `i` NULL or valid; `data` NULL or valid for `dataLen`; `newLen` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSetValueRange(
    i: *mut kvidxInstance,
    key: u64,
    offset: usize,
    data: *const c_void,
    dataLen: usize,
    newLen: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "SetValueRange", "instance is NULL");
        }
        if null_with_len(data, dataLen) {
            return null_data(i, "SetValueRange", dataLen);
        }
        if offset.checked_add(dataLen).is_none() {
            return invalid(i, "SetValueRange", "offset + dataLen overflows");
        }
        call(i, "SetValueRange", |t| t.setValueRange, |c| c, move |f| f(i, key, offset, data, dataLen, newLen))
    })
}

// ----------------------------------------------------------------------
// TTL

/// Sets the key to expire `ttlMs` milliseconds from now.
///
/// # Safety
/// `i` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSetExpire(i: *mut kvidxInstance, key: u64, ttlMs: u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "SetExpire", "instance is NULL");
        }
        call(i, "SetExpire", |t| t.setExpire, |c| c, move |f| f(i, key, ttlMs))
    })
}

/// Sets the key to expire at `timestampMs` (Unix milliseconds).
///
/// # Safety
/// `i` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSetExpireAt(i: *mut kvidxInstance, key: u64, timestampMs: u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "SetExpireAt", "instance is NULL");
        }
        call(i, "SetExpireAt", |t| t.setExpireAt, |c| c, move |f| f(i, key, timestampMs))
    })
}

/// Milliseconds until the key expires; KVIDX_TTL_NONE (-1) without expiry,
/// KVIDX_TTL_NOT_FOUND (-2) if the key does not exist.
///
/// # Safety
/// `i` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetTTL(i: *mut kvidxInstance, key: u64) -> i64 {
    guard(i, -2, || unsafe {
        if i.is_null() {
            return -2;
        }
        if (*i).interface.getTTL.is_some() {
            return call(i, "GetTTL", |t| t.getTTL, |_| -2, move |f| f(i, key));
        }
        // Emulated for a caller's adapter without TTL support.
        serial(
            i,
            "GetTTL",
            |_| -2,
            || {
                if require_open(i, "GetTTL").is_err() {
                    -2
                } else if kvidxExists(i, key) {
                    -1
                } else {
                    -2
                }
            },
        )
    })
}

/// Removes the key's expiry.
///
/// # Safety
/// `i` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxPersist(i: *mut kvidxInstance, key: u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "Persist", "instance is NULL");
        }
        if (*i).interface.persist.is_some() {
            return call(i, "Persist", |t| t.persist, |c| c, move |f| f(i, key));
        }
        // Emulated for a caller's adapter without TTL support.
        serial(
            i,
            "Persist",
            |c| c,
            || {
                if let Err(c) = require_open(i, "Persist") {
                    c
                } else if kvidxExists(i, key) {
                    OK
                } else {
                    set_error(i, NOT_FOUND, &format!("Persist: key {key} not found"));
                    NOT_FOUND
                }
            },
        )
    })
}

/// Deletes up to `maxKeys` expired keys (0 = all); `*expiredCount` optional.
///
/// # Safety
/// `i` NULL or valid; `expiredCount` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxExpireScan(i: *mut kvidxInstance, maxKeys: u64, expiredCount: *mut u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if i.is_null() {
            return invalid(i, "ExpireScan", "instance is NULL");
        }
        put(expiredCount, 0);
        if (*i).interface.expireScan.is_some() {
            return call(i, "ExpireScan", |t| t.expireScan, |c| c, move |f| f(i, maxKeys, expiredCount));
        }
        // Emulated for a caller's adapter without TTL support: nothing expires.
        serial(
            i,
            "ExpireScan",
            |c| c,
            || match require_open(i, "ExpireScan") {
                Err(c) => c,
                Ok(()) => OK,
            },
        )
    })
}
