//! task: processes, ELF loading, scheduling.
//!
//! `elf`, `stack`, `sigset`, `timers` and the logic of `futex` are
//! portable (unit-tested on the host); the rest runs on the target.

pub mod elf;
pub mod futex;
pub mod sigset;
pub mod stack;
pub mod timers;

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

/// What an exited thread holds instead of its address space, descriptor
/// table and fs context: empty ones, made once at boot, so that exiting
/// never allocates.
#[cfg(target_os = "none")]
static EMPTY: spin::Once<EmptyResources> = spin::Once::new();

#[cfg(target_os = "none")]
type EmptyResources = (
    alloc::sync::Arc<process::Mm>,
    alloc::sync::Arc<spin::Mutex<process::Files>>,
    alloc::sync::Arc<spin::Mutex<process::FsContext>>,
);

/// Makes what the task code needs before the first process starts.
#[cfg(target_os = "none")]
pub fn init() {
    EMPTY.call_once(|| {
        let mm = crate::mm::address_space::AddressSpace::new().expect("no memory for the first address space");
        (
            alloc::sync::Arc::new(spin::Mutex::new(mm)),
            alloc::sync::Arc::new(spin::Mutex::new(alloc::vec::Vec::new())),
            alloc::sync::Arc::new(spin::Mutex::new(process::FsContext { cwd: alloc::string::String::new(), umask: 0 })),
        )
    });
}

/// References to the empty resources (see [`init`]).
#[cfg(target_os = "none")]
pub fn empty_resources() -> EmptyResources {
    let (m, f, s) = EMPTY.get().expect("task::init not called");
    (m.clone(), f.clone(), s.clone())
}

/// Where a signal handler returns to when the program gave no SA_RESTORER:
/// `__kernel_rt_sigreturn` in the vDSO.
#[cfg(target_os = "none")]
pub fn vdso_sigreturn() -> u64 {
    crate::vdso::sigreturn_address()
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
