/* primitives.c: the storage primitives (primitives.md §3, §9 items 1-29 and
 * 41-44, as amended by decisions.md A5, C2, C3, D1, D2): InsertEx/NX/XX,
 * Abort, GetAndSet, GetAndRemove, CompareAndSwap, CompareTermAndSwap,
 * Append, Prepend, GetValueRange, SetValueRange. Also: NULL-data
 * rejections, each primitive being one atomic unit (undone by Abort inside a
 * caller's transaction, durable on its own outside one), lastError codes and
 * messages, large values, and the keys 0, 2^63 and UINT64_MAX. Runs on every
 * registered engine. */
#include "check.h"

#include <stdbool.h>
#include <stdint.h>

#include "kvidxkit.h"
#include "kvidxkitRegistry.h"

#define T(cond) CHECK(cond, "")
#define H63 (UINT64_C(1) << 63)
#define KMAX UINT64_MAX

static const char *scratch;

/* ------------------------------------------------------------------ */
/* helpers */

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

/* True when `key` exists with exactly this term, cmd and value; explains
 * the difference on stderr otherwise. */
static bool entry_is(kvidxInstance *inst, uint64_t key, uint64_t term, uint64_t cmd,
                     const void *data, size_t len) {
    uint64_t t = 0, c = 0;
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(inst, key, &t, &c, &d, &l)) {
        fprintf(stderr, "  key %" PRIu64 " not found\n", key);
        return false;
    }
    if (t != term || c != cmd || l != len) {
        fprintf(stderr, "  key %" PRIu64 ": term %" PRIu64 " cmd %" PRIu64 " len %zu, want %" PRIu64
                        " %" PRIu64 " %zu\n",
                key, t, c, l, term, cmd, len);
        return false;
    }
    if (len > 0 && (d == NULL || memcmp(d, data, len) != 0)) {
        fprintf(stderr, "  key %" PRIu64 ": value differs\n", key);
        return false;
    }
    return true;
}

/* lastError is `code` and the message starts with `prefix` and says more. */
static bool err_is(kvidxInstance *inst, kvidxError code, const char *prefix) {
    kvidxError e = kvidxGetLastError(inst);
    const char *m = kvidxGetLastErrorMessage(inst);
    bool ok = e == code && m != NULL && strncmp(m, prefix, strlen(prefix)) == 0 &&
              strlen(m) > strlen(prefix);
    if (!ok) {
        fprintf(stderr, "  lastError %d \"%s\", want %d \"%s...\"\n", (int)e, m ? m : "(null)",
                (int)code, prefix);
    }
    return ok;
}

/* A fingerprint of the whole database: every key, term, cmd and value in
 * order, through an iterator, plus the key count. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    size_t k;
    for (k = 0; k < n; k++) {
        h ^= b[k];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static uint64_t digest(kvidxInstance *inst) {
    uint64_t h = UINT64_C(14695981039346656037), n = 0, count = 0;
    kvidxIterator *it = kvidxIteratorCreate(inst, 0, KMAX, KVIDX_ITER_FORWARD);
    if (it == NULL) {
        return 0;
    }
    while (kvidxIteratorNext(it)) {
        uint64_t k = 0, t = 0, c = 0;
        const uint8_t *d = NULL;
        size_t l = 0;
        kvidxIteratorGet(it, &k, &t, &c, &d, &l);
        h = fnv(h, &k, sizeof k);
        h = fnv(h, &t, sizeof t);
        h = fnv(h, &c, sizeof c);
        h = fnv(h, &l, sizeof l);
        if (l > 0 && d != NULL) {
            h = fnv(h, d, l);
        }
        n++;
    }
    kvidxIteratorDestroy(it);
    if (kvidxGetKeyCount(inst, &count) != KVIDX_OK || count != n) {
        fprintf(stderr, "  key count %" PRIu64 " != iterated %" PRIu64 "\n", count, n);
        return 1;
    }
    return fnv(h, &n, sizeof n);
}

static uint64_t key_count(kvidxInstance *inst) {
    uint64_t n = UINT64_MAX;
    CHECK_EQ_INT(kvidxGetKeyCount(inst, &n), KVIDX_OK);
    return n;
}

static void fill_pattern(unsigned char *b, size_t n, unsigned seed) {
    size_t k;
    for (k = 0; k < n; k++) {
        b[k] = (unsigned char)((k * 131u + seed * 7u + (k >> 8)) & 0xFF);
    }
}

/* ------------------------------------------------------------------ */
/* items 1-6: conditional writes */

static void test_insert_ex(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    if (!open_db(&inst, ad, "insert_ex")) {
        return;
    }

    /* 1. ALWAYS on a new key */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 10, 11, "one", 3, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(entry_is(&inst, 1, 10, 11, "one", 3));
    /* 2. ALWAYS on an existing key: term, cmd and value overwritten */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 20, 21, "uno!", 4, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(entry_is(&inst, 1, 20, 21, "uno!", 4));
    CHECK_EQ_U64(key_count(&inst), 1);

    /* 3. IF_NOT_EXISTS on a new key */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 30, 31, "two", 3, KVIDX_SET_IF_NOT_EXISTS), KVIDX_OK);
    T(entry_is(&inst, 2, 30, 31, "two", 3));
    /* 4. IF_NOT_EXISTS on an existing key: CONDITION_FAILED, untouched */
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 99, 99, "xx", 2, KVIDX_SET_IF_NOT_EXISTS),
                 KVIDX_ERROR_CONDITION_FAILED);
    T(err_is(&inst, KVIDX_ERROR_CONDITION_FAILED, "InsertEx: "));
    T(entry_is(&inst, 2, 30, 31, "two", 3));

    /* errors are sticky: a success does not clear lastError */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 20, 21, "uno!", 4, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_CONDITION_FAILED);
    CHECK_STR(kvidxErrorString(KVIDX_ERROR_CONDITION_FAILED), "Condition not met");

    /* 5. IF_EXISTS on a missing key: CONDITION_FAILED, nothing created */
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxInsertEx(&inst, 3, 40, 41, "three", 5, KVIDX_SET_IF_EXISTS),
                 KVIDX_ERROR_CONDITION_FAILED);
    T(err_is(&inst, KVIDX_ERROR_CONDITION_FAILED, "InsertEx: "));
    T(!kvidxExists(&inst, 3));
    CHECK_EQ_U64(key_count(&inst), 2);
    /* 6. IF_EXISTS on an existing key: term, cmd, value replaced */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 50, 51, "deux", 4, KVIDX_SET_IF_EXISTS), KVIDX_OK);
    T(entry_is(&inst, 2, 50, 51, "deux", 4));

    /* NX / XX wrappers */
    CHECK_EQ_INT(kvidxInsertNX(&inst, 4, 60, 61, "four", 4), KVIDX_OK);
    T(entry_is(&inst, 4, 60, 61, "four", 4));
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxInsertNX(&inst, 4, 62, 63, "FOUR", 4), KVIDX_ERROR_CONDITION_FAILED);
    T(err_is(&inst, KVIDX_ERROR_CONDITION_FAILED, "Insert"));
    T(entry_is(&inst, 4, 60, 61, "four", 4));
    CHECK_EQ_INT(kvidxInsertXX(&inst, 4, 64, 65, "vier", 4), KVIDX_OK);
    T(entry_is(&inst, 4, 64, 65, "vier", 4));
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxInsertXX(&inst, 5, 1, 1, "five", 4), KVIDX_ERROR_CONDITION_FAILED);
    T(err_is(&inst, KVIDX_ERROR_CONDITION_FAILED, "Insert"));
    T(!kvidxExists(&inst, 5));

    /* condition out of range: INVALID_ARGUMENT, nothing changes */
    {
        uint64_t d0 = digest(&inst);
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxInsertEx(&inst, 6, 1, 1, "six", 3, (kvidxSetCondition)7),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "InsertEx: "));
        T(!kvidxExists(&inst, 6));
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxInsertEx(&inst, 4, 1, 1, "six", 3, (kvidxSetCondition)3),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "InsertEx: "));
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxInsertEx(&inst, 4, 1, 1, "six", 3, (kvidxSetCondition)-1),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "InsertEx: "));
        T(entry_is(&inst, 4, 64, 65, "vier", 4));
        CHECK_EQ_U64(digest(&inst), d0);
    }

    /* empty values: (NULL, 0) and (ptr, 0) both store an empty value */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 7, 70, 71, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(entry_is(&inst, 7, 70, 71, NULL, 0));
    CHECK_EQ_INT(kvidxInsertEx(&inst, 8, 80, 81, "ignored", 0, KVIDX_SET_IF_NOT_EXISTS), KVIDX_OK);
    T(entry_is(&inst, 8, 80, 81, NULL, 0));
    CHECK_EQ_INT(kvidxInsertEx(&inst, 7, 72, 73, "seven", 5, KVIDX_SET_IF_EXISTS), KVIDX_OK);
    T(entry_is(&inst, 7, 72, 73, "seven", 5));
    CHECK_EQ_INT(kvidxInsertEx(&inst, 7, 74, 75, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(entry_is(&inst, 7, 74, 75, NULL, 0));

    /* binary values with NUL bytes round-trip */
    {
        static const unsigned char bin[] = {0, 1, 0, 255, 0};
        CHECK_EQ_INT(kvidxInsertEx(&inst, 9, 1, 2, bin, sizeof bin, KVIDX_SET_ALWAYS), KVIDX_OK);
        T(entry_is(&inst, 9, 1, 2, bin, sizeof bin));
    }

    /* kvidxInsert still refuses to overwrite (C1); InsertEx ALWAYS does */
    kvidxClearError(&inst);
    T(!kvidxInsert(&inst, 9, 5, 5, "x", 1));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    T(entry_is(&inst, 9, 1, 2, "\0\1\0\377\0", 5));

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* items 7-9, 43: Abort and transactions */

static void test_abort(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    if (!open_db(&inst, ad, "abort")) {
        return;
    }
    CHECK_EQ_INT(kvidxInsertEx(&inst, 100, 1, 1, "base", 4, KVIDX_SET_ALWAYS), KVIDX_OK);

    /* 7. Begin, two inserts, Abort: both gone, the earlier key stays */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxInsertEx(&inst, 101, 2, 2, "a", 1, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertEx(&inst, 102, 3, 3, "b", 1, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(kvidxExists(&inst, 101) && kvidxExists(&inst, 102));
    T(kvidxAbort(&inst));
    T(!inst.transactionActive);
    T(!kvidxExists(&inst, 101));
    T(!kvidxExists(&inst, 102));
    T(entry_is(&inst, 100, 1, 1, "base", 4));

    /* 8. Begin, overwrite, Abort: original restored */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxInsertEx(&inst, 100, 9, 9, "changed", 7, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(entry_is(&inst, 100, 9, 9, "changed", 7));
    T(kvidxAbort(&inst));
    T(entry_is(&inst, 100, 1, 1, "base", 4));

    /* 9. Abort with no transaction: false, NO_TRANSACTION, no harm */
    kvidxClearError(&inst);
    T(!kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    T(entry_is(&inst, 100, 1, 1, "base", 4));
    T(!kvidxAbort(NULL));

    /* 43. Begin, InsertEx, Append, Commit: read-your-writes inside */
    {
        size_t nl = 0;
        T(kvidxBegin(&inst));
        CHECK_EQ_INT(kvidxInsertEx(&inst, 200, 4, 5, "txn-data", 8, KVIDX_SET_ALWAYS), KVIDX_OK);
        CHECK_EQ_INT(kvidxAppend(&inst, 200, 0, 0, "-appended", 9, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 17);
        T(kvidxCommit(&inst));
        T(entry_is(&inst, 200, 4, 5, "txn-data-appended", 17));
    }

    /* a primitive that fails inside a transaction does not end it */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxInsertEx(&inst, 300, 1, 1, "t", 1, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertNX(&inst, 100, 1, 1, "x", 1), KVIDX_ERROR_CONDITION_FAILED);
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 999, NULL, NULL, NULL, NULL), KVIDX_ERROR_NOT_FOUND);
    CHECK_EQ_INT(kvidxAppend(&inst, 300, 1, 1, NULL, 3, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    T(inst.transactionActive);
    CHECK_EQ_INT(kvidxInsertEx(&inst, 301, 1, 1, "u", 1, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(kvidxCommit(&inst));
    T(entry_is(&inst, 300, 1, 1, "t", 1));
    T(entry_is(&inst, 301, 1, 1, "u", 1));

    /* ...and the same failures followed by Abort undo the successes */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxInsertEx(&inst, 302, 1, 1, "v", 1, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertXX(&inst, 303, 1, 1, "w", 1), KVIDX_ERROR_CONDITION_FAILED);
    T(kvidxAbort(&inst));
    T(!kvidxExists(&inst, 302));
    T(!kvidxExists(&inst, 303));

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* items 10-11: GetAndSet */

static void test_get_and_set(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t ot, oc;
    void *od;
    size_t ol;
    if (!open_db(&inst, ad, "getandset")) {
        return;
    }
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 5, 6, "original", 8, KVIDX_SET_ALWAYS), KVIDX_OK);

    /* 10. existing key: old entry returned (malloc'd), new one stored */
    ot = 999;
    oc = 999;
    od = (void *)1;
    ol = 999;
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 1, 7, 8, "replacement", 11, &ot, &oc, &od, &ol), KVIDX_OK);
    CHECK_EQ_U64(ot, 5);
    CHECK_EQ_U64(oc, 6);
    CHECK_EQ_U64(ol, 8);
    T(od != NULL && od != (void *)1 && memcmp(od, "original", 8) == 0);
    if (od != (void *)1) {
        free(od);
    }
    T(entry_is(&inst, 1, 7, 8, "replacement", 11));

    /* 11. new key: created, outs 0/NULL/0 even though pre-set */
    ot = 999;
    oc = 999;
    od = (void *)1;
    ol = 999;
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 2, 3, 4, "fresh", 5, &ot, &oc, &od, &ol), KVIDX_OK);
    CHECK_EQ_U64(ot, 0);
    CHECK_EQ_U64(oc, 0);
    T(od == NULL);
    CHECK_EQ_U64(ol, 0);
    T(entry_is(&inst, 2, 3, 4, "fresh", 5));

    /* all outs NULL */
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 2, 9, 9, "x", 1, NULL, NULL, NULL, NULL), KVIDX_OK);
    T(entry_is(&inst, 2, 9, 9, "x", 1));
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 3, 9, 9, "y", 1, NULL, NULL, NULL, NULL), KVIDX_OK);
    T(entry_is(&inst, 3, 9, 9, "y", 1));

    /* oldData NULL, oldDataLen given: the length is still reported */
    ol = 999;
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 1, 1, 1, "abc", 3, NULL, NULL, NULL, &ol), KVIDX_OK);
    CHECK_EQ_U64(ol, 11);
    T(entry_is(&inst, 1, 1, 1, "abc", 3));

    /* empty old value: *oldData NULL, length 0; new value empty */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 4, 2, 2, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    ot = 999;
    od = (void *)1;
    ol = 999;
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 4, 3, 3, NULL, 0, &ot, NULL, &od, &ol), KVIDX_OK);
    CHECK_EQ_U64(ot, 2);
    T(od == NULL);
    CHECK_EQ_U64(ol, 0);
    T(entry_is(&inst, 4, 3, 3, NULL, 0));

    /* NULL data with a length: INVALID_ARGUMENT, outs reset, nothing changes */
    {
        uint64_t d0 = digest(&inst);
        ot = 999;
        oc = 999;
        od = (void *)1;
        ol = 999;
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxGetAndSet(&inst, 1, 5, 5, NULL, 4, &ot, &oc, &od, &ol),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "GetAndSet: "));
        CHECK_EQ_U64(ot, 0);
        CHECK_EQ_U64(oc, 0);
        T(od == NULL);
        CHECK_EQ_U64(ol, 0);
        CHECK_EQ_INT(kvidxGetAndSet(&inst, 50, 5, 5, NULL, 1, NULL, NULL, NULL, NULL),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(!kvidxExists(&inst, 50));
        CHECK_EQ_U64(digest(&inst), d0);
    }

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* items 12-13: GetAndRemove */

static void test_get_and_remove(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t t, c;
    void *d;
    size_t l;
    if (!open_db(&inst, ad, "getandremove")) {
        return;
    }
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 11, 12, "to-remove", 9, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 21, 22, "keep", 4, KVIDX_SET_ALWAYS), KVIDX_OK);

    /* 12. existing key: entry returned, key gone */
    t = c = 0;
    d = (void *)1;
    l = 999;
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 1, &t, &c, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(t, 11);
    CHECK_EQ_U64(c, 12);
    CHECK_EQ_U64(l, 9);
    T(d != NULL && d != (void *)1 && memcmp(d, "to-remove", 9) == 0);
    if (d != (void *)1) {
        free(d);
    }
    T(!kvidxExists(&inst, 1));
    T(entry_is(&inst, 2, 21, 22, "keep", 4));
    CHECK_EQ_U64(key_count(&inst), 1);

    /* 13. missing key, all outs NULL: NOT_FOUND */
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 1, NULL, NULL, NULL, NULL), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "GetAndRemove: "));
    /* missing key: *data and *dataLen reset at entry */
    d = (void *)1;
    l = 999;
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 77, NULL, NULL, &d, &l), KVIDX_ERROR_NOT_FOUND);
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    CHECK_EQ_U64(key_count(&inst), 1);

    /* existing key with all outs NULL */
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 2, NULL, NULL, NULL, NULL), KVIDX_OK);
    T(!kvidxExists(&inst, 2));
    CHECK_EQ_U64(key_count(&inst), 0);

    /* empty value: data NULL, len 0 */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 3, 31, 32, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    t = c = 0;
    d = (void *)1;
    l = 999;
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 3, &t, &c, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(t, 31);
    CHECK_EQ_U64(c, 32);
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    T(!kvidxExists(&inst, 3));

    /* only the length requested */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 4, 1, 1, "four", 4, KVIDX_SET_ALWAYS), KVIDX_OK);
    l = 0;
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 4, NULL, NULL, NULL, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 4);
    T(!kvidxExists(&inst, 4));

    /* the removed key can be inserted again with kvidxInsert */
    T(kvidxInsert(&inst, 4, 2, 2, "again", 5));
    T(entry_is(&inst, 4, 2, 2, "again", 5));

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* items 14-17, 44: CompareAndSwap */

static void test_cas(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    bool sw;
    if (!open_db(&inst, ad, "cas")) {
        return;
    }
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 1, 2, "old-value", 9, KVIDX_SET_ALWAYS), KVIDX_OK);

    /* 14. matching data: swapped, new term/cmd/value */
    sw = false;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "old-value", 9, 3, 4, "new-value!", 10, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 1, 3, 4, "new-value!", 10));

    /* 15. different data (different length): not swapped */
    sw = true;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "old-value", 9, 5, 6, "zzz", 3, &sw), KVIDX_OK);
    T(sw == false);
    T(entry_is(&inst, 1, 3, 4, "new-value!", 10));
    /* same length, one byte differs: not swapped */
    sw = true;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "new-value?", 10, 5, 6, "zzz", 3, &sw), KVIDX_OK);
    T(sw == false);
    T(entry_is(&inst, 1, 3, 4, "new-value!", 10));
    /* (NULL, 0) does not match a non-empty value; neither does (ptr, 0) */
    sw = true;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, NULL, 0, 5, 6, "zzz", 3, &sw), KVIDX_OK);
    T(sw == false);
    sw = true;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "new-value!", 0, 5, 6, "zzz", 3, &sw), KVIDX_OK);
    T(sw == false);
    /* a prefix does not match */
    sw = true;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "new", 3, 5, 6, "zzz", 3, &sw), KVIDX_OK);
    T(sw == false);
    T(entry_is(&inst, 1, 3, 4, "new-value!", 10));

    /* 16. empty value, expected (NULL, 0): swapped */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 1, 1, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    sw = false;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 2, NULL, 0, 7, 8, "filled", 6, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 2, 7, 8, "filled", 6));
    /* swap back to empty with (NULL, 0) new data */
    sw = false;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 2, "filled", 6, 9, 10, NULL, 0, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 2, 9, 10, NULL, 0));
    /* empty value, expected (ptr, 0): swapped */
    sw = false;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 2, "x", 0, 11, 12, "y", 1, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 2, 11, 12, "y", 1));

    /* 17. missing key: NOT_FOUND, swapped false */
    sw = true;
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 3, "a", 1, 1, 1, "b", 1, &sw), KVIDX_ERROR_NOT_FOUND);
    T(sw == false);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "CompareAndSwap: "));
    T(!kvidxExists(&inst, 3));
    sw = true;
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 3, NULL, 0, 1, 1, NULL, 0, &sw), KVIDX_ERROR_NOT_FOUND);
    T(sw == false);
    T(!kvidxExists(&inst, 3));

    /* 44. binary-safe comparison */
    {
        static const unsigned char bin[] = {0x00, 0x01, 0x00, 0x02};
        static const unsigned char bin2[] = {0x00, 0x01, 0x00, 0x03};
        CHECK_EQ_INT(kvidxInsertEx(&inst, 4, 1, 1, bin, 4, KVIDX_SET_ALWAYS), KVIDX_OK);
        sw = true;
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 4, bin2, 4, 2, 2, "n", 1, &sw), KVIDX_OK);
        T(sw == false);
        sw = true;
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 4, bin, 2, 2, 2, "n", 1, &sw), KVIDX_OK);
        T(sw == false);
        sw = false;
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 4, bin, 4, 2, 2, bin2, 4, &sw), KVIDX_OK);
        T(sw == true);
        T(entry_is(&inst, 4, 2, 2, bin2, 4));
    }

    /* argument errors */
    {
        uint64_t d0 = digest(&inst);
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "new-value!", 10, 1, 1, "a", 1, NULL),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "CompareAndSwap: "));
        /* NULL expected with a length */
        sw = true;
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, NULL, 10, 1, 1, "a", 1, &sw),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(sw == false);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "CompareAndSwap: "));
        /* NULL new data with a length, even though expected matches */
        sw = true;
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "new-value!", 10, 1, 1, NULL, 3, &sw),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(sw == false);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "CompareAndSwap: "));
        /* on a missing key the argument error wins and nothing is created */
        sw = true;
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 9, NULL, 0, 1, 1, NULL, 3, &sw),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(sw == false);
        T(!kvidxExists(&inst, 9));
        CHECK_EQ_U64(digest(&inst), d0);
        T(entry_is(&inst, 1, 3, 4, "new-value!", 10));
    }

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* CompareTermAndSwap */

static void test_ctas(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    bool sw;
    if (!open_db(&inst, ad, "ctas")) {
        return;
    }
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 5, 50, "v5", 2, KVIDX_SET_ALWAYS), KVIDX_OK);

    /* term matches: swapped, everything replaced */
    sw = false;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 5, 6, 60, "v6!", 3, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 1, 6, 60, "v6!", 3));
    /* term differs: OK, not swapped */
    sw = true;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 5, 7, 70, "v7", 2, &sw), KVIDX_OK);
    T(sw == false);
    T(entry_is(&inst, 1, 6, 60, "v6!", 3));
    /* matching term, new value empty */
    sw = false;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 6, 8, 80, NULL, 0, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 1, 8, 80, NULL, 0));
    /* on an empty value */
    sw = false;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 8, 9, 90, "nine", 4, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 1, 9, 90, "nine", 4));
    /* the term can stay the same */
    sw = false;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 9, 9, 91, "NINE", 4, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 1, 9, 91, "NINE", 4));
    /* term 0 and UINT64_MAX terms */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, KMAX, 0, "max", 3, KVIDX_SET_ALWAYS), KVIDX_OK);
    sw = true;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 2, 0, 1, 1, "no", 2, &sw), KVIDX_OK);
    T(sw == false);
    sw = false;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 2, KMAX, 0, KMAX, "zero", 4, &sw), KVIDX_OK);
    T(sw == true);
    T(entry_is(&inst, 2, 0, KMAX, "zero", 4));

    /* missing key: NOT_FOUND, swapped false (pre-set true), nothing created */
    sw = true;
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 3, 0, 1, 1, "x", 1, &sw), KVIDX_ERROR_NOT_FOUND);
    T(sw == false);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "CompareTermAndSwap: "));
    T(!kvidxExists(&inst, 3));

    /* argument errors */
    {
        uint64_t d0 = digest(&inst);
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 9, 1, 1, "a", 1, NULL),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "CompareTermAndSwap: "));
        sw = true;
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 9, 1, 1, NULL, 5, &sw),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(sw == false);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "CompareTermAndSwap: "));
        sw = true;
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 3, 0, 1, 1, NULL, 5, &sw),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(sw == false);
        T(!kvidxExists(&inst, 3));
        CHECK_EQ_U64(digest(&inst), d0);
    }

    /* 1 MiB values: replace a 1 MiB value with another 1 MiB value */
    {
        size_t n = (size_t)1 << 20;
        unsigned char *a = (unsigned char *)malloc(n);
        unsigned char *b = (unsigned char *)malloc(n);
        if (a != NULL && b != NULL) {
            fill_pattern(a, n, 1);
            fill_pattern(b, n, 2);
            CHECK_EQ_INT(kvidxInsertEx(&inst, 10, 1, 1, a, n, KVIDX_SET_ALWAYS), KVIDX_OK);
            sw = true;
            CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 10, 2, 3, 3, b, n, &sw), KVIDX_OK);
            T(sw == false);
            T(entry_is(&inst, 10, 1, 1, a, n));
            sw = false;
            CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 10, 1, 2, 2, b, n, &sw), KVIDX_OK);
            T(sw == true);
            T(entry_is(&inst, 10, 2, 2, b, n));
            sw = false;
            CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 10, 2, 3, 3, "s", 1, &sw), KVIDX_OK);
            T(sw == true);
            T(entry_is(&inst, 10, 3, 3, "s", 1));
        } else {
            T(!"malloc failed");
        }
        free(a);
        free(b);
    }

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* items 18-22, 41, 42: Append / Prepend */

static void test_append_prepend(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    size_t nl;
    if (!open_db(&inst, ad, "append")) {
        return;
    }

    /* 18. Append to an existing value; term/cmd of the entry kept */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 3, 4, "Hello", 5, KVIDX_SET_ALWAYS), KVIDX_OK);
    nl = 0;
    CHECK_EQ_INT(kvidxAppend(&inst, 1, 99, 99, " World", 6, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 11);
    T(entry_is(&inst, 1, 3, 4, "Hello World", 11));

    /* 19. Append to a missing key: created with the given term/cmd */
    nl = 0;
    CHECK_EQ_INT(kvidxAppend(&inst, 2, 7, 8, "NewData", 7, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 7);
    T(entry_is(&inst, 2, 7, 8, "NewData", 7));

    /* 20. Prepend to an existing value; term/cmd kept */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 3, 5, 6, "World", 5, KVIDX_SET_ALWAYS), KVIDX_OK);
    nl = 0;
    CHECK_EQ_INT(kvidxPrepend(&inst, 3, 98, 98, "Hello ", 6, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 11);
    T(entry_is(&inst, 3, 5, 6, "Hello World", 11));

    /* 21. Prepend to a missing key */
    nl = 0;
    CHECK_EQ_INT(kvidxPrepend(&inst, 4, 9, 10, "Prepended", 9, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 9);
    T(entry_is(&inst, 4, 9, 10, "Prepended", 9));

    /* 22. "B", Prepend "A", Append "C" with newLen NULL */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 5, 1, 2, "B", 1, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxPrepend(&inst, 5, 0, 0, "A", 1, NULL), KVIDX_OK);
    CHECK_EQ_INT(kvidxAppend(&inst, 5, 0, 0, "C", 1, NULL), KVIDX_OK);
    T(entry_is(&inst, 5, 1, 2, "ABC", 3));

    /* 41. Insert(NULL, 0) then Append "data" */
    T(kvidxInsert(&inst, 6, 1, 1, NULL, 0));
    nl = 0;
    CHECK_EQ_INT(kvidxAppend(&inst, 6, 2, 2, "data", 4, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 4);
    T(entry_is(&inst, 6, 1, 1, "data", 4));
    /* Prepend to an empty value */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 7, 1, 1, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    nl = 0;
    CHECK_EQ_INT(kvidxPrepend(&inst, 7, 2, 2, "pre", 3, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 3);
    T(entry_is(&inst, 7, 1, 1, "pre", 3));

    /* zero-length append/prepend: unchanged, newLen = old length */
    nl = 0;
    CHECK_EQ_INT(kvidxAppend(&inst, 1, 1, 1, NULL, 0, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 11);
    nl = 0;
    CHECK_EQ_INT(kvidxPrepend(&inst, 1, 1, 1, "x", 0, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 11);
    T(entry_is(&inst, 1, 3, 4, "Hello World", 11));
    /* zero-length append to a missing key creates an empty value */
    nl = 99;
    CHECK_EQ_INT(kvidxAppend(&inst, 8, 4, 5, NULL, 0, &nl), KVIDX_OK);
    CHECK_EQ_U64(nl, 0);
    T(entry_is(&inst, 8, 4, 5, NULL, 0));

    /* binary data with NULs */
    {
        static const unsigned char z[] = {0, 0, 1};
        static const unsigned char want[] = {0, 0, 1, 'A', 'B', 'C', 0, 0, 1};
        CHECK_EQ_INT(kvidxAppend(&inst, 5, 0, 0, z, 3, NULL), KVIDX_OK);
        CHECK_EQ_INT(kvidxPrepend(&inst, 5, 0, 0, z, 3, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 9);
        T(entry_is(&inst, 5, 1, 2, want, 9));
    }

    /* NULL data with a length: INVALID_ARGUMENT, nothing changes */
    {
        uint64_t d0 = digest(&inst);
        nl = 12345;
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxAppend(&inst, 1, 1, 1, NULL, 3, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "Append: "));
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxPrepend(&inst, 1, 1, 1, NULL, 3, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "Prepend: "));
        CHECK_EQ_INT(kvidxAppend(&inst, 20, 1, 1, NULL, 3, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        CHECK_EQ_INT(kvidxPrepend(&inst, 21, 1, 1, NULL, 3, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        T(!kvidxExists(&inst, 20));
        T(!kvidxExists(&inst, 21));
        T(entry_is(&inst, 1, 3, 4, "Hello World", 11));
        CHECK_EQ_U64(digest(&inst), d0);
    }

    /* 42. 64 KiB InsertEx then 64 KiB Append: 128 KiB */
    {
        size_t n = 64 * 1024;
        unsigned char *a = (unsigned char *)malloc(2 * n);
        if (a != NULL) {
            fill_pattern(a, 2 * n, 3);
            CHECK_EQ_INT(kvidxInsertEx(&inst, 100, 1, 1, a, n, KVIDX_SET_ALWAYS), KVIDX_OK);
            nl = 0;
            CHECK_EQ_INT(kvidxAppend(&inst, 100, 1, 1, a + n, n, &nl), KVIDX_OK);
            CHECK_EQ_U64(nl, 2 * n);
            T(entry_is(&inst, 100, 1, 1, a, 2 * n));
            /* and a 64 KiB prepend of the same bytes */
            nl = 0;
            CHECK_EQ_INT(kvidxPrepend(&inst, 101, 2, 2, a + n, n, &nl), KVIDX_OK);
            CHECK_EQ_U64(nl, n);
            CHECK_EQ_INT(kvidxPrepend(&inst, 101, 2, 2, a, n, &nl), KVIDX_OK);
            CHECK_EQ_U64(nl, 2 * n);
            T(entry_is(&inst, 101, 2, 2, a, 2 * n));
        } else {
            T(!"malloc failed");
        }
        free(a);
    }

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* items 23-29: GetValueRange / SetValueRange */

static void test_value_range(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    void *d;
    size_t l;
    if (!open_db(&inst, ad, "valuerange")) {
        return;
    }
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 1, 2, "0123456789", 10, KVIDX_SET_ALWAYS), KVIDX_OK);

    /* 23. offset 2, length 5 */
    d = NULL;
    l = 0;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 2, 5, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 5);
    T(d != NULL && memcmp(d, "23456", 5) == 0);
    free(d);
    /* 24. offset 7, length 0 = to the end */
    d = NULL;
    l = 0;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 7, 0, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 3);
    T(d != NULL && memcmp(d, "789", 3) == 0);
    free(d);
    /* length past the end is truncated */
    d = NULL;
    l = 0;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 8, 100, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 2);
    T(d != NULL && memcmp(d, "89", 2) == 0);
    free(d);
    /* whole value; SIZE_MAX length */
    d = NULL;
    l = 0;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 0, SIZE_MAX, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 10);
    T(d != NULL && memcmp(d, "0123456789", 10) == 0);
    free(d);
    /* last byte */
    d = NULL;
    l = 0;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 9, 1, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 1);
    T(d != NULL && memcmp(d, "9", 1) == 0);
    free(d);
    /* 25. offset past the end: OK, 0, NULL (pre-set) */
    d = (void *)1;
    l = 999;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 100, 5, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 0);
    T(d == NULL);
    d = (void *)1;
    l = 999;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 10, 0, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 0);
    T(d == NULL);
    d = (void *)1;
    l = 999;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, SIZE_MAX, SIZE_MAX, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 0);
    T(d == NULL);
    /* outs optional */
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 0, 3, NULL, NULL), KVIDX_OK);
    l = 0;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 4, 0, NULL, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 6);
    /* empty value */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 1, 1, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    d = (void *)1;
    l = 999;
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 2, 0, 0, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 0);
    T(d == NULL);
    /* 26. missing key: NOT_FOUND, outs reset */
    d = (void *)1;
    l = 999;
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 3, 0, 0, &d, &l), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "GetValueRange: "));
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    /* reading does not modify */
    T(entry_is(&inst, 1, 1, 2, "0123456789", 10));

    /* 27. SetValueRange(3, "BBB") on ten 'A' */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 10, 4, 5, "AAAAAAAAAA", 10, KVIDX_SET_ALWAYS), KVIDX_OK);
    l = 0;
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, 3, "BBB", 3, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 10);
    T(entry_is(&inst, 10, 4, 5, "AAABBBAAAA", 10));
    /* 28. SetValueRange(3, "EXTENDED") on "SHORT": 11 bytes, term/cmd kept */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 11, 6, 7, "SHORT", 5, KVIDX_SET_ALWAYS), KVIDX_OK);
    l = 0;
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 11, 3, "EXTENDED", 8, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 11);
    T(entry_is(&inst, 11, 6, 7, "SHOEXTENDED", 11));
    /* gap past the end zero-filled */
    l = 0;
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 11, 14, "Z", 1, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 15);
    T(entry_is(&inst, 11, 6, 7, "SHOEXTENDED\0\0\0Z", 15));
    /* at offset 0, newLen optional */
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 11, 0, "sho", 3, NULL), KVIDX_OK);
    T(entry_is(&inst, 11, 6, 7, "shoEXTENDED\0\0\0Z", 15));
    /* zero-length write inside the value: unchanged */
    l = 0;
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 11, 2, NULL, 0, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 15);
    T(entry_is(&inst, 11, 6, 7, "shoEXTENDED\0\0\0Z", 15));
    /* zero-length write past the end: new size max(old, offset + 0) */
    l = 0;
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, 12, "", 0, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 12);
    T(entry_is(&inst, 10, 4, 5, "AAABBBAAAA\0\0", 12));
    /* on an empty value */
    l = 0;
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 2, 2, "xy", 2, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 4);
    T(entry_is(&inst, 2, 1, 1, "\0\0xy", 4));

    /* 29. missing key: NOT_FOUND, never creates */
    kvidxClearError(&inst);
    l = 777;
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 12, 0, "x", 1, &l), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "SetValueRange: "));
    T(!kvidxExists(&inst, 12));

    /* argument errors: NULL data with a length, offset + len overflow */
    {
        uint64_t d0 = digest(&inst);
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, 0, NULL, 3, &l), KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "SetValueRange: "));
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, SIZE_MAX, "ab", 2, &l),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "SetValueRange: "));
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, SIZE_MAX - 2, "abcd", 4, NULL),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, "SetValueRange: "));
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 12, SIZE_MAX, "ab", 2, NULL),
                     KVIDX_ERROR_INVALID_ARGUMENT);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 12, 0, NULL, 1, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        T(!kvidxExists(&inst, 12));
        T(entry_is(&inst, 10, 4, 5, "AAABBBAAAA\0\0", 12));
        CHECK_EQ_U64(digest(&inst), d0);

        /* offsets far past any value the engine can hold: TOO_BIG, checked
         * before anything is allocated (2^40 bytes cannot be) */
        kvidxClearError(&inst);
        l = 777;
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, (size_t)1 << 40, "ab", 2, &l), KVIDX_ERROR_TOO_BIG);
        T(err_is(&inst, KVIDX_ERROR_TOO_BIG, "SetValueRange: "));
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, (size_t)3000000000u, "ab", 2, &l), KVIDX_ERROR_TOO_BIG);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 10, SIZE_MAX / 2, "", 0, &l), KVIDX_ERROR_TOO_BIG);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, 12, (size_t)1 << 40, "ab", 2, &l), KVIDX_ERROR_TOO_BIG);
        T(!kvidxExists(&inst, 12));
        T(entry_is(&inst, 10, 4, 5, "AAABBBAAAA\0\0", 12));
        CHECK_EQ_U64(digest(&inst), d0);
    }

    /* a 64 KiB window inside a 256 KiB value */
    {
        size_t n = 256 * 1024, w = 64 * 1024, off = 100000;
        unsigned char *a = (unsigned char *)malloc(n);
        unsigned char *b = (unsigned char *)malloc(w);
        if (a != NULL && b != NULL) {
            fill_pattern(a, n, 4);
            fill_pattern(b, w, 5);
            CHECK_EQ_INT(kvidxInsertEx(&inst, 20, 1, 1, a, n, KVIDX_SET_ALWAYS), KVIDX_OK);
            d = NULL;
            l = 0;
            CHECK_EQ_INT(kvidxGetValueRange(&inst, 20, off, w, &d, &l), KVIDX_OK);
            CHECK_EQ_U64(l, w);
            T(d != NULL && memcmp(d, a + off, w) == 0);
            free(d);
            l = 0;
            CHECK_EQ_INT(kvidxSetValueRange(&inst, 20, off, b, w, &l), KVIDX_OK);
            CHECK_EQ_U64(l, n);
            memcpy(a + off, b, w);
            T(entry_is(&inst, 20, 1, 1, a, n));
        } else {
            T(!"malloc failed");
        }
        free(a);
        free(b);
    }

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* NULL data with a length, for every function taking data */

static void test_null_data(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t d0;
    bool sw;
    size_t nl;
    if (!open_db(&inst, ad, "nulldata")) {
        return;
    }
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 1, 1, "one", 3, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 2, 2, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    d0 = digest(&inst);

#define NULLCASE(call, prefix)                                                          \
    do {                                                                                \
        kvidxClearError(&inst);                                                         \
        CHECK_EQ_INT(call, KVIDX_ERROR_INVALID_ARGUMENT);                               \
        T(err_is(&inst, KVIDX_ERROR_INVALID_ARGUMENT, prefix));                         \
        CHECK_EQ_U64(digest(&inst), d0);                                                \
    } while (0)

    {
        uint64_t k;
        static const uint64_t keys[] = {1, 2, 3};
        size_t n;
        for (n = 0; n < 3; n++) {
            k = keys[n];
            NULLCASE(kvidxInsertEx(&inst, k, 9, 9, NULL, 1, KVIDX_SET_ALWAYS), "InsertEx: ");
            NULLCASE(kvidxInsertEx(&inst, k, 9, 9, NULL, 1, KVIDX_SET_IF_EXISTS), "InsertEx: ");
            NULLCASE(kvidxInsertEx(&inst, k, 9, 9, NULL, SIZE_MAX, KVIDX_SET_IF_NOT_EXISTS),
                     "InsertEx: ");
            NULLCASE(kvidxInsertNX(&inst, k, 9, 9, NULL, 4), "Insert");
            NULLCASE(kvidxInsertXX(&inst, k, 9, 9, NULL, 4), "Insert");
            NULLCASE(kvidxGetAndSet(&inst, k, 9, 9, NULL, 2, NULL, NULL, NULL, NULL), "GetAndSet: ");
            sw = true;
            NULLCASE(kvidxCompareAndSwap(&inst, k, NULL, 3, 9, 9, "x", 1, &sw), "CompareAndSwap: ");
            T(!sw);
            sw = true;
            NULLCASE(kvidxCompareAndSwap(&inst, k, "one", 3, 9, 9, NULL, 1, &sw), "CompareAndSwap: ");
            T(!sw);
            sw = true;
            NULLCASE(kvidxCompareTermAndSwap(&inst, k, k, 9, 9, NULL, 1, &sw), "CompareTermAndSwap: ");
            T(!sw);
            nl = 5;
            NULLCASE(kvidxAppend(&inst, k, 9, 9, NULL, 2, &nl), "Append: ");
            NULLCASE(kvidxPrepend(&inst, k, 9, 9, NULL, 2, &nl), "Prepend: ");
            NULLCASE(kvidxSetValueRange(&inst, k, 0, NULL, 2, &nl), "SetValueRange: ");
            /* kvidxInsert returns false */
            kvidxClearError(&inst);
            T(!kvidxInsert(&inst, k, 9, 9, NULL, 1));
            CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
            CHECK_EQ_U64(digest(&inst), d0);
        }
    }
#undef NULLCASE
    T(!kvidxExists(&inst, 3));
    T(entry_is(&inst, 1, 1, 1, "one", 3));
    T(entry_is(&inst, 2, 2, 2, NULL, 0));

    /* still usable */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 3, 3, 3, "three", 5, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(entry_is(&inst, 3, 3, 3, "three", 5));
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* NULL instance and an instance that is not open (A5) */

static void test_bad_instance(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    bool sw = true;
    size_t nl = 5;
    void *d = (void *)1;
    size_t l = 9;
    uint64_t cnt = 9;

    CHECK_EQ_INT(kvidxInsertEx(NULL, 1, 1, 1, "a", 1, KVIDX_SET_ALWAYS), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxInsertNX(NULL, 1, 1, 1, "a", 1), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxInsertXX(NULL, 1, 1, 1, "a", 1), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetAndSet(NULL, 1, 1, 1, "a", 1, NULL, NULL, &d, &l), KVIDX_ERROR_INVALID_ARGUMENT);
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    d = (void *)1;
    l = 9;
    CHECK_EQ_INT(kvidxGetAndRemove(NULL, 1, NULL, NULL, &d, &l), KVIDX_ERROR_INVALID_ARGUMENT);
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    CHECK_EQ_INT(kvidxCompareAndSwap(NULL, 1, "a", 1, 1, 1, "b", 1, &sw), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxCompareTermAndSwap(NULL, 1, 1, 1, 1, "b", 1, &sw), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxAppend(NULL, 1, 1, 1, "a", 1, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxPrepend(NULL, 1, 1, 1, "a", 1, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
    d = (void *)1;
    l = 9;
    CHECK_EQ_INT(kvidxGetValueRange(NULL, 1, 0, 0, &d, &l), KVIDX_ERROR_INVALID_ARGUMENT);
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    CHECK_EQ_INT(kvidxSetValueRange(NULL, 1, 0, "a", 1, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
    T(!kvidxAbort(NULL));

    /* never opened */
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 1, 1, "a", 1, KVIDX_SET_ALWAYS), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 1, 1, 1, "a", 1, NULL, NULL, NULL, NULL),
                 KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 1, NULL, NULL, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, "a", 1, 1, 1, "b", 1, &sw), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 1, 1, 1, "b", 1, &sw), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxAppend(&inst, 1, 1, 1, "a", 1, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxPrepend(&inst, 1, 1, 1, "a", 1, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 0, 0, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 1, 0, "a", 1, &nl), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 10), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExpireScan(&inst, 0, &cnt), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&inst);
    T(!kvidxAbort(&inst));
    T(kvidxGetLastError(&inst) != KVIDX_OK);
}

/* ------------------------------------------------------------------ */
/* every primitive is one atomic unit: inside a caller's transaction it is
 * undone by Abort; outside one it is durable by itself */

static void seed(kvidxInstance *inst) {
    CHECK_EQ_INT(kvidxInsertEx(inst, 1, 1, 10, "alpha", 5, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertEx(inst, 2, 2, 20, "beta", 4, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertEx(inst, 3, 3, 30, NULL, 0, KVIDX_SET_ALWAYS), KVIDX_OK);
    CHECK_EQ_INT(kvidxInsertEx(inst, H63, 4, 40, "high", 4, KVIDX_SET_ALWAYS), KVIDX_OK);
}

enum { OP_INS_NEW, OP_INS_OVER, OP_NX, OP_XX, OP_INSERT, OP_GAS_OVER, OP_GAS_NEW, OP_GAR, OP_CAS,
       OP_CAS_EMPTY, OP_CTAS, OP_APPEND, OP_APPEND_NEW, OP_PREPEND, OP_PREPEND_NEW, OP_SVR,
       OP_SVR_EXTEND, OP_COUNT };

static const char *op_name(int op) {
    static const char *names[] = {"InsertEx new", "InsertEx overwrite", "InsertNX", "InsertXX",
                                  "Insert", "GetAndSet overwrite", "GetAndSet new", "GetAndRemove",
                                  "CompareAndSwap", "CompareAndSwap empty", "CompareTermAndSwap",
                                  "Append", "Append new", "Prepend", "Prepend new", "SetValueRange",
                                  "SetValueRange extend"};
    return names[op];
}

/* Performs `op` (which must succeed and change something) and checks its
 * visible effect. */
static void do_op(kvidxInstance *inst, int op) {
    bool sw = false;
    size_t nl = 0;
    uint64_t t = 0, c = 0;
    void *d = NULL;
    size_t l = 0;
    switch (op) {
    case OP_INS_NEW:
        CHECK_EQ_INT(kvidxInsertEx(inst, 50, 5, 50, "new", 3, KVIDX_SET_ALWAYS), KVIDX_OK);
        T(entry_is(inst, 50, 5, 50, "new", 3));
        break;
    case OP_INS_OVER:
        CHECK_EQ_INT(kvidxInsertEx(inst, 1, 7, 70, "over", 4, KVIDX_SET_ALWAYS), KVIDX_OK);
        T(entry_is(inst, 1, 7, 70, "over", 4));
        break;
    case OP_NX:
        CHECK_EQ_INT(kvidxInsertNX(inst, KMAX, 8, 80, "nx", 2), KVIDX_OK);
        T(entry_is(inst, KMAX, 8, 80, "nx", 2));
        break;
    case OP_XX:
        CHECK_EQ_INT(kvidxInsertXX(inst, H63, 9, 90, "xx", 2), KVIDX_OK);
        T(entry_is(inst, H63, 9, 90, "xx", 2));
        break;
    case OP_INSERT:
        T(kvidxInsert(inst, 0, 1, 1, "zero", 4));
        T(entry_is(inst, 0, 1, 1, "zero", 4));
        break;
    case OP_GAS_OVER:
        CHECK_EQ_INT(kvidxGetAndSet(inst, 2, 11, 110, "gas", 3, &t, &c, &d, &l), KVIDX_OK);
        CHECK_EQ_U64(t, 2);
        CHECK_EQ_U64(c, 20);
        CHECK_EQ_U64(l, 4);
        T(d != NULL && memcmp(d, "beta", 4) == 0);
        free(d);
        T(entry_is(inst, 2, 11, 110, "gas", 3));
        break;
    case OP_GAS_NEW:
        CHECK_EQ_INT(kvidxGetAndSet(inst, 51, 12, 120, "gasnew", 6, &t, &c, &d, &l), KVIDX_OK);
        T(d == NULL && l == 0 && t == 0 && c == 0);
        T(entry_is(inst, 51, 12, 120, "gasnew", 6));
        break;
    case OP_GAR:
        CHECK_EQ_INT(kvidxGetAndRemove(inst, 1, &t, &c, &d, &l), KVIDX_OK);
        CHECK_EQ_U64(t, 1);
        CHECK_EQ_U64(l, 5);
        T(d != NULL && memcmp(d, "alpha", 5) == 0);
        free(d);
        T(!kvidxExists(inst, 1));
        break;
    case OP_CAS:
        CHECK_EQ_INT(kvidxCompareAndSwap(inst, 1, "alpha", 5, 13, 130, "cas", 3, &sw), KVIDX_OK);
        T(sw);
        T(entry_is(inst, 1, 13, 130, "cas", 3));
        break;
    case OP_CAS_EMPTY:
        CHECK_EQ_INT(kvidxCompareAndSwap(inst, 3, NULL, 0, 14, 140, "was-empty", 9, &sw), KVIDX_OK);
        T(sw);
        T(entry_is(inst, 3, 14, 140, "was-empty", 9));
        break;
    case OP_CTAS:
        CHECK_EQ_INT(kvidxCompareTermAndSwap(inst, 2, 2, 15, 150, "ctas", 4, &sw), KVIDX_OK);
        T(sw);
        T(entry_is(inst, 2, 15, 150, "ctas", 4));
        break;
    case OP_APPEND:
        CHECK_EQ_INT(kvidxAppend(inst, 1, 0, 0, "+app", 4, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 9);
        T(entry_is(inst, 1, 1, 10, "alpha+app", 9));
        break;
    case OP_APPEND_NEW:
        CHECK_EQ_INT(kvidxAppend(inst, 52, 16, 160, "appnew", 6, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 6);
        T(entry_is(inst, 52, 16, 160, "appnew", 6));
        break;
    case OP_PREPEND:
        CHECK_EQ_INT(kvidxPrepend(inst, 2, 0, 0, "pre+", 4, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 8);
        T(entry_is(inst, 2, 2, 20, "pre+beta", 8));
        break;
    case OP_PREPEND_NEW:
        CHECK_EQ_INT(kvidxPrepend(inst, 53, 17, 170, "prenew", 6, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 6);
        T(entry_is(inst, 53, 17, 170, "prenew", 6));
        break;
    case OP_SVR:
        CHECK_EQ_INT(kvidxSetValueRange(inst, 1, 1, "LP", 2, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 5);
        T(entry_is(inst, 1, 1, 10, "aLPha", 5));
        break;
    case OP_SVR_EXTEND:
        CHECK_EQ_INT(kvidxSetValueRange(inst, 3, 2, "ext", 3, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 5);
        T(entry_is(inst, 3, 3, 30, "\0\0ext", 5));
        break;
    default:
        T(!"unknown op");
    }
}

static void test_atomic_units(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    int op;
    char name[64];
    if (!open_db(&inst, ad, "atomic")) {
        return;
    }
    seed(&inst);
    for (op = 0; op < OP_COUNT; op++) {
        uint64_t d0 = digest(&inst), d1;
        T(kvidxBegin(&inst));
        do_op(&inst, op);
        d1 = digest(&inst);
        CHECK(d1 != d0, "%s changed nothing inside the transaction", op_name(op));
        CHECK(inst.transactionActive, "%s ended the caller's transaction", op_name(op));
        CHECK(kvidxAbort(&inst), "Abort after %s", op_name(op));
        CHECK(digest(&inst) == d0, "%s left a trace after Abort", op_name(op));
        /* the same op committed inside a transaction sticks */
        T(kvidxBegin(&inst));
        do_op(&inst, op);
        T(kvidxCommit(&inst));
        CHECK(digest(&inst) == d1, "%s committed differs", op_name(op));
        /* restore the seed for the next op */
        T(kvidxRemoveAfterNInclusive(&inst, 0));
        seed(&inst);
        CHECK_EQ_U64(digest(&inst), d0);
    }

    /* several primitives in one transaction, all undone together */
    {
        uint64_t d0 = digest(&inst);
        T(kvidxBegin(&inst));
        for (op = 0; op < OP_COUNT; op++) {
            if (op == OP_GAR || op == OP_CAS || op == OP_SVR || op == OP_APPEND ||
                op == OP_PREPEND || op == OP_GAS_OVER || op == OP_CTAS || op == OP_SVR_EXTEND) {
                continue; /* these depend on the seed values of keys 1, 2 and 3 */
            }
            do_op(&inst, op);
        }
        T(kvidxAbort(&inst));
        CHECK_EQ_U64(digest(&inst), d0);
    }

    /* outside a transaction each primitive commits by itself: no
     * transaction is left open and the change survives close/reopen */
    for (op = 0; op < OP_COUNT; op++) {
        uint64_t d1;
        snprintf(name, sizeof name, "atomic_out_%d", op);
        T(kvidxClose(&inst));
        if (!open_db(&inst, ad, name)) {
            return;
        }
        seed(&inst);
        do_op(&inst, op);
        CHECK(!inst.transactionActive, "%s left a transaction open", op_name(op));
        d1 = digest(&inst);
        /* a caller's transaction can start right away and Abort does not
         * undo the earlier, already committed primitive */
        T(kvidxBegin(&inst));
        T(kvidxAbort(&inst));
        CHECK(digest(&inst) == d1, "%s undone by a later Abort", op_name(op));
        T(kvidxClose(&inst));
        if (!reopen_db(&inst, ad, name)) {
            return;
        }
        CHECK(digest(&inst) == d1, "%s not durable", op_name(op));
    }
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* keys 0, 2^63, UINT64_MAX */

static void test_edge_keys(const kvidxAdapterInfo *ad) {
    static const uint64_t keys[] = {0, H63, KMAX, H63 - 1, 1};
    kvidxInstance inst;
    size_t n;
    if (!open_db(&inst, ad, "edgekeys")) {
        return;
    }
    for (n = 0; n < 3; n++) {
        uint64_t k = keys[n], t, c;
        void *d;
        size_t l, nl;
        bool sw;
        char want[32];
        CHECK_EQ_INT(kvidxInsertXX(&inst, k, 1, 1, "x", 1), KVIDX_ERROR_CONDITION_FAILED);
        CHECK_EQ_INT(kvidxInsertNX(&inst, k, 1, 2, "abc", 3), KVIDX_OK);
        CHECK_EQ_INT(kvidxInsertNX(&inst, k, 9, 9, "zzz", 3), KVIDX_ERROR_CONDITION_FAILED);
        T(entry_is(&inst, k, 1, 2, "abc", 3));
        CHECK_EQ_INT(kvidxInsertXX(&inst, k, 3, 4, "def", 3), KVIDX_OK);
        CHECK_EQ_INT(kvidxInsertEx(&inst, k, 5, 6, "ghi", 3, KVIDX_SET_ALWAYS), KVIDX_OK);
        t = c = 0;
        d = NULL;
        CHECK_EQ_INT(kvidxGetAndSet(&inst, k, 7, 8, "jkl", 3, &t, &c, &d, &l), KVIDX_OK);
        CHECK_EQ_U64(t, 5);
        CHECK_EQ_U64(c, 6);
        T(d != NULL && l == 3 && memcmp(d, "ghi", 3) == 0);
        free(d);
        CHECK_EQ_INT(kvidxAppend(&inst, k, 0, 0, "mn", 2, &nl), KVIDX_OK);
        CHECK_EQ_INT(kvidxPrepend(&inst, k, 0, 0, "<", 1, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 6);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, k, 6, ">", 1, &nl), KVIDX_OK);
        CHECK_EQ_U64(nl, 7);
        T(entry_is(&inst, k, 7, 8, "<jklmn>", 7));
        d = NULL;
        CHECK_EQ_INT(kvidxGetValueRange(&inst, k, 1, 3, &d, &l), KVIDX_OK);
        T(d != NULL && l == 3 && memcmp(d, "jkl", 3) == 0);
        free(d);
        sw = false;
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, k, "<jklmn>", 7, 10, 11, "cas", 3, &sw), KVIDX_OK);
        T(sw);
        sw = false;
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, k, 10, 12, 13, "ctas", 4, &sw), KVIDX_OK);
        T(sw);
        T(entry_is(&inst, k, 12, 13, "ctas", 4));
        /* neighbours are untouched / not confused with the edge key */
        CHECK_EQ_U64(key_count(&inst), n + 1);
        CHECK_EQ_INT(kvidxGetAndRemove(&inst, k, &t, &c, &d, &l), KVIDX_OK);
        CHECK_EQ_U64(t, 12);
        T(d != NULL && l == 4 && memcmp(d, "ctas", 4) == 0);
        free(d);
        T(!kvidxExists(&inst, k));
        CHECK_EQ_U64(key_count(&inst), n);
        snprintf(want, sizeof want, "k%" PRIu64, k);
        CHECK_EQ_INT(kvidxAppend(&inst, k, k, k, want, strlen(want), NULL), KVIDX_OK);
        T(entry_is(&inst, k, k, k, want, strlen(want)));
    }
    /* with all of them plus 2^63-1 and 1: unsigned order */
    for (n = 3; n < 5; n++) {
        CHECK_EQ_INT(kvidxInsertNX(&inst, keys[n], keys[n], 0, "n", 1), KVIDX_OK);
    }
    {
        uint64_t k = 0;
        T(kvidxMaxKey(&inst, &k));
        CHECK_EQ_U64(k, KMAX);
        CHECK_EQ_INT(kvidxGetMinKey(&inst, &k), KVIDX_OK);
        CHECK_EQ_U64(k, 0);
        T(kvidxGetNext(&inst, H63 - 1, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, H63);
        T(kvidxGetPrev(&inst, H63, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, H63 - 1);
        CHECK_EQ_U64(key_count(&inst), 5);
    }
    /* the edge keys keep distinct values */
    T(entry_is(&inst, 0, 0, 0, "k0", 2));
    T(entry_is(&inst, H63, H63, H63, "k9223372036854775808", 20));
    T(entry_is(&inst, KMAX, KMAX, KMAX, "k18446744073709551615", 21));
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv) {
    size_t a, n;
    if (argc < 2) {
        fprintf(stderr, "usage: %s scratch-dir\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    n = kvidxGetAdapterCount();
    CHECK(n >= 1, "no engine registered");
    for (a = 0; a < n; a++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(a);
        CHECK(ad != NULL && ad->iface != NULL && ad->name != NULL, "adapter %zu", a);
        if (ad == NULL || ad->iface == NULL || ad->name == NULL) {
            continue;
        }
        check_set_context(ad->name);
        test_insert_ex(ad);
        test_abort(ad);
        test_get_and_set(ad);
        test_get_and_remove(ad);
        test_cas(ad);
        test_ctas(ad);
        test_append_prepend(ad);
        test_value_range(ad);
        test_null_data(ad);
        test_bad_instance(ad);
        test_atomic_units(ad);
        test_edge_keys(ad);
    }
    return check_report();
}
