//! Linux error numbers (asm-generic/errno-base.h and errno.h), as system
//! calls return them: `-errno` in x0.
//!
//! The values come from `linux_raw_sys::errno`, the crate generated from
//! Linux's UAPI headers, so the kernel and the user library (which takes
//! them from the same crate) cannot disagree with Linux or each other; only
//! the names and `strerror` texts are written here. Every architecture
//! armmap is built for (arm64, and the host running the unit tests) uses
//! the generic errno table, so the values are the same on both.

/// A Linux errno value.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident = $val:expr, $text:expr;)*) => {
        impl Errno {
            $(pub const $name: Errno = Errno($val as i32);)*

            /// The symbolic name (`"EINVAL"`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Errno::$name => stringify!($name),)*
                    _ => "E?",
                }
            }

            /// The text `strerror` gives.
            pub fn text(self) -> &'static str {
                match self {
                    $(Errno::$name => $text,)*
                    _ => "Unknown error",
                }
            }
        }
    };
}

use linux_raw_sys::errno as e;

errnos! {
    EPERM = e::EPERM, "Operation not permitted";
    ENOENT = e::ENOENT, "No such file or directory";
    ESRCH = e::ESRCH, "No such process";
    EINTR = e::EINTR, "Interrupted system call";
    EIO = e::EIO, "Input/output error";
    ENXIO = e::ENXIO, "No such device or address";
    E2BIG = e::E2BIG, "Argument list too long";
    ENOEXEC = e::ENOEXEC, "Exec format error";
    EBADF = e::EBADF, "Bad file descriptor";
    ECHILD = e::ECHILD, "No child processes";
    EAGAIN = e::EAGAIN, "Resource temporarily unavailable";
    ENOMEM = e::ENOMEM, "Cannot allocate memory";
    EACCES = e::EACCES, "Permission denied";
    EFAULT = e::EFAULT, "Bad address";
    EBUSY = e::EBUSY, "Device or resource busy";
    EEXIST = e::EEXIST, "File exists";
    EXDEV = e::EXDEV, "Invalid cross-device link";
    ENODEV = e::ENODEV, "No such device";
    ENOTDIR = e::ENOTDIR, "Not a directory";
    EISDIR = e::EISDIR, "Is a directory";
    EINVAL = e::EINVAL, "Invalid argument";
    ENFILE = e::ENFILE, "Too many open files in system";
    EMFILE = e::EMFILE, "Too many open files";
    ENOTTY = e::ENOTTY, "Inappropriate ioctl for device";
    ETXTBSY = e::ETXTBSY, "Text file busy";
    EFBIG = e::EFBIG, "File too large";
    ENOSPC = e::ENOSPC, "No space left on device";
    ESPIPE = e::ESPIPE, "Illegal seek";
    EROFS = e::EROFS, "Read-only file system";
    EPIPE = e::EPIPE, "Broken pipe";
    EDOM = e::EDOM, "Numerical argument out of domain";
    ERANGE = e::ERANGE, "Numerical result out of range";
    EDEADLK = e::EDEADLK, "Resource deadlock avoided";
    ENAMETOOLONG = e::ENAMETOOLONG, "File name too long";
    ENOLCK = e::ENOLCK, "No locks available";
    ENOSYS = e::ENOSYS, "Function not implemented";
    ENOTEMPTY = e::ENOTEMPTY, "Directory not empty";
    ELOOP = e::ELOOP, "Too many levels of symbolic links";
    EOVERFLOW = e::EOVERFLOW, "Value too large for defined data type";
    ENOTSOCK = e::ENOTSOCK, "Socket operation on non-socket";
    EOPNOTSUPP = e::EOPNOTSUPP, "Operation not supported";
    ETIMEDOUT = e::ETIMEDOUT, "Connection timed out";
    ECANCELED = e::ECANCELED, "Operation canceled";
    EOWNERDEAD = e::EOWNERDEAD, "Owner died";
    // Linux's internal restart codes (include/linux/errno.h): a system
    // call interrupted by a signal returns one, and signal delivery turns
    // it into EINTR or a restart; a program never sees them. They are not
    // UAPI, so linux_raw_sys does not have them: written here.
    ERESTARTSYS = 512, "Interrupted system call should be restarted";
    ERESTARTNOINTR = 513, "Interrupted system call should be restarted";
    ERESTARTNOHAND = 514, "Interrupted system call should be restarted";
    ERESTART_RESTARTBLOCK = 516, "Interrupted by a signal";
}

/// A system call's result.
pub type SysResult = Result<u64, Errno>;

/// The value x0 carries back to user space.
pub fn encode(r: SysResult) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => (-(e.0 as i64)) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(encode(Ok(5)), 5);
        assert_eq!(encode(Err(Errno::EINVAL)) as i64, -22);
        assert_eq!(Errno::ENOSYS.name(), "ENOSYS");
        assert_eq!(Errno(12).text(), "Cannot allocate memory");
    }

    /// The values taken from linux_raw_sys are arm64's (the generic table;
    /// the host's is the same): a few that differ on other architectures
    /// (alpha, mips, sparc, parisc) pinned.
    #[test]
    fn values_are_arm64s() {
        let arm64 = [
            (Errno::EAGAIN, 11),
            (Errno::EDEADLK, 35),
            (Errno::ENAMETOOLONG, 36),
            (Errno::ENOLCK, 37),
            (Errno::ENOSYS, 38),
            (Errno::ENOTEMPTY, 39),
            (Errno::ELOOP, 40),
            (Errno::EOVERFLOW, 75),
            (Errno::ENOTSOCK, 88),
            (Errno::EOPNOTSUPP, 95),
            (Errno::ETIMEDOUT, 110),
            (Errno::ECANCELED, 125),
            (Errno::EOWNERDEAD, 130),
            (Errno::ERESTARTSYS, 512),
            (Errno::ERESTART_RESTARTBLOCK, 516),
        ];
        for (e, v) in arm64 {
            assert_eq!(e.0, v, "{}", e.name());
        }
    }
}
