//! The system calls the fuzzer draws from, one line each: name, Linux
//! aarch64 number, and what kind of value goes in each argument register.
//!
//! The table holds every call armmap implements (`nr` and `dispatch` in
//! `kernel/src/syscall/mod.rs`), and the process-group calls that are
//! coming (setpgid, getpgid, getsid, setsid; ENOSYS until then). Three
//! calls are left out on purpose: `reboot`, which powers the machine off,
//! and `exit`/`exit_group`, since each child ends by itself after its calls.
//! Adding a call is adding a line: the argument kinds ([`Arg`]) say which
//! hostile pool each register's value comes from (see `pools.rs`).
//!
//! One entry is not a system call: `touch(addr, v)` makes the child read
//! the byte at `addr` (`v` even) or write `v >> 1` there (`v` odd) itself,
//! so that the user side of the fault handler (copy-on-write, dirty
//! tracking of shared file pages, SIGSEGV, SIGBUS) gets hostile addresses
//! too. Its number is above any system call's.

/// What kind of value an argument register gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A file descriptor: open, closed (stale), standard, absurd.
    Fd,
    /// A directory descriptor for the `*at` calls: `AT_FDCWD` or an [`Arg::Fd`].
    DirFd,
    /// A path only looked up or opened (opening it for writing is allowed
    /// only for the child's scratch files and harmless devices).
    Path,
    /// A path that may be created or removed: the child's scratch files, or
    /// a bad pointer.
    ScratchPath,
    /// `execve`'s path: `/bin/hello`, files that are not programs, bad pointers.
    ExecPath,
    /// `openat` flags (write access and creation masked off unless the path
    /// of this call may be written).
    OpenFlags,
    /// File permission bits.
    Mode,
    /// A pointer the kernel reads from.
    In,
    /// A pointer the kernel writes to.
    Out,
    /// A byte count.
    Len,
    /// A file offset or size.
    Offset,
    /// `lseek`'s whence.
    Whence,
    /// An address for the memory calls: mappings, holes, the child's own
    /// text and stack, kernel addresses.
    Addr,
    /// `mmap`'s address: 0 (the kernel picks) half the time, else an [`Arg::Addr`].
    Hint,
    /// An address for `touch`: mostly in the child's mappings, sometimes in
    /// a hole or the kernel, never in the child's own text, data or stack.
    Touch,
    /// A length for the memory calls.
    MapLen,
    /// `PROT_*` bits.
    Prot,
    /// `MAP_*` flags.
    MapFlags,
    /// `MS_*` flags.
    MsyncFlags,
    /// A process id: init, itself, siblings, its own children, absurd ones.
    Pid,
    /// A pid for calls about the caller, such as `perf_event_open`'s: 0 or
    /// its own pid mostly, else an [`Arg::Pid`].
    SelfPid,
    /// A CPU number: -1 (any) and 0 mostly.
    Cpu,
    /// `perf_event_open`'s group descriptor: -1 (none) mostly, else an [`Arg::Fd`].
    GroupFd,
    /// A signal number.
    Sig,
    /// A pointer to a `struct timespec` (valid, invalid, huge) or a bad pointer.
    Timespec,
    /// A pointer to an array of `struct iovec`.
    Iovec,
    /// An iovec count.
    IovCount,
    /// A clock id.
    Clock,
    /// Flag bits of the `*at` and other calls.
    Flags,
    /// `execve`'s argv or envp: a pointer to an array of string pointers.
    StrArray,
    /// An `fcntl` command.
    FcntlCmd,
    /// An `ioctl` request.
    IoctlReq,
    /// `getrusage`'s who.
    Who,
    /// A `prlimit64` resource.
    Resource,
    /// A pointer to a `struct perf_event_attr`.
    PerfAttr,
    /// `clone` flags (fork-like ones mostly).
    CloneFlags,
    /// Always 0 (`clone`'s stack: a new stack pointer would only crash the
    /// new process in the fuzzer's own code, the kernel does not look at it).
    Zero,
    /// `wait4` options.
    WaitOpts,
    /// `pipe2`'s array of two ints: a buffer the child reads back the new
    /// descriptors from, or a bad pointer.
    PipeFds,
    /// `pipe2` flags: O_NONBLOCK always (a pipe the child holds both ends
    /// of would block it for good), O_CLOEXEC often, invalid bits sometimes.
    PipeFlags,
    /// `mknodat`'s mode: a FIFO or regular file mostly, devices, a
    /// directory type, an unknown type.
    MknodMode,
    /// `ppoll`'s array: `struct pollfd` entries built from the child's
    /// descriptors just before the call, or a hostile pointer.
    PollFds,
    /// `ppoll`'s count: small mostly, RLIMIT_NOFILE's edge, huge.
    PollCount,
    /// A timeout for `ppoll`/`pselect6`: zero or short (never NULL or
    /// long, so a call ends within 20 ms), invalid, or a bad pointer.
    PollTimeout,
    /// A signal mask pointer: NULL mostly, a readable mask, a bad pointer.
    SigsetPtr,
    /// A signal set size: 8 mostly.
    SigsetSize,
    /// `pselect6`'s descriptor count.
    SelectN,
    /// An `fd_set` built from the child's descriptors, NULL, or hostile.
    FdSet,
    /// `pselect6`'s sixth argument: NULL, a `{mask, size}` pair, or hostile.
    SigPack,
    /// `futex`'s operation: the known ones with and without
    /// `FUTEX_PRIVATE_FLAG` (and sometimes `FUTEX_CLOCK_REALTIME`), rarely
    /// anything.
    FutexOp,
    /// `futex`'s fourth argument, a timeout pointer for the waits and a
    /// count for the others: short or past timeouts, bad timespecs, bad
    /// pointers, counts; never null or a far deadline, so that no wait
    /// blocks for long.
    FutexTimeout,
    /// A pointer to a `struct itimerval` or `struct itimerspec` (the same
    /// four words: short, periodic, zero, invalid, huge) or a bad pointer.
    TimerVal,
    /// A pointer to a `struct sigevent` (good and bad notify and signal
    /// numbers), null, or a bad pointer.
    Sigevent,
    /// `setitimer`'s which: the three timers mostly, else invalid.
    ItimerWhich,
    /// A POSIX timer id: the first few mostly, else absurd.
    TimerId,
    /// Any 64-bit value, small ones more often.
    Any,
}

use Arg::*;

/// One system call.
pub struct Call {
    pub name: &'static str,
    pub nr: usize,
    pub args: &'static [Arg],
}

const fn call(name: &'static str, nr: usize, args: &'static [Arg]) -> Call {
    Call { name, nr, args }
}

/// `clone`'s number: the child that `clone` creates leaves at once.
pub const CLONE: usize = 220;
/// `execve`'s number.
pub const EXECVE: usize = 221;
/// `touch(addr, v)`: the child reads or writes a byte itself.
pub const TOUCH: usize = 1 << 16;

/// Every call the fuzzer makes, in number order.
pub const CALLS: &[Call] = &[
    call("getcwd", 17, &[Out, Len]),
    call("dup", 23, &[Fd]),
    call("dup3", 24, &[Fd, Fd, Flags]),
    call("fcntl", 25, &[Fd, FcntlCmd, Fd]),
    call("ioctl", 29, &[Fd, IoctlReq, Out]),
    call("mknodat", 33, &[DirFd, ScratchPath, MknodMode, Any]),
    call("mkdirat", 34, &[DirFd, ScratchPath, Mode]),
    call("unlinkat", 35, &[DirFd, ScratchPath, Flags]),
    call("ftruncate", 46, &[Fd, Offset]),
    call("faccessat", 48, &[DirFd, Path, Mode]),
    call("chdir", 49, &[Path]),
    call("openat", 56, &[DirFd, Path, OpenFlags, Mode]),
    call("close", 57, &[Fd]),
    call("pipe2", 59, &[PipeFds, PipeFlags]),
    call("getdents64", 61, &[Fd, Out, Len]),
    call("lseek", 62, &[Fd, Offset, Whence]),
    call("read", 63, &[Fd, Out, Len]),
    call("write", 64, &[Fd, In, Len]),
    call("readv", 65, &[Fd, Iovec, IovCount]),
    call("writev", 66, &[Fd, Iovec, IovCount]),
    call("pread64", 67, &[Fd, Out, Len, Offset]),
    call("pwrite64", 68, &[Fd, In, Len, Offset]),
    call("pselect6", 72, &[SelectN, FdSet, FdSet, FdSet, PollTimeout, SigPack]),
    call("ppoll", 73, &[PollFds, PollCount, PollTimeout, SigsetPtr, SigsetSize]),
    call("readlinkat", 78, &[DirFd, Path, Out, Len]),
    call("newfstatat", 79, &[DirFd, Path, Out, Flags]),
    call("fstat", 80, &[Fd, Out]),
    call("fsync", 82, &[Fd]),
    call("set_tid_address", 96, &[Out]),
    call("futex", 98, &[Out, FutexOp, Any, FutexTimeout, Out, Any]),
    call("set_robust_list", 99, &[In, Len]),
    call("get_robust_list", 100, &[Pid, Out, Out]),
    call("nanosleep", 101, &[Timespec, Out]),
    call("getitimer", 102, &[ItimerWhich, Out]),
    call("setitimer", 103, &[ItimerWhich, TimerVal, Out]),
    call("timer_create", 107, &[Clock, Sigevent, Out]),
    call("timer_gettime", 108, &[TimerId, Out]),
    call("timer_getoverrun", 109, &[TimerId]),
    call("timer_settime", 110, &[TimerId, Flags, TimerVal, Out]),
    call("timer_delete", 111, &[TimerId]),
    call("clock_gettime", 113, &[Clock, Out]),
    call("clock_nanosleep", 115, &[Clock, Flags, Timespec, Out]),
    call("sched_yield", 124, &[]),
    call("kill", 129, &[Pid, Sig]),
    call("tkill", 130, &[Pid, Sig]),
    call("tgkill", 131, &[Pid, Pid, Sig]),
    call("rt_sigaction", 134, &[Sig, In, Out, Len]),
    call("rt_sigprocmask", 135, &[Any, In, Out, Len]),
    call("setpgid", 154, &[Pid, Pid]),
    call("getpgid", 155, &[Pid]),
    call("getsid", 156, &[Pid]),
    call("setsid", 157, &[]),
    call("uname", 160, &[Out]),
    call("getrusage", 165, &[Who, Out]),
    call("getpid", 172, &[]),
    call("getppid", 173, &[]),
    call("getuid", 174, &[]),
    call("geteuid", 175, &[]),
    call("getgid", 176, &[]),
    call("getegid", 177, &[]),
    call("gettid", 178, &[]),
    call("brk", 214, &[Addr]),
    call("munmap", 215, &[Addr, MapLen]),
    call("clone", CLONE, &[CloneFlags, Zero, Out, Any, Out]),
    call("execve", EXECVE, &[ExecPath, StrArray, StrArray]),
    call("mmap", 222, &[Hint, MapLen, Prot, MapFlags, Fd, Offset]),
    call("mprotect", 226, &[Addr, MapLen, Prot]),
    call("msync", 227, &[Addr, MapLen, MsyncFlags]),
    call("madvise", 233, &[Addr, MapLen, Any]),
    call("perf_event_open", 241, &[PerfAttr, SelfPid, Cpu, GroupFd, Flags]),
    call("wait4", 260, &[Pid, Out, WaitOpts, Out]),
    call("prlimit64", 261, &[Pid, Resource, In, Out]),
    call("getrandom", 278, &[Out, Len, Flags]),
    call("rseq", 293, &[In, Len, Flags, Any]),
    call("touch", TOUCH, &[Touch, Any]),
];

/// The call with number `nr`, if the table has it.
pub fn by_nr(nr: usize) -> Option<&'static Call> {
    CALLS.iter().find(|c| c.nr == nr)
}

/// The call named `name`, if the table has it.
pub fn by_name(name: &str) -> Option<&'static Call> {
    CALLS.iter().find(|c| c.name == name)
}
