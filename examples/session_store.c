/* A session store with sliding expiration, on kvidxkit.
 *
 * Each session is one entry: the key is the session id (any 64-bit number),
 * `term` the user id, `cmd` the user's role, the value the session data.
 *
 *   - create: kvidxInsertNX (a session id is never reused while live) and
 *     kvidxSetExpire in one transaction;
 *   - access: kvidxGet, then kvidxSetExpire again (refresh on access);
 *   - update: kvidxInsertXX, which only writes a live session and keeps its
 *     TTL;
 *   - "remember me": kvidxPersist removes the expiry;
 *   - expiry: after its TTL a session is absent for every call (lazy expiry);
 *     kvidxExpireScan reclaims the space;
 *   - logout: kvidxGetAndRemove (the returned copy is freed with free()).
 *
 * Usage: session_store [DIRECTORY [ENGINE]]
 *   DIRECTORY  where the databases are created and removed again
 *              (default, or "-": a fresh scratch directory, removed at exit)
 *   ENGINE     a registry name ("SQLite3", "LMDB"); default: every engine
 * Exits 0 when every check passed, 1 otherwise.
 *
 * Build: cc -std=c99 -D_DEFAULT_SOURCE -Iinclude examples/session_store.c \
 *           target/release/libkvidxkit.a -lm -lpthread -ldl -o session_store */
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
    fprintf(stderr, "[%s] session_store.c:%d: check failed: %s (last error: %s)\n", engine, line, what,
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
/* The session store.                                                  */

#define SESSION_TTL_MS 600

enum { ROLE_USER = 1, ROLE_ADMIN = 2 };

typedef struct {
    uint64_t userId;
    uint64_t role;
    char data[128];
} Session;

/* Creates a session that expires after SESSION_TTL_MS unless it is used. */
static kvidxError createSession(kvidxInstance *db, uint64_t id, uint64_t userId, uint64_t role, const char *data) {
    if (!kvidxBegin(db)) {
        return kvidxGetLastError(db);
    }
    kvidxError e = kvidxInsertNX(db, id, userId, role, data, strlen(data));
    if (e == KVIDX_OK) {
        e = kvidxSetExpire(db, id, SESSION_TTL_MS);
    }
    if (e != KVIDX_OK || !kvidxCommit(db)) {
        kvidxError failed = e != KVIDX_OK ? e : kvidxGetLastError(db);
        kvidxAbort(db); /* neither the session nor its TTL stays */
        return failed;
    }
    return KVIDX_OK;
}

/* Looks a session up and, if it is live, extends it by SESSION_TTL_MS. */
static bool touchSession(kvidxInstance *db, uint64_t id, Session *out) {
    const uint8_t *data; /* valid until the next call on db: copy it now */
    size_t len;
    if (!kvidxGet(db, id, &out->userId, &out->role, &data, &len)) {
        kvidxClearError(db); /* NOT_FOUND: expired or never created */
        return false;
    }
    size_t n = len < sizeof(out->data) - 1 ? len : sizeof(out->data) - 1;
    if (n > 0) {
        memcpy(out->data, data, n);
    }
    out->data[n] = '\0';
    /* A session with no expiry ("remember me") stays without one. */
    if (kvidxGetTTL(db, id) != KVIDX_TTL_NONE) {
        CHECK(db, kvidxSetExpire(db, id, SESSION_TTL_MS) == KVIDX_OK);
    }
    return true;
}

static const char *describeTTL(int64_t ttl, char *buf, size_t size) {
    if (ttl == KVIDX_TTL_NONE) {
        snprintf(buf, size, "no expiry");
    } else if (ttl == KVIDX_TTL_NOT_FOUND) {
        snprintf(buf, size, "absent");
    } else {
        snprintf(buf, size, "%" PRId64 " ms left", ttl);
    }
    return buf;
}

static void runSessions(const kvidxAdapterInfo *adapter, const char *path) {
    kvidxInstance db = {0};
    db.interface = *adapter->iface;
    const char *err = NULL;
    if (!kvidxOpen(&db, path, &err)) {
        fprintf(stderr, "[%s] cannot open %s: %s\n", engine, path, err);
        failures++;
        return;
    }
    say("opened session store %s", path);

    /* Session ids are random 64-bit numbers (any key is fine). */
    const uint64_t alice = UINT64_C(0x9f3c2a17d4e5b601);
    const uint64_t bob = UINT64_C(0x1b7e00c2a9d43f02);
    const uint64_t carol = UINT64_C(0xe4417a0b33c8d903);
    char t[64];

    CHECK(&db, createSession(&db, alice, 1001, ROLE_USER, "user=alice;cart=2") == KVIDX_OK);
    CHECK(&db, createSession(&db, bob, 1002, ROLE_USER, "user=bob;cart=0") == KVIDX_OK);
    CHECK(&db, createSession(&db, carol, 1003, ROLE_ADMIN, "user=carol") == KVIDX_OK);
    say("created 3 sessions with a %d ms TTL", SESSION_TTL_MS);

    /* A live session id is never handed out twice. */
    kvidxError e = createSession(&db, alice, 2000, ROLE_USER, "user=mallory");
    CHECK(&db, e == KVIDX_ERROR_CONDITION_FAILED);
    say("second session with alice's id refused: %s", kvidxErrorString(e));
    kvidxClearError(&db);

    /* carol ticked "remember me". */
    CHECK(&db, kvidxPersist(&db, carol) == KVIDX_OK);
    CHECK(&db, kvidxGetTTL(&db, carol) == KVIDX_TTL_NONE);
    say("carol: %s", describeTTL(kvidxGetTTL(&db, carol), t, sizeof(t)));

    /* Half the TTL later, alice comes back: her session is extended. */
    sleepMs(SESSION_TTL_MS / 2);
    Session s;
    CHECK(&db, touchSession(&db, alice, &s) && s.userId == 1001 && strcmp(s.data, "user=alice;cart=2") == 0);
    int64_t ttlAlice = kvidxGetTTL(&db, alice);
    int64_t ttlBob = kvidxGetTTL(&db, bob);
    CHECK(&db, ttlAlice > SESSION_TTL_MS / 2 && ttlBob > 0 && ttlBob <= SESSION_TTL_MS / 2 + 10);
    say("alice refreshed (%s); bob untouched", describeTTL(ttlAlice, t, sizeof(t)));

    /* alice's cart changes: XX writes only a live session and keeps its TTL. */
    CHECK(&db, kvidxInsertXX(&db, alice, 1001, ROLE_USER, "user=alice;cart=3", 17) == KVIDX_OK);
    CHECK(&db, kvidxGetTTL(&db, alice) > 0);
    say("alice's session updated with InsertXX (%s)", describeTTL(kvidxGetTTL(&db, alice), t, sizeof(t)));

    /* bob's session expires. */
    sleepMs(kvidxGetTTL(&db, bob) + 30);
    CHECK(&db, !touchSession(&db, bob, &s));
    CHECK(&db, !kvidxExists(&db, bob));
    CHECK(&db, kvidxGetTTL(&db, bob) == KVIDX_TTL_NOT_FOUND);
    say("bob: %s", describeTTL(kvidxGetTTL(&db, bob), t, sizeof(t)));
    /* An expired session cannot be revived by an update or a refresh. */
    e = kvidxInsertXX(&db, bob, 1002, ROLE_USER, "user=bob;cart=1", 15);
    CHECK(&db, e == KVIDX_ERROR_CONDITION_FAILED);
    say("InsertXX on bob's expired session: %s", kvidxErrorString(e));
    CHECK(&db, kvidxSetExpire(&db, bob, SESSION_TTL_MS) == KVIDX_ERROR_NOT_FOUND);
    kvidxClearError(&db);

    /* Counts see only live sessions, before any scan. */
    uint64_t live = 0;
    CHECK(&db, kvidxGetKeyCount(&db, &live) == KVIDX_OK && live == 2);
    say("%" PRIu64 " live sessions", live);

    uint64_t reclaimed = 0;
    CHECK(&db, kvidxExpireScan(&db, 0, &reclaimed) == KVIDX_OK && reclaimed == 1);
    say("expire scan reclaimed %" PRIu64 " session(s)", reclaimed);

    /* alice is still logged in, with the updated cart. */
    CHECK(&db, touchSession(&db, alice, &s) && strcmp(s.data, "user=alice;cart=3") == 0);

    /* Logout: take the session out and look at it one last time. */
    uint64_t userId = 0, role = 0;
    void *data = NULL;
    size_t len = 0;
    CHECK(&db, kvidxGetAndRemove(&db, alice, &userId, &role, &data, &len) == KVIDX_OK);
    CHECK(&db, userId == 1001 && len == 17 && data != NULL && memcmp(data, "user=alice;cart=3", 17) == 0);
    say("alice logged out (session data was \"%.*s\")", (int)len, (const char *)data);
    free(data); /* buffers handed out by GetAndRemove come from malloc */
    CHECK(&db, kvidxGetTTL(&db, alice) == KVIDX_TTL_NOT_FOUND);

    /* A new session under a reused id starts without the old TTL. */
    CHECK(&db, kvidxInsertNX(&db, alice, 1004, ROLE_USER, "user=dave", 9) == KVIDX_OK);
    CHECK(&db, kvidxGetTTL(&db, alice) == KVIDX_TTL_NONE);
    say("id reused for a new session: %s until one is set", describeTTL(kvidxGetTTL(&db, alice), t, sizeof(t)));

    kvidxStats stats;
    CHECK(&db, kvidxGetStats(&db, &stats) == KVIDX_OK && stats.totalKeys == 2);
    say("%" PRIu64 " sessions stored, %" PRIu64 " bytes of session data", stats.totalKeys, stats.totalDataBytes);
    CHECK(&db, kvidxClose(&db));
}

int main(int argc, char **argv) {
    char scratch[] = "/tmp/kvidx-sessions-XXXXXX";
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
        if (snprintf(path, sizeof(path), "%s/session_store%s", dir, adapter->pathSuffix) >= (int)sizeof(path)) {
            fprintf(stderr, "path too long\n");
            return 1;
        }
        engine = adapter->name;
        removeDatabase(path, adapter->isDirectory);
        int before = failures;
        runSessions(adapter, path);
        removeDatabase(path, adapter->isDirectory);
        say("%s", failures == before ? "session store OK" : "session store FAILED");
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
