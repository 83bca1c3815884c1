//! kvidxkit: an ordered key-value index of `u64` keys, each holding a term,
//! a cmd and a byte value, behind the C ABI of the original kvidxkit 0.8
//! and a safe Rust API ([`Store`]).
//!
//! Layers: [`capi`] (the C ABI) → [`Store`] (everything written once) →
//! [`Engine`] (what differs between engines: [`engines::Sqlite`]).
#![warn(missing_docs)]

#[cfg(feature = "capi")]
#[doc(hidden)]
pub mod capi;
pub mod config;
pub mod engine;
pub mod engines;
pub mod error;
pub mod formats;
mod runs;
#[cfg(feature = "sqlite")]
pub mod schema;
pub mod store;
mod transfer;
pub mod ttl;

pub use config::{Config, JournalMode, Stats, SyncMode};
pub use engine::{Dir, Engine};
#[cfg(feature = "lmdb")]
pub use engines::Lmdb;
#[cfg(feature = "rocksdb")]
pub use engines::Rocksdb;
#[cfg(feature = "sqlite")]
pub use engines::Sqlite;
pub use error::{Error, ErrorCode, Result};
pub use store::{BatchOutcome, Entry, EntryRef, Iter, SetCondition, Store, Ttl};
