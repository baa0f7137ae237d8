//! `robust`: what a hostile or unlucky program must not be able to do to
//! the kernel: hang it, panic it, make it lose frames, or hit the wrong
//! process.
//!
//! Each case reproduces a way armmap could once be brought down or wedged
//! by an unprivileged program, and checks Linux's behaviour instead. The
//! cases that need armmap's counters (`/proc/vmstat`) or would be unkind
//! to the machine running them (a fork bomb) run only on armmap; the rest
//! behave the same under Linux (`qemu-aarch64 robust`).
#![no_std]
#![no_main]

use user::errno::Errno;
use user::fs::{self, O_CREAT, O_RDWR, O_TRUNC};
use user::mm::{self, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE};
use user::process::{self, wifsignaled, wtermsig, ExitStatus};
use user::test::{Harness, TestResult};
use user::{check, check_eq, println, Args};

user::entry!(main);

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("robust");
    println!(
        "  (running on {})",
        if user::util::on_armmap() { "armmap" } else { "Linux: armmap-only checks are skipped" }
    );
    h.case("write_only_page_is_readable_by_the_kernel", write_only_page_is_readable_by_the_kernel);
    h.case("write_only_page_is_readable_by_the_program", write_only_page_is_readable_by_the_program);
    h.finish()
}

/// A private anonymous page, first read (so the shared zero page backs it),
/// then made PROT_WRITE only.
fn write_only_zero_page() -> Result<usize, Errno> {
    let a = mm::mmap_anonymous(PAGE_SIZE, PROT_READ, MAP_PRIVATE)?;
    // SAFETY: a is a readable page just mapped.
    let v = unsafe { (a as *const u8).read_volatile() };
    assert_eq!(v, 0);
    // SAFETY: the page belongs to this case alone.
    unsafe { mm::mprotect(a, PAGE_SIZE, PROT_WRITE)? };
    Ok(a)
}

/// `write(fd, page, 1)` from a PROT_WRITE page backed by the zero page: on
/// arm64 Linux PROT_WRITE implies read access, and the call returns 1.
/// (armmap once encoded such a page with no user access at all, and its
/// copy faulted for ever with interrupts masked: the machine stopped.)
fn write_only_page_is_readable_by_the_kernel() -> TestResult {
    let a = write_only_zero_page()?;
    let path = c"robust-write-only.tmp";
    let fd = fs::open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)?;
    // SAFETY: a is a mapped page of this process; the kernel reads it.
    let r = fs::write(fd, unsafe { core::slice::from_raw_parts(a as *const u8, 1) });
    let _ = fs::close(fd);
    let _ = fs::unlink(path);
    if !user::util::on_armmap() && r == Err(Errno::EFAULT) {
        // qemu-user checks its own page flags, which lack PROT_READ here.
        println!("  note: qemu-user differs from Linux here: write gave EFAULT, Linux returns 1");
    } else {
        check_eq!(r, Ok(1), "write(fd, PROT_WRITE page, 1)");
    }
    // SAFETY: the mapping is this case's own.
    unsafe { mm::munmap(a, PAGE_SIZE)? };
    Ok(())
}

/// The program itself loads from the same kind of page: 0, no signal.
fn write_only_page_is_readable_by_the_program() -> TestResult {
    let child = process::fork_run(|| {
        let Ok(a) = write_only_zero_page() else { return 2 };
        // SAFETY: a PROT_WRITE page is readable on arm64 (see above).
        let v = unsafe { (a as *const u8).add(100).read_volatile() };
        // SAFETY: and writable; the store copies the zero page.
        unsafe { (a as *mut u8).write_volatile(7) };
        // SAFETY: as above.
        let w = unsafe { (a as *const u8).read_volatile() };
        if v == 0 && w == 7 {
            0
        } else {
            1
        }
    })?;
    let (_, status) = user::waitpid(child, 0)?;
    check!(
        !wifsignaled(status) && status == 0,
        "child {} (signal {}), expected exit status 0",
        ExitStatus(status),
        if wifsignaled(status) { wtermsig(status) } else { 0 }
    );
    Ok(())
}
