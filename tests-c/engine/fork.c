/* fork.c: fork() without exec (issue 10, defect 6). The library's record of
 * what is open in the process does not outlive the process that made it:
 * - LMDB: a child opens the environment whether the parent still has it
 *   open or closed it after forking, as any other process may;
 * - SQLite: a child opens a database the parent closed before forking; one
 *   the parent had open when it forked is refused with a clear LOCKED error
 *   (SQLite keeps per-file state for every connection in the process, and
 *   the child's copy of the parent's connection would share it);
 * - RocksDB (in a RocksDB build) as SQLite: RocksDB's record of the locks
 *   it holds is per process and a child inherits it;
 * - the parent itself still cannot open it twice.
 * Usage: fork DIR */
#include "check.h"
#include "kvidxkit.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define CK(cond) CHECK(cond, "")

static char path[4096];

/* Runs in the child: opens `path` on a fresh instance, checks key 1,
 * inserts `key`, closes. Exit status: 0 when every step worked, 7 when the
 * open was refused with LOCKED and a message about fork(), else the step
 * that failed (the error is printed). */
static int child_open(const kvidxInterface *iface, uint64_t key) {
    kvidxInstance c;
    const char *err = NULL;
    memset(&c, 0, sizeof c);
    c.interface = *iface;
    if (!kvidxOpen(&c, path, &err)) {
        if (kvidxGetLastError(&c) == KVIDX_ERROR_LOCKED && err != NULL && strstr(err, "forked") != NULL) {
            return 7;
        }
        fprintf(stderr, "child: open failed: %s\n", err ? err : "(no message)");
        return 2;
    }
    if (!kvidxExists(&c, 1)) {
        fprintf(stderr, "child: key 1 missing\n");
        return 3;
    }
    if (!kvidxInsert(&c, key, 0, 0, "c", 1)) {
        fprintf(stderr, "child: insert failed: %s\n", kvidxGetLastErrorMessage(&c));
        return 4;
    }
    if (!kvidxClose(&c)) {
        return 5;
    }
    return 0;
}

static int wait_child(pid_t pid) {
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void run(const char *dir, const char *name, const kvidxInterface *iface, bool lmdb) {
    kvidxInstance p;
    const char *err = NULL;
    int fds[2];
    char go = 0;
    pid_t pid;
    int st;

    check_set_context(name);
    snprintf(path, sizeof path, "%s/fork-%s", dir, name);
    memset(&p, 0, sizeof p);
    p.interface = *iface;
    CK(kvidxOpen(&p, path, &err));
    CK(kvidxInsert(&p, 1, 1, 1, "p", 1));

    /* 1. The parent forks while the database is open, then closes it; the
     * child opens it afterwards. */
    CK(pipe(fds) == 0);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        close(fds[1]);
        if (read(fds[0], &go, 1) != 1) _exit(9);
        _exit(child_open(iface, 2));
    }
    close(fds[0]);
    CK(kvidxClose(&p));
    CK(write(fds[1], "g", 1) == 1);
    close(fds[1]);
    st = wait_child(pid);
    if (lmdb) {
        CHECK(st == 0, "the child could not open the environment after the parent closed it (%d)", st);
    } else {
        CHECK(st == 7, "the child's open of a database open in the parent at fork() is LOCKED (%d)", st);
    }

    /* 2. The parent closes, then forks: the child opens it. */
    fflush(NULL);
    pid = fork();
    if (pid == 0) _exit(child_open(iface, 3));
    CHECK(wait_child(pid) == 0, "the child could not open a database the parent closed before forking");

    memset(&p, 0, sizeof p);
    p.interface = *iface;
    CK(kvidxOpen(&p, path, &err));
    CHECK(kvidxExists(&p, 3), "the child's insert is there");
    CHECK(kvidxExists(&p, 2) == lmdb, "the first child's insert (LMDB only)");

    /* 3. LMDB lets several processes use one environment: a child opens it
     * while the parent still has it open. */
    if (lmdb) {
        fflush(NULL);
        pid = fork();
        if (pid == 0) _exit(child_open(iface, 4));
        CHECK(wait_child(pid) == 0, "the child could not open the environment the parent has open");
        CHECK(kvidxExists(&p, 4), "the parent sees the child's insert");
    }

    /* 4. The parent itself still cannot open it twice. */
    {
        kvidxInstance q;
        memset(&q, 0, sizeof q);
        q.interface = *iface;
        CHECK(!kvidxOpen(&q, path, &err), "a second open in the same process is refused");
        CK(kvidxGetLastError(&q) == KVIDX_ERROR_LOCKED);
    }
    CK(kvidxClose(&p));
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    run(dir, "sqlite", &kvidxInterfaceSqlite3, false);
    run(dir, "lmdb", &kvidxInterfaceLmdb, true);
#ifdef KVIDXKIT_HAS_ROCKSDB
    run(dir, "rocksdb", &kvidxInterfaceRocksdb, false);
#endif
    if (check_passed_count < 20) {
        fprintf(stderr, "too few checks ran (%lu)\n", check_passed_count);
        return 1;
    }
    return check_report();
}
