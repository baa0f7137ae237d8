//! The futex system calls: `futex`, `set_robust_list`, `get_robust_list`,
//! and what thread exit does to futexes.
//!
//! **No lost wake-up.** A waiter takes the queue lock, reads its word,
//! compares it with the value it expects and, if they are equal, queues
//! itself, all before the lock is released; a waker changes the word first
//! and takes the lock after. So a wake either comes before the waiter's
//! read (which then sees the new value: EAGAIN) or finds the waiter queued.
//! This holds with several CPUs as well. On armmap's one CPU with
//! interrupts masked in the kernel nothing else runs between the read and
//! the sleep anyway.
//!
//! The word is read with the queue lock held, which is the one user access
//! made under a lock: as Linux's `futex_get_value_locked`, it must not
//! sleep, and it does not: the page was just faulted in when the key was
//! taken (shared futexes), and a kernel fault on a user address is resolved
//! on the spot or fails (EFAULT), never sleeping and never touching futex
//! state. `FUTEX_WAKE_OP`'s read-modify-write of its second word is made
//! the same way; with one CPU and interrupts masked it is atomic with
//! respect to every other thread (several CPUs would need an exclusive
//! load/store pair on the user address, as Linux's arm64 code has).
//!
//! Lock order: the queue lock, then the process table (`make_ready` is
//! called with the queue lock held); nothing takes them the other way.

use super::{cmd, deadline, on_death, robust_entry, Death, Key, Op, Queues, Waiter, WakeOp};
use super::{BITSET_MATCH_ANY, ROBUST_LIST_HEAD_LEN, ROBUST_LIST_LIMIT};
use crate::arch::aarch64::timer;
use crate::arch::aarch64::uaccess::{access_ok, read_user, without_faults, write_user};
use crate::errno::{Errno, SysResult};
use crate::mm::address_space::FutexPlace;
use crate::task::process::{self, Block, Pid};
use crate::task::sched;
use spin::Mutex;

/// Every sleeper. One lock covers all the buckets: a requeue then moves
/// sleepers between buckets and a waiter takes itself out without racing
/// a move. (Per-bucket locks, as Linux has, are the refinement for several
/// CPUs contending on different futexes.)
static QUEUES: Mutex<Queues> = Mutex::new(Queues::new());

/// How far `CLOCK_REALTIME` reads ahead of `CLOCK_MONOTONIC`, in
/// nanoseconds (signed): the vDSO data page's offset, which
/// `clock_gettime` adds too (0 while armmap has no wall clock).
fn realtime_offset_ns() -> i64 {
    crate::vdso::params().realtime_offset_ns as i64
}

fn efault<T>(_: T) -> Errno {
    Errno::EFAULT
}

/// The key of the word at `uaddr` (Linux's `get_futex_key`): EINVAL if it
/// is not 4-byte aligned, EFAULT if it is not a user address or (shared
/// futexes, which need the page) cannot be read.
fn key_of(uaddr: u64, shared: bool) -> Result<Key, Errno> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if !access_ok(uaddr, 4) {
        return Err(Errno::EFAULT);
    }
    let mm = process::with_mm(|m| m.id())?;
    if !shared {
        return Ok(Key::Private { mm, addr: uaddr });
    }
    // Fault the page in, then look at the entry (without touching user
    // memory while the table is locked). Nothing runs in between on one
    // CPU; the retry covers a page taken away meanwhile.
    for _ in 0..4 {
        read_user::<u32>(uaddr).map_err(efault)?;
        match process::with_mm(|m| m.futex_place(uaddr))? {
            FutexPlace::Private => return Ok(Key::Private { mm, addr: uaddr }),
            FutexPlace::Shared(phys) => return Ok(Key::Shared { phys }),
            FutexPlace::Unmapped => return Err(Errno::EFAULT),
            FutexPlace::NotPresent => continue,
        }
    }
    Err(Errno::EFAULT)
}

/// `futex(uaddr, op, val, timeout or val2, uaddr2, val3)`.
pub fn sys_futex(uaddr: u64, op: u64, val: u64, utime: u64, uaddr2: u64, val3: u64) -> SysResult {
    let op = Op::decode(op);
    // The timeout is read and checked first, as on Linux.
    let mut until = None;
    if utime != 0 && op.has_timeout() {
        let [sec, nsec]: [i64; 2] = read_user(utime).map_err(efault)?;
        until = Some(deadline(op, sec, nsec, timer::uptime_ns(), realtime_offset_ns())?);
    }
    op.check_clock()?;
    // Linux's arguments are 32-bit: `val`, `val3` and the fourth argument
    // as a count (`val2`) are truncated, counts taken as signed.
    let (val, val2, val3) = (val as u32, utime as u32, val3 as u32);
    match op.cmd {
        cmd::WAIT => wait(uaddr, op.shared, val, until, BITSET_MATCH_ANY),
        cmd::WAIT_BITSET => wait(uaddr, op.shared, val, until, val3),
        cmd::WAKE => wake(uaddr, op.shared, val as i32, BITSET_MATCH_ANY),
        cmd::WAKE_BITSET => wake(uaddr, op.shared, val as i32, val3),
        cmd::REQUEUE => requeue(uaddr, uaddr2, op.shared, val as i32, val2 as i32, None),
        cmd::CMP_REQUEUE => requeue(uaddr, uaddr2, op.shared, val as i32, val2 as i32, Some(val3)),
        cmd::WAKE_OP => wake_op(uaddr, uaddr2, op.shared, val as i32, val2 as i32, val3),
        // Priority inheritance (LOCK_PI, UNLOCK_PI, TRYLOCK_PI, LOCK_PI2,
        // WAIT_REQUEUE_PI, CMP_REQUEUE_PI) is not implemented; unknown
        // operations are ENOSYS on Linux too.
        _ => Err(Errno::ENOSYS),
    }
}

/// `FUTEX_WAIT(_BITSET)`: sleeps while the word holds `val`, until woken,
/// `until` (nanoseconds since boot) or a signal.
fn wait(uaddr: u64, shared: bool, val: u32, until: Option<u64>, bitset: u32) -> SysResult {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let me = sched::current();
    loop {
        let key = key_of(uaddr, shared)?;
        // Fault the word's page in before the lock (a shared key did
        // already), so that the read under it finds the page present.
        read_user::<u32>(uaddr).map_err(efault)?;
        {
            let mut q = QUEUES.lock();
            // No fault is resolved under the lock: if the page went
            // meanwhile, fault it in again without the lock and retry.
            let Ok(now) = without_faults(|| read_user::<u32>(uaddr)) else { continue };
            if now != val {
                return Err(Errno::EAGAIN);
            }
            if until.is_some_and(|d| timer::uptime_ns() >= d) {
                return Err(Errno::ETIMEDOUT);
            }
            q.enqueue(Waiter { who: me, key, bitset })?;
        }
        let slept = sched::block(Block::Queue(until));
        if !QUEUES.lock().unqueue(me, key) {
            // A wake took it out: success, whatever else happened.
            return Ok(0);
        }
        if until.is_some_and(|d| timer::uptime_ns() >= d) {
            return Err(Errno::ETIMEDOUT);
        }
        if slept.is_err() {
            // As Linux: an untimed wait restarts under SA_RESTART (or when
            // no handler runs); a timed one ends with EINTR if a handler
            // runs and otherwise restarts, with the same arguments (Linux
            // keeps the absolute deadline in a restart block: a relative
            // FUTEX_WAIT here starts its timeout over, which only a
            // stopped and continued waiter can see).
            return Err(if until.is_some() { Errno::ERESTART_RESTARTBLOCK } else { Errno::ERESTARTSYS });
        }
        // Woken for no reason: look at the word again, as Linux does.
    }
}

/// Makes the page of `uaddr` writable by a user store (a copy-on-write
/// share broken, a missing page filled), as the fault handler does for a
/// write, so the area's protection is checked (EFAULT if it forbids
/// writing). Called without any lock held; what Linux's
/// `fault_in_user_writeable` does before a futex store is retried.
fn make_writable(uaddr: u64) -> Result<(), Errno> {
    use crate::mm::fault::{self, Access};
    crate::task::process::with_mm(|mm| {
        let no_entry = mm.translate(uaddr & !3).is_none();
        fault::handle(mm, uaddr, Access::Write, no_entry).map(|_| ()).map_err(|_| Errno::EFAULT)
    })?
}

/// `FUTEX_WAKE(_BITSET)`.
fn wake(uaddr: u64, shared: bool, nr: i32, bitset: u32) -> SysResult {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let key = key_of(uaddr, shared)?;
    Ok(u64::from(QUEUES.lock().wake(key, bitset, nr, sched::make_ready)))
}

/// `FUTEX_(CMP_)REQUEUE`: wakes `nr_wake` sleepers of `uaddr` and moves up
/// to `nr_requeue` others to `uaddr2`, if `uaddr` still holds `cmp`.
fn requeue(uaddr: u64, uaddr2: u64, shared: bool, nr_wake: i32, nr_requeue: i32, cmp: Option<u32>) -> SysResult {
    if nr_wake < 0 || nr_requeue < 0 {
        return Err(Errno::EINVAL);
    }
    let from = key_of(uaddr, shared)?;
    let to = key_of(uaddr2, shared)?;
    let mut q = loop {
        if cmp.is_some() {
            // Faulted in before the lock, as in `wait`.
            read_user::<u32>(uaddr).map_err(efault)?;
        }
        let q = QUEUES.lock();
        if let Some(expected) = cmp {
            // No fault is resolved under the lock (see `wait`).
            let Ok(now) = without_faults(|| read_user::<u32>(uaddr)) else { continue };
            if now != expected {
                return Err(Errno::EAGAIN);
            }
        }
        break q;
    };
    let n = q.requeue(from, to, nr_wake as u32, nr_requeue as u32, sched::make_ready)?;
    Ok(u64::from(n))
}

/// `FUTEX_WAKE_OP`: changes the word at `uaddr2` as `encoded` says, wakes
/// `nr_wake` sleepers of `uaddr` and, if the comparison of the old value
/// holds, `nr_wake2` of `uaddr2`.
fn wake_op(uaddr: u64, uaddr2: u64, shared: bool, nr_wake: i32, nr_wake2: i32, encoded: u32) -> SysResult {
    let key1 = key_of(uaddr, shared)?;
    let key2 = key_of(uaddr2, shared)?;
    let op = WakeOp::decode(encoded);
    if !op.valid_op() {
        return Err(Errno::ENOSYS);
    }
    // Faulted in before the lock, as in `wait` (the store may still
    // break a copy-on-write share under it: resolved on the spot).
    let (mut q, old) = loop {
        read_user::<u32>(uaddr2).map_err(efault)?;
        let q = QUEUES.lock();
        // No fault is resolved under the lock (see `wait`): a store that
        // needs one (a copy-on-write share) is retried after the page was
        // made writable without it.
        let Ok(old) = without_faults(|| read_user::<u32>(uaddr2)) else { continue };
        if without_faults(|| write_user(uaddr2, &op.apply(old))).is_ok() {
            break (q, old);
        }
        drop(q);
        make_writable(uaddr2)?;
    };
    let second = op.compare(old)?;
    let mut n = q.wake(key1, BITSET_MATCH_ANY, nr_wake, sched::make_ready);
    if second {
        n += q.wake(key2, BITSET_MATCH_ANY, nr_wake2, sched::make_ready);
    }
    Ok(u64::from(n))
}

/// Wakes up to `n` sleepers of the (shared-flag) futex at `uaddr` of the
/// current address space; returns how many. For thread exit's
/// `CLONE_CHILD_CLEARTID`, after the 0 is stored (see [`clear_child_tid`]).
pub fn wake_address(uaddr: u64, n: i32) -> Result<u32, Errno> {
    let key = key_of(uaddr, true)?;
    Ok(QUEUES.lock().wake(key, BITSET_MATCH_ANY, n, sched::make_ready))
}

/// What an exiting thread does with its `clear_child_tid` address: store
/// 0 there and wake one sleeper (Linux's `mm_release`). A bad address is
/// ignored.
pub fn clear_child_tid(uaddr: u64) {
    if uaddr != 0 && write_user(uaddr, &0u32).is_ok() {
        let _ = wake_address(uaddr, 1);
    }
}

/// `set_robust_list(head, len)`: EINVAL unless `len` is the size of
/// `struct robust_list_head`; the head is only read at exit.
pub fn set_robust_list(head: u64, len: u64) -> SysResult {
    if len != ROBUST_LIST_HEAD_LEN {
        return Err(Errno::EINVAL);
    }
    process::with_current(|p| p.robust_list = head)?;
    Ok(0)
}

/// `get_robust_list(pid, head_ptr, len_ptr)`: the head registered by
/// process `pid` (0: the caller); ESRCH if there is none.
pub fn get_robust_list(pid: u64, head_ptr: u64, len_ptr: u64) -> SysResult {
    let pid = match pid as i32 {
        0 => sched::current(),
        p => p as Pid,
    };
    let head = process::with(pid, |p| p.robust_list).ok_or(Errno::ESRCH)?;
    write_user(len_ptr, &ROBUST_LIST_HEAD_LEN).map_err(efault)?;
    write_user(head_ptr, &head).map_err(efault)?;
    Ok(0)
}

/// Releases the robust futexes of dying thread `tid` whose list head is
/// at `head` (0: none): every lock on the list (at most
/// [`ROBUST_LIST_LIMIT`] entries), then the one named by
/// `list_op_pending`. Stops at the first entry that cannot be read, as
/// Linux's `exit_robust_list`.
pub fn exit_robust_list(head: u64, tid: Pid) {
    if head == 0 {
        return;
    }
    let Ok((mut entry, mut pi)) = read_user::<u64>(head).map(robust_entry) else { return };
    let Ok(offset) = read_user::<i64>(head.wrapping_add(8)) else { return };
    let Ok((pending, pending_pi)) = read_user::<u64>(head.wrapping_add(16)).map(robust_entry) else { return };
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        let next = read_user::<u64>(entry).map(robust_entry);
        if entry != pending && futex_death(entry.wrapping_add(offset as u64), tid, pi, false).is_err() {
            return;
        }
        let Ok((n, npi)) = next else { return };
        (entry, pi) = (n, npi);
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        let _ = futex_death(pending.wrapping_add(offset as u64), tid, pending_pi, true);
    }
}

/// One robust futex of a dying thread (Linux's `handle_futex_death`).
fn futex_death(uaddr: u64, tid: Pid, pi: bool, pending: bool) -> Result<(), Errno> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let key = key_of(uaddr, true)?;
    // Under the queue lock, so that the change and the wake are one step
    // for any waiter (see the module documentation).
    loop {
        read_user::<u32>(uaddr).map_err(efault)?;
        let mut q = QUEUES.lock();
        // No fault is resolved under the lock (see `wait`).
        let Ok(uval) = without_faults(|| read_user::<u32>(uaddr)) else { continue };
        match on_death(uval, tid, pi, pending) {
            Death::Nothing => {}
            Death::WakeOnly => {
                q.wake(key, BITSET_MATCH_ANY, 1, sched::make_ready);
            }
            Death::Mark { new, wake } => {
                if without_faults(|| write_user(uaddr, &new)).is_err() {
                    drop(q);
                    make_writable(uaddr)?;
                    continue;
                }
                if wake {
                    q.wake(key, BITSET_MATCH_ANY, 1, sched::make_ready);
                }
            }
        }
        break;
    }
    Ok(())
}
