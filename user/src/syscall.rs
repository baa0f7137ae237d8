//! Raw system calls: the one place where a user program talks to the kernel.
//!
//! On aarch64 Linux (and on armmap, which copies its ABI) a program asks the
//! kernel for a service with the `svc #0` instruction. The syscall number goes
//! in `x8`, up to six arguments go in `x0`..`x5`, and the kernel puts the
//! result back in `x0`. A result between -4095 and -1 is a negated errno
//! value (`-ENOENT`, `-EFAULT`, ...); anything else is success. Every other
//! register is preserved across the call.
//!
//! The `syscallN` functions below are exactly that, nothing more; the numbers
//! live in [`nr`]. The rest of this library wraps them in typed functions that
//! return `Result<_, Errno>` (see [`ret`]).

use crate::errno::Errno;

/// Linux aarch64 syscall numbers.
///
/// aarch64 has no table of its own: it uses the generic one from
/// `include/uapi/asm-generic/unistd.h` (on Debian:
/// `/usr/aarch64-linux-gnu/include/asm-generic/unistd.h`). The values come
/// from `linux_raw_sys`, generated from those headers, as the kernel's do. Note what is missing compared to x86-64: there
/// is no `open`, `fork`, `stat`, `unlink` or `mkdir`; the `*at` variants
/// (`openat`, `newfstatat`, `unlinkat`, ...) with `AT_FDCWD` and `clone` do
/// their job.
pub mod nr {
    use linux_raw_sys::general as linux;

    /// `getcwd(buf, size)`
    pub const GETCWD: usize = linux::__NR_getcwd as usize;
    /// `dup(oldfd)`
    pub const DUP: usize = linux::__NR_dup as usize;
    /// `dup3(oldfd, newfd, flags)`
    pub const DUP3: usize = linux::__NR_dup3 as usize;
    /// `fcntl(fd, cmd, arg)`
    pub const FCNTL: usize = linux::__NR_fcntl as usize;
    /// `ioctl(fd, cmd, arg)`
    pub const IOCTL: usize = linux::__NR_ioctl as usize;
    /// `mkdirat(dirfd, path, mode)`
    pub const MKDIRAT: usize = linux::__NR_mkdirat as usize;
    /// `unlinkat(dirfd, path, flags)`
    pub const UNLINKAT: usize = linux::__NR_unlinkat as usize;
    /// `ftruncate(fd, length)`
    pub const FTRUNCATE: usize = linux::__NR_ftruncate as usize;
    /// `chdir(path)`
    pub const CHDIR: usize = linux::__NR_chdir as usize;
    /// `openat(dirfd, path, flags, mode)`
    pub const OPENAT: usize = linux::__NR_openat as usize;
    /// `close(fd)`
    pub const CLOSE: usize = linux::__NR_close as usize;
    /// `pipe2(fds, flags)`
    pub const PIPE2: usize = linux::__NR_pipe2 as usize;
    /// `getdents64(fd, buf, count)`
    pub const GETDENTS64: usize = linux::__NR_getdents64 as usize;
    /// `lseek(fd, offset, whence)`
    pub const LSEEK: usize = linux::__NR_lseek as usize;
    /// `read(fd, buf, count)`
    pub const READ: usize = linux::__NR_read as usize;
    /// `write(fd, buf, count)`
    pub const WRITE: usize = linux::__NR_write as usize;
    /// `readv(fd, iov, iovcnt)`
    pub const READV: usize = linux::__NR_readv as usize;
    /// `writev(fd, iov, iovcnt)`
    pub const WRITEV: usize = linux::__NR_writev as usize;
    /// `pread64(fd, buf, count, offset)`
    pub const PREAD64: usize = linux::__NR_pread64 as usize;
    /// `pwrite64(fd, buf, count, offset)`
    pub const PWRITE64: usize = linux::__NR_pwrite64 as usize;
    /// `readlinkat(dirfd, path, buf, size)`
    pub const READLINKAT: usize = linux::__NR_readlinkat as usize;
    /// `newfstatat(dirfd, path, statbuf, flags)` (glibc's `fstatat`)
    pub const NEWFSTATAT: usize = linux::__NR_newfstatat as usize;
    /// `fstat(fd, statbuf)`
    pub const FSTAT: usize = linux::__NR_fstat as usize;
    /// `exit(code)`: ends the calling thread only.
    pub const EXIT: usize = linux::__NR_exit as usize;
    /// `exit_group(code)`: ends every thread of the process.
    pub const EXIT_GROUP: usize = linux::__NR_exit_group as usize;
    /// `set_tid_address(tidptr)`
    pub const SET_TID_ADDRESS: usize = linux::__NR_set_tid_address as usize;
    /// `nanosleep(req, rem)`
    pub const NANOSLEEP: usize = linux::__NR_nanosleep as usize;
    /// `clock_gettime(clockid, tp)`
    pub const CLOCK_GETTIME: usize = linux::__NR_clock_gettime as usize;
    /// `sched_yield()`
    pub const SCHED_YIELD: usize = linux::__NR_sched_yield as usize;
    /// `kill(pid, sig)`
    pub const KILL: usize = linux::__NR_kill as usize;
    pub const SETPGID: usize = linux::__NR_setpgid as usize;
    pub const GETPGID: usize = linux::__NR_getpgid as usize;
    pub const GETSID: usize = linux::__NR_getsid as usize;
    pub const SETSID: usize = linux::__NR_setsid as usize;
    /// `tgkill(tgid, tid, sig)`
    pub const TGKILL: usize = linux::__NR_tgkill as usize;
    /// `rt_sigaction(sig, act, oact, sigsetsize)`
    pub const RT_SIGACTION: usize = linux::__NR_rt_sigaction as usize;
    /// `rt_sigprocmask(how, set, oset, sigsetsize)`
    pub const RT_SIGPROCMASK: usize = linux::__NR_rt_sigprocmask as usize;
    /// `rt_sigreturn()`
    pub const RT_SIGRETURN: usize = linux::__NR_rt_sigreturn as usize;
    /// `uname(buf)`
    pub const UNAME: usize = linux::__NR_uname as usize;
    /// `getrusage(who, usage)`
    pub const GETRUSAGE: usize = linux::__NR_getrusage as usize;
    /// `getpid()`
    pub const GETPID: usize = linux::__NR_getpid as usize;
    /// `getppid()`
    pub const GETPPID: usize = linux::__NR_getppid as usize;
    /// `gettid()`
    pub const GETTID: usize = linux::__NR_gettid as usize;
    /// `brk(addr)`
    pub const BRK: usize = linux::__NR_brk as usize;
    /// `munmap(addr, len)`
    pub const MUNMAP: usize = linux::__NR_munmap as usize;
    /// `mremap(old, old_len, new_len, flags, new)`
    pub const MREMAP: usize = linux::__NR_mremap as usize;
    /// `clone(flags, stack, parent_tid, tls, child_tid)`
    pub const CLONE: usize = linux::__NR_clone as usize;
    /// `execve(path, argv, envp)`
    pub const EXECVE: usize = linux::__NR_execve as usize;
    /// `mmap(addr, len, prot, flags, fd, offset)`
    pub const MMAP: usize = linux::__NR_mmap as usize;
    /// `mprotect(addr, len, prot)`
    pub const MPROTECT: usize = linux::__NR_mprotect as usize;
    /// `msync(addr, len, flags)`
    pub const MSYNC: usize = linux::__NR_msync as usize;
    /// `madvise(addr, len, advice)`
    pub const MADVISE: usize = linux::__NR_madvise as usize;
    /// `perf_event_open(attr, pid, cpu, group_fd, flags)`
    pub const PERF_EVENT_OPEN: usize = linux::__NR_perf_event_open as usize;
    /// `wait4(pid, status, options, rusage)`
    pub const WAIT4: usize = linux::__NR_wait4 as usize;
    /// `prlimit64(pid, resource, new, old)`
    pub const PRLIMIT64: usize = linux::__NR_prlimit64 as usize;
    /// `getrandom(buf, len, flags)`
    pub const GETRANDOM: usize = linux::__NR_getrandom as usize;
}

/// Turns a raw syscall result into `Ok(value)` or `Err(errno)`.
///
/// Linux reserves the last 4095 values of the return register, -4095..=-1,
/// for errors; every other value (including huge "negative-looking"
/// addresses, which cannot happen on aarch64 user space anyway) is success.
pub fn ret(raw: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&raw) {
        Err(Errno(-raw as i32))
    } else {
        Ok(raw as usize)
    }
}

// The seven functions below differ only in how many argument registers they
// fill. Each is `unsafe`: see the `# Safety` section.
//
// In the `asm!` block, `in("x8") n` puts the number in x8, `inlateout("x0")`
// sends the first argument in x0 and reads the result back from the same
// register, and `options(nostack)` promises the instruction does not push
// anything on our stack. Nothing else is marked as changed, because the
// kernel restores every other register before returning to us.

/// A system call with no arguments (`getpid`, `sched_yield`, ...).
///
/// Returns the raw value of `x0`: a negative errno on failure (see [`ret`]).
///
/// # Safety
///
/// A system call can do anything the process itself could do: write through
/// the pointers it is given, unmap memory the program is using, end the
/// process. The caller must make sure the arguments are valid for the call
/// being made, exactly as with C's `syscall()`.
#[inline(always)]
pub unsafe fn syscall0(n: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel with the number in x8 and the
    // arguments in x0..x5; only x0 changes. The caller promised (`# Safety`)
    // that what the kernel will do with these arguments is sound.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") n,
            lateout("x0") ret,
            options(nostack),
        );
    }
    ret
}

/// A system call with one argument (`close`, `exit_group`, `brk`, ...).
///
/// Returns the raw value of `x0`: a negative errno on failure (see [`ret`]).
///
/// # Safety
///
/// A system call can do anything the process itself could do: write through
/// the pointers it is given, unmap memory the program is using, end the
/// process. The caller must make sure the arguments are valid for the call
/// being made, exactly as with C's `syscall()`.
#[inline(always)]
pub unsafe fn syscall1(n: usize, a0: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel with the number in x8 and the
    // arguments in x0..x5; only x0 changes. The caller promised (`# Safety`)
    // that what the kernel will do with these arguments is sound.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") n,
            inlateout("x0") a0 => ret,
            options(nostack),
        );
    }
    ret
}

/// A system call with two arguments (`munmap`, `kill`, `clock_gettime`, ...).
///
/// Returns the raw value of `x0`: a negative errno on failure (see [`ret`]).
///
/// # Safety
///
/// A system call can do anything the process itself could do: write through
/// the pointers it is given, unmap memory the program is using, end the
/// process. The caller must make sure the arguments are valid for the call
/// being made, exactly as with C's `syscall()`.
#[inline(always)]
pub unsafe fn syscall2(n: usize, a0: usize, a1: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel with the number in x8 and the
    // arguments in x0..x5; only x0 changes. The caller promised (`# Safety`)
    // that what the kernel will do with these arguments is sound.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") n,
            inlateout("x0") a0 => ret,
            in("x1") a1,
            options(nostack),
        );
    }
    ret
}

/// A system call with three arguments (`read`, `write`, `mprotect`, ...).
///
/// Returns the raw value of `x0`: a negative errno on failure (see [`ret`]).
///
/// # Safety
///
/// A system call can do anything the process itself could do: write through
/// the pointers it is given, unmap memory the program is using, end the
/// process. The caller must make sure the arguments are valid for the call
/// being made, exactly as with C's `syscall()`.
#[inline(always)]
pub unsafe fn syscall3(n: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel with the number in x8 and the
    // arguments in x0..x5; only x0 changes. The caller promised (`# Safety`)
    // that what the kernel will do with these arguments is sound.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") n,
            inlateout("x0") a0 => ret,
            in("x1") a1,
            in("x2") a2,
            options(nostack),
        );
    }
    ret
}

/// A system call with four arguments (`openat`, `wait4`, ...).
///
/// Returns the raw value of `x0`: a negative errno on failure (see [`ret`]).
///
/// # Safety
///
/// A system call can do anything the process itself could do: write through
/// the pointers it is given, unmap memory the program is using, end the
/// process. The caller must make sure the arguments are valid for the call
/// being made, exactly as with C's `syscall()`.
#[inline(always)]
pub unsafe fn syscall4(n: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel with the number in x8 and the
    // arguments in x0..x5; only x0 changes. The caller promised (`# Safety`)
    // that what the kernel will do with these arguments is sound.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") n,
            inlateout("x0") a0 => ret,
            in("x1") a1,
            in("x2") a2,
            in("x3") a3,
            options(nostack),
        );
    }
    ret
}

/// A system call with five arguments (`clone`, ...).
///
/// Returns the raw value of `x0`: a negative errno on failure (see [`ret`]).
///
/// # Safety
///
/// A system call can do anything the process itself could do: write through
/// the pointers it is given, unmap memory the program is using, end the
/// process. The caller must make sure the arguments are valid for the call
/// being made, exactly as with C's `syscall()`.
#[inline(always)]
pub unsafe fn syscall5(n: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel with the number in x8 and the
    // arguments in x0..x5; only x0 changes. The caller promised (`# Safety`)
    // that what the kernel will do with these arguments is sound.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") n,
            inlateout("x0") a0 => ret,
            in("x1") a1,
            in("x2") a2,
            in("x3") a3,
            in("x4") a4,
            options(nostack),
        );
    }
    ret
}

/// A system call with six arguments (`mmap`).
///
/// Returns the raw value of `x0`: a negative errno on failure (see [`ret`]).
///
/// # Safety
///
/// A system call can do anything the process itself could do: write through
/// the pointers it is given, unmap memory the program is using, end the
/// process. The caller must make sure the arguments are valid for the call
/// being made, exactly as with C's `syscall()`.
#[inline(always)]
pub unsafe fn syscall6(n: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel with the number in x8 and the
    // arguments in x0..x5; only x0 changes. The caller promised (`# Safety`)
    // that what the kernel will do with these arguments is sound.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") n,
            inlateout("x0") a0 => ret,
            in("x1") a1,
            in("x2") a2,
            in("x3") a3,
            in("x4") a4,
            in("x5") a5,
            options(nostack),
        );
    }
    ret
}
