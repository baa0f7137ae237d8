//! A simulated machine for host tests of the page-table code.
//!
//! [`SimContext`] implements the paging context traits over a heap buffer
//! that plays physical RAM at [`SIM_BASE`], with its own
//! [`FrameAllocator`] handing out table frames. It checks the walker's
//! discipline as it goes:
//!
//! - the walker may touch only table frames it currently owns
//!   (`phys_to_ptr` of a free frame panics), and freed frames are poisoned
//!   so a stale descriptor read from one decodes as garbage;
//! - TLB maintenance follows the protocol: `invalidate_*` only after
//!   `before_invalidate`, and table frames are freed only after the `sync`
//!   that completed the invalidations;
//! - with `record` set, every TLB operation is logged together with the
//!   value of one watched descriptor at that moment, so tests can check
//!   the order of a break-before-make sequence. Tests can add their own
//!   events to the same log (e.g. "`on_leaf` was called") through
//!   [`SimContext::log_handle`].
//!
//! `budget` limits how many more table frames may be allocated, to test
//! running out of memory.

use super::{PagingContext, PhysAccess, ENTRIES};
use crate::mm::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use crate::mm::frame::FrameAllocator;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

/// Physical address of the simulated RAM.
pub(crate) const SIM_BASE: PhysAddr = PhysAddr(0x4000_0000);

/// What freed table frames are filled with: decodes as a valid table
/// descriptor pointing far outside simulated RAM.
const POISON: u64 = u64::MAX;

/// A TLB maintenance operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum TlbOp {
    BeforeInvalidate,
    Invalidate(VirtAddr),
    InvalidateAll,
    Sync,
    /// Not a TLB operation: a test's `on_leaf` callback saw this leaf.
    LeafReported(VirtAddr),
}

/// A recorded TLB operation and the watched descriptor's value at the time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TlbEvent {
    pub op: TlbOp,
    pub watched: Option<u64>,
}

/// Where the TLB maintenance protocol stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Nothing in flight.
    Synced,
    /// `before_invalidate` issued, or invalidations issued but not waited for.
    Invalidating,
}

/// Simulated RAM, table-frame allocator and recording TLB.
pub(crate) struct SimContext {
    /// `words` u64s of simulated RAM, only ever accessed through raw pointers.
    mem: *mut u64,
    words: usize,
    pub frames: FrameAllocator<'static>,
    /// Table frames currently allocated.
    pub tables: usize,
    /// If set, how many more table frames may be allocated.
    pub budget: Option<usize>,
    pub record: bool,
    events: Rc<RefCell<Vec<TlbEvent>>>,
    /// Physical address of a descriptor to snapshot in every event.
    pub watch: Option<PhysAddr>,
    phase: Phase,
    pub invalidations: usize,
    pub syncs: usize,
}

impl SimContext {
    /// A machine with `nframes` frames of RAM, all free.
    pub(crate) fn new(nframes: usize) -> Self {
        let words = nframes * ENTRIES;
        let mem = Box::into_raw(vec![0u64; words].into_boxed_slice()).cast::<u64>();
        let meta = vec![0u8; FrameAllocator::metadata_bytes(nframes)].leak();
        let mut frames = FrameAllocator::new(SIM_BASE, SIM_BASE + nframes * PAGE_SIZE, meta);
        frames.add_free(frames.range());
        Self {
            mem,
            words,
            frames,
            tables: 0,
            budget: None,
            record: false,
            events: Rc::default(),
            watch: None,
            phase: Phase::Synced,
            invalidations: 0,
            syncs: 0,
        }
    }

    /// Reads the descriptor at physical address `pa` (8-byte aligned).
    pub(crate) fn read(&self, pa: PhysAddr) -> u64 {
        let table = self.phys_to_ptr(pa.align_down(PAGE_SIZE));
        // SAFETY: phys_to_ptr checked that the frame is in simulated RAM, so
        // the 512 words from `table` are in the buffer; the index is < 512.
        unsafe { table.add(pa.page_offset() / 8).read_volatile() }
    }

    /// The events recorded so far.
    pub(crate) fn events(&self) -> Vec<TlbEvent> {
        self.events.borrow().clone()
    }

    /// The operations recorded so far.
    pub(crate) fn ops(&self) -> Vec<TlbOp> {
        self.events.borrow().iter().map(|e| e.op).collect()
    }

    pub(crate) fn clear_events(&mut self) {
        self.events.borrow_mut().clear();
    }

    /// The event log, for a test to add its own events while the context is
    /// borrowed by the walker.
    pub(crate) fn log_handle(&self) -> Rc<RefCell<Vec<TlbEvent>>> {
        self.events.clone()
    }

    fn log(&mut self, op: TlbOp) {
        if self.record {
            let watched = self.watch.map(|pa| self.read(pa));
            self.events.borrow_mut().push(TlbEvent { op, watched });
        }
    }

    fn fill(&mut self, pa: PhysAddr, value: u64) {
        let p = self.phys_to_ptr(pa);
        for i in 0..ENTRIES {
            // SAFETY: p addresses a whole frame of simulated RAM (checked by
            // phys_to_ptr), i < 512.
            unsafe { p.add(i).write_volatile(value) };
        }
    }
}

impl Drop for SimContext {
    fn drop(&mut self) {
        // SAFETY: `mem` came from Box::into_raw of a boxed slice of `words`
        // u64s and is freed only here.
        drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(self.mem, self.words)) });
    }
}

// SAFETY: phys_to_ptr returns a pointer into the simulated RAM buffer only
// for a page-aligned frame inside it (it panics otherwise), so the pointer
// is 8-byte aligned and valid for 4096 bytes; the buffer is accessed only
// through raw pointers, never through references.
unsafe impl PhysAccess for SimContext {
    fn phys_to_ptr(&self, pa: PhysAddr) -> *mut u64 {
        assert!(
            pa.is_aligned(PAGE_SIZE) && self.frames.contains(pa),
            "walker touched {pa:?}, which is not simulated RAM"
        );
        assert!(self.frames.refcount(pa) > 0, "walker touched free frame {pa:?} (use after free)");
        self.mem.wrapping_add((pa - SIM_BASE) / 8)
    }
}

impl PagingContext for SimContext {
    fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
        if let Some(budget) = &mut self.budget {
            *budget = budget.checked_sub(1)?;
        }
        let pa = self.frames.alloc()?;
        self.fill(pa, 0);
        self.tables += 1;
        Some(pa)
    }

    fn free_table_frame(&mut self, pa: PhysAddr) {
        assert_eq!(self.phase, Phase::Synced, "table frame {pa:?} freed before the TLB invalidation completed");
        self.fill(pa, POISON);
        assert!(self.frames.put(pa), "table frame {pa:?} had other references");
        self.tables -= 1;
    }

    fn before_invalidate(&mut self) {
        self.phase = Phase::Invalidating;
        self.log(TlbOp::BeforeInvalidate);
    }

    fn invalidate_va(&mut self, va: VirtAddr) {
        assert_eq!(self.phase, Phase::Invalidating, "TLBI without DSB ISHST before it");
        self.invalidations += 1;
        self.log(TlbOp::Invalidate(va));
    }

    fn invalidate_all(&mut self) {
        assert_eq!(self.phase, Phase::Invalidating, "TLBI without DSB ISHST before it");
        self.invalidations += 1;
        self.log(TlbOp::InvalidateAll);
    }

    fn sync(&mut self) {
        self.phase = Phase::Synced;
        self.syncs += 1;
        self.log(TlbOp::Sync);
    }
}
