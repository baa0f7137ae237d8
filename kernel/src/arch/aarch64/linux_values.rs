//! The host's unit tests build the portable modules against linux_raw_sys
//! compiled for the host, whose constants are the host's (x86_64's), not
//! arm64's. Most are the same on both (errno, signals, the generic flags);
//! some are not (O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE, the system
//! call numbers, several ioctl and structure values), and code using one of
//! those must take it from the crate only in target-only modules (or under
//! `cfg(target_arch = "aarch64")`). This test keeps that true: every
//! constant the host-built modules take from the crate is listed here with
//! arm64's value, the crate's value in this build must equal it, and a use
//! of a constant not listed fails until it is added (with the arm64 value
//! read from Linux's headers, `aarch64-linux-gnu` in the cross compiler).

/// `(name, arm64's value, this build's linux_raw_sys value)`.
macro_rules! arm64 {
    ($module:ident: $($name:ident = $val:expr,)*) => {
        &[$((stringify!($name), $val as i64, linux_raw_sys::$module::$name as i64),)*]
    };
}

const GENERAL: &[(&str, i64, i64)] = arm64! { general:
    CLOCK_BOOTTIME = 7,
    CLOCK_MONOTONIC = 1,
    CLOCK_MONOTONIC_COARSE = 6,
    CLOCK_MONOTONIC_RAW = 4,
    CLOCK_REALTIME = 0,
    CLOCK_REALTIME_COARSE = 5,
    ITIMER_PROF = 2,
    ITIMER_REAL = 0,
    ITIMER_VIRTUAL = 1,
    SA_NOCLDSTOP = 1,
    SA_NOCLDWAIT = 2,
    SA_NODEFER = 0x40000000,
    SA_ONSTACK = 0x8000000,
    SA_RESETHAND = 0x80000000,
    SA_RESTART = 0x10000000,
    SA_RESTORER = 0x4000000,
    SA_SIGINFO = 4,
    SA_UNSUPPORTED = 0x400,
    SIGABRT = 6,
    SIGALRM = 14,
    SIGBUS = 7,
    SIGCHLD = 17,
    SIGCONT = 18,
    SIGEV_NONE = 1,
    SIGEV_SIGNAL = 0,
    SIGEV_THREAD = 2,
    SIGEV_THREAD_ID = 4,
    SIGFPE = 8,
    SIGILL = 4,
    SIGKILL = 9,
    SIGPROF = 27,
    SIGQUIT = 3,
    SIGRTMIN = 32,
    SIGSEGV = 11,
    SIGSTOP = 19,
    SIGSYS = 31,
    SIGTRAP = 5,
    SIGTSTP = 20,
    SIGTTIN = 21,
    SIGTTOU = 22,
    SIGURG = 23,
    SIGVTALRM = 26,
    SIGWINCH = 28,
    SIGXCPU = 24,
    SIGXFSZ = 25,
    SI_KERNEL = 128,
    SI_TIMER = -2,
    SI_USER = 0,
    SS_AUTODISARM = 0x80000000,
    SS_DISABLE = 2,
    SS_ONSTACK = 1,
    TIMER_ABSTIME = 1,
    _NSIG = 64,
};

const ERRNO: &[(&str, i64, i64)] = arm64! { errno:
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOTTY = 25,
    ETXTBSY = 26,
    EFBIG = 27,
    ENOSPC = 28,
    ESPIPE = 29,
    EROFS = 30,
    EPIPE = 32,
    EDOM = 33,
    ERANGE = 34,
    EDEADLK = 35,
    ENAMETOOLONG = 36,
    ENOLCK = 37,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ELOOP = 40,
    EOVERFLOW = 75,
    ENOTSOCK = 88,
    EOPNOTSUPP = 95,
    ETIMEDOUT = 110,
    ECANCELED = 125,
    EOWNERDEAD = 130,
};

/// The host-built files that take constants from linux_raw_sys, and the
/// path prefix they use for it (`linux::` for `general`, `e::` for `errno`).
const USERS: &[(&str, &str, &str)] = &[
    ("task/sigset.rs", include_str!("../../task/sigset.rs"), "linux::"),
    ("arch/aarch64/sigframe.rs", include_str!("sigframe.rs"), "linux::"),
    ("task/timers.rs", include_str!("../../task/timers.rs"), "linux::"),
    ("errno.rs", include_str!("../../errno.rs"), "e::"),
];

#[test]
fn host_values_are_arm64s() {
    for &(name, arm64, here) in GENERAL.iter().chain(ERRNO) {
        assert_eq!(here, arm64, "{name} is {here} in this build's linux_raw_sys but {arm64} on arm64");
    }
}

#[test]
fn every_constant_host_code_takes_is_listed() {
    for &(file, text, prefix) in USERS {
        let table = if prefix == "e::" { ERRNO } else { GENERAL };
        for (at, _) in text.match_indices(prefix) {
            // Only a path, not the end of a longer identifier (`some::`).
            if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[at + prefix.len()..];
            let name: &str = &rest[..rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())];
            assert!(
                table.iter().any(|&(n, _, _)| n == name),
                "{file} uses {prefix}{name}: add it with arm64's value to arch/aarch64/linux_values.rs"
            );
        }
    }
}
