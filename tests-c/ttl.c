/* ttl.c: key expiry (primitives.md §4 and §9 items 30-40, as amended by
 * decisions.md E1-E3 and D2): SetExpire, SetExpireAt, GetTTL, Persist,
 * ExpireScan; lazy expiry (an expired key is absent for every operation);
 * the TTL lifecycle (deletes drop the TTL, overwrites of a live key keep it);
 * saturating expiry arithmetic; TTL calls inside a caller's transaction and
 * Abort leaving no trace; TTLs surviving close/reopen. Runs on every
 * registered engine. Timing is only asserted loosely (±5 s), except that a
 * 1 ms TTL followed by a 20 ms sleep has expired. */
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kvidxkit.h"
#include "kvidxkitRegistry.h"

#define T(cond) CHECK(cond, "")
#define H63 (UINT64_C(1) << 63)
#define KMAX UINT64_MAX
#define HUGE_TTL INT64_C(1000000000000000000) /* 1e18 ms: "never" */

static const char *scratch;

/* ------------------------------------------------------------------ */
/* helpers */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}

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

static bool entry_is(kvidxInstance *inst, uint64_t key, uint64_t term, uint64_t cmd,
                     const void *data, size_t len) {
    uint64_t t = 0, c = 0;
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(inst, key, &t, &c, &d, &l)) {
        fprintf(stderr, "  key %" PRIu64 " not found\n", key);
        return false;
    }
    if (t != term || c != cmd || l != len || (len > 0 && (d == NULL || memcmp(d, data, len) != 0))) {
        fprintf(stderr, "  key %" PRIu64 ": term %" PRIu64 " cmd %" PRIu64 " len %zu, want %" PRIu64
                        " %" PRIu64 " %zu (or value differs)\n",
                key, t, c, l, term, cmd, len);
        return false;
    }
    return true;
}

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

/* GetTTL(key) lies in [lo, hi]. */
#define CHECK_TTL(inst, key, lo, hi)                                                       \
    do {                                                                                   \
        int64_t ttl_ = kvidxGetTTL((inst), (key));                                         \
        CHECK(ttl_ >= (int64_t)(lo) && ttl_ <= (int64_t)(hi),                              \
              "GetTTL(%" PRIu64 ") = %" PRId64 ", want [%" PRId64 ", %" PRId64 "]",        \
              (uint64_t)(key), ttl_, (int64_t)(lo), (int64_t)(hi));                        \
    } while (0)

static uint64_t scan(kvidxInstance *inst, uint64_t maxKeys) {
    uint64_t n = 12345;
    CHECK_EQ_INT(kvidxExpireScan(inst, maxKeys, &n), KVIDX_OK);
    return n;
}

/* Iterates [lo, hi] in `dir` and compares the keys with `want`. */
static bool iter_keys(kvidxInstance *inst, uint64_t lo, uint64_t hi, kvidxIterDirection dir,
                      const uint64_t *want, size_t nwant) {
    size_t n = 0;
    bool ok = true;
    kvidxIterator *it = kvidxIteratorCreate(inst, lo, hi, dir);
    if (it == NULL) {
        fprintf(stderr, "  iterator NULL\n");
        return false;
    }
    while (kvidxIteratorNext(it)) {
        uint64_t k = kvidxIteratorKey(it);
        if (n >= nwant || want[n] != k) {
            fprintf(stderr, "  iterator item %zu: key %" PRIu64 "\n", n, k);
            ok = false;
        }
        n++;
    }
    kvidxIteratorDestroy(it);
    if (n != nwant) {
        fprintf(stderr, "  iterator gave %zu keys, want %zu\n", n, nwant);
        ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* items 30-40 */

static void test_basic(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t cnt;
    size_t k;
    if (!open_db(&inst, ad, "ttl_basic")) {
        return;
    }
    T(kvidxInsert(&inst, 1, 1, 1, "one", 3));
    T(kvidxInsert(&inst, 2, 2, 2, "two", 3));

    /* 30. SetExpire on an existing key */
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 60000), KVIDX_OK);
    /* 31. SetExpire on a missing key */
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 99, 60000), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "SetExpire: "));
    T(!kvidxExists(&inst, 99));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 99), KVIDX_TTL_NOT_FOUND);
    /* 32. GetTTL right after */
    CHECK_TTL(&inst, 1, 55000, 60000);
    /* 33. no TTL */
    CHECK_EQ_INT(kvidxGetTTL(&inst, 2), KVIDX_TTL_NONE);
    /* 34. missing */
    CHECK_EQ_INT(kvidxGetTTL(&inst, 3), KVIDX_TTL_NOT_FOUND);
    /* the TTL does not change the entry */
    T(entry_is(&inst, 1, 1, 1, "one", 3));

    /* 35. SetExpireAt(now + 30 s) */
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 2, now_ms() + 30000), KVIDX_OK);
    CHECK_TTL(&inst, 2, 25000, 30000);
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 98, now_ms() + 30000), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "SetExpireAt: "));
    T(!kvidxExists(&inst, 98));

    /* a new expiry replaces the old one, longer or shorter */
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 1000000), KVIDX_OK);
    CHECK_TTL(&inst, 1, 995000, 1000000);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 20000), KVIDX_OK);
    CHECK_TTL(&inst, 1, 15000, 20000);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 1, now_ms() + 40000), KVIDX_OK);
    CHECK_TTL(&inst, 1, 35000, 40000);

    /* 36. Persist removes the TTL */
    CHECK_EQ_INT(kvidxPersist(&inst, 1), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NONE);
    /* Persist on a key without TTL is fine */
    CHECK_EQ_INT(kvidxPersist(&inst, 1), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NONE);
    T(entry_is(&inst, 1, 1, 1, "one", 3));
    /* 37. Persist on a missing key */
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxPersist(&inst, 97), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "Persist: "));

    /* nothing has expired: a scan removes nothing */
    CHECK_EQ_U64(scan(&inst, 0), 0);
    T(kvidxExists(&inst, 1) && kvidxExists(&inst, 2));
    CHECK_TTL(&inst, 2, 25000, 30000);

    /* 38. 1 ms TTL, sleep, ExpireScan(0): count 1, key gone */
    T(kvidxInsert(&inst, 5, 5, 5, "five", 4));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 5, 1), KVIDX_OK);
    sleep_ms(20);
    T(!kvidxExists(&inst, 5));
    CHECK_EQ_U64(scan(&inst, 0), 1);
    T(!kvidxExists(&inst, 5));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 5), KVIDX_TTL_NOT_FOUND);
    CHECK_EQ_U64(scan(&inst, 0), 0);
    /* 40. InsertNX on the scanned key: OK, no TTL */
    CHECK_EQ_INT(kvidxInsertNX(&inst, 5, 6, 6, "again", 5), KVIDX_OK);
    T(entry_is(&inst, 5, 6, 6, "again", 5));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 5), KVIDX_TTL_NONE);
    /* the other keys are untouched */
    T(entry_is(&inst, 1, 1, 1, "one", 3));
    CHECK_TTL(&inst, 2, 25000, 30000);

    /* 39. ten keys with 1 ms TTL: ExpireScan(3) = 3, then the other 7 */
    for (k = 0; k < 10; k++) {
        T(kvidxInsert(&inst, 100 + k, k, k, "ten", 3));
        CHECK_EQ_INT(kvidxSetExpire(&inst, 100 + k, 1), KVIDX_OK);
    }
    sleep_ms(20);
    CHECK_EQ_U64(scan(&inst, 3), 3);
    CHECK_EQ_U64(scan(&inst, 0), 7);
    CHECK_EQ_U64(scan(&inst, 0), 0);
    for (k = 0; k < 10; k++) {
        T(!kvidxExists(&inst, 100 + k));
    }
    /* maxKeys larger than the number expired; NULL count */
    for (k = 0; k < 2; k++) {
        T(kvidxInsert(&inst, 200 + k, 1, 1, "x", 1));
        CHECK_EQ_INT(kvidxSetExpire(&inst, 200 + k, 1), KVIDX_OK);
    }
    T(kvidxInsert(&inst, 202, 1, 1, "x", 1));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 202, 1), KVIDX_OK);
    sleep_ms(20);
    CHECK_EQ_U64(scan(&inst, 100), 3);
    T(kvidxInsert(&inst, 203, 1, 1, "x", 1));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 203, 1), KVIDX_OK);
    sleep_ms(20);
    CHECK_EQ_INT(kvidxExpireScan(&inst, 0, NULL), KVIDX_OK);
    cnt = 77;
    CHECK_EQ_INT(kvidxExpireScan(&inst, 0, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 0);
    T(!kvidxExists(&inst, 203));

    /* the keys without expiry survived all of it */
    {
        uint64_t n = 0;
        CHECK_EQ_INT(kvidxGetKeyCount(&inst, &n), KVIDX_OK);
        CHECK_EQ_U64(n, 3);
    }

    /* NULL instance */
    CHECK_EQ_INT(kvidxSetExpire(NULL, 1, 1), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSetExpireAt(NULL, 1, 1), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetTTL(NULL, 1), KVIDX_TTL_NOT_FOUND);
    CHECK_EQ_INT(kvidxPersist(NULL, 1), KVIDX_ERROR_INVALID_ARGUMENT);
    cnt = 5;
    CHECK_EQ_INT(kvidxExpireScan(NULL, 0, &cnt), KVIDX_ERROR_INVALID_ARGUMENT);

    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* E1: an expired key is absent for every read */

static void test_lazy_reads(const kvidxAdapterInfo *ad) {
    static const uint64_t live[] = {10, 30, 50, 60};
    static const uint64_t live_rev[] = {60, 50, 30, 10};
    static const uint64_t dead[] = {0, 20, 40, H63, KMAX};
    kvidxInstance inst;
    uint64_t k;
    size_t n;
    bool b;
    if (!open_db(&inst, ad, "ttl_lazy")) {
        return;
    }
    T(kvidxInsert(&inst, 10, 1, 1, "ten", 3));
    T(kvidxInsert(&inst, 30, 3, 3, "thirty", 6));
    T(kvidxInsert(&inst, 50, 5, 5, "fifty", 5));
    T(kvidxInsert(&inst, 60, 6, 6, "sixty!", 6));
    for (n = 0; n < 5; n++) {
        T(kvidxInsert(&inst, dead[n], 9, 9, "expired-value", 13));
    }
    CHECK_EQ_INT(kvidxSetExpire(&inst, 60, 60000), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 0, 1), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 20, 1), KVIDX_OK);          /* long past */
    CHECK_EQ_INT(kvidxSetExpire(&inst, 40, 0), KVIDX_OK);            /* expires now */
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, H63, now_ms() - 5000), KVIDX_OK); /* past */
    CHECK_EQ_INT(kvidxSetExpire(&inst, KMAX, 1), KVIDX_OK);
    sleep_ms(20);

    for (n = 0; n < 5; n++) {
        uint64_t d = dead[n];
        T(!kvidxGet(&inst, d, NULL, NULL, NULL, NULL));
        CHECK(!kvidxExists(&inst, d), "Exists(%" PRIu64 ")", d);
        T(!kvidxExistsDual(&inst, d, 9));
        CHECK_EQ_INT(kvidxGetTTL(&inst, d), KVIDX_TTL_NOT_FOUND);
        b = true;
        CHECK_EQ_INT(kvidxExistsInRange(&inst, d, d, &b), KVIDX_OK);
        T(!b);
        k = 99;
        CHECK_EQ_INT(kvidxCountRange(&inst, d, d, &k), KVIDX_OK);
        CHECK_EQ_U64(k, 0);
    }
    for (n = 0; n < 4; n++) {
        T(kvidxExists(&inst, live[n]));
    }
    T(kvidxExistsDual(&inst, 30, 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 10), KVIDX_TTL_NONE);
    CHECK_TTL(&inst, 60, 55000, 60000);

    /* navigation skips expired keys */
    T(kvidxGetNext(&inst, 10, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, 30);
    T(kvidxGetNext(&inst, 0, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, 10);
    T(kvidxGetNext(&inst, 30, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, 50);
    T(!kvidxGetNext(&inst, 60, &k, NULL, NULL, NULL, NULL));
    T(kvidxGetPrev(&inst, 30, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, 10);
    T(kvidxGetPrev(&inst, KMAX, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, 60);
    T(!kvidxGetPrev(&inst, 10, &k, NULL, NULL, NULL, NULL));
    {
        uint64_t t = 0, c = 0;
        const uint8_t *d = NULL;
        size_t l = 0;
        T(kvidxGetNext(&inst, 20, &k, &t, &c, &d, &l));
        T(k == 30 && t == 3 && c == 3 && l == 6 && d != NULL && memcmp(d, "thirty", 6) == 0);
        T(kvidxGetPrev(&inst, 50, &k, &t, &c, &d, &l));
        T(k == 30 && t == 3 && l == 6);
    }
    k = 0;
    T(kvidxMaxKey(&inst, &k));
    CHECK_EQ_U64(k, 60);
    k = 0;
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 10);

    /* iterators */
    T(iter_keys(&inst, 0, KMAX, KVIDX_ITER_FORWARD, live, 4));
    T(iter_keys(&inst, 0, KMAX, KVIDX_ITER_BACKWARD, live_rev, 4));
    T(iter_keys(&inst, 15, 25, KVIDX_ITER_FORWARD, NULL, 0));
    T(iter_keys(&inst, H63, KMAX, KVIDX_ITER_BACKWARD, NULL, 0));
    T(iter_keys(&inst, 0, 0, KVIDX_ITER_FORWARD, NULL, 0));
    {
        kvidxIterator *it = kvidxIteratorCreate(&inst, 0, KMAX, KVIDX_ITER_FORWARD);
        T(it != NULL);
        if (it != NULL) {
            T(kvidxIteratorSeek(it, 20));
            CHECK_EQ_U64(kvidxIteratorKey(it), 30);
            T(kvidxIteratorNext(it));
            CHECK_EQ_U64(kvidxIteratorKey(it), 50);
            kvidxIteratorDestroy(it);
        }
        it = kvidxIteratorCreate(&inst, 0, KMAX, KVIDX_ITER_BACKWARD);
        T(it != NULL);
        if (it != NULL) {
            T(kvidxIteratorSeek(it, 40));
            CHECK_EQ_U64(kvidxIteratorKey(it), 30);
            kvidxIteratorDestroy(it);
        }
    }

    /* counts, ranges, sizes, stats */
    k = 0;
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, KMAX, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 4);
    CHECK_EQ_INT(kvidxCountRange(&inst, 20, 40, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 1);
    CHECK_EQ_INT(kvidxCountRange(&inst, 60, KMAX, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 1);
    b = true;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 15, 25, &b), KVIDX_OK);
    T(!b);
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 61, KMAX, &b), KVIDX_OK);
    T(!b);
    b = false;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 15, 35, &b), KVIDX_OK);
    T(b);
    k = 0;
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 4);
    k = 0;
    CHECK_EQ_INT(kvidxGetDataSize(&inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 3 + 6 + 5 + 6);
    {
        kvidxStats st;
        memset(&st, 0xAB, sizeof st);
        CHECK_EQ_INT(kvidxGetStats(&inst, &st), KVIDX_OK);
        CHECK_EQ_U64(st.totalKeys, 4);
        CHECK_EQ_U64(st.minKey, 10);
        CHECK_EQ_U64(st.maxKey, 60);
        CHECK_EQ_U64(st.totalDataBytes, 20);
    }

    /* TTL calls on expired keys: NOT_FOUND */
    for (n = 0; n < 5; n++) {
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxSetExpire(&inst, dead[n], 60000), KVIDX_ERROR_NOT_FOUND);
        T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "SetExpire: "));
        CHECK_EQ_INT(kvidxSetExpireAt(&inst, dead[n], now_ms() + 60000), KVIDX_ERROR_NOT_FOUND);
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxPersist(&inst, dead[n]), KVIDX_ERROR_NOT_FOUND);
        T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "Persist: "));
        /* still expired: they were not re-armed or made permanent */
        T(!kvidxExists(&inst, dead[n]));
        CHECK_EQ_INT(kvidxGetTTL(&inst, dead[n]), KVIDX_TTL_NOT_FOUND);
    }

    /* the scan reclaims exactly the five expired entries */
    CHECK_EQ_U64(scan(&inst, 0), 5);
    CHECK_EQ_U64(scan(&inst, 0), 0);
    T(iter_keys(&inst, 0, KMAX, KVIDX_ITER_FORWARD, live, 4));
    k = 0;
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 4);
    CHECK_TTL(&inst, 60, 55000, 60000);
    T(entry_is(&inst, 60, 6, 6, "sixty!", 6));
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* E1: an expired key is absent for every write */

static void test_lazy_writes(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k, t, c;
    void *d;
    size_t l;
    bool sw;
    if (!open_db(&inst, ad, "ttl_lazyw")) {
        return;
    }
    for (k = 1; k <= 15; k++) {
        CHECK_EQ_INT(kvidxInsertEx(&inst, k, 7, 7, "old", 3, KVIDX_SET_ALWAYS), KVIDX_OK);
        CHECK_EQ_INT(kvidxSetExpire(&inst, k, 1), KVIDX_OK);
    }
    T(kvidxInsert(&inst, 100, 1, 1, "live", 4));
    sleep_ms(20);

    /* 1 GetAndRemove: NOT_FOUND, nothing returned */
    t = c = 0;
    d = (void *)1;
    l = 9;
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 1, &t, &c, &d, &l), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "GetAndRemove: "));
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    /* 2 CompareAndSwap: NOT_FOUND even though the stale bytes match */
    sw = true;
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 2, "old", 3, 8, 8, "new", 3, &sw), KVIDX_ERROR_NOT_FOUND);
    T(!sw);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "CompareAndSwap: "));
    T(!kvidxExists(&inst, 2));
    /* 3 CompareTermAndSwap: NOT_FOUND even though the stale term matches */
    sw = true;
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 3, 7, 8, 8, "new", 3, &sw), KVIDX_ERROR_NOT_FOUND);
    T(!sw);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "CompareTermAndSwap: "));
    T(!kvidxExists(&inst, 3));
    /* 4 GetValueRange */
    d = (void *)1;
    l = 9;
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetValueRange(&inst, 4, 0, 0, &d, &l), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "GetValueRange: "));
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    /* 5 SetValueRange: NOT_FOUND, not revived */
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxSetValueRange(&inst, 5, 0, "x", 1, NULL), KVIDX_ERROR_NOT_FOUND);
    T(err_is(&inst, KVIDX_ERROR_NOT_FOUND, "SetValueRange: "));
    T(!kvidxExists(&inst, 5));
    /* 6 InsertNX: succeeds, the new entry has no TTL */
    CHECK_EQ_INT(kvidxInsertNX(&inst, 6, 60, 61, "nx", 2), KVIDX_OK);
    T(entry_is(&inst, 6, 60, 61, "nx", 2));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 6), KVIDX_TTL_NONE);
    /* 7 kvidxInsert: succeeds, no TTL */
    T(kvidxInsert(&inst, 7, 70, 71, "ins", 3));
    T(entry_is(&inst, 7, 70, 71, "ins", 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 7), KVIDX_TTL_NONE);
    /* 8 InsertXX: CONDITION_FAILED, stays absent */
    CHECK_EQ_INT(kvidxInsertXX(&inst, 8, 80, 81, "xx", 2), KVIDX_ERROR_CONDITION_FAILED);
    T(!kvidxExists(&inst, 8));
    /* 9 InsertEx ALWAYS: a fresh entry without TTL */
    CHECK_EQ_INT(kvidxInsertEx(&inst, 9, 90, 91, "always", 6, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(entry_is(&inst, 9, 90, 91, "always", 6));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 9), KVIDX_TTL_NONE);
    /* 10 GetAndSet: no old entry reported, fresh entry without TTL */
    t = c = 5;
    d = (void *)1;
    l = 9;
    CHECK_EQ_INT(kvidxGetAndSet(&inst, 10, 100, 101, "gas", 3, &t, &c, &d, &l), KVIDX_OK);
    CHECK_EQ_U64(t, 0);
    CHECK_EQ_U64(c, 0);
    T(d == NULL);
    CHECK_EQ_U64(l, 0);
    T(entry_is(&inst, 10, 100, 101, "gas", 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 10), KVIDX_TTL_NONE);
    /* 11 Append: created from scratch with the given term/cmd */
    l = 0;
    CHECK_EQ_INT(kvidxAppend(&inst, 11, 110, 111, "app", 3, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 3);
    T(entry_is(&inst, 11, 110, 111, "app", 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 11), KVIDX_TTL_NONE);
    /* 12 Prepend: likewise */
    l = 0;
    CHECK_EQ_INT(kvidxPrepend(&inst, 12, 120, 121, "pre", 3, &l), KVIDX_OK);
    CHECK_EQ_U64(l, 3);
    T(entry_is(&inst, 12, 120, 121, "pre", 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 12), KVIDX_TTL_NONE);
    /* 13-15 TTL calls */
    CHECK_EQ_INT(kvidxSetExpire(&inst, 13, 60000), KVIDX_ERROR_NOT_FOUND);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 14, now_ms() + 60000), KVIDX_ERROR_NOT_FOUND);
    CHECK_EQ_INT(kvidxPersist(&inst, 15), KVIDX_ERROR_NOT_FOUND);
    for (k = 13; k <= 15; k++) {
        T(!kvidxExists(&inst, k));
        CHECK_EQ_INT(kvidxGetTTL(&inst, k), KVIDX_TTL_NOT_FOUND);
    }

    /* the re-created keys did not inherit the old expiry */
    sleep_ms(20);
    T(kvidxExists(&inst, 6) && kvidxExists(&inst, 7) && kvidxExists(&inst, 9));
    T(kvidxExists(&inst, 10) && kvidxExists(&inst, 11) && kvidxExists(&inst, 12));
    /* what is left expired: 1, 2, 3, 4, 5, 8, 13, 14, 15 */
    CHECK_EQ_U64(scan(&inst, 0), 9);
    k = 0;
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, 7);
    T(entry_is(&inst, 100, 1, 1, "live", 4));
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* E2: deletes drop the TTL, overwrites of a live key keep it */

static void test_lifecycle(const kvidxAdapterInfo *ad) {
    /* deleted by: Remove, RemoveRange, RemoveAfterNInclusive,
     * RemoveBeforeNInclusive, GetAndRemove; 6 expires and is scanned */
    static const uint64_t del_keys[] = {1, 2, 1000, 0, 5, 6};
    /* overwritten by InsertEx ALWAYS, InsertXX, GetAndSet, CAS, CTAS,
     * Append, Prepend, SetValueRange, a failed InsertNX */
    static const uint64_t ow_keys[] = {20, 21, 22, 23, 24, 25, 26, 27, 28};
    kvidxInstance inst;
    size_t n;
    uint64_t cnt = 0, t0;
    bool sw = false;
    if (!open_db(&inst, ad, "ttl_life")) {
        return;
    }
    for (n = 0; n < 6; n++) {
        T(kvidxInsert(&inst, del_keys[n], 1, 1, "del", 3));
    }
    T(kvidxInsert(&inst, 7, 1, 1, "control", 7));
    for (n = 0; n < 9; n++) {
        T(kvidxInsert(&inst, ow_keys[n], 1, 1, "abc", 3));
        T(kvidxInsert(&inst, 40 + n, 1, 1, "abc", 3));
    }
    t0 = now_ms();
    for (n = 0; n < 5; n++) {
        CHECK_EQ_INT(kvidxSetExpire(&inst, del_keys[n], 1000), KVIDX_OK);
    }
    CHECK_EQ_INT(kvidxSetExpire(&inst, 6, 1), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 7, 1000), KVIDX_OK);
    for (n = 0; n < 9; n++) {
        CHECK_EQ_INT(kvidxSetExpire(&inst, ow_keys[n], 60000), KVIDX_OK);
        CHECK_EQ_INT(kvidxSetExpire(&inst, 40 + n, 1000), KVIDX_OK);
    }

    /* the deletes */
    T(kvidxRemove(&inst, 1));
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 2, 2, true, true, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 1);
    T(kvidxRemoveAfterNInclusive(&inst, 1000));
    T(kvidxRemoveBeforeNInclusive(&inst, 0));
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 5, NULL, NULL, NULL, NULL), KVIDX_OK);
    for (n = 0; n < 5; n++) {
        T(!kvidxExists(&inst, del_keys[n]));
        CHECK_EQ_INT(kvidxGetTTL(&inst, del_keys[n]), KVIDX_TTL_NOT_FOUND);
    }

    /* the overwrites, twice: keys 20.. (60 s) and 40.. (1 s) */
    for (n = 0; n < 2; n++) {
        uint64_t b = n == 0 ? 20 : 40;
        CHECK_EQ_INT(kvidxInsertEx(&inst, b + 0, 2, 2, "ALWAYS", 6, KVIDX_SET_ALWAYS), KVIDX_OK);
        CHECK_EQ_INT(kvidxInsertXX(&inst, b + 1, 2, 2, "XX", 2), KVIDX_OK);
        CHECK_EQ_INT(kvidxGetAndSet(&inst, b + 2, 2, 2, "GAS", 3, NULL, NULL, NULL, NULL), KVIDX_OK);
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, b + 3, "abc", 3, 2, 2, "CAS", 3, &sw), KVIDX_OK);
        T(sw);
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, b + 4, 1, 2, 2, "CTAS", 4, &sw), KVIDX_OK);
        T(sw);
        CHECK_EQ_INT(kvidxAppend(&inst, b + 5, 2, 2, "+", 1, NULL), KVIDX_OK);
        CHECK_EQ_INT(kvidxPrepend(&inst, b + 6, 2, 2, "+", 1, NULL), KVIDX_OK);
        CHECK_EQ_INT(kvidxSetValueRange(&inst, b + 7, 1, "BC", 2, NULL), KVIDX_OK);
        CHECK_EQ_INT(kvidxInsertNX(&inst, b + 8, 2, 2, "NX", 2), KVIDX_ERROR_CONDITION_FAILED);
    }
    for (n = 0; n < 9; n++) {
        CHECK_TTL(&inst, ow_keys[n], 55000, 60000);
        CHECK_TTL(&inst, 40 + n, 1, 1000);
    }
    T(entry_is(&inst, 20, 2, 2, "ALWAYS", 6));
    T(entry_is(&inst, 25, 1, 1, "abc+", 4));
    T(entry_is(&inst, 26, 1, 1, "+abc", 4));
    T(entry_is(&inst, 27, 1, 1, "aBC", 3));
    T(entry_is(&inst, 28, 1, 1, "abc", 3));

    /* 6 expires; the scan removes just it (no orphans of the deletes) */
    sleep_ms(20);
    T(!kvidxExists(&inst, 6));
    CHECK_EQ_U64(scan(&inst, 0), 1);

    /* re-insert every deleted key: none has a TTL */
    for (n = 0; n < 6; n++) {
        T(kvidxInsert(&inst, del_keys[n], 2, 2, "re", 2));
        CHECK_EQ_INT(kvidxGetTTL(&inst, del_keys[n]), KVIDX_TTL_NONE);
    }

    /* once the 1 s expiries have passed: the re-inserted keys are alive,
     * the control key and the overwritten 1 s keys are gone */
    {
        uint64_t el = now_ms() - t0;
        sleep_ms(el < 1200 ? (unsigned)(1200 - el) : 0);
    }
    for (n = 0; n < 6; n++) {
        CHECK(kvidxExists(&inst, del_keys[n]), "re-inserted key %" PRIu64 " expired",
              del_keys[n]);
        CHECK_EQ_INT(kvidxGetTTL(&inst, del_keys[n]), KVIDX_TTL_NONE);
    }
    T(!kvidxExists(&inst, 7));
    for (n = 0; n < 9; n++) {
        CHECK(!kvidxExists(&inst, 40 + n), "overwritten key %zu lost its TTL", 40 + n);
        T(kvidxExists(&inst, ow_keys[n]));
    }
    /* control + 9 overwritten keys; the deletes left nothing to count */
    CHECK_EQ_U64(scan(&inst, 0), 10);
    CHECK_EQ_U64(scan(&inst, 0), 0);

    /* ExpireScan itself drops the TTL: re-insert of a scanned key (6 was
     * re-inserted above; 7 and 40.. were just scanned) */
    T(kvidxInsert(&inst, 40, 3, 3, "back", 4));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 40), KVIDX_TTL_NONE);
    T(kvidxInsert(&inst, 7, 3, 3, "back", 4));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 7), KVIDX_TTL_NONE);

    /* RemoveRange over several keys with TTLs, exclusive bounds */
    for (n = 0; n < 5; n++) {
        T(kvidxInsert(&inst, 500 + n, 1, 1, "r", 1));
        CHECK_EQ_INT(kvidxSetExpire(&inst, 500 + n, 60000), KVIDX_OK);
    }
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 500, 504, false, false, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 3);
    CHECK_TTL(&inst, 500, 55000, 60000);
    CHECK_TTL(&inst, 504, 55000, 60000);
    for (n = 1; n < 4; n++) {
        T(kvidxInsert(&inst, 500 + n, 1, 1, "r", 1));
        CHECK_EQ_INT(kvidxGetTTL(&inst, 500 + n), KVIDX_TTL_NONE);
    }
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* E3: saturating arithmetic */

static void test_saturation(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k;
    if (!open_db(&inst, ad, "ttl_sat")) {
        return;
    }
    for (k = 1; k <= 6; k++) {
        T(kvidxInsert(&inst, k, k, k, "forever", 7));
    }
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, UINT64_MAX), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 2, UINT64_MAX), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 3, H63), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 4, (uint64_t)INT64_MAX), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 5, UINT64_MAX - now_ms() + 1000), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 6, (uint64_t)INT64_MAX), KVIDX_OK);
    for (k = 1; k <= 6; k++) {
        CHECK(kvidxExists(&inst, k), "key %" PRIu64 " expired", k);
        CHECK_TTL(&inst, k, HUGE_TTL, INT64_MAX);
    }
    CHECK_EQ_U64(scan(&inst, 0), 0);
    T(kvidxClose(&inst));
    if (!reopen_db(&inst, ad, "ttl_sat")) {
        return;
    }
    for (k = 1; k <= 6; k++) {
        CHECK(kvidxExists(&inst, k), "key %" PRIu64 " expired after reopen", k);
        CHECK_TTL(&inst, k, HUGE_TTL, INT64_MAX);
        T(entry_is(&inst, k, k, k, "forever", 7));
    }
    CHECK_EQ_U64(scan(&inst, 0), 0);
    /* a huge expiry can still be replaced and removed */
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 60000), KVIDX_OK);
    CHECK_TTL(&inst, 1, 55000, 60000);
    CHECK_EQ_INT(kvidxPersist(&inst, 2), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 2), KVIDX_TTL_NONE);
    /* the opposite end: a timestamp of 0 or 1 is long past */
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 3, 0), KVIDX_OK);
    T(!kvidxExists(&inst, 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 3), KVIDX_TTL_NOT_FOUND);
    CHECK_EQ_U64(scan(&inst, 0), 1);
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* TTL and transactions: Abort leaves no trace, no deadlock */

static void test_transactions(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k;
    if (!open_db(&inst, ad, "ttl_txn")) {
        return;
    }
    /* the very first TTL operation on this database is rolled back: TTL
     * still works afterwards (upstream D1) */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 1, 1, 1, "one", 3));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 60000), KVIDX_OK);
    CHECK_TTL(&inst, 1, 55000, 60000);
    T(kvidxAbort(&inst));
    T(!kvidxExists(&inst, 1));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NOT_FOUND);
    T(kvidxInsert(&inst, 1, 1, 1, "one", 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NONE);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 60000), KVIDX_OK);
    CHECK_TTL(&inst, 1, 55000, 60000);
    CHECK_EQ_INT(kvidxPersist(&inst, 1), KVIDX_OK);

    T(kvidxInsert(&inst, 2, 2, 2, "two", 3));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 2, 60000), KVIDX_OK);
    T(kvidxInsert(&inst, 3, 3, 3, "three", 5));

    /* SetExpire inside, Abort: no TTL */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 30000), KVIDX_OK);
    CHECK_TTL(&inst, 1, 25000, 30000);
    T(kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NONE);
    /* a 1 ms expiry inside, Abort: the key never expires */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 1, 1), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 3, now_ms() + 1), KVIDX_OK);
    T(kvidxAbort(&inst));
    sleep_ms(20);
    T(kvidxExists(&inst, 1));
    T(kvidxExists(&inst, 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NONE);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 3), KVIDX_TTL_NONE);
    /* Persist inside, Abort: the TTL is back */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxPersist(&inst, 2), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 2), KVIDX_TTL_NONE);
    T(kvidxAbort(&inst));
    CHECK_TTL(&inst, 2, 55000, 60000);
    /* a replaced expiry inside, Abort: the old one is back */
    T(kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 2, 1000000), KVIDX_OK);
    CHECK_TTL(&inst, 2, 995000, 1000000);
    T(kvidxAbort(&inst));
    CHECK_TTL(&inst, 2, 55000, 60000);
    /* a delete inside drops the TTL; Abort brings both back */
    T(kvidxBegin(&inst));
    T(kvidxRemove(&inst, 2));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 2), KVIDX_TTL_NOT_FOUND);
    T(kvidxInsert(&inst, 2, 9, 9, "new", 3));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 2), KVIDX_TTL_NONE);
    T(kvidxAbort(&inst));
    T(entry_is(&inst, 2, 2, 2, "two", 3));
    CHECK_TTL(&inst, 2, 55000, 60000);

    /* committed TTL work inside a transaction sticks */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 4, 4, 4, "four", 4));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 4, 60000), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpireAt(&inst, 3, now_ms() + 30000), KVIDX_OK);
    CHECK_EQ_INT(kvidxPersist(&inst, 2), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&inst, 99, 1), KVIDX_ERROR_NOT_FOUND);
    T(inst.transactionActive);
    T(kvidxCommit(&inst));
    CHECK_TTL(&inst, 4, 55000, 60000);
    CHECK_TTL(&inst, 3, 25000, 30000);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 2), KVIDX_TTL_NONE);

    /* ExpireScan inside a transaction, Abort: the expired entries are
     * there to be scanned again (and still invisible) */
    for (k = 10; k < 15; k++) {
        T(kvidxInsert(&inst, k, 1, 1, "e", 1));
        CHECK_EQ_INT(kvidxSetExpire(&inst, k, 1), KVIDX_OK);
    }
    sleep_ms(20);
    T(kvidxBegin(&inst));
    CHECK_EQ_U64(scan(&inst, 2), 2);
    CHECK_EQ_U64(scan(&inst, 0), 3);
    T(kvidxAbort(&inst));
    for (k = 10; k < 15; k++) {
        T(!kvidxExists(&inst, k));
    }
    CHECK_EQ_U64(scan(&inst, 0), 5);
    CHECK_EQ_U64(scan(&inst, 0), 0);

    /* ExpireScan committed inside a transaction */
    T(kvidxInsert(&inst, 20, 1, 1, "e", 1));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 20, 1), KVIDX_OK);
    sleep_ms(20);
    T(kvidxBegin(&inst));
    CHECK_EQ_U64(scan(&inst, 0), 1);
    T(kvidxCommit(&inst));
    CHECK_EQ_U64(scan(&inst, 0), 0);

    /* an expiry that passes while a transaction is open */
    T(kvidxBegin(&inst));
    T(kvidxInsert(&inst, 30, 1, 1, "short", 5));
    CHECK_EQ_INT(kvidxSetExpire(&inst, 30, 1), KVIDX_OK);
    sleep_ms(20);
    T(!kvidxExists(&inst, 30));
    CHECK_EQ_INT(kvidxInsertNX(&inst, 30, 2, 2, "again", 5), KVIDX_OK);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 30), KVIDX_TTL_NONE);
    T(kvidxCommit(&inst));
    T(entry_is(&inst, 30, 2, 2, "again", 5));
    CHECK_EQ_INT(kvidxGetTTL(&inst, 30), KVIDX_TTL_NONE);
    T(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* TTLs survive close/reopen; every database has its own TTLs */

static void test_reopen(const kvidxAdapterInfo *ad) {
    kvidxInstance a, b;
    if (!open_db(&a, ad, "ttl_reopen")) {
        return;
    }
    T(kvidxInsert(&a, 1, 1, 1, "a", 1));
    T(kvidxInsert(&a, 2, 1, 1, "b", 1));
    T(kvidxInsert(&a, 3, 1, 1, "c", 1));
    T(kvidxInsert(&a, 4, 1, 1, "d", 1));
    T(kvidxInsert(&a, H63, 1, 1, "e", 1));
    T(kvidxInsert(&a, KMAX, 1, 1, "f", 1));
    CHECK_EQ_INT(kvidxSetExpire(&a, 1, 60000), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpireAt(&a, 2, now_ms() + 30000), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&a, 3, 1), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&a, H63, 45000), KVIDX_OK);
    CHECK_EQ_INT(kvidxSetExpire(&a, KMAX, 1), KVIDX_OK);

    /* a second database open at the same time has TTLs of its own */
    if (open_db(&b, ad, "ttl_reopen2")) {
        T(kvidxInsert(&b, 1, 1, 1, "x", 1));
        T(kvidxInsert(&b, 3, 1, 1, "x", 1));
        CHECK_EQ_INT(kvidxGetTTL(&b, 1), KVIDX_TTL_NONE);
        CHECK_EQ_INT(kvidxSetExpire(&b, 1, 20000), KVIDX_OK);
        CHECK_TTL(&b, 1, 15000, 20000);
        CHECK_EQ_INT(kvidxPersist(&b, 3), KVIDX_OK);
        CHECK_EQ_INT(kvidxGetTTL(&b, 2), KVIDX_TTL_NOT_FOUND);
        CHECK_TTL(&a, 1, 55000, 60000);
        T(kvidxClose(&b));
    }
    T(kvidxClose(&a));
    sleep_ms(20);

    if (!reopen_db(&a, ad, "ttl_reopen")) {
        return;
    }
    CHECK_TTL(&a, 1, 55000, 60000);
    CHECK_TTL(&a, 2, 25000, 30000);
    CHECK_TTL(&a, H63, 40000, 45000);
    T(!kvidxExists(&a, 3));
    CHECK_EQ_INT(kvidxGetTTL(&a, 3), KVIDX_TTL_NOT_FOUND);
    T(!kvidxExists(&a, KMAX));
    CHECK_EQ_INT(kvidxGetTTL(&a, 4), KVIDX_TTL_NONE);
    CHECK_EQ_U64(scan(&a, 0), 2);
    T(kvidxClose(&a));

    if (reopen_db(&a, ad, "ttl_reopen")) {
        uint64_t n = 0;
        CHECK_EQ_U64(scan(&a, 0), 0);
        CHECK_EQ_INT(kvidxGetKeyCount(&a, &n), KVIDX_OK);
        CHECK_EQ_U64(n, 4);
        T(kvidxClose(&a));
    }
    if (reopen_db(&b, ad, "ttl_reopen2")) {
        CHECK_TTL(&b, 1, 15000, 20000);
        CHECK_EQ_INT(kvidxGetTTL(&b, 3), KVIDX_TTL_NONE);
        T(kvidxClose(&b));
    }
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
        test_basic(ad);
        test_lazy_reads(ad);
        test_lazy_writes(ad);
        test_lifecycle(ad);
        test_saturation(ad);
        test_transactions(ad);
        test_reopen(ad);
    }
    return check_report();
}
