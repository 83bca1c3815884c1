//! A byte source for the text readers: peeking, line counting and bulk
//! copies out of a buffer of its own, refilled from the underlying reader
//! (so that a byte costs an index, not a call into the reader).

use std::io::{BufRead, ErrorKind};

use super::scan::find_stop;
use crate::error::{Error, Result};

/// Bytes taken from the reader per refill (at most).
const CAP: usize = 64 * 1024;

pub(crate) struct Src<R> {
    r: R,
    buf: Box<[u8]>,
    /// The unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    /// 1-based line of the next byte.
    pub(crate) line: u64,
}

impl<R: BufRead> Src<R> {
    pub(crate) fn new(r: R) -> Self {
        Src { r, buf: vec![0; CAP].into_boxed_slice(), pos: 0, end: 0, line: 1 }
    }

    /// Refills the buffer once it is used up; false at the end of input.
    #[inline(never)]
    fn refill(&mut self) -> Result<bool> {
        debug_assert_eq!(self.pos, self.end);
        loop {
            match self.r.fill_buf() {
                Ok(b) => {
                    let n = b.len().min(self.buf.len());
                    self.buf[..n].copy_from_slice(&b[..n]);
                    self.r.consume(n);
                    (self.pos, self.end) = (0, n);
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(format!("read failed at line {}: {e}", self.line))),
            }
        }
    }

    /// The unread bytes in the buffer, refilled if it is used up (empty at
    /// the end of input).
    #[inline]
    fn buf(&mut self) -> Result<&[u8]> {
        if self.pos == self.end && !self.refill()? {
            return Ok(&[]);
        }
        Ok(&self.buf[self.pos..self.end])
    }

    #[inline]
    pub(crate) fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.buf()?.first().copied())
    }

    /// Consumes and returns the next byte.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<Option<u8>> {
        let c = self.peek()?;
        if let Some(c) = c {
            self.pos += 1;
            if c == b'\n' {
                self.line += 1;
            }
        }
        Ok(c)
    }

    /// Copies bytes to `out` up to (not including) the first byte for which
    /// `stop` is true; returns that byte, or `None` at end of input. `word`
    /// is `stop` for the eight bytes of a word (nonzero if one of them may
    /// stop), so that runs of other bytes are passed a word at a time.
    #[inline(always)]
    pub(crate) fn take_until(
        &mut self,
        out: &mut Vec<u8>,
        stop: impl Fn(u8) -> bool + Copy,
        word: impl Fn(u64) -> u64 + Copy,
    ) -> Result<Option<u8>> {
        loop {
            let buf = self.buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let (n, found) = match find_stop(buf, stop, word) {
                Some(i) => (i, Some(buf[i])),
                None => (buf.len(), None),
            };
            // (No line to count when a line feed would have stopped the run.)
            let lines = if stop(b'\n') { 0 } else { buf[..n].iter().filter(|&&b| b == b'\n').count() as u64 };
            out.extend_from_slice(&buf[..n]);
            self.pos += n;
            self.line += lines;
            if found.is_some() {
                return Ok(found);
            }
        }
    }
}
