/* compat_file.c: the SQLite3 on-disk format (core.md §4.1, §4.2; decision B1).
 * (1) A database written with raw SQL exactly as the original lays it out is
 *     read through the API (unsigned order for keys stored as negative ids).
 * (2) A database written through the API has exactly the original's schema
 *     and encoding when read with raw SQL.
 * The sqlite3_* API is the one exported by libkvidxkit itself. */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"
#include "sqlite3.h"

#include <stdbool.h>
#include <stdint.h>

/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")

#define MAXK UINT64_MAX
#define H ((uint64_t)1 << 63)

static const char *scratch = ".";

static const char *const DDL_CONTROL =
    "CREATE TABLE controlBlock (id INTEGER PRIMARY KEY, what TEXT, how TEXT)";
static const char *const DDL_CONTROL_IDX = "CREATE INDEX controlBlock_what_idx ON controlBlock (what)";
static const char *const DDL_LOG =
    "CREATE TABLE log (id INTEGER PRIMARY KEY, created INTEGER, term INTEGER, cmd INTEGER, data BLOB)";

typedef struct {
    uint64_t key, term, cmd;
    const char *data; /* NULL: SQL NULL */
    size_t len;
    int64_t created;
} row;

/* in UNSIGNED key order */
static const row ROWS[] = {
    {0, 0, 0, "zero", 4, 0},
    {1, 1, MAXK, "", 0, 0},                      /* empty blob X'' */
    {5, MAXK, H, "five\0with\0nul", 14, 0},      /* term -1, cmd INT64_MIN */
    {1000, H - 1, 7, NULL, 0, 0},                /* SQL NULL data */
    {H - 1, 42, 43, "int64 max", 9, 0},
    {H, H, H + 1, "two^63", 6, 0},               /* id INT64_MIN */
    {H + 7, 3, 4, "h+7", 3, 12345},              /* created != 0 is ignored */
    {MAXK - 1, MAXK - 1, 0, "max-1", 5, 0},      /* id -2 */
    {MAXK, MAXK, MAXK, "max", 3, 0},             /* id -1, term -1, cmd -1 */
};
#define NROWS (sizeof ROWS / sizeof ROWS[0])

static bool exec_ok(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    CHECK(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_free(msg);
    return rc == SQLITE_OK;
}

static bool text_query(sqlite3 *db, const char *sql, char *out, size_t cap) {
    sqlite3_stmt *st = NULL;
    bool ok = false;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t != NULL) {
            snprintf(out, cap, "%s", (const char *)t);
            ok = true;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

static int64_t int_query(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    int64_t v = INT64_MIN;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* writes the original's layout with raw SQL */
static bool make_raw(const char *path, int page_size, bool wal) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[128];
    bool ok = true;
    remove(path);
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK,
          "raw open %s", path);
    snprintf(sql, sizeof sql, "PRAGMA page_size = %d", page_size);
    ok = ok && exec_ok(db, sql);
    if (wal) ok = ok && exec_ok(db, "PRAGMA journal_mode = WAL");
    ok = ok && exec_ok(db, DDL_CONTROL);
    ok = ok && exec_ok(db, DDL_CONTROL_IDX);
    ok = ok && exec_ok(db, DDL_LOG);
    ok = ok && exec_ok(db, "INSERT INTO controlBlock VALUES(1, 'app', 'reserved')");
    ok = ok && exec_ok(db, "BEGIN");
    CK(sqlite3_prepare_v2(db, "INSERT INTO log VALUES(?, ?, ?, ?, ?)", -1, &st, NULL) == SQLITE_OK);
    for (size_t j = 0; j < NROWS && ok; j++) {
        /* every row except MAX through bound parameters */
        if (ROWS[j].key == MAXK) continue;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)ROWS[j].key);
        sqlite3_bind_int64(st, 2, ROWS[j].created);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)ROWS[j].term);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)ROWS[j].cmd);
        if (ROWS[j].data == NULL)
            sqlite3_bind_null(st, 5);
        else
            sqlite3_bind_blob(st, 5, ROWS[j].data, (int)ROWS[j].len, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
        CHECK(ok, "raw insert of key %" PRIu64 ": %s", ROWS[j].key, sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    /* MAX as a literal: id -1, term -1, cmd -1, data X'6D6178' ("max") */
    ok = ok && exec_ok(db, "INSERT INTO log VALUES(-1, 0, -1, -1, X'6D6178')");
    ok = ok && exec_ok(db, "COMMIT");
    CK(sqlite3_close(db) == SQLITE_OK);
    return ok;
}

static void check_row(kvidxInstance *inst, const row *r, uint64_t k, uint64_t t, uint64_t c,
                      const uint8_t *d, size_t l, const char *what) {
    CHECK(k == r->key, "%s: key %" PRIu64 " != %" PRIu64, what, k, r->key);
    CHECK(t == r->term, "%s %" PRIu64 ": term %" PRIu64 " != %" PRIu64, what, r->key, t, r->term);
    CHECK(c == r->cmd, "%s %" PRIu64 ": cmd %" PRIu64 " != %" PRIu64, what, r->key, c, r->cmd);
    CHECK(l == r->len, "%s %" PRIu64 ": len %zu != %zu", what, r->key, l, r->len);
    if (r->len == 0)
        CHECK(d == NULL, "%s %" PRIu64 ": empty value with a data pointer", what, r->key);
    else
        CHECK(d != NULL && l == r->len && memcmp(d, r->data, r->len) == 0, "%s %" PRIu64 ": data", what,
              r->key);
    (void)inst;
}

/* everything the API shows of a database holding ROWS */
static void read_back(kvidxInstance *inst, const char *label) {
    uint64_t k, t, c, v;
    const uint8_t *d;
    size_t l;
    kvidxIterator *it;
    size_t n;
    kvidxStats s;

    check_set_context(label);
    for (size_t j = 0; j < NROWS; j++) {
        t = c = 0;
        d = (const uint8_t *)"junk";
        l = 99;
        CHECK(kvidxGet(inst, ROWS[j].key, &t, &c, &d, &l), "Get %" PRIu64, ROWS[j].key);
        check_row(inst, &ROWS[j], ROWS[j].key, t, c, d, l, "Get");
        CK(kvidxExists(inst, ROWS[j].key));
        CK(kvidxExistsDual(inst, ROWS[j].key, ROWS[j].term));
        CK(!kvidxExistsDual(inst, ROWS[j].key, ROWS[j].term ^ 1));
    }
    CK(!kvidxExists(inst, 2));
    CK(!kvidxExists(inst, H + 1));

    /* navigation in unsigned order */
    for (size_t j = 0; j + 1 < NROWS; j++) {
        k = t = c = 0;
        d = NULL;
        l = 0;
        CHECK(kvidxGetNext(inst, ROWS[j].key, &k, &t, &c, &d, &l), "GetNext %" PRIu64, ROWS[j].key);
        check_row(inst, &ROWS[j + 1], k, t, c, d, l, "GetNext");
        k = t = c = 0;
        d = NULL;
        l = 0;
        CHECK(kvidxGetPrev(inst, ROWS[j + 1].key, &k, &t, &c, &d, &l), "GetPrev %" PRIu64,
              ROWS[j + 1].key);
        check_row(inst, &ROWS[j], k, t, c, d, l, "GetPrev");
    }
    k = 77;
    CK(!kvidxGetNext(inst, MAXK, &k, NULL, NULL, NULL, NULL));
    CK(!kvidxGetPrev(inst, 0, &k, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(k, 77);
    CK(kvidxGetNext(inst, 1001, &k, NULL, NULL, NULL, NULL) && k == H - 1);
    CK(kvidxGetNext(inst, H - 1, &k, NULL, NULL, NULL, NULL) && k == H);
    CK(kvidxGetPrev(inst, H, &k, NULL, NULL, NULL, NULL) && k == H - 1);
    CK(kvidxGetPrev(inst, H + 1, &k, NULL, NULL, NULL, NULL) && k == H);
    CK(kvidxGetPrev(inst, MAXK, &k, NULL, NULL, NULL, NULL) && k == MAXK - 1);

    CK(kvidxMaxKey(inst, &v));
    CHECK_EQ_U64(v, MAXK);
    CHECK_EQ_INT(kvidxGetMinKey(inst, &v), KVIDX_OK);
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_INT(kvidxGetKeyCount(inst, &v), KVIDX_OK);
    CHECK_EQ_U64(v, NROWS);
    CHECK_EQ_INT(kvidxCountRange(inst, 0, MAXK, &v), KVIDX_OK);
    CHECK_EQ_U64(v, NROWS);
    CHECK_EQ_INT(kvidxCountRange(inst, H, MAXK, &v), KVIDX_OK);
    CHECK_EQ_U64(v, 4);
    CHECK_EQ_INT(kvidxCountRange(inst, 2, MAXK - 1, &v), KVIDX_OK);
    CHECK_EQ_U64(v, 6);
    CHECK_EQ_INT(kvidxGetStats(inst, &s), KVIDX_OK);
    CHECK_EQ_U64(s.totalKeys, NROWS);
    CHECK_EQ_U64(s.minKey, 0);
    CHECK_EQ_U64(s.maxKey, MAXK);
    {
        uint64_t bytes = 0;
        for (size_t j = 0; j < NROWS; j++) bytes += ROWS[j].len;
        CHECK_EQ_U64(s.totalDataBytes, bytes);
    }

    /* iteration */
    it = kvidxIteratorCreate(inst, 0, MAXK, KVIDX_ITER_FORWARD);
    n = 0;
    while (kvidxIteratorNext(it) && n < NROWS + 2) {
        d = NULL;
        CK(kvidxIteratorGet(it, &k, &t, &c, &d, &l));
        if (n < NROWS) check_row(inst, &ROWS[n], k, t, c, d, l, "forward");
        n++;
    }
    CHECK_EQ_U64(n, NROWS);
    kvidxIteratorDestroy(it);
    it = kvidxIteratorCreate(inst, 0, MAXK, KVIDX_ITER_BACKWARD);
    n = 0;
    while (kvidxIteratorNext(it) && n < NROWS + 2) {
        d = NULL;
        CK(kvidxIteratorGet(it, &k, &t, &c, &d, &l));
        if (n < NROWS) check_row(inst, &ROWS[NROWS - 1 - n], k, t, c, d, l, "backward");
        n++;
    }
    CHECK_EQ_U64(n, NROWS);
    kvidxIteratorDestroy(it);
}

static void test_raw_to_api(int page_size, bool wal) {
    char path[4096], label[64];
    kvidxInstance inst;
    const char *err = NULL;
    snprintf(path, sizeof path, "%s/raw_%d_%s.sqlite3", scratch, page_size, wal ? "wal" : "delete");
    snprintf(label, sizeof label, "raw->api %d %s", page_size, wal ? "wal" : "delete");
    check_set_context(label);
    if (!make_raw(path, page_size, wal)) return;

    memset(&inst, 0, sizeof inst);
    inst.interface = kvidxInterfaceSqlite3;
    CHECK(kvidxOpen(&inst, path, &err), "open %s: %s", path, err ? err : "");
    read_back(&inst, label);
    /* page size of an existing file is kept */
    {
        kvidxStats s;
        CHECK_EQ_INT(kvidxGetStats(&inst, &s), KVIDX_OK);
        CHECK_EQ_U64(s.pageSize, (uint64_t)page_size);
    }
    /* writes into the original's file, then removals in unsigned order */
    CK(kvidxInsert(&inst, H + 3, MAXK, H, "new", 3));
    CK(!kvidxInsert(&inst, MAXK, 1, 1, "dup", 3)); /* existing row from raw SQL */
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    CK(kvidxClose(&inst));

    /* the schema was not altered and the new row is encoded like the others */
    {
        sqlite3 *db = NULL;
        char txt[512];
        CK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        CK(text_query(db, "SELECT sql FROM sqlite_master WHERE type='table' AND name='log'", txt, sizeof txt));
        CHECK_STR(txt, DDL_LOG);
        CK(text_query(db, "SELECT how FROM controlBlock WHERE id = 1", txt, sizeof txt));
        CHECK_STR(txt, "reserved");
        CHECK_EQ_INT(int_query(db, "SELECT term FROM log WHERE id = -9223372036854775805"), -1);
        CHECK_EQ_INT(int_query(db, "SELECT cmd FROM log WHERE id = -9223372036854775805"), INT64_MIN);
        CHECK_EQ_INT(int_query(db, "SELECT created FROM log WHERE id = -9223372036854775805"), 0);
        CHECK_EQ_INT(int_query(db, "SELECT created FROM log WHERE id = -9223372036854775801"), 12345);
        CHECK_EQ_INT(int_query(db, "SELECT COUNT(*) FROM log"), (int64_t)NROWS + 1);
        CK(sqlite3_close(db) == SQLITE_OK);
    }
    memset(&inst, 0, sizeof inst);
    inst.interface = kvidxInterfaceSqlite3;
    CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "");
    CK(kvidxRemove(&inst, H + 3));
    read_back(&inst, label); /* unchanged otherwise */
    /* RemoveBeforeNInclusive(10) removes 0, 1, 5 and nothing >= 2^63 */
    CK(kvidxRemoveBeforeNInclusive(&inst, 10));
    CK(!kvidxExists(&inst, 0) && !kvidxExists(&inst, 1) && !kvidxExists(&inst, 5));
    CK(kvidxExists(&inst, 1000) && kvidxExists(&inst, H) && kvidxExists(&inst, MAXK));
    /* RemoveAfterNInclusive(H) removes exactly the 4 high keys */
    CK(kvidxRemoveAfterNInclusive(&inst, H));
    {
        uint64_t v = 0;
        CHECK_EQ_INT(kvidxGetKeyCount(&inst, &v), KVIDX_OK);
        CHECK_EQ_U64(v, 2);
        CK(kvidxMaxKey(&inst, &v));
        CHECK_EQ_U64(v, H - 1);
    }
    CK(kvidxClose(&inst));
}

static void test_api_to_raw(void) {
    char path[4096], wal[4200];
    kvidxInstance inst;
    const char *err = NULL;
    bool ok = true;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char txt[512];

    check_set_context("api->raw");
    snprintf(path, sizeof path, "%s/api.sqlite3", scratch);
    snprintf(wal, sizeof wal, "%s-wal", path);
    memset(&inst, 0, sizeof inst);
    inst.interface = kvidxInterfaceSqlite3;
    CHECK(kvidxOpen(&inst, path, &err), "open: %s", err ? err : "");
    for (size_t j = NROWS; j > 0; j--) { /* reverse order of insertion */
        const row *r = &ROWS[j - 1];
        ok = ok && kvidxInsert(&inst, r->key, r->term, r->cmd, r->data, r->len);
    }
    CHECK(ok, "API inserts");
    read_back(&inst, "api->raw (API view)");
    check_set_context("api->raw");
    CK(kvidxClose(&inst));

    CK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CK(text_query(db, "SELECT sql FROM sqlite_master WHERE type='table' AND name='log'", txt, sizeof txt));
    CHECK_STR(txt, DDL_LOG);
    CK(text_query(db, "SELECT sql FROM sqlite_master WHERE type='table' AND name='controlBlock'", txt,
                  sizeof txt));
    CHECK_STR(txt, DDL_CONTROL);
    CK(text_query(db, "SELECT sql FROM sqlite_master WHERE type='index' AND name='controlBlock_what_idx'",
                  txt, sizeof txt));
    CHECK_STR(txt, DDL_CONTROL_IDX);
    CHECK_EQ_INT(int_query(db, "SELECT COUNT(*) FROM controlBlock"), 0);
    CHECK_EQ_INT(int_query(db, "PRAGMA page_size"), 8192);
    CK(text_query(db, "PRAGMA journal_mode", txt, sizeof txt));
    CHECK_STR(txt, "wal");
    CHECK_EQ_INT(int_query(db, "SELECT COUNT(*) FROM log"), (int64_t)NROWS);

    /* every row, in SIGNED id order as SQLite sorts them */
    CK(sqlite3_prepare_v2(db,
                          "SELECT id, created, term, cmd, typeof(id), typeof(term), typeof(cmd), "
                          "typeof(data), length(data), data FROM log ORDER BY id",
                          -1, &st, NULL) == SQLITE_OK);
    {
        int64_t prev = INT64_MIN;
        size_t n = 0;
        bool first = true;
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            const row *r = NULL;
            const char *tdata = (const char *)sqlite3_column_text(st, 7);
            for (size_t j = 0; j < NROWS; j++)
                if ((int64_t)ROWS[j].key == id) r = &ROWS[j];
            CHECK(r != NULL, "unexpected id %" PRId64, id);
            CK(first || id > prev);
            first = false;
            prev = id;
            n++;
            if (r == NULL) continue;
            CHECK_EQ_INT(sqlite3_column_int64(st, 1), 0);                    /* created */
            CHECK_EQ_INT(sqlite3_column_int64(st, 2), (int64_t)r->term);     /* signed term */
            CHECK_EQ_INT(sqlite3_column_int64(st, 3), (int64_t)r->cmd);      /* signed cmd */
            CHECK_STR((const char *)sqlite3_column_text(st, 4), "integer");
            CHECK_STR((const char *)sqlite3_column_text(st, 5), "integer");
            CHECK_STR((const char *)sqlite3_column_text(st, 6), "integer");
            if (r->data == NULL) {
                CHECK(tdata != NULL && (strcmp(tdata, "null") == 0 || strcmp(tdata, "blob") == 0),
                      "NULL data stored as %s", tdata ? tdata : "?");
                CK(sqlite3_column_bytes(st, 9) == 0);
            } else {
                CHECK(tdata != NULL && strcmp(tdata, "blob") == 0, "key %" PRIu64 " data stored as %s",
                      r->key, tdata ? tdata : "?");
                CHECK_EQ_INT(sqlite3_column_int64(st, 8), (int64_t)r->len);
                CHECK_EQ_INT(sqlite3_column_bytes(st, 9), (int64_t)r->len);
                if (r->len > 0)
                    CK(memcmp(sqlite3_column_blob(st, 9), r->data, r->len) == 0);
            }
        }
        CHECK_EQ_U64(n, NROWS);
    }
    sqlite3_finalize(st);
    /* specific encodings */
    CHECK_EQ_INT(int_query(db, "SELECT term FROM log WHERE id = -1"), -1);
    CHECK_EQ_INT(int_query(db, "SELECT cmd FROM log WHERE id = 5"), INT64_MIN);
    CHECK_EQ_INT(int_query(db, "SELECT COUNT(*) FROM log WHERE id = -9223372036854775808"), 1);
    CHECK_EQ_INT(int_query(db, "SELECT COUNT(*) FROM log WHERE id = 9223372036854775807"), 1);
    CHECK_EQ_INT(int_query(db, "SELECT COUNT(*) FROM log WHERE id < 0"), 4);
    CHECK_EQ_INT(int_query(db, "SELECT MIN(id) FROM log"), INT64_MIN);
    CHECK_EQ_INT(int_query(db, "SELECT MAX(id) FROM log"), INT64_MAX);
    CK(sqlite3_close(db) == SQLITE_OK);

    /* file header: SQLite format 3, WAL (read/write versions 2) */
    {
        unsigned char hdr[20];
        FILE *f = fopen(path, "rb");
        CK(f != NULL);
        if (f != NULL) {
            CK(fread(hdr, 1, sizeof hdr, f) == sizeof hdr);
            fclose(f);
            CK(memcmp(hdr, "SQLite format 3", 16) == 0);
            CK(hdr[16] == 0x20 && hdr[17] == 0x00); /* page size 8192, big-endian */
            CK(hdr[18] == 2 && hdr[19] == 2);
        }
    }

    /* and the raw-SQL-modified file is still fine for the API */
    CK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
    CK(exec_ok(db, "INSERT INTO log VALUES(-3, 0, 9, 9, X'414243')")); /* key MAX-2 */
    CK(sqlite3_close(db) == SQLITE_OK);
    memset(&inst, 0, sizeof inst);
    inst.interface = kvidxInterfaceSqlite3;
    CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "");
    {
        uint64_t k = 0, t = 0;
        const uint8_t *d = NULL;
        size_t l = 0;
        CK(kvidxGet(&inst, MAXK - 2, &t, NULL, &d, &l));
        CK(t == 9 && l == 3 && memcmp(d, "ABC", 3) == 0);
        CK(kvidxGetNext(&inst, H + 7, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, MAXK - 2);
        CK(kvidxGetPrev(&inst, MAXK - 1, &k, NULL, NULL, NULL, NULL));
        CHECK_EQ_U64(k, MAXK - 2);
    }
    CK(kvidxClose(&inst));
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    CK(kvidxGetAdapterByName("SQLite3") != NULL);
    test_raw_to_api(8192, true);  /* as the original with the bundled SQLite writes it */
    test_raw_to_api(4096, false); /* as the original with a system SQLite might */
    test_api_to_raw();
    return check_report();
}
