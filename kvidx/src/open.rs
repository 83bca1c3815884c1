//! Which engine a path is, and opening it for a command.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kvidxkit::{Config, Engine, JournalMode, Store, SyncMode};

use crate::cli::EngineKind;
use crate::fail::{Fail, Outcome};

/// Runs `$body` with the type alias `$E` naming the engine of `$kind`.
macro_rules! on_engine {
    ($kind:expr, $E:ident => $body:expr) => {
        match $kind {
            $crate::cli::EngineKind::Sqlite => {
                type $E = kvidxkit::Sqlite;
                $body
            }
            $crate::cli::EngineKind::Lmdb => {
                type $E = kvidxkit::Lmdb;
                $body
            }
        }
    };
}
pub(crate) use on_engine;

/// A store named on the command line.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its path as given.
    pub path: PathBuf,
    /// Its engine.
    pub kind: EngineKind,
    /// How long to wait for another process's lock.
    pub wait: Duration,
}

/// What a command does with a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only: opened read-only; it must exist.
    Read,
    /// Changes it: it must exist.
    Write,
    /// Changes it, creating it if missing.
    Create,
}

impl Target {
    /// The store at `path`: its engine is `explicit`, or the path's (an
    /// existing file: SQLite3, directory: LMDB; a new path ending in
    /// `.sqlite3`: SQLite3, else LMDB).
    pub fn new(path: &Path, explicit: Option<EngineKind>, wait: Duration) -> Self {
        let kind = explicit.unwrap_or_else(|| match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => EngineKind::Lmdb,
            Ok(_) => EngineKind::Sqlite,
            Err(_) if path.extension().is_some_and(|e| e == "sqlite3") => EngineKind::Sqlite,
            Err(_) => EngineKind::Lmdb,
        });
        Target { path: path.to_path_buf(), kind, wait }
    }

    /// The path for messages.
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// A library error about this store.
    pub fn fail(&self, e: kvidxkit::Error) -> Fail {
        Fail::store(&self.path, self.kind.name(), e)
    }

    /// Opens the store for `access`. Never waits for a lock: a SQLite3 store
    /// another process holds fails at once.
    pub fn open<E: Engine>(&self, access: Access) -> Outcome<Opened<E>> {
        self.try_open(access)?.map_err(|e| self.fail(e))
    }

    /// [`Target::open`] handing back the library's error (the outer error
    /// is a path that cannot be this store at all).
    pub fn try_open<E: Engine>(&self, access: Access) -> Outcome<kvidxkit::Result<Opened<E>>> {
        let leftovers = match (self.kind, access) {
            (EngineKind::Sqlite, Access::Read) => Some(Leftovers::note(&self.path)),
            _ => None,
        };
        if access != Access::Read {
            self.wait_for_writer::<E>()?;
        }
        Ok(self.open_store(access)?.map(|store| Opened { store, _leftovers: leftovers }))
    }

    /// Waits (up to `--wait`) until no other process holds the store's write
    /// lock (LMDB: opening for writing, and writing, would wait for it with no
    /// bound).
    fn wait_for_writer<E: Engine>(&self) -> Outcome {
        let began = Instant::now();
        loop {
            if !E::write_lock_held_at(&self.path).map_err(|e| self.fail(e))? {
                return Ok(());
            }
            if began.elapsed() >= self.wait {
                return Err(Fail::error(format!(
                    "{}: another process has a write transaction open (LMDB lets one process write at a time){}",
                    self.shown(),
                    if self.wait.is_zero() { "; try again, or give --wait SECONDS" } else { "" }
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn open_store<E: Engine>(&self, access: Access) -> Outcome<kvidxkit::Result<Store<E>>> {
        let path = &self.path;
        let meta = std::fs::metadata(path);
        if access != Access::Create && meta.is_err() {
            return Err(Fail::error(format!("{}: no such store (nothing exists at this path)", path.display())));
        }
        let is_dir = meta.as_ref().is_ok_and(|m| m.is_dir());
        let exists = meta.is_ok();
        match self.kind {
            EngineKind::Sqlite if is_dir => {
                return Err(Fail::error(format!(
                    "{}: a directory is not a SQLite3 store (an LMDB environment is; leave out --engine sqlite3)",
                    path.display()
                )));
            }
            EngineKind::Lmdb if exists && !is_dir => {
                return Err(Fail::error(format!(
                    "{}: a file is not an LMDB environment (a SQLite3 store is; leave out --engine lmdb)",
                    path.display()
                )));
            }
            EngineKind::Lmdb if is_dir && access != Access::Create && !path.join("data.mdb").exists() => {
                return Err(Fail::error(format!(
                    "{}: no such store (the directory holds no LMDB environment: no data.mdb)",
                    path.display()
                )));
            }
            _ => {}
        }
        let empty = meta.as_ref().is_ok_and(|m| m.is_file() && m.len() == 0);
        Ok(match (self.kind, access, exists) {
            (_, Access::Create, false) => Store::<E>::open(path),
            (EngineKind::Sqlite, Access::Create, true) if empty => Store::<E>::open(path),
            (EngineKind::Lmdb, Access::Read, _) => {
                Store::<E>::open_with_config(path, &Config { read_only: true, ..Config::default() })
            }
            (EngineKind::Lmdb, _, _) => Store::<E>::open(path),
            (EngineKind::Sqlite, access, _) => {
                Store::<E>::open_with_config(path, &sqlite_config(path, access == Access::Read, self.wait))
            }
        })
    }
}

/// The configuration a SQLite3 store is opened with: waiting for a lock only
/// as long as `--wait` says, and the journal mode the file already has (the header says whether it is
/// WAL), so that opening it does not change it.
fn sqlite_config(path: &Path, read_only: bool, wait: Duration) -> Config {
    let mut header = [0u8; 20];
    let wal = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok_and(|()| header.starts_with(b"SQLite format 3\0") && header[18] == 2);
    Config {
        read_only,
        busy_timeout_ms: wait.as_millis().min(i32::MAX as u128) as i32,
        journal_mode: if wal { JournalMode::Wal } else { JournalMode::Delete },
        sync_mode: SyncMode::Full,
        ..Config::default()
    }
}

/// An open store, and what to tidy up after it is closed.
pub struct Opened<E: Engine> {
    // Declared first: closed before the leftovers are removed.
    store: Store<E>,
    _leftovers: Option<Leftovers>,
}

impl<E: Engine> Opened<E> {
    /// The store itself (closed by its owner).
    pub fn into_store(self) -> Store<E> {
        self.store
    }
}

impl<E: Engine> std::ops::Deref for Opened<E> {
    type Target = Store<E>;
    fn deref(&self) -> &Store<E> {
        &self.store
    }
}

impl<E: Engine> std::ops::DerefMut for Opened<E> {
    fn deref_mut(&mut self) -> &mut Store<E> {
        &mut self.store
    }
}

/// The `-wal` and `-shm` files SQLite creates when it opens a WAL-mode file
/// read-only (and cannot remove at close, as a writer does): removed after
/// the store is closed if they were not there before and the WAL is empty.
/// No writer can be using them: a writer holds the file exclusively.
struct Leftovers {
    wal: Option<PathBuf>,
    shm: Option<PathBuf>,
}

impl Leftovers {
    fn note(db: &Path) -> Self {
        let companion = |suffix: &str| {
            let mut p = db.as_os_str().to_os_string();
            p.push(suffix);
            let p = PathBuf::from(p);
            std::fs::symlink_metadata(&p).is_err().then_some(p)
        };
        Leftovers { wal: companion("-wal"), shm: companion("-shm") }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if let Some(wal) = &self.wal {
            match std::fs::metadata(wal) {
                Ok(m) if m.len() > 0 => return,
                Ok(_) => {
                    let _ = std::fs::remove_file(wal);
                }
                Err(_) => {}
            }
        }
        if let Some(shm) = &self.shm {
            let _ = std::fs::remove_file(shm);
        }
    }
}
