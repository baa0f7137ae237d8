//! Page-sized memory operations for the fault path: zeroing and copying.
//!
//! Zeroing uses `DC ZVA` (Data Cache Zero by Virtual Address): one `dc zva`
//! zeroes a whole naturally aligned block (64 bytes on most cores;
//! DCZID_EL0.BS gives log2 of its size in words) without reading the memory
//! first, so clearing a 4 KiB page takes 64 of them instead of a loop of 512
//! stores. Copying moves 64 bytes per iteration with load/store pairs of
//! general-purpose registers (the kernel does not use FP/SIMD registers,
//! which belong to the user). Used for every fresh anonymous page, every
//! table, and every copy-on-write copy.

use core::sync::atomic::{AtomicUsize, Ordering};

/// Block size in bytes, 0 while unknown or when DC ZVA is prohibited.
static BLOCK: AtomicUsize = AtomicUsize::new(usize::MAX);

fn block_size() -> usize {
    let b = BLOCK.load(Ordering::Relaxed);
    if b != usize::MAX {
        return b;
    }
    let dczid: u64;
    // SAFETY: reading DCZID_EL0 has no side effect.
    unsafe { core::arch::asm!("mrs {}, dczid_el0", out(reg) dczid, options(nomem, nostack)) };
    // DZP (bit 4) set: DC ZVA prohibited.
    let size = if dczid & (1 << 4) != 0 { 0 } else { 4usize << (dczid & 0xf) };
    BLOCK.store(size, Ordering::Relaxed);
    size
}

/// Zeroes the 4 KiB page at kernel virtual address `va` (page aligned,
/// normal cacheable memory).
///
/// # Safety
/// `va` must be the address of a writable, page-aligned 4 KiB of normal
/// memory that nothing else is using.
pub unsafe fn zero_page(va: *mut u8) {
    let block = block_size();
    if block == 0 || block > 4096 {
        // SAFETY: forwarded contract.
        unsafe { core::ptr::write_bytes(va, 0, 4096) };
        return;
    }
    let mut p = va as usize;
    let end = p + 4096;
    if block == 64 {
        // The common case, unrolled: four 64-byte blocks per iteration.
        // SAFETY: [va, va + 4096) is the caller's page; p stays inside it.
        unsafe {
            core::arch::asm!(
                "1: dc zva, {p}",
                "add {q}, {p}, #64",
                "dc zva, {q}",
                "add {q}, {p}, #128",
                "dc zva, {q}",
                "add {q}, {p}, #192",
                "dc zva, {q}",
                "add {p}, {p}, #256",
                "cmp {p}, {end}",
                "b.lo 1b",
                p = inout(reg) p => _,
                q = out(reg) _,
                end = in(reg) end,
                options(nostack),
            )
        };
        return;
    }
    while p < end {
        // SAFETY: p stays inside the page the caller owns and is block aligned.
        unsafe { core::arch::asm!("dc zva, {}", in(reg) p, options(nostack)) };
        p += block;
    }
}

/// Copies the 4 KiB page at `src` to `dst` (both page aligned).
///
/// # Safety
/// `src` must be readable and `dst` writable for 4 KiB, and they must not overlap.
pub unsafe fn copy_page(dst: *mut u8, src: *const u8) {
    // SAFETY: the caller guarantees both pages; the loop touches exactly
    // [src, src + 4096) and [dst, dst + 4096).
    unsafe {
        core::arch::asm!(
            "add {end}, {s}, #4096",
            "1: ldp {a}, {b}, [{s}]",
            "ldp {c}, {d}, [{s}, #16]",
            "stp {a}, {b}, [{d_}]",
            "stp {c}, {d}, [{d_}, #16]",
            "ldp {a}, {b}, [{s}, #32]",
            "ldp {c}, {d}, [{s}, #48]",
            "stp {a}, {b}, [{d_}, #32]",
            "stp {c}, {d}, [{d_}, #48]",
            "add {s}, {s}, #64",
            "add {d_}, {d_}, #64",
            "cmp {s}, {end}",
            "b.lo 1b",
            s = inout(reg) src => _,
            d_ = inout(reg) dst => _,
            end = out(reg) _,
            a = out(reg) _,
            b = out(reg) _,
            c = out(reg) _,
            d = out(reg) _,
            options(nostack),
        )
    };
}

/// Makes instructions the kernel wrote at `[va, va + len)` visible to
/// instruction fetches (code placed in memory through the data side: the
/// vDSO's text): clean the data cache to the point of unification, then
/// invalidate the instruction cache.
///
/// # Safety
/// `[va, va + len)` must be mapped kernel memory.
pub unsafe fn sync_icache(va: *const u8, len: usize) {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effect.
    unsafe { core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    // DminLine (bits 19:16): log2 of the smallest data cache line in words.
    let line = 4usize << ((ctr >> 16) & 0xf);
    let start = va as usize & !(line - 1);
    for addr in (start..va as usize + len).step_by(line) {
        // SAFETY: cleaning a line of mapped memory changes no contents.
        unsafe { core::arch::asm!("dc cvau, {}", in(reg) addr, options(nostack)) };
    }
    // SAFETY: barriers and a whole-cache invalidation change no contents.
    unsafe { core::arch::asm!("dsb ish", "ic ialluis", "dsb ish", "isb", options(nostack)) };
}
