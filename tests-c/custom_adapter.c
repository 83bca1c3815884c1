/* custom_adapter.c: a caller's own interface table (decision A4, core.md
 * §3.1): a small in-memory sorted-array engine implementing the core members
 * only. The generic layer must dispatch to it, answer NOT_SUPPORTED for NULL
 * members, emulate GetTTL/Persist/ExpireScan, run iterators and batches
 * through it, and only store configurations for it. */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitConfig.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"

#include <stdbool.h>
#include <stdint.h>

/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")

#define MAXK UINT64_MAX
#define H ((uint64_t)1 << 63)
#define SUFFIX " not supported by this backend"

static const char *scratch = ".";

/* ------------------------------------------------------------------ */
/* the engine */

typedef struct {
    uint64_t key, term, cmd;
    uint8_t *data;
    size_t len;
} mentry;

typedef struct {
    mentry *e;
    size_t n, cap;
    mentry *saved; /* snapshot taken by begin */
    size_t saved_n;
    bool in_txn;
    char name[256];
} mem;

static struct {
    int open, close, get, getNext, getPrev, exists, existsDual, maxKey, insert, remove, begin, commit,
        abort;
} calls;

static mem *M(kvidxInstance *i) { return (mem *)i->kvidxdata; }

static uint8_t *dup_bytes(const void *p, size_t n) {
    uint8_t *b;
    if (n == 0 || p == NULL) return NULL;
    b = malloc(n);
    if (b != NULL) memcpy(b, p, n);
    return b;
}

static void free_entries(mentry *e, size_t n) {
    for (size_t j = 0; j < n; j++) {
        if (e[j].data != NULL) memset(e[j].data, 0xEE, e[j].len); /* poison */
        free(e[j].data);
    }
    free(e);
}

static mentry *copy_entries(const mentry *e, size_t n) {
    mentry *c = calloc(n ? n : 1, sizeof *c);
    for (size_t j = 0; c != NULL && j < n; j++) {
        c[j] = e[j];
        c[j].data = dup_bytes(e[j].data, e[j].len);
    }
    return c;
}

/* index of the first entry with key >= k */
static size_t lower_bound(const mem *m, uint64_t k) {
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->e[mid].key < k) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void out(const mentry *e, uint64_t *key, uint64_t *term, uint64_t *cmd, const uint8_t **data,
                size_t *len) {
    if (key) *key = e->key;
    if (term) *term = e->term;
    if (cmd) *cmd = e->cmd;
    if (data) *data = e->data;
    if (len) *len = e->len;
}

static bool m_open(kvidxInstance *i, const char *filename, const char **err) {
    mem *m;
    calls.open++;
    if (strcmp(filename, "fail") == 0) {
        if (err) *err = "custom open refused";
        return false;
    }
    m = calloc(1, sizeof *m);
    if (m == NULL) return false;
    snprintf(m->name, sizeof m->name, "%s", filename);
    i->kvidxdata = m;
    return true;
}

static bool m_close(kvidxInstance *i) {
    mem *m = M(i);
    calls.close++;
    if (m == NULL) return false;
    free_entries(m->e, m->n);
    if (m->saved) free_entries(m->saved, m->saved_n);
    free(m);
    i->kvidxdata = NULL;
    return true;
}

static bool m_get(kvidxInstance *i, uint64_t key, uint64_t *term, uint64_t *cmd, const uint8_t **data,
                  size_t *len) {
    mem *m = M(i);
    size_t p;
    calls.get++;
    if (m == NULL) return false;
    p = lower_bound(m, key);
    if (p >= m->n || m->e[p].key != key) return false;
    out(&m->e[p], NULL, term, cmd, data, len);
    return true;
}

static bool m_getNext(kvidxInstance *i, uint64_t prev, uint64_t *nextKey, uint64_t *term, uint64_t *cmd,
                      const uint8_t **data, size_t *len) {
    mem *m = M(i);
    size_t p;
    calls.getNext++;
    if (m == NULL || prev == MAXK) return false;
    p = lower_bound(m, prev + 1);
    if (p >= m->n) return false;
    out(&m->e[p], nextKey, term, cmd, data, len);
    return true;
}

static bool m_getPrev(kvidxInstance *i, uint64_t next, uint64_t *prevKey, uint64_t *term, uint64_t *cmd,
                      const uint8_t **data, size_t *len) {
    mem *m = M(i);
    size_t p;
    calls.getPrev++;
    if (m == NULL) return false;
    p = lower_bound(m, next); /* first >= next; the one before is < next */
    if (p == 0) return false;
    out(&m->e[p - 1], prevKey, term, cmd, data, len);
    return true;
}

static bool m_exists(kvidxInstance *i, uint64_t key) {
    mem *m = M(i);
    size_t p;
    calls.exists++;
    if (m == NULL) return false;
    p = lower_bound(m, key);
    return p < m->n && m->e[p].key == key;
}

static bool m_existsDual(kvidxInstance *i, uint64_t key, uint64_t term) {
    mem *m = M(i);
    size_t p;
    calls.existsDual++;
    if (m == NULL) return false;
    p = lower_bound(m, key);
    return p < m->n && m->e[p].key == key && m->e[p].term == term;
}

static bool m_maxKey(kvidxInstance *i, uint64_t *key) {
    mem *m = M(i);
    calls.maxKey++;
    if (m == NULL || m->n == 0) return false;
    if (key) *key = m->e[m->n - 1].key;
    return true;
}

static bool m_insert(kvidxInstance *i, uint64_t key, uint64_t term, uint64_t cmd, const void *data,
                     size_t len) {
    mem *m = M(i);
    size_t p;
    calls.insert++;
    if (m == NULL) return false;
    p = lower_bound(m, key);
    if (p < m->n && m->e[p].key == key) return false;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        mentry *ne = realloc(m->e, nc * sizeof *ne);
        if (ne == NULL) return false;
        m->e = ne;
        m->cap = nc;
    }
    memmove(&m->e[p + 1], &m->e[p], (m->n - p) * sizeof *m->e);
    m->e[p].key = key;
    m->e[p].term = term;
    m->e[p].cmd = cmd;
    m->e[p].data = dup_bytes(data, len);
    m->e[p].len = data ? len : 0;
    m->n++;
    return true;
}

static bool m_remove(kvidxInstance *i, uint64_t key) {
    mem *m = M(i);
    size_t p;
    calls.remove++;
    if (m == NULL) return false;
    p = lower_bound(m, key);
    if (p < m->n && m->e[p].key == key) {
        if (m->e[p].data) memset(m->e[p].data, 0xEE, m->e[p].len);
        free(m->e[p].data);
        memmove(&m->e[p], &m->e[p + 1], (m->n - p - 1) * sizeof *m->e);
        m->n--;
    }
    return true;
}

static bool m_begin(kvidxInstance *i) {
    mem *m = M(i);
    calls.begin++;
    if (m == NULL || m->in_txn) return false;
    m->saved = copy_entries(m->e, m->n);
    m->saved_n = m->n;
    m->in_txn = true;
    return true;
}

static bool m_commit(kvidxInstance *i) {
    mem *m = M(i);
    calls.commit++;
    if (m == NULL || !m->in_txn) return false;
    free_entries(m->saved, m->saved_n);
    m->saved = NULL;
    m->in_txn = false;
    return true;
}

static bool m_abort(kvidxInstance *i) {
    mem *m = M(i);
    calls.abort++;
    if (m == NULL || !m->in_txn) return false;
    free_entries(m->e, m->n);
    m->e = m->saved;
    m->n = m->cap = m->saved_n;
    m->saved = NULL;
    m->in_txn = false;
    return true;
}

static kvidxInterface custom_table(void) {
    kvidxInterface t;
    memset(&t, 0, sizeof t);
    t.open = m_open;
    t.close = m_close;
    t.get = m_get;
    t.getNext = m_getNext;
    t.getPrev = m_getPrev;
    t.exists = m_exists;
    t.existsDual = m_existsDual;
    t.maxKey = m_maxKey;
    t.insert = m_insert;
    t.remove = m_remove;
    t.begin = m_begin;
    t.commit = m_commit;
    t.abort = m_abort;
    return t;
}

/* ------------------------------------------------------------------ */

static int init_calls = 0;
static kvidxInstance *init_seen = NULL;
static bool count_init(kvidxInstance *i) {
    init_calls++;
    init_seen = i;
    return true;
}

static int apply_calls = 0;
static uint64_t apply_key = 0;
static kvidxInstance *apply_seen = NULL;
static bool apply_cb(kvidxInstance *i, uint64_t key) {
    apply_calls++;
    apply_key = key;
    apply_seen = i;
    return key % 2 == 0;
}

static bool open_custom(kvidxInstance *inst, const char *name) {
    const char *err = NULL;
    bool ok;
    memset(inst, 0, sizeof *inst);
    inst->interface = custom_table();
    ok = kvidxOpen(inst, name, &err);
    CHECK(ok, "custom open: %s", err ? err : "");
    return ok;
}

static void test_dispatch(void) {
    kvidxInstance inst;
    uint64_t k = 0, t = 0, c = 0, u = 0;
    const uint8_t *d = NULL;
    size_t l = 0;
    int before;
    const char *err = NULL;

    check_set_context("custom: dispatch");
    memset(&calls, 0, sizeof calls);
    memset(&inst, 0, sizeof inst);
    inst.interface = custom_table();
    inst.customInit = count_init;
    err = NULL;
    CK(!kvidxOpen(&inst, "fail", &err));
    CHECK_STR(err, "custom open refused");
    CK(inst.kvidxdata == NULL);
    CHECK_EQ_INT(calls.open, 1);
    CK(kvidxOpen(&inst, "my-store", &err));
    CHECK_EQ_INT(calls.open, 2);
    CK(inst.kvidxdata != NULL);
    CK(inst.kvidxdata != NULL && strcmp(M(&inst)->name, "my-store") == 0);
    CHECK_EQ_INT(init_calls, 0); /* the generic layer does not call customInit itself */

    CK(kvidxInsert(&inst, 10, 100, 1000, "ten", 3));
    CK(kvidxInsert(&inst, 20, 200, 2000, "twenty", 6));
    CK(kvidxInsert(&inst, H, 1, 2, "high", 4));
    CHECK_EQ_INT(calls.insert, 3);
    CHECK_EQ_U64(M(&inst)->n, 3);
    CK(!kvidxInsert(&inst, 10, 0, 0, "dup", 3)); /* the adapter's answer */
    CHECK_EQ_INT(calls.insert, 4);

    before = calls.get;
    CK(kvidxGet(&inst, 20, &t, &c, &d, &l));
    CHECK_EQ_INT(calls.get, before + 1);
    CK(t == 200 && c == 2000 && l == 6 && memcmp(d, "twenty", 6) == 0);
    CK(!kvidxGet(&inst, 15, &t, NULL, NULL, NULL));

    before = calls.getNext;
    CK(kvidxGetNext(&inst, 10, &k, &t, NULL, &d, &l));
    CHECK_EQ_INT(calls.getNext, before + 1);
    CK(k == 20 && t == 200 && l == 6);
    CK(kvidxGetNext(&inst, 20, &k, NULL, NULL, NULL, NULL) && k == H);
    before = calls.getPrev;
    CK(kvidxGetPrev(&inst, H, &k, NULL, NULL, NULL, NULL) && k == 20);
    CHECK_EQ_INT(calls.getPrev, before + 1);
    before = calls.exists;
    CK(kvidxExists(&inst, 10));
    CK(!kvidxExists(&inst, 11));
    CHECK_EQ_INT(calls.exists, before + 2);
    before = calls.existsDual;
    CK(kvidxExistsDual(&inst, 10, 100));
    CK(!kvidxExistsDual(&inst, 10, 101));
    CHECK_EQ_INT(calls.existsDual, before + 2);
    before = calls.maxKey;
    CK(kvidxMaxKey(&inst, &u) && u == H);
    CHECK_EQ_INT(calls.maxKey, before + 1);
    before = calls.remove;
    CK(kvidxRemove(&inst, 20));
    CHECK_EQ_INT(calls.remove, before + 1);
    CK(!kvidxExists(&inst, 20));

    /* transactions */
    before = calls.begin;
    CK(kvidxBegin(&inst));
    CHECK_EQ_INT(calls.begin, before + 1);
    CK(inst.transactionActive);
    CK(kvidxInsert(&inst, 30, 3, 3, "t", 1));
    kvidxClearError(&inst);
    CK(!kvidxBegin(&inst)); /* nested */
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_TRANSACTION_ACTIVE);
    before = calls.abort;
    CK(kvidxAbort(&inst));
    CHECK_EQ_INT(calls.abort, before + 1);
    CK(!inst.transactionActive);
    CK(!kvidxExists(&inst, 30));
    CK(kvidxBegin(&inst));
    CK(kvidxInsert(&inst, 31, 3, 3, "t", 1));
    before = calls.commit;
    CK(kvidxCommit(&inst));
    CHECK_EQ_INT(calls.commit, before + 1);
    CK(!inst.transactionActive);
    CK(kvidxExists(&inst, 31));
    kvidxClearError(&inst);
    CK(!kvidxCommit(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);

    /* members the table leaves NULL */
    kvidxClearError(&inst);
    CK(!kvidxFsync(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_SUPPORTED);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Fsync" SUFFIX);
    kvidxClearError(&inst);
    CK(!kvidxRemoveAfterNInclusive(&inst, 0));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_SUPPORTED);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "RemoveAfterNInclusive" SUFFIX);
    kvidxClearError(&inst);
    CK(!kvidxRemoveBeforeNInclusive(&inst, MAXK));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_SUPPORTED);
    CK(kvidxExists(&inst, 10) && kvidxExists(&inst, H));
    {
        kvidxStats st;
        uint64_t n = 0;
        bool b = false;
        void *vp = NULL;
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxGetStats(&inst, &st), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "GetStats" SUFFIX);
        CHECK_EQ_INT(kvidxGetKeyCount(&inst, &n), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "GetKeyCount" SUFFIX);
        CHECK_EQ_INT(kvidxGetMinKey(&inst, &n), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "GetMinKey" SUFFIX);
        CHECK_EQ_INT(kvidxGetDataSize(&inst, &n), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "GetDataSize" SUFFIX);
        CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, MAXK, true, true, &n), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "RemoveRange" SUFFIX);
        CHECK_EQ_INT(kvidxCountRange(&inst, 0, MAXK, &n), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "CountRange" SUFFIX);
        CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, MAXK, &b), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "ExistsInRange" SUFFIX);
        CHECK_EQ_INT(kvidxInsertEx(&inst, 40, 4, 4, "x", 1, KVIDX_SET_ALWAYS), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "InsertEx" SUFFIX);
        CHECK_EQ_INT(kvidxGetAndSet(&inst, 10, 4, 4, "x", 1, NULL, NULL, &vp, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "GetAndSet" SUFFIX);
        CHECK_EQ_INT(kvidxGetAndRemove(&inst, 10, NULL, NULL, &vp, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "GetAndRemove" SUFFIX);
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 10, "ten", 3, 1, 1, "x", 1, &b), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "CompareAndSwap" SUFFIX);
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 10, 100, 1, 1, "x", 1, &b), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_EQ_INT(kvidxAppend(&inst, 10, 1, 1, "x", 1, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "Append" SUFFIX);
        CHECK_EQ_INT(kvidxPrepend(&inst, 10, 1, 1, "x", 1, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "Prepend" SUFFIX);
        CHECK_EQ_INT(kvidxGetValueRange(&inst, 10, 0, 0, &vp, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "GetValueRange" SUFFIX);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, 0, "x", 1, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "SetValueRange" SUFFIX);
        CHECK_EQ_INT(kvidxSetExpire(&inst, 10, 1000), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "SetExpire" SUFFIX);
        CHECK_EQ_INT(kvidxSetExpireAt(&inst, 10, 1000), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "SetExpireAt" SUFFIX);
        char xf[4096];
        snprintf(xf, sizeof xf, "%s/custom.export", scratch);
        CHECK_EQ_INT(kvidxExport(&inst, xf, NULL, NULL, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "Export" SUFFIX);
        CHECK_EQ_INT(kvidxImport(&inst, xf, NULL, NULL, NULL), KVIDX_ERROR_NOT_SUPPORTED);
        CHECK_STR(kvidxGetLastErrorMessage(&inst), "Import" SUFFIX);
        /* nothing was written by any of them */
        CK(kvidxGet(&inst, 10, &t, NULL, &d, &l) && t == 100 && l == 3 && memcmp(d, "ten", 3) == 0);
        CK(!kvidxExists(&inst, 40));
    }

    /* emulated TTL functions */
    CHECK_EQ_INT(kvidxGetTTL(&inst, 10), KVIDX_TTL_NONE);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 11), KVIDX_TTL_NOT_FOUND);
    CHECK_EQ_INT(kvidxPersist(&inst, 10), KVIDX_OK);
    CHECK_EQ_INT(kvidxPersist(&inst, 11), KVIDX_ERROR_NOT_FOUND);
    {
        uint64_t n = 99;
        CHECK_EQ_INT(kvidxExpireScan(&inst, 0, &n), KVIDX_OK);
        CHECK_EQ_U64(n, 0);
        CHECK_EQ_INT(kvidxExpireScan(&inst, 10, NULL), KVIDX_OK);
    }
    CK(kvidxExists(&inst, 10));

    /* state machine callback */
    CK(!kvidxApplyToStateMachine(&inst, 4)); /* NULL callback */
    inst.state.applyToStateMachine = apply_cb;
    CK(kvidxApplyToStateMachine(&inst, 4));
    CHECK_EQ_INT(apply_calls, 1);
    CHECK_EQ_U64(apply_key, 4);
    CK(apply_seen == &inst);
    CK(!kvidxApplyToStateMachine(&inst, 7));
    CHECK_EQ_INT(apply_calls, 2);
    CHECK_EQ_U64(apply_key, 7);
    inst.state.applyToStateMachine = NULL;
    CK(!kvidxApplyToStateMachine(&inst, 8));
    CHECK_EQ_INT(apply_calls, 2);

    before = calls.close;
    CK(kvidxClose(&inst));
    CHECK_EQ_INT(calls.close, before + 1);
    CK(inst.kvidxdata == NULL);
    /* the same struct reopens */
    CK(kvidxOpen(&inst, "again", NULL));
    CK(!kvidxExists(&inst, 10)); /* a new, empty store */
    CK(kvidxClose(&inst));
}

static void test_iterator(void) {
    kvidxInstance inst;
    kvidxIterator *it;
    static const uint64_t keys[] = {0, 5, 1000, H - 1, H, MAXK - 1, MAXK};
    const size_t n = sizeof keys / sizeof keys[0];
    size_t got;
    bool ok;

    check_set_context("custom: iterator");
    if (!open_custom(&inst, "iter")) return;
    for (size_t j = n; j > 0; j--) {
        char v[32];
        int len = snprintf(v, sizeof v, "val%zu", j - 1);
        CK(kvidxInsert(&inst, keys[j - 1], j - 1, 0, v, (size_t)len));
    }

    /* forward from 0 yields key 0 first */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    got = 0;
    ok = true;
    while (kvidxIteratorNext(it) && got <= n) {
        uint64_t k = 0, t = 0;
        const uint8_t *d = NULL;
        size_t l = 0;
        char v[32];
        int len = snprintf(v, sizeof v, "val%zu", got);
        if (!kvidxIteratorGet(it, &k, &t, NULL, &d, &l) || got >= n || k != keys[got] || t != got ||
            l != (size_t)len || memcmp(d, v, l) != 0)
            ok = false;
        got++;
    }
    CHECK(ok, "forward order/values");
    CHECK_EQ_U64(got, n);
    CK(!kvidxIteratorNext(it));
    kvidxIteratorDestroy(it);

    /* backward over a store holding MAX terminates */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    got = 0;
    ok = true;
    while (kvidxIteratorNext(it) && got <= n) {
        if (got >= n || kvidxIteratorKey(it) != keys[n - 1 - got]) ok = false;
        got++;
    }
    CHECK(ok, "backward order");
    CHECK_EQ_U64(got, n);
    kvidxIteratorDestroy(it);

    /* sub-range and Seek */
    it = kvidxIteratorCreate(&inst, 1, MAXK - 1, KVIDX_ITER_FORWARD);
    CK(kvidxIteratorNext(it));
    CHECK_EQ_U64(kvidxIteratorKey(it), 5);
    CK(kvidxIteratorSeek(it, 6));
    CHECK_EQ_U64(kvidxIteratorKey(it), 1000);
    CK(kvidxIteratorSeek(it, H + 1));
    CHECK_EQ_U64(kvidxIteratorKey(it), MAXK - 1);
    CK(!kvidxIteratorNext(it)); /* MAX is outside the range */
    CK(!kvidxIteratorSeek(it, MAXK));
    CK(!kvidxIteratorValid(it));
    CK(!kvidxIteratorNext(it));
    CK(kvidxIteratorSeek(it, 1));
    CHECK_EQ_U64(kvidxIteratorKey(it), 5);
    kvidxIteratorDestroy(it);
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    CK(kvidxIteratorSeek(it, H + 1));
    CHECK_EQ_U64(kvidxIteratorKey(it), H);
    CK(kvidxIteratorNext(it));
    CHECK_EQ_U64(kvidxIteratorKey(it), H - 1);
    kvidxIteratorDestroy(it);

    /* Seek(0) forward and Seek(MAX) backward when those keys are absent */
    CK(kvidxRemove(&inst, 0));
    CK(kvidxRemove(&inst, MAXK));
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(kvidxIteratorSeek(it, 0));
    CHECK_EQ_U64(kvidxIteratorKey(it), 5);
    kvidxIteratorDestroy(it);
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    CK(kvidxIteratorSeek(it, MAXK));
    CHECK_EQ_U64(kvidxIteratorKey(it), MAXK - 1);
    kvidxIteratorDestroy(it);

    /* the iterator owns its data: the adapter frees (and poisons) the entry */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(kvidxIteratorNext(it));
    {
        const uint8_t *d = NULL;
        size_t l = 0;
        CK(kvidxIteratorGet(it, NULL, NULL, NULL, &d, &l));
        CK(l == 4 && memcmp(d, "val1", 4) == 0);
        CK(kvidxRemove(&inst, 5));
        CK(kvidxInsert(&inst, 6, 0, 0, "other", 5));
        CHECK(d != NULL && memcmp(d, "val1", 4) == 0, "iterator data changed when the adapter freed it");
        CK(kvidxIteratorNext(it)); /* picks up the new key 6 */
        CHECK_EQ_U64(kvidxIteratorKey(it), 6);
    }
    kvidxIteratorDestroy(it);
    CK(kvidxClose(&inst));
}

static bool odd_only(size_t index, const kvidxEntry *e, void *ud) {
    (void)index;
    (*(int *)ud)++;
    return e->key % 2 == 1;
}

static void test_batches(void) {
    kvidxInstance inst;
    kvidxEntry e[6];
    size_t ins = 0;
    int before_begin, before_commit, seen = 0;

    check_set_context("custom: batch");
    if (!open_custom(&inst, "batch")) return;
    for (int j = 0; j < 6; j++) {
        e[j].key = 100 + (uint64_t)j;
        e[j].term = (uint64_t)j;
        e[j].cmd = 7;
        e[j].data = "batch";
        e[j].dataLen = 5;
    }
    before_begin = calls.begin;
    before_commit = calls.commit;
    CK(kvidxInsertBatch(&inst, e, 3, &ins));
    CHECK_EQ_U64(ins, 3);
    CK(calls.begin == before_begin + 1 && calls.commit == before_commit + 1);
    CK(kvidxExists(&inst, 100) && kvidxExists(&inst, 102));
    CK(kvidxExistsDual(&inst, 101, 1));

    /* a duplicate stops the batch; the prefix is kept */
    e[4].key = 101;
    CK(!kvidxInsertBatch(&inst, &e[3], 3, &ins)); /* 103, 101(dup), 105 */
    CHECK_EQ_U64(ins, 1);
    CK(kvidxExists(&inst, 103) && !kvidxExists(&inst, 105));
    CK(!inst.transactionActive);
    e[4].key = 104;

    /* callback filter */
    CK(kvidxInsertBatchEx(&inst, &e[4], 2, odd_only, &seen, &ins)); /* 104 skipped, 105 */
    CHECK_EQ_U64(ins, 1);
    CHECK_EQ_INT(seen, 2);
    CK(!kvidxExists(&inst, 104) && kvidxExists(&inst, 105));

    /* inside a caller's transaction the batch joins it */
    for (int j = 0; j < 6; j++) e[j].key = 200 + (uint64_t)j;
    CK(kvidxBegin(&inst));
    before_begin = calls.begin;
    before_commit = calls.commit;
    CK(kvidxInsertBatch(&inst, e, 6, &ins));
    CHECK_EQ_U64(ins, 6);
    CHECK_EQ_INT(calls.begin, before_begin);   /* no nested begin reached the adapter */
    CHECK_EQ_INT(calls.commit, before_commit); /* nor a commit */
    CK(inst.transactionActive);
    CK(kvidxExists(&inst, 205));
    CK(kvidxAbort(&inst)); /* rolls the batch back */
    CK(!kvidxExists(&inst, 200) && !kvidxExists(&inst, 205));
    CK(kvidxExists(&inst, 100));
    CK(kvidxBegin(&inst));
    CK(kvidxInsertBatch(&inst, e, 2, &ins));
    CK(kvidxCommit(&inst));
    CK(kvidxExists(&inst, 200) && kvidxExists(&inst, 201));
    CK(kvidxClose(&inst));
}

static void test_config(void) {
    kvidxInstance inst;
    kvidxConfig c, g;
    const char *err = NULL;

    check_set_context("custom: config");
    if (!open_custom(&inst, "config")) return;
    memset(&c, 0, sizeof c);
    c.cacheSizeBytes = 12345;
    c.vfsName = "whatever";
    c.journalMode = KVIDX_JOURNAL_PERSIST;
    c.syncMode = KVIDX_SYNC_EXTRA;
    c.enableRecursiveTriggers = false;
    c.enableForeignKeys = true;
    c.readOnly = false;
    c.busyTimeoutMs = 77;
    c.mmapSizeBytes = 4096;
    c.pageSize = 1024;
    CHECK_EQ_INT(kvidxUpdateConfig(&inst, &c), KVIDX_OK);
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(kvidxGetConfig(&inst, &g), KVIDX_OK);
    CHECK_EQ_U64(g.cacheSizeBytes, 12345);
    CK(g.vfsName != NULL && strcmp(g.vfsName, "whatever") == 0);
    CHECK_EQ_INT(g.journalMode, KVIDX_JOURNAL_PERSIST);
    CHECK_EQ_INT(g.syncMode, KVIDX_SYNC_EXTRA);
    CK(g.enableRecursiveTriggers == false && g.enableForeignKeys == true && g.readOnly == false);
    CHECK_EQ_INT(g.busyTimeoutMs, 77);
    CHECK_EQ_INT(g.mmapSizeBytes, 4096);
    CHECK_EQ_INT(g.pageSize, 1024);
    /* the store is unaffected */
    CK(kvidxInsert(&inst, 1, 1, 1, "c", 1));
    CK(kvidxExists(&inst, 1));
    CHECK_EQ_INT(kvidxGetConfig(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxUpdateConfig(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CK(kvidxClose(&inst));

    /* OpenWithConfig stores it too */
    memset(&inst, 0, sizeof inst);
    inst.interface = custom_table();
    c.busyTimeoutMs = 88;
    CK(kvidxOpenWithConfig(&inst, "config2", &c, &err));
    CK(inst.kvidxdata != NULL && strcmp(M(&inst)->name, "config2") == 0);
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(kvidxGetConfig(&inst, &g), KVIDX_OK);
    CHECK_EQ_INT(g.busyTimeoutMs, 88);
    CHECK_EQ_U64(g.cacheSizeBytes, 12345);
    CHECK_EQ_INT(g.journalMode, KVIDX_JOURNAL_PERSIST);
    CK(kvidxClose(&inst));
    /* with NULL: the defaults are stored */
    memset(&inst, 0, sizeof inst);
    inst.interface = custom_table();
    CK(kvidxOpenWithConfig(&inst, "config3", NULL, &err));
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(kvidxGetConfig(&inst, &g), KVIDX_OK);
    CHECK_EQ_U64(g.cacheSizeBytes, 33554432);
    CHECK_EQ_INT(g.journalMode, KVIDX_JOURNAL_WAL);
    CHECK_EQ_INT(g.syncMode, KVIDX_SYNC_NORMAL);
    CHECK_EQ_INT(g.busyTimeoutMs, 5000);
    CK(kvidxClose(&inst));
    /* a failing custom open */
    memset(&inst, 0, sizeof inst);
    inst.interface = custom_table();
    err = NULL;
    CK(!kvidxOpenWithConfig(&inst, "fail", &c, &err));
    CHECK_STR(err, "custom open refused");
    CK(inst.kvidxdata == NULL);
}

static void test_custom_init_builtin(void) {
    check_set_context("customInit");
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(a);
        kvidxInstance inst;
        char path[4096];
        const char *err = NULL;
        if (ad == NULL) continue;
        check_set_context(ad->name);
        memset(&inst, 0, sizeof inst);
        inst.interface = *ad->iface;
        inst.customInit = count_init;
        init_calls = 0;
        init_seen = NULL;
        /* a failing open does not call it */
        snprintf(path, sizeof path, "%s/no/such/dir/db%s", scratch, ad->pathSuffix);
        CK(!kvidxOpen(&inst, path, &err));
        CHECK_EQ_INT(init_calls, 0);
        /* a successful open calls it once, with the instance */
        snprintf(path, sizeof path, "%s/custominit_%zu%s", scratch, a, ad->pathSuffix);
        CHECK(kvidxOpen(&inst, path, &err), "open: %s", err ? err : "");
        CHECK_EQ_INT(init_calls, 1);
        CK(init_seen == &inst);
        CK(kvidxClose(&inst));
        CHECK_EQ_INT(init_calls, 1);
        /* OpenWithConfig too */
        CK(kvidxOpenWithConfig(&inst, path, NULL, &err));
        CHECK_EQ_INT(init_calls, 2);
        CK(kvidxClose(&inst));
        /* the state-machine callback on a built-in engine */
        CK(kvidxOpen(&inst, path, &err));
        inst.state.applyToStateMachine = apply_cb;
        apply_calls = 0;
        CK(kvidxApplyToStateMachine(&inst, 10));
        CHECK_EQ_INT(apply_calls, 1);
        CK(apply_seen == &inst && apply_key == 10);
        CK(kvidxClose(&inst));
    }
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    test_dispatch();
    test_iterator();
    test_batches();
    test_config();
    test_custom_init_builtin();
    return check_report();
}
