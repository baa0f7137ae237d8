//! `classic_pitfalls`: the mmap mistakes every tutorial warns about (as
//! `tests/c/mmap_pitfalls.c`), written with the `user` library.
//!
//! - A page wholly past the end of the file raises SIGBUS on a store or a
//!   load; bytes past the end inside the file's last page are fine and never
//!   change the file's size.
//! - An `O_WRONLY` descriptor cannot be mapped (EACCES); an `O_RDONLY` one
//!   not shared-writable.
//! - `munmap` without `msync` still leaves the stores in the file.
//! - `msync`: EINVAL for an unaligned address or `MS_SYNC | MS_ASYNC`,
//!   ENOMEM for a range with unmapped pages.
//! - A shared file mapping is shared between processes, inherited over
//!   `fork` or mapped independently: each sees the other's stores, and
//!   `read` sees them too.
//!
//! Every case passes on Linux as well (`qemu-aarch64`).
#![no_std]
#![no_main]

use core::ffi::CStr;
use user::errno::Errno;
use user::fs::{self, Fd, O_RDONLY, O_RDWR, O_WRONLY};
use user::mm::{self, MAP_PRIVATE, MAP_SHARED, MS_ASYNC, MS_SYNC, PAGE_SIZE, PROT_READ, PROT_WRITE};
use user::process::{self, wexitstatus, wifexited, wifsignaled, wtermsig, ExitStatus, Pid, SIGBUS, WNOHANG};
use user::test::{Deadline, Failed, Harness, TestResult};
use user::util;
use user::{check, check_eq, check_ne, Args};

user::entry!(main);

const PATH: &CStr = c"/tmp/armmap-classic_pitfalls-1";

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("classic_pitfalls");
    h.case("sigbus_store_past_eof", sigbus_store_past_eof);
    h.case("sigbus_load_past_eof", sigbus_load_past_eof);
    h.case("store_in_last_page_ok", store_in_last_page_ok);
    h.case("sigbus_after_truncate", sigbus_after_truncate);
    h.case("wronly_fd_eacces", wronly_fd_eacces);
    h.case("rdonly_fd_not_shared_writable", rdonly_fd_not_shared_writable);
    h.case("bad_offset_and_length_einval", bad_offset_and_length_einval);
    h.case("munmap_without_msync_keeps_data", munmap_without_msync_keeps_data);
    h.case("private_stores_not_in_file", private_stores_not_in_file);
    h.case("msync_errors", msync_errors);
    h.case("fork_shares_mapping", fork_shares_mapping);
    h.case("independent_mappings", independent_mappings);
    h.case("two_mappings_one_process", two_mappings_one_process);
    let _ = fs::unlink(PATH);
    h.finish()
}

/// Creates `PATH` with `size` bytes (byte i is `'a' + i % 26`); returns an
/// `O_RDWR` descriptor.
fn make_file(size: usize) -> Result<Fd, Errno> {
    let mut buf = [0u8; 4 * PAGE_SIZE];
    for (i, b) in buf.iter_mut().enumerate() {
        *b = b'a' + (i % 26) as u8;
    }
    util::create_file(PATH, &buf[..size.min(buf.len())])
}

/// A file mapping this program made, accessed with volatile loads and
/// stores (another process may change it) at bounds-checked offsets.
///
/// An access may still *fault* (a store to a read-only mapping, a page past
/// the end of the file: that is what some cases test), which kills the
/// process with a signal but never touches memory outside the mapping. Only
/// [`Map::unmap`] can leave a `Map` dangling, hence it is `unsafe`.
#[derive(Clone, Copy)]
struct Map {
    addr: usize,
    len: usize,
}

impl Map {
    /// `mmap` of `len` bytes of `fd` from `offset`, wherever the kernel likes.
    fn new(len: usize, prot: u32, flags: u32, fd: Fd, offset: u64) -> Result<Map, Errno> {
        Ok(Map { addr: util::mmap_file(len, prot, flags, fd, offset)?, len })
    }

    /// Loads byte `i`.
    fn load(self, i: usize) -> u8 {
        assert!(i < self.len, "offset {i} outside the {}-byte mapping", self.len);
        // SAFETY: `addr + i` lies inside the live mapping (checked above).
        unsafe { ((self.addr + i) as *const u8).read_volatile() }
    }

    /// Stores `v` at byte `i`.
    fn store(self, i: usize, v: u8) {
        assert!(i < self.len, "offset {i} outside the {}-byte mapping", self.len);
        // SAFETY: `addr + i` lies inside the live mapping (checked above);
        // nothing in this program holds a Rust reference into it.
        unsafe { ((self.addr + i) as *mut u8).write_volatile(v) }
    }

    /// Stores `bytes` from byte `i` on.
    fn store_bytes(self, i: usize, bytes: &[u8]) {
        for (k, &b) in bytes.iter().enumerate() {
            self.store(i + k, b);
        }
    }

    /// Whether the mapping holds `bytes` from byte `i` on.
    fn holds(self, i: usize, bytes: &[u8]) -> bool {
        bytes.iter().enumerate().all(|(k, &b)| self.load(i + k) == b)
    }

    /// `munmap` of the whole mapping.
    ///
    /// # Safety
    ///
    /// No copy of this `Map` may be used afterwards.
    unsafe fn unmap(self) -> Result<(), Errno> {
        // SAFETY: forwarded to the caller.
        unsafe { mm::munmap(self.addr, self.len) }
    }
}

/// Runs `child` in a forked child that exits with its result; returns the
/// status word.
fn in_child(child: impl FnOnce() -> i32) -> Result<i32, Failed> {
    let pid = process::fork_run(child)?;
    let (got, status) = process::waitpid(pid, 0)?;
    check_eq!(got, pid, "waitpid returned another pid");
    Ok(status)
}

/// Stores a byte at offset `i` of `m` in a forked child; returns its
/// status word.
fn store_in_child(m: Map, i: usize) -> Result<i32, Failed> {
    in_child(|| {
        m.store(i, b'X');
        0
    })
}

fn expect_sigbus(status: i32, what: &str) -> TestResult {
    check!(wifsignaled(status) && wtermsig(status) == SIGBUS, "child {what}: {}, expected SIGBUS", ExitStatus(status));
    Ok(())
}

fn expect_exit0(status: i32, what: &str) -> TestResult {
    check!(wifexited(status) && wexitstatus(status) == 0, "child {what}: {}, expected exit 0", ExitStatus(status));
    Ok(())
}

fn sigbus_store_past_eof() -> TestResult {
    let fd = make_file(100)?;
    // Mapping two pages of a 100-byte file succeeds...
    let m = Map::new(2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    // ...but a store to the second page, wholly past the end, is SIGBUS.
    expect_sigbus(store_in_child(m, PAGE_SIZE)?, "storing to page 2")?;
    expect_sigbus(store_in_child(m, 2 * PAGE_SIZE - 1)?, "storing to the last byte of page 2")?;
    check_eq!(fs::fstat(fd)?.st_size, 100, "file size");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    fs::close(fd)?;
    Ok(())
}

fn sigbus_load_past_eof() -> TestResult {
    let fd = make_file(100)?;
    for (flags, what) in [(MAP_SHARED, "shared"), (MAP_PRIVATE, "private")] {
        let m = Map::new(2 * PAGE_SIZE, PROT_READ, flags, fd, 0)?;
        let st = in_child(|| i32::from(m.load(PAGE_SIZE) == 0x7f))?;
        check!(
            wifsignaled(st) && wtermsig(st) == SIGBUS,
            "child loading from page 2 ({what}): {}, expected SIGBUS",
            ExitStatus(st)
        );
        // SAFETY: `m` is not used again.
        unsafe { m.unmap()? };
    }
    fs::close(fd)?;
    Ok(())
}

fn store_in_last_page_ok() -> TestResult {
    let fd = make_file(100)?;
    let m = Map::new(2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    check!(m.load(0) == b'a' && m.load(99) == b'a' + 99 % 26, "the file's bytes are not in the mapping");
    // The rest of the file's last page reads as zeros.
    for i in 100..PAGE_SIZE {
        check_eq!(m.load(i), 0, "byte {i} past the end");
    }
    // A child stores there: no signal.
    expect_exit0(store_in_child(m, 100)?, "storing to byte 100")?;
    expect_exit0(store_in_child(m, PAGE_SIZE - 1)?, "storing to byte 4095")?;
    // And so can we; the shared page holds the child's stores as well.
    m.store(200, b'Y');
    check!(
        m.load(100) == b'X' && m.load(PAGE_SIZE - 1) == b'X' && m.load(200) == b'Y',
        "stores past the end read {} {} {}",
        m.load(100),
        m.load(PAGE_SIZE - 1),
        m.load(200)
    );
    mm::msync(m.addr, m.len, MS_SYNC)?;
    // The file keeps its size, and read() sees only its 100 bytes.
    check_eq!(fs::fstat(fd)?.st_size, 100, "file size after stores past the end");
    let mut buf = [0u8; PAGE_SIZE];
    check_eq!(fs::pread(fd, &mut buf, 0)?, 100, "pread of the whole file");
    check!(buf[0] == b'a' && buf[99] == b'a' + 99 % 26, "file content changed");
    check_eq!(fs::pread(fd, &mut buf, 100)?, 0, "pread at offset 100");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    fs::close(fd)?;
    Ok(())
}

fn sigbus_after_truncate() -> TestResult {
    let fd = make_file(2 * PAGE_SIZE)?;
    let m = Map::new(2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    // Both pages are mapped and in use...
    m.store(PAGE_SIZE + 1, b'Z');
    check!(m.load(PAGE_SIZE) == b'a' + (PAGE_SIZE % 26) as u8, "page 2 does not hold the file's bytes");
    // ...then the file shrinks to 100 bytes: page 2 is gone.
    fs::ftruncate(fd, 100)?;
    let st = in_child(|| i32::from(m.load(PAGE_SIZE) == 0x7f))?;
    expect_sigbus(st, "loading from the truncated page")?;
    // The bytes cut off in the last page are zero now.
    let (x, y) = (m.load(100), m.load(PAGE_SIZE - 1));
    check!(x == 0 && y == 0, "bytes past the new end read {x} and {y}, expected 0");
    // Growing the file again brings page 2 back, zero-filled.
    fs::ftruncate(fd, 2 * PAGE_SIZE as u64)?;
    let st = in_child(|| i32::from(m.load(PAGE_SIZE + 1) == 0x7f))?;
    expect_exit0(st, "loading after regrowth")?;
    check_eq!(m.load(PAGE_SIZE + 1), 0, "page 2 after shrinking and growing");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    fs::close(fd)?;
    Ok(())
}

fn bad_offset_and_length_einval() -> TestResult {
    let fd = make_file(2 * PAGE_SIZE)?;
    let r = util::mmap_file(PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 100);
    check_eq!(r.map(drop), Err(Errno::EINVAL), "unaligned offset");
    let r = util::mmap_file(0, PROT_READ, MAP_SHARED, fd, 0);
    check_eq!(r.map(drop), Err(Errno::EINVAL), "length 0");
    let r = util::mmap_file(PAGE_SIZE, PROT_READ, 0, fd, 0);
    check_eq!(r.map(drop), Err(Errno::EINVAL), "neither MAP_SHARED nor MAP_PRIVATE");
    // A page-aligned offset is fine: the mapping starts at page 2.
    let m = Map::new(PAGE_SIZE, PROT_READ, MAP_SHARED, fd, PAGE_SIZE as u64)?;
    check_eq!(m.load(0), b'a' + (PAGE_SIZE % 26) as u8, "first byte at offset 4096");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    fs::close(fd)?;
    Ok(())
}

fn private_stores_not_in_file() -> TestResult {
    let fd = make_file(PAGE_SIZE)?;
    let m = Map::new(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)?;
    m.store_bytes(0, b"PRIVATE");
    mm::msync(m.addr, m.len, MS_SYNC)?;
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    let mut buf = [0u8; 7];
    check_eq!(fs::pread(fd, &mut buf, 0)?, 7);
    check_eq!(&buf, b"abcdefg", "what the file holds");
    fs::close(fd)?;
    Ok(())
}

fn wronly_fd_eacces() -> TestResult {
    fs::close(make_file(PAGE_SIZE)?)?;
    let fd = fs::open(PATH, O_WRONLY, 0)?;
    for (prot, flags) in [
        (PROT_WRITE, MAP_SHARED),
        (PROT_READ | PROT_WRITE, MAP_SHARED),
        (PROT_READ, MAP_SHARED),
        (PROT_READ, MAP_PRIVATE),
    ] {
        let r = util::mmap_file(PAGE_SIZE, prot, flags, fd, 0);
        check_eq!(r.map(drop), Err(Errno::EACCES), "mmap(prot {prot:#x}, flags {flags:#x}) of an O_WRONLY fd");
    }
    fs::close(fd)?;
    Ok(())
}

fn rdonly_fd_not_shared_writable() -> TestResult {
    fs::close(make_file(PAGE_SIZE)?)?;
    let fd = fs::open(PATH, O_RDONLY, 0)?;
    let r = util::mmap_file(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check_eq!(r.map(drop), Err(Errno::EACCES), "shared writable mapping of an O_RDONLY fd");
    // Read-only shared is fine, but cannot be made writable later.
    let m = Map::new(PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0)?;
    check_eq!(m.load(0), b'a');
    // SAFETY: the call must fail; had it succeeded, the mapping would only
    // have gained write access.
    let r = unsafe { mm::mprotect(m.addr, m.len, PROT_READ | PROT_WRITE) };
    check_eq!(r, Err(Errno::EACCES), "mprotect(PROT_WRITE) of a shared mapping of an O_RDONLY fd");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    // A private writable mapping is fine: its stores stay private.
    let m = Map::new(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)?;
    m.store(0, b'P');
    check_eq!(m.load(0), b'P');
    let mut c = [0u8; 1];
    check!(fs::pread(fd, &mut c, 0)? == 1 && c[0] == b'a', "a private store reached the file ({})", c[0]);
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    fs::close(fd)?;
    Ok(())
}

fn munmap_without_msync_keeps_data() -> TestResult {
    let fd = make_file(PAGE_SIZE)?;
    let m = Map::new(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    fs::close(fd)?;
    m.store_bytes(10, b"no msync needed");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    let mut buf = [0u8; 15];
    let fd = fs::open(PATH, O_RDONLY, 0)?;
    check_eq!(fs::pread(fd, &mut buf, 10)?, 15);
    check_eq!(&buf, b"no msync needed", "what the file holds");
    check_eq!(fs::fstat(fd)?.st_size, PAGE_SIZE as i64);
    fs::close(fd)?;
    Ok(())
}

fn msync_errors() -> TestResult {
    let fd = make_file(3 * PAGE_SIZE)?;
    let m = Map::new(3 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    let p = m.addr;
    m.store(0, b'A');
    check_eq!(mm::msync(p + 1, PAGE_SIZE, MS_SYNC), Err(Errno::EINVAL), "unaligned address");
    check_eq!(mm::msync(p + PAGE_SIZE / 2, PAGE_SIZE, MS_ASYNC), Err(Errno::EINVAL), "unaligned address");
    check_eq!(mm::msync(p, PAGE_SIZE, MS_SYNC | MS_ASYNC), Err(Errno::EINVAL), "MS_SYNC | MS_ASYNC");
    check_eq!(mm::msync(p, PAGE_SIZE, 8), Err(Errno::EINVAL), "unknown flag 8");
    // Length 0 is fine; an unaligned length is rounded up.
    mm::msync(p, 0, MS_SYNC)?;
    mm::msync(p, 1, MS_SYNC)?;
    mm::msync(p, 3 * PAGE_SIZE, MS_ASYNC)?;
    // Unmap the middle page: a range over the hole is ENOMEM.
    // SAFETY: only the first and last pages of `m` are used from here on.
    unsafe { mm::munmap(p + PAGE_SIZE, PAGE_SIZE)? };
    check_eq!(mm::msync(p, 3 * PAGE_SIZE, MS_SYNC), Err(Errno::ENOMEM), "range over a hole, MS_SYNC");
    check_eq!(mm::msync(p, 3 * PAGE_SIZE, MS_ASYNC), Err(Errno::ENOMEM), "range over a hole, MS_ASYNC");
    check_eq!(mm::msync(p + PAGE_SIZE, PAGE_SIZE, MS_SYNC), Err(Errno::ENOMEM), "the hole itself");
    mm::msync(p, PAGE_SIZE, MS_SYNC)?;
    mm::msync(p + 2 * PAGE_SIZE, PAGE_SIZE, MS_SYNC)?;
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    check_eq!(mm::msync(p, PAGE_SIZE, MS_SYNC), Err(Errno::ENOMEM), "an unmapped range");
    // msync of an anonymous mapping is allowed (nothing to write back).
    let a = mm::map_anonymous(PAGE_SIZE, false)?;
    a[0] = 1;
    mm::msync(a.as_ptr() as usize, PAGE_SIZE, MS_SYNC)?;
    fs::close(fd)?;
    Ok(())
}

/// Polls until byte `i` of `m` is `want` (10 s at most).
fn wait_for_byte(m: Map, i: usize, want: u8) -> bool {
    let mut d = Deadline::after_ms(10_000, 50_000_000);
    loop {
        if m.load(i) == want {
            return true;
        }
        if d.expired() {
            return false;
        }
        process::sched_yield();
    }
}

/// The parent's side: polls until byte `i` of `m` is `want`, giving up
/// early if `child` ends first. Returns whether it came and the child's
/// status word if it was reaped.
fn parent_wait_for_byte(m: Map, i: usize, want: u8, child: Pid) -> (bool, Option<i32>) {
    let mut d = Deadline::after_ms(10_000, 50_000_000);
    loop {
        if m.load(i) == want {
            return (true, None);
        }
        if let Ok((pid, status)) = process::waitpid(child, WNOHANG) {
            if pid == child {
                return (m.load(i) == want, Some(status));
            }
        }
        if d.expired() {
            return (false, None);
        }
        process::sched_yield();
    }
}

/// Waits for `child` unless it was already reaped.
fn reap(child: Pid, status: Option<i32>) -> Result<i32, Failed> {
    if let Some(s) = status {
        return Ok(s);
    }
    let (pid, s) = process::waitpid(child, 0)?;
    check_eq!(pid, child, "waitpid returned another pid");
    Ok(s)
}

fn fork_shares_mapping() -> TestResult {
    let fd = make_file(PAGE_SIZE)?;
    let m = Map::new(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    m.store(0, b'x');
    m.store(1, b'x');
    let child = process::fork_run(|| {
        m.store_bytes(10, b"from child");
        m.store(0, b'c');
        if !wait_for_byte(m, 1, b'p') {
            return 2;
        }
        if m.holds(20, b"from parent") {
            0
        } else {
            3
        }
    })?;
    let (came, status) = parent_wait_for_byte(m, 0, b'c', child);
    if came {
        m.store_bytes(20, b"from parent");
        m.store(1, b'p');
    }
    let status = reap(child, status)?;
    check!(came, "the child's store never appeared in the parent's mapping (child {})", ExitStatus(status));
    check!(m.holds(10, b"from child"), "the parent does not see the child's data");
    check!(
        wifexited(status) && wexitstatus(status) == 0,
        "child {} (2: never saw the parent's store, 3: saw it without its data)",
        ExitStatus(status)
    );
    let mut buf = [0u8; 21];
    check_eq!(fs::pread(fd, &mut buf, 10)?, 21);
    check_eq!(&buf, b"from childfrom parent", "what read() sees");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    fs::close(fd)?;
    Ok(())
}

/// Child of `independent_mappings`: its own open and mmap of the file.
fn independent_child() -> i32 {
    let Ok(fd) = fs::open(PATH, O_RDWR, 0) else { return 10 };
    let Ok(q) = Map::new(2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) else { return 11 };
    let _ = fs::close(fd);
    // It sees what the parent stored before the fork...
    if !q.holds(PAGE_SIZE, b"before fork") {
        return 12;
    }
    // ...its stores reach the parent...
    q.store_bytes(PAGE_SIZE + 100, b"child's own map");
    q.store(2, b'c');
    // ...and the parent's later stores reach it.
    if !wait_for_byte(q, 3, b'p') {
        return 13;
    }
    if !q.holds(PAGE_SIZE + 200, b"parent later") {
        return 14;
    }
    0
}

fn independent_mappings() -> TestResult {
    let fd = make_file(2 * PAGE_SIZE)?;
    let m = Map::new(2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    m.store_bytes(PAGE_SIZE, b"before fork");
    m.store(2, b'x');
    m.store(3, b'x');
    let child = process::fork_run(|| {
        // Drop the inherited mapping: only the child's own one is used.
        // SAFETY: the child never touches `m` again.
        let _ = unsafe { m.unmap() };
        independent_child()
    })?;
    let (came, status) = parent_wait_for_byte(m, 2, b'c', child);
    if came {
        m.store_bytes(PAGE_SIZE + 200, b"parent later");
        m.store(3, b'p');
    }
    let status = reap(child, status)?;
    check!(came, "the child's store never appeared in the parent's mapping (child {})", ExitStatus(status));
    check!(m.holds(PAGE_SIZE + 100, b"child's own map"), "the parent does not see the child's data");
    check!(
        wifexited(status) && wexitstatus(status) == 0,
        "child {} (10 open, 11 mmap, 12 old data, 13 no store from the parent, 14 its data)",
        ExitStatus(status)
    );
    let mut buf = [0u8; 15];
    check_eq!(fs::pread(fd, &mut buf, (PAGE_SIZE + 100) as u64)?, 15);
    check_eq!(&buf, b"child's own map", "what read() sees");
    // SAFETY: `m` is not used again.
    unsafe { m.unmap()? };
    fs::close(fd)?;
    Ok(())
}

fn two_mappings_one_process() -> TestResult {
    let fd = make_file(PAGE_SIZE)?;
    let a = Map::new(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    let b = Map::new(PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0)?;
    check_ne!(a.addr, b.addr, "two mappings at the same address");
    check_eq!(b.load(5), b'f', "second mapping before the store");
    a.store(5, b'!');
    check_eq!(b.load(5), b'!', "second mapping after a store through the first");
    // A write() to the file shows in both mappings too.
    check_eq!(fs::pwrite(fd, b"W", 6)?, 1);
    check!(a.load(6) == b'W' && b.load(6) == b'W', "after pwrite the mappings read {} and {}", a.load(6), b.load(6));
    // SAFETY: neither mapping is used again.
    unsafe {
        a.unmap()?;
        b.unmap()?;
    }
    fs::close(fd)?;
    Ok(())
}
