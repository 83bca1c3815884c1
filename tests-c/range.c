/* range.c: RemoveRange / CountRange / ExistsInRange and
 * RemoveAfterNInclusive / RemoveBeforeNInclusive on every engine: the
 * original's range test (core.md §5.8), unsigned ranges crossing 2^63
 * (decisions.md B1), exclusive bounds at 0 and UINT64_MAX (core D6), ranges
 * reaching the last key (core D5), all checked against a model. */
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

static void clear_all(kvidxInstance *inst) {
    CHECK_EQ_INT(kvidxRemoveRange(inst, 0, KMAX, true, true, NULL), KVIDX_OK);
    CHECK_EQ_U64(key_count(inst), 0);
}

static void insert_seq(kvidxInstance *inst, uint64_t from, uint64_t to, uint64_t step) {
    uint64_t k;
    unsigned bad = 0;
    T(kvidxBegin(inst));
    for (k = from; k <= to; k += step) {
        if (!kvidxInsert(inst, k, k, k, "r", 1)) {
            bad++;
        }
    }
    T(kvidxCommit(inst));
    CHECK(bad == 0, "%u inserts failed", bad);
}

/* ---------- core.md §5.8 ---------- */

static void test_upstream_range(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t del, cnt, k;
    bool b;
    unsigned bad;

    if (!open_db(&inst, ad, "range58")) {
        return;
    }
    /* 1. [10, 20] on 1..30. */
    insert_seq(&inst, 1, 30, 1);
    del = 0;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 10, 20, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 11);
    T(kvidxExists(&inst, 9) && kvidxExists(&inst, 21));
    T(!kvidxExists(&inst, 10) && !kvidxExists(&inst, 20) && !kvidxExists(&inst, 15));
    CHECK_EQ_U64(key_count(&inst), 19);

    /* 2. (10, 20], [10, 20), (10, 20). */
    clear_all(&inst);
    insert_seq(&inst, 1, 30, 1);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 10, 20, false, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 10);
    T(kvidxExists(&inst, 10) && !kvidxExists(&inst, 20) && !kvidxExists(&inst, 11));
    clear_all(&inst);
    insert_seq(&inst, 1, 30, 1);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 10, 20, true, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 10);
    T(!kvidxExists(&inst, 10) && kvidxExists(&inst, 20) && !kvidxExists(&inst, 19));
    clear_all(&inst);
    insert_seq(&inst, 1, 30, 1);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 10, 20, false, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 9);
    T(kvidxExists(&inst, 10) && kvidxExists(&inst, 20) && !kvidxExists(&inst, 11) &&
      !kvidxExists(&inst, 19));
    CHECK_EQ_U64(key_count(&inst), 21);

    /* 3. Sparse 5..30 step 5. */
    clear_all(&inst);
    insert_seq(&inst, 5, 30, 5);
    cnt = 99;
    CHECK_EQ_INT(kvidxCountRange(&inst, 1, 30, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 6);
    CHECK_EQ_INT(kvidxCountRange(&inst, 8, 22, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 3);
    CHECK_EQ_INT(kvidxCountRange(&inst, 100, 200, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 0);
    CHECK_EQ_INT(kvidxCountRange(&inst, 5, 5, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 1);
    CHECK_EQ_INT(kvidxCountRange(&inst, 6, 9, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 0);

    /* 4. ExistsInRange on 10..20. */
    clear_all(&inst);
    insert_seq(&inst, 10, 20, 1);
    b = false;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 10, 20, &b), KVIDX_OK);
    T(b);
    b = false;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 15, 18, &b), KVIDX_OK);
    T(b);
    b = true;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 100, 200, &b), KVIDX_OK);
    T(!b);
    b = true;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 1, 5, &b), KVIDX_OK);
    T(!b);
    b = false;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 20, 20, &b), KVIDX_OK);
    T(b);
    b = false;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, 10, &b), KVIDX_OK);
    T(b);

    /* 5. start > end: OK, 0, nothing removed. */
    del = 99;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 20, 10, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    CHECK_EQ_U64(key_count(&inst), 11);
    del = 99;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, KMAX, 0, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    cnt = 99;
    CHECK_EQ_INT(kvidxCountRange(&inst, 20, 10, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 0);
    cnt = 99;
    CHECK_EQ_INT(kvidxCountRange(&inst, KMAX, 0, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 0);
    b = true;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 20, 10, &b), KVIDX_OK);
    T(!b);
    b = true;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, KMAX, 0, &b), KVIDX_OK);
    T(!b);
    CHECK_EQ_U64(key_count(&inst), 11);

    /* 6. [5, 5] on 1..10. */
    clear_all(&inst);
    insert_seq(&inst, 1, 10, 1);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 5, 5, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 1);
    T(kvidxExists(&inst, 4) && kvidxExists(&inst, 6) && !kvidxExists(&inst, 5));
    /* (5, 5), [5, 5), (5, 5] delete nothing. */
    T(kvidxInsert(&inst, 5, 5, 5, "r", 1));
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 5, 5, false, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 5, 5, true, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 5, 5, false, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    T(kvidxExists(&inst, 5));

    /* 7. Empty database. */
    clear_all(&inst);
    del = 99;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, 100, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    cnt = 99;
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, KMAX, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 0);
    b = true;
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, KMAX, &b), KVIDX_OK);
    T(!b);

    /* 8. 1..1000: [100, 900]. */
    insert_seq(&inst, 1, 1000, 1);
    CHECK_EQ_INT(kvidxCountRange(&inst, 1, 1000, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 1000);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 100, 900, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 801);
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, KMAX, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 199);
    T(kvidxExists(&inst, 99) && kvidxExists(&inst, 901));
    T(!kvidxExists(&inst, 100) && !kvidxExists(&inst, 900));

    /* 9. deletedCount optional. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 1, 10, true, true, NULL), KVIDX_OK);
    T(!kvidxExists(&inst, 1) && !kvidxExists(&inst, 10) && kvidxExists(&inst, 11));
    CHECK_EQ_U64(key_count(&inst), 189);

    /* A range reaching the last key deletes nothing below its start (D5). */
    clear_all(&inst);
    insert_seq(&inst, 1, 10, 1);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 5, 10, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 6);
    bad = 0;
    for (k = 1; k <= 10; k++) {
        if (kvidxExists(&inst, k) != (k < 5)) {
            bad++;
        }
    }
    CHECK(bad == 0, "%u keys wrong after [5,10] on 1..10", bad);
    clear_all(&inst);
    insert_seq(&inst, 1, 1000, 1);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 900, 1000, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 101);
    CHECK_EQ_U64(key_count(&inst), 899);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 800, KMAX, false, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 99);
    CHECK_EQ_U64(key_count(&inst), 800);
    T(kvidxExists(&inst, 800) && !kvidxExists(&inst, 801));
    T(kvidxClose(&inst));
}

static void test_bad_arguments(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t cnt = 0;
    bool b = false;
    /* Not open: INVALID_ARGUMENT (checks before dispatch). */
    memset(&inst, 0, sizeof(inst));
    inst.interface = *ad->iface;
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, 10, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, 10, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, 10, &cnt), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, 10, &b), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, 10, true, true, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    if (!open_db(&inst, ad, "rangeargs")) {
        return;
    }
    T(kvidxInsert(&inst, 5, 1, 1, "x", 1));
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, 10, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, 10, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    T(kvidxExists(&inst, 5));
    T(kvidxClose(&inst));
    CHECK_EQ_INT(kvidxRemoveRange(NULL, 0, 1, true, true, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxCountRange(NULL, 0, 1, &cnt), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExistsInRange(NULL, 0, 1, &b), KVIDX_ERROR_INVALID_ARGUMENT);
}

/* ---------- unsigned ranges, model-checked ---------- */

static const uint64_t ukeys[] = {0, 1, 5, 100, H63 - 1, H63, H63 + 7, KMAX - 1, KMAX};
#define NUK (sizeof(ukeys) / sizeof(ukeys[0]))
static const uint64_t bounds[] = {0, 1, 2, 100, 101, H63 - 1, H63, H63 + 1, KMAX - 1, KMAX};
#define NB (sizeof(bounds) / sizeof(bounds[0]))

static bool in_range(uint64_t k, uint64_t s, uint64_t e, bool si, bool ei) {
    return (si ? k >= s : k > s) && (ei ? k <= e : k < e);
}

static void put_ukeys(kvidxInstance *inst) {
    size_t j;
    T(kvidxBegin(inst));
    for (j = 0; j < NUK; j++) {
        if (!kvidxExists(inst, ukeys[j])) {
            CHECK(kvidxInsert(inst, ukeys[j], j, j, "u", 1), "insert %" PRIu64, ukeys[j]);
        }
    }
    T(kvidxCommit(inst));
}

/* Bit j set = ukeys[j] present. */
static unsigned present_mask(kvidxInstance *inst) {
    unsigned m = 0;
    size_t j;
    for (j = 0; j < NUK; j++) {
        if (kvidxExists(inst, ukeys[j])) {
            m |= 1u << j;
        }
    }
    return m;
}

static void test_unsigned_count_exists(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    size_t x, y, j;
    unsigned bad_count = 0, bad_exists = 0;
    if (!open_db(&inst, ad, "ucount")) {
        return;
    }
    put_ukeys(&inst);
    for (x = 0; x < NB; x++) {
        for (y = 0; y < NB; y++) {
            uint64_t s = bounds[x], e = bounds[y], want = 0, got = 12345;
            bool ex = false;
            for (j = 0; j < NUK; j++) {
                if (s <= e && in_range(ukeys[j], s, e, true, true)) {
                    want++;
                }
            }
            if (kvidxCountRange(&inst, s, e, &got) != KVIDX_OK || got != want) {
                bad_count++;
                fprintf(stderr, "  CountRange(%" PRIu64 ", %" PRIu64 ") = %" PRIu64 ", want %" PRIu64 "\n",
                        s, e, got, want);
            }
            if (kvidxExistsInRange(&inst, s, e, &ex) != KVIDX_OK || ex != (want > 0)) {
                bad_exists++;
                fprintf(stderr, "  ExistsInRange(%" PRIu64 ", %" PRIu64 ") = %d, want %d\n", s, e,
                        ex, want > 0);
            }
        }
    }
    CHECK(bad_count == 0, "%u of %zu CountRange results wrong", bad_count, NB * NB);
    CHECK(bad_exists == 0, "%u of %zu ExistsInRange results wrong", bad_exists, NB * NB);

    /* Named cases from core.md §4.2. */
    {
        uint64_t c = 0;
        bool b = false;
        CHECK_EQ_INT(kvidxCountRange(&inst, 0, KMAX, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 9);
        CHECK_EQ_INT(kvidxCountRange(&inst, 0, KMAX - 1, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 8);
        CHECK_EQ_INT(kvidxCountRange(&inst, H63, KMAX, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 4);
        CHECK_EQ_INT(kvidxCountRange(&inst, H63, KMAX - 1, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 3);
        CHECK_EQ_INT(kvidxCountRange(&inst, 100, H63, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 3);
        CHECK_EQ_INT(kvidxCountRange(&inst, KMAX, KMAX, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 1);
        CHECK_EQ_INT(kvidxCountRange(&inst, 0, 0, &c), KVIDX_OK);
        CHECK_EQ_U64(c, 1);
        CHECK_EQ_INT(kvidxExistsInRange(&inst, 200, KMAX - 2, &b), KVIDX_OK);
        T(b);
        b = true;
        CHECK_EQ_INT(kvidxExistsInRange(&inst, 101, H63 - 2, &b), KVIDX_OK);
        T(!b);
        b = true;
        CHECK_EQ_INT(kvidxExistsInRange(&inst, H63 + 8, KMAX - 2, &b), KVIDX_OK);
        T(!b);
    }
    T(kvidxClose(&inst));
}

/* Every (start, end, startInclusive, endInclusive) over the bounds grid:
 * inside a transaction, checked, then aborted. */
static void test_unsigned_remove_grid(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    size_t x, y, j;
    int f;
    unsigned bad = 0, cases = 0;
    unsigned all = (1u << NUK) - 1;
    if (!open_db(&inst, ad, "ugrid")) {
        return;
    }
    put_ukeys(&inst);
    for (x = 0; x < NB; x++) {
        for (y = 0; y < NB; y++) {
            for (f = 0; f < 4; f++) {
                uint64_t s = bounds[x], e = bounds[y], del = 12345, want = 0;
                bool si = (f & 1) != 0, ei = (f & 2) != 0;
                unsigned want_mask = all, got_mask;
                kvidxError rc;
                for (j = 0; j < NUK; j++) {
                    if (s <= e && in_range(ukeys[j], s, e, si, ei)) {
                        want++;
                        want_mask &= ~(1u << j);
                    }
                }
                cases++;
                if (!kvidxBegin(&inst)) {
                    bad++;
                    continue;
                }
                rc = kvidxRemoveRange(&inst, s, e, si, ei, &del);
                got_mask = present_mask(&inst);
                if (rc != KVIDX_OK || del != want || got_mask != want_mask) {
                    bad++;
                    fprintf(stderr,
                            "  RemoveRange(%" PRIu64 ", %" PRIu64 ", %d, %d) rc %d deleted %" PRIu64
                            " (want %" PRIu64 ") mask %#x (want %#x)\n",
                            s, e, si, ei, (int)rc, del, want, got_mask, want_mask);
                }
                if (!kvidxAbort(&inst) || present_mask(&inst) != all) {
                    bad++;
                    put_ukeys(&inst);
                }
            }
        }
    }
    CHECK(bad == 0, "%u of %u RemoveRange cases wrong", bad, cases);
    T(kvidxClose(&inst));
}

/* Specific extreme cases, autocommitted. */
static void test_unsigned_remove_named(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t del;
    unsigned all = (1u << NUK) - 1;
    /* indexes: 0:0 1:1 2:5 3:100 4:H-1 5:H 6:H+7 7:MAX-1 8:MAX */
    if (!open_db(&inst, ad, "unamed")) {
        return;
    }
    put_ukeys(&inst);

    /* (MAX, MAX) exclusive: nothing. */
    del = 9;
    CHECK_EQ_INT(kvidxRemoveRange(&inst, KMAX, KMAX, false, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    CHECK_EQ_INT(present_mask(&inst), all);
    /* (MAX, MAX] and [MAX, MAX): nothing. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, KMAX, KMAX, false, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, KMAX, KMAX, true, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    /* (0, 0): nothing. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, 0, false, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 0);
    CHECK_EQ_INT(present_mask(&inst), all);
    /* [MAX, MAX]: only MAX. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, KMAX, KMAX, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 1);
    CHECK_EQ_INT(present_mask(&inst), all & ~(1u << 8));
    /* [0, 0]: only 0. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, 0, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 1);
    CHECK_EQ_INT(present_mask(&inst), all & ~(1u << 8) & ~1u);
    put_ukeys(&inst);
    /* (0, MAX): everything but 0 and MAX. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, KMAX, false, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 7);
    CHECK_EQ_INT(present_mask(&inst), 1u | (1u << 8));
    put_ukeys(&inst);
    /* [100, H]: crosses 2^63. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 100, H63, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 3);
    CHECK_EQ_INT(present_mask(&inst), all & ~((1u << 3) | (1u << 4) | (1u << 5)));
    put_ukeys(&inst);
    /* (H-1, H+7): only H. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, H63 - 1, H63 + 7, false, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 1);
    CHECK_EQ_INT(present_mask(&inst), all & ~(1u << 5));
    put_ukeys(&inst);
    /* [5, MAX): everything from 5 to MAX-1. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 5, KMAX, true, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 6);
    CHECK_EQ_INT(present_mask(&inst), 1u | 2u | (1u << 8));
    put_ukeys(&inst);
    /* [0, MAX]: everything. */
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, KMAX, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 9);
    CHECK_EQ_U64(key_count(&inst), 0);
    T(kvidxClose(&inst));
}

/* RemoveAfterNInclusive(k): every key >= k; RemoveBeforeNInclusive(k):
 * every key <= k; unsigned, around 2^63 and at the extremes. */
static void test_after_before(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    size_t x, j;
    int which;
    unsigned bad = 0;
    unsigned all = (1u << NUK) - 1;
    if (!open_db(&inst, ad, "afterbefore")) {
        return;
    }
    for (which = 0; which < 2; which++) {
        for (x = 0; x < NB; x++) {
            uint64_t k = bounds[x];
            unsigned want = all, got;
            bool ok;
            put_ukeys(&inst);
            for (j = 0; j < NUK; j++) {
                if (which == 0 ? ukeys[j] >= k : ukeys[j] <= k) {
                    want &= ~(1u << j);
                }
            }
            ok = which == 0 ? kvidxRemoveAfterNInclusive(&inst, k)
                            : kvidxRemoveBeforeNInclusive(&inst, k);
            got = present_mask(&inst);
            if (!ok || got != want) {
                bad++;
                fprintf(stderr, "  %s(%" PRIu64 ") ok %d mask %#x (want %#x)\n",
                        which == 0 ? "RemoveAfterNInclusive" : "RemoveBeforeNInclusive", k, ok, got,
                        want);
            }
        }
    }
    CHECK(bad == 0, "%u RemoveAfter/BeforeNInclusive cases wrong", bad);

    /* Named cases. */
    put_ukeys(&inst);
    T(kvidxRemoveBeforeNInclusive(&inst, 10));
    CHECK_EQ_INT(present_mask(&inst), all & ~7u); /* 0, 1, 5 gone; high keys stay */
    T(kvidxExists(&inst, H63) && kvidxExists(&inst, KMAX));
    put_ukeys(&inst);
    T(kvidxRemoveAfterNInclusive(&inst, H63));
    CHECK_EQ_INT(present_mask(&inst), 0x1Fu); /* 0, 1, 5, 100, H-1 stay */
    put_ukeys(&inst);
    T(kvidxRemoveAfterNInclusive(&inst, KMAX));
    CHECK_EQ_INT(present_mask(&inst), all & ~(1u << 8));
    put_ukeys(&inst);
    T(kvidxRemoveBeforeNInclusive(&inst, 0));
    CHECK_EQ_INT(present_mask(&inst), all & ~1u);
    put_ukeys(&inst);
    T(kvidxRemoveBeforeNInclusive(&inst, H63 - 1));
    CHECK_EQ_INT(present_mask(&inst), all & ~0x1Fu);
    put_ukeys(&inst);
    T(kvidxRemoveAfterNInclusive(&inst, 0));
    CHECK_EQ_U64(key_count(&inst), 0);
    put_ukeys(&inst);
    T(kvidxRemoveBeforeNInclusive(&inst, KMAX));
    CHECK_EQ_U64(key_count(&inst), 0);
    /* On an empty database both succeed. */
    T(kvidxRemoveAfterNInclusive(&inst, 0));
    T(kvidxRemoveBeforeNInclusive(&inst, KMAX));
    T(kvidxClose(&inst));
}

/* Stats and MaxKey/MinKey after range removals around 2^63. */
static void test_extremes_after_removal(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t k = 0, del = 0;
    kvidxStats st;
    if (!open_db(&inst, ad, "rextremes")) {
        return;
    }
    put_ukeys(&inst);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, H63, KMAX, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 4);
    T(kvidxMaxKey(&inst, &k));
    CHECK_EQ_U64(k, H63 - 1);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, 100, true, true, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 4);
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, H63 - 1);
    put_ukeys(&inst);
    CHECK_EQ_INT(kvidxRemoveRange(&inst, 0, H63, true, false, &del), KVIDX_OK);
    CHECK_EQ_U64(del, 5);
    memset(&st, 0, sizeof(st));
    CHECK_EQ_INT(kvidxGetStats(&inst, &st), KVIDX_OK);
    CHECK_EQ_U64(st.totalKeys, 4);
    CHECK_EQ_U64(st.minKey, H63);
    CHECK_EQ_U64(st.maxKey, KMAX);
    CHECK_EQ_U64(st.totalDataBytes, 4);
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
        test_upstream_range(ad);
        test_bad_arguments(ad);
        test_unsigned_count_exists(ad);
        test_unsigned_remove_grid(ad);
        test_unsigned_remove_named(ad);
        test_after_before(ad);
        test_extremes_after_removal(ad);
    }
    return check_report();
}
