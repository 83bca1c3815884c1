/* A time series on kvidxkit.
 *
 * Each sample is one entry: the key is its timestamp in Unix milliseconds,
 * `term` the sensor id, `cmd` a quality flag, the value the measurement (a
 * C double, 8 bytes). Keys are ordered as unsigned integers, so key order is
 * time order.
 *
 *   - ingest in batches with kvidxInsertBatch (a batch stops at the first
 *     failing entry and keeps the ones before it);
 *   - range queries: an iterator over [t0, t1], kvidxCountRange;
 *   - point-in-time ("as of") reads with kvidxGetPrev, the latest sample
 *     with kvidxMaxKey;
 *   - downsampling: the average of each 10-minute bucket;
 *   - retention: kvidxRemoveRange drops everything older than a cutoff.
 *
 * Usage: timeseries [DIRECTORY [ENGINE]]
 *   DIRECTORY  where the databases are created and removed again
 *              (default, or "-": a fresh scratch directory, removed at exit)
 *   ENGINE     a registry name ("SQLite3", "LMDB"); default: every engine
 * Exits 0 when every check passed, 1 otherwise.
 *
 * Build: cc -std=c99 -D_DEFAULT_SOURCE -Iinclude examples/timeseries.c \
 *           target/release/libkvidxkit.a -lm -lpthread -ldl -o timeseries */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvidxkit.h"

/* ------------------------------------------------------------------ */
/* Boilerplate shared by the examples: checks, output, paths.          */

#define PATH_LEN 4096

static int failures = 0;
static const char *engine = "-";

/* Prints one line prefixed with the engine's name. */
static void say(const char *fmt, ...) {
    va_list ap;
    printf("[%s] ", engine);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void checkFailed(kvidxInstance *db, int line, const char *what) {
    fprintf(stderr, "[%s] timeseries.c:%d: check failed: %s (last error: %s)\n", engine, line, what,
            kvidxGetLastErrorMessage(db));
    failures++;
}

/* Counts (and reports) every unexpected result. */
#define CHECK(db, cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            checkFailed((db), __LINE__, #cond);                                \
        }                                                                      \
    } while (0)

/* Removes what an engine created at `path`: a file and SQLite's companion
 * files, or a directory and the files in it. */
static void removeDatabase(const char *path, bool isDirectory) {
    char p[PATH_LEN];
    if (isDirectory) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                    snprintf(p, sizeof(p), "%s/%s", path, e->d_name) < (int)sizeof(p)) {
                    remove(p);
                }
            }
            closedir(d);
        }
        rmdir(path);
        return;
    }
    static const char *const companions[] = {"", "-wal", "-shm", "-journal"};
    for (size_t k = 0; k < sizeof(companions) / sizeof(companions[0]); k++) {
        if (snprintf(p, sizeof(p), "%s%s", path, companions[k]) < (int)sizeof(p)) {
            remove(p);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The time series.                                                    */

#define SENSOR 7
#define QUALITY_GOOD 1
#define STEP_MS UINT64_C(10000)    /* one sample every 10 s */
#define MINUTE_MS UINT64_C(60000)
#define BUCKET_MS (10 * MINUTE_MS) /* downsampling resolution */
#define SAMPLES 362                /* one hour (360) and two late ones */

/* t0 is 2023-11-14 22:10:00 UTC, on a 10-minute boundary. */
static const uint64_t T0 = UINT64_C(1699999800000);

static uint64_t timeOf(size_t i) {
    return T0 + i * STEP_MS;
}

/* The measurement of sample i: a temperature rising 0.05 degrees per sample. */
static double valueOf(size_t i) {
    return 15.0 + 0.05 * (double)i;
}

static double decode(const uint8_t *data, size_t len) {
    double v = 0;
    if (len == sizeof(v)) {
        memcpy(&v, data, sizeof(v));
    }
    return v;
}

static bool near(double a, double b) {
    double d = a - b;
    return (d < 0 ? -d : d) < 1e-9;
}

/* "+mm:ss" relative to t0, for readable output. */
static const char *offset(uint64_t t, char *buf, size_t size) {
    uint64_t s = (t - T0) / 1000;
    snprintf(buf, size, "+%02u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
    return buf;
}

/* Average of the samples in [from, to]; returns their number. */
static uint64_t average(kvidxInstance *db, uint64_t from, uint64_t to, double *avg, double *min, double *max) {
    uint64_t n = 0;
    double sum = 0;
    kvidxIterator *it = kvidxIteratorCreate(db, from, to, KVIDX_ITER_FORWARD);
    while (kvidxIteratorNext(it)) {
        const uint8_t *data;
        size_t len;
        kvidxIteratorGet(it, NULL, NULL, NULL, &data, &len);
        double v = decode(data, len);
        if (n == 0 || v < *min) {
            *min = v;
        }
        if (n == 0 || v > *max) {
            *max = v;
        }
        sum += v;
        n++;
    }
    kvidxIteratorDestroy(it);
    *avg = n ? sum / (double)n : 0;
    return n;
}

static void runSeries(const kvidxAdapterInfo *adapter, const char *path) {
    kvidxInstance db = {0};
    db.interface = *adapter->iface;
    const char *err = NULL;
    if (!kvidxOpen(&db, path, &err)) {
        fprintf(stderr, "[%s] cannot open %s: %s\n", engine, path, err);
        failures++;
        return;
    }
    say("opened series %s", path);

    /* The values must stay valid while the batch runs: keep them in an array. */
    static double values[SAMPLES];
    static kvidxEntry entries[SAMPLES];
    for (size_t i = 0; i < SAMPLES; i++) {
        values[i] = valueOf(i);
        entries[i] = (kvidxEntry){timeOf(i), SENSOR, QUALITY_GOOD, &values[i], sizeof(values[i])};
    }

    /* One hour of samples, in batches of one minute... */
    size_t batches = 0, total = 0;
    for (size_t i = 0; i < 360; i += 60) {
        size_t inserted = 0;
        CHECK(&db, kvidxInsertBatch(&db, &entries[i], 60, &inserted) && inserted == 60);
        total += inserted;
        batches++;
    }
    say("ingested %zu samples in %zu batches", total, batches);

    /* ...then a late batch that repeats an old sample: the batch stops at
     * the duplicate, keeping the entries before it. */
    kvidxEntry late[3] = {entries[360], entries[0], entries[361]};
    size_t inserted = 0;
    CHECK(&db, !kvidxInsertBatch(&db, late, 3, &inserted));
    CHECK(&db, inserted == 1 && kvidxGetLastError(&db) == KVIDX_ERROR_DUPLICATE_KEY);
    say("late batch stopped after %zu sample(s): %s", inserted, kvidxGetLastErrorMessage(&db));
    kvidxClearError(&db);
    CHECK(&db, kvidxInsertBatch(&db, &late[2], 1, &inserted) && inserted == 1);

    uint64_t count = 0;
    CHECK(&db, kvidxGetKeyCount(&db, &count) == KVIDX_OK && count == SAMPLES);

    /* Range query: minutes 15 to 20, both ends included. */
    char a[16], b[16];
    const uint64_t from = T0 + 15 * MINUTE_MS, to = T0 + 20 * MINUTE_MS;
    CHECK(&db, kvidxCountRange(&db, from, to, &count) == KVIDX_OK && count == 31);
    double avg = 0, min = 0, max = 0;
    uint64_t n = average(&db, from, to, &avg, &min, &max);
    CHECK(&db, n == 31 && near(min, 19.5) && near(max, 21.0) && near(avg, 20.25));
    say("%s..%s: %" PRIu64 " samples, min %.2f, max %.2f, avg %.3f", offset(from, a, sizeof(a)),
        offset(to, b, sizeof(b)), n, min, max, avg);

    /* "As of" read: the last sample at or before a time (between samples). */
    uint64_t t = 0, sensor = 0, quality = 0;
    const uint8_t *data;
    size_t len;
    const uint64_t asOf = from + 5000;
    CHECK(&db, kvidxGetPrev(&db, asOf + 1, &t, &sensor, &quality, &data, &len));
    CHECK(&db, t == from && sensor == SENSOR && near(decode(data, len), 19.5));
    say("as of %s: sample at %s = %.2f", offset(asOf, a, sizeof(a)), offset(t, b, sizeof(b)), decode(data, len));

    /* The latest sample. */
    CHECK(&db, kvidxMaxKey(&db, &t) && t == timeOf(SAMPLES - 1));
    CHECK(&db, kvidxGet(&db, t, NULL, NULL, &data, &len));
    CHECK(&db, near(decode(data, len), valueOf(SAMPLES - 1)));
    say("latest sample at %s = %.2f", offset(t, a, sizeof(a)), decode(data, len));

    /* Downsampling: average per 10-minute bucket. */
    uint64_t first = 0, last = 0;
    CHECK(&db, kvidxGetMinKey(&db, &first) == KVIDX_OK && kvidxMaxKey(&db, &last));
    size_t buckets = 0;
    for (uint64_t start = first - (first - T0) % BUCKET_MS; start <= last; start += BUCKET_MS) {
        n = average(&db, start, start + BUCKET_MS - 1, &avg, &min, &max);
        /* Samples 60k .. 60k+59 average to 15 + 0.05 * (60k + 29.5). */
        const size_t k = buckets;
        const double expected = k < 6 ? 16.475 + 3.0 * (double)k : (valueOf(360) + valueOf(361)) / 2;
        CHECK(&db, n == (k < 6 ? 60 : 2) && near(avg, expected));
        say("bucket %s: %2" PRIu64 " samples, avg %.3f", offset(start, a, sizeof(a)), n, avg);
        buckets++;
    }
    CHECK(&db, buckets == 7);

    /* Retention: drop every sample older than minute 30. */
    const uint64_t cutoff = T0 + 30 * MINUTE_MS;
    uint64_t deleted = 0;
    CHECK(&db, kvidxRemoveRange(&db, 0, cutoff, true, false, &deleted) == KVIDX_OK && deleted == 180);
    CHECK(&db, kvidxGetMinKey(&db, &first) == KVIDX_OK && first == cutoff);
    bool any = true;
    CHECK(&db, kvidxExistsInRange(&db, 0, cutoff - 1, &any) == KVIDX_OK && !any);
    say("retention: removed %" PRIu64 " samples before %s; oldest now %s", deleted, offset(cutoff, a, sizeof(a)),
        offset(first, b, sizeof(b)));

    kvidxStats stats;
    CHECK(&db, kvidxGetStats(&db, &stats) == KVIDX_OK);
    CHECK(&db, stats.totalKeys == SAMPLES - 180 && stats.totalDataBytes == (SAMPLES - 180) * sizeof(double));
    CHECK(&db, stats.minKey == cutoff && stats.maxKey == timeOf(SAMPLES - 1));
    say("stats: %" PRIu64 " samples, %" PRIu64 " value bytes", stats.totalKeys, stats.totalDataBytes);
    CHECK(&db, kvidxClose(&db));
}

int main(int argc, char **argv) {
    char scratch[] = "/tmp/kvidx-series-XXXXXX";
    const char *dir = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
    const char *only = argc > 2 ? argv[2] : NULL;
    if (dir == NULL) {
        if (mkdtemp(scratch) == NULL) {
            perror("mkdtemp");
            return 1;
        }
        dir = scratch;
        printf("scratch directory %s\n", dir);
    }

    size_t ran = 0;
    for (size_t k = 0; k < kvidxGetAdapterCount(); k++) {
        const kvidxAdapterInfo *adapter = kvidxGetAdapterByIndex(k);
        if (only && kvidxGetAdapterByName(only) != adapter) {
            continue;
        }
        char path[PATH_LEN];
        if (snprintf(path, sizeof(path), "%s/timeseries%s", dir, adapter->pathSuffix) >= (int)sizeof(path)) {
            fprintf(stderr, "path too long\n");
            return 1;
        }
        engine = adapter->name;
        removeDatabase(path, adapter->isDirectory);
        int before = failures;
        runSeries(adapter, path);
        removeDatabase(path, adapter->isDirectory);
        say("%s", failures == before ? "time series OK" : "time series FAILED");
        ran++;
    }
    engine = "-";
    if (only && ran == 0) {
        fprintf(stderr, "no engine named %s\n", only);
        failures++;
    }
    if (dir == scratch) {
        rmdir(scratch);
    }
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed on %zu engine(s)\n", ran);
    return 0;
}
