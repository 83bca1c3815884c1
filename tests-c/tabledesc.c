/* tabledesc.c: table descriptions and SQL generation (kvidxkitTableDesc.h).
 *
 * primitives.md §9 items 55-62 and 65, the exact texts of §6.3 and the §6.5
 * worked example, %g formatting, escaping of text defaults, quoting of
 * unusual identifiers, validation, bounds-checked buffers, and the ABI
 * layout of the description structs. */
#include "kvidxkitTableDesc.h"

#include "check.h"

#include <math.h>
#include <stddef.h>

static char buf[4096];

/* The type text of one column, or "<fail>" when the generator fails. */
static const char *typeSql(kvidxColDef c) {
    int n = kvidxGenColTypeSql(&c, buf, sizeof(buf));
    if (n < 0) {
        return "<fail>";
    }
    CHECK_EQ_INT(n, strlen(buf));
    return buf;
}

#define CHECK_TYPE(col, expected) CHECK_STR(typeSql(col), expected)
#define CHECK_CONTAINS(hay, needle)                                            \
    CHECK(strstr((hay), (needle)) != NULL, "\"%s\" lacks \"%s\"", (hay), (needle))

static void testLayout(void) {
    check_set_context("layout");
    CHECK_EQ_INT(sizeof(kvidxColType), 4);
    CHECK_EQ_INT(sizeof(kvidxDefaultKind), 4);
    CHECK_EQ_INT(sizeof(kvidxColDef), 40);
    CHECK_EQ_INT(offsetof(kvidxColDef, name), 0);
    CHECK_EQ_INT(offsetof(kvidxColDef, type), 8);
    CHECK_EQ_INT(offsetof(kvidxColDef, refTable), 16);
    CHECK_EQ_INT(offsetof(kvidxColDef, defaultKind), 24);
    CHECK_EQ_INT(offsetof(kvidxColDef, defaultVal), 32);
    CHECK_EQ_INT(offsetof(kvidxColDef, defaultVal.intVal), 32);
    CHECK_EQ_INT(offsetof(kvidxColDef, defaultVal.realVal), 32);
    CHECK_EQ_INT(offsetof(kvidxColDef, defaultVal.textVal), 32);
    CHECK_EQ_INT(offsetof(kvidxColDef, defaultVal.exprVal), 32);
    CHECK_EQ_INT(sizeof(kvidxIndexDef), 32);
    CHECK_EQ_INT(offsetof(kvidxIndexDef, name), 0);
    CHECK_EQ_INT(offsetof(kvidxIndexDef, unique), 8);
    CHECK_EQ_INT(offsetof(kvidxIndexDef, colCount), 16);
    CHECK_EQ_INT(offsetof(kvidxIndexDef, columns), 24);
    CHECK_EQ_INT(sizeof(kvidxTableDef), 48);
    CHECK_EQ_INT(offsetof(kvidxTableDef, name), 0);
    CHECK_EQ_INT(offsetof(kvidxTableDef, columns), 8);
    CHECK_EQ_INT(offsetof(kvidxTableDef, colCount), 16);
    CHECK_EQ_INT(offsetof(kvidxTableDef, indexes), 24);
    CHECK_EQ_INT(offsetof(kvidxTableDef, indexCount), 32);
    CHECK_EQ_INT(offsetof(kvidxTableDef, withoutRowid), 40);
}

static void testConstants(void) {
    check_set_context("constants");
    CHECK_EQ_INT(KVIDX_COL_INTEGER, 1);
    CHECK_EQ_INT(KVIDX_COL_TEXT, 2);
    CHECK_EQ_INT(KVIDX_COL_BLOB, 4);
    CHECK_EQ_INT(KVIDX_COL_REAL, 8);
    CHECK_EQ_INT(KVIDX_COL_PRIMARY_KEY, 16);
    CHECK_EQ_INT(KVIDX_COL_NOT_NULL, 32);
    CHECK_EQ_INT(KVIDX_COL_UNIQUE, 64);
    CHECK_EQ_INT(KVIDX_COL_AUTOINCREMENT, 128);
    CHECK_EQ_INT(KVIDX_COL_REFERENCES, 256);
    CHECK_EQ_INT(KVIDX_COL_CASCADE_DELETE, 512);
    CHECK_EQ_INT(KVIDX_COL_DEFERRED, 1024);
    CHECK_EQ_INT(KVIDX_COL_HAS_DEFAULT, 2048);
    CHECK_EQ_INT(KVIDX_COL_BASE_TYPE_MASK, 15);
    CHECK_EQ_INT(KVIDX_COL_PK, 17);
    CHECK_EQ_INT(KVIDX_COL_PK_AUTO, 145);
    CHECK_EQ_INT(KVIDX_COL_FK, 257);
    CHECK_EQ_INT(KVIDX_COL_FK_CASCADE, 769);
    CHECK_EQ_INT(KVIDX_COL_FK_CASCADE_DEFERRED, 1793);
    CHECK_EQ_INT(KVIDX_DEFAULT_NONE, 0);
    CHECK_EQ_INT(KVIDX_DEFAULT_NULL, 1);
    CHECK_EQ_INT(KVIDX_DEFAULT_INT, 2);
    CHECK_EQ_INT(KVIDX_DEFAULT_REAL, 3);
    CHECK_EQ_INT(KVIDX_DEFAULT_TEXT, 4);
    CHECK_EQ_INT(KVIDX_DEFAULT_EXPR, 5);
}

static void testMacros(void) {
    kvidxColDef c;
    kvidxIndexDef ix;
    check_set_context("macros");
    c = COL("id", KVIDX_COL_PK_AUTO);
    CHECK_STR(c.name, "id");
    CHECK_EQ_INT(c.type, 145);
    CHECK(c.refTable == NULL, "");
    CHECK_EQ_INT(c.defaultKind, KVIDX_DEFAULT_NONE);

    c = COL_FK("owner", KVIDX_COL_INTEGER, "users");
    CHECK_EQ_INT(c.type, KVIDX_COL_FK);
    CHECK_STR(c.refTable, "users");

    c = COL_DEFAULT_NULL("x", KVIDX_COL_TEXT);
    CHECK_EQ_INT(c.type, KVIDX_COL_TEXT | KVIDX_COL_HAS_DEFAULT);
    CHECK_EQ_INT(c.defaultKind, KVIDX_DEFAULT_NULL);

    c = COL_DEFAULT_INT("x", KVIDX_COL_INTEGER, -100);
    CHECK_EQ_INT(c.type, KVIDX_COL_INTEGER | KVIDX_COL_HAS_DEFAULT);
    CHECK_EQ_INT(c.defaultKind, KVIDX_DEFAULT_INT);
    CHECK_EQ_INT(c.defaultVal.intVal, -100);

    c = COL_DEFAULT_REAL("x", KVIDX_COL_REAL, 2.5);
    CHECK_EQ_INT(c.defaultKind, KVIDX_DEFAULT_REAL);
    CHECK(c.defaultVal.realVal == 2.5, "");

    c = COL_DEFAULT_TEXT("x", KVIDX_COL_TEXT, "abc");
    CHECK_EQ_INT(c.defaultKind, KVIDX_DEFAULT_TEXT);
    CHECK_STR(c.defaultVal.textVal, "abc");

    c = COL_DEFAULT_EXPR("x", KVIDX_COL_TEXT, "CURRENT_TIMESTAMP");
    CHECK_EQ_INT(c.defaultKind, KVIDX_DEFAULT_EXPR);
    CHECK_STR(c.defaultVal.exprVal, "CURRENT_TIMESTAMP");

    ix = INDEX("a");
    CHECK(ix.name == NULL, "");
    CHECK(!ix.unique, "");
    CHECK_EQ_INT(ix.colCount, 1);
    CHECK_STR(ix.columns[0], "a");

    ix = INDEX_UNIQUE("a", "b", "c");
    CHECK(ix.unique, "");
    CHECK_EQ_INT(ix.colCount, 3);
    CHECK_STR(ix.columns[2], "c");

    ix = INDEX_NAMED("n1", "a", "b");
    CHECK_STR(ix.name, "n1");
    CHECK(!ix.unique, "");
    CHECK_EQ_INT(ix.colCount, 2);

    ix = INDEX_UNIQUE_NAMED("n2", "b");
    CHECK_STR(ix.name, "n2");
    CHECK(ix.unique, "");
    CHECK_EQ_INT(ix.colCount, 1);
    CHECK_STR(ix.columns[0], "b");
}

/* Item 55: exact type strings. */
static void testTypeStrings(void) {
    check_set_context("55 type strings");
    CHECK_TYPE(COL("c", KVIDX_COL_INTEGER), "INTEGER");
    CHECK_TYPE(COL("c", KVIDX_COL_TEXT), "TEXT");
    CHECK_TYPE(COL("c", KVIDX_COL_BLOB), "BLOB");
    CHECK_TYPE(COL("c", KVIDX_COL_REAL), "REAL");
    CHECK_TYPE(COL("c", KVIDX_COL_PK), "INTEGER PRIMARY KEY");
    CHECK_TYPE(COL("c", KVIDX_COL_PK_AUTO), "INTEGER PRIMARY KEY AUTOINCREMENT");
    CHECK_TYPE(COL("c", KVIDX_COL_TEXT | KVIDX_COL_NOT_NULL), "TEXT NOT NULL");
    CHECK_TYPE(COL("c", KVIDX_COL_INTEGER | KVIDX_COL_UNIQUE), "INTEGER UNIQUE");
    CHECK_TYPE(COL("c", KVIDX_COL_INTEGER | KVIDX_COL_NOT_NULL | KVIDX_COL_UNIQUE),
               "INTEGER NOT NULL UNIQUE");
}

/* Item 56 and the §6.3 examples (exact). */
static void testForeignKeys(void) {
    check_set_context("56 foreign keys");
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER, "users"), "INTEGER REFERENCES users");
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER | KVIDX_COL_CASCADE_DELETE, "users"),
               "INTEGER REFERENCES users ON DELETE CASCADE");
    CHECK_TYPE(COL_FK("u", KVIDX_COL_FK_CASCADE_DEFERRED, "users"),
               "INTEGER REFERENCES users ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED");
    CHECK_TYPE(COL_FK("u",
                      KVIDX_COL_INTEGER | KVIDX_COL_NOT_NULL | KVIDX_COL_UNIQUE |
                          KVIDX_COL_CASCADE_DELETE | KVIDX_COL_DEFERRED,
                      "users"),
               "INTEGER NOT NULL UNIQUE REFERENCES users ON DELETE CASCADE "
               "DEFERRABLE INITIALLY DEFERRED");
    /* A referenced column list is kept as written. */
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER, "users(id)"), "INTEGER REFERENCES users(id)");
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER, "users (id, org)"),
               "INTEGER REFERENCES users (id, org)");
    /* Unusual names are quoted. */
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER, "my users"), "INTEGER REFERENCES \"my users\"");
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER, "order(group)"),
               "INTEGER REFERENCES \"order\"(\"group\")");
    /* REFERENCES without a table is invalid (the original dropped it silently). */
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER, NULL), "<fail>");
    CHECK_TYPE(COL_FK("u", KVIDX_COL_INTEGER, ""), "<fail>");
}

/* Item 57, the §6.3 default examples and %g. */
static void testDefaults(void) {
    check_set_context("57 defaults");
    CHECK_TYPE(COL_DEFAULT_INT("c", KVIDX_COL_INTEGER, 0), "INTEGER DEFAULT 0");
    CHECK_TYPE(COL_DEFAULT_INT("c", KVIDX_COL_INTEGER, -100), "INTEGER DEFAULT -100");
    CHECK_TYPE(COL_DEFAULT_INT("c", KVIDX_COL_INTEGER | KVIDX_COL_NOT_NULL, 5),
               "INTEGER NOT NULL DEFAULT 5");
    CHECK_TYPE(COL_DEFAULT_INT("c", KVIDX_COL_INTEGER, INT64_MIN),
               "INTEGER DEFAULT -9223372036854775808");
    CHECK_TYPE(COL_DEFAULT_TEXT("c", KVIDX_COL_TEXT, "unknown"), "TEXT DEFAULT 'unknown'");
    CHECK_TYPE(COL_DEFAULT_NULL("c", KVIDX_COL_BLOB), "BLOB DEFAULT NULL");
    CHECK_TYPE(COL_DEFAULT_EXPR("c", KVIDX_COL_TEXT, "CURRENT_TIMESTAMP"),
               "TEXT DEFAULT CURRENT_TIMESTAMP");
    CHECK_TYPE(COL_DEFAULT_EXPR("c", KVIDX_COL_INTEGER, "(1 + 2)"), "INTEGER DEFAULT (1 + 2)");
    CHECK_TYPE(COL_DEFAULT_REAL("c", KVIDX_COL_REAL, 3.14), "REAL DEFAULT 3.14");
    CHECK_TYPE(COL_DEFAULT_REAL("c", KVIDX_COL_REAL, 0.0), "REAL DEFAULT 0");
    CHECK_TYPE(COL_DEFAULT_REAL("c", KVIDX_COL_REAL, 1e20), "REAL DEFAULT 1e+20");
    CHECK_TYPE(COL_DEFAULT_REAL("c", KVIDX_COL_REAL, 3.14159265358979), "REAL DEFAULT 3.14159");

    check_set_context("%g like printf");
    {
        static const double values[] = {
            1.0,     -1.0,      0.5,         100000.0, 999999.0,     999999.5,  1000000.0,
            1234567, 0.0001,    0.00001,     0.000123456789, 1e-300, 1e300,   -2.5e-7,
            123.456, 2.5,       1234565.0,   0.1,     1.0 / 3.0,      -0.0,     6.02214076e23,
            4.9e-324, 1.7976931348623157e308, 99999.95, 0.00009999995, 12345.65, 65.5};
        size_t k;
        for (k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
            char expect[64], got[128];
            snprintf(expect, sizeof(expect), "REAL DEFAULT %g", values[k]);
            snprintf(got, sizeof(got), "%s",
                     typeSql(COL_DEFAULT_REAL("c", KVIDX_COL_REAL, values[k])));
            CHECK(strcmp(got, expect) == 0, "%.17g: \"%s\" != \"%s\"", values[k], got, expect);
        }
    }

    check_set_context("escaping");
    CHECK_TYPE(COL_DEFAULT_TEXT("c", KVIDX_COL_TEXT, "it's"), "TEXT DEFAULT 'it''s'");
    CHECK_TYPE(COL_DEFAULT_TEXT("c", KVIDX_COL_TEXT, "''"), "TEXT DEFAULT ''''''");
    CHECK_TYPE(COL_DEFAULT_TEXT("c", KVIDX_COL_TEXT, ""), "TEXT DEFAULT ''");
    CHECK_TYPE(COL_DEFAULT_TEXT("c", KVIDX_COL_TEXT, "x'); DROP TABLE users; --"),
               "TEXT DEFAULT 'x''); DROP TABLE users; --'");
}

/* Item 58 and the added checks. */
static void testColumnValidation(void) {
    kvidxColDef c;
    check_set_context("58 column validation");
    c = COL("id", KVIDX_COL_INTEGER);
    CHECK(kvidxColDefIsValid(&c), "");
    c = COL("id", KVIDX_COL_PK_AUTO);
    CHECK(kvidxColDefIsValid(&c), "");
    c = COL_FK("u", KVIDX_COL_FK_CASCADE_DEFERRED, "users");
    CHECK(kvidxColDefIsValid(&c), "");
    CHECK(!kvidxColDefIsValid(NULL), "");
    c = COL("x", 0);
    CHECK(!kvidxColDefIsValid(&c), "no base type");
    CHECK_TYPE(c, "<fail>");
    c = COL("x", KVIDX_COL_NOT_NULL);
    CHECK(!kvidxColDefIsValid(&c), "flags without base type");
    c = COL("x", KVIDX_COL_INTEGER | KVIDX_COL_TEXT);
    CHECK(!kvidxColDefIsValid(&c), "two base types");
    CHECK_TYPE(c, "<fail>");
    c = COL("x", KVIDX_COL_INTEGER | KVIDX_COL_AUTOINCREMENT);
    CHECK(!kvidxColDefIsValid(&c), "AUTOINCREMENT without PK");
    c = COL("x", KVIDX_COL_TEXT | KVIDX_COL_PRIMARY_KEY | KVIDX_COL_AUTOINCREMENT);
    CHECK(!kvidxColDefIsValid(&c), "AUTOINCREMENT on TEXT");
    c = COL_FK("x", KVIDX_COL_INTEGER, NULL);
    CHECK(!kvidxColDefIsValid(&c), "REFERENCES without table");
    c = COL_FK("x", KVIDX_COL_INTEGER, "");
    CHECK(!kvidxColDefIsValid(&c), "REFERENCES with empty table");
    c = COL("x", KVIDX_COL_INTEGER | KVIDX_COL_CASCADE_DELETE);
    CHECK(!kvidxColDefIsValid(&c), "CASCADE without REFERENCES");
    c = COL("x", KVIDX_COL_INTEGER | KVIDX_COL_DEFERRED);
    CHECK(!kvidxColDefIsValid(&c), "DEFERRED without REFERENCES");
    c = COL_DEFAULT_NULL("x", KVIDX_COL_TEXT | KVIDX_COL_NOT_NULL);
    CHECK(!kvidxColDefIsValid(&c), "NULL default on NOT NULL");
    c = COL("", KVIDX_COL_INTEGER);
    CHECK(!kvidxColDefIsValid(&c), "empty name");
    c = COL(NULL, KVIDX_COL_INTEGER);
    CHECK(!kvidxColDefIsValid(&c), "NULL name");
    c = COL("x", KVIDX_COL_INTEGER | KVIDX_COL_HAS_DEFAULT);
    CHECK(!kvidxColDefIsValid(&c), "HAS_DEFAULT with kind NONE");
    CHECK_TYPE(c, "<fail>");
    c = COL_DEFAULT_INT("x", KVIDX_COL_TEXT, 1);
    CHECK(!kvidxColDefIsValid(&c), "INT default on TEXT");
    c = COL_DEFAULT_REAL("x", KVIDX_COL_INTEGER, 1.5);
    CHECK(!kvidxColDefIsValid(&c), "REAL default on INTEGER");
    c = COL_DEFAULT_TEXT("x", KVIDX_COL_INTEGER, "a");
    CHECK(!kvidxColDefIsValid(&c), "TEXT default on INTEGER");
    c = COL_DEFAULT_EXPR("x", KVIDX_COL_INTEGER, "(1)");
    CHECK(kvidxColDefIsValid(&c), "EXPR default on any type");
    /* Added: the original crashed or produced broken SQL for these. */
    c = COL_DEFAULT_TEXT("x", KVIDX_COL_TEXT, NULL);
    CHECK(!kvidxColDefIsValid(&c), "NULL text default");
    CHECK_TYPE(c, "<fail>");
    c = COL_DEFAULT_EXPR("x", KVIDX_COL_TEXT, NULL);
    CHECK(!kvidxColDefIsValid(&c), "NULL expression default");
    c = COL_DEFAULT_EXPR("x", KVIDX_COL_TEXT, "");
    CHECK(!kvidxColDefIsValid(&c), "empty expression default");
    c = COL_DEFAULT_REAL("x", KVIDX_COL_REAL, HUGE_VAL);
    CHECK(!kvidxColDefIsValid(&c), "infinite real default");
    c = COL_DEFAULT_INT("x", KVIDX_COL_INTEGER, 1);
    c.defaultKind = (kvidxDefaultKind)9;
    CHECK(!kvidxColDefIsValid(&c), "unknown default kind");
    /* A kind without HAS_DEFAULT is ignored, as in the original. */
    c = COL("x", KVIDX_COL_INTEGER);
    c.defaultKind = KVIDX_DEFAULT_TEXT;
    CHECK(kvidxColDefIsValid(&c), "");
    CHECK_TYPE(c, "INTEGER");
}

/* Item 59. */
static void testTableValidation(void) {
    kvidxColDef cols[] = {COL("id", KVIDX_COL_PK), COL("name", KVIDX_COL_TEXT)};
    kvidxIndexDef good[] = {INDEX("name")};
    kvidxIndexDef bad[] = {INDEX("nosuch")};
    kvidxIndexDef caseBad[] = {INDEX("NAME")};
    kvidxIndexDef emptyName[] = {INDEX_NAMED("", "name")};
    kvidxIndexDef noCols = {NULL, false, 0, NULL};
    const char *nullCol[] = {NULL};
    kvidxIndexDef nullColIdx = {NULL, false, 1, nullCol};
    kvidxColDef badCols[] = {COL("id", KVIDX_COL_PK), COL("x", 0)};
    kvidxTableDef t = {"users", cols, 2, NULL, 0, false};
    check_set_context("59 table validation");
    CHECK(kvidxTableDefIsValid(&t), "");
    CHECK(!kvidxTableDefIsValid(NULL), "");
    t.name = NULL;
    CHECK(!kvidxTableDefIsValid(&t), "NULL name");
    t.name = "";
    CHECK(!kvidxTableDefIsValid(&t), "empty name");
    t.name = "users";
    t.indexes = good;
    t.indexCount = 1;
    CHECK(kvidxTableDefIsValid(&t), "");
    t.indexes = bad;
    CHECK(!kvidxTableDefIsValid(&t), "index on a nonexistent column");
    CHECK(!kvidxGenCreateIndexes(&t, buf, sizeof(buf)), "");
    CHECK(!kvidxGenCreateTable(&t, buf, sizeof(buf)), "generators validate first");
    t.indexes = caseBad;
    CHECK(!kvidxTableDefIsValid(&t), "column names are case-sensitive");
    t.indexes = emptyName;
    CHECK(!kvidxTableDefIsValid(&t), "empty index name");
    t.indexes = &noCols;
    CHECK(!kvidxTableDefIsValid(&t), "index without columns");
    t.indexes = &nullColIdx;
    CHECK(!kvidxTableDefIsValid(&t), "index with a NULL column");
    t.indexes = NULL;
    CHECK(!kvidxTableDefIsValid(&t), "indexCount with NULL indexes");
    t.indexCount = 0;
    t.colCount = 0;
    CHECK(!kvidxTableDefIsValid(&t), "no columns");
    CHECK(!kvidxGenCreateTable(&t, buf, sizeof(buf)), "zero columns: no SQL");
    t.colCount = 2;
    t.columns = NULL;
    CHECK(!kvidxTableDefIsValid(&t), "NULL columns");
    t.columns = badCols;
    CHECK(!kvidxTableDefIsValid(&t), "an invalid column");
}

/* Items 60-62 and the §6.5 worked example, byte for byte. */
static void testGenerators(void) {
    kvidxColDef users[] = {
        COL("id", KVIDX_COL_PK_AUTO),
        COL("name", KVIDX_COL_TEXT | KVIDX_COL_NOT_NULL),
        COL("email", KVIDX_COL_TEXT | KVIDX_COL_UNIQUE),
        COL_DEFAULT_INT("status", KVIDX_COL_INTEGER, 0),
    };
    kvidxIndexDef idx[] = {INDEX_UNIQUE("email"), INDEX("status")};
    kvidxTableDef t = {"users", users, 4, idx, 2, false};

    kvidxColDef simple[] = {COL("id", KVIDX_COL_PK), COL("name", KVIDX_COL_TEXT),
                            COL("age", KVIDX_COL_INTEGER)};
    kvidxTableDef s = {"users", simple, 3, NULL, 0, false};

    kvidxColDef access[] = {COL("id", KVIDX_COL_PK), COL("tenant", KVIDX_COL_INTEGER),
                            COL("user", KVIDX_COL_INTEGER)};
    kvidxIndexDef accessIdx[] = {INDEX("tenant", "user"), INDEX_NAMED("my_custom_idx", "user")};
    kvidxTableDef a = {"access", access, 3, accessIdx, 2, false};

    kvidxColDef cb[] = {COL("id", KVIDX_COL_PK), COL("what", KVIDX_COL_TEXT),
                        COL("how", KVIDX_COL_TEXT)};
    kvidxIndexDef cbIdx[] = {INDEX("what")};
    kvidxTableDef controlBlock = {"controlBlock", cb, 3, cbIdx, 1, false};
    kvidxColDef lg[] = {COL("id", KVIDX_COL_PK), COL("created", KVIDX_COL_INTEGER),
                        COL("term", KVIDX_COL_INTEGER), COL("cmd", KVIDX_COL_INTEGER),
                        COL("data", KVIDX_COL_BLOB)};
    kvidxTableDef log = {"log", lg, 5, NULL, 0, false};

    kvidxColDef mixed[] = {
        COL("id", KVIDX_COL_PK_AUTO),
        COL_FK("owner", KVIDX_COL_FK_CASCADE, "users"),
        COL_DEFAULT_REAL("score", KVIDX_COL_REAL, 1.5),
        COL_DEFAULT_TEXT("note", KVIDX_COL_TEXT, "n/a"),
        COL_DEFAULT_EXPR("created", KVIDX_COL_TEXT, "CURRENT_TIMESTAMP"),
    };
    kvidxTableDef m = {"mixed", mixed, 5, NULL, 0, false};

    check_set_context("6.5 worked example");
    CHECK(kvidxGenCreateTable(&t, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                   "name TEXT NOT NULL, email TEXT UNIQUE, status INTEGER DEFAULT 0);");
    CHECK(kvidxGenCreateIndexes(&t, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE UNIQUE INDEX IF NOT EXISTS users_email_idx ON users (email);\n"
                   "CREATE INDEX IF NOT EXISTS users_status_idx ON users (status);");

    check_set_context("adapter schema text (6.5)");
    CHECK(kvidxGenCreateTable(&controlBlock, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE TABLE IF NOT EXISTS controlBlock (id INTEGER PRIMARY KEY, what TEXT, "
                   "how TEXT);");
    CHECK(kvidxGenCreateIndexes(&controlBlock, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE INDEX IF NOT EXISTS controlBlock_what_idx ON controlBlock (what);");
    CHECK(kvidxGenCreateTable(&log, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, created INTEGER, "
                   "term INTEGER, cmd INTEGER, data BLOB);");
    CHECK(kvidxGenCreateIndexes(&log, buf, sizeof(buf)), "");
    CHECK_STR(buf, "");

    check_set_context("60 create table");
    CHECK(kvidxGenCreateTable(&s, buf, sizeof(buf)), "");
    CHECK_CONTAINS(buf, "CREATE TABLE IF NOT EXISTS users");
    CHECK_CONTAINS(buf, "id INTEGER PRIMARY KEY");
    CHECK_CONTAINS(buf, "name TEXT");
    CHECK(kvidxGenCreateTable(&m, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE TABLE IF NOT EXISTS mixed (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                   "owner INTEGER REFERENCES users ON DELETE CASCADE, score REAL DEFAULT 1.5, "
                   "note TEXT DEFAULT 'n/a', created TEXT DEFAULT CURRENT_TIMESTAMP);");
    s.withoutRowid = true;
    CHECK(kvidxGenCreateTable(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, "
                   "age INTEGER) WITHOUT ROWID;");
    s.withoutRowid = false;

    check_set_context("61 create indexes");
    {
        kvidxIndexDef one[] = {INDEX("name")};
        kvidxIndexDef uniq[] = {INDEX_UNIQUE("name")};
        kvidxTableDef e = {"users", simple, 3, one, 1, false};
        CHECK(kvidxGenCreateIndexes(&e, buf, sizeof(buf)), "");
        CHECK_STR(buf, "CREATE INDEX IF NOT EXISTS users_name_idx ON users (name);");
        e.indexes = uniq;
        CHECK(kvidxGenCreateIndexes(&e, buf, sizeof(buf)), "");
        CHECK_STR(buf, "CREATE UNIQUE INDEX IF NOT EXISTS users_name_idx ON users (name);");
    }
    CHECK(kvidxGenCreateIndexes(&t, buf, sizeof(buf)), "");
    CHECK_CONTAINS(buf, "CREATE INDEX IF NOT EXISTS");
    CHECK_CONTAINS(buf, "users_email_idx");
    CHECK_CONTAINS(buf, "ON users (email)");
    CHECK_CONTAINS(buf, "CREATE UNIQUE INDEX");
    CHECK(kvidxGenCreateIndexes(&a, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE INDEX IF NOT EXISTS access_tenant_user_idx ON access (tenant, user);\n"
                   "CREATE INDEX IF NOT EXISTS my_custom_idx ON access (user);");
    CHECK(kvidxGenCreateIndexes(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "");

    check_set_context("62 statements");
    CHECK(kvidxGenInsert(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "INSERT INTO users (id, name, age) VALUES (?, ?, ?);");
    CHECK(kvidxGenSelectById(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "SELECT * FROM users WHERE id = ?;");
    CHECK(kvidxGenSelectAll(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "SELECT * FROM users;");
    CHECK(kvidxGenUpdateById(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "UPDATE users SET name = ?, age = ? WHERE id = ?;");
    CHECK(kvidxGenDeleteById(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "DELETE FROM users WHERE id = ?;");
    CHECK(kvidxGenCount(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "SELECT COUNT(*) FROM users;");
    CHECK(kvidxGenMaxId(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "SELECT MAX(id) FROM users;");
    CHECK(kvidxGenMinId(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "SELECT MIN(id) FROM users;");
    s.colCount = 1;
    CHECK(!kvidxGenUpdateById(&s, buf, sizeof(buf)), "update needs two columns");
    CHECK(kvidxGenInsert(&s, buf, sizeof(buf)), "");
    CHECK_STR(buf, "INSERT INTO users (id) VALUES (?);");
    s.colCount = 0;
    CHECK(!kvidxGenInsert(&s, buf, sizeof(buf)), "no columns");
    CHECK(!kvidxGenSelectById(&s, buf, sizeof(buf)), "");
    CHECK(!kvidxGenSelectAll(&s, buf, sizeof(buf)), "");
    CHECK(!kvidxGenDeleteById(&s, buf, sizeof(buf)), "");
    CHECK(!kvidxGenCount(&s, buf, sizeof(buf)), "");
    CHECK(!kvidxGenMaxId(&s, buf, sizeof(buf)), "");
    CHECK(!kvidxGenMinId(&s, buf, sizeof(buf)), "");
}

/* Identifier quoting: ordinary names verbatim, anything else quoted. */
static void testQuoting(void) {
    kvidxColDef cols[] = {COL("id", KVIDX_COL_PK), COL("my col", KVIDX_COL_TEXT),
                          COL("order", KVIDX_COL_INTEGER), COL("a\"b", KVIDX_COL_TEXT),
                          COL("_x9", KVIDX_COL_BLOB)};
    kvidxIndexDef idx[] = {INDEX("my col", "order")};
    kvidxTableDef t = {"odd table", cols, 5, idx, 1, false};
    check_set_context("identifier quoting");
    CHECK(kvidxGenCreateTable(&t, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE TABLE IF NOT EXISTS \"odd table\" (id INTEGER PRIMARY KEY, "
                   "\"my col\" TEXT, \"order\" INTEGER, \"a\"\"b\" TEXT, _x9 BLOB);");
    CHECK(kvidxGenCreateIndexes(&t, buf, sizeof(buf)), "");
    CHECK_STR(buf, "CREATE INDEX IF NOT EXISTS \"odd table_my col_order_idx\" ON \"odd table\" "
                   "(\"my col\", \"order\");");
    CHECK(kvidxGenUpdateById(&t, buf, sizeof(buf)), "");
    CHECK_STR(buf, "UPDATE \"odd table\" SET \"my col\" = ?, \"order\" = ?, \"a\"\"b\" = ?, "
                   "_x9 = ? WHERE id = ?;");
    t.name = "x; DROP TABLE users; --";
    CHECK(kvidxGenSelectAll(&t, buf, sizeof(buf)), "");
    CHECK_STR(buf, "SELECT * FROM \"x; DROP TABLE users; --\";");
}

/* Item 65 and the buffer rules. */
static void testBuffers(void) {
    kvidxColDef c = COL("c", KVIDX_COL_INTEGER);
    kvidxColDef cols[] = {COL("id", KVIDX_COL_PK)};
    kvidxTableDef t = {"t", cols, 1, NULL, 0, false};
    char small[64];
    check_set_context("65 buffers");
    CHECK(kvidxGenColTypeSql(NULL, buf, sizeof(buf)) < 0, "");
    CHECK(kvidxGenColTypeSql(&c, NULL, sizeof(buf)) < 0, "");
    CHECK(kvidxGenColTypeSql(&c, buf, 0) < 0, "");
    CHECK(kvidxGenColTypeSql(&c, small, 3) < 0, "");
    CHECK_STR(small, "");
    CHECK(kvidxGenColTypeSql(&c, small, 7) < 0, "INTEGER does not fit in 7");
    CHECK_EQ_INT(kvidxGenColTypeSql(&c, small, 8), 7);
    CHECK_STR(small, "INTEGER");

    /* "SELECT * FROM t;" is 16 bytes: needs 17. */
    memset(small, 'x', sizeof(small));
    CHECK(!kvidxGenSelectAll(&t, small, 16), "");
    CHECK_STR(small, "");
    CHECK(small[1] == 'x', "nothing written past the terminator");
    CHECK(kvidxGenSelectAll(&t, small, 17), "");
    CHECK_STR(small, "SELECT * FROM t;");
    CHECK(!kvidxGenSelectAll(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenSelectAll(&t, NULL, sizeof(small)), "");
    CHECK(!kvidxGenSelectAll(&t, small, 0), "");
    CHECK(!kvidxGenCreateTable(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenCreateIndexes(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenInsert(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenSelectById(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenUpdateById(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenDeleteById(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenCount(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenMaxId(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenMinId(NULL, small, sizeof(small)), "");
    CHECK(!kvidxGenCreateTable(&t, small, 10), "");
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    testLayout();
    testConstants();
    testMacros();
    testTypeStrings();
    testForeignKeys();
    testDefaults();
    testColumnValidation();
    testTableValidation();
    testGenerators();
    testQuoting();
    testBuffers();
    return check_report();
}
