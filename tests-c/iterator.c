/* iterator.c: kvidxIterator* (core.md §3.3.24 as amended by decision B3),
 * on every registered engine. Unsigned key order everywhere (B1). */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"

#include <stdbool.h>
#include <stdint.h>

/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")

#define MAXK UINT64_MAX
#define H ((uint64_t)1 << 63)

static const char *scratch = ".";
static const kvidxAdapterInfo *ad = NULL;
static unsigned db_counter = 0;

static bool open_db(kvidxInstance *inst, const char *name) {
    char path[4096];
    const char *err = NULL;
    bool ok;
    snprintf(path, sizeof path, "%s/%s_%u%s", scratch, name, db_counter++, ad->pathSuffix);
    memset(inst, 0, sizeof *inst);
    inst->interface = *ad->iface;
    ok = kvidxOpen(inst, path, &err);
    CHECK(ok, "open %s: %s", path, err ? err : "(null)");
    return ok;
}

static uint64_t term_of(uint64_t k) { return k ^ 0x5555555555555555ULL; }
static uint64_t cmd_of(uint64_t k) { return ~k; }
static size_t val_of(uint64_t k, char *buf, size_t cap) {
    return (size_t)snprintf(buf, cap, "v%" PRIu64, k);
}

static bool put(kvidxInstance *inst, uint64_t k) {
    char v[32];
    size_t n = val_of(k, v, sizeof v);
    return kvidxInsert(inst, k, term_of(k), cmd_of(k), v, n);
}

/* The iterator is positioned on key k with the standard value. */
static void check_at(kvidxIterator *it, uint64_t k) {
    uint64_t key = 0, term = 0, cmd = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    char v[32];
    size_t n = val_of(k, v, sizeof v);
    CK(kvidxIteratorValid(it));
    CHECK_EQ_U64(kvidxIteratorKey(it), k);
    CK(kvidxIteratorGet(it, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, k);
    CHECK_EQ_U64(term, term_of(k));
    CHECK_EQ_U64(cmd, cmd_of(k));
    CHECK_EQ_U64(len, n);
    CHECK(data != NULL && len == n && memcmp(data, v, n) == 0, "value of key %" PRIu64, k);
}

/* Iterates to the end, expecting exactly keys[0..n) (standard values). */
static void expect_seq(kvidxIterator *it, const uint64_t *keys, size_t n, const char *what) {
    size_t got = 0;
    bool order_ok = true;
    while (kvidxIteratorNext(it)) {
        uint64_t k = kvidxIteratorKey(it);
        if (got < n && k == keys[got]) {
            check_at(it, k);
        } else {
            order_ok = false;
            fprintf(stderr, "  %s: position %zu got key %" PRIu64 "\n", what, got, k);
        }
        got++;
        if (got > n + 5) break; /* runaway iteration */
    }
    CHECK(order_ok, "%s: wrong keys", what);
    CHECK(got == n, "%s: %zu entries, expected %zu", what, got, n);
    CHECK(!kvidxIteratorValid(it), "%s: valid after the end", what);
    CHECK(!kvidxIteratorNext(it), "%s: Next after the end", what);
    CHECK(!kvidxIteratorNext(it), "%s: Next after the end (2)", what);
    CHECK_EQ_U64(kvidxIteratorKey(it), 0);
    CHECK(!kvidxIteratorGet(it, NULL, NULL, NULL, NULL, NULL), "%s: Get after the end", what);
}

/* keys in unsigned order */
static const uint64_t KEYS[] = {0, 1, 2, 1000, H - 2, H - 1, H, H + 1, H + 7, MAXK - 2, MAXK - 1, MAXK};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static void fill(kvidxInstance *inst) {
    /* insert in a scrambled order */
    static const size_t order[NKEYS] = {6, 11, 0, 3, 9, 1, 7, 10, 4, 2, 8, 5};
    for (size_t j = 0; j < NKEYS; j++) {
        CHECK(put(inst, KEYS[order[j]]), "insert %" PRIu64, KEYS[order[j]]);
    }
}

static void test_full_and_subranges(void) {
    kvidxInstance inst;
    kvidxIterator *it;
    uint64_t rev[NKEYS];
    if (!open_db(&inst, "iter_ranges")) return;
    fill(&inst);
    for (size_t j = 0; j < NKEYS; j++) rev[j] = KEYS[NKEYS - 1 - j];

    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(it != NULL);
    /* not positioned before the first Next */
    CK(!kvidxIteratorValid(it));
    CHECK_EQ_U64(kvidxIteratorKey(it), 0);
    CK(!kvidxIteratorGet(it, NULL, NULL, NULL, NULL, NULL));
    expect_seq(it, KEYS, NKEYS, "forward [0,MAX]");
    kvidxIteratorDestroy(it);

    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    CK(it != NULL);
    expect_seq(it, rev, NKEYS, "backward [0,MAX]");
    kvidxIteratorDestroy(it);

    /* any direction other than FORWARD is backward */
    it = kvidxIteratorCreate(&inst, 0, MAXK, (kvidxIterDirection)7);
    CK(it != NULL);
    expect_seq(it, rev, NKEYS, "direction 7");
    kvidxIteratorDestroy(it);
    it = kvidxIteratorCreate(&inst, 0, MAXK, (kvidxIterDirection)-1);
    CK(it != NULL);
    expect_seq(it, rev, NKEYS, "direction -1");
    kvidxIteratorDestroy(it);

    /* ranges crossing the signed boundary */
    {
        static const uint64_t e[] = {H - 1, H};
        it = kvidxIteratorCreate(&inst, H - 1, H, KVIDX_ITER_FORWARD);
        expect_seq(it, e, 2, "forward [2^63-1, 2^63]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {H, H - 1};
        it = kvidxIteratorCreate(&inst, H - 1, H, KVIDX_ITER_BACKWARD);
        expect_seq(it, e, 2, "backward [2^63-1, 2^63]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {1000, H - 2, H - 1, H, H + 1, H + 7};
        it = kvidxIteratorCreate(&inst, 3, H + 100, KVIDX_ITER_FORWARD);
        expect_seq(it, e, 6, "forward [3, 2^63+100]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {H + 7, H + 1, H, H - 1, H - 2, 1000};
        it = kvidxIteratorCreate(&inst, 3, H + 100, KVIDX_ITER_BACKWARD);
        expect_seq(it, e, 6, "backward [3, 2^63+100]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {1, 2, 1000, H - 2, H - 1, H, H + 1, H + 7, MAXK - 2, MAXK - 1};
        it = kvidxIteratorCreate(&inst, 1, MAXK - 1, KVIDX_ITER_FORWARD);
        expect_seq(it, e, 10, "forward [1, MAX-1]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {MAXK - 1, MAXK - 2, H + 7, H + 1, H, H - 1, H - 2, 1000, 2, 1};
        it = kvidxIteratorCreate(&inst, 1, MAXK - 1, KVIDX_ITER_BACKWARD);
        expect_seq(it, e, 10, "backward [1, MAX-1]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {H, H + 1, H + 7, MAXK - 2, MAXK - 1, MAXK};
        it = kvidxIteratorCreate(&inst, H, MAXK, KVIDX_ITER_FORWARD);
        expect_seq(it, e, 6, "forward [2^63, MAX]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {MAXK, MAXK - 1, MAXK - 2, H + 7, H + 1, H};
        it = kvidxIteratorCreate(&inst, H, MAXK, KVIDX_ITER_BACKWARD);
        expect_seq(it, e, 6, "backward [2^63, MAX]");
        kvidxIteratorDestroy(it);
    }
    {
        static const uint64_t e[] = {0, 1, 2, 1000, H - 2, H - 1};
        it = kvidxIteratorCreate(&inst, 0, H - 1, KVIDX_ITER_FORWARD);
        expect_seq(it, e, 6, "forward [0, 2^63-1]");
        kvidxIteratorDestroy(it);
        it = kvidxIteratorCreate(&inst, 0, H - 1, KVIDX_ITER_BACKWARD);
        {
            static const uint64_t r[] = {H - 1, H - 2, 1000, 2, 1, 0};
            expect_seq(it, r, 6, "backward [0, 2^63-1]");
        }
        kvidxIteratorDestroy(it);
    }
    /* single-key ranges at the extremes */
    {
        static const uint64_t z[] = {0}, m[] = {MAXK}, h[] = {H};
        static const kvidxIterDirection dirs[] = {KVIDX_ITER_FORWARD, KVIDX_ITER_BACKWARD};
        for (int d = 0; d < 2; d++) {
            it = kvidxIteratorCreate(&inst, 0, 0, dirs[d]);
            expect_seq(it, z, 1, d ? "backward [0,0]" : "forward [0,0]");
            kvidxIteratorDestroy(it);
            it = kvidxIteratorCreate(&inst, MAXK, MAXK, dirs[d]);
            expect_seq(it, m, 1, d ? "backward [MAX,MAX]" : "forward [MAX,MAX]");
            kvidxIteratorDestroy(it);
            it = kvidxIteratorCreate(&inst, H, H, dirs[d]);
            expect_seq(it, h, 1, d ? "backward [H,H]" : "forward [H,H]");
            kvidxIteratorDestroy(it);
            /* ranges containing no key */
            it = kvidxIteratorCreate(&inst, 3, 999, dirs[d]);
            expect_seq(it, NULL, 0, "empty [3,999]");
            kvidxIteratorDestroy(it);
            it = kvidxIteratorCreate(&inst, H + 8, MAXK - 3, dirs[d]);
            expect_seq(it, NULL, 0, "empty [H+8,MAX-3]");
            kvidxIteratorDestroy(it);
            it = kvidxIteratorCreate(&inst, 5, 5, dirs[d]);
            expect_seq(it, NULL, 0, "empty [5,5]");
            kvidxIteratorDestroy(it);
        }
    }

    /* invalid ranges and NULL instance */
    kvidxClearError(&inst);
    CK(kvidxIteratorCreate(&inst, 10, 5, KVIDX_ITER_FORWARD) == NULL);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_RANGE);
    kvidxClearError(&inst);
    CK(kvidxIteratorCreate(&inst, MAXK, 0, KVIDX_ITER_BACKWARD) == NULL);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_RANGE);
    kvidxClearError(&inst);
    CK(kvidxIteratorCreate(&inst, H, H - 1, KVIDX_ITER_FORWARD) == NULL);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_RANGE);
    CK(kvidxIteratorCreate(NULL, 0, MAXK, KVIDX_ITER_FORWARD) == NULL);
    CK(kvidxIteratorCreate(NULL, 0, MAXK, KVIDX_ITER_BACKWARD) == NULL);

    CK(kvidxClose(&inst));
}

static void test_empty_and_null(void) {
    kvidxInstance inst;
    kvidxIterator *it;
    uint64_t key = 77, term = 77, cmd = 77;
    const uint8_t *data = (const uint8_t *)"x";
    size_t len = 77;

    /* NULL iterator */
    CK(!kvidxIteratorNext(NULL));
    CK(!kvidxIteratorValid(NULL));
    CHECK_EQ_U64(kvidxIteratorKey(NULL), 0);
    CK(!kvidxIteratorSeek(NULL, 0));
    CK(!kvidxIteratorSeek(NULL, MAXK));
    CK(!kvidxIteratorGet(NULL, &key, &term, &cmd, &data, &len));
    CHECK_EQ_U64(key, 77);
    kvidxIteratorDestroy(NULL);
    CK(true); /* survived Destroy(NULL) */

    if (!open_db(&inst, "iter_empty")) return;
    for (int d = 0; d < 2; d++) {
        it = kvidxIteratorCreate(&inst, 0, MAXK, d ? KVIDX_ITER_BACKWARD : KVIDX_ITER_FORWARD);
        CK(it != NULL);
        CK(!kvidxIteratorNext(it));
        CK(!kvidxIteratorValid(it));
        CHECK_EQ_U64(kvidxIteratorKey(it), 0);
        CK(!kvidxIteratorGet(it, &key, &term, &cmd, &data, &len));
        CHECK_EQ_U64(key, 77);
        CHECK_EQ_U64(term, 77);
        CHECK_EQ_U64(len, 77);
        CK(!kvidxIteratorSeek(it, 0));
        CK(!kvidxIteratorSeek(it, MAXK));
        CK(!kvidxIteratorSeek(it, H));
        CK(!kvidxIteratorValid(it));
        CK(!kvidxIteratorNext(it));
        kvidxIteratorDestroy(it);
    }
    /* a key inserted after creation is seen */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(put(&inst, 42));
    {
        static const uint64_t e[] = {42};
        expect_seq(it, e, 1, "single key 42");
    }
    kvidxIteratorDestroy(it);
    CK(kvidxClose(&inst));
}

static void test_seek(void) {
    kvidxInstance inst;
    kvidxIterator *it;
    if (!open_db(&inst, "iter_seek")) return;
    /* keys 10..50 step 10, plus some high keys; neither 0 nor MAX present */
    {
        static const uint64_t ks[] = {10, 20, 30, 40, 50, H, H + 10, MAXK - 10};
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) CK(put(&inst, ks[j]));
    }

    /* forward */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(kvidxIteratorSeek(it, 0)); /* 0 absent: smallest key, no wrap-around */
    check_at(it, 10);
    CK(kvidxIteratorSeek(it, 30));
    check_at(it, 30);
    CK(kvidxIteratorNext(it));
    check_at(it, 40);
    CK(kvidxIteratorSeek(it, 25));
    check_at(it, 30);
    CK(kvidxIteratorSeek(it, 51)); /* crosses into the high half */
    check_at(it, H);
    CK(kvidxIteratorSeek(it, H - 1));
    check_at(it, H);
    CK(kvidxIteratorSeek(it, H + 1));
    check_at(it, H + 10);
    CK(kvidxIteratorNext(it));
    check_at(it, MAXK - 10);
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorValid(it));
    /* Seek revives an exhausted iterator */
    CK(kvidxIteratorSeek(it, 5));
    check_at(it, 10);
    CK(kvidxIteratorNext(it));
    check_at(it, 20);
    /* nothing at or after MAX-9: false, invalid, stays exhausted */
    CK(!kvidxIteratorSeek(it, MAXK - 9));
    CK(!kvidxIteratorValid(it));
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorSeek(it, MAXK));
    CK(!kvidxIteratorValid(it));
    CK(kvidxIteratorSeek(it, MAXK - 10));
    check_at(it, MAXK - 10);
    kvidxIteratorDestroy(it);

    /* backward */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    CK(kvidxIteratorSeek(it, MAXK)); /* MAX absent: largest key, no wrap-around */
    check_at(it, MAXK - 10);
    CK(kvidxIteratorSeek(it, 25));
    check_at(it, 20);
    CK(kvidxIteratorNext(it));
    check_at(it, 10);
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorValid(it));
    CK(kvidxIteratorSeek(it, H + 5)); /* between H and H+10 */
    check_at(it, H);
    CK(kvidxIteratorNext(it));
    check_at(it, 50);
    CK(kvidxIteratorSeek(it, H - 1)); /* crosses down into the low half */
    check_at(it, 50);
    CK(kvidxIteratorSeek(it, 40));
    check_at(it, 40);
    CK(!kvidxIteratorSeek(it, 9)); /* nothing at or below 9 */
    CK(!kvidxIteratorValid(it));
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorSeek(it, 0));
    CK(!kvidxIteratorValid(it));
    CK(kvidxIteratorSeek(it, 10));
    check_at(it, 10);
    kvidxIteratorDestroy(it);

    /* Seek outside [start, end]: false, invalid, exhausted until a good Seek */
    for (int d = 0; d < 2; d++) {
        kvidxIterDirection dir = d ? KVIDX_ITER_BACKWARD : KVIDX_ITER_FORWARD;
        /* on a fresh (not yet started) iterator */
        it = kvidxIteratorCreate(&inst, 20, 40, dir);
        CK(!kvidxIteratorSeek(it, 100));
        CK(!kvidxIteratorValid(it));
        CK(!kvidxIteratorNext(it)); /* does not restart from the range start */
        CK(!kvidxIteratorValid(it));
        CK(!kvidxIteratorNext(it));
        CK(!kvidxIteratorSeek(it, 10));
        CK(!kvidxIteratorNext(it));
        CK(!kvidxIteratorSeek(it, 0));
        CK(!kvidxIteratorSeek(it, MAXK));
        CK(!kvidxIteratorNext(it));
        CK(kvidxIteratorSeek(it, 30));
        check_at(it, 30);
        CK(kvidxIteratorNext(it));
        check_at(it, d ? 20 : 40);
        CK(!kvidxIteratorNext(it));
        kvidxIteratorDestroy(it);

        /* on a started iterator */
        it = kvidxIteratorCreate(&inst, 20, 40, dir);
        CK(kvidxIteratorNext(it));
        check_at(it, d ? 40 : 20);
        CK(!kvidxIteratorSeek(it, 41));
        CK(!kvidxIteratorValid(it));
        CHECK_EQ_U64(kvidxIteratorKey(it), 0);
        CK(!kvidxIteratorGet(it, NULL, NULL, NULL, NULL, NULL));
        CK(!kvidxIteratorNext(it));
        CK(!kvidxIteratorSeek(it, 19));
        CK(!kvidxIteratorNext(it));
        /* in range but no key further in the direction within the range */
        CK(kvidxIteratorSeek(it, d ? 25 : 35));
        check_at(it, d ? 20 : 40);
        CK(!kvidxIteratorNext(it));
        CK(!kvidxIteratorSeek(it, d ? 15 : 45)); /* out of range */
        CK(!kvidxIteratorNext(it));
        kvidxIteratorDestroy(it);

        /* range where the seek target is in range but the next key is beyond end */
        it = kvidxIteratorCreate(&inst, 21, 39, dir);
        CK(!kvidxIteratorSeek(it, d ? 29 : 31));
        CK(!kvidxIteratorValid(it));
        CK(!kvidxIteratorNext(it));
        CK(kvidxIteratorSeek(it, d ? 35 : 25));
        check_at(it, 30);
        kvidxIteratorDestroy(it);
    }

    /* 0 and MAX present: exact seeks at the extremes */
    CK(put(&inst, 0));
    CK(put(&inst, MAXK));
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(kvidxIteratorSeek(it, 0));
    check_at(it, 0);
    CK(kvidxIteratorNext(it));
    check_at(it, 10);
    CK(kvidxIteratorSeek(it, MAXK));
    check_at(it, MAXK);
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorNext(it));
    CK(kvidxIteratorSeek(it, MAXK - 5));
    check_at(it, MAXK);
    kvidxIteratorDestroy(it);
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    CK(kvidxIteratorSeek(it, MAXK));
    check_at(it, MAXK);
    CK(kvidxIteratorNext(it));
    check_at(it, MAXK - 10);
    CK(kvidxIteratorSeek(it, 0));
    check_at(it, 0);
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorNext(it));
    CK(kvidxIteratorSeek(it, 5));
    check_at(it, 0);
    kvidxIteratorDestroy(it);

    CK(kvidxClose(&inst));
}

static void test_ownership(void) {
    kvidxInstance inst;
    kvidxIterator *a, *b, *c;
    const uint8_t *pa = NULL, *pa2 = NULL, *pb = NULL;
    size_t la = 0, lb = 0, la2 = 0;
    uint64_t ka = 0;
    static const char big[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    char buf[256];

    if (!open_db(&inst, "iter_owner")) return;
    CK(kvidxInsert(&inst, 1, 11, 111, "AAAA", 4));
    CK(kvidxInsert(&inst, 2, 22, 222, "BBBB", 4));
    CK(kvidxInsert(&inst, 3, 33, 333, "CCCCCC", 6));
    CK(kvidxInsert(&inst, 4, 44, 444, big, sizeof big - 1));
    CK(kvidxInsert(&inst, H, 55, 555, "", 0));       /* empty value (X'') */
    CK(kvidxInsert(&inst, MAXK, 66, 666, NULL, 0));  /* empty value (NULL) */

    a = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    b = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    c = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    CK(a != NULL && b != NULL && c != NULL);

    CK(kvidxIteratorNext(a));
    CK(kvidxIteratorGet(a, &ka, NULL, NULL, &pa, &la));
    CHECK_EQ_U64(ka, 1);
    CHECK(pa != NULL && la == 4 && memcmp(pa, "AAAA", 4) == 0, "A at key 1");

    /* another iterator on the same instance moves */
    CK(kvidxIteratorNext(b));
    CK(kvidxIteratorNext(b));
    CK(kvidxIteratorGet(b, NULL, NULL, NULL, &pb, &lb));
    CHECK(pb != NULL && lb == 4 && memcmp(pb, "BBBB", 4) == 0, "B at key 2");
    CK(kvidxIteratorNext(c));
    CK(kvidxIteratorNext(c));
    CK(kvidxIteratorNext(c));
    CHECK_EQ_U64(kvidxIteratorKey(c), 4);
    CHECK(memcmp(pa, "AAAA", 4) == 0, "A's data changed after other iterators moved");
    CHECK(memcmp(pb, "BBBB", 4) == 0, "B's data changed after C moved");

    /* plain reads on the instance */
    {
        const uint8_t *gd = NULL;
        size_t gl = 0;
        CK(kvidxGet(&inst, 3, NULL, NULL, &gd, &gl));
        CHECK(gd != NULL && gl == 6 && memcmp(gd, "CCCCCC", 6) == 0, "Get 3");
        CK(kvidxGet(&inst, 4, NULL, NULL, &gd, &gl));
        CK(kvidxGetNext(&inst, 2, NULL, NULL, NULL, &gd, &gl));
        CK(kvidxGetPrev(&inst, 4, NULL, NULL, NULL, &gd, &gl));
        CK(kvidxExists(&inst, 2));
    }
    CHECK(memcmp(pa, "AAAA", 4) == 0, "A's data changed after Get/GetNext/GetPrev");
    CHECK(memcmp(pb, "BBBB", 4) == 0, "B's data changed after Get/GetNext/GetPrev");

    /* writes on the instance, including removing the current entries */
    CK(kvidxInsert(&inst, 5, 0, 0, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", 32));
    CK(kvidxRemove(&inst, 1));
    CK(kvidxRemove(&inst, 2));
    CK(kvidxInsert(&inst, 1, 0, 0, "XXXX", 4)); /* key 1 again with other data */
    CHECK(memcmp(pa, "AAAA", 4) == 0, "A's data changed after Insert/Remove");
    CHECK(memcmp(pb, "BBBB", 4) == 0, "B's data changed after Insert/Remove");
    /* a transaction begun and aborted */
    CK(kvidxBegin(&inst));
    CK(kvidxInsert(&inst, 6, 0, 0, "YYYY", 4));
    CK(kvidxAbort(&inst));
    CHECK(memcmp(pa, "AAAA", 4) == 0, "A's data changed after Begin/Abort");

    /* the iterator's own view is stable: same pointer, same bytes */
    CK(kvidxIteratorGet(a, &ka, NULL, NULL, &pa2, &la2));
    CHECK_EQ_U64(ka, 1);
    CK(pa2 == pa);
    CHECK_EQ_U64(la2, 4);
    CK(memcmp(pa2, "AAAA", 4) == 0);

    /* destroying other iterators does not affect A */
    kvidxIteratorDestroy(b);
    kvidxIteratorDestroy(c);
    CHECK(memcmp(pa, "AAAA", 4) == 0, "A's data changed after other iterators were destroyed");

    /* A moves on from the removed key 1: picks up the current state */
    CK(kvidxIteratorNext(a));
    CHECK_EQ_U64(kvidxIteratorKey(a), 3);
    CK(kvidxIteratorGet(a, NULL, NULL, NULL, &pa, &la));
    CHECK(pa != NULL && la == 6 && memcmp(pa, "CCCCCC", 6) == 0, "A at 3");
    CK(kvidxIteratorNext(a));
    CK(kvidxIteratorGet(a, &ka, NULL, NULL, &pa, &la));
    CHECK_EQ_U64(ka, 4);
    CHECK(pa != NULL && la == sizeof big - 1 && memcmp(pa, big, la) == 0, "A at 4");
    memcpy(buf, pa, la);
    CK(kvidxRemoveAfterNInclusive(&inst, 4)); /* removes 4, 5, H, MAX */
    CHECK(memcmp(pa, buf, sizeof big - 1) == 0, "A's data changed after RemoveAfterNInclusive");
    CK(kvidxInsert(&inst, H, 55, 555, "", 0));
    CK(kvidxInsert(&inst, MAXK, 66, 666, NULL, 0));

    /* empty values: data NULL, len 0 (even right after a non-empty value) */
    {
        uint64_t k = 0, t = 0, cm = 0;
        const uint8_t *d = (const uint8_t *)"junk";
        size_t l = 99;
        CK(kvidxIteratorNext(a));
        CK(kvidxIteratorGet(a, &k, &t, &cm, &d, &l));
        CHECK_EQ_U64(k, H);
        CHECK_EQ_U64(t, 55);
        CHECK_EQ_U64(cm, 555);
        CHECK_EQ_U64(l, 0);
        CK(d == NULL);
        d = (const uint8_t *)"junk";
        l = 99;
        CK(kvidxIteratorNext(a));
        CK(kvidxIteratorGet(a, &k, &t, &cm, &d, &l));
        CHECK_EQ_U64(k, MAXK);
        CHECK_EQ_U64(t, 66);
        CHECK_EQ_U64(cm, 666);
        CHECK_EQ_U64(l, 0);
        CK(d == NULL);
        CK(kvidxIteratorGet(a, NULL, NULL, NULL, NULL, NULL)); /* all outs optional */
        CK(!kvidxIteratorNext(a));
    }
    kvidxIteratorDestroy(a);

    /* ten iterators interleaved, each sees its own correct data */
    {
        kvidxIterator *its[10];
        bool ok = true;
        CK(kvidxRemoveAfterNInclusive(&inst, 0));
        for (uint64_t k = 100; k < 130; k++) CK(put(&inst, k));
        for (int j = 0; j < 10; j++) {
            its[j] = kvidxIteratorCreate(&inst, 100 + (uint64_t)j, 129,
                                         (j % 2) ? KVIDX_ITER_BACKWARD : KVIDX_ITER_FORWARD);
            ok = ok && its[j] != NULL;
        }
        CK(ok);
        for (int step = 0; step < 20 && ok; step++) {
            const uint8_t *ds[10];
            size_t ls[10];
            for (int j = 0; j < 10; j++) {
                ok = ok && kvidxIteratorNext(its[j]);
                ok = ok && kvidxIteratorGet(its[j], NULL, NULL, NULL, &ds[j], &ls[j]);
            }
            for (int j = 0; j < 10 && ok; j++) {
                uint64_t expect = (j % 2) ? 129 - (uint64_t)step : 100 + (uint64_t)j + (uint64_t)step;
                char v[32];
                size_t n = val_of(expect, v, sizeof v);
                if (kvidxIteratorKey(its[j]) != expect || ls[j] != n || memcmp(ds[j], v, n) != 0) {
                    ok = false;
                    fprintf(stderr, "  iterator %d step %d: key %" PRIu64 "\n", j, step,
                            kvidxIteratorKey(its[j]));
                }
            }
        }
        CHECK(ok, "interleaved iterators");
        for (int j = 0; j < 10; j++) kvidxIteratorDestroy(its[j]);
    }
    CK(kvidxClose(&inst));
}

static void test_concurrent_modification(void) {
    kvidxInstance inst;
    kvidxIterator *it;
    if (!open_db(&inst, "iter_modify")) return;
    CK(put(&inst, 10));
    CK(put(&inst, 20));
    CK(put(&inst, 30));
    CK(put(&inst, H + 10));

    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(kvidxIteratorNext(it));
    check_at(it, 10);
    CK(kvidxRemove(&inst, 20));
    CK(put(&inst, 15));
    CK(kvidxIteratorNext(it));
    check_at(it, 15);
    CK(kvidxRemove(&inst, 15)); /* remove the current key */
    CK(kvidxIteratorNext(it));
    check_at(it, 30);
    CK(put(&inst, H));
    CK(put(&inst, MAXK));
    CK(kvidxIteratorNext(it));
    check_at(it, H);
    CK(kvidxIteratorNext(it));
    check_at(it, H + 10);
    CK(kvidxIteratorNext(it));
    check_at(it, MAXK);
    CK(!kvidxIteratorNext(it));
    kvidxIteratorDestroy(it);

    /* backward: keys now 10 30 H H+10 MAX */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    CK(kvidxIteratorNext(it));
    check_at(it, MAXK);
    CK(kvidxRemove(&inst, H + 10));
    CK(put(&inst, MAXK - 1));
    CK(kvidxIteratorNext(it));
    check_at(it, MAXK - 1);
    CK(kvidxIteratorNext(it));
    check_at(it, H);
    CK(kvidxRemove(&inst, 30));
    CK(put(&inst, H - 1));
    CK(kvidxIteratorNext(it));
    check_at(it, H - 1);
    CK(put(&inst, 0));
    CK(kvidxIteratorNext(it));
    check_at(it, 10);
    CK(kvidxIteratorNext(it));
    check_at(it, 0);
    CK(!kvidxIteratorNext(it));
    kvidxIteratorDestroy(it);

    /* writes inside an open transaction are visible to an iterator */
    CK(kvidxBegin(&inst));
    CK(put(&inst, 5));
    it = kvidxIteratorCreate(&inst, 1, 9, KVIDX_ITER_FORWARD);
    {
        static const uint64_t e[] = {5};
        expect_seq(it, e, 1, "in transaction");
    }
    kvidxIteratorDestroy(it);
    CK(kvidxAbort(&inst));
    it = kvidxIteratorCreate(&inst, 1, 9, KVIDX_ITER_FORWARD);
    expect_seq(it, NULL, 0, "after abort");
    kvidxIteratorDestroy(it);
    CK(kvidxClose(&inst));
}

/* 100-byte values that differ per key. */
static void wide_of(uint64_t k, char *buf) {
    int n = snprintf(buf, 100, "w%" PRIu64 ":", k);
    for (int j = n; j < 100; j++) buf[j] = (char)('a' + (k + (uint64_t)j) % 26);
}

/* Advances `it` to key `k` (standard layout 1..n), checking each step. */
static bool walk_to(kvidxIterator *it, uint64_t k) {
    while (kvidxIteratorNext(it)) {
        if (kvidxIteratorKey(it) == k) return true;
        if (kvidxIteratorKey(it) > k) return false;
    }
    return false;
}

/* Iterators well past their first chunk (on LMDB those chunks point into the
 * map, through a snapshot the iterator holds): the value an iterator handed
 * out stays valid and unchanged until it moves, through overwrites, removes,
 * page reuse and several resizes of a small map; then it moves on to the
 * current state; and one destroyed after the instance is closed, and more
 * iterators than the engine lends snapshots to, behave. */
static void test_in_place(void) {
    kvidxInstance inst;
    kvidxConfig cfg = kvidxConfigDefault();
    const char *err = NULL;
    char path[4096], w[100], want500[100], want300[100];
    kvidxIterator *it, *held, *many[12];
    const uint8_t *d500 = NULL, *d300 = NULL;
    size_t l500 = 0, l300 = 0, n;
    bool ok = true;

    cfg.mmapSizeBytes = 1 << 20; /* LMDB: a 1 MiB map, resized as it fills */
    snprintf(path, sizeof path, "%s/iter_inplace_%u%s", scratch, db_counter++, ad->pathSuffix);
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    if (!kvidxOpenWithConfig(&inst, path, &cfg, &err)) {
        CHECK(false, "open %s: %s", path, err ? err : "(null)");
        return;
    }
    ok = kvidxBegin(&inst);
    for (uint64_t k = 1; k <= 2000 && ok; k++) {
        wide_of(k, w);
        ok = kvidxInsert(&inst, k, k, k, w, 100);
    }
    CHECK(kvidxCommit(&inst) && ok, "2000 entries");

    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    held = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    CK(it != NULL && held != NULL);
    if (it == NULL || held == NULL) return;
    CK(walk_to(it, 500));
    CK(walk_to(held, 300));
    CK(kvidxIteratorGet(it, NULL, NULL, NULL, &d500, &l500));
    CK(kvidxIteratorGet(held, NULL, NULL, NULL, &d300, &l300));
    wide_of(500, want500);
    wide_of(300, want300);
    CHECK(d500 != NULL && l500 == 100 && memcmp(d500, want500, 100) == 0, "value of 500");
    CHECK(d300 != NULL && l300 == 100 && memcmp(d300, want300, 100) == 0, "value of 300");
    if (d500 == NULL || d300 == NULL) return;

    /* The entries change and go; pages are freed and reused; the map fills
     * and is resized several times (20 000 x 200 bytes in a 1 MiB map). */
    memset(w, 'X', sizeof w);
    CK(kvidxInsertEx(&inst, 500, 9, 9, w, 100, KVIDX_SET_ALWAYS) == KVIDX_OK);
    CK(kvidxInsertEx(&inst, 300, 9, 9, w, 50, KVIDX_SET_ALWAYS) == KVIDX_OK);
    {
        uint64_t deleted = 0;
        CK(kvidxRemoveRange(&inst, 1, 1500, true, true, &deleted) == KVIDX_OK);
        CHECK_EQ_U64(deleted, 1500);
    }
    ok = true;
    for (uint64_t b = 0; b < 20 && ok; b++) {
        char big[200];
        ok = kvidxBegin(&inst);
        for (uint64_t k = 10000 + b * 1000; k < 10000 + (b + 1) * 1000 && ok; k++) {
            memset(big, (int)('A' + k % 26), sizeof big);
            ok = kvidxInsert(&inst, k, k, k, big, sizeof big);
        }
        ok = kvidxCommit(&inst) && ok;
    }
    CHECK(ok, "20 000 more entries");
    CHECK(memcmp(d500, want500, 100) == 0, "500's value changed before its iterator moved");
    CHECK(memcmp(d300, want300, 100) == 0, "300's value changed before its iterator moved");

    /* Moving on: the current state, from after the current key. */
    CK(kvidxIteratorNext(it));
    CHECK_EQ_U64(kvidxIteratorKey(it), 1501);
    CK(kvidxIteratorNext(held));
    CHECK_EQ_U64(kvidxIteratorKey(held), 1501);
    {
        const uint8_t *d = NULL;
        size_t l = 0;
        wide_of(1501, w);
        CK(kvidxIteratorGet(held, NULL, NULL, NULL, &d, &l));
        CHECK(d != NULL && l == 100 && memcmp(d, w, 100) == 0, "value of 1501");
    }
    n = 1;
    ok = true;
    while (kvidxIteratorNext(it)) {
        uint64_t k = kvidxIteratorKey(it), t = 0;
        const uint8_t *d = NULL;
        size_t l = 0;
        uint64_t want = n < 500 ? 1501 + n : 10000 + (n - 500);
        if (k != want || !kvidxIteratorGet(it, NULL, &t, NULL, &d, &l) || t != k ||
            l != (k < 10000 ? 100u : 200u) || d == NULL) {
            if (ok) fprintf(stderr, "  in place: entry %zu key %" PRIu64 "\n", n, k);
            ok = false;
        } else if (k >= 10000 && (d[0] != 'A' + k % 26 || d[199] != 'A' + k % 26)) {
            ok = false;
        }
        if (++n > 30000) break;
    }
    CHECK(ok, "in place: keys and values after the changes");
    CHECK_EQ_U64(n, 20500);
    kvidxIteratorDestroy(it);

    /* More iterators than snapshots lent (each past its first chunk),
     * stepped in turn, each with the right values. */
    ok = true;
    for (int j = 0; j < 12; j++) {
        many[j] = kvidxIteratorCreate(&inst, 10000 + (uint64_t)j * 100, MAXK, KVIDX_ITER_FORWARD);
        ok = ok && many[j] != NULL && walk_to(many[j], 10000 + (uint64_t)j * 100 + 60);
    }
    CHECK(ok, "twelve iterators positioned");
    for (int step = 1; step <= 300 && ok; step++) {
        for (int j = 0; j < 12 && ok; j++) {
            uint64_t want = 10000 + (uint64_t)j * 100 + 60 + (uint64_t)step;
            const uint8_t *d = NULL;
            size_t l = 0;
            if (!kvidxIteratorNext(many[j]) || kvidxIteratorKey(many[j]) != want ||
                !kvidxIteratorGet(many[j], NULL, NULL, NULL, &d, &l) || l != 200 || d == NULL ||
                d[100] != 'A' + want % 26) {
                fprintf(stderr, "  iterator %d step %d: key %" PRIu64 "\n", j, step, kvidxIteratorKey(many[j]));
                ok = false;
            }
        }
        if (step == 150) { /* a write in the middle: all of them re-read */
            ok = ok && kvidxInsert(&inst, 50000, 1, 1, "z", 1);
        }
    }
    CHECK(ok, "twelve iterators in turn");
    for (int j = 0; j < 12; j++) kvidxIteratorDestroy(many[j]);

    /* An iterator used, then destroyed, after its instance was closed:
     * nothing to read (a value read in place went with the instance), no
     * crash. */
    CK(walk_to(held, 1900));
    CK(kvidxIteratorValid(held));
    CK(kvidxClose(&inst));
    {
        const uint8_t *d = (const uint8_t *)"junk";
        CK(!kvidxIteratorGet(held, NULL, NULL, NULL, &d, NULL));
        CK(!kvidxIteratorValid(held));
        CHECK_EQ_U64(kvidxIteratorKey(held), 0);
        CK(!kvidxIteratorNext(held));
    }
    kvidxIteratorDestroy(held);
}

/* An iterator that has run to its end holds nothing of the engine: pages
 * freed by later rewrites are reused and an LMDB file stays the size of its
 * data (a snapshot still held would keep every rewrite's pages). */
static void test_exhausted_holds_nothing(void) {
    kvidxInstance inst;
    kvidxIterator *it = NULL;
    kvidxStats st;
    uint64_t before = 0;
    size_t n = 0;
    bool ok = true;
    uint8_t v[200];

    if (strcmp(ad->name, "LMDB") != 0) return; /* a statement about LMDB's file */
    if (!open_db(&inst, "iter_exhausted")) return;
    for (int round = 0; round < 34 && ok; round++) {
        ok = kvidxBegin(&inst);
        for (uint64_t k = 0; k < 1000 && ok; k++) {
            memset(v, round, sizeof v);
            ok = kvidxInsertEx(&inst, k, 1, 1, v, sizeof v, KVIDX_SET_ALWAYS) == KVIDX_OK;
        }
        ok = kvidxCommit(&inst) && ok;
        if (round == 1) {
            it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
            while (it != NULL && kvidxIteratorNext(it)) n++;
            CHECK_EQ_U64(n, 1000);
        }
        if (round == 3) {
            ok = ok && kvidxGetStats(&inst, &st) == KVIDX_OK;
            before = st.databaseFileSize;
        }
    }
    CHECK(ok, "34 rewrites of 1000 entries");
    CK(kvidxGetStats(&inst, &st) == KVIDX_OK);
    /* 30 rewrites of ~230 KB each: held pages would add ~7 MB */
    CHECK(st.databaseFileSize <= before + 1024 * 1024, "file grew from %" PRIu64 " to %" PRIu64 " bytes",
          before, st.databaseFileSize);
    CK(!kvidxIteratorNext(it));
    kvidxIteratorDestroy(it);
    CK(kvidxClose(&inst));
}

#define BIGN 100000u
#define STEP 184467440737095ULL /* ~ UINT64_MAX / 100000: keys span both halves */

static void test_large(void) {
    kvidxInstance inst;
    kvidxIterator *it;
    size_t n;
    bool ok;
    uint64_t prev;
    if (!open_db(&inst, "iter_large")) return;
    ok = kvidxBegin(&inst);
    for (uint64_t j = 0; j < BIGN && ok; j++) {
        uint64_t k = j * STEP;
        ok = kvidxInsert(&inst, k, j, k, &k, sizeof k);
    }
    ok = kvidxCommit(&inst) && ok;
    CHECK(ok, "inserting %u entries", BIGN);
    CK(BIGN * STEP > H); /* the data set does cross 2^63 */

    /* forward */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_FORWARD);
    n = 0;
    ok = true;
    prev = 0;
    while (kvidxIteratorNext(it)) {
        uint64_t k = 0, t = 0, c = 0, v = 0;
        const uint8_t *d = NULL;
        size_t l = 0;
        if (!kvidxIteratorGet(it, &k, &t, &c, &d, &l) || k != (uint64_t)n * STEP || t != n ||
            c != k || l != 8 || d == NULL) {
            if (ok) fprintf(stderr, "  forward: entry %zu key %" PRIu64 "\n", n, k);
            ok = false;
        } else {
            memcpy(&v, d, 8);
            if (v != k) ok = false;
        }
        if (n > 0 && k <= prev) ok = false;
        prev = k;
        if (++n > BIGN) break;
    }
    CHECK(ok, "forward 100k: order/values");
    CHECK_EQ_U64(n, BIGN);
    CK(!kvidxIteratorNext(it));
    kvidxIteratorDestroy(it);

    /* backward */
    it = kvidxIteratorCreate(&inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    n = 0;
    ok = true;
    while (kvidxIteratorNext(it)) {
        uint64_t k = 0, t = 0;
        uint64_t expect = (uint64_t)(BIGN - 1 - n) * STEP;
        if (!kvidxIteratorGet(it, &k, &t, NULL, NULL, NULL) || k != expect || t != BIGN - 1 - n) {
            if (ok) fprintf(stderr, "  backward: entry %zu key %" PRIu64 "\n", n, k);
            ok = false;
        }
        if (++n > BIGN) break;
    }
    CHECK(ok, "backward 100k: order/values");
    CHECK_EQ_U64(n, BIGN);
    CK(!kvidxIteratorNext(it));
    kvidxIteratorDestroy(it);

    /* a sub-range across 2^63 */
    {
        uint64_t lo = 49990 * STEP, hi = 50010 * STEP;
        it = kvidxIteratorCreate(&inst, lo + 1, hi, KVIDX_ITER_FORWARD);
        n = 0;
        ok = true;
        while (kvidxIteratorNext(it)) {
            if (kvidxIteratorKey(it) != (49991 + (uint64_t)n) * STEP) ok = false;
            if (++n > 100) break;
        }
        CK(ok);
        CHECK_EQ_U64(n, 20);
        kvidxIteratorDestroy(it);
    }

    /* many create/next/destroy cycles */
    ok = true;
    for (int j = 0; j < 1000; j++) {
        it = kvidxIteratorCreate(&inst, (uint64_t)j * STEP, MAXK,
                                 (j & 1) ? KVIDX_ITER_BACKWARD : KVIDX_ITER_FORWARD);
        if (it == NULL || !kvidxIteratorNext(it)) ok = false;
        else if (kvidxIteratorKey(it) != ((j & 1) ? (uint64_t)(BIGN - 1) * STEP : (uint64_t)j * STEP))
            ok = false;
        kvidxIteratorDestroy(it);
    }
    CHECK(ok, "1000 create/next/destroy cycles");
    CK(kvidxClose(&inst));
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        ad = kvidxGetAdapterByIndex(a);
        CK(ad != NULL);
        if (ad == NULL) continue;
        check_set_context(ad->name);
        test_full_and_subranges();
        test_empty_and_null();
        test_seek();
        test_ownership();
        test_concurrent_modification();
        test_in_place();
        test_exhausted_holds_nothing();
        test_large();
    }
    return check_report();
}
