//! Export/import file formats: readers and writers, no database code.
//!
//! Three formats, all holding a sequence of entries `(key, term, cmd,
//! value bytes)` in the order they were written (an export writes unsigned
//! key order):
//!
//! * [`binary`] — the original's binary layout, byte for byte (24-byte
//!   header with magic, version 1 and the entry count, then fixed 32-byte
//!   entry headers each followed by the value).
//! * [`json`] — the original's JSON text, byte for byte whenever every value
//!   is valid UTF-8; other values use a `"dataBase64"` member.
//! * [`csv`] — the original's CSV text, byte for byte whenever every value
//!   is valid UTF-8; other values are written as the quoted field
//!   `"base64:…"`, a form the original never writes (it quotes only values
//!   holding `,` `"` LF or CR), so every file it wrote reads back exactly.
//!
//! Every format round-trips exactly: importing an export reproduces every
//! key, term, cmd and value byte (JSON and CSV exports without metadata
//! import with term and cmd 0). The exact encoding rules are documented in
//! each module.
//!
//! # Reading
//!
//! Readers validate everything and never trust a length field: a binary
//! entry count or value length is checked against the bytes the file really
//! has before anything is allocated, and values are read in bounded chunks.
//! Any malformed input — bad magic, unknown version, truncation at any byte,
//! an entry count that disagrees with the file (fewer **or more** bytes than
//! announced), invalid JSON or CSV, a number that is not an unsigned 64-bit
//! integer, a NUL byte outside a value — is [`Error::Corrupt`] naming the
//! byte offset (binary) or the line (JSON, CSV). Failures to open or read
//! the file are [`Error::Io`].
//!
//! # Format detection
//!
//! [`detect`] (used when an import asks for auto-detection, which is what
//! the C API's `KVIDX_EXPORT_BINARY` means on import): a file starting with
//! the 8 magic bytes `00 4B 56 45 56 49 44 58` — or a shorter file that is a
//! non-empty prefix of them — is binary; otherwise a file whose first byte
//! that is not JSON whitespace (space, tab, LF, CR) is `{` is JSON;
//! otherwise CSV. An explicit JSON or CSV format skips detection (an
//! explicit binary format is not possible through the C API, where BINARY
//! means "auto").
//!
//! # Files
//!
//! Only regular files are read or written (by export, import and [`open_reader`]):
//! a directory, FIFO, socket or device is refused with [`Error::Io`] without
//! blocking (paths are opened with `O_NONBLOCK` and checked with `fstat`).
//! An import reads its file twice (validation, then the atomic apply), which
//! a pipe could not support.
//!
//! # `validateData`
//!
//! The C option `validateData` (and [`ImportOptions::validate_data`]) is
//! accepted for compatibility and has no effect: an import always validates
//! the whole file before it changes anything.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::store::EntryRef;

#[doc(hidden)]
pub mod base64;
pub mod binary;
pub mod csv;
pub mod json;
mod scan;
mod text;

/// A file format of [`crate::Store::export_to`] and
/// [`crate::Store::import_from`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The original's binary layout ([`binary`]): compact, fastest, keeps
    /// every byte.
    Binary,
    /// One JSON document ([`json`]): readable, values as text (base64 when
    /// not UTF-8).
    Json,
    /// CSV with a header line ([`csv`]): for spreadsheets and scripts.
    Csv,
}

impl Format {
    /// The format of a C `kvidxExportFormat` value (0, 1, 2).
    pub fn from_raw(v: u32) -> Option<Format> {
        match v {
            0 => Some(Format::Binary),
            1 => Some(Format::Json),
            2 => Some(Format::Csv),
            _ => None,
        }
    }

    /// "binary", "JSON" or "CSV" (for messages).
    pub fn name(self) -> &'static str {
        match self {
            Format::Binary => "binary",
            Format::Json => "JSON",
            Format::Csv => "CSV",
        }
    }
}

/// Options of [`crate::Store::export_to`] (the C `kvidxExportOptions`).
/// Start from `ExportOptions::default()` and change what you need:
///
/// ```
/// # use kvidxkit::formats::{ExportOptions, Format};
/// let opts = ExportOptions { format: Format::Csv, start: 100, end: 199, ..ExportOptions::default() };
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The file format (default [`Format::Binary`]).
    pub format: Format,
    /// First key exported (inclusive).
    pub start: u64,
    /// Last key exported (inclusive). `start > end` exports nothing.
    pub end: u64,
    /// JSON/CSV: write term and cmd (binary always has them).
    pub include_metadata: bool,
    /// JSON: one entry per line.
    pub pretty: bool,
}

impl Default for ExportOptions {
    /// The C defaults: binary, every key, metadata, compact.
    fn default() -> Self {
        ExportOptions { format: Format::Binary, start: 0, end: u64::MAX, include_metadata: true, pretty: false }
    }
}

/// Options of [`crate::Store::import_from`] (the C `kvidxImportOptions`);
/// `ImportOptions::default()` detects the format and fails on an existing
/// key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// `None`: detect the format ([`detect`]).
    pub format: Option<Format>,
    /// Accepted for compatibility; the file is always fully validated.
    pub validate_data: bool,
    /// Skip entries whose key already exists (live) instead of failing with
    /// [`Error::DuplicateKey`]. Skipped entries are not counted as imported.
    pub skip_duplicates: bool,
    /// Remove every entry (and TTL) first, in the same atomic unit.
    pub clear_before_import: bool,
}

impl Default for ImportOptions {
    /// The C defaults: auto-detect, validate, no skipping, no clearing.
    fn default() -> Self {
        ImportOptions { format: None, validate_data: true, skip_duplicates: false, clear_before_import: false }
    }
}

// ----------------------------------------------------------------------
// Writing

/// Writes entries in one format to `W`. Call [`Writer::entry`] for each
/// entry, then [`Writer::finish`] (which writes the footer and, for binary,
/// the real entry count into the header).
pub struct Writer<W: Write> {
    inner: W,
    format: Format,
    metadata: bool,
    pretty: bool,
    count: u64,
    /// Bytes written so far (binary: to seek back to the count field).
    bytes: u64,
    scratch: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// Writes the header. `include_metadata` applies to JSON/CSV, `pretty`
    /// to JSON.
    pub fn new(mut inner: W, format: Format, include_metadata: bool, pretty: bool) -> io::Result<Self> {
        let mut scratch = Vec::with_capacity(256);
        match format {
            Format::Binary => binary::header(&mut scratch, 0),
            Format::Json => json::header(&mut scratch, pretty),
            Format::Csv => csv::header(&mut scratch, include_metadata),
        }
        inner.write_all(&scratch)?;
        let bytes = scratch.len() as u64;
        scratch.clear();
        Ok(Writer { inner, format, metadata: include_metadata, pretty, count: 0, bytes, scratch })
    }

    /// Writes one entry.
    #[inline]
    pub fn entry(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> io::Result<()> {
        if self.format == Format::Binary {
            // The hot path of a binary export: inlined into the scan loop.
            let h = binary::entry_header(key, term, cmd, data.len() as u64);
            self.inner.write_all(&h)?;
            self.inner.write_all(data)?;
            self.bytes += (h.len() + data.len()) as u64;
            self.count += 1;
            return Ok(());
        }
        self.text_entry(key, term, cmd, data)
    }

    fn text_entry(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> io::Result<()> {
        let s = &mut self.scratch;
        s.clear();
        match self.format {
            Format::Binary => return self.entry(key, term, cmd, data),
            Format::Json => json::entry(s, self.count == 0, self.metadata, self.pretty, key, term, cmd, data),
            Format::Csv => csv::entry(s, self.metadata, key, term, cmd, data),
        }
        self.inner.write_all(s)?;
        self.bytes += s.len() as u64;
        self.count += 1;
        // Do not keep a huge buffer alive after one big value.
        if s.capacity() > 1 << 20 {
            *s = Vec::with_capacity(256);
        }
        Ok(())
    }

    /// Entries written so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl<W: Write + Seek> Writer<W> {
    /// Writes the footer (JSON) or the final entry count (binary, by seeking
    /// back to the header), flushes, and returns the stream positioned at its
    /// end.
    pub fn finish(mut self) -> io::Result<W> {
        match self.format {
            Format::Binary => {
                let back = self.bytes - binary::COUNT_OFFSET;
                self.inner.seek(SeekFrom::Current(-(back as i64)))?;
                self.inner.write_all(&self.count.to_le_bytes())?;
                self.inner.seek(SeekFrom::Current((back - 8) as i64))?;
            }
            Format::Json => {
                self.scratch.clear();
                json::footer(&mut self.scratch, self.pretty);
                self.inner.write_all(&self.scratch)?;
            }
            Format::Csv => {}
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

// ----------------------------------------------------------------------
// Reading

/// A reader of any format, yielding validated entries one by one: read an
/// export file without a store ([`open_reader`] opens one from a path).
///
/// ```
/// # use kvidxkit::formats::{Format, Reader, Writer};
/// let mut out = std::io::Cursor::new(Vec::new());
/// let mut w = Writer::new(&mut out, Format::Csv, true, false)?;
/// w.entry(1, 2, 3, b"hello")?;
/// w.finish()?;
/// let mut r = Reader::new(std::io::Cursor::new(out.into_inner()), Format::Csv, None);
/// let e = r.next_entry()?.unwrap();
/// assert_eq!((e.key, e.term, e.cmd, e.data), (1, 2, 3, &b"hello"[..]));
/// assert!(r.next_entry()?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum Reader<R: BufRead> {
    /// Reading [`Format::Binary`].
    Binary(binary::Reader<R>),
    /// Reading [`Format::Json`].
    Json(json::Reader<R>),
    /// Reading [`Format::Csv`].
    Csv(csv::Reader<R>),
}

impl<R: BufRead> Reader<R> {
    /// A reader of `format`. `len` is the total size of the input when known
    /// (binary counts and lengths are checked against it up front).
    pub fn new(input: R, format: Format, len: Option<u64>) -> Self {
        match format {
            Format::Binary => Reader::Binary(binary::Reader::new(input, len)),
            Format::Json => Reader::Json(json::Reader::new(input)),
            Format::Csv => Reader::Csv(csv::Reader::new(input)),
        }
    }

    /// The next entry; `Ok(None)` after the last one once the whole input has
    /// been validated (nothing may follow).
    pub fn next_entry(&mut self) -> Result<Option<EntryRef<'_>>> {
        match self {
            Reader::Binary(r) => r.next_entry(),
            Reader::Json(r) => r.next_entry(),
            Reader::Csv(r) => r.next_entry(),
        }
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        match self {
            Reader::Binary(_) => Format::Binary,
            Reader::Json(_) => Format::Json,
            Reader::Csv(_) => Format::Csv,
        }
    }
}

/// The format of a file that starts with `head` (the first bytes of the
/// file, as many as are available up to the first non-whitespace byte after
/// the 8th; see the module documentation).
pub fn detect(head: &[u8]) -> Format {
    let n = head.len().min(8);
    if n > 0 && head[..n] == binary::MAGIC_BYTES[..n] {
        return Format::Binary;
    }
    match head.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        Some(b'{') => Format::Json,
        _ => Format::Csv,
    }
}

/// Detects the format of `input` by reading its beginning (consumes it).
pub fn detect_from<R: Read>(input: R) -> Result<Format> {
    let mut r = BufReader::with_capacity(4096, input);
    let mut head = Vec::with_capacity(16);
    loop {
        let buf = r.fill_buf().map_err(|e| Error::Io(format!("cannot read the file: {e}")))?;
        if buf.is_empty() {
            break;
        }
        let mut used = 0;
        let mut done = false;
        for &b in buf {
            used += 1;
            head.push(b);
            if head.len() >= 8 && !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                done = true;
                break;
            }
        }
        r.consume(used);
        if done {
            break;
        }
        // Long runs of whitespace: only the first 8 bytes and whether the
        // first non-whitespace byte is `{` matter.
        if head.len() > 64 {
            head.drain(8..head.len() - 1);
        }
    }
    Ok(detect(&head))
}

fn io_err(what: &str, path: &Path, e: io::Error) -> Error {
    Error::Io(format!("{what} '{}': {e}", path.display()))
}

/// Opens a regular file for reading without blocking on FIFOs; returns it
/// and its size.
#[doc(hidden)]
pub fn open_input(path: &Path) -> Result<(File, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| io_err("cannot open", path, e))?;
    let md = f.metadata().map_err(|e| io_err("cannot stat", path, e))?;
    if !md.is_file() {
        return Err(Error::Io(format!("'{}' is {}, not a regular file", path.display(), file_kind(&md))));
    }
    Ok((f, md.len()))
}

/// Creates (or truncates) a regular file for writing. An existing path that
/// is not a regular file is refused and left alone, without blocking.
#[doc(hidden)]
pub fn create_output(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(md) = std::fs::metadata(path)
        && !md.is_file()
    {
        return Err(Error::Io(format!("'{}' is {}, not a regular file", path.display(), file_kind(&md))));
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| io_err("cannot create", path, e))?;
    let md = f.metadata().map_err(|e| io_err("cannot stat", path, e))?;
    if !md.is_file() {
        return Err(Error::Io(format!("'{}' is {}, not a regular file", path.display(), file_kind(&md))));
    }
    // Truncate only what has content: an ftruncate of a new, empty file
    // makes ext4 flush the whole file when it is closed (its replace-by-
    // truncate heuristic), about a tenth of a large export.
    if md.len() > 0 {
        f.set_len(0).map_err(|e| io_err("cannot truncate", path, e))?;
    }
    Ok(f)
}

fn file_kind(md: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = md.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Opens `path` and returns a reader of its format (`None`: detect).
pub fn open_reader(path: &Path, format: Option<Format>) -> Result<Reader<BufReader<File>>> {
    let (mut f, len) = open_input(path)?;
    let format = match format {
        Some(f) => f,
        None => {
            let fmt = detect_from(&mut f)?;
            f.seek(SeekFrom::Start(0)).map_err(|e| io_err("cannot rewind", path, e))?;
            fmt
        }
    };
    Ok(Reader::new(BufReader::with_capacity(64 * 1024, f), format, Some(len)))
}

/// Reads and validates a whole file without keeping its entries. Returns the
/// format (detected when `format` is `None`) and the number of entries.
pub fn validate_file(path: &Path, format: Option<Format>) -> Result<(Format, u64)> {
    let mut r = open_reader(path, format)?;
    let mut n = 0u64;
    while r.next_entry()?.is_some() {
        n += 1;
    }
    Ok((r.format(), n))
}
