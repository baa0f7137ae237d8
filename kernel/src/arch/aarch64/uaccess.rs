//! Safe copies to and from user memory (see `uaccess.S`).
//!
//! Every pointer a system call receives is a user address; the kernel never
//! dereferences it directly. These functions check that the range lies in
//! the user half and then copy with unprivileged instructions, so a bad
//! pointer yields `Err(Efault)` instead of a kernel crash, and a page that
//! is not filled in yet is faulted in on the way.

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

fn check_range(addr: u64, len: usize) -> Result<(), Efault> {
    match addr.checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Efault),
    }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), Efault> {
    check_range(src, dst.len())?;
    // SAFETY: dst is a valid kernel buffer; the source is only read with
    // ldtr, which faults (and is fixed up) on bad user addresses.
    match unsafe { __copy_from_user(dst.as_mut_ptr(), src, dst.len()) } {
        0 => Ok(()),
        _ => Err(Efault),
    }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), Efault> {
    check_range(dst, src.len())?;
    // SAFETY: src is a valid kernel buffer; the destination is only written
    // with sttr, which faults (and is fixed up) on bad user addresses.
    match unsafe { __copy_to_user(dst, src.as_ptr(), src.len()) } {
        0 => Ok(()),
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
