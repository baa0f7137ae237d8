//! CPU-wide controls: interrupt masking, idling, feature discovery and the
//! per-CPU settings made once at boot (FP/SIMD access for EL0, PAN).

use aarch64_cpu::asm;
use aarch64_cpu::registers::*;
use tock_registers::{register_bitfields, LocalRegisterCopy};

register_bitfields! {u64,
    /// SCTLR_EL1 fields of ARMv8.1+ that aarch64-cpu does not name.
    SCTLR_V81 [
        /// Set Privileged Access Never on taking an exception to EL1 (when 0).
        SPAN OFFSET(23) NUMBITS(1) []
    ]
}

/// Masks IRQs; returns whether they were enabled before.
#[inline]
pub fn irq_save() -> bool {
    let was = DAIF.read(DAIF::I) == 0;
    DAIF.modify(DAIF::I::Masked);
    was
}

/// Restores the IRQ mask saved by [`irq_save`].
#[inline]
pub fn irq_restore(enabled: bool) {
    if enabled {
        DAIF.modify(DAIF::I::Unmasked);
    }
}

/// Unmasks IRQs.
#[inline]
pub fn irq_enable() {
    DAIF.modify(DAIF::I::Unmasked);
}

/// Runs `f` with IRQs masked.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let was = irq_save();
    let r = f();
    irq_restore(was);
    r
}

/// Waits for an interrupt (the idle loop's body).
#[inline]
pub fn wait_for_interrupt() {
    asm::wfi();
}

/// Whether the CPU implements Privileged Access Never.
pub fn has_pan() -> bool {
    ID_AA64MMFR1_EL1.read(ID_AA64MMFR1_EL1::PAN) != 0
}

/// Number of ASID bits the CPU supports (8 or 16).
pub fn asid_bits() -> u32 {
    if ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::ASIDBits) == 0b0010 {
        16
    } else {
        8
    }
}

/// Per-CPU settings made once the kernel's vectors are installed.
///
/// - FP/SIMD is usable at EL0 without trapping (user programs built by a
///   standard toolchain use it; the kernel itself is built soft-float and
///   never touches these registers, so only context switches save them).
/// - PAN on where implemented: the kernel then cannot touch user memory by
///   accident; it reaches user memory only with the unprivileged `ldtr`/`sttr`
///   instructions (see `uaccess`), which PAN does not block. SCTLR_EL1.SPAN
///   is cleared so PAN is set again on every exception entry.
pub fn init() {
    CPACR_EL1.write(CPACR_EL1::FPEN::TrapNothing);
    if has_pan() {
        let mut sctlr: LocalRegisterCopy<u64, SCTLR_V81::Register> = LocalRegisterCopy::new(SCTLR_EL1.get());
        sctlr.modify(SCTLR_V81::SPAN::CLEAR);
        SCTLR_EL1.set(sctlr.get());
        // `msr pan, #1`, spelled as its encoding so the assembler needs no v8.1 flag.
        // SAFETY: setting PSTATE.PAN only restricts EL1 accesses to user memory.
        unsafe { core::arch::asm!(".inst 0xd500419f", options(nomem, nostack)) };
    }
    asm::barrier::isb(asm::barrier::SY);
}
