//! Builds the LD_PRELOAD shim (tests/support/shim.c) once per test binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn shim() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shim");
        std::fs::create_dir_all(&out).unwrap();
        let so = out.join(format!("shim-{}.so", std::process::id()));
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/shim.c");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let o = std::process::Command::new(cc)
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O1"])
            .arg(&src)
            .arg("-o")
            .arg(&so)
            .arg("-ldl")
            .output()
            .expect("run the C compiler");
        assert!(o.status.success(), "shim build failed: {}", String::from_utf8_lossy(&o.stderr));
        so
    })
    .clone()
}
