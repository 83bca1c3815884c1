/* A first look at kvidxkit: open a database, write, read, iterate. */
#include <stdio.h>
#include <string.h>

#include "kvidxkit.h"

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "demo.sqlite3";
    kvidxInstance db = {0};
    db.interface = kvidxInterfaceSqlite3;
    const char *err = NULL;

    remove(path);
    if (!kvidxOpen(&db, path, &err)) {
        fprintf(stderr, "open %s failed: %s\n", path, err);
        return 1;
    }
    printf("opened %s\n", path);

    /* Write five entries in one transaction. */
    kvidxBegin(&db);
    for (uint64_t k = 1; k <= 5; k++) {
        char value[32];
        int n = snprintf(value, sizeof(value), "entry number %" PRIu64, k);
        kvidxInsert(&db, k * 10, /*term*/ k, /*cmd*/ 100 + k, value, (size_t)n);
    }
    kvidxCommit(&db);
    printf("inserted keys 10, 20, 30, 40, 50\n");

    /* A duplicate insert is refused. */
    if (!kvidxInsert(&db, 30, 9, 9, "x", 1)) {
        printf("insert of existing key 30 refused: %s\n", kvidxGetLastErrorMessage(&db));
        kvidxClearError(&db);
    }

    /* Point read. */
    uint64_t term = 0, cmd = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    if (kvidxGet(&db, 30, &term, &cmd, &data, &len)) {
        printf("get 30: term %" PRIu64 ", cmd %" PRIu64 ", value \"%.*s\"\n", term, cmd, (int)len,
               (const char *)data);
    }

    /* Neighbours. */
    uint64_t key = 0;
    if (kvidxGetNext(&db, 30, &key, NULL, NULL, NULL, NULL)) {
        printf("next after 30: %" PRIu64 "\n", key);
    }
    if (kvidxGetPrev(&db, 30, &key, NULL, NULL, NULL, NULL)) {
        printf("previous before 30: %" PRIu64 "\n", key);
    }

    /* Iterate backward over [15, 45]. */
    kvidxIterator *it = kvidxIteratorCreate(&db, 15, 45, KVIDX_ITER_BACKWARD);
    printf("backward over [15, 45]:");
    while (kvidxIteratorNext(it)) {
        printf(" %" PRIu64, kvidxIteratorKey(it));
    }
    printf("\n");
    kvidxIteratorDestroy(it);

    uint64_t count = 0;
    kvidxGetKeyCount(&db, &count);
    kvidxStats stats;
    kvidxGetStats(&db, &stats);
    printf("%" PRIu64 " keys, %" PRIu64 " value bytes, file %" PRIu64 " bytes, page size %" PRIu64 "\n", count,
           stats.totalDataBytes, stats.databaseFileSize, stats.pageSize);

    kvidxClose(&db);
    printf("closed\n");
    return 0;
}
