/* cookbook/original.c: one scenario per recipe of the user's cookbook, run
 * on every engine of the registry. Each asserts what the recipe really does
 * with this library (decisions.md: kvidxInsert never overwrites, unsigned
 * key order, key 0 in forward iterators, lazy expiry, atomic import, ...)
 * and prints one line with the real behaviour; where it differs from what
 * the recipe's comments promise, the line says why. The recipes are in the
 * same translation unit: only their functions and types are named here. */

#define H63 (UINT64_C(1) << 63)

/* ------------------------------------------------------------------ */
/* recipe 1: atomic counter */

static void r01_counter(void) {
    kvidxInstance db;
    cb_scenario = "recipe 1";
    if (!cb_open(&db, "r01")) {
        return;
    }
    uint64_t a = counter_increment(&db, 7);
    uint64_t b = counter_increment(&db, 7);
    uint64_t c = counter_increment(&db, 7);
    uint64_t g = counter_get(&db, 7);
    /* the first Insert creates the counter; every later one is refused */
    CHECK_U64(a, 1);
    CHECK_U64(b, 2);
    CHECK_U64(c, 2);
    CHECK_U64(g, 1);
    CHECK(kvidxGetLastError(&db) == KVIDX_ERROR_DUPLICATE_KEY);
    CHECK(!db.transactionActive);
    counter_reset(&db, 7);
    uint64_t afterReset = counter_get(&db, 7);
    CHECK_U64(afterReset, 1);
    /* a counter that does not exist yet reads 0; reset creates it at 0 */
    CHECK_U64(counter_get(&db, 8), 0);
    CHECK(!kvidxExists(&db, 8));
    counter_reset(&db, 8);
    CHECK(kvidxExists(&db, 8));
    CHECK_U64(counter_get(&db, 8), 0);
    CHECK_U64(counter_increment(&db, 8), 1);
    CHECK_U64(counter_get(&db, 8), 0);
    cb_close(&db);
    cb_say(1, "atomic counter", DIFFERS,
           "kvidxInsert does not overwrite (DUPLICATE_KEY): 3 increments return %" PRIu64 ",%" PRIu64 ",%" PRIu64
           ", counter_get %" PRIu64 ", counter_reset leaves %" PRIu64,
           a, b, c, g, afterReset);
}

/* ------------------------------------------------------------------ */
/* recipe 2: auto-increment ID generator */

static void r02_id_generator(void) {
    kvidxInstance db;
    cb_scenario = "recipe 2";
    if (!cb_open(&db, "r02")) {
        return;
    }
    uint64_t ids[5];
    for (int i = 0; i < 5; i++) {
        ids[i] = generate_id(&db);
    }
    /* GetAndSet writes 1 each time, the follow-up Insert of old+1 is refused */
    CHECK_KEYS(ids, 5, KEYS(1, 2, 2, 2, 2));
    uint64_t stored = 0;
    CHECK(cb_u64_at(&db, 0, &stored));
    CHECK_U64(stored, 1);
    CHECK(!db.transactionActive);
    cb_close(&db);
    cb_say(2, "ID generator", DIFFERS,
           "GetAndSet stores 1 every call and kvidxInsert of old+1 is refused: ids %s (counter stays %" PRIu64 ")",
           cb_fmt_keys(ids, 5), stored);
}

/* ------------------------------------------------------------------ */
/* recipe 3: sequence with gap detection */

static size_t r03_run(kvidxInstance *db, uint64_t start, uint64_t end, size_t capacity, uint64_t *gaps) {
    GapDetector d;
    memset(&d, 0, sizeof d);
    d.gaps = gaps;
    d.gapCapacity = capacity;
    detect_gaps(db, start, end, &d);
    return d.gapCount;
}

static void r03_gaps(void) {
    kvidxInstance db;
    uint64_t gaps[16];
    size_t n;
    cb_scenario = "recipe 3";
    if (!cb_open(&db, "r03")) {
        return;
    }
    static const uint64_t keys[] = {0, 1, 3, 10, 11, 13, 16, H63 - 2, H63, H63 + 3, UINT64_MAX - 2, UINT64_MAX};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CHECK(cb_put(&db, keys[i], "x"));
    }
    /* key 0 is seen: no false gap at 0 */
    n = r03_run(&db, 0, 3, 16, gaps);
    CHECK_KEYS(gaps, n, KEYS(2));
    /* gaps inside the range are found; the missing keys after the last
     * present one (17..20) are not reported */
    n = r03_run(&db, 10, 20, 16, gaps);
    CHECK_KEYS(gaps, n, KEYS(12, 14, 15));
    size_t inner = n;
    /* leading gaps (from start to the first key) are reported */
    n = r03_run(&db, 8, 11, 16, gaps);
    CHECK_KEYS(gaps, n, KEYS(8, 9));
    /* a range across 2^63 follows unsigned order */
    n = r03_run(&db, H63 - 2, H63 + 3, 16, gaps);
    CHECK_KEYS(gaps, n, KEYS(H63 - 1, H63 + 1, H63 + 2));
    size_t high = n;
    /* up to UINT64_MAX */
    n = r03_run(&db, UINT64_MAX - 3, UINT64_MAX, 16, gaps);
    CHECK_KEYS(gaps, n, KEYS(UINT64_MAX - 3, UINT64_MAX - 1));
    /* capacity bounds what is recorded */
    n = r03_run(&db, 10, 16, 2, gaps);
    CHECK_KEYS(gaps, n, KEYS(12, 14));
    /* start > end: no iterator, no gaps, no crash */
    n = r03_run(&db, 20, 10, 16, gaps);
    CHECK_U64(n, 0);
    cb_close(&db);
    cb_say(3, "gap detection", DIFFERS,
           "gaps between keys found (10..20 -> %zu gaps 12,14,15; across 2^63 -> %zu; key 0 seen, no false gap) "
           "but missing keys after the last present key of the range are never reported (17..20), and each "
           "missing key is enumerated one by one (a huge gap loops ~forever)",
           inner, high);
}

/* ------------------------------------------------------------------ */
/* recipe 4: simple cache with TTL */

static void r04_simple_cache(void) {
    Cache c;
    const uint8_t *v = NULL;
    size_t l = 0;
    uint64_t n = 0;
    cb_scenario = "recipe 4";
    if (!cb_open(&c.db, "r04")) {
        return;
    }
    c.defaultTtlMs = 60000;
    CHECK(cache_set(&c, 1, "v1", 2));
    CHECK(cache_get(&c, 1, &v, &l));
    CHECK_MEM(v, l, "v1");
    /* an update is refused: the old value stays */
    bool updated = cache_set(&c, 1, "v2", 2);
    CHECK(!updated);
    CHECK(kvidxGetLastError(&c.db) == KVIDX_ERROR_DUPLICATE_KEY);
    CHECK(cache_get(&c, 1, &v, &l));
    CHECK_MEM(v, l, "v1");
    /* a short TTL: expired entries are misses at once (lazy expiry) */
    c.defaultTtlMs = CB_SHORT_TTL;
    CHECK(cache_set(&c, 2, "short", 5));
    CHECK(cache_set(&c, 3, "short3", 6));
    int64_t ttl = kvidxGetTTL(&c.db, 2);
    CHECK(ttl > 0 && ttl <= CB_SHORT_TTL);
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    bool expiredHit = cache_get(&c, 2, &v, &l);
    CHECK(!expiredHit);
    CHECK(kvidxGetTTL(&c.db, 2) == KVIDX_TTL_NOT_FOUND);
    CHECK(!kvidxExists(&c.db, 2));
    /* setting an expired key works: it is absent, so Insert creates it */
    c.defaultTtlMs = 60000;
    CHECK(cache_set(&c, 3, "fresh3", 6));
    CHECK(cache_get(&c, 3, &v, &l));
    CHECK_MEM(v, l, "fresh3");
    /* cleanup reclaims the expired entry: nothing is left for a later scan */
    cache_cleanup(&c);
    CHECK(kvidxExpireScan(&c.db, 0, &n) == KVIDX_OK);
    CHECK_U64(n, 0);
    /* without a TTL nothing ever hits: GetTTL is KVIDX_TTL_NONE (-1) */
    c.defaultTtlMs = 0;
    CHECK(cache_set(&c, 4, "forever", 7));
    bool noTtlHit = cache_get(&c, 4, &v, &l);
    CHECK(!noTtlHit);
    CHECK(kvidxGetTTL(&c.db, 4) == KVIDX_TTL_NONE);
    CHECK(cb_value_is(&c.db, 4, "forever"));
    /* delete drops the TTL: a key set again without TTL has none */
    cache_delete(&c, 1);
    CHECK(!kvidxExists(&c.db, 1));
    CHECK(cache_set(&c, 1, "again", 5));
    CHECK(kvidxGetTTL(&c.db, 1) == KVIDX_TTL_NONE);
    CHECK(!c.db.transactionActive);
    cb_close(&c.db);
    cb_say(4, "simple TTL cache", DIFFERS,
           "cache_set of an existing key returns %s and keeps the old value (kvidxInsert does not overwrite); "
           "cache_get misses entries without TTL (hit=%d: -1 is treated as expired); expiry itself works "
           "(expired hit=%d, delete/cleanup reclaim)",
           updated ? "true" : "false", noTtlHit, expiredHit);
}

/* ------------------------------------------------------------------ */
/* recipe 5: write-through cache */

#define R05_SOURCE 8
typedef struct {
    char values[R05_SOURCE][16];
    int loads;
    int writes;
} R05Source;

static bool r05_loader(uint64_t key, void **data, size_t *len, void *ctx) {
    R05Source *s = ctx;
    if (key >= R05_SOURCE || s->values[key][0] == '\0') {
        return false;
    }
    s->loads++;
    *len = strlen(s->values[key]);
    *data = malloc(*len);
    memcpy(*data, s->values[key], *len);
    return true;
}

static bool r05_writer(uint64_t key, const void *data, size_t len, void *ctx) {
    R05Source *s = ctx;
    if (key >= R05_SOURCE || len >= sizeof s->values[0]) {
        return false;
    }
    s->writes++;
    memcpy(s->values[key], data, len);
    s->values[key][len] = '\0';
    return true;
}

/* cache_get_or_load into a C string (freed here) */
static bool r05_get(WriteThruCache *c, uint64_t key, char *out, size_t outLen) {
    void *d = NULL;
    size_t l = 0;
    if (!cache_get_or_load(c, key, &d, &l)) {
        return false;
    }
    size_t k = l < outLen - 1 ? l : outLen - 1;
    memcpy(out, d, k);
    out[k] = '\0';
    free(d);
    return true;
}

static void r05_write_through(void) {
    WriteThruCache c;
    R05Source src;
    char got[32];
    cb_scenario = "recipe 5";
    memset(&src, 0, sizeof src);
    strcpy(src.values[1], "src1");
    strcpy(src.values[3], "src3");
    if (!cb_open(&c.db, "r05")) {
        return;
    }
    c.loader = r05_loader;
    c.writer = r05_writer;
    c.ctx = &src;
    c.ttlMs = 60000;
    /* miss -> loader; then served from the cache */
    CHECK(r05_get(&c, 1, got, sizeof got));
    CHECK(strcmp(got, "src1") == 0);
    CHECK(r05_get(&c, 1, got, sizeof got));
    CHECK(strcmp(got, "src1") == 0);
    CHECK_I64(src.loads, 1);
    /* the source has nothing for key 6 */
    CHECK(!r05_get(&c, 6, got, sizeof got));
    /* write-through of a new key fills the cache */
    CHECK(cache_put_through(&c, 2, "fresh2", 6));
    CHECK(r05_get(&c, 2, got, sizeof got));
    CHECK(strcmp(got, "fresh2") == 0);
    CHECK_I64(src.loads, 1);
    /* write-through of a cached key: the source changes, the cache does not */
    bool put = cache_put_through(&c, 1, "new1", 4);
    CHECK(put);
    CHECK(strcmp(src.values[1], "new1") == 0);
    CHECK(r05_get(&c, 1, got, sizeof got));
    CHECK(strcmp(got, "src1") == 0);
    char stale[32];
    strcpy(stale, got);
    /* an expired entry is reloaded from the source (lazy expiry) */
    c.ttlMs = CB_SHORT_TTL;
    CHECK(r05_get(&c, 3, got, sizeof got));
    CHECK_I64(src.loads, 2);
    strcpy(src.values[3], "src3b");
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    CHECK(r05_get(&c, 3, got, sizeof got));
    CHECK(strcmp(got, "src3b") == 0);
    CHECK_I64(src.loads, 3);
    CHECK(kvidxGetTTL(&c.db, 3) > 0);
    CHECK(!c.db.transactionActive);
    cb_close(&c.db);
    cb_say(5, "write-through cache", DIFFERS,
           "cache_put_through returns %s and updates the source but the cache keeps serving \"%s\" "
           "(kvidxInsert does not overwrite); loading and reloading expired entries work",
           put ? "true" : "false", stale);
}

/* ------------------------------------------------------------------ */
/* recipe 6: LRU approximation with TTL refresh */

static void r06_lru(void) {
    Cache c;
    const uint8_t *v = NULL;
    size_t l = 0;
    cb_scenario = "recipe 6";
    if (!cb_open(&c.db, "r06")) {
        return;
    }
    c.defaultTtlMs = 60000;
    CHECK(cache_set(&c, 1, "hot", 3));
    cb_sleep_ms(300);
    int64_t before = kvidxGetTTL(&c.db, 1);
    /* the value pointer belongs to kvidxGet and the recipe makes another
     * call (SetExpire) before returning it: only its length is used here */
    CHECK(lru_cache_get(&c, 1, &v, &l));
    CHECK_U64(l, 3);
    int64_t after = kvidxGetTTL(&c.db, 1);
    CHECK(before > 0 && before <= 59700);
    CHECK(after > before);
    CHECK(cb_value_is(&c.db, 1, "hot"));
    /* an expired entry is a miss and is not resurrected */
    c.defaultTtlMs = CB_SHORT_TTL;
    CHECK(cache_set(&c, 2, "cold", 4));
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    CHECK(!lru_cache_get(&c, 2, &v, &l));
    CHECK(!kvidxExists(&c.db, 2));
    CHECK(kvidxGetTTL(&c.db, 2) == KVIDX_TTL_NOT_FOUND);
    /* a cache without TTL: the refresh SetExpire(key, 0) expires the key now */
    c.defaultTtlMs = 0;
    CHECK(cache_set(&c, 3, "plain", 5));
    bool first = lru_cache_get(&c, 3, &v, &l);
    bool second = lru_cache_get(&c, 3, &v, &l);
    CHECK(first);
    CHECK(!second);
    CHECK(!kvidxExists(&c.db, 3));
    cb_close(&c.db);
    cb_say(6, "LRU TTL refresh", DIFFERS,
           "refresh works (TTL %" PRId64 " -> %" PRId64 " ms on access; expired entries miss), but with "
           "defaultTtlMs 0 the refresh SetExpire(key, 0) expires the key: reads hit=%d then hit=%d; and the "
           "returned pointer comes from kvidxGet followed by another call on the instance",
           before, after, first, second);
}

/* ------------------------------------------------------------------ */
/* recipe 7: cursor-based pagination */

static void r07_fill(kvidxInstance *db, uint64_t from, uint64_t to) {
    for (uint64_t k = from; k <= to; k++) {
        CHECK(cb_put(db, k, "p"));
    }
}

static void r07_cursor(void) {
    kvidxInstance db;
    Page p;
    uint64_t seen[32];
    size_t ns = 0;
    cb_scenario = "recipe 7";
    if (!cb_open(&db, "r07")) {
        return;
    }
    r07_fill(&db, 1, 5);
    p = paginate(&db, 0, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(1, 2));
    CHECK(p.hasMore);
    CHECK_U64(p.nextCursor, 2);
    uint64_t cursor = p.nextCursor;
    page_free(&p);
    p = paginate(&db, cursor, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(3, 4));
    CHECK(!p.hasMore);
    bool lastHasMore = p.hasMore;
    page_free(&p);
    /* walking 1..10 by 3 until hasMore is false: key 10 is never returned */
    r07_fill(&db, 6, 10);
    cursor = 0;
    for (int pages = 0; pages < 10; pages++) {
        p = paginate(&db, cursor, 3);
        for (size_t i = 0; i < p.count && ns < 32; i++) {
            seen[ns++] = p.keys[i];
        }
        bool more = p.hasMore;
        cursor = p.nextCursor;
        page_free(&p);
        if (!more) {
            break;
        }
    }
    CHECK_KEYS(seen, ns, KEYS(1, 2, 3, 4, 5, 6, 7, 8, 9));
    size_t walked = ns;
    /* a cursor key that was deleted: the next real entry is skipped */
    CHECK(kvidxRemove(&db, 6));
    p = paginate(&db, 6, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(8, 9));
    page_free(&p);
    /* key 0 is returned; but a page ending at key 0 yields cursor 0,
     * which means "from the start": the walk never advances */
    CHECK(kvidxRemoveRange(&db, 0, UINT64_MAX, true, true, NULL) == KVIDX_OK);
    r07_fill(&db, 0, 3);
    p = paginate(&db, 0, 1);
    CHECK_KEYS(p.keys, p.count, KEYS(0));
    CHECK(p.hasMore);
    CHECK_U64(p.nextCursor, 0);
    page_free(&p);
    p = paginate(&db, 0, 1);
    CHECK_KEYS(p.keys, p.count, KEYS(0));
    page_free(&p);
    cb_close(&db);
    cb_say(7, "cursor pagination", DIFFERS,
           "one entry per page is consumed by the fill loop and hasMore looks one further: keys 1..5 by 2 -> "
           "[1,2] then [3,4] hasMore=%d (5 lost); 1..10 by 3 returns %zu of 10; a deleted cursor key drops the "
           "next entry; a page ending at key 0 gives cursor 0 = restart",
           lastHasMore, walked);
}

/* ------------------------------------------------------------------ */
/* recipe 8: offset-based pagination */

static void r08_offset(void) {
    kvidxInstance db;
    Page p;
    cb_scenario = "recipe 8";
    if (!cb_open(&db, "r08")) {
        return;
    }
    r07_fill(&db, 0, 9);
    CHECK(cb_put(&db, H63 + 1, "high"));
    p = paginate_offset(&db, 0, 4);
    CHECK_KEYS(p.keys, p.count, KEYS(0, 1, 2, 3));
    CHECK(p.hasMore);
    page_free(&p);
    p = paginate_offset(&db, 4, 4);
    CHECK_KEYS(p.keys, p.count, KEYS(4, 5, 6, 7));
    CHECK(p.hasMore);
    page_free(&p);
    p = paginate_offset(&db, 8, 4);
    CHECK_KEYS(p.keys, p.count, KEYS(8, 9, H63 + 1));
    CHECK(!p.hasMore);
    page_free(&p);
    p = paginate_offset(&db, 7, 4);
    CHECK_KEYS(p.keys, p.count, KEYS(7, 8, 9, H63 + 1));
    CHECK(!p.hasMore);
    page_free(&p);
    p = paginate_offset(&db, 11, 4);
    CHECK_U64(p.count, 0);
    CHECK(!p.hasMore);
    page_free(&p);
    cb_close(&db);
    cb_say(8, "offset pagination", WORKS,
           "11 keys (0..9, 2^63+1) by 4 -> [0..3] [4..7] [8,9,2^63+1], hasMore exact; key 0 and keys >= 2^63 in "
           "unsigned order");
}

/* ------------------------------------------------------------------ */
/* recipe 9: reverse pagination */

static void r09_reverse(void) {
    kvidxInstance db;
    Page p;
    cb_scenario = "recipe 9";
    if (!cb_open(&db, "r09")) {
        return;
    }
    r07_fill(&db, 1, 5);
    p = paginate_latest(&db, 0, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(5, 4));
    CHECK(p.hasMore);
    CHECK_U64(p.nextCursor, 4);
    page_free(&p);
    p = paginate_latest(&db, 4, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(3, 2));
    bool more = p.hasMore;
    CHECK(!more);
    page_free(&p);
    /* keys >= 2^63 come first */
    CHECK(kvidxRemoveRange(&db, 0, UINT64_MAX, true, true, NULL) == KVIDX_OK);
    CHECK(cb_put(&db, 1, "a"));
    CHECK(cb_put(&db, 2, "b"));
    CHECK(cb_put(&db, H63, "c"));
    CHECK(cb_put(&db, H63 + 1, "d"));
    p = paginate_latest(&db, 0, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(H63 + 1, H63));
    CHECK(p.hasMore);
    CHECK_U64(p.nextCursor, H63);
    page_free(&p);
    p = paginate_latest(&db, H63, 2);
    CHECK_KEYS(p.keys, p.count, KEYS(2, 1));
    CHECK(!p.hasMore);
    page_free(&p);
    cb_close(&db);
    cb_say(9, "reverse pagination", DIFFERS,
           "the fill loop consumes one extra entry and hasMore tests the next one: keys 1..5 by 2 -> [5,4] then "
           "[3,2] hasMore=%d, key 1 never returned; keys >= 2^63 come first (unsigned order)",
           more);
}

/* ------------------------------------------------------------------ */
/* recipe 10: distributed lock with TTL */

static void r10_lock(void) {
    kvidxInstance db;
    DistributedLock a, b;
    cb_scenario = "recipe 10";
    if (!cb_open(&db, "r10")) {
        return;
    }
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.db = &db;
    b.db = &db;
    CHECK(lock_acquire(&a, 5, 100, 60000));
    CHECK(a.held);
    CHECK(a.lockKey >= H63);
    CHECK(kvidxExists(&db, a.lockKey));
    CHECK(!lock_acquire(&b, 5, 200, 60000));
    CHECK(!b.held);
    /* another resource is independent */
    CHECK(lock_acquire(&b, 6, 200, 60000));
    CHECK(lock_release(&b));
    CHECK(!kvidxExists(&db, b.lockKey));
    /* extend adds to the remaining TTL */
    CHECK(lock_extend(&a, 5000));
    CHECK(kvidxGetTTL(&db, a.lockKey) > 60000);
    CHECK(lock_release(&a));
    CHECK(!a.held);
    CHECK(!kvidxExists(&db, a.lockKey));
    CHECK(kvidxGetTTL(&db, a.lockKey) == KVIDX_TTL_NOT_FOUND);
    CHECK(!lock_release(&a));
    CHECK(lock_acquire(&b, 5, 200, 60000));
    CHECK(lock_release(&b));
    /* an abandoned lock expires: InsertNX succeeds once its TTL has passed */
    CHECK(lock_acquire(&a, 7, 100, CB_SHORT_TTL));
    CHECK(!lock_acquire(&b, 7, 200, 60000));
    cb_sleep_ms(CB_PAST_SHORT_TTL);
    bool retaken = lock_acquire(&b, 7, 200, 60000);
    CHECK(retaken);
    /* the previous holder learns it lost the lock and cannot release it */
    CHECK(!lock_extend(&a, 1000));
    CHECK(!a.held);
    a.held = true;
    CHECK(!lock_release(&a));
    uint64_t owner = 0;
    CHECK(cb_u64_at(&db, b.lockKey, &owner));
    CHECK_U64(owner, 200);
    CHECK(lock_release(&b));
    CHECK(!db.transactionActive);
    cb_close(&db);
    cb_say(10, "distributed lock", WORKS_CAVEAT,
           "acquire/extend/release by owner; an abandoned lock is taken again after its TTL (retaken=%d, lazy "
           "expiry); InsertNX and SetExpire are two atomic units, a crash between them leaves a lock without TTL",
           retaken);
}

/* ------------------------------------------------------------------ */
/* recipe 11: optimistic locking with versions */

static int r11_calls;
static kvidxInstance *r11_db;

static bool r11_append_bang(VersionedRecord *r) {
    r11_calls++;
    size_t n = strlen(r->data);
    if (n + 1 < sizeof r->data) {
        r->data[n] = '!';
        r->data[n + 1] = '\0';
    }
    return true;
}

/* a concurrent writer slips in during the first call only */
static bool r11_conflict_once(VersionedRecord *r) {
    if (r11_calls++ == 0) {
        VersionedRecord other = *r;
        other.version = r->version + 1;
        strcpy(other.data, "other");
        CHECK(kvidxInsertEx(r11_db, 1, other.version, 0, &other, sizeof other, KVIDX_SET_ALWAYS) == KVIDX_OK);
    }
    strcat(r->data, "+");
    return true;
}

/* a concurrent writer slips in every time */
static bool r11_conflict_always(VersionedRecord *r) {
    VersionedRecord other = *r;
    r11_calls++;
    other.version = r->version + 1;
    CHECK(kvidxInsertEx(r11_db, 1, other.version, 0, &other, sizeof other, KVIDX_SET_ALWAYS) == KVIDX_OK);
    return true;
}

static bool r11_reject(VersionedRecord *r) {
    (void)r;
    r11_calls++;
    return false;
}

static bool r11_stored(kvidxInstance *db, uint64_t key, uint64_t *term, VersionedRecord *out) {
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(db, key, term, NULL, &d, &l) || l != sizeof *out) {
        return false;
    }
    memcpy(out, d, sizeof *out);
    return true;
}

static void r11_optimistic(void) {
    kvidxInstance db;
    VersionedRecord rec, got;
    uint64_t term = 0;
    cb_scenario = "recipe 11";
    if (!cb_open(&db, "r11")) {
        return;
    }
    r11_db = &db;
    memset(&rec, 0, sizeof rec);
    rec.version = 1;
    strcpy(rec.data, "hello");
    CHECK(kvidxInsert(&db, 1, rec.version, 0, &rec, sizeof rec));
    r11_calls = 0;
    CHECK(optimistic_update(&db, 1, &got, r11_append_bang));
    CHECK(r11_stored(&db, 1, &term, &got));
    CHECK_U64(term, 2);
    CHECK_U64(got.version, 2);
    CHECK(strcmp(got.data, "hello!") == 0);
    /* one conflict: retried and applied on top of the other writer */
    r11_calls = 0;
    CHECK(optimistic_update(&db, 1, &got, r11_conflict_once));
    CHECK_I64(r11_calls, 2);
    CHECK(r11_stored(&db, 1, &term, &got));
    CHECK_U64(term, 4);
    CHECK_U64(got.version, 4);
    CHECK(strcmp(got.data, "other+") == 0);
    /* always in conflict: gives up after 3 attempts */
    r11_calls = 0;
    CHECK(!optimistic_update(&db, 1, &got, r11_conflict_always));
    CHECK_I64(r11_calls, 3);
    /* rejected modification: nothing written */
    r11_calls = 0;
    CHECK(r11_stored(&db, 1, &term, &rec));
    CHECK(!optimistic_update(&db, 1, &got, r11_reject));
    CHECK(r11_stored(&db, 1, &term, &got));
    CHECK_U64(got.version, rec.version);
    CHECK(!optimistic_update(&db, 99, &got, r11_append_bang));
    /* the version is read from the value but checked against the term:
     * a record stored with term != version can never be updated */
    memset(&rec, 0, sizeof rec);
    rec.version = 1;
    CHECK(kvidxInsert(&db, 2, 0, 0, &rec, sizeof rec));
    r11_calls = 0;
    bool mismatched = optimistic_update(&db, 2, &got, r11_append_bang);
    CHECK(!mismatched);
    CHECK_I64(r11_calls, 3);
    cb_close(&db);
    cb_say(11, "optimistic locking", WORKS_CAVEAT,
           "updates, retries after a conflict, gives up after 3; it needs term == version in every writer: a "
           "record stored with term 0 / version 1 is never updated (result %d)",
           mismatched);
}

/* ------------------------------------------------------------------ */
/* recipe 12: stack */

static void r12_stack(void) {
    Stack s;
    void *d = NULL;
    size_t l = 0;
    const uint8_t *peeked = NULL;
    cb_scenario = "recipe 12";
    if (!cb_open(&s.db, "r12")) {
        return;
    }
    s.stackId = 1;
    CHECK(!stack_pop(&s, &d, &l));
    CHECK(!stack_peek(&s, &peeked, &l));
    CHECK(stack_push(&s, "a", 1));
    CHECK(stack_push(&s, "b", 1));
    CHECK(stack_push(&s, "c", 1));
    CHECK(kvidxExists(&s.db, (UINT64_C(1) << 32) | 3));
    /* peek's pointer belongs to an iterator the recipe has destroyed:
     * only the result and the length are used */
    CHECK(stack_peek(&s, &peeked, &l));
    CHECK_U64(l, 1);
    CHECK(stack_pop(&s, &d, &l));
    CHECK_MEM(d, l, "c");
    free(d);
    CHECK(stack_pop(&s, &d, &l));
    CHECK_MEM(d, l, "b");
    free(d);
    /* a second stack on the same database takes the global maximum key */
    s.stackId = 2;
    CHECK(stack_push(&s, "x", 1));
    s.stackId = 1;
    bool pushed = stack_push(&s, "d", 1);
    CHECK(!pushed);
    CHECK(kvidxGetLastError(&s.db) == KVIDX_ERROR_DUPLICATE_KEY);
    CHECK(stack_pop(&s, &d, &l));
    CHECK_MEM(d, l, "a");
    free(d);
    CHECK(!stack_pop(&s, &d, &l));
    s.stackId = 2;
    CHECK(stack_pop(&s, &d, &l));
    CHECK_MEM(d, l, "x");
    free(d);
    /* stacks whose keys are >= 2^63 */
    s.stackId = 0x80000001u;
    CHECK(stack_push(&s, "h1", 2));
    CHECK(stack_push(&s, "h2", 2));
    CHECK(stack_pop(&s, &d, &l));
    CHECK_MEM(d, l, "h2");
    free(d);
    cb_close(&s.db);
    cb_say(12, "stack", DIFFERS,
           "LIFO on one stack works (c,b,a; high stack ids too), but push uses the database-wide kvidxMaxKey: "
           "after stack 2 pushed, stack 1's push returns %s (DUPLICATE_KEY); stack_peek returns a pointer owned "
           "by the iterator it has already destroyed",
           pushed ? "true" : "false");
}

/* ------------------------------------------------------------------ */
/* recipe 13: sorted set */

static void r13_sorted_set(void) {
    SortedSet z;
    size_t n;
    cb_scenario = "recipe 13";
    if (!cb_open(&z.db, "r13")) {
        return;
    }
    CHECK(zset_add(&z, 1, 10, "a", 1));
    CHECK(zset_add(&z, 2, 30, "b", 1));
    CHECK(zset_add(&z, 3, 0x80000000u, "c", 1));
    CHECK(zset_add(&z, 4, 0xFFFFFFFFu, "d", 1));
    CHECK(zset_add(&z, 5, 20, "e", 1));
    cb_collect_reset();
    n = zset_top_n(&z, 3, cb_collect_scored);
    CHECK_U64(n, 3);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(4, 3, 2));
    CHECK_KEYS(cb_got_aux, cb_ngot, KEYS(0xFFFFFFFFu, 0x80000000u, 30));
    cb_collect_reset();
    n = zset_range_by_score(&z, 10, 30, cb_collect_scored);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(1, 5, 2));
    CHECK(strcmp(cb_got_data[1], "e") == 0);
    cb_collect_reset();
    n = zset_range_by_score(&z, 0x80000000u, 0xFFFFFFFFu, cb_collect_scored);
    CHECK_U64(n, 2);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(3, 4));
    cb_collect_reset();
    n = zset_range_by_score(&z, 31, 20, cb_collect_scored);
    CHECK_U64(n, 0);
    /* re-adding a member is refused; a new score adds a second entry */
    bool readd = zset_add(&z, 1, 10, "a", 1);
    CHECK(!readd);
    CHECK(zset_add(&z, 1, 25, "a2", 2));
    cb_collect_reset();
    n = zset_range_by_score(&z, 0, 0xFFFFFFFFu, cb_collect_scored);
    CHECK_U64(n, 6);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(1, 5, 1, 2, 3, 4));
    cb_close(&z.db);
    cb_say(13, "sorted set", DIFFERS,
           "ordering is right (top 3 = ids 4,3,2 with scores 2^32-1, 2^31, 30; ranges up to 2^32-1), but a member "
           "is not updated: re-adding returns %s and a new score adds a second entry (id 1 listed twice)",
           readd ? "true" : "false");
}

/* ------------------------------------------------------------------ */
/* recipe 14: append-only log */

static bool r14_is_sqlite(const kvidxAdapterInfo *ad) { return ad->iface->open == kvidxInterfaceSqlite3.open; }

static void r14_log(void) {
    AppendLog lg;
    char path[1024];
    cb_scenario = "recipe 14";
    bool sqlite = r14_is_sqlite(cb_ad);
    cb_path(path, sizeof path, "r14");
    if (sqlite) {
        CHECK(log_init(&lg, path));
    } else {
        /* log_init always opens the SQLite engine, whatever the path:
         * on a path of its own it succeeds, with the SQLite interface */
        char other[1024];
        cb_file(other, sizeof other, "r14_init.sqlite3");
        CHECK(log_init(&lg, other));
        CHECK(lg.db.interface.open == kvidxInterfaceSqlite3.open);
        CHECK(kvidxClose(&lg.db));
        /* the rest of the recipe on this engine: open it the way log_init would */
        memset(&lg, 0, sizeof lg);
        lg.db.interface = *cb_ad->iface;
        CHECK(kvidxOpen(&lg.db, path, NULL));
        lg.nextSeq = 1;
    }
    CHECK_U64(lg.nextSeq, 1);
    CHECK_U64(log_append(&lg, "one", 3), 1);
    CHECK_U64(log_append(&lg, "two", 3), 2);
    CHECK_U64(log_append(&lg, "three", 5), 3);
    CHECK(!lg.db.transactionActive);
    if (sqlite) {
        CHECK(kvidxClose(&lg.db));
        CHECK(log_init(&lg, path));
        CHECK_U64(lg.nextSeq, 4);
    }
    cb_collect_reset();
    log_replay(&lg, 2, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(2, 3));
    CHECK(strcmp(cb_got_data[1], "three") == 0);
    cb_collect_reset();
    log_replay(&lg, 0, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(1, 2, 3));
    log_truncate_before(&lg, 3);
    cb_collect_reset();
    log_replay(&lg, 0, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(3));
    /* seq 0: seq - 1 wraps to UINT64_MAX and the whole log goes */
    log_truncate_before(&lg, 0);
    uint64_t left = cb_count(&lg.db);
    CHECK_U64(left, 0);
    CHECK_U64(log_append(&lg, "four", 4), 4);
    CHECK(cb_value_is(&lg.db, 4, "four"));
    CHECK(kvidxClose(&lg.db));
    cb_say(14, "append-only log", DIFFERS,
           "append/replay/truncate work and kvidxFsync is a real barrier, but log_truncate_before(0) deletes the "
           "whole log (%" PRIu64 " entries left) and log_init always uses SQLite%s",
           left, sqlite ? "" : " (on this engine the scenario opens the log itself)");
}

/* ------------------------------------------------------------------ */
/* recipe 15: bulk import */

static void r15_bulk(void) {
    kvidxInstance db;
    char csv[1024];
    cb_scenario = "recipe 15";
    if (!cb_open(&db, "r15")) {
        return;
    }
    /* 25 000 lines "key,value": two full batches of 10 000 and a rest */
    cb_file(csv, sizeof csv, "r15.csv");
    FILE *f = fopen(csv, "w");
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    for (unsigned k = 1; k <= 25000; k++) {
        fprintf(f, "%u,val%u\n", k, k);
    }
    CHECK(fclose(f) == 0);
    bulk_import(&db, csv);
    uint64_t imported = cb_count(&db);
    CHECK_U64(imported, 25000);
    CHECK(cb_value_is(&db, 1, "val1"));
    CHECK(cb_value_is(&db, 12345, "val12345"));
    CHECK(cb_value_is(&db, 25000, "val25000"));
    kvidxConfig cfg;
    CHECK(kvidxGetConfig(&db, &cfg) == KVIDX_OK);
    CHECK(cfg.syncMode == KVIDX_SYNC_NORMAL);
    if (r14_is_sqlite(cb_ad)) {
        CHECK(cfg.journalMode == KVIDX_JOURNAL_WAL);
    }
    cb_close(&db);
    /* a duplicate key: the batch stops there and the rest of it is lost */
    if (!cb_open(&db, "r15dup")) {
        return;
    }
    cb_file(csv, sizeof csv, "r15dup.csv");
    CHECK(cb_write_file(csv, "1,a\n2,b\n2,again\n3,c\n4,d\n"));
    bulk_import(&db, csv);
    uint64_t keys[8];
    size_t nk = cb_all_keys(&db, keys, 8);
    CHECK_KEYS(keys, nk, KEYS(1, 2));
    CHECK(cb_value_is(&db, 2, "b"));
    /* the parser stops at whitespace and ignores lines it cannot read */
    cb_file(csv, sizeof csv, "r15ws.csv");
    CHECK(cb_write_file(csv, "5,hello world\nnot a line\n6,x\n"));
    bulk_import(&db, csv);
    CHECK(cb_value_is(&db, 5, "hello"));
    CHECK(cb_value_is(&db, 6, "x"));
    CHECK_U64(cb_count(&db), 4);
    cb_close(&db);
    cb_say(15, "bulk import", DIFFERS,
           "25000 CSV lines import (%" PRIu64 " keys, config restored to sync NORMAL), but a duplicate key "
           "silently drops the rest of its batch (\"1,2,2,3,4\" -> keys %s), values end at whitespace and "
           "unparsable lines leak their buffer",
           imported, cb_fmt_keys(keys, nk));
}

/* ------------------------------------------------------------------ */
/* recipe 16: parallel export with ranges */

static void *r16_thread(void *task) {
    export_range(task);
    return NULL;
}

static void r16_export(void) {
    kvidxInstance db;
    ExportTask tasks[4];
    pthread_t th[4];
    char paths[4][1024];
    static const uint64_t bounds[5] = {0, 1000, 2000, 3000, UINT64_MAX};
    cb_scenario = "recipe 16";
    if (!cb_open(&db, "r16")) {
        return;
    }
    CHECK(kvidxBegin(&db));
    for (uint64_t k = 0; k < 4000; k++) {
        char v[32];
        snprintf(v, sizeof v, "v%" PRIu64, k);
        CHECK(kvidxInsert(&db, k, k % 7, k % 3, v, strlen(v)));
    }
    CHECK(kvidxInsert(&db, H63 + 9, 1, 2, "a,b", 3));
    CHECK(kvidxCommit(&db));
    for (int t = 0; t < 4; t++) {
        char name[32];
        snprintf(name, sizeof name, "r16_part%d.csv", t);
        cb_file(paths[t], sizeof paths[t], name);
        tasks[t].db = &db;
        tasks[t].startKey = bounds[t];
        tasks[t].endKey = t == 3 ? UINT64_MAX : bounds[t + 1] - 1;
        tasks[t].output = fopen(paths[t], "w");
        CHECK(tasks[t].output != NULL);
    }
    int started = 0;
    for (int t = 0; t < 4; t++) {
        if (tasks[t].output != NULL && pthread_create(&th[t], NULL, r16_thread, &tasks[t]) == 0) {
            started |= 1 << t;
        }
    }
    CHECK_I64(started, 15);
    for (int t = 0; t < 4; t++) {
        if (started & (1 << t)) {
            pthread_join(th[t], NULL);
        }
        if (tasks[t].output != NULL) {
            CHECK(fclose(tasks[t].output) == 0);
        }
    }
    /* every key once, in its range, with the right term, cmd and value */
    unsigned lines = 0, good = 0, extraComma = 0;
    static unsigned char seen[4000];
    memset(seen, 0, sizeof seen);
    for (int t = 0; t < 4; t++) {
        FILE *f = fopen(paths[t], "r");
        char line[256];
        CHECK(f != NULL);
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            uint64_t k, term, cmd;
            char v[64];
            lines++;
            if (sscanf(line, "%" SCNu64 ",%" SCNu64 ",%" SCNu64 ",%63s", &k, &term, &cmd, v) != 4) {
                continue;
            }
            if (k == H63 + 9) {
                extraComma = strcmp(v, "a,b") == 0 && t == 3;
                continue;
            }
            char want[32];
            snprintf(want, sizeof want, "v%" PRIu64, k);
            if (k < 4000 && k >= bounds[t] && k < bounds[t + 1] && term == k % 7 && cmd == k % 3 &&
                strcmp(v, want) == 0 && !seen[k]) {
                seen[k] = 1;
                good++;
            }
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    CHECK_U64(lines, 4001);
    CHECK_U64(good, 4000);
    CHECK(extraComma);
    cb_close(&db);
    cb_say(16, "parallel range export", WORKS_CAVEAT,
           "4 threads on one instance export %u lines, each of the 4000 keys once in its range; values are "
           "written unescaped (\"a,b\" adds a field, a newline would split a line)",
           lines);
}

/* ------------------------------------------------------------------ */
/* recipe 17: prefix scan */

static void r17_prefix(void) {
    kvidxInstance db;
    size_t n0, n8, nf;
    cb_scenario = "recipe 17";
    if (!cb_open(&db, "r17")) {
        return;
    }
    static const uint64_t keys[] = {0, 5, (UINT64_C(1) << 48) | 1, UINT64_C(0x8000) << 48,
                                    (UINT64_C(0x8000) << 48) | 7, (UINT64_C(0xFFFF) << 48) | 3, UINT64_MAX};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CHECK(cb_put(&db, keys[i], "v"));
    }
    cb_collect_reset();
    n0 = scan_by_prefix(&db, 0, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(0, 5));
    cb_collect_reset();
    CHECK_U64(scan_by_prefix(&db, 1, cb_collect), 1);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(1));
    cb_collect_reset();
    n8 = scan_by_prefix(&db, 0x8000, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(0, 7));
    cb_collect_reset();
    nf = scan_by_prefix(&db, 0xFFFF, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(3, 0xFFFFFFFFFFFFu));
    cb_collect_reset();
    CHECK_U64(scan_by_prefix(&db, 2, cb_collect), 0);
    cb_close(&db);
    cb_say(17, "prefix scan", WORKS,
           "prefix 0 -> %zu ids incl. key 0, prefix 0x8000 -> %zu, prefix 0xFFFF -> %zu (end wraps to "
           "UINT64_MAX correctly)",
           n0, n8, nf);
}

/* ------------------------------------------------------------------ */
/* recipe 18: filter during iteration */

static bool r18_even(uint64_t key, const uint8_t *data, size_t len, void *ctx) {
    (void)data;
    (void)len;
    (void)ctx;
    return key % 2 == 0;
}

static bool r18_contains(uint64_t key, const uint8_t *data, size_t len, void *ctx) {
    const char *needle = ctx;
    (void)key;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == (uint8_t)needle[0]) {
            return true;
        }
    }
    return false;
}

static void r18_filter(void) {
    kvidxInstance db;
    cb_scenario = "recipe 18";
    if (!cb_open(&db, "r18")) {
        return;
    }
    for (uint64_t k = 0; k <= 20; k++) {
        char v[16];
        snprintf(v, sizeof v, "v%" PRIu64, k);
        CHECK(cb_put(&db, k, v));
    }
    CHECK(cb_put(&db, H63 + 2, "high"));
    CHECK(cb_put(&db, H63 + 3, "high"));
    cb_collect_reset();
    size_t evens = scan_with_filter(&db, 0, 10, r18_even, NULL, cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(0, 2, 4, 6, 8, 10));
    cb_collect_reset();
    size_t ones = scan_with_filter(&db, 0, UINT64_MAX, r18_contains, "1", cb_collect);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19));
    cb_collect_reset();
    CHECK_U64(scan_with_filter(&db, H63, UINT64_MAX, r18_even, NULL, cb_collect), 1);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(H63 + 2));
    cb_close(&db);
    cb_say(18, "filter", WORKS, "even keys 0..10 -> %zu, values containing '1' -> %zu, range above 2^63 -> 1", evens,
           ones);
}

/* ------------------------------------------------------------------ */
/* recipe 19: hot backup and restore */

static void r19_fill_source(kvidxInstance *db) {
    CHECK(cb_put(db, 0, "zero"));
    for (uint64_t k = 1; k <= 100; k++) {
        char v[16];
        snprintf(v, sizeof v, "a%" PRIu64, k);
        CHECK(cb_put(db, k, v));
    }
    CHECK(cb_put(db, H63 + 5, "high"));
    CHECK(cb_put(db, UINT64_MAX, "max"));
    CHECK(kvidxSetExpire(db, 50, 600000) == KVIDX_OK);
}

static void r19_backup(void) {
    kvidxInstance src, dst;
    char file[1024], cut[1024];
    cb_scenario = "recipe 19";
    if (!cb_open(&src, "r19src")) {
        return;
    }
    r19_fill_source(&src);
    cb_file(file, sizeof file, "r19.bin");
    CHECK(hot_backup(&src, file));
    cb_close(&src);
    /* the truncated copy of the backup */
    cb_file(cut, sizeof cut, "r19_cut.bin");
    long size = cb_file_size(file);
    CHECK(size > 100);
    CHECK(cb_copy_prefix(file, cut, size - 7));
    /* restore into every engine's database holding other data */
    for (size_t e = 0; e < kvidxGetAdapterCount(); e++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(e);
        char name[64];
        snprintf(name, sizeof name, "r19dst_from_%s", cb_ad->name);
        if (!cb_open_as(&dst, ad, name)) {
            continue;
        }
        CHECK(cb_put(&dst, 1, "other1"));
        for (uint64_t k = 1000; k < 1010; k++) {
            CHECK(cb_put(&dst, k, "other"));
        }
        /* a truncated backup fails and changes nothing */
        CHECK(!restore_backup(&dst, cut));
        CHECK(kvidxGetLastError(&dst) == KVIDX_ERROR_CORRUPT);
        CHECK_U64(cb_count(&dst), 11);
        CHECK(cb_value_is(&dst, 1, "other1"));
        CHECK(cb_value_is(&dst, 1005, "other"));
        /* the full backup replaces everything */
        CHECK(restore_backup(&dst, file));
        CHECK_U64(cb_count(&dst), 103);
        CHECK(!kvidxExists(&dst, 1000));
        CHECK(cb_value_is(&dst, 0, "zero"));
        CHECK(cb_value_is(&dst, 1, "a1"));
        CHECK(cb_value_is(&dst, H63 + 5, "high"));
        CHECK(cb_value_is(&dst, UINT64_MAX, "max"));
        /* TTLs are not part of a backup */
        CHECK(kvidxGetTTL(&dst, 50) == KVIDX_TTL_NONE);
        cb_close(&dst);
    }
    cb_say(19, "hot backup", WORKS_CAVEAT,
           "backup of 103 keys (0, 2^63+5, UINT64_MAX included) restores into a database with other data on "
           "every engine, replacing it; a truncated backup fails with CORRUPT and leaves the database unchanged "
           "(all-or-nothing import); TTLs are not backed up");
}

/* ------------------------------------------------------------------ */
/* recipe 20: incremental backup */

static void r20_incremental(void) {
    kvidxInstance db, dst;
    IncrementalBackup st;
    char file[1024];
    cb_scenario = "recipe 20";
    if (!cb_open(&db, "r20")) {
        return;
    }
    memset(&st, 0, sizeof st);
    snprintf(st.backupDir, sizeof st.backupDir, "%s/%s_r20_backups", cb_base, cb_ad->name);
    CHECK(mkdir(st.backupDir, 0755) == 0);
    CHECK(incremental_backup(&db, &st)); /* empty: nothing to do */
    CHECK_I64(st.backupCount, 0);
    for (uint64_t k = 0; k <= 10; k++) {
        CHECK(cb_put(&db, k, "first"));
    }
    CHECK(incremental_backup(&db, &st));
    CHECK_I64(st.backupCount, 1);
    CHECK_U64(st.lastBackupKey, 10);
    for (uint64_t k = 11; k <= 15; k++) {
        CHECK(cb_put(&db, k, "second"));
    }
    CHECK(incremental_backup(&db, &st));
    CHECK_I64(st.backupCount, 2);
    CHECK_U64(st.lastBackupKey, 15);
    /* an update of an old key: no new data for the recipe */
    CHECK(cb_put(&db, 3, "changed"));
    CHECK(incremental_backup(&db, &st));
    CHECK_I64(st.backupCount, 2);
    cb_close(&db);
    /* the files import on every engine */
    uint64_t restored = 0;
    for (size_t e = 0; e < kvidxGetAdapterCount(); e++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(e);
        char name[64];
        snprintf(name, sizeof name, "r20dst_from_%s", cb_ad->name);
        if (!cb_open_as(&dst, ad, name)) {
            continue;
        }
        kvidxImportOptions io = kvidxImportOptionsDefault();
        for (int b = 0; b < st.backupCount; b++) {
            snprintf(file, sizeof file, "%s/backup_%d.bin", st.backupDir, b);
            CHECK(kvidxImport(&dst, file, &io, NULL, NULL) == KVIDX_OK);
        }
        restored = cb_count(&dst);
        CHECK_U64(restored, 15);
        CHECK(!kvidxExists(&dst, 0));
        CHECK(cb_value_is(&dst, 1, "first"));
        CHECK(cb_value_is(&dst, 3, "first"));
        CHECK(cb_value_is(&dst, 15, "second"));
        cb_close(&dst);
    }
    cb_say(20, "incremental backup", DIFFERS,
           "the files import on every engine (header count = entries written), but the first backup starts at "
           "lastBackupKey + 1 = 1, so key 0 is never backed up (%" PRIu64 " of 16 keys restored), and updates of "
           "already backed-up keys are never captured",
           restored);
}

/* ------------------------------------------------------------------ */
/* recipe 21: tenant-prefixed keys */

static void r21_tenants(void) {
    kvidxInstance db;
    uint16_t t = 0;
    uint64_t ent = 0;
    cb_scenario = "recipe 21";
    if (!cb_open(&db, "r21")) {
        return;
    }
    CHECK_U64(make_tenant_key(0, 0), 0);
    CHECK_U64(make_tenant_key(0x8000, 9), (UINT64_C(0x8000) << 48) | 9);
    parse_tenant_key(make_tenant_key(0xFFFF, 0xFFFFFFFFFFFFu), &t, &ent);
    CHECK_U64(t, 0xFFFF);
    CHECK_U64(ent, 0xFFFFFFFFFFFFu);
    CHECK_U64(make_tenant_key(3, (UINT64_C(1) << 48) | 7), make_tenant_key(3, 7)); /* entity masked to 48 bits */
    static const struct {
        uint16_t tenant;
        uint64_t entity;
    } rows[] = {{0, 0}, {0, 5}, {1, 1}, {1, 2}, {0x8000, 0}, {0x8000, 9}, {0xFFFF, 1}, {0xFFFF, 0xFFFFFFFFFFFFu}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK(cb_put(&db, make_tenant_key(rows[i].tenant, rows[i].entity), "t"));
    }
    cb_collect_reset();
    CHECK_U64(get_tenant_data(&db, 0, cb_collect), 2);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(0, 5));
    cb_collect_reset();
    CHECK_U64(get_tenant_data(&db, 0x8000, cb_collect), 2);
    CHECK_KEYS(cb_got, cb_ngot, KEYS(0, 9));
    cb_collect_reset();
    CHECK_U64(get_tenant_data(&db, 0xFFFF, cb_collect), 2);
    uint64_t deleted = delete_tenant(&db, 0xFFFF);
    CHECK_U64(deleted, 2);
    CHECK_U64(cb_count(&db), 6);
    cb_collect_reset();
    CHECK_U64(get_tenant_data(&db, 1, cb_collect), 2);
    CHECK_U64(delete_tenant(&db, 1), 2);
    CHECK_U64(cb_count(&db), 4);
    CHECK(kvidxExists(&db, 0));
    CHECK(kvidxExists(&db, UINT64_C(0x8000) << 48));
    cb_close(&db);
    cb_say(21, "tenant keys", WORKS,
           "tenant 0 entity 0 and tenant 0x8000 are listed; delete_tenant(0xFFFF) deletes only its %" PRIu64
           " keys; entity ids are silently masked to 48 bits",
           deleted);
}

/* ------------------------------------------------------------------ */
/* recipe 22: sliding-window rate limiter */

static void r22_sliding(void) {
    kvidxInstance db;
    RateLimiter rl;
    cb_scenario = "recipe 22";
    if (!cb_open(&db, "r22")) {
        return;
    }
    rl.db = &db;
    rl.windowMs = 10000;
    rl.maxRequests = 3;
    /* time stands still in the middle of a second */
    cb_clock_freeze(((cb_real_time_ms() / 1000) * 1000) + 500);
    uint64_t bucket = (UINT64_C(1) << 32) | (current_time_ms() / 1000);
    int allowed = 0;
    for (int i = 0; i < 10; i++) {
        allowed += rate_limit_check(&rl, 1);
    }
    CHECK_I64(allowed, 10);
    uint64_t term = 0;
    CHECK(kvidxGet(&db, bucket, &term, NULL, NULL, NULL));
    CHECK_U64(term, 1);
    CHECK(kvidxGetTTL(&db, bucket) > 0);
    CHECK(!db.transactionActive);
    /* one request per second: the limit holds */
    int spread[5];
    for (int i = 0; i < 4; i++) {
        spread[i] = rate_limit_check(&rl, 2);
        cb_clock_advance(1000);
    }
    cb_clock_advance(10000);
    spread[4] = rate_limit_check(&rl, 2);
    CHECK_I64(spread[0], 1);
    CHECK_I64(spread[1], 1);
    CHECK_I64(spread[2], 1);
    CHECK_I64(spread[3], 0);
    CHECK_I64(spread[4], 1);
    cb_clock_real();
    cb_close(&db);
    cb_say(22, "sliding-window limiter", DIFFERS,
           "kvidxInsert does not overwrite, so a bucket never counts past 1: 10 requests in one second with "
           "maxRequests 3 -> %d allowed (bucket term %" PRIu64 "); requests in different seconds are limited "
           "(%d%d%d%d, then %d after the window)",
           allowed, term, spread[0], spread[1], spread[2], spread[3], spread[4]);
}

/* ------------------------------------------------------------------ */
/* recipe 23: token bucket */

static void r23_token_bucket(void) {
    kvidxInstance db;
    cb_scenario = "recipe 23";
    if (!cb_open(&db, "r23")) {
        return;
    }
    cb_clock_freeze(0);
    uint64_t t0 = current_time_ms();
    int granted = 0;
    for (int i = 0; i < 10; i++) {
        granted += token_bucket_acquire(&db, 1, 5, 1, 1);
    }
    CHECK_I64(granted, 10);
    TokenBucket stored;
    const uint8_t *d = NULL;
    size_t l = 0;
    CHECK(kvidxGet(&db, 1, NULL, NULL, &d, &l));
    CHECK_U64(l, sizeof stored);
    if (l == sizeof stored) {
        memcpy(&stored, d, sizeof stored);
        CHECK_U64(stored.tokens, 4);
        CHECK_U64(stored.lastRefill, t0);
    }
    /* 3 of 5 tokens per call, 1 token per second */
    int r[4];
    r[0] = token_bucket_acquire(&db, 2, 5, 1, 3);
    r[1] = token_bucket_acquire(&db, 2, 5, 1, 3);
    cb_clock_advance(1000);
    r[2] = token_bucket_acquire(&db, 2, 5, 1, 3);
    r[3] = token_bucket_acquire(&db, 2, 5, 1, 3);
    CHECK_I64(r[0], 1);
    CHECK_I64(r[1], 0);
    CHECK_I64(r[2], 1);
    CHECK_I64(r[3], 1);
    CHECK(!db.transactionActive);
    cb_clock_real();
    cb_close(&db);
    cb_say(23, "token bucket", DIFFERS,
           "kvidxInsert does not overwrite, so consumed tokens are never saved: 10 one-token calls on a "
           "5-token bucket in the same instant -> %d granted; 3-token calls: %d,%d, +1 s: %d,%d",
           granted, r[0], r[1], r[2], r[3]);
}

/* ------------------------------------------------------------------ */

static void run_original(void) {
    r01_counter();
    r02_id_generator();
    r03_gaps();
    r04_simple_cache();
    r05_write_through();
    r06_lru();
    r07_cursor();
    r08_offset();
    r09_reverse();
    r10_lock();
    r11_optimistic();
    r12_stack();
    r13_sorted_set();
    r14_log();
    r15_bulk();
    r16_export();
    r17_prefix();
    r18_filter();
    r19_backup();
    r20_incremental();
    r21_tenants();
    r22_sliding();
    r23_token_bucket();
}

int main(int argc, char **argv) { return cb_main(argc, argv, run_original); }
