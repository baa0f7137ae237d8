/* vfork_exec: vfork, execve and posix_spawn.
 *
 * (a) vfork then execve: the child shares the parent's memory until it
 *     execs (a variable it writes before the exec is seen by the parent),
 *     and the parent stays suspended until the exec (it resumes after the
 *     child's 50 ms sleep, with the child's last store in place). The
 *     exec'd program (this one, with the arguments "vfork-child hello")
 *     exits with 0 if it got its arguments.
 * (b) vfork then _exit: the parent resumes after the _exit and sees the
 *     child's stores; the status is the child's.
 * (c) vfork then a failed execve (ENOENT): the child can report errno
 *     through the shared memory.
 * (d) posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK)) with file actions
 *     (dup2 of a pipe onto stdout): the spawned program's output arrives
 *     through the pipe and its exit status through waitpid; spawning a
 *     path that does not exist returns ENOENT from posix_spawn itself.
 *
 * The program re-executes itself through argv[0] (a path: /bin/NAME on
 * armmap), not /proc/self/exe.
 *
 * qemu-user is not faithful for vfork: it runs CLONE_VFORK|CLONE_VM as a
 * plain fork (no shared memory, parent not suspended), so vfork_exec,
 * vfork_exit and vfork_failed_exec fail under qemu-aarch64, and
 * posix_spawn_missing_path gets 0 from posix_spawn and a child exiting
 * with 127 instead of ENOENT. On a host without binfmt_misc for aarch64,
 * qemu cannot execve an aarch64 binary at all; the program then re-runs
 * itself through /usr/bin/qemu-aarch64 (check_exec_self), which keeps the
 * output the same.
 *
 * The kernel needs: clone with CLONE_VM|CLONE_VFORK (the parent sleeps
 * until the child execs or exits), execve with argv, wait4, pipes, dup3,
 * close.
 */
#include "check.h"

#include <spawn.h>

extern char **environ;
static const char *self;
static int exec_needs_qemu; /* only on a host that cannot exec aarch64 */

static volatile int shared, stage;

static void case_vfork_exec(void)
{
    shared = 0;
    stage = 0;
    long t0 = check_now_ms();
    pid_t pid = vfork();
    if (pid == 0) {
        shared = getpid();
        stage = 1;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        stage = 2;
        char *args[] = {(char *)self, "vfork-child", "hello", NULL};
        check_exec_self(self, args);
        _exit(126);
    }
    long resumed_after = check_now_ms() - t0;
    int seen_shared = shared, seen_stage = stage;
    CHECK_SYS(pid);
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the exec'd child %s", check_status_str(st));
    CHECK(seen_shared == pid, "the child's store before exec is not seen: memory not shared");
    CHECK(seen_stage == 2, "the parent ran before the child's exec (stage %d)", seen_stage);
    CHECK(resumed_after >= 40, "the parent resumed before the child's exec");
}

static void case_vfork_exit(void)
{
    shared = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        shared = 7;
        _exit(3);
    }
    int seen = shared;
    CHECK_SYS(pid);
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "child %s", check_status_str(st));
    CHECK(seen == 7, "the child's store is not seen after its _exit");
}

static void case_vfork_failed_exec(void)
{
    shared = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        char *args[] = {"nonexistent", NULL};
        execv("/nonexistent/program", args);
        shared = errno;
        _exit(127);
    }
    int seen = shared;
    CHECK_SYS(pid);
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 127, "child %s", check_status_str(st));
    CHECK(seen == ENOENT, "errno from the failed exec: %d, expected ENOENT", seen);
}

static void case_posix_spawn_pipe(void)
{
    int p[2];
    CHECK_SYS(pipe(p));
    posix_spawn_file_actions_t fa;
    CHECK_Z(posix_spawn_file_actions_init(&fa));
    CHECK_Z(posix_spawn_file_actions_adddup2(&fa, p[1], 1));
    CHECK_Z(posix_spawn_file_actions_addclose(&fa, p[0]));
    CHECK_Z(posix_spawn_file_actions_addclose(&fa, p[1]));
    pid_t pid;
    char *args[] = {(char *)self, "spawn-child", NULL};
    char *qargs[] = {"qemu-aarch64", (char *)self, "spawn-child", NULL};
    int r = exec_needs_qemu ? posix_spawn(&pid, "/usr/bin/qemu-aarch64", &fa, NULL, qargs, environ)
                            : posix_spawn(&pid, self, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    CHECK(r == 0, "posix_spawn returned %d (%s)", r, strerror(r));
    char buf[64] = {0};
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(p[0]);
    int st = check_wait(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 4, "spawned child %s", check_status_str(st));
    CHECK(strcmp(buf, "spawned with 1 argument\n") == 0, "the pipe carried \"%s\"", buf);
}

static void case_posix_spawn_missing_path(void)
{
    pid_t pid = -1;
    char *args[] = {"nonexistent", NULL};
    int r = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, args, environ);
    if (r == 0) {
        int st = check_wait(pid);
        CHECK(0, "posix_spawn returned 0; the child %s", check_status_str(st));
    }
    CHECK(r == ENOENT, "posix_spawn returned %d (%s), expected ENOENT", r, strerror(r));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "vfork-child") == 0)
        return argc == 3 && strcmp(argv[2], "hello") == 0 ? 0 : 1;
    if (argc > 1 && strcmp(argv[1], "spawn-child") == 0) {
        printf("spawned with %d argument\n", argc - 1);
        return 4;
    }
    self = argv[0];
    /* Whether this host can exec the program directly (see the top). */
    pid_t probe = fork();
    if (probe == 0) {
        char *args[] = {(char *)self, "vfork-child", "hello", NULL};
        execv(self, args);
        _exit(errno == ENOEXEC ? 99 : 98);
    }
    int pst = check_wait(probe);
    exec_needs_qemu = WIFEXITED(pst) && WEXITSTATUS(pst) == 99;

    check_init("vfork_exec");
    check_filter(argc, argv);
    RUN(vfork_exec);
    RUN(vfork_exit);
    RUN(vfork_failed_exec);
    RUN(posix_spawn_pipe);
    RUN(posix_spawn_missing_path);
    return check_finish();
}
