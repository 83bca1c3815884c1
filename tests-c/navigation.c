/* navigation.c: strict neighbours and unsigned order (decisions.md B1, B2)
 * on every engine. The boundary keys 0, 2^63-1, 2^63, UINT64_MAX-1 and
 * UINT64_MAX are mixed with small keys; GetNext/GetPrev are compared against
 * a model for every stored key and for probes between them; MaxKey,
 * GetMinKey and GetStats min/max are unsigned; complete walks forward from 0
 * and backward from UINT64_MAX visit every key exactly once. */
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

/* Entry contents derived from the key, so every neighbour can be verified. */
static uint64_t term_of(uint64_t k) { return k ^ UINT64_C(0x5555AAAA5555AAAA); }
static uint64_t cmd_of(uint64_t k) { return ~k; }
static size_t value_of(uint64_t k, char *buf, size_t n) {
    return (size_t)snprintf(buf, n, "value-%" PRIu64, k);
}

static void put_keys(kvidxInstance *inst, const uint64_t *keys, size_t n) {
    size_t j;
    char v[64];
    T(kvidxBegin(inst));
    for (j = 0; j < n; j++) {
        size_t len = value_of(keys[j], v, sizeof(v));
        CHECK(kvidxInsert(inst, keys[j], term_of(keys[j]), cmd_of(keys[j]), v, len),
              "insert %" PRIu64, keys[j]);
    }
    T(kvidxCommit(inst));
}

/* Model: keys sorted ascending (unsigned). */
static bool model_next(const uint64_t *sorted, size_t n, uint64_t k, uint64_t *out) {
    size_t j;
    for (j = 0; j < n; j++) {
        if (sorted[j] > k) {
            *out = sorted[j];
            return true;
        }
    }
    return false;
}

static bool model_prev(const uint64_t *sorted, size_t n, uint64_t k, uint64_t *out) {
    size_t j;
    for (j = n; j > 0; j--) {
        if (sorted[j - 1] < k) {
            *out = sorted[j - 1];
            return true;
        }
    }
    return false;
}

/* Checks GetNext/GetPrev(k) against the model, including every out-param;
 * misses must leave the out-params untouched and set NOT_FOUND. */
static void check_neighbours(kvidxInstance *inst, const uint64_t *sorted, size_t n, uint64_t k) {
    int dir;
    for (dir = 0; dir < 2; dir++) {
        const char *name = dir == 0 ? "GetNext" : "GetPrev";
        uint64_t want = 0;
        bool have = dir == 0 ? model_next(sorted, n, k, &want) : model_prev(sorted, n, k, &want);
        uint64_t key = 11, term = 22, cmd = 33;
        const uint8_t sentinel[1] = {0};
        const uint8_t *data = sentinel;
        size_t len = 44;
        bool got;
        kvidxClearError(inst);
        got = dir == 0 ? kvidxGetNext(inst, k, &key, &term, &cmd, &data, &len)
                       : kvidxGetPrev(inst, k, &key, &term, &cmd, &data, &len);
        if (have) {
            char v[64];
            size_t vlen = value_of(want, v, sizeof(v));
            CHECK(got && key == want, "%s(%" PRIu64 "): got %d key %" PRIu64 ", want %" PRIu64,
                  name, k, got, key, want);
            CHECK(got && term == term_of(want) && cmd == cmd_of(want) && len == vlen &&
                      data != NULL && memcmp(data, v, vlen) == 0,
                  "%s(%" PRIu64 ") entry fields", name, k);
        } else {
            CHECK(!got, "%s(%" PRIu64 ") found %" PRIu64 ", want none", name, k, key);
            CHECK(key == 11 && term == 22 && cmd == 33 && data == sentinel && len == 44,
                  "%s(%" PRIu64 ") miss touched out-params", name, k);
            CHECK(kvidxGetLastError(inst) == KVIDX_ERROR_NOT_FOUND, "%s(%" PRIu64 ") miss error %d",
                  name, k, (int)kvidxGetLastError(inst));
        }
        /* With only the key out-param. */
        key = 11;
        got = dir == 0 ? kvidxGetNext(inst, k, &key, NULL, NULL, NULL, NULL)
                       : kvidxGetPrev(inst, k, &key, NULL, NULL, NULL, NULL);
        CHECK(got == have && key == (have ? want : 11), "%s(%" PRIu64 ") key-only", name, k);
    }
}

static void sort_u64(uint64_t *a, size_t n) {
    size_t i, j;
    for (i = 1; i < n; i++) {
        uint64_t v = a[i];
        for (j = i; j > 0 && a[j - 1] > v; j--) {
            a[j] = a[j - 1];
        }
        a[j] = v;
    }
}

/* Every stored key, k-1 and k+1 of each (wrapping excluded), and a few
 * extra probes. */
static void check_all_neighbours(kvidxInstance *inst, const uint64_t *sorted, size_t n) {
    static const uint64_t extra[] = {0, 1, 2, 3, 50, 1000, H63 - 2, H63 - 1, H63, H63 + 1,
                                     H63 + 100, KMAX - 2, KMAX - 1, KMAX};
    size_t j;
    for (j = 0; j < n; j++) {
        check_neighbours(inst, sorted, n, sorted[j]);
        if (sorted[j] > 0) {
            check_neighbours(inst, sorted, n, sorted[j] - 1);
        }
        if (sorted[j] < KMAX) {
            check_neighbours(inst, sorted, n, sorted[j] + 1);
        }
    }
    for (j = 0; j < sizeof(extra) / sizeof(extra[0]); j++) {
        check_neighbours(inst, sorted, n, extra[j]);
    }
}

/* Forward walk from 0 and backward walk from MAX visit every key once, in
 * order. */
static void check_walks(kvidxInstance *inst, const uint64_t *sorted, size_t n) {
    uint64_t k, key;
    size_t seen = 0;
    bool order_ok = true;

    /* Forward: Get(0) if present, then GetNext until it fails. */
    k = 0;
    if (kvidxExists(inst, 0)) {
        order_ok = order_ok && n > 0 && sorted[0] == 0;
        seen = 1;
    }
    while (seen <= n && kvidxGetNext(inst, k, &key, NULL, NULL, NULL, NULL)) {
        order_ok = order_ok && seen < n && sorted[seen] == key;
        seen++;
        k = key;
    }
    CHECK(order_ok && seen == n, "forward walk: %zu keys of %zu, order %s", seen, n,
          order_ok ? "ok" : "wrong");

    /* Backward: Get(MAX) if present, then GetPrev until it fails. */
    seen = 0;
    order_ok = true;
    k = KMAX;
    if (kvidxExists(inst, KMAX)) {
        order_ok = order_ok && n > 0 && sorted[n - 1] == KMAX;
        seen = 1;
    }
    while (seen <= n && kvidxGetPrev(inst, k, &key, NULL, NULL, NULL, NULL)) {
        order_ok = order_ok && seen < n && sorted[n - 1 - seen] == key;
        seen++;
        k = key;
    }
    CHECK(order_ok && seen == n, "backward walk: %zu keys of %zu, order %s", seen, n,
          order_ok ? "ok" : "wrong");
}

static void check_extremes(kvidxInstance *inst, const uint64_t *sorted, size_t n) {
    uint64_t k = 12345;
    kvidxStats st;
    kvidxError e;
    if (n == 0) {
        T(!kvidxMaxKey(inst, &k));
        CHECK_EQ_U64(k, 12345);
        CHECK_EQ_INT(kvidxGetMinKey(inst, &k), KVIDX_ERROR_NOT_FOUND);
        CHECK_EQ_U64(k, 12345);
        return;
    }
    T(kvidxMaxKey(inst, &k));
    CHECK_EQ_U64(k, sorted[n - 1]);
    k = 12345;
    CHECK_EQ_INT(kvidxGetMinKey(inst, &k), KVIDX_OK);
    CHECK_EQ_U64(k, sorted[0]);
    memset(&st, 0xEE, sizeof(st));
    e = kvidxGetStats(inst, &st);
    CHECK_EQ_INT(e, KVIDX_OK);
    CHECK_EQ_U64(st.totalKeys, n);
    CHECK_EQ_U64(st.minKey, sorted[0]);
    CHECK_EQ_U64(st.maxKey, sorted[n - 1]);
}

static void check_everything(kvidxInstance *inst, const uint64_t *sorted, size_t n) {
    uint64_t count = 0;
    CHECK_EQ_INT(kvidxGetKeyCount(inst, &count), KVIDX_OK);
    CHECK_EQ_U64(count, n);
    check_extremes(inst, sorted, n);
    check_all_neighbours(inst, sorted, n);
    check_walks(inst, sorted, n);
}

static void test_mixed(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t keys[] = {KMAX, 100, H63, 0, KMAX - 1, 5, H63 - 1, 1, H63 + 7, 42};
    size_t n = sizeof(keys) / sizeof(keys[0]);
    if (!open_db(&inst, ad, "mixed")) {
        return;
    }
    put_keys(&inst, keys, n);
    sort_u64(keys, n);
    check_everything(&inst, keys, n);

    /* Strictness at the ends. */
    {
        uint64_t k = 0;
        T(kvidxGetPrev(&inst, KMAX, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, KMAX - 1);
        T(kvidxGetNext(&inst, 0, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, 1);
        T(!kvidxGetNext(&inst, KMAX, &k, NULL, NULL, NULL, NULL));
        T(!kvidxGetPrev(&inst, 0, &k, NULL, NULL, NULL, NULL));
        T(kvidxGetNext(&inst, 100, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, H63 - 1);
        T(kvidxGetNext(&inst, H63 - 1, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, H63);
        T(kvidxGetPrev(&inst, H63, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, H63 - 1);
        T(kvidxGetPrev(&inst, 5, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, 1);
    }

    /* Remove the extremes one by one; the order stays right. */
    T(kvidxRemove(&inst, KMAX));
    T(kvidxRemove(&inst, 0));
    check_everything(&inst, keys + 1, n - 2);
    T(kvidxRemove(&inst, KMAX - 1));
    T(kvidxRemove(&inst, 1));
    check_everything(&inst, keys + 2, n - 4);
    T(kvidxClose(&inst));

    /* The order is the same after a reopen (on-disk encoding). */
    {
        char path[4096];
        const char *err = NULL;
        db_path(path, sizeof(path), ad, "mixed");
        CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "(null)");
        if (inst.kvidxdata == NULL) {
            return;
        }
    }
    check_everything(&inst, keys + 2, n - 4);
    put_keys(&inst, keys, 2);         /* 0 and 1 back */
    put_keys(&inst, keys + n - 2, 2); /* MAX-1 and MAX back */
    check_everything(&inst, keys, n);
    T(kvidxClose(&inst));
}

static void test_high_only(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t keys[] = {H63, H63 + 1, KMAX - 1, KMAX};
    if (!open_db(&inst, ad, "high")) {
        return;
    }
    put_keys(&inst, keys, 4);
    check_everything(&inst, keys, 4);
    T(kvidxClose(&inst));
}

static void test_low_only(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t keys[] = {0, 1, 2, H63 - 2, H63 - 1};
    if (!open_db(&inst, ad, "low")) {
        return;
    }
    put_keys(&inst, keys, 5);
    check_everything(&inst, keys, 5);
    /* MAX not stored: GetPrev(MAX) finds the maximum key. */
    {
        uint64_t k = 0;
        T(kvidxGetPrev(&inst, KMAX, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, H63 - 1);
    }
    T(kvidxClose(&inst));
}

static void test_singletons(const kvidxAdapterInfo *ad) {
    static const uint64_t singles[] = {0, 1, H63 - 1, H63, KMAX - 1, KMAX};
    size_t j;
    for (j = 0; j < sizeof(singles) / sizeof(singles[0]); j++) {
        kvidxInstance inst;
        char name[32];
        uint64_t key = singles[j];
        snprintf(name, sizeof(name), "single%zu", j);
        if (!open_db(&inst, ad, name)) {
            continue;
        }
        put_keys(&inst, &key, 1);
        check_everything(&inst, &key, 1);
        T(kvidxClose(&inst));
    }
}

static void test_empty(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    if (!open_db(&inst, ad, "empty")) {
        return;
    }
    check_everything(&inst, NULL, 0);
    T(kvidxClose(&inst));
}

static void test_dense_around_half(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t keys[64];
    size_t n = 0;
    uint64_t d;
    if (!open_db(&inst, ad, "dense")) {
        return;
    }
    for (d = 0; d < 16; d++) {
        keys[n++] = d;
        keys[n++] = H63 - 1 - d;
        keys[n++] = H63 + d;
        keys[n++] = KMAX - d;
    }
    put_keys(&inst, keys, n);
    sort_u64(keys, n);
    check_everything(&inst, keys, n);
    T(kvidxClose(&inst));
}

/* A log replayed with GetNext (and back with GetPrev), each call from the
 * key the previous returned, while the entries just ahead change between
 * two calls: inserts, removes, and a transaction that writes, is read from
 * and rolls back. SQLite and RocksDB serve such runs from rows read ahead;
 * every answer must still be the current one, value included. */
#define REPLAY_N 1200
static bool present[REPLAY_N];

static bool replay_model(uint64_t k, int forward, uint64_t *out) {
    uint64_t j;
    if (forward) {
        for (j = k + 1; j < REPLAY_N; j++) {
            if (present[j]) {
                *out = j;
                return true;
            }
        }
        return false;
    }
    for (j = k; j-- > 0;) {
        if (present[j]) {
            *out = j;
            return true;
        }
    }
    return false;
}

static bool replay_step(kvidxInstance *inst, uint64_t k, int forward, uint64_t *got) {
    uint64_t term = 0, cmd = 0, want = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    char v[64];
    bool found = forward ? kvidxGetNext(inst, k, got, &term, &cmd, &data, &len)
                         : kvidxGetPrev(inst, k, got, &term, &cmd, &data, &len);
    bool expect = replay_model(k, forward, &want);
    CHECK(found == expect, "%s(%" PRIu64 "): found %d, model %d", forward ? "GetNext" : "GetPrev", k, found, expect);
    if (!found || !expect) {
        return false;
    }
    CHECK(*got == want, "%s(%" PRIu64 ") = %" PRIu64 ", model %" PRIu64, forward ? "GetNext" : "GetPrev", k, *got, want);
    CHECK_EQ_U64(term, term_of(*got));
    CHECK_EQ_U64(cmd, cmd_of(*got));
    CHECK(len == value_of(*got, v, sizeof(v)) && data != NULL && memcmp(data, v, len) == 0, "value of %" PRIu64, *got);
    return true;
}

static void replay_change(kvidxInstance *inst, uint64_t k, int forward, unsigned step) {
    char v[64];
    uint64_t t = forward ? k + 1 + step % 3 : (k > 1 + step % 3 ? k - 1 - step % 3 : 0);
    if (t >= REPLAY_N) {
        return;
    }
    switch (step % 3) {
    case 0: /* insert (or overwrite) just ahead */
        T(kvidxInsertEx(inst, t, term_of(t), cmd_of(t), v, value_of(t, v, sizeof(v)), KVIDX_SET_ALWAYS) == KVIDX_OK);
        present[t] = true;
        break;
    case 1: /* remove just ahead */
        if (present[t]) {
            T(kvidxRemove(inst, t));
            present[t] = false;
        }
        break;
    default: { /* a transaction that writes ahead, reads it, rolls back */
        uint64_t got = 0, term = 0;
        T(kvidxBegin(inst));
        T(kvidxInsertEx(inst, t, 7, 7, "gone", 4, KVIDX_SET_ALWAYS) == KVIDX_OK);
        if (forward ? kvidxGetNext(inst, t - 1, &got, &term, NULL, NULL, NULL)
                    : kvidxGetPrev(inst, t + 1, &got, &term, NULL, NULL, NULL)) {
            CHECK(got == t && term == 7, "inside the transaction: %" PRIu64 " term %" PRIu64, got, term);
        } else {
            CHECK(false, "inside the transaction: nothing next to %" PRIu64, t);
        }
        T(kvidxAbort(inst));
        break;
    }
    }
}

static void test_replay_with_writes(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    uint64_t keys[REPLAY_N / 2];
    uint64_t k, got = 0;
    unsigned step = 0, walked = 0;
    int forward;
    size_t j;
    if (!open_db(&inst, ad, "replay")) {
        return;
    }
    memset(present, 0, sizeof(present));
    for (j = 0; j < REPLAY_N / 2; j++) {
        keys[j] = 2 * j;
        present[2 * j] = true;
    }
    put_keys(&inst, keys, REPLAY_N / 2);
    for (forward = 1; forward >= 0; forward--) {
        k = forward ? 0 : REPLAY_N;
        for (;;) {
            step++;
            if (step % 5 == 0) {
                replay_change(&inst, k, forward, step / 5);
            }
            if (!replay_step(&inst, k, forward, &got)) {
                break;
            }
            k = got;
            walked++;
        }
    }
    CHECK(walked > REPLAY_N / 2, "walked %u entries", walked);
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
        test_empty(ad);
        test_mixed(ad);
        test_high_only(ad);
        test_low_only(ad);
        test_singletons(ad);
        test_dense_around_half(ad);
        test_replay_with_writes(ad);
    }
    return check_report();
}
