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
//!
//! Damaged files: LMDB has no checksums and trusts what it reads. It checks
//! that a page number is below the last committed page, that a page it
//! descends to is a branch or a leaf, and the meta pages' magic and
//! version. The engine adds: at open, that `data.mdb` covers every
//! committed page (a shorter file would raise SIGBUS on the first read of
//! a missing page) and that the records describing the two databases are
//! plausible (flags, depth, page and entry counts); on every read, that the
//! record is well formed (an 8-byte key; a data value of at least its
//! 16-byte header, a TTL value of exactly 8 bytes) and lies inside the
//! committed part of the map; in every scan, that keys advance strictly in
//! the scan direction and stay in the range asked for. Anything else is
//! [`Error::Corrupt`], which ends the operation.

use std::ffi::{CStr, CString, c_int, c_uint, c_void};
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr::null_mut;
use std::sync::Arc;

use super::lmdb_ffi as ffi;
use super::lmdb_pins::{Pin, Registry, Slot};

use crate::admin::{Check, CompactReport};
use crate::config::{Config, FileStats, SyncMode};
use crate::engine::{Dir, Engine, OpenRequest, RECORD_HEADER, Record, RecordBuf, Row, ScanPin, thread_token};
use crate::error::{Error, Result};

mod admin;

/// Initial map size of a plain open (the original's 1 GiB);
/// [`Config::mmap_size_bytes`] chooses another. The map grows by itself.
pub const DEFAULT_MAP_SIZE: usize = 1 << 30;
const HEADER: usize = RECORD_HEADER;
/// Largest value stored (bytes of data): the order of SQLite's row limit,
/// far below LMDB's own (4 GiB), so that one call cannot grow the map by
/// gigabytes.
pub(crate) const MAX_VALUE: usize = 1_000_000_000;
/// LMDB's cursor stack: no B-tree is deeper.
const MAX_DEPTH: u32 = 32;
/// How many times an operation that met MDB_MAP_RESIZED adopts the new size
/// and tries again (another process may keep growing the map meanwhile).
const RESIZE_RETRIES: usize = 1000;

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
        ffi::MDB_CORRUPTED
        | ffi::MDB_PAGE_NOTFOUND
        | ffi::MDB_INVALID
        | ffi::MDB_VERSION_MISMATCH
        | ffi::MDB_INCOMPATIBLE
        | ffi::MDB_CURSOR_FULL
        | ffi::MDB_PAGE_FULL => Error::Corrupt(text),
        // LMDB ignores the error of refreshing a database's record when a
        // cursor is set up, then refuses the transaction: after a damaged
        // page, this can be the first error that comes out.
        ffi::MDB_BAD_TXN => Error::Corrupt(format!("{text} (a page read earlier in it is damaged)")),
        // The library never closes a database handle: a record of a named
        // database that can no longer be found is a damaged directory page.
        ffi::MDB_BAD_DBI => Error::Corrupt(format!("{text} (the page naming the databases is damaged)")),
        ffi::MDB_BAD_VALSIZE => Error::TooBig(text),
        ffi::MDB_PANIC => Error::Io(text),
        rc if rc > 0 => Error::from_errno(rc, text),
        _ => Error::Internal(text),
    }
}

fn check(op: &str, rc: c_int) -> Result<()> {
    if rc == 0 { Ok(()) } else { Err(err(op, rc)) }
}

/// True for the error a write that outgrew the map gives (the map grows
/// before the next transaction).
fn is_map_full(e: &Error) -> bool {
    matches!(e, Error::DiskFull(t) if t.contains("MDB_MAP_FULL"))
}

#[cold]
#[inline(never)]
fn other_thread() -> Error {
    Error::Locked("the open transaction belongs to another thread".into())
}

#[cold]
#[inline(never)]
fn read_only() -> Error {
    Error::ReadOnly("the instance is configured read-only".into())
}

#[cold]
#[inline(never)]
fn too_big(len: usize) -> Error {
    Error::TooBig(format!("a value of {len} bytes exceeds the engine's limit of {MAX_VALUE} bytes"))
}

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("LMDB: {what}"))
}

/// Moves `cur` one record (`op`: MDB_NEXT or MDB_PREV): the result code and
/// the record, not yet checked.
///
/// # Safety
/// `cur` is an open cursor of a live transaction.
#[inline]
unsafe fn step(cur: *mut ffi::MDB_cursor, op: ffi::MDB_cursor_op) -> (c_int, ffi::MDB_val, ffi::MDB_val) {
    let mut k = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
    let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
    // SAFETY: the caller's cursor; LMDB fills k and v.
    let rc = unsafe { ffi::mdb_cursor_get(cur, &mut k, &mut v, op) };
    (rc, k, v)
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
        // SAFETY: LMDB hands out mv_size readable bytes valid for the txn
        // (checked against the map by `Bounds::record_ok` first).
        unsafe { std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size) }
    }
}

/// The bytes of a value that `Bounds::record_ok` accepted with its value
/// (every kind's value is at least 8 bytes long, inside the map or in a
/// write transaction's page: never empty, never NULL).
///
/// # Safety
/// `v` passed `record_ok(kind, k, v, true)` in the live transaction.
#[inline(always)]
unsafe fn checked_bytes<'a>(v: &ffi::MDB_val) -> &'a [u8] {
    debug_assert!(v.mv_size > 0 && !v.mv_data.is_null());
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size) }
}

/// A record checked by [`Bounds::record_ok`] as the core keeps it.
#[inline(always)]
unsafe fn record(k: &ffi::MDB_val, v: &ffi::MDB_val) -> Record {
    // SAFETY: as the caller promises (an 8-byte key).
    Record { key: unsafe { val_key(k) }, size: v.mv_size, addr: v.mv_data as usize }
}

/// True if `key`, read after `prev` in a `dir` scan of `[lo, hi]`, is the
/// next key of the scan: strictly past `prev` and still inside the range.
#[inline(always)]
fn follows(dir: Dir, key: u64, prev: u64, lo: u64, hi: u64) -> bool {
    match dir {
        Dir::Forward => key > prev && key <= hi,
        Dir::Backward => key < prev && key >= lo,
    }
}

/// The key of a record already checked to be 8 bytes.
#[inline]
unsafe fn val_key(v: &ffi::MDB_val) -> u64 {
    // SAFETY: an integer key of 8 bytes, possibly unaligned in the map.
    unsafe { std::ptr::read_unaligned(v.mv_data as *const u64) }
}

/// Splits a stored value (at least HEADER bytes, checked) into (term, cmd, data).
#[inline]
fn unpack(v: &[u8]) -> (u64, u64, &[u8]) {
    debug_assert!(v.len() >= HEADER);
    // SAFETY: at least HEADER bytes; reads may be unaligned in the map.
    let (term, cmd) = unsafe {
        (std::ptr::read_unaligned(v.as_ptr() as *const u64), std::ptr::read_unaligned(v.as_ptr().add(8) as *const u64))
    };
    (term, cmd, &v[HEADER..])
}

/// Which keyspace a record comes from: what a well-formed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `_kvidx_data`: term, cmd, value — at least 16 bytes.
    Data,
    /// `_kvidx_ttl`: an 8-byte expiry.
    Ttl,
    /// LMDB's free-page database: a count and that many page numbers.
    Free,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Data => "_kvidx_data",
            Kind::Ttl => "_kvidx_ttl",
            Kind::Free => "free-page database",
        }
    }

    #[inline]
    fn value_ok(self, len: usize) -> bool {
        match self {
            Kind::Data => len >= HEADER,
            Kind::Ttl => len == 8,
            Kind::Free => len >= 8 && len.is_multiple_of(8),
        }
    }
}

/// Where records may lie: the committed part of the map of `data.mdb`
/// (or, in a write transaction, pages LMDB holds in memory or spilled to
/// the file). Copied into each read; refreshed when the map moves or a
/// newer snapshot is taken.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    /// Start of the map; 0 if it could not be located (checks off).
    base: usize,
    /// End of the map (base + map size).
    map_end: usize,
    /// End of the last committed page when the snapshot was taken.
    committed_end: usize,
    /// A write transaction is open.
    write: bool,
    /// `data.mdb`, for the rare check against its current size.
    fd: c_int,
}

impl Bounds {
    /// True if `len` bytes at `p` can be read without touching memory
    /// beyond the file.
    #[inline]
    fn readable(&self, p: *const c_void, len: usize) -> bool {
        let a = p as usize;
        if self.base == 0 {
            return !p.is_null();
        }
        if a < self.base || a >= self.map_end {
            // Not in the map: a page a write transaction holds in memory.
            return self.write && !p.is_null();
        }
        match a.checked_add(len) {
            Some(end) if end <= self.committed_end => true,
            // A page a large write transaction spilled to the file.
            Some(end) if self.write && end <= self.map_end => end - self.base <= file_len(self.fd) as usize,
            _ => false,
        }
    }

    /// Validates a record of `kind`: an 8-byte key and a well-formed value
    /// whose bytes can be read (checked only if `value`: a count never
    /// reads them). The key's 8 bytes need no check: LMDB hands out only
    /// nodes of pages its page check accepted, and a node of such a page
    /// lies within 64 KiB of it, inside the file (in the last pages of the
    /// file, inside the page).
    #[inline(always)]
    fn record_ok(&self, kind: Kind, k: &ffi::MDB_val, v: &ffi::MDB_val, value: bool) -> bool {
        if k.mv_size != 8 || !kind.value_ok(v.mv_size) {
            return false;
        }
        if !value {
            return true;
        }
        let va = v.mv_data as usize;
        // The common case: inside the committed part of the map.
        (va >= self.base && va <= self.committed_end && v.mv_size <= self.committed_end - va)
            || self.readable(v.mv_data, v.mv_size)
    }
}

/// How far beyond the start of a damaged page LMDB may read: its node
/// pointers (up to 65 535 of them, 2 bytes each, after the header), or a
/// node at a 16-bit offset with its header, a 16-bit key size, then an
/// 8-byte overflow page number (`KVX_TAIL_BYTES` in the bundled mdb.c).
const NODE_REACH: u64 = 2 * 65_536 + 64;

/// Records a scan takes from a leaf page per call (csrc/lmdb patch 4).
const RUN: usize = 64;

/// Where a scan ([`Lmdb::walk`]) takes its records after the first.
trait Records {
    /// The following record: 0, MDB_NOTFOUND at the end, or an error.
    ///
    /// # Safety
    /// The cursor behind it is open in a live transaction.
    unsafe fn next(&mut self, k: &mut ffi::MDB_val, v: &mut ffi::MDB_val) -> c_int;

    /// Records already read ahead (not yet checked), in scan order.
    fn ahead(&self) -> (&[ffi::MDB_val], &[ffi::MDB_val]) {
        (&[], &[])
    }

    /// The first `n` records of [`Records::ahead`] were used.
    fn took(&mut self, _n: usize) {}
}

/// One cursor step per record.
struct Step<F>(F);

impl<F: FnMut(&mut ffi::MDB_val, &mut ffi::MDB_val) -> c_int> Records for Step<F> {
    #[inline(always)]
    unsafe fn next(&mut self, k: &mut ffi::MDB_val, v: &mut ffi::MDB_val) -> c_int {
        (self.0)(k, v)
    }
}

/// A leaf page's records at a time (`mdb_cursor_run`), one cursor step at
/// the page's edge.
struct Runs {
    cur: *mut ffi::MDB_cursor,
    dir: c_int,
    step: c_uint,
    /// Left uninitialised: a scan that reads one record (a neighbour read)
    /// never touches them; only the first `n` (written by the call) are read.
    keys: [MaybeUninit<ffi::MDB_val>; RUN],
    vals: [MaybeUninit<ffi::MDB_val>; RUN],
    n: usize,
    i: usize,
}

impl Runs {
    #[inline(always)]
    fn new(cur: *mut ffi::MDB_cursor, dir: Dir) -> Self {
        let (d, step) = if dir == Dir::Forward { (1, ffi::MDB_NEXT) } else { (-1, ffi::MDB_PREV) };
        Runs {
            cur,
            dir: d,
            step,
            keys: [const { MaybeUninit::uninit() }; RUN],
            vals: [const { MaybeUninit::uninit() }; RUN],
            n: 0,
            i: 0,
        }
    }
}

impl Records for Runs {
    #[inline(always)]
    unsafe fn next(&mut self, k: &mut ffi::MDB_val, v: &mut ffi::MDB_val) -> c_int {
        // SAFETY: the caller's cursor; the call writes the first n entries.
        unsafe {
            if self.i == self.n {
                let (pk, pv) =
                    (self.keys.as_mut_ptr() as *mut ffi::MDB_val, self.vals.as_mut_ptr() as *mut ffi::MDB_val);
                self.n = (ffi::mdb_cursor_run(self.cur, self.dir, pk, pv, RUN as c_uint) as usize).min(RUN);
                self.i = 0;
                if self.n == 0 {
                    return ffi::mdb_cursor_get(self.cur, k, v, self.step);
                }
            }
            *k = self.keys[self.i].assume_init();
            *v = self.vals[self.i].assume_init();
        }
        self.i += 1;
        0
    }

    #[inline(always)]
    fn ahead(&self) -> (&[ffi::MDB_val], &[ffi::MDB_val]) {
        let (i, n) = (self.i.min(self.n), self.n);
        // SAFETY: entries [0, n) were written by the last mdb_cursor_run.
        unsafe {
            (
                std::slice::from_raw_parts(self.keys.as_ptr().add(i) as *const ffi::MDB_val, n - i),
                std::slice::from_raw_parts(self.vals.as_ptr().add(i) as *const ffi::MDB_val, n - i),
            )
        }
    }

    #[inline(always)]
    fn took(&mut self, n: usize) {
        self.i += n;
    }
}

/// A point read of a key at most this far from the previous read's key goes
/// through the kept read cursor (about a leaf page of consecutive keys).
const NEAR_KEYS: u64 = 64;

/// Checks the committed pages close enough to the end of the file that a
/// damaged page could make LMDB read beyond it (SIGBUS): each that the
/// bundled LMDB would accept there (its own page number, a branch or leaf
/// page with sane bounds; it refuses any other page that close to the end)
/// must have every node and key inside it. Pages further from the end
/// cannot be read past the end of the file, and pages written after open
/// are LMDB's own: nothing LMDB reads lies beyond the file. Reads at most
/// `NODE_REACH / page size + 1` pages (about 130 KiB).
fn check_tail(fd: c_int, psize: u64, pages: u64, file: u64) -> Result<()> {
    let first = file.saturating_sub(NODE_REACH + psize) / psize;
    let mut page = vec![0u8; psize as usize];
    let u16at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as u64;
    for pg in first.max(2)..pages {
        // SAFETY: reads into our buffer of psize bytes.
        let n = unsafe { libc::pread(fd, page.as_mut_ptr() as *mut c_void, page.len(), (pg * psize) as libc::off_t) };
        if n != psize as isize {
            return Err(corrupt(format_args!("page {pg} of data.mdb cannot be read")));
        }
        let own = u64::from_le_bytes(page[..8].try_into().expect("8 bytes")) == pg;
        let flags = u16at(&page, 10);
        let (lower, upper) = (u16at(&page, 12), u16at(&page, 14));
        let (branch, leaf) = (flags & 0x01 != 0, flags & 0x02 != 0);
        if !own || !(branch || leaf) {
            // LMDB refuses a page without its own number, and reads no node
            // of an overflow page (one reached as a tree page is not a leaf).
            continue;
        }
        if lower < 18 || lower > upper || upper > psize || (lower - 16) % 2 != 0 {
            // Refused by LMDB if a read ever reaches it (a free page can be
            // like this in a sound file).
            continue;
        }
        for i in 0..(lower - 16) / 2 {
            let off = u16at(&page, 16 + 2 * i as usize);
            let fits = off >= upper && off + 8 <= psize && {
                let nflags = u16at(&page, off as usize + 4);
                let ksize = u16at(&page, off as usize + 6);
                // A key is compared 8 bytes at a time (the first key of a
                // branch page is empty and never compared).
                let key = if branch && i == 0 { ksize } else { ksize.max(8) };
                let over = if leaf && nflags & 0x01 != 0 { 8 } else { 0 };
                off + 8 + key + over <= psize
            };
            if !fits {
                return Err(corrupt(format_args!("page {pg} near the end of data.mdb has a node outside it")));
            }
        }
    }
    Ok(())
}

/// [`check_tail`] for an open that cannot hold the writer lock: a failure
/// is checked again a few times, 2 ms apart, and reported only if it stays.
fn check_tail_settled(fd: c_int, psize: u64, pages: u64, file: u64) -> Result<()> {
    let mut tries = 0;
    loop {
        match check_tail(fd, psize, pages, file) {
            Err(_) if tries < 4 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            r => return r,
        }
    }
}

/// CORRUPT for a data.mdb of `have` bytes whose committed pages need `need`.
fn truncated(have: u64, need: u64) -> Error {
    corrupt(format_args!("data.mdb is {have} bytes but its committed pages end at byte {need} (the file is truncated)"))
}

fn file_len(fd: c_int) -> u64 {
    // SAFETY: fstat fills a plain struct.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) == 0 { st.st_size as u64 } else { 0 }
    }
}

/// True if a write that failed with EIO most likely ran out of space: LMDB
/// reports a short write (the file system filled up, or the file reached
/// the process's file-size limit in the middle of a write) as EIO.
fn out_of_space(dir: &std::path::Path, psize: u64) -> bool {
    let len = std::fs::metadata(dir.join("data.mdb")).map(|m| m.len()).unwrap_or(0);
    // SAFETY: getrlimit, statvfs and geteuid fill plain structs.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_FSIZE, &mut rl) == 0
            && rl.rlim_cur != libc::RLIM_INFINITY
            && len.saturating_add(psize) >= rl.rlim_cur
        {
            return true;
        }
        let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else { return false };
        let mut vfs: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut vfs) != 0 {
            return false;
        }
        let blocks = if libc::geteuid() == 0 { vfs.f_bfree } else { vfs.f_bavail };
        (blocks as u64).saturating_mul(vfs.f_frsize as u64) < 1 << 20
    }
}

/// The LMDB engine (feature `lmdb`): `Store<Lmdb>` keeps its data in an
/// LMDB environment, a directory, in the original kvidxkit's layout.
///
/// The directory (created if missing; its parent must exist) holds
/// `data.mdb` and `lock.mdb`, with the named databases `_kvidx_data` (key →
/// term, cmd, value) and `_kvidx_ttl` (key → expiry in Unix milliseconds).
/// LMDB 0.9.70 is compiled into the crate (its symbols renamed, so another
/// LMDB in the same program does not clash), with checks against damaged
/// files ([`Error::Corrupt`] instead of a crash).
///
/// Reads come straight from a memory map; readers never block and are
/// never blocked. Several processes may use one environment at once (one
/// writer at a time); each store takes in what others commit at its next
/// call. An environment can be open only once per process (a second open
/// is [`Error::Locked`]). A transaction begun with
/// [`Store::begin`](crate::Store::begin) belongs to its thread: calls from
/// another thread fail with [`Error::Locked`] until it ends.
///
/// The map starts at [`DEFAULT_MAP_SIZE`] (or [`Config::mmap_size_bytes`])
/// and doubles by itself when half full; a single transaction that
/// outgrows the whole map is rolled back with [`Error::DiskFull`] — retry
/// it, the map is larger by then. Values up to 1 000 000 000 bytes.
/// [`SyncMode::Off`](crate::SyncMode::Off) skips the flush at commit; every
/// other mode flushes each commit.
pub struct Lmdb {
    env: *mut ffi::MDB_env,
    data: ffi::MDB_dbi,
    /// None only for a read-only environment written without TTL support.
    ttl: Option<ffi::MDB_dbi>,
    /// Write transactions: the outermost first, nested children after it.
    txns: Vec<*mut ffi::MDB_txn>,
    /// For each of `txns`: whether it has written to the data sub-database,
    /// and the cursor its later writes use (NULL until its second write).
    /// LMDB looks on the leaf page a cursor rests on before searching from
    /// the root, so writes near the previous one (appends, runs of deletes)
    /// skip the descent. LMDB keeps a transaction's cursors valid across
    /// its children and frees them when it ends.
    wcurs: Vec<(bool, *mut ffi::MDB_cursor)>,
    /// Thread token ([`thread_token`]) of the thread whose write
    /// transaction is open (0: none).
    owner: usize,
    /// The id of the live read transaction's snapshot.
    rtxn_id: u64,
    /// The value the last `get` found (a slice of the map).
    value: (*const u8, usize),
    /// The environment's last committed transaction id, in the lock region
    /// shared by every process (one load tells whether anything changed).
    txnid_ptr: *const usize,
    rtxn: *mut ffi::MDB_txn,
    rtxn_live: bool,
    /// A cursor on the data sub-database, kept for scans in the read
    /// transaction (opening one allocates); bound to the read transaction's
    /// current snapshot only while `rcur_bound`.
    rcur: *mut ffi::MDB_cursor,
    rcur_bound: bool,
    /// The key `rcur` rests on after a neighbour read, while nothing else
    /// has moved it (see [`Self::data_cursor_at`]): the next neighbour read
    /// from that key is one step, not a search from the root.
    rcur_at: Option<u64>,
    /// The key of the last point read of the data sub-database.
    last_read: u64,
    dir: PathBuf,
    /// LMDB must not open one environment twice in a process.
    _claim: super::ProcessClaim,
    opened_read_only: bool,
    read_only: bool,
    /// A write ran out of map: grow before the next transaction.
    map_full: bool,
    config: Config,
    psize: usize,
    /// `data.mdb`: its descriptor (LMDB's).
    data_fd: c_int,
    bounds: Bounds,
    /// The last transaction id whose effects the store's in-memory state
    /// reflects: loaded at open, then advanced by our own commits and by
    /// [`Engine::changed_elsewhere`].
    seen: u64,
    /// The environment's last committed transaction id when the current
    /// call began ([`Engine::changed_elsewhere`] reads it; no system call):
    /// the read snapshot is renewed when it is older.
    latest: u64,
    /// What [`Engine::changed_elsewhere`] last found, taken in as `seen` by
    /// [`Engine::took_in_changes`].
    pending: u64,
    /// Iterators' read snapshots ([`Engine::scan_records`]).
    pins: Arc<Registry>,
}

// SAFETY: the environment is opened with MDB_NOTLS, so the read transaction
// may move between threads; write transactions are checked to stay on the
// thread that began them (`owner`). The store serialises every call.
unsafe impl Send for Lmdb {}

impl Lmdb {
    #[inline]
    fn env_info(&self) -> ffi::MDB_envinfo {
        let mut info = std::mem::MaybeUninit::<ffi::MDB_envinfo>::uninit();
        // SAFETY: env is open; mdb_env_info fills every field of the struct
        // (it reads the meta pages in the map: no system call).
        unsafe {
            ffi::mdb_env_info(self.env, info.as_mut_ptr());
            info.assume_init()
        }
    }

    #[inline(always)]
    fn check_thread(&self) -> Result<()> {
        if self.owner != 0 && self.owner != thread_token() { Err(other_thread()) } else { Ok(()) }
    }

    /// The environment's last committed transaction id (any process's).
    #[inline]
    fn last_txnid(&self) -> u64 {
        if self.txnid_ptr.is_null() {
            return self.env_info().me_last_txnid as u64;
        }
        // SAFETY: the lock region stays mapped while the environment is
        // open; committing processes store this word atomically.
        let id = unsafe { &*(self.txnid_ptr as *const std::sync::atomic::AtomicUsize) };
        id.load(std::sync::atomic::Ordering::Acquire) as u64
    }

    #[inline(always)]
    fn check_writable(&self) -> Result<()> {
        if self.read_only { Err(read_only()) } else { Ok(()) }
    }

    /// Locates the map after LMDB (re)mapped the file.
    fn locate_map(&mut self) {
        let size = self.env_info().me_mapsize;
        // SAFETY: env is open.
        self.bounds.base = unsafe { ffi::mdb_env_map_address(self.env) } as usize;
        self.bounds.map_end = self.bounds.base.saturating_add(size);
        self.refresh_bounds();
    }

    /// Takes the committed end from the newest meta page (never older than
    /// the snapshot just taken: its pages are in the file).
    #[inline]
    fn refresh_bounds(&mut self) {
        let last = self.env_info().me_last_pgno;
        self.bounds.committed_end = self.bounds.base.saturating_add((last + 1).saturating_mul(self.psize));
    }

    #[inline]
    fn bounds(&self) -> Bounds {
        Bounds { write: !self.txns.is_empty(), ..self.bounds }
    }

    /// The handles of the iterator's pin, on the newest snapshot: taken at
    /// its first chunk, renewed when the environment has moved on or the
    /// map was resized since. None when no pin is to be had (every one
    /// taken, no reader slot left, or LMDB refused: the copying path then
    /// meets and reports whatever it was).
    fn pin_snapshot(&mut self, pin: &mut ScanPin) -> Option<Slot> {
        let mine = pin
            .as_deref()
            .and_then(|p| p.downcast_ref::<Pin>())
            .filter(|p| Arc::ptr_eq(&p.reg, &self.pins) && !p.failed)
            .and_then(|p| self.pins.slot(p.idx).map(|s| (p.idx, s)));
        let Some((idx, s)) = mine else {
            *pin = None;
            return self.new_pin(pin);
        };
        if s.map == Some(self.pins.map()) && s.id >= self.latest {
            return Some(s);
        }
        // What the chunk pointed to is released: the iterator is moving on.
        self.pins.update(idx, None, s.id);
        // SAFETY: the pin's live (or reset) read-only transaction; a reset
        // one is renewed onto the newest snapshot, then its cursor.
        let rc = unsafe {
            if s.map.is_some() {
                ffi::mdb_txn_reset(s.txn);
            }
            match self.resized_retry(|_| ffi::mdb_txn_renew(s.txn)) {
                Ok(0) => ffi::mdb_cursor_renew(s.txn, s.cur),
                Ok(rc) => rc,
                Err(_) => -1,
            }
        };
        if rc != 0 {
            *pin = None;
            return None;
        }
        // SAFETY: the transaction is live again.
        let id = unsafe { ffi::mdb_txn_id(s.txn) } as u64;
        let map = self.pins.map();
        self.pins.update(idx, Some(map), id);
        self.refresh_bounds();
        Some(Slot { map: Some(map), id, ..s })
    }

    /// A new pin for `pin` (see [`Self::pin_snapshot`]).
    fn new_pin(&mut self, pin: &mut ScanPin) -> Option<Slot> {
        if !self.pins.room() {
            return None;
        }
        let (mut txn, mut cur) = (null_mut(), null_mut());
        let dbi = self.data;
        // SAFETY: a read-only transaction and a cursor of our own; both are
        // ended here on failure, else by the pin.
        unsafe {
            let rc = self.resized_retry(|env| ffi::mdb_txn_begin(env, null_mut(), ffi::MDB_RDONLY, &mut txn));
            if rc != Ok(0) {
                return None;
            }
            if ffi::mdb_cursor_open(txn, dbi, &mut cur) != 0 {
                ffi::mdb_txn_abort(txn);
                return None;
            }
            let slot = Slot { txn, cur, map: Some(self.pins.map()), id: ffi::mdb_txn_id(txn) as u64 };
            match self.pins.add(slot) {
                Some(p) => *pin = Some(Box::new(p)),
                None => {
                    ffi::mdb_cursor_close(cur);
                    ffi::mdb_txn_abort(txn);
                    return None;
                }
            }
            self.refresh_bounds();
            Some(slot)
        }
    }

    /// Ends the read transaction's snapshot (before writes commit, map
    /// resizes and close).
    fn park_reader(&mut self) {
        if self.rtxn_live {
            // SAFETY: rtxn is a live read-only transaction of this env.
            unsafe { ffi::mdb_txn_reset(self.rtxn) };
            self.rtxn_live = false;
            self.rcur_bound = false;
        }
    }

    /// Ends a call's use of its transaction after an error: LMDB refuses
    /// every further operation in a transaction that met an error (a
    /// damaged page, say), so the read snapshot is released (renewed at the
    /// next read) and open write transactions are rolled back (the caller's
    /// included: it reads back as not active).
    #[inline]
    fn settle<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            if self.txns.is_empty() {
                self.park_reader();
            } else if matches!(r, Err(Error::Corrupt(_))) {
                while !self.txns.is_empty() {
                    let _ = self.end_txn(false);
                }
            }
        }
        r
    }

    /// The transaction reads use: the innermost write transaction, or the
    /// read transaction renewed if the environment has moved on.
    #[inline]
    fn read_txn(&mut self) -> Result<*mut ffi::MDB_txn> {
        if let Some(&t) = self.txns.last() {
            self.check_thread()?;
            return Ok(t);
        }
        self.snapshot_txn()
    }

    /// A cursor on the data sub-database for a scan, and whether the scan
    /// must close it: inside a write transaction a new one; otherwise the
    /// kept cursor, bound to the newest committed snapshot (no allocation).
    #[inline]
    fn data_cursor(&mut self) -> Result<(*mut ffi::MDB_cursor, bool)> {
        self.data_cursor_at().map(|(cur, owned, _)| (cur, owned))
    }

    /// [`Self::data_cursor`], and the key the kept cursor rests on if the
    /// last neighbour read left it there and nothing has moved it since
    /// (taken: the caller moves it). A cursor renewed onto a new snapshot
    /// rests nowhere.
    #[inline]
    fn data_cursor_at(&mut self) -> Result<(*mut ffi::MDB_cursor, bool, Option<u64>)> {
        let dbi = self.data;
        let mut cur = null_mut();
        if let Some(&t) = self.txns.last() {
            self.check_thread()?;
            // SAFETY: t is our open write transaction, dbi open in it.
            check("mdb_cursor_open", unsafe { ffi::mdb_cursor_open(t, dbi, &mut cur) })?;
            return Ok((cur, true, None));
        }
        let t = self.snapshot_txn()?;
        if self.rcur_bound {
            return Ok((self.rcur, false, self.rcur_at.take()));
        }
        self.rcur_at = None;
        // SAFETY: t is the live read transaction; a read-only cursor may be
        // renewed onto it once its previous transaction was reset.
        unsafe {
            if self.rcur.is_null() {
                check("mdb_cursor_open", ffi::mdb_cursor_open(t, dbi, &mut cur))?;
                self.rcur = cur;
            } else {
                check("mdb_cursor_renew", ffi::mdb_cursor_renew(t, self.rcur))?;
            }
        }
        self.rcur_bound = true;
        Ok((self.rcur, false, None))
    }

    /// The read-only transaction, on the newest committed snapshot.
    #[inline]
    fn snapshot_txn(&mut self) -> Result<*mut ffi::MDB_txn> {
        if self.rtxn_live && self.rtxn_id >= self.latest {
            return Ok(self.rtxn);
        }
        self.snapshot_txn_slow()
    }

    #[cold]
    fn snapshot_txn_slow(&mut self) -> Result<*mut ffi::MDB_txn> {
        // SAFETY: plain LMDB calls on our own handles.
        unsafe {
            if self.rtxn.is_null() {
                let mut t = null_mut();
                let rc = self.resized_retry(|env| ffi::mdb_txn_begin(env, null_mut(), ffi::MDB_RDONLY, &mut t))?;
                check("mdb_txn_begin", rc)?;
                self.rtxn = t;
                self.rtxn_live = true;
                self.rcur_bound = false;
                self.rtxn_id = ffi::mdb_txn_id(t) as u64;
                self.refresh_bounds();
            } else if !self.rtxn_live {
                self.renew_reader()?;
            } else if self.rtxn_id < self.latest {
                // Another process committed since: read the newest snapshot.
                ffi::mdb_txn_reset(self.rtxn);
                self.rtxn_live = false;
                self.rcur_bound = false;
                self.renew_reader()?;
            }
        }
        Ok(self.rtxn)
    }

    /// Renews the parked read transaction, adopting a map another process
    /// has grown (MDB_MAP_RESIZED).
    fn renew_reader(&mut self) -> Result<()> {
        let t = self.rtxn;
        // SAFETY: rtxn is our parked read-only transaction.
        let rc = self.resized_retry(|_| unsafe { ffi::mdb_txn_renew(t) })?;
        check("mdb_txn_renew", rc)?;
        self.rtxn_live = true;
        // SAFETY: t is live now.
        self.rtxn_id = unsafe { ffi::mdb_txn_id(t) } as u64;
        self.refresh_bounds();
        Ok(())
    }

    /// Runs `f` (a transaction begin) until it stops failing with
    /// MDB_MAP_RESIZED, adopting the map size another process set before
    /// each new attempt. Returns f's last result.
    fn resized_retry(&mut self, mut f: impl FnMut(*mut ffi::MDB_env) -> c_int) -> Result<c_int> {
        for _ in 0..RESIZE_RETRIES {
            let rc = f(self.env);
            if rc != ffi::MDB_MAP_RESIZED {
                return Ok(rc);
            }
            self.adopt_map_size()?;
        }
        Ok(ffi::MDB_MAP_RESIZED)
    }

    /// Takes over the map size another process set (no transaction of this
    /// process may be active: the reader is parked, no write txn is open).
    fn adopt_map_size(&mut self) -> Result<()> {
        if !self.txns.is_empty() {
            return Err(Error::Locked("the map was resized by another process during a transaction".into()));
        }
        self.park_reader();
        // Size 0 adopts the size currently in use by the environment.
        self.set_map_size(0)
    }

    /// Resizes the map (no write transaction open, the reader parked);
    /// iterators' pinned snapshots keep the old mapping (see lmdb_pins).
    fn set_map_size(&mut self, size: usize) -> Result<()> {
        let env = self.env;
        let rc = self.pins.resize(
            // SAFETY: no write transaction is open and the reader is parked;
            // the only live read transactions are pins, which this path
            // does not leave without their mapping.
            || unsafe { ffi::mdb_env_set_mapsize(env, size) },
            // SAFETY: as above; the old mapping goes to the registry.
            |addr, len| unsafe { ffi::mdb_env_set_mapsize_keep(env, size, addr, len) },
        );
        check("mdb_env_set_mapsize", rc)?;
        self.locate_map();
        Ok(())
    }

    /// Grows the map when it is half full (or a write ran out of room),
    /// before a new outermost write transaction starts.
    fn ensure_room(&mut self) -> Result<()> {
        let info = self.env_info();
        let used = (info.me_last_pgno + 1) * self.psize;
        let size = info.me_mapsize;
        if self.map_full || used * 2 > size {
            let new = (size * 2).max(used * 4);
            self.park_reader();
            self.set_map_size(new)?;
            self.map_full = false;
        }
        Ok(())
    }

    /// The error of a failed commit or sync: a short write (EIO) that ran
    /// out of space is DISK_FULL.
    fn write_err(&self, op: &str, rc: c_int) -> Error {
        if rc == libc::EIO && out_of_space(&self.dir, self.psize as u64) {
            return Error::DiskFull(format!(
                "{op}: short write, no space left on the device or file-size limit reached"
            ));
        }
        err(op, rc)
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
        let rc = if parent.is_null() {
            self.resized_retry(|env| unsafe { ffi::mdb_txn_begin(env, null_mut(), 0, &mut t) })?
        } else {
            unsafe { ffi::mdb_txn_begin(self.env, parent, 0, &mut t) }
        };
        check("mdb_txn_begin", rc)?;
        if self.txns.is_empty() {
            self.owner = thread_token();
            self.refresh_bounds();
        }
        self.txns.push(t);
        self.wcurs.push((false, null_mut()));
        Ok(())
    }

    fn end_txn(&mut self, commit: bool) -> Result<()> {
        let Some(t) = self.txns.pop() else { return Err(Error::NoTransaction) };
        // Its cursor is freed by LMDB with it.
        self.wcurs.pop();
        let outermost = self.txns.is_empty();
        if outermost {
            self.owner = 0;
        }
        // SAFETY: t is our innermost open write transaction; it is consumed.
        let id = unsafe { ffi::mdb_txn_id(t) } as u64;
        let rc = unsafe {
            if commit {
                ffi::mdb_txn_commit(t)
            } else {
                ffi::mdb_txn_abort(t);
                0
            }
        };
        if rc == ffi::MDB_MAP_FULL {
            self.map_full = true;
        }
        if rc != 0 {
            return Err(self.write_err("mdb_txn_commit", rc));
        }
        // Our commit follows what the store has seen: it has seen this one
        // too (it made the same changes in memory). If the environment did
        // not move to `id` (nothing was written) or others committed in
        // between, `seen` stays and the next call catches up.
        if commit && outermost && id.wrapping_sub(1) == self.seen && self.env_info().me_last_txnid as u64 == id {
            self.seen = id;
        }
        Ok(())
    }

    /// Ends every open write transaction after a write that outgrew the map
    /// (LMDB cannot continue a transaction after MDB_MAP_FULL): the caller's
    /// transaction is rolled back, and the map grows before the next one.
    fn abort_after_map_full(&mut self) {
        self.map_full = true;
        while !self.txns.is_empty() {
            let _ = self.end_txn(false);
        }
    }

    /// Runs a write: in the open transaction, or in a transaction of its
    /// own (retried after growing the map if it ran out of room).
    #[inline(always)]
    fn write<R>(&mut self, f: impl FnMut(&mut Self, *mut ffi::MDB_txn) -> Result<R>) -> Result<R> {
        self.check_writable()?;
        if let Some(&t) = self.txns.last() {
            self.check_thread()?;
            let mut f = f;
            let r = f(self, t);
            if let Err(e) = &r {
                self.after_write_error(e);
            }
            return r;
        }
        self.write_alone(f)
    }

    /// [`Self::write`] of the data sub-database: `plain` runs the write on
    /// a transaction, `at` on a cursor. Inside a transaction the second and
    /// later writes use the transaction's kept cursor ([`Self::wcurs`]); the
    /// first write of a transaction, and a write alone in a transaction of
    /// its own, do not (opening a cursor costs more than one write saves).
    #[inline(always)]
    fn write_data<R>(
        &mut self,
        at: impl FnOnce(*mut ffi::MDB_cursor) -> Result<R>,
        mut plain: impl FnMut(*mut ffi::MDB_txn) -> Result<R>,
    ) -> Result<R> {
        self.check_writable()?;
        if let Some(&t) = self.txns.last() {
            self.check_thread()?;
            let r = match self.wcurs.last_mut() {
                Some((_, c)) if !c.is_null() => at(*c),
                Some((true, _)) => self.open_write_cursor(t).and_then(at),
                Some((wrote, _)) => {
                    *wrote = true;
                    plain(t)
                }
                None => plain(t),
            };
            if let Err(e) = &r {
                self.after_write_error(e);
            }
            return r;
        }
        self.write_alone(|_, t| plain(t))
    }

    #[inline(never)]
    fn open_write_cursor(&mut self, t: *mut ffi::MDB_txn) -> Result<*mut ffi::MDB_cursor> {
        let mut cur = null_mut();
        // SAFETY: t is our innermost open write transaction, data open in it.
        check("mdb_cursor_open", unsafe { ffi::mdb_cursor_open(t, self.data, &mut cur) })?;
        if let Some(slot) = self.wcurs.last_mut() {
            slot.1 = cur;
        }
        Ok(cur)
    }

    /// A write inside the caller's transaction failed: after MDB_MAP_FULL
    /// LMDB cannot continue the transaction.
    #[cold]
    #[inline(never)]
    fn after_write_error(&mut self, e: &Error) {
        if is_map_full(e) {
            self.abort_after_map_full();
        }
    }

    /// [`Self::write`] outside a transaction: one of its own, retried with
    /// a larger map when it outgrew the map.
    #[inline(never)]
    fn write_alone<R>(&mut self, mut f: impl FnMut(&mut Self, *mut ffi::MDB_txn) -> Result<R>) -> Result<R> {
        for attempt in 0.. {
            self.begin_txn()?;
            let t = *self.txns.last().expect("txn");
            let r = match f(self, t) {
                Ok(v) => self.end_txn(true).map(|_| v),
                Err(e) => {
                    let _ = self.end_txn(false);
                    Err(e)
                }
            };
            match r {
                Err(e) if is_map_full(&e) && attempt < 8 => {
                    self.map_full = true;
                    continue;
                }
                r => return r,
            }
        }
        unreachable!()
    }

    /// The value of `key` in `dbi` (a record of `kind`, validated).
    #[inline]
    fn get_raw(&mut self, dbi: ffi::MDB_dbi, kind: Kind, key: u64) -> Result<Option<&[u8]>> {
        let mut k = key_val(&key);
        let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
        // SAFETY: txn, cursor and dbi are open; the value stays valid until
        // the next operation on this engine, beyond the returned borrow.
        let near = dbi == self.data && key.abs_diff(std::mem::replace(&mut self.last_read, key)) <= NEAR_KEYS;
        let rc = if near && self.txns.is_empty() {
            // A key near the previous read's, outside a write transaction:
            // through the kept read cursor. LMDB looks on the leaf page the
            // cursor rests on before searching from the root, so the read
            // skips the descent. (A far key would make LMDB look at a page
            // that is likely out of the cache first: mdb_get.)
            let (cur, _, _) = self.data_cursor_at()?;
            let rc = unsafe { ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_SET) };
            if rc != ffi::MDB_NOTFOUND {
                self.rcur_at = if rc == 0 { Some(key) } else { None };
                rc
            } else {
                // A miss is confirmed by a search from the root: LMDB's look
                // at the page the cursor rests on trusts that page's header,
                // and on a damaged page it can miss a key the tree holds
                // (a read-only transaction checks fetched pages less).
                let txn = self.read_txn()?;
                k = key_val(&key);
                unsafe { ffi::mdb_get(txn, dbi, &mut k, &mut v) }
            }
        } else {
            let txn = self.read_txn()?;
            unsafe { ffi::mdb_get(txn, dbi, &mut k, &mut v) }
        };
        match rc {
            0 => {
                let va = v.mv_data as usize;
                let b = &self.bounds;
                let inside = va >= b.base && va <= b.committed_end && v.mv_size <= b.committed_end - va;
                if !kind.value_ok(v.mv_size) || !(inside || self.bounds().readable(v.mv_data, v.mv_size)) {
                    return Err(corrupt(format_args!(
                        "malformed record for key {key} in {} ({} value bytes)",
                        kind.name(),
                        v.mv_size
                    )));
                }
                Ok(Some(unsafe { val_bytes(&v) }))
            }
            ffi::MDB_NOTFOUND => Ok(None),
            rc => Err(err("mdb_get", rc)),
        }
    }

    #[inline(always)]
    fn put_raw(
        txn: *mut ffi::MDB_txn,
        dbi: ffi::MDB_dbi,
        key: u64,
        header: Option<(u64, u64)>,
        data: &[u8],
        flags: c_uint,
    ) -> Result<bool> {
        // SAFETY: txn and dbi are open.
        Self::put_with(|k, v, f| unsafe { ffi::mdb_put(txn, dbi, k, v, f) }, key, header, data, flags)
    }

    /// [`Self::put_raw`] through cursor `cur` (of a write transaction).
    #[inline(always)]
    fn put_at(
        cur: *mut ffi::MDB_cursor,
        key: u64,
        header: Option<(u64, u64)>,
        data: &[u8],
        flags: c_uint,
    ) -> Result<bool> {
        // SAFETY: cur is an open cursor of our write transaction.
        Self::put_with(|k, v, f| unsafe { ffi::mdb_cursor_put(cur, k, v, f) }, key, header, data, flags)
    }

    /// Stores a record with `put` (MDB_RESERVE, then the bytes written in
    /// place); `Ok(false)` when MDB_NOOVERWRITE found the key.
    #[inline(always)]
    fn put_with(
        put: impl FnOnce(&mut ffi::MDB_val, &mut ffi::MDB_val, c_uint) -> c_int,
        key: u64,
        header: Option<(u64, u64)>,
        data: &[u8],
        flags: c_uint,
    ) -> Result<bool> {
        if data.len() > MAX_VALUE {
            return Err(too_big(data.len()));
        }
        let mut k = key_val(&key);
        let len = data.len() + if header.is_some() { HEADER } else { 0 };
        let mut v = ffi::MDB_val { mv_size: len, mv_data: null_mut() };
        // SAFETY: MDB_RESERVE hands back `len` writable bytes in the txn.
        unsafe {
            match put(&mut k, &mut v, flags | ffi::MDB_RESERVE) {
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

    /// [`Self::del_raw`] through cursor `cur` (of a write transaction).
    #[inline(always)]
    fn del_at(cur: *mut ffi::MDB_cursor, key: u64) -> Result<bool> {
        let mut k = key_val(&key);
        let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
        // SAFETY: cur is an open cursor of our write transaction.
        unsafe {
            match ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_SET) {
                0 => {}
                ffi::MDB_NOTFOUND => return Ok(false),
                rc => return Err(err("mdb_cursor_get", rc)),
            }
            match ffi::mdb_cursor_del(cur, 0) {
                0 => Ok(true),
                rc => Err(err("mdb_cursor_del", rc)),
            }
        }
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

    /// Visits `[lo, hi]` of `dbi` in `dir` order: `f(key, value)`. Every
    /// record is validated as `kind`, and keys must advance strictly in the
    /// scan direction inside the range (a cursor that stays, goes back or
    /// leaves the range is a damaged tree): so a scan always ends.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn cursor_scan<const VALUES: bool, const RUNS: bool>(
        txn: *mut ffi::MDB_txn,
        dbi: ffi::MDB_dbi,
        kind: Kind,
        b: Bounds,
        lo: u64,
        hi: u64,
        dir: Dir,
        f: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<()> {
        if lo > hi {
            return Ok(());
        }
        let mut cur = null_mut();
        // SAFETY: txn and dbi are open; the cursor is closed before return.
        unsafe {
            check("mdb_cursor_open", ffi::mdb_cursor_open(txn, dbi, &mut cur))?;
            let r = Self::scan_with::<VALUES, RUNS>(cur, kind, b, lo, hi, dir, f);
            ffi::mdb_cursor_close(cur);
            r
        }
    }

    /// [`Self::cursor_scan`] with a cursor the caller owns (of an open
    /// transaction).
    ///
    /// # Safety
    /// `cur` is an open cursor of a live transaction.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn scan_with<const VALUES: bool, const RUNS: bool>(
        cur: *mut ffi::MDB_cursor,
        kind: Kind,
        b: Bounds,
        lo: u64,
        hi: u64,
        dir: Dir,
        f: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<()> {
        if lo > hi {
            return Ok(());
        }
        // SAFETY: the caller's cursor is open in a live txn; every record is
        // checked before its bytes are read.
        unsafe {
            let (rc, k, v) = Self::position(cur, b, lo, hi, dir);
            let step = if dir == Dir::Forward { ffi::MDB_NEXT } else { ffi::MDB_PREV };
            if !RUNS {
                let next = |k: &mut ffi::MDB_val, v: &mut ffi::MDB_val| ffi::mdb_cursor_get(cur, k, v, step);
                return Self::walk::<VALUES>(kind, b, lo, hi, dir, rc, k, v, Step(next), None, f);
            }
            // Records after the first come a leaf page's run at a time
            // (csrc/lmdb patch 4), each checked exactly like one from
            // MDB_NEXT/MDB_PREV, which takes over at page edges.
            Self::walk::<VALUES>(kind, b, lo, hi, dir, rc, k, v, Runs::new(cur, dir), None, f)
        }
    }

    /// Puts `cur` on the first record of a `dir` scan of `[lo, hi]` (not yet
    /// checked): the result code and the record.
    ///
    /// # Safety
    /// `cur` is an open cursor of a live transaction.
    #[inline(always)]
    unsafe fn position(
        cur: *mut ffi::MDB_cursor,
        b: Bounds,
        lo: u64,
        hi: u64,
        dir: Dir,
    ) -> (c_int, ffi::MDB_val, ffi::MDB_val) {
        let mut v = ffi::MDB_val { mv_size: 0, mv_data: null_mut() };
        // SAFETY: the caller's cursor; the key is read only once checked.
        unsafe {
            let get = |k: &mut ffi::MDB_val, v: &mut ffi::MDB_val, op| ffi::mdb_cursor_get(cur, k, v, op);
            match dir {
                Dir::Forward => {
                    let mut k = key_val(&lo);
                    let rc = get(&mut k, &mut v, ffi::MDB_SET_RANGE);
                    (rc, k, v)
                }
                Dir::Backward => {
                    let mut k = key_val(&hi);
                    let mut rc = get(&mut k, &mut v, ffi::MDB_SET_RANGE);
                    if rc == ffi::MDB_NOTFOUND {
                        rc = get(&mut k, &mut v, ffi::MDB_LAST);
                    } else if rc == 0 && k.mv_size == 8 && b.readable(k.mv_data, 8) && val_key(&k) > hi {
                        rc = get(&mut k, &mut v, ffi::MDB_PREV);
                    }
                    (rc, k, v)
                }
            }
        }
    }

    /// [`Engine::scan_records`] on `cur`: leaf-page runs (csrc/lmdb patch 4)
    /// written straight into `out`, then checked there (well formed, keys
    /// strictly advancing inside the range), so a record in place costs its
    /// check and nothing else. The first record that is not plainly so (the
    /// end of the range, a damaged record, an engine error) is handed to
    /// [`Self::walk`] with the records still read ahead, which reports it
    /// exactly as every other scan does.
    ///
    /// # Safety
    /// `cur` is an open cursor on the data sub-database of a live read-only
    /// transaction that stays alive while `out` is read.
    #[allow(clippy::too_many_arguments)]
    unsafe fn records(
        cur: *mut ffi::MDB_cursor,
        b: Bounds,
        lo: u64,
        hi: u64,
        dir: Dir,
        limit: usize,
        out: &mut RecordBuf,
        mut skip: impl FnMut(u64) -> bool,
    ) -> Result<()> {
        if lo > hi || limit == 0 {
            return Ok(());
        }
        let (d, step) = if dir == Dir::Forward { (1, ffi::MDB_NEXT) } else { (-1, ffi::MDB_PREV) };
        // SAFETY: the caller's cursor; every record is checked before its
        // bytes are read, and only checked ones are committed to `out`.
        unsafe {
            // Hands the record (rc, k, v) to walk: it does not accept it as
            // a plain record (it was refused here by the same checks), so it
            // only ends the scan or reports.
            let hand_over = |rc, k, v, prev| {
                let src = Runs::new(cur, dir);
                let mut taken = false;
                let r = Self::walk::<true>(Kind::Data, b, lo, hi, dir, rc, k, v, src, prev, |_, _| {
                    taken = true;
                    false
                });
                match r {
                    Ok(()) if taken => Err(Error::Internal("record checks of an iterator's chunk disagree".into())),
                    r => r,
                }
            };
            let lim = ffi::RunLimits { lo, hi, base: b.base, end: b.committed_end, min_data: HEADER };
            let (mut rc, mut k, mut v) = Self::position(cur, b, lo, hi, dir);
            let mut prev: Option<u64> = None;
            loop {
                // One record from a cursor step: the first (inside the
                // range), and each one at a page's edge (following `prev`).
                let plain =
                    (rc == 0 && b.record_ok(Kind::Data, &k, &v, true)).then(|| val_key(&k)).filter(|&key| match prev {
                        Some(p) => follows(dir, key, p, lo, hi),
                        None => (lo..=hi).contains(&key),
                    });
                let Some(key) = plain else {
                    return hand_over(rc, k, v, prev);
                };
                if !skip(key) {
                    out.push(record(&k, &v));
                }
                let mut last = key;
                // Then a leaf page's run at a time, straight into `out`,
                // each record checked by mdb_cursor_records as `record_ok`
                // and `follows` check it (their common case: a value inside
                // the committed map). It stops before any other record,
                // which the cursor step below reads and checks in full.
                loop {
                    let room = limit.saturating_sub(out.len()).min(RUN);
                    if room == 0 {
                        return Ok(());
                    }
                    let p = out.spare(room);
                    let n = (ffi::mdb_cursor_records(cur, d, p, room as c_uint, &lim, last) as usize).min(room);
                    if n == 0 {
                        break;
                    }
                    let rs = std::slice::from_raw_parts_mut(p, n);
                    last = rs[n - 1].key;
                    // Those `skip` takes out (expired ones) close up.
                    let mut kept = n;
                    if let Some(first) = rs.iter().position(|r| skip(r.key)) {
                        kept = first;
                        for j in first + 1..n {
                            if !skip(rs[j].key) {
                                rs[kept] = rs[j];
                                kept += 1;
                            }
                        }
                    }
                    out.commit(kept);
                }
                prev = Some(last);
                rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, step);
            }
        }
    }

    /// The loop of [`Self::scan_with`] from its first record (`rc`, `k`,
    /// `v`): every record checked (well formed, keys strictly advancing,
    /// the one after the range continuing the order), `next` giving the
    /// following one. `prev`: the key of the record before the first, when
    /// the scan already took it.
    ///
    /// # Safety
    /// As [`Self::scan_with`]; `next` reads from the same cursor.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn walk<const VALUES: bool>(
        kind: Kind,
        b: Bounds,
        lo: u64,
        hi: u64,
        dir: Dir,
        mut rc: c_int,
        mut k: ffi::MDB_val,
        mut v: ffi::MDB_val,
        mut src: impl Records,
        mut prev: Option<u64>,
        mut f: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<()> {
        // SAFETY: every record is checked before its bytes are read.
        unsafe {
            loop {
                if rc == ffi::MDB_NOTFOUND {
                    break Ok(());
                }
                if rc != 0 {
                    break Err(err("mdb_cursor_get", rc));
                }
                if !b.record_ok(kind, &k, &v, VALUES) {
                    break Err(corrupt(format_args!(
                        "malformed record in {} ({}-byte key, {}-byte value{})",
                        kind.name(),
                        k.mv_size,
                        v.mv_size,
                        prev.map(|p| format!(", after key {p}")).unwrap_or_default()
                    )));
                }
                let key = val_key(&k);
                let (ordered, inside) = match dir {
                    Dir::Forward => (key >= lo && prev.is_none_or(|p| key > p), key <= hi),
                    Dir::Backward => (key <= hi && prev.is_none_or(|p| key < p), key >= lo),
                };
                if !ordered {
                    break Err(corrupt(format_args!(
                        "{} keys out of order: key {key} after {} in a {} scan of [{lo}, {hi}]",
                        kind.name(),
                        prev.map(|p| p.to_string()).unwrap_or_else(|| "the start".into()),
                        if dir == Dir::Forward { "forward" } else { "backward" }
                    )));
                }
                if !inside {
                    // The first record past the range: the next one must
                    // continue the order (a key damaged into a value beyond
                    // the range would otherwise end the scan unnoticed).
                    match src.next(&mut k, &mut v) {
                        0 if b.record_ok(kind, &k, &v, false) => {
                            let next = val_key(&k);
                            if (dir == Dir::Forward && next <= key) || (dir == Dir::Backward && next >= key) {
                                break Err(corrupt(format_args!(
                                    "{} keys out of order: key {next} after {key}",
                                    kind.name()
                                )));
                            }
                        }
                        0 => break Err(corrupt(format_args!("malformed record in {} after key {key}", kind.name()))),
                        ffi::MDB_NOTFOUND => {}
                        rc => break Err(err("mdb_cursor_get", rc)),
                    }
                    break Ok(());
                }
                // This record, then those already read ahead (a leaf page's
                // run) in a loop of their own, each checked as above; the
                // first that is not plainly well formed, in order and inside
                // the range is left to the loop above. One call site of `f`,
                // so that it is inlined.
                let (keys, vals) = src.ahead();
                let (mut key, mut val, mut taken) = (key, v, 0);
                let more = loop {
                    // SAFETY: `val` passed record_ok with its value.
                    if !f(key, if VALUES { checked_bytes(&val) } else { &[] }) {
                        break false;
                    }
                    let (Some(k2), Some(v2)) = (keys.get(taken), vals.get(taken)) else {
                        break true;
                    };
                    if !b.record_ok(kind, k2, v2, VALUES) {
                        break true;
                    }
                    let key2 = val_key(k2);
                    if !follows(dir, key2, key, lo, hi) {
                        break true;
                    }
                    (key, val) = (key2, *v2);
                    taken += 1;
                };
                src.took(taken);
                if !more {
                    break Ok(());
                }
                prev = Some(key);
                rc = src.next(&mut k, &mut v);
            }
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
                if k.mv_size != 8 {
                    break Err(corrupt(format_args!("{}-byte key in a range delete", k.mv_size)));
                }
                let key = val_key(&k);
                if key < lo {
                    break Err(corrupt(format_args!("seek to {lo} found the smaller key {key}")));
                }
                if key > hi {
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
        c.page_size = self.psize as i32;
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

    /// For a read-write open, holding the writer lock: the file must cover
    /// the newest commit's pages (a tail of free pages LMDB never wrote is
    /// restored, see [`Self::free_tail`]) and the pages near its end must
    /// keep their nodes inside them ([`check_tail`]).
    fn settle_file(&mut self, fd: c_int) -> Result<()> {
        let psize = self.psize as u64;
        let pages = self.env_info().me_last_pgno as u64 + 1;
        let need = pages * psize;
        let mut have = file_len(fd);
        if have < need && self.free_tail(fd, have, pages) {
            have = file_len(fd);
        }
        if have < need {
            return Err(truncated(have, need));
        }
        check_tail(fd, psize, pages, have)
    }

    /// A file shorter than its committed pages is valid when every page
    /// past its end is free: pages a transaction allocated and freed again
    /// before committing are never written (LMDB's loose pages), and a
    /// writer killed right after such a commit leaves the file short. The
    /// file is first extended to the committed size (zeros: no read can
    /// fault), the free-page database read, and the extension kept only if
    /// it lists every missing page; otherwise the file is put back as it
    /// was (a truncated file is damaged). True if the file now covers the
    /// committed pages.
    fn free_tail(&mut self, fd: c_int, have: u64, pages: u64) -> bool {
        let psize = self.psize as u64;
        let need = pages * psize;
        if !have.is_multiple_of(psize) {
            return false;
        }
        // SAFETY: our descriptor of data.mdb; the environment is open.
        if unsafe { libc::ftruncate(fd, need as libc::off_t) } != 0 {
            return false;
        }
        self.refresh_bounds();
        let first = have / psize;
        let mut free: Vec<u64> = Vec::new();
        let ok = unsafe {
            let mut txn = null_mut();
            if ffi::mdb_txn_begin(self.env, null_mut(), ffi::MDB_RDONLY, &mut txn) != 0 {
                false
            } else {
                let b = Bounds { write: false, ..self.bounds };
                let r = Self::free_pages(txn, b, |list| {
                    free.extend(
                        list.chunks_exact(8)
                            .map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")))
                            .filter(|&p| p >= first),
                    )
                });
                ffi::mdb_txn_abort(txn);
                r.is_ok()
            }
        };
        free.sort_unstable();
        free.dedup();
        let covered = ok && free.len() as u64 == pages - first && free.iter().all(|&p| p >= first && p < pages);
        if !covered {
            // SAFETY: as above; the file goes back to its own length.
            unsafe { libc::ftruncate(fd, have as libc::off_t) };
            self.refresh_bounds();
        }
        covered
    }

    /// The data rows of `[lo, hi]` in `dir` order until `f` returns false,
    /// on the cursor of the transaction reads use; `RUNS`: by leaf-page runs.
    #[inline]
    fn scan_rows<const RUNS: bool, F: FnMut(Row<'_>) -> bool>(
        &mut self,
        lo: u64,
        hi: u64,
        dir: Dir,
        f: F,
    ) -> Result<()> {
        if lo > hi {
            return Ok(());
        }
        let r = self.data_cursor().and_then(|(cur, owned)| {
            // SAFETY: an open cursor of the transaction reads use.
            unsafe {
                let r = Self::data_rows::<RUNS>(cur, self.bounds(), lo, hi, dir, f);
                if owned {
                    ffi::mdb_cursor_close(cur);
                }
                r
            }
        });
        self.settle(r)
    }

    /// [`Self::scan_with`] over the data sub-database, each record as a
    /// [`Row`].
    ///
    /// # Safety
    /// `cur` is an open cursor on the data sub-database of a live
    /// transaction.
    #[inline(always)]
    unsafe fn data_rows<const RUNS: bool>(
        cur: *mut ffi::MDB_cursor,
        b: Bounds,
        lo: u64,
        hi: u64,
        dir: Dir,
        mut f: impl FnMut(Row<'_>) -> bool,
    ) -> Result<()> {
        // SAFETY: as the caller promises; every record is checked before
        // it is read.
        unsafe {
            Self::scan_with::<true, RUNS>(cur, Kind::Data, b, lo, hi, dir, |key, v| {
                let (term, cmd, data) = unpack(v);
                f(Row { key, term, cmd, data })
            })
        }
    }

    /// Visits the free-page database (dbi 0) in read transaction `txn`:
    /// each record lists page numbers, its first word being how many; `f`
    /// gets the list (8 bytes per page). A record whose count disagrees
    /// with its length is CORRUPT.
    fn free_pages(txn: *mut ffi::MDB_txn, b: Bounds, mut f: impl FnMut(&[u8])) -> Result<()> {
        let mut bad = None;
        Self::cursor_scan::<true, false>(txn, 0, Kind::Free, b, 0, u64::MAX, Dir::Forward, |k, v| {
            let n = u64::from_ne_bytes(v[..8].try_into().expect("8 bytes"));
            if n.checked_add(1).and_then(|w| w.checked_mul(8)) != Some(v.len() as u64) {
                bad = Some((k, n, v.len()));
                return false;
            }
            f(&v[8..]);
            true
        })?;
        match bad {
            Some((k, n, len)) => {
                Err(corrupt(format_args!("free-page record of transaction {k} lists {n} pages in {len} bytes")))
            }
            None => Ok(()),
        }
    }

    fn file_stats_inner(&mut self) -> Result<FileStats> {
        // LMDB lets only read-only transactions read the free-page database.
        let txn = self.snapshot_txn()?;
        let b = Bounds { write: false, ..self.bounds };
        let mut free = 0u64;
        Self::free_pages(txn, b, |list| free += (list.len() / 8) as u64)?;
        let info = self.env_info();
        let file = std::fs::metadata(self.dir.join("data.mdb")).map(|m| m.len()).unwrap_or(0);
        Ok(FileStats {
            database_file_size: file,
            wal_file_size: 0,
            page_count: info.me_last_pgno as u64 + 1,
            page_size: self.psize as u64,
            free_pages: free,
        })
    }

    /// [`Engine::changed_elsewhere`] once the environment has moved on (or
    /// inside a write transaction).
    #[cold]
    fn take_in_changes(&mut self) -> Result<bool> {
        if let Some(&t) = self.txns.first() {
            // No other writer commits while we hold a write transaction; it
            // sees what was committed when it began.
            // SAFETY: t is our open outermost write transaction.
            let base = (unsafe { ffi::mdb_txn_id(t) } as u64).wrapping_sub(1);
            self.pending = base;
            return Ok(base != self.seen);
        }
        // Take the newest snapshot now: the store reloads from it and the
        // reads of this call use it.
        let txn = self.snapshot_txn()?;
        // SAFETY: txn is our live read transaction.
        self.pending = unsafe { ffi::mdb_txn_id(txn) } as u64;
        Ok(true)
    }

    /// The environment's raw handle (for tests and engine-specific work;
    /// valid until the instance is closed).
    #[doc(hidden)]
    pub fn raw_env(&self) -> *mut ffi::MDB_env {
        self.env
    }

    /// Creates the directory if it is missing. Another process (or thread)
    /// may create it at the same moment: then it exists, which is fine as
    /// long as it is a directory.
    fn create_dir(path: &std::path::Path, read_only: bool) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => return Err(Error::invalid("LMDB path exists but is not a directory")),
            Ok(_) => return Ok(()),
            Err(_) if read_only => return Err(Error::Io(format!("{} does not exist", path.display()))),
            Err(_) => {}
        }
        match std::fs::DirBuilder::new().mode(0o755).create(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(Error::invalid("LMDB path exists but is not a directory")),
                Err(e) => Err(Error::Io(format!("cannot create directory {}: {e}", path.display()))),
            },
            Err(e) => Err(Error::from_io(&format!("cannot create directory {}", path.display()), &e)),
        }
    }

    /// Checks a named database's record: its flags (an integer-keyed
    /// database) and that its depth and page and entry counts are possible
    /// in a file of `pages` pages. Cheap (no page is read); catches a
    /// damaged directory page of the environment.
    unsafe fn check_db(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, name: &str, pages: u64, psize: u64) -> Result<()> {
        let mut flags = 0;
        // SAFETY: txn and dbi are open.
        check("mdb_dbi_flags", unsafe { ffi::mdb_dbi_flags(txn, dbi, &mut flags) })?;
        if flags != ffi::MDB_INTEGERKEY {
            return Err(corrupt(format_args!("database {name} has flags {flags:#x}, not an integer-keyed database")));
        }
        let mut st: ffi::MDB_stat = unsafe { std::mem::zeroed() };
        check("mdb_stat", unsafe { ffi::mdb_stat(txn, dbi, &mut st) })?;
        let (depth, branch, leaf, over, entries) = (
            st.ms_depth,
            st.ms_branch_pages as u64,
            st.ms_leaf_pages as u64,
            st.ms_overflow_pages as u64,
            st.ms_entries as u64,
        );
        // A leaf page holds at least one record and at most as many as fit
        // (each takes a 2-byte pointer, an 8-byte node header and its key).
        let per_page = (psize.saturating_sub(16) / 18).max(1);
        let plausible = depth <= MAX_DEPTH
            && (depth == 0) == (leaf == 0)
            && (leaf == 0) == (entries == 0)
            && (branch == 0) == (depth <= 1)
            && branch.checked_add(leaf).and_then(|n| n.checked_add(over)).is_some_and(|n| n <= pages)
            && entries >= leaf
            && entries <= leaf.saturating_mul(per_page);
        if !plausible {
            return Err(corrupt(format_args!(
                "the record of database {name} is damaged (depth {depth}, {branch} branch, {leaf} leaf and \
                 {over} overflow pages, {entries} entries, in a file of {pages} pages)"
            )));
        }
        Ok(())
    }

    /// Opens (or, with `create`, creates) the named database `name`, with
    /// the comparison the page search inlines (`mdb_cmp_u64`, the order
    /// MDB_INTEGERKEY gives 8-byte keys: csrc/lmdb/PATCHES.md, patch 6).
    unsafe fn open_db(txn: *mut ffi::MDB_txn, name: &CStr, create: bool) -> std::result::Result<ffi::MDB_dbi, c_int> {
        let mut dbi = 0;
        let flags = ffi::MDB_INTEGERKEY | if create { ffi::MDB_CREATE } else { 0 };
        // SAFETY: txn open, name NUL-terminated; the comparison is set
        // before any access to the database, as LMDB requires.
        unsafe {
            match ffi::mdb_dbi_open(txn, name.as_ptr(), flags, &mut dbi) {
                0 => match ffi::mdb_set_compare(txn, dbi, ffi::mdb_cmp_u64) {
                    0 => Ok(dbi),
                    rc => Err(rc),
                },
                rc => Err(rc),
            }
        }
    }

    /// Opens `_kvidx_data` and `_kvidx_ttl` in the open transaction `txn`.
    /// They are created only in a new environment (one that holds no named
    /// database yet; `_kvidx_ttl` also in one the original wrote before it
    /// had TTLs): anything else without `_kvidx_data` is not a kvidxkit
    /// environment, or its directory page is damaged.
    unsafe fn open_dbs(&mut self, txn: *mut ffi::MDB_txn, read_only: bool) -> Result<()> {
        let info = self.env_info();
        let pages = info.me_last_pgno as u64 + 1;
        let psize = self.psize as u64;
        // SAFETY (whole body): txn is our open transaction.
        self.data = match unsafe { Self::open_db(txn, c"_kvidx_data", false) } {
            Ok(dbi) => dbi,
            Err(ffi::MDB_NOTFOUND) if read_only => {
                return Err(Error::Schema("not a kvidxkit environment (no _kvidx_data database)".into()));
            }
            Err(ffi::MDB_NOTFOUND) => {
                let mut st: ffi::MDB_stat = unsafe { std::mem::zeroed() };
                check("mdb_stat", unsafe { ffi::mdb_stat(txn, 1, &mut st) })?;
                if st.ms_entries != 0 {
                    return Err(Error::Schema(format!(
                        "not a kvidxkit environment: it holds {} other named database(s) but no _kvidx_data",
                        st.ms_entries
                    )));
                }
                unsafe { Self::open_db(txn, c"_kvidx_data", true) }.map_err(|rc| err("mdb_dbi_open", rc))?
            }
            Err(rc) => return Err(err("mdb_dbi_open", rc)),
        };
        unsafe { Self::check_db(txn, self.data, "_kvidx_data", pages, psize)? };
        self.ttl = match unsafe { Self::open_db(txn, c"_kvidx_ttl", false) } {
            Ok(dbi) => {
                unsafe { Self::check_db(txn, dbi, "_kvidx_ttl", pages, psize)? };
                Some(dbi)
            }
            Err(ffi::MDB_NOTFOUND) if read_only => None,
            Err(ffi::MDB_NOTFOUND) => {
                Some(unsafe { Self::open_db(txn, c"_kvidx_ttl", true) }.map_err(|rc| err("mdb_dbi_open", rc))?)
            }
            Err(rc) => return Err(err("mdb_dbi_open", rc)),
        };
        Ok(())
    }

    fn open_env(req: &OpenRequest<'_>) -> Result<Self> {
        let path = req.path;
        let read_only = req.config.is_some_and(|c| c.read_only);
        Self::create_dir(path, read_only)?;
        let claim = super::ProcessClaim::take(path, true, true)?;
        let cfg = req.config.cloned();
        let mut engine = Lmdb {
            env: null_mut(),
            data: 0,
            ttl: None,
            txns: Vec::new(),
            wcurs: Vec::new(),
            owner: 0,
            rtxn_id: 0,
            value: (std::ptr::null(), 0),
            txnid_ptr: std::ptr::null(),
            rtxn: null_mut(),
            rtxn_live: false,
            rcur: null_mut(),
            rcur_bound: false,
            rcur_at: None,
            last_read: 0,
            dir: path.to_path_buf(),
            _claim: claim,
            opened_read_only: read_only,
            read_only,
            map_full: false,
            config: Config::default(),
            psize: 4096,
            data_fd: -1,
            bounds: Bounds { base: 0, map_end: 0, committed_end: 0, write: false, fd: -1 },
            seen: 0,
            latest: 0,
            pending: 0,
            pins: Registry::new(),
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
            engine.txnid_ptr = ffi::mdb_env_txnid_ptr(engine.env);
            let mut st: ffi::MDB_stat = std::mem::zeroed();
            ffi::mdb_env_stat(engine.env, &mut st);
            engine.psize = st.ms_psize as usize;
            let mut fd = -1;
            check("mdb_env_get_fd", ffi::mdb_env_get_fd(engine.env, &mut fd))?;
            engine.data_fd = fd;
            engine.bounds.fd = fd;
            engine.locate_map();
            // Every committed page must be in the file: reading a page of
            // the map beyond the end of the file raises SIGBUS.
            let psize = engine.psize as u64;
            let pages = engine.env_info().me_last_pgno as u64 + 1;
            let need = pages * psize;
            let have = file_len(fd);
            if read_only {
                if have < need {
                    // Read-only, the file cannot be brought up to size, and a
                    // map read past its end would fault.
                    return Err(corrupt(format_args!(
                        "data.mdb is {have} bytes but its committed pages end at byte {need}: the file is \
                         truncated, or ends in free pages that a read-write open restores"
                    )));
                }
                // Another process may be writing pages meanwhile (free ones
                // of this snapshot): a page read while it is being written
                // can look torn, so only a page that stays bad is damage.
                check_tail_settled(fd, psize, pages, have)?;
            } else if have < 2 * psize {
                // Beginning a transaction reads the two meta pages.
                return Err(truncated(have, need));
            }
            let mut txn = null_mut();
            let tflags = if read_only { ffi::MDB_RDONLY } else { 0 };
            let rc = engine.resized_retry(|env| ffi::mdb_txn_begin(env, null_mut(), tflags, &mut txn))?;
            check("mdb_txn_begin", rc)?;
            if !read_only {
                // The write transaction holds the writer lock: no other
                // process writes (or extends) the file while it is measured,
                // brought up to size and checked.
                if let Err(e) = engine.settle_file(fd) {
                    ffi::mdb_txn_abort(txn);
                    return Err(e);
                }
            }
            if let Err(e) = engine.open_dbs(txn, read_only) {
                ffi::mdb_txn_abort(txn);
                return Err(e);
            }
            check("mdb_txn_commit", ffi::mdb_txn_commit(txn))?;
        }
        engine.refresh_bounds();
        engine.seen = engine.env_info().me_last_txnid as u64;
        engine.latest = engine.seen;
        Ok(engine)
    }
}

impl Drop for Lmdb {
    fn drop(&mut self) {
        // Iterators' snapshots end first (an iterator may outlive us).
        self.pins.close();
        // SAFETY: every handle is ours; children are aborted before parents.
        unsafe {
            while let Some(t) = self.txns.pop() {
                ffi::mdb_txn_abort(t);
            }
            if !self.rcur.is_null() {
                ffi::mdb_cursor_close(self.rcur);
                self.rcur = null_mut();
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

    #[inline]
    fn get(&mut self, key: u64) -> Result<Option<(u64, u64)>> {
        let dbi = self.data;
        let r = match self.get_raw(dbi, Kind::Data, key) {
            Ok(Some(v)) => {
                let (term, cmd, d) = unpack(v);
                let found = (d.as_ptr(), d.len());
                self.value = found;
                Ok(Some((term, cmd)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        self.settle(r)
    }

    #[inline]
    fn value(&self) -> &[u8] {
        // SAFETY: a slice of the map found by the last `get`, in a
        // transaction that stays alive until the next call on the engine.
        if self.value.1 == 0 { &[] } else { unsafe { std::slice::from_raw_parts(self.value.0, self.value.1) } }
    }

    fn exists(&mut self, key: u64) -> Result<bool> {
        let dbi = self.data;
        let r = self.get_raw(dbi, Kind::Data, key).map(|v| v.is_some());
        self.settle(r)
    }

    fn term(&mut self, key: u64) -> Result<Option<u64>> {
        let dbi = self.data;
        let r = self.get_raw(dbi, Kind::Data, key).map(|v| v.map(|v| unpack(v).0));
        self.settle(r)
    }

    fn scan<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, f: F) -> Result<()> {
        self.scan_rows::<false, F>(lo, hi, dir, f)
    }

    /// Leaf-page runs (csrc/lmdb patch 4) for an iterator's chunks: fewer
    /// instructions per row (321 -> 250 per C iterator entry). Not for the
    /// other scans: an export, whose rows each take a write, measured 7 %
    /// slower with runs (make bench, 1 M entries, memory-bound).
    fn scan_batch<F: FnMut(Row<'_>) -> bool>(&mut self, lo: u64, hi: u64, dir: Dir, f: F) -> Result<()> {
        self.scan_rows::<true, F>(lo, hi, dir, f)
    }

    /// An iterator's chunk is LMDB's own records, in the map, read through a
    /// snapshot of the iterator's own (a pin: see lmdb_pins), renewed when
    /// the environment has moved on. Not inside a write transaction (the
    /// chunk must see its writes, on pages that change as it writes) and not
    /// once every pin is taken: those chunks are copied.
    #[allow(clippy::too_many_arguments)]
    fn scan_records<S: FnMut(u64) -> bool>(
        &mut self,
        pin: &mut ScanPin,
        lo: u64,
        hi: u64,
        dir: Dir,
        limit: usize,
        out: &mut RecordBuf,
        skip: S,
    ) -> Result<bool> {
        if !self.txns.is_empty() {
            *pin = None;
            return Ok(false);
        }
        let Some(slot) = self.pin_snapshot(pin) else {
            return Ok(false);
        };
        // SAFETY: the pin's cursor, bound to its live snapshot.
        let r = unsafe { Self::records(slot.cur, self.bounds(), lo, hi, dir, limit, out, skip) };
        if r.is_err() {
            // LMDB refuses any further use of a transaction that met an
            // error. The records before the error stay readable while it
            // lives: it is kept for them, and replaced on the next chunk.
            match pin.as_deref_mut().and_then(|p| p.downcast_mut::<Pin>()) {
                Some(p) if out.len() > 0 => p.failed = true,
                _ => *pin = None,
            }
        }
        r.map(|()| true)
    }

    /// The value stays in the map (a neighbour read copies nothing), valid
    /// until the next call on the engine as for [`Engine::get`].
    const FIRST_IN_VALUE: bool = true;

    fn first_row<T: FnMut(u64) -> bool>(
        &mut self,
        lo: u64,
        hi: u64,
        dir: Dir,
        mut take: T,
        _buf: &mut Vec<u8>,
    ) -> Result<Option<(u64, u64, u64)>> {
        if lo > hi {
            return Ok(None);
        }
        let r = self.data_cursor_at().and_then(|(cur, owned, at)| {
            let b = self.bounds();
            // SAFETY: an open cursor of the transaction reads use; records
            // are checked before their bytes are read.
            let found = unsafe {
                // A read of the neighbour of the key the kept cursor rests
                // on (a scan by GetNext or GetPrev) is one step from there;
                // the record it finds is checked like any other.
                let (rc, k, v) = match (at, dir) {
                    (Some(at), Dir::Forward) if at.checked_add(1) == Some(lo) => step(cur, ffi::MDB_NEXT),
                    (Some(at), Dir::Backward) if hi.checked_add(1) == Some(at) => step(cur, ffi::MDB_PREV),
                    _ => Self::position(cur, b, lo, hi, dir),
                };
                let key = if rc == 0 && b.record_ok(Kind::Data, &k, &v, true) { Some(val_key(&k)) } else { None };
                match key {
                    // The common case: the first record is in the range and live.
                    Some(key) if key >= lo && key <= hi && take(key) => {
                        Ok(Some((key, val_bytes(&v).as_ptr(), v.mv_size)))
                    }
                    // Otherwise the scan's checks and steps from there.
                    _ => {
                        let mut found = None;
                        let step = if dir == Dir::Forward { ffi::MDB_NEXT } else { ffi::MDB_PREV };
                        let next = |k: &mut ffi::MDB_val, v: &mut ffi::MDB_val| ffi::mdb_cursor_get(cur, k, v, step);
                        Self::walk::<true>(Kind::Data, b, lo, hi, dir, rc, k, v, Step(next), None, |key, v| {
                            if !take(key) {
                                return true;
                            }
                            found = Some((key, v.as_ptr(), v.len()));
                            false
                        })
                        .map(|()| found)
                    }
                }
            };
            if owned {
                // SAFETY: the cursor was opened for this read.
                unsafe { ffi::mdb_cursor_close(cur) };
            } else if let Ok(Some((key, _, _))) = found {
                // The scan stopped on the record it returns.
                self.rcur_at = Some(key);
            }
            found.map(|f| {
                f.map(|(key, p, n)| {
                    // SAFETY: a checked record of the live transaction.
                    let (term, cmd, d) = unpack(unsafe { std::slice::from_raw_parts(p, n) });
                    self.value = (d.as_ptr(), d.len());
                    (key, term, cmd)
                })
            })
        });
        self.settle(r)
    }

    fn count(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let r = if lo == 0 && hi == u64::MAX {
            self.read_txn().and_then(|txn| {
                // SAFETY: txn and dbi open.
                unsafe {
                    let mut st: ffi::MDB_stat = std::mem::zeroed();
                    check("mdb_stat", ffi::mdb_stat(txn, self.data, &mut st))?;
                    Ok(st.ms_entries as u64)
                }
            })
        } else {
            self.data_cursor().and_then(|(cur, owned)| {
                let mut n = 0u64;
                // SAFETY: an open cursor of the transaction reads use.
                unsafe {
                    let r =
                        Self::scan_with::<false, true>(cur, Kind::Data, self.bounds(), lo, hi, Dir::Forward, |_, _| {
                            n += 1;
                            true
                        });
                    if owned {
                        ffi::mdb_cursor_close(cur);
                    }
                    r.map(|()| n)
                }
            })
        };
        self.settle(r)
    }

    fn max_value_len(&self) -> usize {
        MAX_VALUE
    }

    fn insert(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<bool> {
        let dbi = self.data;
        let h = Some((term, cmd));
        self.write_data(
            |c| Self::put_at(c, key, h, data, ffi::MDB_NOOVERWRITE),
            |t| Self::put_raw(t, dbi, key, h, data, ffi::MDB_NOOVERWRITE),
        )
    }

    fn put(&mut self, key: u64, term: u64, cmd: u64, data: &[u8]) -> Result<()> {
        let dbi = self.data;
        let h = Some((term, cmd));
        self.write_data(
            |c| Self::put_at(c, key, h, data, 0).map(|_| ()),
            |t| Self::put_raw(t, dbi, key, h, data, 0).map(|_| ()),
        )
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
        self.write_data(|c| Self::del_at(c, key), |t| Self::del_raw(t, dbi, key))
    }

    fn delete_range(&mut self, lo: u64, hi: u64) -> Result<u64> {
        let dbi = self.data;
        self.write(|_, t| Self::delete_range_raw(t, dbi, lo, hi))
    }

    fn ttl_scan(&mut self, f: &mut dyn FnMut(u64, u64)) -> Result<()> {
        let Some(dbi) = self.ttl else { return Ok(()) };
        let r = self.read_txn().and_then(|txn| {
            Self::cursor_scan::<true, false>(txn, dbi, Kind::Ttl, self.bounds(), 0, u64::MAX, Dir::Forward, |k, v| {
                // SAFETY: exactly 8 bytes (checked), possibly unaligned.
                f(k, unsafe { std::ptr::read_unaligned(v.as_ptr() as *const u64) });
                true
            })
        });
        self.settle(r)
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
        let r = self.file_stats_inner();
        self.settle(r)
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
                self.set_map_size(want)?;
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
        match unsafe { ffi::mdb_env_sync(self.env, 1) } {
            0 => Ok(()),
            rc => Err(self.write_err("mdb_env_sync", rc)),
        }
    }

    fn took_in_changes(&mut self) {
        self.seen = self.pending;
    }

    #[inline]
    fn changed_elsewhere(&mut self) -> Result<bool> {
        if self.txns.is_empty() {
            self.latest = self.last_txnid();
            if self.latest == self.seen {
                return Ok(false);
            }
        }
        self.take_in_changes()
    }

    fn version() -> String {
        admin::version()
    }

    fn details(&mut self) -> Result<Vec<(String, String)>> {
        self.admin_details()
    }

    fn check_storage(&mut self, checks: &mut Vec<Check>) {
        self.admin_check(checks)
    }

    fn compact(&mut self) -> Result<CompactReport> {
        self.admin_compact()
    }

    fn write_lock_held_at(path: &std::path::Path) -> Result<bool> {
        admin::write_lock_held_at(path)
    }

    fn snapshot_scan(
        &mut self,
        lo: u64,
        hi: u64,
        ttl: &mut dyn FnMut(u64, u64),
        f: &mut dyn FnMut(Row<'_>) -> bool,
    ) -> Result<()> {
        self.admin_snapshot(lo, hi, ttl, f)
    }
}
