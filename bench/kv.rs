//! The kvidxkit side: every operation goes through the exported
//! `extern "C"` functions exactly as a C program calls them (instance
//! zeroed, interface table copied in, out-parameters by pointer). Nothing
//! here is engine-specific: the engine is `env.engine.iface`.

use std::ffi::{CStr, CString, c_char, c_void};
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use kvidxkit::capi::dispatch::{
    kvidxAppend, kvidxBegin, kvidxClose, kvidxCommit, kvidxCompareAndSwap, kvidxCountRange, kvidxExpireScan, kvidxGet,
    kvidxGetAndSet, kvidxGetNext, kvidxInsert, kvidxInsertBatch, kvidxOpen, kvidxRemove, kvidxSetExpire,
    kvidxSetExpireAt,
};
use kvidxkit::capi::iterator::{kvidxIteratorCreate, kvidxIteratorDestroy, kvidxIteratorGet, kvidxIteratorNext};
use kvidxkit::capi::types::{kvidxEntry, kvidxInstance, kvidxInterface};

use crate::harness::{
    APPEND_BASE, APPEND_LEN, BATCH, DELETE_COMMIT, Env, INSERT_COMMIT, LARGE_COMMIT, MIXED_COMMIT, PRIM_N, Sample,
    Timer, remove_db, timed_passes,
};

/// Term stored with every entry (cmd is the key's low byte), both sides.
pub const TERM: u64 = 7;

/// An open instance, boxed so that its address is stable (iterators keep it).
pub struct Kv(Box<kvidxInstance>);

impl Kv {
    pub fn open(path: &Path, iface: &kvidxInterface) -> Kv {
        // SAFETY: kvidxInstance is a C struct for which all-zero is the
        // documented initial state (NULL pointers, false, no config).
        let mut inst: Box<kvidxInstance> = Box::new(unsafe { std::mem::zeroed() });
        inst.interface = *iface;
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        let mut err: *const c_char = std::ptr::null();
        let ok = unsafe { kvidxOpen(&mut *inst, c.as_ptr(), &mut err) };
        if !ok {
            let msg = if err.is_null() { "?".into() } else { unsafe { CStr::from_ptr(err) }.to_string_lossy() };
            panic!("kvidxOpen({}) failed: {msg}", path.display());
        }
        Kv(inst)
    }

    #[inline]
    pub fn ok(&self, rc: u32, what: &str) {
        if rc != 0 {
            self.fail(what);
        }
    }

    pub fn begin(&mut self) {
        if !unsafe { kvidxBegin(self.ptr()) } {
            self.fail("kvidxBegin");
        }
    }

    pub fn commit(&mut self) {
        if !unsafe { kvidxCommit(self.ptr()) } {
            self.fail("kvidxCommit");
        }
    }

    #[inline]
    pub fn ptr(&mut self) -> *mut kvidxInstance {
        &mut *self.0
    }

    #[cold]
    #[inline(never)]
    pub fn fail(&self, what: &str) -> ! {
        let msg = unsafe { CStr::from_ptr(self.0.lastErrorMessage.as_ptr()) };
        panic!("{what} failed: {} ({})", msg.to_string_lossy(), self.0.lastError);
    }
}

impl Drop for Kv {
    fn drop(&mut self) {
        if !unsafe { kvidxClose(&mut *self.0) } && !std::thread::panicking() {
            self.fail("kvidxClose");
        }
    }
}

unsafe fn insert_all(kv: &mut Kv, env: &Env, keys: impl Iterator<Item = u64>) -> u64 {
    let i = kv.ptr();
    let v = env.value.as_ptr() as *const c_void;
    let len = env.value.len();
    let mut n = 0;
    unsafe {
        if !kvidxBegin(i) {
            kv.fail("kvidxBegin");
        }
        for k in keys {
            if !kvidxInsert(i, k, TERM, k & 0xff, v, len) {
                kv.fail("kvidxInsert");
            }
            n += 1;
        }
        if !kvidxCommit(i) {
            kv.fail("kvidxCommit");
        }
    }
    n
}

/// Builds the populated database (keys 1..=n) used by the read rows.
pub fn populate(env: &Env, path: &Path) {
    remove_db(path);
    let mut kv = Kv::open(path, env.engine.iface);
    unsafe { insert_all(&mut kv, env, 1..=env.n) };
}

fn write_rows(env: &Env, keys: &mut dyn Iterator<Item = u64>) -> Sample {
    let path = env.fresh("kvidx-ins");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let t = Timer::start();
        let n = unsafe { insert_all(&mut kv, env, keys) };
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn seq_insert(env: &Env) -> Sample {
    write_rows(env, &mut (1..=env.n))
}

pub fn rand_insert(env: &Env) -> Sample {
    write_rows(env, &mut env.rand_insert_keys.iter().copied())
}

unsafe fn get_all(kv: &mut Kv, keys: impl Iterator<Item = u64>) -> u64 {
    let i = kv.ptr();
    let mut n = 0u64;
    let mut sink = 0u64;
    for k in keys {
        let (mut term, mut cmd, mut data, mut len) = (0u64, 0u64, std::ptr::null::<u8>(), 0usize);
        unsafe {
            if !kvidxGet(i, k, &mut term, &mut cmd, &mut data, &mut len) {
                kv.fail("kvidxGet");
            }
            // What a caller does with the value: look at it.
            sink = sink.wrapping_add(term ^ cmd ^ len as u64 ^ *data as u64);
        }
        n += 1;
    }
    black_box(sink);
    n
}

pub fn seq_read(env: &Env) -> Sample {
    let mut kv = Kv::open(env.read_db(), env.engine.iface);
    let t = Timer::start();
    let n = unsafe { get_all(&mut kv, 1..=env.n) };
    t.stop(n)
}

pub fn rand_read(env: &Env) -> Sample {
    rand_read_at(env, env.read_db())
}

fn rand_read_at(env: &Env, path: &Path) -> Sample {
    let mut kv = Kv::open(path, env.engine.iface);
    let t = Timer::start();
    let n = unsafe { get_all(&mut kv, env.rand_read_keys.iter().copied()) };
    t.stop(n)
}

pub fn iter_scan(env: &Env) -> Sample {
    iter_scan_at(env, env.read_db())
}

fn iter_scan_at(env: &Env, path: &Path) -> Sample {
    let mut kv = Kv::open(path, env.engine.iface);
    let i = kv.ptr();
    let mut sink = 0u64;
    let s = timed_passes(|| {
        let mut n = 0u64;
        unsafe {
            let it = kvidxIteratorCreate(i, 0, u64::MAX, 0);
            if it.is_null() {
                kv.fail("kvidxIteratorCreate");
            }
            while kvidxIteratorNext(it) {
                let (mut key, mut term, mut cmd, mut data, mut len) =
                    (0u64, 0u64, 0u64, std::ptr::null::<u8>(), 0usize);
                if !kvidxIteratorGet(it, &mut key, &mut term, &mut cmd, &mut data, &mut len) {
                    kv.fail("kvidxIteratorGet");
                }
                sink = sink.wrapping_add(key ^ term ^ cmd ^ len as u64 ^ *data as u64);
                n += 1;
            }
            kvidxIteratorDestroy(it);
        }
        assert_eq!(n, env.n, "iterator saw {n} entries");
        n
    });
    black_box(sink);
    s
}

pub fn range_count(env: &Env) -> Sample {
    let mut kv = Kv::open(env.read_db(), env.engine.iface);
    let i = kv.ptr();
    let t = Timer::start();
    let mut total = 0u64;
    for &(a, b) in &env.ranges {
        let mut c = 0u64;
        if unsafe { kvidxCountRange(i, a, b, &mut c) } != 0 {
            kv.fail("kvidxCountRange");
        }
        total += c;
    }
    let s = t.stop(env.ranges.len() as u64);
    assert_eq!(total, env.ranges.len() as u64 * env.range_width);
    s
}

pub fn delete(env: &Env) -> Sample {
    let path = env.fresh_copy(&env.populated_kvidx, "kvidx-del");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let i = kv.ptr();
        let t = Timer::start();
        unsafe {
            if !kvidxBegin(i) {
                kv.fail("kvidxBegin");
            }
            for k in 1..=env.n {
                if !kvidxRemove(i, k) {
                    kv.fail("kvidxRemove");
                }
            }
            if !kvidxCommit(i) {
                kv.fail("kvidxCommit");
            }
        }
        t.stop(env.n)
    };
    remove_db(&path);
    s
}

// ----------------------------------------------------------------------
// The original's rows (kvidxkit 0.8 src/kvidxkit-bench.c) not covered above.

/// Template of the mixed row: keys 1..=n/2.
pub fn build_half(env: &Env, path: &Path) {
    let mut kv = Kv::open(path, env.engine.iface);
    unsafe { insert_all(&mut kv, env, 1..=env.mixed_base) };
}

/// Mixed 80/20: on a database holding 1..=n/2, n operations in
/// transactions of MIXED_COMMIT: 80% kvidxGet of an existing key, 20%
/// kvidxInsert of the next new key.
pub fn mixed(env: &Env) -> Sample {
    let (tmpl, _) = env.template("half", build_half);
    let path = env.fresh_copy(&tmpl, "kvidx-mixed");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let i = kv.ptr();
        let (v, len) = (env.value.as_ptr() as *const c_void, env.value.len());
        let mut next = env.mixed_base + 1;
        let mut sink = 0u64;
        let t = Timer::start();
        for chunk in env.mixed_ops.chunks(MIXED_COMMIT as usize) {
            kv.begin();
            for &k in chunk {
                unsafe {
                    if k == 0 {
                        if !kvidxInsert(i, next, TERM, next & 0xff, v, len) {
                            kv.fail("kvidxInsert");
                        }
                        next += 1;
                    } else {
                        let (mut term, mut cmd, mut data, mut dlen) = (0u64, 0u64, std::ptr::null::<u8>(), 0usize);
                        if !kvidxGet(i, k, &mut term, &mut cmd, &mut data, &mut dlen) {
                            kv.fail("kvidxGet");
                        }
                        sink = sink.wrapping_add(term ^ cmd ^ dlen as u64 ^ *data as u64);
                    }
                }
            }
            kv.commit();
        }
        let s = t.stop(env.mixed_ops.len() as u64);
        black_box(sink);
        s
    };
    remove_db(&path);
    s
}

/// Batch insert: keys 1..=n into an empty database, kvidxInsertBatch of
/// BATCH entries per call and no caller transaction (each call commits).
pub fn batch_insert(env: &Env) -> Sample {
    let path = env.fresh("kvidx-batch");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let i = kv.ptr();
        let (v, len) = (env.value.as_ptr() as *const c_void, env.value.len());
        let mut entries: Vec<kvidxEntry> = Vec::with_capacity(BATCH);
        let t = Timer::start();
        let mut key = 1u64;
        while key <= env.n {
            let last = (key + BATCH as u64 - 1).min(env.n);
            entries.clear();
            entries.extend((key..=last).map(|k| kvidxEntry {
                key: k,
                term: TERM,
                cmd: k & 0xff,
                data: v,
                dataLen: len,
            }));
            let mut inserted = 0usize;
            if !unsafe { kvidxInsertBatch(i, entries.as_ptr(), entries.len(), &mut inserted) } {
                kv.fail("kvidxInsertBatch");
            }
            assert_eq!(inserted, entries.len());
            key = last + 1;
        }
        t.stop(env.n)
    };
    remove_db(&path);
    s
}

/// Range count over the wide ranges (kvidxCountRange per range), whole
/// passes over them until `MIN_RUN` has elapsed.
pub fn wide_count(env: &Env) -> Sample {
    let mut kv = Kv::open(env.read_db(), env.engine.iface);
    let i = kv.ptr();
    timed_passes(|| {
        let mut total = 0u64;
        for &(a, b) in &env.wide_ranges {
            let mut c = 0u64;
            if unsafe { kvidxCountRange(i, a, b, &mut c) } != 0 {
                kv.fail("kvidxCountRange");
            }
            total += c;
        }
        assert_eq!(total, env.wide_total);
        env.wide_ranges.len() as u64
    })
}

/// Full forward scan with kvidxGetNext from key 0 (no iterator).
pub fn getnext_scan(env: &Env) -> Sample {
    let mut kv = Kv::open(env.read_db(), env.engine.iface);
    let i = kv.ptr();
    let t = Timer::start();
    let (mut n, mut sink, mut key) = (0u64, 0u64, 0u64);
    loop {
        let (mut next, mut term, mut cmd, mut data, mut len) = (0u64, 0u64, 0u64, std::ptr::null::<u8>(), 0usize);
        if !unsafe { kvidxGetNext(i, key, &mut next, &mut term, &mut cmd, &mut data, &mut len) } {
            break;
        }
        sink = sink.wrapping_add(next ^ term ^ cmd ^ len as u64 ^ unsafe { *data } as u64);
        key = next;
        n += 1;
    }
    let s = t.stop(n);
    black_box(sink);
    assert_eq!(n, env.n, "GetNext saw {n} entries");
    s
}

/// `keys` inserted with `value`, `every` per kvidxBegin .. kvidxCommit.
unsafe fn insert_every(kv: &mut Kv, keys: &mut dyn Iterator<Item = u64>, value: &[u8], every: u64) -> u64 {
    let i = kv.ptr();
    let (v, len) = (value.as_ptr() as *const c_void, value.len());
    let mut n = 0;
    kv.begin();
    for k in keys {
        if !unsafe { kvidxInsert(i, k, TERM, k & 0xff, v, len) } {
            kv.fail("kvidxInsert");
        }
        n += 1;
        if n % every == 0 {
            kv.commit();
            kv.begin();
        }
    }
    kv.commit();
    n
}

fn write_every(env: &Env, keys: &mut dyn Iterator<Item = u64>, value: &[u8], every: u64) -> Sample {
    let path = env.fresh("kvidx-ins");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let t = Timer::start();
        let n = unsafe { insert_every(&mut kv, keys, value, every) };
        t.stop(n)
    };
    remove_db(&path);
    s
}

/// The original's sequential and random insert rows: INSERT_COMMIT per transaction.
pub fn seq_insert_10k(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.n), &env.value, INSERT_COMMIT)
}

pub fn rand_insert_10k(env: &Env) -> Sample {
    write_every(env, &mut env.rand_insert_keys.iter().copied(), &env.value, INSERT_COMMIT)
}

/// Large values: `large_n` inserts of LARGE_VALUE bytes into an empty
/// database, LARGE_COMMIT per transaction.
pub fn large_insert(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.large_n), &env.large_value, LARGE_COMMIT)
}

/// Template of the large-value read row: keys 1..=`large_n`, 4 KB values.
pub fn build_large(env: &Env, path: &Path) {
    let mut kv = Kv::open(path, env.engine.iface);
    unsafe { insert_every(&mut kv, &mut (1..=env.large_n), &env.large_value, LARGE_COMMIT) };
}

/// Large values read back: kvidxGet of every key of the large-value
/// template once, in random order, outside a transaction; the first and
/// last byte of every value are looked at.
pub fn large_read(env: &Env) -> Sample {
    let tmpl = env.read_template("large", build_large);
    let mut kv = Kv::open(&tmpl, env.engine.iface);
    let i = kv.ptr();
    let mut sink = 0u64;
    let t = Timer::start();
    for &k in &env.large_read_keys {
        let (mut term, mut cmd, mut data, mut len) = (0u64, 0u64, std::ptr::null::<u8>(), 0usize);
        unsafe {
            if !kvidxGet(i, k, &mut term, &mut cmd, &mut data, &mut len) {
                kv.fail("kvidxGet");
            }
            sink = sink.wrapping_add(term ^ cmd ^ len as u64 ^ *data as u64 ^ *data.add(len - 1) as u64);
        }
    }
    let s = t.stop(env.large_read_keys.len() as u64);
    black_box(sink);
    s
}

/// Delete as the original does it: every key, DELETE_COMMIT per transaction.
pub fn delete_chunked(env: &Env) -> Sample {
    let path = env.fresh_copy(&env.populated_kvidx, "kvidx-del");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let i = kv.ptr();
        let t = Timer::start();
        let mut key = 1u64;
        while key <= env.n {
            let last = (key + DELETE_COMMIT - 1).min(env.n);
            kv.begin();
            for k in key..=last {
                if !unsafe { kvidxRemove(i, k) } {
                    kv.fail("kvidxRemove");
                }
            }
            kv.commit();
            key = last + 1;
        }
        t.stop(env.n)
    };
    remove_db(&path);
    s
}

// ----------------------------------------------------------------------
// Storage primitives: PRIM_N calls inside one kvidxBegin ... kvidxCommit,
// each on a fresh copy of its template (untimed).

/// Opens a fresh copy of `template`, times `body` between kvidxBegin and
/// kvidxCommit (both included), removes the copy.
fn in_txn(env: &Env, template: &Path, body: &mut dyn FnMut(&mut Kv) -> u64) -> Sample {
    let path = env.fresh_copy(template, "kvidx-prim");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let t = Timer::start();
        kv.begin();
        let n = body(&mut kv);
        kv.commit();
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn get_and_set(env: &Env) -> Sample {
    let (v, len) = (env.new_value.as_ptr() as *const c_void, env.new_value.len());
    in_txn(env, &env.populated_kvidx, &mut |kv| {
        let i = kv.ptr();
        let mut sink = 0u64;
        for &k in &env.prim_keys {
            let (mut ot, mut oc, mut od, mut ol) = (0u64, 0u64, std::ptr::null_mut::<c_void>(), 0usize);
            let rc = unsafe { kvidxGetAndSet(i, k, TERM + 1, k & 0xff, v, len, &mut ot, &mut oc, &mut od, &mut ol) };
            kv.ok(rc, "kvidxGetAndSet");
            assert!(!od.is_null() && ol == env.value.len(), "old value of {k}");
            // What a caller does with the old value: look at it, free it.
            sink = sink.wrapping_add(ot ^ oc ^ unsafe { *(od as *const u8) } as u64);
            unsafe { libc::free(od) };
        }
        black_box(sink);
        env.prim_keys.len() as u64
    })
}

pub fn compare_and_swap(env: &Env) -> Sample {
    let (v, len) = (env.new_value.as_ptr() as *const c_void, env.new_value.len());
    let (e, elen) = (env.value.as_ptr() as *const c_void, env.value.len());
    in_txn(env, &env.populated_kvidx, &mut |kv| {
        let i = kv.ptr();
        for &k in &env.prim_keys {
            let mut swapped = false;
            let rc = unsafe { kvidxCompareAndSwap(i, k, e, elen, TERM + 1, k & 0xff, v, len, &mut swapped) };
            kv.ok(rc, "kvidxCompareAndSwap");
            assert!(swapped, "CompareAndSwap of {k} did not swap");
        }
        env.prim_keys.len() as u64
    })
}

/// Template of the Append row: keys 1..=PRIM_N with APPEND_BASE bytes each.
pub fn build_append(env: &Env, path: &Path) {
    let base: Vec<u8> = (0..APPEND_BASE).map(|i| (i * 5 + 3) as u8).collect();
    let mut kv = Kv::open(path, env.engine.iface);
    let i = kv.ptr();
    kv.begin();
    for k in 1..=PRIM_N {
        if !unsafe { kvidxInsert(i, k, TERM, k & 0xff, base.as_ptr() as *const c_void, base.len()) } {
            kv.fail("kvidxInsert");
        }
    }
    kv.commit();
}

pub fn append(env: &Env) -> Sample {
    let (tmpl, _) = env.template("append", build_append);
    let (a, alen) = (env.append_value.as_ptr() as *const c_void, env.append_value.len());
    in_txn(env, &tmpl, &mut |kv| {
        let i = kv.ptr();
        for &k in &env.append_keys {
            let mut new_len = 0usize;
            let rc = unsafe { kvidxAppend(i, k, TERM, k & 0xff, a, alen, &mut new_len) };
            kv.ok(rc, "kvidxAppend");
            assert_eq!(new_len, APPEND_BASE + APPEND_LEN);
        }
        env.append_keys.len() as u64
    })
}

/// TTL of the SetExpire row and of the 1%-TTL database: an hour.
pub const FAR_TTL_MS: u64 = 3_600_000;

pub fn set_expire(env: &Env) -> Sample {
    in_txn(env, &env.populated_kvidx, &mut |kv| {
        let i = kv.ptr();
        for &k in &env.prim_keys {
            kv.ok(unsafe { kvidxSetExpire(i, k, FAR_TTL_MS) }, "kvidxSetExpire");
        }
        env.prim_keys.len() as u64
    })
}

/// Template of the ExpireScan row: the populated database with the
/// `prim_keys` expired long ago (SetExpireAt(key, 1)).
pub fn build_expired(env: &Env, path: &Path) {
    crate::harness::copy_db(&env.populated_kvidx, path);
    let mut kv = Kv::open(path, env.engine.iface);
    let i = kv.ptr();
    kv.begin();
    for &k in &env.prim_keys {
        kv.ok(unsafe { kvidxSetExpireAt(i, k, 1) }, "kvidxSetExpireAt");
    }
    kv.commit();
}

pub fn expire_scan(env: &Env) -> Sample {
    let (tmpl, _) = env.template("expired", build_expired);
    in_txn(env, &tmpl, &mut |kv| {
        let mut count = 0u64;
        let rc = unsafe { kvidxExpireScan(kv.ptr(), 0, &mut count) };
        kv.ok(rc, "kvidxExpireScan");
        assert_eq!(count, env.prim_keys.len() as u64, "ExpireScan removed {count}");
        count
    })
}

// ----------------------------------------------------------------------
// TTL overhead: the read rows on a database where every 100th key has a
// TTL far in the future, against the same rows without TTLs.

/// Template: the populated database, every 100th key with a one-hour TTL.
pub fn build_ttl1(env: &Env, path: &Path) {
    crate::harness::copy_db(&env.populated_kvidx, path);
    let mut kv = Kv::open(path, env.engine.iface);
    let i = kv.ptr();
    kv.begin();
    for k in (100..=env.n).step_by(100) {
        kv.ok(unsafe { kvidxSetExpire(i, k, FAR_TTL_MS) }, "kvidxSetExpire");
    }
    kv.commit();
}

pub fn rand_read_ttl(env: &Env) -> Sample {
    let (tmpl, _) = env.template("ttl1", build_ttl1);
    rand_read_at(env, &tmpl)
}

pub fn iter_scan_ttl(env: &Env) -> Sample {
    let (tmpl, _) = env.template("ttl1", build_ttl1);
    iter_scan_at(env, &tmpl)
}
