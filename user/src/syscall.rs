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
/// `/usr/aarch64-linux-gnu/include/asm-generic/unistd.h`). These values were
/// checked against that file. Note what is missing compared to x86-64: there
/// is no `open`, `fork`, `stat`, `unlink` or `mkdir`; the `*at` variants
/// (`openat`, `newfstatat`, `unlinkat`, ...) with `AT_FDCWD` and `clone` do
/// their job.
pub mod nr {
    /// `getcwd(buf, size)`
    pub const GETCWD: usize = 17;
    /// `dup(oldfd)`
    pub const DUP: usize = 23;
    /// `dup3(oldfd, newfd, flags)`
    pub const DUP3: usize = 24;
    /// `fcntl(fd, cmd, arg)`
    pub const FCNTL: usize = 25;
    /// `ioctl(fd, cmd, arg)`
    pub const IOCTL: usize = 29;
    /// `mkdirat(dirfd, path, mode)`
    pub const MKDIRAT: usize = 34;
    /// `unlinkat(dirfd, path, flags)`
    pub const UNLINKAT: usize = 35;
    /// `ftruncate(fd, length)`
    pub const FTRUNCATE: usize = 46;
    /// `chdir(path)`
    pub const CHDIR: usize = 49;
    /// `openat(dirfd, path, flags, mode)`
    pub const OPENAT: usize = 56;
    /// `close(fd)`
    pub const CLOSE: usize = 57;
    /// `pipe2(fds, flags)`
    pub const PIPE2: usize = 59;
    /// `getdents64(fd, buf, count)`
    pub const GETDENTS64: usize = 61;
    /// `lseek(fd, offset, whence)`
    pub const LSEEK: usize = 62;
    /// `read(fd, buf, count)`
    pub const READ: usize = 63;
    /// `write(fd, buf, count)`
    pub const WRITE: usize = 64;
    /// `readv(fd, iov, iovcnt)`
    pub const READV: usize = 65;
    /// `writev(fd, iov, iovcnt)`
    pub const WRITEV: usize = 66;
    /// `pread64(fd, buf, count, offset)`
    pub const PREAD64: usize = 67;
    /// `pwrite64(fd, buf, count, offset)`
    pub const PWRITE64: usize = 68;
    /// `readlinkat(dirfd, path, buf, size)`
    pub const READLINKAT: usize = 78;
    /// `newfstatat(dirfd, path, statbuf, flags)` (glibc's `fstatat`)
    pub const NEWFSTATAT: usize = 79;
    /// `fstat(fd, statbuf)`
    pub const FSTAT: usize = 80;
    /// `exit(code)`: ends the calling thread only.
    pub const EXIT: usize = 93;
    /// `exit_group(code)`: ends every thread of the process.
    pub const EXIT_GROUP: usize = 94;
    /// `set_tid_address(tidptr)`
    pub const SET_TID_ADDRESS: usize = 96;
    /// `nanosleep(req, rem)`
    pub const NANOSLEEP: usize = 101;
    /// `clock_gettime(clockid, tp)`
    pub const CLOCK_GETTIME: usize = 113;
    /// `sched_yield()`
    pub const SCHED_YIELD: usize = 124;
    /// `kill(pid, sig)`
    pub const KILL: usize = 129;
    pub const SETPGID: usize = 154;
    pub const GETPGID: usize = 155;
    pub const GETSID: usize = 156;
    pub const SETSID: usize = 157;
    /// `tgkill(tgid, tid, sig)`
    pub const TGKILL: usize = 131;
    /// `rt_sigaction(sig, act, oact, sigsetsize)`
    pub const RT_SIGACTION: usize = 134;
    /// `rt_sigprocmask(how, set, oset, sigsetsize)`
    pub const RT_SIGPROCMASK: usize = 135;
    /// `rt_sigreturn()`
    pub const RT_SIGRETURN: usize = 139;
    /// `uname(buf)`
    pub const UNAME: usize = 160;
    /// `getrusage(who, usage)`
    pub const GETRUSAGE: usize = 165;
    /// `getpid()`
    pub const GETPID: usize = 172;
    /// `getppid()`
    pub const GETPPID: usize = 173;
    /// `gettid()`
    pub const GETTID: usize = 178;
    /// `brk(addr)`
    pub const BRK: usize = 214;
    /// `munmap(addr, len)`
    pub const MUNMAP: usize = 215;
    /// `mremap(old, old_len, new_len, flags, new)`
    pub const MREMAP: usize = 216;
    /// `clone(flags, stack, parent_tid, tls, child_tid)`
    pub const CLONE: usize = 220;
    /// `execve(path, argv, envp)`
    pub const EXECVE: usize = 221;
    /// `mmap(addr, len, prot, flags, fd, offset)`
    pub const MMAP: usize = 222;
    /// `mprotect(addr, len, prot)`
    pub const MPROTECT: usize = 226;
    /// `msync(addr, len, flags)`
    pub const MSYNC: usize = 227;
    /// `madvise(addr, len, advice)`
    pub const MADVISE: usize = 233;
    /// `perf_event_open(attr, pid, cpu, group_fd, flags)`
    pub const PERF_EVENT_OPEN: usize = 241;
    /// `wait4(pid, status, options, rusage)`
    pub const WAIT4: usize = 260;
    /// `prlimit64(pid, resource, new, old)`
    pub const PRLIMIT64: usize = 261;
    /// `getrandom(buf, len, flags)`
    pub const GETRANDOM: usize = 278;
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
