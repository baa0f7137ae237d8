//! task: processes, ELF loading, scheduling.
//!
//! `elf`, `stack` and the logic of `futex` are portable (unit-tested on
//! the host); the rest runs on the target.

pub mod elf;
pub mod futex;
pub mod stack;

target_only! {
    pub mod exec;
    pub mod exit;
    pub mod files;
    pub mod oom;
    pub mod perf;
    pub mod process;
    pub mod sched;
    pub mod signal;
    pub mod wait;
}

/// Called when pid 1 exits: report its status and end the machine, with
/// the program's exit code (128 + signal if it was killed).
#[cfg(target_os = "none")]
pub fn init_exited(wait_status: i32) -> ! {
    let (code, how) = if wait_status & 0x7f == 0 {
        ((wait_status >> 8) & 0xff, alloc::format!("exited with status {}", (wait_status >> 8) & 0xff))
    } else {
        (128 + (wait_status & 0x7f), alloc::format!("killed by signal {}", wait_status & 0x7f))
    };
    log::info!("init (pid 1) {how}; shutting down");
    crate::boot::shutdown(code as u32)
}
