//! The console: where every kernel message and every user `write(1, ...)`
//! goes. Backed by the PL011 once the device tree has named it; before that
//! (and as a fallback) by semihosting, so even the earliest failure is seen.
//!
//! The console lock is taken with interrupts masked, so an interrupt handler
//! that logs cannot deadlock against the code it interrupted.

use crate::arch::aarch64::{cpu, semihosting};
use crate::drivers::pl011::Pl011;
use core::fmt::{self, Write};
use spin::Mutex;

struct Console {
    uart: Option<Pl011>,
}

static CONSOLE: Mutex<Console> = Mutex::new(Console { uart: None });

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

impl Console {
    /// Sends `bytes` byte for byte, `\n` as `\r\n` (as a Linux terminal's
    /// ONLCR setting does); through semihosting before the UART exists.
    fn write_bytes(&self, bytes: &[u8]) {
        self.write_translated(bytes, true)
    }

    /// Sends `bytes`, `\n` as `\r\n` if `crlf`.
    fn write_translated(&self, bytes: &[u8], crlf: bool) {
        match &self.uart {
            Some(u) => {
                for &b in bytes {
                    if b == b'\n' && crlf {
                        u.put(b'\r');
                    }
                    u.put(b);
                }
            }
            None => semihosting::write(&alloc::string::String::from_utf8_lossy(bytes)),
        }
    }
}

/// Switches the console to the PL011 at virtual address `base`.
///
/// # Safety
/// As for [`Pl011::new`].
pub unsafe fn init_uart(base: usize) {
    // SAFETY: forwarded contract.
    let uart = unsafe { Pl011::new(base) };
    uart.init();
    cpu::without_interrupts(|| CONSOLE.lock().uart = Some(uart));
}

/// Writes formatted text to the console.
pub fn print(args: fmt::Arguments<'_>) {
    cpu::without_interrupts(|| {
        let _ = CONSOLE.lock().write_fmt(args);
    });
}

/// Writes raw bytes (user output) to the console, byte for byte.
pub fn write_bytes(bytes: &[u8]) {
    cpu::without_interrupts(|| CONSOLE.lock().write_bytes(bytes));
}

/// Writes bytes exactly as given (the terminal's output processing, see
/// `fs/tty`, already turned `\n` into `\r\n` if its settings ask for it).
pub fn write_raw(bytes: &[u8]) {
    cpu::without_interrupts(|| CONSOLE.lock().write_translated(bytes, false));
}

/// Makes the UART interrupt when bytes arrive.
pub fn enable_rx_interrupt() {
    cpu::without_interrupts(|| {
        if let Some(u) = &CONSOLE.lock().uart {
            u.enable_rx_interrupt();
        }
    });
}

/// Acknowledges the UART's receive interrupt.
pub fn clear_rx_interrupt() {
    cpu::without_interrupts(|| {
        if let Some(u) = &CONSOLE.lock().uart {
            u.clear_rx_interrupt();
        }
    });
}

/// A byte typed on the console, if any.
pub fn read_byte() -> Option<u8> {
    cpu::without_interrupts(|| CONSOLE.lock().uart.as_ref().and_then(|u| u.get()))
}

/// Prints even if the console lock is held (panics, fatal exceptions): the
/// kernel is about to stop, so a garbled line beats a silent hang.
pub fn emergency_print(args: fmt::Arguments<'_>) {
    cpu::irq_save();
    // SAFETY: the machine is going down; nobody else will use the console
    // after this, and a half-written line from the interrupted holder is
    // acceptable.
    unsafe { CONSOLE.force_unlock() };
    let _ = CONSOLE.lock().write_fmt(args);
}

/// `print!` to the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// `println!` to the kernel console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::console::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
