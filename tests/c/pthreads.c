/* pthreads: the POSIX thread library (glibc's NPTL) on top of clone,
 * futex, set_tid_address, set_robust_list, tgkill and rt_sigprocmask.
 *
 * (a) 8 threads each take a mutex 100,000 times to add one: the total is
 *     exact.
 * (b) Producers and consumers on a bounded queue with two condition
 *     variables: every item is consumed exactly once (exact sum).
 * (c) pthread_barrier keeps threads in lockstep: after each wait every
 *     thread sees all the others' stores of the same phase, and exactly
 *     one waiter gets PTHREAD_BARRIER_SERIAL_THREAD per round.
 * (d) pthread_join returns each thread's value.
 * (e) __thread variables start from the TLS image (initialised and zero
 *     parts) in every thread and stay distinct per thread.
 * (f) pthread_cancel of a thread blocked in pthread_cond_wait, in read on
 *     an empty pipe and in nanosleep: its cleanup handlers run and join
 *     gives PTHREAD_CANCELED.
 * (g) A detached thread runs and exits on its own.
 * (h) pthread_kill and per-thread masks (pthread_sigmask): the handler runs
 *     in the thread aimed at (gettid inside it); a process-directed signal
 *     goes to the one thread not blocking it; a signal sent to a thread
 *     that blocks it stays pending for that thread only.
 *
 * The kernel needs: clone with CLONE_VM|CLONE_THREAD|CLONE_SETTLS|
 * CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID (and the futex wake at thread
 * exit), futex WAIT/WAKE (private), tgkill, per-thread signal masks and
 * pending sets, rt_sigaction/rt_sigreturn, pipes, nanosleep interrupted
 * by the cancellation signal (SIGCANCEL = 32).
 */
#include "check.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

static pid_t tid_self(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* (a) */
#define MUTEX_THREADS 8
#define MUTEX_ITERS 100000
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *mutex_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < MUTEX_ITERS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static void case_mutex_counter(void)
{
    pthread_t t[MUTEX_THREADS];
    counter = 0;
    for (int i = 0; i < MUTEX_THREADS; i++)
        CHECK_Z(pthread_create(&t[i], NULL, mutex_worker, NULL));
    for (int i = 0; i < MUTEX_THREADS; i++)
        CHECK_Z(pthread_join(t[i], NULL));
    CHECK(counter == (long)MUTEX_THREADS * MUTEX_ITERS, "counter %ld", counter);
}

/* (b) */
#define QCAP 4
#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS 5000 /* per producer */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    long buf[QCAP];
    int head, count, producers_left;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static void *producer(void *arg)
{
    long base = (long)(intptr_t)arg * ITEMS;
    for (long i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&q.lock);
        while (q.count == QCAP)
            pthread_cond_wait(&q.not_full, &q.lock);
        q.buf[(q.head + q.count) % QCAP] = base + i;
        q.count++;
        pthread_cond_signal(&q.not_empty);
        pthread_mutex_unlock(&q.lock);
    }
    pthread_mutex_lock(&q.lock);
    q.producers_left--;
    pthread_cond_broadcast(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

static void *consumer(void *arg)
{
    long *out = arg; /* out[0] sum, out[1] count */
    for (;;) {
        pthread_mutex_lock(&q.lock);
        while (q.count == 0 && q.producers_left > 0)
            pthread_cond_wait(&q.not_empty, &q.lock);
        if (q.count == 0) {
            pthread_mutex_unlock(&q.lock);
            return NULL;
        }
        long v = q.buf[q.head];
        q.head = (q.head + 1) % QCAP;
        q.count--;
        pthread_cond_signal(&q.not_full);
        pthread_mutex_unlock(&q.lock);
        out[0] += v;
        out[1]++;
    }
}

static void case_condvar_queue(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    long res[CONSUMERS][2] = {{0}};
    q.head = q.count = 0;
    q.producers_left = PRODUCERS;
    for (int i = 0; i < CONSUMERS; i++)
        CHECK_Z(pthread_create(&c[i], NULL, consumer, res[i]));
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_Z(pthread_create(&p[i], NULL, producer, (void *)(intptr_t)i));
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_Z(pthread_join(p[i], NULL));
    long sum = 0, n = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        CHECK_Z(pthread_join(c[i], NULL));
        sum += res[i][0];
        n += res[i][1];
    }
    long total = (long)PRODUCERS * ITEMS;
    CHECK(n == total, "consumed %ld of %ld items", n, total);
    CHECK(sum == total * (total + 1) / 2, "sum %ld, expected %ld", sum, total * (total + 1) / 2);
}

/* (c) */
#define BAR_THREADS 4
#define PHASES 20
static pthread_barrier_t barrier;
static volatile int phase_of[BAR_THREADS];
static int serial_count, lockstep_errors;
static pthread_mutex_t bar_lock = PTHREAD_MUTEX_INITIALIZER;

static void *barrier_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int p = 1; p <= PHASES; p++) {
        phase_of[me] = p;
        int r = pthread_barrier_wait(&barrier);
        int bad = 0;
        for (int i = 0; i < BAR_THREADS; i++)
            if (phase_of[i] != p)
                bad++;
        pthread_mutex_lock(&bar_lock);
        lockstep_errors += bad;
        if (r == PTHREAD_BARRIER_SERIAL_THREAD)
            serial_count++;
        else if (r != 0)
            lockstep_errors++;
        pthread_mutex_unlock(&bar_lock);
        /* Nobody may start the next phase before all have checked. */
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

static void case_barrier_lockstep(void)
{
    pthread_t t[BAR_THREADS];
    serial_count = lockstep_errors = 0;
    CHECK_Z(pthread_barrier_init(&barrier, NULL, BAR_THREADS));
    for (int i = 0; i < BAR_THREADS; i++)
        CHECK_Z(pthread_create(&t[i], NULL, barrier_worker, (void *)(intptr_t)i));
    for (int i = 0; i < BAR_THREADS; i++)
        CHECK_Z(pthread_join(t[i], NULL));
    pthread_barrier_destroy(&barrier);
    CHECK(lockstep_errors == 0, "%d threads saw another in a different phase", lockstep_errors);
    CHECK(serial_count == PHASES, "%d serial waiters in %d rounds", serial_count, PHASES);
}

/* (d) */
static void *returns_square(void *arg)
{
    long i = (long)(intptr_t)arg;
    return (void *)(intptr_t)(i * i + 7);
}

static void *exits_with(void *arg)
{
    pthread_exit((void *)(intptr_t)((long)(intptr_t)arg + 1000));
}

static void case_join_values(void)
{
    pthread_t t[6];
    for (long i = 0; i < 6; i++)
        CHECK_Z(pthread_create(&t[i], NULL, i % 2 ? exits_with : returns_square, (void *)(intptr_t)i));
    for (long i = 0; i < 6; i++) {
        void *v = NULL;
        CHECK_Z(pthread_join(t[i], &v));
        long want = i % 2 ? i + 1000 : i * i + 7;
        CHECK((long)(intptr_t)v == want, "thread %ld returned %ld, expected %ld", i, (long)(intptr_t)v, want);
    }
    CHECK(pthread_join(pthread_self(), NULL) == EDEADLK, "joining oneself");
}

/* (e) */
static __thread int tls_init = 42;
static __thread long tls_zero;
static __thread char tls_text[16] = "tls image";
#define TLS_THREADS 4
static pthread_barrier_t tls_barrier;
static void *tls_addr[TLS_THREADS];

static void *tls_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    long bad = 0;
    if (tls_init != 42 || tls_zero != 0 || strcmp(tls_text, "tls image") != 0)
        bad |= 1;
    tls_init = 100 + me;
    tls_zero = -me;
    tls_text[0] = (char)('A' + me);
    tls_addr[me] = &tls_init;
    pthread_barrier_wait(&tls_barrier); /* all have stored */
    if (tls_init != 100 + me || tls_zero != -me || tls_text[0] != 'A' + me)
        bad |= 2;
    if (tid_self() == getpid())
        bad |= 4;
    return (void *)bad;
}

static void case_tls_per_thread(void)
{
    pthread_t t[TLS_THREADS];
    tls_init = 7;
    CHECK_Z(pthread_barrier_init(&tls_barrier, NULL, TLS_THREADS));
    for (int i = 0; i < TLS_THREADS; i++)
        CHECK_Z(pthread_create(&t[i], NULL, tls_worker, (void *)(intptr_t)i));
    for (int i = 0; i < TLS_THREADS; i++) {
        void *v;
        CHECK_Z(pthread_join(t[i], &v));
        CHECK(v == NULL, "thread %d: %s%s%s", i, (long)v & 1 ? "initial values not the TLS image; " : "",
              (long)v & 2 ? "values changed by another thread; " : "", (long)v & 4 ? "gettid == getpid" : "");
    }
    pthread_barrier_destroy(&tls_barrier);
    for (int i = 0; i < TLS_THREADS; i++)
        for (int j = i + 1; j < TLS_THREADS; j++)
            CHECK(tls_addr[i] != tls_addr[j], "threads %d and %d share a __thread variable", i, j);
    CHECK(tls_init == 7 && tls_zero == 0 && strcmp(tls_text, "tls image") == 0, "main thread's values changed");
}

/* (f) */
static int cleanups;
static volatile int reached;
static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void cleanup_count(void *arg)
{
    __atomic_add_fetch(&cleanups, (int)(intptr_t)arg, __ATOMIC_SEQ_CST);
}

static void cleanup_unlock(void *arg)
{
    /* pthread_cond_wait reacquires the mutex before acting on a cancel. */
    if (pthread_mutex_unlock(arg) == 0)
        __atomic_add_fetch(&cleanups, 100, __ATOMIC_SEQ_CST);
}

static void *blocks_in_cond_wait(void *arg)
{
    (void)arg;
    pthread_cleanup_push(cleanup_count, (void *)1);
    pthread_mutex_lock(&cancel_lock);
    pthread_cleanup_push(cleanup_unlock, &cancel_lock);
    reached = 1;
    for (;;)
        pthread_cond_wait(&never, &cancel_lock);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *blocks_in_read(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char c;
    pthread_cleanup_push(cleanup_count, (void *)10);
    reached = 1;
    for (;;)
        if (read(fd, &c, 1) <= 0)
            break;
    pthread_cleanup_pop(0);
    return (void *)1;
}

static void *blocks_in_nanosleep(void *arg)
{
    (void)arg;
    struct timespec ts = {30, 0};
    pthread_cleanup_push(cleanup_count, (void *)1000);
    reached = 1;
    nanosleep(&ts, NULL);
    pthread_cleanup_pop(0);
    return (void *)2;
}

static void case_cancel_blocked(void)
{
    void *(*fns[3])(void *) = {blocks_in_cond_wait, blocks_in_read, blocks_in_nanosleep};
    const char *names[3] = {"pthread_cond_wait", "read", "nanosleep"};
    int want[3] = {101, 10, 1000};
    int pfd[2];
    CHECK_SYS(pipe(pfd));
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        void *v = NULL;
        cleanups = 0;
        reached = 0;
        CHECK_Z(pthread_create(&t, NULL, fns[i], (void *)(intptr_t)pfd[0]));
        for (int n = 0; n < 2000 && !reached; n++)
            check_sleep_ms(1);
        check_sleep_ms(20); /* let it block (a cancel before is acted on at the call anyway) */
        CHECK_Z(pthread_cancel(t));
        CHECK_Z(pthread_join(t, &v));
        CHECK(v == PTHREAD_CANCELED, "%s: join gave %p, not PTHREAD_CANCELED", names[i], v);
        CHECK(cleanups == want[i], "%s: cleanup handlers added %d, expected %d", names[i], cleanups, want[i]);
    }
    /* The mutex was given back by the cleanup handler. */
    CHECK(pthread_mutex_trylock(&cancel_lock) == 0, "mutex still held after the cancel");
    pthread_mutex_unlock(&cancel_lock);
    close(pfd[0]);
    close(pfd[1]);
}

/* (g) */
static sem_t detached_done;
static volatile int detached_ran;

static void *detached_worker(void *arg)
{
    (void)arg;
    detached_ran = 1;
    sem_post(&detached_done);
    pthread_exit(NULL);
}

static void case_detach_exit(void)
{
    pthread_t t;
    pthread_attr_t attr;
    CHECK_Z(sem_init(&detached_done, 0, 0));
    CHECK_Z(pthread_create(&t, NULL, detached_worker, NULL));
    CHECK_Z(pthread_detach(t));
    CHECK_Z(pthread_attr_init(&attr));
    CHECK_Z(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    CHECK_Z(pthread_create(&t, &attr, detached_worker, NULL));
    pthread_attr_destroy(&attr);
    for (int i = 0; i < 2; i++) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 5;
        CHECK(sem_timedwait(&detached_done, &dl) == 0, "detached thread %d did not run: errno %d", i, errno);
    }
    CHECK(detached_ran, "the detached thread did not run");
    sem_destroy(&detached_done);
}

/* (h) */
#define SIG_THREADS 3
static pid_t thread_tid[SIG_THREADS];
static volatile pid_t handled_in[SIG_THREADS + 1];
static volatile int handled_count;
static volatile int sig_stop;
static pthread_barrier_t sig_barrier;

static void usr1_handler(int sig)
{
    (void)sig;
    int n = __atomic_fetch_add(&handled_count, 1, __ATOMIC_SEQ_CST);
    if (n <= SIG_THREADS)
        handled_in[n] = tid_self();
}

static void *sig_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    sigset_t set;
    thread_tid[me] = tid_self();
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    /* Thread 0 takes SIGUSR1; threads 1 and 2 block it (inherited from
     * main, which blocked it before creating them). */
    if (me == 0)
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    pthread_barrier_wait(&sig_barrier);
    while (!sig_stop)
        check_sleep_ms(1);
    long r = 0;
    if (me == 2) {
        /* A SIGUSR1 aimed at this thread waits in its pending set. */
        sigset_t pend;
        sigpending(&pend);
        if (!sigismember(&pend, SIGUSR1))
            r = 1;
        int before = handled_count;
        pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* delivered here, now */
        if (handled_count != before + 1 || handled_in[before] != tid_self())
            r |= 2;
    }
    return (void *)r;
}

static void case_thread_signals(void)
{
    pthread_t t[SIG_THREADS];
    sigset_t set, old, pend;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = usr1_handler;
    CHECK_SYS(sigaction(SIGUSR1, &sa, NULL));
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK_Z(pthread_sigmask(SIG_BLOCK, &set, &old));
    handled_count = 0;
    sig_stop = 0;
    CHECK_Z(pthread_barrier_init(&sig_barrier, NULL, SIG_THREADS + 1));
    for (int i = 0; i < SIG_THREADS; i++)
        CHECK_Z(pthread_create(&t[i], NULL, sig_worker, (void *)(intptr_t)i));
    pthread_barrier_wait(&sig_barrier);

    /* Aimed at thread 0, which takes it. */
    CHECK_Z(pthread_kill(t[0], SIGUSR1));
    for (int n = 0; n < 2000 && handled_count < 1; n++)
        check_sleep_ms(1);
    CHECK(handled_count == 1, "handler ran %d times for pthread_kill", handled_count);
    CHECK(handled_in[0] == thread_tid[0], "handler ran in the wrong thread");

    /* Process-directed: only thread 0 does not block it. */
    CHECK_SYS(kill(getpid(), SIGUSR1));
    for (int n = 0; n < 2000 && handled_count < 2; n++)
        check_sleep_ms(1);
    CHECK(handled_count == 2, "handler ran %d times after kill", handled_count);
    CHECK(handled_in[1] == thread_tid[0], "process signal handled by a thread that blocks it");

    /* Aimed at thread 2, which blocks it: pending there, not here. */
    CHECK_Z(pthread_kill(t[2], SIGUSR1));
    check_sleep_ms(20);
    CHECK(handled_count == 2, "a blocked signal was handled");
    sigpending(&pend);
    CHECK(!sigismember(&pend, SIGUSR1), "thread 2's pending signal shows in the main thread");
    sig_stop = 1;
    for (int i = 0; i < SIG_THREADS; i++) {
        void *v;
        CHECK_Z(pthread_join(t[i], &v));
        CHECK(v == NULL, "thread %d: %s%s", i, (long)v & 1 ? "SIGUSR1 not pending; " : "",
              (long)v & 2 ? "not handled in the thread on unblock" : "");
    }
    CHECK(handled_count == 3, "handler ran %d times in all", handled_count);
    pthread_barrier_destroy(&sig_barrier);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
}

int main(int argc, char **argv)
{
    check_init("pthreads");
    check_filter(argc, argv);
    RUN(mutex_counter);
    RUN(condvar_queue);
    RUN(barrier_lockstep);
    RUN(join_values);
    RUN(tls_per_thread);
    RUN(cancel_blocked);
    RUN(detach_exit);
    RUN(thread_signals);
    return check_finish();
}
