/* damaged.c: a damaged LMDB environment through the C API (issue 10,
 * defect 5). The original, with pages of data.mdb overwritten by garbage,
 * had an iterator return key 0 for ever with lastError "Success",
 * kvidxGetNext(0) return key 0, and kvidxExport write 30 000 entries of key 0
 * and report success. Here every one of those ends, and ends with
 * KVIDX_ERROR_CORRUPT (or returns correct data). Usage: damaged DIR */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitExport.h"
#include "kvidxkitIterator.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK(cond) CHECK(cond, "")
#define N 30000

static bool clear_error(kvidxError e) {
    return e == KVIDX_ERROR_CORRUPT || e == KVIDX_ERROR_IO;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    char path[4096], file[4200], out[4200];
    kvidxInstance db;
    const char *err = NULL;
    check_set_context("lmdb");
    snprintf(path, sizeof path, "%s/env", dir);
    snprintf(file, sizeof file, "%s/env/data.mdb", dir);
    snprintf(out, sizeof out, "%s/export.bin", dir);

    memset(&db, 0, sizeof db);
    db.interface = kvidxInterfaceLmdb;
    CK(kvidxOpen(&db, path, &err));
    CK(kvidxBegin(&db));
    for (uint64_t k = 1; k <= N; k++) {
        char v[24];
        int n = snprintf(v, sizeof v, "value-%llu", (unsigned long long)k);
        if (!kvidxInsert(&db, k, k, k, v, (size_t)n)) {
            CK(false);
            break;
        }
    }
    CK(kvidxCommit(&db));
    CK(kvidxClose(&db));

    /* Garbage over the middle third of the file (its leaf pages). */
    {
        struct stat st;
        int fd = open(file, O_WRONLY);
        unsigned char junk[4096];
        uint64_t x = 0x9E3779B97F4A7C15ull;
        off_t from, to, off;
        CK(fd >= 0 && fstat(fd, &st) == 0);
        from = st.st_size / 3 / 4096 * 4096;
        to = 2 * st.st_size / 3 / 4096 * 4096;
        for (off = from; off < to; off += 4096) {
            for (size_t i = 0; i < sizeof junk; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                junk[i] = (unsigned char)x;
            }
            CK(pwrite(fd, junk, sizeof junk, off) == (ssize_t)sizeof junk);
        }
        close(fd);
    }

    memset(&db, 0, sizeof db);
    db.interface = kvidxInterfaceLmdb;
    if (!kvidxOpen(&db, path, &err)) {
        /* Refusing the damaged environment is a clear answer too. */
        CHECK(clear_error(kvidxGetLastError(&db)), "open failed with %d: %s", (int)kvidxGetLastError(&db), err);
        return check_report();
    }

    /* The iterator ends, with CORRUPT, keys strictly increasing. */
    {
        kvidxIterator *it = kvidxIteratorCreate(&db, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
        uint64_t steps = 0, last = 0, key = 0;
        bool ordered = true;
        CK(it != NULL);
        while (steps <= N + 10 && kvidxIteratorNext(it)) {
            CK(kvidxIteratorGet(it, &key, NULL, NULL, NULL, NULL));
            if (steps > 0 && key <= last) ordered = false;
            last = key;
            steps++;
        }
        CHECK(steps <= N, "the iterator did not end (%llu steps)", (unsigned long long)steps);
        CHECK(ordered, "iterator keys out of order or repeated");
        CHECK(kvidxGetLastError(&db) == KVIDX_ERROR_CORRUPT, "iterator ended with lastError %d (%s) after %llu entries",
              (int)kvidxGetLastError(&db), kvidxGetLastErrorMessage(&db), (unsigned long long)steps);
        kvidxIteratorDestroy(it);
    }

    /* GetNext walks forward or fails with CORRUPT; it never returns a key
     * at or below the one asked about. */
    {
        uint64_t k = 0, next = 0, steps = 0;
        bool back = false;
        kvidxClearError(&db);
        while (steps <= N + 10 && kvidxGetNext(&db, k, &next, NULL, NULL, NULL, NULL)) {
            if (next <= k) back = true;
            k = next;
            steps++;
            if (back) break;
        }
        CHECK(!back, "GetNext(%llu) returned %llu", (unsigned long long)k, (unsigned long long)next);
        CHECK(steps <= N, "the GetNext walk did not end");
        CHECK(kvidxGetLastError(&db) == KVIDX_ERROR_CORRUPT, "GetNext walk ended with lastError %d",
              (int)kvidxGetLastError(&db));
    }

    /* Export fails with CORRUPT (and leaves no file). */
    {
        kvidxExportOptions opts = kvidxExportOptionsDefault();
        kvidxClearError(&db);
        CHECK(kvidxExport(&db, out, &opts, NULL, NULL) != KVIDX_OK, "export of a damaged environment succeeded");
        CHECK(kvidxGetLastError(&db) == KVIDX_ERROR_CORRUPT, "export: lastError %d", (int)kvidxGetLastError(&db));
        CHECK(access(out, F_OK) != 0, "the partial export file is removed");
    }
    CK(kvidxClose(&db));
    return check_report();
}
