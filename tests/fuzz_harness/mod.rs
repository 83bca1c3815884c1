//! The fuzz harness, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`,
//! nightly) and by `tests/fuzz_replay.rs` (stable, part of `make test`),
//! which runs every committed corpus and reproducer input through exactly
//! these functions.
//!
//! * [`ImportCtx::check`]: arbitrary bytes as an import file (binary, JSON,
//!   CSV; forced and auto-detected) on both engines: never a panic, a clean
//!   CORRUPT for a malformed file (with the byte offset or line), nothing
//!   changed by a failed import (G4), exact round trips of what imports.
//! * [`OpsCtx::run`]: the bytes decoded into a sequence of operations, run
//!   on both engines, every result compared with an in-memory model.
//!
//! Every check is an `assert!`: a failing property is a panic, which
//! libFuzzer reports as a crash and the replay test as a failure.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use kvidxkit::formats::{ExportOptions, Format, ImportOptions, Reader};
use kvidxkit::{Config, Dir, Engine, Entry, Error, ErrorCode, Lmdb, SetCondition, Sqlite, Store, SyncMode, Ttl};

const MAX: u64 = u64::MAX;
const H: u64 = 1 << 63;
/// Largest stored expiry (later times are stored as this).
const MAX_EXPIRY: u64 = i64::MAX as u64;

// ----------------------------------------------------------------------
// Scratch space and stores

/// A scratch directory for one process (the fuzz targets) or one test: on
/// tmpfs when there is one. Directories left by processes that no longer
/// run are removed.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.join("kvidx-fuzz") } else { std::env::temp_dir().join("kvidx-fuzz") };
    let _ = std::fs::create_dir_all(&base);
    if let Ok(rd) = std::fs::read_dir(&base) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid
                && pid != std::process::id()
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

fn config() -> Config {
    // No fsync (nothing here survives the process); a small initial LMDB
    // map (it grows by itself).
    Config { sync_mode: SyncMode::Off, mmap_size_bytes: 0, ..Config::default() }
}

fn open_store<E: Engine>(path: &Path) -> Store<E> {
    let mut cfg = config();
    if E::NAME == "LMDB" {
        cfg.mmap_size_bytes = 16 << 20;
    }
    match Store::<E>::open_with_config(path, &cfg) {
        Ok(s) => s,
        Err(e) => panic!("{}: open {} failed: {e}", E::NAME, path.display()),
    }
}

/// One store kept open across inputs (opening per input would dominate the
/// run time), emptied and checked empty before each use.
pub struct Slot<E: Engine> {
    path: PathBuf,
    store: Option<Store<E>>,
}

impl<E: Engine> Slot<E> {
    pub fn new(dir: &Path, name: &str) -> Self {
        let suffix = if E::NAME == "SQLite3" { ".sqlite3" } else { "" };
        let path = dir.join(format!("{name}-{}{suffix}", E::NAME));
        Slot { path, store: None }
    }

    /// The store, empty: no entry, no TTL record, no transaction.
    pub fn fresh(&mut self) -> &mut Store<E> {
        if self.store.is_none() {
            self.store = Some(open_store::<E>(&self.path));
        }
        let s = self.store.as_mut().expect("open store");
        if s.in_transaction() {
            s.abort().expect("abort left-over transaction");
        }
        s.remove_range(0..=MAX).expect("clear the store");
        assert_eq!(s.key_count().unwrap(), 0, "{}: store not empty after clearing", E::NAME);
        assert_eq!(s.ttl_count(), 0, "{}: TTL records left after clearing", E::NAME);
        assert_eq!(s.min_key().unwrap(), None);
        assert!(s.range(0..=MAX).next().is_none());
        s
    }

    fn store(&mut self) -> &mut Store<E> {
        self.store.as_mut().expect("open store")
    }

    /// Closes and reopens the store (an open transaction is rolled back).
    fn reopen(&mut self) {
        let s = self.store.take().expect("open store");
        if let Err((_, e)) = s.close() {
            panic!("{}: close failed: {e}", E::NAME);
        }
        self.store = Some(open_store::<E>(&self.path));
    }
}

fn code<T: std::fmt::Debug>(what: &str, r: kvidxkit::Result<T>) -> ErrorCode {
    match r {
        Ok(v) => panic!("{what}: expected an error, got Ok({v:?})"),
        Err(e) => e.code(),
    }
}

fn all<E: Engine>(s: &mut Store<E>) -> Vec<Entry> {
    s.range(0..=MAX).map(|e| e.expect("iterate")).collect()
}

// ----------------------------------------------------------------------
// Import

/// What a reader makes of `data` in `format`: the entries, or the error.
/// The entry count is bounded by the input size (every entry takes at
/// least one byte), so a reader that loops fails here.
pub fn parse(data: &[u8], format: Format, len: Option<u64>) -> Result<Vec<Entry>, Error> {
    let mut r = Reader::new(Cursor::new(data), format, len);
    let mut out = Vec::new();
    while let Some(e) = r.next_entry()? {
        out.push(e.to_owned());
        assert!(out.len() <= data.len(), "{format:?} reader yields more entries than the input has bytes");
    }
    // After the end, the reader stays at the end.
    assert!(r.next_entry().expect("next_entry after the end").is_none());
    Ok(out)
}

/// The documented detection rule (docs/formats.md), written independently
/// of the library's `detect`.
pub fn detected(data: &[u8]) -> Format {
    const MAGIC: [u8; 8] = [0x00, 0x4B, 0x56, 0x45, 0x56, 0x49, 0x44, 0x58];
    let n = data.len().min(8);
    if n > 0 && data[..n] == MAGIC[..n] {
        return Format::Binary;
    }
    match data.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        Some(b'{') => Format::Json,
        _ => Format::Csv,
    }
}

fn check_parse_error(e: &Error, format: Format) {
    assert_eq!(e.code(), ErrorCode::Corrupt, "{format:?}: a malformed file must be CORRUPT, got {e:?}");
    let msg = e.to_string();
    let place = match format {
        Format::Binary => "offset",
        Format::Json | Format::Csv => "line",
    };
    assert!(msg.contains(place), "{format:?}: the error must name the {place}: {msg}");
}

/// The reader's verdict, with the reader properties checked: a malformed
/// input is CORRUPT naming the place, and a binary reader that does not
/// know the input size agrees with one that does.
fn oracle(data: &[u8], format: Format) -> Result<Vec<Entry>, Error> {
    let r = parse(data, format, Some(data.len() as u64));
    if let Err(e) = &r {
        check_parse_error(e, format);
    }
    if format == Format::Binary {
        let no_size = parse(data, format, None);
        match (&r, &no_size) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "binary reader: with and without the size disagree"),
            (Err(_), Err(e)) => check_parse_error(e, format),
            _ => panic!("binary reader: with the size {r:?}, without {no_size:?}"),
        }
    }
    r
}

/// The state of a store that an import must leave exactly as it was on
/// failure: entries, TTL of every key involved, number of TTL records.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    entries: Vec<Entry>,
    ttls: Vec<(u64, bool)>,
    ttl_count: usize,
}

fn snapshot<E: Engine>(s: &mut Store<E>, keys: &[u64]) -> Snapshot {
    let entries = all(s);
    let mut back: Vec<Entry> = s.range(0..=MAX).rev().map(|e| e.expect("iterate backward")).collect();
    back.reverse();
    assert_eq!(entries, back, "{}: backward walk differs from forward walk", E::NAME);
    assert_eq!(s.key_count().unwrap(), entries.len() as u64, "{}: key_count differs from the walk", E::NAME);
    let ttls = keys
        .iter()
        .map(|&k| {
            let t = s.ttl(k).expect("ttl");
            if t == Ttl::NotFound {
                assert!(!entries.iter().any(|e| e.key == k), "{}: ttl NotFound for a listed key {k}", E::NAME);
            }
            (k, matches!(t, Ttl::Remaining(_)))
        })
        .collect();
    Snapshot { entries, ttls, ttl_count: s.ttl_count() }
}

fn sorted(mut v: Vec<Entry>) -> Vec<Entry> {
    v.sort_by_key(|e| e.key);
    v
}

/// The first key that appears twice in `entries`.
fn first_repeat(entries: &[Entry]) -> Option<u64> {
    let mut seen = std::collections::BTreeSet::new();
    entries.iter().find(|e| !seen.insert(e.key)).map(|e| e.key)
}

fn import_opts(format: Option<Format>) -> ImportOptions {
    ImportOptions { format, ..ImportOptions::default() }
}

/// Stores and files for the import checks.
pub struct ImportCtx {
    dir: PathBuf,
    file: PathBuf,
    sqlite: Slot<Sqlite>,
    lmdb: Slot<Lmdb>,
    /// Inputs checked (for the replay test's count).
    pub inputs: usize,
}

impl ImportCtx {
    pub fn new(dir: &Path) -> Self {
        ImportCtx {
            dir: dir.to_path_buf(),
            file: dir.join("input"),
            sqlite: Slot::new(dir, "import"),
            lmdb: Slot::new(dir, "import"),
            inputs: 0,
        }
    }

    /// Checks `data` as an import file read as `format` and auto-detected.
    pub fn check(&mut self, data: &[u8], format: Format) {
        self.inputs += 1;
        std::fs::write(&self.file, data).expect("write the input file");
        let expect = oracle(data, format);
        let auto = detected(data);
        let expect_auto = if auto == format { None } else { Some(oracle(data, auto)) };
        let variant = fnv(data);

        let file = self.file.clone();
        check_fresh(self.sqlite.fresh(), &file, Some(format), &expect);
        check_fresh(self.lmdb.fresh(), &file, Some(format), &expect);
        if let Some(ea) = &expect_auto {
            check_fresh(self.sqlite.fresh(), &file, None, ea);
            check_fresh(self.lmdb.fresh(), &file, None, ea);
        }
        check_onto_existing(self.sqlite.fresh(), &file, format, &expect, variant);
        check_onto_existing(self.lmdb.fresh(), &file, format, &expect, variant >> 8);

        if let Ok(entries) = &expect
            && first_repeat(entries).is_none()
        {
            self.round_trips(data, format, entries);
        }
    }

    /// What imported exports and re-imports exactly, in every format, from
    /// one engine to the other; the second export is byte-identical to the
    /// first; a canonical binary file is re-exported byte for byte.
    fn round_trips(&mut self, data: &[u8], format: Format, entries: &[Entry]) {
        let want = sorted(entries.to_vec());
        let out = self.dir.join("export");
        let again = self.dir.join("export-again");
        {
            let s = self.sqlite.fresh();
            assert_eq!(s.import_from(&self.file, &import_opts(Some(format))).unwrap(), want.len() as u64);
        }
        for (fmt, pretty) in
            [(Format::Binary, false), (Format::Json, false), (Format::Json, true), (Format::Csv, false)]
        {
            let opts = ExportOptions { format: fmt, pretty, ..ExportOptions::default() };
            let n = self.sqlite.store().export_to(&out, &opts).expect("export");
            assert_eq!(n, want.len() as u64, "export count");
            let bytes = std::fs::read(&out).expect("read the export");
            assert_eq!(parse(&bytes, fmt, Some(bytes.len() as u64)).expect("parse own export"), want, "{fmt:?} export");
            let l = self.lmdb.fresh();
            assert_eq!(l.import_from(&out, &import_opts(None)).expect("import own export"), want.len() as u64);
            assert_eq!(all(l), want, "{fmt:?} round trip");
            assert_eq!(l.export_to(&again, &opts).expect("export again"), want.len() as u64);
            assert!(std::fs::read(&again).expect("read") == bytes, "{fmt:?}: the second export differs from the first");
            if fmt == Format::Binary && format == Format::Binary && entries.windows(2).all(|w| w[0].key < w[1].key) {
                // Keys in export order: the file is the export, except the
                // reserved header field, which is written as 0.
                let mut canon = data.to_vec();
                canon[12..16].fill(0);
                assert!(bytes == canon, "a canonical binary file is not re-exported byte for byte");
            }
        }
    }
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Import into an empty store: exactly the file's entries, or an error and
/// still empty.
fn check_fresh<E: Engine>(s: &mut Store<E>, file: &Path, format: Option<Format>, expect: &Result<Vec<Entry>, Error>) {
    let r = s.import_from(file, &import_opts(format));
    match expect {
        Err(_) => {
            assert_eq!(code("import of a malformed file", r), ErrorCode::Corrupt, "{}", E::NAME);
            assert!(all(s).is_empty(), "{}: a failed import changed the store", E::NAME);
        }
        Ok(entries) => match first_repeat(entries) {
            Some(k) => {
                match r {
                    Err(Error::DuplicateKey(d)) => assert_eq!(d, k, "{}: duplicate key reported", E::NAME),
                    other => panic!("{}: a file with key {k} twice gave {other:?}", E::NAME),
                }
                assert!(all(s).is_empty(), "{}: a failed import changed the store", E::NAME);
            }
            None => {
                match r {
                    Ok(n) => assert_eq!(n, entries.len() as u64, "{}: import count", E::NAME),
                    Err(e) => panic!("{}: import of a valid file ({format:?}) failed: {e}", E::NAME),
                }
                assert_eq!(all(s), sorted(entries.clone()), "{}: imported entries", E::NAME);
                assert_eq!(s.ttl_count(), 0, "{}: imported entries have no TTL", E::NAME);
            }
        },
    }
}

/// Entries expected after an import: key -> (entry, has a future TTL).
type Expected = BTreeMap<u64, (Entry, bool)>;

/// Import onto a populated store (a live key, a key with a future TTL, an
/// expired key), with the options and the transaction chosen by `variant`.
/// The outcome is computed from the file's entries; a failure leaves the
/// store exactly as it was; inside a transaction, abort restores it too.
fn check_onto_existing<E: Engine>(
    s: &mut Store<E>,
    file: &Path,
    format: Format,
    expect: &Result<Vec<Entry>, Error>,
    variant: u64,
) {
    let skip = variant & 1 != 0;
    let clear = variant & 2 != 0;
    let in_txn = variant & 4 != 0;
    let ghost = H;
    s.insert(1, 7, 7, b"one").unwrap();
    s.insert(MAX, 8, 8, b"max").unwrap();
    s.insert(ghost, 9, 9, b"expired").unwrap();
    s.expire_at(MAX, std::time::UNIX_EPOCH + std::time::Duration::from_millis(MAX_EXPIRY)).unwrap();
    s.expire_at(ghost, std::time::UNIX_EPOCH + std::time::Duration::from_millis(1)).unwrap();
    if in_txn {
        s.begin().unwrap();
        s.insert(2, 1, 1, b"in txn").unwrap();
    }
    let mut keys = vec![0, 1, 2, ghost, MAX];
    if let Ok(es) = expect {
        keys.extend(es.iter().map(|e| e.key));
    }
    keys.sort_unstable();
    keys.dedup();
    let before = snapshot(s, &keys);
    let opts =
        ImportOptions { format: Some(format), skip_duplicates: skip, clear_before_import: clear, ..Default::default() };
    let r = s.import_from(file, &opts);

    // The expected outcome: entries (key -> entry, has future TTL).
    let outcome: Result<(u64, Expected), ErrorCode> = match expect {
        Err(_) => Err(ErrorCode::Corrupt),
        Ok(es) => {
            let mut state = Expected::new();
            if !clear {
                for e in &before.entries {
                    state.insert(e.key, (e.clone(), e.key == MAX));
                }
            }
            let mut n = 0;
            let mut failed = None;
            for e in es {
                if state.contains_key(&e.key) {
                    if skip {
                        continue;
                    }
                    failed = Some(e.key);
                    break;
                }
                state.insert(e.key, (e.clone(), false));
                n += 1;
            }
            match failed {
                Some(_) => Err(ErrorCode::DuplicateKey),
                None => Ok((n, state)),
            }
        }
    };
    match outcome {
        Err(c) => {
            assert_eq!(code("import onto a populated store", r), c, "{}", E::NAME);
            assert_eq!(snapshot(s, &keys), before, "{}: a failed import changed the store", E::NAME);
        }
        Ok((n, state)) => {
            match r {
                Ok(got) => assert_eq!(got, n, "{}: import count onto a populated store", E::NAME),
                Err(e) => panic!("{}: import onto a populated store failed: {e}", E::NAME),
            }
            let after = snapshot(s, &keys);
            let want: Vec<Entry> = state.values().map(|(e, _)| e.clone()).collect();
            assert_eq!(after.entries, want, "{}: entries after import", E::NAME);
            for &(k, has) in &after.ttls {
                let w = state.get(&k).is_some_and(|(_, t)| *t);
                assert_eq!(has, w, "{}: TTL of key {k} after import", E::NAME);
            }
            // The expired key keeps its record unless the import removed it
            // (clear) or replaced it (an imported entry with that key).
            let ghost_left = !clear && !state.contains_key(&ghost);
            let want_ttls = state.values().filter(|(_, t)| *t).count() + ghost_left as usize;
            assert_eq!(after.ttl_count, want_ttls, "{}: TTL records after import", E::NAME);
        }
    }
    if in_txn {
        s.abort().unwrap();
        let mut back = snapshot(s, &keys);
        assert!(back.entries.iter().all(|e| e.key != 2));
        back.entries.push(Entry { key: 2, term: 1, cmd: 1, data: b"in txn".to_vec() });
        back.entries = sorted(back.entries);
        assert_eq!(back, before, "{}: abort after an import does not restore the store", E::NAME);
    }
}

// ----------------------------------------------------------------------
// Operation sequences against a model

/// The keys operations use: the edges of the unsigned order and of the
/// signed halves (SQLite stores the bits as a signed integer), and small
/// integers, so that operations collide.
pub const KEYS: [u64; 16] = [0, 1, 2, 3, 4, 7, 8, 100, H - 2, H - 1, H, H + 1, MAX - 2, MAX - 1, MAX, 5];

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Reads the fuzz input byte by byte (zeros once it is used up).
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.u8() as usize % from.len()]
    }

    fn key_index(&mut self) -> usize {
        self.u8() as usize % KEYS.len()
    }

    fn key(&mut self) -> u64 {
        KEYS[self.key_index()]
    }

    /// A term or cmd.
    fn num(&mut self) -> u64 {
        match self.u8() % 6 {
            0 => 0,
            1 => 1,
            2 => MAX,
            3 => H,
            4 => H - 1,
            _ => self.u8() as u64,
        }
    }

    /// A value: empty, a few bytes of the input, or up to ~8 KiB of a
    /// pattern (large enough for overflow pages; often not UTF-8).
    fn value(&mut self) -> Vec<u8> {
        let b = self.u8();
        match b >> 6 {
            0 => (0..(b & 3)).map(|i| b"\"a,\n"[i as usize]).collect(),
            1 | 2 => (0..(b & 31)).map(|_| self.u8()).collect(),
            _ => {
                let n = 500 * ((b & 15) as usize + 1) + self.u8() as usize;
                let seed = self.u8();
                (0..n).map(|i| seed.wrapping_add((i as u8).wrapping_mul(7))).collect()
            }
        }
    }
}

/// What the store should hold.
#[derive(Clone, Debug, Default)]
struct Model {
    live: BTreeMap<u64, Entry>,
    /// Live keys with an expiry (always in the future here).
    ttl: BTreeMap<u64, u64>,
    /// Expired keys still stored (absent for every read), with their expiry.
    ghosts: BTreeMap<u64, u64>,
}

impl Model {
    fn is_live(&self, k: u64) -> bool {
        self.live.contains_key(&k)
    }

    /// A delete: the entry and its TTL record go, live or expired.
    fn delete(&mut self, k: u64) {
        self.live.remove(&k);
        self.ttl.remove(&k);
        self.ghosts.remove(&k);
    }

    /// A new entry where none is live: no TTL.
    fn put_new(&mut self, k: u64, term: u64, cmd: u64, data: &[u8]) {
        self.delete(k);
        self.live.insert(k, Entry { key: k, term, cmd, data: data.to_vec() });
    }

    /// An overwrite of a live entry keeps its TTL; otherwise a new entry.
    fn put(&mut self, k: u64, term: u64, cmd: u64, data: &[u8]) {
        if self.is_live(k) {
            self.live.insert(k, Entry { key: k, term, cmd, data: data.to_vec() });
        } else {
            self.put_new(k, term, cmd, data);
        }
    }

    fn in_range(&self, lo: u64, hi: u64) -> Vec<&Entry> {
        if lo > hi { Vec::new() } else { self.live.range(lo..=hi).map(|(_, e)| e).collect() }
    }

    fn first(&self, lo: u64, hi: u64, dir: Dir) -> Option<&Entry> {
        if lo > hi {
            return None;
        }
        let mut r = self.live.range(lo..=hi).map(|(_, e)| e);
        match dir {
            Dir::Forward => r.next(),
            Dir::Backward => r.next_back(),
        }
    }

    fn value_bytes(&self) -> u64 {
        self.live.values().map(|e| e.data.len() as u64).sum()
    }
}

fn check_entry(what: &str, got: Option<Entry>, want: Option<&Entry>) {
    assert_eq!(got.as_ref(), want, "{what}");
}

/// Every read of the whole store agrees with the model.
fn verify<E: Engine>(s: &mut Store<E>, m: &Model, in_txn: bool, ctx: &str) {
    let n = E::NAME;
    assert_eq!(s.in_transaction(), in_txn, "{n} {ctx}: in_transaction");
    let want: Vec<Entry> = m.live.values().cloned().collect();
    assert_eq!(all(s), want, "{n} {ctx}: forward walk");
    let mut back: Vec<Entry> = s.range(0..=MAX).rev().map(|e| e.expect("walk")).collect();
    back.reverse();
    assert_eq!(back, want, "{n} {ctx}: backward walk");
    assert_eq!(s.key_count().unwrap(), want.len() as u64, "{n} {ctx}: key_count");
    assert_eq!(s.ttl_count(), m.ttl.len() + m.ghosts.len(), "{n} {ctx}: ttl_count");
    for k in KEYS {
        let before = now_ms();
        let t = s.ttl(k).expect("ttl");
        let after = now_ms();
        match (m.is_live(k), m.ttl.get(&k)) {
            (false, _) => assert_eq!(t, Ttl::NotFound, "{n} {ctx}: ttl of absent key {k}"),
            (true, None) => assert_eq!(t, Ttl::Persistent, "{n} {ctx}: ttl of key {k}"),
            (true, Some(&at)) => match t {
                Ttl::Remaining(r) => assert!(
                    at.saturating_sub(after) <= r.as_millis() as u64 && r.as_millis() as u64 <= at - before,
                    "{n} {ctx}: ttl of key {k}: {r:?} left, expiry {at}, now {before}..{after}"
                ),
                other => panic!("{n} {ctx}: ttl of key {k} with expiry {at}: {other:?}"),
            },
        }
    }
}

/// Scratch for the operation sequences: one store per engine (RocksDB in a
/// build with the `rocksdb` feature).
pub struct OpsCtx {
    file: PathBuf,
    sqlite: Slot<Sqlite>,
    lmdb: Slot<Lmdb>,
    #[cfg(feature = "rocksdb")]
    rocksdb: Slot<kvidxkit::engines::Rocksdb>,
    /// Inputs and operations run (for the replay test's count).
    pub inputs: usize,
    pub ops: usize,
}

/// At most this many operations per input.
const MAX_OPS: usize = 400;

impl OpsCtx {
    pub fn new(dir: &Path) -> Self {
        OpsCtx {
            file: dir.join("ops-export"),
            sqlite: Slot::new(dir, "ops"),
            lmdb: Slot::new(dir, "ops"),
            #[cfg(feature = "rocksdb")]
            rocksdb: Slot::new(dir, "ops"),
            inputs: 0,
            ops: 0,
        }
    }

    /// Runs the operations `data` encodes on each engine, checking every
    /// result against the model.
    pub fn run(&mut self, data: &[u8]) {
        self.inputs += 1;
        let file = self.file.clone();
        self.ops += run_ops(&mut self.sqlite, data, &file);
        self.ops += run_ops(&mut self.lmdb, data, &file);
        #[cfg(feature = "rocksdb")]
        {
            self.ops += run_ops(&mut self.rocksdb, data, &file);
        }
    }
}

fn run_ops<E: Engine>(slot: &mut Slot<E>, data: &[u8], file: &Path) -> usize {
    slot.fresh();
    let mut m = Model::default();
    let mut txn: Option<Model> = None;
    let mut inp = Bytes::new(data);
    let mut ops = 0;
    while !inp.done() && ops < MAX_OPS {
        let op = inp.u8();
        let ctx = format!("op #{ops} ({op})");
        step(slot, &mut m, &mut txn, op, &mut inp, file, &ctx);
        // Counts after every operation, every read of the whole store
        // after every fourth (and at the end).
        if ops % 4 == 3 {
            verify(slot.store(), &m, txn.is_some(), &ctx);
        } else {
            let s = slot.store();
            assert_eq!(s.in_transaction(), txn.is_some(), "{} {ctx}: in_transaction", E::NAME);
            assert_eq!(s.key_count().unwrap(), m.live.len() as u64, "{} {ctx}: key_count", E::NAME);
            assert_eq!(s.ttl_count(), m.ttl.len() + m.ghosts.len(), "{} {ctx}: ttl_count", E::NAME);
        }
        ops += 1;
    }
    if let Some(saved) = txn.take() {
        slot.store().abort().expect("abort at the end");
        m = saved;
    }
    verify(slot.store(), &m, false, "end");
    ops
}

const OFFSETS: [usize; 7] = [0, 1, 2, 7, 100, 5000, usize::MAX];
const LENGTHS: [usize; 5] = [0, 1, 3, 50, usize::MAX];
/// Offsets for set_value_range; 2^40 (and beyond) is past what any engine
/// stores: TooBig before anything is read or allocated.
const WRITE_OFFSETS: [usize; 9] = [0, 1, 3, 10, 100, 1000, 4000, 1 << 40, usize::MAX / 2];
/// Values at least this long are beyond every engine's limit.
const TOO_BIG: usize = 1 << 40;

/// The past expiry `set_expire_at` uses for the key at `index` of [`KEYS`]:
/// distinct per key, so the order in which expired keys are reclaimed
/// (soonest first) is fully determined.
fn past_expiry(index: usize, b: u8) -> u64 {
    index as u64 * 1000 + b as u64
}

/// Removes the model's entries (live or expired) in `[lo, hi]`; returns how
/// many were live.
/// `k` as an included or excluded range bound.
fn bound(k: u64, included: bool) -> std::ops::Bound<u64> {
    if included { std::ops::Bound::Included(k) } else { std::ops::Bound::Excluded(k) }
}

fn model_remove_range(m: &mut Model, lo: Option<u64>, hi: Option<u64>) -> u64 {
    let (Some(lo), Some(hi)) = (lo, hi) else { return 0 };
    if lo > hi {
        return 0;
    }
    let keys: Vec<u64> =
        m.live.range(lo..=hi).map(|(k, _)| *k).chain(m.ghosts.range(lo..=hi).map(|(k, _)| *k)).collect();
    let live = m.live.range(lo..=hi).count() as u64;
    for k in keys {
        m.delete(k);
    }
    live
}

fn step<E: Engine>(
    slot: &mut Slot<E>,
    m: &mut Model,
    txn: &mut Option<Model>,
    op: u8,
    inp: &mut Bytes<'_>,
    file: &Path,
    ctx: &str,
) {
    let n = E::NAME;
    let op = op % 32;
    match op {
        // insert
        0 => {
            let (k, t, c, d) = (inp.key(), inp.num(), inp.num(), inp.value());
            let r = slot.store().insert(k, t, c, &d);
            if m.is_live(k) {
                assert!(matches!(r, Err(Error::DuplicateKey(x)) if x == k), "{n} {ctx}: insert of live {k}: {r:?}");
            } else {
                r.unwrap_or_else(|e| panic!("{n} {ctx}: insert {k}: {e}"));
                m.put_new(k, t, c, &d);
            }
        }
        // insert_ex with each condition
        1..=3 => {
            let cond = [SetCondition::Always, SetCondition::IfNotExists, SetCondition::IfExists][op as usize - 1];
            let (k, t, c, d) = (inp.key(), inp.num(), inp.num(), inp.value());
            let r = slot.store().insert_ex(k, t, c, &d, cond);
            let live = m.is_live(k);
            let ok = match cond {
                SetCondition::Always => true,
                SetCondition::IfNotExists => !live,
                SetCondition::IfExists => live,
            };
            if ok {
                r.unwrap_or_else(|e| panic!("{n} {ctx}: insert_ex {cond:?} {k}: {e}"));
                m.put(k, t, c, &d);
            } else {
                assert_eq!(code(ctx, r), ErrorCode::ConditionFailed, "{n} {ctx}: insert_ex {cond:?} {k}");
            }
        }
        // remove
        4 => {
            let k = inp.key();
            let r = slot.store().remove(k).unwrap_or_else(|e| panic!("{n} {ctx}: remove: {e}"));
            assert_eq!(r, m.is_live(k), "{n} {ctx}: remove {k}");
            m.delete(k);
        }
        // range removes, bounds inclusive or exclusive, and the one-sided forms
        5 | 31 => {
            let (a, b, ai, bi, form) = (inp.key(), inp.key(), inp.bool(), inp.bool(), inp.u8() % 3);
            let s = slot.store();
            let (r, lo, hi) = match (op, form) {
                (31, 0) => (s.remove_range(a..), Some(a), Some(MAX)),
                (31, 1) => (s.remove_range(..=b), Some(0), Some(b)),
                _ => (
                    s.remove_range((bound(a, ai), bound(b, bi))),
                    if ai { Some(a) } else { a.checked_add(1) },
                    if bi { Some(b) } else { b.checked_sub(1) },
                ),
            };
            let r = r.unwrap_or_else(|e| panic!("{n} {ctx}: remove range: {e}"));
            let want = model_remove_range(m, lo, hi);
            assert_eq!(r, want, "{n} {ctx}: remove_range({a}, {b}, {ai}, {bi}) form {form}");
        }
        // batch: stops at the first failing entry, keeps the ones before it
        6 => {
            let count = inp.u8() % 5 + 1;
            let entries: Vec<Entry> = (0..count)
                .map(|_| Entry { key: inp.key(), term: inp.num(), cmd: inp.num(), data: inp.value() })
                .collect();
            let out = slot.store().insert_batch(entries.iter().map(|e| kvidxkit::EntryRef {
                key: e.key,
                term: e.term,
                cmd: e.cmd,
                data: &e.data,
            }));
            let mut inserted = 0;
            let mut failed = None;
            for e in &entries {
                if m.is_live(e.key) {
                    failed = Some(e.key);
                    break;
                }
                m.put_new(e.key, e.term, e.cmd, &e.data);
                inserted += 1;
            }
            assert_eq!(out.inserted, inserted, "{n} {ctx}: batch inserted count ({:?})", out.error);
            match (failed, &out.error) {
                (None, None) => {}
                (Some(k), Some(Error::DuplicateKey(x))) if k == *x => {}
                (f, e) => panic!("{n} {ctx}: batch: expected failure at {f:?}, got {e:?}"),
            }
        }
        // point read
        7 => {
            let k = inp.key();
            let got = slot.store().get(k).expect("get").map(|e| e.to_owned());
            check_entry(&format!("{n} {ctx}: get {k}"), got, m.live.get(&k));
        }
        // strict neighbours
        8 => {
            let k = inp.key();
            let got = slot.store().next(k).expect("next").map(|e| e.to_owned());
            let want = k.checked_add(1).and_then(|lo| m.first(lo, MAX, Dir::Forward));
            check_entry(&format!("{n} {ctx}: next {k}"), got, want);
        }
        9 => {
            let k = inp.key();
            let got = slot.store().prev(k).expect("prev").map(|e| e.to_owned());
            let want = k.checked_sub(1).and_then(|hi| m.first(0, hi, Dir::Backward));
            check_entry(&format!("{n} {ctx}: prev {k}"), got, want);
        }
        // double-ended range walks: next and next_back in any order
        10 => {
            let (lo, hi) = (inp.key(), inp.key());
            let steps = inp.u8() % 12 + 1;
            let actions: Vec<bool> = (0..steps).map(|_| inp.bool()).collect();
            let mut it = slot.store().range(lo..=hi);
            // What is left to visit, in the model.
            let mut left = (lo <= hi).then_some((lo, hi));
            for (i, front) in actions.into_iter().enumerate() {
                let what =
                    format!("{n} {ctx}: range [{lo}, {hi}] step {i} {}", if front { "next" } else { "next_back" });
                let got = if front { it.next() } else { it.next_back() };
                let got = got.transpose().unwrap_or_else(|e| panic!("{what}: {e}"));
                let dir = if front { Dir::Forward } else { Dir::Backward };
                let want = left.and_then(|(l, h)| m.first(l, h, dir));
                left = match (&want, left) {
                    (Some(e), Some((l, h))) => if front {
                        e.key.checked_add(1).map(|nl| (nl, h))
                    } else {
                        e.key.checked_sub(1).map(|nh| (l, nh))
                    }
                    .filter(|(a, b)| a <= b),
                    _ => None,
                };
                check_entry(&what, got, want);
            }
        }
        // counts
        11 => {
            let (a, b) = (inp.key(), inp.key());
            let s = slot.store();
            let c = s.count_range(a..=b).expect("count_range");
            assert_eq!(c, m.in_range(a, b).len() as u64, "{n} {ctx}: count_range({a}, {b})");
            let e = s.exists_in_range(a..=b).expect("exists_in_range");
            assert_eq!(e, c > 0, "{n} {ctx}: exists_in_range({a}, {b})");
        }
        12 => {
            let s = slot.store();
            assert_eq!(s.min_key().unwrap(), m.live.keys().next().copied(), "{n} {ctx}: min_key");
            assert_eq!(s.max_key().unwrap(), m.live.keys().next_back().copied(), "{n} {ctx}: max_key");
            assert_eq!(s.data_size().unwrap(), m.value_bytes(), "{n} {ctx}: data_size");
            let st = s.stats().expect("stats");
            assert_eq!(st.total_keys, m.live.len() as u64, "{n} {ctx}: stats keys");
            assert_eq!(st.min_key, m.live.keys().next().copied().unwrap_or(0), "{n} {ctx}: stats min");
            assert_eq!(st.max_key, m.live.keys().next_back().copied().unwrap_or(0), "{n} {ctx}: stats max");
            assert_eq!(st.total_data_bytes, m.value_bytes(), "{n} {ctx}: stats bytes");
            s.fsync().unwrap_or_else(|e| panic!("{n} {ctx}: fsync: {e}"));
        }
        // get_and_set, get_and_remove
        13 => {
            let (k, t, c, d) = (inp.key(), inp.num(), inp.num(), inp.value());
            let got = slot.store().get_and_set(k, t, c, &d).unwrap_or_else(|e| panic!("{n} {ctx}: get_and_set: {e}"));
            check_entry(&format!("{n} {ctx}: get_and_set {k}"), got, m.live.get(&k));
            m.put(k, t, c, &d);
        }
        14 => {
            let k = inp.key();
            let got = slot.store().get_and_remove(k).unwrap_or_else(|e| panic!("{n} {ctx}: get_and_remove: {e}"));
            check_entry(&format!("{n} {ctx}: get_and_remove {k}"), got, m.live.get(&k));
            m.delete(k);
        }
        // compare-and-swap on the value, on the term
        15 | 16 => {
            let k = inp.key();
            let current = m.live.get(&k).cloned();
            let use_current = inp.bool();
            let (t, c, d) = (inp.num(), inp.num(), inp.value());
            let s = slot.store();
            let (r, matches) = if op == 15 {
                let expected = match (&current, use_current) {
                    (Some(e), true) => e.data.clone(),
                    _ => inp.value(),
                };
                let matches = current.as_ref().is_some_and(|e| e.data == expected);
                (s.compare_and_swap(k, &expected, t, c, &d), matches)
            } else {
                let expected = match (&current, use_current) {
                    (Some(e), true) => e.term,
                    _ => inp.num(),
                };
                let matches = current.as_ref().is_some_and(|e| e.term == expected);
                (s.compare_term_and_swap(k, expected, t, c, &d), matches)
            };
            if current.is_none() {
                assert_eq!(code(ctx, r), ErrorCode::NotFound, "{n} {ctx}: swap on absent {k}");
            } else {
                let r = r.unwrap_or_else(|e| panic!("{n} {ctx}: swap {k}: {e}"));
                assert_eq!(r, matches, "{n} {ctx}: swap {k}");
                if matches {
                    m.put(k, t, c, &d);
                }
            }
        }
        // append, prepend
        17 | 18 => {
            let (k, t, c, d) = (inp.key(), inp.num(), inp.num(), inp.value());
            let s = slot.store();
            let r = if op == 17 { s.append(k, t, c, &d) } else { s.prepend(k, t, c, &d) };
            let r = r.unwrap_or_else(|e| panic!("{n} {ctx}: append/prepend {k}: {e}"));
            match m.live.get(&k).cloned() {
                None => m.put_new(k, t, c, &d),
                Some(e) => {
                    let v = if op == 17 { [&e.data[..], &d[..]].concat() } else { [&d[..], &e.data[..]].concat() };
                    m.put(k, e.term, e.cmd, &v);
                }
            }
            assert_eq!(r, m.live[&k].data.len(), "{n} {ctx}: append/prepend {k} length");
        }
        // partial values
        19 => {
            let (k, off, len) = (inp.key(), inp.pick(&OFFSETS), inp.pick(&LENGTHS));
            let r = slot.store().get_value_range(k, off, len).map(|v| v.to_vec());
            match m.live.get(&k) {
                None => assert_eq!(code(ctx, r), ErrorCode::NotFound, "{n} {ctx}: get_value_range absent {k}"),
                Some(e) => {
                    let v = &e.data;
                    let want = if off >= v.len() {
                        &[][..]
                    } else {
                        let rest = v.len() - off;
                        &v[off..off + if len == 0 || len > rest { rest } else { len }]
                    };
                    assert_eq!(r.expect("get_value_range"), want, "{n} {ctx}: get_value_range {k} {off} {len}");
                }
            }
        }
        20 => {
            let (k, off, d) = (inp.key(), inp.pick(&WRITE_OFFSETS), inp.value());
            let r = slot.store().set_value_range(k, off, &d);
            match m.live.get(&k).cloned() {
                _ if off >= TOO_BIG => {
                    assert_eq!(code(ctx, r), ErrorCode::TooBig, "{n} {ctx}: set_value_range {k} at {off}")
                }
                None => assert_eq!(code(ctx, r), ErrorCode::NotFound, "{n} {ctx}: set_value_range absent {k}"),
                Some(e) => {
                    let mut v = e.data.clone();
                    if v.len() < off + d.len() {
                        v.resize(off + d.len(), 0);
                    }
                    v[off..off + d.len()].copy_from_slice(&d);
                    assert_eq!(r.expect("set_value_range"), v.len(), "{n} {ctx}: set_value_range {k} length");
                    m.put(k, e.term, e.cmd, &v);
                }
            }
        }
        // TTL: far past (expired at once) or far future only
        21 => {
            let i = inp.key_index();
            let k = KEYS[i];
            let b = inp.u8();
            let at = match b % 6 {
                0..=2 => past_expiry(i, inp.u8()),
                3 => MAX_EXPIRY,
                4 => MAX - inp.u8() as u64,
                _ => now_ms() + 1_000_000_000_000 + inp.u8() as u64 * 1000,
            };
            let r = slot.store().expire_at(k, std::time::UNIX_EPOCH + std::time::Duration::from_millis(at));
            if !m.is_live(k) {
                assert_eq!(code(ctx, r), ErrorCode::NotFound, "{n} {ctx}: set_expire_at absent {k}");
            } else {
                r.unwrap_or_else(|e| panic!("{n} {ctx}: set_expire_at {k} {at}: {e}"));
                if b % 6 <= 2 {
                    m.live.remove(&k);
                    m.ttl.remove(&k);
                    m.ghosts.insert(k, at);
                } else {
                    m.ttl.insert(k, at.min(MAX_EXPIRY));
                }
            }
        }
        22 => {
            let k = inp.key();
            let r = slot.store().persist(k);
            if !m.is_live(k) {
                assert_eq!(code(ctx, r), ErrorCode::NotFound, "{n} {ctx}: persist absent {k}");
            } else {
                r.unwrap_or_else(|e| panic!("{n} {ctx}: persist {k}: {e}"));
                m.ttl.remove(&k);
            }
        }
        23 => {
            let max = inp.pick(&[0u64, 1, 2, 3, 100]);
            let r = slot.store().expire_scan(max).unwrap_or_else(|e| panic!("{n} {ctx}: expire_scan: {e}"));
            let mut order: Vec<(u64, u64)> = m.ghosts.iter().map(|(k, at)| (*at, *k)).collect();
            order.sort_unstable();
            let take = if max == 0 { order.len() } else { order.len().min(max as usize) };
            for &(_, k) in &order[..take] {
                m.ghosts.remove(&k);
            }
            assert_eq!(r, take as u64, "{n} {ctx}: expire_scan({max})");
        }
        // transactions
        24 => {
            let r = slot.store().begin();
            if txn.is_some() {
                assert_eq!(code(ctx, r), ErrorCode::TransactionActive, "{n} {ctx}: begin in a transaction");
            } else {
                r.unwrap_or_else(|e| panic!("{n} {ctx}: begin: {e}"));
                *txn = Some(m.clone());
            }
        }
        25 => {
            let r = slot.store().commit();
            if txn.is_none() {
                assert_eq!(code(ctx, r), ErrorCode::NoTransaction, "{n} {ctx}: commit without a transaction");
            } else {
                r.unwrap_or_else(|e| panic!("{n} {ctx}: commit: {e}"));
                *txn = None;
            }
        }
        26 => {
            let r = slot.store().abort();
            match txn.take() {
                None => assert_eq!(code(ctx, r), ErrorCode::NoTransaction, "{n} {ctx}: abort without a transaction"),
                Some(saved) => {
                    r.unwrap_or_else(|e| panic!("{n} {ctx}: abort: {e}"));
                    *m = saved;
                }
            }
        }
        // export a range, then import it back three ways
        27 => {
            let format = inp.pick(&[Format::Binary, Format::Json, Format::Csv]);
            let (a, b, meta, pretty, how) = (inp.key(), inp.key(), inp.bool(), inp.bool(), inp.u8() % 3);
            let s = slot.store();
            let opts = ExportOptions { format, start: a, end: b, include_metadata: meta, pretty };
            let exported: Vec<Entry> = m.in_range(a, b).into_iter().cloned().collect();
            let got = s.export_to(file, &opts).unwrap_or_else(|e| panic!("{n} {ctx}: export: {e}"));
            assert_eq!(got, exported.len() as u64, "{n} {ctx}: export count {opts:?}");
            let opts = ImportOptions {
                format: if inp.bool() { Some(format) } else { None },
                skip_duplicates: how == 1,
                clear_before_import: how == 0,
                ..ImportOptions::default()
            };
            let r = s.import_from(file, &opts);
            match how {
                0 => {
                    let r = r.unwrap_or_else(|e| panic!("{n} {ctx}: import with clear: {e}"));
                    assert_eq!(r, exported.len() as u64, "{n} {ctx}: import count");
                    *m = Model::default();
                    for e in exported {
                        let (t, c) = if meta || format == Format::Binary { (e.term, e.cmd) } else { (0, 0) };
                        m.put_new(e.key, t, c, &e.data);
                    }
                }
                1 => assert_eq!(r.expect("import skipping duplicates"), 0, "{n} {ctx}: every key was there"),
                _ if exported.is_empty() => assert_eq!(r.expect("import of an empty export"), 0),
                _ => assert_eq!(code(ctx, r), ErrorCode::DuplicateKey, "{n} {ctx}: import onto the same keys"),
            }
        }
        // close and reopen (an open transaction is rolled back)
        28 => {
            slot.reopen();
            if let Some(saved) = txn.take() {
                *m = saved;
            }
        }
        // existence
        29 => {
            let (k, term) = (inp.key(), inp.num());
            let s = slot.store();
            assert_eq!(s.exists(k).expect("exists"), m.is_live(k), "{n} {ctx}: exists {k}");
            let want = m.live.get(&k).is_some_and(|e| e.term == term);
            assert_eq!(s.exists_dual(k, term).expect("exists_dual"), want, "{n} {ctx}: exists_dual {k} {term}");
        }
        // a run of up to 256 consecutive keys in one batch (iterator chunks,
        // page splits), optionally ending with a key that is already there
        _ => {
            let base = inp.pick(&[2, 90, H - 128, MAX - 255]);
            let count = inp.u8() as u64 + 1;
            let fail = inp.bool();
            let mut entries: Vec<Entry> = (base..base + count)
                .filter(|k| !m.is_live(*k))
                .map(|k| Entry { key: k, term: k, cmd: k % 7, data: k.to_le_bytes()[..(k % 9) as usize].to_vec() })
                .collect();
            let dup = m.live.keys().next().copied().filter(|_| fail);
            if let Some(k) = dup {
                entries.push(Entry { key: k, term: 0, cmd: 0, data: Vec::new() });
            }
            let out = slot.store().insert_batch(entries.iter().map(|e| kvidxkit::EntryRef {
                key: e.key,
                term: e.term,
                cmd: e.cmd,
                data: &e.data,
            }));
            let fresh = entries.len() - dup.is_some() as usize;
            for e in &entries[..fresh] {
                m.put_new(e.key, e.term, e.cmd, &e.data);
            }
            assert_eq!(out.inserted, fresh, "{n} {ctx}: bulk batch inserted count ({:?})", out.error);
            match (dup, &out.error) {
                (None, None) => {}
                (Some(k), Some(Error::DuplicateKey(x))) if k == *x => {}
                (d, e) => panic!("{n} {ctx}: bulk batch: expected failure at {d:?}, got {e:?}"),
            }
        }
    }
}
