//! One generic interface table for every engine: the `extern "C"` members
//! below are generic over [`Engine`], so `kvidxInterfaceSqlite3` is
//! `table::<Sqlite>()`. Each member checks its pointers, locks the instance,
//! calls one [`Store`] method, writes the results and records any error.

use std::ffi::{c_char, c_void};
use std::ops::Bound;
use std::sync::Arc;

use super::boundary::{I, bytes, c_path, data_ptr, guard, put, record};
use super::config::{config_from_c, stats_to_c, store_effective};
use super::handle::{instance_lock, kvidxdata, new_handle, set_kvidxdata};
use super::types::{kvidxBatchCallback, kvidxEntry, kvidxError, kvidxErrorRaw, kvidxInterface, kvidxStats};
use crate::config::Config;
use crate::engine::{Engine, OpenRequest};
use crate::error::{Error, Result};
use crate::store::{Cursor, EntryRef, Shared, Store};

pub(crate) use super::handle::lock;

/// Locks the instance, runs `f` on its store, mirrors the transaction state
/// into the instance and records an error (all while holding the lock).
///
/// # Safety
/// `i` is NULL or a valid instance.
#[inline]
pub(crate) unsafe fn with<E: Engine, R>(
    i: I,
    op: &str,
    fail: impl Fn(&Error) -> R,
    f: impl FnOnce(&mut Store<E>) -> Result<R>,
) -> R {
    let l = match unsafe { lock::<E>(i) } {
        Ok(l) => l,
        Err(e) => {
            unsafe { record(i, op, &e) };
            return fail(&e);
        }
    };
    let r = match l.store() {
        Ok(mut s) => {
            let r = f(&mut s);
            unsafe { l.sync_state(i, &s) };
            r
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(v) => v,
        Err(e) => {
            unsafe { record(i, op, &e) };
            fail(&e)
        }
    }
}

fn f_false(_: &Error) -> bool {
    false
}

pub(crate) fn f_code(e: &Error) -> kvidxErrorRaw {
    e.code() as u32
}

const OK: kvidxErrorRaw = kvidxError::KVIDX_OK as u32;
const INTERNAL: kvidxErrorRaw = kvidxError::KVIDX_ERROR_INTERNAL as u32;

/// Writes an entry to the caller's out-parameters (all optional).
#[inline(always)]
pub(crate) unsafe fn write_entry(
    e: EntryRef<'_>,
    key: *mut u64,
    term: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) {
    unsafe {
        put(key, e.key);
        put(term, e.term);
        put(cmd, e.cmd);
        put(data, data_ptr(e.data));
        put(len, e.data.len());
    }
}

// ----------------------------------------------------------------------
// Members

unsafe extern "C" fn open<E: Engine>(i: I, filename: *const c_char, err: *mut *const c_char) -> bool {
    guard(i, false, || unsafe {
        let fail = |e: Error| {
            record(i, "Open", &e);
            put(err, (*i).lastErrorMessage.as_ptr());
            false
        };
        if i.is_null() {
            put(err, c"Invalid instance (NULL)".as_ptr());
            return false;
        }
        if filename.is_null() {
            return fail(Error::invalid("filename is NULL"));
        }
        // Opens of one instance are serialised; the instance is open once
        // kvidxdata is set.
        let _g = match instance_lock(i, false) {
            Ok(g) => g,
            Err(e) => return fail(e),
        };
        if !kvidxdata(i).is_null() {
            return fail(Error::invalid("instance is already open"));
        }
        let cfg = if (*i).configInitialized {
            match config_from_c(&(*i).config) {
                Ok(c) => Some(c),
                Err(e) => return fail(e),
            }
        } else {
            None
        };
        let req = OpenRequest { path: c_path(filename), config: cfg.as_ref() };
        match Store::<E>::open_request(&req) {
            Ok(store) => {
                store_effective(i, store.config());
                set_kvidxdata(i, new_handle(store));
                (*i).transactionActive = false;
                if let Some(init) = (*i).customInit {
                    init(i);
                }
                true
            }
            Err(e) => fail(e),
        }
    })
}

unsafe extern "C" fn close<E: Engine>(i: I) -> bool {
    guard(i, false, || unsafe {
        let l = match lock::<E>(i) {
            Ok(l) => l,
            Err(e) => {
                record(i, "Close", &e);
                return false;
            }
        };
        let store = match l.take() {
            Ok(s) => s,
            Err(e) => {
                record(i, "Close", &e);
                return false;
            }
        };
        match store.close() {
            Ok(()) => {
                (*i).transactionActive = false;
                l.release(i);
                true
            }
            Err((store, e)) => {
                l.put_back(store);
                record(i, "Close", &e);
                false
            }
        }
    })
}

unsafe extern "C" fn fsync<E: Engine>(i: I) -> bool {
    guard(i, false, || unsafe { with::<E, _>(i, "Fsync", f_false, |s| s.fsync().map(|_| true)) })
}

unsafe extern "C" fn begin<E: Engine>(i: I) -> bool {
    guard(i, false, || unsafe { with::<E, _>(i, "Begin", f_false, |s| s.begin().map(|_| true)) })
}

unsafe extern "C" fn commit<E: Engine>(i: I) -> bool {
    guard(i, false, || unsafe { with::<E, _>(i, "Commit", f_false, |s| s.commit().map(|_| true)) })
}

unsafe extern "C" fn abort<E: Engine>(i: I) -> bool {
    guard(i, false, || unsafe { with::<E, _>(i, "Abort", f_false, |s| s.abort().map(|_| true)) })
}

unsafe extern "C" fn get<E: Engine>(
    i: I,
    key: u64,
    term: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    guard(i, false, || unsafe {
        with::<E, _>(i, "Get", f_false, |s| match s.get(key)? {
            Some(e) => {
                write_entry(e, std::ptr::null_mut(), term, cmd, data, len);
                Ok(true)
            }
            None => Err(Error::not_found_key(key)),
        })
    })
}

unsafe extern "C" fn get_prev<E: Engine>(
    i: I,
    next_key: u64,
    prev_key: *mut u64,
    prev_term: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    guard(i, false, || unsafe {
        with::<E, _>(i, "GetPrev", f_false, |s| match s.prev(next_key)? {
            Some(e) => {
                write_entry(e, prev_key, prev_term, cmd, data, len);
                Ok(true)
            }
            None => Err(Error::NotFound(format!("no key before {next_key}"))),
        })
    })
}

unsafe extern "C" fn get_next<E: Engine>(
    i: I,
    previous_key: u64,
    next_key: *mut u64,
    next_term: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    guard(i, false, || unsafe {
        with::<E, _>(i, "GetNext", f_false, |s| match s.next(previous_key)? {
            Some(e) => {
                write_entry(e, next_key, next_term, cmd, data, len);
                Ok(true)
            }
            None => Err(Error::NotFound(format!("no key after {previous_key}"))),
        })
    })
}

unsafe extern "C" fn exists<E: Engine>(i: I, key: u64) -> bool {
    guard(i, false, || unsafe { with::<E, _>(i, "Exists", f_false, |s| s.exists(key)) })
}

unsafe extern "C" fn exists_dual<E: Engine>(i: I, key: u64, term: u64) -> bool {
    guard(i, false, || unsafe { with::<E, _>(i, "ExistsDual", f_false, |s| s.exists_dual(key, term)) })
}

unsafe extern "C" fn max_key<E: Engine>(i: I, key: *mut u64) -> bool {
    guard(i, false, || unsafe {
        with::<E, _>(i, "MaxKey", f_false, |s| match s.max_key()? {
            Some(k) => {
                put(key, k);
                Ok(true)
            }
            None => Err(Error::NotFound("database is empty".into())),
        })
    })
}

unsafe extern "C" fn insert<E: Engine>(i: I, key: u64, term: u64, cmd: u64, data: *const c_void, len: usize) -> bool {
    guard(i, false, || unsafe {
        with::<E, _>(i, "Insert", f_false, |s| {
            let d = bytes(data, len)?;
            s.insert(key, term, cmd, d).map(|_| true)
        })
    })
}

unsafe extern "C" fn remove<E: Engine>(i: I, key: u64) -> bool {
    guard(i, false, || unsafe { with::<E, _>(i, "Remove", f_false, |s| s.remove(key).map(|_| true)) })
}

unsafe extern "C" fn remove_after<E: Engine>(i: I, key: u64) -> bool {
    guard(i, false, || unsafe {
        with::<E, _>(i, "RemoveAfterNInclusive", f_false, |s| s.remove_keys(key, u64::MAX).map(|_| true))
    })
}

unsafe extern "C" fn remove_before<E: Engine>(i: I, key: u64) -> bool {
    guard(i, false, || unsafe {
        with::<E, _>(i, "RemoveBeforeNInclusive", f_false, |s| s.remove_keys(0, key).map(|_| true))
    })
}

unsafe extern "C" fn get_stats<E: Engine>(i: I, stats: *mut kvidxStats) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if stats.is_null() {
            return super::boundary::invalid(i, "GetStats", "stats is NULL");
        }
        *stats = kvidxStats::default();
        with::<E, _>(i, "GetStats", f_code, |s| {
            *stats = stats_to_c(&s.stats()?);
            Ok(OK)
        })
    })
}

unsafe extern "C" fn get_key_count<E: Engine>(i: I, count: *mut u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if count.is_null() {
            return super::boundary::invalid(i, "GetKeyCount", "count is NULL");
        }
        with::<E, _>(i, "GetKeyCount", f_code, |s| {
            *count = s.key_count()?;
            Ok(OK)
        })
    })
}

unsafe extern "C" fn get_min_key<E: Engine>(i: I, key: *mut u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if key.is_null() {
            return super::boundary::invalid(i, "GetMinKey", "key is NULL");
        }
        with::<E, _>(i, "GetMinKey", f_code, |s| match s.min_key()? {
            Some(k) => {
                *key = k;
                Ok(OK)
            }
            None => Err(Error::NotFound("database is empty".into())),
        })
    })
}

unsafe extern "C" fn get_data_size<E: Engine>(i: I, bytes_out: *mut u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if bytes_out.is_null() {
            return super::boundary::invalid(i, "GetDataSize", "bytes is NULL");
        }
        with::<E, _>(i, "GetDataSize", f_code, |s| {
            *bytes_out = s.data_size()?;
            Ok(OK)
        })
    })
}

unsafe extern "C" fn remove_range<E: Engine>(
    i: I,
    start: u64,
    end: u64,
    start_inclusive: bool,
    end_inclusive: bool,
    deleted: *mut u64,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        put(deleted, 0);
        with::<E, _>(i, "RemoveRange", f_code, |s| {
            let r = (
                if start_inclusive { Bound::Included(start) } else { Bound::Excluded(start) },
                if end_inclusive { Bound::Included(end) } else { Bound::Excluded(end) },
            );
            put(deleted, s.remove_range(r)?);
            Ok(OK)
        })
    })
}

unsafe extern "C" fn count_range<E: Engine>(i: I, start: u64, end: u64, count: *mut u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if count.is_null() {
            return super::boundary::invalid(i, "CountRange", "count is NULL");
        }
        with::<E, _>(i, "CountRange", f_code, |s| {
            *count = s.count_in(start, end)?;
            Ok(OK)
        })
    })
}

unsafe extern "C" fn exists_in_range<E: Engine>(i: I, start: u64, end: u64, exists: *mut bool) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if exists.is_null() {
            return super::boundary::invalid(i, "ExistsInRange", "exists is NULL");
        }
        with::<E, _>(i, "ExistsInRange", f_code, |s| {
            *exists = s.exists_in_range(start..=end)?;
            Ok(OK)
        })
    })
}

/// A copy of `d` from the C allocator (the caller frees it with free());
/// NULL for an empty value.
fn malloc_copy(d: &[u8]) -> Result<*mut c_void> {
    if d.is_empty() {
        return Ok(std::ptr::null_mut());
    }
    // SAFETY: plain allocation and copy of d.len() bytes.
    unsafe {
        let p = libc::malloc(d.len());
        if p.is_null() {
            return Err(Error::NoMem(format!("cannot allocate {} bytes", d.len())));
        }
        std::ptr::copy_nonoverlapping(d.as_ptr(), p as *mut u8, d.len());
        Ok(p)
    }
}

fn condition(raw: u32) -> Result<crate::store::SetCondition> {
    use crate::store::SetCondition::*;
    match raw {
        0 => Ok(Always),
        1 => Ok(IfNotExists),
        2 => Ok(IfExists),
        _ => Err(Error::invalid(format!("condition {raw} is out of range"))),
    }
}

unsafe extern "C" fn insert_ex<E: Engine>(
    i: I,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    len: usize,
    cond: u32,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        with::<E, _>(i, "InsertEx", f_code, |s| {
            let c = condition(cond)?;
            s.insert_ex(key, term, cmd, bytes(data, len)?, c).map(|_| OK)
        })
    })
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn get_and_set<E: Engine>(
    i: I,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    len: usize,
    old_term: *mut u64,
    old_cmd: *mut u64,
    old_data: *mut *mut c_void,
    old_len: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        with::<E, _>(i, "GetAndSet", f_code, |s| {
            let d = bytes(data, len)?;
            s.get_and_set_with(key, term, cmd, d, |old| {
                if let Some(o) = old {
                    let copy = if old_data.is_null() { std::ptr::null_mut() } else { malloc_copy(o.data)? };
                    put(old_term, o.term);
                    put(old_cmd, o.cmd);
                    put(old_data, copy);
                    put(old_len, o.data.len());
                }
                Ok(OK)
            })
        })
    })
}

unsafe extern "C" fn get_and_remove<E: Engine>(
    i: I,
    key: u64,
    term: *mut u64,
    cmd: *mut u64,
    data: *mut *mut c_void,
    len: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        with::<E, _>(i, "GetAndRemove", f_code, |s| {
            s.get_and_remove_with(key, |old| match old {
                None => Err(Error::not_found_key(key)),
                Some(o) => {
                    let copy = if data.is_null() { std::ptr::null_mut() } else { malloc_copy(o.data)? };
                    put(term, o.term);
                    put(cmd, o.cmd);
                    put(data, copy);
                    put(len, o.data.len());
                    Ok(OK)
                }
            })
        })
    })
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn compare_and_swap<E: Engine>(
    i: I,
    key: u64,
    expected: *const c_void,
    expected_len: usize,
    term: u64,
    cmd: u64,
    data: *const c_void,
    len: usize,
    swapped: *mut bool,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if swapped.is_null() {
            return super::boundary::invalid(i, "CompareAndSwap", "swapped is NULL");
        }
        *swapped = false;
        with::<E, _>(i, "CompareAndSwap", f_code, |s| {
            *swapped = s.compare_and_swap(key, bytes(expected, expected_len)?, term, cmd, bytes(data, len)?)?;
            Ok(OK)
        })
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn compare_term_and_swap<E: Engine>(
    i: I,
    key: u64,
    expected_term: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    len: usize,
    swapped: *mut bool,
) -> kvidxErrorRaw {
    unsafe {
        with::<E, _>(i, "CompareTermAndSwap", f_code, |s| {
            *swapped = s.compare_term_and_swap(key, expected_term, term, cmd, bytes(data, len)?)?;
            Ok(OK)
        })
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn concat<E: Engine>(
    i: I,
    op: &str,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    len: usize,
    new_len: *mut usize,
    append: bool,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        with::<E, _>(i, op, f_code, |s| {
            let d = bytes(data, len)?;
            let n = if append { s.append(key, term, cmd, d)? } else { s.prepend(key, term, cmd, d)? };
            put(new_len, n);
            Ok(OK)
        })
    })
}

unsafe extern "C" fn append<E: Engine>(
    i: I,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    len: usize,
    new_len: *mut usize,
) -> kvidxErrorRaw {
    unsafe { concat::<E>(i, "Append", key, term, cmd, data, len, new_len, true) }
}

unsafe extern "C" fn prepend<E: Engine>(
    i: I,
    key: u64,
    term: u64,
    cmd: u64,
    data: *const c_void,
    len: usize,
    new_len: *mut usize,
) -> kvidxErrorRaw {
    unsafe { concat::<E>(i, "Prepend", key, term, cmd, data, len, new_len, false) }
}

unsafe extern "C" fn get_value_range<E: Engine>(
    i: I,
    key: u64,
    offset: usize,
    length: usize,
    data: *mut *mut c_void,
    actual: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        put(data, std::ptr::null_mut());
        put(actual, 0);
        with::<E, _>(i, "GetValueRange", f_code, |s| {
            let part = s.get_value_range(key, offset, length)?;
            if !data.is_null() {
                *data = malloc_copy(part)?;
            }
            put(actual, part.len());
            Ok(OK)
        })
    })
}

unsafe extern "C" fn set_value_range<E: Engine>(
    i: I,
    key: u64,
    offset: usize,
    data: *const c_void,
    len: usize,
    new_len: *mut usize,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        with::<E, _>(i, "SetValueRange", f_code, |s| {
            put(new_len, s.set_value_range(key, offset, bytes(data, len)?)?);
            Ok(OK)
        })
    })
}

unsafe extern "C" fn set_expire<E: Engine>(i: I, key: u64, ttl_ms: u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe { with::<E, _>(i, "SetExpire", f_code, |s| s.set_expire_ms(key, ttl_ms).map(|_| OK)) })
}

unsafe extern "C" fn set_expire_at<E: Engine>(i: I, key: u64, at: u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        with::<E, _>(i, "SetExpireAt", f_code, |s| s.set_expire_at_ms(key, at).map(|_| OK))
    })
}

unsafe extern "C" fn get_ttl<E: Engine>(i: I, key: u64) -> i64 {
    use crate::store::Ttl;
    guard(i, -2, || unsafe {
        with::<E, _>(
            i,
            "GetTTL",
            |_| -2,
            |s| {
                Ok(match s.ttl(key)? {
                    Ttl::NotFound => -2,
                    Ttl::Persistent => -1,
                    Ttl::Remaining(d) => d.as_millis().min(i64::MAX as u128) as i64,
                })
            },
        )
    })
}

unsafe extern "C" fn persist<E: Engine>(i: I, key: u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe { with::<E, _>(i, "Persist", f_code, |s| s.persist(key).map(|_| OK)) })
}

unsafe extern "C" fn expire_scan<E: Engine>(i: I, max_keys: u64, count: *mut u64) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        put(count, 0);
        with::<E, _>(i, "ExpireScan", f_code, |s| {
            put(count, s.expire_scan(max_keys)?);
            Ok(OK)
        })
    })
}

/// The interface table of engine `E`. Members the original leaves NULL
/// (replication, backup, state machine) stay NULL.
pub(crate) const fn table<E: Engine>() -> kvidxInterface {
    kvidxInterface {
        begin: Some(begin::<E>),
        commit: Some(commit::<E>),
        get: Some(get::<E>),
        getPrev: Some(get_prev::<E>),
        getNext: Some(get_next::<E>),
        exists: Some(exists::<E>),
        existsDual: Some(exists_dual::<E>),
        maxKey: Some(max_key::<E>),
        insert: Some(insert::<E>),
        remove: Some(remove::<E>),
        removeAfterNInclusive: Some(remove_after::<E>),
        removeBeforeNInclusive: Some(remove_before::<E>),
        fsync: Some(fsync::<E>),
        copyStorageForReplication: None,
        copyStorageForReplicationReceive: None,
        copyStorageForBackup: None,
        applyToStateMachine: None,
        open: Some(open::<E>),
        close: Some(close::<E>),
        getStats: Some(get_stats::<E>),
        getKeyCount: Some(get_key_count::<E>),
        getMinKey: Some(get_min_key::<E>),
        getDataSize: Some(get_data_size::<E>),
        removeRange: Some(remove_range::<E>),
        countRange: Some(count_range::<E>),
        existsInRange: Some(exists_in_range::<E>),
        exportData: Some(super::transfer::export_data::<E>),
        importData: Some(super::transfer::import_data::<E>),
        insertEx: Some(insert_ex::<E>),
        abort: Some(abort::<E>),
        getAndSet: Some(get_and_set::<E>),
        getAndRemove: Some(get_and_remove::<E>),
        compareAndSwap: Some(compare_and_swap::<E>),
        append: Some(append::<E>),
        prepend: Some(prepend::<E>),
        getValueRange: Some(get_value_range::<E>),
        setValueRange: Some(set_value_range::<E>),
        setExpire: Some(set_expire::<E>),
        setExpireAt: Some(set_expire_at::<E>),
        getTTL: Some(get_ttl::<E>),
        persist: Some(persist::<E>),
        expireScan: Some(expire_scan::<E>),
    }
}

/// The SQLite connection handle of an open SQLite3 instance (for schema
/// work on the instance's own database).
///
/// # Safety
/// `i` is NULL or a valid instance.
pub(crate) unsafe fn sqlite_handle(i: I) -> Result<*mut libsqlite3_sys::sqlite3> {
    let l = unsafe { lock::<crate::engines::Sqlite>(i)? };
    let s = l.store()?;
    // SAFETY: the handle stays valid while the instance is open.
    Ok(unsafe { s.engine().connection().handle() })
}

// ----------------------------------------------------------------------
// Native operations the generic layer uses when an instance runs on one of
// our engines (configuration, chunked iteration, batches).

/// The shared state an iterator remembers between steps.
pub(crate) type IterShared = Option<Arc<Shared>>;

pub(crate) struct NativeOps {
    pub(crate) table: &'static kvidxInterface,
    pub(crate) update_config: unsafe fn(I, &Config) -> Result<Config>,
    pub(crate) advance: unsafe fn(I, &mut Cursor, &mut IterShared) -> Result<bool>,
    pub(crate) seek: unsafe fn(I, &mut Cursor, &mut IterShared, u64) -> Result<bool>,
    pub(crate) compare_term_and_swap: CtasFn,
    pub(crate) current_config: unsafe fn(I) -> Result<Config>,
    pub(crate) insert_batch: BatchFn,
}

pub(crate) type CtasFn = unsafe fn(I, u64, u64, u64, u64, *const c_void, usize, *mut bool) -> kvidxErrorRaw;
pub(crate) type BatchFn = unsafe fn(I, *const kvidxEntry, usize, kvidxBatchCallback, *mut c_void) -> (usize, bool);

unsafe fn current_config<E: Engine>(i: I) -> Result<Config> {
    let l = unsafe { lock::<E>(i)? };
    let mut s = l.store()?;
    Ok(s.current_config().clone())
}

unsafe fn update_config<E: Engine>(i: I, cfg: &Config) -> Result<Config> {
    let l = unsafe { lock::<E>(i)? };
    let mut s = l.store()?;
    let c = s.update_config(cfg).cloned()?;
    l.set_busy_ms(c.busy_timeout_ms);
    Ok(c)
}

/// Locks the instance for an iterator step, noticing a re-opened instance.
unsafe fn locked_cursor<E: Engine, R>(
    i: I,
    cursor: &mut Cursor,
    shared: &mut IterShared,
    f: impl FnOnce(&mut Cursor, &mut Store<E>) -> Result<R>,
) -> Result<R> {
    let l = unsafe { lock::<E>(i)? };
    let mut s = l.store()?;
    if !shared.as_ref().is_some_and(|a| Arc::ptr_eq(a, &s.shared)) {
        *shared = Some(s.shared.clone());
        cursor.invalidate();
    }
    f(cursor, &mut s)
}

unsafe fn advance<E: Engine>(i: I, cursor: &mut Cursor, shared: &mut IterShared) -> Result<bool> {
    unsafe { locked_cursor::<E, _>(i, cursor, shared, |c, s| c.advance(s)) }
}

unsafe fn seek<E: Engine>(i: I, cursor: &mut Cursor, shared: &mut IterShared, key: u64) -> Result<bool> {
    unsafe { locked_cursor::<E, _>(i, cursor, shared, |c, s| c.seek(s, key)) }
}

/// kvidxInsertBatchEx on a built-in engine: the whole batch is one call
/// holding the instance (no other thread's call runs in between) and one
/// unit of [`Store`]'s batch logic. The filter callback runs between
/// entries with the store released, so it may call back into the instance
/// (its calls see the entries inserted so far). Returns (inserted, ok); the
/// error is recorded on the instance.
unsafe fn insert_batch<E: Engine>(
    i: I,
    entries: *const kvidxEntry,
    count: usize,
    callback: kvidxBatchCallback,
    user: *mut c_void,
) -> (usize, bool) {
    unsafe {
        let fail = |e: Error| {
            record(i, "InsertBatch", &e);
            (0, false)
        };
        let l = match lock::<E>(i) {
            Ok(l) => l,
            Err(e) => return fail(e),
        };
        let started = l.store().and_then(|mut s| {
            let r = s.batch_start();
            l.sync_state(i, &s);
            r
        });
        let mut run = match started {
            Ok(run) => run,
            Err(e) => return fail(e),
        };
        for idx in 0..count {
            let e = entries.add(idx);
            if let Some(cb) = callback
                && !l.callout(|| cb(idx, e, user))
            {
                continue;
            }
            let go = match l.store() {
                Ok(mut s) => s.batch_insert(
                    &mut run,
                    bytes((*e).data, (*e).dataLen).map(|d| EntryRef {
                        key: (*e).key,
                        term: (*e).term,
                        cmd: (*e).cmd,
                        data: d,
                    }),
                ),
                Err(err) => {
                    // Not possible: a callout cannot close the instance.
                    return fail(err);
                }
            };
            if !go {
                break;
            }
        }
        // An entry's failure is reported as its Insert's (as the original's
        // generic batch did); a failing commit as the batch's.
        let op = if run.entry_failed() { "Insert" } else { "InsertBatch" };
        let outcome = match l.store() {
            Ok(mut s) => {
                let o = s.batch_finish(run);
                l.sync_state(i, &s);
                o
            }
            Err(e) => return fail(e),
        };
        match outcome.error {
            None => (outcome.inserted, true),
            Some(e) => {
                record(i, op, &e);
                (outcome.inserted, false)
            }
        }
    }
}

pub(crate) const fn native<E: Engine>(table: &'static kvidxInterface) -> NativeOps {
    NativeOps {
        table,
        update_config: update_config::<E>,
        advance: advance::<E>,
        seek: seek::<E>,
        compare_term_and_swap: compare_term_and_swap::<E>,
        current_config: current_config::<E>,
        insert_batch: insert_batch::<E>,
    }
}

/// The native operations for `i` if its interface is one of ours (compared
/// member by member with the exported tables, so a caller's own table —
/// even a partly copied one — takes the generic path).
///
/// # Safety
/// `i` is a valid instance.
pub(crate) unsafe fn native_ops(i: I) -> Option<&'static NativeOps> {
    let t = unsafe { &(*i).interface };
    super::registry::NATIVE.iter().copied().find(|ops| {
        let o = ops.table;
        fn_eq(t.open.map(|f| f as usize), o.open.map(|f| f as usize))
            && fn_eq(t.get.map(|f| f as usize), o.get.map(|f| f as usize))
            && fn_eq(t.getNext.map(|f| f as usize), o.getNext.map(|f| f as usize))
            && fn_eq(t.getPrev.map(|f| f as usize), o.getPrev.map(|f| f as usize))
            && fn_eq(t.maxKey.map(|f| f as usize), o.maxKey.map(|f| f as usize))
    })
}

fn fn_eq(a: Option<usize>, b: Option<usize>) -> bool {
    a.is_some() && a == b
}
