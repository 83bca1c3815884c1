//! The part of RocksDB's C API (`rocksdb/c.h`, the system's librocksdb,
//! 7.8 on Debian 12) that the engine and its tests use, declared by hand:
//! no binding crate builds RocksDB without compiling it from source.
//!
//! Every handle is an opaque pointer. Functions that can fail take
//! `errptr`: on failure RocksDB stores a `malloc`ed message there (release
//! it with `rocksdb_free`); on success it leaves it untouched. Values
//! returned as `*mut c_char` are `malloc`ed copies (release with
//! `rocksdb_free`).
#![allow(non_camel_case_types, dead_code)]

use std::ffi::{c_char, c_int, c_uchar, c_void};

macro_rules! opaque {
    ($($name:ident),* $(,)?) => {
        $(
            #[repr(C)]
            pub struct $name {
                _private: [u8; 0],
            }
        )*
    };
}

opaque!(
    rocksdb_t,
    rocksdb_options_t,
    rocksdb_readoptions_t,
    rocksdb_writeoptions_t,
    rocksdb_writebatch_t,
    rocksdb_writebatch_wi_t,
    rocksdb_iterator_t,
    rocksdb_pinnableslice_t,
    rocksdb_block_based_table_options_t,
    rocksdb_cache_t,
    rocksdb_filterpolicy_t,
    rocksdb_flushoptions_t,
);

/// `InfoLogLevel::HEADER_LEVEL`: only the messages written at open.
pub const INFO_LOG_HEADER: c_int = 5;

pub type PutFn = unsafe extern "C" fn(*mut c_void, *const c_char, usize, *const c_char, usize);
pub type DeleteFn = unsafe extern "C" fn(*mut c_void, *const c_char, usize);

// Linked by build.rs (cargo feature `rocksdb`).
unsafe extern "C" {
    // Database.
    pub fn rocksdb_open(
        options: *const rocksdb_options_t,
        name: *const c_char,
        errptr: *mut *mut c_char,
    ) -> *mut rocksdb_t;
    pub fn rocksdb_open_for_read_only(
        options: *const rocksdb_options_t,
        name: *const c_char,
        error_if_wal_file_exists: c_uchar,
        errptr: *mut *mut c_char,
    ) -> *mut rocksdb_t;
    pub fn rocksdb_close(db: *mut rocksdb_t);
    pub fn rocksdb_put(
        db: *mut rocksdb_t,
        options: *const rocksdb_writeoptions_t,
        key: *const c_char,
        keylen: usize,
        val: *const c_char,
        vallen: usize,
        errptr: *mut *mut c_char,
    );
    pub fn rocksdb_delete(
        db: *mut rocksdb_t,
        options: *const rocksdb_writeoptions_t,
        key: *const c_char,
        keylen: usize,
        errptr: *mut *mut c_char,
    );
    pub fn rocksdb_write(
        db: *mut rocksdb_t,
        options: *const rocksdb_writeoptions_t,
        batch: *mut rocksdb_writebatch_t,
        errptr: *mut *mut c_char,
    );
    pub fn rocksdb_get(
        db: *mut rocksdb_t,
        options: *const rocksdb_readoptions_t,
        key: *const c_char,
        keylen: usize,
        vallen: *mut usize,
        errptr: *mut *mut c_char,
    ) -> *mut c_char;
    pub fn rocksdb_get_pinned(
        db: *mut rocksdb_t,
        options: *const rocksdb_readoptions_t,
        key: *const c_char,
        keylen: usize,
        errptr: *mut *mut c_char,
    ) -> *mut rocksdb_pinnableslice_t;
    pub fn rocksdb_pinnableslice_value(v: *const rocksdb_pinnableslice_t, vlen: *mut usize) -> *const c_char;
    pub fn rocksdb_pinnableslice_destroy(v: *mut rocksdb_pinnableslice_t);
    pub fn rocksdb_create_iterator(
        db: *mut rocksdb_t,
        options: *const rocksdb_readoptions_t,
    ) -> *mut rocksdb_iterator_t;
    pub fn rocksdb_property_value(db: *mut rocksdb_t, propname: *const c_char) -> *mut c_char;
    pub fn rocksdb_property_int(db: *mut rocksdb_t, propname: *const c_char, out_val: *mut u64) -> c_int;
    pub fn rocksdb_flush(db: *mut rocksdb_t, options: *const rocksdb_flushoptions_t, errptr: *mut *mut c_char);
    pub fn rocksdb_flush_wal(db: *mut rocksdb_t, sync: c_uchar, errptr: *mut *mut c_char);
    pub fn rocksdb_free(ptr: *mut c_void);

    // Iterators.
    pub fn rocksdb_iter_destroy(it: *mut rocksdb_iterator_t);
    pub fn rocksdb_iter_valid(it: *const rocksdb_iterator_t) -> c_uchar;
    pub fn rocksdb_iter_seek_to_first(it: *mut rocksdb_iterator_t);
    pub fn rocksdb_iter_seek_to_last(it: *mut rocksdb_iterator_t);
    pub fn rocksdb_iter_seek(it: *mut rocksdb_iterator_t, k: *const c_char, klen: usize);
    pub fn rocksdb_iter_seek_for_prev(it: *mut rocksdb_iterator_t, k: *const c_char, klen: usize);
    pub fn rocksdb_iter_next(it: *mut rocksdb_iterator_t);
    pub fn rocksdb_iter_prev(it: *mut rocksdb_iterator_t);
    pub fn rocksdb_iter_key(it: *const rocksdb_iterator_t, klen: *mut usize) -> *const c_char;
    pub fn rocksdb_iter_value(it: *const rocksdb_iterator_t, vlen: *mut usize) -> *const c_char;
    pub fn rocksdb_iter_get_error(it: *const rocksdb_iterator_t, errptr: *mut *mut c_char);

    // Write batches.
    pub fn rocksdb_writebatch_create() -> *mut rocksdb_writebatch_t;
    pub fn rocksdb_writebatch_destroy(b: *mut rocksdb_writebatch_t);
    pub fn rocksdb_writebatch_put(
        b: *mut rocksdb_writebatch_t,
        key: *const c_char,
        klen: usize,
        val: *const c_char,
        vlen: usize,
    );
    pub fn rocksdb_writebatch_delete(b: *mut rocksdb_writebatch_t, key: *const c_char, klen: usize);

    // Write batches with index (the engine's transactions).
    pub fn rocksdb_writebatch_wi_create(reserved_bytes: usize, overwrite_keys: c_uchar)
    -> *mut rocksdb_writebatch_wi_t;
    pub fn rocksdb_writebatch_wi_destroy(b: *mut rocksdb_writebatch_wi_t);
    pub fn rocksdb_writebatch_wi_count(b: *mut rocksdb_writebatch_wi_t) -> c_int;
    pub fn rocksdb_writebatch_wi_put(
        b: *mut rocksdb_writebatch_wi_t,
        key: *const c_char,
        klen: usize,
        val: *const c_char,
        vlen: usize,
    );
    pub fn rocksdb_writebatch_wi_putv(
        b: *mut rocksdb_writebatch_wi_t,
        num_keys: c_int,
        keys_list: *const *const c_char,
        keys_list_sizes: *const usize,
        num_values: c_int,
        values_list: *const *const c_char,
        values_list_sizes: *const usize,
    );
    pub fn rocksdb_writebatch_wi_delete(b: *mut rocksdb_writebatch_wi_t, key: *const c_char, klen: usize);
    pub fn rocksdb_writebatch_wi_iterate(
        b: *mut rocksdb_writebatch_wi_t,
        state: *mut c_void,
        put: PutFn,
        deleted: DeleteFn,
    );
    pub fn rocksdb_writebatch_wi_get_from_batch_and_db(
        wbwi: *mut rocksdb_writebatch_wi_t,
        db: *mut rocksdb_t,
        options: *const rocksdb_readoptions_t,
        key: *const c_char,
        keylen: usize,
        vallen: *mut usize,
        errptr: *mut *mut c_char,
    ) -> *mut c_char;
    pub fn rocksdb_write_writebatch_wi(
        db: *mut rocksdb_t,
        options: *const rocksdb_writeoptions_t,
        wbwi: *mut rocksdb_writebatch_wi_t,
        errptr: *mut *mut c_char,
    );
    /// Takes ownership of `base_iterator`.
    pub fn rocksdb_writebatch_wi_create_iterator_with_base(
        wbwi: *mut rocksdb_writebatch_wi_t,
        base_iterator: *mut rocksdb_iterator_t,
    ) -> *mut rocksdb_iterator_t;

    // Options.
    pub fn rocksdb_options_create() -> *mut rocksdb_options_t;
    pub fn rocksdb_options_destroy(o: *mut rocksdb_options_t);
    pub fn rocksdb_options_set_create_if_missing(o: *mut rocksdb_options_t, v: c_uchar);
    pub fn rocksdb_options_set_info_log_level(o: *mut rocksdb_options_t, level: c_int);
    pub fn rocksdb_options_set_keep_log_file_num(o: *mut rocksdb_options_t, n: usize);
    pub fn rocksdb_options_set_block_based_table_factory(
        o: *mut rocksdb_options_t,
        table: *mut rocksdb_block_based_table_options_t,
    );
    pub fn rocksdb_block_based_options_create() -> *mut rocksdb_block_based_table_options_t;
    pub fn rocksdb_block_based_options_destroy(t: *mut rocksdb_block_based_table_options_t);
    pub fn rocksdb_block_based_options_set_block_size(t: *mut rocksdb_block_based_table_options_t, size: usize);
    pub fn rocksdb_block_based_options_set_block_cache(
        t: *mut rocksdb_block_based_table_options_t,
        cache: *mut rocksdb_cache_t,
    );
    /// Takes ownership of `policy`.
    pub fn rocksdb_block_based_options_set_filter_policy(
        t: *mut rocksdb_block_based_table_options_t,
        policy: *mut rocksdb_filterpolicy_t,
    );
    pub fn rocksdb_filterpolicy_create_bloom_full(bits_per_key: f64) -> *mut rocksdb_filterpolicy_t;
    pub fn rocksdb_cache_create_lru(capacity: usize) -> *mut rocksdb_cache_t;
    pub fn rocksdb_cache_destroy(c: *mut rocksdb_cache_t);
    pub fn rocksdb_cache_set_capacity(c: *mut rocksdb_cache_t, capacity: usize);
    pub fn rocksdb_cache_get_capacity(c: *mut rocksdb_cache_t) -> usize;

    pub fn rocksdb_readoptions_create() -> *mut rocksdb_readoptions_t;
    pub fn rocksdb_readoptions_destroy(o: *mut rocksdb_readoptions_t);
    pub fn rocksdb_readoptions_set_verify_checksums(o: *mut rocksdb_readoptions_t, v: c_uchar);
    pub fn rocksdb_readoptions_set_fill_cache(o: *mut rocksdb_readoptions_t, v: c_uchar);
    /// Keeps a pointer to `key`: it must outlive every iterator made with
    /// these options.
    pub fn rocksdb_readoptions_set_iterate_upper_bound(
        o: *mut rocksdb_readoptions_t,
        key: *const c_char,
        keylen: usize,
    );
    /// As [`rocksdb_readoptions_set_iterate_upper_bound`].
    pub fn rocksdb_readoptions_set_iterate_lower_bound(
        o: *mut rocksdb_readoptions_t,
        key: *const c_char,
        keylen: usize,
    );

    pub fn rocksdb_writeoptions_create() -> *mut rocksdb_writeoptions_t;
    pub fn rocksdb_writeoptions_destroy(o: *mut rocksdb_writeoptions_t);
    pub fn rocksdb_writeoptions_set_sync(o: *mut rocksdb_writeoptions_t, v: c_uchar);

    pub fn rocksdb_flushoptions_create() -> *mut rocksdb_flushoptions_t;
    pub fn rocksdb_flushoptions_destroy(o: *mut rocksdb_flushoptions_t);
    pub fn rocksdb_flushoptions_set_wait(o: *mut rocksdb_flushoptions_t, v: c_uchar);
}
