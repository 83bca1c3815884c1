//! kvidx_bench: operations per second of kvidxkit through its C ABI, next
//! to the same operations done directly on the engine (the ceiling), in
//! the same run, for each engine (SQLite3, then LMDB, then RocksDB in a build
//! with the `rocksdb` feature: `make bench ROCKSDB=1`).
//! `cargo bench --bench kvidx_bench [-- FILTER... ] [-v]`; a filter that
//! names an engine ("sqlite3", "lmdb", "rocksdb", case-insensitive) selects engines,
//! any other filters rows by substring ("=NAME": exact row name).
//!
//! Environment: KVIDX_BENCH_N (entries, default 100000),
//! KVIDX_BENCH_RUNS (runs per side, default 11, at least 5 recommended),
//! KVIDX_BENCH_VALUE (value size, default 64), KVIDX_BENCH_EXPORT_N
//! (entries of the export/import table, default 1000000),
//! KVIDX_BENCH_EXPORT_RUNS (its runs per side, default 5),
//! KVIDX_BENCH_WIDE (queries of the wide range-count row, default 200).
//! `--quick`: N = 10000 (the original's quick mode), 3 runs per side,
//! export N = 100000 and 3 export runs, to check that the rows work (the
//! variables above still win); `make bench BENCH_ARGS=--quick`.
//!
//! The filter "export" selects the whole export/import table (bench/export.rs:
//! kvidxExport/kvidxImport in BINARY, JSON and CSV over 1M entries, against
//! a scan+write / read+insert done directly on the engine); it is the last
//! table of each engine (about 45 s on SQLite3, 30 s on LMDB).
//!
//! The other three tables per engine: the core operations; the storage primitives
//! (10 000 calls in one transaction each); the TTL overhead (the read rows
//! on a database where 1% of the keys carry a TTL, against the same rows
//! without TTLs; both sides kvidx). To add a row, add a `Case` to the
//! lists below: the kvidx side is generic over `Env::engine`, only the
//! ceiling is engine-specific.
//!
//! Both sides of a read row open one and the same database
//! (`Env::read_db`; on RocksDB, a copy each), so that each run finds the
//! caches as a run of the same row left them, whichever side ran before.
//! A row whose pass takes about a millisecond (the iterator scans) times
//! whole passes until 20 ms have elapsed, on both sides (`timed_passes`).

mod export;
mod harness;
mod kv;
mod raw;
mod raw_lmdb;
#[cfg(feature = "rocksdb")]
mod raw_rocksdb;

use harness::{Case, Columns, Env, KvEngine, PRIM_N, RowResult, TARGET_RATIO, TTL_TARGET_RATIO, measure, print_table};
use kvidxkit::capi::registry::{kvidxInterfaceLmdb, kvidxInterfaceSqlite3};

fn sqlite_cases() -> Vec<Case> {
    let mut v = vec![
        Case::new("sequential insert", kv::seq_insert, raw::seq_insert),
        Case::new("sequential read", kv::seq_read, raw::seq_read),
        Case::new("random read", kv::rand_read, raw::rand_read),
        Case::new("random insert", kv::rand_insert, raw::rand_insert),
        Case::new("iterator scan", kv::iter_scan, raw::iter_scan),
        Case::new("range count", kv::range_count, raw::range_count),
        Case::new("delete", kv::delete, raw::delete),
    ];
    v.extend(original_rows([
        (raw::seq_insert_10k, "prepared INSERT, BEGIN .. COMMIT every 10 000"),
        (raw::rand_insert_10k, "prepared INSERT, BEGIN .. COMMIT every 10 000"),
        (raw::mixed, "prepared SELECT by id / INSERT, BEGIN .. COMMIT every 1000 operations"),
        (raw::batch_insert, "BEGIN, 1000 prepared INSERTs, COMMIT per batch"),
        (raw::wide_count, "SELECT COUNT(*) FROM log WHERE id BETWEEN ?1 AND ?2 per query (SQLite steps over every key in the range)"),
        (
            raw::getnext_scan,
            "SELECT id, term, cmd, data FROM log WHERE id > ?1 ORDER BY id LIMIT 1 per entry (prepared once, autocommit): \
             \"the entry after k\" as a careful SQLite user writes it; the iterator scan row's ceiling is the single stepped SELECT",
        ),
        (raw::large_insert, "prepared INSERT, BEGIN .. COMMIT every 1000"),
        (raw::large_read, "prepared SELECT by id, autocommit"),
        (raw::delete_chunked, "prepared DELETE, BEGIN .. COMMIT every 10 000"),
    ]));
    v
}

/// Runs per side of the wide range-count row (the ceiling walks every key
/// of every range: about a second per run on SQLite3 at the default N).
const WIDE_RUNS: usize = 5;

/// The rows of the original's benchmark program (kvidxkit 0.8
/// src/kvidxkit-bench.c) that the rows above do not do the same way, each
/// with its engine's ceiling and what that ceiling does (printed under the
/// table), in this order: sequential insert and random insert (10 000 per
/// transaction), mixed 80/20, batch insert, wide range count, GetNext
/// scan, 4 KB values (the original's insert, and reading them back),
/// delete (10 000 per transaction). The original's sequential read and
/// random read are the rows of those names above.
fn original_rows(raw: [(harness::Side, &str); 9]) -> Vec<Case> {
    let rows: [(&'static str, harness::Side, &str); 9] = [
        ("sequential insert, 10k/txn", kv::seq_insert_10k, "keys 1..=N into an empty database, a commit every 10 000"),
        ("random insert, 10k/txn", kv::rand_insert_10k, "the random insert row's keys, a commit every 10 000"),
        (
            "mixed 80/20 R/W",
            kv::mixed,
            "on keys 1..=N/2, N operations, a commit every 1000: 80% Get of a random existing key, 20% Insert of the next new key",
        ),
        (
            "batch insert",
            kv::batch_insert,
            "keys 1..=N, kvidxInsertBatch of 1000 entries per call, no caller transaction",
        ),
        (
            "range count, wide",
            kv::wide_count,
            "kvidxCountRange(start, end), start uniform in 1..=N/2, end in N/2..=N, passes over the same \
             queries until 20 ms have elapsed (both sides); ops/s = queries/s",
        ),
        ("GetNext scan", kv::getnext_scan, "kvidxGetNext from key 0 until false (the original's \"Iterator Scan\")"),
        ("4 KB values, insert", kv::large_insert, "N/10 inserts of 4096-byte values, a commit every 1000"),
        (
            "4 KB values, read",
            kv::large_read,
            "kvidxGet of each of the N/10 4096-byte values once, random order, no transaction",
        ),
        ("delete, 10k/txn", kv::delete_chunked, "every key removed in key order, a commit every 10 000"),
    ];
    rows.into_iter()
        .zip(raw)
        .map(|((name, side, what), (ceiling, how))| {
            let case = Case::new(name, side, ceiling).note(format!("{what}; raw: {how}"));
            if name == "range count, wide" { case.runs(WIDE_RUNS) } else { case }
        })
        .collect()
}

/// Runs per side of the storage-primitive and TTL rows: short rows (one
/// commit and fsync dominate a primitive row), so more runs for a steadier
/// median at little cost.
const PRIM_RUNS: usize = 15;
const TTL_RUNS: usize = 15;

fn sqlite_primitives() -> Vec<Case> {
    vec![
        Case::new("GetAndSet", kv::get_and_set, raw::get_and_set).runs(PRIM_RUNS),
        Case::new("CompareAndSwap", kv::compare_and_swap, raw::compare_and_swap).runs(PRIM_RUNS),
        Case::new("Append", kv::append, raw::append).runs(PRIM_RUNS),
        Case::new("SetExpire", kv::set_expire, raw::set_expire).runs(PRIM_RUNS),
        Case::new("ExpireScan (entries/s)", kv::expire_scan, raw::expire_scan).runs(PRIM_RUNS),
    ]
}

fn lmdb_cases() -> Vec<Case> {
    let mut v = vec![
        Case::new("sequential insert", kv::seq_insert, raw_lmdb::seq_insert),
        Case::new("sequential read", kv::seq_read, raw_lmdb::seq_read),
        Case::new("random read", kv::rand_read, raw_lmdb::rand_read),
        Case::new("random insert", kv::rand_insert, raw_lmdb::rand_insert),
        Case::new("iterator scan", kv::iter_scan, raw_lmdb::iter_scan),
        Case::new("range count", kv::range_count, raw_lmdb::range_count),
        Case::new("delete", kv::delete, raw_lmdb::delete),
    ];
    v.extend(original_rows([
        (raw_lmdb::seq_insert_10k, "mdb_put(MDB_NOOVERWRITE), a write transaction per 10 000"),
        (raw_lmdb::rand_insert_10k, "mdb_put(MDB_NOOVERWRITE), a write transaction per 10 000"),
        (raw_lmdb::mixed, "mdb_get / mdb_put(MDB_NOOVERWRITE), a write transaction per 1000 operations"),
        (raw_lmdb::batch_insert, "one write transaction of 1000 mdb_put per batch"),
        (
            raw_lmdb::wide_count,
            "MDB_SET_RANGE(start) then MDB_NEXT up to end per query, one cursor in one read transaction (LMDB keeps no counts)",
        ),
        (
            raw_lmdb::getnext_scan,
            "one read transaction and one cursor for the scan, MDB_SET_RANGE(k + 1) per entry: \
             \"the entry after k\" as a careful LMDB user writes it (GetNext carries no cursor between calls; \
             MDB_NEXT is the iterator scan row's ceiling)",
        ),
        (raw_lmdb::large_insert, "mdb_put(MDB_NOOVERWRITE) of 16 + 4096 bytes (overflow pages), a write transaction per 1000"),
        (raw_lmdb::large_read, "mdb_get in one read transaction, the value read in place"),
        (raw_lmdb::delete_chunked, "mdb_del, a write transaction per 10 000"),
    ]));
    v
}

fn lmdb_primitives() -> Vec<Case> {
    vec![
        Case::new("GetAndSet", kv::get_and_set, raw_lmdb::get_and_set).runs(PRIM_RUNS),
        Case::new("CompareAndSwap", kv::compare_and_swap, raw_lmdb::compare_and_swap).runs(PRIM_RUNS),
        Case::new("Append", kv::append, raw_lmdb::append).runs(PRIM_RUNS),
        Case::new("SetExpire", kv::set_expire, raw_lmdb::set_expire).runs(PRIM_RUNS),
        Case::new("ExpireScan (entries/s)", kv::expire_scan, raw_lmdb::expire_scan).runs(PRIM_RUNS),
    ]
}

#[cfg(feature = "rocksdb")]
fn rocksdb_cases() -> Vec<Case> {
    let mut v = vec![
        Case::new("sequential insert", kv::seq_insert, raw_rocksdb::seq_insert),
        Case::new("sequential read", kv::seq_read, raw_rocksdb::seq_read),
        Case::new("random read", kv::rand_read, raw_rocksdb::rand_read),
        Case::new("random insert", kv::rand_insert, raw_rocksdb::rand_insert),
        Case::new("iterator scan", kv::iter_scan, raw_rocksdb::iter_scan),
        Case::new("range count", kv::range_count, raw_rocksdb::range_count),
        Case::new("delete", kv::delete, raw_rocksdb::delete),
    ];
    v.extend(original_rows([
        (raw_rocksdb::seq_insert_10k, "get (absent) then put in a write batch with index, written every 10 000"),
        (raw_rocksdb::rand_insert_10k, "get (absent) then put in a write batch with index, written every 10 000"),
        (raw_rocksdb::mixed, "get through the batch / get (absent) then put, a write batch per 1000 operations"),
        (raw_rocksdb::batch_insert, "one write batch of 1000 get (absent) then put per batch"),
        (
            raw_rocksdb::wide_count,
            "seek(start) then next up to end per query, one iterator per pass (RocksDB keeps no counts)",
        ),
        (
            raw_rocksdb::getnext_scan,
            "one iterator for the scan, seek(k + 1) per entry: \"the entry after k\" as a careful RocksDB user \
             writes it (GetNext carries no iterator between calls; next is the iterator scan row's ceiling)",
        ),
        (raw_rocksdb::large_insert, "get (absent) then put of 16 + 4096 bytes, a write batch per 1000"),
        (raw_rocksdb::large_read, "rocksdb_get_pinned, the value read in place"),
        (raw_rocksdb::delete_chunked, "get (present) then delete, a write batch per 10 000"),
    ]));
    v
}

#[cfg(feature = "rocksdb")]
fn rocksdb_primitives() -> Vec<Case> {
    vec![
        Case::new("GetAndSet", kv::get_and_set, raw_rocksdb::get_and_set).runs(PRIM_RUNS),
        Case::new("CompareAndSwap", kv::compare_and_swap, raw_rocksdb::compare_and_swap).runs(PRIM_RUNS),
        Case::new("Append", kv::append, raw_rocksdb::append).runs(PRIM_RUNS),
        Case::new("SetExpire", kv::set_expire, raw_rocksdb::set_expire).runs(PRIM_RUNS),
        Case::new("ExpireScan (entries/s)", kv::expire_scan, raw_rocksdb::expire_scan).runs(PRIM_RUNS),
    ]
}

/// Same on every engine: `kvidx` = 1% TTL database, `raw` = no TTL.
fn ttl_cases() -> Vec<Case> {
    vec![
        Case::new("random read, 1% TTL", kv::rand_read_ttl, kv::rand_read).runs(TTL_RUNS),
        Case::new("iterator scan, 1% TTL", kv::iter_scan_ttl, kv::iter_scan).runs(TTL_RUNS),
    ]
}

struct EngineBench {
    engine: KvEngine,
    ceiling: &'static str,
    raw_column: &'static str,
    core: fn() -> Vec<Case>,
    primitives: fn() -> Vec<Case>,
    transfer: export::Ceiling,
}

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v" || a == "--verbose");
    // cargo bench passes "--bench"; other non-flag arguments select engines or rows.
    let words: Vec<&str> = args.iter().filter(|a| !a.starts_with('-')).map(|s| s.as_str()).collect();
    let is_engine = |w: &str| ["sqlite3", "lmdb", "rocksdb"].iter().any(|e| e.eq_ignore_ascii_case(w));
    let engines: Vec<&str> = words.iter().copied().filter(|w| is_engine(w)).collect();
    let filters: Vec<&str> = words.iter().copied().filter(|w| !is_engine(w)).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let (n, runs, export_n, export_runs) = if quick { (10_000, 3, 100_000, 3) } else { (100_000, 11, 1_000_000, 5) };
    let n = env_num("KVIDX_BENCH_N", n);
    let runs = env_num("KVIDX_BENCH_RUNS", runs).max(1) as usize;
    let value_size = env_num("KVIDX_BENCH_VALUE", 64).max(1) as usize;
    let export_n = env_num("KVIDX_BENCH_EXPORT_N", export_n).max(1);
    let export_runs = env_num("KVIDX_BENCH_EXPORT_RUNS", export_runs).max(1) as usize;
    let range_calls = 10_000;
    let range_width = 100.min(n);
    let wide_queries = env_num("KVIDX_BENCH_WIDE", 200).max(1) as usize;
    let started = std::time::Instant::now();

    let benches = [
        EngineBench {
            engine: KvEngine { name: "SQLite3", iface: &kvidxInterfaceSqlite3, suffix: ".sqlite3" },
            ceiling: "rusqlite with the same pragmas and prepared statements",
            raw_column: "raw rusqlite ops/s",
            core: sqlite_cases,
            primitives: sqlite_primitives,
            transfer: export::Ceiling { export: raw::export_scan_write, import: raw::import_insert },
        },
        EngineBench {
            engine: KvEngine { name: "LMDB", iface: &kvidxInterfaceLmdb, suffix: "" },
            ceiling: "raw LMDB calls (the same bundled LMDB, with MDB_INTEGERKEY's own comparison; the library installs the one its page search inlines, csrc/lmdb/PATCHES.md patch 6) on the same layout, one read txn per read row",
            raw_column: "raw LMDB ops/s",
            core: lmdb_cases,
            primitives: lmdb_primitives,
            transfer: export::Ceiling { export: raw_lmdb::export_scan_write, import: raw_lmdb::import_insert },
        },
        #[cfg(feature = "rocksdb")]
        EngineBench {
            engine: KvEngine { name: "RocksDB", iface: &kvidxkit::capi::registry::kvidxInterfaceRocksdb, suffix: "" },
            ceiling: "the RocksDB C API on the same layout and options, one write batch with index per transaction, \
                      one iterator per read row",
            raw_column: "raw RocksDB ops/s",
            core: rocksdb_cases,
            primitives: rocksdb_primitives,
            transfer: export::Ceiling { export: raw_rocksdb::export_scan_write, import: raw_rocksdb::import_insert },
        },
    ];
    let select = |cases: Vec<Case>| -> Vec<Case> {
        let hit = |c: &Case, f: &str| match f.strip_prefix('=') {
            Some(exact) => c.name == exact,
            None => c.name.contains(f),
        };
        cases.into_iter().filter(|c| filters.is_empty() || filters.iter().any(|f| hit(c, f))).collect()
    };
    // "export" selects the whole export/import table (its import rows too).
    let export_rows: Vec<&'static export::Row> = export::ROWS
        .iter()
        .filter(|r| {
            filters.is_empty()
                || filters.iter().any(|f| match f.strip_prefix('=') {
                    Some(exact) => r.name == exact,
                    None => f.eq_ignore_ascii_case("export") || r.name.contains(f),
                })
        })
        .collect();

    for b in &benches {
        if !engines.is_empty() && !engines.iter().any(|e| e.eq_ignore_ascii_case(b.engine.name)) {
            continue;
        }
        let engine_started = std::time::Instant::now();
        let tables = [(select((b.core)()), 0), (select((b.primitives)()), 1), (select(ttl_cases()), 2)];
        if tables.iter().any(|(cases, _)| !cases.is_empty()) {
            run_tables(b, &tables, n, runs, value_size, (range_calls, range_width, wide_queries), verbose);
        }
        if !export_rows.is_empty() {
            export::run(b.engine, &b.transfer, &export_rows, export_n, export_runs, verbose);
        }
        println!();
        println!("{} time {:.1} s", b.engine.name, engine_started.elapsed().as_secs_f64());
    }
    println!();
    println!("total time {:.1} s", started.elapsed().as_secs_f64());
}

/// The core, storage-primitive and TTL tables of one engine (the selected rows).
#[allow(clippy::too_many_arguments)]
fn run_tables(
    b: &EngineBench,
    tables: &[(Vec<Case>, usize); 3],
    n: u64,
    runs: usize,
    value_size: usize,
    (range_calls, range_width, wide_queries): (usize, u64, usize),
    verbose: bool,
) {
    let env = Env::new(b.engine, n, value_size, range_calls, range_width, wide_queries);
    // One populated database, byte-copied for the ceiling so both read the same layout.
    kv::populate(&env, &env.populated_kvidx);
    harness::copy_db(&env.populated_kvidx, &env.populated_raw);

    let mut results: Vec<Vec<RowResult>> = Vec::new();
    for (cases, _) in tables {
        let mut rs = Vec::new();
        for case in cases {
            eprintln!("  {}: measuring {} ...", b.engine.name, case.name);
            rs.push(measure(case, &env, runs));
        }
        results.push(rs);
    }
    env.cleanup();

    println!();
    println!(
        "kvidx_bench — engine {}: N = {n} entries, {value_size}-byte values, {runs} runs per side \
         (+1 warm-up, interleaved), median ops/s; range count = {range_calls} calls over \
         {range_width}-key ranges; ceiling = {}",
        b.engine.name, b.ceiling
    );
    if !results[0].is_empty() {
        println!("ratio = raw / kvidx (1.00 = as fast as raw; target <= {TARGET_RATIO:.2})");
        println!();
        let cols = Columns { first: "kvidx ops/s", second: b.raw_column, swap: false, target: TARGET_RATIO };
        print_table(&results[0], &cols, verbose);
    }
    if !results[1].is_empty() {
        println!();
        println!(
            "storage primitives — {PRIM_N} calls in one transaction (kvidxBegin .. kvidxCommit / BEGIN .. COMMIT), \
             fresh copy per run, {PRIM_RUNS} runs per side; ratio = raw / kvidx (target <= {TARGET_RATIO:.2})"
        );
        println!();
        let cols = Columns { first: "kvidx ops/s", second: b.raw_column, swap: false, target: TARGET_RATIO };
        print_table(&results[1], &cols, verbose);
    }
    if !results[2].is_empty() {
        println!();
        println!(
            "TTL overhead — kvidx on the populated database with every 100th key carrying a TTL an hour ahead, \
             against kvidx without TTLs, {TTL_RUNS} runs per side; ratio = no TTL / 1% TTL (target <= {TTL_TARGET_RATIO:.2})"
        );
        println!();
        let cols = Columns { first: "no TTL ops/s", second: "1% TTL ops/s", swap: true, target: TTL_TARGET_RATIO };
        print_table(&results[2], &cols, verbose);
    }
}
