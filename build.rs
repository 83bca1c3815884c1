//! Generates include/kvidxkit.h with cbindgen, installs the bundled
//! sqlite3.h beside it, compiles the C part (the variadic kvidxSetError) and
//! exports the C symbols from the shared library.
use std::{env, fs, path::PathBuf};

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let inc = crate_dir.join("include");
    fs::create_dir_all(&inc).unwrap();

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let header =
        cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).generate().expect("cbindgen failed");
    // Write only when the text changes, so the committed header is stable.
    let mut text = Vec::new();
    header.write(&mut text);
    let path = inc.join("kvidxkit.h");
    if fs::read(&path).ok().as_deref() != Some(&text[..]) {
        fs::write(&path, &text).unwrap();
    }

    // The SQLite header of the very SQLite this library bundles and exports.
    if let Ok(dir) = env::var("DEP_SQLITE3_INCLUDE") {
        for h in ["sqlite3.h", "sqlite3ext.h"] {
            let src = PathBuf::from(&dir).join(h);
            let dst = inc.join(h);
            if let Ok(bytes) = fs::read(&src)
                && fs::read(&dst).ok() != Some(bytes.clone())
            {
                fs::write(&dst, bytes).unwrap();
            }
        }
    }

    // +whole-archive: nothing in Rust calls kvidxSetError, so without it the
    // linker would leave the object out of the shared library.
    cc::Build::new()
        .file("csrc/seterror.c")
        .include(&inc)
        .flag_if_supported("-std=c99")
        .warnings(true)
        .extra_warnings(true)
        .link_lib_modifier("+whole-archive")
        .compile("kvidxcshim");

    // Export the bundled SQLite API and the C shim from the shared library
    // (rustc exports only Rust items by itself), and bind the library's own
    // SQLite calls to its own copy even if the process loaded another one.
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", crate_dir.join("exports.map").display());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic-functions");

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=exports.map");
}
