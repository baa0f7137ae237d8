/* abi_layout: the sizes and field offsets of the Linux structures armmap
 * reads or writes in user memory, as the cross compiler's Linux and glibc
 * headers define them, one "name value" line each.
 *
 * `cargo xtask test` runs it under qemu-aarch64 and compares the output
 * with tests/c/abi_layout.expected; the kernel's host unit tests compare
 * the same file with the Rust definitions (kernel/src/abi_layout.rs). A
 * change on either side fails one of the two.
 */
#define _GNU_SOURCE /* struct dirent64 */
#include <stddef.h>
#include <stdio.h>

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <ucontext.h>

#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/termbits.h>
#include <asm-generic/ioctls.h>
#include <linux/futex.h>
#include <linux/perf_event.h>
#include <linux/sched.h>

#define SIZE(name, type) printf("%s.size %zu\n", name, sizeof(type))
#define OFF(name, type, field) printf("%s.%s %zu\n", name, #field, offsetof(type, field))
#define OFF_AS(name, label, type, field) printf("%s.%s %zu\n", name, label, offsetof(type, field))
#define FIELD_SIZE(name, label, type, field) printf("%s.%s %zu\n", name, label, sizeof(((type *)0)->field))

/* struct winsize as the kernel's asm-generic/termios.h has it (glibc's
 * sys/ioctl.h would clash with asm/termbits.h); the sizes and offsets are
 * what matter, and glibc's is the same. */
struct kernel_winsize {
    unsigned short ws_row;
    unsigned short ws_col;
    unsigned short ws_xpixel;
    unsigned short ws_ypixel;
};

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
    OFF("termios", struct termios, c_iflag);
    OFF("termios", struct termios, c_oflag);
    OFF("termios", struct termios, c_cflag);
    OFF("termios", struct termios, c_lflag);
    SIZE("winsize", struct kernel_winsize);
    OFF("winsize", struct kernel_winsize, ws_row);
    OFF("winsize", struct kernel_winsize, ws_col);
    OFF("winsize", struct kernel_winsize, ws_xpixel);
    OFF("winsize", struct kernel_winsize, ws_ypixel);

    SIZE("stat", struct stat);
    OFF("stat", struct stat, st_mode);
    OFF("stat", struct stat, st_nlink);
    OFF("stat", struct stat, st_size);
    OFF("stat", struct stat, st_blksize);
    OFF("stat", struct stat, st_blocks);
    OFF("stat", struct stat, st_atim);
    OFF("stat", struct stat, st_mtim);
    OFF("stat", struct stat, st_ctim);
    OFF("stat", struct stat, st_dev);
    OFF("stat", struct stat, st_ino);
    OFF("stat", struct stat, st_uid);
    OFF("stat", struct stat, st_gid);
    OFF("stat", struct stat, st_rdev);

    OFF("timespec", struct timespec, tv_sec);
    SIZE("timeval", struct timeval);
    OFF("timeval", struct timeval, tv_usec);

    SIZE("rusage", struct rusage);
    OFF("rusage", struct rusage, ru_utime);
    OFF("rusage", struct rusage, ru_stime);
    OFF("rusage", struct rusage, ru_maxrss);
    OFF("rusage", struct rusage, ru_ixrss);
    OFF("rusage", struct rusage, ru_idrss);
    OFF("rusage", struct rusage, ru_isrss);
    OFF("rusage", struct rusage, ru_minflt);
    OFF("rusage", struct rusage, ru_majflt);
    OFF("rusage", struct rusage, ru_nswap);
    OFF("rusage", struct rusage, ru_nivcsw);

    /* uname's buffer: six fields of the same length. */
    SIZE("utsname", struct utsname);
    FIELD_SIZE("utsname", "field", struct utsname, sysname);
    OFF("utsname", struct utsname, nodename);
    OFF("utsname", struct utsname, machine);

    SIZE("iovec", struct iovec);
    OFF("iovec", struct iovec, iov_base);
    OFF("iovec", struct iovec, iov_len);

    /* The record getdents64 writes (the kernel's struct linux_dirent64,
     * which glibc's struct dirent64 copies): the header is d_name's offset. */
    OFF_AS("linux_dirent64", "d_ino", struct dirent64, d_ino);
    OFF_AS("linux_dirent64", "d_off", struct dirent64, d_off);
    OFF_AS("linux_dirent64", "d_reclen", struct dirent64, d_reclen);
    OFF_AS("linux_dirent64", "d_type", struct dirent64, d_type);
    OFF_AS("linux_dirent64", "d_name", struct dirent64, d_name);

    SIZE("pollfd", struct pollfd);
    OFF("pollfd", struct pollfd, events);
    OFF("pollfd", struct pollfd, revents);

    SIZE("clone_args", struct clone_args);
    OFF("clone_args", struct clone_args, flags);
    OFF("clone_args", struct clone_args, pidfd);
    OFF("clone_args", struct clone_args, child_tid);
    OFF("clone_args", struct clone_args, parent_tid);
    OFF("clone_args", struct clone_args, exit_signal);
    OFF("clone_args", struct clone_args, stack);
    OFF("clone_args", struct clone_args, stack_size);
    OFF("clone_args", struct clone_args, tls);
    OFF("clone_args", struct clone_args, set_tid);
    OFF("clone_args", struct clone_args, set_tid_size);
    OFF("clone_args", struct clone_args, cgroup);
    printf("clone_args.SIZE_VER0 %d\n", CLONE_ARGS_SIZE_VER0);

    /* The part of perf_event_attr perf_event_open reads: type, size,
     * config and the word of flag bits (disabled, inherit, ...), which
     * follows read_format. */
    OFF("perf_event_attr", struct perf_event_attr, type);
    OFF("perf_event_attr", struct perf_event_attr, size);
    OFF("perf_event_attr", struct perf_event_attr, config);
    printf("perf_event_attr.flags %zu\n",
           offsetof(struct perf_event_attr, read_format) + sizeof(((struct perf_event_attr *)0)->read_format));

    SIZE("robust_list_head", struct robust_list_head);
    OFF("robust_list_head", struct robust_list_head, futex_offset);
    OFF("robust_list_head", struct robust_list_head, list_op_pending);
    return 0;
}
