/* cookbook/prelude.c: the start of every cookbook translation unit built by
 * tests/cookbook.rs. It comes before the cookbook's recipes and supplies
 * what they expect from their caller: the headers and current_time_ms().
 *
 * current_time_ms() is the real CLOCK_REALTIME (the clock the library's
 * TTLs use) plus an offset the scenarios control, or a frozen instant, so a
 * scenario can move the recipes' notion of time without sleeping. TTLs
 * themselves always run on the real clock: scenarios that need a TTL to
 * pass use short real TTLs and sleep. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "kvidxkit.h"

static uint64_t cb_clock_offset_ms; /* added to the real clock */
static uint64_t cb_clock_frozen_ms; /* when non-zero: the time, whatever the real clock says */

static uint64_t cb_real_time_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t current_time_ms(void) {
    if (cb_clock_frozen_ms != 0) {
        return cb_clock_frozen_ms;
    }
    return cb_real_time_ms() + cb_clock_offset_ms;
}

/* Stops the recipes' clock at `ms` (0: at the current real time). */
static void cb_clock_freeze(uint64_t ms) { cb_clock_frozen_ms = ms != 0 ? ms : cb_real_time_ms(); }

/* Moves the recipes' clock forward without sleeping. */
static void cb_clock_advance(uint64_t ms) {
    if (cb_clock_frozen_ms != 0) {
        cb_clock_frozen_ms += ms;
    } else {
        cb_clock_offset_ms += ms;
    }
}

/* Back to the real clock. */
static void cb_clock_real(void) {
    cb_clock_frozen_ms = 0;
    cb_clock_offset_ms = 0;
}
