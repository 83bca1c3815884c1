//! Storage primitives and TTL through the Rust API, on every engine.

mod common;

use kvidxkit::{Engine, Error, ErrorCode, SetCondition, Store, Ttl};

const MAX: u64 = u64::MAX;

fn open<E: Engine>(name: &str) -> Store<E> {
    Store::<E>::open(common::scratch(name).join(format!("db-{}", E::NAME))).expect("open")
}

fn value<E: Engine>(s: &mut Store<E>, key: u64) -> Option<Vec<u8>> {
    s.get(key).unwrap().map(|e| e.data.to_vec())
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

fn conditional_writes<E: Engine>() {
    let mut s = open::<E>("cond");
    s.insert_ex(1, 10, 0, b"a", SetCondition::Always).unwrap();
    s.insert_ex(1, 11, 0, b"b", SetCondition::Always).unwrap();
    assert_eq!(s.get(1).unwrap().unwrap().term, 11);
    s.insert_ex(2, 1, 0, b"x", SetCondition::IfNotExists).unwrap();
    assert_eq!(s.insert_ex(2, 9, 0, b"y", SetCondition::IfNotExists).unwrap_err().code(), ErrorCode::ConditionFailed);
    assert_eq!(s.get(2).unwrap().unwrap().term, 1);
    assert_eq!(s.insert_ex(3, 1, 0, b"x", SetCondition::IfExists).unwrap_err().code(), ErrorCode::ConditionFailed);
    assert!(!s.exists(3).unwrap());
    s.insert_ex(2, 5, 6, b"z", SetCondition::IfExists).unwrap();
    let e = s.get(2).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (5, 6, &b"z"[..]));
    // Abort undoes primitives.
    s.begin().unwrap();
    s.insert_ex(100, 1, 1, b"n", SetCondition::Always).unwrap();
    s.insert_ex(1, 99, 0, b"over", SetCondition::Always).unwrap();
    s.abort().unwrap();
    assert!(!s.exists(100).unwrap());
    assert_eq!(s.get(1).unwrap().unwrap().term, 11);
}

fn get_and_set_remove<E: Engine>() {
    let mut s = open::<E>("gas");
    s.insert(1, 3, 4, b"old-value").unwrap();
    let old = s.get_and_set(1, 5, 6, b"new").unwrap().unwrap();
    assert_eq!((old.term, old.cmd, old.data.as_slice()), (3, 4, &b"old-value"[..]));
    assert_eq!(value(&mut s, 1).unwrap(), b"new");
    assert!(s.get_and_set(2, 1, 1, b"fresh").unwrap().is_none());
    assert_eq!(value(&mut s, 2).unwrap(), b"fresh");
    let gone = s.get_and_remove(1).unwrap().unwrap();
    assert_eq!((gone.term, gone.cmd, gone.data.as_slice()), (5, 6, &b"new"[..]));
    assert!(!s.exists(1).unwrap());
    assert!(s.get_and_remove(1).unwrap().is_none());
}

fn cas<E: Engine>() {
    let mut s = open::<E>("cas");
    s.insert(1, 1, 0, &[0, 1, 0, 2]).unwrap();
    assert!(!s.compare_and_swap(1, &[0, 1, 0, 3], 2, 0, b"no").unwrap());
    assert!(s.compare_and_swap(1, &[0, 1, 0, 2], 2, 7, b"yes").unwrap());
    let e = s.get(1).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (2, 7, &b"yes"[..]));
    s.insert(2, 0, 0, b"").unwrap();
    assert!(s.compare_and_swap(2, b"", 0, 0, b"filled").unwrap());
    assert_eq!(s.compare_and_swap(3, b"", 0, 0, b"x").unwrap_err().code(), ErrorCode::NotFound);
    // Term compare-and-swap on a 1 MiB value.
    let big = vec![7u8; 1 << 20];
    s.insert(4, 10, 0, &big).unwrap();
    assert!(!s.compare_term_and_swap(4, 9, 11, 0, b"x").unwrap());
    assert!(s.compare_term_and_swap(4, 10, 11, 1, &big[..1000]).unwrap());
    assert_eq!(s.get(4).unwrap().unwrap().data.len(), 1000);
    assert_eq!(s.compare_term_and_swap(5, 0, 0, 0, b"").unwrap_err().code(), ErrorCode::NotFound);
}

fn append_prepend_ranges<E: Engine>() {
    let mut s = open::<E>("app");
    s.insert(1, 3, 4, b"Hello").unwrap();
    assert_eq!(s.append(1, 99, 99, b" World").unwrap(), 11);
    assert_eq!(s.prepend(1, 98, 98, b">> ").unwrap(), 14);
    let e = s.get(1).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (3, 4, &b">> Hello World"[..]));
    assert_eq!(s.append(2, 1, 2, b"new").unwrap(), 3);
    assert_eq!(s.get(2).unwrap().unwrap().term, 1);
    s.insert(3, 0, 0, b"0123456789").unwrap();
    assert_eq!(s.get_value_range(3, 2, 5).unwrap(), b"23456");
    assert_eq!(s.get_value_range(3, 7, 0).unwrap(), b"789");
    assert_eq!(s.get_value_range(3, 100, 0).unwrap(), b"");
    assert_eq!(s.get_value_range(9, 0, 0).unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.set_value_range(3, 3, b"BBB").unwrap(), 10);
    assert_eq!(value(&mut s, 3).unwrap(), b"012BBB6789");
    assert_eq!(s.set_value_range(3, 12, b"X").unwrap(), 13);
    assert_eq!(value(&mut s, 3).unwrap(), b"012BBB6789\0\0X");
    assert_eq!(s.set_value_range(9, 0, b"x").unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.set_value_range(3, usize::MAX, b"xy").unwrap_err().code(), ErrorCode::InvalidArgument);
}

fn ttl_basics<E: Engine>() {
    let mut s = open::<E>("ttl");
    s.insert(1, 0, 0, b"v").unwrap();
    assert_eq!(s.ttl(1).unwrap(), Ttl::Persistent);
    assert_eq!(s.ttl(2).unwrap(), Ttl::NotFound);
    s.expire_in(1, std::time::Duration::from_millis(60_000)).unwrap();
    match s.ttl(1).unwrap() {
        Ttl::Remaining(d) => assert!((50_000..=60_000).contains(&d.as_millis()), "{d:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.expire_in(2, std::time::Duration::from_millis(1000)).unwrap_err().code(), ErrorCode::NotFound);
    s.persist(1).unwrap();
    assert_eq!(s.ttl(1).unwrap(), Ttl::Persistent);
    assert_eq!(s.persist(2).unwrap_err().code(), ErrorCode::NotFound);
    // Saturating: far-future times never wrap into the past.
    s.expire_in(1, std::time::Duration::from_millis(MAX)).unwrap();
    assert!(matches!(s.ttl(1).unwrap(), Ttl::Remaining(d) if d.as_millis() > 1 << 60));
    s.expire_at(1, std::time::UNIX_EPOCH + std::time::Duration::from_millis(MAX)).unwrap();
    assert!(s.exists(1).unwrap());
    assert_eq!(s.expire_scan(0).unwrap(), 0);
}

/// Iterations long enough to read their entries in place (on LMDB) skip
/// expired entries in every chunk: scattered ones, and whole runs of them
/// longer than a chunk, in both directions and on sub-ranges.
fn iteration_skips_expired_entries<E: Engine>() {
    let mut s = open::<E>("iter-expired");
    let n = 4000u64;
    s.begin().unwrap();
    for k in 1..=n {
        s.insert(k, k, k % 7, &k.to_le_bytes()).unwrap();
    }
    let expired = |k: u64| k.is_multiple_of(3) || (1000..1300).contains(&k) || k == n;
    let past = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1);
    for k in (1..=n).filter(|&k| expired(k)) {
        s.expire_at(k, past).unwrap();
    }
    // And some that have not expired.
    for k in (1..=n).filter(|&k| k % 10 == 1 && !expired(k)) {
        s.expire_in(k, std::time::Duration::from_secs(3600)).unwrap();
    }
    s.commit().unwrap();
    for (lo, hi) in [(0, u64::MAX), (500, 3500), (999, 1301), (1000, 1299)] {
        let want: Vec<u64> = (lo.max(1)..=hi.min(n)).filter(|&k| !expired(k)).collect();
        let got: Vec<u64> = s
            .range(lo..=hi)
            .map(|e| {
                let e = e.unwrap();
                assert_eq!((e.term, e.cmd, &e.data[..]), (e.key, e.key % 7, &e.key.to_le_bytes()[..]));
                e.key
            })
            .collect();
        assert_eq!(got, want, "forward over [{lo}, {hi}]");
        let mut back: Vec<u64> = s.range(lo..=hi).rev().map(|e| e.unwrap().key).collect();
        back.reverse();
        assert_eq!(back, want, "backward over [{lo}, {hi}]");
    }
}

fn lazy_expiry<E: Engine>() {
    let mut s = open::<E>("lazy");
    for k in 1..=10u64 {
        s.insert(k, k, 0, b"data").unwrap();
    }
    s.expire_in(5, std::time::Duration::from_millis(1)).unwrap();
    s.expire_at(7, std::time::UNIX_EPOCH + std::time::Duration::from_millis(1)).unwrap(); // long past
    sleep_ms(5);
    // Invisible to every read.
    assert!(s.get(5).unwrap().is_none());
    assert!(!s.exists(5).unwrap());
    assert!(!s.exists_dual(7, 7).unwrap());
    let e = s.next(4).unwrap().unwrap();
    assert_eq!((e.key, e.term, e.data), (6, 6, &b"data"[..]), "next skips an expired key");
    let e = s.prev(8).unwrap().unwrap();
    assert_eq!((e.key, e.term, e.data), (6, 6, &b"data"[..]), "prev skips an expired key");
    assert_eq!(s.count_range(1..=10).unwrap(), 8);
    assert_eq!(s.key_count().unwrap(), 8);
    assert_eq!(s.data_size().unwrap(), 8 * 4);
    let ks: Vec<u64> = s.range(0..=MAX).map(|e| e.unwrap().key).collect();
    assert_eq!(ks, vec![1, 2, 3, 4, 6, 8, 9, 10]);
    assert_eq!(s.ttl(5).unwrap(), Ttl::NotFound);
    assert_eq!(s.get_value_range(5, 0, 0).unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.compare_and_swap(5, b"data", 0, 0, b"x").unwrap_err().code(), ErrorCode::NotFound);
    // Conditional writes see it as absent; the new entry has no TTL.
    s.insert_ex(5, 50, 0, b"again", SetCondition::IfNotExists).unwrap();
    assert_eq!(s.ttl(5).unwrap(), Ttl::Persistent);
    assert_eq!(s.get(5).unwrap().unwrap().term, 50);
    s.insert(7, 70, 0, b"plain insert over expired").unwrap();
    assert_eq!(s.ttl(7).unwrap(), Ttl::Persistent);
    // ExpireScan reclaims and counts.
    s.expire_in(9, std::time::Duration::from_millis(1)).unwrap();
    s.expire_in(10, std::time::Duration::from_millis(1)).unwrap();
    sleep_ms(5);
    assert_eq!(s.expire_scan(1).unwrap(), 1);
    assert_eq!(s.expire_scan(0).unwrap(), 1);
    assert_eq!(s.ttl_count(), 0);
    assert_eq!(s.key_count().unwrap(), 8);
}

fn ttl_lifecycle<E: Engine>() {
    let mut s = open::<E>("life");
    for k in 1..=5u64 {
        s.insert(k, 0, 0, b"v").unwrap();
        s.expire_in(k, std::time::Duration::from_millis(60_000)).unwrap();
    }
    // Overwrites keep the TTL.
    s.insert_ex(1, 1, 1, b"w", SetCondition::Always).unwrap();
    s.append(1, 0, 0, b"x").unwrap();
    assert!(matches!(s.ttl(1).unwrap(), Ttl::Remaining(_)));
    // Every delete drops it: a re-inserted key has none.
    s.remove(1).unwrap();
    s.get_and_remove(2).unwrap();
    s.remove_range(3..=4).unwrap();
    for k in 1..=4u64 {
        s.insert(k, 0, 0, b"again").unwrap();
        assert_eq!(s.ttl(k).unwrap(), Ttl::Persistent, "key {k}");
    }
    assert_eq!(s.ttl_count(), 1);
    // A TTL set inside an aborted transaction leaves no trace.
    s.begin().unwrap();
    s.expire_in(1, std::time::Duration::from_millis(1000)).unwrap();
    s.persist(5).unwrap();
    s.append(1, 0, 0, b"zz").unwrap();
    s.abort().unwrap();
    assert_eq!(s.ttl(1).unwrap(), Ttl::Persistent);
    assert!(matches!(s.ttl(5).unwrap(), Ttl::Remaining(_)));
    assert_eq!(s.get(1).unwrap().unwrap().data, b"again");
}

fn ttl_survives_reopen<E: Engine>() {
    let path = common::scratch("reopen").join(format!("db-{}", E::NAME));
    {
        let mut s = Store::<E>::open(&path).unwrap();
        s.insert(1, 0, 0, b"a").unwrap();
        s.insert(2, 0, 0, b"b").unwrap();
        s.expire_in(1, std::time::Duration::from_millis(60_000)).unwrap();
        s.expire_in(2, std::time::Duration::from_millis(1)).unwrap();
        s.close().map_err(|(_, e)| e).unwrap();
    }
    sleep_ms(5);
    let mut s = Store::<E>::open(&path).unwrap();
    assert!(matches!(s.ttl(1).unwrap(), Ttl::Remaining(_)));
    assert!(!s.exists(2).unwrap());
    assert_eq!(s.expire_scan(0).unwrap(), 1);
}

fn errors_are_specific<E: Engine>() {
    let mut s = open::<E>("errs");
    assert!(matches!(s.get_and_remove(1), Ok(None)));
    assert!(matches!(s.expire_in(1, std::time::Duration::from_millis(1)), Err(Error::NotFound(_))));
}

/// Sizes computed from caller arguments are checked before anything is
/// allocated: an offset of 2^40 is TooBig at once (it used to abort the
/// process trying to allocate it), and so is a value grown past the
/// engine's limit; nothing changes.
fn sizes_checked_before_allocation<E: Engine>() {
    let mut s = open::<E>("sizes");
    s.insert(1, 2, 3, b"abc").unwrap();
    for offset in [1usize << 40, 3_000_000_000, usize::MAX / 2] {
        let e = s.set_value_range(1, offset, b"xy").unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooBig, "offset {offset}: {e}");
    }
    assert_eq!(s.set_value_range(1, usize::MAX, b"xy").unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(s.set_value_range(9, 1 << 40, b"xy").unwrap_err().code(), ErrorCode::TooBig);
    let e = s.get(1).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (2, 3, &b"abc"[..]));
    assert!(!s.exists(9).unwrap());
}

/// ExpireScan reclaims the soonest-expired keys first: with a limit, the
/// keys it leaves behind are the ones that expired last. What is stored is
/// read with the raw engine (expired keys are absent through the store).
fn expire_scan_soonest_first<E: Engine>() {
    let dir = common::scratch("expire-order");
    let path = dir.join(format!("db-{}", E::NAME));
    let now = common::now_ms();
    {
        let mut s = Store::<E>::open(&path).unwrap();
        for (k, ago) in [(1u64, 1_000u64), (2, 5_000), (3, 3_000), (4, 4_000)] {
            s.insert(k, k, k, b"v").unwrap();
            s.expire_at(k, std::time::UNIX_EPOCH + std::time::Duration::from_millis(now - ago)).unwrap();
        }
        s.insert(5, 5, 5, b"live").unwrap();
        assert_eq!(s.expire_scan(1).unwrap(), 1);
        assert_eq!(s.expire_scan(2).unwrap(), 2);
        assert!(s.close().is_ok());
    }
    let req = kvidxkit::OpenRequest { path: &path, config: None };
    let (mut raw, _) = E::open(&req).unwrap();
    // 2 (5 s ago), then 4 and 3 went; 1, the most recently expired, stays.
    for (k, stored) in [(1u64, true), (2, false), (3, false), (4, false), (5, true)] {
        assert_eq!(raw.exists(k).unwrap(), stored, "key {k}");
    }
    assert!(raw.close().is_ok());
}

macro_rules! engine_tests {
    ($modname:ident, $engine:ty) => {
        mod $modname {
            #[test]
            fn conditional_writes() {
                super::conditional_writes::<$engine>()
            }
            #[test]
            fn get_and_set_remove() {
                super::get_and_set_remove::<$engine>()
            }
            #[test]
            fn cas() {
                super::cas::<$engine>()
            }
            #[test]
            fn append_prepend_ranges() {
                super::append_prepend_ranges::<$engine>()
            }
            #[test]
            fn ttl_basics() {
                super::ttl_basics::<$engine>()
            }
            #[test]
            fn lazy_expiry() {
                super::lazy_expiry::<$engine>()
            }
            #[test]
            fn iteration_skips_expired_entries() {
                super::iteration_skips_expired_entries::<$engine>()
            }
            #[test]
            fn ttl_lifecycle() {
                super::ttl_lifecycle::<$engine>()
            }
            #[test]
            fn ttl_survives_reopen() {
                super::ttl_survives_reopen::<$engine>()
            }
            #[test]
            fn errors_are_specific() {
                super::errors_are_specific::<$engine>()
            }
            #[test]
            fn expire_scan_soonest_first() {
                super::expire_scan_soonest_first::<$engine>()
            }
            #[test]
            fn sizes_checked_before_allocation() {
                super::sizes_checked_before_allocation::<$engine>()
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
