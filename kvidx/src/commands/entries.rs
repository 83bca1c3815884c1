//! One entry at a time: get, put, del, ttl, expire, persist.

use std::io::{Read, Write};
use std::time::Duration;

use kvidxkit::{Engine, Error, SetCondition, Ttl};

use super::{Ctx, Row, RowWriter};
use crate::cli::{GetFormat, ScanFormat};
use crate::fail::{Fail, Outcome};
use crate::open::{Access, Opened, Target};

/// `get`: the value (or the whole entry) of `key`.
pub fn get<E: Engine>(ctx: &Ctx, t: &Target, key: u64, format: GetFormat) -> Outcome {
    let mut s = t.open::<E>(Access::Read)?;
    let e = match s.get(key).map_err(|e| t.fail(e))? {
        Some(e) => e.to_owned(),
        None => return Err(crate::fail::Fail::not_found(&t.path, key)),
    };
    let mut out = ctx.stdout();
    let w = &mut out;
    let r = match format {
        GetFormat::Raw => w.write_all(&e.data),
        GetFormat::Value => {
            let mut line = Vec::with_capacity(e.data.len() + 1);
            crate::text::escape(&e.data, &mut line);
            line.push(b'\n');
            w.write_all(&line)
        }
        GetFormat::Table | GetFormat::Json | GetFormat::Csv => {
            let f = match format {
                GetFormat::Table => ScanFormat::Table,
                GetFormat::Json => ScanFormat::Json,
                _ => ScanFormat::Csv,
            };
            let mut rows = RowWriter::new(&mut *w, f, e.key);
            rows.row(Row { key: e.key, term: e.term, cmd: e.cmd, data: &e.data }).and_then(|()| rows.finish())
        }
    };
    r.and_then(|()| w.flush()).map_err(crate::fail::stdout)
}

/// Where `put` takes the value from.
pub enum ValueSource {
    /// The argument.
    Arg(Vec<u8>),
    /// A file.
    File(std::path::PathBuf),
    /// Standard input.
    Stdin,
}

/// Options of `put`.
pub struct PutArgs {
    /// The key.
    pub key: u64,
    /// Where the value comes from.
    pub value: ValueSource,
    /// Term and cmd.
    pub term: u64,
    /// Cmd.
    pub cmd: u64,
    /// The condition.
    pub cond: SetCondition,
    /// Expiry from now, in milliseconds.
    pub ttl: Option<u64>,
}

/// `put`: stores the value.
pub fn put<E: Engine>(_ctx: &Ctx, t: &Target, a: PutArgs) -> Outcome {
    let value = match a.value {
        ValueSource::Arg(v) => v,
        ValueSource::File(f) => std::fs::read(&f).map_err(|e| Fail::io("cannot read", &f, e))?,
        ValueSource::Stdin => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map_err(|e| Fail::error(format!("cannot read standard input: {e}")))?;
            v
        }
    };
    let mut s = t.open::<E>(Access::Create)?;
    let r = s.atomically(|tx| {
        tx.insert_ex(a.key, a.term, a.cmd, &value, a.cond)?;
        if let Some(ms) = a.ttl {
            tx.expire_in(a.key, Duration::from_millis(ms))?;
        }
        Ok(())
    });
    match r {
        Ok(()) => close(t, s),
        Err(Error::ConditionFailed(_)) if a.cond == SetCondition::IfExists => Err(Fail::not_found(&t.path, a.key)),
        Err(Error::ConditionFailed(_)) => {
            Err(Fail::error(format!("{}: key {} exists (--nx writes only a new key)", t.shown(), a.key)))
        }
        Err(e) => Err(t.fail(e)),
    }
}

/// Closes a store after writes, reporting a failure.
pub fn close<E: Engine>(t: &Target, s: Opened<E>) -> Outcome {
    s.into_store().close().map_err(|(_, e)| t.fail(e))
}

/// `del`: removes `key`.
pub fn del<E: Engine>(_ctx: &Ctx, t: &Target, key: u64) -> Outcome {
    let mut s = t.open::<E>(Access::Write)?;
    let existed = s.remove(key).map_err(|e| t.fail(e))?;
    close(t, s)?;
    if existed { Ok(()) } else { Err(Fail::not_found(&t.path, key)) }
}

/// `ttl`: the time `key` has left.
pub fn ttl<E: Engine>(ctx: &Ctx, t: &Target, key: u64) -> Outcome {
    let mut s = t.open::<E>(Access::Read)?;
    let line = match s.ttl(key).map_err(|e| t.fail(e))? {
        Ttl::NotFound => return Err(Fail::not_found(&t.path, key)),
        Ttl::Persistent => "persistent".to_string(),
        Ttl::Remaining(d) => d.as_millis().to_string(),
    };
    ctx.line(&line)
}

/// `expire`: makes `key` expire `ms` milliseconds from now.
pub fn expire<E: Engine>(_ctx: &Ctx, t: &Target, key: u64, ms: u64) -> Outcome {
    let mut s = t.open::<E>(Access::Write)?;
    match s.expire_in(key, Duration::from_millis(ms)) {
        Ok(()) => close(t, s),
        Err(Error::NotFound(_)) => Err(Fail::not_found(&t.path, key)),
        Err(e) => Err(t.fail(e)),
    }
}

/// `persist`: removes the expiry time of `key`.
pub fn persist<E: Engine>(_ctx: &Ctx, t: &Target, key: u64) -> Outcome {
    let mut s = t.open::<E>(Access::Write)?;
    match s.persist(key) {
        Ok(()) => close(t, s),
        Err(Error::NotFound(_)) => Err(Fail::not_found(&t.path, key)),
        Err(e) => Err(t.fail(e)),
    }
}
