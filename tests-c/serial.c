/* serial.c: decision I3 made explicit. Every public call on a shared
 * instance is one serialised unit, compound calls included:
 *   - a batch is one call: other threads never see part of it, never fail
 *     because it runs, and two batches never collide;
 *   - a transaction belongs to the thread that began it: other threads'
 *     calls wait for it to end (up to the busy timeout), so an Abort never
 *     takes another thread's writes with it;
 *   - lastError's code and message are written together;
 *   - a batch filter may call back into the instance.
 * On every registered engine. */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitConfig.h"
#include "kvidxkitErrors.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CK(cond) CHECK(cond, "")

static const char *scratch = ".";
static const kvidxAdapterInfo *ad = NULL;
static unsigned db_counter = 0;
/* Under valgrind (tests-c/run.sh sets KVIDX_VALGRIND=1) threads take turns
 * on one lock, and threads that spin starve the others: the spinning loops
 * pause instead, and the error test runs fewer rounds. */
static bool under_valgrind = false;

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static bool open_db(kvidxInstance *inst, int busy_ms) {
    char path[512];
    const char *err = NULL;
    kvidxConfig cfg = kvidxConfigDefault();
    bool ok;
    memset(inst, 0, sizeof *inst);
    inst->interface = *ad->iface;
    snprintf(path, sizeof path, "%s/serial_%u%s", scratch, db_counter++, ad->pathSuffix);
    if (busy_ms < 0) {
        ok = kvidxOpen(inst, path, &err);
    } else {
        cfg.busyTimeoutMs = busy_ms;
        ok = kvidxOpenWithConfig(inst, path, &cfg, &err);
    }
    CHECK(ok, "open %s: %s", path, err ? err : "");
    return ok;
}

/* A one-shot signal between two threads. */
typedef struct {
    pthread_mutex_t m;
    pthread_cond_t c;
    int state;
} latch;

static void latch_init(latch *l) {
    pthread_mutex_init(&l->m, NULL);
    pthread_cond_init(&l->c, NULL);
    l->state = 0;
}

static void latch_set(latch *l, int v) {
    pthread_mutex_lock(&l->m);
    l->state = v;
    pthread_cond_broadcast(&l->c);
    pthread_mutex_unlock(&l->m);
}

static void latch_wait(latch *l, int v) {
    pthread_mutex_lock(&l->m);
    while (l->state < v) pthread_cond_wait(&l->c, &l->m);
    pthread_mutex_unlock(&l->m);
}

static int latch_get(latch *l) {
    int v;
    pthread_mutex_lock(&l->m);
    v = l->state;
    pthread_mutex_unlock(&l->m);
    return v;
}

/* ------------------------------------------------------------------ */
/* Batches are one call */

#define WRITERS 2
#define ROUNDS 40
#define BATCH 100
#define SEEDED 50
#define REGION(w) ((uint64_t)(w + 1) * 1000000)
#define SEED_BASE ((uint64_t)500)

typedef struct {
    kvidxInstance *inst;
    int w;
    int fails;
    kvidxError first_error;
} writer;

typedef struct {
    kvidxInstance *inst;
    latch *done;
    int fails, partial, rounds;
    kvidxError first_error;
} observer;

static void *batch_writer(void *arg) {
    writer *w = arg;
    kvidxEntry e[BATCH];
    char val[BATCH][16];
    for (int r = 0; r < ROUNDS; r++) {
        size_t inserted = 0;
        for (int j = 0; j < BATCH; j++) {
            uint64_t k = REGION(w->w) + (uint64_t)r * BATCH + (uint64_t)j;
            int n = snprintf(val[j], sizeof val[j], "w%d-%d", w->w, r * BATCH + j);
            e[j].key = k;
            e[j].term = (uint64_t)w->w;
            e[j].cmd = (uint64_t)r;
            e[j].data = val[j];
            e[j].dataLen = (size_t)n;
        }
        if (!kvidxInsertBatch(w->inst, e, BATCH, &inserted) || inserted != BATCH) {
            if (w->fails++ == 0) w->first_error = kvidxGetLastError(w->inst);
        }
    }
    return NULL;
}

static void *batch_observer(void *arg) {
    observer *o = arg;
    while (latch_get(o->done) == 0) {
        o->rounds++;
        if (under_valgrind) sleep_ms(1);
        for (int w = 0; w < WRITERS; w++) {
            uint64_t n = 7;
            kvidxError e = kvidxCountRange(o->inst, REGION(w), REGION(w) + ROUNDS * BATCH, &n);
            if (e != KVIDX_OK) {
                if (o->fails++ == 0) o->first_error = e;
            } else if (n % BATCH != 0) {
                o->partial++; /* part of a batch was visible */
            }
        }
        /* reads of the seeded keys never fail while batches run */
        for (uint64_t k = SEED_BASE; k < SEED_BASE + SEEDED; k += 7) {
            uint64_t term = 0;
            if (!kvidxGet(o->inst, k, &term, NULL, NULL, NULL) || term != k) {
                if (o->fails++ == 0) o->first_error = kvidxGetLastError(o->inst);
            }
            if (kvidxGetTTL(o->inst, k) != KVIDX_TTL_NONE) {
                if (o->fails++ == 0) o->first_error = kvidxGetLastError(o->inst);
            }
        }
        {
            kvidxIterator *it = kvidxIteratorCreate(o->inst, SEED_BASE, SEED_BASE + SEEDED - 1, KVIDX_ITER_FORWARD);
            int n = 0;
            while (it != NULL && kvidxIteratorNext(it)) n++;
            kvidxIteratorDestroy(it);
            if (n != SEEDED) {
                if (o->fails++ == 0) o->first_error = kvidxGetLastError(o->inst);
            }
        }
    }
    return NULL;
}

static void test_batches_are_one_call(void) {
    kvidxInstance inst;
    pthread_t wt[WRITERS], ot[2];
    writer w[WRITERS];
    observer o[2];
    latch done;
    check_set_context(ad->name);
    if (!open_db(&inst, -1)) return;
    for (uint64_t k = SEED_BASE; k < SEED_BASE + SEEDED; k++) CK(kvidxInsert(&inst, k, k, 0, "s", 1));
    latch_init(&done);
    for (int t = 0; t < 2; t++) {
        memset(&o[t], 0, sizeof o[t]);
        o[t].inst = &inst;
        o[t].done = &done;
        CK(pthread_create(&ot[t], NULL, batch_observer, &o[t]) == 0);
    }
    for (int t = 0; t < WRITERS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].inst = &inst;
        w[t].w = t;
        CK(pthread_create(&wt[t], NULL, batch_writer, &w[t]) == 0);
    }
    for (int t = 0; t < WRITERS; t++) pthread_join(wt[t], NULL);
    latch_set(&done, 1);
    for (int t = 0; t < 2; t++) pthread_join(ot[t], NULL);
    for (int t = 0; t < WRITERS; t++) {
        uint64_t n = 0;
        CHECK(w[t].fails == 0, "writer %d: %d failed batches (first error %d)", t, w[t].fails, (int)w[t].first_error);
        CK(kvidxCountRange(&inst, REGION(t), REGION(t) + ROUNDS * BATCH, &n) == KVIDX_OK);
        CHECK_EQ_U64(n, ROUNDS * BATCH);
    }
    for (int t = 0; t < 2; t++) {
        CHECK(o[t].fails == 0, "observer %d: %d failed reads in %d rounds (first error %d)", t, o[t].fails,
              o[t].rounds, (int)o[t].first_error);
        CHECK(o[t].partial == 0, "observer %d: saw part of a batch %d times", t, o[t].partial);
    }
    CK(!inst.transactionActive);
    CK(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* A batch filter may call back into the instance */

typedef struct {
    kvidxInstance *inst;
    int calls, begin_refused, close_refused;
} filter_ctx;

static bool skip_existing(size_t idx, const kvidxEntry *e, void *user) {
    filter_ctx *f = user;
    f->calls++;
    if (idx == 1) {
        /* a transaction cannot be begun or the instance closed from here */
        if (!kvidxBegin(f->inst) && kvidxGetLastError(f->inst) == KVIDX_ERROR_TRANSACTION_ACTIVE) f->begin_refused++;
        if (!kvidxClose(f->inst) && kvidxGetLastError(f->inst) == KVIDX_ERROR_LOCKED) f->close_refused++;
    }
    return !kvidxExists(f->inst, e->key);
}

static void test_batch_filter_reenters(void) {
    kvidxInstance inst;
    kvidxEntry e[4];
    filter_ctx f;
    size_t inserted = 0;
    uint64_t n = 0;
    check_set_context(ad->name);
    if (!open_db(&inst, -1)) return;
    CK(kvidxInsert(&inst, 11, 1, 1, "old", 3));
    for (int j = 0; j < 4; j++) {
        e[j].key = 10 + (uint64_t)j;
        e[j].term = 2;
        e[j].cmd = 2;
        e[j].data = "new";
        e[j].dataLen = 3;
    }
    e[3].key = 10; /* repeated within the batch: the filter sees the first one */
    memset(&f, 0, sizeof f);
    f.inst = &inst;
    CK(kvidxInsertBatchEx(&inst, e, 4, skip_existing, &f, &inserted));
    CHECK_EQ_U64(inserted, 2);
    CHECK_EQ_INT(f.calls, 4);
    CHECK_EQ_INT(f.begin_refused, 1);
    CHECK_EQ_INT(f.close_refused, 1);
    CK(kvidxCountRange(&inst, 0, 100, &n) == KVIDX_OK);
    CHECK_EQ_U64(n, 3);
    {
        uint64_t term = 0;
        CK(kvidxGet(&inst, 11, &term, NULL, NULL, NULL));
        CHECK_EQ_U64(term, 1); /* kept: the filter skipped it */
    }
    CK(!inst.transactionActive);
    CK(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* Transactions belong to the thread that began them */

typedef struct {
    kvidxInstance *inst;
    latch *began, *tried;
    int fails;
    kvidxError code;
    char msg[256];
} txn_peer;

static void *insert_during_txn(void *arg) {
    txn_peer *p = arg;
    latch_wait(p->began, 1);
    for (uint64_t k = 0; k < 20; k++) {
        if (!kvidxInsert(p->inst, 5000 + k, 7, 7, "peer", 4)) {
            if (p->fails++ == 0) {
                p->code = kvidxGetLastError(p->inst);
                snprintf(p->msg, sizeof p->msg, "%s", kvidxGetLastErrorMessage(p->inst));
            }
        }
    }
    latch_set(p->tried, 1);
    return NULL;
}

static void test_transaction_waits(void) {
    kvidxInstance inst;
    pthread_t th;
    txn_peer p;
    latch began, tried;
    uint64_t n = 0;
    check_set_context(ad->name);
    if (!open_db(&inst, 10000)) return;
    latch_init(&began);
    latch_init(&tried);
    memset(&p, 0, sizeof p);
    p.inst = &inst;
    p.began = &began;
    p.tried = &tried;
    CK(pthread_create(&th, NULL, insert_during_txn, &p) == 0);
    CK(kvidxBegin(&inst));
    for (uint64_t k = 0; k < 20; k++) CK(kvidxInsert(&inst, 1000 + k, 1, 1, "mine", 4));
    latch_set(&began, 1);
    sleep_ms(100); /* the peer is waiting for this transaction meanwhile */
    CHECK_EQ_INT(latch_get(&tried), 0);
    for (uint64_t k = 20; k < 40; k++) CK(kvidxInsert(&inst, 1000 + k, 1, 1, "mine", 4));
    CK(kvidxAbort(&inst));
    pthread_join(th, NULL);
    CHECK(p.fails == 0, "peer: %d failed inserts (%d: %s)", p.fails, (int)p.code, p.msg);
    /* the abort took only this thread's writes */
    CK(kvidxCountRange(&inst, 1000, 1039, &n) == KVIDX_OK);
    CHECK_EQ_U64(n, 0);
    CK(kvidxCountRange(&inst, 5000, 5019, &n) == KVIDX_OK);
    CHECK_EQ_U64(n, 20);
    CK(kvidxClose(&inst));
}

static void test_transaction_busy_timeout_zero(void) {
    kvidxInstance inst;
    pthread_t th;
    txn_peer p;
    latch began, tried;
    uint64_t n = 0;
    check_set_context(ad->name);
    if (!open_db(&inst, -1)) return; /* a plain open: busy timeout 0 */
    latch_init(&began);
    latch_init(&tried);
    memset(&p, 0, sizeof p);
    p.inst = &inst;
    p.began = &began;
    p.tried = &tried;
    CK(pthread_create(&th, NULL, insert_during_txn, &p) == 0);
    CK(kvidxBegin(&inst));
    CK(kvidxInsert(&inst, 1000, 1, 1, "mine", 4));
    latch_set(&began, 1);
    latch_wait(&tried, 1);
    CK(kvidxCommit(&inst));
    pthread_join(th, NULL);
    /* without a busy timeout the peer is told at once */
    CHECK_EQ_INT(p.fails, 20);
    CHECK_EQ_INT(p.code, KVIDX_ERROR_LOCKED);
    CHECK(strstr(p.msg, "Insert: ") == p.msg && strstr(p.msg, "another thread") != NULL, "%s", p.msg);
    CK(kvidxCountRange(&inst, 5000, 5019, &n) == KVIDX_OK);
    CHECK_EQ_U64(n, 0);
    CK(kvidxCountRange(&inst, 1000, 1000, &n) == KVIDX_OK);
    CHECK_EQ_U64(n, 1);
    CK(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* lastError: code and message written together */

#define ERR_THREADS 4
#define ERR_ROUNDS 200

/* Rounds to run: all of them natively; under valgrind enough to exercise
 * the code (see under_valgrind). */
static int err_rounds(void) {
    return under_valgrind ? 10 : ERR_ROUNDS;
}

typedef struct {
    kvidxInstance *inst;
    pthread_barrier_t *start, *end;
    volatile int *stop;
    int t;
    int rounds;
    char text[251];
} failer;

/* Each round every thread makes failing calls as fast as it can until the
 * main thread says stop: the last calls of the threads overlap. Each makes
 * at least one call per round, however late it is scheduled (the round's
 * error slot is then never left empty). */
static void *fail_together(void *arg) {
    failer *f = arg;
    for (int r = 0; r < f->rounds; r++) {
        uint64_t j = 0;
        pthread_barrier_wait(f->start);
        do {
            switch ((f->t + j++) % 5) {
            case 0: /* NOT_FOUND: "Get: key <k> not found" */
                (void)kvidxGet(f->inst, 900000000000ull + (uint64_t)f->t * 100000 + j % 1000, NULL, NULL, NULL, NULL);
                break;
            case 1: /* DUPLICATE_KEY: "Insert: key <k> already exists" */
                (void)kvidxInsert(f->inst, SEED_BASE + j % SEEDED, 0, 0, "d", 1);
                break;
            case 2: /* argument check: INVALID_ARGUMENT */
                (void)kvidxInsert(f->inst, 1, 0, 0, NULL, 5);
                break;
            case 3: /* NO_TRANSACTION */
                (void)kvidxCommit(f->inst);
                break;
            }
            /* a long message of the caller's own: 200 + t, 250 x ('a' + t) */
            kvidxSetError(f->inst, (kvidxError)(200 + f->t), "%s", f->text);
            sched_yield();
        } while (!f->stop[r]);
        pthread_barrier_wait(f->end);
    }
    return NULL;
}

/* True if code and message describe one and the same failure. */
static bool error_pair_consistent(kvidxError code, const char *msg) {
    unsigned long long k = 0;
    char tail[64];
    int used = 0;
    if (code == KVIDX_ERROR_NOT_FOUND) {
        if (sscanf(msg, "Get: key %llu not %63s%n", &k, tail, &used) != 2) return false;
        return strcmp(tail, "found") == 0 && msg[used] == '\0' && k >= 900000000000ull;
    }
    if (code == KVIDX_ERROR_DUPLICATE_KEY) {
        if (sscanf(msg, "Insert: key %llu already %63s%n", &k, tail, &used) != 2) return false;
        return strcmp(tail, "exists") == 0 && msg[used] == '\0' && k >= SEED_BASE && k < SEED_BASE + SEEDED;
    }
    if ((int)code >= 200 && (int)code < 200 + ERR_THREADS) {
        size_t n = strlen(msg);
        if (n != 250) return false;
        for (size_t x = 0; x < n; x++)
            if (msg[x] != 'a' + ((int)code - 200)) return false;
        return true;
    }
    if (code == KVIDX_ERROR_INVALID_ARGUMENT) return strcmp(msg, "Insert: invalid argument: data is NULL but dataLen is 5") == 0;
    if (code == KVIDX_ERROR_NO_TRANSACTION) return strcmp(msg, "Commit: no transaction is active") == 0;
    return false;
}

static void test_error_state(void) {
    kvidxInstance inst;
    pthread_t th[ERR_THREADS];
    failer f[ERR_THREADS];
    pthread_barrier_t start, end;
    int bad = 0;
    const int rounds = err_rounds();
    check_set_context(ad->name);
    if (!open_db(&inst, -1)) return;
    for (uint64_t k = SEED_BASE; k < SEED_BASE + SEEDED; k++) CK(kvidxInsert(&inst, k, k, 0, "s", 1));
    static volatile int stop[ERR_ROUNDS];
    memset((void *)stop, 0, sizeof stop);
    pthread_barrier_init(&start, NULL, ERR_THREADS + 1);
    pthread_barrier_init(&end, NULL, ERR_THREADS + 1);
    for (int t = 0; t < ERR_THREADS; t++) {
        f[t].inst = &inst;
        f[t].start = &start;
        f[t].end = &end;
        f[t].stop = stop;
        f[t].t = t;
        f[t].rounds = rounds;
        memset(f[t].text, 'a' + t, 250);
        f[t].text[250] = '\0';
        CK(pthread_create(&th[t], NULL, fail_together, &f[t]) == 0);
    }
    for (int r = 0; r < rounds; r++) {
        kvidxError code;
        char msg[256];
        pthread_barrier_wait(&start);
        sleep_ms(1);
        stop[r] = 1;
        pthread_barrier_wait(&end);
        /* every thread's call has returned: the slot holds one whole error */
        code = kvidxGetLastError(&inst);
        snprintf(msg, sizeof msg, "%s", kvidxGetLastErrorMessage(&inst));
        if (!error_pair_consistent(code, msg)) {
            if (bad++ == 0) fprintf(stderr, "round %d: code %d with message \"%s\"\n", r, (int)code, msg);
        }
    }
    for (int t = 0; t < ERR_THREADS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&end);
    CHECK(bad == 0, "%d of %d rounds left a code and a message of different calls", bad, rounds);
    CK(kvidxClose(&inst));
}

/* A caller's adapter whose Get records its error slowly (code, a pause,
 * then the message): every call on the instance, its members included, is
 * one unit, so another thread's error can only come before or after it. */
static int slow_token;

static bool slow_open(kvidxInstance *i, const char *filename, const char **err) {
    (void)filename;
    (void)err;
    i->kvidxdata = &slow_token;
    return true;
}

static bool slow_close(kvidxInstance *i) {
    i->kvidxdata = NULL;
    return true;
}

static bool slow_get(kvidxInstance *i, uint64_t key, uint64_t *term, uint64_t *cmd, const uint8_t **data,
                     size_t *len) {
    (void)key;
    (void)term;
    (void)cmd;
    (void)data;
    (void)len;
    i->lastError = KVIDX_ERROR_NOT_FOUND;
    sleep_ms(20);
    snprintf(i->lastErrorMessage, sizeof i->lastErrorMessage, "slow get: not found");
    return false;
}

typedef struct {
    kvidxInstance *inst;
    latch *in_get;
} slow_peer;

static void *set_error_meanwhile(void *arg) {
    slow_peer *p = arg;
    latch_wait(p->in_get, 1);
    sleep_ms(5); /* the Get is between its two writes now */
    kvidxSetError(p->inst, KVIDX_ERROR_IO, "peer: I/O");
    return NULL;
}

static void test_error_pairs_custom_adapter(void) {
    kvidxInstance inst;
    pthread_t th;
    slow_peer p;
    latch in_get;
    const char *err = NULL;
    int code = 0;
    const char *msg;
    check_set_context("custom adapter");
    memset(&inst, 0, sizeof inst);
    inst.interface.open = slow_open;
    inst.interface.close = slow_close;
    inst.interface.get = slow_get;
    CK(kvidxOpen(&inst, "slow", &err));
    latch_init(&in_get);
    p.inst = &inst;
    p.in_get = &in_get;
    CK(pthread_create(&th, NULL, set_error_meanwhile, &p) == 0);
    latch_set(&in_get, 1);
    CK(!kvidxGet(&inst, 1, NULL, NULL, NULL, NULL));
    pthread_join(th, NULL);
    code = kvidxGetLastError(&inst);
    msg = kvidxGetLastErrorMessage(&inst);
    /* the peer's error came after the Get, whole */
    CHECK(code == KVIDX_ERROR_IO && strcmp(msg, "peer: I/O") == 0, "code %d with message \"%s\"", code, msg);
    CK(kvidxClose(&inst));
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    under_valgrind = getenv("KVIDX_VALGRIND") != NULL && strcmp(getenv("KVIDX_VALGRIND"), "1") == 0;
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        ad = kvidxGetAdapterByIndex(a);
        CK(ad != NULL);
        if (ad == NULL) continue;
        test_batches_are_one_call();
        test_batch_filter_reenters();
        test_transaction_waits();
        test_transaction_busy_timeout_zero();
        test_error_state();
    }
    test_error_pairs_custom_adapter();
    return check_report();
}
