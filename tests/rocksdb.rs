//! RocksDB-specific behaviour (a build with the `rocksdb` feature): the
//! original's directory layout written and read with raw RocksDB calls in
//! both directions, the TTL records that the original's scans returned as
//! phantom keys (D24), foreign records, save points of the write batch,
//! opening twice (same process, another process), read-only opens,
//! damaged and missing files, a full disk, statistics and configuration.
#![cfg(feature = "rocksdb")]

mod common;
#[path = "support/proc.rs"]
mod proc;

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::time::{Duration, UNIX_EPOCH};

use kvidxkit::OpenRequest;
use kvidxkit::engines::Rocksdb;
use kvidxkit::engines::rocksdb::{TTL_PREFIX, classify, data_key, ffi, ttl_key};
use kvidxkit::formats::{ExportOptions, Format};
use kvidxkit::{Config, Dir, Engine, ErrorCode, Store, SyncMode, Ttl};

// ----------------------------------------------------------------------
// Raw RocksDB, as the original opened it (default options, create_if_missing)

struct Raw {
    db: *mut ffi::rocksdb_t,
    opts: *mut ffi::rocksdb_options_t,
    ro: *mut ffi::rocksdb_readoptions_t,
    wo: *mut ffi::rocksdb_writeoptions_t,
}

fn ok(op: &str, err: *mut c_char) {
    if !err.is_null() {
        let msg = unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned();
        panic!("{op}: {msg}");
    }
}

impl Raw {
    fn open(dir: &Path) -> Raw {
        let c = CString::new(dir.to_str().unwrap()).unwrap();
        unsafe {
            let opts = ffi::rocksdb_options_create();
            ffi::rocksdb_options_set_create_if_missing(opts, 1);
            let mut err = null_mut();
            let db = ffi::rocksdb_open(opts, c.as_ptr(), &mut err);
            ok("rocksdb_open", err);
            // Not synced: nothing here needs to survive a power cut.
            let wo = ffi::rocksdb_writeoptions_create();
            Raw { db, opts, ro: ffi::rocksdb_readoptions_create(), wo }
        }
    }

    fn put(&self, k: &[u8], v: &[u8]) {
        let mut err = null_mut();
        unsafe { ffi::rocksdb_put(self.db, self.wo, k.as_ptr() as _, k.len(), v.as_ptr() as _, v.len(), &mut err) };
        ok("rocksdb_put", err);
    }

    fn get(&self, k: &[u8]) -> Option<Vec<u8>> {
        let (mut n, mut err) = (0, null_mut());
        unsafe {
            let p = ffi::rocksdb_get(self.db, self.ro, k.as_ptr() as _, k.len(), &mut n, &mut err);
            ok("rocksdb_get", err);
            if p.is_null() {
                return None;
            }
            let v = std::slice::from_raw_parts(p as *const u8, n).to_vec();
            ffi::rocksdb_free(p as _);
            Some(v)
        }
    }

    /// Every record of the database, bytewise order.
    fn all(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        unsafe {
            let it = ffi::rocksdb_create_iterator(self.db, self.ro);
            ffi::rocksdb_iter_seek_to_first(it);
            while ffi::rocksdb_iter_valid(it) != 0 {
                let (mut kl, mut vl) = (0, 0);
                let k = ffi::rocksdb_iter_key(it, &mut kl);
                let v = ffi::rocksdb_iter_value(it, &mut vl);
                out.push((
                    std::slice::from_raw_parts(k as *const u8, kl).to_vec(),
                    std::slice::from_raw_parts(v as *const u8, vl).to_vec(),
                ));
                ffi::rocksdb_iter_next(it);
            }
            let mut err = null_mut();
            ffi::rocksdb_iter_get_error(it, &mut err);
            ok("rocksdb_iter", err);
            ffi::rocksdb_iter_destroy(it);
        }
        out
    }

    /// Writes the memtable to a table file (an .sst).
    fn flush(&self) {
        unsafe {
            let fo = ffi::rocksdb_flushoptions_create();
            ffi::rocksdb_flushoptions_set_wait(fo, 1);
            let mut err = null_mut();
            ffi::rocksdb_flush(self.db, fo, &mut err);
            ffi::rocksdb_flushoptions_destroy(fo);
            ok("rocksdb_flush", err);
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        unsafe {
            ffi::rocksdb_close(self.db);
            ffi::rocksdb_readoptions_destroy(self.ro);
            ffi::rocksdb_writeoptions_destroy(self.wo);
            ffi::rocksdb_options_destroy(self.opts);
        }
    }
}

/// The original's value: term and cmd in native byte order, then the data.
fn value(term: u64, cmd: u64, data: &[u8]) -> Vec<u8> {
    let mut v = term.to_ne_bytes().to_vec();
    v.extend_from_slice(&cmd.to_ne_bytes());
    v.extend_from_slice(data);
    v
}

fn dir(name: &str) -> PathBuf {
    common::scratch(name).join("db")
}

fn open(path: &Path) -> Store<Rocksdb> {
    Store::<Rocksdb>::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

fn close(s: Store<Rocksdb>) {
    s.close().map_err(|(_, e)| e).expect("close");
}

fn keys(s: &mut Store<Rocksdb>, dir: Dir) -> Vec<u64> {
    match dir {
        Dir::Forward => s.iter().map(|e| e.unwrap().key).collect(),
        Dir::Backward => s.iter().rev().map(|e| e.unwrap().key).collect(),
    }
}

/// The key range where TTL records sort among data keys (first four bytes
/// 0x00 'T' 'T' 'L'): where the original's phantom keys appeared.
const PHANTOM: u64 = 0x0054_544C_0000_0000;

// ----------------------------------------------------------------------
// Layout, both directions

#[test]
fn reads_a_directory_written_with_raw_rocksdb() {
    let path = dir("rocks-raw");
    let far = common::now_ms() + 3_600_000;
    let entries: Vec<(u64, u64, u64, &[u8])> = vec![
        (0, 0, 0, b""),
        (0x0102030405060708, 0x1112131415161718, 0x2122232425262728, b"xyz"),
        (PHANTOM - 1, 1, 1, b"below"),
        (PHANTOM + 5, 2, 2, b"inside the TTL records' range"),
        ((1 << 63) - 1, 3, 3, b"signed max"),
        (1 << 63, u64::MAX, 7, b"high"),
        (u64::MAX, 1, 2, b"max"),
    ];
    {
        let raw = Raw::open(&path);
        for &(k, t, c, d) in &entries {
            raw.put(&data_key(k), &value(t, c, d));
        }
        // TTL records as the original wrote them: live, already expired,
        // one for a key that has no entry (the original left them behind).
        raw.put(&ttl_key(PHANTOM + 5), &far.to_ne_bytes());
        raw.put(&ttl_key(1 << 63), &1u64.to_ne_bytes());
        raw.put(&ttl_key(42), &far.to_ne_bytes());
        raw.flush();
        // Some after the flush too, so both the memtable and a table hold data.
        raw.put(&data_key(77), &value(7, 7, b"memtable"));
    }
    let mut s = open(&path);
    let mut want: Vec<u64> = entries.iter().map(|e| e.0).filter(|k| *k != 1 << 63).collect();
    want.push(77);
    want.sort();
    assert_eq!(keys(&mut s, Dir::Forward), want, "the expired entry is absent, no phantom key");
    assert_eq!(keys(&mut s, Dir::Backward), want.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(s.key_count().unwrap(), want.len() as u64);
    let e = s.get(0x0102030405060708).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (0x1112131415161718, 0x2122232425262728, &b"xyz"[..]));
    let e = s.get(u64::MAX).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (1, 2, &b"max"[..]));
    assert!(s.get(0).unwrap().unwrap().data.is_empty());
    assert!(matches!(s.ttl(PHANTOM + 5).unwrap(), Ttl::Remaining(_)));
    assert_eq!(s.ttl(0).unwrap(), Ttl::Persistent);
    assert_eq!(s.ttl(1 << 63).unwrap(), Ttl::NotFound);
    // Neighbours across the TTL records' range.
    assert_eq!(s.next(PHANTOM - 1).unwrap().unwrap().key, PHANTOM + 5);
    assert_eq!(s.prev(PHANTOM + 5).unwrap().unwrap().key, PHANTOM - 1);
    assert_eq!(s.count_range(PHANTOM..=PHANTOM + 0xFFFF_FFFF).unwrap(), 1);
    assert_eq!(s.expire_scan(0).unwrap(), 1);
    close(s);
    // The orphan TTL record was dropped at open, the expired entry and its
    // record by the expire scan.
    let raw = Raw::open(&path);
    assert!(raw.get(&ttl_key(42)).is_none(), "orphan TTL record removed");
    assert!(raw.get(&ttl_key(1 << 63)).is_none() && raw.get(&data_key(1 << 63)).is_none());
    assert_eq!(raw.get(&ttl_key(PHANTOM + 5)).unwrap(), far.to_ne_bytes());
}

#[test]
fn writes_the_original_layout() {
    let path = dir("rocks-layout");
    let at = common::now_ms() + 3_600_000;
    {
        let mut s = open(&path);
        s.insert(0x0102030405060708, 0x1112131415161718, 0x2122232425262728, b"xyz").unwrap();
        s.insert(0, 0, 0, b"").unwrap();
        s.insert(u64::MAX, 5, 6, b"max").unwrap();
        s.begin().unwrap();
        s.insert(9, 1, 2, b"in a transaction").unwrap();
        s.expire_at(9, UNIX_EPOCH + Duration::from_millis(at)).unwrap();
        s.commit().unwrap();
        s.insert(10, 1, 2, b"gone").unwrap();
        s.remove(10).unwrap();
        close(s);
    }
    let raw = Raw::open(&path);
    let mut want: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    want.insert(data_key(0).to_vec(), value(0, 0, b""));
    want.insert(data_key(0x0102030405060708).to_vec(), value(0x1112131415161718, 0x2122232425262728, b"xyz"));
    want.insert(data_key(9).to_vec(), value(1, 2, b"in a transaction"));
    want.insert(data_key(u64::MAX).to_vec(), value(5, 6, b"max"));
    want.insert(ttl_key(9).to_vec(), at.to_ne_bytes().to_vec());
    let got: BTreeMap<Vec<u8>, Vec<u8>> = raw.all().into_iter().collect();
    assert_eq!(got, want);
    // Byte for byte, on this (little-endian) host: key big-endian, term and
    // cmd native.
    if cfg!(target_endian = "little") {
        assert_eq!(data_key(0x0102030405060708), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            &got[&data_key(0x0102030405060708).to_vec()][..16],
            &[0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, 0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21]
        );
    }
    assert_eq!(ttl_key(9), [0, b'T', b'T', b'L', 0, 0, 0, 0, 0, 0, 0, 9]);
    assert_eq!(TTL_PREFIX, [0, b'T', b'T', b'L']);
}

// ----------------------------------------------------------------------
// D24: TTL records never surface as entries

#[test]
fn ttl_records_are_never_phantom_keys() {
    let path = dir("rocks-phantom");
    let mut s = open(&path);
    let ks = [1u64, 5, 1 << 40, PHANTOM - 1, PHANTOM + 3, u64::MAX];
    for &k in &ks {
        s.insert(k, k, k, b"v").unwrap();
        s.expire_in(k, Duration::from_secs(3600)).unwrap();
    }
    let check = |s: &mut Store<Rocksdb>, what: &str| {
        assert_eq!(keys(s, Dir::Forward), ks.to_vec(), "{what}: forward");
        assert_eq!(keys(s, Dir::Backward), ks.iter().rev().copied().collect::<Vec<_>>(), "{what}: backward");
        assert_eq!(s.key_count().unwrap(), ks.len() as u64, "{what}: count");
        assert_eq!(s.count_range(0..=PHANTOM + 0xFFFF_FFFF).unwrap(), 5, "{what}: count range");
        assert_eq!(s.min_key().unwrap(), Some(1));
        assert_eq!(s.max_key().unwrap(), Some(u64::MAX));
        let mut walk = vec![];
        let mut k = s.min_key().unwrap();
        while let Some(x) = k {
            walk.push(x);
            k = s.next(x).unwrap().map(|e| e.key);
        }
        assert_eq!(walk, ks.to_vec(), "{what}: GetNext walk");
        let mut walk = vec![];
        let mut k = s.max_key().unwrap();
        while let Some(x) = k {
            walk.push(x);
            k = s.prev(x).unwrap().map(|e| e.key);
        }
        assert_eq!(walk.len(), ks.len(), "{what}: GetPrev walk {walk:x?}");
        assert!(!s.exists_in_range(PHANTOM..=PHANTOM + 2).unwrap(), "{what}: exists in range");
        assert!(!s.exists_in_range(PHANTOM + 4..=PHANTOM + 0xFFFF_FFFF).unwrap());
        assert_eq!(s.data_size().unwrap(), ks.len() as u64, "{what}: data size");
        let st = s.stats().unwrap();
        assert_eq!((st.total_keys, st.min_key, st.max_key), (ks.len() as u64, 1, u64::MAX), "{what}: stats");
        let out = path.with_extension(format!("export-{}", what.len()));
        let n = s.export_to(&out, &ExportOptions { format: Format::Json, ..ExportOptions::default() }).unwrap();
        assert_eq!(n, ks.len() as u64, "{what}: export");
        let text = std::fs::read_to_string(&out).unwrap();
        let exported: Vec<u64> =
            text.split("\"key\":").skip(1).map(|t| t[..t.find(',').unwrap()].parse().unwrap()).collect();
        assert_eq!(exported, ks.to_vec(), "{what}: exported keys");
    };
    check(&mut s, "committed");
    // The same inside a transaction that sets more TTLs (records in the batch).
    s.begin().unwrap();
    for &k in &ks {
        s.expire_in(k, Duration::from_secs(7200)).unwrap();
    }
    check(&mut s, "in a transaction");
    s.commit().unwrap();
    close(s);
    let mut s = open(&path);
    check(&mut s, "reopened");
    // Removing every entry removes every TTL record: nothing is left.
    assert_eq!(s.remove_range(0..=u64::MAX).unwrap(), ks.len() as u64);
    close(s);
    assert!(Raw::open(&path).all().is_empty());
}

#[test]
fn foreign_records_are_ignored() {
    let path = dir("rocks-foreign");
    {
        let raw = Raw::open(&path);
        raw.put(&data_key(3), &value(3, 3, b"three"));
        raw.put(b"hello", b"a 5-byte key");
        raw.put(&[0, b'T', b'T', b'L', 1], b"short TTL-like key");
        raw.put(&ttl_key(3)[..11], b"11 bytes");
        raw.put(&[0xFF; 9], b"9 bytes, after every data key");
        raw.put(&data_key(4), &value(4, 4, b"four"));
    }
    let mut s = open(&path);
    assert_eq!(keys(&mut s, Dir::Forward), vec![3, 4]);
    assert_eq!(keys(&mut s, Dir::Backward), vec![4, 3]);
    assert_eq!(s.max_key().unwrap(), Some(4));
    assert_eq!(s.ttl(3).unwrap(), Ttl::Persistent);
    // Range deletes leave them alone.
    assert_eq!(s.remove_range(0..=u64::MAX).unwrap(), 2);
    close(s);
    assert_eq!(Raw::open(&path).all().len(), 4, "only the two entries went");
}

/// Records of the library's own kinds that neither library writes are
/// damage: CORRUPT, not a guess.
#[test]
fn malformed_records_are_corrupt() {
    let path = dir("rocks-malformed");
    {
        let raw = Raw::open(&path);
        raw.put(&data_key(3), &value(3, 3, b"three"));
        raw.put(&data_key(4), b"short"); // shorter than term + cmd
        raw.put(&data_key(5), &value(5, 5, b"five"));
    }
    let mut s = open(&path);
    assert_eq!(s.get(3).unwrap().unwrap().data, b"three");
    assert_eq!(s.get(4).unwrap_err().code(), ErrorCode::Corrupt);
    assert_eq!(s.exists_dual(4, 0).unwrap_err().code(), ErrorCode::Corrupt);
    let walk: Result<Vec<_>, _> = s.iter().collect();
    assert_eq!(walk.unwrap_err().code(), ErrorCode::Corrupt);
    assert_eq!(s.next(3).unwrap_err().code(), ErrorCode::Corrupt);
    assert_eq!(s.data_size().unwrap_err().code(), ErrorCode::Corrupt);
    assert_eq!(s.key_count().unwrap(), 3, "counting reads keys only");
    close(s);
    // A TTL record whose expiry is not 8 bytes: the open that loads them.
    {
        let raw = Raw::open(&path);
        raw.put(&data_key(4), &value(4, 4, b"four"));
        raw.put(&ttl_key(3), b"not 8 bytes");
    }
    let e = Store::<Rocksdb>::open(&path).err().expect("a bad TTL record");
    assert_eq!(e.code(), ErrorCode::Corrupt, "{e}");
}

// ----------------------------------------------------------------------
// Transactions: save points of the write batch

fn engine(path: &Path) -> Rocksdb {
    Rocksdb::open(&OpenRequest { path, config: None }).expect("open").0
}

fn present(e: &mut Rocksdb) -> Vec<u64> {
    let mut v = vec![];
    e.scan(0, u64::MAX, Dir::Forward, |r| {
        v.push(r.key);
        true
    })
    .unwrap();
    v
}

#[test]
fn save_points_roll_back_only_their_own_writes() {
    let path = dir("rocks-savepoints");
    let mut e = engine(&path);
    e.begin().unwrap();
    e.put(1, 1, 1, b"a").unwrap();
    e.savepoint().unwrap();
    e.put(2, 2, 2, b"b").unwrap();
    e.delete(1).unwrap();
    e.savepoint().unwrap();
    e.put(3, 3, 3, b"c").unwrap();
    e.ttl_put(3, 99).unwrap();
    assert_eq!(present(&mut e), vec![2, 3], "reads see the batch");
    e.release_savepoint().unwrap();
    assert_eq!(present(&mut e), vec![2, 3], "releasing keeps the writes");
    e.rollback_savepoint().unwrap();
    assert_eq!(present(&mut e), vec![1], "back to the first save point");
    let mut ttl = vec![];
    e.ttl_scan(&mut |k, at| ttl.push((k, at))).unwrap();
    assert!(ttl.is_empty(), "the TTL record went with its save point");
    // A save point with nothing written, rolled back: nothing changes.
    e.savepoint().unwrap();
    e.rollback_savepoint().unwrap();
    assert_eq!(present(&mut e), vec![1]);
    e.put(4, 4, 4, b"d").unwrap();
    assert!(e.in_transaction());
    e.commit().unwrap();
    assert!(!e.in_transaction());
    // An atomic unit outside a transaction is a batch of its own: rolled
    // back, nothing reaches the database; released, all of it does.
    e.savepoint().unwrap();
    e.put(5, 5, 5, b"e").unwrap();
    e.rollback_savepoint().unwrap();
    assert!(!e.in_transaction());
    e.savepoint().unwrap();
    e.delete_range(0, 3).unwrap();
    e.release_savepoint().unwrap();
    assert!(e.close().is_ok());
    let mut e = engine(&path);
    assert_eq!(present(&mut e), vec![4]);
    assert!(e.close().is_ok());
}

#[test]
fn large_range_deletes_in_and_out_of_transactions() {
    let path = dir("rocks-bigdelete");
    let mut s = open(&path);
    let n = 10_000u64; // more than one chunk of collected keys
    s.begin().unwrap();
    for k in 0..n {
        s.insert(k, k, k, b"x").unwrap();
        if k % 3 == 0 {
            s.expire_in(k, Duration::from_secs(3600)).unwrap();
        }
    }
    // Deleted inside the same transaction: the batch's own entries.
    assert_eq!(s.remove_range(100..=5099).unwrap(), 5000);
    s.commit().unwrap();
    assert_eq!(s.key_count().unwrap(), n - 5000);
    assert_eq!(s.remove_range(5100..=n).unwrap(), n - 5100);
    assert_eq!(keys(&mut s, Dir::Forward), (0..100).collect::<Vec<_>>());
    assert_eq!(s.ttl_count(), 34);
    close(s);
    let raw = Raw::open(&path);
    let ttls = raw.all().into_iter().filter(|(k, _)| k.len() == 12).count();
    assert_eq!(ttls, 34, "TTL records of deleted keys deleted too");
}

/// Reads outside a transaction reuse one iterator until the next write:
/// after every kind of write (single, range, batch, committed or aborted
/// transaction, TTL) the next read shows exactly the model.
#[test]
fn reads_after_writes_are_never_stale() {
    let path = dir("rocks-stale");
    let mut s = open(&path);
    let mut model: BTreeMap<u64, u64> = BTreeMap::new();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for step in 0..3000u64 {
        let k = rnd(200);
        match rnd(8) {
            0 | 1 => {
                let _ = s.insert(k, step, 0, b"v");
                model.entry(k).or_insert(step);
            }
            2 => {
                s.remove(k).unwrap();
                model.remove(&k);
            }
            3 => {
                let hi = k + rnd(20);
                s.remove_range(k..=hi).unwrap();
                model.retain(|key, _| *key < k || *key > hi);
            }
            4 => {
                s.begin().unwrap();
                s.insert_ex(k, step, 1, b"t", kvidxkit::SetCondition::Always).unwrap();
                if rnd(2) == 0 {
                    s.commit().unwrap();
                    model.insert(k, step);
                } else {
                    s.abort().unwrap();
                }
            }
            5 => {
                if model.contains_key(&k) {
                    s.expire_in(k, Duration::from_secs(3600)).unwrap();
                }
            }
            _ => {
                let entries: Vec<u64> = model.keys().copied().collect();
                let batch: Vec<kvidxkit::Entry> = (0..5)
                    .map(|i| 1000 + step * 5 + i)
                    .map(|key| kvidxkit::Entry { key, term: 0, cmd: 0, data: vec![] })
                    .collect();
                let out = s.insert_batch(batch.iter().map(|e| kvidxkit::EntryRef {
                    key: e.key,
                    term: e.term,
                    cmd: e.cmd,
                    data: &e.data,
                }));
                assert!(out.error.is_none());
                for e in &batch {
                    model.insert(e.key, 0);
                }
                assert!(entries.len() + 5 == model.len());
            }
        }
        // Reads of every kind, each on the kept iterator.
        assert_eq!(s.key_count().unwrap(), model.len() as u64, "step {step}");
        assert_eq!(s.min_key().unwrap(), model.keys().next().copied(), "step {step}");
        assert_eq!(s.next(k).unwrap().map(|e| e.key), model.range(k + 1..).next().map(|(k, _)| *k), "step {step}");
        assert_eq!(s.count_range(0..=199).unwrap(), model.range(0..200).count() as u64, "step {step}");
    }
    assert_eq!(keys(&mut s, Dir::Forward), model.keys().copied().collect::<Vec<_>>());
}

// ----------------------------------------------------------------------
// Opening: twice, read-only, paths

#[test]
fn second_open_in_this_process_is_locked() {
    let path = dir("rocks-twice");
    let mut a = open(&path);
    a.insert(1, 0, 0, b"a").unwrap();
    let err = Store::<Rocksdb>::open(&path).err().expect("second open must fail");
    assert_eq!(err.code(), ErrorCode::Locked, "{err}");
    assert!(err.to_string().contains("already open in this process"), "{err}");
    assert!(a.exists(1).unwrap());
    close(a);
    assert!(open(&path).exists(1).unwrap());
}

const CHILD: &str = "KVIDX_ROCKSDB_HOLDER";

/// Another process holding the directory open: RocksDB's LOCK file.
#[test]
fn another_process_holding_the_directory_gives_locked() {
    if let Ok(p) = std::env::var(CHILD) {
        let mut s = open(Path::new(&p));
        s.insert(1, 1, 1, b"held").unwrap();
        println!("ready");
        std::thread::sleep(Duration::from_secs(60));
        std::process::exit(0);
    }
    let path = dir("rocks-process");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "another_process_holding_the_directory_gives_locked", "--nocapture", "--test-threads=1"])
        .env(CHILD, &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let out = child.stdout.take().unwrap();
    let ready = std::io::BufReader::new(out).lines().map_while(Result::ok).any(|l| l.contains("ready"));
    assert!(ready, "the child did not open the directory");
    let err = Store::<Rocksdb>::open(&path).err();
    // A read-only open takes no lock: it sees what was written so far.
    let ro = Store::<Rocksdb>::open_with_config(&path, &Config { read_only: true, ..Config::default() })
        .map(|mut s| s.get(1).map(|e| e.map(|e| e.data.to_vec())));
    let _ = child.kill();
    let _ = child.wait();
    let err = err.expect("open while another process holds it must fail");
    assert_eq!(err.code(), ErrorCode::Locked, "{err}");
    assert!(err.to_string().contains("LOCK"), "{err}");
    assert_eq!(ro.unwrap().unwrap(), Some(b"held".to_vec()), "read-only open beside the writer");
    // Once that process is gone, the directory opens (its write is there).
    let mut s = open(&path);
    assert_eq!(s.get(1).unwrap().unwrap().data, b"held");
}

#[test]
fn read_only_opens() {
    let base = common::scratch("rocks-ro");
    let ro = Config { read_only: true, ..Config::default() };
    let missing = base.join("missing");
    let e = Store::<Rocksdb>::open_with_config(&missing, &ro).err().unwrap();
    assert_eq!(e.code(), ErrorCode::Io, "{e}");
    assert!(!missing.exists(), "nothing is created");
    let empty = base.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = Store::<Rocksdb>::open_with_config(&empty, &ro).err().unwrap();
    assert_eq!(e.code(), ErrorCode::Schema, "{e}");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "nothing is created");
    let path = base.join("db");
    {
        let mut s = open(&path);
        s.insert(1, 2, 3, b"ro").unwrap();
        s.insert(2, 2, 3, b"x").unwrap();
        s.expire_in(2, Duration::from_secs(3600)).unwrap();
        close(s);
    }
    let mut s = Store::<Rocksdb>::open_with_config(&path, &ro).unwrap();
    assert!(s.config().read_only);
    assert_eq!(s.get(1).unwrap().unwrap().data, b"ro");
    assert!(matches!(s.ttl(2).unwrap(), Ttl::Remaining(_)));
    assert_eq!(s.insert(3, 0, 0, b"").unwrap_err().code(), ErrorCode::ReadOnly);
    assert_eq!(s.remove(1).unwrap_err().code(), ErrorCode::ReadOnly);
    assert_eq!(s.expire_in(1, Duration::from_millis(5)).unwrap_err().code(), ErrorCode::ReadOnly);
    let rw = Config { read_only: false, ..Config::default() };
    assert_eq!(s.update_config(&rw).unwrap_err().code(), ErrorCode::ReadOnly);
    s.fsync().unwrap();
    // One open per directory and process, read-only ones included.
    let e = Store::<Rocksdb>::open_with_config(&path, &ro).err().unwrap();
    assert_eq!(e.code(), ErrorCode::Locked, "one open per process, read-only too");
    close(s);
    assert_eq!(open(&path).key_count().unwrap(), 2);
}

#[test]
fn paths() {
    let base = common::scratch("rocks-paths");
    let file = base.join("file");
    std::fs::write(&file, b"not a directory").unwrap();
    assert_eq!(Store::<Rocksdb>::open(&file).err().unwrap().code(), ErrorCode::InvalidArgument);
    let nested = base.join("no/such/parent");
    assert_eq!(Store::<Rocksdb>::open(&nested).err().unwrap().code(), ErrorCode::Io);
    let created = base.join("new");
    close(open(&created));
    assert!(created.join("CURRENT").exists());
    // RocksDB's informational logs do not pile up, one per open.
    for _ in 0..6 {
        close(open(&created));
    }
    let logs = files_named(&created, |n| n.starts_with("LOG"));
    assert!(!logs.is_empty() && logs.len() <= 2, "{logs:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&created).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o700, 0o700, "{mode:o}");
}

// ----------------------------------------------------------------------
// Damaged and missing files (decisions.md I5)

/// A database with tables on disk (values spread over many blocks).
fn damaged_template(path: &Path) {
    let raw = Raw::open(path);
    for k in 0..2000u64 {
        raw.put(&data_key(k), &value(k, k, &[k as u8; 200]));
    }
    raw.flush();
}

fn files_named(dir: &Path, f: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| f(p.file_name().unwrap().to_str().unwrap()))
        .collect();
    v.sort();
    v
}

/// Opens and reads everything: the first error, or the number of entries.
fn open_and_read(path: &Path) -> Result<u64, kvidxkit::Error> {
    let r = open_and_read_inner(path);
    eprintln!("{}: {r:?}", path.file_name().unwrap().to_string_lossy());
    r
}

fn open_and_read_inner(path: &Path) -> Result<u64, kvidxkit::Error> {
    let mut s = Store::<Rocksdb>::open(path)?;
    let mut n = 0;
    for e in s.iter() {
        let e = e?;
        assert_eq!(e.data, vec![e.key as u8; 200], "wrong data returned with success at key {}", e.key);
        n += 1;
    }
    Ok(n)
}

/// A crash while the first open creates the database leaves IDENTITY, a
/// MANIFEST (possibly cut short), LOG and LOCK but no CURRENT and no data
/// (the crash loop met it): the next open creates the database anew.
#[test]
fn a_creation_cut_short_is_created_anew() {
    let base = common::scratch("rocks-cut-creation");
    let whole = base.join("whole");
    close(open(&whole));
    let manifest = files_named(&whole, |n| n.starts_with("MANIFEST-"));
    let manifest = std::fs::read(&manifest[0]).unwrap();
    for cut in [0, 13, manifest.len()] {
        let p = base.join(format!("cut-{cut}"));
        std::fs::create_dir(&p).unwrap();
        std::fs::copy(whole.join("IDENTITY"), p.join("IDENTITY")).unwrap();
        std::fs::write(p.join("MANIFEST-000001"), &manifest[..cut]).unwrap();
        std::fs::write(p.join("LOG"), b"").unwrap();
        std::fs::write(p.join("LOCK"), b"").unwrap();
        let mut s = open(&p);
        assert_eq!(s.key_count().unwrap(), 0, "cut at {cut}");
        s.insert(5, 1, 2, b"after").unwrap();
        close(s);
        let mut s = open(&p);
        assert_eq!(s.get(5).unwrap().unwrap().data, b"after", "cut at {cut}");
        close(s);
    }
}

#[test]
fn damaged_files_give_corrupt_or_io() {
    let base = common::scratch("rocks-damage");
    let fresh = |name: &str| {
        let p = base.join(name);
        damaged_template(&p);
        p
    };
    // No CURRENT: RocksDB would start over and delete the tables; refused.
    let p = fresh("no-current");
    std::fs::remove_file(p.join("CURRENT")).unwrap();
    let e = open_and_read(&p).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Corrupt, "{e}");
    assert!(!files_named(&p, |n| n.ends_with(".sst")).is_empty(), "the tables are still there");
    // No CURRENT, the data in write-ahead logs only: refused too.
    let p = base.join("no-current-log-only");
    {
        let mut s = open(&p);
        s.insert(1, 1, 1, b"in the log").unwrap();
        close(s);
    }
    assert!(
        files_named(&p, |n| n.ends_with(".sst")).is_empty() && !files_named(&p, |n| n.ends_with(".log")).is_empty()
    );
    std::fs::remove_file(p.join("CURRENT")).unwrap();
    assert_eq!(open_and_read(&p).unwrap_err().code(), ErrorCode::Corrupt);
    assert!(files_named(&p, |n| n.ends_with(".log")).iter().any(|f| std::fs::metadata(f).unwrap().len() > 0));
    // CURRENT naming nothing.
    let p = fresh("bad-current");
    std::fs::write(p.join("CURRENT"), b"MANIFEST-999999\n").unwrap();
    let e = open_and_read(&p).unwrap_err();
    assert!(matches!(e.code(), ErrorCode::Corrupt | ErrorCode::Io), "{e}");
    // A MANIFEST with bytes changed (its records carry checksums). A
    // truncated one is what a crash while writing it leaves, which RocksDB
    // recovers from: see docs/engine-rocksdb.md.
    let p = fresh("bad-manifest");
    for m in files_named(&p, |n| n.starts_with("MANIFEST-")) {
        let mut bytes = std::fs::read(&m).unwrap();
        for i in (7..bytes.len()).step_by(11) {
            bytes[i] ^= 0x33;
        }
        std::fs::write(&m, bytes).unwrap();
    }
    let e = open_and_read(&p).unwrap_err();
    assert!(matches!(e.code(), ErrorCode::Corrupt | ErrorCode::Io), "{e}");
    // A missing table.
    let p = fresh("missing-sst");
    for t in files_named(&p, |n| n.ends_with(".sst")) {
        std::fs::remove_file(t).unwrap();
    }
    let e = open_and_read(&p).unwrap_err();
    assert!(matches!(e.code(), ErrorCode::Corrupt | ErrorCode::Io), "{e}");
    // A truncated table.
    let p = fresh("short-sst");
    for t in files_named(&p, |n| n.ends_with(".sst")) {
        let len = std::fs::metadata(&t).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&t).unwrap().set_len(len / 3).unwrap();
    }
    let e = open_and_read(&p).unwrap_err();
    assert!(matches!(e.code(), ErrorCode::Corrupt | ErrorCode::Io), "{e}");
    // Bytes flipped inside the data blocks: the block checksum catches it
    // at open or on the read that meets it, never wrong data.
    let p = fresh("flipped-sst");
    for t in files_named(&p, |n| n.ends_with(".sst")) {
        let mut bytes = std::fs::read(&t).unwrap();
        for i in (1000..bytes.len() / 2).step_by(4096) {
            bytes[i] ^= 0x5A;
        }
        std::fs::write(&t, bytes).unwrap();
    }
    let e = open_and_read(&p).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Corrupt, "{e}");
    // Garbage appended to the write-ahead log: the committed writes are
    // read back, the torn tail is dropped.
    let p = fresh("torn-log");
    {
        let raw = Raw::open(&p);
        raw.put(&data_key(5000), &value(5000, 5000, &[5000u64 as u8; 200]));
    }
    for l in files_named(&p, |n| n.ends_with(".log")) {
        use std::io::Write;
        std::fs::OpenOptions::new().append(true).open(l).unwrap().write_all(&[0xAB; 37]).unwrap();
    }
    assert_eq!(open_and_read(&p).unwrap(), 2001);
}

// ----------------------------------------------------------------------
// The damaged-storage sweep: RocksDB keeps checksums, so a damaged copy
// must give a clear error or exactly the model, and never crash or hang.

/// The model of the sweep's database: keys on both sides of 2^63 and
/// among the TTL records' range, values from empty to 30 KB, TTLs ahead.
/// Entries of a model: key -> (term, cmd, data).
type Model = BTreeMap<u64, (u64, u64, Vec<u8>)>;

fn sweep_model() -> Model {
    let mut m = BTreeMap::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..3000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = match i % 4 {
            0 => i,
            1 => (1 << 63) + i,
            2 => PHANTOM + i,
            _ => x,
        };
        let len = if i % 97 == 0 { 30_000 } else { (x % 300) as usize };
        m.insert(key, (x, i, (0..len).map(|j| (j as u64 ^ x) as u8).collect()));
    }
    m
}

/// Builds the sweep's database: every entry and TTLs on a tenth of the keys,
/// in three table files (each third flushed), closed.
fn sweep_template(path: &Path) {
    let m: Vec<_> = sweep_model().into_iter().collect();
    let cfg = Config { sync_mode: SyncMode::Off, ..Config::default() };
    for part in m.chunks(1000) {
        let mut s = Store::<Rocksdb>::open_with_config(path, &cfg).unwrap();
        for (k, (t, c, d)) in part {
            s.insert(*k, *t, *c, d).unwrap();
            if k % 10 == 3 {
                s.expire_in(*k, Duration::from_secs(24 * 3600)).unwrap();
            }
        }
        close(s);
        Raw::open(path).flush();
    }
}

/// Child of the sweep: reads the damaged copy every way. Prints
/// "@@error CODE: message" at the first error; else "@@exact" when it holds
/// exactly the model, or "@@prefix J" when it holds exactly the first J of
/// the three parts the template flushed one after the other (what a
/// MANIFEST cut short leaves: RocksDB cannot tell that from a crash).
/// Anything else is a panic naming the difference.
fn sweep_read(path: &Path) -> i32 {
    let all: Vec<_> = sweep_model().into_iter().collect();
    let parts: Vec<_> = all.chunks(1000).collect();
    let check = || -> Result<usize, kvidxkit::Error> {
        let mut s = Store::<Rocksdb>::open(path)?;
        // The parts present: a prefix of them, each complete.
        let mut present = parts.len();
        for (i, part) in parts.iter().enumerate() {
            if s.get(part[0].0)?.is_none() {
                present = i;
                break;
            }
        }
        let m: Model = parts[..present].concat().into_iter().collect();
        for (k, _) in &all {
            match (s.get(*k)?, m.get(k)) {
                (Some(e), Some((t, c, d))) => {
                    assert_eq!((e.term, e.cmd, e.data), (*t, *c, &d[..]), "key {k} differs without an error")
                }
                (None, None) => {}
                (got, _) => panic!("key {k}: {:?} without an error ({present} parts present)", got.map(|e| e.key)),
            }
        }
        let fwd: Vec<u64> = s.iter().map(|e| e.map(|e| e.key)).collect::<Result<_, _>>()?;
        assert!(fwd.iter().eq(m.keys()), "forward walk differs without an error");
        let back: Vec<u64> = s.iter().rev().map(|e| e.map(|e| e.key)).collect::<Result<_, _>>()?;
        assert!(back.iter().rev().eq(m.keys()), "backward walk differs without an error");
        assert_eq!(s.key_count()?, m.len() as u64);
        assert_eq!(
            s.count_range(PHANTOM..=PHANTOM + 0xFFFF_FFFF)?,
            m.range(PHANTOM..=PHANTOM + 0xFFFF_FFFF).count() as u64
        );
        let st = s.stats()?;
        assert_eq!(st.total_keys, m.len() as u64);
        assert_eq!(st.total_data_bytes, m.values().map(|v| v.2.len() as u64).sum::<u64>());
        let out = path.with_extension("export");
        assert_eq!(s.export_to(&out, &ExportOptions::default())?, m.len() as u64);
        assert_eq!(s.ttl_count(), m.keys().filter(|k| *k % 10 == 3).count());
        Ok(present)
    };
    match check() {
        Ok(n) if n == parts.len() => println!("@@exact"),
        Ok(n) => println!("@@prefix {n}"),
        Err(e) => println!("@@error {:?}: {e}", e.code()),
    }
    0
}

/// Dispatches the child roles of this binary (see support/proc.rs).
#[test]
fn child_role() {
    if let Some(r) = proc::role() {
        let code = match r.name.as_str() {
            "sweep-read" => sweep_read(Path::new(r.arg(0))),
            other => {
                eprintln!("unknown role {other}");
                90
            }
        };
        std::process::exit(code);
    }
}

/// Copies of the sweep's database, each damaged in one way — bit flips,
/// garbage runs, zeroed blocks, truncation, an empty file or a directory in
/// place of a table file, the MANIFEST, CURRENT, OPTIONS or IDENTITY — read
/// completely by a child with a time limit. Every trial must end with a
/// clear error code (CORRUPT, IO, SCHEMA) or exactly the model: no crash,
/// abort, hang, or different data with success. One exception, RocksDB's
/// own: a MANIFEST damaged so that its records seem to end at the damage
/// (a length field pointing past the end) is what a crash while writing it
/// leaves, and RocksDB opens the database its complete records describe,
/// the template's earlier parts (see docs/engine-rocksdb.md); not truncated
/// here for that reason. The write-ahead log is empty after the flush.
/// `make test`: 48 trials, KVIDX_STRESS=1 ten times as many;
/// KVIDX_ROCKSDB_SWEEP_SEED and KVIDX_ROCKSDB_SWEEP_ONLY repeat one.
#[test]
fn damage_sweep() {
    let base = common::scratch("rocks-sweep");
    let template = base.join("template");
    sweep_template(&template);
    let stress = std::env::var("KVIDX_STRESS").is_ok_and(|v| v == "1");
    let trials = if stress { 480 } else { 48 };
    let seed = std::env::var("KVIDX_ROCKSDB_SWEEP_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xD1B5_4A32_D192_ED03u64 ^ std::process::id() as u64);
    let only: Option<u64> = std::env::var("KVIDX_ROCKSDB_SWEEP_ONLY").ok().and_then(|v| v.parse().ok());
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut exact, mut errors, mut bad) = (0, BTreeMap::<String, u32>::new(), Vec::new());
    for trial in 0..trials {
        let copy = base.join(format!("copy-{trial}"));
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir(&copy).unwrap();
        for e in std::fs::read_dir(&template).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_file() && n != "LOCK" && !n.starts_with("LOG") {
                std::fs::copy(e.path(), copy.join(&n)).unwrap();
            }
        }
        let pick = |f: &dyn Fn(&str) -> bool, r: u64| {
            let v = files_named(&copy, f);
            v[(r % v.len() as u64) as usize].clone()
        };
        let file = match next() % 8 {
            0..=3 => pick(&|n| n.ends_with(".sst"), next()),
            4 | 5 => pick(&|n| n.starts_with("MANIFEST-"), next()),
            6 => copy.join("CURRENT"),
            _ => pick(&|n| n.starts_with("OPTIONS-") || n == "IDENTITY", next()),
        };
        let manifest = file.file_name().unwrap().to_string_lossy().starts_with("MANIFEST-");
        let mut bytes = std::fs::read(&file).unwrap();
        let len = bytes.len().max(1) as u64;
        let kinds = if manifest { 3 } else { 6 };
        let what = match next() % kinds {
            0 => {
                for _ in 0..1 + next() % 8 {
                    let i = (next() % len) as usize;
                    if i < bytes.len() {
                        bytes[i] ^= 1 << (next() % 8);
                    }
                }
                std::fs::write(&file, &bytes).unwrap();
                "bit flips"
            }
            1 => {
                let at = (next() % len) as usize;
                for b in bytes.iter_mut().skip(at).take(16 + (next() % 500) as usize) {
                    *b = next() as u8;
                }
                std::fs::write(&file, &bytes).unwrap();
                "garbage run"
            }
            2 => {
                let at = (next() % len) as usize & !4095;
                for b in bytes.iter_mut().skip(at).take(4096) {
                    *b = 0;
                }
                std::fs::write(&file, &bytes).unwrap();
                "zeroed block"
            }
            3 => {
                bytes.truncate((next() % len) as usize);
                std::fs::write(&file, &bytes).unwrap();
                "truncated"
            }
            4 => {
                std::fs::write(&file, b"").unwrap();
                "empty"
            }
            _ => {
                std::fs::remove_file(&file).unwrap();
                std::fs::create_dir(&file).unwrap();
                "a directory"
            }
        };
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if only.is_some_and(|o| o != trial) {
            let _ = std::fs::remove_dir_all(&copy);
            continue;
        }
        let o = proc::run_limited(proc::command("sweep-read", &[copy.to_str().unwrap()]), Duration::from_secs(60));
        let line = o.lines_with("@@").join(" ");
        let label = format!("trial {trial}: {what} in {name}");
        if !o.ok() {
            let why: Vec<&str> =
                o.stderr.lines().filter(|l| l.contains("panicked") || !l.starts_with(' ')).take(6).collect();
            bad.push(format!("{label} (seed {seed}): {} {line}\n{}", o.describe(), why.join("\n")));
        } else if line == "exact" {
            exact += 1;
        } else if line.starts_with("prefix ") && name.starts_with("MANIFEST-") {
            // The MANIFEST read as cut short at a damaged record: what a
            // crash while writing it leaves (docs/engine-rocksdb.md).
            *errors.entry("MANIFEST read up to the damage".into()).or_default() += 1;
        } else if let Some(rest) = line.strip_prefix("error ") {
            let code = rest.split(':').next().unwrap_or("").to_string();
            if !["Corrupt", "Io", "Schema"].contains(&code.as_str()) {
                bad.push(format!("{label}: unclear error {rest}"));
            }
            *errors.entry(code).or_default() += 1;
        } else {
            bad.push(format!("{label}: {line}"));
        }
        let _ = std::fs::remove_dir_all(&copy);
    }
    eprintln!("RocksDB damage sweep: {trials} trials, {exact} exactly the model, otherwise {errors:?}");
    assert!(bad.is_empty(), "damaged copies:\n{}", bad.join("\n"));
    assert!(only.is_some() || errors.get("Corrupt").is_some_and(|n| *n > 0), "no trial met the damage");
}

// ----------------------------------------------------------------------
// Errors, statistics, configuration, durability

#[test]
fn status_texts_map_to_error_codes() {
    for (msg, code) in [
        ("Corruption: block checksum mismatch: stored = 1, computed = 2", ErrorCode::Corrupt),
        ("IO error: No space left on device: While appending to file: /d/000009.log", ErrorCode::DiskFull),
        ("IO error: While appending to file: /d/000009.log: Disk quota exceeded", ErrorCode::DiskFull),
        ("IO error: While appending to file: /d/000009.log: File too large", ErrorCode::DiskFull),
        ("IO error: While lock file: /d/LOCK: Resource temporarily unavailable", ErrorCode::Locked),
        ("IO error: lock hold by current process, acquire time 1 acquiring thread 2: /d/LOCK", ErrorCode::Locked),
        ("IO error: No such file or directory: While open a file for random read: /d/000012.sst", ErrorCode::Io),
        ("Invalid argument: Column families not opened: extra", ErrorCode::Schema),
        ("IO error: While open a file for appending: /d/000003.log: Permission denied", ErrorCode::ReadOnly),
        ("Not implemented: x", ErrorCode::NotSupported),
        ("Resource busy: ", ErrorCode::Locked),
        ("Invalid argument: x", ErrorCode::InvalidArgument),
        ("Operation aborted: x", ErrorCode::Internal),
    ] {
        let e = classify("op", msg);
        assert_eq!(e.code(), code, "{msg}");
        assert!(e.to_string().contains(msg), "{e}");
    }
}

/// A full file system: the write that does not fit is DISK_FULL, later
/// writes too until the store is reopened, nothing crashes, and once there
/// is room again the store (here opened by another process) has every
/// acknowledged entry and takes writes. Runs in child processes in a mount
/// namespace of their own with a 1 MiB tmpfs (needs root, as CI has;
/// elsewhere it says so and checks nothing).
#[test]
fn disk_full_is_disk_full() {
    const PHASE: &str = "KVIDX_ROCKSDB_FULL";
    if let Ok(phase) = std::env::var(PHASE) {
        disk_full_phase(&phase);
        std::process::exit(0);
    }
    let base = common::scratch("rocks-full");
    let fs = base.join("fs");
    std::fs::create_dir(&fs).unwrap();
    let exe = std::env::current_exe().unwrap();
    let run = |phase: &str| {
        format!(
            "{PHASE}={phase} KVIDX_ROCKSDB_FULL_DIR='{}' '{}' --exact disk_full_is_disk_full --nocapture --test-threads=1",
            base.display(),
            exe.display()
        )
    };
    let script = format!(
        "mount -t tmpfs -o size=1m kvidx-full '{}' && {} && {} && rm '{}' && {}",
        fs.display(),
        run("fill"),
        run("open-full"),
        fs.join("filler").display(),
        run("reopen")
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output();
    let root = unsafe { libc::geteuid() } == 0;
    match o {
        Ok(o) if o.status.success() || root => {
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "{}\n{out}\n{}", o.status, String::from_utf8_lossy(&o.stderr));
            for phase in ["fill: DiskFull", "open-full: ", "reopen: "] {
                assert!(out.contains(phase), "no {phase:?} in\n{out}");
            }
            eprint!("{}", out.lines().filter(|l| l.contains(": ")).map(|l| format!("{l}\n")).collect::<String>());
        }
        _ => eprintln!("disk_full_is_disk_full: not run (needs root for a private tmpfs mount)"),
    }
}

/// No room to create the directory (a file system without a free inode) is
/// DISK_FULL, as every other "no space" condition, not a plain I/O error.
/// Runs in a child process in a mount namespace of its own with a tmpfs of
/// one inode (needs root, as CI has; elsewhere it says so and checks
/// nothing).
#[test]
fn no_room_for_the_directory_is_disk_full() {
    const DIR: &str = "KVIDX_ROCKSDB_NO_INODE_DIR";
    if let Ok(fs) = std::env::var(DIR) {
        match Store::<Rocksdb>::open(Path::new(&fs).join("db")) {
            Ok(_) => println!("open: opened"),
            Err(e) => println!("open: {:?}: {e}", e.code()),
        }
        std::process::exit(0);
    }
    let fs = common::scratch("rocks-no-inode").join("fs");
    std::fs::create_dir(&fs).unwrap();
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "mount -t tmpfs -o size=1m,nr_inodes=1 kvidx-no-inode '{fs}' && \
         {DIR}='{fs}' '{exe}' --exact no_room_for_the_directory_is_disk_full --nocapture --test-threads=1",
        fs = fs.display(),
        exe = exe.display()
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output();
    let root = unsafe { libc::geteuid() } == 0;
    match o {
        Ok(o) if o.status.success() || root => {
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "{}\n{out}\n{}", o.status, String::from_utf8_lossy(&o.stderr));
            let got = out.split_once("open: ").map(|(_, r)| r.lines().next().unwrap_or("")).unwrap_or("(no result)");
            assert!(got.starts_with("DiskFull: ") && got.contains("cannot create directory"), "{got}\n{out}");
        }
        _ => eprintln!("no_room_for_the_directory_is_disk_full: not run (needs root for a private tmpfs mount)"),
    }
}

/// One process of [`disk_full_is_disk_full`], in the mount namespace.
fn disk_full_phase(phase: &str) {
    let base = PathBuf::from(std::env::var("KVIDX_ROCKSDB_FULL_DIR").unwrap());
    let fs = base.join("fs");
    let path = fs.join("db");
    let stored_file = base.join("stored"); // outside the full file system
    match phase {
        "fill" => {
            // Room to free later: a file taking part of the file system.
            std::fs::write(fs.join("filler"), vec![0u8; 256 * 1024]).unwrap();
            let mut s = open(&path);
            let big = vec![7u8; 64 * 1024];
            let mut stored = 0;
            let first = loop {
                match s.insert(stored, 0, 0, &big) {
                    Ok(()) => stored += 1,
                    Err(e) => break e,
                }
                assert!(stored < 1000, "a 1 MiB file system took 64 MiB");
            };
            assert_eq!(first.code(), ErrorCode::DiskFull, "{first}");
            // Later writes, commits and fsync fail the same way (and do
            // not abort the process); reads go on.
            assert_eq!(s.insert(100_000, 0, 0, b"small").unwrap_err().code(), ErrorCode::DiskFull);
            s.begin().unwrap();
            let in_txn = s.insert(100_001, 0, 0, b"small");
            let commit = s.commit();
            assert!(in_txn.is_err() || commit.is_err(), "a transaction committed after the failure");
            assert_eq!(s.fsync().unwrap_err().code(), ErrorCode::DiskFull);
            assert_eq!(s.key_count().unwrap(), stored);
            s.close().map_err(|(_, e)| e).unwrap();
            // Reopened in this process, still full: DISK_FULL (opening
            // writes a new MANIFEST), or every acknowledged entry and writes
            // that do not fit failing again.
            match Store::<Rocksdb>::open(&path) {
                Err(e) => assert_eq!(e.code(), ErrorCode::DiskFull, "{e}"),
                Ok(mut s) => {
                    assert_eq!(keys(&mut s, Dir::Forward), (0..stored).collect::<Vec<_>>(), "after reopening");
                    assert_eq!(s.insert(stored, 0, 0, &big).unwrap_err().code(), ErrorCode::DiskFull);
                    s.close().map_err(|(_, e)| e).unwrap();
                }
            }
            std::fs::write(&stored_file, stored.to_string()).unwrap();
            println!("fill: {:?} after {stored} entries: {first}", first.code());
        }
        "open-full" => match Store::<Rocksdb>::open(&path) {
            // Opening while the disk is still full: an error or a working
            // store that refuses what does not fit, never a crash.
            Err(e) => println!("open-full: {:?}: {e}", e.code()),
            Ok(mut s) => {
                let r = s.insert(200_000, 0, 0, &[1u8; 64 * 1024]);
                assert!(r.is_err(), "a 64 KiB write on a full disk succeeded");
                s.close().map_err(|(_, e)| e).unwrap();
                println!("open-full: opened; a write: {r:?}");
            }
        },
        "reopen" => {
            let stored: u64 = std::fs::read_to_string(&stored_file).unwrap().parse().unwrap();
            let mut s = open(&path);
            assert_eq!(keys(&mut s, Dir::Forward), (0..stored).collect::<Vec<_>>(), "acknowledged entries");
            s.insert(100_002, 0, 0, b"after").unwrap();
            s.close().map_err(|(_, e)| e).unwrap();
            println!("reopen: {stored} entries, writes again");
        }
        other => panic!("phase {other}"),
    }
}

#[test]
fn statistics_are_read_from_the_directory_and_rocksdb() {
    let path = dir("rocks-stats");
    let mut s = open(&path);
    let st = s.stats().unwrap();
    assert_eq!((st.total_keys, st.page_size), (0, 4096));
    for k in 0..500u64 {
        s.insert(k, k, k, &[1u8; 100]).unwrap();
    }
    let st = s.stats().unwrap();
    let size = |f: &dyn Fn(&str) -> bool| -> u64 {
        files_named(&path, |n| f(n)).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum()
    };
    assert_eq!(st.wal_file_size, size(&|n| n.ends_with(".log")));
    assert!(st.wal_file_size > 500 * 100, "the writes are in the log: {}", st.wal_file_size);
    assert_eq!(st.database_file_size, size(&|n| !n.ends_with(".log") && !n.starts_with("LOG")));
    assert!(st.database_file_size > 0);
    assert_eq!((st.total_keys, st.total_data_bytes), (500, 50_000));
    close(s);
    // Reopened, the log is now a table: pages counted.
    {
        let raw = Raw::open(&path);
        raw.flush();
    }
    let mut s = open(&path);
    let st = s.stats().unwrap();
    let sst = size(&|n| n.ends_with(".sst"));
    assert!(sst > 0);
    assert_eq!(st.page_count, sst.div_ceil(4096));
    assert!(st.free_pages <= st.page_count);
}

#[test]
fn configuration_in_effect() {
    let path = dir("rocks-config");
    let mut s = open(&path);
    let c = s.config().clone();
    assert_eq!(c.sync_mode, SyncMode::Full, "a plain open syncs every write, as the original");
    assert_eq!(c.cache_size_bytes, 32 * 1024 * 1024);
    assert_eq!(c.page_size, 4096);
    let off = Config { sync_mode: SyncMode::Off, cache_size_bytes: 8 << 20, ..Config::default() };
    let now = s.update_config(&off).unwrap().clone();
    assert_eq!((now.sync_mode, now.cache_size_bytes), (SyncMode::Off, 8 << 20));
    s.insert(1, 1, 1, b"unsynced").unwrap();
    s.fsync().unwrap();
    close(s);
    let cfg = Config { cache_size_bytes: 64 << 20, busy_timeout_ms: 1234, ..Config::default() };
    let s = Store::<Rocksdb>::open_with_config(&path, &cfg).unwrap();
    assert_eq!(s.config().cache_size_bytes, 64 << 20);
    assert_eq!(s.config().busy_timeout_ms, 1234);
    assert_eq!(s.config().sync_mode, SyncMode::Normal);
}
