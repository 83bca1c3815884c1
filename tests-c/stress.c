/* stress.c: several threads on one instance doing every kind of call —
 * single and batch inserts (with and without a failing entry), conditional
 * writes, removes and range removes, reads and neighbours, iterators both
 * ways, counts, TTLs, primitives, transactions committed and aborted,
 * exports, expire scans — each thread in a key range of its own, checked
 * against a model of that range after every call. No call may fail unless
 * the model says it must, and no thread may ever see part of another's
 * batch or transaction.
 *
 * Runs for KVIDX_STRESS_SECONDS per engine (default 2; `make stress` sets
 * KVIDX_STRESS=1, which means 30). */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitConfig.h"
#include "kvidxkitExport.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define THREADS 4
#define SLOTS 512
#define MAXV 96

static const char *scratch = ".";
static const kvidxAdapterInfo *ad = NULL;
static double seconds = 2.0;
static unsigned db_counter = 0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Thread t's keys: base(t) + slot * 3; two threads live above 2^63. */
static uint64_t base_of(int t) {
    return (t % 2 == 0 ? 0 : (uint64_t)1 << 63) + (uint64_t)(t + 1) * 1000000;
}

typedef struct {
    bool present, ttl;
    uint64_t term, cmd;
    size_t len;
    unsigned char v[MAXV];
} slot;

typedef struct {
    int t;
    kvidxInstance *inst;
    uint64_t base, rng;
    slot m[SLOTS];
    slot saved[SLOTS]; /* the model when the open transaction began */
    bool in_txn;
    unsigned long ops, fails;
    char first[256];
    char export_path[512];
    kvidxInstance mirror; /* a private instance the exports are imported into */
} worker;

static uint64_t rnd(worker *w) {
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static uint64_t key_of(worker *w, int s) { return w->base + (uint64_t)s * 3; }

static void fail(worker *w, int line, const char *what) {
    if (w->fails++ == 0) {
        snprintf(w->first, sizeof w->first, "line %d: %s (op %lu; lastError %d: %s)", line, what, w->ops,
                 (int)kvidxGetLastError(w->inst), kvidxGetLastErrorMessage(w->inst));
    }
}
#define MUST(w, cond)                                                                                                  \
    do {                                                                                                               \
        if (!(cond)) fail((w), __LINE__, #cond);                                                                       \
    } while (0)

static void fill(worker *w, slot *s) {
    s->len = (size_t)(rnd(w) % MAXV);
    for (size_t i = 0; i < s->len; i++) s->v[i] = (unsigned char)rnd(w);
    s->term = rnd(w);
    s->cmd = rnd(w);
}

static bool same(const slot *s, uint64_t term, uint64_t cmd, const void *d, size_t len) {
    return s->present && s->term == term && s->cmd == cmd && s->len == len && (len == 0 || memcmp(s->v, d, len) == 0);
}

/* The value of a slot read with a copy (Get's pointer may be overwritten by
 * another thread's call before it is read). */
static bool value_is(worker *w, int i) {
    void *d = NULL;
    size_t len = 0;
    uint64_t term = 0, cmd = 0;
    bool ok;
    kvidxError e = kvidxGetValueRange(w->inst, key_of(w, i), 0, 0, &d, &len);
    if (!w->m[i].present) {
        free(d);
        return e == KVIDX_ERROR_NOT_FOUND && !kvidxExists(w->inst, key_of(w, i));
    }
    ok = e == KVIDX_OK && kvidxGet(w->inst, key_of(w, i), &term, &cmd, NULL, NULL) &&
         same(&w->m[i], term, cmd, d, len);
    free(d);
    return ok;
}

/* The whole range, walked with an iterator in either direction. */
static bool range_is(worker *w, kvidxIterDirection dir) {
    kvidxIterator *it = kvidxIteratorCreate(w->inst, key_of(w, 0), key_of(w, SLOTS - 1), dir);
    int i = dir == KVIDX_ITER_FORWARD ? 0 : SLOTS - 1;
    bool ok = it != NULL;
    while (ok && kvidxIteratorNext(it)) {
        uint64_t k, term, cmd;
        const uint8_t *d;
        size_t len;
        while (i >= 0 && i < SLOTS && !w->m[i].present) i += dir == KVIDX_ITER_FORWARD ? 1 : -1;
        if (i < 0 || i >= SLOTS || !kvidxIteratorGet(it, &k, &term, &cmd, &d, &len) || k != key_of(w, i) ||
            !same(&w->m[i], term, cmd, d, len))
            ok = false;
        i += dir == KVIDX_ITER_FORWARD ? 1 : -1;
    }
    while (ok && i >= 0 && i < SLOTS) {
        if (w->m[i].present) ok = false;
        i += dir == KVIDX_ITER_FORWARD ? 1 : -1;
    }
    kvidxIteratorDestroy(it);
    return ok;
}

static uint64_t model_count(worker *w, int a, int b) {
    uint64_t n = 0;
    for (int i = a; i <= b; i++) n += w->m[i].present;
    return n;
}

static void op_insert(worker *w) {
    int i = (int)(rnd(w) % SLOTS);
    slot s;
    fill(w, &s);
    s.present = true;
    s.ttl = false;
    if (w->m[i].present) {
        MUST(w, !kvidxInsert(w->inst, key_of(w, i), s.term, s.cmd, s.v, s.len));
    } else {
        MUST(w, kvidxInsert(w->inst, key_of(w, i), s.term, s.cmd, s.v, s.len));
        w->m[i] = s;
    }
}

static void op_batch(worker *w) {
    kvidxEntry e[32];
    slot s[32];
    int idx[32], n = 0, dup = -1;
    size_t inserted = 99;
    bool with_dup = rnd(w) % 4 == 0;
    for (int j = 0; j < 32 && n < (int)(1 + rnd(w) % 24); j++) {
        int i = (int)(rnd(w) % SLOTS);
        bool taken = w->m[i].present;
        for (int q = 0; q < n; q++) taken |= idx[q] == i;
        if (taken) {
            if (with_dup && dup < 0 && w->m[i].present && n > 0) dup = n;
            else continue;
        }
        fill(w, &s[n]);
        s[n].present = true;
        s[n].ttl = false;
        idx[n] = i;
        e[n].key = key_of(w, i);
        e[n].term = s[n].term;
        e[n].cmd = s[n].cmd;
        e[n].data = s[n].v;
        e[n].dataLen = s[n].len;
        n++;
        if (dup >= 0) break;
    }
    if (n == 0) return;
    if (dup >= 0) {
        /* stops at the existing key, keeping the entries before it */
        MUST(w, !kvidxInsertBatch(w->inst, e, (size_t)n, &inserted));
        MUST(w, inserted == (size_t)dup);
        for (int q = 0; q < dup; q++) w->m[idx[q]] = s[q];
    } else {
        MUST(w, kvidxInsertBatch(w->inst, e, (size_t)n, &inserted));
        MUST(w, inserted == (size_t)n);
        for (int q = 0; q < n; q++) w->m[idx[q]] = s[q];
    }
}

static void op_insert_ex(worker *w) {
    int i = (int)(rnd(w) % SLOTS);
    slot s;
    kvidxSetCondition c = (kvidxSetCondition)(rnd(w) % 3);
    kvidxError want;
    fill(w, &s);
    s.present = true;
    s.ttl = w->m[i].present && w->m[i].ttl; /* an overwrite keeps the TTL */
    want = (c == KVIDX_SET_IF_NOT_EXISTS && w->m[i].present) || (c == KVIDX_SET_IF_EXISTS && !w->m[i].present)
               ? KVIDX_ERROR_CONDITION_FAILED
               : KVIDX_OK;
    MUST(w, kvidxInsertEx(w->inst, key_of(w, i), s.term, s.cmd, s.v, s.len, c) == want);
    if (want == KVIDX_OK) w->m[i] = s;
}

static void op_remove(worker *w) {
    int i = (int)(rnd(w) % SLOTS);
    MUST(w, kvidxRemove(w->inst, key_of(w, i)));
    w->m[i].present = false;
    w->m[i].ttl = false;
}

static void op_remove_range(worker *w) {
    int a = (int)(rnd(w) % SLOTS), b = a + (int)(rnd(w) % 40);
    bool ai = rnd(w) % 2, bi = rnd(w) % 2;
    uint64_t deleted = 0, want;
    int lo, hi;
    if (b >= SLOTS) b = SLOTS - 1;
    lo = ai ? a : a + 1;
    hi = bi ? b : b - 1;
    want = lo <= hi ? model_count(w, lo, hi) : 0;
    MUST(w, kvidxRemoveRange(w->inst, key_of(w, a), key_of(w, b), ai, bi, &deleted) == KVIDX_OK);
    MUST(w, deleted == want);
    for (int i = lo; i <= hi; i++) {
        w->m[i].present = false;
        w->m[i].ttl = false;
    }
}

static void op_read(worker *w) {
    int i = (int)(rnd(w) % SLOTS), j;
    uint64_t k = 0, n = 7;
    MUST(w, value_is(w, i));
    MUST(w, kvidxExists(w->inst, key_of(w, i)) == w->m[i].present);
    if (w->m[i].present) MUST(w, kvidxExistsDual(w->inst, key_of(w, i), w->m[i].term));
    /* neighbours: inside the range they are ours; past its end they are not */
    for (j = i + 1; j < SLOTS && !w->m[j].present; j++) {
    }
    if (kvidxGetNext(w->inst, key_of(w, i), &k, NULL, NULL, NULL, NULL)) {
        MUST(w, j < SLOTS ? k == key_of(w, j) : k > key_of(w, SLOTS - 1));
    } else {
        MUST(w, j == SLOTS);
    }
    for (j = i - 1; j >= 0 && !w->m[j].present; j--) {
    }
    if (kvidxGetPrev(w->inst, key_of(w, i), &k, NULL, NULL, NULL, NULL)) {
        MUST(w, j >= 0 ? k == key_of(w, j) : k < key_of(w, 0));
    } else {
        MUST(w, j < 0);
    }
    MUST(w, kvidxCountRange(w->inst, key_of(w, 0), key_of(w, SLOTS - 1), &n) == KVIDX_OK);
    MUST(w, n == model_count(w, 0, SLOTS - 1));
}

static void op_ttl(worker *w) {
    int i = (int)(rnd(w) % SLOTS);
    int64_t ttl;
    switch (rnd(w) % 4) {
    case 0: /* a long TTL */
        if (w->m[i].present) {
            MUST(w, kvidxSetExpire(w->inst, key_of(w, i), 3600000) == KVIDX_OK);
            w->m[i].ttl = true;
        } else {
            MUST(w, kvidxSetExpire(w->inst, key_of(w, i), 3600000) == KVIDX_ERROR_NOT_FOUND);
        }
        break;
    case 1: /* expire now: gone for every read */
        if (w->m[i].present) {
            MUST(w, kvidxSetExpireAt(w->inst, key_of(w, i), 1) == KVIDX_OK);
            w->m[i].present = false;
            w->m[i].ttl = false;
            MUST(w, !kvidxExists(w->inst, key_of(w, i)));
        }
        break;
    case 2:
        if (w->m[i].present) {
            MUST(w, kvidxPersist(w->inst, key_of(w, i)) == KVIDX_OK);
            w->m[i].ttl = false;
        }
        break;
    default: {
        uint64_t n = 0;
        MUST(w, kvidxExpireScan(w->inst, 0, &n) == KVIDX_OK);
    }
    }
    ttl = kvidxGetTTL(w->inst, key_of(w, i));
    if (!w->m[i].present) MUST(w, ttl == KVIDX_TTL_NOT_FOUND);
    else if (w->m[i].ttl) MUST(w, ttl > 0 && ttl <= 3600000);
    else MUST(w, ttl == KVIDX_TTL_NONE);
}

static void op_primitive(worker *w) {
    int i = (int)(rnd(w) % SLOTS);
    slot s;
    bool swapped = false;
    fill(w, &s);
    s.present = true;
    s.ttl = w->m[i].present && w->m[i].ttl;
    switch (rnd(w) % 4) {
    case 0:
        if (w->m[i].present) {
            MUST(w, kvidxCompareAndSwap(w->inst, key_of(w, i), w->m[i].v, w->m[i].len, s.term, s.cmd, s.v, s.len,
                                        &swapped) == KVIDX_OK &&
                        swapped);
            w->m[i] = s;
        } else {
            MUST(w, kvidxCompareAndSwap(w->inst, key_of(w, i), "x", 1, 1, 1, "y", 1, &swapped) ==
                        KVIDX_ERROR_NOT_FOUND);
        }
        break;
    case 1: {
        uint64_t ot = 0, oc = 0;
        void *od = NULL;
        size_t ol = 0;
        MUST(w, kvidxGetAndSet(w->inst, key_of(w, i), s.term, s.cmd, s.v, s.len, &ot, &oc, &od, &ol) == KVIDX_OK);
        if (w->m[i].present) MUST(w, same(&w->m[i], ot, oc, od, ol));
        free(od);
        w->m[i] = s;
        break;
    }
    case 2: {
        size_t nl = 0, add = s.len / 4;
        if (w->m[i].present && w->m[i].len + add <= MAXV) {
            MUST(w, kvidxAppend(w->inst, key_of(w, i), 0, 0, s.v, add, &nl) == KVIDX_OK);
            memcpy(w->m[i].v + w->m[i].len, s.v, add);
            w->m[i].len += add;
            MUST(w, nl == w->m[i].len);
        }
        break;
    }
    default:
        if (w->m[i].present) {
            uint64_t t = 0, c = 0;
            void *d = NULL;
            size_t l = 0;
            MUST(w, kvidxGetAndRemove(w->inst, key_of(w, i), &t, &c, &d, &l) == KVIDX_OK);
            MUST(w, same(&w->m[i], t, c, d, l));
            free(d);
            w->m[i].present = false;
            w->m[i].ttl = false;
        }
    }
}

/* Export this thread's range and import it with clear into a private
 * instance: it must hold exactly the model (without TTLs). */
static void op_export(worker *w) {
    kvidxExportOptions eo = kvidxExportOptionsDefault();
    kvidxImportOptions io = kvidxImportOptionsDefault();
    kvidxIterator *it;
    int i = 0;
    bool ok = true;
    eo.format = (kvidxExportFormat)(rnd(w) % 3);
    eo.startKey = key_of(w, 0);
    eo.endKey = key_of(w, SLOTS - 1);
    io.clearBeforeImport = true;
    MUST(w, kvidxExport(w->inst, w->export_path, &eo, NULL, NULL) == KVIDX_OK);
    MUST(w, kvidxImport(&w->mirror, w->export_path, &io, NULL, NULL) == KVIDX_OK);
    it = kvidxIteratorCreate(&w->mirror, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
    while (ok && it != NULL && kvidxIteratorNext(it)) {
        uint64_t k, term, cmd;
        const uint8_t *d;
        size_t len;
        while (i < SLOTS && !w->m[i].present) i++;
        ok = i < SLOTS && kvidxIteratorGet(it, &k, &term, &cmd, &d, &len) && k == key_of(w, i) &&
             same(&w->m[i], term, cmd, d, len);
        i++;
    }
    kvidxIteratorDestroy(it);
    while (ok && i < SLOTS) ok = !w->m[i++].present;
    MUST(w, ok);
}

static void op_txn(worker *w) {
    if (!w->in_txn) {
        MUST(w, kvidxBegin(w->inst));
        memcpy(w->saved, w->m, sizeof w->m);
        w->in_txn = true;
    } else if (rnd(w) % 3 == 0) {
        MUST(w, kvidxAbort(w->inst));
        memcpy(w->m, w->saved, sizeof w->m);
        w->in_txn = false;
    } else {
        MUST(w, kvidxCommit(w->inst));
        w->in_txn = false;
    }
}

static void *run(void *arg) {
    worker *w = arg;
    double end = now_s() + seconds;
    while (now_s() < end || w->in_txn) {
        unsigned r = (unsigned)(rnd(w) % 100);
        w->ops++;
        if (w->in_txn && r >= 90) r = 99; /* keep transactions short */
        if (r < 18) op_insert(w);
        else if (r < 28) op_batch(w);
        else if (r < 38) op_insert_ex(w);
        else if (r < 43) op_remove(w);
        else if (r < 47) op_remove_range(w);
        else if (r < 67) op_read(w);
        else if (r < 75) op_ttl(w);
        else if (r < 85) op_primitive(w);
        else if (r < 88) MUST(w, range_is(w, rnd(w) % 2 ? KVIDX_ITER_FORWARD : KVIDX_ITER_BACKWARD));
        else if (r < 89 && !w->in_txn) op_export(w);
        else if (r >= 97) op_txn(w);
    }
    MUST(w, range_is(w, KVIDX_ITER_FORWARD));
    MUST(w, range_is(w, KVIDX_ITER_BACKWARD));
    return NULL;
}

static bool open_at(kvidxInstance *inst, const char *name) {
    char path[512];
    const char *err = NULL;
    kvidxConfig cfg = kvidxConfigDefault();
    cfg.busyTimeoutMs = 30000;
    memset(inst, 0, sizeof *inst);
    inst->interface = *ad->iface;
    snprintf(path, sizeof path, "%s/stress_%s_%u%s", scratch, name, db_counter++, ad->pathSuffix);
    if (!kvidxOpenWithConfig(inst, path, &cfg, &err)) {
        CHECK(false, "open %s: %s", path, err ? err : "");
        return false;
    }
    return true;
}

static void stress_engine(void) {
    kvidxInstance inst;
    pthread_t th[THREADS];
    static worker w[THREADS];
    unsigned long ops = 0;
    uint64_t total = 0, want = 0;
    check_set_context(ad->name);
    if (!open_at(&inst, "shared")) return;
    for (int t = 0; t < THREADS; t++) {
        char name[32];
        memset(&w[t], 0, sizeof w[t]);
        w[t].t = t;
        w[t].inst = &inst;
        w[t].base = base_of(t);
        w[t].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(t + 1) ^ (uint64_t)time(NULL);
        snprintf(name, sizeof name, "mirror%d", t);
        if (!open_at(&w[t].mirror, name)) return;
        snprintf(w[t].export_path, sizeof w[t].export_path, "%s/stress_export_%d", scratch, t);
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&th[t], NULL, run, &w[t]) == 0, "");
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++) {
        CHECK(w[t].fails == 0, "thread %d: %lu of %lu calls went wrong; first: %s", t, w[t].fails, w[t].ops,
              w[t].first);
        CHECK(w[t].ops > 100, "thread %d made only %lu calls", t, w[t].ops);
        CHECK(kvidxClose(&w[t].mirror), "");
        ops += w[t].ops;
        want += model_count(&w[t], 0, SLOTS - 1);
    }
    CHECK(!inst.transactionActive, "");
    CHECK(kvidxGetKeyCount(&inst, &total) == KVIDX_OK, "");
    CHECK_EQ_U64(total, want);
    CHECK(kvidxClose(&inst), "");
    printf("%s: %d threads, %lu calls in %.0f s, every result as the model says\n", ad->name, THREADS, ops, seconds);
}

int main(int argc, char **argv) {
    const char *s = getenv("KVIDX_STRESS_SECONDS");
    const char *stress = getenv("KVIDX_STRESS");
    if (argc > 1) scratch = argv[1];
    if (stress != NULL && strcmp(stress, "1") == 0) seconds = 30;
    if (s != NULL && atof(s) > 0) seconds = atof(s);
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        ad = kvidxGetAdapterByIndex(a);
        CHECK(ad != NULL, "");
        if (ad != NULL) stress_engine();
    }
    return check_report();
}
