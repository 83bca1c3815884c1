/* transactions.c: one transaction semantics on every engine (decisions.md
 * D1, D2): Begin/Commit/Abort results and error codes, transactionActive,
 * Abort undoing every kind of write, read-your-writes, failed inserts that
 * do not end the transaction, Close rolling back. */
#include "check.h"

#include "kvidxkit.h"
#include "kvidxkitRegistry.h"

#define T(cond) CHECK(cond, "")
#define H63 (UINT64_C(1) << 63)
#define KMAX UINT64_MAX

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

static bool reopen_db(kvidxInstance *inst, const kvidxAdapterInfo *ad, const char *name) {
    char path[4096];
    const char *err = NULL;
    bool ok;
    db_path(path, sizeof(path), ad, name);
    ok = kvidxOpen(inst, path, &err);
    CHECK(ok, "reopen %s: %s", path, err ? err : "(null)");
    return ok;
}

static uint64_t key_count(kvidxInstance *inst) {
    uint64_t n = UINT64_MAX;
    CHECK_EQ_INT(kvidxGetKeyCount(inst, &n), KVIDX_OK);
    return n;
}

/* The keys present, in unsigned order, via GetMinKey + GetNext. */
static size_t list_keys(kvidxInstance *inst, uint64_t *out, size_t max) {
    size_t n = 0;
    uint64_t k;
    if (kvidxGetMinKey(inst, &k) != KVIDX_OK) {
        return 0;
    }
    do {
        if (n < max) {
            out[n] = k;
        }
        n++;
    } while (n <= max && kvidxGetNext(inst, k, &k, NULL, NULL, NULL, NULL));
    return n;
}

static bool same_keys(kvidxInstance *inst, const uint64_t *want, size_t nwant) {
    uint64_t got[64];
    size_t n = list_keys(inst, got, 64);
    return n == nwant && memcmp(got, want, n * sizeof(uint64_t)) == 0;
}

static const uint64_t base_keys[] = {0, 1, 5, 100, H63 - 1, H63, KMAX - 1, KMAX};
#define NBASE (sizeof(base_keys) / sizeof(base_keys[0]))

static void insert_base(kvidxInstance *inst) {
    size_t n;
    T(kvidxBegin(inst));
    for (n = 0; n < NBASE; n++) {
        CHECK(kvidxInsert(inst, base_keys[n], n, n, "base", 4), "base insert %zu", n);
    }
    T(kvidxCommit(inst));
}

static void test_flag_and_codes(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    if (!open_db(&inst, ad, "flag")) {
        return;
    }
    T(inst.transactionActive == false);

    /* Commit / Abort with none open: false, NO_TRANSACTION, no harm. */
    T(kvidxInsert(&inst, 1, 1, 1, "a", 1));
    kvidxClearError(&inst);
    T(!kvidxCommit(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    T(inst.transactionActive == false);
    kvidxClearError(&inst);
    T(!kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    T(inst.transactionActive == false);
    T(kvidxExists(&inst, 1));

    /* Begin / nested Begin / Commit. */
    kvidxClearError(&inst);
    T(kvidxBegin(&inst));
    T(inst.transactionActive == true);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_OK);
    T(kvidxInsert(&inst, 2, 2, 2, "b", 1));
    T(!kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_TRANSACTION_ACTIVE);
    T(inst.transactionActive == true);
    /* The refused Begin did not disturb the open transaction. */
    T(kvidxExists(&inst, 2));
    T(kvidxInsert(&inst, 3, 3, 3, "c", 1));
    T(kvidxCommit(&inst));
    T(inst.transactionActive == false);
    T(kvidxExists(&inst, 2) && kvidxExists(&inst, 3));

    /* A second Commit, Abort after Commit: NO_TRANSACTION. */
    kvidxClearError(&inst);
    T(!kvidxCommit(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    kvidxClearError(&inst);
    T(!kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    T(kvidxExists(&inst, 2) && kvidxExists(&inst, 3));

    /* Begin / Abort, then a second Abort. */
    T(kvidxBegin(&inst));
    T(inst.transactionActive == true);
    T(kvidxInsert(&inst, 4, 4, 4, "d", 1));
    T(kvidxAbort(&inst));
    T(inst.transactionActive == false);
    T(!kvidxExists(&inst, 4));
    kvidxClearError(&inst);
    T(!kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    T(!kvidxCommit(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);

    /* Many sequential transactions. */
    {
        unsigned bad = 0, r;
        for (r = 0; r < 50; r++) {
            if (!kvidxBegin(&inst) || !inst.transactionActive ||
                !kvidxInsert(&inst, 1000 + r, r, r, "r", 1) ||
                !(r % 2 ? kvidxAbort(&inst) : kvidxCommit(&inst)) || inst.transactionActive) {
                bad++;
            }
        }
        CHECK(bad == 0, "%u of 50 cycles failed", bad);
        bad = 0;
        for (r = 0; r < 50; r++) {
            if (kvidxExists(&inst, 1000 + r) != (r % 2 == 0)) {
                bad++;
            }
        }
        CHECK(bad == 0, "%u of 50 cycles left the wrong state", bad);
    }

    /* Writes outside transactions do not set the flag. */
    T(kvidxInsert(&inst, 5, 5, 5, "e", 1));
    T(inst.transactionActive == false);
    T(kvidxClose(&inst));
    T(inst.transactionActive == false);
}

static void test_abort_undoes(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t u, term, cmd;
    const uint8_t *data;
    size_t len, n;
    unsigned bad;

    if (!open_db(&inst, ad, "abort")) {
        return;
    }
    insert_base(&inst);
    T(same_keys(&inst, base_keys, NBASE));

    /* Inserts, removes, range removes, RemoveAfter/BeforeNInclusive: all undone. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 2, 9, 9, "new", 3));
    T(kvidxInsert(&inst, H63 + 5, 9, 9, "new", 3));
    T(kvidxRemove(&inst, 0));
    T(kvidxRemove(&inst, KMAX));
    u = 0;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 5, H63, true, true, &u), KVIDX_OK);
    CHECK_EQ_U64(u, 4); /* 5, 100, H-1, H */
    T(kvidxRemoveAfterNInclusive(&inst, KMAX - 1));
    T(kvidxRemoveBeforeNInclusive(&inst, 1));
    /* Only 2 and H+5 remain inside the transaction. */
    {
        static const uint64_t inside[] = {2, H63 + 5};
        T(same_keys(&inst, inside, 2));
    }
    T(kvidxAbort(&inst));
    T(inst.transactionActive == false);
    T(same_keys(&inst, base_keys, NBASE));
    T(!kvidxExists(&inst, 2));
    T(!kvidxExists(&inst, H63 + 5));
    bad = 0;
    for (n = 0; n < NBASE; n++) {
        term = cmd = 99;
        data = NULL;
        len = 0;
        if (!kvidxGet(&inst, base_keys[n], &term, &cmd, &data, &len) || term != n || cmd != n ||
            len != 4 || data == NULL || memcmp(data, "base", 4) != 0) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u base entries changed after Abort", bad);

    /* Abort of a large transaction. */
    T(kvidxBegin(&inst));
    bad = 0;
    for (u = 10000; u < 11000; u++) {
        if (!kvidxInsert(&inst, u, u, u, &u, sizeof(u))) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u inserts failed", bad);
    CHECK_EQ_U64(key_count(&inst), NBASE + 1000);
    T(kvidxAbort(&inst));
    CHECK_EQ_U64(key_count(&inst), NBASE);
    T(!kvidxExists(&inst, 10000) && !kvidxExists(&inst, 10999));

    /* An aborted insert leaves no trace: the key can be inserted again. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 77, 1, 1, "first", 5));
    T(kvidxAbort(&inst));
    T(kvidxInsert(&inst, 77, 2, 2, "second", 6));
    term = 0;
    data = NULL;
    len = 0;
    T(kvidxGet(&inst, 77, &term, NULL, &data, &len));
    CHECK(term == 2 && len == 6 && data != NULL && memcmp(data, "second", 6) == 0, "re-insert");

    /* Insert + remove of an existing key inside a transaction, aborted. */
    T(kvidxBegin(&inst));
    T(kvidxRemove(&inst, 77));
    T(!kvidxExists(&inst, 77));
    T(kvidxInsert(&inst, 77, 3, 3, "third", 5));
    T(kvidxExistsDual(&inst, 77, 3));
    T(kvidxAbort(&inst));
    T(kvidxExistsDual(&inst, 77, 2));
    T(!kvidxExistsDual(&inst, 77, 3));
    T(kvidxClose(&inst));
}

static void test_read_your_writes(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k, term, cmd, u;
    const uint8_t *data;
    size_t len;
    bool b;
    kvidxStats st;

    if (!open_db(&inst, ad, "ryw")) {
        return;
    }
    T(kvidxInsert(&inst, 50, 1, 1, "fifty", 5));
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 0, 7, 8, "zero", 4));
    T(kvidxInsert(&inst, KMAX, 9, 10, "max", 3));
    T(kvidxInsert(&inst, H63, 11, 12, "half", 4));
    T(kvidxExists(&inst, 0) && kvidxExists(&inst, KMAX) && kvidxExists(&inst, H63));
    T(kvidxExistsDual(&inst, KMAX, 9));
    term = cmd = 0;
    data = NULL;
    len = 0;
    T(kvidxGet(&inst, 0, &term, &cmd, &data, &len));
    CHECK(term == 7 && cmd == 8 && len == 4 && data != NULL && memcmp(data, "zero", 4) == 0,
          "Get inside transaction");
    k = 0;
    T(kvidxMaxKey(&inst, &k));
    CHECK_EQ_U64(k, KMAX);
    k = 1;
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 0);
    T(kvidxGetNext(&inst, 50, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, H63);
    T(kvidxGetPrev(&inst, KMAX, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, H63);
    T(kvidxGetPrev(&inst, 50, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, 0);
    CHECK_EQ_U64(key_count(&inst), 4);
    u = 0;
    CHECK_EQ_INT(kvidxCountRange(&inst, 1, KMAX, &u), KVIDX_OK);
    CHECK_EQ_U64(u, 3);
    b = false;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, H63, H63, &b), KVIDX_OK);
    T(b);
    u = 0;
    CHECK_EQ_INT(kvidxGetDataSize(&inst, &u), KVIDX_OK);
    CHECK_EQ_U64(u, 5 + 4 + 3 + 4);
    memset(&st, 0, sizeof(st));
    CHECK_EQ_INT(kvidxGetStats(&inst, &st), KVIDX_OK);
    CHECK_EQ_U64(st.totalKeys, 4);
    CHECK_EQ_U64(st.minKey, 0);
    CHECK_EQ_U64(st.maxKey, KMAX);
    T(kvidxRemove(&inst, 50));
    T(!kvidxExists(&inst, 50));
    T(kvidxCommit(&inst));
    T(!kvidxExists(&inst, 50));
    CHECK_EQ_U64(key_count(&inst), 3);
    T(kvidxClose(&inst));
}

static void test_failed_insert_keeps_txn(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    if (!open_db(&inst, ad, "failins")) {
        return;
    }
    T(kvidxInsert(&inst, 10, 1, 1, "ten", 3));
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 11, 1, 1, "a", 1));
    kvidxClearError(&inst);
    T(!kvidxInsert(&inst, 10, 2, 2, "dup", 3));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    T(inst.transactionActive == true);
    T(!kvidxInsert(&inst, 11, 2, 2, "dup", 3)); /* duplicate of an uncommitted key */
    T(!kvidxInsert(&inst, 13, 2, 2, NULL, 3));  /* invalid argument */
    T(inst.transactionActive == true);
    T(kvidxInsert(&inst, 12, 1, 1, "b", 1));
    T(kvidxCommit(&inst));
    T(inst.transactionActive == false);
    T(kvidxExists(&inst, 11) && kvidxExists(&inst, 12));
    T(!kvidxExists(&inst, 13));
    T(kvidxExistsDual(&inst, 10, 1) && kvidxExistsDual(&inst, 11, 1));

    /* The same with Abort: everything since Begin is gone. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 20, 1, 1, "a", 1));
    T(!kvidxInsert(&inst, 10, 2, 2, "dup", 3));
    T(inst.transactionActive == true);
    T(kvidxAbort(&inst));
    T(!kvidxExists(&inst, 20));
    CHECK_EQ_U64(key_count(&inst), 3);
    T(kvidxClose(&inst));
}

static void test_close_rolls_back(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    if (!open_db(&inst, ad, "closerb")) {
        return;
    }
    T(kvidxInsert(&inst, 1, 1, 1, "keep", 4));
    T(kvidxInsert(&inst, KMAX, 1, 1, "keep", 4));
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 2, 1, 1, "drop", 4));
    T(kvidxInsert(&inst, 0, 1, 1, "drop", 4));
    T(kvidxRemove(&inst, 1));
    T(kvidxRemove(&inst, KMAX));
    T(kvidxClose(&inst));
    T(inst.transactionActive == false);
    T(inst.kvidxdata == NULL);
    if (!reopen_db(&inst, ad, "closerb")) {
        return;
    }
    T(inst.transactionActive == false);
    T(kvidxExists(&inst, 1) && kvidxExists(&inst, KMAX));
    T(!kvidxExists(&inst, 2) && !kvidxExists(&inst, 0));
    CHECK_EQ_U64(key_count(&inst), 2);
    /* A new transaction works normally after the reopen. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 3, 1, 1, "new", 3));
    T(kvidxCommit(&inst));
    T(kvidxClose(&inst));
    if (!reopen_db(&inst, ad, "closerb")) {
        return;
    }
    T(kvidxExists(&inst, 3));
    CHECK_EQ_U64(key_count(&inst), 3);
    T(kvidxClose(&inst));
}

static void test_commit_persists(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k;
    unsigned bad = 0;
    if (!open_db(&inst, ad, "persist")) {
        return;
    }
    T(kvidxBegin(&inst));
    for (k = 0; k < 200; k++) {
        if (!kvidxInsert(&inst, k * 1000003u, k, k, &k, sizeof(k))) {
            bad++;
        }
    }
    T(kvidxCommit(&inst));
    CHECK(bad == 0, "%u inserts failed", bad);
    T(kvidxClose(&inst));
    if (!reopen_db(&inst, ad, "persist")) {
        return;
    }
    CHECK_EQ_U64(key_count(&inst), 200);
    bad = 0;
    for (k = 0; k < 200; k++) {
        if (!kvidxExistsDual(&inst, k * 1000003u, k)) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u committed keys lost", bad);
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
        test_flag_and_codes(ad);
        test_abort_undoes(ad);
        test_read_your_writes(ad);
        test_failed_insert_keeps_txn(ad);
        test_close_rolls_back(ad);
        test_commit_persists(ad);
    }
    return check_report();
}
