/* kvidxkitAdapterSqlite3.h: the SQLite3 engine's functions under their own names, as the
 * original kvidxkit declared them. Each is the matching member of
 * `kvidxInterfaceSqlite3` (`kvidxSqlite3Get` is `kvidxInterfaceSqlite3.get`, `kvidxSqlite3Max` is
 * `.maxKey`, `kvidxSqlite3Export` / `Import` are `.exportData` / `.importData`)
 * and works on an instance this engine opened, whatever its `interface`
 * holds; `kvidxSqlite3ApplyConfig` is kvidxUpdateConfig on such an instance.
 * Calling them through kvidxkit.h's generic functions is equivalent. */

#pragma once

#include "kvidxkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open / close / durability */
bool kvidxSqlite3Open(kvidxInstance *i, const char *filename, const char **err);
bool kvidxSqlite3Close(kvidxInstance *i);
bool kvidxSqlite3Fsync(kvidxInstance *i);

/* Transactions */
bool kvidxSqlite3Begin(kvidxInstance *i);
bool kvidxSqlite3Commit(kvidxInstance *i);

/* Reads */
bool kvidxSqlite3Get(kvidxInstance *i, uint64_t key, uint64_t *term, uint64_t *cmd,
                     const uint8_t **data, size_t *len);
bool kvidxSqlite3GetPrev(kvidxInstance *i, uint64_t nextKey, uint64_t *prevKey,
                         uint64_t *prevTerm, uint64_t *cmd, const uint8_t **data,
                         size_t *len);
bool kvidxSqlite3GetNext(kvidxInstance *i, uint64_t previousKey, uint64_t *nextKey,
                         uint64_t *nextTerm, uint64_t *cmd, const uint8_t **data,
                         size_t *len);
bool kvidxSqlite3Exists(kvidxInstance *i, uint64_t key);
bool kvidxSqlite3ExistsDual(kvidxInstance *i, uint64_t key, uint64_t term);
bool kvidxSqlite3Max(kvidxInstance *i, uint64_t *key);
bool kvidxSqlite3Insert(kvidxInstance *i, uint64_t key, uint64_t term, uint64_t cmd,
                        const void *data, size_t dataLen);

/* Deletes */
bool kvidxSqlite3Remove(kvidxInstance *i, uint64_t key);
bool kvidxSqlite3RemoveAfterNInclusive(kvidxInstance *i, uint64_t key);
bool kvidxSqlite3RemoveBeforeNInclusive(kvidxInstance *i, uint64_t key);

/* Statistics */
kvidxError kvidxSqlite3GetStats(kvidxInstance *i, kvidxStats *stats);
kvidxError kvidxSqlite3GetKeyCount(kvidxInstance *i, uint64_t *count);
kvidxError kvidxSqlite3GetMinKey(kvidxInstance *i, uint64_t *key);
kvidxError kvidxSqlite3GetDataSize(kvidxInstance *i, uint64_t *bytes);

/* Configuration (kvidxUpdateConfig on an instance of this engine) */
kvidxError kvidxSqlite3ApplyConfig(kvidxInstance *i, const kvidxConfig *config);

/* Ranges */
kvidxError kvidxSqlite3RemoveRange(kvidxInstance *i, uint64_t startKey, uint64_t endKey,
                                   bool startInclusive, bool endInclusive,
                                   uint64_t *deletedCount);
kvidxError kvidxSqlite3CountRange(kvidxInstance *i, uint64_t startKey, uint64_t endKey,
                                  uint64_t *count);
kvidxError kvidxSqlite3ExistsInRange(kvidxInstance *i, uint64_t startKey,
                                     uint64_t endKey, bool *exists);

/* Export and import */
kvidxError kvidxSqlite3Export(kvidxInstance *i, const char *filename,
                              const kvidxExportOptions *options,
                              kvidxProgressCallback callback, void *userData);
kvidxError kvidxSqlite3Import(kvidxInstance *i, const char *filename,
                              const kvidxImportOptions *options,
                              kvidxProgressCallback callback, void *userData);

/* Storage primitives */
kvidxError kvidxSqlite3InsertEx(kvidxInstance *i, uint64_t key, uint64_t term,
                                uint64_t cmd, const void *data, size_t dataLen,
                                kvidxSetCondition condition);
bool kvidxSqlite3Abort(kvidxInstance *i);
kvidxError kvidxSqlite3GetAndSet(kvidxInstance *i, uint64_t key, uint64_t term,
                                 uint64_t cmd, const void *data, size_t dataLen,
                                 uint64_t *oldTerm, uint64_t *oldCmd, void **oldData,
                                 size_t *oldDataLen);
kvidxError kvidxSqlite3GetAndRemove(kvidxInstance *i, uint64_t key, uint64_t *term,
                                    uint64_t *cmd, void **data, size_t *dataLen);
kvidxError kvidxSqlite3CompareAndSwap(kvidxInstance *i, uint64_t key,
                                      const void *expectedData, size_t expectedLen,
                                      uint64_t newTerm, uint64_t newCmd,
                                      const void *newData, size_t newDataLen,
                                      bool *swapped);
kvidxError kvidxSqlite3Append(kvidxInstance *i, uint64_t key, uint64_t term,
                              uint64_t cmd, const void *data, size_t dataLen,
                              size_t *newLen);
kvidxError kvidxSqlite3Prepend(kvidxInstance *i, uint64_t key, uint64_t term,
                               uint64_t cmd, const void *data, size_t dataLen,
                               size_t *newLen);
kvidxError kvidxSqlite3GetValueRange(kvidxInstance *i, uint64_t key, size_t offset,
                                     size_t length, void **data, size_t *actualLen);
kvidxError kvidxSqlite3SetValueRange(kvidxInstance *i, uint64_t key, size_t offset,
                                     const void *data, size_t dataLen, size_t *newLen);

/* Expiry */
kvidxError kvidxSqlite3SetExpire(kvidxInstance *i, uint64_t key, uint64_t ttlMs);
kvidxError kvidxSqlite3SetExpireAt(kvidxInstance *i, uint64_t key,
                                   uint64_t timestampMs);
int64_t kvidxSqlite3GetTTL(kvidxInstance *i, uint64_t key);
kvidxError kvidxSqlite3Persist(kvidxInstance *i, uint64_t key);
kvidxError kvidxSqlite3ExpireScan(kvidxInstance *i, uint64_t maxKeys,
                                  uint64_t *expiredCount);

#ifdef __cplusplus
}
#endif
