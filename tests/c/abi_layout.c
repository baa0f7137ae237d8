/* abi_layout: the sizes and field offsets of the Linux structures armmap
 * reads or writes in user memory, as the cross compiler's Linux and glibc
 * headers define them, one "name value" line each.
 *
 * `cargo xtask test` runs it under qemu-aarch64 and compares the output
 * with tests/c/abi_layout.expected; the kernel's host unit tests compare
 * the same file with the Rust definitions (kernel/src/abi_layout.rs). A
 * change on either side fails one of the two.
 */
#include <stddef.h>
#include <stdio.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>

#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/termbits.h>
#include <linux/futex.h>

#define SIZE(name, type) printf("%s.size %zu\n", name, sizeof(type))
#define OFF(name, type, field) printf("%s.%s %zu\n", name, #field, offsetof(type, field))
#define OFF_AS(name, label, type, field) printf("%s.%s %zu\n", name, label, offsetof(type, field))

int main(void)
{
    SIZE("sigcontext", struct sigcontext);
    OFF("sigcontext", struct sigcontext, fault_address);
    OFF("sigcontext", struct sigcontext, regs);
    OFF("sigcontext", struct sigcontext, sp);
    OFF("sigcontext", struct sigcontext, pc);
    OFF("sigcontext", struct sigcontext, pstate);
    OFF("sigcontext", struct sigcontext, __reserved);

    SIZE("fpsimd_context", struct fpsimd_context);
    OFF("fpsimd_context", struct fpsimd_context, fpsr);
    OFF("fpsimd_context", struct fpsimd_context, fpcr);
    OFF("fpsimd_context", struct fpsimd_context, vregs);
    printf("fpsimd_context.magic %#x\n", FPSIMD_MAGIC);
    SIZE("esr_context", struct esr_context);
    OFF("esr_context", struct esr_context, esr);
    printf("esr_context.magic %#x\n", ESR_MAGIC);

    /* The kernel's struct ucontext (its 8-byte mask padded to 128 bytes;
     * compiled here with glibc's 128-byte sigset_t, which lands the same),
     * and glibc's ucontext_t, which must agree with it. */
    SIZE("ucontext", struct ucontext);
    OFF("ucontext", struct ucontext, uc_flags);
    OFF("ucontext", struct ucontext, uc_link);
    OFF("ucontext", struct ucontext, uc_stack);
    OFF("ucontext", struct ucontext, uc_sigmask);
    OFF("ucontext", struct ucontext, uc_mcontext);
    OFF_AS("ucontext", "glibc_uc_sigmask", ucontext_t, uc_sigmask);
    OFF_AS("ucontext", "glibc_uc_mcontext", ucontext_t, uc_mcontext);

    SIZE("siginfo", siginfo_t);
    OFF("siginfo", siginfo_t, si_signo);
    OFF("siginfo", siginfo_t, si_errno);
    OFF("siginfo", siginfo_t, si_code);
    OFF("siginfo", siginfo_t, si_pid);
    OFF("siginfo", siginfo_t, si_uid);
    OFF("siginfo", siginfo_t, si_value);
    OFF("siginfo", siginfo_t, si_addr);
    OFF("siginfo", siginfo_t, si_status);
    OFF("siginfo", siginfo_t, si_utime);
    OFF("siginfo", siginfo_t, si_stime);
    OFF("siginfo", siginfo_t, si_timerid);
    OFF("siginfo", siginfo_t, si_overrun);

    SIZE("stack_t", stack_t);
    OFF("stack_t", stack_t, ss_sp);
    OFF("stack_t", stack_t, ss_flags);
    OFF("stack_t", stack_t, ss_size);

    SIZE("timespec", struct timespec);
    OFF("timespec", struct timespec, tv_nsec);
    SIZE("itimerval", struct itimerval);
    OFF("itimerval", struct itimerval, it_value);
    SIZE("itimerspec", struct itimerspec);
    OFF("itimerspec", struct itimerspec, it_value);
    SIZE("sigevent", struct sigevent);
    OFF("sigevent", struct sigevent, sigev_value);
    OFF("sigevent", struct sigevent, sigev_signo);
    OFF("sigevent", struct sigevent, sigev_notify);
    OFF_AS("sigevent", "sigev_notify_thread_id", struct sigevent, _sigev_un);

    /* The kernel's termios (asm-generic termbits: 19 control characters),
     * not glibc's. */
    SIZE("termios", struct termios);
    OFF("termios", struct termios, c_line);
    OFF("termios", struct termios, c_cc);
    printf("termios.NCCS %d\n", NCCS);

    SIZE("stat", struct stat);
    OFF("stat", struct stat, st_mode);
    OFF("stat", struct stat, st_nlink);
    OFF("stat", struct stat, st_size);
    OFF("stat", struct stat, st_blksize);
    OFF("stat", struct stat, st_blocks);
    OFF("stat", struct stat, st_atim);
    OFF("stat", struct stat, st_mtim);
    OFF("stat", struct stat, st_ctim);

    SIZE("robust_list_head", struct robust_list_head);
    OFF("robust_list_head", struct robust_list_head, futex_offset);
    OFF("robust_list_head", struct robust_list_head, list_op_pending);
    return 0;
}
