//! A process's address space: its areas (VMAs), its page tables and its ASID.
//!
//! The VMA list says what *should* be mapped; the page tables hold what the
//! MMU has been told so far. The two meet in three places:
//!
//! - `mmap` (`mmap.rs`) adds an area and, for a backing that asks for it,
//!   builds every entry at once (one-pass remap);
//! - the fault handler (`fault.rs`) fills one entry when the process touches
//!   a page that has none, or copies a shared frame on the first write;
//! - `munmap`, `mprotect`, `fork` and exit change or drop entries for a range
//!   and release the frames they referenced.
//!
//! Invariant: every valid user entry lies inside an area, and holds one
//! reference on its frame (none for device memory, which the frame
//! allocator does not own). A private area's entry is writable only if its
//! frame has no other reference (so the next write never needs a copy).

use super::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use super::asid::{AsidAllocator, AsidTag, Refresh};
use super::backing::{CacheMode, PageFrame};
use super::paging::stage1::{MemType, PageAttrs, Stage1};
use super::paging::{MapError, PageTable, PagingContext};
use super::phys::{copy_frame, frame_refcount, get_frame, put_frame, HwContext};
use super::vma::{Vma, VmaList};
use crate::arch::aarch64::mmu;
use crate::errno::Errno;
use spin::Mutex;

/// Top of the user stack (the stack grows down from here).
pub const STACK_TOP: u64 = 0x0000_ffff_ffff_0000;
/// Size of the stack area.
pub const STACK_SIZE: u64 = 8 << 20;
/// Gap between the stack area and the highest mmap placement.
pub const STACK_GAP: u64 = 128 << 20;
/// Highest address `mmap` places areas below (top-down).
pub const MMAP_TOP: u64 = STACK_TOP - STACK_SIZE - STACK_GAP;
/// Lowest address `mmap` places areas at, and the lowest MAP_FIXED allows.
pub const MMAP_MIN: u64 = 0x1_0000;

/// The software bit armmap sets in user entries that are write-protected
/// only to catch the first store (dirty tracking of shared file pages).
pub const SOFT_TRACK_DIRTY: u8 = 0b001;

static ASIDS: Mutex<Option<AsidAllocator>> = Mutex::new(None);

/// The id the next address space gets.
static NEXT_ID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// A user address space.
pub struct AddressSpace {
    /// Names this address space for as long as the kernel runs (never
    /// reused): what private futexes are keyed by.
    id: u64,
    table: PageTable<Stage1>,
    asid: AsidTag,
    pub vmas: VmaList,
    /// Start and current end of the `brk` heap.
    pub brk_start: u64,
    pub brk: u64,
    /// Catches a fault that repeats without progress (see `mm/fault.rs`);
    /// kept with the space the faults are resolved in, under its lock.
    pub fault_watch: super::spurious::SpuriousWatch<(u64, super::fault::Access)>,
}

/// Where a futex word lives ([`AddressSpace::futex_place`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FutexPlace {
    /// No area holds it.
    Unmapped,
    /// A private area: keyed by address space and address.
    Private,
    /// A shared area, the page present: the word's physical address.
    Shared(u64),
    /// A shared area whose page is not mapped yet (fault it in, ask again).
    NotPresent,
}

/// The attributes a page of `vma` gets, writable only if `writable`.
///
/// Readability comes from the area alone
/// ([`Prot::readable`](super::vma::Prot::readable)), never from
/// whether this entry is writable yet: a PROT_WRITE area's page that waits
/// for copy-on-write (the zero page, a frame shared after fork) must still
/// be readable, or every load from it would fault again and again.
pub fn pte_attrs(vma: &Vma, writable: bool) -> PageAttrs {
    let p = vma.prot;
    let mem = match vma.backing.cache_mode() {
        CacheMode::Cached => MemType::Normal,
        CacheMode::WriteCombine => MemType::NormalNc,
        CacheMode::Device => MemType::Device,
    };
    PageAttrs::user(p.readable(), p.write() && writable, p.exec()).with_mem(mem)
}

/// The attributes of a page of `vma` mapped read-only until written: for a
/// shared mapping whose backing tracks dirty pages, marked so that the
/// first store is recognised as "clean page written" rather than a
/// protection fault (see `fault.rs`, `msync.rs`).
pub fn clean_attrs(vma: &Vma) -> PageAttrs {
    let mut a = pte_attrs(vma, false);
    if vma.shared && vma.backing.tracks_dirty() {
        a.soft |= SOFT_TRACK_DIRTY;
    }
    a
}

impl AddressSpace {
    /// An empty address space (one root table).
    pub fn new() -> Result<Self, Errno> {
        let table = PageTable::new(&mut HwContext::user(0)).map_err(|_| Errno::ENOMEM)?;
        let id = NEXT_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Ok(Self {
            id,
            table,
            asid: AsidTag::default(),
            vmas: VmaList::new(),
            brk_start: 0,
            brk: 0,
            fault_watch: Default::default(),
        })
    }

    /// This address space's id (unique since boot).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Where the word at `va` lives, for a futex key (see `task/futex.rs`).
    pub fn futex_place(&self, va: u64) -> FutexPlace {
        match self.vmas.find(va) {
            None => FutexPlace::Unmapped,
            Some(v) if !v.shared => FutexPlace::Private,
            Some(_) => match self.translate(va) {
                Some((pa, _, _)) => FutexPlace::Shared(pa.as_u64()),
                None => FutexPlace::NotPresent,
            },
        }
    }

    /// The paging context for this address space's TLB entries.
    pub fn ctx(&self) -> HwContext {
        HwContext::user(self.asid.asid)
    }

    /// Makes this the address space TTBR0 translates (on context switch).
    pub fn activate(&mut self) {
        let mut g = ASIDS.lock();
        let alloc = g.get_or_insert_with(|| AsidAllocator::new(crate::arch::aarch64::cpu::asid_bits()));
        if alloc.refresh(&mut self.asid) == Refresh::FlushAll {
            mmu::dsb_ishst();
            mmu::tlbi_all();
            mmu::dsb_ish_isb();
        }
        mmu::set_user_table(self.table.root().as_u64(), self.asid.asid);
    }

    /// The entry for `va`: (frame, attributes, leaf size).
    pub fn translate(&self, va: u64) -> Option<(PhysAddr, PageAttrs, usize)> {
        self.table.translate(VirtAddr(va), &self.ctx())
    }

    /// Installs one page (or block) for `va`.
    pub fn map_leaf(&mut self, va: u64, pa: PhysAddr, len: usize, attrs: PageAttrs) -> Result<(), Errno> {
        let mut ctx = self.ctx();
        let r = if len == PAGE_SIZE {
            self.table.map_page(VirtAddr(va), pa, attrs, &mut ctx)
        } else {
            self.table.map(VirtAddr(va), pa, len, attrs, &mut ctx).map(|_| ())
        };
        r.map_err(|e| match e {
            MapError::NoMemory => Errno::ENOMEM,
            _ => Errno::EINVAL,
        })
    }

    /// Maps `len` bytes of a physically contiguous object at once, using
    /// 2 MiB blocks where the alignment allows; returns the number of leaf
    /// descriptors written and how many of them were 2 MiB blocks.
    pub fn map_contiguous(
        &mut self,
        va: u64,
        pa: PhysAddr,
        len: usize,
        attrs: PageAttrs,
    ) -> Result<(usize, usize), Errno> {
        let mut ctx = self.ctx();
        let stats = self.table.map(VirtAddr(va), pa, len, attrs, &mut ctx).map_err(|e| match e {
            MapError::NoMemory => Errno::ENOMEM,
            _ => Errno::EINVAL,
        })?;
        Ok((stats.descriptors(), stats.blocks_2m()))
    }

    /// Removes the entries of `[start, end)` and drops their frame references.
    pub fn unmap_pages(&mut self, start: u64, end: u64) {
        let mut ctx = self.ctx();
        let len = (end - start) as usize;
        if self.table.unmap(VirtAddr(start), len, &mut ctx, |_, pa, _| drop_ref(pa)).is_err() {
            self.drop_cut_blocks(start, end);
            let r = self.table.unmap(VirtAddr(start), len, &mut ctx, |_, pa, _| drop_ref(pa));
            debug_assert!(r.is_ok(), "unmap still needs a split after dropping the cut blocks");
        }
    }

    /// Drops, whole, the blocks that `start` or `end` falls inside.
    ///
    /// Changing part of a 2 MiB block means splitting it, and a split needs
    /// a frame for the new table. When there is none, the block goes
    /// instead: a block only ever maps its backing's own frames (one-pass
    /// remap; a private copy splits the block first), and every page of it
    /// is still described by its area, so the fault handler maps the pages
    /// that remain again, one at a time. The tables are a cache of the areas.
    fn drop_cut_blocks(&mut self, start: u64, end: u64) {
        let mut ctx = self.ctx();
        for edge in [start, end] {
            let Some((_, _, size)) = self.translate(edge) else { continue };
            let base = edge & !(size as u64 - 1);
            if size > PAGE_SIZE && base != edge {
                // A whole, aligned block: removing it splits nothing.
                let _ = self.table.unmap(VirtAddr(base), size, &mut ctx, |_, pa, _| drop_ref(pa));
            }
        }
    }

    /// Drops any TLB entry for `va` (after a spurious fault: the tables
    /// already allow the access, so only a stale entry can have denied it).
    pub fn invalidate_page(&mut self, va: u64) {
        let mut ctx = self.ctx();
        ctx.before_invalidate();
        ctx.invalidate_va(VirtAddr(va));
        ctx.sync();
    }

    /// Changes the attributes of the page at `va`, keeping its frame (a
    /// permission change: written in place, then the TLB entry invalidated).
    pub fn set_page_attrs(&mut self, va: u64, attrs: PageAttrs) -> Result<(), Errno> {
        let mut ctx = self.ctx();
        self.table.protect(VirtAddr(va), PAGE_SIZE, attrs, &mut ctx).map_err(|_| Errno::ENOMEM)
    }

    /// Replaces the page at `va` with a different frame `pa` (break-before-
    /// make on the entry), dropping the old frame's reference; maps it if
    /// there was no page (or a block was there). Takes over the caller's
    /// reference on `pa`: on failure (no table frame) it is dropped.
    pub fn replace_page(&mut self, va: u64, pa: PhysAddr, attrs: PageAttrs) -> Result<(), Errno> {
        let mut ctx = self.ctx();
        match self.table.replace_page(VirtAddr(va), pa, attrs, &mut ctx) {
            Some(old) => {
                put_frame(old);
                Ok(())
            }
            None => {
                self.unmap_pages(va, va + PAGE_SIZE as u64);
                self.map_leaf(va, pa, PAGE_SIZE, attrs).inspect_err(|_| drop_ref(pa))
            }
        }
    }

    /// Removes `[start, end)` from the address space (munmap). ENOMEM, with
    /// nothing changed, if an area would have to be cut in two and there is
    /// no room for another.
    pub fn unmap_range(&mut self, start: u64, end: u64) -> Result<(), Errno> {
        let mut vmas = core::mem::take(&mut self.vmas);
        let r = vmas.remove_range(start, end, |v| self.unmap_pages(v.start, v.end));
        self.vmas = vmas;
        Ok(r?)
    }

    /// Recomputes the entries of `[start, end)` after a protection change.
    /// Private pages whose frame is still shared stay read-only (the next
    /// write copies); tracked shared file pages stay read-only until written.
    pub fn reprotect(&mut self, start: u64, end: u64) {
        let mut ctx = self.ctx();
        let len = (end - start) as usize;
        let vmas = &self.vmas;
        let new_attrs = |va: VirtAddr, pa, _, old| reprotected(vmas, va, pa, old);
        if self.table.protect_with(VirtAddr(start), len, &mut ctx, new_attrs).is_err() {
            self.drop_cut_blocks(start, end);
            let vmas = &self.vmas;
            let new_attrs = |va: VirtAddr, pa, _, old| reprotected(vmas, va, pa, old);
            let r = self.table.protect_with(VirtAddr(start), len, &mut ctx, new_attrs);
            debug_assert!(r.is_ok(), "protect still needs a split after dropping the cut blocks");
        }
    }

    /// A copy for `fork`: shared areas share frames; private pages are
    /// shared read-only by both, to be copied on the first write.
    ///
    /// One walk over each area's entries does both halves: the parent's
    /// private entries lose write permission (in place, TLB invalidated in
    /// batches) and each entry is installed in the child with a reference
    /// taken on its frame.
    pub fn fork(&mut self) -> Result<AddressSpace, Errno> {
        let mut child = AddressSpace::new()?;
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        let mut ctx = self.ctx();
        let mut cctx = child.ctx();
        let mut failed = false;
        for vma in self.vmas.iter() {
            // The area first, so that dropping the child after a failure
            // releases whatever was already mapped in it.
            child.vmas.insert(vma.clone())?;
            let child_table = &mut child.table;
            let walked = self.table.protect_with(
                VirtAddr(vma.start),
                (vma.end - vma.start) as usize,
                &mut ctx,
                |va, pa, size, attrs| {
                    let attrs = if vma.shared { attrs } else { PageAttrs { write: false, ..attrs } };
                    if !failed {
                        get_frame(pa);
                        let r = if size == PAGE_SIZE {
                            child_table.map_page(va, pa, attrs, &mut cctx)
                        } else {
                            child_table.map(va, pa, size, attrs, &mut cctx).map(|_| ())
                        };
                        if r.is_err() {
                            put_frame(pa);
                            failed = true;
                        }
                    }
                    attrs
                },
            );
            // A block the area cuts could not be split: the entries past it
            // were neither protected nor copied, so the child cannot be had.
            if failed || walked.is_err() {
                return Err(Errno::ENOMEM);
            }
        }
        Ok(child)
    }

    /// Makes sure `va`'s page is present and privately writable by the
    /// kernel (for loading a program), and returns its frame.
    pub fn page_for_kernel_write(&mut self, va: u64) -> Result<PhysAddr, Errno> {
        let page = va & !(PAGE_SIZE as u64 - 1);
        let vma = self.vmas.find(page).cloned().ok_or(Errno::EFAULT)?;
        if let Some((pa, _, size)) = self.translate(page) {
            if size == PAGE_SIZE && (frame_refcount(pa) == 1 || vma.shared) {
                return Ok(pa);
            }
            // Shared with someone: give this space its own copy.
            let new = super::phys::alloc_frame().ok_or(Errno::ENOMEM)?;
            copy_frame(new, pa);
            self.replace_page(page, new, pte_attrs(&vma, true))?;
            return Ok(new);
        }
        let frame = vma.backing.page(vma.pgoff_of(page), true).map_err(|_| Errno::ENOMEM)?;
        let pa = match frame {
            PageFrame::Private(pa) => pa,
            PageFrame::Shared(pa) | PageFrame::Device(pa) if vma.shared => pa,
            PageFrame::Shared(pa) | PageFrame::Device(pa) => {
                let new = super::phys::alloc_frame();
                if let Some(new) = new {
                    copy_frame(new, pa);
                }
                put_frame(pa);
                new.ok_or(Errno::ENOMEM)?
            }
        };
        self.map_leaf(page, pa, PAGE_SIZE, pte_attrs(&vma, true)).inspect_err(|_| drop_ref(pa))?;
        Ok(pa)
    }

    /// Stores `v` at `va` as a store by the process itself would: EFAULT
    /// unless areas that allow writing hold all four bytes. For values the
    /// kernel leaves in a process's memory for it (clone's `child_tid`).
    pub fn store_u32(&mut self, va: u64, v: u32) -> Result<(), Errno> {
        let last = va.checked_add(3).ok_or(Errno::EFAULT)?;
        let writable = |a: u64| self.vmas.find(a).is_some_and(|v| v.prot.write());
        if !writable(va) || !writable(last) {
            return Err(Errno::EFAULT);
        }
        self.write_bytes(va, &v.to_le_bytes())
    }

    /// Copies `data` into the address space at `va`, whatever the areas'
    /// protection (program loading, the initial stack).
    pub fn write_bytes(&mut self, va: u64, data: &[u8]) -> Result<(), Errno> {
        let mut done = 0;
        while done < data.len() {
            let addr = va + done as u64;
            let off = (addr as usize) & (PAGE_SIZE - 1);
            let n = (PAGE_SIZE - off).min(data.len() - done);
            let pa = self.page_for_kernel_write(addr)?;
            let dst = (super::phys_to_virt(pa).as_u64() as *mut u8).wrapping_add(off);
            // SAFETY: pa is a frame this address space owns (or shares on
            // purpose), reachable through the linear map; n stays in the page.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), dst, n) };
            done += n;
        }
        Ok(())
    }

    /// Removes the entries that map pages of the object with inode `ino` at
    /// page offset `first_pgoff` or beyond (the file was truncated): the
    /// next touch faults and gets SIGBUS, as on Linux.
    pub fn unmap_object_from(&mut self, ino: u64, first_pgoff: u64) {
        let ranges: alloc::vec::Vec<(u64, u64)> = self
            .vmas
            .iter()
            .filter(|v| v.backing.ino() == ino && !v.backing.is_anonymous())
            .filter_map(|v| {
                let end_pgoff = v.pgoff + v.pages();
                (end_pgoff > first_pgoff)
                    .then(|| (v.start + first_pgoff.saturating_sub(v.pgoff) * PAGE_SIZE as u64, v.end))
            })
            .collect();
        for (s, e) in ranges {
            self.unmap_pages(s, e);
        }
    }

    /// The frames only this address space holds: what ending its process
    /// would give back (the out-of-memory killer's measure).
    pub fn private_frames(&self) -> usize {
        let ctx = self.ctx();
        let mut n = 0;
        for v in self.vmas.iter() {
            let len = (v.end - v.start) as usize;
            self.table.for_each_leaf(VirtAddr(v.start), len, &ctx, |_, pa, size, _| {
                if size == PAGE_SIZE && frame_refcount(pa) == 1 {
                    n += 1;
                }
            });
        }
        n
    }

    /// Makes every writable page entry of `[start, end)` take the attributes
    /// `clean(va)` returns (msync's write-back); returns how many. Only the
    /// entries present are visited.
    pub fn clean_pages(&mut self, start: u64, end: u64, mut clean: impl FnMut(u64) -> PageAttrs) -> u64 {
        let mut ctx = self.ctx();
        let mut n = 0;
        let r = self.table.protect_with(VirtAddr(start), (end - start) as usize, &mut ctx, |va, _, size, old| {
            if size == PAGE_SIZE && old.write {
                n += 1;
                clean(va.as_u64())
            } else {
                old
            }
        });
        // Page-cache pages are never mapped as blocks: nothing to split.
        debug_assert!(r.is_ok());
        n
    }

    /// Calls `f(leaf size)` for every entry in `[start, end)`.
    pub fn for_each_leaf(&self, start: u64, end: u64, mut f: impl FnMut(usize)) {
        self.table.for_each_leaf(VirtAddr(start), (end - start) as usize, &self.ctx(), |_, _, size, _| f(size));
    }
}

impl AddressSpace {
    /// Removes every area and gives back every frame they held; only the
    /// root table is left (for an exited process, until it is reaped). TTBR0
    /// must not point at this space's tables any more.
    pub fn clear(&mut self) {
        let mut vmas = core::mem::take(&mut self.vmas);
        vmas.remove_all(|v| self.unmap_pages(v.start, v.end));
    }
}

/// The attributes of the entry for `va` (frame `pa`, attributes `old`)
/// after its area's protection changed. Private pages whose frame is still
/// shared stay read-only (the next write copies); tracked shared file pages
/// stay read-only until written.
fn reprotected(vmas: &VmaList, va: VirtAddr, pa: PhysAddr, old: PageAttrs) -> PageAttrs {
    let Some(vma) = vmas.find(va.as_u64()) else { return old };
    let writable = if vma.shared {
        old.soft & SOFT_TRACK_DIRTY == 0
    } else {
        // One reference means this mapping alone holds the frame (a
        // page-cache or still-shared frame always has more).
        frame_refcount(pa) == 1
    };
    PageAttrs { soft: old.soft, ..pte_attrs(vma, writable) }
}

/// Drops the reference an entry held on its frame.
fn drop_ref(pa: PhysAddr) {
    put_frame(pa);
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        self.clear();
        let mut ctx = self.ctx();
        // SAFETY: the placeholder is never used: `self` is being dropped and
        // PageTable has no destructor of its own.
        let table = core::mem::replace(&mut self.table, unsafe { PageTable::from_root(PhysAddr(0)) });
        table.destroy(&mut ctx);
    }
}
