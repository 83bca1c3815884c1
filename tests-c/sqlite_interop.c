/* sqlite_interop.c: a C program that links only libkvidxkit and uses the
 * SQLite API directly (decisions.md I2): the library exports the sqlite3_*
 * functions of the SQLite it contains, include/sqlite3.h is that SQLite's
 * header, and a handle from sqlite3_open works with the kvidxSchema*
 * functions (the same SQLite copy on both sides). */
#include "kvidxkit.h"
#include "kvidxkitIterator.h"
#include "kvidxkitSchema.h"
#include "sqlite3.h"

#include "check.h"

static int rows;

static int countRows(void *user, int ncol, char **values, char **names) {
    (void)names;
    CHECK(user == (void *)&rows, "");
    CHECK_EQ_INT(ncol, 2);
    CHECK(values[0] != NULL, "");
    rows++;
    return 0;
}

/* A row damaged behind the library's back (its term made text through the
 * SQLite API): an iterator returns every entry before it, each intact, then
 * stops with KVIDX_ERROR_CORRUPT; forward and backward, with the damaged
 * row early (in the iterator's first chunk) and late (in a later one). */
static void damaged_row(const char *dir) {
    enum { N = 600 };
    const uint64_t bads[] = {5, 150, 590};
    size_t b;
    for (b = 0; b < sizeof bads / sizeof bads[0]; b++) {
        char path[4096], sql[128];
        const char *err = NULL;
        kvidxInstance inst;
        sqlite3 *db = NULL;
        uint64_t k, bad = bads[b];
        int back;
        snprintf(path, sizeof path, "%s/damaged_row_%u.db", dir, (unsigned)b);
        memset(&inst, 0, sizeof inst);
        inst.interface = kvidxInterfaceSqlite3;
        CHECK(kvidxOpen(&inst, path, &err), "open %s: %s", path, err ? err : "(null)");
        CHECK(kvidxBegin(&inst), "");
        for (k = 1; k <= N; k++) {
            uint64_t v = k * 3;
            CHECK(kvidxInsert(&inst, k, k + 1, k + 2, &v, sizeof v), "insert %" PRIu64, k);
        }
        CHECK(kvidxCommit(&inst), "");
        CHECK(kvidxClose(&inst), "");
        CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
        snprintf(sql, sizeof sql, "UPDATE log SET term = 'damaged' WHERE id = %" PRIu64 ";", bad);
        CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        CHECK_EQ_INT(sqlite3_close(db), SQLITE_OK);

        memset(&inst, 0, sizeof inst);
        inst.interface = kvidxInterfaceSqlite3;
        CHECK(kvidxOpen(&inst, path, &err), "reopen %s: %s", path, err ? err : "(null)");
        for (back = 0; back < 2; back++) {
            kvidxIterator *it = kvidxIteratorCreate(&inst, 1, N, back ? KVIDX_ITER_BACKWARD
                                                                       : KVIDX_ITER_FORWARD);
            uint64_t want = back ? N : 1, seen = 0;
            CHECK(it != NULL, "");
            if (it == NULL) {
                continue;
            }
            while (kvidxIteratorNext(it)) {
                uint64_t key = 0, term = 0, cmd = 0, v = 0;
                const uint8_t *data = NULL;
                size_t len = 0;
                CHECK(kvidxIteratorGet(it, &key, &term, &cmd, &data, &len), "");
                CHECK_EQ_U64(key, want);
                CHECK_EQ_U64(term, key + 1);
                CHECK_EQ_U64(cmd, key + 2);
                CHECK_EQ_U64(len, sizeof v);
                if (data != NULL && len == sizeof v) {
                    memcpy(&v, data, sizeof v);
                }
                CHECK_EQ_U64(v, key * 3);
                seen++;
                want = back ? want - 1 : want + 1;
            }
            CHECK_EQ_U64(seen, back ? N - bad : bad - 1);
            CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_CORRUPT);
            CHECK(!kvidxIteratorValid(it), "");
            kvidxIteratorDestroy(it);
        }
        CHECK(kvidxClose(&inst), "");
    }
}

/* Another connection (the instance opened with the shared "unix" VFS)
 * commits damage (a TTL record whose expiry is text) while an iterator is
 * inside its range: its next read takes in that commit and fails. The iterator then stops with KVIDX_ERROR_CORRUPT after the
 * entries it had already handed out, and hands out none of them again. */
static void damaged_commit_under_an_iterator(const char *dir) {
    enum { N = 600, FIRST = 16 };
    char path[4096];
    const char *err = NULL;
    kvidxInstance inst;
    kvidxConfig cfg = kvidxConfigDefault();
    kvidxIterator *it;
    sqlite3 *db = NULL;
    uint64_t k, seen = 0;
    snprintf(path, sizeof path, "%s/damaged_commit.db", dir);
    memset(&inst, 0, sizeof inst);
    inst.interface = kvidxInterfaceSqlite3;
    cfg.vfsName = "unix";
    CHECK(kvidxOpenWithConfig(&inst, path, &cfg, &err), "open %s: %s", path, err ? err : "(null)");
    CHECK(kvidxBegin(&inst), "");
    for (k = 1; k <= N; k++) {
        CHECK(kvidxInsert(&inst, k, k + 1, k + 2, &k, sizeof k), "insert %" PRIu64, k);
    }
    CHECK(kvidxCommit(&inst), "");
    it = kvidxIteratorCreate(&inst, 1, N, KVIDX_ITER_FORWARD);
    CHECK(it != NULL, "");
    if (it == NULL) {
        return;
    }
    while (seen < FIRST && kvidxIteratorNext(it)) {
        CHECK_EQ_U64(kvidxIteratorKey(it), seen + 1);
        seen++;
    }
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO _kvidx_ttl (id, expires_at) VALUES (3, 'damaged');", NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_close(db), SQLITE_OK);
    while (kvidxIteratorNext(it)) {
        CHECK_EQ_U64(kvidxIteratorKey(it), seen + 1);
        seen++;
    }
    CHECK_EQ_U64(seen, FIRST);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_CORRUPT);
    CHECK(!kvidxIteratorValid(it), "");
    kvidxIteratorDestroy(it);
    CHECK(kvidxClose(&inst), "");
}

int main(int argc, char **argv) {
    char path[4096];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *errmsg = NULL;
    uint32_t v = 0;
    kvidxMigration list[] = {
        {1, "people", "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);", NULL},
        {2, "seed", "INSERT INTO people (name) VALUES ('ann'), ('bob');", NULL},
    };
    kvidxColDef cols[] = {COL("id", KVIDX_COL_PK_AUTO), COL("title", KVIDX_COL_TEXT)};
    kvidxTableDef books = {"books", cols, 2, NULL, 0, false};

    check_set_context("version");
    CHECK_STR(sqlite3_libversion(), SQLITE_VERSION);
    CHECK_EQ_INT(sqlite3_libversion_number(), SQLITE_VERSION_NUMBER);
    CHECK_STR(sqlite3_sourceid(), SQLITE_SOURCE_ID);
    CHECK(sqlite3_threadsafe() != 0, "");

    check_set_context("sqlite3 API");
    snprintf(path, sizeof(path), "%s/interop.db", argc > 1 ? argv[1] : ".");
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    if (db == NULL) {
        return check_report();
    }
    CHECK_EQ_INT(sqlite3_exec(db, "PRAGMA user_version = 7;", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA user_version;", -1, &st, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int64(st, 0), 7);
    CHECK_EQ_INT(sqlite3_finalize(st), SQLITE_OK);
    CHECK(sqlite3_exec(db, "SELEC nonsense;", NULL, NULL, &errmsg) == SQLITE_ERROR, "");
    CHECK(errmsg != NULL && strstr(errmsg, "syntax error") != NULL, "");
    sqlite3_free(errmsg);

    check_set_context("kvidxSchema on the handle");
    CHECK_EQ_INT(kvidxSchemaVersion(db, &v), KVIDX_OK);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 2), KVIDX_OK);
    CHECK_EQ_INT(kvidxSchemaVersion(db, &v), KVIDX_OK);
    CHECK_EQ_INT(v, 2);
    CHECK_EQ_INT(kvidxSchemaCreateTables(db, &books, 1), KVIDX_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO books (title) VALUES ('x');", NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_last_insert_rowid(db), 1);
    rows = 0;
    CHECK_EQ_INT(sqlite3_exec(db, "SELECT id, name FROM people;", countRows, &rows, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(rows, 2);
    CHECK_EQ_INT(sqlite3_close(db), SQLITE_OK);

    check_set_context("reopened");
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    /* reading works on a read-only handle */
    CHECK_EQ_INT(kvidxSchemaVersion(db, &v), KVIDX_OK);
    CHECK_EQ_INT(v, 2);
    CHECK(!kvidxSchemaNeedsMigration(db, 2), "");
    /* nothing to do */
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 2), KVIDX_OK);
    CHECK_EQ_INT(sqlite3_close(db), SQLITE_OK);

    check_set_context("a damaged row under an iterator");
    damaged_row(argc > 1 ? argv[1] : ".");
    check_set_context("a damaging commit under an iterator");
    damaged_commit_under_an_iterator(argc > 1 ? argv[1] : ".");
    return check_report();
}
