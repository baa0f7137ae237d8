//! Leaving EL2 for EL1.
//!
//! With `-machine virt,virtualization=on` QEMU starts the CPU at EL2, the
//! hypervisor level. armmap runs its kernel at EL1, so before anything else
//! it configures EL2 to get out of the way and performs an exception return
//! ("eret") into EL1:
//!
//! - `HCR_EL2.RW = 1`: EL1 runs AArch64; every trap and stage-2 translation
//!   stays off (VM = 0), so EL1 owns the machine.
//! - `CNTHCTL_EL2`: EL1 may use the physical counter and timer;
//!   `CNTVOFF_EL2 = 0` so the virtual counter equals the physical one.
//! - `CPTR_EL2`: FP/SIMD is not trapped to EL2 (user programs use it).
//! - `VPIDR_EL2`/`VMPIDR_EL2`: EL1 reads the real MIDR/MPIDR.
//! - `SCTLR_EL1`: a known value with the MMU off (its reset value is UNKNOWN).
//! - `VBAR_EL2`: a minimal vector table that reports a stray `hvc` or trap
//!   and stops QEMU rather than jumping to address 0 and hanging.
//! - `SPSR_EL2`/`ELR_EL2`: return to EL1h with all interrupts masked.
//!
//! Runs with the MMU off at the physical load address: position-independent.

use aarch64_cpu::asm;
use aarch64_cpu::registers::*;
use tock_registers::{register_bitfields, LocalRegisterCopy};

register_bitfields! {u64,
    /// Architectural Feature Trap Register (EL2), non-VHE layout; only the
    /// fields armmap sets (aarch64-cpu does not name them).
    CPTR_EL2_FIELDS [
        /// Trap CPACR_EL1 accesses to EL2.
        TCPAC OFFSET(31) NUMBITS(1) [],
        /// Trap FP/SIMD to EL2.
        TFP OFFSET(10) NUMBITS(1) [],
        /// Bits that read as one (RES1) in this layout: 13:12 and 9:0.
        RES1_HI OFFSET(12) NUMBITS(2) [Set = 0b11],
        RES1_LO OFFSET(0) NUMBITS(10) [Set = 0x3ff]
    ]
}

/// SCTLR_EL1 bits that are RES1 in ARMv8.0 (11, 20, 22, 23, 28, 29): the value
/// EL1 starts from, MMU and caches off.
pub const SCTLR_EL1_RES1: u64 = (1 << 11) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 28) | (1 << 29);

/// Configures EL2 and returns to `el1_entry` at EL1 with stack `sp`.
///
/// # Safety
/// Must run at EL2 with the MMU off, from `entry.S`; `vectors` must be the
/// 2 KiB-aligned EL2 vector table and `el1_entry` code that expects EL1.
#[no_mangle]
unsafe extern "C" fn boot_el2_to_el1(vectors: u64, el1_entry: u64, sp: u64) -> ! {
    VBAR_EL2.set(vectors);
    HCR_EL2.write(HCR_EL2::RW::EL1IsAarch64);
    CNTHCTL_EL2.write(CNTHCTL_EL2::EL1PCEN::SET + CNTHCTL_EL2::EL1PCTEN::SET);
    CNTVOFF_EL2.set(0);
    let mut cptr: LocalRegisterCopy<u64, CPTR_EL2_FIELDS::Register> = LocalRegisterCopy::new(0);
    cptr.modify(CPTR_EL2_FIELDS::RES1_HI::Set + CPTR_EL2_FIELDS::RES1_LO::Set);
    CPTR_EL2.set(cptr.get());
    // SAFETY: writing VPIDR_EL2 at EL2 only changes what EL1 reads as MIDR_EL1.
    unsafe { core::arch::asm!("msr vpidr_el2, {}", in(reg) MIDR_EL1.get()) };
    VMPIDR_EL2.set(MPIDR_EL1.get());
    SCTLR_EL1.set(SCTLR_EL1_RES1);
    SPSR_EL2.write(
        SPSR_EL2::D::Masked + SPSR_EL2::A::Masked + SPSR_EL2::I::Masked + SPSR_EL2::F::Masked + SPSR_EL2::M::EL1h,
    );
    ELR_EL2.set(el1_entry);
    SP_EL1.set(sp);
    asm::barrier::isb(asm::barrier::SY);
    asm::eret()
}
