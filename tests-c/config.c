/* config.c: kvidxConfigDefault / kvidxOpenWithConfig / kvidxUpdateConfig /
 * kvidxGetConfig (core.md §2.3, §3.3.23; decisions A2, H1, H2, D4).
 * Engine-independent behaviour runs on every registered engine; what only
 * SQLite has (journal modes, cache, page size, VFS, the process lock) runs
 * under the SQLite3 engine. */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitConfig.h"
#include "kvidxkitRegistry.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")

#define MIB ((size_t)1024 * 1024)

static const char *scratch = ".";
static const kvidxAdapterInfo *ad = NULL;
static unsigned db_counter = 0;

static bool is_sqlite(void) { return strcmp(ad->name, "SQLite3") == 0; }

static void make_path(char *path, size_t cap, const char *name) {
    snprintf(path, cap, "%s/%s_%u%s", scratch, name, db_counter++, ad->pathSuffix);
}

static void fresh(kvidxInstance *inst) {
    memset(inst, 0, sizeof *inst);
    inst->interface = *ad->iface;
}

static bool path_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static bool open_plain(kvidxInstance *inst, const char *path) {
    const char *err = NULL;
    bool ok;
    fresh(inst);
    ok = kvidxOpen(inst, path, &err);
    CHECK(ok, "open %s: %s", path, err ? err : "(null)");
    return ok;
}

static bool open_cfg(kvidxInstance *inst, const char *path, const kvidxConfig *cfg) {
    const char *err = NULL;
    bool ok;
    fresh(inst);
    ok = kvidxOpenWithConfig(inst, path, cfg, &err);
    CHECK(ok, "open with config %s: %s", path, err ? err : "(null)");
    return ok;
}

static bool same_vfs(const char *a, const char *b) {
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static bool config_equal(const kvidxConfig *a, const kvidxConfig *b) {
    return a->cacheSizeBytes == b->cacheSizeBytes && same_vfs(a->vfsName, b->vfsName) &&
           a->journalMode == b->journalMode && a->syncMode == b->syncMode &&
           a->enableRecursiveTriggers == b->enableRecursiveTriggers &&
           a->enableForeignKeys == b->enableForeignKeys && a->readOnly == b->readOnly &&
           a->busyTimeoutMs == b->busyTimeoutMs && a->mmapSizeBytes == b->mmapSizeBytes &&
           a->pageSize == b->pageSize;
}

static void get_cfg(kvidxInstance *inst, kvidxConfig *cfg) {
    memset(cfg, 0x5A, sizeof *cfg);
    CHECK_EQ_INT(kvidxGetConfig(inst, cfg), KVIDX_OK);
}

/* the file-format write/read version bytes: 2 in WAL mode, 1 otherwise */
static int header_version(const char *path) {
    unsigned char hdr[20];
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL) return -1;
    n = fread(hdr, 1, sizeof hdr, f);
    fclose(f);
    if (n != sizeof hdr || hdr[18] != hdr[19]) return -1;
    return hdr[18];
}

/* ------------------------------------------------------------------ */

static void test_defaults_and_null(void) {
    kvidxConfig d = kvidxConfigDefault();
    kvidxConfig c;
    kvidxInstance z;
    const char *err = NULL;
    char path[4096];

    check_set_context("default");
    CHECK_EQ_U64(sizeof(kvidxConfig), 40);
    CHECK_EQ_U64(d.cacheSizeBytes, 33554432);
    CK(d.vfsName == NULL);
    CHECK_EQ_INT(d.journalMode, KVIDX_JOURNAL_WAL);
    CHECK_EQ_INT(d.journalMode, 4);
    CHECK_EQ_INT(d.syncMode, KVIDX_SYNC_NORMAL);
    CHECK_EQ_INT(d.syncMode, 1);
    CK(d.enableRecursiveTriggers == true);
    CK(d.enableForeignKeys == false);
    CK(d.readOnly == false);
    CHECK_EQ_INT(d.busyTimeoutMs, 5000);
    CHECK_EQ_INT(d.mmapSizeBytes, 0);
    CHECK_EQ_INT(d.pageSize, 0);
    CHECK_EQ_INT(KVIDX_JOURNAL_DELETE, 0);
    CHECK_EQ_INT(KVIDX_JOURNAL_OFF, 5);
    CHECK_EQ_INT(KVIDX_SYNC_OFF, 0);
    CHECK_EQ_INT(KVIDX_SYNC_EXTRA, 3);

    /* NULL arguments */
    CHECK_EQ_INT(kvidxGetConfig(NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxUpdateConfig(NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetConfig(NULL, &c), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxUpdateConfig(NULL, &d), KVIDX_ERROR_INVALID_ARGUMENT);
    memset(&z, 0, sizeof z);
    CHECK_EQ_INT(kvidxGetConfig(&z, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxUpdateConfig(&z, NULL), KVIDX_ERROR_INVALID_ARGUMENT);

    snprintf(path, sizeof path, "%s/nullcfg", scratch);
    err = NULL;
    CK(!kvidxOpenWithConfig(NULL, path, NULL, &err));
    CK(err != NULL && strcmp(err, "Invalid arguments: instance and filename required") == 0);
    err = NULL;
    CK(!kvidxOpenWithConfig(NULL, path, &d, &err));
    CK(err != NULL && strcmp(err, "Invalid arguments: instance and filename required") == 0);
    err = NULL;
    z.interface = kvidxInterfaceSqlite3;
    CK(!kvidxOpenWithConfig(&z, NULL, &d, &err));
    CK(err != NULL && strcmp(err, "Invalid arguments: instance and filename required") == 0);
    CK(!kvidxOpenWithConfig(&z, NULL, NULL, NULL)); /* err optional */
    CK(!kvidxOpenWithConfig(NULL, NULL, NULL, NULL));
    CK(z.kvidxdata == NULL);
    CK(!path_exists(path));
}

/* ------------------------------------------------------------------ */
/* engine-independent */

static void test_generic_open_and_update(void) {
    kvidxInstance inst;
    kvidxConfig c, before;
    char path[4096];
    const char *err = NULL;

    /* OpenWithConfig(NULL config) */
    make_path(path, sizeof path, "cfg_null");
    if (open_cfg(&inst, path, NULL)) {
        CK(kvidxInsert(&inst, 1, 2, 3, "x", 1));
        CK(kvidxExists(&inst, 1));
        get_cfg(&inst, &before);
        CK(before.readOnly == false);
        CK(inst.configInitialized);
        /* NULL out-params on an open instance */
        CHECK_EQ_INT(kvidxGetConfig(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        /* Fsync does not change the reported sync mode */
        CK(kvidxFsync(&inst));
        get_cfg(&inst, &c);
        CHECK_EQ_INT(c.syncMode, before.syncMode);
        CK(config_equal(&c, &before));
        /* UpdateConfig with what GetConfig reports is accepted and changes nothing */
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &before), KVIDX_OK);
        get_cfg(&inst, &c);
        CHECK(config_equal(&c, &before), "re-applying the reported config changed it");
        /* an open instance refuses a second open, which changes nothing */
        err = NULL;
        c = before;
        c.busyTimeoutMs = 1234;
        c.cacheSizeBytes = 7 * MIB;
        c.pageSize = 0;
        CK(!kvidxOpenWithConfig(&inst, path, &c, &err));
        CK(err != NULL && err[0] != '\0');
        get_cfg(&inst, &c);
        CHECK(config_equal(&c, &before), "a refused OpenWithConfig changed the reported config");
        CHECK_EQ_INT(c.busyTimeoutMs, before.busyTimeoutMs);
        CHECK_EQ_INT(c.pageSize, before.pageSize);
        {
            kvidxConfig mid = c;
            err = NULL;
            CK(!kvidxOpen(&inst, path, &err));
            CK(err != NULL && err[0] != '\0');
            get_cfg(&inst, &c);
            CHECK(config_equal(&c, &mid), "a refused Open changed the reported config");
        }
        CK(kvidxExists(&inst, 1)); /* still usable */
        CK(kvidxInsert(&inst, 2, 2, 2, NULL, 0));
        CK(kvidxClose(&inst));
    }

    /* plain open: Fsync keeps the reported sync mode */
    make_path(path, sizeof path, "cfg_plain");
    if (open_plain(&inst, path)) {
        get_cfg(&inst, &before);
        CK(before.readOnly == false);
        CK(kvidxInsert(&inst, 9, 9, 9, NULL, 0));
        CK(kvidxFsync(&inst));
        CK(kvidxFsync(&inst));
        get_cfg(&inst, &c);
        CHECK_EQ_INT(c.syncMode, before.syncMode);
        CK(config_equal(&c, &before));
        CK(kvidxClose(&inst));
    }

    /* UpdateConfig on an unopened instance of a built-in engine */
    fresh(&inst);
    c = kvidxConfigDefault();
    CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_ERROR_INVALID_ARGUMENT);
    CK(inst.kvidxdata == NULL);
}

static void test_generic_invalid(void) {
    kvidxInstance inst;
    kvidxConfig bad[7], before, c;
    const char *what[7] = {"pageSize 1000",   "pageSize 131072", "pageSize -4096",
                           "journalMode 77",  "syncMode 77",     "mmapSizeBytes -1",
                           "syncMode -1"};
    char path[4096];
    for (int j = 0; j < 7; j++) bad[j] = kvidxConfigDefault();
    bad[0].pageSize = 1000;
    bad[1].pageSize = 131072;
    bad[2].pageSize = -4096;
    bad[3].journalMode = (kvidxJournalMode)77;
    bad[4].syncMode = (kvidxSyncMode)77;
    bad[5].mmapSizeBytes = -1;
    bad[6].syncMode = (kvidxSyncMode)-1;

    for (int j = 0; j < 7; j++) {
        const char *err = NULL;
        make_path(path, sizeof path, "cfg_invalid");
        fresh(&inst);
        CHECK(!kvidxOpenWithConfig(&inst, path, &bad[j], &err), "OpenWithConfig accepted %s", what[j]);
        CHECK(err != NULL && err[0] != '\0', "no message for %s", what[j]);
        CHECK(inst.kvidxdata == NULL, "instance open after %s", what[j]);
        CHECK(!path_exists(path), "%s: file/directory created", what[j]);
        CHECK(kvidxGetLastError(&inst) == KVIDX_ERROR_INVALID_ARGUMENT, "%s: lastError %d", what[j],
              (int)kvidxGetLastError(&inst));
        /* the struct is still usable for a good open */
        err = NULL;
        CHECK(kvidxOpen(&inst, path, &err), "plain open after %s: %s", what[j], err ? err : "");
        kvidxClose(&inst);
    }

    make_path(path, sizeof path, "cfg_invalid_update");
    if (open_cfg(&inst, path, NULL)) {
        get_cfg(&inst, &before);
        CK(kvidxInsert(&inst, 1, 1, 1, "a", 1));
        for (int j = 0; j < 7; j++) {
            kvidxConfig x = bad[j];
            x.cacheSizeBytes = 77 * MIB; /* would otherwise be a visible change */
            x.busyTimeoutMs = 777;
            kvidxClearError(&inst);
            CHECK(kvidxUpdateConfig(&inst, &x) == KVIDX_ERROR_INVALID_ARGUMENT, "UpdateConfig %s",
                  what[j]);
            CHECK(kvidxGetLastError(&inst) == KVIDX_ERROR_INVALID_ARGUMENT, "%s: lastError", what[j]);
            get_cfg(&inst, &c);
            CHECK(config_equal(&c, &before), "config changed by a rejected %s", what[j]);
        }
        CK(kvidxInsert(&inst, 2, 2, 2, "b", 1)); /* still works */
        CK(kvidxExists(&inst, 1) && kvidxExists(&inst, 2));
        CK(kvidxClose(&inst));
    }
}

static void test_generic_readonly(void) {
    kvidxInstance inst;
    kvidxConfig c;
    char path[4096], missing[4096];
    const char *err = NULL;
    uint64_t term = 0, cmd = 0, n = 0;
    const uint8_t *data = NULL;
    size_t len = 0;

    make_path(path, sizeof path, "cfg_ro");
    if (!open_plain(&inst, path)) return;
    CK(kvidxInsert(&inst, 1, 10, 100, "one", 3));
    CK(kvidxInsert(&inst, 2, 20, 200, "two", 3));
    CK(kvidxClose(&inst));

    /* readOnly at open */
    c = kvidxConfigDefault();
    c.readOnly = true;
    if (open_cfg(&inst, path, &c)) {
        kvidxConfig g;
        get_cfg(&inst, &g);
        CK(g.readOnly == true);
        CK(kvidxGet(&inst, 1, &term, &cmd, &data, &len));
        CHECK_EQ_U64(term, 10);
        CHECK_EQ_U64(cmd, 100);
        CK(len == 3 && data != NULL && memcmp(data, "one", 3) == 0);
        CK(kvidxExists(&inst, 2));
        kvidxClearError(&inst);
        CK(!kvidxInsert(&inst, 3, 30, 300, "three", 5));
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_READONLY);
        kvidxClearError(&inst);
        CK(!kvidxRemove(&inst, 1));
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_READONLY);
        kvidxClearError(&inst);
        CK(!kvidxRemoveAfterNInclusive(&inst, 0));
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_READONLY);
        CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, UINT64_MAX, true, true, NULL), KVIDX_ERROR_READONLY);
        CK(!kvidxExists(&inst, 3));
        CK(kvidxExists(&inst, 1));
        CK(kvidxExistsDual(&inst, 2, 20));
        CHECK_EQ_INT(kvidxGetKeyCount(&inst, &n), KVIDX_OK);
        CHECK_EQ_U64(n, 2);
        CK(kvidxClose(&inst));
    }
    /* nothing changed on disk */
    if (open_plain(&inst, path)) {
        CHECK_EQ_INT(kvidxGetKeyCount(&inst, &n), KVIDX_OK);
        CHECK_EQ_U64(n, 2);
        CK(kvidxGet(&inst, 1, &term, NULL, &data, &len));
        CK(term == 10 && len == 3 && memcmp(data, "one", 3) == 0);
        CK(!kvidxExists(&inst, 3));

        /* readOnly through UpdateConfig, and back */
        get_cfg(&inst, &c);
        c.readOnly = true;
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_OK);
        get_cfg(&inst, &c);
        CK(c.readOnly == true);
        kvidxClearError(&inst);
        CK(!kvidxInsert(&inst, 4, 4, 4, "four", 4));
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_READONLY);
        kvidxClearError(&inst);
        CK(!kvidxRemove(&inst, 2));
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_READONLY);
        CK(kvidxExists(&inst, 2));
        CK(!kvidxExists(&inst, 4));
        CK(kvidxGet(&inst, 2, NULL, NULL, &data, &len));
        CK(len == 3 && memcmp(data, "two", 3) == 0);
        c.readOnly = false;
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_OK);
        get_cfg(&inst, &c);
        CK(c.readOnly == false);
        CK(kvidxInsert(&inst, 4, 4, 4, "four", 4));
        CK(kvidxRemove(&inst, 2));
        CK(kvidxExists(&inst, 4));
        CK(!kvidxExists(&inst, 2));
        CK(kvidxClose(&inst));
    }

    /* readOnly on a missing database: open fails */
    make_path(missing, sizeof missing, "cfg_ro_missing");
    c = kvidxConfigDefault();
    c.readOnly = true;
    fresh(&inst);
    err = NULL;
    CK(!kvidxOpenWithConfig(&inst, missing, &c, &err));
    CK(err != NULL && err[0] != '\0');
    CK(inst.kvidxdata == NULL);
    CK(!path_exists(missing));
}

/* ------------------------------------------------------------------ */
/* SQLite3 */

static void test_sqlite_reports(void) {
    kvidxInstance inst;
    kvidxConfig c;
    char path[4096];

    /* plain kvidxOpen reports the original's effective settings */
    make_path(path, sizeof path, "sq_plain");
    if (open_plain(&inst, path)) {
        get_cfg(&inst, &c);
        CHECK_EQ_INT(c.journalMode, KVIDX_JOURNAL_WAL);
        CHECK_EQ_INT(c.syncMode, KVIDX_SYNC_FULL);
        CHECK_EQ_U64(c.cacheSizeBytes, 32000000);
        CK(c.enableRecursiveTriggers == true);
        CK(c.enableForeignKeys == true);
        CHECK_EQ_INT(c.busyTimeoutMs, 0);
        CHECK_EQ_INT(c.mmapSizeBytes, 0);
        CHECK_EQ_INT(c.pageSize, 8192);
        CK(c.readOnly == false);
        CK(c.vfsName == NULL);
        /* Fsync leaves synchronous FULL */
        CK(kvidxFsync(&inst));
        get_cfg(&inst, &c);
        CHECK_EQ_INT(c.syncMode, KVIDX_SYNC_FULL);

        /* UpdateConfig(128 MiB, FULL) */
        c.cacheSizeBytes = 128 * MIB;
        c.syncMode = KVIDX_SYNC_FULL;
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_OK);
        get_cfg(&inst, &c);
        CHECK_EQ_U64(c.cacheSizeBytes, 128 * MIB);
        CHECK_EQ_INT(c.syncMode, KVIDX_SYNC_FULL);
        /* the default config */
        c = kvidxConfigDefault();
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_OK);
        get_cfg(&inst, &c);
        CHECK_EQ_U64(c.cacheSizeBytes, 33554432);
        CHECK_EQ_INT(c.syncMode, KVIDX_SYNC_NORMAL);
        CHECK_EQ_INT(c.busyTimeoutMs, 5000);
        CK(c.enableForeignKeys == false);
        CHECK_EQ_INT(c.journalMode, KVIDX_JOURNAL_WAL);
        CHECK_EQ_INT(c.pageSize, 8192);
        CK(kvidxInsert(&inst, 1, 1, 1, "x", 1));
        CK(kvidxClose(&inst));
        CHECK_EQ_INT(header_version(path), 2); /* WAL */
    }

    /* OpenWithConfig(NULL) applies kvidxConfigDefault */
    make_path(path, sizeof path, "sq_null");
    if (open_cfg(&inst, path, NULL)) {
        get_cfg(&inst, &c);
        CHECK_EQ_INT(c.journalMode, KVIDX_JOURNAL_WAL);
        CHECK_EQ_INT(c.syncMode, KVIDX_SYNC_NORMAL);
        CHECK_EQ_U64(c.cacheSizeBytes, 33554432);
        CHECK_EQ_INT(c.busyTimeoutMs, 5000);
        CK(c.enableForeignKeys == false);
        CK(c.enableRecursiveTriggers == true);
        CK(c.readOnly == false);
        CHECK_EQ_INT(c.mmapSizeBytes, 0);
        CHECK_EQ_INT(c.pageSize, 8192);
        CK(c.vfsName == NULL);
        CK(kvidxFsync(&inst));
        get_cfg(&inst, &c);
        CHECK_EQ_INT(c.syncMode, KVIDX_SYNC_NORMAL);
        CK(kvidxClose(&inst));
    }

    /* a custom configuration is reported back */
    make_path(path, sizeof path, "sq_custom");
    c = kvidxConfigDefault();
    c.cacheSizeBytes = 64 * MIB;
    c.journalMode = KVIDX_JOURNAL_WAL;
    c.syncMode = KVIDX_SYNC_FULL;
    c.busyTimeoutMs = 10000;
    c.enableForeignKeys = true;
    c.enableRecursiveTriggers = false;
    c.mmapSizeBytes = 4 * (int)MIB;
    if (open_cfg(&inst, path, &c)) {
        kvidxConfig g;
        get_cfg(&inst, &g);
        CHECK_EQ_U64(g.cacheSizeBytes, 64 * MIB);
        CHECK_EQ_INT(g.syncMode, KVIDX_SYNC_FULL);
        CHECK_EQ_INT(g.journalMode, KVIDX_JOURNAL_WAL);
        CHECK_EQ_INT(g.busyTimeoutMs, 10000);
        CK(g.enableForeignKeys == true);
        CK(g.enableRecursiveTriggers == false);
        CHECK_EQ_INT(g.mmapSizeBytes, 4 * (int)MIB);
        CK(kvidxInsert(&inst, 5, 5, 5, "five", 4));
        CK(kvidxExists(&inst, 5));
        CK(kvidxFsync(&inst));
        get_cfg(&inst, &g);
        CHECK_EQ_INT(g.syncMode, KVIDX_SYNC_FULL);
        CK(kvidxClose(&inst));
    }

    /* cache sizes */
    {
        static const size_t sizes[] = {1, 16, 64, 128};
        for (int j = 0; j < 4; j++) {
            make_path(path, sizeof path, "sq_cache");
            c = kvidxConfigDefault();
            c.cacheSizeBytes = sizes[j] * MIB;
            if (open_cfg(&inst, path, &c)) {
                kvidxConfig g;
                bool ok = true;
                for (uint64_t k = 0; k < 100; k++) ok = ok && kvidxInsert(&inst, k, k, k, &k, 8);
                CHECK(ok, "100 inserts with %zu MiB", sizes[j]);
                get_cfg(&inst, &g);
                CHECK_EQ_U64(g.cacheSizeBytes, sizes[j] * MIB);
                CK(kvidxClose(&inst));
            }
        }
    }
}

static void test_sqlite_modes(void) {
    kvidxInstance inst;
    kvidxConfig c, g;
    char path[4096];
    static const kvidxJournalMode jm[] = {KVIDX_JOURNAL_DELETE, KVIDX_JOURNAL_TRUNCATE,
                                          KVIDX_JOURNAL_PERSIST, KVIDX_JOURNAL_MEMORY,
                                          KVIDX_JOURNAL_WAL, KVIDX_JOURNAL_OFF};
    static const kvidxSyncMode sm[] = {KVIDX_SYNC_OFF, KVIDX_SYNC_NORMAL, KVIDX_SYNC_FULL,
                                       KVIDX_SYNC_EXTRA};

    for (int j = 0; j < 6; j++) {
        make_path(path, sizeof path, "sq_journal");
        c = kvidxConfigDefault();
        c.journalMode = jm[j];
        if (!open_cfg(&inst, path, &c)) continue;
        CK(kvidxInsert(&inst, 1, 1, 1, "j", 1));
        CK(kvidxExists(&inst, 1));
        CK(kvidxBegin(&inst));
        CK(kvidxInsert(&inst, 2, 2, 2, "k", 1));
        CK(kvidxCommit(&inst));
        CK(kvidxExists(&inst, 2));
        get_cfg(&inst, &g);
        CHECK(g.journalMode == jm[j], "journal mode %d reported as %d", (int)jm[j], (int)g.journalMode);
        CK(kvidxClose(&inst));
        CHECK(header_version(path) == (jm[j] == KVIDX_JOURNAL_WAL ? 2 : 1),
              "journal mode %d: header version %d", (int)jm[j], header_version(path));
        /* the data survived */
        if (open_plain(&inst, path)) {
            CK(kvidxExists(&inst, 1) && kvidxExists(&inst, 2));
            CK(kvidxClose(&inst));
        }
    }

    for (int j = 0; j < 4; j++) {
        make_path(path, sizeof path, "sq_sync");
        c = kvidxConfigDefault();
        c.syncMode = sm[j];
        if (!open_cfg(&inst, path, &c)) continue;
        CK(kvidxInsert(&inst, 1, 1, 1, "s", 1));
        CK(kvidxExists(&inst, 1));
        get_cfg(&inst, &g);
        CHECK(g.syncMode == sm[j], "sync mode %d reported as %d", (int)sm[j], (int)g.syncMode);
        CK(kvidxFsync(&inst));
        get_cfg(&inst, &g);
        CHECK(g.syncMode == sm[j], "Fsync changed sync mode %d to %d", (int)sm[j], (int)g.syncMode);
        CK(kvidxClose(&inst));
    }

    /* switching journal and sync modes on an open instance */
    make_path(path, sizeof path, "sq_switch");
    if (open_plain(&inst, path)) {
        CK(kvidxInsert(&inst, 1, 1, 1, "a", 1));
        for (int j = 0; j < 6; j++) {
            get_cfg(&inst, &c);
            c.journalMode = jm[j];
            c.syncMode = sm[j % 4];
            CHECK(kvidxUpdateConfig(&inst, &c) == KVIDX_OK, "UpdateConfig journal %d", (int)jm[j]);
            get_cfg(&inst, &g);
            CK(g.journalMode == jm[j]);
            CK(g.syncMode == sm[j % 4]);
            CK(kvidxInsert(&inst, 10 + (uint64_t)j, 0, 0, "b", 1));
        }
        CK(kvidxClose(&inst));
    }
}

static void test_sqlite_page_size(void) {
    kvidxInstance inst;
    kvidxConfig c, g;
    kvidxStats s;
    char path[4096];

    make_path(path, sizeof path, "sq_page4k");
    c = kvidxConfigDefault();
    c.pageSize = 4096;
    if (open_cfg(&inst, path, &c)) {
        CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
        CHECK_EQ_U64(s.pageSize, 4096);
        get_cfg(&inst, &g);
        CHECK_EQ_INT(g.pageSize, 4096);
        CK(kvidxInsert(&inst, 1, 1, 1, "p", 1));
        CK(kvidxClose(&inst));
    }
    /* the page size is a property of the file */
    if (open_plain(&inst, path)) {
        CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
        CHECK_EQ_U64(s.pageSize, 4096);
        get_cfg(&inst, &g);
        CHECK_EQ_INT(g.pageSize, 4096);
        CK(kvidxExists(&inst, 1));
        CK(kvidxClose(&inst));
    }
    make_path(path, sizeof path, "sq_page64k");
    c = kvidxConfigDefault();
    c.pageSize = 65536;
    if (open_cfg(&inst, path, &c)) {
        CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
        CHECK_EQ_U64(s.pageSize, 65536);
        CK(kvidxClose(&inst));
    }
    /* default: 8192 for a new file */
    make_path(path, sizeof path, "sq_page_default");
    if (open_cfg(&inst, path, NULL)) {
        CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
        CHECK_EQ_U64(s.pageSize, 8192);
        CK(kvidxClose(&inst));
    }
}

static void test_sqlite_failed_update(void) {
    kvidxInstance inst;
    kvidxConfig before, c, g;
    char path[4096];
    kvidxError e;

    make_path(path, sizeof path, "sq_failupdate");
    if (!open_plain(&inst, path)) return;
    c = kvidxConfigDefault(); /* WAL, NORMAL, 32 MiB, busy 5000 */
    CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_OK);
    get_cfg(&inst, &before);
    CHECK_EQ_INT(before.journalMode, KVIDX_JOURNAL_WAL);

    CK(kvidxBegin(&inst));
    CK(kvidxInsert(&inst, 1, 1, 1, "t", 1));
    c = before;
    c.journalMode = KVIDX_JOURNAL_DELETE;
    c.cacheSizeBytes = 99 * MIB;
    c.syncMode = KVIDX_SYNC_EXTRA;
    c.busyTimeoutMs = 1234;
    kvidxClearError(&inst);
    e = kvidxUpdateConfig(&inst, &c);
    CHECK(e != KVIDX_OK, "WAL -> DELETE inside a transaction accepted");
    CHECK(kvidxGetLastError(&inst) != KVIDX_OK, "no lastError after a failed UpdateConfig");
    get_cfg(&inst, &g);
    CHECK(config_equal(&g, &before), "failed UpdateConfig changed the reported config");
    CHECK_EQ_INT(g.journalMode, KVIDX_JOURNAL_WAL);
    CHECK_EQ_U64(g.cacheSizeBytes, before.cacheSizeBytes);
    CHECK_EQ_INT(g.syncMode, before.syncMode);
    CHECK_EQ_INT(g.busyTimeoutMs, before.busyTimeoutMs);
    /* the transaction is intact */
    CK(kvidxExists(&inst, 1));
    CK(kvidxCommit(&inst));
    CK(kvidxExists(&inst, 1));
    /* outside the transaction the same change applies */
    CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_OK);
    get_cfg(&inst, &g);
    CHECK_EQ_INT(g.journalMode, KVIDX_JOURNAL_DELETE);
    CHECK_EQ_U64(g.cacheSizeBytes, 99 * MIB);
    CHECK_EQ_INT(g.syncMode, KVIDX_SYNC_EXTRA);
    CHECK_EQ_INT(g.busyTimeoutMs, 1234);
    CK(kvidxClose(&inst));
    CHECK_EQ_INT(header_version(path), 1);
}

static void test_sqlite_vfs(void) {
    kvidxInstance inst;
    kvidxConfig c, g, before;
    char path[4096];
    const char *err = NULL;
    char same[16];

    /* open with an explicit VFS */
    make_path(path, sizeof path, "sq_vfs");
    c = kvidxConfigDefault();
    c.vfsName = "unix";
    if (open_cfg(&inst, path, &c)) {
        get_cfg(&inst, &g);
        CK(g.vfsName != NULL && strcmp(g.vfsName, "unix") == 0);
        CK(kvidxInsert(&inst, 1, 1, 1, "v", 1));
        /* same VFS (another buffer with the same name) is fine */
        strcpy(same, "unix");
        g.vfsName = same;
        g.busyTimeoutMs = 42;
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &g), KVIDX_OK);
        get_cfg(&inst, &g);
        CHECK_EQ_INT(g.busyTimeoutMs, 42);
        CK(g.vfsName != NULL && strcmp(g.vfsName, "unix") == 0);
        /* another VFS: INVALID_ARGUMENT, nothing changes */
        before = g;
        c = g;
        c.vfsName = "unix-dotfile";
        c.busyTimeoutMs = 4321;
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_ERROR_INVALID_ARGUMENT);
        c.vfsName = "UNIX"; /* VFS names are case-sensitive */
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_ERROR_INVALID_ARGUMENT);
        get_cfg(&inst, &g);
        CK(config_equal(&g, &before));
        CK(kvidxExists(&inst, 1));
        CK(kvidxClose(&inst));
    }

    /* opened without a VFS name: naming one is a change */
    make_path(path, sizeof path, "sq_vfs2");
    if (open_plain(&inst, path)) {
        get_cfg(&inst, &before);
        c = before;
        c.vfsName = "unix-none";
        CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_ERROR_INVALID_ARGUMENT);
        get_cfg(&inst, &g);
        CK(config_equal(&g, &before));
        CK(kvidxClose(&inst));
    }

    /* an unknown VFS: the open fails */
    make_path(path, sizeof path, "sq_vfs_unknown");
    c = kvidxConfigDefault();
    c.vfsName = "no-such-vfs";
    fresh(&inst);
    CK(!kvidxOpenWithConfig(&inst, path, &c, &err));
    CK(err != NULL && err[0] != '\0');
    CK(inst.kvidxdata == NULL);
}

/* child: try to open `path`; exit 0 on "failed with LOCKED", 1 on success,
 * 2 on another failure */
static int child_open(const char *path, bool with_config) {
    kvidxInstance inst;
    const char *err = NULL;
    bool ok;
    memset(&inst, 0, sizeof inst);
    inst.interface = kvidxInterfaceSqlite3;
    ok = with_config ? kvidxOpenWithConfig(&inst, path, NULL, &err) : kvidxOpen(&inst, path, &err);
    if (ok) {
        bool ins = kvidxInsert(&inst, 999, 1, 1, "c", 1);
        kvidxClose(&inst);
        return ins ? 1 : 3;
    }
    if (err == NULL || err[0] == '\0') return 4;
    return kvidxGetLastError(&inst) == KVIDX_ERROR_LOCKED ? 0 : 2;
}

/* A child forked BEFORE the parent opens the file (a child forked while the
 * parent holds the file would inherit SQLite's in-process lock records and
 * believe it holds the lock itself). It waits for a byte on a pipe, then
 * tries to open. */
typedef struct {
    pid_t pid;
    int fd;
} waiting_child;

static waiting_child spawn_waiting(const char *path, bool with_config) {
    waiting_child w;
    int p[2];
    w.pid = -1;
    w.fd = -1;
    if (pipe(p) != 0) return w;
    fflush(NULL);
    w.pid = fork();
    if (w.pid == 0) {
        char b;
        close(p[1]);
        if (read(p[0], &b, 1) != 1) _exit(5);
        _exit(child_open(path, with_config));
    }
    close(p[0]);
    w.fd = p[1];
    return w;
}

static int release_child(waiting_child w) {
    int status = 0;
    if (w.pid < 0) return -1;
    if (write(w.fd, "g", 1) != 1) return -1;
    close(w.fd);
    if (waitpid(w.pid, &status, 0) != w.pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

static void test_sqlite_process_lock(void) {
    kvidxInstance inst;
    char path[4096];
    waiting_child a, b, c;
    int r;

    make_path(path, sizeof path, "sq_lock");
    a = spawn_waiting(path, false);
    b = spawn_waiting(path, true);
    CK(a.pid > 0 && b.pid > 0);
    if (!open_plain(&inst, path)) {
        release_child(a);
        release_child(b);
        return;
    }
    CK(kvidxInsert(&inst, 1, 1, 1, "p", 1));
    r = release_child(a);
    CHECK(r == 0, "second process with kvidxOpen: child result %d (0 = LOCKED)", r);
    r = release_child(b);
    CHECK(r == 0, "second process with kvidxOpenWithConfig: child result %d (0 = LOCKED)", r);
    /* the holder is unaffected */
    CK(kvidxInsert(&inst, 2, 2, 2, "q", 1));
    CK(kvidxExists(&inst, 1) && kvidxExists(&inst, 2));
    CK(!kvidxExists(&inst, 999));
    CK(kvidxClose(&inst));
    /* once closed, another process can open it */
    c = spawn_waiting(path, false);
    r = release_child(c);
    CHECK(r == 1, "after close: child result %d (1 = opened and wrote)", r);
    if (open_plain(&inst, path)) {
        CK(kvidxExists(&inst, 999));
        CK(kvidxClose(&inst));
    }
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    test_defaults_and_null();
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        ad = kvidxGetAdapterByIndex(a);
        CK(ad != NULL);
        if (ad == NULL) continue;
        check_set_context(ad->name);
        test_generic_open_and_update();
        test_generic_invalid();
        test_generic_readonly();
        if (is_sqlite()) {
            test_sqlite_reports();
            test_sqlite_modes();
            test_sqlite_page_size();
            test_sqlite_failed_update();
            test_sqlite_vfs();
            test_sqlite_process_lock();
        }
    }
    return check_report();
}
