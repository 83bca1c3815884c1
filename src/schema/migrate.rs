//! Schema versioning and table creation on a caller's SQLite connection
//! (primitives.md §7), with the original's defects fixed (prim D16, D18, D19):
//!
//! * Migrations may come in any order: every version of the list that is
//!   `<= target` and not yet recorded in `_kvidx_schema` is applied, in
//!   ascending order (a version skipped by the original's ordering bug is
//!   therefore applied too). Version 0 means "no schema" and is never applied;
//!   a version listed twice is an invalid argument.
//! * Everything runs inside a SAVEPOINT (each migration in a nested one), so
//!   it works inside a transaction the caller has open, and any failure rolls
//!   back every migration of the call: tables, data and `_kvidx_schema` rows
//!   are as before. Outside a transaction, success commits.
//! * A migration's SQL must not control the transaction itself (BEGIN,
//!   COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE): such a migration fails with
//!   a schema error before anything of it runs.
//! * Table creation validates every table first and creates all of them (and
//!   their indexes) or none.
//! * Reading the version does not write: a database without `_kvidx_schema`
//!   is at version 0. A recorded version outside `uint32_t` is a schema error.
//!
//! SQLite failures are [`Error::Io`] (the original's `KVIDX_ERROR_IO`), with
//! SQLite's message in the error text.

use std::ffi::{CStr, c_char, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;

use super::desc::Table;
use super::sql;
use crate::error::{Error, Result};

/// The original's version table, byte for byte.
pub const SCHEMA_TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS _kvidx_schema (version INTEGER PRIMARY KEY, applied_at TEXT DEFAULT CURRENT_TIMESTAMP, description TEXT);";

/// One migration: a version number and the SQL that brings the schema to
/// it (the C `kvidxMigration`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    /// The version this migration brings the schema to (1 or more; 0 means
    /// "no schema" and is never applied).
    pub version: u32,
    /// Recorded in `_kvidx_schema.description` ("" when None)
    pub description: Option<String>,
    /// The SQL to run (several statements allowed); None or "" only records
    /// the version
    pub up_sql: Option<String>,
}

impl Migration {
    /// A migration to `version` running `up_sql`, recorded with
    /// `description`.
    pub fn new(version: u32, description: &str, up_sql: &str) -> Migration {
        Migration { version, description: Some(description.into()), up_sql: Some(up_sql.into()) }
    }
}

/// A migration as the engine sees it (bytes, as they may come from C).
pub(crate) struct Step<'a> {
    pub(crate) version: u32,
    pub(crate) description: &'a [u8],
    pub(crate) up_sql: &'a [u8],
}

/// A borrowed connection handle: never closed here.
#[derive(Clone, Copy)]
pub(crate) struct Db(NonNull<ffi::sqlite3>);

/// A prepared statement, finalized on drop.
struct Stmt<'d> {
    db: &'d Db,
    p: *mut ffi::sqlite3_stmt,
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: `p` came from sqlite3_prepare_v2 on this connection.
        unsafe { ffi::sqlite3_finalize(self.p) };
    }
}

impl Stmt<'_> {
    /// One step: Ok(true) for a row, Ok(false) when done.
    fn step(&self) -> Result<bool> {
        // SAFETY: valid statement.
        match unsafe { ffi::sqlite3_step(self.p) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            _ => Err(self.db.error("step")),
        }
    }

    fn column(&self, n: c_int) -> Option<i64> {
        // SAFETY: valid statement positioned on a row.
        unsafe {
            match ffi::sqlite3_column_type(self.p, n) {
                ffi::SQLITE_INTEGER => Some(ffi::sqlite3_column_int64(self.p, n)),
                _ => None,
            }
        }
    }

    fn column_is_null(&self, n: c_int) -> bool {
        // SAFETY: as above.
        unsafe { ffi::sqlite3_column_type(self.p, n) == ffi::SQLITE_NULL }
    }
}

fn too_big(what: &str) -> Error {
    Error::TooBig(format!("{what} is too long for SQLite"))
}

impl Db {
    /// Wraps a caller's handle.
    ///
    /// # Safety
    /// `p` is NULL or an open connection of the SQLite this library links,
    /// used by no other thread during the call.
    #[cfg(feature = "capi")]
    pub(crate) unsafe fn from_raw(p: *mut ffi::sqlite3) -> Option<Db> {
        NonNull::new(p).map(Db)
    }

    fn from_conn(conn: &rusqlite::Connection) -> Db {
        // SAFETY: an open rusqlite connection has a non-NULL handle.
        Db(NonNull::new(unsafe { conn.handle() }).expect("open connection"))
    }

    fn raw(&self) -> *mut ffi::sqlite3 {
        self.0.as_ptr()
    }

    /// An I/O error carrying SQLite's current message.
    fn error(&self, ctx: &str) -> Error {
        // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the connection.
        let m = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.raw())) };
        Error::Io(format!("{ctx}: {}", m.to_string_lossy()))
    }

    /// Prepares the first statement of `sql`; returns it (None for only
    /// whitespace or comments) and the number of bytes it used.
    fn prepare<'d>(&'d self, sql: &[u8]) -> Result<(Option<Stmt<'d>>, usize)> {
        let len = c_int::try_from(sql.len()).map_err(|_| too_big("SQL text"))?;
        let mut p = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();
        let head = sql.as_ptr() as *const c_char;
        // SAFETY: `sql` is valid for `len` bytes; SQLite reads no further.
        let rc = unsafe { ffi::sqlite3_prepare_v2(self.raw(), head, len, &mut p, &mut tail) };
        if rc != ffi::SQLITE_OK {
            return Err(self.error("prepare"));
        }
        let used = if tail.is_null() {
            sql.len()
        } else {
            // SAFETY: `tail` points into `sql`.
            unsafe { tail.offset_from(head) as usize }
        };
        Ok(((!p.is_null()).then_some(Stmt { db: self, p }), used))
    }

    /// Runs every statement of `sql`. With `guarded`, a statement that
    /// would control the transaction is refused before it runs, and the
    /// transaction must still be open after each statement.
    fn exec(&self, sql: &[u8], guarded: bool) -> Result<()> {
        let mut rest = sql;
        while !rest.is_empty() {
            let (stmt, used) = self.prepare(rest)?;
            if let Some(stmt) = stmt {
                if guarded && let Some(kw) = transaction_keyword(&rest[..used]) {
                    return Err(Error::Schema(format!(
                        "a migration must not contain {kw}: it runs inside a savepoint"
                    )));
                }
                while stmt.step()? {}
                // SAFETY: plain query of the connection state.
                if guarded && unsafe { ffi::sqlite3_get_autocommit(self.raw()) } != 0 {
                    return Err(Error::Schema("a migration ended the transaction it runs in".into()));
                }
            }
            if used == 0 {
                break;
            }
            rest = &rest[used..];
        }
        Ok(())
    }

    fn run(&self, sql: &str) -> Result<()> {
        self.exec(sql.as_bytes(), false)
    }

    /// Runs `f` inside SAVEPOINT `name`: released on success, rolled back
    /// (and released) on failure, so the database is as before.
    fn savepoint<R>(&self, name: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
        self.run(&format!("SAVEPOINT {name};"))?;
        let r = f().and_then(|v| self.run(&format!("RELEASE {name};")).map(|_| v));
        if r.is_err() {
            // If the savepoint is gone (the transaction was ended behind our
            // back) these fail; nothing more can be done then.
            let _ = self.run(&format!("ROLLBACK TO {name};"));
            let _ = self.run(&format!("RELEASE {name};"));
        }
        r
    }

    fn has_schema_table(&self) -> Result<bool> {
        let (stmt, _) =
            self.prepare(b"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_kvidx_schema';")?;
        stmt.expect("a statement").step()
    }

    fn insert_version(&self, version: u32, description: &[u8]) -> Result<()> {
        let (stmt, _) = self.prepare(b"INSERT INTO _kvidx_schema (version, description) VALUES (?, ?);")?;
        let stmt = stmt.expect("a statement");
        let len = c_int::try_from(description.len()).map_err(|_| too_big("a description"))?;
        // SAFETY: valid statement; SQLITE_TRANSIENT makes SQLite copy the text.
        let rc = unsafe {
            let rc = ffi::sqlite3_bind_int64(stmt.p, 1, i64::from(version));
            if rc != ffi::SQLITE_OK {
                rc
            } else {
                ffi::sqlite3_bind_text(stmt.p, 2, description.as_ptr().cast(), len, ffi::SQLITE_TRANSIENT())
            }
        };
        if rc != ffi::SQLITE_OK {
            return Err(self.error("bind"));
        }
        stmt.step().map(|_| ())
    }

    fn version_value(v: Option<i64>, null: bool) -> Result<u32> {
        match v {
            Some(v) => u32::try_from(v)
                .map_err(|_| Error::Schema(format!("_kvidx_schema holds version {v}, outside uint32_t"))),
            None if null => Ok(0),
            None => Err(Error::Schema("_kvidx_schema holds a version that is not an integer".into())),
        }
    }

    pub(crate) fn init(&self) -> Result<()> {
        self.run(SCHEMA_TABLE_SQL)
    }

    pub(crate) fn version(&self) -> Result<u32> {
        if !self.has_schema_table()? {
            return Ok(0);
        }
        let (stmt, _) = self.prepare(b"SELECT MAX(version) FROM _kvidx_schema;")?;
        let stmt = stmt.expect("a statement");
        if !stmt.step()? {
            return Ok(0);
        }
        Db::version_value(stmt.column(0), stmt.column_is_null(0))
    }

    pub(crate) fn applied_versions(&self) -> Result<Vec<u32>> {
        if !self.has_schema_table()? {
            return Ok(Vec::new());
        }
        let (stmt, _) = self.prepare(b"SELECT version FROM _kvidx_schema ORDER BY version ASC;")?;
        let stmt = stmt.expect("a statement");
        let mut out = Vec::new();
        while stmt.step()? {
            out.push(Db::version_value(stmt.column(0), false)?);
        }
        Ok(out)
    }

    /// Indexes of the steps still to apply, in ascending version order.
    fn pending(&self, steps: &[Step], target: u32) -> Result<Vec<usize>> {
        let applied = self.applied_versions()?;
        let mut todo: Vec<usize> = (0..steps.len())
            .filter(|&n| {
                let v = steps[n].version;
                v != 0 && v <= target && applied.binary_search(&v).is_err()
            })
            .collect();
        todo.sort_by_key(|&n| steps[n].version);
        Ok(todo)
    }

    /// Applies `steps` up to `target`; `report(index, success)` is called
    /// after each attempted step. Writes nothing when nothing is missing.
    pub(crate) fn apply(&self, steps: &[Step], target: u32, report: &mut dyn FnMut(usize, bool)) -> Result<()> {
        let mut versions: Vec<u32> = steps.iter().map(|s| s.version).collect();
        versions.sort_unstable();
        if let Some(w) = versions.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::invalid(format!("migration version {} is listed twice", w[0])));
        }
        if self.pending(steps, target)?.is_empty() {
            return Ok(());
        }
        self.savepoint("_kvidx_schema_apply", || {
            self.init()?;
            for n in self.pending(steps, target)? {
                let s = &steps[n];
                let r = self.savepoint("_kvidx_schema_step", || {
                    self.exec(s.up_sql, true)?;
                    self.insert_version(s.version, s.description)
                });
                report(n, r.is_ok());
                r.map_err(|e| match e {
                    Error::Io(m) => Error::Io(format!("migration {}: {m}", s.version)),
                    Error::Schema(m) => Error::Schema(format!("migration {}: {m}", s.version)),
                    other => other,
                })?;
            }
            Ok(())
        })
    }

    /// Validates every table, then creates them all (with their indexes) or none.
    pub(crate) fn create_tables(&self, tables: &[Table]) -> Result<()> {
        let mut script = Vec::with_capacity(tables.len() * 2);
        for t in tables {
            script.push(sql::create_table_sql(t)?);
            if !t.indexes.is_empty() {
                script.push(sql::create_indexes_sql(t)?);
            }
        }
        if script.is_empty() {
            return Ok(());
        }
        self.savepoint("_kvidx_create_tables", || script.iter().try_for_each(|s| self.run(s)))
    }
}

/// The transaction-control keyword a statement starts with, if any.
fn transaction_keyword(stmt: &[u8]) -> Option<&'static str> {
    let mut s = stmt;
    loop {
        match s {
            [c, rest @ ..] if c.is_ascii_whitespace() => s = rest,
            [b'-', b'-', rest @ ..] => {
                s = rest.iter().position(|&c| c == b'\n').map_or(&[], |p| &rest[p..]);
            }
            [b'/', b'*', rest @ ..] => {
                s = rest.windows(2).position(|w| w == b"*/").map_or(&[], |p| &rest[p + 2..]);
            }
            _ => break,
        }
    }
    let word_len = s.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let word = &s[..word_len];
    ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"]
        .into_iter()
        .find(|k| word.eq_ignore_ascii_case(k.as_bytes()))
}

// ----------------------------------------------------------------------
// The safe API on a rusqlite connection (any connection of the bundled
// SQLite; the C functions use the same code on a raw `sqlite3 *`).

/// Creates `_kvidx_schema` if it does not exist (`kvidxSchemaInit`).
pub fn init(conn: &rusqlite::Connection) -> Result<()> {
    Db::from_conn(conn).init()
}

/// The highest applied version, 0 when none (`kvidxSchemaVersion`).
pub fn version(conn: &rusqlite::Connection) -> Result<u32> {
    Db::from_conn(conn).version()
}

/// True if the version is below `target` or cannot be read
/// (`kvidxSchemaNeedsMigration`).
pub fn needs_migration(conn: &rusqlite::Connection, target: u32) -> bool {
    version(conn).map_or(true, |v| v < target)
}

/// Every applied version, ascending (`kvidxSchemaGetAppliedVersions`).
pub fn applied_versions(conn: &rusqlite::Connection) -> Result<Vec<u32>> {
    Db::from_conn(conn).applied_versions()
}

/// Applies every missing migration up to `target` (`kvidxSchemaApply`).
pub fn apply(conn: &rusqlite::Connection, migrations: &[Migration], target: u32) -> Result<()> {
    apply_with(conn, migrations, target, |_, _| {})
}

/// As [`apply`], calling `report(migration, success)` after each attempted
/// migration (`kvidxSchemaApplyWithCallback`). `success` says that the
/// migration ran; it is committed only if the whole call succeeds.
pub fn apply_with(
    conn: &rusqlite::Connection,
    migrations: &[Migration],
    target: u32,
    mut report: impl FnMut(&Migration, bool),
) -> Result<()> {
    let mut steps = Vec::with_capacity(migrations.len());
    for m in migrations {
        let up = m.up_sql.as_deref().unwrap_or_default();
        if up.contains('\0') {
            return Err(Error::invalid(format!("migration {}: SQL contains a NUL byte", m.version)));
        }
        steps.push(Step {
            version: m.version,
            description: m.description.as_deref().unwrap_or_default().as_bytes(),
            up_sql: up.as_bytes(),
        });
    }
    Db::from_conn(conn).apply(&steps, target, &mut |n, ok| report(&migrations[n], ok))
}

/// Creates every table and its indexes, all or none (`kvidxSchemaCreateTables`).
pub fn create_tables(conn: &rusqlite::Connection, tables: &[Table]) -> Result<()> {
    Db::from_conn(conn).create_tables(tables)
}
