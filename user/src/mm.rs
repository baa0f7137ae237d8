//! Memory: `mmap`, `munmap`, `mprotect`, `msync` and `brk`.
//!
//! `mmap` asks the kernel for a new range of virtual memory: anonymous
//! (zero-filled, backed by nothing) or a view of a file; private (writes are
//! copied, nobody else sees them) or shared (other processes mapping the same
//! thing, including children after `fork`, see the writes). The kernel
//! usually hands out page frames lazily, on the first access (a page fault).
//!
//! Functions that can pull memory out from under live references (`munmap`,
//! `mprotect`, `mmap` with `MAP_FIXED`, shrinking `brk`) are `unsafe`;
//! [`mmap_anonymous`], [`map_anonymous`] and [`map_anonymous_words`] cannot
//! clobber anything and are safe.

use crate::errno::Errno;
use crate::syscall::{nr, ret, syscall1, syscall2, syscall3, syscall6};
use core::sync::atomic::AtomicU64;
use linux_raw_sys::general as linux;

/// The page size armmap (and Linux on QEMU `virt`) uses: 4 KiB.
pub const PAGE_SIZE: usize = 4096;

/// Pages may not be accessed.
pub const PROT_NONE: u32 = linux::PROT_NONE;
/// Pages may be read.
pub const PROT_READ: u32 = linux::PROT_READ;
/// Pages may be written.
pub const PROT_WRITE: u32 = linux::PROT_WRITE;
/// Pages may be executed.
pub const PROT_EXEC: u32 = linux::PROT_EXEC;

/// Share the mapping: writes are visible to every process mapping it and,
/// for files, reach the file.
pub const MAP_SHARED: u32 = linux::MAP_SHARED;
/// Private copy-on-write mapping.
pub const MAP_PRIVATE: u32 = linux::MAP_PRIVATE;
/// Like `MAP_SHARED`, but unknown flags are an error (`EOPNOTSUPP`).
pub const MAP_SHARED_VALIDATE: u32 = linux::MAP_SHARED_VALIDATE;
/// Place the mapping exactly at `addr`, replacing whatever was there.
pub const MAP_FIXED: u32 = linux::MAP_FIXED;
/// Not backed by a file: zero-filled memory (`fd` should be -1).
pub const MAP_ANONYMOUS: u32 = linux::MAP_ANONYMOUS;
/// Fault every page in now rather than on first access.
pub const MAP_POPULATE: u32 = linux::MAP_POPULATE;
/// Like `MAP_FIXED`, but fail with `EEXIST` instead of replacing a mapping.
pub const MAP_FIXED_NOREPLACE: u32 = linux::MAP_FIXED_NOREPLACE;

/// `msync`: schedule the write-back and return.
pub const MS_ASYNC: u32 = linux::MS_ASYNC;
/// `msync`: invalidate other mappings of the same file.
pub const MS_INVALIDATE: u32 = linux::MS_INVALIDATE;
/// `msync`: write back and wait for it.
pub const MS_SYNC: u32 = linux::MS_SYNC;

/// Rounds `x` up to a multiple of [`PAGE_SIZE`].
pub const fn page_round_up(x: usize) -> usize {
    (x + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// The raw `mmap` system call; returns the address of the new mapping.
///
/// # Safety
///
/// With `MAP_FIXED` the kernel replaces whatever was mapped at
/// `addr..addr+len`, which may be this program's own code, data or stack;
/// the caller must make sure nothing in use lives there. Without
/// `MAP_FIXED`, `addr` is only a hint and the call is harmless.
pub unsafe fn mmap(addr: usize, len: usize, prot: u32, flags: u32, fd: i32, offset: u64) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller (see `# Safety`).
    ret(unsafe { syscall6(nr::MMAP, addr, len, prot as usize, flags as usize, fd as usize, offset as usize) })
}

/// Maps `len` bytes of fresh zeroed memory wherever the kernel likes.
/// `flags` must include `MAP_PRIVATE` or `MAP_SHARED` (and may add
/// `MAP_POPULATE`); `MAP_ANONYMOUS` is added for you. `MAP_FIXED` is refused
/// with `EINVAL`: it is what would make this unsafe.
pub fn mmap_anonymous(len: usize, prot: u32, flags: u32) -> Result<usize, Errno> {
    if flags & MAP_FIXED != 0 {
        return Err(Errno::EINVAL);
    }
    // SAFETY: with address hint 0 and no MAP_FIXED the kernel picks an
    // unused range, so no existing memory is affected.
    unsafe { mmap(0, len, prot, flags | MAP_ANONYMOUS, -1, 0) }
}

/// Maps `len` bytes of fresh zeroed read-write memory (`MAP_SHARED` if
/// `shared`, else `MAP_PRIVATE`) and returns it as a byte slice.
///
/// The memory stays mapped for the rest of the program, hence `'static`
/// (unmapping it would need `unsafe` [`munmap`]).
pub fn map_anonymous(len: usize, shared: bool) -> Result<&'static mut [u8], Errno> {
    let flags = if shared { MAP_SHARED } else { MAP_PRIVATE };
    let addr = mmap_anonymous(len, PROT_READ | PROT_WRITE, flags)?;
    // SAFETY: the kernel just mapped `len` readable, writable, zeroed bytes
    // at `addr` that nothing else in this program refers to.
    Ok(unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) })
}

/// Maps `words` zeroed 64-bit atomics (`MAP_SHARED` if `shared`, else
/// `MAP_PRIVATE`). A shared mapping made before `fork` is the simplest way
/// for a parent and its children to share counters and flags.
pub fn map_anonymous_words(words: usize, shared: bool) -> Result<&'static [AtomicU64], Errno> {
    let len = words.checked_mul(8).ok_or(Errno::ENOMEM)?;
    let flags = if shared { MAP_SHARED } else { MAP_PRIVATE };
    let addr = mmap_anonymous(len, PROT_READ | PROT_WRITE, flags)?;
    // SAFETY: the kernel just mapped `len` readable, writable, zeroed,
    // page-aligned bytes at `addr`; all-zero bytes are a valid `AtomicU64`,
    // and atomics may be shared freely.
    Ok(unsafe { core::slice::from_raw_parts(addr as *const AtomicU64, words) })
}

/// Removes the mappings in `addr..addr+len` (`addr` page-aligned).
///
/// # Safety
///
/// Nothing may use the memory afterwards: any reference into the range
/// becomes dangling, and touching it faults.
pub unsafe fn munmap(addr: usize, len: usize) -> Result<(), Errno> {
    // SAFETY: forwarded to the caller (see `# Safety`).
    ret(unsafe { syscall2(nr::MUNMAP, addr, len) }).map(drop)
}

/// Changes the protection of the pages in `addr..addr+len`.
///
/// # Safety
///
/// Removing access from memory the program still uses (its stack, a live
/// reference) makes the next access fault.
pub unsafe fn mprotect(addr: usize, len: usize, prot: u32) -> Result<(), Errno> {
    // SAFETY: forwarded to the caller (see `# Safety`).
    ret(unsafe { syscall3(nr::MPROTECT, addr, len, prot as usize) }).map(drop)
}

/// Writes a shared file mapping back to its file (`MS_SYNC` or `MS_ASYNC`,
/// optionally `| MS_INVALIDATE`).
pub fn msync(addr: usize, len: usize, flags: u32) -> Result<(), Errno> {
    // SAFETY: msync does not change what is mapped or its contents.
    ret(unsafe { syscall3(nr::MSYNC, addr, len, flags as usize) }).map(drop)
}

/// The current program break (the end of the heap that `brk` manages).
pub fn current_break() -> usize {
    // SAFETY: brk(0) is never a valid new break, so it only asks.
    unsafe { syscall1(nr::BRK, 0) as usize }
}

/// Moves the program break to `addr`; returns the new break. Unlike the
/// other calls, Linux's `brk` does not return an errno: on failure it
/// returns the old break unchanged, so compare the result with `addr`.
///
/// # Safety
///
/// Lowering the break unmaps the memory above it, which must not be in use.
pub unsafe fn brk(addr: usize) -> usize {
    // SAFETY: forwarded to the caller (see `# Safety`).
    unsafe { syscall1(nr::BRK, addr) as usize }
}
