//! Terminals: `struct termios`, window size and process groups through
//! `ioctl`, as C's `tcgetattr`, `tcsetattr`, `isatty`, `tcgetpgrp` and
//! `tcsetpgrp` do (Linux aarch64 values, asm-generic `termbits.h`).

use crate::errno::Errno;
use crate::fs::Fd;
use crate::syscall::{nr, ret, syscall3};

/// `ioctl` requests.
pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TCXONC: u32 = 0x540a;
pub const TCFLSH: u32 = 0x540b;
pub const TIOCSCTTY: u32 = 0x540e;
pub const TIOCGPGRP: u32 = 0x540f;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const FIONREAD: u32 = 0x541b;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCGSID: u32 = 0x5429;

/// `c_lflag` bits.
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
/// `c_iflag`: turn `\r` into `\n`.
pub const ICRNL: u32 = 0o400;
/// `c_oflag` bits.
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
/// `c_cc` indices.
pub const VINTR: usize = 0;
pub const VERASE: usize = 2;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;

/// Linux's `struct termios` (36 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; 19],
}

/// Linux's `struct winsize`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

/// `ioctl(fd, request, arg)`.
///
/// # Safety
/// `arg` must be what `request` expects: a value, or a pointer to memory
/// of the size and type the request reads or writes.
pub unsafe fn ioctl(fd: Fd, request: u32, arg: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded contract.
    ret(unsafe { syscall3(nr::IOCTL, fd as usize, request as usize, arg) })
}

/// The terminal settings of `fd` (ENOTTY if it is no terminal).
pub fn tcgetattr(fd: Fd) -> Result<Termios, Errno> {
    let mut t = Termios::default();
    // SAFETY: TCGETS writes one struct termios.
    unsafe { ioctl(fd, TCGETS, &mut t as *mut Termios as usize) }?;
    Ok(t)
}

/// Sets the terminal settings of `fd`: `request` is TCSETS (now),
/// TCSETSW (after output drains) or TCSETSF (and flush input).
pub fn tcsetattr(fd: Fd, request: u32, t: &Termios) -> Result<(), Errno> {
    // SAFETY: TCSETS* read one struct termios.
    unsafe { ioctl(fd, request, t as *const Termios as usize) }.map(drop)
}

/// Whether `fd` is a terminal.
pub fn isatty(fd: Fd) -> bool {
    tcgetattr(fd).is_ok()
}

/// The foreground process group of the terminal `fd`.
pub fn tcgetpgrp(fd: Fd) -> Result<i32, Errno> {
    let mut g = 0i32;
    // SAFETY: TIOCGPGRP writes one int.
    unsafe { ioctl(fd, TIOCGPGRP, &mut g as *mut i32 as usize) }?;
    Ok(g)
}

/// Makes `pgrp` the foreground process group of the terminal `fd`.
pub fn tcsetpgrp(fd: Fd, pgrp: i32) -> Result<(), Errno> {
    // SAFETY: TIOCSPGRP reads one int.
    unsafe { ioctl(fd, TIOCSPGRP, &pgrp as *const i32 as usize) }.map(drop)
}

/// The window size of the terminal `fd`.
pub fn get_winsize(fd: Fd) -> Result<Winsize, Errno> {
    let mut w = Winsize::default();
    // SAFETY: TIOCGWINSZ writes one struct winsize.
    unsafe { ioctl(fd, TIOCGWINSZ, &mut w as *mut Winsize as usize) }?;
    Ok(w)
}

/// Sets the window size of the terminal `fd`.
pub fn set_winsize(fd: Fd, w: &Winsize) -> Result<(), Errno> {
    // SAFETY: TIOCSWINSZ reads one struct winsize.
    unsafe { ioctl(fd, TIOCSWINSZ, w as *const Winsize as usize) }.map(drop)
}

/// An `int` an ioctl writes (TIOCGSID, FIONREAD).
pub fn ioctl_int(fd: Fd, request: u32) -> Result<i32, Errno> {
    let mut v = 0i32;
    // SAFETY: the requests this is used for write one int.
    unsafe { ioctl(fd, request, &mut v as *mut i32 as usize) }?;
    Ok(v)
}
