//! Signals, as Linux delivers them: sending, the default actions, job
//! control (stop and continue), handlers with arm64's signal frame, and
//! the restart of interrupted system calls.
//!
//! ## Sending
//!
//! A signal goes to a process (`kill`, `rt_sigqueueinfo`, a timer, the
//! tty) or to one thread (`tkill`, `tgkill`, a fault). Who `kill`
//! reaches follows Linux's `kill(2)`:
//!
//! | `pid`  | targets                                                        |
//! |--------|----------------------------------------------------------------|
//! | `> 0`  | that process (a thread id names its process)                   |
//! | `0`    | every process in the caller's process group                    |
//! | `-1`   | every process but init (pid 1) and the caller's                |
//! | `< -1` | every process in process group `-pid`                          |
//!
//! Sending first applies Linux's `prepare_signal` (SIGCONT resumes a
//! stopped process and discards pending stop signals; a stop signal
//! discards a pending SIGCONT), drops a signal the target ignores (and
//! one with the default action for init, which cannot be killed by
//! mistake), ends the whole process at once for SIGKILL, and otherwise
//! makes the signal pending: in the thread's own set, or in the process's
//! shared set, where the first thread that does not block it takes it. The
//! thread chosen is marked (`ThreadSignals::flag`, Linux's TIF_SIGPENDING)
//! and woken from any blocking wait, which ends with
//! [`Interrupted`](super::sched::Interrupted).
//!
//! ## Delivery
//!
//! On every return to user mode ([`deliver`]) a marked thread takes its
//! pending signals, synchronous ones first. Ignored ones vanish; a default
//! action ends the process (its wait status carries the signal), stops it
//! (every thread, until SIGCONT or SIGKILL; the parent learns through
//! `wait4(WUNTRACED)` and SIGCHLD) or does nothing. A handler gets Linux's
//! `rt_sigframe` on the user stack (or the alternate stack, SA_ONSTACK) and
//! starts with the signal's mask added; it returns through the vDSO's
//! `__kernel_rt_sigreturn` (or its SA_RESTORER), whose `rt_sigreturn`
//! checks the frame and restores registers, FP/SIMD state and mask.
//!
//! A system call that a signal interrupted returns one of Linux's internal
//! restart codes; [`deliver`] then turns it into EINTR (a handler runs and
//! the call may not restart) or rewinds the program counter onto the `svc`
//! (no handler, SA_RESTART, or a call that always restarts).
//!
//! A fault becomes a signal with its `siginfo` ([`force_fault`]): if the
//! program blocks or ignores it, it is reset to the default action and the
//! process dies with the one-line report, as Linux's `force_sig` does.
//!
//! ## Locks
//!
//! A thread's mask, pending set and alternate stack are under the thread
//! table's lock (the same lock that wakes it); a process's shared pending
//! set and stop state under its `signals` lock, its actions under the
//! `sighand` lock. Order: table, process `inner`, `signals`, `sighand`.

use super::process::{Pid, Process, State, Tables, Thread, TABLE};
use super::sched;
use super::sigset::{self, default_action, flags, DefaultAction, Handler, Pending, SigSet};
use crate::arch::aarch64::exception::TrapFrame;
use crate::arch::aarch64::sigframe::{self, AltStack, SiChld, Siginfo};
use crate::errno::Errno;
use core::sync::atomic::{AtomicUsize, Ordering};
use linux_raw_sys::general as linux;

/// How many threads are marked (a signal to act on, or told to exit): lets
/// the way back to user mode skip the thread table when none is (the
/// common case).
static MARKED: AtomicUsize = AtomicUsize::new(0);

pub const SIGKILL: u32 = linux::SIGKILL;
pub const SIGSTOP: u32 = linux::SIGSTOP;
pub const SIGCONT: u32 = linux::SIGCONT;
pub const SIGCHLD: u32 = linux::SIGCHLD;
pub const SIGSEGV: u32 = linux::SIGSEGV;
pub const SIGBUS: u32 = linux::SIGBUS;
pub const SIGPIPE: u32 = linux::SIGPIPE;

/// `si_code` values (asm-generic/siginfo.h), as `siginfo` holds them.
pub mod code {
    use linux_raw_sys::general as linux;
    pub const SI_USER: i32 = linux::SI_USER as i32;
    pub const SI_KERNEL: i32 = linux::SI_KERNEL as i32;
    pub const SI_QUEUE: i32 = linux::SI_QUEUE;
    pub const SI_TIMER: i32 = linux::SI_TIMER;
    pub const SI_TKILL: i32 = linux::SI_TKILL;
    pub const SEGV_MAPERR: i32 = linux::SEGV_MAPERR as i32;
    pub const SEGV_ACCERR: i32 = linux::SEGV_ACCERR as i32;
    pub const BUS_ADRALN: i32 = linux::BUS_ADRALN as i32;
    pub const BUS_ADRERR: i32 = linux::BUS_ADRERR as i32;
    pub const BUS_OBJERR: i32 = linux::BUS_OBJERR as i32;
    pub const ILL_ILLOPC: i32 = linux::ILL_ILLOPC as i32;
    pub const TRAP_BRKPT: i32 = linux::TRAP_BRKPT as i32;
    pub const CLD_EXITED: i32 = linux::CLD_EXITED as i32;
    pub const CLD_KILLED: i32 = linux::CLD_KILLED as i32;
    pub const CLD_DUMPED: i32 = linux::CLD_DUMPED as i32;
    pub const CLD_STOPPED: i32 = linux::CLD_STOPPED as i32;
    pub const CLD_CONTINUED: i32 = linux::CLD_CONTINUED as i32;
}

/// A thread's signal state.
///
/// Invariant: `flag` is set while the thread has a pending signal it does
/// not block (its own or, after it was chosen for it, its process's), its
/// process is stopping, or it must exit; [`MARKED`] counts the threads with
/// `flag` or `must_exit`... kept by [`mark`] and [`recalc`] only.
#[derive(Default)]
pub struct ThreadSignals {
    pub mask: SigSet,
    pub pending: Pending,
    pub altstack: AltStack,
    /// The mask to restore after the next handler's frame is built (or on
    /// the way out if none runs): `rt_sigsuspend`'s caller's mask.
    pub saved_mask: Option<SigSet>,
    /// The ESR and address of the fault a pending fault signal reports.
    pub fault: Option<(u64, u64)>,
    pub flag: bool,
}

impl ThreadSignals {
    /// A new thread's state: the creator's mask (and, if it asks, its
    /// alternate stack); nothing pending.
    pub fn inherit(from: &ThreadSignals, keep_altstack: bool) -> ThreadSignals {
        ThreadSignals {
            mask: from.mask,
            altstack: if keep_altstack { from.altstack } else { AltStack::default() },
            ..ThreadSignals::default()
        }
    }
}

/// A process's shared signal state (under `Process::signals`).
#[derive(Default)]
pub struct ProcSignals {
    pub shared: Pending,
    /// The signal that stopped the process, while it is stopped.
    pub stopped: Option<u32>,
    /// A stop or a continue that `wait4` (WUNTRACED, WCONTINUED) has not
    /// reported yet.
    pub stop_unreported: bool,
    pub cont_unreported: bool,
}

/// Sets `t`'s mark (it has something to act on) and wakes it.
fn mark(t: &mut Thread) {
    if !t.sig.flag {
        t.sig.flag = true;
        if !t.must_exit {
            MARKED.fetch_add(1, Ordering::Relaxed);
        }
    }
    sched::make_ready_locked(t);
}

/// Recomputes `t`'s mark from what is pending (`shared`: its process's
/// shared set, `stopping`: its process is stopped).
fn recalc(t: &mut Thread, shared: SigSet, stopping: bool) {
    let want = stopping || !t.sig.pending.set().union(shared).minus(t.sig.mask).is_empty();
    if want != t.sig.flag {
        t.sig.flag = want;
        if !t.must_exit {
            if want {
                MARKED.fetch_add(1, Ordering::Relaxed);
            } else {
                MARKED.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// Recomputes the mark of thread `t` (the table locked by the caller).
pub fn recalc_thread(t: &mut Thread) {
    let (shared, stopping) = {
        let s = t.process.signals.lock();
        (s.shared.set(), s.stopped.is_some())
    };
    recalc(t, shared, stopping);
}

/// Whether a blocking wait of `t` must end now: it has a signal to act
/// on, its process is stopping, or it must exit.
pub fn interrupts(t: &Thread) -> bool {
    t.sig.flag || t.must_exit
}

/// Tells thread `t` to exit, waking it if it sleeps.
pub fn tell_to_exit(t: &mut Thread) {
    if !t.must_exit {
        t.must_exit = true;
        if !t.sig.flag {
            MARKED.fetch_add(1, Ordering::Relaxed);
        }
    }
    sched::make_ready_locked(t);
}

/// Thread `t` is exiting: it no longer counts as marked.
pub fn exit_told(t: &mut Thread) {
    if t.must_exit || t.sig.flag {
        MARKED.fetch_sub(1, Ordering::Relaxed);
    }
    t.must_exit = false;
    t.sig.flag = false;
    t.sig.pending.clear();
}

/// Whether process `p`'s handling of `sig` drops it at once (ignored, or
/// the default action for init), for a signal its thread `t` would get.
fn dropped(p: &Process, t: &Thread, sig: u32) -> bool {
    let actions = p.sighand.lock();
    if p.pid == 1 && actions.get(sig).handler == Handler::Default && !t.sig.mask.contains(sig) {
        return true;
    }
    actions.drops(sig, t.sig.mask)
}

/// Where a signal goes.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Target {
    Process(Pid),
    Thread(Pid),
}

/// Sends `info` to `target`: the heart of every send (Linux's
/// `send_signal` with `prepare_signal` and `complete_signal`). EAGAIN only
/// for a queued real-time signal that does not fit.
fn send_locked(t: &mut Tables, target: Target, info: &Siginfo) -> Result<(), Errno> {
    let sig = info.signo as u32;
    let (p, first_tid) = match target {
        Target::Process(pid) => {
            let Some(p) = t.procs.get(&pid).cloned() else { return Ok(()) };
            let Some(first) = p.inner.lock().threads.first().copied() else { return Ok(()) };
            (p, first)
        }
        Target::Thread(tid) => match t.threads.get(&tid) {
            Some(th) if th.state != State::Dead => (th.process.clone(), tid),
            _ => return Ok(()),
        },
    };
    if p.is_zombie() {
        return Ok(());
    }
    // prepare_signal: continue and stop signals cancel each other.
    if sig == SIGCONT {
        continue_process(t, &p);
    } else if SigSet::STOP.contains(sig) {
        discard_everywhere(t, &p, SigSet::of(SIGCONT));
    }
    let Some(th) = t.threads.get(&first_tid) else { return Ok(()) };
    if sig == 0 || dropped(&p, th, sig) {
        return Ok(());
    }
    if sig == SIGKILL {
        // Fatal at once, for every thread, even a stopped one.
        kill_process_locked(t, &p, super::exit::signaled(SIGKILL));
        return Ok(());
    }
    match target {
        Target::Thread(tid) => {
            let th = t.threads.get_mut(&tid).ok_or(Errno::ESRCH)?;
            th.sig.pending.post(info)?;
            if !th.sig.mask.contains(sig) {
                mark(th);
            }
        }
        Target::Process(_) => {
            p.signals.lock().shared.post(info)?;
            // complete_signal: the first thread that does not block it.
            let inner = p.inner.lock();
            let chosen =
                inner.threads.iter().find(|tid| t.threads.get(tid).is_some_and(|th| !th.sig.mask.contains(sig)));
            if let Some(th) = chosen.and_then(|tid| t.threads.get_mut(tid)) {
                mark(th);
            }
        }
    }
    Ok(())
}

/// Ends every thread of `p` with `status` (SIGKILL, a fatal signal).
fn kill_process_locked(t: &mut Tables, p: &Process, status: i32) {
    let mut inner = p.inner.lock();
    inner.group_exit.get_or_insert(status);
    for tid in inner.threads.iter() {
        if let Some(th) = t.threads.get_mut(tid) {
            tell_to_exit(th);
        }
    }
}

/// Discards `sigs` from `p`'s shared set and every thread's own.
fn discard_everywhere(t: &mut Tables, p: &Process, sigs: SigSet) {
    p.signals.lock().shared.discard(sigs);
    for tid in p.inner.lock().threads.iter() {
        if let Some(th) = t.threads.get_mut(tid) {
            th.sig.pending.discard(sigs);
        }
    }
}

/// SIGCONT arrived for `p`: pending stop signals go, and a stopped `p`
/// resumes (its parent hears of it: WCONTINUED, SIGCHLD with
/// CLD_CONTINUED).
fn continue_process(t: &mut Tables, p: &Process) {
    discard_everywhere(t, p, SigSet::STOP);
    let was_stopped = {
        let mut s = p.signals.lock();
        let was = s.stopped.take().is_some();
        if was {
            s.cont_unreported = true;
            s.stop_unreported = false;
        }
        was
    };
    if was_stopped {
        for tid in p.inner.lock().threads.iter() {
            if let Some(th) = t.threads.get_mut(tid) {
                recalc_thread(th);
                sched::make_ready_locked(th);
            }
        }
        notify_parent_locked(t, p, code::CLD_CONTINUED, SIGCONT as i32);
    }
}

/// Tells `p`'s parent that `p` stopped or continued: its `wait4` wakes,
/// and it gets SIGCHLD unless its action says SA_NOCLDSTOP.
fn notify_parent_locked(t: &mut Tables, p: &Process, why: i32, status: i32) {
    let ppid = p.inner.lock().ppid;
    let Some(parent) = t.procs.get(&ppid).cloned() else { return };
    parent.child_wait.wake_all_locked(t);
    if parent.sighand.lock().get(SIGCHLD).flags & flags::SA_NOCLDSTOP != 0 {
        return;
    }
    let info = Siginfo::chld(why, SiChld { pid: p.pid as i32, status, ..SiChld::default() });
    let _ = send_locked(t, Target::Process(ppid), &info);
}

/// What a child's parent does with its exit (Linux's `do_notify_parent`):
/// sends the child's exit signal with CLD_EXITED/CLD_KILLED, and says
/// whether the child is reaped at once (the parent ignores SIGCHLD or set
/// SA_NOCLDWAIT) instead of waiting as a zombie.
pub fn notify_parent_of_exit(child: &Process, status: i32) -> bool {
    let mut t = TABLE.lock();
    let (ppid, exit_signal) = {
        let i = child.inner.lock();
        (i.ppid, i.exit_signal)
    };
    let Some(parent) = t.procs.get(&ppid).cloned() else { return false };
    let (ignores, nocldwait) = {
        let a = parent.sighand.lock();
        let act = a.get(SIGCHLD);
        (act.handler == Handler::Ignore, act.flags & flags::SA_NOCLDWAIT != 0)
    };
    let autoreap = exit_signal == SIGCHLD && (ignores || nocldwait);
    if exit_signal != 0 && !(exit_signal == SIGCHLD && ignores) {
        let (why, st) = if status & 0x7f == 0 {
            (code::CLD_EXITED, (status >> 8) & 0xff)
        } else {
            (code::CLD_KILLED, status & 0x7f)
        };
        let mut info = Siginfo::chld(why, SiChld { pid: child.pid as i32, status: st, ..SiChld::default() });
        info.signo = exit_signal as i32;
        let _ = send_locked(&mut t, Target::Process(ppid), &info);
    }
    autoreap
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

/// `kill(pid, sig)`, and `rt_sigqueueinfo` (with `info`) for one process.
pub fn kill(pid: i32, sig: u32, info: Option<Siginfo>) -> Result<(), Errno> {
    if sig > sigset::NSIG {
        return Err(Errno::EINVAL);
    }
    let me = super::process::current_process()?.pid;
    let info = info.unwrap_or_else(|| Siginfo::rt(sig, code::SI_USER, me as i32, 0, 0));
    let mut t = TABLE.lock();
    // A thread's id names its process, as on Linux.
    let pid = match pid {
        p if p > 0 && !t.procs.contains_key(&(p as Pid)) => {
            t.threads.get(&(p as Pid)).filter(|th| th.state != State::Dead).map_or(p, |th| th.pid() as i32)
        }
        p => p,
    };
    let my_pgid = t.procs.get(&me).map_or(0, |p| p.inner.lock().pgid);
    let hit = targets(pid, me, my_pgid);
    let mut chosen = alloc::vec::Vec::new();
    for p in t.procs.values() {
        let (pgid, zombie) = {
            let i = p.inner.lock();
            (i.pgid, i.zombie.is_some())
        };
        // A zombie still exists for kill's purpose (0 and ESRCH).
        if hit(p.pid, pgid) {
            chosen.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            chosen.push((p.pid, zombie));
        }
    }
    if chosen.is_empty() {
        return Err(Errno::ESRCH);
    }
    let mut result = Ok(());
    for (pid, zombie) in chosen {
        if !zombie && sig != 0 {
            if let Err(e) = send_locked(&mut t, Target::Process(pid), &info) {
                result = Err(e);
            }
        }
    }
    result
}

/// `tgkill`/`tkill`/`rt_tgsigqueueinfo`: `sig` for thread `tid` (of
/// process `tgid`, if given).
pub fn kill_thread(tgid: Option<Pid>, tid: Pid, sig: u32, info: Option<Siginfo>) -> Result<(), Errno> {
    if sig > sigset::NSIG {
        return Err(Errno::EINVAL);
    }
    let me = super::process::current_process()?.pid;
    let info = info.unwrap_or_else(|| Siginfo::rt(sig, code::SI_TKILL, me as i32, 0, 0));
    let mut t = TABLE.lock();
    let th = t.threads.get(&tid).filter(|th| th.state != State::Dead);
    th.filter(|th| tgid.is_none_or(|g| th.pid() == g)).ok_or(Errno::ESRCH)?;
    if sig == 0 {
        return Ok(());
    }
    send_locked(&mut t, Target::Thread(tid), &info)
}

/// Sends `sig` to process `pid` from the kernel (the out-of-memory killer,
/// timers, the tty, SIGPIPE): init and zombies are skipped as for `kill`.
pub fn send(pid: Pid, sig: u32) {
    send_info(pid, &Siginfo::rt(sig, code::SI_KERNEL, 0, 0, 0));
}

/// Sends `info` to process `pid` from the kernel.
pub fn send_info(pid: Pid, info: &Siginfo) {
    let mut t = TABLE.lock();
    let _ = send_locked(&mut t, Target::Process(pid), info);
}

/// Sends `info` to thread `tid` of process `pid` from the kernel (a
/// SIGEV_THREAD_ID timer); nothing if that thread is gone.
pub fn send_info_to_thread(pid: Pid, tid: Pid, info: &Siginfo) {
    let mut t = TABLE.lock();
    if t.threads.get(&tid).is_some_and(|th| th.pid() == pid && th.state != State::Dead) {
        let _ = send_locked(&mut t, Target::Thread(tid), info);
    }
}

/// Sends `sig` from the kernel to every process of group `pgid` (the
/// terminal's ^C, ^\ and ^Z): no permission check; init and zombies are
/// left out as for [`send`]. Safe in the interrupt handler: it never
/// allocates.
pub fn send_group(pgid: Pid, sig: u32) {
    if pgid == 0 || !sigset::valid(sig) {
        return;
    }
    let info = Siginfo::rt(sig, code::SI_KERNEL, 0, 0, 0);
    let mut t = TABLE.lock();
    let mut after = 0;
    // One process at a time, in pid order (no list to allocate).
    while let Some(pid) =
        t.procs.range(after + 1..).find(|(_, p)| p.inner.lock().pgid == pgid && !p.is_zombie()).map(|(&pid, _)| pid)
    {
        let _ = send_locked(&mut t, Target::Process(pid), &info);
        after = pid;
    }
}

/// Sends `sig` to the calling thread from the kernel (SIGPIPE).
pub fn send_to_current_thread(sig: u32) {
    let tid = sched::current();
    let mut t = TABLE.lock();
    let _ = send_locked(&mut t, Target::Thread(tid), &Siginfo::rt(sig, code::SI_KERNEL, 0, 0, 0));
}

/// What a fault signal does, decided by [`force_fault`].
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Forced {
    /// A handler will run (at the return to user mode).
    Handled,
    /// The default action ends the process: the caller reports and exits.
    Fatal,
}

/// A fault of the calling thread becomes signal `sig` with `si_code`
/// `code` and address `addr` (`esr`: the syndrome for the frame's
/// esr_context). As Linux's `force_sig_fault`: a blocked or ignored fault
/// signal is unblocked and reset to the default action, which kills.
pub fn force_fault(sig: u32, code_: i32, addr: u64, esr: Option<u64>) -> Forced {
    let tid = sched::current();
    let mut t = TABLE.lock();
    let Some(th) = t.threads.get_mut(&tid) else { return Forced::Fatal };
    let p = th.process.clone();
    let handled = {
        let mut actions = p.sighand.lock();
        let mut act = actions.get(sig);
        let blocked = th.sig.mask.contains(sig);
        if blocked || act.handler == Handler::Ignore {
            act.handler = Handler::Default;
            let mut ignored = Pending::default();
            actions.set(sig, act, &mut ignored);
            th.sig.mask.remove(sig);
        }
        matches!(act.handler, Handler::At(_))
    };
    if !handled {
        return Forced::Fatal;
    }
    if th.sig.pending.post(&Siginfo::fault(sig, code_, addr)).is_err() {
        return Forced::Fatal;
    }
    th.sig.fault = esr.map(|e| (e, addr));
    mark(th);
    Forced::Handled
}

/// A system call's result that asks for a restart, with what the restart
/// needs (the first argument, which the result overwrote).
#[derive(Copy, Clone)]
pub struct Restart {
    pub code: Errno,
    pub orig_x0: u64,
}

/// Linux's internal restart codes: never seen by a program.
pub fn is_restart(e: Errno) -> bool {
    matches!(e, Errno::ERESTARTSYS | Errno::ERESTARTNOINTR | Errno::ERESTARTNOHAND | Errno::ERESTART_RESTARTBLOCK)
}

/// Applies a restart code once it is known whether a handler runs.
fn resolve_restart(frame: &mut TrapFrame, r: Restart, handler_flags: Option<u64>) {
    let restart = match (r.code, handler_flags) {
        (_, None) | (Errno::ERESTARTNOINTR, _) => true,
        (Errno::ERESTARTSYS, Some(f)) => f & flags::SA_RESTART != 0,
        _ => false,
    };
    if restart {
        frame.x[0] = r.orig_x0;
        frame.elr -= 4;
    } else {
        frame.x[0] = crate::errno::encode(Err(Errno::EINTR));
    }
}

/// Acts on the calling thread's pending signals before it returns to user
/// mode (and after a system call that returned a restart code, `restart`).
pub fn deliver(frame: &mut TrapFrame, mut restart: Option<Restart>) {
    if MARKED.load(Ordering::Relaxed) == 0 && restart.is_none() {
        return;
    }
    let tid = sched::current();
    loop {
        // What to do next, decided under the locks.
        let next = {
            let mut t = TABLE.lock();
            let Some(th) = t.threads.get_mut(&tid) else { return };
            if th.must_exit {
                None
            } else if th.process.signals.lock().stopped.is_some() {
                Some(Step::Stop)
            } else {
                Some(dequeue(th))
            }
        };
        match next {
            None => super::exit::exit_thread(0),
            Some(Step::Stop) => wait_while_stopped(tid),
            Some(Step::Nothing) => break,
            Some(Step::Ignore) => {}
            Some(Step::Default(info)) => act_by_default(tid, &info),
            Some(Step::Handle(info, action, fault)) => {
                if let Some(r) = restart.take() {
                    resolve_restart(frame, r, Some(action.flags));
                }
                if setup_frame(frame, &info, &action, fault).is_err() {
                    // No room for the frame: SIGSEGV, which now kills.
                    let _ = force_fault(SIGSEGV, code::SI_KERNEL, 0, None);
                    super::exit::exit_current(super::exit::signaled(SIGSEGV));
                }
                return;
            }
        }
    }
    if let Some(r) = restart {
        resolve_restart(frame, r, None);
    }
    // A saved mask (sigsuspend) comes back if no handler took it over.
    let _ = super::process::with(tid, |th| {
        if let Some(m) = th.sig.saved_mask.take() {
            th.sig.mask = m;
            recalc_thread(th);
        }
    });
}

/// Takes `th`'s next pending signal outside `blocked` (its own first, then
/// its process's shared ones), and recomputes its mark: what delivery and
/// `rt_sigtimedwait` dequeue.
pub fn take_signal(th: &mut Thread, blocked: SigSet) -> Option<Siginfo> {
    let info = match th.sig.pending.take(blocked) {
        Some(i) => Some(i),
        None => th.process.signals.lock().shared.take(blocked),
    };
    recalc_thread(th);
    info
}

/// What [`deliver`] does next.
enum Step {
    Nothing,
    Stop,
    Ignore,
    Default(Siginfo),
    Handle(Siginfo, sigset::SigAction, Option<(u64, u64)>),
}

/// Takes the thread's next signal (its own first, then its process's) and
/// says what it means.
fn dequeue(th: &mut Thread) -> Step {
    let p = th.process.clone();
    let mask = th.sig.mask;
    let Some(info) = take_signal(th, mask) else { return Step::Nothing };
    let sig = info.signo as u32;
    let fault = if SigSet::SYNCHRONOUS.contains(sig) { th.sig.fault.take() } else { None };
    let mut actions = p.sighand.lock();
    let action = actions.get(sig);
    match action.handler {
        Handler::Ignore => Step::Ignore,
        Handler::Default if p.pid == 1 && sig != SIGKILL => Step::Ignore,
        Handler::Default => match default_action(sig) {
            DefaultAction::Ignore | DefaultAction::Continue => Step::Ignore,
            _ => Step::Default(info),
        },
        Handler::At(_) => {
            if action.flags & flags::SA_RESETHAND != 0 {
                let mut none = Pending::default();
                actions.set(sig, sigset::SigAction::default(), &mut none);
            }
            Step::Handle(info, action, fault)
        }
    }
}

/// The default action of a signal that does not just vanish: stop the
/// process, or end it.
fn act_by_default(tid: Pid, info: &Siginfo) {
    let sig = info.signo as u32;
    if default_action(sig) == DefaultAction::Stop {
        let mut t = TABLE.lock();
        let Some(p) = t.threads.get(&tid).map(|th| th.process.clone()) else { return };
        if sig != SIGSTOP && orphaned_group(&t, &p) {
            // POSIX: the terminal stop signals do not stop an orphaned
            // process group (nobody could continue it).
            return;
        }
        {
            let mut s = p.signals.lock();
            s.stopped = Some(sig);
            s.stop_unreported = true;
            s.cont_unreported = false;
        }
        // Every thread stops: the others at their next return to user mode.
        for other in p.inner.lock().threads.iter() {
            if let Some(th) = t.threads.get_mut(other) {
                mark(th);
            }
        }
        notify_parent_locked(&mut t, &p, code::CLD_STOPPED, sig as i32);
        return;
    }
    // No core files are written (RLIMIT_CORE is 0), so the status never
    // has the core bit, as on Linux with that limit.
    super::exit::exit_current(super::exit::signaled(sig))
}

/// Whether `p`'s process group is orphaned: no member has a parent in
/// another group of the same session (Linux's `will_become_orphaned_pgrp`).
fn orphaned_group(t: &Tables, p: &Process) -> bool {
    let pgid = p.inner.lock().pgid;
    !t.procs.values().any(|m| {
        let (ppid, sid) = {
            let i = m.inner.lock();
            if i.pgid != pgid || i.zombie.is_some() {
                return false;
            }
            (i.ppid, i.sid)
        };
        t.procs.get(&ppid).is_some_and(|parent| {
            let pi = parent.inner.lock();
            pi.pgid != pgid && pi.sid == sid
        })
    })
}

/// The calling thread's process is stopped: sleep until it is continued
/// (SIGCONT) or killed.
fn wait_while_stopped(tid: Pid) {
    loop {
        {
            let mut t = TABLE.lock();
            let Some(th) = t.threads.get_mut(&tid) else { return };
            if th.must_exit || th.process.signals.lock().stopped.is_none() {
                recalc_thread(th);
                return;
            }
            th.state = State::Blocked(super::process::Block::Stopped);
        }
        sched::schedule();
    }
}

/// Builds the handler's frame on the user stack and points the registers
/// at the handler (Linux's `setup_rt_frame`). Err: the frame could not be
/// written.
fn setup_frame(
    frame: &mut TrapFrame,
    info: &Siginfo,
    action: &sigset::SigAction,
    fault: Option<(u64, u64)>,
) -> Result<(), ()> {
    use crate::arch::aarch64::context::{self, FpState};
    use sigframe::{FpRegs, FrameInput, UserRegs};
    let tid = sched::current();
    let Handler::At(handler) = action.handler else { return Err(()) };
    let sig = info.signo as u32;
    let (old_mask, altstack) = super::process::with(tid, |th| {
        let old = th.sig.saved_mask.take().unwrap_or(th.sig.mask);
        (old, th.sig.altstack)
    })
    .ok_or(())?;
    let regs = UserRegs::from(&*frame);
    let mut fpstate = FpState::default();
    context::save_fp(&mut fpstate);
    let fp = FpRegs::from(&fpstate);
    let input = FrameInput {
        regs: &regs,
        fp: &fp,
        old_mask: old_mask.0,
        altstack,
        on_stack: action.flags & flags::SA_ONSTACK != 0,
        fault,
        info,
    };
    let mut out = crate::mm::heap::try_box(sigframe::UserFrame::zeroed()).map_err(|_| ())?;
    let at = sigframe::build_frame(&input, &mut out).map_err(|_| ())?;
    // SAFETY: UserFrame is plain data (repr(C), no padding that matters
    // to the reader: it was zeroed first); its bytes are what goes on the
    // user stack.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            &*out as *const sigframe::UserFrame as *const u8,
            core::mem::size_of::<sigframe::UserFrame>(),
        )
    };
    crate::arch::aarch64::uaccess::copy_to_user(at.frame, bytes).map_err(|_| ())?;
    let restorer = if action.flags & flags::SA_RESTORER != 0 { action.restorer } else { super::vdso_sigreturn() };
    let new = sigframe::handler_regs(&regs, &at, sig, handler, restorer, action.flags & flags::SA_SIGINFO != 0);
    new.store(frame);
    // The handler starts with clean FP/SIMD status, as on Linux.
    super::process::with(tid, |th| {
        let mut mask = th.sig.mask.union(action.mask);
        if action.flags & flags::SA_NODEFER == 0 {
            mask.insert(sig);
        }
        th.sig.mask = mask.minus(SigSet::UNBLOCKABLE);
        if at.disarm_altstack {
            th.sig.altstack = AltStack::default();
        }
        recalc_thread(th);
    });
    Ok(())
}

/// `rt_sigreturn`: restores what the frame at the stack pointer saved.
/// A bad frame kills the process with SIGSEGV, as on Linux.
pub fn sigreturn(frame: &mut TrapFrame) -> Result<u64, Errno> {
    use crate::arch::aarch64::context::{self, FpState};
    let restored = (|| {
        let addr = sigframe::sigreturn_frame_addr(frame.sp_el0).ok()?;
        let mut f = crate::mm::heap::try_box(sigframe::RtSigframe::zeroed()).ok()?;
        // SAFETY: RtSigframe is plain data; any byte pattern is a value of
        // it (parse_frame checks what it means).
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(
                &mut *f as *mut sigframe::RtSigframe as *mut u8,
                core::mem::size_of::<sigframe::RtSigframe>(),
            )
        };
        crate::arch::aarch64::uaccess::copy_from_user(bytes, addr).ok()?;
        let r = sigframe::parse_frame(&f).ok()?;
        Some((r, f.uc.uc_stack))
    })();
    let Some((r, stack)) = restored else {
        let pid = super::process::current_process().map_or(0, |p| p.pid);
        log::warn!("pid {pid}: rt_sigreturn with a bad frame at {:#x}; SIGSEGV", frame.sp_el0);
        let _ = force_fault(SIGSEGV, code::SI_KERNEL, 0, None);
        super::exit::exit_current(super::exit::signaled(SIGSEGV));
    };
    r.regs.store(frame);
    let mut fp = FpState::default();
    r.fp.store(&mut fp);
    context::restore_fp(&fp);
    let tid = sched::current();
    super::process::with(tid, |th| {
        th.sig.mask = SigSet(r.mask).blockable();
        // The alternate stack as the frame recorded it (Linux's
        // restore_altstack; an invalid one is ignored here).
        if stack.ss_flags & linux::SS_DISABLE as i32 != 0 {
            th.sig.altstack = AltStack::default();
        } else if stack.ss_size >= linux::MINSIGSTKSZ as u64 && !th.sig.altstack.contains(frame.sp_el0) {
            th.sig.altstack =
                AltStack { sp: stack.ss_sp, size: stack.ss_size, flags: stack.ss_flags as u32 & linux::SS_AUTODISARM };
        }
        recalc_thread(th);
    });
    Ok(frame.x[0])
}

/// Reports for `wait4`: a stop or continue of `p` not reported yet, as a
/// wait status (taken: reported once, unless `keep`: waitid's WNOWAIT).
pub fn take_stop_report(p: &Process, options: u64, keep: bool) -> Option<i32> {
    const WUNTRACED: u64 = linux::WUNTRACED as u64;
    const WCONTINUED: u64 = linux::WCONTINUED as u64;
    let mut s = p.signals.lock();
    if options & WUNTRACED != 0 && s.stop_unreported {
        if let Some(sig) = s.stopped {
            s.stop_unreported = keep;
            return Some(((sig as i32) << 8) | 0x7f);
        }
    }
    if options & WCONTINUED != 0 && s.cont_unreported {
        s.cont_unreported = keep;
        return Some(0xffff);
    }
    None
}
