/* comprehensive.c: the original's comprehensive test (core.md §5.2) on every
 * engine: boundary keys and values, data integrity (256 byte values, 1 MiB),
 * transactions, navigation, range deletion, ExistsDual, persistence across
 * close/reopen, error paths and a 10 000-insert stress run. */
#include "check.h"

#include "kvidxkit.h"
#include "kvidxkitRegistry.h"

#define T(cond) CHECK(cond, "")
#define H63 (UINT64_C(1) << 63)
#define KMAX UINT64_MAX
#define MIB (1024 * 1024)

static const char *scratch;

static void db_path(char *buf, size_t n, const kvidxAdapterInfo *ad, const char *name) {
    snprintf(buf, n, "%s/%s%s", scratch, name, ad->pathSuffix);
}

static bool open_db(kvidxInstance *inst, const kvidxAdapterInfo *ad, const char *name) {
    char path[4096];
    const char *err = NULL;
    bool ok;
    memset(inst, 0, sizeof(*inst));
    inst->interface = *ad->iface;
    db_path(path, sizeof(path), ad, name);
    ok = kvidxOpen(inst, path, &err);
    CHECK(ok, "open %s: %s", path, err ? err : "(null)");
    return ok;
}

static uint64_t key_count(kvidxInstance *inst) {
    uint64_t n = UINT64_MAX;
    CHECK_EQ_INT(kvidxGetKeyCount(inst, &n), KVIDX_OK);
    return n;
}

static void test_boundaries(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    static const uint64_t keys[] = {0, 1, H63 - 1, H63, KMAX - 1, KMAX};
    uint64_t term, cmd;
    const uint8_t *data;
    const uint8_t sentinel[1] = {0};
    size_t len, n;

    if (!open_db(&inst, ad, "boundary")) {
        return;
    }
    /* Boundary keys: point operations are exact. */
    for (n = 0; n < sizeof(keys) / sizeof(keys[0]); n++) {
        CHECK(kvidxInsert(&inst, keys[n], keys[n], ~keys[n], &keys[n], sizeof(keys[n])),
              "insert %" PRIu64, keys[n]);
    }
    for (n = 0; n < sizeof(keys) / sizeof(keys[0]); n++) {
        CHECK(kvidxExists(&inst, keys[n]), "exists %" PRIu64, keys[n]);
        term = cmd = 1234;
        data = NULL;
        len = 0;
        CHECK(kvidxGet(&inst, keys[n], &term, &cmd, &data, &len), "get %" PRIu64, keys[n]);
        CHECK(term == keys[n] && cmd == ~keys[n] && len == sizeof(uint64_t) && data != NULL &&
                  memcmp(data, &keys[n], sizeof(uint64_t)) == 0,
              "round trip of key %" PRIu64, keys[n]);
    }
    T(!kvidxExists(&inst, 2));
    T(!kvidxExists(&inst, H63 + 1));
    T(!kvidxExists(&inst, KMAX - 2));

    /* term 0 / term MAX via ExistsDual; cmd 0 / cmd MAX via Get with term NULL. */
    T(kvidxInsert(&inst, 100, 0, 0, "t0", 2));
    T(kvidxInsert(&inst, 101, KMAX, KMAX, "tM", 2));
    T(kvidxInsert(&inst, 102, H63, H63, "tH", 2));
    T(kvidxExistsDual(&inst, 100, 0));
    T(!kvidxExistsDual(&inst, 100, 1));
    T(kvidxExistsDual(&inst, 101, KMAX));
    T(!kvidxExistsDual(&inst, 101, KMAX - 1));
    T(kvidxExistsDual(&inst, 102, H63));
    T(!kvidxExistsDual(&inst, 102, 0));
    cmd = 5;
    T(kvidxGet(&inst, 100, NULL, &cmd, NULL, NULL));
    CHECK_EQ_U64(cmd, 0);
    cmd = 5;
    T(kvidxGet(&inst, 101, NULL, &cmd, NULL, NULL));
    CHECK_EQ_U64(cmd, KMAX);
    cmd = 5;
    T(kvidxGet(&inst, 102, NULL, &cmd, NULL, NULL));
    CHECK_EQ_U64(cmd, H63);

    /* Empty values: Insert("", 0) and Insert(NULL, 0) store an empty value. */
    T(kvidxInsert(&inst, 200, 7, 8, "", 0));
    T(kvidxInsert(&inst, 201, 9, 10, NULL, 0));
    data = sentinel;
    len = 99;
    term = cmd = 0;
    T(kvidxGet(&inst, 200, &term, &cmd, &data, &len));
    CHECK(term == 7 && cmd == 8 && data == NULL && len == 0, "empty \"\" value");
    data = sentinel;
    len = 99;
    T(kvidxGet(&inst, 201, &term, &cmd, &data, &len));
    CHECK(term == 9 && cmd == 10 && data == NULL && len == 0, "empty NULL value");
    T(kvidxExists(&inst, 200) && kvidxExists(&inst, 201));
    T(kvidxClose(&inst));
}

static uint8_t mib_buf[MIB];

static void test_integrity(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint8_t all[256];
    uint64_t term, cmd;
    const uint8_t *data;
    size_t len, n;
    char s[64];
    unsigned bad = 0;

    if (!open_db(&inst, ad, "integrity")) {
        return;
    }
    /* Every byte value round-trips. */
    for (n = 0; n < 256; n++) {
        all[n] = (uint8_t)n;
    }
    T(kvidxInsert(&inst, 1, 1, 1, all, sizeof(all)));
    data = NULL;
    len = 0;
    T(kvidxGet(&inst, 1, NULL, NULL, &data, &len));
    CHECK(len == 256 && data != NULL && memcmp(data, all, 256) == 0, "256 byte values");

    /* 1 MiB value. */
    for (n = 0; n < MIB; n++) {
        mib_buf[n] = (uint8_t)((n * 2654435761u) >> 13);
    }
    T(kvidxInsert(&inst, 2, 2, 2, mib_buf, MIB));
    data = NULL;
    len = 0;
    T(kvidxGet(&inst, 2, NULL, NULL, &data, &len));
    CHECK(len == MIB && data != NULL && memcmp(data, mib_buf, MIB) == 0, "1 MiB value, len %zu", len);
    {
        uint64_t bytes = 0;
        CHECK_EQ_INT(kvidxGetDataSize(&inst, &bytes), KVIDX_OK);
        CHECK_EQ_U64(bytes, 256 + MIB);
    }

    /* 10 strings with term = cmd = index. */
    for (n = 0; n < 10; n++) {
        snprintf(s, sizeof(s), "string number %zu with some text", n);
        CHECK(kvidxInsert(&inst, 1000 + n, n, n, s, strlen(s)), "insert string %zu", n);
    }
    for (n = 0; n < 10; n++) {
        snprintf(s, sizeof(s), "string number %zu with some text", n);
        term = cmd = 99;
        data = NULL;
        len = 0;
        if (!kvidxGet(&inst, 1000 + n, &term, &cmd, &data, &len) || term != n || cmd != n ||
            len != strlen(s) || data == NULL || memcmp(data, s, len) != 0) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u strings did not round-trip", bad);
    T(kvidxClose(&inst));
}

static void test_transactions(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k;
    unsigned missing = 0;

    if (!open_db(&inst, ad, "txn")) {
        return;
    }
    /* 100 inserts in one transaction. */
    T(kvidxBegin(&inst));
    for (k = 1; k <= 100; k++) {
        if (!kvidxInsert(&inst, k, k, k, "v", 1)) {
            missing++;
        }
    }
    T(kvidxCommit(&inst));
    for (k = 1; k <= 100; k++) {
        if (!kvidxExists(&inst, k)) {
            missing++;
        }
    }
    CHECK(missing == 0, "%u of 100 transactional inserts missing", missing);
    CHECK_EQ_U64(key_count(&inst), 100);

    /* Insert and remove of the same key in one transaction. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 500, 1, 1, "x", 1));
    T(kvidxExists(&inst, 500));
    T(kvidxRemove(&inst, 500));
    T(!kvidxExists(&inst, 500));
    T(kvidxCommit(&inst));
    T(!kvidxExists(&inst, 500));

    /* Autocommit insert is visible at once. */
    T(kvidxInsert(&inst, 600, 1, 1, "y", 1));
    T(kvidxExists(&inst, 600));
    CHECK_EQ_U64(key_count(&inst), 101);
    T(kvidxClose(&inst));
}

static void test_navigation(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k, key, term, cmd, expect;
    const uint8_t *data;
    size_t len;
    unsigned steps;

    if (!open_db(&inst, ad, "nav")) {
        return;
    }
    for (k = 10; k <= 50; k += 10) {
        char v[8];
        snprintf(v, sizeof(v), "v%" PRIu64, k);
        T(kvidxInsert(&inst, k, k + 1, k + 2, v, strlen(v)));
    }
    key = 0;
    T(kvidxGetPrev(&inst, 35, &key, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(key, 30);
    T(kvidxGetNext(&inst, 25, &key, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(key, 30);
    T(kvidxGetPrev(&inst, 30, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 20);
    CHECK(term == 21 && cmd == 22 && len == 3 && data != NULL && memcmp(data, "v20", 3) == 0,
          "GetPrev(30) fields");
    T(kvidxGetNext(&inst, 30, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 40);
    CHECK(term == 41 && cmd == 42 && len == 3 && data != NULL && memcmp(data, "v40", 3) == 0,
          "GetNext(30) fields");
    key = 7;
    T(!kvidxGetPrev(&inst, 5, &key, NULL, NULL, NULL, NULL));
    T(!kvidxGetNext(&inst, 100, &key, NULL, NULL, NULL, NULL));
    T(!kvidxGetPrev(&inst, 0, &key, NULL, NULL, NULL, NULL));
    T(!kvidxGetNext(&inst, KMAX, &key, NULL, NULL, NULL, NULL));
    T(!kvidxGetPrev(&inst, 10, &key, NULL, NULL, NULL, NULL));
    T(!kvidxGetNext(&inst, 50, &key, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(key, 7);

    /* Walk forward from 0 (0 is not stored). */
    k = 0;
    expect = 10;
    steps = 0;
    while (kvidxGetNext(&inst, k, &key, NULL, NULL, NULL, NULL) && steps < 10) {
        CHECK_EQ_U64(key, expect);
        expect += 10;
        k = key;
        steps++;
    }
    CHECK_EQ_U64(steps, 5);
    /* Walk backward from MAX (MAX is not stored: GetPrev(MAX) finds 50). */
    k = KMAX;
    expect = 50;
    steps = 0;
    while (kvidxGetPrev(&inst, k, &key, NULL, NULL, NULL, NULL) && steps < 10) {
        CHECK_EQ_U64(key, expect);
        expect -= 10;
        k = key;
        steps++;
    }
    CHECK_EQ_U64(steps, 5);
    T(kvidxClose(&inst));
}

static void test_range_deletion(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k, key;
    unsigned bad = 0;

    if (!open_db(&inst, ad, "rdel")) {
        return;
    }
    T(kvidxBegin(&inst));
    for (k = 1; k <= 100; k++) {
        kvidxInsert(&inst, k, k, k, NULL, 0);
    }
    T(kvidxCommit(&inst));
    CHECK_EQ_U64(key_count(&inst), 100);
    T(kvidxRemoveAfterNInclusive(&inst, 51));
    for (k = 1; k <= 100; k++) {
        if (kvidxExists(&inst, k) != (k <= 50)) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u keys wrong after RemoveAfterNInclusive(51)", bad);
    key = 0;
    T(kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 50);
    T(kvidxRemoveAfterNInclusive(&inst, 1));
    key = 9;
    T(!kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 9);
    CHECK_EQ_U64(key_count(&inst), 0);

    T(kvidxInsert(&inst, 200, 1, 1, NULL, 0));
    T(kvidxRemoveAfterNInclusive(&inst, 100));
    T(!kvidxExists(&inst, 200));

    T(kvidxInsert(&inst, 10, 1, 1, NULL, 0));
    T(kvidxInsert(&inst, 20, 1, 1, NULL, 0));
    T(kvidxInsert(&inst, 30, 1, 1, NULL, 0));
    T(kvidxRemoveAfterNInclusive(&inst, 100));
    T(kvidxExists(&inst, 10) && kvidxExists(&inst, 20) && kvidxExists(&inst, 30));
    CHECK_EQ_U64(key_count(&inst), 3);
    T(kvidxClose(&inst));
}

static void test_exists_dual(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    if (!open_db(&inst, ad, "dual")) {
        return;
    }
    T(kvidxInsert(&inst, 42, 7, 1, "x", 1));
    T(kvidxInsert(&inst, 43, 8, 1, "y", 1));
    T(kvidxExistsDual(&inst, 42, 7));
    T(kvidxExistsDual(&inst, 43, 8));
    T(!kvidxExistsDual(&inst, 42, 8));
    T(!kvidxExistsDual(&inst, 43, 7));
    T(!kvidxExistsDual(&inst, 44, 7));
    T(!kvidxExistsDual(&inst, 42, 7 + (UINT64_C(1) << 32)));
    T(kvidxClose(&inst));
}

static void test_persistence(const kvidxAdapterInfo *ad) {
    kvidxInstance inst, again;
    char path[4096];
    const char *err = NULL;
    uint64_t j, term, cmd;
    const uint8_t *data;
    size_t len;
    unsigned bad = 0;

    if (!open_db(&inst, ad, "persist")) {
        return;
    }
    for (j = 1; j <= 10; j++) {
        CHECK(kvidxInsert(&inst, j, j * 10, j * 100, "persist", 7), "insert %" PRIu64, j);
    }
    T(kvidxInsert(&inst, KMAX, 1, 2, "top", 3));
    T(kvidxInsert(&inst, 0, 3, 4, "bottom", 6));
    T(kvidxFsync(&inst));
    T(kvidxClose(&inst));

    /* A fresh instance reads everything back. */
    memset(&again, 0, sizeof(again));
    again.interface = *ad->iface;
    db_path(path, sizeof(path), ad, "persist");
    CHECK(kvidxOpen(&again, path, &err), "reopen: %s", err ? err : "(null)");
    if (again.kvidxdata == NULL) {
        return;
    }
    for (j = 1; j <= 10; j++) {
        term = cmd = 0;
        data = NULL;
        len = 0;
        if (!kvidxGet(&again, j, &term, &cmd, &data, &len) || term != j * 10 || cmd != j * 100 ||
            len != 7 || data == NULL || memcmp(data, "persist", 7) != 0) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u persisted rows wrong", bad);
    T(kvidxGet(&again, KMAX, &term, &cmd, &data, &len));
    CHECK(term == 1 && cmd == 2 && len == 3 && data != NULL && memcmp(data, "top", 3) == 0, "key MAX");
    T(kvidxGet(&again, 0, &term, &cmd, &data, &len));
    CHECK(term == 3 && cmd == 4 && len == 6 && data != NULL && memcmp(data, "bottom", 6) == 0, "key 0");
    CHECK_EQ_U64(key_count(&again), 12);
    T(kvidxClose(&again));
}

static void test_error_paths(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t term = 5;
    if (!open_db(&inst, ad, "errpaths")) {
        return;
    }
    T(kvidxRemove(&inst, 999));
    T(!kvidxGet(&inst, 999, &term, NULL, NULL, NULL));
    CHECK_EQ_U64(term, 5);
    T(!kvidxExistsDual(&inst, 999, 0));
    T(kvidxInsert(&inst, 1, 1, 1, "a", 1));
    T(!kvidxInsert(&inst, 1, 1, 1, "a", 1));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    T(kvidxClose(&inst));
}

static void test_stress(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k, key;
    unsigned failed = 0, n;
    uint32_t rnd = 12345;

    if (!open_db(&inst, ad, "stress")) {
        return;
    }
    T(kvidxBegin(&inst));
    for (k = 1; k <= 10000; k++) {
        if (!kvidxInsert(&inst, k, k, k * 3, &k, sizeof(k))) {
            failed++;
        }
    }
    T(kvidxCommit(&inst));
    CHECK(failed == 0, "%u of 10000 inserts failed", failed);
    failed = 0;
    for (k = 1; k <= 10000; k++) {
        if (!kvidxExists(&inst, k)) {
            failed++;
        }
    }
    CHECK(failed == 0, "%u of 10000 keys missing", failed);
    key = 0;
    T(kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 10000);
    CHECK_EQ_U64(key_count(&inst), 10000);
    failed = 0;
    for (n = 0; n < 100; n++) {
        uint64_t term = 0, cmd = 0;
        const uint8_t *data = NULL;
        size_t len = 0;
        rnd = rnd * 1103515245u + 12345u;
        k = 1 + (rnd >> 8) % 10000;
        if (!kvidxExists(&inst, k) || !kvidxGet(&inst, k, &term, &cmd, &data, &len) || term != k ||
            cmd != k * 3 || len != sizeof(k) || data == NULL || memcmp(data, &k, sizeof(k)) != 0) {
            failed++;
        }
    }
    CHECK(failed == 0, "%u random probes failed", failed);

    T(kvidxRemoveAfterNInclusive(&inst, 5001));
    CHECK_EQ_U64(key_count(&inst), 5000);
    T(kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 5000);
    T(kvidxExists(&inst, 1) && kvidxExists(&inst, 5000));
    T(!kvidxExists(&inst, 5001) && !kvidxExists(&inst, 10000));
    T(kvidxClose(&inst));
}

int main(int argc, char **argv) {
    size_t a;
    if (argc < 2) {
        fprintf(stderr, "usage: %s scratch-dir\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    CHECK(kvidxGetAdapterCount() >= 1, "no engine registered");
    for (a = 0; a < kvidxGetAdapterCount(); a++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(a);
        CHECK(ad != NULL && ad->iface != NULL, "adapter %zu", a);
        if (ad == NULL || ad->iface == NULL) {
            continue;
        }
        check_set_context(ad->name);
        test_boundaries(ad);
        test_integrity(ad);
        test_transactions(ad);
        test_navigation(ad);
        test_range_deletion(ad);
        test_exists_dual(ad);
        test_persistence(ad);
        test_error_paths(ad);
        test_stress(ad);
    }
    return check_report();
}
