/* timer_signals: interval and POSIX timers delivering to handlers.
 *
 * A periodic ITIMER_REAL reaches its SIGALRM handler again and again; a
 * POSIX timer's SA_SIGINFO handler sees SI_TIMER and the timer's
 * sigev_value; a periodic timer whose signal stays blocked is queued once,
 * its expirations counted as overruns. Only facts that do not depend on
 * timing are printed, so the output is the same on armmap and on Linux.
 */
#include "check.h"

#include <signal.h>
#include <sys/time.h>

/* Installs a handler with glibc's sigaction (it returns through the
 * vDSO's __kernel_rt_sigreturn). */
static int set_handler(int sig, void *handler, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (flags & SA_SIGINFO)
        sa.sa_sigaction = handler;
    else
        sa.sa_handler = handler;
    sa.sa_flags = flags;
    return sigaction(sig, &sa, NULL);
}

static volatile sig_atomic_t alarms;
static volatile sig_atomic_t rt_count, rt_code, rt_value, rt_first_overrun;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void on_rt(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    (void)uc;
    if (rt_count++ == 0)
        rt_first_overrun = info->si_overrun;
    rt_code = info->si_code;
    rt_value = info->si_value.sival_int;
}

/* Sleeps in 5 ms steps until *flag reaches n or about 3 s have passed. */
static void wait_for(volatile sig_atomic_t *flag, int n)
{
    for (int i = 0; i < 600 && *flag < n; i++) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void case_periodic_itimer_reaches_its_handler(void)
{
    CHECK_SYS(set_handler(SIGALRM, (void *)on_alarm, 0));
    struct itimerval v = {{0, 20 * 1000}, {0, 20 * 1000}};
    CHECK_SYS(setitimer(ITIMER_REAL, &v, NULL));
    wait_for(&alarms, 3);
    struct itimerval off = {{0, 0}, {0, 0}};
    CHECK_SYS(setitimer(ITIMER_REAL, &off, NULL));
    printf("SIGALRM handled at least 3 times: %s\n", alarms >= 3 ? "yes" : "no");
    CHECK(alarms >= 3, "%d", (int)alarms);
    CHECK_SYS(set_handler(SIGALRM, (void *)SIG_DFL, 0));
}

static void case_posix_timer_siginfo(void)
{
    CHECK_SYS(set_handler(SIGRTMIN + 1, (void *)on_rt, SA_SIGINFO));
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN + 1;
    ev.sigev_value.sival_int = 42;
    timer_t t;
    CHECK_SYS(timer_create(CLOCK_MONOTONIC, &ev, &t));
    rt_count = 0;
    struct itimerspec its = {{0, 0}, {0, 20 * 1000 * 1000}};
    CHECK_SYS(timer_settime(t, 0, &its, NULL));
    wait_for(&rt_count, 1);
    printf("signals %d, SI_TIMER %s, value %d\n", (int)rt_count, rt_code == SI_TIMER ? "yes" : "no", (int)rt_value);
    CHECK(rt_count == 1 && rt_code == SI_TIMER && rt_value == 42, "count %d code %d value %d", (int)rt_count, (int)rt_code, (int)rt_value);
    CHECK_SYS(timer_delete(t));
}

static void case_blocked_periodic_timer_is_queued_once(void)
{
    CHECK_SYS(set_handler(SIGRTMIN + 2, (void *)on_rt, SA_SIGINFO));
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGRTMIN + 2);
    CHECK_SYS(sigprocmask(SIG_BLOCK, &block, &old));
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN + 2;
    timer_t t;
    CHECK_SYS(timer_create(CLOCK_MONOTONIC, &ev, &t));
    rt_count = 0;
    struct itimerspec its = {{0, 5 * 1000 * 1000}, {0, 5 * 1000 * 1000}};
    CHECK_SYS(timer_settime(t, 0, &its, NULL));
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* Unblocked before the timer is stopped (Linux drops a timer's queued
     * signal when the timer is set again): the one queued signal runs at
     * once; at most one more expiry can slip in before the stop. One signal
     * per expiry would be some 20. */
    CHECK_SYS(sigprocmask(SIG_SETMASK, &old, NULL));
    struct itimerspec off = {{0, 0}, {0, 0}};
    CHECK_SYS(timer_settime(t, 0, &off, NULL));
    int n = rt_count;
    printf("blocked timer: queued once %s, overrun in its siginfo %s\n", n >= 1 && n <= 2 ? "yes" : "no",
           rt_first_overrun > 0 ? "positive" : "zero");
    CHECK(n >= 1 && n <= 2, "%d signals", n);
    CHECK(rt_first_overrun > 0, "overrun %d", (int)rt_first_overrun);
    CHECK_SYS(timer_delete(t));
}

int main(void)
{
    check_init("timer_signals");
    RUN(periodic_itimer_reaches_its_handler);
    RUN(posix_timer_siginfo);
    RUN(blocked_periodic_timer_is_queued_once);
    return check_finish();
}
