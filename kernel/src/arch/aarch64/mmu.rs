//! MMU maintenance: TLB invalidation, barriers, and switching translation
//! tables.
//!
//! The rules (Arm ARM, "TLB maintenance requirements" and "break-before-make"):
//! a store to a page table must be visible to the table walker before the TLB
//! is invalidated (`DSB ISHST`), and the invalidation must complete before
//! anything relies on it (`DSB ISH`, then `ISB` so later instructions are
//! fetched and translated with the new state). User entries are invalidated
//! by VA *and* ASID (`TLBI VAE1IS`), kernel (global) entries by VA for all
//! ASIDs (`TLBI VAAE1IS`); only whole-address-space teardown uses an
//! ASID-wide invalidate (`TLBI ASIDE1IS`).

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::*;
use core::arch::asm;

/// Makes earlier page-table stores visible to the walker: before any TLBI.
#[inline]
pub fn dsb_ishst() {
    barrier::dsb(barrier::ISHST);
}

/// Waits for TLB maintenance to finish and resynchronises the instruction stream.
#[inline]
pub fn dsb_ish_isb() {
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
}

/// The TLBI operand for a page: VA[55:12] in bits 43:0, ASID in 63:48.
#[inline]
fn operand(va: u64, asid: u16) -> u64 {
    ((va >> 12) & ((1 << 44) - 1)) | ((asid as u64) << 48)
}

/// Invalidates the translation of user page `va` tagged with `asid`.
#[inline]
pub fn tlbi_user_page(va: u64, asid: u16) {
    // SAFETY: TLB invalidation never affects memory safety.
    unsafe { asm!("tlbi vae1is, {}", in(reg) operand(va, asid), options(nostack)) };
}

/// Invalidates kernel page `va` for every ASID (global entries).
#[inline]
pub fn tlbi_kernel_page(va: u64) {
    // SAFETY: TLB invalidation never affects memory safety.
    unsafe { asm!("tlbi vaae1is, {}", in(reg) operand(va, 0), options(nostack)) };
}

/// Invalidates every entry tagged with `asid`.
#[inline]
pub fn tlbi_asid(asid: u16) {
    // SAFETY: TLB invalidation never affects memory safety.
    unsafe { asm!("tlbi aside1is, {}", in(reg) operand(0, asid), options(nostack)) };
}

/// Invalidates the whole EL1&0 TLB (used on ASID generation roll-over).
#[inline]
pub fn tlbi_all() {
    // SAFETY: TLB invalidation never affects memory safety.
    unsafe { asm!("tlbi vmalle1is", options(nostack)) };
}

/// Points TTBR0 (the user half) at `root` tagged with `asid`.
///
/// ASID-tagged entries of other processes stay in the TLB, so no flush is
/// needed as long as ASIDs are not reused (see `mm::asid`).
#[inline]
pub fn set_user_table(root: u64, asid: u16) {
    TTBR0_EL1.write(TTBR0_EL1::ASID.val(asid as u64) + TTBR0_EL1::BADDR.val(root >> 1));
    barrier::isb(barrier::SY);
}

extern "C" {
    fn idmap_replace_ttbr1(new_ttbr1: u64, empty_ttbr1: u64);
}

/// Replaces the kernel's (TTBR1) tables with `new_root`, through the
/// identity-mapped trampoline in `boot/src/entry.S`, so that no TLB entry
/// of the old tables can meet one of the new: the old kernel mapping is
/// removed (TTBR1 = a table that maps nothing, TLB invalidated) before the
/// new one is installed.
///
/// # Safety
/// `new_root` must map the running kernel (image, stack, linear map) at the
/// same virtual addresses; `trampoline_pa` must be the physical address of
/// `idmap_replace_ttbr1`, identity-mapped in TTBR0; `empty_root` a zeroed
/// level-0 table.
pub unsafe fn replace_kernel_tables(new_root: u64, empty_root: u64, trampoline_pa: u64) {
    dsb_ishst();
    // SAFETY: the caller guarantees trampoline_pa is idmap_replace_ttbr1's
    // identity-mapped alias; it clobbers nothing but flags.
    let f: unsafe extern "C" fn(u64, u64) = unsafe { core::mem::transmute(trampoline_pa as usize) };
    // SAFETY: see the function's contract.
    unsafe { f(new_root, empty_root) };
    let _ = idmap_replace_ttbr1 as unsafe extern "C" fn(u64, u64);
}

/// Drops the identity map: TTBR0 now maps nothing until a process runs.
pub fn clear_user_table(empty_root: u64) {
    set_user_table(empty_root, 0);
    dsb_ishst();
    tlbi_all();
    dsb_ish_isb();
}
