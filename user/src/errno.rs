//! Error numbers: why a system call failed.
//!
//! When a Linux (or armmap) system call fails it returns `-errno` in `x0`,
//! where `errno` is a small positive number with a fixed meaning: 2 is
//! `ENOENT` ("no such file or directory"), 14 is `EFAULT` ("bad address": you
//! passed the kernel a pointer it cannot use), and so on. The values here are
//! Linux's (`include/uapi/asm-generic/errno-base.h` and `errno.h`), taken
//! from `linux_raw_sys`, which is generated from those headers; armmap's
//! kernel takes them from the same crate, so programs behave identically on
//! both.
//!
//! [`Errno`] wraps the number so a `Result<usize, Errno>` cannot be confused
//! with a plain count, and prints as its name (`EFAULT`) so test failures are
//! readable.

use core::fmt;
use linux_raw_sys::errno as e;

/// A Linux error number, as returned (negated) by a failing system call.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(e::EPERM as i32);
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(e::ENOENT as i32);
    /// No such process.
    pub const ESRCH: Errno = Errno(e::ESRCH as i32);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(e::EINTR as i32);
    /// Input/output error.
    pub const EIO: Errno = Errno(e::EIO as i32);
    /// No such device or address.
    pub const ENXIO: Errno = Errno(e::ENXIO as i32);
    /// Argument list too long.
    pub const E2BIG: Errno = Errno(e::E2BIG as i32);
    /// Exec format error.
    pub const ENOEXEC: Errno = Errno(e::ENOEXEC as i32);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(e::EBADF as i32);
    /// No child processes.
    pub const ECHILD: Errno = Errno(e::ECHILD as i32);
    /// Resource temporarily unavailable.
    pub const EAGAIN: Errno = Errno(e::EAGAIN as i32);
    /// Cannot allocate memory.
    pub const ENOMEM: Errno = Errno(e::ENOMEM as i32);
    /// Permission denied.
    pub const EACCES: Errno = Errno(e::EACCES as i32);
    /// Bad address.
    pub const EFAULT: Errno = Errno(e::EFAULT as i32);
    /// Block device required.
    pub const ENOTBLK: Errno = Errno(e::ENOTBLK as i32);
    /// Device or resource busy.
    pub const EBUSY: Errno = Errno(e::EBUSY as i32);
    /// File exists.
    pub const EEXIST: Errno = Errno(e::EEXIST as i32);
    /// Invalid cross-device link.
    pub const EXDEV: Errno = Errno(e::EXDEV as i32);
    /// No such device.
    pub const ENODEV: Errno = Errno(e::ENODEV as i32);
    /// Not a directory.
    pub const ENOTDIR: Errno = Errno(e::ENOTDIR as i32);
    /// Is a directory.
    pub const EISDIR: Errno = Errno(e::EISDIR as i32);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(e::EINVAL as i32);
    /// Too many open files in system.
    pub const ENFILE: Errno = Errno(e::ENFILE as i32);
    /// Too many open files.
    pub const EMFILE: Errno = Errno(e::EMFILE as i32);
    /// Inappropriate ioctl for device.
    pub const ENOTTY: Errno = Errno(e::ENOTTY as i32);
    /// Text file busy.
    pub const ETXTBSY: Errno = Errno(e::ETXTBSY as i32);
    /// File too large.
    pub const EFBIG: Errno = Errno(e::EFBIG as i32);
    /// No space left on device.
    pub const ENOSPC: Errno = Errno(e::ENOSPC as i32);
    /// Illegal seek.
    pub const ESPIPE: Errno = Errno(e::ESPIPE as i32);
    /// Read-only file system.
    pub const EROFS: Errno = Errno(e::EROFS as i32);
    /// Too many links.
    pub const EMLINK: Errno = Errno(e::EMLINK as i32);
    /// Broken pipe.
    pub const EPIPE: Errno = Errno(e::EPIPE as i32);
    /// Numerical argument out of domain.
    pub const EDOM: Errno = Errno(e::EDOM as i32);
    /// Numerical result out of range.
    pub const ERANGE: Errno = Errno(e::ERANGE as i32);
    /// Resource deadlock avoided.
    pub const EDEADLK: Errno = Errno(e::EDEADLK as i32);
    /// File name too long.
    pub const ENAMETOOLONG: Errno = Errno(e::ENAMETOOLONG as i32);
    /// Function not implemented.
    pub const ENOSYS: Errno = Errno(e::ENOSYS as i32);
    /// Directory not empty.
    pub const ENOTEMPTY: Errno = Errno(e::ENOTEMPTY as i32);
    /// Too many levels of symbolic links.
    pub const ELOOP: Errno = Errno(e::ELOOP as i32);
    /// Operation not supported.
    pub const EOPNOTSUPP: Errno = Errno(e::EOPNOTSUPP as i32);
    /// Connection timed out.
    pub const ETIMEDOUT: Errno = Errno(e::ETIMEDOUT as i32);
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
        match self {
            Errno::EPERM => ("EPERM", "Operation not permitted"),
            Errno::ENOENT => ("ENOENT", "No such file or directory"),
            Errno::ESRCH => ("ESRCH", "No such process"),
            Errno::EINTR => ("EINTR", "Interrupted system call"),
            Errno::EIO => ("EIO", "Input/output error"),
            Errno::ENXIO => ("ENXIO", "No such device or address"),
            Errno::E2BIG => ("E2BIG", "Argument list too long"),
            Errno::ENOEXEC => ("ENOEXEC", "Exec format error"),
            Errno::EBADF => ("EBADF", "Bad file descriptor"),
            Errno::ECHILD => ("ECHILD", "No child processes"),
            Errno::EAGAIN => ("EAGAIN", "Resource temporarily unavailable"),
            Errno::ENOMEM => ("ENOMEM", "Cannot allocate memory"),
            Errno::EACCES => ("EACCES", "Permission denied"),
            Errno::EFAULT => ("EFAULT", "Bad address"),
            Errno::ENOTBLK => ("ENOTBLK", "Block device required"),
            Errno::EBUSY => ("EBUSY", "Device or resource busy"),
            Errno::EEXIST => ("EEXIST", "File exists"),
            Errno::EXDEV => ("EXDEV", "Invalid cross-device link"),
            Errno::ENODEV => ("ENODEV", "No such device"),
            Errno::ENOTDIR => ("ENOTDIR", "Not a directory"),
            Errno::EISDIR => ("EISDIR", "Is a directory"),
            Errno::EINVAL => ("EINVAL", "Invalid argument"),
            Errno::ENFILE => ("ENFILE", "Too many open files in system"),
            Errno::EMFILE => ("EMFILE", "Too many open files"),
            Errno::ENOTTY => ("ENOTTY", "Inappropriate ioctl for device"),
            Errno::ETXTBSY => ("ETXTBSY", "Text file busy"),
            Errno::EFBIG => ("EFBIG", "File too large"),
            Errno::ENOSPC => ("ENOSPC", "No space left on device"),
            Errno::ESPIPE => ("ESPIPE", "Illegal seek"),
            Errno::EROFS => ("EROFS", "Read-only file system"),
            Errno::EMLINK => ("EMLINK", "Too many links"),
            Errno::EPIPE => ("EPIPE", "Broken pipe"),
            Errno::EDOM => ("EDOM", "Numerical argument out of domain"),
            Errno::ERANGE => ("ERANGE", "Numerical result out of range"),
            Errno::EDEADLK => ("EDEADLK", "Resource deadlock avoided"),
            Errno::ENAMETOOLONG => ("ENAMETOOLONG", "File name too long"),
            Errno::ENOSYS => ("ENOSYS", "Function not implemented"),
            Errno::ENOTEMPTY => ("ENOTEMPTY", "Directory not empty"),
            Errno::ELOOP => ("ELOOP", "Too many levels of symbolic links"),
            Errno::EOPNOTSUPP => ("EOPNOTSUPP", "Operation not supported"),
            Errno::ETIMEDOUT => ("ETIMEDOUT", "Connection timed out"),
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
