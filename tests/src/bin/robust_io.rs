//! `robust_io`: system calls given lengths and buffers that do not fit.
//!
//! Every (pointer, length) pair a system call receives must be a valid
//! user range (no overflow, nothing above user space) before any data
//! moves, as Linux's `access_ok` demands; a transfer that faults part of
//! the way returns the bytes moved so far (and moves the file position by
//! exactly that), EFAULT only when nothing moved. `readv`/`writev` check
//! every vector first (`import_iovec`: EINVAL for more than 1024 vectors or
//! a negative length, EFAULT for a bad range, the total capped at
//! `MAX_RW_COUNT`), `getdents64` loses no entry when its copy faults, and
//! `fcntl(F_DUPFD)` refuses a minimum at or above `RLIMIT_NOFILE` with
//! EINVAL.
//!
//! The program also runs on Linux (`qemu-aarch64`; it works in
//! `/tmp/armmap-robust` and removes it). qemu-user checks a whole buffer up
//! front where Linux copies until the fault, so the checks of partial
//! transfers into a buffer that ends at an unmapped page, and of `writev`
//! writing nothing, run on armmap only (see `on_armmap`).
#![no_std]
#![no_main]

use core::ffi::CStr;
use user::errno::Errno;
use user::fs::{self, Fd, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_CUR};
use user::mm::{self, PAGE_SIZE, PROT_READ, PROT_WRITE};
use user::process;
use user::syscall::{self, nr};
use user::test::{Harness, TestResult};
use user::util::on_armmap;
use user::{check, check_eq, println, Args};

user::entry!(main);

const DIR: &CStr = c"/tmp/armmap-robust";
const F: &CStr = c"/tmp/armmap-robust/f";
const NAMES: usize = 20;

/// The top half of the address space: never a user address.
const KERNEL_ADDR: usize = 0xffff_0000_0000_0000;
/// Linux's cap on one read or write (`MAX_RW_COUNT`, INT_MAX rounded down to a page).
const MAX_RW_COUNT: usize = 0x7fff_f000;
const F_DUPFD: usize = 0;
const F_DUPFD_CLOEXEC: usize = 1030;

fn main(_args: Args) -> i32 {
    cleanup();
    if let Err(e) = fs::mkdir(DIR, 0o755) {
        println!("robust_io: cannot create {DIR:?}: {e}");
        return 1;
    }
    let mut h = Harness::new("robust_io");
    h.case("read_write_huge_count_efault", read_write_huge_count_efault);
    h.case("read_partial_fault_returns_bytes", read_partial_fault_returns_bytes);
    h.case("write_partial_fault_returns_bytes", write_partial_fault_returns_bytes);
    h.case("large_transfer_in_one_call", large_transfer_in_one_call);
    h.case("readv_good_then_unmapped", readv_good_then_unmapped);
    h.case("writev_bad_vector_writes_nothing", writev_bad_vector_writes_nothing);
    h.case("iovec_checks", iovec_checks);
    h.case("rw_count_capped_at_max_rw_count", rw_count_capped_at_max_rw_count);
    h.case("position_overflow_einval", position_overflow_einval);
    h.case("getdents64_fault_loses_nothing", getdents64_fault_loses_nothing);
    h.case("getdents64_small_buffer_einval", getdents64_small_buffer_einval);
    h.case("fcntl_dupfd_limit", fcntl_dupfd_limit);
    h.case("getrandom_ranges", getrandom_ranges);
    h.case("readlinkat_bufsiz", readlinkat_bufsiz);
    h.case("getcwd_copies_only_the_path", getcwd_copies_only_the_path);
    h.case("page_cache_exhaustion_enospc", page_cache_exhaustion_enospc);
    cleanup();
    h.finish()
}

fn cleanup() {
    let _ = fs::unlink(F);
    let mut name = *b"/tmp/armmap-robust/d/f00\0";
    for i in 0..NAMES {
        name[22] = b'0' + (i / 10) as u8;
        name[23] = b'0' + (i % 10) as u8;
        if let Ok(p) = CStr::from_bytes_with_nul(&name) {
            let _ = fs::unlink(p);
        }
    }
    let _ = fs::rmdir(c"/tmp/armmap-robust/d");
    let _ = fs::unlink(c"/tmp/armmap-robust/big");
    let _ = fs::rmdir(DIR);
}

fn sys3(n: usize, a: usize, b: usize, c: usize) -> Result<usize, Errno> {
    // SAFETY: every call in this file passes either memory it owns, memory
    // it has unmapped or kernel addresses: the kernel must refuse the bad
    // ones, and the good ones are buffers the program does not use otherwise.
    syscall::ret(unsafe { syscall::syscall3(n, a, b, c) })
}

fn sys4(n: usize, a: usize, b: usize, c: usize, d: usize) -> Result<usize, Errno> {
    // SAFETY: as in `sys3`.
    syscall::ret(unsafe { syscall::syscall4(n, a, b, c, d) })
}

/// A page of read-write memory followed by an unmapped page: returns the
/// address of the unmapped page (a valid user range that faults).
fn edge() -> Result<usize, Errno> {
    let base = mm::mmap_anonymous(2 * PAGE_SIZE, PROT_READ | PROT_WRITE, mm::MAP_PRIVATE)?;
    // SAFETY: the second page was just mapped and nothing refers to it.
    unsafe { mm::munmap(base + PAGE_SIZE, PAGE_SIZE)? };
    Ok(base + PAGE_SIZE)
}

/// Like [`edge`], but low in the address space (at 8 GiB), so that a range
/// of `MAX_RW_COUNT` bytes from there is still a user range.
fn low_edge() -> Result<usize, Errno> {
    let at = 0x2_0000_0000;
    let flags = mm::MAP_PRIVATE | mm::MAP_ANONYMOUS | mm::MAP_FIXED_NOREPLACE;
    // SAFETY: MAP_FIXED_NOREPLACE fails instead of replacing a mapping.
    let base = unsafe { mm::mmap(at, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, flags, -1, 0)? };
    // SAFETY: the second page was just mapped and nothing refers to it.
    unsafe { mm::munmap(base + PAGE_SIZE, PAGE_SIZE)? };
    Ok(base + PAGE_SIZE)
}

/// The 100-byte test file: byte i is `b'a' + i % 26`.
fn fresh_file() -> Result<Fd, Errno> {
    let mut data = [0u8; 100];
    for (i, b) in data.iter_mut().enumerate() {
        *b = b'a' + (i % 26) as u8;
    }
    user::util::create_file(F, &data).and_then(|fd| fs::lseek(fd, 0, fs::SEEK_SET).map(|_| fd))
}

fn pos(fd: Fd) -> Result<u64, Errno> {
    fs::lseek(fd, 0, SEEK_CUR)
}

/// `read(fd, buf, 1 << 62)` with a 64-byte buffer: the range runs past user
/// space, so nothing may be copied (Linux: EFAULT from access_ok).
fn read_write_huge_count_efault() -> TestResult {
    let fd = fresh_file()?;
    let mut buf = [0u8; 64];
    let b = buf.as_mut_ptr() as usize;
    for count in [1usize << 62, usize::MAX, usize::MAX - b + 1, 1usize << 48] {
        check_eq!(sys3(nr::READ, fd as usize, b, count), Err(Errno::EFAULT), "read count {count:#x}");
        check_eq!(sys4(nr::PREAD64, fd as usize, b, count, 0), Err(Errno::EFAULT), "pread count {count:#x}");
        check_eq!(sys3(nr::WRITE, fd as usize, b, count), Err(Errno::EFAULT), "write count {count:#x}");
        check_eq!(sys4(nr::PWRITE64, fd as usize, b, count, 0), Err(Errno::EFAULT), "pwrite count {count:#x}");
    }
    check_eq!(buf, [0u8; 64], "the buffer was written");
    check_eq!(pos(fd)?, 0, "the file position moved");
    check_eq!(fs::fstat(fd)?.st_size, 100, "the file size changed");
    // A kernel address is refused even for zero bytes.
    check_eq!(sys3(nr::READ, fd as usize, KERNEL_ADDR, 0), Err(Errno::EFAULT), "read of 0 bytes to a kernel address");
    check_eq!(
        sys3(nr::WRITE, fd as usize, KERNEL_ADDR, 0),
        Err(Errno::EFAULT),
        "write of 0 bytes from a kernel address"
    );
    fs::close(fd)?;
    Ok(())
}

/// A read into a buffer whose end is unmapped returns the bytes that fit
/// before the hole and moves the position by exactly that much; a read
/// into the hole itself is EFAULT and moves nothing.
fn read_partial_fault_returns_bytes() -> TestResult {
    let fd = fresh_file()?;
    let hole = edge()?;
    check_eq!(sys3(nr::READ, fd as usize, hole, 10), Err(Errno::EFAULT), "read into an unmapped page");
    check_eq!(pos(fd)?, 0, "position after a read that copied nothing");
    if !on_armmap() {
        println!("  note: not on armmap; qemu-user refuses the whole buffer where Linux copies up to the hole");
        fs::close(fd)?;
        return Ok(());
    }
    let n = sys3(nr::READ, fd as usize, hole - 10, 100)?;
    // Linux guarantees progress up to the hole only within copy_to_user's
    // granularity (at least one byte); armmap copies exactly up to it.
    check_eq!(n, 10, "read of 100 bytes into a buffer 10 bytes before a hole");
    check_eq!(pos(fd)?, 10, "position after the partial read");
    // SAFETY: hole - 10 .. hole is mapped memory of this program, just written by the kernel.
    let got = unsafe { core::slice::from_raw_parts((hole - 10) as *const u8, 10) };
    check_eq!(got, b"abcdefghij");
    let n = sys4(nr::PREAD64, fd as usize, hole - 3, 50, 20)?;
    check_eq!(n, 3, "pread of 50 bytes 3 bytes before a hole");
    check_eq!(pos(fd)?, 10, "pread moved the position");
    fs::close(fd)?;
    Ok(())
}

/// A write from a buffer whose end is unmapped writes what is readable.
fn write_partial_fault_returns_bytes() -> TestResult {
    let fd = fresh_file()?;
    fs::ftruncate(fd, 0)?;
    let hole = edge()?;
    check_eq!(sys3(nr::WRITE, fd as usize, hole, 10), Err(Errno::EFAULT), "write from an unmapped page");
    check_eq!(fs::fstat(fd)?.st_size, 0, "size after a write that copied nothing");
    if !on_armmap() {
        println!("  note: not on armmap; qemu-user refuses the whole buffer where Linux copies up to the hole");
        fs::close(fd)?;
        return Ok(());
    }
    // SAFETY: hole - 8 .. hole is mapped, writable memory of this program.
    unsafe { core::ptr::copy_nonoverlapping(b"12345678".as_ptr(), (hole - 8) as *mut u8, 8) };
    check_eq!(sys3(nr::WRITE, fd as usize, hole - 8, 4000)?, 8, "write of 4000 bytes 8 before a hole");
    check_eq!(pos(fd)?, 8);
    check_eq!(fs::fstat(fd)?.st_size, 8);
    let mut back = [0u8; 8];
    check_eq!(fs::pread(fd, &mut back, 0)?, 8);
    check_eq!(&back, b"12345678");
    fs::close(fd)?;
    Ok(())
}

/// One `write` and one `read` of 1 MiB move all of it (a regular file does
/// not return short counts), without a kernel buffer of that size.
fn large_transfer_in_one_call() -> TestResult {
    const LEN: usize = 1 << 20;
    let src = mm::map_anonymous(LEN, false)?;
    for (i, b) in src.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let fd = fs::open(c"/tmp/armmap-robust/big", O_CREAT | O_RDWR | O_TRUNC, 0o600)?;
    check_eq!(fs::write(fd, src)?, LEN, "one write of 1 MiB");
    let dst = mm::map_anonymous(LEN, false)?;
    check_eq!(fs::pread(fd, dst, 0)?, LEN, "one pread of 1 MiB");
    check!(src[..] == dst[..], "the data read back differs");
    fs::close(fd)?;
    fs::unlink(c"/tmp/armmap-robust/big")?;
    Ok(())
}

/// `readv` into a good vector then one in an unmapped page returns the
/// bytes of the first; the position moves by exactly that.
fn readv_good_then_unmapped() -> TestResult {
    let fd = fresh_file()?;
    let hole = edge()?;
    let mut first = [0u8; 10];
    let iov = [first.as_mut_ptr() as usize, 10, hole, 10];
    check_eq!(sys3(nr::READV, fd as usize, iov.as_ptr() as usize, 2), Ok(10), "readv good + unmapped");
    check_eq!(&first, b"abcdefghij");
    check_eq!(pos(fd)?, 10, "position after the readv");
    let iov = [hole, 10, first.as_mut_ptr() as usize, 10];
    check_eq!(sys3(nr::READV, fd as usize, iov.as_ptr() as usize, 2), Err(Errno::EFAULT), "readv unmapped + good");
    check_eq!(pos(fd)?, 10, "position after a readv that copied nothing");
    fs::close(fd)?;
    Ok(())
}

/// `writev` whose second vector is not a user range (a kernel address, a
/// length running off the end) writes nothing: every vector is checked
/// before the first byte moves.
fn writev_bad_vector_writes_nothing() -> TestResult {
    let fd = fresh_file()?;
    fs::ftruncate(fd, 0)?;
    let abc = b"abc";
    let bad = [(KERNEL_ADDR, 3), (abc.as_ptr() as usize, 1 << 62), (abc.as_ptr() as usize, i64::MAX as usize)];
    for (base, len) in bad {
        let iov = [abc.as_ptr() as usize, 3, base, len];
        let r = sys3(nr::WRITEV, fd as usize, iov.as_ptr() as usize, 2);
        if !on_armmap() {
            println!("  note: not on armmap; qemu-user writes the vectors before a bad one (Linux: EFAULT, nothing)");
            fs::close(fd)?;
            return Ok(());
        }
        check_eq!(r, Err(Errno::EFAULT), "writev good + ({base:#x}, {len:#x})");
        check_eq!(fs::fstat(fd)?.st_size, 0, "writev with a bad second vector wrote");
        check_eq!(pos(fd)?, 0);
    }
    // A good vector then one in an unmapped page: the first is written.
    let hole = edge()?;
    let iov = [abc.as_ptr() as usize, 3, hole, 3];
    check_eq!(sys3(nr::WRITEV, fd as usize, iov.as_ptr() as usize, 2), Ok(3), "writev good + unmapped");
    check_eq!(fs::fstat(fd)?.st_size, 3);
    fs::close(fd)?;
    Ok(())
}

/// import_iovec's checks: the number of vectors, negative lengths, the
/// vector array itself.
fn iovec_checks() -> TestResult {
    let fd = fresh_file()?;
    let mut b = [0u8; 8];
    let p = b.as_mut_ptr() as usize;
    let iov = [p, 8];
    check_eq!(sys3(nr::READV, fd as usize, iov.as_ptr() as usize, 1025), Err(Errno::EINVAL), "1025 vectors");
    check_eq!(sys3(nr::READV, fd as usize, iov.as_ptr() as usize, 0), Ok(0), "no vector");
    check_eq!(sys3(nr::READV, fd as usize, KERNEL_ADDR, 0), Ok(0), "no vector, array at a kernel address");
    check_eq!(sys3(nr::READV, fd as usize, 0x10, 1), Err(Errno::EFAULT), "vector array at 0x10");
    check_eq!(sys3(nr::READV, fd as usize, KERNEL_ADDR, 1), Err(Errno::EFAULT), "vector array at a kernel address");
    let iov = [p, 8, p, 1 << 63];
    check_eq!(sys3(nr::READV, fd as usize, iov.as_ptr() as usize, 2), Err(Errno::EINVAL), "negative length");
    check_eq!(sys3(nr::WRITEV, fd as usize, iov.as_ptr() as usize, 2), Err(Errno::EINVAL), "negative length");
    if on_armmap() {
        // Linux reads every length before it checks any range, so a
        // negative length wins over an earlier bad address; and a
        // zero-length vector at a kernel address is still not a user range.
        // (qemu-user checks vector by vector and skips empty ones.)
        let iov = [KERNEL_ADDR, 8, p, 1 << 63];
        check_eq!(sys3(nr::READV, fd as usize, iov.as_ptr() as usize, 2), Err(Errno::EINVAL), "bad, then negative");
        let iov = [KERNEL_ADDR, 0];
        check_eq!(sys3(nr::READV, fd as usize, iov.as_ptr() as usize, 1), Err(Errno::EFAULT), "empty kernel vector");
    }
    check_eq!(pos(fd)?, 0, "a refused readv moved the position");
    // The vector array ending in an unmapped page.
    let hole = edge()?;
    // SAFETY: hole - 16 .. hole is mapped, writable memory of this program.
    unsafe { core::ptr::write((hole - 16) as *mut [usize; 2], [p, 8]) };
    check_eq!(sys3(nr::READV, fd as usize, hole - 16, 2), Err(Errno::EFAULT), "vector array running into a hole");
    check_eq!(sys3(nr::READV, fd as usize, hole - 16, 1), Ok(8), "the last vector before the hole");
    fs::close(fd)?;
    Ok(())
}

/// One write moves at most MAX_RW_COUNT bytes, however many vectors or
/// bytes are asked for. `/dev/null` does not touch the buffer, so a large
/// mapping that is never faulted in is enough.
fn rw_count_capped_at_max_rw_count() -> TestResult {
    let len = 3usize << 30;
    let big = mm::mmap_anonymous(len, PROT_READ, mm::MAP_PRIVATE | 0x4000)?; // MAP_NORESERVE
    let null = fs::open(c"/dev/null", O_WRONLY, 0)?;
    check_eq!(sys3(nr::WRITE, null as usize, big, len), Ok(MAX_RW_COUNT), "write of 3 GiB to /dev/null");
    let iov = [big, 1 << 30, big, 1 << 30, big, 1 << 30];
    check_eq!(sys3(nr::WRITEV, null as usize, iov.as_ptr() as usize, 3), Ok(MAX_RW_COUNT), "writev of 3 x 1 GiB");
    fs::close(null)?;
    // SAFETY: nothing refers to the mapping.
    unsafe { mm::munmap(big, len)? };
    Ok(())
}

/// A position plus count beyond the largest file offset is EINVAL (Linux:
/// rw_verify_area), before any byte moves.
fn position_overflow_einval() -> TestResult {
    let fd = fresh_file()?;
    let mut b = *b"xy";
    let p = b.as_mut_ptr() as usize;
    check_eq!(sys4(nr::PWRITE64, fd as usize, p, 1, i64::MAX as usize), Err(Errno::EINVAL), "pwrite at i64::MAX");
    check_eq!(sys4(nr::PWRITE64, fd as usize, p, 2, i64::MAX as usize - 1), Err(Errno::EINVAL), "pwrite over i64::MAX");
    check_eq!(sys4(nr::PREAD64, fd as usize, p, 2, i64::MAX as usize - 1), Err(Errno::EINVAL), "pread over i64::MAX");
    // A far but legal offset makes a sparse file.
    check_eq!(sys4(nr::PWRITE64, fd as usize, p, 2, 1 << 40)?, 2);
    check_eq!(fs::fstat(fd)?.st_size, (1 << 40) + 2);
    fs::close(fd)?;
    Ok(())
}

/// Directory `/tmp/armmap-robust/d` with files f00..f19.
fn make_dir() -> Result<Fd, Errno> {
    let _ = fs::mkdir(c"/tmp/armmap-robust/d", 0o755);
    let mut name = *b"/tmp/armmap-robust/d/f00\0";
    for i in 0..NAMES {
        name[22] = b'0' + (i / 10) as u8;
        name[23] = b'0' + (i % 10) as u8;
        let p = CStr::from_bytes_with_nul(&name).map_err(|_| Errno::EINVAL)?;
        fs::close(fs::open(p, O_CREAT | O_WRONLY, 0o600)?)?;
    }
    fs::open(c"/tmp/armmap-robust/d", O_RDONLY | O_DIRECTORY, 0)
}

/// Counts the entries f00..f19 in `buf[..n]`.
fn tally(seen: &mut [u32; NAMES], buf: &[u8], n: usize) {
    for e in fs::DirEntries::new(buf, n) {
        if let [b'f', a @ b'0'..=b'9', b @ b'0'..=b'9'] = *e.name {
            let i = ((a - b'0') * 10 + (b - b'0')) as usize;
            if i < NAMES {
                seen[i] += 1;
            }
        }
    }
}

/// getdents64 into a buffer that ends at an unmapped page: each call
/// returns the entries that fit before the hole, the next call goes on from
/// there, and every entry shows up exactly once. A call that copies nothing
/// (buffer in the hole) moves nothing.
fn getdents64_fault_loses_nothing() -> TestResult {
    let d = make_dir()?;
    let hole = edge()?;
    check_eq!(sys3(nr::GETDENTS64, d as usize, hole, 4096), Err(Errno::EFAULT), "getdents64 into a hole");
    if !on_armmap() {
        println!("  note: not on armmap; qemu-user reads the entries before checking the buffer and loses them");
        fs::close(d)?;
        return Ok(());
    }
    let mut seen = [0u32; NAMES];
    // Room for 8 records of 24 bytes (`.`, `..` and fNN each take 24).
    let start = hole - 200;
    for _ in 0..100 {
        let n = sys3(nr::GETDENTS64, d as usize, start, 4096)?;
        if n == 0 {
            break;
        }
        check!(n <= 200, "getdents64 returned {n} bytes for 200 mapped ones");
        // SAFETY: start .. start + n is mapped memory the kernel just filled.
        let buf = unsafe { core::slice::from_raw_parts(start as *const u8, n) };
        tally(&mut seen, buf, n);
    }
    check_eq!(seen, [1u32; NAMES], "times each of f00..f19 was listed");
    fs::close(d)?;
    Ok(())
}

/// A buffer too small for the next entry is EINVAL and moves nothing.
fn getdents64_small_buffer_einval() -> TestResult {
    let d = make_dir()?;
    let mut buf = [0u8; 512];
    check_eq!(sys3(nr::GETDENTS64, d as usize, buf.as_mut_ptr() as usize, 16), Err(Errno::EINVAL), "16-byte buffer");
    let mut seen = [0u32; NAMES];
    loop {
        let n = fs::getdents64(d, &mut buf)?;
        if n == 0 {
            break;
        }
        tally(&mut seen, &buf, n);
    }
    check_eq!(seen, [1u32; NAMES], "times each of f00..f19 was listed");
    fs::close(d)?;
    Ok(())
}

/// F_DUPFD's minimum at or above RLIMIT_NOFILE is EINVAL; EMFILE means no
/// free descriptor between the minimum and the limit.
fn fcntl_dupfd_limit() -> TestResult {
    let lim = process::getrlimit(process::RLIMIT_NOFILE)?.cur as usize;
    println!("  RLIMIT_NOFILE {lim}");
    for arg in [lim, lim + 1, 100_000.max(lim), usize::MAX] {
        check_eq!(sys3(nr::FCNTL, 0, F_DUPFD, arg), Err(Errno::EINVAL), "F_DUPFD {arg}");
        check_eq!(sys3(nr::FCNTL, 0, F_DUPFD_CLOEXEC, arg), Err(Errno::EINVAL), "F_DUPFD_CLOEXEC {arg}");
    }
    let top = fs::dup3(0, lim as i32 - 1, 0)?;
    check_eq!(sys3(nr::FCNTL, 0, F_DUPFD, lim - 1), Err(Errno::EMFILE), "F_DUPFD with the last slot taken");
    fs::close(top)?;
    let fd = sys3(nr::FCNTL, 0, F_DUPFD, lim - 1)?;
    check_eq!(fd, lim - 1);
    fs::close(fd as i32)?;
    Ok(())
}

/// getrandom: unknown flags, bad ranges, and large requests filled whole.
fn getrandom_ranges() -> TestResult {
    let mut b = [0u8; 16];
    let p = b.as_mut_ptr() as usize;
    check_eq!(sys3(nr::GETRANDOM, p, 16, 0x80), Err(Errno::EINVAL), "unknown flag");
    check_eq!(sys3(nr::GETRANDOM, p, 0, 0), Ok(0), "zero bytes");
    check_eq!(sys3(nr::GETRANDOM, KERNEL_ADDR, 16, 0), Err(Errno::EFAULT), "a kernel address");
    check_eq!(sys3(nr::GETRANDOM, 0x10, 16, 0), Err(Errno::EFAULT), "address 0x10");
    let hole = edge()?;
    check_eq!(sys3(nr::GETRANDOM, hole, 16, 0), Err(Errno::EFAULT), "an unmapped page");
    const LEN: usize = 1 << 20;
    let big = mm::map_anonymous(LEN, false)?;
    check_eq!(sys3(nr::GETRANDOM, big.as_mut_ptr() as usize, LEN, 0), Ok(LEN), "1 MiB in one call");
    check!(big[LEN - 64..].iter().any(|&x| x != 0), "the end of the buffer was not filled");
    if on_armmap() {
        // Linux caps the length at MAX_RW_COUNT and checks that range, then
        // fills until the fault (qemu-user refuses the whole range).
        let low = low_edge()?;
        check_eq!(sys3(nr::GETRANDOM, low - 16, 1 << 62, 0), Ok(16), "a huge length 16 bytes before a hole");
    }
    Ok(())
}

/// readlinkat: a size of zero or less is EINVAL before the path is looked at.
fn readlinkat_bufsiz() -> TestResult {
    let mut b = [0u8; 16];
    let p = b.as_mut_ptr() as usize;
    let none = c"/tmp/armmap-robust/none".as_ptr() as usize;
    let at = -100isize as usize; // AT_FDCWD
    check_eq!(sys4(nr::READLINKAT, at, none, p, 0), Err(Errno::EINVAL), "size 0, no such file");
    check_eq!(sys4(nr::READLINKAT, at, none, p, 16), Err(Errno::ENOENT), "size 16, no such file");
    check_eq!(sys4(nr::READLINKAT, at, DIR.as_ptr() as usize, p, 16), Err(Errno::EINVAL), "not a link");
    if on_armmap() {
        // qemu-user checks the buffer with the size first (EFAULT).
        check_eq!(sys4(nr::READLINKAT, at, none, p, u32::MAX as usize), Err(Errno::EINVAL), "size -1");
    }
    Ok(())
}

/// getcwd copies only the path, whatever size it is told.
fn getcwd_copies_only_the_path() -> TestResult {
    let mut b = [0u8; 64];
    let p = b.as_mut_ptr() as usize;
    check_eq!(sys3(nr::GETCWD, KERNEL_ADDR, 64, 0), Err(Errno::EFAULT), "a kernel address");
    if on_armmap() {
        // qemu-user checks `size` bytes at buf first.
        let n = sys3(nr::GETCWD, p, 1 << 62, 0)?;
        check!(n >= 2 && b[0] == b'/' && b[n - 1] == 0, "getcwd gave {:?}", &b[..n]);
    }
    Ok(())
}

/// Writing until memory runs out ends in ENOSPC, not a kernel panic, and
/// removing the file gives the memory back. (armmap only: on Linux this
/// would fill the host's /tmp.)
fn page_cache_exhaustion_enospc() -> TestResult {
    if !user::util::armmap_only("filling memory") {
        return Ok(());
    }
    let chunk = mm::map_anonymous(1 << 20, false)?;
    chunk.fill(0x5a);
    let fd = fs::open(c"/tmp/armmap-robust/big", O_CREAT | O_RDWR | O_TRUNC, 0o600)?;
    let mut total = 0usize;
    let err = loop {
        match fs::write(fd, chunk) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
        if total > 1 << 40 {
            break Errno::EIO;
        }
    };
    fs::close(fd)?;
    fs::unlink(c"/tmp/armmap-robust/big")?;
    check_eq!(err, Errno::ENOSPC, "after {total} bytes");
    // The memory is back: the same amount can be written again.
    let fd = fs::open(c"/tmp/armmap-robust/big", O_CREAT | O_RDWR | O_TRUNC, 0o600)?;
    let mut again = 0usize;
    while again + chunk.len() <= total / 2 {
        again += fs::write(fd, chunk)?;
    }
    fs::close(fd)?;
    fs::unlink(c"/tmp/armmap-robust/big")?;
    Ok(())
}
