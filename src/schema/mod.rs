//! Your own SQLite tables beside the index: table descriptions, the SQL
//! generated from them, and versioned schema migrations (feature `sqlite`;
//! the C headers `kvidxkitTableDesc.h` and `kvidxkitSchema.h`).
//!
//! The functions work on any [`rusqlite::Connection`](https://docs.rs/rusqlite/0.43/rusqlite/struct.Connection.html)
//! of the SQLite this crate links — typically the store's own,
//! [`Sqlite::connection`](crate::Sqlite::connection), so that your tables
//! live in the same file as the index and share its transactions.
//!
//! ```
//! use kvidxkit::schema::{ColType, Column, Index, Migration, Table, apply, create_tables, version};
//! use kvidxkit::{Sqlite, Store};
//!
//! let db = Store::<Sqlite>::open(":memory:")?;
//! let conn = db.engine().connection();
//!
//! let users = Table::new("users", vec![
//!     Column::new("id", ColType::PK_AUTO),
//!     Column::new("email", ColType::TEXT | ColType::NOT_NULL | ColType::UNIQUE),
//! ])
//! .with_indexes(vec![Index::new(["email"])]);
//! create_tables(conn, &[users])?;
//!
//! let migrations = [
//!     Migration::new(1, "add age", "ALTER TABLE users ADD age INTEGER;"),
//!     Migration::new(2, "add name", "ALTER TABLE users ADD name TEXT;"),
//! ];
//! apply(conn, &migrations, 2)?;
//! assert_eq!(version(conn)?, 2);
//! apply(conn, &migrations, 2)?; // already there: nothing to do
//!
//! conn.execute("INSERT INTO users (email, age) VALUES (?1, ?2)", ("a@example.org", 42))
//!     .map_err(kvidxkit::Error::from)?;
//! # Ok::<(), kvidxkit::Error>(())
//! ```
//!
//! # Table descriptions
//!
//! A [`Table`] has [`Column`]s (a name, [`ColType`] flags, a
//! [`DefaultValue`], a referenced table) and [`Index`]es.
//! [`Table::validate`] checks the rules of the original's
//! `kvidxTableDefIsValid` and the ones whose absence made it generate
//! broken SQL: exactly one base type per column, AUTOINCREMENT only on
//! `INTEGER PRIMARY KEY`, REFERENCES with a table, a default that matches
//! the column type (a REAL default must be finite, an expression default
//! must not be empty), indexes naming existing columns. A broken rule is
//! [`Error::Schema`](crate::Error::Schema) naming it.
//!
//! # Generated SQL
//!
//! [`create_table_sql`], [`insert_sql`], [`select_by_id_sql`], … give the
//! original's text byte for byte for ordinary descriptions, and validate
//! first. Identifiers are written as they are when ordinary (an ASCII
//! letter or `_`, then letters, digits or `_`, and not an SQLite keyword),
//! otherwise double-quoted with `"` doubled ([`quote_ident`]); text
//! defaults are SQL string literals with `'` doubled ([`quote_text`]); an
//! expression default is SQL and is written verbatim.
//!
//! # Migrations
//!
//! Versions are recorded in the table `_kvidx_schema`
//! ([`SCHEMA_TABLE_SQL`]). [`apply`] runs every migration of the list whose
//! version is `<= target` and not yet recorded, in ascending order
//! (whatever the order of the list; a version listed twice is
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument)). All of it
//! runs in a savepoint, each migration in a nested one: any failure rolls
//! back every migration of the call — tables, data and `_kvidx_schema`
//! rows are as before — and it works inside a transaction you have open
//! (outside one, success commits). A migration must not control the
//! transaction itself (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE):
//! such a migration is [`Error::Schema`](crate::Error::Schema) before any of
//! it runs. A failing SQL statement is [`Error::Io`](crate::Error::Io) with
//! SQLite's message (the original's `KVIDX_ERROR_IO`). Reading the version
//! ([`version`], [`needs_migration`], [`applied_versions`]) never writes: a
//! database without `_kvidx_schema` is at version 0.
//!
//! [`create_tables`] validates every table first and creates all of them
//! (and their indexes) or none.
//!
//! Do not change the store's own tables (`log`, `_kvidx_ttl`,
//! `controlBlock`) through the connection: the store keeps state about
//! them in memory.

mod desc;
#[cfg(feature = "capi")]
#[doc(hidden)]
#[allow(rustdoc::all)]
pub mod ffi;
mod migrate;
mod sql;

pub use desc::{ColType, Column, DefaultValue, Index, Table};
pub use migrate::{
    Migration, SCHEMA_TABLE_SQL, applied_versions, apply, apply_with, create_tables, init, needs_migration, version,
};
pub use sql::{
    column_type_sql, count_sql, create_indexes_sql, create_table_sql, delete_by_id_sql, format_g, insert_sql,
    max_id_sql, min_id_sql, quote_ident, quote_text, select_all_sql, select_by_id_sql, update_by_id_sql,
};
