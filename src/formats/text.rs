//! A byte source for the text readers: peeking, line counting and bulk
//! copies out of the underlying buffer.

use std::io::{BufRead, ErrorKind};

use crate::error::{Error, Result};

pub(crate) struct Src<R> {
    r: R,
    /// 1-based line of the next byte.
    pub(crate) line: u64,
}

impl<R: BufRead> Src<R> {
    pub(crate) fn new(r: R) -> Self {
        Src { r, line: 1 }
    }

    fn buf(&mut self) -> Result<&[u8]> {
        loop {
            match self.r.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(format!("read failed at line {}: {e}", self.line))),
            }
        }
        // The loop above succeeded; this call returns the same buffer.
        self.r.fill_buf().map_err(|e| Error::Io(format!("read failed at line {}: {e}", self.line)))
    }

    pub(crate) fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.buf()?.first().copied())
    }

    /// Consumes and returns the next byte.
    pub(crate) fn next(&mut self) -> Result<Option<u8>> {
        let c = self.peek()?;
        if let Some(c) = c {
            self.r.consume(1);
            if c == b'\n' {
                self.line += 1;
            }
        }
        Ok(c)
    }

    /// Copies bytes to `out` up to (not including) the first byte for which
    /// `stop` is true; returns that byte, or `None` at end of input.
    pub(crate) fn take_until(&mut self, out: &mut Vec<u8>, stop: impl Fn(u8) -> bool) -> Result<Option<u8>> {
        loop {
            let buf = self.buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let (n, found) = match buf.iter().position(|&b| stop(b)) {
                Some(i) => (i, Some(buf[i])),
                None => (buf.len(), None),
            };
            let lines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            out.extend_from_slice(&buf[..n]);
            self.r.consume(n);
            self.line += lines;
            if found.is_some() {
                return Ok(found);
            }
        }
    }
}
