//! Neighbour reads (next / prev, the C API's kvidxGetNext / kvidxGetPrev)
//! in runs, as a log is replayed: each asks for the entry after (before)
//! the one the previous returned, so the engines that copy rows out read
//! ahead (src/store.rs, `Store::neighbour`). Whatever changes between two
//! reads of a run — a write just ahead of it, a remove, a range remove, a
//! rolled-back transaction whose writes the run saw, a batch that stops, an
//! expiry, another connection's commit — the next read answers from the
//! current data, compared here with a model entry by entry, values
//! included.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use kvidxkit::{Engine, EntryRef, SetCondition, Store};

use common::Rng;

type Model = BTreeMap<u64, (u64, Vec<u8>)>;

fn value(key: u64, term: u64) -> Vec<u8> {
    format!("{key}:{term}").into_bytes()
}

/// The model's neighbour of `at`.
fn want(m: &Model, at: u64, forward: bool) -> Option<(u64, u64, Vec<u8>)> {
    let e = if forward { m.range(at + 1..).next() } else { m.range(..at).next_back() };
    e.map(|(&k, (t, v))| (k, *t, v.clone()))
}

fn read<E: Engine>(s: &mut Store<E>, at: u64, forward: bool) -> Option<(u64, u64, Vec<u8>)> {
    let e = if forward { s.next(at) } else { s.prev(at) };
    e.unwrap().map(|e| (e.key, e.term, e.data.to_vec()))
}

/// One change to the store and the model, on keys just ahead of `at` in
/// the run's direction (where what was read ahead lies).
fn change<E: Engine>(s: &mut Store<E>, m: &mut Model, r: &mut Rng, at: u64, forward: bool, tag: u64) {
    let near = 1 + r.below(8);
    let t = if forward { at + near } else { at.saturating_sub(near) };
    match r.below(8) {
        0 | 1 => {
            s.insert_ex(t, tag, 0, &value(t, tag), SetCondition::Always).unwrap();
            m.insert(t, (tag, value(t, tag)));
        }
        2 => {
            assert_eq!(s.remove(t).unwrap(), m.remove(&t).is_some(), "remove {t}");
        }
        3 => {
            let (a, b) = if forward { (t, t + 4) } else { (t.saturating_sub(4), t) };
            let n = s.remove_range(a..=b).unwrap();
            let before = m.len();
            m.retain(|k, _| !(a..=b).contains(k));
            assert_eq!(n as usize, before - m.len(), "remove_range [{a}, {b}]");
        }
        4 => {
            // A transaction that writes ahead, reads its own write through
            // the run, then rolls back: the rows read ahead inside it hold
            // a write that is gone.
            s.begin().unwrap();
            s.insert_ex(t, u64::MAX, 0, b"rolled back", SetCondition::Always).unwrap();
            let mut own = m.clone();
            own.insert(t, (u64::MAX, b"rolled back".to_vec()));
            let mut k = at;
            for _ in 0..3 {
                let got = read(s, k, forward);
                assert_eq!(got, want(&own, k, forward), "inside the transaction, after {k}");
                match got {
                    Some((n, ..)) => k = n,
                    None => break,
                }
            }
            s.abort().unwrap();
        }
        5 => {
            // A batch that stops at a duplicate: its first entry stays.
            let dup = m.keys().next().copied().unwrap_or(0);
            let fresh = if m.contains_key(&t) { None } else { Some(t) };
            let v = value(t, tag);
            let mut keys: Vec<u64> = fresh.into_iter().collect();
            keys.push(dup);
            if !m.contains_key(&dup) {
                return;
            }
            let out = s.insert_batch(keys.iter().map(|&k| EntryRef { key: k, term: tag, cmd: 0, data: &v }));
            assert!(out.error.is_some(), "the duplicate stops the batch");
            assert_eq!(out.inserted, keys.len() - 1);
            if let Some(k) = fresh {
                m.insert(k, (tag, v));
            }
        }
        6 => {
            // Expired at once: absent from then on.
            if m.remove(&t).is_some() {
                s.expire_in(t, Duration::ZERO).unwrap();
            }
        }
        _ => {
            let mut tx = s.transaction().unwrap();
            tx.insert_ex(t, tag, 0, &value(t, tag), SetCondition::Always).unwrap();
            tx.commit().unwrap();
            m.insert(t, (tag, value(t, tag)));
        }
    }
}

fn runs_follow_every_change<E: Engine>() {
    let dir = common::scratch("neighbours");
    let mut s = Store::<E>::open(dir.join(format!("db-{}", E::NAME))).unwrap();
    let mut m = Model::new();
    for k in (0..3_000u64).step_by(3) {
        s.insert(k, 1, 0, &value(k, 1)).unwrap();
        m.insert(k, (1, value(k, 1)));
    }
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let mut changes = 0u64;
    for round in 0..400u64 {
        let forward = r.below(2) == 0;
        let mut at = r.below(3_100);
        // Long runs (past the largest read-ahead) and short ones.
        let steps = if round % 4 == 0 { 400 } else { 1 + r.below(40) };
        for step in 0..steps {
            if r.below(5) == 0 {
                changes += 1;
                change(&mut s, &mut m, &mut r, at, forward, 100 + changes);
            }
            let got = read(&mut s, at, forward);
            let dir = if forward { "next" } else { "prev" };
            assert_eq!(got, want(&m, at, forward), "round {round} step {step}: {dir}({at})");
            match got {
                Some((k, ..)) => at = k,
                None => break,
            }
        }
    }
    assert!(changes > 1_000, "{changes} changes");
    // The whole store, both ways, after all that.
    let (mut at, mut n) = (0u64, 0usize);
    if m.contains_key(&0) {
        n = 1;
    }
    while let Some((k, ..)) = read(&mut s, at, true) {
        (at, n) = (k, n + 1);
    }
    assert_eq!(n, m.len());
    assert!(s.close().is_ok());
}

/// A run with a TTL that passes while the run holds rows read ahead.
fn runs_skip_entries_that_expire_meanwhile<E: Engine>() {
    let dir = common::scratch("neighbours-ttl");
    let mut s = Store::<E>::open(dir.join(format!("db-{}", E::NAME))).unwrap();
    for k in 1..=200u64 {
        s.insert(k, 1, 0, b"v").unwrap();
    }
    // A run up to key 20 (rows read ahead beyond it).
    let mut at = 0;
    for _ in 0..20 {
        at = s.next(at).unwrap().unwrap().key;
    }
    assert_eq!(at, 20);
    // TTLs that pass without a write afterwards (expire_in itself is a
    // write: what was read ahead is read again once, before they pass).
    for k in [21, 22, 25] {
        s.expire_in(k, Duration::from_millis(150)).unwrap();
    }
    assert_eq!(s.next(20).unwrap().unwrap().key, 21, "not expired yet");
    at = 21;
    std::thread::sleep(Duration::from_millis(300));
    let mut got = Vec::new();
    for _ in 0..4 {
        let k = s.next(at).unwrap().unwrap().key;
        got.push(k);
        at = k;
    }
    assert_eq!(got, vec![23, 24, 26, 27], "expired keys 22 and 25 skipped");
}

macro_rules! engine_tests {
    ($modname:ident, $engine:ty) => {
        mod $modname {
            #[test]
            fn runs_follow_every_change() {
                super::runs_follow_every_change::<$engine>()
            }
            #[test]
            fn runs_skip_entries_that_expire_meanwhile() {
                super::runs_skip_entries_that_expire_meanwhile::<$engine>()
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

/// Another connection's commits on a shared SQLite file land between two
/// reads of a run: the run answers from them.
#[cfg(feature = "sqlite")]
#[test]
fn sqlite_runs_see_other_connections() {
    use kvidxkit::{Config, Sqlite};
    let path = common::scratch("neighbours-shared").join("db");
    let cfg = Config { vfs_name: Some("unix".into()), busy_timeout_ms: 5000, ..Config::default() };
    let mut a = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
    let mut b = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
    let mut m = Model::new();
    for k in (0..2_000u64).step_by(2) {
        a.insert(k, 1, 0, &value(k, 1)).unwrap();
        m.insert(k, (1, value(k, 1)));
    }
    let mut r = Rng(77);
    let mut at = 0u64;
    for step in 0..1_500u64 {
        if r.below(3) == 0 {
            let t = at + 1 + r.below(6);
            if r.below(2) == 0 {
                b.insert_ex(t, 500 + step, 0, &value(t, 500 + step), SetCondition::Always).unwrap();
                m.insert(t, (500 + step, value(t, 500 + step)));
            } else {
                assert_eq!(b.remove(t).unwrap(), m.remove(&t).is_some());
            }
        }
        let got = read(&mut a, at, true);
        assert_eq!(got, want(&m, at, true), "step {step}: next({at})");
        at = match got {
            Some((k, ..)) => k,
            None => 0,
        };
    }
}
