//! The CSV format — the original's text, byte for byte whenever every value
//! is valid UTF-8.
//!
//! # What the original writes, and the room that leaves
//!
//! The original writes a value field as its raw bytes, wrapped in `"` (with
//! every `"` doubled) exactly when the value contains `,`, `"`, LF or CR;
//! an empty value is an empty field. So a quoted field the original wrote
//! always holds at least one of those four bytes: **a quoted field without
//! any of them is never written by the original**. Our encoding of values
//! that are not valid UTF-8 lives there, so that no file the original can
//! write reads differently.
//!
//! # Writing
//!
//! * Header line `key,term,cmd,data` with metadata, `key,data` without.
//! * One line per entry: `K,` + (metadata: `T,C,`) + value field. Numbers are
//!   unsigned decimal. Lines end in LF (never CRLF); no BOM.
//! * Value field:
//!   * empty value → empty field;
//!   * a valid UTF-8 value → exactly what the original writes: its raw bytes
//!     (NUL, control and non-ASCII characters included), wrapped in `"`
//!     with every `"` doubled when it contains `,`, `"`, LF or CR (RFC 4180
//!     quoting) — also when it happens to start with `base64:`;
//!   * any other value (not valid UTF-8) → `"base64:` + standard padded
//!     base64 (RFC 4648) of the value + `"`: a quoted field without `,`,
//!     `"`, LF or CR, which the original never writes. The file stays valid
//!     UTF-8 text (the original wrote the raw bytes, which many CSV readers
//!     reject or alter).
//!
//! # Reading
//!
//! The first line must be exactly one of the two headers; every following
//! line is one record with exactly as many fields as the header (the last
//! field is the value). A field is either unquoted (any bytes except `,`,
//! `"`, CR and LF) or quoted (`"` … `"`, `""` for a quote, any other byte
//! including `,`, CR and LF literal), immediately followed by `,` or the
//! end of the line. Lines end in LF; CRLF is accepted too. Every line,
//! including the last, must end with a line end (a file cut in the middle of
//! a line is corrupt; a file cut exactly after a line end is a valid file
//! with fewer entries, since CSV has no entry count). Key, term and cmd must
//! be non-empty decimal digit strings that fit in 64 bits (leading zeros are
//! accepted). A value field that is quoted, contains none of `,`, `"`, LF,
//! CR and starts with `base64:` is decoded as strict base64 (invalid base64
//! there is corrupt); every other value field is taken byte for byte (NUL
//! bytes and non-UTF-8 bytes included), so every file the original wrote
//! imports exactly — `1,base64:SGVsbG8=` is the 15 bytes `base64:SGVsbG8=`.
//! Anything else — missing or extra fields, a stray quote, a bare CR, an
//! empty file — is [`Error::Corrupt`] with the line number.

use std::io::BufRead;

use super::base64;
use super::scan::{any_csv_special, csv_special, csv_special_word, push_u64, quote, quote_word};
use super::text::Src;
use crate::error::{Error, Result};
use crate::store::EntryRef;

const HEADER_META: &[u8] = b"key,term,cmd,data";
const HEADER_PLAIN: &[u8] = b"key,data";
/// Prefix of the content of a base64-encoded value field (which is quoted).
#[doc(hidden)]
pub const BASE64_PREFIX: &[u8] = b"base64:";

/// Appends the header line.
#[doc(hidden)]
pub fn header(out: &mut Vec<u8>, metadata: bool) {
    out.extend_from_slice(if metadata { HEADER_META } else { HEADER_PLAIN });
    out.push(b'\n');
}

/// Appends one record line.
#[doc(hidden)]
pub fn entry(out: &mut Vec<u8>, metadata: bool, key: u64, term: u64, cmd: u64, data: &[u8]) {
    push_u64(out, key);
    out.push(b',');
    if metadata {
        push_u64(out, term);
        out.push(b',');
        push_u64(out, cmd);
        out.push(b',');
    }
    value_field(out, data);
    out.push(b'\n');
}

/// Appends the value field (see the module documentation).
#[doc(hidden)]
pub fn value_field(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    if std::str::from_utf8(data).is_err() {
        out.push(b'"');
        out.extend_from_slice(BASE64_PREFIX);
        base64::encode_into(data, out);
        out.push(b'"');
    } else if any_csv_special(data) {
        out.push(b'"');
        for &b in data {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(data);
    }
}

/// Reads a CSV export entry by entry.
pub struct Reader<R> {
    src: Src<R>,
    /// Fields per record, once the header has been read.
    fields: Option<usize>,
    done: bool,
    data: Vec<u8>,
    field: Vec<u8>,
    decoded: Vec<u8>,
}

/// How a field ended.
#[derive(PartialEq, Eq)]
enum End {
    Comma,
    Line,
}

impl<R: BufRead> Reader<R> {
    /// A reader of the CSV text in `input`.
    pub fn new(input: R) -> Self {
        Reader {
            src: Src::new(input),
            fields: None,
            done: false,
            data: Vec::new(),
            field: Vec::new(),
            decoded: Vec::new(),
        }
    }

    fn err_at(line: u64, msg: impl std::fmt::Display) -> Error {
        Error::Corrupt(format!("invalid CSV export at line {line}: {msg}"))
    }

    fn read_header(&mut self) -> Result<usize> {
        let mut line = Vec::new();
        while let Some(c) = self.src.peek()? {
            if c == b'\n' {
                break;
            }
            if line.len() > HEADER_META.len() + 1 {
                break;
            }
            line.push(c);
            self.src.next()?;
        }
        if line.is_empty() && self.src.peek()?.is_none() {
            return Err(Self::err_at(
                1,
                "the file is empty (expected the header line \"key,term,cmd,data\" or \"key,data\")",
            ));
        }
        let ended = self.src.next()? == Some(b'\n');
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let n = match &line[..] {
            HEADER_META => 4,
            HEADER_PLAIN => 2,
            _ => {
                return Err(Self::err_at(
                    1,
                    format!(
                        "expected the header line \"key,term,cmd,data\" or \"key,data\", found \"{}\"",
                        String::from_utf8_lossy(&line).escape_debug()
                    ),
                ));
            }
        };
        if !ended {
            return Err(Self::err_at(1, "the header line has no line end"));
        }
        Ok(n)
    }

    /// Reads one field into `out` (cleared first); `last`: the field ends the
    /// record. Returns how it ended and whether it was quoted.
    fn field(&mut self, out: &mut Vec<u8>, last: bool, start_line: u64) -> Result<(End, bool)> {
        out.clear();
        let quoted = self.src.peek()? == Some(b'"');
        if quoted {
            let quote_line = self.src.line;
            self.src.next()?;
            loop {
                match self.src.take_until(out, quote, quote_word)? {
                    None => {
                        return Err(Self::err_at(quote_line, "unexpected end of file inside a quoted field"));
                    }
                    _ => {
                        self.src.next()?;
                        if self.src.peek()? == Some(b'"') {
                            self.src.next()?;
                            out.push(b'"');
                        } else {
                            break;
                        }
                    }
                }
            }
        } else {
            self.src.take_until(out, csv_special, csv_special_word)?;
        }
        let line = self.src.line;
        let end = match self.src.next()? {
            Some(b',') if !last => Ok(End::Comma),
            Some(b',') => Err(Self::err_at(line, "too many fields")),
            Some(b'\n') if last => Ok(End::Line),
            Some(b'\n') => Err(Self::err_at(start_line, "too few fields")),
            Some(b'\r') => match self.src.next()? {
                Some(b'\n') if last => Ok(End::Line),
                Some(b'\n') => Err(Self::err_at(start_line, "too few fields")),
                _ => Err(Self::err_at(line, "carriage return outside a quoted field")),
            },
            Some(b'"') => Err(Self::err_at(line, "stray '\"' in a field (quote the whole field)")),
            Some(c) => Err(Self::err_at(line, format!("unexpected byte 0x{c:02x} after a quoted field"))),
            None => Err(Self::err_at(line, "unexpected end of file: the last line has no line end")),
        }?;
        Ok((end, quoted))
    }

    fn number(&self, line: u64, what: &str) -> Result<u64> {
        let f = &self.field;
        if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
            return Err(Self::err_at(
                line,
                format!(
                    "{what} must be an unsigned decimal integer, found \"{}\"",
                    String::from_utf8_lossy(f).escape_debug()
                ),
            ));
        }
        // Digits only: valid UTF-8.
        let s = std::str::from_utf8(f).unwrap_or_default();
        s.parse::<u64>().map_err(|_| Self::err_at(line, format!("{what} {s} does not fit in 64 bits")))
    }

    /// The next entry; `Ok(None)` at the end of the file.
    pub fn next_entry(&mut self) -> Result<Option<EntryRef<'_>>> {
        if self.done {
            return Ok(None);
        }
        let n = match self.fields {
            Some(n) => n,
            None => {
                let n = self.read_header()?;
                self.fields = Some(n);
                n
            }
        };
        if self.src.peek()?.is_none() {
            self.done = true;
            return Ok(None);
        }
        let line = self.src.line;
        let mut nums = [0u64; 3];
        for (i, what) in ["key", "term", "cmd"].iter().enumerate().take(n - 1) {
            let mut f = std::mem::take(&mut self.field);
            let r = self.field(&mut f, false, line);
            self.field = f;
            r?;
            if self.field.len() > 64 {
                return Err(Self::err_at(line, format!("{what} is too long")));
            }
            nums[i] = self.number(line, what)?;
        }
        let mut d = std::mem::take(&mut self.data);
        let r = self.field(&mut d, true, line);
        self.data = d;
        let (_, quoted) = r?;
        // Our encoding of a non-UTF-8 value: a quoted field the original
        // never writes (no byte that would have made it quote).
        let encoded = quoted && !any_csv_special(&self.data);
        if let Some(b64) = self.data.strip_prefix(BASE64_PREFIX).filter(|_| encoded) {
            if let Err(e) = base64::decode_into(b64, &mut self.decoded) {
                return Err(Self::err_at(line, format!("value: {e}")));
            }
            std::mem::swap(&mut self.data, &mut self.decoded);
        }
        let (key, term, cmd) = if n == 4 { (nums[0], nums[1], nums[2]) } else { (nums[0], 0, 0) };
        Ok(Some(EntryRef { key, term, cmd, data: &self.data }))
    }
}
