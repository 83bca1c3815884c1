/* kvidxkitAdapterLmdb.h: the LMDB engine's functions under their own names, as the
 * original kvidxkit declared them. Each is the matching member of
 * `kvidxInterfaceLmdb` (`kvidxLmdbGet` is `kvidxInterfaceLmdb.get`, `kvidxLmdbMax` is
 * `.maxKey`, `kvidxLmdbExport` / `Import` are `.exportData` / `.importData`)
 * and works on an instance this engine opened, whatever its `interface`
 * holds; `kvidxLmdbApplyConfig` is kvidxUpdateConfig on such an instance.
 * Calling them through kvidxkit.h's generic functions is equivalent. */

#pragma once

#include "kvidxkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open / close / durability */
bool kvidxLmdbOpen(kvidxInstance *i, const char *filename, const char **err);
bool kvidxLmdbClose(kvidxInstance *i);
bool kvidxLmdbFsync(kvidxInstance *i);

/* Transactions */
bool kvidxLmdbBegin(kvidxInstance *i);
bool kvidxLmdbCommit(kvidxInstance *i);

/* Reads */
bool kvidxLmdbGet(kvidxInstance *i, uint64_t key, uint64_t *term, uint64_t *cmd,
                  const uint8_t **data, size_t *len);
bool kvidxLmdbGetPrev(kvidxInstance *i, uint64_t nextKey, uint64_t *prevKey,
                      uint64_t *prevTerm, uint64_t *cmd, const uint8_t **data,
                      size_t *len);
bool kvidxLmdbGetNext(kvidxInstance *i, uint64_t previousKey, uint64_t *nextKey,
                      uint64_t *nextTerm, uint64_t *cmd, const uint8_t **data,
                      size_t *len);
bool kvidxLmdbExists(kvidxInstance *i, uint64_t key);
bool kvidxLmdbExistsDual(kvidxInstance *i, uint64_t key, uint64_t term);
bool kvidxLmdbMax(kvidxInstance *i, uint64_t *key);
bool kvidxLmdbInsert(kvidxInstance *i, uint64_t key, uint64_t term, uint64_t cmd,
                     const void *data, size_t dataLen);

/* Deletes */
bool kvidxLmdbRemove(kvidxInstance *i, uint64_t key);
bool kvidxLmdbRemoveAfterNInclusive(kvidxInstance *i, uint64_t key);
bool kvidxLmdbRemoveBeforeNInclusive(kvidxInstance *i, uint64_t key);

/* Statistics */
kvidxError kvidxLmdbGetStats(kvidxInstance *i, kvidxStats *stats);
kvidxError kvidxLmdbGetKeyCount(kvidxInstance *i, uint64_t *count);
kvidxError kvidxLmdbGetMinKey(kvidxInstance *i, uint64_t *key);
kvidxError kvidxLmdbGetDataSize(kvidxInstance *i, uint64_t *bytes);

/* Configuration (kvidxUpdateConfig on an instance of this engine) */
kvidxError kvidxLmdbApplyConfig(kvidxInstance *i, const kvidxConfig *config);

/* Ranges */
kvidxError kvidxLmdbRemoveRange(kvidxInstance *i, uint64_t startKey, uint64_t endKey,
                                bool startInclusive, bool endInclusive,
                                uint64_t *deletedCount);
kvidxError kvidxLmdbCountRange(kvidxInstance *i, uint64_t startKey, uint64_t endKey,
                               uint64_t *count);
kvidxError kvidxLmdbExistsInRange(kvidxInstance *i, uint64_t startKey,
                                  uint64_t endKey, bool *exists);

/* Export and import */
kvidxError kvidxLmdbExport(kvidxInstance *i, const char *filename,
                           const kvidxExportOptions *options,
                           kvidxProgressCallback callback, void *userData);
kvidxError kvidxLmdbImport(kvidxInstance *i, const char *filename,
                           const kvidxImportOptions *options,
                           kvidxProgressCallback callback, void *userData);

/* Storage primitives */
kvidxError kvidxLmdbInsertEx(kvidxInstance *i, uint64_t key, uint64_t term,
                             uint64_t cmd, const void *data, size_t dataLen,
                             kvidxSetCondition condition);
bool kvidxLmdbAbort(kvidxInstance *i);
kvidxError kvidxLmdbGetAndSet(kvidxInstance *i, uint64_t key, uint64_t term,
                              uint64_t cmd, const void *data, size_t dataLen,
                              uint64_t *oldTerm, uint64_t *oldCmd, void **oldData,
                              size_t *oldDataLen);
kvidxError kvidxLmdbGetAndRemove(kvidxInstance *i, uint64_t key, uint64_t *term,
                                 uint64_t *cmd, void **data, size_t *dataLen);
kvidxError kvidxLmdbCompareAndSwap(kvidxInstance *i, uint64_t key,
                                   const void *expectedData, size_t expectedLen,
                                   uint64_t newTerm, uint64_t newCmd,
                                   const void *newData, size_t newDataLen,
                                   bool *swapped);
kvidxError kvidxLmdbAppend(kvidxInstance *i, uint64_t key, uint64_t term,
                           uint64_t cmd, const void *data, size_t dataLen,
                           size_t *newLen);
kvidxError kvidxLmdbPrepend(kvidxInstance *i, uint64_t key, uint64_t term,
                            uint64_t cmd, const void *data, size_t dataLen,
                            size_t *newLen);
kvidxError kvidxLmdbGetValueRange(kvidxInstance *i, uint64_t key, size_t offset,
                                  size_t length, void **data, size_t *actualLen);
kvidxError kvidxLmdbSetValueRange(kvidxInstance *i, uint64_t key, size_t offset,
                                  const void *data, size_t dataLen, size_t *newLen);

/* Expiry */
kvidxError kvidxLmdbSetExpire(kvidxInstance *i, uint64_t key, uint64_t ttlMs);
kvidxError kvidxLmdbSetExpireAt(kvidxInstance *i, uint64_t key,
                                uint64_t timestampMs);
int64_t kvidxLmdbGetTTL(kvidxInstance *i, uint64_t key);
kvidxError kvidxLmdbPersist(kvidxInstance *i, uint64_t key);
kvidxError kvidxLmdbExpireScan(kvidxInstance *i, uint64_t maxKeys,
                               uint64_t *expiredCount);

#ifdef __cplusplus
}
#endif
