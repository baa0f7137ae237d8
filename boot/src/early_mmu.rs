//! The first page tables: just enough to turn the MMU on.
//!
//! The kernel is linked in the upper half (TTBR1) but QEMU loads it wherever
//! RAM is, so the first tables map:
//!
//! - **identity map** (TTBR0): the 1 GiB around the image at its own physical
//!   address, so the instruction after `SCTLR_EL1.M = 1` is still mapped;
//! - **kernel image** (TTBR1): `KIMAGE_BASE..+32 MiB` onto the load address,
//!   with 2 MiB blocks;
//! - **coarse linear map** (TTBR1): `LINEAR_MAP_BASE + pa` for pa in
//!   1 GiB..64 GiB with 1 GiB blocks, so the kernel can read the device tree
//!   and take frames for its real tables before it knows where RAM is.
//!
//! All of it is normal write-back memory, writable and executable at EL1:
//! the kernel replaces these tables with its own fine-grained ones (W^X,
//! device memory, exact RAM bounds) within a few milliseconds, then uses the
//! identity map one last time to swap TTBR1 safely.
//!
//! Runs with the MMU off at the physical load address: position-independent.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::*;
use kernel::mm::addr::{BLOCK_1G, BLOCK_2M, KIMAGE_BASE, LINEAR_MAP_BASE};
use kernel::mm::paging::stage1::{MAIR_INDEX_DEVICE, MAIR_INDEX_NORMAL, MAIR_INDEX_NORMAL_NC};
use kernel::EarlyTables;
use tock_registers::{register_bitfields, LocalRegisterCopy};

register_bitfields! {u64,
    /// The few stage-1 descriptor fields the early tables need (the full
    /// encoding lives in `kernel::mm::paging::stage1`).
    EARLY_DESC [
        VALID OFFSET(0) NUMBITS(1) [],
        /// 1 = table (levels 0-2), 0 = block.
        TABLE OFFSET(1) NUMBITS(1) [],
        ATTRINDX OFFSET(2) NUMBITS(3) [],
        /// Inner shareable.
        SH OFFSET(8) NUMBITS(2) [Inner = 0b11],
        AF OFFSET(10) NUMBITS(1) [],
        OUTPUT OFFSET(12) NUMBITS(36) [],
        UXN OFFSET(54) NUMBITS(1) []
    ]
}

const ENTRIES: usize = 512;
/// How much of the image the early tables map (the image must be smaller).
const IMAGE_WINDOW: usize = 32 << 20;
/// Physical range the coarse linear map covers, in 1 GiB blocks.
const LINEAR_FIRST_GIB: usize = 1;
const LINEAR_LAST_GIB: usize = 63;

#[repr(C, align(4096))]
struct Table([u64; ENTRIES]);

/// The early tables. In .bss, so zero when `entry.S` has run.
#[repr(C)]
struct Tables {
    idmap_l0: Table,
    idmap_l1: Table,
    high_l0: Table,
    linear_l1: Table,
    image_l1: Table,
    image_l2: Table,
    /// A level-0 table that maps nothing (used while swapping TTBR1).
    empty: Table,
}

static mut TABLES: Tables = Tables {
    idmap_l0: Table([0; ENTRIES]),
    idmap_l1: Table([0; ENTRIES]),
    high_l0: Table([0; ENTRIES]),
    linear_l1: Table([0; ENTRIES]),
    image_l1: Table([0; ENTRIES]),
    image_l2: Table([0; ENTRIES]),
    empty: Table([0; ENTRIES]),
};

fn table_desc(next: &Table) -> u64 {
    let d: LocalRegisterCopy<u64, EARLY_DESC::Register> = LocalRegisterCopy::new(0);
    let mut d = d;
    d.write(
        EARLY_DESC::VALID::SET + EARLY_DESC::TABLE::SET + EARLY_DESC::OUTPUT.val(next as *const Table as u64 >> 12),
    );
    d.get()
}

fn block_desc(pa: u64) -> u64 {
    let mut d: LocalRegisterCopy<u64, EARLY_DESC::Register> = LocalRegisterCopy::new(0);
    d.write(
        EARLY_DESC::VALID::SET
            + EARLY_DESC::ATTRINDX.val(MAIR_INDEX_NORMAL)
            + EARLY_DESC::SH::Inner
            + EARLY_DESC::AF::SET
            + EARLY_DESC::UXN::SET
            + EARLY_DESC::OUTPUT.val(pa >> 12),
    );
    d.get()
}

/// Programs MAIR/TCR with the attributes and layout the whole kernel uses.
const _: () = assert!(MAIR_INDEX_NORMAL == 0 && MAIR_INDEX_NORMAL_NC == 1 && MAIR_INDEX_DEVICE == 2);

fn configure_translation() {
    MAIR_EL1.write(
        // Index MAIR_INDEX_NORMAL: normal memory, write-back, read/write-allocate.
        MAIR_EL1::Attr0_Normal_Outer::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr0_Normal_Inner::WriteBack_NonTransient_ReadWriteAlloc
            // Index MAIR_INDEX_NORMAL_NC: normal non-cacheable (write-combine).
            + MAIR_EL1::Attr1_Normal_Outer::NonCacheable
            + MAIR_EL1::Attr1_Normal_Inner::NonCacheable
            // Index MAIR_INDEX_DEVICE: Device-nGnRE for MMIO.
            + MAIR_EL1::Attr2_Device::nonGathering_nonReordering_EarlyWriteAck,
    );

    // Output size: what the CPU supports, at most 48 bits.
    let pa_range = ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::PARange).min(0b101);
    let asid16 = ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::ASIDBits) == 0b0010;
    TCR_EL1.write(
        TCR_EL1::IPS.val(pa_range)
            + if asid16 { TCR_EL1::AS::ASID16Bits } else { TCR_EL1::AS::ASID8Bits }
            + TCR_EL1::A1::TTBR0
            + TCR_EL1::TG0::KiB_4
            + TCR_EL1::SH0::Inner
            + TCR_EL1::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::T0SZ.val(16)
            + TCR_EL1::TG1::KiB_4
            + TCR_EL1::SH1::Inner
            + TCR_EL1::ORGN1::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::IRGN1::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::T1SZ.val(16),
    );
}

/// Builds the early tables for an image loaded at `image_pa` and turns the
/// MMU on. Returns to the caller at its physical address (identity mapped).
///
/// # Safety
/// Called once from `entry.S`, at EL1 with the MMU off and .bss zeroed.
#[no_mangle]
unsafe extern "C" fn boot_enable_mmu(image_pa: u64) {
    // SAFETY: single-threaded early boot; nothing else references TABLES yet.
    let t = unsafe { &mut *core::ptr::addr_of_mut!(TABLES) };

    // Identity map of the 1 GiB that holds the image.
    let gib = image_pa as usize / BLOCK_1G;
    t.idmap_l0.0[(image_pa >> 39) as usize & 511] = table_desc(&t.idmap_l1);
    t.idmap_l1.0[gib & 511] = block_desc((gib * BLOCK_1G) as u64) & !EARLY_DESC::UXN::SET.value;

    // TTBR1: level-0 slot 0 = linear map, slot 511 = kernel image.
    let l0 = |va: u64| (va >> 39) as usize & 511;
    let l1 = |va: u64| (va >> 30) as usize & 511;
    let l2 = |va: u64| (va >> 21) as usize & 511;
    t.high_l0.0[l0(LINEAR_MAP_BASE)] = table_desc(&t.linear_l1);
    for g in LINEAR_FIRST_GIB..=LINEAR_LAST_GIB {
        t.linear_l1.0[g] = block_desc((g * BLOCK_1G) as u64);
    }
    t.high_l0.0[l0(KIMAGE_BASE)] = table_desc(&t.image_l1);
    t.image_l1.0[l1(KIMAGE_BASE)] = table_desc(&t.image_l2);
    for i in 0..IMAGE_WINDOW / BLOCK_2M {
        // Executable at EL1 (the image's text is in here).
        t.image_l2.0[l2(KIMAGE_BASE) + i] = block_desc(image_pa + (i * BLOCK_2M) as u64) & !EARLY_DESC::UXN::SET.value;
    }

    configure_translation();
    TTBR0_EL1.set_baddr(&t.idmap_l0 as *const Table as u64);
    TTBR1_EL1.set_baddr(&t.high_l0 as *const Table as u64);
    barrier::dsb(barrier::ISHST);
    // SAFETY: TLB maintenance before the MMU is on has no effect on memory safety.
    unsafe { core::arch::asm!("tlbi vmalle1", options(nostack)) };
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
    SCTLR_EL1.modify(SCTLR_EL1::M::Enable + SCTLR_EL1::C::Cacheable + SCTLR_EL1::I::Cacheable);
    barrier::isb(barrier::SY);
}

/// Where the early tables are, for the kernel to retire them (virtual
/// addresses now that the MMU is on).
pub fn early_tables() -> EarlyTables {
    let t = core::ptr::addr_of!(TABLES);
    // SAFETY: as above, field addresses only.
    let (idmap, empty) = unsafe { (core::ptr::addr_of!((*t).idmap_l0), core::ptr::addr_of!((*t).empty)) };
    EarlyTables { idmap_l0: idmap as u64, empty_l0: empty as u64 }
}
