//! The armmap kernel: everything after the boot path hands over.
//!
//! `kernel_main` brings the machine up in this order: exception vectors,
//! the device tree, the physical memory map and frame allocator, the
//! kernel's own page tables, the console and log, interrupts and the timer;
//! then it runs the in-kernel tests (`ktest` on the command line) or the
//! first user program.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

/// Declares modules that exist only on the bare-metal target (they touch
/// system registers, the linear map or the devices); everything else also
/// builds on the host, where `cargo test -p kernel` unit-tests it.
macro_rules! target_only {
    ($($vis:vis mod $name:ident;)*) => {
        $(
            #[cfg(target_os = "none")]
            $vis mod $name;
        )*
    };
}

pub mod arch;
pub mod cmdline;
pub mod errno;
pub mod fs;
pub mod mm;
pub mod task;
pub mod vdso;

pub mod abi_layout;

target_only! {
    pub mod drivers;
    pub mod logger;
    pub mod platform;
    pub mod random;
    pub mod syscall;
    pub mod trap;
}

// These two define exported macros (`kprintln!`, `kcheck!`), which must not
// come from a macro expansion themselves.
#[cfg(target_os = "none")]
pub mod console;
#[cfg(target_os = "none")]
mod ktest;

#[cfg(target_os = "none")]
mod boot;
#[cfg(target_os = "none")]
pub use boot::kernel_main;

/// Where the boot path's temporary page tables are (kernel virtual addresses).
#[derive(Copy, Clone, Debug)]
pub struct EarlyTables {
    /// The identity map's level-0 table (in TTBR0).
    pub idmap_l0: u64,
    /// A level-0 table with no entries.
    pub empty_l0: u64,
}

/// What the boot path hands to [`kernel_main`].
#[derive(Copy, Clone, Debug)]
pub struct BootInfo {
    /// Physical address of the device tree blob (x0 at entry).
    pub dtb_pa: u64,
    /// Exception level QEMU entered the image at (1 or 2).
    pub entry_el: u8,
    /// Physical address the image was loaded at.
    pub image_pa: u64,
    pub early_tables: EarlyTables,
}
