/* pipe_poll: a pipeline of forked roles, and one reader for two pipes.
 *
 * Three processes joined by two pipes move 10 MiB: the producer writes a
 * pseudo-random stream in chunks of changing sizes (1 byte to 100000) to
 * its standard output, the transformer reads its standard input in other
 * sizes and writes each byte changed by a position-dependent rule, and
 * the consumer (the parent) reads the end of the second pipe and prints
 * the byte count and an FNV-1a checksum, which it also computes on its own
 * from the rule. Each child gets its pipe ends as descriptors 0 and 1
 * through dup2() and closes every other end, so end of file travels down
 * the pipeline when the producer exits.
 *
 * A second case has two producers feed one consumer through two pipes it
 * watches with poll(), and a third with select(); the totals and
 * checksums are printed.
 *
 * Runs unmodified on armmap and on Linux; the output must be identical.
 */
#include "check.h"

#include <poll.h>
#include <stdint.h>
#include <sys/select.h>

#define TOTAL (10u << 20)

static unsigned char buf[1 << 17];

/* The producer's byte at position i. */
static unsigned char produced(uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    return (unsigned char)(x * 0xbf58476d1ce4e5b9ull >> 56);
}

/* The transformer's rule. */
static unsigned char transform(unsigned char b, uint64_t i)
{
    return (unsigned char)((b ^ 0x5a) + (i % 13));
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV_START 0xcbf29ce484222325ull

/* Writes all of p or exits the process (a child) with status 3. */
static void write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            _exit(3);
        p += w;
        n -= (size_t)w;
    }
}

/* Producer: `total` bytes of the stream, starting at stream position
 * `from`, to descriptor 1. */
static void produce(uint64_t from, uint64_t total)
{
    uint64_t at = 0;
    size_t step = 1;
    while (at < total) {
        size_t n = step % 100000 + 1;
        if (n > total - at)
            n = (size_t)(total - at);
        for (size_t i = 0; i < n; i++)
            buf[i] = produced(from + at + i);
        write_all(1, buf, n);
        at += n;
        step = step * 31 + 7;
    }
    _exit(0);
}

/* Transformer: descriptor 0 to descriptor 1, byte by byte rule. */
static void transform_stream(void)
{
    uint64_t at = 0;
    size_t want = 4096;
    for (;;) {
        ssize_t r = read(0, buf, want);
        if (r < 0)
            _exit(4);
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            buf[i] = transform(buf[i], at + (uint64_t)i);
        write_all(1, buf, (size_t)r);
        at += (uint64_t)r;
        want = want * 3 % 70000 + 1;
    }
    _exit(at == TOTAL ? 0 : 5);
}

/* Forks a child that runs `role` with `in` as 0 and `out` as 1, closing
 * every descriptor in `others` first. */
static pid_t spawn(void (*role)(void), int in, int out, const int *others, int nothers)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (in >= 0 && dup2(in, 0) != 0)
        _exit(6);
    if (out >= 0 && dup2(out, 1) != 1)
        _exit(6);
    for (int i = 0; i < nothers; i++)
        close(others[i]);
    role();
    _exit(0);
}

static void produce_all(void)
{
    produce(0, TOTAL);
}

static void case_three_process_pipeline(void)
{
    int a[2], b[2];
    CHECK_SYS(pipe(a));
    CHECK_SYS(pipe(b));
    int all[4] = {a[0], a[1], b[0], b[1]};
    fflush(stdout);
    pid_t p1 = spawn(produce_all, -1, a[1], all, 4);
    pid_t p2 = spawn(transform_stream, a[0], b[1], all, 4);
    CHECK(p1 > 0 && p2 > 0, "fork failed");
    close(a[0]);
    close(a[1]);
    close(b[1]);

    uint64_t got = 0, h = FNV_START, expect = FNV_START;
    int mismatch = 0;
    for (;;) {
        ssize_t r = read(b[0], buf, 65536);
        CHECK_SYS(r);
        if (r == 0)
            break;
        h = fnv(h, buf, (size_t)r);
        for (ssize_t i = 0; i < r; i++) {
            unsigned char e = transform(produced(got + (uint64_t)i), got + (uint64_t)i);
            if (buf[i] != e && !mismatch)
                mismatch = 1;
            expect = fnv(expect, &e, 1);
        }
        got += (uint64_t)r;
    }
    close(b[0]);
    int s1, s2;
    CHECK(waitpid(p1, &s1, 0) == p1, "waitpid: errno %d", errno);
    CHECK(waitpid(p2, &s2, 0) == p2, "waitpid: errno %d", errno);
    printf("  pipeline: %llu bytes, checksum %016llx\n", (unsigned long long)got, (unsigned long long)h);
    CHECK(WIFEXITED(s1) && WEXITSTATUS(s1) == 0, "producer status %#x", s1);
    CHECK(WIFEXITED(s2) && WEXITSTATUS(s2) == 0, "transformer status %#x", s2);
    CHECK(got == TOTAL, "got %llu bytes", (unsigned long long)got);
    CHECK(!mismatch && h == expect, "the data differs from the rule");
}

static void produce_first_half(void)
{
    produce(0, TOTAL / 4);
}

static void produce_second_half(void)
{
    produce(TOTAL / 4, TOTAL / 4);
}

/* Two producers, one consumer that waits with poll() or select(). */
static void fan_in(int use_select)
{
    int a[2], b[2];
    CHECK_SYS(pipe(a));
    CHECK_SYS(pipe(b));
    int all[4] = {a[0], a[1], b[0], b[1]};
    fflush(stdout);
    pid_t p1 = spawn(produce_first_half, -1, a[1], all, 4);
    pid_t p2 = spawn(produce_second_half, -1, b[1], all, 4);
    CHECK(p1 > 0 && p2 > 0, "fork failed");
    close(a[1]);
    close(b[1]);
    int fds[2] = {a[0], b[0]};
    uint64_t got[2] = {0, 0}, h[2] = {FNV_START, FNV_START};
    int open_ends = 2, wakeups = 0;
    while (open_ends > 0) {
        int ready[2] = {0, 0};
        if (use_select) {
            fd_set rd;
            FD_ZERO(&rd);
            for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                    FD_SET(fds[i], &rd);
            struct timeval tv = {5, 0};
            int n = select((a[0] > b[0] ? a[0] : b[0]) + 1, &rd, NULL, NULL, &tv);
            CHECK(n > 0, "select returned %d", n);
            for (int i = 0; i < 2; i++)
                ready[i] = fds[i] >= 0 && FD_ISSET(fds[i], &rd);
        } else {
            struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
            int n = poll(p, 2, 5000);
            CHECK(n > 0, "poll returned %d", n);
            for (int i = 0; i < 2; i++) {
                CHECK(!(p[i].revents & (POLLERR | POLLNVAL)), "revents %#x", p[i].revents);
                ready[i] = (p[i].revents & (POLLIN | POLLHUP)) != 0;
            }
        }
        wakeups++;
        for (int i = 0; i < 2; i++) {
            if (!ready[i])
                continue;
            ssize_t r = read(fds[i], buf, sizeof buf);
            CHECK_SYS(r);
            if (r == 0) {
                close(fds[i]);
                fds[i] = -1;
                open_ends--;
                continue;
            }
            h[i] = fnv(h[i], buf, (size_t)r);
            got[i] += (uint64_t)r;
        }
    }
    int s1, s2;
    CHECK(waitpid(p1, &s1, 0) == p1, "waitpid: errno %d", errno);
    CHECK(waitpid(p2, &s2, 0) == p2, "waitpid: errno %d", errno);
    uint64_t e0 = FNV_START, e1 = FNV_START;
    for (uint64_t i = 0; i < TOTAL / 4; i++) {
        unsigned char c0 = produced(i), c1 = produced(TOTAL / 4 + i);
        e0 = fnv(e0, &c0, 1);
        e1 = fnv(e1, &c1, 1);
    }
    printf("  %s: %llu + %llu bytes, checksums %016llx %016llx\n", use_select ? "select" : "poll",
           (unsigned long long)got[0], (unsigned long long)got[1], (unsigned long long)h[0],
           (unsigned long long)h[1]);
    CHECK(WIFEXITED(s1) && WEXITSTATUS(s1) == 0 && WIFEXITED(s2) && WEXITSTATUS(s2) == 0, "producers %#x %#x", s1,
          s2);
    CHECK(got[0] == TOTAL / 4 && got[1] == TOTAL / 4, "short stream");
    CHECK(h[0] == e0 && h[1] == e1, "the data differs from the stream");
    CHECK(wakeups >= 2, "%d wake-ups", wakeups);
}

static void case_two_producers_poll(void)
{
    fan_in(0);
}

static void case_two_producers_select(void)
{
    fan_in(1);
}

int main(int argc, char **argv)
{
    check_init("pipe_poll");
    check_filter(argc, argv);
    RUN(three_process_pipeline);
    RUN(two_producers_poll);
    RUN(two_producers_select);
    return check_finish();
}
