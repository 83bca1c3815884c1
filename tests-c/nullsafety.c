/* nullsafety.c: decision A5 ("no crash, ever"). Every exported function of
 * kvidxkit.h is called with a NULL instance, with an instance that is not
 * open, with an instance whose interface is all NULL, with single NULL
 * interface members, and with NULL for each pointer argument in turn.
 * Storage primitives / TTL / export functions: only the NULL-argument and
 * NULL-instance answers (and generic fallbacks) are asserted. */
#include "check.h"
#include "kvidxkit.h"
#include "kvidxkitConfig.h"
#include "kvidxkitErrors.h"
#include "kvidxkitExport.h"
#include "kvidxkitIterator.h"
#include "kvidxkitRegistry.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* check.h's CHECK(cond) without a message is rejected by -pedantic C99. */
#define CK(cond) CHECK(cond, "")

#define INV KVIDX_ERROR_INVALID_ARGUMENT
#define NS KVIDX_ERROR_NOT_SUPPORTED
#define SUFFIX " not supported by this backend"

static const char *scratch = ".";
static const kvidxAdapterInfo *ad = NULL;
static unsigned db_counter = 0;

static bool progress_cb(uint64_t current, uint64_t total, void *userData) {
    (void)current;
    (void)total;
    (void)userData;
    return true;
}
static bool batch_cb(size_t index, const kvidxEntry *entry, void *userData) {
    (void)index;
    (void)entry;
    (void)userData;
    return true;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a, b;
    if (s == NULL) return false;
    a = strlen(s);
    b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool path_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

/* a bool call fails and records `code` */
#define BOOL_FAILS(inst, call, code)                                           \
    do {                                                                       \
        kvidxClearError(inst);                                                 \
        CHECK(!(call), "%s returned true", #call);                             \
        CHECK(kvidxGetLastError(inst) == (code), "%s: lastError %d, want %d",  \
              #call, (int)kvidxGetLastError(inst), (int)(code));               \
    } while (0)

/* a kvidxError call answers `code` */
#define ERR_IS(call, code)                                                     \
    do {                                                                       \
        kvidxError e_ = (call);                                                \
        CHECK(e_ == (code), "%s = %d, want %d", #call, (int)e_, (int)(code));  \
    } while (0)

/* a kvidxError call answers NOT_SUPPORTED with "<name> not supported by this backend" */
#define NOT_SUPP(inst, call, name)                                             \
    do {                                                                       \
        kvidxClearError(inst);                                                 \
        ERR_IS(call, NS);                                                      \
        CHECK_EQ_INT(kvidxGetLastError(inst), NS);                             \
        CHECK_STR(kvidxGetLastErrorMessage(inst), name SUFFIX);                \
    } while (0)

/* ------------------------------------------------------------------ */
/* 1. NULL instance */

static void test_null_instance(void) {
    uint64_t u = 7, t = 7, c = 7, cnt = 7;
    const uint8_t *d = (const uint8_t *)"keep";
    size_t len = 7, ins = 7;
    bool b = true;
    void *vp = NULL;
    kvidxStats st;
    kvidxConfig cfg = kvidxConfigDefault();
    kvidxEntry e[1];
    const char *err = NULL;
    char path[4096];
    e[0].key = 1;
    e[0].term = 1;
    e[0].cmd = 1;
    e[0].data = "x";
    e[0].dataLen = 1;
    snprintf(path, sizeof path, "%s/null_instance.db", scratch);

    check_set_context("NULL instance");
    err = NULL;
    CK(!kvidxOpen(NULL, path, &err));
    CK(err != NULL && err[0] != '\0');
    CK(!kvidxOpen(NULL, path, NULL));
    CK(!kvidxOpen(NULL, NULL, NULL));
    err = NULL;
    CK(!kvidxOpenWithConfig(NULL, path, &cfg, &err));
    CHECK_STR(err, "Invalid arguments: instance and filename required");
    CK(!kvidxOpenWithConfig(NULL, path, NULL, NULL));
    CK(!path_exists(path));
    CK(!kvidxClose(NULL));
    CK(!kvidxFsync(NULL));
    CK(!kvidxBegin(NULL));
    CK(!kvidxCommit(NULL));
    CK(!kvidxAbort(NULL));
    CK(!kvidxGet(NULL, 1, &t, &c, &d, &len));
    CK(!kvidxGet(NULL, 1, NULL, NULL, NULL, NULL));
    CK(!kvidxGetPrev(NULL, 5, &u, &t, &c, &d, &len));
    CK(!kvidxGetPrev(NULL, 5, NULL, NULL, NULL, NULL, NULL));
    CK(!kvidxGetNext(NULL, 5, &u, &t, &c, &d, &len));
    CK(!kvidxGetNext(NULL, 5, NULL, NULL, NULL, NULL, NULL));
    CK(u == 7 && t == 7 && c == 7 && len == 7 && memcmp(d, "keep", 4) == 0);
    CK(!kvidxExists(NULL, 1));
    CK(!kvidxExistsDual(NULL, 1, 1));
    CK(!kvidxMaxKey(NULL, &u));
    CK(!kvidxMaxKey(NULL, NULL));
    CHECK_EQ_U64(u, 7);
    CK(!kvidxInsert(NULL, 1, 1, 1, "x", 1));
    CK(!kvidxInsert(NULL, 1, 1, 1, NULL, 0));
    CK(!kvidxInsert(NULL, 1, 1, 1, NULL, 5));
    CK(!kvidxRemove(NULL, 1));
    CK(!kvidxRemoveAfterNInclusive(NULL, 1));
    CK(!kvidxRemoveBeforeNInclusive(NULL, 1));
    CK(!kvidxApplyToStateMachine(NULL, 1));
    ins = 7;
    CK(!kvidxInsertBatch(NULL, e, 1, &ins));
    CHECK_EQ_U64(ins, 0);
    CK(!kvidxInsertBatch(NULL, e, 1, NULL));
    CK(!kvidxInsertBatch(NULL, NULL, 0, NULL));
    ins = 7;
    CK(!kvidxInsertBatchEx(NULL, e, 1, batch_cb, NULL, &ins));
    CHECK_EQ_U64(ins, 0);
    CK(!kvidxInsertBatchEx(NULL, NULL, 0, NULL, NULL, NULL));

    ERR_IS(kvidxGetStats(NULL, &st), INV);
    ERR_IS(kvidxGetStats(NULL, NULL), INV);
    ERR_IS(kvidxGetKeyCount(NULL, &cnt), INV);
    ERR_IS(kvidxGetKeyCount(NULL, NULL), INV);
    ERR_IS(kvidxGetMinKey(NULL, &u), INV);
    ERR_IS(kvidxGetMinKey(NULL, NULL), INV);
    ERR_IS(kvidxGetDataSize(NULL, &cnt), INV);
    ERR_IS(kvidxGetDataSize(NULL, NULL), INV);
    ERR_IS(kvidxRemoveRange(NULL, 0, 10, true, true, &cnt), INV);
    ERR_IS(kvidxRemoveRange(NULL, 0, 10, true, true, NULL), INV);
    ERR_IS(kvidxCountRange(NULL, 0, 10, &cnt), INV);
    ERR_IS(kvidxCountRange(NULL, 0, 10, NULL), INV);
    ERR_IS(kvidxExistsInRange(NULL, 0, 10, &b), INV);
    ERR_IS(kvidxExistsInRange(NULL, 0, 10, NULL), INV);
    CHECK_EQ_U64(cnt, 7);
    CHECK_EQ_U64(u, 7);

    ERR_IS(kvidxGetConfig(NULL, &cfg), INV);
    ERR_IS(kvidxGetConfig(NULL, NULL), INV);
    ERR_IS(kvidxUpdateConfig(NULL, &cfg), INV);
    ERR_IS(kvidxUpdateConfig(NULL, NULL), INV);

    {
        kvidxExportOptions eo = kvidxExportOptionsDefault();
        kvidxImportOptions io = kvidxImportOptionsDefault();
        ERR_IS(kvidxExport(NULL, path, &eo, progress_cb, NULL), INV);
        ERR_IS(kvidxExport(NULL, NULL, NULL, NULL, NULL), INV);
        ERR_IS(kvidxImport(NULL, path, &io, progress_cb, NULL), INV);
        ERR_IS(kvidxImport(NULL, NULL, NULL, NULL, NULL), INV);
        CK(!path_exists(path));
    }
    ERR_IS(kvidxInsertEx(NULL, 1, 1, 1, "x", 1, KVIDX_SET_ALWAYS), INV);
    ERR_IS(kvidxInsertEx(NULL, 1, 1, 1, NULL, 0, KVIDX_SET_IF_EXISTS), INV);
    ERR_IS(kvidxInsertNX(NULL, 1, 1, 1, "x", 1), INV);
    ERR_IS(kvidxInsertXX(NULL, 1, 1, 1, NULL, 0), INV);
    ERR_IS(kvidxGetAndSet(NULL, 1, 1, 1, "x", 1, &t, &c, &vp, &len), INV);
    ERR_IS(kvidxGetAndSet(NULL, 1, 1, 1, NULL, 0, NULL, NULL, NULL, NULL), INV);
    ERR_IS(kvidxGetAndRemove(NULL, 1, &t, &c, &vp, &len), INV);
    ERR_IS(kvidxGetAndRemove(NULL, 1, NULL, NULL, NULL, NULL), INV);
    ERR_IS(kvidxCompareAndSwap(NULL, 1, "x", 1, 1, 1, "y", 1, &b), INV);
    ERR_IS(kvidxCompareAndSwap(NULL, 1, NULL, 0, 1, 1, NULL, 0, NULL), INV);
    ERR_IS(kvidxCompareTermAndSwap(NULL, 1, 1, 2, 2, "y", 1, &b), INV);
    ERR_IS(kvidxCompareTermAndSwap(NULL, 1, 1, 2, 2, NULL, 0, NULL), INV);
    ERR_IS(kvidxAppend(NULL, 1, 1, 1, "x", 1, &len), INV);
    ERR_IS(kvidxAppend(NULL, 1, 1, 1, NULL, 0, NULL), INV);
    ERR_IS(kvidxPrepend(NULL, 1, 1, 1, "x", 1, &len), INV);
    ERR_IS(kvidxPrepend(NULL, 1, 1, 1, NULL, 0, NULL), INV);
    ERR_IS(kvidxGetValueRange(NULL, 1, 0, 0, &vp, &len), INV);
    ERR_IS(kvidxGetValueRange(NULL, 1, 0, 0, NULL, NULL), INV);
    ERR_IS(kvidxSetValueRange(NULL, 1, 0, "x", 1, &len), INV);
    ERR_IS(kvidxSetValueRange(NULL, 1, 0, NULL, 0, NULL), INV);
    ERR_IS(kvidxSetExpire(NULL, 1, 1000), INV);
    ERR_IS(kvidxSetExpireAt(NULL, 1, 1000), INV);
    CHECK_EQ_INT(kvidxGetTTL(NULL, 1), -2);
    CHECK_EQ_INT(kvidxGetTTL(NULL, 1), KVIDX_TTL_NOT_FOUND);
    ERR_IS(kvidxPersist(NULL, 1), INV);
    ERR_IS(kvidxExpireScan(NULL, 0, &cnt), INV);
    ERR_IS(kvidxExpireScan(NULL, 10, NULL), INV);

    /* error helpers */
    CHECK_EQ_INT(kvidxGetLastError(NULL), INV);
    CK(kvidxGetLastErrorMessage(NULL) != NULL && strstr(kvidxGetLastErrorMessage(NULL), "NULL") != NULL);
    kvidxClearError(NULL);
    kvidxSetError(NULL, KVIDX_ERROR_IO, NULL);
    kvidxSetError(NULL, KVIDX_ERROR_IO, "message %d", 5);
    CHECK_EQ_INT(kvidxGetLastError(NULL), INV); /* still the NULL answer */

    /* iterator */
    CK(kvidxIteratorCreate(NULL, 0, UINT64_MAX, KVIDX_ITER_FORWARD) == NULL);
    CK(kvidxIteratorCreate(NULL, 5, 1, KVIDX_ITER_BACKWARD) == NULL);
    CK(!kvidxIteratorNext(NULL));
    CK(!kvidxIteratorGet(NULL, &u, &t, &c, &d, &len));
    CK(!kvidxIteratorGet(NULL, NULL, NULL, NULL, NULL, NULL));
    CHECK_EQ_U64(u, 7);
    CHECK_EQ_U64(kvidxIteratorKey(NULL), 0);
    CK(!kvidxIteratorValid(NULL));
    CK(!kvidxIteratorSeek(NULL, 3));
    kvidxIteratorDestroy(NULL);

    /* registry */
    CK(kvidxGetAdapterByName(NULL) == NULL);
    CK(!kvidxHasAdapter(NULL));
    CK(kvidxGetAdapterByIndex(kvidxGetAdapterCount()) == NULL);

    /* functions without pointer arguments */
    CHECK_STR(kvidxErrorString((kvidxError)9999), "Unknown error");
    CHECK_STR(kvidxErrorString((kvidxError)-1), "Unknown error");
    CHECK_STR(kvidxErrorString(KVIDX_ERROR_INVALID_ARGUMENT), "Invalid argument");
    CHECK_STR(kvidxErrorString(KVIDX_ERROR_NOT_SUPPORTED), "Operation not supported");
    CHECK_STR(kvidxErrorString(KVIDX_ERROR_CONDITION_FAILED), "Condition not met");
    CHECK_STR(kvidxErrorString(KVIDX_ERROR_EXPIRED), "Key expired");
    {
        kvidxExportOptions eo = kvidxExportOptionsDefault();
        kvidxImportOptions io = kvidxImportOptionsDefault();
        CHECK_EQ_INT(eo.format, KVIDX_EXPORT_BINARY);
        CHECK_EQ_U64(eo.startKey, 0);
        CHECK_EQ_U64(eo.endKey, UINT64_MAX);
        CK(eo.includeMetadata == true && eo.prettyPrint == false);
        CHECK_EQ_INT(io.format, KVIDX_EXPORT_BINARY);
        CK(io.validateData == true && io.skipDuplicates == false && io.clearBeforeImport == false);
    }
}

/* ------------------------------------------------------------------ */
/* 2. an instance that is not open (built-in engine) */

static void test_unopened(void) {
    kvidxInstance inst;
    uint64_t u = 7, t = 7, c = 7, cnt = 7;
    const uint8_t *d = (const uint8_t *)"keep";
    size_t len = 7, ins = 7;
    bool b = true;
    void *vp = NULL;
    kvidxStats st;
    kvidxConfig cfg = kvidxConfigDefault();
    kvidxEntry e[1];
    const char *err = NULL;
    char path[4096], expf[4096];
    kvidxIterator *it;

    e[0].key = 1;
    e[0].term = 1;
    e[0].cmd = 1;
    e[0].data = "x";
    e[0].dataLen = 1;
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    snprintf(path, sizeof path, "%s/unopened_%u%s", scratch, db_counter++, ad->pathSuffix);
    snprintf(expf, sizeof expf, "%s/unopened_%u.export", scratch, db_counter++);

    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_OK);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Success");
    BOOL_FAILS(&inst, kvidxClose(&inst), INV);
    BOOL_FAILS(&inst, kvidxFsync(&inst), INV);
    BOOL_FAILS(&inst, kvidxBegin(&inst), INV);
    /* Commit/Abort: not open, and no transaction either: either answer is right */
    kvidxClearError(&inst);
    CK(!kvidxCommit(&inst));
    CK(kvidxGetLastError(&inst) == INV || kvidxGetLastError(&inst) == KVIDX_ERROR_NO_TRANSACTION);
    kvidxClearError(&inst);
    CK(!kvidxAbort(&inst));
    CK(kvidxGetLastError(&inst) == INV || kvidxGetLastError(&inst) == KVIDX_ERROR_NO_TRANSACTION);
    BOOL_FAILS(&inst, kvidxGet(&inst, 1, &t, &c, &d, &len), INV);
    BOOL_FAILS(&inst, kvidxGet(&inst, 1, NULL, NULL, NULL, NULL), INV);
    BOOL_FAILS(&inst, kvidxGetPrev(&inst, 5, &u, &t, &c, &d, &len), INV);
    BOOL_FAILS(&inst, kvidxGetNext(&inst, 5, &u, &t, &c, &d, &len), INV);
    BOOL_FAILS(&inst, kvidxGetNext(&inst, 5, NULL, NULL, NULL, NULL, NULL), INV);
    CK(u == 7 && t == 7 && c == 7 && len == 7 && memcmp(d, "keep", 4) == 0);
    BOOL_FAILS(&inst, kvidxExists(&inst, 1), INV);
    BOOL_FAILS(&inst, kvidxExistsDual(&inst, 1, 1), INV);
    BOOL_FAILS(&inst, kvidxMaxKey(&inst, &u), INV);
    BOOL_FAILS(&inst, kvidxMaxKey(&inst, NULL), INV);
    CHECK_EQ_U64(u, 7);
    BOOL_FAILS(&inst, kvidxInsert(&inst, 1, 1, 1, "x", 1), INV);
    BOOL_FAILS(&inst, kvidxInsert(&inst, 1, 1, 1, NULL, 5), INV);
    BOOL_FAILS(&inst, kvidxRemove(&inst, 1), INV);
    BOOL_FAILS(&inst, kvidxRemoveAfterNInclusive(&inst, 1), INV);
    BOOL_FAILS(&inst, kvidxRemoveBeforeNInclusive(&inst, 1), INV);
    CK(!kvidxApplyToStateMachine(&inst, 1)); /* state callback NULL */
    ins = 7;
    CK(!kvidxInsertBatch(&inst, e, 1, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 7;
    CK(!kvidxInsertBatch(&inst, NULL, 1, &ins));
    CHECK_EQ_U64(ins, 0);
    CK(!kvidxInsertBatchEx(&inst, e, 1, batch_cb, NULL, NULL));

    ERR_IS(kvidxGetStats(&inst, &st), INV);
    ERR_IS(kvidxGetStats(&inst, NULL), INV);
    ERR_IS(kvidxGetKeyCount(&inst, &cnt), INV);
    ERR_IS(kvidxGetKeyCount(&inst, NULL), INV);
    ERR_IS(kvidxGetMinKey(&inst, &u), INV);
    ERR_IS(kvidxGetMinKey(&inst, NULL), INV);
    ERR_IS(kvidxGetDataSize(&inst, &cnt), INV);
    ERR_IS(kvidxGetDataSize(&inst, NULL), INV);
    ERR_IS(kvidxRemoveRange(&inst, 0, 10, true, false, &cnt), INV);
    ERR_IS(kvidxRemoveRange(&inst, 0, 10, false, true, NULL), INV);
    ERR_IS(kvidxCountRange(&inst, 0, 10, &cnt), INV);
    ERR_IS(kvidxCountRange(&inst, 0, 10, NULL), INV);
    ERR_IS(kvidxExistsInRange(&inst, 0, 10, &b), INV);
    ERR_IS(kvidxExistsInRange(&inst, 0, 10, NULL), INV);
    CHECK_EQ_U64(u, 7);
    CHECK_EQ_INT(kvidxGetLastError(&inst), INV);

    ERR_IS(kvidxGetConfig(&inst, NULL), INV);
    ERR_IS(kvidxUpdateConfig(&inst, NULL), INV);
    ERR_IS(kvidxUpdateConfig(&inst, &cfg), INV);
    ERR_IS(kvidxGetConfig(&inst, &cfg), KVIDX_OK);

    {
        kvidxExportOptions eo = kvidxExportOptionsDefault();
        kvidxImportOptions io = kvidxImportOptionsDefault();
        ERR_IS(kvidxExport(&inst, NULL, &eo, NULL, NULL), INV);
        ERR_IS(kvidxExport(&inst, NULL, NULL, progress_cb, NULL), INV);
        ERR_IS(kvidxImport(&inst, NULL, &io, NULL, NULL), INV);
        ERR_IS(kvidxImport(&inst, NULL, NULL, progress_cb, NULL), INV);
        /* with a filename the answer depends on engine support; never success */
        CK(kvidxExport(&inst, expf, &eo, NULL, NULL) != KVIDX_OK);
        CK(kvidxImport(&inst, expf, &io, NULL, NULL) != KVIDX_OK);
        CK(!path_exists(expf));
    }
    ERR_IS(kvidxInsertEx(&inst, 1, 1, 1, "x", 1, KVIDX_SET_ALWAYS), INV);
    ERR_IS(kvidxInsertEx(&inst, 1, 1, 1, "x", 1, (kvidxSetCondition)7), INV);
    ERR_IS(kvidxInsertEx(&inst, 1, 1, 1, NULL, 3, KVIDX_SET_ALWAYS), INV);
    ERR_IS(kvidxInsertNX(&inst, 1, 1, 1, "x", 1), INV);
    ERR_IS(kvidxInsertXX(&inst, 1, 1, 1, "x", 1), INV);
    ERR_IS(kvidxGetAndSet(&inst, 1, 1, 1, "x", 1, &t, &c, &vp, &len), INV);
    ERR_IS(kvidxGetAndSet(&inst, 1, 1, 1, NULL, 2, NULL, NULL, NULL, NULL), INV);
    ERR_IS(kvidxGetAndRemove(&inst, 1, &t, &c, &vp, &len), INV);
    ERR_IS(kvidxCompareAndSwap(&inst, 1, "x", 1, 1, 1, "y", 1, &b), INV);
    ERR_IS(kvidxCompareAndSwap(&inst, 1, "x", 1, 1, 1, "y", 1, NULL), INV);
    ERR_IS(kvidxCompareTermAndSwap(&inst, 1, 1, 2, 2, "y", 1, &b), INV);
    ERR_IS(kvidxCompareTermAndSwap(&inst, 1, 1, 2, 2, "y", 1, NULL), INV);
    ERR_IS(kvidxAppend(&inst, 1, 1, 1, "x", 1, &len), INV);
    ERR_IS(kvidxPrepend(&inst, 1, 1, 1, "x", 1, NULL), INV);
    ERR_IS(kvidxGetValueRange(&inst, 1, 0, 0, &vp, &len), INV);
    ERR_IS(kvidxSetValueRange(&inst, 1, 0, "x", 1, &len), INV);
    ERR_IS(kvidxSetExpire(&inst, 1, 1000), INV);
    ERR_IS(kvidxSetExpireAt(&inst, 1, 1000), INV);
    CK(kvidxGetTTL(&inst, 1) < 0);
    ERR_IS(kvidxPersist(&inst, 1), INV);
    ERR_IS(kvidxExpireScan(&inst, 0, &cnt), INV);
    ERR_IS(kvidxExpireScan(&inst, 0, NULL), INV);

    /* iterator on an unopened instance */
    it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorValid(it));
    CK(!kvidxIteratorSeek(it, 1));
    CK(!kvidxIteratorGet(it, NULL, NULL, NULL, NULL, NULL));
    kvidxIteratorDestroy(it);
    it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_BACKWARD);
    CK(!kvidxIteratorNext(it));
    kvidxIteratorDestroy(it);

    /* Open with a NULL filename */
    err = NULL;
    kvidxClearError(&inst);
    CK(!kvidxOpen(&inst, NULL, &err));
    CK(err != NULL && err[0] != '\0');
    CHECK_EQ_INT(kvidxGetLastError(&inst), INV);
    CK(!kvidxOpen(&inst, NULL, NULL));
    err = NULL;
    CK(!kvidxOpenWithConfig(&inst, NULL, NULL, &err));
    CHECK_STR(err, "Invalid arguments: instance and filename required");
    CK(inst.kvidxdata == NULL);

    /* errors are sticky; SetError/ClearError */
    kvidxSetError(&inst, KVIDX_ERROR_IO, NULL);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_IO);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "I/O error");
    kvidxSetError(&inst, KVIDX_ERROR_CORRUPT, "custom %s %d", "text", 42);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "custom text 42");
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_OK);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Success");

    /* after all that abuse the same struct opens normally (err optional) */
    CHECK(kvidxOpen(&inst, path, NULL), "open %s", path);
    CK(kvidxInsert(&inst, 1, 2, 3, "abc", 3));
    CK(kvidxExists(&inst, 1));
    CK(kvidxClose(&inst));
    BOOL_FAILS(&inst, kvidxClose(&inst), INV); /* closed again: not open */
    BOOL_FAILS(&inst, kvidxExists(&inst, 1), INV);
}

/* ------------------------------------------------------------------ */
/* 3. an open instance: NULL for each pointer argument in turn */

static void test_open_null_args(void) {
    kvidxInstance inst;
    uint64_t u, t, c, cnt;
    const uint8_t *d;
    size_t len, ins;
    bool b;
    void *vp;
    kvidxStats st;
    kvidxEntry e[3];
    const char *err = NULL;
    char path[4096];
    kvidxIterator *it;

    snprintf(path, sizeof path, "%s/open_null_%u%s", scratch, db_counter++, ad->pathSuffix);
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    CHECK(kvidxOpen(&inst, path, &err), "open: %s", err ? err : "");
    CK(kvidxInsert(&inst, 10, 100, 1000, "ten", 3));
    CK(kvidxInsert(&inst, 20, 200, 2000, "twenty", 6));
    CK(kvidxInsert(&inst, 30, 300, 3000, NULL, 0));

    /* Get: every subset of NULL outs */
    for (int mask = 0; mask < 16; mask++) {
        t = c = 0;
        d = NULL;
        len = 0;
        CHECK(kvidxGet(&inst, 20, (mask & 1) ? &t : NULL, (mask & 2) ? &c : NULL,
                       (mask & 4) ? &d : NULL, (mask & 8) ? &len : NULL),
              "Get mask %d", mask);
        if (mask & 1) CHECK_EQ_U64(t, 200);
        if (mask & 2) CHECK_EQ_U64(c, 2000);
        if (mask & 4) CK(d != NULL && memcmp(d, "twenty", 6) == 0);
        if (mask & 8) CHECK_EQ_U64(len, 6);
    }
    /* empty value: both written */
    d = (const uint8_t *)"junk";
    len = 99;
    CK(kvidxGet(&inst, 30, NULL, NULL, &d, &len));
    CK(d == NULL);
    CHECK_EQ_U64(len, 0);
    len = 99;
    CK(kvidxGet(&inst, 30, NULL, NULL, NULL, &len));
    CHECK_EQ_U64(len, 0);
    /* GetNext / GetPrev with NULL outs in turn */
    for (int mask = 0; mask < 32; mask++) {
        u = t = c = 0;
        d = NULL;
        len = 0;
        CHECK(kvidxGetNext(&inst, 10, (mask & 1) ? &u : NULL, (mask & 2) ? &t : NULL,
                           (mask & 4) ? &c : NULL, (mask & 8) ? &d : NULL, (mask & 16) ? &len : NULL),
              "GetNext mask %d", mask);
        if (mask & 1) CHECK_EQ_U64(u, 20);
        if (mask & 2) CHECK_EQ_U64(t, 200);
        if (mask & 4) CHECK_EQ_U64(c, 2000);
        if (mask & 8) CK(d != NULL && memcmp(d, "twenty", 6) == 0);
        if (mask & 16) CHECK_EQ_U64(len, 6);
        u = t = 0;
        d = NULL;
        CHECK(kvidxGetPrev(&inst, 20, (mask & 1) ? &u : NULL, (mask & 2) ? &t : NULL,
                           (mask & 4) ? &c : NULL, (mask & 8) ? &d : NULL, (mask & 16) ? &len : NULL),
              "GetPrev mask %d", mask);
        if (mask & 1) CHECK_EQ_U64(u, 10);
        if (mask & 2) CHECK_EQ_U64(t, 100);
        if (mask & 8) CK(d != NULL && memcmp(d, "ten", 3) == 0);
        if (mask & 16) CHECK_EQ_U64(len, 3);
    }
    CK(kvidxMaxKey(&inst, NULL));

    /* Insert: data NULL with a length is rejected, NULL with 0 is an empty value */
    BOOL_FAILS(&inst, kvidxInsert(&inst, 40, 1, 1, NULL, 5), INV);
    CK(!kvidxExists(&inst, 40));
    CK(kvidxInsert(&inst, 40, 1, 1, NULL, 0));
    CK(kvidxGet(&inst, 40, NULL, NULL, NULL, &len) && len == 0);
    CK(kvidxRemove(&inst, 40));

    /* batches */
    e[0].key = 50; e[0].term = 5; e[0].cmd = 5; e[0].data = "a"; e[0].dataLen = 1;
    e[1].key = 51; e[1].term = 5; e[1].cmd = 5; e[1].data = NULL; e[1].dataLen = 4;
    e[2].key = 52; e[2].term = 5; e[2].cmd = 5; e[2].data = "c"; e[2].dataLen = 1;
    ins = 7;
    CK(!kvidxInsertBatch(&inst, NULL, 3, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 7;
    CK(!kvidxInsertBatch(&inst, NULL, 0, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 7;
    CK(kvidxInsertBatch(&inst, e, 0, &ins));
    CHECK_EQ_U64(ins, 0);
    ins = 7;
    CK(!kvidxInsertBatch(&inst, e, 3, &ins)); /* stops at the NULL-data entry */
    CHECK_EQ_U64(ins, 1);
    CK(kvidxExists(&inst, 50) && !kvidxExists(&inst, 51) && !kvidxExists(&inst, 52));
    e[0].key = 53;
    CK(kvidxInsertBatch(&inst, e, 1, NULL));
    CK(kvidxExists(&inst, 53));
    e[0].key = 54;
    CK(kvidxInsertBatchEx(&inst, e, 1, NULL, NULL, NULL));
    e[0].key = 55;
    CK(kvidxInsertBatchEx(&inst, e, 1, batch_cb, NULL, NULL));
    CK(kvidxExists(&inst, 54) && kvidxExists(&inst, 55));
    CK(kvidxRemoveRange(&inst, 50, 55, true, true, NULL) == KVIDX_OK);
    CK(!kvidxExists(&inst, 53));

    /* statistics and ranges: required outs */
    ERR_IS(kvidxGetStats(&inst, NULL), INV);
    ERR_IS(kvidxGetKeyCount(&inst, NULL), INV);
    ERR_IS(kvidxGetMinKey(&inst, NULL), INV);
    ERR_IS(kvidxGetDataSize(&inst, NULL), INV);
    ERR_IS(kvidxCountRange(&inst, 0, 100, NULL), INV);
    ERR_IS(kvidxExistsInRange(&inst, 0, 100, NULL), INV);
    ERR_IS(kvidxGetStats(&inst, &st), KVIDX_OK);
    ERR_IS(kvidxRemoveRange(&inst, 1000, 2000, true, true, NULL), KVIDX_OK); /* count optional */
    ERR_IS(kvidxCountRange(&inst, 0, 100, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 3);
    ERR_IS(kvidxExistsInRange(&inst, 0, 100, &b), KVIDX_OK);
    CK(b);
    ERR_IS(kvidxGetConfig(&inst, NULL), INV);
    ERR_IS(kvidxUpdateConfig(&inst, NULL), INV);

    /* storage primitives: argument checks only */
    ERR_IS(kvidxInsertEx(&inst, 60, 1, 1, NULL, 4, KVIDX_SET_ALWAYS), INV);
    ERR_IS(kvidxInsertEx(&inst, 60, 1, 1, "x", 1, (kvidxSetCondition)7), INV);
    ERR_IS(kvidxInsertEx(&inst, 60, 1, 1, "x", 1, (kvidxSetCondition)3), INV);
    ERR_IS(kvidxInsertEx(&inst, 60, 1, 1, "x", 1, (kvidxSetCondition)-1), INV);
    ERR_IS(kvidxInsertEx(&inst, 10, 1, 1, "x", 1, (kvidxSetCondition)7), INV);
    ERR_IS(kvidxInsertNX(&inst, 60, 1, 1, NULL, 4), INV);
    ERR_IS(kvidxInsertXX(&inst, 10, 1, 1, NULL, 4), INV);
    ERR_IS(kvidxGetAndSet(&inst, 10, 1, 1, NULL, 4, NULL, NULL, NULL, NULL), INV);
    ERR_IS(kvidxCompareAndSwap(&inst, 10, "ten", 3, 1, 1, "new", 3, NULL), INV);
    ERR_IS(kvidxCompareAndSwap(&inst, 10, "ten", 3, 1, 1, NULL, 3, &b), INV);
    ERR_IS(kvidxCompareTermAndSwap(&inst, 10, 100, 1, 1, "new", 3, NULL), INV);
    ERR_IS(kvidxCompareTermAndSwap(&inst, 10, 100, 1, 1, NULL, 3, &b), INV);
    ERR_IS(kvidxAppend(&inst, 10, 1, 1, NULL, 4, &len), INV);
    ERR_IS(kvidxAppend(&inst, 60, 1, 1, NULL, 4, NULL), INV);
    ERR_IS(kvidxPrepend(&inst, 10, 1, 1, NULL, 4, &len), INV);
    ERR_IS(kvidxSetValueRange(&inst, 10, 0, NULL, 4, &len), INV);
    ERR_IS(kvidxSetValueRange(&inst, 10, 1, NULL, 2, NULL), INV);
    {
        kvidxExportOptions eo = kvidxExportOptionsDefault();
        kvidxImportOptions io = kvidxImportOptionsDefault();
        ERR_IS(kvidxExport(&inst, NULL, &eo, progress_cb, NULL), INV);
        ERR_IS(kvidxExport(&inst, NULL, NULL, NULL, NULL), INV);
        ERR_IS(kvidxImport(&inst, NULL, &io, progress_cb, NULL), INV);
        ERR_IS(kvidxImport(&inst, NULL, NULL, NULL, NULL), INV);
    }
    /* nothing changed */
    t = c = 0;
    d = NULL;
    len = 0;
    CK(kvidxGet(&inst, 10, &t, &c, &d, &len));
    CK(t == 100 && c == 1000 && len == 3 && memcmp(d, "ten", 3) == 0);
    CK(!kvidxExists(&inst, 60));
    ERR_IS(kvidxGetKeyCount(&inst, &cnt), KVIDX_OK);
    CHECK_EQ_U64(cnt, 3);
    vp = NULL;
    (void)vp;

    /* the state-machine callback is NULL */
    CK(!kvidxApplyToStateMachine(&inst, 10));

    /* iterator with NULL outs */
    it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
    CK(kvidxIteratorNext(it));
    CK(kvidxIteratorGet(it, NULL, NULL, NULL, NULL, NULL));
    u = 0;
    CK(kvidxIteratorGet(it, &u, NULL, NULL, NULL, NULL) && u == 10);
    len = 0;
    CK(kvidxIteratorGet(it, NULL, NULL, NULL, NULL, &len) && len == 3);
    kvidxIteratorDestroy(it);

    /* Open / OpenWithConfig with NULL on an open instance */
    err = NULL;
    CK(!kvidxOpen(&inst, NULL, &err));
    CK(err != NULL && err[0] != '\0');
    CK(!kvidxOpen(&inst, path, NULL));
    err = NULL;
    CK(!kvidxOpenWithConfig(&inst, NULL, NULL, &err));
    CHECK_STR(err, "Invalid arguments: instance and filename required");
    CK(kvidxExists(&inst, 10)); /* still open and usable */

    CK(kvidxClose(&inst));
}

/* ------------------------------------------------------------------ */
/* 4. single NULL members on an open built-in instance */

#define WITHOUT(member, ...)                                                   \
    do {                                                                       \
        kvidxInterface saved_ = inst.interface;                                \
        inst.interface.member = NULL;                                          \
        kvidxClearError(&inst);                                                \
        __VA_ARGS__;                                                           \
        inst.interface = saved_;                                               \
    } while (0)

/* a bool function answers false with NOT_SUPPORTED */
#define BOOL_NS(call, name)                                                    \
    do {                                                                       \
        kvidxClearError(&inst);                                                \
        CHECK(!(call), "%s returned true", #call);                             \
        CHECK_EQ_INT(kvidxGetLastError(&inst), NS);                            \
        CHECK_STR(kvidxGetLastErrorMessage(&inst), name SUFFIX);               \
    } while (0)

static void test_null_members(void) {
    kvidxInstance inst;
    uint64_t u, cnt;
    size_t len;
    bool b = false;
    void *vp = NULL;
    kvidxStats st;
    kvidxEntry e[1];
    char path[4096], expf[4096];
    const char *err = NULL;
    kvidxIterator *it;

    snprintf(path, sizeof path, "%s/members_%u%s", scratch, db_counter++, ad->pathSuffix);
    snprintf(expf, sizeof expf, "%s/members_%u.export", scratch, db_counter++);
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    CHECK(kvidxOpen(&inst, path, &err), "open: %s", err ? err : "");
    CK(kvidxInsert(&inst, 1, 1, 1, "one", 3));
    CK(kvidxInsert(&inst, 2, 2, 2, "two", 3));
    e[0].key = 3; e[0].term = 3; e[0].cmd = 3; e[0].data = "c"; e[0].dataLen = 1;

    WITHOUT(get, BOOL_NS(kvidxGet(&inst, 1, NULL, NULL, NULL, NULL), "Get"));
    WITHOUT(getNext, BOOL_NS(kvidxGetNext(&inst, 1, &u, NULL, NULL, NULL, NULL), "GetNext"));
    WITHOUT(getPrev, BOOL_NS(kvidxGetPrev(&inst, 2, &u, NULL, NULL, NULL, NULL), "GetPrev"));
    WITHOUT(exists, BOOL_NS(kvidxExists(&inst, 1), "Exists"));
    WITHOUT(existsDual, BOOL_NS(kvidxExistsDual(&inst, 1, 1), "ExistsDual"));
    WITHOUT(maxKey, BOOL_NS(kvidxMaxKey(&inst, &u), "MaxKey"));
    WITHOUT(insert, BOOL_NS(kvidxInsert(&inst, 9, 9, 9, "n", 1), "Insert"));
    CK(!kvidxExists(&inst, 9));
    WITHOUT(remove, BOOL_NS(kvidxRemove(&inst, 1), "Remove"));
    WITHOUT(removeAfterNInclusive, BOOL_NS(kvidxRemoveAfterNInclusive(&inst, 0), "RemoveAfterNInclusive"));
    WITHOUT(removeBeforeNInclusive,
            BOOL_NS(kvidxRemoveBeforeNInclusive(&inst, 10), "RemoveBeforeNInclusive"));
    CK(kvidxExists(&inst, 1) && kvidxExists(&inst, 2));
    WITHOUT(fsync, BOOL_NS(kvidxFsync(&inst), "Fsync"));
    WITHOUT(begin, BOOL_NS(kvidxBegin(&inst), "Begin"));
    WITHOUT(begin, CK(!kvidxInsertBatch(&inst, e, 1, &len)); CHECK_EQ_U64(len, 0));
    CK(!kvidxExists(&inst, 3));
    CK(kvidxBegin(&inst));
    WITHOUT(commit, BOOL_NS(kvidxCommit(&inst), "Commit"));
    WITHOUT(abort, BOOL_NS(kvidxAbort(&inst), "Abort")); /* a transaction is open */
    CK(kvidxAbort(&inst));
    WITHOUT(close, BOOL_NS(kvidxClose(&inst), "Close"));

    WITHOUT(getStats, NOT_SUPP(&inst, kvidxGetStats(&inst, &st), "GetStats");
            ERR_IS(kvidxGetStats(&inst, NULL), INV));
    WITHOUT(getKeyCount, NOT_SUPP(&inst, kvidxGetKeyCount(&inst, &cnt), "GetKeyCount");
            ERR_IS(kvidxGetKeyCount(&inst, NULL), INV));
    WITHOUT(getMinKey, NOT_SUPP(&inst, kvidxGetMinKey(&inst, &u), "GetMinKey");
            ERR_IS(kvidxGetMinKey(&inst, NULL), INV));
    WITHOUT(getDataSize, NOT_SUPP(&inst, kvidxGetDataSize(&inst, &cnt), "GetDataSize");
            ERR_IS(kvidxGetDataSize(&inst, NULL), INV));
    WITHOUT(removeRange, NOT_SUPP(&inst, kvidxRemoveRange(&inst, 0, 10, true, true, &cnt), "RemoveRange");
            NOT_SUPP(&inst, kvidxRemoveRange(&inst, 0, 10, true, true, NULL), "RemoveRange"));
    WITHOUT(countRange, NOT_SUPP(&inst, kvidxCountRange(&inst, 0, 10, &cnt), "CountRange");
            ERR_IS(kvidxCountRange(&inst, 0, 10, NULL), INV));
    WITHOUT(existsInRange, NOT_SUPP(&inst, kvidxExistsInRange(&inst, 0, 10, &b), "ExistsInRange");
            ERR_IS(kvidxExistsInRange(&inst, 0, 10, NULL), INV));
    WITHOUT(exportData, NOT_SUPP(&inst, kvidxExport(&inst, expf, NULL, NULL, NULL), "Export");
            ERR_IS(kvidxExport(&inst, NULL, NULL, NULL, NULL), INV));
    CK(!path_exists(expf));
    WITHOUT(importData, NOT_SUPP(&inst, kvidxImport(&inst, expf, NULL, NULL, NULL), "Import");
            ERR_IS(kvidxImport(&inst, NULL, NULL, NULL, NULL), INV));
    WITHOUT(insertEx, NOT_SUPP(&inst, kvidxInsertEx(&inst, 9, 9, 9, "n", 1, KVIDX_SET_ALWAYS), "InsertEx");
            ERR_IS(kvidxInsertEx(&inst, 9, 9, 9, "n", 1, (kvidxSetCondition)7), INV);
            ERR_IS(kvidxInsertEx(&inst, 9, 9, 9, NULL, 1, KVIDX_SET_ALWAYS), INV);
            kvidxClearError(&inst);
            ERR_IS(kvidxInsertNX(&inst, 9, 9, 9, "n", 1), NS);
            CK(ends_with(kvidxGetLastErrorMessage(&inst), SUFFIX));
            kvidxClearError(&inst);
            ERR_IS(kvidxInsertXX(&inst, 1, 9, 9, "n", 1), NS);
            CK(ends_with(kvidxGetLastErrorMessage(&inst), SUFFIX)));
    WITHOUT(getAndSet, NOT_SUPP(&inst, kvidxGetAndSet(&inst, 1, 9, 9, "n", 1, NULL, NULL, &vp, &len), "GetAndSet"));
    WITHOUT(getAndRemove, NOT_SUPP(&inst, kvidxGetAndRemove(&inst, 1, NULL, NULL, &vp, &len), "GetAndRemove"));
    WITHOUT(compareAndSwap, NOT_SUPP(&inst, kvidxCompareAndSwap(&inst, 1, "one", 3, 9, 9, "n", 1, &b), "CompareAndSwap");
            ERR_IS(kvidxCompareAndSwap(&inst, 1, "one", 3, 9, 9, "n", 1, NULL), INV);
            kvidxClearError(&inst);
            ERR_IS(kvidxCompareTermAndSwap(&inst, 1, 1, 9, 9, "n", 1, &b), NS);
            CK(ends_with(kvidxGetLastErrorMessage(&inst), SUFFIX));
            ERR_IS(kvidxCompareTermAndSwap(&inst, 1, 1, 9, 9, "n", 1, NULL), INV));
    WITHOUT(append, NOT_SUPP(&inst, kvidxAppend(&inst, 1, 9, 9, "n", 1, &len), "Append"));
    WITHOUT(prepend, NOT_SUPP(&inst, kvidxPrepend(&inst, 1, 9, 9, "n", 1, &len), "Prepend"));
    WITHOUT(getValueRange, NOT_SUPP(&inst, kvidxGetValueRange(&inst, 1, 0, 0, &vp, &len), "GetValueRange"));
    WITHOUT(setValueRange, NOT_SUPP(&inst, kvidxSetValueRange(&inst, 1, 0, "n", 1, &len), "SetValueRange"));
    WITHOUT(setExpire, NOT_SUPP(&inst, kvidxSetExpire(&inst, 1, 100000), "SetExpire"));
    WITHOUT(setExpireAt, NOT_SUPP(&inst, kvidxSetExpireAt(&inst, 1, 100000), "SetExpireAt"));
    /* emulated fallbacks */
    WITHOUT(getTTL, CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NONE);
            CHECK_EQ_INT(kvidxGetTTL(&inst, 99), KVIDX_TTL_NOT_FOUND));
    WITHOUT(persist, ERR_IS(kvidxPersist(&inst, 1), KVIDX_OK);
            ERR_IS(kvidxPersist(&inst, 99), KVIDX_ERROR_NOT_FOUND));
    WITHOUT(expireScan, cnt = 7; ERR_IS(kvidxExpireScan(&inst, 0, &cnt), KVIDX_OK); CHECK_EQ_U64(cnt, 0);
            ERR_IS(kvidxExpireScan(&inst, 5, NULL), KVIDX_OK));
    CK(kvidxExists(&inst, 1) && kvidxExists(&inst, 2) && !kvidxExists(&inst, 9));
    {
        const uint8_t *d = NULL;
        len = 0;
        CK(kvidxGet(&inst, 1, NULL, NULL, &d, &len) && len == 3 && memcmp(d, "one", 3) == 0);
    }

    /* the iterator through missing members */
    WITHOUT(getNext, it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
            CK(it != NULL); kvidxIteratorNext(it); CK(!kvidxIteratorNext(it));
            kvidxIteratorDestroy(it));
    WITHOUT(getPrev, it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_BACKWARD);
            CK(it != NULL); kvidxIteratorNext(it); CK(!kvidxIteratorNext(it));
            kvidxIteratorDestroy(it));
    WITHOUT(get, it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
            CK(it != NULL); kvidxIteratorSeek(it, 1); kvidxIteratorNext(it);
            kvidxIteratorNext(it); kvidxIteratorNext(it); CK(!kvidxIteratorNext(it));
            kvidxIteratorDestroy(it));
    WITHOUT(maxKey, it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_BACKWARD);
            CK(it != NULL); kvidxIteratorNext(it); kvidxIteratorNext(it); kvidxIteratorNext(it);
            CK(!kvidxIteratorNext(it)); kvidxIteratorDestroy(it));

    CK(kvidxClose(&inst));

    /* open member missing on a closed instance */
    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    inst.interface.open = NULL;
    err = NULL;
    CK(!kvidxOpen(&inst, path, &err));
    CK(err != NULL && ends_with(err, SUFFIX));
    CHECK_EQ_INT(kvidxGetLastError(&inst), NS);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Open" SUFFIX);
    CK(inst.kvidxdata == NULL);
    err = NULL;
    CK(!kvidxOpenWithConfig(&inst, path, NULL, &err));
    CK(err != NULL && err[0] != '\0');
    CK(inst.kvidxdata == NULL);
}

/* ------------------------------------------------------------------ */
/* 5. an instance whose interface is all NULL */

static void test_all_null_interface(void) {
    kvidxInstance inst;
    uint64_t u = 7, t = 7, c = 7, cnt = 7;
    const uint8_t *d = NULL;
    size_t len = 7, ins = 7;
    bool b = false;
    void *vp = NULL;
    kvidxStats st;
    kvidxConfig cfg;
    kvidxEntry e[1];
    const char *err = NULL;
    char path[4096];
    kvidxIterator *it;

    check_set_context("all-NULL interface");
    memset(&inst, 0, sizeof inst);
    snprintf(path, sizeof path, "%s/allnull.db", scratch);
    e[0].key = 1; e[0].term = 1; e[0].cmd = 1; e[0].data = "x"; e[0].dataLen = 1;

    err = NULL;
    BOOL_NS(kvidxOpen(&inst, path, &err), "Open");
    CK(err != NULL && ends_with(err, SUFFIX));
    CK(!path_exists(path));
    BOOL_NS(kvidxClose(&inst), "Close");
    BOOL_NS(kvidxFsync(&inst), "Fsync");
    BOOL_NS(kvidxBegin(&inst), "Begin");
    /* Commit with no transaction: NO_TRANSACTION (decision D1) or NOT_SUPPORTED */
    kvidxClearError(&inst);
    CK(!kvidxCommit(&inst));
    CK(kvidxGetLastError(&inst) == NS || kvidxGetLastError(&inst) == KVIDX_ERROR_NO_TRANSACTION);
    BOOL_NS(kvidxGet(&inst, 1, &t, &c, &d, &len), "Get");
    BOOL_NS(kvidxGetPrev(&inst, 1, &u, &t, &c, &d, &len), "GetPrev");
    BOOL_NS(kvidxGetNext(&inst, 1, &u, &t, &c, &d, &len), "GetNext");
    CK(u == 7 && t == 7 && c == 7 && len == 7 && d == NULL);
    BOOL_NS(kvidxExists(&inst, 1), "Exists");
    BOOL_NS(kvidxExistsDual(&inst, 1, 1), "ExistsDual");
    BOOL_NS(kvidxMaxKey(&inst, &u), "MaxKey");
    BOOL_NS(kvidxInsert(&inst, 1, 1, 1, "x", 1), "Insert");
    BOOL_NS(kvidxRemove(&inst, 1), "Remove");
    BOOL_NS(kvidxRemoveAfterNInclusive(&inst, 1), "RemoveAfterNInclusive");
    BOOL_NS(kvidxRemoveBeforeNInclusive(&inst, 1), "RemoveBeforeNInclusive");
    CK(!kvidxApplyToStateMachine(&inst, 1));
    ins = 7;
    CK(!kvidxInsertBatch(&inst, e, 1, &ins));
    CHECK_EQ_U64(ins, 0);
    /* argument checks come first */
    BOOL_FAILS(&inst, kvidxInsert(&inst, 1, 1, 1, NULL, 3), INV);
    ins = 7;
    CK(!kvidxInsertBatch(&inst, NULL, 1, &ins));
    CHECK_EQ_U64(ins, 0);

    NOT_SUPP(&inst, kvidxGetStats(&inst, &st), "GetStats");
    NOT_SUPP(&inst, kvidxGetKeyCount(&inst, &cnt), "GetKeyCount");
    NOT_SUPP(&inst, kvidxGetMinKey(&inst, &u), "GetMinKey");
    NOT_SUPP(&inst, kvidxGetDataSize(&inst, &cnt), "GetDataSize");
    NOT_SUPP(&inst, kvidxRemoveRange(&inst, 0, 5, true, true, &cnt), "RemoveRange");
    NOT_SUPP(&inst, kvidxCountRange(&inst, 0, 5, &cnt), "CountRange");
    NOT_SUPP(&inst, kvidxExistsInRange(&inst, 0, 5, &b), "ExistsInRange");
    NOT_SUPP(&inst, kvidxExport(&inst, path, NULL, NULL, NULL), "Export");
    NOT_SUPP(&inst, kvidxImport(&inst, path, NULL, NULL, NULL), "Import");
    NOT_SUPP(&inst, kvidxInsertEx(&inst, 1, 1, 1, "x", 1, KVIDX_SET_ALWAYS), "InsertEx");
    NOT_SUPP(&inst, kvidxGetAndSet(&inst, 1, 1, 1, "x", 1, &t, &c, &vp, &len), "GetAndSet");
    NOT_SUPP(&inst, kvidxGetAndRemove(&inst, 1, &t, &c, &vp, &len), "GetAndRemove");
    NOT_SUPP(&inst, kvidxCompareAndSwap(&inst, 1, "x", 1, 1, 1, "y", 1, &b), "CompareAndSwap");
    NOT_SUPP(&inst, kvidxAppend(&inst, 1, 1, 1, "x", 1, &len), "Append");
    NOT_SUPP(&inst, kvidxPrepend(&inst, 1, 1, 1, "x", 1, &len), "Prepend");
    NOT_SUPP(&inst, kvidxGetValueRange(&inst, 1, 0, 0, &vp, &len), "GetValueRange");
    NOT_SUPP(&inst, kvidxSetValueRange(&inst, 1, 0, "x", 1, &len), "SetValueRange");
    NOT_SUPP(&inst, kvidxSetExpire(&inst, 1, 10), "SetExpire");
    NOT_SUPP(&inst, kvidxSetExpireAt(&inst, 1, 10), "SetExpireAt");
    kvidxClearError(&inst);
    ERR_IS(kvidxInsertNX(&inst, 1, 1, 1, "x", 1), NS);
    ERR_IS(kvidxInsertXX(&inst, 1, 1, 1, "x", 1), NS);
    ERR_IS(kvidxCompareTermAndSwap(&inst, 1, 1, 1, 1, "x", 1, &b), NS);
    CHECK_EQ_INT(kvidxGetTTL(&inst, 1), KVIDX_TTL_NOT_FOUND); /* Exists fallback: absent */
    CK(kvidxPersist(&inst, 1) != KVIDX_OK);
    /* emulated members answer "not open" on a never-opened instance */
    cnt = 7;
    ERR_IS(kvidxExpireScan(&inst, 0, &cnt), INV);
    CHECK_EQ_U64(cnt, 0);
    /* transaction flagged open and no abort member */
    inst.transactionActive = true;
    kvidxClearError(&inst);
    CK(!kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), NS);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Abort" SUFFIX);
    inst.transactionActive = false;
    kvidxAbort(&inst); /* nothing to abort: answer not asserted, must not crash */

    /* NULL required pointers: INVALID_ARGUMENT even without an interface */
    ERR_IS(kvidxGetStats(&inst, NULL), INV);
    ERR_IS(kvidxGetKeyCount(&inst, NULL), INV);
    ERR_IS(kvidxGetMinKey(&inst, NULL), INV);
    ERR_IS(kvidxGetDataSize(&inst, NULL), INV);
    ERR_IS(kvidxCountRange(&inst, 0, 5, NULL), INV);
    ERR_IS(kvidxExistsInRange(&inst, 0, 5, NULL), INV);
    ERR_IS(kvidxExport(&inst, NULL, NULL, NULL, NULL), INV);
    ERR_IS(kvidxImport(&inst, NULL, NULL, NULL, NULL), INV);
    ERR_IS(kvidxCompareAndSwap(&inst, 1, "x", 1, 1, 1, "y", 1, NULL), INV);
    ERR_IS(kvidxCompareTermAndSwap(&inst, 1, 1, 1, 1, "y", 1, NULL), INV);
    ERR_IS(kvidxInsertEx(&inst, 1, 1, 1, "x", 1, (kvidxSetCondition)7), INV);
    ERR_IS(kvidxInsertEx(&inst, 1, 1, 1, NULL, 2, KVIDX_SET_ALWAYS), INV);
    ERR_IS(kvidxInsertNX(&inst, 1, 1, 1, NULL, 2), INV);
    ERR_IS(kvidxInsertXX(&inst, 1, 1, 1, NULL, 2), INV);
    ERR_IS(kvidxGetAndSet(&inst, 1, 1, 1, NULL, 2, NULL, NULL, NULL, NULL), INV);
    ERR_IS(kvidxCompareAndSwap(&inst, 1, "x", 1, 1, 1, NULL, 2, &b), INV);
    ERR_IS(kvidxAppend(&inst, 1, 1, 1, NULL, 2, NULL), INV);
    ERR_IS(kvidxPrepend(&inst, 1, 1, 1, NULL, 2, NULL), INV);
    ERR_IS(kvidxSetValueRange(&inst, 1, 0, NULL, 2, NULL), INV);
    ERR_IS(kvidxGetConfig(&inst, NULL), INV);
    ERR_IS(kvidxUpdateConfig(&inst, NULL), INV);
    /* nothing open to apply it to: refused, nothing stored */
    cfg = kvidxConfigDefault();
    ERR_IS(kvidxUpdateConfig(&inst, &cfg), INV);
    CK(!inst.configInitialized);
    ERR_IS(kvidxGetConfig(&inst, &cfg), KVIDX_OK);
    err = NULL;
    CK(!kvidxOpenWithConfig(&inst, NULL, NULL, &err));
    CHECK_STR(err, "Invalid arguments: instance and filename required");
    err = NULL;
    CK(!kvidxOpenWithConfig(&inst, path, NULL, &err));
    CK(err != NULL && err[0] != '\0');
    CK(!path_exists(path));

    it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_FORWARD);
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorSeek(it, 5));
    CK(!kvidxIteratorValid(it));
    kvidxIteratorDestroy(it);
    it = kvidxIteratorCreate(&inst, 0, UINT64_MAX, KVIDX_ITER_BACKWARD);
    CK(!kvidxIteratorNext(it));
    CK(!kvidxIteratorSeek(it, UINT64_MAX));
    kvidxIteratorDestroy(it);
}

int main(int argc, char **argv) {
    if (argc > 1) scratch = argv[1];
    test_null_instance();
    for (size_t a = 0; a < kvidxGetAdapterCount(); a++) {
        ad = kvidxGetAdapterByIndex(a);
        CK(ad != NULL);
        if (ad == NULL) continue;
        check_set_context(ad->name);
        test_unopened();
        test_open_null_args();
        test_null_members();
    }
    test_all_null_interface();
    return check_report();
}
