//! Processes: `fork`, `wait`, `exit`, `kill` and decoding exit statuses.
//!
//! aarch64 Linux has no `fork` system call: [`fork`] is `clone` with no
//! sharing flags, only "send me `SIGCHLD` when the child ends", which is what
//! the C library does as well. Like C's `fork`, it returns twice: the child's
//! pid in the parent and 0 in the child.
//!
//! A parent learns how a child ended from the *status word* `wait4` stores:
//! the low 7 bits are the signal that killed it (0 if it exited by itself),
//! bit 7 says a core dump was written, and bits 8..15 hold the exit code.
//! [`wifexited`], [`wexitstatus`], [`wifsignaled`] and [`wtermsig`] decode
//! it exactly like the C macros of the same names; [`ExitStatus`] prints it.

use crate::errno::Errno;
use crate::syscall::{nr, ret, syscall0, syscall1, syscall2, syscall3, syscall4, syscall5};
use core::ffi::CStr;
use core::fmt;
use linux_raw_sys::general as linux;

/// A process id. Negative values mean "a process group" or "any child" in
/// the calls that accept them (`kill`, `waitpid`).
pub type Pid = i32;

/// Hangup.
pub const SIGHUP: i32 = linux::SIGHUP as i32;
/// Interrupt (Ctrl-C).
pub const SIGINT: i32 = linux::SIGINT as i32;
/// Quit.
pub const SIGQUIT: i32 = linux::SIGQUIT as i32;
/// Illegal instruction.
pub const SIGILL: i32 = linux::SIGILL as i32;
/// Breakpoint / trace trap.
pub const SIGTRAP: i32 = linux::SIGTRAP as i32;
/// Abort.
pub const SIGABRT: i32 = linux::SIGABRT as i32;
/// Bus error (for example a misaligned access).
pub const SIGBUS: i32 = linux::SIGBUS as i32;
/// Arithmetic error.
pub const SIGFPE: i32 = linux::SIGFPE as i32;
/// Kill: cannot be caught or ignored.
pub const SIGKILL: i32 = linux::SIGKILL as i32;
/// User-defined signal 1.
pub const SIGUSR1: i32 = linux::SIGUSR1 as i32;
/// Invalid memory access.
pub const SIGSEGV: i32 = linux::SIGSEGV as i32;
/// User-defined signal 2.
pub const SIGUSR2: i32 = linux::SIGUSR2 as i32;
/// Write to a pipe nobody reads.
pub const SIGPIPE: i32 = linux::SIGPIPE as i32;
/// Timer alarm.
pub const SIGALRM: i32 = linux::SIGALRM as i32;
/// Polite request to terminate.
pub const SIGTERM: i32 = linux::SIGTERM as i32;
/// A child stopped or ended.
pub const SIGCHLD: i32 = linux::SIGCHLD as i32;
/// Continue if stopped.
pub const SIGCONT: i32 = linux::SIGCONT as i32;
/// Stop: cannot be caught or ignored.
pub const SIGSTOP: i32 = linux::SIGSTOP as i32;

/// The name of signal `sig` (`"SIGSEGV"`), or `"SIG?"`.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGILL => "SIGILL",
        SIGTRAP => "SIGTRAP",
        SIGABRT => "SIGABRT",
        SIGBUS => "SIGBUS",
        SIGFPE => "SIGFPE",
        SIGKILL => "SIGKILL",
        SIGUSR1 => "SIGUSR1",
        SIGSEGV => "SIGSEGV",
        SIGUSR2 => "SIGUSR2",
        SIGPIPE => "SIGPIPE",
        SIGALRM => "SIGALRM",
        SIGTERM => "SIGTERM",
        SIGCHLD => "SIGCHLD",
        SIGCONT => "SIGCONT",
        SIGSTOP => "SIGSTOP",
        _ => "SIG?",
    }
}

/// `waitpid` option: return at once (with pid 0) if no child has ended yet.
pub const WNOHANG: u32 = linux::WNOHANG;
/// `waitpid` option: also report stopped children.
pub const WUNTRACED: u32 = linux::WUNTRACED;

/// Did the child end by calling `exit` (or returning from `main`)?
pub fn wifexited(status: i32) -> bool {
    status & 0x7f == 0
}

/// The exit code (0..=255), meaningful if [`wifexited`].
pub fn wexitstatus(status: i32) -> i32 {
    (status >> 8) & 0xff
}

/// Was the child killed by a signal?
pub fn wifsignaled(status: i32) -> bool {
    let sig = status & 0x7f;
    sig != 0 && sig != 0x7f
}

/// The signal that killed the child, meaningful if [`wifsignaled`].
pub fn wtermsig(status: i32) -> i32 {
    status & 0x7f
}

/// Did the killed child leave a core dump?
pub fn wcoredump(status: i32) -> bool {
    status & 0x80 != 0
}

/// Is the child stopped (only reported with `WUNTRACED`)?
pub fn wifstopped(status: i32) -> bool {
    status & 0xff == 0x7f
}

/// The signal that stopped the child, meaningful if [`wifstopped`].
pub fn wstopsig(status: i32) -> i32 {
    wexitstatus(status)
}

/// A `wait4` status word that prints itself: `exited with status 7`,
/// `killed by signal 11 (SIGSEGV)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(pub i32);

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if wifexited(s) {
            write!(f, "exited with status {}", wexitstatus(s))
        } else if wifsignaled(s) {
            write!(f, "killed by signal {} ({})", wtermsig(s), signal_name(wtermsig(s)))?;
            if wcoredump(s) {
                f.write_str(", core dumped")?;
            }
            Ok(())
        } else if wifstopped(s) {
            write!(f, "stopped by signal {} ({})", wstopsig(s), signal_name(wstopsig(s)))
        } else {
            write!(f, "status {s:#x}")
        }
    }
}

impl fmt::Debug for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExitStatus({:#x}: {})", self.0, self)
    }
}

/// Ends the whole process with exit code `code` (only its low 8 bits reach
/// the parent). This is `exit_group`, what C's `_exit` does.
pub fn exit(code: i32) -> ! {
    // SAFETY: `exit_group` takes no pointers and does not return.
    unsafe { syscall1(nr::EXIT_GROUP, code as usize) };
    // Only reached if the kernel lacks exit_group: fall back to plain exit.
    exit_thread(code)
}

/// Ends only the calling thread (the `exit` system call). With one thread
/// per process, as here, it ends the process too.
pub fn exit_thread(code: i32) -> ! {
    loop {
        // SAFETY: `exit` takes no pointers and does not return.
        unsafe { syscall1(nr::EXIT, code as usize) };
    }
}

/// The calling process's id.
pub fn getpid() -> Pid {
    // SAFETY: `getpid` takes no arguments and cannot fail.
    unsafe { syscall0(nr::GETPID) as Pid }
}

/// The parent's process id.
pub fn getppid() -> Pid {
    // SAFETY: `getppid` takes no arguments and cannot fail.
    unsafe { syscall0(nr::GETPPID) as Pid }
}

/// The calling thread's id (equal to the pid in a single-threaded process).
pub fn gettid() -> Pid {
    // SAFETY: `gettid` takes no arguments and cannot fail.
    unsafe { syscall0(nr::GETTID) as Pid }
}

/// Gives up the CPU so another runnable process can run.
pub fn sched_yield() {
    // SAFETY: `sched_yield` takes no arguments.
    unsafe { syscall0(nr::SCHED_YIELD) };
}

/// `setpgid(pid, pgid)`: moves process `pid` (0: the caller) into process
/// group `pgid` (0: a new group named after `pid`).
pub fn setpgid(pid: Pid, pgid: Pid) -> Result<(), Errno> {
    // SAFETY: `setpgid` takes no pointers.
    ret(unsafe { syscall2(nr::SETPGID, pid as usize, pgid as usize) }).map(drop)
}

/// The process group of process `pid` (0: the caller).
pub fn getpgid(pid: Pid) -> Result<Pid, Errno> {
    // SAFETY: `getpgid` takes no pointers.
    ret(unsafe { syscall1(nr::GETPGID, pid as usize) }).map(|g| g as Pid)
}

/// The session of process `pid` (0: the caller).
pub fn getsid(pid: Pid) -> Result<Pid, Errno> {
    // SAFETY: `getsid` takes no pointers.
    ret(unsafe { syscall1(nr::GETSID, pid as usize) }).map(|s| s as Pid)
}

/// Makes the caller the leader of a new session and process group.
pub fn setsid() -> Result<Pid, Errno> {
    // SAFETY: `setsid` takes no arguments.
    ret(unsafe { syscall0(nr::SETSID) }).map(|s| s as Pid)
}

/// Sends signal `sig` to process `pid` (0 for the calling process's group,
/// -1 for every process it may signal, `-pgid` for a group).
pub fn kill(pid: Pid, sig: i32) -> Result<(), Errno> {
    // SAFETY: `kill` takes no pointers.
    ret(unsafe { syscall2(nr::KILL, pid as usize, sig as usize) }).map(drop)
}

/// Creates a child process that is a copy of this one. Returns the child's
/// pid in the parent and 0 in the child.
pub fn fork() -> Result<Pid, Errno> {
    // clone(flags, stack, parent_tid, tls, child_tid): no sharing, SIGCHLD to
    // the parent on exit, keep running on (a copy of) the same stack.
    // SAFETY: the child gets a copy of the whole address space, so every
    // reference in this program stays valid in both processes.
    let r = unsafe { syscall5(nr::CLONE, SIGCHLD as usize, 0, 0, 0, 0) };
    ret(r).map(|pid| pid as Pid)
}

/// Forks, runs `child` in the child process and exits with its return value
/// there; returns the child's pid in the parent.
pub fn fork_run(child: impl FnOnce() -> i32) -> Result<Pid, Errno> {
    match fork()? {
        0 => exit(child()),
        pid => Ok(pid),
    }
}

/// Waits for a child to change state: `pid` > 0 a specific child, -1 any
/// child. Stores the status word in `status` (if given) and the child's
/// resource usage in `rusage` (if given); returns the child's pid (0 with
/// `WNOHANG` if none is ready).
pub fn wait4(
    pid: Pid,
    status: Option<&mut i32>,
    options: u32,
    rusage: Option<&mut crate::time::Rusage>,
) -> Result<Pid, Errno> {
    let status = status.map_or(0, |s| s as *mut i32 as usize);
    let rusage = rusage.map_or(0, |r| r as *mut crate::time::Rusage as usize);
    // SAFETY: `status` is null or points at an i32, `rusage` is null or
    // points at a `struct rusage`; the kernel writes only those.
    ret(unsafe { syscall4(nr::WAIT4, pid as usize, status, options as usize, rusage) }).map(|p| p as Pid)
}

/// Waits for child `pid` (-1: any child); returns `(pid, status word)`.
/// Retries if interrupted by a signal.
pub fn waitpid(pid: Pid, options: u32) -> Result<(Pid, i32), Errno> {
    loop {
        let mut status = 0;
        match wait4(pid, Some(&mut status), options, None) {
            Err(Errno::EINTR) => continue,
            r => return r.map(|p| (p, status)),
        }
    }
}

/// Waits for any child; returns `(pid, status word)`.
pub fn wait() -> Result<(Pid, i32), Errno> {
    waitpid(-1, 0)
}

/// Replaces the program running in this process with the one at `path`.
/// `argv` and `env` are copied into a NUL-terminated pointer array on the
/// stack (at most 63 entries each, else `E2BIG`). Returns only on failure.
pub fn execve(path: &CStr, argv: &[&CStr], env: &[&CStr]) -> Errno {
    const MAX: usize = 64;
    if argv.len() >= MAX || env.len() >= MAX {
        return Errno::E2BIG;
    }
    let mut argv_ptrs = [core::ptr::null::<core::ffi::c_char>(); MAX];
    let mut env_ptrs = [core::ptr::null::<core::ffi::c_char>(); MAX];
    for (p, a) in argv_ptrs.iter_mut().zip(argv) {
        *p = a.as_ptr();
    }
    for (p, e) in env_ptrs.iter_mut().zip(env) {
        *p = e.as_ptr();
    }
    // SAFETY: `path` and every string are NUL-terminated; both pointer
    // arrays end with a null pointer (argv.len() < MAX). The kernel only
    // reads them. If `execve` succeeds this address space is gone, which is
    // fine since we never return.
    let r = unsafe {
        syscall3(nr::EXECVE, path.as_ptr() as usize, argv_ptrs.as_ptr() as usize, env_ptrs.as_ptr() as usize)
    };
    match ret(r) {
        Err(e) => e,
        Ok(_) => Errno::EINVAL,
    }
}

/// `prlimit64` resource: maximum size of a core dump.
pub const RLIMIT_CORE: u32 = linux::RLIMIT_CORE;
/// `prlimit64` resource: maximum stack size.
pub const RLIMIT_STACK: u32 = linux::RLIMIT_STACK;
/// `prlimit64` resource: maximum number of open files.
pub const RLIMIT_NOFILE: u32 = linux::RLIMIT_NOFILE;
/// "No limit".
pub const RLIM_INFINITY: u64 = u64::MAX;

/// A resource limit: the soft limit `cur` and the ceiling `max`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    /// The soft limit, the one enforced.
    pub cur: u64,
    /// The hard limit, the most `cur` may be raised to.
    pub max: u64,
}

/// Reads this process's limit on `resource` (`RLIMIT_*`).
pub fn getrlimit(resource: u32) -> Result<Rlimit, Errno> {
    let mut old = Rlimit::default();
    // SAFETY: `new` is null, `old` points at a `struct rlimit64` the kernel fills.
    ret(unsafe { syscall4(nr::PRLIMIT64, 0, resource as usize, 0, &mut old as *mut Rlimit as usize) })?;
    Ok(old)
}

/// Sets this process's limit on `resource` (`RLIMIT_*`).
pub fn setrlimit(resource: u32, limit: Rlimit) -> Result<(), Errno> {
    // SAFETY: `new` points at a `struct rlimit64` the kernel only reads; `old` is null.
    ret(unsafe { syscall4(nr::PRLIMIT64, 0, resource as usize, &limit as *const Rlimit as usize, 0) }).map(drop)
}
