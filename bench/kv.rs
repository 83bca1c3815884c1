//! The kvidxkit side: every operation goes through the exported
//! `extern "C"` functions exactly as a C program calls them (instance
//! zeroed, interface table copied in, out-parameters by pointer). Nothing
//! here is engine-specific: the engine is `env.engine.iface`.

use std::ffi::{CStr, CString, c_char, c_void};
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use kvidxkit::capi::dispatch::{
    kvidxBegin, kvidxClose, kvidxCommit, kvidxCountRange, kvidxGet, kvidxInsert, kvidxOpen, kvidxRemove,
};
use kvidxkit::capi::iterator::{kvidxIteratorCreate, kvidxIteratorDestroy, kvidxIteratorGet, kvidxIteratorNext};
use kvidxkit::capi::types::{kvidxInstance, kvidxInterface};

use crate::harness::{Env, Sample, Timer, remove_db};

/// Term stored with every entry (cmd is the key's low byte), both sides.
pub const TERM: u64 = 7;

/// An open instance, boxed so that its address is stable (iterators keep it).
pub struct Kv(Box<kvidxInstance>);

impl Kv {
    pub fn open(path: &Path, iface: &kvidxInterface) -> Kv {
        // SAFETY: kvidxInstance is a C struct for which all-zero is the
        // documented initial state (NULL pointers, false, no config).
        let mut inst: Box<kvidxInstance> = Box::new(unsafe { std::mem::zeroed() });
        inst.interface = *iface;
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        let mut err: *const c_char = std::ptr::null();
        let ok = unsafe { kvidxOpen(&mut *inst, c.as_ptr(), &mut err) };
        if !ok {
            let msg = if err.is_null() { "?".into() } else { unsafe { CStr::from_ptr(err) }.to_string_lossy() };
            panic!("kvidxOpen({}) failed: {msg}", path.display());
        }
        Kv(inst)
    }

    #[inline]
    pub fn ptr(&mut self) -> *mut kvidxInstance {
        &mut *self.0
    }

    #[cold]
    #[inline(never)]
    pub fn fail(&self, what: &str) -> ! {
        let msg = unsafe { CStr::from_ptr(self.0.lastErrorMessage.as_ptr()) };
        panic!("{what} failed: {} ({})", msg.to_string_lossy(), self.0.lastError);
    }
}

impl Drop for Kv {
    fn drop(&mut self) {
        if !unsafe { kvidxClose(&mut *self.0) } && !std::thread::panicking() {
            self.fail("kvidxClose");
        }
    }
}

unsafe fn insert_all(kv: &mut Kv, env: &Env, keys: impl Iterator<Item = u64>) -> u64 {
    let i = kv.ptr();
    let v = env.value.as_ptr() as *const c_void;
    let len = env.value.len();
    let mut n = 0;
    unsafe {
        if !kvidxBegin(i) {
            kv.fail("kvidxBegin");
        }
        for k in keys {
            if !kvidxInsert(i, k, TERM, k & 0xff, v, len) {
                kv.fail("kvidxInsert");
            }
            n += 1;
        }
        if !kvidxCommit(i) {
            kv.fail("kvidxCommit");
        }
    }
    n
}

/// Builds the populated database (keys 1..=n) used by the read rows.
pub fn populate(env: &Env, path: &Path) {
    remove_db(path);
    let mut kv = Kv::open(path, env.engine.iface);
    unsafe { insert_all(&mut kv, env, 1..=env.n) };
}

fn write_rows(env: &Env, keys: &mut dyn Iterator<Item = u64>) -> Sample {
    let path = env.fresh("kvidx-ins");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let t = Timer::start();
        let n = unsafe { insert_all(&mut kv, env, keys) };
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn seq_insert(env: &Env) -> Sample {
    write_rows(env, &mut (1..=env.n))
}

pub fn rand_insert(env: &Env) -> Sample {
    write_rows(env, &mut env.rand_insert_keys.iter().copied())
}

unsafe fn get_all(kv: &mut Kv, keys: impl Iterator<Item = u64>) -> u64 {
    let i = kv.ptr();
    let mut n = 0u64;
    let mut sink = 0u64;
    for k in keys {
        let (mut term, mut cmd, mut data, mut len) = (0u64, 0u64, std::ptr::null::<u8>(), 0usize);
        unsafe {
            if !kvidxGet(i, k, &mut term, &mut cmd, &mut data, &mut len) {
                kv.fail("kvidxGet");
            }
            // What a caller does with the value: look at it.
            sink = sink.wrapping_add(term ^ cmd ^ len as u64 ^ *data as u64);
        }
        n += 1;
    }
    black_box(sink);
    n
}

pub fn seq_read(env: &Env) -> Sample {
    let mut kv = Kv::open(&env.populated_kvidx, env.engine.iface);
    let t = Timer::start();
    let n = unsafe { get_all(&mut kv, 1..=env.n) };
    t.stop(n)
}

pub fn rand_read(env: &Env) -> Sample {
    let mut kv = Kv::open(&env.populated_kvidx, env.engine.iface);
    let t = Timer::start();
    let n = unsafe { get_all(&mut kv, env.rand_read_keys.iter().copied()) };
    t.stop(n)
}

pub fn iter_scan(env: &Env) -> Sample {
    let mut kv = Kv::open(&env.populated_kvidx, env.engine.iface);
    let i = kv.ptr();
    let t = Timer::start();
    let mut n = 0u64;
    let mut sink = 0u64;
    unsafe {
        let it = kvidxIteratorCreate(i, 0, u64::MAX, 0);
        if it.is_null() {
            kv.fail("kvidxIteratorCreate");
        }
        while kvidxIteratorNext(it) {
            let (mut key, mut term, mut cmd, mut data, mut len) = (0u64, 0u64, 0u64, std::ptr::null::<u8>(), 0usize);
            if !kvidxIteratorGet(it, &mut key, &mut term, &mut cmd, &mut data, &mut len) {
                kv.fail("kvidxIteratorGet");
            }
            sink = sink.wrapping_add(key ^ term ^ cmd ^ len as u64 ^ *data as u64);
            n += 1;
        }
        kvidxIteratorDestroy(it);
    }
    let s = t.stop(n);
    black_box(sink);
    assert_eq!(n, env.n, "iterator saw {n} entries");
    s
}

pub fn range_count(env: &Env) -> Sample {
    let mut kv = Kv::open(&env.populated_kvidx, env.engine.iface);
    let i = kv.ptr();
    let t = Timer::start();
    let mut total = 0u64;
    for &(a, b) in &env.ranges {
        let mut c = 0u64;
        if unsafe { kvidxCountRange(i, a, b, &mut c) } != 0 {
            kv.fail("kvidxCountRange");
        }
        total += c;
    }
    let s = t.stop(env.ranges.len() as u64);
    assert_eq!(total, env.ranges.len() as u64 * env.range_width);
    s
}

pub fn delete(env: &Env) -> Sample {
    let path = env.fresh_copy(&env.populated_kvidx, "kvidx-del");
    let s = {
        let mut kv = Kv::open(&path, env.engine.iface);
        let i = kv.ptr();
        let t = Timer::start();
        unsafe {
            if !kvidxBegin(i) {
                kv.fail("kvidxBegin");
            }
            for k in 1..=env.n {
                if !kvidxRemove(i, k) {
                    kv.fail("kvidxRemove");
                }
            }
            if !kvidxCommit(i) {
                kv.fail("kvidxCommit");
            }
        }
        t.stop(env.n)
    };
    remove_db(&path);
    s
}
