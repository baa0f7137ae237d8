//! Processes and threads: the tables and what each one owns.
//!
//! A **thread** is what the scheduler runs: a kernel stack on which its
//! system calls and faults run, the saved state of whatever it was doing
//! when it last stopped (a kernel [`Context`], its FP/SIMD registers and
//! thread pointer), its signal state, and the resources it works with. A
//! **process** (Linux's thread group) is what `getpid`, `kill`, `wait4` and
//! process groups name: its id (the tgid, which is its first thread's tid),
//! parent, process group, session, name, exit status, and the list of its
//! threads.
//!
//! The resources live behind shared pointers held by each thread, as in
//! Linux's `task_struct`, because `clone` decides what is shared: an
//! address space ([`Mm`], shared with CLONE_VM), a file descriptor table
//! (CLONE_FILES), a working directory and umask (CLONE_FS). Threads of one
//! process share all three; a vfork child shares the address space only.
//!
//! ## Locks
//!
//! [`TABLE`] holds both maps (tid -> thread, pid -> process) and every
//! thread's scheduling state; it is held only to look something up or to
//! change who exists and who runs, never across a user access, a page fault
//! or a sleep. Each process's [`ProcInner`] has its own lock, each address
//! space, descriptor table and fs context its own. Order: `TABLE`, then a
//! process's `inner`, then an address space; an address-space lock is never
//! held while taking `TABLE`. See docs/architecture.md, "Locks".

use crate::arch::aarch64::context::{Context, FpState};
use crate::arch::aarch64::exception::TrapFrame;
use crate::errno::Errno;
use crate::mm::address_space::AddressSpace;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use spin::Mutex;

/// A process or thread id (they share one number space, as on Linux).
pub type Pid = u32;

/// Size of each thread's kernel stack.
pub const KSTACK_SIZE: usize = 32 << 10;

/// A kernel stack (16-byte aligned for the AAPCS).
#[repr(C, align(16))]
pub struct KernelStack(pub [u8; KSTACK_SIZE]);

/// Why a thread is not runnable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// In `nanosleep`, until the clock (nanoseconds since boot) reaches
    /// this value; checked at every tick, so never woken early.
    Sleep(u64),
    /// On a [`WaitQueue`](super::wait::WaitQueue), until woken or until
    /// the clock reaches the deadline, if there is one.
    Queue(Option<u64>),
    /// Its process is stopped (job control), until SIGCONT or SIGKILL.
    Stopped,
}

/// Where a thread is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum State {
    Ready,
    Running,
    Blocked(Block),
    /// Exited: it never runs again and is freed by the scheduler once it
    /// has switched away from it for the last time.
    Dead,
}

/// Per-process counters (`/proc/self/mmstat`).
#[derive(Default, Debug)]
pub struct Counters {
    /// Page faults resolved without I/O (Linux `ru_minflt`).
    pub minflt: AtomicU64,
    /// Copy-on-write copies made.
    pub cow: AtomicU64,
    /// Pages mapped at mmap time by one-pass remap.
    pub eager_pages: AtomicU64,
}

impl Counters {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// The file descriptor table (see `files.rs`).
pub type Files = Vec<Option<super::files::Fd>>;

/// An address space and its lock, shared by the threads that use it.
pub type Mm = Mutex<AddressSpace>;

/// Where relative paths start, and the file-creation mask (CLONE_FS).
pub struct FsContext {
    pub cwd: String,
    pub umask: u32,
}

/// A process's changing state, under its own lock.
pub struct ProcInner {
    pub ppid: Pid,
    /// Process group and session (`setpgid`, `setsid`; inherited by fork).
    pub pgid: Pid,
    pub sid: Pid,
    pub name: String,
    /// Its live threads (tids), the first one first while it lives.
    pub threads: Vec<Pid>,
    /// The wait status every thread exits with, once `exit_group` or a
    /// fatal signal has decided it.
    pub group_exit: Option<i32>,
    /// Set when the last thread has gone: the status `wait4` reports.
    pub zombie: Option<i32>,
    /// Ticks its finished threads ran (added to the live ones' for rusage).
    pub dead_ticks: u64,
    /// The signal its parent gets when it ends (SIGCHLD, unless `clone`
    /// chose another; 0 for none).
    pub exit_signal: u32,
}

/// A process (thread group).
///
/// Invariant: `pid` is the tid of its first thread; it is in the process
/// map from its creation until its parent collects its status (or, with no
/// one to collect it, until it is reaped by init).
pub struct Process {
    pub pid: Pid,
    pub inner: Mutex<ProcInner>,
    pub counters: Counters,
    /// Woken whenever one of its threads exits (`execve` waits here for
    /// the others to go).
    pub thread_exit: super::wait::WaitQueue,
    /// Its threads in `wait4` sleep here until a child changes state.
    pub child_wait: super::wait::WaitQueue,
    /// Its signals pending for any thread, and its stop state.
    pub signals: Mutex<super::signal::ProcSignals>,
    /// Its signal actions, shared by its threads. (A process made by
    /// `clone(CLONE_SIGHAND)` without CLONE_THREAD gets a copy: a
    /// deviation from Linux, which shares the table between the two.)
    pub sighand: Arc<Mutex<super::sigset::Actions>>,
}

impl Process {
    pub fn new(pid: Pid, inner: ProcInner, sighand: Arc<Mutex<super::sigset::Actions>>) -> Process {
        Process {
            pid,
            inner: Mutex::new(inner),
            counters: Counters::default(),
            thread_exit: super::wait::WaitQueue::new(),
            child_wait: super::wait::WaitQueue::new(),
            signals: Mutex::new(super::signal::ProcSignals::default()),
            sighand,
        }
    }

    /// Whether it has exited (every thread gone).
    pub fn is_zombie(&self) -> bool {
        self.inner.lock().zombie.is_some()
    }
}

/// A vfork parent's wait for its child to stop borrowing its memory: the
/// child thread completes it when it execs or exits (Linux's
/// `vfork_done`, completed in `mm_release`), whether it is a process of
/// its own or a thread.
pub struct VforkDone {
    done: AtomicBool,
    wait: super::wait::WaitQueue,
}

impl VforkDone {
    pub const fn new() -> VforkDone {
        VforkDone { done: AtomicBool::new(false), wait: super::wait::WaitQueue::new() }
    }

    /// The child no longer uses the parent's memory.
    pub fn complete(&self) {
        self.done.store(true, Ordering::Relaxed);
        self.wait.wake_all();
    }

    /// Sleeps until [`complete`](Self::complete); only the end of the
    /// caller's thread ends the wait early (Linux's killable wait).
    pub fn wait(&self) {
        let _ = self.wait.wait_killable(|| self.done.load(Ordering::Relaxed));
    }
}

impl Default for VforkDone {
    fn default() -> Self {
        Self::new()
    }
}

/// A thread.
pub struct Thread {
    pub tid: Pid,
    pub process: Arc<Process>,
    pub state: State,
    pub mm: Arc<Mm>,
    pub files: Arc<Mutex<Files>>,
    pub fs: Arc<Mutex<FsContext>>,
    /// Its signal mask, pending signals and alternate stack.
    pub sig: super::signal::ThreadSignals,
    /// Told to exit (its process is exiting, or another thread execs): it
    /// does at its next return to user mode, and wakes up if asleep.
    pub must_exit: bool,
    /// `set_tid_address`/CLONE_CHILD_CLEARTID: zeroed and woken at exit.
    pub clear_child_tid: u64,
    /// `set_robust_list`: the head of its robust futex list.
    pub robust_list: u64,
    /// Set while it was made by vfork and still borrows its parent's
    /// memory: completed at its exec or exit.
    pub vfork_done: Option<Arc<VforkDone>>,
    pub kstack: Box<KernelStack>,
    pub ctx: Context,
    pub fp: Box<FpState>,
    pub tpidr: u64,
    /// Ticks spent running (for getrusage).
    pub user_ticks: u64,
    /// Open `perf_event_open` events (index = PMU counter).
    pub perf: super::perf::Events,
}

impl Thread {
    /// The top of the kernel stack, where the user trap frame lives.
    pub fn trap_frame(&mut self) -> &mut TrapFrame {
        let top = self.kstack.0.as_mut_ptr_range().end as usize;
        let frame = (top - core::mem::size_of::<TrapFrame>()) as *mut TrapFrame;
        // SAFETY: the frame area at the top of this thread's own kernel
        // stack is reserved for its user trap frame (vectors.S pushes it
        // there on every entry from EL0, the stack being empty then).
        unsafe { &mut *frame }
    }

    /// Its process id.
    pub fn pid(&self) -> Pid {
        self.process.pid
    }
}

/// The thread and process maps, under one lock.
pub struct Tables {
    pub threads: BTreeMap<Pid, Box<Thread>>,
    pub procs: BTreeMap<Pid, Arc<Process>>,
}

impl Tables {
    /// The first live thread of process `pid` (where a signal for the
    /// process goes).
    pub fn main_thread(&mut self, pid: Pid) -> Option<&mut Thread> {
        let p = self.procs.get(&pid)?;
        let tid = *p.inner.lock().threads.first()?;
        self.threads.get_mut(&tid).map(|t| &mut **t)
    }
}

/// Both tables.
pub static TABLE: Mutex<Tables> = Mutex::new(Tables { threads: BTreeMap::new(), procs: BTreeMap::new() });

static NEXT_PID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);

/// A fresh pid (also used for tids).
pub fn alloc_pid() -> Pid {
    NEXT_PID.fetch_add(1, Ordering::Relaxed)
}

/// Runs `f` on thread `tid`.
pub fn with<R>(tid: Pid, f: impl FnOnce(&mut Thread) -> R) -> Option<R> {
    TABLE.lock().threads.get_mut(&tid).map(|t| f(t))
}

/// The table was locked when [`try_with`] needed it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Busy;

/// Runs `f` on thread `tid` (`None` if there is none) unless the table is
/// locked. The fault path uses it: on one CPU a locked table means the
/// faulting code itself holds it (a user copy made under the lock), and
/// waiting for it would hang the machine.
pub fn try_with<R>(tid: Pid, f: impl FnOnce(&mut Thread) -> R) -> Result<Option<R>, Busy> {
    let mut t = TABLE.try_lock().ok_or(Busy)?;
    Ok(t.threads.get_mut(&tid).map(|p| f(p)))
}

/// Runs `f` on the calling thread (what system calls work on); ESRCH only
/// if there is none, which a system call never sees.
pub fn with_current<R>(f: impl FnOnce(&mut Thread) -> R) -> Result<R, Errno> {
    with(super::sched::current(), f).ok_or(Errno::ESRCH)
}

/// The calling thread's process.
pub fn current_process() -> Result<Arc<Process>, Errno> {
    with_current(|t| t.process.clone())
}

/// The calling thread's address space.
pub fn current_mm() -> Result<Arc<Mm>, Errno> {
    with_current(|t| t.mm.clone())
}

/// Runs `f` on the calling thread's address space, locked (and the
/// thread table not).
pub fn with_mm<R>(f: impl FnOnce(&mut AddressSpace) -> R) -> Result<R, Errno> {
    let mm = current_mm()?;
    let mut g = mm.lock();
    Ok(f(&mut g))
}

/// Runs `f` on the calling thread's descriptor table, locked.
pub fn with_files<R>(f: impl FnOnce(&mut Files) -> R) -> Result<R, Errno> {
    let files = with_current(|t| t.files.clone())?;
    let mut g = files.lock();
    Ok(f(&mut g))
}

/// Runs `f` on the calling thread's fs context (cwd, umask), locked.
pub fn with_fs<R>(f: impl FnOnce(&mut FsContext) -> R) -> Result<R, Errno> {
    let fs = with_current(|t| t.fs.clone())?;
    let mut g = fs.lock();
    Ok(f(&mut g))
}

/// Process `pid`, if it exists (zombies included).
pub fn process(pid: Pid) -> Option<Arc<Process>> {
    TABLE.lock().procs.get(&pid).cloned()
}
