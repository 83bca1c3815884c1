//! The LMDB engine. Directory layout identical to the original kvidxkit:
//! `data.mdb` + `lock.mdb`, named databases `_kvidx_data` and `_kvidx_ttl`
//! (MDB_INTEGERKEY, keys as native 8-byte integers), a value of 16 header
//! bytes (term, cmd as native u64) followed by the data, and TTL records as
//! 8-byte native Unix-millisecond expiries. LMDB orders integer keys as
//! unsigned, so ranges need no mapping here.
//!
//! Transactions: a stack of write transactions (the caller's, then nested
//! child transactions for atomic units); reads use the innermost write
//! transaction when there is one (read-your-writes), else one read-only
//! transaction kept between calls and renewed when the environment has
//! committed something newer. Writes outside a transaction run in their own.

use std::ffi::{CStr, CString, c_int, c_uint, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr::null_mut;
use std::thread::ThreadId;

use lmdb_master_sys as ffi;

use crate::config::{Config, FileStats, SyncMode};
use crate::engine::{Dir, Engine, OpenRequest, Row};
use crate::error::{Error, Result};

/// Initial map size of a plain open (the original's 1 GiB).
pub const DEFAULT_MAP_SIZE: usize = 1 << 30;
const HEADER: usize = 16;
/// Largest value stored (bytes of data): the order of SQLite's row limit,
/// far below LMDB's own (4 GiB), so that one call cannot grow the map by
/// gigabytes.
pub(crate) const MAX_VALUE: usize = 1_000_000_000;

fn strerror(rc: c_int) -> String {
    // SAFETY: mdb_strerror returns a static string for any code.
    unsafe { CStr::from_ptr(ffi::mdb_strerror(rc)) }.to_string_lossy().into_owned()
}

fn err(op: &str, rc: c_int) -> Error {
    let text = format!("{op}: {}", strerror(rc));
    match rc {
        ffi::MDB_MAP_FULL => Error::DiskFull(format!("{text} (the map grows before the next transaction)")),
        ffi::MDB_TXN_FULL => Error::TooBig(text),
        ffi::MDB_READERS_FULL => Error::Locked(text),
        ffi::MDB_CORRUPTED | ffi::MDB_PAGE_NOTFOUND | ffi::MDB_INVALID | ffi::MDB_VERSION_MISMATCH => {
            Error::Corrupt(text)
        }
        ffi::MDB_BAD_VALSIZE => Error::TooBig(text),
        libc::EACCES | libc::EROFS => Error::ReadOnly(text),
        libc::ENOMEM => Error::NoMem(text),
        libc::ENOSPC => Error::DiskFull(text),
        libc::EIO => Error::Io(text),
        libc::EAGAIN | libc::EBUSY => Error::Locked(text),
        _ => Error::Internal(text),
    }
}

fn check(op: &str, rc: c_int) -> Result<()> {
    if rc == 0 { Ok(()) } else { Err(err(op, rc)) }
}

#[inline]
fn key_val(k: &u64) -> ffi::MDB_val {
    ffi::MDB_val { mv_size: 8, mv_data: k as *const u64 as *mut c_void }
}

#[inline]
unsafe fn val_bytes<'a>(v: &ffi::MDB_val) -> &'a [u8] {
    if v.mv_size == 0 || v.mv_data.is_null() {
        &[]
    } else {
        // SAFETY: LMDB hands out mv_size readable bytes valid for the txn.
        unsafe { std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size) }
    }
}

#[inline]
unsafe fn val_key(v: &ffi::MDB_val) -> u64 {
    if v.mv_size == 8 {
        // SAFETY: an integer key of 8 bytes, possibly unaligned in the map.
        unsafe { std::ptr::read_unaligned(v.mv_data as *const u64) }
    } else {
        let b = unsafe { val_bytes(v) };
        let mut k = [0u8; 8];
        k[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
        u64::from_ne_bytes(k)
    }
}

/// Splits a stored value into (term, cmd, data); values shorter than the
/// header read as term = cmd = 0 with no data, as the original.
#[inline]
fn unpack(v: &[u8]) -> (u64, u64, &[u8]) {
    if v.len() < HEADER {
        return (0, 0, &[]);
    }
    // SAFETY: at least HEADER bytes; reads may be unaligned in the map.
    let (term, cmd) = unsafe {
        (std::ptr::read_unaligned(v.as_ptr() as *const u64), std::ptr::read_unaligned(v.as_ptr().add(8) as *const u64))
    };
    (term, cmd, &v[HEADER..])
}

/// The LMDB engine.
pub struct Lmdb {
    env: *mut ffi::MDB_env,
    data: ffi::MDB_dbi,
    /// None only for a read-only environment written without TTL support.
    ttl: Option<ffi::MDB_dbi>,
    /// Write transactions: the outermost first, nested children after it.
    txns: Vec<*mut ffi::MDB_txn>,
    owner: Option<ThreadId>,
    rtxn: *mut ffi::MDB_txn,
    rtxn_live: bool,
    dir: PathBuf,
    /// LMDB must not open one environment twice in a process.
    _claim: super::ProcessClaim,
    opened_read_only: bool,
    read_only: bool,
    grow: bool,
    config: Config,
}

// SAFETY: the environment is opened with MDB_NOTLS, so the read transaction
// may move between threads; write transactions are checked to stay on the
// thread that began them (`owner`). The store serialises every call.
unsafe impl Send for Lmdb {}

impl Lmdb {
    fn env_info(&self) -> ffi::MDB_envinfo {
        // SAFETY: env is open; mdb_env_info only fills the struct.
        unsafe {
            let mut info: ffi::MDB_envinfo = std::mem::zeroed();
            ffi::mdb_env_info(self.env, &mut info);
            info
        }
    }

    fn page_size(&self) -> u64 {
        // SAFETY: as above.
        unsafe {
            let mut st: ffi::MDB_stat = std::mem::zeroed();
            ffi::mdb_env_stat(self.env, &mut st);
            st.ms_psize as u64
        }
    }

    fn check_thread(&self) -> Result<()> {
        match self.owner {
            Some(t) if t != std::thread::current().id() => {
                Err(Error::Locked("the open transaction belongs to another thread".into()))
            }
            _ => Ok(()),
        }
    }

    fn check_writable(&self) -> Result<()> {
        if self.read_only { Err(Error::ReadOnly("the instance is configured read-only".into())) } else { Ok(()) }
    }

    /// Ends the read transaction's snapshot (before writes commit, map
    /// resizes and close).
    fn park_reader(&mut self) {
        if self.rtxn_live {
            // SAFETY: rtxn is a live read-only transaction of this env.
            unsafe { ffi::mdb_txn_reset(self.rtxn) };
            self.rtxn_live = false;
        }
    }

    /// The transaction reads use: the innermost write transaction, or the
    /// read transaction renewed if the environment has moved on.
    fn read_txn(&mut self) -> Result<*mut ffi::MDB_txn> {
        if let Some(&t) = self.txns.last() {
            self.check_thread()?;
            return Ok(t);
        }
        self.snapshot_txn()
    }

    /// The read-only transaction, on the newest committed snapshot.
    fn snapshot_txn(&mut self) -> Result<*mut ffi::MDB_txn> {
        // SAFETY: plain LMDB calls on our own handles.
        unsafe {
            if self.rtxn.is_null() {
                let rc = ffi::mdb_txn_begin(self.env, null_mut(), ffi::MDB_RDONLY, &mut self.rtxn);
                if rc == ffi::MDB_MAP_RESIZED {
                    self.adopt_map_size()?;
                    check("mdb_txn_begin", ffi::mdb_txn_begin(self.env, null_mut(), ffi::MDB_RDONLY, &mut self.rtxn))?;
                } else {
                    check("mdb_txn_begin", rc)?;
                }
                self.rtxn_live = true;
            } else if !self.rtxn_live {
                self.renew_reader()?;
            } else if ffi::mdb_txn_id(self.rtxn) != self.env_info().me_last_txnid {
                // Another process committed since: read the newest snapshot.
                ffi::mdb_txn_reset(self.rtxn);
                self.rtxn_live = false;
                self.renew_reader()?;
            }
        }
        Ok(self.rtxn)
    }

    /// Renews the parked read transaction, adopting a map another process
    /// has grown (MDB_MAP_RESIZED).
    fn renew_reader(&mut self) -> Result<()> {
        // SAFETY: rtxn is our parked read-only transaction.
        let mut rc = unsafe { ffi::mdb_txn_renew(self.rtxn) };
        if rc == ffi::MDB_MAP_RESIZED {
            self.adopt_map_size()?;
            rc = unsafe { ffi::mdb_txn_renew(self.rtxn) };
        }
        check("mdb_txn_renew", rc)?;
        self.rtxn_live = true;
        Ok(())
    }

    /// Takes over the map size another process set (no transaction of this
    /// process may be active: the reader is parked, no write txn is open).
    fn adopt_map_size(&mut self) -> Result<()> {
        if !self.txns.is_empty() {
            return Err(Error::Locked("the map was resized by another process during a transaction".into()));
        }
        self.park_reader();
        // SAFETY: size 0 adopts the size currently in use by the environment.
        check("mdb_env_set_mapsize", unsafe { ffi::mdb_env_set_mapsize(self.env, 0) })
    }

    /// Grows the map when it is half full (or a write ran out of room),
    /// before a new outermost write transaction starts.
    fn ensure_room(&mut self) -> Result<()> {
        let info = self.env_info();
        let psize = self.page_size() as usize;
        let used = (info.me_last_pgno + 1) * psize;
        let size = info.me_mapsize;
        if self.grow || used * 2 > size {
            let new = (size * 2).max(used * 4);
            self.park_reader();
            // SAFETY: no transaction of this process is active on the env
            // (the reader is parked, no write transaction is open).
            check("mdb_env_set_mapsize", unsafe { ffi::mdb_env_set_mapsize(self.env, new) })?;
            self.grow = false;
        }
        Ok(())
    }

    fn begin_txn(&mut self) -> Result<()> {
        self.check_writable()?;
        let parent = match self.txns.last() {
            Some(&p) => {
                self.check_thread()?;
                p
            }
            None => {
                self.ensure_room()?;
                self.park_reader();
                null_mut()
            }
        };
        let mut t = null_mut();
        // SAFETY: parent is NULL or our innermost open write transaction.
        let mut rc = unsafe { ffi::mdb_txn_begin(self.env, parent, 0, &mut t) };
        if rc == ffi::MDB_MAP_RESIZED && parent.is_null() {
            self.adopt_map_size()?;
            rc = unsafe { ffi::mdb_txn_begin(self.env, parent, 0, &mut t) };
        }
        check("mdb_txn_begin", rc)?;
        if self.txns.is_empty() {
            self.owner = Some(std::thread::current().id());
        }
        self.txns.push(t);
        Ok(())
    }

    fn end_txn(&mut self, commit: bool) -> Result<()> {
        let Some(t) = self.txns.pop() else { return Err(Error::NoTransaction) };
        if self.txns.is_empty() {
            self.owner = None;
        }
        // SAFETY: t is our innermost open write transaction; it is consumed.
        let rc = unsafe {
            if commit {
                ffi::mdb_txn_commit(t)
            } else {
                ffi::mdb_txn_abort(t);
                0
            }
        };
        if rc == ffi::MDB_MAP_FULL {
            self.grow = true;
        }
        check("mdb_txn_commit", rc)
    }

    /// Runs a write: in the open transaction, or in a transaction of its
    /// own (retried after growing the map if it ran out of room).
    fn write<R>(&mut self, mut f: impl FnMut(&mut Self, *mut ffi::MDB_txn) -> Result<R>) -> Result<R> {
        self.check_writable()?;
        if let Some(&t) = self.txns.last() {
            self.check_thread()?;
            let r = f(self, t);
            if let Err(Error::DiskFull(_)) = &r {
                self.grow = true;
                // LMDB's transaction is unusable after a full map: end the
                // outermost one if that is where it happened.
                if self.txns.len() == 1 {
                    let _ = self.end_txn(false);
                }
            }
            return r;
        }
        for attempt in 0.. {
            self.begin_txn()?;
            let t = *self.txns.last().expect("txn");
            match f(self, t) {
                Ok(v) => match self.end_txn(true) {
                    Ok(()) => return Ok(v),
                    Err(Error::DiskFull(_)) if attempt < 8 => continue,
                    Err(e) => return Err(e),
                },
                Err(e) => {
                    let _ = self.end_txn(false);
                    match e {
                        Error::DiskFull(_) if attempt < 8 => {
                            self.grow = true;
                            continue;
                        }
                        e => return Err(e),
                    }
                }
            }
        }
        unreachable!()
    }

    fn get_raw(&mut self, dbi: ffi::MDB_dbi, key: u64) -> Result<Option<&[u8]>> {
        let txn = self.read_txn()?;
        let mut k = key_val(&key);
        let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
        // SAFETY: txn and dbi are open; the value stays valid until the next
        // operation on this engine, beyond the returned borrow.
        match unsafe { ffi::mdb_get(txn, dbi, &mut k, &mut v) } {
            0 => Ok(Some(unsafe { val_bytes(&v) })),
            ffi::MDB_NOTFOUND => Ok(None),
            rc => Err(err("mdb_get", rc)),
        }
    }

    fn put_raw(
        txn: *mut ffi::MDB_txn,
        dbi: ffi::MDB_dbi,
        key: u64,
        header: Option<(u64, u64)>,
        data: &[u8],
        flags: c_uint,
    ) -> Result<bool> {
        if data.len() > MAX_VALUE {
            return Err(Error::TooBig(format!(
                "a value of {} bytes exceeds the engine's limit of {MAX_VALUE} bytes",
                data.len()
            )));
        }
        let mut k = key_val(&key);
        let len = data.len() + if header.is_some() { HEADER } else { 0 };
        let mut v = ffi::MDB_val { mv_size: len, mv_data: null_mut() };
        // SAFETY: MDB_RESERVE hands back `len` writable bytes in the txn.
        unsafe {
            match ffi::mdb_put(txn, dbi, &mut k, &mut v, flags | ffi::MDB_RESERVE) {
                0 => {}
                ffi::MDB_KEYEXIST => return Ok(false),
                rc => return Err(err("mdb_put", rc)),
            }
            let out = v.mv_data as *mut u8;
            let mut off = 0;
            if let Some((term, cmd)) = header {
                std::ptr::copy_nonoverlapping(term.to_ne_bytes().as_ptr(), out, 8);
                std::ptr::copy_nonoverlapping(cmd.to_ne_bytes().as_ptr(), out.add(8), 8);
                off = HEADER;
            }
            std::ptr::copy_nonoverlapping(data.as_ptr(), out.add(off), data.len());
        }
        Ok(true)
    }

    fn del_raw(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, key: u64) -> Result<bool> {
        let mut k = key_val(&key);
        // SAFETY: txn and dbi are open.
        match unsafe { ffi::mdb_del(txn, dbi, &mut k, null_mut()) } {
            0 => Ok(true),
            ffi::MDB_NOTFOUND => Ok(false),
            rc => Err(err("mdb_del", rc)),
        }
    }

    /// Visits `[lo, hi]` of `dbi` in `dir` order: `f(key, value)`.
    #[inline]
    fn cursor_scan(
        txn: *mut ffi::MDB_txn,
        dbi: ffi::MDB_dbi,
        lo: u64,
        hi: u64,
        dir: Dir,
        mut f: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<()> {
        if lo > hi {
            return Ok(());
        }
        // SAFETY: the cursor lives only inside this function, in an open txn.
        unsafe {
            let mut cur = null_mut();
            check("mdb_cursor_open", ffi::mdb_cursor_open(txn, dbi, &mut cur))?;
            let mut k;
            let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
            let get = |k: &mut ffi::MDB_val, v: &mut ffi::MDB_val, op| ffi::mdb_cursor_get(cur, k, v, op);
            let mut rc;
            match dir {
                Dir::Forward => {
                    k = key_val(&lo);
                    rc = get(&mut k, &mut v, ffi::MDB_SET_RANGE);
                }
                Dir::Backward => {
                    k = key_val(&hi);
                    rc = get(&mut k, &mut v, ffi::MDB_SET_RANGE);
                    if rc == ffi::MDB_NOTFOUND {
                        rc = get(&mut k, &mut v, ffi::MDB_LAST);
                    } else if rc == 0 && val_key(&k) > hi {
                        rc = get(&mut k, &mut v, ffi::MDB_PREV);
                    }
                }
            }
            let result = loop {
                if rc == ffi::MDB_NOTFOUND {
                    break Ok(());
                }
                if rc != 0 {
                    break Err(err("mdb_cursor_get", rc));
                }
                let key = val_key(&k);
                let inside = match dir {
                    Dir::Forward => key <= hi,
                    Dir::Backward => key >= lo,
                };
                if !inside || !f(key, val_bytes(&v)) {
                    break Ok(());
                }
                rc = get(&mut k, &mut v, if dir == Dir::Forward { ffi::MDB_NEXT } else { ffi::MDB_PREV });
            };
            ffi::mdb_cursor_close(cur);
            result
        }
    }

    /// Deletes every key of `[lo, hi]` from `dbi`: always re-seeks from `lo`,
    /// so nothing outside the range is ever touched.
    fn delete_range_raw(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, lo: u64, hi: u64) -> Result<u64> {
        if lo > hi {
            return Ok(0);
        }
        let mut n = 0u64;
        // SAFETY: cursor confined to this function, txn open.
        unsafe {
            let mut cur = null_mut();
            check("mdb_cursor_open", ffi::mdb_cursor_open(txn, dbi, &mut cur))?;
            let result = loop {
                let mut k = key_val(&lo);
                let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
                match ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_SET_RANGE) {
                    ffi::MDB_NOTFOUND => break Ok(n),
                    0 => {}
                    rc => break Err(err("mdb_cursor_get", rc)),
                }
                if val_key(&k) > hi {
                    break Ok(n);
                }
                let rc = ffi::mdb_cursor_del(cur, 0);
                if rc != 0 {
                    break Err(err("mdb_cursor_del", rc));
                }
                n += 1;
            };
            ffi::mdb_cursor_close(cur);
            result
        }
    }

    fn plain_config(&self) -> Config {
        Config {
            cache_size_bytes: 0,
            vfs_name: None,
            journal_mode: crate::config::JournalMode::Wal,
            sync_mode: SyncMode::Full,
            recursive_triggers: true,
            foreign_keys: false,
            read_only: false,
            busy_timeout_ms: 0,
            mmap_size_bytes: 0,
            page_size: 0,
        }
    }

    /// The configuration as in effect (map size and page size read back).
    fn effective(&self) -> Config {
        let mut c = self.config.clone();
        c.mmap_size_bytes = self.env_info().me_mapsize.min(i32::MAX as usize) as i32;
        c.page_size = self.page_size() as i32;
        c.read_only = self.read_only;
        c
    }

    fn set_sync(&mut self, mode: SyncMode) -> Result<()> {
        let off = (mode == SyncMode::Off) as c_int;
        if self.opened_read_only {
            return Ok(());
        }
        // SAFETY: env open; MDB_NOSYNC may be toggled at any time.
        check("mdb_env_set_flags", unsafe { ffi::mdb_env_set_flags(self.env, ffi::MDB_NOSYNC, off) })
    }

    fn open_env(req: &OpenRequest<'_>) -> Result<Self> {
        let path = req.path;
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => return Err(Error::invalid("LMDB path exists but is not a directory")),
            Ok(_) => {}
            Err(_) => {
                let read_only = req.config.is_some_and(|c| c.read_only);
                if read_only {
                    return Err(Error::Io(format!("{} does not exist", path.display())));
                }
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .create(path)
                    .map_err(|e| Error::Io(format!("cannot create directory {}: {e}", path.display())))?;
            }
        }
        let claim = super::ProcessClaim::take(path)?;
        let cfg = req.config.cloned();
        let read_only = req.config.is_some_and(|c| c.read_only);
        let mut engine = Lmdb {
            env: null_mut(),
            data: 0,
            ttl: None,
            txns: Vec::new(),
            owner: None,
            rtxn: null_mut(),
            rtxn_live: false,
            dir: path.to_path_buf(),
            _claim: claim,
            opened_read_only: read_only,
            read_only,
            grow: false,
            config: Config::default(),
        };
        engine.config = cfg.clone().unwrap_or_else(|| engine.plain_config());
        // From here on, dropping `engine` releases everything (see Drop).
        let map = match req.config {
            Some(c) if c.mmap_size_bytes > 0 => c.mmap_size_bytes as usize,
            _ => DEFAULT_MAP_SIZE,
        };
        let cpath = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::invalid("path contains a NUL"))?;
        // SAFETY: standard LMDB environment set-up on handles we own.
        unsafe {
            check("mdb_env_create", ffi::mdb_env_create(&mut engine.env))?;
            check("mdb_env_set_maxdbs", ffi::mdb_env_set_maxdbs(engine.env, 2))?;
            check("mdb_env_set_mapsize", ffi::mdb_env_set_mapsize(engine.env, map))?;
            let mut flags = ffi::MDB_NOTLS;
            if read_only {
                flags |= ffi::MDB_RDONLY;
            }
            // Read through the request's reference (not the cloned Option),
            // so no byte of an absent configuration is ever looked at.
            if let Some(c) = req.config
                && c.sync_mode == SyncMode::Off
            {
                flags |= ffi::MDB_NOSYNC;
            }
            check("mdb_env_open", ffi::mdb_env_open(engine.env, cpath.as_ptr(), flags, 0o644))?;
            let mut txn = null_mut();
            let tflags = if read_only { ffi::MDB_RDONLY } else { 0 };
            check("mdb_txn_begin", ffi::mdb_txn_begin(engine.env, null_mut(), tflags, &mut txn))?;
            let dflags = ffi::MDB_INTEGERKEY | if read_only { 0 } else { ffi::MDB_CREATE };
            let mut dbi = 0;
            let rc = ffi::mdb_dbi_open(txn, c"_kvidx_data".as_ptr(), dflags, &mut dbi);
            if rc != 0 {
                ffi::mdb_txn_abort(txn);
                return Err(if rc == ffi::MDB_NOTFOUND {
                    Error::Schema("not a kvidxkit environment (no _kvidx_data database)".into())
                } else {
                    err("mdb_dbi_open", rc)
                });
            }
            engine.data = dbi;
            let rc = ffi::mdb_dbi_open(txn, c"_kvidx_ttl".as_ptr(), dflags, &mut dbi);
            match rc {
                0 => engine.ttl = Some(dbi),
                ffi::MDB_NOTFOUND if read_only => {}
                rc => {
                    ffi::mdb_txn_abort(txn);
                    return Err(err("mdb_dbi_open", rc));
                }
            }
            check("mdb_txn_commit", ffi::mdb_txn_commit(txn))?;
        }
        Ok(engine)
    }
}

impl Drop for Lmdb {
    fn drop(&mut self) {
        // SAFETY: every handle is ours; children are aborted before parents.
        unsafe {
            while let Some(t) = self.txns.pop() {
                ffi::mdb_txn_abort(t);
            }
            if !self.rtxn.is_null() {
                ffi::mdb_txn_abort(self.rtxn);
                self.rtxn = null_mut();
            }
            if !self.env.is_null() {
                ffi::mdb_env_close(self.env);
                self.env = null_mut();
            }
        }
    }
}

impl Engine for Lmdb {
    const NAME: &'static str = "LMDB";
    const ID: u32 = 2;

    fn open(req: &OpenRequest<'_>) -> Result<(Self, Config)> {
        if let Some(c) = req.config {
            c.validate()?;
        }
        let engine = Self::open_env(req)?;
        let cfg = engine.effective();
        Ok((engine, cfg))
    }

    fn close(self) -> std::result::Result<(), (Self, Error)> {
        drop(self);
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        if !self.txns.is_empty() {
            return Err(Error::TransactionActive);
        }
        self.begin_txn()
    }

    fn commit(&mut self) -> Result<()> {
        self.check_thread()?;
        while self.txns.len() > 1 {
            self.end_txn(true)?;
        }
        self.end_txn(true)
    }

    fn rollback(&mut self) -> Result<()> {
        self.check_thread()?;
        while !self.txns.is_empty() {
            self.end_txn(false)?;
        }
        Ok(())
    }

    fn savepoint(&mut self) -> Result<()> {
        self.begin_txn()
    }

    fn release_savepoint(&mut self) -> Result<()> {
        self.check_thread()?;
        self.end_txn(true)
    }

    fn rollback_savepoint(&mut self) -> Result<()> {
        self.check_thread()?;
        if self.txns.is_empty() { Ok(()) } else { self.end_txn(false) }
    }

    fn in_transaction(&self) -> bool {
        !self.txns.is_empty()
    }

    fn get(&mut self, key: u64, data: &mut Vec<u8>) -> Result<Option<(u64, u64)>> {
        let dbi = self.data;
        data.clear();
        Ok(self.get_raw(dbi, key)?.map(|v| {
            let (term, cmd, d) = unpack(v);
            data.extend_from_slice(d);
            (term, cmd)
        }))
    }

    fn exists(&mut self, key: u64) -> Result<bool> {
        let dbi = self.data;
        Ok(self.get_raw(dbi, key)?.is_some())
    }

    fn term(&mut self, key: u64) -> Result<Option<u64>> {
        let dbi = self.data;
        Ok(self.get_raw(dbi, key)?.map(|v| unpack(v).0))
    }

    fn scan<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, mut f: F) -> Result<()> {
        let txn = self.read_txn()?;
        Self::cursor_scan(txn, self.data, lo, hi, dir, |key, v| {
            let (term, cmd, data) = unpack(v);
            f(Row { key, term, cmd, data })
        })
    }

    fn count(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let txn = self.read_txn()?;
        if lo == 0 && hi == u64::MAX {
            // SAFETY: txn and dbi open.
            unsafe {
                let mut st: ffi::MDB_stat = std::mem::zeroed();
                check("mdb_stat", ffi::mdb_stat(txn, self.data, &mut st))?;
                return Ok(st.ms_entries as u64);
            }
        }
        let mut n = 0u64;
        Self::cursor_scan(txn, self.data, lo, hi, Dir::Forward, |_, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }

    fn max_value_len(&self) -> usize {
        MAX_VALUE
    }

    fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        let dbi = self.data;
        self.write(|_, t| Self::put_raw(t, dbi, key, Some((term, cmd)), data, ffi::MDB_NOOVERWRITE))
    }

    fn put(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        let dbi = self.data;
        self.write(|_, t| Self::put_raw(t, dbi, key, Some((term, cmd)), data, 0).map(|_| ()))
    }

    fn update(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        let dbi = self.data;
        self.write(|_, t| {
            let mut k = key_val(&key);
            let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
            // SAFETY: txn and dbi open.
            match unsafe { ffi::mdb_get(t, dbi, &mut k, &mut v) } {
                ffi::MDB_NOTFOUND => Ok(false),
                0 => Self::put_raw(t, dbi, key, Some((term, cmd)), data, 0),
                rc => Err(err("mdb_get", rc)),
            }
        })
    }

    fn delete(&mut self, key: u64) -> Result<bool> {
        let dbi = self.data;
        self.write(|_, t| Self::del_raw(t, dbi, key))
    }

    fn delete_range(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let dbi = self.data;
        self.write(|_, t| Self::delete_range_raw(t, dbi, lo, hi))
    }

    fn ttl_scan(&mut self, f: &mut dyn FnMut(u64, u64)) -> Result<()> {
        let Some(dbi) = self.ttl else { return Ok(()) };
        let txn = self.read_txn()?;
        Self::cursor_scan(txn, dbi, 0, u64::MAX, Dir::Forward, |k, v| {
            let mut at = [0u8; 8];
            at[..v.len().min(8)].copy_from_slice(&v[..v.len().min(8)]);
            f(k, u64::from_ne_bytes(at));
            true
        })
    }

    fn ttl_put(&mut self, key: u64, expires_at: u64) -> Result<()> {
        let dbi = self.ttl.ok_or_else(|| Error::ReadOnly("no TTL database".into()))?;
        let bytes = expires_at.to_ne_bytes();
        self.write(|_, t| Self::put_raw(t, dbi, key, None, &bytes, 0).map(|_| ()))
    }

    fn ttl_delete(&mut self, key: u64) -> Result<()> {
        let Some(dbi) = self.ttl else { return Ok(()) };
        self.write(|_, t| Self::del_raw(t, dbi, key).map(|_| ()))
    }

    fn ttl_delete_range(&mut self, lo: u64, hi: u64) -> Result<()> {
        let Some(dbi) = self.ttl else { return Ok(()) };
        self.write(|_, t| Self::delete_range_raw(t, dbi, lo, hi).map(|_| ()))
    }

    fn file_stats(&mut self) -> Result<FileStats> {
        // LMDB lets only read-only transactions read the free-page database.
        let txn = self.snapshot_txn()?;
        let mut free = 0u64;
        // The free-page database (dbi 0): each record lists page numbers,
        // its first word being how many.
        Self::cursor_scan(txn, 0, 0, u64::MAX, Dir::Forward, |_, v| {
            if v.len() >= 8 {
                free += u64::from_ne_bytes(v[..8].try_into().unwrap());
            }
            true
        })?;
        let info = self.env_info();
        let file = std::fs::metadata(self.dir.join("data.mdb")).map(|m| m.len()).unwrap_or(0);
        Ok(FileStats {
            database_file_size: file,
            wal_file_size: 0,
            page_count: info.me_last_pgno as u64 + 1,
            page_size: self.page_size(),
            free_pages: free,
        })
    }

    fn apply_config(&mut self, cfg: &Config) -> Result<Config> {
        cfg.validate()?;
        if !cfg.read_only && self.opened_read_only {
            return Err(Error::ReadOnly("the environment was opened read-only; reopen it to write".into()));
        }
        if cfg.mmap_size_bytes > 0 {
            let want = cfg.mmap_size_bytes as usize;
            if want != self.env_info().me_mapsize {
                if !self.txns.is_empty() {
                    return Err(Error::TransactionActive);
                }
                self.park_reader();
                // SAFETY: no transaction of this process is active.
                check("mdb_env_set_mapsize", unsafe { ffi::mdb_env_set_mapsize(self.env, want) })?;
            }
        }
        let before = self.config.sync_mode;
        self.set_sync(cfg.sync_mode)?;
        self.read_only = cfg.read_only;
        let mut c = cfg.clone();
        if c.sync_mode != before {
            c.sync_mode = cfg.sync_mode;
        }
        self.config = c;
        Ok(self.effective())
    }

    fn refresh_config(&mut self, cfg: &mut Config) {
        cfg.mmap_size_bytes = self.env_info().me_mapsize.min(i32::MAX as usize) as i32;
    }

    fn sync(&mut self) -> Result<()> {
        if self.opened_read_only {
            return Ok(());
        }
        // SAFETY: env open; force = 1 flushes even with MDB_NOSYNC.
        check("mdb_env_sync", unsafe { ffi::mdb_env_sync(self.env, 1) })
    }
}
