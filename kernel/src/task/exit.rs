//! The end of a process: `exit`, death by signal, and `wait4`.
//!
//! An exiting process gives back its address space (every frame it held)
//! and its files at once, becomes a *zombie* holding only its exit status,
//! hands its children to pid 1, and wakes its parent if it is waiting. The
//! parent's `wait4` collects the status and frees the zombie's last memory,
//! its kernel stack (a process cannot free the stack it is running on).
//!
//! Wait statuses are encoded as Linux does: `(code << 8)` for a normal
//! exit, the signal number for a death by signal.

use super::process::{Block, Pid, State, TABLE};
use super::sched;
use crate::arch::aarch64::mmu;
use crate::errno::Errno;

pub const SIGKILL: u32 = 9;
pub const SIGBUS: u32 = 7;
pub const SIGSEGV: u32 = 11;
pub const SIGCHLD: u64 = 17;
/// `wait4` option: do not block.
pub const WNOHANG: u64 = 1;

/// The wait status of a normal exit.
pub fn exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// The wait status of a death by signal.
pub fn signaled(sig: u32) -> i32 {
    (sig & 0x7f) as i32
}

/// Ends the current process with `wait_status`; never returns.
pub fn exit_current(wait_status: i32) -> ! {
    let pid = sched::current();
    // Robust futexes first, while the memory they live in is still there
    // (and without the table locked: the walk reads user memory).
    let head = super::process::with(pid, |p| core::mem::take(&mut p.robust_list)).unwrap_or(0);
    super::futex::exit_robust_list(head, pid);
    let mut parent = 0;
    let mut old_files = alloc::vec::Vec::new();
    {
        let mut t = TABLE.lock();
        if let Some(p) = t.get_mut(&pid) {
            // TTBR0 must stop pointing at the tables before they are freed.
            mmu::set_user_table(crate::mm::kernel_space::empty_table(), 0);
            p.mm.clear();
            old_files = core::mem::take(&mut p.files);
            super::signal::take_pending(p);
            p.state = State::Zombie { wait_status };
            parent = p.ppid;
        }
        for c in t.values_mut().filter(|c| c.ppid == pid) {
            c.ppid = 1;
        }
    }
    drop(old_files);
    // Inherited perf events: the count (teardown included) goes to the parent.
    let counts = super::process::with(pid, |p| super::perf::exit_counts(&mut p.perf)).unwrap_or_default();
    for (ppid, id, n) in counts {
        super::process::with(ppid, |p| super::perf::add_child_count(&mut p.perf, id, n));
    }
    if pid == 1 {
        super::init_exited(wait_status);
    }
    wake_waiter(parent, pid);
    // A zombie is never made ready again: this switch is its last.
    loop {
        sched::schedule();
    }
}

fn wake_waiter(parent: Pid, child: Pid) {
    let waiting = TABLE.lock().get(&parent).is_some_and(|p| match p.state {
        State::Blocked(Block::Wait(w)) => w == -1 || w == child as i32,
        _ => false,
    });
    if waiting {
        sched::make_ready(parent);
    }
}

/// `wait4(pid, ...)`: returns (child pid, wait status, its fault count).
pub fn wait(pid: i32, options: u64) -> Result<Option<(Pid, i32, u64)>, Errno> {
    let me = sched::current();
    loop {
        {
            let mut t = TABLE.lock();
            let mine =
                |p: &&alloc::boxed::Box<super::process::Process>| p.ppid == me && (pid == -1 || p.pid as i32 == pid);
            if !t.values().any(|p| mine(&p)) {
                return Err(Errno::ECHILD);
            }
            let zombie = t.values().filter(mine).find_map(|p| match p.state {
                State::Zombie { wait_status } => Some((p.pid, wait_status)),
                _ => None,
            });
            if let Some((z, wait_status)) = zombie {
                let p = t.remove(&z);
                // Its last memory (kernel stack, root table) goes without
                // the table locked.
                drop(t);
                let flt = p.map_or(0, |p| p.counters.minflt);
                return Ok(Some((z, wait_status, flt)));
            }
        }
        if options & WNOHANG != 0 {
            return Ok(None);
        }
        sched::block(Block::Wait(pid))?;
    }
}
