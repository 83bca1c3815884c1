//! Administration of the SQLite3 engine ([`crate::admin`]): facts, the
//! integrity checks, VACUUM, snapshots.

use std::path::Path;

use super::Sqlite;
use crate::admin::{Check, CompactReport};
use crate::engine::{Dir, Engine, Row};
use crate::error::Result;

/// Rows of the log whose columns have types the library never writes.
const BAD_LOG_ROWS: &str = "SELECT id, typeof(term), typeof(cmd), typeof(data) FROM log \
     WHERE typeof(term) != 'integer' OR typeof(cmd) != 'integer' OR typeof(data) IN ('integer', 'real')";
const BAD_TTL_ROWS: &str = "SELECT id, typeof(expires_at), expires_at FROM _kvidx_ttl \
     WHERE typeof(expires_at) != 'integer' OR expires_at < 0";

impl Sqlite {
    fn has_ttl_table(&self) -> Result<bool> {
        Ok(self.conn.query_row(super::HAS_TTL_TABLE, [], |r| r.get(0))?)
    }

    /// Bytes of the database file and its WAL.
    fn storage_bytes(&self) -> u64 {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        match &self.file {
            Some(f) => {
                let mut w = f.clone().into_os_string();
                w.push("-wal");
                size(f) + size(Path::new(&w))
            }
            None => 0,
        }
    }

    pub(super) fn admin_details(&mut self) -> Result<Vec<(String, String)>> {
        let mut d = Vec::new();
        let mut add = |k: &str, v: String| d.push((k.to_string(), v));
        add("page size", self.pragma_i64("page_size")?.to_string());
        add("pages", self.pragma_i64("page_count")?.to_string());
        add("free pages", self.pragma_i64("freelist_count")?.to_string());
        add("journal mode", self.journal_mode()?.keyword().to_string());
        let av = match self.pragma_i64("auto_vacuum")? {
            0 => "none",
            1 => "full",
            _ => "incremental",
        };
        add("auto_vacuum", av.to_string());
        let locking = match self.vfs.as_deref() {
            None if self.file.is_some() => "exclusive (VFS unix-excl)".to_string(),
            None => "private (in memory)".to_string(),
            Some(v) => format!("VFS {v}"),
        };
        add("locking", locking);
        add("TTL table", if self.has_ttl_table()? { "present" } else { "absent" }.to_string());
        Ok(d)
    }

    pub(super) fn admin_check(&mut self, checks: &mut Vec<Check>) {
        let mut c = Check::new("SQLite integrity_check");
        let r = (|| -> Result<()> {
            let mut st = self.conn.prepare("PRAGMA integrity_check(100)")?;
            let mut rows = st.query([])?;
            while let Some(row) = rows.next()? {
                let text: String = row.get(0)?;
                // One row may hold several lines (the first names the database).
                for line in text.lines().filter(|l| *l != "ok" && !l.starts_with("*** in database")) {
                    c.problem(line);
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            c.problem(format!("integrity_check could not run: {e}"));
        }
        c.summary = "every page, b-tree and index".into();
        checks.push(c);

        let mut c = Check::new("SQLite column types");
        let mut rows_checked = 0i64;
        let r = (|| -> Result<()> {
            rows_checked = self.conn.query_row("SELECT COUNT(*) FROM log", [], |r| r.get(0))?;
            let mut st = self.conn.prepare(BAD_LOG_ROWS)?;
            let mut rows = st.query([])?;
            while let Some(row) = rows.next()? {
                let (id, t, m, d): (i64, String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
                c.problem(format!("log: the row of key {} has term {t}, cmd {m}, data {d}", id as u64));
            }
            if self.has_ttl_table()? {
                let mut st = self.conn.prepare(BAD_TTL_ROWS)?;
                let mut rows = st.query([])?;
                while let Some(row) = rows.next()? {
                    let (id, t): (i64, String) = (row.get(0)?, row.get(1)?);
                    c.problem(format!(
                        "_kvidx_ttl: the record of key {} has an expiry of type {t} or below 0",
                        id as u64
                    ));
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            c.problem(format!("the column types could not be read: {e}"));
        }
        c.summary = format!("{rows_checked} rows of log: integer term and cmd, a blob, text or NULL value");
        checks.push(c);
    }

    pub(super) fn admin_compact(&mut self) -> Result<CompactReport> {
        let before = self.storage_bytes();
        self.conn.execute_batch("VACUUM")?;
        if self.journal_mode()? == crate::config::JournalMode::Wal {
            // Moves the vacuumed pages into the file and empties the WAL.
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(CompactReport { before, after: self.storage_bytes() })
    }

    /// The TTL records, then the entries, in one read transaction (unless
    /// the caller's transaction is open: it is one snapshot already).
    pub(super) fn admin_snapshot(
        &mut self,
        lo: u64,
        hi: u64,
        ttl: &mut dyn FnMut(u64, u64),
        f: &mut dyn FnMut(Row<'_>) -> bool,
    ) -> Result<()> {
        let own = !self.in_transaction();
        if own {
            self.begin()?;
        }
        let r = self.ttl_scan(ttl).and_then(|()| self.scan(lo, hi, Dir::Forward, f));
        if own {
            let _ = self.rollback();
        }
        r
    }
}
