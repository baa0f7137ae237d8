//! `mmap`, `munmap` and `mprotect` with Linux's semantics and error numbers.
//!
//! `mmap` checks its arguments in the order arm64 Linux does (so a call with
//! several mistakes gets the same errno), picks the address (MAP_FIXED, a
//! free hint, or top-down below the stack gap), replaces whatever MAP_FIXED
//! covers, records the area, and then either
//!
//! - **remaps in one pass** when the backing asks for it
//!   ([`Backing::map_eagerly`]): every entry is built now, with 2 MiB blocks
//!   where the virtual and physical addresses allow (placement aligns the
//!   address for that), so touching the range later takes no fault; or
//! - **leaves the area empty**: the fault handler fills each page on first
//!   touch (MAP_POPULATE runs those faults now).

use super::addr::{page_round_up, PhysAddr, BLOCK_2M, PAGE_SIZE, USER_END};
use super::address_space::{pte_attrs, AddressSpace, MMAP_MIN, MMAP_TOP};
use super::backing::{zero_fill, Backing, SharedAnon};
use super::fault::{self, Access};
use super::vma::{Prot, Vma};
use crate::errno::Errno;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use linux_raw_sys::general as linux;

pub const PROT_READ: u64 = linux::PROT_READ as u64;
pub const PROT_WRITE: u64 = linux::PROT_WRITE as u64;
pub const PROT_EXEC: u64 = linux::PROT_EXEC as u64;
/// Accepted and ignored, as arm64 Linux does (`arch_validate_prot`).
pub const PROT_SEM: u64 = linux::PROT_SEM as u64;
pub const MAP_SHARED: u64 = linux::MAP_SHARED as u64;
pub const MAP_PRIVATE: u64 = linux::MAP_PRIVATE as u64;
pub const MAP_SHARED_VALIDATE: u64 = linux::MAP_SHARED_VALIDATE as u64;
pub const MAP_TYPE: u64 = linux::MAP_TYPE as u64;
pub const MAP_FIXED: u64 = linux::MAP_FIXED as u64;
pub const MAP_ANONYMOUS: u64 = linux::MAP_ANONYMOUS as u64;
pub const MAP_POPULATE: u64 = linux::MAP_POPULATE as u64;
pub const MAP_FIXED_NOREPLACE: u64 = linux::MAP_FIXED_NOREPLACE as u64;
/// The flags Linux accepts without checking (`LEGACY_MAP_MASK`); anything
/// else with MAP_SHARED_VALIDATE is EOPNOTSUPP.
pub const LEGACY_MAP_MASK: u64 = (linux::MAP_SHARED
    | linux::MAP_PRIVATE
    | linux::MAP_FIXED
    | linux::MAP_ANONYMOUS
    | linux::MAP_DENYWRITE
    | linux::MAP_EXECUTABLE
    | linux::MAP_UNINITIALIZED
    | linux::MAP_GROWSDOWN
    | linux::MAP_LOCKED
    | linux::MAP_NORESERVE
    | linux::MAP_POPULATE
    | linux::MAP_NONBLOCK
    | linux::MAP_STACK
    | linux::MAP_HUGETLB) as u64;

/// Mappings built in one pass (pages) and 2 MiB blocks used, since boot.
pub static EAGER_PAGES: AtomicU64 = AtomicU64::new(0);
pub static EAGER_BLOCKS_2M: AtomicU64 = AtomicU64::new(0);

/// What an fd contributes to a mapping.
pub struct FileMapping {
    pub backing: Arc<dyn Backing>,
    pub readable: bool,
    pub writable: bool,
    pub name: Option<Arc<str>>,
    /// For devices: the page offsets that may be mapped, and the errno for
    /// a range outside them (EINVAL past a buffer's end, EPERM for
    /// `/dev/mem` outside the ranges it exposes).
    pub allowed: Option<(core::ops::Range<u64>, Errno)>,
    /// The largest offset + length a mapping of it may reach (Linux's
    /// `file_mmap_size_max`: `i64::MAX` for regular files, no limit for
    /// character devices); beyond it, EOVERFLOW.
    pub max_bytes: u64,
}

/// A checked mmap request.
pub struct Request {
    pub addr: u64,
    pub len: u64,
    pub prot: u64,
    pub flags: u64,
    pub offset: u64,
}

/// Result of a successful mmap, for the trace and the counters.
pub struct Mapped {
    pub start: u64,
    pub end: u64,
    pub pgoff: u64,
    pub eager: bool,
    pub eager_pages: u64,
    pub blocks_2m: usize,
    pub prefaulted: u64,
}

fn prot_of(p: u64) -> Prot {
    Prot((p & 7) as u8)
}

/// The argument checks that come before the file is looked at.
pub fn check_offset(offset: u64) -> Result<(), Errno> {
    if !offset.is_multiple_of(PAGE_SIZE as u64) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Chooses the address for a non-fixed mapping: the hint if free, else the
/// highest gap below `MMAP_TOP`; `phys` (a contiguous object's physical
/// address) asks for 2 MiB-compatible placement.
fn place(mm: &AddressSpace, hint: u64, len: u64, phys: Option<PhysAddr>) -> Result<u64, Errno> {
    if hint != 0 {
        let hint = hint & !(PAGE_SIZE as u64 - 1);
        let hint = hint.max(MMAP_MIN);
        if hint.checked_add(len).is_some_and(|e| e <= MMAP_TOP) && !mm.vmas.any_overlap(hint, hint + len) {
            return Ok(hint);
        }
    }
    if let Some(pa) = phys.filter(|_| len >= BLOCK_2M as u64) {
        let skew = pa.as_u64() % BLOCK_2M as u64;
        if let Some(s) = mm.vmas.find_gap_top_down(len + BLOCK_2M as u64, BLOCK_2M as u64, MMAP_MIN, MMAP_TOP) {
            return Ok(s + skew);
        }
    }
    mm.vmas.find_gap_top_down(len, PAGE_SIZE as u64, MMAP_MIN, MMAP_TOP).ok_or(Errno::ENOMEM)
}

/// `mmap` after the offset and fd checks: `file` is `None` for MAP_ANONYMOUS.
pub fn mmap(mm: &mut AddressSpace, r: &Request, file: Option<FileMapping>) -> Result<Mapped, Errno> {
    let mut flags = r.flags;
    if r.len == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MAP_FIXED_NOREPLACE != 0 {
        flags |= MAP_FIXED;
    }
    let len = page_round_up(r.len).ok_or(Errno::ENOMEM)?;
    let pgoff = r.offset / PAGE_SIZE as u64;
    if pgoff.checked_add(len / PAGE_SIZE as u64).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    if len > USER_END {
        return Err(Errno::ENOMEM);
    }
    let fixed = flags & MAP_FIXED != 0;
    if fixed {
        if !r.addr.is_multiple_of(PAGE_SIZE as u64) {
            return Err(Errno::EINVAL);
        }
        if r.addr.checked_add(len).is_none_or(|e| e > USER_END) || r.addr < MMAP_MIN {
            return Err(Errno::ENOMEM);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 && mm.vmas.any_overlap(r.addr, r.addr + len) {
            return Err(Errno::EEXIST);
        }
    }
    let prot = prot_of(r.prot);
    let map_type = flags & MAP_TYPE;
    let (shared, may_write, backing, name) = match &file {
        Some(f) => {
            if len > f.max_bytes || pgoff > (f.max_bytes - len) >> PAGE_SIZE.trailing_zeros() {
                return Err(Errno::EOVERFLOW);
            }
            let shared = match map_type {
                MAP_SHARED | MAP_SHARED_VALIDATE => {
                    // MAP_FIXED_NOREPLACE is not a legacy flag either: Linux
                    // refuses it here too.
                    if map_type == MAP_SHARED_VALIDATE && r.flags & !LEGACY_MAP_MASK != 0 {
                        return Err(Errno::EOPNOTSUPP);
                    }
                    if prot.write() && !f.writable {
                        return Err(Errno::EACCES);
                    }
                    true
                }
                MAP_PRIVATE => false,
                _ => return Err(Errno::EINVAL),
            };
            if !f.readable {
                return Err(Errno::EACCES);
            }
            if let Some((range, errno)) = &f.allowed {
                let end = pgoff.checked_add(len / PAGE_SIZE as u64).ok_or(*errno)?;
                if pgoff < range.start || end > range.end {
                    return Err(*errno);
                }
            }
            (shared, !shared || f.writable, f.backing.clone(), f.name.clone())
        }
        None => match map_type {
            // Linux names shared anonymous memory after the file it is made of.
            MAP_SHARED => (true, true, SharedAnon::new() as Arc<dyn Backing>, Some(Arc::from("/dev/zero (deleted)"))),
            MAP_PRIVATE => (false, true, zero_fill(), None),
            _ => return Err(Errno::EINVAL),
        },
    };
    let pgoff = if file.is_some() { pgoff } else { 0 };
    let start = if fixed {
        r.addr
    } else {
        place(mm, r.addr, len, backing.contiguous(pgoff).filter(|_| backing.map_eagerly()))?
    };
    let end = start + len;

    // MAP_FIXED replaces whatever was there: room first (up to two cut
    // areas and the new one), so that the old mapping is not lost to a
    // failure after it is gone.
    mm.vmas.ensure_room(3)?;
    mm.unmap_range(start, end)?;
    // Anonymous private areas all share one ZeroFill; give them the offset
    // of their address so adjacent ones can merge (as Linux does).
    let pgoff = if backing.is_anonymous() && !shared { start / PAGE_SIZE as u64 } else { pgoff };
    let vma = Vma { start, end, prot, shared, may_write, backing: backing.clone(), pgoff, name };
    let attrs = pte_attrs(&vma, shared || !prot.write());
    mm.vmas.insert(vma.clone())?;

    let mut out = Mapped { start, end, pgoff, eager: false, eager_pages: 0, blocks_2m: 0, prefaulted: 0 };
    if backing.map_eagerly() {
        // One-pass remap: every entry now, blocks where possible.
        out.eager = true;
        let writable_attrs = if shared { attrs } else { pte_attrs(&vma, false) };
        let mut va = start;
        while va < end {
            // Contiguous runs of the object map with one call (blocks inside).
            let pgoff = vma.pgoff_of(va);
            let pa = backing.contiguous(pgoff).ok_or(Errno::EINVAL)?;
            let run = (backing.contiguous_pages(pgoff) * PAGE_SIZE as u64).min(end - va);
            let (_, blocks) = mm.map_contiguous(va, pa, run as usize, writable_attrs).inspect_err(|_| {
                // The new area is one whole area (device areas never
                // merge): removing it cuts nothing and cannot fail.
                let undone = mm.unmap_range(start, end);
                debug_assert!(undone.is_ok());
            })?;
            out.blocks_2m += blocks;
            va += run;
        }
        out.eager_pages = len / PAGE_SIZE as u64;
        EAGER_PAGES.fetch_add(out.eager_pages, Ordering::Relaxed);
        EAGER_BLOCKS_2M.fetch_add(out.blocks_2m as u64, Ordering::Relaxed);
    } else if flags & MAP_POPULATE != 0 {
        let access = if prot.write() && !shared { Access::Write } else { Access::Read };
        // Populating is advice: at most as many pages as there are free
        // frames, so a huge read-only range (zero-page entries need table
        // frames only) cannot keep the kernel busy for seconds.
        let budget = super::phys::frame_counts().0 as u64;
        for va in (start..end).step_by(PAGE_SIZE).take(budget as usize) {
            if prot == Prot::NONE || fault::handle(mm, va, access, false).is_err() {
                break;
            }
            out.prefaulted += 1;
        }
    }
    Ok(out)
}

/// `munmap(addr, len)`.
pub fn munmap(mm: &mut AddressSpace, addr: u64, len: u64) -> Result<(), Errno> {
    if !addr.is_multiple_of(PAGE_SIZE as u64) || len == 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_round_up(len).ok_or(Errno::EINVAL)?;
    let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(Errno::EINVAL)?;
    mm.unmap_range(addr, end)
}

/// `mprotect(addr, len, prot)`.
pub fn mprotect(mm: &mut AddressSpace, addr: u64, len: u64, prot: u64) -> Result<(), Errno> {
    if !addr.is_multiple_of(PAGE_SIZE as u64) || prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(());
    }
    let len = page_round_up(len).ok_or(Errno::ENOMEM)?;
    let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(Errno::ENOMEM)?;
    if !mm.vmas.fully_mapped(addr, end) {
        return Err(Errno::ENOMEM);
    }
    let prot = prot_of(prot);
    if prot.write() && mm.vmas.overlapping(addr, end).any(|v| !v.may_write) {
        return Err(Errno::EACCES);
    }
    mm.vmas.protect_range(addr, end, prot)?;
    mm.reprotect(addr, end);
    Ok(())
}
