//! Exceptions taken to EL1: the trap frame, the dispatcher, and the report
//! printed when the kernel itself faults.
//!
//! `vectors.S` saves the interrupted context as a [`TrapFrame`] and calls
//! [`exception_dispatch`] with the vector entry's index, which says where the
//! exception came from (kernel or user) and what it is (synchronous, IRQ,
//! FIQ, SError). Synchronous exceptions are decoded from ESR_EL1 (see
//! `esr.rs`): system calls and user faults go to the process layer, kernel
//! faults either resolve (a user page touched by a kernel copy, or an
//! instruction listed in the exception table) or end in a report and a
//! failed QEMU exit.

use super::esr::Syndrome;
use aarch64_cpu::registers::*;
use core::fmt;

core::arch::global_asm!(include_str!("vectors.S"));

/// The registers saved on exception entry, in the order `vectors.S` stores them.
#[repr(C)]
#[derive(Clone, Default)]
pub struct TrapFrame {
    /// General-purpose registers x0..x30.
    pub x: [u64; 31],
    /// The user stack pointer.
    pub sp_el0: u64,
    /// Where execution resumes (the faulting instruction, or after `svc`).
    pub elr: u64,
    /// The saved processor state (exception level, interrupt masks, flags).
    pub spsr: u64,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 34 * 8);

/// Vector entry indices, as passed by `vectors.S`.
mod entry {
    pub const EL1_SYNC: u64 = 4;
    pub const EL1_IRQ: u64 = 5;
    pub const EL0_SYNC: u64 = 8;
    pub const EL0_IRQ: u64 = 9;
}

const ENTRY_NAMES: [&str; 16] = [
    "EL1t sync",
    "EL1t IRQ",
    "EL1t FIQ",
    "EL1t SError",
    "EL1h sync",
    "EL1h IRQ",
    "EL1h FIQ",
    "EL1h SError",
    "EL0 sync",
    "EL0 IRQ",
    "EL0 FIQ",
    "EL0 SError",
    "EL0 AArch32 sync",
    "EL0 AArch32 IRQ",
    "EL0 AArch32 FIQ",
    "EL0 AArch32 SError",
];

extern "C" {
    static exception_vectors: u8;
    static __ex_table_start: [u64; 2];
    static __ex_table_end: [u64; 2];
    fn probe_read_u64(addr: u64) -> ProbeResult;
}

#[repr(C)]
struct ProbeResult {
    value: u64,
    faulted: u64,
}

/// Installs the EL1 vector table.
pub fn init() {
    VBAR_EL1.set(core::ptr::addr_of!(exception_vectors) as u64);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Reads the u64 at `addr` from EL1; `None` if the access faults.
pub fn probe_read(addr: u64) -> Option<u64> {
    // SAFETY: probe_read_u64 has an exception-table entry, so a fault on the
    // load resumes at its fixup instead of reaching the kernel-fault report.
    let r = unsafe { probe_read_u64(addr) };
    (r.faulted == 0).then_some(r.value)
}

/// The fixup address for a faulting kernel instruction at `pc`, if listed.
fn exception_table_fixup(pc: u64) -> Option<u64> {
    // SAFETY: the linker script places __ex_table between these symbols; it
    // holds (instruction, fixup) address pairs.
    let table = unsafe {
        let start = core::ptr::addr_of!(__ex_table_start);
        let end = core::ptr::addr_of!(__ex_table_end);
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    };
    table.iter().find(|e| e[0] == pc).map(|e| e[1])
}

#[no_mangle]
extern "C" fn exception_dispatch(frame: &mut TrapFrame, index: u64) {
    match index {
        entry::EL1_IRQ | entry::EL0_IRQ => {
            super::gic::handle_irq();
            if index == entry::EL0_IRQ {
                crate::trap::return_to_user(frame);
            }
        }
        entry::EL1_SYNC => kernel_sync(frame),
        entry::EL0_SYNC => {
            let esr = Syndrome::new(ESR_EL1.get());
            crate::trap::user_sync(frame, esr, FAR_EL1.get());
            crate::trap::return_to_user(frame);
        }
        _ => kernel_fatal(frame, index, "unexpected exception"),
    }
}

fn kernel_sync(frame: &mut TrapFrame) {
    let esr = Syndrome::new(ESR_EL1.get());
    let far = FAR_EL1.get();
    if let Some(abort) = esr.abort() {
        if crate::trap::kernel_fault_on_user(frame, abort, far) {
            return;
        }
        if let Some(fixup) = exception_table_fixup(frame.elr) {
            frame.elr = fixup;
            return;
        }
    }
    kernel_fatal(frame, entry::EL1_SYNC, "kernel fault")
}

/// Prints a decoded report of an exception the kernel cannot handle and ends
/// QEMU with failure.
pub fn kernel_fatal(frame: &TrapFrame, index: u64, what: &str) -> ! {
    let esr = Syndrome::new(ESR_EL1.get());
    let far = FAR_EL1.get();
    let report = Report { frame, index, esr, far, what };
    crate::console::emergency_print(format_args!("{report}"));
    super::semihosting::exit(1)
}

struct Report<'a> {
    frame: &'a TrapFrame,
    index: u64,
    esr: Syndrome,
    far: u64,
    what: &'a str,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fr = self.frame;
        writeln!(f, "\n*** {}: {} ({})", self.what, self.esr.class_name(), ENTRY_NAMES[self.index as usize & 15])?;
        write!(f, "    ESR_EL1 {:#018x} (EC {:#04x})", self.esr.raw(), self.esr.class_code())?;
        if let Some(a) = self.esr.abort() {
            write!(
                f,
                ": {} on {}",
                a.kind.describe(),
                if a.exec {
                    "fetch"
                } else if a.write {
                    "write"
                } else {
                    "read"
                }
            )?;
            if let super::esr::FaultKind::Translation(l) | super::esr::FaultKind::Permission(l) = a.kind {
                write!(f, " at level {l}")?;
            }
        }
        writeln!(f)?;
        // The interrupted stack pointer: just above the frame vectors.S pushed.
        let sp = fr as *const TrapFrame as u64 + core::mem::size_of::<TrapFrame>() as u64;
        writeln!(
            f,
            "    FAR_EL1 {:#018x}  ELR_EL1 {:#018x}  SPSR_EL1 {:#010x}  SP {sp:#018x}",
            self.far, fr.elr, fr.spsr
        )?;
        for row in 0..8 {
            for col in 0..4 {
                let i = row * 4 + col;
                if i < 31 {
                    write!(f, "    x{:<2} {:#018x}", i, fr.x[i])?;
                } else {
                    write!(f, "    sp_el0 {:#018x}", fr.sp_el0)?;
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
