/* threads.c: decision I3. Calls on one instance from several threads are
 * serialised inside the library; separate instances run in parallel. On
 * every registered engine. */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")

#define NTHREADS 4
#define PER_THREAD 2000
#define H ((uint64_t)1 << 63)

static const char *scratch = ".";
static const kvidxAdapterInfo *ad = NULL;
static unsigned db_counter = 0;

/* thread t owns keys base(t) + j*3 for j in [0, PER_THREAD); two threads
 * below 2^63, two above */
static uint64_t key_of(int t, int j) {
    uint64_t base = (t < 2) ? (uint64_t)t * 1000000 : H + (uint64_t)(t - 2) * 1000000;
    return base + (uint64_t)j * 3;
}

typedef struct {
    kvidxInstance *inst;
    int t;
    /* results, checked by the main thread */
    int insert_fail, get_fail, exists_fail, next_fail, iter_fail, order_fail, error_codes;
} worker;

static void *shared_worker(void *arg) {
    worker *w = arg;
    char v[32], expect[32];
    for (int j = 0; j < PER_THREAD; j++) {
        uint64_t k = key_of(w->t, j);
        int n = snprintf(v, sizeof v, "t%d-%d", w->t, j);
        if (!kvidxInsert(w->inst, k, (uint64_t)w->t, (uint64_t)j, v, (size_t)n)) w->insert_fail++;
        /* read back something of ours */
        {
            int r = j / 2;
            uint64_t term = 99, cmd = 99;
            const uint8_t *d = NULL;
            size_t l = 0;
            int m = snprintf(expect, sizeof expect, "t%d-%d", w->t, r);
            if (!kvidxGet(w->inst, key_of(w->t, r), &term, &cmd, &d, &l) || term != (uint64_t)w->t ||
                cmd != (uint64_t)r || l != (size_t)m)
                w->get_fail++;
            /* the data pointer of Get is only valid until the next call on
             * the instance, which another thread may make: not compared */
            (void)d;
        }
        if (!kvidxExists(w->inst, k) || !kvidxExistsDual(w->inst, k, (uint64_t)w->t)) w->exists_fail++;
        if (j > 0) {
            uint64_t nk = 0;
            /* the next key after our previous one is ours (others' keys are elsewhere) */
            if (!kvidxGetNext(w->inst, key_of(w->t, j - 1), &nk, NULL, NULL, NULL, NULL) ||
                nk != k)
                w->next_fail++;
        }
        if (j % 250 == 249) {
            /* iterate over our own range: exactly j+1 entries, in order, data intact */
            kvidxIterator *it = kvidxIteratorCreate(w->inst, key_of(w->t, 0), key_of(w->t, j),
                                                    (j % 500 == 499) ? KVIDX_ITER_BACKWARD
                                                                     : KVIDX_ITER_FORWARD);
            int cnt = 0;
            bool backward = (j % 500 == 499);
            while (it != NULL && kvidxIteratorNext(it)) {
                uint64_t ik = 0;
                const uint8_t *d = NULL;
                size_t l = 0;
                int idx = backward ? j - cnt : cnt;
                int m = snprintf(expect, sizeof expect, "t%d-%d", w->t, idx);
                if (!kvidxIteratorGet(it, &ik, NULL, NULL, &d, &l) || ik != key_of(w->t, idx) ||
                    l != (size_t)m || d == NULL || memcmp(d, expect, l) != 0)
                    w->iter_fail++;
                if (++cnt > j + 1) break;
            }
            if (cnt != j + 1) w->iter_fail++;
            kvidxIteratorDestroy(it);
            /* a whole-database scan is strictly increasing */
            it = kvidxIteratorCreate(w->inst, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
            {
                uint64_t prev = 0;
                bool first = true;
                int guard = 0;
                while (it != NULL && kvidxIteratorNext(it) && guard++ < NTHREADS * PER_THREAD + 10) {
                    uint64_t ik = kvidxIteratorKey(it);
                    if (!first && ik <= prev) w->order_fail++;
                    first = false;
                    prev = ik;
                }
            }
            kvidxIteratorDestroy(it);
        }
    }
    /* a duplicate insert reports DUPLICATE_KEY; the error state is per
     * instance, so another thread may overwrite it: only the result counts */
    if (kvidxInsert(w->inst, key_of(w->t, 0), 0, 0, "dup", 3)) w->error_codes++;
    return NULL;
}

static void test_shared_instance(void) {
    kvidxInstance inst;
    char path[4096];
    const char *err = NULL;
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    uint64_t count = 0;
    bool ok = true;

    snprintf(path, sizeof path, "%s/threads_shared_%u%s", scratch, db_counter++, ad->pathSuffix);
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    /* the default configuration (synchronous NORMAL on SQLite): many small commits */
    CHECK(kvidxOpenWithConfig(&inst, path, NULL, &err), "open: %s", err ? err : "");
    for (int t = 0; t < NTHREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].inst = &inst;
        w[t].t = t;
        CHECK(pthread_create(&th[t], NULL, shared_worker, &w[t]) == 0, "pthread_create %d", t);
    }
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < NTHREADS; t++) {
        CHECK(w[t].insert_fail == 0, "thread %d: %d failed inserts", t, w[t].insert_fail);
        CHECK(w[t].get_fail == 0, "thread %d: %d failed gets", t, w[t].get_fail);
        CHECK(w[t].exists_fail == 0, "thread %d: %d failed exists", t, w[t].exists_fail);
        CHECK(w[t].next_fail == 0, "thread %d: %d failed GetNext", t, w[t].next_fail);
        CHECK(w[t].iter_fail == 0, "thread %d: %d iterator errors", t, w[t].iter_fail);
        CHECK(w[t].order_fail == 0, "thread %d: %d order errors", t, w[t].order_fail);
        CHECK(w[t].error_codes == 0, "thread %d: duplicate accepted", t);
    }
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &count), KVIDX_OK);
    CHECK_EQ_U64(count, NTHREADS * PER_THREAD);
    /* every value exact */
    for (int t = 0; t < NTHREADS; t++) {
        for (int j = 0; j < PER_THREAD; j++) {
            uint64_t term = 0, cmd = 0;
            const uint8_t *d = NULL;
            size_t l = 0;
            char v[32];
            int n = snprintf(v, sizeof v, "t%d-%d", t, j);
            if (!kvidxGet(&inst, key_of(t, j), &term, &cmd, &d, &l) || term != (uint64_t)t ||
                cmd != (uint64_t)j || l != (size_t)n || memcmp(d, v, l) != 0)
                ok = false;
        }
    }
    CHECK(ok, "final contents");
    {
        uint64_t mk = 0;
        CK(kvidxMaxKey(&inst, &mk));
        CHECK_EQ_U64(mk, key_of(NTHREADS - 1, PER_THREAD - 1));
        CHECK_EQ_INT(kvidxGetMinKey(&inst, &mk), KVIDX_OK);
        CHECK_EQ_U64(mk, 0);
    }
    CK(kvidxClose(&inst));

    /* durable: reopen and count */
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "");
    count = 0;
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &count), KVIDX_OK);
    CHECK_EQ_U64(count, NTHREADS * PER_THREAD);
    CK(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */

typedef struct {
    int t;
    char path[4096];
    bool open_ok, close_ok;
    int fails;
    uint64_t count;
} solo;

static void *solo_worker(void *arg) {
    solo *s = arg;
    kvidxInstance inst;
    const char *err = NULL;
    kvidxIterator *it;
    int n = 0;
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    s->open_ok = kvidxOpen(&inst, s->path, &err);
    if (!s->open_ok) return NULL;
    /* the same keys in every database, different values */
    if (!kvidxBegin(&inst)) s->fails++;
    for (int j = 0; j < PER_THREAD; j++) {
        uint64_t k = key_of(j % NTHREADS, j);
        if (!kvidxInsert(&inst, k, (uint64_t)s->t, (uint64_t)j, &s->t, sizeof s->t)) s->fails++;
    }
    if (!kvidxCommit(&inst)) s->fails++;
    for (int j = 0; j < PER_THREAD; j += 7) {
        uint64_t term = 99;
        const uint8_t *d = NULL;
        size_t l = 0;
        int v = -1;
        if (!kvidxGet(&inst, key_of(j % NTHREADS, j), &term, NULL, &d, &l) || term != (uint64_t)s->t ||
            l != sizeof v)
            s->fails++;
        else {
            memcpy(&v, d, sizeof v);
            if (v != s->t) s->fails++;
        }
    }
    it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, (s->t % 2) ? KVIDX_ITER_BACKWARD : KVIDX_ITER_FORWARD);
    {
        uint64_t prev = 0;
        while (it != NULL && kvidxIteratorNext(it) && n <= PER_THREAD) {
            uint64_t k = kvidxIteratorKey(it);
            if (n > 0 && ((s->t % 2) ? k >= prev : k <= prev)) s->fails++;
            prev = k;
            n++;
        }
    }
    kvidxIteratorDestroy(it);
    if (n != PER_THREAD) s->fails++;
    if (kvidxGetKeyCount(&inst, &s->count) != KVIDX_OK) s->fails++;
    s->close_ok = kvidxClose(&inst);
    return NULL;
}

static void test_separate_instances(void) {
    pthread_t th[NTHREADS];
    solo s[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        memset(&s[t], 0, sizeof s[t]);
        s[t].t = t;
        snprintf(s[t].path, sizeof s[t].path, "%s/threads_solo_%u_%d%s", scratch, db_counter, t,
                 ad->pathSuffix);
        CHECK(pthread_create(&th[t], NULL, solo_worker, &s[t]) == 0, "pthread_create %d", t);
    }
    db_counter++;
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < NTHREADS; t++) {
        CHECK(s[t].open_ok, "thread %d: open", t);
        CHECK(s[t].fails == 0, "thread %d: %d failures", t, s[t].fails);
        CHECK_EQ_U64(s[t].count, PER_THREAD);
        CHECK(s[t].close_ok, "thread %d: close", t);
    }
    /* each file holds its own thread's values */
    for (int t = 0; t < NTHREADS; t++) {
        kvidxInstance inst;
        const char *err = NULL;
        uint64_t term = 99;
        memset(&inst, 0, sizeof inst);
        inst.interface = *ad->iface;
        CHECK(kvidxOpen(&inst, s[t].path, &err), "reopen %d: %s", t, err ? err : "");
        CK(kvidxGet(&inst, key_of(0, 0), &term, NULL, NULL, NULL));
        CHECK_EQ_U64(term, (uint64_t)t);
        CK(kvidxClose(&inst));
    }
}

/* ------------------------------------------------------------------ */

/* Iterators read on two threads while a third fills a small map (1 MiB,
 * resized several times) on the same instance: every value an iterator
 * hands out is right and stays so until that iterator moves, whatever the
 * writer does meanwhile. */
#define GROW_BATCHES 40
#define GROW_PER_BATCH 250

static void grow_value(uint64_t k, uint8_t *v) {
    for (int j = 0; j < 200; j++) v[j] = (uint8_t)(k * 31 + (uint64_t)j);
}

typedef struct {
    kvidxInstance *inst;
    volatile int *done;
    int scans, bad, changed;
} grow_reader;

static void *grow_writer(void *arg) {
    kvidxInstance *inst = arg;
    kvidxConfig cfg;
    uint8_t v[200];
    if (kvidxGetConfig(inst, &cfg) != KVIDX_OK) return (void *)1;
    for (uint64_t b = 0; b < GROW_BATCHES; b++) {
        bool ok = kvidxBegin(inst);
        for (uint64_t k = b * GROW_PER_BATCH; k < (b + 1) * GROW_PER_BATCH && ok; k++) {
            grow_value(k, v);
            ok = kvidxInsert(inst, k, k, k, v, sizeof v);
        }
        if (!ok || !kvidxCommit(inst)) return (void *)1;
        /* and resizes of the map (on LMDB) between batches */
        for (int r = 0; r < 4; r++) {
            cfg.mmapSizeBytes = (r % 2) ? 48 << 20 : 32 << 20;
            if (kvidxUpdateConfig(inst, &cfg) != KVIDX_OK) return (void *)1;
        }
    }
    return NULL;
}

static void *grow_read(void *arg) {
    grow_reader *r = arg;
    uint8_t want[200];
    do {
        kvidxIterator *it = kvidxIteratorCreate(r->inst, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
        uint64_t expect = 0;
        while (it != NULL && kvidxIteratorNext(it)) {
            uint64_t k = 0;
            const uint8_t *d = NULL;
            size_t l = 0;
            if (!kvidxIteratorGet(it, &k, NULL, NULL, &d, &l) || k != expect || l != 200 || d == NULL) {
                r->bad++;
                break;
            }
            grow_value(k, want);
            if (memcmp(d, want, 200) != 0) r->bad++;
            /* let the writer run, then look again before moving */
            if (k % 8 == 0) {
                for (volatile int spin = 0; spin < 5000; spin++) {
                }
                if (memcmp(d, want, 200) != 0) r->changed++;
            }
            expect++;
        }
        kvidxIteratorDestroy(it);
        r->scans++;
    } while (!*r->done);
    return NULL;
}

static void test_iterators_while_the_map_grows(void) {
    kvidxInstance inst;
    kvidxConfig cfg = kvidxConfigDefault();
    char path[4096];
    const char *err = NULL;
    pthread_t wt, rt[2];
    grow_reader rd[2];
    volatile int done = 0;
    void *wres = NULL;
    uint64_t count = 0;

    cfg.mmapSizeBytes = 1 << 20;
    snprintf(path, sizeof path, "%s/threads_grow_%u%s", scratch, db_counter++, ad->pathSuffix);
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    CHECK(kvidxOpenWithConfig(&inst, path, &cfg, &err), "open: %s", err ? err : "");
    for (int t = 0; t < 2; t++) {
        memset(&rd[t], 0, sizeof rd[t]);
        rd[t].inst = &inst;
        rd[t].done = &done;
        CHECK(pthread_create(&rt[t], NULL, grow_read, &rd[t]) == 0, "pthread_create reader %d", t);
    }
    CHECK(pthread_create(&wt, NULL, grow_writer, &inst) == 0, "pthread_create writer");
    pthread_join(wt, &wres);
    done = 1;
    for (int t = 0; t < 2; t++) pthread_join(rt[t], NULL);
    CHECK(wres == NULL, "writer failed: %s", kvidxGetLastErrorMessage(&inst));
    for (int t = 0; t < 2; t++) {
        CHECK(rd[t].scans > 0, "reader %d never finished a scan", t);
        CHECK(rd[t].bad == 0, "reader %d: %d wrong entries", t, rd[t].bad);
        CHECK(rd[t].changed == 0, "reader %d: %d values changed before the iterator moved", t, rd[t].changed);
    }
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, &count), KVIDX_OK);
    CHECK_EQ_U64(count, GROW_BATCHES * GROW_PER_BATCH);
    CK(kvidxClose(&inst));
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        ad = kvidxGetAdapterByIndex(a);
        CK(ad != NULL);
        if (ad == NULL) continue;
        check_set_context(ad->name);
        test_shared_instance();
        test_separate_instances();
        test_iterators_while_the_map_grows();
    }
    return check_report();
}
