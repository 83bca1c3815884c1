/* cookbook/fixed.c: the test driver of the corrected recipes of
 * docs/cookbook.md. For each one it checks, on every engine of the
 * registry, that it does exactly what its comment says — in the situations
 * where the cookbook's original did not. The original recipes are in the
 * same translation unit (their types and the functions the corrected
 * recipes keep, e.g. page_free, stack_pop, lock_release, are used). */

#define H63 (UINT64_C(1) << 63)

/* keys from..to with a one-byte value */
static void f_fill(kvidxInstance *db, uint64_t from, uint64_t to) {
    for (uint64_t k = from; k <= to; k++) {
        CHECK(cb_put(db, k, "p"));
    }
}

/* ------------------------------------------------------------------ */
/* 1: counter */

static void f01_counter(void) {
    kvidxInstance db;
    cb_scenario = "fixed 1";
    if (!cb_open(&db, "f01")) {
        return;
    }
    uint64_t a = counter_increment_fixed(&db, 7);
    uint64_t b = counter_increment_fixed(&db, 7);
    uint64_t c = counter_increment_fixed(&db, 7);
    CHECK_U64(a, 1);
    CHECK_U64(b, 2);
    CHECK_U64(c, 3);
    CHECK_U64(counter_get(&db, 7), 3);
    CHECK(counter_reset_fixed(&db, 7));
    CHECK_U64(counter_get(&db, 7), 0);
    CHECK(kvidxExists(&db, 7));
    CHECK_U64(counter_increment_fixed(&db, 7), 1);
    CHECK(counter_reset_fixed(&db, 8)); /* creates it */
    CHECK_U64(counter_increment_fixed(&db, 8), 1);
    CHECK_U64(counter_increment_fixed(&db, UINT64_MAX), 1);
    /* inside a caller's transaction it refuses (and changes nothing) */
    CHECK(kvidxBegin(&db));
    CHECK_U64(counter_increment_fixed(&db, 7), 0);
    CHECK(kvidxAbort(&db));
    CHECK_U64(counter_get(&db, 7), 1);
    CHECK(!db.transactionActive);
    cb_close(&db);
    cb_say(1, "atomic counter", FIXED, "increments return %" PRIu64 ",%" PRIu64 ",%" PRIu64 "; reset sets 0", a, b, c);
}

/* ------------------------------------------------------------------ */
/* 2: ID generator, also from several threads on one instance */

#define F02_THREADS 4
#define F02_PER_THREAD 200

typedef struct {
    kvidxInstance *db;
    uint64_t ids[F02_PER_THREAD];
} F02Task;

static void *f02_thread(void *arg) {
    F02Task *t = arg;
    for (int i = 0; i < F02_PER_THREAD; i++) {
        t->ids[i] = generate_id_fixed(t->db);
    }
    return NULL;
}

static void f02_id_generator(void) {
    kvidxInstance db;
    uint64_t ids[5];
    static F02Task tasks[F02_THREADS];
    pthread_t th[F02_THREADS];
    static unsigned char seen[F02_THREADS * F02_PER_THREAD + 6];
    cb_scenario = "fixed 2";
    if (!cb_open(&db, "f02")) {
        return;
    }
    for (int i = 0; i < 5; i++) {
        ids[i] = generate_id_fixed(&db);
    }
    CHECK_KEYS(ids, 5, KEYS(1, 2, 3, 4, 5));
    uint64_t stored = 0;
    CHECK(cb_u64_at(&db, 0, &stored));
    CHECK_U64(stored, 5);
    int started = 0;
    for (int t = 0; t < F02_THREADS; t++) {
        tasks[t].db = &db;
        if (pthread_create(&th[t], NULL, f02_thread, &tasks[t]) == 0) {
            started++;
        }
    }
    CHECK_I64(started, F02_THREADS);
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
    }
    /* every ID from 6 to 805 handed out exactly once */
    unsigned unique = 0;
    memset(seen, 0, sizeof seen);
    for (int t = 0; t < started; t++) {
        for (int i = 0; i < F02_PER_THREAD; i++) {
            uint64_t id = tasks[t].ids[i];
            if (id >= 6 && id < 6 + F02_THREADS * F02_PER_THREAD && !seen[id]) {
                seen[id] = 1;
                unique++;
            }
        }
    }
    CHECK_U64(unique, F02_THREADS * F02_PER_THREAD);
    CHECK(cb_u64_at(&db, 0, &stored));
    CHECK_U64(stored, 5 + F02_THREADS * F02_PER_THREAD);
    cb_close(&db);
    cb_say(2, "ID generator", FIXED, "ids 1..5, then %u distinct ids from %d threads sharing the instance", unique,
           F02_THREADS);
}

/* ------------------------------------------------------------------ */
/* 3: gap detection */

static uint64_t f03_run(kvidxInstance *db, uint64_t start, uint64_t end, size_t capacity, uint64_t *gaps,
                        size_t *n) {
    GapDetector d;
    memset(&d, 0, sizeof d);
    d.gaps = gaps;
    d.gapCapacity = capacity;
    uint64_t absent = detect_gaps_fixed(db, start, end, &d);
    *n = d.gapCount;
    return absent;
}

static void f03_gaps(void) {
    kvidxInstance db, empty;
    uint64_t gaps[16];
    size_t n = 0;
    cb_scenario = "fixed 3";
    if (!cb_open(&db, "f03")) {
        return;
    }
    static const uint64_t keys[] = {0, 1, 3, 10, 11, 13, 16, H63 - 2, H63, H63 + 3, UINT64_MAX - 2, UINT64_MAX};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CHECK(cb_put(&db, keys[i], "x"));
    }
    CHECK_U64(f03_run(&db, 0, 3, 16, gaps, &n), 1);
    CHECK_KEYS(gaps, n, KEYS(2));
    /* the tail of the range is reported too */
    uint64_t inner = f03_run(&db, 10, 20, 16, gaps, &n);
    CHECK_U64(inner, 7);
    CHECK_KEYS(gaps, n, KEYS(12, 14, 15, 17, 18, 19, 20));
    CHECK_U64(f03_run(&db, 8, 11, 16, gaps, &n), 2);
    CHECK_KEYS(gaps, n, KEYS(8, 9));
    CHECK_U64(f03_run(&db, H63 - 2, H63 + 3, 16, gaps, &n), 3);
    CHECK_KEYS(gaps, n, KEYS(H63 - 1, H63 + 1, H63 + 2));
    CHECK_U64(f03_run(&db, UINT64_MAX - 3, UINT64_MAX, 16, gaps, &n), 2);
    CHECK_KEYS(gaps, n, KEYS(UINT64_MAX - 3, UINT64_MAX - 1));
    CHECK_U64(f03_run(&db, 11, 11, 16, gaps, &n), 0);
    CHECK_U64(n, 0);
    /* capacity bounds the list, not the count */
    CHECK_U64(f03_run(&db, 10, 20, 2, gaps, &n), 7);
    CHECK_KEYS(gaps, n, KEYS(12, 14));
    /* huge gaps are counted at once, not walked */
    uint64_t huge = f03_run(&db, 17, H63 - 3, 3, gaps, &n);
    CHECK_U64(huge, H63 - 3 - 17 + 1);
    CHECK_KEYS(gaps, n, KEYS(17, 18, 19));
    CHECK_U64(f03_run(&db, 0, UINT64_MAX, 4, gaps, &n), UINT64_MAX - 11);
    CHECK_KEYS(gaps, n, KEYS(2, 4, 5, 6));
    CHECK_U64(f03_run(&db, 20, 10, 16, gaps, &n), 0);
    CHECK_U64(n, 0);
    if (cb_open(&empty, "f03empty")) {
        CHECK_U64(f03_run(&empty, 0, UINT64_MAX, 2, gaps, &n), UINT64_MAX); /* 2^64 does not fit */
        CHECK_KEYS(gaps, n, KEYS(0, 1));
        CHECK_U64(f03_run(&empty, 5, 9, 16, gaps, &n), 5);
        CHECK_KEYS(gaps, n, KEYS(5, 6, 7, 8, 9));
        cb_close(&empty);
    }
    cb_close(&db);
    cb_say(3, "gap detection", FIXED,
           "10..20 -> %" PRIu64 " absent (12,14,15 and the tail 17..20); a gap of 2^63-19 keys counted at once; "
           "keys 0, 2^63 and UINT64_MAX handled",
           inner);
}

/* ------------------------------------------------------------------ */
/* 4: simple TTL cache */

static void f04_simple_cache(void) {
    Cache c;
    const uint8_t *v = NULL;
    size_t l = 0;
    cb_scenario = "fixed 4";
    if (!cb_open(&c.db, "f04")) {
        return;
    }
    c.defaultTtlMs = 60000;
    CHECK(cache_set_fixed(&c, 1, "v1", 2));
    CHECK(cache_get_fixed(&c, 1, &v, &l));
    CHECK_MEM(v, l, "v1");
    CHECK(cache_set_fixed(&c, 1, "v2", 2));
    CHECK(cache_get_fixed(&c, 1, &v, &l));
    CHECK_MEM(v, l, "v2");
    int64_t ttl = kvidxGetTTL(&c.db, 1);
    CHECK(ttl > 59000 && ttl <= 60000);
    /* without TTL: hits, and an earlier TTL is dropped */
    c.defaultTtlMs = 0;
    CHECK(cache_set_fixed(&c, 1, "v3", 2));
    CHECK(kvidxGetTTL(&c.db, 1) == KVIDX_TTL_NONE);
    CHECK(cache_get_fixed(&c, 1, &v, &l));
    CHECK_MEM(v, l, "v3");
    CHECK(cache_set_fixed(&c, 4, "forever", 7));
    CHECK(cache_get_fixed(&c, 4, &v, &l));
    CHECK_MEM(v, l, "forever");
    /* expiry */
    c.defaultTtlMs = CB_SHORT_TTL;
    CHECK(cache_set_fixed(&c, 2, "short", 5));
    CHECK(cache_get_fixed(&c, 2, &v, &l));
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    CHECK(!cache_get_fixed(&c, 2, &v, &l));
    c.defaultTtlMs = 60000;
    CHECK(cache_set_fixed(&c, 2, "back", 4));
    CHECK(cache_get_fixed(&c, 2, &v, &l));
    CHECK_MEM(v, l, "back");
    CHECK(kvidxGetTTL(&c.db, 2) > 0);
    cache_delete(&c, 2);
    CHECK(!cache_get_fixed(&c, 2, &v, &l));
    /* inside a caller's transaction it refuses */
    CHECK(kvidxBegin(&c.db));
    CHECK(!cache_set_fixed(&c, 5, "x", 1));
    CHECK(kvidxAbort(&c.db));
    CHECK(!c.db.transactionActive);
    cb_close(&c.db);
    cb_say(4, "simple TTL cache", FIXED, "values replaced, entries without TTL hit, expired entries miss");
}

/* ------------------------------------------------------------------ */
/* 5: write-through cache */

#define F05_SOURCE 8
typedef struct {
    char values[F05_SOURCE][16];
    int loads;
} F05Source;

static bool f05_loader(uint64_t key, void **data, size_t *len, void *ctx) {
    F05Source *s = ctx;
    if (key >= F05_SOURCE || s->values[key][0] == '\0') {
        return false;
    }
    s->loads++;
    *len = strlen(s->values[key]);
    *data = malloc(*len);
    memcpy(*data, s->values[key], *len);
    return true;
}

static bool f05_writer(uint64_t key, const void *data, size_t len, void *ctx) {
    F05Source *s = ctx;
    if (key >= F05_SOURCE || len >= sizeof s->values[0]) {
        return false;
    }
    memcpy(s->values[key], data, len);
    s->values[key][len] = '\0';
    return true;
}

static bool f05_get(WriteThruCache *c, uint64_t key, const char *want) {
    void *d = NULL;
    size_t l = 0;
    if (!cache_get_or_load(c, key, &d, &l)) {
        return false;
    }
    bool same = l == strlen(want) && memcmp(d, want, l) == 0;
    free(d);
    return same;
}

static void f05_write_through(void) {
    WriteThruCache c;
    F05Source src;
    cb_scenario = "fixed 5";
    memset(&src, 0, sizeof src);
    strcpy(src.values[1], "src1");
    if (!cb_open(&c.db, "f05")) {
        return;
    }
    c.loader = f05_loader;
    c.writer = f05_writer;
    c.ctx = &src;
    c.ttlMs = 60000;
    CHECK(f05_get(&c, 1, "src1"));
    CHECK_I64(src.loads, 1);
    CHECK(cache_put_through_fixed(&c, 1, "new1", 4));
    CHECK(strcmp(src.values[1], "new1") == 0);
    CHECK(f05_get(&c, 1, "new1")); /* from the cache, no reload */
    CHECK_I64(src.loads, 1);
    CHECK(kvidxGetTTL(&c.db, 1) > 0);
    CHECK(cache_put_through_fixed(&c, 2, "two", 3));
    CHECK(f05_get(&c, 2, "two"));
    CHECK_I64(src.loads, 1);
    /* the source refuses: nothing changes */
    CHECK(!cache_put_through_fixed(&c, 9, "nine", 4));
    CHECK(!kvidxExists(&c.db, 9));
    /* without TTL the cached value is permanent and still replaced */
    c.ttlMs = 0;
    CHECK(cache_put_through_fixed(&c, 1, "third", 5));
    CHECK(kvidxGetTTL(&c.db, 1) == KVIDX_TTL_NONE);
    CHECK(f05_get(&c, 1, "third"));
    /* a short TTL: the value is reloaded from the source afterwards */
    c.ttlMs = CB_SHORT_TTL;
    CHECK(cache_put_through_fixed(&c, 3, "t3", 2));
    strcpy(src.values[3], "t3b");
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    CHECK(f05_get(&c, 3, "t3b"));
    CHECK_I64(src.loads, 2);
    CHECK(!c.db.transactionActive);
    cb_close(&c.db);
    cb_say(5, "write-through cache", FIXED, "a write-through replaces the cached value; reads see it without reload");
}

/* ------------------------------------------------------------------ */
/* 6: LRU refresh */

static void f06_lru(void) {
    Cache c;
    const uint8_t *v = NULL;
    size_t l = 0;
    cb_scenario = "fixed 6";
    if (!cb_open(&c.db, "f06")) {
        return;
    }
    c.defaultTtlMs = 60000;
    CHECK(cache_set_fixed(&c, 1, "hot", 3));
    cb_sleep_ms(300);
    int64_t before = kvidxGetTTL(&c.db, 1);
    CHECK(lru_cache_get_fixed(&c, 1, &v, &l));
    CHECK_MEM(v, l, "hot"); /* valid: nothing was called after the read */
    int64_t after = kvidxGetTTL(&c.db, 1);
    CHECK(before > 0 && before <= 59700);
    CHECK(after > before);
    /* without TTL: reads keep the entry permanent */
    c.defaultTtlMs = 0;
    CHECK(cache_set_fixed(&c, 3, "plain", 5));
    for (int i = 0; i < 3; i++) {
        CHECK(lru_cache_get_fixed(&c, 3, &v, &l));
        CHECK_MEM(v, l, "plain");
    }
    CHECK(kvidxGetTTL(&c.db, 3) == KVIDX_TTL_NONE);
    /* expired: a miss, not resurrected */
    c.defaultTtlMs = CB_SHORT_TTL;
    CHECK(cache_set_fixed(&c, 2, "cold", 4));
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    CHECK(!lru_cache_get_fixed(&c, 2, &v, &l));
    CHECK(!kvidxExists(&c.db, 2));
    CHECK(!lru_cache_get_fixed(&c, 42, &v, &l));
    cb_close(&c.db);
    cb_say(6, "LRU TTL refresh", FIXED,
           "TTL %" PRId64 " -> %" PRId64 " ms on access; no-TTL entries survive reads; expired entries miss", before,
           after);
}

/* ------------------------------------------------------------------ */
/* 7: cursor pagination */

/* Walks every page; returns the number of keys collected into out. */
static size_t f07_walk(kvidxInstance *db, size_t pageSize, uint64_t *out, size_t max, int *pages) {
    size_t n = 0;
    uint64_t cursor = 0;
    *pages = 0;
    for (;;) {
        Page p = paginate_fixed(db, cursor, pageSize);
        (*pages)++;
        for (size_t i = 0; i < p.count && n < max; i++) {
            out[n++] = p.keys[i];
        }
        bool more = p.hasMore;
        cursor = p.nextCursor;
        page_free(&p);
        if (!more || *pages > 100) {
            break;
        }
    }
    return n;
}

static void f07_cursor(void) {
    kvidxInstance db;
    uint64_t seen[32];
    size_t n;
    int pages = 0;
    Page p;
    cb_scenario = "fixed 7";
    if (!cb_open(&db, "f07")) {
        return;
    }
    f_fill(&db, 1, 5);
    p = paginate_fixed(&db, 0, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(1, 2));
    CHECK(p.hasMore);
    CHECK_U64(p.nextCursor, 3);
    page_free(&p);
    p = paginate_fixed(&db, 3, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(3, 4));
    CHECK(p.hasMore);
    uint64_t cursor = p.nextCursor;
    page_free(&p);
    p = paginate_fixed(&db, cursor, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(5));
    CHECK(!p.hasMore);
    page_free(&p);
    /* exactly one page's worth: hasMore is false */
    p = paginate_fixed(&db, 0, 5);
    CHECK_U64(p.count, 5);
    CHECK(!p.hasMore);
    page_free(&p);
    f_fill(&db, 6, 10);
    n = f07_walk(&db, 3, seen, 32, &pages);
    CHECK_KEYS(seen, n, KEYS(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    CHECK_I64(pages, 4);
    size_t walked = n;
    /* the cursor key deleted meanwhile: nothing lost */
    p = paginate_fixed(&db, 0, 2);
    cursor = p.nextCursor;
    page_free(&p);
    CHECK(kvidxRemove(&db, cursor));
    p = paginate_fixed(&db, cursor, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(4, 5));
    page_free(&p);
    /* key 0, keys >= 2^63 and UINT64_MAX, page size 1 */
    CHECK(kvidxRemoveRange(&db, 0, UINT64_MAX, true, true, NULL) == KVIDX_OK);
    f_fill(&db, 0, 2);
    CHECK(cb_put(&db, H63, "h"));
    CHECK(cb_put(&db, UINT64_MAX, "m"));
    n = f07_walk(&db, 1, seen, 32, &pages);
    CHECK_KEYS(seen, n, KEYS(0, 1, 2, H63, UINT64_MAX));
    CHECK_I64(pages, 5);
    /* page size 0: empty page, cursor unchanged */
    p = paginate_fixed(&db, 1, 0);
    CHECK_U64(p.count, 0);
    CHECK(p.hasMore);
    CHECK_U64(p.nextCursor, 1);
    page_free(&p);
    cb_close(&db);
    cb_say(7, "cursor pagination", FIXED,
           "1..5 by 2 -> [1,2] [3,4] [5]; 1..10 by 3 -> all %zu keys in 4 pages; key 0 and UINT64_MAX paged", walked);
}

/* ------------------------------------------------------------------ */
/* 9: reverse pagination */

static void f09_reverse(void) {
    kvidxInstance db;
    uint64_t seen[32];
    size_t n = 0;
    cb_scenario = "fixed 9";
    if (!cb_open(&db, "f09")) {
        return;
    }
    f_fill(&db, 1, 5);
    uint64_t before = 0;
    int pages = 0;
    for (;;) {
        Page p = paginate_latest_fixed(&db, before, 2);
        pages++;
        for (size_t i = 0; i < p.count && n < 32; i++) {
            seen[n++] = p.keys[i];
        }
        bool more = p.hasMore;
        before = p.nextCursor;
        page_free(&p);
        if (!more || pages > 100) {
            break;
        }
    }
    CHECK_KEYS(seen, n, KEYS(5, 4, 3, 2, 1));
    CHECK_I64(pages, 3);
    Page p = paginate_latest_fixed(&db, 3, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(2, 1));
    CHECK(!p.hasMore);
    page_free(&p);
    /* key 0 and keys >= 2^63 */
    CHECK(cb_put(&db, 0, "z"));
    CHECK(cb_put(&db, H63, "h"));
    CHECK(cb_put(&db, UINT64_MAX, "m"));
    p = paginate_latest_fixed(&db, 0, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(UINT64_MAX, H63));
    CHECK(p.hasMore);
    page_free(&p);
    p = paginate_latest_fixed(&db, 2, 5);
    CHECK_KEYS(p.keys, p.count, KEYS(1, 0));
    CHECK(!p.hasMore);
    page_free(&p);
    cb_close(&db);
    cb_say(9, "reverse pagination", FIXED, "1..5 by 2 -> [5,4] [3,2] [1] in %d pages; 2^63 and key 0 in order", pages);
}

/* ------------------------------------------------------------------ */
/* 10: lock acquired atomically */

static void f10_lock(void) {
    kvidxInstance db;
    DistributedLock a, b;
    cb_scenario = "fixed 10";
    if (!cb_open(&db, "f10")) {
        return;
    }
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.db = &db;
    b.db = &db;
    CHECK(lock_acquire_fixed(&a, 5, 100, 60000));
    CHECK(a.held && a.db == &db && a.ownerId == 100);
    int64_t ttl = kvidxGetTTL(&db, a.lockKey);
    CHECK(ttl > 59000 && ttl <= 60000);
    CHECK(!lock_acquire_fixed(&b, 5, 200, 60000));
    CHECK(!b.held);
    CHECK(!db.transactionActive);
    CHECK(lock_extend(&a, 1000));
    CHECK(lock_release(&a));
    CHECK(lock_acquire_fixed(&b, 5, 200, 60000));
    CHECK(lock_release(&b));
    /* a zero TTL is refused */
    CHECK(!lock_acquire_fixed(&a, 6, 100, 0));
    CHECK(!kvidxExists(&db, a.lockKey));
    /* an abandoned lock is taken over after its TTL */
    CHECK(lock_acquire_fixed(&a, 7, 100, CB_SHORT_TTL));
    CHECK(!lock_acquire_fixed(&b, 7, 200, 60000));
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    bool retaken = lock_acquire_fixed(&b, 7, 200, 60000);
    CHECK(retaken);
    CHECK(!lock_extend(&a, 1000));
    uint64_t owner = 0;
    CHECK(cb_u64_at(&db, b.lockKey, &owner));
    CHECK_U64(owner, 200);
    CHECK(lock_release(&b));
    CHECK(!db.transactionActive);
    cb_close(&db);
    cb_say(10, "distributed lock", FIXED, "lock and TTL in one transaction (TTL %" PRId64 " ms at once); expired lock retaken=%d",
           ttl, retaken);
}

/* ------------------------------------------------------------------ */
/* 11: optimistic locking on the stored bytes */

static int f11_calls;
static kvidxInstance *f11_db;

static bool f11_bang(VersionedRecord *r) {
    f11_calls++;
    strcat(r->data, "!");
    return true;
}

static bool f11_conflict_once(VersionedRecord *r) {
    if (f11_calls++ == 0) {
        VersionedRecord other = *r;
        other.version = r->version + 1;
        strcpy(other.data, "other");
        CHECK(kvidxInsertEx(f11_db, 1, 12345, 0, &other, sizeof other, KVIDX_SET_ALWAYS) == KVIDX_OK);
    }
    strcat(r->data, "+");
    return true;
}

static bool f11_conflict_always(VersionedRecord *r) {
    VersionedRecord other = *r;
    f11_calls++;
    other.version = r->version + 1;
    CHECK(kvidxInsertEx(f11_db, 1, 0, 0, &other, sizeof other, KVIDX_SET_ALWAYS) == KVIDX_OK);
    return true;
}

static bool f11_reject(VersionedRecord *r) {
    (void)r;
    f11_calls++;
    return false;
}

static bool f11_stored(kvidxInstance *db, uint64_t key, uint64_t *term, VersionedRecord *out) {
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(db, key, term, NULL, &d, &l) || l != sizeof *out) {
        return false;
    }
    memcpy(out, d, sizeof *out);
    return true;
}

static void f11_optimistic(void) {
    kvidxInstance db;
    VersionedRecord rec, got;
    uint64_t term = 0;
    cb_scenario = "fixed 11";
    if (!cb_open(&db, "f11")) {
        return;
    }
    f11_db = &db;
    memset(&rec, 0, sizeof rec);
    rec.version = 1;
    strcpy(rec.data, "hello");
    /* stored with term 0 though the version is 1: still updatable */
    CHECK(kvidxInsert(&db, 1, 0, 0, &rec, sizeof rec));
    f11_calls = 0;
    CHECK(optimistic_update_fixed(&db, 1, &got, f11_bang));
    CHECK(f11_stored(&db, 1, &term, &got));
    CHECK_U64(got.version, 2);
    CHECK_U64(term, 2);
    CHECK(strcmp(got.data, "hello!") == 0);
    f11_calls = 0;
    CHECK(optimistic_update_fixed(&db, 1, &got, f11_conflict_once));
    CHECK_I64(f11_calls, 2);
    CHECK(f11_stored(&db, 1, &term, &got));
    CHECK_U64(got.version, 4);
    CHECK(strcmp(got.data, "other+") == 0);
    f11_calls = 0;
    CHECK(!optimistic_update_fixed(&db, 1, &got, f11_conflict_always));
    CHECK_I64(f11_calls, 3);
    f11_calls = 0;
    CHECK(f11_stored(&db, 1, &term, &rec));
    CHECK(!optimistic_update_fixed(&db, 1, &got, f11_reject));
    CHECK(f11_stored(&db, 1, &term, &got));
    CHECK(memcmp(&got, &rec, sizeof got) == 0);
    CHECK(!optimistic_update_fixed(&db, 99, &got, f11_bang));
    /* a shorter stored value is read into a zeroed record */
    CHECK(cb_put(&db, 3, ""));
    CHECK(optimistic_update_fixed(&db, 3, &got, f11_bang));
    CHECK(f11_stored(&db, 3, &term, &got));
    CHECK_U64(got.version, 1);
    CHECK(strcmp(got.data, "!") == 0);
    cb_close(&db);
    cb_say(11, "optimistic locking", FIXED, "works whatever the stored term; retries once on conflict, gives up after 3");
}

/* ------------------------------------------------------------------ */
/* 12: stack */

static void f12_pop_is(Stack *s, const char *want) {
    void *d = NULL;
    size_t l = 0;
    CHECK(stack_pop(s, &d, &l));
    CHECK_MEM(d, l, want);
    free(d);
}

static void f12_stack(void) {
    Stack s;
    void *d = NULL;
    size_t l = 0;
    cb_scenario = "fixed 12";
    if (!cb_open(&s.db, "f12")) {
        return;
    }
    s.stackId = 1;
    CHECK(!stack_peek_fixed(&s, &d, &l));
    CHECK(stack_push_fixed(&s, "a", 1));
    CHECK(stack_push_fixed(&s, "b", 1));
    s.stackId = 2;
    CHECK(stack_push_fixed(&s, "x", 1));
    s.stackId = 1;
    CHECK(stack_push_fixed(&s, "c", 1)); /* the original failed here */
    s.stackId = 2;
    CHECK(stack_push_fixed(&s, "y", 1));
    s.stackId = 1;
    CHECK(stack_peek_fixed(&s, &d, &l));
    CHECK_MEM(d, l, "c");
    free(d);
    f12_pop_is(&s, "c");
    f12_pop_is(&s, "b");
    f12_pop_is(&s, "a");
    CHECK(!stack_pop(&s, &d, &l));
    s.stackId = 2;
    f12_pop_is(&s, "y");
    f12_pop_is(&s, "x");
    /* the highest stack id; a full stack refuses */
    s.stackId = 0xFFFFFFFFu;
    CHECK(stack_push_fixed(&s, "top", 3));
    CHECK(kvidxExists(&s.db, (UINT64_C(0xFFFFFFFF) << 32) | 1));
    CHECK(stack_peek_fixed(&s, &d, &l));
    CHECK_MEM(d, l, "top");
    free(d);
    s.stackId = 3;
    CHECK(cb_put(&s.db, (UINT64_C(3) << 32) | 0xFFFFFFFFu, "last"));
    CHECK(!stack_push_fixed(&s, "over", 4));
    CHECK(!kvidxExists(&s.db, UINT64_C(4) << 32));
    cb_close(&s.db);
    cb_say(12, "stack", FIXED, "stacks 1 and 2 interleaved stay LIFO each; peek returns its own copy");
}

/* ------------------------------------------------------------------ */
/* 13: sorted set */

static void f13_sorted_set(void) {
    SortedSet z;
    cb_scenario = "fixed 13";
    if (!cb_open(&z.db, "f13")) {
        return;
    }
    CHECK(zset_add_fixed(&z, 1, 10, "a", 1));
    CHECK(zset_add_fixed(&z, 2, 30, "b", 1));
    CHECK(zset_add_fixed(&z, 3, 0x80000000u, "c", 1));
    CHECK(zset_add_fixed(&z, 1, 10, "a1", 2)); /* same score: value replaced */
    CHECK(zset_add_fixed(&z, 1, 0xFFFFFFFFu, "a2", 2));
    CHECK(zset_add_fixed(&z, 2, 5, "b2", 2));
    CHECK_U64(cb_count(&z.db), 3);
    cb_collect_reset();
    CHECK_U64(zset_top_n(&z, 10, cb_collect_scored), 3);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(1, 3, 2));
    CHECK_KEYS(cb_got_aux, cb_ngot, KEYS(0xFFFFFFFFu, 0x80000000u, 5));
    CHECK(strcmp(cb_got_data[0], "a2") == 0);
    cb_collect_reset();
    CHECK_U64(zset_range_by_score(&z, 0, 100, cb_collect_scored), 1);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(2));
    CHECK(!z.db.transactionActive);
    cb_close(&z.db);
    cb_say(13, "sorted set", FIXED, "one entry per member: re-adding replaces, a new score moves it");
}

/* ------------------------------------------------------------------ */
/* 14: append-only log */

static void f14_log(void) {
    AppendLog lg;
    char path[1024];
    cb_scenario = "fixed 14";
    cb_path(path, sizeof path, "f14");
    CHECK(log_init_fixed(&lg, cb_ad->iface, path));
    CHECK(lg.db.interface.open == cb_ad->iface->open);
    CHECK_U64(lg.nextSeq, 1);
    CHECK_U64(log_append_fixed(&lg, "one", 3), 1);
    CHECK_U64(log_append_fixed(&lg, "two", 3), 2);
    CHECK_U64(log_append_fixed(&lg, "three", 5), 3);
    uint64_t none = log_truncate_before_fixed(&lg, 0);
    CHECK_U64(none, 0);
    CHECK_U64(log_truncate_before_fixed(&lg, 1), 0);
    CHECK_U64(cb_count(&lg.db), 3);
    CHECK_U64(log_truncate_before_fixed(&lg, 3), 2);
    cb_collect_reset();
    log_replay(&lg, 0, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(3));
    /* a failed append does not use up its number */
    CHECK(cb_put(&lg.db, 4, "taken"));
    CHECK_U64(log_append_fixed(&lg, "four", 4), 0);
    CHECK_U64(lg.nextSeq, 4);
    CHECK(kvidxRemove(&lg.db, 4));
    CHECK_U64(log_append_fixed(&lg, "four", 4), 4);
    CHECK(kvidxClose(&lg.db));
    CHECK(log_init_fixed(&lg, cb_ad->iface, path));
    CHECK_U64(lg.nextSeq, 5);
    cb_collect_reset();
    log_replay(&lg, 0, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(3, 4));
    CHECK(strcmp(cb_got_data[1], "four") == 0);
    CHECK(kvidxClose(&lg.db));
    cb_say(14, "append-only log", FIXED, "opens this engine; truncate_before(0) removes %" PRIu64 " entries", none);
}

/* ------------------------------------------------------------------ */
/* 15: bulk import */

static void f15_bulk(void) {
    kvidxInstance db;
    char csv[1024];
    uint64_t rejected = 0;
    kvidxConfig before, after;
    cb_scenario = "fixed 15";
    if (!cb_open(&db, "f15")) {
        return;
    }
    /* 25 000 lines; line 5000 repeats key 10 */
    cb_file(csv, sizeof csv, "f15.csv");
    FILE *f = fopen(csv, "w");
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    for (unsigned k = 1; k <= 25000; k++) {
        fprintf(f, "%u,value %u\n", k == 5000 ? 10 : k, k);
    }
    CHECK(fclose(f) == 0);
    CHECK(kvidxGetConfig(&db, &before) == KVIDX_OK);
    uint64_t written = bulk_import_fixed(&db, csv, &rejected);
    CHECK_U64(written, 24999);
    CHECK_U64(rejected, 1);
    CHECK_U64(cb_count(&db), 24999);
    CHECK(!kvidxExists(&db, 5000));
    CHECK(cb_value_is(&db, 10, "value 10"));
    CHECK(cb_value_is(&db, 5001, "value 5001"));
    CHECK(cb_value_is(&db, 25000, "value 25000"));
    CHECK(kvidxGetConfig(&db, &after) == KVIDX_OK);
    CHECK(after.syncMode == before.syncMode);
    CHECK(after.journalMode == before.journalMode);
    cb_close(&db);
    if (!cb_open(&db, "f15b")) {
        return;
    }
    cb_file(csv, sizeof csv, "f15b.csv");
    CHECK(cb_write_file(csv, "1,a\n2,b\n2,again\n3,c\n4,d\n5,hello world\r\nnot a line\n-7,neg\n6,\n"
                             "99999999999999999999,big\n18446744073709551615,max\n"));
    written = bulk_import_fixed(&db, csv, &rejected);
    CHECK_U64(written, 7);
    CHECK_U64(rejected, 4);
    uint64_t keys[16];
    size_t nk = cb_all_keys(&db, keys, 16);
    CHECK_KEYS(keys, nk, KEYS(1, 2, 3, 4, 5, 6, UINT64_MAX));
    CHECK(cb_value_is(&db, 2, "b"));
    CHECK(cb_value_is(&db, 5, "hello world"));
    CHECK(cb_value_is(&db, 6, ""));
    CHECK(cb_value_is(&db, UINT64_MAX, "max"));
    cb_file(csv, sizeof csv, "absent.csv");
    CHECK_U64(bulk_import_fixed(&db, csv, &rejected), 0);
    cb_close(&db);
    cb_say(15, "bulk import", FIXED,
           "25000 lines with one duplicate -> 24999 written, 1 rejected; values keep their spaces; config restored");
}

/* ------------------------------------------------------------------ */
/* 16: parallel export, hex values */

typedef struct {
    ExportTask task;
    uint64_t lines;
    bool ok;
} F16Job;

static void *f16_thread(void *arg) {
    F16Job *j = arg;
    j->ok = export_range_fixed(&j->task, &j->lines);
    return NULL;
}

static int f16_hex(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

static void f16_export(void) {
    kvidxInstance db;
    F16Job jobs[2];
    pthread_t th[2];
    char paths[2][1024];
    static const char *values[] = {"plain", "a,b", "line\nbreak", "", "x\r\ny"};
    cb_scenario = "fixed 16";
    if (!cb_open(&db, "f16")) {
        return;
    }
    for (uint64_t k = 0; k < 5; k++) {
        CHECK(kvidxInsert(&db, k * 1000, k, k + 1, values[k], strlen(values[k])));
        CHECK(kvidxInsert(&db, H63 + k, 7, 8, values[k], strlen(values[k])));
    }
    for (int t = 0; t < 2; t++) {
        char name[32];
        snprintf(name, sizeof name, "f16_part%d.csv", t);
        cb_file(paths[t], sizeof paths[t], name);
        jobs[t].task.db = &db;
        jobs[t].task.startKey = t == 0 ? 0 : H63;
        jobs[t].task.endKey = t == 0 ? H63 - 1 : UINT64_MAX;
        jobs[t].task.output = fopen(paths[t], "w");
        jobs[t].lines = 0;
        jobs[t].ok = false;
        CHECK(jobs[t].task.output != NULL);
    }
    int started = 0;
    for (int t = 0; t < 2; t++) {
        if (jobs[t].task.output != NULL && pthread_create(&th[t], NULL, f16_thread, &jobs[t]) == 0) {
            started++;
        }
    }
    CHECK_I64(started, 2);
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
    }
    unsigned matched = 0, total = 0;
    for (int t = 0; t < 2; t++) {
        if (jobs[t].task.output != NULL) {
            CHECK(fclose(jobs[t].task.output) == 0);
        }
        CHECK(jobs[t].ok);
        CHECK_U64(jobs[t].lines, 5);
        FILE *f = fopen(paths[t], "r");
        char line[256];
        CHECK(f != NULL);
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            unsigned long long k, term, cmd;
            char hex[128];
            total++;
            hex[0] = '\0';
            int fields = sscanf(line, "%llu,%llu,%llu,%127[0-9a-f]", &k, &term, &cmd, hex);
            if (fields < 3) {
                continue;
            }
            char value[64];
            size_t n = 0;
            for (size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0' && n < sizeof value - 1; i += 2) {
                value[n++] = (char)(f16_hex(hex[i]) * 16 + f16_hex(hex[i + 1]));
            }
            value[n] = '\0';
            uint64_t idx = k >= H63 ? k - H63 : k / 1000;
            if (idx < 5 && strcmp(value, values[idx]) == 0 &&
                term == (k >= H63 ? 7 : idx) && cmd == (k >= H63 ? 8 : idx + 1)) {
                matched++;
            }
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    CHECK_U64(total, 10);
    CHECK_U64(matched, 10);
    cb_close(&db);
    cb_say(16, "parallel range export", FIXED,
           "2 threads, %u lines, every value (commas, newlines, empty) read back exactly", matched);
}

/* ------------------------------------------------------------------ */
/* 20: incremental backup */

static void f20_incremental(void) {
    kvidxInstance db, dst;
    IncrementalBackupFixed st;
    char file[1024];
    cb_scenario = "fixed 20";
    if (!cb_open(&db, "f20")) {
        return;
    }
    memset(&st, 0, sizeof st);
    snprintf(st.backupDir, sizeof st.backupDir, "%s/%s_f20_backups", cb_base, cb_ad->name);
    CHECK(mkdir(st.backupDir, 0755) == 0);
    CHECK(incremental_backup_fixed(&db, &st));
    CHECK_I64(st.backupCount, 0);
    for (uint64_t k = 0; k <= 10; k++) {
        CHECK(cb_put(&db, k, "first"));
    }
    CHECK(incremental_backup_fixed(&db, &st));
    CHECK_I64(st.backupCount, 1);
    CHECK_U64(st.nextKey, 11);
    CHECK(incremental_backup_fixed(&db, &st));
    CHECK_I64(st.backupCount, 1);
    for (uint64_t k = 11; k <= 15; k++) {
        CHECK(cb_put(&db, k, "second"));
    }
    CHECK(cb_put(&db, UINT64_MAX, "max"));
    CHECK(incremental_backup_fixed(&db, &st));
    CHECK_I64(st.backupCount, 2);
    CHECK(st.complete);
    CHECK(incremental_backup_fixed(&db, &st));
    CHECK_I64(st.backupCount, 2);
    cb_close(&db);
    uint64_t restored = 0;
    for (size_t e = 0; e < kvidxGetAdapterCount(); e++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(e);
        char name[64];
        snprintf(name, sizeof name, "f20dst_from_%s", cb_ad->name);
        if (!cb_open_as(&dst, ad, name)) {
            continue;
        }
        kvidxImportOptions io = kvidxImportOptionsDefault();
        for (int b = 0; b < st.backupCount; b++) {
            snprintf(file, sizeof file, "%s/incremental_%d.bin", st.backupDir, b);
            CHECK(kvidxImport(&dst, file, &io, NULL, NULL) == KVIDX_OK);
        }
        restored = cb_count(&dst);
        CHECK_U64(restored, 17);
        CHECK(cb_value_is(&dst, 0, "first"));
        CHECK(cb_value_is(&dst, 15, "second"));
        CHECK(cb_value_is(&dst, UINT64_MAX, "max"));
        cb_close(&dst);
    }
    cb_say(20, "incremental backup", FIXED, "key 0 included: %" PRIu64 " of 17 keys restored on every engine",
           restored);
}

/* ------------------------------------------------------------------ */
/* 22: sliding-window limiter */

static void f22_sliding(void) {
    kvidxInstance db;
    RateLimiter rl;
    cb_scenario = "fixed 22";
    if (!cb_open(&db, "f22")) {
        return;
    }
    rl.db = &db;
    rl.windowMs = 10000;
    rl.maxRequests = 3;
    cb_clock_freeze(((cb_real_time_ms() / 1000) * 1000) + 500);
    uint64_t bucket = (UINT64_C(1) << 32) | (current_time_ms() / 1000);
    int allowed = 0;
    for (int i = 0; i < 10; i++) {
        allowed += rate_limit_check_fixed(&rl, 1);
    }
    CHECK_I64(allowed, 3);
    uint64_t term = 0;
    CHECK(kvidxGet(&db, bucket, &term, NULL, NULL, NULL));
    CHECK_U64(term, 3);
    CHECK(kvidxGetTTL(&db, bucket) > 10000);
    CHECK(rate_limit_check_fixed(&rl, 2)); /* another client */
    cb_clock_advance(5000);
    CHECK(!rate_limit_check_fixed(&rl, 1)); /* still in the window */
    cb_clock_advance(6000);
    CHECK(rate_limit_check_fixed(&rl, 1)); /* the first bucket left the window */
    CHECK(!db.transactionActive);
    cb_clock_real();
    cb_close(&db);
    cb_say(22, "sliding-window limiter", FIXED, "10 requests in one second with maxRequests 3 -> %d allowed", allowed);
}

/* ------------------------------------------------------------------ */
/* 23: token bucket */

static void f23_token_bucket(void) {
    kvidxInstance db;
    cb_scenario = "fixed 23";
    if (!cb_open(&db, "f23")) {
        return;
    }
    cb_clock_freeze(0);
    int granted = 0;
    for (int i = 0; i < 10; i++) {
        granted += token_bucket_acquire_fixed(&db, 1, 5, 1, 1);
    }
    CHECK_I64(granted, 5);
    /* 1 token per second: nothing after 0.5 s, one after 1 s */
    cb_clock_advance(500);
    CHECK(!token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    cb_clock_advance(500);
    CHECK(token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    CHECK(!token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    /* fractions are kept: 1.5 s then 0.5 s give two tokens */
    cb_clock_advance(1500);
    CHECK(token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    cb_clock_advance(500);
    CHECK(token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    CHECK(!token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    /* a long pause refills up to the maximum only */
    cb_clock_advance(60000);
    int refilled = 0;
    for (int i = 0; i < 10; i++) {
        refilled += token_bucket_acquire_fixed(&db, 1, 5, 1, 1);
    }
    CHECK_I64(refilled, 5);
    /* more than available is refused and takes nothing */
    cb_clock_advance(3000);
    CHECK(!token_bucket_acquire_fixed(&db, 1, 5, 1, 4));
    CHECK(token_bucket_acquire_fixed(&db, 1, 5, 1, 3));
    /* from 3 of 5 tokens, one second adds exactly one */
    cb_clock_advance(5000);
    CHECK(token_bucket_acquire_fixed(&db, 1, 5, 1, 2));
    cb_clock_advance(1000);
    CHECK(!token_bucket_acquire_fixed(&db, 1, 5, 1, 5));
    CHECK(token_bucket_acquire_fixed(&db, 1, 5, 1, 4));
    CHECK(!token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    /* a clock going backwards adds nothing */
    cb_clock_freeze(current_time_ms() - 100000);
    CHECK(!token_bucket_acquire_fixed(&db, 1, 5, 1, 1));
    CHECK(!db.transactionActive);
    cb_clock_real();
    cb_close(&db);
    cb_say(23, "token bucket", FIXED, "5-token bucket, 10 calls -> %d granted; refill at 1/s with fractions kept",
           granted);
}

/* ------------------------------------------------------------------ */

static void run_fixed(void) {
    f01_counter();
    f02_id_generator();
    f03_gaps();
    f04_simple_cache();
    f05_write_through();
    f06_lru();
    f07_cursor();
    f09_reverse();
    f10_lock();
    f11_optimistic();
    f12_stack();
    f13_sorted_set();
    f14_log();
    f15_bulk();
    f16_export();
    f20_incremental();
    f22_sliding();
    f23_token_bucket();
}

int main(int argc, char **argv) { return cb_main(argc, argv, run_fixed); }
