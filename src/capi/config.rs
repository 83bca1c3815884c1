//! Conversions between the C `kvidxConfig` / `kvidxStats` and the core types,
//! and the configuration entry points.

use std::ffi::{CStr, c_char};

use super::boundary::{I, guard, invalid, record};
use super::handle::{instance_lock, kvidxdata};
use super::types::{kvidxConfig, kvidxError, kvidxErrorRaw, kvidxInstance, kvidxStats};
use crate::config::{Config, JournalMode, Stats, SyncMode};
use crate::error::{Error, Result};

/// Reads a C configuration, validating its enum fields (A2).
///
/// # Safety
/// `vfsName` is NULL or a valid C string.
pub(crate) unsafe fn config_from_c(c: &kvidxConfig) -> Result<Config> {
    let journal_mode = JournalMode::from_raw(c.journalMode)
        .ok_or_else(|| Error::invalid(format!("journalMode {} is out of range", c.journalMode)))?;
    let sync_mode = SyncMode::from_raw(c.syncMode)
        .ok_or_else(|| Error::invalid(format!("syncMode {} is out of range", c.syncMode)))?;
    let vfs_name = if c.vfsName.is_null() {
        None
    } else {
        let s = unsafe { CStr::from_ptr(c.vfsName) };
        Some(s.to_str().map_err(|_| Error::invalid("vfsName is not valid UTF-8"))?.to_string())
    };
    let cfg = Config {
        cache_size_bytes: c.cacheSizeBytes,
        vfs_name,
        journal_mode,
        sync_mode,
        recursive_triggers: c.enableRecursiveTriggers,
        foreign_keys: c.enableForeignKeys,
        read_only: c.readOnly,
        busy_timeout_ms: c.busyTimeoutMs,
        mmap_size_bytes: c.mmapSizeBytes,
        page_size: c.pageSize,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// A C configuration for `cfg`; `vfs` is the caller's own string pointer
/// (the library never hands out pointers to strings it owns here).
pub(crate) fn config_to_c(cfg: &Config, vfs: *const c_char) -> kvidxConfig {
    kvidxConfig {
        cacheSizeBytes: cfg.cache_size_bytes,
        vfsName: vfs,
        journalMode: cfg.journal_mode.raw(),
        syncMode: cfg.sync_mode.raw(),
        enableRecursiveTriggers: cfg.recursive_triggers,
        enableForeignKeys: cfg.foreign_keys,
        readOnly: cfg.read_only,
        busyTimeoutMs: cfg.busy_timeout_ms,
        mmapSizeBytes: cfg.mmap_size_bytes,
        pageSize: cfg.page_size,
    }
}

/// Stores the configuration in effect in the instance (GetConfig reports it).
///
/// # Safety
/// `i` is a valid instance.
pub(crate) unsafe fn store_effective(i: I, cfg: &Config) {
    unsafe {
        let vfs = if (*i).configInitialized && cfg.vfs_name.is_some() { (*i).config.vfsName } else { std::ptr::null() };
        (*i).config = config_to_c(cfg, vfs);
        (*i).configInitialized = true;
    }
}

pub(crate) fn stats_to_c(s: &Stats) -> kvidxStats {
    kvidxStats {
        totalKeys: s.total_keys,
        minKey: s.min_key,
        maxKey: s.max_key,
        totalDataBytes: s.total_data_bytes,
        databaseFileSize: s.database_file_size,
        walFileSize: s.wal_file_size,
        pageCount: s.page_count,
        pageSize: s.page_size,
        freePages: s.free_pages,
    }
}

/// The default configuration: 32 MiB cache, WAL, synchronous NORMAL,
/// recursive triggers on, foreign keys off, busy timeout 5000 ms.
#[unsafe(no_mangle)]
pub extern "C" fn kvidxConfigDefault() -> kvidxConfig {
    config_to_c(&Config::default(), std::ptr::null())
}

/// Opens `filename` and applies `config` (NULL: `kvidxConfigDefault()`).
/// Built-in engines apply it from the start; a custom adapter only has it
/// stored. On failure `*err` (optional) explains why.
///
/// # Safety
/// `i` is NULL or a valid instance; `filename` is NULL or a C string;
/// `config` is NULL or valid; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxOpenWithConfig(
    i: *mut kvidxInstance,
    filename: *const c_char,
    config: *const kvidxConfig,
    err: *mut *const c_char,
) -> bool {
    guard(i, false, || unsafe {
        const MSG: &CStr = c"Invalid arguments: instance and filename required";
        if i.is_null() || filename.is_null() {
            invalid(i, "OpenWithConfig", "instance and filename required");
            if !err.is_null() {
                *err = MSG.as_ptr();
            }
            return false;
        }
        let cfg = if config.is_null() { kvidxConfigDefault() } else { *config };
        let fail = |e: &Error| {
            record(i, "OpenWithConfig", e);
            if !err.is_null() {
                *err = (*i).lastErrorMessage.as_ptr();
            }
            false
        };
        if let Err(e) = config_from_c(&cfg) {
            return fail(&e);
        }
        let _g = match instance_lock(i, true) {
            Ok(g) => g,
            Err(e) => return fail(&e),
        };
        if !kvidxdata(i).is_null() {
            // Refused before anything is stored: the open instance keeps its configuration.
            return super::dispatch::open_dispatch(i, filename, err);
        }
        (*i).config = cfg;
        (*i).configInitialized = true;
        let ok = super::dispatch::open_dispatch(i, filename, err);
        if !ok {
            (*i).configInitialized = false;
        }
        ok
    })
}

/// Applies `config` to an open instance of a built-in engine (a custom
/// adapter only has it stored). On error the previous configuration stays
/// in force and is still what `kvidxGetConfig` reports.
///
/// # Safety
/// `i` and `config` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxUpdateConfig(i: *mut kvidxInstance, config: *const kvidxConfig) -> kvidxErrorRaw {
    guard(i, kvidxError::KVIDX_ERROR_INTERNAL.raw(), || unsafe { update_config_with(i, config, None) })
}

/// One engine's way to apply a configuration to an instance it opened.
pub(crate) type UpdateFn = unsafe fn(I, &Config) -> Result<Config>;

/// The body of `kvidxUpdateConfig`. `engine`: None applies the configuration
/// with the engine the instance's interface belongs to (a caller's own
/// adapter only has it stored); the per-engine `kvidxSqlite3ApplyConfig` /
/// `kvidxLmdbApplyConfig` pass their engine's function, which refuses an
/// instance that engine did not open.
///
/// # Safety
/// `i` and `config` are NULL or valid.
pub(crate) unsafe fn update_config_with(
    i: *mut kvidxInstance,
    config: *const kvidxConfig,
    engine: Option<UpdateFn>,
) -> kvidxErrorRaw {
    unsafe {
        if i.is_null() || config.is_null() {
            return invalid(i, "UpdateConfig", "instance and config required");
        }
        let c = *config;
        let fail = |e: Error| {
            record(i, "UpdateConfig", &e);
            e.code() as u32
        };
        let cfg = match config_from_c(&c) {
            Ok(cfg) => cfg,
            Err(e) => return fail(e),
        };
        let _g = match instance_lock(i, true) {
            Ok(g) => g,
            Err(e) => return fail(e),
        };
        if kvidxdata(i).is_null() {
            // Nothing to apply it to; the stored configuration is unchanged.
            return fail(Error::invalid("instance is not open"));
        }
        // Under the lock: the interface is read only there (I3).
        let update = match engine {
            Some(f) => Some(f),
            None => super::adapter::native_ops(i).map(|ops| ops.update_config),
        };
        match update {
            Some(update) => match update(i, &cfg) {
                Ok(effective) => {
                    let vfs = c.vfsName;
                    (*i).config =
                        config_to_c(&effective, if effective.vfs_name.is_some() { vfs } else { std::ptr::null() });
                    (*i).configInitialized = true;
                    0
                }
                Err(e) => {
                    record(i, "UpdateConfig", &e);
                    e.code() as u32
                }
            },
            None => {
                (*i).config = c;
                (*i).configInitialized = true;
                0
            }
        }
    }
}

/// Copies the configuration in effect (the default one if none was ever set).
///
/// # Safety
/// `i` and `config` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetConfig(i: *const kvidxInstance, config: *mut kvidxConfig) -> kvidxErrorRaw {
    guard(i as I, kvidxError::KVIDX_ERROR_INTERNAL.raw(), || unsafe {
        if i.is_null() || config.is_null() {
            return invalid(i as I, "GetConfig", "instance and config required");
        }
        let _g = match instance_lock(i as I, true) {
            Ok(g) => g,
            Err(e) => {
                record(i as I, "GetConfig", &e);
                return e.code() as u32;
            }
        };
        *config = if (*i).configInitialized { (*i).config } else { kvidxConfigDefault() };
        // A built-in engine may have changed a setting by itself since (LMDB's map grows).
        if (*i).configInitialized
            && !kvidxdata(i as I).is_null()
            && let Some(ops) = super::adapter::native_ops(i as I)
            && let Ok(now) = (ops.current_config)(i as I)
        {
            (*config).mmapSizeBytes = now.mmap_size_bytes;
        }
        0
    })
}
