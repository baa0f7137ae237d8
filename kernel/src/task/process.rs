//! Processes: the process table and what each process owns.
//!
//! A process is a user address space ([`AddressSpace`]), open files, a
//! kernel stack on which its system calls and faults run, and the saved
//! state of whatever it was doing when it last stopped running: a kernel
//! [`Context`] (inside the scheduler) and its user FP/SIMD registers and
//! thread pointer. The table maps pids to boxed processes, so a process's
//! context stays at one address while it sleeps in `switch_context`.
//!
//! armmap is a uniprocessor kernel that runs with interrupts masked (they
//! are taken in user mode and in the idle loop only), so the table's lock is
//! never contended; it still is a lock, and it is never held across a
//! context switch.

use crate::arch::aarch64::context::{Context, FpState};
use crate::arch::aarch64::exception::TrapFrame;
use crate::fs::vfs::OpenFile;
use crate::mm::address_space::AddressSpace;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// A process id.
pub type Pid = u32;

/// Size of each process's kernel stack.
pub const KSTACK_SIZE: usize = 32 << 10;

/// A kernel stack (16-byte aligned for the AAPCS).
#[repr(C, align(16))]
pub struct KernelStack(pub [u8; KSTACK_SIZE]);

/// Why a process is not runnable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// In `wait4`, for the given pid (or -1 for any child).
    Wait(i32),
    /// In `nanosleep`, until the clock (nanoseconds since boot) reaches
    /// this value; checked at every tick, so never woken early.
    Sleep(u64),
    /// On a [`WaitQueue`](super::wait::WaitQueue), until woken or until
    /// the clock reaches the deadline, if there is one.
    Queue(Option<u64>),
}

/// Where a process is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum State {
    Ready,
    Running,
    Blocked(Block),
    /// Exited; `wait_status` is encoded as Linux's wait4 reports it.
    Zombie {
        wait_status: i32,
    },
}

/// Per-process counters (see `/proc/self/stat`-like output in docs).
#[derive(Copy, Clone, Default, Debug)]
pub struct Counters {
    /// Page faults resolved without I/O (Linux `ru_minflt`).
    pub minflt: u64,
    /// Copy-on-write copies made.
    pub cow: u64,
    /// Pages mapped at mmap time by one-pass remap.
    pub eager_pages: u64,
}

/// The file descriptor table.
pub type Files = Vec<Option<Arc<OpenFile>>>;

/// A process.
pub struct Process {
    pub pid: Pid,
    pub ppid: Pid,
    /// Process group and session (`setpgid`, `setsid`; inherited by fork).
    pub pgid: Pid,
    pub sid: Pid,
    /// A signal sent and not acted on yet (see `signal.rs`).
    pub pending: Option<u32>,
    pub name: String,
    pub state: State,
    pub mm: AddressSpace,
    pub files: Files,
    pub cwd: String,
    pub kstack: Box<KernelStack>,
    pub ctx: Context,
    pub fp: Box<FpState>,
    pub tpidr: u64,
    pub counters: Counters,
    /// Ticks spent running in user mode and in the kernel (for getrusage).
    pub user_ticks: u64,
    /// Open `perf_event_open` events (index = PMU counter).
    pub perf: super::perf::Events,
    /// Catches a fault that repeats without progress (see `mm/fault.rs`).
    pub fault_watch: crate::mm::spurious::SpuriousWatch<(u64, crate::mm::fault::Access)>,
    /// The user address of the robust-futex list head (`set_robust_list`;
    /// 0: none), walked at exit (see `futex.rs`). Linux keeps one per
    /// thread: it moves to the thread record when threads arrive.
    pub robust_list: u64,
}

impl Process {
    /// The top of the kernel stack, where the user trap frame lives.
    pub fn trap_frame(&mut self) -> &mut TrapFrame {
        let top = self.kstack.0.as_mut_ptr_range().end as usize;
        let frame = (top - core::mem::size_of::<TrapFrame>()) as *mut TrapFrame;
        // SAFETY: the frame area at the top of this process's own kernel
        // stack is reserved for its user trap frame (vectors.S pushes it
        // there on every entry from EL0, the stack being empty then).
        unsafe { &mut *frame }
    }
}

/// The process table.
pub static TABLE: Mutex<BTreeMap<Pid, Box<Process>>> = Mutex::new(BTreeMap::new());

static NEXT_PID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);

/// A fresh pid.
pub fn alloc_pid() -> Pid {
    NEXT_PID.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
}

/// Runs `f` on process `pid`.
pub fn with<R>(pid: Pid, f: impl FnOnce(&mut Process) -> R) -> Option<R> {
    TABLE.lock().get_mut(&pid).map(|p| f(p))
}

/// The process table was locked when [`try_with`] needed it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Busy;

/// Runs `f` on process `pid` (`None` if there is none) unless the table
/// is locked. The fault path uses it: on one CPU a locked table means the
/// faulting code itself holds it (a user copy made under the lock), and
/// waiting for it would hang the machine.
pub fn try_with<R>(pid: Pid, f: impl FnOnce(&mut Process) -> R) -> Result<Option<R>, Busy> {
    let mut t = TABLE.try_lock().ok_or(Busy)?;
    Ok(t.get_mut(&pid).map(|p| f(p)))
}

/// Runs `f` on the calling process (what system calls work on); ESRCH
/// only if there is none, which a system call never sees.
pub fn with_current<R>(f: impl FnOnce(&mut Process) -> R) -> Result<R, crate::errno::Errno> {
    with(super::sched::current(), f).ok_or(crate::errno::Errno::ESRCH)
}

/// Number of processes in the table (zombies included).
pub fn count() -> usize {
    TABLE.lock().len()
}
