//! `files`: on-target tests of the RAM file system's system calls.
//!
//! Everything here must behave as on Linux (run it with `qemu-aarch64` on
//! a Linux host: it works in `/tmp/armmap-files` and removes it again):
//! open flags (O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY), positions
//! (`lseek`, `pread`, `pwrite`), sizes (`ftruncate`, `fstat`), directories
//! (`mkdirat`, `getdents64`, `unlinkat` with and without AT_REMOVEDIR),
//! descriptors (`dup`, `dup3` share one position) and the working
//! directory (`getcwd`, `chdir`, relative paths).
#![no_std]
#![no_main]

use user::errno::Errno;
use user::fs::{
    self, Fd, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_END, SEEK_SET,
};
use user::test::{Harness, TestResult};
use user::{check, check_eq, Args};

user::entry!(main);

const DIR: &core::ffi::CStr = c"/tmp/armmap-files";
const A: &core::ffi::CStr = c"/tmp/armmap-files/a";

fn main(_args: Args) -> i32 {
    cleanup();
    let mut h = Harness::new("files");
    h.case("mkdir_and_create", mkdir_and_create);
    h.case("o_excl_and_o_directory", o_excl_and_o_directory);
    h.case("positions_pread_pwrite_lseek", positions_pread_pwrite_lseek);
    h.case("o_append_writes_at_the_end", o_append_writes_at_the_end);
    h.case("o_trunc_and_ftruncate", o_trunc_and_ftruncate);
    h.case("getdents64_lists_entries", getdents64_lists_entries);
    h.case("unlinkat_files_and_directories", unlinkat_files_and_directories);
    h.case("dup_shares_the_position", dup_shares_the_position);
    h.case("cwd_and_relative_paths", cwd_and_relative_paths);
    h.case("bad_descriptors_and_paths", bad_descriptors_and_paths);
    cleanup();
    h.finish()
}

fn cleanup() {
    for p in [c"/tmp/armmap-files/a", c"/tmp/armmap-files/b", c"/tmp/armmap-files/sub/c"] {
        let _ = fs::unlink(p);
    }
    let _ = fs::rmdir(c"/tmp/armmap-files/sub");
    let _ = fs::rmdir(DIR);
}

fn write_all(fd: Fd, data: &[u8]) -> TestResult {
    check_eq!(fs::write(fd, data)?, data.len());
    Ok(())
}

fn read_at(fd: Fd, off: u64, len: usize) -> Result<([u8; 64], usize), Errno> {
    let mut b = [0u8; 64];
    let n = fs::pread(fd, &mut b[..len], off)?;
    Ok((b, n))
}

fn mkdir_and_create() -> TestResult {
    fs::mkdir(DIR, 0o755)?;
    check_eq!(fs::mkdir(DIR, 0o755), Err(Errno::EEXIST), "mkdir of an existing directory");
    let fd = fs::open(A, O_CREAT | O_RDWR, 0o644)?;
    let st = fs::fstat(fd)?;
    check!(st.is_file(), "mode {:o}", st.st_mode);
    check_eq!(st.st_mode & 0o777, 0o644);
    check_eq!(st.st_size, 0);
    write_all(fd, b"hello")?;
    check_eq!(fs::fstat(fd)?.st_size, 5);
    check!(fs::stat(DIR)?.is_dir(), "the directory's stat");
    fs::close(fd)?;
    Ok(())
}

fn o_excl_and_o_directory() -> TestResult {
    check_eq!(fs::open(A, O_CREAT | O_EXCL | O_RDWR, 0o644), Err(Errno::EEXIST));
    check_eq!(fs::open(A, O_RDONLY | O_DIRECTORY, 0), Err(Errno::ENOTDIR));
    check_eq!(fs::open(DIR, O_RDWR, 0), Err(Errno::EISDIR), "a directory opened for writing");
    check_eq!(fs::open(c"/tmp/armmap-files/none", O_RDONLY, 0), Err(Errno::ENOENT));
    check_eq!(fs::open(c"/tmp/armmap-files/a/x", O_RDONLY, 0), Err(Errno::ENOTDIR));
    let d = fs::open(DIR, O_RDONLY | O_DIRECTORY, 0)?;
    fs::close(d)?;
    Ok(())
}

fn positions_pread_pwrite_lseek() -> TestResult {
    let fd = fs::open(A, O_RDWR, 0)?;
    check_eq!(fs::lseek(fd, 0, SEEK_END)?, 5);
    write_all(fd, b" world")?;
    check_eq!(fs::pwrite(fd, b"J", 0)?, 1);
    let (b, n) = read_at(fd, 0, 11)?;
    check_eq!(&b[..n], b"Jello world");
    // pread and pwrite leave the position alone.
    check_eq!(fs::lseek(fd, 0, 1)?, 11, "position after pread/pwrite");
    check_eq!(fs::lseek(fd, -5, SEEK_END)?, 6);
    let mut w = [0u8; 5];
    check_eq!(fs::read(fd, &mut w)?, 5);
    check_eq!(&w, b"world");
    check_eq!(fs::read(fd, &mut w)?, 0, "read at the end");
    check_eq!(fs::lseek(fd, -100, SEEK_SET), Err(Errno::EINVAL));
    // Writing past the end leaves a hole of zeros.
    check_eq!(fs::pwrite(fd, b"!", 20)?, 1);
    let (b, n) = read_at(fd, 11, 10)?;
    check_eq!(&b[..n], b"\0\0\0\0\0\0\0\0\0!");
    fs::close(fd)?;
    Ok(())
}

fn o_append_writes_at_the_end() -> TestResult {
    let fd = fs::open(A, O_WRONLY | O_APPEND, 0)?;
    fs::lseek(fd, 0, SEEK_SET)?;
    write_all(fd, b"+")?;
    fs::close(fd)?;
    let fd = fs::open(A, O_RDONLY, 0)?;
    check_eq!(fs::fstat(fd)?.st_size, 22);
    let (b, n) = read_at(fd, 20, 8)?;
    check_eq!(&b[..n], b"!+");
    check_eq!(fs::write(fd, b"x"), Err(Errno::EBADF), "write to a read-only descriptor");
    fs::close(fd)?;
    Ok(())
}

fn o_trunc_and_ftruncate() -> TestResult {
    let fd = fs::open(A, O_RDWR | O_TRUNC, 0)?;
    check_eq!(fs::fstat(fd)?.st_size, 0, "after O_TRUNC");
    write_all(fd, b"abcdefgh")?;
    fs::ftruncate(fd, 3)?;
    check_eq!(fs::fstat(fd)?.st_size, 3);
    fs::ftruncate(fd, 6)?;
    let (b, n) = read_at(fd, 0, 10)?;
    check_eq!(&b[..n], b"abc\0\0\0", "shrunk then grown: the tail reads as zeros");
    fs::close(fd)?;
    let ro = fs::open(A, O_RDONLY, 0)?;
    check!(fs::ftruncate(ro, 0).is_err(), "ftruncate of a read-only descriptor");
    fs::close(ro)?;
    Ok(())
}

fn getdents64_lists_entries() -> TestResult {
    fs::mkdir(c"/tmp/armmap-files/sub", 0o755)?;
    let b = fs::open(c"/tmp/armmap-files/b", O_CREAT | O_WRONLY, 0o600)?;
    fs::close(b)?;
    let d = fs::open(DIR, O_RDONLY | O_DIRECTORY, 0)?;
    let mut buf = [0u8; 512];
    let (mut a, mut bb, mut sub) = (0, 0, 0);
    loop {
        let n = fs::getdents64(d, &mut buf)?;
        if n == 0 {
            break;
        }
        for e in fs::DirEntries::new(&buf, n) {
            match e.name {
                b"a" if e.kind == 8 => a += 1,
                b"b" if e.kind == 8 => bb += 1,
                b"sub" if e.kind == 4 => sub += 1,
                _ => {}
            }
        }
    }
    fs::close(d)?;
    check_eq!((a, bb, sub), (1, 1, 1), "entries a (file), b (file), sub (directory) once each");
    Ok(())
}

fn unlinkat_files_and_directories() -> TestResult {
    let c = fs::open(c"/tmp/armmap-files/sub/c", O_CREAT | O_WRONLY, 0o600)?;
    fs::close(c)?;
    check_eq!(fs::rmdir(c"/tmp/armmap-files/sub"), Err(Errno::ENOTEMPTY));
    check_eq!(fs::unlink(c"/tmp/armmap-files/sub"), Err(Errno::EISDIR), "unlink of a directory");
    check_eq!(fs::rmdir(c"/tmp/armmap-files/b"), Err(Errno::ENOTDIR), "rmdir of a file");
    fs::unlink(c"/tmp/armmap-files/sub/c")?;
    fs::rmdir(c"/tmp/armmap-files/sub")?;
    fs::unlink(c"/tmp/armmap-files/b")?;
    check_eq!(fs::stat(c"/tmp/armmap-files/b").map(|_| ()), Err(Errno::ENOENT));
    Ok(())
}

fn dup_shares_the_position() -> TestResult {
    let fd = fs::open(A, O_RDWR, 0)?;
    let d = fs::dup(fd)?;
    check!(d != fd, "dup returned the same descriptor");
    fs::lseek(fd, 2, SEEK_SET)?;
    check_eq!(fs::lseek(d, 0, 1)?, 2, "the duplicate's position");
    let d3 = fs::dup3(fd, 40, 0)?;
    check_eq!(d3, 40);
    let mut x = [0u8; 1];
    check_eq!(fs::read(d3, &mut x)?, 1);
    check_eq!(x[0], b'c');
    check_eq!(fs::lseek(fd, 0, 1)?, 3, "read through dup3's descriptor moved the shared position");
    fs::close(fd)?;
    fs::close(d)?;
    fs::close(d3)?;
    Ok(())
}

fn cwd_and_relative_paths() -> TestResult {
    let mut buf = [0u8; 256];
    let old_len = fs::getcwd(&mut buf)?.len();
    let mut old = [0u8; 256];
    old[..old_len].copy_from_slice(&buf[..old_len]);
    fs::chdir(DIR)?;
    check_eq!(fs::getcwd(&mut buf)?, b"/tmp/armmap-files");
    let fd = fs::open(c"a", O_RDONLY, 0)?;
    check_eq!(fs::fstat(fd)?.st_size, 6, "a relative path after chdir");
    fs::close(fd)?;
    check_eq!(fs::chdir(c"a"), Err(Errno::ENOTDIR));
    fs::chdir(c"..")?;
    check_eq!(fs::getcwd(&mut buf)?, b"/tmp");
    let old = core::ffi::CStr::from_bytes_until_nul(&old[..old_len + 1]).map_err(|_| Errno::EINVAL)?;
    fs::chdir(old)?;
    Ok(())
}

fn bad_descriptors_and_paths() -> TestResult {
    let mut b = [0u8; 4];
    check_eq!(fs::read(999, &mut b), Err(Errno::EBADF));
    check_eq!(fs::close(999), Err(Errno::EBADF));
    check_eq!(fs::lseek(1000, 0, SEEK_SET), Err(Errno::EBADF));
    let long = [b'a'; 5000];
    let mut path = [0u8; 5001];
    path[..5000].copy_from_slice(&long);
    let path = core::ffi::CStr::from_bytes_until_nul(&path).map_err(|_| Errno::EINVAL)?;
    check_eq!(fs::open(path, O_RDONLY, 0), Err(Errno::ENAMETOOLONG), "a 5000-byte path");
    // A directory is not read with read(); a terminal has no position.
    let d = fs::open(c"/tmp", O_RDONLY | O_DIRECTORY, 0)?;
    check_eq!(fs::read(d, &mut b), Err(Errno::EISDIR), "read() of a directory");
    fs::close(d)?;
    check_eq!(fs::lseek(1, 0, SEEK_SET), Err(Errno::ESPIPE), "lseek on the console");
    let mut small = [0u8; 1];
    check_eq!(fs::getcwd(&mut small).map(|_| ()), Err(Errno::ERANGE), "getcwd into 1 byte");
    Ok(())
}
