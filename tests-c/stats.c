/* stats.c: kvidxGetStats / GetKeyCount / GetMinKey / GetDataSize
 * (core.md §3.3.22, decisions B1 and H3), on every registered engine;
 * SQLite-specific file-size and page checks under the SQLite3 engine. */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitRegistry.h"
#include "sqlite3.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")

#define MAXK UINT64_MAX
#define H ((uint64_t)1 << 63)

static const char *scratch = ".";
static const kvidxAdapterInfo *ad = NULL;
static unsigned db_counter = 0;
static char last_path[4096];

static bool is_sqlite(void) { return strcmp(ad->name, "SQLite3") == 0; }

static bool open_db(kvidxInstance *inst, const char *name) {
    const char *err = NULL;
    bool ok;
    snprintf(last_path, sizeof last_path, "%s/%s_%u%s", scratch, name, db_counter++, ad->pathSuffix);
    memset(inst, 0, sizeof *inst);
    inst->interface = *ad->iface;
    ok = kvidxOpen(inst, last_path, &err);
    CHECK(ok, "open %s: %s", last_path, err ? err : "(null)");
    return ok;
}

/* size of a file, 0 if absent */
static uint64_t file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    return (uint64_t)st.st_size;
}

/* SQLite: databaseFileSize and walFileSize are the real sizes on disk. */
static void check_sqlite_sizes(kvidxInstance *inst, const char *path, const char *what) {
    kvidxStats s;
    char wal[4200];
    uint64_t dbsz, walsz;
    memset(&s, 0xAB, sizeof s);
    CHECK_EQ_INT(kvidxGetStats(inst, &s), KVIDX_OK);
    snprintf(wal, sizeof wal, "%s-wal", path);
    dbsz = file_size(path);
    walsz = file_size(wal);
    CHECK(s.databaseFileSize == dbsz, "%s: databaseFileSize %" PRIu64 " != file size %" PRIu64, what,
          s.databaseFileSize, dbsz);
    CHECK(s.walFileSize == walsz, "%s: walFileSize %" PRIu64 " != -wal size %" PRIu64, what,
          s.walFileSize, walsz);
    CHECK_EQ_U64(s.pageSize, 8192);
    CHECK(s.pageCount > 0, "%s: pageCount 0", what);
    CHECK(s.freePages < s.pageCount, "%s: freePages %" PRIu64 " >= pageCount %" PRIu64, what,
          s.freePages, s.pageCount);
}

static void test_empty(void) {
    kvidxInstance inst;
    kvidxStats s;
    uint64_t v;
    if (!open_db(&inst, "stats_empty")) return;

    memset(&s, 0xAB, sizeof s);
    CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
    CHECK_EQ_U64(s.totalKeys, 0);
    CHECK_EQ_U64(s.totalDataBytes, 0);
    CHECK_EQ_U64(s.minKey, 0);
    CHECK_EQ_U64(s.maxKey, 0);
    if (is_sqlite()) {
        CK(s.pageSize != 0);
        CK(s.pageCount != 0);
        CHECK_EQ_U64(s.pageSize, 8192);
        check_sqlite_sizes(&inst, last_path, "empty");
    }

    v = 12345;
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &v), KVIDX_OK);
    CHECK_EQ_U64(v, 0);
    v = 12345;
    CHECK_EQ_INT(kvidxGetDataSize(&inst, &v), KVIDX_OK);
    CHECK_EQ_U64(v, 0);

    kvidxClearError(&inst);
    v = 12345;
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &v), KVIDX_ERROR_NOT_FOUND);
    CHECK_EQ_U64(v, 12345);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);
    kvidxClearError(&inst);
    CK(!kvidxMaxKey(&inst, &v));
    CHECK_EQ_U64(v, 12345);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);

    /* NULL out-params and NULL instance */
    CHECK_EQ_INT(kvidxGetStats(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetMinKey(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetDataSize(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetStats(NULL, &s), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(NULL, &v), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetMinKey(NULL, &v), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetDataSize(NULL, &v), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetStats(NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);

    CK(kvidxClose(&inst));
    /* closed instance */
    v = 12345;
    CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &v), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &v), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetDataSize(&inst, &v), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_U64(v, 12345);
}

static void expect_stats(kvidxInstance *inst, uint64_t keys, uint64_t minKey, uint64_t maxKey,
                         uint64_t bytes, const char *what) {
    kvidxStats s;
    uint64_t v;
    memset(&s, 0xAB, sizeof s);
    CHECK(kvidxGetStats(inst, &s) == KVIDX_OK, "%s: GetStats", what);
    CHECK(s.totalKeys == keys, "%s: totalKeys %" PRIu64 " != %" PRIu64, what, s.totalKeys, keys);
    CHECK(s.minKey == minKey, "%s: minKey %" PRIu64 " != %" PRIu64, what, s.minKey, minKey);
    CHECK(s.maxKey == maxKey, "%s: maxKey %" PRIu64 " != %" PRIu64, what, s.maxKey, maxKey);
    CHECK(s.totalDataBytes == bytes, "%s: totalDataBytes %" PRIu64 " != %" PRIu64, what,
          s.totalDataBytes, bytes);
    v = 0;
    CHECK(kvidxGetKeyCount(inst, &v) == KVIDX_OK && v == keys, "%s: KeyCount %" PRIu64, what, v);
    v = 0;
    CHECK(kvidxGetDataSize(inst, &v) == KVIDX_OK && v == bytes, "%s: DataSize %" PRIu64, what, v);
    if (keys > 0) {
        v = 7;
        CHECK(kvidxGetMinKey(inst, &v) == KVIDX_OK && v == minKey, "%s: MinKey %" PRIu64, what, v);
        v = 7;
        CHECK(kvidxMaxKey(inst, &v) && v == maxKey, "%s: MaxKey %" PRIu64, what, v);
    }
    if (is_sqlite()) check_sqlite_sizes(inst, last_path, what);
}

static void test_counts(void) {
    kvidxInstance inst;
    uint64_t v;
    bool ok = true;
    if (!open_db(&inst, "stats_counts")) return;

    /* 1000 x 8-byte values */
    for (uint64_t k = 1; k <= 1000; k++) ok = ok && kvidxInsert(&inst, k, k, k, &k, 8);
    CHECK(ok, "1000 inserts");
    expect_stats(&inst, 1000, 1, 1000, 8000, "1..1000");
    if (is_sqlite()) {
        kvidxStats s;
        CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
        CK(s.databaseFileSize != 0);
    }
    /* Fsync (checkpoint) and the sizes still match the files */
    CK(kvidxFsync(&inst));
    expect_stats(&inst, 1000, 1, 1000, 8000, "after Fsync");

    /* remove 1..50 and 101..1000 */
    CK(kvidxRemoveAfterNInclusive(&inst, 101));
    for (uint64_t k = 1; k <= 50; k++) CK(kvidxRemove(&inst, k));
    expect_stats(&inst, 50, 51, 100, 400, "51..100");
    CK(kvidxRemoveBeforeNInclusive(&inst, 100));
    expect_stats(&inst, 0, 0, 0, 0, "emptied");
    v = 99;
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &v), KVIDX_ERROR_NOT_FOUND);
    CHECK_EQ_U64(v, 99);

    /* data sizes 10 + 100 + 0 + NULL */
    {
        char buf[100];
        memset(buf, 'x', sizeof buf);
        CK(kvidxInsert(&inst, 10, 1, 1, buf, 10));
        CK(kvidxInsert(&inst, 20, 1, 1, buf, 100));
        CK(kvidxInsert(&inst, 30, 1, 1, "", 0));
        CK(kvidxInsert(&inst, 40, 1, 1, NULL, 0));
        expect_stats(&inst, 4, 10, 40, 110, "10+100+0+NULL");
    }

    /* unsigned order for min and max (decision B1) */
    CK(kvidxInsert(&inst, H, 0, 0, "abc", 3));
    expect_stats(&inst, 5, 10, H, 113, "with 2^63");
    CK(kvidxInsert(&inst, MAXK, 0, 0, "abcd", 4));
    CK(kvidxInsert(&inst, MAXK - 1, 0, 0, "a", 1));
    CK(kvidxInsert(&inst, H - 1, 0, 0, "ab", 2));
    expect_stats(&inst, 8, 10, MAXK, 120, "with MAX");
    CK(kvidxInsert(&inst, 0, 0, 0, "z", 1));
    expect_stats(&inst, 9, 0, MAXK, 121, "with 0");
    CK(kvidxRemove(&inst, 0));
    CK(kvidxRemove(&inst, MAXK));
    expect_stats(&inst, 7, 10, MAXK - 1, 116, "without 0 and MAX");
    CK(kvidxRemoveBeforeNInclusive(&inst, H - 1)); /* removes 10..40 and 2^63-1 */
    expect_stats(&inst, 2, H, MAXK - 1, 4, "high half only");
    CK(kvidxRemove(&inst, MAXK - 1));
    expect_stats(&inst, 1, H, H, 3, "only 2^63");

    /* reads inside a transaction see its writes */
    CK(kvidxBegin(&inst));
    CK(kvidxInsert(&inst, 5, 0, 0, "12345", 5));
    {
        kvidxStats s;
        CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
        CHECK_EQ_U64(s.totalKeys, 2);
        CHECK_EQ_U64(s.minKey, 5);
        CHECK_EQ_U64(s.maxKey, H);
        CHECK_EQ_U64(s.totalDataBytes, 8);
        v = 0;
        CHECK_EQ_INT(kvidxGetKeyCount(&inst, &v), KVIDX_OK);
        CHECK_EQ_U64(v, 2);
        CHECK_EQ_INT(kvidxGetMinKey(&inst, &v), KVIDX_OK);
        CHECK_EQ_U64(v, 5);
    }
    CK(kvidxAbort(&inst));
    expect_stats(&inst, 1, H, H, 3, "after abort");

    CK(kvidxClose(&inst));

    /* stats survive a reopen */
    {
        const char *err = NULL;
        memset(&inst, 0, sizeof inst);
        inst.interface = *ad->iface;
        CHECK(kvidxOpen(&inst, last_path, &err), "reopen: %s", err ? err : "");
        expect_stats(&inst, 1, H, H, 3, "reopened");
        CK(kvidxClose(&inst));
    }
}

/* SQLite only: free pages appear after deleting many rows (rollback journal),
 * and the page figures agree with what SQLite itself reports. */
static void test_sqlite_pages(void) {
    kvidxInstance inst;
    kvidxConfig cfg = kvidxConfigDefault();
    kvidxStats before, after;
    const char *err = NULL;
    char path[4096];
    static char blob[2000];
    bool ok = true;

    snprintf(path, sizeof path, "%s/stats_pages%s", scratch, ad->pathSuffix);
    strcpy(last_path, path);
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    cfg.journalMode = KVIDX_JOURNAL_DELETE;
    CHECK(kvidxOpenWithConfig(&inst, path, &cfg, &err), "open: %s", err ? err : "");
    memset(blob, 'q', sizeof blob);
    CK(kvidxBegin(&inst));
    for (uint64_t k = 0; k < 2000; k++) ok = ok && kvidxInsert(&inst, k, 0, 0, blob, sizeof blob);
    CK(kvidxCommit(&inst));
    CK(ok);
    memset(&before, 0, sizeof before);
    CHECK_EQ_INT(kvidxGetStats(&inst, &before), KVIDX_OK);
    CHECK_EQ_U64(before.totalKeys, 2000);
    CHECK_EQ_U64(before.totalDataBytes, 2000 * sizeof blob);
    CHECK_EQ_U64(before.walFileSize, 0); /* no WAL in DELETE mode */
    /* rollback journal: the file holds every page */
    CHECK_EQ_U64(before.databaseFileSize, before.pageCount * before.pageSize);
    CHECK_EQ_U64(before.databaseFileSize, file_size(path));
    CK(before.pageCount > 2000 * sizeof blob / 8192);

    CK(kvidxRemoveRange(&inst, 0, MAXK, true, true, NULL) == KVIDX_OK);
    memset(&after, 0, sizeof after);
    CHECK_EQ_INT(kvidxGetStats(&inst, &after), KVIDX_OK);
    CHECK_EQ_U64(after.totalKeys, 0);
    CHECK(after.freePages > before.freePages, "freePages %" PRIu64 " -> %" PRIu64, before.freePages,
          after.freePages);
    CK(after.freePages > 100);
    CHECK_EQ_U64(after.pageCount, before.pageCount); /* no auto-vacuum: file does not shrink */
    CHECK_EQ_U64(after.databaseFileSize, file_size(path));
    CK(kvidxClose(&inst));

    /* SQLite itself agrees */
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        static const char *const pragmas[] = {"PRAGMA page_count", "PRAGMA page_size",
                                              "PRAGMA freelist_count"};
        uint64_t expect[3];
        expect[0] = after.pageCount;
        expect[1] = after.pageSize;
        expect[2] = after.freePages;
        CK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        for (int j = 0; j < 3; j++) {
            int64_t got = -1;
            if (sqlite3_prepare_v2(db, pragmas[j], -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW)
                got = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
            CHECK(got >= 0 && (uint64_t)got == expect[j], "%s: sqlite %" PRId64 ", stats %" PRIu64,
                  pragmas[j], got, expect[j]);
        }
        sqlite3_close(db);
    }

    /* pageSize 4096 on a new file through the config */
    snprintf(path, sizeof path, "%s/stats_pages4k%s", scratch, ad->pathSuffix);
    strcpy(last_path, path);
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    cfg = kvidxConfigDefault();
    cfg.pageSize = 4096;
    CHECK(kvidxOpenWithConfig(&inst, path, &cfg, &err), "open 4k: %s", err ? err : "");
    CK(kvidxInsert(&inst, 1, 1, 1, "x", 1));
    memset(&after, 0, sizeof after);
    CHECK_EQ_INT(kvidxGetStats(&inst, &after), KVIDX_OK);
    CHECK_EQ_U64(after.pageSize, 4096);
    CHECK_EQ_U64(after.databaseFileSize, file_size(path));
    CK(kvidxClose(&inst));
}

/* SQLite only: WAL grows with writes and both sizes track the files. */
static void test_sqlite_wal(void) {
    kvidxInstance inst;
    kvidxStats s;
    char wal[4200];
    static char blob[4000];
    bool ok = true;
    if (!open_db(&inst, "stats_wal")) return;
    snprintf(wal, sizeof wal, "%s-wal", last_path);
    check_sqlite_sizes(&inst, last_path, "wal: fresh");
    memset(blob, 'w', sizeof blob);
    for (uint64_t k = 0; k < 200; k++) ok = ok && kvidxInsert(&inst, k, 0, 0, blob, sizeof blob);
    CK(ok);
    CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
    CK(s.walFileSize > 0);
    CK(s.walFileSize == file_size(wal));
    CK(s.databaseFileSize == file_size(last_path));
    check_sqlite_sizes(&inst, last_path, "wal: after 200 writes");
    CK(kvidxFsync(&inst));
    check_sqlite_sizes(&inst, last_path, "wal: after Fsync");
    CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
    /* the committed data is on disk, in the database file or the WAL */
    CK(s.databaseFileSize + s.walFileSize >= 200 * sizeof blob);
    CK(kvidxClose(&inst));
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        ad = kvidxGetAdapterByIndex(a);
        CK(ad != NULL);
        if (ad == NULL) continue;
        check_set_context(ad->name);
        test_empty();
        test_counts();
        if (is_sqlite()) {
            test_sqlite_pages();
            test_sqlite_wal();
        }
    }
    return check_report();
}
