/* kvidxSetError is C-variadic (printf-style), which stable Rust cannot
 * define: format here, store through the library's internal entry point. */
#include <stdarg.h>
#include <stdio.h>

#include "kvidxkit.h"

void kvidx_internal_set_error(kvidxInstance *i, kvidxError err, const char *msg);

void kvidxSetError(kvidxInstance *i, kvidxError err, const char *fmt, ...) {
    char buf[256];
    if (i == NULL) {
        return;
    }
    if (fmt == NULL) {
        kvidx_internal_set_error(i, err, NULL);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    kvidx_internal_set_error(i, err, buf);
}
