//! The crash loop: a writer process commits numbered units of mixed work
//! (batches, single inserts, values up to 2 MB, overwrites through the
//! primitives, range removes, TTLs set and expired, expire scans, an import
//! with clear, some units aborted) and acknowledges each commit to its
//! parent; the parent SIGKILLs it at a random moment — during open and
//! recovery too — reopens the store and checks it against a model: nothing
//! acknowledged is lost, no partial unit is visible, and iterator walks both
//! ways, GetNext/GetPrev walks, range counts and the key count agree.
//!
//! Each unit is one transaction that also records its number under the key
//! `META`, so the store says exactly which units committed: at least every
//! acknowledged one, at most one more (killed between commit and ack).
//! The writer and the parent derive every unit from the same seed and the
//! same model, so the parent knows what each unit must have done.
//!
//! What this proves and what it does not: SIGKILL ends the process at any
//! instruction, so every state the library leaves on disk between two
//! system calls is tested; the operating system's page cache survives, so it
//! does not prove durability across a power cut (that is kvidxFsync's and
//! the engine's sync settings' job, checked elsewhere by counting syncs).
//!
//! `make test` runs 12 trials per engine and sync setting; `make stress`
//! (`KVIDX_STRESS=1`) 500, `KVIDX_CRASH_TRIALS=N` N.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

#[cfg(feature = "rocksdb")]
use kvidxkit::engines::Rocksdb;
use kvidxkit::formats::{ExportOptions, Format, ImportOptions};
use kvidxkit::{Engine, SetCondition, Store, Ttl};

const CHILD_ENV: &str = "KVIDX_CRASH_CHILD";
/// The key that records the number of the last committed unit.
const META: u64 = u64::MAX;
const SPECIAL: [u64; 4] = [0, (1 << 63) - 1, 1 << 63, u64::MAX - 1];

// ----------------------------------------------------------------------
// Deterministic randomness

struct Rng(u64);

impl Rng {
    fn new(seed: u64, n: u64) -> Self {
        Rng(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn key(&mut self) -> u64 {
        if self.chance(16) { SPECIAL[self.below(4) as usize] } else { self.below(2000) }
    }
    fn bytes(&mut self, tag: u64) -> Vec<u8> {
        let len = if self.chance(64) { 256 * 1024 + self.below(1792 * 1024) } else { self.below(200) };
        let mut x = self.next() ^ tag;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect()
    }
}

// ----------------------------------------------------------------------
// The model and the units

#[derive(Clone, Default, PartialEq, Debug)]
struct Model {
    entries: BTreeMap<u64, (u64, u64, Vec<u8>)>,
    /// Keys that have a TTL in the future.
    ttl: BTreeSet<u64>,
}

impl Model {
    fn committed(&self) -> u64 {
        self.entries.get(&META).map_or(0, |e| u64::from_le_bytes(e.2[..8].try_into().unwrap()))
    }
    fn absent_key(&self, r: &mut Rng) -> Option<u64> {
        (0..20).map(|_| r.key()).find(|k| !self.entries.contains_key(k))
    }
    fn present_key(&self, r: &mut Rng) -> Option<u64> {
        let n = self.entries.len() as u64;
        if n <= 1 {
            return None;
        }
        self.entries.keys().copied().filter(|k| *k != META).nth(r.below(n - 1) as usize)
    }
    fn remove(&mut self, k: u64) -> bool {
        self.ttl.remove(&k);
        self.entries.remove(&k).is_some()
    }
}

fn now_ms() -> u64 {
    common::now_ms()
}

/// Runs unit `n` on `m` (and on the store when there is one, checking every
/// result against the model). Returns whether the unit commits. The store
/// is in a transaction begun by the caller.
fn unit<E: Engine>(n: u64, seed: u64, m: &mut Model, mut s: Option<&mut Store<E>>, scratch: &Path) -> bool {
    let mut r = Rng::new(seed, n);
    let commit = !r.chance(8);
    let ops = 1 + r.below(8);
    // An import with clear now and then: export the state as it is, change
    // things, then import the export with clear (back to the exported state).
    let import = r.chance(30);
    let mut snapshot = None;
    if import {
        let file = scratch.join(format!("unit-{n}.bin"));
        if let Some(s) = s.as_deref_mut() {
            let opts = ExportOptions { format: Format::Binary, ..ExportOptions::default() };
            let written = s.export_to(&file, &opts).unwrap();
            assert_eq!(written, m.entries.len() as u64, "unit {n}: export count");
        }
        snapshot = Some((file, m.clone()));
    }
    for _ in 0..ops {
        match r.below(14) {
            0 => {
                if let Some(k) = m.absent_key(&mut r) {
                    let (t, c, d) = (r.next(), r.next(), r.bytes(k));
                    if let Some(s) = s.as_deref_mut() {
                        s.insert(k, t, c, &d).unwrap_or_else(|e| panic!("unit {n}: insert {k}: {e}"));
                    }
                    m.entries.insert(k, (t, c, d));
                }
            }
            1 => {
                let mut batch: Vec<(u64, u64, u64, Vec<u8>)> = Vec::new();
                for _ in 0..1 + r.below(50) {
                    if let Some(k) = m.absent_key(&mut r)
                        && !batch.iter().any(|(b, ..)| *b == k)
                    {
                        let len = r.below(64) as usize;
                        batch.push((k, r.next(), r.next(), vec![(k & 0xFF) as u8; len]));
                    }
                }
                if let Some(s) = s.as_deref_mut() {
                    let out = s.insert_batch(batch.iter().map(|(k, t, c, d)| kvidxkit::EntryRef {
                        key: *k,
                        term: *t,
                        cmd: *c,
                        data: d,
                    }));
                    assert!(out.error.is_none(), "unit {n}: batch: {:?}", out.error);
                    assert_eq!(out.inserted, batch.len());
                }
                for (k, t, c, d) in batch {
                    m.entries.insert(k, (t, c, d));
                }
            }
            2 => {
                let k = r.key();
                let (t, c, d) = (r.next(), r.next(), r.bytes(k));
                if let Some(s) = s.as_deref_mut() {
                    s.insert_ex(k, t, c, &d, SetCondition::Always).unwrap();
                }
                m.entries.insert(k, (t, c, d));
            }
            3 => {
                // Ranges stay below META.
                let lo = r.key().min(META - 1);
                let hi = lo.saturating_add(r.below(300)).min(META - 1);
                let (li, hi_inc) = (r.chance(2), r.chance(2));
                let a = if li { Some(lo) } else { lo.checked_add(1) };
                let b = if hi_inc { Some(hi) } else { hi.checked_sub(1) };
                let gone: Vec<u64> = match (a, b) {
                    (Some(a), Some(b)) if a <= b => m.entries.range(a..=b).map(|(k, _)| *k).collect(),
                    _ => Vec::new(),
                };
                if let Some(s) = s.as_deref_mut() {
                    let bound = |k, inc| if inc { std::ops::Bound::Included(k) } else { std::ops::Bound::Excluded(k) };
                    let removed = s.remove_range((bound(lo, li), bound(hi, hi_inc))).unwrap();
                    assert_eq!(removed, gone.len() as u64, "unit {n}: remove_range");
                }
                for k in gone {
                    m.remove(k);
                }
            }
            4 => {
                if let Some(k) = m.present_key(&mut r) {
                    if let Some(s) = s.as_deref_mut() {
                        assert!(s.remove(k).unwrap(), "unit {n}: remove {k}");
                    }
                    m.remove(k);
                }
            }
            5 => {
                if let Some(k) = m.present_key(&mut r) {
                    if let Some(s) = s.as_deref_mut() {
                        s.expire_at(k, std::time::UNIX_EPOCH + std::time::Duration::from_millis(now_ms() + 3_600_000))
                            .unwrap();
                    }
                    m.ttl.insert(k);
                }
            }
            6 => {
                if let Some(k) = m.present_key(&mut r) {
                    if let Some(s) = s.as_deref_mut() {
                        s.expire_at(k, std::time::UNIX_EPOCH + std::time::Duration::from_millis(1)).unwrap();
                        assert!(!s.exists(k).unwrap());
                    }
                    m.remove(k);
                }
            }
            7 => {
                if let Some(s) = s.as_deref_mut() {
                    s.expire_scan(0).unwrap();
                }
            }
            8 => {
                let k = r.key();
                let (t, c, d) = (r.next(), r.next(), r.bytes(k ^ 1));
                if let Some(s) = s.as_deref_mut() {
                    s.append(k, t, c, &d).unwrap();
                }
                match m.entries.get_mut(&k) {
                    Some(e) => e.2.extend_from_slice(&d),
                    None => {
                        m.entries.insert(k, (t, c, d));
                    }
                }
            }
            9 => {
                if let Some(k) = m.present_key(&mut r) {
                    let off = r.below(m.entries[&k].2.len() as u64 + 10) as usize;
                    let d = r.bytes(k ^ 2);
                    if let Some(s) = s.as_deref_mut() {
                        s.set_value_range(k, off, &d).unwrap();
                    }
                    let v = &mut m.entries.get_mut(&k).unwrap().2;
                    if v.len() < off + d.len() {
                        v.resize(off + d.len(), 0);
                    }
                    v[off..off + d.len()].copy_from_slice(&d);
                }
            }
            10 => {
                if let Some(k) = m.present_key(&mut r) {
                    let (t, c, d) = (r.next(), r.next(), r.bytes(k ^ 3));
                    if let Some(s) = s.as_deref_mut() {
                        let expected = m.entries[&k].2.clone();
                        assert!(s.compare_and_swap(k, &expected, t, c, &d).unwrap(), "unit {n}: cas {k}");
                    }
                    m.entries.insert(k, (t, c, d));
                }
            }
            11 => {
                let k = r.key();
                let (t, c, d) = (r.next(), r.next(), r.bytes(k ^ 4));
                if let Some(s) = s.as_deref_mut() {
                    let old = s.get_and_set(k, t, c, &d).unwrap();
                    assert_eq!(old.map(|e| (e.term, e.cmd, e.data)), m.entries.get(&k).cloned(), "unit {n}: gas {k}");
                }
                m.entries.insert(k, (t, c, d));
            }
            12 => {
                if let Some(k) = m.present_key(&mut r) {
                    if let Some(s) = s.as_deref_mut() {
                        s.persist(k).unwrap();
                    }
                    m.ttl.remove(&k);
                }
            }
            _ => {
                // Reads inside the unit see its writes.
                if let (Some(k), Some(s)) = (m.present_key(&mut r), s.as_deref_mut()) {
                    let e = s.get(k).unwrap().unwrap();
                    let want = &m.entries[&k];
                    assert_eq!((e.term, e.cmd, e.data), (want.0, want.1, &want.2[..]), "unit {n}: get {k}");
                }
            }
        }
    }
    if let Some((file, before)) = snapshot {
        if let Some(s) = s.as_deref_mut() {
            let opts = ImportOptions { clear_before_import: true, ..ImportOptions::default() };
            let got = s.import_from(&file, &opts).unwrap();
            assert_eq!(got, before.entries.len() as u64);
            let _ = std::fs::remove_file(&file);
        }
        // Imported entries carry no TTL.
        *m = Model { entries: before.entries, ttl: BTreeSet::new() };
    }
    m.entries.insert(META, (0, 0, n.to_le_bytes().to_vec()));
    if let Some(s) = s {
        s.insert_ex(META, 0, 0, &n.to_le_bytes(), SetCondition::Always).unwrap();
    }
    commit
}

// ----------------------------------------------------------------------
// The store as it is, read every way

fn load<E: Engine>(s: &mut Store<E>) -> Model {
    let mut m = Model::default();
    for e in s.range(0..=u64::MAX) {
        let e = e.unwrap();
        m.entries.insert(e.key, (e.term, e.cmd, e.data));
    }
    let keys: Vec<u64> = m.entries.keys().copied().collect();
    for k in keys {
        if let Ttl::Remaining(_) = s.ttl(k).unwrap() {
            m.ttl.insert(k);
        }
    }
    m
}

/// Checks every way of reading the store against the model.
fn verify<E: Engine>(s: &mut Store<E>, m: &Model, what: &str) {
    let forward = load(s);
    if forward != *m {
        let a: BTreeSet<_> = forward.entries.keys().collect();
        let b: BTreeSet<_> = m.entries.keys().collect();
        panic!(
            "{what}: store differs from the model (keys only in store {:?}, only in model {:?}, ttl store {:?} model {:?})",
            a.difference(&b).take(5).collect::<Vec<_>>(),
            b.difference(&a).take(5).collect::<Vec<_>>(),
            forward.ttl.iter().take(5).collect::<Vec<_>>(),
            m.ttl.iter().take(5).collect::<Vec<_>>()
        );
    }
    let back: Vec<u64> = s.range(0..=u64::MAX).rev().map(|e| e.unwrap().key).collect();
    assert!(back.iter().rev().eq(m.entries.keys()), "{what}: backward walk");
    // GetNext / GetPrev walks.
    let mut walk = Vec::new();
    let mut cur = s.min_key().unwrap();
    while let Some(k) = cur {
        walk.push(k);
        cur = s.next(k).unwrap().map(|e| e.key);
    }
    assert!(walk.iter().eq(m.entries.keys()), "{what}: GetNext walk");
    let mut walk = Vec::new();
    let mut cur = s.max_key().unwrap();
    while let Some(k) = cur {
        walk.push(k);
        cur = s.prev(k).unwrap().map(|e| e.key);
    }
    assert!(walk.iter().rev().eq(m.entries.keys()), "{what}: GetPrev walk");
    assert_eq!(s.key_count().unwrap(), m.entries.len() as u64, "{what}: key count");
    for (lo, hi) in [(0, 999), (500, 1500), (1 << 62, u64::MAX), (0, u64::MAX - 1)] {
        assert_eq!(
            s.count_range(lo..=hi).unwrap(),
            m.entries.range(lo..=hi).count() as u64,
            "{what}: count [{lo}, {hi}]"
        );
    }
}

// ----------------------------------------------------------------------
// The writer (child) and the trials (parent)

fn store_path<E: Engine>(dir: &Path) -> PathBuf {
    dir.join(match E::NAME {
        "SQLite3" => "crash.sqlite3",
        "LMDB" => "crash.lmdb",
        _ => "crash.rocksdb",
    })
}

/// The writer: continues after the last committed unit until killed.
fn writer<E: Engine>(dir: &Path, seed: u64, fsync: bool) -> ! {
    use std::io::Write;
    let mut s = Store::<E>::open(store_path::<E>(dir)).expect("writer: open");
    let mut m = load(&mut s);
    let mut out = std::io::stdout().lock();
    let mut n = m.committed();
    loop {
        n += 1;
        s.begin().unwrap();
        let mut next = m.clone();
        let commit = unit(n, seed, &mut next, Some(&mut s), dir);
        if commit {
            s.commit().unwrap_or_else(|e| panic!("unit {n}: commit: {e}"));
            if fsync {
                s.fsync().unwrap();
            }
            m = next;
            writeln!(out, "ack {n}").unwrap();
            out.flush().unwrap();
        } else {
            s.abort().unwrap();
        }
    }
}

/// Trials per engine and sync setting: `KVIDX_CRASH_TRIALS`, else 500 under
/// `KVIDX_STRESS=1` (`make stress`), else 12.
fn trials() -> u64 {
    let stress = std::env::var("KVIDX_STRESS").is_ok_and(|v| v == "1");
    std::env::var("KVIDX_CRASH_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(if stress { 500 } else { 12 })
}

fn crash_loop<E: Engine>(test: &str, fsync: bool) {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let mut it = spec.splitn(2, ':');
        let seed: u64 = it.next().unwrap().parse().unwrap();
        let dir = PathBuf::from(it.next().unwrap());
        writer::<E>(&dir, seed, fsync);
    }
    let dir = common::scratch(test);
    let seed = std::process::id() as u64 ^ now_ms();
    let mut r = Rng::new(seed, 0);
    let mut model = Model::default();
    let (mut acked, mut lost_none, mut in_flight, mut before_first) = (0u64, 0u64, 0u64, 0u64);
    let n = trials();
    for trial in 0..n {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, format!("{seed}:{}", dir.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn writer");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = 0u64;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The harness prints "test … ... " without a newline first.
                if let Some(pos) = line.find("ack ") {
                    last = line[pos + 4..].trim().parse().unwrap();
                }
            }
            last
        });
        // From the first instructions of open to well into the work.
        let delay = match trial % 4 {
            0 => r.below(15),
            _ => 5 + r.below(400),
        };
        std::thread::sleep(Duration::from_millis(delay));
        let early_exit = child.try_wait().unwrap();
        let _ = child.kill();
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        use std::io::Read;
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(early_exit.is_none(), "trial {trial}: the writer stopped by itself ({status}):\n{stderr}");
        let last_ack = reader.join().unwrap();
        acked = acked.max(last_ack);

        // Recovery: open, find what committed, check it against the model.
        let mut s = Store::<E>::open(store_path::<E>(&dir)).unwrap_or_else(|e| panic!("trial {trial}: reopen: {e}"));
        let stored = {
            let v = s.get(META).unwrap().map(|e| e.data.to_vec());
            v.map_or(0, |d| u64::from_le_bytes(d[..8].try_into().unwrap()))
        };
        assert!(stored >= acked, "trial {trial}: acknowledged unit {acked} lost (store has {stored})");
        // Replay the units up to what the store holds. Units that abort are
        // never acknowledged; at most one committing unit may be newer than
        // the last acknowledgement (killed between its commit and its ack).
        let mut newer = 0;
        let mut units = Vec::new();
        let from = model.committed();
        for u in from + 1..=stored {
            let mut next = model.clone();
            if unit::<E>(u, seed, &mut next, None, &dir) {
                model = next;
                units.push(u);
                if u > acked {
                    newer += 1;
                }
            }
        }
        assert!(
            newer <= 1,
            "trial {trial}: store has unit {stored}, {newer} committed units past the last ack {acked} \
             (this writer's last ack {last_ack}, previous unit {from}, committing units {units:?})"
        );
        if newer == 1 {
            in_flight += 1;
        } else {
            lost_none += 1;
        }
        if last_ack == 0 && newer == 0 {
            before_first += 1; // killed while opening or in its first unit
        }
        assert_eq!(model.committed(), stored, "trial {trial}: unit {stored} was not a committing unit");
        verify(&mut s, &model, &format!("{} trial {trial} (unit {stored})", E::NAME));
        acked = stored;
        assert!(s.close().is_ok());
    }
    eprintln!(
        "{} crash loop{}: {n} trials, {} units committed, {lost_none} killed between units \
         ({before_first} of them before the first commit), {in_flight} with a commit not yet acknowledged; nothing lost",
        E::NAME,
        if fsync { " (fsync after commit)" } else { "" },
        model.committed()
    );
    assert!(model.committed() > 0, "no unit ever committed");
}

#[cfg(feature = "sqlite")]
#[test]
fn crash_loop_sqlite() {
    crash_loop::<kvidxkit::Sqlite>("crash_loop_sqlite", false);
}

#[cfg(feature = "sqlite")]
#[test]
fn crash_loop_sqlite_fsync() {
    crash_loop::<kvidxkit::Sqlite>("crash_loop_sqlite_fsync", true);
}

#[cfg(feature = "lmdb")]
#[test]
fn crash_loop_lmdb() {
    crash_loop::<kvidxkit::Lmdb>("crash_loop_lmdb", false);
}

#[cfg(feature = "lmdb")]
#[test]
fn crash_loop_lmdb_fsync() {
    crash_loop::<kvidxkit::Lmdb>("crash_loop_lmdb_fsync", true);
}

#[cfg(feature = "rocksdb")]
#[test]
fn crash_loop_rocksdb() {
    crash_loop::<Rocksdb>("crash_loop_rocksdb", false);
}

#[cfg(feature = "rocksdb")]
#[test]
fn crash_loop_rocksdb_fsync() {
    crash_loop::<Rocksdb>("crash_loop_rocksdb_fsync", true);
}
