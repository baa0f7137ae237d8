//! Process system calls: exit, fork (clone), execve, wait4, kill, yield.

use crate::arch::aarch64::context;
use crate::arch::aarch64::context::FpState;
use crate::arch::aarch64::exception::TrapFrame;
use crate::arch::aarch64::uaccess::{read_user, read_user_cstr, write_user, CStrError};
use crate::errno::{Errno, SysResult};
use crate::mm::heap;
use crate::task::exit;
use crate::task::process::{self, FsContext, ProcInner, Process, State, Thread, TABLE};
use crate::task::signal::ThreadSignals;
use crate::task::{exec, sched, signal};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// `exit`: ends the calling thread (the process, if it was the last).
pub fn exit(code: u64) -> SysResult {
    exit::exit_thread(exit::exited(code as i32))
}

/// `exit_group`: ends every thread of the process.
pub fn exit_group(code: u64) -> SysResult {
    exit::exit_current(exit::exited(code as i32))
}

pub fn getpid() -> SysResult {
    process::with_current(|t| t.pid() as u64)
}

pub fn getppid() -> SysResult {
    process::with_current(|t| t.process.inner.lock().ppid as u64)
}

/// `set_tid_address(tidptr)`: where the thread's id is zeroed (and a futex
/// waiter woken) when it exits; returns the caller's tid.
pub fn set_tid_address(tidptr: u64) -> SysResult {
    process::with_current(|t| {
        t.clear_child_tid = tidptr;
        t.tid as u64
    })
}

pub fn sched_yield() -> SysResult {
    sched::yield_now();
    Ok(0)
}

/// What `clone` and `clone3` ask for.
pub struct CloneArgs {
    pub flags: u64,
    pub exit_signal: u64,
    /// The child's stack pointer (0: the parent's).
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
}

/// `clone` flags (include/uapi/linux/sched.h). CLONE_SYSVSEM, CLONE_IO,
/// CLONE_PTRACE and CLONE_UNTRACED are accepted and change nothing: armmap
/// has no System V semaphores, I/O contexts or tracing.
pub mod clone_flags {
    use linux_raw_sys::general as linux;

    pub const CSIGNAL: u64 = linux::CSIGNAL as u64;
    pub const CLONE_VM: u64 = linux::CLONE_VM as u64;
    pub const CLONE_FS: u64 = linux::CLONE_FS as u64;
    pub const CLONE_FILES: u64 = linux::CLONE_FILES as u64;
    pub const CLONE_SIGHAND: u64 = linux::CLONE_SIGHAND as u64;
    pub const CLONE_PIDFD: u64 = linux::CLONE_PIDFD as u64;
    pub const CLONE_VFORK: u64 = linux::CLONE_VFORK as u64;
    pub const CLONE_PARENT: u64 = linux::CLONE_PARENT as u64;
    pub const CLONE_THREAD: u64 = linux::CLONE_THREAD as u64;
    pub const CLONE_NEWNS: u64 = linux::CLONE_NEWNS as u64;
    pub const CLONE_SETTLS: u64 = linux::CLONE_SETTLS as u64;
    pub const CLONE_PARENT_SETTID: u64 = linux::CLONE_PARENT_SETTID as u64;
    pub const CLONE_CHILD_CLEARTID: u64 = linux::CLONE_CHILD_CLEARTID as u64;
    pub const CLONE_DETACHED: u64 = linux::CLONE_DETACHED as u64;
    pub const CLONE_CHILD_SETTID: u64 = linux::CLONE_CHILD_SETTID as u64;
    pub const CLONE_NEWCGROUP: u64 = linux::CLONE_NEWCGROUP as u64;
    pub const CLONE_NEWUTS: u64 = linux::CLONE_NEWUTS as u64;
    pub const CLONE_NEWIPC: u64 = linux::CLONE_NEWIPC as u64;
    pub const CLONE_NEWUSER: u64 = linux::CLONE_NEWUSER as u64;
    pub const CLONE_NEWPID: u64 = linux::CLONE_NEWPID as u64;
    pub const CLONE_NEWNET: u64 = linux::CLONE_NEWNET as u64;
    pub const CLONE_NEWTIME: u64 = linux::CLONE_NEWTIME as u64;
    /// clone3 only.
    pub const CLONE_CLEAR_SIGHAND: u64 = linux::CLONE_CLEAR_SIGHAND;
    pub const CLONE_INTO_CGROUP: u64 = linux::CLONE_INTO_CGROUP;
    /// The namespaces: armmap has none, as a Linux built without them
    /// (which answers EINVAL).
    pub const NAMESPACES: u64 =
        CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
}

/// `clone(flags, stack, parent_tid, tls, child_tid)` (arm64's argument
/// order).
pub fn clone(frame: &TrapFrame, flags: u64, stack: u64, parent_tid: u64, tls: u64, child_tid: u64) -> SysResult {
    use clone_flags::*;
    // The legacy call has no room for the clone3-only flags (its flags are
    // an int-sized field on Linux; the upper bits are ignored).
    let flags = flags & 0xffff_ffff;
    let args = CloneArgs { flags: flags & !CSIGNAL, exit_signal: flags & CSIGNAL, stack, parent_tid, child_tid, tls };
    do_clone(frame, &args)
}

/// Linux's `struct clone_args` (clone3), version 2 (88 bytes).
#[repr(C)]
#[derive(Copy, Clone, Default)]
struct CloneArgsV2 {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

crate::abi_layout!("clone_args", {
    "size" => core::mem::size_of::<CloneArgsV2>(),
    "flags" => core::mem::offset_of!(CloneArgsV2, flags),
    "pidfd" => core::mem::offset_of!(CloneArgsV2, pidfd),
    "child_tid" => core::mem::offset_of!(CloneArgsV2, child_tid),
    "parent_tid" => core::mem::offset_of!(CloneArgsV2, parent_tid),
    "exit_signal" => core::mem::offset_of!(CloneArgsV2, exit_signal),
    "stack" => core::mem::offset_of!(CloneArgsV2, stack),
    "stack_size" => core::mem::offset_of!(CloneArgsV2, stack_size),
    "tls" => core::mem::offset_of!(CloneArgsV2, tls),
    "set_tid" => core::mem::offset_of!(CloneArgsV2, set_tid),
    "set_tid_size" => core::mem::offset_of!(CloneArgsV2, set_tid_size),
    "cgroup" => core::mem::offset_of!(CloneArgsV2, cgroup),
    "SIZE_VER0" => linux_raw_sys::general::CLONE_ARGS_SIZE_VER0 as usize,
});

/// `clone3(args, size)`, checked as Linux's `copy_clone_args_from_user` and
/// `clone3_args_valid`.
pub fn clone3(frame: &TrapFrame, uargs: u64, size: u64) -> SysResult {
    use clone_flags::*;
    const VER0: u64 = linux_raw_sys::general::CLONE_ARGS_SIZE_VER0 as u64;
    let known = core::mem::size_of::<CloneArgsV2>() as u64;
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > crate::mm::addr::PAGE_SIZE as u64 {
        return Err(Errno::E2BIG);
    }
    let mut raw = [0u8; crate::mm::addr::PAGE_SIZE];
    let n = size as usize;
    crate::arch::aarch64::uaccess::copy_from_user(&mut raw[..n], uargs).map_err(|_| Errno::EFAULT)?;
    // Bytes past the fields this kernel knows must be zero.
    if raw[known as usize..n.max(known as usize)].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    // SAFETY: CloneArgsV2 is plain u64 fields; `raw` holds at least its
    // size, and read_unaligned copes with any alignment.
    let a: CloneArgsV2 = unsafe { core::ptr::read_unaligned(raw.as_ptr() as *const CloneArgsV2) };
    if a.set_tid_size > 0 || a.set_tid != 0 {
        // Choosing the child's pid needs pid namespaces.
        return Err(Errno::EINVAL);
    }
    if a.flags & (CSIGNAL | CLONE_DETACHED | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0
        || a.flags >> 32 > 3
        || a.exit_signal & !CSIGNAL != 0
        || a.exit_signal > 64
        || (a.stack == 0) != (a.stack_size == 0)
        || (a.flags & (CLONE_THREAD | CLONE_PARENT) != 0 && a.exit_signal != 0)
    {
        return Err(Errno::EINVAL);
    }
    let stack = if a.stack == 0 { 0 } else { a.stack.checked_add(a.stack_size).ok_or(Errno::EINVAL)? };
    let args = CloneArgs {
        flags: a.flags,
        exit_signal: a.exit_signal,
        stack,
        parent_tid: a.parent_tid,
        child_tid: a.child_tid,
        tls: a.tls,
    };
    do_clone(frame, &args)
}

/// Checks the flags as Linux's `copy_process` does.
fn check_clone_flags(flags: u64) -> Result<(), Errno> {
    use clone_flags::*;
    if flags & NAMESPACES != 0 || flags & CLONE_NEWTIME != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    // Descriptors handed back through pidfds are not implemented.
    if flags & CLONE_PIDFD != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Creates a thread (CLONE_THREAD) or a process, sharing what `args.flags`
/// asks for (CLONE_VM: the address space, CLONE_FILES: the descriptor
/// table, CLONE_FS: cwd and umask) and copying the rest.
///
/// Everything that can fail (memory for the kernel stack, the copied
/// address space, the records) is done before the child enters the tables,
/// whole, in one step: a failure (ENOMEM) leaves nothing behind. As on
/// Linux, a bad `parent_tid` or `child_tid` pointer does not fail the call:
/// that store is skipped. With CLONE_VFORK the caller sleeps until the
/// child execs or exits.
pub fn do_clone(frame: &TrapFrame, args: &CloneArgs) -> SysResult {
    use clone_flags::*;
    let flags = args.flags;
    check_clone_flags(flags)?;
    let me = sched::current();
    let parent = process::current_process()?;
    if flags & CLONE_PARENT != 0 && parent.pid == 1 {
        // init cannot make siblings (Linux: its signal flags are unkillable).
        return Err(Errno::EINVAL);
    }
    if !crate::mm::kernel_has_room() {
        return Err(Errno::ENOMEM);
    }
    let mut kstack = exec::new_kernel_stack()?;
    let mut fp = heap::try_box(FpState::default())?;
    context::save_fp(&mut fp);
    sched::reserve_slot()?;
    let ctx = exec::initial_context(&mut kstack);
    let tid = process::alloc_pid();
    // Linux clears the alternate stack for a child that shares the memory
    // but not the caller's wait (it would run on the same stack).
    let keep_altstack = flags & (CLONE_VM | CLONE_VFORK) != CLONE_VM;
    let (mm, files, fs, perf, sig) = process::with_current(|t| {
        (
            t.mm.clone(),
            t.files.clone(),
            t.fs.clone(),
            crate::task::perf::inherit(&t.perf, me),
            ThreadSignals::inherit(&t.sig, keep_altstack),
        )
    })?;
    let mm = if flags & CLONE_VM != 0 { mm } else { Arc::new(spin::Mutex::new(mm.lock().fork()?)) };
    let files =
        if flags & CLONE_FILES != 0 { files } else { Arc::new(spin::Mutex::new(heap::try_clone_vec(&files.lock())?)) };
    let fs = if flags & CLONE_FS != 0 {
        fs
    } else {
        let f = fs.lock();
        Arc::new(spin::Mutex::new(FsContext { cwd: heap::try_string(&f.cwd)?, umask: f.umask }))
    };
    let process = if flags & CLONE_THREAD != 0 {
        parent.inner.lock().threads.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        parent.clone()
    } else {
        let i = parent.inner.lock();
        let mut threads = Vec::new();
        threads.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        threads.push(tid);
        let ppid = if flags & CLONE_PARENT != 0 { i.ppid } else { parent.pid };
        let inner = ProcInner {
            ppid,
            pgid: i.pgid,
            sid: i.sid,
            name: heap::try_string(&i.name)?,
            threads,
            group_exit: None,
            zombie: None,
            dead_ticks: 0,
            // A sibling (CLONE_PARENT) tells the shared parent as the
            // caller itself would, as Linux's copy_process decides.
            exit_signal: if flags & CLONE_PARENT != 0 { i.exit_signal } else { args.exit_signal as u32 },
        };
        let actions = heap::try_box(parent.sighand.lock().clone())?;
        Arc::new(Process::new(tid, inner, Arc::new(spin::Mutex::new(*actions))))
    };
    let mut child = heap::try_box(Thread {
        tid,
        process: process.clone(),
        state: State::Ready,
        mm,
        files,
        fs,
        sig,
        must_exit: false,
        clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 { args.child_tid } else { 0 },
        robust_list: 0,
        vfork_done: None,
        kstack,
        ctx,
        fp,
        tpidr: if flags & CLONE_SETTLS != 0 { args.tls } else { context::tpidr_el0() },
        user_ticks: 0,
        perf,
    })?;
    let f = child.trap_frame();
    *f = frame.clone();
    f.x[0] = 0;
    if args.stack != 0 {
        f.sp_el0 = args.stack;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        // The child would store it itself, as a user store: skipped where
        // that store would fault.
        let _ = child.mm.lock().store_u32(args.child_tid, tid);
    }
    let vfork_done = if flags & CLONE_VFORK != 0 {
        let done = Arc::new(process::VforkDone::new());
        child.vfork_done = Some(done.clone());
        Some(done)
    } else {
        None
    };
    {
        let mut t = TABLE.lock();
        if flags & CLONE_THREAD != 0 {
            process.inner.lock().threads.push(tid); // room reserved above
        } else {
            t.procs.insert(tid, process.clone());
        }
        t.threads.insert(tid, child);
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = write_user(args.parent_tid, &tid);
    }
    if flags & CLONE_THREAD != 0 {
        sched::start(tid);
    } else {
        sched::start_first(tid);
    }
    if let Some(done) = vfork_done {
        // Sleeps until the child stops borrowing the memory; only the end
        // of this thread ends the wait (its exit happens on the way out).
        done.wait();
    }
    Ok(tid as u64)
}

/// Most bytes of arguments and environment together that `execve` takes
/// (Linux's limit depends on the stack limit; this is the initial stack's
/// budget, see `task/stack.rs`).
const MAX_ARG_BYTES: usize = 128 << 10;

/// Reads a NULL-terminated array of string pointers, adding their sizes to
/// `total` (E2BIG past [`MAX_ARG_BYTES`]).
fn user_strings(ptr: u64, total: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut v = Vec::new();
    if ptr == 0 {
        return Ok(v);
    }
    for i in 0..4096u64 {
        let p: u64 = read_user(ptr + i * 8).map_err(|_| Errno::EFAULT)?;
        if p == 0 {
            return Ok(v);
        }
        let s = read_user_cstr(p, MAX_ARG_BYTES - *total).map_err(|e| match e {
            CStrError::Fault => Errno::EFAULT,
            CStrError::TooLong => Errno::E2BIG,
        })?;
        *total += s.len() + 1;
        v.push(s);
    }
    Err(Errno::E2BIG)
}

pub fn execve(path: u64, argv: u64, envp: u64) -> SysResult {
    let path = super::fs::user_path(super::fs::AT_FDCWD as u64, path)?;
    let mut total = 0;
    let argv = user_strings(argv, &mut total)?;
    let envp = user_strings(envp, &mut total)?;
    exec::exec_current(&path, argv, envp)?;
    Ok(0)
}

pub fn wait4(pid: u64, status: u64, options: u64, rusage: u64) -> SysResult {
    // Linux's pid_t: -1 any child, 0 the caller's group, < -1 group -pid.
    let pid = pid as i32;
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    match exit::wait(pid, options)? {
        None => Ok(0),
        Some((child, wait_status, minflt)) => {
            if status != 0 {
                write_user(status, &wait_status).map_err(|_| Errno::EFAULT)?;
            }
            if rusage != 0 {
                let r = super::misc::Rusage { minflt: minflt as i64, ..Default::default() };
                write_user(rusage, &r).map_err(|_| Errno::EFAULT)?;
            }
            Ok(child as u64)
        }
    }
}

/// `waitid(idtype, id, infop, options, rusage)`: like wait4, with the
/// child's state reported as a SIGCHLD `siginfo` (and WNOWAIT).
pub fn waitid(idtype: u64, id: u64, infop: u64, options: u64, rusage: u64) -> SysResult {
    use crate::arch::aarch64::sigframe::{SiChld, Siginfo};
    use linux_raw_sys::general as linux;
    use signal::code::*;
    const P_ALL: u64 = linux::P_ALL as u64;
    const P_PID: u64 = linux::P_PID as u64;
    const P_PGID: u64 = linux::P_PGID as u64;
    const WSTOPPED: u64 = linux::WSTOPPED as u64;
    const WCONTINUED: u64 = linux::WCONTINUED as u64;
    const ALLOWED: u64 = exit::WNOHANG | WSTOPPED | exit::WEXITED | WCONTINUED | exit::WNOWAIT | 0xe000_0000;
    if options & !ALLOWED != 0 || options & (WSTOPPED | exit::WEXITED | WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    let id = id as i32;
    let pid = match idtype {
        P_ALL => -1,
        P_PID if id > 0 => id,
        P_PGID if id > 0 => -id,
        P_PGID if id == 0 => 0,
        _ => return Err(Errno::EINVAL),
    };
    let found = exit::wait_for(pid, options)?;
    let info = match found {
        None => Siginfo::default(),
        Some((child, st, _)) => {
            let (code, status) = if st & 0xff == 0x7f {
                (CLD_STOPPED, (st >> 8) & 0xff)
            } else if st == 0xffff {
                (CLD_CONTINUED, signal::SIGCONT as i32)
            } else if st & 0x7f == 0 {
                (CLD_EXITED, (st >> 8) & 0xff)
            } else {
                (CLD_KILLED, st & 0x7f)
            };
            let mut i = Siginfo::chld(code, SiChld { pid: child as i32, status, ..SiChld::default() });
            i.signo = signal::SIGCHLD as i32;
            i
        }
    };
    if infop != 0 {
        write_user(infop, &info).map_err(|_| Errno::EFAULT)?;
    }
    if rusage != 0 {
        let minflt = found.map_or(0, |(_, _, f)| f);
        let r = super::misc::Rusage { minflt: minflt as i64, ..Default::default() };
        write_user(rusage, &r).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

/// `prctl(option, arg2, ...)`: the thread's name (PR_SET_NAME,
/// PR_GET_NAME: the process's name here, 15 bytes at most) and the
/// dumpable flag (always 1: nothing is ever dumped, see RLIMIT_CORE);
/// other options EINVAL, as Linux answers an option it does not know.
pub fn prctl(option: u64, arg2: u64) -> SysResult {
    use linux_raw_sys::prctl as pr;
    const PR_GET_DUMPABLE: u64 = pr::PR_GET_DUMPABLE as u64;
    const PR_SET_DUMPABLE: u64 = pr::PR_SET_DUMPABLE as u64;
    const PR_SET_NAME: u64 = pr::PR_SET_NAME as u64;
    const PR_GET_NAME: u64 = pr::PR_GET_NAME as u64;
    const TASK_COMM_LEN: usize = 16;
    match option {
        PR_GET_DUMPABLE => Ok(1),
        PR_SET_DUMPABLE if arg2 <= 1 => Ok(0),
        PR_SET_NAME => {
            let mut buf = [0u8; TASK_COMM_LEN];
            let n = crate::arch::aarch64::uaccess::read_user_cstr_into(arg2, &mut buf).or_else(|e| match e {
                // Longer names are cut, as Linux does.
                CStrError::TooLong => Ok(TASK_COMM_LEN - 1),
                CStrError::Fault => Err(Errno::EFAULT),
            })?;
            let name = heap::try_string(&alloc::string::String::from_utf8_lossy(&buf[..n]))?;
            process::current_process()?.inner.lock().name = name;
            Ok(0)
        }
        PR_GET_NAME => {
            let mut buf = [0u8; TASK_COMM_LEN];
            {
                let p = process::current_process()?;
                let i = p.inner.lock();
                let n = i.name.len().min(TASK_COMM_LEN - 1);
                buf[..n].copy_from_slice(&i.name.as_bytes()[..n]);
            }
            write_user(arg2, &buf).map_err(|_| Errno::EFAULT)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn kill(pid: u64, sig: u64) -> SysResult {
    signal::kill(pid as i32, sig as u32, None)?;
    Ok(0)
}

/// `tkill(tid, sig)`: one thread.
pub fn tkill(tid: u64, sig: u64) -> SysResult {
    if tid as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    signal::kill_thread(None, tid as u32, sig as u32, None)?;
    Ok(0)
}

/// `tgkill(tgid, tid, sig)`: thread `tid` of process `tgid`.
pub fn tgkill(tgid: u64, tid: u64, sig: u64) -> SysResult {
    if tgid as i32 <= 0 || tid as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    signal::kill_thread(Some(tgid as u32), tid as u32, sig as u32, None)?;
    Ok(0)
}

/// The process `pid` names for the process-group calls (0: the caller).
fn who(pid: u64) -> Result<Arc<Process>, Errno> {
    // pid_t is an int: the upper half of the register is not part of it.
    match pid as i32 {
        0 => process::current_process(),
        p if p > 0 => process::process(p as process::Pid).filter(|p| !p.is_zombie()).ok_or(Errno::ESRCH),
        _ => Err(Errno::ESRCH),
    }
}

pub fn getpgid(pid: u64) -> SysResult {
    Ok(who(pid)?.inner.lock().pgid as u64)
}

pub fn getsid(pid: u64) -> SysResult {
    Ok(who(pid)?.inner.lock().sid as u64)
}

/// `setsid()`: the caller leads a new session and process group, unless
/// a process group with its id exists (EPERM).
pub fn setsid() -> SysResult {
    let me = process::current_process()?;
    let t = TABLE.lock();
    if t.procs.values().any(|p| p.inner.lock().pgid == me.pid) {
        return Err(Errno::EPERM);
    }
    let mut i = me.inner.lock();
    i.sid = me.pid;
    i.pgid = me.pid;
    Ok(me.pid as u64)
}

/// `setpgid(pid, pgid)` with Linux's rules: the caller or one of its
/// children (ESRCH otherwise), not a session leader and in the caller's
/// session (EPERM), into a new group named after it or an existing group
/// of the same session (EPERM otherwise).
pub fn setpgid(pid: u64, pgid: u64) -> SysResult {
    let me = process::current_process()?;
    // pid_t is an int: the upper half of the register is not part of it.
    // Checked in Linux's order: 0s filled in, a negative group EINVAL, a
    // negative process ESRCH.
    let pid = match pid as i32 {
        0 => me.pid as i32,
        p => p,
    };
    let pgid = match pgid as i32 {
        0 => pid,
        g => g,
    };
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    let (target, pgid) = (pid as process::Pid, pgid as process::Pid);
    let t = TABLE.lock();
    let my_sid = me.inner.lock().sid;
    let p = t.procs.get(&target).filter(|p| p.pid == me.pid || p.inner.lock().ppid == me.pid);
    let p = p.filter(|p| !p.is_zombie()).ok_or(Errno::ESRCH)?;
    let (sid, _) = {
        let i = p.inner.lock();
        (i.sid, i.pgid)
    };
    if sid == p.pid || sid != my_sid {
        return Err(Errno::EPERM);
    }
    if pgid != target
        && !t.procs.values().any(|q| {
            let qi = q.inner.lock();
            qi.pgid == pgid && qi.sid == my_sid
        })
    {
        return Err(Errno::EPERM);
    }
    p.inner.lock().pgid = pgid;
    Ok(0)
}
