//! The binary format — the original's layout, byte for byte.
//!
//! All integers are little-endian (the original wrote native integers;
//! every mainstream host is little-endian, and we write little-endian on
//! every host so files are portable). No padding, no trailer, no checksum.
//!
//! Header, 24 bytes:
//!
//! | offset | size | field      | value |
//! |-------:|-----:|------------|-------|
//! | 0      | 8    | magic      | u64 `0x5844495645564B00`, i.e. the bytes `00 4B 56 45 56 49 44 58` (`"\0KVEVIDX"`) |
//! | 8      | 4    | version    | u32 `1` |
//! | 12     | 4    | reserved   | u32 `0` when written, ignored when read |
//! | 16     | 8    | entryCount | u64, the number of entries that follow |
//!
//! Each entry, 32 + dataLen bytes: `key` u64, `term` u64, `cmd` u64,
//! `dataLen` u64, then `dataLen` raw value bytes. An empty export is the
//! 24-byte header with entryCount 0.
//!
//! Reading is strict: a short header, another magic, a version other than
//! 1, an entry count that needs more bytes than the file has, a value length
//! beyond the end of the file, truncation anywhere, and any byte after the
//! last announced entry are [`Error::Corrupt`] with the byte offset.

use std::io::BufRead;

use crate::error::{Error, Result};
use crate::store::EntryRef;

/// The magic number as a u64.
pub const MAGIC: u64 = 0x5844_4956_4556_4B00;
/// The magic as it appears in the file.
pub const MAGIC_BYTES: [u8; 8] = MAGIC.to_le_bytes();
/// The only version.
pub const VERSION: u32 = 1;
/// Size of the file header.
pub const HEADER_LEN: u64 = 24;
/// Offset of the entry count in the header.
pub const COUNT_OFFSET: u64 = 16;
/// Size of an entry before its value.
pub const ENTRY_HEADER_LEN: u64 = 32;

/// Values are read in chunks of at most this size, so a lying length field
/// never causes a large allocation up front.
const CHUNK: usize = 1 << 20;

/// Appends the file header announcing `count` entries.
#[doc(hidden)]
pub fn header(out: &mut Vec<u8>, count: u64) {
    out.extend_from_slice(&MAGIC_BYTES);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
}

/// Appends an entry header (the value follows it in the file).
#[doc(hidden)]
pub fn entry_header(key: u64, term: u64, cmd: u64, len: u64) -> [u8; 32] {
    let mut h = [0u8; 32];
    for (i, v) in [key, term, cmd, len].into_iter().enumerate() {
        h[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    h
}

/// Reads a binary file entry by entry.
pub struct Reader<R> {
    input: R,
    /// Total input size, when known.
    len: Option<u64>,
    /// Bytes consumed so far.
    offset: u64,
    /// Entries announced by the header (`None` before it is read).
    count: Option<u64>,
    index: u64,
    done: bool,
    data: Vec<u8>,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl<R: BufRead> Reader<R> {
    /// `len`: the size of the whole input when known (a file's size).
    pub fn new(input: R, len: Option<u64>) -> Self {
        Reader { input, len, offset: 0, count: None, index: 0, done: false, data: Vec::new() }
    }

    /// The entry count announced by the header (after the first call to
    /// [`Reader::next_entry`]).
    pub fn announced(&self) -> Option<u64> {
        self.count
    }

    /// Reads exactly `buf.len()` bytes; `Ok(n)` with `n < len` at end of input.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.input.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(format!("read failed at offset {}: {e}", self.offset + got as u64))),
            }
        }
        Ok(got)
    }

    fn read_header(&mut self) -> Result<u64> {
        let mut h = [0u8; HEADER_LEN as usize];
        let got = self.fill(&mut h)?;
        let m = got.min(8);
        if got == 0 {
            return Err(Error::Corrupt("binary file is empty: no header at offset 0".into()));
        }
        if h[..m] != MAGIC_BYTES[..m] {
            return Err(Error::Corrupt(format!("not a kvidx binary file: bad magic {:02x?} at offset 0", &h[..m])));
        }
        if got < h.len() {
            return Err(Error::Corrupt(format!(
                "binary file truncated in its header: {got} bytes, the header has {HEADER_LEN} (offset {got})"
            )));
        }
        let version = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
        if version != VERSION {
            return Err(Error::Corrupt(format!("unsupported binary format version {version} at offset 8")));
        }
        let count = u64_at(&h, 16);
        self.offset = HEADER_LEN;
        if let Some(len) = self.len {
            let room = len.saturating_sub(HEADER_LEN) / ENTRY_HEADER_LEN;
            if count > room {
                return Err(Error::Corrupt(format!(
                    "entry count {count} at offset 16 needs at least {} bytes, the file has {len}",
                    (count as u128) * ENTRY_HEADER_LEN as u128 + HEADER_LEN as u128
                )));
            }
        }
        Ok(count)
    }

    fn truncated(&self, what: &str) -> Error {
        Error::Corrupt(format!(
            "binary file truncated in {what} of entry {} of {} (offset {})",
            self.index + 1,
            self.count.unwrap_or(0),
            self.offset
        ))
    }

    /// The next entry; `Ok(None)` after the last announced entry, once the
    /// end of the input has been checked.
    pub fn next_entry(&mut self) -> Result<Option<EntryRef<'_>>> {
        if self.done {
            return Ok(None);
        }
        let count = match self.count {
            Some(c) => c,
            None => {
                let c = self.read_header()?;
                self.count = Some(c);
                c
            }
        };
        if self.index == count {
            let mut extra = [0u8; 1];
            if self.fill(&mut extra)? != 0 {
                return Err(Error::Corrupt(format!(
                    "unexpected data after the last of {count} entries at offset {}",
                    self.offset
                )));
            }
            self.done = true;
            return Ok(None);
        }
        let mut h = [0u8; ENTRY_HEADER_LEN as usize];
        let got = self.fill(&mut h)?;
        if got < h.len() {
            self.offset += got as u64;
            return Err(self.truncated("the header"));
        }
        let (key, term, cmd, len) = (u64_at(&h, 0), u64_at(&h, 8), u64_at(&h, 16), u64_at(&h, 24));
        let len_at = self.offset + 24;
        self.offset += ENTRY_HEADER_LEN;
        if let Some(total) = self.len {
            let rest = total.saturating_sub(self.offset);
            if len > rest {
                return Err(Error::Corrupt(format!(
                    "entry {} of {count}: value length {len} at offset {len_at} exceeds the {rest} bytes left in the file",
                    self.index + 1
                )));
            }
        }
        if len > isize::MAX as u64 {
            return Err(Error::Corrupt(format!(
                "entry {} of {count}: value length {len} at offset {len_at} is too large",
                self.index + 1
            )));
        }
        let len = len as usize;
        self.data.clear();
        // Grow in bounded chunks so a lying length is caught by a short read.
        while self.data.len() < len {
            let start = self.data.len();
            let step = (len - start).min(CHUNK);
            self.data.resize(start + step, 0);
            let mut buf = std::mem::take(&mut self.data);
            let got = self.fill(&mut buf[start..]);
            self.data = buf;
            let got = got?;
            self.offset += got as u64;
            if got < step {
                self.data.truncate(start + got);
                return Err(self.truncated("the value"));
            }
        }
        self.index += 1;
        if self.data.capacity() > 4 * CHUNK && len < CHUNK {
            self.data.shrink_to(CHUNK);
        }
        Ok(Some(EntryRef { key, term, cmd, data: &self.data }))
    }
}
