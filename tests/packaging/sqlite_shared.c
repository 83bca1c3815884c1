/* sqlite_shared.c: one SQLite in the process. The program uses SQLite
 * itself (sqlite3_open, sqlite3_exec) and kvidxkit, and passes kvidxkit's
 * own connection (kvidxSqlite3Handle) to sqlite3_exec. With the bundled
 * build both come from libkvidxkit (which exports its SQLite); with the
 * system-SQLite build both are the system's libsqlite3. The header's
 * version must be the version of the SQLite that runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kvidxkit.h"

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s\n", what);
    }
}

static int count_rows(void *n, int cols, char **vals, char **names) {
    (void)cols;
    (void)names;
    *(int *)n = vals[0] ? atoi(vals[0]) : -1;
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    char path[4096], own[4096];
    const char *err = NULL;
    kvidxInstance db;
    sqlite3 *mine = NULL, *theirs;
    int n = 0;

    printf("SQLite header %s, running %s\n", SQLITE_VERSION, sqlite3_libversion());
    check(strcmp(SQLITE_VERSION, sqlite3_libversion()) == 0, "header and library are one SQLite");

    /* The application's own database, on the same SQLite. */
    snprintf(own, sizeof own, "%s/own.db", dir);
    check(sqlite3_open(own, &mine) == SQLITE_OK, "sqlite3_open");
    check(sqlite3_exec(mine, "CREATE TABLE t(x); INSERT INTO t VALUES(1),(2);", NULL, NULL, NULL) == SQLITE_OK,
          "sqlite3_exec on the application's database");

    memset(&db, 0, sizeof db);
    db.interface = kvidxInterfaceSqlite3;
    snprintf(path, sizeof path, "%s/kv.sqlite3", dir);
    check(kvidxOpen(&db, path, &err), "kvidxOpen");
    check(kvidxInsert(&db, 1, 1, 1, "a", 1) && kvidxInsert(&db, 2, 1, 1, "b", 1), "kvidxInsert");
    theirs = (sqlite3 *)kvidxSqlite3Handle(&db);
    check(theirs != NULL, "kvidxSqlite3Handle");
    /* kvidxkit's connection, used through the application's sqlite3_* calls. */
    check(sqlite3_exec(theirs, "SELECT COUNT(*) FROM log", count_rows, &n, NULL) == SQLITE_OK && n == 2,
          "sqlite3_exec on kvidxkit's connection sees its entries");
    check(sqlite3_exec(theirs, "CREATE TABLE extra(y); INSERT INTO extra VALUES(42);", NULL, NULL, NULL) ==
              SQLITE_OK,
          "sqlite3_exec writes through kvidxkit's connection");
    check(kvidxInsert(&db, 3, 1, 1, "c", 1), "kvidxkit still works afterwards");
    check(kvidxClose(&db), "kvidxClose");
    check(sqlite3_exec(mine, "SELECT SUM(x) FROM t", count_rows, &n, NULL) == SQLITE_OK && n == 3,
          "the application's database is intact");
    check(sqlite3_close(mine) == SQLITE_OK, "sqlite3_close");

    /* Reopened by the application: kvidxkit's rows and the extra table. */
    check(sqlite3_open(path, &mine) == SQLITE_OK, "reopen kvidxkit's file");
    check(sqlite3_exec(mine, "SELECT COUNT(*) FROM log", count_rows, &n, NULL) == SQLITE_OK && n == 3, "3 rows");
    check(sqlite3_exec(mine, "SELECT y FROM extra", count_rows, &n, NULL) == SQLITE_OK && n == 42, "extra table");
    sqlite3_close(mine);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
