/* futex_robust: glibc's robust mutexes, which rely on the kernel's robust
 * futex lists (set_robust_list at thread start, the list walked when a
 * thread dies).
 *
 * A thread, or a process, that ends while holding a robust mutex leaves
 * it to the next locker with EOWNERDEAD; a waiter already asleep on it is
 * woken. Run on armmap only (`cargo xtask test c-futex_robust`): qemu-user,
 * the Linux the other C programs are compared with, has no
 * set_robust_list, so glibc's robust mutexes do not work under it.
 */
#include "check.h"

#include <pthread.h>
#include <sys/mman.h>

static pthread_mutex_t *robust_mutex(int shared)
{
    static pthread_mutex_t local;
    pthread_mutex_t *m = &local;
    if (shared) {
        m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
    }
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (shared)
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    int r = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return r == 0 ? m : NULL;
}

static pthread_mutex_t *m;
static volatile int holding;

static void *lock_and_die(void *arg)
{
    (void)arg;
    pthread_mutex_lock(m);
    holding = 1;
    /* Long enough for the main thread to go to sleep on the mutex. */
    struct timespec t = {0, 50 * 1000000};
    nanosleep(&t, NULL);
    return NULL; /* without unlocking */
}

static void case_thread_dies_holding_it(void)
{
    m = robust_mutex(0);
    CHECK(m, "robust mutex init");
    holding = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, lock_and_die, NULL) == 0, "pthread_create");
    while (!holding)
        sched_yield();
    /* Sleeps in the kernel until the owner's death wakes it. */
    int r = pthread_mutex_lock(m);
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    CHECK(r == EOWNERDEAD, "pthread_mutex_lock returned %d, expected EOWNERDEAD", r);
    CHECK(pthread_mutex_consistent(m) == 0, "pthread_mutex_consistent");
    CHECK(pthread_mutex_unlock(m) == 0, "unlock");
    r = pthread_mutex_lock(m);
    CHECK(r == 0, "lock after recovery returned %d", r);
    pthread_mutex_unlock(m);
}

static void case_process_dies_holding_it(void)
{
    m = robust_mutex(1);
    CHECK(m, "shared robust mutex init");
    int *flag = (int *)(m + 1);
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        pthread_mutex_lock(m);
        __atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
        struct timespec t = {0, 50 * 1000000};
        nanosleep(&t, NULL);
        _exit(0); /* without unlocking */
    }
    while (!__atomic_load_n(flag, __ATOMIC_SEQ_CST))
        sched_yield();
    int r = pthread_mutex_lock(m);
    int status = check_wait(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    CHECK(r == EOWNERDEAD, "pthread_mutex_lock returned %d, expected EOWNERDEAD", r);
    CHECK(pthread_mutex_consistent(m) == 0, "pthread_mutex_consistent");
    CHECK(pthread_mutex_unlock(m) == 0, "unlock");
    munmap(m, 4096);
}

int main(int argc, char **argv)
{
    check_init("futex_robust");
    check_filter(argc, argv);
    RUN(thread_dies_holding_it);
    RUN(process_dies_holding_it);
    return check_finish();
}
