//! A cache with expiry on kvidxkit: get-or-compute with a time to live,
//! entries that vanish when they expire, pinned entries that never do,
//! invalidation, and `expire_scan` reclaiming the storage of expired
//! entries in bounded batches.
//!
//! Layout: the cached value of key `k` is the entry `k`; its term is the
//! version of the source it was computed from, so a cached value from an
//! older version is recomputed.
//!
//! Runs the scenario on every engine built in and checks every result:
//! exit status 0 when all is as expected, 1 otherwise. It sleeps about
//! half a second in all, to let entries expire.
//!
//! ```sh
//! cargo run --release --example ttl_cache [DIR]
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use kvidxkit::{Engine, SetCondition, Store, Ttl};

struct Cache<E: Engine> {
    db: Store<E>,
    hits: u64,
    misses: u64,
}

impl<E: Engine> Cache<E> {
    fn open(path: &Path) -> kvidxkit::Result<Self> {
        Ok(Cache { db: Store::open(path)?, hits: 0, misses: 0 })
    }

    /// The cached value of `key` computed from `version` of the source, or
    /// `compute(key)` stored for `ttl` (None: no expiry). The value and its
    /// expiry are written in one transaction: a crash never leaves a value
    /// that does not expire.
    fn get_or_compute(
        &mut self,
        key: u64,
        version: u64,
        ttl: Option<Duration>,
        compute: impl FnOnce(u64) -> Vec<u8>,
    ) -> kvidxkit::Result<Vec<u8>> {
        if let Some(e) = self.db.get(key)?
            && e.term == version
        {
            self.hits += 1;
            return Ok(e.data.to_vec());
        }
        self.misses += 1;
        let value = compute(key);
        self.db.atomically(|tx| {
            tx.insert_ex(key, version, 0, &value, SetCondition::Always)?;
            match ttl {
                Some(ttl) => tx.expire_in(key, ttl),
                None => tx.persist(key), // overwriting keeps an old expiry: clear it
            }
        })?;
        Ok(value)
    }

    fn invalidate(&mut self, key: u64) -> kvidxkit::Result<bool> {
        self.db.remove(key)
    }
}

/// An expensive computation, counted.
fn square(calls: &mut u64) -> impl FnMut(u64) -> Vec<u8> + '_ {
    move |k| {
        *calls += 1;
        (k * k).to_string().into_bytes()
    }
}

macro_rules! check {
    ($ok:expr, $($msg:tt)+) => {
        if !$ok {
            return Err(format!($($msg)+).into());
        }
    };
}

fn scenario<E: Engine>(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut cache = Cache::<E>::open(path)?;
    let mut calls = 0;
    let hour = Some(Duration::from_secs(3600));

    // Miss, then hit.
    check!(cache.get_or_compute(12, 1, hour, square(&mut calls))? == b"144", "12 computed");
    check!(cache.get_or_compute(12, 1, hour, square(&mut calls))? == b"144", "12 cached");
    check!((cache.hits, cache.misses, calls) == (1, 1, 1), "one hit, one miss");
    check!(matches!(cache.db.ttl(12)?, Ttl::Remaining(d) if d > Duration::from_secs(3590)), "12 expires in an hour");

    // A newer version of the source: recomputed, the new value cached.
    cache.get_or_compute(12, 2, hour, |_| b"new".to_vec())?;
    check!(cache.get_or_compute(12, 2, hour, square(&mut calls))? == b"new", "version 2 cached");

    // A short-lived entry is gone once its time is up, for every read.
    cache.get_or_compute(7, 1, Some(Duration::from_millis(100)), square(&mut calls))?;
    // A pinned entry never expires.
    cache.get_or_compute(1, 1, None, square(&mut calls))?;
    check!(cache.db.ttl(1)? == Ttl::Persistent, "1 is pinned");
    std::thread::sleep(Duration::from_millis(300));
    check!(cache.db.get(7)?.is_none() && !cache.db.exists(7)?, "7 expired");
    check!(cache.db.ttl(7)? == Ttl::NotFound, "an expired key has no TTL");
    check!(cache.db.count_range(..)? == 2, "1 and 12 remain: {}", cache.db.count_range(..)?);
    let before = calls;
    check!(cache.get_or_compute(7, 1, hour, square(&mut calls))? == b"49", "7 recomputed");
    check!(calls == before + 1, "an expired entry is a miss");

    // An absolute expiry: at a point in time.
    let at = SystemTime::now() + Duration::from_secs(120);
    cache.db.expire_at(1, at)?;
    check!(matches!(cache.db.ttl(1)?, Ttl::Remaining(d) if d <= Duration::from_secs(120)), "1 expires at a time");

    // Many short-lived entries: they disappear at once from every read;
    // their storage is reclaimed by expire_scan, here in batches of 20.
    for k in 1000..1050 {
        cache.get_or_compute(k, 1, Some(Duration::from_millis(1)), square(&mut calls))?;
    }
    std::thread::sleep(Duration::from_millis(50));
    check!(cache.db.count_range(1000..1050)? == 0, "the 50 entries have expired");
    check!(cache.db.ttl_count() >= 50, "their expiries are still recorded");
    let mut reclaimed = 0;
    loop {
        let n = cache.db.expire_scan(20)?;
        check!(n <= 20, "a bounded scan removes at most 20");
        if n == 0 {
            break;
        }
        reclaimed += n;
    }
    check!(reclaimed == 50, "50 reclaimed, not {reclaimed}");
    check!(cache.db.ttl_count() == 3, "left with expiries: 12, 7 and 1, not {}", cache.db.ttl_count());

    // Invalidation.
    check!(cache.invalidate(12)?, "12 was cached");
    check!(!cache.invalidate(12)?, "12 is gone");
    check!(cache.db.key_count()? == 2, "1 and 7 remain");

    // Expiry times survive a restart.
    drop(cache);
    let mut cache = Cache::<E>::open(path)?;
    check!(matches!(cache.db.ttl(7)?, Ttl::Remaining(_)), "7 still expires after reopening");
    check!(cache.get_or_compute(7, 1, hour, square(&mut calls))? == b"49", "7 still cached");
    cache.db.close().map_err(|(_, e)| e)?;
    println!("[{}] ttl cache: {calls} computations, 50 expired entries reclaimed in batches of 20", E::NAME);
    Ok(())
}

/// Runs the scenario on every engine built in, in `dir` (also called by
/// tests/rust_examples.rs).
pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    #[cfg(feature = "sqlite")]
    scenario::<kvidxkit::Sqlite>(&dir.join("cache.sqlite3"))?;
    #[cfg(feature = "lmdb")]
    scenario::<kvidxkit::Lmdb>(&dir.join("cache.lmdb"))?;
    Ok(())
}

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => d.into(),
        None => std::env::temp_dir().join(format!("kvidxkit-cache-{}", std::process::id())),
    };
    let r = run(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ttl_cache: {e}");
            ExitCode::FAILURE
        }
    }
}
