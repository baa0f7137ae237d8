//! What the page-table walker needs from the machine, as two traits the
//! caller implements.
//!
//! The walker itself is plain Rust that compiles and runs anywhere. Only
//! three things tie it to real hardware, and the caller supplies them:
//!
//! 1. **Reaching a table.** Tables are named by physical address, but code
//!    runs with the MMU on. [`PhysAccess::phys_to_ptr`] turns a table's
//!    physical address into a pointer: on the target through the kernel's
//!    linear map (`LINEAR_MAP_BASE + pa`), in host tests into a buffer that
//!    simulates physical memory.
//! 2. **Table frames.** New tables come from
//!    [`PagingContext::alloc_table_frame`] (zeroed, so every entry starts
//!    invalid) and go back through [`PagingContext::free_table_frame`].
//! 3. **TLB maintenance.** The TLB caches translations, including
//!    intermediate table entries. After the walker changes or removes a
//!    valid descriptor it must remove stale copies, in this order (Arm ARM,
//!    "TLB maintenance requirements"):
//!
//!    ```text
//!    store descriptor(s)        the table update
//!    before_invalidate()        DSB ISHST: the stores reach the table walkers
//!    invalidate_va(va) ...      TLBI VAE1IS / VAAE1IS, one per changed VA
//!    sync()                     DSB ISH: the TLBIs finished on every CPU;
//!                               ISB: this CPU refetches with the new state
//!    ```
//!
//!    The walker issues one `before_invalidate`, a run of `invalidate_va`
//!    and one `sync` per batch of changes (see `gather.rs`), never a barrier
//!    pair per page; a batch of 64 changes is invalidated with one
//!    `invalidate_all` instead.

use crate::mm::addr::{PhysAddr, VirtAddr};

/// Access to the memory that holds page tables.
///
/// # Safety
///
/// For every *table frame* (the root a [`PageTable`](super::PageTable) was
/// made with, and every frame [`PagingContext::alloc_table_frame`] returned
/// and the walker has not yet freed), `phys_to_ptr(pa)` must return a pointer
/// that is 8-byte aligned and valid for volatile reads and writes of 4096
/// bytes, and no Rust reference to that memory may exist while the walker
/// runs. Every context used with one `PageTable` must agree on this mapping.
pub unsafe trait PhysAccess {
    /// Pointer to the 512 descriptors in the table frame at `pa`.
    fn phys_to_ptr(&self, pa: PhysAddr) -> *mut u64;
}

/// Table frames and TLB maintenance for one address space.
///
/// On the target, for an address space whose TLB entries carry `asid`
/// (user) or are global (kernel):
///
/// | method              | instruction(s)                                          |
/// |---------------------|---------------------------------------------------------|
/// | `before_invalidate` | `DSB ISHST`                                             |
/// | `invalidate_va`     | user: `TLBI VAE1IS, (asid, va)`; kernel: `TLBI VAAE1IS, va` (all levels, *not* the last-level-only `VALE1`) |
/// | `invalidate_all`    | user: `TLBI ASIDE1IS, asid`; kernel: `TLBI VMALLE1IS`   |
/// | `sync`              | `DSB ISH` then `ISB`                                    |
///
/// `invalidate_va` and `invalidate_all` must not add barriers of their own:
/// the walker brackets a whole batch with `before_invalidate` and `sync`.
pub trait PagingContext: PhysAccess {
    /// A zeroed frame for a new table, or `None` when memory is exhausted.
    fn alloc_table_frame(&mut self) -> Option<PhysAddr>;

    /// Takes back a table frame the walker no longer uses. The walker calls
    /// it only after the TLB invalidation that makes the frame unreachable
    /// has completed, so the frame may be reused at once.
    fn free_table_frame(&mut self, pa: PhysAddr);

    /// Makes earlier descriptor stores visible to the table walkers of all
    /// CPUs; called before a run of invalidations (`DSB ISHST`).
    fn before_invalidate(&mut self);

    /// Invalidates every cached translation for `va`, at all levels (the
    /// leaf and the table entries above it). No barrier.
    fn invalidate_va(&mut self, va: VirtAddr);

    /// Invalidates every cached translation of this address space (its ASID,
    /// or all entries for the kernel's tables). No barrier.
    fn invalidate_all(&mut self);

    /// Waits until earlier invalidations have completed on every CPU and
    /// resynchronises this CPU's instruction stream (`DSB ISH; ISB`). Also
    /// used after creating new mappings so they are visible before use.
    fn sync(&mut self);
}
