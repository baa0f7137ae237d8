//! Time and resource usage: `clock_gettime`, `nanosleep`, `getrusage`.
//!
//! Clocks report a [`Timespec`] (seconds + nanoseconds). `CLOCK_MONOTONIC`
//! counts from an arbitrary start (boot) and never goes backwards, so it is
//! the clock for measuring intervals. `getrusage` reports what a process
//! has cost: CPU time and, most interesting for a memory-management course,
//! `ru_minflt`: the number of page faults the kernel resolved without I/O
//! (first touches of anonymous pages, copy-on-write copies, ...).

use crate::errno::Errno;
use crate::syscall::{nr, ret, syscall2};
use core::fmt;
use linux_raw_sys::general as linux;

/// Wall-clock time (can jump when the clock is set).
pub const CLOCK_REALTIME: u32 = linux::CLOCK_REALTIME;
/// Time since an arbitrary fixed point; never goes backwards.
pub const CLOCK_MONOTONIC: u32 = linux::CLOCK_MONOTONIC;
/// CPU time used by this process.
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = linux::CLOCK_PROCESS_CPUTIME_ID;
/// CPU time used by this thread.
pub const CLOCK_THREAD_CPUTIME_ID: u32 = linux::CLOCK_THREAD_CPUTIME_ID;

/// `struct timespec`: seconds and nanoseconds (0..1_000_000_000).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    /// Whole seconds.
    pub tv_sec: i64,
    /// Nanoseconds, 0..1_000_000_000.
    pub tv_nsec: i64,
}

impl Timespec {
    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Timespec { tv_sec: (ms / 1000) as i64, tv_nsec: ((ms % 1000) * 1_000_000) as i64 }
    }

    /// The whole value in nanoseconds.
    pub const fn as_nanos(&self) -> i128 {
        self.tv_sec as i128 * 1_000_000_000 + self.tv_nsec as i128
    }

    /// Nanoseconds from `earlier` to `self` (negative if `earlier` is later).
    pub const fn nanos_since(&self, earlier: &Timespec) -> i128 {
        self.as_nanos() - earlier.as_nanos()
    }
}

/// Prints as seconds with nine decimals: `12.000345678`.
impl fmt::Display for Timespec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.tv_sec, self.tv_nsec)
    }
}

/// `struct timeval` (old-style, microseconds), as found in `struct rusage`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeval {
    /// Whole seconds.
    pub tv_sec: i64,
    /// Microseconds, 0..1_000_000.
    pub tv_usec: i64,
}

/// Reads clock `clock` (`CLOCK_*`).
pub fn clock_gettime(clock: u32) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one `struct timespec` into `ts`.
    ret(unsafe { syscall2(nr::CLOCK_GETTIME, clock as usize, &mut ts as *mut Timespec as usize) })?;
    Ok(ts)
}

/// Reads `CLOCK_MONOTONIC`, the clock for measuring elapsed time.
pub fn now() -> Timespec {
    clock_gettime(CLOCK_MONOTONIC).unwrap_or_default()
}

/// Sleeps for `duration`. If a signal interrupts the sleep, returns
/// `Err(EINTR)` and the time left.
pub fn nanosleep(duration: &Timespec) -> Result<(), (Errno, Timespec)> {
    let mut rem = Timespec::default();
    // SAFETY: the kernel reads one `struct timespec` from `duration` and may
    // write one into `rem`.
    let r =
        unsafe { syscall2(nr::NANOSLEEP, duration as *const Timespec as usize, &mut rem as *mut Timespec as usize) };
    ret(r).map(drop).map_err(|e| (e, rem))
}

/// Sleeps for `ms` milliseconds (restarting after interruptions).
pub fn sleep_ms(ms: u64) {
    let mut left = Timespec::from_millis(ms);
    while let Err((Errno::EINTR, rem)) = nanosleep(&left) {
        left = rem;
    }
}

/// `getrusage` target: the calling process.
pub const RUSAGE_SELF: i32 = linux::RUSAGE_SELF as i32;
/// `getrusage` target: its children that have ended and been waited for.
pub const RUSAGE_CHILDREN: i32 = linux::RUSAGE_CHILDREN;

/// `struct rusage` (144 bytes on aarch64). Linux fills in only some fields;
/// the rest stay 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Rusage {
    /// CPU time spent in user mode.
    pub ru_utime: Timeval,
    /// CPU time spent in the kernel.
    pub ru_stime: Timeval,
    /// Largest resident set size, in KiB.
    pub ru_maxrss: i64,
    /// Unused on Linux.
    pub ru_ixrss: i64,
    /// Unused on Linux.
    pub ru_idrss: i64,
    /// Unused on Linux.
    pub ru_isrss: i64,
    /// Minor page faults: resolved without I/O.
    pub ru_minflt: i64,
    /// Major page faults: needed I/O.
    pub ru_majflt: i64,
    /// Unused on Linux.
    pub ru_nswap: i64,
    /// Blocks read from storage.
    pub ru_inblock: i64,
    /// Blocks written to storage.
    pub ru_oublock: i64,
    /// Unused on Linux.
    pub ru_msgsnd: i64,
    /// Unused on Linux.
    pub ru_msgrcv: i64,
    /// Unused on Linux.
    pub ru_nsignals: i64,
    /// Voluntary context switches (the process blocked or yielded).
    pub ru_nvcsw: i64,
    /// Involuntary context switches (the process was preempted).
    pub ru_nivcsw: i64,
}

const _: () = assert!(core::mem::size_of::<Rusage>() == 144);

/// Resource usage of `who` (`RUSAGE_SELF` or `RUSAGE_CHILDREN`).
pub fn getrusage(who: i32) -> Result<Rusage, Errno> {
    let mut ru = Rusage::default();
    // SAFETY: the kernel writes one `struct rusage` into `ru`.
    ret(unsafe { syscall2(nr::GETRUSAGE, who as usize, &mut ru as *mut Rusage as usize) })?;
    Ok(ru)
}
