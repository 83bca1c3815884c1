/* basic.c: the original's basic test (core.md §5.1) and the core edge-case
 * matrix (core.md §3.4 as amended by decisions.md), on every engine. */
#include "check.h"

#include "kvidxkit.h"
#include "kvidxkitRegistry.h"

#define T(cond) CHECK(cond, "")
#define H63 (UINT64_C(1) << 63)
#define KMAX UINT64_MAX
#define BIG (64 * 1024)

static const char *scratch;

static void db_path(char *buf, size_t n, const kvidxAdapterInfo *ad, const char *name) {
    snprintf(buf, n, "%s/%s%s", scratch, name, ad->pathSuffix);
}

/* Zeroes the instance, copies the engine's table and opens scratch/name. */
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

static uint8_t big_a[BIG], big_b[BIG];

/* §5.1 of core.md, step by step. */
static void test_upstream_basic(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    char path[4096];
    const char *err = NULL;
    uint64_t key = 0, term = 0, cmd = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    size_t n;

    for (n = 0; n < BIG; n++) {
        big_a[n] = (uint8_t)(n * 7 + 3);
        big_b[n] = (uint8_t)(n * 13 + 1);
    }

    /* 1. Open on a new path, Close. */
    if (!open_db(&inst, ad, "basic1")) {
        return;
    }
    T(inst.kvidxdata != NULL);
    T(kvidxClose(&inst));
    T(inst.kvidxdata == NULL);

    /* 2. The same struct re-opened on another path without re-zeroing. */
    db_path(path, sizeof(path), ad, "basic2");
    CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "(null)");
    if (inst.kvidxdata == NULL) {
        return;
    }

    /* 3. Exists on an empty database. */
    T(!kvidxExists(&inst, 331));

    /* 4. Uncommitted rows are visible inside the transaction. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 331, 701, 88, big_a, BIG));
    T(kvidxExists(&inst, 331));
    T(kvidxExistsDual(&inst, 331, 701));
    T(!kvidxExistsDual(&inst, 331, 702));
    T(kvidxCommit(&inst));

    /* 5. MaxKey. */
    key = 0;
    T(kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 331);

    /* 6. Remove inside a transaction. */
    T(kvidxBegin(&inst));
    T(kvidxRemove(&inst, 331));
    T(!kvidxExists(&inst, 331));
    T(kvidxCommit(&inst));
    T(!kvidxExists(&inst, 331));

    /* 7. Duplicate insert inside a transaction does not spoil the commit. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 331, 701, 88, big_a, BIG));
    T(kvidxExists(&inst, 331));
    T(kvidxExistsDual(&inst, 331, 701));
    T(!kvidxInsert(&inst, 331, 999, 99, "x", 1));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    T(kvidxCommit(&inst));
    T(kvidxExistsDual(&inst, 331, 701));
    T(!kvidxExistsDual(&inst, 331, 999));

    /* 8. RemoveAfterNInclusive outside a transaction. */
    T(kvidxRemoveAfterNInclusive(&inst, 331));
    T(!kvidxExists(&inst, 331));

    /* 9. Autocommit inserts. */
    T(kvidxInsert(&inst, 332, 702, 88, big_a, BIG));
    T(kvidxInsert(&inst, 333, 703, 89, big_b, BIG));
    T(kvidxInsert(&inst, 334, 704, 90, "c", 1));
    T(kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 334);

    /* 10. RemoveAfterNInclusive empties the table. */
    T(kvidxRemoveAfterNInclusive(&inst, 332));
    key = 12345;
    T(!kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 12345);
    T(!kvidxExists(&inst, 332));
    T(!kvidxExists(&inst, 333));
    T(!kvidxExists(&inst, 334));

    /* 11. Get returns term, cmd, length and bytes exactly. */
    T(kvidxInsert(&inst, 331, 701, 87, "a", 1));
    T(kvidxInsert(&inst, 332, 702, 88, big_a, BIG));
    T(kvidxInsert(&inst, 333, 703, 89, big_b, BIG));
    term = cmd = 0;
    data = NULL;
    len = 0;
    T(kvidxGet(&inst, 332, &term, &cmd, &data, &len));
    CHECK_EQ_U64(term, 702);
    CHECK_EQ_U64(cmd, 88);
    CHECK_EQ_U64(len, BIG);
    CHECK(data != NULL && memcmp(data, big_a, BIG) == 0, "Get(332) data");

    /* 12. GetPrev(333) is 332. */
    key = term = cmd = 0;
    data = NULL;
    len = 0;
    T(kvidxGetPrev(&inst, 333, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 332);
    CHECK_EQ_U64(term, 702);
    CHECK_EQ_U64(cmd, 88);
    CHECK_EQ_U64(len, BIG);
    CHECK(data != NULL && memcmp(data, big_a, BIG) == 0, "GetPrev(333) data");

    /* 13. GetNext(331) is 332; GetNext(332) is 333 with its own value. */
    key = term = cmd = 0;
    data = NULL;
    len = 0;
    T(kvidxGetNext(&inst, 331, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 332);
    CHECK_EQ_U64(term, 702);
    CHECK_EQ_U64(cmd, 88);
    CHECK_EQ_U64(len, BIG);
    CHECK(data != NULL && memcmp(data, big_a, BIG) == 0, "GetNext(331) data");
    T(kvidxGetNext(&inst, 332, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 333);
    CHECK_EQ_U64(term, 703);
    CHECK_EQ_U64(cmd, 89);
    CHECK(data != NULL && len == BIG && memcmp(data, big_b, BIG) == 0, "GetNext(332) data");

    /* 14. Fsync and Close. */
    T(kvidxFsync(&inst));
    T(kvidxClose(&inst));
    T(inst.kvidxdata == NULL);

    /* The committed rows survive. */
    CHECK(kvidxOpen(&inst, path, &err), "reopen basic2: %s", err ? err : "(null)");
    if (inst.kvidxdata != NULL) {
        T(kvidxGet(&inst, 333, &term, &cmd, &data, &len));
        CHECK_EQ_U64(term, 703);
        CHECK(data != NULL && len == BIG && memcmp(data, big_b, BIG) == 0, "333 after reopen");
        T(kvidxExists(&inst, 331) && kvidxExists(&inst, 332));
        T(kvidxClose(&inst));
    }
}

/* core.md §3.4 as amended (A5, C1, C4, D1). */
static void test_edge_matrix(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t key, term, cmd, count, u;
    const uint8_t *data;
    const uint8_t sentinel[1] = {0};
    size_t len;
    bool b;

    if (!open_db(&inst, ad, "matrix")) {
        return;
    }

    /* Empty database. */
    kvidxClearError(&inst);
    key = term = cmd = 77;
    data = sentinel;
    len = 77;
    T(!kvidxGet(&inst, 5, &term, &cmd, &data, &len));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);
    CHECK(term == 77 && cmd == 77 && data == sentinel && len == 77, "Get miss touched outs");
    T(!kvidxGetNext(&inst, 0, &key, &term, &cmd, &data, &len));
    T(!kvidxGetPrev(&inst, KMAX, &key, &term, &cmd, &data, &len));
    CHECK(key == 77 && term == 77 && cmd == 77 && data == sentinel && len == 77,
          "GetNext/GetPrev miss touched outs");
    T(!kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 77);
    kvidxClearError(&inst);
    key = 77;
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &key), KVIDX_ERROR_NOT_FOUND);
    CHECK_EQ_U64(key, 77);
    count = 77;
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &count), KVIDX_OK);
    CHECK_EQ_U64(count, 0);
    count = 77;
    CHECK_EQ_INT(kvidxGetDataSize(&inst, &count), KVIDX_OK);
    CHECK_EQ_U64(count, 0);
    count = 77;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, KMAX, true, true, &count), KVIDX_OK);
    CHECK_EQ_U64(count, 0);
    count = 77;
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, KMAX, &count), KVIDX_OK);
    CHECK_EQ_U64(count, 0);
    b = true;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, KMAX, &b), KVIDX_OK);
    T(b == false);
    T(!kvidxExists(&inst, 0));
    T(!kvidxExistsDual(&inst, 0, 0));

    /* Insert duplicate: false, DUPLICATE_KEY, entry unchanged. */
    T(kvidxInsert(&inst, 10, 1, 2, "orig", 4));
    kvidxClearError(&inst);
    T(!kvidxInsert(&inst, 10, 3, 4, "new!!", 5));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    T(kvidxGet(&inst, 10, &term, &cmd, &data, &len));
    CHECK(term == 1 && cmd == 2 && len == 4 && data != NULL && memcmp(data, "orig", 4) == 0,
          "duplicate insert changed the entry");

    /* Remove of an absent key is true. */
    T(kvidxRemove(&inst, 11));
    T(kvidxRemove(&inst, KMAX));
    T(kvidxExists(&inst, 10));

    /* Nested Begin, Commit/Abort without Begin (D1). */
    kvidxClearError(&inst);
    T(!kvidxCommit(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    kvidxClearError(&inst);
    T(!kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    T(kvidxBegin(&inst));
    kvidxClearError(&inst);
    T(!kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_TRANSACTION_ACTIVE);
    /* Failed insert inside the transaction, then Commit keeps earlier writes. */
    T(kvidxInsert(&inst, 20, 1, 1, "t", 1));
    T(!kvidxInsert(&inst, 10, 1, 1, "t", 1));
    T(kvidxCommit(&inst));
    T(kvidxExists(&inst, 20));

    /* Range start > end: OK, 0. */
    count = 77;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 20, 10, true, true, &count), KVIDX_OK);
    CHECK_EQ_U64(count, 0);
    count = 77;
    CHECK_EQ_INT(kvidxCountRange(&inst, 20, 10, &count), KVIDX_OK);
    CHECK_EQ_U64(count, 0);
    T(kvidxExists(&inst, 10) && kvidxExists(&inst, 20));

    /* Zero-length values: *data NULL and *len 0 (C4). */
    T(kvidxInsert(&inst, 30, 3, 3, NULL, 0));
    T(kvidxInsert(&inst, 31, 3, 3, "", 0));
    data = sentinel;
    len = 77;
    T(kvidxGet(&inst, 30, NULL, NULL, &data, &len));
    CHECK(data == NULL && len == 0, "empty value (NULL,0): data %p len %zu", (const void *)data, len);
    data = sentinel;
    len = 77;
    T(kvidxGet(&inst, 31, NULL, NULL, &data, &len));
    CHECK(data == NULL && len == 0, "empty value (\"\",0): data %p len %zu", (const void *)data, len);
    /* Get with data == NULL and len != NULL writes *len. */
    len = 77;
    T(kvidxGet(&inst, 10, NULL, NULL, NULL, &len));
    CHECK_EQ_U64(len, 4);
    /* All out-params NULL. */
    T(kvidxGet(&inst, 10, NULL, NULL, NULL, NULL));
    T(kvidxGetNext(&inst, 10, NULL, NULL, NULL, NULL, NULL));
    T(kvidxGetPrev(&inst, 20, NULL, NULL, NULL, NULL, NULL));
    T(kvidxMaxKey(&inst, NULL));

    /* Close with an open transaction rolls it back. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 40, 4, 4, "gone", 4));
    T(kvidxRemove(&inst, 10));
    T(kvidxClose(&inst));
    T(inst.transactionActive == false);
    {
        char path[4096];
        const char *err = NULL;
        db_path(path, sizeof(path), ad, "matrix");
        CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "(null)");
    }
    if (inst.kvidxdata == NULL) {
        return;
    }
    T(!kvidxExists(&inst, 40));
    T(kvidxExists(&inst, 10));
    u = 0;
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &u), KVIDX_OK);
    CHECK_EQ_U64(u, 4); /* 10, 20, 30, 31 */
    T(kvidxClose(&inst));

    /* Core operations on an instance that is not open: false /
     * INVALID_ARGUMENT, never a crash (A5). */
    T(inst.kvidxdata == NULL);
    kvidxClearError(&inst);
    T(!kvidxGet(&inst, 10, &term, &cmd, &data, &len));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&inst);
    T(!kvidxInsert(&inst, 1, 1, 1, "x", 1));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&inst);
    T(!kvidxExists(&inst, 10));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    T(!kvidxBegin(&inst));
    T(!kvidxCommit(&inst));
    T(!kvidxAbort(&inst));
    T(!kvidxRemove(&inst, 10));
    T(!kvidxMaxKey(&inst, &key));
    T(!kvidxGetNext(&inst, 0, &key, NULL, NULL, NULL, NULL));
    T(!kvidxGetPrev(&inst, KMAX, &key, NULL, NULL, NULL, NULL));
    T(!kvidxExistsDual(&inst, 10, 1));
    T(!kvidxRemoveAfterNInclusive(&inst, 0));
    T(!kvidxRemoveBeforeNInclusive(&inst, KMAX));
    T(!kvidxFsync(&inst));
    kvidxClearError(&inst);
    T(!kvidxClose(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &count), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &key), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, 1, true, true, &count), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, 1, &count), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, 1, &b), KVIDX_ERROR_INVALID_ARGUMENT);
    T(inst.transactionActive == false);
}

/* A NULL instance to every pass-through: false, never a crash (A5). */
static void test_null_instance(void) {
    uint64_t key = 0, count = 0;
    bool b = false;
    const char *err = NULL;
    kvidxStats st;
    check_set_context("NULL instance");
    T(!kvidxOpen(NULL, "x", &err));
    T(err != NULL);
    T(!kvidxClose(NULL));
    T(!kvidxFsync(NULL));
    T(!kvidxBegin(NULL));
    T(!kvidxCommit(NULL));
    T(!kvidxAbort(NULL));
    T(!kvidxGet(NULL, 1, NULL, NULL, NULL, NULL));
    T(!kvidxGetNext(NULL, 1, &key, NULL, NULL, NULL, NULL));
    T(!kvidxGetPrev(NULL, 1, &key, NULL, NULL, NULL, NULL));
    T(!kvidxExists(NULL, 1));
    T(!kvidxExistsDual(NULL, 1, 1));
    T(!kvidxMaxKey(NULL, &key));
    T(!kvidxInsert(NULL, 1, 1, 1, "x", 1));
    T(!kvidxRemove(NULL, 1));
    T(!kvidxRemoveAfterNInclusive(NULL, 1));
    T(!kvidxRemoveBeforeNInclusive(NULL, 1));
    T(!kvidxApplyToStateMachine(NULL, 1));
    CHECK_EQ_INT(kvidxGetStats(NULL, &st), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(NULL, &count), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetMinKey(NULL, &key), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetDataSize(NULL, &count), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxRemoveRange(NULL, 0, 1, true, true, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxCountRange(NULL, 0, 1, &count), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExistsInRange(NULL, 0, 1, &b), KVIDX_ERROR_INVALID_ARGUMENT);
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
        test_upstream_basic(ad);
        test_edge_matrix(ad);
    }
    test_null_instance();
    return check_report();
}
