//! The safe Rust API, run against every engine the library ships.

mod common;

use std::ops::Bound;

use kvidxkit::{Config, Dir, Engine, Entry, EntryRef, Error, ErrorCode, JournalMode, Store, SyncMode};

const H: u64 = 1 << 63;
const MAX: u64 = u64::MAX;
const EDGE_KEYS: [u64; 5] = [0, H - 1, H, MAX - 1, MAX];

fn path_for<E: Engine>(name: &str) -> std::path::PathBuf {
    common::scratch(name).join(format!("db-{}", E::NAME))
}

fn open<E: Engine>(name: &str) -> Store<E> {
    Store::<E>::open(path_for::<E>(name)).expect("open")
}

fn keys<E: Engine>(s: &mut Store<E>, dir: Dir) -> Vec<u64> {
    match dir {
        Dir::Forward => s.iter().map(|e| e.unwrap().key).collect(),
        Dir::Backward => s.iter().rev().map(|e| e.unwrap().key).collect(),
    }
}

fn insert_keys<E: Engine>(s: &mut Store<E>, ks: &[u64]) {
    for &k in ks {
        s.insert(k, k ^ 1, k ^ 2, &k.to_le_bytes()).unwrap();
    }
}

fn point_ops<E: Engine>() {
    let mut s = open::<E>("point");
    s.insert(5, 7, 9, b"hello").unwrap();
    let e = s.get(5).unwrap().unwrap();
    assert_eq!((e.key, e.term, e.cmd, e.data), (5, 7, 9, &b"hello"[..]));
    assert_eq!(s.insert(5, 1, 1, b"x"), Err(Error::DuplicateKey(5)));
    assert_eq!(s.get(5).unwrap().unwrap().data, b"hello");
    assert!(s.exists(5).unwrap());
    assert!(s.exists_dual(5, 7).unwrap());
    assert!(!s.exists_dual(5, 8).unwrap());
    assert!(s.get(6).unwrap().is_none());
    s.insert(6, MAX, MAX, b"").unwrap();
    let e = s.get(6).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data.len()), (MAX, MAX, 0));
    assert!(s.remove(5).unwrap());
    assert!(!s.remove(5).unwrap());
    assert!(!s.exists(5).unwrap());
    let big = vec![0xA5u8; 1 << 20];
    s.insert(7, 0, 0, &big).unwrap();
    assert_eq!(s.get(7).unwrap().unwrap().data, &big[..]);
}

fn unsigned_order<E: Engine>() {
    let mut s = open::<E>("order");
    let mut all = vec![5, 100, H + 7];
    all.extend(EDGE_KEYS);
    insert_keys(&mut s, &all);
    all.sort_unstable();
    assert_eq!(keys(&mut s, Dir::Forward), all);
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(keys(&mut s, Dir::Backward), rev);
    assert_eq!(s.max_key().unwrap(), Some(MAX));
    assert_eq!(s.min_key().unwrap(), Some(0));
    // Strict neighbours, for every stored key and the extremes.
    for (n, &k) in all.iter().enumerate() {
        let next = s.next(k).unwrap().map(|e| e.key);
        assert_eq!(next, all.get(n + 1).copied(), "next({k})");
        let prev = s.prev(k).unwrap().map(|e| e.key);
        assert_eq!(prev, if n == 0 { None } else { Some(all[n - 1]) }, "prev({k})");
    }
    assert_eq!(s.next(100).unwrap().map(|e| e.key), Some(H - 1));
    assert_eq!(s.prev(H).unwrap().map(|e| e.key), Some(H - 1));
    assert_eq!(s.count_range(0..=MAX).unwrap(), all.len() as u64);
    assert_eq!(s.count_range(0..=MAX - 1).unwrap(), all.len() as u64 - 1);
    assert_eq!(s.count_range(H..=MAX).unwrap(), 4);
    assert_eq!(s.count_range(101..=H - 2).unwrap(), 0);
    assert!(s.exists_in_range(200..=MAX - 2).unwrap());
    assert!(!s.exists_in_range(101..=H - 2).unwrap());
    let st = s.stats().unwrap();
    assert_eq!((st.total_keys, st.min_key, st.max_key), (all.len() as u64, 0, MAX));
}

fn ranges<E: Engine>() {
    let mut s = open::<E>("ranges");
    let base: Vec<u64> = (1..=30).chain(EDGE_KEYS).collect();
    insert_keys(&mut s, &base);
    assert_eq!(s.remove_range((std::ops::Bound::Excluded(10), std::ops::Bound::Excluded(20))).unwrap(), 9);
    assert!(s.exists(10).unwrap() && s.exists(20).unwrap());
    assert_eq!(s.remove_range(10..=20).unwrap(), 2);
    // An empty range (start past end) removes nothing.
    let (hi, lo) = (20u64, 10u64);
    assert_eq!(s.remove_range(hi..=lo).unwrap(), 0);
    assert_eq!(s.remove_range((std::ops::Bound::Excluded(MAX), std::ops::Bound::Excluded(MAX))).unwrap(), 0);
    assert_eq!(s.remove_range((std::ops::Bound::Excluded(0), std::ops::Bound::Included(0))).unwrap(), 0);
    // Before 10 (unsigned) must not touch the keys >= 2^63.
    assert_eq!(s.remove_range(..=9).unwrap(), 10); // 0..=9
    assert!(s.exists(H).unwrap() && s.exists(MAX).unwrap());
    // A range across 2^63.
    assert_eq!(s.remove_range(H - 1..=H).unwrap(), 2);
    assert_eq!(s.remove_range(H..).unwrap(), 2); // MAX-1, MAX
    assert_eq!(keys(&mut s, Dir::Forward), (21..=30).collect::<Vec<_>>());
    assert_eq!(s.remove_range(0..=MAX).unwrap(), 10);
    assert_eq!(s.key_count().unwrap(), 0);
    assert_eq!(s.min_key().unwrap(), None);
}

fn transactions<E: Engine>() {
    let mut s = open::<E>("txn");
    assert_eq!(s.commit(), Err(Error::NoTransaction));
    assert_eq!(s.abort(), Err(Error::NoTransaction));
    s.begin().unwrap();
    assert_eq!(s.begin(), Err(Error::TransactionActive));
    assert!(s.in_transaction());
    s.insert(1, 1, 1, b"a").unwrap();
    assert!(s.get(1).unwrap().is_some(), "reads see the transaction's writes");
    assert!(s.insert(1, 1, 1, b"a").is_err());
    assert!(s.in_transaction(), "a failed insert does not end the transaction");
    s.abort().unwrap();
    assert!(!s.in_transaction());
    assert!(!s.exists(1).unwrap());
    s.begin().unwrap();
    s.insert(2, 2, 2, b"b").unwrap();
    s.remove_range(0..=10).unwrap();
    s.insert(3, 3, 3, b"c").unwrap();
    s.commit().unwrap();
    assert_eq!(keys(&mut s, Dir::Forward), vec![3]);
}

/// Transactions as values: commit makes durable, drop (and a panic, and an
/// `Err` from `atomically`) rolls back, and nothing is left open.
fn transaction_guard<E: Engine>() {
    let path = path_for::<E>("guard");
    let mut s = Store::<E>::open(&path).unwrap();
    let mut tx = s.transaction().unwrap();
    tx.insert(1, 1, 1, b"kept").unwrap();
    assert!(tx.in_transaction());
    assert_eq!(tx.transaction().err(), Some(Error::TransactionActive));
    tx.commit().unwrap();
    assert!(!s.in_transaction());
    {
        let mut tx = s.transaction().unwrap();
        tx.insert(2, 1, 1, b"dropped").unwrap();
        tx.remove(1).unwrap();
        assert!(!tx.exists(1).unwrap(), "reads inside see the transaction's writes");
    }
    assert!(!s.in_transaction());
    assert!(s.exists(1).unwrap() && !s.exists(2).unwrap());
    let tx = s.transaction().unwrap();
    tx.rollback().unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut tx = s.transaction().unwrap();
        tx.insert(3, 1, 1, b"panicked").unwrap();
        panic!("inside a transaction");
    }));
    assert!(r.is_err());
    assert!(!s.in_transaction());
    assert!(!s.exists(3).unwrap());
    let r: Result<(), Error> = s.atomically(|tx| {
        tx.insert(4, 1, 1, b"err")?;
        tx.insert(1, 1, 1, b"duplicate")
    });
    assert_eq!(r, Err(Error::DuplicateKey(1)));
    assert!(!s.exists(4).unwrap());
    let n = s
        .atomically(|tx| {
            tx.insert(5, 1, 1, b"ok")?;
            tx.count_range(..)
        })
        .unwrap();
    assert_eq!(n, 2);
    assert!(s.close().is_ok());
    let mut s = Store::<E>::open(&path).unwrap();
    let keys: Vec<u64> = s.iter().map(|e| e.unwrap().key).collect();
    assert_eq!(keys, [1, 5], "committed work is durable, the rest is gone");
}

fn close_rolls_back<E: Engine>() {
    let path = path_for::<E>("closerb");
    let mut s = Store::<E>::open(&path).unwrap();
    s.insert(1, 0, 0, b"kept").unwrap();
    s.begin().unwrap();
    s.insert(2, 0, 0, b"lost").unwrap();
    s.close().map_err(|(_, e)| e).unwrap();
    let mut s = Store::<E>::open(&path).unwrap();
    assert!(s.exists(1).unwrap());
    assert!(!s.exists(2).unwrap());
}

fn refs(v: &[Entry]) -> Vec<EntryRef<'_>> {
    v.iter().map(|e| EntryRef { key: e.key, term: e.term, cmd: e.cmd, data: &e.data }).collect()
}

fn batches<E: Engine>() {
    let mut s = open::<E>("batch");
    let data = [b"x".to_vec(), b"y".to_vec(), b"z".to_vec()];
    let entries = |ks: &[u64]| -> Vec<Entry> {
        ks.iter().map(|&k| Entry { key: k, term: k, cmd: 0, data: data[(k % 3) as usize].clone() }).collect()
    };
    let v = entries(&[200, 201, 202, 201, 203]);
    let out = s.insert_batch(refs(&v));
    assert_eq!(out.inserted, 3);
    assert_eq!(out.error, Some(Error::DuplicateKey(201)));
    assert_eq!(keys(&mut s, Dir::Forward), vec![200, 201, 202]);
    // Inside a transaction the batch joins it: abort removes it.
    s.begin().unwrap();
    let v = entries(&[300, 301]);
    let out = s.insert_batch(refs(&v));
    assert_eq!((out.inserted, out.error), (2, None));
    assert!(s.in_transaction());
    s.abort().unwrap();
    assert_eq!(s.key_count().unwrap(), 3);
}

fn iteration<E: Engine>() {
    let mut s = open::<E>("iter");
    let ks: Vec<u64> = (0..1000u64).map(|k| k * 3).collect();
    insert_keys(&mut s, &ks);
    let got: Vec<u64> = s.range(30..=60).map(|e| e.unwrap().key).collect();
    assert_eq!(got, (10..=20).map(|k| k * 3).collect::<Vec<_>>());
    let got: Vec<u64> = s.range(30..=60).rev().map(|e| e.unwrap().key).collect();
    assert_eq!(got, (10..=20).rev().map(|k| k * 3).collect::<Vec<_>>());
    assert_eq!(keys(&mut s, Dir::Forward), ks);
    // Both ends of one iterator, meeting in the middle.
    let mut it = s.range(30..=45);
    assert_eq!(it.next().unwrap().unwrap().key, 30);
    assert_eq!(it.next_back().unwrap().unwrap().key, 45);
    assert_eq!(it.next_back().unwrap().unwrap().key, 42);
    let rest: Vec<u64> = it.map(|e| e.unwrap().key).collect();
    assert_eq!(rest, [33, 36, 39]);
    // Every kind of bound, at the edges of the key space (0 is stored).
    s.insert(MAX, 0, 0, b"").unwrap();
    let count = |s: &mut Store<E>, r: (Bound<u64>, Bound<u64>)| s.range(r).count();
    assert_eq!(count(&mut s, (Bound::Unbounded, Bound::Unbounded)), 1001);
    assert_eq!(count(&mut s, (Bound::Excluded(0), Bound::Unbounded)), 1000);
    assert_eq!(count(&mut s, (Bound::Unbounded, Bound::Excluded(MAX))), 1000);
    assert_eq!(count(&mut s, (Bound::Excluded(0), Bound::Excluded(MAX))), 999);
    assert_eq!(count(&mut s, (Bound::Included(MAX), Bound::Included(MAX))), 1);
    assert_eq!(count(&mut s, (Bound::Excluded(MAX), Bound::Unbounded)), 0);
    assert_eq!(count(&mut s, (Bound::Unbounded, Bound::Excluded(0))), 0);
    assert_eq!(count(&mut s, (Bound::Included(5), Bound::Included(4))), 0);
    assert_eq!(s.range(..).next_back().unwrap().unwrap().key, MAX);
    assert_eq!(s.range(..).rev().last().unwrap().unwrap().key, 0);
    assert_eq!(s.range(..=0).collect::<Vec<_>>().len(), 1);
    assert_eq!(s.count_range(1..MAX).unwrap(), 999);
    assert!(!s.exists_in_range(1..3).unwrap());
    assert!(s.exists_in_range(1..=3).unwrap());
}

fn data_size_and_stats<E: Engine>() {
    let mut s = open::<E>("stats");
    assert_eq!(s.data_size().unwrap(), 0);
    let st = s.stats().unwrap();
    assert_eq!((st.total_keys, st.min_key, st.max_key, st.total_data_bytes), (0, 0, 0, 0));
    s.insert(1, 0, 0, &[0; 10]).unwrap();
    s.insert(2, 0, 0, &[0; 100]).unwrap();
    s.insert(3, 0, 0, b"").unwrap();
    assert_eq!(s.data_size().unwrap(), 110);
    assert_eq!(s.stats().unwrap().total_data_bytes, 110);
    s.fsync().unwrap();
}

fn persistence<E: Engine>() {
    let path = path_for::<E>("persist");
    {
        let mut s = Store::<E>::open(&path).unwrap();
        insert_keys(&mut s, &EDGE_KEYS);
        s.fsync().unwrap();
        s.close().map_err(|(_, e)| e).unwrap();
    }
    let mut s = Store::<E>::open(&path).unwrap();
    assert_eq!(keys(&mut s, Dir::Forward), EDGE_KEYS.to_vec());
    let e = s.get(MAX).unwrap().unwrap();
    assert_eq!((e.term, e.cmd), (MAX ^ 1, MAX ^ 2));
}

fn config_rules<E: Engine>() {
    let path = path_for::<E>("config");
    let cfg = Config { journal_mode: JournalMode::Wal, sync_mode: SyncMode::Full, ..Config::default() };
    let mut s = Store::<E>::open_with_config(&path, &cfg).unwrap();
    assert_eq!(s.config().sync_mode, SyncMode::Full);
    let bad = Config { page_size: 1000, ..Config::default() };
    assert_eq!(s.update_config(&bad).unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(s.config().sync_mode, SyncMode::Full, "a failed update leaves the previous config");
    let ro = Config { read_only: true, ..cfg.clone() };
    s.update_config(&ro).unwrap();
    assert_eq!(s.insert(1, 0, 0, b"x").unwrap_err().code(), ErrorCode::ReadOnly);
    s.update_config(&cfg).unwrap();
    s.insert(1, 0, 0, b"x").unwrap();
}

macro_rules! engine_tests {
    ($modname:ident, $engine:ty) => {
        mod $modname {
            #[test]
            fn point_ops() {
                super::point_ops::<$engine>()
            }
            #[test]
            fn unsigned_order() {
                super::unsigned_order::<$engine>()
            }
            #[test]
            fn ranges() {
                super::ranges::<$engine>()
            }
            #[test]
            fn transactions() {
                super::transactions::<$engine>()
            }
            #[test]
            fn close_rolls_back() {
                super::close_rolls_back::<$engine>()
            }
            #[test]
            fn transaction_guard() {
                super::transaction_guard::<$engine>()
            }
            #[test]
            fn batches() {
                super::batches::<$engine>()
            }
            #[test]
            fn iteration() {
                super::iteration::<$engine>()
            }
            #[test]
            fn data_size_and_stats() {
                super::data_size_and_stats::<$engine>()
            }
            #[test]
            fn persistence() {
                super::persistence::<$engine>()
            }
            #[test]
            fn config_rules() {
                super::config_rules::<$engine>()
            }
        }
    };
}

#[cfg(feature = "sqlite")]
engine_tests!(sqlite, kvidxkit::Sqlite);
#[cfg(feature = "lmdb")]
engine_tests!(lmdb, kvidxkit::Lmdb);
#[cfg(feature = "rocksdb")]
engine_tests!(rocksdb, kvidxkit::engines::Rocksdb);

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_plain_open_settings() {
    let mut s = Store::<kvidxkit::Sqlite>::open(common::scratch("plain").join("p.sqlite3")).unwrap();
    let c = s.config().clone();
    assert_eq!(c.journal_mode, JournalMode::Wal);
    assert_eq!(c.sync_mode, SyncMode::Full);
    assert_eq!(c.cache_size_bytes, 31_250 * 1024);
    assert!(c.recursive_triggers);
    assert_eq!(c.page_size, 8192);
    assert_eq!(s.stats().unwrap().page_size, 8192);
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_file_open_twice_in_one_process_is_refused() {
    let path = common::scratch("twice").join("t.sqlite3");
    let mut a = Store::<kvidxkit::Sqlite>::open(&path).unwrap();
    a.insert(1, 0, 0, b"a").unwrap();
    let e = Store::<kvidxkit::Sqlite>::open(&path).err().expect("second open of an exclusive file must fail");
    assert_eq!(e.code(), ErrorCode::Locked);
    assert!(a.exists(1).unwrap(), "the first instance is unaffected");
    a.close().map_err(|(_, e)| e).unwrap();
    let mut b = Store::<kvidxkit::Sqlite>::open(&path).unwrap();
    assert!(b.exists(1).unwrap());
    // A caller who chooses the shared "unix" VFS may open it twice.
    let shared = Config { vfs_name: Some("unix".into()), ..Config::default() };
    drop(b);
    let mut c = Store::<kvidxkit::Sqlite>::open_with_config(&path, &shared).unwrap();
    let mut d = Store::<kvidxkit::Sqlite>::open_with_config(&path, &shared).unwrap();
    c.insert(2, 0, 0, b"c").unwrap();
    assert!(d.exists(2).unwrap());
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_in_memory_and_temporary_databases() {
    for path in [":memory:", ""] {
        let mut s = Store::<kvidxkit::Sqlite>::open(path).unwrap_or_else(|e| panic!("open {path:?}: {e}"));
        s.insert(1, 2, 3, b"mem").unwrap();
        assert_eq!(s.get(1).unwrap().unwrap().data, b"mem");
        assert_eq!(s.key_count().unwrap(), 1);
        s.fsync().unwrap();
        let _ = s.stats().unwrap();
        let mut t = Store::<kvidxkit::Sqlite>::open_with_config(path, &Config::default()).unwrap();
        assert!(!t.exists(1).unwrap(), "each in-memory database is its own");
    }
}
