//! With the `capi` feature: generates include/kvidxkit.h with cbindgen,
//! installs the bundled sqlite3.h beside it, compiles the C part (the
//! variadic kvidxSetError) and sets how the shared library is linked
//! (exported symbols, SONAME). With `lmdb`: compiles LMDB from csrc/lmdb.
//! With `rocksdb`: links the system RocksDB.
use std::{env, fs, path::PathBuf};

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let feature = |f: &str| env::var_os(format!("CARGO_FEATURE_{}", f.to_uppercase().replace('-', "_"))).is_some();

    let bundled = feature("bundled-sqlite");
    let system = feature("system-sqlite");
    if feature("sqlite") && bundled == system {
        panic!(
            "choose one SQLite: the default feature `bundled-sqlite`, or \
             `--no-default-features --features capi,system-sqlite` (make SQLITE=system)"
        );
    }
    if feature("capi") {
        c_api(&crate_dir, bundled);
    }
    if feature("lmdb") {
        compile_lmdb(&crate_dir);
    }
    if feature("rocksdb") {
        link_rocksdb();
    }

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=exports.map");
    println!("cargo:rerun-if-env-changed=KVIDXKIT_VERSION_SCRIPT");
}

/// The C ABI: the generated header, the bundled SQLite's headers beside it,
/// the C shim and the shared library's link arguments.
fn c_api(crate_dir: &std::path::Path, bundled: bool) {
    let inc = crate_dir.join("include");
    fs::create_dir_all(&inc).unwrap();
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let header =
        cbindgen::Builder::new().with_crate(crate_dir).with_config(config).generate().expect("cbindgen failed");
    // Write only when the text changes, so the committed header is stable.
    let mut text = Vec::new();
    header.write(&mut text);
    let path = inc.join("kvidxkit.h");
    if fs::read(&path).ok().as_deref() != Some(&text[..]) {
        fs::write(&path, &text).unwrap();
    }

    // The SQLite header of the very SQLite this library bundles and exports
    // (only a bundled build has one; a system-SQLite build uses the
    // system's sqlite3.h and installs none).
    if let Ok(dir) = env::var("DEP_SQLITE3_INCLUDE")
        && bundled
    {
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

    shared_library_link_args(crate_dir);
}

/// LMDB (csrc/lmdb: 0.9.70 with the damaged-file checks of PATCHES.md),
/// every global symbol prefixed kvx_ (kvx_prefix.h) so that it never
/// clashes with another LMDB in the same program.
fn compile_lmdb(crate_dir: &std::path::Path) {
    let lmdb = crate_dir.join("csrc/lmdb");
    let mut b = cc::Build::new();
    b.file(lmdb.join("mdb.c"))
        .file(lmdb.join("midl.c"))
        .include(&lmdb)
        .flag("-include")
        .flag(lmdb.join("kvx_prefix.h").to_str().expect("UTF-8 path"))
        .define("MDB_IDL_LOGN", "16")
        .warnings(false)
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-unused-but-set-variable")
        .flag_if_supported("-Wno-unused-variable")
        // Every function on a 64-byte boundary, so that where the linker
        // puts LMDB among the Rust code does not move its hot loops across
        // cache-line boundaries: with the default alignment an unrelated
        // change of the Rust code made LMDB random reads 5 % slower.
        .flag_if_supported("-falign-functions=64");
    if env::var("PROFILE").as_deref() == Ok("release") {
        b.define("NDEBUG", None);
    }
    b.compile("kvxlmdb");
}

/// The ABI version of the shared library, `[package.metadata.kvidxkit]
/// abi-version` in Cargo.toml (the original's CMake VERSION/SOVERSION).
fn abi_version(crate_dir: &std::path::Path) -> String {
    let manifest = fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("abi-version"))
        .and_then(|rest| rest.split('"').nth(1))
        .expect("Cargo.toml: [package.metadata.kvidxkit] abi-version = \"X.Y.Z\"")
        .to_string()
}

/// Linker arguments of the shared library, for the targets where they are
/// known to work; other targets get none (and a warning), never a broken
/// link.
///
/// * SONAME `libkvidxkit.so.<abi>` (ELF targets), the original's, so
///   programs linked against the original load this library unchanged.
/// * exports.map, a version script that exports the bundled `sqlite3_*` API
///   and the C shim `kvidxSetError` (rustc exports only Rust items), and
///   `-Bsymbolic-functions`, which binds the library's own SQLite calls to
///   its own copy. rustc passes an anonymous version script of its own;
///   LLD merges the two, GNU ld refuses a second one ("anonymous version
///   tag cannot be combined with other version tags"). So this is on by
///   default only where rustc links with its bundled LLD
///   (x86_64-unknown-linux-gnu, rustc 1.90 and later, unless the linker was
///   changed through RUSTFLAGS); KVIDXKIT_VERSION_SCRIPT=1 or =0 forces it.
fn shared_library_link_args(crate_dir: &std::path::Path) {
    let vendor = env::var("CARGO_CFG_TARGET_VENDOR").unwrap_or_default();
    let family = env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    let target = env::var("TARGET").unwrap_or_default();
    let elf = family.split(',').any(|f| f == "unix") && vendor != "apple";

    if elf {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libkvidxkit.so.{}", abi_version(crate_dir));
    }

    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let linker_changed = rustflags.contains("linker-features=-lld")
        || rustflags.contains("linker-flavor")
        || rustflags.split('\x1f').any(|f| f.starts_with("-Clinker=") || f.starts_with("linker="))
        || env::var_os("RUSTC_LINKER").is_some();
    let lld_by_default = target == "x86_64-unknown-linux-gnu" && !linker_changed;
    let version_script = match env::var("KVIDXKIT_VERSION_SCRIPT").as_deref() {
        Ok("1") => true,
        Ok("0") => false,
        _ => elf && lld_by_default,
    };
    if version_script {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", crate_dir.join("exports.map").display());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic-functions");
    } else {
        println!(
            "cargo:warning=kvidxkit: the shared library of this target exports only the kvidx* functions \
             written in Rust (not kvidxSetError nor the bundled sqlite3_* API): the version script needs \
             LLD; set KVIDXKIT_VERSION_SCRIPT=1 if the linker is LLD. The static library is complete."
        );
    }
}

/// The system RocksDB, for the `rocksdb` feature only: the shared
/// librocksdb from the linker's default directories or `ROCKSDB_LIB_DIR`.
/// Its C API is all that is used, but the library is C++: the C++ runtime
/// is named too, so that rustc's list of what the static library needs
/// (`--print native-static-libs`) is complete for a program linking
/// libkvidxkit.a (GNU and most Unix toolchains: libstdc++; Apple and the
/// BSDs that use LLVM's: libc++; MSVC links its runtime by itself).
fn link_rocksdb() {
    println!("cargo:rerun-if-env-changed=ROCKSDB_LIB_DIR");
    if let Some(dir) = env::var_os("ROCKSDB_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", PathBuf::from(dir).display());
    }
    println!("cargo:rustc-link-lib=dylib=rocksdb");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    match (os.as_str(), target_env.as_str()) {
        (_, "msvc") => {}
        ("macos" | "ios" | "freebsd" | "openbsd", _) => println!("cargo:rustc-link-lib=dylib=c++"),
        _ => println!("cargo:rustc-link-lib=dylib=stdc++"),
    }
}
