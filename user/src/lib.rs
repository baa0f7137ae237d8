//! `user`: the little library every armmap user program is built on.
//!
//! armmap runs ordinary static aarch64 Linux programs, so this library is a
//! miniature C library written in Rust, with no heap and no `std`: it talks
//! to the kernel only through the Linux aarch64 system-call ABI (`svc #0`,
//! number in `x8`, arguments in `x0`..`x5`, result in `x0`). Programs built
//! with it therefore also run unmodified on Linux, for example under
//! `qemu-aarch64`, which is a handy way to tell a kernel bug from a program bug.
//!
//! What is where:
//!
//! - [`syscall`]: the raw `svc #0` calls and the syscall number table.
//! - [`errno`]: [`Errno`], why a call failed.
//! - [`io`]: `print!`/`println!`/`eprintln!` and fd 0/1/2.
//! - [`fs`]: `read`, `write`, `open`, `close`, `lseek`, `fstat`, ...
//! - [`process`]: `fork`, `waitpid` and status decoding, `exit`, `kill`, ...
//! - [`mm`]: `mmap`, `munmap`, `mprotect`, `msync`, `brk`.
//! - [`time`]: `clock_gettime`, `nanosleep`, `getrusage`.
//! - [`sys`]: `uname`, `getrandom`.
//! - [`env`](mod@env): [`Args`], the command line and environment.
//! - [`rt`]: program start ([`entry!`]) and the panic handler.
//! - [`test`](mod@test): the test harness used by the on-target tests.
//!
//! Wrappers return `Result<T, Errno>`: `T` is `usize` for counts and
//! addresses, `()` for calls that only succeed or fail, and a typed value
//! (`Pid`, `Stat`, `Timespec`, ...) where that is what the call produces.
//! A minimal program:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//!
//! user::entry!(main);
//!
//! fn main(args: user::Args) -> i32 {
//!     user::println!("hello from pid {}", user::getpid());
//!     0
//! }
//! ```
#![no_std]

pub mod env;
pub mod errno;
pub mod fs;
pub mod io;
pub mod mm;
pub mod process;
pub mod rt;
pub mod sys;
pub mod syscall;
pub mod test;
pub mod time;
pub mod tty;
pub mod util;

pub use env::{args, Args};
pub use errno::Errno;

// The calls almost every program uses, also at the crate root.
pub use fs::{close, open, read, write, Fd};
pub use process::{exit, fork, getpid, getppid, kill, sched_yield, wait, waitpid, Pid};
