//! The administration calls on their own (the `kvidx` tool's end-to-end
//! tests in kvidx/tests/cli.rs cover them through the binary): copies
//! between engines, their refusals and cancellation, verify, compact, the
//! TTL summary.
#![cfg(all(feature = "sqlite", feature = "lmdb"))]

mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use kvidxkit::{Engine, Error, Lmdb, Sqlite, Store, Ttl};

fn path_for<E: Engine>(name: &str) -> PathBuf {
    common::scratch(name).join(if E::NAME == "LMDB" { "env" } else { "db.sqlite3" })
}

/// 2000 entries, keys on both sides of 2^63, every 100th with an expiry
/// time an hour ahead, key 2 already expired.
fn filled<E: Engine>(path: &std::path::Path) -> Store<E> {
    let mut s = Store::<E>::open(path).unwrap();
    s.atomically(|tx| {
        for i in 0..2000u64 {
            let key = if i % 2 == 0 { i } else { u64::MAX - i };
            tx.insert(key, i, i % 5, format!("value {i}").as_bytes())?;
            if i % 100 == 0 {
                tx.expire_in(key, Duration::from_secs(3600))?;
            }
        }
        tx.expire_at(2, SystemTime::UNIX_EPOCH + Duration::from_secs(1))
    })
    .unwrap();
    s
}

/// An entry: key, term, cmd, value, minutes left (None: never expires).
type Seen = (u64, u64, u64, Vec<u8>, Option<u64>);

/// Every live entry and its remaining time rounded to minutes.
fn contents<E: Engine>(s: &mut Store<E>) -> Vec<Seen> {
    let mut v = Vec::new();
    let now = SystemTime::now();
    s.for_each_with_expiry(.., |e, at| {
        let mins = at.map(|t| (t.duration_since(now).unwrap_or_default().as_secs() + 30) / 60);
        v.push((e.key, e.term, e.cmd, e.data.to_vec(), mins));
        true
    })
    .unwrap();
    v
}

fn copies_keep_everything<S: Engine, D: Engine>() {
    let what = format!("{} -> {}", S::NAME, D::NAME);
    let mut src = filled::<S>(&path_for::<S>(&format!("admin-copy-src-{}-{}", S::NAME, D::NAME)));
    let want = contents(&mut src);
    assert_eq!(want.len(), 1999, "{what}: key 2 has expired");
    assert_eq!(want.iter().filter(|e| e.4 == Some(60)).count(), 20, "{what}");

    let mut dst = Store::<D>::open(path_for::<D>(&format!("admin-copy-dst-{}-{}", S::NAME, D::NAME))).unwrap();
    let mut calls = Vec::new();
    let r = src
        .copy_into(&mut dst, &mut |n, total| {
            calls.push((n, total));
            true
        })
        .unwrap();
    assert_eq!((r.entries, r.ttls), (1999, 20), "{what}");
    assert_eq!(calls.last(), Some(&(1999, 1999)), "{what}: progress ends at the total");
    assert!(calls.len() >= 2 && calls.windows(2).all(|w| w[0].0 < w[1].0), "{what}: {calls:?}");
    assert_eq!(contents(&mut dst), want, "{what}");
    assert!(dst_ttl(&mut dst, 0) > Duration::from_secs(3500), "{what}");

    // A destination that holds anything is refused, and left as it was.
    let err = src.copy_into(&mut dst, &mut |_, _| true).unwrap_err();
    assert!(!matches!(err, Error::Cancelled(_)), "{what}: {err:?}");
    assert_eq!(contents(&mut dst), want, "{what}");

    // Cancelled: nothing is written.
    let mut empty = Store::<D>::open(path_for::<D>(&format!("admin-copy-cancel-{}-{}", S::NAME, D::NAME))).unwrap();
    let err = src.copy_into(&mut empty, &mut |n, _| n < 1000).unwrap_err();
    assert!(matches!(err, Error::Cancelled(_)), "{what}: {err:?}");
    assert_eq!(empty.key_count().unwrap(), 0, "{what}");
    assert_eq!(empty.ttl_count(), 0, "{what}");
}

fn dst_ttl<E: Engine>(s: &mut Store<E>, key: u64) -> Duration {
    match s.ttl(key).unwrap() {
        Ttl::Remaining(d) => d,
        other => panic!("key {key}: {other:?}"),
    }
}

#[test]
fn copies_between_any_engines_keep_entries_and_expiry_times() {
    copies_keep_everything::<Sqlite, Lmdb>();
    copies_keep_everything::<Lmdb, Sqlite>();
    copies_keep_everything::<Sqlite, Sqlite>();
    copies_keep_everything::<Lmdb, Lmdb>();
}

fn verify_compact_and_ttl_summary<E: Engine>() {
    let path = path_for::<E>(&format!("admin-verify-{}", E::NAME));
    let mut s = filled::<E>(&path);
    let sum = s.ttl_summary().unwrap();
    assert_eq!((sum.keys, sum.expired), (21, 1), "{}: 20 ahead, 1 passed", E::NAME);
    let next = sum.next.unwrap().duration_since(SystemTime::now()).unwrap();
    assert!(next > Duration::from_secs(3500), "{}: {next:?}", E::NAME);

    let report = s.verify().unwrap();
    assert!(report.is_healthy(), "{}: {report:?}", E::NAME);
    assert_eq!(report.problem_count(), 0);
    assert_eq!(report.entries, 2000, "{}: the walk reads every record, the expired one too", E::NAME);
    assert!(report.checks.len() >= 3 && report.checks.iter().all(|c| !c.summary.is_empty()), "{report:?}");
    assert!(!s.engine_details().unwrap().is_empty());

    s.begin().unwrap();
    assert_eq!(s.verify().unwrap_err(), Error::TransactionActive, "{}", E::NAME);
    s.abort().unwrap();

    // Free space to give back: most entries removed.
    assert_eq!(s.remove_range(100..u64::MAX - 100).unwrap(), 1900);
    let want = contents(&mut s);
    let r = s.compact().unwrap();
    assert!(r.after < r.before / 2, "{}: {r:?}", E::NAME);
    let mut s = Store::<E>::open(&path).unwrap();
    assert_eq!(contents(&mut s), want, "{}: compact keeps the content", E::NAME);
    assert!(s.verify().unwrap().is_healthy());
}

#[test]
fn verify_compact_and_the_ttl_summary_on_both_engines() {
    verify_compact_and_ttl_summary::<Sqlite>();
    verify_compact_and_ttl_summary::<Lmdb>();
}
