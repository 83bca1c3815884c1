//! The `exportData` / `importData` members of every engine's interface
//! table. Progress callbacks are C code that may call back into the same
//! instance, so they are never called while the instance is locked:
//!
//! * export writes the whole file under the lock (one consistent snapshot),
//!   then, unlocked, reports `(100, total)`, `(200, total)`, … and a final
//!   `(total, total)`; a callback returning false removes the file and the
//!   result is `KVIDX_ERROR_CANCELLED`;
//! * import validates the whole file unlocked, reports progress the same way
//!   (false → `KVIDX_ERROR_CANCELLED`, nothing changed), then applies the
//!   file in one atomic unit under the lock.

use std::ffi::{c_char, c_void};

use super::adapter::{f_code, lock, with};
use super::boundary::{I, c_path, guard, invalid, record};
use super::dispatch::{kvidxExportOptionsDefault, kvidxImportOptionsDefault};
use super::types::{kvidxError, kvidxErrorRaw, kvidxExportOptions, kvidxImportOptions, kvidxProgressCallback};
use crate::engine::Engine;
use crate::formats::{ExportOptions, Format, ImportOptions, report_progress, validate_file};

const OK: kvidxErrorRaw = kvidxError::KVIDX_OK as u32;
const INTERNAL: kvidxErrorRaw = kvidxError::KVIDX_ERROR_INTERNAL as u32;

/// `kvidxInterface.exportData`.
///
/// # Safety
/// `i` NULL or a valid instance; `filename` NULL or a C string; `options`
/// NULL (defaults) or valid; `callback` NULL or callable with `user_data`.
pub(crate) unsafe extern "C" fn export_data<E: Engine>(
    i: I,
    filename: *const c_char,
    options: *const kvidxExportOptions,
    callback: kvidxProgressCallback,
    user_data: *mut c_void,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if filename.is_null() {
            return invalid(i, "Export", "filename is NULL");
        }
        let o = if options.is_null() { kvidxExportOptionsDefault() } else { *options };
        let Some(format) = Format::from_raw(o.format) else {
            return invalid(i, "Export", &format!("format {} is out of range", o.format));
        };
        let opts = ExportOptions {
            format,
            start: o.startKey,
            end: o.endKey,
            include_metadata: o.includeMetadata,
            pretty: o.prettyPrint,
        };
        let path = c_path(filename);
        let total = match with::<E, _>(i, "Export", |e| Err(f_code(e)), |s| s.export_to(path, &opts).map(Ok)) {
            Ok(n) => n,
            Err(code) => return code,
        };
        // Unlocked from here: the callback may use the instance.
        if let Some(cb) = callback
            && !report_progress(total, &mut |n, t| cb(n, t, user_data))
        {
            let _ = std::fs::remove_file(path);
            let e = crate::transfer::export_cancelled(path);
            record(i, "Export", &e);
            return f_code(&e);
        }
        OK
    })
}

/// `kvidxInterface.importData`.
///
/// # Safety
/// As [`export_data`].
pub(crate) unsafe extern "C" fn import_data<E: Engine>(
    i: I,
    filename: *const c_char,
    options: *const kvidxImportOptions,
    callback: kvidxProgressCallback,
    user_data: *mut c_void,
) -> kvidxErrorRaw {
    guard(i, INTERNAL, || unsafe {
        if filename.is_null() {
            return invalid(i, "Import", "filename is NULL");
        }
        let o = if options.is_null() { kvidxImportOptionsDefault() } else { *options };
        let format = match o.format {
            0 => None,
            raw => match Format::from_raw(raw) {
                Some(f) => Some(f),
                None => return invalid(i, "Import", &format!("format {raw} is out of range")),
            },
        };
        if let Err(e) = lock::<E>(i).map(drop) {
            record(i, "Import", &e);
            return f_code(&e);
        }
        let path = c_path(filename);
        // Validation and progress run unlocked: the callback may use the instance.
        let mut progress = |n: u64, t: u64| match callback {
            Some(cb) => cb(n, t, user_data),
            None => true,
        };
        let format = match validate_file(path, format, &mut progress) {
            Ok((f, _)) => f,
            Err(e) => {
                record(i, "Import", &e);
                return f_code(&e);
            }
        };
        let opts = ImportOptions {
            format: Some(format),
            validate_data: o.validateData,
            skip_duplicates: o.skipDuplicates,
            clear_before_import: o.clearBeforeImport,
        };
        with::<E, _>(i, "Import", f_code, |s| s.apply_import(path, format, &opts).map(|_| OK))
    })
}
