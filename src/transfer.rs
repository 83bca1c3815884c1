//! Export and import drivers over any engine: [`Store::export_to`] and
//! [`Store::import_from`]. The file formats themselves are in
//! [`crate::formats`].

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::formats::{ExportOptions, Format, ImportOptions, Writer, create_output, open_reader, validate_file};
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

/// Progress reporting of an export or import: `progress(n, total)` after
/// every 100 entries — or sooner, after 8 MiB of values, so that large
/// values still report often — and a final `(n, total)` unless that was the
/// last call; never for 0 entries.
struct Progress<'a> {
    f: &'a mut dyn FnMut(u64, u64) -> bool,
    total: u64,
    n: u64,
    reported: u64,
    bytes: usize,
}

const PROGRESS_EVERY: u64 = 100;
const PROGRESS_BYTES: usize = 8 << 20;

impl<'a> Progress<'a> {
    fn new(f: &'a mut dyn FnMut(u64, u64) -> bool, total: u64) -> Self {
        Progress { f, total, n: 0, reported: 0, bytes: 0 }
    }

    /// One more entry of `len` value bytes; false if the callback cancelled.
    #[inline]
    fn step(&mut self, len: usize) -> bool {
        self.n += 1;
        self.bytes += len;
        if self.n.is_multiple_of(PROGRESS_EVERY) || self.bytes >= PROGRESS_BYTES { self.report() } else { true }
    }

    fn report(&mut self) -> bool {
        self.bytes = 0;
        self.reported = self.n;
        self.total = self.total.max(self.n);
        (self.f)(self.n, self.total)
    }

    /// The final call, if the last entry was not reported yet.
    fn finish(&mut self) -> bool {
        if self.n > 0 && self.reported != self.n { self.report() } else { true }
    }
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
        self.export_file(path.as_ref(), opts, None)
    }

    /// [`Store::export_to`] calling `progress(n, total)` while it writes:
    /// after every 100 entries (sooner after 8 MiB of values) and once at the
    /// end, `total` being the number of live entries in the range. If
    /// `progress` returns false the export stops at once, the file is removed
    /// and the result is [`Error::Cancelled`].
    pub fn export_to_with_progress(
        &mut self,
        path: impl AsRef<Path>,
        opts: &ExportOptions,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<u64> {
        let total = self.count_in(opts.start, opts.end)?;
        self.export_file(path.as_ref(), opts, Some(Progress::new(progress, total)))
    }

    fn export_file(&mut self, path: &Path, opts: &ExportOptions, progress: Option<Progress<'_>>) -> Result<u64> {
        let file = create_output(path)?;
        let r = self.export_into(file, path, opts, progress);
        if r.is_err() {
            let _ = std::fs::remove_file(path);
        }
        r
    }

    fn export_into(
        &mut self,
        file: File,
        path: &Path,
        opts: &ExportOptions,
        mut progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let out = BufWriter::with_capacity(256 * 1024, file);
        let mut w =
            Writer::new(out, opts.format, opts.include_metadata, opts.pretty).map_err(|e| write_err(path, e))?;
        let mut failed = None;
        let mut cancelled = false;
        self.scan_live(opts.start, opts.end, |e| match w.entry(e.key, e.term, e.cmd, e.data) {
            Ok(()) => {
                cancelled = progress.as_mut().is_some_and(|p| !p.step(e.data.len()));
                !cancelled
            }
            Err(err) => {
                failed = Some(err);
                false
            }
        })?;
        if let Some(e) = failed {
            return Err(write_err(path, e));
        }
        if cancelled || progress.as_mut().is_some_and(|p| !p.finish()) {
            return Err(export_cancelled(path));
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
        let path = path.as_ref();
        let (format, _) = validate_file(path, opts.format)?;
        self.apply_import(path, format, opts, None)
    }

    /// [`Store::import_from`] calling `progress(n, total)` while it inserts:
    /// after every 100 entries of the file (sooner after 8 MiB of values) and
    /// once at the end, `total` being the number of entries in the file. If
    /// it returns false the import stops, everything is rolled back and the
    /// result is [`Error::Cancelled`].
    pub fn import_from_with_progress(
        &mut self,
        path: impl AsRef<Path>,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<u64> {
        let path = path.as_ref();
        let (format, total) = validate_file(path, opts.format)?;
        self.apply_import(path, format, opts, Some(Progress::new(progress, total)))
    }

    /// The second half of an import whose file was validated already (as
    /// `format`, `total` entries): [`Store::import_from_with_progress`]
    /// without the validation.
    #[cfg(feature = "capi")]
    pub(crate) fn import_validated(
        &mut self,
        path: &Path,
        format: Format,
        total: u64,
        opts: &ImportOptions,
        progress: Option<&mut dyn FnMut(u64, u64) -> bool>,
    ) -> Result<u64> {
        self.apply_import(path, format, opts, progress.map(|p| Progress::new(p, total)))
    }

    /// Reads the (already validated) file again in `format` and applies it
    /// in one atomic unit. If the file changed and no longer validates,
    /// everything is rolled back.
    fn apply_import(
        &mut self,
        path: &Path,
        format: Format,
        opts: &ImportOptions,
        mut progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let mut reader = open_reader(path, Some(format))?;
        let cancelled =
            || Error::Cancelled(format!("import of '{}' cancelled by the progress callback", path.display()));
        self.atomic(|s| {
            if opts.clear_before_import {
                s.remove_keys(0, u64::MAX)?;
            }
            let mut n = 0u64;
            while let Some(e) = reader.next_entry()? {
                match s.insert(e.key, e.term, e.cmd, e.data) {
                    Ok(()) => n += 1,
                    Err(Error::DuplicateKey(_)) if opts.skip_duplicates => {}
                    Err(err) => return Err(err),
                }
                if progress.as_mut().is_some_and(|p| !p.step(e.data.len())) {
                    return Err(cancelled());
                }
            }
            if progress.as_mut().is_some_and(|p| !p.finish()) {
                return Err(cancelled());
            }
            Ok(n)
        })
    }
}

pub(crate) fn export_cancelled(path: &Path) -> Error {
    Error::Cancelled(format!("export cancelled by the progress callback; '{}' was removed", path.display()))
}
