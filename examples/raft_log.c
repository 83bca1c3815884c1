/* A Raft log on kvidxkit.
 *
 * Each log entry is one kvidxkit entry: the key is the log index (1, 2, 3,
 * ...), `term` is the Raft term of the entry and `cmd` the command type; the
 * value is the command's payload. The program plays a follower:
 *
 *   - AppendEntries: the consistency check on (prevLogIndex, prevLogTerm)
 *     with kvidxExistsDual, conflict detection with kvidxGet, truncation of a
 *     conflicting suffix with kvidxRemoveAfterNInclusive, appends with
 *     kvidxInsert, all in one transaction;
 *   - durability before acknowledging the leader (kvidxFsync);
 *   - the last log index and term (kvidxMaxKey + kvidxGet);
 *   - applying committed entries to a state machine with an iterator;
 *   - log compaction after a snapshot (kvidxRemoveBeforeNInclusive);
 *   - reopening the log.
 *
 * Usage: raft_log [DIRECTORY [ENGINE]]
 *   DIRECTORY  where the databases are created and removed again
 *              (default, or "-": a fresh scratch directory, removed at exit)
 *   ENGINE     a registry name ("SQLite3", "LMDB"); default: every engine
 * Exits 0 when every check passed, 1 otherwise.
 *
 * Build: cc -std=c99 -D_DEFAULT_SOURCE -Iinclude examples/raft_log.c \
 *           target/release/libkvidxkit.a -lm -lpthread -ldl -o raft_log */
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
    fprintf(stderr, "[%s] raft_log.c:%d: check failed: %s (last error: %s)\n", engine, line, what,
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
/* The Raft log.                                                       */

/* Command types stored in `cmd`. */
enum { CMD_NOOP = 1, CMD_SET = 2 };

typedef struct {
    uint64_t term;
    uint64_t cmd;
    const char *data; /* NUL-terminated payload ("" for none) */
} RaftEntry;

/* The follower's AppendEntries handler. Returns true when the entries were
 * accepted (and are durable). */
static bool appendEntries(kvidxInstance *db, uint64_t prevIndex, uint64_t prevTerm, const RaftEntry *entries,
                          size_t n) {
    /* 1. Reply false if the log has no entry at prevIndex whose term is
     *    prevTerm (index 0 is the empty log before the first entry). */
    if (prevIndex > 0 && !kvidxExistsDual(db, prevIndex, prevTerm)) {
        say("AppendEntries(prev %" PRIu64 "/term %" PRIu64 "): rejected, no entry %" PRIu64 " with term %" PRIu64,
            prevIndex, prevTerm, prevIndex, prevTerm);
        return false;
    }

    if (!kvidxBegin(db)) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        const uint64_t index = prevIndex + 1 + k;
        uint64_t haveTerm = 0;
        if (kvidxGet(db, index, &haveTerm, NULL, NULL, NULL)) {
            if (haveTerm == entries[k].term) {
                continue; /* already in the log (a resent entry) */
            }
            /* 2. An existing entry conflicts with a new one (same index,
             *    different term): delete it and all that follow it. */
            say("conflict at index %" PRIu64 " (have term %" PRIu64 ", leader term %" PRIu64
                "): truncating %" PRIu64 "..",
                index, haveTerm, entries[k].term, index);
            if (!kvidxRemoveAfterNInclusive(db, index)) {
                goto fail;
            }
        }
        /* 3. Append the new entry. kvidxInsert never overwrites: an index
         *    that is still present would be refused (DUPLICATE_KEY). */
        if (!kvidxInsert(db, index, entries[k].term, entries[k].cmd, entries[k].data, strlen(entries[k].data))) {
            goto fail;
        }
    }
    if (!kvidxCommit(db)) {
        goto fail;
    }
    /* A follower persists its log before it acknowledges. */
    if (!kvidxFsync(db)) {
        return false;
    }
    uint64_t last = 0;
    kvidxMaxKey(db, &last);
    say("AppendEntries(prev %" PRIu64 "/term %" PRIu64 ", %zu entries): accepted, last index %" PRIu64, prevIndex,
        prevTerm, n, last);
    return true;

fail:
    say("AppendEntries failed: %s", kvidxGetLastErrorMessage(db));
    if (db->transactionActive) {
        kvidxAbort(db);
    }
    return false;
}

/* The replicated state machine: a few integer variables named by one letter. */
typedef struct {
    long vars[26];
    uint64_t lastApplied;
} StateMachine;

static void applyEntry(StateMachine *sm, uint64_t cmd, const uint8_t *data, size_t len) {
    /* SET payloads look like "x=2". */
    if (cmd == CMD_SET && len >= 3 && data[0] >= 'a' && data[0] <= 'z' && data[1] == '=') {
        char number[32];
        size_t n = len - 2 < sizeof(number) - 1 ? len - 2 : sizeof(number) - 1;
        memcpy(number, data + 2, n);
        number[n] = '\0';
        sm->vars[data[0] - 'a'] = strtol(number, NULL, 10);
    }
}

/* Applies every entry in (lastApplied, commitIndex] in index order. */
static size_t applyCommitted(kvidxInstance *db, StateMachine *sm, uint64_t commitIndex) {
    size_t applied = 0;
    if (commitIndex <= sm->lastApplied) {
        return 0;
    }
    kvidxIterator *it = kvidxIteratorCreate(db, sm->lastApplied + 1, commitIndex, KVIDX_ITER_FORWARD);
    CHECK(db, it != NULL);
    while (kvidxIteratorNext(it)) {
        uint64_t index, term, cmd;
        const uint8_t *data; /* owned by the iterator: valid until it moves */
        size_t len;
        kvidxIteratorGet(it, &index, &term, &cmd, &data, &len);
        CHECK(db, index == sm->lastApplied + 1); /* no gaps in a Raft log */
        applyEntry(sm, cmd, data, len);
        sm->lastApplied = index;
        applied++;
    }
    kvidxIteratorDestroy(it);
    return applied;
}

static void printState(const StateMachine *sm) {
    char line[128] = "";
    size_t used = 0;
    for (int v = 0; v < 26; v++) {
        if (sm->vars[v] != 0 && used < sizeof(line)) {
            used += (size_t)snprintf(line + used, sizeof(line) - used, " %c=%ld", 'a' + v, sm->vars[v]);
        }
    }
    say("state machine after applying up to %" PRIu64 ":%s", sm->lastApplied, line);
}

static void runRaft(const kvidxAdapterInfo *adapter, const char *path) {
    kvidxInstance db = {0};
    db.interface = *adapter->iface;
    const char *err = NULL;
    if (!kvidxOpen(&db, path, &err)) {
        fprintf(stderr, "[%s] cannot open %s: %s\n", engine, path, err);
        failures++;
        return;
    }
    say("opened log %s", path);

    /* Term 1: the leader replicates three commands. */
    static const RaftEntry term1[] = {{1, CMD_SET, "x=1"}, {1, CMD_SET, "y=1"}, {1, CMD_SET, "x=2"}};
    CHECK(&db, appendEntries(&db, 0, 0, term1, 3));

    /* Term 2: a leader appends two entries that never get committed. */
    static const RaftEntry term2[] = {{2, CMD_SET, "y=5"}, {2, CMD_SET, "z=9"}};
    CHECK(&db, appendEntries(&db, 3, 1, term2, 2));
    CHECK(&db, kvidxExistsDual(&db, 5, 2));

    /* Term 3: a new leader, whose log diverges after index 3, sends its
     * no-op and two commands: index 4 conflicts (term 2 here, 3 there). */
    static const RaftEntry term3[] = {{3, CMD_NOOP, ""}, {3, CMD_SET, "y=2"}, {3, CMD_SET, "z=3"}};
    CHECK(&db, appendEntries(&db, 3, 1, term3, 3));
    CHECK(&db, !kvidxExistsDual(&db, 5, 2)); /* the term-2 entries are gone */
    CHECK(&db, kvidxExistsDual(&db, 5, 3));

    /* The no-op has an empty payload: Get reports data NULL, length 0. */
    uint64_t term = 0, cmd = 0;
    const uint8_t *data = (const uint8_t *)"x";
    size_t len = 99;
    CHECK(&db, kvidxGet(&db, 4, &term, &cmd, &data, &len));
    CHECK(&db, term == 3 && cmd == CMD_NOOP && data == NULL && len == 0);

    /* The same AppendEntries again (a retransmission) changes nothing. */
    CHECK(&db, appendEntries(&db, 3, 1, term3, 3));
    uint64_t count = 0;
    CHECK(&db, kvidxGetKeyCount(&db, &count) == KVIDX_OK && count == 6);

    /* Consistency-check failures: a missing index, a wrong term. */
    CHECK(&db, !appendEntries(&db, 7, 3, term3, 1));
    CHECK(&db, !appendEntries(&db, 6, 2, term3, 1));

    /* A plain insert at an index that is taken is refused. */
    CHECK(&db, !kvidxInsert(&db, 4, 3, CMD_SET, "w=1", 3));
    CHECK(&db, kvidxGetLastError(&db) == KVIDX_ERROR_DUPLICATE_KEY);
    say("kvidxInsert at index 4 refused: %s", kvidxErrorString(kvidxGetLastError(&db)));
    kvidxClearError(&db);

    /* Last log index and term, for RequestVote. */
    uint64_t lastIndex = 0, lastTerm = 0;
    CHECK(&db, kvidxMaxKey(&db, &lastIndex));
    CHECK(&db, kvidxGet(&db, lastIndex, &lastTerm, NULL, NULL, NULL));
    CHECK(&db, lastIndex == 6 && lastTerm == 3);
    say("last log index %" PRIu64 ", last term %" PRIu64, lastIndex, lastTerm);

    /* The leader's commit index reaches 5, later 6. */
    StateMachine sm;
    memset(&sm, 0, sizeof(sm));
    size_t applied = applyCommitted(&db, &sm, 5);
    CHECK(&db, applied == 5 && sm.lastApplied == 5);
    CHECK(&db, sm.vars['x' - 'a'] == 2 && sm.vars['y' - 'a'] == 2 && sm.vars['z' - 'a'] == 0);
    printState(&sm);
    applied = applyCommitted(&db, &sm, 6);
    CHECK(&db, applied == 1 && sm.vars['z' - 'a'] == 3);
    printState(&sm);

    /* Snapshot taken at index 3: drop the entries it covers. */
    CHECK(&db, kvidxRemoveBeforeNInclusive(&db, 3));
    uint64_t first = 0;
    CHECK(&db, kvidxGetMinKey(&db, &first) == KVIDX_OK && first == 4);
    CHECK(&db, kvidxGetKeyCount(&db, &count) == KVIDX_OK && count == 3);
    say("compacted through index 3: log now holds %" PRIu64 "..%" PRIu64, first, lastIndex);

    CHECK(&db, kvidxFsync(&db));
    CHECK(&db, kvidxClose(&db));

    /* Reopen: the log is as it was. */
    kvidxInstance again = {0};
    again.interface = *adapter->iface;
    if (!kvidxOpen(&again, path, &err)) {
        fprintf(stderr, "[%s] cannot reopen %s: %s\n", engine, path, err);
        failures++;
        return;
    }
    CHECK(&again, kvidxMaxKey(&again, &lastIndex) && lastIndex == 6);
    CHECK(&again, kvidxGetMinKey(&again, &first) == KVIDX_OK && first == 4);
    CHECK(&again, kvidxExistsDual(&again, 6, 3));
    say("reopened: entries %" PRIu64 "..%" PRIu64 ", last term %s", first, lastIndex,
        kvidxExistsDual(&again, 6, 3) ? "3" : "?");
    CHECK(&again, kvidxClose(&again));
}

int main(int argc, char **argv) {
    char scratch[] = "/tmp/kvidx-raft-XXXXXX";
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
        if (snprintf(path, sizeof(path), "%s/raft_log%s", dir, adapter->pathSuffix) >= (int)sizeof(path)) {
            fprintf(stderr, "path too long\n");
            return 1;
        }
        engine = adapter->name;
        removeDatabase(path, adapter->isDirectory);
        int before = failures;
        runRaft(adapter, path);
        removeDatabase(path, adapter->isDirectory);
        say("%s", failures == before ? "raft log OK" : "raft log FAILED");
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
