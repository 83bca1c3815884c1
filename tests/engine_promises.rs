//! Engine promises that no other test would notice breaking (issue 10):
//! each test here fails when its promise is broken on purpose.
//! - every delete removes the TTL record on disk, not just in memory;
//! - orphan TTL records are dropped at open;
//! - an ExpireScan that fails part way inside a transaction leaves the TTL
//!   index and the file in agreement (outside one it changes nothing);
//! - a failed UpdateConfig leaves the engine's real settings (read back
//!   from the engine, not from the cached configuration);
//! - an LMDB transaction belongs to the thread that began it;
//! - a transaction that outgrows the LMDB map is rolled back with DISK_FULL;
//! - LMDB page and free-page statistics are true;
//! - kvidxFsync is a real barrier on both engines (the sync system calls it
//!   makes are counted through an LD_PRELOAD shim).
#![cfg(all(feature = "sqlite", feature = "lmdb"))]

mod common;
#[path = "support/raw_lmdb.rs"]
mod raw_lmdb;
#[path = "support/shim.rs"]
mod shim;

use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::sync::{Arc, Mutex};

use kvidxkit::engines::lmdb_ffi as ffi;
use kvidxkit::formats::{ExportOptions, ImportOptions};
use kvidxkit::{Config, Engine, ErrorCode, JournalMode, Lmdb, SetCondition, Sqlite, Store, SyncMode, Ttl};
use raw_lmdb::{raw_dbi, rc, with_raw_lmdb};

const HOUR: u64 = 3_600_000;

fn path_for<E: Engine>(name: &str) -> PathBuf {
    common::scratch(name).join(match E::NAME {
        "LMDB" => "env",
        "RocksDB" => "db",
        _ => "db.sqlite3",
    })
}

/// Raw access to a RocksDB directory (a build with the `rocksdb` feature):
/// TTL records are the 12-byte keys `0x00 'T' 'T' 'L'` + the key big-endian.
#[cfg(feature = "rocksdb")]
mod raw_rocksdb {
    use kvidxkit::engines::rocksdb::{ffi, ttl_key};
    use std::ffi::{CStr, CString};
    use std::path::Path;
    use std::ptr::null_mut;

    fn ok(err: *mut std::ffi::c_char) {
        assert!(err.is_null(), "RocksDB: {}", unsafe { CStr::from_ptr(err) }.to_string_lossy());
    }

    fn with_db<R>(path: &Path, f: impl FnOnce(*mut ffi::rocksdb_t) -> R) -> R {
        let c = CString::new(path.to_str().unwrap()).unwrap();
        unsafe {
            let opts = ffi::rocksdb_options_create();
            let mut err = null_mut();
            let db = ffi::rocksdb_open(opts, c.as_ptr(), &mut err);
            ok(err);
            let r = f(db);
            ffi::rocksdb_close(db);
            ffi::rocksdb_options_destroy(opts);
            r
        }
    }

    pub fn ttl_records(path: &Path) -> Vec<u64> {
        with_db(path, |db| unsafe {
            let ro = ffi::rocksdb_readoptions_create();
            let it = ffi::rocksdb_create_iterator(db, ro);
            let mut out = Vec::new();
            ffi::rocksdb_iter_seek_to_first(it);
            while ffi::rocksdb_iter_valid(it) != 0 {
                let mut n = 0;
                let k = std::slice::from_raw_parts(ffi::rocksdb_iter_key(it, &mut n) as *const u8, n);
                if n == 12 && k[..4] == [0, b'T', b'T', b'L'] {
                    out.push(u64::from_be_bytes(k[4..].try_into().unwrap()));
                }
                ffi::rocksdb_iter_next(it);
            }
            ffi::rocksdb_iter_destroy(it);
            ffi::rocksdb_readoptions_destroy(ro);
            out
        })
    }

    pub fn put_ttl(path: &Path, key: u64, at: u64) {
        with_db(path, |db| unsafe {
            let wo = ffi::rocksdb_writeoptions_create();
            let (k, v) = (ttl_key(key), at.to_ne_bytes());
            let mut err = null_mut();
            ffi::rocksdb_put(db, wo, k.as_ptr() as _, k.len(), v.as_ptr() as _, v.len(), &mut err);
            ok(err);
            ffi::rocksdb_writeoptions_destroy(wo);
        })
    }
}

// ----------------------------------------------------------------------
// Raw access to the TTL records on disk (with the store closed).

/// The keys that have a TTL record on disk.
fn ttl_records<E: Engine>(path: &Path) -> Vec<u64> {
    #[cfg(feature = "rocksdb")]
    if E::NAME == "RocksDB" {
        return raw_rocksdb::ttl_records(path);
    }
    if E::NAME == "LMDB" {
        with_raw_lmdb(path, false, |txn| unsafe {
            let dbi = raw_dbi(txn, c"_kvidx_ttl");
            let mut cur = null_mut();
            rc(ffi::mdb_cursor_open(txn, dbi, &mut cur));
            let mut k = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
            let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
            let mut out = Vec::new();
            let mut op = ffi::MDB_FIRST;
            while ffi::mdb_cursor_get(cur, &mut k, &mut v, op) == 0 {
                out.push(std::ptr::read_unaligned(k.mv_data as *const u64));
                op = ffi::MDB_NEXT;
            }
            ffi::mdb_cursor_close(cur);
            out
        })
    } else {
        let c = rusqlite::Connection::open(path).unwrap();
        let mut st = c.prepare("SELECT id FROM _kvidx_ttl ORDER BY id").unwrap();
        st.query_map([], |r| r.get::<_, i64>(0)).unwrap().map(|k| k.unwrap() as u64).collect()
    }
}

/// Writes a TTL record for `key` directly on disk (an orphan if the key has
/// no entry: the original left those behind).
fn put_raw_ttl<E: Engine>(path: &Path, key: u64, at: u64) {
    #[cfg(feature = "rocksdb")]
    if E::NAME == "RocksDB" {
        return raw_rocksdb::put_ttl(path, key, at);
    }
    if E::NAME == "LMDB" {
        raw_lmdb::put_raw(path, c"_kvidx_ttl", key, &at.to_ne_bytes())
    } else {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute("INSERT OR REPLACE INTO _kvidx_ttl (id, expires_at) VALUES (?1, ?2)", [key as i64, at as i64])
            .unwrap();
    }
}

fn close<E: Engine>(s: Store<E>) {
    s.close().map_err(|(_, e)| e).unwrap();
}

// ----------------------------------------------------------------------
// Every delete removes the TTL record on disk.

fn deletes_remove_ttl_records<E: Engine>() {
    type Delete<E> = fn(&mut Store<E>, u64, &Path);
    let deletes: [(&str, Delete<E>); 6] = [
        ("Remove", |s, k, _| assert!(s.remove(k).unwrap())),
        ("RemoveRange", |s, k, _| assert_eq!(s.remove_range(k - 1..=k + 1).unwrap(), 1)),
        ("RemoveAfterInclusive", |s, k, _| assert_eq!(s.remove_range(k..).unwrap(), 1)),
        ("GetAndRemove", |s, k, _| assert!(s.get_and_remove(k).unwrap().is_some())),
        ("ExpireScan", |s, k, _| {
            s.expire_at(k, std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_000)).unwrap();
            assert_eq!(s.expire_scan(0).unwrap(), 1);
        }),
        ("Import with clear", |s, _, dir| {
            let f = dir.join("empty.bin");
            s.export_to(&f, &ExportOptions { start: 1, end: 0, ..ExportOptions::default() }).unwrap();
            let opts = ImportOptions { clear_before_import: true, ..ImportOptions::default() };
            s.import_from(&f, &opts).unwrap();
        }),
    ];
    for (name, delete) in deletes {
        let path = path_for::<E>(&format!("ttl-delete-{}", E::NAME));
        let dir = path.parent().unwrap().to_path_buf();
        let k = 1000;
        {
            let mut s = Store::<E>::open(&path).unwrap();
            s.insert(k, 1, 1, b"old").unwrap();
            s.expire_in(k, std::time::Duration::from_millis(HOUR)).unwrap();
            delete(&mut s, k, &dir);
            s.insert(k, 2, 2, b"new").unwrap();
            assert_eq!(s.ttl(k).unwrap(), Ttl::Persistent, "{} {name}: in memory", E::NAME);
            close(s);
        }
        assert_eq!(ttl_records::<E>(&path), Vec::<u64>::new(), "{} {name}: the TTL record is still on disk", E::NAME);
        let mut s = Store::<E>::open(&path).unwrap();
        assert_eq!(s.ttl(k).unwrap(), Ttl::Persistent, "{} {name}: after reopening", E::NAME);
    }
}

#[test]
fn every_delete_removes_the_ttl_record_on_disk() {
    deletes_remove_ttl_records::<Sqlite>();
    deletes_remove_ttl_records::<Lmdb>();
    #[cfg(feature = "rocksdb")]
    deletes_remove_ttl_records::<kvidxkit::engines::Rocksdb>();
}

// ----------------------------------------------------------------------
// Orphan TTL records are dropped at open.

fn orphans_dropped<E: Engine>() {
    let path = path_for::<E>(&format!("ttl-orphan-{}", E::NAME));
    {
        let mut s = Store::<E>::open(&path).unwrap();
        s.insert(1, 1, 1, b"a").unwrap();
        s.expire_in(1, std::time::Duration::from_millis(HOUR)).unwrap();
        close(s);
    }
    put_raw_ttl::<E>(&path, 7, common::now_ms() + HOUR);
    assert_eq!(ttl_records::<E>(&path), vec![1, 7]);
    // Read-only: ignored, not removed.
    {
        let cfg = Config { read_only: true, ..Config::default() };
        let s = Store::<E>::open_with_config(&path, &cfg).unwrap();
        assert_eq!(s.ttl_count(), 1, "{}: a read-only open ignores the orphan", E::NAME);
        close(s);
        assert_eq!(ttl_records::<E>(&path), vec![1, 7], "{}: a read-only open changes nothing", E::NAME);
    }
    {
        let mut s = Store::<E>::open(&path).unwrap();
        assert_eq!(s.ttl_count(), 1, "{}: the orphan is not indexed", E::NAME);
        s.insert(7, 7, 7, b"seven").unwrap();
        assert_eq!(s.ttl(7).unwrap(), Ttl::Persistent, "{}: a new key 7 does not inherit the orphan", E::NAME);
        assert!(matches!(s.ttl(1).unwrap(), Ttl::Remaining(_)));
        close(s);
    }
    assert_eq!(ttl_records::<E>(&path), vec![1], "{}: the orphan record is gone from disk", E::NAME);
}

#[test]
fn orphan_ttl_records_are_dropped_at_open() {
    orphans_dropped::<Sqlite>();
    orphans_dropped::<Lmdb>();
    #[cfg(feature = "rocksdb")]
    orphans_dropped::<kvidxkit::engines::Rocksdb>();
}

// ----------------------------------------------------------------------
// A failed UpdateConfig leaves the engine's real settings.

fn sqlite_pragma(s: &Store<Sqlite>, name: &str) -> i64 {
    s.engine().connection().query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn a_failed_update_config_leaves_the_real_sqlite_settings() {
    let path = path_for::<Sqlite>("config-fail-sqlite");
    let cfg = Config {
        cache_size_bytes: 8 << 20,
        sync_mode: SyncMode::Normal,
        busy_timeout_ms: 1000,
        recursive_triggers: true,
        foreign_keys: false,
        ..Config::default()
    };
    let mut s = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
    let real = |s: &Store<Sqlite>| {
        ["cache_size", "synchronous", "busy_timeout", "recursive_triggers", "foreign_keys", "query_only"]
            .map(|p| sqlite_pragma(s, p))
    };
    let before = real(&s);
    assert_eq!(before, [-8192, 1, 1000, 1, 0, 0]);
    // Leaving WAL mode is refused inside a transaction: the update fails
    // after the cache size and busy timeout were already applied.
    s.begin().unwrap();
    let bad = Config {
        cache_size_bytes: 16 << 20,
        busy_timeout_ms: 2000,
        journal_mode: JournalMode::Delete,
        sync_mode: SyncMode::Full,
        recursive_triggers: false,
        foreign_keys: true,
        ..cfg.clone()
    };
    assert!(s.update_config(&bad).is_err());
    assert_eq!(real(&s), before, "SQLite's own settings after a failed UpdateConfig");
    assert_eq!(sqlite_pragma_text(&s, "journal_mode"), "wal");
    s.abort().unwrap();
    let now = s.current_config().clone();
    assert_eq!((now.cache_size_bytes, now.busy_timeout_ms, now.sync_mode), (8 << 20, 1000, SyncMode::Normal));
    // A read-only flag the connection cannot drop: nothing changes either.
    let ro = Config { read_only: true, ..cfg.clone() };
    close(s);
    let mut s = Store::<Sqlite>::open_with_config(&path, &ro).unwrap();
    let before = real(&s);
    assert!(s.update_config(&Config { read_only: false, cache_size_bytes: 64 << 20, ..cfg }).is_err());
    assert_eq!(real(&s), before);
}

fn sqlite_pragma_text(s: &Store<Sqlite>, name: &str) -> String {
    s.engine().connection().query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).unwrap()
}

/// LMDB: the map size and MDB_NOSYNC read back from the environment.
fn lmdb_real(s: &Store<Lmdb>) -> (usize, bool) {
    unsafe {
        let env = s.engine().raw_env();
        let mut info: ffi::MDB_envinfo = std::mem::zeroed();
        rc(ffi::mdb_env_info(env, &mut info));
        let mut flags = 0;
        rc(ffi::mdb_env_get_flags(env, &mut flags));
        (info.me_mapsize, flags & ffi::MDB_NOSYNC != 0)
    }
}

#[test]
fn a_failed_update_config_leaves_the_real_lmdb_settings() {
    let path = path_for::<Lmdb>("config-fail-lmdb");
    let cfg = Config { mmap_size_bytes: 1 << 20, sync_mode: SyncMode::Full, ..Config::default() };
    let mut s = Store::<Lmdb>::open_with_config(&path, &cfg).unwrap();
    assert_eq!(lmdb_real(&s), (1 << 20, false));
    // The map cannot be resized inside a transaction.
    s.begin().unwrap();
    let bad = Config { mmap_size_bytes: 4 << 20, sync_mode: SyncMode::Off, ..cfg.clone() };
    assert_eq!(s.update_config(&bad).unwrap_err().code(), ErrorCode::TransactionActive);
    assert_eq!(lmdb_real(&s), (1 << 20, false), "the environment's own settings after a failed UpdateConfig");
    s.commit().unwrap();
    assert_eq!(s.current_config().sync_mode, SyncMode::Full);
    // Both apply once they can.
    s.update_config(&bad).unwrap();
    assert_eq!(lmdb_real(&s), (4 << 20, true));
    close(s);
    // An environment opened read-only cannot be made writable.
    let ro = Config { read_only: true, ..cfg.clone() };
    let mut s = Store::<Lmdb>::open_with_config(&path, &ro).unwrap();
    let before = lmdb_real(&s);
    let bad = Config { read_only: false, mmap_size_bytes: 8 << 20, sync_mode: SyncMode::Off, ..cfg };
    assert_eq!(s.update_config(&bad).unwrap_err().code(), ErrorCode::ReadOnly);
    assert_eq!(lmdb_real(&s), before);
    assert!(s.current_config().read_only);
}

// ----------------------------------------------------------------------
// An LMDB transaction belongs to the thread that began it.

#[test]
fn an_lmdb_transaction_belongs_to_the_thread_that_began_it() {
    let path = path_for::<Lmdb>("lmdb-txn-thread");
    let s = Arc::new(Mutex::new(Store::<Lmdb>::open(&path).unwrap()));
    s.lock().unwrap().insert(10, 0, 0, b"committed").unwrap();
    s.lock().unwrap().begin().unwrap();
    s.lock().unwrap().insert(1, 1, 1, b"uncommitted").unwrap();
    let other = {
        let s = s.clone();
        std::thread::spawn(move || {
            let mut s = s.lock().unwrap();
            let locked = |r: kvidxkit::Result<()>| r.err().map(|e| e.code()) == Some(ErrorCode::Locked);
            vec![
                ("Get of the uncommitted key", locked(s.get(1).map(|_| ()))),
                ("Get of a committed key", locked(s.get(10).map(|_| ()))),
                ("iterator", locked(s.iter().next().unwrap().map(|_| ()))),
                ("Insert", locked(s.insert(2, 2, 2, b"other thread"))),
                ("Commit", locked(s.commit())),
                ("Abort", locked(s.abort())),
                ("still in the transaction", Ok::<_, ()>(s.in_transaction()) == Ok(true)),
            ]
        })
    };
    let bad: Vec<&str> = other.join().unwrap().into_iter().filter(|(_, ok)| !ok).map(|(w, _)| w).collect();
    assert!(bad.is_empty(), "calls from another thread during the transaction were not refused with LOCKED: {bad:?}");
    {
        let mut s = s.lock().unwrap();
        s.insert(3, 3, 3, b"owner").unwrap();
        s.commit().unwrap();
        assert!(s.exists(1).unwrap() && s.exists(3).unwrap() && !s.exists(2).unwrap());
    }
    // Once committed, another thread begins its own.
    let s2 = s.clone();
    std::thread::spawn(move || {
        let mut s = s2.lock().unwrap();
        s.begin().unwrap();
        s.insert(4, 4, 4, b"second thread").unwrap();
        s.commit().unwrap();
    })
    .join()
    .unwrap();
    assert!(s.lock().unwrap().exists(4).unwrap());
}

// ----------------------------------------------------------------------
// A transaction that outgrows the LMDB map is rolled back with DISK_FULL.

#[test]
fn a_transaction_that_outgrows_the_lmdb_map_is_rolled_back_with_disk_full() {
    for nested in [false, true] {
        let path = path_for::<Lmdb>(&format!("lmdb-map-full-{nested}"));
        let cfg = Config { mmap_size_bytes: 1 << 20, sync_mode: SyncMode::Off, ..Config::default() };
        let mut s = Store::<Lmdb>::open_with_config(&path, &cfg).unwrap();
        // With `nested`, every write of the transaction is an atomic unit
        // (an overwrite of a key that has a TTL), i.e. a nested transaction
        // inside the caller's; else a plain insert.
        let keys: Vec<u64> = (1000..3000).collect();
        if nested {
            s.begin().unwrap();
            for &k in &keys {
                s.insert(k, 0, 0, b"before").unwrap();
                s.expire_in(k, std::time::Duration::from_millis(HOUR)).unwrap();
            }
            s.commit().unwrap();
        }
        s.insert(1, 0, 0, b"outside").unwrap();
        let before = s.key_count().unwrap();
        let v = vec![0x77u8; 4000];
        let write = |s: &mut Store<Lmdb>, k: u64| {
            if nested { s.insert_ex(k, 1, 1, &v, SetCondition::Always) } else { s.insert(k, 1, 1, &v) }
        };
        s.begin().unwrap();
        let mut failed = None;
        let mut n = 0;
        for &k in &keys {
            if let Err(e) = write(&mut s, k) {
                failed = Some(e);
                break;
            }
            n += 1;
        }
        let e = failed.unwrap_or_else(|| panic!("nested={nested}: 8 MB never filled a 1 MB map"));
        assert_eq!(e.code(), ErrorCode::DiskFull, "nested={nested}: {e}");
        assert!(!s.in_transaction(), "nested={nested}: the transaction is rolled back");
        assert_eq!(s.key_count().unwrap(), before, "nested={nested}: nothing of it remains");
        assert_eq!(s.get(1000).unwrap().map(|e| e.data.to_vec()), nested.then(|| b"before".to_vec()));
        // Retried, it fits: the map grew.
        s.begin().unwrap();
        for &k in &keys[..n + 1] {
            write(&mut s, k).unwrap();
        }
        s.commit().unwrap();
        assert!(s.current_config().mmap_size_bytes > 1 << 20);
        assert_eq!(s.get(1000).unwrap().unwrap().data, &v[..]);
    }
}

// ----------------------------------------------------------------------
// LMDB page and free-page statistics are true.

#[test]
fn lmdb_page_and_free_page_statistics_are_true() {
    let path = path_for::<Lmdb>("lmdb-stats");
    let st = {
        let cfg = Config { sync_mode: SyncMode::Off, ..Config::default() };
        let mut s = Store::<Lmdb>::open_with_config(&path, &cfg).unwrap();
        let v = vec![1u8; 300];
        for k in 0..3000u64 {
            s.insert(k, 0, 0, &v).unwrap();
        }
        s.insert(5000, 0, 0, &vec![2u8; 20_000]).unwrap();
        for k in 0..1500u64 {
            s.expire_in(k * 2, std::time::Duration::from_millis(HOUR)).unwrap();
        }
        s.remove_range(500..=2500).unwrap();
        s.remove(5000).unwrap();
        let st = s.stats().unwrap();
        close(s);
        st
    };
    // What LMDB says, and an independent account: every page is a meta
    // page, a page of one of the four trees, or on the free list.
    let (psize, last, trees) = with_raw_lmdb(&path, false, |txn| unsafe {
        let env = ffi::mdb_txn_env(txn);
        let mut info: ffi::MDB_envinfo = std::mem::zeroed();
        rc(ffi::mdb_env_info(env, &mut info));
        let mut pages = 0u64;
        let data = raw_dbi(txn, c"_kvidx_data");
        let ttl = raw_dbi(txn, c"_kvidx_ttl");
        let mut psize = 0;
        for dbi in [0, 1, data, ttl] {
            let mut ms: ffi::MDB_stat = std::mem::zeroed();
            rc(ffi::mdb_stat(txn, dbi, &mut ms));
            psize = ms.ms_psize as u64;
            pages += (ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages) as u64;
        }
        (psize, info.me_last_pgno as u64, pages)
    });
    assert_eq!(st.page_size, psize);
    assert_eq!(st.page_count, last + 1, "pages in use: the last page number + 1");
    assert!(st.free_pages > 0, "a range remove frees pages");
    assert_eq!(st.page_count, 2 + trees + st.free_pages, "meta + tree pages + free pages = every page");
    assert_eq!(st.database_file_size, std::fs::metadata(path.join("data.mdb")).unwrap().len());
    assert_eq!(st.total_keys, 3000 - 2001);
}

// ----------------------------------------------------------------------
// kvidxFsync is a real barrier (count the sync calls it makes).

#[test]
fn fsync_is_a_real_barrier_on_both_engines() {
    let so = shim::shim();
    let src = common::project_dir().join("tests-c/engine/fsync_barrier.c");
    for link in [common::Link::Static, common::Link::Shared] {
        let exe = common::compile_c(std::slice::from_ref(&src), "engine_fsync_barrier", link, &["-Werror"])
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = common::scratch("fsync-barrier");
        let log = dir.join("sync.log");
        let o = std::process::Command::new(&exe)
            .arg(&dir)
            .env("LD_PRELOAD", &so)
            .env("KVIDX_SHIM_LOG", &log)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{link:?}: {out}{}", String::from_utf8_lossy(&o.stderr));
        let log = std::fs::read_to_string(&log).unwrap();
        let phase = |from: &str, to: &str| -> Vec<String> {
            let a = log.find(&format!("mark {from}\n")).unwrap_or_else(|| panic!("no mark {from}:\n{log}"));
            let b = log.find(&format!("mark {to}\n")).unwrap();
            log[a..b].lines().filter(|l| l.starts_with("sync ")).map(String::from).collect()
        };
        let dirname = dir.to_str().unwrap();
        // SQLite (synchronous OFF): commits sync nothing; Fsync syncs the
        // WAL, the database file and the directory.
        let commits = phase("sqlite commit", "sqlite fsync");
        assert!(commits.is_empty(), "{link:?}: SQLite with syncMode OFF synced at commit: {commits:?}");
        let f = phase("sqlite fsync", "sqlite done");
        for (what, want) in [("the WAL", "db.sqlite3-wal".to_string()), ("the database", "db.sqlite3".to_string())] {
            assert!(
                f.iter().any(|l| l.ends_with(&format!("/{want}"))),
                "{link:?}: SQLite Fsync did not sync {what}: {f:?}"
            );
        }
        assert!(f.iter().any(|l| l.ends_with(dirname)), "{link:?}: SQLite Fsync did not sync the directory: {f:?}");
        // LMDB (MDB_NOSYNC): commits sync nothing; Fsync syncs data.mdb.
        let commits = phase("lmdb commit", "lmdb fsync");
        assert!(commits.is_empty(), "{link:?}: LMDB with syncMode OFF synced at commit: {commits:?}");
        let f = phase("lmdb fsync", "lmdb done");
        assert!(f.iter().any(|l| l.ends_with("/env/data.mdb")), "{link:?}: LMDB Fsync did not sync data.mdb: {f:?}");
        // RocksDB (write options without sync): commits sync nothing;
        // Fsync syncs the write-ahead log.
        if cfg!(feature = "rocksdb") {
            let commits = phase("rocksdb commit", "rocksdb fsync");
            assert!(commits.is_empty(), "{link:?}: RocksDB with syncMode OFF synced at commit: {commits:?}");
            let f = phase("rocksdb fsync", "rocksdb done");
            assert!(
                f.iter().any(|l| l.contains("/rocks/") && l.ends_with(".log")),
                "{link:?}: RocksDB Fsync did not sync the write-ahead log: {f:?}"
            );
        }
    }
}

// ----------------------------------------------------------------------
// ExpireScan inside a transaction takes no savepoint (behaviour.md D2): a
// failure part way keeps what it reclaimed before, in the transaction, and
// the in-memory index says exactly what the file holds. The failure is
// made by a trigger (added through SQLite) that refuses, once per
// transaction, the delete of key 4's TTL record: after key 4's entry went.

const KEYS: std::ops::RangeInclusive<u64> = 1..=10;

fn expired_keys_with_a_refusing_trigger(path: &Path) -> Store<Sqlite> {
    let mut s = Store::<Sqlite>::open(path).unwrap();
    for k in KEYS {
        s.insert(k, k, k, b"expired").unwrap();
        s.expire_at(k, std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_000)).unwrap();
    }
    close(s);
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE fired (x);
         CREATE TRIGGER refuse_once BEFORE DELETE ON _kvidx_ttl
         WHEN old.id = 4 AND NOT EXISTS (SELECT 1 FROM fired)
         BEGIN INSERT INTO fired VALUES (1); SELECT RAISE(FAIL, 'refused once'); END;",
    )
    .unwrap();
    drop(c);
    Store::<Sqlite>::open(path).unwrap()
}

fn live_or_kept(s: &mut Store<Sqlite>) -> (Vec<u64>, usize) {
    (KEYS.filter(|&k| s.exists(k).unwrap()).collect(), s.ttl_count())
}

#[test]
fn an_expire_scan_that_fails_part_way_leaves_index_and_file_in_agreement() {
    let path = path_for::<Sqlite>("expire-scan-part-way");
    let mut s = expired_keys_with_a_refusing_trigger(&path);
    assert_eq!(s.ttl_count(), 10);

    // Outside a transaction: its own, rolled back whole.
    assert!(s.expire_scan(0).is_err());
    assert_eq!(live_or_kept(&mut s), (vec![], 10), "outside a transaction nothing is reclaimed");

    // Inside one: keys 1-3 reclaimed, key 4's entry gone and its TTL record
    // kept (on disk and in the index), keys 5-10 not reached.
    s.begin().unwrap();
    assert!(s.expire_scan(0).is_err());
    assert!(s.in_transaction(), "the failed scan ended the transaction");
    assert_eq!(live_or_kept(&mut s), (vec![], 7), "after the failure: TTL records of keys 4-10 kept");
    // Key 4 inserted again: its leftover TTL record goes (the trigger has
    // fired in this transaction), the new entry is persistent.
    s.insert(4, 40, 40, b"new").unwrap();
    assert_eq!(s.ttl(4).unwrap(), Ttl::Persistent);
    assert_eq!(s.expire_scan(0).unwrap(), 6, "the scan again: keys 5-10");
    assert_eq!(live_or_kept(&mut s), (vec![4], 0));
    s.commit().unwrap();
    close(s);

    // The file agrees: key 4 alone, no TTL record left.
    assert_eq!(ttl_records::<Sqlite>(&path), Vec::<u64>::new());
    let mut s = Store::<Sqlite>::open(&path).unwrap();
    assert_eq!(live_or_kept(&mut s), (vec![4], 0));
    assert_eq!(s.get(4).unwrap().map(|e| (e.term, e.data.to_vec())), Some((40, b"new".to_vec())));
    assert_eq!(s.count_range(..).unwrap(), 1);

    // Abort undoes a scan that failed part way like any other call.
    let path = path_for::<Sqlite>("expire-scan-part-way-abort");
    let mut s = expired_keys_with_a_refusing_trigger(&path);
    s.begin().unwrap();
    assert!(s.expire_scan(0).is_err());
    assert_eq!(live_or_kept(&mut s), (vec![], 7));
    s.abort().unwrap();
    assert_eq!(live_or_kept(&mut s), (vec![], 10));
    close(s);
    assert_eq!(ttl_records::<Sqlite>(&path), KEYS.collect::<Vec<u64>>());
}
