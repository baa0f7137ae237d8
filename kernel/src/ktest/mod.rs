//! In-kernel tests: checks that need the real MMU, exceptions and devices.
//!
//! Booting with `ktest` on the command line (`cargo xtask test` does) runs
//! every test in [`TESTS`] after the kernel is up, prints one line per test
//!
//! ```text
//! test paging::alias_two_virtual_addresses ... ok
//! ```
//!
//! and ends QEMU with status 0 if all passed, 1 otherwise. `ktest=FILTER`
//! runs only the tests whose name contains FILTER. A test returns
//! `Err(reason)` to fail; a kernel fault inside a test ends the run with a
//! report, which `cargo xtask test` counts as a failure.

mod paging;

use crate::arch::aarch64::semihosting;
use alloc::string::String;

/// A test's outcome.
pub type TestResult = Result<(), String>;

/// A named in-kernel test.
pub struct Test {
    pub name: &'static str,
    pub run: fn() -> TestResult,
}

/// Fails the test with a message unless `cond` holds.
#[macro_export]
macro_rules! kcheck {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err(alloc::format!("{} (line {}): {}", stringify!($cond), line!(), alloc::format!($($arg)*)));
        }
    };
}

fn all_tests() -> impl Iterator<Item = &'static Test> {
    paging::TESTS.iter()
}

/// Runs the tests matching `filter` and exits QEMU with the verdict.
pub fn run_all(filter: &str) -> ! {
    let (mut passed, mut failed) = (0, 0);
    log::info!(
        "running in-kernel tests{}",
        if filter.is_empty() { String::new() } else { alloc::format!(" matching '{filter}'") }
    );
    for t in all_tests().filter(|t| t.name.contains(filter)) {
        let (free_before, _) = crate::mm::frame_counts();
        let mut r = (t.run)();
        let (free_after, _) = crate::mm::frame_counts();
        if r.is_ok() && free_after < free_before && !t.name.contains("heap") {
            r = Err(alloc::format!("leaked {} frames", free_before - free_after));
        }
        match r {
            Ok(()) => {
                passed += 1;
                crate::kprintln!("test {} ... ok", t.name);
            }
            Err(e) => {
                failed += 1;
                crate::kprintln!("    {}: {e}", t.name);
                crate::kprintln!("test {} ... FAILED", t.name);
            }
        }
    }
    crate::kprintln!("ktest: {passed} passed, {failed} failed");
    semihosting::exit(if failed == 0 { 0 } else { 1 })
}
