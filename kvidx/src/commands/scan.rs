//! Ranges: scan, count.

use std::ops::RangeInclusive;

use kvidxkit::Engine;

use super::{Ctx, Row, RowWriter};
use crate::cli::ScanFormat;
use crate::fail::{self, Outcome};
use crate::open::{Access, Target};

/// Options of `scan`.
pub struct ScanArgs {
    /// The keys.
    pub range: RangeInclusive<u64>,
    /// Highest first.
    pub reverse: bool,
    /// At most this many entries.
    pub limit: Option<u64>,
    /// How to print them.
    pub format: ScanFormat,
}

/// `scan`: prints the entries of a range.
pub fn scan<E: Engine>(ctx: &Ctx, t: &Target, a: ScanArgs) -> Outcome {
    let mut s = t.open::<E>(Access::Read)?;
    let limit = a.limit.unwrap_or(u64::MAX);
    // The key column is as wide as the largest key.
    let widest = match a.format {
        ScanFormat::Table => s.max_key().map_err(|e| t.fail(e))?.unwrap_or(0).min(*a.range.end()),
        _ => 0,
    };
    let mut out = RowWriter::new(ctx.stdout(), a.format, widest);
    let mut n = 0u64;
    let mut failed = None;
    if limit > 0 {
        if a.reverse {
            for e in s.range(a.range).rev() {
                let e = e.map_err(|e| t.fail(e))?;
                out.row(Row { key: e.key, term: e.term, cmd: e.cmd, data: &e.data }).map_err(fail::stdout)?;
                n += 1;
                if n >= limit {
                    break;
                }
            }
        } else {
            // One scan of the engine, values borrowed from it.
            s.for_each_in(a.range, |e| {
                if let Err(err) = out.row(Row { key: e.key, term: e.term, cmd: e.cmd, data: e.data }) {
                    failed = Some(err);
                    return false;
                }
                n += 1;
                n < limit
            })
            .map_err(|e| t.fail(e))?;
        }
    }
    if let Some(e) = failed {
        return Err(fail::stdout(e));
    }
    out.finish().map_err(fail::stdout)
}

/// `count`: the number of live entries in a range.
pub fn count<E: Engine>(ctx: &Ctx, t: &Target, range: RangeInclusive<u64>) -> Outcome {
    let mut s = t.open::<E>(Access::Read)?;
    let n = s.count_range(range).map_err(|e| t.fail(e))?;
    ctx.line(&n.to_string())
}
