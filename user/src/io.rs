//! `print!`, `println!`, `eprint!`, `eprintln!`: formatted output without a heap.
//!
//! There is no allocator, so formatting cannot build a `String`. Instead each
//! macro call formats into a fixed buffer on the stack ([`BufWriter`]) and
//! hands the finished bytes to the kernel with a single `write` system call.
//! That detail matters once several processes share the console: one call
//! to `println!` is one `write`, so lines from a parent and its child do not
//! get cut into each other halfway. (Only output longer than the buffer,
//! [`PRINT_BUF`] bytes, is split into several writes.)

use crate::errno::Errno;
use crate::fs::{self, Fd};
use core::fmt;

/// File descriptor 0: standard input.
pub const STDIN: Fd = 0;
/// File descriptor 1: standard output, where `print!` writes.
pub const STDOUT: Fd = 1;
/// File descriptor 2: standard error, where `eprint!` and panics write.
pub const STDERR: Fd = 2;

/// Size of the stack buffer one `print!` call formats into.
pub const PRINT_BUF: usize = 1024;

/// Writes all of `buf` to `fd`, retrying after short writes and `EINTR`.
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match fs::write(fd, buf) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A `fmt::Write` sink that collects up to `N` bytes and writes them to a
/// file descriptor in one go when flushed (or when it fills up).
pub struct BufWriter<const N: usize> {
    fd: Fd,
    len: usize,
    buf: [u8; N],
    error: Option<Errno>,
}

impl<const N: usize> BufWriter<N> {
    /// An empty buffer in front of `fd`.
    pub const fn new(fd: Fd) -> Self {
        BufWriter { fd, len: 0, buf: [0; N], error: None }
    }

    /// Writes out what is buffered. Returns the first error seen so far.
    pub fn flush(&mut self) -> Result<(), Errno> {
        if self.len > 0 {
            if let Err(e) = write_all(self.fd, &self.buf[..self.len]) {
                self.error.get_or_insert(e);
            }
            self.len = 0;
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<const N: usize> fmt::Write for BufWriter<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == N {
                // Full: send what we have and start again.
                self.flush().map_err(|_| fmt::Error)?;
            }
            let n = bytes.len().min(N - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// What the print macros expand to: format `args` and write them to `fd`.
/// Errors are ignored, as with `print!` in std when stdout is closed.
#[doc(hidden)]
pub fn _print(fd: Fd, args: fmt::Arguments<'_>) {
    let mut w = BufWriter::<PRINT_BUF>::new(fd);
    let _ = fmt::Write::write_fmt(&mut w, args);
    let _ = w.flush();
}

/// Prints to standard output (fd 1), like std's `print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDOUT, ::core::format_args!($($arg)*))
    };
}

/// Prints a line to standard output (fd 1), like std's `println!`. The text
/// and its newline go out in one `write`.
#[macro_export]
macro_rules! println {
    () => {
        $crate::io::_print($crate::io::STDOUT, ::core::format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::io::_print(
            $crate::io::STDOUT,
            ::core::format_args!("{}\n", ::core::format_args!($($arg)*)),
        )
    };
}

/// Prints to standard error (fd 2), like std's `eprint!`.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDERR, ::core::format_args!($($arg)*))
    };
}

/// Prints a line to standard error (fd 2), like std's `eprintln!`.
#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::io::_print($crate::io::STDERR, ::core::format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::io::_print(
            $crate::io::STDERR,
            ::core::format_args!("{}\n", ::core::format_args!($($arg)*)),
        )
    };
}
