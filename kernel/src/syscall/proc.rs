//! Process system calls: exit, fork (clone), execve, wait4, kill, yield.

use crate::arch::aarch64::context;
use crate::arch::aarch64::context::FpState;
use crate::arch::aarch64::exception::TrapFrame;
use crate::arch::aarch64::uaccess::{read_user, read_user_cstr, write_user, CStrError};
use crate::errno::{Errno, SysResult};
use crate::mm::heap;
use crate::task::exit::{self, SIGCHLD};
use crate::task::process::{self, Counters, Process, State, TABLE};
use crate::task::{exec, sched, signal};
use alloc::vec::Vec;

pub fn exit(code: u64) -> SysResult {
    exit::exit_current(exit::exited(code as i32))
}

pub fn getppid() -> SysResult {
    process::with_current(|p| p.ppid as u64)
}

pub fn sched_yield() -> SysResult {
    sched::yield_now();
    Ok(0)
}

/// `clone(flags, stack, parent_tid, tls, child_tid)` with fork semantics:
/// the exit signal must be SIGCHLD, and the only other flags accepted are
/// the ones glibc's `fork()` adds: CLONE_CHILD_SETTID (the child's pid is
/// stored at `child_tid` in the child's memory), CLONE_PARENT_SETTID (at
/// `parent_tid` in the parent's) and CLONE_CHILD_CLEARTID (for thread
/// joins; with no threads nobody can observe it, so it is accepted and
/// ignored). Anything that asks for threads (CLONE_VM, ...) is EINVAL.
///
/// Everything that can fail (memory for the kernel stack, the copied
/// address space, the records) is done before the child enters the process
/// table, whole, in one step: a failure (ENOMEM) leaves nothing behind.
/// As on Linux, a bad `parent_tid` or `child_tid` pointer does not fail
/// the fork: that store is skipped.
pub fn clone(frame: &TrapFrame, flags: u64, stack: u64, parent_tid: u64, child_tid: u64) -> SysResult {
    const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
    const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
    const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
    let extra = flags & !0xff;
    if flags & 0xff != SIGCHLD || extra & !(CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID) != 0 {
        return Err(Errno::EINVAL);
    }
    if !crate::mm::kernel_has_room() {
        return Err(Errno::ENOMEM);
    }
    let me = sched::current();
    let mut kstack = exec::new_kernel_stack()?;
    let mut fp = heap::try_box(FpState::default())?;
    context::save_fp(&mut fp);
    sched::reserve_slot()?;
    let ctx = exec::initial_context(&mut kstack);
    let pid = process::alloc_pid();
    let mut child = {
        let mut t = TABLE.lock();
        let parent = t.get_mut(&me).ok_or(Errno::ESRCH)?;
        heap::try_box(Process {
            pid,
            ppid: me,
            pgid: parent.pgid,
            sid: parent.sid,
            pending: None,
            name: heap::try_string(&parent.name)?,
            state: State::Ready,
            mm: parent.mm.fork()?,
            files: heap::try_clone_vec(&parent.files)?,
            cwd: heap::try_string(&parent.cwd)?,
            kstack,
            ctx,
            fp,
            tpidr: context::tpidr_el0(),
            counters: Counters::default(),
            user_ticks: 0,
            perf: crate::task::perf::inherit(&parent.perf, me),
            fault_watch: Default::default(),
            // Not inherited (Linux's futex_init_task).
            robust_list: 0,
        })?
    };
    let f = child.trap_frame();
    *f = frame.clone();
    f.x[0] = 0;
    if stack != 0 {
        f.sp_el0 = stack;
    }
    if extra & CLONE_CHILD_SETTID != 0 {
        // The child would store it itself, as a user store: skipped where
        // that store would fault.
        let _ = child.mm.store_u32(child_tid, pid);
    }
    TABLE.lock().insert(pid, child);
    if extra & CLONE_PARENT_SETTID != 0 {
        let _ = write_user(parent_tid, &pid);
    }
    sched::start(pid);
    Ok(pid as u64)
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
    let pid = pid as i64;
    let want = if pid > 0 { pid as i32 } else { -1 };
    match exit::wait(want, options)? {
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

pub fn kill(pid: u64, sig: u64) -> SysResult {
    signal::kill(pid as i32, sig as u32)?;
    Ok(0)
}

/// `tkill(tid, sig)`: one thread (every process is one thread here).
pub fn tkill(tid: u64, sig: u64) -> SysResult {
    if tid as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    kill(tid, sig)
}

/// `tgkill(tgid, tid, sig)`: thread `tid` of process `tgid`.
pub fn tgkill(tgid: u64, tid: u64, sig: u64) -> SysResult {
    if tgid as i32 <= 0 || tid as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    if tgid as i32 != tid as i32 {
        return Err(Errno::ESRCH);
    }
    kill(tid, sig)
}

/// The process `pid` names for the process-group calls (0: the caller).
fn who(pid: u64) -> Result<process::Pid, Errno> {
    match pid as i64 {
        0 => Ok(sched::current()),
        p if p > 0 && p <= u32::MAX as i64 => Ok(p as process::Pid),
        _ => Err(Errno::ESRCH),
    }
}

pub fn getpgid(pid: u64) -> SysResult {
    let pid = who(pid)?;
    process::with(pid, |p| p.pgid as u64).ok_or(Errno::ESRCH)
}

pub fn getsid(pid: u64) -> SysResult {
    let pid = who(pid)?;
    process::with(pid, |p| p.sid as u64).ok_or(Errno::ESRCH)
}

/// `setsid()`: the caller leads a new session and process group, unless it
/// already leads a process group (EPERM).
pub fn setsid() -> SysResult {
    process::with_current(|p| {
        if p.pgid == p.pid {
            return Err(Errno::EPERM);
        }
        p.sid = p.pid;
        p.pgid = p.pid;
        Ok(p.pid as u64)
    })?
}

/// `setpgid(pid, pgid)` with Linux's rules: the caller or one of its
/// children (ESRCH otherwise), not a session leader and in the caller's
/// session (EPERM), into a new group named after it or an existing group
/// of the same session (EPERM otherwise).
pub fn setpgid(pid: u64, pgid: u64) -> SysResult {
    let me = sched::current();
    let target = who(pid)?;
    let pgid = match pgid as i64 {
        0 => target,
        g if g > 0 && g <= u32::MAX as i64 => g as process::Pid,
        _ => return Err(Errno::EINVAL),
    };
    let mut t = TABLE.lock();
    let my_sid = t.get(&me).ok_or(Errno::ESRCH)?.sid;
    let p = t.get(&target).filter(|p| p.pid == me || p.ppid == me).ok_or(Errno::ESRCH)?;
    if p.sid == p.pid || p.sid != my_sid {
        return Err(Errno::EPERM);
    }
    if pgid != target && !t.values().any(|q| q.pgid == pgid && q.sid == my_sid) {
        return Err(Errno::EPERM);
    }
    if let Some(p) = t.get_mut(&target) {
        p.pgid = pgid;
    }
    Ok(0)
}
