//! `ppoll` and `pselect6`: waiting until one of several files is ready.
//!
//! Both look at every file they are given (readiness from `fs::poll`),
//! and if none is ready sleep on the global poll wait queue until a
//! pollable object changes, the timeout passes or a signal arrives, then
//! look again. The rules are Linux's (fs/select.c):
//! - a timeout pointer of NULL waits for ever, a zero timeout only looks;
//!   an invalid timespec is EINVAL; the time left is written back to the
//!   user's timespec (silently skipped if that memory is not writable),
//!   except after a zero timeout;
//! - `ppoll`: more entries than RLIMIT_NOFILE is EINVAL; a negative fd is
//!   skipped (revents 0), a closed one reports POLLNVAL; POLLERR and POLLHUP
//!   are reported whether asked for or not; the result is the number of
//!   entries with revents set, and every entry's revents is written back;
//! - `pselect6`: `n` is capped at the size of the descriptor table, a bit
//!   set for a closed descriptor is EBADF, readable means POLLIN, POLLHUP
//!   or POLLERR, writable POLLOUT or POLLERR, exceptional POLLPRI; the
//!   result is the number of bits set in the three sets written back;
//! - a signal that arrives while nothing is ready ends the wait with
//!   ERESTARTNOHAND: EINTR when a handler runs, a restart otherwise.
//!
//! The signal mask argument (`ppoll`'s `sigmask`, `pselect6`'s sixth
//! argument `{sigset pointer, size}`; size 8, else EINVAL) replaces the
//! thread's mask for the wait, as Linux's `set_user_sigmask`: the old mask
//! is kept as the thread's saved mask and comes back when the call returns,
//! or, if a signal interrupted the wait, once that signal's handler frame
//! has been built (so the handler runs with the wait's mask lifted, and
//! returns to the old one), as `sigsuspend`.

use crate::arch::aarch64::timer;
use crate::arch::aarch64::uaccess::{copy_from_user, copy_to_user, read_user, write_user};
use crate::errno::{Errno, SysResult};
use crate::fs::pipe::events::*;
use crate::fs::poll::{needs_ticks, ready, POLL_WQ};
use crate::fs::vfs::OpenFile;
use crate::task::sigset::SigSet;
use crate::task::wait::WaitError;
use crate::task::{files, process, signal};
use alloc::sync::Arc;
use alloc::vec::Vec;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Bits that make `select` count a descriptor readable, writable, exceptional.
const POLLIN_SET: u16 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const POLLOUT_SET: u16 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const POLLEX_SET: u16 = POLLPRI;

/// The deadline a user timespec at `tsp` sets: `None` for no pointer (no
/// deadline), `Some(now)` for a zero timeout; and whether it is zero.
/// EFAULT if unreadable, EINVAL if negative or its nanoseconds are out of
/// range.
fn read_timeout(tsp: u64) -> Result<(Option<u64>, bool), Errno> {
    if tsp == 0 {
        return Ok((None, false));
    }
    let span = super::misc::read_timespec_ns(tsp)?;
    Ok((Some(timer::uptime_ns().saturating_add(span)), span == 0))
}

/// Linux's `set_user_sigmask`: no mask leaves the thread's as it is;
/// otherwise its size must be 8 (EINVAL) and it must be readable (EFAULT),
/// and it becomes the thread's mask, the old one saved.
fn set_user_sigmask(mask: u64, size: u64) -> Result<(), Errno> {
    if mask == 0 {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let set = SigSet(read_user::<u64>(mask).map_err(|_| Errno::EFAULT)?);
    process::with_current(|t| {
        t.sig.saved_mask = Some(t.sig.mask);
        t.sig.mask = set.blockable();
        signal::recalc_thread(t);
    })
}

/// Linux's `restore_saved_sigmask_unless`: a call a signal interrupted
/// leaves the saved mask for signal delivery to restore (after the
/// handler's frame saved it); any other result restores it now, so a
/// signal only the call's mask let through stays pending.
fn restore_sigmask(r: &SysResult) {
    if *r == Err(Errno::ERESTARTNOHAND) {
        return;
    }
    let _ = process::with_current(|t| {
        if let Some(m) = t.sig.saved_mask.take() {
            t.sig.mask = m;
            signal::recalc_thread(t);
        }
    });
}

/// The end of both calls (Linux's `poll_select_finish`): the mask comes
/// back, the time left is written back, and a call whose time could not
/// be written back is not restarted (its timeout would start over).
fn finish(r: SysResult, tsp: u64, deadline: Option<u64>, zero: bool) -> SysResult {
    restore_sigmask(&r);
    let written = write_back_timeout(tsp, deadline, zero);
    match r {
        Err(Errno::ERESTARTNOHAND) if !written => Err(Errno::EINTR),
        r => r,
    }
}

/// Writes the time left before `deadline` back to the user's timespec, as
/// Linux's `poll_select_finish`: not for a zero timeout (`zero`). Returns
/// false only if the write faulted.
fn write_back_timeout(tsp: u64, deadline: Option<u64>, zero: bool) -> bool {
    let Some(d) = deadline else { return true };
    if tsp == 0 || zero {
        return true;
    }
    let left = d.saturating_sub(timer::uptime_ns());
    write_user(tsp, &super::misc::Timespec::from_ns(left)).is_ok()
}

/// Waits until `scan` reports something ready (returns its count), the
/// deadline passes (0) or a signal arrives (ERESTARTNOHAND). `ticks` asks for a
/// look at every timer tick too (a file whose readiness changes unseen).
fn wait_ready(deadline: Option<u64>, ticks: bool, mut scan: impl FnMut() -> u64) -> SysResult {
    let tick = NSEC_PER_SEC / timer::HZ;
    loop {
        let wake_at = match (deadline, ticks) {
            (d, true) => Some(d.unwrap_or(u64::MAX).min(timer::uptime_ns().saturating_add(tick))),
            (d, false) => d,
        };
        let mut count = 0;
        match POLL_WQ.wait_until(wake_at, || {
            count = scan();
            count > 0
        }) {
            Ok(()) => return Ok(count),
            Err(WaitError::TimedOut) if deadline.is_none_or(|d| timer::uptime_ns() < d) => continue,
            Err(WaitError::TimedOut) => return Ok(0),
            Err(WaitError::Interrupted) => return Err(Errno::ERESTARTNOHAND),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The open files behind `fds` (`None` for a negative or closed one).
fn lookup_all(fds: impl Iterator<Item = i64>, n: usize) -> Result<Vec<Option<Arc<OpenFile>>>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    process::with_files(|files| {
        for fd in fds {
            v.push(if fd < 0 { None } else { files::get(files, fd as u64).ok() });
        }
    })?;
    Ok(v)
}

/// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`.
pub fn ppoll(ufds: u64, nfds: u64, tsp: u64, sigmask: u64, sigsetsize: u64) -> SysResult {
    let (deadline, zero) = read_timeout(tsp)?;
    set_user_sigmask(sigmask, sigsetsize)?;
    let r = do_ppoll(ufds, nfds, deadline);
    finish(r, tsp, deadline, zero)
}

fn do_ppoll(ufds: u64, nfds: u64, deadline: Option<u64>) -> SysResult {
    // Linux takes the count as an unsigned int.
    let nfds = nfds as u32 as usize;
    if nfds > files::MAX_FDS {
        return Err(Errno::EINVAL);
    }
    // struct pollfd { int fd; short events; short revents; }
    let mut raw = Vec::new();
    raw.try_reserve_exact(nfds * 8).map_err(|_| Errno::ENOMEM)?;
    raw.resize(nfds * 8, 0u8);
    copy_from_user(&mut raw, ufds).map_err(|_| Errno::EFAULT)?;
    let entry = |i: usize| {
        let e = &raw[i * 8..i * 8 + 8];
        (i32::from_le_bytes([e[0], e[1], e[2], e[3]]), u16::from_le_bytes([e[4], e[5]]))
    };
    let filesv = lookup_all((0..nfds).map(|i| entry(i).0 as i64), nfds)?;
    let ticks = filesv.iter().flatten().any(|f| needs_ticks(f));
    let mut revents = Vec::new();
    revents.try_reserve_exact(nfds).map_err(|_| Errno::ENOMEM)?;
    revents.resize(nfds, 0u16);
    let r = wait_ready(deadline, ticks, || {
        let mut count = 0;
        for i in 0..nfds {
            let (fd, events) = entry(i);
            revents[i] = match &filesv[i] {
                _ if fd < 0 => 0,
                None => POLLNVAL,
                Some(f) => ready(f) & (events | POLLERR | POLLHUP),
            };
            if revents[i] != 0 {
                count += 1;
            }
        }
        count
    });
    drop(filesv);
    for (i, rev) in revents.iter().enumerate() {
        write_user(ufds + i as u64 * 8 + 6, rev).map_err(|_| Errno::EFAULT)?;
    }
    r
}

/// Reads an fd_set of `words` longs (all clear for a NULL pointer).
fn read_set(ptr: u64, words: usize) -> Result<Vec<u64>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(words).map_err(|_| Errno::ENOMEM)?;
    v.resize(words, 0u64);
    if ptr != 0 && words > 0 {
        let mut bytes = [0u8; files::MAX_FDS / 8];
        copy_from_user(&mut bytes[..words * 8], ptr).map_err(|_| Errno::EFAULT)?;
        for (i, w) in v.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            *w = u64::from_le_bytes(b);
        }
    }
    Ok(v)
}

/// Writes an fd_set of `words` longs back (nothing for a NULL pointer).
fn write_set(ptr: u64, set: &[u64]) -> Result<(), Errno> {
    if ptr == 0 || set.is_empty() {
        return Ok(());
    }
    let mut bytes = [0u8; files::MAX_FDS / 8];
    for (i, w) in set.iter().enumerate() {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    copy_to_user(ptr, &bytes[..set.len() * 8]).map_err(|_| Errno::EFAULT)
}

/// `pselect6(n, readfds, writefds, exceptfds, timeout, sig)`, where `sig`
/// points at `{ const sigset_t *mask; size_t size; }` (or is NULL).
pub fn pselect6(n: u64, inp: u64, outp: u64, exp: u64, tsp: u64, sig: u64) -> SysResult {
    let (mask, size) = if sig != 0 {
        let [m, s]: [u64; 2] = read_user(sig).map_err(|_| Errno::EFAULT)?;
        (m, s)
    } else {
        (0, 0)
    };
    let (deadline, zero) = read_timeout(tsp)?;
    set_user_sigmask(mask, size)?;
    let r = do_pselect(n, [inp, outp, exp], deadline);
    finish(r, tsp, deadline, zero)
}

fn do_pselect(n: u64, [inp, outp, exp]: [u64; 3], deadline: Option<u64>) -> SysResult {
    // Linux takes `n` as an int, capped at the descriptor table's size.
    let n = n as i32;
    if n < 0 {
        return Err(Errno::EINVAL);
    }
    let table = process::with_files(|files| files::table_size(files))?;
    let n = (n as usize).min(table).min(files::MAX_FDS);
    let words = n.div_ceil(64);
    let sets = [read_set(inp, words)?, read_set(outp, words)?, read_set(exp, words)?];
    let wanted = |fd: usize| (0..3).any(|s| sets[s][fd / 64] & (1 << (fd % 64)) != 0);
    let filesv = lookup_all((0..n).map(|fd| fd as i64), n)?;
    if (0..n).any(|fd| wanted(fd) && filesv[fd].is_none()) {
        return Err(Errno::EBADF);
    }
    let ticks = (0..n).any(|fd| wanted(fd) && filesv[fd].as_ref().is_some_and(|f| needs_ticks(f)));
    let mut res = [read_set(0, words)?, read_set(0, words)?, read_set(0, words)?];
    let r = wait_ready(deadline, ticks, || {
        let mut count = 0;
        for r in res.iter_mut() {
            r.fill(0);
        }
        for fd in (0..n).filter(|&fd| wanted(fd)) {
            let Some(f) = &filesv[fd] else { continue };
            let mask = ready(f);
            let bit = 1u64 << (fd % 64);
            for (s, want) in [POLLIN_SET, POLLOUT_SET, POLLEX_SET].into_iter().enumerate() {
                if mask & want != 0 && sets[s][fd / 64] & bit != 0 {
                    res[s][fd / 64] |= bit;
                    count += 1;
                }
            }
        }
        count
    });
    drop(filesv);
    // The sets are written back only when the wait ended normally.
    let count = r?;
    write_set(inp, &res[0])?;
    write_set(outp, &res[1])?;
    write_set(exp, &res[2])?;
    Ok(count)
}
