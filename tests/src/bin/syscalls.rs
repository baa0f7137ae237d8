//! `syscalls`: on-target tests of the basic system calls, processes and
//! memory isolation.
//!
//! Every case must pass on Linux as well (run it with `qemu-aarch64`), so a
//! case that fails on armmap points at the kernel, not at the test. The
//! cases go from the simplest (`getpid`) to ones that need a real kernel:
//! copy-on-write after `fork`, children killed by faults, and preemption of
//! two processes that never give up the CPU on their own.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};
use user::errno::Errno;
use user::mm::{self, PAGE_SIZE};
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, ExitStatus};
use user::syscall::{self, nr};
use user::test::{Deadline, Failed, Harness, TestResult};
use user::time::{self, CLOCK_MONOTONIC};
use user::{check, check_eq, check_ne, fail, println, Args};

user::entry!(main);

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("syscalls");
    h.case("getpid_positive", getpid_positive);
    h.case("getppid_not_self", getppid_not_self);
    h.case("write_stdout_returns_len", write_stdout_returns_len);
    h.case("write_bad_pointer_efault", write_bad_pointer_efault);
    h.case("copyout_bad_pointer_efault", copyout_bad_pointer_efault);
    h.case("unknown_syscall_enosys", unknown_syscall_enosys);
    h.case("clock_monotonic_increases", clock_monotonic_increases);
    h.case("uname_sysname", uname_sysname);
    h.case("data_and_bss_loaded", data_and_bss_loaded);
    h.case("brk_grow_and_shrink", brk_grow_and_shrink);
    h.case("fork_wait_exit_code", fork_wait_exit_code);
    h.case("child_killed_by_sigsegv", child_killed_by_sigsegv);
    h.case("kill_child_sigkill", kill_child_sigkill);
    h.case("cow_child_writes_invisible_to_parent", cow_child_writes_invisible_to_parent);
    h.case("cow_parent_writes_invisible_to_child", cow_parent_writes_invisible_to_child);
    h.case("fork_wait_100_cycles", fork_wait_100_cycles);
    h.case("two_cpu_bound_processes_progress", two_cpu_bound_processes_progress);
    h.case("exec_malformed_elf_enoexec", exec_malformed_elf_enoexec);
    h.case("exec_runs_a_program", exec_runs_a_program);
    h.case("perf_event_counts_cycles", perf_event_counts_cycles);
    h.case("nanosleep_sleeps", nanosleep_sleeps);
    h.finish()
}

/// Turns a raw syscall return value into the `Result` the wrappers return.
fn raw(r: isize) -> Result<usize, Errno> {
    syscall::ret(r)
}

/// Waits for `child` and returns its status word, checking it was `child`
/// that was reaped.
fn wait_for(child: process::Pid) -> Result<i32, Failed> {
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child, "waitpid returned another pid");
    Ok(status)
}

/// Checks that a child exited normally with `code`.
fn expect_exit(child: process::Pid, code: i32) -> TestResult {
    let status = wait_for(child)?;
    check!(
        wifexited(status) && wexitstatus(status) == code,
        "child {child} {}, expected exit status {code}",
        ExitStatus(status)
    );
    Ok(())
}

fn getpid_positive() -> TestResult {
    let pid = user::getpid();
    check!(pid > 0, "getpid() = {pid}");
    Ok(())
}

fn getppid_not_self() -> TestResult {
    let (pid, ppid) = (user::getpid(), user::getppid());
    // The first process may have no parent (ppid 0); otherwise it is another process.
    check!(ppid >= 0, "getppid() = {ppid}");
    check_ne!(ppid, pid, "a process cannot be its own parent");
    Ok(())
}

fn write_stdout_returns_len() -> TestResult {
    let line = b"  (this line is written by the write_stdout_returns_len case)\n";
    let n = user::write(user::io::STDOUT, line)?;
    check_eq!(n, line.len());
    Ok(())
}

/// Kernel addresses: the top half of the address space. User pointers there
/// must be refused just like unmapped ones, or any program could read or
/// overwrite the kernel.
const KERNEL_ADDR: usize = 0xffff_0000_0000_0000;

fn write_bad_pointer_efault() -> TestResult {
    // The kernel must read the buffer from user memory; 0x10 is in the
    // never-mapped first page.
    for addr in [0x10usize, 0x1, KERNEL_ADDR] {
        // SAFETY: the kernel is asked to read 8 bytes at `addr`; it must
        // notice the address is not readable user memory and fail.
        let r = raw(unsafe { syscall::syscall3(nr::WRITE, 1, addr, 8) });
        check_eq!(r, Err(Errno::EFAULT), "write(1, {addr:#x}, 8)");
    }
    Ok(())
}

fn copyout_bad_pointer_efault() -> TestResult {
    // The kernel must write its result to user memory: clock_gettime and
    // uname with an unusable destination.
    for addr in [0x10usize, KERNEL_ADDR] {
        // SAFETY: `addr` is not writable user memory, so the kernel must
        // fail instead of writing there.
        let r = raw(unsafe { syscall::syscall2(nr::CLOCK_GETTIME, CLOCK_MONOTONIC as usize, addr) });
        check_eq!(r, Err(Errno::EFAULT), "clock_gettime(CLOCK_MONOTONIC, {addr:#x})");
        // SAFETY: as above.
        let r = raw(unsafe { syscall::syscall1(nr::UNAME, addr) });
        check_eq!(r, Err(Errno::EFAULT), "uname({addr:#x})");
    }
    Ok(())
}

fn unknown_syscall_enosys() -> TestResult {
    for n in [999usize, 1 << 20] {
        // SAFETY: no such system call exists; the kernel must only fail.
        let r = raw(unsafe { syscall::syscall0(n) });
        check_eq!(r, Err(Errno::ENOSYS), "syscall number {n}");
    }
    Ok(())
}

fn clock_monotonic_increases() -> TestResult {
    let t0 = time::clock_gettime(CLOCK_MONOTONIC)?;
    check!((0..1_000_000_000).contains(&t0.tv_nsec), "tv_nsec out of range: {t0:?}");
    let mut prev = t0;
    // Even with a clock that only moves on 10 ms timer ticks this is plenty.
    for _ in 0..1_000_000 {
        let t = time::clock_gettime(CLOCK_MONOTONIC)?;
        check!((0..1_000_000_000).contains(&t.tv_nsec), "tv_nsec out of range: {t:?}");
        check!(t >= prev, "went backwards: {prev} then {t}");
        if t > t0 {
            return Ok(());
        }
        prev = t;
        process::sched_yield();
    }
    fail!("CLOCK_MONOTONIC stuck at {t0} for 1000000 reads")
}

fn uname_sysname() -> TestResult {
    let u = user::sys::uname()?;
    println!("  uname: sysname {:?}, release {:?}, machine {:?}", u.sysname(), u.release(), u.machine());
    check!(!u.sysname().is_empty(), "empty sysname");
    Ok(())
}

/// 8 KiB of initialised data (two pages of `.data` in the file).
static DATA_WORDS: [AtomicU64; 1024] = [const { AtomicU64::new(0x0123_4567_89ab_cdef) }; 1024];
/// 8 KiB of `.bss`: not in the file, the loader must zero it.
static BSS_WORDS: [AtomicU64; 1024] = [const { AtomicU64::new(0) }; 1024];

fn data_and_bss_loaded() -> TestResult {
    for (i, w) in DATA_WORDS.iter().enumerate() {
        let v = w.load(Ordering::Relaxed);
        check_eq!(v, 0x0123_4567_89ab_cdef, ".data word {i} at {:p}", w);
    }
    for (i, w) in BSS_WORDS.iter().enumerate() {
        let v = w.load(Ordering::Relaxed);
        check_eq!(v, 0, ".bss word {i} at {:p}", w);
    }
    // Both must be writable.
    DATA_WORDS[1023].store(1, Ordering::Relaxed);
    BSS_WORDS[1023].store(1, Ordering::Relaxed);
    check_eq!(DATA_WORDS[1023].load(Ordering::Relaxed) + BSS_WORDS[1023].load(Ordering::Relaxed), 2);
    DATA_WORDS[1023].store(0x0123_4567_89ab_cdef, Ordering::Relaxed);
    BSS_WORDS[1023].store(0, Ordering::Relaxed);
    Ok(())
}

fn brk_grow_and_shrink() -> TestResult {
    let b0 = mm::current_break();
    check!(b0 != 0, "brk(0) returned 0");
    let grow = 16 * PAGE_SIZE;
    // SAFETY: growing the break only adds memory.
    let b1 = unsafe { mm::brk(b0 + grow) };
    check_eq!(b1, b0 + grow, "growing the break from {b0:#x}");
    let heap = b0 as *mut u8;
    for i in (0..grow).step_by(512) {
        // SAFETY: b0..b0+grow was just added to the heap and nothing else uses it.
        unsafe { heap.add(i).write_volatile((i / 512) as u8) };
    }
    for i in (0..grow).step_by(512) {
        // SAFETY: as above.
        let v = unsafe { heap.add(i).read_volatile() };
        check_eq!(v, (i / 512) as u8, "heap byte at {:#x}", b0 + i);
    }
    // SAFETY: nothing refers to the memory between b0 and b1 any more.
    let b2 = unsafe { mm::brk(b0) };
    check_eq!(b2, b0, "shrinking the break back");
    check_eq!(mm::current_break(), b0);
    Ok(())
}

fn fork_wait_exit_code() -> TestResult {
    let parent = user::getpid();
    let child = process::fork_run(|| if user::getppid() == parent { 42 } else { 43 })?;
    check!(child > 0 && child != parent, "fork returned {child} in the parent (pid {parent})");
    expect_exit(child, 42)?;
    // Only the low 8 bits of the exit code reach the parent.
    let child = process::fork_run(|| 256 + 3)?;
    expect_exit(child, 3)?;
    Ok(())
}

fn child_killed_by_sigsegv() -> TestResult {
    let child = process::fork_run(|| {
        // No core file please (ignored where unsupported).
        let _ = process::setrlimit(process::RLIMIT_CORE, process::Rlimit { cur: 0, max: 0 });
        // SAFETY: a deliberate store to the never-mapped page at 0x8; the
        // kernel must stop this process with SIGSEGV.
        unsafe {
            core::arch::asm!("str {v}, [{a}]", a = in(reg) 0x8usize, v = in(reg) 0x5au64, options(nostack));
        }
        0 // Not reached.
    })?;
    let status = wait_for(child)?;
    check!(
        wifsignaled(status) && wtermsig(status) == process::SIGSEGV,
        "child {}, expected killed by SIGSEGV",
        ExitStatus(status)
    );
    Ok(())
}

fn kill_child_sigkill() -> TestResult {
    let child = process::fork_run(|| {
        // Wait (up to 10 s) to be killed.
        let mut deadline = Deadline::after_ms(10_000, 10_000_000);
        while !deadline.expired() {
            process::sched_yield();
        }
        1
    })?;
    user::kill(child, process::SIGKILL)?;
    let status = wait_for(child)?;
    check!(
        wifsignaled(status) && wtermsig(status) == process::SIGKILL,
        "child {}, expected killed by SIGKILL",
        ExitStatus(status)
    );
    Ok(())
}

/// A word in `.data` and one in `.bss` for the copy-on-write cases.
static COW_DATA: AtomicU64 = AtomicU64::new(0x1111);
static COW_BSS: AtomicU64 = AtomicU64::new(0);

fn cow_child_writes_invisible_to_parent() -> TestResult {
    COW_DATA.store(0x1111, Ordering::Relaxed);
    COW_BSS.store(0x2222, Ordering::Relaxed);
    // A private page touched before the fork, one not touched yet, and the stack.
    let touched = mm::map_anonymous_words(PAGE_SIZE / 8, false)?;
    let untouched = mm::map_anonymous_words(PAGE_SIZE / 8, false)?;
    for w in touched {
        w.store(0x3333, Ordering::Relaxed);
    }
    let stack = [const { AtomicU64::new(0x4444) }; 64];

    let child = process::fork_run(|| {
        let sees_parent = COW_DATA.load(Ordering::Relaxed) == 0x1111
            && COW_BSS.load(Ordering::Relaxed) == 0x2222
            && touched.iter().all(|w| w.load(Ordering::Relaxed) == 0x3333)
            && untouched.iter().all(|w| w.load(Ordering::Relaxed) == 0)
            && stack.iter().all(|w| w.load(Ordering::Relaxed) == 0x4444);
        if !sees_parent {
            return 2;
        }
        COW_DATA.store(0xc1, Ordering::Relaxed);
        COW_BSS.store(0xc2, Ordering::Relaxed);
        for w in touched.iter().chain(untouched).chain(&stack) {
            w.store(0xc3, Ordering::Relaxed);
        }
        let sees_own = COW_DATA.load(Ordering::Relaxed) == 0xc1
            && touched.iter().chain(untouched).chain(&stack).all(|w| w.load(Ordering::Relaxed) == 0xc3);
        if sees_own {
            0
        } else {
            3
        }
    })?;
    let status = wait_for(child)?;
    check!(
        wifexited(status) && wexitstatus(status) == 0,
        "child {} (2: it did not see the parent's values, 3: its own writes did not stick)",
        ExitStatus(status)
    );
    check_eq!(COW_DATA.load(Ordering::Relaxed), 0x1111, ".data word changed by the child");
    check_eq!(COW_BSS.load(Ordering::Relaxed), 0x2222, ".bss word changed by the child");
    for (i, w) in touched.iter().enumerate() {
        check_eq!(w.load(Ordering::Relaxed), 0x3333, "touched private page, word {i}");
    }
    for (i, w) in untouched.iter().enumerate() {
        check_eq!(w.load(Ordering::Relaxed), 0, "untouched private page, word {i}");
    }
    for (i, w) in stack.iter().enumerate() {
        check_eq!(w.load(Ordering::Relaxed), 0x4444, "stack word {i}");
    }
    Ok(())
}

fn cow_parent_writes_invisible_to_child() -> TestResult {
    // A shared page to tell the child when the parent has written.
    let flag = &mm::map_anonymous_words(1, true)?[0];
    let private = mm::map_anonymous_words(PAGE_SIZE / 8, false)?;
    COW_DATA.store(1, Ordering::Relaxed);
    private[0].store(1, Ordering::Relaxed);

    let child = process::fork_run(|| {
        let mut deadline = Deadline::after_ms(10_000, 10_000_000);
        while flag.load(Ordering::Acquire) == 0 {
            if deadline.expired() {
                return 3; // The parent never signalled.
            }
            process::sched_yield();
        }
        if COW_DATA.load(Ordering::Relaxed) == 1 && private[0].load(Ordering::Relaxed) == 1 {
            0
        } else {
            2
        }
    })?;
    COW_DATA.store(2, Ordering::Relaxed);
    private[0].store(2, Ordering::Relaxed);
    flag.store(1, Ordering::Release);
    let status = wait_for(child)?;
    check!(
        wifexited(status) && wexitstatus(status) == 0,
        "child {} (2: it saw the parent's writes, 3: it never saw the shared flag)",
        ExitStatus(status)
    );
    check_eq!(COW_DATA.load(Ordering::Relaxed), 2);
    check_eq!(private[0].load(Ordering::Relaxed), 2);
    Ok(())
}

fn fork_wait_100_cycles() -> TestResult {
    let me = user::getpid();
    for i in 0..100 {
        let child = process::fork_run(move || i)?;
        check!(child > 0 && child != me, "cycle {i}: fork returned {child}");
        let status = wait_for(child)?;
        check!(
            wifexited(status) && wexitstatus(status) == i,
            "cycle {i}: child {}, expected exit status {i}",
            ExitStatus(status)
        );
    }
    // Every child has been reaped: nothing is left to wait for.
    check_eq!(user::wait().map(|(pid, _)| pid), Err(Errno::ECHILD));
    Ok(())
}

/// Give up after this long if the other process never gets to run.
const PROGRESS_LIMIT_MS: u64 = 5_000;
/// Each process does at least this many increments.
const PROGRESS_MIN_ITERS: u64 = 100_000;
/// The clock is read every this many increments.
const PROGRESS_POLL_EVERY: u64 = 1024;

/// Increments `counters[me]` without ever blocking or yielding, until it has
/// done `PROGRESS_MIN_ITERS` increments *and* seen `counters[other]` move
/// off zero. On one CPU that can only happen if the kernel preempts this
/// process to run the other one. Returns the number of increments, or
/// `Err` after `PROGRESS_LIMIT_MS` (or 100 million increments, should the
/// clock not work).
fn spin_until_other_progresses(counters: &[AtomicU64], me: usize, other: usize) -> Result<u64, u64> {
    let mut deadline = Deadline::after_ms(PROGRESS_LIMIT_MS, 100_000_000 / PROGRESS_POLL_EVERY);
    let mut own = 0u64;
    loop {
        own += 1;
        counters[me].store(own, Ordering::Relaxed);
        if own >= PROGRESS_MIN_ITERS && counters[other].load(Ordering::Relaxed) > 0 {
            return Ok(own);
        }
        if own.is_multiple_of(PROGRESS_POLL_EVERY) && deadline.expired() {
            return Err(own);
        }
    }
}

fn two_cpu_bound_processes_progress() -> TestResult {
    // Two counters in a shared page, 64 bytes apart (separate cache lines).
    let counters = mm::map_anonymous_words(16, true)?;
    let (parent_slot, child_slot) = (0, 8);
    let start = time::now();
    let child = process::fork_run(|| match spin_until_other_progresses(counters, child_slot, parent_slot) {
        Ok(_) => 0,
        Err(_) => 1,
    })?;
    let mine = spin_until_other_progresses(counters, parent_slot, child_slot);
    let status = wait_for(child)?;
    let elapsed_ms = time::now().nanos_since(&start) / 1_000_000;
    println!(
        "  progress: parent {} and child {} increments in {elapsed_ms} ms",
        counters[parent_slot].load(Ordering::Relaxed),
        counters[child_slot].load(Ordering::Relaxed)
    );
    check!(mine.is_ok(), "the parent never saw the child's counter move in {PROGRESS_LIMIT_MS} ms");
    check!(
        wifexited(status) && wexitstatus(status) == 0,
        "child {} (status 1: it never saw the parent's counter move)",
        ExitStatus(status)
    );
    Ok(())
}

/// A 64-byte ELF header for AArch64 (machine 183) with `phnum` program
/// headers at offset 64, followed by `phdrs` (56 bytes each: type, flags,
/// offset, vaddr, paddr, filesz, memsz, align).
fn elf_image(buf: &mut [u8; 256], machine: u16, phdrs: &[[u64; 6]]) -> usize {
    buf.fill(0);
    buf[..4].copy_from_slice(b"\x7fELF");
    buf[4] = 2; // 64-bit
    buf[5] = 1; // little endian
    buf[6] = 1; // version
    buf[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    buf[18..20].copy_from_slice(&machine.to_le_bytes());
    buf[20..24].copy_from_slice(&1u32.to_le_bytes());
    buf[24..32].copy_from_slice(&0x400000u64.to_le_bytes()); // entry
    buf[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    buf[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
    buf[54..56].copy_from_slice(&56u16.to_le_bytes()); // phentsize
    buf[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
    for (i, p) in phdrs.iter().enumerate() {
        let o = 64 + i * 56;
        buf[o..o + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        buf[o + 4..o + 8].copy_from_slice(&5u32.to_le_bytes()); // R+X
        for (j, v) in p.iter().enumerate() {
            // offset, vaddr, paddr, filesz, memsz, align
            buf[o + 8 + j * 8..o + 16 + j * 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    64 + phdrs.len() * 56
}

fn exec_file(contents: &[u8]) -> Errno {
    let path = c"/tmp/armmap-syscalls-exec";
    let _ = user::fs::unlink(path);
    let flags = user::fs::O_CREAT | user::fs::O_WRONLY | user::fs::O_TRUNC;
    let Ok(fd) = user::fs::open(path, flags, 0o755) else { return Errno::EIO };
    let _ = user::fs::write(fd, contents);
    let _ = user::fs::close(fd);
    let e = process::execve(path, &[c"bad"], &[]);
    let _ = user::fs::unlink(path);
    e
}

/// Malformed executables are refused with ENOEXEC and the caller goes on.
/// (armmap's own loader; on Linux under qemu-user execve reaches the host.)
fn exec_malformed_elf_enoexec() -> TestResult {
    if !user::util::armmap_only("the ELF loader checks") {
        return Ok(());
    }
    let mut img = [0u8; 256];
    check_eq!(exec_file(b"just some text\n"), Errno::ENOEXEC, "a text file");
    let n = elf_image(&mut img, 183, &[[0, 0x400000, 0x400000, 0x100, 0x100, 0x1000]]);
    check_eq!(exec_file(&img[..40]), Errno::ENOEXEC, "a header cut at 40 bytes");
    check_eq!(exec_file(&img[..n - 20]), Errno::ENOEXEC, "program headers cut short");
    check_eq!(exec_file(&img[..n]), Errno::ENOEXEC, "a segment past the end of the file");
    let n = elf_image(&mut img, 62, &[[0, 0x400000, 0x400000, 120, 120, 0x1000]]);
    check_eq!(exec_file(&img[..n]), Errno::ENOEXEC, "an x86-64 executable");
    let n = elf_image(
        &mut img,
        183,
        &[[0, 0x400000, 0x400000, 120, 0x2000, 0x1000], [0, 0x401000, 0x401000, 120, 0x100, 0x1000]],
    );
    check_eq!(exec_file(&img[..n]), Errno::ENOEXEC, "overlapping segments");
    let n = elf_image(&mut img, 183, &[[0, 0xffff_fffe_0000, 0xffff_fffe_0000, 120, 0x1000, 0x1000]]);
    img[24..32].copy_from_slice(&0xffff_fffe_0078u64.to_le_bytes()); // the entry, inside it
    check_eq!(exec_file(&img[..n]), Errno::ENOEXEC, "a segment in the stack area");
    Ok(())
}

/// A forked child replaces itself with another program, which runs and
/// reports its exit status to the parent.
fn exec_runs_a_program() -> TestResult {
    if !user::util::armmap_only("running /bin/hello") {
        return Ok(());
    }
    let child = process::fork_run(|| {
        let e = process::execve(c"/bin/hello", &[c"hello", c"from-exec"], &[c"X=1"]);
        100 + e.0
    })?;
    expect_exit(child, 0)
}

/// `perf_event_open` for CPU cycles of this process: counts grow while the
/// process works, stop while disabled, restart from zero after a reset.
fn perf_event_counts_cycles() -> TestResult {
    if !user::util::armmap_only("perf events (qemu-user has none)") {
        return Ok(());
    }
    // struct perf_event_attr: type, size, config, ..., flags at byte 40.
    let mut attr = [0u64; 16];
    attr[0] = 128u64 << 32; // type PERF_TYPE_HARDWARE (0), size 128
    attr[1] = 0; // PERF_COUNT_HW_CPU_CYCLES
    attr[5] = 1; // disabled
                 // SAFETY: attr is a valid perf_event_attr; the kernel only reads it.
    let fd = unsafe { syscall::syscall5(nr::PERF_EVENT_OPEN, attr.as_ptr() as usize, 0, usize::MAX, usize::MAX, 0) };
    let fd = syscall::ret(fd)?;
    let read = || -> Result<u64, Errno> {
        let mut v = [0u8; 8];
        user::read(fd as i32, &mut v)?;
        Ok(u64::from_le_bytes(v))
    };
    check_eq!(read()?, 0, "disabled event counted");
    // SAFETY: ioctl on our own perf fd with the ENABLE request.
    syscall::ret(unsafe { syscall::syscall3(nr::IOCTL, fd, 0x2400, 0) })?;
    let mut x = 0u64;
    for i in 0..10_000u64 {
        x = x.wrapping_mul(31).wrapping_add(i);
        core::hint::black_box(x);
    }
    let a = read()?;
    check!(a > 10_000, "only {a} cycles for 10,000 loop iterations");
    // SAFETY: DISABLE then RESET on our own perf fd.
    syscall::ret(unsafe { syscall::syscall3(nr::IOCTL, fd, 0x2401, 0) })?;
    let b = read()?;
    let c = read()?;
    check_eq!(b, c, "a disabled counter moved");
    // SAFETY: RESET on our own perf fd.
    syscall::ret(unsafe { syscall::syscall3(nr::IOCTL, fd, 0x2403, 0) })?;
    check_eq!(read()?, 0, "reset did not zero the count");
    user::close(fd as i32)?;
    Ok(())
}

/// `nanosleep` blocks for at least the time asked (the CPU idles meanwhile),
/// and refuses a negative or out-of-range time with EINVAL.
fn nanosleep_sleeps() -> TestResult {
    let t0 = time::now();
    if let Err((e, _)) = time::nanosleep(&time::Timespec { tv_sec: 0, tv_nsec: 30_000_000 }) {
        fail!("nanosleep(30 ms) failed: {e:?}");
    }
    let t1 = time::now();
    let slept = (t1.tv_sec - t0.tv_sec) as i128 * 1_000_000_000 + (t1.tv_nsec - t0.tv_nsec) as i128;
    check!(slept >= 30_000_000, "slept only {slept} ns of 30 ms");
    check!(slept < 5_000_000_000, "slept {slept} ns for 30 ms");
    let bad = time::nanosleep(&time::Timespec { tv_sec: 0, tv_nsec: 1_000_000_000 });
    check!(matches!(bad, Err((Errno::EINVAL, _))), "tv_nsec = 10^9 gave {bad:?}");
    Ok(())
}
