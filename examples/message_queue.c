/* A FIFO message queue with a visibility timeout, on kvidxkit.
 *
 * Layout (one database):
 *   keys 1 .. 2^63-1   messages, in arrival order: `cmd` = message type,
 *                      `term` = how many times it was delivered, value = body
 *   keys 2^63 + k      the lease of message k while a consumer holds it:
 *                      value = consumer name, with a TTL = visibility timeout
 *
 *   - enqueue: the next key after the last message (kvidxGetPrev(2^63) is the
 *     largest key below 2^63: keys are ordered as unsigned integers);
 *   - dequeue: walk the messages in key order and take the first one whose
 *     lease can be created: kvidxInsertNX + kvidxSetExpire in one
 *     transaction. A lease whose TTL has passed is absent (lazy expiry), so
 *     InsertNX succeeds on it and the message is delivered again;
 *   - ack: only the consumer that holds the live lease may remove the message;
 *   - kvidxExpireScan reclaims the space of expired leases.
 *
 * Usage: message_queue [DIRECTORY [ENGINE]]
 *   DIRECTORY  where the databases are created and removed again
 *              (default, or "-": a fresh scratch directory, removed at exit)
 *   ENGINE     a registry name ("SQLite3", "LMDB"); default: every engine
 * Exits 0 when every check passed, 1 otherwise.
 *
 * Build: cc -std=c99 -D_DEFAULT_SOURCE -Iinclude examples/message_queue.c \
 *           target/release/libkvidxkit.a -lm -lpthread -ldl -o message_queue */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
    fprintf(stderr, "[%s] message_queue.c:%d: check failed: %s (last error: %s)\n", engine, line, what,
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

static void sleepMs(int64_t ms) {
    if (ms <= 0) {
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ------------------------------------------------------------------ */
/* The queue.                                                          */

#define LEASE_BASE (UINT64_C(1) << 63)
#define LAST_MESSAGE_KEY (LEASE_BASE - 1)
#define VISIBILITY_TIMEOUT_MS 500

typedef struct {
    uint64_t key;
    uint64_t type;
    uint64_t deliveries; /* including this one */
    char body[128];
} Message;

/* Appends a message; returns its key (0 on failure). */
static uint64_t enqueue(kvidxInstance *db, uint64_t type, const char *body) {
    uint64_t last = 0, key = 0;
    if (!kvidxBegin(db)) {
        return 0;
    }
    /* The largest key strictly below 2^63: the newest message (or none). */
    if (!kvidxGetPrev(db, LEASE_BASE, &last, NULL, NULL, NULL, NULL)) {
        last = 0;
    }
    key = last + 1;
    if (!kvidxInsert(db, key, /*deliveries*/ 0, type, body, strlen(body)) || !kvidxCommit(db)) {
        kvidxAbort(db);
        return 0;
    }
    return key;
}

/* Takes the oldest visible message for `consumer` and hides it for the
 * visibility timeout. Returns false when no message is visible. */
static bool dequeue(kvidxInstance *db, const char *consumer, Message *out) {
    bool found = false, failed = false;
    if (!kvidxBegin(db)) {
        return false;
    }
    kvidxIterator *it = kvidxIteratorCreate(db, 1, LAST_MESSAGE_KEY, KVIDX_ITER_FORWARD);
    while (!found && kvidxIteratorNext(it)) {
        uint64_t key, deliveries, type;
        const uint8_t *body;
        size_t len;
        kvidxIteratorGet(it, &key, &deliveries, &type, &body, &len);

        /* Try to create the lease; a live lease means another consumer has it. */
        kvidxError e = kvidxInsertNX(db, LEASE_BASE | key, 0, 0, consumer, strlen(consumer));
        if (e == KVIDX_ERROR_CONDITION_FAILED) {
            kvidxClearError(db);
            continue;
        }
        if (e != KVIDX_OK || kvidxSetExpire(db, LEASE_BASE | key, VISIBILITY_TIMEOUT_MS) != KVIDX_OK) {
            failed = true;
            break;
        }
        /* Count the delivery: term goes from `deliveries` to deliveries + 1.
         * `body` is still valid: it belongs to the iterator, which has not
         * moved, whatever else ran on the instance meanwhile. */
        bool swapped = false;
        if (kvidxCompareTermAndSwap(db, key, deliveries, deliveries + 1, type, body, len, &swapped) != KVIDX_OK ||
            !swapped) {
            failed = true;
            break;
        }
        out->key = key;
        out->type = type;
        out->deliveries = deliveries + 1;
        size_t n = len < sizeof(out->body) - 1 ? len : sizeof(out->body) - 1;
        if (n > 0) {
            memcpy(out->body, body, n);
        }
        out->body[n] = '\0';
        found = true;
    }
    kvidxIteratorDestroy(it);
    if (failed || !kvidxCommit(db)) {
        say("%s: dequeue failed: %s", consumer, kvidxGetLastErrorMessage(db));
        kvidxAbort(db); /* nothing of this attempt remains, lease included */
        return false;
    }
    if (found) {
        say("%s received message %" PRIu64 " (type %" PRIu64 ", delivery %" PRIu64 "): %s", consumer, out->key,
            out->type, out->deliveries, out->body);
    } else {
        say("%s: no visible message", consumer);
    }
    return found;
}

/* Acknowledges (deletes) message `key` if `consumer` still holds its lease. */
static bool ack(kvidxInstance *db, const char *consumer, uint64_t key) {
    const uint8_t *holder;
    size_t len;
    if (!kvidxBegin(db)) {
        return false;
    }
    if (!kvidxGet(db, LEASE_BASE | key, NULL, NULL, &holder, &len)) {
        say("%s: ack of message %" PRIu64 " refused: its lease has expired", consumer, key);
        kvidxClearError(db);
        kvidxAbort(db);
        return false;
    }
    if (len != strlen(consumer) || memcmp(holder, consumer, len) != 0) {
        say("%s: ack of message %" PRIu64 " refused: lease held by %.*s", consumer, key, (int)len,
            (const char *)holder);
        kvidxAbort(db);
        return false;
    }
    if (!kvidxRemove(db, LEASE_BASE | key) || !kvidxRemove(db, key) || !kvidxCommit(db)) {
        kvidxAbort(db);
        return false;
    }
    say("%s acknowledged message %" PRIu64, consumer, key);
    return true;
}

/* Messages stored (visible or in flight), and messages in flight. */
static void depth(kvidxInstance *db, uint64_t *stored, uint64_t *inFlight) {
    CHECK(db, kvidxCountRange(db, 1, LAST_MESSAGE_KEY, stored) == KVIDX_OK);
    CHECK(db, kvidxCountRange(db, LEASE_BASE, UINT64_MAX, inFlight) == KVIDX_OK);
    say("queue: %" PRIu64 " message(s), %" PRIu64 " in flight", *stored, *inFlight);
}

static void runQueue(const kvidxAdapterInfo *adapter, const char *path) {
    kvidxInstance db = {0};
    db.interface = *adapter->iface;
    const char *err = NULL;
    if (!kvidxOpen(&db, path, &err)) {
        fprintf(stderr, "[%s] cannot open %s: %s\n", engine, path, err);
        failures++;
        return;
    }
    say("opened queue %s", path);

    static const char *const bodies[] = {"send welcome mail to alice", "resize avatar 17", "send welcome mail to bob",
                                         "rebuild search index"};
    for (size_t k = 0; k < 4; k++) {
        uint64_t key = enqueue(&db, k % 2 ? 2 : 1, bodies[k]);
        CHECK(&db, key == k + 1);
    }
    say("enqueued 4 messages");

    Message a, b, c;
    uint64_t stored = 0, inFlight = 0;
    CHECK(&db, dequeue(&db, "worker-A", &a) && a.key == 1 && a.deliveries == 1);
    int64_t ttl = kvidxGetTTL(&db, LEASE_BASE | a.key);
    CHECK(&db, ttl > 0 && ttl <= VISIBILITY_TIMEOUT_MS);
    CHECK(&db, dequeue(&db, "worker-B", &b) && b.key == 2); /* message 1 is hidden */
    CHECK(&db, ack(&db, "worker-A", a.key));
    CHECK(&db, dequeue(&db, "worker-A", &c) && c.key == 3);
    CHECK(&db, ack(&db, "worker-A", c.key));
    depth(&db, &stored, &inFlight);
    CHECK(&db, stored == 2 && inFlight == 1);

    /* worker-B crashes with message 2. Wait until its lease expires. */
    ttl = kvidxGetTTL(&db, LEASE_BASE | b.key);
    CHECK(&db, ttl > 0);
    say("worker-B stops responding; waiting %" PRId64 " ms for its lease to expire", ttl);
    sleepMs(ttl + 20);

    /* The expired lease is absent for every call, before any scan. */
    CHECK(&db, !kvidxExists(&db, LEASE_BASE | b.key));
    CHECK(&db, kvidxGetTTL(&db, LEASE_BASE | b.key) == KVIDX_TTL_NOT_FOUND);
    depth(&db, &stored, &inFlight);
    CHECK(&db, stored == 2 && inFlight == 0);

    /* Reclaim the space of expired leases. */
    uint64_t reclaimed = 0;
    CHECK(&db, kvidxExpireScan(&db, 0, &reclaimed) == KVIDX_OK && reclaimed == 1);
    say("expire scan reclaimed %" PRIu64 " lease(s)", reclaimed);

    /* Message 2 is visible again: delivered a second time, to worker-C. */
    CHECK(&db, dequeue(&db, "worker-C", &c) && c.key == 2 && c.deliveries == 2);
    CHECK(&db, !ack(&db, "worker-B", b.key)); /* too late */
    CHECK(&db, ack(&db, "worker-C", c.key));

    CHECK(&db, dequeue(&db, "worker-A", &a) && a.key == 4 && a.type == 2);
    CHECK(&db, ack(&db, "worker-A", a.key));
    CHECK(&db, !dequeue(&db, "worker-A", &a));
    depth(&db, &stored, &inFlight);
    CHECK(&db, stored == 0 && inFlight == 0);

    /* The next message continues the numbering from scratch: the queue is empty. */
    CHECK(&db, enqueue(&db, 1, "send welcome mail to carol") == 1);
    CHECK(&db, kvidxClose(&db));
}

int main(int argc, char **argv) {
    char scratch[] = "/tmp/kvidx-queue-XXXXXX";
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
        if (snprintf(path, sizeof(path), "%s/message_queue%s", dir, adapter->pathSuffix) >= (int)sizeof(path)) {
            fprintf(stderr, "path too long\n");
            return 1;
        }
        engine = adapter->name;
        removeDatabase(path, adapter->isDirectory);
        int before = failures;
        runQueue(adapter, path);
        removeDatabase(path, adapter->isDirectory);
        say("%s", failures == before ? "message queue OK" : "message queue FAILED");
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
