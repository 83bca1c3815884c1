//! Compiles every C test program in tests-c/ (with -Werror) and runs it
//! against the static and the shared library this run built. Each program
//! counts its checks and exits non-zero on any failure.
#![cfg(feature = "capi")]

mod common;

use common::{Link, compile_c, project_dir, run_c};

fn c_program(name: &str, link: Link) {
    let src = project_dir().join("tests-c").join(format!("{name}.c"));
    let exe = compile_c(&[src], name, link, &["-Werror"]).unwrap_or_else(|e| panic!("{e}"));
    let out = run_c(&exe, &[]);
    let last = out.lines().last().unwrap_or("");
    assert!(last.ends_with(" 0 failed"), "{name}: unexpected closing line {last:?}");
    // A run that checked (almost) nothing proves nothing.
    let passed: u64 = last.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed >= MIN_CHECKS, "{name}: only {passed} checks ran (at least {MIN_CHECKS} expected)");
    eprintln!("{name} ({link:?}): {last}");
}

/// The fewest checks a C test program may run.
const MIN_CHECKS: u64 = 20;

macro_rules! c_tests {
    ($($name:ident),* $(,)?) => {
        mod static_lib { $( #[test] fn $name() { super::c_program(stringify!($name), super::Link::Static) } )* }
        mod shared_lib { $( #[test] fn $name() { super::c_program(stringify!($name), super::Link::Shared) } )* }
        const PROGRAMS: &[&str] = &[$(stringify!($name)),*];
    };
}

c_tests!(
    layout,
    basic,
    comprehensive,
    errors,
    transactions,
    navigation,
    range,
    batch,
    iterator,
    stats,
    config,
    registry,
    nullsafety,
    compat_file,
    custom_adapter,
    threads,
    serial,
    stress,
    primitives,
    ttl,
    asan_ctas,
    tabledesc,
    schema,
    sqlite_interop,
    export,
    per_engine,
);

/// Every tests-c/*.c program is listed above (none silently left out).
#[test]
fn every_c_program_is_run() {
    let mut missing = Vec::new();
    for e in std::fs::read_dir(project_dir().join("tests-c")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "c") {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
            if !PROGRAMS.contains(&stem.as_str()) {
                missing.push(stem);
            }
        }
    }
    assert!(missing.is_empty(), "C programs not run by tests/c_programs.rs: {missing:?}");
}

/// The demo of `make` builds and runs against both libraries.
#[test]
fn demo_example_runs() {
    for link in [Link::Static, Link::Shared] {
        let exe = compile_c(&[project_dir().join("examples/demo.c")], "demo", link, &["-Werror"]).unwrap();
        let dir = common::scratch("demo");
        let out = std::process::Command::new(&exe).arg(dir.join("demo.sqlite3")).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "demo failed: {text}");
        assert!(text.contains("get 30: term 3, cmd 103, value \"entry number 3\""), "{text}");
        assert!(text.contains("backward over [15, 45]: 40 30 20"), "{text}");
        assert!(text.contains("5 keys, 70 value bytes"), "{text}");
    }
}
