//! Files are created with the original's permissions (decisions.md I4,
//! core.md §1.2, §4.1, §4.3): a new SQLite database (and its WAL) 0600; an
//! LMDB directory 0755 with data.mdb and lock.mdb 0644 — each less the
//! process umask, as with any file creation. Existing files keep their mode.
//!
//! One test in its own binary, because it sets the process umask.
#![cfg(all(feature = "sqlite", feature = "lmdb"))]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kvidxkit::{Config, Lmdb, Sqlite, Store};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o7777
}

#[test]
fn new_files_have_the_original_permissions() {
    // SAFETY: umask only changes this process's file-creation mask; this
    // binary runs no other test.
    let old = unsafe { libc::umask(0o022) };

    let dir = common::scratch("perm");

    // SQLite: a new database file and its WAL are 0600.
    let db = dir.join("new.sqlite3");
    let mut s = Store::<Sqlite>::open(&db).unwrap();
    s.insert(1, 1, 1, b"x").unwrap();
    assert_eq!(mode(&db), 0o600, "new SQLite database file");
    let wal = dir.join("new.sqlite3-wal");
    assert!(wal.exists(), "the database is in WAL mode");
    assert_eq!(mode(&wal), 0o600, "its WAL");
    s.close().map_err(|(_, e)| e).unwrap();
    assert_eq!(mode(&db), 0o600);

    // ... also when opened with a configuration.
    let db2 = dir.join("configured.sqlite3");
    let s = Store::<Sqlite>::open_with_config(&db2, &Config::default()).unwrap();
    assert_eq!(mode(&db2), 0o600, "new SQLite database file, configured open");
    s.close().map_err(|(_, e)| e).unwrap();

    // An existing file keeps its mode (here 0640), and its data.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
    let mut s = Store::<Sqlite>::open(&db).unwrap();
    assert!(s.exists(1).unwrap());
    assert_eq!(mode(&db), 0o640, "an existing database keeps its mode");
    s.close().map_err(|(_, e)| e).unwrap();

    // A read-only open of a missing file creates nothing.
    let missing = dir.join("missing.sqlite3");
    let ro = Config { read_only: true, ..Config::default() };
    assert!(Store::<Sqlite>::open_with_config(&missing, &ro).is_err());
    assert!(!missing.exists(), "a read-only open must not create the file");

    // An open that fails leaves no new file behind (an unknown VFS).
    let bad = dir.join("badvfs.sqlite3");
    let cfg = Config { vfs_name: Some("unix-no-such-vfs".into()), ..Config::default() };
    assert!(Store::<Sqlite>::open_with_config(&bad, &cfg).is_err());
    assert!(!bad.exists(), "a failed open must not leave a file");

    // In-memory databases touch no file.
    let s = Store::<Sqlite>::open(":memory:").unwrap();
    assert!(!Path::new(":memory:").exists());
    s.close().map_err(|(_, e)| e).unwrap();

    // LMDB: as the original, directory 0755, data.mdb and lock.mdb 0644.
    let env = dir.join("lmdb");
    let mut l = Store::<Lmdb>::open(&env).unwrap();
    l.insert(1, 1, 1, b"x").unwrap();
    assert_eq!(mode(&env), 0o755, "new LMDB directory");
    assert_eq!(mode(&env.join("data.mdb")), 0o644, "data.mdb");
    assert_eq!(mode(&env.join("lock.mdb")), 0o644, "lock.mdb");
    l.close().map_err(|(_, e)| e).unwrap();

    // The umask still applies, as it does for the original.
    unsafe { libc::umask(0o077) };
    let db3 = dir.join("umask.sqlite3");
    let s = Store::<Sqlite>::open(&db3).unwrap();
    assert_eq!(mode(&db3), 0o600);
    s.close().map_err(|(_, e)| e).unwrap();
    let env2 = dir.join("lmdb-umask");
    let l = Store::<Lmdb>::open(&env2).unwrap();
    assert_eq!(mode(&env2.join("data.mdb")), 0o600);
    l.close().map_err(|(_, e)| e).unwrap();

    unsafe { libc::umask(old) };
}
