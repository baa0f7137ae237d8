/* pipeline: three processes moving 10 MiB through two pipes, as a shell
 * runs `produce | filter | consume`.
 *
 * The program plays every role, re-executing itself (argv[0]) with the
 * role's name after fork and dup2 have put the pipe ends on its stdin and
 * stdout:
 *   produce         writes 10 MiB of pseudo-random bytes in chunks of
 *                   varying sizes (1 byte to 64 KiB);
 *   filter          maps every byte b to (b ^ 0x5a) + 1;
 *   consume         counts the bytes and computes a 64-bit FNV-1a checksum,
 *                   writing "BYTES CHECKSUM" to its stdout (a pipe back
 *                   to the parent);
 *   consume-early   reads 1 MiB and exits.
 * (a) The whole stream arrives intact: the byte count and checksum equal
 *     what the parent computes from the same generator; every stage exits
 *     with 0.
 * (b) When the consumer exits early, the filter's next write raises
 *     SIGPIPE (default action: it dies of it), and then the producer's.
 * (c) With SIGPIPE ignored (SIG_IGN survives execve), the producer's write
 *     fails with EPIPE instead and it exits with its own status.
 *
 * qemu-user cannot execve an aarch64 binary on a host without binfmt_misc;
 * check_exec_self then re-runs the program through /usr/bin/qemu-aarch64
 * (the output stays the same).
 *
 * The kernel needs: pipes (blocking reads and writes, partial transfers,
 * EOF when all writers are gone, SIGPIPE/EPIPE when all readers are gone),
 * fork, dup2 (dup3), close, execve with argv, SIG_IGN kept across execve,
 * wait4.
 */
#include "check.h"

#include <signal.h>
#include <stdint.h>

#define TOTAL (10L * 1024 * 1024)
#define EARLY (1L * 1024 * 1024)

static const char *self;

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned char transform(unsigned char b)
{
    return (unsigned char)((b ^ 0x5a) + 1);
}

#define FNV_START 0xcbf29ce484222325ull
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static unsigned char buf[64 * 1024];

static int role_produce(void)
{
    rng_state = 0x9e3779b97f4a7c15ull;
    long left = TOTAL;
    while (left > 0) {
        size_t n = (size_t)(rng() % sizeof buf) + 1;
        if ((long)n > left)
            n = (size_t)left;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)(rng() >> 32);
        if (write_all(1, buf, n) != 0)
            return errno == EPIPE ? 3 : 4;
        left -= (long)n;
    }
    return 0;
}

static int role_filter(void)
{
    for (;;) {
        ssize_t n = read(0, buf, 4096);
        if (n < 0)
            return 5;
        if (n == 0)
            return 0;
        for (ssize_t i = 0; i < n; i++)
            buf[i] = transform(buf[i]);
        if (write_all(1, buf, (size_t)n) != 0)
            return errno == EPIPE ? 3 : 6;
    }
}

static int role_consume(long limit)
{
    uint64_t h = FNV_START;
    long total = 0;
    for (;;) {
        size_t want = sizeof buf;
        if (limit && total + (long)want > limit)
            want = (size_t)(limit - total);
        if (want == 0)
            break;
        ssize_t n = read(0, buf, want);
        if (n < 0)
            return 7;
        if (n == 0)
            break;
        h = fnv(h, buf, (size_t)n);
        total += n;
    }
    char line[64];
    int len = snprintf(line, sizeof line, "%ld %016llx\n", total, (unsigned long long)h);
    return write_all(1, (const unsigned char *)line, (size_t)len) == 0 ? 0 : 8;
}

/* The count and checksum the consumer must report. */
static uint64_t expected_checksum(void)
{
    rng_state = 0x9e3779b97f4a7c15ull;
    uint64_t h = FNV_START;
    long left = TOTAL;
    while (left > 0) {
        size_t n = (size_t)(rng() % sizeof buf) + 1;
        if ((long)n > left)
            n = (size_t)left;
        for (size_t i = 0; i < n; i++)
            buf[i] = transform((unsigned char)(rng() >> 32));
        h = fnv(h, buf, n);
        left -= (long)n;
    }
    return h;
}

/* Forks a child with in/out on stdin/stdout (-1: unchanged), every fd in
 * close_fds closed, SIGPIPE ignored if asked, exec'ing this program in
 * role. */
static pid_t stage(const char *role, int in, int out, const int *close_fds, int nclose, int ignore_sigpipe)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (in >= 0 && dup2(in, 0) < 0)
        _exit(120);
    if (out >= 0 && dup2(out, 1) < 0)
        _exit(121);
    for (int i = 0; i < nclose; i++)
        close(close_fds[i]);
    if (ignore_sigpipe)
        signal(SIGPIPE, SIG_IGN);
    char *args[] = {(char *)self, (char *)role, NULL};
    check_exec_self(self, args);
    _exit(122);
}

struct run {
    int st[3]; /* producer, filter, consumer */
    char report[64];
};

static int run_pipeline(const char *consumer_role, int ignore_sigpipe_in_producer, struct run *r)
{
    int a[2], b[2], c[2];
    if (pipe(a) || pipe(b) || pipe(c))
        return -1;
    int all[6] = {a[0], a[1], b[0], b[1], c[0], c[1]};
    pid_t p = stage("produce", -1, a[1], all, 6, ignore_sigpipe_in_producer);
    pid_t f = stage("filter", a[0], b[1], all, 6, 0);
    pid_t k = stage(consumer_role, b[0], c[1], all, 6, 0);
    for (int i = 0; i < 6; i++)
        if (all[i] != c[0])
            close(all[i]);
    memset(r->report, 0, sizeof r->report);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof r->report - 1 && (n = read(c[0], r->report + got, sizeof r->report - 1 - got)) > 0)
        got += (size_t)n;
    close(c[0]);
    r->st[0] = check_wait(p);
    r->st[1] = check_wait(f);
    r->st[2] = check_wait(k);
    return 0;
}

static int exited(int st, int code)
{
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == code;
}

static int killed(int st, int sig)
{
    return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

static void case_ten_mib(void)
{
    struct run r;
    CHECK_SYS(run_pipeline("consume", 0, &r));
    const char *names[3] = {"producer", "filter", "consumer"};
    for (int i = 0; i < 3; i++)
        CHECK(exited(r.st[i], 0), "%s %s", names[i], check_status_str(r.st[i]));
    char want[64];
    snprintf(want, sizeof want, "%ld %016llx\n", TOTAL, (unsigned long long)expected_checksum());
    CHECK(strcmp(r.report, want) == 0, "the consumer reported \"%.40s\", expected \"%.40s\"", r.report, want);
    printf("  pipeline: %s", r.report);
}

static void case_reader_exits_early(void)
{
    struct run r;
    CHECK_SYS(run_pipeline("consume-early", 0, &r));
    CHECK(exited(r.st[2], 0), "consumer %s", check_status_str(r.st[2]));
    CHECK(strncmp(r.report, "1048576 ", 8) == 0, "the consumer reported \"%.40s\"", r.report);
    CHECK(killed(r.st[1], SIGPIPE), "filter %s, expected killed by SIGPIPE", check_status_str(r.st[1]));
    CHECK(killed(r.st[0], SIGPIPE), "producer %s, expected killed by SIGPIPE", check_status_str(r.st[0]));
}

static void case_sigpipe_ignored_epipe(void)
{
    struct run r;
    CHECK_SYS(run_pipeline("consume-early", 1, &r));
    CHECK(exited(r.st[2], 0), "consumer %s", check_status_str(r.st[2]));
    CHECK(killed(r.st[1], SIGPIPE), "filter %s, expected killed by SIGPIPE", check_status_str(r.st[1]));
    CHECK(exited(r.st[0], 3), "producer %s, expected exit 3 (EPIPE)", check_status_str(r.st[0]));
    /* The same in this process. */
    int p[2];
    CHECK_SYS(pipe(p));
    close(p[0]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
    signal(SIGPIPE, old);
    close(p[1]);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "produce") == 0)
        return role_produce();
    if (argc == 2 && strcmp(argv[1], "filter") == 0)
        return role_filter();
    if (argc == 2 && strcmp(argv[1], "consume") == 0)
        return role_consume(0);
    if (argc == 2 && strcmp(argv[1], "consume-early") == 0)
        return role_consume(EARLY);
    self = argv[0];
    check_init("pipeline");
    check_filter(argc, argv);
    RUN(ten_mib);
    RUN(reader_exits_early);
    RUN(sigpipe_ignored_epipe);
    return check_finish();
}
