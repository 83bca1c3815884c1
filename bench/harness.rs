//! Measurement machinery shared by every row: the benchmark environment
//! (data set, temporary files or directories), the `Case` list entry, the
//! interleaved `measure` routine and the table printer.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kvidxkit::capi::types::kvidxInterface;

/// One timed run: how many operations were done in how much time.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub ops: u64,
    pub secs: f64,
}

impl Sample {
    pub fn new(ops: u64, elapsed: Duration) -> Self {
        Sample { ops, secs: elapsed.as_secs_f64() }
    }

    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.secs.max(1e-9)
    }
}

/// Starts the clock; `stop(ops)` turns it into a [`Sample`].
pub struct Timer(Instant);

impl Timer {
    pub fn start() -> Self {
        Timer(Instant::now())
    }

    pub fn stop(self, ops: u64) -> Sample {
        Sample::new(ops, self.0.elapsed())
    }
}

/// Shortest timed run of a row whose single pass can be too short to time
/// well (the wide range count once counts stop walking keys; the iterator
/// scans, about a millisecond per pass of 100 000 entries on LMDB, whose
/// single-pass ratio moved from 1.08 to 1.20 between runs of one binary).
pub const MIN_RUN: Duration = Duration::from_millis(20);

/// Times `pass` (which returns the operations it did) repeatedly until at
/// least `MIN_RUN` has elapsed, at least once; both sides of a row use it,
/// so both do whole passes over the same work.
pub fn timed_passes(mut pass: impl FnMut() -> u64) -> Sample {
    let t = Instant::now();
    let mut ops = 0;
    loop {
        ops += pass();
        if t.elapsed() >= MIN_RUN {
            return Sample::new(ops, t.elapsed());
        }
    }
}

/// One side of a row: does its own untimed setup (open, copy files), times
/// only the operations, cleans up and returns the sample.
pub type Side = fn(&Env) -> Sample;

/// One row of the table: the same operation through kvidxkit's C ABI and
/// done directly on the engine (the ceiling). In the TTL-overhead table the
/// two sides are kvidx on a database with 1% TTL keys (`kvidx`) and kvidx
/// on the same database without TTLs (`raw`), so the ratio is
/// no-TTL ops/s / 1%-TTL ops/s there.
pub struct Case {
    pub name: &'static str,
    pub kvidx: Side,
    pub raw: Side,
    /// Runs per side for this row (0: the default).
    pub runs: usize,
    /// What the row does and what its ceiling is, when the table's header
    /// does not say it all (printed under the table).
    pub note: Option<String>,
}

impl Case {
    pub const fn new(name: &'static str, kvidx: Side, raw: Side) -> Case {
        Case { name, kvidx, raw, runs: 0, note: None }
    }

    /// The same row with `runs` runs per side.
    pub fn runs(self, runs: usize) -> Case {
        Case { runs, ..self }
    }

    /// The same row with a note under the table.
    pub fn note(self, note: String) -> Case {
        Case { note: Some(note), ..self }
    }
}

/// A kvidxkit engine as a C caller selects it: the interface table copied
/// into `kvidxInstance.interface`, and the path suffix of its databases.
#[derive(Clone, Copy)]
pub struct KvEngine {
    pub name: &'static str,
    pub iface: &'static kvidxInterface,
    pub suffix: &'static str,
}

/// Operations of the storage-primitive rows (each row: this many calls in
/// one transaction).
pub const PRIM_N: u64 = 10_000;
/// Value size of the Append row's prepared entries, and the appended size.
pub const APPEND_BASE: usize = 1024;
pub const APPEND_LEN: usize = 64;
/// Size of the values written by GetAndSet and CompareAndSwap.
pub const PRIM_VALUE: usize = 64;

// The rows of the original's benchmark program (kvidxkit 0.8,
// src/kvidxkit-bench.c) that the core rows above do not already cover:
// their operation mix, batch size and commit cadence.

/// Entries per kvidxInsertBatch call of the batch row (one transaction each).
pub const BATCH: usize = 1000;
/// Operations per transaction of the mixed row.
pub const MIXED_COMMIT: u64 = 1000;
/// Percentage of reads in the mixed row (the rest: appends of new keys).
pub const MIXED_READ_PCT: u64 = 80;
/// Value size of the large-value rows.
pub const LARGE_VALUE: usize = 4096;
/// Inserts per transaction of the large-value insert row.
pub const LARGE_COMMIT: u64 = 1000;
/// Inserts per transaction of the original's sequential and random insert rows.
pub const INSERT_COMMIT: u64 = 10_000;
/// Removes per transaction of the original's delete row.
pub const DELETE_COMMIT: u64 = 10_000;

/// Everything the sides share: the data set (identical for both sides) and
/// the temporary directory.
pub struct Env {
    pub engine: KvEngine,
    /// Number of entries.
    pub n: u64,
    /// The value stored under every key.
    pub value: Vec<u8>,
    /// `n` random existing keys (1..=n, repeats allowed).
    pub rand_read_keys: Vec<u64>,
    /// `n` distinct random keys (for inserts into an empty database).
    pub rand_insert_keys: Vec<u64>,
    /// Inclusive key ranges for the range-count row (all inside 1..=n).
    pub ranges: Vec<(u64, u64)>,
    /// Width of every range in `ranges`.
    pub range_width: u64,
    /// Wide inclusive ranges (the original's range-count row): start
    /// uniform in 1..=n/2, end uniform in n/2..=n.
    pub wide_ranges: Vec<(u64, u64)>,
    /// Sum of the widths of `wide_ranges` (what the counts must add up to).
    pub wide_total: u64,
    /// Mixed row: keys 1..=`mixed_base` exist before the row starts.
    pub mixed_base: u64,
    /// Mixed row, one entry per operation: a key to read (an existing one,
    /// uniform over 1..=the largest key written so far), or 0 = insert the
    /// next new key (`mixed_base` + 1, + 2, ...).
    pub mixed_ops: Vec<u64>,
    /// Large-value rows: number of entries (n/10, at least 1000), the
    /// value, and 1..=`large_n` in random order (the read row's keys).
    pub large_n: u64,
    pub large_value: Vec<u8>,
    pub large_read_keys: Vec<u64>,
    /// `PRIM_N` distinct random existing keys (storage-primitive rows).
    pub prim_keys: Vec<u64>,
    /// `prim_keys` in ascending order (the raw ExpireScan deletes in key
    /// order, as a walk of the TTL table would find them).
    pub prim_keys_sorted: Vec<u64>,
    /// 1..=PRIM_N in random order (Append row, over its own database).
    pub append_keys: Vec<u64>,
    /// New value of GetAndSet / CompareAndSwap (`PRIM_VALUE` bytes).
    pub new_value: Vec<u8>,
    /// What Append appends (`APPEND_LEN` bytes).
    pub append_value: Vec<u8>,
    /// Temporary directory (removed at the end).
    pub dir: PathBuf,
    /// Populated databases (keys 1..=n), one per side, byte-identical;
    /// write rows copy them, read rows open [`Env::read_db`].
    pub populated_kvidx: PathBuf,
    pub populated_raw: PathBuf,
    counter: Cell<u64>,
    /// Templates built on first use: name -> (kvidx copy, raw copy).
    templates: RefCell<HashMap<&'static str, (PathBuf, PathBuf)>>,
}

/// xorshift64 with a fixed seed: the same sequence on every run, no crates.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-enough value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

impl Env {
    pub fn new(engine: KvEngine, n: u64, value_size: usize, ranges: usize, width: u64, wide: usize) -> Self {
        assert!(n >= width && width >= 1 && n >= 2);
        let base = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("kvidx-bench")
            .join(std::process::id().to_string())
            .join(engine.name);
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("create the temporary directory");

        let value: Vec<u8> = (0..value_size).map(|i| (i * 7 + 1) as u8).collect();
        let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
        let rand_read_keys = (0..n).map(|_| rng.range(1, n)).collect();
        let mut seen = HashSet::with_capacity(n as usize);
        let mut rand_insert_keys = Vec::with_capacity(n as usize);
        while (rand_insert_keys.len() as u64) < n {
            // Below 2^62: positive in SQLite's signed integer on every engine.
            let k = rng.next_u64() >> 2;
            if k != 0 && seen.insert(k) {
                rand_insert_keys.push(k);
            }
        }
        let ranges = (0..ranges)
            .map(|_| {
                let a = rng.range(1, n - width + 1);
                (a, a + width - 1)
            })
            .collect();
        let prim_n = PRIM_N.min(n) as usize;
        let mut prim_keys: Vec<u64> = (1..=n).collect();
        shuffle(&mut prim_keys, &mut rng);
        prim_keys.truncate(prim_n);
        let mut prim_keys_sorted = prim_keys.clone();
        prim_keys_sorted.sort_unstable();
        let mut append_keys: Vec<u64> = (1..=PRIM_N).collect();
        shuffle(&mut append_keys, &mut rng);
        // The data of the original's rows, drawn after the others' so that
        // those stay what they were before these rows existed.
        let half = n / 2;
        let wide_ranges: Vec<(u64, u64)> = (0..wide).map(|_| (rng.range(1, half), rng.range(half, n))).collect();
        let wide_total = wide_ranges.iter().map(|&(a, b)| b - a + 1).sum();
        let mut mixed_ops = Vec::with_capacity(n as usize);
        let mut last = half;
        for _ in 0..n {
            if rng.range(0, 99) < MIXED_READ_PCT {
                mixed_ops.push(rng.range(1, last));
            } else {
                mixed_ops.push(0);
                last += 1;
            }
        }
        let large_n = (n / 10).max(1000);
        let large_value = (0..LARGE_VALUE).map(|i| (i * 11 + 7) as u8).collect();
        let mut large_read_keys: Vec<u64> = (1..=large_n).collect();
        shuffle(&mut large_read_keys, &mut rng);
        let new_value = (0..PRIM_VALUE).map(|i| (i * 13 + 5) as u8).collect();
        let append_value = (0..APPEND_LEN).map(|i| (i * 3 + 11) as u8).collect();
        let populated_kvidx = base.join(format!("populated-kvidx{}", engine.suffix));
        let populated_raw = base.join(format!("populated-raw{}", engine.suffix));
        Env {
            engine,
            n,
            value,
            rand_read_keys,
            rand_insert_keys,
            ranges,
            range_width: width,
            wide_ranges,
            wide_total,
            mixed_base: half,
            mixed_ops,
            large_n,
            large_value,
            large_read_keys,
            prim_keys,
            prim_keys_sorted,
            append_keys,
            new_value,
            append_value,
            dir: base,
            populated_kvidx,
            populated_raw,
            counter: Cell::new(0),
            templates: RefCell::new(HashMap::new()),
        }
    }

    /// The database both sides of a read row open: the kvidx side's copy,
    /// which the raw side reads directly (SQLite and LMDB; RocksDB's rows
    /// keep a copy per side, since opening a RocksDB database writes to its
    /// directory). A row's runs alternate sides; with a copy per side each
    /// run found the caches holding the pages the other side had just read,
    /// and a run after the other side's came out slower than one after its
    /// own (LMDB random read, 31 runs: kvidx 3.2 M/s after raw's run and
    /// 3.6 M/s after its own, raw 3.55 M/s and 3.8 M/s), so the median fell
    /// in either group and the ratio moved from 1.02 to 1.14 between runs of
    /// one binary. On one file every run follows a run over the same pages.
    pub fn read_db(&self) -> &Path {
        &self.populated_kvidx
    }

    /// [`Env::template`]'s kvidx copy, for read rows (see [`Env::read_db`]).
    pub fn read_template(&self, name: &'static str, build: fn(&Env, &Path)) -> PathBuf {
        self.template(name, build).0
    }

    /// The template `name` as (kvidx copy, raw copy): built on first use by
    /// `build(env, path)` through kvidxkit, then byte-copied for the raw side
    /// so that both sides start from the same layout.
    pub fn template(&self, name: &'static str, build: fn(&Env, &Path)) -> (PathBuf, PathBuf) {
        if let Some(t) = self.templates.borrow().get(name) {
            return t.clone();
        }
        let kv = self.dir.join(format!("tmpl-{name}-kvidx{}", self.engine.suffix));
        let raw = self.dir.join(format!("tmpl-{name}-raw{}", self.engine.suffix));
        remove_db(&kv);
        build(self, &kv);
        copy_db(&kv, &raw);
        self.templates.borrow_mut().insert(name, (kv.clone(), raw.clone()));
        (kv, raw)
    }

    /// A path for a new database that nothing uses yet.
    pub fn fresh(&self, tag: &str) -> PathBuf {
        let c = self.counter.get();
        self.counter.set(c + 1);
        self.dir.join(format!("{tag}-{c}{}", self.engine.suffix))
    }

    /// A fresh copy of `template` (untimed setup of the write rows).
    pub fn fresh_copy(&self, template: &Path, tag: &str) -> PathBuf {
        let p = self.fresh(tag);
        copy_db(template, &p);
        p
    }

    pub fn cleanup(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let mut d = self.dir.parent();
        for _ in 0..2 {
            if let Some(p) = d {
                let _ = std::fs::remove_dir(p); // only if empty
                d = p.parent();
            }
        }
    }
}

/// Fisher-Yates with the bench's generator.
pub fn shuffle(v: &mut [u64], rng: &mut XorShift) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Byte-copies a closed database: a file (SQLite, no side files after a
/// clean close), an LMDB directory (only `data.mdb`: `lock.mdb` is rebuilt
/// by the next open) or a RocksDB directory (every file but LOCK and the
/// informational LOG files).
pub fn copy_db(from: &Path, to: &Path) {
    if from.join("data.mdb").exists() {
        remove_db(to);
        std::fs::create_dir_all(to).expect("create the database directory");
        std::fs::copy(from.join("data.mdb"), to.join("data.mdb")).expect("copy data.mdb");
    } else if from.is_dir() {
        remove_db(to);
        std::fs::create_dir_all(to).expect("create the database directory");
        for e in std::fs::read_dir(from).expect("read the database directory") {
            let e = e.unwrap();
            let name = e.file_name();
            let n = name.to_string_lossy();
            if e.file_type().unwrap().is_file() && n != "LOCK" && !n.starts_with("LOG") {
                std::fs::copy(e.path(), to.join(&name)).expect("copy a database file");
            }
        }
    } else {
        std::fs::copy(from, to).expect("copy the database");
    }
}

/// Removes a database and its side files (or its directory).
pub fn remove_db(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
        return;
    }
    let _ = std::fs::remove_file(path);
    for ext in ["-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Result of one row.
pub struct RowResult {
    pub name: &'static str,
    pub note: Option<String>,
    pub kvidx: Vec<f64>,
    pub raw: Vec<f64>,
}

impl RowResult {
    pub fn kvidx_median(&self) -> f64 {
        median(&self.kvidx)
    }

    pub fn raw_median(&self) -> f64 {
        median(&self.raw)
    }

    /// ceiling / kvidx: 1.00 = as fast as raw.
    pub fn ratio(&self) -> f64 {
        self.raw_median() / self.kvidx_median()
    }
}

pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = s.len() / 2;
    if s.len() % 2 == 1 { s[m] } else { (s[m - 1] + s[m]) / 2.0 }
}

/// Runs one warm-up pair (discarded), then `runs` runs of each side,
/// interleaved so that machine noise hits both sides alike. The order
/// alternates within each pair (A B, B A, A B, ...) so that neither side
/// is always the one following the other's writes.
pub fn interleave<T>(runs: usize, a: &mut dyn FnMut() -> T, b: &mut dyn FnMut() -> T) -> (Vec<T>, Vec<T>) {
    let _ = a();
    let _ = b();
    let (mut ra, mut rb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for r in 0..runs {
        if r % 2 == 0 {
            ra.push(a());
            rb.push(b());
        } else {
            rb.push(b());
            ra.push(a());
        }
    }
    (ra, rb)
}

/// [`interleave`] of the two sides of `case` (ops/s per run).
pub fn measure(case: &Case, env: &Env, runs: usize) -> RowResult {
    let runs = if case.runs > 0 { case.runs } else { runs };
    let (kvidx, raw) = interleave(runs, &mut || (case.kvidx)(env).ops_per_sec(), &mut || (case.raw)(env).ops_per_sec());
    RowResult { name: case.name, note: case.note.clone(), kvidx, raw }
}

/// 1234567.8 -> "1 234 568".
pub fn group(v: f64) -> String {
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

pub const TARGET_RATIO: f64 = 1.20;
/// Target of the TTL-overhead table (no-TTL ops/s / 1%-TTL ops/s).
pub const TTL_TARGET_RATIO: f64 = 1.10;

/// Column headers and target of one table. The first value column is the
/// `kvidx` side unless `swap` (the TTL table shows `raw` = no TTL first).
pub struct Columns {
    pub first: &'static str,
    pub second: &'static str,
    pub swap: bool,
    pub target: f64,
}

/// A ratio at two decimals; below 0.1 (kvidx many times faster than the
/// ceiling, as counts that do not walk keys are) as "1/x", which two
/// decimals would round to 0.0x or 0.00.
fn fmt_ratio(ratio: f64) -> String {
    if ratio >= 0.1 || ratio <= 0.0 || !ratio.is_finite() {
        format!("{ratio:.2}")
    } else {
        format!("1/{}", group(1.0 / ratio))
    }
}

pub fn print_table(rows: &[RowResult], cols: &Columns, verbose: bool) {
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(2).max(2);
    let (w1, w2) = (cols.first.len().max(12), cols.second.len().max(12));
    println!("{:<w$} | {:>w1$} | {:>w2$} | {:>5}", "op", cols.first, cols.second, "ratio");
    println!("{}-+-{}-+-{}-+-{}", "-".repeat(w), "-".repeat(w1), "-".repeat(w2), "-".repeat(5));
    for r in rows {
        let ratio = r.ratio();
        // Judged at the printed precision, so "1.20" is never flagged.
        let flag = if (ratio * 100.0).round() > (cols.target * 100.0).round() { "  > target" } else { "" };
        let (a, b) = if cols.swap { (r.raw_median(), r.kvidx_median()) } else { (r.kvidx_median(), r.raw_median()) };
        println!("{:<w$} | {:>w1$} | {:>w2$} | {:>5}{flag}", r.name, group(a), group(b), fmt_ratio(ratio));
        if verbose {
            let fmt = |v: &[f64]| v.iter().map(|x| group(*x)).collect::<Vec<_>>().join(", ");
            let (ra, rb) = if cols.swap { (&r.raw, &r.kvidx) } else { (&r.kvidx, &r.raw) };
            println!("{:<w$}   {} runs: {}", "", cols.first, fmt(ra));
            println!("{:<w$}   {} runs: {}", "", cols.second, fmt(rb));
        }
    }
    let notes: Vec<_> = rows.iter().filter_map(|r| r.note.as_ref().map(|n| (r.name, n))).collect();
    if !notes.is_empty() {
        println!();
        for (name, note) in notes {
            println!("{name}: {note}");
        }
    }
}
