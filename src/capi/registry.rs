//! The exported interface tables and the engine registry (`kvidxkitRegistry.h`).

use std::ffi::c_char;

use super::adapter::{NativeOps, native, table};
use super::types::{kvidxAdapterInfo, kvidxInterface};
#[cfg(feature = "rocksdb")]
use crate::engines::Rocksdb;
use crate::engines::{Lmdb, Sqlite};

/// Interface table of the SQLite3 engine; copy it into `kvidxInstance.interface`.
#[unsafe(no_mangle)]
pub static kvidxInterfaceSqlite3: kvidxInterface = table::<Sqlite>();

/// Interface table of the LMDB engine; copy it into `kvidxInstance.interface`.
#[unsafe(no_mangle)]
pub static kvidxInterfaceLmdb: kvidxInterface = table::<Lmdb>();

/// Interface table of the RocksDB engine (a build with the `rocksdb`
/// feature); copy it into `kvidxInstance.interface`.
#[cfg(feature = "rocksdb")]
#[unsafe(no_mangle)]
pub static kvidxInterfaceRocksdb: kvidxInterface = table::<Rocksdb>();

static SQLITE_NATIVE: NativeOps = native::<Sqlite>(&kvidxInterfaceSqlite3);
static LMDB_NATIVE: NativeOps = native::<Lmdb>(&kvidxInterfaceLmdb);
#[cfg(feature = "rocksdb")]
static ROCKSDB_NATIVE: NativeOps = native::<Rocksdb>(&kvidxInterfaceRocksdb);

/// Number of engines built in.
const ENGINES: usize = if cfg!(feature = "rocksdb") { 3 } else { 2 };

/// Native operations of every built-in engine.
pub(crate) static NATIVE: [&NativeOps; ENGINES] = [
    &SQLITE_NATIVE,
    &LMDB_NATIVE,
    #[cfg(feature = "rocksdb")]
    &ROCKSDB_NATIVE,
];

static REGISTRY: [kvidxAdapterInfo; ENGINES] = [
    kvidxAdapterInfo {
        name: c"SQLite3".as_ptr(),
        iface: &kvidxInterfaceSqlite3,
        pathSuffix: c".sqlite3".as_ptr(),
        isDirectory: false,
    },
    kvidxAdapterInfo {
        name: c"LMDB".as_ptr(),
        iface: &kvidxInterfaceLmdb,
        pathSuffix: c"".as_ptr(),
        isDirectory: true,
    },
    #[cfg(feature = "rocksdb")]
    kvidxAdapterInfo {
        name: c"RocksDB".as_ptr(),
        iface: &kvidxInterfaceRocksdb,
        pathSuffix: c"".as_ptr(),
        isDirectory: true,
    },
];

/// Number of engines built into the library.
#[unsafe(no_mangle)]
pub extern "C" fn kvidxGetAdapterCount() -> usize {
    REGISTRY.len()
}

/// Engine `index` (0-based), or NULL when out of range. Valid forever.
#[unsafe(no_mangle)]
pub extern "C" fn kvidxGetAdapterByIndex(index: usize) -> *const kvidxAdapterInfo {
    REGISTRY.get(index).map_or(std::ptr::null(), |a| a as *const _)
}

/// Engine by name, ASCII case-insensitive ("sqlite3", "LMDB"); NULL if none.
///
/// # Safety
/// `name` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxGetAdapterByName(name: *const c_char) -> *const kvidxAdapterInfo {
    if name.is_null() {
        return std::ptr::null();
    }
    let wanted = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes();
    REGISTRY
        .iter()
        .find(|a| unsafe { std::ffi::CStr::from_ptr(a.name) }.to_bytes().eq_ignore_ascii_case(wanted))
        .map_or(std::ptr::null(), |a| a as *const _)
}

/// True if an engine of that name is built in.
///
/// # Safety
/// `name` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kvidxHasAdapter(name: *const c_char) -> bool {
    !unsafe { kvidxGetAdapterByName(name) }.is_null()
}
