//! armmap's vDSO: the code every process finds mapped at the address the
//! auxiliary vector's `AT_SYSINFO_EHDR` gives, as arm64 Linux provides it.
//!
//! It exports, under the version `LINUX_2.6.39` (what glibc looks up):
//!
//! - `__kernel_clock_gettime`, `__kernel_gettimeofday`,
//!   `__kernel_clock_getres`: the clocks, computed from the counter
//!   (CNTVCT_EL0, readable at EL0) and the data page the kernel maps one page
//!   below this code (`_vdso_data`, see `kernel/src/vdso/data.rs`), with the
//!   same arithmetic as the system calls. Clocks the page cannot answer
//!   (CPU-time clocks, unknown ids) go to the real system call, as Linux's
//!   vDSO does.
//! - `__kernel_rt_sigreturn`: the signal return trampoline.
//!
//! Built by `kernel/build.rs` (rustc for the target, position-independent,
//! then rust-lld with `vdso.lds`) into an ELF shared object with no
//! relocations and no undefined symbols: nothing here may call into `core`'s
//! out-of-line code (no panics, no `memcpy`), or the link fails.

#![no_std]
#![allow(clippy::missing_safety_doc)]

#[path = "../src/vdso/data.rs"]
#[allow(dead_code)]
mod data;

use core::arch::{asm, global_asm};
use data::VdsoData;

const NR_GETTIMEOFDAY: u64 = 169;
const NR_CLOCK_GETTIME: u64 = 113;
const NR_CLOCK_GETRES: u64 = 114;

/// `struct timespec`.
#[repr(C)]
pub struct Timespec {
    sec: i64,
    nsec: i64,
}

/// `struct timeval`.
#[repr(C)]
pub struct Timeval {
    sec: i64,
    usec: i64,
}

/// `struct timezone`.
#[repr(C)]
pub struct Timezone {
    minuteswest: i32,
    dsttime: i32,
}

/// The data page, one page below this object's first byte: the address is
/// computed PC-relatively (adrp/add), so it needs no relocation.
#[inline(always)]
fn vvar() -> &'static VdsoData {
    let p: *const VdsoData;
    // SAFETY: only computes an address; `_vdso_data` is defined by the
    // linker script.
    unsafe {
        asm!("adrp {0}, _vdso_data", "add {0}, {0}, :lo12:_vdso_data", out(reg) p, options(pure, nomem, nostack))
    };
    // SAFETY: the kernel maps the data page there, readable, for as long as
    // this code is mapped; it only ever holds a valid `VdsoData`.
    unsafe { &*p }
}

/// The virtual counter, read after earlier instructions completed (`isb`),
/// as the kernel reads it.
#[inline(always)]
fn counter() -> u64 {
    let c: u64;
    // SAFETY: reading CNTVCT_EL0 at EL0 is allowed when the data page says
    // MODE_COUNTER (the kernel set CNTKCTL_EL1.EL0VCTEN first).
    unsafe { asm!("isb", "mrs {0}, cntvct_el0", out(reg) c, options(nomem, nostack)) };
    c
}

/// The real system call `nr` with two arguments.
#[inline(always)]
unsafe fn syscall2(nr: u64, a0: u64, a1: u64) -> i32 {
    let r: u64;
    // SAFETY: `svc #0` enters the kernel, which reads x8, x0, x1 and writes x0.
    unsafe { asm!("svc #0", in("x8") nr, inlateout("x0") a0 => r, in("x1") a1, options(nostack)) };
    r as i64 as i32
}

/// Nanoseconds of `clock` now, or `None` if the kernel must answer.
#[inline(always)]
fn clock_now(clock: i32) -> Option<u64> {
    let clock = u32::try_from(clock).ok()?;
    vvar().read(|p| data::clock_ns(clock, counter(), p))
}

#[no_mangle]
unsafe extern "C" fn vdso_clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    match clock_now(clock) {
        Some(ns) => {
            let (sec, nsec) = data::split_ns(ns);
            // SAFETY: the caller passes a timespec to fill (a bad pointer
            // faults in the caller's process, as with Linux's vDSO).
            unsafe { ts.write(Timespec { sec, nsec }) };
            0
        }
        // SAFETY: the system call checks its arguments.
        None => unsafe { syscall2(NR_CLOCK_GETTIME, clock as i64 as u64, ts as u64) },
    }
}

#[no_mangle]
unsafe extern "C" fn vdso_gettimeofday(tv: *mut Timeval, tz: *mut Timezone) -> i32 {
    if !tv.is_null() {
        let Some(ns) = clock_now(data::CLOCK_REALTIME as i32) else {
            // SAFETY: the system call checks its arguments.
            return unsafe { syscall2(NR_GETTIMEOFDAY, tv as u64, tz as u64) };
        };
        let (sec, nsec) = data::split_ns(ns);
        // SAFETY: the caller passes a timeval to fill.
        unsafe { tv.write(Timeval { sec, usec: nsec / 1000 }) };
    }
    if !tz.is_null() {
        // SAFETY: the caller passes a timezone to fill; armmap's is UTC.
        unsafe { tz.write(Timezone { minuteswest: 0, dsttime: 0 }) };
    }
    0
}

#[no_mangle]
unsafe extern "C" fn vdso_clock_getres(clock: i32, res: *mut Timespec) -> i32 {
    let known = u32::try_from(clock).ok().and_then(|c| vvar().read(|p| data::resolution_ns(c, p)));
    match known {
        Some(ns) => {
            if !res.is_null() {
                let (sec, nsec) = data::split_ns(ns);
                // SAFETY: the caller passes a timespec to fill.
                unsafe { res.write(Timespec { sec, nsec }) };
            }
            0
        }
        // SAFETY: the system call checks its arguments.
        None => unsafe { syscall2(NR_CLOCK_GETRES, clock as i64 as u64, res as u64) },
    }
}

/// The exported entry points: each calls the Rust function of the same
/// name with x18 saved around the call. The compiler may use x18 as a
/// scratch register on this target, but a caller may keep something there
/// (the platform register: Android's shadow call stack); Linux builds its
/// vDSO with `-ffixed-x18` for the same reason.
macro_rules! entry {
    ($name:literal, $body:literal) => {
        global_asm!(
            ".text",
            ".p2align 2",
            concat!(".globl ", $name),
            concat!(".type ", $name, ", %function"),
            concat!($name, ":"),
            "stp x29, x30, [sp, #-32]!",
            "mov x29, sp",
            "str x18, [sp, #16]",
            concat!("bl ", $body),
            "ldr x18, [sp, #16]",
            "ldp x29, x30, [sp], #32",
            "ret",
            concat!(".size ", $name, ", . - ", $name),
        );
    };
}
entry!("__kernel_clock_gettime", "vdso_clock_gettime");
entry!("__kernel_gettimeofday", "vdso_gettimeofday");
entry!("__kernel_clock_getres", "vdso_clock_getres");

// The signal return trampoline: `rt_sigreturn` (139), as Linux's
// sigreturn.S writes it. Unwinders (libgcc, gdb) recognise a signal frame
// by this instruction pair at the return address; the nop before the
// symbol keeps a lookup at pc - 1 inside the function. The CFI directives
// (a signal frame whose CFA is the frame record the kernel pushes) are
// Linux's too, although, as in Linux's image, the unwind tables they make
// are discarded at link time (vdso.lds).
global_asm!(
    ".text",
    ".p2align 2",
    ".cfi_startproc",
    ".cfi_signal_frame",
    ".cfi_def_cfa x29, 0",
    ".cfi_offset x29, 0 * 8",
    ".cfi_offset x30, 1 * 8",
    "nop",
    ".globl __kernel_rt_sigreturn",
    ".type __kernel_rt_sigreturn, %function",
    "__kernel_rt_sigreturn:",
    "mov x8, #139",
    "svc #0",
    ".size __kernel_rt_sigreturn, . - __kernel_rt_sigreturn",
    ".cfi_endproc",
);
