//! Arbitrary bytes as a Binary import file (forced and auto-detected), on
//! both engines: see tests/fuzz_harness/mod.rs for the properties.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

use std::sync::{LazyLock, Mutex};

use fuzz_harness::{ImportCtx, scratch_dir};
use kvidxkit::formats::Format;
use libfuzzer_sys::fuzz_target;

static CTX: LazyLock<Mutex<ImportCtx>> = LazyLock::new(|| Mutex::new(ImportCtx::new(&scratch_dir("import_binary"))));

fuzz_target!(|data: &[u8]| {
    CTX.lock().unwrap().check(data, Format::Binary);
});
