//! A tiny test harness for programs that test the kernel from user space.
//!
//! A test program creates a [`Harness`], runs each check as a named *case*,
//! and exits with what [`Harness::finish`] returns:
//!
//! ```ignore
//! let mut h = Harness::new("syscalls");
//! h.case("getpid_positive", || {
//!     check!(getpid() > 0, "getpid returned {}", getpid());
//!     Ok(())
//! });
//! h.finish()
//! ```
//!
//! The output is line based, one `write` per line, so `cargo xtask test`
//! can read it off the serial console:
//!
//! ```text
//! test syscalls::getpid_positive ... ok
//!   failure: tests/src/bin/syscalls.rs:40: check failed: `x == 1`: x = 2
//! test syscalls::other_case ... FAILED
//! 1 passed, 1 failed
//! ```
//!
//! With no heap there is no `String` to carry a failure message back to the
//! harness, so a failing check prints its reason itself (the `failure:`
//! line, with file and line) and returns the empty error [`Failed`]; the
//! harness then prints the `FAILED` line. The [`check!`](crate::check),
//! [`check_eq!`](crate::check_eq), [`check_ne!`](crate::check_ne) and
//! [`fail!`](crate::fail) macros do this; `?` on a `Result<_, Errno>` does
//! the same with the errno's name.
//!
//! Loops that wait for another process should be bounded by a [`Deadline`].
//! Cases that `fork` must make the child `exit` (see
//! [`process::fork_run`]): only the original
//! process reports results. A child that returns from a case by mistake is
//! stopped with exit status 1, and a panic inside a case prints the case's
//! `FAILED` line before the program exits.

use crate::errno::Errno;
use crate::process::{self, Pid};
use crate::time::{self, Timespec};
use core::fmt;
use core::panic::Location;
use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};

/// Why a case failed has already been printed; this is what it returns.
///
/// A failing check prints its reason at once, as the line
/// `  failure: <file>:<line>: <reason>` (formatted straight into the output
/// buffer, so there is no length limit and no heap), and returns `Failed`.
/// Keeping the error type empty keeps `Result<(), Failed>` as cheap as a
/// `bool`, however long the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failed;

impl Failed {
    /// Prints `  failure: <args>` and returns `Failed` (what the `check`
    /// macros call).
    pub fn report(args: fmt::Arguments<'_>) -> Failed {
        crate::println!("  failure: {args}");
        Failed
    }
}

/// `?` on a failed system call inside a case: reports where and which errno.
impl From<Errno> for Failed {
    #[track_caller]
    fn from(e: Errno) -> Failed {
        let loc = Location::caller();
        Failed::report(format_args!("{}:{}: unexpected error {}", loc.file(), loc.line(), e))
    }
}

/// What a test case returns.
pub type TestResult = Result<(), Failed>;

/// Fails the case unless `cond` holds. Optional format arguments explain.
///
/// `check!(n > 0)` / `check!(n > 0, "n = {}", n)`
#[macro_export]
macro_rules! check {
    ($cond:expr $(,)?) => {
        if !$cond {
            return ::core::result::Result::Err($crate::test::Failed::report(::core::format_args!(
                "{}:{}: check failed: `{}`",
                ::core::file!(),
                ::core::line!(),
                ::core::stringify!($cond),
            )));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return ::core::result::Result::Err($crate::test::Failed::report(::core::format_args!(
                "{}:{}: check failed: `{}`: {}",
                ::core::file!(),
                ::core::line!(),
                ::core::stringify!($cond),
                ::core::format_args!($($arg)+),
            )));
        }
    };
}

/// Fails the case unless `a == b`, showing both values (`{:?}`).
#[macro_export]
macro_rules! check_eq {
    ($a:expr, $b:expr $(,)?) => {
        $crate::check_eq!(@imp $a, $b, "")
    };
    ($a:expr, $b:expr, $($arg:tt)+) => {
        $crate::check_eq!(@imp $a, $b, ::core::format_args!(": {}", ::core::format_args!($($arg)+)))
    };
    (@imp $a:expr, $b:expr, $extra:expr) => {
        match (&$a, &$b) {
            (left, right) => {
                if !(*left == *right) {
                    return ::core::result::Result::Err($crate::test::Failed::report(::core::format_args!(
                        "{}:{}: check_eq failed: `{} == {}`: left = {:?}, right = {:?}{}",
                        ::core::file!(),
                        ::core::line!(),
                        ::core::stringify!($a),
                        ::core::stringify!($b),
                        left,
                        right,
                        $extra,
                    )));
                }
            }
        }
    };
}

/// Fails the case if `a == b`, showing the value (`{:?}`).
#[macro_export]
macro_rules! check_ne {
    ($a:expr, $b:expr $(,)?) => {
        $crate::check_ne!(@imp $a, $b, "")
    };
    ($a:expr, $b:expr, $($arg:tt)+) => {
        $crate::check_ne!(@imp $a, $b, ::core::format_args!(": {}", ::core::format_args!($($arg)+)))
    };
    (@imp $a:expr, $b:expr, $extra:expr) => {
        match (&$a, &$b) {
            (left, right) => {
                if *left == *right {
                    return ::core::result::Result::Err($crate::test::Failed::report(::core::format_args!(
                        "{}:{}: check_ne failed: `{} != {}`: both = {:?}{}",
                        ::core::file!(),
                        ::core::line!(),
                        ::core::stringify!($a),
                        ::core::stringify!($b),
                        left,
                        $extra,
                    )));
                }
            }
        }
    };
}

/// Fails the case unconditionally with a formatted reason.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)+) => {
        return ::core::result::Result::Err($crate::test::Failed::report(::core::format_args!(
            "{}:{}: {}",
            ::core::file!(),
            ::core::line!(),
            ::core::format_args!($($arg)+),
        )))
    };
}

/// A time limit for loops that wait for another process, so a kernel bug
/// makes a case fail instead of hang.
///
/// It expires after `ms` milliseconds of `CLOCK_MONOTONIC` or after
/// `max_polls` calls to [`expired`](Deadline::expired), whichever comes
/// first; the poll limit is what still ends the loop if the clock itself
/// is broken (stuck, or `clock_gettime` not implemented yet).
pub struct Deadline {
    start: Timespec,
    limit_ns: i128,
    polls: u64,
    max_polls: u64,
}

impl Deadline {
    /// Starts the clock.
    pub fn after_ms(ms: u64, max_polls: u64) -> Deadline {
        Deadline { start: time::now(), limit_ns: ms as i128 * 1_000_000, polls: 0, max_polls }
    }

    /// Counts one poll; true once the time or the polls have run out.
    pub fn expired(&mut self) -> bool {
        self.polls += 1;
        self.polls > self.max_polls || self.elapsed_ns() > self.limit_ns
    }

    /// Nanoseconds since the deadline was created.
    pub fn elapsed_ns(&self) -> i128 {
        time::now().nanos_since(&self.start)
    }
}

/// Runs named test cases and prints one result line per case.
pub struct Harness {
    program: &'static str,
    pid: Pid,
    passed: u32,
    failed: u32,
}

// The case being run, for the panic handler: program and case name as
// (pointer, length) pairs, and the pid of the process running the harness.
static CUR_PROGRAM: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static CUR_PROGRAM_LEN: AtomicUsize = AtomicUsize::new(0);
static CUR_CASE: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static CUR_CASE_LEN: AtomicUsize = AtomicUsize::new(0);
static HARNESS_PID: AtomicI32 = AtomicI32::new(0);

fn set_current(program: &'static str, case: Option<&'static str>) {
    CUR_PROGRAM.store(program.as_ptr() as *mut u8, Ordering::Relaxed);
    CUR_PROGRAM_LEN.store(program.len(), Ordering::Relaxed);
    let case = case.unwrap_or("");
    CUR_CASE.store(case.as_ptr() as *mut u8, Ordering::Relaxed);
    CUR_CASE_LEN.store(case.len(), Ordering::Relaxed);
}

/// Reads back a string stored by `set_current`.
fn load_str(ptr: &AtomicPtr<u8>, len: &AtomicUsize) -> &'static str {
    let (p, n) = (ptr.load(Ordering::Relaxed), len.load(Ordering::Relaxed));
    if p.is_null() || n == 0 {
        return "";
    }
    // SAFETY: `p`/`n` were taken from a `&'static str` in `set_current`.
    unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(p, n)) }
}

/// Called by the panic handler: if the harness process panicked inside a
/// case, print that case's `FAILED` line.
pub(crate) fn report_panic() {
    let owner = HARNESS_PID.load(Ordering::Relaxed);
    if owner == 0 || owner != process::getpid() {
        return;
    }
    let case = load_str(&CUR_CASE, &CUR_CASE_LEN);
    if !case.is_empty() {
        crate::println!("test {}::{} ... FAILED", load_str(&CUR_PROGRAM, &CUR_PROGRAM_LEN), case);
    }
}

impl Harness {
    /// A harness for the test program `program` (the part before `::` in
    /// the result lines).
    pub fn new(program: &'static str) -> Harness {
        let pid = process::getpid();
        HARNESS_PID.store(pid, Ordering::Relaxed);
        set_current(program, None);
        crate::println!("running {program} tests (pid {pid})");
        Harness { program, pid, passed: 0, failed: 0 }
    }

    /// Runs the case `name`: prints `test <program>::<name> ... ok` if `f`
    /// returns `Ok`, else the reason and `test <program>::<name> ... FAILED`.
    /// Returns whether it passed.
    pub fn case(&mut self, name: &'static str, f: impl FnOnce() -> TestResult) -> bool {
        set_current(self.program, Some(name));
        let result = f();
        if process::getpid() != self.pid {
            // A forked child came back out of the case instead of exiting.
            crate::eprintln!(
                "{}::{}: child process {} returned {} from the test case (it must exit)",
                self.program,
                name,
                process::getpid(),
                if result.is_ok() { "Ok" } else { "Err" },
            );
            process::exit(1);
        }
        set_current(self.program, None);
        match result {
            Ok(()) => {
                self.passed += 1;
                crate::println!("test {}::{} ... ok", self.program, name);
                true
            }
            Err(Failed) => {
                self.failed += 1;
                crate::println!("test {}::{} ... FAILED", self.program, name);
                false
            }
        }
    }

    /// Cases passed so far.
    pub fn passed(&self) -> u32 {
        self.passed
    }

    /// Cases failed so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }

    /// Prints `<N> passed, <M> failed` and returns the exit status for
    /// `main`: 0 if every case passed, 1 otherwise.
    pub fn finish(self) -> i32 {
        crate::println!("{} passed, {} failed", self.passed, self.failed);
        HARNESS_PID.store(0, Ordering::Relaxed);
        i32::from(self.failed != 0)
    }
}
