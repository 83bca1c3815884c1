//! The ceiling for the LMDB engine: the same operations done directly with
//! raw LMDB calls (the LMDB compiled into the library) on the layout of src/engines/lmdb.rs (environment with
//! maxdbs 2, map size 1 GiB, MDB_NOTLS; named databases `_kvidx_data` and
//! `_kvidx_ttl`, MDB_INTEGERKEY; key = native 8-byte u64; value = term and
//! cmd as native u64, then the data; TTL value = native 8-byte expiry).
//! A read row keeps one read-only transaction for the whole row.

use std::ffi::{CString, c_void};
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::null_mut;
use std::time::Instant;

use kvidxkit::engines::lmdb_ffi as ffi;

use crate::export::{BINARY, BinReader, BinWriter, XEnv, XSample};
use crate::harness::{
    APPEND_BASE, APPEND_LEN, BATCH, DELETE_COMMIT, Env, INSERT_COMMIT, LARGE_COMMIT, MIXED_COMMIT, Sample, Timer,
    remove_db, timed_passes,
};
use crate::kv::{FAR_TTL_MS, TERM, build_append, build_expired, build_half, build_large};
use crate::raw::now_ms;

const HEADER: usize = 16;

#[track_caller]
fn ok(rc: i32, what: &str) {
    if rc != 0 {
        let msg = unsafe { std::ffi::CStr::from_ptr(ffi::mdb_strerror(rc)) };
        panic!("{what}: {}", msg.to_string_lossy());
    }
}

/// An open environment with both databases.
pub struct Lmdb {
    env: *mut ffi::MDB_env,
    data: ffi::MDB_dbi,
    ttl: ffi::MDB_dbi,
}

impl Lmdb {
    pub fn open(path: &Path) -> Lmdb {
        std::fs::create_dir_all(path).expect("create the environment directory");
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        unsafe {
            let mut env = null_mut();
            ok(ffi::mdb_env_create(&mut env), "mdb_env_create");
            ok(ffi::mdb_env_set_maxdbs(env, 2), "mdb_env_set_maxdbs");
            ok(ffi::mdb_env_set_mapsize(env, 1 << 30), "mdb_env_set_mapsize");
            ok(ffi::mdb_env_open(env, c.as_ptr(), ffi::MDB_NOTLS, 0o644), "mdb_env_open");
            let mut txn = null_mut();
            ok(ffi::mdb_txn_begin(env, null_mut(), 0, &mut txn), "mdb_txn_begin");
            let (mut data, mut ttl) = (0, 0);
            let flags = ffi::MDB_INTEGERKEY | ffi::MDB_CREATE;
            ok(ffi::mdb_dbi_open(txn, c"_kvidx_data".as_ptr(), flags, &mut data), "mdb_dbi_open");
            ok(ffi::mdb_dbi_open(txn, c"_kvidx_ttl".as_ptr(), flags, &mut ttl), "mdb_dbi_open");
            ok(ffi::mdb_txn_commit(txn), "mdb_txn_commit");
            Lmdb { env, data, ttl }
        }
    }

    fn begin(&self, flags: u32) -> *mut ffi::MDB_txn {
        let mut txn = null_mut();
        ok(unsafe { ffi::mdb_txn_begin(self.env, null_mut(), flags, &mut txn) }, "mdb_txn_begin");
        txn
    }

    fn read(&self) -> *mut ffi::MDB_txn {
        self.begin(ffi::MDB_RDONLY)
    }

    fn write(&self) -> *mut ffi::MDB_txn {
        self.begin(0)
    }
}

impl Drop for Lmdb {
    fn drop(&mut self) {
        unsafe { ffi::mdb_env_close(self.env) };
    }
}

#[inline]
fn kv(k: &u64) -> ffi::MDB_val {
    ffi::MDB_val { mv_size: 8, mv_data: k as *const u64 as *mut c_void }
}

#[inline]
fn empty() -> ffi::MDB_val {
    ffi::MDB_val { mv_size: 0, mv_data: null_mut() }
}

#[inline]
unsafe fn bytes<'a>(v: &ffi::MDB_val) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size) }
}

#[inline]
unsafe fn u64_at(v: &ffi::MDB_val, off: usize) -> u64 {
    unsafe { std::ptr::read_unaligned((v.mv_data as *const u8).add(off) as *const u64) }
}

/// mdb_get in `txn`; panics if absent.
#[inline]
unsafe fn get(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, k: u64) -> ffi::MDB_val {
    let mut key = kv(&k);
    let mut v = empty();
    ok(unsafe { ffi::mdb_get(txn, dbi, &mut key, &mut v) }, "mdb_get");
    v
}

#[inline]
unsafe fn put(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, k: u64, value: &[u8], flags: u32) {
    let mut key = kv(&k);
    let mut v = ffi::MDB_val { mv_size: value.len(), mv_data: value.as_ptr() as *mut c_void };
    ok(unsafe { ffi::mdb_put(txn, dbi, &mut key, &mut v, flags) }, "mdb_put");
}

#[inline]
unsafe fn del(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, k: u64) {
    let mut key = kv(&k);
    ok(unsafe { ffi::mdb_del(txn, dbi, &mut key, null_mut()) }, "mdb_del");
}

/// The stored value of a key: header (term, cmd) then the data.
fn packed(buf: &mut Vec<u8>, term: u64, cmd: u64, data: &[u8]) {
    buf.clear();
    buf.extend_from_slice(&term.to_ne_bytes());
    buf.extend_from_slice(&cmd.to_ne_bytes());
    buf.extend_from_slice(data);
}

fn write_rows(env: &Env, keys: &mut dyn Iterator<Item = u64>) -> Sample {
    let path = env.fresh("raw-ins");
    let s = {
        let db = Lmdb::open(&path);
        let mut buf = Vec::new();
        packed(&mut buf, TERM, 0, &env.value);
        let t = Timer::start();
        let txn = db.write();
        let mut n = 0;
        for k in keys {
            buf[8..16].copy_from_slice(&(k & 0xff).to_ne_bytes());
            unsafe { put(txn, db.data, k, &buf, ffi::MDB_NOOVERWRITE) };
            n += 1;
        }
        ok(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit");
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

fn get_all(env: &Env, keys: &mut dyn Iterator<Item = u64>) -> Sample {
    let db = Lmdb::open(env.read_db());
    let t = Timer::start();
    let txn = db.read();
    let mut n = 0u64;
    let mut sink = 0u64;
    for k in keys {
        unsafe {
            let v = get(txn, db.data, k);
            let data = &bytes(&v)[HEADER..];
            sink = sink.wrapping_add(u64_at(&v, 0) ^ u64_at(&v, 8) ^ data.len() as u64 ^ data[0] as u64);
        }
        n += 1;
    }
    unsafe { ffi::mdb_txn_abort(txn) };
    let s = t.stop(n);
    black_box(sink);
    s
}

pub fn seq_read(env: &Env) -> Sample {
    get_all(env, &mut (1..=env.n))
}

pub fn rand_read(env: &Env) -> Sample {
    get_all(env, &mut env.rand_read_keys.iter().copied())
}

pub fn iter_scan(env: &Env) -> Sample {
    let db = Lmdb::open(env.read_db());
    let mut sink = 0u64;
    let s = timed_passes(|| {
        let txn = db.read();
        let mut n = 0u64;
        unsafe {
            let mut cur = null_mut();
            ok(ffi::mdb_cursor_open(txn, db.data, &mut cur), "mdb_cursor_open");
            let (mut k, mut v) = (empty(), empty());
            let mut rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_FIRST);
            while rc == 0 {
                let key = u64_at(&k, 0);
                let data = &bytes(&v)[HEADER..];
                sink = sink.wrapping_add(key ^ u64_at(&v, 0) ^ u64_at(&v, 8) ^ data.len() as u64 ^ data[0] as u64);
                n += 1;
                rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_NEXT);
            }
            assert_eq!(rc, ffi::MDB_NOTFOUND);
            ffi::mdb_cursor_close(cur);
            ffi::mdb_txn_abort(txn);
        }
        assert_eq!(n, env.n);
        n
    });
    black_box(sink);
    s
}

pub fn range_count(env: &Env) -> Sample {
    let db = Lmdb::open(env.read_db());
    let t = Timer::start();
    let total = count_ranges(&db, &env.ranges);
    let s = t.stop(env.ranges.len() as u64);
    assert_eq!(total, env.ranges.len() as u64 * env.range_width);
    s
}

/// kvidxCountRange done directly: MDB_SET_RANGE to the start, MDB_NEXT to
/// the end, one cursor and one read transaction for all of `ranges`;
/// returns the sum of the counts.
fn count_ranges(db: &Lmdb, ranges: &[(u64, u64)]) -> u64 {
    let txn = db.read();
    let mut total = 0u64;
    unsafe {
        let mut cur = null_mut();
        ok(ffi::mdb_cursor_open(txn, db.data, &mut cur), "mdb_cursor_open");
        for &(a, b) in ranges {
            let mut k = kv(&a);
            let mut v = empty();
            let mut rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_SET_RANGE);
            while rc == 0 && u64_at(&k, 0) <= b {
                total += 1;
                rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_NEXT);
            }
        }
        ffi::mdb_cursor_close(cur);
        ffi::mdb_txn_abort(txn);
    }
    total
}

/// Opens a fresh copy of `template`, times `body` in one write transaction
/// (begin and commit included).
fn in_txn(env: &Env, template: &Path, body: &mut dyn FnMut(&Lmdb, *mut ffi::MDB_txn) -> u64) -> Sample {
    let path = env.fresh_copy(template, "raw-w");
    let s = {
        let db = Lmdb::open(&path);
        let t = Timer::start();
        let txn = db.write();
        let n = body(&db, txn);
        ok(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit");
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn delete(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, txn| {
        for k in 1..=env.n {
            unsafe { del(txn, db.data, k) };
        }
        env.n
    })
}

// ----------------------------------------------------------------------
// The original's rows (kvidxkit 0.8 src/kvidxkit-bench.c): the same
// operations, transactions and commit cadence.

/// `keys` put (MDB_NOOVERWRITE) with `data`, `every` per write transaction.
fn insert_every(db: &Lmdb, keys: &mut dyn Iterator<Item = u64>, data: &[u8], every: u64) -> u64 {
    let mut buf = Vec::new();
    packed(&mut buf, TERM, 0, data);
    let mut n = 0;
    let mut txn = db.write();
    for k in keys {
        buf[8..16].copy_from_slice(&(k & 0xff).to_ne_bytes());
        unsafe { put(txn, db.data, k, &buf, ffi::MDB_NOOVERWRITE) };
        n += 1;
        if n % every == 0 {
            ok(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit");
            txn = db.write();
        }
    }
    ok(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit");
    n
}

fn write_every(env: &Env, keys: &mut dyn Iterator<Item = u64>, data: &[u8], every: u64) -> Sample {
    let path = env.fresh("raw-ins");
    let s = {
        let db = Lmdb::open(&path);
        let t = Timer::start();
        let n = insert_every(&db, keys, data, every);
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn seq_insert_10k(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.n), &env.value, INSERT_COMMIT)
}

pub fn rand_insert_10k(env: &Env) -> Sample {
    write_every(env, &mut env.rand_insert_keys.iter().copied(), &env.value, INSERT_COMMIT)
}

pub fn mixed(env: &Env) -> Sample {
    let (_, tmpl) = env.template("half", build_half);
    let path = env.fresh_copy(&tmpl, "raw-mixed");
    let s = {
        let db = Lmdb::open(&path);
        let mut buf = Vec::new();
        packed(&mut buf, TERM, 0, &env.value);
        let mut next = env.mixed_base + 1;
        let mut sink = 0u64;
        let t = Timer::start();
        for chunk in env.mixed_ops.chunks(MIXED_COMMIT as usize) {
            let txn = db.write();
            for &k in chunk {
                unsafe {
                    if k == 0 {
                        buf[8..16].copy_from_slice(&(next & 0xff).to_ne_bytes());
                        put(txn, db.data, next, &buf, ffi::MDB_NOOVERWRITE);
                        next += 1;
                    } else {
                        let v = get(txn, db.data, k);
                        let data = &bytes(&v)[HEADER..];
                        sink = sink.wrapping_add(u64_at(&v, 0) ^ u64_at(&v, 8) ^ data.len() as u64 ^ data[0] as u64);
                    }
                }
            }
            ok(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit");
        }
        let s = t.stop(env.mixed_ops.len() as u64);
        black_box(sink);
        s
    };
    remove_db(&path);
    s
}

/// One write transaction of BATCH puts per kvidxInsertBatch call.
pub fn batch_insert(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.n), &env.value, BATCH as u64)
}

/// Whole passes over the wide ranges until `MIN_RUN` has elapsed, a read
/// transaction per pass.
pub fn wide_count(env: &Env) -> Sample {
    let db = Lmdb::open(env.read_db());
    timed_passes(|| {
        assert_eq!(count_ranges(&db, &env.wide_ranges), env.wide_total);
        env.wide_ranges.len() as u64
    })
}

/// "The entry after k" done directly: one read transaction and one cursor
/// for the row, MDB_SET_RANGE(k + 1) per entry (a stateless next-after-k,
/// as GetNext's contract is; a cursor walk with MDB_NEXT is the iterator
/// scan's ceiling).
pub fn getnext_scan(env: &Env) -> Sample {
    let db = Lmdb::open(env.read_db());
    let t = Timer::start();
    let txn = db.read();
    let (mut n, mut sink, mut key) = (0u64, 0u64, 0u64);
    unsafe {
        let mut cur = null_mut();
        ok(ffi::mdb_cursor_open(txn, db.data, &mut cur), "mdb_cursor_open");
        while let Some(from) = key.checked_add(1) {
            let mut k = kv(&from);
            let mut v = empty();
            let rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_SET_RANGE);
            if rc == ffi::MDB_NOTFOUND {
                break;
            }
            ok(rc, "mdb_cursor_get");
            let next = u64_at(&k, 0);
            let data = &bytes(&v)[HEADER..];
            sink = sink.wrapping_add(next ^ u64_at(&v, 0) ^ u64_at(&v, 8) ^ data.len() as u64 ^ data[0] as u64);
            key = next;
            n += 1;
        }
        ffi::mdb_cursor_close(cur);
        ffi::mdb_txn_abort(txn);
    }
    let s = t.stop(n);
    black_box(sink);
    assert_eq!(n, env.n);
    s
}

pub fn large_insert(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.large_n), &env.large_value, LARGE_COMMIT)
}

/// mdb_get of every key of the large-value template in one read
/// transaction (values read in place, from their overflow pages); the
/// first and last byte of every value are looked at.
pub fn large_read(env: &Env) -> Sample {
    let tmpl = env.read_template("large", build_large);
    let db = Lmdb::open(&tmpl);
    let mut sink = 0u64;
    let t = Timer::start();
    let txn = db.read();
    for &k in &env.large_read_keys {
        unsafe {
            let v = get(txn, db.data, k);
            let data = &bytes(&v)[HEADER..];
            sink = sink.wrapping_add(
                u64_at(&v, 0) ^ u64_at(&v, 8) ^ data.len() as u64 ^ data[0] as u64 ^ data[data.len() - 1] as u64,
            );
        }
    }
    unsafe { ffi::mdb_txn_abort(txn) };
    let s = t.stop(env.large_read_keys.len() as u64);
    black_box(sink);
    s
}

pub fn delete_chunked(env: &Env) -> Sample {
    let path = env.fresh_copy(&env.populated_raw, "raw-del");
    let s = {
        let db = Lmdb::open(&path);
        let t = Timer::start();
        let mut key = 1u64;
        while key <= env.n {
            let last = (key + DELETE_COMMIT - 1).min(env.n);
            let txn = db.write();
            for k in key..=last {
                unsafe { del(txn, db.data, k) };
            }
            ok(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit");
            key = last + 1;
        }
        t.stop(env.n)
    };
    remove_db(&path);
    s
}

// ----------------------------------------------------------------------
// Storage primitives: mdb_get then mdb_put in one write transaction. The
// value read is copied out before the put (a put may rewrite the page it
// points into), as any caller keeping the old value must.

pub fn get_and_set(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, txn| {
        let (mut old, mut new) = (Vec::new(), Vec::new());
        let mut sink = 0u64;
        for &k in &env.prim_keys {
            unsafe {
                let v = get(txn, db.data, k);
                old.clear();
                old.extend_from_slice(bytes(&v));
                sink = sink.wrapping_add(old[0] as u64 ^ old[8] as u64 ^ old[HEADER] as u64);
                packed(&mut new, TERM + 1, k & 0xff, &env.new_value);
                put(txn, db.data, k, &new, 0);
            }
        }
        black_box(sink);
        env.prim_keys.len() as u64
    })
}

pub fn compare_and_swap(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, txn| {
        let mut new = Vec::new();
        for &k in &env.prim_keys {
            unsafe {
                let v = get(txn, db.data, k);
                assert!(bytes(&v)[HEADER..] == env.value[..]);
                packed(&mut new, TERM + 1, k & 0xff, &env.new_value);
                put(txn, db.data, k, &new, 0);
            }
        }
        env.prim_keys.len() as u64
    })
}

pub fn append(env: &Env) -> Sample {
    let (_, tmpl) = env.template("append", build_append);
    in_txn(env, &tmpl, &mut |db, txn| {
        let mut buf = Vec::new();
        for &k in &env.append_keys {
            unsafe {
                let v = get(txn, db.data, k);
                buf.clear();
                buf.extend_from_slice(bytes(&v));
                buf.extend_from_slice(&env.append_value);
                assert_eq!(buf.len(), HEADER + APPEND_BASE + APPEND_LEN);
                put(txn, db.data, k, &buf, 0);
            }
        }
        env.append_keys.len() as u64
    })
}

pub fn set_expire(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, txn| {
        // The same work as kvidxSetExpire: the key must exist (NOT_FOUND otherwise).
        for &k in &env.prim_keys {
            unsafe {
                get(txn, db.data, k);
                put(txn, db.ttl, k, &(now_ms() + FAR_TTL_MS).to_ne_bytes(), 0)
            };
        }
        env.prim_keys.len() as u64
    })
}

pub fn expire_scan(env: &Env) -> Sample {
    let (_, tmpl) = env.template("expired", build_expired);
    in_txn(env, &tmpl, &mut |db, txn| {
        for &k in &env.prim_keys_sorted {
            unsafe {
                del(txn, db.data, k);
                del(txn, db.ttl, k);
            }
        }
        env.prim_keys.len() as u64
    })
}

// ----------------------------------------------------------------------
// Export/import table: the engine work of kvidxExport / kvidxImport.

/// "raw scan+write": a cursor walk of the data database in one read
/// transaction, every entry written to `out` in the binary format.
pub fn export_scan_write(x: &XEnv, out: &Path) -> XSample {
    let db = Lmdb::open(&x.populated_raw);
    let t = Instant::now();
    let mut w = BinWriter::create(out);
    let txn = db.read();
    unsafe {
        let mut cur = null_mut();
        ok(ffi::mdb_cursor_open(txn, db.data, &mut cur), "mdb_cursor_open");
        let (mut k, mut v) = (empty(), empty());
        let mut rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_FIRST);
        while rc == 0 {
            w.entry(u64_at(&k, 0), u64_at(&v, 0), u64_at(&v, 8), &bytes(&v)[HEADER..]);
            rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_NEXT);
        }
        assert_eq!(rc, ffi::MDB_NOTFOUND);
        ffi::mdb_cursor_close(cur);
        ffi::mdb_txn_abort(txn);
    }
    let (n, bytes) = w.finish();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(n, x.n);
    XSample { secs, bytes }
}

/// "raw insert": the binary export read with a BufReader, every entry put
/// (MDB_NOOVERWRITE) into a fresh environment in one write transaction.
pub fn import_insert(x: &XEnv) -> XSample {
    let (file, file_bytes) = x.file(BINARY);
    let path = x.fresh("raw-import", x.engine.suffix);
    let secs = {
        let db = Lmdb::open(&path);
        let mut buf = Vec::new();
        let t = Instant::now();
        let (mut r, count) = BinReader::open(&file);
        let txn = db.write();
        while let Some((k, term, cmd)) = r.next_entry() {
            packed(&mut buf, term, cmd, &r.data);
            unsafe { put(txn, db.data, k, &buf, ffi::MDB_NOOVERWRITE) };
        }
        ok(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(count, x.n);
        secs
    };
    remove_db(&path);
    XSample { secs, bytes: file_bytes }
}
