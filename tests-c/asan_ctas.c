/* asan_ctas.c: CompareTermAndSwap on 1 MiB values (the original read the
 * expected value through a buffer its own swap reused: heap-use-after-free,
 * primitives.md §3.6 / D5), plus CompareAndSwap, GetAndSet, GetValueRange
 * and GetAndRemove on such values, freeing every returned buffer. Meant to
 * run clean under valgrind / AddressSanitizer as well as a counted test.
 * Runs on every registered engine. */
#include "check.h"

#include <stdbool.h>
#include <stdint.h>

#include "kvidxkit.h"
#include "kvidxkitRegistry.h"

#define T(cond) CHECK(cond, "")
#define MIB ((size_t)1 << 20)

static const char *scratch;

static void fill(unsigned char *b, size_t n, unsigned seed) {
    size_t k;
    uint32_t x = 2463534242u ^ seed;
    for (k = 0; k < n; k++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[k] = (unsigned char)(x >> 11);
    }
}

static bool value_is(kvidxInstance *inst, uint64_t key, uint64_t term, uint64_t cmd,
                     const unsigned char *want, size_t len) {
    uint64_t t = 0, c = 0;
    const uint8_t *d = NULL;
    size_t l = 0;
    if (!kvidxGet(inst, key, &t, &c, &d, &l)) {
        fprintf(stderr, "  key %" PRIu64 " not found\n", key);
        return false;
    }
    if (t != term || c != cmd || l != len || (len > 0 && (d == NULL || memcmp(d, want, len) != 0))) {
        fprintf(stderr, "  key %" PRIu64 ": term %" PRIu64 " cmd %" PRIu64 " len %zu, want %" PRIu64
                        " %" PRIu64 " %zu (or bytes differ)\n",
                key, t, c, l, term, cmd, len);
        return false;
    }
    return true;
}

static void run(const kvidxAdapterInfo *ad, unsigned char *a, unsigned char *b, unsigned char *c) {
    kvidxInstance inst;
    char path[4096];
    const char *err = NULL;
    bool sw;
    int round;
    uint64_t ot, oc;
    void *od;
    size_t ol;

    memset(&inst, 0, sizeof inst);
    inst.interface = *ad->iface;
    snprintf(path, sizeof path, "%s/asan_ctas%s", scratch, ad->pathSuffix);
    if (!kvidxOpen(&inst, path, &err)) {
        CHECK(false, "open %s: %s", path, err ? err : "(null)");
        return;
    }

    CHECK_EQ_INT(kvidxInsertEx(&inst, 1, 1, 10, a, MIB, KVIDX_SET_ALWAYS), KVIDX_OK);
    T(value_is(&inst, 1, 1, 10, a, MIB));

    for (round = 0; round < 3; round++) {
        /* CTAS, matching term: 1 MiB a -> 1 MiB b */
        sw = false;
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 1, 2, 20, b, MIB, &sw), KVIDX_OK);
        T(sw);
        T(value_is(&inst, 1, 2, 20, b, MIB));
        /* CTAS, wrong term: unchanged */
        sw = true;
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 1, 3, 30, c, MIB, &sw), KVIDX_OK);
        T(!sw);
        T(value_is(&inst, 1, 2, 20, b, MIB));
        /* CTAS to a small value and back to 1 MiB */
        sw = false;
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 2, 3, 30, "tiny", 4, &sw), KVIDX_OK);
        T(sw);
        T(value_is(&inst, 1, 3, 30, (const unsigned char *)"tiny", 4));
        sw = false;
        CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 3, 4, 40, c, MIB, &sw), KVIDX_OK);
        T(sw);
        T(value_is(&inst, 1, 4, 40, c, MIB));

        /* CAS with the full 1 MiB expected value */
        sw = true;
        c[MIB - 1] ^= 0xFF; /* differs in the last byte only */
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, c, MIB, 5, 50, a, MIB, &sw), KVIDX_OK);
        T(!sw);
        c[MIB - 1] ^= 0xFF;
        T(value_is(&inst, 1, 4, 40, c, MIB));
        sw = false;
        CHECK_EQ_INT(kvidxCompareAndSwap(&inst, 1, c, MIB, 5, 50, a, MIB, &sw), KVIDX_OK);
        T(sw);
        T(value_is(&inst, 1, 5, 50, a, MIB));

        /* GetAndSet: the old 1 MiB value comes back as a malloc'd copy */
        ot = oc = 0;
        od = NULL;
        ol = 0;
        CHECK_EQ_INT(kvidxGetAndSet(&inst, 1, 1, 10, a, MIB, &ot, &oc, &od, &ol), KVIDX_OK);
        CHECK_EQ_U64(ot, 5);
        CHECK_EQ_U64(oc, 50);
        CHECK_EQ_U64(ol, MIB);
        T(od != NULL && memcmp(od, a, MIB) == 0);
        free(od);
        T(value_is(&inst, 1, 1, 10, a, MIB));

        /* GetValueRange: whole value, a middle window, the tail */
        od = NULL;
        ol = 0;
        CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 0, 0, &od, &ol), KVIDX_OK);
        CHECK_EQ_U64(ol, MIB);
        T(od != NULL && memcmp(od, a, MIB) == 0);
        free(od);
        od = NULL;
        ol = 0;
        CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, 12345, 300000, &od, &ol), KVIDX_OK);
        CHECK_EQ_U64(ol, 300000);
        T(od != NULL && memcmp(od, a + 12345, 300000) == 0);
        free(od);
        od = NULL;
        ol = 0;
        CHECK_EQ_INT(kvidxGetValueRange(&inst, 1, MIB - 7, 100, &od, &ol), KVIDX_OK);
        CHECK_EQ_U64(ol, 7);
        T(od != NULL && memcmp(od, a + MIB - 7, 7) == 0);
        free(od);
    }

    /* inside a transaction, then Abort */
    T(kvidxBegin(&inst));
    sw = false;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 1, 9, 90, b, MIB, &sw), KVIDX_OK);
    T(sw);
    T(value_is(&inst, 1, 9, 90, b, MIB));
    T(kvidxAbort(&inst));
    T(value_is(&inst, 1, 1, 10, a, MIB));

    /* a second key with a 1 MiB value, CTAS with a value read from the first */
    {
        const uint8_t *d = NULL;
        size_t l = 0;
        CHECK_EQ_INT(kvidxInsertEx(&inst, 2, 7, 7, b, MIB, KVIDX_SET_ALWAYS), KVIDX_OK);
        T(kvidxGet(&inst, 1, NULL, NULL, &d, &l));
        CHECK_EQ_U64(l, MIB);
        if (d != NULL && l == MIB) {
            /* `d` points into the library; the call must not trip over it */
            memcpy(c, d, MIB);
            sw = false;
            CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 2, 7, 8, 8, c, MIB, &sw), KVIDX_OK);
            T(sw);
            T(value_is(&inst, 2, 8, 8, a, MIB));
            fill(c, MIB, 3); /* restore for the next engine */
        }
    }

    /* GetAndRemove of the 1 MiB values */
    od = NULL;
    ol = 0;
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 1, &ot, &oc, &od, &ol), KVIDX_OK);
    CHECK_EQ_U64(ol, MIB);
    T(od != NULL && memcmp(od, a, MIB) == 0);
    free(od);
    T(!kvidxExists(&inst, 1));
    CHECK_EQ_INT(kvidxGetAndRemove(&inst, 2, NULL, NULL, NULL, NULL), KVIDX_OK);
    T(!kvidxExists(&inst, 2));
    /* CTAS on the now missing key */
    sw = true;
    CHECK_EQ_INT(kvidxCompareTermAndSwap(&inst, 1, 1, 2, 2, b, MIB, &sw), KVIDX_ERROR_NOT_FOUND);
    T(!sw);

    T(kvidxClose(&inst));
}

int main(int argc, char **argv) {
    size_t a, n;
    unsigned char *va, *vb, *vc;
    if (argc < 2) {
        fprintf(stderr, "usage: %s scratch-dir\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    va = (unsigned char *)malloc(MIB);
    vb = (unsigned char *)malloc(MIB);
    vc = (unsigned char *)malloc(MIB);
    CHECK(va != NULL && vb != NULL && vc != NULL, "malloc");
    if (va == NULL || vb == NULL || vc == NULL) {
        free(va);
        free(vb);
        free(vc);
        return check_report();
    }
    fill(va, MIB, 1);
    fill(vb, MIB, 2);
    fill(vc, MIB, 3);
    n = kvidxGetAdapterCount();
    CHECK(n >= 1, "no engine registered");
    for (a = 0; a < n; a++) {
        const kvidxAdapterInfo *ad = kvidxGetAdapterByIndex(a);
        CHECK(ad != NULL && ad->iface != NULL && ad->name != NULL, "adapter %zu", a);
        if (ad == NULL || ad->iface == NULL || ad->name == NULL) {
            continue;
        }
        check_set_context(ad->name);
        run(ad, va, vb, vc);
    }
    free(va);
    free(vb);
    free(vc);
    return check_report();
}
