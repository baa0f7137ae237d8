//! About the system: `uname` (which kernel is this?) and `getrandom`.
//!
//! `uname` fills a fixed-size record of six NUL-terminated strings; a program
//! can use it to tell whether it runs on armmap or on Linux.

use crate::errno::Errno;
use crate::syscall::{nr, ret, syscall1, syscall3};

/// Length of each `uname` field, including its NUL.
pub const UTSNAME_LEN: usize = 65;

/// `struct new_utsname`, what the `uname` system call fills in.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Utsname {
    /// Operating system name: `"Linux"`, `"armmap"`.
    pub sysname: [u8; UTSNAME_LEN],
    /// Host name.
    pub nodename: [u8; UTSNAME_LEN],
    /// Kernel release.
    pub release: [u8; UTSNAME_LEN],
    /// Kernel version / build.
    pub version: [u8; UTSNAME_LEN],
    /// Hardware: `"aarch64"`.
    pub machine: [u8; UTSNAME_LEN],
    /// NIS domain name.
    pub domainname: [u8; UTSNAME_LEN],
}

impl Utsname {
    /// A field as text: up to its first NUL, `"?"` if it is not UTF-8.
    pub fn field(f: &[u8; UTSNAME_LEN]) -> &str {
        let len = f.iter().position(|&b| b == 0).unwrap_or(f.len());
        core::str::from_utf8(&f[..len]).unwrap_or("?")
    }

    /// [`Self::sysname`] as text.
    pub fn sysname(&self) -> &str {
        Self::field(&self.sysname)
    }

    /// [`Self::release`] as text.
    pub fn release(&self) -> &str {
        Self::field(&self.release)
    }

    /// [`Self::machine`] as text.
    pub fn machine(&self) -> &str {
        Self::field(&self.machine)
    }
}

/// Who and what the kernel is.
pub fn uname() -> Result<Utsname, Errno> {
    let mut u = Utsname {
        sysname: [0; UTSNAME_LEN],
        nodename: [0; UTSNAME_LEN],
        release: [0; UTSNAME_LEN],
        version: [0; UTSNAME_LEN],
        machine: [0; UTSNAME_LEN],
        domainname: [0; UTSNAME_LEN],
    };
    // SAFETY: the kernel writes one `struct new_utsname` (6 x 65 bytes, the
    // layout of `Utsname`) into `u`.
    ret(unsafe { syscall1(nr::UNAME, &mut u as *mut Utsname as usize) })?;
    Ok(u)
}

/// Fills `buf` with random bytes; returns how many were written.
pub fn getrandom(buf: &mut [u8], flags: u32) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    ret(unsafe { syscall3(nr::GETRANDOM, buf.as_mut_ptr() as usize, buf.len(), flags as usize) })
}
