/* kvidxkitAdapterRocksdb.h: the RocksDB engine's functions under their own names, as
 * the original kvidxkit declared them. This library has them only when built
 * with RocksDB (make ROCKSDB=1, cargo feature `rocksdb`, CMake
 * -DKVIDXKIT_ENABLE_ROCKSDB=ON); such a build installs this header. Each is
 * the matching member of `kvidxInterfaceRocksdb` (`kvidxRocksdbGet` is
 * `kvidxInterfaceRocksdb.get`, `kvidxRocksdbMax` is `.maxKey`,
 * `kvidxRocksdbExport` / `Import` are `.exportData` / `.importData`) and works
 * on an instance this engine opened, whatever its `interface` holds;
 * `kvidxRocksdbApplyConfig` is kvidxUpdateConfig on such an instance.
 * Calling them through kvidxkit.h's generic functions is equivalent.
 *
 * Including this header defines KVIDXKIT_HAS_ROCKSDB (the macro under which
 * kvidxkit.h declares kvidxInterfaceRocksdb) and declares the table itself,
 * whichever of the two headers comes first. */

#pragma once

#ifndef KVIDXKIT_HAS_ROCKSDB
#define KVIDXKIT_HAS_ROCKSDB 1
#endif

#include "kvidxkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The engine's interface table (also in kvidxkit.h under KVIDXKIT_HAS_ROCKSDB). */
extern const struct kvidxInterface kvidxInterfaceRocksdb;

/* Open / close / durability */
bool kvidxRocksdbOpen(kvidxInstance *i, const char *filename, const char **err);
bool kvidxRocksdbClose(kvidxInstance *i);
bool kvidxRocksdbFsync(kvidxInstance *i);

/* Transactions */
bool kvidxRocksdbBegin(kvidxInstance *i);
bool kvidxRocksdbCommit(kvidxInstance *i);

/* Reads */
bool kvidxRocksdbGet(kvidxInstance *i, uint64_t key, uint64_t *term, uint64_t *cmd,
                     const uint8_t **data, size_t *len);
bool kvidxRocksdbGetPrev(kvidxInstance *i, uint64_t nextKey, uint64_t *prevKey,
                         uint64_t *prevTerm, uint64_t *cmd, const uint8_t **data,
                         size_t *len);
bool kvidxRocksdbGetNext(kvidxInstance *i, uint64_t previousKey, uint64_t *nextKey,
                         uint64_t *nextTerm, uint64_t *cmd, const uint8_t **data,
                         size_t *len);
bool kvidxRocksdbExists(kvidxInstance *i, uint64_t key);
bool kvidxRocksdbExistsDual(kvidxInstance *i, uint64_t key, uint64_t term);
bool kvidxRocksdbMax(kvidxInstance *i, uint64_t *key);
bool kvidxRocksdbInsert(kvidxInstance *i, uint64_t key, uint64_t term, uint64_t cmd,
                        const void *data, size_t dataLen);

/* Deletes */
bool kvidxRocksdbRemove(kvidxInstance *i, uint64_t key);
bool kvidxRocksdbRemoveAfterNInclusive(kvidxInstance *i, uint64_t key);
bool kvidxRocksdbRemoveBeforeNInclusive(kvidxInstance *i, uint64_t key);

/* Statistics */
kvidxError kvidxRocksdbGetStats(kvidxInstance *i, kvidxStats *stats);
kvidxError kvidxRocksdbGetKeyCount(kvidxInstance *i, uint64_t *count);
kvidxError kvidxRocksdbGetMinKey(kvidxInstance *i, uint64_t *key);
kvidxError kvidxRocksdbGetDataSize(kvidxInstance *i, uint64_t *bytes);

/* Configuration (kvidxUpdateConfig on an instance of this engine) */
kvidxError kvidxRocksdbApplyConfig(kvidxInstance *i, const kvidxConfig *config);

/* Ranges */
kvidxError kvidxRocksdbRemoveRange(kvidxInstance *i, uint64_t startKey, uint64_t endKey,
                                   bool startInclusive, bool endInclusive,
                                   uint64_t *deletedCount);
kvidxError kvidxRocksdbCountRange(kvidxInstance *i, uint64_t startKey, uint64_t endKey,
                                  uint64_t *count);
kvidxError kvidxRocksdbExistsInRange(kvidxInstance *i, uint64_t startKey,
                                     uint64_t endKey, bool *exists);

/* Export and import */
kvidxError kvidxRocksdbExport(kvidxInstance *i, const char *filename,
                              const kvidxExportOptions *options,
                              kvidxProgressCallback callback, void *userData);
kvidxError kvidxRocksdbImport(kvidxInstance *i, const char *filename,
                              const kvidxImportOptions *options,
                              kvidxProgressCallback callback, void *userData);

/* Storage primitives */
kvidxError kvidxRocksdbInsertEx(kvidxInstance *i, uint64_t key, uint64_t term,
                                uint64_t cmd, const void *data, size_t dataLen,
                                kvidxSetCondition condition);
bool kvidxRocksdbAbort(kvidxInstance *i);
kvidxError kvidxRocksdbGetAndSet(kvidxInstance *i, uint64_t key, uint64_t term,
                                 uint64_t cmd, const void *data, size_t dataLen,
                                 uint64_t *oldTerm, uint64_t *oldCmd, void **oldData,
                                 size_t *oldDataLen);
kvidxError kvidxRocksdbGetAndRemove(kvidxInstance *i, uint64_t key, uint64_t *term,
                                    uint64_t *cmd, void **data, size_t *dataLen);
kvidxError kvidxRocksdbCompareAndSwap(kvidxInstance *i, uint64_t key,
                                      const void *expectedData, size_t expectedLen,
                                      uint64_t newTerm, uint64_t newCmd,
                                      const void *newData, size_t newDataLen,
                                   bool *swapped);
kvidxError kvidxRocksdbAppend(kvidxInstance *i, uint64_t key, uint64_t term,
                              uint64_t cmd, const void *data, size_t dataLen,
                              size_t *newLen);
kvidxError kvidxRocksdbPrepend(kvidxInstance *i, uint64_t key, uint64_t term,
                               uint64_t cmd, const void *data, size_t dataLen,
                               size_t *newLen);
kvidxError kvidxRocksdbGetValueRange(kvidxInstance *i, uint64_t key, size_t offset,
                                     size_t length, void **data, size_t *actualLen);
kvidxError kvidxRocksdbSetValueRange(kvidxInstance *i, uint64_t key, size_t offset,
                                     const void *data, size_t dataLen, size_t *newLen);

/* Expiry */
kvidxError kvidxRocksdbSetExpire(kvidxInstance *i, uint64_t key, uint64_t ttlMs);
kvidxError kvidxRocksdbSetExpireAt(kvidxInstance *i, uint64_t key,
                                   uint64_t timestampMs);
int64_t kvidxRocksdbGetTTL(kvidxInstance *i, uint64_t key);
kvidxError kvidxRocksdbPersist(kvidxInstance *i, uint64_t key);
kvidxError kvidxRocksdbExpireScan(kvidxInstance *i, uint64_t maxKeys,
                                  uint64_t *expiredCount);

#ifdef __cplusplus
}
#endif
