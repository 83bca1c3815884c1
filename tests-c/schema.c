/* schema.c: schema versioning and table creation (kvidxkitSchema.h) on a
 * handle from sqlite3_open (the SQLite inside libkvidxkit) and on the
 * connection of an open kvidxkit instance (kvidxSqlite3Handle).
 *
 * primitives.md §9 items 63 and 64, and the fixes of decisions.md I2 /
 * prim D18, D19: migrations in any order, every missing version applied, a
 * failing migration rolls back the whole call (database unchanged), the
 * callback sees every attempt, migrations inside an open transaction,
 * validation before CREATE, escaped text defaults. */
#include "kvidxkitSchema.h"
#include "sqlite3.h"

#include "check.h"

static const char *scratch;

static sqlite3 *openDb(const char *name) {
    char path[4096];
    sqlite3 *db = NULL;
    snprintf(path, sizeof(path), "%s/%s", scratch, name);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

/* The single integer `sql` returns, or -999 when it returns nothing/fails. */
static long long queryInt(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    long long v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -999;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static bool tableExists(sqlite3 *db, const char *name) {
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s';", name);
    return queryInt(db, sql) == 1;
}

static uint32_t version(sqlite3 *db) {
    uint32_t v = 12345;
    CHECK_EQ_INT(kvidxSchemaVersion(db, &v), KVIDX_OK);
    return v;
}

/* Callback log. */
typedef struct {
    int calls;
    uint32_t versions[16];
    bool success[16];
    const char *descriptions[16];
} Log;

static void logMigration(uint32_t v, const char *description, bool success, void *userData) {
    Log *log = (Log *)userData;
    if (log->calls < 16) {
        log->versions[log->calls] = v;
        log->success[log->calls] = success;
        log->descriptions[log->calls] = description;
    }
    log->calls++;
}

/* Item 63. */
static void testUpstreamSchema(void) {
    kvidxMigration list[] = {
        {1, "Create users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);", NULL},
        {2, "Add email", "ALTER TABLE users ADD COLUMN email TEXT;", NULL},
    };
    uint32_t versions[8] = {0};
    size_t n = 99;
    sqlite3 *db = openDb("upstream.db");
    check_set_context("63 schema");
    CHECK_EQ_INT(version(db), 0);
    CHECK(!tableExists(db, "_kvidx_schema"), "reading the version does not write");
    CHECK(kvidxSchemaNeedsMigration(db, 1), "");
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 1), KVIDX_OK);
    CHECK_EQ_INT(version(db), 1);
    CHECK(tableExists(db, "users"), "");
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM pragma_table_info('users') WHERE name='email';"), 0);
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 2), KVIDX_OK);
    CHECK_EQ_INT(version(db), 2);
    CHECK(!kvidxSchemaNeedsMigration(db, 2), "");
    CHECK(kvidxSchemaNeedsMigration(db, 3), "");
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 2), KVIDX_OK);
    CHECK_EQ_INT(version(db), 2);
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM _kvidx_schema;"), 2);
    CHECK_EQ_INT(kvidxSchemaGetAppliedVersions(db, versions, 8, &n), KVIDX_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(versions[0], 1);
    CHECK_EQ_INT(versions[1], 2);
    CHECK_EQ_INT(kvidxSchemaGetAppliedVersions(db, versions, 1, &n), KVIDX_OK);
    CHECK_EQ_INT(n, 1);
    /* The recorded description and the original's DDL. */
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM _kvidx_schema WHERE version=2 AND "
                              "description='Add email' AND applied_at LIKE '____-__-__ __:__:__';"),
                 1);
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM sqlite_master WHERE name='_kvidx_schema' AND sql="
                              "'CREATE TABLE _kvidx_schema (version INTEGER PRIMARY KEY, applied_at "
                              "TEXT DEFAULT CURRENT_TIMESTAMP, description TEXT)';"),
                 1);
    /* Target below the current version: nothing to do. */
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 1), KVIDX_OK);
    CHECK_EQ_INT(version(db), 2);
    sqlite3_close(db);
}

/* Item 64 and escaping end to end. */
static void testCreateTables(void) {
    kvidxColDef cols[] = {
        COL("id", KVIDX_COL_PK_AUTO),
        COL("name", KVIDX_COL_TEXT | KVIDX_COL_NOT_NULL),
        COL("email", KVIDX_COL_TEXT | KVIDX_COL_UNIQUE),
        COL_DEFAULT_INT("status", KVIDX_COL_INTEGER, 0),
        COL_DEFAULT_TEXT("motto", KVIDX_COL_TEXT, "it's"),
        COL_DEFAULT_REAL("score", KVIDX_COL_REAL, 2.5),
    };
    kvidxIndexDef idx[] = {INDEX_UNIQUE("email"), INDEX("status")};
    kvidxTableDef users = {"users", cols, 6, idx, 2, false};
    kvidxColDef odd[] = {COL("id", KVIDX_COL_PK), COL("group", KVIDX_COL_TEXT),
                         COL("my col", KVIDX_COL_INTEGER)};
    kvidxIndexDef oddIdx[] = {INDEX("group", "my col")};
    kvidxTableDef oddTable = {"select", odd, 3, oddIdx, 1, false};
    kvidxTableDef both[2];
    sqlite3 *db = openDb("tables.db");
    sqlite3_stmt *st = NULL;

    check_set_context("64 create tables");
    CHECK_EQ_INT(kvidxSchemaCreateTables(db, &users, 1), KVIDX_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO users (name, email) VALUES ('a', 'a@x');", NULL,
                              NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(queryInt(db, "SELECT status FROM users WHERE name='a';"), 0);
    CHECK(sqlite3_exec(db, "INSERT INTO users (name, email) VALUES ('b', 'a@x');", NULL, NULL,
                       NULL) != SQLITE_OK,
          "duplicate email");
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM users;"), 1);
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                              "name IN ('users_email_idx', 'users_status_idx');"),
                 2);
    /* The escaped text default arrives intact. */
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT motto, score FROM users WHERE name='a';", -1, &st,
                                    NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "it's");
    CHECK(sqlite3_column_double(st, 1) == 2.5, "");
    sqlite3_finalize(st);
    /* Idempotent. */
    CHECK_EQ_INT(kvidxSchemaCreateTables(db, &users, 1), KVIDX_OK);
    CHECK_EQ_INT(kvidxSchemaCreateTables(db, &users, 0), KVIDX_OK);
    CHECK_EQ_INT(kvidxSchemaCreateTables(db, NULL, 0), KVIDX_OK);

    check_set_context("quoted identifiers in SQLite");
    CHECK_EQ_INT(kvidxSchemaCreateTables(db, &oddTable, 1), KVIDX_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO \"select\" (\"group\", \"my col\") VALUES ('g', 7);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(queryInt(db, "SELECT \"my col\" FROM \"select\";"), 7);
    CHECK(tableExists(db, "select"), "");

    check_set_context("create tables: validation first, all or none");
    CHECK_EQ_INT(kvidxSchemaCreateTables(NULL, &users, 1), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSchemaCreateTables(db, NULL, 1), KVIDX_ERROR_INVALID_ARGUMENT);
    {
        kvidxColDef okCols[] = {COL("id", KVIDX_COL_PK)};
        kvidxColDef badCols[] = {COL("id", KVIDX_COL_PK), COL("x", KVIDX_COL_INTEGER | KVIDX_COL_TEXT)};
        kvidxColDef failCols[] = {COL("id", KVIDX_COL_PK), COL("id2", KVIDX_COL_PK)};
        both[0] = (kvidxTableDef){"fresh1", okCols, 1, NULL, 0, false};
        both[1] = (kvidxTableDef){"fresh2", badCols, 2, NULL, 0, false};
        CHECK_EQ_INT(kvidxSchemaCreateTables(db, both, 2), KVIDX_ERROR_SCHEMA);
        CHECK(!tableExists(db, "fresh1"), "nothing created when a table is invalid");
        /* A failure inside SQLite (two primary keys, which validation
         * does not check) rolls back the tables created before it. */
        both[1] = (kvidxTableDef){"fresh2", failCols, 2, NULL, 0, false};
        CHECK_EQ_INT(kvidxSchemaCreateTables(db, both, 2), KVIDX_ERROR_IO);
        CHECK(!tableExists(db, "fresh1"), "all or none");
        CHECK(!tableExists(db, "fresh2"), "all or none");
        CHECK(sqlite3_get_autocommit(db), "no transaction left open");
        both[1].columns = okCols;
        both[1].colCount = 1;
        CHECK_EQ_INT(kvidxSchemaCreateTables(db, both, 2), KVIDX_OK);
        CHECK(tableExists(db, "fresh1"), "");
        CHECK(tableExists(db, "fresh2"), "");
    }
    sqlite3_close(db);
}

/* Out-of-order array, a failing migration in the middle, the callback. */
static void testMigrationOrderAndFailure(void) {
    kvidxMigration unordered[] = {
        {3, "three", "CREATE TABLE t3 (x); INSERT INTO t3 VALUES (3);", NULL},
        {1, "one", "CREATE TABLE t1 (x); INSERT INTO t1 VALUES (1);", NULL},
        {2, NULL, "CREATE TABLE t2 (x);", NULL},
    };
    kvidxMigration failing[] = {
        {6, "six", "CREATE TABLE t6 (x);", NULL},
        {4, "four", "CREATE TABLE t4 (x); INSERT INTO t1 VALUES (4);", NULL},
        {5, "five (fails)", "CREATE TABLE t5 (x); INSERT INTO nosuch VALUES (1);", NULL},
    };
    kvidxMigration later[] = {
        {7, "seven", NULL, NULL},
        {5, "five (fixed)", "CREATE TABLE t5 (x);", NULL},
        {4, "four", "CREATE TABLE t4 (x); INSERT INTO t1 VALUES (4);", NULL},
    };
    kvidxMigration dup[] = {{8, "a", "", NULL}, {8, "b", "", NULL}};
    kvidxMigration zero[] = {{0, "zero", "CREATE TABLE t0 (x);", NULL}};
    Log log;
    sqlite3 *db = openDb("order.db");

    check_set_context("any order");
    memset(&log, 0, sizeof(log));
    CHECK_EQ_INT(kvidxSchemaApplyWithCallback(db, unordered, 3, 3, logMigration, &log), KVIDX_OK);
    CHECK_EQ_INT(version(db), 3);
    CHECK_EQ_INT(log.calls, 3);
    CHECK_EQ_INT(log.versions[0], 1);
    CHECK_EQ_INT(log.versions[1], 2);
    CHECK_EQ_INT(log.versions[2], 3);
    CHECK(log.success[0] && log.success[1] && log.success[2], "");
    CHECK(log.descriptions[0] == unordered[1].description, "the caller's description pointer");
    CHECK(log.descriptions[1] == NULL, "a NULL description is passed as given");
    CHECK(tableExists(db, "t1") && tableExists(db, "t2") && tableExists(db, "t3"), "");
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM _kvidx_schema WHERE version=2 AND description='';"),
                 1);

    check_set_context("failure in the middle");
    memset(&log, 0, sizeof(log));
    CHECK_EQ_INT(kvidxSchemaApplyWithCallback(db, failing, 3, 10, logMigration, &log),
                 KVIDX_ERROR_IO);
    /* 4 succeeded, 5 failed, 6 never attempted */
    CHECK_EQ_INT(log.calls, 2);
    CHECK_EQ_INT(log.versions[0], 4);
    CHECK(log.success[0], "");
    CHECK_EQ_INT(log.versions[1], 5);
    CHECK(!log.success[1], "");
    CHECK_STR(log.descriptions[1], "five (fails)");
    CHECK_EQ_INT(version(db), 3);
    CHECK(!tableExists(db, "t4"), "migration 4 rolled back");
    CHECK(!tableExists(db, "t5"), "migration 5 rolled back");
    CHECK(!tableExists(db, "t6"), "");
    /* data of migration 4 rolled back */
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM t1;"), 1);
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM _kvidx_schema;"), 3);
    CHECK(sqlite3_get_autocommit(db), "no transaction left open");

    check_set_context("fixed list applies the rest");
    memset(&log, 0, sizeof(log));
    CHECK_EQ_INT(kvidxSchemaApplyWithCallback(db, later, 3, 5, logMigration, &log), KVIDX_OK);
    CHECK_EQ_INT(log.calls, 2);
    CHECK_EQ_INT(version(db), 5);
    CHECK(tableExists(db, "t4") && tableExists(db, "t5"), "");
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM t1;"), 2);
    CHECK_EQ_INT(kvidxSchemaApply(db, later, 3, 7), KVIDX_OK);
    /* empty SQL only records the version */
    CHECK_EQ_INT(version(db), 7);

    check_set_context("a gap left by the original's ordering bug is filled");
    CHECK_EQ_INT(sqlite3_exec(db, "DELETE FROM _kvidx_schema WHERE version = 2; DROP TABLE t2;",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK(!kvidxSchemaNeedsMigration(db, 7), "");
    CHECK_EQ_INT(kvidxSchemaApply(db, unordered, 3, 7), KVIDX_OK);
    CHECK(tableExists(db, "t2"), "");
    /* 1, 2, 3, 4, 5, 7: version 6 was never applied */
    {
        uint32_t got[8];
        size_t n = 0;
        CHECK_EQ_INT(kvidxSchemaGetAppliedVersions(db, got, 8, &n), KVIDX_OK);
        CHECK_EQ_INT(n, 6);
        CHECK(n == 6 && got[0] == 1 && got[1] == 2 && got[2] == 3 && got[3] == 4 && got[4] == 5 &&
                  got[5] == 7,
              "applied versions");
    }

    check_set_context("invalid lists");
    CHECK_EQ_INT(kvidxSchemaApply(db, dup, 2, 10), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(version(db), 7);
    CHECK_EQ_INT(kvidxSchemaApply(db, zero, 1, 10), KVIDX_OK);
    CHECK(!tableExists(db, "t0"), "version 0 is never applied");
    CHECK_EQ_INT(kvidxSchemaApply(NULL, unordered, 3, 3), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSchemaApply(db, NULL, 3, 3), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSchemaApply(db, NULL, 0, 3), KVIDX_OK);
    sqlite3_close(db);
}

/* Migrations inside a caller's transaction, and SQL that would end it. */
static void testInsideTransaction(void) {
    kvidxMigration list[] = {
        {1, "one", "CREATE TABLE a (x);", NULL},
        {2, "two", "CREATE TABLE b (x);", NULL},
    };
    kvidxMigration bad[] = {{3, "bad", "CREATE TABLE c (x); INSERT INTO nosuch VALUES (1);", NULL}};
    kvidxMigration commits[] = {{3, "commits", "CREATE TABLE c (x); COMMIT;", NULL}};
    kvidxMigration begins[] = {{3, "begins", " -- comment\n /* c */ begin; CREATE TABLE c (x);", NULL}};
    Log log;
    sqlite3 *db = openDb("txn.db");

    check_set_context("inside BEGIN");
    CHECK_EQ_INT(sqlite3_exec(db, "CREATE TABLE keep (x); BEGIN; INSERT INTO keep VALUES (1);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 2), KVIDX_OK);
    CHECK(!sqlite3_get_autocommit(db), "the caller's transaction is still open");
    CHECK_EQ_INT(version(db), 2);
    /* A failure rolls back only this call's work. */
    CHECK_EQ_INT(kvidxSchemaApply(db, bad, 1, 3), KVIDX_ERROR_IO);
    CHECK(!sqlite3_get_autocommit(db), "still inside the caller's transaction");
    CHECK(!tableExists(db, "c"), "");
    CHECK(tableExists(db, "a"), "earlier work in the transaction kept");
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM keep;"), 1);
    /* The caller's ROLLBACK undoes the migrations too. */
    CHECK_EQ_INT(sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(version(db), 0);
    CHECK(!tableExists(db, "a"), "");
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM keep;"), 0);
    /* Inside a transaction that commits. */
    CHECK_EQ_INT(sqlite3_exec(db, "BEGIN;", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 2), KVIDX_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(version(db), 2);

    check_set_context("transaction control in a migration");
    memset(&log, 0, sizeof(log));
    CHECK_EQ_INT(kvidxSchemaApplyWithCallback(db, commits, 1, 3, logMigration, &log),
                 KVIDX_ERROR_SCHEMA);
    CHECK_EQ_INT(log.calls, 1);
    CHECK(!log.success[0], "");
    CHECK(!tableExists(db, "c"), "rolled back before the COMMIT ran");
    CHECK(sqlite3_get_autocommit(db), "");
    CHECK_EQ_INT(kvidxSchemaApply(db, begins, 1, 3), KVIDX_ERROR_SCHEMA);
    CHECK(!tableExists(db, "c"), "");
    CHECK_EQ_INT(version(db), 2);
    sqlite3_close(db);
}

static void testArguments(void) {
    uint32_t v = 7, versions[4];
    size_t n = 7;
    sqlite3 *db = openDb("args.db");
    check_set_context("arguments");
    CHECK_EQ_INT(kvidxSchemaInit(NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSchemaVersion(NULL, &v), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSchemaVersion(db, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK(kvidxSchemaNeedsMigration(NULL, 0), "errors say: migrate");
    CHECK_EQ_INT(kvidxSchemaGetAppliedVersions(NULL, versions, 4, &n), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(kvidxSchemaGetAppliedVersions(db, NULL, 4, &n), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxSchemaGetAppliedVersions(db, versions, 4, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    n = 7;
    CHECK_EQ_INT(kvidxSchemaGetAppliedVersions(db, versions, 4, &n), KVIDX_OK);
    CHECK_EQ_INT(n, 0);
    CHECK(!tableExists(db, "_kvidx_schema"), "");
    CHECK_EQ_INT(kvidxSchemaInit(db), KVIDX_OK);
    CHECK(tableExists(db, "_kvidx_schema"), "");
    CHECK_EQ_INT(kvidxSchemaInit(db), KVIDX_OK);
    CHECK_EQ_INT(version(db), 0);
    /* A version outside uint32_t is reported, not truncated. */
    CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO _kvidx_schema (version) VALUES (4294967296);", NULL,
                              NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(kvidxSchemaVersion(db, &v), KVIDX_ERROR_SCHEMA);
    CHECK(kvidxSchemaNeedsMigration(db, 1), "");
    sqlite3_close(db);
}

/* Schema work on the connection of an open kvidxkit database. */
static void testInstanceHandle(void) {
    kvidxInstance inst;
    char path[4096];
    const char *err = NULL;
    const uint8_t *data = NULL;
    size_t len = 0;
    uint64_t term = 0, cmd = 0;
    sqlite3 *db;
    kvidxMigration list[] = {
        {1, "side table", "CREATE TABLE side (k INTEGER PRIMARY KEY, note TEXT);", NULL},
        {2, "fill", "INSERT INTO side VALUES (1, 'one');", NULL},
    };
    kvidxMigration bad[] = {{3, "bad", "INSERT INTO side VALUES (1, 'dup');", NULL}};

    check_set_context("kvidxSqlite3Handle");
    CHECK(kvidxSqlite3Handle(NULL) == NULL, "");
    memset(&inst, 0, sizeof(inst));
    inst.interface = kvidxInterfaceSqlite3;
    CHECK(kvidxSqlite3Handle(&inst) == NULL, "not open");
    CHECK(kvidxGetLastError(&inst) == KVIDX_ERROR_INVALID_ARGUMENT, "");
    snprintf(path, sizeof(path), "%s/inst.sqlite3", scratch);
    if (!kvidxOpen(&inst, path, &err)) {
        CHECK(false, "open: %s", err ? err : "(null)");
        return;
    }
    db = kvidxSqlite3Handle(&inst);
    CHECK(db != NULL, "");
    if (db == NULL) {
        kvidxClose(&inst);
        return;
    }
    CHECK(kvidxInsert(&inst, 10, 1, 2, "hello", 5), "");
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 2, 2), KVIDX_OK);
    CHECK_EQ_INT(version(db), 2);
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM side;"), 1);
    /* the instance's own table */
    CHECK_EQ_INT(queryInt(db, "SELECT count(*) FROM log;"), 1);

    /* Inside a kvidxkit transaction: rolled back by kvidxAbort. */
    CHECK(kvidxBegin(&inst), "");
    CHECK(kvidxInsert(&inst, 11, 1, 2, "x", 1), "");
    CHECK_EQ_INT(kvidxSchemaApply(db, bad, 1, 3), KVIDX_ERROR_IO);
    CHECK(inst.transactionActive, "");
    CHECK(kvidxGet(&inst, 11, &term, &cmd, &data, &len), "the instance's transaction survives");
    list[0].version = 3;
    list[0].upSQL = "CREATE TABLE side3 (x);";
    CHECK_EQ_INT(kvidxSchemaApply(db, list, 1, 3), KVIDX_OK);
    CHECK(tableExists(db, "side3"), "");
    CHECK(kvidxAbort(&inst), "");
    CHECK(!tableExists(db, "side3"), "");
    CHECK_EQ_INT(version(db), 2);
    CHECK(!kvidxGet(&inst, 11, &term, &cmd, &data, &len), "");
    CHECK(kvidxGet(&inst, 10, &term, &cmd, &data, &len), "");
    CHECK(len == 5 && memcmp(data, "hello", 5) == 0, "");
    CHECK(kvidxClose(&inst), "");
    CHECK(kvidxSqlite3Handle(&inst) == NULL, "closed");

    /* Reopened: the schema table is there; the engine still works. */
    memset(&inst, 0, sizeof(inst));
    inst.interface = kvidxInterfaceSqlite3;
    CHECK(kvidxOpen(&inst, path, &err), "");
    db = kvidxSqlite3Handle(&inst);
    CHECK(db != NULL, "");
    if (db != NULL) {
        CHECK_EQ_INT(version(db), 2);
    }
    CHECK(kvidxGet(&inst, 10, &term, &cmd, &data, &len), "");
    CHECK(kvidxClose(&inst), "");

#ifdef KVIDXKIT_HAS_LMDB
    {
        snprintf(path, sizeof(path), "%s/inst-lmdb", scratch);
        memset(&inst, 0, sizeof(inst));
        inst.interface = kvidxInterfaceLmdb;
        if (kvidxOpen(&inst, path, &err)) {
            CHECK(kvidxSqlite3Handle(&inst) == NULL, "not a SQLite instance");
            CHECK(kvidxGetLastError(&inst) == KVIDX_ERROR_INVALID_ARGUMENT, "");
            kvidxClose(&inst);
        }
    }
#endif
}

int main(int argc, char **argv) {
    scratch = argc > 1 ? argv[1] : ".";
    testUpstreamSchema();
    testCreateTables();
    testMigrationOrderAndFailure();
    testInsideTransaction();
    testArguments();
    testInstanceHandle();
    return check_report();
}
