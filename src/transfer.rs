//! Export and import drivers over any engine: [`Store::export_to`] and
//! [`Store::import_from`]. The file formats themselves are in
//! [`crate::formats`].

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::formats::{
    ExportOptions, Format, ImportOptions, Writer, create_output, open_reader, report_progress, validate_file,
};
use crate::store::Store;

fn write_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("cannot write '{}': {e}", path.display()))
}

/// Closes `f` and reports a failing `close(2)` (which `File`'s drop ignores).
fn close_checked(f: File, path: &Path) -> Result<()> {
    use std::os::fd::IntoRawFd;
    let fd = f.into_raw_fd();
    // SAFETY: `fd` was just released by `File` and is closed exactly once.
    if unsafe { libc::close(fd) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Error::Io(format!("cannot close '{}': {e}", path.display())));
    }
    Ok(())
}

impl<E: Engine> Store<E> {
    /// Writes the live entries of `[opts.start, opts.end]` to `path` (created
    /// or truncated; it must not be a directory, FIFO or device) in
    /// `opts.format`, in unsigned key order, as one consistent snapshot.
    /// Returns the number of entries written (the binary header holds exactly
    /// this number). Inside a transaction the export sees its uncommitted
    /// writes. On any error the partial file is removed. Every write, the
    /// flush and the close are checked ([`Error::Io`]).
    pub fn export_to(&mut self, path: impl AsRef<Path>, opts: &ExportOptions) -> Result<u64> {
        let path = path.as_ref();
        let file = create_output(path)?;
        let r = self.export_into(file, path, opts);
        if r.is_err() {
            let _ = std::fs::remove_file(path);
        }
        r
    }

    /// [`Store::export_to`], then `progress(n, total)` for n = 100, 200, … and
    /// a final `(total, total)` (see [`report_progress`]). If `progress`
    /// returns false the file is removed and the result is
    /// [`Error::Cancelled`].
    pub fn export_to_with_progress(
        &mut self,
        path: impl AsRef<Path>,
        opts: &ExportOptions,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<u64> {
        let path = path.as_ref();
        let n = self.export_to(path, opts)?;
        if !report_progress(n, progress) {
            let _ = std::fs::remove_file(path);
            return Err(export_cancelled(path));
        }
        Ok(n)
    }

    fn export_into(&mut self, file: File, path: &Path, opts: &ExportOptions) -> Result<u64> {
        let out = BufWriter::with_capacity(256 * 1024, file);
        let mut w =
            Writer::new(out, opts.format, opts.include_metadata, opts.pretty).map_err(|e| write_err(path, e))?;
        let mut failed = None;
        self.scan_live(opts.start, opts.end, |e| match w.entry(e.key, e.term, e.cmd, e.data) {
            Ok(()) => true,
            Err(err) => {
                failed = Some(err);
                false
            }
        })?;
        if let Some(e) = failed {
            return Err(write_err(path, e));
        }
        let n = w.count();
        let out = w.finish().map_err(|e| write_err(path, e))?;
        let file = out.into_inner().map_err(|e| write_err(path, e.into_error()))?;
        close_checked(file, path)?;
        Ok(n)
    }

    /// Imports every entry of the file at `path` (format detected when
    /// `opts.format` is `None`). The whole file is validated first; then the
    /// optional clear and all inserts happen in one atomic unit (a savepoint
    /// inside an open transaction): on any error nothing changes (entries and
    /// TTLs). An existing live key is [`Error::DuplicateKey`] unless
    /// `opts.skip_duplicates`, which skips it (a key repeated within the file
    /// is a duplicate the second time). Imported entries have no TTL. Returns
    /// the number of entries inserted.
    pub fn import_from(&mut self, path: impl AsRef<Path>, opts: &ImportOptions) -> Result<u64> {
        self.import_from_with_progress(path, opts, &mut |_, _| true)
    }

    /// [`Store::import_from`] calling `progress(n, total)` after the file has
    /// been validated and before the database is touched, for n = 100, 200,
    /// … and a final `(total, total)`, total being the number of entries in
    /// the file; if it returns false the result is [`Error::Cancelled`] and
    /// nothing changed.
    pub fn import_from_with_progress(
        &mut self,
        path: impl AsRef<Path>,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<u64> {
        let path = path.as_ref();
        let (format, _) = validate_file(path, opts.format, progress)?;
        self.apply_import(path, format, opts)
    }

    /// The second half of an import: reads the (already validated) file
    /// again in `format` and applies it in one atomic unit. If the file
    /// changed and no longer validates, everything is rolled back.
    pub(crate) fn apply_import(&mut self, path: &Path, format: Format, opts: &ImportOptions) -> Result<u64> {
        let mut reader = open_reader(path, Some(format))?;
        self.atomic(|s| {
            if opts.clear_before_import {
                s.remove_range(0, u64::MAX, true, true)?;
            }
            let mut n = 0u64;
            while let Some(e) = reader.next_entry()? {
                match s.insert(e.key, e.term, e.cmd, e.data) {
                    Ok(()) => n += 1,
                    Err(Error::DuplicateKey(_)) if opts.skip_duplicates => {}
                    Err(err) => return Err(err),
                }
            }
            Ok(n)
        })
    }
}

pub(crate) fn export_cancelled(path: &Path) -> Error {
    Error::Cancelled(format!("export cancelled by the progress callback; '{}' was removed", path.display()))
}
