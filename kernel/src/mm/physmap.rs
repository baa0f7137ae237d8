//! The physical memory map: where RAM is and which parts of it are taken
//! before the frame allocator exists (kernel image, device tree, initramfs,
//! the reserved device buffer, the allocator's own metadata).
//!
//! Boot fills it from the device tree, carves the early reservations out of
//! it with [`PhysMap::carve`], prints it as the boot banner's memory map, and
//! finally hands every page that is RAM and not reserved to the frame
//! allocator ([`PhysMap::free_ranges`]).

use super::addr::{PhysAddr, PAGE_SIZE};
use alloc::vec::Vec;
use core::ops::Range;

/// A reserved physical range with the name the banner shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reserved {
    pub name: &'static str,
    pub range: Range<u64>,
}

/// RAM and the ranges reserved inside it.
///
/// Invariant: `reserved` ranges are page aligned (rounded outwards) and lie
/// inside `ram`; they may overlap each other.
#[derive(Clone, Debug, Default)]
pub struct PhysMap {
    pub ram: Range<u64>,
    pub reserved: Vec<Reserved>,
}

impl PhysMap {
    /// A map of one RAM range with nothing reserved yet.
    pub fn new(ram: Range<u64>) -> Self {
        Self { ram, reserved: Vec::new() }
    }

    /// Reserves `range` (rounded out to pages and clipped to RAM).
    pub fn reserve(&mut self, name: &'static str, range: Range<u64>) {
        let page = PAGE_SIZE as u64;
        let start = (range.start & !(page - 1)).max(self.ram.start);
        let end = range.end.div_ceil(page).saturating_mul(page).min(self.ram.end);
        if start < end {
            self.reserved.push(Reserved { name, range: start..end });
        }
    }

    /// The parts of RAM not reserved, in ascending order.
    pub fn free_ranges(&self) -> Vec<Range<u64>> {
        let mut taken: Vec<Range<u64>> = self.reserved.iter().map(|r| r.range.clone()).collect();
        taken.sort_by_key(|r| r.start);
        let mut free = Vec::new();
        let mut cursor = self.ram.start;
        for r in taken {
            if r.start > cursor {
                free.push(cursor..r.start);
            }
            cursor = cursor.max(r.end);
        }
        if cursor < self.ram.end {
            free.push(cursor..self.ram.end);
        }
        free
    }

    /// Reserves `size` bytes aligned to `align` from the highest free part of
    /// RAM that fits, and returns its start.
    pub fn carve(&mut self, name: &'static str, size: u64, align: u64) -> Option<PhysAddr> {
        let size = size.div_ceil(PAGE_SIZE as u64) * PAGE_SIZE as u64;
        let found = self.free_ranges().into_iter().rev().find_map(|r| {
            let start = r.end.checked_sub(size)? & !(align - 1);
            (start >= r.start).then_some(start)
        })?;
        self.reserve(name, found..found + size);
        Some(PhysAddr(found))
    }

    /// Bytes of RAM not reserved.
    pub fn free_bytes(&self) -> u64 {
        self.free_ranges().iter().map(|r| r.end - r.start).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ranges_skip_reservations() {
        let mut m = PhysMap::new(0x4000_0000..0x4800_0000);
        m.reserve("kernel", 0x4020_0000..0x4040_0123);
        m.reserve("dtb", 0x4400_0000..0x4400_1000);
        m.reserve("overlap", 0x4030_0000..0x4041_0000);
        assert_eq!(m.free_ranges(), [0x4000_0000..0x4020_0000, 0x4041_0000..0x4400_0000, 0x4400_1000..0x4800_0000]);
        assert_eq!(m.free_bytes(), 0x800_0000 - 0x21_0000 - 0x1000);
    }

    #[test]
    fn carve_takes_from_the_top_with_alignment() {
        let mut m = PhysMap::new(0x4000_0000..0x4800_0000);
        m.reserve("dtb", 0x47f0_0000..0x4800_0000);
        let a = m.carve("memdev", 2 << 20, 2 << 20).unwrap();
        assert_eq!(a, PhysAddr(0x47c0_0000));
        let b = m.carve("meta", 0x1800, 4096).unwrap();
        // The gap left above the aligned block is used first.
        assert_eq!(b, PhysAddr(0x47ef_e000));
        assert!(m.carve("huge", 1 << 30, 4096).is_none());
    }

    #[test]
    fn reservations_are_clipped_to_ram() {
        let mut m = PhysMap::new(0x4000_0000..0x4100_0000);
        m.reserve("outside", 0..0x1000);
        m.reserve("straddle", 0x40ff_f800..0x4200_0000);
        assert_eq!(m.reserved.len(), 1);
        assert_eq!(m.reserved[0].range, 0x40ff_f000..0x4100_0000);
    }
}
