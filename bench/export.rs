//! The export/import table: kvidxExport / kvidxImport through the C ABI
//! over a large database (default 1 000 000 entries, 100-byte printable
//! ASCII values so that JSON and CSV use their plain forms), next to the
//! engine work the row does, done directly (the ceiling):
//!
//! * export rows (BINARY; JSON compact with metadata; CSV with metadata):
//!   kvidx exports the populated database to a new file; the ceiling
//!   ("raw scan+write") reads every entry through the engine in key order
//!   and writes the same BINARY bytes with a `BufWriter` (checked once to
//!   be byte-identical to kvidx's binary export);
//! * import rows (the file kvidx exported in that format, into a fresh
//!   empty database; binary with the default options, i.e. auto-detect;
//!   JSON/CSV with the format set): the ceiling ("raw insert") reads the
//!   binary file with a `BufReader` and inserts every entry in one
//!   transaction.
//!
//! Only the export/import call (kvidx) and the scan+write / read+insert
//! (raw) are timed; opening the database, creating the files and removing
//! them are not. The ceiling is the same for the three formats: the JSON
//! and CSV ratios show the price of the text formats.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{CString, c_void};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kvidxkit::capi::dispatch::{
    kvidxExport, kvidxExportOptionsDefault, kvidxImport, kvidxImportOptionsDefault, kvidxInsert,
};

use crate::harness::{KvEngine, copy_db, group, interleave, median, remove_db};
use crate::kv::{Kv, TERM};

pub const BINARY: u32 = 0;
pub const JSON: u32 = 1;
pub const CSV: u32 = 2;

/// Target of the binary rows (kvidx time / raw time); JSON and CSV have none.
pub const TARGET: f64 = 1.5;
/// Value size of every entry.
pub const VALUE_LEN: usize = 100;
/// Buffer of the ceiling's writer and reader (kvidx: 256 KiB writer, 64 KiB reader).
pub const WRITE_BUF: usize = 256 * 1024;
pub const READ_BUF: usize = 64 * 1024;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The value of `key`: 100 alphanumeric characters (no quoting or escaping
/// in JSON or CSV), different from one key to the next.
pub fn value_of(key: u64, out: &mut [u8; VALUE_LEN]) {
    let off = (key % ALNUM.len() as u64) as usize;
    for (i, b) in out.iter_mut().enumerate() {
        *b = ALNUM[(off + i) % ALNUM.len()];
    }
}

/// One timed run: seconds, and the bytes of the file written or read.
#[derive(Debug, Clone, Copy)]
pub struct XSample {
    pub secs: f64,
    pub bytes: u64,
}

/// The data set and temporary directory of the table.
pub struct XEnv {
    pub engine: KvEngine,
    pub n: u64,
    pub dir: PathBuf,
    /// Populated databases (keys 1..=n), one per side, byte-identical;
    /// exports only read them.
    pub populated_kvidx: PathBuf,
    pub populated_raw: PathBuf,
    counter: Cell<u64>,
    /// kvidx exports of the populated database by format (built on first use).
    files: RefCell<HashMap<u32, (PathBuf, u64)>>,
}

impl XEnv {
    pub fn new(engine: KvEngine, n: u64) -> XEnv {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("kvidx-bench")
            .join(std::process::id().to_string())
            .join(format!("{}-export", engine.name));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        let populated_kvidx = dir.join(format!("populated-kvidx{}", engine.suffix));
        let populated_raw = dir.join(format!("populated-raw{}", engine.suffix));
        let x = XEnv {
            engine,
            n,
            dir,
            populated_kvidx,
            populated_raw,
            counter: Cell::new(0),
            files: RefCell::new(HashMap::new()),
        };
        // Both sides read byte copies of one template: with kvidx reading the
        // file the engine wrote and raw a copy of it, the SQLite binary export
        // measured 1.2 here; with both on copies, 1.0.
        let template = x.dir.join(format!("template{}", engine.suffix));
        x.populate(&template);
        copy_db(&template, &x.populated_kvidx);
        copy_db(&template, &x.populated_raw);
        remove_db(&template);
        x
    }

    fn populate(&self, path: &Path) {
        let mut kv = Kv::open(path, self.engine.iface);
        let i = kv.ptr();
        let mut v = [0u8; VALUE_LEN];
        kv.begin();
        for k in 1..=self.n {
            value_of(k, &mut v);
            if !unsafe { kvidxInsert(i, k, TERM, k & 0xff, v.as_ptr() as *const c_void, v.len()) } {
                kv.fail("kvidxInsert");
            }
        }
        kv.commit();
    }

    /// A path nothing uses yet (`suffix`: the engine's, or a file extension).
    pub fn fresh(&self, tag: &str, suffix: &str) -> PathBuf {
        let c = self.counter.get();
        self.counter.set(c + 1);
        self.dir.join(format!("{tag}-{c}{suffix}"))
    }

    /// The kvidx export of the populated database in `format` and its size
    /// (the input of the import rows; the binary one also feeds "raw insert").
    pub fn file(&self, format: u32) -> (PathBuf, u64) {
        if let Some(f) = self.files.borrow().get(&format) {
            return f.clone();
        }
        let path = self.dir.join(format!("export.{}", ["bin", "json", "csv"][format as usize]));
        let mut kv = Kv::open(&self.populated_kvidx, self.engine.iface);
        export_to(&mut kv, &path, format);
        let f = (path.clone(), std::fs::metadata(&path).unwrap().len());
        self.files.borrow_mut().insert(format, f.clone());
        f
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

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// kvidxExport of everything in `format` (JSON compact with metadata, CSV
/// with metadata); returns the seconds the call took.
fn export_to(kv: &mut Kv, path: &Path, format: u32) -> f64 {
    let mut o = kvidxExportOptionsDefault();
    o.format = format;
    o.includeMetadata = true;
    o.prettyPrint = false;
    let c = cpath(path);
    let t = Instant::now();
    let rc = unsafe { kvidxExport(kv.ptr(), c.as_ptr(), &o, None, std::ptr::null_mut()) };
    let secs = t.elapsed().as_secs_f64();
    kv.ok(rc, "kvidxExport");
    secs
}

fn kvidx_export(x: &XEnv, format: u32) -> XSample {
    let out = x.fresh("kvidx-export", ".out");
    let secs = {
        let mut kv = Kv::open(&x.populated_kvidx, x.engine.iface);
        export_to(&mut kv, &out, format)
    };
    let bytes = std::fs::metadata(&out).unwrap().len();
    std::fs::remove_file(&out).unwrap();
    XSample { secs, bytes }
}

fn kvidx_import(x: &XEnv, format: u32) -> XSample {
    let (file, bytes) = x.file(format);
    let c = cpath(&file);
    let path = x.fresh("kvidx-import", x.engine.suffix);
    let secs = {
        let mut kv = Kv::open(&path, x.engine.iface);
        let mut o = kvidxImportOptionsDefault();
        if format != BINARY {
            o.format = format;
        }
        let t = Instant::now();
        let rc = unsafe { kvidxImport(kv.ptr(), c.as_ptr(), &o, None, std::ptr::null_mut()) };
        let secs = t.elapsed().as_secs_f64();
        kv.ok(rc, "kvidxImport");
        secs
    };
    remove_db(&path);
    XSample { secs, bytes }
}

// ----------------------------------------------------------------------
// The binary file as the ceilings write and read it (the format of
// src/formats/binary.rs: 24-byte header, then per entry key, term, cmd,
// length as little-endian u64 and the value).

const MAGIC: [u8; 8] = *b"\0KVEVIDX";

pub struct BinWriter {
    w: BufWriter<File>,
    n: u64,
    bytes: u64,
}

impl BinWriter {
    pub fn create(path: &Path) -> BinWriter {
        let mut w = BufWriter::with_capacity(WRITE_BUF, File::create(path).expect("create the export file"));
        let mut h = [0u8; 24];
        h[..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&1u32.to_le_bytes());
        w.write_all(&h).unwrap();
        BinWriter { w, n: 0, bytes: 24 }
    }

    #[inline]
    pub fn entry(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) {
        let mut h = [0u8; 32];
        h[0..8].copy_from_slice(&key.to_le_bytes());
        h[8..16].copy_from_slice(&term.to_le_bytes());
        h[16..24].copy_from_slice(&cmd.to_le_bytes());
        h[24..32].copy_from_slice(&(data.len() as u64).to_le_bytes());
        self.w.write_all(&h).unwrap();
        self.w.write_all(data).unwrap();
        self.n += 1;
        self.bytes += 32 + data.len() as u64;
    }

    /// Writes the entry count into the header, flushes and closes; returns
    /// (entries, file bytes).
    pub fn finish(mut self) -> (u64, u64) {
        self.w.seek(SeekFrom::Start(16)).unwrap();
        self.w.write_all(&self.n.to_le_bytes()).unwrap();
        self.w.into_inner().map_err(|e| e.into_error()).unwrap();
        (self.n, self.bytes)
    }
}

pub struct BinReader {
    r: BufReader<File>,
    left: u64,
    /// The value of the last entry read.
    pub data: Vec<u8>,
}

impl BinReader {
    /// Opens the file and reads its header; returns the reader and the count.
    pub fn open(path: &Path) -> (BinReader, u64) {
        let mut r = BufReader::with_capacity(READ_BUF, File::open(path).expect("open the binary file"));
        let mut h = [0u8; 24];
        r.read_exact(&mut h).unwrap();
        assert_eq!(h[..8], MAGIC, "not a binary export");
        let count = u64::from_le_bytes(h[16..24].try_into().unwrap());
        (BinReader { r, left: count, data: Vec::new() }, count)
    }

    /// The next entry's (key, term, cmd), its value in `self.data`.
    #[inline]
    pub fn next_entry(&mut self) -> Option<(u64, u64, u64)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut h = [0u8; 32];
        self.r.read_exact(&mut h).unwrap();
        let f = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().unwrap());
        self.data.resize(f(24) as usize, 0);
        self.r.read_exact(&mut self.data).unwrap();
        Some((f(0), f(8), f(16)))
    }
}

// ----------------------------------------------------------------------
// The table.

/// The engine-specific ceilings: `export` reads every entry of
/// `x.populated_raw` and writes the binary file `out` (timed inside);
/// `import` inserts the binary file into a fresh database.
pub struct Ceiling {
    pub export: fn(&XEnv, &Path) -> XSample,
    pub import: fn(&XEnv) -> XSample,
}

pub struct Row {
    pub name: &'static str,
    pub import: bool,
    pub format: u32,
}

pub const ROWS: [Row; 6] = [
    Row { name: "export binary", import: false, format: BINARY },
    Row { name: "export JSON", import: false, format: JSON },
    Row { name: "export CSV", import: false, format: CSV },
    Row { name: "import binary", import: true, format: BINARY },
    Row { name: "import JSON", import: true, format: JSON },
    Row { name: "import CSV", import: true, format: CSV },
];

struct XResult {
    row: &'static Row,
    kvidx: Vec<XSample>,
    raw: Vec<XSample>,
}

fn raw_export(x: &XEnv, c: &Ceiling) -> XSample {
    let out = x.fresh("raw-export", ".bin");
    let s = (c.export)(x, &out);
    std::fs::remove_file(&out).unwrap();
    s
}

/// Once per engine: the ceiling writes exactly kvidx's binary export.
fn check_ceiling(x: &XEnv, c: &Ceiling) {
    let (kvidx_file, _) = x.file(BINARY);
    let out = x.fresh("raw-export-check", ".bin");
    (c.export)(x, &out);
    let same = std::fs::read(&out).unwrap() == std::fs::read(&kvidx_file).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert!(same, "raw scan+write does not produce kvidx's binary export");
}

pub fn run(engine: KvEngine, ceiling: &Ceiling, rows: &[&'static Row], n: u64, runs: usize, verbose: bool) {
    let started = Instant::now();
    eprintln!("  {}: populating {n} entries for the export/import table ...", engine.name);
    let x = XEnv::new(engine, n);
    if rows.iter().any(|r| !r.import) {
        check_ceiling(&x, ceiling);
    }
    let mut results = Vec::new();
    for &row in rows {
        eprintln!("  {}: measuring {} ...", engine.name, row.name);
        let (kvidx, raw) = if row.import {
            interleave(runs, &mut || kvidx_import(&x, row.format), &mut || (ceiling.import)(&x))
        } else {
            interleave(runs, &mut || kvidx_export(&x, row.format), &mut || raw_export(&x, ceiling))
        };
        results.push(XResult { row, kvidx, raw });
    }
    x.cleanup();

    println!();
    println!(
        "export/import — engine {}: N = {n} entries, {VALUE_LEN}-byte ASCII values, {runs} runs per side \
         (+1 warm-up, interleaved), median time; MB/s = file bytes / s",
        engine.name
    );
    println!(
        "kvidx: kvidxExport (BINARY; JSON compact, CSV, both with metadata) of the populated database, \
         kvidxImport of that file into a fresh empty database (binary: default options), NULL callback"
    );
    println!(
        "raw scan+write: every entry read through the engine in key order, the binary file written with a \
         BufWriter; raw insert: the binary file read with a BufReader, every entry inserted in one transaction"
    );
    println!("ratio = kvidx time / raw time (1.00 = as fast as raw; binary rows target <= {TARGET:.2})");
    println!();
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(2);
    let heads = ["kvidx entries/s", "kvidx MB/s", "ceiling", "raw entries/s", "raw MB/s", "ratio"];
    let ws: Vec<usize> = heads.iter().map(|h| h.len().max(10)).collect();
    println!(
        "{:<w$} | {:>a$} | {:>b$} | {:<c$} | {:>d$} | {:>e$} | {:>5}",
        "op",
        heads[0],
        heads[1],
        heads[2],
        heads[3],
        heads[4],
        heads[5],
        a = ws[0],
        b = ws[1],
        c = 14,
        d = ws[3],
        e = ws[4]
    );
    println!(
        "{}-+-{}-+-{}-+-{}-+-{}-+-{}-+-{}",
        "-".repeat(w),
        "-".repeat(ws[0]),
        "-".repeat(ws[1]),
        "-".repeat(14),
        "-".repeat(ws[3]),
        "-".repeat(ws[4]),
        "-".repeat(5)
    );
    for r in &results {
        let secs = |v: &[XSample]| median(&v.iter().map(|s| s.secs).collect::<Vec<_>>());
        let (ks, rs) = (secs(&r.kvidx), secs(&r.raw));
        let (kb, rb) = (r.kvidx[0].bytes as f64, r.raw[0].bytes as f64);
        let ratio = ks / rs;
        let flag = if r.row.format == BINARY && (ratio * 100.0).round() > (TARGET * 100.0).round() {
            "  > target"
        } else {
            ""
        };
        let ceiling = if r.row.import { "raw insert" } else { "raw scan+write" };
        println!(
            "{:<w$} | {:>a$} | {:>b$.1} | {:<c$} | {:>d$} | {:>e$.1} | {:>5.2}{flag}",
            r.row.name,
            group(n as f64 / ks),
            kb / ks / 1e6,
            ceiling,
            group(n as f64 / rs),
            rb / rs / 1e6,
            ratio,
            a = ws[0],
            b = ws[1],
            c = 14,
            d = ws[3],
            e = ws[4]
        );
        if verbose {
            let fmt = |v: &[XSample]| v.iter().map(|s| format!("{:.3}", s.secs)).collect::<Vec<_>>().join(", ");
            println!("{:<w$}   kvidx s: {}", "", fmt(&r.kvidx));
            println!("{:<w$}   raw s:   {}", "", fmt(&r.raw));
        }
    }
    println!();
    println!("{} export/import time {:.1} s", engine.name, started.elapsed().as_secs_f64());
}
