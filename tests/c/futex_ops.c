/* futex_ops: every futex operation, across fork, through syscall(SYS_futex).
 *
 * The words live in a MAP_SHARED anonymous page. A child that must act
 * only once the parent sleeps probes for the sleeper without waking it: a
 * FUTEX_REQUEUE of at most one sleeper from the word onto itself returns 1
 * once one is queued. Every wait has a timeout and every probe loop a
 * bound, so a broken kernel fails the case instead of hanging it.
 *
 * Runs unmodified on armmap and on Linux; the output must be identical.
 */
#include "check.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static long futex(unsigned *uaddr, int op, unsigned val, const struct timespec *t, unsigned *uaddr2, unsigned val3)
{
    return syscall(SYS_futex, uaddr, op, val, t, uaddr2, val3);
}

/* A count in the timeout argument (requeue and wake-op). */
static long futex2(unsigned *uaddr, int op, unsigned val, unsigned long val2, unsigned *uaddr2, unsigned val3)
{
    return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static int has_sleeper(unsigned *w)
{
    return futex2(w, FUTEX_REQUEUE, 0, 1, w, 0) == 1;
}

/* Polls (at most about 5 s) until a sleeper is queued on w. */
static int await_sleeper(unsigned *w)
{
    for (int i = 0; i < 5000; i++) {
        if (has_sleeper(w))
            return 1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 0;
}

/* Polls (at most about 5 s) until n sleepers are queued on w. */
static int await_sleepers(unsigned *w, int n)
{
    for (int i = 0; i < 5000; i++) {
        if (futex2(w, FUTEX_REQUEUE, 0, n, w, 0) == n)
            return 1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 0;
}

static unsigned *words;

static void case_map_shared_page(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    words = p;
}

static void case_value_mismatch_is_eagain(void)
{
    CHECK(words, "no page");
    words[0] = 1;
    CHECK_ERRNO(futex(&words[0], FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN);
    words[0] = 0;
}

static void case_timeout_is_etimedout(void)
{
    CHECK(words, "no page");
    struct timespec t = {0, 20 * 1000000}, t0, t1;
    CHECK_SYS(clock_gettime(CLOCK_MONOTONIC, &t0));
    CHECK_ERRNO(futex(&words[0], FUTEX_WAIT, 0, &t, NULL, 0), ETIMEDOUT);
    CHECK_SYS(clock_gettime(CLOCK_MONOTONIC, &t1));
    long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    CHECK(ns >= 20000000, "a 20 ms wait lasted %lld ns", ns);
}

static void case_child_wakes_parent(void)
{
    CHECK(words, "no page");
    words[0] = 0;
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        for (int i = 0; i < 5000; i++) {
            long n = futex(&words[0], FUTEX_WAKE, 1, NULL, NULL, 0);
            if (n == 1)
                _exit(0);
            if (n != 0)
                _exit(2);
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        _exit(1);
    }
    struct timespec t = {10, 0};
    long r = futex(&words[0], FUTEX_WAIT, 0, &t, NULL, 0);
    int e = errno;
    int status = check_wait(pid);
    CHECK(r == 0, "FUTEX_WAIT returned %ld, errno %d (%s)", r, e, strerror(e));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    printf("parent woken by its child\n");
}

static void case_requeue_then_wake(void)
{
    CHECK(words, "no page");
    words[1] = 5;
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        if (!await_sleeper(&words[1]))
            _exit(1);
        if (futex2(&words[1], FUTEX_CMP_REQUEUE, 0, 1, &words[2], 6) != -1 || errno != EAGAIN)
            _exit(2);
        if (futex2(&words[1], FUTEX_CMP_REQUEUE, 0, 1, &words[2], 5) != 1)
            _exit(3);
        if (futex(&words[1], FUTEX_WAKE, 1, NULL, NULL, 0) != 0)
            _exit(4);
        if (futex(&words[2], FUTEX_WAKE, 1, NULL, NULL, 0) != 1)
            _exit(5);
        _exit(0);
    }
    struct timespec t = {10, 0};
    long r = futex(&words[1], FUTEX_WAIT, 5, &t, NULL, 0);
    int status = check_wait(pid);
    CHECK(r == 0, "FUTEX_WAIT returned %ld, errno %d", r, errno);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    printf("requeued from one word to the other, then woken\n");
}

static void case_wake_op(void)
{
    CHECK(words, "no page");
    words[3] = 0;
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        if (!await_sleeper(&words[3]))
            _exit(1);
        /* words[3] += 1; wake words[3] if it was 0. */
        long n = futex2(&words[4], FUTEX_WAKE_OP, 1, 1, &words[3], FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0));
        _exit(n == 1 ? 0 : 2);
    }
    struct timespec t = {10, 0};
    long r = futex(&words[3], FUTEX_WAIT, 0, &t, NULL, 0);
    int status = check_wait(pid);
    CHECK(r == 0, "FUTEX_WAIT returned %ld, errno %d", r, errno);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    printf("wake-op left %u in the word\n", words[3]);
}

/* Each comparison of FUTEX_WAKE_OP, with the old value below, equal to
 * and above the argument (0): is the sleeper on the second word woken?
 * The operation sets the word to the value it held, so the sleeper sleeps
 * on; one that is not woken is woken by a plain FUTEX_WAKE after. */
static void case_wake_op_comparisons(void)
{
    CHECK(words, "no page");
    for (int cmp = FUTEX_OP_CMP_EQ; cmp <= FUTEX_OP_CMP_GE; cmp++) {
        for (int old = -1; old <= 1; old++) {
            words[6] = (unsigned)old;
            pid_t pid = fork();
            CHECK_SYS(pid);
            if (pid == 0) {
                struct timespec t = {10, 0};
                _exit(futex(&words[6], FUTEX_WAIT, (unsigned)old, &t, NULL, 0) == 0 ? 0 : 1);
            }
            int slept = await_sleeper(&words[6]);
            long n = futex2(&words[7], FUTEX_WAKE_OP, 1, 1, &words[6], FUTEX_OP(FUTEX_OP_SET, old & 0xfff, cmp, 0));
            if (n == 0)
                futex(&words[6], FUTEX_WAKE, 1, NULL, NULL, 0);
            int status = check_wait(pid);
            CHECK(slept, "the child never slept");
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
            printf("comparison %d, old value %d against 0: %ld woken\n", cmp, old, n);
        }
    }
}

/* Three sleepers on one word: a wake of 0 still wakes one; a requeue
 * wakes one and moves one; the last stays. */
static void case_counts(void)
{
    CHECK(words, "no page");
    words[8] = 0;
    words[9] = 0;
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        CHECK_SYS(pids[i]);
        if (pids[i] == 0) {
            struct timespec t = {10, 0};
            _exit(futex(&words[8], FUTEX_WAIT, 0, &t, NULL, 0) == 0 ? 0 : 1);
        }
    }
    int slept = await_sleepers(&words[8], 3);
    long zero = futex(&words[8], FUTEX_WAKE, 0, NULL, NULL, 0);
    long requeued = futex2(&words[8], FUTEX_CMP_REQUEUE, 1, 1, &words[9], 0);
    long on_first = futex(&words[8], FUTEX_WAKE, 10, NULL, NULL, 0);
    long on_second = futex(&words[9], FUTEX_WAKE, 10, NULL, NULL, 0);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        int status = check_wait(pids[i]);
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK(slept, "three sleepers never queued");
    CHECK(ok, "a child was not woken");
    printf("wake 0: %ld, cmp_requeue 1+1: %ld, then %ld and %ld woken\n", zero, requeued, on_first, on_second);
}

/* A call's result, or -errno. */
static long res(long r)
{
    return r == -1 ? -errno : r;
}

/* Which error wins when several apply: the order Linux checks in. */
static void case_error_order(void)
{
    CHECK(words, "no page");
    char *hole = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED, "mmap: errno %d", errno);
    CHECK_SYS(munmap(hole, 4096));
    unsigned *w = &words[10], *h = (unsigned *)hole, *odd = (unsigned *)((char *)w + 2);
    struct timespec bad = {0, 1000000000}, ok = {0, 1000};
    struct {
        const char *what;
        long r;
    } calls[] = {
        {"realtime wait, bad timespec", res(futex(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &bad, NULL, 0))},
        {"realtime wait", res(futex(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &ok, NULL, 0))},
        {"realtime wake", res(futex(w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0))},
        {"misaligned wait, unreadable timeout", res(futex(odd, FUTEX_WAIT, 0, (void *)hole, NULL, 0))},
        {"misaligned wait, bad timespec", res(futex(odd, FUTEX_WAIT, 0, &bad, NULL, 0))},
        {"empty bitset, unmapped word", res(futex(h, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0))},
        {"empty bitset, misaligned word", res(futex(odd, FUTEX_WAIT_BITSET, 0, &ok, NULL, 0))},
        {"negative requeue count, unmapped word", res(futex2(h, FUTEX_REQUEUE, 1, -1UL, w, 0))},
        {"requeue, misaligned target, value differs", res(futex2(w, FUTEX_CMP_REQUEUE, 1, 1, odd, 99))},
        {"requeue, unmapped target", res(futex2(w, FUTEX_REQUEUE, 1, 1, h, 0))},
        {"requeue private, unmapped target", res(futex2(w, FUTEX_REQUEUE_PRIVATE, 1, 1, h, 0))},
        {"wake-op, unknown operation, unmapped word", res(futex2(w, FUTEX_WAKE_OP_PRIVATE, 1, 1, h, 7u << 28))},
        {"wake-op, unknown operation, misaligned word", res(futex2(w, FUTEX_WAKE_OP, 1, 1, odd, 7u << 28))},
        {"wake-op, unmapped word", res(futex2(w, FUTEX_WAKE_OP, 1, 1, h, 0))},
        {"wait on NULL", res(futex(NULL, FUTEX_WAIT, 0, &ok, NULL, 0))},
        {"wake on NULL, private", res(futex(NULL, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0))},
        {"operation -1", res(futex(w, -1, 0, NULL, NULL, 0))},
        {"FUTEX_FD (removed)", res(futex(w, 2, 0, NULL, NULL, 0))},
    };
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++)
        printf("%s: %ld\n", calls[i].what, calls[i].r);
}

static void case_private_flag_needs_same_process(void)
{
    CHECK(words, "no page");
    words[5] = 0;
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        struct timespec t = {0, 100 * 1000000};
        long r = futex(&words[5], FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0);
        _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
    }
    long woken = 0;
    int status = 0, reaped = 0;
    for (int i = 0; i < 5000 && !reaped; i++) {
        woken += futex(&words[5], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        reaped = waitpid(pid, &status, WNOHANG) == pid;
        if (reaped)
            break;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (!reaped)
        status = check_wait(pid);
    CHECK(woken == 0, "private wakes in the parent woke %ld", woken);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

int main(int argc, char **argv)
{
    check_init("futex_ops");
    check_filter(argc, argv);
    RUN(map_shared_page);
    RUN(value_mismatch_is_eagain);
    RUN(timeout_is_etimedout);
    RUN(child_wakes_parent);
    RUN(requeue_then_wake);
    RUN(wake_op);
    RUN(wake_op_comparisons);
    RUN(counts);
    RUN(error_order);
    RUN(private_flag_needs_same_process);
    return check_finish();
}
