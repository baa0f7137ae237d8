/* pipe_signals: signals meeting pipes and poll.
 *
 * A blocked pipe read interrupted by a handler fails with EINTR, or starts
 * again under SA_RESTART; a blocked write returns the bytes it wrote; a
 * write with no reader raises SIGPIPE (EPIPE when it is ignored or
 * handled); ppoll()'s and pselect()'s signal mask holds for the wait only:
 * a signal it lets through interrupts the wait and runs its handler, and
 * the thread's own mask is back afterwards. (That a signal the call's mask
 * holds off runs once the call returns is checked in tests/src/bin/pipes.rs:
 * qemu-user loses such a signal.)
 *
 * Signals come from a child process a little after the parent has gone to
 * sleep (or, for the full pipe, once FIONREAD says the pipe is full; the
 * child then waits before it reads, since Linux lets a write go on when
 * room appears before it looks at signals).
 *
 * Runs unmodified on armmap and on Linux; the output must be identical.
 */
#define _GNU_SOURCE
#include "check.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    (void)sig;
    caught++;
}

static void handle(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    caught = 0;
}

static void reset(int sig)
{
    signal(sig, SIG_DFL);
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* A child that sends `sig` to its parent after `ms`, then, if `fd` >= 0,
 * writes `msg` to it after another `ms`. */
static pid_t signal_later(int sig, long ms, int fd, const char *msg)
{
    pid_t parent = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sleep_ms(ms);
    kill(parent, sig);
    if (fd >= 0) {
        sleep_ms(ms);
        if (write(fd, msg, strlen(msg)) < 0)
            _exit(2);
    }
    _exit(0);
}

static int reap(pid_t pid)
{
    int s;
    while (waitpid(pid, &s, 0) < 0 && errno == EINTR) {
    }
    return s;
}

static void case_read_interrupted_eintr(void)
{
    int p[2];
    CHECK_SYS(pipe(p));
    handle(SIGUSR1, 0);
    pid_t c = signal_later(SIGUSR1, 60, p[1], "late");
    char buf[16];
    errno = 0;
    ssize_t r = read(p[0], buf, sizeof buf);
    int e = errno;
    printf("  read: %zd (%s), handler ran %d time(s)\n", r, r < 0 ? strerror(e) : "data", (int)caught);
    CHECK(r == -1 && e == EINTR && caught == 1, "see the line above");
    r = read(p[0], buf, sizeof buf);
    CHECK(r == 4 && memcmp(buf, "late", 4) == 0, "read after the signal: %zd", r);
    CHECK(reap(c) == 0, "see the line above");
    reset(SIGUSR1);
    close(p[0]);
    close(p[1]);
}

static void case_read_restarted_under_sa_restart(void)
{
    int p[2];
    CHECK_SYS(pipe(p));
    handle(SIGUSR1, SA_RESTART);
    pid_t c = signal_later(SIGUSR1, 60, p[1], "later");
    char buf[16];
    ssize_t r = read(p[0], buf, sizeof buf);
    printf("  read: %zd, handler ran %d time(s)\n", r, (int)caught);
    CHECK(r == 5 && memcmp(buf, "later", 5) == 0 && caught == 1, "see the line above");
    CHECK(reap(c) == 0, "see the line above");
    reset(SIGUSR1);
    close(p[0]);
    close(p[1]);
}

static void case_write_interrupted_returns_the_count(void)
{
    static char big[100000];
    int p[2];
    CHECK_SYS(pipe(p));
    handle(SIGUSR1, 0);
    pid_t parent = getpid();
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        /* Wait until the pipe is full (the writer blocks), signal it, then
         * drain the pipe and report the count as the exit status / 4096. */
        close(p[1]);
        int n = 0;
        for (int i = 0; i < 500 && n < 65536; i++) {
            ioctl(p[0], FIONREAD, &n);
            sleep_ms(5);
        }
        sleep_ms(30);
        kill(parent, SIGUSR1);
        /* Room made now would let the write go on: wait until it returned. */
        sleep_ms(150);
        long total = 0;
        char buf[4096];
        ssize_t r;
        while ((r = read(p[0], buf, sizeof buf)) > 0)
            total += r;
        _exit((int)(total / 4096));
    }
    close(p[0]);
    memset(big, 'w', sizeof big);
    ssize_t w = write(p[1], big, sizeof big);
    printf("  write of %zu bytes returned %zd, handler ran %d time(s)\n", sizeof big, w, (int)caught);
    close(p[1]);
    int s = reap(c);
    printf("  the reader got %d pages\n", WIFEXITED(s) ? WEXITSTATUS(s) : -1);
    CHECK(w == 65536 && caught == 1, "see the line above");
    CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 16, "status %#x", s);
    reset(SIGUSR1);
}

static void case_sigpipe_ignored_or_handled_gives_epipe(void)
{
    int p[2];
    CHECK_SYS(pipe(p));
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
    handle(SIGPIPE, 0);
    CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
    printf("  SIGPIPE handler ran %d time(s)\n", (int)caught);
    CHECK(caught == 1, "see the line above");
    reset(SIGPIPE);
    close(p[1]);
    /* With the default action the writer dies of it. */
    CHECK_SYS(pipe(p));
    close(p[0]);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        (void)!write(p[1], "x", 1);
        _exit(9);
    }
    close(p[1]);
    int s = reap(c);
    printf("  default action: %s %d\n", WIFSIGNALED(s) ? "killed by signal" : "exited", WIFSIGNALED(s) ? WTERMSIG(s) : WEXITSTATUS(s));
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGPIPE, "see the line above");
}

/* SIGUSR1 blocked, a wait whose mask lets it through: EINTR, the handler
 * runs, and the block is back afterwards. */
static void mask_lifts_block(int use_select)
{
    int p[2];
    CHECK_SYS(pipe(p));
    handle(SIGUSR1, 0);
    sigset_t block, old, empty, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t c = signal_later(SIGUSR1, 60, -1, NULL);
    struct timespec t = {2, 0};
    int r;
    errno = 0;
    if (use_select) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(p[0], &rd);
        r = pselect(p[0] + 1, &rd, NULL, NULL, &t, &empty);
    } else {
        struct pollfd pf = {p[0], POLLIN, 0};
        r = ppoll(&pf, 1, &t, &empty);
    }
    int e = errno;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("  %s: %d (%s), handler ran %d time(s), SIGUSR1 blocked again: %s\n", use_select ? "pselect" : "ppoll", r,
           r < 0 ? strerror(e) : "-", (int)caught, sigismember(&now, SIGUSR1) ? "yes" : "no");
    CHECK(r == -1 && e == EINTR && caught == 1 && sigismember(&now, SIGUSR1), "see the line above");
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(reap(c) == 0, "see the line above");
    reset(SIGUSR1);
    close(p[0]);
    close(p[1]);
}

static void case_ppoll_mask_lets_a_blocked_signal_in(void)
{
    mask_lifts_block(0);
}

static void case_pselect_mask_lets_a_blocked_signal_in(void)
{
    mask_lifts_block(1);
}

int main(int argc, char **argv)
{
    check_init("pipe_signals");
    check_filter(argc, argv);
    RUN(read_interrupted_eintr);
    RUN(read_restarted_under_sa_restart);
    RUN(write_interrupted_returns_the_count);
    RUN(sigpipe_ignored_or_handled_gives_epipe);
    RUN(ppoll_mask_lets_a_blocked_signal_in);
    RUN(pselect_mask_lets_a_blocked_signal_in);
    return check_finish();
}
