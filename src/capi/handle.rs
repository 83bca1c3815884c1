//! What `kvidxInstance.kvidxdata` points to for a built-in engine, and the
//! instance lock that makes every public call one serialised unit (I3).
//!
//! * **Handles are never freed.** A closed handle goes back to its engine's
//!   pool and is reused by a later open, so a thread that read `kvidxdata`
//!   just before another thread closed the instance still locks valid
//!   memory; it then sees that the instance moved on and answers "not open".
//!   The pool also tells, without reading through the pointer, whether a
//!   `kvidxdata` is one of ours (a caller's own adapter keeps its own state
//!   there).
//! * **One reentrant lock per instance.** Every entry point takes it once
//!   for its whole duration (compound calls such as a batch included); the
//!   engine's table members take it again, reentrantly, so a compound call
//!   made of member calls stays one unit. The store itself is lent to one
//!   call at a time (a busy flag): caller code run from inside a call (a batch filter, a
//!   progress callback) may call back into the instance, and either works
//!   or gets a clear `KVIDX_ERROR_LOCKED`, never a deadlock.
//! * **Instances of a caller's adapter** are locked by a striped table of
//!   reentrant locks keyed by the instance's address.
//! * **Transactions are exclusive.** While one thread has a transaction open
//!   (kvidxBegin), other threads' calls wait for it to end, up to the
//!   instance's busy timeout, then fail with `KVIDX_ERROR_LOCKED`.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, ReentrantMutex, ReentrantMutexGuard};

use super::boundary::I;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::Store;

const HANDLE_MAGIC: u64 = 0x6b76_6964_785f_6831;

pub(crate) use crate::engine::thread_token;

/// The part of a handle that does not depend on the engine (at offset 0).
#[repr(C)]
pub(crate) struct Head {
    tag: u64,
    lock: ReentrantMutex<()>,
    /// Thread token of the thread whose transaction is open (0: none).
    txn_owner: AtomicUsize,
    /// How long other threads wait for that transaction (milliseconds).
    busy_ms: AtomicU32,
    /// Calls in progress on this instance that run caller code (callbacks)
    /// with the lock held; the instance cannot be closed meanwhile.
    callouts: AtomicU32,
    gate: Mutex<()>,
    gate_cv: Condvar,
}

impl Head {
    fn new(tag: u64) -> Self {
        Head {
            tag,
            lock: ReentrantMutex::new(()),
            txn_owner: AtomicUsize::new(0),
            busy_ms: AtomicU32::new(0),
            callouts: AtomicU32::new(0),
            gate: Mutex::new(()),
            gate_cv: Condvar::new(),
        }
    }

    /// Waits until no other thread's transaction is open on the instance
    /// (the lock is not held). LOCKED after the busy timeout.
    fn wait_for_transaction(&self, me: usize) -> Result<()> {
        let ms = self.busy_ms.load(Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_millis(ms as u64);
        let mut g = self.gate.lock();
        loop {
            let owner = self.txn_owner.load(Ordering::Acquire);
            if owner == 0 || owner == me {
                return Ok(());
            }
            if ms == 0 || (self.gate_cv.wait_until(&mut g, deadline).timed_out() && Instant::now() >= deadline) {
                let owner = self.txn_owner.load(Ordering::Acquire);
                if owner == 0 || owner == me {
                    return Ok(());
                }
                return Err(Error::Locked(format!(
                    "a transaction of another thread is open on this instance (waited {ms} ms, the busy timeout)"
                )));
            }
        }
    }

    /// Records who owns the open transaction (under the instance lock) and
    /// wakes the threads waiting for it to end.
    fn set_txn_owner(&self, owner: usize) {
        let old = self.txn_owner.swap(owner, Ordering::Release);
        if old != 0 && owner == 0 {
            let _g = self.gate.lock();
            self.gate_cv.notify_all();
        }
    }
}

/// A built-in engine's state behind `kvidxdata`.
#[repr(C)]
pub(crate) struct Handle<E: Engine> {
    head: Head,
    /// `None` while the handle waits in the pool.
    store: UnsafeCell<Option<Store<E>>>,
    /// True while a call holds `store` (its callbacks find it busy).
    busy: Cell<bool>,
}

// SAFETY: `store` is only touched with `head.lock` held (see `Locked`), and
// the store itself is `Send`.
unsafe impl<E: Engine> Sync for Handle<E> {}

// ----------------------------------------------------------------------
// The pools: handles are allocated in chunks that are never freed.

const CHUNK: usize = 64;
const MAX_CHUNKS: usize = 1024;
const ENGINES: usize = 4;

struct Pool {
    chunks: [AtomicPtr<u8>; MAX_CHUNKS],
    n_chunks: AtomicUsize,
    /// Size of one handle of this pool's engine (0 until first used).
    elem: AtomicUsize,
    /// Free handles, oldest first (reused as late as possible).
    free: Mutex<std::collections::VecDeque<usize>>,
}

impl Pool {
    const fn new() -> Self {
        Pool {
            chunks: [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_CHUNKS],
            n_chunks: AtomicUsize::new(0),
            elem: AtomicUsize::new(0),
            free: Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// True if `p` is the address of one of this pool's handles.
    #[inline(always)]
    fn contains(&self, p: usize) -> bool {
        self.contains_sized(p, self.elem.load(Ordering::Relaxed))
    }

    /// [`Pool::contains`] for the pool of engine `E`, whose handle size is
    /// known here: the remainder is a multiplication, not a division (a
    /// `div` on every call otherwise).
    #[inline(always)]
    fn contains_handle<E: Engine>(&self, p: usize) -> bool {
        self.contains_sized(p, size_of::<Handle<E>>())
    }

    /// [`Pool::contains`] with the size of one handle (0 while the pool is
    /// unused). The first chunk holds the first 64 open instances: one
    /// range check.
    #[inline(always)]
    fn contains_sized(&self, p: usize, elem: usize) -> bool {
        let base = self.chunks[0].load(Ordering::Acquire) as usize;
        let off = p.wrapping_sub(base);
        if base != 0 && off < CHUNK * elem {
            return off.is_multiple_of(elem);
        }
        self.contains_slow(p, elem)
    }

    #[cold]
    fn contains_slow(&self, p: usize, elem: usize) -> bool {
        let n = self.n_chunks.load(Ordering::Acquire);
        if elem == 0 || n < 2 {
            return false;
        }
        for c in &self.chunks[1..n] {
            let base = c.load(Ordering::Acquire) as usize;
            if p >= base && p < base + CHUNK * elem {
                return (p - base).is_multiple_of(elem);
            }
        }
        false
    }
}

static POOLS: [Pool; ENGINES] = [const { Pool::new() }; ENGINES];

fn pool<E: Engine>() -> &'static Pool {
    &POOLS[E::ID as usize % ENGINES]
}

/// The head of the built-in handle `p`, or `None` when `p` is not one of
/// ours (NULL, or a caller's adapter state). Never reads through `p` unless
/// it is ours.
#[inline]
pub(crate) fn head_of(p: *mut c_void) -> Option<&'static Head> {
    if p.is_null() {
        return None;
    }
    let a = p as usize;
    if POOLS.iter().any(|pl| pl.contains(a)) {
        // SAFETY: a handle of one of our pools: never freed, Head at offset 0.
        Some(unsafe { &*(p as *const Head) })
    } else {
        None
    }
}

/// Takes a handle from the pool and puts `store` in it.
pub(crate) fn new_handle<E: Engine>(store: Store<E>) -> *mut c_void {
    let pool = pool::<E>();
    let mut free = pool.free.lock();
    let p = match free.pop_front() {
        Some(p) => p,
        None => {
            let n = pool.n_chunks.load(Ordering::Acquire);
            assert!(n < MAX_CHUNKS, "too many open instances");
            let tag = HANDLE_MAGIC ^ E::ID as u64;
            let chunk: Vec<Handle<E>> = (0..CHUNK)
                .map(|_| Handle { head: Head::new(tag), store: UnsafeCell::new(None), busy: Cell::new(false) })
                .collect();
            let base = Box::leak(chunk.into_boxed_slice()).as_mut_ptr();
            pool.elem.store(size_of::<Handle<E>>(), Ordering::Release);
            pool.chunks[n].store(base as *mut u8, Ordering::Release);
            pool.n_chunks.store(n + 1, Ordering::Release);
            for k in 1..CHUNK {
                // SAFETY: within the chunk just allocated.
                free.push_back(unsafe { base.add(k) } as usize);
            }
            base as usize
        }
    };
    drop(free);
    // SAFETY: a free handle of this engine's pool; nobody uses its store.
    let h = unsafe { &*(p as *const Handle<E>) };
    let _g = h.head.lock.lock();
    h.head.txn_owner.store(0, Ordering::Relaxed);
    h.head.callouts.store(0, Ordering::Relaxed);
    h.head.busy_ms.store(store.config().busy_timeout_ms.max(0) as u32, Ordering::Relaxed);
    // SAFETY: under the handle's lock, and a pooled handle is not busy.
    unsafe { *h.store.get() = Some(store) };
    p as *mut c_void
}

// ----------------------------------------------------------------------
// The instance lock

/// Lock stripes for instances that are not open on a built-in engine.
static STRIPES: [ReentrantMutex<()>; 64] = [const { ReentrantMutex::new(()) }; 64];

fn stripe(i: I) -> &'static ReentrantMutex<()> {
    let a = i as usize;
    &STRIPES[(a >> 4 ^ a >> 10) % STRIPES.len()]
}

/// `(*i).kvidxdata`, read atomically (another thread may be opening or
/// closing the instance).
///
/// # Safety
/// `i` is a valid instance.
#[inline]
pub(crate) unsafe fn kvidxdata(i: I) -> *mut c_void {
    // SAFETY: the field is a properly aligned pointer-sized word.
    unsafe { (*(std::ptr::addr_of!((*i).kvidxdata) as *const AtomicPtr<c_void>)).load(Ordering::Acquire) }
}

/// Sets `(*i).kvidxdata` atomically.
///
/// # Safety
/// `i` is a valid instance.
#[inline]
pub(crate) unsafe fn set_kvidxdata(i: I, p: *mut c_void) {
    // SAFETY: as in `kvidxdata`.
    unsafe { (*(std::ptr::addr_of!((*i).kvidxdata) as *const AtomicPtr<c_void>)).store(p, Ordering::Release) }
}

/// The instance's lock, held.
pub(crate) struct InstanceGuard {
    _g: ReentrantMutexGuard<'static, ()>,
    /// The handle's head when the instance is open on a built-in engine.
    pub(crate) head: Option<&'static Head>,
}

/// Locks instance `i` (reentrant). With `wait`, the outermost lock of a call
/// first waits for another thread's open transaction to end (LOCKED after
/// the busy timeout); error recording does not wait.
///
/// # Safety
/// `i` is a valid instance.
pub(crate) unsafe fn instance_lock(i: I, wait: bool) -> Result<InstanceGuard> {
    loop {
        let p = unsafe { kvidxdata(i) };
        match head_of(p) {
            Some(h) => {
                if let Some(g) = unsafe { lock_head(i, p, h, wait)? } {
                    return Ok(g);
                }
            }
            None => {
                let g = stripe(i).lock();
                if head_of(unsafe { kvidxdata(i) }).is_some() {
                    continue; // opened meanwhile
                }
                return Ok(InstanceGuard { _g: g, head: None });
            }
        }
    }
}

/// Locks handle `h`, which `kvidxdata` held as `p`. `None`: the instance
/// was closed or reopened meanwhile (try again).
///
/// # Safety
/// `i` is a valid instance.
#[inline(always)]
unsafe fn lock_head(i: I, p: *mut c_void, h: &'static Head, wait: bool) -> Result<Option<InstanceGuard>> {
    let g = h.lock.lock();
    if unsafe { kvidxdata(i) } != p {
        return Ok(None);
    }
    if wait {
        // Only the lock holder changes the owner, so a thread that already
        // held the lock (a nested call) finds 0 or itself here.
        let owner = h.txn_owner.load(Ordering::Acquire);
        if owner != 0 {
            let me = thread_token();
            if owner != me {
                drop(g);
                h.wait_for_transaction(me)?;
                return Ok(None);
            }
        }
    }
    Ok(Some(InstanceGuard { _g: g, head: Some(h) }))
}

/// Instance `i` locked, on engine `E`.
pub(crate) struct Locked<E: Engine> {
    g: InstanceGuard,
    h: &'static Handle<E>,
}

/// The error of a call made from caller code that runs inside another call
/// on the same instance, where that is not possible.
pub(crate) fn reentrant_error() -> Error {
    Error::Locked("the instance is busy with the call whose callback made this call".into())
}

impl<E: Engine> Locked<E> {
    /// The store (not available to a callback of a call that holds it).
    #[inline]
    pub(crate) fn store(&self) -> Result<StoreRef<'_, E>> {
        if self.h.busy.get() {
            return Err(reentrant_error());
        }
        // SAFETY: the handle's lock is held by this thread and the store is
        // not lent out (busy is false): this is the only reference to it.
        match unsafe { &mut *self.h.store.get() } {
            Some(store) => {
                self.h.busy.set(true);
                Ok(StoreRef { store, busy: &self.h.busy })
            }
            None => Err(Error::invalid("instance is not open")),
        }
    }

    /// After a call: the instance's `transactionActive` and the transaction
    /// owner follow the store.
    ///
    /// # Safety
    /// `i` is the instance this lock belongs to.
    #[inline]
    pub(crate) unsafe fn sync_state(&self, i: I, s: &Store<E>) {
        let t = s.in_transaction();
        unsafe {
            if (*i).transactionActive != t {
                (*i).transactionActive = t;
            }
        }
        let head = &self.h.head;
        let owner = head.txn_owner.load(Ordering::Relaxed);
        if t && owner == 0 {
            head.set_txn_owner(thread_token());
        } else if !t && owner != 0 {
            head.set_txn_owner(0);
        }
    }

    /// Updates the busy timeout other threads wait for a transaction.
    pub(crate) fn set_busy_ms(&self, ms: i32) {
        self.h.head.busy_ms.store(ms.max(0) as u32, Ordering::Relaxed);
    }

    /// Runs caller code (a callback) with the lock held but the store
    /// released, so the callback may call back into the instance (it cannot
    /// close it meanwhile).
    pub(crate) fn callout<R>(&self, f: impl FnOnce() -> R) -> R {
        let c = &self.h.head.callouts;
        c.fetch_add(1, Ordering::Relaxed);
        struct Done<'a>(&'a AtomicU32);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let _d = Done(c);
        f()
    }

    /// Takes the store out for closing: refused while a callback of a call
    /// on this instance runs.
    pub(crate) fn take(&self) -> Result<Store<E>> {
        if self.h.head.callouts.load(Ordering::Relaxed) != 0 {
            return Err(reentrant_error());
        }
        if self.h.busy.get() {
            return Err(reentrant_error());
        }
        // SAFETY: lock held, store not lent out.
        let b = unsafe { &mut *self.h.store.get() };
        b.take().ok_or_else(|| Error::invalid("instance is not open"))
    }

    /// Puts a store back (a close that failed).
    pub(crate) fn put_back(&self, s: Store<E>) {
        // SAFETY: lock held, store not lent out (it was just taken).
        unsafe { *self.h.store.get() = Some(s) };
    }

    /// Returns the (now empty) handle to the pool and marks the instance
    /// closed.
    ///
    /// # Safety
    /// `i` is the instance this lock belongs to; its store was taken.
    pub(crate) unsafe fn release(self, i: I) {
        let p = self.h as *const Handle<E> as usize;
        unsafe { set_kvidxdata(i, std::ptr::null_mut()) };
        self.h.head.set_txn_owner(0);
        drop(self.g);
        pool::<E>().free.lock().push_back(p);
    }
}

/// The store of a locked instance, lent to one call (the handle is busy
/// until it is dropped).
pub(crate) struct StoreRef<'a, E: Engine> {
    store: &'a mut Store<E>,
    busy: &'a Cell<bool>,
}

impl<E: Engine> std::ops::Deref for StoreRef<'_, E> {
    type Target = Store<E>;
    #[inline]
    fn deref(&self) -> &Store<E> {
        self.store
    }
}

impl<E: Engine> std::ops::DerefMut for StoreRef<'_, E> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Store<E> {
        self.store
    }
}

impl<E: Engine> Drop for StoreRef<'_, E> {
    #[inline]
    fn drop(&mut self) {
        self.busy.set(false);
    }
}

/// Locks instance `i`, which must be open on engine `E`.
///
/// # Safety
/// `i` is NULL or a valid instance.
#[inline(always)]
pub(crate) unsafe fn lock<E: Engine>(i: I) -> Result<Locked<E>> {
    if i.is_null() {
        return Err(Error::invalid("instance is NULL"));
    }
    // The common case: an instance open on this engine (one pool to look in).
    let p = unsafe { kvidxdata(i) };
    if pool::<E>().contains_handle::<E>(p as usize) {
        // SAFETY: a handle of E's pool: never freed, a Handle<E>.
        let h = unsafe { &*(p as *const Handle<E>) };
        if let Some(g) = unsafe { lock_head(i, p, &h.head, true)? } {
            return Ok(Locked { g, h });
        }
    }
    let g = unsafe { instance_lock(i, true)? };
    let Some(head) = g.head else {
        return Err(if unsafe { kvidxdata(i) }.is_null() {
            Error::invalid("instance is not open")
        } else {
            Error::invalid(format!("instance was not opened by the {} engine", E::NAME))
        });
    };
    if head.tag != HANDLE_MAGIC ^ E::ID as u64 {
        return Err(Error::invalid(format!("instance was not opened by the {} engine", E::NAME)));
    }
    // SAFETY: the tag says this head starts a Handle<E>.
    let h = unsafe { &*(head as *const Head as *const Handle<E>) };
    Ok(Locked { g, h })
}
