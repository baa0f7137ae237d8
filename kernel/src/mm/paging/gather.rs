//! Batching TLB invalidations, and deferring frees until they are safe.
//!
//! When the walker removes or changes a valid descriptor, the TLBs of all
//! CPUs may still hold the old translation. Two rules follow:
//!
//! 1. the old translation must be invalidated: `DSB ISHST` (the store is
//!    visible to the table walkers), `TLBI` by VA, then `DSB ISH; ISB`;
//! 2. nothing the old translation reached may be reused until that
//!    sequence has completed. A data frame that was unmapped must not be
//!    handed to someone else while a stale TLB entry still lets the old
//!    owner write to it; a table frame that was detached must not be
//!    reused while a cached intermediate entry still points the walker at
//!    it.
//!
//! Doing the full sequence for every page would put two barriers on every
//! page of a large `munmap`. Instead the walker collects its work in a
//! [`Gather`] (after Linux's `mmu_gather`): each removed leaf, detached table
//! or changed leaf is recorded; when the batch is full or the operation ends,
//! the batch is *flushed*: one `DSB ISHST`, one `TLBI` per entry, one
//! `DSB ISH; ISB`, and only then are the removed leaves reported to the
//! caller and the detached tables freed.
//!
//! A batch that fills up means a large operation, one that is replacing a
//! good part of the address space's translations anyway; such a batch is
//! flushed with a single invalidation of the whole address space
//! (`invalidate_all`, e.g. `TLBI ASIDE1IS`) instead of [`CAPACITY`] TLBIs.
//! Operations with fewer entries only ever invalidate by VA.
//!
//! The gather also remembers whether a descriptor was made valid since the
//! last `sync`, so that [`Gather::finish`] can end every operation with the
//! barrier that makes new mappings visible to the walker before they are
//! used.

use super::PagingContext;
use crate::mm::addr::{PhysAddr, VirtAddr};
use core::mem::MaybeUninit;

/// Entries per batch. A full batch is flushed with one `invalidate_all`, a
/// partial one with a TLBI per entry.
pub(super) const CAPACITY: usize = 64;

/// Reports a removed leaf: its virtual address, physical address and size.
pub(super) type OnLeaf<'a> = &'a mut dyn FnMut(VirtAddr, PhysAddr, usize);

/// One piece of pending work.
#[derive(Copy, Clone, Debug)]
pub(super) enum Pending {
    /// A leaf was removed: invalidate `va`, then report the leaf.
    Removed { va: VirtAddr, pa: PhysAddr, size: usize },
    /// A table was detached from its parent: invalidate `va` (any address
    /// the table translated), then free the frame.
    Table { va: VirtAddr, pa: PhysAddr },
    /// A leaf's permissions changed in place: invalidate `va`.
    Changed { va: VirtAddr },
}

impl Pending {
    fn va(&self) -> VirtAddr {
        match *self {
            Pending::Removed { va, .. } | Pending::Table { va, .. } | Pending::Changed { va } => va,
        }
    }
}

/// The pending TLB work of one page-table operation.
///
/// Invariant: `items[..len]` were recorded after the descriptor store they
/// describe and have not been invalidated yet. Every operation must end
/// with [`finish`](Self::finish).
pub(super) struct Gather<'s> {
    /// Only `items[..len]` are initialised. The slots live in the caller's
    /// stack frame (see [`gather!`]) and are never cleared or moved, so a
    /// one-page operation does not pay for the whole batch.
    items: &'s mut [MaybeUninit<Pending>; CAPACITY],
    len: usize,
    /// A descriptor was stored since the last `sync`.
    unsynced_store: bool,
}

/// Slots for one [`Gather`]: uninitialised, so creating them costs nothing.
pub(super) type Slots = [MaybeUninit<Pending>; CAPACITY];

/// Declares `$g`, a [`Gather`] over slots in the current stack frame.
macro_rules! gather {
    ($g:ident) => {
        let mut slots: $crate::mm::paging::gather::Slots =
            [const { core::mem::MaybeUninit::uninit() }; $crate::mm::paging::gather::CAPACITY];
        let mut $g = $crate::mm::paging::gather::Gather::new(&mut slots);
    };
}
pub(super) use gather;

impl<'s> Gather<'s> {
    pub(super) fn new(items: &'s mut Slots) -> Self {
        Self { items, len: 0, unsynced_store: false }
    }

    /// Notes a descriptor store that needs no invalidation (an invalid
    /// entry became valid), only the final barrier.
    pub(super) fn stored(&mut self) {
        self.unsynced_store = true;
    }

    /// The recorded items.
    fn pending(&self) -> impl Iterator<Item = Pending> + '_ {
        // SAFETY: items[..len] are initialised (the type's invariant).
        self.items[..self.len].iter().map(|i| unsafe { i.assume_init() })
    }

    /// Records work to do after invalidation (flushing first if full).
    pub(super) fn push<C: PagingContext>(&mut self, item: Pending, ctx: &mut C, on_leaf: OnLeaf<'_>) {
        if self.len == CAPACITY {
            self.flush(ctx, on_leaf);
        }
        self.items[self.len] = MaybeUninit::new(item);
        self.len += 1;
        self.unsynced_store = true;
    }

    /// Invalidates everything recorded, waits for completion, then reports
    /// removed leaves and frees detached tables.
    pub(super) fn flush<C: PagingContext>(&mut self, ctx: &mut C, on_leaf: OnLeaf<'_>) {
        if self.len == 0 {
            return;
        }
        ctx.before_invalidate();
        if self.len == CAPACITY {
            ctx.invalidate_all();
        } else {
            for item in self.pending() {
                ctx.invalidate_va(item.va());
            }
        }
        ctx.sync();
        self.unsynced_store = false;
        for item in self.pending() {
            match item {
                Pending::Removed { va, pa, size } => on_leaf(va, pa, size),
                Pending::Table { pa, .. } => ctx.free_table_frame(pa),
                Pending::Changed { .. } => {}
            }
        }
        self.len = 0;
    }

    /// The "break" half of break-before-make for one live descriptor that
    /// the caller has just overwritten with an invalid one: waits until no
    /// TLB holds a translation for `va`. The caller then stores the new
    /// descriptor and calls [`stored`](Self::stored).
    pub(super) fn break_entry<C: PagingContext>(&mut self, ctx: &mut C, va: VirtAddr) {
        ctx.before_invalidate();
        ctx.invalidate_va(va);
        ctx.sync();
        self.unsynced_store = false;
    }

    /// Ends an operation: flushes, and issues the final barrier if a
    /// descriptor was stored since the last one.
    pub(super) fn finish<C: PagingContext>(&mut self, ctx: &mut C, on_leaf: OnLeaf<'_>) {
        self.flush(ctx, on_leaf);
        if self.unsynced_store {
            ctx.sync();
        }
    }
}
