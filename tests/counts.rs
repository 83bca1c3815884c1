//! Counts without scans: the in-memory index of runs of consecutive keys
//! (src/runs.rs) must give exactly what a scan gives, through every kind of
//! write, transactions and their rollback, range removes, lazy TTL expiry,
//! keys scattered past its memory bound, and other processes' commits.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use kvidxkit::{Engine, Store};

use common::Rng;

/// Every count the model can be asked, compared (a mix of wide, narrow,
/// edge and empty ranges).
fn check_counts<E: Engine>(s: &mut Store<E>, m: &BTreeSet<u64>, r: &mut Rng, what: &str) {
    assert_eq!(s.key_count().unwrap(), m.len() as u64, "{what}: key count");
    for _ in 0..20 {
        let a = r.below(12_000);
        let b = a + r.below(6_000);
        assert_eq!(s.count_range(a..=b).unwrap(), m.range(a..=b).count() as u64, "{what}: count [{a}, {b}]");
        assert_eq!(s.exists_in_range(a..=b).unwrap(), m.range(a..=b).next().is_some(), "{what}: exists [{a}, {b}]");
    }
    assert_eq!(s.count_range(u64::MAX..).unwrap(), m.contains(&u64::MAX) as u64, "{what}: count at the top");
    assert_eq!(s.count_range(..=0).unwrap(), m.contains(&0) as u64, "{what}: count at 0");
}

fn counts_follow_every_write<E: Engine>() {
    let dir = common::scratch("counts");
    let mut s = Store::<E>::open(dir.join(format!("db-{}", E::NAME))).unwrap();
    let mut m = BTreeSet::new();
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    // A long run, as a Raft log has: the index is built by the first count.
    let out = s.insert_batch((1..=10_000u64).map(|k| kvidxkit::EntryRef { key: k, term: 1, cmd: 0, data: b"v" }));
    assert!(out.error.is_none());
    m.extend(1..=10_000u64);
    check_counts(&mut s, &m, &mut r, "after the batch");
    // Appends, truncation, compaction.
    for k in 10_001..=10_500u64 {
        s.insert(k, 2, 0, b"a").unwrap();
        m.insert(k);
    }
    assert_eq!(s.remove_range(10_300..).unwrap(), 201);
    m.retain(|k| *k < 10_300);
    assert_eq!(s.remove_range(..=500).unwrap(), 500);
    m.retain(|k| *k > 500);
    check_counts(&mut s, &m, &mut r, "after append and truncation");
    // Holes, overwrites, conditional writes, primitives, the edges.
    for i in 0..2_000u64 {
        let k = r.below(12_000);
        match i % 6 {
            0 => {
                let new = s.insert(k, 3, 0, b"i").is_ok();
                assert_eq!(new, m.insert(k), "insert {k}");
            }
            1 => {
                assert_eq!(s.remove(k).unwrap(), m.remove(&k), "remove {k}");
            }
            2 => {
                s.insert_ex(k, 4, 0, b"x", kvidxkit::SetCondition::Always).unwrap();
                m.insert(k);
            }
            3 => {
                let gone = s.get_and_remove(k).unwrap().is_some();
                assert_eq!(gone, m.remove(&k));
            }
            4 => {
                s.append(k, 5, 0, b"+").unwrap();
                m.insert(k);
            }
            _ => {
                let hi = k + r.below(40);
                let n = s.remove_range(k..hi).unwrap();
                let before = m.len();
                m.retain(|x| *x < k || *x >= hi);
                assert_eq!(n as usize, before - m.len(), "remove_range [{k}, {hi})");
            }
        }
        if i % 97 == 0 {
            check_counts(&mut s, &m, &mut r, &format!("step {i}"));
        }
    }
    for k in [0, u64::MAX, u64::MAX - 1, 1 << 63] {
        s.insert(k, 0, 0, b"edge").unwrap();
        m.insert(k);
    }
    check_counts(&mut s, &m, &mut r, "with the edges");
    // Transactions: what a rollback undoes, the counts undo too.
    let before = m.clone();
    {
        let mut tx = s.transaction().unwrap();
        tx.remove_range(2_000..4_000).unwrap();
        for k in 20_000..20_100u64 {
            tx.insert(k, 6, 0, b"t").unwrap();
        }
        assert_eq!(tx.count_range(2_000..4_000).unwrap(), 0, "inside the transaction");
        assert_eq!(tx.count_range(20_000..).unwrap(), 100 + m.range(20_000..).count() as u64);
        // dropped: rolled back
    }
    check_counts(&mut s, &before, &mut r, "after a rollback");
    let mut tx = s.transaction().unwrap();
    tx.remove_range(2_000..4_000).unwrap();
    tx.commit().unwrap();
    m.retain(|k| !(2_000..4_000).contains(k));
    check_counts(&mut s, &m, &mut r, "after a commit");
    // A failed atomic unit (a batch that stops) keeps its prefix, exactly.
    let out = s.insert_batch([30_000u64, 30_001, 7_000, 30_002].iter().map(|&k| kvidxkit::EntryRef {
        key: k,
        term: 7,
        cmd: 0,
        data: b"b",
    }));
    let inserted = out.inserted;
    for k in [30_000u64, 30_001, 7_000, 30_002].iter().take(inserted) {
        m.insert(*k);
    }
    check_counts(&mut s, &m, &mut r, "after a batch that stopped");
    // Lazy expiry: expired keys are not counted, before and after a scan.
    let exp: Vec<u64> = m.range(5_000..5_050).copied().collect();
    for &k in &exp {
        s.expire_in(k, Duration::ZERO).unwrap();
        m.remove(&k);
    }
    check_counts(&mut s, &m, &mut r, "with expired keys");
    assert_eq!(s.expire_scan(0).unwrap(), exp.len() as u64);
    check_counts(&mut s, &m, &mut r, "after the expire scan");
    assert!(s.close().is_ok());
}

/// Keys scattered at random: past the index's memory bound counts fall back
/// to the engine, still exact, and the index comes back once the keys are
/// consecutive again.
fn scattered_keys<E: Engine>() {
    let dir = common::scratch("counts-scattered");
    let mut s = Store::<E>::open(dir.join(format!("db-{}", E::NAME))).unwrap();
    let mut m = BTreeSet::new();
    let mut r = Rng(12345);
    let mut tx = s.transaction().unwrap();
    while m.len() < 20_000 {
        let k = r.below(1 << 40) * 2; // no two consecutive
        if tx.insert(k, 1, 0, b"r").is_ok() {
            m.insert(k);
        }
    }
    tx.commit().unwrap();
    for _ in 0..300 {
        let a = r.below(1 << 41);
        let b = a + r.below(1 << 38);
        assert_eq!(s.count_range(a..=b).unwrap(), m.range(a..=b).count() as u64);
    }
    assert_eq!(s.key_count().unwrap(), m.len() as u64);
    // Consecutive again: the index is rebuilt by a later count.
    s.remove_range(..).unwrap();
    m.clear();
    let out = s.insert_batch((100..50_100u64).map(|k| kvidxkit::EntryRef { key: k, term: 1, cmd: 0, data: b"" }));
    assert!(out.error.is_none());
    m.extend(100..50_100u64);
    for _ in 0..600 {
        let a = r.below(60_000);
        let b = a + r.below(30_000);
        assert_eq!(s.count_range(a..=b).unwrap(), m.range(a..=b).count() as u64);
    }
}

macro_rules! engine_tests {
    ($modname:ident, $engine:ty) => {
        mod $modname {
            #[test]
            fn counts_follow_every_write() {
                super::counts_follow_every_write::<$engine>()
            }
            #[test]
            fn scattered_keys() {
                super::scattered_keys::<$engine>()
            }
        }
    };
}

#[cfg(feature = "sqlite")]
engine_tests!(sqlite, kvidxkit::Sqlite);
#[cfg(feature = "lmdb")]
engine_tests!(lmdb, kvidxkit::Lmdb);
#[cfg(feature = "rocksdb")]
engine_tests!(rocksdb, kvidxkit::Rocksdb);

/// Another process's commits on a shared LMDB environment: the index is
/// rebuilt, so counts stay exact.
#[cfg(feature = "lmdb")]
#[test]
fn lmdb_counts_see_other_processes() {
    const CHILD: &str = "KVIDX_COUNTS_CHILD";
    if let Ok(dir) = std::env::var(CHILD) {
        // The other process: appends 1 000 keys and removes a range.
        let mut s = Store::<kvidxkit::Lmdb>::open(&dir).unwrap();
        for k in 2_001..=3_000u64 {
            s.insert(k, 9, 0, b"o").unwrap();
        }
        assert_eq!(s.remove_range(100..200).unwrap(), 100);
        assert!(s.close().is_ok());
        return;
    }
    let dir = common::scratch("counts-shared").join("env");
    let mut s = Store::<kvidxkit::Lmdb>::open(&dir).unwrap();
    let out = s.insert_batch((1..=2_000u64).map(|k| kvidxkit::EntryRef { key: k, term: 1, cmd: 0, data: b"" }));
    assert!(out.error.is_none());
    assert_eq!(s.count_range(1..=2_000).unwrap(), 2_000); // index built
    // LMDB allows one open per process: the writer is another process.
    let st = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lmdb_counts_see_other_processes", "--nocapture"])
        .env(CHILD, &dir)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(s.key_count().unwrap(), 2_900);
    assert_eq!(s.count_range(1..=2_000).unwrap(), 1_900);
    assert_eq!(s.count_range(1_500..=2_500).unwrap(), 1_001);
    assert_eq!(s.count_range(100..200).unwrap(), 0);
}
