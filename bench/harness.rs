//! Measurement machinery shared by every row: the benchmark environment
//! (data set, temporary files), the `Case` list entry, the interleaved
//! `measure` routine and the table printer.

use std::cell::Cell;
use std::collections::HashSet;
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

/// One side of a row: does its own untimed setup (open, copy files), times
/// only the operations, cleans up and returns the sample.
pub type Side = fn(&Env) -> Sample;

/// One row of the table: the same operation through kvidxkit's C ABI and
/// done directly on the engine (the ceiling).
pub struct Case {
    pub name: &'static str,
    pub kvidx: Side,
    pub raw: Side,
}

/// A kvidxkit engine as a C caller selects it: the interface table copied
/// into `kvidxInstance.interface`, and the path suffix of its databases.
#[derive(Clone, Copy)]
pub struct KvEngine {
    pub name: &'static str,
    pub iface: &'static kvidxInterface,
    pub suffix: &'static str,
}

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
    /// Temporary directory (removed at the end).
    pub dir: PathBuf,
    /// Populated databases (keys 1..=n), one per side, byte-identical;
    /// read rows open them, write rows copy them.
    pub populated_kvidx: PathBuf,
    pub populated_raw: PathBuf,
    counter: Cell<u64>,
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
    pub fn new(engine: KvEngine, n: u64, value_size: usize, ranges: usize, width: u64) -> Self {
        assert!(n >= width && width >= 1);
        let base = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("kvidx-bench")
            .join(std::process::id().to_string());
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
            dir: base,
            populated_kvidx,
            populated_raw,
            counter: Cell::new(0),
        }
    }

    /// A path for a new database that nothing uses yet.
    pub fn fresh(&self, tag: &str) -> PathBuf {
        let c = self.counter.get();
        self.counter.set(c + 1);
        self.dir.join(format!("{tag}-{c}{}", self.engine.suffix))
    }

    /// A fresh copy of `template` (untimed setup of the delete row).
    pub fn fresh_copy(&self, template: &Path, tag: &str) -> PathBuf {
        let p = self.fresh(tag);
        std::fs::copy(template, &p).expect("copy the populated database");
        p
    }

    pub fn cleanup(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(parent) = self.dir.parent() {
            let _ = std::fs::remove_dir(parent); // only if empty
        }
    }
}

/// Removes a database and its side files.
pub fn remove_db(path: &Path) {
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
pub fn measure(case: &Case, env: &Env, runs: usize) -> RowResult {
    let _ = (case.kvidx)(env);
    let _ = (case.raw)(env);
    let mut kvidx = Vec::with_capacity(runs);
    let mut raw = Vec::with_capacity(runs);
    for r in 0..runs {
        if r % 2 == 0 {
            kvidx.push((case.kvidx)(env).ops_per_sec());
            raw.push((case.raw)(env).ops_per_sec());
        } else {
            raw.push((case.raw)(env).ops_per_sec());
            kvidx.push((case.kvidx)(env).ops_per_sec());
        }
    }
    RowResult { name: case.name, kvidx, raw }
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

pub fn print_table(rows: &[RowResult], verbose: bool) {
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(2).max(2);
    println!("{:<w$} | {:>12} | {:>18} | {:>5}", "op", "kvidx ops/s", "raw rusqlite ops/s", "ratio");
    println!("{}-+-{}-+-{}-+-{}", "-".repeat(w), "-".repeat(12), "-".repeat(18), "-".repeat(5));
    for r in rows {
        let ratio = r.ratio();
        // Judged at the printed precision, so "1.20" is never flagged.
        let flag = if (ratio * 100.0).round() > (TARGET_RATIO * 100.0).round() { "  > target" } else { "" };
        println!(
            "{:<w$} | {:>12} | {:>18} | {:>5.2}{flag}",
            r.name,
            group(r.kvidx_median()),
            group(r.raw_median()),
            ratio
        );
        if verbose {
            let fmt = |v: &[f64]| v.iter().map(|x| group(*x)).collect::<Vec<_>>().join(", ");
            println!("{:<w$}   kvidx runs: {}", "", fmt(&r.kvidx));
            println!("{:<w$}   raw runs:   {}", "", fmt(&r.raw));
        }
    }
}
