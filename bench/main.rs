//! kvidx_bench: operations per second of kvidxkit through its C ABI, next
//! to the same operations done directly on the engine (the ceiling), in
//! the same run. `cargo bench --bench kvidx_bench [-- FILTER... ] [-v]`.
//!
//! Environment: KVIDX_BENCH_N (entries, default 100000),
//! KVIDX_BENCH_RUNS (runs per side, default 11, at least 5 recommended),
//! KVIDX_BENCH_VALUE (value size, default 64).
//!
//! To add a row, add a `Case` to `sqlite_cases` (or a new list for another
//! engine: its kvidx side is generic over `Env::engine`, only the ceiling
//! is engine-specific).

mod harness;
mod kv;
mod raw;

use harness::{Case, Env, KvEngine, RowResult, TARGET_RATIO, measure, print_table};
use kvidxkit::capi::registry::kvidxInterfaceSqlite3;

fn sqlite_cases() -> Vec<Case> {
    vec![
        Case { name: "sequential insert", kvidx: kv::seq_insert, raw: raw::seq_insert },
        Case { name: "sequential read", kvidx: kv::seq_read, raw: raw::seq_read },
        Case { name: "random read", kvidx: kv::rand_read, raw: raw::rand_read },
        Case { name: "random insert", kvidx: kv::rand_insert, raw: raw::rand_insert },
        Case { name: "iterator scan", kvidx: kv::iter_scan, raw: raw::iter_scan },
        Case { name: "range count", kvidx: kv::range_count, raw: raw::range_count },
        Case { name: "delete", kvidx: kv::delete, raw: raw::delete },
    ]
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
    // cargo bench passes "--bench"; any other non-flag argument filters rows.
    let filters: Vec<&str> = args.iter().filter(|a| !a.starts_with('-')).map(|s| s.as_str()).collect();
    let n = env_num("KVIDX_BENCH_N", 100_000);
    let runs = env_num("KVIDX_BENCH_RUNS", 11).max(1) as usize;
    let value_size = env_num("KVIDX_BENCH_VALUE", 64).max(1) as usize;
    let range_calls = 10_000;
    let range_width = 100.min(n);

    let engine = KvEngine { name: "SQLite3", iface: &kvidxInterfaceSqlite3, suffix: ".sqlite3" };
    let env = Env::new(engine, n, value_size, range_calls, range_width);
    let started = std::time::Instant::now();

    // One populated file, byte-copied for the ceiling so both read the same layout.
    kv::populate(&env, &env.populated_kvidx);
    std::fs::copy(&env.populated_kvidx, &env.populated_raw).expect("copy the populated database");

    let cases: Vec<Case> = sqlite_cases()
        .into_iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|f| c.name.contains(f)))
        .collect();
    let mut results: Vec<RowResult> = Vec::new();
    for case in &cases {
        eprintln!("  measuring {} ...", case.name);
        results.push(measure(case, &env, runs));
    }
    env.cleanup();

    println!();
    println!(
        "kvidx_bench — engine {}: N = {n} entries, {value_size}-byte values, {runs} runs per side \
         (+1 warm-up, interleaved), median ops/s; range count = {range_calls} calls over \
         {range_width}-key ranges; ceiling = rusqlite with the same pragmas and prepared statements",
        engine.name
    );
    println!("ratio = raw / kvidx (1.00 = as fast as raw; target <= {TARGET_RATIO:.2})");
    println!();
    print_table(&results, verbose);
    println!();
    println!("total time {:.1} s", started.elapsed().as_secs_f64());
}
