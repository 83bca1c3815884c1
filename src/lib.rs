//! An ordered key-value index: `u64` keys in unsigned order, each holding a
//! `term`, a `cmd` (two `u64`s for the application — a Raft term and a
//! command type, a version and a kind, …) and a byte value. Transactions,
//! ranges in both directions, atomic read-modify-write calls, per-key expiry
//! (TTL), export and import, on SQLite or LMDB storage (or RocksDB, with
//! the `rocksdb` feature).
//!
//! The crate is also the C library kvidxkit 0.8 (`libkvidxkit.a`,
//! `libkvidxkit.so`), a drop-in replacement for the original: the C
//! functions are a thin layer over the [`Store`] documented here, and both
//! read and write the original's files (see [The C ABI](#the-c-abi)).
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//!
//! use kvidxkit::formats::{ExportOptions, Format, ImportOptions};
//! use kvidxkit::{Error, Sqlite, Store, Ttl};
//!
//! fn main() -> kvidxkit::Result<()> {
//!     // A scratch in-memory database; a real one is a file,
//!     // `Store::<Sqlite>::open("app.sqlite3")`, or with LMDB a directory,
//!     // `Store::<Lmdb>::open("app.lmdb")`.
//!     let mut db = Store::<Sqlite>::open(":memory:")?;
//!
//!     // Write in a transaction: all of it, or nothing if `commit` is not
//!     // reached (an error returned with `?`, a panic).
//!     let mut tx = db.transaction()?;
//!     for (key, term, value) in [(1, 1, "set x=1"), (2, 1, "set y=2"), (3, 2, "set x=3")] {
//!         tx.insert(key, term, 0, value.as_bytes())?;
//!     }
//!     tx.commit()?;
//!
//!     // Point reads borrow the value from the store until the next call.
//!     let e = db.get(2)?.expect("key 2 exists");
//!     assert_eq!((e.term, e.data), (1, &b"set y=2"[..]));
//!     assert_eq!(db.insert(2, 1, 0, b"again"), Err(Error::DuplicateKey(2)));
//!
//!     // Ranges take Rust's range syntax; iterators go both ways and yield
//!     // owned entries.
//!     let terms: Vec<u64> = db.range(2..).map(|e| e.map(|e| e.term)).collect::<Result<_, _>>()?;
//!     assert_eq!(terms, [1, 2]);
//!     let last = db.iter().next_back().transpose()?.expect("not empty");
//!     assert_eq!(last.key, 3);
//!     assert_eq!(db.count_range(..=2)?, 2);
//!
//!     // Expiry: key 3 is gone for every read once its minute is up.
//!     db.expire_in(3, Duration::from_secs(60))?;
//!     assert!(matches!(db.ttl(3)?, Ttl::Remaining(left) if left <= Duration::from_secs(60)));
//!
//!     // Export to JSON and import into another store.
//!     let file = std::env::temp_dir().join(format!("kvidxkit-guide-{}.json", std::process::id()));
//!     let json = ExportOptions { format: Format::Json, ..ExportOptions::default() };
//!     assert_eq!(db.export_to(&file, &json)?, 3);
//!     let mut copy = Store::<Sqlite>::open(":memory:")?;
//!     assert_eq!(copy.import_from(&file, &ImportOptions::default())?, 3);
//!     std::fs::remove_file(&file).ok();
//!
//!     // Dropping a store closes it; `close` reports a failure.
//!     db.close().map_err(|(_, e)| e)?;
//!     Ok(())
//! }
//! ```
//!
//! The `examples/` directory of the source has longer programs: a Raft log
//! (`raft_log.rs`), a TTL cache (`ttl_cache.rs`) and a transactional work
//! queue (`work_queue.rs`); run one with `cargo run --example raft_log`.
//!
//! # The API in brief
//!
//! [`Store<E>`](Store) is an open database on engine `E` ([`Sqlite`] or
//! [`Lmdb`]). Every method takes `&mut self`: a store is used by one thread
//! at a time (see [Threads](#threads)).
//!
//! | Task | Methods |
//! |---|---|
//! | open, close, configure | [`Store::open`], [`Store::open_with_config`] ([`Config`]), [`Store::close`], [`Store::update_config`], [`Store::fsync`] |
//! | point reads | [`Store::get`], [`Store::exists`], [`Store::exists_dual`] |
//! | neighbours | [`Store::next`], [`Store::prev`], [`Store::min_key`], [`Store::max_key`] |
//! | writes | [`Store::insert`], [`Store::insert_ex`] ([`SetCondition`]), [`Store::remove`], [`Store::remove_range`], [`Store::insert_batch`] |
//! | transactions | [`Store::transaction`] ([`Transaction`]), [`Store::atomically`], [`Store::begin`] / [`Store::commit`] / [`Store::abort`] |
//! | ranges | [`Store::range`] and [`Store::iter`] ([`Iter`]), [`Store::for_each_in`], [`Store::count_range`], [`Store::exists_in_range`] |
//! | read-modify-write | [`Store::get_and_set`], [`Store::get_and_remove`], [`Store::compare_and_swap`], [`Store::compare_term_and_swap`], [`Store::append`], [`Store::prepend`], [`Store::get_value_range`], [`Store::set_value_range`] |
//! | expiry | [`Store::expire_in`], [`Store::expire_at`], [`Store::ttl`] ([`Ttl`]), [`Store::persist`], [`Store::expire_scan`] |
//! | statistics | [`Store::key_count`], [`Store::data_size`], [`Store::stats`] ([`Stats`]) |
//! | export, import | [`Store::export_to`], [`Store::import_from`] ([`formats`]) |
//! | administration (the `kvidx` tool's) | [`Store::verify`] ([`VerifyReport`]), [`Store::compact`], [`Store::copy_into`] (any engine to any, expiry times kept), [`Store::for_each_with_expiry`], [`Store::ttl_summary`], [`Store::engine_details`] |
//!
//! Entries: a read that returns one entry gives an [`EntryRef`], whose
//! value is borrowed from the store (no copy; valid until the next call);
//! iterators and the read-modify-write calls give owned [`Entry`] values.
//!
//! **Atomicity.** Outside a transaction every call is one atomic unit,
//! compound calls included (`remove_range`, `insert_batch`, `get_and_set`,
//! `compare_and_swap`, `import_from`, …): it happens entirely or not at
//! all. Inside a transaction each call is still atomic on its own (a
//! failing call leaves the transaction as it was) and the whole
//! transaction commits or rolls back as one.
//!
//! **Expiry is lazy.** An expired key is absent for every operation from
//! the moment it expires (reads, counts, ranges, conditions); its storage
//! is reclaimed when it is written or removed, or by
//! [`Store::expire_scan`]. Expiry times are wall-clock (`SystemTime`) in
//! milliseconds, stored with the entry, so they survive a restart.
//!
//! # Engines
//!
//! |  | [`Sqlite`] | [`Lmdb`] |
//! |---|---|---|
//! | Cargo feature | `sqlite` with `bundled-sqlite` or `system-sqlite` | `lmdb` |
//! | Path | a file (`":memory:"`: a private in-memory database, `""`: a private temporary one) | a directory, created if missing (`data.mdb`, `lock.mdb`) |
//! | Storage | SQLite 3 (bundled 3.54, or the system's ≥ 3.40), WAL journal | LMDB 0.9.70 (compiled in), copy-on-write B+tree in a memory map |
//! | Reads | fast | several times faster (values come straight from the map) |
//! | Writes | fast; sync mode per [`Config::sync_mode`] | fast; the map grows by itself |
//! | Largest value | 1 000 000 000 bytes (SQLite's limit) | 1 000 000 000 bytes |
//! | Open twice in one process | refused ([`Error::Locked`]) with the default exclusive-locking VFS; allowed with [`Config::vfs_name`] `"unix"` | refused ([`Error::Locked`]) |
//! | Other processes | with the `"unix"` VFS | yes: readers never block, one writer at a time |
//! | Extra access | [`Sqlite::connection`]: your own tables beside the index, [`schema`] migrations | — |
//!
//! Both store exactly the original C library's format, so files move
//! between this crate, C programs using the library and the original.
//!
//! **Choosing.** Take [`Lmdb`] for read-heavy work and when several
//! processes share the data; take [`Sqlite`] for a single file that other
//! tools can open (`sqlite3 app.sqlite3 'SELECT …'`), for in-memory
//! scratch databases, or to keep your own relational tables in the same
//! file and transaction ([`schema`]). Code generic over `E: Engine` works
//! with either: `fn load<E: Engine>(db: &mut Store<E>)`.
//!
//! **RocksDB.** With the `rocksdb` feature (off by default) a third engine,
//! `Rocksdb`, stores the original's RocksDB layout in a directory through
//! the system's `librocksdb` (Debian: `librocksdb-dev`; it is linked, not
//! compiled): an LSM tree for data that outgrows a memory map or for
//! write-heavy work. One process has a directory open for writing at a
//! time (another process's open is [`Error::Locked`]); a read-only open
//! takes no lock and sees the database as it was when it opened. See
//! `docs/engine-rocksdb.md`.
//!
//! # Cargo features
//!
//! | Feature | Default | What it adds |
//! |---|---|---|
//! | `sqlite` | yes | the [`Sqlite`] engine, the [`schema`] module and the `kvidxkit::rusqlite` re-export; needs one of the next two |
//! | `bundled-sqlite` | yes | SQLite compiled from source (implies `sqlite`) |
//! | `system-sqlite` | no | link the system's `libsqlite3` (3.40 or newer) instead (implies `sqlite`) |
//! | `lmdb` | yes | the [`Lmdb`] engine (LMDB compiled from the bundled C source) |
//! | `capi` | yes | the C ABI in the static and shared libraries, and generation of `include/kvidxkit.h` (implies both engines) |
//! | `rocksdb` | no | the `Rocksdb` engine, linking the system's `librocksdb` (and the C++ runtime); with `capi`, also in the C registry (`kvidxInterfaceRocksdb`) |
//!
//! A Rust program that does not need the C ABI can leave it out:
//!
//! ```toml
//! [dependencies]
//! kvidxkit = { version = "0.8", default-features = false, features = ["lmdb"] }
//! # or: features = ["bundled-sqlite"], or both engines: ["lmdb", "bundled-sqlite"]
//! ```
//!
//! What each set costs to build (`cargo build --release` from clean, on a
//! 2-core x86_64 Linux machine):
//!
//! | Features | Wall time | CPU time |
//! |---|---|---|
//! | `lmdb` | 11 s | 13 s |
//! | `bundled-sqlite` | 46 s | 52 s |
//! | default (both engines, bundled SQLite, `capi`) | 76 s | 86 s |
//!
//! Compiling SQLite's amalgamation is most of the SQLite cost; with
//! `system-sqlite` it disappears. `capi` adds cbindgen (a build dependency)
//! and the C layer.
//!
//! # Threads
//!
//! A [`Store`] is [`Send`] but not [`Sync`]: move it to another thread, or
//! share it behind a [`Mutex`](std::sync::Mutex) (every method needs
//! `&mut self`). Separate stores on separate databases run in parallel.
//! The same file or directory cannot be opened twice in one process (see
//! the table above), so threads share one store rather than each opening
//! its own.
//!
//! A transaction begun with [`Store::begin`] on an LMDB store belongs to
//! the thread that began it: calls from another thread fail with
//! [`Error::Locked`] until it ends. (A [`Transaction`] guard borrows the
//! store and so cannot change threads.)
//!
//! The C API serialises calls on one instance internally, so C threads may
//! share an instance; the Rust API leaves that choice to you.
//!
//! # Errors
//!
//! Every fallible call returns [`Result<T>`](Result) with the one error
//! type [`Error`]. Its variants say what went wrong in terms a caller can
//! act on — [`Error::DuplicateKey`], [`Error::NotFound`],
//! [`Error::ConditionFailed`], [`Error::TransactionActive`],
//! [`Error::Locked`], [`Error::DiskFull`], [`Error::Corrupt`], … — and
//! carry a message; each maps to one C error code ([`Error::code`],
//! [`ErrorCode`]). An error never leaves a half-done change: the call that
//! failed changed nothing (inside a transaction, the transaction stays
//! open and as it was, unless the engine had to end it, which
//! [`Store::in_transaction`] tells). The one deliberate exception is
//! [`Store::insert_batch`], which keeps the entries before the one that
//! failed and says how many went in.
//!
//! ```
//! # use kvidxkit::{Error, Sqlite, Store};
//! let mut db = Store::<Sqlite>::open(":memory:")?;
//! db.insert(1, 1, 0, b"first")?;
//! match db.insert(1, 1, 0, b"second") {
//!     Err(Error::DuplicateKey(k)) => assert_eq!(k, 1),
//!     other => panic!("expected a duplicate: {other:?}"),
//! }
//! assert!(matches!(db.compare_and_swap(9, b"", 1, 0, b"x"), Err(Error::NotFound(_))));
//! # Ok::<(), kvidxkit::Error>(())
//! ```
//!
//! # SQLite access and `rusqlite`
//!
//! The SQLite engine is built on [`rusqlite`](https://docs.rs/rusqlite/0.43/rusqlite/), which this crate re-exports
//! (`kvidxkit::rusqlite`). [`Sqlite::connection`] hands out the store's
//! `rusqlite::Connection` for your own tables, and the [`schema`] helpers
//! take a `&rusqlite::Connection` — the store's or one you open yourself.
//! Use the re-export rather than a `rusqlite` dependency of your own:
//! `libsqlite3-sys` declares `links = "sqlite3"`, so a program can link
//! only one version of it, and a different `rusqlite` in your dependency
//! tree fails to resolve. (If you do depend on `rusqlite` directly, use the
//! same version as this crate.) A new major `rusqlite` is a breaking change
//! of this crate.
//!
//! # The C ABI
//!
//! With the `capi` feature (default) the crate's static and shared
//! libraries export the original kvidxkit 0.8 C API (`kvidxOpen`,
//! `kvidxInsert`, …, the headers in `include/`), implemented on [`Store`]:
//! every rule — unsigned key order, expiry, atomic compound calls, export
//! formats — is the same code for C and Rust callers, and the files are
//! interchangeable. The C functions are not part of the Rust API; a Rust
//! program uses [`Store`]. See `README.md` and `docs/api-guide.md` for the
//! C side.
#![deny(missing_docs)]

/// cbindgen:ignore
mod admin;
// The C ABI: out of the Rust API (its doc comments are written for the
// generated C header, not rustdoc). The in-tree benchmark calls it.
#[cfg(feature = "capi")]
#[doc(hidden)]
#[allow(rustdoc::all)]
pub mod capi;
mod config;
mod engine;
pub mod engines;
mod error;
pub mod formats;
mod runs;
#[cfg(feature = "sqlite")]
pub mod schema;
mod store;
mod transfer;
mod ttl;

pub use admin::{Check, CompactReport, CopyReport, TtlSummary, VERSION, VerifyReport};
pub use config::{Config, JournalMode, Stats, SyncMode};
pub use engine::Engine;
#[cfg(feature = "lmdb")]
pub use engines::Lmdb;
#[cfg(feature = "rocksdb")]
pub use engines::Rocksdb;
#[cfg(feature = "sqlite")]
pub use engines::Sqlite;
pub use error::{Error, ErrorCode, Result};
/// The SQLite binding this crate is built on (with the `sqlite` feature).
///
/// [`Sqlite::connection`] returns a [`rusqlite::Connection`](https://docs.rs/rusqlite/0.43/rusqlite/struct.Connection.html), and the
/// [`schema`] helpers take one. Use this re-export instead of depending on
/// `rusqlite` yourself: only one `libsqlite3-sys` (`links = "sqlite3"`) can
/// be linked into a program, so a different `rusqlite` version fails to
/// resolve.
#[cfg(feature = "sqlite")]
pub use rusqlite;
pub use store::{BatchOutcome, Entry, EntryRef, Iter, SetCondition, Store, Transaction, Ttl};

// The engines' building blocks, public for the C layer and the tests that
// drive an engine directly; not part of the API.
#[doc(hidden)]
pub use config::FileStats;
#[doc(hidden)]
pub use engine::{Dir, OpenRequest, Row};

/// Helpers of the unit tests.
#[cfg(test)]
mod test_util {
    /// A deterministic pseudo-random sequence (xorshift64) from `seed`.
    pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }
}
