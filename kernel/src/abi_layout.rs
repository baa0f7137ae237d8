//! The Rust side of the structure-layout check: the sizes and offsets of
//! the Linux structures the kernel defines in Rust, compared with
//! `tests/c/abi_layout.expected`, which `tests/c/abi_layout.c` prints from
//! the cross compiler's Linux headers (`cargo xtask test` checks that
//! side under qemu-aarch64). Either side changing fails one check.
//!
//! Entries the kernel has no portable Rust definition for yet are listed
//! in [`C_ONLY`]: the C side still pins them to Linux.

use crate::arch::aarch64::sigframe::{EsrContext, FpsimdContext, Sigcontext, Siginfo, StackT, Ucontext};
use crate::arch::aarch64::sigframe::{SiChld, SiFault, SiRt, SiTimer, ESR_MAGIC, FPSIMD_MAGIC};
use crate::task::timers::{Itimerspec, Itimerval, Sigevent, Timespec};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

/// Structures checked on the C side only (no Rust definition to compare).
const C_ONLY: &[&str] = &["termios.", "stat.", "robust_list_head."];

fn rust_table() -> Vec<(&'static str, String)> {
    let f = offset_of!(Siginfo, fields);
    let n = |v: usize| v.to_string();
    alloc::vec![
        ("sigcontext.size", n(size_of::<Sigcontext>())),
        ("sigcontext.fault_address", n(offset_of!(Sigcontext, fault_address))),
        ("sigcontext.regs", n(offset_of!(Sigcontext, regs))),
        ("sigcontext.sp", n(offset_of!(Sigcontext, sp))),
        ("sigcontext.pc", n(offset_of!(Sigcontext, pc))),
        ("sigcontext.pstate", n(offset_of!(Sigcontext, pstate))),
        ("sigcontext.__reserved", n(offset_of!(Sigcontext, reserved))),
        ("fpsimd_context.size", n(size_of::<FpsimdContext>())),
        ("fpsimd_context.fpsr", n(offset_of!(FpsimdContext, fpsr))),
        ("fpsimd_context.fpcr", n(offset_of!(FpsimdContext, fpcr))),
        ("fpsimd_context.vregs", n(offset_of!(FpsimdContext, vregs))),
        ("fpsimd_context.magic", alloc::format!("{FPSIMD_MAGIC:#x}")),
        ("esr_context.size", n(size_of::<EsrContext>())),
        ("esr_context.esr", n(offset_of!(EsrContext, esr))),
        ("esr_context.magic", alloc::format!("{ESR_MAGIC:#x}")),
        ("ucontext.size", n(size_of::<Ucontext>())),
        ("ucontext.uc_flags", n(offset_of!(Ucontext, uc_flags))),
        ("ucontext.uc_link", n(offset_of!(Ucontext, uc_link))),
        ("ucontext.uc_stack", n(offset_of!(Ucontext, uc_stack))),
        ("ucontext.uc_sigmask", n(offset_of!(Ucontext, uc_sigmask))),
        ("ucontext.uc_mcontext", n(offset_of!(Ucontext, uc_mcontext))),
        ("ucontext.glibc_uc_sigmask", n(offset_of!(Ucontext, uc_sigmask))),
        ("ucontext.glibc_uc_mcontext", n(offset_of!(Ucontext, uc_mcontext))),
        ("siginfo.size", n(size_of::<Siginfo>())),
        ("siginfo.si_signo", n(offset_of!(Siginfo, signo))),
        ("siginfo.si_errno", n(offset_of!(Siginfo, errno))),
        ("siginfo.si_code", n(offset_of!(Siginfo, code))),
        ("siginfo.si_pid", n(f + offset_of!(SiRt, pid))),
        ("siginfo.si_uid", n(f + offset_of!(SiRt, uid))),
        ("siginfo.si_value", n(f + offset_of!(SiRt, value))),
        ("siginfo.si_addr", n(f + offset_of!(SiFault, addr))),
        ("siginfo.si_status", n(f + offset_of!(SiChld, status))),
        ("siginfo.si_utime", n(f + offset_of!(SiChld, utime))),
        ("siginfo.si_stime", n(f + offset_of!(SiChld, stime))),
        ("siginfo.si_timerid", n(f + offset_of!(SiTimer, tid))),
        ("siginfo.si_overrun", n(f + offset_of!(SiTimer, overrun))),
        ("stack_t.size", n(size_of::<StackT>())),
        ("stack_t.ss_sp", n(offset_of!(StackT, ss_sp))),
        ("stack_t.ss_flags", n(offset_of!(StackT, ss_flags))),
        ("stack_t.ss_size", n(offset_of!(StackT, ss_size))),
        ("timespec.size", n(size_of::<Timespec>())),
        ("timespec.tv_nsec", n(offset_of!(Timespec, nsec))),
        ("itimerval.size", n(size_of::<Itimerval>())),
        ("itimerval.it_value", n(offset_of!(Itimerval, value))),
        ("itimerspec.size", n(size_of::<Itimerspec>())),
        ("itimerspec.it_value", n(offset_of!(Itimerspec, value))),
        ("sigevent.size", n(size_of::<Sigevent>())),
        ("sigevent.sigev_value", n(offset_of!(Sigevent, value))),
        ("sigevent.sigev_signo", n(offset_of!(Sigevent, signo))),
        ("sigevent.sigev_notify", n(offset_of!(Sigevent, notify))),
        ("sigevent.sigev_notify_thread_id", n(offset_of!(Sigevent, tid))),
    ]
}

#[test]
fn rust_layouts_match_the_linux_headers() {
    let expected = include_str!("../../tests/c/abi_layout.expected");
    let rust = rust_table();
    let mut seen = 0;
    for line in expected.lines().filter(|l| !l.trim().is_empty()) {
        let (name, value) = line.split_once(' ').unwrap_or((line, ""));
        match rust.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                assert_eq!(v, value, "{name}: Rust says {v}, Linux's headers {value}");
                seen += 1;
            }
            None => assert!(
                C_ONLY.iter().any(|p| name.starts_with(p)),
                "{name} is in abi_layout.expected but neither checked here nor listed in C_ONLY"
            ),
        }
    }
    assert_eq!(seen, rust.len(), "some Rust entries are missing from abi_layout.expected");
}
