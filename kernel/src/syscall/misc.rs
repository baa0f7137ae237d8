//! Time, identity and limits: clock_gettime, clock_getres, gettimeofday
//! (the same numbers the vDSO computes: `vdso/data.rs`), nanosleep,
//! getrusage, uname, prlimit64, getrandom.

use crate::arch::aarch64::timer;
use crate::arch::aarch64::uaccess::{access_ok, copy_to_user, copy_to_user_prefix, read_user, write_user};
use crate::errno::{Errno, SysResult};
use crate::task::process::{self, Block};
use crate::task::sched;
use crate::vdso::{self, data};
use core::mem::{offset_of, size_of};

/// `struct timespec` and `struct timeval`: one definition, with the
/// conversions to and from nanoseconds, shared with the timers.
pub use crate::task::timers::{Timespec, Timeval};

/// `struct rusage` (144 bytes).
#[repr(C)]
#[derive(Copy, Clone, Default)]
pub struct Rusage {
    pub utime: [i64; 2],
    pub stime: [i64; 2],
    pub maxrss: i64,
    pub ixrss: i64,
    pub idrss: i64,
    pub isrss: i64,
    pub minflt: i64,
    pub majflt: i64,
    pub rest: [i64; 8],
}

const _: () = assert!(core::mem::size_of::<Rusage>() == 144);
crate::abi_layout!("rusage", {
    "size" => size_of::<Rusage>(),
    "ru_utime" => offset_of!(Rusage, utime),
    "ru_stime" => offset_of!(Rusage, stime),
    "ru_maxrss" => offset_of!(Rusage, maxrss),
    "ru_ixrss" => offset_of!(Rusage, ixrss),
    "ru_idrss" => offset_of!(Rusage, idrss),
    "ru_isrss" => offset_of!(Rusage, isrss),
    "ru_minflt" => offset_of!(Rusage, minflt),
    "ru_majflt" => offset_of!(Rusage, majflt),
    "ru_nswap" => offset_of!(Rusage, rest),
    "ru_nivcsw" => offset_of!(Rusage, rest) + 7 * 8,
});
crate::abi_layout!("timespec", {
    "size" => size_of::<Timespec>(),
    "tv_sec" => offset_of!(Timespec, sec),
    "tv_nsec" => offset_of!(Timespec, nsec),
});

crate::abi_layout!("timeval", {
    "size" => size_of::<Timeval>(),
    "tv_usec" => offset_of!(Timeval, usec),
});

/// The time of `clock` in nanoseconds; EINVAL for an unknown clock.
///
/// CLOCK_REALTIME (0), MONOTONIC (1), MONOTONIC_RAW (4), *_COARSE (5, 6)
/// and BOOTTIME (7) are computed by `vdso::data::clock_ns` from the counter
/// and the data page's parameters, exactly as the vDSO computes them; the
/// CPU-time clocks (2, 3), which the vDSO leaves to this call, are the
/// counter too (armmap does not account CPU time per process).
fn clock_now_ns(clock: u64) -> Result<u64, Errno> {
    // Linux's clockid_t is an int.
    let clock = u32::try_from(clock as i32).ok().filter(|&c| c <= data::CLOCK_MAX).ok_or(Errno::EINVAL)?;
    let p = vdso::params();
    Ok(data::clock_ns(clock, timer::counter(), &p).unwrap_or_else(timer::uptime_ns))
}

pub fn clock_gettime(clock: u64, tp: u64) -> SysResult {
    let ts = Timespec::from_ns(clock_now_ns(clock)?);
    write_user(tp, &ts).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

/// `clock_getres(clock, res)`: the vDSO's answer for the clocks it
/// computes, 1 ns for the CPU-time clocks (Linux's for a scheduler clock);
/// EINVAL for an unknown clock, nothing written for a null `res`.
pub fn clock_getres(clock: u64, res: u64) -> SysResult {
    let clock = u32::try_from(clock as i32).ok().filter(|&c| c <= data::CLOCK_MAX).ok_or(Errno::EINVAL)?;
    let ns = data::resolution_ns(clock, &vdso::params()).unwrap_or(1);
    if res != 0 {
        write_user(res, &Timespec::from_ns(ns)).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

/// `gettimeofday(tv, tz)`: CLOCK_REALTIME in microseconds; the time zone
/// is UTC (zeros), as Linux's default `sys_tz`. Either pointer may be null.
pub fn gettimeofday(tv: u64, tz: u64) -> SysResult {
    if tv != 0 {
        let now = clock_now_ns(data::CLOCK_REALTIME.into())?;
        write_user(tv, &Timeval::from_ns(now)).map_err(|_| Errno::EFAULT)?;
    }
    if tz != 0 {
        write_user(tz, &[0i32; 2]).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

/// Sleeps until the clock reaches `until`. Interrupted by a signal: the
/// time left goes to `rem` (when given) and the call ends with EINTR if a
/// handler runs, or starts over if none does (Linux restarts it with the
/// time left; here with the request, a deviation only a stopped and
/// continued sleeper sees).
fn sleep_until(until: u64, rem: u64) -> SysResult {
    loop {
        let now = timer::uptime_ns();
        if now >= until {
            return Ok(0);
        }
        if sched::block(Block::Sleep(until)).is_err() {
            if rem != 0 {
                let left = until.saturating_sub(timer::uptime_ns());
                write_user(rem, &Timespec::from_ns(left)).map_err(|_| Errno::EFAULT)?;
            }
            return Err(Errno::ERESTARTNOHAND);
        }
    }
}

/// Reads a user `timespec` as nanoseconds (a sleep request, a timeout):
/// EFAULT if unreadable, EINVAL for negative seconds or nanoseconds out of
/// range, as Linux.
pub fn read_timespec_ns(at: u64) -> Result<u64, Errno> {
    read_user::<Timespec>(at).map_err(|_| Errno::EFAULT)?.to_ns().ok_or(Errno::EINVAL)
}

pub fn nanosleep(req: u64, rem: u64) -> SysResult {
    let ns = read_timespec_ns(req)?;
    if ns == 0 {
        sched::yield_now();
        return Ok(0);
    }
    sleep_until(timer::uptime_ns().saturating_add(ns), rem)
}

/// `clock_nanosleep(clock, flags, req, rem)`: relative, or absolute with
/// TIMER_ABSTIME (every clock reads the same counter here, see
/// `clock_gettime`); `rem` is written only for a relative sleep.
pub fn clock_nanosleep(clock: u64, flags: u64, req: u64, rem: u64) -> SysResult {
    const TIMER_ABSTIME: u64 = linux_raw_sys::general::TIMER_ABSTIME as u64;
    // The CPU-time clocks are not slept on here; others as clock_gettime.
    if clock > u64::from(data::CLOCK_MAX)
        || clock == u64::from(data::CLOCK_PROCESS_CPUTIME_ID)
        || clock == u64::from(data::CLOCK_THREAD_CPUTIME_ID)
    {
        return Err(Errno::EINVAL);
    }
    let ns = read_timespec_ns(req)?;
    if flags & TIMER_ABSTIME != 0 {
        // The deadline on this clock, moved onto the monotonic one.
        let offset = clock_now_ns(clock)?.wrapping_sub(timer::uptime_ns());
        return sleep_until(ns.saturating_sub(offset), 0);
    }
    sleep_until(timer::uptime_ns().saturating_add(ns), rem)
}

pub fn getrusage(who: u64, usage: u64) -> SysResult {
    const RUSAGE_SELF: u64 = linux_raw_sys::general::RUSAGE_SELF as u64;
    const RUSAGE_CHILDREN: u64 = u64::MAX; // -1
    let mut r = Rusage::default();
    match who {
        RUSAGE_SELF => {
            let (flt, ticks) = process_usage().unwrap_or((0, 0));
            r.minflt = flt as i64;
            let us = ticks * (1_000_000 / timer::HZ);
            r.utime = [(us / 1_000_000) as i64, (us % 1_000_000) as i64];
        }
        RUSAGE_CHILDREN => {}
        _ => return Err(Errno::EINVAL),
    }
    write_user(usage, &r).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

pub fn uname(buf: u64) -> SysResult {
    // Six NUL-padded fields of the same length.
    const FIELD: usize = 65;
    crate::abi_layout!("utsname", {
        "size" => FIELD * 6,
        "field" => FIELD,
        "nodename" => FIELD,
        "machine" => FIELD * 4,
    });
    let mut u = [0u8; FIELD * 6];
    // The release names the Linux ABI armmap follows, which glibc checks.
    for (i, s) in ["armmap", "armmap", "6.1.0-armmap", "#1 armmap", "aarch64", "(none)"].iter().enumerate() {
        u[i * FIELD..i * FIELD + s.len()].copy_from_slice(s.as_bytes());
    }
    copy_to_user(buf, &u).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

/// `prlimit64(pid, resource, new, old)`: reports armmap's fixed limits. A
/// new limit is read and checked as Linux does (EFAULT, EINVAL if the soft
/// limit is above the hard one) but not kept.
pub fn prlimit64(pid: u64, resource: u64, new: u64, old: u64) -> SysResult {
    const RLIMIT_STACK: u64 = linux_raw_sys::general::RLIMIT_STACK as u64;
    const RLIMIT_NOFILE: u64 = linux_raw_sys::general::RLIMIT_NOFILE as u64;
    const RLIMIT_CORE: u64 = linux_raw_sys::general::RLIMIT_CORE as u64;
    const INFINITY: u64 = u64::MAX;
    let new: Option<[u64; 2]> = match new {
        0 => None,
        p => Some(read_user(p).map_err(|_| Errno::EFAULT)?),
    };
    if pid as i32 != 0 && Ok(pid as u32) != process::current_process().map(|p| p.pid) {
        return Err(Errno::ESRCH);
    }
    // Linux's resource is an unsigned int.
    if resource as u32 >= 16 || new.is_some_and(|[cur, max]| cur > max) {
        return Err(Errno::EINVAL);
    }
    let resource = resource as u32 as u64;
    if old != 0 {
        let lim: [u64; 2] = match resource {
            RLIMIT_STACK => [crate::mm::address_space::STACK_SIZE, INFINITY],
            RLIMIT_NOFILE => [crate::task::files::MAX_FDS as u64; 2],
            // No core files are written (wait statuses never have the core bit).
            RLIMIT_CORE => [0, INFINITY],
            _ => [INFINITY, INFINITY],
        };
        write_user(old, &lim).map_err(|_| Errno::EFAULT)?;
    }
    Ok(0)
}

/// `getrandom(buf, len, flags)`, as Linux's: unknown flags (or RANDOM
/// with INSECURE) are EINVAL; the length is cut to `MAX_RW_COUNT`, that
/// range must be user memory (EFAULT), and the bytes go out 64 at a time
/// until the length is reached or a byte faults (the count so far; EFAULT
/// if none was written).
pub fn getrandom(buf: u64, len: u64, flags: u64) -> SysResult {
    const GRND_NONBLOCK: u32 = linux_raw_sys::general::GRND_NONBLOCK;
    const GRND_RANDOM: u32 = linux_raw_sys::general::GRND_RANDOM;
    const GRND_INSECURE: u32 = linux_raw_sys::general::GRND_INSECURE;
    const MAX_RW_COUNT: u64 = 0x7fff_f000;
    // Linux's flags are an unsigned int.
    let flags = flags as u32;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE
    {
        return Err(Errno::EINVAL);
    }
    let len = len.min(MAX_RW_COUNT);
    if !access_ok(buf, len) {
        return Err(Errno::EFAULT);
    }
    let mut block = [0u8; 64];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(block.len() as u64) as usize;
        crate::random::fill(&mut block[..n]);
        let copied = copy_to_user_prefix(buf + done, &block[..n]).map_err(|_| Errno::EFAULT)?;
        done += copied as u64;
        if copied < n {
            break;
        }
    }
    match done {
        0 if len > 0 => Err(Errno::EFAULT),
        n => Ok(n),
    }
}

/// `reboot(magic, magic2, cmd)`: power-off, halt and restart all end the
/// machine (QEMU exits with status 0), as on Linux under QEMU `-no-reboot`.
pub fn reboot(magic: u64, magic2: u64, cmd: u64) -> SysResult {
    const MAGIC1: u64 = linux_raw_sys::general::LINUX_REBOOT_MAGIC1 as u64;
    const MAGIC2: [u64; 4] = {
        use linux_raw_sys::general::*;
        [
            LINUX_REBOOT_MAGIC2 as u64,
            LINUX_REBOOT_MAGIC2A as u64,
            LINUX_REBOOT_MAGIC2B as u64,
            LINUX_REBOOT_MAGIC2C as u64,
        ]
    };
    const CMD_RESTART: u64 = linux_raw_sys::general::LINUX_REBOOT_CMD_RESTART as u64;
    const CMD_HALT: u64 = linux_raw_sys::general::LINUX_REBOOT_CMD_HALT as u64;
    const CMD_POWER_OFF: u64 = linux_raw_sys::general::LINUX_REBOOT_CMD_POWER_OFF as u64;
    if magic as u32 as u64 != MAGIC1 || !MAGIC2.contains(&(magic2 as u32 as u64)) {
        return Err(Errno::EINVAL);
    }
    match cmd as u32 as u64 {
        CMD_POWER_OFF | CMD_HALT | CMD_RESTART => {
            log::info!("pid {} asked to power off", sched::current());
            crate::boot::shutdown(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// rt_sigaction / rt_sigprocmask: accepted, with an empty old value of
/// `size` bytes (32 for `struct sigaction`, 8 for a signal set).
/// The calling process's page faults and ticks (all its threads, the
/// finished ones included).
fn process_usage() -> Result<(u64, u64), Errno> {
    let p = process::current_process()?;
    let t = process::TABLE.lock();
    let i = p.inner.lock();
    let live: u64 = i.threads.iter().filter_map(|tid| t.threads.get(tid)).map(|th| th.user_ticks).sum();
    Ok((process::Counters::get(&p.counters.minflt), i.dead_ticks + live))
}
