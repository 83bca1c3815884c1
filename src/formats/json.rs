//! The JSON format — the original's text, byte for byte whenever every value
//! is valid UTF-8.
//!
//! # Writing
//!
//! * Header `{"format":"kvidx-json","version":1,"entries":[`, followed by
//!   `\n` when pretty.
//! * Each entry: `,` before every entry but the first; when pretty, `\n` and
//!   two spaces; then `{"key":K`, with metadata `,"term":T,"cmd":C`, then the
//!   value member and `}`. K, T, C are unsigned decimal (no quotes, exact for
//!   every u64).
//! * Value member, valid UTF-8 value: `,"data":"` + escaped value + `"`.
//!   Escapes: `"` → `\"`, `\` → `\\`, 0x08 → `\b`, 0x0C → `\f`, 0x0A → `\n`,
//!   0x0D → `\r`, 0x09 → `\t`, other bytes below 0x20 and 0x7F →
//!   `\u00XX` (lowercase hex); every other byte (including UTF-8 sequences)
//!   raw; `/` is not escaped.
//! * Value member, a value that is not valid UTF-8: `,"dataBase64":"` +
//!   standard padded base64 (RFC 4648) + `"` **instead of** `"data"`, so the
//!   file stays valid JSON.
//! * Footer: `\n` when pretty, then `]}` and `\n`. No other whitespace (so
//!   pretty output has an empty second line).
//!
//! # Reading
//!
//! A JSON document (RFC 8259 grammar; whitespace anywhere between tokens):
//! one object with exactly the members `"format"` (must be `"kvidx-json"`),
//! `"version"` (must be `1`) and `"entries"` (an array of entry objects), in
//! any order, each once. An entry object has `"key"` (required), `"term"`
//! and `"cmd"` (optional, default 0 — files written without metadata) and
//! exactly one of `"data"` (a string; its decoded bytes are the value) or
//! `"dataBase64"` (strict base64). Numbers must be unsigned decimal integers
//! that fit in 64 bits, parsed exactly (no fraction, exponent, sign or
//! leading zero; values above 2^53 are exact). Unknown or repeated members,
//! anything after the closing `}` but whitespace, raw control bytes
//! (including NUL) inside strings, invalid escapes and unpaired surrogates
//! are [`Error::Corrupt`] with the line number.
//!
//! For compatibility with files written by the original, raw bytes 0x80–0xFF
//! inside a `"data"` string are taken literally even when they are not valid
//! UTF-8 (the original wrote binary values that way), so every export of the
//! original imports exactly too.

use std::io::BufRead;

use super::base64;
use super::scan::{json_plain_prefix, json_string_stop, json_string_stop_word, push_u64};
use super::text::Src;
use crate::error::{Error, Result};
use crate::store::EntryRef;

const HEADER: &[u8] = b"{\"format\":\"kvidx-json\",\"version\":1,\"entries\":[";

/// Appends the header.
#[doc(hidden)]
pub fn header(out: &mut Vec<u8>, pretty: bool) {
    out.extend_from_slice(HEADER);
    if pretty {
        out.push(b'\n');
    }
}

/// Appends the footer.
#[doc(hidden)]
pub fn footer(out: &mut Vec<u8>, pretty: bool) {
    if pretty {
        out.push(b'\n');
    }
    out.extend_from_slice(b"]}\n");
}

/// Appends `data` escaped as the original does (without the quotes).
#[doc(hidden)]
pub fn escape(out: &mut Vec<u8>, data: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Runs of plain bytes are found eight bytes at a time and copied whole.
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        i += json_plain_prefix(&data[i..]);
        let Some(&b) = data.get(i) else { break };
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0C => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => b"",
        };
        out.extend_from_slice(&data[start..i]);
        if esc.is_empty() {
            // The other control bytes and DEL (json_plain_prefix stops
            // only at bytes json_escaped names).
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(esc);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&data[start..]);
}

/// Appends one entry (`first`: no leading comma).
#[allow(clippy::too_many_arguments)]
#[doc(hidden)]
pub fn entry(out: &mut Vec<u8>, first: bool, metadata: bool, pretty: bool, key: u64, term: u64, cmd: u64, data: &[u8]) {
    if !first {
        out.push(b',');
    }
    if pretty {
        out.extend_from_slice(b"\n  ");
    }
    out.extend_from_slice(b"{\"key\":");
    push_u64(out, key);
    if metadata {
        out.extend_from_slice(b",\"term\":");
        push_u64(out, term);
        out.extend_from_slice(b",\"cmd\":");
        push_u64(out, cmd);
    }
    if std::str::from_utf8(data).is_ok() {
        out.extend_from_slice(b",\"data\":\"");
        escape(out, data);
    } else {
        out.extend_from_slice(b",\"dataBase64\":\"");
        base64::encode_into(data, out);
    }
    out.extend_from_slice(b"\"}");
}

// ----------------------------------------------------------------------
// Reading

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// Inside the top-level object; `first`: no member read yet.
    Members {
        first: bool,
    },
    /// Inside the entries array.
    Entries {
        first: bool,
    },
    Done,
}

/// Reads a JSON export entry by entry.
pub struct Reader<R> {
    src: Src<R>,
    state: State,
    seen_format: bool,
    seen_version: bool,
    seen_entries: bool,
    data: Vec<u8>,
    tmp: Vec<u8>,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// What a second value member of an entry is called in the message.
const VALUE: &str = "value (\"data\"/\"dataBase64\")";

fn show(b: Option<u8>) -> String {
    match b {
        None => "end of file".into(),
        Some(c) if c.is_ascii_graphic() => format!("'{}'", c as char),
        Some(c) => format!("byte 0x{c:02x}"),
    }
}

impl<R: BufRead> Reader<R> {
    /// A reader of the JSON text in `input`.
    pub fn new(input: R) -> Self {
        Reader {
            src: Src::new(input),
            state: State::Start,
            seen_format: false,
            seen_version: false,
            seen_entries: false,
            data: Vec::new(),
            tmp: Vec::new(),
        }
    }

    fn err(&self, msg: impl std::fmt::Display) -> Error {
        Error::Corrupt(format!("invalid JSON export at line {}: {msg}", self.src.line))
    }

    fn ws(&mut self) -> Result<Option<u8>> {
        loop {
            match self.src.peek()? {
                Some(b) if is_ws(b) => {
                    self.src.next()?;
                }
                other => return Ok(other),
            }
        }
    }

    fn expect(&mut self, c: u8, context: &str) -> Result<()> {
        let got = self.ws()?;
        if got != Some(c) {
            return Err(self.err(format!("expected '{}' {context}, found {}", c as char, show(got))));
        }
        self.src.next()?;
        Ok(())
    }

    /// Reads a string (the opening quote is next) into `out`, decoding
    /// escapes to UTF-8; raw bytes ≥ 0x80 are kept as they are.
    fn string(&mut self, to_tmp: bool) -> Result<()> {
        let mut out = std::mem::take(if to_tmp { &mut self.tmp } else { &mut self.data });
        out.clear();
        let r = self.string_into(&mut out);
        *(if to_tmp { &mut self.tmp } else { &mut self.data }) = out;
        r
    }

    fn string_into(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let got = self.ws()?;
        if got != Some(b'"') {
            return Err(self.err(format!("expected a string, found {}", show(got))));
        }
        self.src.next()?;
        loop {
            match self.src.take_until(out, json_string_stop, json_string_stop_word)? {
                None => return Err(self.err("unexpected end of file inside a string")),
                Some(b'"') => {
                    self.src.next()?;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.src.next()?;
                    let e = self.src.next()?;
                    match e {
                        Some(b'"') => out.push(b'"'),
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'/') => out.push(b'/'),
                        Some(b'b') => out.push(0x08),
                        Some(b'f') => out.push(0x0C),
                        Some(b'n') => out.push(b'\n'),
                        Some(b'r') => out.push(b'\r'),
                        Some(b't') => out.push(b'\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.src.next()? != Some(b'\\') || self.src.next()? != Some(b'u') {
                                    return Err(self.err(format!("unpaired surrogate \\u{hi:04x} in a string")));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err(format!("unpaired surrogate \\u{hi:04x} in a string")));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err(format!("unpaired surrogate \\u{hi:04x} in a string")));
                            } else {
                                hi
                            };
                            let c = char::from_u32(cp).ok_or_else(|| self.err("invalid \\u escape"))?;
                            let mut b = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                        }
                        other => return Err(self.err(format!("invalid escape \\{} in a string", show(other)))),
                    }
                }
                Some(c) => {
                    return Err(self.err(format!("raw control byte 0x{c:02x} inside a string (must be escaped)")));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let c = self.src.next()?;
            let d = match c {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                other => return Err(self.err(format!("invalid \\u escape: {} is not a hex digit", show(other)))),
            };
            v = v << 4 | d as u32;
        }
        Ok(v)
    }

    /// Reads an unsigned 64-bit integer (exact).
    fn number(&mut self, what: &str) -> Result<u64> {
        self.ws()?;
        let mut buf = [0u8; 64];
        let mut n = 0;
        while let Some(c) = self.src.peek()? {
            if !(c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')) {
                break;
            }
            if n == buf.len() {
                return Err(self.err(format!("number for \"{what}\" is too long")));
            }
            buf[n] = c;
            n += 1;
            self.src.next()?;
        }
        let tok = &buf[..n];
        if tok.is_empty() {
            let got = self.src.peek()?;
            return Err(self.err(format!("expected a number for \"{what}\", found {}", show(got))));
        }
        // The token's text only for a message.
        let text = || String::from_utf8_lossy(tok);
        let digits = tok.iter().all(u8::is_ascii_digit);
        if !digits || (tok.len() > 1 && tok[0] == b'0') {
            return Err(self.err(format!("\"{what}\" must be an unsigned 64-bit integer, found {}", text())));
        }
        tok.iter()
            .try_fold(0u64, |v, &d| v.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            .ok_or_else(|| self.err(format!("\"{what}\" {} does not fit in 64 bits", text())))
    }

    /// Reads a member name into `self.tmp`, then the `:` after it.
    fn member_name(&mut self) -> Result<()> {
        self.string(true)?;
        let got = self.ws()?;
        if got != Some(b':') {
            let name = String::from_utf8_lossy(&self.tmp);
            return Err(self.err(format!("expected ':' after the member name \"{name}\", found {}", show(got))));
        }
        self.src.next()?;
        Ok(())
    }

    /// Reads the rest of the document after the top-level object's `}`.
    fn finish(&mut self) -> Result<()> {
        let got = self.ws()?;
        if got.is_some() {
            return Err(self.err(format!("unexpected {} after the end of the document", show(got))));
        }
        if !self.seen_format {
            return Err(self.err("missing member \"format\""));
        }
        if !self.seen_version {
            return Err(self.err("missing member \"version\""));
        }
        if !self.seen_entries {
            return Err(self.err("missing member \"entries\""));
        }
        self.state = State::Done;
        Ok(())
    }

    fn entry(&mut self) -> Result<(u64, u64, u64)> {
        let line = self.src.line;
        self.expect(b'{', "at the start of an entry")?;
        let (mut key, mut term, mut cmd) = (None, None, None);
        let mut have_data = false;
        if self.ws()? == Some(b'}') {
            return Err(self.err("empty entry object (\"key\" and \"data\" are required)"));
        }
        loop {
            self.member_name()?;
            let (dup, what) = match self.tmp.as_slice() {
                b"key" => (key.replace(self.number("key")?).is_some(), "key"),
                b"term" => (term.replace(self.number("term")?).is_some(), "term"),
                b"cmd" => (cmd.replace(self.number("cmd")?).is_some(), "cmd"),
                b"data" => {
                    self.string(false)?;
                    (std::mem::replace(&mut have_data, true), VALUE)
                }
                b"dataBase64" => {
                    self.string(true)?;
                    if let Err(e) = base64::decode_into(&self.tmp, &mut self.data) {
                        return Err(self.err(format!("\"dataBase64\": {e}")));
                    }
                    (std::mem::replace(&mut have_data, true), VALUE)
                }
                other => {
                    let other = String::from_utf8_lossy(other);
                    return Err(self.err(format!("unknown member \"{other}\" in an entry")));
                }
            };
            if dup {
                return Err(self.err(format!("entry has more than one {what}")));
            }
            match self.ws()? {
                Some(b',') => {
                    self.src.next()?;
                }
                Some(b'}') => {
                    self.src.next()?;
                    break;
                }
                got => return Err(self.err(format!("expected ',' or '}}' in an entry, found {}", show(got)))),
            }
        }
        let Some(key) = key else {
            return Err(Error::Corrupt(format!("invalid JSON export at line {line}: entry without \"key\"")));
        };
        if !have_data {
            return Err(Error::Corrupt(format!("invalid JSON export at line {line}: entry {key} has no \"data\"")));
        }
        Ok((key, term.unwrap_or(0), cmd.unwrap_or(0)))
    }

    /// The next entry; `Ok(None)` once the whole document has been read and
    /// validated.
    pub fn next_entry(&mut self) -> Result<Option<EntryRef<'_>>> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => {
                    let got = self.ws()?;
                    if got.is_none() {
                        return Err(self.err("the file is empty"));
                    }
                    self.expect(b'{', "at the start of the document")?;
                    self.state = State::Members { first: true };
                }
                State::Members { first } => {
                    let got = self.ws()?;
                    if got == Some(b'}') {
                        self.src.next()?;
                        self.finish()?;
                        return Ok(None);
                    }
                    if !first {
                        if got != Some(b',') {
                            return Err(self.err(format!("expected ',' or '}}' after a member, found {}", show(got))));
                        }
                        self.src.next()?;
                    }
                    self.member_name()?;
                    let name = String::from_utf8_lossy(&self.tmp).into_owned();
                    self.state = State::Members { first: false };
                    match name.as_str() {
                        "format" if !self.seen_format => {
                            self.seen_format = true;
                            self.string(true)?;
                            if self.tmp != b"kvidx-json" {
                                let f = String::from_utf8_lossy(&self.tmp).into_owned();
                                return Err(self.err(format!("\"format\" is \"{f}\", expected \"kvidx-json\"")));
                            }
                        }
                        "version" if !self.seen_version => {
                            self.seen_version = true;
                            let v = self.number("version")?;
                            if v != 1 {
                                return Err(self.err(format!("unsupported version {v}")));
                            }
                        }
                        "entries" if !self.seen_entries => {
                            self.seen_entries = true;
                            self.expect(b'[', "after \"entries\":")?;
                            self.state = State::Entries { first: true };
                        }
                        "format" | "version" | "entries" => {
                            return Err(self.err(format!("member \"{name}\" appears twice")));
                        }
                        other => return Err(self.err(format!("unknown member \"{other}\""))),
                    }
                }
                State::Entries { first } => {
                    let got = self.ws()?;
                    if got == Some(b']') {
                        self.src.next()?;
                        self.state = State::Members { first: false };
                        continue;
                    }
                    if !first {
                        if got != Some(b',') {
                            return Err(self.err(format!("expected ',' or ']' after an entry, found {}", show(got))));
                        }
                        self.src.next()?;
                    }
                    self.state = State::Entries { first: false };
                    let (key, term, cmd) = self.entry()?;
                    return Ok(Some(EntryRef { key, term, cmd, data: &self.data }));
                }
            }
        }
    }
}
