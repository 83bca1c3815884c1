/* registry.c: the engine registry (kvidxkitRegistry.h, core.md §3.3.25,
 * decision I1). Every registered engine is also opened once through the
 * interface table the registry hands out. */
#include "check.h"
/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")
#include "kvidxkit.h"
#include "kvidxkitRegistry.h"

#include <stdbool.h>
#include <stdint.h>

static int ascii_casecmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z') ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z') cb += 'a' - 'A';
        if (ca != cb) return ca - cb;
        if (ca == 0) return 0;
    }
}

int main(int argc, char **argv) {
    const char *scratch = argc > 1 ? argv[1] : ".";
    size_t count = kvidxGetAdapterCount();
    char path[4096];

    check_set_context("registry");
    CHECK(count >= 1, "count %zu", count);
    CHECK_EQ_U64(kvidxGetAdapterCount(), count); /* stable */
    CK(sizeof(kvidxAdapterInfo) == 32);

    /* SQLite3 at index 0 */
    {
        const kvidxAdapterInfo *s = kvidxGetAdapterByIndex(0);
        CK(s != NULL);
        if (s != NULL) {
            CHECK_STR(s->name, "SQLite3");
            CHECK_STR(s->pathSuffix, ".sqlite3");
            CK(s->isDirectory == false);
            CK(s->iface != NULL);
            if (s->iface != NULL) {
                CK(memcmp(s->iface, &kvidxInterfaceSqlite3, sizeof(kvidxInterface)) == 0);
            }
        }
        CK(kvidxGetAdapterByName("SQLite3") == s);
        CK(kvidxGetAdapterByName("sqlite3") == s);
        CK(kvidxGetAdapterByName("SQLITE3") == s);
        CK(kvidxGetAdapterByName("sQlItE3") == s);
        CK(kvidxHasAdapter("SQLite3"));
        CK(kvidxHasAdapter("sqlite3"));
        CK(kvidxHasAdapter("SQLITE3"));
    }

#ifdef KVIDXKIT_HAS_LMDB
    /* LMDB (decision I1), when built in */
    {
        const kvidxAdapterInfo *l = kvidxGetAdapterByName("LMDB");
        CK(l != NULL);
        CK(kvidxGetAdapterByName("lmdb") == l);
        CK(kvidxGetAdapterByName("Lmdb") == l);
        CK(kvidxHasAdapter("lmdb"));
        CK(l == NULL || l != kvidxGetAdapterByIndex(0));
    }
#endif

#ifdef KVIDXKIT_HAS_ROCKSDB
    /* RocksDB (decision I1 extended), in a RocksDB build: after LMDB */
    {
        const kvidxAdapterInfo *r = kvidxGetAdapterByName("RocksDB");
        CK(r != NULL);
        CK(kvidxGetAdapterByName("rocksdb") == r);
        CK(kvidxGetAdapterByName("ROCKSDB") == r);
        CK(kvidxHasAdapter("rocksdb"));
        CK(r == kvidxGetAdapterByIndex(2));
        CHECK_EQ_U64(count, 3);
    }
#else
    CK(kvidxGetAdapterByName("RocksDB") == NULL);
    CK(!kvidxHasAdapter("rocksdb"));
#endif

    /* misses */
    CK(kvidxGetAdapterByIndex(count) == NULL);
    CK(kvidxGetAdapterByIndex(count + 1) == NULL);
    CK(kvidxGetAdapterByIndex((size_t)-1) == NULL);
    CK(kvidxGetAdapterByName(NULL) == NULL);
    CK(kvidxGetAdapterByName("") == NULL);
    CK(kvidxGetAdapterByName("sqlite") == NULL);
    CK(kvidxGetAdapterByName("SQLite") == NULL);
    CK(kvidxGetAdapterByName("SQLite3 ") == NULL);
    CK(kvidxGetAdapterByName(" SQLite3") == NULL);
    CK(kvidxGetAdapterByName("SQLite33") == NULL);
    CK(kvidxGetAdapterByName("RocksDBX") == NULL);
    CK(kvidxGetAdapterByName("nosuchengine") == NULL);
    CK(!kvidxHasAdapter(NULL));
    CK(!kvidxHasAdapter(""));
    CK(!kvidxHasAdapter("sqlite"));
    CK(!kvidxHasAdapter("nosuchengine"));

    /* every entry: well formed, unique, found by name, stable, usable */
    for (size_t a = 0; a < count; a++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(a);
        CHECK(ad != NULL, "index %zu", a);
        if (ad == NULL) continue;
        check_set_context(ad->name != NULL ? ad->name : "(null name)");
        CK(ad->name != NULL && ad->name[0] != '\0');
        CK(ad->pathSuffix != NULL);
        CK(ad->iface != NULL);
        if (ad->name == NULL || ad->pathSuffix == NULL || ad->iface == NULL) continue;

        /* pointers stable across calls */
        CK(kvidxGetAdapterByIndex(a) == ad);
        CK(kvidxGetAdapterByName(ad->name) == ad);
        CK(kvidxHasAdapter(ad->name));

        /* case-insensitive lookups */
        {
            char upper[64], lower[64];
            size_t n = strlen(ad->name);
            CK(n < sizeof upper);
            if (n < sizeof upper) {
                for (size_t k = 0; k <= n; k++) {
                    char c = ad->name[k];
                    upper[k] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
                    lower[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
                }
                CHECK(kvidxGetAdapterByName(upper) == ad, "%s", upper);
                CHECK(kvidxGetAdapterByName(lower) == ad, "%s", lower);
                CK(kvidxHasAdapter(upper));
                CK(kvidxHasAdapter(lower));
                /* a strict prefix does not match */
                if (n > 1) {
                    lower[n - 1] = '\0';
                    CHECK(kvidxGetAdapterByName(lower) == NULL, "%s", lower);
                }
            }
        }

        /* names unique (case-insensitively) */
        for (size_t b = 0; b < count; b++) {
            const kvidxAdapterInfo *o = kvidxGetAdapterByIndex(b);
            if (b == a || o == NULL || o->name == NULL) continue;
            CHECK(ascii_casecmp(o->name, ad->name) != 0, "%s vs %s", o->name, ad->name);
            CK(o != ad);
        }

        /* the engines' conventions (decision I1) */
        if (strcmp(ad->name, "SQLite3") == 0) {
            CK(a == 0);
            CHECK_STR(ad->pathSuffix, ".sqlite3");
            CK(!ad->isDirectory);
        } else if (strcmp(ad->name, "LMDB") == 0) {
            CHECK_STR(ad->pathSuffix, "");
            CK(ad->isDirectory);
#ifdef KVIDXKIT_HAS_LMDB
            CK(memcmp(ad->iface, &kvidxInterfaceLmdb, sizeof(kvidxInterface)) == 0);
#endif
        } else if (strcmp(ad->name, "RocksDB") == 0) {
            CHECK_STR(ad->pathSuffix, "");
            CK(ad->isDirectory);
#ifdef KVIDXKIT_HAS_ROCKSDB
            CK(memcmp(ad->iface, &kvidxInterfaceRocksdb, sizeof(kvidxInterface)) == 0);
#else
            CHECK(0, "RocksDB registered but KVIDXKIT_HAS_ROCKSDB not defined");
#endif
        }

        /* the table actually works */
        {
            kvidxInstance inst;
            const char *err = NULL;
            uint64_t term = 0, cmd = 0, mk = 0;
            const uint8_t *data = NULL;
            size_t len = 0;
            memset(&inst, 0, sizeof inst);
            inst.interface = *ad->iface;
            snprintf(path, sizeof path, "%s/registry_%zu%s", scratch, a, ad->pathSuffix);
            CHECK(kvidxOpen(&inst, path, &err), "open %s: %s", path, err ? err : "");
            CK(kvidxInsert(&inst, 7, 8, 9, "reg", 3));
            CK(kvidxGet(&inst, 7, &term, &cmd, &data, &len));
            CHECK_EQ_U64(term, 8);
            CHECK_EQ_U64(cmd, 9);
            CHECK_EQ_U64(len, 3);
            CK(data != NULL && memcmp(data, "reg", 3) == 0);
            CK(kvidxMaxKey(&inst, &mk));
            CHECK_EQ_U64(mk, 7);
            CK(kvidxClose(&inst));
            /* the path has the advertised kind */
            {
                FILE *f = fopen(path, "rb");
                if (ad->isDirectory) {
                    /* fopen of a directory for reading succeeds on Linux, reading fails */
                    CK(f != NULL);
                    if (f != NULL) {
                        char c;
                        CK(fread(&c, 1, 1, f) == 0);
                    }
                } else {
                    CK(f != NULL);
                    if (f != NULL) {
                        char hdr[16];
                        CK(fread(hdr, 1, 16, f) == 16);
                        CK(memcmp(hdr, "SQLite format 3", 16) == 0);
                    }
                }
                if (f != NULL) fclose(f);
            }
        }
    }

    /* ByIndex returns pointers consistent with repeated calls in any order */
    check_set_context("registry");
    for (size_t a = count; a > 0; a--) {
        const kvidxAdapterInfo *x = kvidxGetAdapterByIndex(a - 1);
        const kvidxAdapterInfo *y = kvidxGetAdapterByIndex(a - 1);
        CK(x != NULL && x == y);
    }

    return check_report();
}
