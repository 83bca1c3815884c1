//! Administration of the LMDB engine ([`crate::admin`]): facts, the walk of
//! every record and page, the compacting copy, snapshots.

use std::ffi::{CString, c_int};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::null_mut;

use super::{Bounds, HEADER, Kind, Lmdb, check, corrupt, err, ffi, file_len, strerror, unpack, val_key};
use crate::admin::{Check, CompactReport};
use crate::engine::{Dir, Row};
use crate::error::{Error, Result};
use crate::ttl::MAX_EXPIRY;

/// The free-page and the main database (LMDB's FREE_DBI and MAIN_DBI).
const FREE_DBI: ffi::MDB_dbi = 0;
const MAIN_DBI: ffi::MDB_dbi = 1;
/// Meta pages at the start of every environment.
const NUM_METAS: u64 = 2;
/// Leftover of an interrupted compaction, inside the environment directory.
const COMPACT_DIR: &str = ".kvidx-compact";

/// A read-only transaction of its own on the newest snapshot, aborted when
/// dropped.
struct ReadTxn(*mut ffi::MDB_txn);

impl Drop for ReadTxn {
    fn drop(&mut self) {
        // SAFETY: a live transaction we began; aborted once.
        unsafe { ffi::mdb_txn_abort(self.0) };
    }
}

fn stat(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi) -> Result<ffi::MDB_stat> {
    // SAFETY: txn open, dbi valid in it; mdb_stat fills the struct.
    unsafe {
        let mut st: ffi::MDB_stat = std::mem::zeroed();
        check("mdb_stat", ffi::mdb_stat(txn, dbi, &mut st))?;
        Ok(st)
    }
}

fn tree_pages(st: &ffi::MDB_stat) -> u64 {
    (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) as u64
}

impl Lmdb {
    /// Begins a read-only transaction of its own and refreshes the bounds
    /// records are checked against (its snapshot may be newer than the
    /// store's).
    fn own_read_txn(&mut self) -> Result<ReadTxn> {
        let mut t = null_mut();
        // SAFETY: a read-only transaction on our environment (MDB_NOTLS: any
        // number per thread).
        let rc = self.resized_retry(|env| unsafe { ffi::mdb_txn_begin(env, null_mut(), ffi::MDB_RDONLY, &mut t) })?;
        check("mdb_txn_begin", rc)?;
        self.refresh_bounds();
        Ok(ReadTxn(t))
    }

    pub(super) fn admin_details(&mut self) -> Result<Vec<(String, String)>> {
        let info = self.env_info();
        let psize = self.psize as u64;
        let mut d = Vec::new();
        let mut add = |k: &str, v: String| d.push((k.to_string(), v));
        add("map size", info.me_mapsize.to_string());
        add("map used", ((info.me_last_pgno as u64 + 1) * psize).to_string());
        add("page size", psize.to_string());
        add("last transaction", info.me_last_txnid.to_string());
        add("readers", format!("{} of {}", info.me_numreaders, info.me_maxreaders));
        let txn = self.own_read_txn()?;
        let dbs = [("_kvidx_data", Some(self.data)), ("_kvidx_ttl", self.ttl)];
        for (name, dbi) in dbs {
            let Some(dbi) = dbi else {
                add(name, "absent".into());
                continue;
            };
            let st = stat(txn.0, dbi)?;
            add(
                name,
                format!(
                    "{} record{}, depth {}, {} branch, {} leaf, {} overflow pages",
                    st.ms_entries,
                    if st.ms_entries == 1 { "" } else { "s" },
                    st.ms_depth,
                    st.ms_branch_pages,
                    st.ms_leaf_pages,
                    st.ms_overflow_pages
                ),
            );
        }
        drop(txn);
        let r = self.file_stats_inner();
        let fs = self.settle(r)?;
        add("free pages", fs.free_pages.to_string());
        Ok(d)
    }

    /// Walks every record of `dbi`, checking each (an 8-byte key, a value
    /// well formed for `kind` inside the file, keys strictly ascending), and
    /// that the number of records is the one the database's record holds.
    fn walk_db(&mut self, dbi: ffi::MDB_dbi, kind: Kind, c: &mut Check) {
        let name = kind.name();
        let txn = match self.own_read_txn() {
            Ok(t) => t,
            Err(e) => return c.problem(format!("{name}: cannot begin a read transaction: {e}")),
        };
        let b = Bounds { write: false, ..self.bounds };
        let entries = match stat(txn.0, dbi) {
            Ok(st) => st.ms_entries as u64,
            Err(e) => return c.problem(format!("{name}: {e}")),
        };
        // Each record takes at least 10 bytes of a page: a walk longer than
        // that goes round in circles.
        let limit = (self.env_info().me_last_pgno as u64 + 1) * (self.psize as u64 / 10 + 1);
        let (mut n, mut good, mut prev) = (0u64, 0u64, None::<u64>);
        // SAFETY: the cursor lives inside this block, in our open read
        // transaction; a record's bytes are read only after `record_ok`.
        unsafe {
            let mut cur = null_mut();
            if let Err(e) = check("mdb_cursor_open", ffi::mdb_cursor_open(txn.0, dbi, &mut cur)) {
                return c.problem(format!("{name}: {e}"));
            }
            let mut k = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
            let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
            let mut rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_FIRST);
            loop {
                let after = || prev.map(|p| format!(" after key {p}")).unwrap_or_default();
                match rc {
                    0 => {}
                    ffi::MDB_NOTFOUND => break,
                    rc => {
                        c.problem(format!("{name}: the walk stopped{} ({n} records read): {}", after(), strerror(rc)));
                        break;
                    }
                }
                n += 1;
                if n > limit {
                    c.problem(format!("{name}: the walk does not end (more than {limit} records)"));
                    break;
                }
                let key = (k.mv_size == 8).then(|| val_key(&k));
                if b.record_ok(kind, &k, &v, true) {
                    good += 1;
                    if kind == Kind::Ttl {
                        let at = std::ptr::read_unaligned(v.mv_data as *const u64);
                        if at > MAX_EXPIRY {
                            c.problem(format!(
                                "{name}: key {}: expiry {at} beyond the largest, {MAX_EXPIRY}",
                                key.unwrap_or(0)
                            ));
                        }
                    }
                } else {
                    let which = key.map_or_else(|| format!("a {}-byte key", k.mv_size), |k| format!("key {k}"));
                    let want = if kind == Kind::Ttl { "8".to_string() } else { format!("at least {HEADER}") };
                    c.problem(format!(
                        "{name}: malformed record{}: {which}, {} value bytes (expected {want}, inside the file)",
                        after(),
                        v.mv_size
                    ));
                }
                if let Some(key) = key {
                    if let Some(p) = prev.filter(|&p| key <= p) {
                        c.problem(format!("{name}: key {key} follows key {p}: keys out of order (damaged b-tree)"));
                        break;
                    }
                    prev = Some(key);
                }
                rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_NEXT);
            }
            ffi::mdb_cursor_close(cur);
        }
        if c.passed() && n != entries {
            c.problem(format!("{name}: its record counts {entries} entries, the walk found {n}"));
        }
        c.summary = format!("{good} well-formed record{}", if good == 1 { "" } else { "s" });
    }

    pub(super) fn admin_check(&mut self, checks: &mut Vec<Check>) {
        let mut c = Check::new("LMDB _kvidx_data records");
        let data = self.data;
        self.walk_db(data, Kind::Data, &mut c);
        checks.push(c);
        let mut c = Check::new("LMDB _kvidx_ttl records");
        match self.ttl {
            Some(dbi) => self.walk_db(dbi, Kind::Ttl, &mut c),
            None => c.summary = "absent (an environment of the original written before TTLs)".into(),
        }
        checks.push(c);

        // Every page is a meta page, in a tree, or free: a page in neither is
        // leaked (or the records describing the trees are damaged).
        let mut c = Check::new("LMDB pages");
        let r = self.file_stats_inner();
        match self.settle(r) {
            Err(e) => c.problem(format!("free-page database: {e}")),
            Ok(fs) => {
                let total = fs.page_count;
                let counted = self.own_read_txn().and_then(|txn| {
                    let mut used = NUM_METAS + fs.free_pages;
                    for dbi in [Some(FREE_DBI), Some(MAIN_DBI), Some(self.data), self.ttl].into_iter().flatten() {
                        used += tree_pages(&stat(txn.0, dbi)?);
                    }
                    Ok(used)
                });
                match counted {
                    Err(e) => c.problem(format!("the databases' page counts cannot be read: {e}")),
                    Ok(used) if used != total => c.problem(format!(
                        "{total} pages in use by the environment, but the trees, the free list and the meta pages \
                         account for {used}"
                    )),
                    Ok(_) => {}
                }
                c.summary = format!("{total} pages, {} free, every one accounted for", fs.free_pages);
            }
        }
        checks.push(c);
    }

    /// The compacting copy: see [`crate::Store::compact`].
    pub(super) fn admin_compact(&mut self) -> Result<CompactReport> {
        if !self.txns.is_empty() {
            return Err(Error::TransactionActive);
        }
        if self.read_only {
            return Err(Error::ReadOnly("the instance is configured read-only".into()));
        }
        let data = self.dir.join("data.mdb");
        let before = std::fs::metadata(&data).map(|m| m.len()).unwrap_or(0);
        // Every process that opens the environment holds a shared lock on the
        // first byte of lock.mdb: an exclusive one is granted only when no
        // other process has it open. It is converted from this process's
        // shared lock, through LMDB's own descriptor (closing any other
        // descriptor of the file would release every lock this process
        // holds on it), and makes processes that start opening the
        // environment wait until the environment is closed.
        let lfd = self.lock_fd().ok_or_else(|| Error::Internal("LMDB's descriptor of lock.mdb not found".into()))?;
        // SAFETY: fcntl on LMDB's open descriptor with a filled-in flock.
        let locked = unsafe {
            let mut fl: libc::flock = std::mem::zeroed();
            fl.l_type = libc::F_WRLCK as _;
            fl.l_whence = libc::SEEK_SET as _;
            fl.l_start = 0;
            fl.l_len = 1;
            libc::fcntl(lfd, libc::F_SETLK, &fl) == 0
        };
        if !locked {
            return Err(Error::Locked(format!(
                "{} is open in another process; compacting needs the environment to itself",
                self.dir.display()
            )));
        }
        self.park_reader();
        let tmp = self.dir.join(COMPACT_DIR);
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).map_err(|e| Error::from_io(&format!("cannot create {}", tmp.display()), &e))?;
        let r = self.copy_compact_into(&tmp, &data);
        let _ = std::fs::remove_dir_all(&tmp);
        r?;
        // A process that began opening the environment meanwhile waits on the
        // lock and would then take the lock file as it stands, which still
        // describes the old data file: zeroing its magic number makes that
        // open fail (MDB_INVALID) instead, and the next process that opens
        // the environment alone initializes the lock file anew.
        // SAFETY: writes 4 bytes into the lock file we hold exclusively.
        unsafe {
            let zero = [0u8; 4];
            libc::pwrite(lfd, zero.as_ptr() as *const _, 4, 0);
        }
        let after = std::fs::metadata(&data).map(|m| m.len()).unwrap_or(0);
        Ok(CompactReport { before, after })
    }

    /// LMDB's descriptor of this environment's lock.mdb.
    fn lock_fd(&self) -> Option<c_int> {
        open_fd_of(&self.dir.join("lock.mdb"))
    }

    fn copy_compact_into(&mut self, tmp: &std::path::Path, data: &std::path::Path) -> Result<()> {
        let c = CString::new(tmp.as_os_str().as_bytes()).map_err(|_| Error::invalid("path contains a NUL"))?;
        // SAFETY: env open; LMDB writes tmp/data.mdb from a read transaction.
        let rc = unsafe { ffi::mdb_env_copy2(self.env, c.as_ptr(), ffi::MDB_CP_COMPACT) };
        if rc == ffi::MDB_INCOMPATIBLE {
            return Err(corrupt("the compacting copy found leaked or damaged pages (run kvidx verify)"));
        }
        if rc != 0 {
            return Err(err("mdb_env_copy2", rc));
        }
        let copy = tmp.join("data.mdb");
        let synced = std::fs::File::open(&copy).and_then(|f| f.sync_all());
        synced.map_err(|e| Error::from_io("cannot sync the compacted copy", &e))?;
        std::fs::rename(&copy, data).map_err(|e| Error::from_io("cannot replace data.mdb", &e))?;
        let dir = std::fs::File::open(&self.dir).and_then(|d| d.sync_all());
        dir.map_err(|e| Error::from_io("cannot sync the environment directory", &e))?;
        Ok(())
    }

    /// The TTL records and the entries from one read transaction of its own
    /// (or the caller's write transaction, which is one snapshot already).
    pub(super) fn admin_snapshot(
        &mut self,
        lo: u64,
        hi: u64,
        ttl: &mut dyn FnMut(u64, u64),
        f: &mut dyn FnMut(Row<'_>) -> bool,
    ) -> Result<()> {
        if !self.txns.is_empty() {
            use crate::engine::Engine;
            self.ttl_scan(ttl)?;
            return self.scan(lo, hi, Dir::Forward, f);
        }
        let txn = self.own_read_txn()?;
        let b = Bounds { write: false, ..self.bounds };
        if let Some(dbi) = self.ttl {
            Self::cursor_scan::<true, false>(txn.0, dbi, Kind::Ttl, b, 0, u64::MAX, Dir::Forward, |k, v| {
                // SAFETY: exactly 8 bytes (checked), possibly unaligned.
                ttl(k, unsafe { std::ptr::read_unaligned(v.as_ptr() as *const u64) });
                true
            })?;
        }
        Self::cursor_scan::<true, false>(txn.0, self.data, Kind::Data, b, lo, hi, Dir::Forward, |key, v| {
            let (term, cmd, data) = unpack(v);
            f(Row { key, term, cmd, data })
        })
    }
}

/// A descriptor this process has open on the file at `path` (found by its
/// device and inode among the process's descriptors).
fn open_fd_of(path: &Path) -> Option<c_int> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    std::fs::read_dir("/proc/self/fd").ok()?.flatten().find_map(|e| {
        let fd: c_int = e.file_name().to_str()?.parse().ok()?;
        // SAFETY: fstat fills a plain struct; a closed fd just fails.
        let st = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            (libc::fstat(fd, &mut st) == 0).then_some(st)?
        };
        (st.st_dev == m.dev() && st.st_ino == m.ino()).then_some(fd)
    })
}

/// Whether another process holds the writer mutex of the environment in
/// directory `dir` ([`crate::Engine::write_lock_held_at`]): the mutex in
/// lock.mdb is tried (`pthread_mutex_trylock`) and released at once.
///
/// It follows the first 64-byte-aligned block of the lock file (magic,
/// format, last transaction id, reader count, reader mutex: `MDB_txninfo` of
/// the LMDB compiled into the library), and is used only if the file starts
/// with LMDB's magic number. The lock file is reached through a descriptor
/// this process already has open on it (LMDB's, if the environment is open
/// here: closing any other descriptor of the file would release every
/// `fcntl` lock this process holds on it), else through one of its own
/// (then the process holds no lock on it to lose).
pub(super) fn write_lock_held_at(dir: &Path) -> Result<bool> {
    const MAGIC: u32 = 0xBEEF_C0DE;
    let path = dir.join("lock.mdb");
    let own;
    let fd = match open_fd_of(&path) {
        Some(fd) => fd,
        None => match std::fs::OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => {
                own = f;
                own.as_raw_fd()
            }
            // No lock file (no process has opened the environment), or one
            // this user cannot write (nor could it write the environment).
            Err(_) => return Ok(false),
        },
    };
    let mutex = std::mem::size_of::<libc::pthread_mutex_t>();
    let offset = (24 + mutex).div_ceil(64) * 64;
    let len = offset + mutex;
    if file_len(fd) < len as u64 {
        return Ok(false);
    }
    // SAFETY: a shared mapping of the lock file (LMDB maps the same pages);
    // the writer mutex is a process-shared robust mutex LMDB initialized
    // there, touched only if the file's magic number says it is one.
    unsafe {
        let p = libc::mmap(null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0);
        if p == libc::MAP_FAILED {
            return Err(Error::from_io("cannot map lock.mdb", &std::io::Error::last_os_error()));
        }
        let busy = if std::ptr::read_volatile(p as *const u32) != MAGIC {
            false
        } else {
            let m = (p as *mut u8).add(offset) as *mut libc::pthread_mutex_t;
            match libc::pthread_mutex_trylock(m) {
                0 => {
                    libc::pthread_mutex_unlock(m);
                    false
                }
                libc::EOWNERDEAD => {
                    // Its holder died: its transaction never committed (LMDB
                    // does the same on meeting this).
                    libc::pthread_mutex_consistent(m);
                    libc::pthread_mutex_unlock(m);
                    false
                }
                libc::EBUSY => true,
                _ => false,
            }
        };
        libc::munmap(p, len);
        Ok(busy)
    }
}

/// The version of the LMDB compiled into the library ("0.9.70").
pub(super) fn version() -> String {
    let (mut a, mut b, mut c): (c_int, c_int, c_int) = (0, 0, 0);
    // SAFETY: mdb_version fills three ints and returns a static string.
    unsafe { ffi::mdb_version(&mut a, &mut b, &mut c) };
    format!("{a}.{b}.{c}")
}
