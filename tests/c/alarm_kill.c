/* alarm_kill: alarm() and setitimer() without signal handlers.
 *
 * glibc's alarm() is setitimer(ITIMER_REAL). A child that arms alarm(1),
 * or a 50 ms ITIMER_REAL, and then waits is killed by SIGALRM: the parent
 * prints WTERMSIG. alarm() returns the seconds left of the previous alarm
 * (rounded as glibc does), and alarm(0) cancels it. No handler is
 * installed anywhere, so the output is the same on armmap and on Linux.
 */
#include "check.h"

#include <signal.h>
#include <sys/time.h>

/* Waits up to 5 s (in short sleeps: a signal ends the process anyway). */
static void wait_to_be_killed(void)
{
    for (int i = 0; i < 500; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    _exit(1);
}

static int killed_by(pid_t child)
{
    int status;
    if (waitpid(child, &status, 0) != child)
        return -1;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
}

static void case_alarm_returns_seconds_left(void)
{
    CHECK(alarm(5) == 0, "no alarm was pending");
    unsigned left = alarm(0);
    CHECK(left == 5, "alarm(0) after alarm(5) returned %u", left);
    CHECK(alarm(0) == 0, "the alarm was not cancelled");
}

static void case_alarm_kills_child(void)
{
    pid_t child = fork();
    CHECK_SYS(child);
    if (child == 0) {
        alarm(1);
        wait_to_be_killed();
    }
    int sig = killed_by(child);
    printf("child of alarm(1): WTERMSIG %d\n", sig);
    CHECK(sig == SIGALRM, "child ended with %d", sig);
}

static void case_setitimer_kills_child(void)
{
    pid_t child = fork();
    CHECK_SYS(child);
    if (child == 0) {
        struct itimerval v = {{0, 0}, {0, 50 * 1000}};
        if (setitimer(ITIMER_REAL, &v, NULL) != 0)
            _exit(2);
        wait_to_be_killed();
    }
    int sig = killed_by(child);
    printf("child of a 50 ms ITIMER_REAL: WTERMSIG %d\n", sig);
    CHECK(sig == SIGALRM, "child ended with %d", sig);
}

int main(void)
{
    check_init("alarm_kill");
    RUN(alarm_returns_seconds_left);
    RUN(alarm_kills_child);
    RUN(setitimer_kills_child);
    return check_finish();
}
