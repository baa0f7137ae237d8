//! Timer system calls: `setitimer`, `getitimer` and the POSIX timers
//! (`timer_create`, `timer_settime`, `timer_gettime`, `timer_getoverrun`,
//! `timer_delete`). Arguments are copied in, the registry in
//! `task/timers.rs` does the work (its lock is never held across a user
//! copy), and results are copied out.

use crate::arch::aarch64::timer;
use crate::arch::aarch64::uaccess::{read_user, write_user};
use crate::errno::{Errno, SysResult};
use crate::task::process;
use crate::task::timers::{self, Itimerspec, Itimerval, Sigevent, Which};

/// The calling thread's process: timers belong to processes.
fn me() -> Result<u32, Errno> {
    process::with_current(|t| t.pid())
}

/// A timer id argument: `timer_t` is an int in the kernel's ABI, so only
/// the low 32 bits count, as on Linux.
fn timer_id(id: u64) -> Result<i32, Errno> {
    Ok(id as i32)
}

pub fn getitimer(which: u64, cur: u64) -> SysResult {
    let which = Which::from_user(which as u32 as u64)?;
    let pid = me()?;
    let v = timers::with(|t| t.getitimer(pid, which, timer::uptime_ns()));
    write_user(cur, &v).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

/// A null `new` disarms (Linux still accepts it, with a warning).
pub fn setitimer(which: u64, new: u64, old: u64) -> SysResult {
    let new: Itimerval = if new == 0 { Itimerval::default() } else { read_user(new).map_err(|_| Errno::EFAULT)? };
    let which = Which::from_user(which as u32 as u64)?;
    let pid = me()?;
    let prev = timers::with(|t| t.setitimer(pid, which, &new, timer::uptime_ns()))?;
    if old != 0 {
        write_user(old, &prev).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

pub fn timer_create(clock: u64, sevp: u64, idp: u64) -> SysResult {
    let sev: Option<Sigevent> = match sevp {
        0 => None,
        p => Some(read_user(p).map_err(|_| Errno::EFAULT)?),
    };
    let pid = me()?;
    // A SIGEV_THREAD_ID target must be a live thread of this process; it
    // is looked up here, before the registry is locked.
    let target = sev.map(|s| s.tid).filter(|&tid| tid > 0).map(|tid| tid as u32);
    let target_ok = target.is_some_and(|tid| process::with(tid, |t| t.pid()) == Some(pid));
    let own_thread = |tid: u32| target_ok && Some(tid) == target;
    let id = timers::with(|t| t.create_with(pid, clock as u32 as u64, sev.as_ref(), &own_thread))?;
    if write_user(idp, &id).is_err() {
        // Linux takes the timer back when the id cannot be stored.
        let _ = timers::with(|t| t.delete(pid, id));
        return Err(Errno::EFAULT);
    }
    Ok(0)
}

pub fn timer_settime(id: u64, flags: u64, new: u64, old: u64) -> SysResult {
    let id = timer_id(id)?;
    if new == 0 {
        return Err(Errno::EINVAL);
    }
    let new: Itimerspec = read_user(new).map_err(|_| Errno::EFAULT)?;
    let pid = me()?;
    let prev = timers::with(|t| t.settime(pid, id, flags, &new, timer::uptime_ns()))?;
    if old != 0 {
        write_user(old, &prev).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

pub fn timer_gettime(id: u64, cur: u64) -> SysResult {
    let id = timer_id(id)?;
    let pid = me()?;
    let v = timers::with(|t| t.gettime(pid, id, timer::uptime_ns()))?;
    write_user(cur, &v).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

pub fn timer_getoverrun(id: u64) -> SysResult {
    let id = timer_id(id)?;
    let pid = me()?;
    Ok(timers::with(|t| t.getoverrun(pid, id))? as u64)
}

pub fn timer_delete(id: u64) -> SysResult {
    let id = timer_id(id)?;
    let pid = me()?;
    timers::with(|t| t.delete(pid, id))?;
    Ok(0)
}
