//! The runtime: how a program starts (`_start`, [`entry!`](crate::entry)) and
//! how it ends when it panics.
//!
//! The kernel jumps to the ELF entry point, `_start`, with nothing but a stack:
//! no Rust code has run, and the stack pointer points at `argc`. `_start` is
//! a few instructions of assembly that pass that stack pointer to [`start`],
//! which builds [`Args`], calls the program's `main` and hands its return
//! value to `exit_group`. A library cannot define `_start` for a program it
//! does not know, so each program writes `user::entry!(main);` to get one.
//!
//! A panic prints `panic: <message> at <file>:<line>` on standard error and
//! exits with status 101 (the same code a Rust std program uses). If the
//! panic happens inside a [`test::Harness`](crate::test::Harness) case, the
//! case's `FAILED` line is printed first, so the test runner still sees it.

use crate::env::Args;
use crate::process;

/// Called by `_start` (from [`entry!`](crate::entry)): runs `main` with the
/// program's arguments and exits with its return value.
///
/// # Safety
///
/// `sp` must be the stack pointer the kernel started the program with.
pub unsafe fn start(sp: *const usize, main: fn(Args) -> i32) -> ! {
    // SAFETY: forwarded to the caller (see `# Safety`).
    let args = unsafe { Args::from_stack(sp) };
    let code = main(args);
    process::exit(code)
}

/// Defines the program's entry point `_start`, which calls `main`.
///
/// `main` must have the type `fn(user::Args) -> i32`; its return value is
/// the exit status. Use it once, in a `#![no_std] #![no_main]` binary:
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// use user::{println, Args};
///
/// user::entry!(main);
///
/// fn main(args: Args) -> i32 {
///     println!("hello from {}", args.program());
///     0
/// }
/// ```
///
/// `_start` clears the frame pointer and link register (so a debugger's
/// backtrace stops here), passes `sp` to [`start`](crate::rt::start) in
/// `x0`, and never returns. At entry `sp` is 16-byte aligned, as the
/// AArch64 procedure call standard requires, so nothing needs adjusting.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// Rust side of `_start`: `sp` is the initial stack pointer.
        #[doc(hidden)]
        unsafe extern "C" fn __user_start_rust(sp: *const usize) -> ! {
            const MAIN: fn($crate::Args) -> i32 = $main;
            // SAFETY: `_start` passes the stack pointer exactly as the kernel
            // set it at program entry.
            unsafe { $crate::rt::start(sp, MAIN) }
        }

        ::core::arch::global_asm!(
            // Its own section, so the linker script can put it first.
            ".pushsection .text._start, \"ax\", %progbits",
            ".globl _start",
            ".type _start, %function",
            ".p2align 2",
            "_start:",
            "    mov x29, xzr",
            "    mov x30, xzr",
            "    mov x0, sp",
            "    bl {rust_start}",
            "    brk #0x1",
            ".size _start, . - _start",
            ".popsection",
            rust_start = sym __user_start_rust,
        );
    };
}

/// The panic handler: report, mark a running test case as failed, exit 101.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::sync::atomic::{AtomicBool, Ordering};
    static PANICKING: AtomicBool = AtomicBool::new(false);
    if PANICKING.swap(true, Ordering::Relaxed) {
        // Panicked while reporting a panic: just stop.
        process::exit(101);
    }
    match info.location() {
        Some(loc) => crate::eprintln!("panic: {} at {}:{}", info.message(), loc.file(), loc.line()),
        None => crate::eprintln!("panic: {}", info.message()),
    }
    crate::test::report_panic();
    process::exit(101)
}
