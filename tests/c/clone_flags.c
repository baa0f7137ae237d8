/* clone_flags: clone and clone3 as Linux's copy_process checks them, and
 * the life of threads within a process.
 *
 * (a) clone's flag rules (kernel/fork.c, copy_process), checked before any
 *     privilege: CLONE_SIGHAND without CLONE_VM is EINVAL; CLONE_THREAD
 *     without CLONE_SIGHAND is EINVAL; CLONE_NEWNS|CLONE_FS and
 *     CLONE_NEWUSER|CLONE_FS are EINVAL; CLONE_THREAD with CLONE_NEWPID or
 *     CLONE_NEWUSER is EINVAL. A lone CLONE_NEWNS gives root on Linux a new
 *     mount namespace, is EPERM without CAP_SYS_ADMIN and EINVAL on a
 *     kernel built without mount namespaces: any of the three passes,
 *     anything else fails.
 * (b) clone3's argument checks (copy_clone_args_from_user,
 *     clone3_args_valid): a size below CLONE_ARGS_SIZE_VER0 (64) is EINVAL;
 *     above a page E2BIG; a larger struct with nonzero bytes past the known
 *     fields E2BIG; an exit_signal above 64, CSIGNAL bits in flags, unknown
 *     flag bits, CLONE_THREAD with an exit_signal, a stack_size without a
 *     stack: EINVAL. A valid clone3 (flags 0, exit_signal SIGCHLD) forks.
 * (c) Threads: gettid equals getpid in the main thread only; getpid is the
 *     same in all threads; set_tid_address returns the caller's tid.
 * (d) A raw clone thread (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|
 *     CLONE_THREAD|CLONE_SYSVSEM|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID)
 *     gets its tid written to parent_tid, and when it leaves with exit (not
 *     exit_group) the process lives on, the kernel clears child_tid and
 *     FUTEX_WAKEs it.
 * (e) A process whose main thread leaves with exit while another thread
 *     goes on lives until the last thread is gone; its wait status is the
 *     last thread's exit code (since Linux 6.0: synchronize_group_exit in
 *     kernel/exit.c makes the last exit a group exit; older kernels gave
 *     the main thread's code), or the code of an exit_group. exit_group
 *     ends every thread at once.
 * (f) execve from a non-main thread ends the other threads (the pipe
 *     they hold is closed: EOF), and the new program runs with the
 *     process's pid as both pid and tid.
 *
 * qemu-user (7.2) is not faithful for clone3: it returns ENOSYS (glibc then
 * falls back to clone), so the clone3_checks case fails under
 * qemu-aarch64; Linux 6.1 passes it. Everything else here gives the same
 * results under qemu-aarch64 and Linux 6.1.
 *
 * The kernel needs: clone with the thread flags, CLONE_PARENT_SETTID,
 * CLONE_CHILD_CLEARTID (clear and futex wake at thread exit), clone3,
 * gettid, set_tid_address, exit vs exit_group, execve from a thread
 * (de_thread: the others are killed, the exec'ing thread takes the leader's
 * pid), futex, wait4, pipes with O_CLOEXEC.
 */
#define _GNU_SOURCE
#include "check.h"

#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

static const char *self;

static pid_t tid_self(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* raw_clone(flags, stack, ptid, tls, ctid, fn, arg): the clone system call;
 * in the child, fn(arg) runs on the new stack and its value goes to exit
 * (the thread's exit, not exit_group). Returns the raw result: the tid,
 * or -errno. */
long raw_clone(unsigned long flags, void *stack, int *ptid, unsigned long tls, int *ctid, int (*fn)(void *),
               void *arg);
__asm__(".text\n"
        ".global raw_clone\n"
        ".type raw_clone, %function\n"
        "raw_clone:\n"
        "    mov x10, x5\n"
        "    mov x11, x6\n"
        "    mov x8, #220\n" /* clone */
        "    svc #0\n"
        "    cbz x0, 1f\n"
        "    ret\n"
        "1:  mov x0, x11\n"
        "    blr x10\n"
        "    mov x8, #93\n" /* exit */
        "    svc #0\n"
        "    brk #0\n"
        ".size raw_clone, . - raw_clone\n");

static int child_exits_0(void *arg)
{
    (void)arg;
    return 0;
}

static int child_exits_99(void *arg)
{
    (void)arg;
    return 99;
}

/* No new stack: the child (if any) runs on a copy of this one, so only
 * for flag sets without CLONE_VM. */
static long clone_flags_only(unsigned long flags, int (*fn)(void *))
{
    return raw_clone(flags, NULL, NULL, 0, NULL, fn, NULL);
}

static void case_clone_flag_rules(void)
{
    const unsigned long thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    struct {
        const char *what;
        unsigned long flags;
    } bad[] = {
        {"CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND | SIGCHLD},
        {"CLONE_THREAD without CLONE_SIGHAND", CLONE_VM | CLONE_THREAD},
        {"CLONE_THREAD without CLONE_SIGHAND or CLONE_VM", CLONE_THREAD},
        {"CLONE_NEWNS|CLONE_FS", CLONE_NEWNS | CLONE_FS | SIGCHLD},
        {"CLONE_NEWUSER|CLONE_FS", CLONE_NEWUSER | CLONE_FS | SIGCHLD},
        {"CLONE_THREAD|CLONE_NEWPID", (thread & ~CLONE_FS) | CLONE_NEWPID},
        {"CLONE_THREAD|CLONE_NEWUSER", (thread & ~CLONE_FS) | CLONE_NEWUSER},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long r = clone_flags_only(bad[i].flags, child_exits_99);
        if (r > 0 && !(bad[i].flags & CLONE_VM))
            check_wait((pid_t)r); /* a child that should not exist */
        CHECK(r == -EINVAL, "%s: clone returned %ld, expected -EINVAL", bad[i].what, r);
    }
    long r = clone_flags_only(CLONE_NEWNS | SIGCHLD, child_exits_0);
    if (r > 0) { /* the child ran in its own mount namespace */
        int st = check_wait((pid_t)r);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "CLONE_NEWNS child %s", check_status_str(st));
    } else {
        CHECK(r == -EPERM || r == -EINVAL, "CLONE_NEWNS: clone returned %ld, expected a child, -EPERM or -EINVAL", r);
    }
}

static long clone3(void *args, size_t size)
{
    return syscall(SYS_clone3, args, size);
}

static void case_clone3_checks(void)
{
    static unsigned char big[2 * 4096] __attribute__((aligned(8)));
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    CHECK_ERRNO(clone3(&a, 63), EINVAL);
    CHECK_ERRNO(clone3(&a, 0), EINVAL);
    memset(big, 0, sizeof big);
    memcpy(big, &a, sizeof a);
    CHECK_ERRNO(clone3(big, 4097), E2BIG);
    big[200] = 1; /* a nonzero byte past every known field */
    CHECK_ERRNO(clone3(big, 256), E2BIG);
    a.exit_signal = 65;
    CHECK_ERRNO(clone3(&a, sizeof a), EINVAL);
    a.exit_signal = SIGCHLD;
    a.flags = SIGCHLD; /* CSIGNAL bits belong in exit_signal */
    CHECK_ERRNO(clone3(&a, sizeof a), EINVAL);
    a.flags = 1ull << 40; /* no such flag */
    CHECK_ERRNO(clone3(&a, sizeof a), EINVAL);
    a.flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD; /* a thread has no exit signal */
    CHECK_ERRNO(clone3(&a, sizeof a), EINVAL);
    a.flags = 0;
    a.stack_size = 4096; /* a size without a stack */
    CHECK_ERRNO(clone3(&a, sizeof a), EINVAL);
    a.stack_size = 0;
    /* A valid one: a fork. A larger, zero-padded struct is fine too. */
    memset(big, 0, sizeof big);
    memcpy(big, &a, sizeof a);
    long r = clone3(big, 256);
    if (r == 0)
        _exit(42);
    CHECK(r > 0, "clone3 as fork failed: errno %d (%s)", errno, strerror(errno));
    int st = check_wait((pid_t)r);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42, "clone3 child %s", check_status_str(st));
}

static void *report_ids(void *arg)
{
    pid_t *out = arg;
    out[0] = getpid();
    out[1] = tid_self();
    return NULL;
}

static void case_tids(void)
{
    pid_t ids[2][2];
    pthread_t t[2];
    CHECK(tid_self() == getpid(), "the main thread's tid is not the pid");
    for (int i = 0; i < 2; i++)
        CHECK_Z(pthread_create(&t[i], NULL, report_ids, ids[i]));
    for (int i = 0; i < 2; i++)
        CHECK_Z(pthread_join(t[i], NULL));
    for (int i = 0; i < 2; i++) {
        CHECK(ids[i][0] == getpid(), "getpid differs in thread %d", i);
        CHECK(ids[i][1] != getpid() && ids[i][1] > 0, "thread %d's tid is the pid", i);
    }
    CHECK(ids[0][1] != ids[1][1], "two threads share a tid");
    /* set_tid_address returns the tid; in a child, so that glibc's own
     * clear-tid address of this thread stays as it is. */
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        static int word;
        long r = syscall(SYS_set_tid_address, &word);
        _exit(r == getpid() ? 0 : 1);
    }
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "set_tid_address did not return the tid");
}

static volatile int thread_ran;
static int raw_thread(void *arg)
{
    (void)arg;
    thread_ran = 1;
    return 0; /* to exit(0): this thread only */
}

static void case_raw_thread_exit(void)
{
    static char stack[64 * 1024] __attribute__((aligned(16)));
    static int ptid, ctid;
    const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                                CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    ptid = 0;
    ctid = -1;
    thread_ran = 0;
    long tid = raw_clone(flags, stack + sizeof stack, &ptid, 0, &ctid, raw_thread, NULL);
    CHECK(tid > 0, "clone returned %ld", tid);
    CHECK(ptid == tid, "CLONE_PARENT_SETTID did not store the tid");
    /* Wait for the kernel to clear ctid (CLONE_CHILD_CLEARTID) and wake us. */
    long end = check_now_ms() + 5000;
    while (__atomic_load_n(&ctid, __ATOMIC_SEQ_CST) != 0 && check_now_ms() < end) {
        struct timespec ts = {0, 100 * 1000000L};
        int v = __atomic_load_n(&ctid, __ATOMIC_SEQ_CST);
        if (v != 0)
            syscall(SYS_futex, &ctid, FUTEX_WAIT, v, &ts, NULL, 0);
    }
    CHECK(ctid == 0, "child_tid was not cleared at the thread's exit");
    CHECK(thread_ran, "the thread did not run");
}

static void *sleeper_then(void *arg)
{
    long how = (long)(intptr_t)arg;
    check_sleep_ms(50);
    if (how == 1)
        syscall(SYS_exit, 7); /* this thread only */
    if (how == 2)
        syscall(SYS_exit_group, 5);
    for (;;)
        pause();
    return NULL;
}

/* In a child: starts a thread doing how (see sleeper_then), then the main
 * thread leaves with exit(3) (how 1, 2) or exit_group(9) (how 3). */
static int child_status(long how)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, sleeper_then, (void *)(intptr_t)(how == 3 ? 0 : how)) != 0)
            _exit(100);
        if (how == 3) {
            pthread_t t2;
            pthread_create(&t2, NULL, sleeper_then, (void *)0);
            syscall(SYS_exit_group, 9);
        }
        syscall(SYS_exit, 3); /* the main thread only */
        _exit(101);
    }
    return pid < 0 ? -1 : check_wait(pid);
}

static void case_exit_vs_exit_group(void)
{
    int st = child_status(1);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "main exit(3), last thread exit(7): %s, expected exit 7",
          check_status_str(st));
    st = child_status(2);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5, "main exit(3), then exit_group(5): %s, expected exit 5",
          check_status_str(st));
    long t0 = check_now_ms();
    st = child_status(3);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9, "exit_group(9) with sleeping threads: %s", check_status_str(st));
    CHECK(check_now_ms() - t0 < 2000, "exit_group waited for the threads");
}

static pid_t exec_pid;
static void *exec_from_thread(void *arg)
{
    (void)arg;
    char pidbuf[16];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)exec_pid);
    char *args[] = {(char *)self, "after-exec", pidbuf, NULL};
    check_exec_self(self, args);
    return NULL;
}

static void case_exec_from_thread(void)
{
    int p[2];
    CHECK_SYS(pipe2(p, O_CLOEXEC));
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        close(p[0]);
        exec_pid = getpid();
        pthread_t sleeper, execer;
        /* p[1] stays open in this process until every thread of the old
         * image is gone (it is close-on-exec for the new one). */
        pthread_create(&sleeper, NULL, sleeper_then, (void *)0);
        pthread_create(&execer, NULL, exec_from_thread, NULL);
        for (;;)
            pause();
    }
    close(p[1]);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    int r = poll(&pfd, 1, 5000);
    char c;
    ssize_t n = r == 1 ? read(p[0], &c, 1) : -1;
    close(p[0]);
    if (r != 1)
        kill(pid, SIGKILL);
    int st = check_wait(pid);
    CHECK(r == 1 && n == 0, "the old image's threads kept the pipe open (poll %d)", r);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the exec'd program %s (1: pid changed, 2: tid != pid)",
          check_status_str(st));
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "after-exec") == 0) {
        if (getpid() != (pid_t)atoi(argv[2]))
            return 1;
        if (tid_self() != getpid())
            return 2;
        return 0;
    }
    self = argv[0];
    check_init("clone_flags");
    check_filter(argc, argv);
    RUN(clone_flag_rules);
    RUN(clone3_checks);
    RUN(tids);
    RUN(raw_thread_exit);
    RUN(exit_vs_exit_group);
    RUN(exec_from_thread);
    return check_finish();
}
