//! The committed headers match what the sources generate, and every public
//! header compiles on its own as C99 and as C++.
#![cfg(feature = "capi")]

mod common;

use common::project_dir;

#[test]
fn generated_header_is_committed_fresh() {
    // build.rs regenerated include/kvidxkit.h before this test was built; a
    // difference from the committed file means the commit forgot it.
    let root = project_dir();
    if !root.join(".git").exists() {
        return;
    }
    let o = std::process::Command::new("git")
        .args(["diff", "--exit-code", "--stat", "--", "include/kvidxkit.h"])
        .current_dir(&root)
        .output()
        .expect("git");
    assert!(
        o.status.success(),
        "include/kvidxkit.h is stale; commit the regenerated header:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

fn compiles_alone(header: &str, cxx: bool) {
    let dir = common::scratch("hdr");
    let src = dir.join(if cxx { "t.cc" } else { "t.c" });
    std::fs::write(&src, format!("#include \"{header}\"\nint main(void) {{ return 0; }}\n")).unwrap();
    let compiler = if cxx { "c++" } else { "cc" };
    let std = if cxx { "-std=c++11" } else { "-std=c99" };
    let o = std::process::Command::new(compiler)
        .args([std, "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only"])
        .arg("-I")
        .arg(project_dir().join("include"))
        .arg(&src)
        .output()
        .expect("compiler");
    assert!(o.status.success(), "{header} ({compiler}): {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn every_header_compiles_alone_in_c99_and_cxx() {
    for h in [
        "kvidxkit.h",
        "kvidxkitConfig.h",
        "kvidxkitErrors.h",
        "kvidxkitExport.h",
        "kvidxkitIterator.h",
        "kvidxkitRegistry.h",
        "kvidxkitTableDesc.h",
        "kvidxkitSchema.h",
        "kvidxkitAdapterSqlite3.h",
        "kvidxkitAdapterLmdb.h",
        "kvidxkitAdapterRocksdb.h",
    ] {
        compiles_alone(h, false);
        compiles_alone(h, true);
    }
}

/// The generated header defines only names of the C API (everything starts
/// with KVIDX), so it cannot collide with a program's own macros.
#[test]
fn generated_header_defines_only_kvidx_macros() {
    let text = std::fs::read_to_string(project_dir().join("include/kvidxkit.h")).unwrap();
    let stray: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("#define "))
        .map(|rest| rest.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or(""))
        .filter(|name| !name.starts_with("KVIDX"))
        .collect();
    assert!(stray.is_empty(), "kvidxkit.h defines macros outside the KVIDX namespace: {stray:?}");
}

/// The functions a per-engine header declares (`prefix` + name, in order).
fn per_engine_names(header: &str, prefix: &str) -> Vec<String> {
    let text = std::fs::read_to_string(project_dir().join("include").join(header)).unwrap();
    text.split(|c: char| c.is_whitespace() || c == '*')
        .filter(|w| w.starts_with(prefix) && w.contains('('))
        .map(|w| w[..w.find('(').unwrap()].to_string())
        .collect()
}

/// The interface member a per-engine function stands for (None: ApplyConfig).
fn member_of(suffix: &str) -> Option<String> {
    match suffix {
        "Max" => Some("maxKey".into()),
        "Export" => Some("exportData".into()),
        "Import" => Some("importData".into()),
        "ApplyConfig" => None,
        s => Some(s[..1].to_ascii_lowercase() + &s[1..]),
    }
}

/// Every per-engine header (the RocksDB one declares functions that only a
/// RocksDB build has; its prototypes are checked in every build).
const PER_ENGINE: [(&str, &str); 3] = [
    ("kvidxkitAdapterSqlite3.h", "kvidxSqlite3"),
    ("kvidxkitAdapterLmdb.h", "kvidxLmdb"),
    ("kvidxkitAdapterRocksdb.h", "kvidxRocksdb"),
];

/// The per-engine headers of the engines this build has.
fn built_per_engine() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    PER_ENGINE.iter().filter(|(_, p)| *p != "kvidxRocksdb" || cfg!(feature = "rocksdb"))
}

/// Each per-engine header declares the 39 functions of the original, each
/// with exactly the type of its member of `kvidxInterface` (ApplyConfig:
/// the type of kvidxUpdateConfig); checked by the C++ compiler.
#[test]
fn per_engine_prototypes_have_the_member_types() {
    for (header, prefix) in PER_ENGINE {
        let names = per_engine_names(header, prefix);
        assert_eq!(names.len(), 39, "{header}: {names:?}");
        let mut tu = format!("#include <type_traits>\n#include \"{header}\"\n");
        for n in &names {
            let want = match member_of(&n[prefix.len()..]) {
                Some(m) => format!("decltype(kvidxInterface::{m})"),
                None => "decltype(&kvidxUpdateConfig)".into(),
            };
            tu.push_str(&format!(
                "static_assert(std::is_same<decltype(&{n}), {want}>::value, \"{n} differs from {want}\");\n"
            ));
        }
        tu.push_str("int main() { return 0; }\n");
        let dir = common::scratch("per-engine-types");
        let src = dir.join("t.cc");
        std::fs::write(&src, tu).unwrap();
        let o = std::process::Command::new("c++")
            .args(["-std=c++11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only"])
            .arg("-I")
            .arg(project_dir().join("include"))
            .arg(&src)
            .output()
            .expect("c++");
        assert!(o.status.success(), "{header}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

/// The shared library exports every per-engine function the headers of its
/// engines declare, and no other `kvidxSqlite3*` / `kvidxLmdb*` /
/// `kvidxRocksdb*` symbol except this library's kvidxSqlite3Handle (a
/// default build: no kvidxRocksdb* at all).
#[test]
fn shared_library_exports_exactly_the_per_engine_functions() {
    let lib = common::lib_dir().join("libkvidxkit.so");
    let o = std::process::Command::new("nm").args(["-D", "--defined-only"]).arg(&lib).output().expect("nm");
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let mut exported: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| PER_ENGINE.iter().any(|(_, p)| s.starts_with(p)))
        .filter(|s| *s != "kvidxSqlite3Handle")
        .map(str::to_string)
        .collect();
    let mut declared: Vec<String> = built_per_engine().flat_map(|(h, p)| per_engine_names(h, p)).collect();
    exported.sort();
    declared.sort();
    assert_eq!(declared.len(), if cfg!(feature = "rocksdb") { 117 } else { 78 });
    assert_eq!(exported, declared);
    let table = text.lines().any(|l| l.split_whitespace().nth(2) == Some("kvidxInterfaceRocksdb"));
    assert_eq!(table, cfg!(feature = "rocksdb"), "kvidxInterfaceRocksdb exported: {table}");
}

/// kvidxkit.h declares kvidxInterfaceRocksdb under KVIDXKIT_HAS_ROCKSDB only
/// (as the original's header): one header for every build. A program sees
/// it with the macro defined (pkg-config and CMake of a RocksDB build define
/// it) or through kvidxkitAdapterRocksdb.h, which defines it, whichever
/// header comes first.
#[test]
fn rocksdb_table_is_declared_only_where_the_build_says_so() {
    let uses = "static const void *p(void) { return &kvidxInterfaceRocksdb; }\nint main(void) { return p() == 0; }\n";
    for (includes, define, ok) in [
        ("#include \"kvidxkit.h\"\n", false, false),
        ("#include \"kvidxkit.h\"\n", true, true),
        ("#include \"kvidxkitAdapterRocksdb.h\"\n", false, true),
        ("#include \"kvidxkit.h\"\n#include \"kvidxkitAdapterRocksdb.h\"\n", false, true),
    ] {
        let dir = common::scratch("rocksdb-decl");
        let src = dir.join("t.c");
        std::fs::write(&src, format!("{includes}{uses}")).unwrap();
        let mut cmd = std::process::Command::new("cc");
        cmd.args(["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only"]);
        if define {
            cmd.arg("-DKVIDXKIT_HAS_ROCKSDB=1");
        }
        let o = cmd.arg("-I").arg(project_dir().join("include")).arg(&src).output().expect("cc");
        assert_eq!(
            o.status.success(),
            ok,
            "{includes} with the macro {define}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
