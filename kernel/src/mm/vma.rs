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
use alloc::vec::Vec;
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

/// A process's areas, sorted by start address.
///
/// Invariant: areas never overlap; the map's key is each area's `start`.
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

    /// Inserts `vma`, which must not overlap any area (callers unmap first),
    /// then merges it with compatible neighbours.
    pub fn insert(&mut self, vma: Vma) {
        debug_assert!(vma.start < vma.end);
        assert!(!self.any_overlap(vma.start, vma.end), "VMA overlap: {vma:?}");
        let start = vma.start;
        self.areas.insert(start, vma);
        self.merge_around(start);
    }

    fn merge_around(&mut self, start: u64) {
        // Merge with the next area.
        let Some(cur) = self.areas.get(&start).cloned() else { return };
        if let Some(next) = self.areas.get(&cur.end) {
            if cur.can_merge_with(next) && next.pgoff == cur.pgoff_of(cur.end) {
                let next = self.areas.remove(&cur.end).unwrap();
                self.areas.get_mut(&start).unwrap().end = next.end;
            }
        }
        // Merge with the previous area.
        let cur = self.areas.get(&start).cloned().unwrap();
        if let Some((&pstart, prev)) = self.areas.range(..start).next_back() {
            if prev.can_merge_with(&cur) && cur.pgoff == prev.pgoff_of(prev.end) {
                self.areas.remove(&start);
                self.areas.get_mut(&pstart).unwrap().end = cur.end;
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

    /// Removes `[start, end)` from every area it touches (splitting as
    /// needed) and returns the removed pieces, in order.
    pub fn remove_range(&mut self, start: u64, end: u64) -> Vec<Vma> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.areas.range(start..end).map(|(k, _)| *k).collect();
        keys.into_iter().filter_map(|k| self.areas.remove(&k)).collect()
    }

    /// Sets the protection of `[start, end)` (which must be fully mapped),
    /// splitting areas at the edges; returns the affected pieces with their
    /// *old* protection, then merges what can merge.
    pub fn protect_range(&mut self, start: u64, end: u64, prot: Prot) -> Vec<Vma> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.areas.range(start..end).map(|(k, _)| *k).collect();
        let mut old = Vec::new();
        for k in &keys {
            let v = self.areas.get_mut(k).unwrap();
            old.push(v.clone());
            v.prot = prot;
        }
        for k in keys.iter().rev() {
            if self.areas.contains_key(k) {
                self.merge_around(*k);
            }
        }
        if let Some((&k, _)) = self.areas.range(end..).next() {
            self.merge_around(k);
        }
        old
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
        l.insert(anon(0x1000, 0x3000, Prot::RW, &zf));
        l.insert(anon(0x5000, 0x6000, Prot::READ, &zf));
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
        l.insert(anon(0x1000, 0x2000, Prot::RW, &zf));
        l.insert(anon(0x3000, 0x4000, Prot::RW, &zf));
        l.insert(anon(0x2000, 0x3000, Prot::RW, &zf));
        assert_eq!(ranges(&l), [(0x1000, 0x4000, Prot::RW)]);
        l.insert(anon(0x4000, 0x5000, Prot::READ, &zf));
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn munmap_middle_leaves_two_areas() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        l.insert(anon(0x10000, 0x20000, Prot::RW, &zf));
        let removed = l.remove_range(0x14000, 0x18000);
        assert_eq!(removed.len(), 1);
        assert_eq!((removed[0].start, removed[0].end, removed[0].pgoff), (0x14000, 0x18000, 0x14));
        assert_eq!(ranges(&l), [(0x10000, 0x14000, Prot::RW), (0x18000, 0x20000, Prot::RW)]);
        assert_eq!(l.find(0x18000).unwrap().pgoff, 0x18);
        // Removing a hole is fine.
        assert!(l.remove_range(0x14000, 0x18000).is_empty());
    }

    #[test]
    fn mprotect_splits_and_merges_back() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        l.insert(anon(0x10000, 0x20000, Prot::RW, &zf));
        let old = l.protect_range(0x12000, 0x13000, Prot::READ);
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].prot, Prot::RW);
        assert_eq!(l.len(), 3);
        l.protect_range(0x12000, 0x13000, Prot::RW);
        assert_eq!(ranges(&l), [(0x10000, 0x20000, Prot::RW)]);
    }

    #[test]
    fn gaps_top_down() {
        let zf: Arc<dyn Backing> = Arc::new(ZeroFill);
        let mut l = VmaList::new();
        assert_eq!(l.find_gap_top_down(0x2000, P, 0x1000, 0x100000), Some(0xfe000));
        l.insert(anon(0xf0000, 0x100000, Prot::RW, &zf));
        assert_eq!(l.find_gap_top_down(0x2000, P, 0x1000, 0x100000), Some(0xee000));
        assert_eq!(l.find_gap_top_down(0x20_0000, 0x20_0000, 0x1000, 0x100000), None);
        assert_eq!(l.find_gap_top_down(0x1_0000, 0x1_0000, 0x1000, 0x100000), Some(0xe0000));
        l.insert(anon(0x1000, 0xf0000, Prot::READ, &zf));
        assert_eq!(l.find_gap_top_down(P, P, 0x1000, 0x100000), None);
    }
}
