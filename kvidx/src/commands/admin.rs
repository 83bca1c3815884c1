//! The store as a whole: info, verify, compact, expire-scan, and the man
//! page.

use std::fmt::Write as _;
use std::time::{Instant, SystemTime};

use kvidxkit::Engine;

use super::Ctx;
use crate::cli::EngineKind;
use crate::fail::{self, Fail, Outcome};
use crate::open::{Access, Target};
use crate::progress::Progress;
use crate::text::{self, json_str};

/// `info`: what the store holds and how it is set up.
pub fn info<E: Engine>(ctx: &Ctx, t: &Target, json: bool) -> Outcome {
    let mut s = t.open::<E>(Access::Read)?;
    let st = s.stats().map_err(|e| t.fail(e))?;
    let (min, max) = if st.total_keys == 0 { (None, None) } else { (Some(st.min_key), Some(st.max_key)) };
    let ttl = s.ttl_summary().map_err(|e| t.fail(e))?;
    let details = s.engine_details().map_err(|e| t.fail(e))?;
    let cfg = s.current_config().clone();
    let lmdb = t.kind == EngineKind::Lmdb;
    let now = SystemTime::now();

    if json {
        let mut o = String::from("{");
        let opt = |v: Option<u64>| v.map_or("null".to_string(), |v| v.to_string());
        let _ = write!(o, "\"path\":{},", json_str(&t.shown()));
        let _ = write!(o, "\"engine\":{},", json_str(t.kind.name()));
        let _ = write!(o, "\"engine_version\":{},", json_str(&E::version()));
        let _ = write!(o, "\"library_version\":{},", json_str(kvidxkit::VERSION));
        let _ = write!(o, "\"entries\":{},\"min_key\":{},\"max_key\":{},", st.total_keys, opt(min), opt(max));
        let _ = write!(o, "\"data_bytes\":{},", st.total_data_bytes);
        let _ = write!(
            o,
            "\"ttl\":{{\"keys\":{},\"expired\":{},\"next_expiry_ms\":{}}},",
            ttl.keys,
            ttl.expired,
            opt(ttl.next.map(text::unix_ms))
        );
        let _ = write!(
            o,
            "\"file_bytes\":{},\"wal_bytes\":{},\"page_size\":{},\"pages\":{},\"free_pages\":{},",
            st.database_file_size, st.wal_file_size, st.page_size, st.page_count, st.free_pages
        );
        let _ = write!(
            o,
            "\"config\":{{\"read_only\":{},\"sync_mode\":{},\"journal_mode\":{},\"cache_size_bytes\":{},\
             \"busy_timeout_ms\":{},\"mmap_size_bytes\":{},\"page_size\":{}}},",
            cfg.read_only,
            json_str(cfg.sync_mode.keyword()),
            json_str(cfg.journal_mode.keyword()),
            cfg.cache_size_bytes,
            cfg.busy_timeout_ms,
            cfg.mmap_size_bytes,
            cfg.page_size
        );
        o.push_str("\"details\":{");
        for (i, (k, v)) in details.iter().enumerate() {
            let _ = write!(o, "{}{}:{}", if i > 0 { "," } else { "" }, json_str(k), json_str(v));
        }
        o.push_str("}}");
        return ctx.line(&o);
    }

    let mut o = String::new();
    let mut row = |k: &str, v: String| {
        let _ = writeln!(o, "{k:<14}{v}");
    };
    row("store", t.shown());
    row("engine", format!("{} {} (kvidxkit {})", t.kind.name(), E::version(), kvidxkit::VERSION));
    row("entries", st.total_keys.to_string());
    row(
        "keys",
        match (min, max) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "none".to_string(),
        },
    );
    row("data", format!("{} of values", text::size_exact(st.total_data_bytes)));
    let mut exp = format!("{} with an expiry time", text::count(ttl.keys, "key", "keys"));
    if ttl.expired > 0 {
        let _ = write!(exp, ", {} expired (removed by expire-scan)", ttl.expired);
    }
    if let Some(next) = ttl.next {
        let left = next.duration_since(now).unwrap_or_default();
        let _ = write!(exp, "; next expiry in {} ({})", text::duration(left), text::utc(next));
    }
    row("expiry", exp);
    if lmdb {
        row("file", format!("data.mdb {}", text::size_exact(st.database_file_size)));
    } else {
        row("file", format!("{}, WAL {}", text::size_exact(st.database_file_size), text::size_exact(st.wal_file_size)));
    }
    row("pages", format!("{} of {} bytes, {} free", st.page_count, st.page_size, st.free_pages));
    let opened = if lmdb {
        format!(
            "{}, sync {}, map size {}",
            if cfg.read_only { "read-only" } else { "read-write" },
            cfg.sync_mode.keyword(),
            text::size(cfg.mmap_size_bytes.max(0) as u64)
        )
    } else {
        format!(
            "{}, journal {}, sync {}, cache {}, busy timeout {} ms, mmap {}",
            if cfg.read_only { "read-only" } else { "read-write" },
            cfg.journal_mode.keyword(),
            cfg.sync_mode.keyword(),
            text::size(cfg.cache_size_bytes as u64),
            cfg.busy_timeout_ms,
            text::size(cfg.mmap_size_bytes.max(0) as u64)
        )
    };
    row("opened", opened);
    let _ = writeln!(o, "{}:", t.kind.name());
    for (k, v) in &details {
        let _ = writeln!(o, "  {k:<18}{v}");
    }
    ctx.line(o.trim_end())
}

/// `verify`: every check, a report, status 1 on damage.
pub fn verify<E: Engine>(ctx: &Ctx, t: &Target) -> Outcome {
    let began = Instant::now();
    let p = Progress::new(ctx.quiet, format!("verifying {}", t.shown()), "entries");
    let opened = t.try_open::<E>(Access::Read)?;
    let mut out = format!("verifying {} ({} {})\n", t.shown(), t.kind.name(), E::version());
    let (problems, summary) = match opened {
        Err(e @ (kvidxkit::Error::Locked(_) | kvidxkit::Error::ReadOnly(_) | kvidxkit::Error::NoMem(_))) => {
            p.done();
            return Err(t.fail(e));
        }
        Err(e) => {
            let _ = writeln!(out, "  FAILED  open: {e}");
            (1, String::new())
        }
        Ok(mut s) => {
            let r = s.verify();
            p.done();
            let report = r.map_err(|e| t.fail(e))?;
            for c in &report.checks {
                if c.passed() {
                    let _ = writeln!(out, "  ok      {}: {}", c.name, c.summary);
                } else {
                    let n = c.problem_count();
                    let _ = writeln!(out, "  FAILED  {} ({n} problem{})", c.name, if n == 1 { "" } else { "s" });
                    for line in &c.problems {
                        let _ = writeln!(out, "          {line}");
                    }
                    if c.more > 0 {
                        let _ = writeln!(out, "          ... and {} more", c.more);
                    }
                }
            }
            let summary = format!(
                "{}, {}",
                text::count(report.entries, "entry", "entries"),
                text::count(report.ttl_records, "TTL record", "TTL records")
            );
            (report.problem_count(), summary)
        }
    };
    let elapsed = text::duration(began.elapsed());
    if problems == 0 {
        let _ = write!(out, "healthy: {summary} checked in {elapsed}");
        ctx.line(&out)
    } else {
        let _ = write!(out, "DAMAGED: {problems} problem{}", if problems == 1 { "" } else { "s" });
        ctx.line(&out)?;
        Err(Fail::error(format!("{}: the store is damaged (see the report above)", t.shown())))
    }
}

/// `compact`: rewrites the store without free space.
pub fn compact<E: Engine>(ctx: &Ctx, t: &Target) -> Outcome {
    let s = t.open::<E>(Access::Write)?;
    let began = Instant::now();
    let p = Progress::new(ctx.quiet, format!("compacting {}", t.shown()), "pages");
    let r = s.into_store().compact();
    p.done();
    let r = r.map_err(|e| t.fail(e))?;
    let saved = if r.before > 0 { 100.0 * (r.before.saturating_sub(r.after)) as f64 / r.before as f64 } else { 0.0 };
    ctx.line(&format!(
        "compacted {}: {} before, {} after ({saved:.1}% smaller) in {}",
        t.shown(),
        text::size(r.before),
        text::size(r.after),
        text::duration(began.elapsed())
    ))
}

/// `expire-scan`: removes the expired entries.
pub fn expire_scan<E: Engine>(ctx: &Ctx, t: &Target, max: u64) -> Outcome {
    let mut s = t.open::<E>(Access::Write)?;
    let n = s.expire_scan(max).map_err(|e| t.fail(e))?;
    super::entries::close(t, s)?;
    ctx.line(&format!("removed {n} expired entr{}", if n == 1 { "y" } else { "ies" }))
}

/// The man page.
pub fn manpage(ctx: &Ctx) -> Outcome {
    let mut out = ctx.stdout();
    let man = clap_mangen::Man::new(crate::cli::command());
    man.render(&mut out).and_then(|()| std::io::Write::flush(&mut out)).map_err(fail::stdout)
}
