//! The SQLite3 engine. File format identical to the original kvidxkit:
//! table `log (id INTEGER PRIMARY KEY, created INTEGER, term INTEGER,
//! cmd INTEGER, data BLOB)`, the key stored as the same 64 bits in a signed
//! integer, term and cmd likewise. Unsigned key ranges are mapped onto the
//! two signed halves here, so the rest of the library sees unsigned order.

use std::ffi::{CStr, CString, c_int, c_void};

use libsqlite3_sys as ffi;
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::admin::{Check, CompactReport};
use crate::config::{Config, FileStats, JournalMode, SyncMode};
use crate::engine::{Dir, Engine, OpenRequest, Row};
use crate::error::{Error, Result};

mod admin;

/// Page size of files created by a plain open and by default (the original's
/// bundled build); [`Config::page_size`] chooses another for a new file.
pub const DEFAULT_PAGE_SIZE: i32 = 8192;
/// cache_size (KiB) set by a plain open, as the original.
const PLAIN_CACHE_KIB: i64 = 31_250;

const SCHEMA: &str = "\
CREATE TABLE IF NOT EXISTS controlBlock (id INTEGER PRIMARY KEY, what TEXT, how TEXT);
CREATE INDEX IF NOT EXISTS controlBlock_what_idx ON controlBlock (what);
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, created INTEGER, term INTEGER, cmd INTEGER, data BLOB);
CREATE TABLE IF NOT EXISTS _kvidx_ttl (id INTEGER PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS _kvidx_ttl_expires ON _kvidx_ttl(expires_at);";

const GET: &str = "SELECT term, cmd, data FROM log WHERE id = ?1";
const EXISTS: &str = "SELECT 1 FROM log WHERE id = ?1";
const TERM: &str = "SELECT term FROM log WHERE id = ?1";
// Scans name only the bound they start from: the engine checks the other
// one itself, and that ids keep their order (see `Engine::scan`).
const SCAN_FROM: &str = "SELECT id, term, cmd, data FROM log WHERE id >= ?1 ORDER BY id ASC";
const SCAN_UP_TO: &str = "SELECT id, term, cmd, data FROM log WHERE id <= ?1 ORDER BY id DESC";
const COUNT_RANGE: &str = "SELECT COUNT(*) FROM log WHERE id BETWEEN ?1 AND ?2";
const COUNT_ALL: &str = "SELECT COUNT(*) FROM log";
// Bytes of every value; OCTET_LENGTH would need SQLite 3.43 (a system SQLite
// may be 3.40). LENGTH of a blob column does not read the blob.
const DATA_SIZE: &str = "SELECT COALESCE(SUM(CASE typeof(data) WHEN 'text' THEN LENGTH(CAST(data AS BLOB)) \
                         ELSE LENGTH(data) END), 0) FROM log";
const INSERT: &str = "INSERT OR IGNORE INTO log (id, created, term, cmd, data) VALUES (?1, 0, ?2, ?3, ?4)";
const PUT: &str = "INSERT INTO log (id, created, term, cmd, data) VALUES (?1, 0, ?2, ?3, ?4) \
                   ON CONFLICT(id) DO UPDATE SET term = excluded.term, cmd = excluded.cmd, data = excluded.data";
const UPDATE: &str = "UPDATE log SET term = ?2, cmd = ?3, data = ?4 WHERE id = ?1";
const DELETE: &str = "DELETE FROM log WHERE id = ?1";
const DELETE_RANGE: &str = "DELETE FROM log WHERE id BETWEEN ?1 AND ?2";
const TTL_SCAN: &str = "SELECT id, expires_at FROM _kvidx_ttl ORDER BY id";
const TTL_PUT: &str = "INSERT OR REPLACE INTO _kvidx_ttl (id, expires_at) VALUES (?1, ?2)";
const TTL_DELETE: &str = "DELETE FROM _kvidx_ttl WHERE id = ?1";
const TTL_DELETE_RANGE: &str = "DELETE FROM _kvidx_ttl WHERE id BETWEEN ?1 AND ?2";
const HAS_TTL_TABLE: &str = "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_kvidx_ttl')";

/// The signed-integer intervals that make up the unsigned interval
/// `[lo, hi]`, in unsigned ascending order (at most two).
pub(crate) fn signed_halves(lo: u64, hi: u64) -> ([(i64, i64); 2], usize) {
    const H: u64 = 1 << 63;
    let empty = [(0, 0); 2];
    if lo > hi {
        (empty, 0)
    } else if hi < H || lo >= H {
        ([(lo as i64, hi as i64), (0, 0)], 1)
    } else {
        ([(lo as i64, i64::MAX), (i64::MIN, hi as i64)], 2)
    }
}

/// An integer column of a TTL record (stored as the bits of a signed
/// integer); anything else is a damaged record.
fn ttl_int(v: ValueRef<'_>, what: &str) -> Result<u64> {
    match v {
        ValueRef::Integer(n) => Ok(n as u64),
        other => Err(Error::Corrupt(format!("_kvidx_ttl: {what} is {:?}, not an integer", other.data_type()))),
    }
}

/// The error of a failed SQLite call: an I/O error caused by a "no space"
/// condition (`errno` ENOSPC, EFBIG — a file-size limit — or EDQUOT; SQLite
/// itself reports only ENOSPC and short writes as SQLITE_FULL) is
/// [`Error::DiskFull`].
fn sqlite_error(code: c_int, msg: String, errno: c_int) -> Error {
    if code & 0xff == ffi::SQLITE_IOERR && matches!(errno, libc::ENOSPC | libc::EFBIG | libc::EDQUOT) {
        return Error::DiskFull(format!("{msg} ({})", std::io::Error::from_raw_os_error(errno)));
    }
    Error::from(rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(msg)))
}

/// The `errno` behind the connection's last I/O error: SQLite's record of
/// it, or — when that is 0, as some builds of SQLite leave it after a failed
/// write or sync of the WAL or journal — the last error recorded by the
/// database file or, failing that, its journal or WAL file.
///
/// # Safety
/// `db` is an open connection.
unsafe fn system_errno(db: *mut ffi::sqlite3) -> c_int {
    // SAFETY: the caller's promise.
    unsafe {
        let errno = ffi::sqlite3_system_errno(db);
        if errno != 0 {
            return errno;
        }
        let [main, journal] = last_errnos(db);
        if main != 0 { main } else { journal }
    }
}

/// The `errno` of the last failed system call on the main database file
/// and on its journal or WAL file (SQLite's SQLITE_FCNTL_LAST_ERRNO).
///
/// # Safety
/// `db` is an open connection.
unsafe fn last_errnos(db: *mut ffi::sqlite3) -> [c_int; 2] {
    let mut out = [0; 2];
    let main = c"main";
    // SAFETY: file controls of an open connection; the journal file object
    // stays valid while the connection is open.
    unsafe {
        ffi::sqlite3_file_control(
            db,
            main.as_ptr(),
            ffi::SQLITE_FCNTL_LAST_ERRNO,
            &mut out[0] as *mut c_int as *mut c_void,
        );
        let mut jf: *mut ffi::sqlite3_file = std::ptr::null_mut();
        if ffi::sqlite3_file_control(
            db,
            main.as_ptr(),
            ffi::SQLITE_FCNTL_JOURNAL_POINTER,
            &mut jf as *mut *mut ffi::sqlite3_file as *mut c_void,
        ) == ffi::SQLITE_OK
            && !jf.is_null()
            && !(*jf).pMethods.is_null()
            && let Some(fc) = (*(*jf).pMethods).xFileControl
        {
            fc(jf, ffi::SQLITE_FCNTL_LAST_ERRNO, &mut out[1] as *mut c_int as *mut c_void);
        }
    }
    out
}

/// The error for a row whose id breaks the scan order.
#[cold]
fn out_of_order(id: i64, prev: Option<i64>, forward: bool) -> Error {
    Error::Corrupt(format!(
        "log: key {} after {} in a {} scan (damaged b-tree)",
        id as u64,
        prev.map(|p| (p as u64).to_string()).unwrap_or_else(|| "the start".into()),
        if forward { "forward" } else { "backward" }
    ))
}

/// The statements on the hot paths, prepared once per connection and kept
/// (rusqlite's statement cache costs more per call than the statement).
#[derive(Clone, Copy)]
enum S {
    Get,
    Exists,
    Term,
    ScanFrom,
    ScanUpTo,
    CountRange,
    CountAll,
    Insert,
    Put,
    Update,
    Delete,
    DeleteRange,
    Begin,
    Commit,
    Rollback,
    Savepoint,
    Release,
    RollbackTo,
    TtlPut,
    TtlDelete,
    TtlDeleteRange,
    DataVersion,
}

const N_STMTS: usize = S::DataVersion as usize + 1;

fn sql_of(s: S) -> &'static str {
    match s {
        S::Get => GET,
        S::Exists => EXISTS,
        S::Term => TERM,
        S::ScanFrom => SCAN_FROM,
        S::ScanUpTo => SCAN_UP_TO,
        S::CountRange => COUNT_RANGE,
        S::CountAll => COUNT_ALL,
        S::Insert => INSERT,
        S::Put => PUT,
        S::Update => UPDATE,
        S::Delete => DELETE,
        S::DeleteRange => DELETE_RANGE,
        S::Begin => "BEGIN",
        S::Commit => "COMMIT",
        S::Rollback => "ROLLBACK",
        S::Savepoint => "SAVEPOINT kvidx_op",
        S::Release => "RELEASE kvidx_op",
        S::RollbackTo => "ROLLBACK TO kvidx_op",
        S::TtlPut => TTL_PUT,
        S::TtlDelete => TTL_DELETE,
        S::TtlDeleteRange => TTL_DELETE_RANGE,
        S::DataVersion => "PRAGMA data_version",
    }
}

/// Prepared statements owned by the engine; finalized on drop (before the
/// connection closes: the field order of [`Sqlite`] ensures it).
struct Stmts([*mut ffi::sqlite3_stmt; N_STMTS]);

impl Stmts {
    fn finalize_all(&mut self) {
        for p in self.0.iter_mut() {
            if !p.is_null() {
                // SAFETY: a statement we prepared and have not finalized.
                unsafe { ffi::sqlite3_finalize(*p) };
                *p = std::ptr::null_mut();
            }
        }
    }
}

// SAFETY: the statements belong to the engine's connection, which moves
// with them (rusqlite's Connection is Send); the store serialises use.
unsafe impl Send for Stmts {}

impl Drop for Stmts {
    fn drop(&mut self) {
        self.finalize_all();
    }
}

/// A statement in use: reset (and its borrowed blobs released) when dropped.
struct Active {
    st: *mut ffi::sqlite3_stmt,
}

/// The error `rc` of connection `db`, with its message and system errno.
#[cold]
fn db_error(db: *mut ffi::sqlite3, rc: c_int) -> Error {
    // SAFETY: db is an open connection.
    let (code, msg, errno) = unsafe {
        (ffi::sqlite3_extended_errcode(db), CStr::from_ptr(ffi::sqlite3_errmsg(db)).to_string_lossy(), system_errno(db))
    };
    let code = if code & 0xff == rc & 0xff { code } else { rc };
    sqlite_error(code, msg.into_owned(), errno)
}

impl Drop for Active {
    fn drop(&mut self) {
        // SAFETY: st is a live prepared statement of db.
        unsafe { ffi::sqlite3_reset(self.st) };
    }
}

impl Active {
    #[cold]
    fn error(&self, rc: c_int) -> Error {
        // SAFETY: st is a live prepared statement; its connection is open.
        db_error(unsafe { ffi::sqlite3_db_handle(self.st) }, rc)
    }

    #[inline]
    fn int(&self, idx: c_int, v: i64) -> Result<()> {
        // SAFETY: valid statement, parameter index within its parameters.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.st, idx, v) };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(self.error(rc)) }
    }

    #[inline]
    fn blob(&self, idx: c_int, d: &[u8]) -> Result<()> {
        // SAFETY: the bytes outlive the step that follows (SQLITE_STATIC);
        // the statement is reset before the borrow ends.
        let rc = unsafe {
            ffi::sqlite3_bind_blob64(self.st, idx, d.as_ptr() as *const c_void, d.len() as u64, ffi::SQLITE_STATIC())
        };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(self.error(rc)) }
    }

    /// Steps once: `Ok(true)` for a row, `Ok(false)` when done.
    #[inline]
    fn step(&self) -> Result<bool> {
        // SAFETY: valid statement with its parameters bound.
        match unsafe { ffi::sqlite3_step(self.st) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(self.error(rc)),
        }
    }

    /// Runs a statement that returns no rows; returns the rows changed.
    fn exec(&self) -> Result<u64> {
        self.step()?;
        // SAFETY: db open.
        Ok(unsafe { ffi::sqlite3_changes64(ffi::sqlite3_db_handle(self.st)) } as u64)
    }

    /// An integer column (a rowid, or an aggregate such as COUNT).
    #[inline]
    fn col_i64(&self, i: c_int) -> i64 {
        // SAFETY: called only while positioned on a row.
        unsafe { ffi::sqlite3_column_int64(self.st, i) }
    }

    /// term, cmd and value of an entry in columns `i`, `i + 1`, `i + 2`,
    /// validated: term and cmd integers, the value a BLOB (or NULL, which
    /// the original wrote for no data, or TEXT, read as its bytes). Anything
    /// else is a damaged record.
    ///
    /// Each column is fetched once (`sqlite3_column_value`) and read through
    /// its value: every `sqlite3_column_*` call looks the column up again,
    /// and this is the row reader of every read.
    #[inline]
    fn entry(&self, i: c_int, key: u64) -> Result<(u64, u64, &[u8])> {
        // SAFETY: called only while positioned on a row, columns within the
        // statement's; the values are read before the next step or reset
        // (which need &mut access to the engine, after this borrow ends).
        // `sqlite3_column_value`'s values are "unprotected": safe here, as
        // the store serialises every use of the connection.
        unsafe {
            let (tv, cv, dv) = (
                ffi::sqlite3_column_value(self.st, i),
                ffi::sqlite3_column_value(self.st, i + 1),
                ffi::sqlite3_column_value(self.st, i + 2),
            );
            let (t, c, d) = (ffi::sqlite3_value_type(tv), ffi::sqlite3_value_type(cv), ffi::sqlite3_value_type(dv));
            if t != ffi::SQLITE_INTEGER
                || c != ffi::SQLITE_INTEGER
                || d == ffi::SQLITE_INTEGER
                || d == ffi::SQLITE_FLOAT
            {
                return Err(Error::Corrupt(format!(
                    "log: the row of key {key} is malformed (term, cmd, data of SQLite types {t}, {c}, {d})"
                )));
            }
            // The pointer first, then its length, as SQLite asks.
            let p = match d {
                ffi::SQLITE_NULL => std::ptr::null(),
                ffi::SQLITE_BLOB => ffi::sqlite3_value_blob(dv) as *const u8,
                _ => ffi::sqlite3_value_text(dv),
            };
            let data = match (p.is_null(), ffi::sqlite3_value_bytes(dv)) {
                (false, n) if n > 0 => std::slice::from_raw_parts(p, n as usize),
                _ => &[][..],
            };
            Ok((ffi::sqlite3_value_int64(tv) as u64, ffi::sqlite3_value_int64(cv) as u64, data))
        }
    }
}

/// The SQLite engine (feature `sqlite`): `Store<Sqlite>` keeps its data in
/// one SQLite file, in the original kvidxkit's format.
///
/// The file holds the table `log (id INTEGER PRIMARY KEY, created INTEGER,
/// term INTEGER, cmd INTEGER, data BLOB)` — the key's 64 bits stored in the
/// signed `id`, so keys from 2^63 on appear negative to SQL, while the
/// store itself always orders keys as unsigned — and `_kvidx_ttl (id,
/// expires_at)` for expiry times in Unix milliseconds. Other tools
/// (`sqlite3`, the original C library) can read it.
///
/// Opening: a path names a file, created if missing (mode 0600 less the
/// umask); `":memory:"` is a private in-memory database and `""` a private
/// temporary one. By default the file is opened with the exclusive-locking
/// VFS `unix-excl`: no other connection or process can use it meanwhile,
/// and a second open in the same process is [`Error::Locked`]. With
/// [`Config::vfs_name`] `Some("unix")` several connections (and processes)
/// can share it; each store takes in what the others commit at its next
/// call. The journal is a write-ahead log (`-wal` file) unless
/// [`Config::journal_mode`] says otherwise.
///
/// Limits: values up to 1 000 000 000 bytes. Durability follows
/// [`Config::sync_mode`] (`PRAGMA synchronous`).
pub struct Sqlite {
    // Declared before `conn`: statements are finalized before it closes.
    stmts: Stmts,
    conn: Connection,
    /// File path (None for in-memory and temporary databases).
    file: Option<PathBuf>,
    opened_read_only: bool,
    vfs: Option<String>,
    /// Held for every file (exclusive with the exclusive-locking VFS).
    claim: Option<super::ProcessClaim>,
    /// Another connection may write the file (a file opened with a VFS
    /// other than `unix-excl`): commits of others are watched for.
    shared: bool,
    /// The value the last `get` found.
    value: Vec<u8>,
    /// `PRAGMA data_version` (it changes when another connection commits)
    /// as of the TTL index, and as last read.
    data_version: i64,
    pending_version: i64,
}

impl Sqlite {
    /// The statement `which`, prepared on first use.
    #[inline(always)]
    fn st(&mut self, which: S) -> Result<Active> {
        match self.stmts.0[which as usize] {
            p if p.is_null() => self.prepare(which),
            p => Ok(Active { st: p }),
        }
    }

    /// Prepares statement `which` (its first use).
    #[cold]
    #[inline(never)]
    fn prepare(&mut self, which: S) -> Result<Active> {
        // SAFETY: the connection is open for the life of self.
        let db = unsafe { self.conn.handle() };
        let sql = sql_of(which);
        let mut p = std::ptr::null_mut();
        // SAFETY: valid connection, SQL text with its length.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr() as *const std::ffi::c_char,
                sql.len() as c_int,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut p,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(db_error(db, rc));
        }
        self.stmts.0[which as usize] = p;
        Ok(Active { st: p })
    }

    fn run(&mut self, which: S) -> Result<u64> {
        self.st(which)?.exec()
    }

    /// The store's SQLite connection (a [`rusqlite::Connection`](https://docs.rs/rusqlite/0.43/rusqlite/struct.Connection.html), re-exported
    /// as `kvidxkit::rusqlite`), for your own tables in
    /// the same file: with the [`schema`](crate::schema) helpers or plain
    /// SQL. Statements run inside the store's transaction when one is open,
    /// so your rows and the store's entries commit or roll back together.
    ///
    /// Read the store's tables if you like, but do not change them (`log`,
    /// `_kvidx_ttl`, `controlBlock`), and do not control transactions here
    /// (`BEGIN`, `COMMIT`, …): the store keeps state about both in memory.
    ///
    /// ```
    /// use kvidxkit::{Sqlite, Store};
    ///
    /// let mut db = Store::<Sqlite>::open(":memory:")?;
    /// db.engine().connection().execute_batch("CREATE TABLE notes (key INTEGER, note TEXT)")?;
    ///
    /// let mut tx = db.transaction()?;
    /// tx.insert(1, 1, 0, b"entry")?;
    /// tx.engine().connection().execute("INSERT INTO notes VALUES (1, 'about entry 1')", [])?;
    /// drop(tx); // rolled back: both the entry and the note
    ///
    /// let notes: i64 = db.engine().connection().query_row("SELECT COUNT(*) FROM notes", [], |r| r.get(0))?;
    /// assert_eq!((notes, db.key_count()?), (0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// An integer PRAGMA; 0 when it returns no row (e.g. mmap_size of an
    /// in-memory database).
    fn pragma_i64(&self, name: &str) -> Result<i64> {
        let mut stmt = self.conn.prepare(&format!("PRAGMA {name}"))?;
        let mut rows = stmt.query([])?;
        Ok(match rows.next()? {
            Some(r) => r.get::<_, i64>(0)?,
            None => 0,
        })
    }

    fn set_pragma(&self, name: &str, value: &str) -> Result<()> {
        // PRAGMAs may return a row (journal_mode, mmap_size); step through it.
        let sql = format!("PRAGMA {name} = {value}");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
        Ok(())
    }

    fn journal_mode(&self) -> Result<JournalMode> {
        let s: String = self.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        JournalMode::from_keyword(&s).ok_or_else(|| Error::Internal(format!("unknown journal mode {s}")))
    }

    /// Reads back every setting now in effect.
    fn effective(&self, vfs_name: Option<String>) -> Result<Config> {
        let page_size = self.pragma_i64("page_size")?;
        let cache = self.pragma_i64("cache_size")?;
        let cache_bytes = if cache < 0 { (-cache) as u64 * 1024 } else { cache as u64 * page_size as u64 };
        let sync = self.pragma_i64("synchronous")?;
        Ok(Config {
            cache_size_bytes: cache_bytes as usize,
            vfs_name,
            journal_mode: self.journal_mode()?,
            sync_mode: SyncMode::from_raw(sync as u32).unwrap_or(SyncMode::Full),
            recursive_triggers: self.pragma_i64("recursive_triggers")? != 0,
            foreign_keys: self.pragma_i64("foreign_keys")? != 0,
            read_only: self.opened_read_only || self.pragma_i64("query_only")? != 0,
            busy_timeout_ms: self.pragma_i64("busy_timeout")?.clamp(0, i32::MAX as i64) as i32,
            mmap_size_bytes: self.pragma_i64("mmap_size")?.clamp(0, i32::MAX as i64) as i32,
            page_size: page_size as i32,
        })
    }

    /// Applies every field of `cfg` that can change on an open connection.
    fn apply_fields(&mut self, cfg: &Config) -> Result<()> {
        if cfg.read_only != (self.opened_read_only || self.pragma_i64("query_only")? != 0) {
            if !cfg.read_only && self.opened_read_only {
                return Err(Error::ReadOnly("the database was opened read-only; reopen it to write".into()));
            }
            self.set_pragma("query_only", if cfg.read_only { "ON" } else { "OFF" })?;
        }
        // The PRAGMA, not rusqlite's busy_timeout (which needs SQLite 3.44).
        self.set_pragma("busy_timeout", &cfg.busy_timeout_ms.max(0).to_string())?;
        if cfg.cache_size_bytes > 0 {
            let kib = cfg.cache_size_bytes.div_ceil(1024).min(i32::MAX as usize);
            self.set_pragma("cache_size", &format!("-{kib}"))?;
        }
        if self.file.is_some() || cfg.journal_mode == JournalMode::Off || cfg.journal_mode == JournalMode::Memory {
            let want = cfg.journal_mode;
            if self.journal_mode()? != want {
                let got: String =
                    self.conn.query_row(&format!("PRAGMA journal_mode = {}", want.keyword()), [], |r| r.get(0))?;
                if !got.eq_ignore_ascii_case(want.keyword()) {
                    return Err(Error::Internal(format!(
                        "journal mode {} could not be set (still {got})",
                        want.keyword()
                    )));
                }
            }
        }
        self.set_pragma("synchronous", cfg.sync_mode.keyword())?;
        self.set_pragma("recursive_triggers", if cfg.recursive_triggers { "ON" } else { "OFF" })?;
        self.set_pragma("foreign_keys", if cfg.foreign_keys { "ON" } else { "OFF" })?;
        if cfg.mmap_size_bytes > 0 {
            self.set_pragma("mmap_size", &cfg.mmap_size_bytes.to_string())?;
        }
        Ok(())
    }

    fn open_conn(req: &OpenRequest<'_>) -> Result<Self> {
        let path = req.path;
        let memory = path.as_os_str() == ":memory:" || path.as_os_str().is_empty();
        let read_only = req.config.is_some_and(|c| c.read_only);
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        flags |= if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let requested_vfs = req.config.and_then(|c| c.vfs_name.clone());
        let vfs = match &requested_vfs {
            Some(v) => Some(v.clone()),
            None if memory => None,
            None => Some("unix-excl".to_string()),
        };
        let conn = match &vfs {
            Some(v) => {
                let name = CString::new(v.as_str()).map_err(|_| Error::invalid("vfsName contains a NUL byte"))?;
                Connection::open_with_flags_and_vfs(path, flags, name.as_c_str())
            }
            None => Connection::open_with_flags(path, flags),
        }
        .map_err(|e| match Error::from(e) {
            Error::Internal(m) if requested_vfs.is_some() => Error::invalid(format!("cannot open with VFS: {m}")),
            other => other,
        })?;
        conn.set_prepared_statement_cache_capacity(64);
        // Two connections of one process on a file opened with unix-excl
        // would each keep their own WAL index: refuse the second.
        let exclusive = vfs.as_deref() == Some("unix-excl");
        let claim = if memory { None } else { Some(super::ProcessClaim::take(path, exclusive, false)?) };
        let shared = !memory && !exclusive;
        Ok(Sqlite {
            stmts: Stmts([std::ptr::null_mut(); N_STMTS]),
            conn,
            file: if memory { None } else { Some(PathBuf::from(path)) },
            opened_read_only: read_only,
            vfs: requested_vfs,
            claim,
            shared,
            value: Vec::new(),
            data_version: 0,
            pending_version: 0,
        })
    }

    fn init(&mut self, cfg: Option<&Config>) -> Result<Config> {
        // Busy timeout first, so that the statements below wait for a lock if asked to.
        let busy = cfg.map_or(0, |c| c.busy_timeout_ms.max(0));
        self.set_pragma("busy_timeout", &busy.to_string())?;
        if !self.opened_read_only {
            // Only effective for a new file; must precede WAL and the schema.
            let ps = cfg.map_or(DEFAULT_PAGE_SIZE, |c| if c.page_size > 0 { c.page_size } else { DEFAULT_PAGE_SIZE });
            self.set_pragma("page_size", &ps.to_string())?;
        }
        // temp_store is left at SQLite's default, as the original leaves it:
        // a statement journal stays in memory up to 64 KiB, then moves to a
        // temporary file. Keeping it in memory (temp_store = MEMORY) stores
        // it in 1 KiB allocations, which made each write inside a
        // transaction ~2x the instructions and SetExpire 1.10-1.14 of raw
        // SQLite in `make bench` (1.01-1.05 without it).
        match cfg {
            None => {
                // The original's plain open: WAL, 31 250 KiB cache, recursive
                // triggers; synchronous left at FULL.
                self.set_pragma("journal_mode", "WAL")?;
                self.set_pragma("cache_size", &format!("-{PLAIN_CACHE_KIB}"))?;
                self.set_pragma("recursive_triggers", "ON")?;
                self.set_pragma("synchronous", "FULL")?;
                // The original's SQLite defaults to foreign keys on; a system SQLite may not.
                self.set_pragma("foreign_keys", "ON")?;
            }
            Some(c) => self.apply_fields(c)?,
        }
        if self.opened_read_only {
            let has_log: bool = self.conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log')",
                [],
                |r| r.get(0),
            )?;
            if !has_log {
                return Err(Error::Schema("not a kvidxkit database (no table 'log')".into()));
            }
        } else {
            self.conn.execute_batch(SCHEMA)?;
        }
        self.check_layout()?;
        self.effective(self.vfs.clone())
    }

    /// The tables the engine uses have the columns it reads and writes (a
    /// table of that name with other columns — another program's, or a
    /// damaged schema — would make every call fail later).
    fn check_layout(&self) -> Result<()> {
        let has_ttl: bool = self.conn.query_row(HAS_TTL_TABLE, [], |r| r.get(0))?;
        let mut checks = vec!["SELECT id, created, term, cmd, data FROM log LIMIT 0"];
        if has_ttl {
            checks.push("SELECT id, expires_at FROM _kvidx_ttl LIMIT 0");
        }
        for sql in checks {
            if let Err(e) = self.conn.prepare(sql) {
                return Err(match Error::from(e) {
                    Error::Corrupt(m) => Error::Corrupt(m),
                    other => Error::Schema(format!("not a kvidxkit database (its tables have other columns): {other}")),
                });
            }
        }
        Ok(())
    }

    /// An I/O error of a call made through rusqlite that ran out of space
    /// (the connection's last system error says so) is DISK_FULL.
    fn no_space(&self, e: Error) -> Error {
        match e {
            Error::Io(msg) => {
                // SAFETY: the connection is open.
                let errno = unsafe { system_errno(self.conn.handle()) };
                sqlite_error(ffi::SQLITE_IOERR, msg, errno)
            }
            e => e,
        }
    }

    fn read_data_version(&mut self) -> Result<i64> {
        let st = self.st(S::DataVersion)?;
        Ok(if st.step()? { st.col_i64(0) } else { 0 })
    }

    /// SQLite's own file object for the database or its journal/WAL, so that
    /// syncing never opens (and closes) a second descriptor, which would drop
    /// SQLite's POSIX locks.
    fn sync_sqlite_file(&self, op: c_int) -> Result<()> {
        use libsqlite3_sys as ffi;
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        let main = c"main";
        // SAFETY: the connection is open and owned by us; the file pointer
        // returned stays valid while the connection is open and idle.
        unsafe {
            let rc = ffi::sqlite3_file_control(
                self.conn.handle(),
                main.as_ptr(),
                op,
                &mut file as *mut *mut ffi::sqlite3_file as *mut c_void,
            );
            if rc != ffi::SQLITE_OK || file.is_null() || (*file).pMethods.is_null() {
                return Ok(());
            }
            if let Some(sync) = (*(*file).pMethods).xSync {
                let rc = sync(file, ffi::SQLITE_SYNC_FULL);
                if rc != ffi::SQLITE_OK {
                    // The unix VFS leaves the failed call's errno in place.
                    let e = std::io::Error::last_os_error();
                    return Err(Error::from_io(&format!("fsync failed (SQLite code {rc})"), &e));
                }
            }
        }
        Ok(())
    }
}

/// Creates a database file that does not exist yet with mode 0600 (less the
/// umask), the permissions the original gives new files (its SQLite is built
/// with SQLITE_DEFAULT_FILE_PERMISSIONS=0600); SQLite gives the WAL and
/// journal the mode of the database file. Nothing is created for in-memory
/// databases, URIs, other VFS families or a read-only open; any error is left
/// for SQLite to report. True if this call created the file.
fn create_private_file(req: &OpenRequest<'_>) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let name = req.path.as_os_str().as_encoded_bytes();
        let cfg = req.config;
        if name.is_empty()
            || name == b":memory:"
            || name.starts_with(b"file:")
            || cfg.is_some_and(|c| c.read_only || c.vfs_name.as_deref().is_some_and(|v| !v.starts_with("unix")))
        {
            return false;
        }
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(req.path).is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = req;
        false
    }
}

impl Engine for Sqlite {
    const NAME: &'static str = "SQLite3";
    const ID: u32 = 1;

    fn open(req: &OpenRequest<'_>) -> Result<(Self, Config)> {
        if let Some(c) = req.config {
            c.validate()?;
        }
        let created = create_private_file(req);
        let opened = Self::open_conn(req).and_then(|mut engine| {
            let cfg = engine.init(req.config).map_err(|e| engine.no_space(e))?;
            if engine.shared {
                engine.data_version = engine.read_data_version()?;
            }
            Ok((engine, cfg))
        });
        if opened.is_err() && created {
            let _ = std::fs::remove_file(req.path);
        }
        opened
    }

    fn close(mut self) -> std::result::Result<(), (Self, Error)> {
        self.stmts.finalize_all();
        let Sqlite { stmts, conn, file, opened_read_only, vfs, claim, shared, data_version, pending_version, value } =
            self;
        conn.close().map_err(|(conn, e)| {
            let s = Sqlite {
                stmts,
                conn,
                file,
                opened_read_only,
                vfs,
                claim,
                shared,
                data_version,
                pending_version,
                value,
            };
            (s, Error::from(e))
        })
    }

    fn begin(&mut self) -> Result<()> {
        self.run(S::Begin).map(|_| ())
    }

    fn commit(&mut self) -> Result<()> {
        self.run(S::Commit).map(|_| ())
    }

    fn rollback(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.run(S::Rollback)?;
        }
        Ok(())
    }

    fn savepoint(&mut self) -> Result<()> {
        self.run(S::Savepoint).map(|_| ())
    }

    fn release_savepoint(&mut self) -> Result<()> {
        self.run(S::Release).map(|_| ())
    }

    fn rollback_savepoint(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.run(S::RollbackTo)?;
            self.run(S::Release)?;
        }
        Ok(())
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    #[inline]
    fn get(&mut self, key: u64) -> Result<Option<(u64, u64)>> {
        let st = self.st(S::Get)?;
        st.int(1, key as i64)?;
        if !st.step()? {
            return Ok(None);
        }
        let (term, cmd, d) = st.entry(0, key)?;
        // The statement is reset when `st` goes: the value is copied out.
        self.value.clear();
        self.value.extend_from_slice(d);
        Ok(Some((term, cmd)))
    }

    #[inline]
    fn value(&self) -> &[u8] {
        &self.value
    }

    fn exists(&mut self, key: u64) -> Result<bool> {
        let st = self.st(S::Exists)?;
        st.int(1, key as i64)?;
        st.step()
    }

    fn term(&mut self, key: u64) -> Result<Option<u64>> {
        let st = self.st(S::Term)?;
        st.int(1, key as i64)?;
        if !st.step()? {
            return Ok(None);
        }
        // SAFETY: positioned on a row.
        if unsafe { ffi::sqlite3_column_type(st.st, 0) } != ffi::SQLITE_INTEGER {
            return Err(Error::Corrupt(format!("log: the term of key {key} is not an integer")));
        }
        Ok(Some(st.col_i64(0) as u64))
    }

    /// Each half of the range is one statement that names only the bound it
    /// starts from; the other bound is checked here, as is the order of the
    /// ids (strictly increasing forward, decreasing backward), so that a
    /// damaged b-tree cannot make a scan repeat or go back. The first row
    /// past the range is followed by one more, which must continue the
    /// order: an id damaged into a value beyond the range would otherwise
    /// end the scan early without a word.
    fn scan<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, mut f: F) -> Result<()> {
        let (halves, n) = signed_halves(lo, hi);
        let forward = dir == Dir::Forward;
        for idx in 0..n {
            let (a, b) = halves[if forward { idx } else { n - 1 - idx }];
            let st = self.st(if forward { S::ScanFrom } else { S::ScanUpTo })?;
            st.int(1, if forward { a } else { b })?;
            let mut prev: Option<i64> = None;
            while st.step()? {
                let id = st.col_i64(0);
                let ordered = if forward {
                    id >= a && prev.is_none_or(|p| id > p)
                } else {
                    id <= b && prev.is_none_or(|p| id < p)
                };
                if !ordered {
                    return Err(out_of_order(id, prev, forward));
                }
                if if forward { id > b } else { id < a } {
                    if st.step()? {
                        let next = st.col_i64(0);
                        if if forward { next <= id } else { next >= id } {
                            return Err(out_of_order(next, Some(id), forward));
                        }
                    }
                    break;
                }
                let (term, cmd, data) = st.entry(1, id as u64)?;
                if !f(Row { key: id as u64, term, cmd, data }) {
                    return Ok(());
                }
                prev = Some(id);
            }
        }
        Ok(())
    }

    fn count(&mut self, lo: u64, hi: u64) -> Result<u64> {
        if lo == 0 && hi == u64::MAX {
            let st = self.st(S::CountAll)?;
            st.step()?;
            return Ok(st.col_i64(0) as u64);
        }
        let (halves, n) = signed_halves(lo, hi);
        let mut total = 0u64;
        for &(a, b) in &halves[..n] {
            let st = self.st(S::CountRange)?;
            st.int(1, a)?;
            st.int(2, b)?;
            st.step()?;
            total += st.col_i64(0) as u64;
        }
        Ok(total)
    }

    fn data_size(&mut self) -> Result<u64> {
        let n: i64 = self.conn.prepare_cached(DATA_SIZE)?.query_row([], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn max_value_len(&self) -> usize {
        // A row is one record no longer than SQLITE_LIMIT_LENGTH: the value
        // plus the record header and three integers (at most 64 bytes).
        // SAFETY: reading a limit of an open connection.
        let limit = unsafe { ffi::sqlite3_limit(self.conn.handle(), ffi::SQLITE_LIMIT_LENGTH, -1) };
        (limit.max(0) as usize).saturating_sub(64)
    }

    fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        let st = self.st(S::Insert)?;
        st.int(1, key as i64)?;
        st.int(2, term as i64)?;
        st.int(3, cmd as i64)?;
        st.blob(4, data)?;
        Ok(st.exec()? > 0)
    }

    fn put(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        let st = self.st(S::Put)?;
        st.int(1, key as i64)?;
        st.int(2, term as i64)?;
        st.int(3, cmd as i64)?;
        st.blob(4, data)?;
        st.exec().map(|_| ())
    }

    fn update(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        let st = self.st(S::Update)?;
        st.int(1, key as i64)?;
        st.int(2, term as i64)?;
        st.int(3, cmd as i64)?;
        st.blob(4, data)?;
        Ok(st.exec()? > 0)
    }

    fn delete(&mut self, key: u64) -> Result<bool> {
        let st = self.st(S::Delete)?;
        st.int(1, key as i64)?;
        Ok(st.exec()? > 0)
    }

    fn delete_range(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let (halves, n) = signed_halves(lo, hi);
        let mut total = 0u64;
        for &(a, b) in &halves[..n] {
            let st = self.st(S::DeleteRange)?;
            st.int(1, a)?;
            st.int(2, b)?;
            total += st.exec()?;
        }
        Ok(total)
    }

    fn ttl_scan(&mut self, f: &mut dyn FnMut(u64, u64)) -> Result<()> {
        // A read-only database written by the original may lack the table.
        let present: bool = self.conn.prepare_cached(HAS_TTL_TABLE)?.query_row([], |r| r.get(0))?;
        if !present {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(TTL_SCAN)?;
        let mut rows = stmt.query([])?;
        let mut prev: Option<i64> = None;
        while let Some(row) = rows.next()? {
            // Stored as the bits of a signed integer; read back unsigned.
            let id = ttl_int(row.get_ref(0)?, "id")? as i64;
            if prev.is_some_and(|p| id <= p) {
                return Err(out_of_order(id, prev, true));
            }
            prev = Some(id);
            f(id as u64, ttl_int(row.get_ref(1)?, "expires_at")?);
        }
        Ok(())
    }

    fn ttl_put(&mut self, key: u64, expires_at: u64) -> Result<()> {
        // Kept <= i64::MAX so the stored value compares correctly in SQL too.
        let at = expires_at.min(i64::MAX as u64) as i64;
        let st = self.st(S::TtlPut)?;
        st.int(1, key as i64)?;
        st.int(2, at)?;
        st.exec().map(|_| ())
    }

    fn ttl_delete(&mut self, key: u64) -> Result<()> {
        let st = self.st(S::TtlDelete)?;
        st.int(1, key as i64)?;
        st.exec().map(|_| ())
    }

    fn ttl_delete_range(&mut self, lo: u64, hi: u64) -> Result<()> {
        let (halves, n) = signed_halves(lo, hi);
        for &(a, b) in &halves[..n] {
            let st = self.st(S::TtlDeleteRange)?;
            st.int(1, a)?;
            st.int(2, b)?;
            st.exec()?;
        }
        Ok(())
    }

    fn file_stats(&mut self) -> Result<FileStats> {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let (db, wal) = match &self.file {
            Some(f) => {
                let mut w = f.clone().into_os_string();
                w.push("-wal");
                (size(f), size(Path::new(&w)))
            }
            None => (0, 0),
        };
        Ok(FileStats {
            database_file_size: db,
            wal_file_size: wal,
            page_count: self.pragma_i64("page_count")? as u64,
            page_size: self.pragma_i64("page_size")? as u64,
            free_pages: self.pragma_i64("freelist_count")? as u64,
        })
    }

    fn apply_config(&mut self, cfg: &Config) -> Result<Config> {
        cfg.validate()?;
        if let Some(v) = &cfg.vfs_name
            && self.vfs.as_deref() != Some(v.as_str())
        {
            return Err(Error::invalid("vfsName can only be chosen when opening"));
        }
        let before = self.effective(self.vfs.clone())?;
        if let Err(e) = self.apply_fields(cfg) {
            let e = self.no_space(e);
            // Leave the previous configuration in force.
            let _ = self.apply_fields(&before);
            return Err(e);
        }
        self.effective(self.vfs.clone())
    }

    fn sync(&mut self) -> Result<()> {
        use libsqlite3_sys as ffi;
        let Some(path) = &self.file else {
            return Ok(());
        };
        self.sync_sqlite_file(ffi::SQLITE_FCNTL_JOURNAL_POINTER)?;
        self.sync_sqlite_file(ffi::SQLITE_FCNTL_FILE_POINTER)?;
        // The directory entry of a newly created file (or WAL) must be durable too.
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if let Ok(d) = std::fs::File::open(dir) {
            d.sync_all().map_err(|e| Error::from_io("fsync of directory failed", &e))?;
        }
        Ok(())
    }

    fn changed_elsewhere(&mut self) -> Result<bool> {
        if !self.shared {
            // unix-excl: no other connection can write the file.
            return Ok(false);
        }
        self.pending_version = self.read_data_version()?;
        Ok(self.pending_version != self.data_version)
    }

    fn took_in_changes(&mut self) {
        self.data_version = self.pending_version;
    }

    fn version() -> String {
        rusqlite::version().to_string()
    }

    fn details(&mut self) -> Result<Vec<(String, String)>> {
        self.admin_details()
    }

    fn check_storage(&mut self, checks: &mut Vec<Check>) {
        self.admin_check(checks)
    }

    fn compact(&mut self) -> Result<CompactReport> {
        self.admin_compact()
    }

    fn snapshot_scan(
        &mut self,
        lo: u64,
        hi: u64,
        ttl: &mut dyn FnMut(u64, u64),
        f: &mut dyn FnMut(Row<'_>) -> bool,
    ) -> Result<()> {
        self.admin_snapshot(lo, hi, ttl, f)
    }
}
