/* kvx_prefix.h: included before LMDB's sources (build.rs, -include). Every
 * global symbol of the LMDB compiled into this library gets the prefix kvx_,
 * so it never clashes with another LMDB in the same program (a system
 * liblmdb, another Rust crate's); src/engines/lmdb_ffi.rs links to these names. */
#ifndef KVX_PREFIX_H
#define KVX_PREFIX_H
#define mdb_cmp kvx_mdb_cmp
#define mdb_cursor_close kvx_mdb_cursor_close
#define mdb_cursor_count kvx_mdb_cursor_count
#define mdb_cursor_dbi kvx_mdb_cursor_dbi
#define mdb_cursor_del kvx_mdb_cursor_del
#define mdb_cursor_get kvx_mdb_cursor_get
#define mdb_cursor_open kvx_mdb_cursor_open
#define mdb_cursor_put kvx_mdb_cursor_put
#define mdb_cursor_renew kvx_mdb_cursor_renew
#define mdb_cursor_txn kvx_mdb_cursor_txn
#define mdb_dbi_close kvx_mdb_dbi_close
#define mdb_dbi_flags kvx_mdb_dbi_flags
#define mdb_dbi_open kvx_mdb_dbi_open
#define mdb_dcmp kvx_mdb_dcmp
#define mdb_del kvx_mdb_del
#define mdb_drop kvx_mdb_drop
#define mdb_env_close kvx_mdb_env_close
#define mdb_env_copy kvx_mdb_env_copy
#define mdb_env_copy2 kvx_mdb_env_copy2
#define mdb_env_copyfd kvx_mdb_env_copyfd
#define mdb_env_copyfd2 kvx_mdb_env_copyfd2
#define mdb_env_create kvx_mdb_env_create
#define mdb_env_get_fd kvx_mdb_env_get_fd
#define mdb_env_get_flags kvx_mdb_env_get_flags
#define mdb_env_get_maxkeysize kvx_mdb_env_get_maxkeysize
#define mdb_env_get_maxreaders kvx_mdb_env_get_maxreaders
#define mdb_env_get_path kvx_mdb_env_get_path
#define mdb_env_get_userctx kvx_mdb_env_get_userctx
#define mdb_env_info kvx_mdb_env_info
#define mdb_env_open kvx_mdb_env_open
#define mdb_env_set_assert kvx_mdb_env_set_assert
#define mdb_env_set_flags kvx_mdb_env_set_flags
#define mdb_env_set_mapsize kvx_mdb_env_set_mapsize
#define mdb_env_set_maxdbs kvx_mdb_env_set_maxdbs
#define mdb_env_set_maxreaders kvx_mdb_env_set_maxreaders
#define mdb_env_set_userctx kvx_mdb_env_set_userctx
#define mdb_env_stat kvx_mdb_env_stat
#define mdb_env_sync kvx_mdb_env_sync
#define mdb_env_sync0 kvx_mdb_env_sync0
#define mdb_env_txnid_ptr kvx_mdb_env_txnid_ptr
#define mdb_get kvx_mdb_get
#define mdb_mid2l_append kvx_mdb_mid2l_append
#define mdb_mid2l_insert kvx_mdb_mid2l_insert
#define mdb_mid2l_search kvx_mdb_mid2l_search
#define mdb_midl_alloc kvx_mdb_midl_alloc
#define mdb_midl_append kvx_mdb_midl_append
#define mdb_midl_append_list kvx_mdb_midl_append_list
#define mdb_midl_append_range kvx_mdb_midl_append_range
#define mdb_midl_free kvx_mdb_midl_free
#define mdb_midl_need kvx_mdb_midl_need
#define mdb_midl_search kvx_mdb_midl_search
#define mdb_midl_shrink kvx_mdb_midl_shrink
#define mdb_midl_sort kvx_mdb_midl_sort
#define mdb_midl_xmerge kvx_mdb_midl_xmerge
#define mdb_put kvx_mdb_put
#define mdb_reader_check kvx_mdb_reader_check
#define mdb_reader_list kvx_mdb_reader_list
#define mdb_set_compare kvx_mdb_set_compare
#define mdb_set_dupsort kvx_mdb_set_dupsort
#define mdb_set_relctx kvx_mdb_set_relctx
#define mdb_set_relfunc kvx_mdb_set_relfunc
#define mdb_stat kvx_mdb_stat
#define mdb_strerror kvx_mdb_strerror
#define mdb_txn_abort kvx_mdb_txn_abort
#define mdb_txn_begin kvx_mdb_txn_begin
#define mdb_txn_commit kvx_mdb_txn_commit
#define mdb_txn_env kvx_mdb_txn_env
#define mdb_txn_id kvx_mdb_txn_id
#define mdb_txn_renew kvx_mdb_txn_renew
#define mdb_txn_reset kvx_mdb_txn_reset
#define mdb_version kvx_mdb_version
#endif
