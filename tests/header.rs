//! The committed headers match what the sources generate, and every public
//! header compiles on its own as C99 and as C++.

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
