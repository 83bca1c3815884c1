//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh scratch directory under target/tmp, unique per call.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Directory holding the libkvidxkit.a / .so that this test run built.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_path_buf()
}

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Static,
    Shared,
}

/// What a program linking the static library of a RocksDB build adds: the
/// system RocksDB and the C++ runtime it needs.
pub const ROCKSDB_STATIC_LIBS: &[&str] = &["-lrocksdb", "-lstdc++"];

/// The engines of this build's registry, in registry order.
pub const ENGINES: &[&str] =
    if cfg!(feature = "rocksdb") { &["SQLite3", "LMDB", "RocksDB"] } else { &["SQLite3", "LMDB"] };

/// Compiles C sources against the library and returns the executable.
pub fn compile_c(sources: &[PathBuf], name: &str, link: Link, extra: &[&str]) -> Result<PathBuf, String> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cbin");
    std::fs::create_dir_all(&out).unwrap();
    let exe = out.join(format!("{name}-{}", if link == Link::Static { "static" } else { "shared" }));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let lib = lib_dir();
    let mut cmd = std::process::Command::new(cc);
    cmd.args(["-std=c99", "-Wall", "-Wextra", "-pedantic", "-D_DEFAULT_SOURCE", "-O1", "-g"]);
    cmd.args(extra);
    // A RocksDB build: the programs see kvidxInterfaceRocksdb (as pkg-config
    // and CMake give a RocksDB build's consumers).
    if cfg!(feature = "rocksdb") {
        cmd.arg("-DKVIDXKIT_HAS_ROCKSDB=1");
    }
    cmd.arg("-I").arg(include_dir());
    cmd.arg("-I").arg(project_dir().join("tests-c"));
    cmd.args(sources);
    // A system-SQLite build: the programs that call SQLite link the system's.
    let sqlite: &[&str] = if cfg!(feature = "system-sqlite") { &["-lsqlite3"] } else { &[] };
    match link {
        Link::Static => {
            cmd.arg(lib.join("libkvidxkit.a"));
            // cargo's archive holds all of rusqlite, some of which a system
            // SQLite may lack; unreferenced code must not need it.
            cmd.arg("-Wl,--gc-sections");
            cmd.args(sqlite);
            if cfg!(feature = "rocksdb") {
                cmd.args(ROCKSDB_STATIC_LIBS);
            }
            cmd.args(["-lm", "-lpthread", "-ldl"]);
        }
        Link::Shared => {
            soname_link(&lib);
            cmd.arg(format!("-L{}", lib.display()));
            cmd.arg("-lkvidxkit");
            cmd.arg(format!("-Wl,-rpath,{}", lib.display()));
            // DT_RPATH, not DT_RUNPATH: the library this run built wins over
            // LD_LIBRARY_PATH (cargo puts target/release, which may hold an
            // older build, on it).
            cmd.arg("-Wl,--disable-new-dtags");
            cmd.args(sqlite);
            cmd.arg("-lpthread");
        }
    }
    cmd.arg("-o").arg(&exe);
    let o = cmd.output().map_err(|e| format!("cannot run the C compiler: {e}"))?;
    if !o.status.success() {
        return Err(format!("compile of {name} failed:\n{}", String::from_utf8_lossy(&o.stderr)));
    }
    Ok(exe)
}

/// The headers the C programs compile against: include/, except that a
/// system-SQLite build must not see the bundled sqlite3.h kept there (a copy
/// of the kvidxkit headers alone, so <sqlite3.h> is the system's).
pub fn include_dir() -> PathBuf {
    let inc = project_dir().join("include");
    if !cfg!(feature = "system-sqlite") {
        return inc;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("include-system-sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(&inc).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("kvidxkit") && name.ends_with(".h") {
            // Written whole then renamed: tests compile in parallel.
            static COPY: AtomicUsize = AtomicUsize::new(0);
            let tmp = dir.join(format!("{name}.{}.{}", std::process::id(), COPY.fetch_add(1, Ordering::Relaxed)));
            std::fs::copy(&p, &tmp).unwrap();
            std::fs::rename(&tmp, dir.join(&name)).unwrap();
        }
    }
    dir
}

/// The shared library's SONAME, `libkvidxkit.so.<abi-version>` (Cargo.toml).
pub fn soname() -> String {
    let manifest = std::fs::read_to_string(project_dir().join("Cargo.toml")).unwrap();
    let abi = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("abi-version"))
        .and_then(|rest| rest.split('"').nth(1))
        .expect("abi-version in Cargo.toml");
    format!("libkvidxkit.so.{abi}")
}

/// A program linked with the shared library needs the file its SONAME
/// names; in a build directory that is a symbolic link to libkvidxkit.so.
fn soname_link(lib: &Path) {
    let link = lib.join(soname());
    if std::fs::symlink_metadata(&link).is_err() {
        // Several tests may race to create it: any of them succeeding is fine.
        let _ = std::os::unix::fs::symlink("libkvidxkit.so", &link);
    }
}

/// Runs a compiled C program with a scratch directory; panics with its
/// output unless it exits 0. Returns its standard output.
pub fn run_c(exe: &Path, args: &[&str]) -> String {
    let dir = scratch(exe.file_name().unwrap().to_str().unwrap());
    let o = std::process::Command::new(exe).arg(&dir).args(args).output().expect("run C program");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{} failed ({}):\n{stdout}\n{stderr}", exe.display(), o.status);
    let _ = std::fs::remove_dir_all(&dir);
    stdout
}

/// Current time in Unix milliseconds, the clock of expiry times.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Deterministic pseudo-random numbers (xorshift64; the seed must not be 0).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
