//! The commands, one module per group, and what they share: the context,
//! printing entries.

pub mod admin;
pub mod entries;
pub mod scan;
pub mod transfer;

use std::io::{BufWriter, StdoutLock, Write};

use kvidxkit::SetCondition;
use kvidxkit::formats::{csv, json};

use crate::cli::{Cli, Command, ScanFormat};
use crate::fail::{Fail, Outcome};
use crate::open::{Target, on_engine};

/// What every command may need besides its arguments.
pub struct Ctx {
    /// `--quiet`: no progress, no summaries.
    pub quiet: bool,
}

impl Ctx {
    /// Standard output, buffered.
    pub fn stdout(&self) -> BufWriter<StdoutLock<'static>> {
        BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
    }

    /// Prints a result line.
    pub fn line(&self, text: &str) -> Outcome {
        let mut out = self.stdout();
        writeln!(out, "{text}").and_then(|()| out.flush()).map_err(crate::fail::stdout)
    }

    /// Prints a summary line (not with `--quiet`): on standard output, or on
    /// standard error when standard output carries data.
    pub fn note(&self, text: &str, to_stderr: bool) {
        if self.quiet {
            return;
        }
        if to_stderr {
            eprintln!("{text}");
        } else {
            let _ = self.line(text);
        }
    }
}

/// An entry to print.
pub struct Row<'a> {
    /// The key.
    pub key: u64,
    /// The term.
    pub term: u64,
    /// The cmd.
    pub cmd: u64,
    /// The value.
    pub data: &'a [u8],
}

/// Prints entries in one of the `scan` formats.
pub struct RowWriter<W: Write> {
    out: W,
    format: ScanFormat,
    /// Column widths of the table (they grow when a wider number comes).
    widths: [usize; 3],
    started: bool,
    buf: Vec<u8>,
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

impl<W: Write> RowWriter<W> {
    /// A writer of `format`; `max_key` sizes the key column of a table.
    pub fn new(out: W, format: ScanFormat, max_key: u64) -> Self {
        RowWriter { out, format, widths: [digits(max_key).max(3), 4, 3], started: false, buf: Vec::with_capacity(256) }
    }

    fn start(&mut self) -> std::io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        match self.format {
            ScanFormat::Csv => {
                let mut h = Vec::new();
                csv::header(&mut h, true);
                self.out.write_all(&h)
            }
            _ => Ok(()),
        }
    }

    /// Prints one entry.
    pub fn row(&mut self, r: Row<'_>) -> std::io::Result<()> {
        let b = &mut self.buf;
        b.clear();
        match self.format {
            ScanFormat::Table => {
                if !self.started {
                    self.widths[1] = self.widths[1].max(digits(r.term));
                    self.widths[2] = self.widths[2].max(digits(r.cmd));
                    let [k, t, c] = self.widths;
                    writeln!(b, "{:>k$}  {:>t$}  {:>c$}  VALUE", "KEY", "TERM", "CMD")?;
                }
                self.widths[0] = self.widths[0].max(digits(r.key));
                self.widths[1] = self.widths[1].max(digits(r.term));
                self.widths[2] = self.widths[2].max(digits(r.cmd));
                let [k, t, c] = self.widths;
                write!(b, "{:>k$}  {:>t$}  {:>c$}  ", r.key, r.term, r.cmd)?;
                crate::text::escape(r.data, b);
                b.push(b'\n');
            }
            ScanFormat::Json => {
                json::entry(b, true, true, false, r.key, r.term, r.cmd, r.data);
                b.push(b'\n');
            }
            ScanFormat::Csv => csv::entry(b, true, r.key, r.term, r.cmd, r.data),
            ScanFormat::Raw => {
                b.extend_from_slice(r.data);
                b.push(b'\n');
            }
        }
        self.start()?;
        self.out.write_all(&self.buf)
    }

    /// Ends the output (a CSV header even without entries) and flushes it.
    pub fn finish(mut self) -> std::io::Result<()> {
        if self.format == ScanFormat::Csv {
            self.start()?;
        }
        self.out.flush()
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> Outcome {
    let ctx = Ctx { quiet: cli.quiet };
    let engine = cli.engine;
    let wait = std::time::Duration::from_secs_f64(cli.wait);
    let target = |p: &std::path::Path| Target::new(p, engine, wait);
    match cli.command {
        Command::Info { path, json } => {
            let t = target(&path);
            on_engine!(t.kind, E => admin::info::<E>(&ctx, &t, json))
        }
        Command::Get { path, key, format } => {
            let t = target(&path);
            on_engine!(t.kind, E => entries::get::<E>(&ctx, &t, key, format))
        }
        Command::Put { path, key, value, file, term, cmd, nx, xx, ttl } => {
            let t = target(&path);
            let value = match (value, file) {
                (_, Some(f)) => entries::ValueSource::File(f),
                (Some(v), None) if v == "-" => entries::ValueSource::Stdin,
                (Some(v), None) => entries::ValueSource::Arg(std::os::unix::ffi::OsStringExt::into_vec(v)),
                (None, None) => return Err(Fail::usage("put needs a value: VALUE, --file F, or - for standard input")),
            };
            let cond = match (nx, xx) {
                (true, _) => SetCondition::IfNotExists,
                (_, true) => SetCondition::IfExists,
                _ => SetCondition::Always,
            };
            let a = entries::PutArgs { key, value, term, cmd, cond, ttl };
            on_engine!(t.kind, E => entries::put::<E>(&ctx, &t, a))
        }
        Command::Del { path, key } => {
            let t = target(&path);
            on_engine!(t.kind, E => entries::del::<E>(&ctx, &t, key))
        }
        Command::Ttl { path, key } => {
            let t = target(&path);
            on_engine!(t.kind, E => entries::ttl::<E>(&ctx, &t, key))
        }
        Command::Expire { path, key, ms } => {
            let t = target(&path);
            on_engine!(t.kind, E => entries::expire::<E>(&ctx, &t, key, ms))
        }
        Command::Persist { path, key } => {
            let t = target(&path);
            on_engine!(t.kind, E => entries::persist::<E>(&ctx, &t, key))
        }
        Command::Scan { path, range, reverse, limit, format } => {
            let t = target(&path);
            let a = scan::ScanArgs { range: range.bounds(), reverse, limit, format };
            on_engine!(t.kind, E => scan::scan::<E>(&ctx, &t, a))
        }
        Command::Count { path, range } => {
            let t = target(&path);
            on_engine!(t.kind, E => scan::count::<E>(&ctx, &t, range.bounds()))
        }
        Command::Export { path, file, format, range, pretty, no_metadata } => {
            let t = target(&path);
            let a = transfer::ExportArgs { file, format, range: range.bounds(), pretty, metadata: !no_metadata };
            on_engine!(t.kind, E => transfer::export::<E>(&ctx, &t, a))
        }
        Command::Import { path, file, format, clear, skip_duplicates } => {
            let t = target(&path);
            let a = transfer::ImportArgs { file, format, clear, skip_duplicates };
            on_engine!(t.kind, E => transfer::import::<E>(&ctx, &t, a))
        }
        Command::Copy { src, dst, to_engine } => {
            let s = target(&src);
            if std::fs::symlink_metadata(&dst).is_ok() {
                return Err(Fail::error(format!(
                    "{}: exists already (copy makes a new store; remove it or choose another name)",
                    dst.display()
                )));
            }
            let d = Target::new(&dst, to_engine, wait);
            on_engine!(s.kind, S => on_engine!(d.kind, D => transfer::copy::<S, D>(&ctx, &s, &d)))
        }
        Command::Verify { path } => {
            let t = target(&path);
            on_engine!(t.kind, E => admin::verify::<E>(&ctx, &t))
        }
        Command::Compact { path } => {
            let t = target(&path);
            on_engine!(t.kind, E => admin::compact::<E>(&ctx, &t))
        }
        Command::ExpireScan { path, max } => {
            let t = target(&path);
            on_engine!(t.kind, E => admin::expire_scan::<E>(&ctx, &t, max.unwrap_or(0)))
        }
        Command::Manpage => admin::manpage(&ctx),
    }
}
