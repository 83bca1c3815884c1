/* consumer.c: a program that uses an installed kvidxkit, built by
 * tests/packaging.sh with pkg-config, find_package(kvidxkit) and
 * add_subdirectory(kvidxkit). It touches every kind of symbol the library
 * exports: the generic API on every registered engine, a per-engine
 * function of each engine, the C shim kvidxSetError and the interface
 * tables. Prints "N passed, M failed" last; exit status 0 when all pass. */
#include <stdio.h>
#include <string.h>

#include "kvidxkit.h"
#include "kvidxkitAdapterLmdb.h"
#include "kvidxkitAdapterSqlite3.h"
#include "kvidxkitRegistry.h"
#ifdef KVIDXKIT_HAS_ROCKSDB /* a RocksDB build: its pkg-config and CMake files define it */
#include "kvidxkitAdapterRocksdb.h"
#endif

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s\n", what);
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    size_t n = kvidxGetAdapterCount(), a;
    check(n >= 2, "two engines registered");
#ifdef KVIDXKIT_HAS_ROCKSDB
    check(n == 3 && kvidxHasAdapter("RocksDB"), "RocksDB registered in a RocksDB build");
    check(kvidxGetAdapterByName("RocksDB") != NULL &&
              kvidxGetAdapterByName("RocksDB")->iface == &kvidxInterfaceRocksdb,
          "kvidxInterfaceRocksdb is the registry's table");
#else
    check(!kvidxHasAdapter("RocksDB"), "no RocksDB without KVIDXKIT_HAS_ROCKSDB");
#endif
    for (a = 0; a < n; a++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(a);
        kvidxInstance db;
        char path[4096];
        const char *err = NULL;
        const uint8_t *data = NULL;
        size_t len = 0;
        uint64_t count = 0;
        memset(&db, 0, sizeof db);
        db.interface = *ad->iface;
        snprintf(path, sizeof path, "%s/consumer-%s%s", dir, ad->name, ad->pathSuffix);
        check(kvidxOpen(&db, path, &err), "open");
        check(kvidxInsert(&db, 7, 1, 2, "seven", 5), "insert");
        check(kvidxGet(&db, 7, NULL, NULL, &data, &len) && len == 5 && memcmp(data, "seven", 5) == 0, "get");
        if (strcmp(ad->name, "SQLite3") == 0) {
            check(kvidxSqlite3GetKeyCount(&db, &count) == KVIDX_OK && count == 1, "kvidxSqlite3GetKeyCount");
#ifdef KVIDXKIT_HAS_ROCKSDB
        } else if (strcmp(ad->name, "RocksDB") == 0) {
            check(kvidxRocksdbGetKeyCount(&db, &count) == KVIDX_OK && count == 1, "kvidxRocksdbGetKeyCount");
#endif
        } else {
            check(kvidxLmdbGetKeyCount(&db, &count) == KVIDX_OK && count == 1, "kvidxLmdbGetKeyCount");
        }
        kvidxSetError(&db, KVIDX_ERROR_IO, "custom %d", 42);
        check(kvidxGetLastError(&db) == KVIDX_ERROR_IO, "kvidxSetError code");
        check(strcmp(kvidxGetLastErrorMessage(&db), "custom 42") == 0, "kvidxSetError message");
        check(kvidxClose(&db), "close");
    }
    printf("%zu engines\n", n);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
