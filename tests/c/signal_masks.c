/* signal_masks: blocking, pending, queueing and waiting for signals.
 *
 * (a) A blocked signal stays pending (sigpending) however often it is
 *     sent, and is delivered exactly once on unblock (standard signals
 *     coalesce).
 * (b) Realtime signals queue: SIGRTMIN sent three times by sigqueue while
 *     blocked runs the handler three times, in the order sent, with each
 *     si_value and si_code SI_QUEUE; several pending signals are delivered
 *     lowest number first (a handler whose sa_mask blocks everything runs
 *     them one after the other).
 * (c) Setting SIG_IGN drops the signal from the pending set; a signal
 *     sent while blocked is queued even if ignored (Linux's sig_ignored:
 *     the handler may change before the unblock), one sent while not
 *     blocked and ignored is dropped.
 * (d) sigsuspend waits with a temporary mask, returns EINTR after the
 *     handler ran, and puts the old mask back.
 * (e) sigtimedwait: EAGAIN after its timeout; with a queued signal it
 *     returns it at once with si_code SI_QUEUE, si_value, si_pid, si_uid;
 *     sigwaitinfo takes a signal sent later by kill (SI_USER, the sender's
 *     pid).
 * (f) SA_RESETHAND: the handler runs once and the disposition is SIG_DFL
 *     again. SA_NODEFER: a handler raising its own signal is re-entered at
 *     once; without it the second run waits until the first returns.
 *     sa_mask is added to the mask while the handler runs.
 * (g) SIGKILL and SIGSTOP cannot be caught or ignored (EINVAL from
 *     sigaction) nor blocked (sigprocmask leaves them out silently); signal
 *     numbers 0 and 65 are EINVAL.
 *
 * The kernel needs: rt_sigaction (SA_SIGINFO, SA_RESETHAND, SA_NODEFER,
 * sa_mask), rt_sigprocmask, rt_sigpending, rt_sigqueueinfo, a realtime
 * signal queue, rt_sigsuspend, rt_sigtimedwait, kill, fork/wait4.
 */
#include "check.h"

#include <signal.h>

static volatile int count_usr1, count_usr2;
static void on_usr1(int sig)
{
    (void)sig;
    count_usr1++;
}
static void on_usr2(int sig)
{
    (void)sig;
    count_usr2++;
}

static int handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    return sigaction(sig, &sa, NULL);
}

static int mask_op(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return sigprocmask(how, &s, NULL);
}

static int is_pending(int sig)
{
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, sig);
}

static int is_blocked(int sig)
{
    sigset_t m;
    sigprocmask(SIG_SETMASK, NULL, &m);
    return sigismember(&m, sig);
}

static void case_blocked_stays_pending(void)
{
    CHECK_SYS(handle(SIGUSR1, on_usr1, 0));
    count_usr1 = 0;
    CHECK_SYS(mask_op(SIG_BLOCK, SIGUSR1));
    CHECK(!is_pending(SIGUSR1), "SIGUSR1 pending before it was sent");
    for (int i = 0; i < 3; i++)
        CHECK_SYS(kill(getpid(), SIGUSR1));
    CHECK(count_usr1 == 0, "a blocked signal was delivered");
    CHECK(is_pending(SIGUSR1), "the blocked signal is not pending");
    CHECK_SYS(mask_op(SIG_UNBLOCK, SIGUSR1));
    CHECK(count_usr1 == 1, "delivered %d times on unblock, expected once", count_usr1);
    CHECK(!is_pending(SIGUSR1), "still pending after delivery");
    signal(SIGUSR1, SIG_DFL);
}

#define LOG_MAX 16
static volatile int log_sig[LOG_MAX], log_val[LOG_MAX], log_code[LOG_MAX], log_n;
static void logger(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (log_n < LOG_MAX) {
        log_sig[log_n] = sig;
        log_val[log_n] = si->si_value.sival_int;
        log_code[log_n] = si->si_code;
    }
    log_n++;
}

static int handle_logged(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = logger;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask); /* one at a time, in delivery order */
    return sigaction(sig, &sa, NULL);
}

static void case_realtime_queue(void)
{
    int rt = SIGRTMIN;
    CHECK_SYS(handle_logged(rt));
    CHECK_SYS(handle_logged(rt + 1));
    CHECK_SYS(handle_logged(SIGUSR2));
    log_n = 0;
    sigset_t all, old;
    sigfillset(&all);
    CHECK_SYS(sigprocmask(SIG_BLOCK, &all, &old));
    for (int v = 1; v <= 3; v++)
        CHECK_SYS(sigqueue(getpid(), rt, (union sigval){.sival_int = v * 10}));
    CHECK_SYS(sigqueue(getpid(), rt + 1, (union sigval){.sival_int = 99}));
    CHECK_SYS(kill(getpid(), SIGUSR2));
    CHECK_SYS(kill(getpid(), SIGUSR2));
    CHECK(log_n == 0, "delivered while blocked");
    CHECK_SYS(sigprocmask(SIG_SETMASK, &old, NULL));
    /* SIGUSR2 once (coalesced), then SIGRTMIN x3 in order, then SIGRTMIN+1. */
    int want_sig[5] = {SIGUSR2, rt, rt, rt, rt + 1};
    int want_val[5] = {0, 10, 20, 30, 99};
    CHECK(log_n == 5, "%d deliveries, expected 5", log_n);
    for (int i = 0; i < 5; i++) {
        CHECK(log_sig[i] == want_sig[i], "delivery %d was signal %d, expected %d", i, log_sig[i], want_sig[i]);
        if (i > 0) {
            CHECK(log_val[i] == want_val[i], "delivery %d carried %d, expected %d", i, log_val[i], want_val[i]);
            CHECK(log_code[i] == SI_QUEUE, "delivery %d si_code %d, expected SI_QUEUE", i, log_code[i]);
        }
    }
    CHECK(log_code[0] == SI_USER, "kill's si_code %d, expected SI_USER", log_code[0]);
    signal(rt, SIG_DFL);
    signal(rt + 1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static void case_ignored_is_discarded(void)
{
    CHECK_SYS(mask_op(SIG_BLOCK, SIGUSR1));
    CHECK_SYS(raise(SIGUSR1));
    CHECK(is_pending(SIGUSR1), "not pending");
    CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR, "errno %d", errno);
    CHECK(!is_pending(SIGUSR1), "still pending after SIG_IGN");
    /* A blocked signal is never ignored when sent (the disposition may
     * change before it is unblocked): it is queued. */
    CHECK_SYS(raise(SIGUSR1));
    CHECK(is_pending(SIGUSR1), "a blocked, ignored signal was not queued");
    CHECK_SYS(handle(SIGUSR1, on_usr1, 0));
    count_usr1 = 0;
    CHECK_SYS(mask_op(SIG_UNBLOCK, SIGUSR1));
    CHECK(count_usr1 == 1, "the queued signal ran the new handler %d times", count_usr1);
    /* Unblocked and ignored: discarded when sent. */
    CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR, "errno %d", errno);
    CHECK_SYS(raise(SIGUSR1));
    CHECK(!is_pending(SIGUSR1), "an ignored signal is pending");
    signal(SIGUSR1, SIG_DFL);
}

static volatile int usr1_blocked_in_handler;
static void on_usr1_check_mask(int sig)
{
    (void)sig;
    count_usr1++;
    usr1_blocked_in_handler = is_blocked(SIGUSR1);
}

static void case_sigsuspend(void)
{
    CHECK_SYS(handle(SIGUSR1, on_usr1_check_mask, 0));
    CHECK_SYS(mask_op(SIG_BLOCK, SIGUSR1));
    CHECK_SYS(mask_op(SIG_BLOCK, SIGUSR2));
    count_usr1 = 0;
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        check_sleep_ms(30);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    sigset_t during;
    sigfillset(&during);
    sigdelset(&during, SIGUSR1);
    errno = 0;
    int r = sigsuspend(&during);
    int e = errno;
    int st = check_wait(pid);
    CHECK(r == -1 && e == EINTR, "sigsuspend returned %d, errno %d", r, e);
    CHECK(count_usr1 == 1, "handler ran %d times", count_usr1);
    CHECK(usr1_blocked_in_handler, "SIGUSR1 not blocked inside its own handler");
    CHECK(is_blocked(SIGUSR1) && is_blocked(SIGUSR2), "the old mask was not restored");
    CHECK(!is_blocked(SIGTERM), "sigsuspend's mask stayed");
    CHECK(WIFEXITED(st), "child %s", check_status_str(st));
    CHECK_SYS(mask_op(SIG_UNBLOCK, SIGUSR1));
    CHECK_SYS(mask_op(SIG_UNBLOCK, SIGUSR2));
    signal(SIGUSR1, SIG_DFL);
}

static void case_sigtimedwait(void)
{
    sigset_t set;
    siginfo_t si;
    struct timespec ts = {0, 50 * 1000000L};
    int rt = SIGRTMIN + 3;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, rt);
    CHECK_SYS(sigprocmask(SIG_BLOCK, &set, NULL));
    long t0 = check_now_ms();
    CHECK_ERRNO(sigtimedwait(&set, &si, &ts), EAGAIN);
    CHECK(check_now_ms() - t0 >= 40, "sigtimedwait returned before its timeout");
    CHECK_SYS(sigqueue(getpid(), rt, (union sigval){.sival_int = 77}));
    memset(&si, 0, sizeof si);
    int r = sigtimedwait(&set, &si, &ts);
    CHECK(r == rt, "sigtimedwait returned %d, expected %d (errno %d)", r, rt, errno);
    CHECK(si.si_signo == rt && si.si_code == SI_QUEUE, "si_signo %d si_code %d", si.si_signo, si.si_code);
    CHECK(si.si_value.sival_int == 77, "si_value %d", si.si_value.sival_int);
    CHECK(si.si_pid == getpid() && si.si_uid == getuid(), "si_pid/si_uid are not the sender's");
    CHECK(!is_pending(rt), "still pending after sigtimedwait took it");

    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        check_sleep_ms(30);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    memset(&si, 0, sizeof si);
    r = sigwaitinfo(&set, &si);
    int st = check_wait(pid);
    CHECK(r == SIGUSR2, "sigwaitinfo returned %d (errno %d)", r, errno);
    CHECK(si.si_code == SI_USER && si.si_pid == pid, "si_code %d; si_pid is%s the child's", si.si_code,
          si.si_pid == pid ? "" : " not");
    CHECK(WIFEXITED(st), "child %s", check_status_str(st));
    CHECK_SYS(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static void case_resethand(void)
{
    struct sigaction old;
    CHECK_SYS(handle(SIGUSR1, on_usr1, SA_RESETHAND));
    count_usr1 = 0;
    CHECK_SYS(raise(SIGUSR1));
    CHECK(count_usr1 == 1, "handler ran %d times", count_usr1);
    CHECK_SYS(sigaction(SIGUSR1, NULL, &old));
    CHECK(old.sa_handler == SIG_DFL, "the disposition was not reset to SIG_DFL");
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        handle(SIGUSR1, on_usr1, SA_RESETHAND);
        raise(SIGUSR1);
        raise(SIGUSR1); /* the default action now: terminate */
        _exit(3);
    }
    int st = check_wait(pid);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1, "child %s", check_status_str(st));
}

static volatile int depth, max_depth, runs;
static void reentrant(int sig)
{
    depth++;
    runs++;
    if (depth > max_depth)
        max_depth = depth;
    if (runs == 1)
        raise(sig);
    depth--;
}

static void case_nodefer(void)
{
    CHECK_SYS(handle(SIGUSR1, reentrant, SA_NODEFER));
    depth = max_depth = runs = 0;
    CHECK_SYS(raise(SIGUSR1));
    CHECK(runs == 2 && max_depth == 2, "SA_NODEFER: %d runs, depth %d; expected 2 nested", runs, max_depth);
    CHECK_SYS(handle(SIGUSR1, reentrant, 0));
    depth = max_depth = runs = 0;
    CHECK_SYS(raise(SIGUSR1));
    CHECK(runs == 2 && max_depth == 1, "without SA_NODEFER: %d runs, depth %d; expected 2 in turn", runs,
          max_depth);
    signal(SIGUSR1, SIG_DFL);
}

static volatile int usr2_blocked_inside, usr2_ran_inside;
static void masking_handler(int sig)
{
    (void)sig;
    usr2_blocked_inside = is_blocked(SIGUSR2);
    raise(SIGUSR2);
    usr2_ran_inside = count_usr2;
}

static void case_sa_mask(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = masking_handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK_SYS(sigaction(SIGUSR1, &sa, NULL));
    CHECK_SYS(handle(SIGUSR2, on_usr2, 0));
    count_usr2 = 0;
    CHECK_SYS(raise(SIGUSR1));
    CHECK(usr2_blocked_inside, "sa_mask was not applied in the handler");
    CHECK(usr2_ran_inside == 0, "SIGUSR2 ran inside the handler that masks it");
    CHECK(count_usr2 == 1, "SIGUSR2 ran %d times after the handler", count_usr2);
    CHECK(!is_blocked(SIGUSR2), "sa_mask stayed after the handler");
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static void case_kill_stop_untouchable(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    sa.sa_handler = SIG_IGN;
    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    CHECK_SYS(sigaction(SIGKILL, NULL, &old));
    CHECK(old.sa_handler == SIG_DFL, "SIGKILL's disposition is not SIG_DFL");
    CHECK_ERRNO(sigaction(0, &sa, NULL), EINVAL);
    CHECK_ERRNO(sigaction(65, &sa, NULL), EINVAL);
    CHECK_ERRNO(kill(getpid(), 65), EINVAL);
    CHECK_SYS(kill(getpid(), 0)); /* signal 0: the existence check */
    sigset_t all, now, old_mask;
    sigfillset(&all);
    CHECK_SYS(sigprocmask(SIG_BLOCK, &all, &old_mask));
    CHECK_SYS(sigprocmask(SIG_SETMASK, NULL, &now));
    int kill_blocked = sigismember(&now, SIGKILL), stop_blocked = sigismember(&now, SIGSTOP);
    int term_blocked = sigismember(&now, SIGTERM);
    CHECK_SYS(sigprocmask(SIG_SETMASK, &old_mask, NULL));
    CHECK(!kill_blocked && !stop_blocked, "SIGKILL or SIGSTOP in the mask");
    CHECK(term_blocked, "SIGTERM was not blocked");
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        sigset_t a;
        sigfillset(&a);
        sigprocmask(SIG_BLOCK, &a, NULL);
        raise(SIGKILL);
        _exit(3);
    }
    int st = check_wait(pid);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child with all blocked: %s",
          check_status_str(st));
}

int main(int argc, char **argv)
{
    check_init("signal_masks");
    check_filter(argc, argv);
    RUN(blocked_stays_pending);
    RUN(realtime_queue);
    RUN(ignored_is_discarded);
    RUN(sigsuspend);
    RUN(sigtimedwait);
    RUN(resethand);
    RUN(nodefer);
    RUN(sa_mask);
    RUN(kill_stop_untouchable);
    return check_finish();
}
