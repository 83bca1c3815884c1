//! LMDB-specific behaviour: the on-disk layout of the original (written and
//! read with raw LMDB calls), map growth, opening a directory twice, and
//! RemoveRange against a model.
#![cfg(feature = "lmdb")]

mod common;
#[path = "support/raw_lmdb.rs"]
mod raw_lmdb;

use std::ptr::null_mut;

use kvidxkit::engines::lmdb_ffi as ffi;
use kvidxkit::{Config, Lmdb, Store, SyncMode};
use raw_lmdb::{raw_dbi, raw_env, rc};

/// A deterministic pseudo-random sequence (xorshift64) from `seed`.
fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

fn value(term: u64, cmd: u64, data: &[u8]) -> Vec<u8> {
    let mut v = term.to_ne_bytes().to_vec();
    v.extend_from_slice(&cmd.to_ne_bytes());
    v.extend_from_slice(data);
    v
}

unsafe fn put(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, key: u64, val: &[u8]) {
    let mut k = ffi::MDB_val { mv_size: 8, mv_data: &key as *const u64 as *mut _ };
    let mut v = ffi::MDB_val { mv_size: val.len(), mv_data: val.as_ptr() as *mut _ };
    unsafe { rc(ffi::mdb_put(txn, dbi, &mut k, &mut v, 0)) };
}

unsafe fn get(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, key: u64) -> Option<Vec<u8>> {
    let mut k = ffi::MDB_val { mv_size: 8, mv_data: &key as *const u64 as *mut _ };
    let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
    unsafe {
        match ffi::mdb_get(txn, dbi, &mut k, &mut v) {
            0 => Some(std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size).to_vec()),
            ffi::MDB_NOTFOUND => None,
            e => panic!("mdb_get {e}"),
        }
    }
}

#[test]
fn reads_a_directory_written_with_raw_lmdb() {
    let dir = common::scratch("lmdb-raw").join("env");
    std::fs::create_dir(&dir).unwrap();
    let far = common::now_ms() + 3_600_000;
    unsafe {
        let env = raw_env(&dir);
        let mut txn = null_mut();
        rc(ffi::mdb_txn_begin(env, null_mut(), 0, &mut txn));
        let data = raw_dbi(txn, c"_kvidx_data");
        let ttl = raw_dbi(txn, c"_kvidx_ttl");
        put(txn, data, 0x0102030405060708, &value(0x1112131415161718, 0x2122232425262728, b"xyz"));
        put(txn, data, 0, &value(0, 0, b""));
        put(txn, data, 1 << 63, &value(u64::MAX, 7, b"high"));
        put(txn, data, u64::MAX, &value(1, 2, b"max"));
        put(txn, ttl, u64::MAX, &far.to_ne_bytes());
        rc(ffi::mdb_txn_commit(txn));
        ffi::mdb_env_close(env);
    }
    assert!(dir.join("data.mdb").exists() && dir.join("lock.mdb").exists());
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    let e = s.get(0x0102030405060708).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (0x1112131415161718, 0x2122232425262728, &b"xyz"[..]));
    let e = s.get(1 << 63).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (u64::MAX, 7, &b"high"[..]));
    let keys: Vec<u64> = s.range(0..=u64::MAX).map(|e| e.unwrap().key).collect();
    assert_eq!(keys, vec![0, 0x0102030405060708, 1 << 63, u64::MAX]);
    match s.ttl(u64::MAX).unwrap() {
        kvidxkit::Ttl::Remaining(d) => assert!(d > std::time::Duration::from_millis(3_000_000)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn writes_the_layout_raw_lmdb_reads() {
    let dir = common::scratch("lmdb-write").join("env");
    {
        let mut s = Store::<Lmdb>::open(&dir).unwrap();
        s.insert(0x0102030405060708, 0x1112131415161718, 0x2122232425262728, b"xyz").unwrap();
        s.insert(5, 1, 1, b"").unwrap();
        s.expire_at(5, std::time::UNIX_EPOCH + std::time::Duration::from_millis(123_456_789_000_000)).unwrap();
        s.close().map_err(|(_, e)| e).unwrap();
    }
    unsafe {
        let env = raw_env(&dir);
        let mut txn = null_mut();
        rc(ffi::mdb_txn_begin(env, null_mut(), ffi::MDB_RDONLY, &mut txn));
        let mut data = 0;
        rc(ffi::mdb_dbi_open(txn, c"_kvidx_data".as_ptr(), 0, &mut data));
        let mut flags = 0;
        rc(ffi::mdb_dbi_flags(txn, data, &mut flags));
        assert_eq!(flags & ffi::MDB_INTEGERKEY, ffi::MDB_INTEGERKEY);
        let v = get(txn, data, 0x0102030405060708).unwrap();
        let want: Vec<u8> =
            [0x18u8, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, 0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21]
                .into_iter()
                .chain(*b"xyz")
                .collect();
        assert_eq!(v, want, "16-byte native term/cmd header, then the data");
        assert_eq!(get(txn, data, 5).unwrap().len(), 16, "an empty value is exactly the header");
        let mut ttl = 0;
        rc(ffi::mdb_dbi_open(txn, c"_kvidx_ttl".as_ptr(), 0, &mut ttl));
        assert_eq!(get(txn, ttl, 5).unwrap(), 123_456_789_000_000u64.to_ne_bytes());
        ffi::mdb_txn_abort(txn);
        ffi::mdb_env_close(env);
    }
}

#[test]
fn the_map_grows_past_its_initial_size() {
    let dir = common::scratch("lmdb-grow").join("env");
    let cfg = Config { mmap_size_bytes: 1 << 20, sync_mode: SyncMode::Off, ..Config::default() };
    let mut s = Store::<Lmdb>::open_with_config(&dir, &cfg).unwrap();
    let v = vec![0x5a; 4000];
    // Outside a transaction: 8 MiB into a 1 MiB map.
    for k in 0..2000u64 {
        s.insert(k, k, 0, &v).unwrap();
    }
    // In transactions that each stay below half the map at their start.
    for batch in 0..10u64 {
        s.begin().unwrap();
        for k in 0..100u64 {
            s.insert(10_000 + batch * 100 + k, 0, 0, &v).unwrap();
        }
        s.commit().unwrap();
    }
    assert_eq!(s.key_count().unwrap(), 3000);
    assert!(s.stats().unwrap().database_file_size > 8 << 20);
    assert!(s.current_config().mmap_size_bytes > 8 << 20, "GetConfig reports the grown map");
    assert_eq!(s.get(1999).unwrap().unwrap().data, &v[..]);
}

#[test]
fn a_directory_open_twice_in_one_process_is_refused() {
    let dir = common::scratch("lmdb-twice").join("env");
    let mut a = Store::<Lmdb>::open(&dir).unwrap();
    let err = Store::<Lmdb>::open(&dir).err().expect("second open must fail");
    assert_eq!(err.code(), kvidxkit::ErrorCode::Locked);
    a.insert(1, 1, 1, b"still fine").unwrap();
    drop(a);
    let mut b = Store::<Lmdb>::open(&dir).unwrap();
    assert!(b.exists(1).unwrap());
    // A file where a directory is expected.
    let f = common::scratch("lmdb-file").join("plain");
    std::fs::write(&f, b"x").unwrap();
    assert_eq!(Store::<Lmdb>::open(&f).err().unwrap().code(), kvidxkit::ErrorCode::InvalidArgument);
}

/// Random ranges over random key sets, compared with a model (the original
/// deleted keys below the range whenever it reached the last key).
#[test]
fn remove_range_matches_a_model() {
    let mut rnd = xorshift(0x9E37_79B9_7F4A_7C15u64);
    let dir = common::scratch("lmdb-sweep").join("env");
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    for round in 0..60 {
        s.remove_range(0..=u64::MAX).unwrap();
        let mut model = std::collections::BTreeSet::new();
        let span = if round % 3 == 0 { u64::MAX } else { 200 };
        for _ in 0..(rnd() % 80) {
            let k = match rnd() % 10 {
                0 => u64::MAX - rnd() % 3,
                1 => rnd() % 3,
                2 => (1 << 63) + rnd() % 5 - 2,
                _ => rnd() % span,
            };
            if model.insert(k) {
                s.insert(k, 0, 0, b"v").unwrap();
            }
        }
        let pick = |r: u64| {
            if r.is_multiple_of(4) {
                model.iter().nth((r as usize / 4) % model.len().max(1)).copied().unwrap_or(0)
            } else {
                r % span
            }
        };
        let (a, b) = (pick(rnd()), pick(rnd()));
        let (si, ei) = (rnd().is_multiple_of(2), rnd().is_multiple_of(2));
        let bound = |k, inc| if inc { std::ops::Bound::Included(k) } else { std::ops::Bound::Excluded(k) };
        let deleted = s.remove_range((bound(a, si), bound(b, ei))).unwrap();
        let inside = |k: &u64| (if si { *k >= a } else { *k > a }) && (if ei { *k <= b } else { *k < b });
        let expect: Vec<u64> = model.iter().copied().filter(|k| !inside(k)).collect();
        assert_eq!(deleted as usize, model.len() - expect.len(), "round {round}: [{a},{b}] {si} {ei}");
        let got: Vec<u64> = s.range(0..=u64::MAX).map(|e| e.unwrap().key).collect();
        assert_eq!(got, expect, "round {round}: [{a},{b}] {si} {ei}");
    }
}

/// Neighbour reads, counts and scans reuse one cursor on the read
/// snapshot: interleaved with writes outside transactions and with
/// rolled-back transactions, they answer from the newest data every time.
#[test]
fn neighbour_reads_follow_every_write() {
    let mut rnd = xorshift(0x2545_F491_4F6C_DD1Du64);
    let dir = common::scratch("lmdb-cursor").join("env");
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    let mut model = std::collections::BTreeMap::<u64, u64>::new();
    for step in 0..3000u64 {
        let k = rnd() % 300;
        match rnd() % 8 {
            0 | 1 => {
                s.insert_ex(k, step, 0, &step.to_le_bytes(), kvidxkit::SetCondition::Always).unwrap();
                model.insert(k, step);
            }
            2 => {
                s.remove(k).unwrap();
                model.remove(&k);
            }
            3 => {
                // A transaction that writes, reads its own writes through the
                // neighbour calls, then rolls back.
                s.begin().unwrap();
                s.insert_ex(k, u64::MAX, 0, b"gone", kvidxkit::SetCondition::Always).unwrap();
                let own = if k == 0 {
                    s.min_key().unwrap().map(|m| (m, u64::MAX))
                } else {
                    s.next(k - 1).unwrap().map(|e| (e.key, e.term))
                };
                assert_eq!(own, Some((k, u64::MAX)), "step {step}: own write");
                s.abort().unwrap();
            }
            _ => {}
        }
        let want_next = model.range(k + 1..).next().map(|(&k, &t)| (k, t));
        let want_prev = model.range(..k).next_back().map(|(&k, &t)| (k, t));
        assert_eq!(s.next(k).unwrap().map(|e| (e.key, e.term)), want_next, "step {step}: next({k})");
        assert_eq!(s.prev(k).unwrap().map(|e| (e.key, e.term)), want_prev, "step {step}: prev({k})");
        if step % 50 == 0 {
            let n = model.range(k / 2..=k).count() as u64;
            assert_eq!(s.count_range(k / 2..=k).unwrap(), n, "step {step}: count");
            let keys: Vec<u64> = s.range(..).map(|e| e.unwrap().key).collect();
            assert_eq!(keys, model.keys().copied().collect::<Vec<_>>(), "step {step}: scan");
        }
    }
}

/// core.md §5.9 step 12: export/import between directories keeps entries
/// (through the Rust API: copy by iteration, since export is its own module).
#[test]
fn data_survives_reopen_after_fsync() {
    let dir = common::scratch("lmdb-reopen").join("env");
    {
        let mut s = Store::<Lmdb>::open(&dir).unwrap();
        for k in 1..=5u64 {
            s.insert(k * 100, k, 2 * k, format!("Value-{k}").as_bytes()).unwrap();
        }
        s.fsync().unwrap();
    }
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    let e = s.get(300).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (3, 6, &b"Value-3"[..]));
    assert_eq!(s.max_key().unwrap(), Some(500));
}

/// Another process grows the map of an environment this instance has open:
/// reads and writes here adopt the new size (MDB_MAP_RESIZED) instead of failing.
/// Needs the C library (the other process is a C program).
#[cfg(feature = "capi")]
#[test]
fn a_map_grown_by_another_process_is_adopted() {
    let dir = common::scratch("lmdb-resized");
    let env = dir.join("env");
    let cfg = Config { mmap_size_bytes: 1 << 20, ..Config::default() };
    let mut a = Store::<Lmdb>::open_with_config(&env, &cfg).unwrap();
    a.insert(1, 0, 0, b"a").unwrap();
    assert_eq!(a.key_count().unwrap(), 1);
    let src = dir.join("grow.c");
    std::fs::write(
        &src,
        r#"#include <stdio.h>
#include <string.h>
#include "kvidxkit.h"
int main(int argc, char **argv) {
    (void)argc;
    static char v[4096];
    kvidxInstance i;
    memset(&i, 0, sizeof(i));
    i.interface = kvidxInterfaceLmdb;
    if (!kvidxOpen(&i, argv[1], NULL)) return 2;
    for (uint64_t k = 100; k < 2100; k++) if (!kvidxInsert(&i, k, 0, 0, v, sizeof(v))) return 3;
    return kvidxClose(&i) ? 0 : 4;
}
"#,
    )
    .unwrap();
    let exe = common::compile_c(&[src], "lmdb_grow", common::Link::Shared, &["-Werror"]).unwrap();
    let st = std::process::Command::new(&exe).arg(&env).status().unwrap();
    assert!(st.success(), "the other process failed: {st}");
    assert_eq!(a.key_count().unwrap(), 2001);
    assert_eq!(a.get(2099).unwrap().unwrap().data.len(), 4096);
    a.insert(5000, 0, 0, &[1u8; 4096]).unwrap();
    assert!(a.exists(5000).unwrap());
}

/// Both ends of a range iterator read their chunks in place (each through
/// a snapshot of its own) while another process grows the map: the front
/// end's next chunk adopts the new map size while the back end still reads
/// through the old mapping (kept for it), then moves on to the new one;
/// every entry comes out once, in order, with its value (the other
/// process's keys are above what is left to visit; the store sees them
/// after). Needs the C library (the other process is a C program).
#[cfg(feature = "capi")]
#[test]
fn iterators_in_place_across_a_map_another_process_grows() {
    let dir = common::scratch("lmdb-pinned-resize");
    let env = dir.join("env");
    let cfg = Config { mmap_size_bytes: 1 << 20, ..Config::default() };
    let mut a = Store::<Lmdb>::open_with_config(&env, &cfg).unwrap();
    let value = |k: u64| (0..100u64).map(|j| (k * 7 + j) as u8).collect::<Vec<u8>>();
    a.begin().unwrap();
    for k in 1..=2000u64 {
        a.insert(k, k, 0, &value(k)).unwrap();
    }
    a.commit().unwrap();
    let src = dir.join("grow.c");
    std::fs::write(
        &src,
        r#"#include <string.h>
#include "kvidxkit.h"
int main(int argc, char **argv) {
    static char v[4096];
    kvidxInstance i;
    (void)argc;
    memset(&i, 0, sizeof(i));
    i.interface = kvidxInterfaceLmdb;
    if (!kvidxOpen(&i, argv[1], NULL)) return 2;
    if (!kvidxBegin(&i)) return 3;
    for (uint64_t k = 100000; k < 102000; k++) if (!kvidxInsert(&i, k, k, 0, v, sizeof(v))) return 4;
    if (!kvidxCommit(&i)) return 5;
    return kvidxClose(&i) ? 0 : 6;
}
"#,
    )
    .unwrap();
    let exe = common::compile_c(&[src], "lmdb_grow_pinned", common::Link::Shared, &["-Werror"]).unwrap();
    let mut it = a.range(..);
    let mut front = Vec::new();
    let mut back = Vec::new();
    // Past the first (copied) chunk at both ends (chunks of 16, 32, 64...):
    // the front end 12 entries before the end of its third chunk, the back
    // end 32 before the end of its own.
    for _ in 0..100 {
        front.push(it.next().unwrap().unwrap());
    }
    for _ in 0..80 {
        back.push(it.next_back().unwrap().unwrap());
    }
    let st = std::process::Command::new(&exe).arg(&env).status().unwrap();
    assert!(st.success(), "the other process failed: {st}");
    // The front end reads its next chunk first: it adopts the grown map
    // while the back end still has 20 entries to read in the old mapping.
    while let Some(e) = it.next() {
        front.push(e.unwrap());
        if let Some(e) = it.next_back() {
            back.push(e.unwrap());
        }
    }
    drop(it);
    back.reverse();
    // The new keys are above where the back end started: not in what is
    // left to visit.
    let keys: Vec<u64> = front.iter().chain(&back).map(|e| e.key).collect();
    let want: Vec<u64> = (1..=2000).collect();
    assert_eq!(keys, want);
    for e in front.iter().chain(&back) {
        assert_eq!((e.term, &e.data), (e.key, &value(e.key)), "entry {}", e.key);
    }
    assert_eq!(a.key_count().unwrap(), 4000);
    assert_eq!(a.range(100000..).count(), 2000);
}

unsafe fn del(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, key: u64) {
    let mut k = ffi::MDB_val { mv_size: 8, mv_data: &key as *const u64 as *mut _ };
    unsafe { rc(ffi::mdb_del(txn, dbi, &mut k, null_mut())) };
}

/// An environment whose data.mdb ends before its committed pages while
/// every missing page is free: four small commits (so the next one reuses
/// pages they freed), then one transaction that inserts 20 000 keys and
/// removes them again. The pages its splits allocated are merged away
/// before the commit, and LMDB never writes such loose pages, so the file
/// stops well short of the meta page's page count. Returns the file length
/// and the committed length; keys 0..50 hold `[3; 48]`.
fn short_env(dir: &std::path::Path) -> (u64, u64) {
    std::fs::create_dir_all(dir).unwrap();
    unsafe {
        let env = raw_env(dir);
        let mut dbi = 0;
        for t in 0..4u8 {
            let mut txn = null_mut();
            rc(ffi::mdb_txn_begin(env, null_mut(), 0, &mut txn));
            dbi = raw_dbi(txn, c"_kvidx_data");
            for k in 0..50 {
                put(txn, dbi, k, &value(t as u64, 0, &[t; 32]));
            }
            rc(ffi::mdb_txn_commit(txn));
        }
        let mut txn = null_mut();
        rc(ffi::mdb_txn_begin(env, null_mut(), 0, &mut txn));
        for k in 1000..21_000 {
            put(txn, dbi, k, &value(9, 9, &[9; 32]));
        }
        for k in 1000..21_000 {
            del(txn, dbi, k);
        }
        rc(ffi::mdb_txn_commit(txn));
        let mut info: ffi::MDB_envinfo = std::mem::zeroed();
        ffi::mdb_env_info(env, &mut info);
        let mut st: ffi::MDB_stat = std::mem::zeroed();
        ffi::mdb_env_stat(env, &mut st);
        ffi::mdb_env_close(env);
        let len = std::fs::metadata(dir.join("data.mdb")).unwrap().len();
        (len, (info.me_last_pgno as u64 + 1) * st.ms_psize as u64)
    }
}

fn assert_small_keys(s: &mut Store<Lmdb>) {
    let keys: Vec<u64> = s.range(0..=u64::MAX).map(|e| e.unwrap().key).collect();
    assert_eq!(keys, (0..50).collect::<Vec<u64>>());
    for k in 0..50 {
        let e = s.get(k).unwrap().unwrap();
        assert_eq!((e.term, e.cmd, e.data), (3, 0, &[3u8; 32][..]));
    }
}

/// A writer killed right after committing such a transaction leaves this
/// file behind (CI's crash loop met one); it is valid and must open. Before
/// the open learnt to read the free-page database it was refused as
/// truncated.
#[test]
fn a_file_ending_in_free_pages_opens() {
    let dir = common::scratch("lmdb-short").join("env");
    let (len, committed) = short_env(&dir);
    assert!(len + 16 * 4096 <= committed, "the construction leaves the file short: {len} of {committed} bytes");
    {
        let mut s = Store::<Lmdb>::open(&dir).unwrap();
        assert_small_keys(&mut s);
        assert!(std::fs::metadata(dir.join("data.mdb")).unwrap().len() >= committed);
        // The free pages are reused by later writes, and all of it reads back.
        for k in 100..5_100u64 {
            s.insert(k, k, 1, &k.to_ne_bytes()).unwrap();
        }
        s.close().map_err(|(_, e)| e).unwrap();
    }
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    for k in (100..5_100u64).step_by(97) {
        let e = s.get(k).unwrap().unwrap();
        assert_eq!((e.term, e.cmd, e.data), (k, 1, &k.to_ne_bytes()[..]));
    }
    assert_eq!(s.range(0..=u64::MAX).count(), 5_050);
}

/// The same file cut further, so that pages the trees use are missing, is
/// damaged: refused as CORRUPT, and the file left at the length it had.
/// Read-only, the short file cannot be brought up to size and is refused
/// with a clear error, untouched.
#[test]
fn a_file_missing_live_pages_stays_refused() {
    let dir = common::scratch("lmdb-short-cut").join("env");
    let (len, committed) = short_env(&dir);
    assert!(len < committed);
    let ro = Config { read_only: true, ..Config::default() };
    match Store::<Lmdb>::open_with_config(&dir, &ro) {
        Err(kvidxkit::Error::Corrupt(m)) => assert!(m.contains("read-write"), "{m}"),
        Err(e) => panic!("read-only open of the short file: {e}"),
        Ok(_) => panic!("read-only open of the short file succeeded"),
    }
    assert_eq!(std::fs::metadata(dir.join("data.mdb")).unwrap().len(), len);
    let cut = 4 * 4096;
    std::fs::OpenOptions::new().write(true).open(dir.join("data.mdb")).unwrap().set_len(cut).unwrap();
    match Store::<Lmdb>::open(&dir) {
        Err(kvidxkit::Error::Corrupt(m)) => assert!(m.contains("truncated"), "{m}"),
        Err(e) => panic!("open of the cut file: {e}"),
        Ok(_) => panic!("open of a file missing live pages succeeded"),
    }
    assert_eq!(std::fs::metadata(dir.join("data.mdb")).unwrap().len(), cut);
}

/// Adds a random key (0..40 000) not yet present, with an inline, empty or
/// overflow-page value, to the store and the model.
fn add_random(s: &mut Store<Lmdb>, model: &mut std::collections::BTreeMap<u64, Vec<u8>>, r: &mut impl FnMut() -> u64) {
    let k = r() % 40_000;
    let len = match r() % 50 {
        0 => 4_000 + (r() % 6_000) as usize, // an overflow page
        1 => 0,
        _ => (r() % 120) as usize,
    };
    if let std::collections::btree_map::Entry::Vacant(slot) = model.entry(k) {
        let v: Vec<u8> = (0..len).map(|i| (k as usize + i) as u8).collect();
        s.insert(k, k ^ 1, k ^ 2, &v).unwrap();
        slot.insert(v);
    }
}

/// Iterator chunks and counts take a leaf page's items in one call
/// (csrc/lmdb patch 4) and fall back to single steps at page edges and at
/// values on overflow pages; other scans step one by one: forward and
/// backward ranges (iterators), early stops (for_each_in) and counts over
/// random keys (past the count index's run limit, so counts scan) and
/// neighbour reads (values read in place) agree with a model, committed and
/// inside a transaction (dirty pages).
#[test]
fn scans_by_leaf_runs_match_a_model() {
    let mut rnd = xorshift(0x51_7CC1_B727_220Au64);
    let dir = common::scratch("lmdb-runs").join("env");
    let cfg = Config { sync_mode: SyncMode::Off, ..Config::default() };
    let mut s = Store::<Lmdb>::open_with_config(&dir, &cfg).unwrap();
    let mut model = std::collections::BTreeMap::<u64, Vec<u8>>::new();
    for _ in 0..9_000 {
        add_random(&mut s, &mut model, &mut rnd);
    }
    for phase in 0..2 {
        if phase == 1 {
            s.begin().unwrap();
            for _ in 0..3_000 {
                add_random(&mut s, &mut model, &mut rnd);
            }
        }
        for q in 0..150 {
            let (a, b) = {
                let (x, y) = (rnd() % 41_000, rnd() % 41_000);
                if q % 10 == 0 { (0, u64::MAX) } else { (x.min(y), x.max(y)) }
            };
            let want: Vec<(u64, &[u8])> = model.range(a..=b).map(|(k, v)| (*k, &v[..])).collect();
            let fwd: Vec<(u64, Vec<u8>)> = s
                .range(a..=b)
                .map(|e| {
                    let e = e.unwrap();
                    assert_eq!((e.term, e.cmd), (e.key ^ 1, e.key ^ 2));
                    (e.key, e.data)
                })
                .collect();
            assert_eq!(fwd.len(), want.len(), "phase {phase} [{a}, {b}] forward");
            assert!(fwd.iter().zip(&want).all(|(g, w)| g.0 == w.0 && g.1 == w.1), "phase {phase} [{a}, {b}]");
            let back: Vec<u64> = s.range(a..=b).rev().map(|e| e.unwrap().key).collect();
            assert!(back.iter().rev().eq(want.iter().map(|w| &w.0)), "phase {phase} [{a}, {b}] backward");
            let stop = (rnd() % 300) as usize;
            let mut seen = Vec::new();
            s.for_each_in(a..=b, |e| {
                seen.push(e.key);
                seen.len() < stop
            })
            .unwrap();
            assert!(
                seen.iter().eq(want.iter().map(|w| &w.0).take(stop.max(1))),
                "phase {phase} [{a}, {b}] stop {stop}"
            );
            assert_eq!(s.count_range(a..=b).unwrap(), want.len() as u64, "phase {phase} [{a}, {b}] count");
            // Neighbour reads hand out the value in place (no copy).
            let at = rnd() % 41_000;
            let want_next = model.range(at + 1..).next().map(|(k, v)| (*k, v.clone()));
            let got_next = s.next(at).unwrap().map(|e| (e.key, e.data.to_vec()));
            assert_eq!(got_next, want_next, "phase {phase} next({at})");
            let want_prev = model.range(..at).next_back().map(|(k, v)| (*k, v.clone()));
            let got_prev = s.prev(at).unwrap().map(|e| (e.key, e.data.to_vec()));
            assert_eq!(got_prev, want_prev, "phase {phase} prev({at})");
        }
    }
    s.abort().unwrap();
}

/// A neighbour read from the key the previous one returned steps the kept
/// cursor instead of searching from the root. Interleaved with everything
/// that moves that cursor or replaces its snapshot — writes (alone and in
/// transactions, committed and aborted), scans, counts, point reads (which
/// read through the same cursor), keys that expire — chains of next/prev
/// agree with a model at every step.
#[test]
fn neighbour_read_chains_match_a_model() {
    let mut rnd = xorshift(0x2545_F491_4F6C_DD1D);
    let dir = common::scratch("lmdb-chains").join("env");
    let cfg = Config { sync_mode: SyncMode::Off, ..Config::default() };
    let mut s = Store::<Lmdb>::open_with_config(&dir, &cfg).unwrap();
    let mut model = std::collections::BTreeMap::<u64, u64>::new();
    for _ in 0..3_000 {
        let k = rnd() % 10_000;
        if let std::collections::btree_map::Entry::Vacant(e) = model.entry(k) {
            s.insert(k, k ^ 7, 0, &k.to_le_bytes()).unwrap();
            e.insert(k ^ 7);
        }
    }
    let check = |s: &mut Store<Lmdb>, model: &std::collections::BTreeMap<u64, u64>, at: u64, fwd: bool, step: usize| {
        let got = if fwd { s.next(at) } else { s.prev(at) }.unwrap().map(|e| (e.key, e.term, e.data.to_vec()));
        let want = if fwd { model.range(at.saturating_add(1)..).next() } else { model.range(..at).next_back() };
        let want = want.filter(|_| fwd || at > 0).filter(|_| !fwd || at < u64::MAX);
        assert_eq!(
            got,
            want.map(|(&k, &t)| (k, t, k.to_le_bytes().to_vec())),
            "step {step}: {} of {at}",
            if fwd { "next" } else { "prev" }
        );
        got.map(|g| g.0)
    };
    let mut at = 0u64;
    let mut fwd = true;
    let mut in_txn = false;
    let mut saved = model.clone();
    for step in 0..20_000 {
        match rnd() % 100 {
            // Mostly chains: the next read starts where the last one ended.
            0..=69 => match check(&mut s, &model, at, fwd, step) {
                Some(k) => at = k,
                None => {
                    fwd = !fwd;
                    at = if fwd { 0 } else { u64::MAX };
                }
            },
            70..=72 => {
                fwd = !fwd;
            }
            73..=74 => {
                // A read from elsewhere (not where the cursor rests), at
                // times after a point read of that key (which moves the
                // cursor there when the key exists).
                at = rnd() % 10_000;
                if rnd().is_multiple_of(2) {
                    assert_eq!(s.get(at).unwrap().map(|e| e.term), model.get(&at).copied(), "step {step}");
                }
            }
            75..=79 => {
                // Insert next to the chain's position, where its next step goes.
                let k = if fwd { at.saturating_add(1 + rnd() % 3) } else { at.saturating_sub(1 + rnd() % 3) };
                if let std::collections::btree_map::Entry::Vacant(e) = model.entry(k) {
                    s.insert(k, k ^ 7, 0, &k.to_le_bytes()).unwrap();
                    e.insert(k ^ 7);
                }
            }
            80..=83 => {
                // Remove the neighbour the chain would return next.
                let n = if fwd { model.range(at.saturating_add(1)..).next() } else { model.range(..at).next_back() };
                if let Some((&k, _)) = n {
                    assert!(s.remove(k).unwrap());
                    model.remove(&k);
                }
            }
            84..=86 => {
                // Other reads that move the kept cursor.
                let (a, b) = (rnd() % 10_000, rnd() % 10_000);
                let (a, b) = (a.min(b), a.max(b));
                assert_eq!(s.count_range(a..=b).unwrap(), model.range(a..=b).count() as u64, "step {step}");
                let first = s.range(a..=b).next().map(|e| e.unwrap().key);
                assert_eq!(first, model.range(a..=b).next().map(|(&k, _)| k), "step {step}");
                let mut n = 0;
                s.for_each_in(a.., |_| {
                    n += 1;
                    n < 5
                })
                .unwrap();
                assert_eq!(s.get(a).unwrap().map(|e| e.key), model.get(&a).map(|_| a), "step {step}");
                // A point read of the chain's own key, hit or miss.
                assert_eq!(s.exists(at).unwrap(), model.contains_key(&at), "step {step}");
                // A run of point reads of consecutive keys (near each other:
                // through the kept cursor), then the chain goes on from there.
                let run = at..at.saturating_add(1 + rnd() % 100);
                for k in run {
                    let got = s.get(k).unwrap().map(|e| (e.term, e.data.to_vec()));
                    assert_eq!(got, model.get(&k).map(|&t| (t, k.to_le_bytes().to_vec())), "step {step}: get {k}");
                    at = k;
                }
            }
            87..=89 => {
                // A key that expires (lazy expiry: reads skip it).
                let n = if fwd { model.range(at.saturating_add(1)..).next() } else { model.range(..at).next_back() };
                if let Some((&k, _)) = n {
                    s.expire_at(k, std::time::UNIX_EPOCH + std::time::Duration::from_millis(1)).unwrap();
                    model.remove(&k);
                }
            }
            90..=94 if !in_txn => {
                s.begin().unwrap();
                in_txn = true;
                saved = model.clone();
            }
            95..=96 if in_txn => {
                s.commit().unwrap();
                in_txn = false;
            }
            97..=99 if in_txn => {
                s.abort().unwrap();
                in_txn = false;
                model = saved.clone();
            }
            _ => {}
        }
    }
    if in_txn {
        s.commit().unwrap();
    }
}

/// The kept cursor's resting key does not outlive its snapshot: after a
/// commit renews the snapshot and a neighbour read finds nothing (the
/// cursor rests nowhere), the next read from the old key searches again.
#[test]
fn neighbour_read_after_a_new_snapshot_and_a_miss() {
    let dir = common::scratch("lmdb-chain-miss").join("env");
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    for k in [5u64, 7, 9] {
        s.insert(k, k, 0, b"v").unwrap();
    }
    assert_eq!(s.next(5).unwrap().map(|e| e.key), Some(7));
    s.insert(100, 100, 0, b"v").unwrap(); // a commit: a new snapshot
    assert!(s.next(u64::MAX - 1).unwrap().is_none());
    assert_eq!(s.next(7).unwrap().map(|e| e.key), Some(9));
    assert_eq!(s.prev(9).unwrap().map(|e| e.key), Some(7));
    assert!(s.prev(5).unwrap().is_none());
    assert_eq!(s.prev(7).unwrap().map(|e| e.key), Some(5));
}

/// Writes inside a transaction go through one cursor kept for it (nested
/// savepoints get their own): long transactions mixing appends in runs,
/// random inserts, overwrites, updates, removes, range removes, atomic
/// primitives and expiry reclaiming (savepoints: child transactions, some
/// writing many keys), batches and expiries,
/// committed or aborted, read back through every kind of read, agree with
/// a model.
#[test]
fn transaction_writes_match_a_model() {
    use kvidxkit::SetCondition;
    use std::collections::BTreeMap;
    let mut rnd = xorshift(0x0DDB_1A5E_5BAD_5EEDu64);
    let dir = common::scratch("lmdb-wcursor").join("env");
    let cfg = Config { sync_mode: SyncMode::Off, ..Config::default() };
    let mut s = Store::<Lmdb>::open_with_config(&dir, &cfg).unwrap();
    let mut model = BTreeMap::<u64, (u64, Vec<u8>)>::new();
    let val =
        |k: u64, n: u64| -> Vec<u8> { (0..(k % 90) as usize).map(|i| (k as usize + i + n as usize) as u8).collect() };
    let mut next_append = 1_000_000u64;
    for round in 0..40u64 {
        let saved = model.clone();
        s.begin().unwrap();
        for op in 0..(500 + rnd() % 2_500) {
            let k = rnd() % 50_000;
            match rnd() % 20 {
                0..=5 => {
                    // An append run: the key after the largest so far.
                    for _ in 0..(1 + rnd() % 40) {
                        let k = next_append;
                        next_append += 1 + rnd() % 2;
                        s.insert(k, round, op, &val(k, op)).unwrap();
                        model.insert(k, (round, val(k, op)));
                    }
                }
                6..=8 => match s.insert(k, round, op, &val(k, op)) {
                    Ok(()) => assert!(model.insert(k, (round, val(k, op))).is_none(), "round {round}: insert {k}"),
                    Err(e) => assert!(model.contains_key(&k), "round {round}: insert {k}: {e}"),
                },
                9 | 10 => {
                    s.insert_ex(k, round, op, &val(k, op + 1), SetCondition::Always).unwrap();
                    model.insert(k, (round, val(k, op + 1)));
                }
                11 => {
                    let r = s.insert_ex(k, round, op, &val(k, op + 2), SetCondition::IfExists);
                    assert_eq!(r.is_ok(), model.contains_key(&k), "round {round}: update {k}");
                    if r.is_ok() {
                        model.insert(k, (round, val(k, op + 2)));
                    }
                }
                12 | 13 => {
                    // Remove a key that exists (often) or a random one.
                    let k = if rnd().is_multiple_of(2) { model.range(k..).next().map_or(k, |(&k, _)| k) } else { k };
                    assert_eq!(s.remove(k).unwrap(), model.remove(&k).is_some(), "round {round}: remove {k}");
                }
                14 => {
                    let old = s.get_and_set(k, round, op, &val(k, op + 3)).unwrap();
                    let want = model.insert(k, (round, val(k, op + 3)));
                    assert_eq!(old.map(|e| (e.term, e.data)), want, "round {round}: get_and_set {k}");
                }
                15 => {
                    if let Some((&k, (_, v))) = model.range(k..).next() {
                        let v = v.clone();
                        assert!(
                            s.compare_and_swap(k, &v, round, op, &val(k, op + 4)).unwrap(),
                            "round {round}: cas {k}"
                        );
                        model.insert(k, (round, val(k, op + 4)));
                    }
                }
                16 => {
                    let hi = k + rnd() % 200;
                    let n = model.range(k..=hi).count() as u64;
                    assert_eq!(s.remove_range(k..=hi).unwrap(), n, "round {round}: remove_range");
                    let gone: Vec<u64> = model.range(k..=hi).map(|(&k, _)| k).collect();
                    for g in gone {
                        model.remove(&g);
                    }
                }
                17 => {
                    // A batch of new keys (a savepoint of its own).
                    let keys: Vec<u64> = (0..(1 + rnd() % 30)).map(|i| 10_000_000 + k * 32 + i).collect();
                    let vals: Vec<Vec<u8>> = keys.iter().map(|&k| val(k, op)).collect();
                    let fresh: Vec<usize> = (0..keys.len()).filter(|&i| !model.contains_key(&keys[i])).collect();
                    let entries = fresh.iter().map(|&i| kvidxkit::EntryRef {
                        key: keys[i],
                        term: round,
                        cmd: op,
                        data: &vals[i],
                    });
                    let out = s.insert_batch(entries);
                    assert!(out.error.is_none(), "round {round}: batch: {:?}", out.error);
                    for &i in &fresh {
                        model.insert(keys[i], (round, vals[i].clone()));
                    }
                }
                18 => {
                    // An expiry far ahead: later conditional writes of the key
                    // become atomic units (savepoints).
                    if model.contains_key(&k) {
                        s.expire_in(k, std::time::Duration::from_secs(3_600)).unwrap();
                    }
                }
                19 if rnd().is_multiple_of(4) => {
                    // Keys that have expired, then reclaimed: an atomic unit
                    // (a savepoint) of many removes, or an overwrite of an
                    // expired key (remove and insert in one savepoint).
                    let past = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1);
                    let keys: Vec<u64> = model.range(k..).take(1 + (rnd() % 20) as usize).map(|(&k, _)| k).collect();
                    for &g in &keys {
                        s.expire_at(g, past).unwrap();
                        model.remove(&g);
                    }
                    if rnd().is_multiple_of(2) {
                        s.expire_scan(0).unwrap();
                    } else if let Some(&g) = keys.first() {
                        s.insert_ex(g, round, op, &val(g, op + 5), SetCondition::Always).unwrap();
                        model.insert(g, (round, val(g, op + 5)));
                    }
                }
                _ => {
                    let got = s.get(k).unwrap().map(|e| (e.term, e.data.to_vec()));
                    assert_eq!(got.as_ref(), model.get(&k), "round {round}: get {k}");
                    let next = s.next(k).unwrap().map(|e| e.key);
                    assert_eq!(next, model.range(k + 1..).next().map(|(&k, _)| k), "round {round}: next {k}");
                }
            }
        }
        if rnd().is_multiple_of(3) {
            s.abort().unwrap();
            model = saved;
        } else {
            s.commit().unwrap();
        }
        let got: Vec<(u64, u64, Vec<u8>)> = s.range(..).map(|e| e.map(|e| (e.key, e.term, e.data)).unwrap()).collect();
        let want: Vec<(u64, u64, Vec<u8>)> = model.iter().map(|(&k, (t, v))| (k, *t, v.clone())).collect();
        assert_eq!(got.len(), want.len(), "round {round}: entries");
        assert!(got == want, "round {round}: contents differ");
    }
    drop(s);
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    assert_eq!(s.count_range(..).unwrap(), model.len() as u64, "after reopening");
}

/// Keys that cross every 16-bit word of a u64 (LMDB's MDB_INTEGERKEY order
/// compares 16-bit words from the most significant one) and random ones.
fn integer_keys(n: usize, seed: u64) -> Vec<u64> {
    let mut r = xorshift(seed);
    let mut keys = vec![0, 1, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) - 1];
    for shift in (0..64).step_by(8) {
        keys.extend([1u64 << shift, (1u64 << shift).wrapping_sub(1), 0xFFFFu64 << (shift % 49)]);
    }
    while keys.len() < n {
        let x = r();
        // Random keys, and keys that share all but a low or a high part.
        keys.push(match x % 3 {
            0 => x,
            1 => 0x1234_5678_0000_0000 | (x >> 40),
            _ => x >> (x % 64),
        });
    }
    keys
}

/// csrc/lmdb/PATCHES.md patch 6: the comparison the library gives its
/// databases (`mdb_cmp_u64`, which the page search inlines) orders every
/// pair of 8-byte keys as LMDB's own MDB_INTEGERKEY comparison does, so an
/// environment written with one reads back with the other, both ways.
#[test]
fn integer_key_comparison_is_lmdbs_order() {
    let keys = integer_keys(20_000, 0x9E37_79B9_7F4A_7C15);
    // Pairwise, against LMDB's comparison of an integer-keyed database.
    let stock_dir = common::scratch("lmdb-cmp-stock").join("env");
    std::fs::create_dir(&stock_dir).unwrap();
    let mut r = xorshift(7);
    unsafe {
        let env = raw_env(&stock_dir);
        let mut txn = null_mut();
        rc(ffi::mdb_txn_begin(env, null_mut(), 0, &mut txn));
        let dbi = raw_dbi(txn, c"_kvidx_data");
        for i in 0..200_000usize {
            let (a, b) = (keys[i % keys.len()], keys[r() as usize % keys.len()]);
            let b = if i % 5 == 0 { a ^ (1 << (r() % 64)) } else { b };
            let va = ffi::MDB_val { mv_size: 8, mv_data: &a as *const u64 as *mut _ };
            let vb = ffi::MDB_val { mv_size: 8, mv_data: &b as *const u64 as *mut _ };
            let stock = ffi::mdb_cmp(txn, dbi, &va, &vb).signum();
            let ours = ffi::mdb_cmp_u64(&va, &vb).signum();
            assert_eq!(ours, stock, "{a:#x} vs {b:#x}");
            assert_eq!(ours, a.cmp(&b) as i32, "{a:#x} vs {b:#x}");
        }
        // The stock environment: these keys written by LMDB's comparison.
        for &k in &keys {
            put(txn, dbi, k, &value(1, 0, b"stock"));
        }
        rc(ffi::mdb_txn_commit(txn));
        ffi::mdb_env_close(env);
    }
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    // Read with the library's comparison: every key found, in order.
    let mut s = Store::<Lmdb>::open(&stock_dir).unwrap();
    for &k in &sorted {
        assert_eq!(s.get(k).unwrap().map(|e| e.term), Some(1), "key {k:#x}");
        assert_eq!(s.get(k ^ 1).unwrap().is_some(), sorted.binary_search(&(k ^ 1)).is_ok(), "key {:#x}", k ^ 1);
    }
    let walked: Vec<u64> = s.range(..).map(|e| e.unwrap().key).collect();
    assert_eq!(walked, sorted);
    drop(s);
    // Written with the library's comparison, read with LMDB's.
    let ours_dir = common::scratch("lmdb-cmp-ours").join("env");
    let mut s = Store::<Lmdb>::open(&ours_dir).unwrap();
    s.begin().unwrap();
    for &k in &keys {
        s.insert_ex(k, 2, 0, b"ours", kvidxkit::SetCondition::Always).unwrap();
    }
    s.commit().unwrap();
    drop(s);
    unsafe {
        let env = raw_env(&ours_dir);
        let mut txn = null_mut();
        rc(ffi::mdb_txn_begin(env, null_mut(), ffi::MDB_RDONLY, &mut txn));
        let dbi = raw_dbi(txn, c"_kvidx_data");
        for &k in &sorted {
            assert_eq!(get(txn, dbi, k), Some(value(2, 0, b"ours")), "key {k:#x}");
        }
        let mut cur = null_mut();
        rc(ffi::mdb_cursor_open(txn, dbi, &mut cur));
        let (mut k, mut v) =
            (ffi::MDB_val { mv_size: 0, mv_data: null_mut() }, ffi::MDB_val { mv_size: 0, mv_data: null_mut() });
        let mut walked = Vec::new();
        let mut op = ffi::MDB_FIRST;
        while ffi::mdb_cursor_get(cur, &mut k, &mut v, op) == 0 {
            walked.push(std::ptr::read_unaligned(k.mv_data as *const u64));
            op = ffi::MDB_NEXT;
        }
        assert_eq!(walked, sorted);
        ffi::mdb_cursor_close(cur);
        ffi::mdb_txn_abort(txn);
        ffi::mdb_env_close(env);
    }
}

/// An iterator's chunk is LMDB's own records, checked where they lie
/// (mdb_cursor_records, then the cursor step at a page's edge). A record
/// too short to hold term and cmd, wherever it lies on its page, ends a
/// scan with Error::Corrupt when the scan reaches it, in both directions,
/// after every entry before it came out intact; one outside the range is
/// never looked at.
#[test]
fn iterators_stop_at_a_short_record_anywhere_on_a_page() {
    const N: u64 = 400;
    let data = |k: u64| vec![k as u8; 40];
    for bad in [1, 2, 3, 37, 54, 55, 56, 57, 150, 399, N] {
        let dir = common::scratch("lmdb-short-record").join("env");
        std::fs::create_dir_all(&dir).unwrap();
        unsafe {
            let env = raw_env(&dir);
            let mut txn = null_mut();
            rc(ffi::mdb_txn_begin(env, null_mut(), 0, &mut txn));
            let dbi = raw_dbi(txn, c"_kvidx_data");
            raw_dbi(txn, c"_kvidx_ttl");
            for k in 1..=N {
                if k == bad {
                    put(txn, dbi, k, &k.to_ne_bytes());
                } else {
                    put(txn, dbi, k, &value(k ^ 1, k ^ 2, &data(k)));
                }
            }
            rc(ffi::mdb_txn_commit(txn));
            ffi::mdb_env_close(env);
        }
        let mut s = Store::<Lmdb>::open(&dir).unwrap();
        for backward in [false, true] {
            let mut want: Vec<u64> = if backward { (bad + 1..=N).rev().collect() } else { (1..bad).collect() };
            let mut got = Vec::new();
            let mut end = None;
            let scan: Box<dyn Iterator<Item = _>> =
                if backward { Box::new(s.range(1..=N).rev()) } else { Box::new(s.range(1..=N)) };
            for e in scan {
                match e {
                    Ok(e) => {
                        assert_eq!((e.term, e.cmd, &e.data[..]), (e.key ^ 1, e.key ^ 2, &data(e.key)[..]), "bad {bad}");
                        got.push(e.key);
                    }
                    Err(e) => {
                        end = Some(e);
                        break;
                    }
                }
            }
            assert_eq!(got, want, "bad {bad}, backward {backward}: the entries before it ({end:?})");
            assert!(
                matches!(end, Some(kvidxkit::Error::Corrupt(_))),
                "bad {bad}, backward {backward}: the scan ends with {end:?}"
            );
            // A range that ends just before it reads everything, cleanly.
            want.clear();
            let (lo, hi) = if backward { (bad + 1, N) } else { (1, bad - 1) };
            if lo <= hi {
                let keys: Vec<u64> = if backward {
                    s.range(lo..=hi).rev().map(|e| e.unwrap().key).collect()
                } else {
                    s.range(lo..=hi).map(|e| e.unwrap().key).collect()
                };
                assert_eq!(keys.len() as u64, hi - lo + 1, "bad {bad}, backward {backward}: [{lo}, {hi}]");
            }
        }
    }
}
