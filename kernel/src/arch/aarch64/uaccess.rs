//! Safe copies to and from user memory (see `uaccess.S`).
//!
//! Every pointer a system call receives is a user address; the kernel never
//! dereferences it directly. These functions check that the range lies in
//! the user half ([`access_ok`]) and then copy with unprivileged
//! instructions, so a bad pointer yields `Err(Efault)` instead of a kernel
//! crash, and a page that is not filled in yet is faulted in on the way.
//!
//! Two kinds of copy: [`copy_to_user`] and friends are all or nothing (a
//! `struct stat`, a timespec), while [`copy_to_user_prefix`],
//! [`copy_from_user_prefix`] and [`UserIter`] report how many bytes moved
//! before a fault, which `read`, `write` and their vector forms return, as
//! Linux does. The count is exact to the byte.

use crate::mm::addr::USER_END;

core::arch::global_asm!(include_str!("uaccess.S"));

extern "C" {
    fn __copy_from_user(dst: *mut u8, src: u64, len: usize) -> usize;
    fn __copy_to_user(dst: u64, src: *const u8, len: usize) -> usize;
    fn __clear_user(dst: u64, len: usize) -> usize;
}

/// A user pointer was invalid (the caller returns EFAULT).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Efault;

/// Whether `addr..addr + len` is a user range: no overflow, and it ends at
/// or below [`USER_END`] (Linux's `access_ok`). Only the range is checked,
/// not whether anything is mapped there. An empty range still needs `addr`
/// itself in user space, as on Linux.
pub fn access_ok(addr: u64, len: u64) -> bool {
    len <= USER_END && addr <= USER_END - len
}

fn check_range(addr: u64, len: usize) -> Result<(), Efault> {
    if access_ok(addr, len as u64) {
        Ok(())
    } else {
        Err(Efault)
    }
}

/// Copies from user address `src` into `dst` up to the first byte that
/// faults; returns the number of bytes copied (`dst.len()` unless a fault
/// stopped it). `Err` if the range is not a user range: nothing is read.
pub fn copy_from_user_prefix(dst: &mut [u8], src: u64) -> Result<usize, Efault> {
    check_range(src, dst.len())?;
    // SAFETY: dst is a valid kernel buffer; the source is only read with
    // ldtr, which faults (and is fixed up) on bad user addresses.
    let left = unsafe { __copy_from_user(dst.as_mut_ptr(), src, dst.len()) };
    Ok(dst.len() - left.min(dst.len()))
}

/// Copies `src` to user address `dst` up to the first byte that faults;
/// returns the number of bytes copied. `Err` if the range is not a user
/// range: nothing is written.
pub fn copy_to_user_prefix(dst: u64, src: &[u8]) -> Result<usize, Efault> {
    check_range(dst, src.len())?;
    // SAFETY: src is a valid kernel buffer; the destination is only written
    // with sttr, which faults (and is fixed up) on bad user addresses.
    let left = unsafe { __copy_to_user(dst, src.as_ptr(), src.len()) };
    Ok(src.len() - left.min(src.len()))
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), Efault> {
    match copy_from_user_prefix(dst, src)? {
        n if n == dst.len() => Ok(()),
        _ => Err(Efault),
    }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), Efault> {
    match copy_to_user_prefix(dst, src)? {
        n if n == src.len() => Ok(()),
        _ => Err(Efault),
    }
}

/// Zeroes `len` bytes at user address `dst`.
pub fn clear_user(dst: u64, len: usize) -> Result<(), Efault> {
    check_range(dst, len)?;
    // SAFETY: only writes user memory with sttrb (fixed up on faults).
    match unsafe { __clear_user(dst, len) } {
        0 => Ok(()),
        _ => Err(Efault),
    }
}

/// Reads a plain value (an integer or a `#[repr(C)]` struct of integers).
pub fn read_user<T: Copy + Default>(src: u64) -> Result<T, Efault> {
    let mut v = T::default();
    // SAFETY: T is Copy plain data; viewing it as bytes to fill it is sound
    // for the integer-only types this is used with.
    let bytes = unsafe { core::slice::from_raw_parts_mut(&mut v as *mut T as *mut u8, core::mem::size_of::<T>()) };
    copy_from_user(bytes, src)?;
    Ok(v)
}

/// Set while a user access must not be resolved by the fault handler (a
/// spin lock is held): a fault then fails the access at once, as Linux's
/// `pagefault_disable`. Per CPU with several CPUs.
static NO_FAULTS: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Runs `f` with page faults on user addresses failing (EFAULT) instead of
/// being resolved: for user accesses made with a spin lock held, which the
/// caller retries after faulting the page in without the lock.
pub fn without_faults<R>(f: impl FnOnce() -> R) -> R {
    use core::sync::atomic::Ordering::Relaxed;
    let was = NO_FAULTS.swap(true, Relaxed);
    let r = f();
    NO_FAULTS.store(was, Relaxed);
    r
}

/// Whether user faults are to fail now (see [`without_faults`]).
pub fn faults_disabled() -> bool {
    NO_FAULTS.load(core::sync::atomic::Ordering::Relaxed)
}

/// Writes a plain value.
pub fn write_user<T: Copy>(dst: u64, v: &T) -> Result<(), Efault> {
    // SAFETY: reading the bytes of a Copy value is always sound.
    let bytes = unsafe { core::slice::from_raw_parts(v as *const T as *const u8, core::mem::size_of::<T>()) };
    copy_to_user(dst, bytes)
}

/// Why a user string could not be read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CStrError {
    /// A bad pointer (EFAULT).
    Fault,
    /// No NUL within the limit (ENAMETOOLONG for a path, E2BIG for an argument).
    TooLong,
}

/// Reads a NUL-terminated string into `dst`, which it must fit in with
/// room to spare (at most `dst.len() - 1` bytes before the NUL); returns
/// its length. Needs no allocation.
pub fn read_user_cstr_into(src: u64, dst: &mut [u8]) -> Result<usize, CStrError> {
    let max = dst.len().saturating_sub(1);
    let mut len = 0;
    let mut addr = src;
    while len < max {
        // Never read across a page boundary we may not own: chunk to it.
        let to_page_end = 4096 - (addr as usize & 4095);
        let n = (max - len).min(64).min(to_page_end);
        let chunk = &mut dst[len..len + n];
        copy_from_user(chunk, addr).map_err(|_| CStrError::Fault)?;
        if let Some(pos) = chunk.iter().position(|&b| b == 0) {
            return Ok(len + pos);
        }
        len += n;
        addr += n as u64;
    }
    Err(CStrError::TooLong)
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
pub fn read_user_cstr(src: u64, max: usize) -> Result<alloc::vec::Vec<u8>, CStrError> {
    let mut out = alloc::vec::Vec::new();
    let mut chunk = [0u8; 64];
    let mut addr = src;
    while out.len() < max {
        // Never read across a page boundary we may not own: chunk to it.
        let to_page_end = 4096 - (addr as usize & 4095);
        let n = chunk.len().min(to_page_end);
        copy_from_user(&mut chunk[..n], addr).map_err(|_| CStrError::Fault)?;
        if let Some(pos) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..pos]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        addr += n as u64;
    }
    Err(CStrError::TooLong)
}

/// User memory seen as a sequence of ranges, consumed front to back: the
/// buffer of `read`/`write` (one range) or the vectors of `readv`/`writev`
/// (Linux's `iov_iter` over user memory). Every range must have passed
/// [`access_ok`] before it is put here; a copy still stops at the first
/// byte that faults.
pub struct UserIter<'a> {
    ranges: &'a [(u64, u64)],
    /// The range being consumed, and how far into it.
    index: usize,
    offset: u64,
    left: u64,
}

impl<'a> UserIter<'a> {
    /// Walks `ranges`, (address, length) pairs that passed [`access_ok`].
    pub fn new(ranges: &'a [(u64, u64)]) -> Self {
        let left = ranges.iter().fold(0u64, |sum, r| sum.saturating_add(r.1));
        UserIter { ranges, index: 0, offset: 0, left }
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> u64 {
        self.left
    }

    /// Moves `n` bytes on, ending the current range when it is used up.
    fn advance(&mut self, n: u64) {
        self.offset += n;
        self.left -= n;
        while self.index < self.ranges.len() && self.offset >= self.ranges[self.index].1 {
            self.index += 1;
            self.offset = 0;
        }
    }

    /// The rest of the current range: (address, length).
    fn current(&self) -> Option<(u64, u64)> {
        let &(base, len) = self.ranges.get(self.index)?;
        Some((base + self.offset, len - self.offset))
    }

    /// Copies `src` to the ranges, in order; returns the bytes copied, fewer
    /// than `src.len()` if a byte faulted or the ranges are full.
    pub fn copy_out(&mut self, mut src: &[u8]) -> usize {
        let mut done = 0;
        while !src.is_empty() {
            let Some((addr, len)) = self.current() else { break };
            let n = src.len().min(len as usize);
            let copied = copy_to_user_prefix(addr, &src[..n]).unwrap_or(0);
            self.advance(copied as u64);
            done += copied;
            if copied < n {
                break;
            }
            src = &src[n..];
        }
        done
    }

    /// Fills `dst` from the ranges, in order; returns the bytes copied,
    /// fewer than `dst.len()` if a byte faulted or the ranges ran out.
    pub fn copy_in(&mut self, dst: &mut [u8]) -> usize {
        let mut done = 0;
        while done < dst.len() {
            let Some((addr, len)) = self.current() else { break };
            let n = (dst.len() - done).min(len as usize);
            let copied = copy_from_user_prefix(&mut dst[done..done + n], addr).unwrap_or(0);
            self.advance(copied as u64);
            done += copied;
            if copied < n {
                break;
            }
        }
        done
    }

    /// Consumes `n` bytes without touching them (a write to `/dev/null`).
    pub fn skip(&mut self, mut n: u64) {
        while n > 0 {
            let Some((_, len)) = self.current() else { break };
            let step = n.min(len);
            self.advance(step);
            n -= step;
        }
    }
}
