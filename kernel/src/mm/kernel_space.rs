//! The kernel's own address space (TTBR1): built at boot with the paging
//! code, replacing the boot path's early tables.
//!
//! | what                  | where                     | attributes                    |
//! |-----------------------|---------------------------|-------------------------------|
//! | kernel text           | `KIMAGE_BASE..__text_end`  | read + execute                |
//! | kernel rodata         | `..__rodata_end`           | read only, never executed     |
//! | data, bss, boot stack | `..__image_end`            | read + write, never executed  |
//! | RAM (linear map)      | `LINEAR_MAP_BASE + pa`     | read + write, never executed; the image's text and rodata read only |
//! | UART, GIC             | `LINEAR_MAP_BASE + pa`     | Device-nGnRE, never executed  |
//!
//! The kernel heap is a region of RAM reached through the linear map.
//!
//! No page is both writable and executable (W^X), not even through an alias:
//! the linear map's view of the kernel text is read-only.

use super::addr::{PhysAddr, VirtAddr, KIMAGE_BASE, PAGE_SIZE};
use super::paging::stage1::{PageAttrs, Stage1};
use super::paging::{MapError, MapStats, PageTable};
use super::phys::HwContext;
use super::physmap::PhysMap;
use super::{phys_to_virt, virt_to_phys_image};
use crate::arch::aarch64::mmu;
use crate::platform::{Gic, Platform};
use crate::BootInfo;
use spin::Mutex;

static KERNEL_TABLE: Mutex<Option<PageTable<Stage1>>> = Mutex::new(None);

extern "C" {
    static __text_end: u8;
    static __rodata_end: u8;
    static __image_end: u8;
    static idmap_replace_ttbr1: u8;
}

fn sym(s: &u8) -> u64 {
    s as *const u8 as u64
}

fn map(t: &mut PageTable<Stage1>, va: u64, pa: u64, len: u64, attrs: PageAttrs) -> Result<MapStats, &'static str> {
    let ctx = &mut HwContext::kernel();
    t.map(VirtAddr(va), PhysAddr(pa), len as usize, attrs, ctx).map_err(|e| match e {
        MapError::NoMemory => "out of memory building the kernel's page tables",
        MapError::AlreadyMapped(_) => "overlapping ranges in the kernel's page tables",
        MapError::InvalidRange => "a misaligned range in the kernel's page tables",
    })
}

/// Builds the kernel's tables and switches TTBR1 to them.
pub fn init(info: &BootInfo, plat: &Platform, _map: &PhysMap) -> Result<(), &'static str> {
    let ctx = &mut HwContext::kernel();
    let mut t = PageTable::<Stage1>::new(ctx).map_err(|_| "out of memory for the kernel's root table")?;
    // SAFETY: only symbol addresses are taken.
    let (text_end, rodata_end, image_end) = unsafe { (sym(&__text_end), sym(&__rodata_end), sym(&__image_end)) };
    let pa = |va: u64| info.image_pa + (va - KIMAGE_BASE);

    // The image, section by section.
    map(&mut t, KIMAGE_BASE, info.image_pa, text_end - KIMAGE_BASE, PageAttrs::kernel_text())?;
    map(&mut t, text_end, pa(text_end), rodata_end - text_end, PageAttrs::kernel_rodata())?;
    map(&mut t, rodata_end, pa(rodata_end), image_end - rodata_end, PageAttrs::kernel_data())?;

    // The linear map of RAM: read-only over the image's text and rodata.
    let (ro_start, ro_end) = (info.image_pa, pa(rodata_end));
    let lin = |p: u64| phys_to_virt(PhysAddr(p)).as_u64();
    let ram = plat.ram.clone();
    if ram.start < ro_start {
        map(&mut t, lin(ram.start), ram.start, ro_start - ram.start, PageAttrs::kernel_data())?;
    }
    map(&mut t, lin(ro_start), ro_start, ro_end - ro_start, PageAttrs::kernel_rodata())?;
    map(&mut t, lin(ro_end), ro_end, ram.end - ro_end, PageAttrs::kernel_data())?;

    // Devices.
    let page = |r: &core::ops::Range<u64>| {
        (r.start & !(PAGE_SIZE as u64 - 1), (r.end - r.start).next_multiple_of(PAGE_SIZE as u64))
    };
    let mut devices = alloc::vec![plat.uart.clone()];
    match &plat.gic {
        Gic::V2 { dist, cpu } => devices.extend([dist.clone(), cpu.clone()]),
        Gic::V3 { dist, redist } => devices.extend([dist.clone(), redist.clone()]),
    }
    for d in devices {
        let (start, len) = page(&d);
        map(&mut t, lin(start), start, len, PageAttrs::device())?;
    }

    // Switch: through the identity-mapped trampoline, then drop the identity map.
    // SAFETY: symbol address only.
    let trampoline_pa = virt_to_phys_image(info, unsafe { sym(&idmap_replace_ttbr1) });
    let empty = virt_to_phys_image(info, info.early_tables.empty_l0);
    // SAFETY: the new table maps the image, its stack and the linear map at
    // the same addresses as the early tables; the trampoline and the empty
    // table are what the boot path provides for exactly this.
    unsafe { mmu::replace_kernel_tables(t.root().as_u64(), empty, trampoline_pa) };
    mmu::clear_user_table(empty);
    *KERNEL_TABLE.lock() = Some(t);
    EMPTY_TABLE.call_once(|| empty);
    Ok(())
}

static EMPTY_TABLE: spin::Once<u64> = spin::Once::new();

/// A level-0 table that maps nothing (TTBR0 while no process runs).
pub fn empty_table() -> u64 {
    *EMPTY_TABLE.get().expect("kernel tables not built")
}

/// Logs what the kernel's tables map (boot banner).
pub fn log_layout() {
    let g = KERNEL_TABLE.lock();
    let Some(t) = g.as_ref() else { return };
    log::info!(
        "MMU on with the kernel's own tables (TTBR1 root {:#x}); boot tables and identity map retired",
        t.root().as_u64()
    );
    let (mut pages, mut b2m, mut b1g) = (0, 0, 0);
    t.for_each_leaf(
        VirtAddr(0xffff_0000_0000_0000),
        usize::MAX >> 16,
        &HwContext::kernel(),
        |_, _, size, _| match size {
            s if s == 1 << 30 => b1g += 1,
            s if s == 2 << 20 => b2m += 1,
            _ => pages += 1,
        },
    );
    log::info!("kernel tables: {b1g} x 1 GiB blocks, {b2m} x 2 MiB blocks, {pages} x 4 KiB pages; text RX, rodata R, data RW+XN");
}

/// Maps a range in the kernel's tables (in-kernel tests).
pub fn map_range(va: VirtAddr, pa: PhysAddr, len: usize, attrs: PageAttrs) -> Result<MapStats, MapError> {
    let mut g = KERNEL_TABLE.lock();
    g.as_mut().expect("kernel tables not built").map(va, pa, len, attrs, &mut HwContext::kernel())
}

/// Unmaps a range in the kernel's tables; reports each removed leaf.
pub fn unmap_range(va: VirtAddr, len: usize, on_leaf: impl FnMut(VirtAddr, PhysAddr, usize)) -> Result<(), MapError> {
    let mut g = KERNEL_TABLE.lock();
    g.as_mut().expect("kernel tables not built").unmap(va, len, &mut HwContext::kernel(), on_leaf)
}

/// Changes attributes of a range in the kernel's tables.
pub fn protect_range(va: VirtAddr, len: usize, attrs: PageAttrs) -> Result<(), MapError> {
    let mut g = KERNEL_TABLE.lock();
    g.as_mut().expect("kernel tables not built").protect(va, len, attrs, &mut HwContext::kernel())
}

/// Looks up a kernel virtual address: (physical address, attributes, leaf size).
pub fn translate(va: VirtAddr) -> Option<(PhysAddr, PageAttrs, usize)> {
    let g = KERNEL_TABLE.lock();
    g.as_ref()?.translate(va, &HwContext::kernel())
}
