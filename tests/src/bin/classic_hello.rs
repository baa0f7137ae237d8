//! `classic_hello`: the classic first mmap program (as `tests/c/mmap_hello.c`),
//! written with the `user` library.
//!
//! Create a file, `ftruncate` it to 4096 bytes, map it `MAP_SHARED`
//! read-write, fill it with spaces, copy "Hello World" in, close the
//! descriptor (the mapping stays), copy "Hello World" again after it,
//! `msync(MS_SYNC)`, `munmap`, and read the file back with `read`: it holds
//! "Hello WorldHello World" followed by spaces up to 4096 bytes.
//!
//! Every case passes on Linux as well (`qemu-aarch64`).
#![no_std]
#![no_main]

use core::ffi::CStr;
use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use user::errno::Errno;
use user::fs::{self, O_CREAT, O_RDWR, O_TRUNC};
use user::mm::{self, MAP_SHARED, MS_SYNC, PAGE_SIZE, PROT_READ, PROT_WRITE};
use user::test::{Harness, TestResult};
use user::util;
use user::{check, check_eq, println, Args};

user::entry!(main);

const PATH: &CStr = c"/tmp/armmap-classic_hello-1";
const SIZE: usize = PAGE_SIZE;
const HELLO: &[u8] = b"Hello World";

/// The open file (-1: none) and the mapping's address (0: none), passed
/// from case to case.
static FD: AtomicI32 = AtomicI32::new(-1);
static MAP: AtomicUsize = AtomicUsize::new(0);

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("classic_hello");
    let _ = fs::unlink(PATH);
    h.case("create_and_truncate", create_and_truncate);
    h.case("map_shared_rw", map_shared_rw);
    h.case("fill_and_copy", fill_and_copy);
    h.case("close_keeps_mapping", close_keeps_mapping);
    h.case("msync_sync", msync_sync);
    h.case("munmap", munmap);
    h.case("read_back", read_back);
    h.case("size_unchanged", size_unchanged);
    h.case("cleanup", cleanup);
    h.finish()
}

/// The mapping as a byte slice, if there is one.
fn mapping() -> Option<&'static mut [u8]> {
    let addr = MAP.load(Ordering::Relaxed);
    // SAFETY: a non-zero MAP is a live SIZE-byte read-write mapping made by
    // `map_shared_rw`; each case takes at most one slice of it at a time.
    (addr != 0).then(|| unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, SIZE) })
}

fn create_and_truncate() -> TestResult {
    let fd = fs::open(PATH, O_RDWR | O_CREAT | O_TRUNC, 0o644)?;
    FD.store(fd, Ordering::Relaxed);
    check_eq!(fs::fstat(fd)?.st_size, 0, "size of the new file");
    fs::ftruncate(fd, SIZE as u64)?;
    check_eq!(fs::fstat(fd)?.st_size, SIZE as i64, "size after ftruncate");
    Ok(())
}

fn map_shared_rw() -> TestResult {
    let fd = FD.load(Ordering::Relaxed);
    check!(fd >= 0, "no file (an earlier case failed)");
    let addr = util::mmap_file(SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)?;
    check_eq!(addr % PAGE_SIZE, 0, "mapping is not page-aligned");
    MAP.store(addr, Ordering::Relaxed);
    let m = mapping().unwrap();
    // ftruncate extends with zeros.
    if let Some(i) = m.iter().position(|&b| b != 0) {
        check!(false, "byte {i} of the fresh file is {}, expected 0", m[i]);
    }
    Ok(())
}

fn fill_and_copy() -> TestResult {
    let Some(m) = mapping() else { user::fail!("no mapping (an earlier case failed)") };
    m.fill(b' ');
    m[..HELLO.len()].copy_from_slice(HELLO);
    check_eq!(&m[..HELLO.len() + 1], b"Hello World ");
    Ok(())
}

fn close_keeps_mapping() -> TestResult {
    let Some(m) = mapping() else { user::fail!("no mapping (an earlier case failed)") };
    // Closing the descriptor does not unmap the file.
    fs::close(FD.swap(-1, Ordering::Relaxed))?;
    m[HELLO.len()..2 * HELLO.len()].copy_from_slice(HELLO);
    check_eq!(&m[..2 * HELLO.len() + 1], b"Hello WorldHello World ");
    Ok(())
}

fn msync_sync() -> TestResult {
    let addr = MAP.load(Ordering::Relaxed);
    check!(addr != 0, "no mapping (an earlier case failed)");
    mm::msync(addr, SIZE, MS_SYNC)?;
    Ok(())
}

fn munmap() -> TestResult {
    let addr = MAP.swap(0, Ordering::Relaxed);
    check!(addr != 0, "no mapping (an earlier case failed)");
    // SAFETY: nothing refers to the mapping any more (MAP is now 0).
    unsafe { mm::munmap(addr, SIZE)? };
    Ok(())
}

fn read_back() -> TestResult {
    let mut buf = [0u8; SIZE + 16];
    let n = util::read_path(PATH, &mut buf)?;
    check_eq!(n, SIZE, "bytes read back");
    println!("first 22 bytes: {:?}", core::str::from_utf8(&buf[..22]).unwrap_or("(not UTF-8)"));
    check_eq!(&buf[..22], b"Hello WorldHello World");
    if let Some(i) = buf[22..SIZE].iter().position(|&b| b != b' ') {
        check!(false, "byte {} is {}, expected a space", i + 22, buf[i + 22]);
    }
    Ok(())
}

fn size_unchanged() -> TestResult {
    check_eq!(fs::stat(PATH)?.st_size, SIZE as i64);
    Ok(())
}

fn cleanup() -> TestResult {
    fs::unlink(PATH)?;
    check_eq!(fs::stat(PATH).map(drop), Err(Errno::ENOENT));
    Ok(())
}
