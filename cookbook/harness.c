/* cookbook/harness.c: what the cookbook scenarios share — counting checks,
 * the loop over every engine of the registry, database and file helpers,
 * collectors for the recipes' callbacks and the report lines.
 *
 * Appended by tests/cookbook.rs after the recipes (and, for the corrected
 * recipes, after docs/cookbook.md), so every name here is prefixed cb_ /
 * CB_ / CHECK to stay clear of the recipes' own names. */

/* ------------------------------------------------------------------ */
/* counting checks */

static unsigned long cb_passed, cb_failed;
static const kvidxAdapterInfo *cb_ad; /* the engine under test */
static const char *cb_base = ".";     /* scratch directory (argv[1]) */
static const char *cb_scenario = "";  /* named in failure messages */

static void cb_fail(int line, const char *expr, const char *detail) {
    cb_failed++;
    fprintf(stderr, "FAIL line %d [%s] %s: %s%s%s\n", line, cb_ad != NULL ? cb_ad->name : "-", cb_scenario,
            expr, detail != NULL ? " -- " : "", detail != NULL ? detail : "");
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            cb_passed++;                                                                           \
        } else {                                                                                   \
            cb_fail(__LINE__, #cond, NULL);                                                        \
        }                                                                                          \
    } while (0)

#define CHECK_U64(a, b)                                                                            \
    do {                                                                                           \
        uint64_t cb_a_ = (uint64_t)(a), cb_b_ = (uint64_t)(b);                                     \
        if (cb_a_ == cb_b_) {                                                                      \
            cb_passed++;                                                                           \
        } else {                                                                                   \
            char cb_m_[96];                                                                        \
            snprintf(cb_m_, sizeof cb_m_, "%" PRIu64 " != %" PRIu64, cb_a_, cb_b_);                \
            cb_fail(__LINE__, #a " == " #b, cb_m_);                                                \
        }                                                                                          \
    } while (0)

#define CHECK_I64(a, b)                                                                            \
    do {                                                                                           \
        int64_t cb_a_ = (int64_t)(a), cb_b_ = (int64_t)(b);                                        \
        if (cb_a_ == cb_b_) {                                                                      \
            cb_passed++;                                                                           \
        } else {                                                                                   \
            char cb_m_[96];                                                                        \
            snprintf(cb_m_, sizeof cb_m_, "%" PRId64 " != %" PRId64, cb_a_, cb_b_);                \
            cb_fail(__LINE__, #a " == " #b, cb_m_);                                                \
        }                                                                                          \
    } while (0)

/* bytes (p, len) equal the C string s */
#define CHECK_MEM(p, len, s)                                                                       \
    do {                                                                                           \
        const void *cb_p_ = (p);                                                                   \
        size_t cb_l_ = (len);                                                                      \
        const char *cb_s_ = (s);                                                                   \
        if (cb_l_ == strlen(cb_s_) && (cb_l_ == 0 || (cb_p_ != NULL && memcmp(cb_p_, cb_s_, cb_l_) == 0))) { \
            cb_passed++;                                                                           \
        } else {                                                                                   \
            char cb_m_[160];                                                                       \
            snprintf(cb_m_, sizeof cb_m_, "got %zu bytes \"%.*s\", want \"%s\"", cb_l_,            \
                     cb_p_ != NULL ? (int)(cb_l_ < 60 ? cb_l_ : 60) : 0,                           \
                     cb_p_ != NULL ? (const char *)cb_p_ : "", cb_s_);                             \
            cb_fail(__LINE__, #p " == " #s, cb_m_);                                                \
        }                                                                                          \
    } while (0)

/* KEYS(1, 2, 3) expands to an array and its length */
#define KEYS(...) (const uint64_t[]){__VA_ARGS__}, (sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))
#define CHECK_KEYS(got, n, expected) cb_check_keys(__LINE__, #got, (got), (n), expected)

/* A key list as text ("1,2,0x8000000000000003"): keys >= 2^32 in hex.
 * Four rotating buffers, so one printf can show several lists. */
static const char *cb_fmt_keys(const uint64_t *k, size_t n) {
    static char bufs[4][512];
    static int which;
    char *b = bufs[which++ & 3];
    size_t used = 0;
    b[0] = '\0';
    for (size_t i = 0; i < n && used + 24 < 512; i++) {
        used += (size_t)snprintf(b + used, 512 - used, k[i] >= (UINT64_C(1) << 32) ? "%s0x%" PRIx64 : "%s%" PRIu64,
                                 i ? "," : "", k[i]);
    }
    if (n == 0) {
        snprintf(b, 512, "none");
    }
    return b;
}

static void cb_check_keys(int line, const char *what, const uint64_t *got, size_t n, const uint64_t *exp, size_t en) {
    if (n == en && (n == 0 || memcmp(got, exp, n * sizeof(uint64_t)) == 0)) {
        cb_passed++;
        return;
    }
    char m[1200];
    snprintf(m, sizeof m, "got [%s], want [%s]", cb_fmt_keys(got, n), cb_fmt_keys(exp, en));
    cb_fail(line, what, m);
}

/* ------------------------------------------------------------------ */
/* report lines: one per recipe scenario and engine */

static void cb_say(int recipe, const char *title, const char *verdict, const char *fmt, ...) {
    va_list ap;
    printf("[%s] recipe %2d (%s): %s: ", cb_ad->name, recipe, title, verdict);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define WORKS "works as written"
#define WORKS_CAVEAT "works as written (caveat)"
#define DIFFERS "DIFFERS from its comment"
#define FIXED "corrected recipe does what it says"

/* ------------------------------------------------------------------ */
/* databases and files */

/* Short real TTLs: long enough that a check right after setting one cannot
 * miss it on a loaded machine, and a sleep that is surely past them. */
#define CB_SHORT_TTL 400
#define CB_PAST_SHORT_TTL 700

static void cb_sleep_ms(unsigned ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A database path for this engine: <scratch>/<engine>_<name><suffix>. */
static void cb_path_as(char *buf, size_t n, const kvidxAdapterInfo *ad, const char *name) {
    snprintf(buf, n, "%s/%s_%s%s", cb_base, ad->name, name, ad->pathSuffix);
}

static void cb_path(char *buf, size_t n, const char *name) { cb_path_as(buf, n, cb_ad, name); }

/* A plain file path: <scratch>/<engine>_<name>. */
static void cb_file(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s_%s", cb_base, cb_ad->name, name); }

static bool cb_open_as(kvidxInstance *db, const kvidxAdapterInfo *ad, const char *name) {
    char path[1024];
    const char *err = NULL;
    memset(db, 0, sizeof(*db));
    db->interface = *ad->iface;
    cb_path_as(path, sizeof path, ad, name);
    bool ok = kvidxOpen(db, path, &err);
    if (!ok) {
        fprintf(stderr, "open %s: %s\n", path, err != NULL ? err : "(no message)");
    }
    CHECK(ok);
    return ok;
}

static bool cb_open(kvidxInstance *db, const char *name) { return cb_open_as(db, cb_ad, name); }

static void cb_close(kvidxInstance *db) { CHECK(kvidxClose(db)); }

/* Writes (insert or overwrite) a string value with term 0, cmd 0. */
static bool cb_put(kvidxInstance *db, uint64_t key, const char *s) {
    return kvidxInsertEx(db, key, 0, 0, s, strlen(s), KVIDX_SET_ALWAYS) == KVIDX_OK;
}

static bool cb_value_is(kvidxInstance *db, uint64_t key, const char *s) {
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(db, key, NULL, NULL, &d, &l)) {
        return false;
    }
    return l == strlen(s) && (l == 0 || memcmp(d, s, l) == 0);
}

/* The value of `key` as a uint64_t (false if absent or not 8 bytes). */
static bool cb_u64_at(kvidxInstance *db, uint64_t key, uint64_t *out) {
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(db, key, NULL, NULL, &d, &l) || l != sizeof(uint64_t)) {
        return false;
    }
    memcpy(out, d, sizeof(uint64_t));
    return true;
}

static uint64_t cb_count(kvidxInstance *db) {
    uint64_t n = 0;
    CHECK(kvidxGetKeyCount(db, &n) == KVIDX_OK);
    return n;
}

/* Every key of the database in order (at most max). */
static size_t cb_all_keys(kvidxInstance *db, uint64_t *out, size_t max) {
    size_t n = 0;
    kvidxIterator *it = kvidxIteratorCreate(db, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
    while (kvidxIteratorNext(it) && kvidxIteratorValid(it) && n < max) {
        out[n++] = kvidxIteratorKey(it);
    }
    kvidxIteratorDestroy(it);
    return n;
}

static bool cb_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return false;
    }
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

long cb_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Copies the first `len` bytes of src to dst (a truncated copy). Not static,
 * like cb_file_size: only one of the two drivers uses them. */
bool cb_copy_prefix(const char *src, const char *dst, long len) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    bool ok = in != NULL && out != NULL;
    for (long i = 0; ok && i < len; i++) {
        int c = fgetc(in);
        ok = c != EOF && fputc(c, out) != EOF;
    }
    if (in != NULL) {
        fclose(in);
    }
    if (out != NULL) {
        ok = fclose(out) == 0 && ok;
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* collectors for the recipes' callbacks */

#define CB_MAX 256
static uint64_t cb_got[CB_MAX];      /* keys / ids / seqs handed to a callback */
static uint64_t cb_got_aux[CB_MAX];  /* scores (sorted set) */
static char cb_got_data[CB_MAX][32]; /* the values, as strings */
static size_t cb_ngot;

static void cb_collect_reset(void) { cb_ngot = 0; }

static void cb_collect_value(size_t i, const uint8_t *data, size_t len) {
    size_t l = len < sizeof cb_got_data[0] - 1 ? len : sizeof cb_got_data[0] - 1;
    if (l > 0) {
        memcpy(cb_got_data[i], data, l);
    }
    cb_got_data[i][l] = '\0';
}

/* void (*)(uint64_t, const uint8_t *, size_t): ids, seqs, keys */
static void cb_collect(uint64_t k, const uint8_t *data, size_t len) {
    if (cb_ngot < CB_MAX) {
        cb_got[cb_ngot] = k;
        cb_collect_value(cb_ngot, data, len);
        cb_ngot++;
    }
}

/* void (*)(uint32_t id, uint32_t score, const uint8_t *, size_t) */
static void cb_collect_scored(uint32_t id, uint32_t score, const uint8_t *data, size_t len) {
    if (cb_ngot < CB_MAX) {
        cb_got[cb_ngot] = id;
        cb_got_aux[cb_ngot] = score;
        cb_collect_value(cb_ngot, data, len);
        cb_ngot++;
    }
}

/* ------------------------------------------------------------------ */
/* the engine loop */

static int cb_main(int argc, char **argv, void (*run)(void)) {
    cb_base = argc > 1 ? argv[1] : ".";
    size_t engines = kvidxGetAdapterCount();
    cb_ad = NULL;
    CHECK(engines >= 2); /* SQLite3 and LMDB are both built in */
    for (size_t e = 0; e < engines; e++) {
        unsigned long failedBefore = cb_failed, passedBefore = cb_passed;
        cb_ad = kvidxGetAdapterByIndex(e);
        CHECK(cb_ad != NULL && cb_ad->iface != NULL);
        if (cb_ad == NULL || cb_ad->iface == NULL) {
            continue;
        }
        cb_clock_real();
        run();
        cb_clock_real();
        printf("[%s] %lu checks passed, %lu failed\n", cb_ad->name, cb_passed - passedBefore, cb_failed - failedBefore);
    }
    printf("%lu passed, %lu failed\n", cb_passed, cb_failed);
    return cb_failed == 0 ? 0 : 1;
}
