//! Signals, default actions only: a signal sent with `kill` ends the target
//! process as if by that signal (status seen by `wait4` as WIFSIGNALED),
//! except the ones whose default action is to be ignored (SIGCHLD, SIGCONT,
//! SIGURG, SIGWINCH), which are dropped; 0 only checks that the target
//! exists. Handlers (`rt_sigaction`) are accepted and ignored: armmap's
//! programs run to completion or die. (The stop signals still end the
//! process: there is no job control yet.)
//!
//! Who receives a signal follows Linux's `kill(2)`:
//!
//! | `pid`  | targets                                                        |
//! |--------|----------------------------------------------------------------|
//! | `> 0`  | that process                                                   |
//! | `0`    | every process in the caller's process group                    |
//! | `-1`   | every process but init (pid 1) and the caller                  |
//! | `< -1` | every process in process group `-pid`                          |
//!
//! No target: ESRCH. A signal for init is dropped, as Linux drops the
//! signals init has no handler for (init cannot be killed by mistake).
//!
//! A signal is *pending* in the target's process record until it acts: at
//! the target's next return to user mode, at its next page fault, or when a
//! blocking wait (`wait4`, `nanosleep`) it is in wakes up. Sending never
//! allocates.

use super::process::{Pid, Process, State, TABLE};
use super::sched;
use crate::errno::Errno;
use core::sync::atomic::{AtomicUsize, Ordering};

/// How many processes have a signal pending: lets the way back to user
/// mode skip the process table when nothing is pending (the common case).
static PENDING_COUNT: AtomicUsize = AtomicUsize::new(0);

/// The highest signal number.
const SIGMAX: u32 = 64;

/// Whether Linux's default action for `sig` is to ignore it.
fn ignored_by_default(sig: u32) -> bool {
    const SIGCHLD: u32 = 17;
    const SIGCONT: u32 = 18;
    const SIGURG: u32 = 23;
    const SIGWINCH: u32 = 28;
    matches!(sig, SIGCHLD | SIGCONT | SIGURG | SIGWINCH)
}

/// The signal pending for `pid`, if any.
pub fn pending(pid: Pid) -> Option<u32> {
    if PENDING_COUNT.load(Ordering::Relaxed) == 0 {
        return None;
    }
    TABLE.lock().get(&pid).and_then(|p| p.pending)
}

/// Which processes a `kill(pid, ...)` from `me` (in group `my_pgid`) reaches.
fn targets(pid: i32, me: Pid, my_pgid: Pid) -> impl Fn(&Process) -> bool {
    move |p: &Process| match pid {
        0 => p.pgid == my_pgid,
        -1 => p.pid != 1 && p.pid != me,
        p_ if p_ < -1 => p.pgid == p_.unsigned_abs(),
        p_ => p.pid == p_ as Pid,
    }
}

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: u32) -> Result<(), Errno> {
    if sig > SIGMAX {
        return Err(Errno::EINVAL);
    }
    let me = sched::current();
    let mut to_self = false;
    {
        let mut t = TABLE.lock();
        let my_pgid = t.get(&me).map_or(0, |p| p.pgid);
        let hit = targets(pid, me, my_pgid);
        let mut found = false;
        for p in t.values_mut().filter(|p| hit(p)) {
            found = true;
            // Zombies are past signals; init ignores the ones it has no
            // handler for (all of them, here); some are ignored by default;
            // 0 only checks existence.
            if sig == 0 || ignored_by_default(sig) || p.pid == 1 || matches!(p.state, State::Zombie { .. }) {
                continue;
            }
            if p.pid == me {
                to_self = true;
                continue;
            }
            post(p, sig);
        }
        if !found {
            return Err(Errno::ESRCH);
        }
    }
    if to_self {
        super::exit::exit_current(super::exit::signaled(sig));
    }
    Ok(())
}

/// Sends `sig` to process `pid` from the kernel (the out-of-memory killer):
/// it acts like one sent by `kill`, init and zombies excepted.
pub fn send(pid: Pid, sig: u32) {
    let mut t = TABLE.lock();
    if let Some(p) = t.get_mut(&pid) {
        if p.pid != 1 && !matches!(p.state, State::Zombie { .. }) {
            post(p, sig);
        }
    }
}

/// Sends `sig` from the kernel to every process of group `pgid` (the
/// terminal's ^C, ^\ and ^Z): no permission check; init, zombies and the
/// signals ignored by default are left out, as for [`send`]. Safe in the
/// interrupt handler: it never allocates and never acts on the caller.
pub fn send_group(pgid: Pid, sig: u32) {
    if pgid == 0 || sig == 0 || sig > SIGMAX || ignored_by_default(sig) {
        return;
    }
    let mut t = TABLE.lock();
    for p in t.values_mut().filter(|p| p.pgid == pgid) {
        if p.pid != 1 && !matches!(p.state, State::Zombie { .. }) {
            post(p, sig);
        }
    }
}

/// Makes `sig` pending for `p` (the first one pending wins) and wakes `p`
/// from a blocking wait.
fn post(p: &mut Process, sig: u32) {
    if p.pending.is_none() {
        p.pending = Some(sig);
        PENDING_COUNT.fetch_add(1, Ordering::Relaxed);
    }
    // Only a blocked process is woken (make_ready_locked checks).
    sched::make_ready_locked(p);
}

/// Acts on a pending signal (before returning to user mode, and at a
/// fault): the default action ends the process.
pub fn deliver_pending() {
    if PENDING_COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    let me = sched::current();
    let sig = TABLE.lock().get_mut(&me).and_then(|p| take_pending(p));
    if let Some(sig) = sig {
        super::exit::exit_current(super::exit::signaled(sig));
    }
}

/// Takes `p`'s pending signal (it acts now, or `p` is exiting anyway).
pub fn take_pending(p: &mut Process) -> Option<u32> {
    let sig = p.pending.take();
    if sig.is_some() {
        PENDING_COUNT.fetch_sub(1, Ordering::Relaxed);
    }
    sig
}
