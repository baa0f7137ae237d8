//! Decoding the Exception Syndrome Register (ESR_EL1).
//!
//! When a synchronous exception is taken to EL1, ESR_EL1 says why: the
//! *exception class* (EC, bits 31:26) names the kind of event (a system call,
//! a data abort, an undefined instruction...) and the *instruction specific
//! syndrome* (ISS, bits 24:0) gives the details. For aborts the ISS holds the
//! fault status code (what went wrong in the translation: no entry at some
//! level, a permission denied, ...) and whether the access was a write.
//!
//! Pure bit manipulation: unit-tested on the host.

use tock_registers::{register_bitfields, LocalRegisterCopy};

register_bitfields! {u64,
    /// ESR_EL1 as far as armmap decodes it.
    pub ESR [
        /// Exception class.
        EC OFFSET(26) NUMBITS(6) [
            Unknown = 0x00,
            TrappedWfiWfe = 0x01,
            TrappedFpSimd = 0x07,
            IllegalExecutionState = 0x0e,
            Svc64 = 0x15,
            TrappedMsrMrs = 0x18,
            TrappedSve = 0x19,
            PointerAuth = 0x1c,
            InstrAbortLowerEl = 0x20,
            InstrAbortSameEl = 0x21,
            PcAlignment = 0x22,
            DataAbortLowerEl = 0x24,
            DataAbortSameEl = 0x25,
            SpAlignment = 0x26,
            FpException64 = 0x2c,
            SError = 0x2f,
            BreakpointLowerEl = 0x30,
            BreakpointSameEl = 0x31,
            SoftwareStepLowerEl = 0x32,
            SoftwareStepSameEl = 0x33,
            WatchpointLowerEl = 0x34,
            WatchpointSameEl = 0x35,
            Brk64 = 0x3c
        ],
        /// Instruction length (1 = 32-bit instruction).
        IL OFFSET(25) NUMBITS(1) [],
        /// Data aborts: write (1) or read (0).
        WNR OFFSET(6) NUMBITS(1) [],
        /// Data aborts: caused by a cache maintenance instruction.
        CM OFFSET(8) NUMBITS(1) [],
        /// Aborts: FAR is not valid.
        FNV OFFSET(10) NUMBITS(1) [],
        /// Aborts: fault status code.
        FSC OFFSET(0) NUMBITS(6) [],
        /// SVC: the immediate.
        IMM16 OFFSET(0) NUMBITS(16) []
    ]
}

/// What kind of translation problem an abort reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No valid entry at the given level: the page is not mapped (yet).
    Translation(u8),
    /// The access flag was clear.
    AccessFlag(u8),
    /// The entry exists but does not allow this access.
    Permission(u8),
    /// Misaligned access to device memory or an exclusive.
    Alignment,
    /// Anything else (external abort, TLB conflict, ...): the raw code.
    Other(u8),
}

/// A decoded instruction or data abort.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Abort {
    pub kind: FaultKind,
    /// The access was a write (data aborts only).
    pub write: bool,
    /// The abort came from an instruction fetch.
    pub exec: bool,
    /// FAR_EL1 holds the faulting address.
    pub far_valid: bool,
}

/// A decoded ESR_EL1 value.
#[derive(Copy, Clone)]
pub struct Syndrome(LocalRegisterCopy<u64, ESR::Register>);

impl Syndrome {
    pub fn new(esr: u64) -> Self {
        Self(LocalRegisterCopy::new(esr))
    }

    /// The raw register value.
    pub fn raw(&self) -> u64 {
        self.0.get()
    }

    /// The exception class.
    pub fn class(&self) -> Option<ESR::EC::Value> {
        self.0.read_as_enum(ESR::EC)
    }

    /// The exception class number.
    pub fn class_code(&self) -> u8 {
        self.0.read(ESR::EC) as u8
    }

    /// The SVC immediate (`svc #imm`).
    pub fn svc_imm(&self) -> u16 {
        self.0.read(ESR::IMM16) as u16
    }

    /// The exception class in words, for reports.
    pub fn class_name(&self) -> &'static str {
        use ESR::EC::Value as V;
        match self.class() {
            Some(V::Unknown) => "unknown reason (undefined instruction)",
            Some(V::TrappedWfiWfe) => "trapped WFI/WFE",
            Some(V::TrappedFpSimd) => "trapped FP/SIMD access",
            Some(V::IllegalExecutionState) => "illegal execution state",
            Some(V::Svc64) => "SVC (system call)",
            Some(V::TrappedMsrMrs) => "trapped MSR/MRS/system instruction",
            Some(V::TrappedSve) => "trapped SVE access",
            Some(V::PointerAuth) => "pointer authentication failure",
            Some(V::InstrAbortLowerEl) => "instruction abort from EL0",
            Some(V::InstrAbortSameEl) => "instruction abort from EL1",
            Some(V::PcAlignment) => "PC alignment fault",
            Some(V::DataAbortLowerEl) => "data abort from EL0",
            Some(V::DataAbortSameEl) => "data abort from EL1",
            Some(V::SpAlignment) => "SP alignment fault",
            Some(V::FpException64) => "floating-point exception",
            Some(V::SError) => "SError",
            Some(V::BreakpointLowerEl) | Some(V::BreakpointSameEl) => "hardware breakpoint",
            Some(V::SoftwareStepLowerEl) | Some(V::SoftwareStepSameEl) => "software step",
            Some(V::WatchpointLowerEl) | Some(V::WatchpointSameEl) => "watchpoint",
            Some(V::Brk64) => "BRK instruction",
            None => "unrecognised exception class",
        }
    }

    /// Decodes an instruction or data abort; `None` for other classes.
    pub fn abort(&self) -> Option<Abort> {
        use ESR::EC::Value as V;
        let exec = match self.class()? {
            V::InstrAbortLowerEl | V::InstrAbortSameEl => true,
            V::DataAbortLowerEl | V::DataAbortSameEl => false,
            _ => return None,
        };
        let fsc = self.0.read(ESR::FSC) as u8;
        let level = fsc & 0b11;
        let kind = match fsc & 0b11_1100 {
            0b00_0100 => FaultKind::Translation(level),
            0b00_1000 => FaultKind::AccessFlag(level),
            0b00_1100 => FaultKind::Permission(level),
            _ if fsc == 0b10_0001 => FaultKind::Alignment,
            _ => FaultKind::Other(fsc),
        };
        // A cache maintenance operation reports WnR = 1 but is not a store.
        let write = !exec && self.0.is_set(ESR::WNR) && !self.0.is_set(ESR::CM);
        Some(Abort { kind, write, exec, far_valid: !self.0.is_set(ESR::FNV) })
    }
}

impl FaultKind {
    /// Short description for reports.
    pub fn describe(&self) -> &'static str {
        match self {
            FaultKind::Translation(_) => "translation fault",
            FaultKind::AccessFlag(_) => "access flag fault",
            FaultKind::Permission(_) => "permission fault",
            FaultKind::Alignment => "alignment fault",
            FaultKind::Other(_) => "other abort",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svc() {
        let s = Syndrome::new(0x5600_0000);
        assert_eq!(s.class_code(), 0x15);
        assert_eq!(s.class_name(), "SVC (system call)");
        assert_eq!(s.svc_imm(), 0);
        assert!(s.abort().is_none());
    }

    #[test]
    fn data_abort_write_translation_level3() {
        // EC = 0x24, IL, WnR, DFSC = 0b000111 (translation fault, level 3).
        let s = Syndrome::new(0x9200_0047);
        let a = s.abort().unwrap();
        assert_eq!(a.kind, FaultKind::Translation(3));
        assert!(a.write && !a.exec && a.far_valid);
    }

    #[test]
    fn instruction_abort_permission() {
        // EC = 0x20, IFSC = 0b001111 (permission fault, level 3).
        let s = Syndrome::new(0x8200_000f);
        let a = s.abort().unwrap();
        assert_eq!(a.kind, FaultKind::Permission(3));
        assert!(a.exec && !a.write);
        assert_eq!(s.class_name(), "instruction abort from EL0");
    }

    #[test]
    fn cache_maintenance_is_not_a_write() {
        let s = Syndrome::new(0x9600_0147);
        assert!(!s.abort().unwrap().write);
    }
}
