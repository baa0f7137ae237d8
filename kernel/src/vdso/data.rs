//! The vDSO data page ("vvar"): what user space needs to read the clocks
//! without a system call, and the one computation both sides share.
//!
//! The kernel keeps one frame holding a [`VdsoData`] and maps it read-only
//! into every process, one page below the vDSO's text, where the vDSO finds
//! it PC-relatively (`_vdso_data` in `kernel/vdso/vdso.lds`). The kernel
//! writes it through the linear map; programs only read it.
//!
//! **Protocol** (a sequence lock, as Linux's `vdso_data`): the writer makes
//! `seq` odd, writes the fields, then makes `seq` even again, with release
//! ordering between each step. A reader waits for an even `seq`, reads the
//! fields and the counter, and starts again if `seq` changed meanwhile. One
//! CPU and interrupts masked in the kernel mean a reader never waits for
//! long: at worst it was preempted in the middle of its read.
//!
//! **The same numbers.** This file is compiled twice: into the kernel,
//! where the `clock_gettime` system call uses [`clock_ns`], and into the
//! vDSO (`kernel/vdso/vdso.rs` includes it by path), where
//! `__kernel_clock_gettime` uses it on the counter value it read at EL0.
//! So both answer with exactly the same arithmetic. It must stay
//! `core`-only and free of panics: the vDSO is linked with no library.
//! That is why the clock ids below are written out rather than taken from
//! linux_raw_sys like the kernel's other constants; a unit test checks them
//! against it (they are the generic values, the same on the host).

use core::num::NonZeroU64;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// `CLOCK_REALTIME`.
pub const CLOCK_REALTIME: u32 = 0;
/// `CLOCK_MONOTONIC`.
pub const CLOCK_MONOTONIC: u32 = 1;
/// `CLOCK_PROCESS_CPUTIME_ID`.
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
/// `CLOCK_THREAD_CPUTIME_ID`.
pub const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
/// `CLOCK_MONOTONIC_RAW`.
pub const CLOCK_MONOTONIC_RAW: u32 = 4;
/// `CLOCK_REALTIME_COARSE`.
pub const CLOCK_REALTIME_COARSE: u32 = 5;
/// `CLOCK_MONOTONIC_COARSE`.
pub const CLOCK_MONOTONIC_COARSE: u32 = 6;
/// `CLOCK_BOOTTIME`.
pub const CLOCK_BOOTTIME: u32 = 7;
/// The highest clock id armmap knows (the system call's EINVAL bound).
pub const CLOCK_MAX: u32 = CLOCK_BOOTTIME;

/// `mode`: the counter cannot be read at EL0; every call goes to the kernel.
pub const MODE_SYSCALL: u32 = 0;
/// `mode`: CNTVCT_EL0 is readable at EL0 and `freq` is its frequency.
pub const MODE_COUNTER: u32 = 1;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// What the clocks are computed from: one consistent copy of the page.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// [`MODE_SYSCALL`] or [`MODE_COUNTER`].
    pub mode: u32,
    /// The counter's frequency in Hz (CNTFRQ_EL0).
    pub freq: u64,
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC, in nanoseconds (armmap has no
    /// wall clock yet: 0, so CLOCK_REALTIME counts from boot).
    pub realtime_offset_ns: u64,
    /// What `clock_getres` answers for the clocks computed here, in ns.
    pub res_ns: u64,
}

/// The data page's layout (the start of the page; the rest is zero).
///
/// Invariant: `seq` is odd exactly while the kernel is changing the other
/// fields; only the kernel writes, and only through [`VdsoData::update`].
#[repr(C)]
#[derive(Default)]
pub struct VdsoData {
    pub seq: AtomicU32,
    pub mode: AtomicU32,
    pub freq: AtomicU64,
    pub realtime_offset_ns: AtomicU64,
    pub res_ns: AtomicU64,
}

impl VdsoData {
    /// Publishes `p` (the kernel's side of the protocol).
    pub fn update(&self, p: &Params) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.mode.store(p.mode, Ordering::Relaxed);
        self.freq.store(p.freq, Ordering::Relaxed);
        self.realtime_offset_ns.store(p.realtime_offset_ns, Ordering::Relaxed);
        self.res_ns.store(p.res_ns, Ordering::Relaxed);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// Runs `f` on a consistent copy of the fields, again until no update
    /// overlapped it (`f` may be called more than once: it reads the
    /// counter inside, so that the counter and the fields go together).
    #[inline(always)]
    pub fn read<R>(&self, mut f: impl FnMut(&Params) -> R) -> R {
        loop {
            let start = self.seq.load(Ordering::Acquire);
            if start & 1 != 0 {
                core::hint::spin_loop();
                continue;
            }
            let p = Params {
                mode: self.mode.load(Ordering::Relaxed),
                freq: self.freq.load(Ordering::Relaxed),
                realtime_offset_ns: self.realtime_offset_ns.load(Ordering::Relaxed),
                res_ns: self.res_ns.load(Ordering::Relaxed),
            };
            let r = f(&p);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == start {
                return r;
            }
        }
    }
}

/// Nanoseconds for a counter value at `freq` Hz: whole seconds, then the
/// remainder, so no step overflows before the result itself would (after
/// 584 years) for a frequency below 18 GHz. The result wraps then, the
/// same in the kernel and in the vDSO.
#[inline(always)]
pub fn counter_to_ns(counter: u64, freq: NonZeroU64) -> u64 {
    (counter / freq).wrapping_mul(NSEC_PER_SEC).wrapping_add((counter % freq).wrapping_mul(NSEC_PER_SEC) / freq)
}

/// The time of `clock` in nanoseconds at counter value `counter`, or `None`
/// for a clock this page cannot answer (CPU-time clocks, unknown ids, a
/// counter user space cannot read): the caller asks the kernel instead.
///
/// armmap's clocks all run from the one counter: MONOTONIC, MONOTONIC_RAW,
/// BOOTTIME (nothing suspends) and the COARSE ones (at the counter's full
/// resolution) are the same; REALTIME adds the offset.
#[inline(always)]
pub fn clock_ns(clock: u32, counter: u64, p: &Params) -> Option<u64> {
    if p.mode != MODE_COUNTER {
        return None;
    }
    let mono = counter_to_ns(counter, NonZeroU64::new(p.freq)?);
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Some(mono.wrapping_add(p.realtime_offset_ns)),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => Some(mono),
        _ => None,
    }
}

/// `clock_getres` for `clock`, or `None` where [`clock_ns`] has no answer.
#[inline(always)]
pub fn resolution_ns(clock: u32, p: &Params) -> Option<u64> {
    match clock {
        CLOCK_REALTIME
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
            if p.mode == MODE_COUNTER =>
        {
            Some(p.res_ns)
        }
        _ => None,
    }
}

/// Seconds and nanoseconds of a nanosecond count (`struct timespec`).
#[inline(always)]
pub fn split_ns(ns: u64) -> (i64, i64) {
    ((ns / NSEC_PER_SEC) as i64, (ns % NSEC_PER_SEC) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock ids written out above are Linux's (linux_raw_sys, built
    /// from its headers; the clock ids are the same on every architecture).
    #[test]
    fn clock_ids_are_linuxs() {
        use linux_raw_sys::general as linux;
        assert_eq!(CLOCK_REALTIME, linux::CLOCK_REALTIME);
        assert_eq!(CLOCK_MONOTONIC, linux::CLOCK_MONOTONIC);
        assert_eq!(CLOCK_PROCESS_CPUTIME_ID, linux::CLOCK_PROCESS_CPUTIME_ID);
        assert_eq!(CLOCK_THREAD_CPUTIME_ID, linux::CLOCK_THREAD_CPUTIME_ID);
        assert_eq!(CLOCK_MONOTONIC_RAW, linux::CLOCK_MONOTONIC_RAW);
        assert_eq!(CLOCK_REALTIME_COARSE, linux::CLOCK_REALTIME_COARSE);
        assert_eq!(CLOCK_MONOTONIC_COARSE, linux::CLOCK_MONOTONIC_COARSE);
        assert_eq!(CLOCK_BOOTTIME, linux::CLOCK_BOOTTIME);
    }

    fn params() -> Params {
        Params { mode: MODE_COUNTER, freq: 62_500_000, realtime_offset_ns: 5_000_000_123, res_ns: 1 }
    }

    #[test]
    fn counter_arithmetic() {
        let f = NonZeroU64::new(62_500_000).unwrap();
        assert_eq!(counter_to_ns(0, f), 0);
        assert_eq!(counter_to_ns(62_500_000, f), NSEC_PER_SEC);
        assert_eq!(counter_to_ns(62_500_001, f), NSEC_PER_SEC + 16);
        // No step overflows within the result's range: 500 years, plus a bit.
        let secs = 500 * 365 * 24 * 3600;
        assert_eq!(counter_to_ns(secs * 62_500_000 + 3, f), secs * NSEC_PER_SEC + 48);
        let ghz = NonZeroU64::new(3_000_000_000).unwrap();
        assert_eq!(counter_to_ns(4_500_000_000, ghz), 1_500_000_000);
    }

    #[test]
    fn clocks() {
        let p = params();
        let c = 125_000_000; // two seconds
        for clock in [CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME] {
            assert_eq!(clock_ns(clock, c, &p), Some(2 * NSEC_PER_SEC), "clock {clock}");
            assert_eq!(resolution_ns(clock, &p), Some(1));
        }
        for clock in [CLOCK_REALTIME, CLOCK_REALTIME_COARSE] {
            assert_eq!(clock_ns(clock, c, &p), Some(7_000_000_123));
        }
        for clock in [CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, 8, 11, u32::MAX] {
            assert_eq!(clock_ns(clock, c, &p), None, "clock {clock} is the kernel's");
            assert_eq!(resolution_ns(clock, &p), None);
        }
        // Without a readable counter (or a frequency), nothing is answered here.
        assert_eq!(clock_ns(CLOCK_MONOTONIC, c, &Params { mode: MODE_SYSCALL, ..p }), None);
        assert_eq!(clock_ns(CLOCK_MONOTONIC, c, &Params { freq: 0, ..p }), None);
        assert_eq!(resolution_ns(CLOCK_MONOTONIC, &Params { mode: MODE_SYSCALL, ..p }), None);
        assert_eq!(split_ns(7_000_000_123), (7, 123));
    }

    #[test]
    fn sequence_protocol() {
        let d = VdsoData::default();
        assert_eq!(d.read(|p| *p), Params::default());
        d.update(&params());
        assert_eq!(d.seq.load(Ordering::Relaxed), 2, "even after an update");
        assert_eq!(d.read(|p| *p), params());
        // A reader that overlaps an update starts again and sees the new values.
        let mut calls = 0;
        let seen = d.read(|p| {
            calls += 1;
            if calls == 1 {
                d.update(&Params { realtime_offset_ns: 9, ..params() });
            }
            p.realtime_offset_ns
        });
        assert_eq!((calls, seen), (2, 9));
    }
}
