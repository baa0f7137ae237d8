//! Page tables with the MMU on: aliases, blocks, unmapping, W^X, heap growth.

use super::{Test, TestResult};
use crate::arch::aarch64::exception::probe_read;
use crate::kcheck;
use crate::mm::addr::{PhysAddr, VirtAddr, BLOCK_2M, KIMAGE_BASE, PAGE_SIZE};
use crate::mm::kernel_space;
use crate::mm::paging::stage1::PageAttrs;
use crate::mm::phys::{alloc_frame, put_frame};
use crate::mm::phys_to_virt;
use alloc::format;

/// A window of kernel virtual space no one else uses, for test mappings.
const TEST_VA: u64 = 0xffff_9000_0000_0000;

pub const TESTS: &[Test] = &[
    Test { name: "paging::alias_two_virtual_addresses", run: alias },
    Test { name: "paging::unmapped_page_faults", run: unmap_faults },
    Test { name: "paging::block_mapping_2m", run: block_2m },
    Test { name: "paging::protect_read_only_then_back", run: protect },
    Test { name: "paging::kernel_image_is_w_xor_x", run: w_xor_x },
    Test { name: "paging::linear_map_uses_blocks", run: linear_blocks },
    Test { name: "heap::exhaustion_is_an_error", run: heap_exhaustion_is_an_error },
];

fn volatile_write(va: u64, v: u64) {
    // SAFETY: the tests only write to addresses they mapped writable.
    unsafe { (va as *mut u64).write_volatile(v) }
}

fn alias() -> TestResult {
    let pa = alloc_frame().ok_or("no frame")?;
    let (a, b) = (TEST_VA, TEST_VA + 0x10_0000);
    kernel_space::map_range(VirtAddr(a), pa, PAGE_SIZE, PageAttrs::kernel_data()).map_err(|e| format!("{e:?}"))?;
    kernel_space::map_range(VirtAddr(b), pa, PAGE_SIZE, PageAttrs::kernel_data()).map_err(|e| format!("{e:?}"))?;
    volatile_write(a + 8, 0xfeed_f00d);
    let seen = probe_read(b + 8);
    let linear = probe_read(phys_to_virt(pa).as_u64() + 8);
    kernel_space::unmap_range(VirtAddr(a), PAGE_SIZE, |_, _, _| {}).map_err(|e| format!("{e:?}"))?;
    kernel_space::unmap_range(VirtAddr(b), PAGE_SIZE, |_, _, _| {}).map_err(|e| format!("{e:?}"))?;
    put_frame(pa);
    kcheck!(seen == Some(0xfeed_f00d), "read {seen:x?} through the second alias");
    kcheck!(linear == Some(0xfeed_f00d), "read {linear:x?} through the linear map");
    Ok(())
}

fn unmap_faults() -> TestResult {
    let pa = alloc_frame().ok_or("no frame")?;
    kernel_space::map_range(VirtAddr(TEST_VA), pa, PAGE_SIZE, PageAttrs::kernel_data())
        .map_err(|e| format!("{e:?}"))?;
    let before = probe_read(TEST_VA);
    let mut removed = 0;
    kernel_space::unmap_range(VirtAddr(TEST_VA), PAGE_SIZE, |_, p, _| {
        removed += 1;
        assert_eq!(p, pa);
    })
    .map_err(|e| format!("{e:?}"))?;
    let after = probe_read(TEST_VA);
    put_frame(pa);
    kcheck!(before.is_some(), "the mapped page did not read");
    kcheck!(removed == 1, "{removed} leaves reported");
    kcheck!(after.is_none(), "the unmapped page still reads {after:x?} (stale TLB entry?)");
    kcheck!(kernel_space::translate(VirtAddr(TEST_VA)).is_none(), "translate still finds it");
    Ok(())
}

/// Maps 2 MiB of RAM at a 2 MiB-aligned VA: one block descriptor.
fn block_2m() -> TestResult {
    // The linear map of a 2 MiB-aligned physical range in RAM (read only here,
    // so it is safe to alias whatever lives there).
    let (some, _, _) = kernel_space::translate(VirtAddr(KIMAGE_BASE)).ok_or("image not mapped")?;
    let pa = PhysAddr(some.as_u64() & !(BLOCK_2M as u64 - 1));
    let stats = kernel_space::map_range(VirtAddr(TEST_VA), pa, BLOCK_2M, PageAttrs::kernel_rodata())
        .map_err(|e| format!("{e:?}"))?;
    let leaf = kernel_space::translate(VirtAddr(TEST_VA + 0x1_2340));
    let via_block = probe_read(TEST_VA + 0x3000);
    let via_linear = probe_read(phys_to_virt(pa).as_u64() + 0x3000);
    kernel_space::unmap_range(VirtAddr(TEST_VA), BLOCK_2M, |_, _, _| {}).map_err(|e| format!("{e:?}"))?;
    kcheck!(stats.blocks_2m() == 1 && stats.pages() == 0, "{stats:?}");
    kcheck!(leaf.map(|l| l.2) == Some(BLOCK_2M), "leaf {leaf:?}");
    kcheck!(via_block.is_some() && via_block == via_linear, "{via_block:x?} vs {via_linear:x?}");
    Ok(())
}

fn protect() -> TestResult {
    let pa = alloc_frame().ok_or("no frame")?;
    kernel_space::map_range(VirtAddr(TEST_VA), pa, PAGE_SIZE, PageAttrs::kernel_data())
        .map_err(|e| format!("{e:?}"))?;
    volatile_write(TEST_VA, 1);
    kernel_space::protect_range(VirtAddr(TEST_VA), PAGE_SIZE, PageAttrs::kernel_rodata())
        .map_err(|e| format!("{e:?}"))?;
    let ro = kernel_space::translate(VirtAddr(TEST_VA)).map(|t| t.1);
    kernel_space::protect_range(VirtAddr(TEST_VA), PAGE_SIZE, PageAttrs::kernel_data())
        .map_err(|e| format!("{e:?}"))?;
    volatile_write(TEST_VA, 2);
    let v = probe_read(TEST_VA);
    kernel_space::unmap_range(VirtAddr(TEST_VA), PAGE_SIZE, |_, _, _| {}).map_err(|e| format!("{e:?}"))?;
    put_frame(pa);
    kcheck!(ro.is_some_and(|a| !a.write), "attrs after protect: {ro:?}");
    kcheck!(v == Some(2), "value {v:?}");
    Ok(())
}

fn w_xor_x() -> TestResult {
    extern "C" {
        static __text_end: u8;
        static __rodata_end: u8;
    }
    // SAFETY: symbol addresses only.
    let (text_end, rodata_end) = unsafe { (&__text_end as *const u8 as u64, &__rodata_end as *const u8 as u64) };
    let text = kernel_space::translate(VirtAddr(KIMAGE_BASE)).ok_or("text unmapped")?;
    let rodata = kernel_space::translate(VirtAddr(text_end)).ok_or("rodata unmapped")?;
    let data = kernel_space::translate(VirtAddr(rodata_end)).ok_or("data unmapped")?;
    let text_alias = kernel_space::translate(phys_to_virt(text.0)).ok_or("text alias unmapped")?;
    kcheck!(text.1.exec && !text.1.write, "text {:?}", text.1);
    kcheck!(!rodata.1.exec && !rodata.1.write, "rodata {:?}", rodata.1);
    kcheck!(!data.1.exec && data.1.write, "data {:?}", data.1);
    kcheck!(!text_alias.1.exec && !text_alias.1.write, "linear alias of text {:?}", text_alias.1);
    Ok(())
}

fn linear_blocks() -> TestResult {
    // Some RAM far from the image must be mapped with a block.
    let (pa, _, _) = kernel_space::translate(VirtAddr(KIMAGE_BASE)).ok_or("image not mapped")?;
    let probe = phys_to_virt(PhysAddr(pa.as_u64() + (16 << 20)));
    let leaf = kernel_space::translate(probe).ok_or("RAM not in the linear map")?;
    kcheck!(leaf.2 >= BLOCK_2M, "leaf size {}", leaf.2);
    Ok(())
}

fn heap_exhaustion_is_an_error() -> TestResult {
    let (_, used_before, size) = crate::mm::heap::usage();
    // More than the whole heap: refused, not a panic.
    let mut v: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
    kcheck!(v.try_reserve_exact(size + 1).is_err(), "reserved more than the {size}-byte heap");
    kcheck!(crate::mm::heap::try_box([0u8; 8192]).is_ok(), "an 8 KiB box failed");
    // A large block still works, and gives its memory back.
    v.try_reserve_exact(size / 4).map_err(|_| "a quarter of the heap could not be had")?;
    v.resize(size / 4, 7);
    kcheck!(v.iter().all(|&b| b == 7), "heap memory corrupted");
    drop(v);
    let (_, used_after, _) = crate::mm::heap::usage();
    kcheck!(used_after == used_before, "heap use {used_before} -> {used_after} bytes");
    Ok(())
}
