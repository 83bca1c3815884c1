//! Storage engines: only what differs between engines lives here.

pub mod lmdb;
pub mod sqlite;

pub use lmdb::Lmdb;
pub use sqlite::Sqlite;
