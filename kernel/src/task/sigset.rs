//! Signal bookkeeping as Linux keeps it: sets of signals, what each signal
//! does by default, the per-process table of actions (`rt_sigaction`), and
//! the pending signals with their `siginfo`.
//!
//! A [`SigSet`] is Linux's 64-bit `sigset_t`: signal `n` at bit `n - 1`.
//! SIGKILL and SIGSTOP can be neither caught, ignored nor blocked.
//!
//! [`Pending`] follows Linux's `sigpending`: a standard signal (1..31)
//! already pending is not queued again (the second one is lost), while
//! real-time signals (32..64) queue, each with its own `siginfo`, in the
//! order sent, up to [`QUEUE_LIMIT`] entries a process (Linux's
//! RLIMIT_SIGPENDING): past it a real-time signal from `sigqueue` or a
//! timer is refused (EAGAIN) and any other signal is still made pending,
//! without its information, as Linux does. A POSIX timer's signal is
//! queued once: while it waits, further expirations only add to its
//! `si_overrun` (Linux's `send_sigqueue`). Sending applies Linux's
//! `prepare_signal` rules (SIGCONT discards pending stop signals, a stop
//! signal discards a pending SIGCONT), and setting an action that ignores a
//! signal discards it. Signals are taken lowest first, the synchronous ones
//! (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS) before any other.
//!
//! The queue's memory is reserved before each entry is added and bounded
//! by the limit, so a sender can never exhaust the kernel heap. Portable:
//! everything here is unit-tested on the host.

use crate::arch::aarch64::sigframe::{SiTimer, Siginfo};
use crate::errno::Errno;
use alloc::collections::VecDeque;
use linux_raw_sys::general as linux;

/// The highest signal number.
pub const NSIG: u32 = linux::_NSIG;

/// Queued `siginfo` entries a process may have (RLIMIT_SIGPENDING-like).
pub const QUEUE_LIMIT: usize = 1024;

/// A set of signals (`sigset_t`): signal `n` at bit `n - 1`.
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);

    /// SIGKILL and SIGSTOP: never blocked, caught or ignored.
    pub const UNBLOCKABLE: SigSet = SigSet((1 << (linux::SIGKILL - 1)) | (1 << (linux::SIGSTOP - 1)));

    /// The signals that make a process stop.
    pub const STOP: SigSet = SigSet(
        (1 << (linux::SIGSTOP - 1))
            | (1 << (linux::SIGTSTP - 1))
            | (1 << (linux::SIGTTIN - 1))
            | (1 << (linux::SIGTTOU - 1)),
    );

    /// The synchronous signals, taken before any other (Linux's
    /// SYNCHRONOUS_MASK).
    pub const SYNCHRONOUS: SigSet = SigSet(
        (1 << (linux::SIGSEGV - 1))
            | (1 << (linux::SIGBUS - 1))
            | (1 << (linux::SIGILL - 1))
            | (1 << (linux::SIGTRAP - 1))
            | (1 << (linux::SIGFPE - 1))
            | (1 << (linux::SIGSYS - 1)),
    );

    /// The set holding `sig` alone (empty for 0 or a number past 64).
    pub const fn of(sig: u32) -> SigSet {
        if sig == 0 || sig > NSIG {
            SigSet(0)
        } else {
            SigSet(1 << (sig - 1))
        }
    }

    pub const fn contains(self, sig: u32) -> bool {
        self.0 & SigSet::of(sig).0 != 0
    }

    pub fn insert(&mut self, sig: u32) {
        self.0 |= SigSet::of(sig).0;
    }

    pub fn remove(&mut self, sig: u32) {
        self.0 &= !SigSet::of(sig).0;
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn union(self, o: SigSet) -> SigSet {
        SigSet(self.0 | o.0)
    }

    pub const fn minus(self, o: SigSet) -> SigSet {
        SigSet(self.0 & !o.0)
    }

    /// This set without SIGKILL and SIGSTOP: what a process may block
    /// (rt_sigprocmask, sa_mask and rt_sigreturn drop them silently).
    pub const fn blockable(self) -> SigSet {
        self.minus(SigSet::UNBLOCKABLE)
    }

    /// The lowest signal in the set.
    pub const fn lowest(self) -> Option<u32> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() + 1)
        }
    }
}

/// Whether `sig` is a valid signal number (1..=64).
pub const fn valid(sig: u32) -> bool {
    sig >= 1 && sig <= NSIG
}

/// Whether `sig` is a real-time signal (queued, not coalesced).
pub const fn is_realtime(sig: u32) -> bool {
    sig >= linux::SIGRTMIN && sig <= NSIG
}

/// What a signal does when its action is the default (signal(7)).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// End the process.
    Terminate,
    /// End the process with a core dump (the wait status has 0x80).
    Core,
    Ignore,
    Stop,
    /// Continue a stopped process (otherwise nothing).
    Continue,
}

/// Linux's default action for `sig` (1..=64).
pub fn default_action(sig: u32) -> DefaultAction {
    use DefaultAction::*;
    match sig {
        linux::SIGQUIT
        | linux::SIGILL
        | linux::SIGTRAP
        | linux::SIGABRT
        | linux::SIGBUS
        | linux::SIGFPE
        | linux::SIGSEGV
        | linux::SIGXCPU
        | linux::SIGXFSZ
        | linux::SIGSYS => Core,
        linux::SIGCHLD | linux::SIGURG | linux::SIGWINCH => Ignore,
        linux::SIGCONT => Continue,
        linux::SIGSTOP | linux::SIGTSTP | linux::SIGTTIN | linux::SIGTTOU => Stop,
        _ => Terminate,
    }
}

/// Whether the default action of `sig` ignores it as far as pending goes
/// (Linux's `sig_kernel_ignore`: SIGCONT included, it only continues).
fn ignored_by_default(sig: u32) -> bool {
    matches!(default_action(sig), DefaultAction::Ignore | DefaultAction::Continue)
}

/// `sa_handler`: SIG_DFL (0), SIG_IGN (1), or a handler's address.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Handler {
    #[default]
    Default,
    Ignore,
    At(u64),
}

impl Handler {
    pub fn from_user(v: u64) -> Handler {
        match v {
            0 => Handler::Default,
            1 => Handler::Ignore,
            a => Handler::At(a),
        }
    }

    pub fn to_user(self) -> u64 {
        match self {
            Handler::Default => 0,
            Handler::Ignore => 1,
            Handler::At(a) => a,
        }
    }
}

/// `sa_flags` bits (Linux's values).
pub mod flags {
    use super::linux;
    pub const SA_NOCLDSTOP: u64 = linux::SA_NOCLDSTOP as u64;
    pub const SA_NOCLDWAIT: u64 = linux::SA_NOCLDWAIT as u64;
    pub const SA_SIGINFO: u64 = linux::SA_SIGINFO as u64;
    /// Reported as unsupported: never kept, so programs can detect that.
    pub const SA_UNSUPPORTED: u64 = linux::SA_UNSUPPORTED as u64;
    pub const SA_EXPOSE_TAGBITS: u64 = 0x800;
    pub const SA_RESTORER: u64 = linux::SA_RESTORER as u64;
    pub const SA_ONSTACK: u64 = linux::SA_ONSTACK as u64;
    pub const SA_RESTART: u64 = linux::SA_RESTART as u64;
    pub const SA_NODEFER: u64 = linux::SA_NODEFER as u64;
    pub const SA_RESETHAND: u64 = linux::SA_RESETHAND as u64;
    /// The flags Linux keeps (UAPI_SA_FLAGS on arm64); others are cleared.
    pub const KNOWN: u64 = SA_NOCLDSTOP
        | SA_NOCLDWAIT
        | SA_SIGINFO
        | SA_ONSTACK
        | SA_RESTART
        | SA_NODEFER
        | SA_RESETHAND
        | SA_EXPOSE_TAGBITS
        | SA_RESTORER;
}

/// A signal's action.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: Handler,
    /// `sa_flags`, only the bits in [`flags::KNOWN`].
    pub flags: u64,
    /// Where the handler returns to (SA_RESTORER).
    pub restorer: u64,
    /// Blocked while the handler runs (never SIGKILL or SIGSTOP).
    pub mask: SigSet,
}

/// `struct sigaction` as arm64's `rt_sigaction` reads and writes it.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct UserSigaction {
    pub sa_handler: u64,
    pub sa_flags: u64,
    pub sa_restorer: u64,
    pub sa_mask: u64,
}

impl From<UserSigaction> for SigAction {
    fn from(u: UserSigaction) -> Self {
        SigAction {
            handler: Handler::from_user(u.sa_handler),
            flags: u.sa_flags & flags::KNOWN,
            restorer: u.sa_restorer,
            mask: SigSet(u.sa_mask).blockable(),
        }
    }
}

impl From<SigAction> for UserSigaction {
    fn from(a: SigAction) -> Self {
        UserSigaction { sa_handler: a.handler.to_user(), sa_flags: a.flags, sa_restorer: a.restorer, sa_mask: a.mask.0 }
    }
}

/// Checks `rt_sigaction(sig, act, oact, sigsetsize)`'s arguments as Linux
/// does: the set size must be 8, the signal 1..=64, and SIGKILL and SIGSTOP
/// cannot be given an action (they can be queried).
pub fn check_sigaction(sig: u32, setting: bool, sigsetsize: u64) -> Result<(), Errno> {
    if sigsetsize != 8 || !valid(sig) || (setting && SigSet::UNBLOCKABLE.contains(sig)) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// A process's actions, one per signal. Fork copies them; exec resets
/// handlers to the default ([`Actions::reset_for_exec`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actions([SigAction; NSIG as usize]);

impl Default for Actions {
    fn default() -> Self {
        Actions([SigAction::default(); NSIG as usize])
    }
}

impl Actions {
    /// The action of `sig` (1..=64; the default for anything else).
    pub fn get(&self, sig: u32) -> SigAction {
        if valid(sig) {
            self.0[sig as usize - 1]
        } else {
            SigAction::default()
        }
    }

    /// Sets the action of `sig` (checked by [`check_sigaction`]) and
    /// returns the old one. If the new action ignores the signal, a pending
    /// one is discarded (POSIX; Linux's `do_sigaction`).
    pub fn set(&mut self, sig: u32, act: SigAction, pending: &mut Pending) -> SigAction {
        if !valid(sig) || SigSet::UNBLOCKABLE.contains(sig) {
            return self.get(sig);
        }
        let old = core::mem::replace(&mut self.0[sig as usize - 1], act);
        if self.ignores(sig) {
            pending.discard(SigSet::of(sig));
        }
        old
    }

    /// Whether `sig`'s action ignores it: SIG_IGN, or the default for a
    /// signal whose default is to be ignored.
    pub fn ignores(&self, sig: u32) -> bool {
        match self.get(sig).handler {
            Handler::Ignore => true,
            Handler::Default => ignored_by_default(sig),
            Handler::At(_) => false,
        }
    }

    /// Whether a signal sent now would be dropped at once (Linux's
    /// `sig_ignored`): its action ignores it and it is not blocked (a
    /// blocked signal stays pending: the action may change before it is
    /// unblocked). SIGKILL and SIGSTOP are never ignored.
    pub fn drops(&self, sig: u32, blocked: SigSet) -> bool {
        !SigSet::UNBLOCKABLE.contains(sig) && !blocked.contains(sig) && self.ignores(sig)
    }

    /// At exec: handlers go back to the default, ignored signals stay
    /// ignored, flags, restorers and masks are cleared (Linux's
    /// `flush_signal_handlers`).
    pub fn reset_for_exec(&mut self) {
        for a in self.0.iter_mut() {
            let handler = if a.handler == Handler::Ignore { Handler::Ignore } else { Handler::Default };
            *a = SigAction { handler, ..SigAction::default() };
        }
    }
}

/// What [`Pending::post`] did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Posted {
    /// Now pending, with its siginfo queued.
    Queued,
    /// Now pending, but the queue was full: it will be delivered with a
    /// blank siginfo (SI_USER, no sender), as Linux does.
    InfoLost,
    /// A standard signal already pending: this one merges into it.
    Coalesced,
}

/// The signals pending for a process and their queued information.
///
/// Invariants: every queued entry's signal is in `set`; a standard signal
/// has at most one entry; `queue.len() <= QUEUE_LIMIT`.
#[derive(Default, Debug)]
pub struct Pending {
    set: SigSet,
    queue: VecDeque<Siginfo>,
}

impl Pending {
    /// The pending signals.
    pub fn set(&self) -> SigSet {
        self.set
    }

    /// Number of queued siginfo entries.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Makes `info.signo` pending (a valid signal number), applying
    /// Linux's rules: SIGCONT discards pending stop signals, a stop signal
    /// discards a pending SIGCONT; a standard signal already pending
    /// coalesces. EAGAIN when the queue is full (or the kernel short of
    /// memory) for a real-time signal that was not sent by `kill`
    /// (`sigqueue`, timers): Linux's `__send_signal` refuses those.
    pub fn post(&mut self, info: &Siginfo) -> Result<Posted, Errno> {
        let sig = info.signo as u32;
        if !valid(sig) {
            return Err(Errno::EINVAL);
        }
        if sig == linux::SIGCONT {
            self.discard(SigSet::STOP);
        } else if SigSet::STOP.contains(sig) {
            self.discard(SigSet::of(linux::SIGCONT));
        }
        if info.code == linux::SI_TIMER && self.merge_timer(info) {
            return Ok(Posted::Coalesced);
        }
        if !is_realtime(sig) && self.set.contains(sig) {
            return Ok(Posted::Coalesced);
        }
        let room = self.queue.len() < QUEUE_LIMIT && crate::mm::kernel_has_room() && self.queue.try_reserve(1).is_ok();
        if room {
            self.queue.push_back(*info);
            self.set.insert(sig);
            return Ok(Posted::Queued);
        }
        if is_realtime(sig) && info.code != linux::SI_USER as i32 {
            return Err(Errno::EAGAIN);
        }
        self.set.insert(sig);
        Ok(Posted::InfoLost)
    }

    /// A POSIX timer's signal while its previous one is still queued:
    /// Linux queues a timer's signal once and counts the expirations since
    /// in that entry's `si_overrun` (`send_sigqueue`). True if merged.
    fn merge_timer(&mut self, info: &Siginfo) -> bool {
        let new = info.as_timer();
        let same = |q: &&mut Siginfo| q.signo == info.signo && q.code == info.code && q.as_timer().tid == new.tid;
        let Some(q) = self.queue.iter_mut().find(same) else { return false };
        let old = q.as_timer();
        let overrun = old.overrun.saturating_add(1).saturating_add(new.overrun).max(0);
        q.fields.timer = SiTimer { overrun, ..old };
        true
    }

    /// The signal that [`Pending::take`] would return with `blocked`
    /// masked (Linux's `next_signal`): the lowest synchronous signal if
    /// any, else the lowest one.
    pub fn next_deliverable(&self, blocked: SigSet) -> Option<u32> {
        let ready = self.set.minus(blocked.blockable());
        let sync = SigSet(ready.0 & SigSet::SYNCHRONOUS.0);
        if sync.is_empty() {
            ready.lowest()
        } else {
            sync.lowest()
        }
    }

    /// Takes the next deliverable signal with its siginfo (the oldest
    /// queued one for a real-time signal, which stays pending while more
    /// are queued).
    pub fn take(&mut self, blocked: SigSet) -> Option<Siginfo> {
        let sig = self.next_deliverable(blocked)?;
        Some(self.take_sig(sig))
    }

    /// Takes pending signal `sig` (which must be pending).
    fn take_sig(&mut self, sig: u32) -> Siginfo {
        let at = self.queue.iter().position(|i| i.signo as u32 == sig);
        let info = match at.and_then(|at| self.queue.remove(at)) {
            Some(info) => info,
            None => Siginfo::rt(sig, linux::SI_USER as i32, 0, 0, 0),
        };
        if !self.queue.iter().any(|i| i.signo as u32 == sig) {
            self.set.remove(sig);
        }
        info
    }

    /// Discards every pending signal in `sigs` with its queued entries.
    pub fn discard(&mut self, sigs: SigSet) {
        if self.set.0 & sigs.0 == 0 {
            return;
        }
        self.queue.retain(|i| !sigs.contains(i.signo as u32));
        self.set = self.set.minus(sigs);
    }

    /// Discards everything (exit).
    pub fn clear(&mut self) {
        self.set = SigSet::EMPTY;
        self.queue = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_raw_sys::general::*;

    fn kill(sig: u32) -> Siginfo {
        Siginfo::rt(sig, SI_USER as i32, 7, 0, 0)
    }

    fn queued(sig: u32, value: u64) -> Siginfo {
        Siginfo::rt(sig, SI_QUEUE, 7, 0, value)
    }

    #[test]
    fn sets() {
        let mut s = SigSet::EMPTY;
        s.insert(1);
        s.insert(64);
        s.insert(0);
        s.insert(65);
        assert_eq!(s.0, 1 | 1 << 63);
        assert!(s.contains(64) && !s.contains(2) && !s.contains(0));
        assert_eq!(s.lowest(), Some(1));
        s.remove(1);
        assert_eq!(s.lowest(), Some(64));
        assert_eq!(SigSet(!0).blockable().0, !(1 << 8) & !(1 << 18));
        assert_eq!(SigSet::UNBLOCKABLE, SigSet(1 << 8 | 1 << 18));
    }

    #[test]
    fn default_actions_are_linuxs() {
        use DefaultAction::*;
        let expect = [
            (SIGHUP, Terminate),
            (SIGINT, Terminate),
            (SIGQUIT, Core),
            (SIGILL, Core),
            (SIGTRAP, Core),
            (SIGABRT, Core),
            (SIGBUS, Core),
            (SIGFPE, Core),
            (SIGKILL, Terminate),
            (SIGUSR1, Terminate),
            (SIGSEGV, Core),
            (SIGUSR2, Terminate),
            (SIGPIPE, Terminate),
            (SIGALRM, Terminate),
            (SIGTERM, Terminate),
            (SIGSTKFLT, Terminate),
            (SIGCHLD, Ignore),
            (SIGCONT, Continue),
            (SIGSTOP, Stop),
            (SIGTSTP, Stop),
            (SIGTTIN, Stop),
            (SIGTTOU, Stop),
            (SIGURG, Ignore),
            (SIGXCPU, Core),
            (SIGXFSZ, Core),
            (SIGVTALRM, Terminate),
            (SIGPROF, Terminate),
            (SIGWINCH, Ignore),
            (SIGIO, Terminate),
            (SIGPWR, Terminate),
            (SIGSYS, Core),
        ];
        for (sig, act) in expect {
            assert_eq!(default_action(sig), act, "signal {sig}");
        }
        for sig in 32..=64 {
            assert_eq!(default_action(sig), Terminate);
        }
    }

    #[test]
    fn sigaction_layout_and_checks() {
        assert_eq!(core::mem::size_of::<UserSigaction>(), 32);
        assert_eq!(core::mem::offset_of!(UserSigaction, sa_flags), 8);
        assert_eq!(core::mem::offset_of!(UserSigaction, sa_restorer), 16);
        assert_eq!(core::mem::offset_of!(UserSigaction, sa_mask), 24);
        assert_eq!((flags::SA_SIGINFO, flags::SA_ONSTACK, flags::SA_RESTART), (4, 0x0800_0000, 0x1000_0000));
        assert_eq!(
            (flags::SA_NODEFER, flags::SA_RESETHAND, flags::SA_RESTORER),
            (0x4000_0000, 0x8000_0000, 0x0400_0000)
        );
        assert_eq!((flags::SA_NOCLDSTOP, flags::SA_NOCLDWAIT), (1, 2));
        assert_eq!(check_sigaction(SIGUSR1, true, 8), Ok(()));
        assert_eq!(check_sigaction(SIGUSR1, true, 16), Err(Errno::EINVAL));
        assert_eq!(check_sigaction(SIGKILL, true, 8), Err(Errno::EINVAL));
        assert_eq!(check_sigaction(SIGSTOP, true, 8), Err(Errno::EINVAL));
        assert_eq!(check_sigaction(SIGKILL, false, 8), Ok(()));
        assert_eq!(check_sigaction(0, false, 8), Err(Errno::EINVAL));
        assert_eq!(check_sigaction(65, false, 8), Err(Errno::EINVAL));
        assert_eq!(check_sigaction(64, true, 8), Ok(()));
        // Unknown flags (SA_UNSUPPORTED among them) are dropped; the mask
        // loses SIGKILL and SIGSTOP.
        let u = UserSigaction {
            sa_handler: 0x4000,
            sa_flags: flags::SA_SIGINFO | flags::SA_UNSUPPORTED | 1 << 40,
            sa_restorer: 0x5000,
            sa_mask: !0,
        };
        let a = SigAction::from(u);
        assert_eq!(a.handler, Handler::At(0x4000));
        assert_eq!(a.flags, flags::SA_SIGINFO);
        assert_eq!(a.mask, SigSet(!0).blockable());
        assert_eq!(UserSigaction::from(a).sa_restorer, 0x5000);
    }

    #[test]
    fn standard_signals_coalesce_realtime_ones_queue_in_order() {
        let mut p = Pending::default();
        assert_eq!(p.post(&kill(SIGUSR1)), Ok(Posted::Queued));
        assert_eq!(p.post(&kill(SIGUSR1)), Ok(Posted::Coalesced));
        for v in 0..3 {
            assert_eq!(p.post(&queued(SIGRTMIN + 1, v)), Ok(Posted::Queued));
        }
        assert_eq!(p.queued(), 4);
        assert_eq!(p.take(SigSet::EMPTY).unwrap().signo as u32, SIGUSR1);
        assert_eq!(p.take(SigSet::EMPTY), Some(queued(SIGRTMIN + 1, 0)));
        assert_eq!(p.take(SigSet::EMPTY).unwrap().as_rt().value, 1);
        assert!(p.set().contains(SIGRTMIN + 1));
        assert_eq!(p.take(SigSet::EMPTY).unwrap().as_rt().value, 2);
        assert!(p.set().is_empty());
        assert_eq!(p.take(SigSet::EMPTY), None);
        assert_eq!(p.post(&kill(0)), Err(Errno::EINVAL));
    }

    #[test]
    fn order_is_synchronous_first_then_lowest_and_mask_applies() {
        let mut p = Pending::default();
        for s in [SIGRTMIN, SIGTERM, SIGSEGV, SIGHUP, SIGKILL] {
            p.post(&kill(s)).unwrap();
        }
        let all_but_kill = SigSet(!0);
        assert_eq!(p.next_deliverable(all_but_kill), Some(SIGKILL));
        assert_eq!(p.take(SigSet::EMPTY).unwrap().signo as u32, SIGSEGV);
        assert_eq!(p.take(SigSet::EMPTY).unwrap().signo as u32, SIGHUP);
        assert_eq!(p.take(SigSet::of(SIGKILL)).unwrap().signo as u32, SIGKILL);
        assert_eq!(p.next_deliverable(SigSet::of(SIGTERM)), Some(SIGRTMIN));
        assert_eq!(p.next_deliverable(SigSet::EMPTY), Some(SIGTERM));
    }

    #[test]
    fn queue_bound_refuses_sigqueue_and_loses_info_for_others() {
        let mut p = Pending::default();
        for i in 0..QUEUE_LIMIT {
            assert_eq!(p.post(&queued(SIGRTMIN + 2, i as u64)), Ok(Posted::Queued));
        }
        assert_eq!(p.post(&queued(SIGRTMIN + 2, 0)), Err(Errno::EAGAIN));
        assert_eq!(p.post(&Siginfo::timer(SIGRTMIN + 3, 1, 0, 0)), Err(Errno::EAGAIN));
        assert!(!p.set().contains(SIGRTMIN + 3));
        // kill() of a real-time signal, or a standard signal: pending, info lost.
        assert_eq!(p.post(&kill(SIGRTMIN + 3)), Ok(Posted::InfoLost));
        assert_eq!(p.post(&Siginfo::fault(SIGSEGV, 1, 0x10)), Ok(Posted::InfoLost));
        assert_eq!(p.queued(), QUEUE_LIMIT);
        let blank = p.take(SigSet::EMPTY).unwrap();
        assert_eq!((blank.signo as u32, blank.code, blank.as_rt().pid), (SIGSEGV, SI_USER as i32, 0));
        // Out of kernel memory: the same refusal.
        let mut q = Pending::default();
        crate::mm::test_hooks::OUT_OF_MEMORY.with(|f| f.set(true));
        let r = q.post(&queued(SIGRTMIN, 0));
        crate::mm::test_hooks::OUT_OF_MEMORY.with(|f| f.set(false));
        assert_eq!(r, Err(Errno::EAGAIN));
    }

    #[test]
    fn a_timers_signal_is_queued_once_and_counts_overruns() {
        let mut p = Pending::default();
        assert_eq!(p.post(&Siginfo::timer(SIGRTMIN, 3, 0, 9)), Ok(Posted::Queued));
        assert_eq!(p.post(&Siginfo::timer(SIGRTMIN, 4, 0, 9)), Ok(Posted::Queued));
        assert_eq!(p.post(&Siginfo::timer(SIGRTMIN, 3, 2, 9)), Ok(Posted::Coalesced));
        assert_eq!(p.post(&Siginfo::timer(SIGRTMIN, 3, 0, 9)), Ok(Posted::Coalesced));
        assert_eq!(p.queued(), 2);
        let first = p.take(SigSet::EMPTY).unwrap();
        assert_eq!((first.as_timer().tid, first.as_timer().overrun), (3, 4));
        // Once taken, the next expiry queues again.
        assert_eq!(p.post(&Siginfo::timer(SIGRTMIN, 3, 0, 9)), Ok(Posted::Queued));
        // A timer on a standard signal merges the same way.
        assert_eq!(p.post(&Siginfo::timer(SIGALRM, 5, 0, 0)), Ok(Posted::Queued));
        assert_eq!(p.post(&Siginfo::timer(SIGALRM, 5, 0, 0)), Ok(Posted::Coalesced));
        let t = p.take(SigSet::EMPTY).unwrap();
        assert_eq!((t.signo as u32, t.as_timer().overrun), (SIGALRM, 1));
    }

    #[test]
    fn stop_and_continue_discard_each_other() {
        let mut p = Pending::default();
        p.post(&kill(SIGTSTP)).unwrap();
        p.post(&kill(SIGTTIN)).unwrap();
        p.post(&kill(SIGUSR1)).unwrap();
        p.post(&kill(SIGCONT)).unwrap();
        assert_eq!(p.set(), SigSet::of(SIGUSR1).union(SigSet::of(SIGCONT)));
        p.post(&kill(SIGSTOP)).unwrap();
        assert_eq!(p.set(), SigSet::of(SIGUSR1).union(SigSet::of(SIGSTOP)));
        assert_eq!(p.queued(), 2);
    }

    #[test]
    fn ignoring_discards_pending_and_exec_resets_handlers() {
        let mut acts = Actions::default();
        let mut p = Pending::default();
        p.post(&kill(SIGUSR1)).unwrap();
        p.post(&queued(SIGRTMIN, 1)).unwrap();
        p.post(&queued(SIGRTMIN, 2)).unwrap();
        p.post(&kill(SIGCHLD)).unwrap();
        let handler = SigAction { handler: Handler::At(0x400), flags: flags::SA_SIGINFO, ..Default::default() };
        acts.set(SIGUSR1, handler, &mut p);
        assert!(p.set().contains(SIGUSR1));
        let old = acts.set(SIGRTMIN, SigAction { handler: Handler::Ignore, ..Default::default() }, &mut p);
        assert_eq!(old, SigAction::default());
        assert!(!p.set().contains(SIGRTMIN));
        assert_eq!(p.queued(), 2);
        // SIG_DFL for a signal ignored by default discards it too.
        acts.set(SIGCHLD, handler, &mut p);
        acts.set(SIGCHLD, SigAction::default(), &mut p);
        assert_eq!(p.set(), SigSet::of(SIGUSR1));
        // SIGKILL's action cannot change.
        acts.set(SIGKILL, SigAction { handler: Handler::Ignore, ..Default::default() }, &mut p);
        assert_eq!(acts.get(SIGKILL), SigAction::default());
        assert!(acts.drops(SIGRTMIN, SigSet::EMPTY));
        assert!(!acts.drops(SIGRTMIN, SigSet::of(SIGRTMIN)));
        assert!(acts.drops(SIGWINCH, SigSet::EMPTY));
        assert!(!acts.drops(SIGKILL, SigSet::EMPTY));
        assert!(!acts.drops(SIGUSR1, SigSet::EMPTY));
        acts.reset_for_exec();
        assert_eq!(acts.get(SIGUSR1), SigAction::default());
        assert_eq!(acts.get(SIGRTMIN).handler, Handler::Ignore);
    }
}
