/* export.c: kvidxExport / kvidxImport through the C API on every engine:
 * the original's export tests (primitives.md §9 items 45-54 and 66), the
 * worked example bytes (§5.3-§5.5), errors and lastError messages (G5, G6),
 * all-or-nothing imports (G4), progress callbacks (counts, cancellation, a
 * callback that re-enters the instance) and a cross-engine round trip of
 * every format for every pair of engines. */
#include "check.h"

#include "kvidxkit.h"
#include "kvidxkitExport.h"
#include "kvidxkitRegistry.h"

#include <sys/stat.h>
#include <unistd.h>

#define T(cond) CHECK(cond, "")
#define H63 (UINT64_C(1) << 63)
#define KMAX UINT64_MAX

static const char *scratch;

static void db_path(char *buf, size_t n, const kvidxAdapterInfo *ad, const char *name) {
    snprintf(buf, n, "%s/%s-%s%s", scratch, ad->name, name, ad->pathSuffix);
}

static void file_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", scratch, name);
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

static uint64_t key_count(kvidxInstance *inst) {
    uint64_t n = UINT64_MAX;
    CHECK_EQ_INT(kvidxGetKeyCount(inst, &n), KVIDX_OK);
    return n;
}

static long file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        return -1;
    }
    return (long)st.st_size;
}

static bool read_file(const char *path, unsigned char *buf, size_t cap, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    *len = fread(buf, 1, cap, f);
    fclose(f);
    return true;
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    T(f != NULL);
    if (f != NULL) {
        T(fwrite(data, 1, len, f) == len);
        T(fclose(f) == 0);
    }
}

static void write_str(const char *path, const char *text) {
    write_file(path, text, strlen(text));
}

static bool has_entry(kvidxInstance *inst, uint64_t key, uint64_t term, uint64_t cmd, const void *data,
                      size_t len) {
    uint64_t t = 0, c = 0;
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(inst, key, &t, &c, &d, &l)) {
        return false;
    }
    return t == term && c == cmd && l == len && (len == 0 || memcmp(d, data, len) == 0);
}

static bool msg_has(kvidxInstance *inst, const char *needle) {
    const char *m = kvidxGetLastErrorMessage(inst);
    bool ok = m != NULL && strstr(m, needle) != NULL;
    if (!ok) {
        fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", m ? m : "(null)", needle);
    }
    return ok;
}

/* ---------- primitives.md §9 items 45-54 ---------- */

static void test_upstream(const kvidxAdapterInfo *ad) {
    kvidxInstance src, dst;
    char bin[4096], json_pretty[4096], json_compact[4096], csv_meta[4096], csv_plain[4096], range[4096],
        half[4096];
    kvidxExportOptions eo;
    kvidxImportOptions io;
    uint64_t k, term, cmd, min, max;
    char value[64];
    unsigned bad = 0;

    check_set_context(ad->name);
    if (!open_db(&src, ad, "up-src")) {
        return;
    }
    T(kvidxBegin(&src));
    for (k = 1; k <= 100; k++) {
        snprintf(value, sizeof(value), "value-%" PRIu64, k);
        if (!kvidxInsert(&src, k, 0, 0, value, strlen(value))) {
            bad++;
        }
    }
    T(kvidxCommit(&src));
    CHECK(bad == 0, "%u inserts failed", bad);

    /* 45 */
    file_path(bin, sizeof(bin), "up.bin");
    CHECK_EQ_INT(kvidxExport(&src, bin, NULL, NULL, NULL), KVIDX_OK);
    T(file_size(bin) > 0);
    eo = kvidxExportOptionsDefault();
    CHECK_EQ_INT(kvidxExport(&src, bin, &eo, NULL, NULL), KVIDX_OK);

    /* 46 */
    if (open_db(&dst, ad, "up-dst46")) {
        io = kvidxImportOptionsDefault();
        io.format = KVIDX_EXPORT_BINARY;
        CHECK_EQ_INT(kvidxImport(&dst, bin, &io, NULL, NULL), KVIDX_OK);
        CHECK_EQ_U64(key_count(&dst), 100);
        term = cmd = 77;
        T(kvidxGet(&dst, 50, &term, &cmd, NULL, NULL));
        CHECK_EQ_U64(term, 0);
        CHECK_EQ_U64(cmd, 0);
        T(has_entry(&dst, 50, 0, 0, "value-50", 8));
        T(kvidxClose(&dst));
    }

    /* 47, 48 */
    file_path(json_pretty, sizeof(json_pretty), "up-pretty.json");
    file_path(json_compact, sizeof(json_compact), "up-compact.json");
    eo = kvidxExportOptionsDefault();
    eo.format = KVIDX_EXPORT_JSON;
    eo.includeMetadata = true;
    eo.prettyPrint = true;
    CHECK_EQ_INT(kvidxExport(&src, json_pretty, &eo, NULL, NULL), KVIDX_OK);
    T(file_size(json_pretty) > 0);
    eo.includeMetadata = false;
    eo.prettyPrint = false;
    CHECK_EQ_INT(kvidxExport(&src, json_compact, &eo, NULL, NULL), KVIDX_OK);
    CHECK(file_size(json_compact) < file_size(json_pretty), "%ld vs %ld", file_size(json_compact),
          file_size(json_pretty));

    /* 49 */
    file_path(csv_meta, sizeof(csv_meta), "up-meta.csv");
    file_path(csv_plain, sizeof(csv_plain), "up-plain.csv");
    eo = kvidxExportOptionsDefault();
    eo.format = KVIDX_EXPORT_CSV;
    CHECK_EQ_INT(kvidxExport(&src, csv_meta, &eo, NULL, NULL), KVIDX_OK);
    T(file_size(csv_meta) > 0);
    eo.includeMetadata = false;
    CHECK_EQ_INT(kvidxExport(&src, csv_plain, &eo, NULL, NULL), KVIDX_OK);
    T(file_size(csv_plain) > 0 && file_size(csv_plain) < file_size(csv_meta));

    /* 50 */
    file_path(range, sizeof(range), "up-range.bin");
    eo = kvidxExportOptionsDefault();
    eo.startKey = 25;
    eo.endKey = 75;
    CHECK_EQ_INT(kvidxExport(&src, range, &eo, NULL, NULL), KVIDX_OK);
    CHECK_EQ_INT(file_size(range), 24 + 51 * (32 + 8));
    if (open_db(&dst, ad, "up-dst50")) {
        CHECK_EQ_INT(kvidxImport(&dst, range, NULL, NULL, NULL), KVIDX_OK);
        CHECK_EQ_U64(key_count(&dst), 51);
        CHECK_EQ_INT(kvidxGetMinKey(&dst, &min), KVIDX_OK);
        T(kvidxMaxKey(&dst, &max));
        CHECK_EQ_U64(min, 25);
        CHECK_EQ_U64(max, 75);
        T(kvidxClose(&dst));
    }

    /* 51: clearBeforeImport (a 50-entry file) */
    file_path(half, sizeof(half), "up-half.bin");
    eo = kvidxExportOptionsDefault();
    eo.startKey = 1;
    eo.endKey = 50;
    CHECK_EQ_INT(kvidxExport(&src, half, &eo, NULL, NULL), KVIDX_OK);
    if (open_db(&dst, ad, "up-dst51")) {
        T(kvidxInsert(&dst, 1000, 1, 1, "a", 1));
        T(kvidxInsert(&dst, 1001, 1, 1, "b", 1));
        io = kvidxImportOptionsDefault();
        io.clearBeforeImport = true;
        CHECK_EQ_INT(kvidxImport(&dst, half, &io, NULL, NULL), KVIDX_OK);
        T(!kvidxExists(&dst, 1000));
        T(!kvidxExists(&dst, 1001));
        CHECK_EQ_U64(key_count(&dst), 50);
        T(kvidxClose(&dst));
    }

    /* 52: skipDuplicates */
    if (open_db(&dst, ad, "up-dst52")) {
        T(kvidxInsert(&dst, 1, 999, 999, "x", 1));
        T(kvidxInsert(&dst, 25, 999, 999, "y", 1));
        /* Without skipDuplicates: DUPLICATE_KEY naming the key, nothing imported. */
        CHECK_EQ_INT(kvidxImport(&dst, half, NULL, NULL, NULL), KVIDX_ERROR_DUPLICATE_KEY);
        CHECK_EQ_INT(kvidxGetLastError(&dst), KVIDX_ERROR_DUPLICATE_KEY);
        T(msg_has(&dst, "Import") && msg_has(&dst, "key 1 "));
        CHECK_EQ_U64(key_count(&dst), 2);
        io = kvidxImportOptionsDefault();
        io.skipDuplicates = true;
        CHECK_EQ_INT(kvidxImport(&dst, half, &io, NULL, NULL), KVIDX_OK);
        CHECK_EQ_U64(key_count(&dst), 50);
        T(has_entry(&dst, 1, 999, 999, "x", 1));
        T(has_entry(&dst, 25, 999, 999, "y", 1));
        T(has_entry(&dst, 2, 0, 0, "value-2", 7));
        T(kvidxClose(&dst));
    }

    /* 53: NULL arguments, on an instance that was never opened */
    {
        kvidxInstance never;
        memset(&never, 0, sizeof(never));
        never.interface = *ad->iface;
        CHECK_EQ_INT(kvidxExport(&never, NULL, NULL, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        CHECK_EQ_INT(kvidxImport(&never, NULL, NULL, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        CHECK_EQ_INT(kvidxExport(NULL, bin, NULL, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        CHECK_EQ_INT(kvidxImport(NULL, bin, NULL, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        /* A real file on an unopened instance: INVALID_ARGUMENT, the file untouched. */
        {
            long before = file_size(bin);
            CHECK_EQ_INT(kvidxExport(&never, bin, NULL, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
            CHECK_EQ_INT(kvidxImport(&never, bin, NULL, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
            CHECK_EQ_INT(file_size(bin), before);
        }
    }

    /* 54 */
    CHECK_EQ_INT(kvidxExport(&src, "/nonexistent/dir/file.bin", NULL, NULL, NULL), KVIDX_ERROR_IO);
    CHECK_EQ_INT(kvidxGetLastError(&src), KVIDX_ERROR_IO);
    T(msg_has(&src, "Export") && msg_has(&src, "/nonexistent/dir/file.bin"));
    CHECK_EQ_INT(kvidxImport(&src, "/nonexistent/file.bin", NULL, NULL, NULL), KVIDX_ERROR_IO);
    T(msg_has(&src, "Import") && msg_has(&src, "/nonexistent/file.bin"));
    kvidxClearError(&src);

    /* Format values out of range: INVALID_ARGUMENT (G6), no file created. */
    {
        char f[4096];
        file_path(f, sizeof(f), "bad-format.out");
        unlink(f);
        eo = kvidxExportOptionsDefault();
        memcpy(&eo.format, &(int){9}, sizeof(int));
        CHECK_EQ_INT(kvidxExport(&src, f, &eo, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        T(file_size(f) < 0);
        io = kvidxImportOptionsDefault();
        memcpy(&io.format, &(int){3}, sizeof(int));
        CHECK_EQ_INT(kvidxImport(&src, bin, &io, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
        /* The members themselves take NULL options as the defaults. */
        CHECK_EQ_INT(src.interface.exportData(&src, f, NULL, NULL, NULL), KVIDX_OK);
        CHECK_EQ_INT(file_size(f), file_size(bin));
        CHECK_EQ_INT(src.interface.exportData(&src, f, &eo, NULL, NULL), KVIDX_ERROR_INVALID_ARGUMENT);
    }
    T(kvidxClose(&src));
}

/* ---------- primitives.md §9 item 66 ---------- */

static void test_item66(const kvidxAdapterInfo *ad) {
    kvidxInstance src, dst;
    char f[4096], value[32];
    uint64_t k;

    check_set_context(ad->name);
    if (!open_db(&src, ad, "i66-src")) {
        return;
    }
    for (k = 1; k <= 5; k++) {
        snprintf(value, sizeof(value), "Value-%" PRIu64, k);
        T(kvidxInsert(&src, k * 100, k, 2 * k, value, strlen(value)));
    }
    file_path(f, sizeof(f), "i66.bin");
    CHECK_EQ_INT(kvidxExport(&src, f, NULL, NULL, NULL), KVIDX_OK);
    T(kvidxClose(&src));
    if (open_db(&dst, ad, "i66-dst")) {
        CHECK_EQ_INT(kvidxImport(&dst, f, NULL, NULL, NULL), KVIDX_OK);
        CHECK_EQ_U64(key_count(&dst), 5);
        T(has_entry(&dst, 300, 3, 6, "Value-3", 7));
        T(kvidxClose(&dst));
    }
}

/* ---------- the worked examples, byte for byte ---------- */

static const unsigned char golden_bin[106] = {
    0x00, 0x4b, 0x56, 0x45, 0x56, 0x49, 0x44, 0x58, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x69, 0x2c, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x73, 0x61, 0x79, 0x20, 0x22, 0x78,
    0x22, 0x2c, 0x0a, 0x01, 0x7f, 0xc3, 0xa9, 0x2f, 0x5c, 0x09};

static const char golden_json[] =
    "{\"format\":\"kvidx-json\",\"version\":1,\"entries\":[{\"key\":1,\"term\":5,\"cmd\":2,\"data\":\"hi\"},"
    "{\"key\":300,\"term\":6,\"cmd\":0,\"data\":\"say \\\"x\\\",\\n\\u0001\\u007f\xc3\xa9/\\\\\\t\"}]}\n";

static const char golden_csv[] = "key,term,cmd,data\n1,5,2,hi\n300,6,0,\"say \"\"x\"\",\n\x01\x7f\xc3\xa9/\\\t\"\n";

static const char value_b[] = "say \"x\",\n\x01\x7f\xc3\xa9/\\\t";

static void test_golden(const kvidxAdapterInfo *ad) {
    kvidxInstance db;
    char f[4096];
    unsigned char buf[4096];
    size_t len = 0;
    kvidxExportOptions eo;

    check_set_context(ad->name);
    if (!open_db(&db, ad, "golden")) {
        return;
    }
    file_path(f, sizeof(f), "golden.out");
    CHECK_EQ_INT(kvidxExport(&db, f, NULL, NULL, NULL), KVIDX_OK);
    CHECK_EQ_INT(file_size(f), 24); /* empty export: the header only */
    T(kvidxInsert(&db, 1, 5, 2, "hi", 2));
    CHECK_EQ_U64(sizeof(value_b) - 1, 16);
    T(kvidxInsert(&db, 300, 6, 0, value_b, 16));

    CHECK_EQ_INT(kvidxExport(&db, f, NULL, NULL, NULL), KVIDX_OK);
    T(read_file(f, buf, sizeof(buf), &len));
    CHECK_EQ_U64(len, sizeof(golden_bin));
    T(len == sizeof(golden_bin) && memcmp(buf, golden_bin, len) == 0);

    eo = kvidxExportOptionsDefault();
    eo.format = KVIDX_EXPORT_JSON;
    CHECK_EQ_INT(kvidxExport(&db, f, &eo, NULL, NULL), KVIDX_OK);
    T(read_file(f, buf, sizeof(buf), &len));
    CHECK_EQ_U64(len, strlen(golden_json));
    T(len == strlen(golden_json) && memcmp(buf, golden_json, len) == 0);

    eo.format = KVIDX_EXPORT_CSV;
    CHECK_EQ_INT(kvidxExport(&db, f, &eo, NULL, NULL), KVIDX_OK);
    T(read_file(f, buf, sizeof(buf), &len));
    CHECK_EQ_U64(len, strlen(golden_csv));
    T(len == strlen(golden_csv) && memcmp(buf, golden_csv, len) == 0);
    T(kvidxClose(&db));
}

/* A CSV file as the original writes it (raw values, quoted only when they
 * hold `,` `"` LF or CR) imports to exactly the values it holds, also those
 * that start with "base64:"; exporting them again gives the same bytes. */
static const char original_csv[] = "key,term,cmd,data\n"
                                   "1,5,2,base64:SGVsbG8=\n"
                                   "2,0,0,\"base64:a,b\"\n"
                                   "3,0,0,base64:\n";

static void test_original_csv(const kvidxAdapterInfo *ad) {
    kvidxInstance db;
    char f[4096], g[4096];
    unsigned char buf[4096];
    size_t len = 0;
    kvidxExportOptions eo = kvidxExportOptionsDefault();

    check_set_context(ad->name);
    if (!open_db(&db, ad, "original-csv")) {
        return;
    }
    file_path(f, sizeof(f), "original.csv");
    file_path(g, sizeof(g), "original-again.csv");
    write_str(f, original_csv);
    CHECK_EQ_INT(kvidxImport(&db, f, NULL, NULL, NULL), KVIDX_OK);
    CHECK_EQ_U64(key_count(&db), 3);
    T(has_entry(&db, 1, 5, 2, "base64:SGVsbG8=", 15));
    T(has_entry(&db, 2, 0, 0, "base64:a,b", 10));
    T(has_entry(&db, 3, 0, 0, "base64:", 7));
    eo.format = KVIDX_EXPORT_CSV;
    CHECK_EQ_INT(kvidxExport(&db, g, &eo, NULL, NULL), KVIDX_OK);
    T(read_file(g, buf, sizeof(buf), &len));
    T(len == strlen(original_csv) && memcmp(buf, original_csv, len) == 0);
    /* A value that is not UTF-8 round-trips through our own export. */
    T(kvidxInsert(&db, 4, 0, 0, "\xff\x00" "a", 3));
    CHECK_EQ_INT(kvidxExport(&db, g, &eo, NULL, NULL), KVIDX_OK);
    T(kvidxClose(&db));
    if (!open_db(&db, ad, "original-csv-2")) {
        return;
    }
    CHECK_EQ_INT(kvidxImport(&db, g, NULL, NULL, NULL), KVIDX_OK);
    T(has_entry(&db, 4, 0, 0, "\xff\x00" "a", 3));
    T(has_entry(&db, 1, 5, 2, "base64:SGVsbG8=", 15));
    T(kvidxClose(&db));
}

/* ---------- hostile files, atomicity ---------- */

static void test_hostile(const kvidxAdapterInfo *ad) {
    kvidxInstance db;
    char f[4096];
    unsigned char file[sizeof(golden_bin) + 1];
    kvidxImportOptions io;
    int64_t ttl;

    check_set_context(ad->name);
    if (!open_db(&db, ad, "hostile")) {
        return;
    }
    T(kvidxInsert(&db, 1000, 1, 1, "keep", 4));
    T(kvidxInsert(&db, 1001, 2, 2, "ttl", 3));
    CHECK_EQ_INT(kvidxSetExpire(&db, 1001, 3600000), KVIDX_OK);
    io = kvidxImportOptionsDefault();
    io.clearBeforeImport = true;
    file_path(f, sizeof(f), "hostile.bin");

    /* truncated: every prefix of the golden binary file */
    {
        size_t len;
        unsigned bad = 0;
        for (len = 0; len < sizeof(golden_bin); len++) {
            kvidxError e;
            write_file(f, golden_bin, len);
            e = kvidxImport(&db, f, &io, NULL, NULL);
            if (e != KVIDX_ERROR_CORRUPT) {
                bad++;
                fprintf(stderr, "  prefix %zu: %d\n", len, (int)e);
            }
        }
        CHECK(bad == 0, "%u prefixes not CORRUPT", bad);
    }
    CHECK_EQ_INT(kvidxGetLastError(&db), KVIDX_ERROR_CORRUPT);
    T(msg_has(&db, "Import") && msg_has(&db, "offset"));

    /* version 2 */
    memcpy(file, golden_bin, sizeof(golden_bin));
    file[8] = 2;
    write_file(f, file, sizeof(golden_bin));
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_CORRUPT);
    T(msg_has(&db, "version 2"));
    /* count 3 (larger), 1 (smaller: extra bytes) */
    memcpy(file, golden_bin, sizeof(golden_bin));
    file[16] = 3;
    write_file(f, file, sizeof(golden_bin));
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_CORRUPT);
    file[16] = 1;
    write_file(f, file, sizeof(golden_bin));
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_CORRUPT);
    /* a trailing byte */
    memcpy(file, golden_bin, sizeof(golden_bin));
    file[sizeof(golden_bin)] = 0;
    write_file(f, file, sizeof(file));
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_CORRUPT);
    /* value length 2^60 */
    memcpy(file, golden_bin, sizeof(golden_bin));
    file[48 + 7] = 0x10;
    write_file(f, file, sizeof(golden_bin));
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_CORRUPT);
    T(msg_has(&db, "offset 48"));
    /* bad JSON and CSV */
    write_str(f, "{\"format\":\"kvidx-json\",\"version\":1,\"entries\":[{\"key\":-1,\"data\":\"\"}]}\n");
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_CORRUPT);
    T(msg_has(&db, "line 1"));
    write_str(f, "key,data\n1,a\n2,b,c\n");
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_CORRUPT);
    T(msg_has(&db, "line 3"));
    /* a duplicate inside the file, with clearBeforeImport */
    write_str(f, "key,data\n7,a\n7,b\n");
    CHECK_EQ_INT(kvidxImport(&db, f, &io, NULL, NULL), KVIDX_ERROR_DUPLICATE_KEY);
    T(msg_has(&db, "key 7"));
    /* a directory and a FIFO: IO, no hang */
    CHECK_EQ_INT(kvidxImport(&db, scratch, &io, NULL, NULL), KVIDX_ERROR_IO);
    CHECK_EQ_INT(kvidxExport(&db, scratch, NULL, NULL, NULL), KVIDX_ERROR_IO);
    {
        char fifo[4096];
        struct stat st;
        snprintf(fifo, sizeof(fifo), "%s/fifo-%s", scratch, ad->name);
        T(mkfifo(fifo, 0600) == 0);
        CHECK_EQ_INT(kvidxImport(&db, fifo, &io, NULL, NULL), KVIDX_ERROR_IO);
        T(msg_has(&db, "FIFO"));
        CHECK_EQ_INT(kvidxExport(&db, fifo, NULL, NULL, NULL), KVIDX_ERROR_IO);
        T(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    }

    /* The database is exactly as before: entries and the TTL. */
    CHECK_EQ_U64(key_count(&db), 2);
    T(has_entry(&db, 1000, 1, 1, "keep", 4));
    T(has_entry(&db, 1001, 2, 2, "ttl", 3));
    ttl = kvidxGetTTL(&db, 1001);
    CHECK(ttl > 3000000 && ttl <= 3600000, "ttl %" PRId64, ttl);
    T(kvidxClose(&db));
}

/* ---------- progress callbacks ---------- */

typedef struct {
    kvidxInstance *inst;
    uint64_t calls;
    uint64_t current[8];
    uint64_t total[8];
    uint64_t cancelAt; /* return false when current reaches it (0: never) */
    bool reenter;      /* call kvidxGet / kvidxGetKeyCount on the instance */
    /* the callback runs while the call holds the instance: a call back
     * into it must fail at once with KVIDX_ERROR_LOCKED (never block) */
    unsigned reenterFailures;
} progress;

static bool on_progress(uint64_t current, uint64_t total, void *userData) {
    progress *p = userData;
    if (p->calls < 8) {
        p->current[p->calls] = current;
        p->total[p->calls] = total;
    }
    p->calls++;
    if (p->reenter) {
        uint64_t n = 0;
        if (kvidxGetKeyCount(p->inst, &n) != KVIDX_ERROR_LOCKED || kvidxExists(p->inst, 1000) ||
            kvidxGetLastError(p->inst) != KVIDX_ERROR_LOCKED || kvidxGet(p->inst, 1000, NULL, NULL, NULL, NULL) ||
            kvidxClose(p->inst) || kvidxGetLastError(p->inst) != KVIDX_ERROR_LOCKED ||
            strstr(kvidxGetLastErrorMessage(p->inst), "busy") == NULL) {
            p->reenterFailures++;
        }
    }
    return p->cancelAt == 0 || current < p->cancelAt;
}

static void expect_calls(const progress *p, uint64_t total, uint64_t n) {
    uint64_t i;
    CHECK_EQ_U64(p->calls, n);
    for (i = 0; i < n && i < 8; i++) {
        uint64_t want = (i + 1) * 100 < total ? (i + 1) * 100 : total;
        CHECK_EQ_U64(p->current[i], want);
        CHECK_EQ_U64(p->total[i], total);
    }
}

static void test_progress(const kvidxAdapterInfo *ad) {
    kvidxInstance db, dst;
    char f[4096], g[4096];
    progress p;
    uint64_t k;
    kvidxImportOptions io;
    kvidxExportOptions eo;

    check_set_context(ad->name);
    if (!open_db(&db, ad, "progress")) {
        return;
    }
    T(kvidxBegin(&db));
    for (k = 1000; k < 1250; k++) {
        T(kvidxInsert(&db, k, k, k, "p", 1));
    }
    T(kvidxCommit(&db));
    file_path(f, sizeof(f), "progress.json");
    file_path(g, sizeof(g), "progress-cancel.bin");
    eo = kvidxExportOptionsDefault();
    eo.format = KVIDX_EXPORT_JSON;

    /* export: (100,250) (200,250) (250,250), re-entering the instance */
    memset(&p, 0, sizeof(p));
    p.inst = &db;
    p.reenter = true;
    CHECK_EQ_INT(kvidxExport(&db, f, &eo, on_progress, &p), KVIDX_OK);
    expect_calls(&p, 250, 3);
    CHECK_EQ_U64(p.reenterFailures, 0);

    /* export of exactly 200: no repeated final call; of 0 entries: none */
    memset(&p, 0, sizeof(p));
    eo.startKey = 1000;
    eo.endKey = 1199;
    CHECK_EQ_INT(kvidxExport(&db, g, &eo, on_progress, &p), KVIDX_OK);
    expect_calls(&p, 200, 2);
    memset(&p, 0, sizeof(p));
    eo.startKey = 5;
    eo.endKey = 6;
    CHECK_EQ_INT(kvidxExport(&db, g, &eo, on_progress, &p), KVIDX_OK);
    CHECK_EQ_U64(p.calls, 0);

    /* cancelled export: CANCELLED, file removed */
    memset(&p, 0, sizeof(p));
    p.cancelAt = 200;
    CHECK_EQ_INT(kvidxExport(&db, g, NULL, on_progress, &p), KVIDX_ERROR_CANCELLED);
    CHECK_EQ_INT(kvidxGetLastError(&db), KVIDX_ERROR_CANCELLED);
    T(msg_has(&db, "Export"));
    expect_calls(&p, 250, 2);
    T(file_size(g) < 0);

    /* import: same calls, re-entering the destination instance */
    if (open_db(&dst, ad, "progress-dst")) {
        T(kvidxInsert(&dst, 1000, 9, 9, "old", 3));
        T(kvidxInsert(&dst, 7, 7, 7, "seven", 5));
        io = kvidxImportOptionsDefault();
        io.clearBeforeImport = true;

        /* cancel at 100, 200 and at the final call: nothing changes */
        for (k = 100; k <= 300; k += 100) {
            memset(&p, 0, sizeof(p));
            p.inst = &dst;
            p.reenter = true;
            p.cancelAt = k == 300 ? 250 : k;
            CHECK_EQ_INT(kvidxImport(&dst, f, &io, on_progress, &p), KVIDX_ERROR_CANCELLED);
            CHECK_EQ_INT(kvidxGetLastError(&dst), KVIDX_ERROR_CANCELLED);
            expect_calls(&p, 250, k / 100);
            CHECK_EQ_U64(p.reenterFailures, 0);
            CHECK_EQ_U64(key_count(&dst), 2);
            T(has_entry(&dst, 1000, 9, 9, "old", 3));
        }

        /* validateData = false still validates the whole file first and
         * still honours a cancelling callback: nothing changes either way */
        io.validateData = false;
        memset(&p, 0, sizeof(p));
        p.inst = &dst;
        p.cancelAt = 100;
        CHECK_EQ_INT(kvidxImport(&dst, f, &io, on_progress, &p), KVIDX_ERROR_CANCELLED);
        CHECK_EQ_U64(p.calls, 1);
        CHECK_EQ_U64(key_count(&dst), 2);
        T(has_entry(&dst, 1000, 9, 9, "old", 3));
        {
            /* the same JSON cut short: its first entries are well formed */
            char h[4096];
            FILE *in = fopen(f, "rb");
            char buf[4096];
            size_t got = in != NULL ? fread(buf, 1, sizeof(buf), in) : 0;
            if (in != NULL) fclose(in);
            T(got > 600);
            file_path(h, sizeof(h), "progress-cut.json");
            write_file(h, buf, got / 2);
            memset(&p, 0, sizeof(p));
            CHECK_EQ_INT(kvidxImport(&dst, h, &io, on_progress, &p), KVIDX_ERROR_CORRUPT);
            CHECK_EQ_U64(key_count(&dst), 2);
            T(has_entry(&dst, 1000, 9, 9, "old", 3));
            T(kvidxExists(&dst, 7));
        }
        io.validateData = true;

        memset(&p, 0, sizeof(p));
        p.inst = &dst;
        p.reenter = true;
        CHECK_EQ_INT(kvidxImport(&dst, f, &io, on_progress, &p), KVIDX_OK);
        expect_calls(&p, 250, 3);
        CHECK_EQ_U64(p.reenterFailures, 0);
        CHECK_EQ_U64(key_count(&dst), 250);
        T(has_entry(&dst, 1000, 1000, 1000, "p", 1));
        T(!kvidxExists(&dst, 7));
        T(kvidxClose(&dst));
    }
    T(kvidxClose(&db));
}

/* ---------- cross-engine round trips ---------- */

#define NTRICKY 12

static void tricky(uint64_t idx, uint64_t *key, uint64_t *term, uint64_t *cmd, unsigned char *buf, size_t *len) {
    static const uint64_t keys[NTRICKY] = {0, 1, 2, 3, 4, 5, 6, (UINT64_C(1) << 53) + 1, H63 - 1, H63, KMAX - 1, KMAX};
    size_t i;
    *key = keys[idx];
    *term = idx % 2 ? KMAX - idx : idx;
    *cmd = idx % 3 ? H63 + idx : KMAX;
    switch (idx) {
    case 0:
        *len = 0;
        break;
    case 1:
        for (i = 0; i < 256; i++) {
            buf[i] = (unsigned char)i;
        }
        *len = 256;
        break;
    case 2:
        memcpy(buf, "base64:Zm9v", 11);
        *len = 11;
        break;
    case 3:
        memcpy(buf, "a,\"b\"\r\nc", 8);
        *len = 8;
        break;
    case 4:
        memcpy(buf, "\xff\xfe\x00", 3);
        *len = 3;
        break;
    case 5:
        memcpy(buf, "\x00", 1);
        *len = 1;
        break;
    default:
        *len = (size_t)snprintf((char *)buf, 64, "v%" PRIu64 " \xc3\xa9\\/", idx);
        break;
    }
}

static void test_cross(const kvidxAdapterInfo *a, const kvidxAdapterInfo *b) {
    kvidxInstance src, dst;
    char f[4096], ctx[128], name[64];
    unsigned char buf[512];
    uint64_t idx, key, term, cmd;
    size_t len;
    int fmt;

    snprintf(ctx, sizeof(ctx), "%s -> %s", a->name, b->name);
    check_set_context(ctx);
    snprintf(name, sizeof(name), "cross-src-%s", b->name);
    if (!open_db(&src, a, name)) {
        return;
    }
    for (idx = 0; idx < NTRICKY; idx++) {
        tricky(idx, &key, &term, &cmd, buf, &len);
        T(kvidxInsert(&src, key, term, cmd, buf, len));
    }
    for (fmt = 0; fmt < 3; fmt++) {
        kvidxExportOptions eo = kvidxExportOptionsDefault();
        kvidxImportOptions io = kvidxImportOptionsDefault();
        unsigned bad = 0;
        eo.format = (kvidxExportFormat)fmt;
        eo.prettyPrint = fmt == 1;
        snprintf(name, sizeof(name), "cross-%s-%s-%d", a->name, b->name, fmt);
        file_path(f, sizeof(f), name);
        CHECK_EQ_INT(kvidxExport(&src, f, &eo, NULL, NULL), KVIDX_OK);
        snprintf(name, sizeof(name), "cross-dst-%s-%d", a->name, fmt);
        if (!open_db(&dst, b, name)) {
            continue;
        }
        io.format = (kvidxExportFormat)fmt; /* BINARY means auto-detect */
        CHECK_EQ_INT(kvidxImport(&dst, f, &io, NULL, NULL), KVIDX_OK);
        CHECK_EQ_U64(key_count(&dst), NTRICKY);
        for (idx = 0; idx < NTRICKY; idx++) {
            tricky(idx, &key, &term, &cmd, buf, &len);
            if (!has_entry(&dst, key, term, cmd, buf, len)) {
                bad++;
                fprintf(stderr, "  format %d: entry %" PRIu64 " (key %" PRIu64 ") differs\n", fmt, idx, key);
            }
        }
        CHECK(bad == 0, "format %d: %u entries differ", fmt, bad);
        T(kvidxClose(&dst));
    }
    T(kvidxClose(&src));
}

int main(int argc, char **argv) {
    size_t n = kvidxGetAdapterCount(), i, j;
    scratch = argc > 1 ? argv[1] : ".";
    CHECK(n >= 1, "%zu adapters", n);
    for (i = 0; i < n; i++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(i);
        T(ad != NULL);
        if (ad == NULL) {
            continue;
        }
        test_upstream(ad);
        test_item66(ad);
        test_golden(ad);
        test_original_csv(ad);
        test_hostile(ad);
        test_progress(ad);
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            test_cross(kvidxGetAdapterByIndex(i), kvidxGetAdapterByIndex(j));
        }
    }
    return check_report();
}
