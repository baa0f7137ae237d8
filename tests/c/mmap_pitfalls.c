/* mmap_pitfalls: the mistakes every mmap tutorial warns about, checked to
 * behave exactly as on Linux.
 *
 * (a) A mapping may be longer than the file, but touching a page that lies
 *     wholly past the end of the file raises SIGBUS; bytes past the end
 *     inside the file's last page are fine (they read as zero and stores
 *     there never change the file's size). Truncating a mapped file makes
 *     its cut-off pages SIGBUS too.
 * (b) The file's open mode limits the mapping: an O_WRONLY descriptor
 *     cannot be mapped at all (EACCES), an O_RDONLY one not shared-writable.
 *     Bad offsets and lengths are EINVAL.
 * (c) munmap without msync still leaves the stores in the file; a private
 *     mapping's stores never reach it.
 * (d) msync's errors: EINVAL for an unaligned address or MS_SYNC|MS_ASYNC,
 *     ENOMEM for a range with unmapped pages.
 * (e) A shared file mapping is shared between processes: inherited over
 *     fork, or mapped independently in each; stores by one are seen by the
 *     other and by read().
 *
 * Runs unmodified on armmap and on Linux; the output must be identical.
 */
#include "check.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#define PAGE 4096

/* Creates scratch file n holding `size` bytes (byte i is 'a' + i % 26);
 * returns an O_RDWR descriptor or -1. */
static int make_file(int n, size_t size)
{
    static char buf[4 * PAGE];
    const char *path = check_path(n);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    for (size_t i = 0; i < size && i < sizeof buf; i++)
        buf[i] = (char)('a' + i % 26);
    if (size > sizeof buf || write(fd, buf, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    return fd;
}

static long file_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    return (long)st.st_size;
}

/* Runs child(arg) in a forked child that exits with its result; returns
 * the status word (-1 if fork or wait failed). */
static int in_child(int (*child)(volatile char *), volatile char *arg)
{
    pid_t pid = fork();
    if (pid < 0) {
        printf("  fork: errno %d (%s)\n", errno, strerror(errno));
        return -1;
    }
    if (pid == 0)
        _exit(child(arg));
    return check_wait(pid);
}

static int store_byte(volatile char *p)
{
    *p = 'X';
    return 0;
}

static int load_byte(volatile char *p)
{
    return *p == 0x7f ? 3 : 0;
}

/* ---- (a) SIGBUS past the end of the file ---- */

static void case_sigbus_store_past_eof(void)
{
    int fd = make_file(1, 100);
    CHECK(fd >= 0, "creating a 100-byte file: errno %d (%s)", errno, strerror(errno));
    /* Mapping two pages of a 100-byte file succeeds... */
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap of 2 pages: errno %d (%s)", errno, strerror(errno));
    /* ...but a store to the second page, wholly past the end, is SIGBUS. */
    int st = in_child(store_byte, p + PAGE);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS, "child storing to page 2: %s, expected SIGBUS (%d)",
          check_status_str(st), SIGBUS);
    st = in_child(store_byte, p + 2 * PAGE - 1);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
          "child storing to the last byte of page 2: %s, expected SIGBUS (%d)", check_status_str(st), SIGBUS);
    CHECK(file_size(fd) == 100, "file size is now %ld", file_size(fd));
    CHECK_SYS(munmap(p, 2 * PAGE));
    CHECK_SYS(close(fd));
}

static void case_sigbus_load_past_eof(void)
{
    int fd = make_file(1, 100);
    CHECK(fd >= 0, "creating a 100-byte file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap shared: errno %d (%s)", errno, strerror(errno));
    int st = in_child(load_byte, p + PAGE);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
          "child loading from page 2 (shared): %s, expected SIGBUS (%d)", check_status_str(st), SIGBUS);
    CHECK_SYS(munmap(p, 2 * PAGE));
    /* Private mappings too: there is no page to copy. */
    p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap private: errno %d (%s)", errno, strerror(errno));
    st = in_child(load_byte, p + PAGE);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
          "child loading from page 2 (private): %s, expected SIGBUS (%d)", check_status_str(st), SIGBUS);
    st = in_child(store_byte, p + PAGE + 8);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
          "child storing to page 2 (private): %s, expected SIGBUS (%d)", check_status_str(st), SIGBUS);
    CHECK_SYS(munmap(p, 2 * PAGE));
    CHECK_SYS(close(fd));
}

static void case_store_in_last_page_ok(void)
{
    int fd = make_file(1, 100);
    CHECK(fd >= 0, "creating a 100-byte file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap of 2 pages: errno %d (%s)", errno, strerror(errno));
    CHECK(p[0] == 'a' && p[99] == 'a' + 99 % 26, "the file's bytes are not in the mapping");
    /* The rest of the file's last page reads as zeros. */
    for (int i = 100; i < PAGE; i++)
        CHECK(p[i] == 0, "byte %d past the end reads %d, expected 0", i, p[i]);
    /* A child stores there: no signal. */
    int st = in_child(store_byte, p + 100);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child storing to byte 100: %s, expected exit 0",
          check_status_str(st));
    st = in_child(store_byte, p + PAGE - 1);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child storing to byte 4095: %s, expected exit 0",
          check_status_str(st));
    /* And so can we; the shared page holds the child's stores as well. */
    p[200] = 'Y';
    CHECK(p[100] == 'X' && p[PAGE - 1] == 'X' && p[200] == 'Y', "stores past the end: %d %d %d", p[100],
          p[PAGE - 1], p[200]);
    CHECK_SYS(msync(p, 2 * PAGE, MS_SYNC));
    /* The file keeps its size, and read() sees only its 100 bytes. */
    CHECK(file_size(fd) == 100, "file size after stores past the end is %ld, expected 100", file_size(fd));
    char buf[PAGE];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    CHECK(n == 100, "pread returned %ld, expected 100", (long)n);
    CHECK(buf[0] == 'a' && buf[99] == 'a' + 99 % 26, "file content changed");
    n = pread(fd, buf, sizeof buf, 100);
    CHECK(n == 0, "pread at offset 100 returned %ld, expected 0 (end of file)", (long)n);
    CHECK_SYS(munmap(p, 2 * PAGE));
    CHECK_SYS(close(fd));
}

static void case_sigbus_after_truncate(void)
{
    int fd = make_file(1, 2 * PAGE);
    CHECK(fd >= 0, "creating a 2-page file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    /* Both pages are mapped and in use... */
    p[PAGE + 1] = 'Z';
    CHECK(p[PAGE] == (char)('a' + PAGE % 26) && p[PAGE + 1] == 'Z', "page 2 does not hold the file's bytes");
    /* ...then the file shrinks to 100 bytes: page 2 is gone. */
    CHECK_SYS(ftruncate(fd, 100));
    int st = in_child(load_byte, p + PAGE);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
          "child loading from the truncated page: %s, expected SIGBUS (%d)", check_status_str(st), SIGBUS);
    /* The bytes cut off in the last page are zero now. */
    CHECK(p[100] == 0 && p[PAGE - 1] == 0, "bytes past the new end read %d and %d, expected 0", p[100],
          p[PAGE - 1]);
    /* Growing the file again brings page 2 back, zero-filled. */
    CHECK_SYS(ftruncate(fd, 2 * PAGE));
    st = in_child(load_byte, p + PAGE + 1);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child loading after regrowth: %s, expected exit 0",
          check_status_str(st));
    CHECK(p[PAGE + 1] == 0, "page 2 after shrinking and growing reads %d, expected 0", p[PAGE + 1]);
    CHECK_SYS(munmap(p, 2 * PAGE));
    CHECK_SYS(close(fd));
}

/* ---- (b) open modes and bad arguments ---- */

static void case_wronly_fd_eacces(void)
{
    int fd = make_file(1, PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    CHECK_SYS(close(fd));
    fd = open(check_path(1), O_WRONLY);
    CHECK(fd >= 0, "open O_WRONLY: errno %d (%s)", errno, strerror(errno));
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0), EACCES);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0), EACCES);
    CHECK_SYS(close(fd));
}

static void case_rdonly_fd_not_shared_writable(void)
{
    int fd = make_file(1, PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    CHECK_SYS(close(fd));
    fd = open(check_path(1), O_RDONLY);
    CHECK(fd >= 0, "open O_RDONLY: errno %d (%s)", errno, strerror(errno));
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    /* Read-only shared is fine, but cannot be made writable later. */
    char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap PROT_READ MAP_SHARED: errno %d (%s)", errno, strerror(errno));
    CHECK(p[0] == 'a', "first byte %d", p[0]);
    CHECK_ERRNO(mprotect(p, PAGE, PROT_READ | PROT_WRITE), EACCES);
    CHECK_SYS(munmap(p, PAGE));
    /* A private writable mapping is fine: its stores stay private. */
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap PROT_READ|PROT_WRITE MAP_PRIVATE: errno %d (%s)", errno, strerror(errno));
    p[0] = 'P';
    char c = 0;
    CHECK(pread(fd, &c, 1, 0) == 1 && c == 'a', "a private store reached the file (%d)", c);
    CHECK_SYS(munmap(p, PAGE));
    CHECK_SYS(close(fd));
}

static void case_bad_offset_and_length_einval(void)
{
    int fd = make_file(1, 2 * PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 100), EINVAL);
    CHECK_ERRNO(mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0), EINVAL);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, 0, fd, 0), EINVAL);
    /* A page-aligned offset is fine: the mapping starts at page 2. */
    char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
    CHECK(p != MAP_FAILED, "mmap at offset 4096: errno %d (%s)", errno, strerror(errno));
    CHECK(p[0] == (char)('a' + PAGE % 26), "first byte at offset 4096 is %d", p[0]);
    CHECK_SYS(munmap(p, PAGE));
    CHECK_SYS(close(fd));
}

/* ---- (c) munmap without msync; private stores ---- */

static void case_munmap_without_msync_keeps_data(void)
{
    int fd = make_file(1, PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    CHECK_SYS(close(fd));
    memcpy(p + 10, "no msync needed", 15);
    CHECK_SYS(munmap(p, PAGE));
    char buf[32] = {0};
    fd = open(check_path(1), O_RDONLY);
    CHECK(fd >= 0, "reopen: errno %d (%s)", errno, strerror(errno));
    CHECK(pread(fd, buf, 15, 10) == 15, "pread failed: errno %d (%s)", errno, strerror(errno));
    CHECK(memcmp(buf, "no msync needed", 15) == 0, "the file holds \"%.15s\"", buf);
    CHECK(file_size(fd) == PAGE, "size %ld", file_size(fd));
    CHECK_SYS(close(fd));
}

static void case_private_stores_not_in_file(void)
{
    int fd = make_file(1, PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    memcpy(p, "PRIVATE", 7);
    CHECK_SYS(msync(p, PAGE, MS_SYNC));
    CHECK_SYS(munmap(p, PAGE));
    char buf[8] = {0};
    CHECK(pread(fd, buf, 7, 0) == 7, "pread failed: errno %d (%s)", errno, strerror(errno));
    CHECK(memcmp(buf, "abcdefg", 7) == 0, "the file holds \"%.7s\"", buf);
    CHECK_SYS(close(fd));
}

/* ---- (d) msync errors ---- */

static void case_msync_errors(void)
{
    int fd = make_file(1, 3 * PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    p[0] = 'A';
    CHECK_ERRNO(msync(p + 1, PAGE, MS_SYNC), EINVAL);
    CHECK_ERRNO(msync(p + PAGE / 2, PAGE, MS_ASYNC), EINVAL);
    CHECK_ERRNO(msync(p, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
    CHECK_ERRNO(msync(p, PAGE, 8), EINVAL);
    /* Length 0 is fine; an unaligned length is rounded up. */
    CHECK_SYS(msync(p, 0, MS_SYNC));
    CHECK_SYS(msync(p, 1, MS_SYNC));
    CHECK_SYS(msync(p, 3 * PAGE, MS_SYNC | MS_INVALIDATE));
    CHECK_SYS(msync(p, 3 * PAGE, MS_ASYNC));
    /* Unmap the middle page: a range over the hole is ENOMEM. */
    CHECK_SYS(munmap(p + PAGE, PAGE));
    CHECK_ERRNO(msync(p, 3 * PAGE, MS_SYNC), ENOMEM);
    CHECK_ERRNO(msync(p, 3 * PAGE, MS_ASYNC), ENOMEM);
    CHECK_ERRNO(msync(p + PAGE, PAGE, MS_SYNC), ENOMEM);
    CHECK_SYS(msync(p, PAGE, MS_SYNC));
    CHECK_SYS(msync(p + 2 * PAGE, PAGE, MS_SYNC));
    CHECK_SYS(munmap(p, 3 * PAGE));
    CHECK_ERRNO(msync(p, PAGE, MS_SYNC), ENOMEM);
    /* msync of an anonymous mapping is allowed (nothing to write back). */
    char *a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED, "anonymous mmap: errno %d (%s)", errno, strerror(errno));
    a[0] = 1;
    CHECK_SYS(msync(a, PAGE, MS_SYNC));
    CHECK_SYS(munmap(a, PAGE));
    CHECK_SYS(close(fd));
}

/* ---- (e) sharing between processes ---- */

/* Polls until p[0] == want (bounded by 10 s); returns whether it came. */
static int wait_for_byte(volatile char *p, char want)
{
    long start = check_now_ms();
    for (long i = 0; i < 50000000L; i++) {
        if (*p == want)
            return 1;
        sched_yield();
        if ((i & 63) == 0 && check_now_ms() - start > 10000)
            break;
    }
    return *p == want;
}

/* The parent's side: polls until p[0] == want, giving up early if child
 * `pid` ends first (then its status is stored in *status, else -2). */
static int parent_wait_for_byte(volatile char *p, char want, pid_t pid, int *status)
{
    long start = check_now_ms();
    *status = -2;
    for (long i = 0; i < 50000000L; i++) {
        if (*p == want)
            return 1;
        if ((i & 63) == 0) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                *status = st;
                return *p == want;
            }
            if (check_now_ms() - start > 10000)
                break;
        }
        sched_yield();
    }
    return *p == want;
}

static volatile char *shared_map;

/* Child of fork_shares_mapping: stores, waits for the parent's answer. */
static int fork_child(volatile char *p)
{
    memcpy((char *)p + 10, "from child", 10);
    p[0] = 'c';
    if (!wait_for_byte(p + 1, 'p'))
        return 2;
    return memcmp((const char *)p + 20, "from parent", 11) == 0 ? 0 : 3;
}

static void case_fork_shares_mapping(void)
{
    int fd = make_file(1, PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    p[0] = 'x';
    p[1] = 'x';
    shared_map = p;
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d (%s)", errno, strerror(errno));
    if (pid == 0)
        _exit(fork_child(shared_map));
    int st;
    int came = parent_wait_for_byte(shared_map, 'c', pid, &st);
    if (came) {
        memcpy(p + 20, "from parent", 11);
        shared_map[1] = 'p';
    }
    if (st == -2)
        st = check_wait(pid);
    CHECK(came, "the child's store never appeared in the parent's mapping (child %s)", check_status_str(st));
    CHECK(memcmp(p + 10, "from child", 10) == 0, "parent sees \"%.10s\"", p + 10);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "child %s (2: never saw the parent's store, 3: saw it without its data)", check_status_str(st));
    char buf[32] = {0};
    CHECK(pread(fd, buf, 21, 10) == 21, "pread: errno %d (%s)", errno, strerror(errno));
    CHECK(memcmp(buf, "from childfrom parent", 21) == 0, "read() sees \"%.21s\"", buf);
    CHECK_SYS(munmap(p, PAGE));
    CHECK_SYS(close(fd));
}

/* Child of independent_mappings: its own open and mmap of the same file. */
static int independent_child(volatile char *unused)
{
    (void)unused;
    int fd = open(check_path(1), O_RDWR);
    if (fd < 0)
        return 10;
    volatile char *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (q == MAP_FAILED)
        return 11;
    close(fd);
    /* It sees what the parent stored before the fork... */
    if (memcmp((const char *)q + PAGE, "before fork", 11) != 0)
        return 12;
    /* ...its stores reach the parent... */
    memcpy((char *)q + PAGE + 100, "child's own map", 15);
    q[2] = 'c';
    /* ...and the parent's later stores reach it. */
    if (!wait_for_byte(q + 3, 'p'))
        return 13;
    if (memcmp((const char *)q + PAGE + 200, "parent later", 12) != 0)
        return 14;
    munmap((void *)q, 2 * PAGE);
    return 0;
}

static void case_independent_mappings(void)
{
    int fd = make_file(1, 2 * PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    memcpy(p + PAGE, "before fork", 11);
    p[2] = 'x';
    p[3] = 'x';
    shared_map = p;
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d (%s)", errno, strerror(errno));
    if (pid == 0) {
        /* Drop the inherited mapping: only the child's own one is used. */
        munmap(p, 2 * PAGE);
        _exit(independent_child(NULL));
    }
    int st;
    int came = parent_wait_for_byte(shared_map + 2, 'c', pid, &st);
    if (came) {
        memcpy(p + PAGE + 200, "parent later", 12);
        shared_map[3] = 'p';
    }
    if (st == -2)
        st = check_wait(pid);
    CHECK(came, "the child's store never appeared in the parent's mapping (child %s)", check_status_str(st));
    CHECK(memcmp(p + PAGE + 100, "child's own map", 15) == 0, "parent sees \"%.15s\"", p + PAGE + 100);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "child %s (10 open, 11 mmap, 12 old data, 13 no store from the parent, 14 its data)",
          check_status_str(st));
    char buf[16] = {0};
    CHECK(pread(fd, buf, 15, PAGE + 100) == 15, "pread: errno %d (%s)", errno, strerror(errno));
    CHECK(memcmp(buf, "child's own map", 15) == 0, "read() sees \"%.15s\"", buf);
    CHECK_SYS(munmap(p, 2 * PAGE));
    CHECK_SYS(close(fd));
}

static void case_two_mappings_one_process(void)
{
    int fd = make_file(1, PAGE);
    CHECK(fd >= 0, "creating the file: errno %d (%s)", errno, strerror(errno));
    volatile char *a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(a != MAP_FAILED, "first mmap: errno %d (%s)", errno, strerror(errno));
    volatile char *b = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(b != MAP_FAILED, "second mmap: errno %d (%s)", errno, strerror(errno));
    CHECK(a != b, "two mappings at the same address");
    CHECK(b[5] == 'f', "second mapping reads %d before the store", b[5]);
    a[5] = '!';
    CHECK(b[5] == '!', "second mapping reads %d after a store through the first", b[5]);
    /* A write() to the file shows in both mappings too. */
    CHECK(pwrite(fd, "W", 1, 6) == 1, "pwrite: errno %d (%s)", errno, strerror(errno));
    CHECK(a[6] == 'W' && b[6] == 'W', "after pwrite the mappings read %d and %d", a[6], b[6]);
    CHECK_SYS(munmap((void *)a, PAGE));
    CHECK_SYS(munmap((void *)b, PAGE));
    CHECK_SYS(close(fd));
}

int main(void)
{
    check_init("mmap_pitfalls");
    RUN(sigbus_store_past_eof);
    RUN(sigbus_load_past_eof);
    RUN(store_in_last_page_ok);
    RUN(sigbus_after_truncate);
    RUN(wronly_fd_eacces);
    RUN(rdonly_fd_not_shared_writable);
    RUN(bad_offset_and_length_einval);
    RUN(munmap_without_msync_keeps_data);
    RUN(private_stores_not_in_file);
    RUN(msync_errors);
    RUN(fork_shares_mapping);
    RUN(independent_mappings);
    RUN(two_mappings_one_process);
    check_cleanup(4);
    return check_finish();
}
