//! `classic_copy`: the classic "cp through mmap" program (as
//! `tests/c/mmap_copy.c`), written with the `user` library.
//!
//! Copy one file to another through two shared mappings: the source mapped
//! `PROT_READ`, the destination (opened `O_RDWR`: a shared mapping needs read
//! access to the file) extended to the source's size with `lseek(size - 1)`
//! and a one-byte `write`, then mapped `PROT_WRITE`. Both descriptors are
//! closed before the copy, both mappings unmapped after it, and the files
//! compared with `read`. Done for 10000 bytes (not a page multiple), one
//! page, one byte, and three pages plus one byte.
//!
//! Every case passes on Linux as well (`qemu-aarch64`).
#![no_std]
#![no_main]

use core::ffi::CStr;
use user::fs::{self, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_SET};
use user::mm::{self, MAP_SHARED, PROT_READ, PROT_WRITE};
use user::test::{Harness, TestResult};
use user::util;
use user::{check, check_eq, println, Args};

user::entry!(main);

fn main(_args: Args) -> i32 {
    let mut h = Harness::new("classic_copy");
    h.case("copy_10000", || copy_case(10000, c"/tmp/armmap-classic_copy-1s", c"/tmp/armmap-classic_copy-1d"));
    h.case("copy_one_page", || copy_case(4096, c"/tmp/armmap-classic_copy-2s", c"/tmp/armmap-classic_copy-2d"));
    h.case("copy_one_byte", || copy_case(1, c"/tmp/armmap-classic_copy-3s", c"/tmp/armmap-classic_copy-3d"));
    h.case("copy_3_pages_plus_1", || {
        copy_case(3 * 4096 + 1, c"/tmp/armmap-classic_copy-4s", c"/tmp/armmap-classic_copy-4d")
    });
    h.finish()
}

/// Byte `i` of the source: not periodic in the page size, never all zero.
fn pattern(i: usize) -> u8 {
    ((i * 7 + i / 251 + 1) & 0xff) as u8
}

/// Checks that the file `path` holds exactly `size` bytes of [`pattern`],
/// reading it with `read` in chunks.
fn check_file(path: &CStr, size: usize, what: &str) -> TestResult {
    let fd = fs::open(path, O_RDONLY, 0)?;
    let mut buf = [0u8; 1000];
    let mut off = 0;
    loop {
        let n = util::read_full(fd, &mut buf)?;
        if n == 0 {
            break;
        }
        check!(off + n <= size, "{what} is longer than {size} bytes");
        for (k, &b) in buf[..n].iter().enumerate() {
            check_eq!(b, pattern(off + k), "{what} byte {}", off + k);
        }
        off += n;
    }
    fs::close(fd)?;
    check_eq!(off, size, "bytes read from the {what}");
    Ok(())
}

fn copy_case(size: usize, src: &CStr, dst: &CStr) -> TestResult {
    let _ = fs::unlink(src);
    let _ = fs::unlink(dst);

    // The source, written with write().
    let s = fs::open(src, O_WRONLY | O_CREAT | O_TRUNC, 0o644)?;
    let mut chunk = [0u8; 1000];
    let mut off = 0;
    while off < size {
        let n = chunk.len().min(size - off);
        for (k, b) in chunk[..n].iter_mut().enumerate() {
            *b = pattern(off + k);
        }
        user::io::write_all(s, &chunk[..n])?;
        off += n;
    }
    fs::close(s)?;

    // The copy, as every tutorial shows it.
    let input = fs::open(src, O_RDONLY, 0)?;
    let st = fs::fstat(input)?;
    check_eq!(st.st_size, size as i64, "source size");
    let len = st.st_size as usize;
    let output = fs::open(dst, O_RDWR | O_CREAT | O_TRUNC, 0o644)?;
    check_eq!(fs::lseek(output, st.st_size - 1, SEEK_SET)?, (len - 1) as u64);
    check_eq!(fs::write(output, b"\0")?, 1, "one-byte write at the end");
    check_eq!(fs::fstat(output)?.st_size, st.st_size, "destination size after the one-byte write");
    let from = util::mmap_file(len, PROT_READ, MAP_SHARED, input, 0)?;
    let to = util::mmap_file(len, PROT_WRITE, MAP_SHARED, output, 0)?;
    fs::close(input)?;
    fs::close(output)?;
    // SAFETY: `from` is a readable and `to` a writable mapping of `len`
    // bytes, both just made and distinct.
    unsafe { core::ptr::copy_nonoverlapping(from as *const u8, to as *mut u8, len) };
    // SAFETY: nothing refers to either mapping any more.
    unsafe {
        mm::munmap(from, len)?;
        mm::munmap(to, len)?;
    }

    // Compare with read().
    check_file(dst, size, "destination")?;
    check_file(src, size, "source")?;
    println!("copied {size} bytes");
    fs::unlink(src)?;
    fs::unlink(dst)?;
    Ok(())
}
