//! The generic timer: a system-wide counter (CNTVCT_EL0, ticking at
//! CNTFRQ_EL0 Hz) and, per CPU, a comparator that raises an interrupt when
//! the counter passes it. armmap uses the *virtual* timer (PPI 27), which
//! works the same whether the kernel was entered at EL2 or EL1, to produce a
//! periodic tick of [`HZ`] interrupts per second for preemptive scheduling.

use aarch64_cpu::registers::*;
use core::sync::atomic::{AtomicU64, Ordering};

/// Timer interrupts per second.
pub const HZ: u64 = 100;
/// The virtual timer's interrupt ID (PPI 11 = ID 27 on every Arm system).
pub const VIRT_TIMER_INTID: u32 = 27;

static TICKS: AtomicU64 = AtomicU64::new(0);

/// Counter frequency in Hz.
pub fn frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// The counter's current value.
pub fn counter() -> u64 {
    CNTVCT_EL0.get()
}

/// Nanoseconds since the counter started (boot, under QEMU): the
/// arithmetic the vDSO shares (`vdso::data::counter_to_ns`).
pub fn uptime_ns() -> u64 {
    let f = core::num::NonZeroU64::new(frequency()).unwrap_or(core::num::NonZeroU64::MIN);
    crate::vdso::data::counter_to_ns(counter(), f)
}

/// Ticks since the timer started.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

fn arm_next() {
    CNTV_TVAL_EL0.set(frequency() / HZ);
}

fn on_interrupt() {
    TICKS.fetch_add(1, Ordering::Relaxed);
    arm_next();
    crate::trap::timer_tick();
}

/// Lets EL0 read the virtual counter (CNTVCT_EL0) and its frequency
/// (CNTFRQ_EL0), as Linux does for its vDSO; the physical counter and both
/// timers stay the kernel's, and the event stream stays off.
pub fn allow_user_counter() {
    CNTKCTL_EL1.write(CNTKCTL_EL1::EL0VCTEN::SET);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Starts the periodic tick.
pub fn init() {
    super::gic::enable(VIRT_TIMER_INTID, on_interrupt);
    arm_next();
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
}
