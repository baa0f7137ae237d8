//! Wait queues: how a thread sleeps until something happens.
//!
//! A pipe with no data, a futex word that still holds the expected value, a
//! tty with no line yet: each owns a [`WaitQueue`]. A thread that must wait
//! calls [`WaitQueue::wait_until`] with the condition it waits for; whoever
//! changes that condition calls [`WaitQueue::wake_all`] (or
//! [`wake`](WaitQueue::wake) for a few) afterwards. The waiter re-checks its
//! condition after every wake-up, so a spurious or shared wake-up costs a
//! check, never a wrong result.
//!
//! A wait also ends, with an error, when a signal is pending for the thread
//! ([`WaitError::Interrupted`], EINTR or a restart) or when its deadline
//! passes ([`WaitError::TimedOut`]); the timer tick wakes a thread whose
//! deadline has come (see `sched::tick`).
//!
//! One CPU and interrupts masked in the kernel mean nothing can change the
//! condition between the check and the sleep, so no wake-up is lost. With
//! several CPUs the thread would have to be queued and marked asleep before
//! it checks, as Linux's `prepare_to_wait` does; the queue is already
//! entered before the sleep for that reason.

use super::process::{Block, Pid};
use super::sched;
use crate::errno::Errno;
use alloc::collections::VecDeque;
use spin::Mutex;

/// Why a wait ended without its condition becoming true.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WaitError {
    /// A signal is pending (EINTR, or a restart under SA_RESTART).
    Interrupted,
    /// The deadline passed (ETIMEDOUT for futexes, 0 for poll).
    TimedOut,
    /// No memory to queue the thread.
    NoMemory,
}

impl From<WaitError> for Errno {
    /// An interrupted wait restarts under SA_RESTART or when no handler
    /// runs (ERESTARTSYS); calls that Linux never restarts map
    /// `Interrupted` to EINTR themselves.
    fn from(e: WaitError) -> Self {
        match e {
            WaitError::Interrupted => Errno::ERESTARTSYS,
            WaitError::TimedOut => Errno::ETIMEDOUT,
            WaitError::NoMemory => Errno::ENOMEM,
        }
    }
}

impl From<sched::Interrupted> for WaitError {
    fn from(_: sched::Interrupted) -> Self {
        WaitError::Interrupted
    }
}

/// Threads waiting for one condition.
///
/// Invariant: a thread is in the queue only while it is inside
/// `wait_until` (it removes itself on every way out), and at most once.
pub struct WaitQueue {
    waiters: Mutex<VecDeque<Pid>>,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue { waiters: Mutex::new(VecDeque::new()) }
    }

    /// Sleeps until `ready()` returns true (checked first, then after
    /// every wake-up), a signal is pending, or the clock (nanoseconds since
    /// boot, see `timer::uptime_ns`) reaches `deadline`.
    pub fn wait_until(&self, deadline: Option<u64>, ready: impl FnMut() -> bool) -> Result<(), WaitError> {
        self.wait_with(deadline, ready, sched::block)
    }

    /// Like [`wait_until`](Self::wait_until) with no deadline, but only the
    /// end of the thread interrupts it (Linux's killable wait).
    pub fn wait_killable(&self, ready: impl FnMut() -> bool) -> Result<(), WaitError> {
        self.wait_with(None, ready, sched::block_killable)
    }

    fn wait_with(
        &self,
        deadline: Option<u64>,
        mut ready: impl FnMut() -> bool,
        block: fn(Block) -> Result<(), sched::Interrupted>,
    ) -> Result<(), WaitError> {
        let me = sched::current();
        loop {
            if ready() {
                return Ok(());
            }
            if deadline.is_some_and(|d| crate::arch::aarch64::timer::uptime_ns() >= d) {
                return Err(WaitError::TimedOut);
            }
            {
                let mut w = self.waiters.lock();
                w.try_reserve(1).map_err(|_| WaitError::NoMemory)?;
                w.push_back(me);
            }
            let slept = block(Block::Queue(deadline));
            self.remove(me);
            slept?;
        }
    }

    /// Takes `pid` out of the queue (it stopped waiting).
    fn remove(&self, pid: Pid) {
        self.waiters.lock().retain(|&p| p != pid);
    }

    /// Wakes up to `n` waiting threads, oldest first; returns how many.
    pub fn wake(&self, n: usize) -> usize {
        let mut woken = 0;
        while woken < n {
            // The queue's lock is not held while a thread is made ready.
            let Some(pid) = self.waiters.lock().pop_front() else { break };
            sched::make_ready(pid);
            woken += 1;
        }
        woken
    }

    /// Wakes every waiting thread, for a caller that holds the thread
    /// table (`tables`) already.
    pub fn wake_all_locked(&self, tables: &mut super::process::Tables) {
        while let Some(tid) = self.waiters.lock().pop_front() {
            if let Some(t) = tables.threads.get_mut(&tid) {
                sched::make_ready_locked(t);
            }
        }
    }

    /// Wakes every waiting thread.
    pub fn wake_all(&self) {
        self.wake(usize::MAX);
    }

    /// Whether a thread is waiting.
    pub fn has_waiters(&self) -> bool {
        !self.waiters.lock().is_empty()
    }
}
