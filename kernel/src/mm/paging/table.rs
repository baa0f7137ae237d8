//! The page-table walker: map, unmap, protect, translate, visit and free a
//! tree of translation tables, whatever the descriptor format.
//!
//! Every operation is a recursive walk from the root over a virtual range.
//! At each level the range is cut at the boundaries of the entries it
//! touches; for each entry the walker either acts on it (write a leaf,
//! remove a leaf, change a leaf's attributes) or descends into the table it
//! points to. So the recursion is never deeper than four levels.
//!
//! **Blocks.** `map` writes a block instead of a table whenever the piece
//! of the range an entry covers is the whole entry (virtual start aligned,
//! long enough), the physical address is aligned to the block size too, and
//! the format allows leaves at that level. When `unmap` or `protect` meet a
//! block that the range covers only partly, they first *split* it: a new
//! next-level table of smaller leaves, same memory, same attributes, takes
//! the block's place. Then the walk goes on inside the new table.
//!
//! **Break-before-make.** A live descriptor may not simply be overwritten by
//! one with a different output address or block size: for a moment two TLB
//! entries could overlap (Arm ARM, "break-before-make"). Splitting (and
//! changing a leaf's memory type) therefore goes: store invalid, TLB
//! invalidate and wait, store the new descriptor. Permission changes are
//! written in place and followed by an invalidation. Creating mappings needs
//! no invalidation (invalid descriptors are never cached), only a barrier so
//! the table walker sees them.
//!
//! **Freeing.** `unmap` frees intermediate tables that become empty, so a
//! tree holds tables only where something is mapped; the detached table is
//! freed only after the TLB invalidation (see `gather.rs`).
//!
//! **Errors.** `map` maps all of its range or nothing: when it meets an
//! existing mapping or runs out of table frames it removes what it had
//! mapped and frees the tables it had created. `unmap` and `protect` need
//! frames only to split blocks at the ends of their range; if none is left
//! they stop with the part before done.
//!
//! Addresses: a tree translates 48 bits. The walker works on offsets in
//! `[0, 2^48]` and puts the address's upper 16 bits (all ones for the
//! kernel's TTBR1 half) back when it reports a virtual address.

use super::context::{PagingContext, PhysAccess};
use super::gather::{gather, Gather, OnLeaf, Pending};
use super::{level_shift, level_size, Descriptor, DescriptorFormat, ENTRIES, INVALID, LAST_LEVEL, LEVELS, VA_SPACE};
use crate::mm::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use core::marker::PhantomData;

/// Why a page-table operation failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapError {
    /// `map` found this address already mapped (unmap it first).
    AlreadyMapped(VirtAddr),
    /// No frame for a new table.
    NoMemory,
    /// Address or length not page aligned, or the range leaves the 48-bit
    /// space (or the physical range wraps).
    InvalidRange,
}

/// What `map` wrote: the number of leaves per level.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MapStats {
    /// `leaves[l]` descriptors were written at level `l`.
    pub leaves: [usize; LEVELS],
}

impl MapStats {
    /// 4 KiB pages written.
    pub fn pages(&self) -> usize {
        self.leaves[3]
    }
    /// 2 MiB blocks written.
    pub fn blocks_2m(&self) -> usize {
        self.leaves[2]
    }
    /// 1 GiB blocks written.
    pub fn blocks_1g(&self) -> usize {
        self.leaves[1]
    }
    /// Leaf descriptors written.
    pub fn descriptors(&self) -> usize {
        self.leaves.iter().sum()
    }
}

/// A translation table tree in the format `F`, named by its root table's
/// physical address (what goes into `TTBR0_EL1`/`TTBR1_EL1`).
///
/// Invariants: `root` and every table a valid table descriptor in the tree
/// points to are table frames in the sense of [`PhysAccess`]: allocated
/// through a [`PagingContext`], used by no one else. Every table but the
/// root holds at least one valid entry: `unmap` frees the tables it
/// empties, and a failed `map` frees the ones it created.
///
/// Dropping a `PageTable` leaks its tables; [`destroy`](Self::destroy)
/// frees them.
pub struct PageTable<F: DescriptorFormat> {
    root: PhysAddr,
    _format: PhantomData<fn() -> F>,
}

/// One table, reached through a [`PhysAccess`].
///
/// Invariant: the pointer is `phys_to_ptr` of a table frame of a live tree,
/// so it is valid for volatile access to `ENTRIES` descriptors.
#[derive(Copy, Clone)]
struct Table(*mut u64);

impl Table {
    fn at<C: PhysAccess + ?Sized>(ctx: &C, pa: PhysAddr) -> Self {
        Table(ctx.phys_to_ptr(pa))
    }

    fn get(self, i: usize) -> u64 {
        assert!(i < ENTRIES);
        // SAFETY: by the type's invariant the pointer addresses ENTRIES
        // descriptors, and i < ENTRIES. Volatile: the MMU reads this memory.
        unsafe { self.0.add(i).read_volatile() }
    }

    fn set(self, i: usize, desc: u64) {
        assert!(i < ENTRIES);
        // SAFETY: as in `get`; a single aligned 64-bit store, so the table
        // walker never sees half a descriptor.
        unsafe { self.0.add(i).write_volatile(desc) }
    }
}

/// A checked range: `upper` holds the address bits above the 48 the tables
/// translate, `[start, end)` the offsets inside the 48-bit space.
#[derive(Copy, Clone, Debug)]
struct Span {
    upper: u64,
    start: u64,
    end: u64,
}

impl Span {
    fn new(va: VirtAddr, len: usize) -> Result<Self, MapError> {
        if !va.is_aligned(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::InvalidRange);
        }
        let start = va.0 & (VA_SPACE - 1);
        // start < 2^48, so the sum cannot overflow once len <= 2^48.
        if len as u64 > VA_SPACE || start + len as u64 > VA_SPACE {
            return Err(MapError::InvalidRange);
        }
        Ok(Span { upper: va.0 & !(VA_SPACE - 1), start, end: start + len as u64 })
    }

    /// The virtual address of offset `off`.
    fn va(&self, off: u64) -> VirtAddr {
        VirtAddr(self.upper | off)
    }
}

/// The entries of a level-`level` table (covering offsets from `base`) that
/// `[start, end)` touches, as `(index, entry start, piece start, piece end)`.
fn pieces(level: usize, base: u64, start: u64, end: u64) -> impl Iterator<Item = (usize, u64, u64, u64)> {
    let shift = level_shift(level);
    let size = level_size(level);
    let first = ((start - base) >> shift) as usize;
    let last = ((end - 1 - base) >> shift) as usize;
    (first..=last).map(move |i| {
        let r0 = base + i as u64 * size;
        (i, r0, start.max(r0), end.min(r0 + size))
    })
}

/// The state of one `map` call.
struct MapOp<A> {
    span: Span,
    /// Physical address mapped at `span.start`.
    pa: u64,
    attrs: A,
    /// Everything in `[span.start, done)` has been mapped by this call.
    done: u64,
    stats: MapStats,
}

impl<F: DescriptorFormat> PageTable<F> {
    /// A new, empty tree (one zeroed root table).
    pub fn new<C: PagingContext>(ctx: &mut C) -> Result<Self, MapError> {
        let root = ctx.alloc_table_frame().ok_or(MapError::NoMemory)?;
        Ok(Self { root, _format: PhantomData })
    }

    /// Takes over an existing tree.
    ///
    /// # Safety
    /// `root` and every table reachable from it must be table frames in the
    /// sense of [`PhysAccess`], in format `F`, used by no other `PageTable`.
    pub unsafe fn from_root(root: PhysAddr) -> Self {
        Self { root, _format: PhantomData }
    }

    /// The root table's physical address (for `TTBRx_EL1`).
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// Maps `[va, va + len)` to `[pa, pa + len)` with `attrs`, using the
    /// largest leaves alignment allows. Every page of the range must be
    /// unmapped: otherwise nothing is mapped and the error names the first
    /// mapped address met. On `NoMemory` nothing stays mapped either.
    pub fn map<C: PagingContext>(
        &mut self,
        va: VirtAddr,
        pa: PhysAddr,
        len: usize,
        attrs: F::Attrs,
        ctx: &mut C,
    ) -> Result<MapStats, MapError> {
        let span = Span::new(va, len)?;
        if !pa.is_aligned(PAGE_SIZE) || pa.0.checked_add(len as u64).is_none() {
            return Err(MapError::InvalidRange);
        }
        if len == 0 {
            return Ok(MapStats::default());
        }
        let mut op = MapOp { span, pa: pa.0, attrs, done: span.start, stats: MapStats::default() };
        gather!(g);
        let r = Self::map_in(ctx, &mut g, &mut op, self.root, 0, 0, span.start, span.end);
        if r.is_err() && op.done > span.start {
            // Roll back: [start, done) holds only leaves this call wrote, all
            // whole, so no block needs splitting and this cannot fail.
            let undo = Self::unmap_in(ctx, &mut g, &mut |_, _, _| {}, span, self.root, 0, 0, span.start, op.done);
            assert!(undo.is_ok(), "map rollback failed: {undo:?}");
        }
        g.finish(ctx, &mut |_, _, _| {});
        r.map(|()| op.stats)
    }

    #[allow(clippy::too_many_arguments)]
    fn map_in<C: PagingContext>(
        ctx: &mut C,
        g: &mut Gather,
        op: &mut MapOp<F::Attrs>,
        table: PhysAddr,
        level: usize,
        base: u64,
        start: u64,
        end: u64,
    ) -> Result<(), MapError> {
        let t = Table::at(ctx, table);
        let size = level_size(level);
        for (i, r0, a, b) in pieces(level, base, start, end) {
            let pa = op.pa + (a - op.span.start);
            let whole = a == r0 && b == r0 + size && pa % size == 0 && F::leaf_allowed(level);
            let child = match F::decode(level, t.get(i)) {
                Descriptor::Invalid if whole => {
                    t.set(i, F::leaf(level, PhysAddr(pa), op.attrs));
                    g.stored();
                    op.stats.leaves[level] += 1;
                    op.done = b;
                    continue;
                }
                Descriptor::Invalid => {
                    assert!(level < LAST_LEVEL, "format allows no pages at the last level");
                    let new = ctx.alloc_table_frame().ok_or(MapError::NoMemory)?;
                    t.set(i, F::table(new));
                    g.stored();
                    new
                }
                Descriptor::Table(child) => child,
                Descriptor::Leaf { .. } => return Err(MapError::AlreadyMapped(op.span.va(a))),
            };
            let r = Self::map_in(ctx, g, op, child, level + 1, r0, a, b);
            if r.is_err() && Self::is_empty(ctx, child) {
                // Do not leave a table behind that this failed call created.
                t.set(i, INVALID);
                g.push(Pending::Table { va: op.span.va(r0), pa: child }, ctx, &mut |_, _, _| {});
            }
            r?;
        }
        Ok(())
    }

    /// Removes every leaf in `[va, va + len)`; unmapped holes are skipped.
    /// Blocks that stick out of the range are split first, and their parts
    /// outside stay mapped. `on_leaf(va, pa, size)` is called for every
    /// removed leaf (or piece of a split block), *after* the TLB no longer
    /// holds it, so it may free the frame at once. Tables left empty are
    /// freed.
    ///
    /// `NoMemory` means a block could not be split; the leaves before it
    /// were removed (and reported), the rest of the range is untouched.
    pub fn unmap<C: PagingContext>(
        &mut self,
        va: VirtAddr,
        len: usize,
        ctx: &mut C,
        mut on_leaf: impl FnMut(VirtAddr, PhysAddr, usize),
    ) -> Result<(), MapError> {
        let span = Span::new(va, len)?;
        if len == 0 {
            return Ok(());
        }
        gather!(g);
        let r = Self::unmap_in(ctx, &mut g, &mut on_leaf, span, self.root, 0, 0, span.start, span.end);
        g.finish(ctx, &mut on_leaf);
        r.map(|_| ())
    }

    #[allow(clippy::too_many_arguments)]
    /// Returns whether anything was removed below `table` (only then can a
    /// table on the way have become empty).
    fn unmap_in<C: PagingContext>(
        ctx: &mut C,
        g: &mut Gather,
        on_leaf: OnLeaf<'_>,
        span: Span,
        table: PhysAddr,
        level: usize,
        base: u64,
        start: u64,
        end: u64,
    ) -> Result<bool, MapError> {
        let t = Table::at(ctx, table);
        let size = level_size(level);
        let mut removed = false;
        for (i, r0, a, b) in pieces(level, base, start, end) {
            let whole = a == r0 && b == r0 + size;
            let child = match F::decode(level, t.get(i)) {
                Descriptor::Invalid => continue,
                Descriptor::Leaf { pa, .. } if whole => {
                    t.set(i, INVALID);
                    g.push(Pending::Removed { va: span.va(r0), pa, size: size as usize }, ctx, on_leaf);
                    removed = true;
                    continue;
                }
                Descriptor::Leaf { pa, attrs } => Self::split(ctx, g, t, i, level, span.va(r0), pa, attrs)?,
                Descriptor::Table(child) => child,
            };
            let r = Self::unmap_in(ctx, g, on_leaf, span, child, level + 1, r0, a, b);
            let below = *r.as_ref().unwrap_or(&true);
            removed |= below;
            // A table the range covered entirely is now empty; otherwise look,
            // if anything was removed from it.
            if (r.is_ok() && whole) || (below && Self::is_empty(ctx, child)) {
                debug_assert!(Self::is_empty(ctx, child));
                t.set(i, INVALID);
                g.push(Pending::Table { va: span.va(r0), pa: child }, ctx, on_leaf);
            }
            r?;
        }
        Ok(removed)
    }

    /// Sets the attributes of every leaf in `[va, va + len)` to `attrs`
    /// (holes stay holes; blocks that stick out are split first).
    pub fn protect<C: PagingContext>(
        &mut self,
        va: VirtAddr,
        len: usize,
        attrs: F::Attrs,
        ctx: &mut C,
    ) -> Result<(), MapError> {
        self.protect_with(va, len, ctx, |_, _, _, _| attrs)
    }

    /// Like [`protect`](Self::protect), with the new attributes computed per
    /// leaf: `f(va, pa, size, old_attrs)` for each leaf inside the range
    /// (after splitting). `NoMemory` (a block could not be split) leaves the
    /// leaves before it changed and the rest untouched.
    pub fn protect_with<C: PagingContext>(
        &mut self,
        va: VirtAddr,
        len: usize,
        ctx: &mut C,
        mut f: impl FnMut(VirtAddr, PhysAddr, usize, F::Attrs) -> F::Attrs,
    ) -> Result<(), MapError> {
        let span = Span::new(va, len)?;
        if len == 0 {
            return Ok(());
        }
        gather!(g);
        let r = Self::protect_in(ctx, &mut g, &mut f, span, self.root, 0, 0, span.start, span.end);
        g.finish(ctx, &mut |_, _, _| {});
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn protect_in<C: PagingContext>(
        ctx: &mut C,
        g: &mut Gather,
        f: &mut dyn FnMut(VirtAddr, PhysAddr, usize, F::Attrs) -> F::Attrs,
        span: Span,
        table: PhysAddr,
        level: usize,
        base: u64,
        start: u64,
        end: u64,
    ) -> Result<(), MapError> {
        let t = Table::at(ctx, table);
        let size = level_size(level);
        for (i, r0, a, b) in pieces(level, base, start, end) {
            let whole = a == r0 && b == r0 + size;
            let old = t.get(i);
            let child = match F::decode(level, old) {
                Descriptor::Invalid => continue,
                Descriptor::Leaf { pa, attrs } if whole => {
                    let va = span.va(r0);
                    let new_attrs = f(va, pa, size as usize, attrs);
                    let new = F::leaf(level, pa, new_attrs);
                    if new == old {
                        continue;
                    }
                    if F::needs_break_before_make(&attrs, &new_attrs) {
                        t.set(i, INVALID);
                        g.break_entry(ctx, va);
                        t.set(i, new);
                        g.stored();
                    } else {
                        t.set(i, new);
                        g.push(Pending::Changed { va }, ctx, &mut |_, _, _| {});
                    }
                    continue;
                }
                Descriptor::Leaf { pa, attrs } => Self::split(ctx, g, t, i, level, span.va(r0), pa, attrs)?,
                Descriptor::Table(child) => child,
            };
            Self::protect_in(ctx, g, f, span, child, level + 1, r0, a, b)?;
        }
        Ok(())
    }

    /// Replaces the block in entry `i` of `t` (at `level`, mapping `va` to
    /// `pa`) by a table of next-level leaves with the same memory and
    /// attributes, with break-before-make. Returns the new table.
    #[allow(clippy::too_many_arguments)]
    fn split<C: PagingContext>(
        ctx: &mut C,
        g: &mut Gather,
        t: Table,
        i: usize,
        level: usize,
        va: VirtAddr,
        pa: PhysAddr,
        attrs: F::Attrs,
    ) -> Result<PhysAddr, MapError> {
        let next = level + 1;
        assert!(next <= LAST_LEVEL && F::leaf_allowed(next), "cannot split a level-{level} block");
        let new = ctx.alloc_table_frame().ok_or(MapError::NoMemory)?;
        let nt = Table::at(ctx, new);
        let sub = level_size(next) as usize;
        for j in 0..ENTRIES {
            nt.set(j, F::leaf(next, pa + j * sub, attrs));
        }
        // Break: no TLB may hold the block when the table appears.
        t.set(i, INVALID);
        g.break_entry(ctx, va);
        // Make.
        t.set(i, F::table(new));
        g.stored();
        Ok(new)
    }

    /// Whether every entry of the level-`level` table at `table` is invalid.
    /// Whether every entry of `table` is invalid. The walker only ever
    /// stores [`INVALID`] (zero) to remove an entry, so a raw comparison is
    /// enough, and the scan stops at the first entry in use.
    fn is_empty<C: PhysAccess>(ctx: &C, table: PhysAddr) -> bool {
        let t = Table::at(ctx, table);
        (0..ENTRIES).all(|i| t.get(i) == INVALID)
    }

    /// The translation of `va`: the physical address it maps to, the leaf's
    /// attributes and the leaf's size (4 KiB, 2 MiB or 1 GiB).
    pub fn translate<C: PhysAccess>(&self, va: VirtAddr, ctx: &C) -> Option<(PhysAddr, F::Attrs, usize)> {
        let mut table = self.root;
        for level in 0..LEVELS {
            let desc = Table::at(ctx, table).get(super::table_index(va.0, level));
            match F::decode(level, desc) {
                Descriptor::Invalid => return None,
                Descriptor::Table(next) => table = next,
                Descriptor::Leaf { pa, attrs } => {
                    let size = level_size(level);
                    return Some((PhysAddr(pa.0 + (va.0 & (size - 1))), attrs, size as usize));
                }
            }
        }
        None
    }

    /// Maps the single 4 KiB page `va` to `pa` (the fault handler's case):
    /// the same result as [`map`](Self::map) for one page, with a plain
    /// walk down the tree instead of the general range machinery.
    pub fn map_page<C: PagingContext>(
        &mut self,
        va: VirtAddr,
        pa: PhysAddr,
        attrs: F::Attrs,
        ctx: &mut C,
    ) -> Result<(), MapError> {
        let span = Span::new(va, PAGE_SIZE)?;
        if !pa.is_aligned(PAGE_SIZE) {
            return Err(MapError::InvalidRange);
        }
        let mut table = self.root;
        // Tables this call created, to remove again if it runs out of memory.
        let mut created: [(PhysAddr, usize, PhysAddr); LAST_LEVEL] = [(PhysAddr(0), 0, PhysAddr(0)); LAST_LEVEL];
        let mut n = 0;
        for level in 0..LAST_LEVEL {
            let t = Table::at(ctx, table);
            let i = super::table_index(span.start, level);
            table = match F::decode(level, t.get(i)) {
                Descriptor::Table(next) => next,
                Descriptor::Leaf { .. } => return Err(MapError::AlreadyMapped(va)),
                Descriptor::Invalid => match ctx.alloc_table_frame() {
                    Some(new) => {
                        t.set(i, F::table(new));
                        created[n] = (table, i, new);
                        n += 1;
                        new
                    }
                    None => {
                        // Undo in reverse: each created table is empty.
                        for &(parent, i, child) in created[..n].iter().rev() {
                            Table::at(ctx, parent).set(i, INVALID);
                            ctx.free_table_frame(child);
                        }
                        return Err(MapError::NoMemory);
                    }
                },
            };
        }
        let t = Table::at(ctx, table);
        let i = super::table_index(span.start, LAST_LEVEL);
        if !matches!(F::decode(LAST_LEVEL, t.get(i)), Descriptor::Invalid) {
            return Err(MapError::AlreadyMapped(va));
        }
        t.set(i, F::leaf(LAST_LEVEL, pa, attrs));
        // A new entry needs no invalidation, only the barrier that makes it
        // visible to the walker before it is used.
        ctx.sync();
        Ok(())
    }

    /// Points the 4 KiB page at `va` to a different frame `pa` with `attrs`
    /// (copy-on-write), keeping every table: break-before-make on the one
    /// entry (invalid, TLB invalidated, then the new page). Returns the old
    /// frame, which the TLB can no longer reach. `None` (and no change) if
    /// `va` is not mapped by a 4 KiB page.
    pub fn replace_page<C: PagingContext>(
        &mut self,
        va: VirtAddr,
        pa: PhysAddr,
        attrs: F::Attrs,
        ctx: &mut C,
    ) -> Option<PhysAddr> {
        let mut table = self.root;
        for level in 0..LAST_LEVEL {
            match F::decode(level, Table::at(ctx, table).get(super::table_index(va.0, level))) {
                Descriptor::Table(next) => table = next,
                _ => return None,
            }
        }
        let t = Table::at(ctx, table);
        let i = super::table_index(va.0, LAST_LEVEL);
        let Descriptor::Leaf { pa: old, .. } = F::decode(LAST_LEVEL, t.get(i)) else { return None };
        gather!(g);
        t.set(i, INVALID);
        g.break_entry(ctx, va.align_down(PAGE_SIZE));
        t.set(i, F::leaf(LAST_LEVEL, pa, attrs));
        g.stored();
        g.finish(ctx, &mut |_, _, _| {});
        Some(old)
    }

    /// Calls `f(va, pa, size, attrs)` for every leaf that overlaps
    /// `[va, va + len)`, in address order. Whole leaves are reported: a
    /// block that sticks out of the range is reported with its own start and
    /// size. The range is widened to pages and clipped to the 48-bit space.
    pub fn for_each_leaf<C: PhysAccess>(
        &self,
        va: VirtAddr,
        len: usize,
        ctx: &C,
        mut f: impl FnMut(VirtAddr, PhysAddr, usize, F::Attrs),
    ) {
        let start = va.align_down(PAGE_SIZE).0 & (VA_SPACE - 1);
        let end = (va.0 & (VA_SPACE - 1)).saturating_add(len as u64).min(VA_SPACE);
        if start >= end {
            return;
        }
        let span = Span { upper: va.0 & !(VA_SPACE - 1), start, end };
        Self::visit(ctx, &mut f, span, self.root, 0, 0, start, end);
    }

    #[allow(clippy::too_many_arguments)]
    fn visit<C: PhysAccess>(
        ctx: &C,
        f: &mut dyn FnMut(VirtAddr, PhysAddr, usize, F::Attrs),
        span: Span,
        table: PhysAddr,
        level: usize,
        base: u64,
        start: u64,
        end: u64,
    ) {
        let t = Table::at(ctx, table);
        for (i, r0, a, b) in pieces(level, base, start, end) {
            match F::decode(level, t.get(i)) {
                Descriptor::Invalid => {}
                Descriptor::Leaf { pa, attrs } => f(span.va(r0), pa, level_size(level) as usize, attrs),
                Descriptor::Table(child) => Self::visit(ctx, f, span, child, level + 1, r0, a, b),
            }
        }
    }

    /// Calls `f(level, table, valid_entries)` for every table of the tree,
    /// parents before children (for accounting and dumps).
    pub fn for_each_table<C: PhysAccess>(&self, ctx: &C, mut f: impl FnMut(usize, PhysAddr, usize)) {
        Self::visit_tables(ctx, &mut f, self.root, 0);
    }

    fn visit_tables<C: PhysAccess>(ctx: &C, f: &mut dyn FnMut(usize, PhysAddr, usize), table: PhysAddr, level: usize) {
        let t = Table::at(ctx, table);
        let valid = (0..ENTRIES).filter(|&i| F::decode(level, t.get(i)) != Descriptor::Invalid).count();
        f(level, table, valid);
        for i in 0..ENTRIES {
            if let Descriptor::Table(child) = F::decode(level, t.get(i)) {
                Self::visit_tables(ctx, f, child, level + 1);
            }
        }
    }

    /// Frees every table of the tree, root included; the frames the leaves
    /// map are not touched (unmap first to get them reported). The tree must
    /// no longer be installed in any `TTBRx_EL1`; its TLB entries are
    /// invalidated before the first table is freed.
    pub fn destroy<C: PagingContext>(self, ctx: &mut C) {
        ctx.before_invalidate();
        ctx.invalidate_all();
        ctx.sync();
        Self::free_tree(ctx, self.root, 0);
    }

    fn free_tree<C: PagingContext>(ctx: &mut C, table: PhysAddr, level: usize) {
        if level < LAST_LEVEL {
            let t = Table::at(ctx, table);
            for i in 0..ENTRIES {
                if let Descriptor::Table(child) = F::decode(level, t.get(i)) {
                    Self::free_tree(ctx, child, level + 1);
                }
            }
        }
        ctx.free_table_frame(table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::addr::{BLOCK_1G, BLOCK_2M};
    use crate::mm::paging::sim::{SimContext, TlbEvent, TlbOp};
    use crate::mm::paging::stage1::{MemType, PageAttrs, Stage1};
    use crate::mm::paging::table_index;
    use alloc::vec::Vec;

    type Pt = PageTable<Stage1>;

    const URW: PageAttrs = PageAttrs::user(true, true, false);
    const URO: PageAttrs = PageAttrs::user(true, false, false);
    const KDATA: PageAttrs = PageAttrs::kernel_data();
    const P: usize = PAGE_SIZE;

    fn setup() -> (SimContext, Pt) {
        let mut ctx = SimContext::new(256);
        let pt = Pt::new(&mut ctx).unwrap();
        (ctx, pt)
    }

    fn tr(pt: &Pt, ctx: &SimContext, va: u64) -> Option<(PhysAddr, PageAttrs, usize)> {
        pt.translate(VirtAddr(va), ctx)
    }

    /// Physical address of the level-`level` descriptor that translates `va`.
    fn entry_pa(pt: &Pt, ctx: &SimContext, va: u64, level: usize) -> PhysAddr {
        let mut table = pt.root();
        for l in 0..level {
            let desc = ctx.read(table + table_index(va, l) * 8);
            match Stage1::decode(l, desc) {
                Descriptor::Table(next) => table = next,
                d => panic!("no table at level {l} for {va:#x}: {d:?}"),
            }
        }
        table + table_index(va, level) * 8
    }

    #[test]
    fn pages_where_unaligned_blocks_where_aligned() {
        let (mut ctx, mut pt) = setup();
        // Three pages.
        let s = pt.map(VirtAddr(0x1000), PhysAddr(0x8000_1000), 3 * P, URW, &mut ctx).unwrap();
        assert_eq!((s.pages(), s.blocks_2m(), s.blocks_1g()), (3, 0, 0));
        assert_eq!(tr(&pt, &ctx, 0x2abc), Some((PhysAddr(0x8000_2abc), URW, P)));
        assert_eq!(tr(&pt, &ctx, 0x4000), None);
        assert_eq!(tr(&pt, &ctx, 0), None);

        // A 1 GiB block.
        let s = pt.map(VirtAddr(0x4000_0000), PhysAddr(0x1_0000_0000), BLOCK_1G, KDATA, &mut ctx).unwrap();
        assert_eq!((s.pages(), s.blocks_2m(), s.blocks_1g()), (0, 0, 1));
        assert_eq!(tr(&pt, &ctx, 0x4012_3456), Some((PhysAddr(0x1_0012_3456), KDATA, BLOCK_1G)));

        // A page, two 2 MiB blocks, a page: VA and PA equally misaligned.
        let va = 0x1_0000_0000 - 0x1000;
        let s = pt.map(VirtAddr(va), PhysAddr(0x2_0000_0000 - 0x1000), 2 * BLOCK_2M + 2 * P, URO, &mut ctx).unwrap();
        assert_eq!((s.pages(), s.blocks_2m(), s.blocks_1g()), (2, 2, 0));
        assert_eq!(tr(&pt, &ctx, va).unwrap().2, P);
        assert_eq!(tr(&pt, &ctx, 0x1_0000_0000).unwrap(), (PhysAddr(0x2_0000_0000), URO, BLOCK_2M));
        assert_eq!(tr(&pt, &ctx, 0x1_0040_0000).unwrap().2, P);

        // VA aligned but PA not: pages only.
        let s = pt.map(VirtAddr(0x2_0000_0000), PhysAddr(0x3000_1000), BLOCK_2M, URW, &mut ctx).unwrap();
        assert_eq!((s.pages(), s.blocks_2m()), (512, 0));

        // The kernel half (upper 16 bits set).
        let kva = 0xffff_ffff_8000_0000;
        let s = pt.map(VirtAddr(kva), PhysAddr(0x4000_0000), 2 * BLOCK_2M, PageAttrs::kernel_text(), &mut ctx).unwrap();
        assert_eq!(s.blocks_2m(), 2);
        assert_eq!(tr(&pt, &ctx, kva + 0x20_0010).unwrap().0, PhysAddr(0x4020_0010));

        // The very last page of the address space.
        pt.map(VirtAddr(0xffff_ffff_ffff_f000), PhysAddr(0x7000), P, KDATA, &mut ctx).unwrap();
        assert_eq!(tr(&pt, &ctx, 0xffff_ffff_ffff_ffff).unwrap().0, PhysAddr(0x7fff));
    }

    #[test]
    fn bad_ranges_are_rejected() {
        let (mut ctx, mut pt) = setup();
        assert_eq!(pt.map(VirtAddr(0x1001), PhysAddr(0), P, URW, &mut ctx), Err(MapError::InvalidRange));
        assert_eq!(pt.map(VirtAddr(0x1000), PhysAddr(0x10), P, URW, &mut ctx), Err(MapError::InvalidRange));
        assert_eq!(pt.map(VirtAddr(0x1000), PhysAddr(0), 100, URW, &mut ctx), Err(MapError::InvalidRange));
        assert_eq!(
            pt.map(VirtAddr(0xffff_f000_0000), PhysAddr(0), 1 << 32, URW, &mut ctx),
            Err(MapError::InvalidRange)
        );
        assert_eq!(
            pt.unmap(VirtAddr(0x1000), usize::MAX & !0xfff, &mut ctx, |_, _, _| {}),
            Err(MapError::InvalidRange)
        );
        assert_eq!(pt.map(VirtAddr(0x1000), PhysAddr(0), 0, URW, &mut ctx), Ok(MapStats::default()));
        assert_eq!(ctx.tables, 1);
    }

    #[test]
    fn mapping_over_a_mapping_fails_and_changes_nothing() {
        let (mut ctx, mut pt) = setup();
        pt.map(VirtAddr(0x20_0000), PhysAddr(0x4000_0000), BLOCK_2M, URW, &mut ctx).unwrap();
        pt.map(VirtAddr(0x50_0000), PhysAddr(0x5000_0000), P, URW, &mut ctx).unwrap();
        let tables = ctx.tables;
        // Overlaps the block's last page.
        let r = pt.map(VirtAddr(0x1f_0000), PhysAddr(0x9000_0000), 0x20_0000, URO, &mut ctx);
        assert_eq!(r, Err(MapError::AlreadyMapped(VirtAddr(0x20_0000))));
        // Fills the hole before the page, then meets it.
        let r = pt.map(VirtAddr(0x40_0000), PhysAddr(0x9000_0000), 0x20_0000, URO, &mut ctx);
        assert_eq!(r, Err(MapError::AlreadyMapped(VirtAddr(0x50_0000))));
        // Nothing of either attempt stayed, and no table was left behind.
        assert_eq!(ctx.tables, tables);
        for va in [0x1f_0000, 0x1f_f000, 0x40_0000, 0x4f_f000, 0x51_0000] {
            assert_eq!(tr(&pt, &ctx, va), None, "{va:#x}");
        }
        assert_eq!(tr(&pt, &ctx, 0x20_0000).unwrap().2, BLOCK_2M);
    }

    #[test]
    fn unmap_inside_a_block_splits_it() {
        let (mut ctx, mut pt) = setup();
        let (va, pa) = (0x4000_0000u64, 0x8000_0000u64);
        pt.map(VirtAddr(va), PhysAddr(pa), BLOCK_1G, URW, &mut ctx).unwrap();
        let mut removed = Vec::new();
        pt.unmap(VirtAddr(va + 0x30_5000), 2 * P, &mut ctx, |v, p, s| removed.push((v.0, p.0, s))).unwrap();
        assert_eq!(removed, [(va + 0x30_5000, pa + 0x30_5000, P), (va + 0x30_6000, pa + 0x30_6000, P)]);
        // 1 GiB -> 2 MiB blocks, and the one with the hole -> pages.
        assert_eq!(tr(&pt, &ctx, va), Some((PhysAddr(pa), URW, BLOCK_2M)));
        assert_eq!(tr(&pt, &ctx, va + 0x30_4000), Some((PhysAddr(pa + 0x30_4000), URW, P)));
        assert_eq!(tr(&pt, &ctx, va + 0x30_5000), None);
        assert_eq!(tr(&pt, &ctx, va + 0x30_6fff), None);
        assert_eq!(tr(&pt, &ctx, va + 0x30_7000), Some((PhysAddr(pa + 0x30_7000), URW, P)));
        assert_eq!(tr(&pt, &ctx, va + 0x3fff_f000), Some((PhysAddr(pa + 0x3fff_f000), URW, BLOCK_2M)));

        // Unmapping a range that straddles the split region reports pieces.
        let mut sizes = Vec::new();
        pt.unmap(VirtAddr(va + 0x1f_f000), BLOCK_2M + 2 * P, &mut ctx, |_, _, s| sizes.push(s)).unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), BLOCK_2M + 2 * P - 2 * P);
        assert!(sizes.iter().all(|&s| s == P));
        // Unmapping the rest frees every table but the root.
        let mut total = 0;
        pt.unmap(VirtAddr(va), BLOCK_1G, &mut ctx, |_, _, s| total += s).unwrap();
        assert_eq!(total, BLOCK_1G - 2 * P - BLOCK_2M);
        assert_eq!(ctx.tables, 1);
    }

    #[test]
    fn protect_inside_a_block_splits_it() {
        let (mut ctx, mut pt) = setup();
        let (va, pa) = (0x60_0000u64, 0x4060_0000u64);
        pt.map(VirtAddr(va), PhysAddr(pa), BLOCK_2M, KDATA, &mut ctx).unwrap();
        let ro = PageAttrs::kernel_rodata();
        pt.protect(VirtAddr(va + P as u64), 2 * P, ro, &mut ctx).unwrap();
        assert_eq!(tr(&pt, &ctx, va), Some((PhysAddr(pa), KDATA, P)));
        assert_eq!(tr(&pt, &ctx, va + 0x1000), Some((PhysAddr(pa + 0x1000), ro, P)));
        assert_eq!(tr(&pt, &ctx, va + 0x2000), Some((PhysAddr(pa + 0x2000), ro, P)));
        assert_eq!(tr(&pt, &ctx, va + 0x3000), Some((PhysAddr(pa + 0x3000), KDATA, P)));

        // Per-leaf attributes from the old ones, over a range with holes.
        pt.map(VirtAddr(0x4000_0000), PhysAddr(0x1_0000_0000), BLOCK_2M, URO, &mut ctx).unwrap();
        let mut seen = Vec::new();
        pt.protect_with(VirtAddr(0), 0x8000_0000, &mut ctx, |v, _, s, old| {
            seen.push((v.0, s));
            PageAttrs { write: !old.write, ..old }
        })
        .unwrap();
        assert_eq!(seen.len(), 512 + 1);
        assert_eq!(tr(&pt, &ctx, va + 0x1000).unwrap().1, PageAttrs::kernel_data());
        assert_eq!(tr(&pt, &ctx, va).unwrap().1, ro);
        assert_eq!(tr(&pt, &ctx, 0x4000_0000).unwrap(), (PhysAddr(0x1_0000_0000), URW, BLOCK_2M));
    }

    #[test]
    fn emptied_tables_are_freed_and_destroy_frees_the_rest() {
        let mut ctx = SimContext::new(256);
        let free0 = ctx.frames.free_count();
        let mut pt = Pt::new(&mut ctx).unwrap();
        assert_eq!(ctx.tables, 1);
        // Pages under three different level-0 entries.
        let vas = [0x1000u64, 0x80_1234_5000, 0x100_4000_0000];
        for (i, &va) in vas.iter().enumerate() {
            pt.map(VirtAddr(va), PhysAddr(0x10_0000 * i as u64), 4 * P, URW, &mut ctx).unwrap();
        }
        assert_eq!(ctx.tables, 1 + 3 * 3);
        let mut count = 0;
        pt.for_each_table(&ctx, |_, _, valid| {
            assert!(valid > 0);
            count += 1;
        });
        assert_eq!(count, ctx.tables);
        // Unmapping one page of four frees nothing.
        pt.unmap(VirtAddr(0x1000), P, &mut ctx, |_, _, _| {}).unwrap();
        assert_eq!(ctx.tables, 10);
        // Unmapping the rest of the first group frees its three tables.
        pt.unmap(VirtAddr(0), 0x10_0000, &mut ctx, |_, _, _| {}).unwrap();
        assert_eq!(ctx.tables, 7);
        pt.unmap(VirtAddr(0), 1 << 41, &mut ctx, |_, _, _| {}).unwrap();
        assert_eq!(ctx.tables, 1);
        // destroy frees the tables but not mapped frames (none here).
        pt.map(VirtAddr(0x1234_0000), PhysAddr(0), 3 * P, URW, &mut ctx).unwrap();
        pt.destroy(&mut ctx);
        assert_eq!((ctx.tables, ctx.frames.free_count()), (0, free0));
    }

    /// The events of one break-before-make split of the block mapping `block`
    /// whose descriptor is watched, followed by one batched invalidation.
    fn assert_split_sequence(events: &[TlbEvent], block: u64, block_desc: u64) {
        let w = |i: usize| events[i].watched.unwrap();
        // Break: the descriptor is already invalid when the DSB and TLBI are
        // issued, and still invalid when the invalidation has completed.
        assert_eq!(events[0].op, TlbOp::BeforeInvalidate);
        assert_eq!(events[1].op, TlbOp::Invalidate(VirtAddr(block)));
        assert_eq!(events[2].op, TlbOp::Sync);
        assert!((0..3).all(|i| w(i) == 0), "not invalid during the break: {events:x?}");
        // Make: afterwards the descriptor points to a table.
        let after = w(3);
        assert!(matches!(Stage1::decode(2, after), Descriptor::Table(_)), "{after:#x}");
        assert_ne!(after, block_desc);
        assert!(events[3..].iter().all(|e| e.watched == Some(after)));
    }

    #[test]
    fn map_page_matches_map_and_refuses_mapped_pages() {
        let (mut ctx, mut pt) = setup();
        pt.map_page(VirtAddr(0x7000), PhysAddr(0x4000_1000), URW, &mut ctx).unwrap();
        assert_eq!(tr(&pt, &ctx, 0x7000), Some((PhysAddr(0x4000_1000), URW, 4096)));
        assert_eq!(ctx.tables, 4);
        assert_eq!(
            pt.map_page(VirtAddr(0x7000), PhysAddr(0x4000_2000), URW, &mut ctx),
            Err(MapError::AlreadyMapped(VirtAddr(0x7000)))
        );
        pt.map(VirtAddr(0x20_0000), PhysAddr(0x4020_0000), BLOCK_2M, URW, &mut ctx).unwrap();
        assert_eq!(
            pt.map_page(VirtAddr(0x20_1000), PhysAddr(0x4000_2000), URW, &mut ctx),
            Err(MapError::AlreadyMapped(VirtAddr(0x20_1000)))
        );
        assert_eq!(pt.map_page(VirtAddr(0x7001), PhysAddr(0x4000_2000), URW, &mut ctx), Err(MapError::InvalidRange));
        // Out of frames half-way: the tables made on the way are removed.
        let tables = ctx.tables;
        ctx.budget = Some(2);
        assert_eq!(
            pt.map_page(VirtAddr(0x80_0000_0000), PhysAddr(0x4000_3000), URW, &mut ctx),
            Err(MapError::NoMemory)
        );
        assert_eq!(ctx.tables, tables);
        ctx.budget = None;
        pt.unmap(VirtAddr(0), 1 << 40, &mut ctx, |_, _, _| {}).unwrap();
        assert_eq!(ctx.tables, 1);
    }

    #[test]
    fn replace_page_breaks_before_make_and_keeps_the_tables() {
        let (mut ctx, mut pt) = setup();
        let va = 0x7000u64;
        pt.map(VirtAddr(va), PhysAddr(0x4000_1000), P, URO, &mut ctx).unwrap();
        let tables = ctx.tables;
        let entry = entry_pa(&pt, &ctx, va, 3);
        ctx.watch = Some(entry);
        ctx.record = true;
        let old = pt.replace_page(VirtAddr(va), PhysAddr(0x4000_9000), URW, &mut ctx);
        assert_eq!(old, Some(PhysAddr(0x4000_1000)));
        let ev = ctx.events();
        assert_eq!(ev[0].op, TlbOp::BeforeInvalidate);
        assert_eq!(ev[1].op, TlbOp::Invalidate(VirtAddr(va)));
        assert_eq!(ev[2].op, TlbOp::Sync);
        assert!(ev[..3].iter().all(|e| e.watched == Some(0)), "entry not invalid during the break: {ev:x?}");
        assert_eq!(tr(&pt, &ctx, va), Some((PhysAddr(0x4000_9000), URW, 4096)));
        assert_eq!(ctx.tables, tables, "tables were freed and rebuilt");
        // Nothing mapped, or a block: no change.
        assert_eq!(pt.replace_page(VirtAddr(0x9000), PhysAddr(0x4000_a000), URW, &mut ctx), None);
        pt.map(VirtAddr(0x40_0000), PhysAddr(0x4040_0000), BLOCK_2M, URW, &mut ctx).unwrap();
        assert_eq!(pt.replace_page(VirtAddr(0x40_0000), PhysAddr(0x4000_a000), URW, &mut ctx), None);
    }

    #[test]
    fn block_split_breaks_before_make() {
        let (mut ctx, mut pt) = setup();
        let va = 0x40_0000u64;
        pt.map(VirtAddr(va), PhysAddr(0x4040_0000), BLOCK_2M, URW, &mut ctx).unwrap();
        let entry = entry_pa(&pt, &ctx, va, 2);
        let block_desc = ctx.read(entry);
        assert!(matches!(Stage1::decode(2, block_desc), Descriptor::Leaf { .. }));
        ctx.watch = Some(entry);
        ctx.record = true;
        pt.unmap(VirtAddr(va + 0x5000), P, &mut ctx, |_, _, _| {}).unwrap();
        assert_split_sequence(&ctx.events(), va, block_desc);
        // Then one batch: DSB, TLBI of the removed page, DSB+ISB.
        let ops = &ctx.ops()[3..];
        assert_eq!(ops, [TlbOp::BeforeInvalidate, TlbOp::Invalidate(VirtAddr(va + 0x5000)), TlbOp::Sync]);

        // The same for protect.
        let va2 = 0x80_0000u64;
        pt.map(VirtAddr(va2), PhysAddr(0x4080_0000), BLOCK_2M, URW, &mut ctx).unwrap();
        let entry = entry_pa(&pt, &ctx, va2, 2);
        let block_desc = ctx.read(entry);
        ctx.watch = Some(entry);
        ctx.clear_events();
        pt.protect(VirtAddr(va2 + 0x1f_f000), P, URO, &mut ctx).unwrap();
        assert_split_sequence(&ctx.events(), va2, block_desc);
        let ops = &ctx.ops()[3..];
        assert_eq!(ops, [TlbOp::BeforeInvalidate, TlbOp::Invalidate(VirtAddr(va2 + 0x1f_f000)), TlbOp::Sync]);
    }

    #[test]
    fn memory_type_change_breaks_before_make() {
        let (mut ctx, mut pt) = setup();
        pt.map(VirtAddr(0x1000), PhysAddr(0x9000_0000), P, KDATA, &mut ctx).unwrap();
        let entry = entry_pa(&pt, &ctx, 0x1000, 3);
        ctx.watch = Some(entry);
        ctx.record = true;
        pt.protect(VirtAddr(0x1000), P, KDATA.with_mem(MemType::NormalNc), &mut ctx).unwrap();
        let e = &ctx.events();
        assert_eq!(
            e.iter().map(|e| e.op).collect::<Vec<_>>(),
            [TlbOp::BeforeInvalidate, TlbOp::Invalidate(VirtAddr(0x1000)), TlbOp::Sync, TlbOp::Sync]
        );
        assert!(e[..3].iter().all(|e| e.watched == Some(0)));
        assert_eq!(tr(&pt, &ctx, 0x1000).unwrap().1.mem, MemType::NormalNc);
    }

    #[test]
    fn invalidations_are_batched() {
        let (mut ctx, mut pt) = setup();
        pt.map(VirtAddr(0x10_0000), PhysAddr(0x5000_0000), 16 * P, URW, &mut ctx).unwrap();
        ctx.record = true;
        // Mapping: no invalidation, one final barrier.
        pt.map(VirtAddr(0x20_0000), PhysAddr(0x6000_0000), 16 * P, URW, &mut ctx).unwrap();
        assert_eq!(ctx.ops(), [TlbOp::Sync]);
        // Protect 32 pages: one DSB, 32 TLBIs, one DSB+ISB.
        ctx.clear_events();
        pt.protect(VirtAddr(0), 0x40_0000, URO, &mut ctx).unwrap();
        let count = |ctx: &SimContext, op: fn(&TlbOp) -> bool| ctx.ops().iter().filter(|o| op(o)).count();
        assert_eq!(count(&ctx, |o| *o == TlbOp::BeforeInvalidate), 1);
        assert_eq!(count(&ctx, |o| matches!(o, TlbOp::Invalidate(_))), 32);
        assert_eq!(count(&ctx, |o| *o == TlbOp::Sync), 1);
        // Unmap 32 pages and four tables (two L3, L2, L1): 36 TLBIs, one batch.
        ctx.clear_events();
        let mut reported = 0;
        pt.unmap(VirtAddr(0), 0x40_0000, &mut ctx, |_, _, _| reported += 1).unwrap();
        assert_eq!(reported, 32);
        assert_eq!(count(&ctx, |o| matches!(o, TlbOp::Invalidate(_))), 36);
        assert_eq!(count(&ctx, |o| *o == TlbOp::BeforeInvalidate), 1);
        assert_eq!(count(&ctx, |o| *o == TlbOp::Sync), 1);
        assert_eq!(ctx.tables, 1);
    }

    #[test]
    fn large_unmaps_invalidate_everything_and_report_leaves_after_the_sync() {
        let (mut ctx, mut pt) = setup();
        // 150 pages under one L3 table: 150 leaves + 3 tables = 153 entries.
        pt.map(VirtAddr(0x10_0000), PhysAddr(0x5000_0000), 150 * P, URW, &mut ctx).unwrap();
        ctx.record = true;
        ctx.clear_events();
        let log = ctx.log_handle();
        pt.unmap(VirtAddr(0), 0x20_0000, &mut ctx, |va, _, _| {
            log.borrow_mut().push(TlbEvent { op: TlbOp::LeafReported(va), watched: None })
        })
        .unwrap();
        let ops = ctx.ops();
        // Two full batches of 64: one invalidate_all each; then 25 by VA.
        let full = [TlbOp::BeforeInvalidate, TlbOp::InvalidateAll, TlbOp::Sync];
        assert_eq!(ops[..3], full);
        assert!(ops[3..67].iter().all(|o| matches!(o, TlbOp::LeafReported(_))));
        assert_eq!(ops[67..70], full);
        assert!(ops[70..134].iter().all(|o| matches!(o, TlbOp::LeafReported(_))));
        assert_eq!(ops[134], TlbOp::BeforeInvalidate);
        assert!(ops[135..160].iter().all(|o| matches!(o, TlbOp::Invalidate(_))));
        assert_eq!(ops[160], TlbOp::Sync);
        // 22 leaves and 3 tables: 22 reports after the last sync.
        assert!(ops[161..].iter().all(|o| matches!(o, TlbOp::LeafReported(_))));
        assert_eq!(ops.len(), 161 + 22);
        // Every leaf was reported exactly once, after an invalidation that
        // covered it had completed.
        let mut covered = alloc::collections::BTreeSet::new();
        let mut pending = alloc::collections::BTreeSet::new();
        let mut all_pending = false;
        let mut reported = alloc::collections::BTreeSet::new();
        for op in ops {
            match op {
                TlbOp::Invalidate(va) => _ = pending.insert(va),
                TlbOp::InvalidateAll => all_pending = true,
                TlbOp::Sync => {
                    covered.append(&mut pending);
                    if core::mem::take(&mut all_pending) {
                        covered.extend((0..150).map(|i| VirtAddr(0x10_0000 + i * P as u64)));
                    }
                }
                TlbOp::LeafReported(va) => {
                    assert!(covered.contains(&va), "{va:?} reported before its invalidation completed");
                    assert!(reported.insert(va));
                }
                TlbOp::BeforeInvalidate => {}
            }
        }
        assert_eq!(reported.len(), 150);
        assert_eq!(ctx.tables, 1);
    }

    #[test]
    fn running_out_of_frames_leaves_things_as_they_were() {
        let (mut ctx, mut pt) = setup();
        pt.map(VirtAddr(0x1_0000_0000), PhysAddr(0x8000_0000), BLOCK_2M, URW, &mut ctx).unwrap();
        let tables = ctx.tables;
        // A range across a level-0 boundary that needs five new tables: an
        // L2 and an L3 table below 512 GiB, an L1, L2 and L3 table above.
        let (va, len) = (0x80_0000_0000u64 - BLOCK_2M as u64 - 0x3000, 2 * BLOCK_2M + 0x6000);
        for budget in 0..5 {
            ctx.budget = Some(budget);
            let r = pt.map(VirtAddr(va), PhysAddr(0x1000_0000 - 0x3000), len, URW, &mut ctx);
            assert_eq!(r, Err(MapError::NoMemory), "budget {budget}");
            assert_eq!(ctx.tables, tables);
            let mut any = false;
            pt.for_each_leaf(VirtAddr(va), len, &ctx, |_, _, _, _| any = true);
            assert!(!any);
        }
        ctx.budget = Some(5);
        let s = pt.map(VirtAddr(va), PhysAddr(0x1000_0000 - 0x3000), len, URW, &mut ctx).unwrap();
        assert_eq!((s.pages(), s.blocks_2m()), (6, 2));
        assert_eq!(ctx.tables, tables + 5);

        // Unmap and protect need a frame to split a block; without one the
        // block stays as it was.
        ctx.budget = Some(0);
        assert_eq!(pt.unmap(VirtAddr(0x1_0000_1000), P, &mut ctx, |_, _, _| panic!()), Err(MapError::NoMemory));
        assert_eq!(pt.protect(VirtAddr(0x1_0000_1000), P, URO, &mut ctx), Err(MapError::NoMemory));
        assert_eq!(tr(&pt, &ctx, 0x1_0000_1000), Some((PhysAddr(0x8000_1000), URW, BLOCK_2M)));
    }

    #[test]
    fn leaves_are_visited_whole_and_in_order() {
        let (mut ctx, mut pt) = setup();
        pt.map(VirtAddr(0x20_0000), PhysAddr(0x4000_0000), BLOCK_2M, URW, &mut ctx).unwrap();
        pt.map(VirtAddr(0x40_0000), PhysAddr(0x5000_0000), 2 * P, URO, &mut ctx).unwrap();
        pt.map(VirtAddr(0x1000), PhysAddr(0x6000_0000), P, URO, &mut ctx).unwrap();
        let mut leaves = Vec::new();
        pt.for_each_leaf(VirtAddr(0x3f_f000), 0x2000, &ctx, |v, p, s, a| leaves.push((v.0, p.0, s, a)));
        assert_eq!(leaves, [(0x20_0000, 0x4000_0000, BLOCK_2M, URW), (0x40_0000, 0x5000_0000, P, URO)]);
        leaves.clear();
        pt.for_each_leaf(VirtAddr(0), usize::MAX, &ctx, |v, _, _, _| leaves.push((v.0, 0, 0, URW)));
        assert_eq!(leaves.iter().map(|l| l.0).collect::<Vec<_>>(), [0x1000, 0x20_0000, 0x40_0000, 0x40_1000]);
    }
}
