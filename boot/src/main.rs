//! armmap's boot path: from QEMU's jump into the image to `kernel::kernel_main`.
//!
//! 1. `entry.S`: the arm64 Image header QEMU's loader looks for, interrupt
//!    masking, BSS zeroing, a stack, and the exception-level check.
//! 2. `el2.rs`: entered at EL2 (`-machine virt,virtualization=on`), configure
//!    what EL1 needs and drop to EL1, leaving a minimal EL2 vector table.
//! 3. `early_mmu.rs`: a tiny set of page tables (identity map + the kernel
//!    image + a coarse linear map) and the MMU switched on.
//! 4. `boot_high` (below): now at the linked virtual address; hand over to the
//!    kernel, which builds its real tables with `kernel::mm::paging`.
//!
//! Steps 1 to 3 run at the physical load address with the MMU off, so they
//! must not use absolute addresses (the image is linked in the upper half).
#![no_std]
#![no_main]

mod early_mmu;
mod el2;

core::arch::global_asm!(include_str!("entry.S"));

/// First Rust code at the kernel's virtual address (called by `entry.S`).
///
/// `dtb` is the device tree's physical address from x0 at entry, `entry_el`
/// the exception level QEMU started us at, `image_pa` where the image was loaded.
#[no_mangle]
extern "C" fn boot_high(dtb: u64, entry_el: u64, image_pa: u64) -> ! {
    kernel::kernel_main(kernel::BootInfo {
        dtb_pa: dtb,
        entry_el: entry_el as u8,
        image_pa,
        early_tables: early_mmu::early_tables(),
    })
}
