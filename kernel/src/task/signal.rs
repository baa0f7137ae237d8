//! Signals, default actions only: a signal sent with `kill` ends the target
//! process as if by that signal (status seen by `wait4` as WIFSIGNALED);
//! 0 only checks that the process exists. Handlers (`rt_sigaction`) are
//! accepted and ignored: armmap's programs run to completion or die.

use super::process::{Pid, State, TABLE};
use super::sched;
use crate::errno::Errno;
use alloc::collections::BTreeMap;
use spin::Mutex;

static PENDING: Mutex<BTreeMap<Pid, u32>> = Mutex::new(BTreeMap::new());

/// The fatal signal pending for `pid`, if any.
pub fn pending(pid: Pid) -> Option<u32> {
    PENDING.lock().get(&pid).copied()
}

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: u32) -> Result<(), Errno> {
    if sig > 64 {
        return Err(Errno::EINVAL);
    }
    let target = if pid <= 0 { sched::current() } else { pid as Pid };
    let state = TABLE.lock().get(&target).map(|p| p.state).ok_or(Errno::ESRCH)?;
    if sig == 0 || matches!(state, State::Zombie { .. }) {
        return Ok(());
    }
    if target == sched::current() {
        super::exit::exit_current(super::exit::signaled(sig));
    }
    PENDING.lock().insert(target, sig);
    if matches!(state, State::Blocked(_)) {
        sched::make_ready(target);
    }
    Ok(())
}

/// Acts on a pending signal before returning to user mode.
pub fn deliver_pending() {
    let me = sched::current();
    let sig = PENDING.lock().remove(&me);
    if let Some(sig) = sig {
        super::exit::exit_current(super::exit::signaled(sig));
    }
}
