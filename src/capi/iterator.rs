//! `kvidxkitIterator.h`: iterators over an inclusive key range. On a
//! built-in engine the iterator reads entries in chunks through the core
//! [`Cursor`] (copied, or on LMDB read in place through a snapshot the
//! iterator holds); on a caller's adapter it steps with Get/GetNext/GetPrev
//! through the interface. Either way the value it hands out stays valid
//! until it moves or is destroyed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::adapter::{NativeOps, native_ops, write_entry};
use super::boundary::{I, data_ptr, guard, put, record, set_error};
use super::dispatch::{kvidxGet, kvidxGetNext, kvidxGetPrev};
use super::types::{kvidxError, kvidxInstance, kvidxIterDirectionRaw, kvidxIterator};
use crate::engine::{Dir, Record};
use crate::store::{Cursor, EntryRef, Shared, Visit};

pub(crate) struct IterState {
    inst: I,
    /// The instance's shared state, once a built-in engine's iterator has
    /// read (never set for a caller's adapter): the per-entry calls test it
    /// first, so that one test both selects the built-in path and reaches
    /// the generation counter and the closed flag.
    shared: Option<Arc<Shared>>,
    /// The built-in engines' cursor (unused on a caller's adapter).
    cursor: Cursor,
    mode: Mode,
}

enum Mode {
    Native(&'static NativeOps),
    Generic(GenericCursor),
}

/// Step-by-step iteration through a caller's interface table.
struct GenericCursor {
    lo: u64,
    hi: u64,
    dir: Dir,
    started: bool,
    valid: bool,
    key: u64,
    term: u64,
    cmd: u64,
    data: Vec<u8>,
}

impl GenericCursor {
    /// Loads the entry `found` by one of the dispatch reads into the cursor.
    unsafe fn take(&mut self, ok: bool, key: u64, term: u64, cmd: u64, data: *const u8, len: usize) -> bool {
        let in_range = ok && key >= self.lo && key <= self.hi;
        self.started = true;
        self.valid = in_range;
        if in_range {
            self.key = key;
            self.term = term;
            self.cmd = cmd;
            self.data.clear();
            if !data.is_null() && len > 0 {
                self.data.extend_from_slice(unsafe { std::slice::from_raw_parts(data, len) });
            }
        }
        in_range
    }

    /// [`kvidxIteratorGet`] on this cursor (out of line: the built-in
    /// engines' path is the one that runs per entry).
    #[inline(never)]
    unsafe fn get(&self, key: *mut u64, term: *mut u64, cmd: *mut u64, data: *mut *const u8, len: *mut usize) -> bool {
        if self.valid {
            let e = EntryRef { key: self.key, term: self.term, cmd: self.cmd, data: &self.data };
            unsafe { write_entry(e, key, term, cmd, data, len) };
        }
        self.valid
    }

    /// Exact `key`, else its neighbour in the iteration direction (strict).
    unsafe fn position(&mut self, i: I, key: u64) -> bool {
        let (mut k, mut t, mut c, mut d, mut l) = (0u64, 0u64, 0u64, std::ptr::null::<u8>(), 0usize);
        unsafe {
            if kvidxGet(i, key, &mut t, &mut c, &mut d, &mut l) {
                return self.take(true, key, t, c, d, l);
            }
            let ok = match self.dir {
                Dir::Forward => kvidxGetNext(i, key, &mut k, &mut t, &mut c, &mut d, &mut l),
                Dir::Backward => kvidxGetPrev(i, key, &mut k, &mut t, &mut c, &mut d, &mut l),
            };
            self.take(ok, k, t, c, d, l)
        }
    }

    unsafe fn next(&mut self, i: I) -> bool {
        if !self.started {
            let start = if self.dir == Dir::Forward { self.lo } else { self.hi };
            return unsafe { self.position(i, start) };
        }
        if !self.valid {
            return false;
        }
        let at_end = match self.dir {
            Dir::Forward => self.key == u64::MAX,
            Dir::Backward => self.key == 0,
        };
        if at_end {
            self.valid = false;
            return false;
        }
        let (mut k, mut t, mut c, mut d, mut l) = (0u64, 0u64, 0u64, std::ptr::null::<u8>(), 0usize);
        unsafe {
            let ok = match self.dir {
                Dir::Forward => kvidxGetNext(i, self.key, &mut k, &mut t, &mut c, &mut d, &mut l),
                Dir::Backward => kvidxGetPrev(i, self.key, &mut k, &mut t, &mut c, &mut d, &mut l),
            };
            self.take(ok, k, t, c, d, l)
        }
    }
}

/// Creates an iterator over `[startKey, endKey]` (inclusive). Any direction
/// other than KVIDX_ITER_FORWARD iterates backward. NULL for a NULL
/// instance or when startKey > endKey.
///
/// # Safety
/// `i` is NULL or a valid instance that outlives the iterator (after
/// kvidxClose only kvidxIteratorDestroy is allowed; the other calls then
/// answer false, 0 or nothing).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxIteratorCreate(
    i: *mut kvidxInstance,
    startKey: u64,
    endKey: u64,
    direction: kvidxIterDirectionRaw,
) -> *mut kvidxIterator {
    guard(i, std::ptr::null_mut(), || unsafe {
        if i.is_null() {
            return std::ptr::null_mut();
        }
        if startKey > endKey {
            set_error(
                i,
                kvidxError::KVIDX_ERROR_RANGE.raw(),
                &format!("IteratorCreate: startKey {startKey} > endKey {endKey}"),
            );
            return std::ptr::null_mut();
        }
        let dir = if direction == 0 { Dir::Forward } else { Dir::Backward };
        let mode = match native_ops(i) {
            Some(ops) => Mode::Native(ops),
            None => Mode::Generic(GenericCursor {
                lo: startKey,
                hi: endKey,
                dir,
                started: false,
                valid: false,
                key: 0,
                term: 0,
                cmd: 0,
                data: Vec::new(),
            }),
        };
        let cursor = Cursor::new(startKey, endKey, dir);
        Box::into_raw(Box::new(kvidxIterator { inner: IterState { inst: i, shared: None, cursor, mode } }))
    })
}

/// Moves to the next entry; false when the range is exhausted.
///
/// # Safety
/// `it` is NULL or a live iterator whose instance is still valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxIteratorNext(it: *mut kvidxIterator) -> bool {
    if it.is_null() {
        return false;
    }
    let st = unsafe { &mut (*it).inner };
    // Fast path, within the chunk already read: plain integer work that
    // cannot panic, so it runs outside the guard (and without the frame
    // of the slow path, which is a function of its own).
    if let Some(sh) = &st.shared
        && let Some(r) = st.cursor.advance_cached(sh.generation.load(Ordering::Relaxed))
    {
        return r;
    }
    unsafe { next_slow(st) }
}

/// [`kvidxIteratorNext`] when the store must be consulted.
///
/// # Safety
/// As [`kvidxIteratorNext`].
#[inline(never)]
unsafe extern "C" fn next_slow(st: &mut IterState) -> bool {
    let inst = st.inst;
    guard(inst, false, || unsafe {
        if inst.is_null() {
            return false;
        }
        match &mut st.mode {
            Mode::Native(ops) => match (ops.advance)(inst, &mut st.cursor, &mut st.shared) {
                Ok(r) => r,
                Err(e) => {
                    record(inst, "IteratorNext", &e);
                    false
                }
            },
            Mode::Generic(g) => g.next(inst),
        }
    })
}

/// Copies the current entry to the out-parameters (all optional). `*data`
/// belongs to the iterator: valid until it moves or is destroyed.
///
/// # Safety
/// `it` is NULL or a live iterator; out-parameters NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxIteratorGet(
    it: *const kvidxIterator,
    key: *mut u64,
    term: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
) -> bool {
    if it.is_null() {
        return false;
    }
    // No guard needed: reading the current entry cannot panic (no
    // allocation, no indexing that can fail) and it runs once per entry.
    let st = unsafe { &(*it).inner };
    if st.shared.is_some() {
        return live(st).and_then(|c| c.visit_current(Out { key, term, cmd, data, len })).is_some();
    }
    match &st.mode {
        Mode::Generic(g) => unsafe { g.get(key, term, cmd, data, len) },
        Mode::Native(_) => false,
    }
}

/// The out-parameters of [`kvidxIteratorGet`] (all optional).
struct Out {
    key: *mut u64,
    term: *mut u64,
    cmd: *mut u64,
    data: *mut *const u8,
    len: *mut usize,
}

impl Visit<'_> for Out {
    type Out = ();

    #[inline(always)]
    fn visit(self, e: EntryRef<'_>) {
        // SAFETY: kvidxIteratorGet's caller hands writable or NULL pointers.
        unsafe { write_entry(e, self.key, self.term, self.cmd, self.data, self.len) }
    }

    /// Each field is written as soon as it is read (what [`write_entry`]
    /// writes, in its order): reading them all first would hold five values
    /// and five out-parameters at once, more than the registers a call may
    /// use without saving any.
    #[inline(always)]
    unsafe fn visit_record(self, r: &Record) {
        // SAFETY: kvidxIteratorGet's caller hands writable or NULL
        // pointers; the record is readable (the visit's promise).
        unsafe {
            put(self.key, r.key);
            put(self.term, r.term());
            put(self.cmd, r.cmd());
            let (p, len) = r.data();
            put(self.data, data_ptr(std::slice::from_raw_parts(p as *const u8, len)));
            put(self.len, len);
        }
    }
}

/// The cursor of a built-in engine's iterator that has read, while its
/// instance is open: none once it is closed (a value read in place went
/// with it; a copy is not handed out either, so that every engine answers
/// alike). The instance is tested first: records read in place are not
/// even looked at once it is closed (the map they lie in is gone).
#[inline(always)]
fn live(st: &IterState) -> Option<&Cursor> {
    match &st.shared {
        Some(s) if !s.closed.load(Ordering::Relaxed) => Some(&st.cursor),
        _ => None,
    }
}

/// The entry a built-in engine's iterator is on ([`live`]).
#[inline(always)]
fn current(st: &IterState) -> Option<EntryRef<'_>> {
    live(st)?.current()
}

/// The current key (0 when the iterator is NULL or not positioned).
///
/// # Safety
/// `it` is NULL or a live iterator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxIteratorKey(it: *const kvidxIterator) -> u64 {
    if it.is_null() {
        return 0;
    }
    let st = unsafe { &(*it).inner };
    match &st.mode {
        Mode::Native(_) => current(st).map_or(0, |e| e.key),
        Mode::Generic(g) if g.valid => g.key,
        Mode::Generic(_) => 0,
    }
}

/// True while the iterator is positioned on an entry.
///
/// # Safety
/// `it` is NULL or a live iterator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxIteratorValid(it: *const kvidxIterator) -> bool {
    if it.is_null() {
        return false;
    }
    let st = unsafe { &(*it).inner };
    match &st.mode {
        Mode::Native(_) => current(st).is_some(),
        Mode::Generic(g) => g.valid,
    }
}

/// Positions on `key`, or on the next entry in the iteration direction if
/// `key` is absent. A key outside the range leaves the iterator exhausted.
///
/// # Safety
/// `it` is NULL or a live iterator whose instance is still valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxIteratorSeek(it: *mut kvidxIterator, key: u64) -> bool {
    if it.is_null() {
        return false;
    }
    let st = unsafe { &mut (*it).inner };
    let inst = st.inst;
    guard(inst, false, || unsafe {
        if inst.is_null() {
            return false;
        }
        match &mut st.mode {
            Mode::Native(ops) => match (ops.seek)(inst, &mut st.cursor, &mut st.shared, key) {
                Ok(r) => r,
                Err(e) => {
                    record(inst, "IteratorSeek", &e);
                    false
                }
            },
            Mode::Generic(g) => {
                if key < g.lo || key > g.hi {
                    g.started = true;
                    g.valid = false;
                    return false;
                }
                g.position(inst, key)
            }
        }
    })
}

/// Frees the iterator (NULL is allowed).
///
/// # Safety
/// `it` is NULL or an iterator not yet destroyed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxIteratorDestroy(it: *mut kvidxIterator) {
    if !it.is_null() {
        drop(unsafe { Box::from_raw(it) });
    }
}
