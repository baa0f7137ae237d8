//! Virtual memory areas: what a process has mapped, independent of the page
//! tables.
//!
//! A process's address space is a sorted list of non-overlapping areas
//! (`Vma`s), each a page-aligned range `[start, end)` with one protection,
//! one sharing mode and one *backing*: the object whose pages appear there
//! (zero-filled anonymous memory, a file, a device's physical range) and the
//! page offset into it. The page tables are only a cache of this list: the
//! fault handler consults it to decide what a missing page should be.
//!
//! The list is a `BTreeMap` keyed by start address, so finding the area
//! that holds an address is O(log n). `munmap` and `mprotect` of a sub-range
//! split areas; adjacent anonymous private areas with equal attributes merge
//! back into one, as on Linux.

use super::addr::PAGE_SIZE;
use super::backing::Backing;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::fmt;

/// Page protection as in `mmap(2)`'s `prot` (PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4).
#[derive(Copy, Clone, PartialEq, Eq, Default)]
pub struct Prot(pub u8);

impl Prot {
    pub const NONE: Prot = Prot(0);
    pub const READ: Prot = Prot(1);
    pub const WRITE: Prot = Prot(2);
    pub const EXEC: Prot = Prot(4);
    pub const RW: Prot = Prot(3);
    pub const RX: Prot = Prot(5);

    pub fn read(self) -> bool {
        self.0 & 1 != 0
    }
    pub fn write(self) -> bool {
        self.0 & 2 != 0
    }
    pub fn exec(self) -> bool {
        self.0 & 4 != 0
    }
    /// Whether loads may read the area. On arm64 Linux PROT_WRITE and
    /// PROT_EXEC imply read access (there is no write-only page encoding,
    /// nor an execute-only one without FEAT_EPAN), so every protection but
    /// PROT_NONE is readable. The fault handler's check and the page-table
    /// encoding both use this one rule.
    pub fn readable(self) -> bool {
        self.0 & 7 != 0
    }
    /// `rwx` letters as in `/proc/self/maps` (without the sharing letter).
    pub fn letters(self) -> [u8; 3] {
        [
            if self.read() { b'r' } else { b'-' },
            if self.write() { b'w' } else { b'-' },
            if self.exec() { b'x' } else { b'-' },
        ]
    }
}

impl fmt::Debug for Prot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = self.letters();
        f.write_str(core::str::from_utf8(&l).unwrap_or("???"))
    }
}

/// One mapped area.
///
/// Invariants: `start < end`, both page aligned; `pgoff` is the backing's
/// page number that appears at `start`.
#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    /// MAP_SHARED: stores reach the backing and other mappers.
    pub shared: bool,
    /// `mprotect` may add PROT_WRITE (false for a shared mapping of a file
    /// opened read-only: Linux's VM_MAYWRITE).
    pub may_write: bool,
    pub backing: Arc<dyn Backing>,
    pub pgoff: u64,
    /// What `/proc/self/maps` shows in its last column (`[stack]`, `[heap]`, a path).
    pub name: Option<Arc<str>>,
}

impl Vma {
    /// Number of pages.
    pub fn pages(&self) -> u64 {
        (self.end - self.start) / PAGE_SIZE as u64
    }

    /// The backing's page number for address `va` inside this area.
    pub fn pgoff_of(&self, va: u64) -> u64 {
        self.pgoff + (va - self.start) / PAGE_SIZE as u64
    }

    fn can_merge_with(&self, next: &Vma) -> bool {
        self.end == next.start
            && self.prot == next.prot
            && self.shared == next.shared
            && self.may_write == next.may_write
            && !self.shared
            && self.backing.is_anonymous()
            && next.backing.is_anonymous()
            && Arc::ptr_eq(&self.backing, &next.backing)
            && self.name == next.name
    }

    /// The part of this area within `[start, end)`, with its page offset adjusted.
    fn slice(&self, start: u64, end: u64) -> Vma {
        let mut v = self.clone();
        v.pgoff = self.pgoff_of(start);
        v.start = start;
        v.end = end;
        v
    }
}

impl fmt::Debug for Vma {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#x}-{:#x} {:?}{} pgoff={:#x} {}",
            self.start,
            self.end,
            self.prot,
            if self.shared { 's' } else { 'p' },
            self.pgoff,
            self.backing.kind_name()
        )
    }
}

/// Most areas one address space may hold: Linux's default
/// `vm.max_map_count`. Past it, `mmap`, and a `munmap` or `mprotect` that
/// would split an area, fail with ENOMEM, as on Linux.
pub const MAX_AREAS: usize = 65_530;

/// No room for another area: the list holds [`MAX_AREAS`], or the kernel
/// has no memory left for the bookkeeping. The system call fails with
/// ENOMEM and the list is unchanged.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NoRoom;

impl From<NoRoom> for crate::errno::Errno {
    fn from(_: NoRoom) -> Self {
        crate::errno::Errno::ENOMEM
    }
}

/// A process's areas, sorted by start address.
///
/// Invariants: areas never overlap; the map's key is each area's `start`;
/// at most [`MAX_AREAS`] areas. Every change either completes or, when it
/// would need room there is not ([`NoRoom`]), leaves the list as it was.
#[derive(Clone, Default)]
pub struct VmaList {
    areas: BTreeMap<u64, Vma>,
}

impl VmaList {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The area containing `va`, in O(log n).
    pub fn find(&self, va: u64) -> Option<&Vma> {
        self.areas.range(..=va).next_back().map(|(_, v)| v).filter(|v| va < v.end)
    }

    /// Areas overlapping `[start, end)`, in order.
    pub fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma> {
        let first =
            self.areas.range(..=start).next_back().filter(|(_, v)| v.end > start).map(|(k, _)| *k).unwrap_or(start);
        self.areas.range(first..end).map(|(_, v)| v).filter(move |v| v.end > start && v.start < end)
    }

    /// Whether any area overlaps `[start, end)`.
    pub fn any_overlap(&self, start: u64, end: u64) -> bool {
        self.overlapping(start, end).next().is_some()
    }

    /// Whether `[start, end)` is completely covered by areas (no holes).
    pub fn fully_mapped(&self, start: u64, end: u64) -> bool {
        let mut cursor = start;
        for v in self.overlapping(start, end) {
            if v.start > cursor {
                return false;
            }
            cursor = v.end;
        }
        cursor >= end
    }

    /// All areas in order.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.areas.values()
    }

    /// Whether `more` areas can be added.
    pub fn ensure_room(&self, more: usize) -> Result<(), NoRoom> {
        if more == 0 || (self.areas.len() + more <= MAX_AREAS && super::kernel_has_room()) {
            Ok(())
        } else {
            Err(NoRoom)
        }
    }

    /// Inserts `vma`, which must not overlap any area (callers unmap first),
    /// then merges it with compatible neighbours.
    pub fn insert(&mut self, vma: Vma) -> Result<(), NoRoom> {
        debug_assert!(vma.start < vma.end);
        assert!(!self.any_overlap(vma.start, vma.end), "VMA overlap: {vma:?}");
        self.ensure_room(1)?;
        let start = vma.start;
        self.areas.insert(start, vma);
        self.merge_around(start);
        Ok(())
    }

    fn merge_around(&mut self, start: u64) {
        // Merge with the next area.
        let Some(cur) = self.areas.get(&start) else { return };
        let end = cur.end;
        if self.areas.get(&end).is_some_and(|next| cur.can_merge_with(next) && next.pgoff == cur.pgoff_of(end)) {
            if let Some(next) = self.areas.remove(&end) {
                if let Some(cur) = self.areas.get_mut(&start) {
                    cur.end = next.end;
                }
            }
        }
        // Merge with the previous area.
        let Some(cur) = self.areas.get(&start) else { return };
        let Some((&pstart, prev)) = self.areas.range(..start).next_back() else { return };
        if prev.can_merge_with(cur) && cur.pgoff == prev.pgoff_of(prev.end) {
            if let Some(cur) = self.areas.remove(&start) {
                if let Some(prev) = self.areas.get_mut(&pstart) {
                    prev.end = cur.end;
                }
            }
        }
    }

    /// Splits areas so that `addr` is an area boundary (if inside one).
    fn split_at(&mut self, addr: u64) {
        let Some(v) = self.find(addr).cloned() else { return };
        if v.start == addr {
            return;
        }
        let (left, right) = (v.slice(v.start, addr), v.slice(addr, v.end));
        self.areas.insert(left.start, left);
        self.areas.insert(right.start, right);
    }

    /// Splits the areas cut by `start` and `end`, if there is room for the
    /// new pieces (all of them, or none is made).
    fn split_edges(&mut self, start: u64, end: u64) -> Result<(), NoRoom> {
        let cuts = [start, end].iter().filter(|&&a| self.find(a).is_some_and(|v| v.start != a)).count();
        self.ensure_room(cuts)?;
        self.split_at(start);
        self.split_at(end);
        Ok(())
    }

    /// The first area starting in `[start, end)`.
    fn first_key_in(&self, start: u64, end: u64) -> Option<u64> {
        self.areas.range(start..end).next().map(|(&k, _)| k)
    }

    /// Removes `[start, end)` from every area it touches (splitting as
    /// needed) and hands each removed piece, in order, to `removed`.
    /// Removing whole areas always succeeds; cutting one in two needs room.
    pub fn remove_range(&mut self, start: u64, end: u64, mut removed: impl FnMut(Vma)) -> Result<(), NoRoom> {
        self.split_edges(start, end)?;
        while let Some(k) = self.first_key_in(start, end) {
            if let Some(v) = self.areas.remove(&k) {
                removed(v);
            }
        }
        Ok(())
    }

    /// Removes every area, handing each to `removed` (process exit).
    pub fn remove_all(&mut self, mut removed: impl FnMut(Vma)) {
        while let Some((_, v)) = self.areas.pop_first() {
            removed(v);
        }
    }

    /// Sets the protection of `[start, end)` (which must be fully mapped),
    /// splitting areas at the edges, then merges what can merge.
    pub fn protect_range(&mut self, start: u64, end: u64, prot: Prot) -> Result<(), NoRoom> {
        self.split_edges(start, end)?;
        let mut cursor = start;
        while let Some(k) = self.first_key_in(cursor, end) {
            let Some(v) = self.areas.get_mut(&k) else { break };
            v.prot = prot;
            cursor = v.end;
        }
        // Merging only ever removes areas: walk back from the end.
        let mut cursor = end;
        while let Some((&k, _)) = self.areas.range(start..cursor).next_back() {
            self.merge_around(k);
            cursor = k;
        }
        if let Some((&k, _)) = self.areas.range(end..).next() {
            self.merge_around(k);
        }
        Ok(())
    }

    /// Finds the highest free gap of `len` bytes (plus `align` alignment of
    /// its start, a power of two ≥ a page) that ends at or below `top` and
    /// starts at or above `bottom`.
    pub fn find_gap_top_down(&self, len: u64, align: u64, bottom: u64, top: u64) -> Option<u64> {
        let mut hole_end = top;
        let fits = |hole_start: u64, hole_end: u64| -> Option<u64> {
            let s = hole_end.checked_sub(len)? & !(align - 1);
            (s >= hole_start.max(bottom)).then_some(s)
        };
        for v in self.areas.values().rev() {
            if v.start >= top {
                continue;
            }
            if v.end <= hole_end {
                if let Some(s) = fits(v.end, hole_end) {
                    return Some(s);
                }
            }
            hole_end = hole_end.min(v.start);
            if hole_end <= bottom {
                return None;
            }
        }
        fits(bottom, hole_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::backing::ZeroFill;
    use crate::mm::test_hooks::OUT_OF_MEMORY;

    const P: u64 = PAGE_SIZE as u64;

    fn anon(start: u64, end: u64, prot: Prot, zf: &Arc<dyn Backing>) -> Vma {
        Vma { start, end, prot, shared: false, may_write: true, backing: zf.clone(), pgoff: start / P, name: None }
    }

    fn ranges(l: &VmaList) -> Vec<(u64, u64, Prot)> {
        l.iter().map(|v| (v.start, v.end, v.prot)).collect()
    }

    #[test]
    fn find_and_overlap() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        l.insert(anon(0x1000, 0x3000, Prot::RW, &zf)).unwrap();
        l.insert(anon(0x5000, 0x6000, Prot::READ, &zf)).unwrap();
        assert!(l.find(0xfff).is_none());
        assert_eq!(l.find(0x2fff).unwrap().start, 0x1000);
        assert!(l.find(0x3000).is_none());
        assert_eq!(l.find(0x5000).unwrap().prot, Prot::READ);
        assert!(l.any_overlap(0x2000, 0x5001));
        assert!(!l.any_overlap(0x3000, 0x5000));
        assert!(l.fully_mapped(0x1000, 0x3000));
        assert!(!l.fully_mapped(0x1000, 0x6000));
    }

    #[test]
    fn adjacent_anonymous_areas_merge() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        l.insert(anon(0x1000, 0x2000, Prot::RW, &zf)).unwrap();
        l.insert(anon(0x3000, 0x4000, Prot::RW, &zf)).unwrap();
        l.insert(anon(0x2000, 0x3000, Prot::RW, &zf)).unwrap();
        assert_eq!(ranges(&l), [(0x1000, 0x4000, Prot::RW)]);
        l.insert(anon(0x4000, 0x5000, Prot::READ, &zf)).unwrap();
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn munmap_middle_leaves_two_areas() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        l.insert(anon(0x10000, 0x20000, Prot::RW, &zf)).unwrap();
        let mut removed = Vec::new();
        l.remove_range(0x14000, 0x18000, |v| removed.push(v)).unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!((removed[0].start, removed[0].end, removed[0].pgoff), (0x14000, 0x18000, 0x14));
        assert_eq!(ranges(&l), [(0x10000, 0x14000, Prot::RW), (0x18000, 0x20000, Prot::RW)]);
        assert_eq!(l.find(0x18000).unwrap().pgoff, 0x18);
        // Removing a hole is fine.
        l.remove_range(0x14000, 0x18000, |_| panic!("nothing to remove")).unwrap();
    }

    #[test]
    fn mprotect_splits_and_merges_back() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        l.insert(anon(0x10000, 0x20000, Prot::RW, &zf)).unwrap();
        l.protect_range(0x12000, 0x13000, Prot::READ).unwrap();
        assert_eq!(
            ranges(&l),
            [(0x10000, 0x12000, Prot::RW), (0x12000, 0x13000, Prot::READ), (0x13000, 0x20000, Prot::RW)]
        );
        l.protect_range(0x12000, 0x13000, Prot::RW).unwrap();
        assert_eq!(ranges(&l), [(0x10000, 0x20000, Prot::RW)]);
    }

    #[test]
    fn gaps_top_down() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        assert_eq!(l.find_gap_top_down(0x2000, P, 0x1000, 0x100000), Some(0xfe000));
        l.insert(anon(0xf0000, 0x100000, Prot::RW, &zf)).unwrap();
        assert_eq!(l.find_gap_top_down(0x2000, P, 0x1000, 0x100000), Some(0xee000));
        assert_eq!(l.find_gap_top_down(0x20_0000, 0x20_0000, 0x1000, 0x100000), None);
        assert_eq!(l.find_gap_top_down(0x1_0000, 0x1_0000, 0x1000, 0x100000), Some(0xe0000));
        l.insert(anon(0x1000, 0xf0000, Prot::READ, &zf)).unwrap();
        assert_eq!(l.find_gap_top_down(P, P, 0x1000, 0x100000), None);
    }

    fn snapshot(l: &VmaList) -> Vec<(u64, u64, Prot, u64)> {
        l.iter().map(|v| (v.start, v.end, v.prot, v.pgoff)).collect()
    }

    #[test]
    fn without_room_nothing_changes_but_whole_areas_still_go() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        l.insert(anon(0x10000, 0x20000, Prot::RW, &zf)).unwrap();
        l.insert(anon(0x30000, 0x40000, Prot::READ, &zf)).unwrap();
        let before = snapshot(&l);
        OUT_OF_MEMORY.with(|f| f.set(true));
        assert_eq!(l.insert(anon(0x50000, 0x60000, Prot::RW, &zf)), Err(NoRoom));
        assert_eq!(l.remove_range(0x14000, 0x18000, |_| panic!("removed while failing")), Err(NoRoom));
        assert_eq!(l.protect_range(0x12000, 0x13000, Prot::READ), Err(NoRoom));
        assert_eq!(l.protect_range(0x11000, 0x35000, Prot::NONE), Err(NoRoom), "one cut is one too many");
        assert_eq!(snapshot(&l), before);
        // Whole areas need no new bookkeeping: munmap and mprotect of them work.
        l.protect_range(0x30000, 0x40000, Prot::RW).unwrap();
        let mut gone = 0;
        l.remove_range(0x10000, 0x20000, |_| gone += 1).unwrap();
        assert_eq!(gone, 1);
        assert_eq!(ranges(&l), [(0x30000, 0x40000, Prot::RW)]);
        OUT_OF_MEMORY.with(|f| f.set(false));
    }

    #[test]
    fn at_most_max_areas() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        // Alternating protections keep neighbours from merging.
        let prot = |i: u64| if i.is_multiple_of(2) { Prot::READ } else { Prot::RW };
        for i in 0..MAX_AREAS as u64 {
            l.insert(anon(0x10000 + i * P, 0x10000 + (i + 1) * P, prot(i), &zf)).unwrap();
        }
        assert_eq!(l.len(), MAX_AREAS);
        let next = 0x10000 + MAX_AREAS as u64 * P;
        assert_eq!(l.insert(anon(next + P, next + 2 * P, Prot::RW, &zf)), Err(NoRoom));
        // Removing one makes room for one.
        assert_eq!(l.remove_range(0x10000, 0x10000 + P, |_| {}), Ok(()));
        assert_eq!(l.len(), MAX_AREAS - 1);
        l.insert(anon(next + P, next + 2 * P, Prot::RW, &zf)).unwrap();
    }
}
