/* batch.c: kvidxInsertBatch / kvidxInsertBatchEx on every engine: the
 * original's batch test (core.md §5.4) and decisions.md D3 — prefix
 * semantics on the first failing entry (a duplicate in the middle, an
 * invalid entry), joining a caller's transaction (a later Abort removes the
 * batch's entries too), callback order and filtering. */
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

static uint64_t key_count(kvidxInstance *inst) {
    uint64_t n = UINT64_MAX;
    CHECK_EQ_INT(kvidxGetKeyCount(inst, &n), KVIDX_OK);
    return n;
}

static void fill(kvidxEntry *e, size_t n, uint64_t first) {
    size_t j;
    for (j = 0; j < n; j++) {
        e[j].key = first + j;
        e[j].term = j;
        e[j].cmd = j * 2;
        e[j].data = "batch";
        e[j].dataLen = 5;
    }
}

static unsigned count_present(kvidxInstance *inst, uint64_t from, uint64_t to) {
    unsigned n = 0;
    uint64_t k;
    for (k = from; k <= to; k++) {
        if (kvidxExists(inst, k)) {
            n++;
        }
    }
    return n;
}

static bool odd_filter(size_t index, const kvidxEntry *entry, void *userData) {
    (void)index;
    (void)userData;
    return (entry->key & 1) != 0;
}

struct trace {
    size_t calls;
    size_t indexes[64];
    const kvidxEntry *entries[64];
};

static bool tracing(size_t index, const kvidxEntry *entry, void *userData) {
    struct trace *t = (struct trace *)userData;
    if (t->calls < 64) {
        t->indexes[t->calls] = index;
        t->entries[t->calls] = entry;
    }
    t->calls++;
    return true;
}

static bool reject_all(size_t index, const kvidxEntry *entry, void *userData) {
    (void)index;
    (void)entry;
    ++*(size_t *)userData;
    return false;
}

/* Skips the entry whose key is *(uint64_t *)userData. */
static bool skip_key(size_t index, const kvidxEntry *entry, void *userData) {
    (void)index;
    return entry->key != *(const uint64_t *)userData;
}

static void test_upstream_batch(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    kvidxEntry e[100];
    size_t ins;
    struct trace tr;
    size_t j;
    bool order_ok;

    if (!open_db(&inst, ad, "batch")) {
        return;
    }
    /* 1. 100 entries. */
    fill(e, 100, 1);
    ins = 999;
    T(kvidxInsertBatch(&inst, e, 100, &ins));
    CHECK_EQ_U64(ins, 100);
    CHECK_EQ_U64(count_present(&inst, 1, 100), 100);
    T(inst.transactionActive == false);

    /* 2. count 0 with entries: true, 0. */
    ins = 999;
    T(kvidxInsertBatch(&inst, e, 0, &ins));
    CHECK_EQ_U64(ins, 0);

    /* 3. entries NULL: false, 0 (also for count 0). */
    ins = 999;
    T(!kvidxInsertBatch(&inst, NULL, 10, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 999;
    T(!kvidxInsertBatch(&inst, NULL, 0, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 999;
    T(!kvidxInsertBatchEx(&inst, NULL, 0, NULL, NULL, &ins));
    CHECK_EQ_U64(ins, 0);

    /* 4. NULL instance: false, 0. */
    ins = 999;
    T(!kvidxInsertBatch(NULL, e, 10, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 999;
    T(!kvidxInsertBatchEx(NULL, e, 10, tracing, &tr, &ins));
    CHECK_EQ_U64(ins, 0);

    /* 5. [200, 201, 202, 201]: stops at the duplicate, prefix kept. */
    fill(e, 4, 200);
    e[3].key = 201;
    ins = 999;
    kvidxClearError(&inst);
    T(!kvidxInsertBatch(&inst, e, 4, &ins));
    CHECK_EQ_U64(ins, 3);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    CHECK_EQ_U64(count_present(&inst, 200, 202), 3);
    T(kvidxExistsDual(&inst, 201, 1)); /* the first 201, not the duplicate */
    T(inst.transactionActive == false);

    /* 6. [300, 200(existing)]. */
    fill(e, 2, 300);
    e[1].key = 200;
    ins = 999;
    T(!kvidxInsertBatch(&inst, e, 2, &ins));
    CHECK_EQ_U64(ins, 1);
    T(kvidxExists(&inst, 300));
    T(kvidxExistsDual(&inst, 200, 0));

    /* 7. Odd-key filter over 400..409. */
    fill(e, 10, 400);
    ins = 999;
    T(kvidxInsertBatchEx(&inst, e, 10, odd_filter, NULL, &ins));
    CHECK_EQ_U64(ins, 5);
    for (j = 0; j < 10; j++) {
        CHECK(kvidxExists(&inst, 400 + j) == ((j & 1) != 0), "key %zu", 400 + j);
    }

    /* 8. The callback sees every entry once, in order, with its own address. */
    fill(e, 20, 500);
    memset(&tr, 0, sizeof(tr));
    ins = 999;
    T(kvidxInsertBatchEx(&inst, e, 20, tracing, &tr, &ins));
    CHECK_EQ_U64(tr.calls, 20);
    CHECK_EQ_U64(ins, 20);
    order_ok = true;
    for (j = 0; j < 20 && j < tr.calls; j++) {
        order_ok = order_ok && tr.indexes[j] == j && tr.entries[j] == &e[j];
    }
    CHECK(order_ok, "callback order/index/entry pointer");

    /* 9. NULL callback behaves like InsertBatch. */
    fill(e, 5, 600);
    ins = 999;
    T(kvidxInsertBatchEx(&inst, e, 5, NULL, NULL, &ins));
    CHECK_EQ_U64(ins, 5);
    CHECK_EQ_U64(count_present(&inst, 600, 604), 5);

    /* 10. 50 entries round-trip term/cmd/data exactly, boundary keys included. */
    {
        kvidxEntry r[50];
        char bufs[50][32];
        unsigned bad = 0;
        for (j = 0; j < 50; j++) {
            r[j].key = j < 45 ? 1000 + j : (j == 45 ? 0 : (j == 46 ? H63 - 1 : (j == 47 ? H63 : (j == 48 ? KMAX - 1 : KMAX))));
            r[j].term = KMAX - j;
            r[j].cmd = H63 + j;
            r[j].dataLen = (size_t)snprintf(bufs[j], sizeof(bufs[j]), "entry data %zu", j * 7);
            r[j].data = bufs[j];
        }
        r[10].data = NULL; /* empty values */
        r[10].dataLen = 0;
        r[11].data = "";
        r[11].dataLen = 0;
        ins = 0;
        T(kvidxInsertBatch(&inst, r, 50, &ins));
        CHECK_EQ_U64(ins, 50);
        for (j = 0; j < 50; j++) {
            uint64_t term = 0, cmd = 0;
            const uint8_t *data = (const uint8_t *)"sentinel";
            size_t len = 99;
            if (!kvidxGet(&inst, r[j].key, &term, &cmd, &data, &len) || term != r[j].term ||
                cmd != r[j].cmd || len != r[j].dataLen ||
                (len == 0 ? data != NULL : (data == NULL || memcmp(data, r[j].data, len) != 0))) {
                bad++;
                fprintf(stderr, "  entry %zu (key %" PRIu64 ") did not round-trip\n", j, r[j].key);
            }
        }
        CHECK(bad == 0, "%u of 50 entries did not round-trip", bad);
    }

    /* insertedCount is optional. */
    fill(e, 3, 700);
    T(kvidxInsertBatch(&inst, e, 3, NULL));
    CHECK_EQ_U64(count_present(&inst, 700, 702), 3);
    T(!kvidxInsertBatch(&inst, e, 3, NULL));
    T(!kvidxInsertBatch(&inst, NULL, 3, NULL));
    T(kvidxInsertBatch(&inst, e, 0, NULL));
    T(kvidxClose(&inst));
}

static void test_failures_in_the_middle(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    kvidxEntry e[10];
    size_t ins;
    struct trace tr;
    size_t j;
    bool order_ok;

    if (!open_db(&inst, ad, "middle")) {
        return;
    }
    T(kvidxInsert(&inst, 105, 77, 77, "old", 3));

    /* A duplicate of an existing key in the middle: 100..104 kept, 105
     * unchanged, 106..109 not inserted; the callback stops with the loop. */
    fill(e, 10, 100);
    memset(&tr, 0, sizeof(tr));
    ins = 999;
    T(!kvidxInsertBatchEx(&inst, e, 10, tracing, &tr, &ins));
    CHECK_EQ_U64(ins, 5);
    CHECK_EQ_U64(count_present(&inst, 100, 104), 5);
    T(kvidxExistsDual(&inst, 105, 77));
    CHECK_EQ_U64(count_present(&inst, 106, 109), 0);
    CHECK_EQ_U64(tr.calls, 6);
    order_ok = true;
    for (j = 0; j < 6 && j < tr.calls; j++) {
        order_ok = order_ok && tr.indexes[j] == j && tr.entries[j] == &e[j];
    }
    CHECK(order_ok, "callback order before the failure");
    CHECK_EQ_U64(key_count(&inst), 6);

    /* A duplicate within the batch itself, in the middle. */
    fill(e, 6, 200);
    e[3].key = 201;
    ins = 999;
    T(!kvidxInsertBatch(&inst, e, 6, &ins));
    CHECK_EQ_U64(ins, 3);
    CHECK_EQ_U64(count_present(&inst, 200, 202), 3);
    T(!kvidxExists(&inst, 204) && !kvidxExists(&inst, 205));

    /* A callback that skips the would-be duplicate: no failure. */
    fill(e, 6, 300);
    e[2].key = 105;
    {
        uint64_t skip = 105;
        ins = 999;
        T(kvidxInsertBatchEx(&inst, e, 6, skip_key, &skip, &ins));
        CHECK_EQ_U64(ins, 5);
        T(kvidxExistsDual(&inst, 105, 77));
        CHECK_EQ_U64(count_present(&inst, 300, 305), 5);
    }

    /* A callback that rejects everything: true, 0, called for every entry. */
    {
        size_t calls = 0;
        fill(e, 7, 400);
        ins = 999;
        T(kvidxInsertBatchEx(&inst, e, 7, reject_all, &calls, &ins));
        CHECK_EQ_U64(ins, 0);
        CHECK_EQ_U64(calls, 7);
        CHECK_EQ_U64(count_present(&inst, 400, 406), 0);
    }

    /* An invalid entry (data NULL, dataLen > 0) in the middle. */
    fill(e, 5, 500);
    e[2].data = NULL;
    e[2].dataLen = 4;
    ins = 999;
    kvidxClearError(&inst);
    T(!kvidxInsertBatch(&inst, e, 5, &ins));
    CHECK_EQ_U64(ins, 2);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    T(kvidxExists(&inst, 500) && kvidxExists(&inst, 501));
    T(!kvidxExists(&inst, 502) && !kvidxExists(&inst, 503) && !kvidxExists(&inst, 504));

    /* Failure on the first entry: false, 0. */
    fill(e, 3, 105);
    ins = 999;
    T(!kvidxInsertBatch(&inst, e, 3, &ins));
    CHECK_EQ_U64(ins, 0);
    T(!kvidxExists(&inst, 106));
    T(inst.transactionActive == false);

    /* The committed prefix survives a reopen. */
    T(kvidxClose(&inst));
    {
        char path[4096];
        const char *err = NULL;
        db_path(path, sizeof(path), ad, "middle");
        CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "(null)");
    }
    if (inst.kvidxdata != NULL) {
        CHECK_EQ_U64(count_present(&inst, 100, 104), 5);
        CHECK_EQ_U64(count_present(&inst, 200, 202), 3);
        CHECK_EQ_U64(count_present(&inst, 500, 501), 2);
        T(kvidxClose(&inst));
    }
}

static void test_inside_transaction(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    kvidxEntry e[10];
    size_t ins;

    if (!open_db(&inst, ad, "joined")) {
        return;
    }
    /* The batch joins the caller's transaction; Abort removes it too. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 600, 1, 1, "own", 3));
    fill(e, 5, 601);
    ins = 999;
    kvidxClearError(&inst);
    T(kvidxInsertBatch(&inst, e, 5, &ins));
    CHECK_EQ_U64(ins, 5);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_OK);
    T(inst.transactionActive == true);
    CHECK_EQ_U64(count_present(&inst, 600, 605), 6);
    T(kvidxAbort(&inst));
    T(inst.transactionActive == false);
    CHECK_EQ_U64(count_present(&inst, 600, 605), 0);
    CHECK_EQ_U64(key_count(&inst), 0);

    /* Joined, then committed: everything present. */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 700, 1, 1, "own", 3));
    fill(e, 5, 701);
    ins = 999;
    T(kvidxInsertBatchEx(&inst, e, 5, odd_filter, NULL, &ins));
    CHECK_EQ_U64(ins, 3); /* 701, 703, 705 */
    T(inst.transactionActive == true);
    T(kvidxInsert(&inst, 710, 1, 1, "after", 5));
    T(kvidxCommit(&inst));
    T(inst.transactionActive == false);
    T(kvidxExists(&inst, 700) && kvidxExists(&inst, 701) && kvidxExists(&inst, 703) &&
      kvidxExists(&inst, 705) && kvidxExists(&inst, 710));
    T(!kvidxExists(&inst, 702) && !kvidxExists(&inst, 704));

    /* A failing batch inside a transaction: prefix stays in the still-open
     * transaction; Commit keeps it... */
    T(kvidxBegin(&inst));
    fill(e, 4, 800);
    e[2].key = 800;
    ins = 999;
    T(!kvidxInsertBatch(&inst, e, 4, &ins));
    CHECK_EQ_U64(ins, 2);
    T(inst.transactionActive == true);
    T(kvidxExists(&inst, 800) && kvidxExists(&inst, 801));
    T(kvidxCommit(&inst));
    T(kvidxExists(&inst, 800) && kvidxExists(&inst, 801) && !kvidxExists(&inst, 803));

    /* ...and Abort drops it. */
    T(kvidxBegin(&inst));
    fill(e, 4, 900);
    e[3].key = 700;
    ins = 999;
    T(!kvidxInsertBatch(&inst, e, 4, &ins));
    CHECK_EQ_U64(ins, 3);
    T(inst.transactionActive == true);
    T(kvidxAbort(&inst));
    CHECK_EQ_U64(count_present(&inst, 900, 903), 0);
    T(kvidxExists(&inst, 700));

    /* Edge arguments inside a transaction leave it open. */
    T(kvidxBegin(&inst));
    ins = 999;
    T(kvidxInsertBatch(&inst, e, 0, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 999;
    T(!kvidxInsertBatch(&inst, NULL, 2, &ins));
    CHECK_EQ_U64(ins, 0);
    T(inst.transactionActive == true);
    T(kvidxCommit(&inst));
    T(kvidxClose(&inst));
}

static void test_volume(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    static kvidxEntry e[1000];
    uint64_t vals[1000];
    size_t ins, j;
    unsigned bad = 0;

    if (!open_db(&inst, ad, "volume")) {
        return;
    }
    /* 1000 Begin/Insert/Commit cycles. */
    for (j = 0; j < 1000; j++) {
        if (!kvidxBegin(&inst) || !kvidxInsert(&inst, j, j, j, &j, sizeof(j)) ||
            !kvidxCommit(&inst)) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u of 1000 single-insert transactions failed", bad);
    /* A 1000-entry batch. */
    for (j = 0; j < 1000; j++) {
        vals[j] = j * j;
        e[j].key = 1000000 + j;
        e[j].term = j;
        e[j].cmd = j;
        e[j].data = &vals[j];
        e[j].dataLen = sizeof(vals[j]);
    }
    ins = 0;
    T(kvidxInsertBatch(&inst, e, 1000, &ins));
    CHECK_EQ_U64(ins, 1000);
    CHECK_EQ_U64(key_count(&inst), 2000);
    {
        uint64_t c = 0;
        CHECK_EQ_INT(kvidxCountRange(&inst, 1000000, 1000999, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 1000);
    }
    bad = 0;
    for (j = 0; j < 1000; j += 37) {
        const uint8_t *data = NULL;
        size_t len = 0;
        if (!kvidxGet(&inst, 1000000 + j, NULL, NULL, &data, &len) || len != 8 || data == NULL ||
            memcmp(data, &vals[j], 8) != 0) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u batch values wrong", bad);
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
        test_upstream_batch(ad);
        test_failures_in_the_middle(ad);
        test_inside_transaction(ad);
        test_volume(ad);
    }
    return check_report();
}
