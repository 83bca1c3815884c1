//! Table descriptions (`kvidxkitTableDesc.h`) and schema versioning
//! (`kvidxkitSchema.h`) on the library's own SQLite.
//!
//! * [`desc`]: safe descriptions of tables, columns and indexes, and their
//!   validation.
//! * [`sql`]: the SQL text generated from them (the original's exact text for
//!   ordinary names; text defaults escaped, unusual identifiers quoted).
//! * [`migrate`]: migrations and table creation on a SQLite connection
//!   (any order, savepoints, all-or-nothing).
//! * [`ffi`]: the C ABI of both headers, plus `kvidxSqlite3Handle`, which
//!   gives the connection of an open SQLite3 instance.
//!
//! ```ignore
//! use kvidxkit::schema::*;
//! let users = Table::new("users", vec![
//!     Column::new("id", ColType::PK_AUTO),
//!     Column::new("email", ColType::TEXT | ColType::UNIQUE),
//! ]);
//! create_tables(&conn, &[users])?;
//! apply(&conn, &[Migration::new(1, "add age", "ALTER TABLE users ADD age INTEGER;")], 1)?;
//! ```

pub mod desc;
#[cfg(feature = "capi")]
#[doc(hidden)]
pub mod ffi;
pub mod migrate;
pub mod sql;

pub use desc::{ColType, Column, DefaultValue, Index, Table};
pub use migrate::{
    Migration, SCHEMA_TABLE_SQL, applied_versions, apply, apply_with, create_tables, init, needs_migration, version,
};
pub use sql::{
    column_type_sql, count_sql, create_indexes_sql, create_table_sql, delete_by_id_sql, format_g, insert_sql,
    max_id_sql, min_id_sql, quote_ident, quote_text, select_all_sql, select_by_id_sql, update_by_id_sql,
};
