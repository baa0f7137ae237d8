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
//! A signal for a process is posted to its first live thread; `tkill` and
//! `tgkill` name the thread. It is *pending* in the thread's record until
//! it acts: at the thread's next return to user mode, at its next page
//! fault, or when a blocking wait it is in wakes up. A fatal signal ends
//! the whole process (every thread).

use super::process::{Pid, Tables, Thread, TABLE};
use super::sched;
use crate::errno::Errno;
use core::sync::atomic::{AtomicUsize, Ordering};

/// How many threads have a signal pending: lets the way back to user mode
/// skip the thread table when nothing is pending (the common case).
static PENDING_COUNT: AtomicUsize = AtomicUsize::new(0);

/// How many threads were told to exit and have not yet: with
/// [`PENDING_COUNT`], what the way back to user mode checks first.
static MUST_EXIT_COUNT: AtomicUsize = AtomicUsize::new(0);

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

/// Whether a blocking wait of `t` must end now: a signal is pending for it,
/// or it must exit.
pub fn interrupts(t: &Thread) -> bool {
    t.pending.is_some() || t.must_exit
}

/// Tells thread `t` to exit, waking it if it sleeps.
pub fn tell_to_exit(t: &mut Thread) {
    if !t.must_exit {
        t.must_exit = true;
        MUST_EXIT_COUNT.fetch_add(1, Ordering::Relaxed);
    }
    sched::make_ready_locked(t);
}

/// Thread `t` is exiting: it no longer needs telling.
pub fn exit_told(t: &mut Thread) {
    if core::mem::take(&mut t.must_exit) {
        MUST_EXIT_COUNT.fetch_sub(1, Ordering::Relaxed);
    }
    take_pending(t);
}

/// Which processes a `kill(pid, ...)` from process `me` (in group
/// `my_pgid`) reaches.
fn targets(pid: i32, me: Pid, my_pgid: Pid) -> impl Fn(Pid, Pid) -> bool {
    move |p: Pid, pgid: Pid| match pid {
        0 => pgid == my_pgid,
        -1 => p != 1 && p != me,
        p_ if p_ < -1 => pgid == p_.unsigned_abs(),
        p_ => p == p_ as Pid,
    }
}

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: u32) -> Result<(), Errno> {
    if sig > SIGMAX {
        return Err(Errno::EINVAL);
    }
    let me = super::process::current_process()?.pid;
    let mut to_self = false;
    {
        let mut t = TABLE.lock();
        // A thread's id names its process, as on Linux.
        let pid = match pid {
            p if p > 0 && !t.procs.contains_key(&(p as Pid)) => t
                .threads
                .get(&(p as Pid))
                .filter(|th| th.state != super::process::State::Dead)
                .map_or(p, |th| th.pid() as i32),
            p => p,
        };
        let my_pgid = t.procs.get(&me).map_or(0, |p| p.inner.lock().pgid);
        let hit = targets(pid, me, my_pgid);
        let mut chosen = alloc::vec::Vec::new();
        let mut found = false;
        for p in t.procs.values() {
            let (pgid, zombie) = {
                let i = p.inner.lock();
                (i.pgid, i.zombie.is_some())
            };
            if !hit(p.pid, pgid) {
                continue;
            }
            found = true;
            // Zombies are past signals; init ignores the ones it has no
            // handler for (all of them, here); some are ignored by default;
            // 0 only checks existence.
            if sig == 0 || ignored_by_default(sig) || p.pid == 1 || zombie {
                continue;
            }
            if p.pid == me {
                to_self = true;
                continue;
            }
            if chosen.try_reserve(1).is_err() {
                return Err(Errno::ENOMEM);
            }
            chosen.push(p.pid);
        }
        if !found {
            return Err(Errno::ESRCH);
        }
        for pid in chosen {
            post_to_process(&mut t, pid, sig);
        }
    }
    if to_self {
        super::exit::exit_current(super::exit::signaled(sig));
    }
    Ok(())
}

/// `tgkill`/`tkill`: `sig` for thread `tid` (of process `tgid`, if given).
pub fn kill_thread(tgid: Option<Pid>, tid: Pid, sig: u32) -> Result<(), Errno> {
    if sig > SIGMAX {
        return Err(Errno::EINVAL);
    }
    let me = sched::current();
    {
        let mut t = TABLE.lock();
        let th = t.threads.get_mut(&tid).filter(|th| th.state != super::process::State::Dead);
        let th = th.filter(|th| tgid.is_none_or(|g| th.pid() == g)).ok_or(Errno::ESRCH)?;
        if sig == 0 || ignored_by_default(sig) || th.pid() == 1 {
            return Ok(());
        }
        if tid != me {
            post(th, sig);
            return Ok(());
        }
    }
    super::exit::exit_current(super::exit::signaled(sig))
}

/// Sends `sig` to process `pid` from the kernel (the out-of-memory killer):
/// it acts like one sent by `kill`, init and zombies excepted.
pub fn send(pid: Pid, sig: u32) {
    let mut t = TABLE.lock();
    if pid != 1 {
        post_to_process(&mut t, pid, sig);
    }
}

/// Makes `sig` pending for process `pid`: for its first live thread.
fn post_to_process(t: &mut Tables, pid: Pid, sig: u32) {
    if let Some(th) = t.main_thread(pid) {
        post(th, sig);
    }
}

/// Makes `sig` pending for `t` (the first one pending wins) and wakes `t`
/// from a blocking wait.
fn post(t: &mut Thread, sig: u32) {
    if t.pending.is_none() {
        t.pending = Some(sig);
        PENDING_COUNT.fetch_add(1, Ordering::Relaxed);
    }
    // Only a blocked thread is woken (make_ready_locked checks).
    sched::make_ready_locked(t);
}

/// Acts on a pending signal (before returning to user mode, and at a
/// fault): the default action ends the process. A thread whose process is
/// exiting exits here.
pub fn deliver_pending() {
    if PENDING_COUNT.load(Ordering::Relaxed) == 0 && MUST_EXIT_COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    let me = sched::current();
    let (sig, exiting) = {
        let mut t = TABLE.lock();
        match t.threads.get_mut(&me) {
            Some(th) if th.must_exit => (None, true),
            Some(th) => (take_pending(th), false),
            None => (None, false),
        }
    };
    if exiting {
        super::exit::exit_thread(0);
    }
    if let Some(sig) = sig {
        super::exit::exit_current(super::exit::signaled(sig));
    }
}

/// Takes `t`'s pending signal (it acts now, or `t` is exiting anyway).
pub fn take_pending(t: &mut Thread) -> Option<u32> {
    let sig = t.pending.take();
    if sig.is_some() {
        PENDING_COUNT.fetch_sub(1, Ordering::Relaxed);
    }
    sig
}
