//! The `exportData` / `importData` members of every engine's interface
//! table. Progress callbacks are called while the work proceeds (after
//! every 100 entries, sooner for large values, and once at the end), with
//! the instance held: a callback that calls back into the same instance
//! gets `KVIDX_ERROR_LOCKED` for that call (never a deadlock), and a
//! callback returning false cancels at once — an export removes its file,
//! an import rolls back — with `KVIDX_ERROR_CANCELLED`. An import's file is
//! validated before the instance is locked.

use std::ffi::{c_char, c_void};

use super::adapter::{f_code, lock, with};
use super::boundary::{I, c_path, guard, invalid, record};
use super::dispatch::{kvidxExportOptionsDefault, kvidxImportOptionsDefault};
use super::types::{kvidxError, kvidxErrorRaw, kvidxExportOptions, kvidxImportOptions, kvidxProgressCallback};
use crate::engine::Engine;
use crate::formats::{ExportOptions, Format, ImportOptions, validate_file};

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
        with::<E, _>(i, "Export", f_code, |s| {
            match callback {
                Some(cb) => s.export_to_with_progress(path, &opts, &mut |n, t| cb(n, t, user_data)),
                None => s.export_to(path, &opts),
            }
            .map(|_| OK)
        })
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
        // The file is validated before the instance is locked.
        let (format, total) = match validate_file(path, format) {
            Ok(v) => v,
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
        with::<E, _>(i, "Import", f_code, |s| {
            let mut report = |n: u64, t: u64| callback.is_none_or(|cb| cb(n, t, user_data));
            let progress: Option<&mut dyn FnMut(u64, u64) -> bool> =
                if callback.is_some() { Some(&mut report) } else { None };
            s.import_validated(path, format, total, &opts, progress).map(|_| OK)
        })
    })
}
