//! `msync`: writing a shared file mapping's dirty pages back.
//!
//! armmap's files live in RAM: the page cache *is* the file, so a store
//! through a shared mapping is in the file the moment it happens (`read`
//! sees it at once). What `MS_SYNC` does here is the bookkeeping a
//! persistent store would need: it finds the pages of the range that were
//! written since the last sync, "writes them back" (the point where a disk
//! driver would be called), counts them, and makes them clean again: their
//! entries go back to read-only so the next store faults and marks the page
//! dirty once more. Dirty state lives in the page tables: a shared file page
//! is mapped read-only while clean (see `fault.rs`), writable once written.

use super::addr::{page_round_up, PAGE_SIZE, USER_END};
use super::address_space::{clean_attrs, AddressSpace};
use crate::errno::{Errno, SysResult};
use core::sync::atomic::{AtomicU64, Ordering};
use linux_raw_sys::general as linux;

pub const MS_ASYNC: u64 = linux::MS_ASYNC as u64;
pub const MS_INVALIDATE: u64 = linux::MS_INVALIDATE as u64;
pub const MS_SYNC: u64 = linux::MS_SYNC as u64;

/// Pages written back by `msync` since boot.
pub static WRITTEN_BACK: AtomicU64 = AtomicU64::new(0);

/// `msync(addr, len, flags)`; returns 0 or the errno.
pub fn msync(mm: &mut AddressSpace, addr: u64, len: u64, flags: u64) -> SysResult {
    if !addr.is_multiple_of(PAGE_SIZE as u64)
        || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || (flags & MS_ASYNC != 0 && flags & MS_SYNC != 0)
    {
        return Err(Errno::EINVAL);
    }
    let len = page_round_up(len).ok_or(Errno::ENOMEM)?;
    let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(Errno::ENOMEM)?;
    if len == 0 {
        return Ok(0);
    }
    let unmapped = !mm.vmas.fully_mapped(addr, end);
    if flags & MS_SYNC != 0 {
        let n = write_back(mm, addr, end);
        WRITTEN_BACK.fetch_add(n, Ordering::Relaxed);
    }
    if unmapped {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

/// Cleans the dirty shared file pages of `[start, end)`; returns how many.
/// Only the entries present are visited (a walk of the tables, which skips
/// empty ones), so a huge, mostly untouched range costs what it maps.
fn write_back(mm: &mut AddressSpace, start: u64, end: u64) -> u64 {
    let mut n = 0;
    let mut cursor = start;
    loop {
        if cursor >= end {
            break;
        }
        let Some(vma) = mm.vmas.overlapping(cursor, end).next().cloned() else { break };
        cursor = vma.end;
        if !vma.shared || !vma.backing.tracks_dirty() {
            continue;
        }
        let (s, e) = (vma.start.max(start), vma.end.min(end));
        n += mm.clean_pages(s, e, |va| {
            // Here a persistent file system would write the page to its device.
            vma.backing.write_back(vma.pgoff_of(va));
            clean_attrs(&vma)
        });
    }
    n
}
