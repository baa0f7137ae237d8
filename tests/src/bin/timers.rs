//! `timers`: on-target tests of the interval timers (`setitimer`,
//! `getitimer`) and the POSIX timers (`timer_create` and friends).
//!
//! Every case must pass on Linux as well (run it with `qemu-aarch64`).
//! Signals are only ever delivered to children: the test runs as init on
//! armmap, and init ignores the signals it has no handler for, while a
//! normal process would be killed. A child killed by its timer's signal
//! shows the timer fired (its wait status); reloads are seen through
//! `timer_gettime` on a SIGEV_NONE timer, which runs without a signal.
#![no_std]
#![no_main]

use user::errno::Errno;
use user::process::{self, wifsignaled, wtermsig, ExitStatus, SIGALRM, SIGUSR1};
use user::syscall::{self, syscall2, syscall3, syscall4};
use user::test::{Deadline, Harness, TestResult};
use user::time;
use user::{check, check_eq, Args};

user::entry!(main);

const GETITIMER: usize = 102;
const SETITIMER: usize = 103;
const TIMER_CREATE: usize = 107;
const TIMER_GETTIME: usize = 108;
const TIMER_GETOVERRUN: usize = 109;
const TIMER_SETTIME: usize = 110;
const TIMER_DELETE: usize = 111;

const ITIMER_REAL: usize = 0;
const ITIMER_VIRTUAL: usize = 1;
const CLOCK_REALTIME: usize = 0;
const CLOCK_MONOTONIC: usize = 1;
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;
const TIMER_ABSTIME: usize = 1;

const MS: i64 = 1_000_000;

/// `struct itimerval` and `struct itimerspec` (the second field is µs for
/// the first, ns for the second).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
struct Interval {
    interval_sec: i64,
    interval_sub: i64,
    value_sec: i64,
    value_sub: i64,
}

impl Interval {
    fn itv_us(value_us: i64, interval_us: i64) -> Self {
        Interval {
            interval_sec: interval_us / 1_000_000,
            interval_sub: interval_us % 1_000_000,
            value_sec: value_us / 1_000_000,
            value_sub: value_us % 1_000_000,
        }
    }

    fn its_ns(value_ns: i64, interval_ns: i64) -> Self {
        Interval {
            interval_sec: interval_ns / 1_000_000_000,
            interval_sub: interval_ns % 1_000_000_000,
            value_sec: value_ns / 1_000_000_000,
            value_sub: value_ns % 1_000_000_000,
        }
    }

    fn value_ns(&self, unit: i64) -> i64 {
        self.value_sec * 1_000_000_000 + self.value_sub * unit
    }

    fn interval_ns(&self, unit: i64) -> i64 {
        self.interval_sec * 1_000_000_000 + self.interval_sub * unit
    }
}

/// `struct sigevent`.
#[repr(C)]
#[derive(Copy, Clone, Default)]
struct Sigevent {
    value: u64,
    signo: i32,
    notify: i32,
    tid: i32,
    pad: [i32; 11],
}

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("timers");
    h.case("getitimer_reports_time_left", getitimer_reports_time_left);
    h.case("setitimer_errors", setitimer_errors);
    h.case("itimer_real_kills_child_with_sigalrm", itimer_real_kills_child_with_sigalrm);
    h.case("itimer_real_interrupts_a_sleeping_child", itimer_real_interrupts_a_sleeping_child);
    h.case("itimer_not_inherited_by_fork", itimer_not_inherited_by_fork);
    h.case("timer_create_settime_gettime_delete", timer_create_settime_gettime_delete);
    h.case("timer_errors", timer_errors);
    h.case("timer_sigev_none_reloads", timer_sigev_none_reloads);
    h.case("timer_signal_kills_child", timer_signal_kills_child);
    h.finish()
}

fn getitimer(which: usize) -> Result<Interval, Errno> {
    let mut v = Interval::default();
    // SAFETY: the kernel writes one struct itimerval into `v`.
    syscall::ret(unsafe { syscall2(GETITIMER, which, &mut v as *mut Interval as usize) })?;
    Ok(v)
}

fn setitimer(which: usize, new: &Interval) -> Result<Interval, Errno> {
    let mut old = Interval::default();
    // SAFETY: the kernel reads one struct itimerval and writes one.
    syscall::ret(unsafe {
        syscall3(SETITIMER, which, new as *const Interval as usize, &mut old as *mut Interval as usize)
    })?;
    Ok(old)
}

fn timer_create(clock: usize, sev: Option<&Sigevent>) -> Result<i32, Errno> {
    let mut id: i32 = -1;
    let sevp = sev.map_or(0, |s| s as *const Sigevent as usize);
    // SAFETY: the kernel reads one struct sigevent (if any) and writes an int.
    syscall::ret(unsafe { syscall3(TIMER_CREATE, clock, sevp, &mut id as *mut i32 as usize) })?;
    Ok(id)
}

fn timer_settime(id: i32, flags: usize, new: &Interval) -> Result<Interval, Errno> {
    let mut old = Interval::default();
    // SAFETY: the kernel reads one struct itimerspec and writes one.
    syscall::ret(unsafe {
        syscall4(TIMER_SETTIME, id as usize, flags, new as *const Interval as usize, &mut old as *mut Interval as usize)
    })?;
    Ok(old)
}

fn timer_gettime(id: i32) -> Result<Interval, Errno> {
    let mut v = Interval::default();
    // SAFETY: the kernel writes one struct itimerspec into `v`.
    syscall::ret(unsafe { syscall2(TIMER_GETTIME, id as usize, &mut v as *mut Interval as usize) })?;
    Ok(v)
}

fn timer_getoverrun(id: i32) -> Result<usize, Errno> {
    // SAFETY: no memory is passed.
    syscall::ret(unsafe { syscall::syscall1(TIMER_GETOVERRUN, id as usize) })
}

fn timer_delete(id: i32) -> Result<(), Errno> {
    // SAFETY: no memory is passed.
    syscall::ret(unsafe { syscall::syscall1(TIMER_DELETE, id as usize) }).map(|_| ())
}

/// Waits for `child` and checks it was killed by `sig`.
fn expect_killed_by(child: process::Pid, sig: i32) -> TestResult {
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child, "waitpid returned another pid");
    check!(
        wifsignaled(status) && wtermsig(status) == sig,
        "child {}, expected killed by signal {sig}",
        ExitStatus(status)
    );
    Ok(())
}

/// Spins (yielding) for up to `ms`, then exits 1: a child that should be
/// killed before that.
fn spin_then_fail(ms: u64) -> i32 {
    let mut deadline = Deadline::after_ms(ms, 100_000_000);
    while !deadline.expired() {
        process::sched_yield();
    }
    1
}

fn getitimer_reports_time_left() -> TestResult {
    check_eq!(getitimer(ITIMER_REAL)?, Interval::default(), "ITIMER_REAL before any setitimer");
    let old = setitimer(ITIMER_REAL, &Interval::itv_us(5_000_000, 0))?;
    check_eq!(old, Interval::default(), "old value of a disarmed timer");
    time::sleep_ms(30);
    let v = getitimer(ITIMER_REAL)?;
    let left = v.value_ns(1000);
    check!(left > 3_000 * MS && left <= 4_970 * MS, "5 s timer after 30 ms: {left} ns left");
    check!((0..1_000_000).contains(&v.value_sub), "tv_usec {}", v.value_sub);
    // Disarming returns what was left.
    let old = setitimer(ITIMER_REAL, &Interval::default())?;
    check!(old.value_ns(1000) > 0 && old.value_ns(1000) <= left, "disarm returned {old:?}");
    check_eq!(getitimer(ITIMER_REAL)?, Interval::default(), "ITIMER_REAL after disarming");
    // The interval is reported as set; ITIMER_VIRTUAL stores its values.
    setitimer(ITIMER_VIRTUAL, &Interval::itv_us(3_000_000, 2_000_000))?;
    let v = getitimer(ITIMER_VIRTUAL)?;
    check_eq!(v.interval_ns(1000), 2_000 * MS, "ITIMER_VIRTUAL interval: {v:?}");
    // Linux adds a tick (up to 10 ms) so that at least the time asked for runs.
    let left = v.value_ns(1000);
    check!(left > 2_000 * MS && left <= 3_010 * MS, "ITIMER_VIRTUAL value: {v:?}");
    setitimer(ITIMER_VIRTUAL, &Interval::default())?;
    Ok(())
}

fn setitimer_errors() -> TestResult {
    check_eq!(setitimer(3, &Interval::default()), Err(Errno::EINVAL), "which = 3");
    check_eq!(getitimer(7), Err(Errno::EINVAL), "getitimer(7)");
    let bad_usec = Interval { value_sub: 1_000_000, ..Default::default() };
    check_eq!(setitimer(ITIMER_REAL, &bad_usec), Err(Errno::EINVAL), "tv_usec = 10^6");
    let negative = Interval { interval_sec: -1, value_sub: 5, ..Default::default() };
    check_eq!(setitimer(ITIMER_REAL, &negative), Err(Errno::EINVAL), "negative interval");
    // SAFETY: the kernel must refuse to write to the unmapped page 0.
    let r = syscall::ret(unsafe { syscall2(GETITIMER, ITIMER_REAL, 0x10) });
    check_eq!(r, Err(Errno::EFAULT), "getitimer to a bad pointer");
    // SAFETY: likewise for reading.
    let r = syscall::ret(unsafe { syscall3(SETITIMER, ITIMER_REAL, 0x10, 0) });
    check_eq!(r, Err(Errno::EFAULT), "setitimer from a bad pointer");
    check_eq!(getitimer(ITIMER_REAL)?, Interval::default(), "nothing armed by the failures");
    Ok(())
}

fn itimer_real_kills_child_with_sigalrm() -> TestResult {
    let t0 = time::now();
    let child = process::fork_run(|| {
        if setitimer(ITIMER_REAL, &Interval::itv_us(50_000, 0)).is_err() {
            return 2;
        }
        spin_then_fail(5_000)
    })?;
    expect_killed_by(child, SIGALRM)?;
    let took = time::now().nanos_since(&t0);
    check!(took >= 50 * MS as i128, "killed after {took} ns, before 50 ms");
    check!(took < 4_000 * MS as i128, "killed after {took} ns");
    Ok(())
}

fn itimer_real_interrupts_a_sleeping_child() -> TestResult {
    // A periodic timer: the first expiry already ends the child, asleep.
    let child = process::fork_run(|| {
        if setitimer(ITIMER_REAL, &Interval::itv_us(40_000, 10_000)).is_err() {
            return 2;
        }
        let r = time::nanosleep(&time::Timespec { tv_sec: 5, tv_nsec: 0 });
        if r.is_ok() {
            3
        } else {
            4
        }
    })?;
    expect_killed_by(child, SIGALRM)
}

fn itimer_not_inherited_by_fork() -> TestResult {
    // The parent's timer is not the child's (Linux clears it in the child).
    setitimer(ITIMER_REAL, &Interval::itv_us(10_000_000, 0))?;
    let child = process::fork_run(|| match getitimer(ITIMER_REAL) {
        Ok(v) if v == Interval::default() => 0,
        _ => 1,
    });
    setitimer(ITIMER_REAL, &Interval::default())?;
    let child = child?;
    let (_, status) = user::waitpid(child, 0)?;
    check!(
        process::wifexited(status) && process::wexitstatus(status) == 0,
        "child saw a timer: {}",
        ExitStatus(status)
    );
    Ok(())
}

fn timer_create_settime_gettime_delete() -> TestResult {
    let id = timer_create(CLOCK_MONOTONIC, None)?;
    check!(id >= 0, "timer id {id}");
    check_eq!(timer_gettime(id)?, Interval::default(), "a new timer is disarmed");
    check_eq!(timer_getoverrun(id)?, 0, "a new timer's overrun");
    let old = timer_settime(id, 0, &Interval::its_ns(2_000 * MS, 500 * MS))?;
    check_eq!(old, Interval::default(), "old setting");
    let v = timer_gettime(id)?;
    check!(v.value_ns(1) > 1_500 * MS && v.value_ns(1) <= 2_000 * MS, "2 s timer: {v:?}");
    check_eq!(v.interval_ns(1), 500 * MS, "interval");
    // Absolute: one second from now on its clock.
    let now = time::clock_gettime(CLOCK_MONOTONIC as u32)?;
    let at = Interval { value_sec: now.tv_sec + 1, value_sub: now.tv_nsec, ..Default::default() };
    let old = timer_settime(id, TIMER_ABSTIME, &at)?;
    check_eq!(old.interval_ns(1), 500 * MS, "old interval");
    let v = timer_gettime(id)?;
    check!(v.value_ns(1) > 500 * MS && v.value_ns(1) <= 1_000 * MS, "absolute timer: {v:?}");
    // Zero disarms.
    timer_settime(id, 0, &Interval::default())?;
    check_eq!(timer_gettime(id)?, Interval::default(), "disarmed");
    // A second timer gets another id; the realtime clock works too.
    let id2 = timer_create(CLOCK_REALTIME, None)?;
    check!(id2 != id, "two timers with id {id}");
    timer_delete(id)?;
    timer_delete(id2)?;
    check_eq!(timer_delete(id), Err(Errno::EINVAL), "deleting twice");
    check_eq!(timer_gettime(id), Err(Errno::EINVAL), "gettime of a deleted timer");
    check_eq!(timer_settime(id, 0, &Interval::default()), Err(Errno::EINVAL), "settime of a deleted timer");
    check_eq!(timer_getoverrun(id), Err(Errno::EINVAL), "getoverrun of a deleted timer");
    Ok(())
}

fn timer_errors() -> TestResult {
    check_eq!(timer_create(1000, None), Err(Errno::EINVAL), "clock 1000");
    let bad_notify = Sigevent { notify: 99, signo: SIGUSR1, ..Default::default() };
    check_eq!(timer_create(CLOCK_MONOTONIC, Some(&bad_notify)), Err(Errno::EINVAL), "sigev_notify 99");
    let no_signal = Sigevent { notify: SIGEV_SIGNAL, signo: 0, ..Default::default() };
    check_eq!(timer_create(CLOCK_MONOTONIC, Some(&no_signal)), Err(Errno::EINVAL), "sigev_signo 0");
    let big_signal = Sigevent { notify: SIGEV_SIGNAL, signo: 65, ..Default::default() };
    check_eq!(timer_create(CLOCK_MONOTONIC, Some(&big_signal)), Err(Errno::EINVAL), "sigev_signo 65");
    let other_thread =
        Sigevent { notify: SIGEV_SIGNAL | SIGEV_THREAD_ID, signo: SIGUSR1, tid: 1 << 20, ..Default::default() };
    check_eq!(timer_create(CLOCK_MONOTONIC, Some(&other_thread)), Err(Errno::EINVAL), "SIGEV_THREAD_ID of no thread");
    let own_thread =
        Sigevent { notify: SIGEV_SIGNAL | SIGEV_THREAD_ID, signo: SIGUSR1, tid: user::getpid(), ..Default::default() };
    let own = timer_create(CLOCK_MONOTONIC, Some(&own_thread))?;
    // SAFETY: the kernel must refuse to read a sigevent at the unmapped page 0.
    let r = syscall::ret(unsafe { syscall3(TIMER_CREATE, CLOCK_MONOTONIC, 0x10, 0) });
    check_eq!(r, Err(Errno::EFAULT), "timer_create with a bad sigevent pointer");
    let id = timer_create(CLOCK_MONOTONIC, None)?;
    let bad_nsec = Interval { value_sub: 1_000_000_000, ..Default::default() };
    check_eq!(timer_settime(id, 0, &bad_nsec), Err(Errno::EINVAL), "tv_nsec = 10^9");
    let negative = Interval { value_sec: -1, ..Default::default() };
    check_eq!(timer_settime(id, 0, &negative), Err(Errno::EINVAL), "negative tv_sec");
    let bad_interval = Interval { interval_sub: -1, value_sec: 1, ..Default::default() };
    check_eq!(timer_settime(id, 0, &bad_interval), Err(Errno::EINVAL), "negative interval");
    // SAFETY: a null new value must be refused without touching memory.
    let r = syscall::ret(unsafe { syscall4(TIMER_SETTIME, id as usize, 0, 0, 0) });
    check_eq!(r, Err(Errno::EINVAL), "timer_settime with no new value");
    check_eq!(timer_gettime(id)?, Interval::default(), "nothing armed by the failures");
    check_eq!(timer_gettime(1 << 20), Err(Errno::EINVAL), "gettime of an id never made");
    timer_delete(id)?;
    timer_delete(own)?;
    Ok(())
}

fn timer_sigev_none_reloads() -> TestResult {
    let none = Sigevent { notify: SIGEV_NONE, ..Default::default() };
    let id = timer_create(CLOCK_MONOTONIC, Some(&none))?;
    timer_settime(id, 0, &Interval::its_ns(20 * MS, 30 * MS))?;
    time::sleep_ms(100);
    // It expired (20 ms) and was reloaded several times since.
    let v = timer_gettime(id)?;
    check!(v.value_ns(1) > 0 && v.value_ns(1) <= 30 * MS, "periodic SIGEV_NONE timer after 100 ms: {v:?}");
    check_eq!(v.interval_ns(1), 30 * MS, "interval");
    // A one-shot SIGEV_NONE timer that expired reads 0.
    timer_settime(id, 0, &Interval::its_ns(10 * MS, 0))?;
    time::sleep_ms(50);
    check_eq!(timer_gettime(id)?, Interval::default(), "expired one-shot SIGEV_NONE timer");
    timer_delete(id)?;
    Ok(())
}

fn timer_signal_kills_child() -> TestResult {
    let t0 = time::now();
    let child = process::fork_run(|| {
        let sev = Sigevent { notify: SIGEV_SIGNAL, signo: SIGUSR1, value: 7, ..Default::default() };
        let Ok(id) = timer_create(CLOCK_MONOTONIC, Some(&sev)) else { return 2 };
        if timer_settime(id, 0, &Interval::its_ns(30 * MS, 0)).is_err() {
            return 3;
        }
        spin_then_fail(5_000)
    })?;
    expect_killed_by(child, SIGUSR1)?;
    let took = time::now().nanos_since(&t0);
    check!(took >= 30 * MS as i128, "killed after {took} ns, before 30 ms");
    Ok(())
}
