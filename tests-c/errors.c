/* errors.c: the error model (core.md §3.2, §5.3 as amended by decisions.md
 * C1, C2, C3, A5, D1): kvidxErrorString, kvidxSetError, sticky lastError,
 * messages naming the operation, open failures, NULL/not-open instances. */
#include "check.h"

#include "kvidxkit.h"
#include "kvidxkitErrors.h"
#include "kvidxkitRegistry.h"

#define T(cond) CHECK(cond, "")
#define KMAX UINT64_MAX

static const char *scratch;

static void db_path(char *buf, size_t n, const kvidxAdapterInfo *ad, const char *name) {
    snprintf(buf, n, "%s/%s%s", scratch, name, ad->pathSuffix);
}

static bool open_db(kvidxInstance *inst, const kvidxAdapterInfo *ad, const char *name) {
    char path[4096];
    const char *err = NULL;
    bool ok;
    memset(inst, 0, sizeof(*inst));
    inst->interface = *ad->iface;
    db_path(path, sizeof(path), ad, name);
    ok = kvidxOpen(inst, path, &err);
    CHECK(ok, "open %s: %s", path, err ? err : "(null)");
    return ok;
}

/* The message is non-empty and contains `op`. */
#define CHECK_MSG_NAMES(inst, op)                                                         \
    do {                                                                                  \
        const char *m_ = kvidxGetLastErrorMessage(inst);                                  \
        CHECK(m_ != NULL && strstr(m_, (op)) != NULL, "message \"%s\" does not name %s", \
              m_ ? m_ : "(null)", (op));                                                  \
    } while (0)

static void test_error_strings(void) {
    static const struct {
        int code;
        const char *s;
    } table[] = {
        {0, "Success"},
        {1, "Invalid argument"},
        {2, "Duplicate key"},
        {3, "Key not found"},
        {4, "Disk full"},
        {5, "I/O error"},
        {6, "Database corruption detected"},
        {7, "Transaction already active"},
        {8, "No active transaction"},
        {9, "Database is read-only"},
        {10, "Database is locked"},
        {11, "Out of memory"},
        {12, "Data too large"},
        {13, "Constraint violation"},
        {14, "Schema error"},
        {15, "Invalid range"},
        {16, "Operation not supported"},
        {17, "Operation cancelled"},
        {99, "Internal error"},
        {100, "Condition not met"},
        {101, "Key expired"},
        {18, "Unknown error"},
        {50, "Unknown error"},
        {98, "Unknown error"},
        {102, "Unknown error"},
        {9999, "Unknown error"},
        {-1, "Unknown error"},
    };
    size_t n, m;
    check_set_context("kvidxErrorString");
    for (n = 0; n < sizeof(table) / sizeof(table[0]); n++) {
        const char *s = kvidxErrorString((kvidxError)table[n].code);
        CHECK(s != NULL && strcmp(s, table[n].s) == 0, "code %d: \"%s\" != \"%s\"", table[n].code,
              s ? s : "(null)", table[n].s);
    }
    /* The known strings are pairwise distinct. */
    for (n = 0; n < 21; n++) {
        for (m = n + 1; m < 21; m++) {
            CHECK(strcmp(kvidxErrorString((kvidxError)table[n].code),
                         kvidxErrorString((kvidxError)table[m].code)) != 0,
                  "codes %d and %d share a string", table[n].code, table[m].code);
        }
    }
    /* Static strings: the same pointer every time. */
    T(kvidxErrorString(KVIDX_ERROR_IO) == kvidxErrorString(KVIDX_ERROR_IO));

    check_set_context("kvidxIsOk/kvidxIsError");
    T(kvidxIsOk(KVIDX_OK) && !kvidxIsError(KVIDX_OK));
    T(!kvidxIsOk(KVIDX_ERROR_NOT_FOUND) && kvidxIsError(KVIDX_ERROR_NOT_FOUND));
    T(!kvidxIsOk(KVIDX_ERROR_INTERNAL) && kvidxIsError(KVIDX_ERROR_INTERNAL));
    T(!kvidxIsOk((kvidxError)9999) && kvidxIsError((kvidxError)9999));
}

static void test_null_instance(void) {
    check_set_context("NULL instance");
    CHECK_EQ_INT(kvidxGetLastError(NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_STR(kvidxGetLastErrorMessage(NULL), "Invalid instance (NULL)");
    kvidxClearError(NULL);                          /* no crash */
    kvidxSetError(NULL, KVIDX_ERROR_IO, "x %d", 1); /* no crash */
    kvidxSetError(NULL, KVIDX_ERROR_IO, NULL);      /* no crash */
    CHECK_EQ_INT(kvidxGetLastError(NULL), KVIDX_ERROR_INVALID_ARGUMENT);
}

/* kvidxSetError / ClearError / GetLastErrorMessage on a plain struct (no
 * engine needed). */
static void test_set_error(void) {
    kvidxInstance inst;
    const kvidxInstance *cinst = &inst;
    char longfmt[400];
    const char *m;
    size_t n;

    check_set_context("kvidxSetError");
    memset(&inst, 0, sizeof(inst));
    CHECK_EQ_INT(kvidxGetLastError(cinst), KVIDX_OK);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Success");

    kvidxSetError(&inst, KVIDX_ERROR_IO, "disk %s at %d%%", "failed", 42);
    CHECK_EQ_INT(kvidxGetLastError(cinst), KVIDX_ERROR_IO);
    CHECK_EQ_INT(inst.lastError, KVIDX_ERROR_IO);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "disk failed at 42%");
    CHECK_STR(inst.lastErrorMessage, "disk failed at 42%");
    /* Repeated reads give identical results. */
    CHECK_EQ_INT(kvidxGetLastError(cinst), KVIDX_ERROR_IO);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "disk failed at 42%");

    /* fmt NULL stores kvidxErrorString(code). */
    kvidxSetError(&inst, KVIDX_ERROR_LOCKED, NULL);
    CHECK_EQ_INT(kvidxGetLastError(cinst), KVIDX_ERROR_LOCKED);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Database is locked");
    kvidxSetError(&inst, KVIDX_ERROR_CONDITION_FAILED, NULL);
    CHECK_EQ_INT(kvidxGetLastError(cinst), KVIDX_ERROR_CONDITION_FAILED);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Condition not met");
    kvidxSetError(&inst, KVIDX_ERROR_EXPIRED, NULL);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Key expired");

    /* Any code is stored. */
    kvidxSetError(&inst, (kvidxError)9999, NULL);
    CHECK_EQ_INT(kvidxGetLastError(cinst), 9999);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Unknown error");
    kvidxSetError(&inst, (kvidxError)4242, "custom %u", 7u);
    CHECK_EQ_INT(kvidxGetLastError(cinst), 4242);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "custom 7");

    /* Truncated to 255 bytes + NUL. */
    for (n = 0; n < 300; n++) {
        longfmt[n] = (char)('a' + n % 26);
    }
    longfmt[300] = '\0';
    kvidxSetError(&inst, KVIDX_ERROR_INTERNAL, "%s", longfmt);
    m = kvidxGetLastErrorMessage(&inst);
    CHECK(m != NULL && strlen(m) == 255 && strncmp(m, longfmt, 255) == 0, "truncation: len %zu",
          m ? strlen(m) : 0);
    CHECK_EQ_INT(inst.lastErrorMessage[255], 0);

    /* Setting KVIDX_OK through SetError: message "Success". */
    kvidxSetError(&inst, KVIDX_OK, "ignored text");
    CHECK_EQ_INT(kvidxGetLastError(cinst), KVIDX_OK);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Success");

    /* Empty buffer with an error code: the code's string. */
    inst.lastError = KVIDX_ERROR_IO;
    inst.lastErrorMessage[0] = '\0';
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "I/O error");

    /* ClearError resets. */
    kvidxSetError(&inst, KVIDX_ERROR_CORRUPT, "bad page %d", 3);
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetLastError(cinst), KVIDX_OK);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Success");
    CHECK_EQ_INT(inst.lastErrorMessage[0], 0);
}

static void test_engine_errors(const kvidxAdapterInfo *ad) {
    kvidxInstance inst;
    char path[4096];
    const char *err;
    uint64_t key, term, cmd, u;
    const uint8_t *data;
    size_t len;

    if (!open_db(&inst, ad, "errs")) {
        return;
    }
    /* After Open: OK / "Success". */
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_OK);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Success");
    T(inst.transactionActive == false);

    /* Planted error, ClearError. */
    kvidxSetError(&inst, KVIDX_ERROR_IO, "planted");
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_OK);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "Success");

    /* Sticky: a planted error survives successful calls. */
    kvidxSetError(&inst, KVIDX_ERROR_DISK_FULL, "planted %d", 1);
    T(kvidxInsert(&inst, 5, 1, 1, "five", 4));
    T(kvidxGet(&inst, 5, NULL, NULL, NULL, NULL));
    T(kvidxExists(&inst, 5));
    T(kvidxBegin(&inst));
    T(kvidxCommit(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DISK_FULL);
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "planted 1");
    CHECK_STR(kvidxGetLastErrorMessage(&inst), "planted 1");
    kvidxClearError(&inst);

    /* Duplicate insert: DUPLICATE_KEY, message names Insert, entry unchanged. */
    T(!kvidxInsert(&inst, 5, 2, 2, "other", 5));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    CHECK_MSG_NAMES(&inst, "Insert");
    term = cmd = 0;
    data = NULL;
    len = 0;
    T(kvidxGet(&inst, 5, &term, &cmd, &data, &len));
    CHECK(term == 1 && cmd == 1 && len == 4 && data != NULL && memcmp(data, "five", 4) == 0,
          "entry changed by duplicate insert");
    /* Success does not clear it. */
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    T(kvidxInsert(&inst, 6, 1, 1, "six", 3));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_DUPLICATE_KEY);
    kvidxClearError(&inst);

    /* Misses: NOT_FOUND with the operation in the message. */
    T(!kvidxGet(&inst, 999, NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);
    CHECK_MSG_NAMES(&inst, "Get");
    kvidxClearError(&inst);
    T(!kvidxGetNext(&inst, 6, &key, NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);
    CHECK_MSG_NAMES(&inst, "GetNext");
    kvidxClearError(&inst);
    T(!kvidxGetPrev(&inst, 5, &key, NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);
    CHECK_MSG_NAMES(&inst, "GetPrev");
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, 10, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_NAMES(&inst, "CountRange");
    kvidxClearError(&inst);
    /* Exists returning false is not an error; Remove of an absent key is true. */
    T(!kvidxExists(&inst, 999));
    T(!kvidxExistsDual(&inst, 999, 1));
    T(kvidxRemove(&inst, 999));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_OK);

    /* data NULL with dataLen > 0: INVALID_ARGUMENT, nothing stored (C3). */
    T(!kvidxInsert(&inst, 7, 1, 1, NULL, 10));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_NAMES(&inst, "Insert");
    T(!kvidxExists(&inst, 7));
    kvidxClearError(&inst);

    /* Transaction errors (D1). */
    T(!kvidxCommit(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    CHECK_MSG_NAMES(&inst, "Commit");
    kvidxClearError(&inst);
    T(!kvidxAbort(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NO_TRANSACTION);
    CHECK_MSG_NAMES(&inst, "Abort");
    kvidxClearError(&inst);
    T(kvidxBegin(&inst));
    T(inst.transactionActive == true);
    T(!kvidxBegin(&inst));
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_TRANSACTION_ACTIVE);
    CHECK_MSG_NAMES(&inst, "Begin");
    T(inst.transactionActive == true);
    T(kvidxCommit(&inst));
    T(inst.transactionActive == false);
    kvidxClearError(&inst);

    /* MaxKey / GetMinKey on an empty database. */
    T(kvidxRemoveRange(&inst, 0, KMAX, true, true, NULL) == KVIDX_OK);
    key = 3;
    T(!kvidxMaxKey(&inst, &key));
    CHECK_EQ_U64(key, 3);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);
    CHECK_MSG_NAMES(&inst, "MaxKey");
    kvidxClearError(&inst);
    CHECK_EQ_INT(kvidxGetMinKey(&inst, &key), KVIDX_ERROR_NOT_FOUND);
    CHECK_EQ_U64(key, 3);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_FOUND);
    kvidxClearError(&inst);

    /* NULL out-params of stats/range calls: INVALID_ARGUMENT. */
    CHECK_EQ_INT(kvidxGetStats(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetMinKey(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetDataSize(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, 1, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    kvidxClearError(&inst);

    /* A NULL interface member: NOT_SUPPORTED (A5), no crash. */
    {
        kvidxInterface saved = inst.interface;
        inst.interface.get = NULL;
        inst.interface.insert = NULL;
        inst.interface.countRange = NULL;
        T(!kvidxGet(&inst, 5, NULL, NULL, NULL, NULL));
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_SUPPORTED);
        kvidxClearError(&inst);
        T(!kvidxInsert(&inst, 8, 1, 1, "x", 1));
        CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_NOT_SUPPORTED);
        kvidxClearError(&inst);
        CHECK_EQ_INT(kvidxCountRange(&inst, 0, 1, &u), KVIDX_ERROR_NOT_SUPPORTED);
        /* Argument checks come first. */
        CHECK_EQ_INT(kvidxCountRange(&inst, 0, 1, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        inst.interface = saved;
        kvidxClearError(&inst);
        T(kvidxInsert(&inst, 8, 1, 1, "x", 1));
        T(kvidxExists(&inst, 8));
    }

    /* Open on an instance that is already open: false, INVALID_ARGUMENT,
     * *err set; the instance stays usable on its database. */
    err = NULL;
    db_path(path, sizeof(path), ad, "errs_other");
    T(!kvidxOpen(&inst, path, &err));
    T(err != NULL);
    CHECK_EQ_INT(kvidxGetLastError(&inst), KVIDX_ERROR_INVALID_ARGUMENT);
    T(kvidxExists(&inst, 8));
    T(kvidxInsert(&inst, 9, 1, 1, "y", 1));
    T(kvidxClose(&inst));

    /* Reusing the struct after Close for a second open works. */
    err = NULL;
    db_path(path, sizeof(path), ad, "errs");
    CHECK(kvidxOpen(&inst, path, &err), "reopen: %s", err ? err : "(null)");
    T(kvidxExists(&inst, 8) && kvidxExists(&inst, 9));
    T(kvidxClose(&inst));

    /* A failed open sets *err and leaves the instance closed and reusable. */
    memset(&inst, 0, sizeof(inst));
    inst.interface = *ad->iface;
    snprintf(path, sizeof(path), "%s/no/such/dir/db%s", scratch, ad->pathSuffix);
    err = NULL;
    T(!kvidxOpen(&inst, path, &err));
    CHECK(err != NULL && err[0] != '\0', "failed open: err %s", err ? err : "(null)");
    T(inst.kvidxdata == NULL);
    T(!kvidxExists(&inst, 8));
    err = NULL;
    db_path(path, sizeof(path), ad, "errs");
    CHECK(kvidxOpen(&inst, path, &err), "open after a failed open: %s", err ? err : "(null)");
    T(kvidxExists(&inst, 8));
    T(kvidxClose(&inst));

    /* A path holding a file that is not a database of this engine: the open
     * fails with a message, the process survives and the file is untouched. */
    {
        static char garbage[4096];
        static char back[4096];
        FILE *f;
        size_t n, got = 0;
        for (n = 0; n < sizeof(garbage); n++) {
            garbage[n] = (char)("this is not a database file; "[n % 29]);
        }
        db_path(path, sizeof(path), ad, "garbage");
        f = fopen(path, "wb");
        CHECK(f != NULL, "cannot create %s", path);
        if (f != NULL) {
            CHECK_EQ_U64(fwrite(garbage, 1, sizeof(garbage), f), sizeof(garbage));
            fclose(f);
            memset(&inst, 0, sizeof(inst));
            inst.interface = *ad->iface;
            err = NULL;
            T(!kvidxOpen(&inst, path, &err));
            CHECK(err != NULL && err[0] != '\0', "garbage open: err %s", err ? err : "(null)");
            T(inst.kvidxdata == NULL);
            T(!kvidxInsert(&inst, 1, 1, 1, "x", 1));
            f = fopen(path, "rb");
            if (f != NULL) {
                got = fread(back, 1, sizeof(back), f);
                fclose(f);
            }
            CHECK(got == sizeof(garbage) && memcmp(back, garbage, got) == 0,
                  "the foreign file was modified");
        }
    }

    /* Open with a NULL filename fails cleanly. */
    err = NULL;
    T(!kvidxOpen(&inst, NULL, &err));
    T(err != NULL);
    T(inst.kvidxdata == NULL);
}

/* A5: argument checks come first, even with no interface at all. */
static void test_zeroed_instance(void) {
    kvidxInstance inst;
    uint64_t u = 0;
    bool b = false;
    kvidxStats st;
    check_set_context("zeroed instance");
    memset(&inst, 0, sizeof(inst));
    CHECK_EQ_INT(kvidxCountRange(&inst, 0, 1, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxExistsInRange(&inst, 0, 1, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetKeyCount(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetStats(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetMinKey(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kvidxGetDataSize(&inst, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    /* With valid out-params, the missing interface: false / an error code. */
    T(kvidxCountRange(&inst, 0, 1, &u) != KVIDX_OK);
    T(kvidxExistsInRange(&inst, 0, 1, &b) != KVIDX_OK);
    T(kvidxGetStats(&inst, &st) != KVIDX_OK);
    T(!kvidxGet(&inst, 1, NULL, NULL, NULL, NULL));
    T(!kvidxInsert(&inst, 1, 1, 1, "x", 1));
    T(!kvidxBegin(&inst));
    T(!kvidxClose(&inst));
    T(kvidxGetLastError(&inst) != KVIDX_OK);
    T(inst.kvidxdata == NULL);
}

int main(int argc, char **argv) {
    size_t a;
    if (argc < 2) {
        fprintf(stderr, "usage: %s scratch-dir\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    test_error_strings();
    test_null_instance();
    test_set_error();
    test_zeroed_instance();
    CHECK(kvidxGetAdapterCount() >= 1, "no engine registered");
    for (a = 0; a < kvidxGetAdapterCount(); a++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(a);
        CHECK(ad != NULL && ad->iface != NULL, "adapter %zu", a);
        if (ad == NULL || ad->iface == NULL) {
            continue;
        }
        check_set_context(ad->name);
        test_engine_errors(ad);
    }
    return check_report();
}
