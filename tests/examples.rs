//! The example programs in examples/ (raft_log, message_queue,
//! session_store, timeseries): each is compiled with -Werror against the
//! static and the shared library and run on every engine of the registry.
//! A test passes only if the program exits 0, prints the lines that show
//! the right results for each engine, and leaves no database behind.
#![cfg(feature = "capi")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ENGINES, Link, compile_c, project_dir, scratch};

/// Compiles examples/<name>.c; `tag` keeps the executables of tests that
/// run in parallel apart.
fn build(name: &str, link: Link, tag: &str) -> PathBuf {
    let src = project_dir().join("examples").join(format!("{name}.c"));
    compile_c(&[src], &format!("example_{name}_{tag}"), link, &["-Werror"]).unwrap_or_else(|e| panic!("{e}"))
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn run(exe: &Path, args: &[&str]) -> Run {
    let o = Command::new(exe).args(args).output().expect("run example");
    Run {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs the example in a fresh directory (optionally on one engine);
/// asserts exit status 0 and that the directory is empty afterwards.
fn run_in_scratch(exe: &Path, engine: Option<&str>) -> String {
    let dir = scratch(exe.file_name().unwrap().to_str().unwrap());
    let d = dir.to_str().unwrap();
    let mut args = vec![d];
    if let Some(e) = engine {
        args.push(e);
    }
    let r = run(exe, &args);
    assert!(r.ok, "{} failed:\n{}\n{}", exe.display(), r.stdout, r.stderr);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "{} left files behind: {left:?}", exe.display());
    let _ = std::fs::remove_dir_all(&dir);
    r.stdout
}

/// Every `[engine] line` must appear as a whole output line.
fn expect_lines(out: &str, engines: &[&str], lines: &[&str]) {
    let all: Vec<&str> = out.lines().collect();
    for e in engines {
        for l in lines {
            let want = format!("[{e}] {l}");
            assert!(all.contains(&want.as_str()), "missing line {want:?} in output:\n{out}");
        }
    }
}

fn count_lines(out: &str, line: &str) -> usize {
    out.lines().filter(|l| *l == line).count()
}

fn closing_line(out: &str, engines: usize) {
    let want = format!("all checks passed on {engines} engine(s)");
    assert_eq!(out.lines().last(), Some(want.as_str()), "output:\n{out}");
}

// ----------------------------------------------------------------------
// What each example must print.

const RAFT: &[&str] = &[
    "AppendEntries(prev 0/term 0, 3 entries): accepted, last index 3",
    "AppendEntries(prev 3/term 1, 2 entries): accepted, last index 5",
    "conflict at index 4 (have term 2, leader term 3): truncating 4..",
    "AppendEntries(prev 3/term 1, 3 entries): accepted, last index 6",
    "AppendEntries(prev 7/term 3): rejected, no entry 7 with term 3",
    "AppendEntries(prev 6/term 2): rejected, no entry 6 with term 2",
    "kvidxInsert at index 4 refused: Duplicate key",
    "last log index 6, last term 3",
    "state machine after applying up to 5: x=2 y=2",
    "state machine after applying up to 6: x=2 y=2 z=3",
    "compacted through index 3: log now holds 4..6",
    "reopened: entries 4..6, last term 3",
    "raft log OK",
];

fn check_raft(out: &str, engines: &[&str]) {
    expect_lines(out, engines, RAFT);
    for e in engines {
        // One conflict (the retransmission finds none); the resend is accepted too.
        assert_eq!(
            count_lines(out, &format!("[{e}] conflict at index 4 (have term 2, leader term 3): truncating 4..")),
            1
        );
        assert_eq!(
            count_lines(out, &format!("[{e}] AppendEntries(prev 3/term 1, 3 entries): accepted, last index 6")),
            2
        );
    }
}

const QUEUE: &[&str] = &[
    "enqueued 4 messages",
    "worker-A received message 1 (type 1, delivery 1): send welcome mail to alice",
    "worker-B received message 2 (type 2, delivery 1): resize avatar 17",
    "worker-A acknowledged message 1",
    "worker-A received message 3 (type 1, delivery 1): send welcome mail to bob",
    "worker-A acknowledged message 3",
    "queue: 2 message(s), 1 in flight",
    "queue: 2 message(s), 0 in flight",
    "expire scan reclaimed 1 lease(s)",
    "worker-C received message 2 (type 2, delivery 2): resize avatar 17",
    "worker-B: ack of message 2 refused: lease held by worker-C",
    "worker-C acknowledged message 2",
    "worker-A received message 4 (type 2, delivery 1): rebuild search index",
    "worker-A acknowledged message 4",
    "worker-A: no visible message",
    "queue: 0 message(s), 0 in flight",
    "message queue OK",
];

fn check_queue(out: &str, engines: &[&str]) {
    expect_lines(out, engines, QUEUE);
    for e in engines {
        let prefix = format!("[{e}] worker-B stops responding; waiting ");
        assert!(out.lines().any(|l| l.starts_with(&prefix)), "no wait line for {e}:\n{out}");
    }
}

const SESSIONS: &[&str] = &[
    "created 3 sessions with a 600 ms TTL",
    "second session with alice's id refused: Condition not met",
    "carol: no expiry",
    "bob: absent",
    "InsertXX on bob's expired session: Condition not met",
    "2 live sessions",
    "expire scan reclaimed 1 session(s)",
    "alice logged out (session data was \"user=alice;cart=3\")",
    "id reused for a new session: no expiry until one is set",
    "2 sessions stored, 19 bytes of session data",
    "session store OK",
];

fn check_sessions(out: &str, engines: &[&str]) {
    expect_lines(out, engines, SESSIONS);
    for e in engines {
        let refreshed = format!("[{e}] alice refreshed (");
        assert!(out.lines().any(|l| l.starts_with(&refreshed) && l.ends_with(" ms left); bob untouched")));
    }
}

const SERIES: &[&str] = &[
    "ingested 360 samples in 6 batches",
    "late batch stopped after 1 sample(s): Insert: key 1699999800000 already exists",
    "+15:00..+20:00: 31 samples, min 19.50, max 21.00, avg 20.250",
    "as of +15:05: sample at +15:00 = 19.50",
    "latest sample at +60:10 = 33.05",
    "bucket +00:00: 60 samples, avg 16.475",
    "bucket +10:00: 60 samples, avg 19.475",
    "bucket +20:00: 60 samples, avg 22.475",
    "bucket +30:00: 60 samples, avg 25.475",
    "bucket +40:00: 60 samples, avg 28.475",
    "bucket +50:00: 60 samples, avg 31.475",
    "bucket +60:00:  2 samples, avg 33.025",
    "retention: removed 180 samples before +30:00; oldest now +30:00",
    "stats: 182 samples, 1456 value bytes",
    "time series OK",
];

fn check_series(out: &str, engines: &[&str]) {
    expect_lines(out, engines, SERIES);
}

fn checker(name: &str) -> fn(&str, &[&str]) {
    match name {
        "raft_log" => check_raft,
        "message_queue" => check_queue,
        "session_store" => check_sessions,
        "timeseries" => check_series,
        _ => unreachable!(),
    }
}

/// Every engine of the registry, in one run.
fn every_engine(name: &str, link: Link) {
    let exe = build(name, link, "all");
    let out = run_in_scratch(&exe, None);
    checker(name)(&out, ENGINES);
    closing_line(&out, ENGINES.len());
    assert!(!out.contains("FAILED"), "output:\n{out}");
}

/// One engine named on the command line (case-insensitive, as the registry).
fn one_engine(name: &str, arg: &str, engine: &str) {
    let exe = build(name, Link::Static, &format!("one-{engine}"));
    let out = run_in_scratch(&exe, Some(arg));
    checker(name)(&out, &[engine]);
    for other in ENGINES.iter().filter(|e| **e != engine) {
        assert!(!out.contains(&format!("[{other}]")), "{other} ran although {arg} was asked for:\n{out}");
    }
    closing_line(&out, 1);
}

/// Without arguments: a scratch directory of its own, removed at exit.
fn default_scratch(name: &str) {
    let exe = build(name, Link::Shared, "noargs");
    let r = run(&exe, &[]);
    assert!(r.ok, "{name} failed:\n{}\n{}", r.stdout, r.stderr);
    let first = r.stdout.lines().next().unwrap_or("");
    let dir = first.strip_prefix("scratch directory ").unwrap_or_else(|| panic!("first line {first:?}"));
    assert!(!Path::new(dir).exists(), "{name} left {dir} behind");
    checker(name)(&r.stdout, ENGINES);
    closing_line(&r.stdout, ENGINES.len());
}

macro_rules! example_tests {
    ($($name:ident),* $(,)?) => {
        mod static_lib { $( #[test] fn $name() { super::every_engine(stringify!($name), super::Link::Static) } )* }
        mod shared_lib { $( #[test] fn $name() { super::every_engine(stringify!($name), super::Link::Shared) } )* }
        mod default_scratch { $( #[test] fn $name() { super::default_scratch(stringify!($name)) } )* }
        const EXAMPLES: &[&str] = &[$(stringify!($name)),*];
    };
}

example_tests!(raft_log, message_queue, session_store, timeseries);

#[test]
fn raft_log_on_lmdb_only() {
    one_engine("raft_log", "lmdb", "LMDB");
}

#[test]
fn timeseries_on_sqlite_only() {
    one_engine("timeseries", "sqlite3", "SQLite3");
}

#[test]
fn session_store_on_sqlite_only() {
    one_engine("session_store", "SQLite3", "SQLite3");
}

#[test]
fn message_queue_on_lmdb_only() {
    one_engine("message_queue", "LMDB", "LMDB");
}

#[cfg(feature = "rocksdb")]
#[test]
fn session_store_on_rocksdb_only() {
    one_engine("session_store", "rocksdb", "RocksDB");
}

#[test]
fn unknown_engine_fails() {
    let exe = build("raft_log", Link::Static, "unknown");
    let dir = scratch("example-unknown-engine");
    let r = run(&exe, &[dir.to_str().unwrap(), "BerkeleyDB"]);
    assert!(!r.ok, "an unknown engine must fail:\n{}", r.stdout);
    assert!(r.stderr.contains("no engine named BerkeleyDB"), "stderr:\n{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every examples/*.c program except the `make` demo is covered above.
#[test]
fn every_example_is_tested() {
    for e in std::fs::read_dir(project_dir().join("examples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "c") {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
            assert!(stem == "demo" || EXAMPLES.contains(&stem.as_str()), "examples/{stem}.c is not tested");
        }
    }
}
