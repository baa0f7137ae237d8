/* fault_signals: memory faults delivered as signals a program can catch.
 *
 * (a) SIGSEGV for a load from PROT_NONE memory (SEGV_ACCERR) and from an
 *     unmapped page (SEGV_MAPERR); a store to a read-only mapping
 *     (SEGV_ACCERR); SIGBUS for a page of a file mapping wholly past the
 *     end of the file (BUS_ADRERR). Each is caught by an SA_SIGINFO handler
 *     that checks si_signo, si_code and si_addr (the exact faulting byte,
 *     not its page) and leaves with siglongjmp; the signal mask saved by
 *     sigsetjmp comes back, so the next fault is caught again.
 * (b) The signal frame: uc_mcontext.fault_address is the faulting address,
 *     and walking the records in uc_mcontext.__reserved finds the
 *     fpsimd_context (magic 0x46508001) and, for a data abort, the
 *     esr_context (magic 0x45535201) whose ESR has EC 0x24 (data abort from
 *     a lower exception level) and WnR telling a store from a load.
 *     qemu-user (7.2) is not faithful here: it writes no esr_context
 *     record (and no fault_address for a SIGBUS), so frame_records fails
 *     under qemu-aarch64, while Linux 6.1 passes it (arch/arm64/kernel/
 *     signal.c, setup_sigframe_layout: an esr_context whenever
 *     thread.fault_code is set, which __do_user_fault does for every user
 *     data abort).
 * (c) A fault while its signal is blocked, or ignored, or with no handler,
 *     kills the process with that signal (Linux's force_sig_fault).
 *
 * The kernel needs: rt_sigaction with SA_SIGINFO, the aarch64 rt_sigframe
 * (siginfo, ucontext with sigcontext records), rt_sigreturn, the fault
 * handler turning user data aborts into SIGSEGV/SIGBUS with si_code and
 * si_addr, rt_sigprocmask, fork/wait4.
 */
#define _GNU_SOURCE
#include "check.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>

#define PAGE 4096
/* FPSIMD_MAGIC, ESR_MAGIC and struct _aarch64_ctx come from
 * <asm/sigcontext.h> (through <signal.h> with _GNU_SOURCE). */
_Static_assert(FPSIMD_MAGIC == 0x46508001 && ESR_MAGIC == 0x45535201, "record magics");

struct fault_seen {
    int signo, code, errno_;
    void *addr;
    uint64_t fault_address;
    int have_fpsimd, have_esr;
    uint64_t esr;
};

static sigjmp_buf jump;
static volatile struct fault_seen seen;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    seen.signo = si->si_signo;
    seen.code = si->si_code;
    seen.errno_ = si->si_errno;
    seen.addr = si->si_addr;
    seen.fault_address = uc->uc_mcontext.fault_address;
    seen.have_fpsimd = seen.have_esr = 0;
    unsigned char *p = (unsigned char *)uc->uc_mcontext.__reserved;
    unsigned char *end = p + sizeof uc->uc_mcontext.__reserved;
    while (p + sizeof(struct _aarch64_ctx) <= end) {
        struct _aarch64_ctx *h = (struct _aarch64_ctx *)p;
        if (h->magic == 0 || h->size < sizeof *h || h->size > (size_t)(end - p))
            break;
        if (h->magic == FPSIMD_MAGIC)
            seen.have_fpsimd = 1;
        if (h->magic == ESR_MAGIC) {
            seen.have_esr = 1;
            seen.esr = *(uint64_t *)(p + sizeof *h);
        }
        p += h->size;
    }
    (void)sig;
    siglongjmp(jump, 1);
}

static void catch_faults(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

/* Loads (write == 0) or stores a byte at p; returns 1 if a fault was
 * caught (seen is filled in), 0 if the access went through. */
static int touch(volatile char *p, int write)
{
    memset((void *)&seen, 0, sizeof seen);
    if (sigsetjmp(jump, 1) != 0)
        return 1;
    if (write)
        *p = 1;
    else
        (void)*p;
    return 0;
}

/* Checks the last fault's siginfo; returns NULL or what is wrong. */
static const char *fault_mismatch(int signo, int code, void *addr)
{
    static char why[160];
    if (seen.signo != signo || seen.code != code) {
        snprintf(why, sizeof why, "signal %d code %d, expected signal %d code %d", seen.signo, seen.code, signo, code);
        return why;
    }
    if (seen.addr != addr)
        return "si_addr is not the faulting address";
    if (seen.errno_ != 0)
        return "si_errno is not 0";
    return NULL;
}

/* Checks the last fault's ucontext; returns NULL or what is wrong. */
static const char *frame_mismatch(void *addr, int write)
{
    static char why[160];
    if (seen.fault_address != (uint64_t)(uintptr_t)addr)
        return "uc_mcontext.fault_address is not the faulting address";
    if (!seen.have_fpsimd)
        return "no fpsimd_context record in the frame";
    if (!seen.have_esr)
        return "no esr_context record in the frame";
    if ((seen.esr >> 26 & 0x3f) != 0x24) {
        snprintf(why, sizeof why, "ESR class %#llx, expected 0x24 (data abort)",
                 (unsigned long long)(seen.esr >> 26 & 0x3f));
        return why;
    }
    if (!!(seen.esr & (1u << 6)) != write)
        return write ? "ESR.WnR says read for a store" : "ESR.WnR says write for a load";
    return NULL;
}

static void case_prot_none(void)
{
    catch_faults();
    char *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d", errno);
    const char *why;
    CHECK(touch(p + 100, 0), "a load from PROT_NONE memory did not fault");
    CHECK((why = fault_mismatch(SIGSEGV, SEGV_ACCERR, p + 100)) == NULL, "load: %s", why);
    CHECK(touch(p + 4095, 1), "a store to PROT_NONE memory did not fault");
    CHECK((why = fault_mismatch(SIGSEGV, SEGV_ACCERR, p + 4095)) == NULL, "store: %s", why);
    CHECK_SYS(mprotect(p, PAGE, PROT_READ | PROT_WRITE));
    CHECK(!touch(p + 100, 1), "a store faulted after mprotect");
    munmap(p, PAGE);
}

static void case_unmapped(void)
{
    catch_faults();
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d", errno);
    CHECK_SYS(munmap(p + PAGE, PAGE));
    const char *why;
    CHECK(touch(p + PAGE + 8, 0), "a load from an unmapped page did not fault");
    CHECK((why = fault_mismatch(SIGSEGV, SEGV_MAPERR, p + PAGE + 8)) == NULL, "load: %s", why);
    CHECK(touch(p + PAGE + 9, 1), "a store to an unmapped page did not fault");
    CHECK((why = fault_mismatch(SIGSEGV, SEGV_MAPERR, p + PAGE + 9)) == NULL, "store: %s", why);
    CHECK(!touch(p + 2 * PAGE, 1), "the page after the hole faulted");
    munmap(p, 3 * PAGE);
}

static void case_read_only_store(void)
{
    catch_faults();
    char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d", errno);
    const char *why;
    CHECK(!touch(p + 1, 0), "a load from a read-only page faulted");
    CHECK(touch(p + 1, 1), "a store to a read-only page did not fault");
    CHECK((why = fault_mismatch(SIGSEGV, SEGV_ACCERR, p + 1)) == NULL, "store: %s", why);
    CHECK(p[1] == 0, "the store went through");
    munmap(p, PAGE);
}

static void case_bus_past_eof(void)
{
    catch_faults();
    int fd = open(check_path(0), O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_SYS(fd);
    unlink(check_path(0));
    CHECK(write(fd, "0123456789", 10) == 10, "write: errno %d", errno);
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    CHECK(p != MAP_FAILED, "mmap: errno %d", errno);
    const char *why;
    CHECK(!touch(p + 100, 0), "a load past EOF inside the last page faulted");
    CHECK(touch(p + PAGE + 123, 0), "a load from a page past EOF did not fault");
    CHECK((why = fault_mismatch(SIGBUS, BUS_ADRERR, p + PAGE + 123)) == NULL, "load: %s", why);
    CHECK(touch(p + PAGE + 7, 1), "a store to a page past EOF did not fault");
    CHECK((why = fault_mismatch(SIGBUS, BUS_ADRERR, p + PAGE + 7)) == NULL, "store: %s", why);
    munmap(p, 2 * PAGE);
}

static void case_frame_records(void)
{
    catch_faults();
    char *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d", errno);
    const char *why;
    CHECK(touch(p + 200, 0), "a load from PROT_NONE memory did not fault");
    CHECK((why = frame_mismatch(p + 200, 0)) == NULL, "load: %s", why);
    CHECK(touch(p + 300, 1), "a store to PROT_NONE memory did not fault");
    CHECK((why = frame_mismatch(p + 300, 1)) == NULL, "store: %s", why);
    munmap(p, PAGE);
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d", errno);
    CHECK_SYS(munmap(p, PAGE));
    CHECK(touch(p + 5, 1), "a store to an unmapped page did not fault");
    CHECK((why = frame_mismatch(p + 5, 1)) == NULL, "unmapped store: %s", why);
}

/* how: 0 no handler, 1 handler but blocked, 2 ignored. */
static int fault_in_child(int how)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = how == 2 ? SIG_IGN : SIG_DFL;
        if (how == 1) {
            sa.sa_sigaction = on_fault;
            sa.sa_flags = SA_SIGINFO;
        }
        sigaction(SIGSEGV, &sa, NULL);
        if (how == 1) {
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGSEGV);
            sigprocmask(SIG_BLOCK, &s, NULL);
        }
        volatile char *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (sigsetjmp(jump, 1) == 0)
            (void)*p;
        _exit(3); /* survived */
    }
    return check_wait(pid);
}

static void case_uncatchable_faults(void)
{
    const char *names[3] = {"no handler", "handler but SIGSEGV blocked", "SIGSEGV ignored"};
    for (int how = 0; how < 3; how++) {
        int st = fault_in_child(how);
        CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "%s: child %s", names[how],
              check_status_str(st));
    }
}

int main(int argc, char **argv)
{
    check_init("fault_signals");
    check_filter(argc, argv);
    RUN(prot_none);
    RUN(unmapped);
    RUN(read_only_store);
    RUN(bus_past_eof);
    RUN(frame_records);
    RUN(uncatchable_faults);
    return check_finish();
}
