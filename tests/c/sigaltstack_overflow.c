/* sigaltstack_overflow: catching a stack overflow on an alternate signal
 * stack.
 *
 * (a) sigaltstack's rules: a size below MINSIGSTKSZ is ENOMEM (Linux's
 *     arm64 MINSIGSTKSZ is 5120; qemu-user 7.2 uses 2048, so the check
 *     uses 2000 bytes, too small for both), unknown flags are EINVAL, the query gives back what was set,
 *     SS_DISABLE turns it off.
 * (b) An SA_ONSTACK handler for a raised signal runs on the alternate
 *     stack (the address of one of its locals lies inside it); inside,
 *     sigaltstack reports SS_ONSTACK and changing it is EPERM; a nested
 *     SA_ONSTACK signal runs further down the same stack; after the
 *     handler returns the flags are 0 again.
 * (c) Infinite recursion overflows the main stack: the SIGSEGV handler,
 *     with SA_ONSTACK, runs on the alternate stack and siglongjmps out;
 *     the program goes on, and a second overflow is caught the same way.
 * (d) The same overflow without an alternate stack cannot run the handler
 *     and kills the process with SIGSEGV.
 *
 * The kernel needs: sigaltstack, signal delivery choosing the alternate
 * stack for SA_ONSTACK (and not switching again when already on it),
 * growing the main stack down to its limit then SIGSEGV, a failed frame
 * setup turning into a SIGSEGV kill, rt_sigreturn, fork/wait4.
 */
#include "check.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

#define ALT_SIZE (64 * 1024)
static char altstack[ALT_SIZE] __attribute__((aligned(16)));
static sigjmp_buf jump;

static int on_alt(const void *p)
{
    return (const char *)p >= altstack && (const char *)p < altstack + ALT_SIZE;
}

static int set_altstack(void)
{
    stack_t ss = {.ss_sp = altstack, .ss_size = ALT_SIZE, .ss_flags = 0};
    return sigaltstack(&ss, NULL);
}

static void case_sigaltstack_rules(void)
{
    stack_t ss, old;
    static char small[2000];
    ss.ss_sp = small;
    ss.ss_size = sizeof small;
    ss.ss_flags = 0;
    CHECK_ERRNO(sigaltstack(&ss, NULL), ENOMEM);
    ss.ss_sp = altstack;
    ss.ss_size = ALT_SIZE;
    ss.ss_flags = 0x1234;
    CHECK_ERRNO(sigaltstack(&ss, NULL), EINVAL);
    CHECK_SYS(sigaltstack(NULL, &old));
    CHECK(old.ss_flags == SS_DISABLE, "initial flags %#x, expected SS_DISABLE", old.ss_flags);
    CHECK_SYS(set_altstack());
    CHECK_SYS(sigaltstack(NULL, &old));
    CHECK(old.ss_sp == altstack && old.ss_size == ALT_SIZE && old.ss_flags == 0, "query gave flags %#x", old.ss_flags);
    ss.ss_flags = SS_DISABLE;
    CHECK_SYS(sigaltstack(&ss, &old));
    CHECK(old.ss_sp == altstack && old.ss_flags == 0, "old value wrong");
    CHECK_SYS(sigaltstack(NULL, &old));
    CHECK(old.ss_flags == SS_DISABLE, "flags %#x after SS_DISABLE", old.ss_flags);
}

static volatile int outer_on_alt, outer_onstack_flag, outer_eperm, inner_on_alt, inner_below, inner_ran;
static volatile uintptr_t outer_local_addr;

static void inner_handler(int sig)
{
    volatile char local;
    (void)sig;
    inner_ran = 1;
    inner_on_alt = on_alt((const void *)&local);
    inner_below = (uintptr_t)&local < outer_local_addr;
}

static void outer_handler(int sig)
{
    volatile char local;
    stack_t cur, ss = {.ss_sp = altstack, .ss_size = ALT_SIZE, .ss_flags = 0};
    (void)sig;
    outer_local_addr = (uintptr_t)&local;
    outer_on_alt = on_alt((const void *)&local);
    outer_onstack_flag = sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_ONSTACK);
    outer_eperm = sigaltstack(&ss, NULL) == -1 && errno == EPERM;
    raise(SIGUSR2); /* nested: SIGUSR2 is not blocked by this handler */
}

static void case_handler_on_altstack(void)
{
    struct sigaction sa;
    stack_t cur;
    char main_local;
    CHECK(!on_alt(&main_local), "the main stack lies inside the alternate stack");
    CHECK_SYS(set_altstack());
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = outer_handler;
    sa.sa_flags = SA_ONSTACK;
    CHECK_SYS(sigaction(SIGUSR1, &sa, NULL));
    sa.sa_handler = inner_handler;
    CHECK_SYS(sigaction(SIGUSR2, &sa, NULL));
    CHECK_SYS(raise(SIGUSR1));
    CHECK(outer_on_alt, "the SA_ONSTACK handler did not run on the alternate stack");
    CHECK(outer_onstack_flag, "sigaltstack in the handler did not report SS_ONSTACK");
    CHECK(outer_eperm, "changing the alternate stack while on it was not EPERM");
    CHECK(inner_ran, "the nested handler did not run");
    CHECK(inner_on_alt, "the nested handler left the alternate stack");
    CHECK(inner_below, "the nested handler's frame is not below the outer one's");
    CHECK_SYS(sigaltstack(NULL, &cur));
    CHECK(cur.ss_flags == 0, "flags %#x after the handler returned", cur.ss_flags);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static volatile int segv_on_alt, segv_onstack_flag, segv_signo;
static volatile long depth;
static volatile long depth_limit; /* 0: none (it only hides the recursion from the compiler) */

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    volatile char local;
    stack_t cur;
    (void)uc;
    segv_signo = si->si_signo + 0 * sig;
    segv_on_alt = on_alt((const void *)&local);
    segv_onstack_flag = sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_ONSTACK);
    siglongjmp(jump, 1);
}

__attribute__((noinline)) static long recurse(long n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    depth = n;
    if (depth_limit != 0 && n >= depth_limit)
        return 0;
    return recurse(n + 1) + pad[0];
}

static void case_overflow_caught(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHECK_SYS(set_altstack());
    CHECK_SYS(sigaction(SIGSEGV, &sa, NULL));
    for (int round = 0; round < 2; round++) {
        segv_on_alt = segv_onstack_flag = segv_signo = 0;
        depth = 0;
        if (sigsetjmp(jump, 1) == 0) {
            recurse(0);
            CHECK(0, "the recursion returned");
        }
        CHECK(segv_signo == SIGSEGV, "round %d: handler saw signal %d", round, segv_signo);
        CHECK(depth > 1000, "round %d: overflow after only %ld calls", round, depth);
        CHECK(segv_on_alt, "round %d: the SIGSEGV handler was not on the alternate stack", round);
        CHECK(segv_onstack_flag, "round %d: SS_ONSTACK not reported in the handler", round);
    }
    stack_t cur;
    CHECK_SYS(sigaltstack(NULL, &cur));
    CHECK(cur.ss_flags == 0, "flags %#x after leaving the handler by siglongjmp", cur.ss_flags);
    signal(SIGSEGV, SIG_DFL);
}

static void case_overflow_without_altstack_kills(void)
{
    pid_t pid = fork();
    CHECK_SYS(pid);
    if (pid == 0) {
        struct sigaction sa;
        stack_t ss = {.ss_flags = SS_DISABLE};
        sigaltstack(&ss, NULL);
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = segv_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigaction(SIGSEGV, &sa, NULL);
        if (sigsetjmp(jump, 1) == 0)
            recurse(0);
        _exit(3); /* the handler ran: it cannot have, there is no stack */
    }
    int st = check_wait(pid);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "child %s", check_status_str(st));
}

int main(int argc, char **argv)
{
    check_init("sigaltstack_overflow");
    check_filter(argc, argv);
    RUN(sigaltstack_rules);
    RUN(handler_on_altstack);
    RUN(overflow_caught);
    RUN(overflow_without_altstack_kills);
    return check_finish();
}
