//! Saved kernel contexts and user FP/SIMD state (see `context.S`).

use aarch64_cpu::registers::*;

core::arch::global_asm!(include_str!("context.S"));

/// The callee-saved registers of a suspended kernel thread.
#[repr(C)]
#[derive(Clone, Default, Debug)]
pub struct Context {
    /// x19..x28.
    pub x19_28: [u64; 10],
    /// Frame pointer (x29).
    pub fp: u64,
    /// Where `switch_context` returns to (x30).
    pub lr: u64,
    pub sp: u64,
}

/// A process's FP/SIMD registers: q0-q31, FPCR, FPSR.
#[repr(C, align(16))]
#[derive(Clone, Default)]
pub struct FpState {
    pub q: [u128; 32],
    pub fpcr: u64,
    pub fpsr: u64,
}

extern "C" {
    fn switch_context(prev: *mut Context, next: *const Context);
    fn fp_save(state: *mut FpState);
    fn fp_restore(state: *const FpState);
    /// Entry of a new process: restores the trap frame at sp and `eret`s.
    pub fn exception_return();
}

/// Suspends the current thread into `prev` and resumes `next`.
///
/// # Safety
/// `next` must hold a context saved by this function or prepared for a new
/// thread (a valid kernel stack and entry point); both stay valid while the
/// switch happens.
pub unsafe fn switch(prev: *mut Context, next: *const Context) {
    // SAFETY: forwarded contract.
    unsafe { switch_context(prev, next) }
}

/// Saves the live FP/SIMD registers.
pub fn save_fp(state: &mut FpState) {
    // SAFETY: writes exactly one FpState.
    unsafe { fp_save(state) }
}

/// Loads FP/SIMD registers.
pub fn restore_fp(state: &FpState) {
    // SAFETY: reads exactly one FpState.
    unsafe { fp_restore(state) }
}

/// The user thread pointer (TLS base).
pub fn tpidr_el0() -> u64 {
    TPIDR_EL0.get()
}

/// Sets the user thread pointer.
pub fn set_tpidr_el0(v: u64) {
    TPIDR_EL0.set(v)
}
