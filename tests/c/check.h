/* check.h: the tiny test pattern shared by the C test programs in tests/c.
 *
 * A program calls check_init("prog"), then RUN(name) for each case: a
 * `static void case_name(void)` function that uses CHECK. A failing CHECK
 * prints `  failure: <file>:<line>: check failed: `<cond>`: <reason>` and
 * returns from the case, which then prints `test prog::name ... FAILED`;
 * a case that returns normally prints `test prog::name ... ok`. main ends
 * with `return check_finish();`, which prints `N passed, M failed` and
 * returns 0 iff every case passed.
 *
 * The output must be the same on armmap and on Linux (qemu-aarch64), so
 * never print addresses, pids or timings. stdout is line buffered, so a
 * fork() never duplicates half a line, and children must leave with
 * _exit(), never print test lines, and only report through their exit
 * status.
 */
#ifndef ARMMAP_CHECK_H
#define ARMMAP_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *check_prog = "?";
static int check_passed, check_failed;
static int check_case_failed;
static int check_pid;

static inline void check_init(const char *prog)
{
    check_prog = prog;
    check_pid = (int)getpid();
    setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((format(printf, 4, 5))) static inline void check_fail(const char *file, int line, const char *cond,
                                                              const char *fmt, ...)
{
    va_list ap;
    printf("  failure: %s:%d: check failed: `%s`", file, line, cond);
    if (fmt && fmt[0]) {
        printf(": ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    }
    printf("\n");
    check_case_failed = 1;
}

/* CHECK(cond, fmt, ...): fails the current case (and returns from it)
 * unless cond holds. Use "" for no explanation. */
#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (!(cond)) {                                            \
            check_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);   \
            return;                                               \
        }                                                         \
    } while (0)

/* CHECK_SYS(call): the call must not return -1; the reason names errno. */
#define CHECK_SYS(call) CHECK((call) != -1, "errno %d (%s)", errno, strerror(errno))

/* CHECK_ERRNO(call, e): the call must fail (-1) with errno e. */
#define CHECK_ERRNO(call, e)                                                                              \
    do {                                                                                                  \
        errno = 0;                                                                                        \
        long check_r_ = (long)(call);                                                                     \
        int check_e_ = errno;                                                                             \
        CHECK(check_r_ == -1 && check_e_ == (e), "returned %ld, errno %d (%s); expected -1 with %s (%d)", \
              check_r_, check_e_, strerror(check_e_), #e, (e));                                           \
    } while (0)

/* CHECK_Z(call): the call must return 0; otherwise the reason names the
 * error number it returned (the pthread_* convention). */
#define CHECK_Z(call)                                                                 \
    do {                                                                              \
        int check_z_ = (call);                                                        \
        CHECK(check_z_ == 0, "returned %d (%s)", check_z_, strerror(check_z_));       \
    } while (0)

/* Set by check_filter: only cases whose name contains it run. */
static const char *check_only;

/* Runs only the cases whose name contains argv[1], when given (for
 * debugging one case by hand; the test runs pass no argument). */
static inline void check_filter(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] != '\0')
        check_only = argv[1];
}

static inline void check_run(const char *name, void (*f)(void))
{
    if (check_only && !strstr(name, check_only))
        return;
    check_case_failed = 0;
    f();
    if (check_case_failed) {
        check_failed++;
        printf("test %s::%s ... FAILED\n", check_prog, name);
    } else {
        check_passed++;
        printf("test %s::%s ... ok\n", check_prog, name);
    }
}

#define RUN(name) check_run(#name, case_##name)

static inline int check_finish(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    fflush(stdout);
    return check_failed != 0;
}

/* A unique path for scratch file n: /tmp/armmap-<prog>-<pid>-<n>. The pid
 * keeps concurrent runs on one Linux host apart (it is the pid at
 * check_init, so a forked child gets the same paths); the path is never
 * printed (it holds a pid). */
static inline const char *check_path(int n)
{
    static char bufs[8][96];
    char *b = bufs[n & 7];
    snprintf(b, sizeof bufs[0], "/tmp/armmap-%s-%d-%d", check_prog, check_pid, n);
    return b;
}

/* Removes scratch files 0..max-1 (after a failed case left some). */
static inline void check_cleanup(int max)
{
    for (int n = 0; n < max; n++)
        unlink(check_path(n));
}

/* Waits for child pid; returns its status word, or -1 (with a reason
 * printed) if waitpid failed. */
static inline int check_wait(pid_t pid)
{
    int status = 0;
    pid_t r;
    do {
        r = waitpid(pid, &status, 0);
    } while (r == -1 && errno == EINTR);
    if (r != pid) {
        printf("  waitpid(child) returned %d, errno %d (%s)\n", (int)r, errno, strerror(errno));
        return -1;
    }
    return status;
}

/* Describes a status word without pids: "exited with status 3",
 * "killed by signal 7". */
static inline const char *check_status_str(int status)
{
    static char b[64];
    if (status == -1)
        snprintf(b, sizeof b, "not reaped");
    else if (WIFEXITED(status))
        snprintf(b, sizeof b, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(b, sizeof b, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(b, sizeof b, "status %#x", status);
    return b;
}

/* Milliseconds of CLOCK_MONOTONIC, for bounding waits (never printed). */
static inline long check_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads up to len bytes of path from the start with read(); returns the
 * count or -1. */
static inline long check_read_file(const char *path, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return (long)got;
}

/* Sleeps ms milliseconds (restarting after a handler ran). */
static inline void check_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* execv(path, argv) for a program re-executing itself (path is argv[0]).
 * Returns only on failure, with errno set. Linux user-mode emulation
 * (qemu-aarch64) on a host without binfmt_misc cannot execve an aarch64
 * binary (ENOEXEC): there, and only there, the program is re-run through
 * the emulator, so that the output stays the same as on armmap and on
 * aarch64 Linux, where the first execv succeeds. */
static inline int check_exec_self(const char *path, char *const argv[])
{
    execv(path, argv);
    if (errno == ENOEXEC) {
        static char *qargv[64];
        int n = 0;
        qargv[n++] = (char *)"qemu-aarch64";
        qargv[n++] = (char *)path;
        for (int i = 1; argv[i] && n < 63; i++)
            qargv[n++] = argv[i];
        qargv[n] = NULL;
        execv("/usr/bin/qemu-aarch64", qargv);
        errno = ENOEXEC;
    }
    return -1;
}

#endif
