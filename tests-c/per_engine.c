/* per_engine.c: the original's per-engine functions (kvidxkitAdapterSqlite3.h,
 * kvidxkitAdapterLmdb.h, and kvidxkitAdapterRocksdb.h in a RocksDB build;
 * decisions.md A-per-engine). Every one of the 39
 * functions of each engine is called on an instance of that engine, and
 * each must behave as the matching member of the engine's interface table:
 * results are checked, and the state they leave is read back through the
 * generic API on the same instance. The functions also work on an instance
 * whose `interface` is all NULL (they do not dispatch through it), refuse an
 * instance of the other engine, and ApplyConfig is kvidxUpdateConfig. */
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvidxkit.h"
#include "kvidxkitAdapterLmdb.h"
#include "kvidxkitAdapterSqlite3.h"
#ifdef KVIDXKIT_HAS_ROCKSDB
#include "kvidxkitAdapterRocksdb.h"
#endif

#define T(cond) CHECK(cond, "")

/* One engine's per-engine functions. Assigning them here makes the C
 * compiler check each prototype of the headers against the member type. */
typedef struct {
    const char *name;
    const char *suffix;
    const kvidxInterface *table;
    bool (*Open)(kvidxInstance *, const char *, const char **);
    bool (*Close)(kvidxInstance *);
    bool (*Fsync)(kvidxInstance *);
    bool (*Begin)(kvidxInstance *);
    bool (*Commit)(kvidxInstance *);
    bool (*Get)(kvidxInstance *, uint64_t, uint64_t *, uint64_t *, const uint8_t **, size_t *);
    bool (*GetPrev)(kvidxInstance *, uint64_t, uint64_t *, uint64_t *, uint64_t *, const uint8_t **,
                    size_t *);
    bool (*GetNext)(kvidxInstance *, uint64_t, uint64_t *, uint64_t *, uint64_t *, const uint8_t **,
                    size_t *);
    bool (*Exists)(kvidxInstance *, uint64_t);
    bool (*ExistsDual)(kvidxInstance *, uint64_t, uint64_t);
    bool (*Max)(kvidxInstance *, uint64_t *);
    bool (*Insert)(kvidxInstance *, uint64_t, uint64_t, uint64_t, const void *, size_t);
    bool (*Remove)(kvidxInstance *, uint64_t);
    bool (*RemoveAfterNInclusive)(kvidxInstance *, uint64_t);
    bool (*RemoveBeforeNInclusive)(kvidxInstance *, uint64_t);
    kvidxError (*GetStats)(kvidxInstance *, kvidxStats *);
    kvidxError (*GetKeyCount)(kvidxInstance *, uint64_t *);
    kvidxError (*GetMinKey)(kvidxInstance *, uint64_t *);
    kvidxError (*GetDataSize)(kvidxInstance *, uint64_t *);
    kvidxError (*ApplyConfig)(kvidxInstance *, const kvidxConfig *);
    kvidxError (*RemoveRange)(kvidxInstance *, uint64_t, uint64_t, bool, bool, uint64_t *);
    kvidxError (*CountRange)(kvidxInstance *, uint64_t, uint64_t, uint64_t *);
    kvidxError (*ExistsInRange)(kvidxInstance *, uint64_t, uint64_t, bool *);
    kvidxError (*Export)(kvidxInstance *, const char *, const kvidxExportOptions *,
                         kvidxProgressCallback, void *);
    kvidxError (*Import)(kvidxInstance *, const char *, const kvidxImportOptions *,
                         kvidxProgressCallback, void *);
    kvidxError (*InsertEx)(kvidxInstance *, uint64_t, uint64_t, uint64_t, const void *, size_t,
                           kvidxSetCondition);
    bool (*Abort)(kvidxInstance *);
    kvidxError (*GetAndSet)(kvidxInstance *, uint64_t, uint64_t, uint64_t, const void *, size_t,
                            uint64_t *, uint64_t *, void **, size_t *);
    kvidxError (*GetAndRemove)(kvidxInstance *, uint64_t, uint64_t *, uint64_t *, void **, size_t *);
    kvidxError (*CompareAndSwap)(kvidxInstance *, uint64_t, const void *, size_t, uint64_t, uint64_t,
                                 const void *, size_t, bool *);
    kvidxError (*Append)(kvidxInstance *, uint64_t, uint64_t, uint64_t, const void *, size_t, size_t *);
    kvidxError (*Prepend)(kvidxInstance *, uint64_t, uint64_t, uint64_t, const void *, size_t, size_t *);
    kvidxError (*GetValueRange)(kvidxInstance *, uint64_t, size_t, size_t, void **, size_t *);
    kvidxError (*SetValueRange)(kvidxInstance *, uint64_t, size_t, const void *, size_t, size_t *);
    kvidxError (*SetExpire)(kvidxInstance *, uint64_t, uint64_t);
    kvidxError (*SetExpireAt)(kvidxInstance *, uint64_t, uint64_t);
    int64_t (*GetTTL)(kvidxInstance *, uint64_t);
    kvidxError (*Persist)(kvidxInstance *, uint64_t);
    kvidxError (*ExpireScan)(kvidxInstance *, uint64_t, uint64_t *);
} engineFns;

#define ENGINE_FNS(NAME, SUFFIX, TABLE, P)                                     \
    {NAME, SUFFIX, &TABLE, P##Open, P##Close, P##Fsync, P##Begin, P##Commit,   \
     P##Get, P##GetPrev, P##GetNext, P##Exists, P##ExistsDual, P##Max,         \
     P##Insert, P##Remove, P##RemoveAfterNInclusive,                           \
     P##RemoveBeforeNInclusive, P##GetStats, P##GetKeyCount, P##GetMinKey,     \
     P##GetDataSize, P##ApplyConfig, P##RemoveRange, P##CountRange,            \
     P##ExistsInRange, P##Export, P##Import, P##InsertEx, P##Abort,            \
     P##GetAndSet, P##GetAndRemove, P##CompareAndSwap, P##Append, P##Prepend,  \
     P##GetValueRange, P##SetValueRange, P##SetExpire, P##SetExpireAt,         \
     P##GetTTL, P##Persist, P##ExpireScan}

static const engineFns engines[] = {
    ENGINE_FNS("SQLite3", ".sqlite3", kvidxInterfaceSqlite3, kvidxSqlite3),
    ENGINE_FNS("LMDB", "", kvidxInterfaceLmdb, kvidxLmdb),
#ifdef KVIDXKIT_HAS_ROCKSDB
    ENGINE_FNS("RocksDB", "", kvidxInterfaceRocksdb, kvidxRocksdb),
#endif
};
#define N_ENGINES (sizeof engines / sizeof engines[0])

static const char *scratch;

static bool same_bytes(const void *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    return alen == blen && (blen == 0 || memcmp(a, b, blen) == 0);
}

/* Key present, asked through the engine's per-engine Exists (the instance
 * may have no interface). */
static bool present(const engineFns *f, kvidxInstance *i, uint64_t key) {
    kvidxClearError(i);
    return f->Exists(i, key);
}

static void test_engine(const engineFns *f, const engineFns *other) {
    char path[4096], path2[4096], file[4096];
    const char *err = NULL;
    kvidxInstance a, b;
    uint64_t key = 0, term = 0, cmd = 0, n = 0;
    const uint8_t *data = NULL;
    size_t len = 0, newLen = 0;
    void *buf = NULL;
    bool flag = false;
    kvidxStats st;
    kvidxConfig cfg, now;

    check_set_context(f->name);
    snprintf(path, sizeof(path), "%s/pe%s", scratch, f->suffix);
    snprintf(path2, sizeof(path2), "%s/pe2%s", scratch, f->suffix);
    snprintf(file, sizeof(file), "%s/pe-%s.csv", scratch, f->name);

    /* An instance with no interface at all: the per-engine functions do
     * not dispatch through it. */
    memset(&a, 0, sizeof(a));
    CHECK(f->Open(&a, path, &err), "open %s: %s", path, err ? err : "(null)");
    T(a.kvidxdata != NULL);

    /* Transactions, inserts, reads. */
    T(f->Begin(&a));
    T(a.transactionActive);
    T(f->Insert(&a, 1, 11, 101, "one", 3));
    T(f->Insert(&a, 2, 12, 102, "two", 3));
    T(f->Insert(&a, 3, 13, 103, "three", 5));
    T(f->Insert(&a, 4, 14, 104, "four", 4));
    T(f->Insert(&a, 5, 15, 105, "five", 4));
    T(f->Commit(&a));
    T(!a.transactionActive);
    CHECK(!f->Insert(&a, 1, 0, 0, "x", 1), "insert refuses to overwrite");
    CHECK_EQ_INT(kvidxGetLastError(&a), KVIDX_ERROR_DUPLICATE_KEY);
    kvidxClearError(&a);

    T(f->Get(&a, 3, &term, &cmd, &data, &len));
    CHECK_EQ_U64(term, 13);
    CHECK_EQ_U64(cmd, 103);
    T(same_bytes(data, len, "three"));
    T(!f->Get(&a, 99, &term, &cmd, &data, &len));
    CHECK_EQ_INT(kvidxGetLastError(&a), KVIDX_ERROR_NOT_FOUND);
    kvidxClearError(&a);
    T(f->GetPrev(&a, 3, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 2);
    T(same_bytes(data, len, "two"));
    T(f->GetNext(&a, 3, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 4);
    CHECK_EQ_U64(term, 14);
    T(!f->GetNext(&a, 5, &key, NULL, NULL, NULL, NULL));
    kvidxClearError(&a);
    T(f->Exists(&a, 4));
    T(!f->Exists(&a, 6));
    T(f->ExistsDual(&a, 4, 14));
    T(!f->ExistsDual(&a, 4, 15));
    T(f->Max(&a, &key));
    CHECK_EQ_U64(key, 5);

    /* Abort: undoes the transaction; without one it fails (D1). */
    T(f->Begin(&a));
    T(f->Insert(&a, 6, 16, 106, "six", 3));
    T(f->Abort(&a));
    T(!present(f, &a, 6));
    T(!f->Abort(&a));
    CHECK_EQ_INT(kvidxGetLastError(&a), KVIDX_ERROR_NO_TRANSACTION);
    kvidxClearError(&a);

    /* Statistics. */
    CHECK_EQ_INT(f->GetKeyCount(&a, &n), KVIDX_OK);
    CHECK_EQ_U64(n, 5);
    CHECK_EQ_INT(f->GetMinKey(&a, &key), KVIDX_OK);
    CHECK_EQ_U64(key, 1);
    CHECK_EQ_INT(f->GetDataSize(&a, &n), KVIDX_OK);
    CHECK_EQ_U64(n, 3 + 3 + 5 + 4 + 4);
    memset(&st, 0, sizeof(st));
    CHECK_EQ_INT(f->GetStats(&a, &st), KVIDX_OK);
    CHECK_EQ_U64(st.totalKeys, 5);
    CHECK_EQ_U64(st.minKey, 1);
    CHECK_EQ_U64(st.maxKey, 5);
    T(st.databaseFileSize > 0);
    CHECK_EQ_INT(f->GetStats(&a, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&a);

    /* Ranges. */
    CHECK_EQ_INT(f->CountRange(&a, 2, 4, &n), KVIDX_OK);
    CHECK_EQ_U64(n, 3);
    CHECK_EQ_INT(f->ExistsInRange(&a, 10, 20, &flag), KVIDX_OK);
    T(!flag);
    CHECK_EQ_INT(f->ExistsInRange(&a, 0, 1, &flag), KVIDX_OK);
    T(flag);

    /* Storage primitives. */
    CHECK_EQ_INT(f->InsertEx(&a, 7, 17, 107, "seven", 5, KVIDX_SET_IF_NOT_EXISTS), KVIDX_OK);
    CHECK_EQ_INT(f->InsertEx(&a, 7, 0, 0, "x", 1, KVIDX_SET_IF_NOT_EXISTS), KVIDX_ERROR_CONDITION_FAILED);
    CHECK_EQ_INT(f->InsertEx(&a, 8, 0, 0, "x", 1, KVIDX_SET_IF_EXISTS), KVIDX_ERROR_CONDITION_FAILED);
    CHECK_EQ_INT(f->InsertEx(&a, 7, 0, 0, "x", 1, (kvidxSetCondition)42), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&a);
    CHECK_EQ_INT(f->GetAndSet(&a, 7, 27, 207, "SEVEN", 5, &term, &cmd, &buf, &len), KVIDX_OK);
    CHECK_EQ_U64(term, 17);
    CHECK_EQ_U64(cmd, 107);
    T(buf != NULL && same_bytes(buf, len, "seven"));
    free(buf);
    buf = NULL;
    CHECK_EQ_INT(f->GetAndRemove(&a, 7, &term, &cmd, &buf, &len), KVIDX_OK);
    CHECK_EQ_U64(term, 27);
    T(buf != NULL && same_bytes(buf, len, "SEVEN"));
    free(buf);
    buf = NULL;
    T(!present(f, &a, 7));
    CHECK_EQ_INT(f->GetAndRemove(&a, 7, NULL, NULL, NULL, NULL), KVIDX_ERROR_NOT_FOUND);
    kvidxClearError(&a);
    flag = true;
    CHECK_EQ_INT(f->CompareAndSwap(&a, 1, "nope", 4, 21, 201, "uno", 3, &flag), KVIDX_OK);
    T(!flag);
    CHECK_EQ_INT(f->CompareAndSwap(&a, 1, "one", 3, 21, 201, "uno", 3, &flag), KVIDX_OK);
    T(flag);
    CHECK_EQ_INT(f->Append(&a, 1, 0, 0, "!", 1, &newLen), KVIDX_OK);
    CHECK_EQ_U64(newLen, 4);
    CHECK_EQ_INT(f->Prepend(&a, 1, 0, 0, "<", 1, &newLen), KVIDX_OK);
    CHECK_EQ_U64(newLen, 5);
    CHECK_EQ_INT(f->SetValueRange(&a, 1, 1, "U", 1, &newLen), KVIDX_OK);
    CHECK_EQ_U64(newLen, 5);
    CHECK_EQ_INT(f->GetValueRange(&a, 1, 1, 3, &buf, &len), KVIDX_OK);
    T(buf != NULL && same_bytes(buf, len, "Uno"));
    free(buf);
    buf = NULL;
    T(f->Get(&a, 1, &term, &cmd, &data, &len));
    T(same_bytes(data, len, "<Uno!"));
    CHECK_EQ_U64(term, 21);

    /* Expiry. */
    CHECK_EQ_INT(f->SetExpire(&a, 2, 100000), KVIDX_OK);
    {
        int64_t ttl = f->GetTTL(&a, 2);
        CHECK(ttl > 0 && ttl <= 100000, "ttl %lld", (long long)ttl);
    }
    CHECK_EQ_INT(f->Persist(&a, 2), KVIDX_OK);
    CHECK_EQ_INT(f->GetTTL(&a, 2), KVIDX_TTL_NONE);
    CHECK_EQ_INT(f->GetTTL(&a, 99), KVIDX_TTL_NOT_FOUND);
    CHECK_EQ_INT(f->SetExpireAt(&a, 3, 1), KVIDX_OK); /* long past */
    T(!present(f, &a, 3));
    CHECK_EQ_INT(f->ExpireScan(&a, 0, &n), KVIDX_OK);
    CHECK_EQ_U64(n, 1);

    /* Configuration: kvidxUpdateConfig on this engine's instance. */
    cfg = kvidxConfigDefault();
    cfg.syncMode = KVIDX_SYNC_OFF;
    CHECK_EQ_INT(f->ApplyConfig(&a, &cfg), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetConfig(&a, &now), KVIDX_OK);
    CHECK_EQ_INT(now.syncMode, KVIDX_SYNC_OFF);
    T(a.configInitialized);
    cfg.syncMode = KVIDX_SYNC_FULL;
    CHECK_EQ_INT(f->ApplyConfig(&a, &cfg), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetConfig(&a, &now), KVIDX_OK);
    CHECK_EQ_INT(now.syncMode, KVIDX_SYNC_FULL);
    CHECK_EQ_INT(f->ApplyConfig(&a, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    cfg.journalMode = (kvidxJournalMode)77;
    CHECK_EQ_INT(f->ApplyConfig(&a, &cfg), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetConfig(&a, &now), KVIDX_OK);
    CHECK_EQ_INT(now.syncMode, KVIDX_SYNC_FULL);
    CHECK_EQ_INT(f->ApplyConfig(NULL, &cfg), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&a);

    /* The other engine's functions refuse this instance. */
    T(!other->Get(&a, 1, NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(kvidxGetLastError(&a), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&a);
    cfg = kvidxConfigDefault();
    CHECK_EQ_INT(other->ApplyConfig(&a, &cfg), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(other->GetTTL(&a, 1), KVIDX_TTL_NOT_FOUND);
    T(!other->Close(&a));
    T(a.kvidxdata != NULL);
    kvidxClearError(&a);

    /* Export, then import into an instance opened the generic way. */
    {
        kvidxExportOptions eo = kvidxExportOptionsDefault();
        kvidxImportOptions io = kvidxImportOptionsDefault();
        eo.format = KVIDX_EXPORT_CSV;
        CHECK_EQ_INT(f->Export(&a, file, &eo, NULL, NULL), KVIDX_OK);
        memset(&b, 0, sizeof(b));
        b.interface = *f->table;
        CHECK(kvidxOpen(&b, path2, &err), "open %s: %s", path2, err ? err : "(null)");
        CHECK_EQ_INT(f->Import(&b, file, &io, NULL, NULL), KVIDX_OK);
        CHECK_EQ_INT(kvidxGetKeyCount(&b, &n), KVIDX_OK);
        CHECK_EQ_U64(n, 4); /* 1, 2, 4, 5 */
        T(kvidxGet(&b, 1, &term, &cmd, &data, &len));
        T(same_bytes(data, len, "<Uno!"));
        CHECK_EQ_INT(f->Import(&b, file, &io, NULL, NULL), KVIDX_ERROR_DUPLICATE_KEY);
        kvidxClearError(&b);
        T(kvidxClose(&b));
    }

    /* Deletes. */
    T(f->Remove(&a, 5));
    T(!present(f, &a, 5));
    T(f->Insert(&a, 10, 0, 0, NULL, 0));
    T(f->Insert(&a, 20, 0, 0, NULL, 0));
    T(f->Insert(&a, 30, 0, 0, NULL, 0));
    CHECK_EQ_INT(f->RemoveRange(&a, 10, 30, false, false, &n), KVIDX_OK);
    CHECK_EQ_U64(n, 1);
    T(!present(f, &a, 20));
    T(f->RemoveAfterNInclusive(&a, 30));
    T(!present(f, &a, 30) && present(f, &a, 10));
    T(f->RemoveBeforeNInclusive(&a, 1));
    T(!present(f, &a, 1) && present(f, &a, 2));
    T(f->Fsync(&a));

    /* The same instance through the engine's table agrees with the
     * per-engine functions. */
    a.interface = *f->table;
    CHECK_EQ_INT(kvidxGetKeyCount(&a, &n), KVIDX_OK);
    CHECK_EQ_U64(n, 3); /* 2, 4, 10 */
    T(kvidxMaxKey(&a, &key));
    CHECK_EQ_U64(key, 10);
    T(kvidxInsert(&a, 40, 4, 44, "forty", 5));
    T(f->Get(&a, 40, &term, &cmd, &data, &len));
    T(same_bytes(data, len, "forty"));
    CHECK_EQ_U64(cmd, 44);

    T(f->Close(&a));
    T(a.kvidxdata == NULL);
    T(!f->Close(&a));
    CHECK_EQ_INT(kvidxGetLastError(&a), KVIDX_ERROR_INVALID_ARGUMENT);

    /* Reopened through the per-engine name: the data is there. */
    memset(&a, 0, sizeof(a));
    CHECK(f->Open(&a, path, &err), "reopen: %s", err ? err : "(null)");
    T(f->Exists(&a, 40));
    T(f->Close(&a));

    /* NULL instance: no crash, the documented failures. */
    T(!f->Open(NULL, path, &err));
    T(!f->Get(NULL, 1, NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(f->GetKeyCount(NULL, &n), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(f->GetTTL(NULL, 1), KVIDX_TTL_NOT_FOUND);
}

int main(int argc, char **argv) {
    size_t e;
    scratch = argc > 1 ? argv[1] : ".";
    /* Every built-in engine has its functions, each refusing the next
     * engine's instances (and being refused by them). */
    CHECK_EQ_U64(N_ENGINES, kvidxGetAdapterCount());
    for (e = 0; e < N_ENGINES; e++) {
        test_engine(&engines[e], &engines[(e + 1) % N_ENGINES]);
    }
    return check_report();
}
