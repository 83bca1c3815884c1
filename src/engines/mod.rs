//! The storage engines, the type parameter of [`Store`](crate::Store):
//! [`Sqlite`] (feature `sqlite`), [`Lmdb`] (feature `lmdb`) and `Rocksdb`
//! (feature `rocksdb`, off by default). Each is also re-exported at the
//! crate root. How they differ and how to choose:
//! [the crate documentation](crate#engines).
//!
//! Only what differs between engines lives here; everything else is written
//! once in [`Store`](crate::Store).

#[cfg(feature = "lmdb")]
mod lmdb;
/// The LMDB C API as compiled into the library (not part of the Rust API).
/// cbindgen:ignore
#[cfg(feature = "lmdb")]
#[doc(hidden)]
pub mod lmdb_ffi;
#[cfg(feature = "lmdb")]
mod lmdb_pins;
/// The RocksDB engine; its layout helpers and the declarations of
/// RocksDB's C API are public for the tests (not part of the Rust API).
/// cbindgen:ignore
#[cfg(feature = "rocksdb")]
#[doc(hidden)]
pub mod rocksdb;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "lmdb")]
pub use lmdb::{DEFAULT_MAP_SIZE, Lmdb};
#[cfg(feature = "rocksdb")]
pub use rocksdb::Rocksdb;
#[cfg(feature = "sqlite")]
pub use sqlite::{DEFAULT_PAGE_SIZE, Sqlite};

/// Files and directories held open in this process, by (device, inode),
/// with the id of the process that opened them. An engine that must not
/// open the same storage twice in one process (LMDB and RocksDB always;
/// SQLite with its exclusive-locking VFS, whose WAL index lives in each
/// connection's memory) claims it exclusively; SQLite records every file it
/// opens.
///
/// A child created by fork() inherits a copy of this table along with a
/// copy of the parent's open instances, which it must not use. What the
/// child may open then depends on the engine: an LMDB environment is
/// independent per process, so the parent's claims are stale in the child
/// and ignored (a child opens the environment as any other process would;
/// so does a RocksDB directory, which RocksDB's own LOCK then guards);
/// SQLite keeps per-file state for every connection of the process, which
/// the inherited connection shares with any new one, so a child cannot
/// safely open a file the parent had open when it forked: that is refused
/// with a clear error instead of failing later inside SQLite.
static OPEN_IN_PROCESS: parking_lot::Mutex<Vec<Claim>> = parking_lot::Mutex::new(Vec::new());
static NEXT_CLAIM: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[derive(Debug, Clone, Copy)]
struct Claim {
    dev: u64,
    ino: u64,
    pid: u32,
    /// No other open of the same storage in the same process.
    exclusive: bool,
    /// The storage may be opened anew in a child forked while it was open.
    survives_fork: bool,
    serial: u64,
}

/// A claim on a path; released when dropped.
#[derive(Debug)]
pub(crate) struct ProcessClaim(Claim);

impl ProcessClaim {
    pub(crate) fn take(path: &std::path::Path, exclusive: bool, survives_fork: bool) -> crate::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        let pid = std::process::id();
        let serial = NEXT_CLAIM.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let claim = Claim { dev: m.dev(), ino: m.ino(), pid, exclusive, survives_fork, serial };
        let mut open = OPEN_IN_PROCESS.lock();
        // Claims inherited through fork() of storage that a child may open
        // anew are stale here.
        open.retain(|c| c.pid == pid || !c.survives_fork);
        for c in open.iter().filter(|c| (c.dev, c.ino) == (claim.dev, claim.ino)) {
            if c.pid != pid {
                return Err(crate::Error::Locked(format!(
                    "{} was open in the parent process when this process was forked: the SQLite connection \
                     inherited through fork() cannot be used, and a new one would share its state; open the \
                     database in a process that has not inherited a connection to it (e.g. after exec)",
                    path.display()
                )));
            }
            if c.exclusive || exclusive {
                return Err(crate::Error::Locked(format!("{} is already open in this process", path.display())));
            }
        }
        open.push(claim);
        Ok(ProcessClaim(claim))
    }
}

impl Drop for ProcessClaim {
    fn drop(&mut self) {
        OPEN_IN_PROCESS.lock().retain(|x| x.serial != self.0.serial || x.pid != self.0.pid);
    }
}
