//! Process system calls: exit, fork (clone), execve, wait4, kill, yield.

use crate::arch::aarch64::context;
use crate::arch::aarch64::exception::TrapFrame;
use crate::arch::aarch64::uaccess::{read_user, read_user_cstr, write_user, CStrError};
use crate::errno::{Errno, SysResult};
use crate::task::exit::{self, SIGCHLD};
use crate::task::process::{self, Counters, Process, State, TABLE};
use crate::task::{exec, sched, signal};
use alloc::boxed::Box;
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
pub fn clone(frame: &TrapFrame, flags: u64, stack: u64, parent_tid: u64, child_tid: u64) -> SysResult {
    const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
    const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
    const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
    let extra = flags & !0xff;
    if flags & 0xff != SIGCHLD || extra & !(CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID) != 0 {
        return Err(Errno::EINVAL);
    }
    let pid = process::alloc_pid();
    let me = sched::current();
    let mut fp = Box::default();
    context::save_fp(&mut fp);
    let tpidr = context::tpidr_el0();
    let mut kstack = exec::new_kernel_stack();
    let ctx = exec::initial_context(&mut kstack);
    let child = {
        let mut t = TABLE.lock();
        let parent = t.get_mut(&me).ok_or(Errno::ESRCH)?;
        let mm = parent.mm.fork()?;
        Box::new(Process {
            pid,
            ppid: me,
            name: parent.name.clone(),
            state: State::Ready,
            mm,
            files: parent.files.clone(),
            cwd: parent.cwd.clone(),
            kstack,
            ctx,
            fp,
            tpidr,
            counters: Counters::default(),
            user_ticks: 0,
            perf: crate::task::perf::inherit(&parent.perf, me),
            fault_watch: Default::default(),
        })
    };
    let mut child = child;
    let f = child.trap_frame();
    *f = frame.clone();
    f.x[0] = 0;
    if stack != 0 {
        f.sp_el0 = stack;
    }
    if extra & CLONE_CHILD_SETTID != 0 {
        child.mm.write_bytes(child_tid, &pid.to_le_bytes()).map_err(|_| Errno::EFAULT)?;
    }
    TABLE.lock().insert(pid, child);
    if extra & CLONE_PARENT_SETTID != 0 {
        write_user(parent_tid, &pid).map_err(|_| Errno::EFAULT)?;
    }
    sched::make_ready(pid);
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
