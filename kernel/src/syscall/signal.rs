//! Signal system calls: actions, masks, waiting for signals, sending them
//! with data, the alternate stack, and the return from a handler. The
//! mechanism behind them is `task/signal.rs`.

use crate::arch::aarch64::exception::TrapFrame;
use crate::arch::aarch64::sigframe::{AltStack, Siginfo, StackT};
use crate::arch::aarch64::uaccess::{copy_to_user, read_user, write_user};
use crate::errno::{Errno, SysResult};
use crate::task::process::{self, Block};
use crate::task::sigset::{self, SigAction, SigSet, UserSigaction};
use crate::task::{sched, signal};

/// The size of the kernel's `sigset_t` on arm64.
const SIGSET_SIZE: u64 = 8;

/// `rt_sigaction(sig, act, oact, sigsetsize)`.
pub fn rt_sigaction(sig: u64, act: u64, oact: u64, sigsetsize: u64) -> SysResult {
    let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
    sigset::check_sigaction(sig, act != 0, sigsetsize)?;
    let new: Option<SigAction> = match act {
        0 => None,
        a => Some(read_user::<UserSigaction>(a).map_err(|_| Errno::EFAULT)?.into()),
    };
    let p = process::current_process()?;
    // Locks in their order: table, then the process's signals and actions.
    let mut t = process::TABLE.lock();
    let (old, now_ignored) = {
        let mut signals = p.signals.lock();
        let mut actions = p.sighand.lock();
        let old = actions.get(sig);
        match new {
            Some(new) => {
                actions.set(sig, new, &mut signals.shared);
                (old, actions.ignores(sig))
            }
            None => (old, false),
        }
    };
    if now_ignored {
        // Pending instances go from every thread too.
        for tid in p.inner.lock().threads.iter() {
            if let Some(th) = t.threads.get_mut(tid) {
                th.sig.pending.discard(SigSet::of(sig));
                signal::recalc_thread(th);
            }
        }
    }
    drop(t);
    if oact != 0 {
        write_user(oact, &UserSigaction::from(old)).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`.
pub fn rt_sigprocmask(how: u64, set: u64, oldset: u64, sigsetsize: u64) -> SysResult {
    const SIG_BLOCK: u64 = 0;
    const SIG_UNBLOCK: u64 = 1;
    const SIG_SETMASK: u64 = 2;
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new: Option<SigSet> = match set {
        0 => None,
        s => Some(SigSet(read_user::<u64>(s).map_err(|_| Errno::EFAULT)?)),
    };
    if new.is_some() && how > SIG_SETMASK {
        return Err(Errno::EINVAL);
    }
    let old = process::with_current(|t| {
        let old = t.sig.mask;
        if let Some(n) = new {
            t.sig.mask = match how {
                SIG_BLOCK => old.union(n),
                SIG_UNBLOCK => old.minus(n),
                _ => n,
            }
            .blockable();
            signal::recalc_thread(t);
        }
        old
    })?;
    if oldset != 0 {
        write_user(oldset, &old.0).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

/// `rt_sigpending(set, sigsetsize)`: the pending signals that are blocked.
pub fn rt_sigpending(set: u64, sigsetsize: u64) -> SysResult {
    if sigsetsize > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let pending = process::with_current(|t| {
        let shared = t.process.signals.lock().shared.set();
        t.sig.pending.set().union(shared).0 & t.sig.mask.0
    })?;
    copy_to_user(set, &pending.to_le_bytes()[..sigsetsize as usize]).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

/// Reads a `sigset_t` argument whose size must be 8.
fn read_set(set: u64, sigsetsize: u64) -> Result<SigSet, Errno> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    Ok(SigSet(read_user::<u64>(set).map_err(|_| Errno::EFAULT)?))
}

/// `rt_sigsuspend(mask, sigsetsize)`: waits with `mask` for a signal that
/// runs a handler; the old mask comes back after it (the handler's frame
/// saves it). Always "fails" (EINTR).
pub fn rt_sigsuspend(set: u64, sigsetsize: u64) -> SysResult {
    let mask = read_set(set, sigsetsize)?;
    process::with_current(|t| {
        t.sig.saved_mask = Some(t.sig.mask);
        t.sig.mask = mask.blockable();
        signal::recalc_thread(t);
    })?;
    while sched::block(Block::Sleep(u64::MAX)).is_ok() {}
    Err(Errno::ERESTARTNOHAND)
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a pending
/// signal of `set` (waiting for one, up to `timeout`), without running its
/// handler; returns its number and writes its siginfo.
pub fn rt_sigtimedwait(set: u64, info: u64, timeout: u64, sigsetsize: u64) -> SysResult {
    let wanted = read_set(set, sigsetsize)?.blockable();
    let deadline = match timeout {
        0 => None,
        ts => Some(crate::arch::aarch64::timer::uptime_ns().saturating_add(super::misc::read_timespec_ns(ts)?)),
    };
    let not_wanted = SigSet(!wanted.0);
    let take = || process::with_current(|t| signal::take_signal(t, not_wanted));
    let mut got = take()?;
    if got.is_none() {
        // Wait with the wanted signals unblocked, then take one.
        let saved = process::with_current(|t| {
            let saved = t.sig.mask;
            t.sig.mask = t.sig.mask.minus(wanted);
            signal::recalc_thread(t);
            saved
        })?;
        loop {
            let now = crate::arch::aarch64::timer::uptime_ns();
            if deadline.is_some_and(|d| now >= d) {
                break;
            }
            let until = deadline.unwrap_or(u64::MAX);
            if sched::block(Block::Sleep(until)).is_err() {
                break;
            }
        }
        process::with_current(|t| {
            t.sig.mask = saved;
            signal::recalc_thread(t);
        })?;
        got = take()?;
        if got.is_none() {
            let timed_out = deadline.is_some_and(|d| crate::arch::aarch64::timer::uptime_ns() >= d);
            return Err(if timed_out { Errno::EAGAIN } else { Errno::EINTR });
        }
    }
    let i = got.ok_or(Errno::EAGAIN)?;
    if info != 0 {
        write_user(info, &i).map_err(|_| Errno::EFAULT)?;
    }
    Ok(i.signo as u64)
}

/// Reads a `siginfo_t` a program sends with `rt_(tg)sigqueueinfo`: it may
/// not pose as the kernel or as `kill`/`tkill` to another process (EPERM).
fn queued_info(sig: u32, uinfo: u64, to_self: bool) -> Result<Siginfo, Errno> {
    let mut info: Siginfo = read_user(uinfo).map_err(|_| Errno::EFAULT)?;
    if (info.code >= 0 || info.code == signal::code::SI_TKILL) && !to_self {
        return Err(Errno::EPERM);
    }
    info.signo = sig as i32;
    Ok(info)
}

/// `rt_sigqueueinfo(pid, sig, info)`.
pub fn rt_sigqueueinfo(pid: u64, sig: u64, uinfo: u64) -> SysResult {
    let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
    let pid = pid as i32;
    let me = process::current_process()?.pid;
    let info = queued_info(sig, uinfo, pid as u32 == me)?;
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    signal::kill(pid, sig, Some(info))?;
    Ok(0)
}

/// `rt_tgsigqueueinfo(tgid, tid, sig, info)`.
pub fn rt_tgsigqueueinfo(tgid: u64, tid: u64, sig: u64, uinfo: u64) -> SysResult {
    let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
    let (tgid, tid) = (tgid as i32, tid as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let me = process::current_process()?.pid;
    let info = queued_info(sig, uinfo, tgid as u32 == me)?;
    signal::kill_thread(Some(tgid as u32), tid as u32, sig, Some(info))?;
    Ok(0)
}

/// `sigaltstack(ss, old_ss)`, as Linux's `do_sigaltstack`.
pub fn sigaltstack(frame: &TrapFrame, ss: u64, old: u64) -> SysResult {
    use linux_raw_sys::general::{MINSIGSTKSZ, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
    let new: Option<StackT> = match ss {
        0 => None,
        a => Some(read_user(a).map_err(|_| Errno::EFAULT)?),
    };
    let sp = frame.sp_el0;
    let cur = process::with_current(|t| t.sig.altstack)?;
    if let Some(n) = new {
        if cur.contains(sp) {
            return Err(Errno::EPERM);
        }
        let mode = n.ss_flags as u32 & !SS_AUTODISARM;
        if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
            return Err(Errno::EINVAL);
        }
        let alt = if mode == SS_DISABLE {
            AltStack::default()
        } else {
            if n.ss_size < MINSIGSTKSZ as u64 {
                return Err(Errno::ENOMEM);
            }
            AltStack { sp: n.ss_sp, size: n.ss_size, flags: n.ss_flags as u32 & SS_AUTODISARM }
        };
        process::with_current(|t| t.sig.altstack = alt)?;
    }
    if old != 0 {
        let o = StackT { ss_sp: cur.sp, ss_flags: (cur.ss_flags(sp) | cur.flags) as i32, _pad: 0, ss_size: cur.size };
        write_user(old, &o).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

/// `rt_sigreturn()`: back from a handler.
pub fn rt_sigreturn(frame: &mut TrapFrame) -> SysResult {
    signal::sigreturn(frame)
}
