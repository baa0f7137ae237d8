//! The system calls the fuzzer draws from, one line each: name, Linux
//! aarch64 number, and what kind of value goes in each argument register.
//!
//! The table holds the calls armmap implements (`nr` and `dispatch` in
//! `kernel/src/syscall/mod.rs`). Some are left out on purpose: `reboot`,
//! which powers the machine off; `exit`/`exit_group`, since each child
//! ends by itself after its calls (its threads end with them);
//! `rt_sigsuspend`, which waits for ever unless a timer is armed. Adding a
//! call is adding a line: the argument kinds ([`Arg`]) say which hostile
//! pool each register's value comes from (see `pools.rs`); [`rarity`]
//! makes a call come up less often.
//!
//! Four entries are not plain system calls, and have numbers above any
//! system call's: `touch(addr, v)` makes the child read the byte at `addr`
//! (`v` even) or write `v >> 1` there (`v` odd) itself, so that the user
//! side of the fault handler (copy-on-write, dirty tracking of shared file
//! pages, SIGSEGV, SIGBUS) gets hostile addresses too; `thread`, `vfork`
//! and `vfork_thread` are `clone`s whose new thread or process runs code of the
//! fuzzer's (`spawn.rs`). `clone` and `clone3` go through `spawn.rs` too,
//! so that their child leaves at once whatever it shares.

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
    /// A signal to send: 0 or one that does not end the child mostly,
    /// deadly and stopping ones about one time in ten, absurd numbers.
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
    /// Always 0 (`clone`'s stack: the new process or thread runs on the
    /// caller's, touching no memory, see `spawn.rs`).
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
    /// A signal number for `rt_sigaction`: 1..=64 mostly, else 0, 65, absurd.
    SigNum,
    /// A pid to send a signal to: the child itself, its threads, its own
    /// children, its siblings, pids nobody has. Never the fuzzer (the
    /// parent), init, or a process group or broadcast (0, -1) that would
    /// reach them, even through `pid_t`'s low 32 bits.
    SigPid,
    /// A pointer to a `struct sigaction` (handlers: default, ignore, the
    /// child's counting handler, garbage; flags; restorers, good and
    /// garbage; masks), null, or a bad pointer.
    SigAction,
    /// A pointer to a `sigset_t`, null, or a bad pointer.
    SigSet,
    /// The size of a `sigset_t`: 8 mostly.
    SigSetSize,
    /// `rt_sigprocmask`'s how.
    SigHow,
    /// A pointer to a `siginfo_t` for the `rt_*sigqueueinfo` calls (codes
    /// the caller may and may not send), or a bad pointer.
    SigInfo,
    /// A pointer to a `stack_t`: a valid alternate stack (the child's own
    /// buffer), too small, disabled, bad flags, garbage addresses; null; a
    /// bad pointer.
    StackT,
    /// A timeout that ends soon: 0 to 20 ms, invalid, or a bad pointer
    /// (never null: `rt_sigtimedwait` would wait for ever).
    ShortTimespec,
    /// A pointer to a `struct clone_args` (fork-like, vfork, thread, bad
    /// flags and fields; sometimes nonzero bytes past the known fields).
    CloneArgs,
    /// `clone3`'s size: 0, 63, 64, 80, 88, 96, 128, 4097, absurd.
    CloneSize,
    /// The flags of a `thread` (the thread flags mostly).
    ThreadFlags,
    /// The calls a `thread` makes (low byte) and whether it ends with
    /// `exit_group` ([`crate::spawn::THREAD_GROUP_EXIT`]).
    ThreadHow,
    /// The flags of a `vfork` (`CLONE_VM | CLONE_VFORK` mostly).
    VforkFlags,
    /// The flags of a `vfork_thread` (`CLONE_VM | CLONE_VFORK |
    /// CLONE_THREAD | CLONE_SIGHAND`, with more sharing sometimes).
    VforkThreadFlags,
    /// What a `vfork` child runs: 0 (it exits at once), a nonexistent
    /// path, a file that is no program, a bad pointer, `/bin/hello` rarely.
    VforkPath,
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
/// `clone3`'s number: its child leaves at once too.
pub const CLONE3: usize = 435;
/// `rt_sigreturn`'s number.
pub const RT_SIGRETURN: usize = 139;
/// `touch(addr, v)`: the child reads or writes a byte itself.
pub const TOUCH: usize = 1 << 16;
/// `thread(flags, how)`: `clone` of a thread that makes a few calls
/// (`spawn.rs`); the result is `clone`'s.
pub const THREAD: usize = TOUCH + 1;
/// `vfork(flags, path, argv)`: `clone` of a child that `execve`s `path`
/// or exits at once (`spawn.rs`); the result is `clone`'s.
pub const VFORK: usize = TOUCH + 2;
/// `vfork_thread(flags, path, argv)`: the same with a thread
/// (`CLONE_VM | CLONE_VFORK | CLONE_THREAD | CLONE_SIGHAND`); kept apart
/// so that `skip=` can leave it out.
pub const VFORK_THREAD: usize = TOUCH + 3;

/// How rarely call `nr` is made: it is drawn only once in this many times
/// it comes up. `rt_sigreturn` with no signal frame on the stack nearly
/// always kills the child (SIGSEGV).
pub fn rarity(nr: usize) -> u64 {
    match nr {
        RT_SIGRETURN => 64,
        _ => 1,
    }
}

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
    call("kill", 129, &[SigPid, Sig]),
    call("tkill", 130, &[SigPid, Sig]),
    call("tgkill", 131, &[SigPid, SigPid, Sig]),
    call("sigaltstack", 132, &[StackT, Out]),
    call("rt_sigaction", 134, &[SigNum, SigAction, Out, SigSetSize]),
    call("rt_sigprocmask", 135, &[SigHow, SigSet, Out, SigSetSize]),
    call("rt_sigpending", 136, &[Out, SigSetSize]),
    call("rt_sigtimedwait", 137, &[SigSet, Out, ShortTimespec, SigSetSize]),
    call("rt_sigqueueinfo", 138, &[SigPid, Sig, SigInfo]),
    call("rt_sigreturn", RT_SIGRETURN, &[]),
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
    call("rt_tgsigqueueinfo", 240, &[SigPid, SigPid, Sig, SigInfo]),
    call("perf_event_open", 241, &[PerfAttr, SelfPid, Cpu, GroupFd, Flags]),
    call("wait4", 260, &[Pid, Out, WaitOpts, Out]),
    call("prlimit64", 261, &[Pid, Resource, In, Out]),
    call("getrandom", 278, &[Out, Len, Flags]),
    call("rseq", 293, &[In, Len, Flags, Any]),
    call("clone3", CLONE3, &[CloneArgs, CloneSize]),
    call("touch", TOUCH, &[Touch, Any]),
    call("thread", THREAD, &[ThreadFlags, ThreadHow]),
    call("vfork", VFORK, &[VforkFlags, VforkPath, StrArray]),
    call("vfork_thread", VFORK_THREAD, &[VforkThreadFlags, VforkPath, StrArray]),
];

/// The call with number `nr`, if the table has it.
pub fn by_nr(nr: usize) -> Option<&'static Call> {
    CALLS.iter().find(|c| c.nr == nr)
}

/// The call named `name`, if the table has it.
pub fn by_name(name: &str) -> Option<&'static Call> {
    CALLS.iter().find(|c| c.name == name)
}
