/* futex_threads: glibc's threads, which sleep and wake on futexes.
 *
 * pthread_join waits on the thread's clear_child_tid word (zeroed and
 * woken by the kernel at thread exit); contended mutexes, condition
 * variables and barriers wait and wake on private futexes. Every result
 * printed is deterministic (counts, not timings).
 *
 * Runs unmodified on armmap and on Linux; the output must be identical.
 */
#include "check.h"

#include <pthread.h>

#define THREADS 4
#define ROUNDS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;

static void *add(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        long v = counter;
        /* Give the others a chance to contend for the lock. */
        if (i % 64 == 0)
            sched_yield();
        counter = v + 1;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(long)ROUNDS;
}

static void case_mutex_and_join(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, add, NULL) == 0, "pthread_create %d", i);
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0, "pthread_join %d", i);
        total += (long)r;
    }
    CHECK(counter == THREADS * ROUNDS, "counter %ld", counter);
    printf("%d threads added %ld under one mutex; joined, %ld reported\n", THREADS, counter, total);
}

/* Threads take turns in order, each waiting on one condition variable
 * until its number comes up. */
static void *take_turns(void *arg)
{
    long me = (long)arg;
    for (int round = 0; round < 50; round++) {
        pthread_mutex_lock(&lock);
        while (turn % THREADS != me)
            pthread_cond_wait(&cond, &lock);
        turn++;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void case_condition_variable_turns(void)
{
    pthread_t t[THREADS];
    turn = 0;
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, take_turns, (void *)i) == 0, "pthread_create %ld", i);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join %d", i);
    CHECK(turn == THREADS * 50, "turn %d", turn);
    printf("%d turns taken in order\n", turn);
}

static pthread_barrier_t barrier;
static int arrived[THREADS];

static void *meet(void *arg)
{
    long me = (long)arg;
    for (int round = 0; round < 20; round++) {
        __atomic_add_fetch(&arrived[me], 1, __ATOMIC_SEQ_CST);
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

static void case_barrier(void)
{
    pthread_t t[THREADS];
    CHECK(pthread_barrier_init(&barrier, NULL, THREADS) == 0, "barrier init");
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, meet, (void *)i) == 0, "pthread_create %ld", i);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join %d", i);
    for (int i = 0; i < THREADS; i++)
        CHECK(arrived[i] == 20, "thread %d arrived %d times", i, arrived[i]);
    pthread_barrier_destroy(&barrier);
    printf("%d threads met 20 times at a barrier\n", THREADS);
}

static void *sleep_on_cond(void *arg)
{
    (void)arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 20 * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&lock);
    int r = pthread_cond_timedwait(&cond, &lock, &until);
    pthread_mutex_unlock(&lock);
    return (void *)(long)r;
}

static void case_timed_wait_times_out(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sleep_on_cond, NULL) == 0, "pthread_create");
    void *r;
    CHECK(pthread_join(t, &r) == 0, "pthread_join");
    CHECK((long)r == ETIMEDOUT, "pthread_cond_timedwait returned %ld", (long)r);
    printf("pthread_cond_timedwait timed out\n");
}

int main(int argc, char **argv)
{
    check_init("futex_threads");
    check_filter(argc, argv);
    RUN(mutex_and_join);
    RUN(condition_variable_turns);
    RUN(barrier);
    RUN(timed_wait_times_out);
    return check_finish();
}
