//! The C ABI of `kvidxkitTableDesc.h` and `kvidxkitSchema.h`: `#[repr(C)]`
//! mirrors of the original's types (layouts asserted at the bottom) and thin
//! entry points that convert the caller's structs into the safe descriptions
//! of [`super::desc`] and call [`super::sql`] / [`super::migrate`].
//!
//! Enum-typed fields coming from C (`kvidxColType`, which callers combine as
//! flags, and `kvidxDefaultKind`) are read as raw `u32`s and printed in the
//! header under the C enum's name.
#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;

use super::desc::{ColType, Column, DefaultValue, Index, Table};
use super::migrate::{Db, Step};
use super::sql;
use crate::capi::boundary::{guard, record};
use crate::capi::types::{kvidxError, kvidxErrorRaw, kvidxInstance};
use crate::error::{Error, Result};

/// Column type flags; combine them with `|` (see also the KVIDX_COL_*
/// combinations in kvidxkitTableDesc.h).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxColType {
    KVIDX_COL_INTEGER = 1,
    KVIDX_COL_TEXT = 2,
    KVIDX_COL_BLOB = 4,
    KVIDX_COL_REAL = 8,
    KVIDX_COL_PRIMARY_KEY = 16,
    KVIDX_COL_NOT_NULL = 32,
    KVIDX_COL_UNIQUE = 64,
    KVIDX_COL_AUTOINCREMENT = 128,
    /// REFERENCES refTable
    KVIDX_COL_REFERENCES = 256,
    /// ON DELETE CASCADE (needs REFERENCES)
    KVIDX_COL_CASCADE_DELETE = 512,
    /// DEFERRABLE INITIALLY DEFERRED (needs REFERENCES)
    KVIDX_COL_DEFERRED = 1024,
    /// DEFAULT value (defaultKind / defaultVal)
    KVIDX_COL_HAS_DEFAULT = 2048,
}
/// A `kvidxColType` combination as it crosses the ABI.
pub type kvidxColTypeRaw = u32;

/// The kind of a column's default value.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum kvidxDefaultKind {
    KVIDX_DEFAULT_NONE = 0,
    KVIDX_DEFAULT_NULL = 1,
    KVIDX_DEFAULT_INT = 2,
    KVIDX_DEFAULT_REAL = 3,
    KVIDX_DEFAULT_TEXT = 4,
    KVIDX_DEFAULT_EXPR = 5,
}
/// A `kvidxDefaultKind` as it crosses the ABI.
pub type kvidxDefaultKindRaw = u32;

/// The default value of a column, selected by `defaultKind`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union kvidxColDefaultVal {
    pub intVal: i64,
    pub realVal: f64,
    /// Written as an SQL string literal ('it''s')
    pub textVal: *const c_char,
    /// Written verbatim (e.g. CURRENT_TIMESTAMP)
    pub exprVal: *const c_char,
}

/// One column (40 bytes). Build it with the COL* macros of kvidxkitTableDesc.h.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kvidxColDef {
    pub name: *const c_char,
    pub r#type: kvidxColTypeRaw,
    /// Referenced table ("users" or "users(id)"), with KVIDX_COL_REFERENCES
    pub refTable: *const c_char,
    pub defaultKind: kvidxDefaultKindRaw,
    pub defaultVal: kvidxColDefaultVal,
}

/// One index (32 bytes). Build it with the INDEX* macros.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kvidxIndexDef {
    /// NULL: named <table>_<col1>_<col2>..._idx
    pub name: *const c_char,
    pub unique: bool,
    pub colCount: usize,
    pub columns: *mut *const c_char,
}

/// One table (48 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kvidxTableDef {
    pub name: *const c_char,
    pub columns: *const kvidxColDef,
    pub colCount: usize,
    /// NULL if indexCount is 0
    pub indexes: *const kvidxIndexDef,
    pub indexCount: usize,
    pub withoutRowid: bool,
}

/// One schema migration (32 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kvidxMigration {
    /// Version this migration brings the schema to (> 0)
    pub version: u32,
    /// Recorded in _kvidx_schema ("" if NULL)
    pub description: *const c_char,
    /// SQL to run (several statements allowed; no BEGIN/COMMIT/SAVEPOINT);
    /// NULL or "" only records the version
    pub upSQL: *const c_char,
    /// Not used by any function (kept for the original's layout)
    pub downSQL: *const c_char,
}

/// Called after each attempted migration; `success` false for the one that
/// failed (after which everything the call applied is rolled back).
pub type kvidxMigrationCallback =
    Option<unsafe extern "C" fn(version: u32, description: *const c_char, success: bool, userData: *mut c_void)>;

/// SQLite's connection type (declared by sqlite3.h; the header only
/// forward-declares `struct sqlite3`).
/// cbindgen:no-export
#[repr(C)]
pub struct sqlite3 {
    _opaque: [u8; 0],
}

const OK: kvidxErrorRaw = kvidxError::KVIDX_OK as u32;
const INVALID: kvidxErrorRaw = kvidxError::KVIDX_ERROR_INVALID_ARGUMENT as u32;
const INTERNAL: kvidxErrorRaw = kvidxError::KVIDX_ERROR_INTERNAL as u32;

fn code(r: Result<()>) -> kvidxErrorRaw {
    match r {
        Ok(()) => OK,
        Err(e) => e.code() as u32,
    }
}

// ----------------------------------------------------------------------
// C structs → safe descriptions

/// The string at `p` ("" for NULL, which validation then rejects).
unsafe fn text(p: *const c_char, what: &str) -> Result<String> {
    if p.is_null() {
        return Ok(String::new());
    }
    // SAFETY: the caller passes NUL-terminated strings.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(str::to_string).map_err(|_| Error::Schema(format!("{what} is not valid UTF-8")))
}

/// The `n` elements at `p` (NULL is an error unless `n` is 0).
unsafe fn slice<'a, T>(p: *const T, n: usize, what: &str) -> Result<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::Schema(format!("{what} is NULL but its count is {n}")));
    }
    if n > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(Error::Schema(format!("{what}: count {n} is too large")));
    }
    // SAFETY: the caller's array holds `n` elements.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

unsafe fn column(c: &kvidxColDef) -> Result<Column> {
    let ty = ColType(c.r#type);
    let name = unsafe { text(c.name, "a column name")? };
    let ref_table = if ty.contains(ColType::REFERENCES) && !c.refTable.is_null() {
        Some(unsafe { text(c.refTable, "a referenced table")? })
    } else {
        None
    };
    let default = if !ty.contains(ColType::HAS_DEFAULT) {
        DefaultValue::None
    } else {
        let need = |p: *const c_char, what: &str| -> Result<String> {
            if p.is_null() {
                return Err(Error::Schema(format!("column {name:?}: the {what} is NULL")));
            }
            unsafe { text(p, what) }
        };
        // SAFETY: the union member read is the one `defaultKind` selects.
        unsafe {
            match c.defaultKind {
                0 => DefaultValue::None,
                1 => DefaultValue::Null,
                2 => DefaultValue::Int(c.defaultVal.intVal),
                3 => DefaultValue::Real(c.defaultVal.realVal),
                4 => DefaultValue::Text(need(c.defaultVal.textVal, "default text")?),
                5 => DefaultValue::Expr(need(c.defaultVal.exprVal, "default expression")?),
                k => {
                    return Err(Error::Schema(format!("column {name:?}: unknown default kind {k}")));
                }
            }
        }
    };
    Ok(Column { name, ty, ref_table, default })
}

unsafe fn table(t: &kvidxTableDef) -> Result<Table> {
    let name = unsafe { text(t.name, "a table name")? };
    let mut columns = Vec::with_capacity(t.colCount.min(1024));
    for c in unsafe { slice(t.columns, t.colCount, "columns")? } {
        columns.push(unsafe { column(c)? });
    }
    let mut indexes = Vec::new();
    for ix in unsafe { slice(t.indexes, t.indexCount, "indexes")? } {
        let mut cols = Vec::with_capacity(ix.colCount.min(1024));
        for &c in unsafe { slice(ix.columns as *const *const c_char, ix.colCount, "index columns")? } {
            if c.is_null() {
                return Err(Error::Schema(format!("table {name:?}: an index column is NULL")));
            }
            cols.push(unsafe { text(c, "an index column")? });
        }
        indexes.push(Index {
            name: if ix.name.is_null() { None } else { Some(unsafe { text(ix.name, "an index name")? }) },
            unique: ix.unique,
            columns: cols,
        });
    }
    Ok(Table { name, columns, indexes, without_rowid: t.withoutRowid })
}

unsafe fn table_at(t: *const kvidxTableDef) -> Result<Table> {
    if t.is_null() {
        return Err(Error::invalid("table is NULL"));
    }
    unsafe { table(&*t) }
}

/// Copies `s` and its NUL into `buf` if it fits; otherwise (or on error)
/// leaves an empty string there. Returns the length written.
unsafe fn emit(buf: *mut c_char, size: usize, s: Result<String>) -> Option<usize> {
    if buf.is_null() || size == 0 {
        return None;
    }
    match s {
        Ok(s) if s.len() < size => {
            // SAFETY: the caller's buffer holds `size` bytes.
            unsafe {
                ptr::copy_nonoverlapping(s.as_ptr(), buf.cast(), s.len());
                *buf.add(s.len()) = 0;
            }
            Some(s.len())
        }
        _ => {
            unsafe { *buf = 0 };
            None
        }
    }
}

/// Runs a table generator for a C entry point.
unsafe fn gen_table(t: *const kvidxTableDef, buf: *mut c_char, size: usize, f: fn(&Table) -> Result<String>) -> bool {
    guard(ptr::null_mut(), false, || unsafe {
        if buf.is_null() || size == 0 {
            return false;
        }
        emit(buf, size, table_at(t).and_then(|t| f(&t))).is_some()
    })
}

// ----------------------------------------------------------------------
// kvidxkitTableDesc.h

/// Writes the type part of a column definition ("INTEGER PRIMARY KEY
/// AUTOINCREMENT", "TEXT NOT NULL DEFAULT 'it''s'", ...) into `buf`.
/// Returns its length, or -1 for NULL arguments, a column type that
/// kvidxColDefIsValid rejects, or a buffer too small for the text and its
/// NUL (the buffer then holds "").
///
/// # Safety
/// `col` is NULL or a valid column; `buf` NULL or writable for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenColTypeSql(col: *const kvidxColDef, buf: *mut c_char, bufSize: usize) -> c_int {
    guard(ptr::null_mut(), -1, || unsafe {
        if col.is_null() || buf.is_null() || bufSize == 0 {
            return -1;
        }
        let s = column(&*col).and_then(|c| sql::column_type_sql(&c));
        emit(buf, bufSize, s).and_then(|n| c_int::try_from(n).ok()).unwrap_or(-1)
    })
}

/// Writes "CREATE TABLE IF NOT EXISTS <name> (<col> <type>, ...)[ WITHOUT
/// ROWID];". False for NULL arguments, an invalid table (kvidxTableDefIsValid)
/// or a buffer too small (which then holds ""). Names that are not plain
/// identifiers, or are SQL keywords, are double-quoted.
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenCreateTable(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::create_table_sql) }
}

/// Writes one "CREATE [UNIQUE ]INDEX IF NOT EXISTS <name> ON <table>
/// (<cols>);" per index, separated by "\n" ("" when there is none).
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenCreateIndexes(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::create_indexes_sql) }
}

/// Writes "INSERT INTO <table> (<c0>, <c1>, ...) VALUES (?, ?, ...);".
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenInsert(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::insert_sql) }
}

/// Writes "SELECT * FROM <table> WHERE <c0> = ?;".
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenSelectById(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::select_by_id_sql) }
}

/// Writes "SELECT * FROM <table>;".
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenSelectAll(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::select_all_sql) }
}

/// Writes "UPDATE <table> SET <c1> = ?, ... WHERE <c0> = ?;" (false for a
/// table of one column).
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenUpdateById(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::update_by_id_sql) }
}

/// Writes "DELETE FROM <table> WHERE <c0> = ?;".
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenDeleteById(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::delete_by_id_sql) }
}

/// Writes "SELECT COUNT(*) FROM <table>;".
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenCount(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::count_sql) }
}

/// Writes "SELECT MAX(<c0>) FROM <table>;".
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenMaxId(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::max_id_sql) }
}

/// Writes "SELECT MIN(<c0>) FROM <table>;".
///
/// # Safety
/// `table` is NULL or a valid table description; `buf` NULL or writable
/// for `bufSize` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGenMinId(table: *const kvidxTableDef, buf: *mut c_char, bufSize: usize) -> bool {
    unsafe { gen_table(table, buf, bufSize, sql::min_id_sql) }
}

/// True if the column is well formed: a non-empty name, exactly one base
/// type, AUTOINCREMENT only on INTEGER PRIMARY KEY, REFERENCES with a
/// table, CASCADE/DEFERRED only with REFERENCES, and a default that suits
/// the column (non-NULL text, finite real, no NULL default on NOT NULL).
///
/// # Safety
/// `col` is NULL or a valid column description.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxColDefIsValid(col: *const kvidxColDef) -> bool {
    guard(ptr::null_mut(), false, || unsafe { !col.is_null() && column(&*col).is_ok_and(|c| c.is_valid()) })
}

/// True if the table is well formed: a non-empty name, at least one column,
/// every column valid, and every index naming existing columns.
///
/// # Safety
/// `table` is NULL or a valid table description.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxTableDefIsValid(table: *const kvidxTableDef) -> bool {
    guard(ptr::null_mut(), false, || unsafe { table_at(table).is_ok_and(|t| t.is_valid()) })
}

// ----------------------------------------------------------------------
// kvidxkitSchema.h

/// Creates the version table _kvidx_schema if it does not exist.
/// INVALID_ARGUMENT for NULL; IO if SQLite fails.
///
/// # Safety
/// `db` is NULL or an open connection of this library's SQLite, not used
/// by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSchemaInit(db: *mut sqlite3) -> kvidxErrorRaw {
    guard(ptr::null_mut(), INTERNAL, || match unsafe { Db::from_raw(db.cast()) } {
        None => INVALID,
        Some(db) => code(db.init()),
    })
}

/// The highest applied version (0 when none, also when _kvidx_schema does
/// not exist: this call never writes). INVALID_ARGUMENT for NULL; IO if
/// SQLite fails; SCHEMA if the table holds a version outside uint32_t.
///
/// # Safety
/// `db` as for kvidxSchemaApply; `version` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSchemaVersion(db: *mut sqlite3, version: *mut u32) -> kvidxErrorRaw {
    guard(ptr::null_mut(), INTERNAL, || unsafe {
        let Some(db) = Db::from_raw(db.cast()) else {
            return INVALID;
        };
        if version.is_null() {
            return INVALID;
        }
        match db.version() {
            Ok(v) => {
                *version = v;
                OK
            }
            Err(e) => e.code() as u32,
        }
    })
}

/// True if the schema version is below `targetVersion`, or cannot be read.
///
/// # Safety
/// `db` is NULL or an open connection of this library's SQLite, not used
/// by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSchemaNeedsMigration(db: *mut sqlite3, targetVersion: u32) -> bool {
    guard(ptr::null_mut(), true, || match unsafe { Db::from_raw(db.cast()) } {
        None => true,
        Some(db) => db.version().map_or(true, |v| v < targetVersion),
    })
}

/// kvidxSchemaApplyWithCallback without a callback.
///
/// # Safety
/// `db` is NULL or an open connection of this library's SQLite, not used
/// by another thread during the call; `migrations` NULL or valid for
/// `count` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSchemaApply(
    db: *mut sqlite3,
    migrations: *const kvidxMigration,
    count: usize,
    targetVersion: u32,
) -> kvidxErrorRaw {
    unsafe { kvidxSchemaApplyWithCallback(db, migrations, count, targetVersion, None, ptr::null_mut()) }
}

/// Applies every migration of the array (in any order) whose version is at
/// most `targetVersion` and not yet recorded, in ascending version order,
/// all inside one SAVEPOINT (each in a nested one), so it also works inside
/// a transaction the caller has open. Any failure rolls back everything this
/// call applied (tables, data and _kvidx_schema rows). The callback, if any,
/// is called after each attempted migration with its success. Version 0 is
/// never applied. INVALID_ARGUMENT for NULL db, NULL migrations with a
/// count, or a version listed twice; IO when SQLite fails; SCHEMA when a
/// migration contains BEGIN/COMMIT/END/ROLLBACK/SAVEPOINT/RELEASE.
///
/// # Safety
/// `db` is NULL or an open connection of this library's SQLite, not used
/// by another thread during the call; `migrations` NULL or valid for
/// `count` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSchemaApplyWithCallback(
    db: *mut sqlite3,
    migrations: *const kvidxMigration,
    count: usize,
    targetVersion: u32,
    callback: kvidxMigrationCallback,
    userData: *mut c_void,
) -> kvidxErrorRaw {
    guard(ptr::null_mut(), INTERNAL, || unsafe {
        let Some(db) = Db::from_raw(db.cast()) else {
            return INVALID;
        };
        let Ok(list) = slice(migrations, count, "migrations") else {
            return INVALID;
        };
        let bytes = |p: *const c_char| -> &[u8] { if p.is_null() { &[] } else { CStr::from_ptr(p).to_bytes() } };
        let steps: Vec<Step> = list
            .iter()
            .map(|m| Step { version: m.version, description: bytes(m.description), up_sql: bytes(m.upSQL) })
            .collect();
        code(db.apply(&steps, targetVersion, &mut |n, ok| {
            if let Some(cb) = callback {
                cb(list[n].version, list[n].description, ok, userData);
            }
        }))
    })
}

/// Validates every table first (SCHEMA if one is invalid, nothing created),
/// then creates all tables and their indexes in one SAVEPOINT: all or none.
/// INVALID_ARGUMENT for NULL db or NULL tables with a count; IO if SQLite
/// fails.
///
/// # Safety
/// `db` as for kvidxSchemaApply; `tables` NULL or valid for `count` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSchemaCreateTables(
    db: *mut sqlite3,
    tables: *const kvidxTableDef,
    count: usize,
) -> kvidxErrorRaw {
    guard(ptr::null_mut(), INTERNAL, || unsafe {
        let Some(db) = Db::from_raw(db.cast()) else {
            return INVALID;
        };
        let Ok(list) = slice(tables, count, "tables") else {
            return INVALID;
        };
        let mut defs = Vec::with_capacity(list.len());
        for t in list {
            match table(t) {
                Ok(t) => defs.push(t),
                Err(e) => return e.code() as u32,
            }
        }
        code(db.create_tables(&defs))
    })
}

/// Writes up to `maxCount` applied versions, ascending, into `versions` and
/// their number into `*actualCount` (0 on error). Never writes to the
/// database. INVALID_ARGUMENT for a NULL pointer; IO if SQLite fails.
///
/// # Safety
/// `db` as for kvidxSchemaApply; `versions` NULL or writable for
/// `maxCount` elements; `actualCount` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSchemaGetAppliedVersions(
    db: *mut sqlite3,
    versions: *mut u32,
    maxCount: usize,
    actualCount: *mut usize,
) -> kvidxErrorRaw {
    guard(ptr::null_mut(), INTERNAL, || unsafe {
        if !actualCount.is_null() {
            *actualCount = 0;
        }
        let Some(db) = Db::from_raw(db.cast()) else {
            return INVALID;
        };
        if versions.is_null() || actualCount.is_null() {
            return INVALID;
        }
        match db.applied_versions() {
            Ok(v) => {
                let n = v.len().min(maxCount);
                ptr::copy_nonoverlapping(v.as_ptr(), versions, n);
                *actualCount = n;
                OK
            }
            Err(e) => e.code() as u32,
        }
    })
}

/// Extension of this library (not in the original): the SQLite connection
/// of an instance opened with the SQLite3 engine, for the kvidxSchema*
/// functions and direct sqlite3_* calls. NULL (with lastError set when `i`
/// is not NULL) for a NULL instance, one that is not open, or one of
/// another engine. The handle belongs to the instance: do not close it; it
/// is valid until kvidxClose, and must not be used concurrently with other
/// calls on the instance.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxSqlite3Handle(i: *mut kvidxInstance) -> *mut sqlite3 {
    guard(i, ptr::null_mut(), || unsafe {
        match crate::capi::adapter::sqlite_handle(i) {
            Ok(h) => h.cast(),
            Err(e) => {
                record(i, "Sqlite3Handle", &e);
                ptr::null_mut()
            }
        }
    })
}

macro_rules! assert_layout {
    ($t:ty, $size:expr, { $($f:ident => $off:expr),* $(,)? }) => {
        const _: () = assert!(std::mem::size_of::<$t>() == $size);
        $( const _: () = assert!(std::mem::offset_of!($t, $f) == $off); )*
    };
}

assert_layout!(kvidxColDefaultVal, 8, { intVal => 0, realVal => 0, textVal => 0, exprVal => 0 });
assert_layout!(kvidxColDef, 40, { name => 0, r#type => 8, refTable => 16, defaultKind => 24, defaultVal => 32 });
assert_layout!(kvidxIndexDef, 32, { name => 0, unique => 8, colCount => 16, columns => 24 });
assert_layout!(kvidxTableDef, 48, {
    name => 0, columns => 8, colCount => 16, indexes => 24, indexCount => 32, withoutRowid => 40,
});
assert_layout!(kvidxMigration, 32, { version => 0, description => 8, upSQL => 16, downSQL => 24 });
const _: () = assert!(std::mem::size_of::<kvidxColType>() == 4);
const _: () = assert!(std::mem::size_of::<kvidxDefaultKind>() == 4);
