//! Moving entries in bulk: export, import, copy.

use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kvidxkit::formats::{ExportOptions, Format, ImportOptions, Writer};
use kvidxkit::{Engine, Error, Store};

use super::Ctx;
use crate::cli::{FormatArg, ImportFormat};
use crate::fail::{self, Fail, Outcome};
use crate::open::{Access, Target};
use crate::progress::Progress;
use crate::text;

/// A path removed when dropped (a file, its SQLite companions, or a
/// directory), unless [`Scratch::keep`] was called.
struct Scratch(Option<PathBuf>);

impl Scratch {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                let _ = std::fs::remove_file(&p);
                for suffix in ["-wal", "-journal", "-shm"] {
                    let mut s = p.clone().into_os_string();
                    s.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(s));
                }
            }
        }
    }
}

/// A file in the temporary directory for data passing through a pipe.
fn temp_file(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("kvidx-{what}-{}", std::process::id()))
}

/// Options of `export`.
pub struct ExportArgs {
    /// Where to write ("-": standard output).
    pub file: PathBuf,
    /// The format (None: from the file's suffix).
    pub format: Option<FormatArg>,
    /// The keys.
    pub range: RangeInclusive<u64>,
    /// JSON: one entry per line.
    pub pretty: bool,
    /// JSON and CSV: term and cmd.
    pub metadata: bool,
}

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Binary => Format::Binary,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
    }
}

/// A writer that cannot seek: standard output under a [`Writer`] of a text
/// format (whose `finish` never seeks).
struct NoSeek<W>(W);

impl<W: Write> Write for NoSeek<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write(b)
    }
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.0.write_all(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W> Seek for NoSeek<W> {
    fn seek(&mut self, _: SeekFrom) -> std::io::Result<u64> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "standard output cannot seek"))
    }
}

/// `export`: writes a range to a file or standard output.
pub fn export<E: Engine>(ctx: &Ctx, t: &Target, a: ExportArgs) -> Outcome {
    let to_stdout = a.file.as_os_str() == "-";
    let format = a.format.map(format_of).unwrap_or_else(|| match a.file.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
        Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
        _ => Format::Binary,
    });
    if to_stdout && format == Format::Binary && std::io::stdout().is_terminal() {
        return Err(Fail::usage(
            "a binary export is not written to a terminal: redirect standard output, or choose --format json or csv",
        ));
    }
    let mut s = t.open::<E>(Access::Read)?;
    let opts = ExportOptions {
        format,
        start: *a.range.start(),
        end: *a.range.end(),
        include_metadata: a.metadata,
        pretty: a.pretty,
    };
    let began = Instant::now();
    let mut p = Progress::new(ctx.quiet, format!("exporting {}", t.shown()), "entries");
    let mut step = |n, total| {
        p.update(n, total);
        true
    };
    let (n, bytes) = if !to_stdout {
        let n = s.export_to_with_progress(&a.file, &opts, &mut step).map_err(|e| t.fail(e))?;
        (n, std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0))
    } else if format == Format::Binary {
        // The entry count leads a binary export: written to a file first.
        let tmp = temp_file("export");
        let scratch = Scratch(Some(tmp.clone()));
        let n = s.export_to_with_progress(&tmp, &opts, &mut step).map_err(|e| t.fail(e))?;
        let mut f = std::fs::File::open(&tmp).map_err(|e| Fail::io("cannot read", &tmp, e))?;
        let mut out = ctx.stdout();
        let bytes = std::io::copy(&mut f, &mut out).and_then(|b| out.flush().map(|()| b)).map_err(fail::stdout)?;
        drop(scratch);
        (n, bytes)
    } else {
        stream_text(&mut s, t, &opts, ctx, &mut step)?
    };
    p.done();
    ctx.note(
        &format!(
            "exported {n} entries from {} to {} ({}, {}) in {}",
            t.shown(),
            if to_stdout { "standard output".to_string() } else { a.file.display().to_string() },
            format.name(),
            text::size(bytes),
            text::duration(began.elapsed())
        ),
        to_stdout,
    );
    Ok(())
}

/// A JSON or CSV export to standard output: one scan of the store.
fn stream_text<E: Engine>(
    s: &mut Store<E>,
    t: &Target,
    opts: &ExportOptions,
    ctx: &Ctx,
    step: &mut dyn FnMut(u64, u64) -> bool,
) -> Outcome<(u64, u64)> {
    let total = s.count_range(opts.start..=opts.end).map_err(|e| t.fail(e))?;
    let counted = Counted { inner: ctx.stdout(), bytes: 0 };
    let mut w = Writer::new(NoSeek(counted), opts.format, opts.include_metadata, opts.pretty).map_err(fail::stdout)?;
    let mut failed = None;
    s.for_each_in(opts.start..=opts.end, |e| {
        if let Err(err) = w.entry(e.key, e.term, e.cmd, e.data) {
            failed = Some(err);
            return false;
        }
        let n = w.count();
        if n.is_multiple_of(1000) {
            step(n, total);
        }
        true
    })
    .map_err(|e| t.fail(e))?;
    if let Some(e) = failed {
        return Err(fail::stdout(e));
    }
    let n = w.count();
    step(n, total);
    let out = w.finish().map_err(fail::stdout)?;
    Ok((n, out.0.bytes))
}

/// Counts the bytes written through it.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Options of `import`.
pub struct ImportArgs {
    /// The file ("-": standard input).
    pub file: PathBuf,
    /// The format.
    pub format: ImportFormat,
    /// Remove every entry first.
    pub clear: bool,
    /// Skip entries whose key exists.
    pub skip_duplicates: bool,
}

/// `import`: adds the entries of an export file, all or nothing.
pub fn import<E: Engine>(ctx: &Ctx, t: &Target, a: ImportArgs) -> Outcome {
    let from_stdin = a.file.as_os_str() == "-";
    let mut scratch = Scratch(None);
    let file = if from_stdin {
        // An import reads its file twice (validation, then the inserts).
        let tmp = temp_file("import");
        scratch.0 = Some(tmp.clone());
        let mut f = std::fs::File::create(&tmp).map_err(|e| Fail::io("cannot create", &tmp, e))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut f)
            .and_then(|_| f.flush())
            .map_err(|e| Fail::error(format!("cannot read standard input: {e}")))?;
        tmp
    } else {
        // Checked before the store is opened (and perhaps created).
        let mut f = std::fs::File::open(&a.file).map_err(|e| Fail::io("cannot read", &a.file, e))?;
        f.read(&mut [0u8; 1]).map_err(|e| Fail::io("cannot read", &a.file, e))?;
        a.file.clone()
    };
    let shown = if from_stdin { "standard input".to_string() } else { a.file.display().to_string() };
    let opts = ImportOptions {
        format: match a.format {
            ImportFormat::Auto => None,
            ImportFormat::Binary => Some(Format::Binary),
            ImportFormat::Json => Some(Format::Json),
            ImportFormat::Csv => Some(Format::Csv),
        },
        validate_data: true,
        skip_duplicates: a.skip_duplicates,
        clear_before_import: a.clear,
    };
    let mut s = t.open::<E>(Access::Create)?;
    let began = Instant::now();
    let mut p = Progress::new(ctx.quiet, format!("validating {shown}"), "entries");
    let mut total = 0u64;
    let r = s.import_from_with_progress(&file, &opts, &mut |n, tot| {
        if total == 0 {
            p.message(format!("importing {shown}"));
        }
        total = tot;
        p.update(n, tot);
        true
    });
    p.done();
    let n = match r {
        Ok(n) => n,
        Err(Error::Corrupt(m)) => {
            return Err(Fail::error(format!("{shown}: not a valid export file: {m} (nothing was imported)")));
        }
        Err(Error::DuplicateKey(k)) => {
            return Err(Fail::error(format!(
                "{}: key {k} exists already (nothing was imported; --skip-duplicates skips such entries, \
                 --clear empties the store first)",
                t.shown()
            )));
        }
        Err(e) => return Err(t.fail(e)),
    };
    super::entries::close(t, s)?;
    drop(scratch);
    let skipped = if a.skip_duplicates && total > n { format!(", {} skipped", total - n) } else { String::new() };
    ctx.note(
        &format!(
            "imported {n} entries from {shown} into {}{skipped} in {}",
            t.shown(),
            text::duration(began.elapsed())
        ),
        false,
    );
    Ok(())
}

/// Renames `from` to `to` unless `to` exists.
fn rename_new(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(from)?, c(to)?);
    // SAFETY: two NUL-terminated paths.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_NOREPLACE) };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        // A file system without RENAME_NOREPLACE.
        Some(libc::EINVAL | libc::ENOSYS) if std::fs::symlink_metadata(to).is_err() => std::fs::rename(from, to),
        _ => Err(e),
    }
}

/// `copy`: a new store at `dst` holding what `src` holds.
pub fn copy<S: Engine, D: Engine>(ctx: &Ctx, src: &Target, dst: &Target) -> Outcome {
    let Some(name) = dst.path.file_name() else {
        return Err(Fail::usage(format!("{}: not a name for a new store", dst.shown())));
    };
    let mut s = src.open::<S>(Access::Read)?;
    // Built next to DST (the same file system) under a name of its own.
    let tmp = dst.path.with_file_name(format!(".{}.kvidx-tmp-{}", name.to_string_lossy(), std::process::id()));
    let scratch = Scratch(Some(tmp.clone()));
    let mut d = Store::<D>::open(&tmp).map_err(|e| dst.fail(e))?;
    let began = Instant::now();
    let mut p = Progress::new(ctx.quiet, format!("copying {} to {}", src.shown(), dst.shown()), "entries");
    let r = s.copy_into(&mut d, &mut |n, total| {
        p.update(n, total);
        true
    });
    p.done();
    let report = r.map_err(|e| Fail::error(format!("cannot copy {} to {}: {e}", src.shown(), dst.shown())))?;
    d.close().map_err(|(_, e)| dst.fail(e))?;
    rename_new(&tmp, &dst.path).map_err(|e| Fail::io("cannot create", &dst.path, e))?;
    scratch.keep();
    ctx.note(
        &format!(
            "copied {} entries ({} with an expiry time) from {} ({}) to {} ({}) in {}; counts checked",
            report.entries,
            report.ttls,
            src.shown(),
            src.kind.name(),
            dst.shown(),
            dst.kind.name(),
            text::duration(began.elapsed())
        ),
        false,
    );
    Ok(())
}
