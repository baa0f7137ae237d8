//! The Rust side of the structure-layout check: the sizes and offsets of
//! the Linux structures the kernel defines in Rust, compared with
//! `tests/c/abi_layout.expected`, which `tests/c/abi_layout.c` prints from
//! the cross compiler's Linux headers (`cargo xtask test` checks that
//! side under qemu-aarch64). Either side changing fails one check.
//!
//! Structures defined in target-only code (the system calls' `stat`,
//! `rusage`, `clone_args`, ...) cannot be reached by a host test: the file
//! defining each checks it at compile time instead, with [`abi_layout!`],
//! which reads the same file through [`expected`]; the build fails if a
//! definition and the headers part. Those files are listed in
//! [`BUILD_CHECKED`], and the host test makes sure each of their entries is
//! named there. Entries the kernel has no Rust definition for yet are
//! listed in [`C_ONLY`]: the C side still pins them to Linux.

#[cfg(test)]
use crate::arch::aarch64::sigframe::{EsrContext, FpsimdContext, Sigcontext, Siginfo, StackT, Ucontext};
#[cfg(test)]
use crate::arch::aarch64::sigframe::{SiChld, SiFault, SiRt, SiTimer, ESR_MAGIC, FPSIMD_MAGIC};
#[cfg(test)]
use crate::fs::tty::ldisc::{self, Termios, Winsize};
#[cfg(test)]
use crate::task::timers::{Itimerspec, Itimerval, Sigevent, Timespec};
#[cfg(test)]
use alloc::string::{String, ToString};
#[cfg(test)]
use alloc::vec::Vec;
#[cfg(test)]
use core::mem::{offset_of, size_of};

/// `tests/c/abi_layout.expected`: one `name value` line per entry.
pub const EXPECTED: &str = include_str!("../../tests/c/abi_layout.expected");

/// The decimal value of entry `name` in [`EXPECTED`]; usable in constants,
/// where a missing entry or a value that is not decimal fails the build.
pub const fn expected(name: &str) -> usize {
    let t = EXPECTED.as_bytes();
    let n = name.as_bytes();
    let mut i = 0;
    while i < t.len() {
        let mut k = 0;
        while k < n.len() && i + k < t.len() && t[i + k] == n[k] {
            k += 1;
        }
        if k == n.len() && i + k < t.len() && t[i + k] == b' ' {
            let (mut j, mut v) = (i + k + 1, 0);
            if j >= t.len() || t[j] == b'\n' {
                panic!("an entry of abi_layout.expected has no value");
            }
            while j < t.len() && t[j] != b'\n' {
                if !t[j].is_ascii_digit() {
                    panic!("an entry of abi_layout.expected used for a layout is not decimal");
                }
                v = v * 10 + (t[j] - b'0') as usize;
                j += 1;
            }
            return v;
        }
        while i < t.len() && t[i] != b'\n' {
            i += 1;
        }
        i += 1;
    }
    panic!("abi_layout.expected has no such entry")
}

/// Checks at compile time that a Rust definition matches
/// `abi_layout.expected`: `abi_layout!("stat", Stat, { "size" =>
/// size_of::<Stat>(), "st_mode" => offset_of!(Stat, mode), ... })` asserts
/// each expression equals the entry `stat.size`, `stat.st_mode`, ...
#[macro_export]
macro_rules! abi_layout {
    ($c:literal, { $($entry:literal => $value:expr,)* }) => {
        const _: () = {
            $(assert!(
                $value == $crate::abi_layout::expected(concat!($c, ".", $entry)),
                concat!($c, ".", $entry, " differs from Linux's headers (tests/c/abi_layout.expected)")
            );)*
        };
    };
}

/// Files that check their structures with [`abi_layout!`], and the entry
/// prefixes they cover; every entry with one of those prefixes must be
/// named in the file (the host test checks it).
#[cfg(test)]
const BUILD_CHECKED: &[(&str, &str, &str)] = &[
    ("stat.", "syscall/fs.rs", include_str!("syscall/fs.rs")),
    ("iovec.", "syscall/fs.rs", include_str!("syscall/fs.rs")),
    ("linux_dirent64.", "syscall/fs.rs", include_str!("syscall/fs.rs")),
    ("perf_event_attr.", "syscall/fs.rs", include_str!("syscall/fs.rs")),
    ("timeval.", "syscall/misc.rs", include_str!("syscall/misc.rs")),
    ("rusage.", "syscall/misc.rs", include_str!("syscall/misc.rs")),
    ("utsname.", "syscall/misc.rs", include_str!("syscall/misc.rs")),
    ("clone_args.", "syscall/proc.rs", include_str!("syscall/proc.rs")),
];

/// Structures checked on the C side only (no Rust definition to compare).
#[cfg(test)]
const C_ONLY: &[&str] = &["robust_list_head.", "pollfd."];

#[cfg(test)]
fn rust_table() -> Vec<(&'static str, String)> {
    let f = offset_of!(Siginfo, fields);
    let n = |v: usize| v.to_string();
    let ws = Winsize { rows: 0x0101, cols: 0x0202, xpixel: 0x0303, ypixel: 0x0404 }.to_bytes();
    let at = |b: u8| ws.iter().position(|&x| x == b).unwrap_or(usize::MAX);
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
        ("timespec.tv_sec", n(offset_of!(Timespec, sec))),
        ("termios.size", n(size_of::<Termios>())),
        ("termios.c_line", n(offset_of!(Termios, line))),
        ("termios.c_cc", n(offset_of!(Termios, cc))),
        ("termios.NCCS", n(ldisc::NCCS)),
        ("termios.c_iflag", n(offset_of!(Termios, iflag))),
        ("termios.c_oflag", n(offset_of!(Termios, oflag))),
        ("termios.c_cflag", n(offset_of!(Termios, cflag))),
        ("termios.c_lflag", n(offset_of!(Termios, lflag))),
        // Winsize goes to user memory through to_bytes: where each field lands.
        ("winsize.size", n(ws.len())),
        ("winsize.ws_row", n(at(1))),
        ("winsize.ws_col", n(at(2))),
        ("winsize.ws_xpixel", n(at(3))),
        ("winsize.ws_ypixel", n(at(4))),
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
            None => match BUILD_CHECKED.iter().find(|(p, _, _)| name.starts_with(p)) {
                Some((p, file, text)) => {
                    let (c, entry) = (&p[..p.len() - 1], &name[p.len()..]);
                    assert!(
                        text.contains(&alloc::format!("abi_layout!(\"{c}\""))
                            && text.contains(&alloc::format!("\"{entry}\" =>")),
                        "{name} is in abi_layout.expected but {file} does not check it with abi_layout!"
                    );
                }
                None => assert!(
                    C_ONLY.iter().any(|p| name.starts_with(p)),
                    "{name} is in abi_layout.expected but neither checked here nor listed in C_ONLY"
                ),
            },
        }
    }
    assert_eq!(seen, rust.len(), "some Rust entries are missing from abi_layout.expected");
}
