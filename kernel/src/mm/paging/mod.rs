//! Page tables: the AArch64 VMSAv8-64 translation tables with a 4 KiB
//! granule, 48-bit virtual addresses and four levels.
//!
//! A virtual address is cut into four 9-bit table indices and a 12-bit page
//! offset:
//!
//! ```text
//!  47      39 38      30 29      21 20      12 11         0
//! +----------+----------+----------+----------+------------+
//! | L0 index | L1 index | L2 index | L3 index | page offset|
//! +----------+----------+----------+----------+------------+
//! ```
//!
//! Each table is one 4 KiB frame of 512 eight-byte *descriptors*. A
//! descriptor is invalid (bit 0 clear), points to the next level's table, or
//! is a *leaf* that ends the walk: a 4 KiB **page** at level 3, or a
//! **block** at a higher level: 2 MiB at level 2 and 1 GiB at level 1. A
//! block maps a large aligned range with one descriptor and one TLB entry.
//!
//! The code is split so the walker does not know the bit layout of a
//! descriptor:
//!
//! - [`DescriptorFormat`] (this file) encodes and decodes descriptors; the
//!   stage-1 format of the EL1&0 regime is in [`stage1`]. A stage-2 format
//!   for a hypervisor would be a second implementation;
//! - [`PageTable`] (`table.rs`) walks, builds, splits and frees tables;
//! - [`PagingContext`] (`context.rs`) is everything the walker needs from
//!   the machine: reaching a physical frame, getting and returning table
//!   frames, and TLB maintenance;
//! - `gather.rs` batches TLB invalidations and defers frees until the TLB
//!   can no longer reach what is freed.

mod context;
pub(crate) mod gather;
pub mod stage1;
mod table;

#[cfg(test)]
mod model_test;
#[cfg(test)]
pub(crate) mod sim;

pub use context::{PagingContext, PhysAccess};
pub use table::{MapError, MapStats, PageTable};

use super::addr::PhysAddr;
use core::fmt::Debug;

/// Descriptors per table (4 KiB / 8 bytes).
pub const ENTRIES: usize = 512;
/// Number of levels; they are numbered 0 (the root) to 3 (the pages).
pub const LEVELS: usize = 4;
/// The last level, whose leaves are pages.
pub const LAST_LEVEL: usize = LEVELS - 1;
/// Bits of virtual address one table tree translates.
pub const VA_BITS: u32 = 48;
/// Size of the virtual range one table tree translates (256 TiB).
pub const VA_SPACE: u64 = 1 << VA_BITS;

/// log2 of the size of the range one descriptor at `level` covers:
/// 39 (512 GiB), 30 (1 GiB), 21 (2 MiB), 12 (4 KiB).
pub const fn level_shift(level: usize) -> u32 {
    12 + 9 * (LAST_LEVEL - level) as u32
}

/// Size of the range one descriptor at `level` covers.
pub const fn level_size(level: usize) -> u64 {
    1 << level_shift(level)
}

/// Index into a level-`level` table of the (48-bit) virtual address `va`.
pub const fn table_index(va: u64, level: usize) -> usize {
    ((va >> level_shift(level)) as usize) & (ENTRIES - 1)
}

/// The value of an invalid descriptor. Every format writes this (all zero)
/// to remove an entry; tables come from the context zeroed.
pub const INVALID: u64 = 0;

/// A descriptor after decoding.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Descriptor<A> {
    /// Translation fault: nothing mapped here.
    Invalid,
    /// Points to the next level's table.
    Table(PhysAddr),
    /// A block (levels 1-2) or page (level 3) mapping `pa` with `attrs`.
    Leaf { pa: PhysAddr, attrs: A },
}

/// How descriptors of one translation regime are laid out.
///
/// The walker only ever stores values produced by [`table`](Self::table),
/// [`leaf`](Self::leaf) or [`INVALID`], and reads them back with
/// [`decode`](Self::decode).
///
/// Contract: level 3 allows leaves, and if level `l` allows leaves so does
/// `l + 1` (the walker splits a block into leaves one level down).
/// `decode(level, leaf(level, pa, a))` must give back `pa` and attributes
/// equal to `a` up to normalisation (see the format's attribute type).
pub trait DescriptorFormat {
    /// The attributes of a mapping: access permissions, memory type, ...
    type Attrs: Copy + PartialEq + Debug;

    /// Whether a leaf (block or page) may be placed at `level`.
    fn leaf_allowed(level: usize) -> bool;

    /// A descriptor pointing to the next-level table at `next`.
    fn table(next: PhysAddr) -> u64;

    /// A leaf descriptor at `level` mapping `pa` (aligned to
    /// [`level_size`]`(level)`) with `attrs`.
    fn leaf(level: usize, pa: PhysAddr, attrs: Self::Attrs) -> u64;

    /// Decodes a descriptor read from a level-`level` table. Reserved
    /// encodings decode as [`Descriptor::Invalid`] (the hardware faults on
    /// them too).
    fn decode(level: usize, desc: u64) -> Descriptor<Self::Attrs>;

    /// Whether changing a live leaf's attributes from `old` to `new` needs
    /// break-before-make (for example a change of memory type or
    /// shareability), rather than an in-place write followed by a TLB
    /// invalidation (enough for permission changes).
    fn needs_break_before_make(old: &Self::Attrs, new: &Self::Attrs) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry() {
        assert_eq!(level_size(0), 512 << 30);
        assert_eq!(level_size(1), 1 << 30);
        assert_eq!(level_size(2), 2 << 20);
        assert_eq!(level_size(3), 4096);
        let va = 0x0000_7f12_3456_7000u64;
        assert_eq!(table_index(va, 0), (va >> 39) as usize & 511);
        assert_eq!(table_index(va, 3), (va >> 12) as usize & 511);
        // Upper-half (TTBR1) addresses use the same indices as their low 48 bits.
        assert_eq!(table_index(0xffff_ffff_8000_0000, 0), 511);
        assert_eq!(table_index(0xffff_ffff_8000_0000, 1), 510);
    }
}
