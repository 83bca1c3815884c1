//! The panic and NULL boundary: every exported function runs inside
//! [`guard`], and errors are recorded in the caller's instance here only.

use std::ffi::{c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::types::{kvidxError, kvidxInstance};
use crate::error::Error;

pub(crate) type I = *mut kvidxInstance;

/// Runs `f`, turning a panic into `on_panic` (and an INTERNAL error on the
/// instance when there is one). No panic crosses the C boundary.
#[inline]
pub(crate) fn guard<R>(i: I, on_panic: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            // SAFETY: `i` is either NULL or the caller's instance.
            unsafe { set_error(i, kvidxError::KVIDX_ERROR_INTERNAL.raw(), &format!("internal error: {what}")) };
            on_panic
        }
    }
}

/// Stores `code` and `msg` (truncated to 255 bytes) in the instance, both
/// under the instance lock, so that writers never interleave: the code and
/// the message always come from the same call.
///
/// # Safety
/// `i` is NULL or points to a valid instance.
pub(crate) unsafe fn set_error(i: I, code: u32, msg: &str) {
    if i.is_null() {
        return;
    }
    // Never waits for another thread's transaction (wait = false): cannot fail.
    let _g = unsafe { super::handle::instance_lock(i, false) };
    // SAFETY: non-NULL instance owned by the caller; we write only its error fields.
    unsafe {
        (*i).lastError = code;
        let buf = &mut (*i).lastErrorMessage;
        let bytes = msg.as_bytes();
        let mut n = bytes.len().min(buf.len() - 1);
        // Do not cut a UTF-8 sequence in half.
        while n > 0 && n < bytes.len() && (bytes[n] & 0xC0) == 0x80 {
            n -= 1;
        }
        for (d, s) in buf.iter_mut().zip(&bytes[..n]) {
            *d = *s as c_char;
        }
        buf[n] = 0;
    }
}

/// Records `err` as the outcome of operation `op` ("Insert", "Get", …).
///
/// # Safety
/// As [`set_error`].
pub(crate) unsafe fn record(i: I, op: &str, err: &Error) {
    unsafe { set_error(i, err.code() as u32, &format!("{op}: {err}")) };
}

/// Records an INVALID_ARGUMENT error and returns its code.
///
/// # Safety
/// As [`set_error`].
pub(crate) unsafe fn invalid(i: I, op: &str, what: &str) -> u32 {
    unsafe { record(i, op, &Error::invalid(what.to_string())) };
    kvidxError::KVIDX_ERROR_INVALID_ARGUMENT.raw()
}

/// Writes `v` through `p` when `p` is not NULL.
///
/// # Safety
/// `p` is NULL or valid for writes.
#[inline]
pub(crate) unsafe fn put<T>(p: *mut T, v: T) {
    if !p.is_null() {
        unsafe { p.write(v) };
    }
}

/// The bytes `(data, len)` name, rejecting NULL with a non-zero length.
///
/// # Safety
/// When `data` is not NULL it is valid for `len` bytes.
pub(crate) unsafe fn bytes<'a>(data: *const c_void, len: usize) -> Result<&'a [u8], Error> {
    if data.is_null() {
        if len == 0 { Ok(&[]) } else { Err(Error::invalid(format!("data is NULL but length is {len}"))) }
    } else if len > isize::MAX as usize {
        Err(Error::TooBig(format!("length {len} is too large")))
    } else {
        Ok(unsafe { std::slice::from_raw_parts(data as *const u8, len) })
    }
}

/// Pointer to hand out for a value: NULL for an empty one.
#[inline]
pub(crate) fn data_ptr(d: &[u8]) -> *const u8 {
    if d.is_empty() { std::ptr::null() } else { d.as_ptr() }
}

/// A C string argument as a path.
///
/// # Safety
/// `s` is a valid NUL-terminated string.
pub(crate) unsafe fn c_path<'a>(s: *const c_char) -> &'a std::path::Path {
    use std::os::unix::ffi::OsStrExt;
    let c = unsafe { std::ffi::CStr::from_ptr(s) };
    std::path::Path::new(std::ffi::OsStr::from_bytes(c.to_bytes()))
}
