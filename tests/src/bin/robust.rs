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
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, ExitStatus, Pid};
use user::syscall::{self, nr};
use user::test::{Failed, Harness, TestResult};
use user::{check, check_eq, fail, println, Args};

user::entry!(main);

fn main(args: Args) -> i32 {
    let mut h = Harness::new("robust");
    // `robust WORD` runs only the cases whose name contains WORD.
    let only = args.get_str(1).unwrap_or("");
    let mut case = |name: &'static str, f: fn() -> TestResult| {
        if name.contains(only) {
            h.case(name, f);
        }
    };
    println!(
        "  (running on {})",
        if user::util::on_armmap() { "armmap" } else { "Linux: armmap-only checks are skipped" }
    );
    case("write_only_page_is_readable_by_the_kernel", write_only_page_is_readable_by_the_kernel);
    case("write_only_page_is_readable_by_the_program", write_only_page_is_readable_by_the_program);
    case("clone_with_bad_tid_pointers_still_forks", clone_with_bad_tid_pointers_still_forks);
    case("process_groups_and_sessions", process_groups_and_sessions);
    case("kill_zero_and_minus_pgid_hit_only_the_group", kill_zero_and_minus_pgid_hit_only_the_group);
    case("kill_no_such_group_esrch", kill_no_such_group_esrch);
    case("signals_ignored_by_default_do_not_kill", signals_ignored_by_default_do_not_kill);
    case("sigkill_ends_blocking_waits", sigkill_ends_blocking_waits);
    case("frames_back_to_baseline_after_200_forks", frames_back_to_baseline_after_200_forks);
    case("fork_bomb_fails_cleanly_twice", fork_bomb_fails_cleanly_twice);
    case("running_out_of_memory_kills_only_the_hog", running_out_of_memory_kills_only_the_hog);
    case("the_oom_killer_picks_the_biggest", the_oom_killer_picks_the_biggest);
    case("at_most_65530_areas_then_enomem", at_most_65530_areas_then_enomem);
    case("munmap_inside_a_block_without_memory", munmap_inside_a_block_without_memory);
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

/// Waits for `child` and checks it was killed by `sig`.
fn expect_killed(child: Pid, sig: i32) -> TestResult {
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child);
    check!(
        wifsignaled(status) && wtermsig(status) == sig,
        "child {child} {}, expected killed by {}",
        ExitStatus(status),
        process::signal_name(sig)
    );
    Ok(())
}

/// Waits for `child` and checks it exited with `code`.
fn expect_exit(child: Pid, code: i32) -> TestResult {
    let (pid, status) = user::waitpid(child, 0)?;
    check_eq!(pid, child);
    check!(
        wifexited(status) && wexitstatus(status) == code,
        "child {child} {}, expected exit {code}",
        ExitStatus(status)
    );
    Ok(())
}

/// A child that sleeps until it is killed (at most a minute).
fn sleeper() -> Result<Pid, Errno> {
    process::fork_run(|| {
        user::time::sleep_ms(60_000);
        3
    })
}

/// clone with CLONE_PARENT_SETTID at a kernel address and CLONE_CHILD_SETTID
/// at an unmapped one: Linux skips both stores and the fork succeeds (armmap
/// once returned EFAULT with the child already in its table: a process that
/// never ran and could not be killed or waited for).
fn clone_with_bad_tid_pointers_still_forks() -> TestResult {
    const CLONE_PARENT_SETTID: usize = 0x0010_0000;
    const CLONE_CHILD_SETTID: usize = 0x0100_0000;
    let flags = process::SIGCHLD as usize | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID;
    let kernel_address = 0xffff_0000_0000_1000usize;
    let unmapped = 0x8usize;
    // SAFETY: fork semantics (no shared memory, same stack in a copy); the
    // child only calls exit.
    let r = unsafe { syscall::syscall5(nr::CLONE, flags, 0, kernel_address, 0, unmapped) };
    match syscall::ret(r) {
        Ok(0) => process::exit(7),
        Ok(child) => expect_exit(child as Pid, 7),
        Err(e) => fail!("clone with bad tid pointers: {e:?}, Linux forks"),
    }
}

fn process_groups_and_sessions() -> TestResult {
    let me = user::getpid();
    let (pgid, sid) = (process::getpgid(0)?, process::getsid(0)?);
    check_eq!(process::getpgid(me)?, pgid, "getpgid(self) and getpgid(0)");
    check_eq!(process::getpgid(999_999), Err(Errno::ESRCH));
    let child = process::fork_run(|| {
        let me = user::getpid();
        // Not a group leader yet: setsid makes a session and group of me.
        let Ok(s) = process::setsid() else { return 1 };
        if s != me || process::getsid(0) != Ok(me) || process::getpgid(0) != Ok(me) {
            return 2;
        }
        // Now a group leader (and session leader): EPERM both ways.
        if process::setsid() != Err(Errno::EPERM) || process::setpgid(0, 0) != Err(Errno::EPERM) {
            return 3;
        }
        0
    })?;
    expect_exit(child, 0)?;
    // A child moved into a group of its own by its parent, then back.
    let child = sleeper()?;
    process::setpgid(child, child)?;
    check_eq!(process::getpgid(child)?, child);
    check_eq!(process::getsid(child)?, sid, "the session is inherited");
    // Another child joins that (existing) group.
    let other = sleeper()?;
    check_eq!(process::getpgid(other)?, pgid);
    process::setpgid(other, child)?;
    check_eq!(process::getpgid(other)?, child);
    check_eq!(process::setpgid(other, 999_999), Err(Errno::EPERM), "a group that does not exist");
    check_eq!(process::setpgid(999_999, 0), Err(Errno::ESRCH), "not a child");
    user::kill(child, process::SIGKILL)?;
    user::kill(other, process::SIGKILL)?;
    expect_killed(child, process::SIGKILL)?;
    expect_killed(other, process::SIGKILL)
}

/// kill(0, s) signals the caller's group and kill(-g, s) group g: never a
/// process outside it (armmap once took every pid <= 0 as "self").
fn kill_zero_and_minus_pgid_hit_only_the_group() -> TestResult {
    // A leader with one member sleeping, and kill(0) from the leader.
    let leader = process::fork_run(|| {
        if process::setpgid(0, 0).is_err() {
            return 1;
        }
        if sleeper().is_err() {
            return 2;
        }
        let _ = user::kill(0, process::SIGKILL);
        4 // kill(0) includes the caller: not reached.
    })?;
    expect_killed(leader, process::SIGKILL)?;
    // kill(-g) from outside the group: both members die, the sender lives.
    let a = sleeper()?;
    process::setpgid(a, a)?;
    let b = process::fork_run(|| {
        user::time::sleep_ms(60_000);
        5
    })?;
    process::setpgid(b, a)?;
    user::kill(-a, process::SIGKILL)?;
    expect_killed(a, process::SIGKILL)?;
    expect_killed(b, process::SIGKILL)?;
    // kill(0, 0) only checks that the group exists.
    user::kill(0, 0)?;
    // The leader's sleeping member was left to init; reap it if that is us.
    if user::getpid() == 1 {
        let (_, status) = user::waitpid(-1, 0)?;
        check!(wifsignaled(status) && wtermsig(status) == process::SIGKILL, "the group member {}", ExitStatus(status));
    }
    Ok(())
}

fn kill_no_such_group_esrch() -> TestResult {
    check_eq!(user::kill(-999_999, process::SIGKILL), Err(Errno::ESRCH));
    check_eq!(user::kill(999_999, 0), Err(Errno::ESRCH));
    check_eq!(user::kill(user::getpid(), 65), Err(Errno::EINVAL));
    Ok(())
}

/// Free frames, from armmap's `/proc/vmstat`.
fn free_frames() -> Result<u64, Failed> {
    let mut buf = [0u8; 1024];
    let n = user::util::read_path(c"/proc/vmstat", &mut buf)?;
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    match user::util::key_value(text, "nr_free_pages") {
        Some(v) => Ok(v),
        None => fail!("no nr_free_pages in /proc/vmstat"),
    }
}

/// Runs `round(1)` to make the pages this program itself touches
/// resident, then `round(n)` between two frame counts, which must be equal.
fn frames_unchanged_by(what: &str, n: usize, mut round: impl FnMut(usize) -> TestResult) -> TestResult {
    round(1)?;
    let before = free_frames()?;
    round(n)?;
    let after = free_frames()?;
    check_eq!(after, before, "free frames before and after {what}");
    println!("  {what}: {before} free frames before, {after} after");
    Ok(())
}

/// After 200 processes lived at once and ended, every frame is back
/// (armmap once kept about 1,700 frames: its heap grew from frames, for
/// their kernel stacks, and kept its high-water mark).
fn frames_back_to_baseline_after_200_forks() -> TestResult {
    if !user::util::armmap_only("the frame count (/proc/vmstat)") {
        return Ok(());
    }
    frames_unchanged_by("200 processes", 200, |n| {
        let mut children = [0 as Pid; 200];
        for c in children.iter_mut().take(n) {
            *c = sleeper()?;
        }
        for &c in children.iter().take(n) {
            user::kill(c, process::SIGKILL)?;
            expect_killed(c, process::SIGKILL)?;
        }
        Ok(())
    })
}

/// Forks sleeping children until fork fails; returns how many there were.
fn fork_until_failure() -> Result<usize, Failed> {
    let mut children = 0usize;
    let err = loop {
        match sleeper() {
            Ok(_) => children += 1,
            Err(e) => break e,
        }
        check!(children < 100_000, "fork never failed");
    };
    check!(err == Errno::EAGAIN || err == Errno::ENOMEM, "fork failed with {err:?}, expected EAGAIN or ENOMEM");
    // Everybody goes: kill(-1) reaches every process but init and the caller.
    user::kill(-1, process::SIGKILL)?;
    let mut reaped = 0;
    loop {
        match user::wait() {
            Ok((_, status)) => {
                check!(wifsignaled(status) && wtermsig(status) == process::SIGKILL, "a child {}", ExitStatus(status));
                reaped += 1;
            }
            Err(Errno::ECHILD) => break,
            Err(e) => fail!("wait: {e:?}"),
        }
    }
    check!(reaped >= children, "{children} children forked, {reaped} reaped");
    Ok(children)
}

/// Fork until fork fails, kill and reap everything, twice: fork fails with
/// EAGAIN or ENOMEM (armmap once panicked: "memory allocation of 32768
/// bytes failed"), and the free-frame count is back where it was.
fn fork_bomb_fails_cleanly_twice() -> TestResult {
    if !user::util::on_armmap() || user::getpid() != 1 {
        println!("  note: a fork bomb runs only as armmap's init, skipped");
        return Ok(());
    }
    // A first bomb makes this program's own pages resident; the second
    // must then leave the frame count exactly as it found it.
    let mut counts = [0usize; 2];
    let mut round = 0;
    frames_unchanged_by("a second fork bomb", 2, |_| {
        counts[round % 2] = fork_until_failure()?;
        round += 1;
        Ok(())
    })?;
    println!("  fork bombs: {} and {} children before fork failed", counts[0], counts[1]);
    Ok(())
}

/// A child that touches anonymous memory until none is left is killed
/// (SIGKILL, as Linux's OOM killer would); the parent lives on and gets
/// every frame back.
fn running_out_of_memory_kills_only_the_hog() -> TestResult {
    if !user::util::armmap_only("exhausting memory") {
        return Ok(());
    }
    frames_unchanged_by("a memory hog", 1, |_| {
        let hog = process::fork_run(|| {
            let len = 1usize << 30;
            let Ok(a) = mm::mmap_anonymous(len, PROT_READ | PROT_WRITE, MAP_PRIVATE) else { return 1 };
            for off in (0..len).step_by(PAGE_SIZE) {
                // SAFETY: inside the mapping just made.
                unsafe { (a as *mut u8).add(off).write_volatile(1) };
            }
            2 // 1 GiB of RAM: not on this machine.
        })?;
        expect_killed(hog, process::SIGKILL)
    })
}

/// SIGKILL ends a process blocked in wait4, nanosleep or a console read at
/// once (armmap once left a reader of the console blocked for good).
fn sigkill_ends_blocking_waits() -> TestResult {
    let sleeping = sleeper()?;
    // On armmap the console has no input under the test runner; elsewhere
    // standard input may be anything, so the reader is armmap's only.
    let reading = if user::util::on_armmap() {
        Some(process::fork_run(|| {
            let mut b = [0u8; 1];
            let _ = fs::read(0, &mut b);
            2
        })?)
    } else {
        None
    };
    let waiting = process::fork_run(|| {
        // A grandchild that outlives the wait only briefly.
        let Ok(g) = process::fork_run(|| {
            user::time::sleep_ms(300);
            0
        }) else {
            return 1;
        };
        let _ = user::waitpid(g, 0);
        2
    })?;
    user::time::sleep_ms(20);
    let clock = user::test::Deadline::after_ms(5_000, u64::MAX);
    user::kill(sleeping, process::SIGKILL)?;
    user::kill(waiting, process::SIGKILL)?;
    expect_killed(sleeping, process::SIGKILL)?;
    expect_killed(waiting, process::SIGKILL)?;
    if let Some(reading) = reading {
        user::kill(reading, process::SIGKILL)?;
        expect_killed(reading, process::SIGKILL)?;
    }
    let ms = clock.elapsed_ns() / 1_000_000;
    check!(ms < 250, "the killed processes took {ms} ms to go");
    // The grandchild was left to init: reap it if that is us.
    if user::getpid() == 1 {
        let (_, status) = user::wait()?;
        check!(wifexited(status), "the grandchild {}", ExitStatus(status));
    }
    Ok(())
}

/// Splitting one mapping into ever more areas ends with ENOMEM at Linux's
/// `vm.max_map_count` (65,530), not with the kernel's memory exhausted; and
/// unmapping it all still works (whole areas need no new bookkeeping).
fn at_most_65530_areas_then_enomem() -> TestResult {
    const PAGES: usize = 70_000;
    let base = mm::mmap_anonymous(PAGES * PAGE_SIZE, mm::PROT_NONE, MAP_PRIVATE)?;
    let mut split = 0usize;
    let err = loop {
        check!(split * 2 < PAGES, "mprotect never failed");
        // SAFETY: the pages belong to this case's mapping.
        match unsafe { mm::mprotect(base + split * 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ) } {
            Ok(()) => split += 1,
            Err(e) => break e,
        }
    };
    check_eq!(err, Errno::ENOMEM, "after {split} splits");
    // Each split adds two areas; the program had a few of its own.
    let areas = 2 * split + 1;
    check!((65_000..=65_530).contains(&areas), "{areas} areas when mprotect failed, Linux allows 65,530");
    // SAFETY: as above.
    unsafe { mm::munmap(base, PAGES * PAGE_SIZE)? };
    let again = mm::mmap_anonymous(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE)?;
    // SAFETY: just mapped.
    unsafe { mm::munmap(again, PAGE_SIZE)? };
    Ok(())
}

/// SIGCHLD, SIGCONT, SIGURG and SIGWINCH are ignored by default: the target
/// lives on (and is then ended by SIGTERM).
fn signals_ignored_by_default_do_not_kill() -> TestResult {
    let child = sleeper()?;
    for sig in [process::SIGCHLD, process::SIGCONT, 23, 28] {
        user::kill(child, sig)?;
    }
    user::time::sleep_ms(20);
    let (pid, _) = user::waitpid(child, process::WNOHANG)?;
    check_eq!(pid, 0, "the child ended after signals ignored by default");
    user::kill(child, process::SIGTERM)?;
    expect_killed(child, process::SIGTERM)
}

/// A process that holds nearly all memory and sleeps is the one killed when
/// a small process then needs pages: the out-of-memory killer picks the
/// process whose death gives the most back, as Linux's does, not the one
/// that happened to fault.
fn the_oom_killer_picks_the_biggest() -> TestResult {
    if !user::util::armmap_only("exhausting memory") {
        return Ok(());
    }
    frames_unchanged_by("an out-of-memory kill", 1, |_| {
        let hog = process::fork_run(|| {
            let len = 1usize << 30;
            let Ok(a) = mm::mmap_anonymous(len, PROT_READ | PROT_WRITE, MAP_PRIVATE) else { return 1 };
            for off in (0..len).step_by(PAGE_SIZE) {
                if off % (64 * PAGE_SIZE) == 0 && free_frames().is_ok_and(|f| f < 200) {
                    break;
                }
                // SAFETY: inside the mapping just made.
                unsafe { (a as *mut u8).add(off).write_volatile(1) };
            }
            user::time::sleep_ms(60_000);
            2
        })?;
        // Wait until the hog has taken nearly everything.
        let mut waited = 0;
        while free_frames()? >= 300 {
            check!(waited < 10_000, "the hog did not fill memory");
            user::time::sleep_ms(10);
            waited += 10;
        }
        let small = process::fork_run(|| {
            let len = 1024 * PAGE_SIZE;
            let Ok(a) = mm::mmap_anonymous(len, PROT_READ | PROT_WRITE, MAP_PRIVATE) else { return 1 };
            for off in (0..len).step_by(PAGE_SIZE) {
                // SAFETY: inside the mapping just made.
                unsafe { (a as *mut u8).add(off).write_volatile(1) };
            }
            0
        })?;
        expect_exit(small, 0)?;
        expect_killed(hog, process::SIGKILL)
    })
}

/// munmap of one page inside a 2 MiB block of `/dev/memdev` when no frame
/// is left for the page table the split needs: the call succeeds, the page
/// is gone (a load from it is SIGSEGV: armmap once left it mapped with no
/// area behind it), and the rest of the block is still there (it faults
/// back in page by page).
fn munmap_inside_a_block_without_memory() -> TestResult {
    if !user::util::armmap_only("/dev/memdev and exhausting memory") {
        return Ok(());
    }
    let child = process::fork_run(|| {
        let Ok(fd) = fs::open(c"/dev/memdev", O_RDWR, 0) else { return 1 };
        let Ok(m) = user::util::mmap_file(2 << 20, PROT_READ | PROT_WRITE, mm::MAP_SHARED, fd, 0) else { return 2 };
        let page = |i: usize| (m + i * PAGE_SIZE + 2048) as *mut u64;
        // SAFETY: inside the 2 MiB mapping just made.
        unsafe { page(5).write_volatile(0x5a5a) };
        // Take every free frame: populating stops where memory ends.
        let hog_len = 1usize << 30;
        let Ok(hog) = mm::mmap_anonymous(hog_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | mm::MAP_POPULATE) else {
            return 3;
        };
        // SAFETY: page 1 is not used after this.
        let cut = unsafe { mm::munmap(m + PAGE_SIZE, PAGE_SIZE) };
        // SAFETY: nothing uses the hog's memory.
        let freed = unsafe { mm::munmap(hog, hog_len) };
        if cut.is_err() || freed.is_err() {
            return 4;
        }
        // SAFETY: page 5 is still mapped.
        if unsafe { page(5).read_volatile() } != 0x5a5a {
            return 5;
        }
        // SAFETY: deliberately a load from the unmapped page: SIGSEGV.
        unsafe { page(1).read_volatile() };
        6
    })?;
    expect_killed(child, process::SIGSEGV)
}
