//! The console as a terminal (tty).
//!
//! `ldisc` is the line discipline, pure logic tested on the host; `console`
//! connects it to the PL011's receive interrupt, the readers' wait queue,
//! the foreground process group and the tty `ioctl`s. armmap has one
//! terminal, the console: `/dev/console`, `/dev/tty` and descriptors 0-2 of
//! the first process all reach it.

pub mod ldisc;

target_only! {
    pub mod console;
}

#[cfg(target_os = "none")]
pub use console::*;
