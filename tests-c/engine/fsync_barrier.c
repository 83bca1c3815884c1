/* fsync_barrier.c: kvidxFsync is a real durability barrier (decision D4).
 * Run with the LD_PRELOAD shim (tests/support/shim.c) logging every sync
 * system call to $KVIDX_SHIM_LOG; this program writes "mark" lines into
 * the same log so the test can tell which syncs kvidxFsync made. On each
 * engine, opened with syncMode OFF (commits do not sync): commit, then
 * kvidxFsync; the test checks the log. Usage: fsync_barrier DIR */
#include "check.h"
#include "kvidxkit.h"

#include <stdbool.h>
#include <stdint.h>

#define CK(cond) CHECK(cond, "")

static void mark(const char *what) {
    const char *log = getenv("KVIDX_SHIM_LOG");
    FILE *f = log ? fopen(log, "a") : NULL;
    if (f != NULL) {
        fprintf(f, "mark %s\n", what);
        fclose(f);
    }
}

static void run(const char *dir, const char *name, const kvidxInterface *iface, const char *file) {
    kvidxInstance db;
    kvidxConfig cfg = kvidxConfigDefault();
    char path[4096], m[128];
    const char *err = NULL;
    check_set_context(name);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    memset(&db, 0, sizeof db);
    db.interface = *iface;
    cfg.syncMode = KVIDX_SYNC_OFF;
    CK(kvidxOpenWithConfig(&db, path, &cfg, &err));
    CK(kvidxBegin(&db));
    for (uint64_t k = 1; k <= 50; k++) CK(kvidxInsert(&db, k, 1, 1, "value", 5));
    snprintf(m, sizeof m, "%s commit", name);
    mark(m);
    CK(kvidxCommit(&db));
    CK(kvidxInsert(&db, 100, 1, 1, "autocommit", 10));
    snprintf(m, sizeof m, "%s fsync", name);
    mark(m);
    CK(kvidxFsync(&db));
    snprintf(m, sizeof m, "%s done", name);
    mark(m);
    CK(kvidxClose(&db));
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    run(dir, "sqlite", &kvidxInterfaceSqlite3, "db.sqlite3");
    run(dir, "lmdb", &kvidxInterfaceLmdb, "env");
#ifdef KVIDXKIT_HAS_ROCKSDB
    run(dir, "rocksdb", &kvidxInterfaceRocksdb, "rocks");
#endif
    if (check_passed_count < 100) {
        fprintf(stderr, "too few checks ran (%lu)\n", check_passed_count);
        return 1;
    }
    return check_report();
}
