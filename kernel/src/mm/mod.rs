//! Memory management: addresses, physical frames, page tables.
//!
//! Everything in here except the modules marked target-only compiles on the
//! host and is unit-tested there (`cargo test -p kernel`).

pub mod addr;
pub mod asid;
pub mod backing;
pub mod frame;
pub mod madvise_args;
pub mod paging;
pub mod physmap;
pub mod spurious;
pub mod vma;

/// Whether the kernel can afford more objects a user could multiply (areas,
/// files, page-cache slots, processes): the kernel heap's headroom (see
/// `heap.rs`). Always on the host, except where a test says otherwise.
pub fn kernel_has_room() -> bool {
    #[cfg(target_os = "none")]
    return heap::has_headroom();
    #[cfg(all(not(target_os = "none"), test))]
    return !test_hooks::OUT_OF_MEMORY.with(|f| f.get());
    #[cfg(all(not(target_os = "none"), not(test)))]
    return true;
}

/// The linear-map address of a physical address.
pub const fn phys_to_virt(pa: addr::PhysAddr) -> addr::VirtAddr {
    addr::VirtAddr(pa.0 + addr::LINEAR_MAP_BASE)
}

target_only! {
    pub mod address_space;
    pub mod fault;
    pub mod heap;
    pub mod kernel_space;
    pub mod madvise;
    pub mod mmap;
    pub mod msync;
    pub mod phys;
}
#[cfg(target_os = "none")]
pub use phys::{frame_counts, frames_init};

/// The physical address of a kernel-image virtual address.
#[cfg(target_os = "none")]
pub fn virt_to_phys_image(info: &crate::BootInfo, va: u64) -> u64 {
    info.image_pa + (va - addr::KIMAGE_BASE)
}

/// What host tests can change about the machine.
#[cfg(test)]
pub mod test_hooks {
    use std::cell::Cell;

    std::thread_local! {
        /// Makes [`kernel_has_room`](super::kernel_has_room) say no, as when
        /// the kernel heap is full (per test thread).
        pub static OUT_OF_MEMORY: Cell<bool> = const { Cell::new(false) };
    }
}
