//! Engine-level reliability defects of issue 10, each with the test that
//! showed it: concurrent creation of an LMDB directory (3), opening while
//! another process grows the map (4), fork() without exec (6), "no space"
//! reported as DISK_FULL on every engine (9) and TTL changes made by
//! another process or connection (10); and an iterator whose next read
//! takes in another process's damaging commit.
#![cfg(all(feature = "sqlite", feature = "lmdb"))]

mod common;
#[path = "support/proc.rs"]
mod proc;
#[path = "support/raw_lmdb.rs"]
mod raw_lmdb;
#[path = "support/shim.rs"]
mod shim;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::now_ms;
use kvidxkit::{Config, Engine, ErrorCode, Lmdb, Sqlite, Store, SyncMode, Ttl};

/// Dispatches the child roles of this binary (see support/proc.rs).
#[test]
fn child_role() {
    if let Some(r) = proc::role() {
        let code = match r.name.as_str() {
            "open-lmdb" => role_open_lmdb(&r),
            "grow-lmdb" => role_grow_lmdb(&r),
            "reopen-lmdb" => role_reopen_lmdb(&r),
            "fsize" => role_fsize(&r),
            "shim" => role_shim(&r),
            "ttl-writer-lmdb" => role_ttl_writer(&r),
            "edit-lmdb" => role_edit_lmdb(&r),
            "damage-ttl-lmdb" => role_damage_ttl_lmdb(&r),
            other => {
                eprintln!("unknown role {other}");
                90
            }
        };
        std::process::exit(code);
    }
}

// ----------------------------------------------------------------------
// Defect 3: several processes open an LMDB directory that does not exist yet.

/// Child: waits for the start file, opens the directory, inserts its pid.
fn role_open_lmdb(r: &proc::Role) -> i32 {
    let (dir, start) = (PathBuf::from(r.arg(0)), PathBuf::from(r.arg(1)));
    while !start.exists() {
        std::hint::spin_loop();
    }
    match Store::<Lmdb>::open(&dir) {
        Ok(mut s) => match s.insert(std::process::id() as u64, 0, 0, b"x") {
            Ok(()) => 0,
            Err(e) => {
                println!("@@insert failed: {e}");
                1
            }
        },
        Err(e) => {
            println!("@@open failed ({:?}): {e}", e.code());
            1
        }
    }
}

#[test]
fn lmdb_processes_creating_the_same_directory_all_open_it() {
    let base = common::scratch("lmdb-mkdir");
    const PROCS: usize = 6;
    const ROUNDS: usize = 8;
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let dir = base.join(format!("env-{round}"));
        let start = base.join(format!("start-{round}"));
        let children: Vec<_> = (0..PROCS)
            .map(|_| {
                let mut c = proc::command("open-lmdb", &[dir.to_str().unwrap(), start.to_str().unwrap()]);
                c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150));
        std::fs::write(&start, b"go").unwrap();
        for c in children {
            let o = proc::wait_limited(c, Duration::from_secs(30));
            if !o.ok() {
                failures.push(format!("round {round}: {} {:?}", o.describe(), o.lines_with("@@")));
            }
        }
        assert!(
            failures.is_empty(),
            "processes failed to open a directory created concurrently:\n{}",
            failures.join("\n")
        );
        let mut s = Store::<Lmdb>::open(&dir).unwrap();
        assert_eq!(s.key_count().unwrap(), PROCS as u64, "round {round}: every process inserted");
    }
}

/// The same race between threads of one process: every thread but the one
/// that holds the environment gets LOCKED ("already open in this process"),
/// never an error about creating the directory.
#[test]
fn lmdb_threads_creating_the_same_directory_get_locked_not_io() {
    let base = common::scratch("lmdb-mkdir-threads");
    for round in 0..40 {
        let dir = Arc::new(base.join(format!("env-{round}")));
        let barrier = Arc::new(Barrier::new(6));
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let (dir, barrier) = (dir.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    match Store::<Lmdb>::open(&*dir) {
                        Ok(s) => {
                            // Hold it until every thread has tried.
                            std::thread::sleep(Duration::from_millis(20));
                            drop(s);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                })
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join().unwrap() {
                assert_eq!(e.code(), ErrorCode::Locked, "round {round}: {e}");
            }
        }
    }
}

// ----------------------------------------------------------------------
// Defect 4: opening while another process grows the map.

/// Child: grows the environment (small initial map, 512-byte values, a
/// commit each: a new page every few commits) until the stop file appears,
/// the time is up or it holds 60 000 entries (about 35 MB).
fn role_grow_lmdb(r: &proc::Role) -> i32 {
    let (dir, stop) = (PathBuf::from(r.arg(0)), PathBuf::from(r.arg(1)));
    let cfg = Config { mmap_size_bytes: 64 << 10, sync_mode: SyncMode::Off, ..Config::default() };
    let mut s = Store::<Lmdb>::open_with_config(&dir, &cfg).expect("grower open");
    let v = vec![7u8; 512];
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut k = 1_000_000u64;
    while !stop.exists() && Instant::now() < deadline && k < 1_000_000 + 60_000 {
        if let Err(e) = s.insert(k, 0, 0, &v) {
            println!("@@grower insert failed: {e}");
            return 1;
        }
        k += 1;
    }
    println!("@@grew by {} entries", k - 1_000_000);
    0
}

/// Child: opens the environment `n` times with a map far smaller than it
/// becomes (so that a commit of the grower between LMDB's open and the
/// first transaction needs the new size), reads, closes. Prints each failure.
fn role_reopen_lmdb(r: &proc::Role) -> i32 {
    let (dir, n) = (PathBuf::from(r.arg(0)), r.arg(1).parse::<usize>().unwrap());
    let cfg = Config { mmap_size_bytes: 64 << 10, ..Config::default() };
    let mut failed = 0;
    for _ in 0..n {
        let r = Store::<Lmdb>::open_with_config(&dir, &cfg).and_then(|mut s| {
            s.get(1)?;
            s.count_range(1_000_000..=u64::MAX)?;
            s.insert(2, 0, 0, b"x").or_else(|e| if e.code() == ErrorCode::DuplicateKey { Ok(()) } else { Err(e) })
        });
        if let Err(e) = r {
            failed += 1;
            println!("@@{:?} {e}", e.code());
        }
    }
    println!("@@done {failed} of {n} failed");
    if failed == 0 { 0 } else { 1 }
}

#[test]
fn lmdb_open_adopts_a_map_another_process_is_growing() {
    let base = common::scratch("lmdb-resized-open");
    let dir = base.join("env");
    let stop = base.join("stop");
    {
        let mut s = Store::<Lmdb>::open(&dir).unwrap();
        s.insert(1, 1, 1, b"one").unwrap();
    }
    let mut c = proc::command("grow-lmdb", &[dir.to_str().unwrap(), stop.to_str().unwrap()]);
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let grower = c.spawn().unwrap();
    // The opener's LMDB locks are delayed (LD_PRELOAD shim) so that the
    // grower commits between its steps, as a slower machine would.
    let mut c = proc::command("reopen-lmdb", &[dir.to_str().unwrap(), "60"]);
    c.env("LD_PRELOAD", shim::shim()).env("KVIDX_SHIM_MUTEX_DELAY_US", "300");
    let opener = proc::run_limited(c, Duration::from_secs(60));
    std::fs::write(&stop, b"stop").unwrap();
    let g = proc::wait_limited(grower, Duration::from_secs(30));
    assert!(g.ok(), "grower: {} {}", g.describe(), g.stdout);
    assert!(
        opener.ok(),
        "opens and reads failed while another process grew the map ({}; grower: {:?}):\n{}",
        opener.describe(),
        g.lines_with("@@"),
        opener.lines_with("@@").join("\n")
    );
}

/// Child: opens the environment, inserts the keys of argument 1 and removes
/// those of argument 2 (comma-separated), one commit each.
fn role_edit_lmdb(r: &proc::Role) -> i32 {
    let keys = |a: &str| -> Vec<u64> { a.split(',').filter(|k| !k.is_empty()).map(|k| k.parse().unwrap()).collect() };
    let mut s = match Store::<Lmdb>::open(r.arg(0)) {
        Ok(s) => s,
        Err(e) => {
            println!("@@open failed: {e}");
            return 1;
        }
    };
    for k in keys(r.arg(1)) {
        if let Err(e) = s.insert(k, k, 0, b"child") {
            println!("@@insert {k} failed: {e}");
            return 1;
        }
    }
    for k in keys(r.arg(2)) {
        if let Err(e) = s.remove(k) {
            println!("@@remove {k} failed: {e}");
            return 1;
        }
    }
    0
}

/// Reads outside a transaction keep LMDB's read cursor where the last one
/// left it (a GetNext from the key just returned is one step; a read near
/// the previous one starts on its leaf page). When another process commits
/// in between, the next read takes the new snapshot and searches again.
#[test]
fn lmdb_kept_read_cursor_follows_another_process_commits() {
    let dir = common::scratch("lmdb-cursor-xproc").join("env");
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    for k in (10..2_000u64).step_by(10) {
        s.insert(k, k, 0, b"parent").unwrap();
    }
    let edit = |ins: &str, del: &str| {
        let o =
            proc::run_limited(proc::command("edit-lmdb", &[dir.to_str().unwrap(), ins, del]), Duration::from_secs(60));
        assert!(o.ok(), "child: {} {}", o.describe(), o.stdout);
    };
    // A GetNext chain, then the other process adds the key after the one
    // the cursor rests on and removes the one after that.
    assert_eq!(s.next(995).unwrap().map(|e| e.key), Some(1000));
    edit("1005", "1010");
    let e = s.next(1000).unwrap().unwrap();
    assert_eq!((e.key, e.data), (1005, &b"child"[..]));
    assert_eq!(s.next(1005).unwrap().map(|e| e.key), Some(1020));
    assert_eq!(s.prev(1020).unwrap().map(|e| e.key), Some(1005));
    // Point reads of neighbouring keys, with a commit elsewhere between two.
    assert!(s.get(1020).unwrap().is_some());
    edit("1021,1022", "1030");
    assert_eq!(s.get(1021).unwrap().map(|e| e.data.to_vec()), Some(b"child".to_vec()));
    assert!(s.get(1030).unwrap().is_none());
    assert!(s.exists(1022).unwrap());
    assert_eq!(s.next(1022).unwrap().map(|e| e.key), Some(1040));
    assert_eq!(s.count_range(1000..=1040).unwrap(), 6); // 1000 1005 1020 1021 1022 1040
}

// ----------------------------------------------------------------------
// Defect 6: fork() without exec (a C program: the pattern is a C one).

#[test]
fn a_forked_child_can_open_what_the_parent_closed() {
    let src = common::project_dir().join("tests-c/engine/fork.c");
    for link in [common::Link::Static, common::Link::Shared] {
        let exe = common::compile_c(std::slice::from_ref(&src), "engine_fork", link, &["-Werror"])
            .unwrap_or_else(|e| panic!("{e}"));
        let out = common::run_c(&exe, &[]);
        assert!(out.lines().last().unwrap_or("").ends_with(" 0 failed"), "{out}");
    }
}

// ----------------------------------------------------------------------
// Defect 5 through the C API: the original's exact symptoms (an endless
// iterator with lastError "Success", GetNext(0) returning 0, an export of
// garbage reported as success). The full sweep is tests/damage.rs.

#[test]
fn a_damaged_lmdb_environment_through_the_c_api() {
    let src = common::project_dir().join("tests-c/engine/damaged.c");
    for link in [common::Link::Static, common::Link::Shared] {
        let exe = common::compile_c(std::slice::from_ref(&src), "engine_damaged", link, &["-Werror"])
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = common::scratch("engine-damaged");
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg(&dir);
        let o = proc::run_limited(cmd, Duration::from_secs(60));
        assert!(o.ok(), "{link:?}: {}\n{}{}", o.describe(), o.stdout, o.stderr);
        assert!(o.stdout.lines().last().unwrap_or("").ends_with(" 0 failed"), "{}", o.stdout);
    }
}

// ----------------------------------------------------------------------
// Defect 9: every "no space" condition is DISK_FULL, on every engine.

/// The engines of the "no space" tests (RocksDB in a build with it).
const SPACE_ENGINES: &[&str] =
    if cfg!(feature = "rocksdb") { &["lmdb", "sqlite", "rocksdb"] } else { &["lmdb", "sqlite"] };

fn open_any(engine: &str, dir: &Path) -> Box<dyn AnyStore> {
    match engine {
        "lmdb" => Box::new(Store::<Lmdb>::open(dir.join("db")).expect("open")),
        #[cfg(feature = "rocksdb")]
        "rocksdb" => Box::new(Store::<kvidxkit::engines::Rocksdb>::open(dir.join("db")).expect("open")),
        _ => Box::new(Store::<Sqlite>::open(dir.join("db.sqlite3")).expect("open")),
    }
}

/// The few calls the child roles need, on either engine.
trait AnyStore {
    fn insert(&mut self, k: u64, v: &[u8]) -> kvidxkit::Result<()>;
    fn big_txn(&mut self, first: u64, n: u64, v: &[u8]) -> kvidxkit::Result<()>;
    fn exists(&mut self, k: u64) -> kvidxkit::Result<bool>;
    fn in_txn(&self) -> bool;
}

impl<E: Engine> AnyStore for Store<E> {
    fn insert(&mut self, k: u64, v: &[u8]) -> kvidxkit::Result<()> {
        Store::insert(self, k, 0, 0, v)
    }
    fn big_txn(&mut self, first: u64, n: u64, v: &[u8]) -> kvidxkit::Result<()> {
        self.begin()?;
        for k in first..first + n {
            if let Err(e) = Store::insert(self, k, 0, 0, v) {
                let _ = self.abort();
                return Err(e);
            }
        }
        self.commit()
    }
    fn exists(&mut self, k: u64) -> kvidxkit::Result<bool> {
        Store::exists(self, k)
    }
    fn in_txn(&self) -> bool {
        self.in_transaction()
    }
}

/// The files whose growth a commit writes to.
fn data_files(engine: &str, dir: &Path) -> Vec<PathBuf> {
    match engine {
        "lmdb" => vec![dir.join("db/data.mdb")],
        // The write-ahead logs (what a commit appends to).
        "rocksdb" => std::fs::read_dir(dir.join("db"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect(),
        _ => vec![dir.join("db.sqlite3"), dir.join("db.sqlite3-wal")],
    }
}

/// Child: populates, then limits the file size (RLIMIT_FSIZE, SIGXFSZ
/// ignored) at the current size ("at") or just past it ("cross": a short
/// write) and commits 2 MiB. Prints the error code of the commit.
fn role_fsize(r: &proc::Role) -> i32 {
    let (engine, dir, mode) = (r.arg(0), PathBuf::from(r.arg(1)), r.arg(2));
    let mut s = open_any(engine, &dir);
    let v = vec![0x42u8; 1000];
    for k in 0..200 {
        s.insert(k, &v).unwrap();
    }
    let size =
        data_files(engine, &dir).iter().map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).max().unwrap();
    let limit = if mode == "at" { size } else { size + 100 };
    // SAFETY: plain libc calls in a single-threaded child.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let rl = libc::rlimit { rlim_cur: limit, rlim_max: libc::RLIM_INFINITY };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &rl), 0);
    }
    let r = s.big_txn(10_000, 500, &vec![0x43u8; 4000]);
    match r {
        Ok(()) => println!("@@code=OK"),
        Err(e) => println!("@@code={:?} in_txn={} msg={e}", e.code(), s.in_txn()),
    }
    0
}

#[test]
fn a_file_size_limit_is_disk_full() {
    let mut bad = Vec::new();
    for &engine in SPACE_ENGINES {
        for mode in ["at", "cross"] {
            let dir = common::scratch(&format!("fsize-{engine}-{mode}"));
            let o = proc::run_limited(
                proc::command("fsize", &[engine, dir.to_str().unwrap(), mode]),
                Duration::from_secs(60),
            );
            let line = o.lines_with("@@code=").join(" ");
            if !o.ok() || !line.starts_with("DiskFull in_txn=false") {
                bad.push(format!("{engine} {mode}: {} {line} {}", o.describe(), o.stderr.lines().last().unwrap_or("")));
            }
        }
    }
    assert!(bad.is_empty(), "a file-size limit must be DISK_FULL (transaction rolled back):\n{}", bad.join("\n"));
}

/// Child (run with the shim preloaded): arms the shim to fail `what`
/// ("write" or "sync") with `errno`, commits one insert, prints the code,
/// disarms and checks the store still works.
fn role_shim(r: &proc::Role) -> i32 {
    let (engine, dir, what, errno) = (r.arg(0), PathBuf::from(r.arg(1)), r.arg(2), r.arg(3));
    let mut s = open_any(engine, &dir);
    s.insert(1, b"before").unwrap();
    // SAFETY: single-threaded child; the shim reads the variable per call.
    unsafe { std::env::set_var("KVIDX_SHIM_FAIL", format!("{what}={errno}")) };
    let r = s.big_txn(100, 20, &[0x55u8; 3000]);
    unsafe { std::env::remove_var("KVIDX_SHIM_FAIL") };
    match r {
        Ok(()) => println!("@@code=OK"),
        Err(e) => println!("@@code={:?} in_txn={} msg={e}", e.code(), s.in_txn()),
    }
    let after = s.insert(2, b"after").and_then(|_| s.exists(1));
    println!("@@after={after:?}");
    0
}

#[test]
fn no_space_errors_are_disk_full_and_io_errors_stay_io() {
    let so = shim::shim();
    let mut bad = Vec::new();
    let cases = [
        ("write", libc::ENOSPC, "DiskFull"),
        ("write", libc::EDQUOT, "DiskFull"),
        ("write", libc::EFBIG, "DiskFull"),
        ("sync", libc::ENOSPC, "DiskFull"),
        ("sync", libc::EDQUOT, "DiskFull"),
        ("write", libc::EIO, "Io"),
        ("sync", libc::EIO, "Io"),
    ];
    for &engine in SPACE_ENGINES {
        for (what, errno, want) in cases {
            let dir = common::scratch(&format!("shim-{engine}-{what}-{errno}"));
            let mut c = proc::command("shim", &[engine, dir.to_str().unwrap(), what, &errno.to_string()]);
            c.env("LD_PRELOAD", &so);
            let o = proc::run_limited(c, Duration::from_secs(60));
            let code = o.lines_with("@@code=").join(" ");
            let after = o.lines_with("@@after=").join(" ");
            // RocksDB takes no more writes after a failed one until the
            // directory is reopened (docs/engine-rocksdb.md): the same code.
            let after_ok =
                if engine == "rocksdb" { after.starts_with(&format!("Err({want}(")) } else { after == "Ok(true)" };
            if !o.ok() || !code.starts_with(&format!("{want} in_txn=false")) || !after_ok {
                bad.push(format!("{engine} {what}={errno}: want {want}: {} code={code} after={after}", o.describe()));
            }
        }
    }
    assert!(bad.is_empty(), "failed writes and syncs:\n{}", bad.join("\n"));
}

// ----------------------------------------------------------------------
// Defect 10: TTLs set or removed by another process (LMDB) or another
// connection (SQLite with a shared VFS) are seen without reopening.

/// Child: on the LMDB environment the parent holds open, expires key 1,
/// gives key 2 a TTL an hour ahead, persists key 3, removes and re-inserts
/// key 4 (no TTL), removes key 6 with a range remove.
fn role_ttl_writer(r: &proc::Role) -> i32 {
    let dir = PathBuf::from(r.arg(0));
    let mut s = Store::<Lmdb>::open(&dir).expect("writer open");
    ttl_writes(&mut s);
    0
}

fn ttl_writes<E: Engine>(s: &mut Store<E>) {
    s.expire_at(1, std::time::UNIX_EPOCH + std::time::Duration::from_millis(now_ms() - 1000)).unwrap();
    s.expire_in(2, std::time::Duration::from_millis(3_600_000)).unwrap();
    s.persist(3).unwrap();
    s.remove(4).unwrap();
    s.insert(4, 4, 4, b"again").unwrap();
    s.remove_range(6..=6).unwrap();
}

fn ttl_setup<E: Engine>(s: &mut Store<E>) {
    for k in 1..=6u64 {
        s.insert(k, k, k, b"v").unwrap();
    }
    s.expire_in(3, std::time::Duration::from_millis(300)).unwrap();
    s.expire_in(4, std::time::Duration::from_millis(300)).unwrap();
    s.expire_in(6, std::time::Duration::from_millis(3_600_000)).unwrap();
    // The reader has looked at everything once (any cache is warm).
    assert_eq!(s.key_count().unwrap(), 6);
}

/// What the long-running reader must see once the other writer is done and
/// the 300 ms TTLs it removed would have passed.
fn ttl_check<E: Engine>(s: &mut Store<E>) -> Vec<String> {
    std::thread::sleep(Duration::from_millis(350));
    let mut bad = Vec::new();
    let mut expect = |what: &str, ok: bool| {
        if !ok {
            bad.push(what.to_string());
        }
    };
    expect("key 1 expired elsewhere: Get misses it", s.get(1).unwrap().is_none());
    expect("key 1: Exists false", !s.exists(1).unwrap());
    expect("key 1: GetTTL not found", s.ttl(1).unwrap() == Ttl::NotFound);
    expect("key 2: TTL set elsewhere", matches!(s.ttl(2).unwrap(), Ttl::Remaining(d) if d.as_millis() > 3_000_000));
    expect("key 3 persisted elsewhere: still live", s.get(3).unwrap().is_some());
    expect("key 3: persistent", s.ttl(3).unwrap() == Ttl::Persistent);
    expect("key 4 re-inserted elsewhere: live", s.get(4).unwrap().map(|e| e.data.to_vec()) == Some(b"again".to_vec()));
    expect("key 4: persistent", s.ttl(4).unwrap() == Ttl::Persistent);
    expect("key 6 removed elsewhere: gone", s.get(6).unwrap().is_none());
    let keys: Vec<u64> = s.range(0..=u64::MAX).map(|e| e.unwrap().key).collect();
    expect(&format!("iterator sees 2 3 4 5, got {keys:?}"), keys == [2, 3, 4, 5]);
    expect("GetNext(0) is 2", s.next(0).unwrap().map(|e| e.key) == Some(2));
    expect("count 4", s.key_count().unwrap() == 4);
    expect("CountRange(1, 4) is 3", s.count_range(1..=4).unwrap() == 3);
    expect("ExpireScan reclaims key 1", s.expire_scan(0).unwrap() == 1);
    expect("TTL count is 1 (key 2)", s.ttl_count() == 1);
    bad
}

#[test]
fn lmdb_ttl_changes_by_another_process_are_seen() {
    let dir = common::scratch("ttl-xproc").join("env");
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    ttl_setup(&mut s);
    let o = proc::run_limited(proc::command("ttl-writer-lmdb", &[dir.to_str().unwrap()]), Duration::from_secs(30));
    assert!(o.ok(), "writer: {} {}", o.describe(), o.stderr);
    let bad = ttl_check(&mut s);
    assert!(bad.is_empty(), "LMDB reader, TTLs changed by another process:\n{}", bad.join("\n"));
}

#[test]
fn sqlite_ttl_changes_by_another_connection_are_seen() {
    let path = common::scratch("ttl-xconn").join("db.sqlite3");
    let cfg = Config { vfs_name: Some("unix".into()), busy_timeout_ms: 5000, ..Config::default() };
    let mut s = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
    ttl_setup(&mut s);
    {
        let mut w = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
        ttl_writes(&mut w);
    }
    let bad = ttl_check(&mut s);
    assert!(bad.is_empty(), "SQLite reader (shared VFS), TTLs changed by another connection:\n{}", bad.join("\n"));
}

/// Within the caller's transaction the view is fixed at Begin, which
/// takes in what others committed before it.
#[test]
fn sqlite_begin_takes_in_other_connections_ttls() {
    let path = common::scratch("ttl-xconn-txn").join("db.sqlite3");
    let cfg = Config { vfs_name: Some("unix".into()), busy_timeout_ms: 5000, ..Config::default() };
    let mut s = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
    s.insert(1, 1, 1, b"v").unwrap();
    assert!(s.exists(1).unwrap());
    {
        let mut w = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
        w.expire_at(1, std::time::UNIX_EPOCH + std::time::Duration::from_millis(now_ms() - 10)).unwrap();
    }
    s.begin().unwrap();
    assert!(!s.exists(1).unwrap(), "expired by the other connection before Begin");
    // InsertNX treats the expired key as absent inside the transaction.
    s.insert_ex(1, 2, 2, b"new", kvidxkit::SetCondition::IfNotExists).unwrap();
    s.commit().unwrap();
    assert_eq!(s.get(1).unwrap().unwrap().data, b"new");
    assert_eq!(s.ttl(1).unwrap(), Ttl::Persistent);
}

// ----------------------------------------------------------------------
// An iterator whose next read takes in another process's (or connection's)
// commit, which damaged the file: a TTL record whose expiry is not a
// number. The read that takes it in fails with CORRUPT; the iterator must
// end with that error after the entries it returned, returning none of them
// again. (It returned its previous chunk as if read again: the Rust
// iterator then ended silently, the C iterator went back to the range's
// start; tests-c/sqlite_interop.c has the C side.)

/// Child: writes a TTL record of 3 bytes (LMDB's are 8) for key 3.
fn role_damage_ttl_lmdb(r: &proc::Role) -> i32 {
    raw_lmdb::put_raw(Path::new(r.arg(0)), c"_kvidx_ttl", 3, b"bad");
    0
}

fn iterator_meets_a_damaging_commit<E: Engine>(s: &mut Store<E>, damage: impl FnOnce()) {
    const N: u64 = 600;
    s.atomically(|t| (1..=N).try_for_each(|k| t.insert(k, k + 1, k + 2, &k.to_le_bytes()))).unwrap();
    let mut it = s.range(1..=N);
    // Past the first chunk (16 entries), inside the second.
    let mut keys: Vec<u64> = (&mut it).take(20).map(|e| e.unwrap().key).collect();
    damage();
    let mut end = None;
    for e in it {
        match e {
            Ok(e) => keys.push(e.key),
            Err(e) => {
                end = Some(e);
                break;
            }
        }
    }
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{}: keys came back out of order: {keys:?}", E::NAME);
    assert!(
        matches!(end, Some(kvidxkit::Error::Corrupt(_))),
        "{}: the iteration ended with {end:?} after {} keys",
        E::NAME,
        keys.len()
    );
}

#[test]
fn an_iterator_ends_with_the_error_of_a_damaging_commit_it_takes_in() {
    let path = common::scratch("iter-damage-xconn").join("db.sqlite3");
    let cfg = Config { vfs_name: Some("unix".into()), busy_timeout_ms: 5000, ..Config::default() };
    let mut s = Store::<Sqlite>::open_with_config(&path, &cfg).unwrap();
    iterator_meets_a_damaging_commit(&mut s, || {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute("INSERT INTO _kvidx_ttl (id, expires_at) VALUES (3, 'damaged')", []).unwrap();
    });

    let dir = common::scratch("iter-damage-xproc").join("env");
    let mut s = Store::<Lmdb>::open(&dir).unwrap();
    iterator_meets_a_damaging_commit(&mut s, || {
        let o = proc::run_limited(proc::command("damage-ttl-lmdb", &[dir.to_str().unwrap()]), Duration::from_secs(60));
        assert!(o.ok(), "child: {} {}{}", o.describe(), o.stdout, o.stderr);
    });
}
