//! Memory system calls: mmap, munmap, mprotect, msync, brk.
//!
//! The address-space work happens in `mm::mmap`; here the arguments are
//! decoded, the file descriptor (if any) turned into a backing, and the
//! mmap trace line logged.

use crate::errno::{Errno, SysResult};
use crate::fs::inode::{FileBacking, Kind};
use crate::mm::addr::{page_round_up, PAGE_SIZE};
use crate::mm::backing::zero_fill;
use crate::mm::mmap::{self, FileMapping, Request, MAP_ANONYMOUS};
use crate::mm::vma::{Prot, Vma};
use crate::task::process::{self, Counters};
use alloc::sync::Arc;

/// What mapping an open file means.
fn file_mapping(fd: u64) -> Result<FileMapping, Errno> {
    let f = super::fs::file(fd)?;
    match &f.inode.kind {
        Kind::File => Ok(FileMapping {
            backing: Arc::new(FileBacking { inode: f.inode.clone(), path: f.path.clone() }),
            readable: f.readable(),
            writable: f.writable(),
            name: Some(f.path.clone()),
            allowed: None,
            max_bytes: i64::MAX as u64,
        }),
        Kind::CharDev(d) => crate::fs::dev::mapping(*d, &f).ok_or(Errno::ENODEV),
        _ => Err(Errno::ENODEV),
    }
}

pub fn mmap(addr: u64, len: u64, prot: u64, flags: u64, fd: u64, offset: u64) -> SysResult {
    mmap::check_offset(offset)?;
    let file = if flags & MAP_ANONYMOUS == 0 { Some(file_mapping(fd)?) } else { None };
    let req = Request { addr, len, prot, flags, offset };
    let pid = crate::task::sched::current();
    let m = process::with_mm(|mm| mmap::mmap(mm, &req, file))??;
    let p = process::current_process()?;
    Counters::add(&p.counters.eager_pages, m.eager_pages);
    Counters::add(&p.counters.minflt, m.prefaulted);
    if log::log_enabled!(log::Level::Debug) {
        let l = Prot((prot & 7) as u8).letters();
        log::debug!(
            "mmap pid={pid} start={:#x} end={:#x} pgoff={:#x} prot={} {} strategy={}{}",
            m.start,
            m.end,
            m.pgoff,
            core::str::from_utf8(&l).unwrap_or("???"),
            if flags & 0x3 == mmap::MAP_PRIVATE { "private" } else { "shared" },
            if m.eager { "remap" } else { "fault" },
            if m.eager {
                alloc::format!(" pages={} blocks2m={}", m.eager_pages, m.blocks_2m)
            } else {
                alloc::string::String::new()
            }
        );
    }
    Ok(m.start)
}

pub fn munmap(addr: u64, len: u64) -> SysResult {
    process::with_mm(|mm| mmap::munmap(mm, addr, len))??;
    Ok(0)
}

pub fn mprotect(addr: u64, len: u64, prot: u64) -> SysResult {
    process::with_mm(|mm| mmap::mprotect(mm, addr, len, prot))??;
    Ok(0)
}

pub fn madvise(addr: u64, len: u64, advice: u64) -> SysResult {
    process::with_mm(|mm| crate::mm::madvise::madvise(mm, addr, len, advice))??;
    Ok(0)
}

pub fn msync(addr: u64, len: u64, flags: u64) -> SysResult {
    process::with_mm(|mm| crate::mm::msync::msync(mm, addr, len, flags))?
}

/// `brk(addr)`: moves the end of the heap area; returns the (new or
/// unchanged) break, as Linux does, never an error.
pub fn brk(addr: u64) -> SysResult {
    process::with_mm(|mm| {
        if addr < mm.brk_start {
            return mm.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_round_up(mm.brk), page_round_up(addr)) else { return mm.brk };
        if new_end > old_end {
            if mm.vmas.any_overlap(old_end, new_end) {
                return mm.brk;
            }
            let grown = mm.vmas.insert(Vma {
                start: old_end,
                end: new_end,
                prot: Prot::RW,
                shared: false,
                may_write: true,
                backing: zero_fill(),
                pgoff: old_end / PAGE_SIZE as u64,
                name: Some(Arc::from("[heap]")),
            });
            if grown.is_err() {
                return mm.brk;
            }
        } else if new_end < old_end && mm.unmap_range(new_end, old_end).is_err() {
            return mm.brk;
        }
        mm.brk = addr;
        addr
    })
}
