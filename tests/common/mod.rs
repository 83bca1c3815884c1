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
    cmd.arg("-I").arg(project_dir().join("include"));
    cmd.arg("-I").arg(project_dir().join("tests-c"));
    cmd.args(sources);
    match link {
        Link::Static => {
            cmd.arg(lib.join("libkvidxkit.a"));
            cmd.args(["-lm", "-lpthread", "-ldl"]);
        }
        Link::Shared => {
            cmd.arg(format!("-L{}", lib.display()));
            cmd.arg("-lkvidxkit");
            cmd.arg(format!("-Wl,-rpath,{}", lib.display()));
            // DT_RPATH, not DT_RUNPATH: the library this run built wins over
            // LD_LIBRARY_PATH (cargo puts target/release, which may hold an
            // older build, on it).
            cmd.arg("-Wl,--disable-new-dtags");
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
