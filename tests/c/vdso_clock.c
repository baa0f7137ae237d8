/* vdso_clock: glibc's clocks (clock_gettime, gettimeofday, time,
 * clock_getres) agree with the system calls.
 *
 * On armmap glibc finds the vDSO through getauxval(AT_SYSINFO_EHDR) and
 * reads the clocks without entering the kernel; under qemu-aarch64 (whose
 * Linux user mode may offer no vDSO) it makes the system calls. Either way
 * every value glibc returns must lie between two direct system calls made
 * just before and just after, and the resolutions must be the system
 * call's. Only such facts are printed, so the output equals Linux's.
 */
#include "check.h"

#include <elf.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>

static const clockid_t clocks[] = {
    CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
};
#define NCLOCKS (int)(sizeof clocks / sizeof clocks[0])

static int on_armmap(void)
{
    struct utsname u;
    return uname(&u) == 0 && strstr(u.release, "armmap") != NULL;
}

static long long ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int sys_gettime(clockid_t c, struct timespec *t)
{
    return (int)syscall(SYS_clock_gettime, c, t);
}

static void case_vdso_is_an_elf_shared_object(void)
{
    unsigned long base = getauxval(AT_SYSINFO_EHDR);
    /* armmap always maps one; Linux under qemu-user may not. */
    if (on_armmap())
        CHECK(base != 0, "no AT_SYSINFO_EHDR on armmap");
    if (base == 0)
        return;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0, "no ELF magic at AT_SYSINFO_EHDR");
    CHECK(eh->e_ident[EI_CLASS] == ELFCLASS64, "class %d", eh->e_ident[EI_CLASS]);
    CHECK(eh->e_type == ET_DYN, "type %d", eh->e_type);
    CHECK(eh->e_machine == EM_AARCH64, "machine %d", eh->e_machine);
}

static void case_clock_gettime_between_syscalls(void)
{
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < NCLOCKS; i++) {
            struct timespec a, b, c;
            CHECK(sys_gettime(clocks[i], &a) == 0, "syscall clock %d: errno %d", clocks[i], errno);
            CHECK_SYS(clock_gettime(clocks[i], &b));
            CHECK(sys_gettime(clocks[i], &c) == 0, "syscall clock %d: errno %d", clocks[i], errno);
            CHECK(b.tv_nsec >= 0 && b.tv_nsec < 1000000000, "clock %d: tv_nsec %ld", clocks[i], b.tv_nsec);
            CHECK(ns(&a) <= ns(&b) && ns(&b) <= ns(&c), "clock %d: %lld, %lld, %lld not in order", clocks[i],
                  ns(&a), ns(&b), ns(&c));
        }
    }
}

static void case_gettimeofday_and_time_between_syscalls(void)
{
    struct timespec a, c;
    struct timeval tv;
    CHECK_SYS(sys_gettime(CLOCK_REALTIME, &a));
    CHECK_SYS(gettimeofday(&tv, NULL));
    CHECK_SYS(sys_gettime(CLOCK_REALTIME, &c));
    long long us = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec %ld", (long)tv.tv_usec);
    CHECK(ns(&a) / 1000 <= us && us <= ns(&c) / 1000, "gettimeofday %lld us outside [%lld, %lld] ns", us, ns(&a),
          ns(&c));

    CHECK_SYS(sys_gettime(CLOCK_REALTIME_COARSE, &a));
    time_t t = time(NULL);
    CHECK_SYS(sys_gettime(CLOCK_REALTIME_COARSE, &c));
    CHECK(a.tv_sec <= t && t <= c.tv_sec, "time() %lld outside [%lld, %lld]", (long long)t, (long long)a.tv_sec,
          (long long)c.tv_sec);
}

static void case_time_moves_forward(void)
{
    struct timespec start, now;
    CHECK_SYS(clock_gettime(CLOCK_MONOTONIC, &start));
    long spins = 0;
    do {
        CHECK_SYS(clock_gettime(CLOCK_MONOTONIC, &now));
        CHECK(ns(&now) >= ns(&start), "CLOCK_MONOTONIC went back");
    } while (ns(&now) == ns(&start) && ++spins < 100000000L);
    CHECK(ns(&now) > ns(&start), "CLOCK_MONOTONIC did not move in %ld reads", spins);
}

static void case_clock_getres_is_the_syscalls(void)
{
    for (int i = 0; i < NCLOCKS; i++) {
        struct timespec mine, theirs;
        CHECK_SYS(clock_getres(clocks[i], &mine));
        CHECK((int)syscall(SYS_clock_getres, clocks[i], &theirs) == 0, "errno %d", errno);
        CHECK(mine.tv_sec == theirs.tv_sec && mine.tv_nsec == theirs.tv_nsec, "clock %d: %lld vs %lld", clocks[i],
              ns(&mine), ns(&theirs));
    }
    CHECK_SYS(clock_getres(CLOCK_MONOTONIC, NULL));
}

static void case_other_clocks_reach_the_kernel(void)
{
    struct timespec t;
    CHECK_SYS(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t));
    CHECK_SYS(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t));
    CHECK_ERRNO(clock_gettime((clockid_t)1000, &t), EINVAL);
    CHECK_ERRNO(clock_getres((clockid_t)1000, &t), EINVAL);
}

int main(void)
{
    check_init("vdso_clock");
    RUN(vdso_is_an_elf_shared_object);
    RUN(clock_gettime_between_syscalls);
    RUN(gettimeofday_and_time_between_syscalls);
    RUN(time_moves_forward);
    RUN(clock_getres_is_the_syscalls);
    RUN(other_clocks_reach_the_kernel);
    return check_finish();
}
