//! Terminals: `struct termios`, window size and process groups through
//! `ioctl`, as C's `tcgetattr`, `tcsetattr`, `isatty`, `tcgetpgrp` and
//! `tcsetpgrp` do (Linux aarch64 values, asm-generic `termbits.h`, from
//! linux_raw_sys).

use crate::errno::Errno;
use crate::fs::Fd;
use crate::syscall::{nr, ret, syscall3};
use linux_raw_sys::general as linux;
use linux_raw_sys::ioctl;

/// `ioctl` requests.
pub const TCGETS: u32 = ioctl::TCGETS;
pub const TCSETS: u32 = ioctl::TCSETS;
pub const TCSETSW: u32 = ioctl::TCSETSW;
pub const TCSETSF: u32 = ioctl::TCSETSF;
pub const TCXONC: u32 = ioctl::TCXONC;
pub const TCFLSH: u32 = ioctl::TCFLSH;
pub const TIOCSCTTY: u32 = ioctl::TIOCSCTTY;
pub const TIOCGPGRP: u32 = ioctl::TIOCGPGRP;
pub const TIOCSPGRP: u32 = ioctl::TIOCSPGRP;
pub const TIOCGWINSZ: u32 = ioctl::TIOCGWINSZ;
pub const TIOCSWINSZ: u32 = ioctl::TIOCSWINSZ;
pub const FIONREAD: u32 = ioctl::FIONREAD;
pub const TIOCNOTTY: u32 = ioctl::TIOCNOTTY;
pub const TIOCGSID: u32 = ioctl::TIOCGSID;

/// `c_lflag` bits.
pub const ISIG: u32 = linux::ISIG;
pub const ICANON: u32 = linux::ICANON;
pub const ECHO: u32 = linux::ECHO;
/// `c_iflag`: turn `\r` into `\n`.
pub const ICRNL: u32 = linux::ICRNL;
/// `c_oflag` bits.
pub const OPOST: u32 = linux::OPOST;
pub const ONLCR: u32 = linux::ONLCR;
/// `c_cc` indices.
pub const VINTR: usize = linux::VINTR as usize;
pub const VERASE: usize = linux::VERASE as usize;
pub const VEOF: usize = linux::VEOF as usize;
pub const VTIME: usize = linux::VTIME as usize;
pub const VMIN: usize = linux::VMIN as usize;

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
