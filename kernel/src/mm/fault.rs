//! The page-fault handler: lazy fill and copy-on-write.
//!
//! When a user access finds no entry in the page tables (a translation
//! fault) or an entry that forbids it (a permission fault), the CPU takes a
//! data or instruction abort, and the exception code calls [`handle`] with
//! the faulting address and the kind of access. The handler then goes
//! through these steps, in this order:
//!
//! 1. **Find the area.** No VMA contains the address: SIGSEGV
//!    ("unmapped address").
//! 2. **Check the access against the area's protection.** A write to a
//!    non-writable area, a fetch from a non-executable one, any access to a
//!    PROT_NONE one: SIGSEGV ("protection").
//! 3. **The page has an entry.** If it already permits the access, the
//!    fault was *spurious* (a stale TLB entry: it is invalidated, and the
//!    access retried). Otherwise this is a write to a read-only entry of a
//!    writable area: either the frame is still shared (after `fork`,
//!    or the page cache's frame under a private mapping), and the write
//!    **copies** it into a new private frame (copy-on-write); or nobody else
//!    holds it and the entry is simply made writable. For a shared file
//!    page the first write marks the page dirty (for `msync`).
//! 4. **The page has no entry** (the MMU reported a translation fault):
//!    ask the area's backing for the frame of this page
//!    ([`Backing::page`](super::backing::Backing::page): a zeroed frame, or
//!    the shared zero page for a load from anonymous memory, a page-cache
//!    frame, a device page), copy it first if this is a write to a private
//!    mapping of a shared frame, and install **one** entry. A page past the
//!    end of a file: SIGBUS.
//! 5. Optionally (`faultaround=N`), map neighbouring pages the backing
//!    already holds, read-only, so later reads do not fault.
//!
//! Nothing here depends on what kind of object backs the area.
//!
//! A fault that keeps coming back is a kernel bug, never a loop: the
//! caller keeps a [`SpuriousWatch`](super::spurious::SpuriousWatch) per process, and a fault resolved as
//! spurious several times in a row at the same page (no progress in
//! between) is reported loudly and fails the access (SIGSEGV for the
//! program, EFAULT for a system call's copy) instead of being retried for
//! ever.

use super::addr::PAGE_SIZE;
use super::address_space::{clean_attrs, pte_attrs, AddressSpace, SOFT_TRACK_DIRTY};
use super::backing::{BackingError, PageFrame};
use super::phys::{alloc_frame, copy_frame, frame_refcount, put_frame, zero_frame, zero_page_addr};
use core::sync::atomic::{AtomicUsize, Ordering};

/// The kind of access that faulted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Exec,
}

/// Why a fault could not be resolved.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No area contains the address.
    Unmapped,
    /// The area's protection forbids the access.
    Protection,
    /// The page lies beyond the end of the backing object.
    BeyondEnd,
    /// No memory for the page.
    OutOfMemory,
    /// A misaligned access the memory type does not allow (device memory).
    Alignment,
    /// The fault kept coming back without progress (a kernel bug, reported
    /// when detected): the access fails instead of looping.
    NoProgress,
    /// A signal is pending that ends the process: no more pages for it (a
    /// user fault ends it there; a system call's copy fails, the call
    /// returns, and the signal acts on the way back to user mode).
    SignalPending,
}

impl Failure {
    /// The signal the process receives: SIGSEGV for an address it may not
    /// touch, SIGBUS for a page that cannot exist, SIGKILL when memory ran
    /// out (the process is the one Linux's OOM killer would have to pick
    /// here: nothing else can give the page back).
    pub fn signal(self) -> u32 {
        match self {
            Failure::Unmapped | Failure::Protection | Failure::NoProgress | Failure::SignalPending => 11, // SIGSEGV
            Failure::BeyondEnd | Failure::Alignment => 7,                                                 // SIGBUS
            Failure::OutOfMemory => 9,                                                                    // SIGKILL
        }
    }
    /// The signal's name, for the report and trace lines.
    pub fn signal_name(self) -> &'static str {
        match self.signal() {
            7 => "SIGBUS",
            9 => "SIGKILL",
            _ => "SIGSEGV",
        }
    }
    /// Words for the report line.
    pub fn describe(self) -> &'static str {
        match self {
            Failure::Unmapped => "unmapped address",
            Failure::Protection => "protected address",
            Failure::BeyondEnd => "page beyond the end of the object",
            Failure::OutOfMemory => "page, out of memory",
            Failure::Alignment => "misaligned address",
            Failure::NoProgress => "fault that does not go away (kernel bug)",
            Failure::SignalPending => "fault with a signal pending",
        }
    }
}

/// What a resolved fault did (for the trace and the counters).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// A zero-filled private page was installed.
    AnonZero,
    /// The shared zero page was mapped read-only (a load from untouched
    /// anonymous memory).
    ZeroPage,
    /// A frame of the backing object was mapped (page cache, shared memory).
    ObjectPage,
    /// A device page was mapped.
    DevicePfn,
    /// A shared frame was copied for a private write.
    CowCopy,
    /// The entry was made writable without a copy.
    MadeWritable,
    /// The entry was already fine (another path resolved it).
    Spurious,
}

impl Resolution {
    pub fn describe(self) -> &'static str {
        match self {
            Resolution::AnonZero => "anon zero page",
            Resolution::ZeroPage => "shared zero page",
            Resolution::ObjectPage => "file page",
            Resolution::DevicePfn => "device pfn",
            Resolution::CowCopy => "cow copy",
            Resolution::MadeWritable => "made writable",
            Resolution::Spurious => "spurious",
        }
    }
}

/// Pages mapped around a fault when the backing already has them (0 = off).
pub static FAULT_AROUND: AtomicUsize = AtomicUsize::new(0);

/// Resolves a fault at `addr` in `mm`. `no_entry` is true when the MMU
/// reported a translation fault (no valid entry for the page), so there is
/// no need to look the page up in the tables first.
pub fn handle(mm: &mut AddressSpace, addr: u64, access: Access, no_entry: bool) -> Result<Resolution, Failure> {
    let page = addr & !(PAGE_SIZE as u64 - 1);

    // 1. The area.
    let vma = mm.vmas.find(addr).cloned().ok_or(Failure::Unmapped)?;

    // 2. Its protection.
    let allowed = match access {
        Access::Read => vma.prot.readable(),
        Access::Write => vma.prot.write(),
        Access::Exec => vma.prot.exec(),
    };
    if !allowed {
        return Err(Failure::Protection);
    }

    // 3. An entry exists.
    if let Some((pa, attrs, _)) = if no_entry { None } else { mm.translate(page) } {
        let permitted = match access {
            Access::Read => attrs.read,
            Access::Write => attrs.write,
            Access::Exec => attrs.exec,
        };
        if permitted {
            // Nothing to change: drop a stale TLB entry and retry.
            mm.invalidate_page(page);
            return Ok(Resolution::Spurious);
        }
        if access != Access::Write {
            // The area allows this read or fetch but its entry does not: the
            // entry was encoded wrongly. Retrying could only fault again.
            log::error!(
                "kernel bug: entry for {page:#x} ({attrs:?}) denies a {access:?} its area ({:?}) allows",
                vma.prot
            );
            return Err(Failure::Protection);
        }
        // A write to a read-only entry of a writable area.
        if vma.shared {
            // First store to a clean shared page: writable and dirty from now on.
            vma.backing.mark_dirty(vma.pgoff_of(page));
            let mut a = pte_attrs(&vma, true);
            a.soft = attrs.soft & !SOFT_TRACK_DIRTY;
            mm.set_page_attrs(page, a).map_err(|_| Failure::OutOfMemory)?;
            return Ok(Resolution::MadeWritable);
        }
        if frame_refcount(pa) == 1 {
            mm.set_page_attrs(page, pte_attrs(&vma, true)).map_err(|_| Failure::OutOfMemory)?;
            return Ok(Resolution::MadeWritable);
        }
        let new = copy_of(pa).ok_or(Failure::OutOfMemory)?;
        mm.replace_page(page, new, pte_attrs(&vma, true)).map_err(|_| Failure::OutOfMemory)?;
        return Ok(Resolution::CowCopy);
    }

    // 4. No entry: the backing provides the frame.
    let write = access == Access::Write;
    let frame = vma.backing.page(vma.pgoff_of(page), write).map_err(|e| match e {
        BackingError::BeyondEnd => Failure::BeyondEnd,
        BackingError::OutOfMemory => Failure::OutOfMemory,
    })?;
    let (pa, writable, what) = match frame {
        PageFrame::Private(pa) => (pa, true, Resolution::AnonZero),
        PageFrame::Shared(pa) if Some(pa) == zero_page_addr() => (pa, false, Resolution::ZeroPage),
        // A private mapping's first write to an object's page copies it.
        PageFrame::Shared(src) | PageFrame::Device(src) if write && !vma.shared => {
            let new = copy_of(src);
            put_frame(src);
            (new.ok_or(Failure::OutOfMemory)?, true, Resolution::CowCopy)
        }
        // Shared: writable at once unless the backing wants to see the first
        // store (dirty tracking); private: read-only until a write copies.
        PageFrame::Shared(pa) => (pa, vma.shared && (write || !vma.backing.tracks_dirty()), Resolution::ObjectPage),
        PageFrame::Device(pa) => (pa, vma.shared, Resolution::DevicePfn),
    };
    let mut attrs = pte_attrs(&vma, writable);
    if vma.shared && vma.backing.tracks_dirty() && !write {
        // Clean shared file page: read-only until the first store marks it dirty.
        attrs = clean_attrs(&vma);
    }
    if let Err(_e) = mm.map_leaf(page, pa, PAGE_SIZE, attrs) {
        put_frame(pa);
        return Err(Failure::OutOfMemory);
    }
    if vma.shared && write {
        vma.backing.mark_dirty(vma.pgoff_of(page));
    }

    // 5. Fault-around: neighbours the backing already holds, read-only
    // (anonymous memory holds nothing worth mapping ahead).
    let around = FAULT_AROUND.load(Ordering::Relaxed);
    if around > 0 && !write && !vma.backing.is_anonymous() {
        fault_around(mm, &vma, page, around);
    }
    Ok(what)
}

/// A private copy of frame `src` (a fresh zeroed frame when `src` is the
/// zero page: nothing to copy).
fn copy_of(src: super::addr::PhysAddr) -> Option<super::addr::PhysAddr> {
    let new = alloc_frame()?;
    if Some(src) == zero_page_addr() {
        zero_frame(new);
    } else {
        copy_frame(new, src);
    }
    Some(new)
}

fn fault_around(mm: &mut AddressSpace, vma: &super::vma::Vma, page: u64, n: usize) {
    let span = (n as u64) * PAGE_SIZE as u64;
    let start = page.saturating_sub(span / 2).max(vma.start);
    let end = (start + span).min(vma.end);
    for va in (start..end).step_by(PAGE_SIZE) {
        if va == page || mm.translate(va).is_some() {
            continue;
        }
        if let Some(f) = vma.backing.present_page(vma.pgoff_of(va)) {
            if mm.map_leaf(va, f.addr(), PAGE_SIZE, clean_attrs(vma)).is_err() {
                put_frame(f.addr());
            }
        }
    }
}
