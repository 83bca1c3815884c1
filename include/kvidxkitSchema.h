/* kvidxkitSchema.h: schema versioning on a SQLite connection, as in the
 * original kvidxkit (v0.7.0).
 *
 * The type kvidxMigration, the callback type kvidxMigrationCallback and the
 * functions (kvidxSchemaInit, kvidxSchemaVersion, kvidxSchemaNeedsMigration,
 * kvidxSchemaApply, kvidxSchemaApplyWithCallback, kvidxSchemaCreateTables,
 * kvidxSchemaGetAppliedVersions) are declared in kvidxkit.h, which
 * kvidxkitTableDesc.h includes. They take a `struct sqlite3 *` of the SQLite
 * this library contains and exports: open it with sqlite3_open (include
 * sqlite3.h installed beside this header; link only libkvidxkit), or take
 * the connection of an open instance with kvidxSqlite3Handle (an extension
 * of this library).
 *
 * Differences from the original: migrations may be listed in any order
 * (every missing version up to the target is applied, ascending); they run
 * in a SAVEPOINT, so they work inside an open transaction; a failure rolls
 * back everything the call applied; table creation validates first and is
 * all or nothing; reading the version never writes. */
#ifndef KVIDXKIT_SCHEMA_H
#define KVIDXKIT_SCHEMA_H

#include "kvidxkitTableDesc.h"

#endif /* KVIDXKIT_SCHEMA_H */
