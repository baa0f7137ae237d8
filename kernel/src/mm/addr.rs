//! Physical and virtual addresses, pages and the kernel's virtual memory layout.
//!
//! Two newtypes keep the two address spaces apart: a `PhysAddr` is what the
//! MMU puts on the bus, a `VirtAddr` is what code uses. The kernel reaches any
//! physical frame through the *linear map*: `virt = phys + LINEAR_MAP_BASE`.
//!
//! Virtual layout with 4 KiB pages and 48-bit addresses (TTBR1 holds the upper
//! half, TTBR0 the lower half, which belongs to the running user process):
//!
//! | range                                       | what                          |
//! |---------------------------------------------|-------------------------------|
//! | `0x0000_0000_0000_0000..0x0001_0000_0000_0000` | user (TTBR0, per process)  |
//! | `0xffff_0000_0000_0000..0xffff_8000_0000_0000` | linear map of RAM and MMIO |
//! | `0xffff_8000_0000_0000..0xffff_8040_0000_0000` | kernel heap (grows on demand) |
//! | `0xffff_ffff_8000_0000..`                      | kernel image (text, rodata, data, bss, stacks) |

use core::fmt;
use core::ops::{Add, Sub};

/// Size of a base page and of a physical frame.
pub const PAGE_SIZE: usize = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;
/// Size of a level-2 block.
pub const BLOCK_2M: usize = 2 << 20;
/// Size of a level-1 block.
pub const BLOCK_1G: usize = 1 << 30;

/// Start of the linear map of physical memory in the kernel half.
pub const LINEAR_MAP_BASE: u64 = 0xffff_0000_0000_0000;
/// Physical addresses reachable through the linear map (the lower half of TTBR1's range).
pub const LINEAR_MAP_SIZE: u64 = 0x0000_8000_0000_0000;
/// Virtual address the kernel image is linked at (see `linker.ld`).
pub const KIMAGE_BASE: u64 = 0xffff_ffff_8000_0000;
/// First address above user space (48-bit TTBR0 range).
pub const USER_END: u64 = 0x0001_0000_0000_0000;

/// A physical address.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct PhysAddr(pub u64);

/// A virtual address.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct VirtAddr(pub u64);

macro_rules! addr_common {
    ($t:ident, $name:literal) => {
        impl $t {
            /// The raw address.
            pub const fn as_u64(self) -> u64 {
                self.0
            }
            /// The raw address as `usize`.
            pub const fn as_usize(self) -> usize {
                self.0 as usize
            }
            /// Rounds down to a multiple of `align` (a power of two).
            pub const fn align_down(self, align: usize) -> Self {
                Self(self.0 & !(align as u64 - 1))
            }
            /// Rounds up to a multiple of `align` (a power of two).
            pub const fn align_up(self, align: usize) -> Self {
                Self((self.0 + align as u64 - 1) & !(align as u64 - 1))
            }
            /// Whether the address is a multiple of `align` (a power of two).
            pub const fn is_aligned(self, align: usize) -> bool {
                self.0 & (align as u64 - 1) == 0
            }
            /// Offset within its 4 KiB page.
            pub const fn page_offset(self) -> usize {
                (self.0 as usize) & (PAGE_SIZE - 1)
            }
        }
        impl Add<usize> for $t {
            type Output = Self;
            fn add(self, rhs: usize) -> Self {
                Self(self.0 + rhs as u64)
            }
        }
        impl Sub<$t> for $t {
            type Output = usize;
            fn sub(self, rhs: $t) -> usize {
                (self.0 - rhs.0) as usize
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($name, "({:#x})"), self.0)
            }
        }
        impl fmt::LowerHex for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
    };
}
addr_common!(PhysAddr, "PA");
addr_common!(VirtAddr, "VA");

impl PhysAddr {
    /// Frame number (address / 4 KiB).
    pub const fn pfn(self) -> u64 {
        self.0 >> PAGE_SHIFT
    }
    /// The address of frame number `pfn`.
    pub const fn from_pfn(pfn: u64) -> Self {
        Self(pfn << PAGE_SHIFT)
    }
}

impl VirtAddr {
    /// Page number (address / 4 KiB).
    pub const fn vpn(self) -> u64 {
        self.0 >> PAGE_SHIFT
    }
    /// Whether the address lies in the user (TTBR0) half.
    pub const fn is_user(self) -> bool {
        self.0 < USER_END
    }
}

/// Rounds `n` up to a multiple of [`PAGE_SIZE`], or `None` on overflow.
pub const fn page_round_up(n: u64) -> Option<u64> {
    match n.checked_add(PAGE_SIZE as u64 - 1) {
        Some(v) => Some(v & !(PAGE_SIZE as u64 - 1)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment() {
        assert_eq!(VirtAddr(0x1234).align_down(PAGE_SIZE), VirtAddr(0x1000));
        assert_eq!(VirtAddr(0x1234).align_up(PAGE_SIZE), VirtAddr(0x2000));
        assert!(PhysAddr(0x4020_0000).is_aligned(BLOCK_2M));
        assert!(!PhysAddr(0x4020_1000).is_aligned(BLOCK_2M));
        assert_eq!(page_round_up(1), Some(4096));
        assert_eq!(page_round_up(u64::MAX), None);
        assert_eq!(PhysAddr::from_pfn(PhysAddr(0x4000_1000).pfn()), PhysAddr(0x4000_1000));
    }
}
