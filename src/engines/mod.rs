//! Storage engines: only what differs between engines lives here.

pub mod lmdb;
#[cfg(feature = "rocksdb")]
pub mod rocksdb;
pub mod sqlite;

pub use lmdb::Lmdb;
#[cfg(feature = "rocksdb")]
pub use rocksdb::Rocksdb;
pub use sqlite::Sqlite;

/// Files and directories held open in this process, by (device, inode):
/// an engine that must not open the same storage twice in one process
/// (LMDB always; SQLite with its exclusive-locking VFS, whose WAL index
/// lives in each connection's memory; RocksDB always) claims it here.
static OPEN_IN_PROCESS: parking_lot::Mutex<Vec<(u64, u64)>> = parking_lot::Mutex::new(Vec::new());

/// A claim on a path; released when dropped.
#[derive(Debug)]
pub(crate) struct ProcessClaim((u64, u64));

impl ProcessClaim {
    pub(crate) fn take(path: &std::path::Path) -> crate::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        let id = (m.dev(), m.ino());
        let mut open = OPEN_IN_PROCESS.lock();
        if open.contains(&id) {
            return Err(crate::Error::Locked(format!("{} is already open in this process", path.display())));
        }
        open.push(id);
        Ok(ProcessClaim(id))
    }
}

impl Drop for ProcessClaim {
    fn drop(&mut self) {
        OPEN_IN_PROCESS.lock().retain(|x| *x != self.0);
    }
}
