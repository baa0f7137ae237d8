/* alarm_timers: alarm(), ualarm() and setitimer(ITIMER_REAL).
 *
 * (a) A one-shot timer (ualarm, 50 ms) runs the SIGALRM handler; pause()
 *     returns EINTR afterwards, not before the time.
 * (b) alarm(0) cancels a pending alarm and returns the seconds that were
 *     left (rounded as Linux does: 5 just after alarm(5)); alarm(0) with
 *     none set returns 0; a newer alarm() replaces the older and returns
 *     its time left.
 * (c) getitimer reports the time left (within what was set), and 0 after
 *     the timer is disarmed; a disarmed timer never fires.
 * (d) An interval timer fires repeatedly (5 ticks of 20 ms, no faster).
 * (e) A forked child starts with no timer; SIGALRM's default action
 *     terminates the process.
 *
 * The kernel needs: setitimer/getitimer(ITIMER_REAL) (glibc's alarm and
 * ualarm use setitimer), timer expiry sending SIGALRM to the process,
 * pause (ppoll or rt_sigsuspend underneath), rt_sigsuspend, fork/wait4.
 */
#include "check.h"

#include <signal.h>
#include <sys/time.h>

static volatile int alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int handle_alarm(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    alarms = 0;
    return sigaction(SIGALRM, &sa, NULL);
}

static long itimer_left_ms(void)
{
    struct itimerval it;
    if (getitimer(ITIMER_REAL, &it) != 0)
        return -1;
    return it.it_value.tv_sec * 1000 + it.it_value.tv_usec / 1000;
}

static void case_ualarm_handler(void)
{
    CHECK_SYS(handle_alarm());
    long t0 = check_now_ms();
    CHECK(ualarm(50000, 0) == 0, "ualarm reported an earlier timer");
    errno = 0;
    int r = pause();
    int e = errno;
    long took = check_now_ms() - t0;
    CHECK(r == -1 && e == EINTR, "pause returned %d, errno %d", r, e);
    CHECK(alarms == 1, "handler ran %d times", alarms);
    CHECK(took >= 40, "the alarm came early");
    CHECK(took < 1000, "the alarm came late");
}

static void case_alarm_cancel(void)
{
    CHECK_SYS(handle_alarm());
    CHECK(alarm(0) == 0, "alarm(0) with none set did not return 0");
    CHECK(alarm(5) == 0, "the first alarm(5) returned nonzero");
    unsigned left = alarm(3);
    CHECK(left == 5, "alarm(3) after alarm(5) returned %u, expected 5", left);
    long ms = itimer_left_ms();
    CHECK(ms > 2000 && ms <= 3000, "getitimer says %ld ms left after alarm(3)", ms);
    left = alarm(0);
    CHECK(left == 3, "alarm(0) returned %u, expected 3", left);
    CHECK(itimer_left_ms() == 0, "a timer is still armed after alarm(0)");
    CHECK(alarm(1) == 0, "alarm(1) after alarm(0) returned nonzero");
    CHECK(alarm(0) == 1, "alarm(0) after alarm(1) did not return 1");
    CHECK(ualarm(30000, 0) == 0, "ualarm found a timer");
    struct itimerval off = {{0, 0}, {0, 0}}, old;
    CHECK_SYS(setitimer(ITIMER_REAL, &off, &old));
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 30000,
          "setitimer's old value is not the time left");
    check_sleep_ms(80);
    CHECK(alarms == 0, "a cancelled alarm fired");
}

static void case_interval_timer(void)
{
    CHECK_SYS(handle_alarm());
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    CHECK_SYS(sigprocmask(SIG_BLOCK, &block, &wait_mask));
    sigdelset(&wait_mask, SIGALRM);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    long t0 = check_now_ms();
    CHECK_SYS(setitimer(ITIMER_REAL, &it, NULL));
    while (alarms < 5)
        sigsuspend(&wait_mask);
    long took = check_now_ms() - t0;
    struct itimerval off = {{0, 0}, {0, 0}}, old;
    CHECK_SYS(setitimer(ITIMER_REAL, &off, &old));
    CHECK_SYS(sigprocmask(SIG_UNBLOCK, &block, NULL));
    CHECK(alarms == 5, "%d ticks", alarms);
    CHECK(took >= 90, "5 ticks of 20 ms took only %ld ms", took);
    CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_usec == 20000, "the interval was not kept");
}

static void case_fork_and_default(void)
{
    CHECK(alarm(10) == 0, "a timer was left armed");
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        struct itimerval it;
        getitimer(ITIMER_REAL, &it);
        if (it.it_value.tv_sec != 0 || it.it_value.tv_usec != 0)
            _exit(2); /* inherited the parent's timer */
        signal(SIGALRM, SIG_DFL);
        ualarm(20000, 0);
        pause();
        _exit(3);
    }
    alarm(0);
    int st = check_wait(pid);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM, "child %s", check_status_str(st));
}

int main(int argc, char **argv)
{
    check_init("alarm_timers");
    check_filter(argc, argv);
    RUN(ualarm_handler);
    RUN(alarm_cancel);
    RUN(interval_timer);
    RUN(fork_and_default);
    return check_finish();
}
