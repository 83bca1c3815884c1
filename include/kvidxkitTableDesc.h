/* kvidxkitTableDesc.h: table descriptions and SQL generation, as in the
 * original kvidxkit (v0.7.0).
 *
 * The types (kvidxColType, kvidxDefaultKind, kvidxColDef, kvidxIndexDef,
 * kvidxTableDef) and the functions (kvidxGen*, kvidxColDefIsValid,
 * kvidxTableDefIsValid) are declared in kvidxkit.h, which this includes.
 * This header adds the flag combinations and the description macros (C99
 * compound literals, usable in C only, as in the original):
 *
 *     kvidxColDef cols[] = {
 *         COL("id", KVIDX_COL_PK_AUTO),
 *         COL("name", KVIDX_COL_TEXT | KVIDX_COL_NOT_NULL),
 *         COL_DEFAULT_INT("status", KVIDX_COL_INTEGER, 0),
 *     };
 *     kvidxIndexDef idx[] = { INDEX_UNIQUE("name"), INDEX("status") };
 *     kvidxTableDef users = {"users", cols, 3, idx, 2, false};
 *
 * Differences from the original's generators: every generator validates
 * its description first (false / -1 for one kvidxTableDefIsValid rejects),
 * text defaults are escaped ('it''s'), and a name that is not an ordinary
 * identifier (ASCII letter or '_', then letters, digits, '_', and not an SQL
 * keyword) is double-quoted; ordinary names give the original's exact text. */
#ifndef KVIDXKIT_TABLEDESC_H
#define KVIDXKIT_TABLEDESC_H

#include "kvidxkit.h"

/** The base-type bits: INTEGER, TEXT, BLOB, REAL. */
#define KVIDX_COL_BASE_TYPE_MASK                                               \
    (KVIDX_COL_INTEGER | KVIDX_COL_TEXT | KVIDX_COL_BLOB | KVIDX_COL_REAL)
/** INTEGER PRIMARY KEY */
#define KVIDX_COL_PK (KVIDX_COL_INTEGER | KVIDX_COL_PRIMARY_KEY)
/** INTEGER PRIMARY KEY AUTOINCREMENT */
#define KVIDX_COL_PK_AUTO (KVIDX_COL_PK | KVIDX_COL_AUTOINCREMENT)
/** INTEGER REFERENCES <refTable> */
#define KVIDX_COL_FK (KVIDX_COL_INTEGER | KVIDX_COL_REFERENCES)
/** INTEGER REFERENCES <refTable> ON DELETE CASCADE */
#define KVIDX_COL_FK_CASCADE (KVIDX_COL_FK | KVIDX_COL_CASCADE_DELETE)
/** ... ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED */
#define KVIDX_COL_FK_CASCADE_DEFERRED                                          \
    (KVIDX_COL_FK_CASCADE | KVIDX_COL_DEFERRED)

/** A column of the given type flags. */
#define COL(colName, colType)                                                  \
    ((kvidxColDef){.name = (colName),                                          \
                   .type = (kvidxColType)(colType),                            \
                   .refTable = NULL,                                           \
                   .defaultKind = KVIDX_DEFAULT_NONE,                          \
                   .defaultVal = {.intVal = 0}})

/** A column referencing another table ("users" or "users(id)"). */
#define COL_FK(colName, colType, refTableName)                                 \
    ((kvidxColDef){.name = (colName),                                          \
                   .type = (kvidxColType)((colType) | KVIDX_COL_REFERENCES),   \
                   .refTable = (refTableName),                                 \
                   .defaultKind = KVIDX_DEFAULT_NONE,                          \
                   .defaultVal = {.intVal = 0}})

/** A column with DEFAULT NULL. */
#define COL_DEFAULT_NULL(colName, colType)                                     \
    ((kvidxColDef){.name = (colName),                                          \
                   .type = (kvidxColType)((colType) | KVIDX_COL_HAS_DEFAULT),  \
                   .refTable = NULL,                                           \
                   .defaultKind = KVIDX_DEFAULT_NULL,                          \
                   .defaultVal = {.intVal = 0}})

/** A column with an integer DEFAULT. */
#define COL_DEFAULT_INT(colName, colType, val)                                 \
    ((kvidxColDef){.name = (colName),                                          \
                   .type = (kvidxColType)((colType) | KVIDX_COL_HAS_DEFAULT),  \
                   .refTable = NULL,                                           \
                   .defaultKind = KVIDX_DEFAULT_INT,                           \
                   .defaultVal = {.intVal = (val)}})

/** A column with a real DEFAULT (written as printf's %g). */
#define COL_DEFAULT_REAL(colName, colType, val)                                \
    ((kvidxColDef){.name = (colName),                                          \
                   .type = (kvidxColType)((colType) | KVIDX_COL_HAS_DEFAULT),  \
                   .refTable = NULL,                                           \
                   .defaultKind = KVIDX_DEFAULT_REAL,                          \
                   .defaultVal = {.realVal = (val)}})

/** A column with a text DEFAULT (written as an escaped SQL string). */
#define COL_DEFAULT_TEXT(colName, colType, val)                                \
    ((kvidxColDef){.name = (colName),                                          \
                   .type = (kvidxColType)((colType) | KVIDX_COL_HAS_DEFAULT),  \
                   .refTable = NULL,                                           \
                   .defaultKind = KVIDX_DEFAULT_TEXT,                          \
                   .defaultVal = {.textVal = (val)}})

/** A column with an SQL expression DEFAULT (written verbatim). */
#define COL_DEFAULT_EXPR(colName, colType, expr)                               \
    ((kvidxColDef){.name = (colName),                                          \
                   .type = (kvidxColType)((colType) | KVIDX_COL_HAS_DEFAULT),  \
                   .refTable = NULL,                                           \
                   .defaultKind = KVIDX_DEFAULT_EXPR,                          \
                   .defaultVal = {.exprVal = (expr)}})

/** Number of column names in an index macro's argument list. */
#define KVIDX_INDEX_COLCOUNT_(...)                                             \
    (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

/** An index on the given columns, named <table>_<col1>_..._idx. */
#define INDEX(...)                                                             \
    ((kvidxIndexDef){.name = NULL,                                             \
                     .unique = false,                                          \
                     .colCount = KVIDX_INDEX_COLCOUNT_(__VA_ARGS__),           \
                     .columns = (const char *[]){__VA_ARGS__}})

/** A unique index on the given columns. */
#define INDEX_UNIQUE(...)                                                      \
    ((kvidxIndexDef){.name = NULL,                                             \
                     .unique = true,                                           \
                     .colCount = KVIDX_INDEX_COLCOUNT_(__VA_ARGS__),           \
                     .columns = (const char *[]){__VA_ARGS__}})

/** A named index on the given columns. */
#define INDEX_NAMED(indexName, ...)                                            \
    ((kvidxIndexDef){.name = (indexName),                                      \
                     .unique = false,                                          \
                     .colCount = KVIDX_INDEX_COLCOUNT_(__VA_ARGS__),           \
                     .columns = (const char *[]){__VA_ARGS__}})

/** A named unique index on the given columns. */
#define INDEX_UNIQUE_NAMED(indexName, ...)                                     \
    ((kvidxIndexDef){.name = (indexName),                                      \
                     .unique = true,                                           \
                     .colCount = KVIDX_INDEX_COLCOUNT_(__VA_ARGS__),           \
                     .columns = (const char *[]){__VA_ARGS__}})

#endif /* KVIDXKIT_TABLEDESC_H */
