/* signal_restart: system calls interrupted by a handler, with and without
 * SA_RESTART.
 *
 * (a) A read on an empty pipe interrupted by a SIGALRM handler (installed
 *     without SA_RESTART) fails with EINTR.
 * (b) With SA_RESTART the read is restarted after the handler and
 *     completes with the data a child writes later.
 * (c) nanosleep interrupted by a handler fails with EINTR even with
 *     SA_RESTART, and reports the time left: more than 0, less than asked.
 * (d) poll is never restarted after a handler either (EINTR with
 *     SA_RESTART).
 * (e) A signal whose action is to ignore it (SIGWINCH by default, or an
 *     explicit SIG_IGN) does not interrupt a blocked read at all.
 *
 * The kernel needs: pipes with blocking reads that a signal interrupts,
 * ERESTARTSYS-like restart (re-running the system call after the handler
 * when SA_RESTART is set), setitimer(ITIMER_REAL) delivering SIGALRM,
 * nanosleep writing the remaining time, poll, fork/wait4.
 */
#include "check.h"

#include <poll.h>
#include <signal.h>
#include <sys/time.h>

static volatile int alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int handle_alarm(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    alarms = 0;
    return sigaction(SIGALRM, &sa, NULL);
}

static int alarm_in_ms(long ms)
{
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    return setitimer(ITIMER_REAL, &it, NULL);
}

/* A child that sleeps ms, then writes msg to fd and exits. */
static pid_t writer(int fd, long ms, const char *msg)
{
    pid_t pid = fork();
    if (pid == 0) {
        check_sleep_ms(ms);
        if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
            _exit(1);
        _exit(0);
    }
    return pid;
}

static void case_read_eintr(void)
{
    int p[2];
    char buf[16];
    CHECK_SYS(pipe(p));
    CHECK_SYS(handle_alarm(0));
    CHECK_SYS(alarm_in_ms(50));
    errno = 0;
    ssize_t n = read(p[0], buf, sizeof buf);
    int e = errno;
    close(p[0]);
    close(p[1]);
    CHECK(n == -1 && e == EINTR, "read returned %zd, errno %d; expected EINTR", n, e);
    CHECK(alarms == 1, "handler ran %d times", alarms);
}

static void case_read_restarted(void)
{
    int p[2];
    char buf[16] = {0};
    CHECK_SYS(pipe(p));
    CHECK_SYS(handle_alarm(SA_RESTART));
    pid_t pid = writer(p[1], 200, "hello");
    CHECK_SYS(pid);
    CHECK_SYS(alarm_in_ms(50));
    errno = 0;
    ssize_t n = read(p[0], buf, sizeof buf);
    int e = errno;
    int st = check_wait(pid);
    close(p[0]);
    close(p[1]);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0, "read returned %zd, errno %d; expected the 5 bytes", n, e);
    CHECK(alarms == 1, "handler ran %d times", alarms);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %s", check_status_str(st));
}

static void case_nanosleep_remaining(void)
{
    for (int restart = 0; restart < 2; restart++) {
        struct timespec req = {1, 0}, rem = {0, 0};
        CHECK_SYS(handle_alarm(restart ? SA_RESTART : 0));
        CHECK_SYS(alarm_in_ms(50));
        long t0 = check_now_ms();
        errno = 0;
        int r = nanosleep(&req, &rem);
        int e = errno;
        long took = check_now_ms() - t0;
        CHECK(r == -1 && e == EINTR, "%s: nanosleep returned %d, errno %d", restart ? "SA_RESTART" : "plain", r, e);
        CHECK(alarms == 1, "handler ran %d times", alarms);
        CHECK(took < 900, "nanosleep was not cut short");
        long rem_ms = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
        CHECK(rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000L, "rem.tv_nsec out of range");
        CHECK((rem.tv_sec > 0 || rem.tv_nsec > 0) && rem_ms < 1000, "remaining time not in (0, 1 s)");
        CHECK(rem_ms > 100, "remaining time far too small for a 50 ms interruption");
    }
}

static void case_poll_not_restarted(void)
{
    int p[2];
    CHECK_SYS(pipe(p));
    CHECK_SYS(handle_alarm(SA_RESTART));
    CHECK_SYS(alarm_in_ms(50));
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    errno = 0;
    int r = poll(&pfd, 1, 2000);
    int e = errno;
    close(p[0]);
    close(p[1]);
    CHECK(r == -1 && e == EINTR, "poll returned %d, errno %d; expected EINTR", r, e);
    CHECK(alarms == 1, "handler ran %d times", alarms);
}

static void case_ignored_does_not_interrupt(void)
{
    int p[2];
    char buf[16] = {0};
    CHECK_SYS(pipe(p));
    signal(SIGWINCH, SIG_DFL);
    signal(SIGALRM, SIG_IGN);
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        check_sleep_ms(50);
        kill(parent, SIGWINCH);
        kill(parent, SIGALRM);
        check_sleep_ms(50);
        _exit(write(p[1], "late", 4) == 4 ? 0 : 1);
    }
    errno = 0;
    ssize_t n = read(p[0], buf, sizeof buf);
    int e = errno;
    int st = check_wait(pid);
    close(p[0]);
    close(p[1]);
    signal(SIGALRM, SIG_DFL);
    CHECK(n == 4 && memcmp(buf, "late", 4) == 0, "read returned %zd, errno %d; expected the data", n, e);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s", check_status_str(st));
}

int main(int argc, char **argv)
{
    check_init("signal_restart");
    check_filter(argc, argv);
    RUN(read_eintr);
    RUN(read_restarted);
    RUN(nanosleep_remaining);
    RUN(poll_not_restarted);
    RUN(ignored_does_not_interrupt);
    return check_finish();
}
