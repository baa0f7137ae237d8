//! The end of a thread and of a process: `exit`, `exit_group`, death by
//! signal, and `wait4`.
//!
//! A thread that exits gives up its references to the address space,
//! descriptor table and fs context (the last reference frees them: every
//! frame and every open file), zeroes its `clear_child_tid` word and wakes
//! a futex waiter there (how `pthread_join` learns of it), and makes one
//! last switch; the scheduler frees its kernel stack afterwards (a thread
//! cannot free the stack it is running on).
//!
//! A process ends when its last thread does. `exit_group` and a fatal
//! signal decide the process's status first and make every other thread
//! exit at its next return to user mode (or at once, if it is asleep).
//! The process then becomes a *zombie* holding only its status, hands its
//! children to pid 1, releases a vfork parent, and wakes its parent's
//! `wait4`. The parent collects the status and the record goes.
//!
//! Wait statuses are encoded as Linux does: `(code << 8)` for a normal
//! exit, the signal number for a death by signal.

use super::process::{self, Pid, Process, TABLE};
use super::sched;
use super::signal::SIGCHLD;
use crate::arch::aarch64::mmu;
use crate::errno::Errno;
use alloc::sync::Arc;

/// `wait4` option: do not block.
pub const WNOHANG: u64 = linux_raw_sys::general::WNOHANG as u64;
/// `wait4` options accepted (WNOHANG, WUNTRACED, WCONTINUED, __WNOTHREAD,
/// __WALL, __WCLONE).
const WAIT_OPTIONS: u64 = {
    use linux_raw_sys::general::*;
    (WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE) as u64
};

/// The wait status of a normal exit.
pub fn exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// The wait status of a death by signal.
pub fn signaled(sig: u32) -> i32 {
    (sig & 0x7f) as i32
}

/// Ends the calling process (every thread) with `wait_status`: `exit_group`,
/// and death by a signal. Never returns.
pub fn exit_current(wait_status: i32) -> ! {
    if let Ok(p) = process::current_process() {
        p.inner.lock().group_exit.get_or_insert(wait_status);
        kill_other_threads(&p);
    }
    exit_thread(wait_status)
}

/// Tells every thread of `p` but the caller to exit (at its next return
/// to user mode; a sleeping one is woken for it).
pub fn kill_other_threads(p: &Process) {
    let me = sched::current();
    let mut t = TABLE.lock();
    let inner = p.inner.lock();
    for &tid in inner.threads.iter().filter(|&&tid| tid != me) {
        if let Some(th) = t.threads.get_mut(&tid) {
            super::signal::tell_to_exit(th);
        }
    }
}

/// Ends the calling thread (`exit`); the process ends with `wait_status`
/// (or the status its group exit decided) if it was the last one.
pub fn exit_thread(wait_status: i32) -> ! {
    let tid = sched::current();
    // Futexes first, while the memory is still there (Linux's
    // mm_release): the robust list's locks are released, then the
    // `clear_child_tid` word is zeroed and one waiter woken. The thread is
    // past its signals now (a pending one would make its user accesses
    // fail), and no table is locked (they read and write user memory).
    let (clear_tid, robust) = process::with(tid, |t| {
        super::signal::exit_told(t);
        (core::mem::take(&mut t.clear_child_tid), core::mem::take(&mut t.robust_list))
    })
    .unwrap_or((0, 0));
    super::futex::exit_robust_list(robust, tid);
    super::futex::clear_child_tid(clear_tid);
    let (empty_mm, empty_files, empty_fs) = super::empty_resources();
    // Take the thread's resources; they are dropped below without locks.
    let Some((proc_, mm, files, fs, ticks, vfork_done)) = process::with(tid, |t| {
        (
            t.process.clone(),
            core::mem::replace(&mut t.mm, empty_mm),
            core::mem::replace(&mut t.files, empty_files),
            core::mem::replace(&mut t.fs, empty_fs),
            t.user_ticks,
            t.vfork_done.take(),
        )
    }) else {
        // Only a thread calls this.
        loop {
            sched::schedule();
        }
    };
    // A vfork parent waits for this thread to let go of its memory.
    if let Some(done) = vfork_done {
        done.complete();
    }
    // TTBR0 must stop pointing at the tables before they can be freed.
    mmu::set_user_table(crate::mm::kernel_space::empty_table(), 0);
    drop(mm);
    drop(files);
    drop(fs);
    // Inherited perf events: the count (teardown included) goes to the
    // thread that opened them.
    let counts = process::with(tid, |t| super::perf::exit_counts(&mut t.perf)).unwrap_or_default();
    for (owner, id, n) in counts {
        process::with(owner, |t| super::perf::add_child_count(&mut t.perf, id, n));
    }
    let (last, status) = {
        let mut t = TABLE.lock();
        if let Some(th) = t.threads.get_mut(&tid) {
            super::signal::exit_told(th);
            sched::retire(th);
        }
        let mut i = proc_.inner.lock();
        i.threads.retain(|&t| t != tid);
        i.dead_ticks += ticks;
        (i.threads.is_empty(), i.group_exit.unwrap_or(wait_status))
    };
    proc_.thread_exit.wake_all();
    if last {
        process_exited(&proc_, status);
    }
    drop(proc_);
    // A dead thread is never made ready again: this switch is its last.
    loop {
        sched::schedule();
    }
}

/// The last thread of `p` has gone: `p` becomes a zombie with `status`.
fn process_exited(p: &Arc<Process>, status: i32) {
    let pid = p.pid;
    let (parent, orphan_zombies) = {
        let t = TABLE.lock();
        let mut orphan_zombies = false;
        for c in t.procs.values() {
            let mut ci = c.inner.lock();
            if ci.ppid == pid {
                // As Linux's reparent_leader: init gets SIGCHLD from it.
                ci.ppid = 1;
                ci.exit_signal = SIGCHLD;
                orphan_zombies |= ci.zombie.is_some();
            }
        }
        let mut i = p.inner.lock();
        i.zombie = Some(status);
        (t.procs.get(&i.ppid).cloned(), orphan_zombies)
    };
    super::timers::with(|t| t.exit(pid));
    if pid == 1 {
        super::init_exited(status);
    }
    // SIGCHLD (or the exit signal clone chose); a parent that ignores it
    // does not wait: the record goes now.
    if super::signal::notify_parent_of_exit(p, status) {
        TABLE.lock().procs.remove(&pid);
    }
    if let Some(parent) = parent {
        parent.child_wait.wake_all();
    }
    if orphan_zombies {
        if let Some(init) = process::process(1) {
            init.child_wait.wake_all();
        }
    }
}

/// Whether child `c` (of a process in group `my_pgid`) is one `wait4(pid,
/// options)` asks for. As on Linux, a child whose exit signal is not
/// SIGCHLD (a "clone" child) is waited for only with __WCLONE, the others
/// only without it; __WALL waits for both.
fn wanted(pid: i32, options: u64, my_pgid: Pid, c: &Process) -> bool {
    const WCLONE: u64 = linux_raw_sys::general::__WCLONE as u64;
    const WALL: u64 = linux_raw_sys::general::__WALL as u64;
    let clone_child = c.inner.lock().exit_signal != SIGCHLD;
    if options & WALL == 0 && clone_child != (options & WCLONE != 0) {
        return false;
    }
    match pid {
        -1 => true,
        0 => c.inner.lock().pgid == my_pgid,
        p if p < -1 => c.inner.lock().pgid == p.unsigned_abs(),
        p => c.pid == p as Pid,
    }
}

/// `wait4` options: exited children are always wanted.
pub const WEXITED: u64 = linux_raw_sys::general::WEXITED as u64;
/// `waitid` option: report without reaping (or consuming the report).
pub const WNOWAIT: u64 = linux_raw_sys::general::WNOWAIT as u64;

/// `wait4(pid, ...)`: returns (child pid, wait status, its fault count).
pub fn wait(pid: i32, options: u64) -> Result<Option<(Pid, i32, u64)>, Errno> {
    if options & !WAIT_OPTIONS != 0 {
        return Err(Errno::EINVAL);
    }
    wait_for(pid, options | WEXITED)
}

/// The common part of `wait4` and `waitid`: the first child `pid` selects
/// that has exited (with WEXITED), stopped (WUNTRACED) or continued
/// (WCONTINUED); WNOWAIT leaves it reportable. The wait status is encoded
/// as wait4 reports it.
pub fn wait_for(pid: i32, options: u64) -> Result<Option<(Pid, i32, u64)>, Errno> {
    let me = process::current_process()?;
    let my_pgid = me.inner.lock().pgid;
    let nowait = options & WNOWAIT != 0;
    let mut outcome = None;
    me.child_wait.wait_until(None, || {
        let mut t = TABLE.lock();
        let mut any = false;
        let mut zombie = None;
        for c in t.procs.values() {
            if c.inner.lock().ppid != me.pid || !wanted(pid, options, my_pgid, c) {
                continue;
            }
            any = true;
            if let Some(status) = c.inner.lock().zombie {
                if options & WEXITED != 0 {
                    zombie = Some((c.pid, status));
                    break;
                }
                continue;
            }
            if let Some(status) = super::signal::take_stop_report(c, options, nowait) {
                // Stopped or continued: reported, not reaped.
                outcome = Some(Ok(Some((c.pid, status, 0))));
                return true;
            }
        }
        outcome = match zombie {
            Some((z, status)) if nowait => {
                let flt = t.procs.get(&z).map_or(0, |c| process::Counters::get(&c.counters.minflt));
                Some(Ok(Some((z, status, flt))))
            }
            Some((z, status)) => {
                let gone = t.procs.remove(&z);
                drop(t);
                let flt = gone.map_or(0, |c| process::Counters::get(&c.counters.minflt));
                Some(Ok(Some((z, status, flt))))
            }
            None if !any => Some(Err(Errno::ECHILD)),
            None if options & WNOHANG != 0 => Some(Ok(None)),
            None => None,
        };
        outcome.is_some()
    })?;
    outcome.unwrap_or(Ok(None))
}
