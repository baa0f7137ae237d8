/* armmap benchmark: guest instructions per operation, counted by the PMU.
 *
 * One static program (aarch64-linux-gnu-gcc -static -O2) that runs
 * unchanged on armmap and on Linux. For each row, a perf_event_open
 * counter of PERF_COUNT_HW_INSTRUCTIONS for the calling process (user and
 * kernel: we want the kernel's cost) is reset, enabled around a batch of
 * operations, disabled and read; the cost of the enable/disable pair itself
 * (measured once per counter) is subtracted and the rest divided by the
 * number of operations. One counter serves most rows; forked children open
 * their own, and the fork rows use an inheriting one.
 *
 * Under QEMU's `-icount shift=0,sleep=off` the guest's instruction count
 * is exact and repeatable, so one batch per row is enough.
 *
 * Output, one line per row, easy to parse:
 *
 *     bench info <key> <value>
 *     bench <row> <instructions-per-op> <ops>
 *     bench skip <row> <reason>
 *     bench error <what>: <errno> (<message>)
 *     bench done
 *
 * Rows that need armmap's /dev/memdev are skipped when it is absent (Linux).
 * As PID 1 the program powers the machine off at the end
 * (reboot(LINUX_REBOOT_CMD_POWER_OFF)), so QEMU exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MiB (1024UL * 1024UL)

/* Batch sizes. */
#define N_SYSCALL 1000    /* null syscalls */
#define N_MMAP 256        /* mmap+munmap pairs */
#define N_PAGES 1024      /* pages for the fault, populate, munmap rows (4 MiB) */
#define N_FILE_PAGES 1024 /* pages of the file in /tmp (4 MiB) */
#define N_YIELDS 1000     /* sched_yield calls by each of the two processes */
#define N_VMA_FAULT 256   /* faults measured in the fresh mapping of a VMA row */

/* ---- output: write(2) only, so nothing is buffered across fork ---- */

static void out(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= w;
    }
}

/* If fd 1 is not open (a Linux initramfs without /dev/console), make the
 * console node and open it as fds 0-2. */
static void ensure_console(void)
{
    if (fcntl(1, F_GETFD) >= 0)
        return;
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0) {
        mkdir("/dev", 0755);
        mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
        fd = open("/dev/console", O_RDWR);
    }
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

static void power_off_if_init(int status)
{
    if (getpid() == 1) {
        syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, 0);
        out("bench error reboot: %d (%s)\n", errno, strerror(errno));
    }
    _exit(status);
}

static void fail(const char *what)
{
    int e = errno;
    out("bench error %s: %d (%s)\n", what, e, strerror(e));
    power_off_if_init(1);
}

/* ---- the counter ---- */

/* A counter of retired instructions (user + kernel) for the calling
 * process, created disabled. With `inherit`, children forked while it
 * exists count into it too (their counts are added when they exit). */
static int perf_open(int inherit)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_HW_INSTRUCTIONS;
    attr.disabled = 1;
    attr.inherit = inherit ? 1 : 0;
    attr.exclude_user = 0;
    attr.exclude_kernel = 0;
    attr.exclude_hv = 0;
    return (int)syscall(SYS_perf_event_open, &attr, 0 /* this process */, -1 /* any CPU */, -1 /* no group */,
                        0UL);
}

struct counter {
    int fd;
    uint64_t overhead; /* instructions counted by an empty start/stop */
};

static __attribute__((noinline)) void c_start(struct counter *c)
{
    ioctl(c->fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(c->fd, PERF_EVENT_IOC_ENABLE, 0);
}

static __attribute__((noinline)) uint64_t c_stop(struct counter *c)
{
    ioctl(c->fd, PERF_EVENT_IOC_DISABLE, 0);
    uint64_t v = 0;
    if (read(c->fd, &v, sizeof v) != sizeof v)
        fail("read counter");
    return v > c->overhead ? v - c->overhead : 0;
}

/* Opens a counter and measures its start/stop overhead (the smallest of a
 * few tries; they are all equal under icount, after the first). */
static int counter_init(struct counter *c, int inherit)
{
    c->fd = perf_open(inherit);
    if (c->fd < 0)
        return -1;
    c->overhead = 0;
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        c_start(c);
        uint64_t v = c_stop(c);
        if (v < best)
            best = v;
    }
    c->overhead = best;
    return 0;
}

static struct counter pc; /* the main counter */

static void report(const char *row, uint64_t total, uint64_t ops)
{
    out("bench %s %llu %llu\n", row, (unsigned long long)((total + ops / 2) / ops), (unsigned long long)ops);
}

/* ---- helpers ---- */

static char *map_anon(size_t len, int prot, int extra)
{
    void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
    if (p == MAP_FAILED)
        fail("mmap anonymous");
    return p;
}

static void unmap(void *p, size_t len)
{
    if (munmap(p, len) != 0)
        fail("munmap");
}

static __attribute__((noinline)) void touch_write(volatile char *p, size_t pages)
{
    for (size_t i = 0; i < pages; i++)
        p[i * PAGE] = 1;
}

static __attribute__((noinline)) unsigned touch_read(volatile char *p, size_t pages)
{
    unsigned s = 0;
    for (size_t i = 0; i < pages; i++)
        s += p[i * PAGE];
    return s;
}

/* A page shared with forked children, for their results. */
struct shared {
    volatile uint64_t ready;
    volatile uint64_t value;
    volatile int64_t error;
};
static struct shared *shm;

/* fork as the plain clone(SIGCHLD) system call. glibc's fork() adds
 * CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID (for threads), which armmap
 * does not take; the children here only touch memory, count and _exit. */
static pid_t raw_fork(void)
{
    return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
}

/* Waits for a child; a child's own failure (reported in shm->error) wins. */
static void wait_child(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        fail("waitpid");
    if (shm->error) {
        errno = (int)shm->error;
        fail("perf_event_open in child");
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        errno = ECHILD;
        fail("child");
    }
}

/* ---- rows ---- */

static void row_null_syscall(void)
{
    for (int i = 0; i < 10; i++)
        syscall(SYS_getppid);
    c_start(&pc);
    for (int i = 0; i < N_SYSCALL; i++)
        syscall(SYS_getppid);
    report("getppid", c_stop(&pc), N_SYSCALL);
}

/* clock_gettime(CLOCK_MONOTONIC) as programs make it (glibc: through the
 * vDSO when the kernel maps one), then as a system call. */
static void row_clock_gettime(void)
{
    struct timespec ts;
    for (int i = 0; i < 10; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    c_start(&pc);
    for (int i = 0; i < N_SYSCALL; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    report("clock_gettime_vdso", c_stop(&pc), N_SYSCALL);
    c_start(&pc);
    for (int i = 0; i < N_SYSCALL; i++)
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    report("clock_gettime_syscall", c_stop(&pc), N_SYSCALL);
}

static void row_mmap_munmap(void)
{
    for (int i = 0; i < 4; i++)
        unmap(map_anon(PAGE, PROT_READ | PROT_WRITE, 0), PAGE);
    c_start(&pc);
    for (int i = 0; i < N_MMAP; i++) {
        void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(p, PAGE);
    }
    report("mmap_munmap_4k", c_stop(&pc), N_MMAP);
}

static void row_anon_faults(void)
{
    size_t len = N_PAGES * PAGE;
    /* warm-up: one of each kind */
    char *w = map_anon(len, PROT_READ | PROT_WRITE, 0);
    touch_write(w, 16);
    touch_read(w + 16 * PAGE, 16);
    touch_write(w + 16 * PAGE, 16);
    unmap(w, len);

    char *p = map_anon(len, PROT_READ | PROT_WRITE, 0);
    c_start(&pc);
    touch_write(p, N_PAGES);
    report("anon_write_fault", c_stop(&pc), N_PAGES);
    unmap(p, len);

    p = map_anon(len, PROT_READ | PROT_WRITE, 0);
    c_start(&pc);
    touch_read(p, N_PAGES);
    report("anon_read_fault", c_stop(&pc), N_PAGES);
    c_start(&pc);
    touch_write(p, N_PAGES);
    report("anon_write_after_read", c_stop(&pc), N_PAGES);
    unmap(p, len);
}

static void row_populate_munmap(void)
{
    size_t len = N_PAGES * PAGE;
    unmap(map_anon(len, PROT_READ | PROT_WRITE, MAP_POPULATE), len);

    c_start(&pc);
    char *p = map_anon(len, PROT_READ | PROT_WRITE, MAP_POPULATE);
    report("populate_per_page", c_stop(&pc), N_PAGES);
    c_start(&pc);
    munmap(p, len);
    report("munmap_per_page", c_stop(&pc), N_PAGES);
}

static const char *FILE_PATH = "/tmp/bench.dat";

static int make_file(void)
{
    if (mkdir("/tmp", 01777) != 0 && errno != EEXIST)
        fail("mkdir /tmp");
    int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail("open /tmp/bench.dat");
    static char buf[PAGE];
    for (int i = 0; i < N_FILE_PAGES; i++) {
        memset(buf, 'a' + i % 26, sizeof buf);
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
            fail("write /tmp/bench.dat");
    }
    return fd;
}

static char *map_file(int fd, int flags)
{
    void *p = mmap(NULL, N_FILE_PAGES * PAGE, PROT_READ | PROT_WRITE, flags, fd, 0);
    if (p == MAP_FAILED)
        fail("mmap /tmp/bench.dat");
    return p;
}

static void file_row(int fd, const char *row, int flags, int write)
{
    size_t len = N_FILE_PAGES * PAGE;
    char *p = map_file(fd, flags);
    c_start(&pc);
    if (write)
        touch_write(p, N_FILE_PAGES);
    else
        touch_read(p, N_FILE_PAGES);
    report(row, c_stop(&pc), N_FILE_PAGES);
    unmap(p, len);
}

static void row_file_faults(void)
{
    int fd = make_file();
    /* warm-up */
    char *w = map_file(fd, MAP_PRIVATE);
    touch_read(w, 16);
    touch_write(w + 16 * PAGE, 16);
    unmap(w, N_FILE_PAGES * PAGE);
    w = map_file(fd, MAP_SHARED);
    touch_read(w, 16);
    touch_write(w + 16 * PAGE, 16);
    unmap(w, N_FILE_PAGES * PAGE);

    file_row(fd, "file_private_read", MAP_PRIVATE, 0);
    file_row(fd, "file_private_write", MAP_PRIVATE, 1);
    file_row(fd, "file_shared_read", MAP_SHARED, 0);
    file_row(fd, "file_shared_write", MAP_SHARED, 1);
    close(fd);
    unlink(FILE_PATH);
}

/* The child writes every page of a private mapping its parent populated:
 * one COW copy per page, counted by the child's own counter. */
static void row_cow_after_fork(void)
{
    size_t len = N_PAGES * PAGE;
    char *p = map_anon(len, PROT_READ | PROT_WRITE, 0);
    touch_write(p, N_PAGES);
    shm->error = 0;
    shm->value = 0;
    pid_t pid = raw_fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        struct counter c;
        if (counter_init(&c, 0) != 0) {
            shm->error = errno;
            _exit(1);
        }
        touch_write(p, 16); /* warm-up */
        c_start(&c);
        touch_write(p + 16 * PAGE, N_PAGES - 16);
        shm->value = c_stop(&c);
        _exit(0);
    }
    wait_child(pid);
    report("cow_after_fork_per_page", shm->value, N_PAGES - 16);
    unmap(p, len);
}

/* fork + _exit in the child + waitpid, for a process with `pages` extra
 * populated pages: counted with an inheriting counter, so the child's
 * instructions (its return from fork, its exit and the teardown of its
 * address space) are included. */
static void row_fork(size_t pages, int ops)
{
    char row[64];
    snprintf(row, sizeof row, "fork_exit_wait_%zu", pages);
    struct counter ic;
    if (counter_init(&ic, 1) != 0) {
        out("bench skip %s inherit-unsupported:%d\n", row, errno);
        return;
    }
    /* Does the kernel honour `inherit`? A child that runs a known number of
     * instructions must show up in the parent's count. */
    c_start(&ic);
    pid_t probe = raw_fork();
    if (probe < 0)
        fail("fork");
    if (probe == 0) {
        for (volatile int i = 0; i < 200000; i++)
            ;
        _exit(0);
    }
    wait_child(probe);
    if (c_stop(&ic) < 600000) {
        out("bench skip %s inherit-not-counted\n", row);
        close(ic.fd);
        return;
    }
    char *p = NULL;
    if (pages) {
        p = map_anon(pages * PAGE, PROT_READ | PROT_WRITE, 0);
        touch_write(p, pages);
    }
    for (int i = 0; i < 2 + ops; i++) {
        if (i == 2)
            c_start(&ic);
        pid_t pid = raw_fork();
        if (pid < 0)
            fail("fork");
        if (pid == 0)
            _exit(0);
        wait_child(pid);
    }
    report(row, c_stop(&ic), ops);
    close(ic.fd);
    if (p)
        unmap(p, pages * PAGE);
}

/* Two processes calling sched_yield in turn; each counts its own side. */
static void row_yield(void)
{
    shm->ready = 0;
    shm->error = 0;
    shm->value = 0;
    pid_t pid = raw_fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        struct counter c;
        if (counter_init(&c, 0) != 0) {
            shm->error = errno;
            shm->ready = 1;
            _exit(1);
        }
        shm->ready = 1;
        c_start(&c);
        for (int i = 0; i < N_YIELDS; i++)
            sched_yield();
        shm->value = c_stop(&c);
        _exit(0);
    }
    while (!shm->ready)
        sched_yield();
    c_start(&pc);
    for (int i = 0; i < N_YIELDS; i++)
        sched_yield();
    uint64_t mine = c_stop(&pc);
    wait_child(pid);
    report("sched_yield_switch", mine + shm->value, 2 * N_YIELDS);
}

/* /dev/memdev (one-pass remap) against /dev/memdev-lazy (a fault per page):
 * the mmap call, and mmap + a write to every page. */
static void memdev_one(const char *dev, const char *kind, size_t mib, int report_it)
{
    int fd = open(dev, O_RDWR);
    if (fd < 0)
        fail(dev);
    size_t len = mib * MiB;
    c_start(&pc);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint64_t m = c_stop(&pc);
    if (p == MAP_FAILED)
        fail("mmap memdev");
    c_start(&pc);
    touch_write(p, len / PAGE);
    uint64_t t = c_stop(&pc);
    unmap(p, len);
    close(fd);
    if (report_it) {
        char row[64];
        snprintf(row, sizeof row, "memdev_%s_mmap_%zuM", kind, mib);
        report(row, m, 1);
        snprintf(row, sizeof row, "memdev_%s_total_%zuM", kind, mib);
        report(row, m + t, 1);
    }
}

static void row_memdev(void)
{
    static const size_t sizes[] = {2, 8, 32, 128};
    if (access("/dev/memdev", F_OK) != 0 || access("/dev/memdev-lazy", F_OK) != 0) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            out("bench skip memdev_%zuM no-/dev/memdev\n", sizes[i]);
        return;
    }
    /* armmap's fstat gives the buffer's size (memdev=SIZE). */
    struct stat st;
    if (stat("/dev/memdev", &st) != 0)
        fail("stat /dev/memdev");
    if (st.st_size == 0 || (size_t)st.st_size >= 2 * MiB) {
        memdev_one("/dev/memdev", "remap", 2, 0); /* warm-up */
        memdev_one("/dev/memdev-lazy", "lazy", 2, 0);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (st.st_size > 0 && (size_t)st.st_size < sizes[i] * MiB) {
            out("bench skip memdev_%zuM memdev-too-small\n", sizes[i]);
            continue;
        }
        memdev_one("/dev/memdev", "remap", sizes[i], 1);
        memdev_one("/dev/memdev-lazy", "lazy", sizes[i], 1);
    }
}

/* An anonymous write fault in a fresh mapping while the process has many
 * VMAs: one-page mappings with alternating protections (they cannot merge). */
static size_t vmas_made;

static void add_vmas(size_t want)
{
    while (vmas_made < want) {
        int prot = vmas_made % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
        if (mmap(NULL, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
            fail("mmap (VMA rows)");
        vmas_made++;
    }
}

static void row_vmas(void)
{
    static const size_t counts[] = {1, 100, 1000, 10000};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        add_vmas(counts[i]);
        size_t len = N_VMA_FAULT * PAGE;
        char *p = map_anon(len, PROT_READ | PROT_WRITE, 0);
        c_start(&pc);
        touch_write(p, N_VMA_FAULT);
        uint64_t v = c_stop(&pc);
        unmap(p, len);
        char row[64];
        snprintf(row, sizeof row, "fault_vmas_%zu", counts[i]);
        report(row, v, N_VMA_FAULT);
    }
}

int main(void)
{
    ensure_console();
    /* Per-page (4 KiB) costs: no transparent huge pages (Linux). armmap has
     * no THP and answers ENOSYS; either way the result is ignored. */
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);

    /* Wait until the kernel's random generator is seeded (a blocking
     * getrandom). Linux in this entropy-starved, deterministic VM otherwise
     * runs the unseeded generator's slow path on every use, among them the
     * per-syscall kernel stack offset: ~9,400 instructions per system call. */
    char seed[16];
    if (getrandom(seed, sizeof seed, 0) < 0)
        out("bench info getrandom-failed %d\n", errno);

    if (counter_init(&pc, 0) != 0)
        fail("perf_event_open");
    out("bench info pid %d\n", (int)getpid());
    out("bench info perf_attr_size %zu\n", sizeof(struct perf_event_attr));
    out("bench info counter_overhead %llu\n", (unsigned long long)pc.overhead);

    shm = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED)
        fail("mmap shared");

    row_null_syscall();
    row_clock_gettime();
    row_mmap_munmap();
    row_anon_faults();
    row_populate_munmap();
    row_file_faults();
    row_cow_after_fork();
    row_fork(0, 64);
    row_fork(1024, 64);
    row_fork(16384, 16);
    row_yield();
    row_memdev();
    row_vmas();

    out("bench done\n");
    power_off_if_init(0);
    return 0;
}
