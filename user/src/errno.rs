//! Error numbers: why a system call failed.
//!
//! When a Linux (or armmap) system call fails it returns `-errno` in `x0`,
//! where `errno` is a small positive number with a fixed meaning: 2 is
//! `ENOENT` ("no such file or directory"), 14 is `EFAULT` ("bad address": you
//! passed the kernel a pointer it cannot use), and so on. The values here are
//! Linux's (`include/uapi/asm-generic/errno-base.h` and `errno.h`); armmap
//! uses the same ones so that programs behave identically on both.
//!
//! [`Errno`] wraps the number so a `Result<usize, Errno>` cannot be confused
//! with a plain count, and prints as its name (`EFAULT`) so test failures are
//! readable.

use core::fmt;

/// A Linux error number, as returned (negated) by a failing system call.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// 1: Operation not permitted.
    pub const EPERM: Errno = Errno(1);
    /// 2: No such file or directory.
    pub const ENOENT: Errno = Errno(2);
    /// 3: No such process.
    pub const ESRCH: Errno = Errno(3);
    /// 4: Interrupted system call.
    pub const EINTR: Errno = Errno(4);
    /// 5: Input/output error.
    pub const EIO: Errno = Errno(5);
    /// 6: No such device or address.
    pub const ENXIO: Errno = Errno(6);
    /// 7: Argument list too long.
    pub const E2BIG: Errno = Errno(7);
    /// 8: Exec format error.
    pub const ENOEXEC: Errno = Errno(8);
    /// 9: Bad file descriptor.
    pub const EBADF: Errno = Errno(9);
    /// 10: No child processes.
    pub const ECHILD: Errno = Errno(10);
    /// 11: Resource temporarily unavailable.
    pub const EAGAIN: Errno = Errno(11);
    /// 12: Cannot allocate memory.
    pub const ENOMEM: Errno = Errno(12);
    /// 13: Permission denied.
    pub const EACCES: Errno = Errno(13);
    /// 14: Bad address.
    pub const EFAULT: Errno = Errno(14);
    /// 15: Block device required.
    pub const ENOTBLK: Errno = Errno(15);
    /// 16: Device or resource busy.
    pub const EBUSY: Errno = Errno(16);
    /// 17: File exists.
    pub const EEXIST: Errno = Errno(17);
    /// 18: Invalid cross-device link.
    pub const EXDEV: Errno = Errno(18);
    /// 19: No such device.
    pub const ENODEV: Errno = Errno(19);
    /// 20: Not a directory.
    pub const ENOTDIR: Errno = Errno(20);
    /// 21: Is a directory.
    pub const EISDIR: Errno = Errno(21);
    /// 22: Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// 23: Too many open files in system.
    pub const ENFILE: Errno = Errno(23);
    /// 24: Too many open files.
    pub const EMFILE: Errno = Errno(24);
    /// 25: Inappropriate ioctl for device.
    pub const ENOTTY: Errno = Errno(25);
    /// 26: Text file busy.
    pub const ETXTBSY: Errno = Errno(26);
    /// 27: File too large.
    pub const EFBIG: Errno = Errno(27);
    /// 28: No space left on device.
    pub const ENOSPC: Errno = Errno(28);
    /// 29: Illegal seek.
    pub const ESPIPE: Errno = Errno(29);
    /// 30: Read-only file system.
    pub const EROFS: Errno = Errno(30);
    /// 31: Too many links.
    pub const EMLINK: Errno = Errno(31);
    /// 32: Broken pipe.
    pub const EPIPE: Errno = Errno(32);
    /// 33: Numerical argument out of domain.
    pub const EDOM: Errno = Errno(33);
    /// 34: Numerical result out of range.
    pub const ERANGE: Errno = Errno(34);
    /// 35: Resource deadlock avoided.
    pub const EDEADLK: Errno = Errno(35);
    /// 36: File name too long.
    pub const ENAMETOOLONG: Errno = Errno(36);
    /// 38: Function not implemented.
    pub const ENOSYS: Errno = Errno(38);
    /// 39: Directory not empty.
    pub const ENOTEMPTY: Errno = Errno(39);
    /// 40: Too many levels of symbolic links.
    pub const ELOOP: Errno = Errno(40);
    /// 95: Operation not supported.
    pub const EOPNOTSUPP: Errno = Errno(95);
    /// 110: Connection timed out.
    pub const ETIMEDOUT: Errno = Errno(110);
    /// `EWOULDBLOCK` is another name for `EAGAIN` on Linux.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// `ENOTSUP` is another name for `EOPNOTSUPP` on Linux.
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// The symbolic name (`"ENOENT"`), or `"E?"` for numbers this table does
    /// not know.
    pub fn name(self) -> &'static str {
        self.info().0
    }

    /// A one-line description in the words of glibc's `strerror`.
    pub fn description(self) -> &'static str {
        self.info().1
    }

    fn info(self) -> (&'static str, &'static str) {
        match self.0 {
            1 => ("EPERM", "Operation not permitted"),
            2 => ("ENOENT", "No such file or directory"),
            3 => ("ESRCH", "No such process"),
            4 => ("EINTR", "Interrupted system call"),
            5 => ("EIO", "Input/output error"),
            6 => ("ENXIO", "No such device or address"),
            7 => ("E2BIG", "Argument list too long"),
            8 => ("ENOEXEC", "Exec format error"),
            9 => ("EBADF", "Bad file descriptor"),
            10 => ("ECHILD", "No child processes"),
            11 => ("EAGAIN", "Resource temporarily unavailable"),
            12 => ("ENOMEM", "Cannot allocate memory"),
            13 => ("EACCES", "Permission denied"),
            14 => ("EFAULT", "Bad address"),
            15 => ("ENOTBLK", "Block device required"),
            16 => ("EBUSY", "Device or resource busy"),
            17 => ("EEXIST", "File exists"),
            18 => ("EXDEV", "Invalid cross-device link"),
            19 => ("ENODEV", "No such device"),
            20 => ("ENOTDIR", "Not a directory"),
            21 => ("EISDIR", "Is a directory"),
            22 => ("EINVAL", "Invalid argument"),
            23 => ("ENFILE", "Too many open files in system"),
            24 => ("EMFILE", "Too many open files"),
            25 => ("ENOTTY", "Inappropriate ioctl for device"),
            26 => ("ETXTBSY", "Text file busy"),
            27 => ("EFBIG", "File too large"),
            28 => ("ENOSPC", "No space left on device"),
            29 => ("ESPIPE", "Illegal seek"),
            30 => ("EROFS", "Read-only file system"),
            31 => ("EMLINK", "Too many links"),
            32 => ("EPIPE", "Broken pipe"),
            33 => ("EDOM", "Numerical argument out of domain"),
            34 => ("ERANGE", "Numerical result out of range"),
            35 => ("EDEADLK", "Resource deadlock avoided"),
            36 => ("ENAMETOOLONG", "File name too long"),
            38 => ("ENOSYS", "Function not implemented"),
            39 => ("ENOTEMPTY", "Directory not empty"),
            40 => ("ELOOP", "Too many levels of symbolic links"),
            95 => ("EOPNOTSUPP", "Operation not supported"),
            110 => ("ETIMEDOUT", "Connection timed out"),
            _ => ("E?", "Unknown error"),
        }
    }
}

/// Prints the name, or the number if the name is unknown: `EFAULT`, `Errno(200)`.
impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "E?" => write!(f, "Errno({})", self.0),
            name => f.write_str(name),
        }
    }
}

/// Prints name, number and description: `ENOENT (2): No such file or directory`.
impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.0, self.description())
    }
}
