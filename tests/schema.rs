//! Table descriptions, SQL generation and schema migrations through the safe
//! API (`kvidxkit::schema`), and the SQLite symbols the libraries export
//! (decisions.md I2; primitives.md §6, §7, prim D18, D19).
#![cfg(feature = "capi")]
// 3.14 and 3.14159265358979 are the spec's golden default values, not π.
#![allow(clippy::approx_constant)]

mod common;

use kvidxkit::ErrorCode;
use kvidxkit::schema::*;
use rusqlite::Connection;

fn users() -> Table {
    Table::new(
        "users",
        vec![
            Column::new("id", ColType::PK_AUTO),
            Column::new("name", ColType::TEXT | ColType::NOT_NULL),
            Column::new("email", ColType::TEXT | ColType::UNIQUE),
            Column::with_default("status", ColType::INTEGER, DefaultValue::Int(0)),
        ],
    )
    .with_indexes(vec![Index::unique(["email"]), Index::new(["status"])])
}

fn ty(c: Column) -> String {
    column_type_sql(&c).unwrap_or_else(|e| panic!("{c:?}: {e}"))
}

// ----------------------------------------------------------------------
// Generators

#[test]
fn worked_example_byte_for_byte() {
    let t = users();
    assert_eq!(
        create_table_sql(&t).unwrap(),
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, \
         email TEXT UNIQUE, status INTEGER DEFAULT 0);"
    );
    assert_eq!(
        create_indexes_sql(&t).unwrap(),
        "CREATE UNIQUE INDEX IF NOT EXISTS users_email_idx ON users (email);\n\
         CREATE INDEX IF NOT EXISTS users_status_idx ON users (status);"
    );
}

#[test]
fn adapter_schema_text() {
    let cb = Table::new(
        "controlBlock",
        vec![Column::new("id", ColType::PK), Column::new("what", ColType::TEXT), Column::new("how", ColType::TEXT)],
    )
    .with_indexes(vec![Index::new(["what"])]);
    assert_eq!(
        create_table_sql(&cb).unwrap(),
        "CREATE TABLE IF NOT EXISTS controlBlock (id INTEGER PRIMARY KEY, what TEXT, how TEXT);"
    );
    assert_eq!(
        create_indexes_sql(&cb).unwrap(),
        "CREATE INDEX IF NOT EXISTS controlBlock_what_idx ON controlBlock (what);"
    );
    let log = Table::new(
        "log",
        ["id", "created", "term", "cmd", "data"]
            .iter()
            .zip([ColType::PK, ColType::INTEGER, ColType::INTEGER, ColType::INTEGER, ColType::BLOB])
            .map(|(n, t)| Column::new(*n, t))
            .collect(),
    );
    assert_eq!(
        create_table_sql(&log).unwrap(),
        "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, created INTEGER, term INTEGER, cmd INTEGER, \
         data BLOB);"
    );
    assert_eq!(create_indexes_sql(&log).unwrap(), "");
}

#[test]
fn type_strings() {
    // §9 items 55-57 and the §6.3 examples.
    assert_eq!(ty(Column::new("c", ColType::INTEGER)), "INTEGER");
    assert_eq!(ty(Column::new("c", ColType::TEXT)), "TEXT");
    assert_eq!(ty(Column::new("c", ColType::BLOB)), "BLOB");
    assert_eq!(ty(Column::new("c", ColType::REAL)), "REAL");
    assert_eq!(ty(Column::new("c", ColType::PK)), "INTEGER PRIMARY KEY");
    assert_eq!(ty(Column::new("c", ColType::PK_AUTO)), "INTEGER PRIMARY KEY AUTOINCREMENT");
    assert_eq!(ty(Column::new("c", ColType::TEXT | ColType::NOT_NULL)), "TEXT NOT NULL");
    assert_eq!(ty(Column::new("c", ColType::INTEGER | ColType::UNIQUE)), "INTEGER UNIQUE");
    assert_eq!(ty(Column::new("c", ColType::INTEGER | ColType::NOT_NULL | ColType::UNIQUE)), "INTEGER NOT NULL UNIQUE");
    assert_eq!(
        ty(Column::foreign_key(
            "c",
            ColType::INTEGER | ColType::NOT_NULL | ColType::UNIQUE | ColType::CASCADE_DELETE | ColType::DEFERRED,
            "users"
        )),
        "INTEGER NOT NULL UNIQUE REFERENCES users ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    );
    assert_eq!(
        ty(Column::foreign_key("c", ColType::FK_CASCADE, "users")),
        "INTEGER REFERENCES users ON DELETE CASCADE"
    );
    assert_eq!(ty(Column::foreign_key("c", ColType::INTEGER, "users(id)")), "INTEGER REFERENCES users(id)");
    let d = |t, v| ty(Column::with_default("c", t, v));
    assert_eq!(d(ColType::INTEGER | ColType::NOT_NULL, DefaultValue::Int(5)), "INTEGER NOT NULL DEFAULT 5");
    assert_eq!(d(ColType::INTEGER, DefaultValue::Int(-100)), "INTEGER DEFAULT -100");
    assert_eq!(d(ColType::TEXT, DefaultValue::Text("unknown".into())), "TEXT DEFAULT 'unknown'");
    assert_eq!(d(ColType::BLOB, DefaultValue::Null), "BLOB DEFAULT NULL");
    assert_eq!(d(ColType::TEXT, DefaultValue::Expr("CURRENT_TIMESTAMP".into())), "TEXT DEFAULT CURRENT_TIMESTAMP");
    assert_eq!(d(ColType::REAL, DefaultValue::Real(3.14)), "REAL DEFAULT 3.14");
    assert_eq!(d(ColType::REAL, DefaultValue::Real(0.0)), "REAL DEFAULT 0");
    assert_eq!(d(ColType::REAL, DefaultValue::Real(1e20)), "REAL DEFAULT 1e+20");
    assert_eq!(d(ColType::REAL, DefaultValue::Real(3.14159265358979)), "REAL DEFAULT 3.14159");
}

#[test]
fn text_defaults_are_escaped() {
    let d = |s: &str| ty(Column::with_default("c", ColType::TEXT, DefaultValue::Text(s.into())));
    assert_eq!(d("it's"), "TEXT DEFAULT 'it''s'");
    assert_eq!(d(""), "TEXT DEFAULT ''");
    assert_eq!(d("'); DROP TABLE x; --"), "TEXT DEFAULT '''); DROP TABLE x; --'");
    assert_eq!(quote_text("a''b"), "'a''''b'");
}

#[test]
fn unusual_identifiers_are_quoted() {
    assert_eq!(quote_ident("users"), "users");
    assert_eq!(quote_ident("_x9"), "_x9");
    assert_eq!(quote_ident("order"), "\"order\"");
    assert_eq!(quote_ident("my table"), "\"my table\"");
    assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote_ident("9lives"), "\"9lives\"");
    assert_eq!(quote_ident("café"), "\"café\"");
    let t = Table::new(
        "my table",
        vec![Column::new("id", ColType::PK), Column::new("group", ColType::TEXT), Column::new("x y", ColType::REAL)],
    )
    .with_indexes(vec![Index::named("by group", ["group", "x y"])]);
    assert_eq!(
        create_table_sql(&t).unwrap(),
        "CREATE TABLE IF NOT EXISTS \"my table\" (id INTEGER PRIMARY KEY, \"group\" TEXT, \"x y\" REAL);"
    );
    assert_eq!(
        create_indexes_sql(&t).unwrap(),
        "CREATE INDEX IF NOT EXISTS \"by group\" ON \"my table\" (\"group\", \"x y\");"
    );
    assert_eq!(insert_sql(&t).unwrap(), "INSERT INTO \"my table\" (id, \"group\", \"x y\") VALUES (?, ?, ?);");
    assert_eq!(
        ty(Column::foreign_key("c", ColType::INTEGER, "select(from)")),
        "INTEGER REFERENCES \"select\"(\"from\")"
    );
    assert_eq!(ty(Column::foreign_key("c", ColType::INTEGER, "a b")), "INTEGER REFERENCES \"a b\"");

    // The quoted text really works in SQLite, and with the same meaning.
    let conn = Connection::open_in_memory().unwrap();
    create_tables(&conn, &[t]).unwrap();
    conn.execute("INSERT INTO \"my table\" (\"group\", \"x y\") VALUES ('g', 1.5)", []).unwrap();
    let v: f64 = conn.query_row("SELECT \"x y\" FROM \"my table\" WHERE \"group\" = 'g'", [], |r| r.get(0)).unwrap();
    assert_eq!(v, 1.5);
}

#[test]
fn statements() {
    let t = Table::new(
        "users",
        vec![Column::new("id", ColType::PK), Column::new("name", ColType::TEXT), Column::new("age", ColType::INTEGER)],
    );
    assert_eq!(insert_sql(&t).unwrap(), "INSERT INTO users (id, name, age) VALUES (?, ?, ?);");
    assert_eq!(select_by_id_sql(&t).unwrap(), "SELECT * FROM users WHERE id = ?;");
    assert_eq!(select_all_sql(&t).unwrap(), "SELECT * FROM users;");
    assert_eq!(update_by_id_sql(&t).unwrap(), "UPDATE users SET name = ?, age = ? WHERE id = ?;");
    assert_eq!(delete_by_id_sql(&t).unwrap(), "DELETE FROM users WHERE id = ?;");
    assert_eq!(count_sql(&t).unwrap(), "SELECT COUNT(*) FROM users;");
    assert_eq!(max_id_sql(&t).unwrap(), "SELECT MAX(id) FROM users;");
    assert_eq!(min_id_sql(&t).unwrap(), "SELECT MIN(id) FROM users;");
    let one = Table::new("users", vec![Column::new("id", ColType::PK)]);
    assert_eq!(update_by_id_sql(&one).unwrap_err().code(), ErrorCode::Schema);
    let none = Table::new("users", vec![]);
    for f in [insert_sql, select_by_id_sql, select_all_sql, delete_by_id_sql, count_sql, max_id_sql, min_id_sql] {
        assert_eq!(f(&none).unwrap_err().code(), ErrorCode::Schema);
    }
    let mut wr = t.clone().without_rowid();
    assert!(create_table_sql(&wr).unwrap().ends_with("age INTEGER) WITHOUT ROWID;"));
    wr.indexes = vec![Index::new(["nosuch"])];
    assert!(create_table_sql(&wr).is_err(), "generators validate first");
}

/// `format_g` is C's `%g`, compared with the C library's own snprintf.
#[test]
fn format_g_matches_printf() {
    fn c_g(v: f64) -> String {
        let mut buf = [0u8; 64];
        // SAFETY: the format takes exactly one double; the buffer is large enough.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%g".as_ptr(), v) };
        String::from_utf8(buf[..n as usize].to_vec()).unwrap()
    }
    let mut values = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.5,
        0.1,
        1.0 / 3.0,
        3.14,
        3.14159265358979,
        1e20,
        123456.0,
        999999.0,
        999999.5,
        1e6,
        1234565.0,
        0.0001,
        0.00001,
        0.000123456789,
        99999.95,
        0.00009999995,
        12345.65,
        65.5,
        1e-300,
        1e300,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        -2.5e-7,
        6.02214076e23,
    ];
    // A deterministic spread of magnitudes and digit patterns.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        if v.is_finite() {
            values.push(v);
        }
        let mant = (x % 10_000_000) as f64;
        let exp = ((x >> 40) % 40) as i32 - 20;
        values.push(mant * 10f64.powi(exp));
        values.push((x % 2_000_001) as f64 / 8.0);
    }
    for v in values {
        assert_eq!(format_g(v), c_g(v), "{v:e}");
    }
}

// ----------------------------------------------------------------------
// Validation

#[test]
fn column_validation() {
    let ok = |c: Column| assert!(c.validate().is_ok(), "{c:?}");
    let bad = |c: Column| {
        let e = c.validate().expect_err(&format!("{c:?} should be invalid"));
        assert_eq!(e.code(), ErrorCode::Schema);
        assert!(column_type_sql(&c).is_err() || c.name.is_empty());
    };
    ok(Column::new("id", ColType::PK_AUTO));
    ok(Column::foreign_key("u", ColType::FK_CASCADE_DEFERRED, "users"));
    ok(Column::with_default("x", ColType::INTEGER, DefaultValue::Expr("(1 + 1)".into())));
    bad(Column::new("x", ColType(0)));
    bad(Column::new("x", ColType::INTEGER | ColType::TEXT));
    bad(Column::new("x", ColType::INTEGER | ColType::AUTOINCREMENT));
    bad(Column::new("x", ColType::TEXT | ColType::PRIMARY_KEY | ColType::AUTOINCREMENT));
    bad(Column::new("x", ColType::INTEGER | ColType::REFERENCES));
    bad(Column::foreign_key("x", ColType::INTEGER, ""));
    bad(Column::new("x", ColType::INTEGER | ColType::CASCADE_DELETE));
    bad(Column::new("x", ColType::INTEGER | ColType::DEFERRED));
    bad(Column::new("x", ColType::INTEGER | ColType::HAS_DEFAULT));
    bad(Column::with_default("x", ColType::TEXT | ColType::NOT_NULL, DefaultValue::Null));
    bad(Column::with_default("x", ColType::TEXT, DefaultValue::Int(1)));
    bad(Column::with_default("x", ColType::INTEGER, DefaultValue::Real(1.5)));
    bad(Column::with_default("x", ColType::REAL, DefaultValue::Real(f64::NAN)));
    bad(Column::with_default("x", ColType::REAL, DefaultValue::Real(f64::INFINITY)));
    bad(Column::with_default("x", ColType::INTEGER, DefaultValue::Text("a".into())));
    bad(Column::with_default("x", ColType::INTEGER, DefaultValue::Expr("  ".into())));
    bad(Column::new("", ColType::INTEGER));
    // A default without HAS_DEFAULT is ignored, as in the original.
    let mut c = Column::new("x", ColType::INTEGER);
    c.default = DefaultValue::Text("ignored".into());
    assert_eq!(ty(c), "INTEGER");
}

#[test]
fn table_validation() {
    let base = || Table::new("users", vec![Column::new("id", ColType::PK), Column::new("name", ColType::TEXT)]);
    assert!(base().is_valid());
    assert!(base().with_indexes(vec![Index::unique_named("n", ["name", "id"])]).is_valid());
    let invalid = |t: Table| {
        assert_eq!(t.validate().unwrap_err().code(), ErrorCode::Schema, "{t:?}");
        assert!(create_table_sql(&t).is_err());
        assert!(create_indexes_sql(&t).is_err());
    };
    let mut t = base();
    t.name.clear();
    invalid(t);
    invalid(Table::new("users", vec![]));
    invalid(base().with_indexes(vec![Index::new(["nosuch"])]));
    invalid(base().with_indexes(vec![Index::new(["NAME"])]));
    invalid(base().with_indexes(vec![Index::new(Vec::<String>::new())]));
    invalid(base().with_indexes(vec![Index::named("", ["name"])]));
    let mut t = base();
    t.columns.push(Column::new("bad", ColType(0)));
    invalid(t);
}

// ----------------------------------------------------------------------
// Migrations

/// Everything in the database: schema objects and every row of every table.
fn dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let mut st = conn.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").unwrap();
    let objects: Vec<(String, String, Option<String>)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    for (kind, name, sql) in objects {
        out.push(format!("{kind} {name} {sql:?}"));
        if kind == "table" {
            let mut rows = conn.prepare(&format!("SELECT * FROM {}", quote_ident(&name))).unwrap();
            let n = rows.column_count();
            let mut q = rows.query([]).unwrap();
            while let Some(r) = q.next().unwrap() {
                let vals: Vec<String> =
                    (0..n).map(|k| format!("{:?}", r.get::<_, rusqlite::types::Value>(k).unwrap())).collect();
                out.push(format!("  {}", vals.join("|")));
            }
        }
    }
    out
}

fn table_exists(conn: &Connection, name: &str) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap()
        == 1
}

#[test]
fn upstream_schema_sequence() {
    // §9 item 63.
    let conn = Connection::open_in_memory().unwrap();
    let list = [
        Migration::new(1, "Create users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"),
        Migration::new(2, "Add email", "ALTER TABLE users ADD COLUMN email TEXT;"),
    ];
    assert_eq!(version(&conn).unwrap(), 0);
    assert!(!table_exists(&conn, "_kvidx_schema"), "reading does not write");
    assert!(needs_migration(&conn, 1));
    apply(&conn, &list, 1).unwrap();
    assert_eq!(version(&conn).unwrap(), 1);
    apply(&conn, &list, 2).unwrap();
    assert_eq!(version(&conn).unwrap(), 2);
    assert!(!needs_migration(&conn, 2));
    let before = dump(&conn);
    apply(&conn, &list, 2).unwrap();
    assert_eq!(dump(&conn), before, "re-applying is a no-op");
    assert_eq!(applied_versions(&conn).unwrap(), vec![1, 2]);
    let ddl: String =
        conn.query_row("SELECT sql FROM sqlite_master WHERE name = '_kvidx_schema'", [], |r| r.get(0)).unwrap();
    assert_eq!(
        ddl,
        "CREATE TABLE _kvidx_schema (version INTEGER PRIMARY KEY, applied_at TEXT DEFAULT CURRENT_TIMESTAMP, \
         description TEXT)"
    );
}

#[test]
fn any_order_failure_rolls_back_everything_and_callback_sees_each() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE data (x); INSERT INTO data VALUES (1);").unwrap();
    apply(&conn, &[Migration::new(1, "one", "CREATE TABLE t1 (x);")], 1).unwrap();
    let before = dump(&conn);

    let list = [
        Migration::new(5, "five", "CREATE TABLE t5 (x);"),
        Migration::new(3, "three (fails)", "CREATE TABLE t3 (x); INSERT INTO nosuch VALUES (1);"),
        Migration::new(2, "two", "CREATE TABLE t2 (x); INSERT INTO data VALUES (2); UPDATE data SET x = x + 10;"),
        Migration::new(1, "one", "CREATE TABLE t1 (x);"),
    ];
    let mut seen = Vec::new();
    let e = apply_with(&conn, &list, 9, |m, ok| seen.push((m.version, ok))).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Io);
    assert!(e.to_string().contains("no such table: nosuch"), "{e}");
    assert_eq!(seen, vec![(2, true), (3, false)]);
    assert_eq!(dump(&conn), before, "tables, data and _kvidx_schema rows unchanged");
    assert!(conn.is_autocommit());

    // Fixed, still out of order: every missing version, ascending.
    let fixed = [
        Migration::new(5, "five", "CREATE TABLE t5 (x);"),
        Migration::new(3, "three", "CREATE TABLE t3 (x);"),
        Migration::new(2, "two", "CREATE TABLE t2 (x);"),
        Migration { version: 4, description: None, up_sql: None },
    ];
    let mut seen = Vec::new();
    apply_with(&conn, &fixed, 4, |m, ok| seen.push((m.version, ok))).unwrap();
    assert_eq!(seen, vec![(2, true), (3, true), (4, true)]);
    assert_eq!(applied_versions(&conn).unwrap(), vec![1, 2, 3, 4]);
    assert!(!table_exists(&conn, "t5"), "above the target");
    let d: String =
        conn.query_row("SELECT description FROM _kvidx_schema WHERE version = 4", [], |r| r.get(0)).unwrap();
    assert_eq!(d, "");

    // A version listed twice is refused before anything runs.
    let dup = [Migration::new(7, "a", "CREATE TABLE a (x);"), Migration::new(7, "b", "")];
    assert_eq!(apply(&conn, &dup, 9).unwrap_err().code(), ErrorCode::InvalidArgument);
    assert!(!table_exists(&conn, "a"));
    // Version 0 is never applied.
    apply(&conn, &[Migration::new(0, "zero", "CREATE TABLE z (x);")], 9).unwrap();
    assert!(!table_exists(&conn, "z"));
    // A NUL byte cannot be passed to SQLite.
    assert_eq!(
        apply(&conn, &[Migration::new(8, "nul", "SELECT 1;\0DROP TABLE t1;")], 9).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn inside_a_transaction() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE keep (x); BEGIN; INSERT INTO keep VALUES (1);").unwrap();
    apply(&conn, &[Migration::new(1, "one", "CREATE TABLE a (x);")], 1).unwrap();
    assert!(!conn.is_autocommit(), "the caller's transaction is still open");
    let bad = [Migration::new(2, "bad", "CREATE TABLE b (x); SELECT * FROM nosuch;")];
    assert_eq!(apply(&conn, &bad, 2).unwrap_err().code(), ErrorCode::Io);
    assert!(!conn.is_autocommit());
    assert!(table_exists(&conn, "a") && !table_exists(&conn, "b"));
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(version(&conn).unwrap(), 0);
    assert!(!table_exists(&conn, "a"));

    // rusqlite's own transaction.
    let mut conn = conn;
    let tx = conn.transaction().unwrap();
    apply(&tx, &[Migration::new(1, "one", "CREATE TABLE a (x);")], 1).unwrap();
    tx.commit().unwrap();
    assert_eq!(version(&conn).unwrap(), 1);

    // Transaction control inside a migration is refused before it runs.
    for sql in [
        "CREATE TABLE c (x); COMMIT;",
        "BEGIN; CREATE TABLE c (x);",
        "  -- note\n/* x */ end",
        "CREATE TABLE c (x); ROLLBACK;",
        "SAVEPOINT s; CREATE TABLE c (x); RELEASE s;",
        "release _kvidx_schema_step;",
    ] {
        let mut seen = Vec::new();
        let e = apply_with(&conn, &[Migration::new(2, "txn", sql)], 2, |m, ok| seen.push((m.version, ok))).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Schema, "{sql}: {e}");
        assert_eq!(seen, vec![(2, false)]);
        assert!(!table_exists(&conn, "c"), "{sql}");
        assert!(conn.is_autocommit(), "{sql}");
        assert_eq!(version(&conn).unwrap(), 1);
    }
    // Words that merely start like those are fine.
    apply(&conn, &[Migration::new(2, "ok", "CREATE TABLE beginning (endless);")], 2).unwrap();
    assert!(table_exists(&conn, "beginning"));
}

#[test]
fn version_outside_u32_is_reported() {
    let conn = Connection::open_in_memory().unwrap();
    init(&conn).unwrap();
    init(&conn).unwrap();
    conn.execute("INSERT INTO _kvidx_schema (version) VALUES (-1)", []).unwrap();
    assert_eq!(applied_versions(&conn).unwrap_err().code(), ErrorCode::Schema);
    conn.execute("DELETE FROM _kvidx_schema", []).unwrap();
    conn.execute("INSERT INTO _kvidx_schema (version) VALUES (4294967296)", []).unwrap();
    assert_eq!(version(&conn).unwrap_err().code(), ErrorCode::Schema);
    assert!(needs_migration(&conn, 1));
}

#[test]
fn create_tables_validates_first_and_is_all_or_none() {
    // §9 item 64.
    let conn = Connection::open_in_memory().unwrap();
    let mut t = users();
    t.columns.push(Column::with_default("motto", ColType::TEXT, DefaultValue::Text("it's".into())));
    create_tables(&conn, std::slice::from_ref(&t)).unwrap();
    create_tables(&conn, &[t]).unwrap();
    conn.execute("INSERT INTO users (name, email) VALUES ('a', 'a@x')", []).unwrap();
    let (status, motto): (i64, String) =
        conn.query_row("SELECT status, motto FROM users", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((status, motto.as_str()), (0, "it's"));
    assert!(conn.execute("INSERT INTO users (name, email) VALUES ('b', 'a@x')", []).is_err());

    let before = dump(&conn);
    let fresh = Table::new("fresh", vec![Column::new("id", ColType::PK)]);
    let invalid = Table::new("bad", vec![Column::new("x", ColType::INTEGER | ColType::TEXT)]);
    let e = create_tables(&conn, &[fresh.clone(), invalid]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Schema);
    assert_eq!(dump(&conn), before);
    let two_pks = Table::new("twopk", vec![Column::new("a", ColType::PK), Column::new("b", ColType::PK)]);
    let e = create_tables(&conn, &[fresh.clone(), two_pks]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Io);
    assert_eq!(dump(&conn), before, "the first table was rolled back");
    create_tables(&conn, &[]).unwrap();
    create_tables(&conn, &[fresh]).unwrap();
    assert!(table_exists(&conn, "fresh"));
}

// ----------------------------------------------------------------------
// The SQLite API exported by the libraries (decisions.md I2)

fn defined_symbols(args: &[&str], file: &std::path::Path) -> String {
    let o = std::process::Command::new("nm").args(args).arg(file).output().expect("nm");
    assert!(o.status.success(), "nm {}: {}", file.display(), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn defines(listing: &str, name: &str) -> bool {
    listing.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() >= 3 && f[f.len() - 2] == "T" && f[f.len() - 1].split('@').next() == Some(name)
    })
}

const SYMBOLS: &[&str] = &[
    "sqlite3_open",
    "sqlite3_open_v2",
    "sqlite3_exec",
    "sqlite3_prepare_v2",
    "sqlite3_step",
    "sqlite3_finalize",
    "sqlite3_close",
    "sqlite3_libversion",
    "kvidxSchemaApply",
    "kvidxSchemaApplyWithCallback",
    "kvidxSchemaCreateTables",
    "kvidxGenCreateTable",
    "kvidxSqlite3Handle",
];

/// A SQLite function that a system-SQLite build leaves to the system's
/// libsqlite3 (it must then define none, so there is one SQLite).
fn system_sqlite(symbol: &str) -> bool {
    cfg!(feature = "system-sqlite") && symbol.starts_with("sqlite3_")
}

#[test]
fn shared_library_exports_sqlite_and_schema_api() {
    let so = common::lib_dir().join("libkvidxkit.so");
    assert!(so.exists(), "{} missing", so.display());
    let dynsyms = defined_symbols(&["-D", "--defined-only"], &so);
    for s in SYMBOLS {
        if system_sqlite(s) {
            assert!(!defines(&dynsyms, s), "libkvidxkit.so of a system-SQLite build exports {s}");
        } else {
            assert!(defines(&dynsyms, s), "libkvidxkit.so does not export {s}");
        }
    }
}

#[test]
fn static_library_defines_sqlite_and_schema_api() {
    let a = common::lib_dir().join("libkvidxkit.a");
    assert!(a.exists(), "{} missing", a.display());
    let syms = defined_symbols(&["--defined-only"], &a);
    for s in SYMBOLS {
        if system_sqlite(s) {
            assert!(!defines(&syms, s), "libkvidxkit.a of a system-SQLite build defines {s}");
        } else {
            assert!(defines(&syms, s), "libkvidxkit.a does not define {s}");
        }
    }
}
