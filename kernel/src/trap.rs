//! Where the architecture's exception handlers hand over to the rest of the
//! kernel: system calls, user faults, kernel faults on user addresses, the
//! timer tick, and the reschedule point on the way back to user mode.

use crate::arch::aarch64::esr::{Abort, FaultKind, Syndrome, ESR};
use crate::arch::aarch64::exception::TrapFrame;
use crate::mm::fault::{self, Access, Failure, Resolution};
use crate::task::process::Counters;
use crate::task::{exit, process, sched, signal};

/// Counts of faults resolved and copies made, since boot (`/proc/vmstat`).
pub mod stats {
    use core::sync::atomic::AtomicU64;
    pub static FAULTS: AtomicU64 = AtomicU64::new(0);
    pub static COW_COPIES: AtomicU64 = AtomicU64::new(0);
}

fn access_of(a: &Abort) -> Access {
    if a.exec {
        Access::Exec
    } else if a.write {
        Access::Write
    } else {
        Access::Read
    }
}

/// Resolves a fault at `addr` in the current process; counts and traces it.
fn resolve(addr: u64, access: Access, no_entry: bool) -> Result<Resolution, Failure> {
    use core::sync::atomic::Ordering::Relaxed;
    let pid = sched::current();
    let page = addr & !(crate::mm::addr::PAGE_SIZE as u64 - 1);
    // The thread table is held only to find the address space; the fault
    // is resolved under the address space's own lock.
    let found = process::try_with(pid, |t| {
        // A thread with a signal pending (or told to exit) makes no more
        // progress.
        (!signal::interrupts(t)).then(|| (t.mm.clone(), t.process.clone()))
    });
    let r = match found {
        Ok(Some(Some((mm, proc_)))) => match mm.try_lock() {
            Some(mut mm) => {
                let mut r = fault::handle(&mut mm, addr, access, no_entry);
                if let Err(n) = mm.fault_watch.note((page, access), r == Ok(Resolution::Spurious)) {
                    log::error!(
                        "kernel bug: pid {pid}: {} fault at {addr:#x} resolved as spurious {n} times in a row; failing the access",
                        access_name(access)
                    );
                    r = Err(Failure::NoProgress);
                }
                if let Ok(res) = r {
                    Counters::add(&proc_.counters.minflt, 1);
                    if res == Resolution::CowCopy {
                        Counters::add(&proc_.counters.cow, 1);
                    }
                }
                r
            }
            None => {
                // One CPU: the address space can only be locked by the code
                // that faulted.
                log::error!(
                    "kernel bug: pid {pid}: user access at {addr:#x} with the address space locked; failing it"
                );
                Err(Failure::NoProgress)
            }
        },
        Ok(Some(None)) => Err(Failure::SignalPending),
        Ok(None) => Err(Failure::Unmapped),
        Err(process::Busy) => {
            // One CPU: the table can only be locked by the code that faulted.
            log::error!("kernel bug: pid {pid}: user access at {addr:#x} with the process table locked; failing it");
            Err(Failure::NoProgress)
        }
    };
    match r {
        Ok(res) => {
            stats::FAULTS.fetch_add(1, Relaxed);
            if res == Resolution::CowCopy {
                stats::COW_COPIES.fetch_add(1, Relaxed);
            }
            log::debug!("fault pid={pid} addr={addr:#x} {} -> {}", access_name(access), res.describe());
        }
        Err(Failure::SignalPending) => {
            log::debug!("fault pid={pid} addr={addr:#x} {} -> signal pending", access_name(access))
        }
        Err(f) => log::debug!("fault pid={pid} addr={addr:#x} {} -> {}", access_name(access), f.signal_name()),
    }
    r
}

fn access_name(a: Access) -> &'static str {
    match a {
        Access::Read => "read",
        Access::Write => "write",
        Access::Exec => "exec",
    }
}

/// The calling process's name, for reports.
fn process_name() -> alloc::string::String {
    process::current_process().map(|p| p.inner.lock().name.clone()).unwrap_or_default()
}

/// The signal and `si_code` a failed fault raises.
fn fault_signal(why: Failure) -> (u32, i32) {
    use signal::code::*;
    match why {
        Failure::Unmapped => (signal::SIGSEGV, SEGV_MAPERR),
        Failure::Protection | Failure::NoProgress | Failure::SignalPending => (signal::SIGSEGV, SEGV_ACCERR),
        Failure::BeyondEnd => (signal::SIGBUS, BUS_ADRERR),
        Failure::Alignment => (signal::SIGBUS, BUS_ADRALN),
        Failure::OutOfMemory => (signal::SIGKILL, SI_KERNEL),
    }
}

/// A user fault that cannot be resolved becomes its signal: a handler
/// runs if the program has one, otherwise the process dies with the
/// one-line report users read.
fn fail_fault(frame: &TrapFrame, addr: u64, access: Access, why: Failure, esr: u64) {
    let (sig, code) = fault_signal(why);
    if sig != signal::SIGKILL && signal::force_fault(sig, code, addr, Some(esr)) == signal::Forced::Handled {
        return;
    }
    let pid = sched::current();
    let name = process_name();
    let what = match access {
        Access::Read => "read from",
        Access::Write => "write to",
        Access::Exec => "execute at",
    };
    log::warn!(
        "pid {pid} ({name}): {} at {addr:#x}, {what} {}, pc {:#x}",
        why.signal_name(),
        why.describe(),
        frame.elr
    );
    exit::exit_current(exit::signaled(sig))
}

/// A synchronous exception from EL0.
pub fn user_sync(frame: &mut TrapFrame, esr: Syndrome, far: u64) {
    use ESR::EC::Value as EC;
    match esr.class() {
        Some(EC::Svc64) => crate::syscall::dispatch(frame),
        Some(EC::DataAbortLowerEl) | Some(EC::InstrAbortLowerEl) => {
            let Some(abort) = esr.abort() else { return };
            let access = access_of(&abort);
            let result = match abort.kind {
                FaultKind::Translation(_) => resolve(far, access, true),
                FaultKind::Permission(_) | FaultKind::AccessFlag(_) => resolve(far, access, false),
                FaultKind::Alignment => Err(Failure::Alignment),
                _ => Err(Failure::Protection),
            };
            match result {
                Ok(_) => {}
                // The signal acts on the way back to user mode; the access
                // is retried after a handler, if there is one.
                Err(Failure::SignalPending) => {}
                // Another process goes; the access is retried afterwards.
                Err(Failure::OutOfMemory) if crate::task::oom::make_room_for(sched::current()) => {}
                Err(why) => fail_fault(frame, far, access, why, esr.raw()),
            }
        }
        _ => {
            use signal::code::*;
            let (sig, sig_name, code, addr, esr_for_frame) = match esr.class() {
                Some(EC::PcAlignment) => (signal::SIGBUS, "SIGBUS", BUS_ADRALN, far, Some(esr.raw())),
                Some(EC::SpAlignment) => (signal::SIGBUS, "SIGBUS", BUS_ADRALN, frame.sp_el0, Some(esr.raw())),
                Some(EC::Brk64) => (5, "SIGTRAP", TRAP_BRKPT, frame.elr, None),
                _ => (4, "SIGILL", ILL_ILLOPC, frame.elr, None),
            };
            if signal::force_fault(sig, code, addr, esr_for_frame) == signal::Forced::Handled {
                return;
            }
            let pid = sched::current();
            let name = process_name();
            log::warn!(
                "pid {pid} ({name}): {sig_name}: {} (ESR {:#x}), pc {:#x}",
                esr.class_name(),
                esr.raw(),
                frame.elr
            );
            exit::exit_current(exit::signaled(sig));
        }
    }
}

/// Called before returning to EL0: the reschedule point and signal delivery.
pub fn return_to_user(frame: &mut TrapFrame) {
    if sched::take_resched() {
        sched::schedule();
    }
    signal::deliver(frame, None);
}

/// A kernel access to a user address faulted (a copy to or from user
/// memory): resolve it like a user fault. True if the access can be
/// retried; false fails the copy (EFAULT). A process with a fatal signal
/// pending gets no more pages: its copy fails, the system call returns, and
/// it dies on the way back to user mode.
pub fn kernel_fault_on_user(_frame: &mut TrapFrame, abort: Abort, far: u64) -> bool {
    if !crate::mm::addr::VirtAddr(far).is_user()
        || sched::current() == 0
        || abort.exec
        || crate::arch::aarch64::uaccess::faults_disabled()
    {
        return false;
    }
    match abort.kind {
        FaultKind::Translation(_) => resolve(far, access_of(&abort), true).is_ok(),
        FaultKind::Permission(_) | FaultKind::AccessFlag(_) => resolve(far, access_of(&abort), false).is_ok(),
        _ => false,
    }
}

/// Called from the timer interrupt.
pub fn timer_tick() {
    let now = crate::arch::aarch64::timer::uptime_ns();
    let pid = sched::current();
    if pid != 0 {
        process::with(pid, |t| {
            t.user_ticks += 1;
            crate::task::perf::fold(&mut t.perf);
        });
    }
    sched::tick(now);
}
