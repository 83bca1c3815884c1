/* shim.c: an LD_PRELOAD library for the engine tests.
 *
 * - Logs every sync system call made through libc (fsync, fdatasync,
 *   sync_file_range, msync, syncfs, sync) as a line "sync <call> <path>"
 *   to the file named by KVIDX_SHIM_LOG (when set). A program may append
 *   its own marker lines to the same file to delimit phases.
 * - Fails calls on demand, read from KVIDX_SHIM_FAIL at every call (so a
 *   program arms and disarms it with setenv/unsetenv):
 *       "write=ERRNO"  every write to a regular file (write, pwrite,
 *                      pwrite64, writev, pwritev, pwritev64) fails with
 *                      errno ERRNO and writes nothing;
 *       "sync=ERRNO"   every fsync/fdatasync fails with ERRNO.
 * - Delays every pthread_mutex_lock by KVIDX_SHIM_MUTEX_DELAY_US
 *   microseconds (when set): LMDB takes its writer and reader-table locks
 *   with it, so this widens the moments between LMDB's steps.
 *
 * Built by the tests with: cc -shared -fPIC shim.c -o shim.so -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static void *next_fn(const char *name) {
    void *f = dlsym(RTLD_NEXT, name);
    if (f == NULL) {
        fprintf(stderr, "shim: no %s\n", name);
        abort();
    }
    return f;
}

/* The errno to fail `kind` ("write" or "sync") with, or 0. */
static int armed(const char *kind) {
    const char *s = getenv("KVIDX_SHIM_FAIL");
    size_t n = strlen(kind);
    if (s == NULL || strncmp(s, kind, n) != 0 || s[n] != '=') {
        return 0;
    }
    return atoi(s + n + 1);
}

static int is_regular(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static void log_sync(const char *call, int fd) {
    const char *log = getenv("KVIDX_SHIM_LOG");
    char link[64], path[4096];
    ssize_t n;
    int saved = errno;
    if (log == NULL) {
        return;
    }
    path[0] = '\0';
    if (fd >= 0) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof path - 1);
        path[n > 0 ? n : 0] = '\0';
    }
    {
        static int (*real_open)(const char *, int, ...);
        static ssize_t (*real_write)(int, const void *, size_t);
        static int (*real_close)(int);
        char line[4200];
        int lfd, len;
        if (!real_open) {
            real_open = (int (*)(const char *, int, ...))next_fn("open");
            real_write = (ssize_t (*)(int, const void *, size_t))next_fn("write");
            real_close = (int (*)(int))next_fn("close");
        }
        len = snprintf(line, sizeof line, "sync %s %s\n", call, path);
        lfd = real_open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
        if (lfd >= 0) {
            if (real_write(lfd, line, (size_t)len) < 0) { /* best effort */
            }
            real_close(lfd);
        }
    }
    errno = saved;
}

#define FAIL_WRITE(fd)                                                         \
    do {                                                                       \
        int e_ = armed("write");                                               \
        if (e_ != 0 && is_regular(fd)) {                                       \
            errno = e_;                                                        \
            return -1;                                                         \
        }                                                                      \
    } while (0)

ssize_t write(int fd, const void *buf, size_t n) {
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t))next_fn("write");
    FAIL_WRITE(fd);
    return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t, off_t))next_fn("pwrite");
    FAIL_WRITE(fd);
    return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t, off_t))next_fn("pwrite64");
    FAIL_WRITE(fd);
    return real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real) real = (ssize_t (*)(int, const struct iovec *, int))next_fn("writev");
    FAIL_WRITE(fd);
    return real(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
    static ssize_t (*real)(int, const struct iovec *, int, off_t);
    if (!real) real = (ssize_t (*)(int, const struct iovec *, int, off_t))next_fn("pwritev");
    FAIL_WRITE(fd);
    return real(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) {
    static ssize_t (*real)(int, const struct iovec *, int, off_t);
    if (!real) real = (ssize_t (*)(int, const struct iovec *, int, off_t))next_fn("pwritev64");
    FAIL_WRITE(fd);
    return real(fd, iov, cnt, off);
}

int fsync(int fd) {
    static int (*real)(int);
    int e;
    if (!real) real = (int (*)(int))next_fn("fsync");
    log_sync("fsync", fd);
    if ((e = armed("sync")) != 0) {
        errno = e;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    int e;
    if (!real) real = (int (*)(int))next_fn("fdatasync");
    log_sync("fdatasync", fd);
    if ((e = armed("sync")) != 0) {
        errno = e;
        return -1;
    }
    return real(fd);
}

int sync_file_range(int fd, off_t off, off_t n, unsigned int flags) {
    static int (*real)(int, off_t, off_t, unsigned int);
    if (!real) real = (int (*)(int, off_t, off_t, unsigned int))next_fn("sync_file_range");
    log_sync("sync_file_range", fd);
    return real(fd, off, n, flags);
}

int msync(void *addr, size_t len, int flags) {
    static int (*real)(void *, size_t, int);
    if (!real) real = (int (*)(void *, size_t, int))next_fn("msync");
    log_sync("msync", -1);
    return real(addr, len, flags);
}

int syncfs(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))next_fn("syncfs");
    log_sync("syncfs", fd);
    return real(fd);
}

void sync(void) {
    static void (*real)(void);
    if (!real) real = (void (*)(void))next_fn("sync");
    log_sync("sync", -1);
    real();
}

static int (*real_mutex_lock)(pthread_mutex_t *);

__attribute__((constructor)) static void shim_init(void) {
    real_mutex_lock = (int (*)(pthread_mutex_t *))next_fn("pthread_mutex_lock");
}

int pthread_mutex_lock(pthread_mutex_t *m) {
    const char *d = getenv("KVIDX_SHIM_MUTEX_DELAY_US");
    if (!real_mutex_lock) shim_init();
    if (d != NULL) {
        long us = atol(d);
        struct timespec ts;
        ts.tv_sec = us / 1000000;
        ts.tv_nsec = (us % 1000000) * 1000;
        nanosleep(&ts, NULL);
    }
    return real_mutex_lock(m);
}
