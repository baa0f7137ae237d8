//! The Performance Monitors Unit (PMUv3): counting instructions and cycles.
//!
//! Each CPU has a cycle counter (PMCCNTR_EL0, 64-bit) and a few event
//! counters (PMEVCNTR<n>_EL0, 32-bit); PMEVTYPER<n>_EL0 selects what counter
//! n counts (event 0x08 = instructions retired, 0x11 = CPU cycles) and at
//! which exception levels. Under QEMU's `-icount shift=0,sleep=off` the
//! instruction count is exact and repeatable, which `cargo xtask bench`
//! relies on.
//!
//! armmap uses event counters only (the cycle event goes through a general
//! counter too), `n` = the event's index in the process's list. The
//! `perf_event_open` layer (`task/perf.rs`) virtualises them per process.

use tock_registers::{register_bitfields, LocalRegisterCopy};

register_bitfields! {u64,
    /// Performance Monitors Control Register.
    PMCR [
        /// Number of event counters implemented.
        N OFFSET(11) NUMBITS(5) [],
        /// Long cycle counter (64-bit overflow).
        LC OFFSET(6) NUMBITS(1) [],
        /// Reset the cycle counter.
        C OFFSET(2) NUMBITS(1) [],
        /// Reset all event counters.
        P OFFSET(1) NUMBITS(1) [],
        /// Enable all counters.
        E OFFSET(0) NUMBITS(1) []
    ],
    /// Event type register of one counter.
    PMEVTYPER [
        /// Do not count at EL1.
        P OFFSET(31) NUMBITS(1) [],
        /// Do not count at EL0.
        U OFFSET(30) NUMBITS(1) [],
        /// The event number.
        EVTCOUNT OFFSET(0) NUMBITS(16) []
    ]
}

/// Architectural event: instruction architecturally executed.
pub const EVENT_INST_RETIRED: u64 = 0x08;
/// Architectural event: CPU cycle.
pub const EVENT_CPU_CYCLES: u64 = 0x11;

macro_rules! sysreg_read {
    ($name:ident, $reg:literal) => {
        fn $name() -> u64 {
            let v: u64;
            // SAFETY: reading a PMU register has no side effect.
            unsafe { core::arch::asm!(concat!("mrs {}, ", $reg), out(reg) v, options(nomem, nostack)) };
            v
        }
    };
}

macro_rules! sysreg_write {
    ($name:ident, $reg:literal) => {
        fn $name(v: u64) {
            // SAFETY: PMU registers only affect counting.
            unsafe { core::arch::asm!(concat!("msr ", $reg, ", {}"), in(reg) v, options(nomem, nostack)) };
        }
    };
}

sysreg_read!(pmcr_read, "pmcr_el0");
sysreg_write!(pmcr_write, "pmcr_el0");
sysreg_write!(pmselr_write, "pmselr_el0");
sysreg_write!(pmxevtyper_write, "pmxevtyper_el0");
sysreg_read!(pmxevcntr_read, "pmxevcntr_el0");
sysreg_write!(pmxevcntr_write, "pmxevcntr_el0");
sysreg_write!(pmcntenset_write, "pmcntenset_el0");
sysreg_write!(pmcntenclr_write, "pmcntenclr_el0");
sysreg_read!(pmceid0_read, "pmceid0_el0");

fn isb() {
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Whether the CPU implements PMUv3 (ID_AA64DFR0_EL1.PMUVer).
pub fn present() -> bool {
    use aarch64_cpu::registers::ID_AA64DFR0_EL1;
    use tock_registers::interfaces::Readable;
    let v = ID_AA64DFR0_EL1.read(ID_AA64DFR0_EL1::PMUVer);
    v != 0 && v != 0xf
}

/// Number of event counters (0 without a PMU).
pub fn counters() -> usize {
    if !present() {
        return 0;
    }
    LocalRegisterCopy::<u64, PMCR::Register>::new(pmcr_read()).read(PMCR::N) as usize
}

/// Whether common event `event` (< 32) is implemented (PMCEID0_EL0).
pub fn supports(event: u64) -> bool {
    present() && event < 32 && pmceid0_read() & (1 << event) != 0
}

/// Enables the PMU (counters still individually off).
pub fn init() {
    if !present() {
        return;
    }
    let mut c = LocalRegisterCopy::<u64, PMCR::Register>::new(pmcr_read());
    c.modify(PMCR::E::SET + PMCR::P::SET + PMCR::LC::SET);
    pmcr_write(c.get());
    pmcntenclr_write(u32::MAX as u64);
    isb();
}

/// Programs counter `n` to count `event`, zeroed and running.
pub fn start(n: usize, event: u64, exclude_kernel: bool, exclude_user: bool) {
    let mut t = LocalRegisterCopy::<u64, PMEVTYPER::Register>::new(0);
    t.modify(
        PMEVTYPER::EVTCOUNT.val(event)
            + PMEVTYPER::P.val(exclude_kernel as u64)
            + PMEVTYPER::U.val(exclude_user as u64),
    );
    pmselr_write(n as u64);
    isb();
    pmxevtyper_write(t.get());
    pmxevcntr_write(0);
    pmcntenset_write(1 << n);
    isb();
}

/// Stops counter `n` and returns its count.
pub fn stop(n: usize) -> u64 {
    pmcntenclr_write(1 << n);
    isb();
    read(n)
}

/// The current count of counter `n`.
pub fn read(n: usize) -> u64 {
    pmselr_write(n as u64);
    isb();
    pmxevcntr_read() & 0xffff_ffff
}

/// Zeroes counter `n` (keeps it running).
pub fn zero(n: usize) {
    pmselr_write(n as u64);
    isb();
    pmxevcntr_write(0);
}
