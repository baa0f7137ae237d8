//! Where the architecture's exception handlers hand over to the rest of the
//! kernel: user system calls and faults, kernel faults on user addresses,
//! and the timer tick.

use crate::arch::aarch64::esr::{Abort, Syndrome};
use crate::arch::aarch64::exception::{kernel_fatal, TrapFrame};

/// A synchronous exception from EL0.
pub fn user_sync(frame: &mut TrapFrame, esr: Syndrome, far: u64) {
    let _ = far;
    let _ = esr;
    kernel_fatal(frame, 8, "exception from EL0 without a process")
}

/// Called before returning to EL0 (reschedule point).
pub fn return_to_user(_frame: &mut TrapFrame) {}

/// A kernel access to a user address faulted; true if resolved.
pub fn kernel_fault_on_user(_frame: &mut TrapFrame, _abort: Abort, _far: u64) -> bool {
    false
}

/// Called from the timer interrupt.
pub fn timer_tick() {}
