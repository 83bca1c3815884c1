//! The ceiling for the RocksDB engine (a build with the `rocksdb` feature):
//! the same operations done directly with RocksDB's C API on the layout of
//! src/engines/rocksdb.rs (key = 8 bytes big-endian; value = term and cmd
//! as native u64, then the data; TTL record = `0x00 'T' 'T' 'L'` + the key
//! big-endian, value the native 8-byte expiry), with the engine's options
//! (32 MiB LRU block cache, 4 KiB blocks, a 10-bit Bloom filter, LOG at the
//! header level; writes synced, as a plain kvidxOpen). As the engine does:
//! a transaction is a write batch with index whose reads see its writes,
//! an insert checks the key is absent, a delete that the key is present,
//! and a scan takes only 8-byte keys. A read row keeps one iterator.

use std::ffi::{CStr, CString, c_char};
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::null_mut;
use std::time::Instant;

use kvidxkit::engines::rocksdb::{data_key, ffi, ttl_key};

use crate::export::{BINARY, BinReader, BinWriter, XEnv, XSample};
use crate::harness::{
    APPEND_BASE, APPEND_LEN, BATCH, DELETE_COMMIT, Env, INSERT_COMMIT, LARGE_COMMIT, MIXED_COMMIT, Sample, Timer,
    remove_db, timed_passes,
};
use crate::kv::{FAR_TTL_MS, TERM, build_half, build_large};
use crate::raw::now_ms;

const HEADER: usize = 16;

#[track_caller]
fn ok(err: *mut c_char, what: &str) {
    if !err.is_null() {
        let msg = unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned();
        panic!("{what}: {msg}");
    }
}

/// An open database with the engine's options.
pub struct Rocks {
    db: *mut ffi::rocksdb_t,
    opts: *mut ffi::rocksdb_options_t,
    table: *mut ffi::rocksdb_block_based_table_options_t,
    cache: *mut ffi::rocksdb_cache_t,
    ro: *mut ffi::rocksdb_readoptions_t,
    wo: *mut ffi::rocksdb_writeoptions_t,
}

impl Rocks {
    pub fn open(path: &Path) -> Rocks {
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        unsafe {
            let opts = ffi::rocksdb_options_create();
            let table = ffi::rocksdb_block_based_options_create();
            let cache = ffi::rocksdb_cache_create_lru(32 << 20);
            ffi::rocksdb_block_based_options_set_block_size(table, 4096);
            ffi::rocksdb_block_based_options_set_block_cache(table, cache);
            ffi::rocksdb_block_based_options_set_filter_policy(
                table,
                ffi::rocksdb_filterpolicy_create_bloom_full(10.0),
            );
            ffi::rocksdb_options_set_block_based_table_factory(opts, table);
            ffi::rocksdb_options_set_create_if_missing(opts, 1);
            ffi::rocksdb_options_set_info_log_level(opts, ffi::INFO_LOG_HEADER);
            let mut err = null_mut();
            let db = ffi::rocksdb_open(opts, c.as_ptr(), &mut err);
            ok(err, "rocksdb_open");
            let wo = ffi::rocksdb_writeoptions_create();
            ffi::rocksdb_writeoptions_set_sync(wo, 1);
            Rocks { db, opts, table, cache, ro: ffi::rocksdb_readoptions_create(), wo }
        }
    }

    /// A transaction: a write batch with index (one entry per key).
    fn begin(&self) -> *mut ffi::rocksdb_writebatch_wi_t {
        unsafe { ffi::rocksdb_writebatch_wi_create(0, 1) }
    }

    /// Writes the batch (an empty one is not written, as the engine's
    /// commit skips it) and destroys it.
    fn commit(&self, b: *mut ffi::rocksdb_writebatch_wi_t) {
        let mut err = null_mut();
        unsafe {
            if ffi::rocksdb_writebatch_wi_count(b) > 0 {
                ffi::rocksdb_write_writebatch_wi(self.db, self.wo, b, &mut err);
                ok(err, "rocksdb_write_writebatch_wi");
            }
            ffi::rocksdb_writebatch_wi_destroy(b);
        }
    }

    /// The value of `k` as the transaction `b` sees it (a malloc'ed copy).
    #[inline]
    unsafe fn get_in(&self, b: *mut ffi::rocksdb_writebatch_wi_t, k: &[u8]) -> Option<(*mut c_char, usize)> {
        let (mut n, mut err) = (0, null_mut());
        let p = unsafe {
            ffi::rocksdb_writebatch_wi_get_from_batch_and_db(
                b,
                self.db,
                self.ro,
                k.as_ptr() as _,
                k.len(),
                &mut n,
                &mut err,
            )
        };
        ok(err, "rocksdb_writebatch_wi_get_from_batch_and_db");
        if p.is_null() { None } else { Some((p, n)) }
    }

    fn iter(&self) -> *mut ffi::rocksdb_iterator_t {
        unsafe { ffi::rocksdb_create_iterator(self.db, self.ro) }
    }
}

impl Drop for Rocks {
    fn drop(&mut self) {
        unsafe {
            ffi::rocksdb_close(self.db);
            ffi::rocksdb_readoptions_destroy(self.ro);
            ffi::rocksdb_writeoptions_destroy(self.wo);
            ffi::rocksdb_options_destroy(self.opts);
            ffi::rocksdb_block_based_options_destroy(self.table);
            ffi::rocksdb_cache_destroy(self.cache);
        }
    }
}

#[inline]
unsafe fn bytes<'a>(p: *const c_char, n: usize) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(p as *const u8, n) }
}

#[inline]
fn u64_at(v: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(v[off..off + 8].try_into().unwrap())
}

/// The stored value of a key: header (term, cmd) then the data.
fn packed(buf: &mut Vec<u8>, term: u64, cmd: u64, data: &[u8]) {
    buf.clear();
    buf.extend_from_slice(&term.to_ne_bytes());
    buf.extend_from_slice(&cmd.to_ne_bytes());
    buf.extend_from_slice(data);
}

#[inline]
unsafe fn put(b: *mut ffi::rocksdb_writebatch_wi_t, k: &[u8], v: &[u8]) {
    unsafe { ffi::rocksdb_writebatch_wi_put(b, k.as_ptr() as _, k.len(), v.as_ptr() as _, v.len()) }
}

#[inline]
unsafe fn del(b: *mut ffi::rocksdb_writebatch_wi_t, k: &[u8]) {
    unsafe { ffi::rocksdb_writebatch_wi_delete(b, k.as_ptr() as _, k.len()) }
}

fn write_rows(env: &Env, keys: &mut dyn Iterator<Item = u64>) -> Sample {
    let path = env.fresh("raw-ins");
    let s = {
        let db = Rocks::open(&path);
        let mut buf = Vec::new();
        packed(&mut buf, TERM, 0, &env.value);
        let t = Timer::start();
        let b = db.begin();
        let mut n = 0;
        for k in keys {
            let key = data_key(k);
            unsafe {
                if let Some((p, _)) = db.get_in(b, &key) {
                    ffi::rocksdb_free(p as _);
                    panic!("key {k} exists");
                }
                buf[8..16].copy_from_slice(&(k & 0xff).to_ne_bytes());
                put(b, &key, &buf);
            }
            n += 1;
        }
        db.commit(b);
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
    let db = Rocks::open(&env.populated_raw);
    let t = Timer::start();
    let mut n = 0u64;
    let mut sink = 0u64;
    for k in keys {
        let key = data_key(k);
        unsafe {
            let mut err = null_mut();
            let ps = ffi::rocksdb_get_pinned(db.db, db.ro, key.as_ptr() as _, 8, &mut err);
            ok(err, "rocksdb_get_pinned");
            assert!(!ps.is_null(), "key {k} missing");
            let mut len = 0;
            let v = bytes(ffi::rocksdb_pinnableslice_value(ps, &mut len), len);
            let data = &v[HEADER..];
            sink = sink.wrapping_add(u64_at(v, 0) ^ u64_at(v, 8) ^ data.len() as u64 ^ data[0] as u64);
            ffi::rocksdb_pinnableslice_destroy(ps);
        }
        n += 1;
    }
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
    let db = Rocks::open(&env.populated_raw);
    let mut sink = 0u64;
    let s = timed_passes(|| {
        let mut n = 0u64;
        unsafe {
            let it = db.iter();
            ffi::rocksdb_iter_seek_to_first(it);
            while ffi::rocksdb_iter_valid(it) != 0 {
                let (mut kl, mut vl) = (0, 0);
                let k = bytes(ffi::rocksdb_iter_key(it, &mut kl), kl);
                if kl == 8 {
                    let v = bytes(ffi::rocksdb_iter_value(it, &mut vl), vl);
                    let key = u64::from_be_bytes(k.try_into().unwrap());
                    let data = &v[HEADER..];
                    sink = sink.wrapping_add(key ^ u64_at(v, 0) ^ u64_at(v, 8) ^ data.len() as u64 ^ data[0] as u64);
                    n += 1;
                }
                ffi::rocksdb_iter_next(it);
            }
            let mut err = null_mut();
            ffi::rocksdb_iter_get_error(it, &mut err);
            ok(err, "rocksdb_iter");
            ffi::rocksdb_iter_destroy(it);
        }
        assert_eq!(n, env.n);
        n
    });
    black_box(sink);
    s
}

pub fn range_count(env: &Env) -> Sample {
    let db = Rocks::open(&env.populated_raw);
    let t = Timer::start();
    let mut total = 0u64;
    unsafe {
        let it = db.iter();
        for &(a, b) in &env.ranges {
            ffi::rocksdb_iter_seek(it, data_key(a).as_ptr() as _, 8);
            while ffi::rocksdb_iter_valid(it) != 0 {
                let mut kl = 0;
                let k = bytes(ffi::rocksdb_iter_key(it, &mut kl), kl);
                if kl == 8 {
                    if u64::from_be_bytes(k.try_into().unwrap()) > b {
                        break;
                    }
                    total += 1;
                }
                ffi::rocksdb_iter_next(it);
            }
        }
        ffi::rocksdb_iter_destroy(it);
    }
    let s = t.stop(env.ranges.len() as u64);
    assert_eq!(total, env.ranges.len() as u64 * env.range_width);
    s
}

/// Opens a fresh copy of `template`, times `body` in one transaction
/// (begin and commit included).
fn in_txn(
    env: &Env,
    template: &Path,
    body: &mut dyn FnMut(&Rocks, *mut ffi::rocksdb_writebatch_wi_t) -> u64,
) -> Sample {
    let path = env.fresh_copy(template, "raw-w");
    let s = {
        let db = Rocks::open(&path);
        let t = Timer::start();
        let b = db.begin();
        let n = body(&db, b);
        db.commit(b);
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn delete(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, b| {
        for k in 1..=env.n {
            let key = data_key(k);
            unsafe {
                let (p, _) = db.get_in(b, &key).expect("key present");
                ffi::rocksdb_free(p as _);
                del(b, &key);
            }
        }
        env.n
    })
}

// ----------------------------------------------------------------------
// Storage primitives: a read in the transaction, then the write.

pub fn get_and_set(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, b| {
        let (mut old, mut new) = (Vec::new(), Vec::new());
        let mut sink = 0u64;
        for &k in &env.prim_keys {
            let key = data_key(k);
            unsafe {
                let (p, n) = db.get_in(b, &key).expect("key present");
                old.clear();
                old.extend_from_slice(bytes(p, n));
                ffi::rocksdb_free(p as _);
                sink = sink.wrapping_add(old[0] as u64 ^ old[8] as u64 ^ old[HEADER] as u64);
                packed(&mut new, TERM + 1, k & 0xff, &env.new_value);
                put(b, &key, &new);
            }
        }
        black_box(sink);
        env.prim_keys.len() as u64
    })
}

pub fn compare_and_swap(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, b| {
        let mut new = Vec::new();
        for &k in &env.prim_keys {
            let key = data_key(k);
            unsafe {
                let (p, n) = db.get_in(b, &key).expect("key present");
                assert!(bytes(p, n)[HEADER..] == env.value[..]);
                ffi::rocksdb_free(p as _);
                packed(&mut new, TERM + 1, k & 0xff, &env.new_value);
                put(b, &key, &new);
            }
        }
        env.prim_keys.len() as u64
    })
}

pub fn append(env: &Env) -> Sample {
    let (_, tmpl) = env.template("append", crate::kv::build_append);
    in_txn(env, &tmpl, &mut |db, b| {
        let mut buf = Vec::new();
        for &k in &env.append_keys {
            let key = data_key(k);
            unsafe {
                let (p, n) = db.get_in(b, &key).expect("key present");
                buf.clear();
                buf.extend_from_slice(bytes(p, n));
                ffi::rocksdb_free(p as _);
                buf.extend_from_slice(&env.append_value);
                assert_eq!(buf.len(), HEADER + APPEND_BASE + APPEND_LEN);
                put(b, &key, &buf);
            }
        }
        env.append_keys.len() as u64
    })
}

pub fn set_expire(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |db, b| {
        // The same work as kvidxSetExpire: the key must exist.
        for &k in &env.prim_keys {
            unsafe {
                let (p, _) = db.get_in(b, &data_key(k)).expect("key present");
                ffi::rocksdb_free(p as _);
                put(b, &ttl_key(k), &(now_ms() + FAR_TTL_MS).to_ne_bytes());
            }
        }
        env.prim_keys.len() as u64
    })
}

pub fn expire_scan(env: &Env) -> Sample {
    let (_, tmpl) = env.template("expired", crate::kv::build_expired);
    in_txn(env, &tmpl, &mut |db, b| {
        // Each expired entry removed (counted when it was there) with its
        // TTL record.
        let mut n = 0;
        for &k in &env.prim_keys_sorted {
            let key = data_key(k);
            unsafe {
                if let Some((p, _)) = db.get_in(b, &key) {
                    ffi::rocksdb_free(p as _);
                    n += 1;
                }
                del(b, &key);
                del(b, &ttl_key(k));
            }
        }
        assert_eq!(n, env.prim_keys.len() as u64);
        n
    })
}

// ----------------------------------------------------------------------
// The original's rows (kvidxkit 0.8 src/kvidxkit-bench.c): the same
// operations, transactions and commit cadence.

/// Inserts `k` into the batch after checking it is absent (as an insert
/// does); `buf` holds the packed value, its cmd set here.
#[inline]
unsafe fn insert_in(db: &Rocks, b: *mut ffi::rocksdb_writebatch_wi_t, k: u64, buf: &mut [u8]) {
    let key = data_key(k);
    unsafe {
        if let Some((p, _)) = db.get_in(b, &key) {
            ffi::rocksdb_free(p as _);
            panic!("key {k} exists");
        }
        buf[8..16].copy_from_slice(&(k & 0xff).to_ne_bytes());
        put(b, &key, buf);
    }
}

/// `keys` inserted with `data`, `every` per write batch.
fn insert_every(db: &Rocks, keys: &mut dyn Iterator<Item = u64>, data: &[u8], every: u64) -> u64 {
    let mut buf = Vec::new();
    packed(&mut buf, TERM, 0, data);
    let mut n = 0;
    let mut b = db.begin();
    for k in keys {
        unsafe { insert_in(db, b, k, &mut buf) };
        n += 1;
        if n % every == 0 {
            db.commit(b);
            b = db.begin();
        }
    }
    db.commit(b);
    n
}

fn write_every(env: &Env, keys: &mut dyn Iterator<Item = u64>, data: &[u8], every: u64) -> Sample {
    let path = env.fresh("raw-ins");
    let s = {
        let db = Rocks::open(&path);
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

/// Mixed 80/20 on the half template: a write batch per MIXED_COMMIT
/// operations, reads through the batch (as reads in a transaction are).
pub fn mixed(env: &Env) -> Sample {
    let (_, tmpl) = env.template("half", build_half);
    let path = env.fresh_copy(&tmpl, "raw-mixed");
    let s = {
        let db = Rocks::open(&path);
        let mut buf = Vec::new();
        packed(&mut buf, TERM, 0, &env.value);
        let mut next = env.mixed_base + 1;
        let mut sink = 0u64;
        let t = Timer::start();
        for chunk in env.mixed_ops.chunks(MIXED_COMMIT as usize) {
            let b = db.begin();
            for &k in chunk {
                unsafe {
                    if k == 0 {
                        insert_in(&db, b, next, &mut buf);
                        next += 1;
                    } else {
                        let (p, n) = db.get_in(b, &data_key(k)).expect("key present");
                        let v = bytes(p, n);
                        let data = &v[HEADER..];
                        sink = sink.wrapping_add(u64_at(v, 0) ^ u64_at(v, 8) ^ data.len() as u64 ^ data[0] as u64);
                        ffi::rocksdb_free(p as _);
                    }
                }
            }
            db.commit(b);
        }
        let s = t.stop(env.mixed_ops.len() as u64);
        black_box(sink);
        s
    };
    remove_db(&path);
    s
}

/// One write batch of BATCH inserts per kvidxInsertBatch call.
pub fn batch_insert(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.n), &env.value, BATCH as u64)
}

/// Entries in the ranges: one iterator, seek(start) then next up to end
/// per range, only 8-byte keys counted.
fn count_ranges(db: &Rocks, ranges: &[(u64, u64)]) -> u64 {
    let mut total = 0u64;
    unsafe {
        let it = db.iter();
        for &(a, b) in ranges {
            ffi::rocksdb_iter_seek(it, data_key(a).as_ptr() as _, 8);
            while ffi::rocksdb_iter_valid(it) != 0 {
                let mut kl = 0;
                let k = bytes(ffi::rocksdb_iter_key(it, &mut kl), kl);
                if kl == 8 {
                    if u64::from_be_bytes(k.try_into().unwrap()) > b {
                        break;
                    }
                    total += 1;
                }
                ffi::rocksdb_iter_next(it);
            }
        }
        ffi::rocksdb_iter_destroy(it);
    }
    total
}

/// Whole passes over the wide ranges until `MIN_RUN` has elapsed, an
/// iterator per pass.
pub fn wide_count(env: &Env) -> Sample {
    let db = Rocks::open(&env.populated_raw);
    timed_passes(|| {
        assert_eq!(count_ranges(&db, &env.wide_ranges), env.wide_total);
        env.wide_ranges.len() as u64
    })
}

/// "The entry after k" done directly: one iterator for the row, seek(k + 1)
/// per entry, past any record that is not an 8-byte key (a stateless
/// next-after-k, as GetNext's contract is; walking the iterator with next
/// is the iterator scan's ceiling).
pub fn getnext_scan(env: &Env) -> Sample {
    let db = Rocks::open(&env.populated_raw);
    let t = Timer::start();
    let (mut n, mut sink, mut key) = (0u64, 0u64, 0u64);
    unsafe {
        let it = db.iter();
        while let Some(from) = key.checked_add(1) {
            ffi::rocksdb_iter_seek(it, data_key(from).as_ptr() as _, 8);
            let mut kl = 0;
            while ffi::rocksdb_iter_valid(it) != 0 {
                ffi::rocksdb_iter_key(it, &mut kl);
                if kl == 8 {
                    break;
                }
                ffi::rocksdb_iter_next(it);
            }
            if ffi::rocksdb_iter_valid(it) == 0 {
                break;
            }
            let (mut vl, mut kl) = (0, 0);
            let next = u64::from_be_bytes(bytes(ffi::rocksdb_iter_key(it, &mut kl), kl).try_into().unwrap());
            let v = bytes(ffi::rocksdb_iter_value(it, &mut vl), vl);
            let data = &v[HEADER..];
            sink = sink.wrapping_add(next ^ u64_at(v, 0) ^ u64_at(v, 8) ^ data.len() as u64 ^ data[0] as u64);
            key = next;
            n += 1;
        }
        let mut err = null_mut();
        ffi::rocksdb_iter_get_error(it, &mut err);
        ok(err, "rocksdb_iter");
        ffi::rocksdb_iter_destroy(it);
    }
    let s = t.stop(n);
    black_box(sink);
    assert_eq!(n, env.n);
    s
}

pub fn large_insert(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.large_n), &env.large_value, LARGE_COMMIT)
}

/// rocksdb_get_pinned of every key of the large-value template (no copy);
/// the first and last byte of every value are looked at.
pub fn large_read(env: &Env) -> Sample {
    let (_, tmpl) = env.template("large", build_large);
    let db = Rocks::open(&tmpl);
    let mut sink = 0u64;
    let t = Timer::start();
    for &k in &env.large_read_keys {
        let key = data_key(k);
        unsafe {
            let mut err = null_mut();
            let ps = ffi::rocksdb_get_pinned(db.db, db.ro, key.as_ptr() as _, 8, &mut err);
            ok(err, "rocksdb_get_pinned");
            assert!(!ps.is_null(), "key {k} missing");
            let mut len = 0;
            let v = bytes(ffi::rocksdb_pinnableslice_value(ps, &mut len), len);
            let data = &v[HEADER..];
            sink = sink.wrapping_add(
                u64_at(v, 0) ^ u64_at(v, 8) ^ data.len() as u64 ^ data[0] as u64 ^ data[data.len() - 1] as u64,
            );
            ffi::rocksdb_pinnableslice_destroy(ps);
        }
    }
    let s = t.stop(env.large_read_keys.len() as u64);
    black_box(sink);
    s
}

/// Every key removed (checked present) in key order, a write batch per
/// DELETE_COMMIT.
pub fn delete_chunked(env: &Env) -> Sample {
    let path = env.fresh_copy(&env.populated_raw, "raw-del");
    let s = {
        let db = Rocks::open(&path);
        let t = Timer::start();
        let mut key = 1u64;
        while key <= env.n {
            let last = (key + DELETE_COMMIT - 1).min(env.n);
            let b = db.begin();
            for k in key..=last {
                let dk = data_key(k);
                unsafe {
                    let (p, _) = db.get_in(b, &dk).expect("key present");
                    ffi::rocksdb_free(p as _);
                    del(b, &dk);
                }
            }
            db.commit(b);
            key = last + 1;
        }
        t.stop(env.n)
    };
    remove_db(&path);
    s
}

// ----------------------------------------------------------------------
// Export/import table: the engine work of kvidxExport / kvidxImport.

/// "raw scan+write": an iterator over the database, every entry written to
/// `out` in the binary format.
pub fn export_scan_write(x: &XEnv, out: &Path) -> XSample {
    let db = Rocks::open(&x.populated_raw);
    let t = Instant::now();
    let mut w = BinWriter::create(out);
    unsafe {
        let it = db.iter();
        ffi::rocksdb_iter_seek_to_first(it);
        while ffi::rocksdb_iter_valid(it) != 0 {
            let (mut kl, mut vl) = (0, 0);
            let k = bytes(ffi::rocksdb_iter_key(it, &mut kl), kl);
            if kl == 8 {
                let v = bytes(ffi::rocksdb_iter_value(it, &mut vl), vl);
                w.entry(u64::from_be_bytes(k.try_into().unwrap()), u64_at(v, 0), u64_at(v, 8), &v[HEADER..]);
            }
            ffi::rocksdb_iter_next(it);
        }
        ffi::rocksdb_iter_destroy(it);
    }
    let (n, bytes) = w.finish();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(n, x.n);
    XSample { secs, bytes }
}

/// "raw insert": the binary export read with a BufReader, every entry
/// inserted (absent checked) into a fresh database in one transaction.
pub fn import_insert(x: &XEnv) -> XSample {
    let (file, file_bytes) = x.file(BINARY);
    let path = x.fresh("raw-import", x.engine.suffix);
    let secs = {
        let db = Rocks::open(&path);
        let mut buf = Vec::new();
        let t = Instant::now();
        let (mut r, count) = BinReader::open(&file);
        let b = db.begin();
        while let Some((k, term, cmd)) = r.next_entry() {
            let key = data_key(k);
            unsafe {
                assert!(db.get_in(b, &key).is_none(), "duplicate {k}");
                packed(&mut buf, term, cmd, &r.data);
                put(b, &key, &buf);
            }
        }
        db.commit(b);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(count, x.n);
        secs
    };
    remove_db(&path);
    XSample { secs, bytes: file_bytes }
}
