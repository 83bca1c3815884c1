//! Read snapshots that iterators hold so that their chunks point into the
//! LMDB map instead of copying every entry ([`Engine::scan_records`]).
//!
//! A pin is a read-only transaction and a cursor of its own (one reader
//! slot), at most [`MAX_PINS`] per open environment (iterators beyond that
//! copy their entries, as every iterator did before). What a pinned chunk
//! points to stays valid, whatever else happens on the instance, until the
//! iterator moves on to another chunk, is destroyed or is exhausted:
//! * the pages of the pin's snapshot are not reused while its transaction
//!   is live (LMDB never overwrites a page a reader may still see);
//! * the map they are in stays mapped: a resize of the map while a pin is
//!   live keeps the old mapping (csrc/lmdb patch 5) until no pin of that
//!   mapping remains;
//! * the environment is closed only after every pin's transaction is
//!   aborted: pins are registered here, and a pin dropped after the close
//!   (an iterator destroyed after its instance) finds nothing to release.
//!
//! [`Engine::scan_records`]: crate::engine::Engine::scan_records

use std::sync::Arc;

use parking_lot::Mutex;

use super::lmdb_ffi as ffi;

/// The most pins (reader slots) an open environment hands out.
pub(crate) const MAX_PINS: usize = 8;

/// A pin's LMDB handles.
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) txn: *mut ffi::MDB_txn,
    pub(crate) cur: *mut ffi::MDB_cursor,
    /// The mapping its snapshot was read through (see [`State::map`]); None
    /// while the transaction is reset (it holds no snapshot).
    pub(crate) map: Option<u64>,
    /// The snapshot's transaction id.
    pub(crate) id: u64,
}

struct State {
    /// False once the environment is closed.
    open: bool,
    /// Generation of the current mapping, advanced at every resize.
    map: u64,
    slots: Vec<Option<Slot>>,
    /// Old mappings kept for pins: (generation, address, length).
    kept: Vec<(u64, usize, usize)>,
}

/// The pins of one open environment.
pub(crate) struct Registry {
    state: Mutex<State>,
}

// SAFETY: the raw LMDB handles inside are only touched under the mutex (or
// by the engine, which the store serialises, for the pin it is filling).
// Read-only transactions of an environment opened with MDB_NOTLS may be
// used and ended from any thread.
unsafe impl Send for Registry {}
unsafe impl Sync for Registry {}

/// An iterator's hold on a [`Slot`]; dropping it ends the transaction.
pub(crate) struct Pin {
    pub(crate) reg: Arc<Registry>,
    pub(crate) idx: usize,
    /// Its transaction met an error: LMDB refuses any further use of it, so
    /// it is kept only while the records read before the error are read,
    /// and the iterator's next chunk takes a new pin.
    pub(crate) failed: bool,
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.reg.release(self.idx);
    }
}

impl Registry {
    pub(crate) fn new() -> Arc<Registry> {
        Arc::new(Registry { state: Mutex::new(State { open: true, map: 0, slots: Vec::new(), kept: Vec::new() }) })
    }

    /// The current mapping's generation.
    pub(crate) fn map(&self) -> u64 {
        self.state.lock().map
    }

    /// Whether another pin may be taken.
    pub(crate) fn room(&self) -> bool {
        let st = self.state.lock();
        st.open && st.slots.iter().flatten().count() < MAX_PINS
    }

    /// Registers a new pin's handles (a live snapshot read through mapping
    /// `map`). None when the environment is closed or every pin is taken:
    /// the caller ends the transaction itself then.
    pub(crate) fn add(self: &Arc<Self>, slot: Slot) -> Option<Pin> {
        let mut st = self.state.lock();
        if !st.open || st.slots.iter().flatten().count() >= MAX_PINS {
            return None;
        }
        let idx = match st.slots.iter().position(Option::is_none) {
            Some(i) => {
                st.slots[i] = Some(slot);
                i
            }
            None => {
                st.slots.push(Some(slot));
                st.slots.len() - 1
            }
        };
        Some(Pin { reg: Arc::clone(self), idx, failed: false })
    }

    /// The handles of pin `idx`.
    pub(crate) fn slot(&self, idx: usize) -> Option<Slot> {
        self.state.lock().slots.get(idx).copied().flatten()
    }

    /// Records what pin `idx` holds now (after a reset or a renewal), and
    /// unmaps old mappings no pin reads through any more.
    pub(crate) fn update(&self, idx: usize, map: Option<u64>, id: u64) {
        let mut st = self.state.lock();
        if let Some(Some(s)) = st.slots.get_mut(idx) {
            s.map = map;
            s.id = id;
        }
        st.unmap_unused();
    }

    /// Ends pin `idx` (its iterator is done with it).
    fn release(&self, idx: usize) {
        let mut st = self.state.lock();
        if let Some(s) = st.slots.get_mut(idx).and_then(Option::take) {
            if st.open {
                // SAFETY: the pin's own handles, ended once (the slot is
                // taken); the environment is still open.
                unsafe { end(s) };
            }
            st.unmap_unused();
        }
    }

    /// Resizes the map through `set` (mdb_env_set_mapsize), or, while a pin
    /// reads through the current mapping, through `keep`
    /// (mdb_env_set_mapsize_keep), which leaves the old mapping in place:
    /// it is unmapped when its last pin moves on. Returns LMDB's code.
    pub(crate) fn resize(
        &self,
        set: impl FnOnce() -> std::ffi::c_int,
        keep: impl FnOnce(&mut *mut std::ffi::c_void, &mut usize) -> std::ffi::c_int,
    ) -> std::ffi::c_int {
        let mut st = self.state.lock();
        let cur = st.map;
        let pinned = st.slots.iter().flatten().any(|s| s.map == Some(cur));
        let rc = if pinned {
            let (mut addr, mut len) = (std::ptr::null_mut(), 0usize);
            let rc = keep(&mut addr, &mut len);
            if !addr.is_null() {
                st.kept.push((cur, addr as usize, len));
            }
            rc
        } else {
            set()
        };
        st.map += 1;
        rc
    }

    /// Ends every pin and unmaps every kept mapping, before the environment
    /// closes. Pins dropped later find nothing to release.
    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        if !st.open {
            return;
        }
        for s in st.slots.iter_mut().filter_map(Option::take) {
            // SAFETY: each pin's own handles, ended once (taken).
            unsafe { end(s) };
        }
        st.open = false;
        for (_, addr, len) in st.kept.drain(..) {
            // SAFETY: a mapping LMDB handed over at a resize; no pin reads
            // through it any more (every pin has just ended).
            unsafe { libc::munmap(addr as *mut libc::c_void, len) };
        }
    }
}

impl State {
    fn unmap_unused(&mut self) {
        let slots = &self.slots;
        self.kept.retain(|&(map, addr, len)| {
            let used = slots.iter().flatten().any(|s| s.map == Some(map));
            if !used {
                // SAFETY: a mapping LMDB handed over at a resize, read
                // through by no pin any more.
                unsafe { libc::munmap(addr as *mut libc::c_void, len) };
            }
            used
        });
    }
}

/// Closes a pin's cursor and aborts its transaction.
///
/// # Safety
/// Live handles of an open environment, not used again.
unsafe fn end(s: Slot) {
    unsafe {
        ffi::mdb_cursor_close(s.cur);
        ffi::mdb_txn_abort(s.txn);
    }
}
