//! Arbitrary bytes decoded into a sequence of operations, run on both
//! engines and checked against an in-memory model: see
//! tests/fuzz_harness/mod.rs.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

use std::sync::{LazyLock, Mutex};

use fuzz_harness::{OpsCtx, scratch_dir};
use libfuzzer_sys::fuzz_target;

static CTX: LazyLock<Mutex<OpsCtx>> = LazyLock::new(|| Mutex::new(OpsCtx::new(&scratch_dir("ops"))));

fuzz_target!(|data: &[u8]| {
    CTX.lock().unwrap().run(data);
});
