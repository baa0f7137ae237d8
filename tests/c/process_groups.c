/* process_groups: process groups and sessions.
 *
 * (a) kill(-pgid, SIGTERM) reaches every member of that group and no one
 *     else: three children put in one group die, a fourth in its own group
 *     lives on.
 * (b) kill(0, sig) signals the caller's own group, the caller included
 *     (run in a child that leads a fresh group, so nothing outside the test
 *     is touched); kill(-pgid) of a group with no members is ESRCH.
 * (c) setsid: a process that is not a group leader gets a new session
 *     and group, both its pid (getsid, getpgrp); a group leader, or a
 *     session leader, gets EPERM; setpgid by a session leader is EPERM.
 * (d) setpgid: moving a child into another group of the session works
 *     (getpgid tells); a negative pgid is EINVAL; a pid that is neither
 *     the caller nor its child is ESRCH; a group in another session is
 *     EPERM; getpgid and getsid of a pid that does not exist are ESRCH.
 *
 * The kernel needs: setpgid/getpgid/getsid/setsid with Linux's rules,
 * kill with a negative pid and with 0 (process-group delivery), fork
 * keeping the group and session, wait4.
 */
#include "check.h"

#include <signal.h>

#define NO_SUCH_PID 0x3ffffff0 /* above any pid_max */

/* A child that moves into group pgid (0: its own) and then waits. */
static pid_t child_in_group(pid_t pgid)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, pgid);
        for (;;)
            pause();
    }
    if (pid > 0)
        setpgid(pid, pgid == 0 ? pid : pgid); /* both sides, so no race */
    return pid;
}

static void case_kill_group(void)
{
    pid_t leader = child_in_group(0);
    CHECK_SYS(leader);
    pid_t b = child_in_group(leader), c = child_in_group(leader);
    pid_t other = child_in_group(0);
    CHECK(b > 0 && c > 0 && other > 0, "fork failed");
    CHECK(getpgid(leader) == leader && getpgid(b) == leader && getpgid(c) == leader, "group not formed");
    CHECK(getpgid(other) == other, "the other child is not in its own group");
    CHECK_SYS(kill(-leader, SIGTERM));
    pid_t members[3] = {leader, b, c};
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        int st = check_wait(members[i]);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)) {
            printf("  member %d %s\n", i, check_status_str(st));
            bad++;
        }
    }
    check_sleep_ms(30);
    int st;
    pid_t r = waitpid(other, &st, WNOHANG);
    kill(other, SIGKILL);
    int st2 = check_wait(other);
    CHECK(bad == 0, "%d group members not killed by SIGTERM", bad);
    CHECK(r == 0, "the child in another group was hit: %s", check_status_str(st));
    CHECK(WIFSIGNALED(st2) && WTERMSIG(st2) == SIGKILL, "the other child %s", check_status_str(st2));
    CHECK_ERRNO(kill(-leader, SIGTERM), ESRCH);
}

static volatile int got_usr1;
static void on_usr1(int sig)
{
    (void)sig;
    got_usr1++;
}

static void case_kill_zero(void)
{
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        /* A fresh group: this child and the grandchild below. */
        if (setpgid(0, 0) != 0)
            _exit(10);
        signal(SIGUSR1, on_usr1);
        int p[2];
        if (pipe(p) != 0)
            _exit(11);
        pid_t g = fork();
        if (g == 0) {
            close(p[0]);
            sigset_t none;
            sigemptyset(&none);
            got_usr1 = 0;
            if (write(p[1], "r", 1) != 1)
                _exit(12);
            while (!got_usr1)
                sigsuspend(&none);
            _exit(getpgrp() == getppid() ? 0 : 13);
        }
        char ch;
        close(p[1]);
        if (read(p[0], &ch, 1) != 1) /* the grandchild's handler is in place */
            _exit(14);
        if (kill(0, SIGUSR1) != 0)
            _exit(15);
        if (got_usr1 != 1) /* delivered to the sender too, before kill returns */
            _exit(16);
        int st = 0;
        if (waitpid(g, &st, 0) != g || !WIFEXITED(st))
            _exit(17);
        _exit(WEXITSTATUS(st));
    }
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s (10-17: step that failed)", check_status_str(st));
}

static void case_setsid_rules(void)
{
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        pid_t me = getpid();
        if (getpgrp() == me)
            _exit(10); /* a forked child is in its parent's group */
        if (getsid(0) != getsid(getppid()))
            _exit(11);
        if (setsid() != me)
            _exit(12);
        if (getsid(0) != me || getpgrp() != me || getpgid(0) != me)
            _exit(13);
        errno = 0;
        if (setsid() != -1 || errno != EPERM) /* now a session leader */
            _exit(14);
        errno = 0;
        if (setpgid(0, 0) != -1 || errno != EPERM) /* a session leader cannot move */
            _exit(15);
        /* A group leader that is not a session leader cannot setsid either. */
        pid_t g = fork();
        if (g == 0) {
            if (setpgid(0, 0) != 0)
                _exit(20);
            errno = 0;
            if (setsid() != -1 || errno != EPERM)
                _exit(21);
            _exit(0);
        }
        int st = 0;
        if (waitpid(g, &st, 0) != g || !WIFEXITED(st))
            _exit(16);
        _exit(WEXITSTATUS(st));
    }
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s (10-21: step that failed)", check_status_str(st));
}

static void case_setpgid_rules(void)
{
    pid_t leader = child_in_group(0);
    /* The mover stays in our group, whatever its id (0 for a Linux init
     * that never called setsid). */
    pid_t mover = fork();
    if (mover == 0)
        for (;;)
            pause();
    CHECK(leader > 0 && mover > 0, "fork failed");
    CHECK(getpgid(mover) == getpgrp(), "the child did not start in our group");
    CHECK_SYS(setpgid(mover, leader));
    CHECK(getpgid(mover) == leader, "setpgid did not move the child");
    CHECK(getsid(mover) == getsid(0), "the child left the session");
    CHECK_ERRNO(setpgid(mover, -1), EINVAL);
    CHECK_ERRNO(getpgid(NO_SUCH_PID), ESRCH);
    CHECK_ERRNO(getsid(NO_SUCH_PID), ESRCH);
    CHECK_ERRNO(setpgid(NO_SUCH_PID, 0), ESRCH);
    kill(leader, SIGKILL);
    kill(mover, SIGKILL);
    check_wait(leader);
    check_wait(mover);

    /* ESRCH for a process that is not our child; EPERM to join a group
     * of another session. */
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        pid_t parent = getppid();
        errno = 0;
        if (setpgid(parent, 0) != -1 || errno != ESRCH)
            _exit(10);
        int p[2];
        if (pipe(p) != 0)
            _exit(11);
        pid_t s = fork();
        if (s == 0) {
            setsid(); /* its own session and group */
            close(p[0]);
            if (write(p[1], "s", 1) != 1)
                _exit(1);
            for (;;)
                pause();
        }
        char ch;
        close(p[1]);
        if (read(p[0], &ch, 1) != 1)
            _exit(12);
        errno = 0;
        int r = setpgid(0, s); /* s's group is in another session */
        int e = errno;
        kill(s, SIGKILL);
        waitpid(s, NULL, 0);
        _exit(r == -1 && e == EPERM ? 0 : 13);
    }
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s (10-13: step that failed)", check_status_str(st));
}

int main(int argc, char **argv)
{
    check_init("process_groups");
    check_filter(argc, argv);
    RUN(kill_group);
    RUN(kill_zero);
    RUN(setsid_rules);
    RUN(setpgid_rules);
    return check_finish();
}
