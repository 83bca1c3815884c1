/* check.h: the counting assertions of the C test programs.
 *
 * Every CHECK counts as passed or failed; a failure prints where and why.
 * A program ends with `return check_report();`, which prints the closing
 * line "N passed, M failed" and returns non-zero if anything failed. */
#ifndef KVIDX_TEST_CHECK_H
#define KVIDX_TEST_CHECK_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long check_passed_count = 0;
static unsigned long check_failed_count = 0;
static const char *check_context = "";

static void check_fail(const char *file, int line, const char *expr, const char *fmt, ...) {
    va_list ap;
    check_failed_count++;
    fprintf(stderr, "FAIL %s:%d [%s] %s", file, line, check_context, expr);
    if (fmt != NULL && fmt[0] != '\0') {
        fprintf(stderr, ": ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fprintf(stderr, "\n");
}

/* CHECK(cond) or CHECK(cond, "printf format", args...) */
#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            check_passed_count++;                                              \
        } else {                                                               \
            check_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__);             \
        }                                                                      \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                     \
    do {                                                                       \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);           \
        CHECK(check_a_ == check_b_, "%" PRIu64 " != %" PRIu64, check_a_,       \
              check_b_);                                                       \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
    do {                                                                       \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);        \
        CHECK(check_a_ == check_b_, "%lld != %lld", check_a_, check_b_);       \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *check_a_ = (a), *check_b_ = (b);                           \
        CHECK(check_a_ != NULL && strcmp(check_a_, check_b_) == 0,             \
              "\"%s\" != \"%s\"", check_a_ ? check_a_ : "(null)", check_b_);   \
    } while (0)

static void check_set_context(const char *ctx) { check_context = ctx; }

static int check_report(void) {
    printf("%lu passed, %lu failed\n", check_passed_count, check_failed_count);
    return check_failed_count == 0 ? 0 : 1;
}

#endif
