//! Storage engines: only what differs between engines lives here.

pub mod sqlite;

pub use sqlite::Sqlite;
