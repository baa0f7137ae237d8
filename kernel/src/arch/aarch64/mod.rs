//! AArch64: registers, barriers, TLB maintenance, exceptions, interrupt
//! controller and timer. `esr` and `sigframe` are portable; the rest runs on
//! the target.

pub mod esr;
pub mod sigframe;

#[cfg(test)]
mod linux_values;

target_only! {
    pub mod context;
    pub mod cpu;
    pub mod exception;
    pub mod gic;
    pub mod mmu;
    pub mod page;
    pub mod pmu;
    pub mod semihosting;
    pub mod timer;
    pub mod uaccess;
}
