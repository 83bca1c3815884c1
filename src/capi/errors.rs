//! Error inspection entry points (`kvidxkitErrors.h`).

use std::ffi::{CStr, c_char};

use super::boundary::{I, guard, set_error};
use super::handle::instance_lock;
use super::types::{kvidxError, kvidxErrorRaw, kvidxInstance};

/// Static text for a code; "Unknown error" for any value without one.
pub(crate) fn error_text(code: u32) -> &'static CStr {
    match code {
        0 => c"Success",
        1 => c"Invalid argument",
        2 => c"Duplicate key",
        3 => c"Key not found",
        4 => c"Disk full",
        5 => c"I/O error",
        6 => c"Database corruption detected",
        7 => c"Transaction already active",
        8 => c"No active transaction",
        9 => c"Database is read-only",
        10 => c"Database is locked",
        11 => c"Out of memory",
        12 => c"Data too large",
        13 => c"Constraint violation",
        14 => c"Schema error",
        15 => c"Invalid range",
        16 => c"Operation not supported",
        17 => c"Operation cancelled",
        99 => c"Internal error",
        100 => c"Condition not met",
        101 => c"Key expired",
        _ => c"Unknown error",
    }
}

/// Human-readable text of an error code (never NULL; static storage).
#[unsafe(no_mangle)]
pub extern "C" fn kvidxErrorString(err: kvidxErrorRaw) -> *const c_char {
    error_text(err).as_ptr()
}

/// The last error recorded on the instance (INVALID_ARGUMENT for NULL).
/// Errors are sticky: success does not clear them.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetLastError(i: *const kvidxInstance) -> kvidxErrorRaw {
    if i.is_null() {
        return kvidxError::KVIDX_ERROR_INVALID_ARGUMENT.raw();
    }
    let _g = unsafe { instance_lock(i as I, false) };
    unsafe { (*i).lastError }
}

/// The message of the last error: "Success" when there is none. The
/// pointer is valid until the next error is recorded or cleared on the
/// instance.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetLastErrorMessage(i: *mut kvidxInstance) -> *const c_char {
    if i.is_null() {
        return c"Invalid instance (NULL)".as_ptr();
    }
    let _g = unsafe { instance_lock(i, false) };
    unsafe {
        let code = (*i).lastError;
        if code == 0 {
            c"Success".as_ptr()
        } else if (*i).lastErrorMessage[0] != 0 {
            (*i).lastErrorMessage.as_ptr()
        } else {
            error_text(code).as_ptr()
        }
    }
}

/// Resets the error state to KVIDX_OK.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxClearError(i: *mut kvidxInstance) {
    if !i.is_null() {
        let _g = unsafe { instance_lock(i, false) };
        unsafe {
            (*i).lastError = 0;
            (*i).lastErrorMessage[0] = 0;
        }
    }
}

/// Second half of the C-variadic `kvidxSetError` (csrc/seterror.c formats
/// the message, then calls this). `msg` NULL stores the code's own text.
///
/// # Safety
/// `i` is NULL or a valid instance; `msg` is NULL or a C string.
/// cbindgen:ignore
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidx_internal_set_error(i: *mut kvidxInstance, err: kvidxErrorRaw, msg: *const c_char) {
    guard(i as I, (), || unsafe {
        let text = if msg.is_null() { error_text(err) } else { CStr::from_ptr(msg) };
        set_error(i, err, &text.to_string_lossy());
    })
}
