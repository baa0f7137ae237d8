//! The scheduler: round-robin over ready threads, preempted by the timer.
//!
//! Every thread runs until it blocks (`wait4`, `nanosleep`, a wait queue), yields, exits,
//! or the timer tick marks its time slice (one tick, 10 ms) as used; the
//! switch then happens on its way back to user mode. When nothing is ready
//! the CPU runs the idle loop (the boot thread), which waits in `wfi` with
//! interrupts enabled.
//!
//! A switch saves the outgoing thread's FP/SIMD registers and thread
//! pointer, installs the incoming thread's page tables in TTBR0 with its
//! ASID (no TLB flush), restores its registers and jumps into its kernel
//! stack with `switch_context`. A thread that has exited makes one last
//! switch; the next switch made by anyone else frees it (its kernel stack
//! cannot be freed while it runs on it).

use super::process::{Block, Pid, State, Thread, TABLE};
use crate::arch::aarch64::context::{self, Context};
use crate::arch::aarch64::{cpu, mmu};
use alloc::collections::VecDeque;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use spin::Mutex;

static CURRENT: AtomicU32 = AtomicU32::new(0);
static RUN_QUEUE: Mutex<VecDeque<Pid>> = Mutex::new(VecDeque::new());
/// Threads that have exited and made their last switch, or are making it.
static DEAD: Mutex<alloc::vec::Vec<Pid>> = Mutex::new(alloc::vec::Vec::new());
/// How many threads the dead list holds (lets a switch skip it).
static DEAD_COUNT: AtomicUsize = AtomicUsize::new(0);
static NEED_RESCHED: AtomicBool = AtomicBool::new(false);
/// Context switches since boot.
pub static SWITCHES: AtomicU64 = AtomicU64::new(0);

/// The idle thread's saved context (the boot stack).
struct IdleContext(UnsafeCell<Context>);
// SAFETY: only the scheduler touches it, with interrupts masked on the one CPU.
unsafe impl Sync for IdleContext {}
static IDLE: IdleContext = IdleContext(UnsafeCell::new(Context { x19_28: [0; 10], fp: 0, lr: 0, sp: 0 }));

/// The running thread (0 = the idle thread).
pub fn current() -> Pid {
    CURRENT.load(Ordering::Relaxed)
}

/// Puts thread `tid` on the run queue if it is blocked.
pub fn make_ready(tid: Pid) {
    // One CPU: a locked table here is held by the caller, and spinning
    // would hang the machine; say which rule was broken instead.
    let Some(mut t) = TABLE.try_lock() else {
        panic!("make_ready({tid}) with the thread table locked (use a _locked wake-up)")
    };
    if let Some(th) = t.threads.get_mut(&tid) {
        make_ready_locked(th);
    }
}

/// Puts thread `t` (the table being locked by the caller) on the run
/// queue, unless it is already there, running or dead.
///
/// Invariant: a thread is on the run queue at most once, so the queue
/// never holds more entries than the table has threads, and the room
/// [`reserve_slot`] made at creation is always enough (no allocation here,
/// which the timer interrupt also relies on).
pub fn make_ready_locked(t: &mut Thread) {
    if matches!(t.state, State::Blocked(_)) {
        t.state = State::Ready;
        RUN_QUEUE.lock().push_back(t.tid);
    }
}

/// Makes room on the run queue and the dead list for one more thread
/// (before it exists); ENOMEM if there is no memory for it.
pub fn reserve_slot() -> Result<(), crate::errno::Errno> {
    let n = TABLE.lock().threads.len() + 1;
    let mut rq = RUN_QUEUE.lock();
    let more = n.saturating_sub(rq.len());
    rq.try_reserve(more).map_err(|_| crate::errno::Errno::ENOMEM)?;
    let mut dead = DEAD.lock();
    let more = n.saturating_sub(dead.len());
    dead.try_reserve(more).map_err(|_| crate::errno::Errno::ENOMEM)
}

/// Marks the current thread dead; its next switch is its last.
pub fn retire(t: &mut Thread) {
    t.state = State::Dead;
    DEAD.lock().push(t.tid);
    DEAD_COUNT.fetch_add(1, Ordering::Relaxed);
}

/// Frees the threads that have made their last switch (every dead one but
/// the caller).
fn free_dead() {
    if DEAD_COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    let me = current();
    loop {
        // The dead list's lock is never held while taking the table's
        // (the table's holder takes it in `retire`).
        let tid = {
            let mut dead = DEAD.lock();
            let Some(i) = dead.iter().position(|&t| t != me) else { return };
            DEAD_COUNT.fetch_sub(1, Ordering::Relaxed);
            dead.swap_remove(i)
        };
        let gone = TABLE.lock().threads.remove(&tid);
        // Its kernel stack and records go with the table unlocked.
        drop(gone);
    }
}

/// The running thread `old` takes the id `new` (`execve` from a thread
/// other than the first: it becomes the process's only thread, under the
/// process's id). The thread that had `new` is dead; its record goes now.
pub fn take_tid(old: Pid, new: Pid) {
    let gone = {
        let mut t = TABLE.lock();
        let mut dead = DEAD.lock();
        let before = dead.len();
        dead.retain(|&d| d != new);
        DEAD_COUNT.fetch_sub(before - dead.len(), Ordering::Relaxed);
        drop(dead);
        let gone = t.threads.remove(&new);
        if let Some(mut me) = t.threads.remove(&old) {
            me.tid = new;
            if let Some(p) = t.procs.get(&me.pid()) {
                let mut i = p.inner.lock();
                i.threads.clear();
                i.threads.push(new); // within its capacity: it held `old`
            }
            t.threads.insert(new, me);
        }
        CURRENT.store(new, Ordering::Relaxed);
        gone
    };
    drop(gone);
}

/// Queues a thread that was just created (state `Ready`, not queued yet).
pub fn start(pid: Pid) {
    RUN_QUEUE.lock().push_back(pid);
}

/// Queues a new child process ahead of everything and has the caller
/// switch to it on its way back to user mode, the caller coming right
/// after it: the child runs first after `fork` (Linux's
/// `sched_child_runs_first`), and no other thread waits longer for it. A
/// shell's `cmd & kill $!` then finds the child past its own set-up (a
/// forked shell resets the signals it ignores before anything else), as it
/// does on a Linux with more than one CPU.
pub fn start_first(pid: Pid) {
    RUN_QUEUE.lock().push_front(pid);
    PARENT_NEXT.store(true, Ordering::Relaxed);
    request_resched();
}

/// Set by [`start_first`]: the next switch puts the caller back at the
/// front of the queue instead of the back.
static PARENT_NEXT: AtomicBool = AtomicBool::new(false);

/// Asks for a switch at the next return to user mode.
pub fn request_resched() {
    NEED_RESCHED.store(true, Ordering::Relaxed);
}

/// Whether a switch was requested (and clears the request).
pub fn take_resched() -> bool {
    NEED_RESCHED.swap(false, Ordering::Relaxed)
}

/// The timer tick: wakes sleepers whose time has come (`now` in
/// nanoseconds since boot), fires the timers that are due, and ends the
/// slice.
pub fn tick(now: u64) {
    let mut t = TABLE.lock();
    for p in t.threads.values_mut() {
        let due = match p.state {
            State::Blocked(Block::Sleep(until)) | State::Blocked(Block::Queue(Some(until))) => until <= now,
            _ => false,
        };
        if due {
            make_ready_locked(p);
        }
    }
    drop(t);
    super::timers::tick(now);
    request_resched();
}

/// A blocking wait ended, or did not start, because a signal is pending:
/// the caller returns (ERESTARTSYS, or EINTR where Linux never restarts),
/// and the signal acts on the way back to user mode.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Interrupted;

impl From<Interrupted> for crate::errno::Errno {
    /// A call interrupted in a wait restarts under SA_RESTART or when no
    /// handler runs, else fails with EINTR (see `signal::deliver`).
    fn from(_: Interrupted) -> Self {
        crate::errno::Errno::ERESTARTSYS
    }
}

/// Blocks the current thread for `why` and runs something else; returns
/// when it has been made ready again. Every blocking wait goes through
/// here, so none can outlast a signal: with one pending (or its process
/// exiting), it does not block (or stops blocking: `kill` makes the thread
/// ready) and answers [`Interrupted`].
#[must_use = "a wait interrupted by a signal must end the system call (EINTR)"]
pub fn block(why: Block) -> Result<(), Interrupted> {
    block_unless(why, super::signal::interrupts)
}

/// Like [`block`], but only the end of the thread (SIGKILL, the process
/// exiting) interrupts the wait, not other signals: Linux's killable
/// sleep, for a vfork parent.
#[must_use = "a killed thread must stop waiting"]
pub fn block_killable(why: Block) -> Result<(), Interrupted> {
    block_unless(why, |t| t.must_exit)
}

fn block_unless(why: Block, interrupted: fn(&Thread) -> bool) -> Result<(), Interrupted> {
    let tid = current();
    {
        let mut t = TABLE.lock();
        if let Some(p) = t.threads.get_mut(&tid) {
            if interrupted(p) {
                return Err(Interrupted);
            }
            p.state = State::Blocked(why);
        }
    }
    schedule();
    if TABLE.lock().threads.get(&tid).is_some_and(|p| interrupted(p)) {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// Gives up the CPU to the next ready process, if any.
pub fn yield_now() {
    schedule();
}

/// Switches to the next ready process (or the idle thread). Called with
/// interrupts masked and no lock held.
pub fn schedule() {
    free_dead();
    let cur = current();
    let (prev, next): (*mut Context, *const Context);
    {
        let mut tables = TABLE.lock();
        let t = &mut tables.threads;
        let mut rq = RUN_QUEUE.lock();
        // After a fork the parent goes back to the front, right behind its
        // child: the child runs first, then the parent, and nobody else in
        // the queue loses a turn.
        let behind_child = PARENT_NEXT.swap(false, Ordering::Relaxed);
        let mut requeue = None;
        if let Some(p) = t.get_mut(&cur) {
            if p.state == State::Running {
                p.state = State::Ready;
                if behind_child {
                    requeue = Some(cur);
                } else {
                    rq.push_back(cur);
                }
            }
        }
        let next_pid = loop {
            match rq.pop_front() {
                Some(pid) if t.get(&pid).is_some_and(|p| p.state == State::Ready) => break pid,
                Some(_) => continue,
                None => break requeue.take().unwrap_or(0),
            }
        };
        if let Some(parent) = requeue {
            rq.push_front(parent);
        }
        drop(rq);
        if next_pid == cur {
            if let Some(p) = t.get_mut(&cur) {
                p.state = State::Running;
            }
            return;
        }
        prev = match t.get_mut(&cur) {
            Some(p) => {
                context::save_fp(&mut p.fp);
                super::perf::save(&mut p.perf);
                p.tpidr = context::tpidr_el0();
                &mut p.ctx
            }
            None => IDLE.0.get(),
        };
        next = match t.get_mut(&next_pid) {
            Some(n) => {
                n.state = State::Running;
                context::restore_fp(&n.fp);
                super::perf::restore(&n.perf);
                context::set_tpidr_el0(n.tpidr);
                n.mm.lock().activate();
                &n.ctx
            }
            None => {
                mmu::set_user_table(crate::mm::kernel_space::empty_table(), 0);
                IDLE.0.get()
            }
        };
        CURRENT.store(next_pid, Ordering::Relaxed);
        SWITCHES.fetch_add(1, Ordering::Relaxed);
    }
    // SAFETY: both contexts live in boxed threads (or the idle static) that
    // stay put until the switch completes: a dead thread is only freed by
    // `free_dead`, which skips the thread that calls it, and runs in a
    // later switch than this one.
    unsafe { context::switch(prev, next) };
}

/// Whether any process is ready to run.
fn anything_ready() -> bool {
    !RUN_QUEUE.lock().is_empty()
}

/// The idle loop: run whatever is ready, otherwise sleep until an interrupt.
pub fn idle_loop() -> ! {
    loop {
        cpu::irq_save();
        if anything_ready() {
            schedule();
        } else {
            // An interrupt that arrives between the check and `wfi` is still
            // pending and makes `wfi` return at once.
            cpu::wait_for_interrupt();
            cpu::irq_enable();
        }
    }
}
