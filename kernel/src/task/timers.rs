//! Interval timers (`setitimer`, `getitimer`) and POSIX timers
//! (`timer_create` and friends): deadlines kept per process that send a
//! signal when they pass, fired from the timer tick.
//!
//! Each process may have the three interval timers Linux has — ITIMER_REAL
//! (SIGALRM, in real time; glibc's `alarm` is built on it), ITIMER_VIRTUAL
//! (SIGVTALRM) and ITIMER_PROF (SIGPROF), the last two counting down the
//! ticks the process's threads run (armmap does not tell user from kernel
//! time at the tick, so both count all of it) — and up to [`TIMER_MAX`] POSIX
//! timers on CLOCK_MONOTONIC, CLOCK_REALTIME or CLOCK_BOOTTIME (all three
//! are the one counter `clock_gettime` reads), each sending its signal
//! (SIGEV_SIGNAL, SIGEV_THREAD as the kernel sees it, or SIGEV_THREAD_ID
//! to one of the process's threads) or nothing (SIGEV_NONE). Expirations that fall between two ticks (the tick is
//! 10 ms) make one signal, counted as overruns (`timer_getoverrun`,
//! `si_overrun`).
//!
//! Cost: the tick compares the time with a cached earliest deadline and a
//! count of armed CPU-time timers, and takes the registry's lock only when
//! a deadline has passed or a CPU-time timer runs: O(1) when nothing is
//! due. Signals are sent after the lock is released, through one function,
//! [`fire`], which receives the siginfo Linux would queue.
//!
//! Lifetimes follow Linux: a process's timers go when it exits; exec
//! deletes its POSIX timers and keeps its interval timers; fork gives the
//! child none. The registry's memory is reserved before it grows and is
//! bounded by the number of processes and [`TIMER_MAX`].
//!
//! The registry ([`Timers`]) is plain data driven with explicit times, so
//! it is unit-tested on the host; the global instance and the tick hook
//! are at the bottom.

/// A process id (`process::Pid`).
pub type Pid = u32;

use crate::arch::aarch64::sigframe::Siginfo;
use crate::errno::Errno;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use linux_raw_sys::general as linux;

const NS_PER_SEC: u64 = 1_000_000_000;

/// The tick's period (`timer::HZ` is 100): what a process is charged for
/// each tick it runs.
pub const TICK_NS: u64 = 10_000_000;
#[cfg(target_os = "none")]
const _: () = assert!(TICK_NS == NS_PER_SEC / crate::arch::aarch64::timer::HZ);

/// POSIX timers a process may have (more: EAGAIN, as Linux says when its
/// per-process signal-queue budget is spent).
pub const TIMER_MAX: usize = 64;

/// The largest overrun count reported (Linux's DELAYTIMER_MAX).
pub const DELAYTIMER_MAX: u64 = i32::MAX as u64;

/// `struct timeval` (the 64-bit one `setitimer` uses).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

/// `struct itimerval`.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct Itimerval {
    pub interval: Timeval,
    pub value: Timeval,
}

/// `struct timespec`.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

/// `struct itimerspec`.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct Itimerspec {
    pub interval: Timespec,
    pub value: Timespec,
}

/// `struct sigevent` (64 bytes): `sigev_value`, `sigev_signo`,
/// `sigev_notify`, then a union whose first int is the thread id for
/// SIGEV_THREAD_ID.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct Sigevent {
    pub value: u64,
    pub signo: i32,
    pub notify: i32,
    pub tid: i32,
    pub _pad: [i32; 11],
}

impl Timeval {
    /// Nanoseconds, if valid (`tv_sec >= 0`, `0 <= tv_usec < 10^6`).
    pub fn to_ns(self) -> Option<u64> {
        if self.sec < 0 || !(0..1_000_000).contains(&self.usec) {
            return None;
        }
        Some((self.sec as u64).saturating_mul(NS_PER_SEC).saturating_add(self.usec as u64 * 1000))
    }

    pub fn from_ns(ns: u64) -> Timeval {
        Timeval { sec: (ns / NS_PER_SEC) as i64, usec: ((ns % NS_PER_SEC) / 1000) as i64 }
    }
}

impl Timespec {
    /// Nanoseconds, if valid (`tv_sec >= 0`, `0 <= tv_nsec < 10^9`).
    pub fn to_ns(self) -> Option<u64> {
        if self.sec < 0 || !(0..NS_PER_SEC as i64).contains(&self.nsec) {
            return None;
        }
        Some((self.sec as u64).saturating_mul(NS_PER_SEC).saturating_add(self.nsec as u64))
    }

    pub fn from_ns(ns: u64) -> Timespec {
        Timespec { sec: (ns / NS_PER_SEC) as i64, nsec: (ns % NS_PER_SEC) as i64 }
    }
}

/// Which interval timer (`setitimer`'s `which`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Which {
    Real,
    Virtual,
    Prof,
}

impl Which {
    /// EINVAL for anything but ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF.
    pub fn from_user(which: u64) -> Result<Which, Errno> {
        match which {
            w if w == linux::ITIMER_REAL as u64 => Ok(Which::Real),
            w if w == linux::ITIMER_VIRTUAL as u64 => Ok(Which::Virtual),
            w if w == linux::ITIMER_PROF as u64 => Ok(Which::Prof),
            _ => Err(Errno::EINVAL),
        }
    }

    fn signal(self) -> u32 {
        match self {
            Which::Real => linux::SIGALRM,
            Which::Virtual => linux::SIGVTALRM,
            Which::Prof => linux::SIGPROF,
        }
    }
}

/// An interval timer: for ITIMER_REAL `left` is the deadline (absolute
/// nanoseconds), for the CPU-time ones the running time left; `None` off.
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
struct ITimer {
    left: Option<u64>,
    interval: u64,
}

/// What a POSIX timer does when it expires.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Notify {
    /// The signal, for the process or (SIGEV_THREAD_ID) one of its threads.
    Signal(u32, Option<Pid>),
    Nothing,
}

/// A POSIX timer. Invariant: `id`s are unique within a process.
#[derive(Copy, Clone, Debug)]
struct PosixTimer {
    id: i32,
    notify: Notify,
    /// `sigev_value`, passed in the siginfo.
    value: u64,
    /// The next expiry (absolute nanoseconds); `None`: disarmed.
    due: Option<u64>,
    interval: u64,
    /// Overruns of the last expiry signalled.
    overrun: u64,
}

/// One process's timers.
#[derive(Debug)]
struct ProcTimers {
    pid: Pid,
    real: ITimer,
    virt: ITimer,
    prof: ITimer,
    posix: Vec<PosixTimer>,
}

impl ProcTimers {
    fn itimer(&mut self, w: Which) -> &mut ITimer {
        match w {
            Which::Real => &mut self.real,
            Which::Virtual => &mut self.virt,
            Which::Prof => &mut self.prof,
        }
    }

    fn idle(&self) -> bool {
        self.real.left.is_none() && self.virt.left.is_none() && self.prof.left.is_none() && self.posix.is_empty()
    }
}

/// A signal a timer sends.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fire {
    pub pid: Pid,
    /// The thread it is for (SIGEV_THREAD_ID), else the whole process.
    pub thread: Option<Pid>,
    pub signo: u32,
    /// For a POSIX timer: its id, overrun and `sigev_value`.
    pub posix: Option<(i32, u64, u64)>,
}

impl Fire {
    /// The siginfo Linux queues: SI_TIMER with the timer's id, overrun and
    /// value for a POSIX timer, SI_KERNEL for an interval timer.
    pub fn siginfo(&self) -> Siginfo {
        match self.posix {
            Some((id, overrun, value)) => Siginfo::timer(self.signo, id, overrun as i32, value),
            None => Siginfo::rt(self.signo, linux::SI_KERNEL as i32, 0, 0, 0),
        }
    }
}

/// The signals one tick sends; expiries past its capacity wait for the next
/// tick (their deadlines stay passed).
pub struct Fires {
    list: [Option<Fire>; Fires::CAPACITY],
    len: usize,
}

impl Default for Fires {
    fn default() -> Self {
        Fires { list: [None; Fires::CAPACITY], len: 0 }
    }
}

impl Fires {
    pub const CAPACITY: usize = 16;

    fn full(&self) -> bool {
        self.len == Self::CAPACITY
    }

    fn push(&mut self, f: Fire) {
        if self.len < Self::CAPACITY {
            self.list[self.len] = Some(f);
            self.len += 1;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Fire> {
        self.list[..self.len].iter().flatten()
    }
}

/// Every process's timers.
#[derive(Default, Debug)]
pub struct Timers {
    procs: Vec<ProcTimers>,
}

/// Expirations of a timer due at `due` with period `interval` by `now`
/// (at least one), and the next deadline (None for a one-shot).
fn expirations(due: u64, interval: u64, now: u64) -> (u64, Option<u64>) {
    if interval == 0 {
        return (1, None);
    }
    let n = (now - due) / interval + 1;
    (n, Some(due.saturating_add(n.saturating_mul(interval))))
}

impl Timers {
    pub const fn new() -> Self {
        Timers { procs: Vec::new() }
    }

    fn find(&mut self, pid: Pid) -> Option<&mut ProcTimers> {
        self.procs.iter_mut().find(|p| p.pid == pid)
    }

    /// `pid`'s entry, made if needed (ENOMEM without memory for it).
    fn entry(&mut self, pid: Pid) -> Result<&mut ProcTimers, Errno> {
        let at = match self.procs.iter().position(|p| p.pid == pid) {
            Some(at) => at,
            None => {
                if !crate::mm::kernel_has_room() {
                    return Err(Errno::ENOMEM);
                }
                self.procs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                self.procs.push(ProcTimers {
                    pid,
                    real: ITimer::default(),
                    virt: ITimer::default(),
                    prof: ITimer::default(),
                    posix: Vec::new(),
                });
                self.procs.len() - 1
            }
        };
        Ok(&mut self.procs[at])
    }

    /// Drops entries that hold nothing.
    fn prune(&mut self) {
        self.procs.retain(|p| !p.idle());
    }

    /// `getitimer(which)` at time `now`.
    pub fn getitimer(&mut self, pid: Pid, which: Which, now: u64) -> Itimerval {
        let Some(p) = self.find(pid) else { return Itimerval::default() };
        let t = *p.itimer(which);
        let left = match (which, t.left) {
            (_, None) => 0,
            // A passed deadline whose tick has not come yet: Linux reports
            // the smallest time left rather than a disarmed timer.
            (Which::Real, Some(due)) => due.saturating_sub(now).max(1000),
            (_, Some(left)) => left,
        };
        Itimerval { interval: Timeval::from_ns(t.interval), value: Timeval::from_ns(left) }
    }

    /// `setitimer(which, new)` at time `now`; returns the old setting. A
    /// zero value disarms. EINVAL for an invalid timeval.
    pub fn setitimer(&mut self, pid: Pid, which: Which, new: &Itimerval, now: u64) -> Result<Itimerval, Errno> {
        let value = new.value.to_ns().ok_or(Errno::EINVAL)?;
        let interval = new.interval.to_ns().ok_or(Errno::EINVAL)?;
        let old = self.getitimer(pid, which, now);
        if value == 0 && self.find(pid).is_none() {
            return Ok(old);
        }
        let t = self.entry(pid)?.itimer(which);
        t.interval = interval;
        t.left = match (value, which) {
            (0, _) => None,
            (v, Which::Real) => Some(now.saturating_add(v)),
            // Linux adds a tick, so that at least the time asked for runs.
            (v, _) => Some(v.saturating_add(TICK_NS)),
        };
        self.prune();
        Ok(old)
    }

    /// [`Timers::create_with`] for a process whose only thread is `pid`.
    pub fn create(&mut self, pid: Pid, clock: u64, sev: Option<&Sigevent>) -> Result<i32, Errno> {
        self.create_with(pid, clock, sev, &|tid| tid == pid)
    }

    /// `timer_create(clock, sevp)`: the new timer's id (the lowest free).
    /// `sev` is None for a null `sevp` (SIGALRM, value = the id);
    /// `own_thread` says whether a SIGEV_THREAD_ID target is a thread of
    /// process `pid` (Linux's `good_sigevent`).
    pub fn create_with(
        &mut self,
        pid: Pid,
        clock: u64,
        sev: Option<&Sigevent>,
        own_thread: &dyn Fn(Pid) -> bool,
    ) -> Result<i32, Errno> {
        match clock {
            c if c == linux::CLOCK_REALTIME as u64
                || c == linux::CLOCK_MONOTONIC as u64
                || c == linux::CLOCK_BOOTTIME as u64 => {}
            // Linux has these clocks but no timers on them.
            c if c == linux::CLOCK_MONOTONIC_RAW as u64
                || c == linux::CLOCK_REALTIME_COARSE as u64
                || c == linux::CLOCK_MONOTONIC_COARSE as u64 =>
            {
                return Err(Errno::EOPNOTSUPP)
            }
            _ => return Err(Errno::EINVAL),
        }
        let notify = match sev {
            None => Notify::Signal(linux::SIGALRM, None),
            Some(s) => {
                let n = s.notify as u32;
                let signal = linux::SIGEV_SIGNAL;
                let with_tid = linux::SIGEV_SIGNAL | linux::SIGEV_THREAD_ID;
                if n == with_tid && (s.tid <= 0 || !own_thread(s.tid as Pid)) {
                    return Err(Errno::EINVAL);
                }
                if n == linux::SIGEV_NONE {
                    Notify::Nothing
                } else if n == signal || n == linux::SIGEV_THREAD || n == with_tid {
                    if s.signo <= 0 || s.signo as u32 > super::sigset::NSIG {
                        return Err(Errno::EINVAL);
                    }
                    Notify::Signal(s.signo as u32, (n == with_tid).then_some(s.tid as Pid))
                } else {
                    return Err(Errno::EINVAL);
                }
            }
        };
        let p = self.entry(pid)?;
        if p.posix.len() >= TIMER_MAX || !crate::mm::kernel_has_room() || p.posix.try_reserve(1).is_err() {
            self.prune();
            return Err(Errno::EAGAIN);
        }
        let id = (0..).find(|id| !p.posix.iter().any(|t| t.id == *id)).unwrap_or(0);
        let value = sev.map_or(id as u64, |s| s.value);
        p.posix.push(PosixTimer { id, notify, value, due: None, interval: 0, overrun: 0 });
        Ok(id)
    }

    fn posix(&mut self, pid: Pid, id: i32) -> Result<&mut PosixTimer, Errno> {
        self.find(pid).and_then(|p| p.posix.iter_mut().find(|t| t.id == id)).ok_or(Errno::EINVAL)
    }

    /// `timer_gettime(id)` at `now`.
    pub fn gettime(&mut self, pid: Pid, id: i32, now: u64) -> Result<Itimerspec, Errno> {
        let t = self.posix(pid, id)?;
        let left = match t.due {
            None => 0,
            Some(due) if due > now => due - now,
            // Passed, its tick not come yet: a signalling timer still looks
            // armed (Linux reports 1 ns); a SIGEV_NONE one is moved on.
            Some(due) => match t.notify {
                Notify::Signal(..) => 1,
                Notify::Nothing => {
                    let (_, next) = expirations(due, t.interval, now);
                    t.due = next;
                    next.map_or(0, |n| n - now)
                }
            },
        };
        Ok(Itimerspec { interval: Timespec::from_ns(t.interval), value: Timespec::from_ns(left) })
    }

    /// `timer_settime(id, flags, new)` at `now`; returns the old setting.
    /// TIMER_ABSTIME makes the value a time on the timer's clock; a zero
    /// value disarms. EINVAL for a bad timespec or id.
    pub fn settime(&mut self, pid: Pid, id: i32, flags: u64, new: &Itimerspec, now: u64) -> Result<Itimerspec, Errno> {
        let value = new.value.to_ns().ok_or(Errno::EINVAL)?;
        let interval = new.interval.to_ns().ok_or(Errno::EINVAL)?;
        let old = self.gettime(pid, id, now)?;
        let t = self.posix(pid, id)?;
        t.overrun = 0;
        t.interval = interval;
        t.due = match value {
            0 => None,
            v if flags & linux::TIMER_ABSTIME as u64 != 0 => Some(v),
            v => Some(now.saturating_add(v)),
        };
        Ok(old)
    }

    /// `timer_getoverrun(id)`.
    pub fn getoverrun(&mut self, pid: Pid, id: i32) -> Result<i32, Errno> {
        Ok(self.posix(pid, id)?.overrun.min(DELAYTIMER_MAX) as i32)
    }

    /// `timer_delete(id)`.
    pub fn delete(&mut self, pid: Pid, id: i32) -> Result<(), Errno> {
        let p = self.find(pid).ok_or(Errno::EINVAL)?;
        let at = p.posix.iter().position(|t| t.id == id).ok_or(Errno::EINVAL)?;
        p.posix.remove(at);
        self.prune();
        Ok(())
    }

    /// At exec: the POSIX timers go, the interval timers stay.
    pub fn exec(&mut self, pid: Pid) {
        if let Some(p) = self.find(pid) {
            p.posix = Vec::new();
        }
        self.prune();
    }

    /// At exit: everything goes.
    pub fn exit(&mut self, pid: Pid) {
        self.procs.retain(|p| p.pid != pid);
    }

    /// The earliest real-time deadline (u64::MAX if none).
    pub fn next_due(&self) -> u64 {
        let posix = |p: &ProcTimers| p.posix.iter().filter_map(|t| t.due).min();
        self.procs.iter().filter_map(|p| [p.real.left, posix(p)].into_iter().flatten().min()).min().unwrap_or(u64::MAX)
    }

    /// How many processes have a CPU-time timer running.
    pub fn cpu_armed(&self) -> usize {
        self.procs.iter().filter(|p| p.virt.left.is_some() || p.prof.left.is_some()).count()
    }

    /// The tick at `now`: process `current` ran for `ran` nanoseconds.
    /// Expired timers are reloaded or disarmed and their signals added to
    /// `out`.
    pub fn expire(&mut self, now: u64, current: Pid, ran: u64, out: &mut Fires) {
        for p in self.procs.iter_mut() {
            let pid = p.pid;
            if let Some(due) = p.real.left.filter(|&d| d <= now) {
                if out.full() {
                    return;
                }
                // Linux forwards an interval timer past now; the
                // expirations in between are not counted.
                p.real.left = expirations(due, p.real.interval, now).1;
                out.push(Fire { pid, thread: None, signo: Which::Real.signal(), posix: None });
            }
            if pid == current {
                for w in [Which::Virtual, Which::Prof] {
                    let t = p.itimer(w);
                    let Some(left) = t.left else { continue };
                    if left > ran {
                        t.left = Some(left - ran);
                    } else if !out.full() {
                        t.left = (t.interval > 0).then_some(t.interval);
                        out.push(Fire { pid, thread: None, signo: w.signal(), posix: None });
                    }
                }
            }
            for t in p.posix.iter_mut() {
                let Some(due) = t.due.filter(|&d| d <= now) else { continue };
                if out.full() {
                    return;
                }
                let (n, next) = expirations(due, t.interval, now);
                t.due = next;
                if let Notify::Signal(signo, thread) = t.notify {
                    t.overrun = n - 1;
                    out.push(Fire { pid, thread, signo, posix: Some((t.id, t.overrun.min(DELAYTIMER_MAX), t.value)) });
                }
            }
        }
        self.prune();
    }
}

/// The registry.
static TIMERS: spin::Mutex<Timers> = spin::Mutex::new(Timers::new());
/// [`Timers::next_due`], kept after every change: the tick's O(1) test.
static NEXT_DUE: AtomicU64 = AtomicU64::new(u64::MAX);
/// [`Timers::cpu_armed`], likewise.
static CPU_ARMED: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on the registry and refreshes the tick's caches.
pub fn with<R>(f: impl FnOnce(&mut Timers) -> R) -> R {
    let mut t = TIMERS.lock();
    let r = f(&mut t);
    NEXT_DUE.store(t.next_due(), Ordering::Relaxed);
    CPU_ARMED.store(t.cpu_armed(), Ordering::Relaxed);
    r
}

/// The timer tick at `now`: `current` has run for `ran` nanoseconds since
/// the last one. Returns the signals to send (see `tick` on the target),
/// or None at once, without the lock, when no deadline has passed and no
/// CPU-time timer runs.
pub fn expire_due(now: u64, current: Pid, ran: u64) -> Option<Fires> {
    let cpu = current != 0 && CPU_ARMED.load(Ordering::Relaxed) != 0;
    if now < NEXT_DUE.load(Ordering::Relaxed) && !cpu {
        return None;
    }
    let mut out = Fires::default();
    with(|t| t.expire(now, current, ran, &mut out));
    Some(out)
}

/// Sends a timer's signal with its siginfo: to process `pid`, or to its
/// thread `thread` (SIGEV_THREAD_ID; dropped if that thread is gone, as
/// on Linux).
#[cfg(target_os = "none")]
pub fn fire(pid: Pid, thread: Option<Pid>, info: &Siginfo) {
    match thread {
        Some(tid) => super::signal::send_info_to_thread(pid, tid, info),
        None => super::signal::send_info(pid, info),
    }
}

/// Called from the scheduler's tick with the lock on the process table
/// released. The CPU-time timers are charged to the running thread's
/// process (looked up only while one runs somewhere).
#[cfg(target_os = "none")]
pub fn tick(now: u64) {
    let tid = super::sched::current();
    let pid = if tid != 0 && CPU_ARMED.load(Ordering::Relaxed) != 0 {
        super::process::with(tid, |t| t.pid()).unwrap_or(0)
    } else {
        0
    };
    let Some(fires) = expire_due(now, pid, TICK_NS) else { return };
    for f in fires.iter() {
        fire(f.pid, f.thread, &f.siginfo());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn itv(value_ms: u64, interval_ms: u64) -> Itimerval {
        Itimerval { interval: Timeval::from_ns(interval_ms * MS), value: Timeval::from_ns(value_ms * MS) }
    }

    fn its(value_ns: u64, interval_ns: u64) -> Itimerspec {
        Itimerspec { interval: Timespec::from_ns(interval_ns), value: Timespec::from_ns(value_ns) }
    }

    fn fires(t: &mut Timers, now: u64, cur: Pid) -> Vec<Fire> {
        let mut out = Fires::default();
        t.expire(now, cur, 10 * MS, &mut out);
        out.iter().copied().collect()
    }

    #[test]
    fn layouts() {
        use core::mem::size_of;
        assert_eq!(size_of::<Timeval>(), 16);
        assert_eq!(size_of::<Itimerval>(), 32);
        assert_eq!(size_of::<Itimerspec>(), 32);
        assert_eq!(size_of::<Sigevent>(), 64);
        assert_eq!(core::mem::offset_of!(Sigevent, signo), 8);
        assert_eq!(core::mem::offset_of!(Sigevent, notify), 12);
        assert_eq!(core::mem::offset_of!(Sigevent, tid), 16);
    }

    #[test]
    fn itimer_real_fires_reloads_and_reports_time_left() {
        let mut t = Timers::new();
        assert_eq!(t.setitimer(5, Which::Real, &itv(50, 20), 1000 * MS), Ok(Itimerval::default()));
        assert_eq!(t.getitimer(5, Which::Real, 1010 * MS), itv(40, 20));
        assert_eq!(t.next_due(), 1050 * MS);
        assert!(fires(&mut t, 1049 * MS, 0).is_empty());
        let f = fires(&mut t, 1050 * MS, 0);
        assert_eq!(f, [Fire { pid: 5, thread: None, signo: linux::SIGALRM, posix: None }]);
        assert_eq!(f[0].siginfo().code, linux::SI_KERNEL as i32);
        assert_eq!(t.next_due(), 1070 * MS);
        // Late by more than a period: the next deadline is after now.
        assert_eq!(fires(&mut t, 1115 * MS, 0).len(), 1);
        assert_eq!(t.getitimer(5, Which::Real, 1115 * MS), itv(15, 20));
        // Disarm returns the old value; the entry goes.
        assert_eq!(t.setitimer(5, Which::Real, &itv(0, 0), 1120 * MS), Ok(itv(10, 20)));
        assert_eq!(t.next_due(), u64::MAX);
        assert!(t.procs.is_empty());
        // A one-shot fires once.
        t.setitimer(5, Which::Real, &itv(5, 0), 0).unwrap();
        assert_eq!(fires(&mut t, 10 * MS, 0).len(), 1);
        assert!(fires(&mut t, 20 * MS, 0).is_empty());
        assert_eq!(t.getitimer(5, Which::Real, 20 * MS), Itimerval::default());
    }

    #[test]
    fn itimer_checks() {
        let mut t = Timers::new();
        assert_eq!(Which::from_user(3), Err(Errno::EINVAL));
        assert_eq!(Which::from_user(2), Ok(Which::Prof));
        let bad = Itimerval { value: Timeval { sec: 0, usec: 1_000_000 }, ..Default::default() };
        assert_eq!(t.setitimer(1, Which::Real, &bad, 0), Err(Errno::EINVAL));
        let neg = Itimerval { interval: Timeval { sec: -1, usec: 0 }, ..Default::default() };
        assert_eq!(t.setitimer(1, Which::Real, &neg, 0), Err(Errno::EINVAL));
        assert_eq!(t.getitimer(1, Which::Virtual, 0), Itimerval::default());
    }

    #[test]
    fn cpu_timers_count_only_the_running_process() {
        let mut t = Timers::new();
        t.setitimer(3, Which::Virtual, &itv(25, 0), 0).unwrap();
        t.setitimer(3, Which::Prof, &itv(15, 15), 0).unwrap();
        assert_eq!(t.cpu_armed(), 1);
        // Set values get a tick more, as on Linux.
        assert!(fires(&mut t, 10 * MS, 4).is_empty());
        assert_eq!(t.getitimer(3, Which::Virtual, 0), itv(35, 0));
        assert!(fires(&mut t, 20 * MS, 3).is_empty());
        assert!(fires(&mut t, 30 * MS, 3).is_empty());
        let f = fires(&mut t, 40 * MS, 3);
        assert_eq!(f, [Fire { pid: 3, thread: None, signo: linux::SIGPROF, posix: None }]);
        assert_eq!(t.getitimer(3, Which::Prof, 0), itv(15, 15));
        let f = fires(&mut t, 50 * MS, 3);
        assert_eq!(f, [Fire { pid: 3, thread: None, signo: linux::SIGVTALRM, posix: None }]);
        assert_eq!(t.getitimer(3, Which::Virtual, 0), Itimerval::default());
    }

    #[test]
    fn posix_timers_create_set_get_delete_and_errors() {
        let mut t = Timers::new();
        assert_eq!(t.create(7, 99, None), Err(Errno::EINVAL));
        assert_eq!(t.create(7, linux::CLOCK_MONOTONIC_RAW as u64, None), Err(Errno::EOPNOTSUPP));
        let bad_notify = Sigevent { notify: 3, signo: 10, ..Default::default() };
        assert_eq!(t.create(7, 1, Some(&bad_notify)), Err(Errno::EINVAL));
        let bad_signo = Sigevent { notify: 0, signo: 65, ..Default::default() };
        assert_eq!(t.create(7, 1, Some(&bad_signo)), Err(Errno::EINVAL));
        let other_thread = Sigevent { notify: 4, signo: 10, tid: 8, ..Default::default() };
        assert_eq!(t.create(7, 1, Some(&other_thread)), Err(Errno::EINVAL));
        assert!(t.procs.is_empty());
        let own_thread = Sigevent { notify: 4, signo: 10, tid: 7, ..Default::default() };
        assert_eq!(t.create(7, 1, Some(&own_thread)), Ok(0));
        assert_eq!(t.create(7, 0, None), Ok(1));
        let sev = Sigevent { notify: 0, signo: 40, value: 0xfeed, ..Default::default() };
        assert_eq!(t.create(7, 1, Some(&sev)), Ok(2));
        t.delete(7, 1).unwrap();
        assert_eq!(t.delete(7, 1), Err(Errno::EINVAL));
        assert_eq!(t.gettime(7, 1, 0), Err(Errno::EINVAL));
        assert_eq!(t.create(7, 1, Some(&sev)), Ok(1));
        // Bad timespecs.
        let bad = Itimerspec { value: Timespec { sec: 1, nsec: NS_PER_SEC as i64 }, ..Default::default() };
        assert_eq!(t.settime(7, 2, 0, &bad, 0), Err(Errno::EINVAL));
        let neg = Itimerspec { value: Timespec { sec: -1, nsec: 0 }, ..Default::default() };
        assert_eq!(t.settime(7, 2, 0, &neg, 0), Err(Errno::EINVAL));
        assert_eq!(t.settime(7, 9, 0, &its(MS, 0), 0), Err(Errno::EINVAL));
        // Relative, periodic.
        assert_eq!(t.settime(7, 2, 0, &its(30 * MS, 10 * MS), 100 * MS), Ok(its(0, 0)));
        assert_eq!(t.gettime(7, 2, 110 * MS), Ok(its(20 * MS, 10 * MS)));
        assert_eq!(t.next_due(), 130 * MS);
        // Expiring 25 ms late: three expirations, two overruns.
        let f = fires(&mut t, 155 * MS, 0);
        assert_eq!(f, [Fire { pid: 7, thread: None, signo: 40, posix: Some((2, 2, 0xfeed)) }]);
        let info = f[0].siginfo();
        assert_eq!((info.code, info.as_timer().tid, info.as_timer().overrun), (linux::SI_TIMER, 2, 2));
        assert_eq!(t.getoverrun(7, 2), Ok(2));
        assert_eq!(t.gettime(7, 2, 155 * MS), Ok(its(5 * MS, 10 * MS)));
        // Absolute; the old setting comes back; overrun resets.
        assert_eq!(t.settime(7, 2, linux::TIMER_ABSTIME as u64, &its(500 * MS, 0), 158 * MS), Ok(its(2 * MS, 10 * MS)));
        assert_eq!(t.getoverrun(7, 2), Ok(0));
        assert_eq!(t.gettime(7, 2, 200 * MS), Ok(its(300 * MS, 0)));
        // Passed but not yet ticked: still looks armed.
        assert_eq!(t.gettime(7, 2, 600 * MS), Ok(its(1, 0)));
        assert_eq!(fires(&mut t, 600 * MS, 0).len(), 1);
        assert_eq!(t.gettime(7, 2, 600 * MS), Ok(its(0, 0)));
        // An absolute time in the past fires at the next tick.
        t.settime(7, 2, linux::TIMER_ABSTIME as u64, &its(1, 0), 700 * MS).unwrap();
        assert_eq!(fires(&mut t, 710 * MS, 0).len(), 1);
        // Zero disarms.
        t.settime(7, 1, 0, &its(MS, MS), 0).unwrap();
        t.settime(7, 1, 0, &its(0, MS), 0).unwrap();
        assert_eq!(t.gettime(7, 1, 0), Ok(its(0, MS)));
    }

    #[test]
    fn sigev_thread_id_aims_at_a_thread_of_the_process() {
        let mut t = Timers::new();
        let to = |tid| Sigevent { notify: 4, signo: 10, tid, ..Default::default() };
        let mine = |tid: Pid| tid == 7 || tid == 12;
        assert_eq!(t.create_with(7, 1, Some(&to(13)), &mine), Err(Errno::EINVAL));
        assert_eq!(t.create_with(7, 1, Some(&to(-1)), &mine), Err(Errno::EINVAL));
        let id = t.create_with(7, 1, Some(&to(12)), &mine).unwrap();
        t.settime(7, id, 0, &its(MS, 0), 0).unwrap();
        let f = fires(&mut t, 10 * MS, 0);
        assert_eq!(f, [Fire { pid: 7, thread: Some(12), signo: 10, posix: Some((id, 0, 0)) }]);
    }

    #[test]
    fn sigev_none_timers_run_silently() {
        let mut t = Timers::new();
        let none = Sigevent { notify: linux::SIGEV_NONE as i32, ..Default::default() };
        let id = t.create(2, 1, Some(&none)).unwrap();
        t.settime(2, id, 0, &its(10 * MS, 4 * MS), 0).unwrap();
        // Read between ticks: moved on, not "1 ns".
        assert_eq!(t.gettime(2, id, 11 * MS), Ok(its(3 * MS, 4 * MS)));
        assert!(fires(&mut t, 20 * MS, 0).is_empty());
        assert_eq!(t.gettime(2, id, 20 * MS), Ok(its(2 * MS, 4 * MS)));
    }

    #[test]
    fn limits_exec_and_exit() {
        let mut t = Timers::new();
        for i in 0..TIMER_MAX {
            assert_eq!(t.create(1, 1, None), Ok(i as i32));
        }
        assert_eq!(t.create(1, 1, None), Err(Errno::EAGAIN));
        t.setitimer(1, Which::Real, &itv(100, 0), 0).unwrap();
        t.settime(1, 0, 0, &its(MS, 0), 0).unwrap();
        t.exec(1);
        assert_eq!(t.gettime(1, 0, 0), Err(Errno::EINVAL));
        assert_eq!(t.getitimer(1, Which::Real, 0), itv(100, 0));
        t.exit(1);
        assert!(t.procs.is_empty());
        assert_eq!(t.next_due(), u64::MAX);
        // Out of kernel memory: ENOMEM for a first timer.
        crate::mm::test_hooks::OUT_OF_MEMORY.with(|f| f.set(true));
        let r = t.setitimer(1, Which::Real, &itv(1, 0), 0);
        crate::mm::test_hooks::OUT_OF_MEMORY.with(|f| f.set(false));
        assert_eq!(r, Err(Errno::ENOMEM));
    }

    #[test]
    fn the_global_tick_path_skips_the_lock_until_a_deadline() {
        // The only test touching the global registry (pid 9999 is not used
        // elsewhere).
        with(|t| t.setitimer(9999, Which::Real, &itv(50, 0), 0)).unwrap();
        assert!(expire_due(49 * MS, 0, TICK_NS).is_none());
        let f = expire_due(50 * MS, 0, TICK_NS).unwrap();
        assert_eq!(
            f.iter().copied().collect::<Vec<_>>(),
            [Fire { pid: 9999, thread: None, signo: linux::SIGALRM, posix: None }]
        );
        assert!(expire_due(60 * MS, 0, TICK_NS).is_none());
        with(|t| t.exit(9999));
    }

    #[test]
    fn a_tick_sends_at_most_its_capacity_and_the_rest_next_time() {
        let mut t = Timers::new();
        for pid in 1..=20 {
            t.setitimer(pid, Which::Real, &itv(1, 0), 0).unwrap();
        }
        assert_eq!(fires(&mut t, 10 * MS, 0).len(), Fires::CAPACITY);
        assert!(t.next_due() <= 10 * MS);
        assert_eq!(fires(&mut t, 20 * MS, 0).len(), 20 - Fires::CAPACITY);
        assert_eq!(t.next_due(), u64::MAX);
    }
}
