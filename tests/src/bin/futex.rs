//! `futex`: on-target tests of `futex`, `set_robust_list` and
//! `get_robust_list`.
//!
//! Sleepers and wakers here are different processes (threads of one
//! process are in `tests/c/futex_threads.c` and `futex_robust.c`): the
//! futex words live in `MAP_SHARED` memory (anonymous or a file) shared
//! across `fork`. A child that must act only once the other
//! side sleeps *probes* for a sleeper without waking it: a requeue from
//! the word onto itself of at most one sleeper answers 1 once one is
//! queued (and leaves it where it was). Every wait that a kernel bug could
//! leave hanging has a timeout, and every polling loop a [`Deadline`].
//!
//! Timeouts are checked by bounds only: a wait of 20 ms must last at least
//! 20 ms on the clock it names, never at most some amount.
//!
//! Every case passes on Linux as well (`qemu-aarch64`), except the robust
//! list ones, which qemu-user cannot run (it has no `set_robust_list`).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering::SeqCst};
use user::errno::Errno;
use user::fs;
use user::mm::{self, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE};
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, ExitStatus, SIGTERM};
use user::syscall::{ret, syscall3, syscall6};
use user::test::{Deadline, Failed, Harness, TestResult};
use user::time::{self, Timespec, CLOCK_MONOTONIC, CLOCK_REALTIME};
use user::util;
use user::{check, check_eq, fail, Args};

user::entry!(main);

const SYS_FUTEX: usize = 98;
const SYS_SET_ROBUST_LIST: usize = 99;
const SYS_GET_ROBUST_LIST: usize = 100;

const WAIT: u32 = 0;
const WAKE: u32 = 1;
const REQUEUE: u32 = 3;
const CMP_REQUEUE: u32 = 4;
const WAKE_OP: u32 = 5;
const WAIT_BITSET: u32 = 9;
const WAKE_BITSET: u32 = 10;
const PRIVATE: u32 = 128;
const CLOCK_RT: u32 = 256;
const WAITERS: u32 = 0x8000_0000;
const OWNER_DIED: u32 = 0x4000_0000;

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("futex");
    h.case("mismatch_is_eagain", mismatch_is_eagain);
    h.case("wake_without_sleepers_is_zero", wake_without_sleepers_is_zero);
    h.case("relative_timeout", relative_timeout);
    h.case("absolute_timeout_monotonic", absolute_timeout_monotonic);
    h.case("absolute_timeout_realtime", absolute_timeout_realtime);
    h.case("past_deadline_times_out_at_once", past_deadline_times_out_at_once);
    h.case("invalid_arguments", invalid_arguments);
    h.case("bad_addresses", bad_addresses);
    h.case("wake_op_arithmetic", wake_op_arithmetic);
    h.case("shared_anon_wait_wake_across_fork", shared_anon_wait_wake_across_fork);
    h.case("bitsets_select_sleepers", bitsets_select_sleepers);
    h.case("cmp_requeue_moves_sleeper", cmp_requeue_moves_sleeper);
    h.case("wake_op_wakes_second_word", wake_op_wakes_second_word);
    h.case("shared_file_at_different_addresses", shared_file_at_different_addresses);
    h.case("private_futex_stays_in_its_process", private_futex_stays_in_its_process);
    h.case("signal_ends_a_sleeper", signal_ends_a_sleeper);
    h.case("robust_list_set_and_get", robust_list_set_and_get);
    h.case("robust_owner_died_wakes_sleeper", robust_owner_died_wakes_sleeper);
    h.case("robust_pending_op_marked", robust_pending_op_marked);
    h.case("robust_list_released_at_exec", robust_list_released_at_exec);
    h.case("frames_back_to_baseline", frames_back_to_baseline);
    h.finish()
}

/// `futex(uaddr, op, val, timeout or val2, uaddr2, val3)`.
fn futex(uaddr: usize, op: u32, val: u32, utime: usize, uaddr2: usize, val3: u32) -> Result<usize, Errno> {
    // SAFETY: the kernel reads and writes only the 4-byte words and the
    // timespec named, which are this program's own (or bad on purpose, where
    // it must answer EFAULT).
    ret(unsafe { syscall6(SYS_FUTEX, uaddr, op as usize, val as usize, utime, uaddr2, val3 as usize) })
}

fn addr(w: &AtomicU32) -> usize {
    w as *const AtomicU32 as usize
}

fn ts_ptr(t: &Timespec) -> usize {
    t as *const Timespec as usize
}

/// Waits (shared) while `w` holds `val`, for at most `ms` milliseconds.
fn wait_ms(w: &AtomicU32, val: u32, ms: u64) -> Result<usize, Errno> {
    let t = Timespec::from_millis(ms);
    futex(addr(w), WAIT, val, ts_ptr(&t), 0, 0)
}

fn wake(w: &AtomicU32, n: u32) -> Result<usize, Errno> {
    futex(addr(w), WAKE, n, 0, 0, 0)
}

/// Whether a (shared) sleeper is queued on `w`: moves at most one from
/// `w` onto `w` itself, which wakes nobody.
fn has_sleeper(w: &AtomicU32) -> bool {
    futex(addr(w), REQUEUE, 0, 1, addr(w), 0) == Ok(1)
}

/// Polls until a sleeper is queued on `w` (true), or 5 s pass (false).
fn await_sleeper(w: &AtomicU32) -> bool {
    let mut d = Deadline::after_ms(5000, 5_000_000);
    while !d.expired() {
        if has_sleeper(w) {
            return true;
        }
        process::sched_yield();
    }
    false
}

/// `n` futex words in one fresh shared anonymous page.
fn shared_words(n: usize) -> Result<&'static [AtomicU32], Errno> {
    let a = mm::mmap_anonymous(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED)?;
    // SAFETY: a fresh zeroed shared page of this process, used only as atomics.
    Ok(unsafe { core::slice::from_raw_parts(a as *const AtomicU32, n) })
}

fn unmap(words: &[AtomicU32]) {
    // SAFETY: the page came from `shared_words` and is not used any more.
    let _ = unsafe { mm::munmap(words.as_ptr() as usize, PAGE_SIZE) };
}

/// Waits for child `pid`; Err unless it exited with status 0.
fn child_ok(pid: process::Pid) -> TestResult {
    let (_, status) = process::waitpid(pid, 0)?;
    check!(wifexited(status) && wexitstatus(status) == 0, "child: {}", ExitStatus(status));
    Ok(())
}

fn mismatch_is_eagain() -> TestResult {
    let w = shared_words(1)?;
    w[0].store(1, SeqCst);
    for op in [WAIT, WAIT | PRIVATE] {
        check_eq!(futex(addr(&w[0]), op, 0, 0, 0, 0), Err(Errno::EAGAIN), "op {op:#x}");
    }
    check_eq!(futex(addr(&w[0]), WAIT_BITSET, 2, 0, 0, 1), Err(Errno::EAGAIN));
    let local = AtomicU32::new(7);
    check_eq!(futex(addr(&local), WAIT | PRIVATE, 8, 0, 0, 0), Err(Errno::EAGAIN));
    unmap(w);
    Ok(())
}

fn wake_without_sleepers_is_zero() -> TestResult {
    let w = shared_words(2)?;
    check_eq!(wake(&w[0], 1), Ok(0));
    check_eq!(futex(addr(&w[0]), WAKE | PRIVATE, i32::MAX as u32, 0, 0, 0), Ok(0));
    check_eq!(futex(addr(&w[0]), WAKE_BITSET, 1, 0, 0, 0b100), Ok(0));
    check_eq!(futex(addr(&w[0]), REQUEUE, 1, 1, addr(&w[1]), 0), Ok(0));
    check_eq!(futex(addr(&w[0]), CMP_REQUEUE, 1, 1, addr(&w[1]), 0), Ok(0));
    unmap(w);
    Ok(())
}

fn relative_timeout() -> TestResult {
    let w = AtomicU32::new(0);
    let t0 = time::clock_gettime(CLOCK_MONOTONIC)?;
    let r = wait_ms(&w, 0, 20);
    let t1 = time::clock_gettime(CLOCK_MONOTONIC)?;
    check_eq!(r, Err(Errno::ETIMEDOUT));
    let ns = t1.nanos_since(&t0);
    check!(ns >= 20_000_000, "the 20 ms wait lasted {ns} ns");
    // Private as well.
    let t = Timespec::from_millis(20);
    let t0 = time::clock_gettime(CLOCK_MONOTONIC)?;
    check_eq!(futex(addr(&w), WAIT | PRIVATE, 0, ts_ptr(&t), 0, 0), Err(Errno::ETIMEDOUT));
    let ns = time::clock_gettime(CLOCK_MONOTONIC)?.nanos_since(&t0);
    check!(ns >= 20_000_000, "the 20 ms private wait lasted {ns} ns");
    Ok(())
}

fn add_ms(t: Timespec, ms: i64) -> Timespec {
    let ns = t.as_nanos() + ms as i128 * 1_000_000;
    Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
}

fn absolute_timeout_monotonic() -> TestResult {
    let w = AtomicU32::new(3);
    let t0 = time::clock_gettime(CLOCK_MONOTONIC)?;
    let until = add_ms(t0, 20);
    let r = futex(addr(&w), WAIT_BITSET | PRIVATE, 3, ts_ptr(&until), 0, u32::MAX);
    let t1 = time::clock_gettime(CLOCK_MONOTONIC)?;
    check_eq!(r, Err(Errno::ETIMEDOUT));
    check!(t1 >= until, "woke at {t1}, before the deadline {until}");
    Ok(())
}

fn absolute_timeout_realtime() -> TestResult {
    let w = AtomicU32::new(3);
    let t0 = time::clock_gettime(CLOCK_REALTIME)?;
    let until = add_ms(t0, 20);
    let r = futex(addr(&w), WAIT_BITSET | PRIVATE | CLOCK_RT, 3, ts_ptr(&until), 0, u32::MAX);
    let t1 = time::clock_gettime(CLOCK_REALTIME)?;
    check_eq!(r, Err(Errno::ETIMEDOUT));
    check!(t1 >= until, "woke at {t1} (realtime), before the deadline {until}");
    Ok(())
}

fn past_deadline_times_out_at_once() -> TestResult {
    let w = AtomicU32::new(0);
    let zero = Timespec::default();
    check_eq!(futex(addr(&w), WAIT_BITSET, 0, ts_ptr(&zero), 0, 1), Err(Errno::ETIMEDOUT));
    check_eq!(futex(addr(&w), WAIT_BITSET | CLOCK_RT, 0, ts_ptr(&zero), 0, 1), Err(Errno::ETIMEDOUT));
    check_eq!(futex(addr(&w), WAIT, 0, ts_ptr(&zero), 0, 0), Err(Errno::ETIMEDOUT));
    // The value is compared first.
    check_eq!(futex(addr(&w), WAIT_BITSET, 1, ts_ptr(&zero), 0, 1), Err(Errno::EAGAIN));
    Ok(())
}

fn invalid_arguments() -> TestResult {
    let w = shared_words(2)?;
    let a = addr(&w[0]);
    let short = Timespec::from_millis(1);
    // Misaligned words.
    check_eq!(futex(a + 1, WAIT, 0, ts_ptr(&short), 0, 0), Err(Errno::EINVAL));
    check_eq!(futex(a + 2, WAKE, 1, 0, 0, 0), Err(Errno::EINVAL));
    check_eq!(futex(a + 2, WAKE | PRIVATE, 1, 0, 0, 0), Err(Errno::EINVAL));
    check_eq!(futex(a, REQUEUE, 1, 1, a + 6, 0), Err(Errno::EINVAL));
    // Empty bitsets.
    check_eq!(futex(a, WAIT_BITSET, 0, ts_ptr(&short), 0, 0), Err(Errno::EINVAL));
    check_eq!(futex(a, WAKE_BITSET, 1, 0, 0, 0), Err(Errno::EINVAL));
    // Bad timespecs, rejected before the value is even compared.
    for t in [
        Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 },
        Timespec { tv_sec: 0, tv_nsec: -1 },
        Timespec { tv_sec: -1, tv_nsec: 0 },
    ] {
        check_eq!(futex(a, WAIT, 5, ts_ptr(&t), 0, 0), Err(Errno::EINVAL), "{t:?}");
        check_eq!(futex(a, WAIT_BITSET, 5, ts_ptr(&t), 0, 1), Err(Errno::EINVAL), "{t:?}");
    }
    // Negative counts.
    check_eq!(futex(a, REQUEUE, u32::MAX, 1, addr(&w[1]), 0), Err(Errno::EINVAL));
    check_eq!(futex(a, CMP_REQUEUE, 1, u32::MAX as usize, addr(&w[1]), 0), Err(Errno::EINVAL));
    // CLOCK_REALTIME only with WAIT_BITSET; unknown operations.
    check_eq!(futex(a, WAIT | CLOCK_RT, 1, 0, 0, 0), Err(Errno::ENOSYS));
    check_eq!(futex(a, WAKE | CLOCK_RT, 1, 0, 0, 0), Err(Errno::ENOSYS));
    for op in [2, 14, 15, 0x200, 0x7f] {
        check_eq!(futex(a, op, 1, 0, 0, 0), Err(Errno::ENOSYS), "op {op}");
    }
    // set_robust_list knows one size.
    if !robust_lists_missing() {
        // SAFETY: a null head; the kernel only checks the length.
        check_eq!(ret(unsafe { syscall3(SYS_SET_ROBUST_LIST, 0, 23, 0) }), Err(Errno::EINVAL));
    }
    unmap(w);
    Ok(())
}

fn bad_addresses() -> TestResult {
    let w = AtomicU32::new(0);
    let hole = mm::mmap_anonymous(PAGE_SIZE, PROT_READ | PROT_WRITE, mm::MAP_PRIVATE)?;
    // SAFETY: the page was just mapped by this case; it becomes a hole.
    unsafe { mm::munmap(hole, PAGE_SIZE)? };
    let kernel = 0xffff_0000_0000_1000usize;
    for op in [WAIT, WAIT | PRIVATE] {
        check_eq!(futex(hole, op, 0, 0, 0, 0), Err(Errno::EFAULT), "op {op:#x}");
        check_eq!(futex(kernel, op, 0, 0, 0, 0), Err(Errno::EFAULT), "op {op:#x}");
    }
    // A shared wake needs the page; a private one only a user address.
    check_eq!(wake(unsafe_ref(hole), 1), Err(Errno::EFAULT));
    check_eq!(futex(hole, WAKE | PRIVATE, 1, 0, 0, 0), Ok(0));
    check_eq!(futex(kernel, WAKE | PRIVATE, 1, 0, 0, 0), Err(Errno::EFAULT));
    // An unreadable timeout.
    check_eq!(futex(addr(&w), WAIT, 0, hole, 0, 0), Err(Errno::EFAULT));
    // CMP_REQUEUE reads the first word; WAKE_OP writes the second.
    check_eq!(futex(hole, CMP_REQUEUE | PRIVATE, 1, 1, addr(&w), 0), Err(Errno::EFAULT));
    check_eq!(futex(addr(&w), WAKE_OP | PRIVATE, 1, 1, hole, 0), Err(Errno::EFAULT));
    let ro = mm::mmap_anonymous(PAGE_SIZE, PROT_READ, mm::MAP_PRIVATE)?;
    check_eq!(futex(addr(&w), WAKE_OP | PRIVATE, 1, 1, ro, 0), Err(Errno::EFAULT));
    // SAFETY: the page was mapped by this case.
    unsafe { mm::munmap(ro, PAGE_SIZE)? };
    Ok(())
}

/// A reference to the word at `a`, only ever passed to the kernel (which
/// must not touch an unmapped one).
fn unsafe_ref(a: usize) -> &'static AtomicU32 {
    // SAFETY: the reference is only converted back to its address by
    // `addr`; it is never dereferenced in user space.
    unsafe { &*(a as *const AtomicU32) }
}

/// glibc's `FUTEX_OP(op, oparg, cmp, cmparg)`.
const fn futex_op(op: u32, oparg: u32, cmp: u32, cmparg: u32) -> u32 {
    (op & 0xf) << 28 | (cmp & 0xf) << 24 | (oparg & 0xfff) << 12 | (cmparg & 0xfff)
}

fn wake_op_arithmetic() -> TestResult {
    let w = shared_words(2)?;
    let (a, b) = (addr(&w[0]), addr(&w[1]));
    let cases: [(u32, u32, u32); 7] = [
        // (before, op, after)
        (5, futex_op(0, 9, 0, 0), 9),                  // SET
        (5, futex_op(1, 0xfff, 0, 0), 4),              // ADD -1
        (1, futex_op(2, 6, 0, 0), 7),                  // OR
        (7, futex_op(3, 6, 0, 0), 1),                  // ANDN
        (6, futex_op(4, 5, 0, 0), 3),                  // XOR
        (0, 1 << 31 | futex_op(2, 4, 0, 0), 16),       // OR 1 << 4
        (0, 1 << 31 | futex_op(0, 31, 0, 0), 1 << 31), // SET 1 << 31
    ];
    for (before, op, after) in cases {
        w[1].store(before, SeqCst);
        check_eq!(futex(a, WAKE_OP, 1, 1, b, op), Ok(0), "op {op:#x}");
        check_eq!(w[1].load(SeqCst), after, "op {op:#x} on {before}");
    }
    // An unknown operation leaves the word alone; an unknown comparison
    // comes after the change.
    w[1].store(5, SeqCst);
    check_eq!(futex(a, WAKE_OP, 1, 1, b, futex_op(5, 1, 0, 0)), Err(Errno::ENOSYS));
    check_eq!(w[1].load(SeqCst), 5);
    check_eq!(futex(a, WAKE_OP, 1, 1, b, futex_op(0, 1, 6, 0)), Err(Errno::ENOSYS));
    check_eq!(w[1].load(SeqCst), 1);
    unmap(w);
    Ok(())
}

fn shared_anon_wait_wake_across_fork() -> TestResult {
    let w = shared_words(1)?;
    let child = process::fork_run(|| {
        let mut d = Deadline::after_ms(5000, 5_000_000);
        while !d.expired() {
            match wake(&w[0], 1) {
                Ok(1) => return 0,
                Ok(0) => process::sched_yield(),
                _ => return 2,
            }
        }
        1
    })?;
    let r = wait_ms(&w[0], 0, 10_000);
    child_ok(child)?;
    check_eq!(r, Ok(0));
    unmap(w);
    Ok(())
}

fn bitsets_select_sleepers() -> TestResult {
    let w = shared_words(1)?;
    let child = process::fork_run(|| {
        if !await_sleeper(&w[0]) {
            return 1;
        }
        // No bit in common: nobody woken.
        if futex(addr(&w[0]), WAKE_BITSET, 1, 0, 0, 0b1100) != Ok(0) {
            return 2;
        }
        if futex(addr(&w[0]), WAKE_BITSET, 1, 0, 0, 0b0110) != Ok(1) {
            return 3;
        }
        0
    })?;
    let until = add_ms(time::now(), 10_000);
    let r = futex(addr(&w[0]), WAIT_BITSET, 0, ts_ptr(&until), 0, 0b0011);
    child_ok(child)?;
    check_eq!(r, Ok(0));
    unmap(w);
    Ok(())
}

fn cmp_requeue_moves_sleeper() -> TestResult {
    let w = shared_words(2)?;
    w[0].store(10, SeqCst);
    let child = process::fork_run(|| {
        let (a, b) = (addr(&w[0]), addr(&w[1]));
        if !await_sleeper(&w[0]) {
            return 1;
        }
        if futex(a, CMP_REQUEUE, 0, 1, b, 11) != Err(Errno::EAGAIN) {
            return 2;
        }
        if futex(a, CMP_REQUEUE, 0, 1, b, 10) != Ok(1) {
            return 3;
        }
        // It now sleeps on the second word only.
        if wake(&w[0], 1) != Ok(0) || !has_sleeper(&w[1]) {
            return 4;
        }
        if wake(&w[1], 1) != Ok(1) {
            return 5;
        }
        0
    })?;
    let r = wait_ms(&w[0], 10, 10_000);
    child_ok(child)?;
    check_eq!(r, Ok(0));
    unmap(w);
    Ok(())
}

fn wake_op_wakes_second_word() -> TestResult {
    let w = shared_words(2)?;
    let child = process::fork_run(|| {
        let (other, a) = (addr(&w[1]), addr(&w[0]));
        if !await_sleeper(&w[0]) {
            return 1;
        }
        // Set 0, then "old > 0" (FUTEX_OP_CMP_GT, 4) is false: the sleeper stays.
        if futex(other, WAKE_OP, 1, 1, a, futex_op(0, 0, 4, 0)) != Ok(0) {
            return 2;
        }
        if !has_sleeper(&w[0]) {
            return 4;
        }
        // Add 1, then "old == 0": woken on the second word.
        if futex(other, WAKE_OP, 1, 1, a, futex_op(1, 1, 0, 0)) != Ok(1) {
            return 3;
        }
        0
    })?;
    let r = wait_ms(&w[0], 0, 10_000);
    child_ok(child)?;
    check_eq!(r, Ok(0));
    check_eq!(w[0].load(SeqCst), 1);
    unmap(w);
    Ok(())
}

fn shared_file_at_different_addresses() -> TestResult {
    let path = c"/tmp/futex-shared-file";
    let fd = util::create_file(path, &[0u8; PAGE_SIZE])?;
    let first = util::mmap_file(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    let child = process::fork_run(|| {
        // A second mapping of the same page, at another address.
        let Ok(second) = util::mmap_file(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) else { return 1 };
        if second == first {
            return 2;
        }
        match wait_ms(unsafe_ref(second + 64), 0, 10_000) {
            Ok(0) => 0,
            Err(Errno::ETIMEDOUT) => 3,
            _ => 4,
        }
    })?;
    let w = unsafe_ref(first + 64);
    let found = await_sleeper(w);
    let woken = wake(w, 1);
    child_ok(child)?;
    check!(found, "no sleeper appeared on the file page");
    check_eq!(woken, Ok(1));
    // SAFETY: the mapping was made by this case.
    unsafe { mm::munmap(first, PAGE_SIZE)? };
    fs::close(fd)?;
    fs::unlink(path)?;
    Ok(())
}

/// A word in private memory (copied on write after `fork`).
static PRIVATE_WORD: AtomicU32 = AtomicU32::new(0);

fn private_futex_stays_in_its_process() -> TestResult {
    let w = shared_words(2)?;
    // Same memory, same address in both processes: a private futex is
    // still a different one in each.
    not_woken_from_other_process(&w[0], PRIVATE, &w[1])?;
    // A shared-flag futex in private memory is keyed like a private one.
    not_woken_from_other_process(&PRIVATE_WORD, 0, &w[1])?;
    unmap(w);
    Ok(())
}

/// A child sleeps on `word` (with `flags`) for 200 ms after setting
/// `ready`; the parent's wakes of the same address until then must reach
/// nobody, and the child must time out.
fn not_woken_from_other_process(word: &AtomicU32, flags: u32, ready: &AtomicU32) -> TestResult {
    ready.store(0, SeqCst);
    let child = process::fork_run(|| {
        ready.store(1, SeqCst);
        let t = Timespec::from_millis(200);
        match futex(addr(word), WAIT | flags, 0, ts_ptr(&t), 0, 0) {
            Err(Errno::ETIMEDOUT) => 0,
            Ok(_) => 1,
            _ => 2,
        }
    })?;
    let mut d = Deadline::after_ms(5000, 5_000_000);
    while ready.load(SeqCst) == 0 && !d.expired() {
        process::sched_yield();
    }
    // Wakes from here until the child's wait ends: none may reach it.
    let mut woke = 0;
    let mut status = None;
    let mut d = Deadline::after_ms(5000, 100_000);
    while status.is_none() && !d.expired() {
        woke += futex(addr(word), WAKE | flags, 1, 0, 0, 0)?;
        let mut s = 0;
        if process::wait4(child, Some(&mut s), process::WNOHANG, None)? == child {
            status = Some(s);
        }
        time::sleep_ms(5);
    }
    let Some(status) = status else { fail!("the child did not end") };
    check!(wifexited(status) && wexitstatus(status) == 0, "child (0: timed out): {}", ExitStatus(status));
    check_eq!(woke, 0, "wakes (flags {flags:#x}) in the parent woke someone");
    Ok(())
}

fn signal_ends_a_sleeper() -> TestResult {
    let w = shared_words(1)?;
    let child = process::fork_run(|| {
        // No timeout: only the signal ends it.
        let _ = futex(addr(&w[0]), WAIT, 0, 0, 0, 0);
        7
    })?;
    let found = await_sleeper(&w[0]);
    process::kill(child, SIGTERM)?;
    let (_, status) = process::waitpid(child, 0)?;
    check!(found, "the child never slept on the word");
    check!(wifsignaled(status) && wtermsig(status) == SIGTERM, "child: {}", ExitStatus(status));
    check!(!has_sleeper(&w[0]), "a dead process is still queued");
    unmap(w);
    Ok(())
}

/// qemu-user (where this program also runs, for comparison with Linux)
/// has no robust lists: the cases about them are skipped there.
fn robust_lists_missing() -> bool {
    let missing = !util::on_armmap() && get_robust(0) == Err(Errno::ENOSYS);
    if missing {
        user::println!("  note: no robust lists here (qemu-user): skipped");
    }
    missing
}

fn get_robust(pid: i32) -> Result<(usize, usize), Errno> {
    let (mut head, mut len) = (0usize, 0usize);
    // SAFETY: the kernel writes one pointer and one size_t into these.
    ret(unsafe {
        syscall3(SYS_GET_ROBUST_LIST, pid as usize, &mut head as *mut usize as usize, &mut len as *mut usize as usize)
    })?;
    Ok((head, len))
}

fn set_robust(head: usize) -> Result<usize, Errno> {
    // SAFETY: the kernel only stores the pointer (read at exit).
    ret(unsafe { syscall3(SYS_SET_ROBUST_LIST, head, 24, 0) })
}

fn robust_list_set_and_get() -> TestResult {
    if robust_lists_missing() {
        return Ok(());
    }
    let (old, _) = get_robust(0)?;
    let w = shared_words(8)?;
    let head = addr(&w[0]);
    // An empty list: next points back at the head.
    w[0].store(head as u32, SeqCst);
    w[1].store((head >> 32) as u32, SeqCst);
    check_eq!(set_robust(head), Ok(0));
    check_eq!(get_robust(0), Ok((head, 24)));
    check_eq!(get_robust(process::getpid()), Ok((head, 24)));
    check_eq!(get_robust(0x3fff_ffff), Err(Errno::ESRCH));
    // SAFETY: bad output pointers: the kernel must answer EFAULT.
    check_eq!(ret(unsafe { syscall3(SYS_GET_ROBUST_LIST, 0, 8, 16) }), Err(Errno::EFAULT));
    // A child starts with no list.
    let child = process::fork_run(|| match get_robust(0) {
        Ok((0, 24)) => 0,
        _ => 1,
    })?;
    child_ok(child)?;
    check_eq!(set_robust(old), Ok(0));
    unmap(w);
    Ok(())
}

/// Lays a robust list out in words `w` (a shared page): the head at word
/// 0 (next, futex_offset, list_op_pending), the entry at word 8, its
/// futex word at word 10 (offset 8). `on_list` links the entry on the list;
/// otherwise it is named as `list_op_pending` and the list is empty.
fn robust_layout(w: &[AtomicU32], on_list: bool) -> usize {
    let head = addr(&w[0]);
    let entry = addr(&w[8]);
    let put = |i: usize, v: usize| {
        w[i].store(v as u32, SeqCst);
        w[i + 1].store((v >> 32) as u32, SeqCst);
    };
    put(0, if on_list { entry } else { head });
    put(2, 8);
    put(4, if on_list { 0 } else { entry });
    put(8, head);
    head
}

fn robust_owner_died_wakes_sleeper() -> TestResult {
    if robust_lists_missing() {
        return Ok(());
    }
    let w = shared_words(16)?;
    let child = process::fork_run(|| {
        let head = robust_layout(w, true);
        w[10].store(process::gettid() as u32 | WAITERS, SeqCst);
        if set_robust(head) != Ok(0) {
            return 1;
        }
        w[12].store(1, SeqCst);
        if !await_sleeper(&w[10]) {
            return 2;
        }
        // Dies holding the lock.
        0
    })?;
    let mut d = Deadline::after_ms(5000, 5_000_000);
    while w[12].load(SeqCst) == 0 && !d.expired() {
        process::sched_yield();
    }
    let held = w[10].load(SeqCst);
    let r = wait_ms(&w[10], held, 10_000);
    child_ok(child)?;
    check_eq!(held & WAITERS, WAITERS);
    check_eq!(r, Ok(0));
    check_eq!(w[10].load(SeqCst), WAITERS | OWNER_DIED);
    unmap(w);
    Ok(())
}

fn robust_pending_op_marked() -> TestResult {
    if robust_lists_missing() {
        return Ok(());
    }
    let w = shared_words(16)?;
    let child = process::fork_run(|| {
        let head = robust_layout(w, false);
        w[10].store(process::gettid() as u32, SeqCst);
        match set_robust(head) {
            Ok(0) => 0,
            _ => 1,
        }
    })?;
    child_ok(child)?;
    check_eq!(w[10].load(SeqCst), OWNER_DIED);
    // A word some other thread owns is left alone.
    let child = process::fork_run(|| {
        let head = robust_layout(w, true);
        w[10].store(1, SeqCst);
        match set_robust(head) {
            Ok(0) => 0,
            _ => 1,
        }
    })?;
    child_ok(child)?;
    check_eq!(w[10].load(SeqCst), 1);
    unmap(w);
    Ok(())
}

/// `execve` releases the old program's robust futexes, as exit does.
fn robust_list_released_at_exec() -> TestResult {
    if robust_lists_missing() || !util::armmap_only("execve of /bin/hello") {
        return Ok(());
    }
    let w = shared_words(16)?;
    let child = process::fork_run(|| {
        let head = robust_layout(w, true);
        w[10].store(process::gettid() as u32, SeqCst);
        if set_robust(head) != Ok(0) {
            return 1;
        }
        let _ = process::execve(c"/bin/hello", &[c"hello"], &[]);
        2
    })?;
    child_ok(child)?;
    check_eq!(w[10].load(SeqCst), OWNER_DIED);
    unmap(w);
    Ok(())
}

/// Free frames, from armmap's `/proc/vmstat`.
fn free_frames() -> Result<u64, Failed> {
    let mut buf = [0u8; 1024];
    let n = util::read_path(c"/proc/vmstat", &mut buf)?;
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    match util::key_value(text, "nr_free_pages") {
        Some(v) => Ok(v),
        None => fail!("no nr_free_pages in /proc/vmstat"),
    }
}

/// Sleepers, wakes, requeues and robust deaths across processes leave no
/// frame behind.
fn frames_back_to_baseline() -> TestResult {
    if !util::armmap_only("the frame count (/proc/vmstat)") {
        return Ok(());
    }
    let round = || -> TestResult {
        shared_anon_wait_wake_across_fork()?;
        cmp_requeue_moves_sleeper()?;
        shared_file_at_different_addresses()?;
        signal_ends_a_sleeper()?;
        robust_owner_died_wakes_sleeper()
    };
    // Once for the pages this program itself touches.
    round()?;
    let before = free_frames()?;
    for _ in 0..5 {
        round()?;
    }
    let after = free_frames()?;
    check_eq!(after, before, "free frames before and after 5 rounds");
    Ok(())
}
