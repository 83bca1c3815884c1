/* layout.c: the C ABI of kvidxkit — struct sizes and field offsets, enum
 * values and sizes, macros, static inline helpers, default option structs.
 * Every header of the original is included; x86_64 Linux (LP64) layouts. */
#include "check.h"

#include "kvidxkit.h"
#include "kvidxkitConfig.h"
#include "kvidxkitErrors.h"
#include "kvidxkitExport.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"

#include <stddef.h>

/* Alignment without C11 _Alignof. */
#define ALIGN_OF(T) offsetof(struct { char c_; T t_; }, t_)

#define OFF(T, f, v) CHECK_EQ_U64(offsetof(T, f), (v))
#define SZ(T, v) CHECK_EQ_U64(sizeof(T), (v))
#define FSZ(T, f, v) CHECK_EQ_U64(sizeof(((T *)0)->f), (v))

static void test_instance(void) {
    check_set_context("kvidxInstance");
    SZ(kvidxInstance, 688);
    CHECK_EQ_U64(ALIGN_OF(kvidxInstance), 8);
    OFF(kvidxInstance, kvidxdata, 0);
    OFF(kvidxInstance, clientdata, 8);
    OFF(kvidxInstance, interface, 16);
    OFF(kvidxInstance, state, 352);
    OFF(kvidxInstance, customInit, 368);
    OFF(kvidxInstance, lastError, 376);
    OFF(kvidxInstance, lastErrorMessage, 380);
    OFF(kvidxInstance, transactionActive, 636);
    OFF(kvidxInstance, config, 640);
    OFF(kvidxInstance, configInitialized, 680);
    FSZ(kvidxInstance, kvidxdata, 8);
    FSZ(kvidxInstance, clientdata, 8);
    FSZ(kvidxInstance, interface, 336);
    FSZ(kvidxInstance, state, 16);
    FSZ(kvidxInstance, customInit, 8);
    FSZ(kvidxInstance, lastError, 4);
    FSZ(kvidxInstance, lastErrorMessage, 256);
    FSZ(kvidxInstance, transactionActive, 1);
    FSZ(kvidxInstance, config, 40);
    FSZ(kvidxInstance, configInitialized, 1);
}

static void test_interface(void) {
    check_set_context("kvidxInterface");
    SZ(kvidxInterface, 336);
    CHECK_EQ_U64(sizeof(kvidxInterface) / sizeof(void (*)(void)), 42);
    OFF(kvidxInterface, begin, 0);
    OFF(kvidxInterface, commit, 8);
    OFF(kvidxInterface, get, 16);
    OFF(kvidxInterface, getPrev, 24);
    OFF(kvidxInterface, getNext, 32);
    OFF(kvidxInterface, exists, 40);
    OFF(kvidxInterface, existsDual, 48);
    OFF(kvidxInterface, maxKey, 56);
    OFF(kvidxInterface, insert, 64);
    OFF(kvidxInterface, remove, 72);
    OFF(kvidxInterface, removeAfterNInclusive, 80);
    OFF(kvidxInterface, removeBeforeNInclusive, 88);
    OFF(kvidxInterface, fsync, 96);
    OFF(kvidxInterface, copyStorageForReplication, 104);
    OFF(kvidxInterface, copyStorageForReplicationReceive, 112);
    OFF(kvidxInterface, copyStorageForBackup, 120);
    OFF(kvidxInterface, applyToStateMachine, 128);
    OFF(kvidxInterface, open, 136);
    OFF(kvidxInterface, close, 144);
    OFF(kvidxInterface, getStats, 152);
    OFF(kvidxInterface, getKeyCount, 160);
    OFF(kvidxInterface, getMinKey, 168);
    OFF(kvidxInterface, getDataSize, 176);
    OFF(kvidxInterface, removeRange, 184);
    OFF(kvidxInterface, countRange, 192);
    OFF(kvidxInterface, existsInRange, 200);
    OFF(kvidxInterface, exportData, 208);
    OFF(kvidxInterface, importData, 216);
    OFF(kvidxInterface, insertEx, 224);
    OFF(kvidxInterface, abort, 232);
    OFF(kvidxInterface, getAndSet, 240);
    OFF(kvidxInterface, getAndRemove, 248);
    OFF(kvidxInterface, compareAndSwap, 256);
    OFF(kvidxInterface, append, 264);
    OFF(kvidxInterface, prepend, 272);
    OFF(kvidxInterface, getValueRange, 280);
    OFF(kvidxInterface, setValueRange, 288);
    OFF(kvidxInterface, setExpire, 296);
    OFF(kvidxInterface, setExpireAt, 304);
    OFF(kvidxInterface, getTTL, 312);
    OFF(kvidxInterface, persist, 320);
    OFF(kvidxInterface, expireScan, 328);

    check_set_context("kvidxInterfaceStateMachine");
    SZ(kvidxInterfaceStateMachine, 16);
    OFF(kvidxInterfaceStateMachine, applyToStateMachine, 0);
    OFF(kvidxInterfaceStateMachine, resurrectStateMachineFromStorage, 8);
}

static void test_small_structs(void) {
    check_set_context("kvidxConfig");
    SZ(kvidxConfig, 40);
    CHECK_EQ_U64(ALIGN_OF(kvidxConfig), 8);
    OFF(kvidxConfig, cacheSizeBytes, 0);
    OFF(kvidxConfig, vfsName, 8);
    OFF(kvidxConfig, journalMode, 16);
    OFF(kvidxConfig, syncMode, 20);
    OFF(kvidxConfig, enableRecursiveTriggers, 24);
    OFF(kvidxConfig, enableForeignKeys, 25);
    OFF(kvidxConfig, readOnly, 26);
    OFF(kvidxConfig, busyTimeoutMs, 28);
    OFF(kvidxConfig, mmapSizeBytes, 32);
    OFF(kvidxConfig, pageSize, 36);
    FSZ(kvidxConfig, cacheSizeBytes, 8);
    FSZ(kvidxConfig, busyTimeoutMs, 4);
    FSZ(kvidxConfig, mmapSizeBytes, 4);
    FSZ(kvidxConfig, pageSize, 4);

    check_set_context("kvidxStats");
    SZ(kvidxStats, 72);
    OFF(kvidxStats, totalKeys, 0);
    OFF(kvidxStats, minKey, 8);
    OFF(kvidxStats, maxKey, 16);
    OFF(kvidxStats, totalDataBytes, 24);
    OFF(kvidxStats, databaseFileSize, 32);
    OFF(kvidxStats, walFileSize, 40);
    OFF(kvidxStats, pageCount, 48);
    OFF(kvidxStats, pageSize, 56);
    OFF(kvidxStats, freePages, 64);
    FSZ(kvidxStats, freePages, 8);

    check_set_context("kvidxEntry");
    SZ(kvidxEntry, 40);
    OFF(kvidxEntry, key, 0);
    OFF(kvidxEntry, term, 8);
    OFF(kvidxEntry, cmd, 16);
    OFF(kvidxEntry, data, 24);
    OFF(kvidxEntry, dataLen, 32);

    check_set_context("kvidxAdapterInfo");
    SZ(kvidxAdapterInfo, 32);
    OFF(kvidxAdapterInfo, name, 0);
    OFF(kvidxAdapterInfo, iface, 8);
    OFF(kvidxAdapterInfo, pathSuffix, 16);
    OFF(kvidxAdapterInfo, isDirectory, 24);
    FSZ(kvidxAdapterInfo, isDirectory, 1);

    check_set_context("kvidxExportOptions");
    SZ(kvidxExportOptions, 32);
    OFF(kvidxExportOptions, format, 0);
    OFF(kvidxExportOptions, startKey, 8);
    OFF(kvidxExportOptions, endKey, 16);
    OFF(kvidxExportOptions, includeMetadata, 24);
    OFF(kvidxExportOptions, prettyPrint, 25);

    check_set_context("kvidxImportOptions");
    SZ(kvidxImportOptions, 8);
    OFF(kvidxImportOptions, format, 0);
    OFF(kvidxImportOptions, validateData, 4);
    OFF(kvidxImportOptions, skipDuplicates, 5);
    OFF(kvidxImportOptions, clearBeforeImport, 6);

    check_set_context("bool");
    CHECK_EQ_U64(sizeof(bool), 1);
}

static void test_enums(void) {
    check_set_context("enum sizes");
    SZ(kvidxError, 4);
    SZ(kvidxSetCondition, 4);
    SZ(kvidxJournalMode, 4);
    SZ(kvidxSyncMode, 4);
    SZ(kvidxIterDirection, 4);
    SZ(kvidxExportFormat, 4);

    check_set_context("kvidxError values");
    CHECK_EQ_INT(KVIDX_OK, 0);
    CHECK_EQ_INT(KVIDX_ERROR_INVALID_ARGUMENT, 1);
    CHECK_EQ_INT(KVIDX_ERROR_DUPLICATE_KEY, 2);
    CHECK_EQ_INT(KVIDX_ERROR_NOT_FOUND, 3);
    CHECK_EQ_INT(KVIDX_ERROR_DISK_FULL, 4);
    CHECK_EQ_INT(KVIDX_ERROR_IO, 5);
    CHECK_EQ_INT(KVIDX_ERROR_CORRUPT, 6);
    CHECK_EQ_INT(KVIDX_ERROR_TRANSACTION_ACTIVE, 7);
    CHECK_EQ_INT(KVIDX_ERROR_NO_TRANSACTION, 8);
    CHECK_EQ_INT(KVIDX_ERROR_READONLY, 9);
    CHECK_EQ_INT(KVIDX_ERROR_LOCKED, 10);
    CHECK_EQ_INT(KVIDX_ERROR_NOMEM, 11);
    CHECK_EQ_INT(KVIDX_ERROR_TOO_BIG, 12);
    CHECK_EQ_INT(KVIDX_ERROR_CONSTRAINT, 13);
    CHECK_EQ_INT(KVIDX_ERROR_SCHEMA, 14);
    CHECK_EQ_INT(KVIDX_ERROR_RANGE, 15);
    CHECK_EQ_INT(KVIDX_ERROR_NOT_SUPPORTED, 16);
    CHECK_EQ_INT(KVIDX_ERROR_CANCELLED, 17);
    CHECK_EQ_INT(KVIDX_ERROR_INTERNAL, 99);
    CHECK_EQ_INT(KVIDX_ERROR_CONDITION_FAILED, 100);
    CHECK_EQ_INT(KVIDX_ERROR_EXPIRED, 101);

    check_set_context("other enum values");
    CHECK_EQ_INT(KVIDX_SET_ALWAYS, 0);
    CHECK_EQ_INT(KVIDX_SET_IF_NOT_EXISTS, 1);
    CHECK_EQ_INT(KVIDX_SET_IF_EXISTS, 2);
    CHECK_EQ_INT(KVIDX_JOURNAL_DELETE, 0);
    CHECK_EQ_INT(KVIDX_JOURNAL_TRUNCATE, 1);
    CHECK_EQ_INT(KVIDX_JOURNAL_PERSIST, 2);
    CHECK_EQ_INT(KVIDX_JOURNAL_MEMORY, 3);
    CHECK_EQ_INT(KVIDX_JOURNAL_WAL, 4);
    CHECK_EQ_INT(KVIDX_JOURNAL_OFF, 5);
    CHECK_EQ_INT(KVIDX_SYNC_OFF, 0);
    CHECK_EQ_INT(KVIDX_SYNC_NORMAL, 1);
    CHECK_EQ_INT(KVIDX_SYNC_FULL, 2);
    CHECK_EQ_INT(KVIDX_SYNC_EXTRA, 3);
    CHECK_EQ_INT(KVIDX_ITER_FORWARD, 0);
    CHECK_EQ_INT(KVIDX_ITER_BACKWARD, 1);
    CHECK_EQ_INT(KVIDX_EXPORT_BINARY, 0);
    CHECK_EQ_INT(KVIDX_EXPORT_JSON, 1);
    CHECK_EQ_INT(KVIDX_EXPORT_CSV, 2);

    check_set_context("TTL macros");
    CHECK_EQ_INT(KVIDX_TTL_NONE, -1);
    CHECK_EQ_INT(KVIDX_TTL_NOT_FOUND, -2);
    {
        /* They compare correctly against the int64_t result of kvidxGetTTL. */
        int64_t none = KVIDX_TTL_NONE, nf = KVIDX_TTL_NOT_FOUND;
        CHECK(none == (int64_t)-1 && nf == (int64_t)-2 && none < 0 && nf < 0, "");
    }
}

static void test_inline_helpers(void) {
    static const int codes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                12, 13, 14, 15, 16, 17, 99, 100, 101, 9999};
    size_t n;
    check_set_context("kvidxIsOk/kvidxIsError");
    for (n = 0; n < sizeof(codes) / sizeof(codes[0]); n++) {
        kvidxError e = (kvidxError)codes[n];
        CHECK(kvidxIsOk(e) == (codes[n] == 0), "kvidxIsOk(%d)", codes[n]);
        CHECK(kvidxIsError(e) == (codes[n] != 0), "kvidxIsError(%d)", codes[n]);
        CHECK(kvidxIsOk(e) != kvidxIsError(e), "exclusive for %d", codes[n]);
    }
}

static void test_defaults(void) {
    kvidxConfig c;
    kvidxExportOptions eo;
    kvidxImportOptions io;

    check_set_context("kvidxConfigDefault");
    memset(&c, 0xAB, sizeof(c));
    c = kvidxConfigDefault();
    CHECK_EQ_U64(c.cacheSizeBytes, 33554432u);
    CHECK(c.vfsName == NULL, "");
    CHECK_EQ_INT(c.journalMode, KVIDX_JOURNAL_WAL);
    CHECK_EQ_INT(c.syncMode, KVIDX_SYNC_NORMAL);
    CHECK(c.enableRecursiveTriggers == true, "");
    CHECK(c.enableForeignKeys == false, "");
    CHECK(c.readOnly == false, "");
    CHECK_EQ_INT(c.busyTimeoutMs, 5000);
    CHECK_EQ_INT(c.mmapSizeBytes, 0);
    CHECK_EQ_INT(c.pageSize, 0);

    check_set_context("kvidxExportOptionsDefault");
    memset(&eo, 0xAB, sizeof(eo));
    eo = kvidxExportOptionsDefault();
    CHECK_EQ_INT(eo.format, KVIDX_EXPORT_BINARY);
    CHECK_EQ_U64(eo.startKey, 0);
    CHECK_EQ_U64(eo.endKey, UINT64_MAX);
    CHECK(eo.includeMetadata == true, "");
    CHECK(eo.prettyPrint == false, "");

    check_set_context("kvidxImportOptionsDefault");
    memset(&io, 0xAB, sizeof(io));
    io = kvidxImportOptionsDefault();
    CHECK_EQ_INT(io.format, KVIDX_EXPORT_BINARY);
    CHECK(io.validateData == true, "");
    CHECK(io.skipDuplicates == false, "");
    CHECK(io.clearBeforeImport == false, "");
}

static void test_symbols(void) {
    /* The engine table is an exported data symbol copied by value. Members
     * 13-16 are NULL as in the original; the core members are filled. */
    kvidxInterface t = kvidxInterfaceSqlite3;
    void (*const *slots)(void) = (void (*const *)(void))(const void *)&t;
    bool (*apply)(kvidxInstance *, uint64_t) = kvidxApplyToStateMachine;
    void (*seterr)(kvidxInstance *, kvidxError, const char *, ...) = kvidxSetError;
    size_t n;

    check_set_context("exported symbols");
#ifdef KVIDXKIT_HAS_SQLITE3
    CHECK_EQ_INT(KVIDXKIT_HAS_SQLITE3, 1);
#else
    CHECK(0, "KVIDXKIT_HAS_SQLITE3 not defined by kvidxkit.h");
#endif
    {
        /* The engine macros agree with the registry. */
#ifdef KVIDXKIT_HAS_LMDB
        bool lmdb_macro = true;
#else
        bool lmdb_macro = false;
#endif
        CHECK(lmdb_macro == kvidxHasAdapter("LMDB"), "KVIDXKIT_HAS_LMDB vs registry");
#ifdef KVIDXKIT_HAS_ROCKSDB
        CHECK(kvidxHasAdapter("RocksDB"), "KVIDXKIT_HAS_ROCKSDB defined, no RocksDB in the registry");
        CHECK(kvidxInterfaceRocksdb.open != NULL, "kvidxInterfaceRocksdb.open is NULL");
#else
        CHECK(!kvidxHasAdapter("RocksDB"), "RocksDB in the registry, KVIDXKIT_HAS_ROCKSDB not defined");
#endif
        CHECK(kvidxHasAdapter("SQLite3"), "");
    }
    /* Every member but exportData/importData (26, 27), which belong to the
     * export tests. */
    for (n = 0; n < 42; n++) {
        if (n == 26 || n == 27) {
            continue;
        }
        if (n >= 13 && n <= 16) {
            CHECK(slots[n] == NULL, "kvidxInterfaceSqlite3 slot %zu should be NULL", n);
        } else {
            CHECK(slots[n] != NULL, "kvidxInterfaceSqlite3 slot %zu is NULL", n);
        }
    }
    CHECK(t.open == kvidxInterfaceSqlite3.open && t.get == kvidxInterfaceSqlite3.get, "");
    CHECK(apply != NULL, "");
    CHECK(seterr != NULL, "");
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    test_instance();
    test_interface();
    test_small_structs();
    test_enums();
    test_inline_helpers();
    test_defaults();
    test_symbols();
    return check_report();
}
