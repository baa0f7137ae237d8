//! `init`: the first program armmap runs (`cargo xtask qemu`).
//!
//! A tour of the basics in a few lines of output: who am I (`getpid`), make
//! a child (`fork`) and collect its exit status (`waitpid`), get fresh
//! memory from the kernel (`mmap`) and give it back (`munmap`). The output
//! is the same on every run: the parent prints nothing between `fork` and
//! `waitpid`, so the child's line always comes first.
#![no_std]
#![no_main]

use user::mm::{self, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE};
use user::process::{self, ExitStatus};
use user::{println, Args};

user::entry!(main);

fn main(_args: Args) -> i32 {
    let pid = user::getpid();
    println!("init: hello from armmap user space, pid {pid}");

    // fork: the child prints and exits with 7; the parent waits for it.
    let child = match process::fork_run(|| {
        println!("init: child pid {} (parent {}) exiting with 7", user::getpid(), user::getppid());
        7
    }) {
        Ok(child) => child,
        Err(e) => return fail("fork", e),
    };
    match user::waitpid(child, 0) {
        Ok((_, status)) => {
            println!("init: child {child} {}", ExitStatus(status));
            if !(process::wifexited(status) && process::wexitstatus(status) == 7) {
                println!("init: expected exit status 7");
                return 1;
            }
        }
        Err(e) => return fail("waitpid", e),
    }

    // mmap: one fresh anonymous page, written and read back, then unmapped.
    let addr = match mm::mmap_anonymous(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE) {
        Ok(a) => a,
        Err(e) => return fail("mmap", e),
    };
    let page = addr as *mut u64;
    let words = PAGE_SIZE / 8;
    let mut sum = 0u64;
    for i in 0..words {
        // SAFETY: the kernel just mapped PAGE_SIZE readable, writable bytes
        // at `addr`, and i < PAGE_SIZE / 8.
        unsafe {
            if page.add(i).read_volatile() != 0 {
                println!("init: mmap page not zeroed at word {i}");
                return 1;
            }
            page.add(i).write_volatile(i as u64 * 3);
        }
    }
    for i in 0..words {
        // SAFETY: as above.
        sum += unsafe { page.add(i).read_volatile() };
    }
    let expected = 3 * (words as u64) * (words as u64 - 1) / 2;
    println!("init: mmap'd one page, wrote and read back {words} words (sum {sum}, expected {expected})");
    if sum != expected {
        return 1;
    }
    // SAFETY: nothing refers to the page any more (`page` is not used again).
    if let Err(e) = unsafe { mm::munmap(addr, PAGE_SIZE) } {
        return fail("munmap", e);
    }
    println!("init: munmap ok");

    // The mapper's two strategies over the same device buffer.
    if let Err(e) = remap_versus_lazy() {
        return fail("the memdev tour", e);
    }
    println!("init: goodbye");
    0
}

/// Page faults this process has taken so far (Linux's `ru_minflt`).
fn faults() -> i64 {
    user::time::getrusage(0).map(|r| r.ru_minflt).unwrap_or(-1)
}

/// Maps the reserved device buffer twice, once through `/dev/memdev` (the
/// driver builds every page-table entry at `mmap` time, like
/// `remap_pfn_range`) and once through `/dev/memdev-lazy` (entries are made
/// one page at a time by the fault handler, like a `.fault` hook), touches
/// every page of each, and shows the number of page faults each took.
fn remap_versus_lazy() -> Result<(), user::Errno> {
    const SIZE: usize = 2 << 20;
    for (path, name) in [(c"/dev/memdev", "remap"), (c"/dev/memdev-lazy", "lazy ")] {
        let fd = user::open(path, user::fs::O_RDWR, 0)?;
        // SAFETY: a fresh shared mapping of the device; nothing else uses the range.
        let addr = unsafe { mm::mmap(0, SIZE, PROT_READ | PROT_WRITE, mm::MAP_SHARED, fd, 0)? };
        user::close(fd)?;
        let before = faults();
        for off in (0..SIZE).step_by(PAGE_SIZE) {
            // SAFETY: inside the mapping made above; the first page's first
            // bytes (the kernel's greeting) are left alone.
            unsafe { ((addr + off + 2048) as *mut u8).write_volatile(1) };
        }
        let taken = faults() - before;
        println!(
            "init: {name} {}: {} pages touched, {taken} page faults",
            path.to_str().unwrap_or("?"),
            SIZE / PAGE_SIZE
        );
        // SAFETY: the mapping is not used any more.
        unsafe { mm::munmap(addr, SIZE)? };
    }
    Ok(())
}

/// Reports a failed system call and returns exit status 1.
fn fail(what: &str, e: user::Errno) -> i32 {
    println!("init: {what} failed: {e}");
    1
}
