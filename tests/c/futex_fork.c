/* futex_fork: futexes on memory shared between processes.
 *
 * (a) The futex word's checks without a waker: FUTEX_WAIT on a word that
 *     does not hold the expected value is EAGAIN at once; with the value
 *     and a timeout it is ETIMEDOUT; a bad op is ENOSYS; an unaligned
 *     word is EINVAL; FUTEX_WAKE with nobody waiting wakes 0.
 * (b) An anonymous MAP_SHARED word across fork: the parent FUTEX_WAITs
 *     (shared, not FUTEX_PRIVATE_FLAG), the child stores and FUTEX_WAKEs;
 *     the parent wakes well before its 10 s timeout and sees the store.
 * (c) Several children wait on one shared word; one FUTEX_WAKE of INT_MAX
 *     releases them all.
 * (d) A PTHREAD_PROCESS_SHARED mutex and condition variable in a
 *     MAP_SHARED region: parent and child take turns 500 times each; the
 *     shared counter is exact.
 *
 * The kernel needs: fork, MAP_SHARED anonymous memory, shared futexes
 * keyed by the physical page (not by the address space), FUTEX_WAIT with
 * a relative timeout, FUTEX_WAKE, FUTEX_WAIT_BITSET/WAKE (glibc's condvar
 * uses them), wait4.
 */
#include "check.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static long futex(volatile uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void *shared_page(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void case_futex_errors(void)
{
    volatile uint32_t *w = shared_page();
    CHECK(w != NULL, "mmap: errno %d", errno);
    struct timespec ts = {0, 20 * 1000000L};
    *w = 5;
    CHECK_ERRNO(futex(w, FUTEX_WAIT, 4, NULL), EAGAIN);
    long t0 = check_now_ms();
    CHECK_ERRNO(futex(w, FUTEX_WAIT, 5, &ts), ETIMEDOUT);
    CHECK(check_now_ms() - t0 >= 15, "FUTEX_WAIT returned before its timeout");
    CHECK_ERRNO(futex(w, FUTEX_WAIT_PRIVATE, 5, &ts), ETIMEDOUT);
    CHECK_ERRNO(futex((volatile uint32_t *)((char *)w + 2), FUTEX_WAIT, 5, NULL), EINVAL);
    CHECK_ERRNO(futex(w, 99, 0, NULL), ENOSYS);
    CHECK(futex(w, FUTEX_WAKE, 1, NULL) == 0, "FUTEX_WAKE with no waiter");
    ts.tv_nsec = 1000000000L;
    CHECK_ERRNO(futex(w, FUTEX_WAIT, 5, &ts), EINVAL);
    munmap((void *)w, 4096);
}

static void case_shared_word_across_fork(void)
{
    volatile uint32_t *w = shared_page();
    CHECK(w != NULL, "mmap: errno %d", errno);
    w[0] = 0; /* the futex word */
    w[1] = 0; /* the parent is about to wait */
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        while (__atomic_load_n(&w[1], __ATOMIC_SEQ_CST) == 0)
            check_sleep_ms(1);
        check_sleep_ms(50); /* let the parent sleep in FUTEX_WAIT */
        __atomic_store_n(&w[0], 1, __ATOMIC_SEQ_CST);
        long n = futex(w, FUTEX_WAKE, 1, NULL);
        _exit(n == 0 || n == 1 ? 0 : 1);
    }
    struct timespec ts = {10, 0};
    long t0 = check_now_ms();
    __atomic_store_n(&w[1], 1, __ATOMIC_SEQ_CST);
    long r;
    int err = 0;
    do {
        r = futex(w, FUTEX_WAIT, 0, &ts);
        err = r == -1 ? errno : 0;
    } while (r == -1 && err == EINTR);
    long waited = check_now_ms() - t0;
    int status = check_wait(pid);
    CHECK(r == 0 || err == EAGAIN, "FUTEX_WAIT: errno %d (%s)", err, strerror(err));
    CHECK(waited < 5000, "the child's FUTEX_WAKE did not wake the parent");
    CHECK(w[0] == 1, "the child's store is not seen");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", check_status_str(status));
    munmap((void *)w, 4096);
}

#define WAITERS 3
static void case_wake_all(void)
{
    volatile uint32_t *w = shared_page();
    CHECK(w != NULL, "mmap: errno %d", errno);
    w[0] = 0;
    w[1] = 0; /* children about to wait */
    pid_t pids[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        pids[i] = fork();
        CHECK_SYS(pids[i]);
        if (pids[i] == 0) {
            struct timespec ts = {10, 0};
            __atomic_add_fetch(&w[1], 1, __ATOMIC_SEQ_CST);
            long r;
            do
                r = futex(w, FUTEX_WAIT, 0, &ts);
            while (r == -1 && errno == EINTR);
            if (r == -1 && errno != EAGAIN)
                _exit(2);
            _exit(w[0] == 1 ? 0 : 3);
        }
    }
    while (__atomic_load_n(&w[1], __ATOMIC_SEQ_CST) < WAITERS)
        check_sleep_ms(1);
    check_sleep_ms(50);
    long t0 = check_now_ms();
    __atomic_store_n(&w[0], 1, __ATOMIC_SEQ_CST);
    long woken = futex(w, FUTEX_WAKE, INT_MAX, NULL);
    int bad = 0;
    for (int i = 0; i < WAITERS; i++) {
        int st = check_wait(pids[i]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("  waiter %d %s\n", i, check_status_str(st));
            bad++;
        }
    }
    CHECK(bad == 0, "%d waiters failed", bad);
    CHECK(woken >= 0 && woken <= WAITERS, "FUTEX_WAKE woke %ld", woken);
    CHECK(check_now_ms() - t0 < 5000, "the waiters were not woken");
    munmap((void *)w, 4096);
}

struct pingpong {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int turn; /* 0: parent, 1: child */
    int count;
    int bad;
};

#define ROUNDS 500
static void play(struct pingpong *s, int me)
{
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&s->lock);
        while (s->turn != me)
            pthread_cond_wait(&s->changed, &s->lock);
        if (s->count != 2 * i + me)
            s->bad++;
        s->count++;
        s->turn = !me;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
    }
}

static void case_process_shared_mutex_condvar(void)
{
    struct pingpong *s = shared_page();
    CHECK(s != NULL, "mmap: errno %d", errno);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    CHECK_Z(pthread_mutexattr_init(&ma));
    CHECK_Z(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED));
    CHECK_Z(pthread_mutex_init(&s->lock, &ma));
    CHECK_Z(pthread_condattr_init(&ca));
    CHECK_Z(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED));
    CHECK_Z(pthread_cond_init(&s->changed, &ca));
    s->turn = 0;
    s->count = 0;
    s->bad = 0;
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        play(s, 1);
        _exit(0);
    }
    play(s, 0);
    int status = check_wait(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", check_status_str(status));
    CHECK(s->count == 2 * ROUNDS, "count %d, expected %d", s->count, 2 * ROUNDS);
    CHECK(s->bad == 0, "%d turns out of order", s->bad);
    /* The mutex is free again and usable from here. */
    CHECK_Z(pthread_mutex_trylock(&s->lock));
    CHECK_Z(pthread_mutex_unlock(&s->lock));
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    munmap(s, 4096);
}

int main(int argc, char **argv)
{
    check_init("futex_fork");
    check_filter(argc, argv);
    RUN(futex_errors);
    RUN(shared_word_across_fork);
    RUN(wake_all);
    RUN(process_shared_mutex_condvar);
    return check_finish();
}
